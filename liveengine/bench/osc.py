"""The OSC benchmark: command round trips, and the message rate the server carries out while
the engine plays 256 voices live, without a missed audio cycle.

The engine runs on a private JACK dummy server, as on stage; the OSC server, its worker and
the cue runner run in this process, as under `liveengine run`; the client is a plain UDP
socket in this process too (its cost is counted against the server's).
"""

import socket
import threading
import time

import numpy as np

from ..show.reader import parse_show
from ..osc.server import OscServer, message
from ..osc.surface import OscSurface
from ..drivers.devices import choose_device
from ..drivers.stream import LiveStream
from ..engine import NotificationPump
from ..show.cues import CueRunner
from ..show.rig import build_rig

RATE = 48000
BLOCK = 64
VOICES = 256
SHOW = f"""
[show]
name = "OSC bench"
[audio]
sample_rate = {RATE}
block_size = {BLOCK}
voices = 512
[osc]
messages_per_second = 100000
[instruments.tone]
type = "tone"
gain_db = -60
"""


class _Running:
    """An engine playing VOICES tones on the current JACK server, with its OSC surface."""

    def __init__(self):
        self.rig = build_rig(parse_show(SHOW, "oscbench.toml"))
        engine = self.rig.engine
        self.runner = CueRunner(self.rig, engine.producer("show"))
        control = engine.producer("control")
        for note in range(VOICES):
            control.note_on(0, note + 1, 0, 36 + note % 60, 0.1, "keys")
        self.surface = OscSurface(self.rig, self.runner, engine.producer("osc"))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.server = OscServer(self.surface.handle, self.port, ("127.0.0.1",), ("127.0.0.1/32",), 100000.0)
        self.stream = LiveStream(engine.state, choose_device(None, 2, 0), BLOCK)
        self._stopping = threading.Event()

    def __enter__(self):
        self._pump = NotificationPump(self.rig.engine).__enter__()
        self.stream.start()
        self.server.start()
        self._runner = threading.Thread(target=self._run_runner, daemon=True)
        self._runner.start()
        time.sleep(0.5)
        return self

    def _run_runner(self):
        while not self._stopping.wait(0.01):
            self.runner.update(self.rig.engine.position)

    def __exit__(self, *exc):
        self._stopping.set()
        self._runner.join()
        self.server.stop()
        self.stream.close()
        self._pump.__exit__(*exc)

    def cycles(self) -> tuple[int, float]:
        """(callbacks delivered, cycles the stream's clock says there were)."""
        return self.rig.engine.telemetry().callbacks, self.stream.stream_time() * RATE / BLOCK


def round_trips(running: _Running, count: int) -> dict:
    """Seconds from sending to hearing the reply: a query (/ping), and a command carried out by
    the engine (/bus/keys/gain, after /replies 1)."""
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(1.0)
    target = ("127.0.0.1", running.port)
    client.sendto(message("/replies", 1), target)
    client.recvfrom(65536)
    results = {}
    for name, packet in (("/ping", message("/ping")), ("/bus/keys/gain", message("/bus/keys/gain", -3.0, 0.0))):
        times = []
        for _ in range(count):
            began = time.perf_counter()
            client.sendto(packet, target)
            client.recvfrom(65536)
            times.append(time.perf_counter() - began)
        results[name] = (float(np.percentile(times, 50)) * 1e6, float(np.percentile(times, 99)) * 1e6)
    client.close()
    return results


def sustained(running: _Running, rate: float, seconds: float) -> dict:
    """Send /bus/keys/gain at `rate` per second for `seconds`: what was carried out, cycles kept."""
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    target = ("127.0.0.1", running.port)
    packet = message("/bus/keys/gain", -3.0, 0.0)
    carried_before = running.surface.commands_carried_out
    delivered_before, expected_before = running.cycles()
    began = time.perf_counter()
    sent = 0
    while (elapsed := time.perf_counter() - began) < seconds:
        due = int(elapsed * rate)
        while sent < due:
            client.sendto(packet, target)
            sent += 1
        time.sleep(0.0005)
    time.sleep(0.3)  # let the worker finish what it holds
    client.close()
    delivered, expected = running.cycles()
    return {"sent": sent, "carried_out": running.surface.commands_carried_out - carried_before,
            "delivered": delivered - delivered_before, "expected": expected - expected_before}


def run_osc_benchmarks(quick: bool):
    from ..drivers.jackserver import PrivateJackServer, realtime_allowed
    realtime = realtime_allowed()
    print(f"OSC on a private JACK server (dummy driver, {RATE} Hz, period {BLOCK}, "
          f"{'real-time' if realtime else 'no real-time'} scheduling), the engine playing {VOICES} voices:")
    server = PrivateJackServer(sample_rate=RATE, period=BLOCK, playback_channels=2, realtime=realtime)
    with server, _Running() as running:
        for name, (p50, p99) in round_trips(running, 500 if quick else 5000).items():
            print(f"  round trip {name:<16} p50 {p50:7.0f} us   p99 {p99:7.0f} us")
        seconds = 1.0 if quick else 3.0
        for rate in (1000, 2000, 5000, 10000, 20000, 40000):
            r = sustained(running, rate, seconds)
            kept = r["carried_out"] / r["sent"]
            print(f"  {rate:>6} messages/s for {seconds:g} s: {r['carried_out']:>6} of {r['sent']:>6} carried out "
                  f"({100 * kept:5.1f}%), audio cycles {r['delivered']} of {r['expected']:.0f}")
