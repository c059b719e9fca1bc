"""While chasing, what a cue starts follows the picture's clock: LTC written by libltc at a speed
off nominal (a media server's crystal, a pull-down), and every note of a part and every click of
a click track (its count-in and warnings too) starts within a sample of where the LTC's own frame
edges put the picture time it was written for, however far into the cue."""

import re
from pathlib import Path

import numpy as np
import pytest
import soundfile

import ltcref
from liveengine.midi.mtc import MtcReader, quarter_frames
from liveengine.show.click import clicks
from liveengine.show.reader import parse_show
from liveengine.timecode import RATES, Timecode
from commandline import liveengine
from cueshows import BLOCK, CLICK, MASTER, THREE, TWO, Performance, onsets, part, show_text
from sweepphase import samples_ahead, write_sweep

PREROLL_SECONDS = 1  # of timecode before the cue, for the chase to lock
CUE_AT = (1, 0, 1, 0)  # 01:00:01:00
BEATS, BARS = 36, 8  # the part: a note every beat (120 bpm, half a second), 18 s; the click: 8 bars
CLICK_MAP = """
    [clicks.conductor]
    instrument = "blip"
    bus = "click"
    tempo = [{{bar = 1, bpm = 120}}, {{bar = 4, bpm = 150}}]
    bars = {bars}
    count_in = 1
    warnings = true
    accent = [96, 0.9]
    beat = [84, 0.5]
    count-in = [88, 0.6]
    warning = [91, 0.7]
"""


def chase_show(rate_name: str, sample_rate: int, beats: int = BEATS, bars: int = BARS, cue_options: str = "",
               block_size: int = BLOCK, stem: Path | None = None) -> str:
    """The cue starts a part, a click track and, when given, `stem` (on the master bus)."""
    separator = ";" if RATES[rate_name].drop_frame else ":"
    at = separator.join(f"{field:02d}" for field in CUE_AT).replace(separator, ":", 2)
    stems = f'[stems.sweep]\nfile = "{stem}"\n' if stem is not None else ""
    start_stem = ', {start = "sweep"}' if stem is not None else ""
    return show_text(part("reel", "two", range(beats), length=0.25) + CLICK_MAP.format(bars=bars) + stems + f"""
        [[cues]]
        number = "1"
        name = "Reel"
        at = "{at}"
        {cue_options}
        actions = [{{start = "reel"}}, {{start = "conductor"}}{start_stem}]
    """, timecode=f'[timecode]\nsource = "ltc"\ninput = 1\nrate = "{rate_name}"\n', input_channels=1,
                     sample_rate=sample_rate, block_size=block_size)


def ltc_at_speed(sample_rate: int, rate_name: str, speed: float, seconds: float) -> ltcref.Encoded:
    """libltc's LTC from 01:00:00:00, every frame played at `speed` times the nominal rate."""
    rate = RATES[rate_name]
    fps = (rate.fps.numerator, rate.fps.denominator)
    frames = round(seconds * float(rate.fps) * speed)
    return ltcref.encode(sample_rate, fps, (1, 0, 0, 0), frames, drop_frame=rate.drop_frame,
                         slowdowns=np.full(frames, 1.0 / speed))


def picture_sample(ltc: ltcref.Encoded, frames_in: np.ndarray) -> np.ndarray:
    """Where the picture reaches `frames_in` frames after the LTC's first frame: the line through the
    LTC's own frame edges (each edge is a whole sample; the line is exact between them)."""
    slope, intercept = np.polyfit(np.arange(len(ltc.starts)), ltc.starts, 1)
    return intercept + slope * frames_in


def written_frames(show, sample_rate: int, cue_offset_frames: float, beats: int) -> tuple[np.ndarray, np.ndarray]:
    """The picture time (frames after the LTC's start) each part note and each click was written for."""
    fps = float(show.timecode.rate.fps)
    samples_per_frame = sample_rate / fps
    # A part's notes and the clicks are placed on whole samples of the nominal rate from the cue.
    notes = np.array([round(beat * 0.5 * sample_rate) for beat in range(beats)]) / samples_per_frame
    click_samples = np.array([round(click.seconds * sample_rate) for click in clicks(show.clicks["conductor"].map)])
    return cue_offset_frames + notes, cue_offset_frames + click_samples / samples_per_frame


