"""Synth patch files: the shipped patches and the README's example load, every kind of mistake
gives one clear problem naming the file, the table and the key, values arrive in the model's
units, and the shipped patches sound as their descriptions say (rendered by the engine)."""

import math
import pathlib
import re

import numpy as np
import pytest
import soundfile

from fileproblems import only_problem, problems_of, write_file
from liveengine.kernel.synthpatch import PATCH_FIELDS, patch_row
from liveengine.instruments.synth import PatchError, load_patch, parse_patch

PATCHES = pathlib.Path(__file__).resolve().parents[2] / "patches"
SHIPPED = sorted(PATCHES.glob("*.toml"))
README = PATCHES / "README.md"

OSC = '[[oscillators]]\nwave = "saw"\n'
FILTER = '[filter]\ncutoff_hz = 1000\n'
LFO = '[[lfos]]\nrate_hz = 5\n'


def route(source: str, destination: str, amount: float = 1, extra: str = "") -> str:
    return f'[[routes]]\nsource = "{source}"\ndestination = "{destination}"\namount = {amount}\n{extra}'


def write_patch(directory: pathlib.Path, text: str, name: str = "patch.toml") -> pathlib.Path:
    return write_file(directory, text, name)


def problems_in(directory: pathlib.Path, text: str) -> list[str]:
    """The problems load_patch reports for a patch file with this text."""
    return problems_of(load_patch, PatchError, write_patch(directory, text))


def only_problem_in(directory: pathlib.Path, text: str) -> str:
    """The one problem load_patch reports, without the file name that starts it."""
    return only_problem(problems_in(directory, text))


# --- The shipped patches and the README --------------------------------------------------


def test_at_least_eight_patches_ship():
    assert len(SHIPPED) >= 8
    names = [load_patch(path).name for path in SHIPPED]
    assert len(set(names)) == len(names), names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_patch_loads_with_no_problem(path):
    patch = load_patch(path)
    row = patch_row(patch)
    assert row.shape == (PATCH_FIELDS,) and np.isfinite(row).all()
    assert -18 <= 20 * math.log10(patch.gain) <= -12
    assert f"`{path.name}`" in README.read_text(encoding="utf-8"), "each shipped patch is listed in the README"


def test_shipped_patches_are_what_they_are_called():
    patches = {path.stem: load_patch(path) for path in SHIPPED}
    sub = patches["sub_bass"]
    assert sub.mode in ("mono", "legato") and sub.portamento > 0
    assert {osc.wave for osc in sub.oscillators} == {"sine", "triangle"}
    bell = patches["fm_bell"]
    assert sorted(osc.fm_ratio for osc in bell.oscillators) == [1.0, 3.5]
    assert bell.amp_envelope.sustain == 0
    lead = patches["mono_lead"]
    assert lead.mode == "legato" and {osc.wave for osc in lead.oscillators} == {"saw", "pulse"}
    assert any(r.source == "mod_wheel" and r.destination == "lfo1_depth" for r in lead.routes)
    riser = patches["riser"]
    assert {osc.wave for osc in riser.oscillators} == {"noise", "saw"}
    assert riser.amp_envelope.attack >= 4 and riser.filter_envelope.attack >= 4 and riser.filter.envelope_depth >= 4800
    ostinato = patches["pulse_ostinato"]
    assert ostinato.amp_envelope.sustain == 0 and ostinato.lfos[0].sync_beats > 0
    assert any(r.source == "lfo1" and r.destination == "pulse_width" for r in ostinato.routes)
    brass = patches["brass"]
    assert brass.filter.envelope_depth > 0 and brass.filter.velocity > 0 and brass.amp_envelope.attack <= 0.05
    strings = patches["string_pad"]
    assert strings.amp_envelope.attack >= 0.5 and max(osc.unison for osc in strings.oscillators) >= 4
    assert {r.destination for r in strings.routes if r.source.startswith("lfo")} == {"pitch", "cutoff"}


