"""The voice interface: every kind of voice (tone, sample, synth, an LV2 instrument's note) is started, released and rendered
through the same three calls, and this module alone chooses the kind:

- `start(table, sample, note_id, instrument, key, velocity, bus, pan)`: a note on the instrument
  starts its voices; returns 0, or the REFUSED_* reason the note could not sound;
- `release(voice_values, voice_ints, slot)`: a held voice enters its release (a note off);
- `render(table, slot, bus_audio, start, end, position, rate)`: the voice adds its samples
  [start, end) of the block into its bus (`position`: where `start` falls on the engine's clock).

A note off does more than release voices on two kinds: a mono or legato synth returns to the newest
key still held, and a sampler's release regions start. Refused notes are counted once, here (through
the pool); stolen voices once, by the pool when it allocates.
"""

from ..realtime import realtime, realtime_unit
from .. import events as ev
from ..intrinsics import borrowed
from ..memory import f64_2d, i64_1d, i64_2d
from ..state import (
    A_BUS_INTS,
    A_CONFIG,
    A_HELD_NOTES,
    A_INSTRUMENTS,
    A_VOICE_INTS,
    A_VOICE_VALUES,
    C_SAMPLE_RATE,
    H_BUS,
    H_INSTRUMENT,
    H_KEY,
    H_SAMPLE,
    H_VELOCITY,
    I_KIND,
    KIND_NONE,
    KIND_PLUGIN,
    KIND_SAMPLER,
    KIND_SYNTH,
    STAGE_FREE,
    V_NOTE_ID,
    VS_KIND,
    VS_STAGE,
)
from . import plugin, sample, synth, tone
from .envelope import is_held
from .held import held_row, let_go
from .pool import count_refused, group_is_closed, note_group


@realtime
def note_on(table, sample_time, note_id, instrument, key, velocity, bus, pan):
    """A note on `instrument`: its kind starts its voices, or the note is refused (counted and reported once)."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    kind = instruments[I_KIND, instrument] if 0 <= instrument < instruments.shape[1] else KIND_NONE
    if kind == KIND_NONE:
        refused = ev.REFUSED_NO_INSTRUMENT
    elif not 0 <= bus < i64_2d(table, A_BUS_INTS).shape[1]:
        refused = ev.REFUSED_BAD_BUS
    elif kind == KIND_SAMPLER:
        refused = sample.start(table, sample_time, note_id, instrument, key, velocity, bus, pan)
    elif kind == KIND_SYNTH:
        refused = synth.start(table, sample_time, note_id, instrument, key, velocity, bus, pan)
    elif kind == KIND_PLUGIN:
        refused = plugin.start(table, sample_time, note_id, instrument, key, velocity, bus, pan)
    else:
        refused = tone.start(table, sample_time, note_id, instrument, key, velocity, bus, pan)
    if refused > 0:
        count_refused(table, sample_time, note_id, refused, instrument)


@realtime
def note_off(table, sample_time, note_id):
    """The note's key is let go: its voices release (a mono or legato synth returns to the newest key still
    held instead), and a sampler's release regions start, unless the note's part has stopped."""
    row = held_row(table, note_id)
    held = f64_2d(table, A_HELD_NOTES)
    instrument = int(held[row, H_INSTRUMENT]) if row >= 0 else -1
    kind = f64_2d(table, A_INSTRUMENTS)[I_KIND, instrument] if row >= 0 else KIND_NONE
    if kind != KIND_SYNTH or not synth.return_to_held_key(table, row):
        release_note(table, note_id)
    if row < 0:
        return  # a tone's note, or one no longer remembered: no release regions
    let_go(table, row)
    if kind == KIND_SAMPLER and not group_is_closed(table, note_id):
        rate = float(i64_1d(table, A_CONFIG)[C_SAMPLE_RATE])
        refused = sample.start_release_regions(table, sample_time, note_id, instrument, held[row, H_KEY],
                                               held[row, H_VELOCITY], int(held[row, H_BUS]),
                                               (sample_time - held[row, H_SAMPLE]) / rate)
        if refused > 0:  # counted once per release, as a note on is once per note
            count_refused(table, sample_time, note_id, refused, instrument)


@realtime
def release_voice(voice_values, voice_ints, slot):
    """A held voice enters its release, as its kind does."""
    kind = voice_ints[VS_KIND, slot]
    if kind == KIND_SAMPLER:
        sample.release(voice_values, voice_ints, slot)
    elif kind == KIND_SYNTH:
        synth.release(voice_values, voice_ints, slot)
    elif kind == KIND_PLUGIN:
        plugin.release(voice_values, voice_ints, slot)
    else:
        tone.release(voice_values, voice_ints, slot)


@realtime
def release_note(table, note_id):
    """Every held voice of the note enters its release."""
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    for slot in range(voice_ints.shape[1]):
        if is_held(voice_ints[VS_STAGE, slot]) and voice_values[V_NOTE_ID, slot] == note_id:
            release_voice(voice_values, voice_ints, slot)


@realtime
def release_note_group(voice_values, voice_ints, group):
    """Every held note of one group enters its release, as a note off would."""
    for slot in range(voice_ints.shape[1]):
        if is_held(voice_ints[VS_STAGE, slot]) and note_group(voice_values[V_NOTE_ID, slot]) == group:
            release_voice(voice_values, voice_ints, slot)


@realtime_unit("(int64[:, ::1], float64[:, :, ::1], int64, int64, int64, float64)")
def render_voices(table, bus_audio, start, end, position, rate):
    """Every sounding voice adds its samples [start, end) of the block into its bus; `position`: where
    `start` falls on the engine's clock."""
    voice_ints = i64_2d(table, A_VOICE_INTS)
    # Views without reference counts: each voice's render would otherwise count its references to both.
    table = borrowed(table)
    bus_audio = borrowed(bus_audio)
    for slot in range(voice_ints.shape[1]):
        if voice_ints[VS_STAGE, slot] == STAGE_FREE:
            continue
        kind = voice_ints[VS_KIND, slot]
        if kind == KIND_SAMPLER:
            sample.render(table, slot, bus_audio, start, end, position, rate)
        elif kind == KIND_SYNTH:
            synth.render(table, slot, bus_audio, start, end, position, rate)
        elif kind == KIND_PLUGIN:
            plugin.render(table, slot, position)
        else:
            tone.render(table, slot, bus_audio, start, end, position, rate)
