"""Which regions of a sampler sound for a note: layers, round robins, random layers, keyswitches,
controller conditions; and the chokes and polyphony limits of groups before a region starts.

A note on a sampler instrument starts one voice for every region that matches it: key,
velocity, keyswitch, program, controller conditions, round robin and random range, and trigger
(attack, first, legato; release regions start at the note's release).
"""

import math

from ..realtime import realtime
from ..regiontable import (
    COND_CC,
    COND_HIGH,
    COND_LOW,
    CONDITION_FIELDS,
    CURVE_POWER,
    OFF_FAST,
    OFF_TIME,
    R_CONDITION,
    R_CONDITIONS,
    R_GROUP,
    R_HIKEY,
    R_HIPROG,
    R_HIRAND,
    R_HIVEL,
    R_LOKEY,
    R_LOPROG,
    R_LORAND,
    R_LOVEL,
    R_NOTE_POLYPHONY,
    R_OFF_BY,
    R_OFF_MODE,
    R_OFF_TIME,
    R_POLYPHONY,
    R_SEQ_LENGTH,
    R_SEQ_POSITION,
    R_SW_LAST,
    R_TRIGGER,
    TRIGGER_FIRST,
    TRIGGER_LEGATO,
    TRIGGER_RELEASE,
    TRIGGER_RELEASE_KEY,
)
from ..state import (
    KIND_SAMPLER,
    STAGE_FADE,
    STAGE_FREE,
    V_KEY,
    V_NOTE_ID,
    V_STARTED_AT,
    VS_INSTRUMENT,
    VS_KIND,
    VS_REGION,
    VS_STAGE,
)
from ..voices.pool import start_fade
from .source import enter_sample_release


@realtime
def velocity_127(velocity):
    """A velocity 0..1 as the MIDI velocity regions name (1..127)."""
    return min(127.0, max(1.0, math.floor(velocity * 127.0 + 0.5)))


@realtime
def triggered(regions, r, releasing, held_before):
    """Whether region r is one the note's start (or, `releasing`, its release) triggers: first and
    legato regions by whether other notes were held before (`held_before`)."""
    trigger = regions[r, R_TRIGGER]
    if trigger == TRIGGER_RELEASE or trigger == TRIGGER_RELEASE_KEY:
        return releasing
    if releasing:
        return False
    return not ((trigger == TRIGGER_FIRST and held_before > 0) or (trigger == TRIGGER_LEGATO and held_before == 0))


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
                enter_sample_release(voice_values, voice_ints, slot)
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
