"""Sample voices: a note on a sampler starts one voice for each region that sounds for it.

Per sample, a voice interpolates its sample (4-point cubic Hermite, or linear; `sampler.source`),
runs its filter, and follows its DAHDSR amplitude envelope as level = level * mul + add, one
linear or exponential segment at a time, ending on an exact zero. Pitch bend, LFOs, controllers
and the filter envelope move once per rendered segment (at most a block), the gains and the
filter's coefficient gliding across it. Which regions sound is `sampler.layers`' choice.
"""

import math

from ..dsp.filters import (
    FILTER_BANDPASS,
    FILTER_HIGHPASS,
    FILTER_LOWPASS,
    FILTER_NOTCH,
    biquad_states,
    damping_from_resonance_db,
    flush_states,
    low_pass_biquad,
    low_pass_biquad_step,
    one_pole_tick,
    prewarp,
    svf_gains_gliding,
    svf_states,
    svf_step,
)
from ..realtime import DENORMAL_FLOOR, realtime, realtime_inline
from .. import events as ev
from ..memory import f64_1d, f64_2d, i64_1d, i64_2d
from ..regiontable import (
    CROSSFADE_FIELDS,
    FILTER_NONE,
    LFO_DELAY,
    LFO_DEPTH,
    LFO_FADE,
    LFO_FREQUENCY,
    LOOP_ONE_SHOT,
    MAX_PITCH_RATIO,
    MOD_CC,
    MOD_DEPTH,
    MOD_TARGET,
    MODULATION_FIELDS,
    R_AMP_ENVELOPE,
    R_AMP_LFO,
    R_AMP_VELTRACK,
    R_BEND_DOWN,
    R_BEND_UP,
    R_CROSSFADE,
    R_CROSSFADES,
    R_CUTOFF,
    R_FIL_KEYCENTER,
    R_FIL_KEYTRACK,
    R_FIL_TYPE,
    R_FIL_VELTRACK,
    R_FILTER_ENVELOPE,
    R_GAIN,
    R_KEYCENTER,
    R_KEYTRACK,
    R_LOOP_MODE,
    R_MODULATION,
    R_MODULATIONS,
    R_OFFSET,
    R_PAN,
    R_PITCH_LFO,
    R_PITCH_VELTRACK,
    R_RATE_RATIO,
    R_RESONANCE,
    R_RT_DECAY,
    R_SAMPLE,
    R_TUNE,
    R_XF_CCCURVE,
    R_XF_KEYCURVE,
    R_XF_VELCURVE,
    R_XFIN_HIKEY,
    R_XFIN_HIVEL,
    R_XFIN_LOKEY,
    R_XFIN_LOVEL,
    R_XFOUT_HIKEY,
    R_XFOUT_HIVEL,
    R_XFOUT_LOKEY,
    R_XFOUT_LOVEL,
    TARGET_AMPLITUDE,
    TARGET_CUTOFF,
    TARGET_PAN,
    TARGET_PITCH,
    TARGET_VOLUME,
    XF_CC,
    XF_IN_HIGH,
    XF_IN_LOW,
    XF_OUT_HIGH,
    XF_OUT_LOW,
)
from ..sampler.layers import choke_and_limit, crossfade_gain, region_accepts, take_turn, triggered, velocity_127
from ..sampler.source import (
    RUN_LOW_PASS_AT_REST,
    RUN_LOW_PASS_SWEEPING,
    RUN_UNFILTERED,
    enter_sample_release,
    free_sample_voice,
    loop_bounds,
    play_mono_run,
    play_stereo_run,
    read_frame,
    report_starved,
    sample_view,
    take_sample,
    wrap_into_loop,
)
from ..state import (
    A_CONFIG,
    A_CONFIG_FLOAT,
    A_CONTROLLERS,
    A_INSTRUMENTS,
    A_KERNEL,
    A_REGION_COUNTERS,
    A_REGIONS,
    A_SAMPLE_INTS,
    A_VOICE_INTS,
    A_VOICE_VALUES,
    C_INTERPOLATION,
    C_POLYPHONY,
    C_SAMPLE_RATE,
    CF_FADE_SAMPLES,
    I_BEND_RANGE,
    I_GAIN,
    I_HELD_NOTES,
    I_PITCH_BEND,
    I_PROGRAM,
    I_REGION_COUNT,
    I_REGION_FIRST,
    I_SW_HIKEY,
    I_SW_LAST,
    I_SW_LOKEY,
    INTERPOLATION_CUBIC,
    KIND_SAMPLER,
    SI_CHANNELS,
    SI_FRAMES,
    STAGE_DELAY,
    STAGE_FREE,
    V_AGE,
    V_ATTACK_CURVE,
    V_CUTOFF,
    V_CUTOFF_CENTS,
    V_ENV_ADD,
    V_ENV_LEFT,
    V_ENV_MUL,
    V_ENVELOPE,
    V_FILTER_G,
    V_FILTER_K,
    V_FILTER_STATE,
    V_FILTER_STATE_2,
    V_FILTER_STATE_3,
    V_FILTER_STATE_4,
    V_GAIN_LEFT,
    V_GAIN_RIGHT,
    V_KEY,
    V_LEVEL,
    V_NOTE_ID,
    V_PAN,
    V_PAN_LEFT,
    V_PAN_RIGHT,
    V_PHASE,
    V_PHASE_STEP,
    V_RELEASE_LEVEL,
    V_RELEASED_AT,
    V_START_LEVEL,
    V_STARTED_AT,
    V_VELOCITY,
    VS_BIQUAD_STATES,
    VS_BUS,
    VS_INSTRUMENT,
    VS_KIND,
    VS_LOOP_MODE,
    VS_REGION,
    VS_SAMPLE,
    VS_STAGE,
    VS_STARVED,
)
from .envelope import (
    GAIN_SETTLED,
    enter_stage,
    envelope_value,
    glide_left,
    next_run,
    play_sample,
    set_stage_lengths,
    stage_samples,
)
from .envelope_row import ENV_DELAY, ENV_DEPTH, ENV_START, ENV_VEL2DELAY
from .held import hold_note
from .pool import allocate_voice
from .randomness import next_random

