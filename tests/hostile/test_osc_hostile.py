"""Hostile OSC: idle and silent TCP connections, floods of bundles, clients that never read, and
seeded fuzzers over UDP and TCP. The surface runs in this process (as in test_osc.py) unless the
case is about the whole process (its file limit), where `liveengine run` runs on a JACK dummy server."""

import json
import logging
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from pythonosc import osc_packet, slip
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder

from liveengine.show.reader import ShowFileError, parse_show
from liveengine.osc import server as osc_module
from liveengine.osc import surface as surface_module
from liveengine.osc.server import (CONNECTIONS_OVER, DESCRIPTOR_RESERVE, MAX_BUNDLE_MESSAGES, NOT_READING,
                                    OVER_RATE, SHORT_OF_FILES, build, count_messages, message)

from commandline import ROOT
from oscpeers import Surface, UdpPeer, free_port, fuzzed_packets

CONNECTIONS = 1100  # beyond select()'s 1,024 descriptors


def open_descriptors(pid="self") -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def thread_cpu_seconds(name: str) -> float:
    thread = next(t for t in threading.enumerate() if t.name == name)
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


HOLDER = """
import resource, socket, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 256)), hard))
held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
print("connected", flush=True)
sys.stdin.read()
"""


class IdleConnections:
    """`count` TCP connections held open by a process of their own (so they take none of this
    process's descriptors), idle until the block ends; those the server closes stay open there."""

    def __init__(self, port: int, count: int):
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, str(port), str(count)], text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def __enter__(self):
        assert self.process.stdout.readline() == "connected\n"
        return self

    def __exit__(self, *exc):
        self.process.stdin.close()
        self.process.wait(timeout=10)


def bundle(messages: list[bytes]) -> bytes:
    return b"#bundle\0" + bytes(8) + b"".join(len(m).to_bytes(4, "big") + m for m in messages)


def ping_all(peer: UdpPeer, port: int, count: int, every: float = 0.01, seconds: float = 2.0) -> int:
    """Send `count` /pings, one every `every` s, and how many were answered within `seconds` of the last."""
    answered = 0
    peer.sock.settimeout(0.0)
    for _ in range(count):
        peer.send(port, "/ping")
        time.sleep(every)
        answered += _drain_pongs(peer)
    deadline = time.monotonic() + seconds
    while answered < count and time.monotonic() < deadline:
        time.sleep(0.02)
        answered += _drain_pongs(peer)
    return answered


def _drain_pongs(peer: UdpPeer) -> int:
    count = 0
    while True:
        try:
            packet = peer.sock.recv(65536)
        except BlockingIOError:
            return count
        count += packet.startswith(b"/reply/ping")


# Item 2: idle TCP connections.

def test_a_thousand_idle_tcp_connections_leave_udp_answered_and_the_network_thread_idle():
    with Surface() as osc:
        before = open_descriptors()
        with IdleConnections(osc.port, CONNECTIONS):
            server = osc.server
            osc.wait_for(lambda: server.connections + server.tallies.get("127.0.0.1", {}).get(CONNECTIONS_OVER, 0)
                         == CONNECTIONS, seconds=20)
            assert server.connections == server.max_connections_per_client  # the rest were refused
            peer = UdpPeer()
            peer.send(osc.port, "/ping")
            assert peer.reply()[1]["data"] == "pong"
            # Two seconds of idle connections cost the network thread next to nothing (no busy loop).
            cpu = thread_cpu_seconds("liveengine-osc-network")
            time.sleep(2.0)
            assert thread_cpu_seconds("liveengine-osc-network") - cpu < 0.2
        osc.wait_for(lambda: osc.server.connections == 0)
        assert open_descriptors() <= before + 4  # the peer's socket, and what the test opened itself