SPEEDS = [1.00005, 0.9995, 1.001, 0.999]
# Every speed at both sample rates; the frame rates taken in turn across them.
CASES = [(speed, sample_rate, rate_name) for (speed, sample_rate), rate_name in zip(
    [(speed, sample_rate) for speed in SPEEDS for sample_rate in (44100, 48000)],
    ["23.976", "24", "25", "29.97df", "29.97", "30", "24", "25"])]


def assert_on_picture(speed: float, sample_rate: int, rate_name: str, seconds: float, beats: int, bars: int,
                      block_size: int = BLOCK, sweep_folder: Path | None = None, sweep_seconds: float = 0.0):
    """Perform the chase show against LTC at `speed` for `seconds`; every note and click within a
    sample of its picture time, and a stem of a sweep of `sweep_seconds` (written into `sweep_folder`)
    within a sample of it too. Returns the largest errors (notes, clicks, the stem's) in samples."""
    rate = RATES[rate_name]
    ltc = ltc_at_speed(sample_rate, rate_name, speed, seconds)
    stem, stem_error = None, 0.0
    if sweep_folder is not None:
        stem = sweep_folder / "sweep.wav"
        write_sweep(stem, sample_rate, sweep_seconds)
    show = Performance(chase_show(rate_name, sample_rate, beats, bars, block_size=block_size, stem=stem),
                       inputs=ltc.audio[:, None])
    part_heard, click_heard, stem_heard = show.play_channels_until(len(ltc.audio) - 2 * block_size,
                                                                   [TWO, CLICK[0], MASTER[0]]).T
    cue_frames = Timecode.from_fields(*CUE_AT, rate).frame_count - Timecode.from_fields(1, 0, 0, 0, rate).frame_count
    if stem is not None:
        # The stem's frame the picture is at on each sample: the inverse of the picture's line.
        slope, intercept = np.polyfit(np.arange(len(ltc.starts)), ltc.starts, 1)
        errors = samples_ahead(stem_heard,
                               lambda samples: ((samples - intercept) / slope - cue_frames) * sample_rate
                               / float(rate.fps), sample_rate, sweep_seconds)
        assert len(errors) * 512 > 0.98 * sweep_seconds * sample_rate / speed, "the whole cue"
        assert np.abs(errors).max() < 1.0, (errors.min(), errors.max())
        assert show.runner.stems.starvations() == []
        stem_error = float(np.abs(errors).max())
    notes, clicks_written = written_frames(show.show, sample_rate, cue_frames, beats)
    heard_notes = onsets(part_heard)
    heard_clicks = onsets(click_heard)
    assert len(heard_notes) == len(notes) and len(heard_clicks) == len(clicks_written)
    note_error = np.array(heard_notes) - picture_sample(ltc, notes)
    click_error = np.array(heard_clicks) - picture_sample(ltc, clicks_written)
    assert np.abs(note_error).max() <= 1.0, note_error
    assert np.abs(click_error).max() <= 1.0, click_error
    assert show.engine.telemetry().late_events == 0
    # The picture's clock as the operator sees it: its speed, and its drift since the chase locked.
    show.engine.poll()
    drift = show.engine.clock_drift
    locked_for = len(ltc.audio) - ltc.starts[2]
    # The speed now is the line's slope through the last 16 frames, whose edges are whole samples:
    # a few tens of ppm either way. The drift over the whole lock is exact to a few samples.
    assert drift.speed_ppm == pytest.approx((speed - 1) * 1e6, abs=50)
    assert drift.samples == pytest.approx((speed - 1) * locked_for, abs=8 + locked_for * 20e-6)
    warnings = [text for _, text, warning in show.engine.timecode_rate_reports if warning and "word clock" in text]
    assert len(warnings) == (1 if abs(speed - 1) > 200e-6 else 0)
    # The audio clock alone would have drifted this far by the last note: the test tells them apart.
    last = (notes[-1] - cue_frames) * sample_rate / float(rate.fps)
    assert abs(last / speed - last) > 4 or speed == 1.00005
    return np.abs(note_error).max(), np.abs(click_error).max(), stem_error


