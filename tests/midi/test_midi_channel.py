"""One MIDI channel state for the keyboards and the file player: the same messages through a
live keyboard setup and through `liveengine play` leave the same notes sounding, and those are
the notes FluidSynth (2.3.1, measured) leaves sounding: all notes off (CC 123) releases the
keys held down, and what the sustain or sostenuto pedal holds, or catches then, rings on until
the pedal lifts; all sound off (CC 120) ends everything; reset all controllers (CC 121) lifts
the pedals; a key struck again under the sustain pedal leaves its first note ringing.
"""

import shutil
import subprocess
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

from liveengine.show.reader import parse_show
from liveengine.engine import OfflineRenderer
from liveengine.kernel.state import STAGE_FREE, STAGE_RELEASE, V_KEY, VS_STAGE
from liveengine.midi.channel import ChannelState
from liveengine.midi.keyboard import Keyboards
from liveengine.midi.player import MidiPlayer
from liveengine.show.rig import build_rig

RATE = 48000
STEP_TICKS = 96  # 0.1 s at 120 bpm, 480 ticks a beat
STEP = RATE // 10  # samples; each step's messages come one tick (50 samples) into it
SINE = "<region> sample=*sine ampeg_release=0.01\n"
FLUID = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
CHURCH_ORGAN = 19  # General MIDI program 20: a looped sound that rings as long as it is held

ON, OFF, CC = 0x90, 0x80, 0xB0
SUSTAIN, SOSTENUTO = 64, 66
# (the messages of each step, the keys sounding (held or pedalled, not released) after it)
SEQUENCES = {
    "all notes off under the sustain pedal": [
        ([(ON, 60, 100), (ON, 64, 100)], [60, 64]),
        ([(CC, SUSTAIN, 127)], [60, 64]),
        ([(CC, 123, 0)], [60, 64]),  # the pedal catches the keys' notes
        ([(CC, SUSTAIN, 0)], [])],
    "all notes off, pedal up": [
        ([(ON, 60, 100), (ON, 64, 100)], [60, 64]),
        ([(CC, 123, 0)], [])],
    "all notes off under the sostenuto pedal": [
        ([(ON, 60, 100), (CC, SOSTENUTO, 127)], [60]),
        ([(ON, 64, 100)], [60, 64]),
        ([(CC, 123, 0)], [60]),  # caught by the sostenuto pedal; 64 was struck after it went down
        ([(CC, SOSTENUTO, 0)], [])],
    "all notes off keeps what the pedal held already": [
        ([(CC, SUSTAIN, 127), (ON, 60, 100)], [60]),
        ([(OFF, 60, 0), (ON, 67, 100)], [60, 67]),
        ([(CC, 123, 0)], [60, 67]),
        ([(CC, SUSTAIN, 0)], [])],
    "all sound off ends what the pedal holds": [
        ([(CC, SUSTAIN, 127), (ON, 60, 100)], [60]),
        ([(OFF, 60, 0), (ON, 64, 100)], [60, 64]),
        ([(CC, 120, 0)], []),
        ([(ON, 67, 100)], [67])],
    "reset all controllers lifts the pedal": [
        ([(CC, SUSTAIN, 127), (ON, 60, 100)], [60]),
        ([(OFF, 60, 0)], [60]),
        ([(CC, 121, 0)], []),
        ([(ON, 64, 100)], [64]),
        ([(OFF, 64, 0)], [])],
    "a key struck again under the sustain pedal": [
        ([(CC, SUSTAIN, 127), (ON, 60, 100)], [60]),
        ([(OFF, 60, 0), (ON, 60, 90)], [60, 60]),
        ([(OFF, 60, 0)], [60, 60]),
        ([(CC, SUSTAIN, 0)], [])],
    "a key struck again without its note-off": [
        ([(ON, 60, 100)], [60]),
        ([(ON, 60, 90)], [60]),
        ([(OFF, 60, 0)], [])],
}


def sounding_keys(state) -> list[int]:
    """The keys of the voices held or pedalled (not released), lowest first."""
    stages = state.voice_ints[VS_STAGE]
    playing = np.flatnonzero((stages != STAGE_FREE) & (stages < STAGE_RELEASE))
    return sorted(int(state.voice_values[V_KEY, slot]) for slot in playing)