def readme_examples() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_example_parses():
    examples = readme_examples()
    assert examples
    for text in examples:
        patch = parse_patch(text, README)
        assert patch.name == "Warm pad"
        assert patch.oscillators[1].wavetable == 0 and len(patch.wavetables) == 1
        assert patch.routes[1] == type(patch.routes[1])("cc", "resonance", 12.0, 74)


BOGUS = "zzzzzzzz = 1\n"  # like no known key: its problem lists them all


@pytest.mark.parametrize("text", [
    BOGUS + OSC, OSC + "[patch]\n" + BOGUS, OSC + BOGUS, OSC + FILTER + BOGUS, OSC + "[amp_envelope]\n" + BOGUS,
    OSC + "[filter_envelope]\n" + BOGUS, OSC + LFO + BOGUS, OSC + LFO + route("lfo1", "pitch") + BOGUS,
    '[[oscillators]]\nwave = "wavetable"\nwavetable = { harmonics = [1], zzzzzzzz = 1 }\n',
], ids=["top", "patch", "oscillators", "filter", "amp_envelope", "filter_envelope", "lfos", "routes", "wavetable"])
def test_readme_documents_every_key(tmp_path, text):
    """Each key the reader knows (listed in its 'unknown key' problem) is in the README."""
    problem = only_problem_in(tmp_path, text)
    known = problem.split("known keys: ")[1].split(", ")
    readme = README.read_text(encoding="utf-8")
    for key in known:
        assert f"`{key}`" in readme or f"`[{key}]`" in readme or f"`[[{key}]]`" in readme, key


# --- Values, in the model's units ---------------------------------------------------------


def test_values_are_converted_to_the_models_units(tmp_path):
    patch = load_patch(write_patch(tmp_path, """
[patch]
name = "Units"
mode = "legato"
portamento_ms = 60
gain_db = -6
bend_range = 7
[[oscillators]]
wave = "pulse"
semitones = -12
detune_cents = 7
pulse_width = 0.3
unison = 3
unison_detune_cents = 20
[[oscillators]]
wave = "sine"
fm_ratio = 3.5
fm_index = 2
[filter]
mode = "highpass"
cutoff_hz = 250
resonance_db = 6
keytrack = 0.5
envelope_cents = 2400
velocity_cents = -1200
[amp_envelope]
delay_ms = 10
attack_ms = 600
hold_ms = 20
decay_ms = 1500
sustain = 80
release_ms = 2500
vel2attack_ms = -500
vel2sustain = 10
[filter_envelope]
attack_ms = 1
[[lfos]]
shape = "square"
sync_beats = 0.5
delay_ms = 250
fade_ms = 500
depth = 0.5
[[routes]]
source = "cc"
cc = 74
destination = "cutoff"
amount = -300
"""))
    assert patch.name == "Units" and patch.mode == "legato"
    assert patch.portamento == pytest.approx(0.06)
    assert patch.gain == pytest.approx(10 ** (-6 / 20))
    assert patch.bend_range == 7
    pulse, sine = patch.oscillators
    assert (pulse.wave, pulse.semitones, pulse.detune, pulse.pulse_width) == ("pulse", -12, 7, 0.3)
    assert (pulse.unison, pulse.unison_detune, pulse.fm_ratio, pulse.wavetable) == (3, 20, 0, -1)
    assert (sine.fm_ratio, sine.fm_index, sine.level) == (3.5, 2, 1)
    f = patch.filter
    assert (f.mode, f.cutoff, f.resonance, f.keytrack, f.envelope_depth, f.velocity) == \
        ("highpass", 250, 6, 0.5, 2400, -1200)
    amp = patch.amp_envelope
    assert (amp.delay, amp.attack, amp.hold, amp.decay, amp.release) == pytest.approx((0.01, 0.6, 0.02, 1.5, 2.5))
    assert (amp.sustain, amp.vel2attack, amp.vel2sustain, amp.depth) == (80, pytest.approx(-0.5), 10, 0)
    assert patch.filter_envelope.attack == pytest.approx(0.001) and patch.filter_envelope.depth == 2400
    (lfo,) = patch.lfos
    assert (lfo.shape, lfo.sync_beats, lfo.depth) == ("square", 0.5, 0.5)
    assert (lfo.delay, lfo.fade) == pytest.approx((0.25, 0.5))
    assert patch.routes == (type(patch.routes[0])("cc", "cutoff", -300.0, 74),)


