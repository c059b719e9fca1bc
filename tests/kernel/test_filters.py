"""The voice filters, measured offline: responses from impulse responses and FFTs, sweeps, tails."""

import math

import numpy as np
import pytest
from numba import njit

from liveengine.kernel.dsp.filters import (
    FILTER_BANDPASS, FILTER_HIGHPASS, FILTER_LOWPASS, FILTER_NOTCH, MAX_CUTOFF_RATIO, MIN_CUTOFF_HZ,
    biquad_states, damping_from_q, damping_from_resonance_db, low_pass_biquad, low_pass_biquad_step, low_pass_pair,
    low_pass_pair_gains, one_pole_tick, prewarp, svf_gains, svf_gains_gliding, svf_states, svf_step, svf_tick,
)
from liveengine.engine.audit import audit_ir, compiled_ir
from liveengine.kernel.realtime import DENORMAL_FLOOR

RATES = (44100.0, 48000.0)
RESPONSE_LENGTH = 1 << 18
SMALLEST_NORMAL = np.finfo(np.float64).tiny


@njit(cache=True)
def run_svf(x, g, k, mode):
    """Filter `x` with a per-sample gain `g`; also return every state, to inspect the tail."""
    y = np.empty(x.size)
    states = np.empty((2, x.size))
    ic1 = 0.0
    ic2 = 0.0
    for i in range(x.size):
        y[i], ic1, ic2 = svf_tick(x[i], ic1, ic2, g[i], k, mode)
        states[0, i] = ic1
        states[1, i] = ic2
    return y, states


@njit(cache=True)
def run_one_pole(x, g, mode):
    y = np.empty(x.size)
    states = np.empty(x.size)
    s = 0.0
    for i in range(x.size):
        y[i], s = one_pole_tick(x[i], s, g, mode)
        states[i] = s
    return y, states


@njit(cache=True)
def prewarp_all(cutoffs, sample_rate):
    g = np.empty(cutoffs.size)
    for i in range(cutoffs.size):
        g[i] = prewarp(cutoffs[i], sample_rate)
    return g


def impulse(length=RESPONSE_LENGTH):
    x = np.zeros(length)
    x[0] = 1.0
    return x


def svf_response_db(cutoff, resonance_db, mode, rate):
    """(frequencies, magnitude in dB) of the filter's impulse response."""
    g = np.full(RESPONSE_LENGTH, prewarp(cutoff, rate))
    h, _ = run_svf(impulse(), g, damping_from_resonance_db(resonance_db), mode)
    return spectrum_db(h, rate)


def spectrum_db(h, rate):
    magnitude = np.abs(np.fft.rfft(h))
    return np.fft.rfftfreq(h.size, 1.0 / rate), 20.0 * np.log10(np.maximum(magnitude, 1e-300))


def crossing(frequencies, level_db, target_db, rising):
    """The frequency where the response first passes `target_db`, interpolated between bins."""
    passed = level_db >= target_db if rising else level_db <= target_db
    i = int(np.argmax(passed[1:])) + 1
    fraction = (target_db - level_db[i - 1]) / (level_db[i] - level_db[i - 1])
    return frequencies[i - 1] + fraction * (frequencies[i] - frequencies[i - 1])


def tone_amplitude(y, cycles_per_sample):
    """The amplitude of the sinusoid of that frequency that best fits `y` (least squares)."""
    angle = 2 * np.pi * cycles_per_sample * np.arange(y.size)
    basis = np.column_stack([np.sin(angle), np.cos(angle)])
    coefficients, *_ = np.linalg.lstsq(basis, y, rcond=None)
    return math.hypot(*coefficients)


HALF_POWER_DB = -10.0 * math.log10(2.0)
CUTOFFS = (50.0, 440.0, 2000.0, 8000.0, 18000.0)


