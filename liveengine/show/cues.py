"""The cue list, run: cues armed into the engine, the conductor's operations, and the log.

Every cue of the show file gets an engine cue slot, armed with its trigger and a template:
its actions as events, with the first notes of every part or click it starts. The audio
thread fires the template on the exact sample (the timecode's, the GO's, or the previous
cue's plus a wait); this runner hears of it through its subscription to the engine's cue
notifications and posts the rest of each part it started, in the note group the engine gave
that start.

The conductor's operations (GO, standby, back, jump, stop all, panic) come from any
thread as commands; the runner carries them out in its own thread, the show producer's.
Every decision is written to the log and kept in `decisions` for whoever displays them.
"""

import collections
import logging
import math
import queue
from dataclasses import dataclass

import numpy as np

from .model import CueAction, CueConfig
from ..engine import (MAX_CUES, PICKUP_SLOTS, CueEvent, CueOutcome, HandoverError, PartsStopped, PartStarted,
                      PictureSpeed, Producer, events)
from ..loader.stems import StemFile, StemLoader
from ..levels import db_to_gain
from .rig import Rig
from .click import clicks
from ..midi.smf import bar_count, bar_seconds
from .sequence import Sequence, SequencePlayer, click_sequence, held_across, part_sequence
from ..timecode import Timecode

log = logging.getLogger("liveengine.cues")

HEAD_SECONDS = 1.0  # how much of each part a cue's template carries: the runner's time to take over
LOOKAHEAD_SECONDS = 0.2  # how far ahead the runner posts the rest
JUMP_PREROLL_SECONDS = 2.0  # as timecode master, a jump to a timecode cue lands this long before it
JUMP_FADE_SECONDS = 0.5

START_ALL = CueConfig("start", "every part", "go", None, 0.0, False, ())  # a show without cues


@dataclass(frozen=True)
class ArmedCue:
    cue: CueConfig
    slot: int
    template: np.ndarray
    head_samples: int  # the template holds each started sequence's events before this
    length_samples: int  # the longest sequence it starts: how far a chase may land inside it
    held_in_template: bool = False  # a pickup's: the notes held across its offset sound from the template


@dataclass(frozen=True)
class Decision:
    sample: int
    cue: str  # the cue's number, or "" for what concerns no one cue
    text: str


