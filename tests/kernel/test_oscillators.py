"""The oscillators, measured offline: pitch, spectra against theory, aliasing, wavetables, FM, noise."""

import math

import numpy as np
import pytest
import soundfile
from numba import njit

from liveengine.kernel.dsp.oscillators import (
    FADE_FROM_NYQUIST, MAX_CYCLE_SAMPLES, WAVETABLE_SIZE, advance_phase, build_wavetable_from_harmonics,
    build_wavetable_from_wav, fm_tick, noise_seed, noise_tick, pulse_tick, saw_tick, sine_tick, triangle_tick,
    wavetable_tick,
)
from liveengine.engine.audit import audit_ir, compiled_ir

RATE = 48000
SINE, SAW, PULSE, TRIANGLE, WAVETABLE, NAIVE_SAW = range(6)
SAW_TABLE = build_wavetable_from_harmonics(1.0 / np.arange(1, WAVETABLE_SIZE // 4 + 1))


def render(shape, increment, length, width=0.5, table=SAW_TABLE):
    return render_shape(shape, increment, length, width, table)


@njit(cache=True)
def render_shape(shape, increment, length, width, table):
    y = np.empty(length)
    phase = 0.0
    for i in range(length):
        if shape == SINE:
            y[i] = sine_tick(phase)
        elif shape == SAW:
            y[i] = saw_tick(phase, increment)
        elif shape == PULSE:
            y[i] = pulse_tick(phase, increment, width)
        elif shape == TRIANGLE:
            y[i] = triangle_tick(phase, increment)
        elif shape == WAVETABLE:
            y[i] = wavetable_tick(table, phase, increment)
        else:
            y[i] = 2.0 * phase - 1.0
        phase = advance_phase(phase, increment)
    return y


def key_frequency(key):
    return 440.0 * 2.0 ** ((key - 69) / 12)


def one_second(shape, hertz, **options):
    """One second of a whole number of cycles: every harmonic and every alias falls on a
    bin of the 1 Hz spectrum, with no window and no leakage."""
    return render(shape, hertz / RATE, RATE, **options)


def amplitudes(y):
    """Peak amplitude of each 1 Hz bin of one second of signal (bin 0: the mean)."""
    spectrum = np.abs(np.fft.rfft(y)) * 2.0 / y.size
    spectrum[0] /= 2.0
    return spectrum


def kernel_response(hertz):
    """How the cubic B-spline kernel scales a harmonic: its transform, sinc(f/fs)**4."""
    return np.sinc(np.asarray(hertz) / RATE) ** 4


def test_sine_is_within_1e_13_of_libm_at_any_phase():
    # Every quarter turn's folds and ends, negative phases, and phases many turns out (as FM's sums give).
    phases = np.concatenate([np.linspace(-2.0, 2.0, 160_001), np.arange(-8, 9) * 0.25,
                             np.random.default_rng(7).uniform(-50.0, 50.0, 20_000)])
    exact = np.sin(2.0 * np.pi * (phases - np.round(phases)))  # the turn's fraction, exact, then libm
    ours = np.array([sine_tick(float(phase)) for phase in phases])
    assert np.abs(ours - exact).max() < 1e-13


def test_phase_advances_and_wraps_into_0_1():
    assert advance_phase(0.25, 0.5) == 0.75
    assert advance_phase(0.9, 0.2) == pytest.approx(0.1)
    phase = 0.0
    for _ in range(10_000):
        phase = advance_phase(phase, 0.3217)
        assert 0.0 <= phase < 1.0


def measured_frequency(y, rate):
    """The fundamental's frequency: the strongest peak of a Hann-windowed, 8x zero-padded
    spectrum, refined by a parabola through the log magnitudes of its three bins."""
    padded = 8 * y.size
    magnitude = np.log(np.abs(np.fft.rfft(y * np.hanning(y.size), padded)) + 1e-300)
    peak = int(np.argmax(magnitude[1:])) + 1
    left, centre, right = magnitude[peak - 1:peak + 2]
    offset = 0.5 * (left - right) / (left - 2 * centre + right)
    return (peak + offset) * rate / padded


@pytest.mark.parametrize("shape", [SINE, SAW, PULSE, TRIANGLE, WAVETABLE])
@pytest.mark.parametrize("rate", [44100, 48000])
def test_every_shape_plays_its_note_within_a_cent(shape, rate):
    for key in (24, 45, 69, 93, 105):
        frequency = key_frequency(key)
        y = render(shape, frequency / rate, 1 << 16)
        cents = 1200 * math.log2(measured_frequency(y, rate) / frequency)
        assert abs(cents) < 1.0, (key, cents)


def harmonics_of(y, hertz):
    numbers = np.arange(1, (RATE // 2 - 1) // hertz + 1)
    return numbers, amplitudes(y)[numbers * hertz]


def test_saw_harmonics_are_the_ideal_saws_through_the_smoothing_kernel():
    for hertz in (110, 440, 1760):
        numbers, measured = harmonics_of(one_second(SAW, hertz), hertz)
        ideal = 2.0 / (np.pi * numbers) * kernel_response(numbers * hertz)
        np.testing.assert_allclose(measured, ideal, rtol=0.01)
    # As the module says: 2.5 dB down at 10 kHz, 10 dB at 20 kHz.
    assert 20 * math.log10(kernel_response(10_000)) == pytest.approx(-2.5, abs=0.05)
    assert 20 * math.log10(kernel_response(20_000)) == pytest.approx(-10.5, abs=0.1)


@pytest.mark.parametrize("width", [0.1, 0.25, 0.5, 0.8])
def test_pulse_width_sets_the_mean_and_the_harmonics(width):
    hertz = 310  # no multiple of 310 Hz folds back onto a multiple of 310 Hz: no alias on a harmonic
    y = one_second(PULSE, hertz, width=width)
    assert y.mean() == pytest.approx(2 * width - 1, abs=1e-9)
    numbers, measured = harmonics_of(y, hertz)
    ideal = 4.0 / (np.pi * numbers) * np.abs(np.sin(np.pi * numbers * width)) * kernel_response(numbers * hertz)
    np.testing.assert_allclose(measured, ideal, rtol=0.01, atol=1e-6)
    if width == 0.5:
        even = measured[1::2]
        assert 20 * np.log10(even.max() / measured[0]) < -40.0


def test_triangle_harmonics_are_odd_and_fall_as_1_over_n_squared():
    hertz = 440
    y = one_second(TRIANGLE, hertz)
    numbers, measured = harmonics_of(y, hertz)
    ideal = np.where(numbers % 2 == 1, 8.0 / (np.pi * numbers) ** 2, 0.0) * kernel_response(numbers * hertz)
    np.testing.assert_allclose(measured, ideal, rtol=0.01, atol=1e-7)
    # In phase with the sine: rising through 0 at phase 0, peak +1 at a quarter cycle.
    assert abs(y[0]) < 1e-6 and y[RATE // hertz // 4] == pytest.approx(1.0, abs=0.02)


def alias_levels_db(y, hertz):
    """(every component that is not a harmonic, by frequency; their total power), in dB
    against the fundamental. One second, whole cycles: harmonics sit on multiples of
    `hertz` bins, and what folded back from above Nyquist lands between them."""
    spectrum = amplitudes(y)
    power = (spectrum / spectrum[hertz]) ** 2
    frequencies = np.arange(power.size)
    aliases = frequencies % hertz != 0
    return (frequencies[aliases], 10 * np.log10(power[aliases] + 1e-300),
            10 * math.log10(power[aliases].sum()))


# Aliases landing below 10 kHz fall where hearing is keenest and between the tone's own
# partials, unmasked: they must stay 60 dB down, below the noise floor of a concert hall
# playback chain at performance level. Those left lie near Nyquist, above 15 kHz, where
# hearing is weakest; their total must still be 30 dB down.
AUDIBLE_ALIAS_LIMIT_HZ = 10_000
AUDIBLE_ALIAS_LIMIT_DB = -60.0
TOTAL_ALIAS_LIMIT_DB = -30.0


@pytest.mark.parametrize("key", [100, 110])
def test_band_limited_shapes_keep_aliases_under_the_limits_where_a_naive_saw_cannot(key):
    hertz = round(key_frequency(key))
    for shape in (SAW, PULSE, TRIANGLE, WAVETABLE):
        frequencies, levels, total = alias_levels_db(one_second(shape, hertz, width=0.3), hertz)
        assert levels[frequencies < AUDIBLE_ALIAS_LIMIT_HZ].max() < AUDIBLE_ALIAS_LIMIT_DB, shape
        assert total < TOTAL_ALIAS_LIMIT_DB, shape
    frequencies, levels, total = alias_levels_db(one_second(NAIVE_SAW, hertz), hertz)
    assert levels[frequencies < AUDIBLE_ALIAS_LIMIT_HZ].max() > AUDIBLE_ALIAS_LIMIT_DB
    assert total > TOTAL_ALIAS_LIMIT_DB


def test_wavetable_from_harmonics_plays_those_amplitudes():
    table = build_wavetable_from_harmonics([1.0, 0.5, 0.33])
    for hertz in (55, 440, 3000):
        _, measured = harmonics_of(one_second(WAVETABLE, hertz, table=table), hertz)
        np.testing.assert_allclose(measured[:3], [1.0, 0.5, 0.33], rtol=1e-4)
        assert measured[3:].max(initial=0.0) < 1e-6
    # Sine phase: the first sample of a cycle is 0, the next ones rise.
    y = one_second(WAVETABLE, 440, table=table)
    assert abs(y[0]) < 1e-12 and y[1] > 0.0


def test_each_wavetable_row_holds_only_its_octaves_harmonics():
    top = WAVETABLE_SIZE // 4
    assert SAW_TABLE.shape[0] == int(math.log2(top)) + 1
    for level, row in enumerate(SAW_TABLE):
        cycle = row[1:1 + WAVETABLE_SIZE]
        np.testing.assert_array_equal(row[0], cycle[-1])
        np.testing.assert_array_equal(row[-2:], cycle[:2])
        spectrum = amplitudes(cycle)
        kept = top >> level
        np.testing.assert_allclose(spectrum[1:kept + 1], 1.0 / np.arange(1, kept + 1), rtol=1e-9)
        assert spectrum[kept + 1:].max() < 1e-12


@pytest.mark.parametrize("key", [90, 100, 110, 120, 127])
def test_a_high_note_reads_no_harmonic_above_nyquist(key):
    hertz = round(key_frequency(key))
    _, levels, total = alias_levels_db(one_second(WAVETABLE, hertz), hertz)
    assert levels.max() < -100.0 and total < -90.0
    # Whatever the pitch, the harmonics up to half the fade's start (0.4 Nyquist) play whole.
    numbers, measured = harmonics_of(one_second(WAVETABLE, hertz), hertz)
    whole = numbers * hertz < FADE_FROM_NYQUIST * RATE / 4
    np.testing.assert_allclose(measured[whole], 1.0 / numbers[whole], rtol=1e-3)


def test_wavetable_timbre_is_continuous_across_rows():
    """Just below and just above the pitch where one row hands over to the next, a cycle
    sounds the same: a vibrato across the boundary does not flip the timbre."""
    for level in range(1, SAW_TABLE.shape[0] - 1):
        boundary = 2.0 ** level / (0.5 * WAVETABLE_SIZE)
        phases = np.linspace(0.0, 1.0, 997, endpoint=False)
        below = np.array([wavetable_tick(SAW_TABLE, p, boundary * (1 - 1e-9)) for p in phases])
        above = np.array([wavetable_tick(SAW_TABLE, p, boundary * (1 + 1e-9)) for p in phases])
        assert np.abs(below - above).max() < 1e-6


def write_cycle(path, cycle, rate=RATE, subtype="FLOAT"):
    soundfile.write(path, np.asarray(cycle, dtype=np.float64), rate, subtype=subtype)
    return path


def cycle_of(amplitudes_and_phases, length):
    phase = np.arange(length) / length
    return sum(a * np.cos(2 * np.pi * n * phase + p) for n, (a, p) in enumerate(amplitudes_and_phases, start=1))


def test_wavetable_from_a_single_cycle_file(tmp_path):
    partials = [(0.5, 0.3), (0.25, -1.0), (0.0, 0.0), (0.1, 2.0)]
    cycle = 0.2 + cycle_of(partials, 600)  # an odd length and a DC offset, as files come
    table = build_wavetable_from_wav(write_cycle(tmp_path / "cycle.wav", cycle))
    rows = table[:, 1:1 + WAVETABLE_SIZE]
    expected = cycle_of(partials, WAVETABLE_SIZE)
    np.testing.assert_allclose(rows[0], expected, atol=1e-6)  # DC removed, resampled exactly
    np.testing.assert_allclose(rows[-1], cycle_of(partials[:1], WAVETABLE_SIZE), atol=1e-6)

    stereo = np.column_stack([cycle, cycle])
    soundfile.write(tmp_path / "stereo.wav", stereo, RATE, subtype="FLOAT")
    np.testing.assert_allclose(build_wavetable_from_wav(tmp_path / "stereo.wav"), table, atol=1e-12)


def test_a_cycle_file_with_more_harmonics_than_the_table_keeps_the_lowest(tmp_path):
    partials = [(1.0 / n, 0.0) for n in range(1, 2048)]
    table = build_wavetable_from_wav(write_cycle(tmp_path / "long.wav", cycle_of(partials, 4096) / 8))
    spectrum = amplitudes(table[0, 1:1 + WAVETABLE_SIZE])
    np.testing.assert_allclose(spectrum[1:WAVETABLE_SIZE // 4 + 1] * 8, 1.0 / np.arange(1, 513), rtol=1e-5)
    assert spectrum[WAVETABLE_SIZE // 4 + 1:].max() < 1e-9


@pytest.mark.parametrize("samples, message", [
    (np.zeros(0), "too few"),
    (np.zeros(4), "too few"),
    (np.zeros(MAX_CYCLE_SAMPLES + 1), "longer than a single cycle"),
    (np.full(600, 0.3), "silent"),
    (np.where(np.arange(600) == 10, np.nan, 0.1), "NaN"),
    (np.tile(cycle_of([(0.5, 0.0), (0.2, 1.0)], 150), 4), "repeats 4 times"),
])
def test_bad_cycle_files_are_refused_clearly(tmp_path, samples, message):
    path = write_cycle(tmp_path / "bad.wav", samples)
    with pytest.raises(ValueError, match=message):
        build_wavetable_from_wav(path)


def test_unreadable_files_and_bad_arguments_are_refused_clearly(tmp_path):
    (tmp_path / "notes.txt").write_text("not audio")
    with pytest.raises(ValueError, match="not a sound file"):
        build_wavetable_from_wav(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="not a sound file"):
        build_wavetable_from_wav(tmp_path / "missing.wav")
    for amplitudes_list, message in (([], "non-empty"), ([[1.0, 2.0]], "non-empty"), ([1.0, float("nan")], "finite"),
                                     ([0.0, 0.0], "silent"), (np.ones(513), "at most 512")):
        with pytest.raises(ValueError, match=message):
            build_wavetable_from_harmonics(amplitudes_list)
    for size in (1000, 32, 0):
        with pytest.raises(ValueError, match="power of two"):
            build_wavetable_from_harmonics([1.0], size=size)


@njit(cache=True)
def render_fm(carrier_increment, modulator_increment, index, feedback, length):
    y = np.empty(length)
    carrier = 0.0
    modulator_phase = 0.0
    modulator = 0.0
    for i in range(length):
        y[i], modulator = fm_tick(carrier, modulator_phase, index, feedback, modulator)
        carrier = advance_phase(carrier, carrier_increment)
        modulator_phase = advance_phase(modulator_phase, modulator_increment)
    return y


def bessel_j(order, x):
    """J_n(x) = (1/pi) * integral over [0, pi] of cos(n t - x sin t) dt, by the midpoint rule."""
    t = (np.arange(4096) + 0.5) * np.pi / 4096
    return np.mean(np.cos(order * t - x * np.sin(t)))


def test_fm_with_index_0_is_a_pure_sine():
    y = render_fm(1000 / RATE, 1400 / RATE, 0.0, 0.0, RATE)
    np.testing.assert_allclose(y, one_second(SINE, 1000), atol=1e-12)
    spectrum = amplitudes(y)
    assert np.delete(spectrum, 1000).max() < 1e-9


def test_fm_sidebands_follow_bessel_functions_of_the_index():
    carrier, modulator, index = 6000, 500, 2.5
    spectrum = amplitudes(render_fm(carrier / RATE, modulator / RATE, index, 0.0, RATE))
    for order in range(-6, 7):
        expected = abs(bessel_j(abs(order), index))
        assert spectrum[carrier + order * modulator] == pytest.approx(expected, abs=1e-6)


def test_fm_feedback_brightens_the_modulator_and_stays_bounded():
    plain = amplitudes(render_fm(1000 / RATE, 1000 / RATE, 1.0, 0.0, RATE))
    fed_back = render_fm(1000 / RATE, 1000 / RATE, 1.0, 1.0, RATE)
    assert np.isfinite(fed_back).all() and np.abs(fed_back).max() <= 1.0
    assert amplitudes(fed_back)[5000:].sum() > 10 * plain[5000:].sum()


@njit(cache=True)
def render_noise(seed, length):
    y = np.empty(length)
    state = noise_seed(seed)
    for i in range(length):
        y[i], state = noise_tick(state)
    return y


def test_noise_is_white_zero_mean_and_bounded():
    n = 1 << 20
    y = render_noise(1, n)
    assert -1.0 <= y.min() and y.max() < 1.0
    standard_error = math.sqrt(1 / 3 / n)
    assert abs(y.mean()) < 4 * standard_error
    assert y.var() == pytest.approx(1 / 3, rel=0.01)
    power = np.abs(np.fft.rfft(y)) ** 2
    bands = [band.mean() for band in np.array_split(power[1:], 8)]
    assert max(bands) / min(bands) < 1.05  # flat: white
    lag_one = np.corrcoef(y[:-1], y[1:])[0, 1]
    assert abs(lag_one) < 4 / math.sqrt(n)


def test_noise_seeds_give_repeatable_unrelated_streams():
    np.testing.assert_array_equal(render_noise(7, 1000), render_noise(7, 1000))
    streams = [render_noise(seed, 1 << 16) for seed in (0, 1, 2, -1)]
    for a in range(len(streams)):
        for b in range(a + 1, len(streams)):
            assert abs(np.corrcoef(streams[a], streams[b])[0, 1]) < 4 / math.sqrt(1 << 16)
    assert all(noise_seed(seed) != 0 for seed in (0, 1, -1, 2 ** 63 - 1))


# Every kernel, called with run-time arguments so that every branch is compiled.
AUDIT_PROBE = """
import sys
from numba import carray, cfunc, types
from liveengine.kernel.dsp.oscillators import (
    advance_phase, fm_tick, noise_seed, noise_tick, pulse_tick, saw_tick, sine_tick, triangle_tick,
    wavetable_tick)

@cfunc(types.float64(types.float64, types.float64, types.CPointer(types.float64), types.int64, types.int64),
       error_model="numpy")
def probe(phase, increment, rows, levels, seed):
    table = carray(rows, (levels, 2051))
    noise, state = noise_tick(noise_seed(seed))
    fm, modulator = fm_tick(phase, phase, increment, increment, noise)
    return (saw_tick(phase, increment) + pulse_tick(phase, increment, noise) + triangle_tick(phase, increment)
            + sine_tick(advance_phase(phase, increment)) + wavetable_tick(table, phase, increment)
            + fm + modulator + state)

sys.stdout.write(probe.inspect_llvm())
"""


def test_the_kernels_keep_the_real_time_contract():
    """No raise site, allocation or Python API call, in IR compiled afresh (not from the cache)."""
    report = audit_ir(compiled_ir(AUDIT_PROBE))
    assert report.functions >= 1 and report.clean, report.summary()
