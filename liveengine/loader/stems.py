"""The loader side of stems: keeps each stem's ring filled ahead of where the audio thread plays.

Files are read with libsndfile (soundfile), a chunk at a time. A stem at rest keeps its
beginning loaded, so a cue starts it with no disk read; a stem playing is kept filled up to
a ring's length ahead; a stem started part-way (a chase) is read from where it plays, a
little ahead, and sounds from the first frame that arrives in time.
"""

import logging
import pathlib
import time
from dataclasses import dataclass

import numpy as np
import soundfile

from ..engine.entries import kernel_entries
from ..kernel.dsp.resampler import HALF_TAPS, TAPS
from ..kernel.stems import ST_LENGTH, ST_PLAYING, ST_STARVED, ST_WINDOW_END, ST_WINDOW_START

log = logging.getLogger("liveengine.stems")

CHUNK_SECONDS = 0.5  # read at most this much per stem per step, so one stem never holds up the others
SEEK_LEAD_SECONDS = 0.1  # a stem sought while playing is read from this far ahead of its position


class StemError(Exception):
    """A stem file that cannot be played; the message names the file and why."""


@dataclass(frozen=True)
class StemFile:
    slot: int
    name: str
    path: pathlib.Path


@dataclass(frozen=True)
class Starvation:
    """A stretch of silence a playing stem played for want of its frames."""

    name: str
    frames: int  # how long the silence lasted
    from_frame: int  # the frame of the file where it began
    unreadable: bool  # its file could not be read (reported as it failed); else the disk was late


