"""A conductor's click track, computed exactly from a tempo and meter map.

In a film concert the orchestra plays to picture, so the conductor (and often the players)
hear a click in their earpieces that was worked out in advance from the score's tempo map:
one click per beat of the meter in force, the first beat of every bar accented so the
conductor never loses the bar line.

The model:

- A ClickMap lists TempoChanges and MeterChanges, each starting on the first beat of a bar,
  and the number of bars to click. A tempo holds until the next change; with `ramp=True`
  it moves linearly, beat by beat, towards the next change's tempo (accelerando or
  ritardando), arriving there on that change's first beat.
- Count-in bars come before bar 1, at the first tempo and meter, so the orchestra can
  feel the tempo before the downbeat. They are numbered up to 0 (two bars: -1 and 0).
- With `warn_changes`, the beats after the downbeat of the bar just before a tempo or
  meter change are WARNING clicks (usually a different sound), so nobody is caught out by
  the change. A bar counts as a change when the map lists a change there.

Times are Fractions of a second from the first click, with no rounding: the caller
(the cue list) turns them into samples at its own rate and decides how to round.
"""

from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from numbers import Number

SECONDS_PER_MINUTE = 60
MIN_BPM, MAX_BPM = 10, 400
MAX_BEATS_PER_BAR = 32
NOTE_UNITS = (1, 2, 4, 8, 16, 32)
MAX_COUNT_IN_BARS = 8

ACCENT, BEAT, COUNT_IN, WARNING = "accent", "beat", "count-in", "warning"


class ClickMapError(ValueError):
    """A click map that cannot be clicked; the message says what is wrong and where."""


def _exact_bpm(bpm: Number, bar: int) -> Fraction:
    """The tempo as an exact Fraction; a float is read as written (120.1 is 1201/10, not its binary value)."""
    try:
        return Fraction(str(bpm)) if isinstance(bpm, float) else Fraction(bpm)
    except (TypeError, ValueError):
        raise ClickMapError(f"tempo at bar {bar} is {bpm!r}, not a number of beats per minute") from None


@dataclass(frozen=True)
class TempoChange:
    bar: int  # 1-based bar where this tempo starts (on its first beat)
    bpm: Fraction  # clicks per minute; int, float or Fraction, stored as an exact Fraction
    ramp: bool = False  # True: moves linearly, per beat, to the next change's bpm

    def __post_init__(self):
        object.__setattr__(self, "bpm", _exact_bpm(self.bpm, self.bar))


@dataclass(frozen=True)
class MeterChange:
    bar: int  # 1-based bar where this meter starts
    beats: int  # clicks per bar (the numerator)
    unit: int  # the denominator; it does not change the click, only how the meter is named


@dataclass(frozen=True)
class ClickMap:
    tempos: tuple[TempoChange, ...]  # the first one at bar 1
    meters: tuple[MeterChange, ...]  # the first one at bar 1
    bars: int  # bars of music clicked
    count_in_bars: int = 0  # bars before bar 1, at the first tempo and meter
    warn_changes: bool = False  # mark beats 2.. of the bar before each change as WARNING


@dataclass(frozen=True)
class Click:
    seconds: Fraction  # from the click track's start: the first click is at 0
    bar: int  # 1-based bar of the music; count-in bars are -count_in_bars+1 .. 0
    beat: int  # 1-based beat within the bar
    kind: str  # ACCENT, BEAT, COUNT_IN or WARNING


def _show(number: Fraction) -> str:
    """A tempo as a musician writes it: 120, 92.5, or 1/3 when it is not a finite decimal."""
    if number.denominator == 1:
        return str(number.numerator)
    return f"{float(number):g}" if Fraction(str(float(number))) == number else str(number)


def _require_whole(value, what: str) -> None:
    # bool is an int in Python, but True bars is surely a mistake.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ClickMapError(f"{what} must be a whole number, not {value!r}")


def _check_change_bars(changes, kind: str, bars: int) -> None:
    """The changes of one kind start at bar 1, move strictly forward, and stay within the music."""
    if not changes:
        raise ClickMapError(f"no {kind} change: the first one must be at bar 1")
    for change in changes:
        _require_whole(change.bar, f"the bar of a {kind} change")
    if changes[0].bar != 1:
        raise ClickMapError(f"the first {kind} change is at bar {changes[0].bar}; it must be at bar 1")
    for earlier, later in pairwise(changes):
        if later.bar == earlier.bar:
            raise ClickMapError(f"two {kind} changes at bar {later.bar}")
        if later.bar < earlier.bar:
            raise ClickMapError(f"{kind} change at bar {later.bar} after the change at bar {earlier.bar}")
    if changes[-1].bar > bars:
        raise ClickMapError(f"{kind} change at bar {changes[-1].bar} is beyond the last bar ({bars})")


