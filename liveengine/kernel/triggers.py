"""Cues in the audio thread: armed slots that fire on the sample where the timecode reaches them.

The control plane arms a slot with a trigger (a timecode, the conductor's GO, or "after the
cue in slot N, with a wait") and a template: the cue's first events, with sample times
relative to the cue's start. Firing copies the template into the pending set on exact
samples, so what a cue starts is heard on the sample it belongs to even though the
control plane learns of the firing only afterwards; it then posts the rest. While chasing, a cue
the timecode fires (and the cues that follow it) places all of that on the picture's clock
instead (picture.py).

One pass of the timecode fires a cue at most once. The passes are the chase's epochs:
whenever the chase locks or relocates, cues ahead of the new position wait again, and cues
behind it are skipped, except a cue marked chase whose span covers the new position: it
starts there, at the offset it would have reached. When the chase resumes its line after a
dropout longer than the freewheel, the picture ran on: the cues it passed in the gap fire late
(or chase), none is armed again. A jump or a stop of the picture first
stops every part that cues started, since the music they play belongs to the old position.
"""

import math

from .realtime import realtime, realtime_unit
from . import events as ev
from .chase import (
    FREEWHEEL,
    LOCKED,
    S_EPOCH,
    S_FRAMES_PER_DAY,
    S_FRAMES_PER_SAMPLE,
    S_LOCATED_FRAME,
    S_RESUMED,
    S_SAMPLES_PER_FRAME,
    S_STATE,
    chase_position,
    chase_sample_at,
    chase_speed,
    unwrap,
)
from .memory import f64_1d, f64_2d, f64_3d, i64_1d, i64_2d, notify
from .state import (
    A_CHASE,
    A_CONFIG_FLOAT,
    A_CUE_SLOTS,
    A_CUE_TEMPLATES,
    A_GROUP_CLOSED,
    A_KERNEL,
    A_PART_GROUPS,
    A_PENDING,
    A_STEM_INTS,
    A_STEM_VALUES,
    A_TELEMETRY,
    A_VOICE_INTS,
    A_VOICE_VALUES,
    CF_FADE_SAMPLES,
    CF_FOLLOW_SPEED,
    K_ARRIVAL_SEQUENCE,
    K_CUE_EPOCH,
    K_NEXT_GROUP,
    K_OFF_SPEED,
    K_PENDING_COUNT,
    K_TIMECODE_RUNNING,
    PENDING_ON_PICTURE,
    PENDING_ORDER,
    PENDING_PART,
    PENDING_PICTURE,
    Q_CHASE_SPAN,
    Q_FOLLOWS,
    Q_POSITION,
    Q_ROWS,
    Q_STANDS_FOR,
    Q_STATE,
    Q_TRIGGER,
    SLOT_DONE,
    SLOT_IDLE,
    SLOT_WAITING,
    T_CUE_EVENTS_DROPPED,
    T_CUES_FIRED,
    T_CUES_SKIPPED,
)
from .picture import chasing, nominal_frames, place_on_picture, release_group_clocks, set_group_clock
from .stems import stop_every_stem
from .voices.kinds import release_note_group
from .voices.pool import fade_notes


@realtime
def arm_cue(table, slot, sample):
    """Adopt cue `slot`: the control plane wrote its template and trigger (Q_TRIGGER..Q_STANDS_FOR)
    while the slot was its own; from `sample` on the slot waits for its trigger."""
    slots = f64_2d(table, A_CUE_SLOTS)
    if not 0 <= slot < slots.shape[1]:
        return False
    # What the kernel indexes with stays inside its memory, whatever was written.
    slots[Q_ROWS, slot] = max(0.0, min(slots[Q_ROWS, slot], float(f64_3d(table, A_CUE_TEMPLATES).shape[1])))
    if not 0 <= slots[Q_STANDS_FOR, slot] < slots.shape[1]:
        slots[Q_STANDS_FOR, slot] = slot
    slots[Q_STATE, slot] = SLOT_WAITING
    # A timecode cue armed while the picture is already past it belongs to a pass gone by.
    chase = f64_1d(table, A_CHASE)
    if slots[Q_TRIGGER, slot] == ev.TRIGGER_TIMECODE and i64_1d(table, A_KERNEL)[K_TIMECODE_RUNNING] != 0:
        position = chase_position(chase, sample)
        if unwrap(slots[Q_POSITION, slot], position, chase[S_FRAMES_PER_DAY]) < position:
            skip_cue(table, slot, sample, position)
    return True


