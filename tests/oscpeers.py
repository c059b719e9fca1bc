"""OSC peers for the OSC tests: free local ports, a UDP peer that sends messages and reads the
replies, the OSC surface of a small show run in the test's process (its rig, cue runner, server
and feed), and seeded fuzzed packets."""

import json
import math
import random
import socket
import threading
import time

import numpy as np
from pythonosc import osc_packet

from liveengine.engine import events
from liveengine.kernel.rings import ring_pop_into
from liveengine.midi.keyboard import Keyboards
from liveengine.osc.feed import FeedPublisher
from liveengine.osc.server import OscServer, message
from liveengine.osc.surface import OscSurface
from liveengine.show.cues import CueRunner
from liveengine.show.reader import parse_show
from liveengine.show.rig import build_rig

SURFACE_SHOW = """
[show]
name = "OSC"
[timecode]
rate = "25"
[instruments.tone]
type = "tone"
[[parts]]
name = "a"
instrument = "tone"
notes = [["A4", 0, 1, 0.5]]
[[cues]]
number = "1M1"
name = "Opening"
go = true
actions = [{start = "a"}]
[[cues]]
number = "1M2"
name = "Second"
at = "01:00:10:00"
actions = [{stop = "a"}]
"""


class ReplyCatcher:
    """An OSC client as the surface sees it, whose replies (address, decoded JSON) are kept instead of sent."""

    host, port, connection, server = "127.0.0.1", 9000, None, None
    key = ("udp", "127.0.0.1", 9000)

    def __init__(self):
        self.replies = []

    def send(self, address, *args):
        self.replies.append((address, json.loads(args[0])))


def free_port() -> int:
    """A port free for UDP and for a TCP listener, as the OSC server binds both: a free UDP port may be a
    TCP client's ephemeral port meanwhile (the tests open many)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server's listener
            try:
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class Surface:
    """A rig, its cue runner (run by a thread here, as by `run`), the OSC server and its feed."""

    def __init__(self, allow=("127.0.0.1/32",), messages_per_second=500.0, show=SURFACE_SHOW, arm=False):
        self.rig = build_rig(parse_show(show, "osc.toml"))
        self.arm = arm  # the cues, for a test that plays the engine (`render`)
        self.runner = CueRunner(self.rig, self.rig.engine.producer("show"))
        self.port = free_port()
        self.keyboards = Keyboards(self.rig.show.keyboards, self.rig.show.setups, self.rig.instrument_numbers,
                                   self.rig.engine, self.rig.engine.producer("keyboards")) \
            if self.rig.show.keyboards else None
        self.surface = OscSurface(self.rig, self.runner, self.rig.engine.producer("osc"), keyboards=self.keyboards)
        self.server = OscServer(self.surface.handle, self.port, ("127.0.0.1",), allow, messages_per_second)
        self.feed = FeedPublisher(self.surface)
        self._stopping = threading.Event()
        self._runner_thread = threading.Thread(target=self._run_runner, daemon=True)

    def _run_runner(self):
        if self.arm:
            self.runner.arm()
        while not self._stopping.wait(0.005):
            self.runner.update(self.rig.engine.position)

    def __enter__(self):
        if self.keyboards is not None:
            self.keyboards.start()
        self.server.start()
        self.server.on_refused = lambda host: self.feed.event("osc", f"refused client {host}")
        self.feed.start()
        self._runner_thread.start()
        return self

    def __exit__(self, *exc):
        self._stopping.set()
        self._runner_thread.join()
        self.feed.stop()
        self.server.stop()
        if self.keyboards is not None:
            self.keyboards.stop()

    def decisions(self):
        return [(d.cue, d.text) for d in list(self.runner.decisions)]

    def wait_for(self, condition, seconds=3.0):
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, self.decisions()
            time.sleep(0.01)

    def render(self, seconds: float, block_size: int = 256) -> float:
        """Play the engine offline for about `seconds` (whole blocks), as its audio thread would;
        returns the seconds played."""
        from liveengine.engine import OfflineRenderer
        renderer = OfflineRenderer(self.rig.engine.state, block_size)
        blocks = math.ceil(seconds * self.rig.engine.settings.sample_rate / block_size)
        for _ in range(blocks):
            renderer.render_block()
        return blocks * block_size / self.rig.engine.settings.sample_rate

    def osc_events(self):
        """Events the OSC worker posted on the engine's osc ring, as (kind, target, a, b)."""
        ring = self.rig.engine.state.input_rings["osc"]
        rows = np.zeros((64, events.EVENT_WIDTH))
        count = ring_pop_into(ring.rows, ring.indices, rows, 64)
        return [(int(r[events.KIND]), int(r[events.TARGET]), r[events.A], r[events.B]) for r in rows[:count]]


class UdpPeer:
    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(2.0)

    def send(self, port, address, *args):
        self.sock.sendto(message(address, *args), ("127.0.0.1", port))

    def receive(self):
        packet, _ = self.sock.recvfrom(65536)
        return [(timed.message.address, list(timed.message.params)) for timed in osc_packet.OscPacket(packet).messages]

    def reply(self):
        (address, (text,)), = self.receive()
        return address, json.loads(text)


ADDRESSES = ["/go", "/stop", "/panic", "/back", "/cue/1M1/start", "/cue/1M1/stop", "/cue/x/standby",
             "/bus/keys/gain", "/bus/master/mute", "/locate", "/cuelist", "/state", "/subscribe", "/unsubscribe",
             "/replies", "/seq/5/go", "/setup/a", "/ping"]
ARGUMENTS = [[], [1], [-6.0, 2.0], ["01:00:00:00"], ["x" * 300], [float("nan")], [2 ** 31 - 1], [b"\x00" * 64],
             [True], [1.5, "a", 3]]


def fuzzed_packets(count, seed=1):
    """Random bytes, and valid messages mutated: bytes flipped, truncated, extended, type tags changed."""
    rng = random.Random(seed)
    for _ in range(count):
        roll = rng.random()
        if roll < 0.3:
            yield rng.randbytes(rng.randrange(0, 600))
            continue
        packet = bytearray(message(rng.choice(ADDRESSES), *rng.choice(ARGUMENTS)))
        if roll < 0.5:
            for _ in range(rng.randrange(1, 6)):
                packet[rng.randrange(len(packet))] = rng.randrange(256)
        elif roll < 0.6:
            del packet[rng.randrange(len(packet)):]
        elif roll < 0.7:
            packet += rng.randbytes(rng.randrange(1, 64))
        elif roll < 0.8:
            tags = packet.find(b",")
            if tags >= 0 and tags + 1 < len(packet):
                packet[tags + 1] = rng.choice(b"ifsbhdtTFNIcmr[]")
        elif roll < 0.9:
            packet = bytearray(b"#bundle\0" + rng.randbytes(8) + len(packet).to_bytes(4, "big")) + packet
        yield bytes(packet)
