"""SMPTE 12M linear timecode (LTC): frame packing, a biphase-mark encoder and a decoder.

An LTC frame is 80 bits, sent bit 0 first (each BCD digit least significant bit first). Bits 0-63 carry the
timecode in BCD, eight 4-bit user groups (bits 4-7, 12-15, ..., 60-63), the drop-frame
flag (bit 10), the colour-frame flag (bit 11), the binary group flags and the polarity
correction bit; bits 64-79 are the sync word 0011 1111 1111 1101 (as sent). Here a frame's
bits 0-63 are an int64 `word`, bit i at position i (bit 63 is the sign bit); the sync word
is implied. The flag bits move with the rate (SMPTE 12M, as libltc places them):

    bit           24 and 30 fps    25 fps
    27            polarity         BGF0
    43            BGF0             BGF2
    58            BGF1             BGF1
    59            BGF2             polarity

The polarity correction bit makes the number of zeros in the 80 bits even, so every
frame starts on the same polarity.

Biphase mark: every bit cell starts with a transition, and a one has a second transition
mid-cell. Time in both kernels is the sample clock:

- A frame *starts* at the sample where its bit 0's cell begins: the first sample past
  the zero crossing of the transition that opens the cell (the crossing lies half a
  sample earlier; a square wave takes its new level on that very sample).
- The encoder places frame k (counted from its origin, sample 0) at sample
  ceil(k * rate * den / num) and half cell h at ceil(h * rate * den / (160 * num)):
  exact integers, so hours of timecode never drift from the sample clock.
- The decoder reports each frame's start to a fraction of a sample (the crossing is
  interpolated between samples). A frame heard in reverse ends with its bit 0: its
  start is then that bit's leading edge, the first sample (in playing order) past the
  crossing that closes the frame, i.e. where the frame would begin if the tape ran forward.

The kernels (`ltc_encode`, `ltc_decode`, `ltc_encoder_locate` and what they call) obey
the real-time contract: all state lives in the preallocated vectors built by
`encoder_state` and `decoder_state`, indexed by the constants below.
"""

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..realtime import DENORMAL_FLOOR, realtime, realtime_entry

BITS_PER_FRAME = 80
HALF_CELLS_PER_FRAME = 2 * BITS_PER_FRAME
SYNC_WORD = 0xBFFC  # bits 64-79, bit 64 lowest
SYNC_ONES = 13
DROPPED_FRAME_NUMBERS = 2  # drop-frame skips frames 0 and 1 of each minute but every tenth

DEFAULT_LEVEL_DBFS = -18.0  # 0 dBu under EBU R68 alignment: LTC's nominal line level
DEFAULT_RISE_SECONDS = 40e-6  # SMPTE 12M: 40 +/- 10 us from 10 % to 90 %
RAISED_COSINE_RISE_FRACTION = 1 - 2 * math.acos(0.8) / math.pi  # share of a raised cosine's width in 10-90 %

# Encoder state: int64 vector. A half cell lasts E_HALF_CELL_SAMPLES_NUM / _DEN samples, a reduced
# fraction (1001/100 at 48 kHz and 29.97), so half cell numbers times it stay far inside int64.
(E_HALF_CELL_SAMPLES_NUM, E_HALF_CELL_SAMPLES_DEN, E_NOMINAL_FPS, E_DROP_FRAME, E_USER_BITS, E_HOURS, E_MINUTES,
 E_SECONDS, E_FRAMES, E_WORD, E_HALF_CELL, E_NEXT_EDGE, E_SAMPLE, E_LEVEL, E_LOCATE_PENDING, E_LOCATE_HOURS,
 E_LOCATE_MINUTES, E_LOCATE_SECONDS, E_LOCATE_FRAMES, E_LOCATE_INDEX) = range(20)
ENCODER_INTS = 20
# Encoder state: float64 vector.
E_AMPLITUDE, E_RAMP_HALF_WIDTH = range(2)
ENCODER_FLOATS = 2

