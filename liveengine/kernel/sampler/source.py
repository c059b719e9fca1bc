"""Reading a sample voice's frames: where its sample is, its taps, its loops, and letting go of it.

A voice reads its sample from the preloaded head, or from the full data once the loader has
read that far; a voice that reaches frames not read yet plays silence, stays in time, and is
reported. The loader takes a sample's full data back (eviction) only while no voice plays it.
"""

import numpy as np
from numba import carray

from ..dsp.filters import low_pass_biquad_step, svf_bands
from ..dsp.interpolation import interpolate
from ..realtime import realtime, realtime_inline
from .. import events as ev
from ..intrinsics import address_as_void_pointer, load_acquire
from ..memory import i64_1d, i64_2d, notify
from ..regiontable import LOOP_CONTINUOUS, LOOP_NONE, LOOP_SUSTAIN, R_END, R_LOOP_END, R_LOOP_START
from ..state import (
    A_SAMPLE_INTS,
    A_TELEMETRY,
    KIND_SAMPLER,
    SI_CHANNELS,
    SI_FRAMES,
    SI_FRAMES_READY,
    SI_FULL_ADDRESS,
    SI_HEAD_ADDRESS,
    SI_HEAD_FRAMES,
    SI_REQUESTED,
    SI_VOICES,
    STAGE_FREE,
    STAGE_RELEASE,
    T_SAMPLES_NOT_READY,
    V_ENV_ADD,
    V_ENV_LEFT,
    V_ENV_MUL,
    V_ENVELOPE,
    VS_KIND,
    VS_LOOP_MODE,
    VS_SAMPLE,
    VS_STAGE,
    VS_STARVED,
)
from ..voices.envelope import enter_release, play_sample

# The taps around a read position, as unsigned offsets for the runs' indexing: a mono sample's frames, and
# the distance between an interleaved stereo sample's frames and its right channel's place in a frame.
TAP_BEFORE, TAP_AFTER, TAP_AFTER_NEXT = np.uint64(1), np.uint64(1), np.uint64(2)
STEREO_STRIDE, RIGHT_LANE = np.uint64(2), np.uint64(1)
SILENT_FRAME = np.float32(0.0)


@realtime_inline
def sample_view(sample_ints, s):
    """Where a voice reads sample slot `s`: the full data as far as it is read, else the preloaded head
    (the frames as one interleaved float32 array, and how many frames it holds)."""
    channels = sample_ints[SI_CHANNELS, s]
    ready = load_acquire(sample_ints[SI_FRAMES_READY], s)
    if ready > sample_ints[SI_HEAD_FRAMES, s]:
        address = sample_ints[SI_FULL_ADDRESS, s]
        available = ready
    else:
        address = sample_ints[SI_HEAD_ADDRESS, s]
        available = sample_ints[SI_HEAD_FRAMES, s]
    return carray(address_as_void_pointer(address), (available * channels,), np.float32), available


@realtime
def take_sample(table, sample, s):
    """A voice starts playing sample slot `s`: the sample stays while it plays, and the loader is asked
    for the rest of it (once) when only its head is read."""
    sample_ints = i64_2d(table, A_SAMPLE_INTS)
    sample_ints[SI_VOICES, s] += 1
    if sample_ints[SI_FRAMES, s] > sample_ints[SI_HEAD_FRAMES, s] and sample_ints[SI_REQUESTED, s] == 0:
        sample_ints[SI_REQUESTED, s] = 1
        notify(table, sample, ev.SAMPLE_WANTED, s, 0.0, 0.0)


@realtime
def free_sample_voice(voice_values, voice_ints, sample_ints, slot):
    """A sample voice ends, and lets go of its sample."""
    voice_ints[VS_STAGE, slot] = STAGE_FREE
    voice_values[V_ENVELOPE, slot] = 0.0
    sample_ints[SI_VOICES, voice_ints[VS_SAMPLE, slot]] -= 1


@realtime
def report_starved(table, voice_ints, s, slot, note_id):
    """The voice outran the loader (it played silence for frames not read yet): reported once a voice."""
    if voice_ints[VS_STARVED, slot] == 0:
        voice_ints[VS_STARVED, slot] = 1
        i64_1d(table, A_TELEMETRY)[T_SAMPLES_NOT_READY] += 1
        notify(table, -1, ev.SAMPLE_NOT_READY, s, note_id, 0.0)


