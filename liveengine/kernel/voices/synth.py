"""Synth voices: oscillators → filter → amplitude envelope → pan, with LFOs and a modulation matrix.

A segment at a time (at most a block), a voice works out what moves slowly: its glide,
LFOs, envelope-driven cutoff and the matrix's routes. The oscillators (each with its
unison copies) then render the segment into a scratch pair, one copy at a time: its wave
into a row of its own, in a loop that knows the wave, then mixed in at the copy's gains;
the filter runs over the sum in place, and the envelope and the gains carry it into the
bus. Each loop works without a chain from sample to sample or a test where it can (an
oscillator's phase from the segment's start, FM without feedback, a held envelope level as
one gain), so it vectorises; the filter's recursion and FM's feedback alone cannot. The
cutoff's coefficient, the oscillators' levels and the voice's gains (pan included) approach
what the segment asks with the dezipper's time constant and glide across it, so nothing
moved by a controller, an LFO or a patch reload steps, however short the segment (no zipper
noise, no click). A reload that changes the filter's mode crossfades from the old mode's
output to the new one's over a segment.

Voice modes: poly; mono (one voice per instrument, each new note retriggers it); legato
(one voice, a note played while another is held glides without retriggering). In mono
and legato, releasing the newest key returns to the newest key still held.
"""

import math

import numpy as np
from numba import carray

from ..dsp.filters import FILTER_BANDPASS, FILTER_HIGHPASS, FILTER_LOWPASS, FILTER_NOTCH, FILTER_THROUGH, \
    damping_from_resonance_db, flush_states, low_pass_pair, low_pass_pair_gains, prewarp, svf_bands, \
    svf_gains_gliding, svf_output
from ..dsp.oscillators import advance_phase, fm_tick, noise_seed, noise_tick, pulse_tick, saw_tick, sine_tick, \
    triangle_tick, wavetable_tick
from ..realtime import realtime, realtime_inline
from .. import events as ev
from ..intrinsics import address_as_void_pointer
from ..memory import f64_1d, f64_2d, i64_1d, i64_2d, i64_3d
from ..state import (
    A_CONFIG, A_CONFIG_FLOAT, A_CONTROLLERS, A_HELD_NOTES, A_INSTRUMENTS, A_KERNEL, A_PATCHES, A_STAGED_PATCHES,
    A_STAGED_WAVETABLES, A_SYNTH_SCRATCH,
    A_SYNTH_VOICE_INTS, A_SYNTH_VOICES, A_VOICE_INTS, A_VOICE_VALUES, A_WAVETABLES, C_POLYPHONY,
    C_SAMPLE_RATE, CF_FADE_SAMPLES, H_INSTRUMENT, H_KEY, H_NOTE_ID, I_AFTERTOUCH,
    I_BEND_RANGE, I_GAIN,
    I_PITCH_BEND, KIND_SYNTH, STAGE_DELAY, STAGE_FADE, STAGE_FREE, STAGE_RELEASE, SV_FM_LAST, SV_FM_PHASE,
    SV_GLIDE_STEP, SV_LFO_HELD, SV_NOTE_INCREMENT, SV_RESONANCE, SV_SOUNDING_PITCH, SV_LFO_PHASE, SV_OSC_LEVEL,
    SV_CUTOFF, SV_FILTER_MODE, SV_G_TARGET, SV_PAN, SV_PAN_LEFT, SV_PAN_RIGHT, SV_PHASE, SV_PITCH, SV_PITCH_TARGET,
    SV_POLY_AFTERTOUCH, SVI_NOISE, V_AGE, V_ATTACK_CURVE, 
    V_ENV_ADD, V_ENV_LEFT, V_ENV_MUL, V_ENVELOPE, V_FILTER_G, V_FILTER_K, V_FILTER_STATE,
    V_FILTER_STATE_2, V_FILTER_STATE_3, V_FILTER_STATE_4, V_GAIN_LEFT, V_GAIN_RIGHT, V_KEY, V_NOTE_ID,
    V_PAN,
    V_RELEASE_LEVEL, V_RELEASED_AT, V_START_LEVEL, V_STARTED_AT, V_VELOCITY,
    VS_BUS, VS_INSTRUMENT, VS_KIND, VS_LOOP_MODE, VS_STAGE,
)
from ..synthpatch import (
    DEST_AMPLITUDE, DEST_CUTOFF, DEST_FM_INDEX, DEST_LFO1_DEPTH, DEST_LFO1_RATE, DEST_LFO2_DEPTH, DEST_LFO2_RATE,
    DEST_OSC1_LEVEL, DEST_OSC2_LEVEL, DEST_PAN,
    DEST_PITCH, DEST_PULSE_WIDTH, DEST_RESONANCE, LFO_DELAY, LFO_DEPTH, LFO_FADE, LFO_RATE, LFO_SHAPE, MAX_LFOS,
    MAX_UNISON, MODE_LEGATO, MODE_POLY, OSC_CENTS, OSC_FIELDS, OSC_FM_FEEDBACK, OSC_FM_INDEX, OSC_FM_RATIO,
    OSC_LEVEL, OSC_PULSE_WIDTH, OSC_UNISON, OSC_UNISON_DETUNE, OSC_UNISON_SPREAD, OSC_WAVE, P_AMP_ENVELOPE,
    P_ATTACK_CURVE, P_BEND_RANGE, P_CUTOFF, P_FILTER_ENV_DEPTH, P_FILTER_ENVELOPE, P_FILTER_MODE, P_FILTER_VELOCITY,
    P_GAIN, P_KEYTRACK, P_LFO, P_LFOS, P_MODE, P_OSCILLATOR, P_OSCILLATORS, P_PAN, P_PORTAMENTO, P_RESONANCE,
    P_ROUTE, P_ROUTES, P_VELOCITY_SENSITIVITY, ROUTE_AMOUNT, ROUTE_CC, ROUTE_DESTINATION, ROUTE_FIELDS, ROUTE_SOURCE,
    SOURCE_AFTERTOUCH, SOURCE_AMP_ENVELOPE, SOURCE_CC, SOURCE_EXPRESSION, SOURCE_FILTER_ENVELOPE, SOURCE_KEY,
    SOURCE_LFO1, SOURCE_LFO2, SOURCE_MOD_WHEEL, SOURCE_PITCH_BEND, SOURCE_POLY_AFTERTOUCH, SOURCE_VELOCITY,
    SYNTH_LFO_FIELDS, WAVE_NOISE, WAVE_PULSE, WAVE_SAW, WAVE_SINE, WAVE_TRIANGLE, WAVE_WAVETABLE,
)
from .envelope import enter_release, enter_stage, envelope_value, glide_left, glide_toward, next_run, play_sample, \
    set_stage_lengths, stage_samples
