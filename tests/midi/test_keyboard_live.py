"""A keyboardist plays into the engine through JACK MIDI; a JACK capture client hears the notes.

Each note-on is stamped on arrival and scheduled the fixed latency after the sample then
playing (DESIGN.md §4): the captured audio must show it exactly there, as the offline render
of the same note. JACK clients run in the test process, so `.ci/run` gives this file a
process of its own.
"""

import time

import numpy as np
import pytest
import rtmidi

from liveengine.show.reader import parse_show
from liveengine.midi.keyboard import Keyboards
from liveengine.midi.poller import shared_poller
from liveengine.midi.ports import close_midi_inputs
from liveengine.engine import NotificationPump
from liveengine.show.rig import build_rig

from livecapture import LATENCY, PERIOD, RATE, capture_engine, heard_without_interruption
from livekeyboard import KEYBOARD_SHOW, live_keyboard, playing_keyboard

pytestmark = pytest.mark.jack_process

NOTES = 16
NOTE_SECONDS = 0.03



def test_notes_played_over_jack_midi_sound_on_their_scheduled_samples(live_server):
    engine, keyboards, keys_out, inputs, stream = live_keyboard()
    sent = []
    try:
        with NotificationPump(engine), capture_engine(stream, seconds=5.0, channels=2) as capture:
            stream.start()
            keyboards.start()
            inputs.start()
            assert capture.wait_cycles(50)
            deadline = time.monotonic() + 5
            while "open" not in inputs.status()["upper"]:
                assert time.monotonic() < deadline, inputs.status()
                time.sleep(0.02)
            time.sleep(0.3)
            for _ in range(NOTES):
                sent.append(time.monotonic_ns())
                keys_out.send_message([0x90, 69, 100])
                time.sleep(NOTE_SECONDS)
                keys_out.send_message([0x80, 69, 0])
                time.sleep(0.1 - NOTE_SECONDS)
            time.sleep(0.2)
            stream.stop()
            capture.pause()
            engine.poll()
            audio, _ = capture.audio()
    finally:
        inputs.stop()
        keyboards.stop()
        stream.close()
        keys_out.close_port()
        keys_out.delete()
    played = [(arrival, sample) for _, _, _, arrival, sample, _ in keyboards.note_log]
    assert len(played) == NOTES and all(sample >= 0 for _, sample in played)
    pairs = dict(engine.clock.recent_pairs)
    late_starts = {late.wanted_sample: late.applied_sample for late in engine.late_events if late.kind == "note on"}
    exact = 0
    for _, sample in played:
        block_start = sample - sample % PERIOD
        cycle = capture.cycle_at_ns(pairs[block_start])
        row = capture.row_of_frame(cycle + sample - block_start)
        if not heard_without_interruption(capture, pairs, block_start, sample + 2000):
            continue
        heard = audio[row - 500:row + 2000, :2]  # the note before ends 960 samples before this one
        assert not heard[:500].any(), "silence before the note"
        onset = int(np.argmax(np.abs(heard[:, 0]) > 0)) - 500 - 1  # a tone's first sample is zero
        if sample in late_starts:  # posted after its block was rendered: reported, and on its block's start
            assert onset == late_starts[sample] - sample
            continue
        assert onset == 0, f"the note sounds {onset} samples off its scheduled sample"
        exact += 1
    assert exact >= NOTES // 4
    # Latency from the send to the scheduled sample: the fixed latency plus the transport.
    added_ms = [(sounds_at - send) / 1e6 for send, (*_, sounds_at) in zip(sent, keyboards.note_log)]
    assert all(0 < ms < LATENCY / RATE * 1000 + 10 for ms in added_ms), added_ms


def test_thru_passes_what_the_keyboard_plays_to_an_external_instrument(live_server):
    show = parse_show(KEYBOARD_SHOW.replace('setup = "plain"', 'setup = "plain"\nthru = "external synth"'), "keys.toml")
    rig = build_rig(show)
    engine = rig.engine
    received = []
    external = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="external synth")
    # System messages too: the thru must not pass them on, and this must see it if it did.
    shared_poller().listen(external, lambda message, _arrival_ns: received.append(message), system_messages=True,
                           name="external synth")
    external.open_virtual_port("in")
    keyboards = Keyboards(show.keyboards, show.setups, rig.instrument_numbers, engine, engine.producer("keyboards"))
    from liveengine.show.session import open_thru
    keyboards.thru["upper"] = open_thru(rig, "upper", show.keyboards["upper"].thru)
    try:
        for message in ([0x90, 60, 100], [0xB0, 64, 127], [0x80, 60, 0], [0xF8], [0x90, 200, 1]):
            keyboards.play("upper", message, -1)
        deadline = time.monotonic() + 2
        while len(received) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        keyboards.thru["upper"].delete()
        close_midi_inputs(external)
    assert received == [[0x90, 60, 100], [0xB0, 64, 127], [0x80, 60, 0]], "performance data only, in order"


def test_garbage_through_jack_midi_leaves_the_engine_playing_and_no_note_stuck(live_server):
    garbage = [[0x90, 60], [60, 100], [0x45], [0xF0] + [0x11] * 200 + [0xF7], [0xFE], [0xF8], [0x80, 61, 0],
               [0x90, 0x7F, 0x7F, 0x7F], [0xB0, 0x40], [0xE0, 0x00], [0xC0]]
    with playing_keyboard() as (engine, keyboards, keys_out, stream):
        callbacks_before, stream_before = engine.telemetry().callbacks, stream.stream_time()
        for _ in range(20):
            for message in garbage:
                try:
                    keys_out.send_message(message)
                except (ValueError, rtmidi.RtMidiError):
                    pass  # a message python-rtmidi itself refuses to send
        time.sleep(0.2)  # the sender's JACK buffer holds a few cycles' worth: let it drain
        keys_out.send_message([0x90, 64, 100])  # a note held through the flood
        began = time.monotonic()
        sent = 0
        while time.monotonic() - began < 1.0:  # a controller at 10,000 messages a second
            for _ in range(100):
                keys_out.send_message([0xB0, 11, sent % 128])
                sent += 1
            time.sleep(0.01)
        keys_out.send_message([0x80, 64, 0])
        time.sleep(0.5)
        telemetry, stream_after = engine.telemetry(), stream.stream_time()
    assert sent >= 9000
    expected = (stream_after - stream_before) * RATE / PERIOD
    assert telemetry.callbacks - callbacks_before >= 0.95 * expected, "the engine kept its cycles"
    assert telemetry.voices == 0, "the note ended: nothing stuck"
    assert [entry[1] for entry in keyboards.note_log] == [64], "the only note played was the real one"
    assert keyboards.ignored > 0, "malformed messages reached it, and were counted and ignored"
