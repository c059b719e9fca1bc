"""Cues armed into the audio thread, fired where the timecode reaches them, in rendered output.

Each cue's template starts a part playing one test tone. A tone's onset is found in the
rendered audio and compared with the sample where the picture reached the cue: for LTC
written by libltc, the true start of the cue's frame, known from the encoder.
"""

import numpy as np
import pytest

import ltcref
from liveengine.engine import (CueEvent, Engine, EngineSettings, OfflineRenderer, PartsStopped, PartStarted, PictureSpeed,
                               StopReason, TimecodeInput, TimecodeMaster, events)
from liveengine.kernel.state import DEFAULT_FOLLOW_SPEED

RATE = 48000
BLOCK = 64
FPS = (25, 1)
SAMPLES_PER_FRAME = RATE // 25
HOUR = 90000  # 01:00:00:00 at 25 fps, in frames since midnight
NOTE = events.NOTE_GROUP_SIZE


def make_engine(chase=True, freewheel_seconds=2.0, master=None, follow_speed=DEFAULT_FOLLOW_SPEED):
    """An engine chasing LTC on input 1 (`chase`), or the timecode master from label `master`, or neither."""
    timecode = TimecodeInput(0, FPS, False, freewheel_seconds, follow_speed) if chase else None
    master = TimecodeMaster(FPS, False, master) if master else None
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, input_channels=1, polyphony=32,
                                   timecode=timecode, timecode_master=master))
    engine.install_tone(0, attack_seconds=0.001, release_seconds=0.01, gain=1.0)
    engine.cue_reports, engine.cue_reports_seen = engine.subscribe(CueEvent, PartStarted, PartsStopped), []
    return engine, OfflineRenderer(engine.state, BLOCK), engine.producer("show")


def cue_reports(engine):
    """Every cue report since make_engine (through the subscription it took)."""
    engine.poll()
    engine.cue_reports_seen += engine.cue_reports.drain()
    return engine.cue_reports_seen


def row(relative_sample, kind, target=0, a=0.0, b=0.0, c=0.0, d=0.0, e=0.0):
    return [relative_sample, kind, target, a, b, c, d, e]


def tone_template(part, key=69.0, notes=((0, 2400),)):
    """Start `part` and play one tone per (relative start, length) in samples."""
    rows = [row(0, events.PART_START, part)]
    for number, (start, length) in enumerate(notes, 1):
        rows.append(row(start, events.NOTE_ON, part * NOTE + number, 0, key, 0.5, 0))
        rows.append(row(start + length, events.NOTE_OFF, part * NOTE + number))
    return np.array(rows)


