"""The scripting API (`import liveengine`), a test per call, written from the README's examples:
notes on their exact samples, releases, SF2 presets, shipped patches, `render_midi` against
`liveengine play`, `Show.render` against `liveengine render`, and a ValueError for each bad argument."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile

import liveengine

from commandline import DEMO, ROOT
from commandline import liveengine as liveengine_command
from examplefiles import BANK, RELEASE_SECONDS, needs_bank, piano, song


def cli(*args):
    result = liveengine_command(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_instruments_loaded_from_one_file_decode_it_once(tmp_path, monkeypatch):
    import liveengine.instruments.samples as samples
    reads = []
    read_frames = samples.read_frames

    def counted(source, *span):
        reads.append(source.path)
        return read_frames(source, *span)

    monkeypatch.setattr(samples, "read_frames", counted)
    engine = liveengine.Engine()
    first, second = engine.load(piano(tmp_path)), engine.load(tmp_path / "Piano.sfz", gain_db=-6)
    assert len(reads) == 1, "the second instrument plays the head the first decoded"
    first.note_on(60, at=0.0)
    second.note_on(60, at=0.0)
    assert np.abs(engine.render(0.05)).max() > 0.1, "both play it"


def test_import_liveengine_loads_nothing_heavy():
    result = subprocess.run([sys.executable, "-c", "import sys, liveengine; print(sorted(m for m in ('numpy', "
                             "'numba', 'sounddevice', 'liveengine.engine') if m in sys.modules))"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
    assert {"Engine", "Instrument", "Show", "render_midi"} <= set(dir(liveengine))


@pytest.mark.parametrize("block_size", [32, 256, 1024])
@pytest.mark.parametrize("sample_rate", [44100, 48000, 96000])
@pytest.mark.parametrize("at", [0.0, 0.25, 0.3333])
def test_a_note_sounds_from_the_sample_its_time_falls_on_and_note_off_releases_it(tmp_path, sample_rate, at,
                                                                                    block_size):
    engine = liveengine.Engine(sample_rate=sample_rate, block_size=block_size)
    instrument = engine.load(piano(tmp_path, sample_rate))
    instrument.note_on(60, velocity=100, at=at)
    instrument.note_off(60, at=at + 0.5)
    audio = engine.render(seconds=1.0)
    assert audio.shape == (sample_rate, 2) and audio.dtype == np.float32
    onset, release = round(at * sample_rate), round((at + 0.5) * sample_rate)
    sounding = np.flatnonzero(audio[:, 0])
    assert sounding[0] == onset, "the note's first sample is the one its time falls on"
    assert np.all(audio[onset:release, 0] == audio[onset, 0]), "it holds until its note-off"
    assert release < sounding[-1] <= release + round(1.5 * RELEASE_SECONDS * sample_rate), "then it releases"


def test_velocity_is_in_midi_units():
    engine = liveengine.Engine()
    organ = engine.load("drawbar_organ")
    organ.note_on(69, velocity=127, at=0.0)
    organ.note_on(57, velocity=32, at=0.0)
    loud_and_soft = engine.render(seconds=0.2)
    alone = liveengine.Engine()
    alone.load("drawbar_organ").note_on(69, velocity=127, at=0.0)
    assert not np.array_equal(loud_and_soft, alone.render(seconds=0.2))


def test_renders_continue_one_timeline_and_now_is_where_the_next_render_starts(tmp_path):
    engine = liveengine.Engine()
    instrument = engine.load(piano(tmp_path))
    assert engine.render(seconds=0.5).any() is np.False_
    assert engine.time == 0.5
    instrument.note_on(60)  # now: the first sample of the next render
    audio = engine.render(seconds=0.5)
    assert np.flatnonzero(audio[:, 0])[0] == 0


@pytest.mark.parametrize("move", ["instrument gain", "master gain", "controller"])
def test_a_gain_or_a_controller_moves_a_sounding_note_from_its_sample(tmp_path, move):
    piano(tmp_path)
    (tmp_path / "wheel.sfz").write_text("<region> sample=dc.wav pitch_keycenter=60 volume_oncc1=-12\n")
    engine = liveengine.Engine()
    instrument = engine.load(tmp_path / "wheel.sfz")
    instrument.note_on(60, at=0.0)
    {"instrument gain": lambda: instrument.set_gain(-12.0, at=0.2),
     "master gain": lambda: engine.set_gain(-12.0, at=0.2),
     "controller": lambda: instrument.control_change(1, 127, at=0.2)}[move]()
    audio = engine.render(seconds=0.4)[:, 0]
    level = audio[0]
    assert np.all(audio[:9600] == level), "nothing moves before its time"
    assert audio[9602] < level and audio[-1] == pytest.approx(level * 10 ** (-12 / 20), rel=1e-4)


def test_a_pitch_bend_moves_a_sounding_note_and_all_notes_off_releases_every_note():
    def organ(bend=False):
        engine = liveengine.Engine()
        instrument = engine.load("drawbar_organ")
        instrument.note_on(69, at=0.0)
        instrument.note_on(76, at=0.1)
        if bend:
            instrument.pitch_bend(8191, at=0.2)
        instrument.all_notes_off(at=0.3)
        return engine.render(seconds=1.0)[:, 0]

    plain, bent = organ(), organ(bend=True)
    assert np.array_equal(plain[:9000], bent[:9000]) and not np.array_equal(plain[9600:14400], bent[9600:14400])
    assert plain[14400:].any() and not plain[-4800:].any(), "released at 0.3 s, silent by the end"


@needs_bank
def test_an_sf2_preset_is_chosen_by_bank_and_program():
    def note(**preset):
        engine = liveengine.Engine()
        instrument = engine.load(BANK, **preset)
        instrument.note_on(60, velocity=100, at=0.0)
        return instrument, engine.render(seconds=0.3)

    piano_, piano_audio = note()
    strings, strings_audio = note(bank=0, program=48)
    drums, drums_audio = note(bank=128, program=0)
    assert piano_.name != strings.name != drums.name
    assert piano_audio.any() and strings_audio.any() and drums_audio.any()
    assert not np.array_equal(piano_audio, strings_audio)


def test_a_shipped_patch_plays_by_its_name():
    engine = liveengine.Engine()
    pad = engine.load("warm_pad")
    pad.note_on(57, at=0.1)
    audio = engine.render(seconds=0.5)
    assert not audio[:4800].any() and audio[4800:].any()


@needs_bank
def test_render_midi_writes_what_liveengine_play_writes(tmp_path):
    midi = song(tmp_path / "song.mid")
    cli("play", BANK, "--midi", midi, "-o", tmp_path / "play.wav")
    liveengine.render_midi(midi, BANK, tmp_path / "out.wav")
    played, rate = soundfile.read(tmp_path / "play.wav", dtype="int32")
    written, written_rate = soundfile.read(tmp_path / "out.wav", dtype="int32")
    assert rate == written_rate == 44100 and played.any()
    assert np.array_equal(played, written)
    liveengine.render_midi(midi, BANK, tmp_path / "float.wav", subtype="FLOAT")
    returned = liveengine.render_midi(midi, BANK)
    assert np.array_equal(returned, soundfile.read(tmp_path / "float.wav", dtype="float32")[0]), "or returns the audio"


def test_show_render_writes_what_liveengine_render_writes(tmp_path):
    cli("render", DEMO, "-o", tmp_path / "cli.wav", "--seconds", 4)
    show = liveengine.Show.load(DEMO)
    show.render(tmp_path / "show.wav", seconds=4)
    rendered, rate = soundfile.read(tmp_path / "cli.wav", dtype="int32")
    written, written_rate = soundfile.read(tmp_path / "show.wav", dtype="int32")
    assert rate == written_rate and rendered.any() and np.array_equal(rendered, written)
    assert show.render(seconds=1.0).shape == (rate, rendered.shape[1])


def too_many_instruments():
    engine = liveengine.Engine()
    for _ in range(65):
        engine.load("drawbar_organ")


def render_past():
    engine = liveengine.Engine()
    organ = engine.load("drawbar_organ")
    engine.render(seconds=1.0)
    organ.note_on(60, at=0.5)


@pytest.mark.parametrize("call, message", [
    (lambda: liveengine.Engine().load("missing.sfz"), "instrument file not found: missing.sfz"),
    (lambda: liveengine.Engine().load("patches/missing.toml"), "synth patch file not found"),
    (lambda: liveengine.Engine().load("warm_pd"), "did you mean 'warm_pad'"),
    (lambda: liveengine.Engine().load("song.mid"), "not an instrument the engine plays"),
    (lambda: liveengine.Engine().load("warm_pad", program=3), "not of a synth patch"),
    (lambda: liveengine.Engine().load(BANK, bank=7, program=3), "no preset 007:003"),
    (lambda: liveengine.Engine().load(BANK, program=128), "program must be a whole number from 0 to 127"),
    (lambda: liveengine.Engine().load("warm_pad").note_on(128), "key must be a whole number from 0 to 127"),
    (lambda: liveengine.Engine().load("warm_pad").note_on(60.5), "key must be a whole number"),
    (lambda: liveengine.Engine().load("warm_pad").note_on(60, velocity=0), "velocity must be a whole number from 1"),
    (lambda: liveengine.Engine().load("warm_pad").note_on(60, velocity=0.8), "velocity must be a whole number"),
    (lambda: liveengine.Engine().load("warm_pad").note_on(60, at=-1.0), "at=-1 s is in the past"),
    (lambda: liveengine.Engine().load("warm_pad").note_on(60, at=float("nan")), "at must be a number"),
    (lambda: liveengine.Engine().load("warm_pad").control_change(120, 0), "controller must be a whole number"),
    (lambda: liveengine.Engine().load("warm_pad").pitch_bend(8192), "pitch bend must be a whole number from -8192"),
    (render_past, "at=0.5 s is in the past: the engine has rendered 1 s"),
    (too_many_instruments, "too many instruments: an engine holds 64"),
    (lambda: liveengine.Engine(sample_rate=22050), "sample_rate must be one of 44100, 48000, 96000"),
    (lambda: liveengine.Engine(block_size=2048), "block_size must be a whole number from 32 to 1024"),
    (lambda: liveengine.Engine().render(seconds=0), "seconds must be positive"),
    (lambda: liveengine.render_midi("missing.mid", "warm_pad", "out.wav"), "missing.mid"),
    (lambda: liveengine.Show.load("missing.toml"), "missing.toml: cannot read the show file"),
    (lambda: liveengine.Show.load(DEMO).render("/no/such/folder/out.wav", seconds=1), "cannot write"),
])
def test_a_bad_argument_raises_a_value_error_that_says_which_and_why(tmp_path, monkeypatch, call, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "song.mid").write_bytes(b"")
    if "BANK" in repr(call.__code__.co_names) and not BANK.is_file():
        pytest.skip("FluidR3_GM is not installed")
    with pytest.raises(ValueError) as raised:
        call()
    assert message in str(raised.value)
