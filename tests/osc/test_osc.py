"""The OSC surface against real peers: liblo's oscsend and oscdump, python-osc over UDP and TCP.

The engine here is not streaming: commands reach the cue runner, which the test's own
thread runs as `liveengine run` does; bus commands reach the engine's event ring.
"""

import json
import math
import signal
import socket
import subprocess
import sys
import time

import pytest
from pythonosc import tcp_client

from liveengine.osc.server import OscServer, message
from liveengine.engine import events

from commandline import ROOT, liveengine
from oscpeers import SURFACE_SHOW, Surface, UdpPeer, free_port


def test_oscsend_fires_go_and_a_cue_by_number(tmp_path):
    with Surface() as osc:
        subprocess.run(["oscsend", "localhost", str(osc.port), "/go"], check=True, timeout=10)
        osc.wait_for(lambda: ("1M1", "GO") in osc.decisions())
        subprocess.run(["oscsend", "localhost", str(osc.port), "/cue/1M2/standby"], check=True, timeout=10)
        osc.wait_for(lambda: ("1M2", "standing by") in osc.decisions())
        subprocess.run(["oscsend", "localhost", str(osc.port), "/bus/keys/gain", "ff", "-6", "2"], check=True,
                       timeout=10)
        subprocess.run(["oscsend", "localhost", str(osc.port), "/bus/click/mute", "i", "1"], check=True, timeout=10)
        osc.wait_for(lambda: osc.surface.commands_carried_out >= 4)
        engine = osc.rig.engine
        posted = osc.osc_events()
        assert posted[0][:2] == (events.BUS_GAIN, engine.bus_number("keys"))
        assert posted[0][2] == pytest.approx(10 ** (-6 / 20)) and posted[0][3] == 2.0
        assert posted[1] == (events.BUS_MUTE, engine.bus_number("click"), 1.0, 0.0)


def test_replies_say_what_was_done_and_what_was_wrong():
    with Surface() as osc:
        peer = UdpPeer()
        peer.send(osc.port, "/replies", 1)
        assert peer.reply() == ("/reply/replies", {"address": "/replies", "status": "ok", "data": None})
        peer.send(osc.port, "/go")
        assert peer.reply() == ("/reply/go", {"address": "/go", "status": "ok", "data": "cue 1M1: GO"})
        peer.send(osc.port, "/go")  # 1M2 is a timecode cue: no GO cue is left
        assert peer.reply()[1]["status"] == "error"
        for address, args, complaint in (
                ("/bus/keys/gain", ["loud"], "expected a number"), ("/bus/nowhere/mute", [1], "no bus 'nowhere'"),
                ("/cue/9Z9/start", [], "no cue '9Z9'"), ("/fire/everything", [], "unknown address"),
                ("/stop", [1, 2], "at most one fade"), ("/locate", ["25:00:00:00"], "/locate"),
                ("/setup/strings", [], "has no keyboards")):
            peer.send(osc.port, address, *args)
            reply_address, reply = peer.reply()
            assert reply_address == f"/reply{address}" and reply["status"] == "error"
            assert complaint in reply["data"], reply


@pytest.mark.parametrize("rate", [44100, 48000, 96000])
def test_buses_answers_the_gain_mute_and_fade_that_play_now(rate):
    show = SURFACE_SHOW.replace("[timecode]", f"[audio]\nsample_rate = {rate}\n[timecode]") + """
[[cues]]
number = "1M3"
name = "Keys down"
go = true
actions = [{gain = "keys", db = -3, fade = 2}]
"""
    with Surface(show=show, arm=True) as osc:
        osc.wait_for(lambda: osc.runner.armed)
        osc.render(0.01)
        peer = UdpPeer()

        def keys():
            peer.send(osc.port, "/buses")
            address, reply = peer.reply()
            assert address == "/reply/buses" and reply["status"] == "ok"
            return next(bus for bus in reply["data"] if bus["name"] == "keys")

        assert keys() == {"name": "keys", "gain_db": 0.0, "target_db": 0.0, "fade_seconds": 0.0, "mute": False,
                          "outputs": [], "to": "master"}
        peer.send(osc.port, "/replies", 1)
        peer.reply()
        for command in (("/bus/keys/gain", -6.0), ("/bus/keys/mute", 1)):
            peer.send(osc.port, *command)
            assert peer.reply()[1]["status"] == "ok"
            osc.render(0.05)
        assert keys() == {"name": "keys", "gain_db": -6.0, "target_db": -6.0, "fade_seconds": 0.0, "mute": True,
                          "outputs": [], "to": "master"}
        peer.send(osc.port, "/cue/1M3/start")
        assert peer.reply()[1]["status"] == "ok"
        played = osc.render(0.5)
        fading = keys()
        # The cue's fade began on the first sample of the first block played after it was fired.
        assert fading["target_db"] == -3.0 and fading["mute"] is True
        assert fading["fade_seconds"] == pytest.approx(2.0 - played, abs=1e-3)
        moved = 10 ** (-6 / 20) + (10 ** (-3 / 20) - 10 ** (-6 / 20)) * played / 2.0
        assert fading["gain_db"] == pytest.approx(20 * math.log10(moved), abs=0.01)
        osc.render(1.6)
        assert keys()["gain_db"] == -3.0 and keys()["fade_seconds"] == 0.0