def render_ltc(renderer, ltc, tail=0):
    inputs = np.zeros((-(-(len(ltc) + tail) // BLOCK) * BLOCK, 1), np.float32)
    inputs[:len(ltc), 0] = ltc
    return np.concatenate([renderer.render_block(inputs[i:i + BLOCK]).copy() for i in range(0, len(inputs), BLOCK)])


def onsets(audio, gap=1000):
    """Samples where sound starts after at least `gap` silent samples (a tone's first sample is 0,
    its second already sounds)."""
    sounding = np.flatnonzero(np.abs(audio[:, 0]) > 0)
    if len(sounding) == 0:
        return []
    starts = [sounding[0]] + [b for a, b in zip(sounding, sounding[1:]) if b - a > gap]
    return [int(s) - 1 for s in starts]


def fired(engine):
    return [(str(event.what), event.slot) for event in cue_reports(engine) if isinstance(event, CueEvent)]


def test_a_cue_fires_on_the_exact_sample_of_its_frame_in_libltc_timecode():
    engine, renderer, show = make_engine()
    show.arm_cue(0, events.TRIGGER_TIMECODE, tone_template(0), frame=HOUR + 50)
    encoded = ltcref.encode(RATE, FPS, (1, 0, 0, 0), 100)
    audio = render_ltc(renderer, encoded.audio)
    assert onsets(audio) == [pytest.approx(encoded.starts[50], abs=1)]
    assert fired(engine) == [("fired", 0)]


@pytest.mark.parametrize("speed", [0.9, 0.999, 1.001, 1.1])
def test_a_cue_fires_on_its_frame_at_varispeed(speed):
    engine, renderer, show = make_engine(follow_speed=0.15)
    show.arm_cue(0, events.TRIGGER_TIMECODE, tone_template(0), frame=HOUR + 60)
    show.arm_cue(1, events.TRIGGER_TIMECODE, tone_template(1, key=81.0), frame=HOUR + 90)
    encoded = ltcref.encode(RATE, FPS, (1, 0, 0, 0), 120, slowdowns=np.full(120, 1 / speed))
    audio = render_ltc(renderer, encoded.audio)
    assert onsets(audio) == [pytest.approx(encoded.starts[60], abs=1), pytest.approx(encoded.starts[90], abs=1)]


def test_freewheel_keeps_time_through_a_dropout():
    engine, renderer, show = make_engine(freewheel_seconds=2.0)
    show.arm_cue(0, events.TRIGGER_TIMECODE, tone_template(0), frame=HOUR + 70)
    encoded = ltcref.encode(RATE, FPS, (1, 0, 0, 0), 100)
    ltc = encoded.audio.copy()
    ltc[encoded.starts[40]:encoded.starts[90]] = 0.0  # the cue's frame falls in a 2-second dropout
    audio = render_ltc(renderer, ltc)
    assert onsets(audio) == [pytest.approx(encoded.starts[70], abs=1)]
    engine.poll()
    assert "dropout: freewheel" in [event.what for event in engine.timecode_events]


def test_a_glitch_frame_fires_nothing():
    engine, renderer, show = make_engine()
    show.arm_cue(0, events.TRIGGER_TIMECODE, tone_template(0), frame=HOUR + 30 * 60 * 25)  # 01:30:00:00
    good = ltcref.encode(RATE, FPS, (1, 0, 0, 0), 100)
    glitch = ltcref.encode(RATE, FPS, (1, 30, 0, 0), 1)
    ltc = good.audio.copy()
    ltc[good.starts[50]:good.starts[51]] = glitch.audio[:good.starts[51] - good.starts[50]]
    audio = render_ltc(renderer, ltc)
    assert onsets(audio) == [] and fired(engine) == []
    assert engine.telemetry().timecode.frames_rejected >= 1


def test_a_jump_skips_the_cues_in_between_and_a_jump_back_starts_a_new_pass():
    engine, renderer, show = make_engine()
    show.arm_cue(0, events.TRIGGER_TIMECODE, tone_template(0), frame=HOUR + 5 * 25)  # 01:00:05:00: jumped over
    show.arm_cue(1, events.TRIGGER_TIMECODE, tone_template(1, key=81.0), frame=HOUR + 22 * 25)  # 01:00:22:00
    first = ltcref.encode(RATE, FPS, (1, 0, 0, 0), 50)
    after_jump = ltcref.encode(RATE, FPS, (1, 0, 20, 0), 75)  # 01:00:20:00 .. 01:00:22:24
    back = ltcref.encode(RATE, FPS, (1, 0, 21, 0), 50)  # back to 01:00:21:00, through 01:00:22:00 again
    ltc = np.concatenate([first.audio, after_jump.audio, back.audio])
    audio = render_ltc(renderer, ltc)
    jump_at, back_at = len(first.audio), len(first.audio) + len(after_jump.audio)
    assert onsets(audio) == [pytest.approx(jump_at + after_jump.starts[50], abs=1),
                             pytest.approx(back_at + back.starts[25], abs=1)]
    assert fired(engine) == [("skipped", 0), ("fired", 1), ("rearmed", 1), ("fired", 1)]


def test_a_chase_cue_starts_at_its_offset_when_the_picture_lands_inside_it():
    engine, renderer, show = make_engine()
    # Cue at 01:00:10:00, 20 s long for the chase; its notes at 0 s, 5.2 s and 6 s into it.
    notes = ((0, 2400), (round(5.2 * RATE), 2400), (6 * RATE, 2400))
    show.arm_cue(0, events.TRIGGER_TIMECODE, tone_template(0, notes=notes), frame=HOUR + 10 * 25,
                 chase_frames=20 * 25)
    first = ltcref.encode(RATE, FPS, (1, 0, 0, 0), 25)
    landed = ltcref.encode(RATE, FPS, (1, 0, 15, 0), 40)  # 5 s into the cue
    audio = render_ltc(renderer, np.concatenate([first.audio, landed.audio]))
    base = len(first.audio)
    # The note from before the landing stays silent; the later ones are where the picture puts them.
    assert onsets(audio) == [pytest.approx(base + landed.starts[5], abs=1),
                             pytest.approx(base + landed.starts[25], abs=1)]
    assert [what for what, _ in fired(engine)] == ["chased"]


def test_master_timecode_fires_cues_and_a_go_and_a_follow_cue_on_their_samples():
    engine, renderer, show = make_engine(chase=False, master=(1, 0, 0, 0))
    show.arm_cue(0, events.TRIGGER_TIMECODE, tone_template(0), frame=HOUR + 10)
    show.arm_cue(1, events.TRIGGER_MANUAL, tone_template(1, key=81.0))
    show.arm_cue(2, events.TRIGGER_FOLLOW, tone_template(2, key=57.0), follows=1, wait_samples=12000)
    show.fire_cue(1, sample=40000)
    audio = renderer.render(80000)
    assert onsets(audio) == [10 * SAMPLES_PER_FRAME, 40000, 52000]
    assert fired(engine) == [("fired", 0), ("fired", 1), ("fired", 2)]


def test_a_go_on_a_cue_not_armed_is_reported_and_plays_nothing():
    engine, renderer, show = make_engine(chase=False)
    show.fire_cue(7, sample=100)
    assert not renderer.render(4000).any()
    assert fired(engine) == [("not armed", 7)]


def test_stopping_a_part_releases_its_notes_and_silences_what_it_still_had_on_its_way():
    engine, renderer, show = make_engine(chase=False)
    show.arm_cue(0, events.TRIGGER_MANUAL, tone_template(0, notes=((0, 96000),)))
    show.arm_cue(1, events.TRIGGER_MANUAL, np.array([row(0, events.PART_STOP, 0)]))
    show.fire_cue(0, sample=0)
    renderer.render(BLOCK)
    started = next(event for event in cue_reports(engine) if isinstance(event, PartStarted))
    assert (started.slot, started.part, started.sample, started.offset) == (0, 0, 0, 0)
    group = started.group
    # The control plane posts the part's later notes in the group the audio thread gave it.
    show.part_note_on(30000, group, 9, 0, 76.0, 0.5, 0)
    show.fire_cue(1, sample=20000)
    audio = renderer.render(40000)
    assert np.abs(audio[19000 - BLOCK:20000 - BLOCK, 0]).max() > 0.1
    assert not audio[20000 - BLOCK + 480:, :].any(), "released within its 10 ms release, the later note silent"


def test_a_jump_of_the_picture_stops_the_parts_cues_started():
    engine, renderer, show = make_engine()
    show.arm_cue(0, events.TRIGGER_TIMECODE, tone_template(0, notes=((0, 10 * RATE),)), frame=HOUR + 10)
    first = ltcref.encode(RATE, FPS, (1, 0, 0, 0), 40)
    elsewhere = ltcref.encode(RATE, FPS, (2, 0, 0, 0), 40)
    audio = render_ltc(renderer, np.concatenate([first.audio, elsewhere.audio]))
    assert np.abs(audio[len(first.audio) - 2000:len(first.audio), 0]).max() > 0.1
    # The jump is known once three frames agree on it; then the note fades in 5 ms.
    assert not audio[len(first.audio) + 4 * SAMPLES_PER_FRAME:].any()
    assert StopReason.JUMP in [event.why for event in cue_reports(engine) if isinstance(event, PartsStopped)]


def test_a_live_note_can_not_take_an_id_in_a_parts_note_group():
    engine, renderer, show = make_engine(chase=False)
    show.arm_cue(0, events.TRIGGER_MANUAL, tone_template(0, notes=((0, 96000),)))
    show.arm_cue(1, events.TRIGGER_MANUAL, np.array([row(0, events.PART_STOP, 0)]))
    started = engine.subscribe(PartStarted)
    show.fire_cue(0, sample=0)
    renderer.render(BLOCK)
    engine.poll()
    group, = [event.group for event in started.drain()]
    keys = engine.producer("keyboards")
    for taken in (group * NOTE + 1, NOTE, -1, 2.5):  # the part's group, the next one, none at all
        with pytest.raises(ValueError, match=f"note id {taken} is no live note's: live notes take ids 0..{NOTE - 1}"):
            keys.note_on(BLOCK, taken, 0, 40.0, 0.5, 0)
        with pytest.raises(ValueError, match="no live note's"):
            keys.post(BLOCK, events.NOTE_OFF, taken)
    keys.note_on(BLOCK, NOTE - 1, 0, 40.0, 0.5, 0)  # the last live id: group 0, which no cue stops
    show.fire_cue(1, sample=10000)
    renderer.render(20000)
    assert engine.telemetry().voices == 1, "the part stopped, the live note plays on"
    with pytest.raises(ValueError, match="a part's note 0 in note group 1"):
        show.part_note_on(0, 1, 0, 0, 40.0, 0.5, 0)


def test_stop_all_fades_every_part_but_not_live_playing():
    engine, renderer, show = make_engine(chase=False)
    show.arm_cue(0, events.TRIGGER_MANUAL, tone_template(0, notes=((0, 96000),)))
    show.fire_cue(0, sample=0)
    show.note_on(0, 5, 0, 40.0, 0.5, 0)  # a keyboardist's note: group 0
    show.stop_all(fade_seconds=0.5, sample=10000)
    audio = renderer.render(48000)
    keys_only = make_engine(chase=False)
    keys_only[2].note_on(0, 5, 0, 40.0, 0.5, 0)
    reference = keys_only[1].render(48000)
    assert np.array_equal(audio[40000:], reference[40000:])  # after the fade only the live note is left
    assert not np.array_equal(audio[20000:30000], reference[20000:30000])  # the part was fading


def test_a_cue_that_stops_all_and_starts_a_part_plays_the_new_part():
    engine, renderer, show = make_engine(chase=False)
    show.arm_cue(0, events.TRIGGER_MANUAL, tone_template(0, notes=((0, 96000),)))
    show.arm_cue(1, events.TRIGGER_MANUAL, np.concatenate([
        [row(0, events.STOP_ALL, 0, 0.0)], tone_template(0, key=81.0, notes=((0, 9600),))]))
    show.fire_cue(0, sample=0)
    show.fire_cue(1, sample=20000)
    audio = renderer.render(40000)
    alone = make_engine(chase=False)
    alone[2].arm_cue(1, events.TRIGGER_MANUAL, tone_template(0, key=81.0, notes=((0, 9600),)))
    alone[2].fire_cue(1, sample=20000)
    reference = alone[1].render(40000)
    # The first start fades out in 5 ms; then only the restarted part sounds, as if alone.
    assert np.array_equal(audio[20000 + 240:], reference[20000 + 240:])
    assert np.abs(audio[20000 + 240:29000]).max() > 0.1


def test_a_picture_beyond_the_speed_followed_fires_nothing_and_says_so():
    engine, renderer, show = make_engine()  # following 2 % either way
    speed_reports = engine.subscribe(PictureSpeed)
    show.arm_cue(0, events.TRIGGER_TIMECODE, tone_template(0), frame=HOUR + 60)
    encoded = ltcref.encode(RATE, FPS, (1, 0, 0, 0), 120, slowdowns=np.full(120, 1 / 0.9))
    assert not render_ltc(renderer, encoded.audio).any()
    assert fired(engine) == []
    [report] = speed_reports.drain()
    assert not report.following and report.speed == pytest.approx(0.9, abs=1e-3) and report.bound == 0.02
    assert report.text().startswith("the picture runs at 0.900x, beyond 2 % of its speed")
