"""Timecode in the block: the LTC input decoded into the chase, the chase's idle time, the
master's locate, and the generated LTC output. (`chase` holds the chase's own arithmetic.)"""

from .dsp.ltc import (
    F_DROP_FRAME,
    F_FRAMES,
    F_HOURS,
    F_MINUTES,
    F_SECONDS,
    F_START,
    ltc_decode,
    ltc_encode,
    ltc_encoder_locate,
)
from . import events as ev
from .chase import (
    ACCEPTED,
    FREEWHEEL,
    LOCKED,
    NOTHING,
    S_STATE,
    chase_frame,
    chase_idle,
    chase_position,
    chase_speed,
    frame_count,
    master_locate,
)
from .memory import f64_1d, f64_2d, i64_1d, notify
from .realtime import realtime, realtime_unit
from .state import (
    A_CHASE,
    A_CHASE_WINDOW,
    A_CONFIG,
    A_INPUT_AUDIO,
    A_LTC_FLOATS,
    A_LTC_FRAMES,
    A_LTC_INTS,
    A_LTC_OUT_FLOATS,
    A_LTC_OUT_INTS,
    A_TELEMETRY,
    A_TELEMETRY_FLOAT,
    C_TIMECODE_DROP_FRAME,
    C_TIMECODE_INPUT,
    C_TIMECODE_MODE,
    C_TIMECODE_NOMINAL,
    C_TIMECODE_OUTPUT,
    T_TIMECODE_FRAMES,
    T_TIMECODE_POSITION,
    T_TIMECODE_SPEED,
    T_TIMECODE_STATE,
    TIMECODE_CHASE,
)


@realtime_unit("(int64[:, ::1], int64, int64)")
def follow_timecode(table, block_start, frames):
    """Chase the timecode input through this block (decoded LTC; MTC arrives as events)."""
    config = i64_1d(table, A_CONFIG)
    chase = f64_1d(table, A_CHASE)
    block_end = float(block_start + frames)
    if config[C_TIMECODE_MODE] == TIMECODE_CHASE:
        channel = config[C_TIMECODE_INPUT]
        if channel >= 0:
            rows = f64_2d(table, A_LTC_FRAMES)
            nominal = config[C_TIMECODE_NOMINAL]
            decoded = ltc_decode(f64_2d(table, A_INPUT_AUDIO)[channel, :frames], block_start,
                                 i64_1d(table, A_LTC_INTS), f64_1d(table, A_LTC_FLOATS), rows)
            for i in range(decoded):
                frame = float(frame_count(int(rows[i, F_HOURS]), int(rows[i, F_MINUTES]), int(rows[i, F_SECONDS]),
                                          int(rows[i, F_FRAMES]), nominal, rows[i, F_DROP_FRAME] != 0.0))
                chase_timecode_frame(table, rows[i, F_START], frame)
        # Let the block's time pass in the chase: dropouts.
        outcome = chase_idle(chase, block_end)
        if outcome != NOTHING:
            notify(table, block_end, ev.TIMECODE, outcome + ev.CHASE_IDLE_OFFSET, chase_position(chase, block_end),
                   0.0)


@realtime
def publish_timecode(table, block_end):
    """Where the picture is at the block's end, published with it (render_block then publishes the block's
    end itself): the control plane reads the two as a pair, and a timecode position a block ahead of its
    sample position would place the conductor's clicks and clock a block late."""
    chase = f64_1d(table, A_CHASE)
    telemetry = i64_1d(table, A_TELEMETRY)
    published = f64_1d(table, A_TELEMETRY_FLOAT)
    state = int(chase[S_STATE])
    telemetry[T_TIMECODE_STATE] = state
    if state == LOCKED or state == FREEWHEEL:
        published[T_TIMECODE_POSITION] = chase_position(chase, block_end)
        published[T_TIMECODE_SPEED] = chase_speed(chase)
    else:
        published[T_TIMECODE_SPEED] = 0.0


@realtime
def chase_timecode_frame(table, start_sample, frame):
    """One timecode frame (decoded LTC, or MTC posted as an event) into the chase."""
    outcome = chase_frame(f64_1d(table, A_CHASE), f64_2d(table, A_CHASE_WINDOW), start_sample, frame)
    i64_1d(table, A_TELEMETRY)[T_TIMECODE_FRAMES] += 1
    if outcome != ACCEPTED:
        notify(table, start_sample, ev.TIMECODE, outcome, frame, 0.0)


@realtime
def locate_master_timecode(table, index, hours, minutes, seconds, frames):
    """As timecode master, jump: frame `index` of the master's grid carries this label, for the cues
    and the generated LTC alike."""
    config = i64_1d(table, A_CONFIG)
    frame = frame_count(hours, minutes, seconds, frames, config[C_TIMECODE_NOMINAL], config[C_TIMECODE_DROP_FRAME])
    master_locate(f64_1d(table, A_CHASE), index, float(frame))
    if config[C_TIMECODE_OUTPUT] >= 0:
        ltc_encoder_locate(i64_1d(table, A_LTC_OUT_INTS), hours, minutes, seconds, frames, index)


@realtime_unit("(int64[:, ::1], float64[:, ::1], int64)")
def generate_timecode(table, output_mix, frames):
    """LTC on its output channel, when the engine is the timecode master (no bus plays there)."""
    channel = i64_1d(table, A_CONFIG)[C_TIMECODE_OUTPUT]
    if channel >= 0:
        ltc_encode(output_mix[channel, :frames], i64_1d(table, A_LTC_OUT_INTS), f64_1d(table, A_LTC_OUT_FLOATS))
