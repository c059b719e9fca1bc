"""Oscillators for the synthesizer: band-limited classic shapes, wavetables, FM and noise.

Every oscillator is a per-sample function of a phase the caller keeps (one float a voice):
the phase runs over [0, 1) once per cycle, and `increment` = frequency / sample_rate is
how far it moves per sample (0 < increment < 0.5: below Nyquist). Nothing else is kept,
except by FM (its modulator's last output) and noise (the generator's state).

    value = saw_tick(phase, increment)
    phase = advance_phase(phase, increment)

- `advance_phase(phase, increment)` -> the next phase, wrapped into [0, 1).
- `sine_tick(phase)` -> sin(2 pi phase), for any phase: a polynomial within 1e-13 of
  `math.sin`, which loops vectorise (libm's sine is a call a sample, four times the cost).
- `saw_tick(phase, increment)`: rising ramp from -1 to 1, falling back at phase 0.
- `pulse_tick(phase, increment, width)`: +1 while phase < width (0..1), else -1; its mean
  is 2 width - 1, and width 0.5 is the square wave (odd harmonics only).
- `triangle_tick(phase, increment)`: in phase with the sine (0 at phase 0, peak +1 at 0.25).
- `fm_tick(carrier_phase, modulator_phase, index, feedback, modulator)` -> (value,
  modulator): two-operator FM (phase modulation), sin(2 pi carrier_phase + index * m)
  with m = sin(2 pi modulator_phase + feedback * the previous m). Index and feedback are
  in radians; the caller keeps both phases and m (start at 0.0). Index 0 is a pure sine;
  feedback above about 1 turns the modulator from saw-like toward noise. The sidebands
  reach about (index + 1) modulator frequencies either side of the carrier: keeping
  them below Nyquist is the patch's business, FM is not band-limited here.
- `noise_tick(state)` -> (value, state): white noise, uniform in [-1, 1), from a
  xorshift64* generator whose 64-bit state the caller keeps as an int64, made by
  `noise_seed(any_integer)` (a state of 0 would stay 0).
- `wavetable_tick(table, phase, increment)`: one cycle read from a table built at load
  time, off the audio thread, by `build_wavetable_from_harmonics(amplitudes)` or
  `build_wavetable_from_wav(path)` (both raise ValueError on input they cannot use).

Saw, pulse and triangle are band-limited by a cubic B-spline kernel four samples wide
(a four-point polyBLEP, and polyBLAMP for the triangle's corners): within two samples of
each jump of the waveform, or of each change of its slope, the sample takes the value
the kernel would have smoothed it to. The corrections are polynomials in the distance
to the jump, which the phase and increment give, so they need no state and no lookahead.
Measured at 48 kHz for a saw at MIDI note 100 (2.64 kHz), against the fundamental: what
folds back below 10 kHz stays under -78 dB (a naive saw: -23 dB), and all aliases
together, nearly all of them above 15 kHz, come to -38 dB (naive: -10 dB). The kernel
softens the top octave: a harmonic at 10 kHz comes out 2.5 dB down, one at 20 kHz 10 dB.

A wavetable is a (levels, size + 3) float64 array: one row per octave of pitch, each
one cycle of `size` samples (2048 by default) framed by guard samples, so that the cubic
interpolation never wraps an index. Row 0 holds harmonics up to size/4, each next row
half as many, the last the fundamental alone. The tick reads the richest row that cannot
alias at its increment, blending it into the next one as its top harmonic nears Nyquist:
every harmonic below 0.4 Nyquist (9.6 kHz at 48 kHz) always plays at full level, and
the timbre moves smoothly through the octaves under a glide or a vibrato.
"""

import math

import numpy as np
import soundfile

from ..realtime import realtime_entry, realtime_entry_inline, realtime_inline

TWO_PI = 2.0 * math.pi
_PER_RADIAN = 1.0 / TWO_PI  # of a turn


@realtime_inline
def _wrap(phase):
    # np.floor stays a double; math.floor's integer went to int64 and back, which AVX2 does one
    # lane at a time: measured, a saw loop 40 % slower.
    return phase - np.floor(phase)


@realtime_entry_inline
def advance_phase(phase, increment):
    return _wrap(phase + increment)


# sin(2 pi x) for |x| <= 1/4 as x times a polynomial in x^2: its Taylor series to the 17th power, whose
# first term left out is below 4.5e-14 there.
_SINE_TERMS = tuple((-1) ** k * TWO_PI ** (2 * k + 1) / math.factorial(2 * k + 1) for k in range(9))
_S0, _S1, _S2, _S3, _S4, _S5, _S6, _S7, _S8 = _SINE_TERMS


@realtime_entry_inline
def sine_tick(phase):
    x = phase - np.floor(phase + 0.5)  # the same angle, within half a turn of 0
    # Folded into the quarter turn either side of 0, where the series converges fastest: sin(pi - a) = sin(a).
    if x > 0.25:
        x = 0.5 - x
    elif x < -0.25:
        x = -0.5 - x
    square = x * x
    return x * (_S0 + square * (_S1 + square * (_S2 + square * (_S3 + square * (_S4 + square * (
        _S5 + square * (_S6 + square * (_S7 + square * _S8))))))))