def through_a_keyboard(tmp_path, steps) -> list[list[int]]:
    (tmp_path / "sine.sfz").write_text(SINE)
    show = tmp_path / "keys.toml"
    show.write_text('[show]\nname = "Keys"\n[audio]\nsample_rate = 48000\nblock_size = 64\n'
                    '[instruments.sine]\ntype = "sfz"\nfile = "sine.sfz"\n'
                    '[setups.all]\nlayers = [{instrument = "sine"}]\n'
                    '[keyboards.upper]\ninput = "Nord"\nsetup = "all"\n')
    rig = build_rig(parse_show(show.read_text(), show))
    keyboards = Keyboards(rig.show.keyboards, rig.show.setups, rig.instrument_numbers, rig.engine,
                          rig.engine.producer("keyboards"))
    renderer = OfflineRenderer(rig.engine.state, 64)
    after = []
    for step, (messages, _) in enumerate(steps):
        for message in messages:
            keyboards.play("upper", list(message), step * STEP + STEP // STEP_TICKS)
        renderer.render(STEP)
        after.append(sounding_keys(rig.engine.state))
    return after


def midi_file(path: Path, steps, step_ticks: int = STEP_TICKS, program: int = 0) -> Path:
    """`steps` one tick into each step of `step_ticks`, and a step later all sound off, where the file ends."""
    track, last = mido.MidiTrack([mido.Message("program_change", program=program)]), 0
    for step, (messages, _) in enumerate(steps + [([(CC, 120, 0)], None)]):
        for status, first, second in messages:
            tick = step * step_ticks + 1
            track.append(mido.Message.from_bytes([status, first, second]).copy(time=tick - last))
            last = tick
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(path)
    return path


def through_the_player(tmp_path, steps) -> list[list[int]]:
    (tmp_path / "sine.sfz").write_text(SINE)
    player = MidiPlayer(tmp_path / "sine.sfz", midi_file(tmp_path / "steps.mid", steps), sample_rate=RATE)
    chunks = player.render(seconds=len(steps) * STEP / RATE, chunk_frames=STEP)
    return [sounding_keys(player.engine.state) for _ in chunks]


@pytest.mark.parametrize("name", SEQUENCES)
def test_a_keyboard_and_a_midi_file_leave_the_same_notes_sounding(tmp_path, name):
    steps = SEQUENCES[name]
    expected = [keys for _, keys in steps]
    assert through_a_keyboard(tmp_path, steps) == expected, "keyboard"
    assert through_the_player(tmp_path, steps) == expected, "file player"


def test_the_channel_state_answers_each_message_with_the_notes_it_releases():
    channel = ChannelState()
    assert channel.strike(60, [1, 2]) == []  # one key, two layers
    assert channel.control(SUSTAIN, 127).released == []
    assert channel.control(123, 0).released == [] and channel.sustained == [1, 2]
    assert channel.strike(60, [3]) == [] and channel.lift(60) == []
    assert channel.control(SUSTAIN, 100).released == []  # still down: nothing lifts
    assert channel.control(SUSTAIN, 0).released == [1, 2, 3]
    assert channel.sounding() == []


def test_reset_all_controllers_puts_the_channel_at_rest_and_keeps_volume_and_pan():
    channel = ChannelState()
    for number, value in ((7, 90), (10, 20), (11, 40), (1, 100), (101, 0), (100, 0), (6, 12)):
        channel.control(number, value)
    channel.bend = 4000
    change = channel.control(121, 0)
    assert change.controllers == [(11, 127), (64, 0), (66, 0), (67, 0), (1, 0)] and change.bend_moved
    assert (channel.controllers[7], channel.controllers[10], channel.controllers[11], channel.controllers[1]) == \
        (90, 20, 127, 0)
    assert channel.bend == 0 and channel.parameter is None and channel.bend_range == 12.0


@pytest.mark.skipif(shutil.which("fluidsynth") is None or not FLUID.exists(),
                    reason="needs fluidsynth and FluidR3_GM (fluid-soundfont-gm)")
@pytest.mark.parametrize("name", [name for name in SEQUENCES if "struck again" not in name])
def test_liveengine_play_and_fluidsynth_sound_at_the_same_steps(tmp_path, name):
    """The sequences through FluidR3's church organ, a second a step: whether anything sounds at the
    end of each step, by `liveengine play` and by FluidSynth."""
    steps = SEQUENCES[name]
    midi = midi_file(tmp_path / "organ.mid", steps, step_ticks=960, program=CHURCH_ORGAN)
    subprocess.run(["fluidsynth", "-q", "-ni", "-F", str(tmp_path / "fluid.wav"), "-r", str(RATE), str(FLUID),
                    str(midi)], check=True, capture_output=True, timeout=120)
    fluid, _ = soundfile.read(tmp_path / "fluid.wav", dtype="float64", always_2d=True)
    player = MidiPlayer(FLUID, midi, sample_rate=RATE)
    ours = np.concatenate([chunk.astype(np.float64) for chunk in player.render(seconds=len(steps))])

    def sounding_at_step_ends(audio) -> list[bool]:
        ends = [audio[round((step + 0.7) * RATE):(step + 1) * RATE] for step in range(len(steps))]
        levels = [float(np.sqrt(np.mean(np.square(end)))) for end in ends]
        return [level > 0.2 * levels[0] for level in levels]

    expected = [bool(keys) for _, keys in steps]
    assert sounding_at_step_ends(fluid) == expected, "FluidSynth"
    assert sounding_at_step_ends(ours) == expected, "liveengine play"
