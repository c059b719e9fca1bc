"""Parts and click tracks as timelines of note events, and the player that posts them ahead.

Notes are placed on exact samples relative to the part's start, so a part plays the same
live and offline. Note numbers count from 1 within a part; the audio thread gives every
start of a part a note group (see kernel.events.NOTE_GROUP_SIZE), and the player posts the
part's notes in that group, so stopping the part silences exactly them.
"""

import math
from dataclasses import dataclass

from .model import ClickConfig, PartConfig, ShowConfig
from ..engine import Producer, events
from .click import clicks


@dataclass(frozen=True, order=True)
class TimedEvent:
    sample: int  # from the start of the sequence
    order: int  # ties keep the order of the score: note-offs before note-ons at one sample
    kind: int
    number: int  # the note's number within its sequence
    instrument: int = 0
    key: float = 0.0
    velocity: float = 0.0
    bus: int = 0


@dataclass(frozen=True)
class Sequence:
    name: str
    events: tuple[TimedEvent, ...]
    length_samples: int  # until the last note has finished its release


def _timeline(name: str, notes, instrument: int, bus: int, release_samples: float) -> Sequence:
    """notes: (start sample, end sample, key, velocity) each."""
    timeline = []
    length = 0
    for number, (start, end, key, velocity) in enumerate(notes, start=1):
        end = max(end, start + 1)  # a note off on its note on's sample would come first and leave it hanging
        timeline.append(TimedEvent(start, 1, events.NOTE_ON, number, instrument, float(key), velocity, bus))
        timeline.append(TimedEvent(end, 0, events.NOTE_OFF, number))
        length = max(length, math.ceil(end + release_samples))
    if len(timeline) > 2 * events.LIVE_NOTE_IDS:  # its note numbers would reach into the next note group
        raise ValueError(f"part {name!r} has {len(timeline) // 2} notes: a part holds at most {events.LIVE_NOTE_IDS}")
    return Sequence(name, tuple(sorted(timeline)), length)


def part_sequence(show: ShowConfig, part: PartConfig, instrument: int, bus: int, sample_rate: int) -> Sequence:
    samples_per_beat = show.seconds_per_beat() * sample_rate
    notes = [(round(note.start_beat * samples_per_beat),
              round((note.start_beat + note.length_beats) * samples_per_beat), note.key, note.velocity)
             for note in part.notes]
    notes += [(round(note.start_seconds * sample_rate), round(note.end_seconds * sample_rate), note.key, note.velocity)
              for note in part.midi_notes]
    release = show.instruments[part.instrument].release_ms / 1000 * sample_rate
    return _timeline(part.name, notes, instrument, bus, release)


CLICK_LENGTH_SECONDS = 0.03  # each click is a short blip; its instrument's release shapes the tail


def click_sequence(show: ShowConfig, click: ClickConfig, instrument: int, bus: int, sample_rate: int) -> Sequence:
    """The click track: the first count-in click (or bar 1's downbeat) is the sequence's start."""
    length = round(CLICK_LENGTH_SECONDS * sample_rate)
    notes = []
    for beat in clicks(click.map):
        start = round(beat.seconds * sample_rate)
        key, velocity = click.sounds[beat.kind]
        notes.append((start, start + length, key, velocity))
    release = show.instruments[click.instrument].release_ms / 1000 * sample_rate
    return _timeline(click.name, notes, instrument, bus, release)


def held_across(sequence: Sequence, offset: int) -> list[TimedEvent]:
    """The note-ons of notes that began before `offset` and still sound at it: what a start part-way
    (a chase, a pickup from bar N) sounds first, so a chord in progress is heard from there."""
    if offset <= 0:
        return []
    ends = {event.number: event.sample for event in sequence.events if event.kind == events.NOTE_OFF}
    return [event for event in sequence.events
            if event.kind == events.NOTE_ON and event.sample < offset < ends[event.number]]


def first_instant(sequences: list[Sequence]) -> int:
    """How many events fall on the first sample any of `sequences` plays: what a cue starting them
    together must hold whole in its template, since nothing can be posted before it fires."""
    first = min((sequence.events[0].sample for sequence in sequences if sequence.events), default=None)
    return sum(1 for sequence in sequences for event in sequence.events if event.sample == first)


class SequencePlayer:
    """Posts one start of a sequence: its events from `first_sample` on (earlier ones are the
    cue's template's, already in the audio thread), in note group `group`, a little ahead.

    A start part-way (`offset` samples in: a chase) first sounds the notes held across that
    point (`held_across`), unless the template did (a pickup's).

    A start that follows the picture (`picture_frame`: the frame position of its time 0) is posted
    on the same nominal timeline; the audio thread places each note where the picture reaches it,
    and `nominal_sample` says how far that timeline has come when the picture is at a frame."""

    def __init__(self, sequence: Sequence, producer: Producer, start_sample: int, group: int, first_sample: int,
                 offset: int = 0, held_in_template: bool = False, picture_frame: float | None = None,
                 samples_per_frame: float = 0.0):
        self.sequence = sequence
        self.picture_frame = picture_frame
        self.samples_per_frame = samples_per_frame
        self.producer = producer
        self.start_sample = start_sample
        self.group = group
        timeline = sequence.events
        self._next = next((i for i, event in enumerate(timeline) if event.sample >= first_sample), len(timeline))
        self._held = [] if held_in_template else held_across(sequence, offset)
        self._offset = offset

    def post_until(self, horizon: int):
        """Post every event due before `horizon` (an absolute engine sample) not yet posted."""
        for event in self._held:
            self.producer.part_note_on(self.start_sample + self._offset, self.group, event.number,
                                       event.instrument, event.key, event.velocity, event.bus)
        self._held = []
        timeline = self.sequence.events
        while self._next < len(timeline) and self.start_sample + timeline[self._next].sample < horizon:
            event = timeline[self._next]
            sample = self.start_sample + event.sample
            if event.kind == events.NOTE_ON:
                self.producer.part_note_on(sample, self.group, event.number, event.instrument, event.key,
                                           event.velocity, event.bus)
            else:
                self.producer.part_note_off(sample, self.group, event.number)
            self._next += 1

    def nominal_sample(self, frame: float) -> int:
        """The sample of this start's nominal timeline that the picture's frame position `frame` stands for."""
        return self.start_sample + math.ceil((frame - self.picture_frame) * self.samples_per_frame)

    @property
    def end_sample(self) -> int:
        return self.start_sample + self.sequence.length_samples

    def finished(self, position: int) -> bool:
        return self._next == len(self.sequence.events) and position >= self.end_sample
