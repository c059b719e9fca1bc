"""Standard MIDI Files: the notes of one track or channel (a cue's part), or every channel
message on its sample (the file player), timed by the file's tempo map.

mido reads the file; the times are worked out here from ticks and every tempo change of the
file (in any track, as type 1 files keep them in the first), exactly, in Fractions of a second.
"""

import bisect
import os
from dataclasses import dataclass
from fractions import Fraction

DEFAULT_TEMPO = 500000  # microseconds per quarter note: 120 bpm, the MIDI default


class MidiFileError(ValueError):
    """A MIDI file that cannot be a part; the message names the file and why."""


@dataclass(frozen=True)
class MidiNote:
    start_seconds: Fraction
    end_seconds: Fraction
    key: int
    velocity: float  # 0 < velocity <= 1


def read_midi_notes(path: str | os.PathLike[str], track: int | None = None,
                    channel: int | None = None) -> tuple[MidiNote, ...]:
    """The notes of `path` (of one track, 0-based, and one channel, 1-16, when given), in time order."""
    midi = open_midi_file(path)
    if track is not None and not 0 <= track < len(midi.tracks):
        raise MidiFileError(f"{path} has tracks 0 to {len(midi.tracks) - 1}, not {track}")
    seconds_at = _tempo_map(midi)
    notes = []
    for number, events in enumerate(midi.tracks):
        if track is not None and number != track:
            continue
        notes += _notes_of(events, channel, seconds_at)
    return tuple(sorted(notes, key=lambda note: (note.start_seconds, note.key)))


@dataclass(frozen=True)
class TimedMessage:
    sample: int
    message: object  # a mido channel message


def read_channel_messages(path: str | os.PathLike[str], sample_rate: int) -> tuple[list[TimedMessage], int, float]:
    """The channel messages of the MIDI file at `path` on their samples (each time rounded to the
    nearest), in playing order, the sample on which the file ends, and its tempo at its start in
    beats per minute."""
    midi = open_midi_file(path)
    tempo_map = _tempo_map(midi)
    ticked, end_tick = [], 0
    for events in midi.tracks:
        for tick, message in _with_ticks(events):
            if not message.is_meta and hasattr(message, "channel"):
                ticked.append((tick, message))
            end_tick = max(end_tick, tick)
    ticked.sort(key=lambda tick_message: tick_message[0])  # stable: at one tick, earlier tracks first (mido's merge)
    timed = [TimedMessage(tempo_map.sample_at(tick, sample_rate), message) for tick, message in ticked]
    first_tick_seconds = tempo_map(1) - tempo_map(0)
    return timed, tempo_map.sample_at(end_tick, sample_rate), float(60 / (first_tick_seconds * midi.ticks_per_beat))


def open_midi_file(path: str | os.PathLike[str]):
    """The mido.MidiFile at `path`, if its notes can be timed: type 0 or 1, in ticks per beat."""
    import mido
    try:
        midi = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as error:
        raise MidiFileError(f"cannot read MIDI file {path}: {error or 'the file ends too early'}") from None
    if midi.type == 2:
        raise MidiFileError(f"{path} is a type 2 MIDI file (independent patterns); save it as type 0 or 1")
    if midi.type not in (0, 1):
        raise MidiFileError(f"{path} says it is a type {midi.type} MIDI file; there are types 0, 1 and 2")
    if midi.ticks_per_beat < 0:  # the header's top bit set: frames per second and ticks per frame
        raise MidiFileError(f"{path} counts time in SMPTE frames, not beats; save it with ticks per beat")
    if midi.ticks_per_beat == 0:
        raise MidiFileError(f"{path} has a time division of 0 ticks per beat: its times mean nothing")
    return midi


def bar_seconds(path: str | os.PathLike[str], bar: int) -> Fraction:
    """When bar `bar` (from 1) of the file begins, by its time signatures (4/4 until the first)
    and its tempo map."""
    midi = open_midi_file(path)
    first_bar, tick, bar_ticks = [segment for segment in _meters(midi, path) if segment[0] <= bar][-1]
    return _tempo_map(midi)(tick + (bar - first_bar) * bar_ticks)


