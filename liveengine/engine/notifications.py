"""What the audio thread reports, as typed values the control plane subscribes to.

The audio thread pushes fixed rows on its notification ring; `Engine.poll()` turns each into
one of the frozen values below (`decode`) and hands it to every subscription that asked for
its type, in the order the audio thread made them. A consumer (the cue runner, the terminal,
the sample loader, the OSC feed) subscribes once and drains its subscription on its own
thread: nothing is worded and then read back. Each value words itself for people (`text`),
in samples; whoever shows it in timecode passes the words it needs.
"""

import math
import queue
import threading
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ..kernel import chase
from ..kernel import events as ev


class ChaseChange(StrEnum):
    """What the timecode chase did."""

    LOCKING = "locking"
    LOCKED = "locked"
    FRAME_REJECTED = "frame rejected"
    RELOCATED = "relocated"
    RESUMED = "resumed after dropout"
    FREEWHEEL = "dropout: freewheel"
    STOPPED = "stopped"


CHASE_CHANGES = {
    chase.STARTED_LOCKING: ChaseChange.LOCKING, chase.LOCKED_NOW: ChaseChange.LOCKED,
    chase.REJECTED: ChaseChange.FRAME_REJECTED, chase.RELOCATED: ChaseChange.RELOCATED,
    chase.RESUMED: ChaseChange.RESUMED,
    ev.CHASE_IDLE_OFFSET + chase.FREEWHEEL_STARTED: ChaseChange.FREEWHEEL,
    ev.CHASE_IDLE_OFFSET + chase.STOPPED_NOW: ChaseChange.STOPPED,
}


class CueOutcome(StrEnum):
    """What the audio thread did with an armed cue."""

    FIRED = "fired"
    FIRED_LATE = "fired late"
    CHASED = "chased"
    SKIPPED = "skipped"
    REARMED = "rearmed"
    NOT_ARMED = "not armed"
    TRUNCATED = "truncated"
    FIRED_LATE_AFTER_DROPOUT = "fired late after dropout"


CUE_OUTCOMES = {
    ev.CUE_FIRED: CueOutcome.FIRED, ev.CUE_FIRED_LATE: CueOutcome.FIRED_LATE, ev.CUE_CHASED: CueOutcome.CHASED,
    ev.CUE_SKIPPED: CueOutcome.SKIPPED, ev.CUE_REARMED: CueOutcome.REARMED, ev.CUE_NOT_ARMED: CueOutcome.NOT_ARMED,
    ev.CUE_TRUNCATED: CueOutcome.TRUNCATED, ev.CUE_FIRED_LATE_AFTER_DROPOUT: CueOutcome.FIRED_LATE_AFTER_DROPOUT,
}
FIRINGS = frozenset({CueOutcome.FIRED, CueOutcome.FIRED_LATE, CueOutcome.FIRED_LATE_AFTER_DROPOUT, CueOutcome.CHASED})


class StopReason(StrEnum):
    """Why every part that cues started stopped."""

    JUMP = "jump"
    TIMECODE_STOPPED = "timecode stopped"


class Refusal(IntEnum):
    """Why the audio thread refused a note."""

    NO_VOICE = ev.REFUSED_NO_VOICE
    NO_INSTRUMENT = ev.REFUSED_NO_INSTRUMENT
    BAD_BUS = ev.REFUSED_BAD_BUS

    @property
    def text(self) -> str:
        return {Refusal.NO_VOICE: "every voice was busy", Refusal.NO_INSTRUMENT: "the instrument is not loaded",
                Refusal.BAD_BUS: "its bus does not exist"}[self]


class Resource(IntEnum):
    """What the audio thread adopts and lets go (engine/handover.py)."""

    INSTRUMENT = ev.RESOURCE_INSTRUMENT
    CUE = ev.RESOURCE_CUE
    SAMPLE = ev.RESOURCE_SAMPLE
    PATCH = ev.RESOURCE_PATCH

    @property
    def noun(self) -> str:
        return {Resource.INSTRUMENT: "instrument", Resource.CUE: "cue slot", Resource.SAMPLE: "sample slot",
                Resource.PATCH: "the staged patch of instrument"}[self]


