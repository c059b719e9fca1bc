"""Stems that follow the picture, in the real kernel rendered offline: the chase's line is fed
frames at an exact speed (the path MTC takes), a stem started on it is read by that speed.

Renders are short (a few tenths of a second of stem each): what they measure holds at every
sample, and the phase over whole cues is tests/show/test_stems.py's."""

import numpy as np
import pytest
import soundfile

from liveengine.engine import Engine, EngineSettings, OfflineRenderer, TimecodeInput, TimecodeMaster
from liveengine.kernel.stems import ST_FOLLOWS, ST_PLAYING, ST_STARVED
from liveengine.loader.stems import StemFile, StemLoader

BLOCK = 64
HOUR_AT_25 = 90000  # 01:00:00:00 at 25 fps, in frames since midnight
LOCKED_BY = 4  # frames: the chase locks once two frames have ended, the stem starts after that


def write_stem(path, frames, rate):
    soundfile.write(path, np.ascontiguousarray(frames, np.float32), rate, subtype="FLOAT")
    return path


class Performance:
    """An engine with one stem, its loader, and (with `speed`) timecode frames at that speed posted as each
    one ends; the stem starts on `start` (a sample after the chase has locked)."""

    def __init__(self, path, rate, speed=None, fps=(25, 1), start=None, buffer_seconds=8.0, master=None,
                 jump=None):
        timecode = TimecodeInput(None, fps, freewheel_seconds=1.0) if speed is not None else None
        self.engine = Engine(EngineSettings(sample_rate=rate, max_block=BLOCK, stems=1, timecode=timecode,
                                            timecode_master=master, stem_buffer_seconds=buffer_seconds))
        self.renderer = OfflineRenderer(self.engine.state, BLOCK)
        self.loader = StemLoader(self.engine, [StemFile(0, "stem", path)], wait_for_block=lambda: None)
        assert self.loader.problems == []
        self.loader.preload()
        self.producer = self.engine.producer("midi")
        self.period = None if speed is None else rate * fps[1] / fps[0] / speed  # samples a frame lasts
        self.frames_posted = 0
        self.jump = jump  # (from the frame posted as the nth, the frames it skips): the picture jumps there
        self.start = round(LOCKED_BY * rate * fps[1] / fps[0]) if start is None else start
        self.producer.start_stem(0, "stems", 1.0, 0, sample=self.start)

    def _before_block(self, position):
        while self.period is not None and (self.frames_posted + 1) * self.period <= position:
            skipped = self.jump[1] if self.jump is not None and self.frames_posted >= self.jump[0] else 0
            self.producer.timecode_frame(HOUR_AT_25 + self.frames_posted + skipped, self.frames_posted * self.period)
            self.frames_posted += 1
        self.loader.step()

    def render(self, frames):
        return self.renderer.render(frames, self._before_block)

    @property
    def stem_ints(self):
        return self.engine.state.stem_ints[:, 0]


def sine(rate, frequency, seconds, amplitude=0.5):
    t = np.arange(round(seconds * rate)) / rate
    wave = amplitude * np.sin(2 * np.pi * frequency * t)
    return np.stack([wave, -wave], axis=1)


def sine_fit(played, rate, frequency, speed):
    """The level of the sine in `played` (read from frame 0 on its first sample at `speed`) and everything
    else, in dB under it: the least-squares sine at the expected frequency taken out."""
    phase = 2 * np.pi * frequency * speed * np.arange(len(played)) / rate
    basis = np.stack([np.sin(phase), np.cos(phase)], axis=1)
    fit, *_ = np.linalg.lstsq(basis, played, rcond=None)
    rest = played - basis @ fit
    return np.hypot(*fit), 10 * np.log10(np.mean(rest ** 2) / np.mean((basis @ fit) ** 2))


@pytest.mark.parametrize("rate", [44100, 48000])
@pytest.mark.parametrize("frequency", [1000, 15000])
def test_images_and_aliasing_of_a_sine_read_off_speed_are_below_minus_90_db(tmp_path, rate, frequency):
    path = write_stem(tmp_path / "sine.wav", sine(rate, frequency, 0.4), rate)
    settle = 2 * BLOCK  # the file's abrupt first frame rings through the taps for a few frames
    figures = {}
    for speed in (0.99, 0.999, 1.001, 1.01):
        performance = Performance(path, rate, speed)
        out = performance.render(performance.start + round(0.3 * rate))
        assert performance.stem_ints[ST_FOLLOWS] == 1 and performance.stem_ints[ST_STARVED] == 0
        played = out[performance.start:].astype(np.float64)
        assert np.array_equal(played[:, 1], -played[:, 0])
        level, figures[speed] = sine_fit(played[settle:, 0], rate, frequency, speed)
        assert level == pytest.approx(0.5, rel=0.0012), "the pass band is flat to 0.01 dB"
    print(f"{rate} Hz, {frequency} Hz:", ", ".join(f"{speed}: {db:.1f} dB" for speed, db in figures.items()))
    assert max(figures.values()) < -90.0, figures