from .envelope_row import ENV_DELAY, ENV_START, ENV_VEL2DELAY
from .held import held_count, hold_note, last_key, newest_held
from .pool import allocate_voice
from .randomness import next_random

TWO_PI = 2.0 * math.pi
FILTER_OFF = 0  # FILTER_MODES: none, lowpass, highpass, bandpass, notch
MOD_WHEEL_CC = 1
EXPRESSION_CC = 11
NO_PAN = 2.0  # outside -1..1: the pan's gains are still to be worked out
SCRATCH_WAVE = 2  # the scratch's row for one oscillator copy's wave, below the voice's pair
LFO_SINE, LFO_TRIANGLE, LFO_SAW, LFO_SQUARE, LFO_SAMPLE_HOLD = range(5)


# Starting and ending notes.

@realtime
def start(table, sample, note_id, instrument, key, velocity, bus, pan):
    """A note on a synth instrument: a new voice, or (mono, legato) the instrument's voice moving to the
    note. Returns 0, or REFUSED_NO_VOICE."""
    patches = f64_2d(table, A_PATCHES)
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    synth_voices = f64_2d(table, A_SYNTH_VOICES)
    config = i64_1d(table, A_CONFIG)
    rate = float(config[C_SAMPLE_RATE])
    mode = patches[instrument, P_MODE]
    held_before = held_count(table, instrument)
    hold_note(table, note_id, instrument, key, velocity, sample, bus)
    if mode != MODE_POLY:
        slot = instrument_voice(voice_ints, instrument)
        if slot >= 0:
            glide_to(patches, synth_voices, voice_values, slot, instrument, key, rate)
            voice_values[V_NOTE_ID, slot] = note_id
            voice_values[V_KEY, slot] = key
            if mode != MODE_LEGATO or held_before == 0 or voice_ints[VS_STAGE, slot] >= STAGE_RELEASE:
                voice_values[V_VELOCITY, slot] = velocity  # a restarted note plays at its own velocity
                start_envelope(patches, voice_values, voice_ints, slot, instrument, velocity, rate,
                               voice_values[V_ENVELOPE, slot])
            return 0
    slot = allocate_voice(table, voice_values, voice_ints, f64_1d(table, A_CONFIG_FLOAT)[CF_FADE_SAMPLES],
                          config[C_POLYPHONY])
    if slot < 0:
        return ev.REFUSED_NO_VOICE

    kernel = i64_1d(table, A_KERNEL)
    voice_values[V_NOTE_ID, slot] = note_id
    voice_values[V_STARTED_AT, slot] = sample
    voice_values[V_AGE, slot] = 0.0
    voice_values[V_VELOCITY, slot] = velocity
    voice_values[V_KEY, slot] = key
    voice_values[V_PAN, slot] = pan  # the note's own: the patch's is added each segment
    voice_values[V_FILTER_G, slot] = -1.0  # the first segment sets the coefficient without a glide
    voice_values[V_FILTER_K, slot] = 0.0  # nor its damping yet
    voice_values[V_FILTER_STATE, slot] = 0.0
    voice_values[V_FILTER_STATE_2, slot] = 0.0
    voice_values[V_FILTER_STATE_3, slot] = 0.0
    voice_values[V_FILTER_STATE_4, slot] = 0.0
    voice_ints[VS_INSTRUMENT, slot] = instrument
    voice_ints[VS_BUS, slot] = bus
    voice_ints[VS_KIND, slot] = KIND_SYNTH
    voice_ints[VS_LOOP_MODE, slot] = 0
    # Free-running oscillators: each copy starts at its own random phase, as analogue ones do.
    for i in range(synth_voices.shape[0]):
        synth_voices[i, slot] = 0.0
    for i in range(SV_PHASE, SV_PHASE + 3 * MAX_UNISON):
        synth_voices[i, slot] = next_random(kernel)
    voice_values[V_GAIN_LEFT, slot] = -1.0  # no gains yet: the first segment starts at its own
    synth_voices[SV_PAN, slot] = NO_PAN  # nor worked out the pan's gains yet
    synth_voices[SV_FILTER_MODE, slot] = patches[instrument, P_FILTER_MODE]
    synth_voices[SV_PITCH, slot] = 100.0 * key
    synth_voices[SV_PITCH_TARGET, slot] = 100.0 * key
    last = last_key(table, instrument, note_id)
    if patches[instrument, P_PORTAMENTO] > 0.0 and last >= 0.0:  # poly: glide from the last note played
        synth_voices[SV_PITCH, slot] = 100.0 * last
        glide_to(patches, synth_voices, voice_values, slot, instrument, key, rate)
    i64_2d(table, A_SYNTH_VOICE_INTS)[SVI_NOISE, slot] = noise_seed(int(note_id) * 7919 + slot)
    start_envelope(patches, voice_values, voice_ints, slot, instrument, velocity, rate, 0.0)
    return 0


@realtime
def start_envelope(patches, voice_values, voice_ints, slot, instrument, velocity, rate, level):
    """(Re)start the amplitude envelope from `level`, its stages scaled by velocity."""
    at = P_AMP_ENVELOPE
    set_stage_lengths(voice_values, slot, patches, instrument, at, velocity, rate)
    voice_values[V_ATTACK_CURVE, slot] = patches[instrument, P_ATTACK_CURVE]
    voice_values[V_START_LEVEL, slot] = max(level, patches[instrument, at + ENV_START] / 100.0)
    voice_values[V_RELEASED_AT, slot] = -1.0
    voice_values[V_RELEASE_LEVEL, slot] = 0.0
    voice_values[V_AGE, slot] = 0.0
    voice_values[V_ENVELOPE, slot] = level
    enter_stage(voice_values, voice_ints, slot, STAGE_DELAY,
                stage_samples(patches, instrument, at, ENV_DELAY, ENV_VEL2DELAY, velocity, rate),
                voice_values[V_START_LEVEL, slot])


