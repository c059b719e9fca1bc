"""Hostile instruments: pitch, loop and offset opcodes at and past their limits, played through
`liveengine play` as a user would. Whatever a valid file asks, a note ends, the render ends and
nothing is silently changed: a region a voice cannot play as written is reported at load.

Each fuzzed file holds many regions (one key each) so one subprocess plays many cases; the cases
are seeded, so a failure repeats. Time limits guard against a hang; they assert no speed.
"""

import random
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import soundfile

from liveengine.kernel.regions import ORIGINAL, Region
from liveengine.kernel.regiontable import pitch_problem

from sf2files import (INSTRUMENT, KEY_RANGE, LOOP_END, LOOP_START, MONO, ROOT_KEY, SAMPLE_ID, SAMPLE_MODES,
                      SCALE_TUNING, START, COARSE_TUNE, FINE_TUNE, keys, write_bank)

LIVEENGINE = [sys.executable, "-m", "liveengine.cli"]
TIME_LIMIT = 120  # seconds for a render of a couple of seconds: a hang guard (a cold kernel cache compiles)
TONE_FRAMES = 2000


def tone(folder: Path) -> Path:
    path = folder / "tone.wav"
    t = np.arange(TONE_FRAMES) / 48000
    soundfile.write(path, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 48000)
    return path


def every_key(path: Path, keys_played, seconds: float = 1.0) -> Path:
    """A MIDI file holding each key for `seconds`, all at once."""
    midi = mido.MidiFile(ticks_per_beat=480)  # 120 bpm: 960 ticks a second
    track = mido.MidiTrack()
    midi.tracks.append(track)
    for key in keys_played:
        track.append(mido.Message("note_on", note=key, velocity=100, time=0))
    for i, key in enumerate(keys_played):
        track.append(mido.Message("note_off", note=key, time=round(960 * seconds) if i == 0 else 0))
    midi.save(path)
    return path


def play(folder: Path, patch: Path, midi: Path) -> subprocess.CompletedProcess:
    result = subprocess.run([*LIVEENGINE, "play", str(patch), "--midi", str(midi), "-o", str(folder / "out.wav")],
                            capture_output=True, text=True, timeout=TIME_LIMIT, cwd=folder)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == 0, result.stderr
    return result


def check(patch: Path) -> str:
    result = subprocess.run([*LIVEENGINE, "check", str(patch)], capture_output=True, text=True, timeout=TIME_LIMIT)
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result.stdout


def test_a_huge_pitch_ratio_on_a_loop_cannot_hang_the_audio_thread(tmp_path):
    tone(tmp_path)
    patch = tmp_path / "huge.sfz"
    patch.write_text("<region> sample=tone.wav\n"
                     "<region> sample=tone.wav key=127 pitch_keycenter=0 pitch_keytrack=1200 "
                     "loop_mode=loop_continuous loop_start=100 loop_end=1099\n")
    result = play(tmp_path, patch, every_key(tmp_path / "key127.mid", [127]))
    assert "1 problem" in result.stdout
    audio, rate = soundfile.read(tmp_path / "out.wav")
    assert len(audio) >= rate  # the second it was held, rendered to its end
    said = check(patch)
    assert f"{patch.name}:2: key 127 would play its sample 1524 semitones up" in said
    assert "a voice plays at most 120 semitones up" in said


def test_transposed_and_tuned_far_up_on_a_short_loop_a_note_renders_to_its_end(tmp_path):
    tone(tmp_path)
    patch = tmp_path / "far.sfz"
    patch.write_text("<region> sample=tone.wav transpose=127 tune=9600 "
                     "loop_mode=loop_continuous loop_start=100 loop_end=199\n")
    play(tmp_path, patch, every_key(tmp_path / "held.mid", [60], seconds=2.0))
    assert "semitones up" in check(patch)


def test_an_sf2_scale_tuning_of_1200_from_root_key_0_cannot_hang_the_audio_thread(tmp_path):
    bank = write_bank(tmp_path / "huge.sf2", [("preset", 0, 0, [[(INSTRUMENT, 0)]])],
                      [("instrument", [[(SCALE_TUNING, 1200), (ROOT_KEY, 0), (SAMPLE_MODES, 1), (SAMPLE_ID, 0)]])],
                      [("one", MONO, 0, 60, 0)])
    result = play(tmp_path, bank, every_key(tmp_path / "key127.mid", [127]))
    assert "1 problem" in result.stdout
    assert "key 127 would play its sample 1524 semitones up" in check(bank)