def test_prewarp_is_the_tangent_within_2e_8_and_clamps_the_cutoff():
    for rate in (44100.0, 48000.0, 96000.0):
        cutoffs = np.geomspace(MIN_CUTOFF_HZ, MAX_CUTOFF_RATIO * rate, 200_001)
        exact = np.tan(np.pi * cutoffs / rate)
        assert np.abs(prewarp_all(cutoffs, rate) / exact - 1.0).max() < 2e-8
        lowest = math.tan(math.pi * MIN_CUTOFF_HZ / rate)
        highest = math.tan(math.pi * MAX_CUTOFF_RATIO)
        for below in (-100.0, 0.0, 5.0):
            assert prewarp(below, rate) == pytest.approx(lowest, rel=1e-7)
        for above in (0.5 * rate, rate, 1e9):
            assert prewarp(above, rate) == pytest.approx(highest, rel=1e-7)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("mode", [FILTER_LOWPASS, FILTER_HIGHPASS])
def test_two_pole_is_3_db_down_at_the_cutoff(rate, mode):
    for cutoff in CUTOFFS:
        frequencies, level = svf_response_db(cutoff, 0.0, mode, rate)
        edge = crossing(frequencies, level, HALF_POWER_DB, rising=mode == FILTER_HIGHPASS)
        assert edge == pytest.approx(cutoff, rel=0.002), (cutoff, edge)
        # Butterworth: flat, no peak above the pass band.
        assert level.max() < 1e-6


@pytest.mark.parametrize("rate", RATES)
def test_band_pass_peaks_at_0_db_on_its_centre_with_the_bandwidth_of_its_q(rate):
    q = 4.0
    for centre in (200.0, 1000.0, 5000.0, 15000.0):
        g = prewarp(centre, rate)
        h, _ = run_svf(impulse(), np.full(RESPONSE_LENGTH, g), damping_from_q(q), FILTER_BANDPASS)
        frequencies, level = spectrum_db(h, rate)
        peak = int(np.argmax(level))
        assert frequencies[peak] == pytest.approx(centre, rel=0.002)
        assert level[peak] == pytest.approx(0.0, abs=0.01)
        lower = crossing(frequencies, level, HALF_POWER_DB, rising=True)
        upper = crossing(frequencies[peak:], level[peak:], HALF_POWER_DB, rising=False)
        # The analog edges, centre * (sqrt(1 + 1/(4 q^2)) -+ 1/(2 q)), through the
        # bilinear transform's frequency warping: the band narrows toward Nyquist.
        half_width = 1.0 / (2.0 * q)
        for edge, analog in ((lower, math.hypot(1.0, half_width) - half_width),
                             (upper, math.hypot(1.0, half_width) + half_width)):
            assert edge == pytest.approx(rate / math.pi * math.atan(g * analog), rel=0.002)
        if centre <= 1000.0:
            assert upper - lower == pytest.approx(centre / q, rel=0.01)