def test_an_idle_tcp_connection_is_closed_after_the_idle_timeout():
    osc = Surface()
    osc.server.idle_seconds = 1.0
    with osc:
        quiet = socket.create_connection(("127.0.0.1", osc.port), timeout=5)
        talking = socket.create_connection(("127.0.0.1", osc.port), timeout=5)
        try:
            for _ in range(8):  # 2 s, saying something every quarter second
                talking.sendall(slip.encode(message("/ping")))
                time.sleep(0.25)
            assert quiet.recv(100) == b""  # closed by the server
            assert b"pong" in talking.recv(65536)
            assert osc.server.connections == 1
        finally:
            quiet.close()
            talking.close()


def test_under_a_1024_file_limit_a_thousand_connections_leave_the_show_its_files(tmp_path):
    port = free_port()
    show = tmp_path / "files.toml"
    show.write_text(f"""
[show]
name = "Files"
[osc]
port = {port}
[instruments.tone]
type = "tone"
[[parts]]
name = "a"
instrument = "tone"
notes = [["A4", 0, 60, 0.2]]
""")
    run = subprocess.Popen([sys.executable, "-m", "liveengine.cli", "run", str(show), "--jack-dummy", "--seconds", "120"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                           preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024)))
    peer = UdpPeer()
    peer.sock.settimeout(0.5)
    try:
        deadline = time.monotonic() + 60
        while True:  # until the show runs and answers
            assert time.monotonic() < deadline and run.poll() is None, run.communicate()[1] if run.poll() else ""
            peer.send(port, "/state")
            try:
                if b'"status": "ok"' in peer.sock.recv(65536):  # not "the show is starting"
                    break
            except TimeoutError:
                pass
        at_start = open_descriptors(run.pid)
        with IdleConnections(port, CONNECTIONS):
            time.sleep(1.0)
            assert open_descriptors(run.pid) <= 1024 - DESCRIPTOR_RESERVE
            peer.sock.settimeout(2.0)
            peer.send(port, "/ping")
            assert b"pong" in peer.sock.recv(65536)
        time.sleep(1.0)
        assert open_descriptors(run.pid) <= at_start + 2
        run.send_signal(signal.SIGINT)  # the operator's Ctrl-C: the show ends with its summary
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 130 and "Traceback" not in err, err
    assert re.search(r"OSC client 127\.0\.0\.1: .*TCP connections over the limits", out), out[-2000:]


def test_connections_are_refused_while_the_process_is_short_of_file_descriptors():
    osc = Surface()
    osc.server.max_connections = osc.server.max_connections_per_client = 4096
    with osc:
        # As if the process had few descriptors left: room for 40 connections and the reserve.
        osc.server._descriptor_limit = open_descriptors() + 40 + DESCRIPTOR_RESERVE
        with IdleConnections(osc.port, 200):
            server = osc.server
            osc.wait_for(lambda: server.connections + server.tallies.get("127.0.0.1", {}).get(SHORT_OF_FILES, 0)
                         == 200, seconds=10)
            assert 35 <= server.connections <= 40  # what the reserve leaves; the rest refused
            peer = UdpPeer()
            peer.send(osc.port, "/ping")
            assert peer.reply()[1]["data"] == "pong"


def test_out_of_file_descriptors_the_server_waits_instead_of_spinning_and_takes_connections_again():
    with Surface() as osc:
        peer = UdpPeer()
        waiting = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # made now: connecting takes no new descriptor
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        cpu = thread_cpu_seconds("liveengine-osc-network")
        # No new descriptor for anyone (descriptor 0 is open; poll() wants a limit of 1): accept() fails.
        resource.setrlimit(resource.RLIMIT_NOFILE, (1, hard))
        try:
            waiting.connect(("127.0.0.1", osc.port))
            time.sleep(1.5)
            assert thread_cpu_seconds("liveengine-osc-network") - cpu < 0.2  # not retrying accept() in a loop
            peer.send(osc.port, "/ping")  # UDP needs no descriptor: still answered
            assert peer.reply()[1]["data"] == "pong"
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        waiting.settimeout(3.0)
        waiting.sendall(slip.encode(message("/ping")))  # taken once the pause is over
        assert b"pong" in waiting.recv(65536)
        waiting.close()


