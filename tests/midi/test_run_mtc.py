"""`liveengine run` with MTC, on a private JACK server shared by the module.

These tests open JACK clients in the test process itself, and JACK2 keeps one set of client
state per process: one server per process, so `.ci/run` runs this file in a process of its own.
"""

import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time

import pytest
import rtmidi

from liveengine.midi.poller import shared_poller
from liveengine.midi.ports import close_midi_inputs
from liveengine.midi.mtc import MtcReader, MtcSender, full_frame
from liveengine.drivers.jackserver import PrivateJackServer, realtime_allowed
from liveengine.timecode import RATES, Timecode

from commandline import ROOT, liveengine

pytestmark = pytest.mark.jack_process


@pytest.fixture(scope="module")
def server():
    # Real-time scheduling where the machine allows it, as on stage: without it, a loaded machine
    # starves the server's clients of whole cycles, and JACK drops the MIDI of a cycle a client missed.
    with PrivateJackServer(sample_rate=48000, period=256, realtime=realtime_allowed()) as running:
        yield running


MTC_SHOW = """
[show]
name = "MTC check"
[timecode]
source = "mtc"
midi_input = "media server"
rate = "25"
"""


def test_run_chases_mtc_from_a_midi_port(tmp_path, server):
    """A media server sends MTC on a JACK MIDI port; `liveengine run` on that server follows it."""
    show = tmp_path / "mtc.toml"
    show.write_text(MTC_SHOW)
    media_server = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="media server")
    media_server.open_virtual_port("timecode")
    try:
        with MtcSender(media_server, Timecode.from_fields(1, 0, 0, 0, RATES["25"])) as sender:
            result = liveengine("run", show, "--seconds", "4.5", "--no-osc",
                                env=dict(os.environ, JACK_DEFAULT_SERVER=server.name))
            sent_seconds = (time.monotonic_ns() - sender.origin_ns) / 1e9  # the run's start-up included
    finally:
        media_server.close_port()
        media_server.delete()
    assert result.returncode == 0, result.stderr
    assert "MTC from MIDI input 'media server' (Jack)" in result.stdout
    locked = re.findall(r"TC (\d\d):(\d\d):(\d\d):(\d\d) locked", result.stdout)
    assert len(locked) >= 1, result.stdout
    hours, minutes, seconds, frames = map(int, locked[-1])
    assert (hours, minutes) == (1, 0) and 1 <= seconds <= sent_seconds


def mtc_receiver(rate):
    """A JACK MIDI input that reads MTC at `rate` into `frames` (None for a message that ends no frame)."""
    reader = MtcReader(rate)
    frames = []
    receiver = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="receiver")
    shared_poller().listen(receiver, lambda message, arrival_ns: frames.append(reader.feed(message, arrival_ns)),
                           system_messages=True, name="MTC receiver")
    return receiver, frames


def connect_to_engine(receiver, run):
    """Open `receiver` on the engine's MTC port once `run` has made it (after preparing its
    kernels, which takes minutes on a loaded machine with numba's cache cold)."""
    deadline = time.monotonic() + 300
    while not any("liveengine" in port for port in receiver.get_ports()):
        assert time.monotonic() < deadline and run.poll() is None, run.stderr.read() if run.poll() else ""
        time.sleep(0.05)
    receiver.open_port(next(i for i, port in enumerate(receiver.get_ports()) if "liveengine" in port))


def test_run_as_timecode_master_sends_mtc(tmp_path, server):
    """At the show's rate, 23.976 (MTC's rate code says 24): a frame every 1001/24 ms."""
    show = tmp_path / "master.toml"
    show.write_text('[show]\nname = "MTC master"\n[timecode]\nrate = "23.976"\nmtc_output = "mtc"\n'
                    'master_start = "00:59:59:00"\n')
    receiver, frames = mtc_receiver(RATES["23.976"])
    run = subprocess.Popen([sys.executable, "-m", "liveengine.cli", "run", str(show), "--seconds", "4", "--no-osc"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                           env=dict(os.environ, JACK_DEFAULT_SERVER=server.name))
    try:
        connect_to_engine(receiver, run)
        out, err = run.communicate(timeout=60)
    finally:
        close_midi_inputs(receiver)
    assert run.returncode == 0, err
    running = [frame for frame in frames if frame is not None and not frame.located]
    assert len(running) > 50, len(running)
    labels = [frame.timecode for frame in running]
    assert all(later - earlier == 1 for earlier, later in zip(labels, labels[1:]))
    assert str(labels[0]) >= "00:59:59:05" and str(labels[-1]) <= "01:00:04:00"
    # JACK delivers MIDI to the receiver once per server cycle (256 samples, 5.3 ms), so each
    # frame's arrival is late by up to a cycle, and a frame of four quarter frames spans 7 or 8
    # cycles: the intervals alternate about a frame, their mean is a frame.
    frame_ms = 1001 / 24
    intervals_ms = [(b.start_ns - a.start_ns) / 1e6 for a, b in zip(running, running[1:])]
    cycle_ms = 256 / 48000 * 1000
    assert all(abs(interval - frame_ms) < cycle_ms + 1.0 for interval in intervals_ms), intervals_ms
    assert abs(statistics.mean(intervals_ms) - frame_ms) < 0.5


GO_SHOW = """
[show]
name = "Pedal check"
[instruments.tone]
type = "tone"
[[parts]]
name = "a"
instrument = "tone"
notes = [["A4", 0, 1, 0.5]]
[[parts]]
name = "b"
instrument = "tone"
notes = [["E5", 0, 1, 0.5]]
[conductor]
midi_input = "pedal board"
go = "note 60"
[[cues]]
number = "1M1"
go = true
actions = [{start = "a"}]
[[cues]]
number = "1M2"
go = true
actions = [{start = "b"}]
"""


def test_the_conductor_goes_from_a_midi_pedal_and_from_the_terminal(tmp_path, server):
    show = tmp_path / "go.toml"
    show.write_text(GO_SHOW)
    pedal = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="pedal board")
    pedal.open_virtual_port("out")
    run = subprocess.Popen([sys.executable, "-m", "liveengine.cli", "run", str(show), "--seconds", "8", "--no-osc"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=ROOT, env=dict(os.environ, JACK_DEFAULT_SERVER=server.name))
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(run.stdout), daemon=True)
    reader.start()

    def wait_for(text):
        deadline = time.monotonic() + 60
        while not any(text in line for line in list(lines)):
            assert time.monotonic() < deadline and run.poll() is None, "".join(lines) + run.stderr.read()
            time.sleep(0.02)

    try:
        wait_for("Conductor commands")
        pedal.send_message([0x90, 60, 100])  # the pedal: GO
        wait_for("cue 1M1: fired")
        run.stdin.write("go\n")  # the terminal: GO
        run.stdin.flush()
        wait_for("cue 1M2: fired")
        run.stdin.close()
        run.wait(timeout=60)
    finally:
        pedal.close_port()
        pedal.delete()
        if run.poll() is None:
            run.kill()
    reader.join(timeout=5)
    output = "".join(lines)
    assert run.returncode == 0, output
    assert "Conductor's pedal from MIDI input 'pedal board' (Jack)" in output
    assert output.index("cue 1M1: GO") < output.index("cue 1M1: fired") < output.index("cue 1M2: GO")


