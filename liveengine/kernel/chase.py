"""Timecode chase: from decoded frames, a line `frame position = f(sample)` and a lock state.

Each decoded timecode frame gives (the sample where the frame starts, its frame count).
While locked, the chase keeps a least-squares line through the latest consistent
frames, so the position and the speed (varispeed, reverse) of the picture are known
to a fraction of a sample between frames; cues fire where that line reaches them.

States: stopped (no timecode), locking (frames seen, not yet two in a row that agree),
locked, freewheel (timecode dropped out: the line runs on at its last speed for a
configured time, then stopped). A frame that disagrees with the line is a glitch and is
rejected; only when several frames in a row agree among themselves but not with the
line has the picture really jumped: the chase relocates to them. Timecode that comes back
after a stop where the stopped line would be by then (a dropout longer than the freewheel)
resumes that line: the picture never jumped, and what it passed in the gap is late, not skipped.

As timecode master the engine runs a line of its own instead, at the show's exact rate:
frame k of its grid (counted from sample 0, where its start frame begins) begins on sample
ceil(k * sample_rate * den / num), exactly where the LTC generator begins its frame k, so
cues fire on the very sample the generated timecode reaches them, at every rate and for
as long as the show runs. A locate moves the frames along that grid, never the grid.

These kernels obey the real-time contract: the audio thread runs them beside the LTC
decoder. All state lives in one float64 vector and a small window of recent frames.
"""

import numpy as np

from .realtime import realtime, realtime_entry

STOPPED, LOCKING, LOCKED, FREEWHEEL = range(4)
STATE_NAMES = ("stopped", "locking", "locked", "freewheel")

# What one frame did to the chase (chase_frame's result). RESUMED: locked again on the line
# that ran out at the end of a freewheel.
ACCEPTED, LOCKED_NOW, REJECTED, RELOCATED, STARTED_LOCKING, RESUMED = range(6)
# What the passing of time did (chase_idle's result).
NOTHING, FREEWHEEL_STARTED, STOPPED_NOW = range(3)

LOCK_FRAMES = 2  # frames in a row that agree before the line is trusted
RELOCATE_FRAMES = 3  # frames in a row that agree with each other, against the line, make a jump
GLITCH_TOLERANCE = 0.5  # frames: further from the line than this, a frame is not on it
PERIOD_TOLERANCE = 0.15  # consecutive frames may be this much shorter or longer than nominal (varispeed)
# A frame is known only once it has ended, one period after the start it is dated by:
# a dropout is this many periods after the last frame's end.
DROPOUT_PERIODS = 2.0
SILENCE_BEFORE_DROPOUT = 1.0 + DROPOUT_PERIODS  # in periods, from the last frame's start
WINDOW = 16  # frames in the line fit
RESUME_TOLERANCE = 2.0  # frames: timecode back this near where the stopped line would be continues it

# The state vector.
(S_STATE, S_SAMPLES_PER_FRAME, S_FRAMES_PER_DAY, S_FREEWHEEL_SAMPLES, S_ANCHOR_SAMPLE, S_ANCHOR_FRAME,
 S_FRAMES_PER_SAMPLE, S_LAST_SAMPLE, S_LAST_FRAME, S_WINDOW_COUNT, S_CANDIDATE_SAMPLE, S_CANDIDATE_FRAME,
 S_CANDIDATES, S_REJECTED, S_RELOCATIONS, S_EPOCH, S_LOCATED_FRAME, S_MASTER, S_MASTER_SAMPLES_NUM,
 S_MASTER_SAMPLES_DEN, S_LINE_KEPT, S_RESUMED) = range(22)
STATE_FIELDS = 22
# S_EPOCH counts the lines: it changes whenever the chase (re)locates, so whoever follows the
# line (the armed cues) knows that positions before S_LOCATED_FRAME were never played.
# S_MASTER is 1 for the master's own line, whose frames last exactly S_MASTER_SAMPLES_NUM /
# S_MASTER_SAMPLES_DEN samples (sample_rate * den / num, integers) and whose anchor is sample 0.
# S_LINE_KEPT is 1 while the chase, stopped after a freewheel, still holds the line that ran out
# (a returning timecode on it resumes it); S_RESUMED is 1 while the epoch is such a resumption,
# whose located frame is then the last frame heard before the dropout.