@realtime
def glide_to(patches, synth_voices, voice_values, slot, instrument, key, rate):
    """Set the voice's pitch target to `key`: at once, or over the patch's portamento time."""
    target = 100.0 * key
    synth_voices[SV_PITCH_TARGET, slot] = target
    portamento = patches[instrument, P_PORTAMENTO] * rate
    if portamento <= 0.0:
        synth_voices[SV_PITCH, slot] = target
        synth_voices[SV_GLIDE_STEP, slot] = 0.0
    else:
        synth_voices[SV_GLIDE_STEP, slot] = abs(target - synth_voices[SV_PITCH, slot]) / portamento


@realtime
def instrument_voice(voice_ints, instrument):
    """The sounding voice of a mono instrument, or -1."""
    for slot in range(voice_ints.shape[1]):
        stage = voice_ints[VS_STAGE, slot]
        if stage != STAGE_FREE and stage != STAGE_FADE and voice_ints[VS_KIND, slot] == KIND_SYNTH and \
                voice_ints[VS_INSTRUMENT, slot] == instrument:
            return slot
    return -1


@realtime
def return_to_held_key(table, row):
    """Mono and legato: releasing the sounding key (held in `row`) while others are held returns to the
    newest of them (True: the voice plays on). Otherwise False: the note releases as any other."""
    held = f64_2d(table, A_HELD_NOTES)
    voice_values = f64_2d(table, A_VOICE_VALUES)
    patches = f64_2d(table, A_PATCHES)
    instrument = int(held[row, H_INSTRUMENT])
    note_id = held[row, H_NOTE_ID]
    if patches[instrument, P_MODE] == MODE_POLY:
        return False
    slot = instrument_voice(i64_2d(table, A_VOICE_INTS), instrument)
    if slot < 0 or voice_values[V_NOTE_ID, slot] != note_id:
        return False
    newest = newest_held(table, instrument, note_id)
    if newest < 0:
        return False
    rate = float(i64_1d(table, A_CONFIG)[C_SAMPLE_RATE])
    glide_to(patches, f64_2d(table, A_SYNTH_VOICES), voice_values, slot, instrument, held[newest, H_KEY], rate)
    voice_values[V_NOTE_ID, slot] = held[newest, H_NOTE_ID]
    voice_values[V_KEY, slot] = held[newest, H_KEY]
    return True


@realtime
def release(voice_values, voice_ints, slot):
    """A note off: a held synth voice enters its release."""
    enter_release(voice_values, voice_ints, slot)


@realtime
def poly_aftertouch(table, instrument, key, value):
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    synth_voices = f64_2d(table, A_SYNTH_VOICES)
    for slot in range(voice_ints.shape[1]):
        if voice_ints[VS_STAGE, slot] != STAGE_FREE and voice_ints[VS_INSTRUMENT, slot] == instrument and \
                voice_values[V_KEY, slot] == key:
            synth_voices[SV_POLY_AFTERTOUCH, slot] = value


@realtime
def swap_patch(table, instrument):
    """A reloaded patch takes over: every field at once, between two segments."""
    patches = f64_2d(table, A_PATCHES)
    staged = f64_2d(table, A_STAGED_PATCHES)
    wavetables = i64_3d(table, A_WAVETABLES)
    staged_wavetables = i64_3d(table, A_STAGED_WAVETABLES)
    for field in range(patches.shape[1]):
        patches[instrument, field] = staged[instrument, field]
    for osc in range(wavetables.shape[1]):
        for field in range(wavetables.shape[2]):
            wavetables[instrument, osc, field] = staged_wavetables[instrument, osc, field]


# Modulation.

@realtime
def lfo_output(shape, phase, held):
    if shape == LFO_SINE:
        return math.sin(TWO_PI * phase)
    if shape == LFO_TRIANGLE:
        return 1.0 - 4.0 * abs(phase - 0.5) if phase >= 0.0 else 0.0
    if shape == LFO_SAW:
        return 2.0 * phase - 1.0
    if shape == LFO_SQUARE:
        return 1.0 if phase < 0.5 else -1.0
    return held


@realtime
def source_value(source, cc, velocity, key, controllers, instrument, instruments, poly_pressure, lfo1, lfo2,
                 filter_envelope, amp_envelope):
    """A matrix source's value: 0..1, or -1..1 for the LFOs and the pitch bend."""
    if source == SOURCE_VELOCITY:
        return velocity
    if source == SOURCE_KEY:
        return key / 127.0
    if source == SOURCE_MOD_WHEEL:
        return controllers[instrument, MOD_WHEEL_CC]
    if source == SOURCE_AFTERTOUCH:
        return instruments[I_AFTERTOUCH, instrument]
    if source == SOURCE_POLY_AFTERTOUCH:
        return poly_pressure
    if source == SOURCE_PITCH_BEND:
        return instruments[I_PITCH_BEND, instrument]
    if source == SOURCE_EXPRESSION:
        return controllers[instrument, EXPRESSION_CC]
    if source == SOURCE_LFO1:
        return lfo1
    if source == SOURCE_LFO2:
        return lfo2
    if source == SOURCE_FILTER_ENVELOPE:
        return filter_envelope
    if source == SOURCE_AMP_ENVELOPE:
        return amp_envelope
    if source == SOURCE_CC and 0 <= cc < controllers.shape[1]:
        return controllers[instrument, int(cc)]
    return 0.0


# Rendering.

