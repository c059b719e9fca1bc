"""Sampled instruments rendered offline through the real kernel: which regions a note picks,
how they play (pitch, loops, envelope, filter, controllers), and how their voices end, choke,
stream and leave memory.

Hand-made samples are sines of their own frequencies, so a rendered note is recognised by
its spectrum; the sfizz test files stand for real libraries where they hold the case.
"""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile

from liveengine.engine import Engine, EngineSettings, HandedOver, HandoverOutcome, OfflineRenderer, SampleWanted
from liveengine.kernel.voices.envelope import RELEASE_TIME_CONSTANTS, RELEASE_UNDERSHOOT
from liveengine.kernel.regions import (
    ORIGINAL,
    ControllerCrossfade,
    ControllerModulation,
    Envelope,
    Lfo,
    Region,
    SampledInstrument,
    SampleSource,
)
from liveengine.instruments.samples import DEFAULT_HEAD_FRAMES, DEFAULT_RAM_BUDGET, SampleStreamer, load_heads
from liveengine.instruments.sfz import load_sfz

from samples import long_sample, plain, rng_wave, sine, write_aiff, write_wav

RATE = 48000
BLOCK = 64
TONES = (300.0, 500.0, 700.0)  # Hz: the samples of the layer tests


# Samples.

def tone_samples(tmp_path: Path, frequencies=TONES, seconds=1.0) -> list[SampleSource]:
    return [SampleSource(str(write_wav(tmp_path / f"tone{f:.0f}.wav", sine(f, seconds)))) for f in frequencies]


# Playing.

class Rig:
    """One sampled instrument in an engine, rendered offline, its streamer served before each block."""

    def __init__(self, instrument, head_frames=DEFAULT_HEAD_FRAMES, budget_bytes=DEFAULT_RAM_BUDGET, gain=1.0,
                 **settings):
        self.engine = Engine(EngineSettings(**{"sample_rate": RATE, "max_block": BLOCK, **settings}))
        self.loaded = load_heads(instrument, head_frames)
        self.slots = self.engine.install_sampler(0, instrument, self.loaded.samples)
        self.engine.instrument_gain(0, gain)
        self.streamer = SampleStreamer(self.engine, self.engine.producer("samples"), budget_bytes)
        self.streamer.add(self.loaded, self.slots)
        self.control = self.engine.producer("control")
        self.renderer = OfflineRenderer(self.engine.state, BLOCK)
        self.notes = 0
        self.answers: list[tuple[str, int]] = []  # ("wanted" | "let go" | "kept", sample slot)
        self._requests = self.engine.subscribe(SampleWanted, HandedOver)

    def note(self, at, key, velocity=1.0, length=None):
        """Play `key` from sample `at`, for `length` samples (None: held); returns its note id."""
        self.notes += 1
        self.control.note_on(at, self.notes, 0, key, velocity, "keys")
        if length is not None:
            self.control.note_off(at + length, self.notes)
        return self.notes

    def render(self, frames, serve=True, channel=0) -> np.ndarray:
        """Channel `channel` of the next `frames` frames (None: both)."""
        out = self.renderer.render(frames, before_block=(lambda _: self.serve()) if serve else None)
        return out.astype(np.float64) if channel is None else out[:, channel].astype(np.float64)

    def serve(self):
        """The streamer's turn; what the audio thread answered about samples is kept in `answers`."""
        self.engine.poll()
        for request in self._requests.drain():
            if isinstance(request, SampleWanted):
                self.answers.append(("wanted", request.slot))
            else:
                self.answers.append(("let go" if request.outcome is HandoverOutcome.DONE else "kept", request.slot))
        self.streamer.serve()

    @property
    def voices(self) -> int:
        return self.engine.telemetry().voices


# Listening.

def amplitude(signal, frequency):
    """The amplitude of `frequency` in `signal` (Hann-windowed, so neighbours a few bins away do not leak in)."""
    window = np.hanning(len(signal))
    phasor = np.exp(-2j * np.pi * frequency * np.arange(len(signal)) / RATE)
    return 2 * abs(np.sum(signal * window * phasor)) / window.sum()


def heard(signal, frequencies=TONES) -> tuple[float, ...]:
    """Which of `frequencies` sound in `signal`."""
    levels = np.array([amplitude(signal, f) for f in frequencies])
    return tuple(f for f, level in zip(frequencies, levels) if level > max(0.01, 0.2 * levels.max()))


def frequency(signal) -> float:
    """The frequency of a periodic signal, from its first and last rising zero crossings."""
    rising = np.flatnonzero((signal[:-1] < 0) & (signal[1:] >= 0))
    exact = rising + signal[rising] / (signal[rising] - signal[rising + 1])
    return RATE * (len(exact) - 1) / (exact[-1] - exact[0])


def cents(measured, expected) -> float:
    return 1200 * np.log2(measured / expected)


def release_curve(frames, seconds, rate=RATE) -> np.ndarray:
    """A sample voice's level from its release on, from full level: the exponential that takes full
    scale to zero in `seconds`, aiming just below zero and ending on the sample where it crosses."""
    mul = np.exp(-RELEASE_TIME_CONSTANTS / (seconds * rate))
    curve = RELEASE_UNDERSHOOT + (1 - RELEASE_UNDERSHOOT) * mul ** np.arange(1, frames + 1)
    crossed = np.flatnonzero(curve <= 0)
    if len(crossed):
        curve[crossed[0] + 1:] = 0.0
    return curve


# Choosing regions.

def test_velocity_layers_pick_their_sample(tmp_path):
    layers = [(1, 40), (41, 90), (91, 127)]
    instrument = SampledInstrument("layers", [plain(i, lovel=low, hivel=high) for i, (low, high) in enumerate(layers)],
                                   tone_samples(tmp_path))
    rig = Rig(instrument)
    velocities = [1, 40, 41, 90, 91, 127]
    for i, velocity in enumerate(velocities):
        rig.note(i * 4800, 60, velocity / 127, length=3600)
    out = rig.render(len(velocities) * 4800)
    picked = [heard(out[i * 4800 + 480:i * 4800 + 3600]) for i in range(len(velocities))]
    assert picked == [(300.0,), (300.0,), (500.0,), (500.0,), (700.0,), (700.0,)]


def harmonics(signal, fundamental):
    """The 2nd and 3rd harmonics' amplitudes relative to the fundamental's."""
    first = amplitude(signal, fundamental)
    return amplitude(signal, 2 * fundamental) / first, amplitude(signal, 3 * fundamental) / first