@realtime
def enter_sample_release(voice_values, voice_ints, slot):
    """A sample voice enters its release (a choke releases one-shots too); a loop_sustain loop plays on
    to the sample's end."""
    if voice_ints[VS_LOOP_MODE, slot] == LOOP_SUSTAIN:
        voice_ints[VS_LOOP_MODE, slot] = LOOP_NONE
    enter_release(voice_values, voice_ints, slot)
    if voice_ints[VS_STAGE, slot] == STAGE_FREE and voice_ints[VS_KIND, slot] == KIND_SAMPLER:
        # Silent already (released in its delay): one silent sample more, so the voice ends itself and
        # lets go of its sample.
        voice_ints[VS_STAGE, slot] = STAGE_RELEASE
        voice_values[V_ENV_MUL, slot] = 0.0
        voice_values[V_ENV_ADD, slot] = 0.0
        voice_values[V_ENV_LEFT, slot] = 1.0


@realtime_inline
def loop_bounds(regions, r, loop_mode, available):
    """How a voice of region r reads its sample this segment, as one tuple: (loop_mode, loop_start, loop_end,
    last_frame, looping, fast_last, wrap_at, loop_length). Frames up to `fast_last` have their four taps inside
    what is read (`available` frames) and inside the loop: they need no wrapping."""
    loop_start = int(regions[r, R_LOOP_START])
    loop_end = int(regions[r, R_LOOP_END])
    last_frame = int(regions[r, R_END])
    looping = loop_mode == LOOP_CONTINUOUS or loop_mode == LOOP_SUSTAIN
    fast_last = min(available - 1, loop_end if looping else last_frame) - 2
    return loop_mode, loop_start, loop_end, last_frame, looping, fast_last, loop_end + 2.0, \
        float(loop_end - loop_start + 1)


@realtime_inline
def read_frame(data, channels, available, frames_total, position, cubic, loop):
    """Both channels of the sample at `position`, interpolated (a mono sample's twice): (left, right, ended,
    starved): whether the sample has ended there, whether the voice outran the loader."""
    loop_mode, loop_start, loop_end, last_frame, looping, fast_last, wrap_at, loop_length = loop
    index = int(position)
    t = position - index
    if 1 <= index <= fast_last:
        at = index * channels
        left = interpolate(data[at - channels], data[at], data[at + channels], data[at + 2 * channels], t, cubic)
        if channels == 2:
            return left, interpolate(data[at - 1], data[at + 1], data[at + 3], data[at + 5], t, cubic), False, False
        return left, left, False, False
    if index > last_frame and not looping:
        return 0.0, 0.0, True, False
    left, right, starved = edge_taps(data, channels, available, frames_total, index, t, cubic, loop_mode, loop_start,
                                     loop_end, last_frame, looping)
    return left, right, False, starved


@realtime_inline
def wrap_into_loop(position, loop):
    """Back by whole loop lengths once past its end, to just after its start: so the tap before the read
    position is the loop's last frame, the one played before, not the frame before the loop. A remainder,
    not a loop: one step may pass over the loop many times."""
    looping, wrap_at, loop_length = loop[4], loop[6], loop[7]
    if looping and position >= wrap_at:
        return wrap_at - loop_length + (position - wrap_at) % loop_length
    return position


@realtime
def sample_frame(data, channels, frames_available, index, channel, loop_mode, loop_start, loop_end, end):
    """One channel of frame `index` as the voice hears it: wrapped into its loop, silent outside the
    sample and beyond what is read so far."""
    if (loop_mode == LOOP_CONTINUOUS or loop_mode == LOOP_SUSTAIN) and index > loop_end:
        index = loop_start + (index - loop_start) % (loop_end - loop_start + 1)
    if index < 0 or index > end or index >= frames_available:
        return SILENT_FRAME
    return data[index * channels + channel]


@realtime
def edge_taps(data, channels, available, frames_total, index, t, cubic, loop_mode, loop_start, loop_end, last_frame,
              looping):
    """Both channels at `index` + `t` where the taps reach past the sample's start or end, a loop's end, or
    what is read so far (left, right, whether the voice outran the loader): the rare case, kept out of
    the voice's loop."""
    # The farthest frame the taps read (past a loop's end, they read its start again).
    farthest = min(index + 2, loop_end) if looping else index + 2
    starved = farthest >= available and available < frames_total and farthest <= last_frame
    left = edge_channel(data, channels, available, index, t, cubic, 0, loop_mode, loop_start, loop_end, last_frame)
    right = left
    if channels == 2:
        right = edge_channel(data, channels, available, index, t, cubic, 1, loop_mode, loop_start, loop_end,
                             last_frame)
    return left, right, starved


