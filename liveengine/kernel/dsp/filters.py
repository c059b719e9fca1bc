"""Resonant filters for voices: a state-variable filter and a one-pole, per-sample kernels.

Both are the bilinear (trapezoidal) transforms of analog prototypes, solved without a
unit delay in the feedback loop ("zero-delay feedback", or topology-preserving): the
cutoff lands exactly where asked, a resonant peak keeps its analog height at any cutoff
up to 0.49 fs, and the cutoff may move on every sample without zipper noise or
blow-ups, because the states are integrator outputs that keep their meaning when the
coefficients change.

The caller keeps the state, two floats for the state-variable filter and one for the
one-pole, in its own arrays (a voice's columns), starts them at 0.0 and stores what each
tick returns:

    g = prewarp(cutoff_hz, sample_rate)        # per block, or per sample when modulated
    k = damping_from_resonance_db(resonance_db)
    y, ic1, ic2 = svf_tick(x, ic1, ic2, g, k, FILTER_LOWPASS)
    y, s = one_pole_tick(x, s, g, FILTER_HIGHPASS)

- `prewarp(cutoff_hz, sample_rate)` -> g = tan(pi fc / fs), the cutoff clamped to
  [MIN_CUTOFF_HZ, MAX_CUTOFF_RATIO * fs]. A rational approximation, within 2e-8 of the
  exact tangent over that whole range (a cutoff error far below a thousandth of a cent)
  at a third of the cost of `math.tan`: cheap enough to call on every sample of a
  swept cutoff.
- `damping_from_resonance_db(db)` -> k = 1/Q. The resonance, as SFZ's `resonance`, is
  the height in dB of the low-pass peak above the pass band (0 to 40 dB): 0 dB is
  Butterworth (Q = 0.707, flat, -3 dB at the cutoff), 12 dB gives Q = 3.95. Below 0 dB
  it stays Butterworth.
- `damping_from_q(q)` -> k for a quality factor given directly. SoundFont banks give
  initialFilterQ in centibels; FluidSynth, the reference player, reads it as
  q = 10 ** ((centibels / 10 - 3.01) / 20), which makes 0 cB Butterworth too.
- `svf_tick(x, ic1, ic2, g, k, mode)` -> (y, ic1, ic2) for the modes FILTER_LOWPASS,
  FILTER_HIGHPASS (both 12 dB/octave), FILTER_BANDPASS (0 dB at its centre, bandwidth
  fc/Q, narrowing toward Nyquist) and FILTER_NOTCH (the input minus the band-pass).
  `svf_step(x, ic1, ic2, a1, a2, a3, k, mode)` is the same with its gains and their one
  division, `svf_gains(g, k)`, worked out by the caller (once for a run where g holds
  still), and the flush of its states left to the caller's `flush_states` after the run.
- `one_pole_tick(x, s, g, mode)` -> (y, s): 6 dB/octave, FILTER_LOWPASS or
  FILTER_HIGHPASS, -3 dB exactly at the cutoff.
- The low-pass at rest (its gains held still over a run), the voices' common case, in two
  faster forms of the same filter, equal to `svf_step` to rounding:
  - `low_pass_biquad(a1, a2, a3)` and `low_pass_biquad_step(x, z1, z2, b0, f1, f2)`: a
    biquad, 5 operations a sample instead of 9, for loops bound by how much they compute
    (a sample voice's, with its interpolation). `biquad_states` and `svf_states` carry the
    states over at the run's start and back at its end.
  - `low_pass_pair_gains(a1, a2, a3)` and `low_pass_pair(x0, x1, ic1, ic2, gains)`: two
    samples a step, the recursion's latency halved, for loops bound by it (a synth voice's,
    whose oscillators ran before). Measured: 13 % more synth voices.

Every tick flushes its states to exact 0.0 below DENORMAL_FLOOR, so a filter left
ringing after its input stops ends on zeros rather than on subnormal floats. A voice loop
that calls `svf_step` flushes once per run instead (`flush_states`): inside the loop the
test sits on the recursion's path, and measured, it doubled a step's cost (4.4 to 8.9 ns).
"""

import math

from ..realtime import DENORMAL_FLOOR, realtime, realtime_entry

FILTER_LOWPASS = 0
FILTER_HIGHPASS = 1
FILTER_BANDPASS = 2
FILTER_NOTCH = 3
FILTER_THROUGH = 4  # no filtering: an output `svf_output` gives, for a crossfade to or from a mode

MIN_CUTOFF_HZ = 20.0
MAX_CUTOFF_RATIO = 0.49  # of the sample rate: tan() grows without bound at Nyquist
MIN_Q = 0.1

_HALF_PI = 0.5 * math.pi
_QUARTER_PI = 0.25 * math.pi


@realtime
def flush_denormal(value):
    """`value`, or 0.0 when it is smaller than DENORMAL_FLOOR (a NaN becomes 0.0 too)."""
    return value if abs(value) >= DENORMAL_FLOOR else 0.0


