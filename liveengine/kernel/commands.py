"""One handler per event kind: what each event does when it applies, on its sample.

Each handler checks its own event's fields and answers APPLIED, REJECTED (the event names
nothing that exists, or asks what this engine cannot do), or DROPPED (a note of a part that
is no longer playing: neither). `apply_event` dispatches on the kind and counts the answer.
numba cannot index a table of functions, so the dispatch is a chain of calls, one per kind.
"""

import numpy as np

from . import events as ev
from .chase import chase_position
from .handover import hand_over
from .memory import f64_1d, f64_2d, i64_1d, i64_2d, notify
from .mixer import bus_count, queue_bus_change
from .realtime import realtime, realtime_unit
from .state import (
    A_CHASE,
    A_CONFIG,
    A_CONFIG_FLOAT,
    A_CONTROLLERS,
    A_INSTRUMENTS,
    A_STEM_INTS,
    A_STEM_VALUES,
    A_TELEMETRY,
    A_VOICE_INTS,
    A_VOICE_VALUES,
    BUS_CHANGE_GAIN,
    BUS_CHANGE_MUTE,
    CF_FADE_SAMPLES,
    CHANGE_BYPASS,
    CONTROLLERS,
    CUE_SLOTS,
    C_SAMPLE_RATE,
    C_TIMECODE_MODE,
    I_AFTERTOUCH,
    I_MODULATION,
    I_PITCH_BEND,
    I_PROGRAM,
    MAX_INSTRUMENTS,
    PENDING_ON_PICTURE,
    PENDING_PICTURE,
    TIMECODE_CHASE,
    TIMECODE_MASTER,
    T_EVENTS_APPLIED,
    T_EVENTS_REJECTED,
)
from .picture import nominal_frames
from .plugins import queue_change, send_midi, silence_plugin_instruments
from .stems import stem_start, stem_stop
from .timecode import chase_timecode_frame, locate_master_timecode
from .triggers import (
    fire_cue,
    note_group_off,
    start_part,
    stop_all_parts,
    stop_part,
    template_note_id,
)
from .voices.held import forget_held_notes
from .voices.kinds import note_off, note_on
from .voices.pool import fade_notes, group_is_closed
from .voices.synth import poly_aftertouch

APPLIED, REJECTED, DROPPED = range(3)


@realtime
def outcome(applied):
    return APPLIED if applied else REJECTED


@realtime
def fade_samples(table, seconds):
    """A fade of `seconds`, in samples: never shorter than the fast panic fade."""
    rate = float(i64_1d(table, A_CONFIG)[C_SAMPLE_RATE])
    return max(f64_1d(table, A_CONFIG_FLOAT)[CF_FADE_SAMPLES], np.floor(seconds * rate))


# Notes.

@realtime
def on_note_on(table, event, sample):
    target = template_note_id(table, event)
    if target < 0 or group_is_closed(table, target):
        return DROPPED  # its part is not playing, or has stopped
    note_on(table, sample, target, int(event[ev.A]), event[ev.B], event[ev.C], int(event[ev.D]), event[ev.E])
    return APPLIED


@realtime
def on_note_off(table, event, sample):
    target = template_note_id(table, event)
    if target < 0:
        return DROPPED  # its part is not playing
    note_off(table, sample, target)
    return APPLIED


@realtime
def on_all_notes_off(table, sample):
    fade = f64_1d(table, A_CONFIG_FLOAT)[CF_FADE_SAMPLES]
    stop_all_parts(table, fade)
    fade_notes(f64_2d(table, A_VOICE_VALUES), i64_2d(table, A_VOICE_INTS), fade, 0)
    forget_held_notes(table)
    silence_plugin_instruments(table, sample)
    return APPLIED


@realtime
def on_poly_aftertouch(table, event, sample):
    instrument = event[ev.TARGET]
    if not 0 <= instrument < MAX_INSTRUMENTS:
        return REJECTED
    poly_aftertouch(table, int(instrument), event[ev.A], event[ev.B])
    send_midi(table, int(instrument), sample, 0xA0, int(event[ev.A]) & 0x7F, midi_value(event[ev.B]), 3)
    return APPLIED


# Parts and cues.

@realtime
def on_stop_all(table, event):
    stop_all_parts(table, fade_samples(table, event[ev.A]))
    return APPLIED


