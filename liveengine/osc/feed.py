"""The monitoring feed: who subscribed, what one tick of it says, and the thread that sends it.

A subscriber gets a bundle per tick at its own rate (/meter/{bus} peak L, peak R, RMS L, RMS R;
/timecode text, chase state, drift in samples since lock, speed and drift in ppm; /cue/current and /cue/next number, name; /voices;
/dsp average and maximum %; /dropouts; /late_events), and /event kind text as things happen.
A subscription not renewed within SUBSCRIPTION_SECONDS ends.
"""

import collections
import logging
import math
import threading
import time
from dataclasses import dataclass

from ..timecode import FrameRate, Timecode
from .routes import CommandError
from .server import OscClient

log = logging.getLogger("liveengine.osc")

SUBSCRIPTION_SECONDS = 10.0  # a subscription not renewed for this long ends
MAX_SUBSCRIBERS = 64
DEVICE_SILENT_SECONDS = 1.0


@dataclass
class Subscription:
    client: OscClient
    interval: float
    next_due: float
    expires: float


def cue_fields(armed) -> list[str]:
    """An armed cue as the feed and /state name it: [number, name], or ["", ""] for none."""
    return [armed.cue.number, armed.cue.name] if armed is not None else ["", ""]


def timecode_text(status, rate: FrameRate) -> str:
    """The chase's timecode as text, "" while it has none to give (stopped, locking)."""
    if status.state not in ("locked", "freewheel"):
        return ""
    return str(Timecode.from_frames(math.floor(status.position), rate))


def drift_fields(drift) -> tuple[float, float, float]:
    """The picture's clock against the audio's (engine.clock_drift) as the feed sends it: drift in samples
    since lock, speed in ppm, drift in ppm; zeros while no picture is followed."""
    return (0.0, 0.0, 0.0) if drift is None else (float(drift.samples), float(drift.speed_ppm), float(drift.ppm))


class Feed:
    """The subscribers of one show's feed (any thread may subscribe; the publisher thread sends)."""

    def __init__(self, engine, runner, rate: FrameRate):
        self.engine = engine
        self.runner = runner
        self.rate = rate
        self._subscriptions: dict[tuple, Subscription] = {}
        self._lock = threading.Lock()

    def subscribe(self, client: OscClient, rate: float) -> float:
        """Send `client` the feed at `rate` Hz until the seconds returned pass without a renewal."""
        now = time.monotonic()
        with self._lock:
            if client.key not in self._subscriptions and len(self._subscriptions) >= MAX_SUBSCRIBERS:
                raise CommandError(f"/subscribe: {MAX_SUBSCRIBERS} clients are subscribed already")
            self._subscriptions[client.key] = Subscription(client, 1.0 / rate, now, now + SUBSCRIPTION_SECONDS)
        return SUBSCRIPTION_SECONDS

    def unsubscribe(self, client: OscClient):
        with self._lock:
            self._subscriptions.pop(client.key, None)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    def messages(self) -> list[tuple]:
        """One tick of the monitoring feed, as (address, *args)."""
        t = self.engine.telemetry()
        messages = [(f"/meter/{name}", *map(float, meter.peak_dbfs), *map(float, meter.rms_dbfs))
                    for name, meter in t.buses.items()]
        messages += [
            ("/timecode", timecode_text(t.timecode, self.rate), t.timecode.state, *drift_fields(self.engine.clock_drift)),
            ("/cue/current", *cue_fields(self.runner.current)),
            ("/cue/next", *cue_fields(self.runner.standing_by)),
            ("/voices", int(t.voices)),
            ("/dsp", float(100 * t.dsp_load_average), float(100 * t.dsp_load_max)),
            ("/dropouts", int(t.missed_cycles)),
            ("/late_events", int(t.late_events)),
        ]
        return messages

    def publish(self, events: list[tuple[str, str]]):
        """Send the feed to every subscriber that is due, and `events` (kind, text) to all of them."""
        now = time.monotonic()
        with self._lock:
            for key in [key for key, sub in self._subscriptions.items() if sub.expires < now]:
                log.info("OSC subscription of %s expired", self._subscriptions.pop(key).client)
            due = [sub for sub in self._subscriptions.values() if sub.next_due <= now]
            everyone = list(self._subscriptions.values())
            for sub in due:
                sub.next_due = max(sub.next_due + sub.interval, now)
        if due:
            tick = self.messages()
            for sub in due:
                sub.client.send_bundle(tick)
        for kind, text in events:
            for sub in everyone:
                sub.client.send("/event", kind, text)


class FeedPublisher:
    """A control-plane thread that sends the feed at its subscribers' rates, and the events:
    cue decisions, timecode state changes, the audio device stopping and resuming, refused clients."""

    TICK_SECONDS = 1.0 / 120

    def __init__(self, surface, audio=None, listeners=()):
        """`surface`: the OscSurface whose feed this publishes; `audio`: the show's KeptStream, whose losses of its server are said even when it reconnects
        before the callbacks have been silent for long; `listeners`: called with each batch of events too
        (the web pages' event log)."""
        self.surface = surface
        self.audio = audio
        self.listeners = list(listeners)
        self._losses = 0
        self._events: collections.deque[tuple[str, str]] = collections.deque(maxlen=256)
        self._decisions_seen = surface.runner.decisions_made
        self._timecode_state = None
        self._rate_reports_seen = surface.engine.timecode_rate_reports_made
        self._callbacks = None
        self._callbacks_changed = time.monotonic()
        self._device_lost = False
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="liveengine-osc-feed", daemon=True)

    def event(self, kind: str, text: str):
        self._events.append((kind, text))

    def start(self) -> "FeedPublisher":
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()
        self._thread.join(timeout=2.0)

    def _run(self):
        while not self._stopping.wait(self.TICK_SECONDS):
            self._watch()
            events = []
            while self._events:
                events.append(self._events.popleft())
            self.surface.feed.publish(events)
            for listener in self.listeners if events else ():
                listener(events)

    def _watch(self):
        runner = self.surface.runner
        made = runner.decisions_made
        if made != self._decisions_seen:
            decisions = list(runner.decisions)[-(min(made - self._decisions_seen, len(runner.decisions))):]
            for decision in decisions:
                kind = "cue" if decision.cue else "show"
                self.event(kind, f"{decision.cue} {decision.text}".strip())
            self._decisions_seen = made
        telemetry = self.surface.engine.telemetry()
        state = telemetry.timecode.state
        if self._timecode_state is not None and state != self._timecode_state:
            what = {"locked": "locked", "freewheel": "lock lost: freewheel", "stopped": "stopped",
                    "locking": "locking"}[state]
            self.event("timecode", what)
        self._timecode_state = state
        reports, self._rate_reports_seen = self.surface.engine.timecode_rate_reports_since(self._rate_reports_seen)
        for _, text, _ in reports:
            self.event("timecode", text)
        now = time.monotonic()
        losses = self.audio.losses if self.audio is not None else 0
        if losses != self._losses and not self._device_lost:
            self._device_lost = True
            self.event("device", "audio device lost")
        self._losses = losses
        reconnecting = self.audio is not None and self.audio.lost
        if telemetry.callbacks != self._callbacks and not reconnecting:
            if self._device_lost:
                self.event("device", "audio resumed")
            self._callbacks, self._callbacks_changed, self._device_lost = telemetry.callbacks, now, False
        elif not self._device_lost and now - self._callbacks_changed > DEVICE_SILENT_SECONDS:
            self._device_lost = True
            self.event("device", "audio device lost")
