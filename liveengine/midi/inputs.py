"""The keyboardists' MIDI inputs: each keyboard of the show on its port, kept open for the whole show.

A keyboard is found by a pattern of its port's name (a USB keyboard, a MIDI interface), or
is a virtual input port that other software connects to. A keyboard whose port is missing
does not stop the show: it is reported, and a watcher thread opens it as soon as a matching
port appears; a port that goes away (a cable pulled, a keyboard switched off) is reported
and reopened when it is back.

Messages go to `on_message(name, message, arrival_ns)` from the process's MIDI thread, which
reads every input's queue (`midi.poller`: rtmidi's callbacks, on JACK, run in JACK's process
thread and wait there for the GIL, and messages came through them corrupted), with its arrival on
CLOCK_MONOTONIC. SysEx, timing clock, MTC quarter frames and active sensing are dropped there:
they are not performance data, and a keyboard's SysEx dump or clock would only crowd the
player's notes.

Each keyboard is a MidiIn client of its own per backend, named "<client_name> <keyboard>"
(so a virtual keyboard "upper" with port "upper keys" is "liveengine upper:upper keys" on
JACK). The clients are made at start and kept until stop; while the show runs only their
ports come and go. Making or closing a JACK client waits for the JACK graph with the GIL held
(python-rtmidi does not release it), and the MIDI thread cannot read meanwhile. Registering,
connecting and unregistering a port does not wait.

The watcher compares the connected ports with the names that one probe MidiIn per backend
lists, every `poll_seconds`: a port that vanishes and comes back within one poll is not seen
to have gone, and its connection is then lost until the next time it vanishes, so keep the
poll short (replugging a USB keyboard takes longer than the default second).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Self

import rtmidi

from .poller import shared_poller
from .ports import PORT_ERRORS, close_midi_inputs

__all__ = ["MidiInputSpec", "MidiInputs"]

log = logging.getLogger("liveengine.midi")


@dataclass(frozen=True)
class MidiInputSpec:
    """One keyboard of the show: its name, and either a pattern of its port's name
    (a case-insensitive regular expression) or the name of a virtual input port to open."""

    name: str
    pattern: str | None = None
    virtual: str | None = None

    def __post_init__(self):
        if not self.name:
            raise ValueError("a MIDI input needs a name")
        if (self.pattern is None) == (self.virtual is None):
            raise ValueError(f"MIDI input {self.name!r}: give either a port pattern or a virtual port name, not "
                             f"{'both' if self.pattern is not None else 'neither'}")
        if self.virtual is not None and not self.virtual:
            raise ValueError(f"MIDI input {self.name!r}: the virtual port needs a name")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as error:
                raise ValueError(f"MIDI input {self.name!r}: bad port pattern {self.pattern!r}: {error}") from None


class _Keyboard:
    """What the watcher knows about one spec: its clients, where it listens, what was reported."""

    def __init__(self, spec: MidiInputSpec):
        self.spec = spec
        self.regex = re.compile(spec.pattern, re.IGNORECASE) if spec.pattern is not None else None
        self.clients: dict[int, rtmidi.MidiIn] = {}  # backend -> this keyboard's MidiIn there
        self.api: int | None = None  # where it is connected, if it is
        self.port: str | None = None  # the port it listens to: the source port, or its own virtual port
        self.lost = False  # it was connected, and its port went away: the next connection is a return
        self.problem: str | None = None  # the opening error last reported, so each is reported once

    @property
    def is_open(self) -> bool:
        return self.api is not None


def _api_name(api: int) -> str:
    return rtmidi.get_api_display_name(api)


class MidiInputs:
    """The show's keyboards, opened by :meth:`start`, watched and reopened until :meth:`stop`.

    `on_message(name, message, arrival_ns)` gets the keyboard's name, the message's bytes
    (a list of ints) and its arrival on CLOCK_MONOTONIC in ns, in the process's MIDI thread: it
    must be quick (queue the message, do the work elsewhere). An exception from it is logged
    (once per keyboard and kind of exception) and the input goes on.

    `report(text)` gets each change of a keyboard's state as a sentence for the operator; by
    default they are logged on "liveengine.midi" (openings as info, the rest as warnings).
    `apis`: the rtmidi backends to look on, in order (default: every compiled one).
    """

    def __init__(self, specs: Iterable[MidiInputSpec], on_message: Callable[[str, list[int], int], None], *,
                 apis: Iterable[int] | None = None, client_name: str = "liveengine", poll_seconds: float = 1.0,
                 report: Callable[[str], None] | None = None):
        self.specs = tuple(specs)
        names = [spec.name for spec in self.specs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"MIDI inputs named more than once: {', '.join(duplicates)}")
        if not poll_seconds > 0:
            raise ValueError(f"poll_seconds must be positive, not {poll_seconds!r}")
        self.apis = tuple(api for api in (rtmidi.get_compiled_api() if apis is None else apis)
                          if api != rtmidi.API_RTMIDI_DUMMY)
        self.client_name = client_name
        self.poll_seconds = float(poll_seconds)
        self._on_message = on_message
        self._report_to = report
        self._keyboards = [_Keyboard(spec) for spec in self.specs]
        self._probes: dict[int, rtmidi.MidiIn] = {}  # backend -> a MidiIn that only lists ports
        self._lock = threading.RLock()  # the keyboards and probes: start, stop, status and the watcher
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = False
        self._poller = shared_poller()

    # -- life cycle ----------------------------------------------------------------------

    def start(self) -> Self:
        """Open every keyboard that can be opened now, report the others, start watching."""
        messages: list[tuple[int, str]] = []
        with self._lock:
            if self._started:
                raise RuntimeError("these MIDI inputs are already started")
            self._started = True
            self._stopping.clear()
            self._make_probes(messages)
            # Every client first, every connection after: no client is made while a keyboard plays.
            for keyboard in self._keyboards:
                for api in self._probes:
                    try:
                        self._client(keyboard, api)
                    except PORT_ERRORS:
                        pass  # connecting tries again, and reports what fails
            listings = self._list_ports()
            for keyboard in self._keyboards:
                self._connect(keyboard, listings, messages, at_start=True)
        self._emit(messages)  # before the watcher can report what follows
        with self._lock:
            if self._started and not self._stopping.is_set():  # unless stopped meanwhile
                self._thread = threading.Thread(target=self._watch, name="liveengine-midi-watch", daemon=True)
                self._thread.start()
        return self

    def stop(self) -> None:
        """Close every input and the probes, and end the watcher. Idempotent."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._lock:
            close_midi_inputs(*(midi_in for keyboard in self._keyboards for midi_in in keyboard.clients.values()))
            for keyboard in self._keyboards:
                keyboard.clients.clear()
                keyboard.api = keyboard.port = None
                keyboard.lost, keyboard.problem = False, None
            for probe in self._probes.values():
                probe.delete()
            self._probes.clear()
            self._started = False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def status(self) -> dict[str, str]:
        """Each keyboard's state: "open: <port> (<backend>)", "waiting" or "stopped"."""
        with self._lock:
            return {keyboard.spec.name: self._state_of(keyboard) for keyboard in self._keyboards}

    def _state_of(self, keyboard: _Keyboard) -> str:
        if not self._started:
            return "stopped"
        if keyboard.is_open:
            return f"open: {keyboard.port} ({_api_name(keyboard.api)})"
        return "waiting"

    # -- the handler ----------------------------------------------------------------------

    def _handler_for(self, name: str):
        on_message = self._on_message
        return lambda message, arrival_ns: on_message(name, message, arrival_ns)

    # -- clients, connections -------------------------------------------------------------------

    def _make_probes(self, messages) -> None:
        for api in self.apis:
            try:
                self._probes[api] = rtmidi.MidiIn(api, name=f"{self.client_name} port watch")
            except PORT_ERRORS as error:
                # Not retried: a backend that is missing now (no ALSA sequencer, no JACK server)
                # would print its complaint on every poll, and JACK2 cannot follow a server that
                # comes later anyway (one server per process).
                messages.append((logging.WARNING, f"MIDI backend {_api_name(api)} is unavailable: {error}"))

    def _list_ports(self) -> dict[int, list[str]]:
        """The input ports of each backend that answers, in the backends' order."""
        listings = {}
        for api, probe in self._probes.items():
            try:
                listings[api] = list(probe.get_ports())
            except PORT_ERRORS as error:
                log.debug("MIDI backend %s: cannot list ports: %s", _api_name(api), error)
        return listings

    def _client(self, keyboard: _Keyboard, api: int) -> rtmidi.MidiIn:
        """The keyboard's MidiIn on `api`, made at start (or now, if making it failed then)."""
        midi_in = keyboard.clients.get(api)
        if midi_in is None:
            midi_in = rtmidi.MidiIn(api, name=f"{self.client_name} {keyboard.spec.name}")
            keyboard.clients[api] = midi_in
        return midi_in

    def _connect(self, keyboard: _Keyboard, listings: dict[int, list[str]], messages, *, at_start: bool) -> None:
        spec = keyboard.spec
        problems = []
        if spec.virtual is not None:
            for api in listings:
                try:
                    self._connect_on(keyboard, api, None)
                except PORT_ERRORS as error:
                    problems.append(f"{_api_name(api)}: {error}")
                    continue
                self._connected(keyboard, messages)
                return
            problem = (f"keyboard '{spec.name}': cannot open virtual MIDI input '{spec.virtual}'; trying again "
                       f"({'; '.join(problems) or 'no MIDI backend'})")
        else:
            # Two keyboards never share a port: the second one takes the next match.
            taken = {(other.api, other.port) for other in self._keyboards
                     if other is not keyboard and other.is_open and other.spec.virtual is None}
            any_taken = False
            for api, ports in listings.items():
                for port in ports:
                    if not keyboard.regex.search(port):
                        continue
                    if (api, port) in taken:
                        any_taken = True
                        continue
                    try:
                        self._connect_on(keyboard, api, port)
                    except PORT_ERRORS as error:
                        problems.append(f"'{port}' ({_api_name(api)}): {error}")
                        continue
                    self._connected(keyboard, messages)
                    return
            if problems:
                problem = f"keyboard '{spec.name}': cannot open MIDI input {'; '.join(problems)}; trying again"
            elif at_start:
                every_port = [port for ports in listings.values() for port in ports]
                problem = (f"keyboard '{spec.name}': no {'free ' if any_taken else ''}MIDI input matches "
                           f"'{spec.pattern}'; waiting for one (ports: {', '.join(every_port) or 'none'})")
            else:
                return  # still absent: already said when it went away, or at start
        if problem != keyboard.problem:
            keyboard.problem = problem
            messages.append((logging.WARNING, problem))

    def _connect_on(self, keyboard: _Keyboard, api: int, port: str | None) -> None:
        """Listen on `api`: to source `port`, or on the keyboard's virtual port if None."""
        spec = keyboard.spec
        midi_in = self._client(keyboard, api)
        self._poller.listen(midi_in, self._handler_for(spec.name), name=f"keyboard '{spec.name}'")
        try:
            if port is None:
                midi_in.open_virtual_port(spec.virtual)
                port = f"{self.client_name} {spec.name}:{spec.virtual}"
            else:
                # Indices are only valid for this client's own listing, just made.
                midi_in.open_port(midi_in.get_ports().index(port), "in")
        except PORT_ERRORS:
            self._poller.forget(midi_in)
            raise
        keyboard.api, keyboard.port = api, port

    def _connected(self, keyboard: _Keyboard, messages) -> None:
        where = f"'{keyboard.port}' ({_api_name(keyboard.api)})"
        if keyboard.lost:
            text = f"keyboard '{keyboard.spec.name}': its MIDI input is back: {where}"
        else:
            kind = "virtual MIDI input" if keyboard.spec.virtual is not None else "MIDI input"
            text = f"keyboard '{keyboard.spec.name}': {kind} {where}"
        keyboard.lost, keyboard.problem = False, None
        messages.append((logging.INFO, text))

    def _disconnect(self, keyboard: _Keyboard) -> None:
        api = keyboard.api
        keyboard.api = keyboard.port = None
        close_midi_inputs(keyboard.clients[api], keep_clients=True)

    # -- the watcher ----------------------------------------------------------------------

    def _watch(self) -> None:
        while not self._stopping.wait(self.poll_seconds):
            try:
                self._poll()
            except Exception:  # the watcher must outlive any surprise
                log.exception("the MIDI input watcher failed; it goes on")

    def _poll(self) -> None:
        messages: list[tuple[int, str]] = []
        with self._lock:
            if self._stopping.is_set():
                return
            listings = self._list_ports()
            for keyboard in self._keyboards:
                # Our own virtual ports cannot go away; a source port can.
                if (keyboard.is_open and keyboard.spec.virtual is None and keyboard.api in listings
                        and keyboard.port not in listings[keyboard.api]):
                    self._disconnect(keyboard)
                    keyboard.lost = True
                    messages.append((logging.WARNING,
                                     f"keyboard '{keyboard.spec.name}': its MIDI input is gone; waiting for it"))
            for keyboard in self._keyboards:
                if not keyboard.is_open:
                    self._connect(keyboard, listings, messages, at_start=False)
        self._emit(messages)

    def _emit(self, messages) -> None:
        for level, text in messages:
            if self._report_to is None:
                log.log(level, "%s", text)
                continue
            try:
                self._report_to(text)
            except Exception:  # a broken report must not stop the inputs
                log.exception("reporting %r failed", text)
