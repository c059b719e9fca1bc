"""Where a stem of a linear sine sweep plays against where the picture says it should be: the phase of
each stretch of what was played, fitted by least squares to the sweep at the frames the picture reached,
read as samples ahead of the picture."""

import numpy as np
import soundfile

LOW_HZ, HIGH_HZ = 200.0, 2000.0


def sweep_phase(frames, rate: int, seconds: float) -> np.ndarray:
    """The phase of a linear sweep from LOW_HZ to HIGH_HZ over `seconds`, at (fractional) frames."""
    return 2 * np.pi * (LOW_HZ * frames + (HIGH_HZ - LOW_HZ) * frames ** 2 / (2 * seconds * rate)) / rate


def sweep(rate: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    return amplitude * np.sin(sweep_phase(np.arange(round(seconds * rate)), rate, seconds))


def write_sweep(path, rate: int, seconds: float, amplitude: float = 0.5, chunk_frames: int = 1 << 20):
    """`sweep` as a 16-bit mono file, computed a chunk at a time (ten minutes of it are large)."""
    frames = round(seconds * rate)
    with soundfile.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16") as out:
        for start in range(0, frames, chunk_frames):
            out.write(amplitude * np.sin(sweep_phase(np.arange(start, min(frames, start + chunk_frames)), rate,
                                                     seconds)))


def samples_ahead(played: np.ndarray, frame_at, rate: int, seconds: float, window: int = 512) -> np.ndarray:
    """For each stretch of `window` samples of `played` (one channel) after the first that sounds, while
    the sweep lasts: how far ahead of the picture it plays, in samples. `frame_at(samples)` is the frame of
    the sweep the picture is at on each engine sample (a line: the picture's clock)."""
    first = int(np.flatnonzero(played)[0]) + window
    begins = np.arange(first, len(played) - window + 1, window)
    begins = begins[frame_at(begins + window - 1) <= seconds * rate - window]  # the sweep goes on past it
    errors = []
    for chunk in np.array_split(begins, max(1, len(begins) // 4096)):  # a few MB at a time
        samples = chunk[:, None] + np.arange(window)
        phase = sweep_phase(frame_at(samples), rate, seconds)
        sine, cosine, heard = np.sin(phase), np.cos(phase), played[samples]
        # played = a sin + b cos in each stretch, by its normal equations; a shift of d samples gives
        # atan2(b, a) = d times the sweep's angular frequency there.
        ss, sc, cc = (sine * sine).sum(1), (sine * cosine).sum(1), (cosine * cosine).sum(1)
        sy, cy = (sine * heard).sum(1), (cosine * heard).sum(1)
        determinant = ss * cc - sc * sc
        a, b = (sy * cc - cy * sc) / determinant, (cy * ss - sy * sc) / determinant
        angular_frequency = 2 * np.pi * (LOW_HZ + (HIGH_HZ - LOW_HZ) * frame_at(samples[:, window // 2])
                                         / (seconds * rate)) / rate
        errors.append(np.arctan2(b, a) / angular_frequency)
    return np.concatenate(errors)