@realtime
def disarm_cue(table, slot):
    slots = f64_2d(table, A_CUE_SLOTS)
    if not 0 <= slot < slots.shape[1]:
        return False
    slots[Q_STATE, slot] = SLOT_IDLE
    return True


@realtime
def new_pending(table, sample):
    """Index of a fresh pending row at `sample`, in arrival order; -1 when the set is full."""
    pending = f64_2d(table, A_PENDING)
    kernel = i64_1d(table, A_KERNEL)
    index = kernel[K_PENDING_COUNT]
    if index >= pending.shape[0]:
        return -1
    for field in range(pending.shape[1]):
        pending[index, field] = 0.0
    pending[index, ev.SAMPLE] = sample
    pending[index, PENDING_ORDER] = kernel[K_ARRIVAL_SEQUENCE]
    pending[index, PENDING_PART] = -1.0
    kernel[K_ARRIVAL_SEQUENCE] += 1
    kernel[K_PENDING_COUNT] = index + 1
    return index


@realtime
def remove_pending(pending, kernel, index):
    last = kernel[K_PENDING_COUNT] - 1
    for field in range(pending.shape[1]):
        pending[index, field] = pending[last, field]
    kernel[K_PENDING_COUNT] = last


@realtime
def forget_picture_events(table):
    """What waits on the picture's clock leaves the pending set: the picture jumped or stopped, and
    what cues started there belongs to the old position (it never applies, even if the picture
    comes back to it: its cue starts again)."""
    pending = f64_2d(table, A_PENDING)
    kernel = i64_1d(table, A_KERNEL)
    i = 0
    while i < kernel[K_PENDING_COUNT]:
        if pending[i, PENDING_ON_PICTURE] != 0.0:
            remove_pending(pending, kernel, i)
        else:
            i += 1
    release_group_clocks(table)


@realtime
def add_pending(table, row, sample):
    """A copy of an event row in the pending set at `sample`: its index, or -1 when the set is full."""
    index = new_pending(table, sample)
    if index >= 0:
        pending = f64_2d(table, A_PENDING)
        for field in range(ev.KIND, ev.EVENT_WIDTH):
            pending[index, field] = row[field]
    return index


@realtime
def fire_cue(table, slot, sample, offset, what, reported, position, on_picture, origin):
    """Fire the cue in `slot` at `sample`, `offset` samples into it: its template goes into the
    pending set (note-ons from before the offset stay silent; everything else before it
    applies at once), and the cues that follow it are scheduled. `what` and `reported` go to
    the control plane with the picture's frame `position`. With `on_picture` (1.0), what it
    starts follows the picture's clock (picture.py): the cue's time 0 is frame position `origin`,
    and `offset` counts nominal samples of picture time."""
    slots = f64_2d(table, A_CUE_SLOTS)
    telemetry = i64_1d(table, A_TELEMETRY)
    if slots[Q_STATE, slot] == SLOT_IDLE:
        notify(table, sample, ev.CUE, slot, ev.CUE_NOT_ARMED, 0.0, position)
        return
    # A timecode cue fired (or picked up by hand) is done for this pass of the timecode.
    stands_for = int(slots[Q_STANDS_FOR, slot])
    if slots[Q_TRIGGER, stands_for] == ev.TRIGGER_TIMECODE and slots[Q_STATE, stands_for] != SLOT_IDLE:
        slots[Q_STATE, stands_for] = SLOT_DONE
    template = f64_3d(table, A_CUE_TEMPLATES)[slot]
    pending = f64_2d(table, A_PENDING)
    speed = chase_speed(f64_1d(table, A_CHASE))
    dropped = 0
    for i in range(int(slots[Q_ROWS, slot])):
        row = template[i]
        kind = int(row[ev.KIND])
        relative = row[ev.SAMPLE]
        if relative < offset and kind == ev.NOTE_ON:
            continue
        index = add_pending(table, row, sample + max(0.0, relative - offset))
        if index >= 0 and on_picture != 0.0:
            place_on_picture(table, index, origin + nominal_frames(table, max(relative, offset)), sample)
        if index < 0:
            dropped += 1
        elif kind == ev.BUS_GAIN and on_picture != 0.0 and speed > 0.0:
            pending[index, ev.B] /= speed  # a fade lasts its time of picture
        elif kind == ev.NOTE_ON or kind == ev.NOTE_OFF:
            pending[index, PENDING_PART] = int(row[ev.TARGET]) // ev.NOTE_GROUP_SIZE
        elif kind == ev.PART_START:
            pending[index, ev.A] = slot  # for the report of the start
            pending[index, ev.B] = offset
        elif kind == ev.STEM_START and offset > relative:
            pending[index, ev.A] += offset - relative  # a stem started part-way plays on from there
    telemetry[T_CUES_FIRED] += 1
    notify(table, sample, ev.CUE, slot, what, reported, position)
    if dropped > 0:
        telemetry[T_CUE_EVENTS_DROPPED] += dropped
        notify(table, sample, ev.CUE, slot, ev.CUE_TRUNCATED, dropped, position)
    schedule_followers(table, stands_for, sample, offset, on_picture, origin)


