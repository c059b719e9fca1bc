"""Samples: decoding their heads before the show, and streaming the rest while it runs.

Every sample's first `head_frames` frames (64k by default) are decoded at load, so a note
sounds at once. A longer sample is read in full when a voice first plays it: the audio
thread asks for it, and the `SampleStreamer` thread decodes it chunk by chunk into a new
buffer, publishing each chunk as it lands, well ahead of the voice (a chunk of a second
decodes in about a millisecond). Full buffers stay for the next notes while the RAM budget
allows; beyond it, the least recently wanted one that no voice plays is evicted, through
the audio thread, so no voice ever reads freed memory.

Files are read with soundfile (WAV, FLAC, OGG, AIFF; any rate, mono or stereo, 16/24/32-bit
or float). SF2 samples are raw 16-bit PCM inside the bank, read with numpy. The loop points
and root key stored in a WAV file's `smpl` chunk or an AIFF file's INST/MARK chunks are
read here too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import struct
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from ..engine import Engine, HandedOver, HandoverOutcome, Producer, Resource, SampleWanted
from ..engine.samplepool import SamplePool, sample_key
from ..kernel.regions import ORIGINAL, SampleData, SampledInstrument, SampleSource
from ..kernel.regiontable import pitch_problem

log = logging.getLogger("liveengine.samples")

DEFAULT_HEAD_FRAMES = 1 << 16
DEFAULT_RAM_BUDGET = 2 << 30  # bytes of samples read in full while the show runs (the heads come on top)
STREAM_CHUNK_FRAMES = 1 << 16
GENERATED_CYCLE = 2048  # frames of one cycle of a generated wave (`*sine` ...)
# A generated wave sounds the pitch of the key it is played on: one cycle at middle C's frequency,
# key 60 being every region's default key centre.
GENERATED_SAMPLE_RATE = GENERATED_CYCLE * 440.0 * 2.0 ** (-9 / 12)


class SampleError(Exception):
    """A sample that cannot be read: missing, corrupt, or in a form the engine does not play."""


# Reading files.

METADATA_LIMIT = 1 << 20  # bytes of a metadata chunk read: far more than any loop or marker list needs


def _metadata_chunks(file, wanted: tuple[bytes, ...], big_endian: bool) -> dict[bytes, bytes]:
    """The bodies of the `wanted` chunks of a RIFF or IFF file (the first of each id), found by reading
    only each chunk's header: the sample data in between is skipped, not read, wherever they lie."""
    order = ">I" if big_endian else "<I"
    end = os.fstat(file.fileno()).st_size
    found, at = {}, 12
    while at + 8 <= end and len(found) < len(wanted):
        file.seek(at)
        header = file.read(8)
        if len(header) < 8:
            break
        (size,) = struct.unpack(order, header[4:])
        if header[:4] in wanted and header[:4] not in found:
            found[header[:4]] = file.read(min(size, METADATA_LIMIT))
        at += 8 + size + (size & 1)
    return found


def file_loop_and_root(path: Path) -> tuple[tuple[int, int] | None, int]:
    """The first loop (start, end inclusive) and root key a WAV or AIFF file stores, or (None, ORIGINAL)."""
    try:
        with open(path, "rb") as file:
            form = file.read(12)
            if form[:4] == b"RIFF" and form[8:12] == b"WAVE":
                chunks = _metadata_chunks(file, (b"smpl",), big_endian=False)
            elif form[:4] == b"FORM" and form[8:12] in (b"AIFF", b"AIFC"):
                chunks = _metadata_chunks(file, (b"MARK", b"INST"), big_endian=True)
            else:
                chunks = {}
    except OSError:
        return None, ORIGINAL
    loop, root = None, ORIGINAL
    body = chunks.get(b"smpl", b"")
    if len(body) >= 36:
        root = struct.unpack("<I", body[12:16])[0]
        (loops,) = struct.unpack("<I", body[28:32])
        if loops and len(body) >= 36 + 24:
            start, end = struct.unpack("<II", body[36 + 8:36 + 16])
            loop = (start, end)
    markers: dict[int, int] = {}
    body = chunks.get(b"MARK", b"")
    if len(body) >= 2:
        (count,) = struct.unpack(">H", body[:2])
        at = 2
        for _ in range(count):
            if at + 7 > len(body):
                break
            marker_id, position = struct.unpack(">hI", body[at:at + 6])
            markers[marker_id] = position
            name_length = body[at + 6]
            at += 6 + 1 + name_length + ((1 + name_length) & 1)
    body = chunks.get(b"INST", b"")
    if len(body) >= 20:
        root = body[0]
        play_mode, begin, end = struct.unpack(">hhh", body[8:14])
        if play_mode and begin in markers and end in markers:
            # AIFF's loop end marker is the first frame after the loop.
            loop = (markers[begin], markers[end] - 1)
    if root > 127:
        root = ORIGINAL
    return loop, root