@realtime_inline
def _step_residual(distance):
    """The band-limited unit step minus the step itself, `distance` samples before it (0..2).

    The band-limited step is the running integral of the cubic B-spline; after the step
    the residual is the same with the opposite sign (the kernel is symmetric).
    """
    if distance < 1.0:
        square = distance * distance
        return 0.5 - distance * (2.0 / 3.0) + square * distance * (1.0 / 3.0) - square * square * 0.125
    far = 2.0 - distance
    square = far * far
    return square * square * (1.0 / 24.0)


@realtime_inline
def _corner_residual(distance):
    """The band-limited unit corner (ramp) minus the corner itself, `distance` samples either side (0..2)."""
    if distance < 1.0:
        square = distance * distance
        return 7.0 / 30.0 + distance * (-0.5 + distance * (1.0 / 3.0)) + \
            square * square * (-1.0 / 12.0 + distance * (1.0 / 40.0))
    far = 2.0 - distance
    square = far * far
    return square * square * far * (1.0 / 120.0)


@realtime_inline
def _step_correction(phase, per_increment):
    """What to add, at `phase`, to a waveform that steps up by 1 where the phase wraps."""
    after = phase * per_increment
    before = (1.0 - phase) * per_increment
    correction = 0.0
    if after < 2.0:
        correction -= _step_residual(after)
    if before < 2.0:
        correction += _step_residual(before)
    return correction


@realtime_inline
def _corner_correction(phase, per_increment):
    """What to add, at `phase`, to a waveform whose slope rises by 1 per sample where the phase wraps."""
    after = phase * per_increment
    before = (1.0 - phase) * per_increment
    correction = 0.0
    if after < 2.0:
        correction += _corner_residual(after)
    if before < 2.0:
        correction += _corner_residual(before)
    return correction


@realtime_entry_inline
def saw_tick(phase, increment):
    return 2.0 * phase - 1.0 - 2.0 * _step_correction(phase, 1.0 / increment)


@realtime_entry_inline
def pulse_tick(phase, increment, width):
    width = min(max(width, 0.0), 1.0)
    per_increment = 1.0 / increment
    value = 1.0 if phase < width else -1.0
    # Up by 2 where the phase wraps, down by 2 where it passes `width`.
    return value + 2.0 * (_step_correction(phase, per_increment) -
                          _step_correction(_wrap(phase - width), per_increment))


@realtime_entry_inline
def triangle_tick(phase, increment):
    # Measured from the trough (phase 0.75): the slope turns from -4 to +4 per cycle
    # there, and back at the peak half a cycle later; 8 per cycle is 8 * increment per sample.
    from_trough = _wrap(phase + 0.25)
    per_increment = 1.0 / increment
    value = 1.0 - 4.0 * abs(from_trough - 0.5)
    return value + 8.0 * increment * (_corner_correction(from_trough, per_increment) -
                                      _corner_correction(_wrap(from_trough + 0.5), per_increment))


@realtime_entry_inline
def fm_tick(carrier_phase, modulator_phase, index, feedback, modulator):
    modulator = sine_tick(modulator_phase + feedback * modulator * _PER_RADIAN)
    return sine_tick(carrier_phase + index * modulator * _PER_RADIAN), modulator


_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_XORSHIFT_MULTIPLIER = np.uint64(0x2545F4914F6CDD1D)
_SCALE_53_BITS = 2.0 ** -52  # 53 random bits onto [0, 2)


@realtime_entry
def noise_seed(seed):
    """A noise state from any integer; neighbouring seeds give unrelated streams."""
    # splitmix64's output function: a bijection that spreads every input bit over all 64.
    z = np.uint64(seed) + _GOLDEN_GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    z = z ^ (z >> np.uint64(31))
    return np.int64(z) if z != np.uint64(0) else np.int64(1)


@realtime_entry_inline
def noise_tick(state):
    x = np.uint64(state)
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    bits = (x * _XORSHIFT_MULTIPLIER) >> np.uint64(11)
    return float(bits) * _SCALE_53_BITS - 1.0, np.int64(x)


# Row 0 stops at size/4 harmonics, so that the cubic interpolation stays accurate even
# there; with 2048 samples, its band is complete for fundamentals down to 47 Hz at 48 kHz.
WAVETABLE_SIZE = 2048
_GUARD_BEFORE = 1
_GUARD_AFTER = 2
MAX_CYCLE_SAMPLES = 8192
# A row's harmonics above this fraction of Nyquist fade out as the pitch rises (a third
# of an octave) before they would alias.
FADE_FROM_NYQUIST = 0.8


@realtime_inline
def _cubic(row, index, fraction):
    """Catmull-Rom interpolation of a guarded row between its samples `index` and `index` + 1."""
    before = row[index]
    start = row[index + 1]
    end = row[index + 2]
    after = row[index + 3]
    slope = 0.5 * (end - before)
    curve = before - 2.5 * start + 2.0 * end - 0.5 * after
    cubic = 0.5 * (after - before) + 1.5 * (start - end)
    return ((cubic * fraction + curve) * fraction + slope) * fraction + start


