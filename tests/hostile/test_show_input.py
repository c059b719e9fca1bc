"""Hostile input to a show, each case found by fuzzing: an absurd rehearsal bar, a typed line that is
not a command, show files and MIDI files that once ended in a traceback, and what a starved stem says.
Each gets a clear message and the show, and the conductor's commands, go on."""

import io
import queue
import threading

import mido
import numpy as np
import pytest
import soundfile

from liveengine.show.reader import ShowFileError, parse_show
from liveengine.show.console import read_commands
from liveengine.osc.surface import OscSurface
from liveengine.show.cues import CueRunner
from liveengine.show.offline import ShowRender
from liveengine.show.rig import build_rig

from commandline import ROOT, liveengine
DEMO = ROOT / "configs" / "demo.toml"
RATE = 48000
BLOCK = 64
HANG_SECONDS = 20  # far beyond what any of these takes; a hang is what is being tested


def write_three_bar_midi(path, ticks_per_beat=480):
    """4/4 then 3/4 from bar 2, notes up to beat 9.25: three bars."""
    beat = ticks_per_beat
    midi = mido.MidiFile(type=1, ticks_per_beat=beat)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
                                       mido.MetaMessage("time_signature", numerator=3, denominator=4, time=4 * beat)]))
    midi.tracks.append(mido.MidiTrack([mido.Message("note_on", note=69, velocity=100, time=0),
                                       mido.Message("note_off", note=69, time=9 * beat + beat // 4)]))
    midi.save(path)


def rehearsal_show(folder):
    write_three_bar_midi(folder / "theme.mid")
    text = f"""
[show]
name = "Rehearsal"
tempo = 120
[audio]
sample_rate = {RATE}
block_size = {BLOCK}
[instruments.tone]
type = "tone"
attack_ms = 1
release_ms = 5
[clicks.conductor]
instrument = "tone"
tempo = [{{bar = 1, bpm = 120}}]
bars = 9
[[parts]]
name = "theme"
instrument = "tone"
midi_file = "theme.mid"
[[parts]]
name = "pad"
instrument = "tone"
notes = [["A3", 0, 8, 0.5]]
[[cues]]
number = "M1"
go = true
actions = [{{start = "theme"}}]
[[cues]]
number = "M2"
go = true
actions = [{{start = "conductor"}}]
[[cues]]
number = "M3"
go = true
actions = [{{start = "pad"}}]
"""
    return parse_show(text, folder / "show.toml")


class RunnerThread:
    """The cue runner's own thread (the show producer's): a hang fails the test instead of stalling it."""

    def __init__(self):
        self._work = queue.SimpleQueue()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            work, done = self._work.get()
            work()
            done.set()

    def do(self, work):
        done = threading.Event()
        self._work.put((work, done))
        assert done.wait(HANG_SECONDS), "the cue runner hung"


class Client:
    """Where OSC replies would go."""

    host, port, connection = "127.0.0.1", 9000, None
    key = ("udp", host, port)

    def __init__(self):
        self.replies = []

    def send(self, address, *args):
        self.replies.append((address, *args))
        return True


# --- Item 3: a rehearsal pickup with an absurd bar -------------------------------------------

@pytest.mark.parametrize("cue, bars", [("M1", "3 bars"), ("M2", "9 bars"), ("M3", "bars")],
                         ids=["midi-file", "click", "notes"])
@pytest.mark.parametrize("bar", [2147483647, 99999999999])
def test_an_absurd_pickup_bar_over_osc_is_refused_at_once_and_the_runner_goes_on(tmp_path, cue, bars, bar):
    rig = build_rig(rehearsal_show(tmp_path))
    runner = CueRunner(rig, rig.engine.producer("show"))
    runner_thread = RunnerThread()
    runner_thread.do(runner.arm)
    surface = OscSurface(rig, runner, rig.engine.producer("osc"))
    client = Client()
    surface.handle(client, "/replies", [1])
    surface.handle(client, f"/cue/{cue}/start", [bar])
    runner_thread.do(lambda: runner.update(0))
    address, text = client.replies[-1]
    assert address == f"/reply/cue/{cue}/start"
    assert '"error"' in text and f"bar {bar} is beyond its music" in text and bars in text, text
    surface.handle(client, f"/cue/{cue}/start", [2])  # the runner still works, and a real bar plays
    runner_thread.do(lambda: runner.update(0))
    assert '"ok"' in client.replies[-1][1] and "from bar 2" in client.replies[-1][1]


def test_fire_with_an_absurd_bar_typed_at_the_terminal_is_refused_at_once(tmp_path):
    rig = build_rig(rehearsal_show(tmp_path))
    runner = CueRunner(rig, rig.engine.producer("show"))
    runner_thread = RunnerThread()
    runner_thread.do(runner.arm)
    complaints = []
    read_commands(runner, io.StringIO("fire M1 99999999999\nfire M1 3\n"), report=complaints.append).join(5)
    runner_thread.do(lambda: runner.update(0))
    said = [(decision.cue, decision.text) for decision in runner.decisions]
    assert ("M1", "fire refused: bar 99999999999 is beyond its music, which has 3 bars") in said
    assert ("M1", "fired by hand from bar 3") in said and complaints == []


def test_a_pickup_at_the_last_bar_of_the_midi_file_plays_and_the_next_is_refused(tmp_path):
    rig = build_rig(rehearsal_show(tmp_path))
    runner = CueRunner(rig, rig.engine.producer("show"))
    cue = runner.by_number["M1"].cue
    assert runner.bar_offset(cue, 3) == round(3.5 * RATE)  # 4/4 and 3/4 at 120 bpm: bar 3 at beat 7
    with pytest.raises(ValueError, match="bar 4 is beyond its music, which has 3 bars"):
        runner.bar_offset(cue, 4)


# --- Item 8: no typed line may end the terminal's command thread -----------------------------

class Recorder:
    """A cue runner that notes what it is asked."""

    def __init__(self):
        self.asked = []

    def go(self, done=None):
        self.asked.append("go")

    def fire(self, number, bar=None, done=None):
        if number == "explode":
            raise RuntimeError("the runner failed")
        self.asked.append(f"fire {number} {bar}")


@pytest.mark.parametrize("line", ["fire 1M1 ²", "fire 1M1 ١٢", "fire 1M1 ⑦", "fire 1M1 -3", "fire 1M1 3.5",
                                  "fire explode 2"])
def test_a_line_that_is_no_command_cannot_end_the_terminal_commands(line):
    runner, complaints = Recorder(), []
    reader = read_commands(runner, io.StringIO(f"{line}\ngo\n"), report=complaints.append)
    reader.join(5)
    assert runner.asked == ["go"], "the line after the bad one is still carried out"
    assert len(complaints) == 1 and "Traceback" not in complaints[0]
    assert line.split()[-1] in complaints[0] or "failed" in complaints[0], complaints


def test_bytes_that_are_not_text_on_standard_input_cannot_end_the_terminal_commands():
    runner, complaints = Recorder(), []
    stream = io.TextIOWrapper(io.BytesIO(b"fire 1M1 \xff\xfe\ngo\n"), encoding="utf-8")
    read_commands(runner, stream, report=complaints.append).join(5)
    assert runner.asked == ["go"] and len(complaints) == 1


# --- Item 11: show files and MIDI files that once gave tracebacks ----------------------------

def demo_with(old, new, count=1):
    text = DEMO.read_text()
    assert old in text
    return text.replace(old, new, count)


SHOW_FILES = {
    "a part without a name": (lambda: demo_with('name = "pad"\ninstrument = "pad"', 'instrument = "pad"'),
                              "[parts #1] name: expected a non-empty string, got nothing"),
    "a note start of 1e308": (lambda: demo_with('["A3",  4, 4, 0.3]', '["A3",  1e308, 4, 0.3]'),
                              "[parts.pad] note 1 start: expected a number from 0 to 100000, got 1e+308"),
    "a note length of 1e308": (lambda: demo_with('["A3",  4, 4, 0.3]', '["A3",  4, 1e308, 0.3]'),
                               "[parts.pad] note 1 length: expected a number above 0 and at most 100000"),
    "a tempo of 1e-300": (lambda: demo_with("tempo = 90 ", "tempo = 1e-300 "),
                          "[show] tempo: expected a number from 10 to 400, got 1e-300"),
    "deeply nested TOML": (lambda: DEMO.read_text() + "deep = " + "[" * 5000 + "]" * 5000 + "\n",
                           "arrays or tables nested too deeply to read"),
    "an integer of 5000 digits": (lambda: DEMO.read_text() + "huge = 1" + "0" * 5000 + "\n",
                                  "cannot read this TOML: Exceeds the limit (4300 digits)"),
    "a click with an empty tempo list": (lambda: demo_with("tempo = [{bar = 1, bpm = 90}]", "tempo = []"),
                                         "[clicks.conductor]: no tempo change: the first one must be at bar 1"),
    "a frame rate of -25": (lambda: demo_with('rate = "25"', 'rate = "-25"'),
                            "[timecode] rate: expected a frame rate: 23.976, 24, 25, 29.97df, 29.97, 30, got '-25'"),
}


@pytest.mark.parametrize("case", sorted(SHOW_FILES))
@pytest.mark.parametrize("command", ["check", "render"])
def test_a_show_file_that_once_gave_a_traceback_gets_one_clear_message(tmp_path, case, command):
    make, message = SHOW_FILES[case]
    show = tmp_path / "show.toml"
    show.write_text(make())
    extra = ["--seconds", "2", "-o", tmp_path / "out.wav"] if command == "render" else []
    result = liveengine(command, show, *extra)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert f"{show}: {message}" in result.stderr, result.stderr


def write_midi_with_header(path, division, file_type=1, tempo=500000):
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=tempo),
                                       mido.Message("note_on", note=60, velocity=100, time=0),
                                       mido.Message("note_off", note=60, time=480)]))
    midi.save(path)
    data = bytearray(path.read_bytes())
    data[8:10] = file_type.to_bytes(2, "big")
    data[12:14] = division.to_bytes(2, "big")
    path.write_bytes(bytes(data))