@pytest.mark.parametrize("speed, sample_rate, rate_name", CASES)
def test_every_note_and_click_of_a_chased_cue_falls_on_its_picture_time_off_speed(speed, sample_rate, rate_name):
    assert_on_picture(speed, sample_rate, rate_name, PREROLL_SECONDS + 21, BEATS, BARS)


@pytest.mark.parametrize("speed", SPEEDS)
@pytest.mark.parametrize("sample_rate", [44100, 48000])
def test_a_ten_minute_chased_cue_stays_on_its_picture_time_off_speed(tmp_path, speed, sample_rate):
    """Ten minutes of a part (a note every half second), a click (300 bars) and a stem of a sweep, at
    1024-sample blocks (the cases above play 64)."""
    minutes = 10
    assert_on_picture(speed, sample_rate, "25", PREROLL_SECONDS + minutes * 60 + 2, minutes * 120, minutes * 30,
                      block_size=1024, sweep_folder=tmp_path, sweep_seconds=minutes * 60)


# MTC dates a frame by the arrival of the quarter-frame message that begins it: a message of two
# bytes at MIDI's 31250 baud takes 0.64 ms, and its arrival is known no closer than that.
MTC_RESOLUTION_SECONDS = 2 * 10 / 31250


@pytest.mark.parametrize("speed, rate_name", [(0.999, "25"), (1.001, "29.97df")])
def test_a_chased_cue_follows_mtc_off_speed_within_mtcs_resolution(speed, rate_name):
    sample_rate = 48000
    rate = RATES[rate_name]
    start = Timecode.from_fields(1, 0, 0, 0, rate)
    seconds = PREROLL_SECONDS + 21
    text = chase_show(rate_name, sample_rate).replace(
        'source = "ltc"\ninput = 1', 'source = "mtc"\nmidi_input = "media server"')
    # The media server's MTC at `speed`, each message arriving up to half MIDI's resolution off its time.
    jitter = np.random.default_rng(18)
    reader = MtcReader(rate)
    frames = []  # (frame count, the sample its message arrived at)
    for when, message in quarter_frames(start):
        arrival = float(when) / speed + jitter.uniform(-0.5, 0.5) * MTC_RESOLUTION_SECONDS
        if arrival > seconds / speed:
            break
        frame = reader.feed(message, arrival * 1e9)
        if frame is not None:
            frames.append((frame.timecode.frame_count, round(arrival * sample_rate)))

    show = Performance(text.replace("input_channels = 1", "input_channels = 0"))
    midi = show.engine.producer("midi")

    def post_mtc(runner, position):
        while frames and frames[0][1] < position:  # a frame is posted once its message has arrived
            midi.timecode_frame(*frames.pop(0))

    show.render.before_block = post_mtc
    show.play_until(round(seconds / speed * sample_rate) - 2 * BLOCK)
    audio = show.audio
    cue_frames = Timecode.from_fields(*CUE_AT, rate).frame_count - start.frame_count
    notes, clicks_written = written_frames(show.show, sample_rate, cue_frames, BEATS)
    heard_notes, heard_clicks = onsets(audio[:, TWO]), onsets(audio[:, CLICK[0]])
    assert len(heard_notes) == len(notes) and len(heard_clicks) == len(clicks_written)
    samples_per_frame = sample_rate / float(rate.fps)
    tolerance = MTC_RESOLUTION_SECONDS * sample_rate
    for heard, written in ((heard_notes, notes), (heard_clicks, clicks_written)):
        error = np.array(heard) - written * samples_per_frame / speed
        assert np.abs(error).max() <= tolerance, error


