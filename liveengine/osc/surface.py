"""The OSC surface: carries out what clients send, through the address space of routes.py.

A reply is /reply{address} with one JSON string: {"address", "status": "ok"|"error", "data"}.
Queries and /subscribe are always answered; commands are answered once the client asks with
/replies 1. A command sent as /seq/{n}{address} is carried out once for its client and n, and
answered every time, so a client may resend it over a lossy network until it hears back.

Monitoring: /subscribe [rate Hz [UDP port, else the sender's]], renewed within
SUBSCRIPTION_SECONDS, /unsubscribe; the
feed is a bundle per tick (/meter/{bus}, /timecode, /cue/current, /cue/next, /voices, /dsp,
/dropouts, /late_events) and /event kind text as things happen.
"""

import collections
import json
import logging
import math
import threading
import time
from dataclasses import dataclass

from ..engine import BusLevel
from ..show.timecode import Timecode
from .routes import ADDRESS_SPACE, SEQUENCED, Call, CommandError
from .server import OscClient

log = logging.getLogger("liveengine.osc")

SUBSCRIPTION_SECONDS = 10.0  # a subscription not renewed for this long ends
REMEMBERED_SEQUENCES = 256  # per client host
MAX_SUBSCRIBERS = 64
DEVICE_SILENT_SECONDS = 1.0


@dataclass
class Subscription:
    client: OscClient
    interval: float
    next_due: float
    expires: float


