"""Stems: audio files streamed from disk, started by cues: sample-locked to the cue's sample, or
following the picture while the engine chases its timecode."""

import numpy as np
import pytest
import soundfile

import ltcref
from sweepphase import samples_ahead, sweep
from liveengine.show.reader import parse_show
from liveengine.show.offline import ShowRender
from liveengine.show.rig import build_rig

RATE = 48000
BLOCK = 64
CUE_SAMPLE = 2 * RATE  # the cue at 01:00:00:00, two seconds after the master start


def write_stem(path, seconds, channels=2, rate=RATE, seed=1):
    frames = np.random.default_rng(seed).uniform(-0.25, 0.25, (round(seconds * rate), channels)).astype(np.float32)
    soundfile.write(path, frames, rate, subtype="FLOAT" if str(path).endswith(".wav") else "PCM_24")
    return soundfile.read(path, dtype="float32", always_2d=True)[0]  # as the file holds them


def show_text(folder, stems, actions, timecode='source = "none"\nrate = "25"\nmaster_start = "00:59:58:00"',
              trigger='at = "01:00:00:00"', extra_cues="", rate=RATE):
    text = f'[show]\nname = "stems"\n[audio]\nsample_rate = {rate}\nblock_size = {BLOCK}\ninput_channels = 1\n'
    text += f"[timecode]\n{timecode}\n"
    for name, file in stems.items():
        text += f'[stems.{name}]\nfile = "{file}"\n'
    text += f'[[cues]]\nnumber = "1M1"\n{trigger}\nactions = [{actions}]\n' + extra_cues
    (folder / "show.toml").write_text(text)
    return parse_show(text, folder / "show.toml")


def render(show, seconds, inputs=None):
    performance = ShowRender(build_rig(show), inputs=inputs)
    audio = performance.audio(seconds)
    performance.runner.update(performance.position)
    return audio, performance.runner


def test_a_stem_plays_its_file_from_the_cue_sample_exactly_even_beyond_its_buffer(tmp_path):
    frames = write_stem(tmp_path / "strings.wav", 10.0)  # longer than the 8-second ring
    show = show_text(tmp_path, {"strings": "strings.wav"}, '{start = "strings"}')
    audio, runner = render(show, 12.5)
    assert not audio[:CUE_SAMPLE].any()
    played = audio[CUE_SAMPLE:CUE_SAMPLE + len(frames), :2]
    assert np.array_equal(played, frames), "every frame, on its sample, through the whole file"
    assert not audio[CUE_SAMPLE + len(frames):].any()
    assert runner.stems.starvations() == [] and runner.idle()


def test_a_mono_stem_plays_on_both_sides(tmp_path):
    frames = write_stem(tmp_path / "pad.flac", 1.0, channels=1)
    show = show_text(tmp_path, {"pad": "pad.flac"}, '{start = "pad"}')
    audio, _ = render(show, 3.5)
    played = audio[CUE_SAMPLE:CUE_SAMPLE + len(frames), :2]
    assert np.array_equal(played[:, 0], frames[:, 0]) and np.array_equal(played[:, 1], frames[:, 0])


def test_a_stop_cue_fades_a_stem_out(tmp_path):
    write_stem(tmp_path / "strings.wav", 6.0)
    show = show_text(tmp_path, {"strings": "strings.wav"}, '{start = "strings"}',
                     extra_cues='[[cues]]\nnumber = "1M2"\nfollow = 1.0\nactions = [{stop = "strings"}]\n')
    audio, _ = render(show, 5.0)
    stop = CUE_SAMPLE + RATE
    assert np.abs(audio[stop - 1000:stop]).max() > 0.1
    assert not audio[stop + 240:].any(), "a 5 ms fade, then silence"


