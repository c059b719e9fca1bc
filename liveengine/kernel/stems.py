"""Stems: long audio files streamed from disk, played from the sample a cue starts them.

Each stem slot has a ring of audio frames in memory that a loader thread (the control
plane's) keeps filled ahead of the play position: a window of the file's frames
[window start, window end), frame f stored at f modulo the ring's length. The audio thread
only reads: it plays frames the window holds, and silence otherwise (counted), so a stem
never drifts from where it belongs, even when the disk is late or a chase starts it part-way
before its frames are loaded.

Where it belongs: a stem started while the engine chases a timecode follows the picture. Its
frame n plays when the picture is at the stem's start plus n samples of picture time: where it
should read is `start frame + (picture position now - picture position at the start) * samples
per frame`, from the chase's line at every segment of a block (so no error accumulates, and it
moves as the chase refines the line), and it is read between frames by the band-limited
resampler (dsp/resampler.py). The chase refits its line on every frame, moving it by a
fraction of a sample: a read position that jumped with it would put those steps into the sound
(measured with LTC from libltc at 1.001, a 15 kHz sine's spurs beyond 30 Hz from it were at
-31 dB). So the stem reads on at the line's speed, bent so as to close the gap to where it
should read within TRACKING_FRAMES of picture (the spurs: -69 dB): a refit bends its speed by a
few ppm. At the picture's nominal speed the position is a whole frame on every sample, and the
stem plays its frames exactly as a sample-locked one.
Any other stem (the engine as its own timecode master, or no timecode) is sample-locked:
frame `start frame + (sample - start sample)` on each sample. A stem fading out once its
line is gone (the picture jumped or stopped) runs on at the speed it had.

The loader publishes a new window by first invalidating the old one (end = -1, a release
store), letting a whole block pass (so no block still reads the old window), then writing
frames, setting the start and publishing the end with a release store; the audio thread
reads the end with an acquire load. Filling ahead within a window only ever writes frames
the audio thread has played (or is not yet allowed to play), the resampler's reach (HALF_TAPS
frames behind the position) included.
"""

import math

from .chase import FREEWHEEL, LOCKED, S_ANCHOR_FRAME, S_ANCHOR_SAMPLE, S_EPOCH, S_FRAMES_PER_SAMPLE, S_MASTER, \
    S_SAMPLES_PER_FRAME, S_STATE, chase_position
from .dsp.resampler import FRACTION_MASK, HALF_TAPS, POSITION_BITS, POSITION_SCALE, sinc_frame
from .realtime import realtime, realtime_unit
from .intrinsics import load_acquire, store_release

# Per-stem integers, one column per slot. ST_FOLLOWS: 1 while the stem follows the chase's line of
# epoch ST_EPOCH; ST_POSITION: the frame its next sample plays (reads around, when it follows).
ST_PLAYING, ST_START_SAMPLE, ST_START_FRAME, ST_BUS, ST_POSITION, ST_WINDOW_START, ST_WINDOW_END, ST_LENGTH, \
    ST_STARVED, ST_FOLLOWS, ST_EPOCH = range(11)
STEM_INT_FIELDS = 11
# Per-stem values. A stem that follows the picture: SV_PICTURE_START, the picture's position (frames)
# on its start sample; SV_READ, where its next sample reads (frames from its start frame), and
# SV_SPEED, the frames it reads a sample, as its last block left them.
SV_GAIN, SV_FADE, SV_FADE_STEP, SV_PICTURE_START, SV_READ, SV_SPEED = range(6)
STEM_VALUE_FIELDS = 6
# A stem that follows the picture closes the gap to where the line says it should read within this
# many frames of picture (a time constant): long enough to smooth the line's refits into its speed,
# short enough to follow a line that settles after it locked.
TRACKING_FRAMES = 12.0