def _generated_wave(name: str) -> np.ndarray:
    phase = np.arange(GENERATED_CYCLE) / GENERATED_CYCLE
    if name == "*sine":
        wave = np.sin(2 * np.pi * phase)
    elif name == "*saw":
        wave = 2 * phase - 1
    elif name == "*square":
        wave = np.where(phase < 0.5, 1.0, -1.0)
    elif name == "*triangle":
        wave = 1 - 4 * np.abs(phase - 0.5)
    elif name == "*noise":
        wave = np.random.default_rng(0).uniform(-1, 1, GENERATED_CYCLE * 64)
    elif name == "*silence":
        wave = np.zeros(GENERATED_CYCLE)
    else:
        raise SampleError(f"no generated wave {name!r}: *sine, *saw, *square, *triangle, *noise or *silence")
    return wave.astype(np.float32)[:, None]


def _as_frames(data: np.ndarray, where: str) -> np.ndarray:
    if data.ndim == 1:
        data = data[:, None]
    if data.shape[1] > 2:
        raise SampleError(f"{where}: {data.shape[1]} channels; samples are mono or stereo")
    if not np.isfinite(data).all():
        raise SampleError(f"{where}: the file holds values that are not finite numbers")
    return np.ascontiguousarray(data, np.float32)


def read_frames(source: SampleSource, start: int, count: int) -> np.ndarray:
    """Frames [start, start + count) of a sample, float32 (frames, channels)."""
    if source.path.startswith("*"):
        return _generated_wave(source.path)[start:start + count]
    if source.raw is not None:
        raw = source.raw
        count = max(0, min(count, raw.frames - start))
        try:
            pcm = np.fromfile(source.path, dtype="<i2", count=count, offset=raw.byte_offset + 2 * start)
        except (OSError, ValueError) as error:
            raise SampleError(f"{source.path}: cannot read its sample data: {error}") from None
        if len(pcm) < count:
            raise SampleError(f"{source.path}: the sample data ends early (the file is truncated)")
        return (pcm.astype(np.float32) / 32768.0)[:, None]
    try:
        with soundfile.SoundFile(source.path) as file:
            file.seek(start)
            return _as_frames(file.read(count, dtype="float32", always_2d=True), source.path)
    except (RuntimeError, soundfile.LibsndfileError, OSError) as error:
        raise SampleError(f"{source.path}: cannot decode: {error}") from None


def read_head(source: SampleSource, head_frames: int, decoded: np.ndarray | None = None) -> SampleData:
    """The sample's first frames (all of it, if shorter), with its length, rate, loop and root key;
    `decoded`: those frames, decoded already (for another source of the same sample)."""
    if source.path.startswith("*"):
        wave = _generated_wave(source.path)
        loop = (0, len(wave) - 1)
        if source.path == "*noise":
            return SampleData(wave, len(wave), 48000, ORIGINAL, loop)
        return SampleData(wave, len(wave), GENERATED_SAMPLE_RATE, ORIGINAL, loop)
    if source.raw is not None:
        frames, rate = source.raw.frames, source.raw.sample_rate
        loop = (source.loop_start, source.loop_end) if source.loop_start != ORIGINAL else None
        root = source.root_key
    else:
        path = Path(source.path)
        if not path.is_file():
            raise SampleError(f"sample not found: {source.path}")
        try:
            info = soundfile.info(str(path))
        except (RuntimeError, soundfile.LibsndfileError) as error:
            raise SampleError(f"{source.path}: not a sound file soundfile can read: {error}") from None
        frames, rate = info.frames, info.samplerate
        loop, root = file_loop_and_root(path)
        if source.root_key != ORIGINAL:
            root = source.root_key
    if frames <= 0:
        raise SampleError(f"{source.path}: the sample is empty")
    head = read_frames(source, 0, min(frames, head_frames)) if decoded is None else decoded
    if len(head) == 0:
        raise SampleError(f"{source.path}: no frames could be read")
    if loop is not None and loop[1] == frames:
        loop = (loop[0], frames - 1)  # an end counted after the last frame, as some editors write it
    if loop is not None and not 0 <= loop[0] < loop[1] < frames:
        log.warning("%s: its loop %d..%d lies outside its %d frames: ignored", source.path, *loop, frames)
        loop = None
    return SampleData(head, frames, rate, root, loop, source.tune)


