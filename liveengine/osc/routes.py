"""The OSC address space, modeled on QLab's, as a table of routes.

Each route is an address pattern ("/cue/{number}/start"), the arguments it takes (each checked
before anything is carried out), what it does, and a small handler. The table is the one place
an address is defined: the surface dispatches through it, and `markdown_table()` writes the
README's table of addresses from it (a test keeps the two the same), so what the engine
understands and what its documentation says cannot drift apart.

Run `python -m liveengine.osc.routes` to print the table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..levels import db_to_gain
from ..timecode import Timecode
from ..validation import is_number
from .server import OscClient

MAX_FEED_RATE = 30.0
DEFAULT_FEED_RATE = 10.0
DEFAULT_STOP_FADE = 3.0
MAX_FADE_SECONDS = 600.0


class CommandError(Exception):
    """What is wrong with a command, for its error reply."""


# --- Arguments ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Argument:
    """One argument of a route. `accept` returns the value as the handler takes it, or None when the
    value is not acceptable; a `numeric` argument that is no number at all is said to be so by name."""

    doc: str  # in the table of addresses: "fade s, default 3"
    name: str  # in messages: "fade" gives "/bus/keys/gain fade: expected a number, got 'x'"
    accept: Callable[[Any], Any]
    optional: bool = False
    default: Any = None
    numeric: bool = False


def number(doc: str, name: str, low: float, high: float, *, low_included: bool = True, optional: bool = False,
           default: float | None = None, whole: bool = False) -> Argument:
    """A finite int or float from `low` to `high` (above `low` when not `low_included`), as a float."""
    def accept(value):
        above_low = value >= low if low_included else value > low
        return float(value) if above_low and value <= high and (not whole or value == int(value)) else None

    return Argument(doc, name, accept, optional, default, numeric=True)


def flag(doc: str) -> Argument:
    """1 or 0 (as an int or a float): on or off."""
    return Argument(doc, "", lambda value: bool(value) if value in (0.0, 1.0) else None, numeric=True)


def whole_number(doc: str, low: int, *, optional: bool = False) -> Argument:
    """An OSC integer (not a float, not a boolean) of at least `low`."""
    return Argument(doc, "", lambda v: v if isinstance(v, int) and not isinstance(v, bool) and v >= low else None,
                    optional)


def control_value(doc: str) -> Argument:
    """Any OSC number, infinities included (a plugin's port clamps it to its range); NaN is none."""
    return Argument(doc, "value", lambda v: float(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                    and not math.isnan(v) else None)


def text(doc: str, *, optional: bool = False) -> Argument:
    return Argument(doc, "", lambda value: value if isinstance(value, str) else None, optional)


# --- Routes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One message being carried out: who sent it, the address's parts, the checked arguments, and the
    ways to answer. `reply(status, data)` answers a command (when its client asked for answers);
    `done(ok, text)` is how the cue runner and the keyboards say they have carried it out."""

    client: OscClient
    address: str
    parts: dict[str, str]  # the pattern's {fields}: {"number": "1M3"}
    arguments: tuple
    reply: Callable[[str, Any], None]

    def done(self, ok: bool, text: str):
        self.reply("ok" if ok else "error", text)


@dataclass(frozen=True)
class Route:
    pattern: str  # "/go", "/cue/{number}/start"
    arguments: tuple[Argument, ...]
    does: str  # what the table of addresses says of it
    handler: Callable[[Any, Call], None]  # (surface, call)
    expects: str = ""  # what the arguments must be, when one is wrong; default: from `arguments`
    answered: bool = False  # a query: always answered, straight to its sender, and not counted as a command

    def check(self, address: str, values: list) -> tuple:
        """The arguments as the handler takes them (defaults filled in); CommandError when they are wrong."""
        required = sum(1 for argument in self.arguments if not argument.optional)
        if not required <= len(values) <= len(self.arguments):
            raise self._wrong(address, values)
        checked = []
        for argument, value in zip(self.arguments, values):
            if argument.numeric and not is_number(value):
                where = f"{address} {argument.name}".rstrip()
                raise CommandError(f"{where}: expected a number, got {value!r}")
            accepted = argument.accept(value)
            if accepted is None:
                raise self._wrong(address, values)
            checked.append(accepted)
        checked += [argument.default for argument in self.arguments[len(values):]]
        return tuple(checked)

    def _wrong(self, address: str, values: list) -> CommandError:
        if not self.arguments:
            return CommandError(f"{address}: expected no arguments, got {values!r}")
        return CommandError(f"{address}: expected {self.expects}")

    @property
    def argument_doc(self) -> str:
        return " ".join(f"[{argument.doc}]" if argument.optional else argument.doc for argument in self.arguments)


class AddressSpace:
    """Finds the route of an address: fixed addresses by name, patterns in table order."""

    def __init__(self, routes: list[Route]):
        self.routes = tuple(routes)
        self._fixed = {route.pattern: route for route in routes if "{" not in route.pattern}
        self._patterns = [(re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(route.pattern))), route)
                          for route in routes if "{" in route.pattern]

    def find(self, address: str) -> tuple[Route, dict[str, str]]:
        route = self._fixed.get(address)
        if route is not None:
            return route, {}
        for pattern, route in self._patterns:
            if (match := pattern.fullmatch(address)):
                return route, match.groupdict()
        raise CommandError(f"unknown address {address!r}")

    @property
    def always_answered(self) -> tuple[str, ...]:
        return tuple(route.pattern for route in self.routes if route.answered)

    def markdown_table(self) -> str:
        rows = ["| address | arguments | what it does |", "|---|---|---|"]
        rows += [f"| `{route.pattern}` |{f' {route.argument_doc}' if route.arguments else ''} | {route.does} |"
                 for route in self.routes]
        rows.append(f"| `{SEQUENCED_PATTERN}` | as the command | {SEQUENCED_DOES} |")
        return "\n".join(rows)


SEQUENCED_PATTERN = "/seq/{n}/..."
SEQUENCED_DOES = "carried out once per client and n, answered every time"
SEQUENCED = re.compile(r"/seq/([0-9]{1,18})(/.*)")


# --- Handlers ------------------------------------------------------------------------------
# Each carries out one route's command through the surface (the cue runner, the OSC ring's
# producer, the keyboards) and answers through the call.


def _go(surface, call: Call):
    surface.runner.go(call.done)


def _back(surface, call: Call):
    surface.runner.back(call.done)


def _panic(surface, call: Call):
    surface.runner.panic(call.done)


def _stop(surface, call: Call):
    surface.runner.stop_all(call.arguments[0], call.done)


def _cue_start(surface, call: Call):
    bar, = call.arguments  # a rehearsal pickup: from bar N of the cue's music
    if bar is None:
        surface.runner.fire(call.parts["number"], done=call.done)
    else:
        surface.runner.fire(call.parts["number"], bar, done=call.done)


def _cue_stop(surface, call: Call):
    surface.runner.stop_cue(call.parts["number"], call.done)


def _cue_standby(surface, call: Call):
    surface.runner.standby(call.parts["number"], call.done)


def _bus_gain(surface, call: Call):
    db, fade = call.arguments
    surface.producer.bus_gain(surface.bus(call.parts["name"]), db_to_gain(db), fade)
    call.reply("ok", None)


def _bus_mute(surface, call: Call):
    surface.producer.bus_mute(surface.bus(call.parts["name"]), call.arguments[0])
    call.reply("ok", None)


def _setup(surface, call: Call):
    if surface.keyboards is None:
        raise CommandError(f"no keyboard setup {call.parts['name']!r}: this show has no keyboards")
    surface.keyboards.change_setup(call.parts["name"], call.arguments[0], call.done)


def _insert_bypass(surface, call: Call):
    column = surface.insert_column(call.parts["name"], call.parts["n"])
    surface.producer.bypass_insert(column, call.arguments[0])
    call.reply("ok", None)


def _insert_control(surface, call: Call):
    column = surface.insert_column(call.parts["name"], call.parts["n"])
    call.reply("ok", {"value": surface.set_plugin_control(column, call.parts["symbol"], call.arguments[0],
                                                          call.address)})


def _insert_query(surface, call: Call):
    column = surface.insert_column(call.parts["name"], call.parts["n"])
    surface.answer(call.client, call.address, "ok", surface.plugin_state(column))


def _instrument_control(surface, call: Call):
    column = surface.instrument_column(call.parts["name"])
    call.reply("ok", {"value": surface.set_plugin_control(column, call.parts["symbol"], call.arguments[0],
                                                          call.address)})


def _instrument_query(surface, call: Call):
    surface.answer(call.client, call.address, "ok", surface.plugin_state(surface.instrument_column(call.parts["name"])))


def _locate(surface, call: Call):
    try:
        where = Timecode.parse(call.arguments[0], surface.rig.show.timecode.rate)
    except ValueError as error:
        raise CommandError(f"/locate: {error}") from None
    surface.runner.locate_master(where, call.done)


def _query(surface, call: Call):
    surface.answer(call.client, call.address, "ok", surface.query(call.address))


def _state(surface, call: Call):
    call.client.send_packet(surface.state_packet())


def _replies(surface, call: Call):
    surface.answer_commands(call.client, call.arguments[0])
    call.reply("ok", None)


def _subscribe(surface, call: Call):
    rate, port = call.arguments
    client = call.client
    if port is not None:  # a feed for a listener beside the sender, e.g. oscdump
        if client.connection is not None:
            raise CommandError("/subscribe: the port must be 1 to 65535, and only over UDP")
        client = OscClient(client.server, client.host, int(port))
    surface.subscribe(client, rate)


def _unsubscribe(surface, call: Call):
    surface.unsubscribe(call.client)
    call.reply("ok", None)


def _query_route(address: str, does: str) -> Route:
    return Route(address, (), does, _query, answered=True)


ADDRESS_SPACE = AddressSpace([
    Route("/go", (), "fire the cue standing by", _go),
    Route("/stop", (number("fade s, default 3", "fade seconds", 0, MAX_FADE_SECONDS, optional=True,
                           default=DEFAULT_STOP_FADE),),
          "stop all with a fade", _stop, expects="at most one fade time, 0 to 600 seconds"),
    Route("/panic", (), "every note off within 5 ms", _panic),
    Route("/back", (), "stand by on the previous GO cue", _back),
    Route("/cue/{number}/start", (whole_number("bar, from 1", 1, optional=True),),
          "fire that cue now; with a bar, from that bar of its music (a rehearsal pickup)", _cue_start,
          expects="no arguments, or a bar number from 1"),
    Route("/cue/{number}/stop", (), "stop the parts, clicks and stems it starts", _cue_stop),
    Route("/cue/{number}/standby", (), "stand by on it", _cue_standby),
    Route("/bus/{name}/gain", (number("dB", "dB", -96, 12), number("fade s", "fade", 0, MAX_FADE_SECONDS,
                                                                    optional=True, default=0.0)),
          "bus gain, -96 to +12 dB", _bus_gain,
          expects="dB from -96 to 12 and an optional fade time, 0 to 600 seconds"),
    Route("/bus/{name}/mute", (flag("1 or 0"),), "mute with a short ramp", _bus_mute, expects="1 (mute) or 0"),
    Route("/bus/{name}/insert/{n}/bypass", (flag("1 or 0"),),
          "bypass the bus's LV2 insert n (from 1), or put it back, with a short crossfade", _insert_bypass,
          expects="1 (bypass) or 0"),
    Route("/bus/{name}/insert/{n}/{symbol}", (control_value("value"),),
          "set that control port of the bus's LV2 insert n, on its sample (clamped to the port's range; the "
          "reply says the value set)", _insert_control, expects="one number (not NaN)"),
    Route("/bus/{name}/insert/{n}", (), "query: the insert's plugin, latency, bypass and every control's value",
          _insert_query, answered=True),
    Route("/instrument/{name}/{symbol}", (control_value("value"),),
          "set that control port of an LV2 instrument, on its sample (clamped to the port's range)",
          _instrument_control, expects="one number (not NaN)"),
    Route("/instrument/{name}", (), "query: an LV2 instrument's plugin, latency and every control's value",
          _instrument_query, answered=True),
    Route("/locate", (text("\"HH:MM:SS:FF\""),), "as timecode master: jump the timecode there (what plays stops)",
          _locate, expects="one timecode string, like \"01:00:00:00\""),
    Route("/setup/{name}", (text("keyboard", optional=True),),
          "that keyboard setup for the next notes of every keyboard, or of the one named "
          "(`setup 'organ' on every keyboard for the next notes`)", _setup,
          expects="at most one argument, the keyboard's name"),
    _query_route("/cuelist", "query: the cues, in show order"),
    _query_route("/buses", "query: each bus as it plays now"),
    _query_route("/setups", "query: the keyboard setups, and the keyboards on each"),
    Route("/state", (), "query: timecode, chase, current and next cue, voices, DSP load, dropouts", _state,
          answered=True),
    _query_route("/ping", "query: answers \"pong\""),
    Route("/replies", (flag("1 or 0"),), "answer my commands too", _replies,
          expects="1 (answer my commands) or 0"),
    Route("/subscribe", (number(f"rate Hz, up to {MAX_FEED_RATE:g}, default {DEFAULT_FEED_RATE:g}", "rate", 0,
                                MAX_FEED_RATE, low_included=False, optional=True, default=DEFAULT_FEED_RATE),
                         number("UDP port", "port", 1, 65535, optional=True, whole=True)),
          "the monitoring feed, for 10 s unless renewed (always answered)", _subscribe,
          expects=f"a rate above 0 and up to {MAX_FEED_RATE:g} Hz, and optionally the UDP port to send the "
                  "feed to", answered=True),
    Route("/unsubscribe", (), "the feed no more", _unsubscribe),
])


if __name__ == "__main__":
    print(ADDRESS_SPACE.markdown_table())
