"""Timecode faults, as a show runs them: LTC at another rate than the show's, and a dropout
longer than the freewheel over a cue. Offline renders of the CLI as typed (`liveengine render
SHOW --ltc IN.wav`), and the engine and the OSC event feed below it."""

import re
import subprocess

import numpy as np
import pytest
import soundfile

from liveengine.kernel.dsp.ltc import encode_ltc
from liveengine.engine import Engine, EngineSettings, OfflineRenderer, TimecodeInput
from liveengine.timecode import RATES, Timecode

from commandline import liveengine
BLOCK = 128


def ltc(rate: str, start: str, seconds: float, sample_rate: int) -> np.ndarray:
    frame_rate = RATES[rate]
    label = Timecode.parse(start, frame_rate)
    return encode_ltc(label.fields, frame_rate.fps_ratio, seconds,
                      sample_rate, drop_frame=frame_rate.drop_frame)


def show_text(rate: str, sample_rate: int, cue: str | None = None, freewheel: float = 1.0) -> str:
    text = (f'[show]\nname = "Timecode faults"\n[audio]\nsample_rate = {sample_rate}\nblock_size = {BLOCK}\n'
            'input_channels = 1\n'
            f'[timecode]\nsource = "ltc"\ninput = 1\nrate = "{rate}"\nfreewheel_seconds = {freewheel}\n')
    if cue is not None:
        text += ('[instruments.tone]\ntype = "tone"\n'
                 '[[parts]]\nname = "hit"\ninstrument = "tone"\nnotes = [[69, 0, 0.1, 0.5]]\n'
                 f'[[cues]]\nnumber = "1M1"\nat = "{cue}"\nactions = [{{start = "hit"}}]\n')
    return text


def render(tmp_path, show: str, audio: np.ndarray, sample_rate: int) -> subprocess.CompletedProcess:
    (tmp_path / "show.toml").write_text(show)
    soundfile.write(tmp_path / "in.wav", audio, sample_rate, subtype="FLOAT")
    result = liveengine("render", tmp_path / "show.toml", "--ltc", tmp_path / "in.wav", "-o", tmp_path / "out.wav")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result


# Item 9: LTC at the wrong rate is named, locked or not.

START = {"23.976": "01:00:00:00", "24": "01:00:00:00", "25": "01:00:00:00", "29.97df": "01:00:00;00",
         "29.97": "01:00:00:00", "30": "01:00:00:00"}


@pytest.mark.parametrize("heard, expected, sample_rate", [
    ("30", "25", 48000),  # never locks
    ("24", "25", 44100),  # locks, then relocates every second
    ("25", "24", 96000),
    ("29.97", "30", 48000),  # 0.1 % apart: told by the frame length
    ("23.976", "24", 44100),
    ("29.97df", "29.97", 48000),  # the drop-frame flag
    ("25", "29.97df", 44100),
])
def test_ltc_at_another_rate_than_the_show_is_named_once_locked_or_not(tmp_path, heard, expected, sample_rate):
    result = render(tmp_path, show_text(expected, sample_rate), ltc(heard, START[heard], 4.0, sample_rate),
                    sample_rate)
    warning = f"LTC on input 1 runs at {heard} fps; the show expects {expected} fps ([timecode] rate)"
    assert result.stdout.count(warning) == 1, result.stdout
    assert result.stdout.count("WARNING") == 1  # not said twice, in other words, by the speed it locked at


@pytest.mark.parametrize("rate, sample_rate", [("23.976", 48000), ("24", 96000), ("25", 44100),
                                                ("29.97df", 48000), ("29.97", 44100), ("30", 48000)])
def test_ltc_at_the_show_rate_gets_no_rate_warning(tmp_path, rate, sample_rate):
    result = render(tmp_path, show_text(rate, sample_rate), ltc(rate, START[rate], 3.0, sample_rate), sample_rate)
    assert "runs at" not in result.stdout and "WARNING" not in result.stdout, result.stdout


def engine_chasing(rate: str, sample_rate: int = 48000) -> tuple[Engine, OfflineRenderer]:
    frame_rate = RATES[rate]
    engine = Engine(EngineSettings(sample_rate=sample_rate, max_block=BLOCK, input_channels=1,
                                   timecode=TimecodeInput(0, frame_rate.fps_ratio, frame_rate.drop_frame, 1.0)))
    return engine, OfflineRenderer(engine.state, BLOCK)


