"""Events placed by the picture's clock: while chasing, what a cue starts applies where the chase
line says the picture reaches it, not at a count of audio samples from the cue.

The picture's clock and the audio interface's are two crystals (or a pulled-down picture): a
count of samples drifts from the picture by their difference for as long as a cue lasts. So a
cue that the chased timecode fires puts its events into the pending set with their picture time
(a frame position: the cue's frame plus the event's time in the cue at the nominal frame rate),
and every part it starts plays in a note group that follows the picture: the control plane posts
that part's notes on the part's nominal timeline (its start plus the note's samples), as it does
on the audio clock, and draining them turns each into the picture time it stands for.

At the start of every block, once the chase has taken the block's timecode, each such event's
sample is worked out again from the line: as the line is refined, what has not applied yet moves
with it. One the line moves to before the block applies on the block's first sample, once (it is
taken out of the pending set as it applies, so nothing applies twice and nothing is lost).

The engine as timecode master and the conductor's GO keep plain sample times: there the engine's
own sample clock is the picture's.
"""

import math

from . import events as ev
from .chase import S_FRAMES_PER_SAMPLE, S_SAMPLES_PER_FRAME, chase_sample_at
from .memory import f64_1d, f64_2d, i64_1d
from .realtime import realtime
from .state import (
    A_CHASE,
    A_CONFIG,
    A_GROUP_PICTURE,
    A_KERNEL,
    A_PENDING,
    C_TIMECODE_MODE,
    GP_FRAME,
    GP_ON_PICTURE,
    GP_SAMPLE,
    K_PENDING_COUNT,
    PENDING_ON_PICTURE,
    PENDING_PICTURE,
    TIMECODE_CHASE,
)

# The sample of an event whose picture time the line does not reach (the picture stands still or
# runs backwards): later than any block, until the line moves forward again.
UNREACHED = 2.0 ** 52


@realtime
def chasing(table):
    """Whether cues fired by the timecode follow the picture's clock: while chasing a timecode input."""
    return i64_1d(table, A_CONFIG)[C_TIMECODE_MODE] == TIMECODE_CHASE


@realtime
def picture_sample(chase, frame):
    """The sample on which the chase line reaches frame position `frame` (the nearest)."""
    if chase[S_FRAMES_PER_SAMPLE] <= 0.0:
        return UNREACHED
    return math.floor(chase_sample_at(chase, frame) + 0.5)


@realtime
def nominal_frames(table, samples):
    """`samples` of the show's music as frames of picture at the nominal frame rate."""
    return samples / f64_1d(table, A_CHASE)[S_SAMPLES_PER_FRAME]


@realtime
def place_on_picture(table, index, frame, earliest):
    """Pending event `index` applies where the picture reaches `frame`, not before sample `earliest`."""
    pending = f64_2d(table, A_PENDING)
    pending[index, PENDING_ON_PICTURE] = 1.0
    pending[index, PENDING_PICTURE] = frame
    pending[index, ev.SAMPLE] = max(earliest, picture_sample(f64_1d(table, A_CHASE), frame))


@realtime
def follow_picture(table, block_start):
    """Every event on the picture's clock moves to where the line (as this block's timecode left
    it) reaches it; one it moved to before the block is due on its first sample."""
    pending = f64_2d(table, A_PENDING)
    chase = f64_1d(table, A_CHASE)
    for i in range(i64_1d(table, A_KERNEL)[K_PENDING_COUNT]):
        if pending[i, PENDING_ON_PICTURE] != 0.0:
            pending[i, ev.SAMPLE] = max(block_start, picture_sample(chase, pending[i, PENDING_PICTURE]))


@realtime
def place_posted_note(table, index):
    """A note the control plane posted for a part that follows the picture: its sample on the
    part's nominal timeline becomes the picture time it stands for."""
    pending = f64_2d(table, A_PENDING)
    kind = pending[index, ev.KIND]
    if kind != ev.NOTE_ON and kind != ev.NOTE_OFF:
        return
    groups = f64_2d(table, A_GROUP_PICTURE)
    group = int(pending[index, ev.TARGET]) // ev.NOTE_GROUP_SIZE
    if not 0 < group < groups.shape[0] or groups[group, GP_ON_PICTURE] == 0.0:
        return
    frame = groups[group, GP_FRAME] + nominal_frames(table, pending[index, ev.SAMPLE] - groups[group, GP_SAMPLE])
    place_on_picture(table, index, frame, 0.0)


@realtime
def set_group_clock(table, group, on_picture, origin_sample, origin_frame):
    """Note group `group` starts a part whose time 0 is `origin_sample` on its nominal timeline and,
    when it follows the picture (`on_picture` 1.0), frame position `origin_frame`."""
    groups = f64_2d(table, A_GROUP_PICTURE)
    groups[group, GP_ON_PICTURE] = on_picture
    groups[group, GP_SAMPLE] = origin_sample
    groups[group, GP_FRAME] = origin_frame


@realtime
def release_group_clocks(table):
    """No note group follows the picture any more (it jumped or stopped: their parts stopped)."""
    groups = f64_2d(table, A_GROUP_PICTURE)
    for group in range(groups.shape[0]):
        groups[group, GP_ON_PICTURE] = 0.0