MIDI_FILES = {
    "a time division of 0": (dict(division=0), "has a time division of 0 ticks per beat"),
    "an SMPTE time division": (dict(division=0xE728), "counts time in SMPTE frames, not beats"),
    "a type 7 header": (dict(division=480, file_type=7), "says it is a type 7 MIDI file"),
    "a tempo of 0": (dict(division=480, tempo=0), "a tempo of 0 microseconds per beat at tick 0"),
}


@pytest.mark.parametrize("case", sorted(MIDI_FILES))
@pytest.mark.parametrize("command", ["check", "render"])
def test_a_midi_file_part_that_once_gave_a_traceback_gets_a_clear_message(tmp_path, case, command):
    header, message = MIDI_FILES[case]
    write_midi_with_header(tmp_path / "theme.mid", **header)
    show = tmp_path / "show.toml"
    show.write_text('[show]\nname = "MIDI"\n[instruments.tone]\ntype = "tone"\n'
                    '[[parts]]\nname = "theme"\ninstrument = "tone"\nmidi_file = "theme.mid"\n')
    extra = ["--seconds", "2", "-o", tmp_path / "out.wav"] if command == "render" else []
    result = liveengine(command, show, *extra)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "[parts.theme] midi_file" in result.stderr and message in result.stderr, result.stderr