@dataclass
class LoadedInstrument:
    """An instrument with its samples' heads decoded; `samples[i]` is None where sample i failed."""

    instrument: SampledInstrument
    samples: list[SampleData | None]

    @property
    def head_bytes(self) -> int:
        return sample_memory(sample_sizes([self])).preloaded


@dataclass(frozen=True)
class SampleMemory:
    """What samples take in memory, in bytes, each sample counted once however many instruments play it."""

    preloaded: int  # the decoded heads, held as long as the instruments are loaded
    in_full: int  # every sample longer than its head, whole: the most streaming reads if each plays to its end
    streamed: int  # of `in_full`, what the streamer holds now


SampleSizes = dict[tuple, tuple[SampleSource, int, int]]  # sample key -> (a source of it, head bytes, whole bytes)


def sample_sizes(instruments: Iterable[LoadedInstrument]) -> SampleSizes:
    """Each sample of `instruments` once: a source of it, the bytes of its decoded head, and of all
    of it if it is longer than its head (else 0: it never streams)."""
    sizes = {}
    for loaded in instruments:
        for source, data in zip(loaded.instrument.samples, loaded.samples):
            if data is not None and sample_key(source) not in sizes:
                whole = data.frames * data.head.shape[1] * data.head.itemsize if data.frames > len(data.head) else 0
                sizes[sample_key(source)] = source, data.head.nbytes, whole
    return sizes


def sample_memory(sizes: SampleSizes, streamer: SampleStreamer | None = None) -> SampleMemory:
    """The memory of the samples in `sizes`; `streamer`: the one serving them, for what it holds."""
    return SampleMemory(preloaded=sum(head for _, head, _ in sizes.values()),
                        in_full=sum(whole for _, _, whole in sizes.values()),
                        streamed=0 if streamer is None else sum(streamer.held_bytes(source)
                                                                 for source, _, _ in sizes.values()))


def load_heads(instrument: SampledInstrument, head_frames: int = DEFAULT_HEAD_FRAMES,
               progress: Callable[[int, int], None] | None = None, workers: int = 4,
               pool: SamplePool | None = None) -> LoadedInstrument:
    """Decode every sample's head (in threads: decoding releases the GIL), once for sources of the
    same sample, and not at all for one an instrument installed in `pool`'s engine plays already. An SF2
    bank's raw PCM needs no decoding: its heads are read in this thread (measured, FluidR3_GM's six presets of
    the held-chords benchmark: 24 ms in one worker thread, 36-44 ms of CPU in four, 5 ms here).
    A sample that fails is reported in `instrument.problems`; the regions on it are left out, the
    rest of the instrument plays. So is a region that asks a voice to play faster than it can (its
    notes are held at the fastest)."""
    sources = instrument.samples
    results: list[SampleData | None] = [None] * len(sources)
    keys = [sample_key(source) for source in sources]
    first = {}  # sample key -> the first source of it, decoded (or found in the pool) for all
    for i, key in enumerate(keys):
        first.setdefault(key, i)
    done = 0

    def finish(i: int, read):
        nonlocal done
        try:
            results[i] = read()
        except SampleError as error:
            users = sum(1 for region in instrument.regions if region.sample == i)
            instrument.problems.append(f"{error} ({users} region{'s' if users != 1 else ''} left out)")
        done += 1
        if progress is not None:
            progress(done, len(sources))

    def head(i: int):
        return read_head(sources[i], head_frames, None if pool is None else pool.head(sources[i]))

    decoding = [i for i in first.values() if sources[i].is_sound_file]
    with ThreadPoolExecutor(max_workers=workers) if decoding else contextlib.nullcontext() as threads:
        futures = {i: threads.submit(head, i) for i in decoding}
        for i in first.values():
            finish(i, futures[i].result if i in futures else lambda: head(i))
    for i, key in enumerate(keys):
        decoded = results[first[key]]
        if i != first[key]:
            finish(i, lambda: read_head(sources[i], head_frames, None if decoded is None else decoded.head))
    for region in instrument.regions:
        data = results[region.sample] if region.sample >= 0 else None
        if data is not None and (problem := pitch_problem(region, data.root_key, data.tune)) is not None:
            instrument.problems.append(problem)
    return LoadedInstrument(instrument, results)