@realtime
def template_note_id(table, event):
    """The note id of a note from a cue template, in its part's current note group; -1 when the
    part is not playing. A note posted by the control plane keeps its own id."""
    part = int(event[PENDING_PART])
    if part < 0:
        return event[ev.TARGET]
    part_groups = i64_1d(table, A_PART_GROUPS)
    if part >= part_groups.shape[0] or part_groups[part] == 0:
        return -1.0
    return event[ev.TARGET] + (part_groups[part] - part) * ev.NOTE_GROUP_SIZE


@realtime
def start_part(table, event, sample):
    """PART_START: the part plays in a fresh note group from here on; what a previous start of
    it still has on its way stays apart (and stopped)."""
    part = int(event[ev.TARGET])
    part_groups = i64_1d(table, A_PART_GROUPS)
    if not 0 <= part < part_groups.shape[0]:
        return False
    kernel = i64_1d(table, A_KERNEL)
    closed = i64_1d(table, A_GROUP_CLOSED)
    group = kernel[K_NEXT_GROUP]
    kernel[K_NEXT_GROUP] = group + 1 if group + 1 < closed.shape[0] else 1
    closed[group] = 0
    part_groups[part] = group
    # The part's time 0: on its nominal timeline (where the control plane counts its notes from), and
    # on the picture when the cue follows it.
    origin_sample = sample - event[ev.B]
    on_picture = event[PENDING_ON_PICTURE]
    origin_frame = event[PENDING_PICTURE] - nominal_frames(table, event[ev.B]) if on_picture != 0.0 else math.nan
    set_group_clock(table, group, on_picture, origin_sample, origin_frame)
    notify(table, origin_sample, ev.PART_STARTED, part, group, event[ev.A], event[ev.B], origin_frame)
    return True


@realtime
def stop_part(table, part):
    """PART_STOP: the group the part plays in now goes off."""
    part_groups = i64_1d(table, A_PART_GROUPS)
    if not 0 <= part < part_groups.shape[0]:
        return False
    if part_groups[part] > 0:
        note_group_off(table, part_groups[part])
        part_groups[part] = 0
    return True


