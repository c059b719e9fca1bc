"""The engine's live stream heard by a JACK capture client (jackcapture.py) on a private JACK server
with the dummy driver: the server's rate and period the live tests share, the capture connected to
the stream's outputs, and whether a stretch of engine blocks reached the capture without a gap."""

from jackcapture import JackCapture
from liveengine.drivers.jackserver import portaudio_jack_client_name

RATE = 48000
PERIOD = 64
# Covers the wake-up jitter of a dummy server without real-time priority on a shared machine;
# the engine's default (two blocks) suits a real-time server with a sound card.
LATENCY = 4 * PERIOD


def stream_ports(jack_client, kind, count):
    """The names of the newest `count` PortAudio ports of `kind` ("in" or "out"): an open
    stream's ports (PortAudio numbers its ports on, stream after stream, in one process)."""
    ports = jack_client.get_ports(f"{portaudio_jack_client_name()}:{kind}_", is_audio=True)
    return sorted((port.name for port in ports), key=lambda name: int(name.rsplit("_", 1)[1]))[-count:]


def capture_engine(stream, seconds, channels=4):
    """A started capture client connected to the first `channels` outputs of an open stream."""
    stream.open()
    capture = JackCapture(seconds=seconds, channels=channels).start()
    capture.connect(stream_ports(capture.client, "out", 4)[:channels])
    return capture


def heard_without_interruption(capture, pairs, first_block, end_sample, period=PERIOD):
    """Whether every engine block (of `period` frames) from `first_block` up to `end_sample` reached
    the capture in the server cycle right after the previous one: no cycle skipped by the engine or
    the capture, so the captured rows line up with engine samples one to one."""
    first_cycle = capture.cycle_at_ns(pairs[first_block])
    for block in range(first_block, end_sample, period):
        if block not in pairs:
            return False
        try:
            if capture.cycle_at_ns(pairs[block]) != first_cycle + block - first_block:
                return False
        except ValueError:
            return False
    return not any(first_cycle <= seen and expected < first_cycle + end_sample - first_block
                   for expected, seen in capture.gaps())
