"""The voice pool and the one voice interface, across every kind of voice (tone, sample, synth):
stolen voices and refused notes are counted once each, the same way whatever the kind."""

import numpy as np
import pytest

from liveengine.engine import Engine, EngineSettings, OfflineRenderer, Refusal
from liveengine.engine import events as ev
from liveengine.instruments.samples import DEFAULT_HEAD_FRAMES, load_heads
from liveengine.kernel.regions import Envelope, Region, SampledInstrument, SampleSource
from liveengine.kernel.state import V_NOTE_ID, VS_STAGE
from liveengine.kernel.synthpatch import Oscillator, SynthPatch

RATE = 48000
BLOCK = 64
KINDS = ("tone", "sampler", "synth")


def engine_playing(kind: str, polyphony: int) -> Engine:
    """An engine whose instrument 0 is of `kind`, its notes held."""
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, polyphony=polyphony))
    if kind == "tone":
        engine.install_tone(0, attack_seconds=0.001, release_seconds=0.2, gain=0.1)
    elif kind == "sampler":
        region = Region(sample=0, pitch_keycenter=60, amp_veltrack=0.0, amp_envelope=Envelope(release=0.2))
        loaded = load_heads(SampledInstrument("sine", [region], [SampleSource("*sine")]), DEFAULT_HEAD_FRAMES)
        engine.install_sampler(0, SampledInstrument("sine", [region], [SampleSource("*sine")]), loaded.samples)
    else:
        engine.install_synth(0, SynthPatch("sine", oscillators=(Oscillator("sine"),),
                                           amp_envelope=Envelope(attack=0.001, release=0.2)))
    return engine


@pytest.mark.parametrize("kind", KINDS)
def test_every_stolen_voice_and_every_refused_note_is_counted_once_whatever_the_kind(kind):
    # Polyphony 1: each new note steals the one before, until every voice slot (the polyphony and its
    # headroom for fading voices) is taken; the notes after that are refused, and steal nothing.
    engine = engine_playing(kind, polyphony=1)
    slots = engine.settings.voice_slots
    notes = slots + 12
    producer = engine.producer("control")
    for note in range(1, notes + 1):
        producer.note_on(0, note, 0, 48 + note % 24, 0.8, "keys")
    OfflineRenderer(engine.state, BLOCK).render(round(0.01 * RATE))  # the stolen voices' fades are over
    state = engine.state
    sounding = {int(state.voice_values[V_NOTE_ID, s]) for s in np.nonzero(state.voice_ints[VS_STAGE])[0]}
    assert sounding == {slots}, "the last note that found a slot sounds on: the refused notes after it cut nothing"
    telemetry = engine.telemetry()
    assert telemetry.voices_stolen == slots - 1, "each note but the first stole the one before it"
    engine.poll()
    refused = [refusal.note for refusal in engine.refused_notes if refusal.reason is Refusal.NO_VOICE]
    assert refused == list(range(slots + 1, notes + 1))
    assert telemetry.notes_refused == len(refused)


@pytest.mark.parametrize("kind", KINDS)
def test_a_note_to_a_bus_that_does_not_exist_is_refused_as_such_whatever_the_kind(kind):
    engine = engine_playing(kind, polyphony=8)
    engine.producer("control").post(0, ev.NOTE_ON, 1, 0, 60.0, 0.8, len(engine.settings.buses))
    out = OfflineRenderer(engine.state, BLOCK).render(BLOCK)
    engine.poll()
    assert not out.any()
    assert [(r.sample, r.note, r.reason) for r in engine.refused_notes] == [(0, 1, Refusal.BAD_BUS)]
    assert engine.telemetry().notes_refused == 1
