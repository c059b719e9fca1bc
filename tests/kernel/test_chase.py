"""The timecode chase, fed with frame streams whose truth is known."""

import numpy as np
import pytest
from numba import carray, cfunc, types

from liveengine.kernel import chase as ch
from liveengine.engine.audit import audit_ir

RATE = 48000
FPS = 25
SAMPLES_PER_FRAME = RATE / FPS
FRAMES_PER_DAY = 24 * 3600 * FPS
HOUR = 3600 * FPS


def stream_of_frames(count, first_frame=HOUR, speed=1.0, first_sample=10_000.0, jitter=1.0, seed=3):
    """(start sample, frame count) of `count` frames at `speed` (negative: reverse), with ±jitter samples."""
    rng = np.random.default_rng(seed)
    direction = 1 if speed > 0 else -1
    period = SAMPLES_PER_FRAME / abs(speed)
    return [(first_sample + k * period + rng.uniform(-jitter, jitter), (first_frame + direction * k) % FRAMES_PER_DAY)
            for k in range(count)]


def new_chase(freewheel_seconds=2.0):
    return ch.new_chase(RATE, (FPS, 1), FRAMES_PER_DAY, freewheel_seconds)


def feed(state, window, frames):
    return [ch.chase_frame(state, window, float(sample), float(frame)) for sample, frame in frames]


def test_locks_on_the_second_frame_and_places_frames_within_half_a_sample():
    state, window = new_chase()
    frames = stream_of_frames(40)
    outcomes = feed(state, window, frames)
    assert outcomes[:2] == [ch.STARTED_LOCKING, ch.LOCKED_NOW]
    assert set(outcomes[2:]) == {ch.ACCEPTED}
    assert state[ch.S_STATE] == ch.LOCKED
    # Where is frame HOUR + 45 (five frames ahead)? The truth is 10000 + 45 periods.
    assert abs(ch.chase_sample_at(state, HOUR + 45.0) - (10_000 + 45 * SAMPLES_PER_FRAME)) < 0.5
    assert abs(ch.chase_speed(state) - 1.0) < 1e-3


def test_follows_varispeed_and_reverse():
    for speed in (0.9, 1.1, -1.0, -0.95):
        state, window = new_chase()
        frames = stream_of_frames(40, speed=speed)
        feed(state, window, frames)
        assert state[ch.S_STATE] == ch.LOCKED, speed
        assert abs(ch.chase_speed(state) - speed) < 2e-3, speed
        last_sample, last_frame = frames[-1]
        direction = 1 if speed > 0 else -1
        ahead = last_sample + 3 * SAMPLES_PER_FRAME / abs(speed)
        assert abs(ch.chase_position(state, ahead) - (last_frame + 3 * direction)) < 0.01, speed


def test_a_glitch_frame_is_rejected_and_changes_nothing():
    state, window = new_chase()
    frames = stream_of_frames(30)
    feed(state, window, frames[:20])
    line_before = ch.chase_sample_at(state, HOUR + 100.0)
    sample, frame = frames[20]
    assert ch.chase_frame(state, window, sample, frame + 377) == ch.REJECTED
    assert ch.chase_sample_at(state, HOUR + 100.0) == line_before
    assert feed(state, window, frames[21:]) == [ch.ACCEPTED] * 9
    assert state[ch.S_REJECTED] == 1


def test_a_jump_relocates_after_three_frames_that_agree():
    state, window = new_chase()
    before = stream_of_frames(20)
    feed(state, window, before)
    jump_sample = before[-1][0] + SAMPLES_PER_FRAME
    after = stream_of_frames(10, first_frame=HOUR + 5000, first_sample=jump_sample)
    outcomes = feed(state, window, after)
    assert outcomes[:3] == [ch.REJECTED, ch.REJECTED, ch.RELOCATED]
    assert set(outcomes[3:]) == {ch.ACCEPTED}
    assert state[ch.S_RELOCATIONS] == 1
    assert abs(ch.chase_position(state, after[-1][0]) - (HOUR + 5009)) < 0.01


def test_two_glitches_in_a_row_that_do_not_agree_never_relocate():
    state, window = new_chase()
    frames = stream_of_frames(30)
    feed(state, window, frames[:20])
    assert ch.chase_frame(state, window, frames[20][0], HOUR + 900.0) == ch.REJECTED
    assert ch.chase_frame(state, window, frames[21][0], HOUR + 50.0) == ch.REJECTED
    assert ch.chase_frame(state, window, frames[22][0], HOUR + 901.0) == ch.REJECTED
    assert feed(state, window, frames[23:]) == [ch.ACCEPTED] * 7


def test_a_dropout_freewheels_on_the_line_then_stops():
    state, window = new_chase(freewheel_seconds=1.0)
    frames = stream_of_frames(20)
    feed(state, window, frames)
    last_sample, last_frame = frames[-1]
    # The last frame ended one period after its start; two more periods of silence make a dropout.
    assert ch.chase_idle(state, last_sample + 2.9 * SAMPLES_PER_FRAME) == ch.NOTHING
    assert ch.chase_idle(state, last_sample + 3.1 * SAMPLES_PER_FRAME) == ch.FREEWHEEL_STARTED
    # Half a second into the dropout, the line still tells where the picture is.
    half_second = last_sample + RATE / 2
    assert abs(ch.chase_position(state, half_second) - (last_frame + FPS / 2)) < 0.01
    assert ch.chase_idle(state, last_sample + 0.9 * RATE) == ch.NOTHING
    assert ch.chase_idle(state, last_sample + 1.1 * RATE) == ch.STOPPED_NOW
    # Timecode comes back: lock again within two frames.
    again = stream_of_frames(5, first_frame=last_frame + 60, first_sample=last_sample + 1.2 * RATE)
    assert feed(state, window, again)[:2] == [ch.STARTED_LOCKING, ch.LOCKED_NOW]


