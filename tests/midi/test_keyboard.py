"""Keyboard setups played offline: MIDI messages through setups into the real kernel."""

import numpy as np
import pytest

from liveengine.show.reader import ShowFileError, parse_show
from liveengine.midi.keyboard import Keyboards, velocity_level
from liveengine.engine import OfflineRenderer
from liveengine.kernel.state import (I_BEND_RANGE, I_GAIN, I_MODULATION, I_PITCH_BEND, I_PROGRAM, STAGE_FREE,
                                     STAGE_RELEASE, V_LEVEL, V_PHASE_STEP, VS_INSTRUMENT, VS_STAGE)
from liveengine.show.rig import build_rig

RATE = 48000
SHOW = """
[show]
name = "Keys"
[audio]
sample_rate = 48000
block_size = 64
[instruments.piano]
type = "tone"
release_ms = 20
[instruments.strings]
type = "tone"
release_ms = 20
[instruments.bass]
type = "tone"
release_ms = 20
[setups.split]
program = 1
layers = [
  {instrument = "bass", keys = ["C1", "B2"], transpose = -12, curve = "fixed", fixed = 0.5},
  {instrument = "piano", keys = ["C3", "C8"], curve = "hard", velocities = [1, 100]},
  {instrument = "strings", keys = ["C3", "C8"], curve = [[1, 0.2], [64, 0.5], [127, 1.0]], level_db = -6},
]
controls = [{cc = 11, instrument = "strings", parameter = "gain", range = [0.0, 2.0], curve = "soft"}]
[setups.pad]
program = 2
bend_range = 12
layers = [{instrument = "strings", channel = 2}]
[keyboards.upper]
input = "Nord"
setup = "split"
"""


class Rig:
    def __init__(self, show=SHOW):
        self.reports = []
        self.rig = build_rig(parse_show(show, "keys.toml"))
        self.engine = self.rig.engine
        self.keyboards = Keyboards(self.rig.show.keyboards, self.rig.show.setups, self.rig.instrument_numbers,
                                   self.engine, self.engine.producer("keyboards"), report=self.reports.append)
        self.renderer = OfflineRenderer(self.engine.state, 64)

    def play(self, *message, at=None):
        self.keyboards.play("upper", list(message), self.renderer.position if at is None else at)

    def render(self, samples=64):
        return self.renderer.render(samples)

    def voices(self):
        """(instrument name, MIDI key, level, stage) of every voice in use."""
        names = {number: name for name, number in self.rig.instrument_numbers.items()}
        values, ints = self.engine.state.voice_values, self.engine.state.voice_ints
        used = np.flatnonzero(ints[VS_STAGE] != STAGE_FREE)
        return sorted((names[ints[VS_INSTRUMENT, slot]],
                       round(69 + 12 * np.log2(values[V_PHASE_STEP, slot] * RATE / (2 * np.pi * 440))),
                       round(float(values[V_LEVEL, slot]), 4), int(ints[VS_STAGE, slot])) for slot in used)


def test_layers_split_transpose_and_shape_velocity():
    keys = Rig()
    keys.play(0x90, 36, 100)  # C2: the bass, an octave down, at its fixed level
    keys.play(0x90, 60, 64)  # C4: piano (hard curve) and strings (points, -6 dB)
    keys.play(0x90, 72, 110)  # C5 above the piano's velocities: strings only
    keys.render()
    levels = {"hard": (64 / 127) ** 2, "points": np.interp(64, [1, 64, 127], [0.2, 0.5, 1.0]) * 10 ** (-6 / 20)}
    assert [(name, key, level) for name, key, level, _ in keys.voices()] == sorted([
        ("bass", 24, 0.5), ("piano", 60, round(levels["hard"], 4)), ("strings", 60, round(levels["points"], 4)),
        ("strings", 72, round(float(np.interp(110, [1, 64, 127], [0.2, 0.5, 1.0])) * 10 ** (-6 / 20), 4))])


