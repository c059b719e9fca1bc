"""A soak: a show live for N minutes with MIDI and OSC traffic, as on a long stage day.

`python bench/soak.py [--minutes N]` starts a private JACK dummy server, runs `liveengine run`
on it (a show whose part plays a note every half beat, with a keyboard and the OSC surface),
and for N minutes plays the keyboard over JACK MIDI (notes, chords, the sustain pedal) while
OSC clients query, command and subscribe over UDP and TCP. An idle reference client on the same
server counts the cycles it misses, so the engine's missed cycles can be told from the
server's own. At the end it prints the missed cycles of the engine and of the reference
client, late events, DSP load, and the engine's resident memory and open descriptors at start
and end.
"""

import argparse
import json
import os
import pathlib
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import rtmidi

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the cycle-counting JACK client the live tests use

from jackcapture import JackCapture  # noqa: E402

from liveengine.osc.server import message, take_slip_packets  # noqa: E402
from liveengine.drivers.jackserver import PrivateJackServer, realtime_allowed  # noqa: E402
from pythonosc import osc_packet, slip  # noqa: E402

RATE = 48000
PERIOD = 256
KEYS_PORT = "soak keys"


def show_text(minutes: float, port: int) -> str:
    beats = int(minutes * 60 * 2) + 8  # 120 bpm
    notes = ", ".join(f'[{60 + (i * 7) % 24}, {i / 2}, 0.4, 0.6]' for i in range(beats * 2))
    return f"""
[show]
name = "Soak"
[audio]
sample_rate = {RATE}
block_size = {PERIOD}
voices = 128
[osc]
port = {port}
[instruments.tone]
type = "tone"
release_ms = 80
[instruments.pad]
type = "tone"
attack_ms = 5
release_ms = 300
[setups.plain]
layers = [{{instrument = "pad"}}]
[keyboards.upper]
input = "{KEYS_PORT}"
setup = "plain"
[[parts]]
name = "a"
instrument = "tone"
notes = [{notes}]
"""