TWO_PI = 2.0 * math.pi
ONE_POLE_TYPES = 2  # FILTER_TYPES begins with lpf_1p, hpf_1p


# Starting and releasing notes.

@realtime
def start(table, sample, note_id, instrument, key, velocity, bus, pan):
    """A note on a sampler: a keyswitch, or one voice per matching attack region. Returns 0, or a REFUSED_* reason."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    if instruments[I_SW_LOKEY, instrument] <= key <= instruments[I_SW_HIKEY, instrument]:
        instruments[I_SW_LAST, instrument] = int(key)
        return 0
    held_before = instruments[I_HELD_NOTES, instrument]
    hold_note(table, note_id, instrument, key, velocity, sample, bus)
    return start_regions(table, sample, note_id, instrument, key, velocity, bus, pan, False, held_before, 0.0)


@realtime
def start_release_regions(table, sample, note_id, instrument, key, velocity, bus, held_seconds):
    """The release of a note held on a sampler: its release regions start, attenuated by rt_decay for as
    long as the note was held. Returns 0, or a REFUSED_* reason."""
    return start_regions(table, sample, note_id, instrument, key, velocity, bus, 0.0, True, 0.0, held_seconds)


@realtime
def start_regions(table, sample, note_id, instrument, key, velocity, bus, pan, releasing, held_before, held_seconds):
    """A voice for every region of the instrument the note's start (or its release) sounds. Returns 0, or the
    REFUSED_* reason of a region that could not sound."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    regions = f64_2d(table, A_REGIONS)
    counters = i64_1d(table, A_REGION_COUNTERS)
    controllers = f64_2d(table, A_CONTROLLERS)
    velocity127 = velocity_127(velocity)
    random = next_random(i64_1d(table, A_KERNEL))
    switch = instruments[I_SW_LAST, instrument]
    program = instruments[I_PROGRAM, instrument]
    first = int(instruments[I_REGION_FIRST, instrument])
    refused = 0
    for r in range(first, first + int(instruments[I_REGION_COUNT, instrument])):
        if not triggered(regions, r, releasing, held_before):
            continue
        if not region_accepts(regions, r, controllers, instrument, key, velocity127, switch, program):
            continue
        if not take_turn(regions, counters, r, random):
            continue
        # A release voice is a note of the same group, so stopping a part silences it too.
        extra_gain = 10.0 ** (-regions[r, R_RT_DECAY] * held_seconds / 20.0) if releasing else 1.0
        result = start_voice(table, sample, note_id, instrument, r, key, velocity, velocity127, bus, pan, extra_gain)
        if result > 0:
            refused = result
    return refused


