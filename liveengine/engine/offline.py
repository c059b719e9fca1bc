"""Offline rendering: the live stream's kernel driven with no device, faster than real time.

`OfflineRenderer` calls the kernel's block process as the audio callback does, so both produce the
same samples. `OfflineLoop` is the one offline loop that everything rendering offline goes through
(`liveengine render` and `play`, the scripting API, the tests): before each step whoever performs
posts what the step plays, the sample streamer reads what the last step's notes asked for, the
kernel renders the step, the engine's notifications are read; the loop stops after a length, or
once the performance has ended and its sound has died away.
"""

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..kernel.state import T_POSITION
from .entries import kernel_entries


class OfflineRenderer:
    """Drives the same kernel block by block, with no device, faster than real time."""

    def __init__(self, state, block_size: int):
        if not 1 <= block_size <= state.settings.max_block:
            raise ValueError(f"block size must be 1..{state.settings.max_block}, got {block_size}")
        self.state = state
        self.block_size = block_size
        self._table_address = state.table.ctypes.data  # the table lives as long as the state
        channels = state.settings.output_channels
        self._block = np.zeros((block_size, channels), np.float32)
        self._silent_input = np.zeros((block_size, max(1, state.settings.input_channels)), np.float32)
        self._take_frames(self._block, self._silent_input)

    def _take_frames(self, frames: np.ndarray, silent_input: np.ndarray):
        """`render_frames`' buffers, with their addresses: a long render calls the kernel once per step."""
        self._frames, self._silent_frames = frames, silent_input
        self._frames_address, self._silent_frames_address = frames.ctypes.data, silent_input.ctypes.data

    def render_block(self, input_block: np.ndarray | None = None) -> np.ndarray:
        """Render one block; returns a (frames, channels) view valid until the next call.

        `input_block`, if given, is (block_size, input_channels) of what the inputs hear.
        """
        source = self._silent_input
        if input_block is not None:
            source = np.ascontiguousarray(input_block, np.float32)
            if source.shape != (self.block_size, self.state.settings.input_channels):
                raise ValueError(f"input block must be ({self.block_size}, input channels), got {source.shape}")
        kernel_entries().process(self._table_address, source.ctypes.data, self._block.ctypes.data, self.block_size)
        return self._block

    def drain(self):
        """Move what waits in the event rings into the pending set now, as the next block would
        (as far as the set has room): offline, producers call it when their ring fills."""
        kernel_entries().drain_input_rings(self._table_address, float(self.state.telemetry[T_POSITION]))

    def render_frames(self, frames: int) -> np.ndarray:
        """Render `frames` frames in one call into the kernel, which takes them a block at a time (no
        inputs heard); returns a (frames, channels) view valid until the next call. For long offline
        renders whose events are posted ahead: a call per block costs more than a silent block."""
        if len(self._frames) < frames:
            self._take_frames(np.zeros((frames, self.state.settings.output_channels), np.float32),
                              np.zeros((frames, max(1, self.state.settings.input_channels)), np.float32))
        kernel_entries().process(self._table_address, self._silent_frames_address, self._frames_address, frames)
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


@dataclass(frozen=True)
class Ending:
    """How a performance that ends by itself stops rendering: from the sample `finished()` names (the
    kernel's position; None while something is left to play), until `quiet(telemetry)` says its sound
    has died away, or `tail_limit_seconds` after that sample if it never does (a held note, a drone)."""

    finished: Callable[[], int | None]
    quiet: Callable[[object], bool]
    tail_limit_seconds: float


