"""The one way memory changes hands between the control plane and the audio thread.

Every resource the audio thread reads (an instrument's table column, a cue slot's template
and trigger, a sample's full data, an instrument's staged synth patch) is, at any moment,
either the control plane's, which may write or free it, or the audio thread's. It passes:

- to the audio thread by one ADOPT event naming its kind and slot, posted once the memory is
  written (the ring's release store publishes the writes before the event). A sample's full
  data is the one exception on this side: the loader publishes it frame by frame as it reads
  (voices may start on the first chunk), so it is the audio thread's from its first frame on;
- back to the control plane by one LET_GO event. The audio thread answers it with the
  event's token (a HandedOver notification): only that answer makes the memory the control
  plane's again, so nothing is rewritten or freed under a voice or an armed cue. A sample a
  voice still plays is kept (asked again later); a cue slot is disarmed.

A staged patch is consumed by its adoption: the swap copies it in, so the acknowledged ADOPT
gives the staged row, and the patch it replaced, back at once. Writing a slot that is not the
control plane's raises HandoverError, before anything is written.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..kernel import events as ev
from .notifications import HandedOver, HandoverOutcome, Resource

log = logging.getLogger("liveengine.engine")

# Resources whose adoption is also their return: the audio thread copies them in.
CONSUMED_ON_ADOPTION = frozenset({Resource.PATCH})
# What the audio thread can be asked to let go of.
LET_GO_OF = frozenset({Resource.CUE, Resource.SAMPLE})


class HandoverError(RuntimeError):
    """The control plane asked to write or let go of memory that is not in its hands now."""


@dataclass
class _Waiting:
    resource: Resource
    slot: int
    letting_go: bool
    then: Callable[[], None] | None  # run once the audio thread has done it


class Handover:
    """Who holds each (resource, slot), and the events that move it. Thread-safe: producers on
    several threads adopt and let go; the thread that polls the engine settles the answers."""

    def __init__(self):
        self._lock = threading.Lock()
        self._held: set[tuple[Resource, int]] = set()  # the audio thread's (or on their way to it)
        self._letting_go: set[tuple[Resource, int]] = set()
        self._waiting: dict[int, _Waiting] = {}
        self._tokens = 0

    def is_free(self, resource: Resource, slot: int) -> bool:
        """The control plane may write this slot's memory now."""
        with self._lock:
            return (resource, slot) not in self._held

    def adopt(self, producer, resource: Resource, slot: int, write: Callable[[], None] = lambda: None,
              value: float = 0.0, then: Callable[[], None] | None = None) -> int:
        """Write the resource (`write()`, while it is still the control plane's), then hand it to the
        audio thread with one ADOPT. `then` runs once the audio thread has adopted it. Returns the token."""
        token = self._claim(resource, slot, then)
        try:
            write()
            producer.post(-1, ev.ADOPT, slot, int(resource), token, value)
        except BaseException:
            with self._lock:
                self._held.discard((resource, slot))
                del self._waiting[token]
            raise
        return token

    def adopted(self, resource: Resource, slot: int):
        """The audio thread reads this slot from now on without an ADOPT (a sample's full data, which
        the loader publishes frame by frame)."""
        with self._lock:
            if (resource, slot) in self._held:
                raise HandoverError(f"{resource.noun} {slot} is held by the audio thread already")
            self._held.add((resource, slot))

    def let_go(self, producer, resource: Resource, slot: int, then: Callable[[], None] | None = None) -> int:
        """Ask the audio thread for the resource back with one LET_GO. `then` runs once it has let go
        (never if it keeps it: a sample a voice still plays). Returns the token."""
        if resource not in LET_GO_OF:
            raise HandoverError(f"the audio thread does not let go of {resource.noun}s")
        key = (resource, slot)
        with self._lock:
            if key not in self._held:
                raise HandoverError(f"{resource.noun} {slot} is not held by the audio thread")
            if key in self._letting_go:
                raise HandoverError(f"{resource.noun} {slot} is being let go already")
            self._letting_go.add(key)
            token = self._next_token()
            self._waiting[token] = _Waiting(resource, slot, True, then)
        try:
            producer.post(-1, ev.LET_GO, slot, int(resource), token)
        except BaseException:
            with self._lock:
                self._letting_go.discard(key)
                del self._waiting[token]
            raise
        return token

    def settle(self, answer: HandedOver):
        """The audio thread's answer: the memory changes hands (called by the thread that polls)."""
        with self._lock:
            waiting = self._waiting.pop(answer.token, None)
            if waiting is None:
                return
            key = (waiting.resource, waiting.slot)
            done = answer.outcome is HandoverOutcome.DONE
            if waiting.letting_go:
                self._letting_go.discard(key)
                if done:
                    self._held.discard(key)
            elif not done or waiting.resource in CONSUMED_ON_ADOPTION:
                self._held.discard(key)
        if answer.outcome is HandoverOutcome.REFUSED:
            log.error("the audio thread refused to %s %s %d", "let go of" if waiting.letting_go else "adopt",
                      waiting.resource.noun, waiting.slot)
        elif done and waiting.then is not None:
            waiting.then()

    def _claim(self, resource: Resource, slot: int, then) -> int:
        key = (resource, slot)
        with self._lock:
            if key in self._held:
                if resource in CONSUMED_ON_ADOPTION:
                    raise HandoverError(f"{resource.noun} {slot} is still being swapped in: wait for its "
                                        "acknowledgement")
                raise HandoverError(f"{resource.noun} {slot} is held by the audio thread: let it go and wait "
                                    "for its acknowledgement first")
            self._held.add(key)
            token = self._next_token()
            self._waiting[token] = _Waiting(resource, slot, False, then)
            return token

    def _next_token(self) -> int:
        self._tokens += 1
        return self._tokens
