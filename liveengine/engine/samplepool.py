"""The engine's samples: one decoded copy and one kernel slot per sample, however many
installed instruments play it.

A sample is known by where its frames come from (`sample_key`): a sound file by its real path,
an SF2 sample by its bank's real path and its place in the bank's sample data, a generated wave
by its name. The first instrument installed on a sample gives it a slot holding its decoded
head; every later one plays the same slot, and a loader that finds the head here decodes
nothing. So a bank's preset installed once per MIDI channel, presets of one bank that share
samples, and SFZ files over one folder of samples each hold a sample once; the streamer reads
a slot's full data once, and the audio thread counts a slot's voices over every instrument that
plays it, so full data is evicted only when no voice of any of them reads it. Instruments stay
installed for the engine's life, and so do their slots.
"""

import functools
import os

import numpy as np

from ..kernel.regions import SampleData, SampledInstrument, SampleSource
from ..kernel.state import MAX_SAMPLES, SI_CHANNELS, SI_FRAMES, SI_HEAD_ADDRESS, SI_HEAD_FRAMES


@functools.lru_cache(maxsize=4096)
def _real_path(path: str) -> str:
    """A file's real path, worked out once a process: an SF2 bank's thousand samples lie in one file, and
    its path was asked some five times a sample. (A sample is known by its path, so a file replaced under
    it was never told from the first anyway.)"""
    return os.path.realpath(path)


def sample_key(source: SampleSource) -> tuple:
    """What makes two sources the same sample: the same frames from the same place."""
    if source.path.startswith("*"):
        return (source.path,)
    path = _real_path(source.path)
    if source.raw is not None:
        return path, source.raw.byte_offset, source.raw.frames
    return (path,)


class SamplePool:
    """The samples installed in one engine's kernel, a slot each."""

    def __init__(self, sample_ints: np.ndarray):
        self._sample_ints = sample_ints
        self._slots: dict[tuple, int] = {}  # sample key -> slot
        self._heads: list[np.ndarray] = []  # slot -> its head, read by the audio thread: kept for the engine's life

    def __len__(self) -> int:
        """Slots in use."""
        return len(self._heads)

    @property
    def head_bytes(self) -> int:
        return sum(head.nbytes for head in self._heads)

    def slot(self, source: SampleSource) -> int | None:
        """The slot of `source`'s sample if an installed instrument plays it, else None."""
        return self._slots.get(sample_key(source))

    def head(self, source: SampleSource) -> np.ndarray | None:
        """The decoded head of `source`'s sample if an installed instrument plays it, else None."""
        slot = self.slot(source)
        return None if slot is None else self._heads[slot]

    def slots(self, instrument: SampledInstrument, samples: list[SampleData | None]) -> list[int]:
        """The slot of each of `instrument`'s samples (-1 where `samples[i]` is None: it failed to
        load): the slot its sample has already, or a new one holding its head."""
        keys = [None if data is None else sample_key(source) for source, data in zip(instrument.samples, samples)]
        heads = {}
        for i, (key, data) in enumerate(zip(keys, samples)):
            if key is not None and key not in self._slots:
                head = np.ascontiguousarray(data.head, np.float32)
                if head.ndim != 2 or head.shape[1] not in (1, 2) or not 0 < len(head) <= data.frames:
                    raise ValueError(f"{instrument.name}: sample {i}: a head must be (frames, 1 or 2 channels)")
                heads.setdefault(key, (head, data.frames))
        if len(self._heads) + len(heads) > MAX_SAMPLES:
            raise ValueError(f"{instrument.name}: the engine holds {MAX_SAMPLES} samples in all; "
                             f"{MAX_SAMPLES - len(self._heads)} are left, {len(heads)} needed")
        for key, (head, frames) in heads.items():
            self._slots[key] = self._add(head, frames)
        return [-1 if key is None else self._slots[key] for key in keys]

    def _add(self, head: np.ndarray, frames: int) -> int:
        slot = len(self._heads)
        self._heads.append(head)
        sample_ints = self._sample_ints
        sample_ints[:, slot] = 0
        sample_ints[SI_HEAD_ADDRESS, slot] = head.ctypes.data
        sample_ints[SI_HEAD_FRAMES, slot] = len(head)
        sample_ints[SI_FRAMES, slot] = frames
        sample_ints[SI_CHANNELS, slot] = head.shape[1]
        return slot
