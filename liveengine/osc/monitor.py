"""The sound engineer's monitor: a terminal display of the engine's OSC monitoring feed.

`liveengine monitor HOST:PORT` subscribes to the engine's feed from its own UDP socket and draws,
several times a second, a big timecode with the chase state, the current cue and the one standing
by, a meter per bus, the engine's load counters and the latest events, with alerts on top.

The feed protocol (the engine's OSC server implements it):

    -> /subscribe RATE_HZ (1..30)     renewed every few seconds: the engine drops a subscription
                                      after 10 s without renewal
    -> /unsubscribe                   on quitting
    <- /reply/subscribe JSON          {"address": "/subscribe", "status": "ok"|"error"|"refused", "data": ...}
    <- /meter/BUS peak_l peak_r rms_l rms_r     dBFS, -120 is silence
    <- /timecode "HH:MM:SS:FF" state drift_samples speed_ppm drift_ppm    ";" before the frames for drop-frame
    <- /cue/current number name, /cue/next number name      "" when none
    <- /voices n, /dsp load_percent max_percent, /dropouts n, /late_events n
    <- /event kind text               as it happens: "cue", "timecode", "device", "stem", "osc"
"""

import json
import logging
import math
import os
import select
import shutil
import socket
import sys
import time
from collections import deque
from dataclasses import dataclass

import pythonosc
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

MIN_RATE_HZ, MAX_RATE_HZ = 1.0, 30.0
# The engine drops a subscription after 10 s without renewal, and the protocol asks for one every
# 5 s at most; every 3 s lets two renewals in a row be lost (UDP) before the feed stops.
RENEW_SECONDS = 3.0
NO_FEED_SECONDS = 2.0
EVENTS_KEPT = 8
# A hostile or broken sender could invent any number of buses; more than this would not fit a screen.
MAX_BUSES = 32

METER_FLOOR_DBFS = -60.0  # the bars' scale: -60..0 dBFS
CLIP_DBFS = 0.0  # a peak at or over full scale
# A clip lasts one meter update; holding the mark a few seconds lets the engineer see it at all.
CLIP_HOLD_SECONDS = 3.0
# How long a rise in dropouts or late events stays an alert.
RISE_ALERT_SECONDS = 5.0

NO_TIMECODE = "--:--:--:--"

TTY_FRAME_SECONDS = 0.1  # redraw rate on a terminal
PIPE_FRAME_SECONDS = 1.0  # one screen a second when the output is a file or a pipe
DATAGRAM_MAX = 65535
DRAIN_LIMIT = 1000  # datagrams poll() takes past its deadline


@dataclass
class BusMeter:
    peak_left: float
    peak_right: float
    rms_left: float
    rms_right: float
    clipped_left_at: float | None = None
    clipped_right_at: float | None = None


@dataclass(frozen=True)
class FeedEvent:
    arrived_at: float  # time.monotonic() at arrival
    wall_clock: str  # "HH:MM:SS" local time at arrival, for the engineer's show report
    kind: str
    text: str