@realtime
def stem_start(stem_ints, stem_values, slot, sample, frame, bus, gain, chase):
    """Play stem `slot` from file frame `frame` on engine sample `sample`: following the picture when
    `chase` (the chase's state) holds a line it chases, else sample-locked."""
    if not 0 <= slot < stem_ints.shape[1]:
        return False
    stem_ints[ST_START_SAMPLE, slot] = sample
    stem_ints[ST_START_FRAME, slot] = frame
    stem_ints[ST_BUS, slot] = bus
    stem_values[SV_GAIN, slot] = gain
    stem_values[SV_FADE, slot] = 1.0
    stem_values[SV_FADE_STEP, slot] = 0.0
    state = int(chase[S_STATE])
    follows = chase[S_MASTER] == 0.0 and (state == LOCKED or state == FREEWHEEL)
    stem_ints[ST_FOLLOWS, slot] = 1 if follows else 0
    stem_ints[ST_EPOCH, slot] = int(chase[S_EPOCH])
    stem_values[SV_PICTURE_START, slot] = chase_position(chase, float(sample))
    stem_values[SV_READ, slot] = 0.0
    stem_values[SV_SPEED, slot] = chase[S_FRAMES_PER_SAMPLE] * chase[S_SAMPLES_PER_FRAME]
    store_release(stem_ints[ST_POSITION], slot, frame)
    stem_ints[ST_PLAYING, slot] = 1
    return True


@realtime
def stem_stop(stem_ints, stem_values, slot, fade_samples):
    """Fade stem `slot` out over `fade_samples` (it stops when the fade ends)."""
    if not 0 <= slot < stem_ints.shape[1]:
        return False
    if stem_ints[ST_PLAYING, slot] != 0:
        stem_values[SV_FADE_STEP, slot] = -stem_values[SV_FADE, slot] / max(1.0, fade_samples)
    return True


@realtime
def stop_every_stem(stem_ints, stem_values, fade_samples):
    for slot in range(stem_ints.shape[1]):
        stem_stop(stem_ints, stem_values, slot, fade_samples)


@realtime_unit("(int64[:, ::1], float64[:, ::1], float32[:, :, ::1], float64[:, :, ::1], int64, int64, int64, float64[::1], float64[:, :, ::1])")
def render_stems(stem_ints, stem_values, stem_audio, bus_audio, block_start, start, end, chase, sinc):
    """Add frames [start, end) of the block (which begins at engine sample `block_start`); `chase` is the
    chase's state, `sinc` the resampler's table."""
    for slot in range(stem_ints.shape[1]):
        if stem_ints[ST_PLAYING, slot] == 0:
            continue
        if stem_ints[ST_FOLLOWS, slot] != 0:
            render_following(stem_ints, stem_values, stem_audio, bus_audio, slot, block_start, start, end, chase, sinc)
        else:
            render_locked(stem_ints, stem_values, stem_audio, bus_audio, slot, block_start, start, end)


@realtime
def first_held(stem_ints, slot, window_end, capacity):
    """The first frame the window holds (the ring holds its last `capacity` frames)."""
    return max(stem_ints[ST_WINDOW_START, slot], window_end - capacity)


@realtime
def render_locked(stem_ints, stem_values, stem_audio, bus_audio, slot, block_start, start, end):
    """A sample-locked stem: frame `start frame + (sample - start sample)` on each sample."""
    window_end = load_acquire(stem_ints[ST_WINDOW_END], slot)
    held_from = first_held(stem_ints, slot, window_end, stem_audio.shape[1])
    capacity = stem_audio.shape[1]
    bus = stem_ints[ST_BUS, slot]
    length = stem_ints[ST_LENGTH, slot]
    gain = stem_values[SV_GAIN, slot]
    fade = stem_values[SV_FADE, slot]
    fade_step = stem_values[SV_FADE_STEP, slot]
    frame = stem_ints[ST_START_FRAME, slot] + block_start + start - stem_ints[ST_START_SAMPLE, slot]
    starved = 0
    for i in range(start, end):
        if frame >= length or fade <= 0.0:
            stem_ints[ST_PLAYING, slot] = 0
            break
        if held_from <= frame < window_end:
            row = frame % capacity
            bus_audio[bus, 0, i] += stem_audio[slot, row, 0] * gain * fade
            bus_audio[bus, 1, i] += stem_audio[slot, row, 1] * gain * fade
        elif frame >= 0:
            starved += 1
        fade = next_fade(fade, fade_step)
        frame += 1
    stem_values[SV_FADE, slot] = fade
    stem_ints[ST_STARVED, slot] += starved
    store_release(stem_ints[ST_POSITION], slot, frame)