def mtc_messages():
    """A JACK MIDI input that keeps every message, in order, in `messages`, read by the process's MIDI
    thread (liveengine.midi.poller), as the engine reads its own inputs."""
    messages = []
    receiver = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, name="receiver")
    shared_poller().listen(receiver, lambda message, _arrival_ns: messages.append(message), system_messages=True,
                           name="MTC receiver")
    return receiver, messages


def frames_in_order(messages, rate):
    """The frames MTC messages carry, read as though each came a quarter frame after the one before:
    judged by what they say and in what order, not by when a loaded machine delivered them."""
    reader = MtcReader(rate)
    quarter_ns = 1e9 / (4 * rate.fps)
    return [frame for i, message in enumerate(list(messages)) if (frame := reader.feed(message, i * quarter_ns))]


def wait_until(condition, run, what, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert run.poll() is None, f"liveengine run ended while waiting for {what}: {run.stderr.read()}"
        assert time.monotonic() < deadline, f"waited {timeout:g} s for {what}"
        time.sleep(0.05)


def test_mtc_out_follows_the_conductors_jump(tmp_path, server):
    """As timecode master at 29.97 drop-frame, `jump 1M2` relocates the timecode two seconds
    before the cue: MTC sends a full frame there, then runs on from it. Each step waits for the
    one before, however long a loaded machine takes, and the MTC received is judged by what it
    says and in what order; the run stops as a user stops it (Ctrl-C)."""
    rate = RATES["29.97df"]
    where = Timecode.parse("01:09:58;00", rate)
    show = tmp_path / "jump.toml"
    show.write_text('[show]\nname = "MTC jump"\n[timecode]\nrate = "29.97df"\nmtc_output = "mtc"\n'
                    'master_start = "00:59:59;00"\n'
                    '[[cues]]\nnumber = "1M1"\nat = "01:00:00;00"\n'
                    '[[cues]]\nnumber = "1M2"\nat = "01:10:00;00"\n')
    receiver, messages = mtc_messages()
    run = subprocess.Popen([sys.executable, "-m", "liveengine.cli", "run", str(show), "--seconds", "300", "--no-osc"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           cwd=ROOT, env=dict(os.environ, JACK_DEFAULT_SERVER=server.name))
    lines = []
    threading.Thread(target=lambda: lines.extend(run.stdout), daemon=True).start()
    try:
        connect_to_engine(receiver, run)
        wait_until(lambda: len(messages) >= 4 * 10, run, "running MTC from the engine")
        run.stdin.write("jump 1M2\n")
        run.stdin.flush()
        located = list(full_frame(where))
        wait_until(lambda: located in messages, run, "the full frame of the jump")
        jump = messages.index(located)
        wait_until(lambda: len(messages) - jump > 4 * 60, run, "two seconds of MTC after the jump")
        run.send_signal(signal.SIGINT)
        run.wait(timeout=60)
    finally:
        close_midi_inputs(receiver)
        if run.poll() is None:
            run.kill()
    output = "".join(lines)
    assert run.returncode == 130, output + run.stderr.read()  # stopped with Ctrl-C
    assert "timecode master jumps to 01:09:58;00" in output
    received = frames_in_order(messages, rate)
    jump = next(i for i, frame in enumerate(received) if frame.located and frame.timecode == where)
    before = [frame.timecode for frame in received[:jump] if not frame.located]
    after = [frame.timecode for frame in received[jump + 1:] if not frame.located]
    # The master ran from its start until the jump, then from the jump on, frame after frame.
    assert before and str(before[0]) >= "00:59:59;00" and before[-1] < where
    assert all(later - earlier == 1 for earlier, later in zip(before, before[1:]))
    assert len(after) > 50 and after[0] >= where
    assert all(later - earlier == 1 for earlier, later in zip(after, after[1:]))
