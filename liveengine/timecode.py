"""SMPTE timecode: labels, frame counts, seconds and samples, exactly.

A timecode is stored as the number of frames since 00:00:00:00; its label (HH:MM:SS:FF)
and its real time are derived from that count. Labels count `nominal` frames per timecode
second (30 at 29.97), so at the 1000/1001 rates timecode runs slow against the clock:
one hour of 29.97 non-drop or 23.976 timecode lasts 3603.6 s. Drop-frame skips labels to
stay with the clock, so its label sequence has gaps but its frame count does not.

All arithmetic is in integers and Fractions: a frame's start maps to an exact sample
position, with no rounding until the caller decides how to round.
"""

import math
import numbers
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import total_ordering

SECONDS_PER_DAY = 24 * 60 * 60

# 29.97 drop-frame skips labels ;00 and ;01 at the start of every minute except each tenth.
# Ten minutes at 30000/1001 fps are 17982.018 frames, so dropping 18 of the 18000 labels
# keeps the label within 86 ms a day of the clock.
DROPPED_LABELS_PER_MINUTE = 2
FRAMES_PER_KEPT_MINUTE = 60 * 30  # minutes 00, 10, 20, ... keep every label
FRAMES_PER_DROPPING_MINUTE = FRAMES_PER_KEPT_MINUTE - DROPPED_LABELS_PER_MINUTE  # 1798
FRAMES_PER_TEN_MINUTES = FRAMES_PER_KEPT_MINUTE + 9 * FRAMES_PER_DROPPING_MINUTE  # 17982


@dataclass(frozen=True)
class FrameRate:
    """One of the six SMPTE rates in RATES; obtain them there or through frame_rate()."""

    name: str
    fps: Fraction  # real frames per second
    nominal: int  # frame labels per timecode second
    drop_frame: bool

    @property
    def fps_ratio(self) -> tuple[int, int]:
        """The rate as (numerator, denominator) integers, as the real-time kernels take it."""
        return self.fps.numerator, self.fps.denominator

    def frames_per_day(self) -> int:
        """The frame count at which timecode wraps: the frame that would be labelled 24:00:00:00."""
        return _frame_count_of_label(SECONDS_PER_DAY * self.nominal, self)


RATES: dict[str, FrameRate] = {rate.name: rate for rate in (
    FrameRate("23.976", Fraction(24000, 1001), 24, drop_frame=False),
    FrameRate("24", Fraction(24), 24, drop_frame=False),
    FrameRate("25", Fraction(25), 25, drop_frame=False),
    FrameRate("29.97df", Fraction(30000, 1001), 30, drop_frame=True),
    FrameRate("29.97", Fraction(30000, 1001), 30, drop_frame=False),
    FrameRate("30", Fraction(30), 30, drop_frame=False),
)}

# Other spellings of the rates, once lower-cased and stripped of spaces, '-' and '_'.
# A "df" or "ndf" suffix is read separately, so it can be checked against the rate.
_RATE_SPELLINGS = {
    "23.976": "23.976", "23.98": "23.976", "23976": "23.976", "2398": "23.976", "24000/1001": "23.976",
    "24": "24",
    "25": "25",
    "29.97": "29.97", "2997": "29.97", "30000/1001": "29.97",
    "30": "30",
}


def frame_rate(text: str) -> FrameRate:
    """The rate named by `text`: a name in RATES, or a common spelling such as '23.98' or '29.97 DF'."""
    # Spaces, "_" and "-" may stand around a drop-frame suffix, never in the number: "-25" is no rate.
    spelling = re.fullmatch(r"\s*(.*?)(?:[\s_-]*(n?df))?\s*", text.lower())
    base, suffix = spelling.groups()
    if base not in _RATE_SPELLINGS:
        raise ValueError(f"unknown frame rate {text!r}: expected one of {', '.join(RATES)}")
    name = _RATE_SPELLINGS[base]
    if suffix == "df":
        if name != "29.97":
            raise ValueError(f"frame rate {text!r}: only 29.97 has a drop-frame timecode (29.97df)")
        name = "29.97df"
    return RATES[name]


# Label index: a label's position in the gapless sequence 00:00:00:00, 00:00:00:01, ...,
# counting `nominal` labels per second. It equals the frame count except in drop-frame.

def _frame_count_of_label(label_index: int, rate: FrameRate) -> int:
    if not rate.drop_frame:
        return label_index
    minutes = label_index // FRAMES_PER_KEPT_MINUTE
    dropping_minutes = minutes - minutes // 10
    return label_index - DROPPED_LABELS_PER_MINUTE * dropping_minutes


def _label_of_frame_count(frame_count: int, rate: FrameRate) -> int:
    if not rate.drop_frame:
        return frame_count
    tens, frame_in_ten = divmod(frame_count, FRAMES_PER_TEN_MINUTES)
    if frame_in_ten < FRAMES_PER_KEPT_MINUTE:
        dropping_minutes = 0
    else:
        dropping_minutes = 1 + (frame_in_ten - FRAMES_PER_KEPT_MINUTE) // FRAMES_PER_DROPPING_MINUTE
    return frame_count + DROPPED_LABELS_PER_MINUTE * (9 * tens + dropping_minutes)


# ';' (or ',' or '.') before the frames is how drop-frame timecode is written.
_TIMECODE_SYNTAX = re.compile(r"(\d\d):(\d\d):(\d\d)([:;,.])(\d\d)", re.ASCII)  # "٠١" is no hour