@realtime
def start_voice(table, sample, note_id, instrument, r, key, velocity, velocity127, bus, pan, extra_gain):
    """Start a voice on region row r. Returns 0 or REFUSED_*."""
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    regions = f64_2d(table, A_REGIONS)
    config = i64_1d(table, A_CONFIG)
    config_float = f64_1d(table, A_CONFIG_FLOAT)
    rate = float(config[C_SAMPLE_RATE])
    fade_samples = config_float[CF_FADE_SAMPLES]
    choke_and_limit(voice_values, voice_ints, regions, instrument, r, note_id, key, rate, fade_samples)
    if regions[r, R_SAMPLE] < 0.0:
        return 0  # a silent region (its sample missing, or end=-1): it chokes, and sounds nothing
    slot = allocate_voice(table, voice_values, voice_ints, fade_samples, config[C_POLYPHONY])
    if slot < 0:
        return ev.REFUSED_NO_VOICE  # counted and reported once per note by the caller

    cents = (key - regions[r, R_KEYCENTER]) * regions[r, R_KEYTRACK] + regions[r, R_TUNE] + \
        regions[r, R_PITCH_VELTRACK] * velocity
    tracked = 1.0 - regions[r, R_AMP_VELTRACK] * (1.0 - velocity * velocity)
    if regions[r, R_AMP_VELTRACK] < 0.0:
        tracked = 1.0 + regions[r, R_AMP_VELTRACK] * velocity * velocity
    gain = regions[r, R_GAIN] * tracked * extra_gain
    gain *= crossfade_gain(key, regions[r, R_XFIN_LOKEY], regions[r, R_XFIN_HIKEY], regions[r, R_XFOUT_LOKEY],
                           regions[r, R_XFOUT_HIKEY], regions[r, R_XF_KEYCURVE])
    gain *= crossfade_gain(velocity127, regions[r, R_XFIN_LOVEL], regions[r, R_XFIN_HIVEL],
                           regions[r, R_XFOUT_LOVEL], regions[r, R_XFOUT_HIVEL], regions[r, R_XF_VELCURVE])
    voice_values[V_PHASE, slot] = regions[r, R_OFFSET]
    voice_values[V_PHASE_STEP, slot] = regions[r, R_RATE_RATIO] * min(2.0 ** (cents / 1200.0), MAX_PITCH_RATIO)
    voice_values[V_LEVEL, slot] = gain
    voice_values[V_PAN, slot] = min(1.0, max(-1.0, regions[r, R_PAN] + pan))
    angle = (voice_values[V_PAN, slot] + 1.0) * math.pi / 4.0  # constant power
    voice_values[V_PAN_LEFT, slot] = math.cos(angle)
    voice_values[V_PAN_RIGHT, slot] = math.sin(angle)
    voice_values[V_NOTE_ID, slot] = note_id
    voice_values[V_STARTED_AT, slot] = sample
    voice_values[V_AGE, slot] = 0.0
    voice_values[V_VELOCITY, slot] = velocity
    voice_values[V_KEY, slot] = key
    voice_values[V_RELEASED_AT, slot] = -1.0
    voice_values[V_RELEASE_LEVEL, slot] = 0.0

    set_stage_lengths(voice_values, slot, regions, r, R_AMP_ENVELOPE, velocity, rate)
    voice_values[V_START_LEVEL, slot] = regions[r, R_AMP_ENVELOPE + ENV_START] / 100.0
    voice_values[V_ATTACK_CURVE, slot] = 0.0  # SFZ and SF2 attacks are linear

    filter_type = regions[r, R_FIL_TYPE]
    if filter_type != FILTER_NONE:
        voice_values[V_CUTOFF, slot] = regions[r, R_CUTOFF] * 2.0 ** (
            (regions[r, R_FIL_VELTRACK] * velocity + regions[r, R_FIL_KEYTRACK] * (key - regions[r, R_FIL_KEYCENTER]))
            / 1200.0)
        voice_values[V_FILTER_G, slot] = -1.0  # no coefficient yet: the first segment sets it without a glide
        voice_values[V_FILTER_K, slot] = damping_from_resonance_db(regions[r, R_RESONANCE])
        voice_values[V_FILTER_STATE, slot] = 0.0
        voice_values[V_FILTER_STATE_2, slot] = 0.0
        voice_values[V_FILTER_STATE_3, slot] = 0.0
        voice_values[V_FILTER_STATE_4, slot] = 0.0

    sample_slot = int(regions[r, R_SAMPLE])
    voice_ints[VS_INSTRUMENT, slot] = instrument
    voice_ints[VS_BUS, slot] = bus
    voice_ints[VS_KIND, slot] = KIND_SAMPLER
    voice_ints[VS_REGION, slot] = r
    voice_ints[VS_SAMPLE, slot] = sample_slot
    voice_ints[VS_LOOP_MODE, slot] = int(regions[r, R_LOOP_MODE])
    voice_ints[VS_STARVED, slot] = 0
    voice_ints[VS_BIQUAD_STATES, slot] = 0
    voice_values[V_GAIN_LEFT, slot] = -1.0  # no gains yet: the first segment starts at its own
    enter_stage(voice_values, voice_ints, slot, STAGE_DELAY,
                stage_samples(regions, r, R_AMP_ENVELOPE, ENV_DELAY, ENV_VEL2DELAY, velocity, rate),
                voice_values[V_START_LEVEL, slot])
    if voice_ints[VS_STAGE, slot] == STAGE_FREE:
        return 0  # no attack, hold, decay nor sustain: nothing to sound
    take_sample(table, sample, sample_slot)
    return 0