class StemLoader:
    """Streams the stems of one engine. `wait_for_block()` returns once the audio thread has
    rendered a whole block since it was called (live), or at once between offline blocks."""

    def __init__(self, engine, stems: list[StemFile], wait_for_block):
        self.engine = engine
        state = engine.state
        self._ints, self._audio = state.stem_ints, state.stem_audio
        self._capacity = self._audio.shape[1]
        self._wait_for_block = wait_for_block
        rate = engine.settings.sample_rate
        self._chunk = round(CHUNK_SECONDS * rate)
        self._lead = round(SEEK_LEAD_SECONDS * rate)
        # Never overwrite what the block in flight may read, nor what a stem that follows the picture reads
        # again when the chase refines its line a little backward.
        self._guard = 2 * engine.settings.max_block + TAPS
        # A playing stem's ring is topped up once this much of it is free (or the file's rest): a read for
        # each block that played would cost more than the frames it moves, and an eighth of the ring keeps
        # most of it ahead of the play position. At rest it is filled whole.
        self._top_up = max(1, min(self._chunk, (self._capacity - self._guard) // 8))
        self.files: dict[int, soundfile.SoundFile] = {}
        self.names = {stem.slot: stem.name for stem in stems}
        self.problems: list[str] = []
        self._starved_reported = {stem.slot: 0 for stem in stems}
        self._starved_seen = {stem.slot: 0 for stem in stems}
        self._starved_from = {stem.slot: 0 for stem in stems}
        for stem in stems:
            try:
                self.files[stem.slot] = self._open(stem, rate)
            except StemError as error:  # reported by whoever runs the show, from `problems`
                self.problems.append(str(error))

    def _open(self, stem: StemFile, rate: int) -> soundfile.SoundFile:
        if not 0 <= stem.slot < self._ints.shape[1] or self._capacity <= 1:
            raise StemError(f"stem {stem.name!r}: the engine has no stem slot {stem.slot}")
        try:
            file = soundfile.SoundFile(stem.path)
        except (soundfile.LibsndfileError, OSError, RuntimeError) as error:
            raise StemError(f"stem {stem.name!r}: cannot read {stem.path}: {error}") from None
        if file.samplerate != rate:
            file.close()
            raise StemError(f"stem {stem.name!r}: {stem.path} is at {file.samplerate} Hz, the show runs at {rate} Hz;"
                            " convert it")
        if file.channels > 2:
            file.close()
            raise StemError(f"stem {stem.name!r}: {stem.path} has {file.channels} channels; stems are mono or stereo")
        self._ints[ST_LENGTH, stem.slot] = file.frames
        return file

    def length_frames(self, slot: int) -> int:
        return int(self._ints[ST_LENGTH, slot])

    def step(self) -> int:
        """Bring every stem's window toward where it is needed, reading at most a chunk each;
        returns the frames read."""
        read = 0
        for slot in list(self.files):
            try:
                read += self._step(slot)
            except (soundfile.LibsndfileError, OSError, RuntimeError) as error:
                message = f"stem {self.names[slot]!r}: reading failed, it plays silence from here: {error}"
                self.problems.append(message)
                log.error("%s", message)
                self.files.pop(slot).close()
        return read

    def preload(self):
        """Fill every stem's ring (its beginning, at rest): no disk read when a cue starts it."""
        while self.step():
            pass

    def _step(self, slot: int) -> int:
        length = self.length_frames(slot)
        position, playing = kernel_entries().play_position(self._ints, slot)
        # The first frame still needed (the resampler's taps reach behind the position); at rest, the
        # beginning waits for the next start.
        wanted = max(0, position - (HALF_TAPS - 1)) if playing else 0
        window_start, window_end = int(self._ints[ST_WINDOW_START, slot]), int(self._ints[ST_WINDOW_END, slot])
        if wanted >= length:
            return 0
        held_from = max(window_start, window_end - self._capacity)
        # A stem sought while playing reaches its new window a lead later: that is no reason to seek again.
        reaches = held_from - (self._lead if playing else 0)
        if not reaches <= wanted <= window_end or window_end < 0:
            start = min(length, wanted + (self._lead if playing else 0))
            kernel_entries().invalidate_window(self._ints, slot)
            self._wait_for_block()
            count = self._write(slot, start, min(self._chunk, length - start))
            kernel_entries().publish_window(self._ints, slot, start, start + count)
            return count
        limit = min(length, max(wanted, held_from) + self._capacity - self._guard)
        top_up = self._top_up if playing else 1  # at rest, every free frame
        if window_end < limit and limit - window_end >= min(top_up, length - window_end):
            count = self._write(slot, window_end, min(self._chunk, limit - window_end))
            kernel_entries().publish_window(self._ints, slot, window_start, window_end + count)
            return count
        return 0

    def _write(self, slot: int, first_frame: int, count: int) -> int:
        """Read `count` frames from `first_frame` into the ring; returns how many were read."""
        if count <= 0:
            return 0
        file = self.files[slot]
        file.seek(first_frame)
        frames = file.read(count, dtype="float32", always_2d=True)
        if frames.shape[1] == 1:
            frames = np.repeat(frames, 2, axis=1)  # a mono stem plays centred, at its level on both sides
        rows = (first_frame + np.arange(len(frames))) % self._capacity
        self._audio[slot, rows] = frames
        return len(frames)

    def playing(self) -> bool:
        return bool(self._ints[ST_PLAYING].any())

    def starvations(self) -> list[Starvation]:
        """Each stretch of silence a stem played for want of data, once it is over."""
        found = []
        for slot, reported in self._starved_reported.items():
            starved = int(self._ints[ST_STARVED, slot])
            still_waiting = starved != self._starved_seen[slot]
            if still_waiting and self._starved_seen[slot] == reported:  # it begins: silent up to where it plays
                position, _ = kernel_entries().play_position(self._ints, slot)
                self._starved_from[slot] = max(0, int(position) - (starved - reported))
            self._starved_seen[slot] = starved
            if starved > reported and not still_waiting:
                found.append(Starvation(self.names[slot], starved - reported, self._starved_from[slot],
                                        unreadable=slot not in self.files))
                self._starved_reported[slot] = starved
        return found

    def close(self):
        for file in self.files.values():
            file.close()
        self.files.clear()


def wait_for_a_block(engine, timeout_seconds: float = 0.5):
    """For a live stream: return once the audio thread has rendered a whole block from now
    (or after `timeout_seconds`, when no stream runs and nothing reads)."""
    seen, moves = engine.position, 0
    deadline = time.monotonic() + timeout_seconds
    while moves < 2 and time.monotonic() < deadline:  # the second move ends a whole block
        time.sleep(0.0005)
        if engine.position != seen:
            seen, moves = engine.position, moves + 1