class HandoverOutcome(IntEnum):
    DONE = ev.HANDOVER_DONE
    KEPT = ev.HANDOVER_KEPT  # a voice still plays the sample: ask again later
    REFUSED = ev.HANDOVER_REFUSED


@dataclass(frozen=True)
class Notification:
    sample: int  # where on the engine's sample clock it happened


@dataclass(frozen=True)
class LateEvent(Notification):
    """An event that arrived after its sample had played: applied on the block's first sample."""

    kind: str  # the event's kind, as events.EVENT_NAMES names it
    wanted_sample: int

    @property
    def applied_sample(self) -> int:
        return self.sample

    def text(self) -> str:
        return f"late {self.kind}: asked for sample {self.wanted_sample}, applied at {self.sample}"


@dataclass(frozen=True)
class Acknowledged(Notification):
    """The audio thread reached a fence: everything posted before it on that ring has applied."""

    token: int


@dataclass(frozen=True)
class NoteRefused(Notification):
    note: int
    reason: Refusal
    instrument: int

    def text(self, instrument_name: str) -> str:
        return f"{instrument_name}: notes refused: {self.reason.text}"


@dataclass(frozen=True)
class TimecodeEvent(Notification):
    """Something the chase did: locked, relocated, rejected a frame, freewheeled, stopped."""

    what: ChaseChange
    frame: float  # frames since midnight: of the frame concerned, or where the line stood

    def text(self, where: str) -> str:
        """`where`: the frame as the show's timecode."""
        return f"timecode {self.what} at {where}"


@dataclass(frozen=True)
class CueEvent(Notification):
    """What the audio thread did with an armed cue."""

    what: CueOutcome
    slot: int
    detail: float  # fired late / chased: by how many samples; truncated: events dropped
    frame: float = 0.0  # where the picture stood (frames since midnight)

    @property
    def fired(self) -> bool:
        return self.what in FIRINGS


@dataclass(frozen=True)
class PartStarted(Notification):
    """A part started playing in a fresh note group; `sample` is where its time 0 falls."""

    part: int
    slot: int  # the cue slot whose firing started it
    group: int
    offset: int  # samples into the part at which it started
    # While chasing, the frame position of the part's time 0: its notes follow the picture's clock
    # (kernel/picture.py), each at the frame its samples from `sample` make at the nominal rate. None on
    # the audio clock.
    picture_frame: float | None = None


@dataclass(frozen=True)
class PartsStopped(Notification):
    """Every part that cues started stopped: the picture jumped or its timecode stopped."""

    why: StopReason

    def text(self) -> str:
        return f"parts stopped: {'the picture jumped' if self.why is StopReason.JUMP else 'the timecode stopped'}"


@dataclass(frozen=True)
class PictureSpeed(Notification):
    """The chased picture's speed crossed the speed followed (`[timecode] follow_speed`): beyond it
    (a scrub, a shuttle) what cues started stopped, as for a jump; back within it, a new pass of
    the cues began where the picture is (a chase cue starts there part-way)."""

    following: bool  # True: back within the speed followed; False: beyond it
    speed: float  # the picture's speed, 1.0 nominal
    bound: float  # the speed followed, a share either side of 1
    frame: float  # where the picture stood (frames since midnight)

    def text(self) -> str:
        bound = f"{100 * self.bound:g} %"
        if self.following:
            return f"the picture plays at {self.speed:.4f}x, within {bound} of its speed again: its cues follow it"
        return f"the picture runs at {self.speed:.3f}x, beyond {bound} of its speed (a scrub or a shuttle): " \
               "what cues started stops until it plays again"


@dataclass(frozen=True)
class SampleWanted(Notification):
    """A voice started on a sample longer than its preloaded head: read it in full."""

    slot: int


@dataclass(frozen=True)
class SampleNotReady(Notification):
    """A voice reached frames of its sample not read yet: it played silence there."""

    slot: int
    note: int


