"""`liveengine play URI --midi FILE.mid`: a MIDI file through an LV2 instrument, as typed."""

import mido
import numpy as np
import soundfile

from commandline import liveengine
from lv2plugins import EPIANO, require

TICKS_PER_BEAT = 480  # at the file's default tempo, 120 bpm: a tick is 1/960 s


def chord_file(path, first_tick: int):
    midi = mido.MidiFile(ticks_per_beat=TICKS_PER_BEAT)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.Message("note_on", note=60, velocity=90, time=first_tick))
    track.append(mido.Message("note_on", note=64, velocity=90, time=0))
    track.append(mido.Message("pitchwheel", pitch=4000, time=240))
    track.append(mido.Message("control_change", control=1, value=100, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=480))
    track.append(mido.Message("note_off", note=64, velocity=0, time=0))
    midi.save(path)
    return path


def test_play_renders_a_midi_file_through_an_lv2_instrument(tmp_path):
    require(EPIANO)
    first_tick = 96  # 0.1 s: sample 4410 at 44.1 kHz
    done = liveengine("play", EPIANO, "--midi", chord_file(tmp_path / "chord.mid", first_tick),
                      "-o", tmp_path / "out.wav")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MDA ePiano: LV2 instrument, channel 1" in done.stdout
    audio, rate = soundfile.read(tmp_path / "out.wav", dtype="float32")
    assert rate == 44100
    assert int(np.flatnonzero(np.abs(audio[:, 0]) > 0)[0]) == first_tick * rate // 960
    # The file lasts 0.85 s; the render goes on until the plugin's sound has died away, and no longer.
    assert 0.85 < len(audio) / rate < 3.0
    assert np.abs(audio[-1024:]).max() < 1e-4


def test_play_names_the_plugins_closest_to_a_mistyped_uri(tmp_path):
    require(EPIANO)
    done = liveengine("play", EPIANO + "o", "--midi", chord_file(tmp_path / "chord.mid", 0), "-o", tmp_path / "out.wav")
    assert done.returncode != 0
    assert "no LV2 plugin" in done.stderr and f"did you mean <{EPIANO}>" in done.stderr
    assert not (tmp_path / "out.wav").exists()
