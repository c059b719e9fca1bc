"""Parts from Standard MIDI Files (written here with mido), timed by the file's own tempo map."""

from fractions import Fraction

import mido
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveengine.show.reader import ShowFileError, parse_show
from liveengine.midi.smf import MidiFileError, _TempoMap, read_midi_notes
from liveengine.show.offline import ShowRender
from liveengine.show.rig import build_rig

RATE = 48000


def write_midi(path, ticks_per_beat=480):
    """Type 1: tempo in track 0 (120 bpm, then 60 bpm from beat 2); notes on two channels in track 1."""
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    tempo = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500000, time=0),
                            mido.MetaMessage("set_tempo", tempo=1000000, time=2 * ticks_per_beat)])
    notes = mido.MidiTrack()
    notes += [mido.Message("note_on", note=69, velocity=127, time=0),
              mido.Message("note_off", note=69, velocity=0, time=ticks_per_beat // 2),  # 0 .. 0.25 s
              mido.Message("note_on", note=72, velocity=64, channel=1, time=ticks_per_beat // 2),  # beat 1: 0.5 s
              mido.Message("note_on", note=76, velocity=100, time=2 * ticks_per_beat),  # beat 3: 1 s + 1 s
              mido.Message("note_on", note=72, velocity=0, channel=1, time=0),  # a note on at 0 ends it
              mido.Message("note_off", note=76, time=ticks_per_beat // 4)]  # + a quarter beat at 60: 2.25 s
    midi.tracks += [tempo, notes]
    midi.save(path)


def test_notes_are_timed_exactly_by_the_tempo_map(tmp_path):
    write_midi(tmp_path / "part.mid")
    notes = read_midi_notes(tmp_path / "part.mid")
    assert [(n.start_seconds, n.end_seconds, n.key) for n in notes] == [
        (0, Fraction(1, 4), 69), (Fraction(1, 2), 2, 72), (2, Fraction(9, 4), 76)]
    assert notes[0].velocity == 1.0 and notes[1].velocity == pytest.approx(64 / 127)
    assert [n.key for n in read_midi_notes(tmp_path / "part.mid", channel=2)] == [72]
    assert read_midi_notes(tmp_path / "part.mid", track=0) == ()


def test_a_midi_file_part_plays_from_its_cue_on_exact_samples(tmp_path):
    write_midi(tmp_path / "part.mid")
    show = parse_show(f"""
[show]
name = "MIDI part"
[audio]
sample_rate = {RATE}
block_size = 64
[timecode]
rate = "25"
master_start = "00:59:59:00"
[instruments.tone]
type = "tone"
attack_ms = 1
release_ms = 5
[[parts]]
name = "strings"
instrument = "tone"
midi_file = "part.mid"
channel = 1
[[cues]]
number = "1M1"
at = "01:00:00:00"
actions = [{{start = "strings"}}]
""", tmp_path / "show.toml")
    audio = ShowRender(build_rig(show)).audio(seconds=4)[:, 0]
    sounding = np.flatnonzero(audio)
    starts = [sounding[0]] + [b for a, b in zip(sounding, sounding[1:]) if b - a > 100]
    cue = RATE  # 01:00:00:00 is a second after the master start
    assert [int(s) - 1 for s in starts] == [cue, cue + 2 * RATE]  # channel 1 only: the A and the E


@pytest.mark.parametrize("part, message", [
    ('midi_file = "missing.mid"', "cannot read MIDI file"),
    ('midi_file = "part.mid"\ntrack = 5', "has tracks 0 to 1, not 5"),
    ('midi_file = "part.mid"\nchannel = 9', "has no notes on the chosen track or channel"),
    ('midi_file = "part.mid"\nnotes = [["A4", 0, 1, 0.5]]', "expected notes or midi_file, got both"),
    ('channel = 2', "[parts.p] channel: expected midi_file too"),
])
def test_midi_file_mistakes_are_named(tmp_path, part, message):
    write_midi(tmp_path / "part.mid")
    with pytest.raises(ShowFileError) as error:
        parse_show(f'[show]\nname = "x"\n[instruments.t]\ntype = "tone"\n[[parts]]\nname = "p"\ninstrument = "t"\n{part}\n',
                   tmp_path / "show.toml")
    assert message in str(error.value)


def test_a_truncated_file_is_a_clear_error(tmp_path):
    (tmp_path / "cut.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01")
    with pytest.raises(MidiFileError, match="cannot read MIDI file"):
        read_midi_notes(tmp_path / "cut.mid")


def write_pickup_midi(path, ticks_per_beat=480):
    """120 bpm; 4/4, then 3/4 from bar 2 (so bar 3 begins at beat 7: 3.5 s). A held from beat 6 to
    7.25 (across bar 3), C at beat 7.5, E at beat 9."""
    beat = ticks_per_beat
    midi = mido.MidiFile(type=1, ticks_per_beat=beat)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
                                       mido.MetaMessage("time_signature", numerator=3, denominator=4, time=4 * beat)]))
    midi.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=69, velocity=100, time=6 * beat),
        mido.Message("note_off", note=69, time=beat + beat // 4),
        mido.Message("note_on", note=72, velocity=100, time=beat // 4),
        mido.Message("note_off", note=72, time=beat // 4),
        mido.Message("note_on", note=76, velocity=100, time=beat + beat // 4),
        mido.Message("note_off", note=76, time=beat // 4)]))
    midi.save(path)


def test_bars_follow_the_time_signatures():
    from liveengine.midi.smf import bar_seconds
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        write_pickup_midi(f"{folder}/pickup.mid")
        assert [bar_seconds(f"{folder}/pickup.mid", bar) for bar in (1, 2, 3, 4)] == [0, 2, Fraction(7, 2), 5]


def test_a_pickup_from_bar_3_starts_with_the_held_note_and_keeps_the_rest_on_time(tmp_path):
    write_pickup_midi(tmp_path / "pickup.mid")
    show = parse_show(f"""
[show]
name = "Pickup"
[audio]
sample_rate = {RATE}
block_size = 64
[instruments.tone]
type = "tone"
attack_ms = 1
release_ms = 5
[[parts]]
name = "theme"
instrument = "tone"
midi_file = "pickup.mid"
[[cues]]
number = "4M2"
go = true
actions = [{{start = "theme"}}]
""", tmp_path / "show.toml")
    render = ShowRender(build_rig(show))
    before = render.play_until(100 * 64)
    render.runner.fire("4M2", 3)  # the rehearsal starts at bar 3
    audio = np.concatenate([before, render.audio(3 - 100 * 64 / RATE)])[:, 0]
    fired = next(d.sample for d in render.runner.decisions if d.text == "fired")
    sounding = np.flatnonzero(audio)
    starts = [sounding[0]] + [b for a, b in zip(sounding, sounding[1:]) if b - a > 100]
    assert fired <= starts[0] - 1 <= fired + 4 * 64, "the A held across bar 3 sounds from the pickup"
    key_of = {round(RATE * 0.25): "C", RATE: "E"}
    assert [int(s) - 1 - fired for s in starts[1:]] == list(key_of), "C a quarter second in, E a second in"
    assert ("4M2", "fired by hand from bar 3") in [(d.cue, d.text) for d in render.runner.decisions]


@settings(max_examples=200, deadline=None)
@given(ticks_per_beat=st.integers(1, 960), tempos=st.lists(st.tuples(st.integers(1, 5000), st.integers(1, 2 ** 24 - 1)),
                                                             max_size=4),
       ticks=st.lists(st.integers(0, 30000), min_size=1, max_size=20), rate=st.sampled_from([44100, 48000, 96000]))
def test_each_tick_falls_on_the_nearest_sample_to_its_exact_time(ticks_per_beat, tempos, ticks, rate):
    changes, at = [], 0
    for gap, tempo in tempos:
        at += gap
        changes.append((at, tempo))
    tempo_map = _TempoMap(changes, ticks_per_beat)
    for tick in ticks + [at for at, _ in changes]:
        assert tempo_map.sample_at(tick, rate) == round(tempo_map(tick) * rate)  # half to even, as Fraction does