@total_ordering
@dataclass(frozen=True)
class Timecode:
    """A frame of the 24-hour timecode day at one rate.

    Timecodes of one rate order by frame count; ordering or subtracting timecodes of
    different rates is a ValueError, since equal counts mean different times.
    """

    frame_count: int  # frames since 00:00:00:00
    rate: FrameRate

    def __post_init__(self):
        if not isinstance(self.frame_count, int) or isinstance(self.frame_count, bool):
            raise TypeError(f"frame_count must be an int, not {type(self.frame_count).__name__}")
        if not 0 <= self.frame_count < self.rate.frames_per_day():
            raise ValueError(f"frame count {self.frame_count} is outside the day at {self.rate.name} "
                             f"(0 to {self.rate.frames_per_day() - 1}); use from_frames to wrap")

    @classmethod
    def parse(cls, text: str, rate: FrameRate) -> "Timecode":
        """Read 'HH:MM:SS:FF', or 'HH:MM:SS;FF' for drop-frame.

        A drop-frame separator (';', ',' or '.') is refused at a non-drop rate, where it
        would say the count is something it is not; ':' is accepted at 29.97df, since many
        tools write colons throughout.
        """
        match = _TIMECODE_SYNTAX.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"not a timecode: {text!r} "
                             f"(expected HH:MM:SS:FF, or HH:MM:SS;FF for drop-frame)")
        hours, minutes, seconds, separator, frames = match.groups()
        if separator != ":" and not rate.drop_frame:
            raise ValueError(f"{text!r} is written as drop-frame ({separator!r} before the frames), "
                             f"but {rate.name} is a non-drop rate")
        return cls.from_fields(int(hours), int(minutes), int(seconds), int(frames), rate)

    @classmethod
    def from_fields(cls, hours: int, minutes: int, seconds: int, frames: int, rate: FrameRate) -> "Timecode":
        for field, value, limit in (("hours", hours, 24), ("minutes", minutes, 60),
                                    ("seconds", seconds, 60), ("frames", frames, rate.nominal)):
            if not 0 <= value < limit:
                raise ValueError(f"{field} {value} out of range: 0 to {limit - 1} at {rate.name}")
        if rate.drop_frame and minutes % 10 and seconds == 0 and frames < DROPPED_LABELS_PER_MINUTE:
            raise ValueError(f"{hours:02}:{minutes:02}:00;{frames:02} does not exist in drop-frame: "
                             f"frames 00 and 01 are skipped at the start of each minute not divisible by 10")
        label_index = ((hours * 60 + minutes) * 60 + seconds) * rate.nominal + frames
        return cls(_frame_count_of_label(label_index, rate), rate)

    @classmethod
    def from_frames(cls, frame_count: int, rate: FrameRate) -> "Timecode":
        """The frame `frame_count` frames after 00:00:00:00, wrapping around the day either way."""
        return cls(frame_count % rate.frames_per_day(), rate)

    @classmethod
    def from_seconds(cls, seconds: numbers.Rational, rate: FrameRate) -> "Timecode":
        """The frame during which the instant `seconds` after 00:00:00:00 falls, wrapping around the day."""
        if not isinstance(seconds, numbers.Rational):
            raise TypeError(f"seconds must be an int or a Fraction (exact), not {type(seconds).__name__}")
        return cls.from_frames(math.floor(seconds * rate.fps), rate)

    @property
    def fields(self) -> tuple[int, int, int, int]:
        """(hours, minutes, seconds, frames) of the label."""
        label_index = _label_of_frame_count(self.frame_count, self.rate)
        timecode_seconds, frames = divmod(label_index, self.rate.nominal)
        timecode_minutes, seconds = divmod(timecode_seconds, 60)
        hours, minutes = divmod(timecode_minutes, 60)
        return hours, minutes, seconds, frames

    @property
    def seconds(self) -> Fraction:
        """Real time from 00:00:00:00 to the start of this frame."""
        return self.frame_count / self.rate.fps

    def samples(self, sample_rate: int) -> Fraction:
        """Exact sample position of the start of this frame, counted from 00:00:00:00."""
        return self.seconds * sample_rate

    def __str__(self) -> str:
        hours, minutes, seconds, frames = self.fields
        separator = ";" if self.rate.drop_frame else ":"
        return f"{hours:02}:{minutes:02}:{seconds:02}{separator}{frames:02}"

    def __add__(self, frames: int) -> "Timecode":
        if not isinstance(frames, int):
            return NotImplemented
        return Timecode.from_frames(self.frame_count + frames, self.rate)

    def __sub__(self, other: "Timecode | int") -> "Timecode | int":
        """Timecode - frames is a Timecode (wrapping); Timecode - Timecode is the plain difference
        of frame counts, not the shortest way round midnight: 00:00:00:00 - 23:59:59:29 is
        -(frames_per_day - 1), not 1."""
        if isinstance(other, int):
            return self + -other
        if not isinstance(other, Timecode):
            return NotImplemented
        return self.frame_count - self._frame_count_of_same_rate(other)

    def __lt__(self, other: "Timecode") -> bool:
        if not isinstance(other, Timecode):
            return NotImplemented
        return self.frame_count < self._frame_count_of_same_rate(other)

    def _frame_count_of_same_rate(self, other: "Timecode") -> int:
        if other.rate != self.rate:
            raise ValueError(f"timecodes of different rates ({self.rate.name} and {other.rate.name}) "
                             f"cannot be compared or subtracted")
        return other.frame_count
