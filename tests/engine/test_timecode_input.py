"""LTC on an input, decoded and chased inside the real kernel, rendered offline block by block."""

import numpy as np
import pytest

import ltcref
from liveengine.kernel.dsp.ltc import encode_ltc
from liveengine.engine import Engine, EngineSettings, OfflineRenderer, TimecodeInput, events

RATE = 48000
BLOCK = 64
HOUR_AT_25 = 90000  # 01:00:00:00 at 25 fps, in frames since midnight


def chasing_engine(fps=(25, 1), drop_frame=False, freewheel_seconds=1.0):
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, input_channels=2,
                                   timecode=TimecodeInput(1, fps, drop_frame, freewheel_seconds)))
    return engine, OfflineRenderer(engine.state, BLOCK)


def play(renderer, ltc):
    """Feed `ltc` to input 2, block by block; returns the number of samples played."""
    inputs = np.zeros((len(ltc) // BLOCK * BLOCK, 2), np.float32)
    inputs[:, 1] = ltc[:len(inputs)]
    for begin in range(0, len(inputs), BLOCK):
        renderer.render_block(inputs[begin:begin + BLOCK])
    return len(inputs)


def test_locks_within_two_frames_and_knows_the_position_to_a_sample():
    engine, renderer = chasing_engine()
    frame = RATE // 25
    play(renderer, encode_ltc((1, 0, 0, 0), (25, 1), 3 * frame / RATE + 0.001, RATE))
    # Frames are known when they end: the second frame ends 3 frames in.
    assert engine.telemetry().timecode.state == "locked"
    played = play(renderer, encode_ltc((1, 0, 0, 3), (25, 1), 2.0, RATE)) + 3 * frame + BLOCK
    status = engine.telemetry().timecode
    assert status.state == "locked" and abs(status.speed - 1.0) < 1e-4
    assert abs(status.position - (HOUR_AT_25 + engine.position / frame)) < 1 / frame  # within a sample
    assert played > 0


@pytest.mark.parametrize("fps, drop_frame, start_frames", [
    ((24000, 1001), False, 86400), ((24, 1), False, 86400), ((30000, 1001), True, 107892), ((30, 1), False, 108000)])
def test_follows_libltc_at_other_rates(fps, drop_frame, start_frames):
    engine, renderer = chasing_engine(fps, drop_frame)
    encoded = ltcref.encode(RATE, fps, (1, 0, 0, 0), 60, drop_frame=drop_frame)
    played = play(renderer, encoded.audio)
    status = engine.telemetry().timecode
    assert status.state == "locked" and status.frames_rejected == 0
    samples_per_frame = RATE * fps[1] / fps[0]
    # Where the line says the stream is, against where libltc put the frames.
    last = len([start for start in encoded.starts if start + samples_per_frame <= played]) - 1
    expected = start_frames + last + (played - encoded.starts[last]) / samples_per_frame
    assert abs(status.position - expected) * samples_per_frame < 2.0


def test_a_jump_in_the_picture_is_followed_and_reported():
    engine, renderer = chasing_engine()
    play(renderer, encode_ltc((1, 0, 0, 0), (25, 1), 1.0, RATE))
    play(renderer, encode_ltc((1, 10, 0, 0), (25, 1), 1.0, RATE))
    engine.poll()
    status = engine.telemetry().timecode
    assert status.state == "locked" and status.relocations == 1
    assert 2 * 25 + HOUR_AT_25 + 10 * 60 * 25 - 30 < status.position < HOUR_AT_25 + 10 * 60 * 25 + 26
    assert [event.what for event in engine.timecode_events].count("relocated") == 1


def test_a_glitch_frame_is_rejected_and_the_line_holds():
    engine, renderer = chasing_engine()
    good = encode_ltc((1, 0, 0, 0), (25, 1), 2.0, RATE)
    frame = RATE // 25
    glitch = encode_ltc((5, 5, 5, 5), (25, 1), 1.0, RATE)
    spliced = good.copy()
    spliced[20 * frame:21 * frame] = glitch[10 * frame:11 * frame]  # one foreign frame in the stream
    played = play(renderer, spliced)
    status = engine.telemetry().timecode
    assert status.state == "locked" and status.relocations == 0 and status.frames_rejected >= 1
    assert abs(status.position - (HOUR_AT_25 + played / frame)) < 0.01


def test_a_dropout_freewheels_then_stops_and_relocks():
    engine, renderer = chasing_engine(freewheel_seconds=0.5)
    frame = RATE // 25
    played = play(renderer, encode_ltc((1, 0, 0, 0), (25, 1), 1.0, RATE))
    silence = np.zeros(round(0.2 * RATE), np.float32)
    played += play(renderer, silence)
    status = engine.telemetry().timecode
    assert status.state == "freewheel"
    assert abs(status.position - (HOUR_AT_25 + played / frame)) < 0.01, "freewheel keeps time"
    play(renderer, np.zeros(RATE, np.float32))
    assert engine.telemetry().timecode.state == "stopped"
    play(renderer, encode_ltc((2, 0, 0, 0), (25, 1), 0.5, RATE))
    assert engine.telemetry().timecode.state == "locked"
    engine.poll()
    assert [event.what for event in engine.timecode_events if event.what != "locking"] == [
        "locked", "dropout: freewheel", "stopped", "locked"]


def test_an_engine_with_no_timecode_has_none_to_locate_and_ignores_timecode_events():
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK))
    producer = engine.producer("show")
    with pytest.raises(ValueError, match="not the timecode master"):
        producer.locate_timecode((1, 0, 0, 0), 4800)
    producer.post(-1, events.TIMECODE_LOCATE, 0, 1, 0, 0, 0)
    producer.timecode_frame(HOUR_AT_25, 0)
    OfflineRenderer(engine.state, BLOCK).render(48000)
    telemetry = engine.telemetry()
    assert telemetry.timecode.state == "stopped" and telemetry.events_rejected == 2


