"""The voice pool: every voice of every kind lives in one column of it.

The pool allocates a column to a starting voice, steals one (with a fast fade) to keep within
the polyphony, fades notes out (panic, a stopped part), tells the note groups apart, counts
the sounding voices, and keeps the only counts of stolen voices and refused notes: one for
each voice faded to make room, one for each note (or release) that could not sound.
"""

import math

from ..realtime import realtime
from .. import events as ev
from ..memory import i64_1d, notify
from ..state import (
    A_GROUP_CLOSED,
    A_TELEMETRY,
    STAGE_FADE,
    STAGE_FREE,
    STAGE_RELEASE,
    T_NOTES_REFUSED,
    T_VOICES_STOLEN,
    V_ENV_ADD,
    V_ENV_LEFT,
    V_ENV_MUL,
    V_ENVELOPE,
    V_FADE_STEP,
    V_NOTE_ID,
    V_STARTED_AT,
    VS_STAGE,
)


@realtime
def note_group(note_id):
    return int(note_id) // ev.NOTE_GROUP_SIZE


@realtime
def group_is_closed(table, note_id):
    """Whether the note's part has stopped: its later notes stay silent."""
    closed = i64_1d(table, A_GROUP_CLOSED)
    group = note_group(note_id)
    return 0 < group < closed.shape[0] and closed[group] != 0


@realtime
def allocate_voice(table, voice_values, voice_ints, fade_samples, polyphony):
    """A free voice slot, or -1 when none is free (the note is refused: no voice is stolen for it).
    At the polyphony, the quietest releasing voice makes room, else the oldest held note, with a
    fast fade: stolen, and counted."""
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
    if free_slot >= 0 and sounding >= polyphony:
        victim = quietest_releasing if quietest_releasing >= 0 else oldest_held
        start_fade(voice_values, voice_ints, victim, fade_samples)
        i64_1d(table, A_TELEMETRY)[T_VOICES_STOLEN] += 1
    return free_slot


@realtime
def count_refused(table, sample, note_id, reason, instrument):
    """A note (or a note's release) that could not sound: counted and reported once."""
    i64_1d(table, A_TELEMETRY)[T_NOTES_REFUSED] += 1
    notify(table, sample, ev.NOTE_REFUSED, note_id, reason, instrument)


@realtime
def start_fade(voice_values, voice_ints, slot, fade_samples):
    """The fast linear fade of a stolen, choked or panicked voice, from wherever its level is."""
    samples = max(1.0, math.floor(fade_samples))
    voice_ints[VS_STAGE, slot] = STAGE_FADE
    voice_values[V_FADE_STEP, slot] = voice_values[V_ENVELOPE, slot] / samples
    voice_values[V_ENV_MUL, slot] = 1.0
    voice_values[V_ENV_ADD, slot] = -voice_values[V_FADE_STEP, slot]
    voice_values[V_ENV_LEFT, slot] = samples


@realtime
def fade_notes(voice_values, voice_ints, fade_samples, first_group):
    """Fade out every voice whose note group is `first_group` or later (0: every voice)."""
    for slot in range(voice_ints.shape[1]):
        if voice_ints[VS_STAGE, slot] != STAGE_FREE and note_group(voice_values[V_NOTE_ID, slot]) >= first_group:
            start_fade(voice_values, voice_ints, slot, fade_samples)


@realtime
def count_sounding(voice_ints):
    count = 0
    for slot in range(voice_ints.shape[1]):
        if voice_ints[VS_STAGE, slot] != STAGE_FREE:
            count += 1
    return count
