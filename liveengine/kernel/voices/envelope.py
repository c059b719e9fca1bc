"""How a voice's level moves: envelope stages, release, gliding gains, and the envelope row.

A tone voice rises linearly, sustains, and falls exponentially in its release. Sample and
synth voices follow a DAHDSR envelope, one segment at a time: level = level * ENV_MUL + ENV_ADD
for ENV_LEFT samples (linear or curved attack, exponential decay and release). Both end on an
exact zero, never a step and never a subnormal tail: the exponential falls toward a target just
below zero and the voice ends where it crosses.

A DAHDSR envelope's numbers (its stages' lengths, their velocity tracking) are a block in a
table's row (`envelope_row`): the voices that start from one read it here.
"""

import math

from ..realtime import DENORMAL_FLOOR, realtime, realtime_inline
from .envelope_row import (
    ENV_ATTACK,
    ENV_DECAY,
    ENV_DELAY,
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
)
from ..state import (
    C_MAX_BLOCK,
    CF_BLOCK_APPROACH,
    CF_DEZIPPER_SAMPLES,
    GLIDES_PER_DEZIPPER,
    STAGE_ATTACK,
    STAGE_DECAY,
    STAGE_DELAY,
    STAGE_FADE,
    STAGE_FREE,
    STAGE_HOLD,
    STAGE_RELEASE,
    STAGE_SUSTAIN,
    V_AGE,
    V_ATTACK_CURVE,
    V_ATTACK_SAMPLES,
    V_DECAY_SAMPLES,
    V_ENV_ADD,
    V_ENV_LEFT,
    V_ENV_MUL,
    V_ENVELOPE,
    V_HOLD_SAMPLES,
    V_RELEASE_LEVEL,
    V_RELEASE_SAMPLES,
    V_RELEASED_AT,
    V_START_LEVEL,
    V_SUSTAIN,
    VS_STAGE,
)

# The release falls toward this value just below zero, so it crosses zero in finite time
# (release time = 6.9 time constants) and the voice ends on an exact zero, not a step.
RELEASE_UNDERSHOOT = -1e-3
RELEASE_TIME_CONSTANTS = math.log((1.0 - RELEASE_UNDERSHOOT) / -RELEASE_UNDERSHOOT)
# How far beyond the attack's span its exponential aims at full curve (attack_curve ±1).
ATTACK_CURVE_BEND = 0.5
GAIN_SETTLED = 1e-6  # a gliding gain this close to its target (relative) takes it



@realtime
def glide_left(config, config_float, samples):
    """What of its way a gliding level still has to go after `samples` (a full block's is worked out
    once, at set-up: the exponential is dear, and most segments are full blocks)."""
    if samples == config[C_MAX_BLOCK]:
        return config_float[CF_BLOCK_APPROACH]
    return math.exp(-GLIDES_PER_DEZIPPER * samples / config_float[CF_DEZIPPER_SAMPLES])


@realtime
def glide_toward(value, target, approach):
    """A gliding level after a segment that leaves `approach` of its way to `target` to go;
    within GAIN_SETTLED of the target, the target itself."""
    end = target + (value - target) * approach
    return target if abs(end - target) <= GAIN_SETTLED * abs(target) + DENORMAL_FLOOR else end


@realtime
def play_sample(bus_audio, bus, at, left, right, envelope, mul, add, gain_left, gain_right, step_left, step_right):
    """A sample of a voice into its bus, through its envelope and gains, which move on: (envelope,
    gain_left, gain_right) for the next."""
    envelope = envelope * mul + add
    bus_audio[bus, 0, at] += left * envelope * gain_left
    bus_audio[bus, 1, at] += right * envelope * gain_right
    return envelope, gain_left + step_left, gain_right + step_right


@realtime
def is_held(stage):
    return STAGE_FREE < stage < STAGE_RELEASE