@realtime
def schedule_followers(table, slot, sample, offset, on_picture, origin):
    """Cues set to follow this one fire their wait after it (inside the wait already, if it
    started part-way through); on the picture's clock when this one is (from frame `origin`)."""
    slots = f64_2d(table, A_CUE_SLOTS)
    pending = f64_2d(table, A_PENDING)
    for follower in range(slots.shape[1]):
        if slots[Q_STATE, follower] != SLOT_IDLE and slots[Q_TRIGGER, follower] == ev.TRIGGER_FOLLOW \
                and slots[Q_FOLLOWS, follower] == slot:
            wait = slots[Q_POSITION, follower]
            index = new_pending(table, sample + max(0.0, wait - offset))
            if index < 0:
                i64_1d(table, A_TELEMETRY)[T_CUE_EVENTS_DROPPED] += 1
                continue
            pending[index, ev.KIND] = ev.CUE_FIRE
            pending[index, ev.TARGET] = follower
            pending[index, ev.A] = max(0.0, offset - wait)
            if on_picture != 0.0:
                place_on_picture(table, index, origin + nominal_frames(table, max(wait, offset)), sample)


@realtime
def note_group_off(table, group):
    closed = i64_1d(table, A_GROUP_CLOSED)
    if 0 < group < closed.shape[0]:
        closed[group] = 1
        release_note_group(f64_2d(table, A_VOICE_VALUES), i64_2d(table, A_VOICE_INTS), group)


@realtime
def stop_all_parts(table, fade_samples):
    """Every part stops: their notes fade out, their notes still to come stay silent."""
    closed = i64_1d(table, A_GROUP_CLOSED)
    for group in range(1, closed.shape[0]):
        closed[group] = 1
    part_groups = i64_1d(table, A_PART_GROUPS)
    for part in range(part_groups.shape[0]):
        part_groups[part] = 0
    fade_notes(f64_2d(table, A_VOICE_VALUES), i64_2d(table, A_VOICE_INTS), fade_samples, 1)
    stop_every_stem(i64_2d(table, A_STEM_INTS), f64_2d(table, A_STEM_VALUES), fade_samples)


@realtime_unit("(int64[:, ::1], int64, int64)")
def follow_cues(table, block_start, frames):
    """Fire the timecode cues the picture reaches in this block; start a new pass on a new epoch,
    and when the picture's speed comes back within the speed followed."""
    chase = f64_1d(table, A_CHASE)
    kernel = i64_1d(table, A_KERNEL)
    state = int(chase[S_STATE])
    if state != LOCKED and state != FREEWHEEL:
        kernel[K_OFF_SPEED] = 0  # a lock starts a new pass whatever the speed was
        if kernel[K_TIMECODE_RUNNING] != 0:
            kernel[K_TIMECODE_RUNNING] = 0
            stop_what_cues_started(table)
            notify(table, block_start, ev.SEQUENCES_STOPPED, 0, ev.STOPPED_BY_TIMECODE_STOP, 0.0)
        return
    slots = f64_2d(table, A_CUE_SLOTS)
    frames_per_day = chase[S_FRAMES_PER_DAY]
    position = chase_position(chase, float(block_start))
    epoch = int(chase[S_EPOCH])
    if epoch != kernel[K_CUE_EPOCH]:
        if kernel[K_TIMECODE_RUNNING] != 0 and kernel[K_OFF_SPEED] == 0:
            stop_what_cues_started(table)
            notify(table, block_start, ev.SEQUENCES_STOPPED, 0, ev.STOPPED_BY_JUMP, 0.0)
        kernel[K_CUE_EPOCH] = epoch
        kernel[K_TIMECODE_RUNNING] = 1
        new_pass(table, block_start, chase[S_LOCATED_FRAME], chase[S_RESUMED] != 0.0, position)
    if chasing(table) and not within_speed(table, block_start, position):
        return  # a scrub or a shuttle: nothing starts until the picture plays again

    if chase[S_FRAMES_PER_SAMPLE] <= 0.0:
        return  # standing still or in reverse: nothing is reached
    block_end = float(block_start + frames)
    on_picture = 1.0 if chasing(table) else 0.0
    for slot in range(slots.shape[1]):
        if slots[Q_STATE, slot] != SLOT_WAITING or slots[Q_TRIGGER, slot] != ev.TRIGGER_TIMECODE:
            continue
        cue = unwrap(slots[Q_POSITION, slot], position, frames_per_day)
        reached = math.floor(chase_sample_at(chase, cue) + 0.5)
        if reached >= block_end:
            continue
        if reached >= block_start:
            fire_cue(table, slot, float(reached), 0.0, ev.CUE_FIRED, 0.0, cue, on_picture, cue)
            continue
        # Reached before this block: the line has just (re)located, at or after the cue.
        into = position - cue
        if slots[Q_CHASE_SPAN, slot] > 0.0:
            if into < slots[Q_CHASE_SPAN, slot]:
                # Into the cue as far as the picture is: its frames, as nominal samples, on the picture's clock.
                offset = into * chase[S_SAMPLES_PER_FRAME] if on_picture != 0.0 else float(block_start) - reached
                fire_cue(table, slot, float(block_start), offset, ev.CUE_CHASED, offset, position, on_picture, cue)
            else:
                skip_cue(table, slot, float(block_start), position)
        else:
            # Late: it starts here, on the picture as on the audio clock.
            late = ev.CUE_FIRED_LATE_AFTER_DROPOUT if chase[S_RESUMED] != 0.0 else ev.CUE_FIRED_LATE
            fire_cue(table, slot, float(block_start), 0.0, late, float(block_start) - reached, position, on_picture,
                     position)