class OfflineLoop:
    """The offline loop: steps of `step_frames` (default: a block) through the kernel, with what the
    control plane does live done between them, in order.

    Before a step of frames [start, end): `before_step(start, end)` posts what it plays (a cue runner
    updates, a file player posts its messages), then the streamer reads in full the samples the last
    step's notes asked for. After it: the engine's notifications are read, so a cue runner sees its
    cues fire and the streamer what the step's notes asked for. `inputs` (frames, input channels) is
    what the inputs hear from the first sample on (silence after its end); it needs steps of a block.
    """

    def __init__(self, engine, block_size: int, *, step_frames: int | None = None, streamer=None,
                 inputs: np.ndarray | None = None):
        self.engine = engine
        self.renderer = OfflineRenderer(engine.state, block_size)
        self.step_frames = step_frames or block_size
        if inputs is not None and self.step_frames != block_size:
            raise ValueError("inputs are heard a block at a time: steps of one block")
        self.streamer = streamer
        self.inputs = inputs
        self.frames_done = 0
        self.stopped_by_tail_limit = False  # the last run ended at its Ending's tail limit, still sounding
        self._finished_at: int | None = None

    @property
    def position(self) -> int:
        """The kernel's sample position: where the next step starts."""
        return self.renderer.position

    def drain(self):
        """For producers whose ring fills: what waits goes into the kernel's pending set now."""
        self.renderer.drain()

    def run(self, frames: int | None = None, *, before_step: Callable[[int, int], None] | None = None,
            ending: Ending | None = None) -> Iterator[np.ndarray]:
        """Render `frames` frames (None: until `ending` says so; a run may be resumed), a step at a
        time; each (frames, channels) float32 view is valid until the next step."""
        if frames is None and ending is None:
            raise ValueError("an offline render needs a length or an ending")
        done = 0
        self.engine.poll()  # what blocks rendered before this run reported
        if ending is not None and self.frames_done and self._ended(ending):
            return  # a run resumed where the performance has already ended
        while frames is None or done < frames:
            length = self.step_frames if frames is None else min(self.step_frames, frames - done)
            start = self.position
            if before_step is not None:
                before_step(start, start + length)
            if self.streamer is not None:
                self.streamer.serve_requests()  # the engine was polled after the last step
            block = self._render(length)
            self.engine.poll()
            done += length
            self.frames_done += length
            yield block
            if ending is not None and self._ended(ending):
                return

    def _render(self, length: int) -> np.ndarray:
        if self.inputs is None:
            return self.renderer.render_frames(length)
        block_size = self.renderer.block_size
        heard = self.inputs[self.frames_done:self.frames_done + block_size]
        if len(heard) < block_size:
            heard = np.concatenate([heard, np.zeros((block_size - len(heard), heard.shape[1]), np.float32)])
        return self.renderer.render_block(heard)[:length]

    def _ended(self, ending: Ending) -> bool:
        if self._finished_at is None:
            self._finished_at = ending.finished()
            if self._finished_at is None:
                return False
        if ending.quiet(self.engine.telemetry()):
            return True
        if self.position - self._finished_at >= ending.tail_limit_seconds * self.engine.settings.sample_rate:
            self.stopped_by_tail_limit = True
            return True
        return False


@dataclass(frozen=True)
class Written:
    frames: int
    peak: float  # the largest absolute sample value written


# Frames gathered before each write: soundfile costs about 35 us a call, and a render's steps are short.
WRITE_FRAMES = 1 << 15


class OutputFileError(ValueError):
    """An audio file that cannot be written; the message says which and why."""


def write_audio(blocks: Iterable[np.ndarray], path, sample_rate: int, channels: int,
                subtype: str = "PCM_24") -> Written:
    """Write `blocks` into a new sound file at `path` (.wav, .flac: as its suffix says), opened before
    the first block renders."""
    import soundfile
    try:
        output = soundfile.SoundFile(path, "w", samplerate=sample_rate, channels=channels, subtype=subtype)
    except (soundfile.LibsndfileError, TypeError, ValueError, OSError) as error:
        raise OutputFileError(f"cannot write {path}: {error}") from None
    gathered = np.empty((WRITE_FRAMES, channels), np.float32)
    filled = frames = 0
    peak = 0.0

    def write_gathered():
        nonlocal filled, peak
        if filled:
            written = gathered[:filled]
            output.write(written)
            peak = max(peak, float(written.max()), -float(written.min()))
            filled = 0

    with output:
        for block in blocks:
            frames += len(block)
            while len(block):
                taken = min(len(block), WRITE_FRAMES - filled)
                gathered[filled:filled + taken] = block[:taken]
                filled += taken
                block = block[taken:]
                if filled == WRITE_FRAMES:
                    write_gathered()
        write_gathered()
    return Written(frames, peak)


def collect_audio(blocks: Iterable[np.ndarray], channels: int, frames: int | None = None) -> np.ndarray:
    """`blocks` as one (frames, channels) float32 array, each copied once into it as it comes: a long
    render's audio is large, and a list of blocks joined at the end would be copied twice. `frames`:
    how many the blocks will hold at most, when known."""
    collected = np.empty((frames if frames is not None else 1 << 16, channels), np.float32)
    filled = 0
    for block in blocks:
        if filled + len(block) > len(collected):
            collected.resize((max(2 * len(collected), filled + len(block)), channels), refcheck=False)
        collected[filled:filled + len(block)] = block
        filled += len(block)
    collected.resize((filled, channels), refcheck=False)
    return collected


def peak_dbfs(peak: float) -> float:
    return 20 * math.log10(max(peak, 1e-6))
