"""The kernel functions called from outside compiled code: the block (PortAudio's audio callback, which
an offline render calls too), the event rings, the sample slots' release store, the stems' windows
(kernel/entries.py), each through its C entry point.

They come from the native object of the compiled kernel when the kernel cache holds a sound one for
these sources (engine/native.py): a command (`run`, `check`, `play`, `render`) or the scripting API
then never imports numba, and a live stream runs the same native callback. Otherwise numba compiles them or
loads them from its cache, and preparing the kernels (`liveengine warmup`, the start of a command)
writes the native object for next time. The first call decides, once per process;
`kernel_entries().source` says which it is.
"""

import logging
import sys
import threading

import numpy as np

from ..kernel.rings import Ring
from ..kernel.stems import ST_PLAYING
from . import native

log = logging.getLogger("liveengine.engine")

NAMES = ("audio_callback", "drain_rings", "push_event", "pop_events", "events_waiting", "publish_frames_ready",
         "stem_play_position", "publish_stem_window", "invalidate_stem_window", "schedule_work", "respond", "work",
         "work_responses")
NATIVE = "native code"
NUMBA = "numba"


class KernelEntries:
    """The entry points as Python calls them; `source` is NATIVE or NUMBA."""

    def __init__(self, source: str, resolve):
        self.source = source
        self._resolve = resolve  # name -> native.EntryPoint
        self._functions = {}

    def _function(self, name):
        function = self._functions.get(name)
        if function is None:
            function = self._functions[name] = self._resolve(name).c_function()
        return function

    def process(self, table_address: int, input_address: int, output_address: int, frames: int):
        """One offline call of the audio callback on the table at `table_address`: no time info, no status flags."""
        self._function("audio_callback")(input_address, output_address, frames, 0, 0, table_address)

    def audio_callback_address(self) -> int:
        """The audio callback as PortAudio calls it (a PaStreamCallback; user data: the address table)."""
        return self.address("audio_callback")

    def address(self, name: str) -> int:
        """An entry point's address, for C code to call: an LV2 plugin's schedule_work and respond."""
        return self._resolve(name).address

    def perform_work(self, record_address: int) -> bool:
        """Hand one waiting request of a plugin's worker to its work() (the GIL is released meanwhile)."""
        return bool(self._function("work")(record_address))

    def deliver_work_responses(self, record_address: int, work_response_address: int, handle: int):
        """A plugin's waiting worker responses to its work_response: only while the kernel does not run it."""
        self._function("work_responses")(record_address, work_response_address, handle)

    def drain_input_rings(self, table_address: int, block_start: float):
        self._function("drain_rings")(table_address, block_start)

    def ring_push(self, ring: Ring, sample, kind, target, a, b, c, d, e) -> bool:
        return bool(self._function("push_event")(ring.rows_address, ring.capacity, ring.indices_address,
                                                 sample, kind, target, a, b, c, d, e))

    def ring_pop_into(self, ring: Ring, destination_address: int, destination_rows: int, limit: int) -> int:
        """Move up to `limit` events from `ring` into the (destination_rows, EVENT_WIDTH) float64 rows at
        `destination_address`; returns how many."""
        return self._function("pop_events")(ring.rows_address, ring.capacity, ring.indices_address,
                                            destination_address, destination_rows, limit)

    def ring_fill(self, ring: Ring) -> int:
        return self._function("events_waiting")(ring.indices_address)

    def publish_frames_ready(self, frames_ready: np.ndarray, slot: int, frames: int):
        """Release store of `frames` into `frames_ready[slot]` (a C-contiguous row of the sample slots)."""
        self._function("publish_frames_ready")(frames_ready.ctypes.data, slot, frames)

    def play_position(self, stem_ints: np.ndarray, slot: int) -> tuple[int, bool]:
        """The next frame stem `slot` plays, and whether it plays (read after the position, as the kernel does)."""
        position = self._function("stem_play_position")(stem_ints.ctypes.data, stem_ints.shape[1], slot)
        return position, bool(stem_ints[ST_PLAYING, slot])

    def publish_window(self, stem_ints: np.ndarray, slot: int, window_start: int, window_end: int):
        self._function("publish_stem_window")(stem_ints.ctypes.data, stem_ints.shape[1], slot, window_start,
                                              window_end)

    def invalidate_window(self, stem_ints: np.ndarray, slot: int):
        self._function("invalidate_stem_window")(stem_ints.ctypes.data, stem_ints.shape[1], slot)


_entries: KernelEntries | None = None
_choosing = threading.Lock()


def kernel_entries() -> KernelEntries:
    """The process's entry points, chosen on the first call: native code when the kernel cache holds a
    usable object (a damaged or stale one is said on stderr, and numba's code runs)."""
    global _entries
    with _choosing:
        if _entries is None:
            _entries = _choose()
    return _entries


def _choose() -> KernelEntries:
    try:
        points = native.load(NAMES)
    except native.NativeCodeUnusable as error:
        if native.native_dir().exists():
            print(f"Kernel native code not used: {error}; numba's code runs instead.", file=sys.stderr, flush=True)
        log.info("kernel entry points: numba's (%s)", error)
        return KernelEntries(NUMBA, _compile)
    log.info("kernel entry points: native code from %s", native.native_dir())
    return KernelEntries(NATIVE, points.__getitem__)


# Through numba: each entry point compiled (or loaded from numba's cache) on its first call.

_compiled = {}


def _compile(name: str) -> native.EntryPoint:
    cfunc, signature = compiled_entry(name)
    return native.EntryPoint(name, cfunc.address, signature)


def compiled_entry(name: str):
    """(numba CFunc, signature) of entry point `name`, compiled or loaded from numba's cache."""
    if name not in _compiled:
        from ..kernel.realtime import CONTRACT, numba_for_kernels
        numba = numba_for_kernels()
        from ..kernel.entries import ENTRY_POINTS
        function, signature = ENTRY_POINTS[name]
        options = {key: value for key, value in CONTRACT.items() if key != "nogil"}
        _compiled[name] = (numba.cfunc(signature, nopython=True, cache=True, **options)(function), signature)
    return _compiled[name]


def compiled_cfuncs(names=None) -> list:
    """The entry points numba has compiled or loaded in this process (of `names`, if given)."""
    return [cfunc for name, (cfunc, _) in _compiled.items() if names is None or name in names]


def write_native_code():
    """Compile every entry point through numba (or load it from numba's cache), and keep its object code
    as this kernel cache's native code; says on stderr when it cannot (numba's code then runs)."""
    compiled = {name: compiled_entry(name) for name in NAMES}
    try:
        native.write(compiled)
    except (native.NativeCodeUnusable, OSError) as error:
        print(f"Kernel native code not written: {error}; offline renders run numba's code.", file=sys.stderr,
              flush=True)