def _is_number(value) -> bool:
    """A finite int or float. bool is an int in Python, but an OSC True/False is no level or count;
    the chained comparison also turns away NaN, infinities and ints too big for a float."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and -1e300 < value < 1e300


def _is_count(value) -> bool:
    return _is_number(value) and value >= 0


def _strings(args, count: int) -> bool:
    return len(args) >= count and all(isinstance(arg, str) for arg in args[:count])


def _numbers(args, count: int) -> bool:
    return len(args) >= count and all(_is_number(arg) for arg in args[:count])


class FeedState:
    """The latest of everything the feed has said; survives any message (unknown or wrong ones are counted)."""

    def __init__(self):
        self.created_at = time.monotonic()
        self.last_received: float | None = None  # monotonic time of the last message applied
        self.timecode: str | None = None
        self.chase_state: str | None = None
        self.drift_samples: float | None = None
        self.speed_ppm: float | None = None  # the picture's speed from nominal, when the feed says it
        self.current_cue: tuple[str, str] | None = None  # (number, name)
        self.next_cue: tuple[str, str] | None = None
        self.meters: dict[str, BusMeter] = {}
        self.voices: int | None = None
        self.dsp_load: float | None = None
        self.dsp_max: float | None = None
        self.dropouts: int | None = None
        self.dropouts_rose_at: float | None = None
        self.late_events: int | None = None
        self.late_events_rose_at: float | None = None
        self.events: deque[FeedEvent] = deque(maxlen=EVENTS_KEPT)
        self.device_alarm: str | None = None  # the last "device" event, until the device comes back
        self.subscription_status: str | None = None  # "ok", "error", "refused"; None before any reply
        self.subscription_detail: str = ""
        self.link_error: str | None = None  # set by the client when it cannot send to the engine
        self.messages_applied = 0
        self.messages_ignored = 0
        self.malformed_datagrams = 0
        self._handlers = {
            "/timecode": self._timecode, "/cue/current": self._current_cue, "/cue/next": self._next_cue,
            "/voices": self._voices, "/dsp": self._dsp, "/dropouts": self._dropouts,
            "/late_events": self._late_events, "/event": self._event, "/reply/subscribe": self._subscribe_reply,
        }

    def apply(self, address: str, args: list, at: float | None = None) -> None:
        """Take one message; `at` is its arrival (time.monotonic()), now when not given."""
        at = time.monotonic() if at is None else at
        if not isinstance(address, str) or not isinstance(args, (list, tuple)):
            self.messages_ignored += 1
            return
        if address.startswith("/meter/"):
            accepted = self._meter(address[len("/meter/"):], args, at)
        else:
            handler = self._handlers.get(address)
            accepted = handler is not None and handler(args, at)
        if accepted:
            self.messages_applied += 1
            self.last_received = at
        else:
            self.messages_ignored += 1

    def apply_datagram(self, datagram: bytes, at: float | None = None) -> int:
        """Take one UDP datagram (a message or a bundle); returns how many messages it held, 0 when
        it is malformed (counted in malformed_datagrams)."""
        try:
            packet = OscPacket(datagram)
        except (ParseError, ValueError):  # python-osc lets a UnicodeDecodeError through on some garbage
            self.malformed_datagrams += 1
            return 0
        # A bundle's time tag is for scheduling; a display shows everything as it arrives.
        for timed in packet.messages:
            self.apply(timed.message.address, list(timed.message.params), at)
        return len(packet.messages)

    def _meter(self, bus: str, args, at: float) -> bool:
        if not bus or not _numbers(args, 4) or (bus not in self.meters and len(self.meters) >= MAX_BUSES):
            return False
        peak_left, peak_right, rms_left, rms_right = (float(level) for level in args[:4])
        meter = self.meters.get(bus)
        if meter is None:
            meter = self.meters[bus] = BusMeter(peak_left, peak_right, rms_left, rms_right)
        else:
            meter.peak_left, meter.peak_right, meter.rms_left, meter.rms_right = (
                peak_left, peak_right, rms_left, rms_right)
        if peak_left >= CLIP_DBFS:
            meter.clipped_left_at = at
        if peak_right >= CLIP_DBFS:
            meter.clipped_right_at = at
        return True

    def _timecode(self, args, at: float) -> bool:
        if not (_strings(args, 2) and len(args) >= 3 and _is_number(args[2])):
            return False
        self.timecode, self.chase_state, self.drift_samples = args[0], args[1], float(args[2])
        self.speed_ppm = float(args[3]) if len(args) >= 4 and _is_number(args[3]) else None
        return True

    def _current_cue(self, args, at: float) -> bool:
        if not _strings(args, 2):
            return False
        self.current_cue = (args[0], args[1])
        return True

    def _next_cue(self, args, at: float) -> bool:
        if not _strings(args, 2):
            return False
        self.next_cue = (args[0], args[1])
        return True

    def _voices(self, args, at: float) -> bool:
        if not (args and _is_count(args[0])):
            return False
        self.voices = int(args[0])
        return True

    def _dsp(self, args, at: float) -> bool:
        if not _numbers(args, 2):
            return False
        self.dsp_load, self.dsp_max = float(args[0]), float(args[1])
        return True

    def _dropouts(self, args, at: float) -> bool:
        if not (args and _is_count(args[0])):
            return False
        count = int(args[0])
        # The counts run since the engine started: only a rise seen here is news.
        if self.dropouts is not None and count > self.dropouts:
            self.dropouts_rose_at = at
        self.dropouts = count
        return True

    def _late_events(self, args, at: float) -> bool:
        if not (args and _is_count(args[0])):
            return False
        count = int(args[0])
        if self.late_events is not None and count > self.late_events:
            self.late_events_rose_at = at
        self.late_events = count
        return True

    def _event(self, args, at: float) -> bool:
        if not _strings(args, 2):
            return False
        kind, text = args[0], args[1]
        self.events.append(FeedEvent(at, time.strftime("%H:%M:%S"), kind, text))
        if kind == "device":
            # "audio device lost" stands until the engine says otherwise ("audio resumed").
            self.device_alarm = text if "lost" in text.lower() else None
        return True

    def _subscribe_reply(self, args, at: float) -> bool:
        if not _strings(args, 1):
            return False
        try:
            reply = json.loads(args[0])
            if not isinstance(reply, dict) or not isinstance(reply.get("status"), str):
                return False
            data = reply.get("data")
            detail = "" if data is None else data if isinstance(data, str) else json.dumps(data)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than json will go
            return False
        self.subscription_status, self.subscription_detail = reply["status"], detail
        return True


# ---------------------------------------------------------------------------------------------
# The screen

GLYPH_ROWS = 5
GLYPHS = {
    "0": ("####", "#  #", "#  #", "#  #", "####"),
    "1": ("   #", "   #", "   #", "   #", "   #"),
    "2": ("####", "   #", "####", "#   ", "####"),
    "3": ("####", "   #", "####", "   #", "####"),
    "4": ("#  #", "#  #", "####", "   #", "   #"),
    "5": ("####", "#   ", "####", "   #", "####"),
    "6": ("####", "#   ", "####", "#  #", "####"),
    "7": ("####", "   #", "   #", "   #", "   #"),
    "8": ("####", "#  #", "####", "#  #", "####"),
    "9": ("####", "#  #", "####", "   #", "####"),
    ":": (" ", "#", " ", "#", " "),
    ";": (" ", "#", " ", "#", ","),  # drop-frame: the comma below tells it from ":" at a glance
    "-": ("    ", "    ", "####", "    ", "    "),  # no timecode yet
}


def big_text(text: str) -> list[str] | None:
    """`text` drawn GLYPH_ROWS lines tall, one column between glyphs; None when a character has no glyph."""
    if not text or any(character not in GLYPHS for character in text):
        return None
    return [" ".join(GLYPHS[character][row] for character in text) for row in range(GLYPH_ROWS)]


def _printable(text: str) -> str:
    # Everything shown comes off the network: a newline or an escape sequence would wreck the screen.
    return "".join(character if character.isprintable() else "?" for character in text)


def _db_text(level: float) -> str:
    """A (finite) level in five columns: " -6.0", "-18.2", " -120", " +0.3"."""
    level = max(-999.0, min(999.0, level))
    return f"{level:+5.1f}" if -99.95 < level < 99.95 else f"{level:+5.0f}"


def level_cells(level: float, cells: int) -> int:
    """How many of a bar's `cells` a level fills on the METER_FLOOR_DBFS..0 dBFS scale; rounded down, so
    that only full scale fills the last cell."""
    if math.isnan(level) or level <= METER_FLOOR_DBFS:
        return 0
    if level >= 0.0:
        return cells
    return min(cells - 1, int((level - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS * cells))


def meter_bar(peak: float, rms: float, cells: int, clipped: bool) -> str:
    """ "[####===.......]": RMS as "#", peak beyond it as "=", the rest "."; the last cell "!" when clipped."""
    peak_cells, rms_cells = level_cells(peak, cells), level_cells(rms, cells)
    rms_cells = min(rms_cells, peak_cells)  # a peak under the RMS would be a broken meter: show the peak
    bar = "#" * rms_cells + "=" * (peak_cells - rms_cells) + "." * (cells - peak_cells)
    if clipped and cells:
        bar = bar[:-1] + "!"
    return f"[{bar}]"


def _held(since: float | None, now: float, seconds: float) -> bool:
    return since is not None and now - since < seconds


def _joined(parts: list[str], width: int, gap: str = "   ") -> list[str]:
    """`parts` side by side, starting a new line where the next would not fit."""
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + len(gap) + len(part) <= width:
            lines[-1] += gap + part
        else:
            lines.append(part)
    return lines


def _alerts(state: FeedState, now: float) -> list[str]:
    alerts = []
    silent_for = now - (state.last_received if state.last_received is not None else state.created_at)
    if silent_for >= NO_FEED_SECONDS:
        waiting = "" if state.last_received is not None else " (nothing received yet)"
        alerts.append(f"NO FEED for {int(silent_for)} s{waiting}")
    if state.link_error:
        alerts.append(f"cannot send to the engine: {state.link_error}")
    if state.subscription_status in ("error", "refused"):
        detail = f": {state.subscription_detail}" if state.subscription_detail else ""
        alerts.append(f"SUBSCRIPTION {state.subscription_status.upper()}{detail}")
    if state.device_alarm:
        alerts.append(f"AUDIO DEVICE: {state.device_alarm}")
    if state.chase_state == "freewheel":
        alerts.append("TIMECODE FREEWHEELING: lock lost, the engine runs on its own clock")
    if _held(state.dropouts_rose_at, now, RISE_ALERT_SECONDS):
        alerts.append(f"AUDIO DROPOUTS: {state.dropouts} missed cycles since start")
    if _held(state.late_events_rose_at, now, RISE_ALERT_SECONDS):
        alerts.append(f"LATE EVENTS: {state.late_events} since start")
    return [f"!! {_printable(alert)}" for alert in alerts]


def _timecode_lines(state: FeedState, width: int) -> list[str]:
    timecode = state.timecode if state.timecode is not None else NO_TIMECODE
    drawn = big_text(timecode)
    if drawn is not None and len(drawn[0]) <= width:
        lines = [row.center(width).rstrip() for row in drawn]
    else:  # a timecode with no glyphs or too wide for the screen: plain text
        lines = [f"TIMECODE {_printable(timecode)}"]
    chase = (state.chase_state or "unknown").upper()
    drift = "--" if state.drift_samples is None else f"{state.drift_samples:+.1f}"
    details = [f"chase {_printable(chase)}", f"drift {drift} samples"]
    if state.speed_ppm is not None:
        details.append(f"speed {state.speed_ppm:+.0f} ppm")
    if ";" in timecode:
        details.append("drop-frame")
    if drawn is not None:
        details.append(timecode)
    return lines + _joined(details, width)


def _cue_lines(state: FeedState) -> list[str]:
    lines = []
    for label, cue, suffix in (("CURRENT", state.current_cue, ""),
                               ("NEXT   ", state.next_cue, "   (standing by for GO)")):
        if cue is None or not (cue[0] or cue[1]):
            lines.append(f"{label}  (none)")
        else:
            lines.append(f"{label}  {_printable(f'{cue[0]:<6} {cue[1]}'.rstrip())}{suffix}")
    return lines


def _meter_lines(state: FeedState, width: int, now: float) -> list[str]:
    if not state.meters:
        return ["meters: none received"]
    name_width = min(12, max(3, *(len(name) for name in state.meters)))
    # name, then per side "L [bar] peak  rms", then the clip flag: every column but the bars is fixed.
    numbers = True
    fixed = name_width + 1 + 2 * (2 + 2 + 12) + 2 + 5
    cells = (width - fixed) // 2
    if cells < 6:  # a narrow screen: the bars matter more than the numbers
        numbers = False
        fixed = name_width + 1 + 2 * (2 + 2) + 2 + 5
        cells = max(1, (width - fixed) // 2)
    scale = f"dBFS: bar -60..0, # rms, = peak{', numbers peak rms' if numbers else ''}"
    lines = [f"{'bus':<{name_width}} {scale}"]
    for name, meter in state.meters.items():
        sides = []
        clipped_any = False
        for side, peak, rms, clipped_at in (("L", meter.peak_left, meter.rms_left, meter.clipped_left_at),
                                            ("R", meter.peak_right, meter.rms_right, meter.clipped_right_at)):
            clipped = _held(clipped_at, now, CLIP_HOLD_SECONDS)
            clipped_any = clipped_any or clipped
            text = f"{side} {meter_bar(peak, rms, cells, clipped)}"
            if numbers:
                text += f" {_db_text(peak)} {_db_text(rms)}"
            sides.append(text)
        shown_name = _printable(name)[:name_width]
        lines.append(f"{shown_name:<{name_width}} {'  '.join(sides)}{' CLIP' if clipped_any else ''}")
    return lines


def _counter_lines(state: FeedState, width: int) -> list[str]:
    def shown(value, form="{}"):
        return "--" if value is None else form.format(value)

    return _joined([f"voices {shown(state.voices)}",
                    f"DSP {shown(state.dsp_load, '{:.0f}%')} (max {shown(state.dsp_max, '{:.0f}%')})",
                    f"dropouts {shown(state.dropouts)}", f"late events {shown(state.late_events)}"], width)


def _event_lines(state: FeedState) -> list[str]:
    if not state.events:
        return ["events: none yet"]
    lines = ["recent events, newest first"]
    for event in reversed(state.events):
        lines.append(f"{event.wall_clock}  {_printable(event.kind):<8} {_printable(event.text)}")
    return lines


def render_screen(state: FeedState, width: int = 80, now: float | None = None,
                  title: str = "liveengine monitor") -> str:
    """The whole screen as text, every line at most `width` columns; `now` is time.monotonic() when not given."""
    now = time.monotonic() if now is None else now
    width = max(1, width)
    rule = "-" * width
    lines = [_printable(title), "=" * width]
    lines += _alerts(state, now)
    lines += _timecode_lines(state, width)
    lines += [rule, *_cue_lines(state), rule, *_meter_lines(state, width, now), rule,
              *_counter_lines(state, width), rule]
    lines += _event_lines(state)
    footer = f"{state.messages_applied} messages, {state.messages_ignored} ignored"
    if state.malformed_datagrams:
        footer += f", {state.malformed_datagrams} malformed datagrams"
    lines += [rule, footer]
    return "\n".join(line[:width].rstrip() for line in lines)


# ---------------------------------------------------------------------------------------------
# The client


def parse_target(text: str) -> tuple[str, int]:
    """ "host:port" or "[ipv6]:port" -> (host, port); ValueError saying what is wrong."""
    text = text.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or not rest.startswith(":"):
            raise ValueError(f"expected [IPV6]:PORT, got {text!r}")
        port_text = rest[1:]
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon:
            raise ValueError(f"expected HOST:PORT (e.g. 192.168.1.20:9000), got {text!r}")
        if ":" in host:
            raise ValueError(f"put an IPv6 address in brackets, e.g. [::1]:9000; got {text!r}")
    if not host:
        raise ValueError(f"no host before the port in {text!r}")
    if not (port_text.isascii() and port_text.isdigit()):
        raise ValueError(f"the port must be a number, got {port_text!r} in {text!r}")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"the port must be 1 to 65535, got {port}")
    return host, port


def resolve_target(host: str, port: int) -> tuple[int, tuple]:
    """(address family, socket address) of the engine; socket.gaierror when `host` does not resolve."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    # "localhost" often resolves to ::1 first while OSC servers usually listen on IPv4 only.
    for family, _, _, _, address in found:
        if family == socket.AF_INET:
            return family, address
    family, _, _, _, address = found[0]
    return family, address