@realtime
def render(table, slot, bus_audio, start, end, position, rate):
    """Add synth voice `slot`'s samples [start, end) into its bus: what moves once a segment (filter envelope,
    LFOs, the matrix's routes, pitch), the oscillators into the scratch pair, the filter's coefficient and the
    gains, then the filter and the envelope per sample."""
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    synth_voices = f64_2d(table, A_SYNTH_VOICES)
    patches = f64_2d(table, A_PATCHES)
    instrument = voice_ints[VS_INSTRUMENT, slot]
    n = end - start
    filter_envelope = 0.0
    lfo1 = 0.0
    lfo2 = 0.0
    if modulated(patches, instrument):
        filter_envelope = filter_envelope_level(patches, voice_values, slot, instrument, rate)
        lfo1, lfo2 = lfo_values(table, patches, synth_voices, voice_values, slot, instrument, filter_envelope, n,
                                rate)
    pitch_cents, cutoff_cents, resonance_db, amplitude, pan, width_shift, fm_shift, level_shifts = routed_amounts(
        table, patches, synth_voices, voice_values, slot, instrument, lfo1, lfo2, filter_envelope)
    note_increment = sounding_increment(table, patches, synth_voices, slot, instrument, pitch_cents, n, rate)
    # Levels move toward their targets with a time constant of a fifth of the dezipper time,
    # however short the segment (an event may end it after a sample): a controller's jump is no click.
    first_segment = voice_values[V_GAIN_LEFT, slot] < 0.0
    approach = glide_left(i64_1d(table, A_CONFIG), f64_1d(table, A_CONFIG_FLOAT), n)
    stereo = fill_oscillators(table, patches, synth_voices, slot, instrument, n, note_increment, width_shift, fm_shift,
                              level_shifts, first_segment, approach)
    filter_motion = filter_glide(patches, synth_voices, voice_values, slot, instrument, filter_envelope, cutoff_cents,
                                 resonance_db, approach, n, rate)
    gains = glide_gains(table, patches, synth_voices, voice_values, slot, instrument, amplitude, pan, first_segment,
                        approach, n)
    voice_values[V_AGE, slot] += n
    play(table, voice_values, voice_ints, slot, bus_audio, start, n, stereo, filter_motion, gains)


@realtime
def modulated(patches, instrument):
    """Whether the patch has LFOs, routes or a filter envelope. A patch with none of them (the common case)
    skips their stages: measured, a quarter of a segment's set-up. A released voice's filter envelope takes its
    release level at the first segment that works it out."""
    return patches[instrument, P_LFOS] > 0 or patches[instrument, P_ROUTES] > 0 or \
        patches[instrument, P_FILTER_ENV_DEPTH] != 0.0


@realtime_inline
def filter_envelope_level(patches, voice_values, slot, instrument, rate):
    """The filter envelope's level, from its row in the patch (evaluated once a segment)."""
    velocity = voice_values[V_VELOCITY, slot]
    age = voice_values[V_AGE, slot]
    released_at = voice_values[V_RELEASED_AT, slot]
    if released_at >= 0.0 and voice_values[V_RELEASE_LEVEL, slot] < 0.0:
        voice_values[V_RELEASE_LEVEL, slot] = envelope_value(patches, instrument, P_FILTER_ENVELOPE, velocity,
                                                             released_at, -1.0, 0.0, rate)
    filter_envelope = 0.0
    if patches[instrument, P_FILTER_ENV_DEPTH] != 0.0 or routes_from(patches, instrument, SOURCE_FILTER_ENVELOPE):
        filter_envelope = envelope_value(patches, instrument, P_FILTER_ENVELOPE, velocity, age, released_at,
                                         voice_values[V_RELEASE_LEVEL, slot], rate)
    return filter_envelope