def bar_count(path: str | os.PathLike[str]) -> int:
    """How many bars the file's music has: those that begin before its last event (at least 1)."""
    midi = open_midi_file(path)
    end = max((sum(message.time for message in events) for events in midi.tracks), default=0)
    segments = _meters(midi, path)
    first_bar, tick, bar_ticks = ([segment for segment in segments if segment[1] < end] or segments[:1])[-1]
    return max(1, first_bar - 1 + -(-(end - tick) // bar_ticks))


def _meters(midi, path) -> list[tuple[int, int, int]]:
    """(first bar, its tick, ticks per bar) of each stretch of one meter, in order: a time signature
    takes effect on the first bar that begins at or after it, so no bar is counted one by one."""
    signatures = sorted((tick, message.numerator, message.denominator)
                        for events in midi.tracks
                        for tick, message in _with_ticks(events) if message.type == "time_signature")
    segments = []
    first_bar, tick, bar_ticks = 1, 0, 4 * midi.ticks_per_beat
    for at, numerator, denominator in signatures:
        if at > tick:
            bars = -(-(at - tick) // bar_ticks)  # bars of the meter in force that begin before it
            segments.append((first_bar, tick, bar_ticks))
            first_bar, tick = first_bar + bars, tick + bars * bar_ticks
        bar_ticks = numerator * midi.ticks_per_beat * 4 // denominator
        if bar_ticks <= 0:
            raise MidiFileError(f"{path}: the time signature {numerator}/{denominator} at tick {at} "
                                "makes bars of no length")
    segments.append((first_bar, tick, bar_ticks))
    return segments


def _with_ticks(events):
    tick = 0
    for message in events:
        tick += message.time
        yield tick, message


def _tempo_map(midi) -> "_TempoMap":
    """A function from absolute ticks to exact seconds, through every tempo change."""
    changes = []
    for events in midi.tracks:
        tick = 0
        for message in events:
            tick += message.time
            if message.type == "set_tempo":
                if message.tempo == 0:
                    raise MidiFileError(f"{midi.filename}: a tempo of 0 microseconds per beat at tick {tick}")
                changes.append((tick, message.tempo))
    changes.sort(key=lambda change: change[0])
    return _TempoMap(changes, midi.ticks_per_beat)


class _TempoMap:
    """Absolute ticks to exact seconds (calling it), or to the nearest sample, through every tempo change."""

    def __init__(self, changes: list[tuple[int, int]], ticks_per_beat: int):
        self.per_tick = ticks_per_beat * 1_000_000  # a tick lasts tempo / per_tick seconds
        self.ticks, self.tempos, self.starts = [0], [DEFAULT_TEMPO], [Fraction(0)]
        for tick, tempo in changes:
            self.starts.append(self._seconds(len(self.ticks) - 1, tick))
            self.ticks.append(tick)
            self.tempos.append(tempo)

    def _seconds(self, segment: int, tick: int) -> Fraction:
        return self.starts[segment] + Fraction((tick - self.ticks[segment]) * self.tempos[segment], self.per_tick)

    def __call__(self, tick: int) -> Fraction:
        return self._seconds(bisect.bisect_right(self.ticks, tick) - 1, tick)

    def sample_at(self, tick: int, sample_rate: int) -> int:
        """round(self(tick) * sample_rate), exactly (half to even), in integers: a file has a message
        on almost every tick, and Fractions cost microseconds each."""
        segment = bisect.bisect_right(self.ticks, tick) - 1
        start = self.starts[segment]
        numerator = (start.numerator * self.per_tick
                     + start.denominator * (tick - self.ticks[segment]) * self.tempos[segment]) * sample_rate
        denominator = start.denominator * self.per_tick
        sample, remainder = divmod(numerator, denominator)
        if 2 * remainder > denominator or (2 * remainder == denominator and sample & 1):
            sample += 1
        return sample


def _notes_of(events, channel: int | None, seconds_at) -> list[MidiNote]:
    """Each note-on paired with the next note-off of its key and channel (first on, first off)."""
    sounding: dict[tuple[int, int], list[tuple[int, int]]] = {}
    notes = []
    tick = 0
    for message in events:
        tick += message.time
        if message.type not in ("note_on", "note_off") or (channel is not None and message.channel != channel - 1):
            continue
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            sounding.setdefault(key, []).append((tick, message.velocity))
        elif sounding.get(key):
            start, velocity = sounding[key].pop(0)
            notes.append(MidiNote(seconds_at(start), seconds_at(tick), message.note, velocity / 127))
    for (_, note), opened in sounding.items():  # held to the end of the track
        notes += [MidiNote(seconds_at(start), seconds_at(tick), note, velocity / 127) for start, velocity in opened]
    return notes