def test_notes_move_with_the_line_as_the_picture_speeds_up_and_each_sounds_once():
    """A media server nudged from 1 % slow to 1 % fast across the cue: the line is refined every
    frame, each note still to come moves with it, and every note sounds once, none late."""
    sample_rate, rate_name = 48000, "25"
    rate = RATES[rate_name]
    fps = (25, 1)
    seconds = PREROLL_SECONDS + 21
    frame_total = seconds * 25
    speeds = np.linspace(0.99, 1.01, frame_total)
    ltc = ltcref.encode(sample_rate, fps, (1, 0, 0, 0), frame_total, slowdowns=1.0 / speeds)
    show = Performance(chase_show(rate_name, sample_rate), inputs=ltc.audio[:, None])
    show.play_until(len(ltc.audio) - 2 * BLOCK)
    cue_frames = Timecode.from_fields(*CUE_AT, rate).frame_count - Timecode.from_fields(1, 0, 0, 0, rate).frame_count
    notes, _ = written_frames(show.show, sample_rate, cue_frames, BEATS)
    heard = onsets(show.audio[:, TWO])
    assert len(heard) == len(notes) and show.engine.telemetry().late_events == 0
    # The picture between two frame edges: they are whole samples, the speed changes slowly.
    truth = np.interp(notes, np.arange(len(ltc.starts)), ltc.starts)
    # The line is fitted through the last 16 frames: under a steady acceleration it lags by a few samples.
    assert np.abs(np.array(heard) - truth).max() <= 4


def test_a_shuttle_stops_what_cues_started_and_the_chase_cue_starts_again_part_way():
    """The media server shuttles to 3x and back to play, in two seconds each way: once the speed
    is beyond the speed followed every part stops (then LTC at 3x cannot be read: the chase stops
    too), and once the picture plays again the chase cue starts part-way where it is. Every note
    sounds where the picture puts it, none twice, none lost; nothing is left sounding."""
    sample_rate, rate_name = 48000, "25"
    rate = RATES[rate_name]
    speeds = np.concatenate([np.ones(150), np.linspace(1, 3, 50), np.full(150, 3.0), np.linspace(3, 1, 50),
                             np.ones(250)])
    ltc = ltcref.encode(sample_rate, (25, 1), (1, 0, 0, 0), len(speeds), slowdowns=1.0 / speeds)
    inputs = np.concatenate([ltc.audio, np.zeros(4 * sample_rate, np.float32)])[:, None]
    show = Performance(chase_show(rate_name, sample_rate, beats=40, cue_options="chase = true"), inputs=inputs)
    show.play_until(len(inputs) - BLOCK)
    off = next(sample for sample, what in show.decisions() if "beyond 2 % of its speed" in what)
    cue_log = show.decisions("1")
    assert [what.split(" ")[0] for _, what in cue_log] == ["fired", "chased"]
    chased_at = cue_log[1][0]
    assert any(what.startswith("the picture plays at") and sample == chased_at for sample, what in show.decisions())
    cue_frames = Timecode.from_fields(*CUE_AT, rate).frame_count - Timecode.from_fields(1, 0, 0, 0, rate).frame_count
    for channel, written in zip((TWO, CLICK[0]), written_frames(show.show, sample_rate, cue_frames, 40)):
        audio = show.audio[:, channel]
        # Silent from the stop's fade until the chase cue starts again.
        assert not audio[off + BLOCK + round(0.02 * sample_rate):chased_at].any()
        truth = np.interp(written, np.arange(len(ltc.starts)), ltc.starts)  # the picture between its frame edges
        # A note held across the restart point sounds on the restart itself, as the runner hears of it.
        heard = np.array([onset for onset in onsets(audio) if not chased_at <= onset <= chased_at + 4 * BLOCK])
        matched = np.array([np.argmin(np.abs(truth - onset)) for onset in heard])
        assert len(set(matched)) == len(matched), "a note sounded twice"
        expected = [i for i, at in enumerate(truth) if at < off or at > chased_at + 4 * BLOCK]
        assert sorted(matched) == expected, "a note was lost, or sounded while the picture shuttled"
        error = np.abs(truth[matched] - heard)
        # Within a sample, but in the first second after the restart: the line through the last 16 frames
        # still holds some of the slowing down (the picture was within 2 % before it was back at 1).
        settled = (heard < off) | (heard > chased_at + sample_rate)
        assert error[settled].max() <= 1 and error.max() <= 0.002 * sample_rate
    assert show.engine.telemetry().voices == 0


