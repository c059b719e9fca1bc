"""Reading MIDI inputs: one thread of this process reads every open python-rtmidi input from its
queue, and hands each message on with its arrival time.

Why not rtmidi's callbacks: on JACK, RtMidi calls them from the JACK process thread, which then
waits for the GIL, and JACK's graph runs on without it. Measured on a private JACK server: with one
busy Python thread beside it, 9 in 10 of a burst of note-offs reached the callback as a copy of
another message of the burst, and some never came; polled from rtmidi's queue, all 2,048 came, each
once. A keyboardist's note-off read as another key's is a note left ringing in front of an audience.
Read from the queue, no backend thread ever enters Python.

The arrival time (CLOCK_MONOTONIC ns) comes from rtmidi's own time stamps: the backend stamps each
message as it comes in, and hands on the time since the previous one. Their sum is the backend's
clock, less an unknown offset; every message read bounds that offset from above (it came in before it
was read), and the smallest bound of the last `OFFSET_WINDOW_NS` is the estimate. So a message's
arrival does not depend on when this thread got to it, and a poll that comes late moves no note.
The backend's deltas count every message it takes in, so nothing is dropped inside rtmidi (a
delta after a dropped message would lose that message's time): system messages are dropped here.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Callable

log = logging.getLogger("liveengine.midi")

POLL_SECONDS = 0.001  # how often the queues are read: a message waits at most this long
OFFSET_WINDOW_NS = 250_000_000  # how long a bound on the offset counts: the two clocks may differ by ppm
MIDI_THREAD_PRIORITY = 40  # SCHED_FIFO, of this thread and the keyboard thread: below JACK's (70) and the audio thread's
FIRST_SYSTEM_STATUS = 0xF0  # sysex, MTC quarter frames, song position, clock, active sensing, reset


class ArrivalClock:
    """The arrival times of one input's messages, from rtmidi's deltas and when each was read."""

    def __init__(self):
        self._backend_ns = 0  # rtmidi's deltas summed: the backend's clock, less its reading at the first message
        self._bounds: collections.deque[tuple[int, int]] = collections.deque()  # (read ns, offset bound), rising
        self._previous = 0

    def arrival(self, delta_seconds: float, read_ns: int) -> int:
        """The arrival of the message that came `delta_seconds` after the previous one, read at `read_ns`."""
        self._backend_ns += round(delta_seconds * 1e9)
        bound = read_ns - self._backend_ns
        bounds = self._bounds
        while bounds and bounds[-1][1] >= bound:  # never the smallest again while this one counts
            bounds.pop()
        bounds.append((read_ns, bound))
        while bounds[0][0] < read_ns - OFFSET_WINDOW_NS:
            bounds.popleft()
        # Never before the previous message: an input's messages keep their order.
        self._previous = max(bounds[0][1] + self._backend_ns, self._previous)
        return self._previous


class _Listening:
    __slots__ = ("handler", "system_messages", "clock", "name", "failures", "forgotten")

    def __init__(self, handler, system_messages: bool, name: str):
        self.handler = handler
        self.system_messages = system_messages
        self.clock = ArrivalClock()
        self.name = name
        self.failures: set[type] = set()
        self.forgotten = False  # no message of it is handed on any more


class InputPoller:
    """Reads the inputs given to :meth:`listen` every `poll_seconds` in a thread of its own, which
    runs while any input is listened to. Thread-safe."""

    def __init__(self, poll_seconds: float = POLL_SECONDS):
        self.poll_seconds = poll_seconds
        self._lock = threading.RLock()  # the inputs; held while reading them
        self._inputs: dict[int, tuple[object, _Listening]] = {}  # id(MidiIn) -> (MidiIn, how it is heard)
        self._thread: threading.Thread | None = None

    def listen(self, midi_in, handler: Callable[[list[int], int], None], *, system_messages: bool = False,
               name: str = "MIDI input") -> None:
        """Hand each message of `midi_in` to `handler(message, arrival_ns)` from now on, in this
        poller's thread: it must be quick. System messages (0xF0 and up) are dropped unless
        `system_messages`. An exception from the handler is logged (once per kind) and the input goes on."""
        midi_in.ignore_types(sysex=False, timing=False, active_sense=False)
        with self._lock:
            self.forget(midi_in)
            self._inputs[id(midi_in)] = (midi_in, _Listening(handler, system_messages, name))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="liveengine-midi-in", daemon=True)
                self._thread.start()

    def forget(self, midi_in) -> None:
        """Stop reading `midi_in`: once this returns, its handler is not called again."""
        with self._lock:
            _, listening = self._inputs.pop(id(midi_in), (None, None))
            if listening is not None:
                listening.forgotten = True

    def _run(self) -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(MIDI_THREAD_PRIORITY))
        except (OSError, AttributeError) as error:
            log.info("MIDI inputs: no real-time priority for the reading thread (%s)", error)
        while True:
            time.sleep(self.poll_seconds)
            with self._lock:
                if not self._inputs:
                    self._thread = None  # under the lock: a listen() from now on starts another
                    return
                # A handler may listen to or forget an input (the lock is re-entrant): a copy is read.
                for midi_in, listening in list(self._inputs.values()):
                    self._read(midi_in, listening)

    @staticmethod
    def _read(midi_in, listening: _Listening) -> None:
        while not listening.forgotten and (got := midi_in.get_message()) is not None:
            message, delta_seconds = got
            arrival_ns = listening.clock.arrival(delta_seconds, time.monotonic_ns())
            if not message or (message[0] >= FIRST_SYSTEM_STATUS and not listening.system_messages):
                continue
            try:
                listening.handler(message, arrival_ns)
            except Exception as error:  # noqa: BLE001 -- the input must survive its handler
                if type(error) not in listening.failures:
                    listening.failures.add(type(error))
                    log.error("%s: handling a MIDI message failed (%s; further %s are not logged)",
                              listening.name, error, type(error).__name__, exc_info=error)


_shared_poller = InputPoller()


def shared_poller() -> InputPoller:
    """The process's poller: every input of the show is read by its one thread."""
    return _shared_poller