KEYBOARDS = """
[setups.piano]
layers = [{instrument = "tone"}]
[setups.organ]
layers = [{instrument = "tone", transpose = 12}]
[keyboards.upper]
input = "Nord"
setup = "piano"
[keyboards.lower]
input = "Kurzweil"
setup = "piano"
"""


def test_replies_read_as_sentences_that_name_the_cue_setup_and_keyboard():
    with Surface(show=SURFACE_SHOW + KEYBOARDS) as osc:
        peer = UdpPeer()
        peer.send(osc.port, "/replies", 1)
        peer.reply()
        said = []
        for address, *args in (("/go",), ("/cue/1M2/standby",), ("/back",), ("/cue/1M1/start",), ("/cue/1M1/stop",),
                               ("/stop", 0.5), ("/panic",), ("/locate", "01:00:05:00"), ("/setup/organ",),
                               ("/setup/piano", "lower"), ("/go",), ("/cue/9Z9/stop",)):
            peer.send(osc.port, address, *args)
            said.append(peer.reply()[1]["data"])
    assert said == ["cue 1M1: GO", "cue 1M2: standing by", "cue 1M1: standing by (back)", "cue 1M1: fired by hand",
                    "cue 1M1: stopped what it started", "stop all, fading over 0.5 s", "PANIC: every note off",
                    "located at 01:00:05:00", "setup 'organ' on every keyboard for the next notes",
                    "setup 'piano' on keyboard 'lower' for the next notes", "cue 1M1: GO",
                    "stop refused: no cue '9Z9'"]


def test_queries_answer_over_tcp_with_slip_framing():
    with Surface() as osc:
        client = tcp_client.SimpleTCPClient("127.0.0.1", osc.port, mode="1.1")
        try:
            client.send_message("/cuelist", [])
            (reply,) = list(client.get_messages(2))
            data = json.loads(reply.params[0])["data"]
            assert [(cue["number"], cue["trigger"], cue["timecode"]) for cue in data] == [
                ("1M1", "go", None), ("1M2", "timecode", "01:00:10:00")]
            client.send_message("/state", [])
            (reply,) = list(client.get_messages(2))
            state = json.loads(reply.params[0])["data"]
            assert state["next_cue"] == ["1M1", "Opening"] and state["show"] == "OSC"
        finally:
            client.close()


def test_a_broken_slip_frame_is_counted_and_the_frames_around_it_are_carried_out():
    from pythonosc import slip
    with Surface() as osc:
        with socket.create_connection(("127.0.0.1", osc.port), timeout=2.0) as connection:
            # Split mid-frame, as TCP may deliver it: a query, a frame that does not decode, a query.
            stream = slip.encode(message("/ping")) + slip.ESC + b"\x00" + slip.END + slip.encode(message("/ping"))
            connection.sendall(stream[:5])
            time.sleep(0.1)
            connection.sendall(stream[5:])
            received = bytearray()
            while received.count(b"pong") < 2:
                received += connection.recv(65536)
        assert osc.server.counters.malformed == 1


def test_a_sequenced_command_is_carried_out_once_however_often_it_is_resent():
    with Surface() as osc:
        peer = UdpPeer()
        peer.send(osc.port, "/seq/41/go")
        peer.send(osc.port, "/seq/41/go")  # resent before it was done: taken already, not answered twice
        replies = [peer.reply()]
        for _ in range(2):  # the reply was lost, say: each resend hears it again
            peer.send(osc.port, "/seq/41/go")
            replies.append(peer.reply())
        assert replies == [("/reply/seq/41/go", {"address": "/seq/41/go", "status": "ok", "data": "cue 1M1: GO"})] * 3
        time.sleep(0.2)
        assert osc.decisions().count(("1M1", "GO")) == 1