def test_frames_resume_on_the_line_after_a_short_dropout():
    state, window = new_chase()
    frames = stream_of_frames(60)
    feed(state, window, frames[:20])
    ch.chase_idle(state, frames[30][0])
    assert state[ch.S_STATE] == ch.FREEWHEEL
    assert feed(state, window, frames[31:40]) == [ch.ACCEPTED] * 9
    assert state[ch.S_STATE] == ch.LOCKED


@pytest.mark.parametrize("speed, off_the_line, outcome", [
    (1.0, 0, ch.RESUMED), (1.0, 1, ch.RESUMED), (-1.0, 0, ch.RESUMED),  # a frame off: within tolerance
    (1.0, 5, ch.LOCKED_NOW), (1.0, -FPS, ch.LOCKED_NOW), (-1.0, 10, ch.LOCKED_NOW)])
def test_timecode_back_after_the_freewheel_ran_out_resumes_the_line_it_continues(speed, off_the_line, outcome):
    state, window = new_chase(freewheel_seconds=1.0)
    frames = stream_of_frames(20, speed=speed)
    feed(state, window, frames)
    last_sample, last_frame = frames[-1]
    ch.chase_idle(state, last_sample + 3.1 * SAMPLES_PER_FRAME)
    assert ch.chase_idle(state, last_sample + 1.1 * RATE) == ch.STOPPED_NOW
    # 1.6 s after the last frame: where the picture ran on to, or somewhere else.
    ran_on = round(1.6 * FPS) * (1 if speed > 0 else -1)
    again = stream_of_frames(5, first_frame=last_frame + ran_on + off_the_line, speed=speed,
                             first_sample=last_sample + 1.6 * RATE)
    epoch = state[ch.S_EPOCH]
    assert feed(state, window, again)[:2] == [ch.STARTED_LOCKING, outcome]
    assert state[ch.S_EPOCH] == epoch + 1 and state[ch.S_RESUMED] == (outcome == ch.RESUMED)
    # A resumed line was played through the gap: its pass begins at the last frame heard before it.
    if outcome == ch.RESUMED:
        assert state[ch.S_LOCATED_FRAME] == last_frame
    # Only the line the freewheel ran out on is resumed, once.
    assert state[ch.S_LINE_KEPT] == 0.0


def test_midnight_passes_without_a_relocation():
    state, window = new_chase()
    frames = stream_of_frames(30, first_frame=FRAMES_PER_DAY - 10)
    outcomes = feed(state, window, frames)
    assert ch.REJECTED not in outcomes and ch.RELOCATED not in outcomes
    assert abs(ch.chase_position(state, frames[-1][0]) - (FRAMES_PER_DAY + 19)) < 0.01


def test_the_chase_kernels_obey_the_real_time_contract():
    signature = types.int32(types.voidptr, types.voidptr, types.float64)

    def use_the_chase(state_pointer, window_pointer, sample):
        state = carray(state_pointer, (ch.STATE_FIELDS,), np.float64)
        window = carray(window_pointer, (ch.WINDOW, 2), np.float64)
        outcome = ch.chase_frame(state, window, sample, 90000.0) + ch.chase_idle(state, sample + 10.0)
        ch.master_locate(state, 12, 90000.0)
        return outcome + int(ch.chase_position(state, sample) + ch.chase_sample_at(state, 90001.0))

    report = audit_ir(cfunc(signature, error_model="numpy")(use_the_chase).inspect_llvm())
    assert report.clean, report.summary()


def test_frame_count_of_a_label_agrees_with_the_timecode_module():
    from liveengine.timecode import RATES, Timecode
    for rate in RATES.values():
        for count in list(range(0, 40_000, 7)) + list(range(rate.frames_per_day() - 3000, rate.frames_per_day())):
            hours, minutes, seconds, frames = Timecode.from_frames(count, rate).fields
            assert ch.frame_count(hours, minutes, seconds, frames, rate.nominal, rate.drop_frame) == count


def test_the_masters_line_begins_every_frame_on_its_exact_sample_for_days_at_every_rate():
    """Frame k after the master's start begins on ceil(k * sample rate / fps), as the LTC generator
    and Engine.master_frame_start place it, however far into the show (never a float's rounding)."""
    from liveengine.engine import Engine, EngineSettings, TimecodeMaster
    from liveengine.timecode import RATES
    start = 3600 * 24  # 01:00:00:00 at 24 fps; any frame count will do
    for rate in RATES.values():
        for sample_rate in (44100, 48000, 96000):
            state, _ = ch.new_master(sample_rate, rate.fps_ratio, rate.frames_per_day(), start)
            engine = Engine(EngineSettings(sample_rate=sample_rate, max_block=64, timecode_master=TimecodeMaster(
                rate.fps_ratio, rate.drop_frame, (1, 0, 0, 0))))
            for k in [0, 1, 2, 3, 7, 1001, 30_000, 2_589_407, 3 * rate.frames_per_day() + 5]:
                exact = -(-k * sample_rate // rate.fps)
                assert ch.chase_sample_at(state, float(start + k)) == exact == engine.master_frame_start(k)
                assert engine.master_frame_at_or_after(exact) == k
                assert engine.master_frame_at_or_after(exact + 1) == k + 1
            ch.master_locate(state, 1000, 7.0)  # frame 7 since midnight begins frame 1000 of the grid
            assert ch.chase_sample_at(state, 7.0 + 5) == -(-(1005 * sample_rate) // rate.fps)
            assert ch.chase_position(state, float(-(-(1005 * sample_rate) // rate.fps))) == \
                pytest.approx(12.0, abs=float(rate.fps / sample_rate))