@realtime
def edge_channel(data, channels, available, index, t, cubic, channel, loop_mode, loop_start, loop_end, last_frame):
    """One channel of `edge_taps`: its four frames each as the voice hears it, interpolated."""
    return interpolate(
        sample_frame(data, channels, available, index - 1, channel, loop_mode, loop_start, loop_end, last_frame),
        sample_frame(data, channels, available, index, channel, loop_mode, loop_start, loop_end, last_frame),
        sample_frame(data, channels, available, index + 1, channel, loop_mode, loop_start, loop_end, last_frame),
        sample_frame(data, channels, available, index + 2, channel, loop_mode, loop_start, loop_end, last_frame),
        t, cubic)


# How a mono run filters its samples: not at all, through the low-pass at rest (as its biquad), or through
# the low-pass while its cutoff sweeps (the state-variable filter, its gains gliding a sample at a time).
RUN_UNFILTERED, RUN_LOW_PASS_AT_REST, RUN_LOW_PASS_SWEEPING = range(3)


# The runs and their filter step are inlined by LLVM (alwaysinline) where they are called with constants, and
# LLVM folds each into a loop of its own, free of the tests (it does not take them out of a loop by itself).
# Before it, a loop called with its interpolation and form as variables took 30-50 % more CPU time (measured,
# 256 and 512 voices). Splicing them into the voice's render with numba gave the same code for a seventh of a
# cold compile more (numba copying, typing and lowering twelve loops in one function).
@realtime_inline
def play_mono_run(cubic, form, run):
    """`mono_run(cubic, form, *run)` with its interpolation and filter form as constants: a loop for each."""
    data, bus_audio, bus, begin, count, position, step, coefficients, state_1, state_2, envelope, mul, add, \
        gain_left, gain_right, step_left, step_right = run
    if cubic:
        if form == RUN_LOW_PASS_SWEEPING:
            return mono_run(True, RUN_LOW_PASS_SWEEPING, data, bus_audio, bus, begin, count, position, step,
                            coefficients, state_1, state_2, envelope, mul, add, gain_left, gain_right, step_left,
                            step_right)
        if form == RUN_LOW_PASS_AT_REST:
            return mono_run(True, RUN_LOW_PASS_AT_REST, data, bus_audio, bus, begin, count, position, step,
                            coefficients, state_1, state_2, envelope, mul, add, gain_left, gain_right, step_left,
                            step_right)
        return mono_run(True, RUN_UNFILTERED, data, bus_audio, bus, begin, count, position, step, coefficients,
                        state_1, state_2, envelope, mul, add, gain_left, gain_right, step_left, step_right)
    if form == RUN_LOW_PASS_SWEEPING:
        return mono_run(False, RUN_LOW_PASS_SWEEPING, data, bus_audio, bus, begin, count, position, step,
                        coefficients, state_1, state_2, envelope, mul, add, gain_left, gain_right, step_left,
                        step_right)
    if form == RUN_LOW_PASS_AT_REST:
        return mono_run(False, RUN_LOW_PASS_AT_REST, data, bus_audio, bus, begin, count, position, step,
                        coefficients, state_1, state_2, envelope, mul, add, gain_left, gain_right, step_left,
                        step_right)
    return mono_run(False, RUN_UNFILTERED, data, bus_audio, bus, begin, count, position, step, coefficients,
                    state_1, state_2, envelope, mul, add, gain_left, gain_right, step_left, step_right)