@realtime
def release(voice_values, voice_ints, slot):
    """A note off: a held sample voice enters its release, unless it is a one-shot, which plays to its end."""
    if voice_ints[VS_LOOP_MODE, slot] != LOOP_ONE_SHOT:
        enter_sample_release(voice_values, voice_ints, slot)


# Playing voices.

# Inlined into the voices' loop (kinds.render_voices): as a call, its entry and exit took 4-7 % of the
# render of FluidR3_GM files, and the compile takes no longer.
@realtime_inline
def render(table, slot, bus_audio, start, end, position, rate):
    """Add sample voice `slot`'s samples [start, end) into its bus: what moves once a segment (pitch, gains,
    the filter's coefficient), then its sample read, filtered and enveloped."""
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    regions = f64_2d(table, A_REGIONS)
    r = voice_ints[VS_REGION, slot]
    n = end - start
    step, target_left, target_right, cutoff_cents = segment_pitch_and_gains(table, voice_values, voice_ints, regions,
                                                                            slot, r, rate)
    gain_left, gain_right, end_left, end_right = glide_gains(table, voice_values, slot, target_left, target_right, n)
    per_sample = 1.0 / n  # one division for every glide's step
    g_start, g_step, k = filter_glide(voice_values, regions, slot, r, cutoff_cents, per_sample, rate)
    done = play(table, voice_values, voice_ints, regions, bus_audio, slot, r, start, end, step, gain_left, gain_right,
                (end_left - gain_left) * per_sample, (end_right - gain_right) * per_sample, g_start, g_step, k)
    voice_values[V_AGE, slot] += n
    if done:
        free_sample_voice(voice_values, voice_ints, i64_2d(table, A_SAMPLE_INTS), slot)
        return
    voice_values[V_GAIN_LEFT, slot] = end_left
    voice_values[V_GAIN_RIGHT, slot] = end_right


