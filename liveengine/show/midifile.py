"""Parts from Standard MIDI Files: the notes of one track or channel, timed by the file's tempo map.

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
    import mido
    try:
        midi = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as error:
        raise MidiFileError(f"cannot read MIDI file {path}: {error}") from None
    if midi.type == 2:
        raise MidiFileError(f"{path} is a type 2 MIDI file (independent patterns); save it as type 0 or 1")
    if track is not None and not 0 <= track < len(midi.tracks):
        raise MidiFileError(f"{path} has tracks 0 to {len(midi.tracks) - 1}, not {track}")
    seconds_at = _tempo_map(midi)
    notes = []
    for number, events in enumerate(midi.tracks):
        if track is not None and number != track:
            continue
        notes += _notes_of(events, channel, seconds_at)
    return tuple(sorted(notes, key=lambda note: (note.start_seconds, note.key)))


def bar_seconds(path: str | os.PathLike[str], bar: int) -> Fraction:
    """When bar `bar` (from 1) of the file begins, by its time signatures (4/4 until the first)
    and its tempo map."""
    import mido
    try:
        midi = mido.MidiFile(path)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as error:
        raise MidiFileError(f"cannot read MIDI file {path}: {error}") from None
    signatures = sorted((tick, message.numerator, message.denominator)
                        for events in midi.tracks
                        for tick, message in _with_ticks(events) if message.type == "time_signature")
    tick, meter = 0, (4, 4)  # where the bar being counted starts, and its time signature
    for _ in range(1, bar):
        while signatures and signatures[0][0] <= tick:
            meter = signatures.pop(0)[1:]
        tick += meter[0] * midi.ticks_per_beat * 4 // meter[1]
    return _tempo_map(midi)(tick)


def _with_ticks(events):
    tick = 0
    for message in events:
        tick += message.time
        yield tick, message


def _tempo_map(midi):
    """A function from absolute ticks to exact seconds, through every tempo change."""
    changes = []
    for events in midi.tracks:
        tick = 0
        for message in events:
            tick += message.time
            if message.type == "set_tempo":
                changes.append((tick, message.tempo))
    changes.sort(key=lambda change: change[0])
    ticks, tempos, starts = [0], [DEFAULT_TEMPO], [Fraction(0)]
    for tick, tempo in changes:
        starts.append(starts[-1] + Fraction(tick - ticks[-1]) * tempos[-1] / (midi.ticks_per_beat * 1_000_000))
        ticks.append(tick)
        tempos.append(tempo)

    def seconds_at(tick: int) -> Fraction:
        i = bisect.bisect_right(ticks, tick) - 1
        return starts[i] + Fraction(tick - ticks[i]) * tempos[i] / (midi.ticks_per_beat * 1_000_000)

    return seconds_at


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