# Item 5: a flooding client cannot starve the others.

def test_a_client_flooding_64_message_bundles_cannot_starve_anothers_pings_or_sequenced_commands(caplog):
    caplog.set_level(logging.WARNING, "liveengine.osc")
    with Surface(allow=("127.0.0.0/8",), messages_per_second=500.0) as osc:
        flood_bundle = bundle([message("/state")] * MAX_BUNDLE_MESSAGES)
        stop = threading.Event()

        def flood():  # 500 bundles a second, within the old limit of packets
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flooder:
                flooder.bind(("127.0.0.2", 0))
                while not stop.is_set():
                    for _ in range(10):
                        flooder.sendto(flood_bundle, ("127.0.0.1", osc.port))
                    time.sleep(0.02)

        flooding = threading.Thread(target=flood)
        flooding.start()
        try:
            time.sleep(0.5)  # the flood is on
            peer = UdpPeer()
            answered = ping_all(peer, osc.port, 200)
            peer.sock.settimeout(2.0)
            sequenced = []
            for n in range(1, 21):
                peer.send(osc.port, f"/seq/{n}/bus/master/gain", -float(n), 0.0)
                sequenced.append(peer.reply())
        finally:
            stop.set()
            flooding.join()
        assert answered == 200
        assert [(address, reply["status"]) for address, reply in sequenced] == [
            (f"/reply/seq/{n}/bus/master/gain", "ok") for n in range(1, 21)]
        assert len(osc.osc_events()) == 20  # each carried out once
        tally = osc.server.tallies["127.0.0.2"]
        assert tally[OVER_RATE] > 10_000 and "127.0.0.1" not in osc.server.tallies
        # Counted and summarised: one line for the flooder, not one per message.
        lines = [r.getMessage() for r in caplog.records if "127.0.0.2" in r.getMessage()]
        assert len(lines) == 1 and "messages over the rate limit" in lines[0], lines[:5]
        assert any(line.startswith("127.0.0.2: ") for line in osc.server.refusal_lines())