def free_port() -> int:
    """A port free for OSC over both UDP and TCP."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
            udp.bind(("127.0.0.1", 0))
            try:
                tcp.bind(("127.0.0.1", udp.getsockname()[1]))
                return udp.getsockname()[1]
            except OSError:
                pass


def process_figures(pid: int) -> tuple[float, int]:
    """Resident memory (MB) and open descriptors of a process."""
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


class OscTraffic:
    """A console's traffic: queries and bus commands over UDP, the feed subscribed and renewed,
    and a TCP client asking for the cue list and state; counts what it sent and heard."""

    def __init__(self, port: int):
        self.port = port
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.05)
        self.queries = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the soak's own /state, apart
        self.queries.bind(("127.0.0.1", 0))
        self.queries.settimeout(0.2)
        self.sent = self.replies = self.feed_bundles = self.pongs = 0
        self.unanswered_pings = 0

    def state(self, timeout: float = 2.0) -> dict | None:
        """The engine's /state, or None when the show is not running (yet)."""
        self.queries.sendto(message("/state"), ("127.0.0.1", self.port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                packet = self.queries.recv(65536)
            except TimeoutError:
                continue
            if packet.startswith(b"/reply/state"):
                reply = json.loads(osc_packet.OscPacket(packet).messages[0].message.params[0])
                return reply["data"] if reply["status"] == "ok" else None
        return None

    def run(self, stopping: threading.Event):
        rng = random.Random(1)
        tcp = socket.create_connection(("127.0.0.1", self.port), timeout=2.0)
        tcp.settimeout(0.0)
        pending = bytearray()
        pings_out = 0
        next_subscribe = 0.0
        while not stopping.is_set():
            now = time.monotonic()
            if now >= next_subscribe:  # renewed well within its 10 s
                self._send(message("/subscribe", 10))
                next_subscribe = now + 5.0
            self._send(message("/ping"))
            pings_out += 1
            choice = rng.random()
            if choice < 0.3:
                self._send(message("/bus/keys/gain", rng.uniform(-12.0, 0.0), 0.5))
            elif choice < 0.5:
                self._send(message("/buses"))
            tcp.sendall(slip.encode(message(rng.choice(["/state", "/cuelist", "/ping"]))))
            self.sent += 1
            stopping.wait(0.05)  # 20 rounds a second
            self._receive()
            try:
                pending += tcp.recv(1 << 20)
            except BlockingIOError:
                pass
            self.replies += sum(packet is not None for packet in take_slip_packets(pending))
        self._receive()
        tcp.close()
        self.unanswered_pings = pings_out - self.pongs

    def _send(self, packet: bytes):
        self.udp.sendto(packet, ("127.0.0.1", self.port))
        self.sent += 1

    def _receive(self):
        while True:
            try:
                packet = self.udp.recv(65536)
            except (TimeoutError, BlockingIOError):
                return
            if packet.startswith(b"#bundle"):
                self.feed_bundles += 1
            else:
                self.replies += 1
                self.pongs += packet.startswith(b"/reply/ping")


def late_cycles(client: JackCapture, first: int) -> tuple[int, int]:
    """From cycle `first` on: the late cycles, counted as the engine counts its own (a gap of
    1.5 periods or more between two callbacks, the periods it spans less one), and the cycles
    the client never saw (gaps in JACK's frame times)."""
    frames, started_ns, _ = client.cycle_log()
    gaps = np.diff(started_ns[first:]) / (PERIOD / RATE * 1e9)
    late = int(np.maximum(np.floor(gaps + 0.5) - 1, 0).sum())
    skipped = int((np.diff(frames[first:]) - PERIOD).clip(0).sum()) // PERIOD
    return late, skipped


def play_keyboard(keys: rtmidi.MidiOut, stopping: threading.Event) -> int:
    """A keyboardist: notes and chords, the sustain pedal now and then; returns the notes played."""
    rng = random.Random(2)
    played = 0
    while not stopping.is_set():
        chord = rng.sample(range(48, 84), rng.choice([1, 1, 3, 4]))
        velocity = rng.randrange(30, 127)
        for key in chord:
            keys.send_message([0x90, key, velocity])
        played += len(chord)
        if rng.random() < 0.1:
            keys.send_message([0xB0, 64, 127 if rng.random() < 0.5 else 0])
        stopping.wait(rng.uniform(0.05, 0.2))
        for key in chord:
            keys.send_message([0x80, key, 0])
    keys.send_message([0xB0, 64, 0])
    return played


def soak(minutes: float) -> int:
    port = free_port()
    with tempfile.TemporaryDirectory() as folder, \
            PrivateJackServer(sample_rate=RATE, period=PERIOD, realtime=realtime_allowed()) as server:
        show = pathlib.Path(folder) / "soak.toml"
        show.write_text(show_text(minutes, port))
        keys = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=KEYS_PORT)
        keys.open_virtual_port("out")
        seconds = minutes * 60
        reference = JackCapture(seconds=seconds + 300, name="idle reference", channels=1, max_gaps=1 << 20).start()
        run = subprocess.Popen([sys.executable, "-m", "liveengine.cli", "run", str(show), "--seconds",
                                str(seconds + 30)], cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        osc = OscTraffic(port)
        try:
            deadline = time.monotonic() + 180  # a cold kernel cache compiles first
            while (start := osc.state()) is None:
                if run.poll() is not None or time.monotonic() > deadline:
                    print(run.communicate()[1][-3000:] if run.poll() is not None else "the show did not start")
                    return 1
            time.sleep(2.0)  # the keyboard's port found, the stream settled
            start = osc.state()
            rss_start, fds_start = process_figures(run.pid)
            reference_start = reference.cycles
            stopping = threading.Event()
            traffic = threading.Thread(target=osc.run, args=(stopping,), name="osc traffic")
            traffic.start()
            keyboard_notes = []
            keyboard = threading.Thread(target=lambda: keyboard_notes.append(play_keyboard(keys, stopping)))
            keyboard.start()
            began = time.monotonic()
            dsp_peak = 0.0
            while time.monotonic() - began < seconds and run.poll() is None:
                time.sleep(5.0)
                now = osc.state()
                if now is not None:
                    dsp_peak = max(dsp_peak, now["dsp_percent"])
            stopping.set()
            traffic.join()
            keyboard.join()
            time.sleep(1.0)  # the last notes' releases
            end = osc.state()
            rss_end, fds_end = process_figures(run.pid)
            reference_late, reference_skipped = late_cycles(reference, reference_start)
        finally:
            if run.poll() is None:
                run.send_signal(signal.SIGINT)
            out, err = run.communicate(timeout=60)
            reference.stop()
            keys.close_port()
            keys.delete()  # its JACK client closed before the server stops
    if end is None:
        print(f"the show stopped before the soak ended:\n{err[-3000:]}")
        return 1
    lines = out.splitlines()
    summary = "\n".join(next((lines[i:] for i, line in enumerate(lines) if line.startswith("OSC: ")), []))
    print(f"Soak: {minutes:g} min of a live show on a private JACK dummy server ({RATE} Hz, period {PERIOD}), "
          f"{server.name}")
    print(f"Traffic: {keyboard_notes[0]:,} keyboard notes over JACK MIDI, {osc.sent:,} OSC messages over UDP "
          f"and TCP, {osc.replies:,} replies and {osc.feed_bundles:,} feed bundles heard, "
          f"{osc.unanswered_pings} /pings unanswered")
    print(f"Missed cycles: engine {end['dropouts'] - start['dropouts']}, idle reference client {reference_late} "
          f"(gaps between callbacks of 1.5 periods or more, the periods spanned less one); cycles the reference "
          f"client never saw: {reference_skipped}")
    print(f"Late events: {end['late_events'] - start['late_events']}")
    for line in (out + err).splitlines():
        if "late events (" in line:  # the run's own word on them: what was late, and by how much
            print(f"  {line.strip()}")
    print(f"DSP load: {end['dsp_percent']:.1f}% at the end, {dsp_peak:.1f}% the highest average seen")
    print(f"Resident memory: {rss_start:.1f} MB at start, {rss_end:.1f} MB at the end")
    print(f"Open descriptors: {fds_start} at start, {fds_end} at the end")
    print(f"The run's own summary:\n{summary}")
    return 0 if "Traceback" not in err else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the show plays (default 10)")
    return soak(parser.parse_args().minutes)


if __name__ == "__main__":
    sys.exit(main())