@dataclass(frozen=True)
class HandedOver(Notification):
    """The audio thread's answer to an ADOPT or a LET_GO (engine/handover.py)."""

    token: int
    resource: Resource
    slot: int
    outcome: HandoverOutcome


def decode(row) -> Notification | None:
    """The typed value of one notification row (None for a clock pair, which only the clock reads)."""
    kind, sample, target = int(row[ev.KIND]), int(row[ev.SAMPLE]), int(row[ev.TARGET])
    a, b, c = row[ev.A], row[ev.B], row[ev.C]
    if kind == ev.LATE_EVENT:
        return LateEvent(sample, ev.EVENT_NAMES.get(target, f"kind {target}"), int(a))
    if kind == ev.ACKNOWLEDGED:
        return Acknowledged(sample, target)
    if kind == ev.NOTE_REFUSED:
        return NoteRefused(sample, target, Refusal(int(a)), int(b))
    if kind == ev.TIMECODE:
        return TimecodeEvent(sample, CHASE_CHANGES[target], float(a))
    if kind == ev.CUE:
        return CueEvent(sample, CUE_OUTCOMES[int(a)], target, float(b), float(c))
    if kind == ev.PART_STARTED:
        return PartStarted(sample, target, int(b), int(a), int(c), None if math.isnan(row[ev.D]) else float(row[ev.D]))
    if kind == ev.SEQUENCES_STOPPED:
        return PartsStopped(sample, StopReason.JUMP if int(a) == ev.STOPPED_BY_JUMP else StopReason.TIMECODE_STOPPED)
    if kind == ev.SAMPLE_WANTED:
        return SampleWanted(sample, target)
    if kind == ev.SAMPLE_NOT_READY:
        return SampleNotReady(sample, target, int(a))
    if kind == ev.PICTURE_SPEED:
        return PictureSpeed(sample, target != 0, float(a), float(b), float(c))
    if kind == ev.HANDED_OVER:
        return HandedOver(sample, target, Resource(int(a)), int(b), HandoverOutcome(int(c)))
    return None


class Subscription:
    """The notifications of the types one consumer asked for, in order, until it unsubscribes.
    Filled by the thread that polls the engine; drained by the consumer's own. It keeps everything
    until drained (a cue runner must miss no firing): a consumer that stops draining closes it."""

    def __init__(self, hub: "Notifications", kinds: tuple[type, ...]):
        self.kinds = kinds
        self._hub = hub
        self._queue: queue.SimpleQueue[Notification] = queue.SimpleQueue()

    def put(self, notification: Notification):
        self._queue.put(notification)

    def get(self, timeout: float | None = None) -> Notification:
        """The next notification, waiting up to `timeout` seconds (queue.Empty if none came)."""
        return self._queue.get(timeout=timeout)

    def get_nowait(self) -> Notification:
        return self._queue.get_nowait()

    def drain(self) -> list[Notification]:
        """Every notification waiting now, oldest first."""
        taken = []
        while True:
            try:
                taken.append(self._queue.get_nowait())
            except queue.Empty:
                return taken

    def empty(self) -> bool:
        return self._queue.empty()

    def close(self):
        self._hub.unsubscribe(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc):
        self.close()


class Notifications:
    """The engine's subscriptions: each notification goes to every one that asked for its type."""

    def __init__(self):
        self._lock = threading.Lock()
        self._subscriptions: tuple[Subscription, ...] = ()

    def subscribe(self, *kinds: type) -> Subscription:
        """A subscription to the notifications of these types (subclasses of Notification)."""
        if not kinds or not all(isinstance(kind, type) and issubclass(kind, Notification) for kind in kinds):
            raise TypeError("subscribe to one or more notification types, such as CueEvent or TimecodeEvent")
        subscription = Subscription(self, kinds)
        with self._lock:
            self._subscriptions += (subscription,)
        return subscription

    def unsubscribe(self, subscription: Subscription):
        with self._lock:
            self._subscriptions = tuple(s for s in self._subscriptions if s is not subscription)

    def publish(self, notification: Notification):
        for subscription in self._subscriptions:
            if isinstance(notification, subscription.kinds):
                subscription.put(notification)
