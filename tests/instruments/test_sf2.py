"""SF2 banks: presets listed, one preset mapped to regions by the SoundFont 2.04 rules, corrupt files refused.

Real banks (Debian's fluid-soundfont-gm and timgm6mb-soundfont) are checked against what the GM
standard promises, against their own sample data and against FluidSynth's reading of them; small
banks written here pin each generator's mapping and unit.
"""

import math
import re
import shutil
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import liveengine
from liveengine.kernel.regions import ORIGINAL
from liveengine.instruments import sf2
from liveengine.instruments.sf2 import Sf2Error, Sf2Preset, gm_drum_kit, list_presets, load_sf2

from sf2files import (ATTACK_MOD_ENV, ATTACK_VOL_ENV, ATTENUATION, COARSE_TUNE, DECAY_MOD_ENV, DECAY_VOL_ENV,
                      DELAY_MOD_LFO, DELAY_VIB_LFO, DELAY_VOL_ENV, END, EXCLUSIVE_CLASS, FILTER_FC, FILTER_Q, FINE_TUNE,
                      FRAMES, FREQ_MOD_LFO, FREQ_VIB_LFO, HOLD_VOL_ENV, INSTRUMENT, KEY_RANGE, KEY_TO_DECAY,
                      KEY_TO_HOLD, LEFT, LOOP_END, LOOP_START, MOD_ENV_TO_FILTER, MOD_LFO_TO_PITCH, MOD_LFO_TO_VOLUME,
                      MONO, PAN, RELEASE_VOL_ENV, REVERB, RIGHT, ROM, ROOT_KEY, SAMPLE_ID, SAMPLE_MODES, SCALE_TUNING,
                      START, START_COARSE, SUSTAIN_MOD_ENV, SUSTAIN_VOL_ENV, VEL_RANGE, VIB_LFO_TO_PITCH, keys,
                      write_bank)

FLUID = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")


def bank_file(path: Path):
    return pytest.param(path, marks=pytest.mark.skipif(
        not path.exists(), reason=f"{path} is not installed (Debian package fluid-soundfont-gm / timgm6mb-soundfont)"),
        id=path.stem)


BANKS = [bank_file(FLUID), bank_file(TIMGM)]
needs_fluid = pytest.mark.skipif(not FLUID.exists(), reason=f"{FLUID} is not installed (fluid-soundfont-gm)")


def smpl_chunk(path: Path) -> tuple[int, int]:
    """(file offset, bytes) of the smpl chunk's data, found by walking the RIFF lists."""
    data = path.read_bytes()[:1 << 16]  # the INFO list and the sdta list's header come first
    at = 12
    while True:
        chunk_id, size = struct.unpack_from("<4sI", data, at)
        if chunk_id == b"LIST" and data[at + 8:at + 12] == b"sdta":
            smpl_id, smpl_size = struct.unpack_from("<4sI", data, at + 12)
            assert smpl_id == b"smpl"
            return at + 20, smpl_size
        at += 8 + size + (size & 1)


# --- Real banks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BANKS)
def test_presets_are_general_midi(path):
    presets = list_presets(path)
    assert all(isinstance(preset, Sf2Preset) and preset.name for preset in presets)
    assert {preset.program for preset in presets if preset.bank == 0} == set(range(128))
    assert (128, 0) in {(preset.bank, preset.program) for preset in presets}
    assert presets == sorted(presets, key=lambda preset: (preset.bank, preset.program))


@pytest.mark.parametrize("path", BANKS)
def test_presets_agree_with_fluidsynth(path, tmp_path):
    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth is not installed")
    commands = tmp_path / "commands"
    commands.write_text("inst 1\n")
    listing = subprocess.run(["fluidsynth", "-n", "-i", "-a", "file", "-o", f"audio.file.name={tmp_path / 'out'}",
                              "-f", str(commands), str(path)], stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=60).stdout
    theirs = {(int(bank), int(program), name)
              for bank, program, name in re.findall(r"^(\d{3})-(\d{3}) (.*)$", listing, re.M)}
    assert len(theirs) > 128
    assert {(preset.bank, preset.program, preset.name) for preset in list_presets(path)} == theirs