@realtime
def on_note_group_off(table, event):
    note_group_off(table, int(event[ev.TARGET]))
    return APPLIED


@realtime
def on_part_start(table, event, sample):
    return outcome(start_part(table, event, sample))


@realtime
def on_part_stop(table, event):
    return outcome(stop_part(table, int(event[ev.TARGET])))


@realtime
def on_cue_fire(table, event, sample):
    slot = event[ev.TARGET]
    if not 0 <= slot < CUE_SLOTS:
        return REJECTED
    # A follower of a cue on the picture's clock carries the frame its firing stands for (the GO does not).
    on_picture = event[PENDING_ON_PICTURE]
    origin = event[PENDING_PICTURE] - nominal_frames(table, event[ev.A]) if on_picture != 0.0 else 0.0
    fire_cue(table, int(slot), sample, event[ev.A], ev.CUE_FIRED, 0.0, chase_position(f64_1d(table, A_CHASE), sample),
             on_picture, origin)
    return APPLIED


# Stems.

@realtime
def on_stem_start(table, event, sample):
    bus = event[ev.B]
    started = stem_start(i64_2d(table, A_STEM_INTS), f64_2d(table, A_STEM_VALUES), int(event[ev.TARGET]),
                         int(sample), int(event[ev.A]), int(bus), event[ev.C], f64_1d(table, A_CHASE))
    return outcome(started and 0 <= bus < bus_count(table))


@realtime
def on_stem_stop(table, event):
    return outcome(stem_stop(i64_2d(table, A_STEM_INTS), f64_2d(table, A_STEM_VALUES), int(event[ev.TARGET]),
                             fade_samples(table, event[ev.A])))


# Buses.

@realtime
def on_bus_gain(table, event, sample):
    bus = event[ev.TARGET]
    if not 0 <= bus < bus_count(table):
        return REJECTED
    return outcome(queue_bus_change(table, int(bus), sample, BUS_CHANGE_GAIN, event[ev.A], event[ev.B]))


@realtime
def on_bus_mute(table, event, sample):
    bus = event[ev.TARGET]
    if not 0 <= bus < bus_count(table):
        return REJECTED
    return outcome(queue_bus_change(table, int(bus), sample, BUS_CHANGE_MUTE, 1.0 if event[ev.A] != 0.0 else 0.0,
                                    0.0))


# Instruments.

@realtime
def on_instrument_parameter(table, event, sample):
    instruments = f64_2d(table, A_INSTRUMENTS)
    instrument = event[ev.TARGET]
    field = int(event[ev.A])
    if not (0 <= instrument < instruments.shape[1] and 0 < field < instruments.shape[0]):
        return REJECTED
    instruments[field, int(instrument)] = event[ev.B]
    if field == I_PITCH_BEND:
        bend = min(16383, max(0, int((event[ev.B] + 1.0) * 8192.0 + 0.5)))
        send_midi(table, int(instrument), sample, 0xE0, bend & 0x7F, bend >> 7, 3)
    elif field == I_MODULATION:
        send_midi(table, int(instrument), sample, 0xB0, 1, midi_value(event[ev.B]), 3)
    elif field == I_AFTERTOUCH:
        send_midi(table, int(instrument), sample, 0xD0, midi_value(event[ev.B]), 0, 2)
    return APPLIED


@realtime
def on_controller(table, event, sample):
    instrument = event[ev.TARGET]
    controller = event[ev.A]
    if not (0 <= instrument < MAX_INSTRUMENTS and 0 <= controller < CONTROLLERS):
        return REJECTED
    f64_2d(table, A_CONTROLLERS)[int(instrument), int(controller)] = min(1.0, max(0.0, event[ev.B]))
    send_midi(table, int(instrument), sample, 0xB0, int(controller), midi_value(event[ev.B]), 3)
    return APPLIED


@realtime
def on_program_change(table, event, sample):
    instrument = event[ev.TARGET]
    program = event[ev.A]
    if not (0 <= instrument < MAX_INSTRUMENTS and 0 <= program <= 127):
        return REJECTED
    f64_2d(table, A_INSTRUMENTS)[I_PROGRAM, int(instrument)] = np.floor(program)
    send_midi(table, int(instrument), sample, 0xC0, int(program), 0, 2)
    return APPLIED


