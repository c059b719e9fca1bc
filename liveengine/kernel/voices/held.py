"""Notes held until their note off, one row each: what a sampler's release regions and first/legato
triggers, and a mono or legato synth's return to the newest key still held, need to know."""

from ..realtime import realtime
from ..memory import f64_2d
from ..state import A_HELD_NOTES, A_INSTRUMENTS, H_BUS, H_INSTRUMENT, H_KEY, H_NOTE_ID, H_SAMPLE, H_VELOCITY, \
    I_HELD_NOTES


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
def held_row(table, note_id):
    """The row holding note `note_id`, or -1 (a tone's note, or one forgotten)."""
    held = f64_2d(table, A_HELD_NOTES)
    for row in range(held.shape[0]):
        if held[row, H_INSTRUMENT] >= 0.0 and held[row, H_NOTE_ID] == note_id:
            return row
    return -1


@realtime
def let_go(table, row):
    """The note of `row` is no longer held."""
    held = f64_2d(table, A_HELD_NOTES)
    f64_2d(table, A_INSTRUMENTS)[I_HELD_NOTES, int(held[row, H_INSTRUMENT])] -= 1.0
    held[row, H_INSTRUMENT] = -1.0


@realtime
def forget_held_notes(table):
    """Panic: no note is held any more, and no release region will sound for them."""
    held = f64_2d(table, A_HELD_NOTES)
    instruments = f64_2d(table, A_INSTRUMENTS)
    for row in range(held.shape[0]):
        held[row, H_INSTRUMENT] = -1.0
    for instrument in range(instruments.shape[1]):
        instruments[I_HELD_NOTES, instrument] = 0.0


@realtime
def held_count(table, instrument):
    held = f64_2d(table, A_HELD_NOTES)
    count = 0
    for row in range(held.shape[0]):
        if held[row, H_INSTRUMENT] == instrument:
            count += 1
    return count


@realtime
def newest_held(table, instrument, except_note):
    """The row of the newest note held on `instrument` other than `except_note`, or -1."""
    held = f64_2d(table, A_HELD_NOTES)
    newest = -1
    for row in range(held.shape[0]):
        if held[row, H_INSTRUMENT] == instrument and held[row, H_NOTE_ID] != except_note and \
                (newest < 0 or held[row, H_SAMPLE] >= held[newest, H_SAMPLE]):
            newest = row
    return newest


@realtime
def last_key(table, instrument, except_note):
    """The key of the newest note held on `instrument` other than `except_note`, or -1."""
    newest = newest_held(table, instrument, except_note)
    return f64_2d(table, A_HELD_NOTES)[newest, H_KEY] if newest >= 0 else -1.0