def test_keyswitches_switch_and_sound_nothing_themselves(sfizz):
    instrument = load_sfz(sfizz / "labels_sw.sfz")  # sw_lokey=36 sw_hikey=40 sw_default=36: sine, triangle, saw
    assert not instrument.problems
    rig = Rig(instrument)
    played = [60, 38, 60, 40, 60, 37, 60, 36, 60]
    for i, key in enumerate(played):
        rig.note(i * 4800, key, length=3600)
    out = rig.render(len(played) * 4800)
    windows = [out[i * 4800 + 480:i * 4800 + 3600] for i in range(len(played))]
    middle_c = 440 * 2 ** (-9 / 12)
    sine, triangle, saw = windows[0], windows[2], windows[4]
    assert np.abs(sine).max() > 0.5
    np.testing.assert_allclose(harmonics(sine, middle_c), (0, 0), atol=0.005)
    np.testing.assert_allclose(harmonics(triangle, middle_c), (0, 1 / 9), atol=0.005)
    np.testing.assert_allclose(harmonics(saw, middle_c), (1 / 2, 1 / 3), atol=0.005)
    for i, key in enumerate(played):
        if key < 41:
            assert not out[i * 4800:(i + 1) * 4800].any(), f"keyswitch {key} sounded"
    assert not windows[6].any(), "after keyswitch 37, which no region follows, key 60 plays nothing"
    np.testing.assert_allclose(harmonics(windows[8], middle_c), (0, 0), atol=0.005)


def test_round_robins_rotate(tmp_path):
    instrument = SampledInstrument("rr", [plain(i, seq_length=3, seq_position=i + 1) for i in range(3)],
                                   tone_samples(tmp_path))
    rig = Rig(instrument)
    for i in range(7):
        rig.note(i * 4800, 60, length=3600)
    out = rig.render(7 * 4800)
    picked = [heard(out[i * 4800 + 480:i * 4800 + 3600]) for i in range(7)]
    assert picked == [(300.0,), (500.0,), (700.0,)] * 2 + [(300.0,)]


def test_random_layers_occur_in_proportion(tmp_path):
    instrument = SampledInstrument("random", [plain(0, hirand=0.25), plain(2, lorand=0.25)], tone_samples(tmp_path))
    rig = Rig(instrument)
    notes = 200
    for i in range(notes):
        rig.note(i * 1200, 60, length=900)
    out = rig.render(notes * 1200)
    picked = [heard(out[i * 1200 + 100:i * 1200 + 900], (300.0, 700.0)) for i in range(notes)]
    assert all(len(layer) == 1 for layer in picked), "every note plays exactly one of the two layers"
    share = picked.count((300.0,)) / notes
    assert 0.17 < share < 0.33, f"the 0..0.25 layer played {share:.0%} of the notes"


def test_first_and_legato_triggers_follow_the_keys_held(tmp_path):
    instrument = SampledInstrument("legato", [plain(0, trigger="first"), plain(2, trigger="legato")],
                                   tone_samples(tmp_path))
    rig = Rig(instrument)
    rig.note(0, 60, length=9600)  # alone: first
    rig.note(4800, 60, length=9600)  # over it: legato
    rig.note(19200, 60, length=4800)  # alone again: first
    out = rig.render(24000)
    assert heard(out[480:4800]) == (300.0,)
    assert heard(out[9600 + 480:14400]) == (700.0,), "the first note ended; its legato successor sounds"
    assert heard(out[19200 + 480:]) == (300.0,)


def test_program_ranges_pick_the_layer_of_the_channels_program(tmp_path):
    """loprog/hiprog: a region sounds only while the channel's last program change is in its range
    (program 0 before any); a region without them sounds at every program."""
    tone_samples(tmp_path)  # tone300.wav, tone500.wav, tone700.wav
    sfz = tmp_path / "programs.sfz"
    sfz.write_text("<group> key=60 amp_veltrack=0 ampeg_release=0.005\n"
                   "<region> sample=tone300.wav loprog=0 hiprog=0\n"
                   "<region> sample=tone500.wav loprog=1 hiprog=1\n"
                   "<region> sample=tone700.wav\n")
    instrument = load_sfz(sfz)
    assert instrument.problems == []
    rig = Rig(instrument)
    for i, program in enumerate((None, 1, 0, 5)):
        if program is not None:
            rig.control.program_change(0, program, sample=i * 4800)
        rig.note(i * 4800, 60, length=3600)
    out = rig.render(4 * 4800)
    picked = [heard(out[i * 4800 + 480:i * 4800 + 3600]) for i in range(4)]
    assert picked == [(300.0, 700.0), (500.0, 700.0), (300.0, 700.0), (700.0,)]


def test_a_program_change_outside_0_to_127_is_rejected_and_changes_nothing(tmp_path):
    instrument = SampledInstrument("programs", [plain(0, loprog=0, hiprog=0)], tone_samples(tmp_path, (300.0,)))
    rig = Rig(instrument)
    rejected = rig.engine.telemetry().events_rejected
    rig.control.program_change(0, 128, sample=0)
    rig.note(0, 60, length=3600)
    assert heard(rig.render(4800)[480:3600], (300.0,)) == (300.0,)
    assert rig.engine.telemetry().events_rejected == rejected + 1


# Level.

def test_volume_pan_velocity_and_velocity_crossfades_set_the_level(tmp_path):
    source = tone_samples(tmp_path, (300.0,))
    cases = [  # (region, velocity, left and right gains)
        (plain(0, volume=-6.0), 1.0, [10 ** (-6 / 20) * np.sqrt(0.5)] * 2),
        (plain(0, pan=50.0), 1.0, [np.cos(1.5 * np.pi / 4), np.sin(1.5 * np.pi / 4)]),
        (Region(sample=0, pitch_keycenter=60), 0.5, [0.25 * np.sqrt(0.5)] * 2),  # amp_veltrack 100: velocity squared
        (plain(0, amp_veltrack=50.0), 0.5, [(1 - 0.5 * 0.75) * np.sqrt(0.5)] * 2),
        (plain(0, xfin_lovel=1, xfin_hivel=101), 51 / 127, [np.sqrt(0.5 * 0.5)] * 2),  # halfway in, equal power
        (plain(0, xfin_lovel=1, xfin_hivel=101, xf_velcurve="gain"), 51 / 127, [0.5 * np.sqrt(0.5)] * 2),
    ]
    for region, velocity, gains in cases:
        rig = Rig(SampledInstrument("level", [region], source))
        rig.note(0, 60, velocity)
        out = rig.render(4800, channel=None)
        measured = [amplitude(out[480:, channel], 300.0) / 0.5 for channel in (0, 1)]
        np.testing.assert_allclose(measured, gains, rtol=1e-3, err_msg=str(region))