def progress_bar(name: str, stream=sys.stderr) -> Callable[[int, int], None]:
    """A one-line progress display of a library's samples loading."""
    started = time.monotonic()

    def show(done: int, total: int):
        if done == total or done % 16 == 0:
            width = 30
            filled = width * done // max(1, total)
            stream.write(f"\rloading {name}: [{'#' * filled}{'.' * (width - filled)}] {done}/{total} samples"
                         f" {time.monotonic() - started:.1f} s")
            if done == total:
                stream.write("\n")
            stream.flush()
    return show


# Streaming.

class SampleStreamer:
    """Reads samples in full when voices need them, within a RAM budget.

    Live, `start()` runs it on its own thread; offline, call `serve()` before each block and
    it reads what the last block asked for at once, so a render is the same every time.
    """

    def __init__(self, engine: Engine, producer: Producer, budget_bytes: int = DEFAULT_RAM_BUDGET,
                 chunk_frames: int = STREAM_CHUNK_FRAMES):
        self.engine = engine
        self.producer = producer
        self.budget_bytes = budget_bytes
        self.chunk_frames = chunk_frames
        self.sources: dict[int, SampleSource] = {}  # sample slot -> where its frames are
        self.resident: OrderedDict[int, int] = OrderedDict()  # slot -> bytes, least recently wanted first
        self.evicting: set[int] = set()
        self.requests = engine.subscribe(SampleWanted, HandedOver)
        self.problems: list[str] = []
        self.reads = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def add(self, loaded: LoadedInstrument, slots: list[int]):
        """Stream the samples of an installed instrument (the slots install_sampler gave them)."""
        for source, data, slot in zip(loaded.instrument.samples, loaded.samples, slots):
            if data is not None and data.frames > len(data.head):
                self.sources[slot] = source

    @property
    def resident_bytes(self) -> int:
        return sum(self.resident.values())

    def held_bytes(self, source: SampleSource) -> int:
        """Bytes of `source`'s sample read in full and held now (0: its head only)."""
        return self.resident.get(self.engine.samples.slot(source), 0)

    def serve(self, wait_seconds: float = 0.0) -> int:
        """Read the engine's notifications, then carry out what the audio thread asked; returns how many
        requests were served."""
        self.engine.poll()
        return self.serve_requests(wait_seconds)

    def serve_requests(self, wait_seconds: float = 0.0) -> int:
        """Carry out what the audio thread asked as of the engine's last poll (`serve` polls first)."""
        served = 0
        while True:
            try:
                request = self.requests.get(timeout=wait_seconds if served == 0 else 0.0) \
                    if wait_seconds > 0 else self.requests.get_nowait()
            except queue.Empty:
                return served
            if isinstance(request, SampleWanted):
                served += 1
                self.read_in_full(request.slot)
            elif request.resource is Resource.SAMPLE:
                served += 1
                self.evicting.discard(request.slot)
                if request.outcome is HandoverOutcome.DONE:
                    self.resident.pop(request.slot, None)

    def read_in_full(self, slot: int):
        """Read sample `slot` in full now, if it streams and is not held already (offline, a player
        that knows which samples a block's notes start may read them before the block renders)."""
        source = self.sources.get(slot)
        if source is None:
            return
        if slot in self.resident:
            self.resident.move_to_end(slot)
            return
        frames = self.engine.sample_frames(slot)
        data = None
        written = 0
        try:
            while written < frames:
                chunk = read_frames(source, written, min(self.chunk_frames, frames - written))
                if len(chunk) == 0:
                    raise SampleError(f"{source.path}: the file ends at frame {written} of {frames}")
                if data is None:
                    data = np.zeros((frames, chunk.shape[1]), np.float32)
                    self.engine.attach_full_sample(slot, data)
                data[written:written + len(chunk)] = chunk
                written += len(chunk)
                self.engine.publish_sample_frames(slot, written)
        except SampleError as error:
            message = f"{error}: voices play its preloaded head only"
            log.error("%s", message)
            self.problems.append(message)
            self.sources.pop(slot, None)
            return
        self.reads += 1
        self.resident[slot] = data.nbytes
        self._keep_within_budget()

    def _keep_within_budget(self):
        over = self.resident_bytes - self.budget_bytes
        for slot in list(self.resident):
            if over <= 0:
                break
            if slot in self.evicting or self.engine.sample_voices(slot) > 0:
                continue
            self.evicting.add(slot)
            self.engine.let_go_of_full_sample(slot, self.producer)
            over -= self.resident[slot]

    def start(self):
        self._thread = threading.Thread(target=self._run, name="liveengine-samples", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            self.serve(wait_seconds=0.05)

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