PITCH_OPCODES = {
    "pitch_keycenter": lambda rng: rng.choice([0, 1, 60, 127, -1, 200]),
    "pitch_keytrack": lambda rng: rng.choice([0, 100, 1200, -1200, rng.uniform(-1200, 1200)]),
    "transpose": lambda rng: rng.choice([0, 127, -127, rng.randint(-127, 127)]),
    "tune": lambda rng: rng.choice([0, 9600, -9600, 100, rng.uniform(-9600, 9600)]),
    "pitch_veltrack": lambda rng: rng.choice([0, 9600, -9600]),
}


def fuzzed_region(rng: random.Random, key: int) -> str:
    opcodes = {name: value(rng) for name, value in PITCH_OPCODES.items() if rng.random() < 0.6}
    loop_start = rng.choice([0, 1, 2, 100, TONE_FRAMES - 3, TONE_FRAMES - 1, TONE_FRAMES, 10 ** 9, -5])
    loop_end = rng.choice([loop_start, loop_start + 1, loop_start + 2, loop_start + 3, TONE_FRAMES - 1,
                           TONE_FRAMES + 50, 10 ** 9, 0])
    opcodes["loop_mode"] = rng.choice(["loop_continuous", "loop_sustain", "one_shot", "no_loop"])
    opcodes["loop_start"], opcodes["loop_end"] = loop_start, loop_end
    if rng.random() < 0.5:
        opcodes["offset"] = rng.choice([0, 1, 99, loop_end, TONE_FRAMES - 1, TONE_FRAMES, 10 ** 9])
    if rng.random() < 0.3:
        opcodes["end"] = rng.choice([0, 1, 3, loop_end, TONE_FRAMES + 10, -1])
    if rng.random() < 0.3:
        opcodes["bend_up"] = rng.choice([9600, 1200])
        opcodes["pitchlfo_depth"], opcodes["pitchlfo_freq"] = rng.choice([1200, 9600]), rng.choice([5, 100])
    text = " ".join(f"{name}={value}" for name, value in opcodes.items())
    return f"<region> sample=tone.wav key={key} {text}"


def test_seeded_pitch_loop_and_offset_opcodes_play_to_the_end(tmp_path):
    tone(tmp_path)
    rng = random.Random(13)
    for file in range(3):
        played = list(range(128)) if file == 0 else rng.sample(range(128), 48)
        patch = tmp_path / f"fuzz{file}.sfz"
        patch.write_text("\n".join(fuzzed_region(rng, key) for key in played) + "\n")
        play(tmp_path, patch, every_key(tmp_path / f"fuzz{file}.mid", played, seconds=1.5))
        check(patch)  # lists what it would change; never a traceback


def test_seeded_sf2_tunings_root_keys_and_loop_points_play_to_the_end(tmp_path):
    rng = random.Random(1313)
    zones = []
    for key in range(0, 128, 4):
        generators = [(KEY_RANGE, keys(key, key + 3)), (SAMPLE_MODES, rng.choice([0, 1, 3])),
                      (SCALE_TUNING, rng.choice([0, 100, 1200, rng.randint(0, 1200)])),
                      (ROOT_KEY, rng.choice([0, 60, 127])), (COARSE_TUNE, rng.choice([0, 120, -120])),
                      (FINE_TUNE, rng.choice([0, 99, -99])),
                      (LOOP_START, rng.choice([0, -100, 797, 899, 32767, -32768])),
                      (LOOP_END, rng.choice([0, -899, -798, 100, 32767, -32768])),
                      (START, rng.choice([0, 5, 999, 32767]))]
        zones.append([*generators, (SAMPLE_ID, 0)])
    bank = write_bank(tmp_path / "fuzz.sf2", [("preset", 0, 0, [[(INSTRUMENT, 0)]])], [("instrument", zones)],
                      [("one", MONO, 0, 60, 0)])
    play(tmp_path, bank, every_key(tmp_path / "all.mid", list(range(128)), seconds=1.5))
    check(bank)


def test_only_a_region_beyond_a_voice_s_reach_is_reported_with_its_origin():
    at_the_limit = Region(0, origin="a.sfz:3", lokey=60, hikey=60, transpose=118)  # and 2 of pitch bend
    assert pitch_problem(at_the_limit, ORIGINAL) is None
    beyond = Region(0, origin="a.sfz:4", lokey=60, hikey=60, transpose=119)
    assert pitch_problem(beyond, ORIGINAL).startswith(
        "a.sfz:4: key 60 would play its sample 119 semitones up, 121 with pitch bend, LFO and controllers at full")
    falling = Region(0, origin="b.sfz:1", pitch_keycenter=127, pitch_keytrack=-1200)  # its lowest key is its highest
    assert "key 0 would play its sample 1524 semitones up" in pitch_problem(falling, ORIGINAL)