@realtime_inline
def segment_pitch_and_gains(table, voice_values, voice_ints, regions, slot, r, rate):
    """What moves once a segment: the voice's step through its sample (pitch bend, pitch LFO, controllers), the
    gains it aims at (amplitude LFO, controllers, pan), and the cents the controllers add to its cutoff."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    controllers = f64_2d(table, A_CONTROLLERS)
    instrument = voice_ints[VS_INSTRUMENT, slot]
    age = voice_values[V_AGE, slot]
    gain_factor, pan_shift, pitch_cents, cutoff_cents = 1.0, 0.0, 0.0, 0.0
    # Called only for the regions that have controllers to follow: measured, the call alone costs 10 ns.
    if regions[r, R_MODULATIONS] > 0.0 or regions[r, R_CROSSFADES] > 0.0:
        gain_factor, pan_shift, pitch_cents, cutoff_cents = controller_amounts(regions, r, controllers, instrument)
    wheel = instruments[I_PITCH_BEND, instrument]
    if instruments[I_BEND_RANGE, instrument] > 0.0:  # the keyboard setup's range
        bend = 100.0 * instruments[I_BEND_RANGE, instrument] * wheel
    else:
        bend = wheel * regions[r, R_BEND_UP] if wheel >= 0.0 else -wheel * regions[r, R_BEND_DOWN]
    pitch_cents += bend + lfo_value(regions, r, R_PITCH_LFO, age, rate)
    step = voice_values[V_PHASE_STEP, slot]
    if pitch_cents != 0.0:
        step = min(step * 2.0 ** (pitch_cents / 1200.0), regions[r, R_RATE_RATIO] * MAX_PITCH_RATIO)
    amp_lfo_db = lfo_value(regions, r, R_AMP_LFO, age, rate)
    if amp_lfo_db != 0.0:
        gain_factor *= 10.0 ** (amp_lfo_db / 20.0)
    level = voice_values[V_LEVEL, slot] * gain_factor * instruments[I_GAIN, instrument]
    if pan_shift == 0.0:  # the note's own pan, worked out when it started
        target_left = voice_values[V_PAN_LEFT, slot] * level
        target_right = voice_values[V_PAN_RIGHT, slot] * level
    else:
        angle = (min(1.0, max(-1.0, voice_values[V_PAN, slot] + pan_shift)) + 1.0) * math.pi / 4.0
        target_left = math.cos(angle) * level
        target_right = math.sin(angle) * level
    return step, target_left, target_right, cutoff_cents


@realtime_inline
def glide_gains(table, voice_values, slot, target_left, target_right, n):
    """The gains at the segment's start and end (left, right, end_left, end_right): controllers, LFOs and pan
    move the gains by steps once a segment, so the gains glide toward them (a time constant of a fifth of the
    dezipper time), and a controller's jump is no click."""
    gain_left = voice_values[V_GAIN_LEFT, slot]
    gain_right = voice_values[V_GAIN_RIGHT, slot]
    if gain_left < 0.0:
        gain_left = target_left
        gain_right = target_right
    end_left = target_left
    end_right = target_right
    if gain_left != target_left or gain_right != target_right:
        approach = glide_left(i64_1d(table, A_CONFIG), f64_1d(table, A_CONFIG_FLOAT), n)
        end_left = target_left + (gain_left - target_left) * approach
        end_right = target_right + (gain_right - target_right) * approach
        if abs(end_left - target_left) + abs(end_right - target_right) <= \
                GAIN_SETTLED * (target_left + target_right) + DENORMAL_FLOOR:
            end_left = target_left
            end_right = target_right
    return gain_left, gain_right, end_left, end_right


