"""Fuzzed show files, MIDI files and stems through `liveengine check` and `liveengine render`.

Each case mutates a good file with a seeded generator (byte flips, cuts, TOML values of the wrong
type, huge, negative and not-a-number values, deep nesting, digits that are not ASCII, broken
headers) and runs the commands as a user types them. Whatever the file holds, a command ends in
time with exit 0, 1, 2 or 3, never with a traceback, and says why on stderr when it is not 0.

The cases are few and fixed (seeds 0, 1, ...: twice FUZZ_CASES show files, FUZZ_CASES MIDI files and
stems) so the suite stays short; a campaign runs more: `LIVEENGINE_FUZZ_CASES=100 pytest tests/hostile`.
"""

import io
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

from sf2files import INSTRUMENT, KEY_RANGE, MONO, SAMPLE_ID, write_bank

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "configs" / "demo.toml"
FUZZ_CASES = int(os.environ.get("LIVEENGINE_FUZZ_CASES", "6"))
TIMEOUT_SECONDS = 120  # a hang, not a slow machine: each command takes a few seconds at most
EXIT_CODES = {0, 1, 2, 3}
RATE = 48000

# The demo, with its first cue half a second after the start (so a 2-second render reaches it),
# a part played from a MIDI file and a stem, both started by that cue.
FUZZ_SHOW = (DEMO.read_text()
             .replace('master_start = "00:59:58:00"', 'master_start = "00:59:59:12"')
             .replace('actions = [{start = "conductor"}, {start = "pad"}',
                      'actions = [{start = "theme"}, {start = "tape"}, {start = "conductor"}, {start = "pad"}')
             .replace("[[cues]]", '[[parts]]\nname = "theme"\ninstrument = "bell"\nmidi_file = "theme.mid"\n\n'
                                  '[stems.tape]\nfile = "STEM"\n\n[[cues]]', 1))

HUGE_OR_ODD_NUMBERS = ["1e308", "-1e308", "nan", "inf", "-inf", "-0.0", "-1", "0", "9223372036854775807",
                       "-9223372036854775808", "1" + "0" * 30, "5e-324", "0x7fffffff", "1_000_000"]
OTHER_TYPES = ['"text"', '""', "[]", "[1, 2, 3]", '["C4", 0, 1, 0.5]', "{}", "{ a = 1 }", "true", "false",
               "1979-05-27T07:32:00Z", "07:32:00", "1.5", "-7", '"²"', '"-25"', '" "']
UNICODE_DIGITS = "²³¹١٢٣۴۵०१①⑦５９𝟘"


def write_midi(path):
    """Three bars: 4/4 then 3/4, a tempo change, two notes."""
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4),
                                       mido.MetaMessage("set_tempo", tempo=500000),
                                       mido.MetaMessage("time_signature", numerator=3, denominator=4, time=1920),
                                       mido.MetaMessage("set_tempo", tempo=600000, time=480)]))
    midi.tracks.append(mido.MidiTrack([mido.Message("program_change", program=5),
                                       mido.Message("note_on", note=69, velocity=100, time=0),
                                       mido.Message("note_off", note=69, time=960),
                                       mido.Message("note_on", note=76, velocity=90, channel=1, time=480),
                                       mido.Message("note_off", note=76, channel=1, time=2000)]))
    midi.save(path)