@needs_fluid
@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth is not installed")
@pytest.mark.parametrize("program, key, within_db", [(0, 60, 1.0), (0, 36, 1.0), (11, 72, 4.0)])
def test_a_held_note_follows_fluidsynths_level(tmp_path, program, key, within_db):
    """A FluidR3 note held 3 s (grand piano, vibraphone: long decays into silence) keeps the level FluidSynth
    gives it, in 50 ms windows from its attack to its note off, each relative to its loudest: the decay
    falls as fast as the bank asks (the vibraphone's, whose level FluidSynth shapes with its default
    modulators too, within a looser bound)."""
    import mido
    import soundfile
    from liveengine.midi.player import MidiPlayer
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.extend([mido.Message("program_change", program=program), mido.Message("note_on", note=key, velocity=100),
                  mido.Message("note_off", note=key, time=3 * 960), mido.MetaMessage("end_of_track", time=960)])
    midi.save(tmp_path / "held.mid")
    subprocess.run(["fluidsynth", "-q", "-ni", "-F", str(tmp_path / "fluid.wav"), "-r", "44100", "-o",
                    "synth.reverb.active=0", "-o", "synth.chorus.active=0", str(FLUID), str(tmp_path / "held.mid")],
                   check=True, capture_output=True, timeout=120)
    fluid = soundfile.read(tmp_path / "fluid.wav", dtype="float64", always_2d=True)[0][:3 * 44100]
    player = MidiPlayer(FLUID, tmp_path / "held.mid", sample_rate=44100)
    ours = np.concatenate([chunk.astype(np.float64) for chunk in player.render(seconds=3.0)])

    def levels_db(audio):
        windows = audio[:len(audio) // 2205 * 2205].reshape(-1, 2205, audio.shape[1])
        levels = 10.0 * np.log10(np.mean(np.square(windows), axis=(1, 2)))
        return levels - levels.max()

    theirs = levels_db(fluid)
    # After the attack's first 300 ms, where the two hosts' onsets differ, while FluidSynth's note is within
    # 40 dB of its loudest: from there on the engine's decay bends toward its end on silence.
    compared = (np.arange(len(theirs)) >= 6) & (theirs > -40.0)
    assert compared.sum() >= 10
    assert np.abs(levels_db(ours)[compared] - theirs[compared]).max() <= within_db


@needs_fluid
def test_listing_a_large_bank_reads_only_its_articulation_data():
    start = time.perf_counter()
    list_presets(FLUID)  # 140 MB, of which the sample chunk is all but a megabyte
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("path", BANKS)
def test_grand_piano_covers_the_keyboard(path):
    piano = load_sf2(path, 0, 0)
    for key in range(21, 109):
        for velocity in (1, 64, 127):
            playing = [region for region in piano.regions
                       if region.lokey <= key <= region.hikey and region.lovel <= velocity <= region.hivel]
            assert playing, f"key {key} at velocity {velocity} plays nothing"
            for region in playing:
                root = region.pitch_keycenter
                assert 21 <= root <= 108, f"key {key} plays a sample rooted at {root}"
                assert region.pitch_keytrack == 100
                assert region.loop_mode in ("loop_continuous", "loop_sustain", "no_loop")
                assert piano.samples[region.sample].raw.sample_rate in (22050, 32000, 44100, 48000)
    by_key = sorted(piano.regions, key=lambda region: region.lokey)
    roots = [region.pitch_keycenter for region in by_key]
    assert roots == sorted(roots)  # higher keys, higher samples


@pytest.mark.parametrize("path", BANKS)
def test_every_region_plays_inside_its_sample_and_the_sample_chunk(path):
    smpl_offset, smpl_size = smpl_chunk(path)
    for preset in list_presets(path):
        instrument = load_sf2(path, preset.bank, preset.program)
        assert instrument.regions, preset
        for region in instrument.regions:
            assert 0 <= region.sample < len(instrument.samples)
            sample = instrument.samples[region.sample]
            raw = sample.raw
            assert sample.path == str(path)
            assert raw.frames > 0 and (raw.byte_offset - smpl_offset) % 2 == 0
            assert smpl_offset <= raw.byte_offset and raw.byte_offset + 2 * raw.frames <= smpl_offset + smpl_size
            if sample.loop_start != ORIGINAL:
                assert 0 <= sample.loop_start < sample.loop_end < raw.frames
            if region.loop_mode != "no_loop":
                assert sample.loop_start != ORIGINAL
            end = raw.frames - 1 if region.end == -1 else region.end
            assert 0 <= region.offset <= end < raw.frames
            for point in (region.loop_start, region.loop_end):
                assert point == ORIGINAL or 0 <= point < raw.frames
            assert 0 <= region.lokey <= region.hikey <= 127 and 1 <= region.lovel <= region.hivel <= 127
            assert -100 <= region.pan <= 100 and region.volume <= 0


@needs_fluid
def test_sample_headers_match_the_pcm():
    """FluidR3 keeps the specification's layout: samples are separated by (at least) 46 zero frames."""
    smpl_offset, smpl_size = smpl_chunk(FLUID)
    pcm = np.memmap(FLUID, dtype="<i2", mode="r", offset=smpl_offset, shape=(smpl_size // 2,))
    piano = load_sf2(FLUID, 0, 0)
    for sample in piano.samples:
        start = (sample.raw.byte_offset - smpl_offset) // 2
        frames = pcm[start:start + sample.raw.frames].astype(np.int32)
        assert np.abs(frames).max() > 1000
        assert frames[:8].any() and frames[-8:].any()
        end = start + sample.raw.frames
        assert not pcm[start - 46:start].any() and not pcm[end:end + 46].any()


@pytest.mark.parametrize("path", BANKS)
def test_drum_kit_plays_one_sound_a_key_and_hi_hats_choke_each_other(path):
    kit = gm_drum_kit(path)
    assert kit.name == "Standard"
    assert all(region.hikey - region.lokey <= 1 for region in kit.regions)  # FluidR3's kick spans 35..36
    assert all(any(region.lokey <= key <= region.hikey for region in kit.regions) for key in range(35, 82))
    hats = [region for region in kit.regions if region.lokey in (42, 44, 46)]
    assert {region.lokey for region in hats} == {42, 44, 46}
    assert all(region.lokey == region.hikey for region in hats)
    assert len({region.group for region in hats}) == 1 and hats[0].group > 0
    assert all(region.off_by == region.group for region in hats)
    assert gm_drum_kit(path, 40).name == "Brush"


@needs_fluid
def test_unplayable_generators_are_reported_once_per_instrument():
    piano = load_sf2(FLUID, 0, 0)
    reverb = [problem for problem in piano.problems if "reverbEffectsSend" in problem]
    assert reverb == [f"{FLUID}: preset 0:0 'Yamaha Grand Piano' zone 1, instrument 'Yamaha Grand Piano' zone 1: "
                      "reverbEffectsSend ignored (no effect sends)"]
    assert len(piano.problems) == len(set(piano.problems))


# --- Small banks: each generator's mapping --------------------------------------------------------

VELOCITY_TO_CUTOFF = (0x0502, FILTER_FC, -1000, 0, 0)  # a modulator: velocity, concave, to cutoff


def one_zone_bank(path: Path, instrument_zone, samples=(("one", MONO, 0, 60, 0),)) -> Path:
    return write_bank(path, [("preset", 0, 0, [[(INSTRUMENT, 0)]])],
                      [("instrument", [[*instrument_zone, (SAMPLE_ID, 0)]])], samples)


def only_region(path: Path):
    instrument = load_sf2(path)
    assert len(instrument.regions) == 1, instrument.regions
    return instrument.regions[0], instrument


def test_units_of_each_generator(tmp_path):
    region, instrument = only_region(one_zone_bank(tmp_path / "units.sf2", [
        (ATTENUATION, 100), (PAN, -250), (COARSE_TUNE, -12), (FINE_TUNE, 25), (SCALE_TUNING, 50), (ROOT_KEY, 72),
        (DELAY_VOL_ENV, 0), (ATTACK_VOL_ENV, -1200), (HOLD_VOL_ENV, 1200), (DECAY_VOL_ENV, 2400),
        (SUSTAIN_VOL_ENV, 200), (RELEASE_VOL_ENV, -2400),
        (FILTER_FC, 6900), (FILTER_Q, 60), (MOD_ENV_TO_FILTER, 2400), (ATTACK_MOD_ENV, 0), (DECAY_MOD_ENV, 1200),
        (SUSTAIN_MOD_ENV, 250), (MOD_LFO_TO_VOLUME, -30), (FREQ_MOD_LFO, -1200), (DELAY_MOD_LFO, 1200),
        (VIB_LFO_TO_PITCH, 20), (FREQ_VIB_LFO, 1200), (DELAY_VIB_LFO, 0),
        (SAMPLE_MODES, 3), (EXCLUSIVE_CLASS, 5)], samples=[("tuned", MONO, 0, 55, -7)]))
    assert region.volume == pytest.approx(-4.0)  # 100 cB at the EMU factor of 0.4
    assert region.pan == -50
    assert (region.transpose, region.tune, region.pitch_keytrack, region.pitch_keycenter) == (-12, 25, 50, 72)
    assert instrument.samples[0].root_key == 55 and instrument.samples[0].tune == -7
    envelope = region.amp_envelope
    assert (envelope.delay, envelope.attack, envelope.hold, envelope.decay, envelope.release) == \
        pytest.approx((1.0, 0.5, 2.0, 4.0 * 0.6, 0.25 * 0.6), rel=1e-3)  # decay and release end 60 dB down, of 100
    assert envelope.sustain == pytest.approx(10.0)  # 20 dB down
    assert (region.fil_type, region.cutoff, region.resonance) == ("lpf_2p", pytest.approx(440.0, rel=1e-3), 6.0)
    filter_envelope = region.filter_envelope
    assert (filter_envelope.depth, filter_envelope.attack, filter_envelope.decay, filter_envelope.sustain) == \
        pytest.approx((2400.0, 1.0, 2.0, 75.0))
    assert (region.amp_lfo.depth, region.amp_lfo.frequency, region.amp_lfo.delay) == \
        pytest.approx((-3.0, 4.088, 2.0))
    assert (region.pitch_lfo.depth, region.pitch_lfo.frequency, region.pitch_lfo.delay) == \
        pytest.approx((20.0, 16.352, 1.0))
    assert region.loop_mode == "loop_sustain"
    assert region.group == region.off_by == 5
    assert region.amp_veltrack == 100
    assert instrument.problems == []


def test_defaults_play_plainly(tmp_path):
    region, instrument = only_region(one_zone_bank(tmp_path / "plain.sf2", []))
    assert (region.lokey, region.hikey, region.lovel, region.hivel) == (0, 127, 1, 127)
    assert (region.volume, region.pan, region.tune, region.transpose, region.pitch_keycenter) == (0, 0, 0, 0, 60)
    assert region.fil_type == "" and region.loop_mode == "no_loop"
    assert region.amp_envelope.delay == 0 and region.amp_envelope.hold == 0
    assert region.amp_envelope.attack == pytest.approx(0.001, rel=0.03)
    assert region.amp_envelope.sustain == 100
    assert region.amp_lfo.depth == 0 and region.pitch_lfo.depth == 0 and region.group == 0
    sample = instrument.samples[0]
    assert (sample.loop_start, sample.loop_end, sample.raw.frames, sample.raw.sample_rate) == (100, 899, FRAMES, 44100)
    assert sample.raw.byte_offset == smpl_chunk(tmp_path / "plain.sf2")[0]
    assert (region.offset, region.end, region.loop_start, region.loop_end) == (0, -1, 100, 899)


def envelope_heard(path: Path, zone, seconds: float, note_off_at: float | None = None) -> np.ndarray:
    """The left output's magnitude, at 48 kHz, of key 60 on a one-zone bank (`zone`'s generators) whose looped
    sample holds a constant level, so that what is heard is the volume envelope alone."""
    path = one_zone_bank(path, [*zone, (SAMPLE_MODES, 1)])
    offset, size = smpl_chunk(path)
    with open(path, "r+b") as bank:
        bank.seek(offset)
        bank.write(np.full(size // 2, 8192, "<i2").tobytes())
    engine = liveengine.Engine(sample_rate=48000, block_size=64)
    instrument = engine.load(path)
    instrument.note_on(60, 127, at=0.0)
    if note_off_at is not None:
        instrument.note_off(60, at=note_off_at)
    return np.abs(engine.render(seconds)[:, 0])


@pytest.mark.parametrize("release_timecents", [0, -1200])  # releaseVolEnv 1 s and 0.5 s
def test_a_release_falls_100_db_in_release_vol_env(tmp_path, release_timecents):
    """SF2's release falls 100 dB in releaseVolEnv's time, linearly in dB: as the rendered note does,
    measured between 5 % and 25 % of that time after its note off (20 dB; the engine's fall bends toward its
    end on zero from about 40 dB down), and it has ended at 60 %."""
    release_seconds = 2.0 ** (release_timecents / 1200.0)
    left = envelope_heard(tmp_path / "release.sf2", [(RELEASE_VOL_ENV, release_timecents)], 0.25 + release_seconds,
                          note_off_at=0.25)

    def level_db(seconds_after_note_off: float) -> float:
        return 20.0 * math.log10(left[round((0.25 + seconds_after_note_off * release_seconds) * 48000)])

    assert level_db(0.05) - level_db(0.25) == pytest.approx(20.0, abs=0.3)
    assert not left[round((0.25 + 0.61 * release_seconds) * 48000):].any()


@pytest.mark.parametrize("sustain_centibels, decay_timecents", [(1000, 0), (1440, -1200), (200, 0)])
def test_a_decay_falls_100_db_in_decay_vol_env(tmp_path, sustain_centibels, decay_timecents):
    """SF2's decay falls 100 dB in decayVolEnv's time, linearly in dB, toward the sustain level: as the held
    note does, 20 dB between 5 % and 25 % of that time toward silence (at 0.6 of it, 60 dB down, it has
    ended), and toward a sustain 20 dB down, it holds that level from 0.6 of the time on."""
    decay_seconds = 2.0 ** (decay_timecents / 1200.0)
    left = envelope_heard(tmp_path / "decay.sf2", [(DECAY_VOL_ENV, decay_timecents),
                                                   (SUSTAIN_VOL_ENV, sustain_centibels)], decay_seconds)
    attack_ends = 0.001  # SF2's shortest attack, -12000 timecents

    def level_db(fraction_of_decay: float) -> float:
        return 20.0 * math.log10(left[round((attack_ends + fraction_of_decay * decay_seconds) * 48000)])

    if sustain_centibels >= 1000:  # toward silence
        assert level_db(0.05) - level_db(0.25) == pytest.approx(20.0, abs=0.3)
        assert not left[round((attack_ends + 0.61 * decay_seconds) * 48000):].any()
    else:
        assert level_db(0.61) - level_db(0.0) == pytest.approx(-sustain_centibels / 10.0, abs=0.05)
        assert level_db(0.99) == pytest.approx(level_db(0.61), abs=1e-6)


def test_sample_offsets_are_frames_from_the_sample_start(tmp_path):
    region, instrument = only_region(one_zone_bank(tmp_path / "offsets.sf2", [
        (START, 10), (END, -20), (LOOP_START, 5), (LOOP_END, -8), (SAMPLE_MODES, 1)]))
    assert (region.offset, region.end, region.loop_start, region.loop_end) == (10, FRAMES - 21, 105, 891)
    assert region.loop_mode == "loop_continuous"
    region, instrument = only_region(one_zone_bank(tmp_path / "coarse.sf2", [(START_COARSE, 1)]))
    assert region.offset == FRAMES - 1  # 32768 frames in: past the end, kept within the sample
    assert instrument.problems == [f"{tmp_path / 'coarse.sf2'}: preset 0:0 'preset' zone 0, instrument 'instrument' "
                                   "zone 0: sample offsets 32768..999 reach outside the sample's 1000 frames; "
                                   "kept within it"]
    region, instrument = only_region(one_zone_bank(tmp_path / "short.sf2", [(END, -500), (SAMPLE_MODES, 1)]))
    assert (region.end, region.loop_mode) == (499, "no_loop")  # the loop 100..899 no longer fits
    assert instrument.problems[0].endswith("sample 'one' is to loop, but its loop 100..899 lies outside frames "
                                           "0..499; plays without loop")


def test_preset_generators_add_to_the_instrument_and_ranges_intersect(tmp_path):
    path = write_bank(tmp_path / "levels.sf2", [("layered", 0, 0, [
        [(ATTENUATION, 50), (FINE_TUNE, 10), (PAN, 100)],  # the preset's global zone
        [(KEY_RANGE, keys(40, 80)), (VEL_RANGE, keys(0, 100)), (FINE_TUNE, 20), (ROOT_KEY, 30), (INSTRUMENT, 0)],
    ])], [("layers", [
        [(ATTENUATION, 100), (PAN, 200), (DECAY_VOL_ENV, 1200)],  # the instrument's global zone
        [(KEY_RANGE, keys(0, 59)), (FINE_TUNE, 5), (SAMPLE_ID, 0)],
        [(KEY_RANGE, keys(60, 127)), (VEL_RANGE, keys(90, 127)), (ATTENUATION, 0), (ROOT_KEY, 64), (SAMPLE_ID, 1)],
        [(KEY_RANGE, keys(100, 127)), (SAMPLE_ID, 0)],  # outside the preset zone's keys: no region
    ])], [("low", MONO, 0, 60, 0), ("high", MONO, 0, 60, 0)])
    instrument = load_sf2(path)
    low, high = instrument.regions
    assert (low.lokey, low.hikey, low.lovel, low.hivel) == (40, 59, 1, 100)
    assert (high.lokey, high.hikey, high.lovel, high.hivel) == (60, 80, 90, 100)
    assert low.volume == pytest.approx(-0.4 * 150 / 10)  # instrument global 100 + preset 50 cB
    assert high.volume == pytest.approx(-0.4 * 50 / 10)  # the zone's own 0 replaces the global 100
    assert (low.tune, high.tune) == (25, 20)  # the preset zone's 20 replaces its global 10
    assert low.pan == high.pan == 60  # (200 + 100) / 5
    assert low.amp_envelope.decay == high.amp_envelope.decay == pytest.approx(2.0 * 0.6, rel=1e-3)
    # overridingRootKey is the instrument's alone: the preset's is ignored, and reported.
    assert (low.pitch_keycenter, high.pitch_keycenter) == (60, 64)
    assert any("overridingRootKey is not allowed in a preset" in problem for problem in instrument.problems)
    assert [instrument.samples[region.sample].raw.byte_offset for region in (low, high)] == \
        [smpl_chunk(path)[0], smpl_chunk(path)[0] + 2 * (FRAMES + 46)]


def test_stereo_pairs_pan_to_their_sides_unless_the_zone_pans(tmp_path):
    path = write_bank(tmp_path / "stereo.sf2", [("stereo", 0, 0, [[(INSTRUMENT, 0)]])], [("pair", [
        [(KEY_RANGE, keys(0, 63)), (SAMPLE_ID, 0)], [(KEY_RANGE, keys(0, 63)), (SAMPLE_ID, 1)],
        [(KEY_RANGE, keys(64, 127)), (PAN, -100), (SAMPLE_ID, 2)], [(KEY_RANGE, keys(64, 127)), (SAMPLE_ID, 3)],
        [(KEY_RANGE, keys(64, 127)), (SAMPLE_ID, 4)],  # a left sample whose partner no zone plays
    ])], [("L", LEFT, 1, 60, 0), ("R", RIGHT, 0, 60, 0), ("L2", LEFT, 3, 60, 0), ("R2", RIGHT, 2, 60, 0),
          ("lone L", LEFT, 5, 60, 0), ("lone R", RIGHT, 4, 60, 0)])
    assert [region.pan for region in load_sf2(path).regions] == [-100, 100, -20, 100, 0]


def test_key_scaled_envelopes(tmp_path):
    scaled = [(HOLD_VOL_ENV, 0), (KEY_TO_HOLD, 100), (DECAY_VOL_ENV, 0), (KEY_TO_DECAY, -50)]
    path = write_bank(tmp_path / "scaled.sf2", [("scaled", 0, 0, [[(INSTRUMENT, 0)]])], [("scaled", [
        [(KEY_RANGE, keys(72, 72)), *scaled, (SAMPLE_ID, 0)], [(KEY_RANGE, keys(36, 48)), *scaled, (SAMPLE_ID, 0)]])],
        [("one", MONO, 0, 60, 0)])
    instrument = load_sf2(path)
    single, wide = instrument.regions
    assert (single.amp_envelope.hold, single.amp_envelope.decay) == pytest.approx((0.5, 2 ** 0.5 * 0.6), rel=1e-3)
    assert (wide.amp_envelope.hold, wide.amp_envelope.decay) == pytest.approx((2 ** 1.5, 2 ** -0.75 * 0.6),
                                                                              rel=1e-3)  # key 42
    assert sum("middle key" in problem for problem in instrument.problems) == 2  # hold and decay, once each


def test_what_cannot_play_is_reported_once_per_instrument(tmp_path):
    path = write_bank(tmp_path / "problems.sf2", [("problems", 0, 0, [[(INSTRUMENT, 0)], [(INSTRUMENT, 1)]])], [
        ("first", [[(REVERB, 200), (MOD_LFO_TO_PITCH, 50), (SAMPLE_ID, 0)],
                   ([(REVERB, 300), (KEY_RANGE, keys(0, 10)), (SAMPLE_ID, 0)], [VELOCITY_TO_CUTOFF]),
                   ([(REVERB, 0), (SAMPLE_ID, 0)], [(0x0502, FILTER_FC, 0, 0, 0)]),  # switches a default off
                   [(14, 1), (SAMPLE_ID, 1)]]),  # an unused generator number; a ROM sample
        ("second", [[(REVERB, 100), (SAMPLE_ID, 0)]]),
    ], [("ok", MONO, 0, 60, 0), ("in rom", ROM, 0, 60, 0)])
    instrument = load_sf2(path)
    assert len(instrument.regions) == 4
    prefix = f"{path}: preset 0:0 'problems' zone"
    assert sorted(instrument.problems) == sorted([
        f"{prefix} 0, instrument 'first' zone 0: reverbEffectsSend ignored (no effect sends)",
        f"{prefix} 0, instrument 'first' zone 0: modLfoToPitch ignored (no vibrato from the modulation LFO)",
        f"{prefix} 0, instrument 'first' zone 1: modulator note-on velocity → initialFilterFc (-1000) ignored",
        f"{prefix} 0, instrument 'first' zone 3: unused generator 14 ignored",
        f"{prefix} 0, instrument 'first' zone 3: sample 'in rom' is in a sound ROM, which the file does not hold; "
        "skipped",
        f"{prefix} 1, instrument 'second' zone 0: reverbEffectsSend ignored (no effect sends)",
    ])


def test_asking_for_a_preset_the_bank_lacks(tmp_path):
    path = one_zone_bank(tmp_path / "one.sf2", [])
    assert list_presets(path) == [Sf2Preset(0, 0, "preset")]
    with pytest.raises(Sf2Error, match=re.escape(f"{path}: no preset 128:0")):
        gm_drum_kit(path)


# --- Reading a bank once ---------------------------------------------------------------------------


@needs_fluid
def test_a_bank_is_parsed_once_for_all_its_presets(monkeypatch):
    parsed = []
    tables = sf2._HydraReader.tables
    monkeypatch.setattr(sf2, "_parsed", {})
    monkeypatch.setattr(sf2._HydraReader, "tables", lambda reader, *args: parsed.append(1) or tables(reader, *args))
    presets = list_presets(FLUID)
    pianos = [load_sf2(FLUID, 0, program) for program in range(8)]
    assert len(presets) == 189 and len({piano.name for piano in pianos}) == 8
    assert len(parsed) == 1


def test_a_bank_edited_in_place_is_read_again(tmp_path):
    path = write_bank(tmp_path / "edited.sf2", [("preset", 0, 0, [[(INSTRUMENT, 0)]])],
                      [("instrument", [[(KEY_RANGE, keys(0, 63)), (SAMPLE_ID, 0)]])], [("a", MONO, 0, 60, 0)])
    assert load_sf2(path).regions[0].hikey == 63
    patched(path, path, path.read_bytes().index(struct.pack("<HH", KEY_RANGE, keys(0, 63))) + 2,
            struct.pack("<H", keys(0, 70)))  # the same file, the same size, maybe the same modification time
    assert load_sf2(path).regions[0].hikey == 70
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(Sf2Error, match="truncated"):
        load_sf2(path)


# --- Corrupt files --------------------------------------------------------------------------------


@pytest.fixture
def good_bank(tmp_path):
    return write_bank(tmp_path / "good.sf2", [("preset", 0, 0, [[(INSTRUMENT, 0)]])],
                      [("instrument", [[(KEY_RANGE, keys(0, 63)), (SAMPLE_ID, 0)], [(SAMPLE_ID, 1)]])],
                      [("a", MONO, 0, 60, 0), ("b", MONO, 0, 60, 0)])


def refused(path: Path, reason: str):
    for read in (list_presets, load_sf2):
        with pytest.raises(Sf2Error, match=re.escape(str(path)) + ".*" + reason):
            read(path)


def patched(source: Path, target: Path, at: int, data: bytes) -> Path:
    content = bytearray(source.read_bytes())
    content[at:at + len(data)] = data
    target.write_bytes(bytes(content))
    return target


@pytest.mark.parametrize("path", [bank_file(TIMGM)])
def test_truncated_bank(path, tmp_path):
    truncated = tmp_path / "truncated.sf2"
    with open(path, "rb") as file:
        truncated.write_bytes(file.read(path.stat().st_size // 2))
    refused(truncated, "truncated")


@pytest.mark.parametrize("path", [bank_file(TIMGM)])
def test_chunk_size_past_its_list(path, tmp_path):
    with open(path, "rb") as file:
        head = file.read(1 << 16)
    info_size = struct.unpack_from("<I", head, 16)[0]
    sdta = 20 + info_size  # the sdta LIST follows the INFO LIST
    assert head[sdta:sdta + 4] == b"LIST" and head[sdta + 8:sdta + 16] == b"sdtasmpl"
    corrupt = patched(path, tmp_path / "bad size.sf2", sdta + 16, struct.pack("<I", 0x7FFFFFF0))
    refused(corrupt, "claims 2147483632 bytes, past the end of LIST sdta")


def test_hydra_chunk_size_past_pdta(good_bank, tmp_path):
    content = good_bank.read_bytes()
    corrupt = patched(good_bank, tmp_path / "bad pgen.sf2", content.index(b"pgen") + 4, struct.pack("<I", 4000))
    refused(corrupt, "pgen chunk claims 4000 bytes")


def test_hydra_records_of_the_wrong_size(good_bank, tmp_path):
    content = good_bank.read_bytes()
    corrupt = patched(good_bank, tmp_path / "bad phdr.sf2", content.index(b"phdr"), b"phdr" + struct.pack("<I", 37))
    refused(corrupt, "phdr chunk is 37 bytes, not a whole number of 38-byte records")


def test_zone_index_past_its_table(good_bank, tmp_path):
    content = good_bank.read_bytes()
    ibag = content.index(b"ibag") + 8
    corrupt = patched(good_bank, tmp_path / "bad ibag.sf2", ibag + 4, struct.pack("<H", 500))
    with pytest.raises(Sf2Error, match="ibag chunk's indices are not in ascending order"):
        load_sf2(corrupt)
    corrupt = patched(good_bank, tmp_path / "bad ibag end.sf2", ibag + 8, struct.pack("<H", 500))
    with pytest.raises(Sf2Error, match="ibag chunk points past the end"):
        load_sf2(corrupt)


def test_sample_past_the_sample_chunk_is_skipped(good_bank, tmp_path):
    content = good_bank.read_bytes()
    second_sample = content.index(b"shdr") + 8 + 46
    corrupt = patched(good_bank, tmp_path / "bad sample.sf2", second_sample + 24, struct.pack("<I", 10 ** 8))
    instrument = load_sf2(corrupt)
    assert len(instrument.regions) == 1
    assert instrument.problems == [f"{corrupt}: preset 0:0 'preset' zone 0, instrument 'instrument' zone 1: sample 'b' "
                                   "is corrupt (frames 1046..100000000 at 44100 Hz; the sample chunk holds 2092); "
                                   "skipped"]


@pytest.mark.parametrize("head, reason", [
    (b"RIFX", "not a SoundFont 2 bank: it starts with b'RIFX'"),
    (b"RIFF\0\0\0\0WAVE", "not a SoundFont 2 bank: it starts with b'RIFF'…b'WAVE'"),
])
def test_wrong_riff_ids(good_bank, tmp_path, head, reason):
    corrupt = patched(good_bank, tmp_path / "wrong id.sf2", 0, head)
    refused(corrupt, re.escape(reason))


def test_not_version_2(good_bank, tmp_path):
    content = good_bank.read_bytes()
    corrupt = patched(good_bank, tmp_path / "sf3.sf2", content.index(b"ifil") + 8, struct.pack("<H", 3))
    refused(corrupt, "SoundFont version 3")


def test_random_bytes_empty_and_missing_files(tmp_path):
    noise = tmp_path / "noise.sf2"
    noise.write_bytes(np.random.default_rng(7).integers(0, 256, 100_000, np.uint8).tobytes())
    refused(noise, "not a SoundFont 2 bank")
    empty = tmp_path / "empty.sf2"
    empty.write_bytes(b"")
    refused(empty, "0 bytes, too short")
    refused(tmp_path / "missing.sf2", "cannot read")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=4)), min_size=1, max_size=4),
       cut=st.integers(1, 10_000))
def test_damaged_banks_load_or_raise_sf2error(good_bank, tmp_path, edits, cut):
    content = bytearray(good_bank.read_bytes())
    header_end = content.index(b"sdta") + 12  # damage the structure, not only the silent PCM
    pdta = content.index(b"LIST", header_end)
    for at, data in edits:
        at = at % header_end if at % 2 else pdta + at % (len(content) - pdta)
        content[at:at + len(data)] = data
    damaged = tmp_path / "damaged.sf2"
    damaged.write_bytes(bytes(content[:len(content) - cut % 200]))
    try:
        for preset in list_presets(damaged):
            instrument = load_sf2(damaged, preset.bank, preset.program)
            assert all(math.isfinite(region.volume) for region in instrument.regions)
    except Sf2Error as error:
        assert str(damaged) in str(error)