@realtime_inline
def filter_glide(voice_values, regions, slot, r, cutoff_cents, per_sample, rate):
    """The filter's coefficient at the segment's start, its step a sample, and its damping (g_start, g_step, k):
    the cutoff follows the filter envelope and the controllers, the coefficient gliding across the segment."""
    if int(regions[r, R_FIL_TYPE]) == FILTER_NONE:
        return 0.0, 0.0, 0.0
    envelope_cents = 0.0
    depth = regions[r, R_FILTER_ENVELOPE + ENV_DEPTH]
    if depth != 0.0:
        velocity = voice_values[V_VELOCITY, slot]
        released_at = voice_values[V_RELEASED_AT, slot]
        if released_at >= 0.0 and voice_values[V_RELEASE_LEVEL, slot] < 0.0:
            voice_values[V_RELEASE_LEVEL, slot] = envelope_value(regions, r, R_FILTER_ENVELOPE, velocity,
                                                                 released_at, -1.0, 0.0, rate)
        envelope_cents = depth * envelope_value(regions, r, R_FILTER_ENVELOPE, velocity, voice_values[V_AGE, slot],
                                                released_at, voice_values[V_RELEASE_LEVEL, slot], rate)
    k = voice_values[V_FILTER_K, slot]
    g_start = voice_values[V_FILTER_G, slot]
    cents = envelope_cents + cutoff_cents
    g_end = g_start
    if g_start < 0.0 or cents != voice_values[V_CUTOFF_CENTS, slot]:  # the power only when the cutoff moves
        cutoff = voice_values[V_CUTOFF, slot]
        if cents != 0.0:
            cutoff *= 2.0 ** (cents / 1200.0)
        g_end = prewarp(cutoff, rate)
        voice_values[V_CUTOFF_CENTS, slot] = cents
    if g_start < 0.0:
        g_start = g_end
    voice_values[V_FILTER_G, slot] = g_end
    return g_start, (g_end - g_start) * per_sample, k


@realtime_inline
def filter_states(voice_values, voice_ints, slot, biquad, a1, a2, a3):
    """The filter's four states, in the form the segment runs them: a two-pole low-pass at rest runs as the
    biquad it then is (fewer operations a sample). Its states change form when it comes to rest and when
    it starts to move again (its gains then are still those it rested at), and stay as they are while it
    rests."""
    state_1 = voice_values[V_FILTER_STATE, slot]
    state_2 = voice_values[V_FILTER_STATE_2, slot]
    state_3 = voice_values[V_FILTER_STATE_3, slot]
    state_4 = voice_values[V_FILTER_STATE_4, slot]
    if biquad != (voice_ints[VS_BIQUAD_STATES, slot] == 1):
        if biquad:
            state_1, state_2 = biquad_states(state_1, state_2, a1, a2, a3)
            state_3, state_4 = biquad_states(state_3, state_4, a1, a2, a3)
        else:
            state_1, state_2 = svf_states(state_1, state_2, a1, a2, a3)
            state_3, state_4 = svf_states(state_3, state_4, a1, a2, a3)
        voice_ints[VS_BIQUAD_STATES, slot] = 1 if biquad else 0
    return state_1, state_2, state_3, state_4


@realtime_inline
def filter_frame(left, right, stereo, filter_type, mode, biquad, states, coefficients):
    """A frame through the voice's filter (a mono sample is filtered once, and heard on both sides):
    (left, right, states). `coefficients`: the biquad's (b0, f1, f2), the state-variable filter's
    (a1, a2, a3), its damping k and the one-pole's g."""
    state_1, state_2, state_3, state_4 = states
    b0, f1, f2, a1, a2, a3, k, g = coefficients
    if biquad:
        left, state_1, state_2 = low_pass_biquad_step(left, state_1, state_2, b0, f1, f2)
        if stereo:
            right, state_3, state_4 = low_pass_biquad_step(right, state_3, state_4, b0, f1, f2)
    elif filter_type >= ONE_POLE_TYPES:
        left, state_1, state_2 = svf_step(left, state_1, state_2, a1, a2, a3, k, mode)
        if stereo:
            right, state_3, state_4 = svf_step(right, state_3, state_4, a1, a2, a3, k, mode)
    elif filter_type >= 0:
        left, state_1 = one_pole_tick(left, state_1, g, mode)
        if stereo:
            right, state_3 = one_pole_tick(right, state_3, g, mode)
    if not stereo:
        right = left
    return left, right, (state_1, state_2, state_3, state_4)


