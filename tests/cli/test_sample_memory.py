"""What samples take in memory, as `liveengine check` and `liveengine play --verbose` report it: each
instrument's and in all, matching what the engine's sample pool and streamer hold."""

import re
from pathlib import Path

import mido
import pytest

from liveengine.instruments.samples import DEFAULT_HEAD_FRAMES
from liveengine.instruments.sf2 import list_presets, load_sf2
from liveengine.midi.player import MidiPlayer
from liveengine.show.reader import load_show
from liveengine.show.rig import build_rig

from commandline import liveengine
from samples import long_sample
from shows import one_note_show

FLUID = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
needs_fluid = pytest.mark.skipif(not FLUID.exists(), reason=f"{FLUID} is not installed (fluid-soundfont-gm)")
FIGURES = re.compile(r"^ +(.+?): ([\d.]+) MB preloaded, (?:([\d.]+) MB streamed now of )?([\d.]+) MB if every "
                     r"sample plays to its end")


def reported(output: str) -> dict[str, tuple[float, ...]]:
    """Each instrument's figures (and "sample memory in all"'s): MB preloaded, [streamed now,] in full."""
    return {match[1]: tuple(float(figure) for figure in match.groups()[1:] if figure is not None)
            for line in output.splitlines() if (match := FIGURES.match(line))}


def megabytes(size: int) -> float:
    return round(size / (1 << 20), 1)


def pool_figures(engine, instruments) -> tuple[float, float]:
    """What the engine's sample pool holds for the samples of `instruments` (SampledInstruments), each once:
    MB of decoded heads, MB of those samples whole where they are longer than their heads."""
    pool = engine.samples
    slots = {pool.slot(source) for instrument in instruments for source in instrument.samples} - {None}
    heads = {slot: pool.head(source) for instrument in instruments for source in instrument.samples
             if (slot := pool.slot(source)) is not None}
    whole = sum(engine.sample_frames(slot) * head.shape[1] * 4 for slot, head in heads.items()
                if engine.sample_frames(slot) > len(head))
    assert len(heads) == len(slots)
    return megabytes(sum(head.nbytes for head in heads.values())), megabytes(whole)


def sfz_show(tmp_path: Path) -> Path:
    """A show whose two SFZ instruments play one long sample file, and a tone."""
    sample = Path(long_sample(tmp_path, seconds=4.0).path)
    for name, key in (("low", 40), ("high", 70)):
        (tmp_path / f"{name}.sfz").write_text(f"<region> sample={sample.name} pitch_keycenter={key}\n")
    instruments = "".join(f'\n[instruments.{name}]\ntype = "sfz"\nfile = "{name}.sfz"\n' for name in ("low", "high"))
    path = tmp_path / "strings.toml"
    path.write_text(one_note_show(48000, 256, instruments + '\n[instruments.voice]\ntype = "tone"\n'))
    return path


def test_check_reports_what_each_instrument_and_all_take_as_the_pool_holds(tmp_path):
    show = sfz_show(tmp_path)
    done = liveengine("check", show)
    assert done.returncode == 0, done.stderr
    figures = reported(done.stdout)
    rig = build_rig(load_show(show))
    assert len(rig.engine.samples) == 1, "two SFZ files over one sample: one slot"
    low, high = (rig.sampled[name].instrument for name in ("low", "high"))
    whole_file = megabytes(4 * 44100 * 2 * 4)  # 4 s of stereo float32
    assert pool_figures(rig.engine, [low]) == pool_figures(rig.engine, [low, high]) == (0.5, whole_file)
    assert figures["low"] == figures["high"] == figures["sample memory in all"] == (0.5, 0.0, whole_file)
    assert "held once and counted once in all" in done.stdout
    assert re.search(r"streaming holds at most 2047\.5 MB", done.stdout), "2048 MB less the preloaded 0.5 MB"


@needs_fluid
def test_play_verbose_reports_what_the_pool_and_the_streamer_hold(tmp_path):
    midi = mido.MidiFile(ticks_per_beat=480)
    for channel, program in ((0, 0), (1, 48)):
        track = mido.MidiTrack([mido.Message("program_change", channel=channel, program=program)])
        for key in (36, 60, 84):
            track += [mido.Message("note_on", channel=channel, note=key, velocity=90),
                      mido.Message("note_off", channel=channel, note=key, time=960)]
        midi.tracks.append(track)
    midi.save(tmp_path / "two.mid")
    done = liveengine("play", FLUID, "--midi", tmp_path / "two.mid", "-o", tmp_path / "two.wav", "--verbose")
    assert done.returncode == 0, done.stderr
    figures = reported(done.stdout)
    player = MidiPlayer(FLUID, tmp_path / "two.mid")
    for _ in player.render():
        pass
    sampled = {f"{loaded.label} {loaded.name}": load_sf2(FLUID, *map(int, loaded.label.split(":")))
               for loaded in player.presets}
    assert sorted(sampled) == sorted(name for name in figures if name != "sample memory in all")
    for name, instrument in sampled.items():
        heads, whole = pool_figures(player.engine, [instrument])
        streamed = sum(player.streamer.held_bytes(source) for source in
                       {player.engine.samples.slot(source): source for source in instrument.samples}.values())
        assert figures[name] == (heads, megabytes(streamed), whole)
    heads, whole = pool_figures(player.engine, sampled.values())
    assert figures["sample memory in all"] == (heads, megabytes(player.streamer.resident_bytes), whole)
    assert player.streamer.resident_bytes > 0, "some samples are longer than their heads and were read in full"


TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")


@pytest.mark.skipif(not TIMGM.exists(), reason=f"{TIMGM} is not installed (timgm6mb-soundfont)")
def test_check_a_bank_reports_each_preset_and_the_whole_bank_each_sample_once():
    done = liveengine("check", TIMGM)
    figures = reported(done.stdout)
    presets = {f"{preset.bank}:{preset.program} {preset.name}": load_sf2(TIMGM, preset.bank, preset.program)
               for preset in list_presets(TIMGM)}
    assert set(figures) == {*presets, "sample memory in all"}

    def preloaded(instruments) -> float:  # 16-bit mono samples, decoded to float32, up to 65536 frames each
        frames = {source.raw.byte_offset: source.raw.frames for instrument in instruments
                  for source in instrument.samples}
        return megabytes(sum(4 * min(length, DEFAULT_HEAD_FRAMES) for length in frames.values()))

    for name, instrument in presets.items():
        assert figures[name][0] == preloaded([instrument])
    assert figures["sample memory in all"][0] == preloaded(presets.values()) < sum(
        figures[name][0] for name in presets)