def test_defaults(tmp_path):
    patch = load_patch(write_patch(tmp_path, OSC, "bare saw.toml"))
    assert patch.name == "bare saw"
    assert patch.mode == "poly" and patch.portamento == 0 and patch.pan == 0 and patch.bend_range == 2
    assert 20 * math.log10(patch.gain) == pytest.approx(-12)
    assert patch.velocity_sensitivity == 1 and patch.attack_curve == 0
    assert patch.oscillators[0].level == 1 and patch.oscillators[0].unison == 1
    assert patch.filter.mode == "none"
    assert (patch.amp_envelope.attack, patch.amp_envelope.sustain, patch.amp_envelope.release) == (0.005, 100, 0.3)
    assert patch.lfos == () and patch.routes == () and patch.wavetables == ()
    assert load_patch(write_patch(tmp_path, OSC + "[filter]\ncutoff_hz = 500\n")).filter.mode == "lowpass"
    assert load_patch(write_patch(tmp_path, OSC + LFO)).lfos[0].shape == "sine"


def test_wavetables_from_harmonics_and_from_a_file_next_to_the_patch(tmp_path):
    folder = tmp_path / "patches"
    folder.mkdir()
    phase = np.arange(600) / 600
    soundfile.write(folder / "cycle.wav", np.sin(2 * np.pi * phase) + 0.3 * np.sin(6 * np.pi * phase), 48000,
                    subtype="FLOAT")
    patch = load_patch(write_patch(folder, """
[[oscillators]]
wave = "wavetable"
wavetable = { file = "cycle.wav" }
[[oscillators]]
wave = "saw"
[[oscillators]]
wave = "wavetable"
wavetable = { harmonics = [1, 0, 0.3] }
"""))
    assert [osc.wavetable for osc in patch.oscillators] == [0, -1, 1]
    file_table, harmonic_table = patch.wavetables
    assert file_table.shape == harmonic_table.shape
    np.testing.assert_allclose(file_table[0], harmonic_table[0], atol=1e-3)


# --- Mistakes: one clear problem each ----------------------------------------------------

WAVES_LISTED = "'saw', 'pulse', 'triangle', 'sine', 'noise', 'wavetable'"


