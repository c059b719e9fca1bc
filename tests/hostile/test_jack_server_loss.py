"""A JACK server that dies under a live show: the loss is said on the terminal and as an OSC /event,
the show keeps its place and goes on when the server returns (the private server of `--jack-dummy`
is restarted), and `--seconds` and Ctrl-C end the run whether or not the server came back.

`liveengine run` as typed, in a subprocess; the JACK servers are jackd child processes of the test
(no JACK client in the test process). Servers are stopped with SIGTERM: one killed with SIGKILL
keeps its slot in JACK's server registry until a server of the same name starts again.
"""

import os
import re
import signal
import socket
import subprocess
import time

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from liveengine.drivers.jackserver import server_accepts_clients

from commandline import Run
from oscpeers import free_port
from shows import keyboard_only_show

STATUS = re.compile(r"^\s*[\d.]+ s  TC (\d\d):(\d\d):(\d\d):(\d\d) locked")
HANG_GUARD_SECONDS = 20  # far more than a run needs to stop; a run that takes longer hangs
KERNELS_SECONDS = 300  # the first run after an edit of the kernels compiles them


def keyboard_show(tmp_path, osc_port: int | None = None):
    """A show with a keyboard (it runs until stopped) and its master timecode; OSC on `osc_port`."""
    text = keyboard_only_show()
    if osc_port is not None:
        text = text.replace("enabled = false", f"port = {osc_port}")
    show = tmp_path / "keys.toml"
    show.write_text(text)
    return show


def timecode_seconds(line: str) -> float:
    hours, minutes, seconds, frames = map(int, STATUS.search(line).groups())
    return hours * 3600 + minutes * 60 + seconds + frames / 25


def status_lines(run) -> list[str]:
    return [line for line in run.lines if STATUS.search(line)]


def assert_timecode_advances(run):
    """Two more status lines (2 s apart), whose timecode moved on."""
    seen = len(status_lines(run))
    run.wait_for(STATUS, count=2, timeout=HANG_GUARD_SECONDS)
    before, after = status_lines(run)[seen:seen + 2]
    assert timecode_seconds(after) > timecode_seconds(before), (before, after)


class JackServer:
    """A jackd with the dummy driver under a name of its own, that the test stops and starts again."""

    def __init__(self, name: str):
        self.name = name
        self.process = None

    def start(self):
        self.process = subprocess.Popen(["jackd", "-n", self.name, "--no-realtime", "-d", "dummy", "-r", "48000",
                                         "-p", "256", "-P", "2", "-C", "1"], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + HANG_GUARD_SECONDS
        while not server_accepts_clients(self.name, timeout=1.0):
            assert self.process.poll() is None and time.monotonic() < deadline, "jackd did not start"
            time.sleep(0.05)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=HANG_GUARD_SECONDS)