@pytest.mark.parametrize("rate, fps", [(44100, (25, 1)), (44100, (24, 1)), (48000, (30000, 1001)),
                                       (48000, (25, 1)), (96000, (24000, 1001))])
def test_at_the_nominal_speed_a_stem_that_follows_plays_bit_for_bit_as_a_sample_locked_one(tmp_path, rate, fps):
    noise = np.random.default_rng(3).uniform(-0.5, 0.5, (round(0.4 * rate), 2))
    path = write_stem(tmp_path / "noise.wav", noise, rate)
    start = round(LOCKED_BY * rate * fps[1] / fps[0]) + 11  # on no frame's edge
    following = Performance(path, rate, speed=1.0, fps=fps, start=start)
    followed = following.render(start + len(noise) + BLOCK)
    assert following.stem_ints[ST_FOLLOWS] == 1
    locked = Performance(path, rate, start=start)
    assert np.array_equal(followed, locked.render(len(followed)))
    assert locked.stem_ints[ST_FOLLOWS] == 0 and np.abs(followed).max() > 0.4


def test_as_timecode_master_the_engine_plays_stems_sample_locked(tmp_path):
    rate = 48000
    noise = np.random.default_rng(4).uniform(-0.5, 0.5, (rate // 4, 2))
    path = write_stem(tmp_path / "noise.wav", noise, rate)
    performance = Performance(path, rate, master=TimecodeMaster((24000, 1001), False, (1, 0, 0, 0)))
    out = performance.render(performance.start + len(noise) + BLOCK)
    assert performance.stem_ints[ST_FOLLOWS] == 0
    assert np.array_equal(out[performance.start:performance.start + len(noise)], noise.astype(np.float32))


@pytest.mark.parametrize("speed", [1.001, 1.15])
def test_a_stem_faster_than_nominal_is_fed_in_time_through_a_ring_it_fills_many_times(tmp_path, speed):
    """1.15: as fast as the chase follows a picture at all. The ring holds a quarter of the stem."""
    rate, frequency = 48000, 1000
    path = write_stem(tmp_path / "sine.wav", sine(rate, frequency, 2.0), rate)
    performance = Performance(path, rate, speed, buffer_seconds=0.5)
    out = performance.render(performance.start + round(2.0 * rate / speed) - BLOCK)
    assert performance.stem_ints[ST_STARVED] == 0 and performance.loader.starvations() == []
    assert performance.stem_ints[ST_PLAYING] == 1
    _, rest_db = sine_fit(out[performance.start + 2 * BLOCK:, 0].astype(np.float64), rate, frequency, speed)
    assert rest_db < -100.0, "no frame missing nor repeated, through every refill"


def test_a_stem_whose_frames_come_too_late_plays_silence_and_counts_it(tmp_path):
    rate = 48000
    path = write_stem(tmp_path / "sine.wav", sine(rate, 1000, 2.0), rate)
    performance = Performance(path, rate, 1.001, buffer_seconds=0.5)
    performance.loader.step = lambda: 0  # the disk never answers after the preload
    out = performance.render(performance.start + rate)
    played = out[performance.start:, 0]
    silence_at_the_end = len(played) - 1 - np.flatnonzero(played)[-1]
    assert silence_at_the_end > 0.4 * rate  # the ring's half second played, then nothing
    assert performance.stem_ints[ST_STARVED] == silence_at_the_end


def test_a_stem_that_the_picture_jumps_away_from_fades_out_where_it_was_going(tmp_path):
    """Its line gone, the stem fades out reading on at the speed it had: the sine goes on, only its level
    falls (the new line would put it 10 s further on, where nothing is loaded)."""
    rate, frequency, speed = 48000, 1000, 1.001
    path = write_stem(tmp_path / "sine.wav", sine(rate, frequency, 20.0), rate)
    performance = Performance(path, rate, speed, jump=(20, 250))
    out = performance.render(round(25 * rate / 25 / speed))
    assert performance.engine.telemetry().timecode.state == "locked"
    assert performance.stem_ints[ST_PLAYING] == 0 and performance.stem_ints[ST_STARVED] == 0
    ideal = 0.5 * np.sin(2 * np.pi * frequency * speed * (np.arange(len(out)) - performance.start) / rate)
    played = out[:, 0].astype(np.float64)
    sounding = np.flatnonzero(played)
    fade = slice(sounding[-1] - 200, sounding[-1] + 1)  # the fast fade is 240 samples at 48 kHz
    clear = np.flatnonzero(np.abs(ideal[fade]) > 0.1)  # where the sine's level can be read
    level = played[fade][clear] / ideal[fade][clear]
    slope, offset = np.polyfit(clear, level, 1)
    assert slope == pytest.approx(-1 / 240, rel=1e-3) and level[0] > 0.8
    assert np.max(np.abs(level - (offset + slope * clear))) < 1e-4, "the sine goes on, only its level falls"
    before = slice(performance.start + BLOCK, sounding[-1] - 300)
    assert np.max(np.abs(played[before] - ideal[before])) < 1e-4
