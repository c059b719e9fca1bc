"""The conductor's operations from a MIDI pedal and from typed commands, carried out by a real cue runner."""

import pytest

from liveengine.show.reader import ShowFileError, parse_show
from liveengine.show.console import carry_out
from liveengine.midi.pedal import ConductorPedal
from liveengine.midi.setups import PedalTrigger, parse_trigger
from liveengine.show.cues import CueRunner
from liveengine.show.rig import build_rig

SHOW = """
[show]
name = "Pedal"
[instruments.tone]
type = "tone"
[[parts]]
name = "a"
instrument = "tone"
notes = [["A4", 0, 1, 0.5]]
[[cues]]
number = "1"
go = true
actions = [{start = "a"}]
[[cues]]
number = "2"
go = true
actions = [{stop = "a"}]
[[cues]]
number = "3"
go = true
actions = [{panic = true}]
"""


def runner():
    """A real cue runner; nothing here carries its commands out, so it needs no producer."""
    return CueRunner(build_rig(parse_show(SHOW, "pedal.toml")), None)


def operations(cue_runner):
    taken = []
    while not cue_runner.commands.empty():
        name, arguments, _done = cue_runner.commands.get_nowait()
        taken.append((name, *arguments))
    return taken


@pytest.mark.parametrize("text, trigger", [
    ("note 60", PedalTrigger("note", 60)), ("cc 64", PedalTrigger("cc", 64)),
    ("Note 61 ch 10", PedalTrigger("note", 61, 10)), ("cc 127 channel 16", PedalTrigger("cc", 127, 16)),
    ("note 128", None), ("cc 64 ch 17", None), ("pedal 1", None), ("note", None)])
def test_triggers_are_read_as_written(text, trigger):
    assert parse_trigger(text) == trigger


def test_a_note_fires_its_operation_on_note_on_only():
    cue_runner = runner()
    pedal = ConductorPedal(cue_runner, {"go": PedalTrigger("note", 60), "panic": PedalTrigger("note", 61, 2)})
    assert pedal.handle([0x90, 60, 100]) == "go"
    assert pedal.handle([0x80, 60, 0]) is None  # note off
    assert pedal.handle([0x90, 60, 0]) is None  # note on at velocity 0 is a note off
    assert pedal.handle([0x90, 61, 100]) is None  # channel 1, the trigger wants channel 2
    assert pedal.handle([0x91, 61, 100]) == "panic"
    assert pedal.handle([0xF8]) is None and pedal.handle([0x90, 60]) is None  # clock, truncated: ignored
    assert operations(cue_runner) == [("go",), ("panic",)]


def test_a_controller_pedal_fires_once_per_press():
    cue_runner = runner()
    pedal = ConductorPedal(cue_runner, {"stop_all": PedalTrigger("cc", 64)}, stop_fade_seconds=1.5)
    fired = [pedal.handle([0xB0, 64, value]) for value in (0, 100, 127, 90, 10, 0, 64, 127)]
    assert fired == [None, "stop_all", None, None, None, None, "stop_all", None]
    assert operations(cue_runner) == [("stop_all", 1.5), ("stop_all", 1.5)]


def test_typed_commands_reach_the_runner_and_mistakes_are_named():
    cue_runner = runner()
    for line in ("go", "standby 2", "back", "jump 3", "stop", "stop 0.5", "panic", "   "):
        assert carry_out(line, cue_runner) is None, line
    assert operations(cue_runner) == [("go",), ("standby", "2"), ("back",), ("jump", "3"), ("stop_all", 3.0),
                                      ("stop_all", 0.5), ("panic",)]
    assert "not a command: 'fire'" in carry_out("fire", cue_runner)
    assert "expected a fade in seconds" in carry_out("stop soon", cue_runner)
    assert "0 to 600 seconds" in carry_out("stop -1", cue_runner)
    assert "not a command" in carry_out("go 1", cue_runner)
    assert operations(cue_runner) == []


@pytest.mark.parametrize("conductor, message", [
    ('midi_input = "pedal"\n', "[conductor] midi_input: expected at least one of go, back, stop_all, panic"),
    ('go = "note 60"\n', "[conductor]: expected midi_input too"),
    ('midi_input = "pedal"\ngo = "key 60"\n', "[conductor] go: expected a MIDI trigger"),
])
def test_a_pedal_needs_a_port_and_a_trigger(conductor, message):
    with pytest.raises(ShowFileError) as error:
        parse_show('[show]\nname = "x"\n[conductor]\n' + conductor, "show.toml")
    assert message in str(error.value)
