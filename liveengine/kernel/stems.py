"""Stems: long audio files streamed from disk, played sample-locked from the sample a cue starts them.

Each stem slot has a ring of audio frames in memory that a loader thread (the control
plane's) keeps filled ahead of the play position: a window of the file's frames
[window start, window end), frame f stored at f modulo the ring's length. The audio thread
only reads: it plays frame `start frame + (sample - start sample)` if the window holds it,
and silence otherwise (counted), so a stem never drifts from the sample it was started on,
even when the disk is late or a chase starts it part-way before its frames are loaded.

The loader publishes a new window by first invalidating the old one (end = -1, a release
store), letting a whole block pass (so no block still reads the old window), then writing
frames, setting the start and publishing the end with a release store; the audio thread
reads the end with an acquire load. Filling ahead within a window only ever writes frames
the audio thread has played (or is not yet allowed to play).
"""

from .realtime import realtime
from .intrinsics import load_acquire, store_release

# Per-stem integers, one column per slot.
ST_PLAYING, ST_START_SAMPLE, ST_START_FRAME, ST_BUS, ST_POSITION, ST_WINDOW_START, ST_WINDOW_END, ST_LENGTH, \
    ST_STARVED = range(9)
STEM_INT_FIELDS = 9
# Per-stem values.
SV_GAIN, SV_FADE, SV_FADE_STEP = range(3)
STEM_VALUE_FIELDS = 3


@realtime
def stem_start(stem_ints, stem_values, slot, sample, frame, bus, gain):
    """Play stem `slot` from file frame `frame` on engine sample `sample`."""
    if not 0 <= slot < stem_ints.shape[1]:
        return False
    stem_ints[ST_START_SAMPLE, slot] = sample
    stem_ints[ST_START_FRAME, slot] = frame
    stem_ints[ST_BUS, slot] = bus
    stem_values[SV_GAIN, slot] = gain
    stem_values[SV_FADE, slot] = 1.0
    stem_values[SV_FADE_STEP, slot] = 0.0
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


@realtime
def render_stems(stem_ints, stem_values, stem_audio, bus_audio, block_start, start, end):
    """Add frames [start, end) of the block (which begins at engine sample `block_start`)."""
    capacity = stem_audio.shape[1]
    for slot in range(stem_ints.shape[1]):
        if stem_ints[ST_PLAYING, slot] == 0:
            continue
        window_end = load_acquire(stem_ints[ST_WINDOW_END], slot)
        window_start = stem_ints[ST_WINDOW_START, slot]
        first_held = max(window_start, window_end - capacity)
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
            if first_held <= frame < window_end:
                row = frame % capacity
                bus_audio[bus, 0, i] += stem_audio[slot, row, 0] * gain * fade
                bus_audio[bus, 1, i] += stem_audio[slot, row, 1] * gain * fade
            elif frame >= 0:
                starved += 1
            # Ends on an exact zero (a fade's sum of steps may stop a hair above it).
            fade = fade + fade_step if fade + fade_step > 1e-9 else 0.0
            frame += 1
        stem_values[SV_FADE, slot] = fade
        stem_ints[ST_STARVED, slot] += starved
        store_release(stem_ints[ST_POSITION], slot, frame)


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