@realtime
def enter_stage(voice_values, voice_ints, slot, stage, samples, level):
    """Enter `stage` at `level`; stages that last no time are passed through at once."""
    while True:
        if stage == STAGE_DELAY:
            if samples > 0.0:
                break
            stage = STAGE_ATTACK
            samples = voice_values[V_ATTACK_SAMPLES, slot]
        elif stage == STAGE_ATTACK:
            if samples > 0.0:
                curve = voice_values[V_ATTACK_CURVE, slot]
                if curve == 0.0:
                    voice_values[V_ENV_MUL, slot] = 1.0
                    voice_values[V_ENV_ADD, slot] = (1.0 - level) / samples
                else:
                    # level = target + (start - target) * mul**n reaches 1 after `samples`: a target above 1
                    # rises fast then eases in (curve > 0), one below 0 starts slow and speeds up (curve < 0).
                    target = 1.0 + ATTACK_CURVE_BEND / curve if curve > 0.0 else ATTACK_CURVE_BEND / curve
                    mul = ((1.0 - target) / (level - target)) ** (1.0 / samples)
                    voice_values[V_ENV_MUL, slot] = mul
                    voice_values[V_ENV_ADD, slot] = target * (1.0 - mul)
                break
            level = 1.0
            stage = STAGE_HOLD
            samples = voice_values[V_HOLD_SAMPLES, slot]
        elif stage == STAGE_HOLD:
            level = 1.0
            if samples > 0.0:
                break
            stage = STAGE_DECAY
            samples = voice_values[V_DECAY_SAMPLES, slot]
        elif stage == STAGE_DECAY:
            sustain = voice_values[V_SUSTAIN, slot]
            if samples > 0.0 and sustain < 1.0:
                # Exponential toward just below the sustain level, reaching it in `samples`.
                target = sustain + (1.0 - sustain) * RELEASE_UNDERSHOOT
                mul = ((sustain - target) / (level - target)) ** (1.0 / samples)
                voice_values[V_ENV_MUL, slot] = mul
                voice_values[V_ENV_ADD, slot] = target * (1.0 - mul)
                break
            level = sustain
            stage = STAGE_SUSTAIN
            samples = -1.0
        elif stage == STAGE_SUSTAIN:
            if level <= 0.0:
                stage = STAGE_FREE  # nothing left to sustain: the voice ends
                level = 0.0
                samples = 0.0
                break
            samples = -1.0
            break
        elif stage == STAGE_RELEASE:
            if level <= 0.0:
                stage = STAGE_FREE
                level = 0.0
                break
            # Full scale to zero in the release time; from `level`, until the fall crosses zero.
            mul = math.exp(-RELEASE_TIME_CONSTANTS / voice_values[V_RELEASE_SAMPLES, slot])
            voice_values[V_ENV_MUL, slot] = mul
            voice_values[V_ENV_ADD, slot] = RELEASE_UNDERSHOOT * (1.0 - mul)
            samples = max(1.0, math.ceil(math.log(-RELEASE_UNDERSHOOT / (level - RELEASE_UNDERSHOOT)) / math.log(mul)))
            break
        else:  # STAGE_FADE, or a voice's end
            break
        voice_values[V_ENV_MUL, slot] = 1.0
        voice_values[V_ENV_ADD, slot] = 0.0
    if stage == STAGE_DELAY or stage == STAGE_HOLD or stage == STAGE_SUSTAIN:
        voice_values[V_ENV_MUL, slot] = 1.0
        voice_values[V_ENV_ADD, slot] = 0.0
    if stage == STAGE_DELAY:
        level = 0.0
    voice_ints[VS_STAGE, slot] = stage
    voice_values[V_ENVELOPE, slot] = level
    voice_values[V_ENV_LEFT, slot] = samples


@realtime
def next_stage(voice_values, voice_ints, slot, stage, level):
    """The stage after `stage` ends, at `level` (exact: the end of each stage is known)."""
    if stage == STAGE_DELAY:
        enter_stage(voice_values, voice_ints, slot, STAGE_ATTACK, voice_values[V_ATTACK_SAMPLES, slot],
                    voice_values[V_START_LEVEL, slot])
    elif stage == STAGE_ATTACK:
        enter_stage(voice_values, voice_ints, slot, STAGE_HOLD, voice_values[V_HOLD_SAMPLES, slot], 1.0)
    elif stage == STAGE_HOLD:
        enter_stage(voice_values, voice_ints, slot, STAGE_DECAY, voice_values[V_DECAY_SAMPLES, slot], 1.0)
    elif stage == STAGE_DECAY:
        enter_stage(voice_values, voice_ints, slot, STAGE_SUSTAIN, -1.0, voice_values[V_SUSTAIN, slot])
    else:  # release and fade end on zero
        voice_ints[VS_STAGE, slot] = STAGE_FREE
        voice_values[V_ENVELOPE, slot] = 0.0


@realtime
def enter_release(voice_values, voice_ints, slot):
    """A DAHDSR voice enters its release from wherever its level is."""
    voice_values[V_RELEASED_AT, slot] = voice_values[V_AGE, slot]
    voice_values[V_RELEASE_LEVEL, slot] = -1.0  # the filter envelope's level here: taken at the next segment
    enter_stage(voice_values, voice_ints, slot, STAGE_RELEASE, 0.0, voice_values[V_ENVELOPE, slot])


