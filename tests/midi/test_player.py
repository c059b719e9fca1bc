"""`liveengine play`: a Standard MIDI File through one instrument file, offline. Notes start on
their exact samples through tempo changes, presets are chosen as a General MIDI player chooses
them, and the pedal, volume, pan and bend do what FluidSynth does with them.

Each MIDI file is written here with mido; the banks are Debian's, the SFZ files sfizz's test
files or written here over generated waves.
"""

from fractions import Fraction
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

from liveengine.cli import main
from liveengine.engine import Engine, EngineSettings, OfflineRenderer
from liveengine.instruments.samples import load_heads
from liveengine.instruments.sf2 import load_sf2
from liveengine.instruments.sfz import load_sfz
from liveengine.midi.player import HEAD_FRAMES, TAIL_CHUNK_FRAMES, MidiPlayer

from commandline import liveengine
from corpus import corpus_folder

RATE = 44100
TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
FLUID = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
needs_fluid = pytest.mark.skipif(not FLUID.exists(), reason=f"{FLUID} is not installed (fluid-soundfont-gm)")
needs_timgm = pytest.mark.skipif(not TIMGM.exists(), reason=f"{TIMGM} is not installed (timgm6mb-soundfont)")
TICKS_PER_BEAT = 480
# 120 bpm, then 75 bpm from beat 8 (4 s), then 150 bpm from beat 13 (8 s); microseconds per beat.
TEMPOS = ((0, 500_000), (8 * TICKS_PER_BEAT, 800_000), (13 * TICKS_PER_BEAT, 400_000))


# MIDI files.

def write_midi(path: Path, events, tempos=TEMPOS) -> Path:
    """A type 1 file: the tempo map in its first track, `events` ((tick, message), any order) in the second."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    for timed in ([(tick, mido.MetaMessage("set_tempo", tempo=tempo)) for tick, tempo in tempos], events):
        track, last = mido.MidiTrack(), 0
        for tick, message in sorted(timed, key=lambda event: event[0]):
            track.append(message.copy(time=tick - last))
            last = tick
        midi.tracks.append(track)
    midi.save(path)
    return path


def note(tick, key, ticks, channel=0, velocity=100):
    return [(tick, mido.Message("note_on", channel=channel, note=key, velocity=velocity)),
            (tick + ticks, mido.Message("note_off", channel=channel, note=key))]


def control(tick, number, value, channel=0):
    return [(tick, mido.Message("control_change", channel=channel, control=number, value=value))]


def program(tick, number, channel=0):
    return [(tick, mido.Message("program_change", channel=channel, program=number))]


def sample_at(tick: int, tempos=TEMPOS) -> int:
    """The sample a tick falls on by `tempos`, worked out here on its own."""
    seconds, at, tempo = Fraction(0), 0, tempos[0][1]
    for change, next_tempo in tempos[1:]:
        if change >= tick:
            break
        seconds += Fraction(change - at, TICKS_PER_BEAT) * Fraction(tempo, 1_000_000)
        at, tempo = change, next_tempo
    return round((seconds + Fraction(tick - at, TICKS_PER_BEAT) * Fraction(tempo, 1_000_000)) * RATE)


# Rendering.

def play(patch, midi, **options):
    """The whole render (frames, 2) as float64, and the player."""
    player = MidiPlayer(patch, midi, sample_rate=RATE, **options)
    return np.concatenate([block.astype(np.float64) for block in player.render()]), player


def first_sound_after_a_note_on(instrument, key, velocity) -> int:
    """Samples from a note-on to its first non-zero sample, played straight into an engine."""
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=64))
    engine.install_sampler(0, instrument, load_heads(instrument).samples)
    engine.producer("control").note_on(0, 1, 0, key, velocity / 127, "keys")
    return int(np.flatnonzero(OfflineRenderer(engine.state, 64).render(4096)[:, 0])[0])


def onsets(audio, expected, silence=1000) -> list[int]:
    """Where sound starts again after each expected onset's silent stretch before it."""
    sounding = np.abs(audio).max(axis=1) > 0
    found = []
    for at in expected:
        assert not sounding[at - silence:at].any(), f"sound before the note at sample {at}"
        found.append(at + int(np.argmax(sounding[at:])))
    return found