@pytest.mark.parametrize("text, expected", [
    # Names out of a list, with the closest.
    ('[[oscillators]]\nwave = "sawtooth"\n', f"[oscillators #1] wave: expected one of {WAVES_LISTED}, got 'sawtooth'"),
    ('[[oscillators]]\nwave = "pluse"\n',
     f"[oscillators #1] wave: expected one of {WAVES_LISTED}, got 'pluse'; did you mean 'pulse'?"),
    ('[[oscillators]]\nwave = 1\n', f"[oscillators #1] wave: expected one of {WAVES_LISTED}, got 1"),
    ("[[oscillators]]\n", f"[oscillators #1] wave: expected one of {WAVES_LISTED}, got nothing"),
    (OSC + '[patch]\nmode = "mon"\n', "[patch] mode: expected one of 'poly', 'mono', 'legato', got 'mon'; "
                                      "did you mean 'mono'?"),
    (OSC + '[filter]\nmode = "low"\ncutoff_hz = 500\n', "[filter] mode: expected one of 'none', 'lowpass', "
                                                        "'highpass', 'bandpass', 'notch', got 'low'; "
                                                        "did you mean 'lowpass'?"),
    (OSC + '[[lfos]]\nshape = "sample_and_hold"\n', "[lfos #1] shape: expected one of 'sine', 'triangle', 'saw', "
                                                     "'square', 'sample_hold', got 'sample_and_hold'; "
                                                     "did you mean 'sample_hold'?"),
    # Unknown keys and tables.
    (OSC + FILTER + "cutof = 900\n", "unknown key 'cutof' in [filter]; did you mean 'cutoff_hz'?"),
    (OSC + "[amp_envelope]\nattack = 10\n", "unknown key 'attack' in [amp_envelope]; did you mean 'attack_ms'?"),
    ('[[oscillators]]\nwave = "saw"\ndetune = 5\n',
     "unknown key 'detune' in [oscillators #1]; did you mean 'detune_cents'?"),
    (OSC + "[filtre]\nmode = \"lowpass\"\n", "unknown key 'filtre' at the top level; did you mean 'filter'?"),
    (OSC + '[patch]\ncolour = "warm"\n', "unknown key 'colour' in [patch]; known keys: attack_curve, bend_range, "
                                         "gain_db, mode, name, pan, portamento_ms, velocity_sensitivity"),
    # Out of range, or not a number.
    (OSC + "[patch]\ngain_db = 20\n", "[patch] gain_db: expected a number from -96 to 12, got 20"),
    (OSC + "[patch]\npan = -1.5\n", "[patch] pan: expected a number from -1 to 1, got -1.5"),
    (OSC + "[patch]\nportamento_ms = -5\n", "[patch] portamento_ms: expected a number from 0 to 10000, got -5"),
    ('[[oscillators]]\nwave = "saw"\nlevel = true\n', "[oscillators #1] level: expected a number from 0 to 1, got True"),
    ('[[oscillators]]\nwave = "pulse"\npulse_width = 1\n',
     "[oscillators #1] pulse_width: expected a number from 0.05 to 0.95, got 1"),
    (OSC + "[filter]\ncutoff_hz = 50000\n", "[filter] cutoff_hz: expected a number from 20 to 20000, got 50000"),
    (OSC + FILTER + "resonance_db = -3\n", "[filter] resonance_db: expected a number from 0 to 40, got -3"),
    (OSC + "[amp_envelope]\nsustain = 120\n", "[amp_envelope] sustain: expected a number from 0 to 100, got 120"),
    (OSC + "[filter_envelope]\nrelease_ms = nan\n",
     "[filter_envelope] release_ms: expected a number from 0 to 100000, got nan"),
    (OSC + "[[lfos]]\nrate_hz = 0\n", "[lfos #1] rate_hz: expected a number from 0.01 to 100, got 0"),
    (OSC + "[[lfos]]\nsync_beats = 0\n", "[lfos #1] sync_beats: expected a number above 0 and at most 64, got 0"),
    (OSC + "[[lfos]]\nrate_hz = 2\nsync_beats = 1\n", "[lfos #1]: expected rate_hz or sync_beats, got both"),
    (OSC + route("velocity", "pitch", 10000),
     "[routes #1] amount: expected a number from -4800 to 4800 (cents, for pitch), got 10000"),
    (OSC + route("velocity", "pan", "'left'"),
     "[routes #1] amount: expected a number from -2 to 2 (fraction of full pan, for pan), got 'left'"),
    (OSC + '[[routes]]\nsource = "velocity"\ndestination = "amplitude"\n',
     "[routes #1] amount: expected a number from -1 to 1 (fraction of full level, for amplitude), got nothing"),
    # How many.
    (OSC * 4, "[[oscillators]]: expected at most 3 oscillators, got 4"),
    ("[patch]\nname = \"silence\"\n", "[[oscillators]]: expected at least one oscillator, got none"),
    ("[oscillators]\nwave = \"saw\"\n", "oscillators: expected an array of tables ([[...]]), got {'wave': 'saw'}"),
    (OSC + LFO * 3, "[[lfos]]: expected at most 2 LFOs, got 3"),
    (OSC + route("velocity", "pitch") * 9, "[[routes]]: expected at most 8 routes, got 9"),
    ('[[oscillators]]\nwave = "saw"\nunison = 9\n', "[oscillators #1] unison: expected an integer from 1 to 8, got 9"),
    ('[[oscillators]]\nwave = "saw"\nunison = 2.5\n',
     "[oscillators #1] unison: expected an integer from 1 to 8, got 2.5"),
    # Routes.
    (OSC + route("modwheel", "pitch"), "[routes #1] source: expected one of 'velocity', 'key', 'mod_wheel', "
                                      "'aftertouch', 'poly_aftertouch', 'pitch_bend', 'expression', 'lfo1', 'lfo2', "
                                      "'filter_envelope', 'amp_envelope', 'cc', got 'modwheel'; "
                                      "did you mean 'mod_wheel'?"),
    (OSC + FILTER + route("velocity", "cutof"),
     "[routes #1] destination: expected one of 'pitch', 'cutoff', 'resonance', 'amplitude', 'pan', 'pulse_width', "
     "'lfo1_depth', 'lfo2_depth', 'lfo1_rate', 'lfo2_rate', 'osc1_level', 'osc2_level', 'osc3_level', 'fm_index', "
     "got 'cutof'; did you mean 'cutoff'?"),
    (OSC + route("cc", "pitch"), "[routes #1] cc: expected an integer from 0 to 127, got nothing"),
    (OSC + route("cc", "pitch", 1, "cc = 128\n"), "[routes #1] cc: expected an integer from 0 to 127, got 128"),
    (OSC + route("velocity", "pitch", 1, "cc = 74\n"),
     "[routes #1] cc: expected source \"cc\" for a controller number, got 'velocity'"),
    (OSC + LFO + route("lfo2", "pitch"),
     "[routes #1]: source 'lfo2' is an LFO the patch does not have (the patch has 1 [[lfos]])"),
    (OSC + route("mod_wheel", "lfo1_depth"),
     "[routes #1]: destination 'lfo1_depth' is an LFO the patch does not have (the patch has 0 [[lfos]])"),
    (OSC + LFO * 2 + route("lfo2", "lfo1_rate"),
     "[routes #1]: an LFO does not modulate an LFO: 'lfo2' cannot move 'lfo1_rate'"),
    (OSC + route("velocity", "osc2_level"),
     "[routes #1]: destination 'osc2_level' is an oscillator the patch does not have (it has 1)"),
    (OSC + route("velocity", "cutoff"), "[routes #1]: destination 'cutoff' needs a [filter] (its mode is \"none\")"),
    (OSC + route("velocity", "pulse_width", 0.2),
     "[routes #1]: destination 'pulse_width' needs an oscillator with wave \"pulse\""),
    (OSC + route("velocity", "fm_index"),
     "[routes #1]: destination 'fm_index' needs an oscillator with an fm_ratio above 0"),
    # FM.
    ('[[oscillators]]\nwave = "saw"\nfm_ratio = 2\n',
     "[oscillators #1] fm_ratio: expected wave \"sine\" for FM (the carrier is a sine), got 'saw'"),
    ('[[oscillators]]\nwave = "sine"\nfm_index = 2\n',
     "[oscillators #1] fm_index: expected an fm_ratio above 0 too: without a modulator it does nothing"),
    # Wavetables.
    ('[[oscillators]]\nwave = "wavetable"\n', "[oscillators #1] wavetable: expected {harmonics = [...]} or "
                                              "{file = \"...\"} for a wavetable oscillator, got nothing"),
    ('[[oscillators]]\nwave = "saw"\nwavetable = { harmonics = [1] }\n',
     "[oscillators #1] wavetable: expected wave \"wavetable\" to play it, got 'saw'"),
    ('[[oscillators]]\nwave = "wavetable"\nwavetable = "cycle.wav"\n',
     "[oscillators #1] wavetable: expected a table {harmonics = [1, 0.5, ...]} or {file = \"cycle.wav\"}, "
     "got 'cycle.wav'"),
    ('[[oscillators]]\nwave = "wavetable"\nwavetable = { harmonics = [0, 0] }\n',
     "[oscillators #1.wavetable] harmonics: all zero, the wavetable would be silent"),
    ('[[oscillators]]\nwave = "wavetable"\nwavetable = { harmonics = [] }\n',
     "[oscillators #1.wavetable] harmonics: expected a non-empty list of numbers, the amplitudes of harmonics 1, "
     "2, 3, ..., got []"),
    ('[[oscillators]]\nwave = "wavetable"\nwavetable = { harmonics = [1, "a"] }\n',
     "[oscillators #1.wavetable] harmonics: expected a non-empty list of numbers, the amplitudes of harmonics 1, "
     "2, 3, ..., got [1, 'a']"),
    ('[[oscillators]]\nwave = "wavetable"\nwavetable = { harmonics = [1], file = "cycle.wav" }\n',
     "[oscillators #1.wavetable]: expected harmonics or file, got both"),
    ('[[oscillators]]\nwave = "wavetable"\nwavetable = { }\n',
     "[oscillators #1.wavetable]: expected harmonics = [1, 0.5, ...] or file = \"cycle.wav\", got neither"),
    ('[[oscillators]]\nwave = "wavetable"\nwavetable = { harmonic = [1] }\n',
     "[oscillators #1.wavetable]: expected harmonics = [1, 0.5, ...] or file = \"cycle.wav\", got neither"),
    # Filter.
    (OSC + '[filter]\nmode = "highpass"\n', "[filter] cutoff_hz: expected a number from 20 to 20000, got nothing"),
], ids=lambda value: value if len(value) < 40 else None)
def test_each_mistake_gives_one_clear_problem(tmp_path, text, expected):
    if "harmonic = [1]" in text:  # the misspelt key is a second problem: both are reported
        problems = [p.split(": ", 1)[1] for p in problems_in(tmp_path, text)]
        assert problems == [expected, "unknown key 'harmonic' in [oscillators #1.wavetable]; "
                                      "did you mean 'harmonics'?"]
        return
    assert only_problem_in(tmp_path, text) == expected


