"""LTC as audio files: generate one to rehearse with, read the timecode out of one.

The frame rate of a recording need not be known: the decoder's bit-period tracking
follows any rate within 25 % of the one it starts from, so a first pass at 25 fps
reads enough frames to tell the rate from their length (and the drop-frame flag);
a second pass at that rate then reads every frame, whatever its label.
"""

from dataclasses import dataclass

import numpy as np
import soundfile

from ..kernel.dsp.ltc import LtcFrame, decode_ltc, encode_ltc
from ..timecode import RATES, FrameRate, Timecode

TRACKING_CENTRE_FPS = (25, 1)


class LtcFileError(Exception):
    """An LTC file cannot be read or written as asked; the message says why."""


def generate(path, rate: FrameRate, start: Timecode, seconds: float, sample_rate: int = 48000,
             level_dbfs: float = -18.0, user_bits: int = 0):
    audio = encode_ltc(start.fields, rate.fps_ratio, seconds, sample_rate, drop_frame=rate.drop_frame,
                       level_dbfs=level_dbfs, user_bits=user_bits)
    try:
        soundfile.write(path, audio, sample_rate, subtype="PCM_24")
    except (soundfile.LibsndfileError, TypeError, ValueError, OSError) as error:
        raise LtcFileError(f"cannot write {path}: {error}") from None


def detect_rate(frames: list[LtcFrame], sample_rate: int) -> FrameRate:
    """The frame rate of a recording, from frames decoded at any rate near it."""
    if any(frame.drop_frame for frame in frames):
        return RATES["29.97df"]
    measured_fps = sample_rate / float(np.median([frame.duration for frame in frames]))
    return min((rate for rate in RATES.values() if not rate.drop_frame),
               key=lambda rate: abs(float(rate.fps) - measured_fps))


@dataclass(frozen=True)
class DecodedRecording:
    rate: FrameRate | None  # None: no frame was found to tell it by
    sample_rate: int
    frames: list[LtcFrame]


def read_audio(path) -> tuple[np.ndarray, int]:
    """(audio as float32 [frames, channels], sample rate) of a recording, or a clear LtcFileError."""
    try:
        return soundfile.read(path, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, TypeError, RuntimeError, OSError) as error:
        raise LtcFileError(f"cannot read {path}: {error}") from None


def read(path, channel: int = 0, rate: FrameRate | None = None) -> DecodedRecording:
    """Every LTC frame on `channel` (0-based) of an audio file; the rate is detected unless given."""
    audio, sample_rate = read_audio(path)
    if not 0 <= channel < audio.shape[1]:
        raise LtcFileError(f"{path} has {audio.shape[1]} channels; there is no channel {channel + 1}")
    signal = np.ascontiguousarray(audio[:, channel])
    if rate is None:
        first_pass = decode_ltc(signal, sample_rate, TRACKING_CENTRE_FPS)
        if not first_pass:
            return DecodedRecording(None, sample_rate, [])
        rate = detect_rate(first_pass, sample_rate)
    return DecodedRecording(rate, sample_rate, decode_ltc(signal, sample_rate, rate.fps_ratio))