# Decoder tuning.
ENVELOPE_RELEASE_SECONDS = 0.010  # peak envelopes fall slowly enough to span the longest cell
HYSTERESIS = 0.3  # share of the envelope's half height a swing must pass to be an edge
MIN_HYSTERESIS = 1e-3  # -60 dBFS: smaller swings are silence, never edges
# Intervals between edges, in tracked bit periods:
SHORTEST_HALF_CELL = 0.25  # shorter ones are glitches
HALF_OR_FULL = 0.75  # below: half cells, above: full cells
LONGEST_CELL = 1.5  # longer ones are dropouts
PERIOD_TRACKING = 0.1  # share of each measured cell the period estimate moves by
SPEED_RANGE = 1.25  # the tracked period stays within nominal / 1.25 ... nominal * 1.25
RESET_PERIOD_AFTER_FRAMES = 2.0  # lost sync this long after the last frame: restart from nominal
FRAME_LENGTH_TRACKING = 1.0 / 16  # share of each frame's length the heard frame length moves by
MAX_FRAME_LABELS = 30  # frame numbers 0-29: the most labels a second any SMPTE rate has
BIT_RING = 128  # cell start times kept, a power of two above 80
LOW_63_BITS = 0x7FFFFFFFFFFFFFFF

# Decoder state: float64 vector, then the ring of cell start times. D_FRAME_LENGTH is the
# smoothed length (samples) of the frames heard in a row, whatever rate the decoder expects.
(D_NOMINAL_BIT_PERIOD, D_BIT_PERIOD, D_RELEASE_COEFF, D_ENVELOPE_HIGH, D_ENVELOPE_LOW, D_PREVIOUS_OFFSET,
 D_LAST_RISE, D_LAST_FALL, D_LAST_EDGE, D_CELL_START, D_LAST_FRAME_END, D_FRAME_LENGTH, D_CELL_STARTS) = range(13)
DECODER_FLOATS = D_CELL_STARTS + BIT_RING
# Decoder state: int64 vector. DI_LEVEL is the Schmitt trigger's side (+1, -1, or 0 before the
# first edge). The two 80-bit windows (64 low + 16 high bits) hold the latest bits as a frame
# read forward (oldest bit at position 0) and as a frame read in reverse (newest at 0).
# What the signal says of its own rate, whatever rate the decoder expects: DI_LABELS_HEARD, the
# frame labels a second (the last frame number before the seconds roll over, plus one; 0 until
# they have), and DI_DROP_FRAME_HEARD, the last frame's drop-frame flag. DI_LAST_* is the last
# frame heard, for telling a roll-over.
(DI_NOMINAL_FPS, DI_LEVEL, DI_HALF_PENDING, DI_RUN, DI_BIT_COUNT, DI_FORWARD_LOW, DI_FORWARD_HIGH,
 DI_REVERSE_LOW, DI_REVERSE_HIGH, DI_FRAMES_LOST, DI_LABELS_HEARD, DI_DROP_FRAME_HEARD, DI_LAST_FRAMES,
 DI_LAST_SECONDS, DI_LAST_REVERSE) = range(15)
DECODER_INTS = 15

# Decoded frames: one float64 row each.
(F_START, F_HOURS, F_MINUTES, F_SECONDS, F_FRAMES, F_DROP_FRAME, F_COLOR_FRAME, F_USER_BITS,
 F_BINARY_GROUP_FLAGS, F_REVERSE, F_DURATION) = range(11)
FRAME_FIELDS = 11


# Frames and timecode.

@realtime
def _flag_positions(nominal_fps):
    """(BGF0, BGF2, polarity correction) bit positions; BGF1 is bit 58 at every rate."""
    if nominal_fps == 25:
        return 27, 43, 59
    return 43, 59, 27