@realtime
def stop_what_cues_started(table):
    """The picture jumped, stopped or left the speed followed: every part and stem cues started
    stops, and what still waited on the picture is forgotten."""
    stop_all_parts(table, f64_1d(table, A_CONFIG_FLOAT)[CF_FADE_SAMPLES])
    forget_picture_events(table)


@realtime
def new_pass(table, block_start, located, resumed, position):
    """A new pass of the timecode from frame `located` (the picture is at `position`): cues ahead
    wait again (unless the line resumed after a dropout: the picture ran on), cues behind are
    skipped, except a chase cue whose span covers the position, which starts there, again if it
    had started before (what it started stopped with the old pass)."""
    slots = f64_2d(table, A_CUE_SLOTS)
    frames_per_day = f64_1d(table, A_CHASE)[S_FRAMES_PER_DAY]
    for slot in range(slots.shape[1]):
        if slots[Q_STATE, slot] == SLOT_IDLE or slots[Q_TRIGGER, slot] != ev.TRIGGER_TIMECODE:
            continue
        cue = unwrap(slots[Q_POSITION, slot], located, frames_per_day)
        if cue >= located:
            if slots[Q_STATE, slot] == SLOT_DONE and not resumed:
                slots[Q_STATE, slot] = SLOT_WAITING
                notify(table, block_start, ev.CUE, slot, ev.CUE_REARMED, 0.0, position)
        elif position - cue < slots[Q_CHASE_SPAN, slot]:
            slots[Q_STATE, slot] = SLOT_WAITING
        elif slots[Q_STATE, slot] == SLOT_WAITING:
            skip_cue(table, slot, float(block_start), position)


@realtime
def within_speed(table, block_start, position):
    """Whether the chased picture runs within the speed followed (CF_FOLLOW_SPEED either side of 1).
    Crossing out of it (a scrub, a shuttle) stops what cues started, as a jump does; crossing back
    starts a new pass where the picture is. Each crossing is reported."""
    chase = f64_1d(table, A_CHASE)
    kernel = i64_1d(table, A_KERNEL)
    speed = chase_speed(chase)
    bound = f64_1d(table, A_CONFIG_FLOAT)[CF_FOLLOW_SPEED]
    within = abs(speed - 1.0) <= bound
    if within == (kernel[K_OFF_SPEED] == 0):
        return within
    if within:
        kernel[K_OFF_SPEED] = 0
        new_pass(table, block_start, position, False, position)
    else:
        kernel[K_OFF_SPEED] = 1
        stop_what_cues_started(table)
    notify(table, block_start, ev.PICTURE_SPEED, 1.0 if within else 0.0, speed, bound, position)
    return within


@realtime
def skip_cue(table, slot, block_start, position):
    f64_2d(table, A_CUE_SLOTS)[Q_STATE, slot] = SLOT_DONE
    i64_1d(table, A_TELEMETRY)[T_CUES_SKIPPED] += 1
    notify(table, block_start, ev.CUE, slot, ev.CUE_SKIPPED, 0.0, position)