@realtime
def stage_samples(rows, row, at, stage, vel2stage, velocity, rate):
    """A stage's length in samples, for the envelope at `at` of `rows[row]`, at `velocity` (0..1)."""
    return max(0.0, math.floor((rows[row, at + stage] + rows[row, at + vel2stage] * velocity) * rate + 0.5))


@realtime
def set_stage_lengths(voice_values, slot, rows, row, at, velocity, rate):
    """The attack, hold, decay and release lengths and the sustain level of a starting voice, from the
    envelope at `at` of `rows[row]` (the delay is entered with `enter_stage`)."""
    voice_values[V_ATTACK_SAMPLES, slot] = stage_samples(rows, row, at, ENV_ATTACK, ENV_VEL2ATTACK, velocity, rate)
    voice_values[V_HOLD_SAMPLES, slot] = stage_samples(rows, row, at, ENV_HOLD, ENV_VEL2HOLD, velocity, rate)
    voice_values[V_DECAY_SAMPLES, slot] = stage_samples(rows, row, at, ENV_DECAY, ENV_VEL2DECAY, velocity, rate)
    voice_values[V_RELEASE_SAMPLES, slot] = max(1.0, stage_samples(rows, row, at, ENV_RELEASE, ENV_VEL2RELEASE,
                                                                   velocity, rate))
    voice_values[V_SUSTAIN, slot] = min(1.0, max(0.0, (rows[row, at + ENV_SUSTAIN] +
                                                       rows[row, at + ENV_VEL2SUSTAIN] * velocity) / 100.0))


@realtime
def envelope_value(rows, row, at, velocity, age, released_at, release_level, rate):
    """The level (0..1) of the envelope at `at` of `rows[row]`, `age` samples after the note, released at
    `released_at` (negative: held) from `release_level`: for filter envelopes, evaluated once a segment."""
    delay = (rows[row, at + ENV_DELAY] + rows[row, at + ENV_VEL2DELAY] * velocity) * rate
    attack = (rows[row, at + ENV_ATTACK] + rows[row, at + ENV_VEL2ATTACK] * velocity) * rate
    hold = (rows[row, at + ENV_HOLD] + rows[row, at + ENV_VEL2HOLD] * velocity) * rate
    decay = (rows[row, at + ENV_DECAY] + rows[row, at + ENV_VEL2DECAY] * velocity) * rate
    sustain = min(1.0, max(0.0, (rows[row, at + ENV_SUSTAIN] + rows[row, at + ENV_VEL2SUSTAIN] * velocity) / 100.0))
    if released_at >= 0.0:
        release = max(1.0, (rows[row, at + ENV_RELEASE] + rows[row, at + ENV_VEL2RELEASE] * velocity) * rate)
        level = release_level * math.exp(-RELEASE_TIME_CONSTANTS * (age - released_at) / release)
        return level if level > DENORMAL_FLOOR else 0.0
    t = age - delay
    if t < 0.0:
        return 0.0
    start = rows[row, at + ENV_START] / 100.0
    if t < attack:
        return start + (1.0 - start) * t / attack
    t -= attack + hold
    if t < 0.0:
        return 1.0
    if t < decay:
        return sustain + (1.0 - sustain) * math.exp(-RELEASE_TIME_CONSTANTS * t / decay)
    return sustain


@realtime_inline
def next_run(voice_values, voice_ints, slot, stage, envelope, mul, add, left, run):
    """The envelope after a run of `run` samples in `stage`, `left` of it to go before: (stage, envelope, mul,
    add, left, ended). A stage that ends there gives way to the next; the voice ends with its release or
    its fade, or when nothing is left to sound."""
    if left < 0.0:  # sustaining: no end in sight
        return stage, envelope, mul, add, left, False
    left -= run
    if left > 0.0:
        return stage, envelope, mul, add, left, False
    if stage == STAGE_RELEASE or stage == STAGE_FADE:
        return stage, envelope, mul, add, left, True
    next_stage(voice_values, voice_ints, slot, stage, envelope)
    stage = voice_ints[VS_STAGE, slot]
    return stage, voice_values[V_ENVELOPE, slot], voice_values[V_ENV_MUL, slot], voice_values[V_ENV_ADD, slot], \
        voice_values[V_ENV_LEFT, slot], stage == STAGE_FREE