@realtime_inline
def mono_run(cubic, form, data, bus_audio, bus, begin, count, position, step, coefficients, state_1, state_2,
             envelope, mul, add, gain_left, gain_right, step_left, step_right):
    """`count` samples of a mono sample voice whose four taps all lie inside what is read (and inside its loop),
    unfiltered or through its low-pass: the common case, in a loop of its own free of the tests the general
    loop makes each sample. `coefficients`: the biquad's (b0, f1, f2) of the low-pass at rest
    (`low_pass_biquad`), then the state-variable filter's gains (a1, a2, a3) and their steps a sample while it
    sweeps; the states are the biquad's at rest, the state-variable filter's while it sweeps, as
    `filter_states` gives them. Returns (position, state_1, state_2, envelope, gain_left, gain_right, a1, a2,
    a3): the gains where the sweep has taken them."""
    b0, f1, f2, a1, a2, a3, step_1, step_2, step_3 = coefficients
    # Unsigned indices: numba indexes with them without testing for a negative index. The position (at
    # least 1 here) becomes a signed integer first: x86-64 without AVX-512 converts between doubles and
    # signed integers in one instruction, unsigned ones in several. Measured: the loop 28 % faster.
    for j in range(np.uint64(begin), np.uint64(begin + count)):
        whole = np.int64(position)
        index = np.uint64(whole)
        value = interpolate(data[index - TAP_BEFORE], data[index], data[index + TAP_AFTER],
                            data[index + TAP_AFTER_NEXT], position - whole, cubic)
        value, state_1, state_2 = run_filter(form, value, state_1, state_2, (b0, f1, f2, a1, a2, a3))
        if form == RUN_LOW_PASS_SWEEPING:
            a1 += step_1
            a2 += step_2
            a3 += step_3
        envelope, gain_left, gain_right = play_sample(bus_audio, bus, j, value, value, envelope, mul, add,
                                                      gain_left, gain_right, step_left, step_right)
        position += step
    return position, state_1, state_2, envelope, gain_left, gain_right, a1, a2, a3


@realtime_inline
def play_stereo_run(cubic, form, run):
    """`stereo_run(cubic, form, *run)` with its interpolation and filter form as constants, as
    `play_mono_run`."""
    if cubic:
        if form == RUN_LOW_PASS_SWEEPING:
            return stereo_run(True, RUN_LOW_PASS_SWEEPING, run)
        if form == RUN_LOW_PASS_AT_REST:
            return stereo_run(True, RUN_LOW_PASS_AT_REST, run)
        return stereo_run(True, RUN_UNFILTERED, run)
    if form == RUN_LOW_PASS_SWEEPING:
        return stereo_run(False, RUN_LOW_PASS_SWEEPING, run)
    if form == RUN_LOW_PASS_AT_REST:
        return stereo_run(False, RUN_LOW_PASS_AT_REST, run)
    return stereo_run(False, RUN_UNFILTERED, run)


@realtime_inline
def stereo_run(cubic, form, run):
    """`mono_run` for an interleaved stereo sample: each channel interpolated and filtered (the left through
    `states`' first two, the right through their last two). Returns (position, states, envelope, gain_left,
    gain_right, a1, a2, a3)."""
    data, bus_audio, bus, begin, count, position, step, coefficients, states, envelope, mul, add, gain_left, \
        gain_right, step_left, step_right = run
    b0, f1, f2, a1, a2, a3, step_1, step_2, step_3 = coefficients
    state_1, state_2, state_3, state_4 = states
    for j in range(np.uint64(begin), np.uint64(begin + count)):
        whole = np.int64(position)
        t = position - whole
        at = np.uint64(whole) * STEREO_STRIDE
        left = interpolate(data[at - STEREO_STRIDE], data[at], data[at + STEREO_STRIDE],
                           data[at + 2 * STEREO_STRIDE], t, cubic)
        right = interpolate(data[at - RIGHT_LANE], data[at + RIGHT_LANE], data[at + 3 * RIGHT_LANE],
                            data[at + 5 * RIGHT_LANE], t, cubic)
        left, state_1, state_2 = run_filter(form, left, state_1, state_2, (b0, f1, f2, a1, a2, a3))
        right, state_3, state_4 = run_filter(form, right, state_3, state_4, (b0, f1, f2, a1, a2, a3))
        if form == RUN_LOW_PASS_SWEEPING:
            a1 += step_1
            a2 += step_2
            a3 += step_3
        envelope, gain_left, gain_right = play_sample(bus_audio, bus, j, left, right, envelope, mul, add,
                                                      gain_left, gain_right, step_left, step_right)
        position += step
    return position, (state_1, state_2, state_3, state_4), envelope, gain_left, gain_right, a1, a2, a3


@realtime_inline
def run_filter(form, x, state_1, state_2, coefficients):
    """One sample of one channel through a run's filter form: (y, state_1, state_2). `coefficients`: the
    biquad's (b0, f1, f2) at rest, then the state-variable filter's gains (a1, a2, a3) while it sweeps."""
    b0, f1, f2, a1, a2, a3 = coefficients
    if form == RUN_LOW_PASS_AT_REST:
        return low_pass_biquad_step(x, state_1, state_2, b0, f1, f2)
    if form == RUN_LOW_PASS_SWEEPING:
        y, _, state_1, state_2 = svf_bands(x, state_1, state_2, a1, a2, a3)
        return y, state_1, state_2
    return x, state_1, state_2
