"""One handover for memory the audio thread adopts or lets go: instruments, cue templates, samples,
staged patches. The control plane writes a resource only while it is its own; one ADOPT hands it over;
one LET_GO asks for it back, and only the audio thread's acknowledgement (its token) gives it back."""

import numpy as np
import pytest
import soundfile

from liveengine.engine import (Engine, EngineSettings, HandedOver, Handover, HandoverError, HandoverOutcome,
                               OfflineRenderer, Resource, events)
from liveengine.instruments.samples import SampleStreamer, load_heads
from liveengine.kernel.synthpatch import Oscillator, SynthPatch
from liveengine.kernel.regions import Envelope, Region, SampledInstrument, SampleSource
from liveengine.kernel.state import I_KIND, KIND_NONE, KIND_SAMPLER, SI_FULL_ADDRESS

RATE = 48000
BLOCK = 64


class Posts:
    """A producer that keeps what is posted."""

    def __init__(self):
        self.rows = []

    def post(self, *row):
        self.rows.append(row)


def answer(token, resource, slot, outcome=HandoverOutcome.DONE):
    return HandedOver(0, token, resource, slot, outcome)


# The mechanism.

def test_a_resource_is_written_only_while_it_is_the_control_planes_and_comes_back_only_on_acknowledgement():
    handover, posts, written, freed = Handover(), Posts(), [], []
    token = handover.adopt(posts, Resource.CUE, 2, lambda: written.append("first"))
    assert posts.rows == [(-1, events.ADOPT, 2, Resource.CUE, token, 0.0)]
    handover.settle(answer(token, Resource.CUE, 2))
    with pytest.raises(HandoverError, match="cue slot 2 is held by the audio thread"):
        handover.adopt(posts, Resource.CUE, 2, lambda: written.append("second"))
    let_go = handover.let_go(posts, Resource.CUE, 2, then=lambda: freed.append(2))
    assert posts.rows[-1] == (-1, events.LET_GO, 2, Resource.CUE, let_go)
    with pytest.raises(HandoverError, match="being let go already"):
        handover.let_go(posts, Resource.CUE, 2)
    with pytest.raises(HandoverError):  # asked back, not given back yet: still not writable
        handover.adopt(posts, Resource.CUE, 2, lambda: written.append("second"))
    assert written == ["first"] and freed == [] and not handover.is_free(Resource.CUE, 2)
    handover.settle(answer(token + 99, Resource.CUE, 2))  # another token gives nothing back
    assert not handover.is_free(Resource.CUE, 2)
    handover.settle(answer(let_go, Resource.CUE, 2))
    assert freed == [2] and handover.is_free(Resource.CUE, 2)
    handover.adopt(posts, Resource.CUE, 2, lambda: written.append("second"))
    assert written == ["first", "second"]


def test_what_the_audio_thread_keeps_stays_held_and_may_be_asked_for_again():
    handover, posts, freed = Handover(), Posts(), []
    handover.adopted(Resource.SAMPLE, 7)  # a sample's full data: adopted as the loader publishes its frames
    token = handover.let_go(posts, Resource.SAMPLE, 7, then=lambda: freed.append(7))
    handover.settle(answer(token, Resource.SAMPLE, 7, HandoverOutcome.KEPT))
    assert freed == [] and not handover.is_free(Resource.SAMPLE, 7)
    token = handover.let_go(posts, Resource.SAMPLE, 7, then=lambda: freed.append(7))
    handover.settle(answer(token, Resource.SAMPLE, 7))
    assert freed == [7] and handover.is_free(Resource.SAMPLE, 7)


def test_a_write_that_fails_leaves_the_resource_the_control_planes_and_posts_nothing():
    handover, posts = Handover(), Posts()

    def write():
        raise ValueError("bad template")

    with pytest.raises(ValueError):
        handover.adopt(posts, Resource.CUE, 1, write)
    assert posts.rows == [] and handover.is_free(Resource.CUE, 1)


def test_a_staged_patch_comes_back_with_its_adoption_and_instruments_are_never_let_go():
    handover, posts, swapped = Handover(), Posts(), []
    token = handover.adopt(posts, Resource.PATCH, 0, then=lambda: swapped.append(0))
    with pytest.raises(HandoverError, match="still being swapped in"):
        handover.adopt(posts, Resource.PATCH, 0)
    handover.settle(answer(token, Resource.PATCH, 0))
    assert swapped == [0] and handover.is_free(Resource.PATCH, 0)
    handover.adopt(posts, Resource.INSTRUMENT, 3, value=KIND_SAMPLER)
    with pytest.raises(HandoverError, match="does not let go of instruments"):
        handover.let_go(posts, Resource.INSTRUMENT, 3)


# Each of the four kinds, through the audio thread.

def sine_instrument():
    return SampledInstrument("sine", [Region(sample=0, pitch_keycenter=60, amp_veltrack=0.0,
                                             amp_envelope=Envelope(release=0.005))], [SampleSource("*sine")])


def test_an_instrument_installed_while_running_sounds_once_adopted_and_its_index_waits_for_that():
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK))
    producer = engine.producer("control")
    answers = engine.subscribe(HandedOver)
    renderer = OfflineRenderer(engine.state, BLOCK)
    loaded = load_heads(sine_instrument())
    engine.install_sampler(3, sine_instrument(), loaded.samples, producer)
    assert engine.state.instruments[I_KIND, 3] == KIND_NONE, "not the audio thread's before its ADOPT applies"
    with pytest.raises(ValueError, match="instrument 3 is installed already"):
        engine.install_sampler(3, sine_instrument(), loaded.samples, producer)
    producer.note_on(-1, 1, 3, 60, 1.0, "keys")  # behind the ADOPT on the same ring: it sounds
    audio = renderer.render(4800)
    engine.poll()
    assert np.abs(audio).max() > 0.1
    assert [(a.resource, a.slot, a.outcome) for a in answers.drain()] == [
        (Resource.INSTRUMENT, 3, HandoverOutcome.DONE)]
    assert engine.state.instruments[I_KIND, 3] == KIND_SAMPLER