@realtime_entry
def prewarp(cutoff_hz, sample_rate):
    """The integrator gain g = tan(pi fc / fs) of a trapezoidal filter, fc clamped."""
    cutoff = min(max(cutoff_hz, MIN_CUTOFF_HZ), MAX_CUTOFF_RATIO * sample_rate)
    angle = math.pi * cutoff / sample_rate
    # A [5/4] Pade approximant of tan is accurate to 2e-8 up to pi/4; above, the
    # complementary angle gives tan(angle) = 1 / tan(pi/2 - angle), so swap the ratio.
    folded = min(angle, _HALF_PI - angle)
    square = folded * folded
    numerator = folded * (945.0 - square * (105.0 - square))
    denominator = 945.0 - square * (420.0 - 15.0 * square)
    return numerator / denominator if angle <= _QUARTER_PI else denominator / numerator


@realtime_entry
def damping_from_q(q):
    return 1.0 / max(q, MIN_Q)


@realtime_entry
def damping_from_resonance_db(resonance_db):
    """k = 1/Q for a two-pole low-pass whose peak stands `resonance_db` above its pass band."""
    # The analog peak is Q / sqrt(1 - 1/(4 Q^2)); solved for Q at a peak gain G:
    # Q^2 = G^2 (1 + sqrt(1 - 1/G^2)) / 2. The bilinear transform keeps the height.
    peak_squared = 10.0 ** (max(resonance_db, 0.0) / 10.0)
    q_squared = 0.5 * peak_squared * (1.0 + math.sqrt(1.0 - 1.0 / peak_squared))
    return 1.0 / math.sqrt(q_squared)


@realtime_entry
def svf_tick(x, ic1, ic2, g, k, mode):
    """One sample of the state-variable filter: (output, ic1, ic2); g from `prewarp`, k = 1/Q."""
    a1, a2, a3 = svf_gains(g, k)
    y, ic1, ic2 = svf_step(x, ic1, ic2, a1, a2, a3, k, mode)
    ic1, ic2 = flush_states(ic1, ic2)
    return y, ic1, ic2


@realtime
def flush_states(ic1, ic2):
    """Both states to exact zero once they are below DENORMAL_FLOOR together: zeroing one
    alone would stop the pair's ringing and leave the other creeping down through the
    low-pass leak, for seconds at low cutoffs."""
    if abs(ic1) + abs(ic2) < DENORMAL_FLOOR:
        return 0.0, 0.0
    return ic1, ic2


@realtime_entry
def svf_gains(g, k):
    """The state-variable filter's gains for g and k: a division, which a caller whose
    coefficients hold still over many samples computes once for all of them."""
    a1 = 1.0 / (1.0 + g * (g + k))
    a2 = g * a1
    return a1, a2, g * a2


@realtime_entry
def svf_gains_gliding(g_start, g_step, k, samples):
    """The gains at g_start and their steps a sample, for g gliding by g_step a sample over `samples`:
    they move in straight lines between their exact values at the ends (they are smooth in g), two
    divisions for the glide rather than one a sample."""
    a1, a2, a3 = svf_gains(g_start, k)
    if g_step == 0.0:
        return a1, a2, a3, 0.0, 0.0, 0.0
    end_1, end_2, end_3 = svf_gains(g_start + g_step * samples, k)
    per_sample = 1.0 / samples
    return a1, a2, a3, (end_1 - a1) * per_sample, (end_2 - a2) * per_sample, (end_3 - a3) * per_sample


@realtime_entry
def svf_step(x, ic1, ic2, a1, a2, a3, k, mode):
    """`svf_tick` with its gains given (`svf_gains(g, k)`), and without the flush of its states:
    the caller runs `flush_states` at the end of each run of samples. In the loop, the flush's
    test would sit on the recursion's path and double its cost."""
    low, band, ic1, ic2 = svf_bands(x, ic1, ic2, a1, a2, a3)
    return svf_output(x, low, band, k, mode), ic1, ic2


@realtime
def svf_bands(x, ic1, ic2, a1, a2, a3):
    """One sample of the state-variable filter's low-pass and band-pass signals, and its next states:
    (low, band, ic1, ic2). Every mode's output is a mix of them and the input (`svf_output`)."""
    # Two trapezoidal integrators in a loop, solved for this sample's outputs at once.
    v3 = x - ic2
    band = a1 * ic1 + a2 * v3
    low = ic2 + a2 * ic1 + a3 * v3
    # The next states, written as a 2x2 map of the present ones plus the input: each waits on
    # two multiply-adds only (the outputs above run beside them). With a1..a3 held still, the
    # map's coefficients are worked out once for a whole loop. Measured: 2.4 ns, not 4.1.
    keep_1 = 2.0 * a1 - 1.0
    cross = 2.0 * a2
    keep_2 = 1.0 - 2.0 * a3
    next_ic1 = keep_1 * ic1 + (cross * x - cross * ic2)
    next_ic2 = cross * ic1 + (keep_2 * ic2 + 2.0 * a3 * x)
    return low, band, next_ic1, next_ic2


