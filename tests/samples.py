"""Hand-made samples for the sampler's tests: sines and smooth random waves, written as WAV or AIFF
files with their root key and loop where given, and the plain region that plays a sample as
recorded."""

import struct
from pathlib import Path

import numpy as np
import soundfile

from liveengine.kernel.regions import Envelope, Region, SampleSource


def sine(frequency, seconds, rate=44100, amplitude=0.5):
    return amplitude * np.sin(2 * np.pi * frequency * np.arange(round(seconds * rate)) / rate)


def rng_wave(frames, seed=0):
    """A smooth random wave (noise through a gentle low-pass) peaking at 0.5, every frame different."""
    wave = np.convolve(np.random.default_rng(seed).uniform(-1, 1, frames + 8), np.hanning(9), "valid")
    return 0.5 * wave / np.abs(wave).max()


def write_wav(path: Path, frames, rate=44100, root_key=None, loop=None) -> Path:
    """A float WAV file, with a smpl chunk holding `root_key` and `loop` (start, end inclusive) when given."""
    soundfile.write(path, np.asarray(frames, np.float32), rate, subtype="FLOAT")
    if root_key is not None or loop is not None:
        loops = [] if loop is None else [loop]
        body = struct.pack("<9I", 0, 0, round(1e9 / rate), 60 if root_key is None else root_key, 0, 0, 0,
                           len(loops), 0)
        for start, end in loops:
            body += struct.pack("<6I", 0, 0, start, end, 0, 0)
        data = bytearray(path.read_bytes()) + b"smpl" + struct.pack("<I", len(body)) + body
        data[4:8] = struct.pack("<I", len(data) - 8)
        path.write_bytes(data)
    return path


def write_aiff(path: Path, frames, root_key, loop, rate=44100) -> Path:
    """A 16-bit AIFF file whose INST chunk holds `root_key` and a sustain loop over MARK markers
    (AIFF's loop end marker is the first frame after the loop)."""
    soundfile.write(path, np.asarray(frames, np.float32), rate, format="AIFF", subtype="PCM_16")
    start, end = loop
    markers = struct.pack(">H", 2)
    for marker, position, name in ((1, start, b"beg loop"), (2, end + 1, b"end")):
        markers += struct.pack(">hIB", marker, position, len(name)) + name + b"\0" * ((1 + len(name)) % 2)
    instrument = struct.pack(">6bh", root_key, 0, 0, 127, 1, 127, 0) + struct.pack(">3h", 1, 1, 2) + bytes(6)
    data = bytearray(path.read_bytes())
    for chunk_id, body in ((b"MARK", markers), (b"INST", instrument)):
        data += chunk_id + struct.pack(">I", len(body)) + body + b"\0" * (len(body) % 2)
    data[4:8] = struct.pack(">I", len(data) - 8)
    path.write_bytes(data)
    return path


def long_sample(tmp_path: Path, name="long.wav", seconds=10.0, seed=0) -> SampleSource:
    """A stereo sample far longer than any head, every frame different."""
    frames = round(seconds * 44100)
    data = np.stack([rng_wave(frames, seed), rng_wave(frames, seed + 100)], axis=1)
    return SampleSource(str(write_wav(tmp_path / name, data)))


def plain(sample, **fields) -> Region:
    """A region that plays its sample at the pitch it was recorded at on key 60, at full level whatever
    the velocity, and ends 5 ms after its note."""
    return Region(sample=sample, **{"pitch_keycenter": 60, "amp_veltrack": 0.0,
                                    "amp_envelope": Envelope(release=0.005), **fields})