def test_a_missing_wavetable_file_is_named_with_its_folder(tmp_path):
    problem = only_problem_in(tmp_path, '[[oscillators]]\nwave = "wavetable"\nwavetable = { file = "gone.wav" }\n')
    assert problem == (f"[oscillators #1.wavetable] file: expected a single-cycle sound file, "
                       f"{tmp_path / 'gone.wav'} does not exist")


def test_a_wavetable_file_that_is_not_one_cycle(tmp_path):
    phase = np.arange(1200) / 600
    soundfile.write(tmp_path / "two.wav", np.sin(2 * np.pi * phase), 48000, subtype="FLOAT")
    problem = only_problem_in(tmp_path, '[[oscillators]]\nwave = "wavetable"\nwavetable = { file = "two.wav" }\n')
    assert problem == (f"[oscillators #1.wavetable] file: {tmp_path / 'two.wav'}: the waveform repeats 2 times "
                       f"in the file; a single cycle is needed")
    (tmp_path / "noise.wav").write_text("not a sound")
    problem = only_problem_in(tmp_path, '[[oscillators]]\nwave = "wavetable"\nwavetable = { file = "noise.wav" }\n')
    assert problem.startswith(f"[oscillators #1.wavetable] file: {tmp_path / 'noise.wav'}: not a sound file")