@realtime_entry
def low_pass_biquad(a1, a2, a3):
    """The state-variable low-pass with its gains held still, as a biquad in transposed direct form II:
    (b0, f1, f2) of y = b0 (x + 2 x[n-1] + x[n-2]) - f1 y[n-1] - f2 y[n-2]. The same transfer function (f1
    and f2 are the trace and determinant of `svf_bands`' state map) in 5 operations a sample, not 9."""
    return a3, 2.0 * (a3 - a1), 2.0 * (a1 + a3) - 1.0


@realtime_entry
def biquad_states(ic1, ic2, a1, a2, a3):
    """The biquad's states (z1, z2) that go on from the state-variable filter's (ic1, ic2): z1 is the part
    of the next output the past gives, z2 the part of the one after."""
    return a2 * ic1 + (1.0 - a3) * ic2, a2 * ic1 + (1.0 - 2.0 * a1 - a3) * ic2


@realtime_entry
def svf_states(z1, z2, a1, a2, a3):
    """`biquad_states` inverted: the state-variable filter's (ic1, ic2) that go on from the biquad's."""
    per_a1_a2 = 0.5 / (a1 * a2)  # one division for both
    ic2 = (z1 - z2) * a2 * per_a1_a2
    return (z1 - (1.0 - a3) * ic2) * 2.0 * a1 * per_a1_a2, ic2


@realtime_entry
def low_pass_biquad_step(x, z1, z2, b0, f1, f2):
    """One sample of `low_pass_biquad`'s filter: (y, z1, z2)."""
    # The next states from z1 itself rather than from y (y = b0 x + z1 put in): the recursion then waits
    # on one multiply-add a sample, not on an add, a multiply-add and an add. Measured: 7 % faster loop.
    return b0 * x + z1, (z2 + (2.0 - f1) * b0 * x) - f1 * z1, (1.0 - f2) * b0 * x - f2 * z1


@realtime_entry
def low_pass_pair_gains(a1, a2, a3):
    """The gains of `low_pass_pair`: the state-variable low-pass (gains from `svf_gains`) two samples at a
    time. One sample's step is s' = M s + B x, y = C s + D x; two are s'' = M^2 s + M B x0 + B x1,
    y0 = C s + D x0, y1 = C M s + C B x0 + D x1."""
    m11 = 2.0 * a1 - 1.0
    m12 = -2.0 * a2
    m21 = 2.0 * a2
    m22 = 1.0 - 2.0 * a3
    b1 = 2.0 * a2
    b2 = 2.0 * a3
    c1 = a2
    c2 = 1.0 - a3
    return (m11 * m11 + m12 * m21, m11 * m12 + m12 * m22, m21 * m11 + m22 * m21, m21 * m12 + m22 * m22,
            m11 * b1 + m12 * b2, m21 * b1 + m22 * b2, b1, b2,
            c1, c2, c1 * m11 + c2 * m21, c1 * m12 + c2 * m22, c1 * b1 + c2 * b2, a3)


@realtime_entry
def low_pass_pair(x0, x1, ic1, ic2, gains):
    """Two samples of the state-variable low-pass at rest: (y0, y1, ic1, ic2). Each state waits on two
    multiply-adds a pair, not a sample: half the recursion's latency, for loops it bounds."""
    mm11, mm12, mm21, mm22, mb1, mb2, b1, b2, c1, c2, cm1, cm2, cb, d = gains
    y0 = c1 * ic1 + c2 * ic2 + d * x0
    y1 = cm1 * ic1 + cm2 * ic2 + (cb * x0 + d * x1)
    next_1 = mm11 * ic1 + (mm12 * ic2 + (mb1 * x0 + b1 * x1))
    next_2 = mm22 * ic2 + (mm21 * ic1 + (mb2 * x0 + b2 * x1))
    return y0, y1, next_1, next_2


@realtime
def svf_output(x, low, band, k, mode):
    """A mode's output from the input and the filter's low- and band-pass signals; FILTER_THROUGH: the input."""
    if mode == FILTER_LOWPASS:
        return low
    if mode == FILTER_HIGHPASS:
        return x - k * band - low
    if mode == FILTER_BANDPASS:
        return k * band
    if mode == FILTER_NOTCH:
        return x - k * band
    return x


@realtime_entry
def one_pole_tick(x, s, g, mode):
    """One sample of the one-pole filter: (output, s); g from `prewarp`, mode low- or high-pass."""
    low = s + (x - s) * (g / (1.0 + g))
    s = flush_denormal(2.0 * low - s)
    return (low if mode == FILTER_LOWPASS else x - low), s