class OscSurface:
    """Carries out what OSC clients ask. `handle` runs in the OSC worker thread, which owns
    `producer` (the engine's "osc" ring); cue operations go through the cue runner."""

    def __init__(self, rig, runner, producer, keyboards=None):
        self.rig = rig
        self.keyboards = keyboards
        self.engine = rig.engine
        self.runner = runner
        self.producer = producer
        self.rate = self.engine.settings.sample_rate
        self._replies_for: set[str] = set()  # client hosts that asked for replies
        self._sequences: dict[str, collections.OrderedDict] = {}
        self._subscriptions: dict[tuple, Subscription] = {}
        self._lock = threading.Lock()
        self._drift = Drift(self.rate, float(rig.show.timecode.rate.fps))
        self.commands_carried_out = 0
        self.errors = 0

    # Dispatch.

    def handle(self, client: OscClient, address: str, args: list):
        sequenced = SEQUENCED.fullmatch(address)
        if sequenced:
            self._handle_sequenced(client, int(sequenced.group(1)), sequenced.group(2), args)
            return
        self._dispatch(client, address, args, lambda status, data: self._reply_if_asked(client, address, status, data))

    def _handle_sequenced(self, client: OscClient, number: int, address: str, args: list):
        with self._lock:
            remembered = self._sequences.setdefault(client.host, collections.OrderedDict())
            seen = number in remembered
            answer = remembered.get(number)
            if not seen:
                remembered[number] = None  # taken; its answer comes when it is done
                while len(remembered) > REMEMBERED_SEQUENCES:
                    remembered.popitem(last=False)
        if seen:
            if answer is not None:  # carried out already: answer again, never act twice
                client.send(f"/reply/seq/{number}{address}", answer)
            return

        def reply(status, data):
            text = _reply_text(f"/seq/{number}{address}", status, data)
            with self._lock:
                remembered[number] = text
            client.send(f"/reply/seq/{number}{address}", text)

        self._dispatch(client, address, args, reply)

    def _dispatch(self, client: OscClient, address: str, args: list, reply):
        try:
            route, parts = ADDRESS_SPACE.find(address)
            route.handler(self, Call(client, address, parts, route.check(address, args), reply))
        except CommandError as error:
            self.errors += 1
            reply("error", str(error))
            return
        if not route.answered:
            self.commands_carried_out += 1

    # What the routes' handlers use.

    def answer(self, client: OscClient, address: str, status: str, data):
        """Answer `client` whether or not it asked for replies (queries, /subscribe)."""
        client.send(f"/reply{address}", _reply_text(address, status, data))

    def _reply_if_asked(self, client: OscClient, address: str, status: str, data):
        if client.host in self._replies_for:
            self.answer(client, address, status, data)

    def answer_commands(self, client: OscClient, on: bool):
        (self._replies_for.add if on else self._replies_for.discard)(client.host)

    def bus(self, name: str) -> str:
        """`name`, when the show has such a bus."""
        if name not in self.engine.state.bus_index:
            raise CommandError(f"no bus {name!r}; buses: {', '.join(self.engine.state.bus_index)}")
        return name

    # Queries.

    def query(self, address: str):
        show = self.rig.show
        if address == "/ping":
            return "pong"
        if address == "/cuelist":
            return [{"number": armed.cue.number, "name": armed.cue.name, "trigger": armed.cue.trigger,
                     "timecode": str(armed.cue.timecode) if armed.cue.timecode else None,
                     "follow_seconds": armed.cue.wait_seconds if armed.cue.trigger == "follow" else None,
                     "chase": armed.cue.chase}
                    for armed in self.runner.cues if show.cues]
        if address == "/buses":  # what plays now: commands, cues and fades included
            levels = self.engine.bus_levels()
            return [{"name": bus.name, **_level_fields(levels[bus.name]),
                     "outputs": [channel + 1 for channel in bus.outputs], "to": bus.feeds}
                    for bus in show.buses.values()]
        if address == "/setups":
            current = {name: state.setup.config.name for name, state in self.keyboards.keyboards.items()} \
                if self.keyboards else {}
            return [{"name": setup.name, "program": setup.program,
                     "layers": [layer.instrument for layer in setup.layers],
                     "keyboards": sorted(name for name, now in current.items() if now == setup.name)}
                    for setup in show.setups.values()]
        telemetry = self.engine.telemetry()
        return {"show": show.name, "position_samples": telemetry.position,
                "timecode": self._timecode_text(telemetry.timecode), "chase": telemetry.timecode.state,
                "current_cue": self._cue_fields(self.runner.current),
                "next_cue": self._cue_fields(self.runner.standing_by),
                "voices": telemetry.voices, "dsp_percent": 100 * telemetry.dsp_load_average,
                "dropouts": telemetry.missed_cycles, "late_events": telemetry.late_events}

    @staticmethod
    def _cue_fields(armed) -> list[str]:
        return [armed.cue.number, armed.cue.name] if armed is not None else ["", ""]

    def _timecode_text(self, status) -> str:
        if status.state not in ("locked", "freewheel"):
            return ""
        return str(Timecode.from_frames(math.floor(status.position), self.rig.show.timecode.rate))

    # The feed.

    def subscribe(self, client: OscClient, rate: float):
        """Send `client` the feed at `rate` Hz until SUBSCRIPTION_SECONDS pass without a renewal."""
        now = time.monotonic()
        with self._lock:
            if client.key not in self._subscriptions and len(self._subscriptions) >= MAX_SUBSCRIBERS:
                raise CommandError(f"/subscribe: {MAX_SUBSCRIBERS} clients are subscribed already")
            self._subscriptions[client.key] = Subscription(client, 1.0 / rate, now, now + SUBSCRIPTION_SECONDS)
        self.answer(client, "/subscribe", "ok", {"rate": rate, "expires": SUBSCRIPTION_SECONDS})

    def unsubscribe(self, client: OscClient):
        with self._lock:
            self._subscriptions.pop(client.key, None)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscriptions)

    def feed_messages(self) -> list[tuple]:
        """One tick of the monitoring feed, as (address, *args)."""
        t = self.engine.telemetry()
        messages = [(f"/meter/{name}", *map(float, meter.peak_dbfs), *map(float, meter.rms_dbfs))
                    for name, meter in t.buses.items()]
        messages += [
            ("/timecode", self._timecode_text(t.timecode), t.timecode.state, float(self._drift.samples(t))),
            ("/cue/current", *self._cue_fields(self.runner.current)),
            ("/cue/next", *self._cue_fields(self.runner.standing_by)),
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
            tick = self.feed_messages()
            for sub in due:
                sub.client.send_bundle(tick)
        for kind, text in events:
            for sub in everyone:
                sub.client.send("/event", kind, text)


class Drift:
    """How far the picture has moved against the audio clock since the chase last locked, in samples."""

    def __init__(self, sample_rate: int, fps: float):
        self.samples_per_frame = sample_rate / fps
        self._reference = None

    def samples(self, telemetry) -> float:
        status = telemetry.timecode
        if status.state not in ("locked", "freewheel"):
            self._reference = None
            return 0.0
        if self._reference is None:
            self._reference = (status.position, telemetry.position)
            return 0.0
        position, sample = self._reference
        return (status.position - position) * self.samples_per_frame - (telemetry.position - sample)


class FeedPublisher:
    """A control-plane thread that sends the feed at its subscribers' rates, and the events:
    cue decisions, timecode state changes, the audio device stopping and resuming, refused clients."""

    TICK_SECONDS = 1.0 / 120

    def __init__(self, surface: OscSurface, audio=None):
        """`audio`: the show's KeptStream, whose losses of its server are said even when it reconnects
        before the callbacks have been silent for long."""
        self.surface = surface
        self.audio = audio
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
            self.surface.publish(events)

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


def answer_before_the_show(client: OscClient, address: str, args: list):
    """What the OSC port says while the show is starting: nothing is carried out, and every
    message (a command, a query, a sequenced command) hears so."""
    client.send(f"/reply{address}", _reply_text(address, "error", "the show is starting: nothing was carried "
                                                                   "out; send it again in a moment"))


def _level_fields(level: BusLevel) -> dict:
    return {"gain_db": round(level.gain_db, 2), "target_db": round(level.target_db, 2),
            "fade_seconds": round(level.fade_seconds, 3), "mute": level.muted}


def _reply_text(address: str, status: str, data) -> str:
    return json.dumps({"address": address, "status": status, "data": data})
