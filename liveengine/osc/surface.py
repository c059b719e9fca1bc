"""The OSC surface: carries out what clients send, through the address space of routes.py.

A reply is /reply{address} with one JSON string: {"address", "status": "ok"|"error", "data"}.
Queries and /subscribe are always answered; commands are answered once the client asks with
/replies 1. A command sent as /seq/{n}{address} is carried out once for its client and n, and
answered every time, so a client may resend it over a lossy network until it hears back.

Monitoring: /subscribe [rate Hz [UDP port, else the sender's]], renewed within
10 s, /unsubscribe; what the feed sends is feed.py's.
"""

import collections
import json
import threading
import time

from ..engine import BusLevel
from .feed import Feed, cue_fields, timecode_text
from .routes import ADDRESS_SPACE, SEQUENCED, Call, CommandError
from .server import OscClient, message

REMEMBERED_SEQUENCES = 256  # per client host
# How old an answer to /state may be. Reading it costs about 0.1 ms; a flood of queries shares one
# reading instead, and leaves the worker's time to the other clients' /go and /ping.
STATE_MAX_AGE_SECONDS = 0.005


class OscSurface:
    """Carries out what OSC clients ask. `handle` runs in the OSC worker thread, which owns
    `producer` (the engine's "osc" ring); cue operations go through the cue runner."""

    def __init__(self, rig, runner, producer, keyboards=None):
        self.rig = rig
        self.keyboards = keyboards
        self.engine = rig.engine
        self.runner = runner
        self.producer = producer
        self._replies_for: set[str] = set()  # client hosts that asked for replies
        self._sequences: dict[str, collections.OrderedDict] = {}
        self._lock = threading.Lock()
        self.feed = Feed(self.engine, runner, rig.show.timecode.rate)
        self.commands_carried_out = 0
        self.errors = 0
        self._state_packet = b""
        self._state_read_at = -STATE_MAX_AGE_SECONDS

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

    # LV2 plugins.

    def insert_column(self, bus: str, position: str) -> int:
        """The plugin column of insert `position` (from 1) on `bus`."""
        number = self.engine.state.bus_index[self.bus(bus)]
        try:
            return self.engine.plugins.insert_column(number, int(position))
        except (ValueError, LookupError) as error:
            raise CommandError(f"bus {bus!r}: {error}") from None

    def instrument_column(self, name: str) -> int:
        """The plugin column of the LV2 instrument `name`."""
        number = self.rig.instrument_numbers.get(name)
        if number is None:
            raise CommandError(f"no instrument {name!r}; instruments: {', '.join(self.rig.instrument_numbers)}")
        try:
            return self.engine.plugins.instrument_column(number)
        except LookupError as error:
            raise CommandError(f"instrument {name!r}: {error}") from None

    def set_plugin_control(self, column: int, symbol: str, value: float, address: str) -> float:
        """Post the control change, its value clamped to the port's range, gliding there over the de-zipper
        time while the stream runs (each step on its sample); returns the value set."""
        try:
            port, clamped = self.engine.plugins.control_value(column, symbol, value)
        except (LookupError, ValueError) as error:
            raise CommandError(f"{address}: {error}") from None
        steps = self.engine.plugins.glide(column, port, clamped)
        if not self.engine.clock.running or len(steps) == 1:
            self.producer.plugin_control(column, port, clamped)
            return clamped
        start = self.engine.clock.sample_for_arrival(time.monotonic_ns())
        spacing = max(1, round(self.engine.settings.dezipper_seconds * self.engine.settings.sample_rate / len(steps)))
        for number, step in enumerate(steps):
            self.producer.plugin_control(column, port, step, sample=start + number * spacing)
        return clamped

    def plugin_state(self, column: int) -> dict:
        return self.engine.plugins.state_of(column)

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
                "timecode": timecode_text(telemetry.timecode, show.timecode.rate), "chase": telemetry.timecode.state,
                "current_cue": cue_fields(self.runner.current), "next_cue": cue_fields(self.runner.standing_by),
                "voices": telemetry.voices, "dsp_percent": 100 * telemetry.dsp_load_average,
                "dropouts": telemetry.missed_cycles, "late_events": telemetry.late_events}

    def state_packet(self) -> bytes:
        """The answer to /state as a packet, read anew once it is STATE_MAX_AGE_SECONDS old."""
        now = time.monotonic()
        if now - self._state_read_at >= STATE_MAX_AGE_SECONDS:
            self._state_packet = message("/reply/state", _reply_text("/state", "ok", self.query("/state")))
            self._state_read_at = now
        return self._state_packet

    # The feed.

    def subscribe(self, client: OscClient, rate: float):
        """Send `client` the feed at `rate` Hz, and tell it for how long unless it renews."""
        self.answer(client, "/subscribe", "ok", {"rate": rate, "expires": self.feed.subscribe(client, rate)})

    def unsubscribe(self, client: OscClient):
        self.feed.unsubscribe(client)


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