def test_a_toml_syntax_error_names_its_line(tmp_path):
    problem = only_problem_in(tmp_path, '[patch]\nname = "Broken"\ngain_db = -12 dB\n')
    assert problem.startswith("TOML syntax error: ")
    assert "(at line 3, column 15)" in problem


def test_every_problem_of_a_file_at_once(tmp_path):
    problems = problems_in(tmp_path, """
[patch]
gain_db = 40
[[oscillators]]
wave = "sawtooth"
[[oscillators]]
wave = "pulse"
unison = 12
[filter]
cutof = 100
[amp_envelope]
attack_ms = -1
[[routes]]
source = "lfo1"
destination = "pitch"
amount = 5
""")
    assert [problem.split(": ", 1)[1].split(":")[0] for problem in problems] == [
        "[patch] gain_db", "[oscillators #1] wave", "[oscillators #2] unison", "[filter] cutoff_hz",
        "[amp_envelope] attack_ms", "[routes #1]", "unknown key 'cutof' in [filter]; did you mean 'cutoff_hz'?",
    ]


def test_unreadable_files(tmp_path):
    with pytest.raises(PatchError) as caught:
        load_patch(tmp_path / "absent.toml")
    assert caught.value.problems == [f"{tmp_path / 'absent.toml'}: cannot read the patch file: "
                                     f"No such file or directory"]
    (tmp_path / "latin1.toml").write_bytes(b'[patch]\nname = "Caf\xe9"\n')
    with pytest.raises(PatchError) as caught:
        load_patch(tmp_path / "latin1.toml")
    assert caught.value.problems == [f"{tmp_path / 'latin1.toml'}: not UTF-8 text (byte 19)"]


