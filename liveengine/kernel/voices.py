"""The voice pool: allocating, stealing and releasing voices of every kind, and tone voices.

A voice lives in one column of the pool; its kind says who renders it (tones here, samples
in sampler.py). Its stage says what its envelope does (envelope.py).
"""

import math

from .realtime import realtime
from .envelope import (
    RELEASE_TIME_CONSTANTS,
    RELEASE_UNDERSHOOT,
    is_held,
    release_voice,
    start_fade,
)
from .events import (
    NOTE_GROUP_SIZE,
    REFUSED_BAD_BUS,
    REFUSED_NO_INSTRUMENT,
    REFUSED_NO_VOICE,
)
from .state import (
    CF_FADE_SAMPLES,
    I_ATTACK_SECONDS,
    I_GAIN,
    I_KIND,
    I_MODULATION,
    I_BEND_RANGE,
    I_PITCH_BEND,
    I_RELEASE_SECONDS,
    KIND_TONE,
    STAGE_ATTACK,
    STAGE_FADE,
    STAGE_FREE,
    STAGE_RELEASE,
    STAGE_SUSTAIN,
    V_ATTACK_STEP,
    V_ENVELOPE,
    V_FADE_STEP,
    V_GAIN_LEFT,
    V_GAIN_RIGHT,
    V_LEVEL,
    V_NOTE_ID,
    V_PHASE,
    V_PHASE_STEP,
    V_RELEASE_COEFF,
    V_STARTED_AT,
    VS_BUS,
    VS_INSTRUMENT,
    VS_KIND,
    VS_STAGE,
)

TWO_PI = 2.0 * math.pi
VIBRATO_HZ = 5.5
VIBRATO_SEMITONES = 0.5  # vibrato depth at full modulation
TONE_BEND_RANGE = 2.0  # semitones at full pitch bend, unless a keyboard setup gives its own


@realtime
def key_frequency(key):
    return 440.0 * 2.0 ** ((key - 69.0) / 12.0)


@realtime
def note_group(note_id):
    return int(note_id) // NOTE_GROUP_SIZE


@realtime
def allocate_voice(voice_values, voice_ints, fade_samples, polyphony):
    """A free voice slot (-1: none), and whether a voice was stolen to keep within `polyphony`:
    the quietest releasing voice if there is one, else the oldest held note, with a fast fade."""
    free_slot = -1
    sounding = 0
    quietest_releasing = -1
    oldest_held = -1
    for slot in range(voice_ints.shape[1]):
        stage = voice_ints[VS_STAGE, slot]
        if stage == STAGE_FREE:
            if free_slot < 0:
                free_slot = slot
        elif stage != STAGE_FADE:
            sounding += 1
            if stage == STAGE_RELEASE:
                if quietest_releasing < 0 or \
                        voice_values[V_ENVELOPE, slot] < voice_values[V_ENVELOPE, quietest_releasing]:
                    quietest_releasing = slot
            elif oldest_held < 0 or voice_values[V_STARTED_AT, slot] < voice_values[V_STARTED_AT, oldest_held]:
                oldest_held = slot
    stolen = False
    if sounding >= polyphony:
        victim = quietest_releasing if quietest_releasing >= 0 else oldest_held
        start_fade(voice_values, voice_ints, victim, fade_samples)
        stolen = True
    return free_slot, stolen


@realtime
def note_on(voice_values, voice_ints, instruments, bus_ints, config_float, polyphony, sample_rate,
            sample, note_id, instrument, key, velocity, bus, pan):
    """Start a voice; returns 0, or a REFUSED_* reason. May steal: returns -1 then (started, one stolen)."""
    if instrument < 0 or instrument >= instruments.shape[1] or instruments[I_KIND, instrument] != KIND_TONE:
        return REFUSED_NO_INSTRUMENT
    if bus < 0 or bus >= bus_ints.shape[1]:
        return REFUSED_BAD_BUS

    slot, stolen = allocate_voice(voice_values, voice_ints, config_float[CF_FADE_SAMPLES], polyphony)
    if slot < 0:
        return REFUSED_NO_VOICE

    voice_values[V_PHASE, slot] = 0.0
    voice_values[V_PHASE_STEP, slot] = TWO_PI * key_frequency(key) / sample_rate
    voice_values[V_LEVEL, slot] = velocity * instruments[I_GAIN, instrument]
    voice_values[V_ENVELOPE, slot] = 0.0
    voice_values[V_ATTACK_STEP, slot] = 1.0 / max(1.0, instruments[I_ATTACK_SECONDS, instrument] * sample_rate)
    time_constant = instruments[I_RELEASE_SECONDS, instrument] * sample_rate / RELEASE_TIME_CONSTANTS
    voice_values[V_RELEASE_COEFF, slot] = math.exp(-1.0 / max(1.0, time_constant))
    angle = (min(1.0, max(-1.0, pan)) + 1.0) * math.pi / 4.0  # constant-power pan
    voice_values[V_GAIN_LEFT, slot] = math.cos(angle)
    voice_values[V_GAIN_RIGHT, slot] = math.sin(angle)
    voice_values[V_NOTE_ID, slot] = note_id
    voice_values[V_STARTED_AT, slot] = sample
    voice_ints[VS_INSTRUMENT, slot] = instrument
    voice_ints[VS_BUS, slot] = bus
    voice_ints[VS_KIND, slot] = KIND_TONE
    voice_ints[VS_STAGE, slot] = STAGE_ATTACK
    return -1 if stolen else 0