@pytest.mark.parametrize("case", sorted(MIDI_FILES))
def test_a_midi_file_that_once_gave_a_traceback_gets_a_clear_message_in_play(tmp_path, case):
    header, message = MIDI_FILES[case]
    write_midi_with_header(tmp_path / "song.mid", **header)
    result = liveengine("play", "warm_pad", "--midi", tmp_path / "song.mid", "-o", tmp_path / "out.wav")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "song.mid" in result.stderr and message in result.stderr, result.stderr


# --- Item 13: what a starved stem says -------------------------------------------------------

def stem_show(folder, file):
    text = f"""
[show]
name = "Stems"
[audio]
sample_rate = {RATE}
block_size = {BLOCK}
[timecode]
source = "none"
rate = "25"
master_start = "00:59:59:00"
[stems.tape]
file = "{file}"
[[cues]]
number = "1M1"
at = "01:00:00:00"
actions = [{{start = "tape"}}]
"""
    return parse_show(text, folder / "show.toml")


def render_stem_show(show, seconds, disk_stalls=range(0)):
    """Render offline; the loader reads nothing during the blocks in `disk_stalls` (a late disk)."""
    def late_disk(runner, position):
        runner.stems.step = (lambda: 0) if position // BLOCK in disk_stalls else step

    render = ShowRender(build_rig(show), before_block=late_disk)
    step = render.runner.stems.step
    for _ in render.blocks(seconds):
        pass
    return render.runner


def test_a_stem_starved_by_a_late_disk_is_reported_by_name_cue_and_place_in_its_file(tmp_path):
    soundfile.write(tmp_path / "tape.wav", np.full((12 * RATE, 2), 0.1, np.float32), RATE)
    # The cue fires at 1 s with the stem's first 8 s in its ring; the disk reads nothing more until 11 s.
    runner = render_stem_show(stem_show(tmp_path, "tape.wav"), 14, disk_stalls=range(RATE // BLOCK, 11 * RATE // BLOCK))
    reports = [decision for decision in runner.decisions if "tape" in decision.text]
    assert len(reports) == 1 and reports[0].cue == "1M1" and reports[0].sample >= 0
    text = reports[0].text
    assert text.startswith("stem 'tape' played ") and "the disk was late (it plays on in sync)" in text
    into = float(text.split(" s of silence from ")[1].split(" s into its file")[0])
    assert 8.0 <= into <= 8.1, "the silence began where the ring's first 8 seconds ran out"


def test_a_stem_whose_file_breaks_midway_says_where_and_why(tmp_path):
    soundfile.write(tmp_path / "tape.flac", np.full((4 * RATE, 2), 0.1, np.float32), RATE)
    data = (tmp_path / "tape.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[:len(data) // 3])
    runner = render_stem_show(stem_show(tmp_path, "cut.flac"), 6.0)
    reports = [decision.text for decision in runner.decisions if "tape" in decision.text]
    assert len(reports) == 1 and "the file could not be read there" in reports[0], reports
    assert any("reading failed" in problem for problem in runner.stems.problems)


# --- Digits that are not ASCII are not numbers in a show --------------------------------------

@pytest.mark.parametrize("written", ["01:00:0١:00", "0١:00:00:00", "01:00:00:0۵"])
def test_a_timecode_written_in_digits_other_than_ascii_is_refused(tmp_path, written):
    with pytest.raises(ShowFileError) as error:
        parse_show(demo_with('at = "01:00:00:00"', f'at = "{written}"'), tmp_path / "show.toml")
    assert "[cues.1M1] at: expected a timecode at 25 fps" in str(error.value) and written in str(error.value)


def test_a_device_named_with_a_superscript_digit_is_a_name_not_a_traceback():
    from liveengine.cli import build_parser
    from liveengine.cli.options import overrides
    args = build_parser().parse_args(["run", str(DEMO), "--device", "²"])
    assert overrides(args).device == "²"