def test_frames_posted_as_events_drive_the_chase_like_decoded_ltc():
    """The path MTC takes: frames stamped with their start sample, posted to the audio thread."""
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK,
                                   timecode=TimecodeInput(None, (25, 1), freewheel_seconds=0.5)))
    renderer = OfflineRenderer(engine.state, BLOCK)
    producer = engine.producer("midi")
    frame = RATE // 25
    for k in range(25):
        # A frame is known once it has passed: post it one frame after its start, jittered.
        renderer.render(frame + (7 if k % 2 else -7))
        producer.timecode_frame(HOUR_AT_25 + k, k * frame)
    renderer.render(BLOCK)
    status = engine.telemetry().timecode
    assert status.state == "locked" and status.frames_decoded == 25
    assert abs(status.position - (HOUR_AT_25 + engine.position / frame)) < 0.01
    renderer.render(RATE // 4)
    assert engine.telemetry().timecode.state == "freewheel"


def test_timecode_at_another_frame_rate_is_named_once_its_seconds_roll_over():
    engine, renderer = chasing_engine(fps=(25, 1))
    # 24 fps LTC read as 25: it locks (a 4 % slow picture) but the rate is wrong.
    play(renderer, encode_ltc((1, 0, 0, 0), (24, 1), 0.9, RATE))
    engine.poll()
    assert engine.timecode_rate_warning is None  # not yet: no frame 23 has rolled over to 0
    play(renderer, encode_ltc((1, 0, 0, 21), (24, 1), 3.0, RATE))
    engine.poll()
    assert engine.timecode_rate_warning == "LTC on input 2 runs at 24 fps; the show expects 25 fps ([timecode] rate)"
    assert len(engine.timecode_rate_reports) == 1


def test_timecode_whose_speed_is_off_for_long_is_named_by_its_speed():
    engine, renderer = chasing_engine(fps=(25, 1))
    # 25 fps labels 4 % fast (24 fps film sped up, recorded as 25): the labels match, the speed does not.
    encoded = ltcref.encode(RATE, (25, 1), (1, 0, 0, 0), 100, slowdowns=np.full(100, 1 / 1.04))
    for begin in range(0, len(encoded.audio), RATE // 2):
        play(renderer, encoded.audio[begin:begin + RATE // 2])
        engine.poll()
    assert engine.timecode_rate_warning.startswith("the timecode runs at 26.0")
    assert engine.timecode_rate_warning.endswith("fps, the show's rate is 25.000 fps: check [timecode] rate")


def test_varispeed_within_its_range_is_not_a_wrong_rate():
    engine, renderer = chasing_engine(fps=(25, 1))
    encoded = ltcref.encode(RATE, (25, 1), (1, 0, 0, 0), 100, slowdowns=np.full(100, 1 / 1.02))
    play(renderer, encoded.audio)
    engine.poll()
    assert engine.telemetry().timecode.state == "locked" and engine.timecode_rate_warning is None