def test_parse_patch_names_the_text_it_was_given_and_finds_files_in_a_folder(tmp_path):
    with pytest.raises(PatchError) as caught:
        parse_patch("[[oscillators]]\nwave = 'x'\n", "from the OSC surface")
    assert caught.value.problems[0].startswith("from the OSC surface: [oscillators #1] wave: ")
    phase = np.arange(64) / 64
    soundfile.write(tmp_path / "c.wav", np.sin(2 * np.pi * phase), 48000, subtype="FLOAT")
    patch = parse_patch('[[oscillators]]\nwave = "wavetable"\nwavetable = {file = "c.wav"}\n', "typed", tmp_path)
    assert len(patch.wavetables) == 1


# --- The shipped patches, played ----------------------------------------------------------

RATE = 48000
BLOCK = 256


def play(patch, keys, seconds, hold, velocity=1.0, wheel=None, tempo_bpm=120.0):
    """The engine's output (frames, 2) for `keys` played together at `velocity` and released
    after `hold` seconds; the limiter set out of the way so the patch's own peak shows."""
    from liveengine.engine import Engine, EngineSettings, OfflineRenderer
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, polyphony=16, limiter_ceiling=100.0))
    engine.install_synth(0, patch, tempo_bpm)
    producer = engine.producer("control")
    if wheel is not None:
        producer.controller(0, 1, wheel)
    for note, key in enumerate(keys):
        producer.note_on(0, note, 0, key, velocity, "keys")
        producer.note_off(round(hold * RATE), note)
    return OfflineRenderer(engine.state, BLOCK).render(round(seconds * RATE)).astype(np.float64), engine


def rms_db(audio, start, end):
    part = audio[round(start * RATE):round(end * RATE)]
    return 10 * math.log10(np.mean(part ** 2) + 1e-30)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_a_four_note_chord_at_full_velocity_stays_below_full_scale(path):
    patch = load_patch(path)
    seconds, hold = (9.0, 8.5) if path.stem == "riser" else (3.0, 2.0)
    peaks = []
    for chord in ([48, 55, 60, 64], [60, 64, 67, 72], [72, 76, 79, 84]):
        audio, _ = play(patch, chord, seconds, hold)
        peaks.append(20 * math.log10(np.abs(audio).max()))
    assert max(peaks) < -1.0, f"{path.name}: peaks {peaks} dBFS"
    assert min(peaks) > -30.0, f"{path.name}: too quiet, peaks {peaks} dBFS"