def play(engine, renderer, audio):
    for begin in range(0, len(audio) // BLOCK * BLOCK, BLOCK):
        renderer.render_block(audio[begin:begin + BLOCK].reshape(-1, 1))
        engine.poll()


def test_a_change_of_the_ltc_rate_is_said_at_each_change_and_on_the_osc_event_feed():
    from liveengine.osc.feed import FeedPublisher
    engine, renderer = engine_chasing("25")

    class Surface:  # what the feed reads of the show
        runner = type("Runner", (), {"decisions_made": 0, "decisions": []})()

        def __init__(self):
            self.engine = engine
            self.published = []

        def publish(self, events):
            self.published += events

    surface = Surface()
    feed = FeedPublisher(surface)
    play(engine, renderer, ltc("30", "01:00:00:00", 2.0, 48000))
    feed._watch()
    play(engine, renderer, ltc("25", "01:00:10:00", 2.0, 48000))
    feed._watch()
    play(engine, renderer, ltc("30", "01:00:20:00", 2.0, 48000))
    feed._watch()
    mismatch = "LTC on input 1 runs at 30 fps; the show expects 25 fps ([timecode] rate)"
    assert [text for _, text, _ in engine.timecode_rate_reports] == [
        mismatch, "LTC on input 1 runs at 25 fps again, as the show expects", mismatch]
    said = [(kind, text) for kind, text in feed._events if "runs at" in text]
    assert said == [("timecode", text) for _, text, _ in engine.timecode_rate_reports]


def test_the_run_loop_says_a_wrong_ltc_rate_once_as_an_error():
    from liveengine.show.operator import EngineReports
    engine, renderer = engine_chasing("25")
    said = []
    reports = EngineReports(engine, RATES["25"], lambda text, error=False: said.append((text, error)))
    play(engine, renderer, ltc("24", "01:00:00:00", 3.0, 48000))
    reports.check(0.0)
    reports.check(5.0)
    rate_lines = [(text, error) for text, error in said if "fps" in text]
    assert rate_lines == [("LTC on input 1 runs at 24 fps; the show expects 25 fps ([timecode] rate)", True)]


def test_mtc_and_ltc_name_a_wrong_rate_in_the_same_words():
    from liveengine.midi.mtc import MtcReader, full_frame
    reader = MtcReader(RATES["25"])
    reader.feed(full_frame(Timecode.parse("01:00:00:00", RATES["30"])), 0)
    assert reader.rate_mismatch.startswith("MTC runs at 30 fps; the show expects 25 fps ([timecode] rate)")


# Item 10: a dropout longer than the freewheel over a cue.

CUE_AT = {rate: "01:00:03;00" if RATES[rate].drop_frame else "01:00:03:00" for rate in START}


def dropped_out(rate: str, sample_rate: int, silence_seconds: float, jump_seconds: int = 0) -> np.ndarray:
    """10 s of LTC from 01:00:00 that falls silent 2 s in for `silence_seconds`, then comes back on
    the line the picture ran on, or `jump_seconds` further on."""
    frame_rate = RATES[rate]
    num, den = frame_rate.fps_ratio
    first = ltc(rate, START[rate], 2.0, sample_rate)
    back = -(-round((2 + silence_seconds) * sample_rate) * num // (sample_rate * den))  # the frame heard again
    back_sample = -(-back * sample_rate * den // num)
    label = Timecode.parse(START[rate], frame_rate) + back + jump_seconds * frame_rate.nominal
    rest = ltc(rate, str(label), 10.0 - back_sample / sample_rate, sample_rate)
    return np.concatenate([first, np.zeros(back_sample - len(first), np.float32), rest])


@pytest.mark.parametrize("rate, sample_rate", [("25", 48000), ("24", 44100), ("29.97df", 96000), ("23.976", 48000)])
def test_a_cue_inside_a_dropout_longer_than_the_freewheel_fires_late_when_the_line_continues(tmp_path, rate,
                                                                                           sample_rate):
    # Silent from 2 s to 3.6 s: the freewheel (1 s) runs out just before the cue's frame, 3 s in;
    # LTC returns 0.6 s after it, on the line the picture ran on.
    result = render(tmp_path, show_text(rate, sample_rate, CUE_AT[rate]), dropped_out(rate, sample_rate, 1.6),
                    sample_rate)
    lines = [line for line in result.stdout.splitlines() if "cue 1M1:" in line]
    assert len(lines) == 1 and "skipped" not in lines[0], result.stdout
    late = re.search(r"fired late by ([\d.]+) s \(timecode dropout\)", lines[0])
    assert late, result.stdout
    # Heard 2.6 s in (and locked two frames later): 0.6 s and a little after the cue's frame.
    assert 0.6 < float(late.group(1)) < 0.8
    assert "resumed after dropout" in result.stdout
    audio, _ = soundfile.read(tmp_path / "out.wav", dtype="float32")
    assert np.abs(audio[round(3.6 * sample_rate):round(3.8 * sample_rate)]).max() > 0.0  # the cue played


@pytest.mark.parametrize("rate, sample_rate", [("25", 48000), ("29.97df", 44100)])
def test_a_cue_inside_a_dropout_is_still_skipped_when_the_timecode_comes_back_elsewhere(tmp_path, rate,
                                                                                       sample_rate):
    result = render(tmp_path, show_text(rate, sample_rate, CUE_AT[rate]),
                    dropped_out(rate, sample_rate, 1.6, jump_seconds=10), sample_rate)
    lines = [line for line in result.stdout.splitlines() if "cue 1M1:" in line]
    assert len(lines) == 1 and "skipped: the picture is past it" in lines[0], result.stdout
    assert "resumed after dropout" not in result.stdout
