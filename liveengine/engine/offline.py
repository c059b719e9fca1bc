"""Offline rendering: the kernel the live callback runs, driven block by block with no device."""

import numpy as np

from ..kernel.render import drain_input_rings, process
from ..kernel.state import T_POSITION


class OfflineRenderer:
    """Drives the same kernel block by block, with no device, faster than real time."""

    def __init__(self, state, block_size: int):
        if not 1 <= block_size <= state.settings.max_block:
            raise ValueError(f"block size must be 1..{state.settings.max_block}, got {block_size}")
        self.state = state
        self.block_size = block_size
        channels = state.settings.output_channels
        self._block = np.zeros((block_size, channels), np.float32)
        self._silent_input = np.zeros((block_size, max(1, state.settings.input_channels)), np.float32)
        self._frames = self._block
        self._silent_frames = self._silent_input

    def render_block(self, input_block: np.ndarray | None = None) -> np.ndarray:
        """Render one block; returns a (frames, channels) view valid until the next call.

        `input_block`, if given, is (block_size, input_channels) of what the inputs hear.
        """
        source = self._silent_input
        if input_block is not None:
            source = np.ascontiguousarray(input_block, np.float32)
            if source.shape != (self.block_size, self.state.settings.input_channels):
                raise ValueError(f"input block must be ({self.block_size}, input channels), got {source.shape}")
        process(self.state.table, source.ctypes.data, self._block.ctypes.data, self.block_size, 0)
        return self._block

    def drain(self):
        """Move what waits in the event rings into the pending set now, as the next block would
        (as far as the set has room): offline, producers call it when their ring fills."""
        drain_input_rings(self.state.table, float(self.state.telemetry[T_POSITION]))

    def render_frames(self, frames: int) -> np.ndarray:
        """Render `frames` frames in one call into the kernel, which takes them a block at a time (no
        inputs heard); returns a (frames, channels) view valid until the next call. For long offline
        renders whose events are posted ahead: a call per block costs more than a silent block."""
        if len(self._frames) < frames:
            self._frames = np.zeros((frames, self.state.settings.output_channels), np.float32)
            self._silent_frames = np.zeros((frames, max(1, self.state.settings.input_channels)), np.float32)
        process(self.state.table, self._silent_frames.ctypes.data, self._frames.ctypes.data, frames, 0)
        return self._frames[:frames]

    def render(self, frames: int, before_block=None) -> np.ndarray:
        """Render `frames` frames into one array; `before_block(position)` may post events first."""
        out = np.zeros((frames, self.state.settings.output_channels), np.float32)
        done = 0
        while done < frames:
            if before_block is not None:
                before_block(self.position)
            block = self.render_block()
            take = min(len(block), frames - done)
            out[done:done + take] = block[:take]
            done += take
        return out

    @property
    def position(self) -> int:
        return int(self.state.telemetry[T_POSITION])
