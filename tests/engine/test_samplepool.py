"""One decoded copy and one kernel slot per sample: instruments installed on the same sample file
(or SF2 sample) share them, the streamer reads its full data once, and a slot's full data is
evicted only when no voice of any instrument plays it."""

from pathlib import Path

import mido
import numpy as np
import pytest

from liveengine.engine import Engine, EngineSettings, HandedOver, HandoverOutcome, OfflineRenderer, SampleWanted
from liveengine.instruments.samples import SampleStreamer, load_heads
from liveengine.kernel.regions import SampledInstrument, SampleSource
from liveengine.midi.player import MidiPlayer
from liveengine.show.reader import parse_show
from liveengine.show.rig import build_rig

from samples import long_sample, plain
from sf2files import preset_samples
from shows import one_note_show

RATE = 48000
BLOCK = 64
FLUID = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
QUARTER = RATE // 4 // BLOCK * BLOCK  # about a quarter of a second, in whole blocks (each render call ends a block)


def piano_file(path: Path, channels) -> Path:
    """The same run of piano notes (General MIDI program 1) on each of `channels` (0-based) at once."""
    midi = mido.MidiFile(ticks_per_beat=480)
    for channel in channels:
        track = mido.MidiTrack([mido.Message("program_change", channel=channel, program=0)])
        for key in range(36, 97, 6):
            track.append(mido.Message("note_on", channel=channel, note=key, velocity=80))
            track.append(mido.Message("note_off", channel=channel, note=key, time=240))
        midi.tracks.append(track)
    midi.save(path)
    return path


@pytest.mark.skipif(not FLUID.exists(), reason=f"{FLUID} is not installed (fluid-soundfont-gm)")
def test_a_preset_on_several_channels_holds_each_sample_once(tmp_path):
    held = {}
    for name, channels in (("one", [0]), ("eight", [0, 1, 2, 3, 4, 5, 6, 7])):
        player = MidiPlayer(FLUID, piano_file(tmp_path / f"{name}.mid", channels), sample_rate=RATE)
        for _ in player.render():
            pass
        assert player.presets[0].channels == [channel + 1 for channel in channels]
        held[name] = (len(player.engine.samples), player.engine.samples.head_bytes, player.streamer.reads,
                      player.streamer.resident_bytes)
    slots, head_bytes, reads, full_bytes = held["one"]
    assert slots > 0 and reads > 0, "the piano's samples are longer than their heads: some are read in full"
    assert held["eight"] == held["one"], "eight channels: the same slots, heads and full reads as one"


def two_instruments_on_one_file(tmp_path):
    """An engine with two instruments over the same long sample file, its streamer serving them."""
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK))
    streamer = SampleStreamer(engine, engine.producer("samples"), budget_bytes=1)  # every full read over budget
    loaded = []
    for index in (0, 1):
        instrument = SampledInstrument(f"strings {index}", [plain(0)], [long_sample(tmp_path, seconds=1.0)])
        loaded.append(load_heads(instrument, head_frames=4096, pool=engine.samples))
        streamer.add(loaded[-1], engine.install_sampler(index, instrument, loaded[-1].samples))
    return engine, streamer, loaded


def test_instruments_on_one_file_share_its_slot_and_its_decoded_head(tmp_path):
    engine, _, (first, second) = two_instruments_on_one_file(tmp_path)
    assert len(engine.samples) == 1
    assert second.samples[0].head is first.samples[0].head, "the second instrument decoded nothing"
    path = Path(first.instrument.samples[0].path)
    (tmp_path / "link.wav").symlink_to(path)  # the same file by another name
    same_file_twice = SampledInstrument("twice", [plain(0), plain(1, lokey=70)],
                                        [SampleSource(str(path)), SampleSource(str(tmp_path / "link.wav"), root_key=50)])
    loaded = load_heads(same_file_twice, head_frames=4096)
    assert loaded.samples[0].head is loaded.samples[1].head and loaded.samples[1].root_key == 50
    assert engine.install_sampler(2, same_file_twice, loaded.samples) == [0, 0]


def test_a_shared_slot_is_evicted_only_when_no_voice_of_any_instrument_plays_it(tmp_path):
    engine, streamer, _ = two_instruments_on_one_file(tmp_path)
    control = engine.producer("control")
    renderer = OfflineRenderer(engine.state, BLOCK)
    wanted = engine.subscribe(SampleWanted)
    answers = engine.subscribe(HandedOver)

    def render(frames):
        return renderer.render(frames, before_block=lambda _: streamer.serve()).copy()

    def alone(instrument):
        """What instrument `instrument`'s note sounds like in an engine of its own."""
        engine, streamer, _ = two_instruments_on_one_file(tmp_path)
        engine.producer("control").note_on(0, 1, instrument, 60, 1.0, "keys")
        return OfflineRenderer(engine.state, BLOCK).render(2 * QUARTER, before_block=lambda _: streamer.serve()).copy()

    control.note_on(0, 1, 1, 60, 1.0, "keys")  # the second instrument plays the file
    first_half = render(QUARTER)
    assert [w.slot for w in wanted.drain()] == [0] and 0 in streamer.resident, "kept while a voice plays it"
    kept = engine.let_go_of_full_sample(0, streamer.producer)
    second_half = render(QUARTER)
    assert [(a.token, a.outcome) for a in answers.drain()] == [(kept, HandoverOutcome.KEPT)]
    np.testing.assert_array_equal(np.concatenate([first_half, second_half]), alone(1))

    control.note_off(-1, 1)
    render(RATE // 10)
    let_go = engine.let_go_of_full_sample(0, streamer.producer)
    render(2 * BLOCK)  # the audio thread answers in the first block, the streamer hears it before the second
    assert [(a.token, a.outcome) for a in answers.drain()] == [(let_go, HandoverOutcome.DONE)]
    assert 0 not in streamer.resident, "no voice plays it: its full data goes"
    control.note_on(renderer.position, 2, 0, 60, 1.0, "keys")  # the first instrument: read in full again
    again = render(2 * QUARTER)
    assert [w.slot for w in wanted.drain()] == [0]
    np.testing.assert_array_equal(again, alone(0))


@pytest.mark.skipif(not FLUID.exists(), reason=f"{FLUID} is not installed (fluid-soundfont-gm)")
def test_a_show_naming_presets_of_a_bank_loads_only_their_samples_each_once():
    presets = {"piano": 0, "strings": 48, "slow": 49}  # Strings and Slow Strings play the same samples
    instruments = "".join(f'\n[instruments.{name}]\ntype = "sf2"\nfile = "{FLUID}"\nprogram = {program}\n'
                          for name, program in presets.items())
    rig = build_rig(parse_show(one_note_show(RATE, BLOCK, instruments + '\n[instruments.voice]\ntype = "tone"\n'),
                               "presets.toml"))
    reached = {name: preset_samples(FLUID, 0, program) for name, program in presets.items()}
    assert len(reached["piano"]) == 40 and reached["strings"] == reached["slow"] and len(reached["slow"]) == 34
    held = {source.raw.byte_offset for loaded in rig.sampled.values() for source in loaded.instrument.samples
            if rig.engine.samples.slot(source) is not None}
    assert held == reached["piano"] | reached["strings"], "the samples of the presets named, of no other"
    assert len(rig.engine.samples) == 74, "one slot a sample: the two string presets share theirs"
    streamed = {rig.streamer.sources[slot].raw.byte_offset for slot in rig.streamer.sources}
    assert streamed <= held and len(rig.streamer.sources) == len(streamed), "each long sample streams once"