def test_a_chase_into_the_cue_plays_the_stem_from_where_the_picture_is(tmp_path):
    frames = write_stem(tmp_path / "strings.wav", 20.0)
    show = show_text(tmp_path, {"strings": "strings.wav"}, '{start = "strings"}',
                     timecode='source = "ltc"\ninput = 1\nrate = "25"', trigger='at = "01:00:02:00"\nchase = true')
    before = ltcref.encode(RATE, (25, 1), (1, 0, 0, 0), 25)
    landed = ltcref.encode(RATE, (25, 1), (1, 0, 10, 0), 100)  # 8 s into the cue
    ltc = np.concatenate([before.audio, landed.audio])
    audio, runner = render(show, len(ltc) / RATE, ltc[:, None])
    # The picture's frame 01:00:10:00 starts at this sample: there the stem is 8 s in.
    frame_start = len(before.audio) + landed.starts[0]
    offset = 8 * RATE - frame_start
    # Once the loader has read from the landing point on, every frame is where the picture puts it.
    check = slice(frame_start + RATE // 2, len(ltc) - RATE)
    expected = frames[check.start + offset:check.stop + offset]
    matches = [shift for shift in (-1, 0, 1)
               if np.array_equal(audio[check, :2], frames[check.start + offset + shift:check.stop + offset + shift])]
    assert matches, "sample-locked to the picture within a sample"
    assert len(expected) > RATE
    assert any("chased" in decision.text for decision in runner.decisions)


def test_a_missing_or_unplayable_stem_is_reported_and_the_rest_of_the_cue_plays(tmp_path):
    frames = write_stem(tmp_path / "ok.wav", 1.0)
    write_stem(tmp_path / "wrong_rate.wav", 1.0, rate=44100)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEnot audio")
    show = show_text(tmp_path, {"ok": "ok.wav", "gone": "gone.wav", "slow": "wrong_rate.wav", "bad": "corrupt.wav"},
                     '{start = "gone"}, {start = "slow"}, {start = "bad"}, {start = "ok"}')
    audio, runner = render(show, 3.5)
    problems = "\n".join(runner.stems.problems)
    assert "stem 'gone': cannot read" in problems and "gone.wav" in problems
    assert "stem 'slow':" in problems and "44100 Hz, the show runs at 48000 Hz" in problems
    assert "stem 'bad': cannot read" in problems
    assert np.array_equal(audio[CUE_SAMPLE:CUE_SAMPLE + len(frames), :2], frames)


@pytest.mark.parametrize("actions, message", [
    ('{start = "nothing"}', "expected the name of a part, click or stem"),
])
def test_cue_actions_name_stems_that_exist(tmp_path, actions, message):
    from liveengine.show.reader import ShowFileError
    write_stem(tmp_path / "a.wav", 0.1)
    with pytest.raises(ShowFileError) as error:
        show_text(tmp_path, {"a": "a.wav"}, actions)
    assert message in str(error.value)


# Stems under timecode whose speed is off nominal. The picture's clock is the line through the LTC's
# own frame edges (where libltc began each frame), fitted over the whole recording.

CHASED_FROM_LTC = 'source = "ltc"\ninput = 1\nrate = "25"'
CUE_FRAME = 50  # 01:00:02:00, in frames of the LTC below


def ltc_at(rate, speed, seconds):
    """libltc's LTC from 01:00:00:00 at `speed` of 25 fps, and the picture's clock: the frame of a stem
    started at CUE_FRAME that the picture is at on each engine sample (the line through the frame edges)."""
    frames = int(seconds * 25 * speed) + 1
    encoded = ltcref.encode(rate, (25, 1), (1, 0, 0, 0), frames, slowdowns=np.full(frames, 1 / speed))
    samples_per_frame, first_edge = np.polyfit(np.arange(frames), encoded.starts, 1)
    return encoded.audio, lambda samples: ((samples - first_edge) / samples_per_frame - CUE_FRAME) * rate / 25


def stem_under_ltc(folder, wave, rate, speed, seconds):
    """`wave` as a stem that a cue at CUE_FRAME starts, rendered under LTC at `speed` for the cue and `seconds`:
    its left channel as played, the picture's clock (`ltc_at`), and the cue runner."""
    soundfile.write(folder / "wave.wav", np.stack([wave, wave], axis=1).astype(np.float32), rate, subtype="FLOAT")
    show = show_text(folder, {"wave": "wave.wav"}, '{start = "wave"}', timecode=CHASED_FROM_LTC,
                     trigger='at = "01:00:02:00"', rate=rate)
    ltc, stem_frame_at = ltc_at(rate, speed, CUE_FRAME / 25 + seconds + 0.3)
    audio, runner = render(show, len(ltc) / rate, ltc[:, None])
    return audio[:, 0].astype(np.float64), stem_frame_at, runner


@pytest.mark.parametrize("rate", [44100, 48000])
@pytest.mark.parametrize("speed", [1.00005, 0.9995, 1.001, 0.999])
def test_a_stem_under_timecode_off_speed_keeps_its_phase_with_the_picture_within_a_sample(tmp_path, rate, speed):
    """A 10 s sweep (sample-locked, it would end 0.5 ms to 10 ms off the picture): where each stretch of
    512 samples of it plays, against where the picture says it should be (a ten-minute one plays in
    test_picture_clock.py)."""
    seconds = 10.0
    played, stem_frame_at, runner = stem_under_ltc(tmp_path, sweep(rate, seconds), rate, speed, seconds)
    errors = samples_ahead(played, stem_frame_at, rate, seconds)
    assert len(errors) * 512 > 0.98 * seconds * rate / speed, "the whole cue"
    assert max(np.abs(errors)) < 1.0, (min(errors), max(errors))
    assert runner.stems.starvations() == []


def test_a_stem_under_timecode_off_speed_has_no_steps_from_the_chase_refining_its_line(tmp_path):
    """The chase refits its line on every frame: a 15 kHz sine keeps what is not it (beyond 30 Hz from it)
    60 dB down, where reading wherever each refit put the line left it 31 dB down."""
    rate, frequency, speed, seconds = 48000, 15000, 1.001, 4.0
    wave = 0.5 * np.sin(2 * np.pi * frequency * np.arange(round((seconds + 0.5) * rate)) / rate)
    played, _, _ = stem_under_ltc(tmp_path, wave, rate, speed, seconds)
    first = np.flatnonzero(played)[0] + rate // 10
    played = played[first:first + round(seconds * rate * 0.9)]
    power = np.abs(np.fft.rfft(played * np.kaiser(len(played), 30))) ** 2
    away = np.abs(np.fft.rfftfreq(len(played), 1 / rate) - frequency * speed) > 30.0
    assert 10 * np.log10(power[away].sum() / power[~away].sum()) < -60.0
