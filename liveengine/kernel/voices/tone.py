"""Tone voices: the test tone, a sine with a linear attack and an exponential release.

A show's `tone` instrument (attack and release in seconds, gain) plays it, and so do the
benchmarks and the tests that need a sound whose every sample is known: it starts at phase
zero on its note's exact sample. The mod wheel adds vibrato, pitch bend bends it.
"""

import math

from ..realtime import realtime
from ..memory import f64_1d, f64_2d, i64_1d, i64_2d
from ..state import (
    A_CONFIG,
    A_CONFIG_FLOAT,
    A_INSTRUMENTS,
    A_VOICE_INTS,
    A_VOICE_VALUES,
    C_POLYPHONY,
    C_SAMPLE_RATE,
    CF_FADE_SAMPLES,
    I_ATTACK_SECONDS,
    I_BEND_RANGE,
    I_GAIN,
    I_MODULATION,
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
from .. import events as ev
from .envelope import RELEASE_TIME_CONSTANTS, RELEASE_UNDERSHOOT
from .pool import allocate_voice

TWO_PI = 2.0 * math.pi
VIBRATO_HZ = 5.5
VIBRATO_SEMITONES = 0.5  # vibrato depth at full modulation
TONE_BEND_RANGE = 2.0  # semitones at full pitch bend, unless a keyboard setup gives its own


@realtime
def key_frequency(key):
    return 440.0 * 2.0 ** ((key - 69.0) / 12.0)


@realtime
def start(table, sample, note_id, instrument, key, velocity, bus, pan):
    """A note on a tone instrument: one voice. Returns 0, or REFUSED_NO_VOICE."""
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    instruments = f64_2d(table, A_INSTRUMENTS)
    slot = allocate_voice(table, voice_values, voice_ints, f64_1d(table, A_CONFIG_FLOAT)[CF_FADE_SAMPLES],
                          i64_1d(table, A_CONFIG)[C_POLYPHONY])
    if slot < 0:
        return ev.REFUSED_NO_VOICE
    rate = float(i64_1d(table, A_CONFIG)[C_SAMPLE_RATE])
    voice_values[V_PHASE, slot] = 0.0
    voice_values[V_PHASE_STEP, slot] = TWO_PI * key_frequency(key) / rate
    voice_values[V_LEVEL, slot] = velocity * instruments[I_GAIN, instrument]
    voice_values[V_ENVELOPE, slot] = 0.0
    voice_values[V_ATTACK_STEP, slot] = 1.0 / max(1.0, instruments[I_ATTACK_SECONDS, instrument] * rate)
    time_constant = instruments[I_RELEASE_SECONDS, instrument] * rate / RELEASE_TIME_CONSTANTS
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
    return 0


@realtime
def release(voice_values, voice_ints, slot):
    """A held tone voice enters its release (a note off)."""
    voice_ints[VS_STAGE, slot] = STAGE_RELEASE


@realtime
def render(table, slot, bus_audio, start, end, position, rate):
    """Add tone voice `slot`'s samples [start, end) into its bus; `position`: where `start` falls on the
    engine's clock (the vibrato's phase)."""
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    instruments = f64_2d(table, A_INSTRUMENTS)
    stage = voice_ints[VS_STAGE, slot]
    bus = voice_ints[VS_BUS, slot]
    phase = voice_values[V_PHASE, slot]
    step = voice_values[V_PHASE_STEP, slot] * pitch_ratio(instruments, voice_ints[VS_INSTRUMENT, slot], position,
                                                          rate)
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
def pitch_ratio(instruments, instrument, position, rate):
    """What pitch bend and vibrato (the mod wheel's LFO at `position`) make of every voice of the
    instrument's pitch, segment by segment."""
    bend_range = instruments[I_BEND_RANGE, instrument]
    semitones = instruments[I_PITCH_BEND, instrument] * (bend_range if bend_range > 0.0 else TONE_BEND_RANGE)
    modulation = instruments[I_MODULATION, instrument]
    if modulation != 0.0:  # no vibrato adds nothing: its sine is not worked out
        semitones += modulation * VIBRATO_SEMITONES * math.sin(TWO_PI * VIBRATO_HZ * position / rate)
    return 2.0 ** (semitones / 12.0) if semitones != 0.0 else 1.0
