"""Sample voices: choosing regions for a note, and playing them.

A note on a sampler instrument starts one voice for every region that matches it: key,
velocity, keyswitch, controller conditions, round robin and random range, and trigger
(attack, first, legato; release regions start at the note's release). Each voice reads its
sample from the preloaded head, or from the full data once the loader has read that far;
a voice that reaches frames not read yet plays silence, stays in time, and is reported.

Per sample, a voice interpolates its sample (4-point cubic Hermite, or linear), runs its
filter, and follows its DAHDSR amplitude envelope as level = level * mul + add, one linear
or exponential segment at a time, ending on an exact zero. Pitch bend, LFOs, controllers
and the filter envelope move once per rendered segment (at most a block), the filter's
coefficient gliding across it.
"""

import math

import numpy as np
from numba import carray

from .dsp.filters import (
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
from .dsp.interpolation import interpolate
from .realtime import DENORMAL_FLOOR, realtime
from . import events as ev
from .envelope import (
    RELEASE_TIME_CONSTANTS,
    enter_release,
    enter_stage,
    glide_left,
    next_stage,
    play_sample,
    start_fade,
)
from .intrinsics import address_as_void_pointer, load_acquire
from .memory import f64_1d, f64_2d, i64_1d, i64_2d, notify
from .regiontable import (
    COND_CC,
    COND_HIGH,
    COND_LOW,
    CONDITION_FIELDS,
    CROSSFADE_FIELDS,
    CURVE_POWER,
    ENV_ATTACK,
    ENV_DECAY,
    ENV_DELAY,
    ENV_DEPTH,
    ENV_HOLD,
    ENV_RELEASE,
    ENV_START,
    ENV_SUSTAIN,
    ENV_VEL2ATTACK,
    ENV_VEL2DECAY,
    ENV_VEL2DELAY,
    ENV_VEL2HOLD,
    ENV_VEL2RELEASE,
    ENV_VEL2SUSTAIN,
    FILTER_NONE,
    LFO_DELAY,
    MAX_PITCH_RATIO,
    LFO_DEPTH,
    LFO_FADE,
    LFO_FREQUENCY,
    LOOP_CONTINUOUS,
    LOOP_SUSTAIN,
    MOD_CC,
    MOD_DEPTH,
    MOD_TARGET,
    MODULATION_FIELDS,
    OFF_FAST,
    OFF_TIME,
    R_AMP_ENVELOPE,
    R_AMP_LFO,
    R_AMP_VELTRACK,
    R_BEND_DOWN,
    R_BEND_UP,
    R_CONDITION,
    R_CONDITIONS,
    R_CROSSFADE,
    R_CROSSFADES,
    R_CUTOFF,
    R_END,
    R_FIL_KEYCENTER,
    R_FIL_KEYTRACK,
    R_FIL_TYPE,
    R_FIL_VELTRACK,
    R_FILTER_ENVELOPE,
    R_GAIN,
    R_GROUP,
    R_HIKEY,
    R_HIPROG,
    R_HIRAND,
    R_HIVEL,
    R_KEYCENTER,
    R_KEYTRACK,
    R_LOKEY,
    R_LOOP_END,
    R_LOOP_MODE,
    R_LOOP_START,
    R_LOPROG,
    R_LORAND,
    R_LOVEL,
    R_MODULATION,
    R_MODULATIONS,
    R_NOTE_POLYPHONY,
    R_OFF_BY,
    R_OFF_MODE,
    R_OFF_TIME,
    R_OFFSET,
    R_PAN,
    R_PITCH_LFO,
    R_PITCH_VELTRACK,
    R_POLYPHONY,
    R_RATE_RATIO,
    R_RESONANCE,
    R_RT_DECAY,
    R_SAMPLE,
    R_SEQ_LENGTH,
    R_SEQ_POSITION,
    R_SW_LAST,
    R_TRIGGER,
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
    TRIGGER_FIRST,
    TRIGGER_LEGATO,
    TRIGGER_RELEASE,
    TRIGGER_RELEASE_KEY,
    XF_CC,
    XF_IN_HIGH,
    XF_IN_LOW,
    XF_OUT_HIGH,
    XF_OUT_LOW,
)
from .state import (
    A_CONFIG,
    A_CONFIG_FLOAT,
    A_CONTROLLERS,
    A_HELD_NOTES,
    A_INSTRUMENTS,
    A_KERNEL,
    A_REGION_COUNTERS,
    A_REGIONS,
    A_SAMPLE_INTS,
    A_TELEMETRY,
    A_VOICE_INTS,
    A_VOICE_VALUES,
    C_INTERPOLATION,
    C_POLYPHONY,
    C_SAMPLE_RATE,
    CF_FADE_SAMPLES,
    H_BUS,
    H_INSTRUMENT,
    H_KEY,
    H_NOTE_ID,
    H_SAMPLE,
    H_VELOCITY,
    I_BEND_RANGE,
    I_GAIN,
    I_HELD_NOTES,
    I_KIND,
    I_PITCH_BEND,
    I_PROGRAM,
    I_REGION_COUNT,
    I_REGION_FIRST,
    I_SW_HIKEY,
    I_SW_LAST,
    I_SW_LOKEY,
    INTERPOLATION_CUBIC,
    K_RANDOM,
    KIND_SAMPLER,
    SI_CHANNELS,
    SI_FRAMES,
    SI_FRAMES_READY,
    SI_FULL_ADDRESS,
    SI_HEAD_ADDRESS,
    SI_HEAD_FRAMES,
    SI_REQUESTED,
    SI_VOICES,
    STAGE_ATTACK,
    STAGE_DELAY,
    STAGE_FADE,
    STAGE_FREE,
    STAGE_RELEASE,
    T_NOTES_REFUSED,
    T_SAMPLES_NOT_READY,
    T_VOICES_STOLEN,
    V_AGE,
    V_ATTACK_CURVE,
    V_ATTACK_SAMPLES,
    V_CUTOFF,
    V_CUTOFF_CENTS,
    V_DECAY_SAMPLES,
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
    V_HOLD_SAMPLES,
    V_KEY,
    V_LEVEL,
    V_NOTE_ID,
    V_PAN,
    V_PAN_LEFT,
    V_PAN_RIGHT,
    V_PHASE,
    V_PHASE_STEP,
    V_RELEASE_LEVEL,
    V_RELEASE_SAMPLES,
    V_RELEASED_AT,
    V_START_LEVEL,
    V_STARTED_AT,
    V_SUSTAIN,
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
from .triggers import group_is_closed
from .voices import allocate_voice

TWO_PI = 2.0 * math.pi


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
ONE_POLE_TYPES = 2  # FILTER_TYPES begins with lpf_1p, hpf_1p
# The taps around a read position, as unsigned offsets for `play_mono_run`'s indexing.
TAP_BEFORE, TAP_AFTER, TAP_AFTER_NEXT = np.uint64(1), np.uint64(1), np.uint64(2)
SILENT_FRAME = np.float32(0.0)
GAIN_SETTLED = 1e-6  # a gliding gain this close to its target (relative) takes it


# Choosing regions.

@realtime
def next_random(kernel):
    """A uniform number in [0, 1) from the kernel's xorshift64* generator (renders repeat exactly)."""
    x = kernel[K_RANDOM]
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    kernel[K_RANDOM] = x
    return float((x * 2685821657736338717) >> 11 & ((1 << 53) - 1)) / 9007199254740992.0


@realtime
def crossfade_gain(value, in_low, in_high, out_low, out_high, curve):
    """Gain of a crossfade at `value`: rising over [in_low, in_high], falling over [out_low, out_high]."""
    position = 1.0
    if in_high > in_low and value < in_high:
        position = max(0.0, (value - in_low) / (in_high - in_low))
    if out_high > out_low and value > out_low:
        position = min(position, max(0.0, (out_high - value) / (out_high - out_low)))
    if curve == CURVE_POWER:
        return math.sqrt(position)
    return position


@realtime
def region_accepts(regions, r, controllers, instrument, key, velocity127, switch, program):
    """Whether region row r plays key at velocity127, keyswitch `switch`, the channel's `program` and
    the controllers as they stand."""
    if key < regions[r, R_LOKEY] or key > regions[r, R_HIKEY]:
        return False
    if velocity127 < regions[r, R_LOVEL] or velocity127 > regions[r, R_HIVEL]:
        return False
    if program < regions[r, R_LOPROG] or program > regions[r, R_HIPROG]:
        return False
    if regions[r, R_SW_LAST] >= 0.0 and regions[r, R_SW_LAST] != switch:
        return False
    for c in range(int(regions[r, R_CONDITIONS])):
        at = R_CONDITION + c * CONDITION_FIELDS
        value = controllers[instrument, int(regions[r, at + COND_CC])] * 127.0
        if value < regions[r, at + COND_LOW] or value > regions[r, at + COND_HIGH]:
            return False
    return True


@realtime
def take_turn(regions, counters, r, random):
    """Round robin and random layers: whether region r plays this time (advancing its turn)."""
    length = int(regions[r, R_SEQ_LENGTH])
    turn = counters[r] % length
    counters[r] += 1
    if turn != int(regions[r, R_SEQ_POSITION]) - 1:
        return False
    return regions[r, R_LORAND] <= random < regions[r, R_HIRAND] or (random == 1.0 and regions[r, R_HIRAND] >= 1.0)


@realtime
def sampler_note_on(table, sample, note_id, instrument, key, velocity, bus, pan):
    """A note on a sampler: a keyswitch, or one voice per matching attack region. Returns 0, or a REFUSED_* reason."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    regions = f64_2d(table, A_REGIONS)
    counters = i64_1d(table, A_REGION_COUNTERS)
    controllers = f64_2d(table, A_CONTROLLERS)
    kernel = i64_1d(table, A_KERNEL)
    if instruments[I_SW_LOKEY, instrument] <= key <= instruments[I_SW_HIKEY, instrument]:
        instruments[I_SW_LAST, instrument] = int(key)
        return 0
    velocity127 = min(127.0, max(1.0, math.floor(velocity * 127.0 + 0.5)))
    held_before = instruments[I_HELD_NOTES, instrument]
    hold_note(table, note_id, instrument, key, velocity, sample, bus)
    random = next_random(kernel)
    switch = instruments[I_SW_LAST, instrument]
    program = instruments[I_PROGRAM, instrument]
    first = int(instruments[I_REGION_FIRST, instrument])
    refused = 0
    for r in range(first, first + int(instruments[I_REGION_COUNT, instrument])):
        trigger = regions[r, R_TRIGGER]
        if trigger == TRIGGER_RELEASE or trigger == TRIGGER_RELEASE_KEY:
            continue
        if (trigger == TRIGGER_FIRST and held_before > 0) or (trigger == TRIGGER_LEGATO and held_before == 0):
            continue
        if not region_accepts(regions, r, controllers, instrument, key, velocity127, switch, program):
            continue
        if not take_turn(regions, counters, r, random):
            continue
        result = start_sample_voice(table, sample, note_id, instrument, r, key, velocity, velocity127, bus, pan, 1.0)
        if result > 0:
            refused = result
    return refused


@realtime
def hold_note(table, note_id, instrument, key, velocity, sample, bus):
    """Remember a held note until its release. With every row taken (notes whose release never
    came: a part cut off by a cue), the oldest is forgotten: it will have no release regions."""
    held = f64_2d(table, A_HELD_NOTES)
    instruments = f64_2d(table, A_INSTRUMENTS)
    row = -1
    for candidate in range(held.shape[0]):
        if held[candidate, H_INSTRUMENT] < 0.0:
            row = candidate
            break
        if row < 0 or held[candidate, H_SAMPLE] < held[row, H_SAMPLE]:
            row = candidate
    if held[row, H_INSTRUMENT] >= 0.0:
        instruments[I_HELD_NOTES, int(held[row, H_INSTRUMENT])] -= 1.0
    held[row, H_BUS] = bus
    held[row, H_NOTE_ID] = note_id
    held[row, H_INSTRUMENT] = instrument
    held[row, H_KEY] = key
    held[row, H_VELOCITY] = velocity
    held[row, H_SAMPLE] = sample
    instruments[I_HELD_NOTES, instrument] += 1.0


@realtime
def sampler_note_off(table, sample, note_id):
    """The release of a note held on a sampler: its release regions start, attenuated by rt_decay
    for as long as the note was held."""
    held = f64_2d(table, A_HELD_NOTES)
    instruments = f64_2d(table, A_INSTRUMENTS)
    regions = f64_2d(table, A_REGIONS)
    counters = i64_1d(table, A_REGION_COUNTERS)
    controllers = f64_2d(table, A_CONTROLLERS)
    rate = float(i64_1d(table, A_CONFIG)[C_SAMPLE_RATE])
    for row in range(held.shape[0]):
        if held[row, H_INSTRUMENT] < 0.0 or held[row, H_NOTE_ID] != note_id:
            continue
        instrument = int(held[row, H_INSTRUMENT])
        key = held[row, H_KEY]
        velocity = held[row, H_VELOCITY]
        held_seconds = (sample - held[row, H_SAMPLE]) / rate
        bus = int(held[row, H_BUS])
        held[row, H_INSTRUMENT] = -1.0
        instruments[I_HELD_NOTES, instrument] -= 1.0
        if instruments[I_KIND, instrument] != KIND_SAMPLER or group_is_closed(table, note_id):
            return  # the instrument is gone, or the note's part was stopped: no release sound
        velocity127 = min(127.0, max(1.0, math.floor(velocity * 127.0 + 0.5)))
        random = next_random(i64_1d(table, A_KERNEL))
        switch = instruments[I_SW_LAST, instrument]
        program = instruments[I_PROGRAM, instrument]
        first = int(instruments[I_REGION_FIRST, instrument])
        refused = 0
        for r in range(first, first + int(instruments[I_REGION_COUNT, instrument])):
            trigger = regions[r, R_TRIGGER]
            if trigger != TRIGGER_RELEASE and trigger != TRIGGER_RELEASE_KEY:
                continue
            if not region_accepts(regions, r, controllers, instrument, key, velocity127, switch, program):
                continue
            if not take_turn(regions, counters, r, random):
                continue
            decay = 10.0 ** (-regions[r, R_RT_DECAY] * held_seconds / 20.0)
            # The release voice is a new note of the same group, so stopping a part silences it too.
            result = start_sample_voice(table, sample, note_id, instrument, r, key, velocity, velocity127, bus, 0.0,
                                        decay)
            if result > 0:
                refused = result
        if refused > 0:  # counted once per release, as a note-on is once per note
            i64_1d(table, A_TELEMETRY)[T_NOTES_REFUSED] += 1
            notify(table, sample, ev.NOTE_REFUSED, note_id, refused, instrument)
        return


@realtime
def forget_held_notes(table):
    """Panic: no note is held any more, and no release region will sound for them."""
    held = f64_2d(table, A_HELD_NOTES)
    instruments = f64_2d(table, A_INSTRUMENTS)
    for row in range(held.shape[0]):
        held[row, H_INSTRUMENT] = -1.0
    for instrument in range(instruments.shape[1]):
        instruments[I_HELD_NOTES, instrument] = 0.0


# Starting voices.

@realtime
def start_sample_voice(table, sample, note_id, instrument, r, key, velocity, velocity127, bus, pan, extra_gain):
    """Start a voice on region row r. Returns 0 or REFUSED_*."""
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    regions = f64_2d(table, A_REGIONS)
    sample_ints = i64_2d(table, A_SAMPLE_INTS)
    config = i64_1d(table, A_CONFIG)
    config_float = f64_1d(table, A_CONFIG_FLOAT)
    telemetry = i64_1d(table, A_TELEMETRY)
    rate = float(config[C_SAMPLE_RATE])
    fade_samples = config_float[CF_FADE_SAMPLES]
    choke_and_limit(voice_values, voice_ints, regions, instrument, r, note_id, key, rate, fade_samples)
    if regions[r, R_SAMPLE] < 0.0:
        return 0  # a silent region (its sample missing, or end=-1): it chokes, and sounds nothing
    slot, stolen = allocate_voice(voice_values, voice_ints, fade_samples, config[C_POLYPHONY])
    if stolen:
        telemetry[T_VOICES_STOLEN] += 1
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

    envelope = R_AMP_ENVELOPE
    voice_values[V_ATTACK_SAMPLES, slot] = stage_samples(regions, r, envelope, ENV_ATTACK, ENV_VEL2ATTACK, velocity,
                                                         rate)
    voice_values[V_HOLD_SAMPLES, slot] = stage_samples(regions, r, envelope, ENV_HOLD, ENV_VEL2HOLD, velocity, rate)
    voice_values[V_DECAY_SAMPLES, slot] = stage_samples(regions, r, envelope, ENV_DECAY, ENV_VEL2DECAY, velocity, rate)
    voice_values[V_RELEASE_SAMPLES, slot] = max(1.0, stage_samples(regions, r, envelope, ENV_RELEASE,
                                                                   ENV_VEL2RELEASE, velocity, rate))
    voice_values[V_SUSTAIN, slot] = min(1.0, max(0.0, (regions[r, envelope + ENV_SUSTAIN] +
                                                       regions[r, envelope + ENV_VEL2SUSTAIN] * velocity) / 100.0))
    voice_values[V_START_LEVEL, slot] = regions[r, envelope + ENV_START] / 100.0
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
                stage_samples(regions, r, envelope, ENV_DELAY, ENV_VEL2DELAY, velocity, rate),
                voice_values[V_START_LEVEL, slot])
    if voice_ints[VS_STAGE, slot] == STAGE_FREE:
        return 0  # no attack, hold, decay nor sustain: nothing to sound
    sample_ints[SI_VOICES, sample_slot] += 1
    if sample_ints[SI_FRAMES, sample_slot] > sample_ints[SI_HEAD_FRAMES, sample_slot] and \
            sample_ints[SI_REQUESTED, sample_slot] == 0:
        sample_ints[SI_REQUESTED, sample_slot] = 1
        notify(table, sample, ev.SAMPLE_WANTED, sample_slot, 0.0, 0.0)
    return 0


@realtime
def stage_samples(regions, r, envelope, stage, vel2stage, velocity, rate):
    return max(0.0, math.floor((regions[r, envelope + stage] + regions[r, envelope + vel2stage] * velocity) * rate
                               + 0.5))


@realtime
def choke_and_limit(voice_values, voice_ints, regions, instrument, r, note_id, key, rate, fade_samples):
    """Before region r starts: voices whose off_by names its group stop (as their off_mode says), and
    the oldest voices of its group (or of its key in the group) make room for the group's polyphony."""
    group = regions[r, R_GROUP]
    polyphony = regions[r, R_POLYPHONY]
    note_polyphony = regions[r, R_NOTE_POLYPHONY]
    in_group = 0
    on_key = 0
    oldest_in_group = -1
    oldest_on_key = -1
    for slot in range(voice_ints.shape[1]):
        stage = voice_ints[VS_STAGE, slot]
        if stage == STAGE_FREE or stage == STAGE_FADE or voice_ints[VS_KIND, slot] != KIND_SAMPLER or \
                voice_ints[VS_INSTRUMENT, slot] != instrument:
            continue
        other = voice_ints[VS_REGION, slot]
        if group != 0.0 and regions[other, R_OFF_BY] == group and voice_values[V_NOTE_ID, slot] != note_id:
            off_mode = regions[other, R_OFF_MODE]
            if off_mode == OFF_FAST:
                start_fade(voice_values, voice_ints, slot, fade_samples)
            elif off_mode == OFF_TIME:
                start_fade(voice_values, voice_ints, slot, max(fade_samples, regions[other, R_OFF_TIME] * rate))
            else:
                enter_release(voice_values, voice_ints, slot)
            continue
        if regions[other, R_GROUP] != group:
            continue
        in_group += 1
        if oldest_in_group < 0 or voice_values[V_STARTED_AT, slot] < voice_values[V_STARTED_AT, oldest_in_group]:
            oldest_in_group = slot
        if voice_values[V_KEY, slot] == key:
            on_key += 1
            if oldest_on_key < 0 or voice_values[V_STARTED_AT, slot] < voice_values[V_STARTED_AT, oldest_on_key]:
                oldest_on_key = slot
    if polyphony > 0.0 and in_group >= polyphony:
        start_fade(voice_values, voice_ints, oldest_in_group, fade_samples)
    elif note_polyphony > 0.0 and on_key >= note_polyphony:
        start_fade(voice_values, voice_ints, oldest_on_key, fade_samples)


# Playing voices.

@realtime
def envelope_value(regions, r, envelope, velocity, age, released_at, release_level, rate):
    """A DAHDSR envelope's level (0..1) `age` samples after the note, released at `released_at`
    (negative: held) from `release_level`: for the filter envelope, evaluated once a segment."""
    delay = (regions[r, envelope + ENV_DELAY] + regions[r, envelope + ENV_VEL2DELAY] * velocity) * rate
    attack = (regions[r, envelope + ENV_ATTACK] + regions[r, envelope + ENV_VEL2ATTACK] * velocity) * rate
    hold = (regions[r, envelope + ENV_HOLD] + regions[r, envelope + ENV_VEL2HOLD] * velocity) * rate
    decay = (regions[r, envelope + ENV_DECAY] + regions[r, envelope + ENV_VEL2DECAY] * velocity) * rate
    sustain = min(1.0, max(0.0, (regions[r, envelope + ENV_SUSTAIN] + regions[r, envelope + ENV_VEL2SUSTAIN]
                                 * velocity) / 100.0))
    if released_at >= 0.0:
        release = max(1.0, (regions[r, envelope + ENV_RELEASE] + regions[r, envelope + ENV_VEL2RELEASE] * velocity)
                      * rate)
        level = release_level * math.exp(-RELEASE_TIME_CONSTANTS * (age - released_at) / release)
        return level if level > DENORMAL_FLOOR else 0.0
    t = age - delay
    if t < 0.0:
        return 0.0
    start = regions[r, envelope + ENV_START] / 100.0
    if t < attack:
        return start + (1.0 - start) * t / attack
    t -= attack + hold
    if t < 0.0:
        return 1.0
    if t < decay:
        return sustain + (1.0 - sustain) * math.exp(-RELEASE_TIME_CONSTANTS * t / decay)
    return sustain


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


@realtime
def sample_frame(data, channels, frames_available, index, channel, loop_mode, loop_start, loop_end, end):
    """One channel of frame `index` as the voice hears it: wrapped into its loop, silent outside the
    sample and beyond what is read so far."""
    if (loop_mode == LOOP_CONTINUOUS or loop_mode == LOOP_SUSTAIN) and index > loop_end:
        index = loop_start + (index - loop_start) % (loop_end - loop_start + 1)
    if index < 0 or index > end or index >= frames_available:
        return SILENT_FRAME
    return data[index * channels + channel]


@realtime
def edge_taps(data, channels, available, frames_total, index, t, cubic, loop_mode, loop_start, loop_end, last_frame,
              looping):
    """Both channels at `index` + `t` where the taps reach past the sample's start or end, a loop's end, or
    what is read so far (left, right, whether the voice outran the loader): the rare case, kept out of
    the voice's loop."""
    # The farthest frame the taps read (past a loop's end, they read its start again).
    farthest = min(index + 2, loop_end) if looping else index + 2
    starved = farthest >= available and available < frames_total and farthest <= last_frame
    left = edge_channel(data, channels, available, index, t, cubic, 0, loop_mode, loop_start, loop_end, last_frame)
    right = left
    if channels == 2:
        right = edge_channel(data, channels, available, index, t, cubic, 1, loop_mode, loop_start, loop_end,
                             last_frame)
    return left, right, starved


@realtime
def edge_channel(data, channels, available, index, t, cubic, channel, loop_mode, loop_start, loop_end, last_frame):
    """One channel of `edge_taps`: its four frames each as the voice hears it, interpolated."""
    return interpolate(
        sample_frame(data, channels, available, index - 1, channel, loop_mode, loop_start, loop_end, last_frame),
        sample_frame(data, channels, available, index, channel, loop_mode, loop_start, loop_end, last_frame),
        sample_frame(data, channels, available, index + 1, channel, loop_mode, loop_start, loop_end, last_frame),
        sample_frame(data, channels, available, index + 2, channel, loop_mode, loop_start, loop_end, last_frame),
        t, cubic)


@realtime
def play_mono_run(cubic, filtered, run):
    """`mono_run(cubic, filtered, *run)` with its two flags as constants: numba compiles a loop for each
    pair, free of their tests (LLVM does not take them out of the loop by itself)."""
    if cubic:
        if filtered:
            return mono_run(True, True, *run)
        return mono_run(True, False, *run)
    if filtered:
        return mono_run(False, True, *run)
    return mono_run(False, False, *run)


@realtime
def mono_run(cubic, filtered, data, bus_audio, bus, begin, count, position, step, b0, f1, f2, state_1, state_2,
             envelope, mul, add, gain_left, gain_right, step_left, step_right):
    """`count` samples of a mono sample voice whose four taps all lie inside what is read (and inside its loop),
    through a low-pass at rest (the biquad `low_pass_biquad` gives, with its states) or none: the common case,
    in a loop of its own free of the tests the general loop makes each sample. Returns (position, state_1,
    state_2, envelope, gain_left, gain_right)."""
    # Unsigned indices: numba indexes with them without testing for a negative index.
    for j in range(np.uint64(begin), np.uint64(begin + count)):
        index = np.uint64(position)
        value = interpolate(data[index - TAP_BEFORE], data[index], data[index + TAP_AFTER],
                            data[index + TAP_AFTER_NEXT], position - index, cubic)
        if filtered:
            value, state_1, state_2 = low_pass_biquad_step(value, state_1, state_2, b0, f1, f2)
        envelope, gain_left, gain_right = play_sample(bus_audio, bus, j, value, value, envelope, mul, add,
                                                      gain_left, gain_right, step_left, step_right)
        position += step
    return position, state_1, state_2, envelope, gain_left, gain_right


@realtime
def render_sample_voice(table, slot, bus_audio, start, end, rate):
    """Add sample voice `slot`'s samples [start, end) into its bus."""
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    regions = f64_2d(table, A_REGIONS)
    sample_ints = i64_2d(table, A_SAMPLE_INTS)
    instruments = f64_2d(table, A_INSTRUMENTS)
    controllers = f64_2d(table, A_CONTROLLERS)
    r = voice_ints[VS_REGION, slot]
    s = voice_ints[VS_SAMPLE, slot]
    instrument = voice_ints[VS_INSTRUMENT, slot]
    bus = voice_ints[VS_BUS, slot]
    cubic = i64_1d(table, A_CONFIG)[C_INTERPOLATION] == INTERPOLATION_CUBIC

    # Where the voice reads: the full data as far as it is read, else the preloaded head.
    channels = sample_ints[SI_CHANNELS, s]
    frames_total = sample_ints[SI_FRAMES, s]
    ready = load_acquire(sample_ints[SI_FRAMES_READY], s)
    if ready > sample_ints[SI_HEAD_FRAMES, s]:
        address = sample_ints[SI_FULL_ADDRESS, s]
        available = ready
    else:
        address = sample_ints[SI_HEAD_ADDRESS, s]
        available = sample_ints[SI_HEAD_FRAMES, s]
    data = carray(address_as_void_pointer(address), (available * channels,), np.float32)

    # What moves once a segment: pitch, gain, pan, cutoff.
    age = voice_values[V_AGE, slot]
    velocity = voice_values[V_VELOCITY, slot]
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
    # Controllers, LFOs and pan move the gains once a segment, by steps: the gains glide toward them
    # (a time constant of a fifth of the dezipper time), so that a controller's jump is no click.
    gain_left = voice_values[V_GAIN_LEFT, slot]
    gain_right = voice_values[V_GAIN_RIGHT, slot]
    if gain_left < 0.0:
        gain_left = target_left
        gain_right = target_right
    end_left = target_left
    end_right = target_right
    if gain_left != target_left or gain_right != target_right:
        approach = glide_left(i64_1d(table, A_CONFIG), f64_1d(table, A_CONFIG_FLOAT), end - start)
        end_left = target_left + (gain_left - target_left) * approach
        end_right = target_right + (gain_right - target_right) * approach
        if abs(end_left - target_left) + abs(end_right - target_right) <= \
                GAIN_SETTLED * (target_left + target_right) + DENORMAL_FLOOR:
            end_left = target_left
            end_right = target_right
    per_sample = 1.0 / (end - start)  # one division for every glide's step
    step_left = (end_left - gain_left) * per_sample
    step_right = (end_right - gain_right) * per_sample

    filter_type = int(regions[r, R_FIL_TYPE])
    g_start = 0.0
    g_step = 0.0
    k = 0.0
    if filter_type != FILTER_NONE:
        envelope_cents = 0.0
        depth = regions[r, R_FILTER_ENVELOPE + ENV_DEPTH]
        if depth != 0.0:
            released_at = voice_values[V_RELEASED_AT, slot]
            if released_at >= 0.0 and voice_values[V_RELEASE_LEVEL, slot] < 0.0:
                voice_values[V_RELEASE_LEVEL, slot] = envelope_value(regions, r, R_FILTER_ENVELOPE, velocity,
                                                                     released_at, -1.0, 0.0, rate)
            envelope_cents = depth * envelope_value(regions, r, R_FILTER_ENVELOPE, velocity, age, released_at,
                                                    voice_values[V_RELEASE_LEVEL, slot], rate)
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
        g_step = (g_end - g_start) * per_sample
        voice_values[V_FILTER_G, slot] = g_end
    mode = filter_mode(filter_type)
    stereo = channels == 2
    state_1 = voice_values[V_FILTER_STATE, slot]
    state_2 = voice_values[V_FILTER_STATE_2, slot]
    state_3 = voice_values[V_FILTER_STATE_3, slot]
    state_4 = voice_values[V_FILTER_STATE_4, slot]

    loop_mode = voice_ints[VS_LOOP_MODE, slot]
    loop_start = int(regions[r, R_LOOP_START])
    loop_end = int(regions[r, R_LOOP_END])
    last_frame = int(regions[r, R_END])
    looping = loop_mode == LOOP_CONTINUOUS or loop_mode == LOOP_SUSTAIN
    loop_length = float(loop_end - loop_start + 1)
    wrap_at = loop_end + 2.0
    # Frames whose four taps lie inside what is read and inside the loop need no wrapping.
    fast_last = min(available - 1, loop_end if looping else last_frame) - 2

    position = voice_values[V_PHASE, slot]
    stage = voice_ints[VS_STAGE, slot]
    envelope = voice_values[V_ENVELOPE, slot]
    mul = voice_values[V_ENV_MUL, slot]
    add = voice_values[V_ENV_ADD, slot]
    left = voice_values[V_ENV_LEFT, slot]
    g = g_start
    gliding = g_step != 0.0
    a1, a2, a3, step_1, step_2, step_3 = svf_gains_gliding(g, g_step, k, end - start)
    # A two-pole low-pass at rest runs as the biquad it then is: fewer operations a sample. Its states
    # change form when it comes to rest and when it starts to move again (its gains then are still
    # those it rested at), and stay as they are while it rests.
    biquad = filter_type >= ONE_POLE_TYPES and mode == FILTER_LOWPASS and not gliding
    b0, f1, f2 = low_pass_biquad(a1, a2, a3)
    if biquad != (voice_ints[VS_BIQUAD_STATES, slot] == 1):
        if biquad:
            state_1, state_2 = biquad_states(state_1, state_2, a1, a2, a3)
            state_3, state_4 = biquad_states(state_3, state_4, a1, a2, a3)
        else:
            state_1, state_2 = svf_states(state_1, state_2, a1, a2, a3)
            state_3, state_4 = svf_states(state_3, state_4, a1, a2, a3)
        voice_ints[VS_BIQUAD_STATES, slot] = 1 if biquad else 0
    steady = channels == 1 and (filter_type == FILTER_NONE or biquad)
    done = False
    starved = False
    # In runs over which the envelope stays in one stage (to the segment's end while it sustains).
    i = start
    while i < end and not done:
        # At least a sample a run, so the loop ends within the segment whatever the envelope holds.
        run = end - i if left < 0.0 else max(1, min(end - i, int(left)))
        plain = 0
        if steady and position >= 1.0:
            # The common case in a loop of its own, free of the tests the general loop makes each sample
            # (measured for synth voices: 15 % faster): a mono sample, its filter a low-pass at rest or
            # none, for as many samples as every tap stays inside what is read (and inside the loop).
            if position + (run + 1) * step < fast_last:  # the whole run, a step to spare: no division
                plain = run
            else:
                plain = min(run, max(0, int((fast_last + 1.0 - position) / step) - 1))
            position, state_1, state_2, envelope, gain_left, gain_right = play_mono_run(cubic, filter_type >= 0, (
                data, bus_audio, bus, i, plain, position, step, b0, f1, f2, state_1, state_2, envelope, mul, add,
                gain_left, gain_right, step_left, step_right))
        for j in range(i + plain, i + run):
            index = int(position)
            t = position - index
            if 1 <= index <= fast_last:
                at = index * channels
                left_in = interpolate(data[at - channels], data[at], data[at + channels], data[at + 2 * channels], t,
                                      cubic)
                if channels == 2:
                    right_in = interpolate(data[at - 1], data[at + 1], data[at + 3], data[at + 5], t, cubic)
                else:
                    right_in = left_in
            else:
                if index > last_frame and not looping:
                    done = True  # the sample has ended
                    break
                left_in, right_in, short = edge_taps(data, channels, available, frames_total, index, t, cubic,
                                                     loop_mode, loop_start, loop_end, last_frame, looping)
                starved = starved or short
            # A mono sample is filtered once, and heard on both sides.
            if biquad:
                left_in, state_1, state_2 = low_pass_biquad_step(left_in, state_1, state_2, b0, f1, f2)
                if stereo:
                    right_in, state_3, state_4 = low_pass_biquad_step(right_in, state_3, state_4, b0, f1, f2)
                else:
                    right_in = left_in
            elif filter_type >= ONE_POLE_TYPES:
                left_in, state_1, state_2 = svf_step(left_in, state_1, state_2, a1, a2, a3, k, mode)
                if stereo:
                    right_in, state_3, state_4 = svf_step(right_in, state_3, state_4, a1, a2, a3, k, mode)
                else:
                    right_in = left_in
                a1 += step_1
                a2 += step_2
                a3 += step_3
            elif filter_type >= 0:
                left_in, state_1 = one_pole_tick(left_in, state_1, g, mode)
                if stereo:
                    right_in, state_3 = one_pole_tick(right_in, state_3, g, mode)
                else:
                    right_in = left_in
                g += g_step
            envelope = envelope * mul + add
            bus_audio[bus, 0, j] += left_in * envelope * gain_left
            bus_audio[bus, 1, j] += right_in * envelope * gain_right
            gain_left += step_left
            gain_right += step_right
            position += step
            # Back by whole loop lengths once past its end, to just after its start: so the tap before the
            # read position is the loop's last frame, the one played before, not the frame before the loop.
            # A remainder, not a loop: one step may pass over the loop many times.
            if looping and position >= wrap_at:
                position = wrap_at - loop_length + (position - wrap_at) % loop_length
        if done:
            break
        i += run
        if left < 0.0:
            continue
        left -= run
        if left <= 0.0:
            if stage == STAGE_RELEASE or stage == STAGE_FADE:
                done = True
                break
            if stage == STAGE_ATTACK:
                envelope = 1.0
            next_stage(voice_values, voice_ints, slot, stage, envelope)
            stage = voice_ints[VS_STAGE, slot]
            envelope = voice_values[V_ENVELOPE, slot]
            mul = voice_values[V_ENV_MUL, slot]
            add = voice_values[V_ENV_ADD, slot]
            left = voice_values[V_ENV_LEFT, slot]
            if stage == STAGE_FREE:
                done = True
                break

    voice_values[V_AGE, slot] = age + (end - start)
    if starved and voice_ints[VS_STARVED, slot] == 0:
        voice_ints[VS_STARVED, slot] = 1
        i64_1d(table, A_TELEMETRY)[T_SAMPLES_NOT_READY] += 1
        notify(table, -1, ev.SAMPLE_NOT_READY, s, voice_values[V_NOTE_ID, slot], 0.0)
    if done:
        free_sample_voice(voice_values, voice_ints, sample_ints, slot)
        return
    voice_values[V_PHASE, slot] = position
    voice_values[V_ENVELOPE, slot] = envelope
    voice_values[V_ENV_LEFT, slot] = left
    voice_ints[VS_STAGE, slot] = stage
    voice_values[V_FILTER_STATE, slot], voice_values[V_FILTER_STATE_2, slot] = flush_states(state_1, state_2)
    voice_values[V_FILTER_STATE_3, slot], voice_values[V_FILTER_STATE_4, slot] = flush_states(state_3, state_4)
    voice_values[V_GAIN_LEFT, slot] = end_left
    voice_values[V_GAIN_RIGHT, slot] = end_right


@realtime
def free_sample_voice(voice_values, voice_ints, sample_ints, slot):
    voice_ints[VS_STAGE, slot] = STAGE_FREE
    voice_values[V_ENVELOPE, slot] = 0.0
    sample_ints[SI_VOICES, voice_ints[VS_SAMPLE, slot]] -= 1
