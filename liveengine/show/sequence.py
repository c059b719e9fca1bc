"""A show's parts as a timeline of events, posted ahead of the audio thread.

Notes are placed on exact samples (beats at the show's tempo) relative to a start
sample, so the sequence plays the same live and offline. The player posts a little
ahead of the output position: far enough that no event arrives late, near enough that
the rings and the pending set stay small.
"""

import math
from dataclasses import dataclass

from ..engine import Producer, events
from .rig import Rig


@dataclass(frozen=True, order=True)
class TimedEvent:
    sample: int  # from the start of the sequence
    order: int  # ties keep the order of the score: note-offs before note-ons at one sample
    kind: int
    note_id: int
    instrument: int = 0
    key: float = 0.0
    velocity: float = 0.0
    bus: int = 0


@dataclass(frozen=True)
class Sequence:
    events: tuple[TimedEvent, ...]
    length_samples: int  # until the last note has finished its release


def sequence_from_parts(rig: Rig) -> Sequence:
    show, engine = rig.show, rig.engine
    rate = engine.settings.sample_rate
    samples_per_beat = show.seconds_per_beat() * rate
    timeline = []
    note_id = 0
    length = 0
    for part in show.parts:
        instrument = rig.instrument_numbers[part.instrument]
        release = show.instruments[part.instrument].release_ms / 1000 * rate
        bus = engine.bus_number(part.bus)
        for note in part.notes:
            note_id += 1
            start = round(note.start_beat * samples_per_beat)
            end = round((note.start_beat + note.length_beats) * samples_per_beat)
            timeline.append(TimedEvent(start, 1, events.NOTE_ON, note_id, instrument, float(note.key),
                                       note.velocity, bus))
            timeline.append(TimedEvent(end, 0, events.NOTE_OFF, note_id))
            length = max(length, math.ceil(end + release))
    return Sequence(tuple(sorted(timeline)), length)


class SequencePlayer:
    def __init__(self, sequence: Sequence, producer: Producer, start_sample: int):
        self.sequence = sequence
        self.producer = producer
        self.start_sample = start_sample
        self._next = 0

    def post_until(self, horizon: int):
        """Post every event due before `horizon` (an absolute engine sample) not yet posted."""
        timeline = self.sequence.events
        while self._next < len(timeline) and self.start_sample + timeline[self._next].sample < horizon:
            event = timeline[self._next]
            sample = self.start_sample + event.sample
            if event.kind == events.NOTE_ON:
                self.producer.note_on(sample, event.note_id, event.instrument, event.key, event.velocity, event.bus)
            else:
                self.producer.note_off(sample, event.note_id)
            self._next += 1

    @property
    def end_sample(self) -> int:
        return self.start_sample + self.sequence.length_samples

    def finished(self, position: int) -> bool:
        return self._next == len(self.sequence.events) and position >= self.end_sample