@realtime_inline
def lfo_values(table, patches, synth_voices, voice_values, slot, instrument, filter_envelope, n, rate):
    """The two LFOs' values this segment (their phases move on): the matrix's routes to their depths and
    rates first (LFOs do not modulate LFOs)."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    controllers = f64_2d(table, A_CONTROLLERS)
    velocity = voice_values[V_VELOCITY, slot]
    key = voice_values[V_KEY, slot]
    age = voice_values[V_AGE, slot]
    amp_envelope = voice_values[V_ENVELOPE, slot]
    poly_pressure = synth_voices[SV_POLY_AFTERTOUCH, slot]
    routes = int(patches[instrument, P_ROUTES])
    depth_shift1 = 0.0  # added to each LFO's own depth
    depth_shift2 = 0.0
    rate_octaves1 = 0.0
    rate_octaves2 = 0.0
    for r in range(routes):
        at = P_ROUTE + r * ROUTE_FIELDS
        destination = patches[instrument, at + ROUTE_DESTINATION]
        if destination < DEST_LFO1_DEPTH or destination > DEST_LFO2_RATE:
            continue
        source = patches[instrument, at + ROUTE_SOURCE]
        if source == SOURCE_LFO1 or source == SOURCE_LFO2:
            continue  # LFOs do not modulate LFOs
        value = source_value(source, patches[instrument, at + ROUTE_CC], velocity, key, controllers, instrument,
                             instruments, poly_pressure, 0.0, 0.0, filter_envelope, amp_envelope)
        amount = patches[instrument, at + ROUTE_AMOUNT] * value
        if destination == DEST_LFO1_DEPTH:
            depth_shift1 += amount
        elif destination == DEST_LFO2_DEPTH:
            depth_shift2 += amount
        elif destination == DEST_LFO1_RATE:
            rate_octaves1 += amount
        else:
            rate_octaves2 += amount
    lfo1 = 0.0
    lfo2 = 0.0
    for lfo in range(min(MAX_LFOS, int(patches[instrument, P_LFOS]))):
        at = P_LFO + lfo * SYNTH_LFO_FIELDS
        phase = synth_voices[SV_LFO_PHASE + lfo, slot]
        shape = patches[instrument, at + LFO_SHAPE]
        depth = min(1.0, max(0.0, patches[instrument, at + LFO_DEPTH] + (depth_shift1 if lfo == 0 else depth_shift2)))
        t = age / rate - patches[instrument, at + LFO_DELAY]
        value = 0.0
        if t > 0.0:
            fade = patches[instrument, at + LFO_FADE]
            value = depth * lfo_output(shape, phase, synth_voices[SV_LFO_HELD + lfo, slot]) * \
                (min(1.0, t / fade) if fade > 0.0 else 1.0)
            phase += patches[instrument, at + LFO_RATE] * 2.0 ** (rate_octaves1 if lfo == 0 else rate_octaves2) \
                * n / rate
            if phase >= 1.0:
                phase -= math.floor(phase)
                if shape == LFO_SAMPLE_HOLD:
                    synth_voices[SV_LFO_HELD + lfo, slot] = 2.0 * next_random(i64_1d(table, A_KERNEL)) - 1.0
            synth_voices[SV_LFO_PHASE + lfo, slot] = phase
        if lfo == 0:
            lfo1 = value
        else:
            lfo2 = value
    return lfo1, lfo2


@realtime_inline
def routed_amounts(table, patches, synth_voices, voice_values, slot, instrument, lfo1, lfo2, filter_envelope):
    """What the matrix's routes (other than to the LFOs) add this segment: (cents of pitch, cents of cutoff,
    dB of resonance, amplitude factor, pan, pulse width, FM index, the three oscillators' level shifts)."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    controllers = f64_2d(table, A_CONTROLLERS)
    velocity = voice_values[V_VELOCITY, slot]
    key = voice_values[V_KEY, slot]
    amp_envelope = voice_values[V_ENVELOPE, slot]
    poly_pressure = synth_voices[SV_POLY_AFTERTOUCH, slot]
    routes = int(patches[instrument, P_ROUTES])
    pitch_cents = 0.0
    cutoff_cents = 0.0
    resonance_db = 0.0
    amplitude = 1.0
    pan = patches[instrument, P_PAN] + voice_values[V_PAN, slot]
    width_shift = 0.0
    fm_shift = 0.0
    level_shift1 = 0.0
    level_shift2 = 0.0
    level_shift3 = 0.0
    for r in range(routes):
        at = P_ROUTE + r * ROUTE_FIELDS
        destination = patches[instrument, at + ROUTE_DESTINATION]
        if DEST_LFO1_DEPTH <= destination <= DEST_LFO2_RATE:
            continue
        source = patches[instrument, at + ROUTE_SOURCE]
        value = source_value(source, patches[instrument, at + ROUTE_CC], velocity, key, controllers, instrument,
                             instruments, poly_pressure, lfo1, lfo2, filter_envelope, amp_envelope)
        amount = patches[instrument, at + ROUTE_AMOUNT]
        if destination == DEST_PITCH:
            pitch_cents += amount * value
        elif destination == DEST_CUTOFF:
            cutoff_cents += amount * value
        elif destination == DEST_RESONANCE:
            resonance_db += amount * value
        elif destination == DEST_AMPLITUDE:
            bipolar = source == SOURCE_LFO1 or source == SOURCE_LFO2 or source == SOURCE_PITCH_BEND
            # A bipolar source swings the level around full; a unipolar one scales it down from full.
            amplitude *= max(0.0, 1.0 + amount * value if bipolar else 1.0 + amount * (value - 1.0))
        elif destination == DEST_PAN:
            pan += amount * value
        elif destination == DEST_PULSE_WIDTH:
            width_shift += amount * value
        elif destination == DEST_FM_INDEX:
            fm_shift += amount * value
        elif destination == DEST_OSC1_LEVEL:
            level_shift1 += amount * value
        elif destination == DEST_OSC2_LEVEL:
            level_shift2 += amount * value
        else:
            level_shift3 += amount * value
    return pitch_cents, cutoff_cents, resonance_db, amplitude, pan, width_shift, fm_shift, \
        (level_shift1, level_shift2, level_shift3)