def test_render_follows_the_speed_of_a_recording_of_the_pictures_ltc(tmp_path):
    """`liveengine render --ltc`: a media server's LTC recorded 0.1 % slow, rendered as the concert
    will sound: every note on its picture time, and the report says how the picture's clock ran."""
    sample_rate, rate_name, speed = 48000, "25", 0.999
    ltc = ltc_at_speed(sample_rate, rate_name, speed, PREROLL_SECONDS + 21)
    recording, show_file, out = tmp_path / "picture.wav", tmp_path / "show.toml", tmp_path / "out.wav"
    soundfile.write(recording, ltc.audio, sample_rate, subtype="FLOAT")
    show_file.write_text(chase_show(rate_name, sample_rate))
    result = liveengine("render", show_file, "--ltc", recording, "-o", out, "--subtype", "FLOAT")
    assert result.returncode == 0, result.stderr
    speed_ppm, drift_ppm = map(int, re.search(r"at the end of the last lock: speed ([-+]\d+) ppm, "
                                              r"drift [-+]\d+ samples \(([-+]\d+) ppm\) since lock", result.stdout).groups())
    assert abs(speed_ppm + 1000) <= 30 and abs(drift_ppm + 1000) <= 5
    assert "WARNING: the picture's clock has run -1" in result.stdout and "share word clock" in result.stdout
    audio, _ = soundfile.read(out, dtype="float32")
    cue_frames = Timecode.from_fields(*CUE_AT, RATES[rate_name]).frame_count - 90000
    notes, clicks_written = written_frames(parse_show(chase_show(rate_name, sample_rate), "show.toml"), sample_rate,
                                           cue_frames, BEATS)
    for channel, written in ((TWO, notes), (CLICK[0], clicks_written)):
        heard = onsets(audio[:, channel])
        assert len(heard) == len(written)
        assert np.abs(np.array(heard) - picture_sample(ltc, written)).max() <= 1


def test_a_follow_cue_and_a_fade_keep_to_the_picture_of_the_cue_they_follow():
    """A cue following a chased cue by 5 s fires on that picture time and its part plays on it; the
    10 s fade it starts lasts 10 s of picture, 10.01 s of audio at 0.999."""
    sample_rate, rate_name, speed = 48000, "25", 0.999
    rate = RATES[rate_name]
    ltc = ltc_at_speed(sample_rate, rate_name, speed, PREROLL_SECONDS + 15)
    text = chase_show(rate_name, sample_rate) + part("tail", "three", [0, 4, 8]) + """
        [[cues]]
        number = "2"
        follow = 5
        actions = [{start = "tail"}, {gain = "four", db = -20, fade = 10}]
    """
    show = Performance(text, inputs=ltc.audio[:, None])
    show.play_until(round(7 * sample_rate))
    fired_at = next(sample for sample, what in show.decisions("2") if what.startswith("fired"))
    # What is left of the fade, a second after it started: 10 s of picture are 480 samples more of audio.
    elapsed = show.position - fired_at
    assert show.engine.bus_levels()["four"].fade_seconds == pytest.approx(10 / speed - elapsed / sample_rate,
                                                                          abs=BLOCK / sample_rate)
    show.play_until(len(ltc.audio) - 2 * BLOCK)
    cue_frames = Timecode.from_fields(*CUE_AT, rate).frame_count - Timecode.from_fields(1, 0, 0, 0, rate).frame_count
    samples_per_frame = sample_rate / float(rate.fps)
    written = cue_frames + np.array([5 * sample_rate + round(beat * 0.5 * sample_rate) for beat in (0, 4, 8)]) \
        / samples_per_frame
    heard = onsets(show.audio[:, THREE])
    assert len(heard) == 3 and np.abs(np.array(heard) - picture_sample(ltc, written)).max() <= 1
    assert abs(fired_at - picture_sample(ltc, written[:1])[0]) <= 1
