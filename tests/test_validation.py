"""The validation kit that show files and synth patches are both read with, and the show model's place:
the model and its reader stand on their own, without the MIDI inputs, the OSC surface or the drivers."""

import math
import subprocess
import sys

import pytest

from liveengine.instruments.synth import PatchError, parse_patch
from liveengine.show.reader import ShowFileError, parse_show
from liveengine.validation import (BOOLEAN, TEXT, InvalidFileError, Problems, integer_in, list_of, name_of,
                                   number_in, one_of)


class OwnError(InvalidFileError):
    pass


def test_every_problem_of_a_file_is_raised_at_once_as_the_files_own_error():
    problems = Problems("rig.toml", OwnError)
    top = problems.table({"gain": 13, "name": "", "on": 1, "spare": True}, "")
    assert top.get("gain", number_in(-96, 12), 0.0) == 0.0
    assert top.get("name", TEXT, "x") == "x"
    assert top.get("on", BOOLEAN, False) is False
    assert top.get("size", integer_in(1, 8), required=True) is None
    with pytest.raises(OwnError) as raised:
        problems.raise_if_any()
    assert raised.value.problems == [
        "rig.toml: gain: expected a number from -96 to 12, got 13",
        "rig.toml: name: expected a non-empty string, got ''",
        "rig.toml: on: expected true or false, got 1",
        "rig.toml: size: expected an integer from 1 to 8, got nothing",
        "rig.toml: unknown key 'spare' in the top level; known keys: gain, name, on, size",
    ]


def test_a_file_without_problems_raises_nothing():
    problems = Problems("rig.toml")
    table = problems.table({"bus": {"gain": -6}}, "").table("bus")
    assert table.get("gain", number_in(-96, 12)) == -6.0 and table.label == "[bus]"
    problems.raise_if_any()


@pytest.mark.parametrize("kind, value, accepted", [
    (number_in(0, 1), True, None),  # true is not 1
    (number_in(0, 1), math.nan, None),
    (number_in(0, 1, low_included=False), 0, None),
    (integer_in(1, 16), 16.0, None),
    (one_of((44100, 48000)), 48000.0, None),
    (one_of((44100, 48000)), 48000, 48000),
    (name_of("a bus", ["keys"]), "keys", "keys"),
    (list_of(integer_in(0, 9)), [1, 2], [1, 2]),
    (list_of(integer_in(0, 9)), [1, 10], None),
])
def test_kinds_accept_what_they_say_and_nothing_else(kind, value, accepted):
    assert kind.convert(value) == accepted


def test_show_files_and_patches_raise_the_kits_error():
    with pytest.raises(InvalidFileError) as show:
        parse_show("[show]\ntempo = 1\n", "show.toml")
    assert isinstance(show.value, ShowFileError)
    with pytest.raises(InvalidFileError) as patch:
        parse_patch("[patch]\ngain_db = 40\n", "lead.toml")
    assert isinstance(patch.value, PatchError)
    assert "lead.toml: [patch] gain_db: expected a number from -96 to 12, got 40" in patch.value.problems


def test_the_show_model_and_reader_stand_without_midi_ports_osc_or_drivers():
    program = ("import sys, liveengine.show.reader; "
               "print(' '.join(sorted(m for m in sys.modules if m.startswith('liveengine.'))))")
    loaded = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                            timeout=120).stdout.split()
    assert "liveengine.show.model" in loaded
    # Of MIDI, a show file needs only the descriptions of its setups and pedal and Standard MIDI File
    # reading (its parts), never ports or inputs.
    assert not [module for module in loaded if module not in ("liveengine.midi", "liveengine.midi.setups",
                                                              "liveengine.midi.smf")
                and module.startswith(("liveengine.midi", "liveengine.osc", "liveengine.drivers", "liveengine.cli"))]