@realtime_inline
def play(table, voice_values, voice_ints, regions, bus_audio, slot, r, start, end, step, gain_left, gain_right,
         step_left, step_right, g_start, g_step, k):
    """Read, filter and envelope the voice's samples [start, end) into its bus, in runs over which the envelope
    stays in one stage (to the segment's end while it sustains). Returns whether the voice has ended."""
    s = voice_ints[VS_SAMPLE, slot]
    sample_ints = i64_2d(table, A_SAMPLE_INTS)
    cubic = i64_1d(table, A_CONFIG)[C_INTERPOLATION] == INTERPOLATION_CUBIC
    bus = voice_ints[VS_BUS, slot]
    data, available = sample_view(sample_ints, s)
    channels = sample_ints[SI_CHANNELS, s]
    frames_total = sample_ints[SI_FRAMES, s]
    loop = loop_bounds(regions, r, voice_ints[VS_LOOP_MODE, slot], available)
    fast_last = loop[5]
    filter_type = int(regions[r, R_FIL_TYPE])
    mode = filter_mode(filter_type)
    stereo = channels == 2
    g = g_start
    a1, a2, a3, step_1, step_2, step_3 = svf_gains_gliding(g, g_step, k, end - start)
    low_pass = filter_type >= ONE_POLE_TYPES and mode == FILTER_LOWPASS
    biquad = low_pass and g_step == 0.0
    b0, f1, f2 = low_pass_biquad(a1, a2, a3)
    states = filter_states(voice_values, voice_ints, slot, biquad, a1, a2, a3)
    steady = filter_type == FILTER_NONE or low_pass
    form = RUN_UNFILTERED if filter_type == FILTER_NONE else RUN_LOW_PASS_AT_REST if biquad else \
        RUN_LOW_PASS_SWEEPING
    position = voice_values[V_PHASE, slot]
    stage = voice_ints[VS_STAGE, slot]
    envelope = voice_values[V_ENVELOPE, slot]
    mul = voice_values[V_ENV_MUL, slot]
    add = voice_values[V_ENV_ADD, slot]
    left = voice_values[V_ENV_LEFT, slot]
    done = False
    starved = False
    i = start
    while i < end and not done:
        # At least a sample a run, so the loop ends within the segment whatever the envelope holds.
        run = end - i if left < 0.0 else max(1, min(end - i, int(left)))
        plain = 0
        if steady and position >= 1.0:
            # The common case in a loop of its own, free of the tests the general loop makes each sample
            # (measured for synth voices: 15 % faster; 256 stereo voices, whole process: 14-21 % less CPU):
            # its filter a low-pass (at rest, or sweeping with its envelope) or none, for as many samples as
            # every tap stays inside what is read (and inside the loop). Mono and stereo have loops of their
            # own: one loop for both made mono voices 23 % slower in the callback.
            if position + (run + 1) * step < fast_last:  # the whole run, a step to spare: no division
                plain = run
            else:
                plain = min(run, max(0, int((fast_last + 1.0 - position) / step) - 1))
            if stereo:
                position, states, envelope, gain_left, gain_right, a1, a2, a3 = play_stereo_run(cubic, form, (
                    data, bus_audio, bus, i, plain, position, step, (b0, f1, f2, a1, a2, a3, step_1, step_2,
                                                                     step_3),
                    states, envelope, mul, add, gain_left, gain_right, step_left, step_right))
            else:
                state_1, state_2, state_3, state_4 = states
                position, state_1, state_2, envelope, gain_left, gain_right, a1, a2, a3 = play_mono_run(cubic, form, (
                    data, bus_audio, bus, i, plain, position, step, (b0, f1, f2, a1, a2, a3, step_1, step_2,
                                                                     step_3),
                    state_1, state_2, envelope, mul, add, gain_left, gain_right, step_left, step_right))
                states = (state_1, state_2, state_3, state_4)
        for j in range(i + plain, i + run):
            left_in, right_in, ended, short = read_frame(data, channels, available, frames_total, position, cubic,
                                                         loop)
            if ended:
                done = True  # the sample has ended
                break
            starved = starved or short
            left_in, right_in, states = filter_frame(left_in, right_in, stereo, filter_type, mode, biquad, states,
                                                     (b0, f1, f2, a1, a2, a3, k, g))
            if not biquad and filter_type >= ONE_POLE_TYPES:
                a1 += step_1
                a2 += step_2
                a3 += step_3
            elif not biquad and filter_type >= 0:
                g += g_step
            envelope, gain_left, gain_right = play_sample(bus_audio, bus, j, left_in, right_in, envelope, mul, add,
                                                          gain_left, gain_right, step_left, step_right)
            position = wrap_into_loop(position + step, loop)
        if done:
            break
        i += run
        stage, envelope, mul, add, left, done = next_run(voice_values, voice_ints, slot, stage, envelope, mul, add,
                                                         left, run)
    if starved:
        report_starved(table, voice_ints, s, slot, voice_values[V_NOTE_ID, slot])
    if not done:
        state_1, state_2, state_3, state_4 = states
        voice_values[V_PHASE, slot] = position
        voice_values[V_ENVELOPE, slot] = envelope
        voice_values[V_ENV_LEFT, slot] = left
        voice_ints[VS_STAGE, slot] = stage
        voice_values[V_FILTER_STATE, slot], voice_values[V_FILTER_STATE_2, slot] = flush_states(state_1, state_2)
        voice_values[V_FILTER_STATE_3, slot], voice_values[V_FILTER_STATE_4, slot] = flush_states(state_3, state_4)
    return done