def test_a_setup_change_takes_the_next_notes_and_the_sustained_chord_rings_on():
    keys = Rig()
    keys.play(0xB0, 64, 127)  # sustain down
    for key in (60, 64, 67):
        keys.play(0x90, key, 80)
    keys.render()
    for key in (60, 64, 67):
        keys.play(0x80, key, 0)  # released under the pedal: they ring
    keys.play(0xC0, 1)  # program 2: the pad setup
    keys.play(0x91, 72, 80)  # a new note, channel 2: strings from the pad setup
    keys.render()
    assert all(stage != STAGE_RELEASE for *_, stage in keys.voices()) and len(keys.voices()) == 7
    assert "setup 'pad' on keyboard 'upper' for the next notes" in keys.reports
    keys.play(0xB0, 64, 0)  # sustain up: the old chord releases, with its old sounds
    keys.render()
    releasing = [(name, key) for name, key, _, stage in keys.voices() if stage == STAGE_RELEASE]
    assert sorted(releasing) == sorted([("piano", k) for k in (60, 64, 67)] + [("strings", k) for k in (60, 64, 67)])
    keys.play(0x81, 72, 0)
    keys.render(RATE // 10)
    assert keys.voices() == [], "no stuck note"


def test_sostenuto_holds_only_the_keys_down_when_it_was_pressed_and_soft_plays_softer():
    keys = Rig()
    keys.play(0x90, 60, 90)
    keys.play(0xB0, 66, 127)  # sostenuto catches C4
    keys.play(0x80, 60, 0)
    keys.play(0x90, 62, 90)
    keys.render()
    keys.play(0x80, 62, 0)  # D4 was not caught: it releases
    keys.render()
    stages = {(name, key): stage for name, key, _, stage in keys.voices()}
    assert stages[("piano", 60)] != STAGE_RELEASE and stages[("piano", 62)] == STAGE_RELEASE
    keys.play(0xB0, 66, 0)
    keys.play(0xB0, 67, 127)  # soft pedal
    keys.play(0x90, 65, 90)
    keys.render()
    stages = {(name, key): (level, stage) for name, key, level, stage in keys.voices()}
    assert stages[("piano", 60)][1] == STAGE_RELEASE
    assert stages[("piano", 65)][0] == pytest.approx(0.7 * (90 / 127) ** 2, abs=1e-4)


def test_controllers_pitch_bend_and_the_mod_wheel_reach_the_instruments():
    keys = Rig()
    strings = keys.rig.instrument_numbers["strings"]
    instruments = keys.engine.state.instruments
    keys.play(0xB0, 11, 127)  # expression -> strings gain 0..2, soft curve
    keys.play(0xB0, 1, 64)  # mod wheel halfway
    keys.play(0xE0, 0x7F, 0x7F)  # pitch bend fully up, by the instrument's own range in the split setup
    keys.render()
    assert instruments[I_GAIN, strings] == pytest.approx(2.0)
    assert instruments[I_MODULATION, strings] == pytest.approx(64 / 127)
    assert instruments[I_PITCH_BEND, strings] == pytest.approx(8191 / 8192)
    assert instruments[I_BEND_RANGE, strings] == 0.0
    keys.play(0xC0, 1)
    keys.play(0xE1, 0, 0x40)  # centre, on the pad setup's channel 2 (bend range 12)
    keys.play(0xE1, 0, 0)  # fully down
    keys.render()
    assert instruments[I_PITCH_BEND, strings] == pytest.approx(-1.0)
    assert instruments[I_BEND_RANGE, strings] == 12.0


def test_a_program_change_reaches_the_instruments_of_the_setup_it_leaves_in_force():
    keys = Rig()
    instruments = keys.engine.state.instruments
    numbers = keys.rig.instrument_numbers
    keys.play(0xC0, 5)  # program 6: no setup has it; the split setup's instruments take it
    keys.render()
    assert [instruments[I_PROGRAM, numbers[name]] for name in ("bass", "piano", "strings")] == [5, 5, 5]
    keys.play(0xC1, 1)  # program 2 on channel 2: the pad setup, whose strings play channel 2
    keys.render()
    assert [instruments[I_PROGRAM, numbers[name]] for name in ("bass", "piano", "strings")] == [5, 5, 1]


def test_garbage_leaves_no_stuck_note_and_no_crash():
    keys = Rig()
    garbage = [[], [0x90], [0x90, 60], [60, 100], [0xF0, 1, 2, 3, 0xF7], [0xFE], [0xF8], [0x90, 200, 100],
               [0x90, 60, 128], [0x80, 61, 0], [0xB0, 64], [0xC0, 5], [0xC0, 1, 2], [0xE0, 0x80, 0],
               [0x99, 60, 100, 7]]
    for message in garbage:
        keys.play(*message)
    assert keys.keyboards.ignored == len(garbage) - 2  # the note-off with no note-on, and program 6 (no setup)
    # A controller sending 10,000 messages: every one lands, nothing stalls.
    for value in range(10_000):
        keys.play(0xB0, 11, value % 128, at=-1)
        if value % 500 == 0:
            keys.render()  # the audio thread drains the ring every block
    keys.play(0x90, 60, 100)
    keys.play(0x90, 60, 90)  # the same key again without a note-off: the first ends
    keys.play(0x80, 60, 0)
    keys.render(RATE // 10)
    assert keys.voices() == []


def test_curves_are_monotonic_and_end_where_they_should():
    for curve in ("linear", "soft", "hard", ((1, 0.1), (100, 0.9), (127, 1.0))):
        levels = [velocity_level(curve, 0.8, v) for v in range(1, 128)]
        assert all(a <= b for a, b in zip(levels, levels[1:])) and levels[-1] == pytest.approx(1.0)
    assert velocity_level("fixed", 0.8, 1) == velocity_level("fixed", 0.8, 127) == 0.8


@pytest.mark.parametrize("setups, message", [
    ('[setups.a]\nlayers = [{instrument = "x"}]\n', "[setups.a layer 1] instrument"),
    ('[setups.a]\nlayers = [{instrument = "t", keys = ["C5", "C3"]}]\n', "keys: expected two keys"),
    ('[setups.a]\nlayers = [{instrument = "t", curve = [[1, 0.5], [60, 0.2]]}]\n', "curve: expected a velocity curve"),
    ('[setups.a]\nlayers = [{instrument = "t"}]\ncontrols = [{cc = 64, instrument = "t", parameter = "gain", '
     'range = [0, 1]}]\n', "the sustain pedal"),
    ('[setups.a]\nlayers = [{instrument = "t"}]\n[keyboards.k]\nsetup = "a"\n', "expected one of input"),
    ('[keyboards.k]\ninput = "x"\nsetup = "nope"\n', "[keyboards.k] setup"),
])
def test_setup_mistakes_are_named(setups, message):
    with pytest.raises(ShowFileError) as error:
        parse_show('[show]\nname = "x"\n[instruments.t]\ntype = "tone"\n' + setups, "show.toml")
    assert message in str(error.value)


def test_a_cue_changes_the_setup_of_its_keyboard():
    from liveengine.show.cues import CueRunner
    keys = Rig(SHOW + '[[cues]]\nnumber = "2M1"\ngo = true\nactions = [{setup = "pad", keyboard = "upper"}]\n')
    runner = CueRunner(keys.rig, keys.engine.producer("show"))
    runner.on_setup = lambda setup, keyboard: keys.keyboards.set_setup(setup, keyboard)
    runner.arm()
    runner.go()
    for _ in range(3):
        runner.update(keys.renderer.position)
        keys.render()
        keys.engine.poll()
    runner.update(keys.renderer.position)
    assert keys.keyboards.keyboards["upper"].setup.config.name == "pad"
    assert ("2M1", "fired") in [(d.cue, d.text) for d in runner.decisions]