@realtime_entry
def pack_frame(hours, minutes, seconds, frames, nominal_fps, drop_frame=0, user_bits=0, color_frame=0,
               binary_group_flags=0):
    """Bits 0-63 of the frame, polarity correction bit set; user_bits fill groups 1-8 from their low nibble."""
    word = ((frames % 10) | (frames // 10) << 8 | drop_frame << 10 | color_frame << 11
            | (seconds % 10) << 16 | (seconds // 10) << 24 | (minutes % 10) << 32 | (minutes // 10) << 40
            | (hours % 10) << 48 | (hours // 10) << 56)
    for group in range(8):
        word |= ((user_bits >> (4 * group)) & 0xF) << (4 + 8 * group)
    bgf0, bgf2, polarity = _flag_positions(nominal_fps)
    word |= (binary_group_flags & 1) << bgf0 | ((binary_group_flags >> 1) & 1) << 58 \
        | ((binary_group_flags >> 2) & 1) << bgf2
    ones = SYNC_ONES
    for bit in range(64):
        ones += (word >> bit) & 1
    return word | (ones & 1) << polarity


@realtime_entry
def unpack_frame(word, nominal_fps):
    """(hours, minutes, seconds, frames, drop_frame, color_frame, user_bits, binary_group_flags) of a frame."""
    frames = (word & 0xF) + 10 * ((word >> 8) & 0x3)
    seconds = ((word >> 16) & 0xF) + 10 * ((word >> 24) & 0x7)
    minutes = ((word >> 32) & 0xF) + 10 * ((word >> 40) & 0x7)
    hours = ((word >> 48) & 0xF) + 10 * ((word >> 56) & 0x3)
    user_bits = 0
    for group in range(8):
        user_bits |= ((word >> (4 + 8 * group)) & 0xF) << (4 * group)
    bgf0, bgf2, _ = _flag_positions(nominal_fps)
    flags = (word >> bgf0) & 1 | ((word >> 58) & 1) << 1 | ((word >> bgf2) & 1) << 2
    return hours, minutes, seconds, frames, (word >> 10) & 1, (word >> 11) & 1, user_bits, flags


@realtime
def _is_timecode(word, nominal_fps):
    """Every BCD digit and field in range at some SMPTE rate: the guard against a sync word found in
    noise. (Whether the frame number exists at `nominal_fps` is the caller's question.)"""
    hours, minutes, seconds, frames, _, _, _, _ = unpack_frame(word, nominal_fps)
    digits_valid = ((word & 0xF) <= 9 and ((word >> 16) & 0xF) <= 9 and ((word >> 32) & 0xF) <= 9
                    and ((word >> 48) & 0xF) <= 9)
    return digits_valid and frames < MAX_FRAME_LABELS and seconds < 60 and minutes < 60 and hours < 24


@realtime_entry
def next_timecode(hours, minutes, seconds, frames, nominal_fps, drop_frame):
    """The label after (hours, minutes, seconds, frames): drop-frame rule, 24-hour wrap."""
    frames += 1
    if frames == nominal_fps:
        frames = 0
        seconds += 1
    if seconds == 60:
        seconds = 0
        minutes += 1
    if minutes == 60:
        minutes = 0
        hours += 1
    if hours == 24:
        hours = 0
    if drop_frame and frames == 0 and seconds == 0 and minutes % 10 != 0:
        frames = DROPPED_FRAME_NUMBERS
    return hours, minutes, seconds, frames


@realtime
def _frame_bit(word, bit):
    if bit < 64:
        return (word >> bit) & 1
    return (SYNC_WORD >> (bit - 64)) & 1


# Encoder.

@realtime
def _ceil_div(numerator, denominator):
    return -((-numerator) // denominator)


@realtime
def _start_next_frame(ints, index):
    """Load the word of frame `index` (counted from the encoder's origin): the next label, or
    the located one once the locate's frame has come (counted on from it if that frame has
    passed already)."""
    hours, minutes, seconds, frames = next_timecode(ints[E_HOURS], ints[E_MINUTES], ints[E_SECONDS],
                                                    ints[E_FRAMES], ints[E_NOMINAL_FPS], ints[E_DROP_FRAME])
    if ints[E_LOCATE_PENDING] and index >= ints[E_LOCATE_INDEX]:
        ints[E_LOCATE_PENDING] = 0
        hours, minutes, seconds, frames = (ints[E_LOCATE_HOURS], ints[E_LOCATE_MINUTES], ints[E_LOCATE_SECONDS],
                                           ints[E_LOCATE_FRAMES])
        for _ in range(index - ints[E_LOCATE_INDEX]):
            hours, minutes, seconds, frames = next_timecode(hours, minutes, seconds, frames, ints[E_NOMINAL_FPS],
                                                            ints[E_DROP_FRAME])
    ints[E_HOURS], ints[E_MINUTES], ints[E_SECONDS], ints[E_FRAMES] = hours, minutes, seconds, frames
    ints[E_WORD] = pack_frame(hours, minutes, seconds, frames, ints[E_NOMINAL_FPS], ints[E_DROP_FRAME],
                              ints[E_USER_BITS])


@realtime
def _advance_edge(ints):
    """Move to the next transition: every cell boundary, and mid-cell in a one."""
    half_cell = ints[E_HALF_CELL] + 1
    if half_cell % 2 == 1 and _frame_bit(ints[E_WORD], (half_cell % HALF_CELLS_PER_FRAME) // 2) == 0:
        half_cell += 1
    if half_cell % HALF_CELLS_PER_FRAME == 0:
        _start_next_frame(ints, half_cell // HALF_CELLS_PER_FRAME)
    ints[E_HALF_CELL] = half_cell
    ints[E_NEXT_EDGE] = _ceil_div(half_cell * ints[E_HALF_CELL_SAMPLES_NUM], ints[E_HALF_CELL_SAMPLES_DEN])


@realtime_entry
def ltc_encode(out, ints, floats):
    """Write the next len(out) samples of LTC. Each transition is a raised-cosine ramp
    centred half a sample before the first sample of its cell."""
    amplitude = floats[E_AMPLITUDE]
    half_width = floats[E_RAMP_HALF_WIDTH]
    for i in range(out.shape[0]):
        sample = ints[E_SAMPLE]
        # Bounded: `encoder_state` keeps edges at least a sample (and a ramp's width) apart, and the
        # sample moves one at a time, so one edge at most is passed here.
        while sample - ints[E_NEXT_EDGE] + 0.5 >= half_width:
            ints[E_LEVEL] = -ints[E_LEVEL]
            _advance_edge(ints)
        from_centre = sample - ints[E_NEXT_EDGE] + 0.5
        level = float(ints[E_LEVEL])
        if from_centre > -half_width:
            level *= math.cos(0.5 * math.pi * (from_centre + half_width) / half_width)
        out[i] = amplitude * level
        ints[E_SAMPLE] = sample + 1


@realtime_entry
def ltc_encoder_locate(ints, hours, minutes, seconds, frames, index):
    """Give frame `index` (counted from the encoder's origin, sample 0) this timecode: a jump; the
    labels count on from there. Should that frame have begun already, the frames after it carry
    the labels that follow, so the timecode stays where the locate put it."""
    ints[E_LOCATE_HOURS], ints[E_LOCATE_MINUTES], ints[E_LOCATE_SECONDS], ints[E_LOCATE_FRAMES] = \
        hours, minutes, seconds, frames
    ints[E_LOCATE_INDEX] = index
    ints[E_LOCATE_PENDING] = 1


# Decoder.

@realtime
def _lose_sync(at, ints, floats):
    """Drop the bits gathered so far; the next cell starts `at`."""
    ints[DI_RUN] = 0
    ints[DI_HALF_PENDING] = 0
    floats[D_CELL_START] = at
    nominal = floats[D_NOMINAL_BIT_PERIOD]
    if at - floats[D_LAST_FRAME_END] > RESET_PERIOD_AFTER_FRAMES * BITS_PER_FRAME * nominal:
        floats[D_BIT_PERIOD] = nominal  # a wrong period must not outlive the signal it came from


@realtime
def _starts_a_second(frames, seconds, drop_frame):
    """Whether a label can be the first of its second (most drop-frame minutes begin at frame 2)."""
    return frames == 0 or (drop_frame != 0 and frames == DROPPED_FRAME_NUMBERS and seconds == 0)


@realtime
def _hear_rate(word, first_cell_start, end, reverse, ints, floats):
    """Learn the rate the signal runs at from a valid frame, whatever rate the decoder expects: the
    length of frames heard in a row, and the labels a second, once the seconds roll over between
    two frames heard back to back (the wrap of 23, 24 or 29 tells 24, 25 or 30 labels)."""
    _, _, seconds, frames, drop_frame, _, _, _ = unpack_frame(word, ints[DI_NOMINAL_FPS])
    length = end - first_cell_start
    in_a_row = abs(first_cell_start - floats[D_LAST_FRAME_END]) < 0.5 * floats[D_BIT_PERIOD] \
        and reverse == ints[DI_LAST_REVERSE]
    if in_a_row:
        floats[D_FRAME_LENGTH] += FRAME_LENGTH_TRACKING * (length - floats[D_FRAME_LENGTH])
        last_frames = ints[DI_LAST_FRAMES]
        last_seconds = ints[DI_LAST_SECONDS]
        if reverse == 0 and seconds == (last_seconds + 1) % 60 and _starts_a_second(frames, seconds, drop_frame):
            ints[DI_LABELS_HEARD] = last_frames + 1
        elif reverse != 0 and last_seconds == (seconds + 1) % 60 and _starts_a_second(last_frames, last_seconds,
                                                                                       drop_frame):
            ints[DI_LABELS_HEARD] = frames + 1
    else:
        floats[D_FRAME_LENGTH] = length
    ints[DI_DROP_FRAME_HEARD] = drop_frame
    ints[DI_LAST_FRAMES] = frames
    ints[DI_LAST_SECONDS] = seconds
    ints[DI_LAST_REVERSE] = reverse


@realtime
def _report(word, first_cell_start, end, reverse, ints, floats, frames_out, rows):
    """Write a frame whose cells span first_cell_start to end, if it holds a valid timecode at the
    decoder's rate; a valid frame at another rate is only heard (see _hear_rate)."""
    nominal_fps = ints[DI_NOMINAL_FPS]
    if not _is_timecode(word, nominal_fps):
        return rows
    _hear_rate(word, first_cell_start, end, reverse, ints, floats)
    floats[D_LAST_FRAME_END] = end
    hours, minutes, seconds, frames, drop_frame, color_frame, user_bits, flags = unpack_frame(word, nominal_fps)
    if frames >= nominal_fps:
        return rows  # a label this rate does not have
    if rows == frames_out.shape[0]:
        ints[DI_FRAMES_LOST] += 1
        return rows
    row = frames_out[rows]
    row[F_START] = (end if reverse else first_cell_start) + 0.5  # the first sample past the crossing
    row[F_HOURS], row[F_MINUTES], row[F_SECONDS], row[F_FRAMES] = hours, minutes, seconds, frames
    row[F_DROP_FRAME], row[F_COLOR_FRAME], row[F_USER_BITS], row[F_BINARY_GROUP_FLAGS] = \
        drop_frame, color_frame, user_bits, flags
    row[F_REVERSE] = reverse
    row[F_DURATION] = end - first_cell_start
    return rows + 1


@realtime
def _push_bit(bit, edge, ints, floats, frames_out, rows):
    """Add a bit whose cell ends at `edge`; report a frame when 80 valid bits end or begin with a sync word."""
    count = ints[DI_BIT_COUNT]
    floats[D_CELL_STARTS + (count & (BIT_RING - 1))] = floats[D_CELL_START]
    floats[D_CELL_START] = edge
    ints[DI_BIT_COUNT] = count + 1
    forward_high = ints[DI_FORWARD_HIGH]
    forward_low = ((ints[DI_FORWARD_LOW] >> 1) & LOW_63_BITS) | (forward_high & 1) << 63
    forward_high = (forward_high >> 1) | bit << 15
    reverse_low = ints[DI_REVERSE_LOW]
    reverse_high = ((ints[DI_REVERSE_HIGH] << 1) | ((reverse_low >> 63) & 1)) & 0xFFFF
    reverse_low = (reverse_low << 1) | bit
    ints[DI_FORWARD_LOW], ints[DI_FORWARD_HIGH] = forward_low, forward_high
    ints[DI_REVERSE_LOW], ints[DI_REVERSE_HIGH] = reverse_low, reverse_high
    ints[DI_RUN] += 1
    if ints[DI_RUN] < BITS_PER_FRAME:
        return rows
    first_cell_start = floats[D_CELL_STARTS + ((count - (BITS_PER_FRAME - 1)) & (BIT_RING - 1))]
    if forward_high == SYNC_WORD:
        return _report(forward_low, first_cell_start, edge, 0, ints, floats, frames_out, rows)
    if reverse_high == SYNC_WORD:
        return _report(reverse_low, first_cell_start, edge, 1, ints, floats, frames_out, rows)
    return rows


@realtime
def _on_edge(edge, ints, floats, frames_out, rows):
    """Classify the interval since the last edge as a half cell, a full cell or a loss of sync."""
    previous_edge = floats[D_LAST_EDGE]
    floats[D_LAST_EDGE] = edge
    interval = edge - previous_edge
    period = floats[D_BIT_PERIOD]
    if interval < SHORTEST_HALF_CELL * period or interval > LONGEST_CELL * period:
        _lose_sync(edge, ints, floats)
        return rows
    if interval < HALF_OR_FULL * period:
        cell = 2.0 * interval
        bit = 1
        ints[DI_HALF_PENDING] ^= 1
        complete = ints[DI_HALF_PENDING] == 0  # a one ends with its second half
    else:
        cell = interval
        bit = 0
        if ints[DI_HALF_PENDING]:
            _lose_sync(previous_edge, ints, floats)  # a lone half cell: the halves were paired wrongly
        complete = True
    nominal = floats[D_NOMINAL_BIT_PERIOD]
    period += PERIOD_TRACKING * (cell - period)
    floats[D_BIT_PERIOD] = min(max(period, nominal / SPEED_RANGE), nominal * SPEED_RANGE)
    if not complete:
        return rows
    return _push_bit(bit, edge, ints, floats, frames_out, rows)


@realtime_entry
def ltc_decode(samples, first_sample, ints, floats, frames_out):
    """Decode a block whose first sample is `first_sample` of the stream; write each frame
    completed in it as a row of frames_out (see F_*) and return how many rows were written.
    Frames beyond the rows available are counted in ints[DI_FRAMES_LOST].

    Edges come from a Schmitt trigger around the midpoint of two peak envelopes (instant
    attack, slow release), so level, offset and polarity do not matter; each edge is dated
    by the last midpoint crossing before the trigger, interpolated between samples. The
    interval between edges, against a tracked bit period, is a half cell, a full cell or a
    loss of sync. A frame is reported after 80 bits in a row that end with the sync word
    (forward) or begin with it reversed (reverse play), and only if its BCD is valid."""
    rows = 0
    release = floats[D_RELEASE_COEFF]
    high = floats[D_ENVELOPE_HIGH]
    low = floats[D_ENVELOPE_LOW]
    previous = floats[D_PREVIOUS_OFFSET]
    for i in range(samples.shape[0]):
        x = float(samples[i])
        high = x if x > high else high + (x - high) * release
        low = x if x < low else low + (x - low) * release
        if abs(high) < DENORMAL_FLOOR:
            high = 0.0
        if abs(low) < DENORMAL_FLOOR:
            low = 0.0
        offset = x - 0.5 * (high + low)
        hysteresis = max(HYSTERESIS * 0.5 * (high - low), MIN_HYSTERESIS)
        if (previous <= 0.0 < offset) or (previous >= 0.0 > offset):
            crossing = first_sample + i - 1 + previous / (previous - offset)
            floats[D_LAST_RISE if offset > 0.0 else D_LAST_FALL] = crossing
        if ints[DI_LEVEL] <= 0 and offset > hysteresis:
            ints[DI_LEVEL] = 1
            rows = _on_edge(floats[D_LAST_RISE], ints, floats, frames_out, rows)
        elif ints[DI_LEVEL] >= 0 and offset < -hysteresis:
            ints[DI_LEVEL] = -1
            rows = _on_edge(floats[D_LAST_FALL], ints, floats, frames_out, rows)
        previous = offset
    floats[D_ENVELOPE_HIGH] = high
    floats[D_ENVELOPE_LOW] = low
    floats[D_PREVIOUS_OFFSET] = previous
    return rows


# Python side: state construction and whole-signal convenience.

def nominal_fps(fps: tuple[int, int]) -> int:
    """Frame labels per timecode second: 30 at 30000/1001."""
    num, den = fps
    return -(-num // den)


def _check_rate(fps: tuple[int, int], drop_frame: bool) -> None:
    num, den = fps
    if num <= 0 or den <= 0:
        raise ValueError(f"frame rate {num}/{den} must be positive")
    if drop_frame and nominal_fps(fps) != 30:
        raise ValueError(f"drop-frame timecode needs a rate of 30 nominal frames, not {num}/{den}")


def encoder_state(sample_rate: int, fps: tuple[int, int], start: tuple[int, int, int, int], drop_frame: bool = False,
                  user_bits: int = 0, level_dbfs: float = DEFAULT_LEVEL_DBFS,
                  rise_seconds: float = DEFAULT_RISE_SECONDS) -> tuple[np.ndarray, np.ndarray]:
    """(ints, floats) of an encoder whose sample 0 starts the frame labelled `start` (h, m, s, f).

    The encoder counts the labels on itself; `ltc_encoder_locate` jumps, and a new
    ints[E_USER_BITS] applies from the next frame."""
    _check_rate(fps, drop_frame)
    num, den = fps
    half_cell_samples = Fraction(sample_rate * den, HALF_CELLS_PER_FRAME * num)
    ramp_width = rise_seconds / RAISED_COSINE_RISE_FRACTION * sample_rate
    if ramp_width > math.floor(half_cell_samples):  # one edge at a time: a ramp ends before the next begins
        raise ValueError(f"a rise time of {rise_seconds * 1e6:.0f} us is longer than half a bit cell")
    ints = np.zeros(ENCODER_INTS, np.int64)
    ints[E_HALF_CELL_SAMPLES_NUM] = half_cell_samples.numerator
    ints[E_HALF_CELL_SAMPLES_DEN] = half_cell_samples.denominator
    ints[E_NOMINAL_FPS] = nominal_fps(fps)
    ints[E_DROP_FRAME] = drop_frame
    ints[E_USER_BITS] = user_bits
    ints[E_HOURS], ints[E_MINUTES], ints[E_SECONDS], ints[E_FRAMES] = start
    # As Python (no numba needed to set up), the word's 64 bits as an unbounded int: stored as numba's int64 holds them.
    word = pack_frame.as_python(*start, nominal_fps(fps), int(drop_frame), user_bits)
    ints[E_WORD] = np.uint64(word).astype(np.int64)
    ints[E_LEVEL] = -1  # the level before the first edge, at sample 0
    floats = np.zeros(ENCODER_FLOATS, np.float64)
    floats[E_AMPLITUDE] = 10.0 ** (level_dbfs / 20.0)
    floats[E_RAMP_HALF_WIDTH] = 0.5 * ramp_width
    return ints, floats


def decoder_state(sample_rate: int, fps: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(ints, floats) of a decoder expecting `fps` (the drop-frame flag is read from the frames)."""
    _check_rate(fps, False)
    num, den = fps
    floats = np.zeros(DECODER_FLOATS, np.float64)
    floats[D_NOMINAL_BIT_PERIOD] = floats[D_BIT_PERIOD] = sample_rate * den / (BITS_PER_FRAME * num)
    floats[D_RELEASE_COEFF] = 1.0 - math.exp(-1.0 / (ENVELOPE_RELEASE_SECONDS * sample_rate))
    floats[D_LAST_EDGE] = floats[D_LAST_FRAME_END] = -np.inf
    ints = np.zeros(DECODER_INTS, np.int64)
    ints[DI_NOMINAL_FPS] = nominal_fps(fps)  # DI_LEVEL 0: the first swing either way is an edge
    return ints, floats


@dataclass(frozen=True)
class RateHeard:
    """The rate a decoder's signal runs at, by its own labels and length."""

    labels: int  # frame labels a second: 24, 25 or 30
    fps: Fraction | None  # labels, or labels * 1000/1001; None when its speed is neither (varispeed)
    drop_frame: bool


PULLDOWN = Fraction(1000, 1001)
PULLDOWN_TOLERANCE = 0.0003  # the rates with and without pulldown are 0.1 % apart


def rate_heard(ints: np.ndarray, floats: np.ndarray, sample_rate: int) -> RateHeard | None:
    """What the decoder has heard of the signal's rate; None until its seconds have rolled over.
    Its labels name 24, 25 or 30; its frame length tells 23.976 from 24 and 29.97 from 30."""
    labels = int(ints[DI_LABELS_HEARD])
    length = float(floats[D_FRAME_LENGTH])
    if labels == 0 or length <= 0.0:
        return None
    measured = sample_rate / length
    candidates = (Fraction(labels), labels * PULLDOWN) if labels in (24, 30) else (Fraction(labels),)
    fps = next((rate for rate in candidates if abs(measured / rate - 1) < PULLDOWN_TOLERANCE), None)
    return RateHeard(labels, fps, bool(ints[DI_DROP_FRAME_HEARD]))


def frames_per_block(block: int, sample_rate: int, fps: tuple[int, int]) -> int:
    """Rows enough for every frame one decoded block can complete, at the fastest tracked speed."""
    num, den = fps
    shortest_frame = sample_rate * den / (num * SPEED_RANGE)
    return int(block // shortest_frame) + 1


@dataclass(frozen=True)
class LtcFrame:
    hours: int
    minutes: int
    seconds: int
    frames: int
    drop_frame: bool
    start_sample: float  # see the module's docstring; fractional
    reverse: bool = False
    user_bits: int = 0
    color_frame: bool = False
    binary_group_flags: int = 0
    duration: float = 0.0  # the frame's length in samples: nominal length / duration is its speed

    @property
    def first_sample(self) -> float:
        """Where the frame begins in the recording, in the order heard (as libltc reports it): its
        start in forward play; in reverse play the edge its last bit is heard from, `duration`
        before its start."""
        return self.start_sample - self.duration if self.reverse else self.start_sample

    @property
    def timecode(self) -> str:
        """HH:MM:SS:FF, with ';' before the frames in drop-frame."""
        separator = ";" if self.drop_frame else ":"
        return f"{self.hours:02d}:{self.minutes:02d}:{self.seconds:02d}{separator}{self.frames:02d}"


ENCODE_BLOCK = 256
DECODE_BLOCK = 256


def encode_ltc(start: tuple[int, int, int, int], fps: tuple[int, int], seconds: float, sample_rate: int,
               drop_frame: bool = False, level_dbfs: float = DEFAULT_LEVEL_DBFS, user_bits: int = 0,
               rise_seconds: float = DEFAULT_RISE_SECONDS) -> np.ndarray:
    """`seconds` of LTC from the frame labelled `start` (hours, minutes, seconds, frames), as float32."""
    ints, floats = encoder_state(sample_rate, fps, start, drop_frame, user_bits, level_dbfs, rise_seconds)
    audio = np.empty(round(seconds * sample_rate), np.float32)
    for begin in range(0, len(audio), ENCODE_BLOCK):
        ltc_encode(audio[begin:begin + ENCODE_BLOCK], ints, floats)
    return audio


def decode_ltc(audio: np.ndarray, sample_rate: int, fps: tuple[int, int]) -> list[LtcFrame]:
    """Every frame in a mono signal, in the order heard."""
    audio = np.ascontiguousarray(audio, np.float32)
    ints, floats = decoder_state(sample_rate, fps)
    rows = np.zeros((frames_per_block(DECODE_BLOCK, sample_rate, fps), FRAME_FIELDS))
    decoded = []
    for begin in range(0, len(audio), DECODE_BLOCK):
        count = ltc_decode(audio[begin:begin + DECODE_BLOCK], begin, ints, floats, rows)
        decoded += [_frame_of_row(row) for row in rows[:count]]
    return decoded


def _frame_of_row(row: np.ndarray) -> LtcFrame:
    return LtcFrame(hours=int(row[F_HOURS]), minutes=int(row[F_MINUTES]), seconds=int(row[F_SECONDS]),
                    frames=int(row[F_FRAMES]), drop_frame=bool(row[F_DROP_FRAME]), start_sample=float(row[F_START]),
                    reverse=bool(row[F_REVERSE]), user_bits=int(row[F_USER_BITS]),
                    color_frame=bool(row[F_COLOR_FRAME]), binary_group_flags=int(row[F_BINARY_GROUP_FLAGS]),
                    duration=float(row[F_DURATION]))