def rms(signal) -> float:
    return float(np.sqrt(np.mean(np.square(signal))))


def difference(a, b) -> float:
    """The RMS of a - b over the length both have."""
    length = min(len(a), len(b))
    return rms(a[:length] - b[:length])


def frequency(signal) -> float:
    rising = np.flatnonzero((signal[:-1] < 0) & (signal[1:] >= 0))
    exact = rising + signal[rising] / (signal[rising] - signal[rising + 1])
    return RATE * (len(exact) - 1) / (exact[-1] - exact[0])


# Timing.

# Across both tempo changes, far enough apart for each note's release to end before the next;
# tick 1800 falls on sample 82687.5, a tie, rounded to even.
NOTE_TICKS = (0, 1800, 3700, 4840, 7351)


@needs_timgm
def test_notes_of_a_bank_start_on_their_exact_samples_through_tempo_changes(tmp_path):
    midi = write_midi(tmp_path / "timing.mid", [event for tick in NOTE_TICKS for event in note(tick, 60, 40)])
    audio, _ = play(TIMGM, midi)
    delay = first_sound_after_a_note_on(load_sf2(TIMGM, 0, 0), 60, 100)
    expected = [sample_at(tick) for tick in NOTE_TICKS]
    assert expected[1] == 82688
    assert onsets(audio, expected[1:]) == [at + delay for at in expected[1:]]
    assert np.flatnonzero(np.abs(audio).max(axis=1))[0] == delay


def test_an_sfz_file_plays_on_every_channel_on_the_exact_samples(tmp_path, sfizz):
    kick = sfizz / "kick.sfz"
    ticks = NOTE_TICKS[1:]
    midi = write_midi(tmp_path / "kicks.mid", [event for number, tick in enumerate(ticks)
                                               for event in note(tick, 36, 40, channel=2 * number)])
    audio, player = play(kick, midi)
    delay = first_sound_after_a_note_on(load_sfz(kick), 36, 100)
    expected = [sample_at(tick) for tick in ticks]
    assert onsets(audio, expected) == [at + delay for at in expected]
    assert [(loaded.label, loaded.channels) for loaded in player.presets] == [("kick.sfz", [1, 3, 5, 7])]


# Presets.

@needs_timgm
def test_program_changes_choose_the_preset_of_each_note(tmp_path):
    events = note(0, 64, 200) + program(2000, 40) + note(2400, 64, 200)  # piano, then violin
    midi = write_midi(tmp_path / "programs.mid", events, tempos=((0, 500_000),))
    audio, player = play(TIMGM, midi)
    assert [(loaded.label, loaded.name, loaded.channels) for loaded in player.presets] == [
        ("000:000", "Piano 1", [1]), ("000:040", "Violin", [1])]
    piano, _ = play(TIMGM, midi, preset=(0, 0))
    violin, _ = play(TIMGM, midi, preset=(0, 40))
    second = sample_at(2400, tempos=((0, 500_000),)) - 100
    assert np.array_equal(audio[:second], piano[:second])
    assert np.array_equal(audio[second:], violin[second:])
    assert difference(piano[second:], violin[second:]) > 0.3 * rms(violin[second:])


@needs_timgm
def test_channel_10_plays_the_drum_bank(tmp_path):
    on_ten = write_midi(tmp_path / "ten.mid", note(0, 38, 200, channel=9))
    on_one = write_midi(tmp_path / "one.mid", note(0, 38, 200, channel=0))
    drums, player = play(TIMGM, on_ten)
    assert [(loaded.label, loaded.channels) for loaded in player.presets] == [("128:000", [10])]
    kit, _ = play(TIMGM, on_one, preset=(128, 0))
    piano, _ = play(TIMGM, on_one)
    assert np.abs(drums).max() > 0.01
    assert np.array_equal(drums, kit)
    assert difference(drums, piano) > 0.3 * rms(drums)