@realtime_inline
def sounding_increment(table, patches, synth_voices, slot, instrument, pitch_cents, n, rate):
    """The note's phase increment a sample (cycles), after the glide, pitch bend and the matrix."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    pitch = synth_voices[SV_PITCH, slot]
    target = synth_voices[SV_PITCH_TARGET, slot]
    glide = synth_voices[SV_GLIDE_STEP, slot] * n
    pitch = min(target, pitch + glide) if pitch < target else max(target, pitch - glide)
    synth_voices[SV_PITCH, slot] = pitch
    bend_range = instruments[I_BEND_RANGE, instrument]
    if bend_range <= 0.0:
        bend_range = patches[instrument, P_BEND_RANGE]
    pitch += 100.0 * bend_range * instruments[I_PITCH_BEND, instrument] + pitch_cents
    # Powers and roots are the dearest work of a segment: each is redone only when what it
    # depends on has moved.
    if pitch != synth_voices[SV_SOUNDING_PITCH, slot] or synth_voices[SV_NOTE_INCREMENT, slot] == 0.0:
        synth_voices[SV_SOUNDING_PITCH, slot] = pitch
        synth_voices[SV_NOTE_INCREMENT, slot] = 440.0 * 2.0 ** ((pitch / 100.0 - 69.0) / 12.0) / rate
    note_increment = synth_voices[SV_NOTE_INCREMENT, slot]
    return note_increment


@realtime_inline
def fill_oscillators(table, patches, synth_voices, slot, instrument, n, note_increment, width_shift, fm_shift,
                     level_shifts, first_segment, approach):
    """The oscillators' segment into the scratch pair, each at its level gliding toward the patch's (and the
    matrix's). Returns whether the voice is stereo yet."""
    scratch = f64_2d(table, A_SYNTH_SCRATCH)
    level_shift1, level_shift2, level_shift3 = level_shifts
    # Oscillators into the scratch pair; into its first row alone while no unison copy is panned
    # (the voice is mono until its pan: one filter, not two).
    oscillators = int(patches[instrument, P_OSCILLATORS])
    stereo = False
    for osc in range(oscillators):
        at = P_OSCILLATOR + osc * OSC_FIELDS
        if patches[instrument, at + OSC_UNISON] > 1 and patches[instrument, at + OSC_UNISON_SPREAD] != 0.0:
            stereo = True
    for i in range(n):
        scratch[0, i] = 0.0
    if stereo:
        for i in range(n):
            scratch[1, i] = 0.0
    noise = i64_2d(table, A_SYNTH_VOICE_INTS)[SVI_NOISE, slot]
    for osc in range(oscillators):
        at = P_OSCILLATOR + osc * OSC_FIELDS
        shift = level_shift1 if osc == 0 else level_shift2 if osc == 1 else level_shift3
        level_start = synth_voices[SV_OSC_LEVEL + osc, slot]
        level_end = max(0.0, patches[instrument, at + OSC_LEVEL] + shift)
        if first_segment:
            level_start = level_end
        else:
            level_end = glide_toward(level_start, level_end, approach)
        synth_voices[SV_OSC_LEVEL + osc, slot] = level_end
        if level_start == 0.0 and level_end == 0.0:
            continue
        wave = patches[instrument, at + OSC_WAVE]
        copies = copies_of(patches, instrument, osc)
        width = min(0.95, max(0.05, patches[instrument, at + OSC_PULSE_WIDTH] + width_shift))
        fm_ratio = patches[instrument, at + OSC_FM_RATIO]
        fm_index = max(0.0, patches[instrument, at + OSC_FM_INDEX] + fm_shift)
        fm_feedback = patches[instrument, at + OSC_FM_FEEDBACK]
        base = note_increment * cents_ratio(patches[instrument, at + OSC_CENTS])
        per_copy = 1.0 / math.sqrt(copies)
        wavetable = wavetable_view(table, instrument, osc)
        noise = fill_copies(scratch, synth_voices, patches, slot, instrument, osc, at, n, stereo, wave, copies, base,
                            per_copy, level_start, level_end, width, fm_ratio, fm_index, fm_feedback, wavetable, noise)
    i64_2d(table, A_SYNTH_VOICE_INTS)[SVI_NOISE, slot] = noise
    return stereo


@realtime_inline
def fill_copies(scratch, synth_voices, patches, slot, instrument, osc, at, n, stereo, wave, copies, base, per_copy,
                level_start, level_end, width, fm_ratio, fm_index, fm_feedback, wavetable, noise):
    """One oscillator's unison copies into the scratch pair, one loop per wave. Returns the noise state."""
    for copy in range(copies):
        spread = (copy / (copies - 1) - 0.5) if copies > 1 else 0.0  # -0.5..0.5
        increment = min(0.49, base * cents_ratio(patches[instrument, at + OSC_UNISON_DETUNE] * spread))
        # A copy's place in the stereo field, as gains around the centre's 1.0 (constant power).
        angle = (min(1.0, max(-1.0, 2.0 * spread * patches[instrument, at + OSC_UNISON_SPREAD])) + 1.0) \
            * math.pi / 4.0
        to_left = math.cos(angle) * math.sqrt(2.0) if stereo else 1.0
        to_right = math.sin(angle) * math.sqrt(2.0) if stereo else 1.0
        left = to_left * per_copy * level_start
        right = to_right * per_copy * level_start
        ramp = (level_end - level_start) / n * per_copy
        left_ramp = ramp * to_left
        right_ramp = ramp * to_right
        phase_field = SV_PHASE + osc * MAX_UNISON + copy
        phase = synth_voices[phase_field, slot]
        # Each sample's phase from the segment's start, not from the sample before, and the wave into a row of
        # its own before it is mixed: no chain of additions from sample to sample and no test in the loops, so
        # they vectorise.
        wave_row = scratch[SCRATCH_WAVE, :n]
        sounds = True
        if wave == WAVE_SAW:
            for i in range(n):
                wave_row[i] = saw_tick(advance_phase(phase, frame_offset(i) * increment), increment)
        elif wave == WAVE_PULSE:
            for i in range(n):
                wave_row[i] = pulse_tick(advance_phase(phase, frame_offset(i) * increment), increment, width)
        elif wave == WAVE_TRIANGLE:
            for i in range(n):
                wave_row[i] = triangle_tick(advance_phase(phase, frame_offset(i) * increment), increment)
        elif wave == WAVE_SINE and fm_ratio > 0.0:
            modulator_phase = synth_voices[SV_FM_PHASE + osc, slot]
            modulator = synth_voices[SV_FM_LAST + osc, slot]
            modulator_increment = increment * fm_ratio
            modulator = fm_wave(wave_row, n, phase, increment, modulator_phase, modulator_increment, fm_index,
                                fm_feedback, modulator)
            if copy == copies - 1:
                synth_voices[SV_FM_PHASE + osc, slot] = advance_phase(modulator_phase, n * modulator_increment)
                synth_voices[SV_FM_LAST + osc, slot] = modulator
        elif wave == WAVE_SINE:
            for i in range(n):
                wave_row[i] = sine_tick(advance_phase(phase, frame_offset(i) * increment))
        elif wave == WAVE_NOISE:
            for i in range(n):
                wave_row[i], noise = noise_tick(noise)
        elif wave == WAVE_WAVETABLE and wavetable.shape[0] > 0:
            for i in range(n):
                wave_row[i] = wavetable_tick(wavetable, advance_phase(phase, frame_offset(i) * increment), increment)
        else:
            sounds = False
        if sounds:
            mix_copy(scratch, wave_row, n, left, left_ramp, right, right_ramp, stereo)
        phase = advance_phase(phase, n * increment)
        synth_voices[phase_field, slot] = phase
    return noise


@realtime_inline
def filter_glide(patches, synth_voices, voice_values, slot, instrument, filter_envelope, cutoff_cents, resonance_db,
                 approach, n, rate):
    """The filter this segment: (g_start, g_step, k, filtering, output, played_output); its coefficient
    approaches its target as the levels do, and glides across the segment."""
    velocity = voice_values[V_VELOCITY, slot]
    mode = int(patches[instrument, P_FILTER_MODE])
    g_start = 0.0
    g_step = 0.0
    k = 0.0
    if mode != FILTER_OFF:
        # From the patch each segment, so that a reloaded patch's cutoff takes over; the key
        # tracking follows the glide.
        cents = patches[instrument, P_KEYTRACK] * (synth_voices[SV_PITCH, slot] / 100.0 - 60.0) + \
            patches[instrument, P_FILTER_VELOCITY] * velocity + \
            patches[instrument, P_FILTER_ENV_DEPTH] * filter_envelope + cutoff_cents
        cutoff = patches[instrument, P_CUTOFF] * cents_ratio(cents)
        if cutoff != synth_voices[SV_CUTOFF, slot]:  # the coefficient only when the cutoff moves
            synth_voices[SV_CUTOFF, slot] = cutoff
            synth_voices[SV_G_TARGET, slot] = prewarp(cutoff, rate)
        g_target = synth_voices[SV_G_TARGET, slot]
        resonance = patches[instrument, P_RESONANCE] + resonance_db
        if resonance != synth_voices[SV_RESONANCE, slot] or voice_values[V_FILTER_K, slot] == 0.0:
            synth_voices[SV_RESONANCE, slot] = resonance
            voice_values[V_FILTER_K, slot] = damping_from_resonance_db(resonance)
        k = voice_values[V_FILTER_K, slot]
        g_start = voice_values[V_FILTER_G, slot]
        if g_start < 0.0:
            g_start = g_target
        g_end = glide_toward(g_start, g_target, approach)
        g_step = (g_end - g_start) / n
        voice_values[V_FILTER_G, slot] = g_end
    else:  # no filter now: one that was on, until a reload took it out, fades out with its last values
        g_start = voice_values[V_FILTER_G, slot]
        k = voice_values[V_FILTER_K, slot]
    # A reload that changed the filter's mode crossfades from the old mode's output to the new one's
    # over this segment: every mode is a mix of the same low- and band-pass signals.
    played_mode = int(synth_voices[SV_FILTER_MODE, slot])
    synth_voices[SV_FILTER_MODE, slot] = mode
    filtering = mode != FILTER_OFF or (played_mode != FILTER_OFF and g_start > 0.0)
    output = filter_output(mode)
    played_output = filter_output(played_mode)
    return g_start, g_step, k, filtering, output, played_output


@realtime_inline
def glide_gains(table, patches, synth_voices, voice_values, slot, instrument, amplitude, pan, first_segment, approach,
                n):
    """The voice's gains (pan included) at the segment's start and their steps a sample: (gain_left, gain_right,
    step_left, step_right), from the patch each segment too (a reloaded patch's gain is glided to)."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    velocity = voice_values[V_VELOCITY, slot]
    sensitivity = patches[instrument, P_VELOCITY_SENSITIVITY]
    note_level = patches[instrument, P_GAIN] * (1.0 - sensitivity * (1.0 - velocity * velocity))
    gain = note_level * amplitude * instruments[I_GAIN, instrument]
    pan = min(1.0, max(-1.0, pan))
    if pan != synth_voices[SV_PAN, slot]:
        angle = (pan + 1.0) * math.pi / 4.0  # constant power
        synth_voices[SV_PAN, slot] = pan
        synth_voices[SV_PAN_LEFT, slot] = math.cos(angle)
        synth_voices[SV_PAN_RIGHT, slot] = math.sin(angle)
    target_left = gain * synth_voices[SV_PAN_LEFT, slot]
    target_right = gain * synth_voices[SV_PAN_RIGHT, slot]
    gain_left = voice_values[V_GAIN_LEFT, slot]
    gain_right = voice_values[V_GAIN_RIGHT, slot]
    if first_segment:
        gain_left = target_left
        gain_right = target_right
    end_left = glide_toward(gain_left, target_left, approach)
    end_right = glide_toward(gain_right, target_right, approach)
    voice_values[V_GAIN_LEFT, slot] = end_left
    voice_values[V_GAIN_RIGHT, slot] = end_right
    step_left = (end_left - gain_left) / n
    step_right = (end_right - gain_right) / n
    return gain_left, gain_right, step_left, step_right


@realtime_inline
def play(table, voice_values, voice_ints, slot, bus_audio, start, n, stereo, filter_motion, gains):
    """The scratch pair through the filter, then through the amplitude envelope into the voice's bus in runs over
    which the envelope stays in one stage; a finished voice leaves nothing behind, not even its filter's ringing."""
    scratch = f64_2d(table, A_SYNTH_SCRATCH)
    bus = voice_ints[VS_BUS, slot]
    gain_left, gain_right, step_left, step_right = gains
    filter_segment(scratch, voice_values, slot, n, stereo, filter_motion)
    stage = voice_ints[VS_STAGE, slot]
    envelope = voice_values[V_ENVELOPE, slot]
    mul = voice_values[V_ENV_MUL, slot]
    add = voice_values[V_ENV_ADD, slot]
    left = voice_values[V_ENV_LEFT, slot]
    right_row = 1 if stereo else 0
    done = False
    i = 0
    while i < n:
        # At least a sample a run, so the loop ends within the segment whatever the envelope holds.
        run = n - i if left < 0.0 else max(1, min(n - i, int(left)))
        # Views that start with the run: indices from 0, which the compiled loops need not wrap around.
        in_left = scratch[0, i:i + run]
        in_right = scratch[right_row, i:i + run]
        if mul == 1.0 and add == 0.0:
            # The envelope holds its level (a sustain, a hold): a gain a side moving in a straight line, no
            # chain from sample to sample, and contiguous views, so the loop vectorises.
            out_left = bus_audio[bus, 0, start + i:start + i + run]
            out_right = bus_audio[bus, 1, start + i:start + i + run]
            left_start = envelope * gain_left
            right_start = envelope * gain_right
            left_step = envelope * step_left
            right_step = envelope * step_right
            for j in range(run):
                offset = frame_offset(j)
                out_left[j] += in_left[j] * (left_start + left_step * offset)
                out_right[j] += in_right[j] * (right_start + right_step * offset)
            gain_left += step_left * run
            gain_right += step_right * run
        else:
            out = bus_audio[bus:bus + 1, :, start + i:start + i + run]
            for j in range(run):
                envelope, gain_left, gain_right = play_sample(out, 0, j, in_left[j], in_right[j], envelope, mul, add,
                                                              gain_left, gain_right, step_left, step_right)
        i += run
        stage, envelope, mul, add, left, done = next_run(voice_values, voice_ints, slot, stage, envelope, mul, add,
                                                         left, run)
        if done:
            break
    if done:
        # Nothing of a finished voice stays behind, not even its filter's ringing.
        voice_ints[VS_STAGE, slot] = STAGE_FREE
        voice_values[V_ENVELOPE, slot] = 0.0
        voice_values[V_FILTER_STATE, slot] = 0.0
        voice_values[V_FILTER_STATE_2, slot] = 0.0
        voice_values[V_FILTER_STATE_3, slot] = 0.0
        voice_values[V_FILTER_STATE_4, slot] = 0.0
        return
    voice_values[V_ENVELOPE, slot] = envelope
    voice_values[V_ENV_LEFT, slot] = left
    voice_ints[VS_STAGE, slot] = stage


@realtime_inline
def filter_segment(scratch, voice_values, slot, n, stereo, filter_motion):
    """The scratch pair through the voice's filter, in place, over the whole segment (the filter does not
    depend on the envelope: a voice that ends within the segment drops the rest, and its filter's states)."""
    g_start, g_step, k, filtering, output, played_output = filter_motion
    if not filtering:
        return
    crossfading = played_output != output
    state_1 = voice_values[V_FILTER_STATE, slot]
    state_2 = voice_values[V_FILTER_STATE_2, slot]
    state_3 = voice_values[V_FILTER_STATE_3, slot]
    state_4 = voice_values[V_FILTER_STATE_4, slot]
    a1, a2, a3, step_1, step_2, step_3 = svf_gains_gliding(g_start, g_step, k, n)
    if output == FILTER_LOWPASS and not crossfading and not stereo and g_step == 0.0:
        # The common case (a mono voice through a low-pass at rest) in a loop of its own, free of the tests the
        # general loop makes each sample, filtering two samples a step.
        pair_gains = low_pass_pair_gains(a1, a2, a3)
        evens = scratch[0, 0:n - 1:2]
        odds = scratch[0, 1:n:2]
        for j in range(n // 2):
            evens[j], odds[j], state_1, state_2 = low_pass_pair(evens[j], odds[j], state_1, state_2, pair_gains)
        if n % 2 == 1:
            low, band, state_1, state_2 = svf_bands(scratch[0, n - 1], state_1, state_2, a1, a2, a3)
            scratch[0, n - 1] = low
    else:
        fade = 1.0
        fade_step = 1.0 / n
        for j in range(n):
            scratch[0, j], state_1, state_2 = filter_crossfading(scratch[0, j], state_1, state_2, a1, a2, a3, k,
                                                                 output, played_output, crossfading, fade)
            if stereo:
                scratch[1, j], state_3, state_4 = filter_crossfading(scratch[1, j], state_3, state_4, a1, a2, a3, k,
                                                                     output, played_output, crossfading, fade)
            a1 += step_1
            a2 += step_2
            a3 += step_3
            fade -= fade_step
    voice_values[V_FILTER_STATE, slot], voice_values[V_FILTER_STATE_2, slot] = flush_states(state_1, state_2)
    voice_values[V_FILTER_STATE_3, slot], voice_values[V_FILTER_STATE_4, slot] = flush_states(state_3, state_4)


@realtime
def filter_crossfading(x, state_1, state_2, a1, a2, a3, k, output, played_output, crossfading, fade):
    """One sample through the voice's filter: (output, state_1, state_2), crossfading from the mode it played
    (`fade` of the way from the new mode's output back to the old one's) while a reload changes it."""
    low, band, state_1, state_2 = svf_bands(x, state_1, state_2, a1, a2, a3)
    filtered = svf_output(x, low, band, k, output)
    if crossfading:
        filtered += (svf_output(x, low, band, k, played_output) - filtered) * fade
    return filtered, state_1, state_2


@realtime_inline
def fm_wave(wave_row, n, phase, increment, modulator_phase, modulator_increment, index, feedback, modulator):
    """An FM copy's wave into `wave_row`; returns its modulator's last output. Without feedback no sample waits
    on the one before, and that loop vectorises."""
    if feedback == 0.0:
        for i in range(n):
            offset = frame_offset(i)
            wave_row[i], modulator = fm_tick(advance_phase(phase, offset * increment),
                                             advance_phase(modulator_phase, offset * modulator_increment), index,
                                             0.0, 0.0)
        return modulator
    for i in range(n):
        offset = frame_offset(i)
        wave_row[i], modulator = fm_tick(advance_phase(phase, offset * increment),
                                         advance_phase(modulator_phase, offset * modulator_increment), index,
                                         feedback, modulator)
    return modulator


@realtime_inline
def mix_copy(scratch, wave, n, left, left_ramp, right, right_ramp, stereo):
    """An oscillator copy's wave into the scratch pair, at its gains gliding across the segment: a loop a side,
    free of tests, so that each vectorises."""
    to_left = scratch[0, :n]
    for i in range(n):
        to_left[i] += wave[i] * (left + left_ramp * frame_offset(i))
    if stereo:
        to_right = scratch[1, :n]
        for i in range(n):
            to_right[i] += wave[i] * (right + right_ramp * frame_offset(i))


@realtime_inline
def frame_offset(i):
    """A frame's index within a segment (at most a block: 1024) as a double, by way of int32: AVX2 converts
    int32 to double four lanes at a time, int64 one lane at a time. Measured: a saw loop 25 % faster."""
    return float(np.int32(i))


@realtime
def filter_output(mode):
    """The filter kernels' output for a patch's filter mode (FILTER_MODES: none, lowpass, highpass,
    bandpass, notch)."""
    if mode == 1:
        return FILTER_LOWPASS
    if mode == 2:
        return FILTER_HIGHPASS
    if mode == 3:
        return FILTER_BANDPASS
    if mode == 4:
        return FILTER_NOTCH
    return FILTER_THROUGH


@realtime
def cents_ratio(cents):
    return 1.0 if cents == 0.0 else 2.0 ** (cents / 1200.0)


@realtime
def routes_from(patches, instrument, source):
    for r in range(int(patches[instrument, P_ROUTES])):
        if patches[instrument, P_ROUTE + r * ROUTE_FIELDS + ROUTE_SOURCE] == source:
            return True
    return False


@realtime
def copies_of(patches, instrument, osc):
    return max(1, min(MAX_UNISON, int(patches[instrument, P_OSCILLATOR + osc * OSC_FIELDS + OSC_UNISON])))


@realtime
def wavetable_view(table, instrument, osc):
    """The wavetable of an oscillator (levels, size + 3), or an empty view when it has none."""
    wavetables = i64_3d(table, A_WAVETABLES)
    address = wavetables[instrument, osc, 0]
    if address == 0:  # any valid address will do for a view of nothing
        return carray(address_as_void_pointer(table[A_SYNTH_SCRATCH, 0]), (0, 1), np.float64)
    return carray(address_as_void_pointer(address), (wavetables[instrument, osc, 1], wavetables[instrument, osc, 2]),
                  np.float64)