# Chokes.

def part_of_first_note(instrument, first_key, second_key, at, frames):
    """What the first note contributes to a render where `second_key` comes at `at` (the whole render
    less the second note rendered alone), and the first note rendered alone."""
    def render(*keys_at):
        rig = Rig(instrument, gain=0.5)
        for key, start in keys_at:
            rig.note(start, key)
        return rig.render(frames), rig
    both, rig = render((first_key, 0), (second_key, at))
    second, _ = render((second_key, at))
    alone, _ = render((first_key, 0))
    return both - second, alone, rig


def assert_faded_without_click(part, alone, at, fade):
    """`part` is `alone` until `at`, then fades to silence within `fade` samples, never stepping further
    in a sample than the sound itself does plus the fade's own slope."""
    np.testing.assert_allclose(part[:at], alone[:at], atol=1e-6)
    assert np.abs(part[at:at + fade // 2]).max() > 0.1 * np.abs(alone[at:at + fade // 2]).max(), "faded, not cut"
    assert np.abs(part[at + fade:]).max() < 1e-6
    span = slice(at - 1, at + fade)
    own_slope = np.abs(np.diff(alone[span])).max()
    assert np.abs(np.diff(part[span])).max() <= own_slope + np.abs(alone[span]).max() / 200


def test_off_by_chokes_with_a_fast_fade_and_no_click(sfizz):
    instrument = load_sfz(sfizz / "off_by.sfz")  # key 63: group 1 off_by 2; key 64: group 2
    at = 960 + 17  # 20 ms into a kick, at full swing
    part, alone, rig = part_of_first_note(instrument, 63, 64, at, 9600)
    assert_faded_without_click(part, alone, at, round(0.006 * RATE))
    assert rig.voices == 1


def test_a_silent_region_still_chokes(tmp_path):
    """A region with no sound (end=-1, or its sample missing) keeps its place: it chokes what it names."""
    (tmp_path / "silent.sfz").write_text(
        "<region> sample=*sine key=60 group=1 off_by=2\n"
        "<region> sample=*sine key=62 group=2 end=-1\n"
        "<region> sample=missing.wav key=64 group=2\n")
    instrument = load_sfz(tmp_path / "silent.sfz")
    for choker in (62, 64):
        rig = Rig(instrument)
        rig.note(0, 60)
        rig.note(4800, choker)
        out = rig.render(9600)
        assert np.abs(out[4000:4800]).max() > 0.1
        assert np.abs(out[4800 + round(0.006 * RATE):]).max() == 0.0
        assert rig.voices == 0


def test_a_group_that_chokes_itself_keeps_only_the_newest_note(sfizz):
    instrument = load_sfz(sfizz / "off_by.sfz")  # key 65: two regions of group 3, off_by 3
    at = 960 + 5
    part, alone, rig = part_of_first_note(instrument, 65, 65, at, 9600)
    assert_faded_without_click(part, alone, at, round(0.006 * RATE))
    assert rig.voices == 2, "both regions of the newest note play on"


def test_off_mode_normal_releases_where_fast_fades(sfizz):
    instrument = load_sfz(sfizz / "off_mode.sfz")  # key 64: a fast and a normal region (release 0.1 s)
    at = 960
    part, alone, _ = part_of_first_note(instrument, 64, 63, at, 9600)
    released = Rig(instrument, gain=0.5)
    released.note(0, 64, length=at)
    released = released.render(9600)
    np.testing.assert_allclose(part[:at], alone[:at], atol=1e-6)
    # Once the fast region has faded, the normal one goes on exactly as a note off would release it.
    fade = round(0.005 * RATE)
    np.testing.assert_allclose(part[at + fade:], released[at + fade:] / 2, atol=1e-6)
    assert np.abs(part[at + fade:at + 2 * fade]).max() > 0.2 * np.abs(alone[at + fade:at + 2 * fade]).max()


def test_a_one_shot_is_choked_too(tmp_path):
    samples = tone_samples(tmp_path, (300.0, 700.0))
    release = 0.05
    instrument = SampledInstrument("kit", [
        plain(0, lokey=60, hikey=60, loop_mode="one_shot", group=1, off_by=2, off_mode="normal",
              amp_envelope=Envelope(release=release)),
        plain(1, lokey=62, hikey=62, group=2),
    ], samples)
    at = 4800
    part, alone, _ = part_of_first_note(instrument, 60, 62, at, 14400)
    np.testing.assert_allclose(part[:at], alone[:at], atol=1e-6)
    np.testing.assert_allclose(part[at:], alone[at:] * release_curve(14400 - at, release), atol=1e-6)


# Release triggers.

def test_release_triggers_fire_at_note_off_attenuated_by_rt_decay(tmp_path):
    samples = tone_samples(tmp_path, (300.0, 700.0))
    rt_decay = 6.0  # dB per second held
    instrument = SampledInstrument("rt", [plain(0), plain(1, trigger="release", rt_decay=rt_decay)], samples)
    levels = []
    for held in (0.25, 1.25):
        rig = Rig(instrument)
        off = round(held * RATE)
        rig.note(0, 60, length=off)
        out = rig.render(off + 4800)
        assert heard(out[480:off]) == (300.0,), "the release region is silent while the note is held"
        assert heard(out[off + 480:]) == (700.0,)
        levels.append(amplitude(out[off + 480:], 700.0))
    full = 0.5 * np.sqrt(0.5)
    np.testing.assert_allclose(20 * np.log10(np.array(levels) / full), [-rt_decay * 0.25, -rt_decay * 1.25], atol=0.02)


def test_a_release_region_plays_once_through_even_over_a_looped_sample(tmp_path):
    looped = write_wav(tmp_path / "looped.wav", sine(700.0, 0.2), loop=(0, 62))  # its first cycle
    instrument = SampledInstrument("rt", [plain(0, trigger="release", amp_envelope=Envelope(release=0.5))],
                                   [SampleSource(str(looped))])
    rig = Rig(instrument)
    rig.note(0, 60, length=4800)
    out = rig.render(4800 + RATE // 2)
    played = int(0.2 * RATE)
    assert np.abs(out[4800:4800 + played - 100]).max() > 0.3
    assert not out[4800 + played + 2:].any() and rig.voices == 0, "as a one-shot: no loop, and no note off to wait for"


# Loops.

def loop_indices(frames, start, end):
    """The sample frame each output frame plays, at the sample's own rate, looping over [start, end]."""
    n = np.arange(frames)
    return np.where(n <= end, n, start + (n - start) % (end - start + 1))


def flute(sfizz, index):
    """One region of the sfizz looped-flute file: 0 loops as its smpl chunk says, 1 plays no loop,
    2 loops over the SFZ's loop_start=4 loop_end=124."""
    instrument = load_sfz(sfizz / "looped_regions.sfz")
    return SampledInstrument("flute", [instrument.regions[index]], instrument.samples)


def test_loops_loop_at_the_points_of_the_sfz_and_of_the_smpl_chunk(tmp_path, sfizz):
    data = soundfile.read(sfizz / "looped_flute.wav")[0]  # 186582 frames, smpl loop 77554..186581
    for index, loop, frames in ((2, (4, 124), 4000), (0, (77554, 186581), 200_000)):
        rig = Rig(flute(sfizz, index), sample_rate=44100)  # one sample frame per output frame: compared exactly
        rig.note(0, 60)
        out = rig.render(frames, channel=None)
        np.testing.assert_allclose(out, data[loop_indices(frames, *loop)] * np.sqrt(0.5), atol=1e-6)

    own = rng_wave(3000)
    sfz = tmp_path / "own.sfz"
    write_wav(tmp_path / "own.wav", own, loop=(1000, 1999))
    sfz.write_text("<region> key=60 sample=own.wav\n"
                   "<region> key=62 sample=own.wav loop_mode=loop_continuous loop_start=200 loop_end=699\n"
                   "<region> key=64 sample=own.wav loop_mode=no_loop offset=300 end=2499\n")
    instrument = load_sfz(sfz)
    for key, loop in ((60, (1000, 1999)), (62, (200, 699))):
        rig = Rig(instrument, sample_rate=44100)
        rig.note(0, key)
        out = rig.render(9000)
        np.testing.assert_allclose(out, own[loop_indices(9000, *loop)] * np.sqrt(0.5), atol=1e-6)
    rig = Rig(instrument, sample_rate=44100)
    rig.note(0, 64)
    out = rig.render(3000)
    np.testing.assert_allclose(out[:2200], own[300:2500] * np.sqrt(0.5), atol=1e-6)
    assert not out[2200:].any() and rig.voices == 0, "from its offset to its end, inclusive"


def test_an_aiff_files_sustain_loop_and_base_note_are_its_own(tmp_path):
    aiff = write_aiff(tmp_path / "own.aiff", rng_wave(3000, seed=5), root_key=67, loop=(500, 1499))
    own = soundfile.read(aiff)[0]
    rig = Rig(SampledInstrument("aiff", [Region(sample=0, pitch_keycenter=ORIGINAL)], [SampleSource(str(aiff))]),
              sample_rate=44100)
    assert rig.loaded.samples[0].root_key == 67 and rig.loaded.samples[0].loop == (500, 1499)
    rig.note(0, 67)  # its base note: one sample frame per output frame
    out = rig.render(6000)
    np.testing.assert_allclose(out, own[loop_indices(6000, 500, 1499)] * np.sqrt(0.5), atol=1e-6)


def test_a_loop_ending_at_the_frame_count_loops_to_the_last_frame(sfizz):
    # Its smpl chunk says 0..4096 of 4096 frames: the end counted after the last frame, as some editors write.
    path = sfizz / "wavetable_with_loop_at_endings.wav"  # 48 kHz: one sample frame per output frame
    rig = Rig(SampledInstrument("table", [plain(0)], [SampleSource(str(path))]))
    assert rig.loaded.samples[0].loop == (0, 4095)
    rig.note(0, 60)
    out = rig.render(3 * 4096)
    np.testing.assert_allclose(out, soundfile.read(path)[0][loop_indices(3 * 4096, 0, 4095)] * np.sqrt(0.5),
                               atol=1e-6)


def test_no_loop_ends_at_the_sample_end(sfizz):
    data = soundfile.read(sfizz / "looped_flute.wav")[0]
    rig = Rig(flute(sfizz, 1), sample_rate=44100)
    rig.note(0, 60)
    out = rig.render(len(data) + 1000)
    np.testing.assert_allclose(out[:len(data)], data[:, 0] * np.sqrt(0.5), atol=1e-6)
    assert not out[len(data):].any()
    assert rig.voices == 0


@pytest.mark.parametrize("interpolation", ["cubic", "linear"])
def test_a_single_cycle_loop_interpolates_across_its_seam(tmp_path, interpolation):
    cycle = rng_wave(100, seed=3)
    sample = write_wav(tmp_path / "cycle.wav", cycle, loop=(0, 99))
    rig = Rig(SampledInstrument("cycle", [plain(0)], [SampleSource(str(sample))]), interpolation=interpolation)
    rig.note(0, 61)
    out = rig.render(4000) / np.sqrt(0.5)
    # The same playback in numpy, its taps wrapped around the cycle: once round, the frame before
    # frame 0 is frame 99 (on the first pass, the silence before the sample).
    step = 44100 / RATE * 2 ** (1 / 12)
    position = np.arange(4000) * step
    index = np.floor(position).astype(int)
    t = position - index
    x0, x1, x2, x3 = (cycle[(index + k) % 100] for k in (-1, 0, 1, 2))
    x0[position < 1] = 0.0
    if interpolation == "cubic":  # Catmull-Rom
        c1, c2, c3 = 0.5 * (x2 - x0), x0 - 2.5 * x1 + 2 * x2 - 0.5 * x3, 0.5 * (x3 - x0) + 1.5 * (x1 - x2)
        expected = x1 + t * (c1 + t * (c2 + t * c3))
    else:
        expected = x1 + (x2 - x1) * t
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_loop_sustain_stops_looping_at_the_release(tmp_path):
    own = rng_wave(4000, seed=1)
    sample = write_wav(tmp_path / "sustain.wav", own, loop=(1000, 1999))
    release = 1.0
    region = plain(0, loop_mode="loop_sustain", amp_envelope=Envelope(release=release))
    rig = Rig(SampledInstrument("sustain", [region], [SampleSource(str(sample))]), sample_rate=44100)
    off = 5500  # frame 1500 of the loop's fourth pass
    rig.note(0, 60, length=off)
    out = rig.render(off + 4000)
    index = loop_indices(off, 1000, 1999)
    index = np.concatenate([index, index[-1] + 1 + np.arange(3999 - index[-1])])  # on to the sample's end
    envelope = np.ones(len(index))
    envelope[off:] = release_curve(len(index) - off, release, 44100)
    np.testing.assert_allclose(out[:len(index)], own[index] * envelope * np.sqrt(0.5), atol=1e-6)
    assert not out[len(index):].any()
    assert rig.voices == 0


def test_one_shot_ignores_note_off(sfizz):
    kick = load_sfz(sfizz / "kick.sfz")
    instrument = SampledInstrument("kick", [replace(kick.regions[0], loop_mode="one_shot")], kick.samples)
    outs = []
    for length in (None, 500):
        rig = Rig(instrument)
        rig.note(0, 60, length=length)
        outs.append(rig.render(RATE + 2000))
        assert rig.voices == 0, "it ends at the sample's end"
    np.testing.assert_array_equal(outs[0], outs[1])
    end = int(44012 * RATE / 44100)
    assert np.abs(outs[0][end - 4800:end - 100]).max() > 0 and not outs[0][end + 2:].any()


# Pitch.

A440 = 440.0
PITCH_CASES = [  # (region fields, key, the frequency it must sound)
    ({"pitch_keycenter": 69}, 69, A440),
    ({"pitch_keycenter": 69}, 57, A440 / 2),
    ({"pitch_keycenter": 69}, 76, A440 * 2 ** (7 / 12)),
    ({"pitch_keycenter": 69}, 93, A440 * 4),
    ({"pitch_keycenter": ORIGINAL}, 72, A440 * 2 ** (3 / 12)),  # the smpl chunk's root key, 69
    ({"pitch_keycenter": 69, "tune": 37}, 69, A440 * 2 ** (37 / 1200)),
    ({"pitch_keycenter": 69, "transpose": -12, "tune": -50}, 81, A440 * 2 ** (-50 / 1200)),
    ({"pitch_keycenter": 69, "pitch_keytrack": 50}, 81, A440 * 2 ** (6 / 12)),
]


@pytest.mark.parametrize("interpolation", ["cubic", "linear"])
def test_rendered_pitch_is_right_within_a_cent(tmp_path, interpolation):
    sample = SampleSource(str(write_wav(tmp_path / "a440.wav", sine(A440, 1.0), root_key=69)))
    for fields, key, expected in PITCH_CASES:
        rig = Rig(SampledInstrument("a440", [Region(sample=0, **fields)], [sample]), interpolation=interpolation)
        rig.note(0, key)
        measured = frequency(rig.render(RATE // 4)[BLOCK:])
        assert abs(cents(measured, expected)) < 1, f"{fields} key {key}: {measured:.3f} Hz, not {expected:.3f}"


# The amplitude envelope.

def test_envelope_stages_keep_their_times_and_end_on_exact_zero(tmp_path):
    dc = SampleSource(str(write_wav(tmp_path / "dc.wav", np.full(44100, 0.5))))
    envelope = Envelope(delay=0.01, attack=0.02, hold=0.015, decay=0.03, sustain=40.0, release=0.05)
    rig = Rig(SampledInstrument("dc", [plain(0, amp_envelope=envelope)], [dc]))
    off = 9600
    rig.note(0, 60, length=off)
    level = rig.render(off + 4800) / (0.5 * np.sqrt(0.5))
    ms = RATE // 1000
    delay_end = np.flatnonzero(level)[0]
    attack_end = np.flatnonzero(level > 1 - 1e-6)[0]
    hold_end = np.flatnonzero(level > 1 - 1e-6)[-1]
    decay_end = hold_end + np.flatnonzero(np.abs(level[hold_end:] - 0.4) < 1e-6)[0]
    last = np.flatnonzero(level)[-1]
    assert abs(delay_end - 10 * ms) <= ms
    assert abs(attack_end - 30 * ms) <= ms
    assert abs(level[20 * ms] - 0.5) < 0.01, "the attack is linear"
    assert abs(hold_end - 45 * ms) <= ms
    assert abs(decay_end - 75 * ms) <= ms
    np.testing.assert_allclose(level[decay_end:off], 0.4, atol=1e-6)
    # The release falls at the rate that takes full scale to zero in 50 ms: from the sustain level, sooner.
    release = 50 * ms * np.log((0.4 - RELEASE_UNDERSHOOT) / -RELEASE_UNDERSHOOT) / RELEASE_TIME_CONSTANTS
    assert abs(last - (off + release)) <= ms
    assert 0 < abs(level[last]) < 1e-3, "the release reaches zero, it does not step there"
    assert not level[last + 1:].any()
    assert rig.voices == 0


def test_silent_tails_hold_no_subnormal_numbers(tmp_path):
    # Filtered, resonant, released and faded to nothing by a controller: every way a voice goes quiet.
    region = plain(0, fil_type="lpf_2p", cutoff=500.0, resonance=12.0, amp_envelope=Envelope(release=0.5),
                   modulations=(ControllerModulation("amplitude", 20, 100.0),))
    rig = Rig(SampledInstrument("tails", [region], [SampleSource("*saw")]))
    rig.control.controller(0, 20, 1.0, sample=0)
    for i, key in enumerate((48, 55, 60, 64)):
        rig.note(i * 100, key, length=RATE // 2)
    rig.control.controller(0, 20, 0.0, sample=RATE // 4)
    out = rig.render(5 * RATE)
    values = rig.engine.state.voice_values
    assert not ((values != 0) & (np.abs(values) < np.finfo(np.float64).tiny)).any()
    assert not out[RATE:].any() and rig.voices == 0


# The filter.

def low_pass_gain(frequency, cutoff):
    """The 2-pole Butterworth low-pass, as the bilinear transform makes it."""
    ratio = np.tan(np.pi * frequency / RATE) / np.tan(np.pi * cutoff / RATE)
    return 1 / np.sqrt(1 + ratio ** 4)


def key_frequency(key):
    return A440 * 2 ** ((key - 69) / 12)


def test_low_pass_attenuates_above_its_cutoff():
    sine_wave = [SampleSource("*sine")]  # a generated cycle: it sounds the key's own frequency
    cutoff = 1000.0
    for key in (48, 84, 96, 108):
        levels = []
        for region in (plain(0), plain(0, fil_type="lpf_2p", cutoff=cutoff)):
            rig = Rig(SampledInstrument("sine", [region], sine_wave))
            rig.note(0, key)
            levels.append(amplitude(rig.render(RATE // 4)[RATE // 20:], key_frequency(key)))
        measured = 20 * np.log10(levels[1] / levels[0])
        expected = 20 * np.log10(low_pass_gain(key_frequency(key), cutoff))
        assert abs(measured - expected) < 0.1, f"key {key}: {measured:.2f} dB, not {expected:.2f} dB"
        if key == 108:
            assert measured < -20


def test_the_filter_envelope_moves_the_cutoff():
    cutoff = 1000.0
    # Two octaves up for 0.2 s, then down to the cutoff itself.
    fileg = Envelope(hold=0.2, sustain=0.0, depth=2400)
    region = plain(0, fil_type="lpf_2p", cutoff=cutoff, filter_envelope=fileg)
    rig = Rig(SampledInstrument("sine", [region], [SampleSource("*sine")]))
    rig.note(0, 96)
    out = rig.render(RATE // 2)
    full = np.sqrt(0.5)
    for window, at_cutoff in ((out[2400:9600], 4 * cutoff), (out[12000:], cutoff)):
        measured = 20 * np.log10(amplitude(window, key_frequency(96)) / full)
        expected = 20 * np.log10(low_pass_gain(key_frequency(96), at_cutoff))
        assert abs(measured - expected) < 0.1, f"cutoff {at_cutoff} Hz: {measured:.2f} dB, not {expected:.2f} dB"



SWEEP = Envelope(attack=0.05, decay=0.1, sustain=30.0, release=0.1, depth=3600)


@pytest.mark.parametrize("interpolation", ["cubic", "linear"])
@pytest.mark.parametrize("filtered", [{}, {"fil_type": "lpf_2p", "cutoff": 2000.0},
                                      {"fil_type": "lpf_2p", "cutoff": 300.0, "resonance": 6.0,
                                       "filter_envelope": SWEEP}], ids=["unfiltered", "low-pass", "sweeping"])
def test_each_side_of_a_stereo_voice_sounds_as_a_mono_voice_of_that_side(tmp_path, interpolation, filtered):
    # Mono and stereo voices run loops of their own (unfiltered, a low-pass at rest, a sweeping one), the
    # general loop where the taps reach an edge. A stereo sample of two different waves: its left side as a
    # mono voice of the left wave, its right as one of the right wave.
    sides = rng_wave(RATE, seed=1), rng_wave(RATE, seed=2)
    stereo = SampleSource(str(write_wav(tmp_path / "stereo.wav", np.stack(sides, axis=1))))
    monos = [SampleSource(str(write_wav(tmp_path / f"side{n}.wav", side))) for n, side in enumerate(sides)]
    renders = []
    for source in (stereo, *monos):
        region = plain(0, amp_envelope=Envelope(release=0.1), **filtered)
        rig = Rig(SampledInstrument("sides", [region], [source]), interpolation=interpolation)
        rig.note(0, 67, length=RATE // 4 + 17)  # a fifth up: the voice reads between frames
        renders.append(rig.render(RATE // 2, channel=None))
    both, left, right = renders
    assert np.abs(both).max() > 0.05 and rig.voices == 0
    np.testing.assert_allclose(both[:, 0], left[:, 0], atol=1e-6)  # the output's float32, to a rounding or two
    np.testing.assert_allclose(both[:, 1], right[:, 1], atol=1e-6)


# Streaming and memory.

def test_a_streamed_sample_renders_as_if_it_were_all_in_memory(tmp_path):
    long = long_sample(tmp_path)
    # Key 62 plays it through, a tone up (the voice reads across the head's end between two frames);
    # key 64 loops over [3 s, 6 s], far beyond the head.
    instrument = SampledInstrument("long", [plain(0, lokey=62, hikey=62), plain(0, lokey=64, hikey=64,
                                            loop_mode="loop_continuous", loop_start=132300, loop_end=264599)],
                                   [long])
    for key in (62, 64):
        outs = []
        for head_frames in (4096, 1 << 20):
            rig = Rig(instrument, head_frames=head_frames)
            rig.note(100, key, length=9 * RATE)
            outs.append(rig.render(10 * RATE, channel=None))
            assert rig.voices == 0
        streamed, in_memory = outs
        assert rig.streamer.reads == 0 and np.abs(in_memory).max() > 0.1
        np.testing.assert_array_equal(streamed, in_memory)


def test_a_sample_not_read_in_time_is_reported_and_its_voice_goes_on_silent_in_time(tmp_path):
    instrument = SampledInstrument("long", [plain(0)], [long_sample(tmp_path, seconds=2.0)])
    reference = Rig(instrument, head_frames=1 << 20)
    reference.note(0, 60)
    expected = reference.render(RATE)
    rig = Rig(instrument, head_frames=4096)
    rig.note(0, 60)
    late = RATE // 2  # the loader reads nothing for half a second
    out = np.concatenate([rig.render(late, serve=False), rig.render(RATE - late)])
    head_end = int(4096 * RATE / 44100)
    np.testing.assert_array_equal(out[:head_end - 2], expected[:head_end - 2])
    assert not out[head_end + 2:late].any(), "beyond its head, the voice plays silence"
    np.testing.assert_array_equal(out[late:], expected[late:])  # and then goes on where it should be
    assert rig.engine.telemetry().samples_not_ready == 1
    assert [(report.slot, report.note) for report in rig.engine.samples_not_ready] == [(rig.slots[0], 1)]


def test_a_loop_inside_the_head_needs_nothing_more_read(tmp_path):
    own = write_wav(tmp_path / "own.wav", rng_wave(20000), loop=(1000, 4094))  # loops on the head's last frames
    instrument = SampledInstrument("own", [plain(0)], [SampleSource(str(own))])
    reference = Rig(instrument)
    reference.note(0, 60)
    rig = Rig(instrument, head_frames=4096)
    rig.note(0, 60)
    np.testing.assert_array_equal(rig.render(RATE, serve=False), reference.render(RATE))
    assert rig.engine.telemetry().samples_not_ready == 0


def test_samples_no_voice_plays_are_evicted_and_come_back(tmp_path):
    samples = [long_sample(tmp_path, "a.wav", 1.0, seed=1), long_sample(tmp_path, "b.wav", 1.0, seed=2)]
    regions = [plain(0, lokey=60, hikey=60), plain(1, lokey=62, hikey=62, pitch_keycenter=62)]
    instrument = SampledInstrument("two", regions, samples)
    a, b = 60, 62

    def alone(key, at, frames):
        rig = Rig(instrument, head_frames=4096)
        rig.note(at, key, length=RATE // 2)
        return rig.render(frames)

    rig = Rig(instrument, head_frames=4096, budget_bytes=1)  # every full sample is over budget
    slot_a, slot_b = rig.slots
    rig.note(0, a, length=RATE // 2)
    rig.render(RATE)
    assert rig.answers == [("wanted", slot_a)]
    assert slot_a in rig.streamer.resident, "kept while its voice played"

    rig.note(RATE, b, length=RATE // 2)
    rig.render(BLOCK * 4)
    assert ("let go", slot_a) in rig.answers and slot_a not in rig.streamer.resident
    assert slot_b in rig.streamer.resident

    # The loader asks for the sample a voice is playing: the audio thread keeps it, and the voice plays on.
    rig.engine.let_go_of_full_sample(slot_b, rig.streamer.producer)
    rest_of_b = rig.render(RATE - BLOCK * 4)
    assert rig.answers[-1] == ("kept", slot_b)
    np.testing.assert_array_equal(rest_of_b, alone(b, RATE, 2 * RATE)[RATE + BLOCK * 4:])

    rig.note(2 * RATE, a, length=RATE // 2)
    again = rig.render(RATE)
    assert rig.answers.count(("wanted", slot_a)) == 2
    np.testing.assert_array_equal(again, alone(a, 2 * RATE, 3 * RATE)[2 * RATE:])


def test_a_note_released_in_its_delay_lets_its_sample_go(tmp_path, sfizz):
    instrument = load_sfz(sfizz / "delay_release.sfz")  # ampeg_delay=0.005 ampeg_release=1
    rig = Rig(instrument, head_frames=4096)
    rig.note(0, 60, length=100)
    out = rig.render(RATE // 10)
    assert not out.any() and rig.voices == 0
    rig.engine.let_go_of_full_sample(rig.slots[0], rig.streamer.producer)
    rig.render(BLOCK)
    rig.serve()
    assert rig.answers[-1] == ("let go", rig.slots[0])


# Polyphony.

def test_a_refused_note_is_counted_and_reported_once_however_many_of_its_regions_found_no_voice(tmp_path):
    layered = [plain(0), plain(1), plain(2, trigger="release"), plain(2, trigger="release", tune=5)]
    rig = Rig(SampledInstrument("layers", layered, tone_samples(tmp_path)), polyphony=2)
    for key in range(40):  # far beyond the voice slots, fading ones included
        rig.note(0, 40 + key, length=2000)
    rig.render(4800)
    rig.engine.poll()
    refused = rig.engine.telemetry().notes_refused
    assert refused > 0
    assert refused == len(rig.engine.refused_notes) == sum(rig.engine.refusals.values())
    note_ons = [refused.note for refused in rig.engine.refused_notes if refused.sample == 0]
    releases = [refused.note for refused in rig.engine.refused_notes if refused.sample == 2000]
    assert len(set(note_ons)) == len(note_ons) and len(set(releases)) == len(releases)


def test_group_polyphony_stops_the_oldest_note_and_note_polyphony_the_same_key():
    sine_wave = [SampleSource("*sine")]
    instrument = SampledInstrument("poly", [plain(0, lokey=60, hikey=71, group=1, polyphony=2),
                                            plain(0, lokey=72, hikey=83, group=2, note_polyphony=1)], sine_wave)
    rig = Rig(instrument, gain=0.25)
    for i, key in enumerate((60, 64, 67)):
        rig.note(i * 2400, key)
    out = rig.render(9600)
    frequencies = [key_frequency(key) for key in (60, 64, 67)]
    assert heard(out[960:2400], frequencies) == (frequencies[0],)
    assert heard(out[5000:], frequencies) == tuple(frequencies[1:]), "the oldest of the group's three stopped"
    assert rig.voices == 2

    for i in range(3):
        rig.note(9600 + i * 2400, 76)
    rig.note(9600 + 3 * 2400, 79)
    out = rig.render(4 * 2400 + 2400)
    assert rig.voices == 2 + 2, "one voice on key 76 and one on 79"
    repeated = amplitude(out[2 * 2400 + 480:3 * 2400], key_frequency(76))
    assert abs(repeated - 0.25 * np.sqrt(0.5)) < 0.01, "the key's earlier notes are gone"


def test_global_stealing_takes_a_releasing_voice_with_a_fast_fade():
    # Polyphony 4: three notes held, one released but ringing (a 2-s release), then a fifth note.
    instrument = SampledInstrument("sine", [plain(0, amp_envelope=Envelope(release=2.0))], [SampleSource("*sine")])
    held, released, new = (60, 64, 67), 71, 74
    at = 4800 + 33

    def render(keys, with_released):
        rig = Rig(instrument, gain=0.1, polyphony=4)
        for key in keys:
            rig.note(0 if key != new else at, key)
        if with_released:
            rig.note(0, released, length=2400)
        return rig.render(9600), rig

    everything, rig = render(held + (new,), True)
    assert rig.engine.telemetry().voices_stolen == 1
    part = everything - render(held, False)[0] - render((new,), False)[0]
    alone = render((), True)[0]
    assert_faded_without_click(part, alone, at, round(0.006 * RATE))


# Problems.

def test_a_missing_sample_is_named_and_the_rest_of_the_instrument_plays(tmp_path):
    write_wav(tmp_path / "tone300.wav", sine(300.0, 1.0))
    sfz = tmp_path / "gap.sfz"
    sfz.write_text("<region> key=60 sample=tone300.wav\n<region> key=62 sample=lost.wav\n")
    instrument = load_sfz(sfz)
    assert any("lost.wav" in problem for problem in instrument.problems)
    rig = Rig(instrument)
    rig.note(0, 60, length=4800)
    rig.note(9600, 62, length=4800)
    out = rig.render(14400)
    assert heard(out[480:4800]) == (300.0,)
    assert not out[9600:].any()


def test_a_corrupt_or_absent_file_is_a_problem_naming_it_not_a_crash(tmp_path):
    (tmp_path / "x.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage" + bytes(range(256)) * 4)
    samples = tone_samples(tmp_path, (300.0,)) + [SampleSource(str(tmp_path / "x.wav")),
                                                   SampleSource(str(tmp_path / "absent.wav"))]
    instrument = SampledInstrument("damaged", [plain(0, lokey=60, hikey=60), plain(1, lokey=62, hikey=62),
                                               plain(2, lokey=64, hikey=64)], samples)
    rig = Rig(instrument)
    problems = rig.loaded.instrument.problems
    assert len(problems) == 2
    assert "x.wav" in problems[0] and "absent.wav" in problems[1]
    for i, key in enumerate((62, 64, 60)):
        rig.note(i * 4800, key, length=3600)
    out = rig.render(3 * 4800)
    assert not out[:9600].any()
    assert heard(out[9600 + 480:]) == (300.0,)


# Controllers.

def test_amplitude_follows_its_controller():
    region = plain(0, modulations=(ControllerModulation("amplitude", 11, 100.0),))
    rig = Rig(SampledInstrument("swell", [region], [SampleSource("*sine")]))
    values = (1.0, 0.5, 0.25, 0.0)
    for i, value in enumerate(values):
        rig.control.controller(0, 11, value, sample=i * 4800)
    rig.note(0, 69)
    out = rig.render(len(values) * 4800)
    levels = [amplitude(out[i * 4800 + 960:(i + 1) * 4800], A440) for i in range(len(values))]
    np.testing.assert_allclose(levels, np.sqrt(0.5) * np.array(values), atol=1e-3)


def test_a_controller_crossfade_moves_between_layers(tmp_path):
    fade_in = ControllerCrossfade(1, in_low=0, in_high=127, out_low=127, out_high=127)
    fade_out = ControllerCrossfade(1, in_low=0, in_high=0, out_low=0, out_high=127)
    instrument = SampledInstrument("dynamics", [plain(0, crossfades=(fade_out,)), plain(1, crossfades=(fade_in,))],
                                   tone_samples(tmp_path, (300.0, 700.0)))
    rig = Rig(instrument)
    values = (0.0, 0.25, 0.5, 1.0)
    for i, value in enumerate(values):
        rig.control.controller(0, 1, value, sample=i * 4800)
    rig.note(0, 60)
    out = rig.render(len(values) * 4800)
    for i, value in enumerate(values):
        window = out[i * 4800 + 960:(i + 1) * 4800]
        levels = [amplitude(window, f) / (0.5 * np.sqrt(0.5)) for f in (300.0, 700.0)]
        np.testing.assert_allclose(levels, [np.sqrt(1 - value), np.sqrt(value)], atol=1e-3)  # equal power


def test_a_controller_jump_glides_without_a_click():
    region = plain(0, modulations=(ControllerModulation("amplitude", 11, 100.0),))
    rig = Rig(SampledInstrument("swell", [region], [SampleSource("*sine")]))
    low, high = 0.1, 1.0
    for at, value in ((0, low), (2400 + 7, high), (7200 + 40, low)):
        rig.control.controller(0, 11, value, sample=at)
    rig.note(0, 69)
    out = rig.render(9600)
    full = np.sqrt(0.5)
    # No faster than the sine itself moves, plus the gain moving by no more than its change in a millisecond.
    slope = 2 * np.pi * A440 / RATE * full + (high - low) * full / (RATE / 1000)
    assert np.abs(np.diff(out)).max() <= slope
    assert abs(amplitude(out[2400 + 7 + 480:7200], A440) - high * full) < 1e-3, "there within 10 ms"
    assert abs(amplitude(out[7200 + 40 + 480:], A440) - low * full) < 1e-3


@pytest.mark.parametrize("target, depth, measure, expected, tolerance", [
    ("volume", -12.0, lambda out: amplitude(out[:, 0], A440) / np.sqrt(0.5), 10 ** (-12 / 20), 1e-3),
    ("pan", 100.0, lambda out: amplitude(out[:, 0], A440), 0.0, 1e-3),  # hard right: nothing left
    ("pitch", 1200.0, lambda out: cents(frequency(out[:, 0]), 2 * A440), 0.0, 1.0),
    ("cutoff", -2400.0, lambda out: amplitude(out[:, 0], A440) / np.sqrt(0.5), low_pass_gain(A440, 1000.0), 1e-3),
])
def test_each_controller_target_moves_what_it_names(target, depth, measure, expected, tolerance):
    # At rest (controller 20 at 0) each region plays A440 plainly, through a low-pass at 4 kHz.
    region = plain(0, fil_type="lpf_2p", cutoff=4000.0, modulations=(ControllerModulation(target, 20, depth),))
    rig = Rig(SampledInstrument(target, [region], [SampleSource("*sine")]))
    rig.control.controller(0, 20, 1.0, sample=4800)
    rig.note(0, 69)
    out = rig.render(RATE // 2, channel=None)
    at_rest, moved = out[960:4800], out[9600:]
    assert abs(amplitude(at_rest[:, 0], A440) / np.sqrt(0.5) - low_pass_gain(A440, 4000.0)) < 1e-3
    assert abs(measure(moved) - expected) < tolerance


# LFOs.

def test_lfos_swing_pitch_and_level_after_their_delay():
    vibrato = Lfo(frequency=5.0, depth=50.0, delay=0.1)
    tremolo = Lfo(frequency=4.0, depth=6.0, delay=0.1)
    rig = Rig(SampledInstrument("lfo", [plain(0, pitch_lfo=vibrato)], [SampleSource("*sine")]))
    rig.note(0, 69)
    out = rig.render(RATE)
    rising = np.flatnonzero((out[:-1] < 0) & (out[1:] >= 0))
    crossings = rising + out[rising] / (out[rising] - out[rising + 1])
    swing = cents(RATE / np.diff(crossings), A440)
    still = crossings[1:] < 0.1 * RATE
    assert np.abs(swing[still]).max() < 0.5, "nothing before its delay"
    assert abs(swing[~still].max() - 50) < 3 and abs(swing[~still].min() + 50) < 3

    rig = Rig(SampledInstrument("lfo", [plain(0, amp_lfo=tremolo)], [SampleSource("*sine")]), gain=0.25)
    rig.note(0, 69)
    out = rig.render(RATE)
    # Level in dB, over 10 ms every 2.5 ms.
    level = np.array([20 * np.log10(amplitude(out[i:i + 480], A440) / (0.25 * np.sqrt(0.5)))
                      for i in range(0, RATE - 480, 120)])
    still = np.arange(len(level)) * 120 + 480 < 0.1 * RATE
    assert np.abs(level[still]).max() < 0.01, "nothing before its delay"
    np.testing.assert_allclose([level[~still].max(), level[~still].min()], [6, -6], atol=0.05)