def tone_engine():
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK))
    engine.install_tone(0, attack_seconds=0.001, release_seconds=0.01, gain=1.0)
    return engine, engine.producer("show"), OfflineRenderer(engine.state, BLOCK)


def template(key):
    """Part 0 plays one tone (a template's note belongs to its part: part 0, note 1)."""
    return np.array([[0, events.PART_START, 0, 0, 0, 0, 0, 0], [0, events.NOTE_ON, 1, 0, key, 0.5, 0, 0],
                     [2400, events.NOTE_OFF, 1, 0, 0, 0, 0, 0]], float)


def test_a_disarmed_cue_is_not_rewritten_before_the_audio_thread_lets_it_go():
    engine, producer, renderer = tone_engine()
    answers = engine.subscribe(HandedOver)
    first, second = template(69.0), template(81.0)
    armed = producer.arm_cue(5, events.TRIGGER_MANUAL, first)
    renderer.render(BLOCK)
    disarmed = producer.disarm_cue(5)
    with pytest.raises(HandoverError, match="cue slot 5 is armed: disarm it and wait until the audio thread lets"):
        producer.arm_cue(5, events.TRIGGER_MANUAL, second)
    np.testing.assert_array_equal(engine.state.cue_templates[5, :3], first)
    renderer.render(BLOCK)
    engine.poll()
    assert [(a.token, a.resource, a.slot, a.outcome) for a in answers.drain()] == [
        (armed, Resource.CUE, 5, HandoverOutcome.DONE), (disarmed, Resource.CUE, 5, HandoverOutcome.DONE)]
    producer.arm_cue(5, events.TRIGGER_MANUAL, second)
    np.testing.assert_array_equal(engine.state.cue_templates[5, :3], second)
    producer.fire_cue(5)
    assert np.abs(renderer.render(2400)).max() > 0.1, "armed again, it fires"


def test_a_staged_patch_is_not_rewritten_before_it_is_swapped_in_and_the_swap_keeps_the_note_ringing():
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK))
    engine.install_synth(0, SynthPatch("a", oscillators=(Oscillator("sine"),), velocity_sensitivity=0.0, gain=0.5))
    producer = engine.producer("control")
    renderer = OfflineRenderer(engine.state, BLOCK)
    producer.note_on(0, 1, 0, 57, 1.0, "keys")
    renderer.render(RATE // 10)
    engine.reload_synth(0, SynthPatch("b", oscillators=(Oscillator("saw"),), gain=0.25), producer)
    staged = engine.state.staged_patches[0].copy()
    with pytest.raises(HandoverError, match="still being swapped in"):
        engine.reload_synth(0, SynthPatch("c", oscillators=(Oscillator("pulse"),)), producer)
    np.testing.assert_array_equal(engine.state.staged_patches[0], staged)
    after = renderer.render(RATE // 10)
    engine.poll()
    np.testing.assert_array_equal(engine.state.patches[0], staged)
    assert np.abs(after[-RATE // 20:]).max() > 0.05, "the held note rings on through the swap"
    engine.reload_synth(0, SynthPatch("c", oscillators=(Oscillator("pulse"),)), producer)  # its turn now


def test_a_sample_a_voice_plays_is_kept_and_let_go_once_no_voice_plays_it(tmp_path):
    path = tmp_path / "long.wav"
    soundfile.write(path, (0.5 * np.sin(2 * np.pi * 440 * np.arange(2 * RATE) / RATE)).astype(np.float32), RATE,
                    subtype="FLOAT")
    instrument = SampledInstrument("long", [Region(sample=0, pitch_keycenter=60, amp_veltrack=0.0,
                                                   amp_envelope=Envelope(release=0.005))], [SampleSource(str(path))])
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK))
    loaded = load_heads(instrument, 4096)
    slot, = engine.install_sampler(0, instrument, loaded.samples)
    streamer = SampleStreamer(engine, engine.producer("samples"))
    streamer.add(loaded, [slot])
    answers = engine.subscribe(HandedOver)
    renderer = OfflineRenderer(engine.state, BLOCK)
    engine.producer("control").note_on(0, 1, 0, 60, 1.0, "keys")
    renderer.render(RATE // 10, before_block=lambda _: streamer.serve())
    assert not engine.handover.is_free(Resource.SAMPLE, slot), "read in full for its voice: the audio thread's"

    kept = engine.let_go_of_full_sample(slot, streamer.producer)
    sounding = renderer.render(RATE // 10, before_block=lambda _: streamer.serve())
    assert np.abs(sounding[-BLOCK:]).max() > 0.1, "its voice plays on"
    assert [(a.token, a.outcome) for a in answers.drain()] == [(kept, HandoverOutcome.KEPT)]
    assert engine.state.sample_ints[SI_FULL_ADDRESS, slot] != 0 and not engine.handover.is_free(Resource.SAMPLE, slot)

    engine.producer("keyboards").note_off(-1, 1)
    renderer.render(RATE // 10, before_block=lambda _: streamer.serve())
    let_go = engine.let_go_of_full_sample(slot, streamer.producer)
    renderer.render(BLOCK, before_block=lambda _: streamer.serve())
    streamer.serve()
    assert [(a.token, a.outcome) for a in answers.drain()] == [(let_go, HandoverOutcome.DONE)]
    assert engine.state.sample_ints[SI_FULL_ADDRESS, slot] == 0 and engine.handover.is_free(Resource.SAMPLE, slot)
    assert slot not in streamer.resident