class CueRunner:
    def __init__(self, rig: Rig, producer: Producer, head_seconds: float = HEAD_SECONDS, wait_for_block=None):
        """`wait_for_block`: for a live stream, engine.wait_for_a_block bound to the engine; offline
        (update called between blocks) None."""
        self.rig = rig
        self.engine = rig.engine
        self.producer = producer
        self.reports = rig.engine.subscribe(CueEvent, PartStarted, PartsStopped, PictureSpeed)
        self.rate = rig.engine.settings.sample_rate
        show = rig.show
        self.sequences: list[Sequence] = []  # a part's or click's index here is its engine part number
        for part in show.parts:
            self.sequences.append(part_sequence(show, part, rig.instrument_numbers[part.instrument],
                                                self.engine.bus_number(part.bus), self.rate))
        for click in show.clicks.values():
            self.sequences.append(click_sequence(show, click, rig.instrument_numbers[click.instrument],
                                                 self.engine.bus_number(click.bus), self.rate))
        self.part_numbers = {sequence.name: number for number, sequence in enumerate(self.sequences)}
        self.stem_slots = {name: slot for slot, name in enumerate(show.stems)}
        self.stems = StemLoader(self.engine, [StemFile(slot, name, show.stems[name].path)
                                              for name, slot in self.stem_slots.items()],
                                wait_for_block or (lambda: None))
        self.stems.preload()  # the beginning of every stem, before anything can start it
        self.samples_per_frame = float(self.rate / show.timecode.rate.fps)
        cues = show.cues or (START_ALL,)
        self.head_samples = round(head_seconds * self.rate)
        self.cues = [self._compile(cue, slot, self.head_samples) for slot, cue in enumerate(cues)]
        self.pickups: dict[int, ArmedCue] = {}  # by pickup slot: the pickup armed there last
        self._pickups_armed = 0
        self.by_number = {armed.cue.number: armed for armed in self.cues}
        self.players: dict[int, SequencePlayer] = {}  # by part number: the start now playing
        self._started_by_firing: set[int] = set()  # parts started by the firing being reported
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.decisions: collections.deque[Decision] = collections.deque(maxlen=500)
        self.decisions_made = 0
        self.current: ArmedCue | None = None  # the cue fired last
        self.standing_by: ArmedCue | None = self._next_go_cue(-1)
        self.waiting = {armed.slot for armed in self.cues if armed.cue.trigger != "go"}
        self.armed = False
        self.on_locate = None  # called with (timecode, sample) when the master timecode jumps
        self.on_setup = None  # called with (setup, keyboard or None) when a cue changes a keyboard setup

    # Set-up.

    def _compile(self, cue: CueConfig, slot: int, head: int, offset: int = 0) -> ArmedCue | None:
        """The template of `cue` for `slot`: its actions and the first `head` samples of what it starts,
        as far as they fit (its first instant always does: the rig sizes templates for it). From
        `offset` samples into its music (a pickup), the notes held across that point sound first,
        and the head runs from there; None when those do not fit."""
        if cue is START_ALL:
            cue = CueConfig("start", "every part", "go", None, 0.0, False,
                            tuple(CueAction("start", sequence.name) for sequence in self.sequences))
        started = [self.part_numbers[action.target] for action in cue.actions
                   if action.verb == "start" and action.target in self.part_numbers]
        held = {part: held_across(self.sequences[part], offset) for part in started}
        room = self.engine.settings.cue_template_rows - len(cue.actions) - sum(map(len, held.values()))
        if room < 0:
            return None
        # Cut the head where it still fits the template, between two instants.
        head += offset
        head_events = sorted(event.sample for part in started for event in self.sequences[part].events
                             if event.sample >= offset)
        if len(head_events) > room:
            head = min(head, head_events[room])
        rows = []
        show = self.rig.show
        for action in cue.actions:
            if action.verb in ("start", "stop") and action.target in self.stem_slots:
                stem_slot = self.stem_slots[action.target]
                if action.verb == "start":
                    stem = show.stems[action.target]
                    rows.append(_row(0, events.STEM_START, stem_slot, 0, self.engine.bus_number(stem.bus),
                                     db_to_gain(stem.gain_db)))
                else:
                    rows.append(_row(0, events.STEM_STOP, stem_slot))
            elif action.verb == "start":
                part = self.part_numbers[action.target]
                rows.append(_row(0, events.PART_START, part))
                for event in held[part]:  # on the pickup's first sample
                    rows.append(_row(offset, events.NOTE_ON, part * events.NOTE_GROUP_SIZE + event.number,
                                     event.instrument, event.key, event.velocity, event.bus))
                for event in self.sequences[part].events:
                    if event.sample >= head:
                        break
                    if event.sample < offset:
                        continue
                    number = part * events.NOTE_GROUP_SIZE + event.number
                    if event.kind == events.NOTE_ON:
                        rows.append(_row(event.sample, events.NOTE_ON, number, event.instrument, event.key,
                                         event.velocity, event.bus))
                    else:
                        rows.append(_row(event.sample, events.NOTE_OFF, number))
            elif action.verb == "stop":
                rows.append(_row(0, events.PART_STOP, self.part_numbers[action.target]))
            elif action.verb == "gain":
                rows.append(_row(0, events.BUS_GAIN, self.engine.bus_number(action.target),
                                 db_to_gain(action.gain_db), action.fade_seconds))
            elif action.verb == "stop_all":
                rows.append(_row(0, events.STOP_ALL, 0, action.fade_seconds))
            elif action.verb == "panic":
                rows.append(_row(0, events.ALL_NOTES_OFF))
            # "setup" is the keyboards' business: carried out when the cue is reported fired.
        stems = [self.stem_slots[action.target] for action in cue.actions
                 if action.verb == "start" and action.target in self.stem_slots]
        length = max([self.sequences[part].length_samples for part in started]
                     + [self.stems.length_frames(stem_slot) for stem_slot in stems], default=0)
        return ArmedCue(cue, slot, np.array(rows, np.float64).reshape(-1, events.EVENT_WIDTH), head, length,
                        held_in_template=offset > 0)

    def arm(self):
        """Arm every cue (before the stream starts, or on a stream that runs)."""
        for index, armed in enumerate(self.cues):
            cue = armed.cue
            if cue.trigger == "timecode":
                chase_frames = armed.length_samples / self.samples_per_frame if cue.chase else 0.0
                self.producer.arm_cue(armed.slot, events.TRIGGER_TIMECODE, armed.template,
                                      frame=cue.timecode.frame_count, chase_frames=chase_frames)
            elif cue.trigger == "follow":
                self.producer.arm_cue(armed.slot, events.TRIGGER_FOLLOW, armed.template,
                                      follows=self.cues[index - 1].slot,
                                      wait_samples=round(cue.wait_seconds * self.rate))
            else:
                self.producer.arm_cue(armed.slot, events.TRIGGER_MANUAL, armed.template)
        self.armed = True

    def start(self, sample: int):
        """The show starts: as timecode master, the engine's timecode has run from the stream's first
        sample (as the generated LTC and MTC do); a show without cues starts every part at `sample`."""
        timecode = self.rig.show.timecode
        if timecode.source == "none":
            self._decide(0, "", f"timecode master from {timecode.master_start}")
        if not self.rig.show.cues:
            self.producer.fire_cue(self.cues[0].slot, sample)
            self.standing_by = None
            self.waiting.add(self.cues[0].slot)  # not idle before its parts start

    def locate(self, where: Timecode, sample: int):
        """As timecode master, jump: the picture is at `where` from the first frame boundary at or
        after `sample` on, for the cues, the generated LTC and whatever `on_locate(where, boundary)`
        moves too (MTC out)."""
        boundary = self.producer.locate_timecode(where.fields, sample)
        if self.on_locate is not None:
            self.on_locate(where, boundary)
        self._decide(boundary, "", f"timecode master jumps to {where}")

    # The conductor's operations: any thread may ask, the runner's thread carries them out.
    # `done(ok, text)`, when given, hears how it went (an OSC client asking for a reply), in the
    # words of the decision it prints, naming the cue it concerns.

    def go(self, done=None):
        self.commands.put(("go", (), done))

    def standby(self, number: str, done=None):
        self.commands.put(("standby", (number,), done))

    def back(self, done=None):
        self.commands.put(("back", (), done))

    def jump(self, number: str, done=None):
        self.commands.put(("jump", (number,), done))

    def fire(self, number: str, bar: int | None = None, done=None):
        """Fire cue `number` now, whatever its trigger (rehearsal, or a cue the picture did not
        reach); from bar `bar` of its music, for a rehearsal pickup."""
        self.commands.put(("fire", (number, bar), done))

    def stop_cue(self, number: str, done=None):
        """Stop what cue `number` starts: its parts, clicks and stems (a short fade)."""
        self.commands.put(("stop_cue", (number,), done))

    def stop_all(self, fade_seconds: float = 3.0, done=None):
        self.commands.put(("stop_all", (fade_seconds,), done))

    def panic(self, done=None):
        self.commands.put(("panic", (), done))

    def locate_master(self, where: Timecode, done=None):
        """As timecode master, jump the timecode to `where` (what plays stops)."""
        self.commands.put(("locate", (where,), done))

    def _carry_out(self, command: tuple):
        name, arguments, done = command
        position = self.engine.position
        ok, number, text = getattr(self, f"_{name}")(position, *arguments)
        self._decide(position, number, text)
        if done is not None:
            done(ok, f"cue {number}: {text}" if number else text)

    def _go(self, position):
        if self.standing_by is None:
            return False, "", "GO refused: no cue stands by (end of the cue list)"
        armed = self.standing_by
        self.producer.fire_cue(armed.slot)
        self.standing_by = self._next_go_cue(armed.slot)
        return True, armed.cue.number, "GO"

    def _standby(self, position, number):
        armed = self.by_number.get(number)
        if armed is None:
            return False, "", f"standby refused: no cue {number!r}"
        self.standing_by = armed
        return True, number, "standing by"

    def _jump(self, position, number):
        armed = self.by_number.get(number)
        if armed is None:
            return False, "", f"jump refused: no cue {number!r}"
        self._stop_everything(JUMP_FADE_SECONDS)
        timecode = self.rig.show.timecode
        if timecode.source == "none" and armed.cue.trigger == "timecode":
            preroll = round(JUMP_PREROLL_SECONDS * float(timecode.rate.fps))
            self.locate(armed.cue.timecode - preroll, position + self._latency())
        self.standing_by = armed
        return True, number, "jumped here"

    def _back(self, position):
        previous = self._previous_go_cue(self.standing_by.slot if self.standing_by else len(self.cues))
        if previous is None:
            return False, "", "back refused: no GO cue before the one standing by"
        self.standing_by = previous
        return True, previous.cue.number, "standing by (back)"

    def _fire(self, position, number, bar):
        armed = self.by_number.get(number)
        if armed is None:
            return False, "", f"fire refused: no cue {number!r}"
        if bar is None:
            self.producer.fire_cue(armed.slot)
            return True, number, "fired by hand"
        try:
            offset = self.bar_offset(armed.cue, bar)
        except ValueError as error:
            return False, number, f"fire refused: {error}"
        self.producer.fire_cue(self._arm_pickup(armed, offset).slot, offset_samples=offset)
        return True, number, f"fired by hand from bar {bar}"

    def _arm_pickup(self, armed: ArmedCue, offset: int) -> ArmedCue:
        """`armed` picked up `offset` samples in, armed whole in a pickup slot (the next in turn), so
        that its first notes sound on their samples; the cue's own slot (whose template starts at its
        beginning) when the pickup does not fit a template or its slot is still in use."""
        slot = MAX_CUES + self._pickups_armed % PICKUP_SLOTS
        pickup = self._compile(armed.cue, slot, self.head_samples, offset)
        if pickup is None:
            return armed
        try:
            self.producer.arm_cue(slot, events.TRIGGER_MANUAL, pickup.template, stands_for=armed.slot)
        except HandoverError:  # the audio thread has not let go of the last pickup in this slot yet
            return armed
        self._pickups_armed += 1
        self.pickups[slot] = pickup
        return pickup

    def bar_offset(self, cue: CueConfig, bar: int) -> int:
        """Samples from the cue's start to bar `bar` of its music: by the MIDI file of the first part
        it starts that has one, else by its first click track, else 4/4 at the show's tempo. A bar
        beyond the music is refused (ValueError), however large: it is never counted up to."""
        if not isinstance(bar, int) or isinstance(bar, bool) or bar < 1:
            raise ValueError(f"bars count from 1, not {bar!r}")
        bars, seconds_of_bar = self._bars_of(cue)
        if bar > bars:
            raise ValueError(f"bar {bar} is beyond its music, which has {bars} bar{'s' if bars != 1 else ''}")
        return round(seconds_of_bar(bar) * self.rate)

    def _bars_of(self, cue: CueConfig):
        """(how many bars the cue's music has, the seconds from its start to a bar's first beat)."""
        started = [action.target for action in cue.actions if action.verb == "start"]
        parts = {part.name: part for part in self.rig.show.parts}
        for name in started:
            if name in parts and parts[name].midi_file is not None:
                path = parts[name].midi_file
                return bar_count(path), lambda bar: bar_seconds(path, bar)
        for name in started:
            if name in self.rig.show.clicks:
                click_map = self.rig.show.clicks[name].map
                return click_map.bars, lambda bar: next(beat.seconds for beat in clicks(click_map) if beat.bar == bar)
        bar_seconds_at_tempo = 4 * self.rig.show.seconds_per_beat()
        length_seconds = self.by_number[cue.number].length_samples / self.rate
        return max(1, math.ceil(length_seconds / bar_seconds_at_tempo)), lambda bar: (bar - 1) * bar_seconds_at_tempo

    def _stop_cue(self, position, number):
        armed = self.by_number.get(number)
        if armed is None:
            return False, "", f"stop refused: no cue {number!r}"
        for action in armed.cue.actions:
            if action.verb == "start" and action.target in self.stem_slots:
                self.producer.stop_stem(self.stem_slots[action.target])
            elif action.verb == "start":
                self.producer.post(-1, events.PART_STOP, self.part_numbers[action.target])
                self.players.pop(self.part_numbers[action.target], None)
        return True, number, "stopped what it started"

    def _stop_all(self, position, fade_seconds):
        self._stop_everything(fade_seconds)
        return True, "", f"stop all, fading over {fade_seconds:g} s"

    def _panic(self, position):
        self.producer.panic()
        self.players.clear()
        return True, "", "PANIC: every note off"

    def _locate(self, position, where):
        if self.rig.show.timecode.source != "none":
            return False, "", f"locate refused: the show chases {self.rig.show.timecode.source.upper()}, " \
                              "the picture decides where it is"
        self._stop_everything(JUMP_FADE_SECONDS)
        self.locate(where, position + self._latency())
        return True, "", f"located at {where}"

    def _stop_everything(self, fade_seconds: float):
        self.producer.stop_all(fade_seconds)
        self.players.clear()

    def _next_go_cue(self, after_slot: int) -> ArmedCue | None:
        return next((armed for armed in self.cues[after_slot + 1:] if armed.cue.trigger == "go"), None)

    def _previous_go_cue(self, before_slot: int) -> ArmedCue | None:
        return next((armed for armed in reversed(self.cues[:before_slot]) if armed.cue.trigger == "go"), None)

    def _latency(self) -> int:
        return self.engine.clock.latency_samples if self.engine.clock.running else 0

    # Running.

    def update(self, position: int, lookahead_samples: int | None = None):
        """Carry out commands, follow what the audio thread did, post ahead of `position`."""
        self.producer.flush()  # what a full ring held back, first
        while True:
            try:
                self._carry_out(self.commands.get_nowait())
            except queue.Empty:
                break
        for report in self.reports.drain():
            self._follow(report)
        self.stems.step()
        for starvation in self.stems.starvations():
            self._decide(position, self._cue_starting(starvation.name), self._starvation_text(starvation))
        horizon = position + (round(LOOKAHEAD_SECONDS * self.rate) if lookahead_samples is None else lookahead_samples)
        picture_horizon = self.engine.picture_at(horizon)
        for part, player in list(self.players.items()):
            if player.picture_frame is not None and picture_horizon is not None:
                # Its notes fall where the picture reaches them: post as far as the picture will be.
                player.post_until(player.nominal_sample(picture_horizon) + 1)
            else:
                player.post_until(horizon)
            if player.finished(position):
                del self.players[part]

    def _follow(self, event: CueEvent | PartStarted | PartsStopped | PictureSpeed):
        if isinstance(event, PartsStopped | PictureSpeed):
            if not getattr(event, "following", False):
                self.players.clear()
            self._decide(event.sample, "", event.text())
            return
        armed = self.cues[event.slot] if 0 <= event.slot < len(self.cues) else self.pickups.get(event.slot)
        number = armed.cue.number if armed else ""
        if isinstance(event, PartStarted):
            if armed is not None:
                sequence = self.sequences[event.part]
                self.players[event.part] = SequencePlayer(sequence, self.producer, event.sample, event.group,
                                                          max(armed.head_samples, event.offset), event.offset,
                                                          armed.held_in_template, event.picture_frame,
                                                          self.samples_per_frame)
                self._started_by_firing.add(event.part)
        elif event.fired:
            if event.slot in self.pickups:  # its template is in the audio thread: the slot is free for the next
                self.producer.disarm_cue(event.slot)
                armed = self.by_number[armed.cue.number]
            self.current = armed
            self.waiting.discard(armed.slot)
            if self.standing_by is armed:
                self.standing_by = self._next_go_cue(armed.slot)
            what = {CueOutcome.FIRED: "fired",
                    CueOutcome.FIRED_LATE: f"fired late {event.detail / self.rate * 1000:.0f} ms late "
                                           "(timecode locked after its frame)",
                    CueOutcome.FIRED_LATE_AFTER_DROPOUT: f"fired late by {event.detail / self.rate:.2f} s "
                                                         "(timecode dropout)",
                    CueOutcome.CHASED: f"chased {event.detail / self.rate:.2f} s into it (chase)"}[event.what]
            where = f" at {self._timecode_text(event.frame)}" if armed.cue.trigger == "timecode" else ""
            self._decide(event.sample, number, f"{what}{where}")
            # The audio thread has silenced what the cue stops; stop posting it. The parts this
            # firing started (reported just before it) play on, even if the cue stopped them first.
            started, self._started_by_firing = self._started_by_firing, set()
            for action in armed.cue.actions:
                if action.verb == "stop" and action.target in self.part_numbers:
                    if self.part_numbers[action.target] not in started:
                        self.players.pop(self.part_numbers[action.target], None)
                elif action.verb in ("stop_all", "panic"):
                    for part in set(self.players) - started:
                        del self.players[part]
                elif action.verb == "setup" and self.on_setup is not None:
                    self.on_setup(action.target, action.keyboard)
        elif event.what is CueOutcome.SKIPPED:
            self.waiting.discard(event.slot)
            where = self._timecode_text(event.frame)
            self._decide(event.sample, number, f"skipped: the picture is past it, at {where}")
        elif event.what is CueOutcome.REARMED:
            self.waiting.add(event.slot)
            self._decide(event.sample, number, "armed again: the picture went back before it")
        else:
            self._decide(event.sample, number, str(event.what))

    def _cue_starting(self, stem: str) -> str:
        """The number of the cue that starts `stem`, when only one does."""
        numbers = [armed.cue.number for armed in self.cues
                   if any(action.verb == "start" and action.target == stem for action in armed.cue.actions)]
        return numbers[0] if len(numbers) == 1 else ""

    def _starvation_text(self, starvation) -> str:
        silence = f"stem {starvation.name!r} played {starvation.frames / self.rate:.2f} s of silence from " \
                  f"{starvation.from_frame / self.rate:.2f} s into its file"
        if starvation.unreadable:
            return f"{silence}: the file could not be read there"
        return f"{silence}: the disk was late (it plays on in sync)"

    def _timecode_text(self, frame: float) -> str:
        rate = self.rig.show.timecode.rate
        return str(Timecode.from_frames(int(frame), rate))

    def _decide(self, sample: int, number: str, text: str):
        self.decisions.append(Decision(sample, number, text))
        self.decisions_made += 1
        log.info("%s%s", f"cue {number}: " if number else "", text)

    def idle(self) -> bool:
        """Nothing left to happen by itself: every timecode and follow cue fired or skipped, nothing
        playing (a GO may still stand by)."""
        return self.armed and not self.waiting and not self.players and not self.stems.playing() \
            and self.commands.empty() and self.reports.empty()

    def finished(self) -> bool:
        """Idle, and no GO stands by: the cue list is done."""
        return self.idle() and self.standing_by is None

    def status(self) -> str:
        current = f"{self.current.cue.number} {self.current.cue.name}" if self.current else "-"
        standing_by = f"{self.standing_by.cue.number} {self.standing_by.cue.name}" if self.standing_by else "-"
        return f"cue {current} | next GO {standing_by}"


def _row(sample, kind, target=0, a=0.0, b=0.0, c=0.0, d=0.0, e=0.0):
    return [float(sample), float(kind), float(target), float(a), float(b), float(c), float(d), float(e)]
