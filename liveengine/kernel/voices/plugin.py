"""An LV2 instrument's notes in the voice pool. The plugin makes the sound (kernel/plugins.py); each of
its notes holds a voice slot that renders nothing, so that note ids, parts and their note groups,
stealing, panic and the polyphony treat a plugin's notes as every other voice's.

The plugin hears the note on on the note's sample. Released, stolen or faded (panic, a stopped part), the
slot sends the note off on its next render, at the start of the segment that starts on the release's
sample, and is free again: the plugin's own release rings on. A note on sends first the note offs still
owed on its sample, so that a key struck again on the sample it was let go is heard let go, then struck.
"""

from .. import events as ev
from ..memory import f64_1d, f64_2d, i64_1d, i64_2d
from ..plugins import instrument_plugin, queue_midi
from ..realtime import realtime
from ..state import (
    A_CONFIG,
    A_CONFIG_FLOAT,
    A_PLUGIN_INTS,
    A_VOICE_INTS,
    A_VOICE_VALUES,
    C_POLYPHONY,
    CF_FADE_SAMPLES,
    KIND_PLUGIN,
    P_BUS,
    STAGE_FREE,
    STAGE_RELEASE,
    STAGE_SUSTAIN,
    V_ENVELOPE,
    V_KEY,
    V_NOTE_ID,
    V_STARTED_AT,
    V_VELOCITY,
    VS_BUS,
    VS_INSTRUMENT,
    VS_KIND,
    VS_STAGE,
)
from .pool import allocate_voice

NOTE_ON_STATUS, NOTE_OFF_STATUS = 0x90, 0x80
RELEASE_VELOCITY = 64  # MIDI's default note-off velocity


@realtime
def midi_key(key):
    return min(127, max(0, int(key + 0.5)))


@realtime
def start(table, sample_time, note_id, instrument, key, velocity, bus, pan):
    """A note on an LV2 instrument: its slot, and the note on at the plugin's next run. Returns 0, or
    REFUSED_NO_VOICE. The plugin plays into the bus of its latest note (it has one output)."""
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    plugin = instrument_plugin(table, instrument)
    slot = allocate_voice(table, voice_values, voice_ints, f64_1d(table, A_CONFIG_FLOAT)[CF_FADE_SAMPLES],
                          i64_1d(table, A_CONFIG)[C_POLYPHONY])
    if slot < 0:
        return ev.REFUSED_NO_VOICE
    voice_ints[VS_STAGE, slot] = STAGE_SUSTAIN
    voice_ints[VS_KIND, slot] = KIND_PLUGIN
    voice_ints[VS_INSTRUMENT, slot] = instrument
    voice_ints[VS_BUS, slot] = bus
    voice_values[V_NOTE_ID, slot] = note_id
    voice_values[V_KEY, slot] = midi_key(key)
    voice_values[V_VELOCITY, slot] = velocity
    voice_values[V_STARTED_AT, slot] = sample_time
    voice_values[V_ENVELOPE, slot] = velocity  # what stealing compares
    i64_2d(table, A_PLUGIN_INTS)[P_BUS, plugin] = bus
    for other in range(voice_ints.shape[1]):
        if voice_ints[VS_KIND, other] == KIND_PLUGIN and other != slot:
            render(table, other, sample_time)
    queue_midi(table, plugin, sample_time, NOTE_ON_STATUS, midi_key(key),
               min(127, max(1, int(velocity * 127.0 + 0.5))), 3)
    return 0


@realtime
def release(voice_values, voice_ints, slot):
    voice_ints[VS_STAGE, slot] = STAGE_RELEASE


@realtime
def render(table, slot, position):
    """A released, stolen or faded note sends its note off on `position` and frees its slot."""
    voice_ints = i64_2d(table, A_VOICE_INTS)
    stage = voice_ints[VS_STAGE, slot]
    if stage == STAGE_SUSTAIN or stage == STAGE_FREE:
        return
    plugin = instrument_plugin(table, voice_ints[VS_INSTRUMENT, slot])
    if plugin >= 0:
        queue_midi(table, plugin, position, NOTE_OFF_STATUS, int(f64_2d(table, A_VOICE_VALUES)[V_KEY, slot]),
                   RELEASE_VELOCITY, 3)
    voice_ints[VS_STAGE, slot] = STAGE_FREE
