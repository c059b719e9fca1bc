"""Floods of events: more at once than a ring holds. A full ring never loses an event (least of all
a note-off): its producer keeps what it could not post, in order and with its sample times, and
posts it as the audio thread drains the ring. Driven offline through the real kernel."""

import time

import numpy as np
import pytest

from liveengine.show.reader import parse_show
from liveengine.midi.keyboard import Keyboards
from liveengine.engine import BusLayout, Engine, EngineSettings, OfflineRenderer, RingFullError, events
from liveengine.engine.core import BACKLOG_LIMIT
from liveengine.kernel.rings import ring_pop_into
from liveengine.show.rig import build_rig

THREE_LAYERS = """
[show]
name = "Flood"
[audio]
sample_rate = 48000
block_size = 64
voices = 4096
[instruments.piano]
type = "tone"
release_ms = 5
[instruments.strings]
type = "tone"
release_ms = 5
[instruments.choir]
type = "tone"
release_ms = 5
[setups.layered]
layers = [{instrument = "piano"}, {instrument = "strings"}, {instrument = "choir"}]
[keyboards.upper]
input = "Nord"
setup = "layered"
"""


def render_until(renderer, engine, done, blocks=2000):
    for _ in range(blocks):
        if done():
            return True
        renderer.render_block()
        time.sleep(0.0005)  # the keyboard thread's turn, as a live audio thread leaves it
    return done()


def test_a_sustain_pedal_lifting_over_a_thousand_notes_on_three_layers_ends_every_one():
    """About 3,000 note-offs at one instant into the keyboards' ring: none lost, every voice ends."""
    rig = build_rig(parse_show(THREE_LAYERS, "flood.toml"))
    engine = rig.engine
    renderer = OfflineRenderer(engine.state, 64)
    keyboards = Keyboards(rig.show.keyboards, rig.show.setups, rig.instrument_numbers, engine,
                          engine.producer("keyboards"), report=lambda text: None).start()
    try:
        keyboards.receive("upper", [0xB0, 64, 127], 0)  # sustain down
        for i in range(1000):  # each key struck again and again: every strike rings on under the pedal
            key = 21 + i % 88
            keyboards.receive("upper", [0x90, key, 100], 0)
            keyboards.receive("upper", [0x80, key, 0], 0)
            if i % 50 == 49:
                assert render_until(renderer, engine, lambda: keyboards._queue.empty())
        assert render_until(renderer, engine, lambda: engine.telemetry().voices == 3000)
        keyboards.receive("upper", [0xB0, 64, 0], 0)  # the pedal lifts: 3,000 note-offs at once
        # Nothing drains the ring until they are posted: it fills, and the rest wait for room in it.
        assert engine.state.input_rings["keyboards"].capacity < 3000
        deadline = time.monotonic() + 10
        while keyboards.producer.held_back == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        assert keyboards.producer.held_back > 0
        assert render_until(renderer, engine, lambda: engine.telemetry().voices == 0), \
            f"{engine.telemetry().voices} voices still ring after the pedal lifted"
        assert keyboards.dropped == 0
    finally:
        keyboards.stop()


def small_engine(ring_capacity=16):
    return Engine(EngineSettings(max_block=64, polyphony=8, ring_capacity=ring_capacity,
                                 buses=(BusLayout("master", outputs=(0, 1)),)))


def test_a_full_ring_keeps_what_it_cannot_take_and_posts_it_in_order_with_its_sample_times():
    engine = small_engine()
    producer = engine.producer("control")
    ring = engine.state.input_rings["control"]
    for i in range(100):
        producer.note_off(1000 + i, i)
    assert producer.backlog == 100 - 16
    taken = np.zeros((200, events.EVENT_WIDTH))
    count = 0
    while count < 100:
        count += ring_pop_into(ring.rows, ring.indices, taken[count:], 7)  # the audio thread drains a few
        producer.flush() if count % 2 else producer.note_off(1100 + count, 100 + count)  # a tick, or a post
    received = taken[:count]
    samples = received[:, events.SAMPLE]
    assert list(samples[:100]) == [1000.0 + i for i in range(100)]
    assert list(received[:100, events.TARGET]) == list(range(100))
    assert np.all(np.diff(samples) > 0), "never reordered: what waited goes first"


def test_a_producer_raises_only_when_nothing_drains_its_ring():
    engine = small_engine()
    producer = engine.producer("control")
    for i in range(16 + BACKLOG_LIMIT):
        producer.note_off(i, 1)
    with pytest.raises(RingFullError, match="not taking them"):
        producer.note_off(0, 1)
