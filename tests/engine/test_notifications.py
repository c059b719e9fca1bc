"""What the audio thread reports reaches the control plane as typed values, through subscriptions:
each consumer gets the types it asked for, in the order the audio thread made them; nothing is
worded and read back."""

import queue

import numpy as np
import pytest

from liveengine.engine import (Acknowledged, ChaseChange, CueEvent, CueOutcome, Engine, EngineSettings, LateEvent,
                               NoteRefused, OfflineRenderer, PartsStopped, PartStarted, Refusal, StopReason,
                               TimecodeEvent, events)

RATE = 48000
BLOCK = 64


def tone_engine():
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK))
    engine.install_tone(0, attack_seconds=0.001, release_seconds=0.01, gain=1.0)
    return engine, engine.producer("show"), OfflineRenderer(engine.state, BLOCK)


def part_template(part):
    return np.array([[0, events.PART_START, part, 0, 0, 0, 0, 0]], float)


def test_each_subscription_gets_the_types_it_asked_for_in_the_order_they_happened():
    engine, producer, renderer = tone_engine()
    cues = engine.subscribe(CueEvent)
    everything = engine.subscribe(CueEvent, PartStarted, Acknowledged)
    producer.arm_cue(3, events.TRIGGER_MANUAL, part_template(2))
    producer.fire_cue(3, sample=1000)
    producer.fire_cue(4, sample=2000)  # nothing armed there
    token = producer.fence(sample=3000)
    renderer.render(4000)
    engine.poll()
    fired, not_armed = cues.drain()
    assert (fired.what, fired.slot, fired.sample, fired.fired) == (CueOutcome.FIRED, 3, 1000, True)
    assert (not_armed.what, not_armed.slot, not_armed.sample, not_armed.fired) == (CueOutcome.NOT_ARMED, 4, 2000, False)
    seen = everything.drain()
    assert [type(report) for report in seen] == [CueEvent, PartStarted, CueEvent, Acknowledged]
    started = seen[1]
    assert (started.part, started.slot, started.sample, started.offset) == (2, 3, 1000, 0) and started.group > 0
    assert seen[-1] == Acknowledged(3000, token)
    assert cues.empty() and everything.empty()


def test_a_closed_subscription_gets_nothing_more_and_waiting_on_an_empty_one_times_out():
    engine, producer, renderer = tone_engine()
    with engine.subscribe(Acknowledged) as fences:
        producer.fence()
        renderer.render(BLOCK)
        engine.poll()
        assert [type(report) for report in fences.drain()] == [Acknowledged]
        with pytest.raises(queue.Empty):
            fences.get(timeout=0.01)
    producer.fence()
    renderer.render(BLOCK)
    engine.poll()
    assert fences.empty()


def test_only_notification_types_can_be_subscribed_to():
    engine, _, _ = tone_engine()
    for wrong in ((), ("cue",), (int,)):
        with pytest.raises(TypeError, match="notification types"):
            engine.subscribe(*wrong)


def test_late_events_and_refused_notes_arrive_typed_and_word_themselves():
    engine, producer, renderer = tone_engine()
    reports = engine.subscribe(LateEvent, NoteRefused)
    renderer.render(10 * BLOCK)
    producer.note_on(5 * BLOCK, 1, 0, 69, 0.5, "keys")  # after its block played
    producer.note_on(-1, 2, 9, 69, 0.5, "keys")  # no instrument 9
    renderer.render(BLOCK)
    engine.poll()
    late, refused = reports.drain()
    assert (late.kind, late.wanted_sample, late.applied_sample) == ("note on", 5 * BLOCK, 10 * BLOCK)
    assert late.text() == f"late note on: asked for sample {5 * BLOCK}, applied at {10 * BLOCK}"
    assert (refused.note, refused.reason, refused.instrument) == (2, Refusal.NO_INSTRUMENT, 9)
    assert refused.text("instrument piano") == "instrument piano: notes refused: the instrument is not loaded"


def test_reports_word_themselves_as_people_read_them():
    assert PartsStopped(0, StopReason.JUMP).text() == "parts stopped: the picture jumped"
    assert PartsStopped(0, StopReason.TIMECODE_STOPPED).text() == "parts stopped: the timecode stopped"
    assert TimecodeEvent(0, ChaseChange.FREEWHEEL, 90000.0).text("01:00:00:00") == \
        "timecode dropout: freewheel at 01:00:00:00"
    assert f"{ChaseChange.LOCKED:<8}|" == "locked  |"