@realtime
def note_off(voice_values, voice_ints, note_id):
    for slot in range(voice_ints.shape[1]):
        if is_held(voice_ints[VS_STAGE, slot]) and voice_values[V_NOTE_ID, slot] == note_id:
            release_voice(voice_values, voice_ints, slot)


@realtime
def fade_notes(voice_values, voice_ints, fade_samples, first_group):
    """Fade out every voice whose note group is `first_group` or later (0: every voice)."""
    for slot in range(voice_ints.shape[1]):
        if voice_ints[VS_STAGE, slot] != STAGE_FREE and note_group(voice_values[V_NOTE_ID, slot]) >= first_group:
            start_fade(voice_values, voice_ints, slot, fade_samples)


@realtime
def release_note_group(voice_values, voice_ints, group):
    """Every held note of one group enters its release, as a note off would."""
    for slot in range(voice_ints.shape[1]):
        if is_held(voice_ints[VS_STAGE, slot]) and note_group(voice_values[V_NOTE_ID, slot]) == group:
            release_voice(voice_values, voice_ints, slot)


@realtime
def render_tone_voice(voice_values, voice_ints, instruments, bus_audio, slot, start, end, vibrato):
    """Add tone voice `slot`'s samples [start, end) into its bus; `vibrato`: the mod wheel's LFO
    (-1..1) at `start`."""
    stage = voice_ints[VS_STAGE, slot]
    bus = voice_ints[VS_BUS, slot]
    phase = voice_values[V_PHASE, slot]
    step = voice_values[V_PHASE_STEP, slot]
    instrument = voice_ints[VS_INSTRUMENT, slot]
    # Pitch bend and vibrato move the pitch of every voice of the instrument, segment by segment.
    bend_range = instruments[I_BEND_RANGE, instrument]
    semitones = instruments[I_PITCH_BEND, instrument] * (bend_range if bend_range > 0.0 else TONE_BEND_RANGE) + \
        instruments[I_MODULATION, instrument] * VIBRATO_SEMITONES * vibrato
    if semitones != 0.0:
        step *= 2.0 ** (semitones / 12.0)
    level = voice_values[V_LEVEL, slot]
    envelope = voice_values[V_ENVELOPE, slot]
    gain_left = voice_values[V_GAIN_LEFT, slot] * level
    gain_right = voice_values[V_GAIN_RIGHT, slot] * level
    for i in range(start, end):
        if stage == STAGE_ATTACK:
            envelope += voice_values[V_ATTACK_STEP, slot]
            if envelope >= 1.0:
                envelope = 1.0
                stage = STAGE_SUSTAIN
        elif stage == STAGE_RELEASE:
            coeff = voice_values[V_RELEASE_COEFF, slot]
            envelope = RELEASE_UNDERSHOOT + (envelope - RELEASE_UNDERSHOOT) * coeff
            if envelope <= 0.0:
                envelope = 0.0
                stage = STAGE_FREE
                break
        elif stage == STAGE_FADE:
            envelope -= voice_values[V_FADE_STEP, slot]
            if envelope <= 0.0:
                envelope = 0.0
                stage = STAGE_FREE
                break
        value = math.sin(phase) * envelope
        bus_audio[bus, 0, i] += value * gain_left
        bus_audio[bus, 1, i] += value * gain_right
        phase += step
        if phase >= TWO_PI:
            phase -= TWO_PI
    voice_values[V_PHASE, slot] = phase
    voice_values[V_ENVELOPE, slot] = envelope
    voice_ints[VS_STAGE, slot] = stage


@realtime
def count_sounding(voice_ints):
    count = 0
    for slot in range(voice_ints.shape[1]):
        if voice_ints[VS_STAGE, slot] != STAGE_FREE:
            count += 1
    return count