@realtime_entry
def frame_count(hours, minutes, seconds, frames, nominal, drop_frame):
    """Frames since midnight of a timecode label; drop-frame skips labels 0 and 1 of every
    minute not divisible by ten (the audio thread's twin of show.timecode, tested against it)."""
    count = ((hours * 60 + minutes) * 60 + seconds) * nominal + frames
    if drop_frame:
        total_minutes = hours * 60 + minutes
        count -= 2 * (total_minutes - total_minutes // 10)
    return count


def new_chase(sample_rate: int, fps: tuple[int, int], frames_per_day: int, freewheel_seconds: float):
    """The state vector and frame window of a stopped chase (allocated before the stream opens)."""
    num, den = fps
    state = np.zeros(STATE_FIELDS, np.float64)
    state[S_SAMPLES_PER_FRAME] = sample_rate * den / num
    state[S_FRAMES_PER_DAY] = frames_per_day
    state[S_FREEWHEEL_SAMPLES] = freewheel_seconds * sample_rate
    return state, np.zeros((WINDOW, 2), np.float64)


def new_master(sample_rate: int, fps: tuple[int, int], frames_per_day: int, start_frame: int):
    """The state vector and (unused) window of the master's line: frame `start_frame` begins on
    sample 0, and the timecode runs at exactly `fps` (num, den) from there."""
    num, den = fps
    state, window = new_chase(sample_rate, fps, frames_per_day, 0.0)
    state[S_MASTER] = 1.0
    state[S_MASTER_SAMPLES_NUM] = sample_rate * den
    state[S_MASTER_SAMPLES_DEN] = num
    state[S_FRAMES_PER_SAMPLE] = num / (sample_rate * den)
    state[S_ANCHOR_FRAME] = start_frame
    state[S_STATE] = LOCKED
    new_epoch.as_python(state, float(start_frame))
    return state, window


@realtime_entry
def unwrap(frame, reference, frames_per_day):
    """`frame` moved by whole days to lie nearest `reference` (timecode wraps at 24 h)."""
    half = frames_per_day / 2.0
    # As many whole days as it takes, at once: a counted loop would run as long as the gap is wide.
    if frame - reference > half:
        frame -= frames_per_day * np.ceil((frame - reference - half) / frames_per_day)
    elif reference - frame > half:
        frame += frames_per_day * np.ceil((reference - frame - half) / frames_per_day)
    return frame


@realtime
def follows(state, previous_sample, previous_frame, sample, frame):
    """Whether a frame is the next (or, in reverse, the previous) frame after another, in time."""
    step = unwrap(frame, previous_frame, state[S_FRAMES_PER_DAY]) - previous_frame
    elapsed = sample - previous_sample
    nominal = state[S_SAMPLES_PER_FRAME]
    return (step == 1.0 or step == -1.0) and \
        nominal / (1.0 + PERIOD_TOLERANCE) <= elapsed <= nominal / (1.0 - PERIOD_TOLERANCE)


@realtime
def start_window(state, window, sample, frame):
    window[0, 0] = sample
    window[0, 1] = frame
    state[S_WINDOW_COUNT] = 1.0
    state[S_LAST_SAMPLE] = sample
    state[S_LAST_FRAME] = frame


@realtime
def add_to_window(state, window, sample, frame):
    """Append a frame (unwrapped next to the last one), dropping the oldest when full."""
    count = int(state[S_WINDOW_COUNT])
    frame = unwrap(frame, state[S_LAST_FRAME], state[S_FRAMES_PER_DAY])
    if count == WINDOW:
        for i in range(WINDOW - 1):
            window[i, 0] = window[i + 1, 0]
            window[i, 1] = window[i + 1, 1]
        count -= 1
    window[count, 0] = sample
    window[count, 1] = frame
    state[S_WINDOW_COUNT] = count + 1.0
    state[S_LAST_SAMPLE] = sample
    state[S_LAST_FRAME] = frame


@realtime
def fit_line(state, window):
    """Least-squares line through the window; anchored at its newest frame."""
    count = int(state[S_WINDOW_COUNT])
    origin_sample = window[count - 1, 0]
    origin_frame = window[count - 1, 1]
    mean_x = 0.0
    mean_y = 0.0
    for i in range(count):
        mean_x += window[i, 0] - origin_sample
        mean_y += window[i, 1] - origin_frame
    mean_x /= count
    mean_y /= count
    covariance = 0.0
    variance = 0.0
    for i in range(count):
        dx = window[i, 0] - origin_sample - mean_x
        covariance += dx * (window[i, 1] - origin_frame - mean_y)
        variance += dx * dx
    slope = covariance / variance
    state[S_FRAMES_PER_SAMPLE] = slope
    state[S_ANCHOR_SAMPLE] = origin_sample
    state[S_ANCHOR_FRAME] = origin_frame + mean_y - slope * mean_x


@realtime_entry
def new_epoch(state, located_frame):
    state[S_EPOCH] += 1.0
    state[S_LOCATED_FRAME] = located_frame
    state[S_RESUMED] = 0.0


@realtime
def master_frame_start(state, index):
    """The sample on which frame `index` of the master's grid begins: ceil(index * samples per frame),
    in integers (as the LTC generator places its frames)."""
    numerator = index * int(state[S_MASTER_SAMPLES_NUM])
    return -((-numerator) // int(state[S_MASTER_SAMPLES_DEN]))


@realtime_entry
def master_locate(state, index, frame):
    """The master's timecode jumps: frame `frame` (since midnight) is the one its grid begins at `index`."""
    state[S_ANCHOR_FRAME] = frame - index
    new_epoch(state, frame)


@realtime_entry
def chase_frame(state, window, sample, frame):
    """Take one decoded frame: `sample` where it starts, `frame` its frame count since midnight."""
    mode = int(state[S_STATE])
    if mode == STOPPED:
        start_window(state, window, sample, frame)
        state[S_STATE] = LOCKING
        return STARTED_LOCKING
    if mode == LOCKING:
        if follows(state, state[S_LAST_SAMPLE], state[S_LAST_FRAME], sample, frame):
            add_to_window(state, window, sample, frame)
            if state[S_WINDOW_COUNT] >= LOCK_FRAMES:
                # Until fit_line, the anchor and speed are still the stopped line's, if it is kept.
                predicted = chase_position(state, window[0, 0])
                resumed = state[S_LINE_KEPT] != 0.0 and \
                    abs(unwrap(window[0, 1], predicted, state[S_FRAMES_PER_DAY]) - predicted) <= RESUME_TOLERANCE
                resumed_from = state[S_LOCATED_FRAME]
                fit_line(state, window)
                state[S_STATE] = LOCKED
                state[S_LINE_KEPT] = 0.0
                if resumed:
                    new_epoch(state, resumed_from)
                    state[S_RESUMED] = 1.0
                    return RESUMED
                new_epoch(state, chase_position(state, window[0, 0]))
                return LOCKED_NOW
            return STARTED_LOCKING
        start_window(state, window, sample, frame)
        return STARTED_LOCKING

    # Locked or freewheeling: is the frame on the line?
    expected = chase_position(state, sample)
    if abs(unwrap(frame, expected, state[S_FRAMES_PER_DAY]) - expected) <= GLITCH_TOLERANCE:
        add_to_window(state, window, sample, frame)
        fit_line(state, window)
        state[S_STATE] = LOCKED
        state[S_CANDIDATES] = 0.0
        return ACCEPTED
    # Off the line: a glitch, unless it continues a run of frames that agree among themselves.
    previous_sample = state[S_CANDIDATE_SAMPLE]
    previous_frame = state[S_CANDIDATE_FRAME]
    if state[S_CANDIDATES] > 0.0 and follows(state, previous_sample, previous_frame, sample, frame):
        state[S_CANDIDATES] += 1.0
    else:
        state[S_CANDIDATES] = 1.0
    state[S_CANDIDATE_SAMPLE] = sample
    state[S_CANDIDATE_FRAME] = frame
    if state[S_CANDIDATES] >= RELOCATE_FRAMES:
        # The picture jumped: restart the line on the run's last two frames.
        start_window(state, window, previous_sample, previous_frame)
        add_to_window(state, window, sample, frame)
        fit_line(state, window)
        state[S_STATE] = LOCKED
        state[S_CANDIDATES] = 0.0
        state[S_RELOCATIONS] += 1.0
        new_epoch(state, chase_position(state, previous_sample))
        return RELOCATED
    state[S_REJECTED] += 1.0
    return REJECTED


@realtime_entry
def chase_idle(state, sample):
    """Let time pass to `sample` with no frame: dropout -> freewheel -> stopped."""
    mode = int(state[S_STATE])
    silent = sample - state[S_LAST_SAMPLE]
    dropout = SILENCE_BEFORE_DROPOUT * state[S_SAMPLES_PER_FRAME]
    if mode == LOCKED and silent > dropout:
        state[S_STATE] = FREEWHEEL
        return FREEWHEEL_STARTED
    freewheel_over = mode == FREEWHEEL and silent > state[S_FREEWHEEL_SAMPLES]
    if freewheel_over:
        # The line is kept, with the last frame heard on it, for timecode that may resume it.
        state[S_LINE_KEPT] = 1.0
        state[S_LOCATED_FRAME] = state[S_LAST_FRAME]
    if freewheel_over or (mode == LOCKING and silent > dropout):
        state[S_STATE] = STOPPED
        state[S_CANDIDATES] = 0.0
        return STOPPED_NOW
    return NOTHING


@realtime_entry
def chase_position(state, sample):
    """The frame position (frames since midnight, fractional, unwrapped) the line gives at `sample`."""
    return state[S_ANCHOR_FRAME] + (sample - state[S_ANCHOR_SAMPLE]) * state[S_FRAMES_PER_SAMPLE]


@realtime_entry
def chase_sample_at(state, frame_position):
    """The sample at which the line reaches `frame_position`; -1 if the picture stands still.
    On the master's line, frame positions are whole frames and the answer is the exact sample
    their frame begins on."""
    if state[S_MASTER] != 0.0:
        return float(master_frame_start(state, int(frame_position - state[S_ANCHOR_FRAME])))
    if state[S_FRAMES_PER_SAMPLE] == 0.0:
        return -1.0
    return state[S_ANCHOR_SAMPLE] + (frame_position - state[S_ANCHOR_FRAME]) / state[S_FRAMES_PER_SAMPLE]


@realtime_entry
def chase_speed(state):
    """Speed of the picture: 1.0 at the nominal frame rate, negative in reverse."""
    return state[S_FRAMES_PER_SAMPLE] * state[S_SAMPLES_PER_FRAME]