def write_stem(path):
    frames = (0.2 * np.sin(np.arange(RATE // 2) * 2 * np.pi * 220 / RATE)).astype(np.float32)
    soundfile.write(path, np.stack([frames, -frames], axis=1), RATE, subtype="PCM_16")


# --- Mutations: each takes the file's bytes and a seeded generator ---------------------------

def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def cut(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data))] if data else data


def _replace_one(text: str, pattern: str, make, rng: random.Random) -> str:
    found = list(re.finditer(pattern, text, re.MULTILINE))
    if not found:
        return text
    match = rng.choice(found)
    return text[:match.start(1)] + make(match.group(1)) + text[match.end(1):]


def swap_value_type(data: bytes, rng: random.Random) -> bytes:
    text = data.decode()
    return _replace_one(text, r"^\s*[\w.\"-]+\s*=\s*(.+?)\s*(?:#.*)?$", lambda _: rng.choice(OTHER_TYPES),
                        rng).encode()


def odd_numbers(data: bytes, rng: random.Random) -> bytes:
    text = data.decode()
    for _ in range(rng.randint(1, 6)):
        text = _replace_one(text, r"(?<![\w.\"#:-])(-?\d+(?:\.\d+)?)(?![\w\":])",
                            lambda _: rng.choice(HUGE_OR_ODD_NUMBERS), rng)
    return text.encode()


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice([30, 200, 1000, 5000, 50000])
    opening, closing = rng.choice([("[", "]"), ("{ a = ", " }"), ("[{ a = ", "}]")])
    return _replace_one(data.decode(), r"^\s*[\w.\"-]+\s*=\s*(.+?)\s*(?:#.*)?$",
                        lambda _: opening * depth + "1" + closing * depth, rng).encode()


def unicode_digit(data: bytes, rng: random.Random) -> bytes:
    return _replace_one(data.decode(), r"(\d)", lambda _: rng.choice(UNICODE_DIGITS), rng).encode()


def midi_header(data: bytes, rng: random.Random) -> bytes:
    """A header field (type, track count, time division) set to something odd."""
    data = bytearray(data)
    at = rng.choice([8, 10, 12])
    odd = [0, 0x8000, 0xE250, 0xFFFF] if at == 12 else [0, 2, 3, 0x7FFF, 0xFFFF]  # divisions: 0, SMPTE
    data[at:at + 2] = rng.choice([*odd, rng.randrange(65536)]).to_bytes(2, "big")
    return bytes(data)


def midi_events(data: bytes, rng: random.Random) -> bytes:
    """A file written with odd events: huge delta times, tempos of 0 or the maximum, odd time signatures."""
    midi = mido.MidiFile(type=1, ticks_per_beat=rng.choice([1, 24, 480, 32767]))
    meta = [mido.MetaMessage("set_tempo", tempo=rng.choice([0, 1, 16777215]), time=rng.choice([0, 0x0FFFFFFF])),
            mido.MetaMessage("time_signature", numerator=rng.choice([0, 1, 255]), denominator=rng.choice([1, 2 ** 30]),
                             time=rng.choice([0, 7, 0x0FFFFFFF]))]
    notes = [mido.Message("note_on", note=rng.randrange(128), velocity=rng.randrange(128),
                          time=rng.choice([0, 1, 0x0FFFFFFF])) for _ in range(rng.randint(1, 20))]
    midi.tracks += [mido.MidiTrack(rng.sample(meta, len(meta))), mido.MidiTrack(notes)]
    written = io.BytesIO()
    midi.save(file=written)
    return written.getvalue()


def audio_header(data: bytes, rng: random.Random) -> bytes:
    """A WAV header field (channels, rate, bits, chunk sizes) or a FLAC STREAMINFO byte set to something odd."""
    data = bytearray(data)
    if data[:4] == b"RIFF":
        at, width = rng.choice([(4, 4), (22, 2), (24, 4), (32, 2), (34, 2), (40, 4)])
    else:
        at, width = rng.randrange(8, 42), 1
    data[at:at + width] = rng.choice([0, 1, 2 ** (8 * width) - 1, rng.randrange(2 ** (8 * width))]).to_bytes(width,
                                                                                                          "little")
    return bytes(data)


SHOW_MUTATIONS = [flip_bytes, cut, swap_value_type, odd_numbers, deep_nesting, unicode_digit]
MIDI_MUTATIONS = [flip_bytes, cut, midi_header, midi_events]
STEM_MUTATIONS = [flip_bytes, cut, audio_header]


def mutate(data: bytes, mutations, seed: int, rng: random.Random) -> tuple[bytes, str]:
    """1 to 3 mutations, the first chosen by `seed` in turn: a few seeds try each kind at least once."""
    applied = [mutations[seed % len(mutations)]] + [rng.choice(mutations) for _ in range(rng.randint(0, 2))]
    for mutation in applied:
        try:
            data = mutation(data, rng)
        except UnicodeDecodeError:  # an earlier flip left no text to edit as text
            data = flip_bytes(data, rng)
    return data, "+".join(mutation.__name__ for mutation in applied)


# --- Running the commands ---------------------------------------------------------------------

def commands(folder: Path, show: Path) -> dict[str, list[str]]:
    return {"check": ["check", str(show)],
            "render": ["render", str(show), "--seconds", "2", "-o", str(folder / "out.wav")]}


def run_all(folder: Path, show: Path, what: str, play_midi: Path | None = None):
    """The commands at once (they are independent), each with a time limit; every outcome judged.
    With `play_midi`, `liveengine play` renders that MIDI file through a shipped synth patch too."""
    to_run = commands(folder, show)
    if play_midi is not None:
        to_run["play"] = ["play", "sub_bass", "--midi", str(play_midi), "--seconds", "2", "-o",
                          str(folder / "played.wav")]
    running = {name: subprocess.Popen([sys.executable, "-m", "liveengine.cli", *args], cwd=folder, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
               for name, args in to_run.items()}
    for name, process in running.items():
        try:
            out, err = process.communicate(timeout=TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail(f"{name} of {what} did not end within {TIMEOUT_SECONDS} s")
        assert "Traceback" not in out + err, f"{name} of {what}:\n{err}"
        assert process.returncode in EXIT_CODES, f"{name} of {what} exited {process.returncode}:\n{err}"
        if process.returncode != 0:
            assert err.strip(), f"{name} of {what} exited {process.returncode} and said nothing on stderr"


def show_folder(folder: Path, stem_name="tape.wav", show_text=None):
    write_midi(folder / "theme.mid")
    if stem_name.endswith(".flac"):
        write_stem(folder / "tape.wav")
        soundfile.write(folder / stem_name, soundfile.read(folder / "tape.wav")[0], RATE, subtype="PCM_16")
    else:
        write_stem(folder / stem_name)
    show = folder / "show.toml"
    show.write_bytes(show_text if show_text is not None else FUZZ_SHOW.replace("STEM", stem_name).encode())
    return show


def test_the_unfuzzed_show_plays_its_midi_part_and_stem(tmp_path):
    """The base of every case is a show that works: the mutations are what the commands meet."""
    assert 'midi_file = "theme.mid"' in FUZZ_SHOW and '{start = "theme"}, {start = "tape"}' in FUZZ_SHOW
    show = show_folder(tmp_path)
    result = subprocess.run([sys.executable, "-m", "liveengine.cli", *commands(tmp_path, show)["render"]],
                            cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert result.returncode == 0, result.stderr
    assert "cue 1M1: fired" in result.stdout and result.stderr == ""


@pytest.mark.parametrize("seed", range(2 * FUZZ_CASES))
def test_a_fuzzed_show_file(tmp_path, seed):
    rng = random.Random(f"show {seed}")
    data, how = mutate(FUZZ_SHOW.replace("STEM", "tape.wav").encode(), SHOW_MUTATIONS, seed, rng)
    run_all(tmp_path, show_folder(tmp_path, show_text=data), f"the show file ({how}, seed {seed})")


@pytest.mark.parametrize("seed", range(FUZZ_CASES))
def test_a_fuzzed_midi_file(tmp_path, seed):
    rng = random.Random(f"midi {seed}")
    show = show_folder(tmp_path)
    data, how = mutate((tmp_path / "theme.mid").read_bytes(), MIDI_MUTATIONS, seed, rng)
    (tmp_path / "theme.mid").write_bytes(data)
    run_all(tmp_path, show, f"the MIDI file ({how}, seed {seed})", play_midi=tmp_path / "theme.mid")


@pytest.mark.parametrize("seed", range(FUZZ_CASES))
def test_a_fuzzed_stem(tmp_path, seed):
    rng = random.Random(f"stem {seed}")
    stem = rng.choice(["tape.wav", "tape.flac"])
    show = show_folder(tmp_path, stem)
    data, how = mutate((tmp_path / stem).read_bytes(), STEM_MUTATIONS, seed, rng)
    (tmp_path / stem).write_bytes(data)
    run_all(tmp_path, show, f"a show with the stem {stem} ({how}, seed {seed})")


# --- Instrument files: their structure cut and flipped (their opcodes are fuzzed through `play`
# --- in test_instrument_fuzz.py) --------------------------------------------------------------

SFZ = """// a small library: two groups, a keyswitch, a loop, an envelope
<control> default_path=samples/
<global> ampeg_release=0.3 volume=-3
<group> lokey=36 hikey=59 sw_lokey=24 sw_hikey=25 sw_last=24
<region> sample=tone.wav pitch_keycenter=48 loop_mode=loop_continuous loop_start=100 loop_end=900
<group> lokey=60 hikey=96 lovel=1 hivel=100 seq_length=2
<region> sample=tone.wav pitch_keycenter=72 seq_position=1 tune=-10
<region> sample=tone.wav pitch_keycenter=72 seq_position=2 offset=50 ampeg_attack=0.01
"""


def instrument_file(folder: Path, kind: str) -> Path:
    if kind == "sf2":
        return write_bank(folder / "bank.sf2", [("low", 0, 0, [[(INSTRUMENT, 0)]]), ("high", 0, 1, [[(INSTRUMENT, 1)]])],
                          [("one", [[(KEY_RANGE, 60 << 8), (SAMPLE_ID, 0)]]), ("two", [[(SAMPLE_ID, 1)]])],
                          [("one", MONO, 0, 60, 0), ("two", MONO, 0, 64, 0)])
    (folder / "samples").mkdir()
    write_stem(folder / "samples" / "tone.wav")
    (folder / "library.sfz").write_text(SFZ)
    return folder / "library.sfz"


@pytest.mark.parametrize("seed", range(FUZZ_CASES // 2))
@pytest.mark.parametrize("kind", ["sf2", "sfz"])
def test_a_cut_or_flipped_instrument_file_through_check(tmp_path, kind, seed):
    rng = random.Random(f"{kind} {seed}")
    path = instrument_file(tmp_path, kind)
    data, how = mutate(path.read_bytes(), [flip_bytes, cut], seed, rng)
    path.write_bytes(data)
    result = subprocess.run([sys.executable, "-m", "liveengine.cli", "check", str(path)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
    what = f"check of the {kind} file ({how}, seed {seed})"
    assert "Traceback" not in result.stdout + result.stderr, f"{what}:\n{result.stderr}"
    assert result.returncode in EXIT_CODES, f"{what} exited {result.returncode}:\n{result.stderr}"
    if result.returncode != 0:
        assert (result.stderr + result.stdout).strip(), f"{what} exited {result.returncode} and said nothing"