@needs_timgm
def test_a_preset_the_bank_lacks_falls_back_as_general_midi_says(tmp_path):
    events = control(0, 0, 5) + program(0, 40) + note(10, 64, 200)  # bank 5 has no violin
    events += program(0, 99, channel=9) + note(10, 38, 200, channel=9)  # nor is there a drum kit 99
    _, player = play(TIMGM, write_midi(tmp_path / "banks.mid", events))
    assert sorted(loaded.label for loaded in player.presets) == ["000:040", "128:000"]
    assert "no preset 005:040: 000:040 Violin plays it" in "\n".join(player.notices)
    assert "no preset 128:099: 128:000 Standard plays it" in "\n".join(player.notices)


@needs_timgm
def test_the_sustain_pedal_holds_a_released_note_until_it_lifts(tmp_path):
    strings = program(0, 48) + note(0, 60, 480)  # looped: a held note sounds on; released at 0.5 s
    plain = write_midi(tmp_path / "plain.mid", strings, tempos=((0, 500_000),))
    pedalled = write_midi(tmp_path / "pedal.mid", strings + control(240, 64, 127) + control(4800, 64, 0),
                          tempos=((0, 500_000),))
    released, _ = play(TIMGM, plain)
    held, _ = play(TIMGM, pedalled)
    # The same until the block the pedal goes down in: its event splits that block where voices move once a segment.
    untouched = round(0.25 * RATE) // 64 * 64
    assert np.array_equal(held[:untouched], released[:untouched])
    # Each render ends when its last voice does: the note's release ends within 4 s of its
    # note-off, and the pedal holds it to 5 s.
    assert len(released) < 4 * RATE < 5 * RATE < len(held) < 9 * RATE
    playing, pedal_only = held[round(0.1 * RATE):round(0.4 * RATE)], held[round(4.5 * RATE):round(5 * RATE)]
    assert rms(pedal_only) > 0.3 * rms(playing)


# Channel controllers, on a sine.

@pytest.fixture
def sine(tmp_path) -> Path:
    path = tmp_path / "sine.sfz"
    path.write_text("<region> sample=*sine amp_veltrack=0 ampeg_release=0.01\n")
    return path


def held_note(tmp_path, sine, *controls, key=69):
    """A second of `key` after the channel's `controls` ((number, value) or ("bend", value)): the steady part."""
    events = note(100, key, 1440)
    for number, value in controls:
        events += [(0, mido.Message("pitchwheel", pitch=value))] if number == "bend" else control(0, number, value)
    audio, _ = play(sine, write_midi(tmp_path / "controls.mid", events, tempos=((0, 500_000),)))
    return audio[round(0.5 * RATE):round(1.5 * RATE)]


def test_volume_and_expression_follow_fluidsynths_curve(tmp_path, sine):
    full = rms(held_note(tmp_path, sine, (7, 127)))
    for volume, expression in ((100, 127), (64, 127), (127, 64), (90, 40)):
        level = rms(held_note(tmp_path, sine, (7, volume), (11, expression)))
        assert level / full == pytest.approx((volume / 127) ** 2 * (expression / 127) ** 2, rel=1e-3)
    assert rms(held_note(tmp_path, sine)) / full == pytest.approx((100 / 127) ** 2, rel=1e-3)  # GM's start


def test_controllers_start_where_an_sfz_file_sets_them_else_where_general_midi_does(tmp_path):
    region = "<region> sample=*sine locc7=0 hicc7=30\n"  # sounds only while CC7 stands at 30 or below
    for control, sounds in (("", False), ("<control> set_cc7=20\n", True)):
        path = tmp_path / "sfz" / f"{sounds}.sfz"
        path.parent.mkdir(exist_ok=True)
        path.write_text(control + region)
        assert (rms(held_note(tmp_path, path)) > 0.01) == sounds


