"""A keyboardist at the engine live: a show whose keyboard "upper" listens to a JACK MIDI port that
a test client ("test keys") plays, on the private JACK server of livecapture.py (its rate, period
and scheduling latency)."""

import contextlib
import time

import rtmidi

from liveengine.drivers.devices import choose_device
from liveengine.drivers.stream import LiveStream
from liveengine.engine import NotificationPump
from liveengine.midi.inputs import MidiInputs, MidiInputSpec
from liveengine.midi.keyboard import Keyboards
from liveengine.show.reader import parse_show
from liveengine.show.rig import build_rig

from livecapture import LATENCY, PERIOD, RATE

KEYBOARD_SHOW = f"""
[show]
name = "Live keys"
[audio]
sample_rate = {RATE}
block_size = {PERIOD}
output_channels = 4
input_channels = 2
voices = 64
scheduling_latency_ms = {LATENCY / RATE * 1000}
[osc]
enabled = false
[instruments.tone]
type = "tone"
attack_ms = 2
release_ms = 50
[setups.plain]
layers = [{{instrument = "tone", curve = "fixed", fixed = 0.5}}]
[keyboards.upper]
input = "test keys"
setup = "plain"
"""


def live_keyboard():
    """An engine with the show's keyboard on a JACK MIDI input, a test client's port "test keys"
    playing into it, and the engine's stream (not started)."""
    show = parse_show(KEYBOARD_SHOW, "keys.toml")
    rig = build_rig(show)
    engine = rig.engine
    keyboards = Keyboards(show.keyboards, show.setups, rig.instrument_numbers, engine, engine.producer("keyboards"))
    keys_out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="test keys")
    keys_out.open_virtual_port("out")
    inputs = MidiInputs([MidiInputSpec("upper", "test keys", None)], keyboards.receive,
                        apis=[rtmidi.API_UNIX_JACK], poll_seconds=0.2)
    return engine, keyboards, keys_out, inputs, LiveStream(engine.state, choose_device(None, 4, 2), PERIOD)


@contextlib.contextmanager
def playing_keyboard():
    """`live_keyboard()` running: its stream, keyboard and input started, the input open; yields
    (engine, keyboards, keys_out, stream), and stops and closes everything after."""
    engine, keyboards, keys_out, inputs, stream = live_keyboard()
    try:
        with NotificationPump(engine):
            stream.start()
            keyboards.start()
            inputs.start()
            deadline = time.monotonic() + 5
            while "open" not in inputs.status()["upper"]:
                assert time.monotonic() < deadline, inputs.status()
                time.sleep(0.02)
            yield engine, keyboards, keys_out, stream
    finally:
        inputs.stop()
        keyboards.stop()
        stream.close()
        keys_out.close_port()
        keys_out.delete()