def test_a_client_flooding_64_message_bundles_cannot_make_a_live_shows_notes_late(tmp_path):
    port = free_port()
    notes = ", ".join(f'["A4", {beat / 4}, 0.2, 0.5]' for beat in range(160))  # 20 s of sixteenths
    show = tmp_path / "flooded.toml"
    show.write_text(f"""
[show]
name = "Flooded"
[audio]
block_size = 128
[osc]
port = {port}
allow = ["127.0.0.0/8"]
[instruments.tone]
type = "tone"
[[parts]]
name = "a"
instrument = "tone"
notes = [{notes}]
""")
    run = subprocess.Popen([sys.executable, "-m", "liveengine.cli", "run", str(show), "--jack-dummy", "--seconds", "120"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peer = UdpPeer()
    peer.sock.settimeout(0.5)
    flood_bundle = bundle([message("/bus/keys/gain", -6.0, 0.0)] * MAX_BUNDLE_MESSAGES)
    try:
        deadline = time.monotonic() + 60
        while True:  # until the show runs and answers
            assert time.monotonic() < deadline and run.poll() is None, run.communicate()[1] if run.poll() else ""
            peer.send(port, "/state")
            try:
                if b'"status": "ok"' in peer.sock.recv(65536):
                    break
            except TimeoutError:
                pass
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as flooder:
            flooder.bind(("127.0.0.2", 0))
            for _ in range(300):  # 6 s of 500 bundles a second, as the notes play
                for _ in range(10):
                    flooder.sendto(flood_bundle, ("127.0.0.1", port))
                time.sleep(0.02)
        run.send_signal(signal.SIGINT)
        out, err = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 130 and "Traceback" not in err, err
    assert re.search(r"; 0 late events", out), out[-2000:]
    assert re.search(r"OSC client 127\.0\.0\.2: [\d,]+ messages over the rate limit", out), out[-2000:]


def test_a_bundle_over_64_messages_is_refused_before_it_is_parsed(monkeypatch):
    parsed = []
    real_packet = osc_packet.OscPacket
    monkeypatch.setattr(osc_packet, "OscPacket", lambda dgram: parsed.append(len(dgram)) or real_packet(dgram))
    with Surface() as osc:
        peer = UdpPeer()
        huge = bundle([message("/ping")] * (MAX_BUNDLE_MESSAGES + 1))
        nested = bundle([bundle([message("/ping")] * 40)] * 2)
        for packet in (huge, nested):
            peer.sock.sendto(packet, ("127.0.0.1", osc.port))
        peer.send(osc.port, "/ping")
        assert peer.reply()[1]["data"] == "pong"
        assert osc.server.counters.oversized == 2
        assert parsed[0] == len(message("/ping")) and not {len(huge), len(nested)} & set(parsed)


def test_a_bundle_costs_its_messages_against_the_rate_limit():
    with Surface(allow=("127.0.0.0/8",), messages_per_second=100.0) as osc:
        flooder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flooder.bind(("127.0.0.2", 0))
        for _ in range(10):  # 640 messages in 10 packets: the burst of 100 takes one bundle
            flooder.sendto(bundle([message("/ping")] * 64), ("127.0.0.1", osc.port))
        flooder.close()
        osc.wait_for(lambda: osc.server.counters.received == 10)
        assert osc.server.counters.rate_limited >= 64 * 8


def _random_bundle(rng: random.Random, depth: int = 0):
    builder = OscBundleBuilder(IMMEDIATELY)
    for _ in range(rng.randrange(0, 12)):
        if depth < 3 and rng.random() < 0.3:
            builder.add_content(_random_bundle(rng, depth + 1))
        else:
            builder.add_content(build("/ping", *rng.choice([[], [1], ["x"]])))
    return builder.build()


def test_counting_a_bundles_messages_agrees_with_parsing_it():
    rng = random.Random(13)
    for _ in range(500):
        packet = _random_bundle(rng).dgram
        parsed = len(osc_packet.OscPacket(packet).messages)
        assert count_messages(packet, limit=1000) == parsed
        broken = packet[:rng.randrange(16, len(packet))] if len(packet) > 16 else packet
        if count_messages(broken, limit=1000) is not None and broken != packet:
            osc_packet.OscPacket(broken)  # what the count lets through, the parser takes
    assert count_messages(bundle([message("/ping")] * 1000)) == MAX_BUNDLE_MESSAGES + 1  # no further


# Item 6: TCP clients that never read their replies.

def test_two_hundred_tcp_clients_that_never_read_cannot_hold_up_anothers_ping():
    with Surface(allow=("127.0.0.0/8",)) as osc:
        osc.server.max_connections = 256
        sources = [f"127.0.0.{n}" for n in range(2, 202)]
        silent = []
        for source in sources:  # a small receive window: the replies back up at once
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            sock.bind((source, 0))
            sock.connect(("127.0.0.1", osc.port))
            silent.append(sock)
        try:
            queries = slip.encode(message("/state")) * 100
            for sock in silent:
                sock.sendall(queries)
            peer = UdpPeer()
            assert ping_all(peer, osc.port, 100, every=0.02) == 100
            tcp = socket.create_connection(("127.0.0.1", osc.port), timeout=2.0)
            tcp.sendall(slip.encode(message("/ping")))
            assert b"pong" in tcp.recv(65536)
            tcp.close()
        finally:
            for sock in silent:
                sock.close()
        assert "127.0.0.1" not in osc.server.tallies  # nothing of the pinging client was dropped
        osc.wait_for(lambda: osc.server.connections == 0)


def test_a_connection_hands_on_a_few_frames_a_round_so_every_socket_is_read_again_soon():
    # 200 connections with 100 queries each took the network thread 0.5-1 s in one round, and a
    # console's /ping waited for the round to end: a connection now hands on FRAMES_PER_TURN a round.
    server = osc_module.OscServer(lambda *call: None, free_port(), messages_per_second=100000.0)
    ours, theirs = socket.socketpair()
    try:
        connection = osc_module.Connection(server, ours, "127.0.0.2", 1)
        frames = 2 * osc_module.FRAMES_PER_TURN + 3
        connection.incoming += slip.encode(message("/ping")) * frames
        taken = []
        for _ in range(3):
            server._take_frames(connection)
            taken.append(server.counters.received)
            assert (connection in server._unfinished) == (taken[-1] < frames)
        assert taken == [osc_module.FRAMES_PER_TURN, 2 * osc_module.FRAMES_PER_TURN, frames]
        assert not connection.incoming
    finally:
        ours.close()
        theirs.close()


def test_a_flood_of_state_queries_shares_one_reading_of_the_engine():
    with Surface() as osc:
        first = osc.surface.state_packet()
        assert osc.surface.state_packet() is first  # within STATE_MAX_AGE_SECONDS: the same answer
        time.sleep(2 * surface_module.STATE_MAX_AGE_SECONDS)
        osc.render(0.1)
        again = osc.surface.state_packet()
        assert again is not first
        state = json.loads(osc_packet.OscPacket(again).messages[0].message.params[0])["data"]
        assert state["position_samples"] == osc.rig.engine.telemetry().position > 0


def test_a_client_that_never_reads_is_disconnected_once_its_replies_overflow(monkeypatch):
    monkeypatch.setattr(osc_module, "MAX_REPLY_BACKLOG", 16384)
    with Surface(messages_per_second=100000.0) as osc:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        sock.connect(("127.0.0.1", osc.port))
        try:
            for _ in range(1000):  # replies far beyond what the buffers hold
                sock.sendall(slip.encode(bundle([message("/cuelist")] * 64)))
                time.sleep(0.01)
                if osc.server.tallies.get("127.0.0.1", {}).get(NOT_READING):
                    break
            osc.wait_for(lambda: osc.server.connections == 0)
            assert osc.server.tallies["127.0.0.1"][NOT_READING] == 1
        finally:
            sock.close()


# Fuzzers over UDP and TCP, seeded and bounded.

def _fuzzed_bundles(count: int, seed: int):
    """Bundles whose sizes lie, nest deep, or hold more than 64 messages."""
    rng = random.Random(seed)
    for _ in range(count):
        packet = bytearray(_random_bundle(rng).dgram)
        roll = rng.random()
        if roll < 0.3 and len(packet) > 20:
            at = rng.randrange(16, len(packet) - 4)
            packet[at:at + 4] = rng.randrange(2 ** 32).to_bytes(4, "big")
        elif roll < 0.4:
            for _ in range(rng.randrange(1, 30)):
                packet = bytearray(bundle([bytes(packet)]))
        elif roll < 0.5:
            packet = bytearray(bundle([message("/ping")] * rng.randrange(60, 200)))
        yield bytes(packet)


def _after_the_fuzz_the_surface_answers_and_no_voice_is_left(osc: Surface, caplog, fuzzers):
    # Each client's messages are carried out in order: a fuzzer's own /ping answered means all it
    # sent before was carried out (another client's panic would be served beside its backlog).
    for host in fuzzers:
        own = UdpPeer(host)
        for _ in range(10):  # a ping that found the fuzzer's queue full was dropped: ask again
            own.send(osc.port, "/ping")
            try:
                assert own.reply()[1]["data"] == "pong"
                break
            except socket.timeout:
                continue
        else:
            raise AssertionError(f"{host}'s backlog was never carried out")
    peer = UdpPeer()
    peer.send(osc.port, "/ping")
    assert peer.reply()[1]["data"] == "pong"
    osc.render(0.5)  # what the fuzz started plays
    peer.send(osc.port, "/seq/900000/panic")
    assert peer.reply()[1]["status"] == "ok"
    osc.render(0.2)
    assert osc.rig.engine.telemetry().voices == 0
    assert not [r for r in caplog.records if r.exc_info or "failed" in r.getMessage()]


def test_fuzzed_udp_packets_and_bundles_leave_the_surface_answering(caplog):
    with Surface(allow=("127.0.0.0/8",), messages_per_second=100000.0, arm=True) as osc:
        fuzzer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        fuzzer.bind(("127.0.0.2", 0))
        packets = list(fuzzed_packets(15_000, seed=13)) + list(_fuzzed_bundles(3_000, seed=13))
        random.Random(13).shuffle(packets)
        for i, packet in enumerate(packets):
            try:
                fuzzer.sendto(packet, ("127.0.0.1", osc.port))
            except OSError:  # an empty datagram
                pass
            if i % 200 == 0:
                time.sleep(0.01)
        fuzzer.close()
        osc.wait_for(lambda: osc.server.counters.received >= 0.9 * len(packets), seconds=10)
        _after_the_fuzz_the_surface_answers_and_no_voice_is_left(osc, caplog, ["127.0.0.2"])
        assert osc.server.counters.malformed > 1000 and osc.server.counters.oversized > 100


def test_fuzzed_tcp_streams_leave_the_surface_answering_and_no_connection_behind(caplog):
    rng = random.Random(13)
    with Surface(allow=("127.0.0.0/8",), messages_per_second=100000.0) as osc:
        packets = list(fuzzed_packets(3_000, seed=14)) + list(_fuzzed_bundles(500, seed=14))
        rng.shuffle(packets)
        for start in range(0, len(packets), 250):  # a connection per 250 packets, in random pieces
            stream = bytearray()
            for packet in packets[start:start + 250]:
                roll = rng.random()
                if roll < 0.8:
                    stream += slip.encode(packet)
                elif roll < 0.9:
                    stream += packet  # unframed bytes
                else:
                    stream += slip.ESC + bytes([rng.randrange(256)]) + slip.END  # a broken escape
            if rng.random() < 0.2:
                stream += rng.randbytes(70_000)  # a frame too long: the connection is dropped
            with socket.create_connection(("127.0.0.1", osc.port), timeout=2.0,
                                          source_address=(f"127.0.0.{2 + start // 250}", 0)) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # a reset if closed unread
                at = 0
                try:
                    while at < len(stream):
                        size = rng.randrange(1, 2000)
                        sock.sendall(stream[at:at + size])
                        at += size
                except OSError:  # dropped by the server
                    pass
        osc.wait_for(lambda: osc.server.connections == 0, seconds=10)
        _after_the_fuzz_the_surface_answers_and_no_voice_is_left(
            osc, caplog, [f"127.0.0.{2 + start // 250}" for start in range(0, len(packets), 250)])
        assert osc.server.counters.malformed > 100


# The [osc] limits in the show file.

def test_the_osc_connection_limits_are_read_and_checked():
    show = '[show]\nname = "x"\n[osc]\nmax_connections = 8\nmax_connections_per_client = 2\nidle_seconds = 30\n'
    config = parse_show(show, "limits.toml").osc
    assert (config.max_connections, config.max_connections_per_client, config.idle_seconds) == (8, 2, 30.0)
    with pytest.raises(ShowFileError) as error:
        parse_show('[show]\nname = "x"\n[osc]\nmax_connections = 0\nidle_seconds = -1\n', "limits.toml")
    assert "[osc] max_connections" in str(error.value) and "[osc] idle_seconds" in str(error.value)