def test_pan_places_the_note(tmp_path, sine):
    left = held_note(tmp_path, sine, (10, 0))
    centre = held_note(tmp_path, sine, (10, 64))
    assert rms(left[:, 1]) == 0.0 and rms(left[:, 0]) > 0.1
    assert rms(centre[:, 0]) == pytest.approx(rms(centre[:, 1]), rel=1e-6)


def test_pitch_bend_spans_two_semitones_or_what_rpn_0_sets(tmp_path, sine):
    up = 8191 / 8192
    assert frequency(held_note(tmp_path, sine)[:, 0]) == pytest.approx(440.0, rel=1e-4)
    bent = frequency(held_note(tmp_path, sine, ("bend", 8191))[:, 0])
    assert bent == pytest.approx(440.0 * 2 ** (2 * up / 12), rel=1e-4)
    octave = frequency(held_note(tmp_path, sine, (101, 0), (100, 0), (6, 12), ("bend", 8191))[:, 0])
    assert octave == pytest.approx(440.0 * 2 ** (12 * up / 12), rel=1e-4)
    down = frequency(held_note(tmp_path, sine, (101, 0), (100, 0), (6, 7), ("bend", -8192))[:, 0])
    assert down == pytest.approx(440.0 * 2 ** (-7 / 12), rel=1e-4)


def test_program_changes_choose_an_sfz_files_layers_and_a_both_file_is_no_louder_than_one_layer(tmp_path):
    """A library that maps programs to layers with loprog/hiprog (as jRhodes3c's "both" file does):
    a channel plays the layer of its program, never every layer at once."""
    layer = "<region> sample=*sine amp_veltrack=0 ampeg_release=0.01"
    one = tmp_path / "one.sfz"
    one.write_text(layer + "\n")
    both = tmp_path / "both.sfz"
    both.write_text(f"<group> loprog=0 hiprog=0\n{layer}\n<group> loprog=1 hiprog=1\n{layer} transpose=12\n")
    events = note(0, 69, 480) + program(960, 1) + note(960, 69, 480) + program(1920, 0) + note(1920, 69, 480)
    midi = write_midi(tmp_path / "layers.mid", events, tempos=((0, 500_000),))
    single, _ = play(one, midi)
    audio, player = play(both, midi)
    assert player.presets[0].problems == []
    notes = [audio[second * RATE + RATE // 10:second * RATE + RATE // 2, 0] for second in range(3)]
    assert [round(frequency(played)) for played in notes] == [440, 880, 440]
    assert np.array_equal(audio[:RATE], single[:RATE]), "at program 0, the first layer alone"
    assert rms(notes[1]) == pytest.approx(rms(notes[0]), rel=1e-3)


# The command.

@needs_timgm
@pytest.mark.parametrize("ends", ["sounding", "silent"])
def test_a_file_renders_alike_in_any_chunks_and_stops_within_a_tail_chunk_of_its_sound(tmp_path, ends):
    # Sounding: a note's release rings past the file's end. Silent: the file goes on a second after its notes.
    events = note(0, 60, 400) + note(700, 67, 500) + (control(3000, 7, 100) if ends == "silent" else [])
    midi = write_midi(tmp_path / "song.mid", events)
    player = MidiPlayer(TIMGM, midi, sample_rate=RATE)
    chunked = np.concatenate([chunk.astype(np.float64) for chunk in player.render()])
    small = np.concatenate([chunk.astype(np.float64) for chunk in MidiPlayer(TIMGM, midi, sample_rate=RATE).render(
        chunk_frames=256)])
    assert np.array_equal(chunked[:len(small)], small[:len(chunked)])
    last_sound = np.flatnonzero(np.abs(chunked).max(axis=1) > 0)[-1]
    assert len(chunked) % TAIL_CHUNK_FRAMES == 0
    assert max(last_sound, player.end_sample) < len(chunked) <= max(last_sound, player.end_sample) + TAIL_CHUNK_FRAMES


def test_play_writes_the_file_and_says_what_it_did(tmp_path):
    midi = write_midi(tmp_path / "song.mid", program(0, 40) + note(0, 64, 480) + note(0, 38, 480, channel=9))
    out = tmp_path / "song.wav"
    result = liveengine("play", TIMGM, "--midi", midi, "-o", out, "--seconds", "0.75", "--subtype", "FLOAT")
    assert result.returncode == 0, result.stderr
    audio, rate = soundfile.read(out)
    assert rate == RATE and audio.shape == (round(0.75 * RATE), 2) and np.abs(audio).max() > 0.01
    for said in ("000:040 Violin", "channel 1", "128:000 Standard", "channel 10", "x real time", "dBFS",
                 "0 stolen", "0 notes refused", "0 samples not ready"):
        assert said in result.stdout


# Synth patches.

SINE_PATCH = """
[patch]
name = "Sine"
gain_db = -6
[[oscillators]]
wave = "sine"
[amp_envelope]
attack_ms = 1
release_ms = 20
"""


def spectral_peak(signal, rate) -> float:
    """The frequency of the strongest partial (Hann window, zero-padded, parabolic on log magnitudes)."""
    padded = 8 * len(signal)
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal)), padded))
    peak = int(np.argmax(spectrum))
    before, at, after = np.log(spectrum[peak - 1:peak + 2])
    return (peak + 0.5 * (before - after) / (before - 2 * at + after)) * rate / padded


