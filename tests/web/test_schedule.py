"""The conductor's schedule, computed from a show alone: where each click, streamer and hit falls in
timecode frames, at every frame rate, before its cue fires and while its click plays; and the epoch
that tells a page to drop what it has after a jump or a stop."""

import re
from types import SimpleNamespace

import pytest

from liveengine.show.reader import load_show
from liveengine.timecode import RATES, Timecode
from liveengine.web.schedule import Schedule
from webshow import web_show

SAMPLE_RATE = 48000


def schedule_of(tmp_path, rate_name: str, players=None, sequences=()):
    text = web_show(8123).replace('rate = "25"', f'rate = "{rate_name}"')
    if RATES[rate_name].drop_frame:  # written with ';' before the frames
        text = re.sub(r'"([0-9]{2}:[0-9]{2}:[0-9]{2}):([0-9]{2})"', r'"\1;\2"', text)
    path = tmp_path / "show.toml"
    path.write_text(text)
    show = load_show(path)
    engine = SimpleNamespace(settings=SimpleNamespace(sample_rate=SAMPLE_RATE), clock=SimpleNamespace(running=False))
    runner = SimpleNamespace(players=players or {}, sequences=list(sequences), current=None)
    return show, Schedule(show, engine, runner)


def telemetry(frames: float, state: str = "locked", position: int = 0, speed: float = 1.0):
    return SimpleNamespace(position=position, timecode=SimpleNamespace(state=state, position=frames, speed=speed))


@pytest.mark.parametrize("rate_name", list(RATES))
def test_before_its_cue_fires_a_click_track_is_placed_from_the_cues_timecode(tmp_path, rate_name):
    show, schedule = schedule_of(tmp_path, rate_name)
    rate = show.timecode.rate
    fps = float(rate.fps)
    cue = Timecode.parse("01:00:00:00", rate).frame_count
    marks = schedule.marks(telemetry(cue - 5 * fps))
    beats = marks["beats"]
    assert beats[0] == [pytest.approx(cue), 0, 1, "count-in"]
    assert beats[4] == [pytest.approx(cue + 2 * fps), 1, 1, "accent"]  # a bar of 4 at 120 bpm: 2 s
    streamers = {(mark["color"], round(mark["frame"], 6)) for mark in marks["visuals"] if mark["kind"] == "streamer"}
    assert ("green", round(cue + 2 * fps, 6)) in streamers  # into the first downbeat
    assert ("yellow", round(cue + 8 * fps, 6)) in streamers  # into bar 4, before the change at bar 5
    punch, = [mark for mark in marks["visuals"] if mark["kind"] == "punch"]
    assert (punch["frame"], punch["color"]) == (pytest.approx(cue + 6 * fps), "red")  # bar 3 beat 1


def test_while_its_click_plays_a_track_is_placed_where_its_player_put_it(tmp_path):
    player = SimpleNamespace(start_sample=96000)
    show, schedule = schedule_of(tmp_path, "25", players={0: player}, sequences=[SimpleNamespace(name="conductor")])
    # The engine at sample 48000 is at frame 100: the track's first click is a second (25 frames) later.
    marks = schedule.marks(telemetry(100.0, position=48000))
    assert marks["beats"][0][:2] == [pytest.approx(125.0), 0]
    assert [mark["frame"] for mark in marks["visuals"] if mark["kind"] == "punch"] == [pytest.approx(125 + 150)]


def test_nothing_is_scheduled_while_the_timecode_stands_still(tmp_path):
    _, schedule = schedule_of(tmp_path, "25")
    assert schedule.marks(telemetry(89000.0, state="stopped", speed=0.0)) == {"beats": [], "visuals": []}


def test_a_jump_a_stop_and_a_lost_lock_each_begin_a_new_epoch(tmp_path):
    _, schedule = schedule_of(tmp_path, "25")
    epochs = [schedule.clock(telemetry(frames, state))["epoch"] for frames, state in
              [(1000.0, "locked"), (1000.0, "locked"), (5000.0, "locked"), (5000.0, "locked"),
               (5000.0, "stopped"), (5000.0, "locking"), (5000.0, "locked"), (5000.0, "freewheel")]]
    assert epochs == [0, 0, 1, 1, 2, 2, 3, 3]  # a freewheel runs on: the same picture
