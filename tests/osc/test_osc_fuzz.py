"""100,000 fuzzed OSC packets against `liveengine run` on a private JACK dummy server."""

import json
import os
import re
import socket
import subprocess
import sys
import time

from liveengine.osc.server import message

from commandline import ROOT
from oscpeers import free_port, fuzzed_packets


def test_a_hundred_thousand_fuzzed_packets_leave_the_engine_playing_and_answering(tmp_path):
    port = free_port()
    show = tmp_path / "fuzz.toml"
    show.write_text(f"""
[show]
name = "Fuzz"
[audio]
block_size = 256
[osc]
port = {port}
messages_per_second = 100000
[instruments.tone]
type = "tone"
[[parts]]
name = "a"
instrument = "tone"
notes = [["A4", 0, 60, 0.2], ["E5", 0, 60, 0.2]]
[[cues]]
number = "1M1"
at = "01:00:00:00"
actions = [{{start = "a"}}]
""")
    command = [sys.executable, "-m", "liveengine.cli", "run", str(show), "--jack-dummy", "--seconds", "20"]
    run = subprocess.Popen(command,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=ROOT, env=dict(os.environ))
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.settimeout(0.5)
    try:
        deadline = time.monotonic() + 60
        answered = False
        while not answered:  # until the engine runs and its OSC answers
            assert time.monotonic() < deadline and run.poll() is None, run.stderr.read() if run.poll() else ""
            peer.sendto(message("/ping"), ("127.0.0.1", port))
            try:
                answered = b"pong" in peer.recvfrom(65536)[0]
            except TimeoutError:
                pass
        fuzzer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sent = 0
        for packet in fuzzed_packets(100_000):
            try:
                fuzzer.sendto(packet, ("127.0.0.1", port))
                sent += 1
            except OSError:  # an empty datagram, or the local buffer full for a moment
                pass
            if sent % 250 == 0:
                time.sleep(0.02)  # a flood (about 12,000 packets a second) the server reads whole
        fuzzer.close()
        # The server works through what the flood left in its queue first, and a /state sent while the
        # socket's buffer is full is lost as any datagram would be: ask again until it answers.
        reply = None
        deadline = time.monotonic() + 30
        while reply is None:
            assert time.monotonic() < deadline, "the engine stopped answering after the flood"
            peer.sendto(message("/state"), ("127.0.0.1", port))
            try:
                while reply is None:
                    packet = peer.recvfrom(65536)[0]
                    if packet.startswith(b"/reply/state"):
                        reply = packet
            except TimeoutError:
                pass
        state = json.loads(reply[reply.index(b"{"):reply.rindex(b"}") + 1])
        assert state["status"] == "ok"
        out, err = run.communicate(timeout=60)
    finally:
        peer.close()
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, err
    assert "Traceback" not in err and "failed" not in err, err
    assert sent > 95_000
    received, malformed = map(int, re.search(r"OSC: (\d+) packets, .* (\d+) malformed", out).groups())
    assert received > 90_000 and malformed > 20_000, out[-2000:]
    callbacks, expected = map(float, re.search(r"(\d+) callbacks of \d+ frames .* that time allows (\d+)",
                                               out).groups())
    assert callbacks >= 0.98 * expected, out[-2000:]