def test_oscdump_receives_the_monitoring_feed_and_events(tmp_path):
    listen = free_port()
    dump = subprocess.Popen(["oscdump", "-L", str(listen)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        with Surface() as osc:
            subprocess.run(["oscsend", "localhost", str(osc.port), "/subscribe", "fi", "20", str(listen)],
                           check=True, timeout=10)
            time.sleep(0.5)
            subprocess.run(["oscsend", "localhost", str(osc.port), "/go"], check=True, timeout=10)
            time.sleep(0.5)
    finally:
        dump.terminate()
        out = dump.communicate(timeout=10)[0]
    assert "/meter/master ffff -120" in out
    assert '/timecode ssfff "" "stopped" 0' in out
    assert '/cue/next ss "1M1" "Opening"' in out
    assert '/event ss "cue" "1M1 GO"' in out
    ticks = out.count("/voices i")
    assert 10 <= ticks <= 25, f"{ticks} ticks in about a second at 20 Hz"


def test_a_client_off_the_allow_list_is_refused_and_logged_once(caplog):
    with Surface(allow=("10.0.0.0/8",)) as osc:
        peer = UdpPeer()
        for _ in range(5):
            peer.send(osc.port, "/go")
        time.sleep(0.3)
        assert osc.server.counters.refused == 5 and osc.server.refused_hosts == {"127.0.0.1"}
        assert sum("refused: not on the allow-list" in r.getMessage() for r in caplog.records) == 1
        assert ("1M1", "GO") not in osc.decisions()


def test_garbage_floods_and_huge_bundles_are_counted_and_others_are_still_served():
    with Surface(allow=("127.0.0.0/8",), messages_per_second=200.0) as osc:
        peer = UdpPeer()
        garbage = [b"", b"#bundle\0", b"/go\0,iii\0\0\0\0", b"\xff" * 300, message("/go")[:-1]]
        for packet in garbage:
            peer.sock.sendto(packet, ("127.0.0.1", osc.port))
        huge = b"#bundle\0" + bytes(8) + b"".join(len(m).to_bytes(4, "big") + m for m in [message("/ping")] * 100)
        peer.sock.sendto(huge, ("127.0.0.1", osc.port))
        time.sleep(0.2)
        counters = osc.server.counters
        assert counters.malformed >= 4 and counters.oversized == 1
        assert osc.runner.decisions_made == 0, "nothing garbage said was carried out"
        # Another client (127.0.0.2) floods; its bucket empties, not the peer's.
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        flood.bind(("127.0.0.2", 0))
        began, received_before = time.monotonic(), counters.received
        for _ in range(5000):
            flood.sendto(message("/ping"), ("127.0.0.1", osc.port))
        flood.close()
        time.sleep(0.2)
        flood_seconds, flooded = time.monotonic() - began, counters.received - received_before
        peer.send(osc.port, "/ping")
        assert peer.reply()[1]["data"] == "pong"
        # Beyond its burst and its rate, the flooding client's messages were dropped.
        assert flooded > 1000 and counters.rate_limited >= flooded - 200 - 200 * flood_seconds


def test_the_monitor_follows_the_feed_of_a_running_surface():
    from liveengine.osc.monitor import MonitorClient, render_screen
    with Surface() as osc:
        with MonitorClient("127.0.0.1", osc.port) as monitor:
            assert monitor.subscribe(20)
            monitor.poll(0.5)
            state = monitor.state
            assert state.subscription_status == "ok" and state.next_cue == ("1M1", "Opening")
            osc.runner.go()
            monitor.poll(0.5)
            assert {"master", "keys", "stems", "click"} <= set(state.meters)
            assert state.chase_state == "stopped" and state.next_cue == ("", "")
            assert any(event.kind == "cue" and "1M1 GO" in event.text for event in state.events)
            screen = render_screen(state, width=80)
            assert "1M1" in screen and "master" in screen and "NO FEED" not in screen
        time.sleep(0.2)
        assert osc.surface.feed.subscribers == 0, "the monitor unsubscribed when it closed"


def test_liveengine_monitor_prints_the_feed_of_an_engine(tmp_path):
    with Surface() as osc:
        result = liveengine("monitor", f"127.0.0.1:{osc.port}", "--seconds", "1.5")
    assert result.returncode == 0, result.stderr
    assert "master" in result.stdout and "NO FEED" not in result.stdout.split("\n\n")[-1]


def test_a_subscription_ends_unless_renewed_and_the_feed_keeps_its_rate(monkeypatch):
    import liveengine.osc.feed as feed_module
    monkeypatch.setattr(feed_module, "SUBSCRIPTION_SECONDS", 0.6)
    with Surface() as osc:
        peer = UdpPeer()
        peer.send(osc.port, "/subscribe", 10.0)
        assert peer.reply()[1]["data"] == {"rate": 10.0, "expires": 0.6}
        began, ticks = time.monotonic(), 0
        peer.sock.settimeout(0.3)
        try:
            while True:
                messages = peer.receive()
                ticks += any(address == "/voices" for address, _ in messages)
        except TimeoutError:
            pass
        assert 0.4 < time.monotonic() - began - 0.3 < 0.8, "the feed stopped when the subscription expired"
        assert 5 <= ticks <= 7, f"{ticks} ticks in 0.6 s at 10 Hz"
        assert osc.surface.feed.subscribers == 0
        for bad in ([0.0], [31.0], ["fast"], [10.0, 70000]):
            peer.send(osc.port, "/replies", 1)
            peer.reply()
            peer.send(osc.port, "/subscribe", *bad)
            assert peer.reply()[1]["status"] == "error", bad


def test_before_the_show_starts_every_message_hears_that_nothing_was_carried_out():
    from liveengine.osc.surface import answer_before_the_show
    port = free_port()
    with OscServer(answer_before_the_show, port):
        peer = UdpPeer()
        for address in ("/go", "/buses", "/seq/3/go"):
            peer.send(port, address)
            reply_address, reply = peer.reply()
            assert reply_address == f"/reply{address}" and reply["status"] == "error"
            assert "the show is starting: nothing was carried out" in reply["data"]


# `liveengine osc`: one message, its reply printed.

def test_liveengine_osc_prints_the_replies_to_queries_and_commands():
    with Surface() as osc:
        target = f"127.0.0.1:{osc.port}"
        buses = liveengine("osc", target, "/buses")
        assert buses.returncode == 0, buses.stderr
        reply = json.loads(buses.stdout)
        assert reply["address"] == "/buses" and reply["status"] == "ok"
        assert [bus["name"] for bus in reply["data"]] == ["master", "keys", "stems", "click"]
        for arguments in (["-6", "2"], ["ff", "-6", "2"]):  # typed by their look, or as oscsend types them
            gain = liveengine("osc", target, "/bus/keys/gain", *arguments)
            assert gain.returncode == 0 and json.loads(gain.stdout)["status"] == "ok", gain.stdout + gain.stderr
            (kind, bus, level, fade), = osc.osc_events()
            assert (kind, bus, fade) == (events.BUS_GAIN, osc.rig.engine.bus_number("keys"), 2.0)
            assert level == pytest.approx(10 ** (-6 / 20))
        go = liveengine("osc", target, "/go")
        assert go.returncode == 0 and json.loads(go.stdout)["data"] == "cue 1M1: GO"
        wrong = liveengine("osc", target, "/cue/9Z9/start")
        assert wrong.returncode == 1 and json.loads(wrong.stdout)["data"] == "fire refused: no cue '9Z9'"
        over_tcp = liveengine("osc", target, "/cuelist", "--tcp")
        assert over_tcp.returncode == 0 and len(json.loads(over_tcp.stdout)["data"]) == 2
        time.sleep(0.1)
        assert osc.decisions().count(("1M1", "GO")) == 1


def test_liveengine_osc_types_arguments_as_oscsend_and_says_when_no_reply_comes():
    listen = free_port()
    dump = subprocess.Popen(["oscdump", "-L", str(listen)], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.3)
        target = f"127.0.0.1:{listen}"
        results = [liveengine("osc", target, "/ping", *arguments, "--timeout", "0.3")
                   for arguments in (["ff", "-6", "2"], ["-6", "2.5", "01:00:00:00"], ["sTi", "1", "7"])]
    finally:
        dump.terminate()
        out = dump.communicate(timeout=10)[0]
    for result in results:
        assert result.returncode == 1 and result.stdout == ""
        assert f"no reply from {target} within 0.3 s" in result.stderr
    assert '/ping ff -6.000000 2.000000' in out
    assert '/ping ifs -6 2.500000 "01:00:00:00"' in out
    assert '/ping sTi "1" #T 7' in out


def test_liveengine_osc_rejects_a_bad_target_or_argument():
    target = liveengine("osc", "localhost", "/ping")
    assert target.returncode == 1 and "expected HOST:PORT" in target.stderr
    typed = liveengine("osc", "127.0.0.1:9", "/ping", "i", "loud")
    assert typed.returncode == 1 and "argument 1 ('loud') is not an integer" in typed.stderr


# `liveengine run` and its OSC port, as typed.

def _show_file(tmp_path, osc_port: int):
    show = tmp_path / "show.toml"
    show.write_text(SURFACE_SHOW + f"""
[[cues]]
number = "1M3"
name = "Keys down"
go = true
actions = [{{gain = "keys", db = -3, fade = 20}}]
[osc]
port = {osc_port}
""")
    return show


def test_run_stops_before_the_show_when_its_osc_port_is_taken(tmp_path):
    port = free_port()
    show = _show_file(tmp_path, port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other_program:
        other_program.bind(("127.0.0.1", port))
        taken = liveengine("run", show, "--jack-dummy", "--seconds", "1")
        off = liveengine("run", show, "--jack-dummy", "--seconds", "1", "--no-osc")
    assert taken.returncode == 1, taken.stderr
    assert f"cannot listen for OSC on port {port} of 127.0.0.1" in taken.stderr
    assert "--osc-port N" in taken.stderr and "--no-osc" in taken.stderr and "Traceback" not in taken.stderr
    assert "JACK server" not in taken.stdout and "Audio device" not in taken.stdout, "the show never started"
    assert off.returncode == 0, off.stderr
    assert "OSC: off" in off.stdout and "OSC on UDP" not in off.stdout


def test_run_refuses_an_osc_port_that_cannot_work(tmp_path):
    result = liveengine("run", _show_file(tmp_path, free_port()), "--jack-dummy", "--osc-port", "0")
    assert result.returncode == 1 and "--osc-port must be 1024 to 65535, got 0" in result.stderr
    assert "--no-osc" in result.stderr


def test_a_live_show_on_osc_port_from_the_command_line_answers_what_plays_now(tmp_path):
    show_port, port = free_port(), free_port()
    command = [sys.executable, "-m", "liveengine.cli", "run", str(_show_file(tmp_path, show_port)), "--jack-dummy",
               "--osc-port", str(port), "--seconds", "60"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other_program:
        other_program.bind(("127.0.0.1", show_port))  # the show file's port is taken: --osc-port wins
        run = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=ROOT)
        try:
            target = f"127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while liveengine("osc", target, "/ping", "--timeout", "0.5").returncode != 0:
                assert time.monotonic() < deadline and run.poll() is None, "the engine never answered"
            for address, *arguments in (("/bus/keys/gain", "-6"), ("/bus/keys/mute", "1"), ("/cue/1M3/start",)):
                done = liveengine("osc", target, address, *arguments)
                assert done.returncode == 0, done.stdout + done.stderr
            buses = liveengine("osc", target, "/buses")
            keys = next(bus for bus in json.loads(buses.stdout)["data"] if bus["name"] == "keys")
            assert keys["target_db"] == -3.0 and keys["mute"] is True and 0 < keys["fade_seconds"] < 20.0, keys
            # In the middle of the cue's fade from -6 dB: the gain is where the time left puts it.
            left = keys["fade_seconds"] / 20.0
            gain = 10 ** (-3 / 20) * (1 - left) + 10 ** (-6 / 20) * left
            assert keys["gain_db"] == pytest.approx(20 * math.log10(gain), abs=0.02), keys
        finally:
            run.send_signal(signal.SIGINT)
            out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err  # stopped with Ctrl-C
    assert f"OSC on UDP and TCP port {port}" in out and "Traceback" not in err


def test_the_feed_sends_the_runs_maximum_dsp_load_as_the_status_line_does(monkeypatch):
    """/dsp carries the average and the run's true maximum, not a peak that decays between ticks."""
    import dataclasses
    osc = Surface()
    measured = dataclasses.replace(osc.rig.engine.telemetry(), dsp_load_average=0.05, dsp_load_peak=0.059,
                                   dsp_load_max=1.488)
    monkeypatch.setattr(osc.rig.engine, "telemetry", lambda: measured)
    (dsp,) = [message for message in osc.surface.feed.messages() if message[0] == "/dsp"]
    assert dsp == ("/dsp", pytest.approx(5.0), pytest.approx(148.8))