class Feed:
    """A subscriber to the engine's OSC feed, collecting its /event messages."""

    def __init__(self, engine_port: int):
        self.engine = ("127.0.0.1", engine_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.events: list[tuple] = []

    def subscribe(self):
        message = OscMessageBuilder("/subscribe")
        message.add_arg(2.0, "f")
        message.add_arg(self.sock.getsockname()[1], "i")
        self.sock.sendto(message.build().dgram, self.engine)

    def wait_for(self, *wanted: tuple, seconds: float = 5.0) -> list[tuple]:
        deadline = time.monotonic() + seconds
        while not all(event in self.events for event in wanted) and time.monotonic() < deadline:
            try:
                packet = OscPacket(self.sock.recv(65536))
            except socket.timeout:
                continue
            self.events += [tuple(timed.message.params) for timed in packet.messages
                            if timed.message.address == "/event"]
        return self.events

    def close(self):
        self.sock.close()


def test_a_private_jack_server_that_dies_is_restarted_and_the_show_goes_on(tmp_path):
    port = free_port()
    run = Run(keyboard_show(tmp_path, port), "--jack-dummy", "--seconds", "10")
    feed = Feed(port)
    try:
        run.wait_for(STATUS, timeout=KERNELS_SECONDS)
        feed.subscribe()
        name = re.search(r"private JACK server '([^']+)'", run.output).group(1)
        time.sleep(0.5)  # the subscription is in
        jackd = subprocess.run(["pgrep", "-f", f"jackd -n {name} "], capture_output=True, text=True).stdout.split()
        os.kill(int(jackd[0]), signal.SIGTERM)
        run.wait_for(re.compile("audio reconnected after"), timeout=HANG_GUARD_SECONDS)
        events = feed.wait_for(("device", "audio device lost"), ("device", "audio resumed"))
        assert_timecode_advances(run)
        code = run.finish(timeout=HANG_GUARD_SECONDS)
    finally:
        run.kill()
        feed.close()
    assert code == 0, run.output
    assert f"ERROR: the private JACK server '{name}' died: no sound; restarting it." in run.output
    assert events.index(("device", "audio device lost")) < events.index(("device", "audio resumed")), events
    assert "Traceback" not in run.output
    assert not run.server_running(), "the restarted server is stopped at the end"


def test_the_show_waits_for_its_jack_server_and_goes_on_when_it_returns(tmp_path):
    server = JackServer(f"liveengine-test-{os.getpid()}-returns")
    server.start()
    run = Run(keyboard_show(tmp_path), "--seconds", "60", env=dict(os.environ, JACK_DEFAULT_SERVER=server.name))
    try:
        run.wait_for(STATUS, timeout=KERNELS_SECONDS)
        server.stop()
        run.wait_for(re.compile(f"ERROR: the JACK server '{server.name}' shut down"), timeout=HANG_GUARD_SECONDS)
        run.wait_for(re.compile("AUDIO LOST: no sound, reconnecting"), timeout=HANG_GUARD_SECONDS)
        server.start()
        run.wait_for(re.compile("audio reconnected after"), timeout=HANG_GUARD_SECONDS)
        assert_timecode_advances(run)
        run.process.send_signal(signal.SIGINT)
        code = run.finish(timeout=HANG_GUARD_SECONDS)
    finally:
        run.kill()
        server.stop()
    assert code == 130, run.output
    assert "Traceback" not in run.output


def test_a_run_whose_jack_server_died_and_stays_away_still_ends(tmp_path):
    """It used to hang for ever in PortAudio's stop (which waits on the dead server), with --seconds and Ctrl-C."""
    server = JackServer(f"liveengine-test-{os.getpid()}-gone")
    server.start()
    env = dict(os.environ, JACK_DEFAULT_SERVER=server.name)
    runs = {"seconds": Run(keyboard_show(tmp_path), "--seconds", "6", env=env), "Ctrl-C": None}
    try:
        runs["seconds"].wait_for(STATUS, timeout=KERNELS_SECONDS)
        server.stop()
        runs["seconds"].wait_for(re.compile("shut down: no sound"), timeout=HANG_GUARD_SECONDS)
        codes = {"seconds": runs["seconds"].finish(timeout=HANG_GUARD_SECONDS)}
        server.start()
        runs["Ctrl-C"] = Run(keyboard_show(tmp_path), "--seconds", "60", env=env)
        runs["Ctrl-C"].wait_for(STATUS, timeout=KERNELS_SECONDS)
        server.stop()
        runs["Ctrl-C"].wait_for(re.compile("shut down: no sound"), timeout=HANG_GUARD_SECONDS)
        runs["Ctrl-C"].process.send_signal(signal.SIGINT)
        codes["Ctrl-C"] = runs["Ctrl-C"].finish(timeout=HANG_GUARD_SECONDS)
    finally:
        for run in runs.values():
            if run is not None:
                run.kill()
        server.stop()
    assert codes == {"seconds": 0, "Ctrl-C": 130}, "\n\n".join(run.output for run in runs.values())
    for run in runs.values():
        assert "Traceback" not in run.output
        assert "Audio: " in run.output, "the summary is printed"