@realtime_entry_inline
def wavetable_tick(table, phase, increment):
    size = table.shape[1] - _GUARD_BEFORE - _GUARD_AFTER
    last_level = table.shape[0] - 1
    # Where row 0's top harmonic falls, in units of Nyquist: row j is alias-free while
    # this is at most 2**j, and then its own top harmonic lies at `mantissa` (0.5 .. 1)
    # times Nyquist. As that passes FADE_FROM_NYQUIST, the row blends into the next,
    # duller one, so the timbre never jumps when a glide or vibrato crosses rows.
    top_harmonic = max(0.5 * size * abs(increment), 0.25)
    mantissa, octave = math.frexp(top_harmonic)
    richer = min(max(octave, 0), last_level)
    duller = min(richer + 1, last_level)
    richer_weight = 1.0 if octave < 0 else min(1.0, (1.0 - mantissa) / (1.0 - FADE_FROM_NYQUIST))

    position = phase * size
    index = min(max(int(position), 0), size - 1)
    fraction = position - index
    rich = _cubic(table[richer], index, fraction)
    dull = _cubic(table[duller], index, fraction)
    return dull + richer_weight * (rich - dull)


def build_wavetable_from_harmonics(amplitudes, size=WAVETABLE_SIZE):
    """A wavetable of sum(amplitudes[n - 1] * sin(2 pi n phase)): amplitudes of harmonics 1, 2, ...

    Not normalised: harmonics [1.0] give a sine of peak 1.
    """
    amplitudes = np.asarray(amplitudes, dtype=np.float64)
    _check_size(size)
    if amplitudes.ndim != 1 or amplitudes.size == 0:
        raise ValueError("harmonic amplitudes: expected a non-empty list of numbers")
    if not np.isfinite(amplitudes).all():
        raise ValueError("harmonic amplitudes: every amplitude must be a finite number")
    if amplitudes.size > size // 4:
        raise ValueError(f"harmonic amplitudes: {amplitudes.size} harmonics, at most {size // 4} "
                         f"fit a {size}-sample wavetable")
    if not amplitudes.any():
        raise ValueError("harmonic amplitudes: all zero, the wavetable would be silent")
    # Re(-i exp(i angle)) = sin(angle).
    return _band_limited_levels(-1j * amplitudes, size)


def build_wavetable_from_wav(path, size=WAVETABLE_SIZE):
    """A wavetable from a sound file holding exactly one cycle (channels are mixed down).

    The cycle's DC offset is removed, and its harmonics above size/4 are dropped.
    """
    _check_size(size)
    try:
        frames, _ = soundfile.read(path, dtype="float64", always_2d=True)
    except soundfile.LibsndfileError as error:
        raise ValueError(f"{path}: not a sound file that can be read ({error})") from error
    cycle = frames.mean(axis=1)
    if cycle.size < 8:
        raise ValueError(f"{path}: {cycle.size} samples, too few for a single cycle (at least 8)")
    if cycle.size > MAX_CYCLE_SAMPLES:
        raise ValueError(f"{path}: {cycle.size} samples, longer than a single cycle "
                         f"(at most {MAX_CYCLE_SAMPLES}); recordings and multi-frame wavetables are not read")
    if not np.isfinite(cycle).all():
        raise ValueError(f"{path}: the cycle holds NaN or infinite samples")
    # Complex amplitudes of harmonics 1 .. below the file's Nyquist (its DC term dropped).
    harmonics = 2.0 * np.fft.rfft(cycle)[1:(cycle.size + 1) // 2] / cycle.size
    magnitudes = np.abs(harmonics)
    if magnitudes.max(initial=0.0) < 1e-9:
        raise ValueError(f"{path}: the cycle is silent")
    present = np.flatnonzero(magnitudes > 1e-3 * magnitudes.max()) + 1
    repeats = int(np.gcd.reduce(present))
    if repeats > 1:
        raise ValueError(f"{path}: the waveform repeats {repeats} times in the file; a single cycle is needed")
    return _band_limited_levels(harmonics[:size // 4], size)


def _check_size(size):
    if size < 64 or size & (size - 1):
        raise ValueError(f"wavetable size {size}: expected a power of two, at least 64")


def _band_limited_levels(harmonics, size):
    """The guarded rows of a wavetable, from the complex amplitudes of harmonics 1, 2, ...:
    the cycle is sum(Re(harmonics[n - 1] * exp(2 pi i n phase)))."""
    top = size // 4
    levels = top.bit_length()
    table = np.empty((levels, _GUARD_BEFORE + size + _GUARD_AFTER))
    for level in range(levels):
        kept = min(top >> level, harmonics.size)
        spectrum = np.zeros(size // 2 + 1, dtype=np.complex128)
        spectrum[1:kept + 1] = harmonics[:kept] * (size / 2)
        cycle = np.fft.irfft(spectrum, size)
        table[level] = np.concatenate((cycle[-_GUARD_BEFORE:], cycle, cycle[:_GUARD_AFTER]))
    return table