class _QuietOscParser(logging.Filter):
    """Drops python-osc's warnings about odd datagrams: logged to the root logger, they would land
    on standard error in the middle of the screen; the screen counts what was ignored instead."""

    PACKAGE_DIRECTORY = os.path.dirname(pythonosc.__file__)

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.pathname.startswith(self.PACKAGE_DIRECTORY)


def _osc_message(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


class MonitorClient:
    """Subscribes to the engine's feed from its own UDP socket and applies what arrives to `state`.

    `local_address` binds the socket (default: any interface, a free port); `renew_interval` is how
    often the subscription is renewed (the engine drops it after 10 s without renewal).
    """

    def __init__(self, host: str, port: int, local_address: tuple[str, int] | None = None,
                 renew_interval: float = RENEW_SECONDS, state: FeedState | None = None):
        family, self.target = resolve_target(host, port)
        self.renew_interval = renew_interval
        self.state = state if state is not None else FeedState()
        self.rate: float | None = None
        self.subscriptions_sent = 0
        self._renew_at: float | None = None
        self.socket = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if local_address is None:
                local_address = ("::" if family == socket.AF_INET6 else "0.0.0.0", 0)
            self.socket.bind(local_address)
        except OSError:
            self.socket.close()
            raise
        self._quiet = _QuietOscParser()
        logging.getLogger().addFilter(self._quiet)

    @property
    def local_address(self) -> tuple:
        return self.socket.getsockname()

    def _send(self, datagram: bytes) -> bool:
        try:
            self.socket.sendto(datagram, self.target)
        except OSError as error:  # network down, no route: the screen says so and renewal retries
            self.state.link_error = str(error)
            return False
        self.state.link_error = None
        return True

    def subscribe(self, rate: float) -> bool:
        """Ask for the feed at `rate` Hz (1..30) and keep renewing it from poll(); False when it could not be sent."""
        if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
            raise ValueError(f"the feed rate must be {MIN_RATE_HZ:g} to {MAX_RATE_HZ:g} Hz, got {rate:g}")
        self.rate = float(rate)
        return self._renew()

    def _renew(self) -> bool:
        self._renew_at = time.monotonic() + self.renew_interval
        self.subscriptions_sent += 1
        return self._send(_osc_message("/subscribe", self.rate))

    def _renew_if_due(self):
        if self._renew_at is not None and time.monotonic() >= self._renew_at:
            self._renew()

    def poll(self, timeout: float = 0.0) -> int:
        """Receive and apply datagrams for `timeout` seconds (0: only those already waiting), renewing
        the subscription when due; returns how many messages arrived."""
        deadline = time.monotonic() + max(0.0, timeout)
        taken = overtime = 0
        while True:
            self._renew_if_due()
            now = time.monotonic()
            late = now >= deadline
            wait = 0.0 if late else deadline - now
            if self._renew_at is not None:
                wait = min(wait, self._renew_at - now)
            readable, _, _ = select.select([self.socket], [], [], max(0.0, wait))
            if not readable:
                if late:
                    return taken
                continue
            if late:
                # Datagrams waiting at the deadline are taken too, but a flood must not hold the caller.
                overtime += 1
                if overtime > DRAIN_LIMIT:
                    return taken
            try:
                datagram, _ = self.socket.recvfrom(DATAGRAM_MAX)
            except OSError:  # e.g. Windows reports an earlier send's ICMP "port unreachable" here
                continue
            taken += self.state.apply_datagram(datagram)

    def close(self):
        """Unsubscribe (best effort) and close the socket; calling it again does nothing."""
        if self.socket.fileno() < 0:
            return
        if self._renew_at is not None:
            self._send(_osc_message("/unsubscribe"))
            self._renew_at = None
        self.socket.close()
        logging.getLogger().removeFilter(self._quiet)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


# ---------------------------------------------------------------------------------------------
# The command

CLEAR_SCREEN, HOME, CLEAR_TO_END_OF_LINE, CLEAR_BELOW = "\x1b[2J", "\x1b[H", "\x1b[K", "\x1b[J"
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


def _is_tty(out) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def run_monitor(host: str, port: int, rate: float = 10.0, seconds: float | None = None, out=sys.stdout) -> int:
    """Show the engine's feed until Ctrl-C (or for `seconds`); 0, or 1 with a message on standard error."""
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        print(f"liveengine monitor: the feed rate must be {MIN_RATE_HZ:g} to {MAX_RATE_HZ:g} Hz, got {rate:g}",
              file=sys.stderr)
        return 1
    try:
        client = MonitorClient(host, port)
    except socket.gaierror as error:
        print(f"liveengine monitor: cannot resolve {host}:{port}: {error.strerror or error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"liveengine monitor: cannot open a UDP socket: {error}", file=sys.stderr)
        return 1

    tty = _is_tty(out)
    title = f"liveengine monitor  {host}:{port}  {rate:g} Hz"
    frame_seconds = TTY_FRAME_SECONDS if tty else PIPE_FRAME_SECONDS
    started = time.monotonic()
    deadline = None if seconds is None else started + seconds

    def draw():
        if tty:
            size = shutil.get_terminal_size()
            lines = render_screen(client.state, size.columns, title=title).split("\n")[:size.lines]
            # Home and overwrite, clearing each line's tail and what is below: no flicker of a full clear.
            out.write(HOME + "".join(line + CLEAR_TO_END_OF_LINE + "\n" for line in lines[:-1])
                      + lines[-1] + CLEAR_TO_END_OF_LINE + CLEAR_BELOW)
        else:
            out.write(render_screen(client.state, title=title) + "\n\n")
        out.flush()

    try:
        if tty:
            out.write(CLEAR_SCREEN + HOME + HIDE_CURSOR)
        client.subscribe(rate)
        next_frame = started + frame_seconds
        drawn_last = False
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            until = next_frame if deadline is None else min(next_frame, deadline)
            client.poll(until - now)
            drawn_last = time.monotonic() >= next_frame
            if drawn_last:
                draw()
                next_frame += frame_seconds
                if next_frame <= time.monotonic():  # after a stall, carry on rather than catch up frame by frame
                    next_frame = time.monotonic() + frame_seconds
        if not drawn_last:
            draw()  # a run shorter than a frame still shows what it saw
    except KeyboardInterrupt:
        pass
    finally:
        client.close()
        if tty:
            out.write(SHOW_CURSOR + "\n")
            out.flush()
    return 0