# (patch as typed, key, sample rate, block, cents the pitch may be off): a shipped patch by name, and
# patch files by path; warm_pad's detuned unison saws put its strongest partial a few cents flat.
SYNTH_CASES = {
    "shipped name": ("sub_bass", 45, 44100, 64, 0.01),
    "file in patches/": ("patches/warm_pad.toml", 57, 48000, 1024, 10.0),
    "file of one's own": ("{tmp}/sine.toml", 69, 96000, 32, 0.01),
}


@pytest.mark.parametrize("case", sorted(SYNTH_CASES))
def test_a_synth_patch_plays_a_midi_file_on_its_samples_at_its_pitch(tmp_path, case):
    patch, key, rate, block, tolerance = SYNTH_CASES[case]
    (tmp_path / "sine.toml").write_text(SINE_PATCH)
    midi = write_midi(tmp_path / "one.mid", note(240, key, 960), tempos=((0, 500_000),))  # on at 0.25 s, for 1 s
    out = tmp_path / "out.wav"
    result = liveengine("play", patch.format(tmp=tmp_path), "--midi", midi, "-o", out, "--sample-rate", rate,
                        "--block", block, "--subtype", "FLOAT")
    assert result.returncode == 0, result.stderr
    assert "synth patch, channel 1" in result.stdout
    audio, written_rate = soundfile.read(out)
    onset = round(0.25 * rate)
    assert written_rate == rate
    assert not audio[:onset].any() and np.abs(audio[onset]).max() > 0, "sound starts on the note's sample"
    pitch = spectral_peak(audio[onset + rate // 2:onset + rate, 0], rate)
    assert abs(1200 * np.log2(pitch / (440 * 2 ** ((key - 69) / 12)))) < tolerance


def test_gain_scales_a_synth_patch(tmp_path):
    (tmp_path / "sine.toml").write_text(SINE_PATCH)
    midi = write_midi(tmp_path / "one.mid", note(240, 69, 960), tempos=((0, 500_000),))
    renders = []
    for gain in ("0", "-6"):
        out = tmp_path / f"gain{gain}.wav"
        result = liveengine("play", tmp_path / "sine.toml", "--midi", midi, "-o", out, "--gain", gain,
                            "--subtype", "FLOAT")
        assert result.returncode == 0, result.stderr
        renders.append(soundfile.read(out)[0])
    full, lowered = renders
    assert np.abs(full).max() > 0.05
    np.testing.assert_allclose(lowered, full * 10 ** (-6 / 20), rtol=1e-5, atol=1e-7)


def test_program_changes_leave_a_synth_patch_on_every_channel(tmp_path):
    (tmp_path / "sine.toml").write_text(SINE_PATCH)
    events = note(0, 69, 480) + program(960, 40) + note(960, 69, 480) + note(1920, 76, 480, channel=3)
    audio, player = play(tmp_path / "sine.toml", write_midi(tmp_path / "programs.mid", events,
                                                             tempos=((0, 500_000),)))
    assert [(loaded.label, loaded.regions, loaded.channels) for loaded in player.presets] == [
        (str(tmp_path / "sine.toml"), None, [1, 4])]
    notes = [audio[second * RATE + RATE // 10:second * RATE + RATE // 2, 0] for second in range(3)]
    assert rms(notes[1]) == pytest.approx(rms(notes[0]), rel=1e-3), "program 40 plays the same patch"
    assert [round(spectral_peak(played, RATE), 1) for played in notes] == [440.0, 440.0, 659.3]


BAD_INPUTS = {
    "missing MIDI file": (lambda tmp: TIMGM, lambda tmp: tmp / "none.mid", [], "none.mid"),
    "not a MIDI file": (lambda tmp: TIMGM, lambda tmp: text_file(tmp / "text.mid"), [], "text.mid"),
    "missing patch": (lambda tmp: tmp / "none.sf2", None, [], "none.sf2"),
    "not a bank": (lambda tmp: text_file(tmp / "text.sf2"), None, [], "text.sf2"),
    "not an instrument file": (lambda tmp: text_file(tmp / "patch.txt"), None, [], "patch.txt"),
    "missing synth patch file": (lambda tmp: tmp / "none.toml", None, [], "none.toml"),
    "no shipped patch of that name": (lambda tmp: "warmpad", None, [], "warmpad"),
    "a preset of a synth patch": (lambda tmp: "warm_pad", None, ["--program", "3"], "warm_pad"),
    "a preset of an SFZ file": (lambda tmp: corpus_folder("sfizz-testfiles") / "kick.sfz", None, ["--program", "3"], "kick.sfz"),
    "a preset the bank lacks": (lambda tmp: TIMGM, None, ["--bank", "9", "--program", "3"], "009:003"),
}


def text_file(path: Path) -> Path:
    path.write_text("not what it says it is\n")
    return path


@needs_timgm
@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_get_one_clear_message_and_no_traceback(tmp_path, capsys, case):
    patch, midi, extra, named = BAD_INPUTS[case]
    midi = midi(tmp_path) if midi else write_midi(tmp_path / "ok.mid", note(0, 60, 100))
    code = main(["play", str(patch(tmp_path)), "--midi", str(midi), "-o", str(tmp_path / "out.wav"), *extra])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(error) == 1 and error[0].startswith("liveengine: ") and named in error[0]
    assert not (tmp_path / "out.wav").exists()


@needs_fluid
def test_the_samples_a_note_may_play_are_read_in_full_before_it_sounds(tmp_path):
    notes = {(0, 60, 100): 0, (0, 72, 30): 960, (1, 48, 100): 480}  # (channel, key, velocity): tick
    events = program(0, 48, channel=1)
    for (channel, key, velocity), tick in notes.items():
        events += note(tick, key, 480, channel=channel, velocity=velocity)
    midi = write_midi(tmp_path / "ahead.mid", events)
    audio, player = play(FLUID, midi)
    whole, _ = play(FLUID, midi, head_frames=1 << 22)  # every sample decoded whole before the first note
    np.testing.assert_array_equal(audio, whole)
    assert player.engine.telemetry().samples_not_ready == 0
    assert player.engine.samples.head_bytes <= len(player.engine.samples) * HEAD_FRAMES * 2 * 4
    presets = {0: load_sf2(FLUID, 0, 0), 1: load_sf2(FLUID, 0, 48)}
    reached = {presets[channel].samples[region.sample].raw for (channel, key, velocity) in notes
               for region in presets[channel].regions
               if region.lokey <= key <= region.hikey and region.lovel <= velocity <= region.hivel}
    assert player.streamer.reads == sum(1 for raw in reached if raw.frames > HEAD_FRAMES) > 0, \
        "read in full: the samples those notes may play, each once, and no other"