@realtime
def read_speed(stem_ints, stem_values, slot, chase, sample):
    """How many frames a stem that follows the picture reads a sample, from engine sample `sample` on.
    While the chase holds the line the stem started on: the line's speed, bent toward the line's
    position for the stem ((picture position at `sample` - at the start) * samples per frame, the
    anchor's frame first so that the frames since midnight cancel before they round) so as to close
    the gap in TRACKING_FRAMES of picture. Once that line is gone: the speed it had."""
    state = int(chase[S_STATE])
    if (state == LOCKED or state == FREEWHEEL) and int(chase[S_EPOCH]) == stem_ints[ST_EPOCH, slot]:
        samples_per_frame = chase[S_SAMPLES_PER_FRAME]
        target = ((chase[S_ANCHOR_FRAME] - stem_values[SV_PICTURE_START, slot]) +
                  (sample - chase[S_ANCHOR_SAMPLE]) * chase[S_FRAMES_PER_SAMPLE]) * samples_per_frame
        return chase[S_FRAMES_PER_SAMPLE] * samples_per_frame + \
            (target - stem_values[SV_READ, slot]) / (TRACKING_FRAMES * samples_per_frame)
    return stem_values[SV_SPEED, slot]


@realtime
def render_following(stem_ints, stem_values, stem_audio, bus_audio, slot, block_start, start, end, chase, sinc):
    """A stem that follows the picture: each sample reads at its read position, between frames."""
    window_end = load_acquire(stem_ints[ST_WINDOW_END], slot)
    held_from = first_held(stem_ints, slot, window_end, stem_audio.shape[1])
    ring = stem_audio[slot]
    bus = stem_ints[ST_BUS, slot]
    length = stem_ints[ST_LENGTH, slot]
    start_frame = stem_ints[ST_START_FRAME, slot]
    gain = stem_values[SV_GAIN, slot]
    fade = stem_values[SV_FADE, slot]
    fade_step = stem_values[SV_FADE_STEP, slot]
    read = stem_values[SV_READ, slot]
    speed = read_speed(stem_ints, stem_values, slot, chase, float(block_start + start))
    starved = 0
    for i in range(start, end):
        position = fixed_point(read + (i - start) * speed)
        frame = start_frame + (position >> POSITION_BITS)
        if frame >= length or fade <= 0.0:
            stem_ints[ST_PLAYING, slot] = 0
            break
        # Every frame its taps reach within the file must be held (those outside it are silence).
        if held_from <= max(0, frame - HALF_TAPS + 1) and min(length, frame + HALF_TAPS + 1) <= window_end:
            left, right = sinc_frame(ring, frame, position & FRACTION_MASK, sinc, 0, length)
            bus_audio[bus, 0, i] += left * gain * fade
            bus_audio[bus, 1, i] += right * gain * fade
        elif frame >= 0:
            starved += 1
        fade = next_fade(fade, fade_step)
    read += (end - start) * speed
    stem_values[SV_READ, slot] = read
    stem_values[SV_SPEED, slot] = speed
    stem_values[SV_FADE, slot] = fade
    stem_ints[ST_STARVED, slot] += starved
    store_release(stem_ints[ST_POSITION], slot, start_frame + (fixed_point(read) >> POSITION_BITS))


@realtime
def fixed_point(frames):
    """A position in frames as the resampler takes it, to the nearest 2**-POSITION_BITS of a frame."""
    return math.floor(frames * POSITION_SCALE + 0.5)


@realtime
def next_fade(fade, fade_step):
    # Ends on an exact zero (a fade's sum of steps may stop a hair above it).
    return fade + fade_step if fade + fade_step > 1e-9 else 0.0


@realtime
def publish_window(stem_ints, slot, window_start, window_end):
    """The loader's side: the window now holds [window_start, window_end) (frames already written)."""
    stem_ints[ST_WINDOW_START, slot] = window_start
    store_release(stem_ints[ST_WINDOW_END], slot, window_end)


@realtime
def invalidate_window(stem_ints, slot):
    """The loader's side, before it overwrites frames for a new window."""
    store_release(stem_ints[ST_WINDOW_END], slot, -1)


@realtime
def play_position(stem_ints, slot):
    """The loader's side: the next frame the audio thread will play, and whether it plays."""
    return load_acquire(stem_ints[ST_POSITION], slot), stem_ints[ST_PLAYING, slot] != 0
