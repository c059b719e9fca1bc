"""MIDI Time Code: read it into the engine's chase, and send it as the timecode master.

MTC carries a timecode in eight quarter-frame messages (``F1 0ppp nnnn``: piece p, nibble
n), four per frame, so one full sequence spans two frames:

    piece  0, 1: frames (low, high nibble)      piece  4, 5: minutes
    piece  2, 3: seconds                        piece  6, 7: hours, and the rate code

Pieces 0 and 4 arrive on frame boundaries. The timecode a sequence carries is that of the
frame in which its piece 0 was sent, so it is complete only 1.75 frames later, when piece 7
arrives: the frame that the next piece 0 begins is then that timecode + 2. From there on
every fourth piece begins the next frame, so once in sync the reader reports every frame at
the very piece that begins it (not only every second frame, and with no delay), and each
completed sequence re-anchors the count. In reverse play the pieces arrive 7 to 0 and the
sequence carries the frame in which piece 7 was sent; pieces 7 and 3 are the boundaries.

A locate is a full-frame SysEx, ``F0 7F <device> 01 01 hr mn sc fr F7``. Both forms put a
rate code in bits 5-6 of the hours: 0 = 24, 1 = 25, 2 = 29.97 drop-frame, 3 = 30 fps. MTC
cannot tell 23.976 from 24 nor 29.97 non-drop from 30: the show's configured rate decides
those; a code that contradicts it is reported once as a warning.

MTC rides on MIDI and reaches Python late and jittered; the reader dates a frame by the
arrival of the message that begins it, and the engine's sample clock maps that time to a
sample. Chase filters the jitter out of the line over many frames.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator, Sequence

from ..engine.core import rate_mismatch_text
from ..timecode import RATES, FrameRate, Timecode
from .ports import open_midi_input

__all__ = ["MtcFrame", "MtcReader", "MtcInput", "MtcSender", "open_mtc_input", "quarter_frames", "full_frame",
           "sender_locked_to_engine"]

log = logging.getLogger(__name__)

QUARTER_FRAME = 0xF1
SYSEX_START, SYSEX_END = 0xF0, 0xF7
REAL_TIME_UNIVERSAL, ALL_DEVICES = 0x7F, 0x7F
MTC_FULL_FRAME = (0x01, 0x01)  # sub-IDs: MTC, full message
PIECES = 8
FORWARD, REVERSE = 1, -1
NS_PER_SECOND = 1_000_000_000

# Indexed by the rate code in bits 5-6 of the hours byte.
MTC_RATES = (RATES["24"], RATES["25"], RATES["29.97df"], RATES["30"])

# Quarter frames come a quarter of a frame apart; a longer silence than this means the
# stream stopped, and the pieces after it may not continue the count (a locate in between).
PAUSE_FRAMES = 2


@dataclass(frozen=True)
class MtcFrame:
    """One frame of MTC, as the chase needs it.

    `start_ns` is the arrival time of the message that begins the frame. In reverse play it
    is where the frame *would* begin if played forward (the moment it is left for the one
    before), as the LTC decoder reports a frame heard in reverse: the chase line then
    passes through (start, frame count) in both directions.
    """

    timecode: Timecode
    start_ns: int | Fraction
    reverse: bool = False
    located: bool = False  # a full-frame locate, not part of running timecode


def _rate_code(rate: FrameRate) -> int:
    return next(code for code, mtc_rate in enumerate(MTC_RATES)
                if (mtc_rate.nominal, mtc_rate.drop_frame) == (rate.nominal, rate.drop_frame))


def _field_bytes(timecode: Timecode) -> tuple[int, int, int, int]:
    """(frames, seconds, minutes, hours with the rate code): the order of the pieces."""
    hours, minutes, seconds, frames = timecode.fields
    return frames, seconds, minutes, _rate_code(timecode.rate) << 5 | hours


def full_frame(timecode: Timecode, device: int = ALL_DEVICES) -> bytes:
    """The full-frame SysEx that locates receivers to `timecode`."""
    frames, seconds, minutes, hours = _field_bytes(timecode)
    return bytes((SYSEX_START, REAL_TIME_UNIVERSAL, device, *MTC_FULL_FRAME,
                  hours, minutes, seconds, frames, SYSEX_END))


def quarter_frames(start: Timecode, reverse: bool = False) -> Iterator[tuple[Fraction, bytes]]:
    """Running MTC from `start`, endless: (seconds after the start, quarter-frame message).

    Forward, piece 0 of the first sequence begins frame `start` at time 0; in reverse,
    piece 7 enters it. Messages are exactly 1/(4 fps) apart and wrap around midnight.
    """
    quarter = 1 / (4 * start.rate.fps)
    direction = REVERSE if reverse else FORWARD
    pieces = range(PIECES - 1, -1, -1) if reverse else range(PIECES)
    for sequence in itertools.count():
        nibbles = [nibble for byte in _field_bytes(start + direction * 2 * sequence)
                   for nibble in (byte & 0x0F, byte >> 4)]
        for index, piece in enumerate(pieces):
            yield (PIECES * sequence + index) * quarter, bytes((QUARTER_FRAME, piece << 4 | nibbles[piece]))


class MtcReader:
    """Decodes MTC messages into frames at the show's rate. Pure: no I/O, no clock of its own.

    Feed every MIDI message with its arrival time; `feed` returns the frame that message
    begins, if any. Pieces that skip, repeat or turn back discard the partial sequence, and
    nothing is reported until a whole sequence has arrived in order again.
    """

    def __init__(self, rate: FrameRate):
        self.rate = rate
        self.rate_mismatch: str | None = None  # the warning, once a rate code contradicted `rate`
        self._pause_ns = PAUSE_FRAMES * NS_PER_SECOND / rate.fps
        self._nibbles = [0] * PIECES
        self._previous_piece: int | None = None
        self._previous_arrival_ns = 0
        self._direction = 0  # FORWARD or REVERSE once two pieces agree, 0 before
        self._run = 0  # pieces in a row, each one step on from the last in `_direction`
        self._next_frame: Timecode | None = None  # what the next boundary piece begins; None out of sync

    def feed(self, message: Sequence[int], arrival_ns: int | Fraction) -> MtcFrame | None:
        if len(message) == 2 and message[0] == QUARTER_FRAME:
            return self._quarter_frame(message[1], arrival_ns)
        if (len(message) == 10 and message[0] == SYSEX_START and message[1] == REAL_TIME_UNIVERSAL
                and tuple(message[3:5]) == MTC_FULL_FRAME and message[9] == SYSEX_END):
            return self._locate(message[5:9], arrival_ns)
        return None

    def _quarter_frame(self, data: int, arrival_ns) -> MtcFrame | None:
        piece, nibble = data >> 4 & 0x07, data & 0x0F
        step = self._step_to(piece, arrival_ns)
        if step and self._direction in (0, step):
            self._run += 1
            self._direction = step
        else:
            self._run, self._direction, self._next_frame = 1, 0, None
        self._previous_piece, self._previous_arrival_ns = piece, arrival_ns
        self._nibbles[piece] = nibble

        forward = self._direction == FORWARD
        if self._run >= PIECES and piece == (PIECES - 1 if forward else 0):
            self._complete_sequence()
        elif self._next_frame is not None and piece in ((0, 4) if forward else (7, 3)):  # frame boundaries
            frame = MtcFrame(self._next_frame, arrival_ns, reverse=self._direction == REVERSE)
            self._next_frame += self._direction
            return frame
        return None

    def _step_to(self, piece: int, arrival_ns) -> int:
        """FORWARD or REVERSE if `piece` continues the stream from the previous one, else 0."""
        if self._previous_piece is None or arrival_ns - self._previous_arrival_ns > self._pause_ns:
            return 0
        return {1: FORWARD, PIECES - 1: REVERSE}.get((piece - self._previous_piece) % PIECES, 0)

    def _complete_sequence(self):
        nibbles = self._nibbles
        carried = self._timecode(*(nibbles[i] | nibbles[i + 1] << 4 for i in range(0, PIECES, 2)))
        if carried is None:
            self._next_frame = None
        elif self._direction == FORWARD:
            # Piece 0 began `carried`, piece 4 the frame after; the next piece 0 begins the one after that.
            self._next_frame = carried + 2
        else:
            # Piece 7 entered `carried`, piece 3 the frame before it; the next piece 7 leaves that
            # frame at its forward start, which is where it is reported.
            self._next_frame = carried - 1

    def _locate(self, field_bytes: Sequence[int], arrival_ns) -> MtcFrame | None:
        # A locate is a jump: quarter frames counted before it say nothing about after it.
        self._run, self._direction, self._next_frame = 0, 0, None
        self._previous_piece = None
        timecode = self._timecode(*reversed(field_bytes))
        return None if timecode is None else MtcFrame(timecode, arrival_ns, located=True)

    def _timecode(self, frames: int, seconds: int, minutes: int, hours: int) -> Timecode | None:
        """The timecode of the four field bytes at the configured rate; None if no such label."""
        self._check_rate(MTC_RATES[hours >> 5 & 0x03])
        try:
            return Timecode.from_fields(hours & 0x1F, minutes & 0x3F, seconds & 0x3F, frames & 0x1F, self.rate)
        except ValueError:
            return None

    def _check_rate(self, received: FrameRate):
        if self.rate_mismatch is None and (received.nominal, received.drop_frame) != (
                self.rate.nominal, self.rate.drop_frame):
            self.rate_mismatch = (f"{rate_mismatch_text('MTC', received.name, self.rate.name)}: check the "
                                  f"media server's frame rate (frames are read at {self.rate.name})")
            log.warning(self.rate_mismatch)


class MtcInput:
    """MTC from MIDI into the engine: each frame posted to the chase with the sample it started at.

    `handle` runs on the MIDI input thread, which must be the only thread posting through
    `producer`.
    """

    def __init__(self, producer, clock, rate: FrameRate):
        self.reader = MtcReader(rate)
        self._producer = producer
        self._clock = clock

    def handle(self, message: Sequence[int], arrival_ns: int):
        frame = self.reader.feed(message, arrival_ns)
        # Until the stream runs there is no sample to date a frame by.
        if frame is not None and self._clock.running:
            self._producer.timecode_frame(frame.timecode.frame_count, self._clock.sample_at(frame.start_ns))


def open_mtc_input(mtc_input: MtcInput, port_pattern: str, api: int | None = None,
                   client_name: str = "liveengine MTC"):
    """A python-rtmidi MidiIn on the first port whose name matches `port_pattern`, feeding `mtc_input`."""
    return open_midi_input(port_pattern, mtc_input.handle, api=api, client_name=client_name, port_name="mtc in",
                           timing=True)


class MtcSender:
    """Sends running MTC from `start` on a python-rtmidi MidiOut: a full frame to locate the
    receivers, then quarter frames, each on time, from a control-plane thread of its own.

    `send_time_ns(seconds)` says when (CLOCK_MONOTONIC) the moment `seconds` after the start
    of frame `start` comes: by default the sender's own clock from `start()` on (`origin_ns`);
    the engine passes its sample clock, so MTC stays with the audio (and any LTC it generates).
    """

    def __init__(self, midi_out, start: Timecode, reverse: bool = False, send_time_ns=None):
        self.start_timecode = start
        self.reverse = reverse
        self.origin_ns: int | None = None
        self._send_time_ns = send_time_ns or (lambda seconds: self.origin_ns + round(seconds * NS_PER_SECOND))
        self._midi_out = midi_out
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liveengine-mtc-out", daemon=True)

    def start(self) -> "MtcSender":
        self.origin_ns = time.monotonic_ns()
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._thread.join()

    def __enter__(self) -> "MtcSender":
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def schedule(self) -> Iterator[tuple[int, bytes]]:
        """The quarter frames, endless, each with the time (CLOCK_MONOTONIC ns) it is due."""
        for send_seconds, message in quarter_frames(self.start_timecode, self.reverse):
            yield self._send_time_ns(send_seconds), message

    def _run(self):
        self._midi_out.send_message(full_frame(self.start_timecode))
        for due_ns, message in self.schedule():
            if self._stopping.wait(max(0, due_ns - time.monotonic_ns()) / NS_PER_SECOND):
                return
            self._midi_out.send_message(message)


def sender_locked_to_engine(midi_out, timecode: Timecode, at_sample: int, clock, sample_rate: int,
                            after_sample: int) -> MtcSender:
    """MTC of the engine's timeline as timecode master (frame `timecode` starting on engine sample
    `at_sample`, frame k at k frame periods later, as the generated LTC), from the first frame
    that starts at or after `after_sample`, each quarter frame timed by the engine's sample clock."""
    fps = timecode.rate.fps
    first = math.ceil(Fraction(after_sample - at_sample) * fps / sample_rate)
    first_sample = at_sample + first * sample_rate / fps
    return MtcSender(midi_out, timecode + first,
                     send_time_ns=lambda seconds: clock.monotonic_ns_at(float(first_sample + seconds * sample_rate)))