# LV2 plugins (their instruments' MIDI: above, with each event that carries it).

@realtime
def midi_value(value):
    """A 0..1 value as a MIDI data byte."""
    return min(127, max(0, int(value * 127.0 + 0.5)))


@realtime
def on_plugin_control(table, event, sample):
    port = event[ev.A]
    return outcome(port >= 0 and queue_change(table, int(event[ev.TARGET]), sample, int(port), event[ev.B]))


@realtime
def on_plugin_bypass(table, event, sample):
    return outcome(queue_change(table, int(event[ev.TARGET]), sample, CHANGE_BYPASS,
                                1.0 if event[ev.A] != 0.0 else 0.0))


# Timecode.

@realtime
def on_timecode_frame(table, event):
    if i64_1d(table, A_CONFIG)[C_TIMECODE_MODE] != TIMECODE_CHASE:
        return REJECTED
    chase_timecode_frame(table, event[ev.A], event[ev.TARGET])
    return APPLIED


@realtime
def on_timecode_locate(table, event):
    if i64_1d(table, A_CONFIG)[C_TIMECODE_MODE] != TIMECODE_MASTER:
        return REJECTED
    locate_master_timecode(table, int(event[ev.TARGET]), int(event[ev.A]), int(event[ev.B]), int(event[ev.C]),
                           int(event[ev.D]))
    return APPLIED


# Handing memory over, and fences.

@realtime
def on_handover(table, event, sample, letting_go):
    return outcome(hand_over(table, event, sample, letting_go))


@realtime
def on_fence(table, event, sample):
    notify(table, sample, ev.ACKNOWLEDGED, event[ev.TARGET], 0.0, 0.0)
    return APPLIED


@realtime_unit("(int64[:, ::1], float64[::1], float64)")
def apply_event(table, event, sample):
    """Apply one event row (taken out of the pending set) at `sample`, and count it."""
    kind = int(event[ev.KIND])
    if kind == ev.NOTE_ON:
        result = on_note_on(table, event, sample)
    elif kind == ev.NOTE_OFF:
        result = on_note_off(table, event, sample)
    elif kind == ev.ALL_NOTES_OFF:
        result = on_all_notes_off(table, sample)
    elif kind == ev.POLY_AFTERTOUCH:
        result = on_poly_aftertouch(table, event, sample)
    elif kind == ev.STOP_ALL:
        result = on_stop_all(table, event)
    elif kind == ev.NOTE_GROUP_OFF:
        result = on_note_group_off(table, event)
    elif kind == ev.PART_START:
        result = on_part_start(table, event, sample)
    elif kind == ev.PART_STOP:
        result = on_part_stop(table, event)
    elif kind == ev.CUE_FIRE:
        result = on_cue_fire(table, event, sample)
    elif kind == ev.STEM_START:
        result = on_stem_start(table, event, sample)
    elif kind == ev.STEM_STOP:
        result = on_stem_stop(table, event)
    elif kind == ev.BUS_GAIN:
        result = on_bus_gain(table, event, sample)
    elif kind == ev.BUS_MUTE:
        result = on_bus_mute(table, event, sample)
    elif kind == ev.INSTRUMENT_PARAMETER:
        result = on_instrument_parameter(table, event, sample)
    elif kind == ev.CONTROLLER:
        result = on_controller(table, event, sample)
    elif kind == ev.PROGRAM_CHANGE:
        result = on_program_change(table, event, sample)
    elif kind == ev.TIMECODE_FRAME:
        result = on_timecode_frame(table, event)
    elif kind == ev.TIMECODE_LOCATE:
        result = on_timecode_locate(table, event)
    elif kind == ev.ADOPT or kind == ev.LET_GO:
        result = on_handover(table, event, sample, kind == ev.LET_GO)
    elif kind == ev.FENCE:
        result = on_fence(table, event, sample)
    elif kind == ev.PLUGIN_CONTROL:
        result = on_plugin_control(table, event, sample)
    elif kind == ev.PLUGIN_BYPASS:
        result = on_plugin_bypass(table, event, sample)
    else:
        result = REJECTED
    telemetry = i64_1d(table, A_TELEMETRY)
    if result == APPLIED:
        telemetry[T_EVENTS_APPLIED] += 1
    elif result == REJECTED:
        telemetry[T_EVENTS_REJECTED] += 1