@pytest.mark.parametrize("rate", RATES)
def test_notch_cancels_its_centre_and_passes_the_rest(rate):
    seconds = np.arange(int(rate)) / rate
    k = damping_from_q(2.0)
    for centre in (100.0, 1000.0, 10000.0):
        g = prewarp(centre, rate)
        gains = np.full(seconds.size, g)
        on_centre, _ = run_svf(np.sin(2 * np.pi * centre * seconds), gains, k, FILTER_NOTCH)
        assert 20 * math.log10(np.abs(on_centre[seconds.size // 2:]).max()) < -100.0
        for away in (centre / 8, centre / 2, min(2 * centre, 0.45 * rate)):
            y, _ = run_svf(np.sin(2 * np.pi * away * seconds), gains, k, FILTER_NOTCH)
            # The analog notch |1 - w^2| / |1 - w^2 + j k w| at the warped frequency w.
            w = math.tan(math.pi * away / rate) / g
            expected = abs(1 - w * w) / math.hypot(1 - w * w, k * w)
            assert tone_amplitude(y[seconds.size // 2:], away / rate) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("mode", [FILTER_LOWPASS, FILTER_HIGHPASS])
def test_resonant_peak_is_as_high_as_asked(rate, mode):
    for cutoff in (100.0, 1000.0, 15000.0):
        for resonance in (3.0, 12.0, 24.0, 40.0):
            _, level = svf_response_db(cutoff, resonance, mode, rate)
            pass_band = level[1] if mode == FILTER_LOWPASS else level[-1]
            # Within 0.1 dB as measured: bins 0.17 Hz apart straddle a 40 dB peak 1 Hz wide at 100 Hz.
            assert level.max() - pass_band == pytest.approx(resonance, abs=0.25), (cutoff, resonance)


def test_resonance_below_0_db_stays_butterworth_and_any_q_is_safe():
    assert damping_from_resonance_db(-12.0) == pytest.approx(math.sqrt(2.0))
    assert damping_from_resonance_db(0.0) == pytest.approx(math.sqrt(2.0))
    assert 1.0 / damping_from_resonance_db(12.0) == pytest.approx(3.95, abs=0.01)
    for q in (0.0, -1.0, 1e-12):
        assert math.isfinite(damping_from_q(q))


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("mode", [FILTER_LOWPASS, FILTER_HIGHPASS])
def test_one_pole_is_3_db_down_at_the_cutoff(rate, mode):
    for cutoff in CUTOFFS:
        h, _ = run_one_pole(impulse(), prewarp(cutoff, rate), mode)
        frequencies, level = spectrum_db(h, rate)
        edge = crossing(frequencies, level, HALF_POWER_DB, rising=mode == FILTER_HIGHPASS)
        assert edge == pytest.approx(cutoff, rel=0.002), (cutoff, edge)
        assert level.max() < 1e-6


MODES = (FILTER_LOWPASS, FILTER_HIGHPASS, FILTER_BANDPASS, FILTER_NOTCH)
MAX_RESONANCE_DB = 40.0


@pytest.mark.parametrize("mode", MODES)
def test_stable_at_maximum_resonance_at_the_highest_cutoff_and_under_sweeps(mode):
    rate = 48000.0
    noise = np.random.default_rng(7).uniform(-1.0, 1.0, int(2 * rate))
    k = damping_from_resonance_db(MAX_RESONANCE_DB)
    peak_gain = 10 ** (MAX_RESONANCE_DB / 20)
    sweep_up = np.geomspace(MIN_CUTOFF_HZ, MAX_CUTOFF_RATIO * rate, noise.size)
    for cutoffs in (np.full(noise.size, 0.5 * rate), sweep_up, sweep_up[::-1].copy()):
        y, states = run_svf(noise, prewarp_all(cutoffs, rate), k, mode)
        assert np.isfinite(y).all() and np.isfinite(states).all()
        # No louder than a sine held on the resonant peak: the filter never runs away.
        assert np.abs(y).max() < peak_gain


@pytest.mark.parametrize("mode", MODES)
def test_a_cutoff_swept_per_sample_has_no_zipper_noise(mode):
    """A 1 kHz tone through a resonant filter swept 200 Hz -> 10 kHz in a second: what leaves
    the tone's neighbourhood is zipper noise. A gain moved once per 64-sample block puts it
    near -80 dB; moved on every sample, it stays at the analysis window's floor."""
    rate = 48000.0
    seconds = np.arange(int(rate)) / rate
    tone = np.sin(2 * np.pi * 1000.0 * seconds)
    cutoffs = np.geomspace(200.0, 10000.0, seconds.size)
    k = damping_from_resonance_db(12.0)

    def far_from_tone_db(g):
        y, _ = run_svf(tone, g, k, mode)
        power = np.abs(np.fft.rfft(y * np.blackman(y.size))) ** 2
        far = np.fft.rfftfreq(y.size, 1.0 / rate) > 4000.0
        return 10 * math.log10(power[far].sum() / power.sum())

    exact = np.tan(np.pi * cutoffs / rate)
    per_sample = prewarp_all(cutoffs, rate)
    per_block = np.repeat(exact[::64], 64)[:seconds.size]
    assert far_from_tone_db(per_sample) < -150.0
    assert far_from_tone_db(per_block) > -100.0, "the measure must see a block-wise zipper"
    # The approximated tangent changes nothing audible against the exact one.
    fast, _ = run_svf(tone, per_sample, k, mode)
    reference, _ = run_svf(tone, exact, k, mode)
    assert np.abs(fast - reference).max() < 1e-8


def samples_to_floor(peak_state, pole_radius):
    """How long a state of `peak_state` takes to decay below DENORMAL_FLOOR, with 10 % to spare."""
    return int(1.1 * math.log(DENORMAL_FLOOR / peak_state) / math.log(pole_radius)) + 16


def svf_pole_radius(g, k):
    # The zero-input state update is linear: its matrix from the images of the unit vectors.
    columns = [svf_tick(0.0, ic1, ic2, g, k, FILTER_LOWPASS)[1:] for ic1, ic2 in ((1.0, 0.0), (0.0, 1.0))]
    return np.abs(np.linalg.eigvals(np.array(columns).T)).max()


def assert_silent_tail(states, input_end, bound):
    tail = states[..., input_end:]
    assert not np.any((tail != 0.0) & (np.abs(tail) < SMALLEST_NORMAL)), "a state went subnormal"
    silent = np.flatnonzero(np.any(tail != 0.0, axis=0) if tail.ndim == 2 else tail != 0.0)
    settle = silent[-1] + 1 if silent.size else 0
    assert settle <= bound, (settle, bound)
    assert settle < tail.shape[-1], "the states never reached exact zero"


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("cutoff, resonance", [(1000.0, 0.0), (100.0, 12.0), (5000.0, 40.0), (23000.0, 6.0)])
def test_after_the_input_stops_the_states_reach_exact_zero_without_going_subnormal(mode, cutoff, resonance):
    rate = 48000.0
    g = prewarp(cutoff, rate)
    k = damping_from_resonance_db(resonance)
    bound = samples_to_floor(4.0 * 10 ** (resonance / 20), svf_pole_radius(g, k))
    x = np.zeros(4096 + bound + 1000)
    x[:4096] = np.random.default_rng(3).uniform(-1.0, 1.0, 4096)
    y, states = run_svf(x, np.full(x.size, g), k, mode)
    assert_silent_tail(states, 4096, bound)
    assert not y[4096 + bound:].any()


@pytest.mark.parametrize("mode", [FILTER_LOWPASS, FILTER_HIGHPASS])
def test_one_pole_tail_reaches_exact_zero(mode):
    rate = 48000.0
    g = prewarp(30.0, rate)
    bound = samples_to_floor(2.0, (1.0 - g) / (1.0 + g))
    x = np.zeros(4096 + bound + 1000)
    x[:4096] = np.random.default_rng(4).uniform(-1.0, 1.0, 4096)
    y, states = run_one_pole(x, g, mode)
    assert_silent_tail(states, 4096, bound)
    assert not y[4096 + bound:].any()


# The low-pass at rest in its faster forms: the same filter as the state-variable one, to rounding.

@njit(cache=True)
def low_pass_three_ways(x, g, k, switch_every):
    """`x` through the state-variable low-pass sample by sample, as the biquad (its states carried over
    and back every `switch_every` samples, as a voice does at each segment), and two samples at a time."""
    a1, a2, a3 = svf_gains(g, k)
    b0, f1, f2 = low_pass_biquad(a1, a2, a3)
    pair_gains = low_pass_pair_gains(a1, a2, a3)
    plain = np.empty(x.size)
    biquad = np.empty(x.size)
    pairs = np.empty(x.size)
    ic1 = ic2 = 0.0
    for i in range(x.size):
        plain[i], ic1, ic2 = svf_step(x[i], ic1, ic2, a1, a2, a3, k, FILTER_LOWPASS)
    ic1 = ic2 = 0.0
    for begin in range(0, x.size, switch_every):
        z1, z2 = biquad_states(ic1, ic2, a1, a2, a3)
        for i in range(begin, min(x.size, begin + switch_every)):
            biquad[i], z1, z2 = low_pass_biquad_step(x[i], z1, z2, b0, f1, f2)
        ic1, ic2 = svf_states(z1, z2, a1, a2, a3)
    ic1 = ic2 = 0.0
    for i in range(0, x.size - 1, 2):
        pairs[i], pairs[i + 1], ic1, ic2 = low_pass_pair(x[i], x[i + 1], ic1, ic2, pair_gains)
    return plain, biquad, pairs


@pytest.mark.parametrize("cutoff, resonance", [(20.0, 0.0), (2000.0, 12.0), (0.45 * 48000.0, 40.0)])
def test_the_biquad_and_the_pairs_are_the_state_variable_low_pass(cutoff, resonance):
    x = np.random.default_rng(5).uniform(-1.0, 1.0, 1 << 14)
    plain, biquad, pairs = low_pass_three_ways(x, prewarp(cutoff, 48000.0), damping_from_resonance_db(resonance), 64)
    scale = np.abs(plain).max()
    assert np.abs(biquad - plain).max() < 1e-9 * scale
    assert np.abs(pairs - plain).max() < 1e-9 * scale


def test_a_gliding_cutoffs_gains_run_straight_from_their_exact_start_to_their_exact_end():
    k = damping_from_resonance_db(6.0)
    g_start, g_end, samples = prewarp(500.0, 48000.0), prewarp(8000.0, 48000.0), 64
    *gains, step_1, step_2, step_3 = svf_gains_gliding(g_start, (g_end - g_start) / samples, k, samples)
    assert gains == list(svf_gains(g_start, k))
    ends = [gain + step * samples for gain, step in zip(gains, (step_1, step_2, step_3))]
    assert np.allclose(ends, svf_gains(g_end, k), rtol=1e-12, atol=0.0)
    assert svf_gains_gliding(g_start, 0.0, k, samples)[3:] == (0.0, 0.0, 0.0)  # at rest: no steps


# Every kernel, called with run-time arguments so that every branch is compiled.
AUDIT_PROBE = """
import sys
from numba import cfunc, types
from liveengine.kernel.dsp.filters import (
    biquad_states, damping_from_q, damping_from_resonance_db, low_pass_biquad, low_pass_biquad_step, low_pass_pair,
    low_pass_pair_gains, one_pole_tick, prewarp, svf_gains, svf_gains_gliding, svf_states, svf_tick)

@cfunc(types.float64(types.float64, types.float64, types.float64, types.int64), error_model="numpy")
def probe(x, cutoff, resonance, mode):
    g = prewarp(cutoff, 48000.0)
    y, ic1, ic2 = svf_tick(x, x, x, g, damping_from_resonance_db(resonance) + damping_from_q(x), mode)
    z, s = one_pole_tick(x, ic1, g, mode)
    a1, a2, a3 = svf_gains(g, x)
    b0, f1, f2 = low_pass_biquad(a1, a2, a3)
    z1, z2 = biquad_states(ic1, ic2, a1, a2, a3)
    w, z1, z2 = low_pass_biquad_step(x, z1, z2, b0, f1, f2)
    ic1, ic2 = svf_states(z1, z2, a1, a2, a3)
    u, v, ic1, ic2 = low_pass_pair(x, w, ic1, ic2, low_pass_pair_gains(a1, a2, a3))
    a1, a2, a3, step_1, step_2, step_3 = svf_gains_gliding(g, x, resonance, mode)
    return y + ic2 + z + s + w + ic1 + u + v + a1 + a2 + a3 + step_1 + step_2 + step_3

sys.stdout.write(probe.inspect_llvm())
"""


def test_the_kernels_keep_the_real_time_contract():
    """No raise site, allocation or Python API call, in IR compiled afresh (not from the cache)."""
    report = audit_ir(compiled_ir(AUDIT_PROBE))
    assert report.functions >= 1 and report.clean, report.summary()