@realtime
def filter_mode(filter_type):
    """The filter kernels' mode for a region's fil_type (FILTER_TYPES: lpf_1p, hpf_1p, lpf_2p, hpf_2p, bpf_2p,
    brf_2p). A chain of comparisons, not a tuple lookup: indexing a tuple could raise."""
    if filter_type == 1 or filter_type == 3:
        return FILTER_HIGHPASS
    if filter_type == 4:
        return FILTER_BANDPASS
    if filter_type == 5:
        return FILTER_NOTCH
    return FILTER_LOWPASS


@realtime
def lfo_value(regions, r, lfo, age, rate):
    """An LFO's value (−depth..depth) `age` samples after the note, after its delay and fade-in."""
    depth = regions[r, lfo + LFO_DEPTH]
    frequency = regions[r, lfo + LFO_FREQUENCY]
    if depth == 0.0 or frequency <= 0.0:
        return 0.0
    t = age / rate - regions[r, lfo + LFO_DELAY]
    if t <= 0.0:
        return 0.0
    fade = regions[r, lfo + LFO_FADE]
    if fade > 0.0 and t < fade:
        depth *= t / fade
    return depth * math.sin(TWO_PI * frequency * t)


@realtime
def controller_amounts(regions, r, controllers, instrument):
    """What the controllers add now: (gain factor, pan, cents of pitch, cents of cutoff)."""
    gain = 1.0
    pan = 0.0
    pitch = 0.0
    cutoff = 0.0
    for m in range(int(regions[r, R_MODULATIONS])):
        at = R_MODULATION + m * MODULATION_FIELDS
        value = controllers[instrument, int(regions[r, at + MOD_CC])]
        target = regions[r, at + MOD_TARGET]
        depth = regions[r, at + MOD_DEPTH]
        if target == TARGET_AMPLITUDE:
            gain *= max(0.0, 1.0 + (value - 1.0) * depth / 100.0) if depth >= 0.0 else 1.0 + value * depth / 100.0
        elif target == TARGET_VOLUME:
            gain *= 10.0 ** (value * depth / 20.0)
        elif target == TARGET_PAN:
            pan += value * depth / 100.0
        elif target == TARGET_PITCH:
            pitch += value * depth
        elif target == TARGET_CUTOFF:
            cutoff += value * depth
    for x in range(int(regions[r, R_CROSSFADES])):
        at = R_CROSSFADE + x * CROSSFADE_FIELDS
        value = controllers[instrument, int(regions[r, at + XF_CC])] * 127.0
        gain *= crossfade_gain(value, regions[r, at + XF_IN_LOW], regions[r, at + XF_IN_HIGH],
                               regions[r, at + XF_OUT_LOW], regions[r, at + XF_OUT_HIGH], regions[r, R_XF_CCCURVE])
    return gain, pan, pitch, cutoff