def validate(map: ClickMap) -> None:
    """Raise ClickMapError, naming the problem, unless `map` describes a click track."""
    _require_whole(map.bars, "bars")
    if map.bars < 1:
        raise ClickMapError(f"bars is {map.bars}; at least 1 bar must be clicked")
    _require_whole(map.count_in_bars, "count_in_bars")
    if not 0 <= map.count_in_bars <= MAX_COUNT_IN_BARS:
        raise ClickMapError(f"count_in_bars is {map.count_in_bars}; it must be 0..{MAX_COUNT_IN_BARS}")
    _check_change_bars(map.tempos, "tempo", map.bars)
    _check_change_bars(map.meters, "meter", map.bars)
    for tempo in map.tempos:
        if not MIN_BPM <= tempo.bpm <= MAX_BPM:
            raise ClickMapError(
                f"tempo {_show(tempo.bpm)} bpm at bar {tempo.bar} is outside {MIN_BPM}..{MAX_BPM} bpm")
    if map.tempos[-1].ramp:
        raise ClickMapError(
            f"ramp at bar {map.tempos[-1].bar} is on the last tempo change: there is no tempo to ramp to")
    for meter in map.meters:
        _require_whole(meter.beats, f"the beats of the meter at bar {meter.bar}")
        _require_whole(meter.unit, f"the unit of the meter at bar {meter.bar}")
        if not 1 <= meter.beats <= MAX_BEATS_PER_BAR:
            raise ClickMapError(
                f"meter {meter.beats}/{meter.unit} at bar {meter.bar} has {meter.beats} beats;"
                f" it must have 1..{MAX_BEATS_PER_BAR}")
        if meter.unit not in NOTE_UNITS:
            raise ClickMapError(
                f"meter {meter.beats}/{meter.unit} at bar {meter.bar}: the unit must be one of"
                f" {', '.join(str(unit) for unit in NOTE_UNITS)}")


def _beats_in_bar(map: ClickMap, bar: int) -> int:
    return [meter for meter in map.meters if meter.bar <= bar][-1].beats


def _beat_timeline(map: ClickMap):
    """Yield (bar, beat, duration in seconds) for every click, count-in first. `map` must be valid."""
    count_in_beat = SECONDS_PER_MINUTE / map.tempos[0].bpm
    for bar in range(1 - map.count_in_bars, 1):
        for beat in range(1, map.meters[0].beats + 1):
            yield bar, beat, count_in_beat

    following_tempos = list(map.tempos[1:]) + [None]
    for tempo, following in zip(map.tempos, following_tempos):
        last_bar = following.bar - 1 if following is not None else map.bars
        beats = [(bar, beat) for bar in range(tempo.bar, last_bar + 1)
                 for beat in range(1, _beats_in_bar(map, bar) + 1)]
        # A steady tempo is a ramp to itself, so both share the per-beat formula.
        target_bpm = following.bpm if tempo.ramp else tempo.bpm
        for k, (bar, beat) in enumerate(beats):
            bpm = tempo.bpm + (target_bpm - tempo.bpm) * Fraction(k, len(beats))
            yield bar, beat, SECONDS_PER_MINUTE / bpm


def clicks(map: ClickMap) -> list[Click]:
    """Every click of the track, in time order, after validating `map`."""
    validate(map)
    # The bar before a change warns of it; a change at bar 1 has no bar before it to warn in.
    warning_bars = {change.bar - 1 for change in (*map.tempos[1:], *map.meters[1:])} if map.warn_changes else set()
    result = []
    seconds = Fraction(0)
    for bar, beat, duration in _beat_timeline(map):
        if bar < 1:
            kind = COUNT_IN
        elif beat == 1:
            kind = ACCENT
        elif bar in warning_bars:
            kind = WARNING
        else:
            kind = BEAT
        result.append(Click(seconds, bar, beat, kind))
        seconds += duration
    return result


def length_seconds(map: ClickMap) -> Fraction:
    """Time from the first click (count-in included) to the end of the last bar, after validating `map`."""
    validate(map)
    return sum((duration for _, _, duration in _beat_timeline(map)), Fraction(0))