def test_fm_bell_dies_away_while_held():
    audio, _ = play(load_patch(PATCHES / "fm_bell.toml"), [72], 7.0, 7.0)
    assert rms_db(audio, 6.0, 6.5) < rms_db(audio, 0.02, 0.2) - 30


def test_pulse_ostinato_is_short():
    audio, _ = play(load_patch(PATCHES / "pulse_ostinato.toml"), [60], 2.0, 2.0)
    assert rms_db(audio, 1.0, 1.5) < rms_db(audio, 0.0, 0.1) - 60


def test_riser_and_strings_swell_in():
    riser, _ = play(load_patch(PATCHES / "riser.toml"), [60], 7.0, 7.0)
    assert rms_db(riser, 5.5, 6.5) > rms_db(riser, 0.0, 1.0) + 12
    strings, _ = play(load_patch(PATCHES / "string_pad.toml"), [60], 2.0, 2.0, velocity=0.3)
    assert rms_db(strings, 1.2, 1.8) > rms_db(strings, 0.0, 0.1) + 12


def brightness(audio, start, end):
    """Spectral centroid in Hz of the left channel between two times."""
    part = audio[round(start * RATE):round(end * RATE), 0]
    spectrum = np.abs(np.fft.rfft(part * np.hanning(part.size)))
    frequencies = np.fft.rfftfreq(part.size, 1 / RATE)
    return float((spectrum * frequencies).sum() / spectrum.sum())


def test_brass_blares_open_and_more_for_harder_notes():
    brass = load_patch(PATCHES / "brass.toml")
    hard, _ = play(brass, [60], 2.0, 2.0, velocity=1.0)
    soft, _ = play(brass, [60], 2.0, 2.0, velocity=0.3)
    assert brightness(hard, 0.05, 0.15) > 1.3 * brightness(hard, 1.5, 1.9)  # opens, then settles
    assert brightness(hard, 0.05, 0.15) > 1.3 * brightness(soft, 0.05, 0.15)


def test_sub_bass_is_one_voice():
    bass = load_patch(PATCHES / "sub_bass.toml")
    _, engine = play(bass, [36, 43, 48], 0.5, 0.5)
    assert engine.telemetry().voices == 1


def vibrato_hz(audio, key):
    """How far (Hz, peak) the fundamental of `key` swings at the lead's vibrato rate (5.5 Hz)."""
    x = audio[RATE // 4:2 * RATE, 0]
    spectrum = np.fft.rfft(x)
    frequencies = np.fft.rfftfreq(x.size, 1 / RATE)
    fundamental = 440 * 2 ** ((key - 69) / 12)
    spectrum[(frequencies < 0.8 * fundamental) | (frequencies > 1.25 * fundamental)] = 0
    y = np.fft.irfft(spectrum, x.size)[RATE // 8:-RATE // 8]
    rising = np.flatnonzero((y[:-1] < 0) & (y[1:] >= 0))
    crossings = rising + -y[rising] / (y[rising + 1] - y[rising])
    times, frequency = crossings[1:] / RATE, RATE / np.diff(crossings)
    return 2 * abs(np.mean((frequency - frequency.mean()) * np.exp(-2j * np.pi * 5.5 * times)))


def test_mono_lead_vibrato_comes_with_the_mod_wheel():
    lead = load_patch(PATCHES / "mono_lead.toml")
    still, _ = play(lead, [69], 2.5, 2.5, wheel=0.0)
    moving, _ = play(lead, [69], 2.5, 2.5, wheel=1.0)
    assert vibrato_hz(still, 69) < 1.0
    assert vibrato_hz(moving, 69) > 5.0  # 35 cents: about 9 Hz


def test_an_empty_list_of_oscillators_is_none(tmp_path):
    assert only_problem_in(tmp_path, "oscillators = []\n") == "[[oscillators]]: expected at least one oscillator, got none"
