"""A JACK capture client for live tests: records what other clients play, by JACK frame.

Registers N input ports on the (private) JACK server, connects them to given source
ports (e.g. PortAudio's ``PortAudio:out_0``), and records every cycle into memory
preallocated at construction, together with:

* the JACK frame of the cycle's first frame (``jack_last_frame_time``), which is exact;
* the CLOCK_MONOTONIC time (ns) at which the process callback started, the clock that
  ``time.monotonic_ns()`` reads, to relate other clients' timestamps to JACK cycles
  (see :meth:`JackCapture.cycle_at_ns`);
* the number of cycles seen, missed cycles (gaps in the frame times) and the server's
  xrun notifications.

Audio is stored by JACK frame: row ``r`` of :meth:`JackCapture.audio` holds the sample
played at JACK frame ``first_jack_frame + r``. A cycle this client missed leaves zeros
and is listed in :meth:`JackCapture.gaps`.

Why the process callback is a numba cfunc and not Python: a Python callback first waits
for the GIL; when it gets it after the next JACK cycle has begun, ``last_frame_time``
already reads the *next* cycle's frame (JACK2 keeps one frame timer per server, updated
at each cycle start). Measured on this project's 2-core machines, with the dummy driver:
even idle, about one Python callback in 2000 read a wrong frame time; beside a busy
Python thread, about half of them did (and a third of the cycles were missed). The cfunc reads it before anything else, without the GIL, and
never allocates; it also cannot deadlock deactivation under load (DESIGN §7). It
compiles in a fraction of a second, once per process (it calls ctypes functions, which
numba cannot cache).

A capture port connected to another client's output port runs after that client in the
same JACK cycle (JACK orders the graph by connections): a sample that the client writes
at offset ``i`` of the cycle whose ``last_frame_time`` is ``L`` is recorded at JACK
frame ``L + i``, with no latency in between.

Caveats:
* JACK2's client library keeps one set of globals per process (engine control, graph):
  open this client on the same server as everything else in the process, by default
  ``$JACK_DEFAULT_SERVER``.
* PortAudio disconnects *all* connections of its ports when its stream stops: connect
  after ``Pa_OpenStream`` (its ports exist from then on) and expect silence after stop.
* Deactivate and close this client (:meth:`JackCapture.stop`) before the server stops.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import os
import threading
import time
import weakref
from typing import Sequence

import numba
import numpy as np
from numba import carray, types

import jack
from liveengine.kernel.intrinsics import address_as_void_pointer, monotonic_ns

__all__ = ["JackCapture"]

_libjack = ctypes.CDLL(ctypes.util.find_library("jack") or "libjack.so.0")

# libjack functions called from the process cfunc. Pointers are passed as int64, as the
# state table stores them (same size and calling convention on x86-64 and arm64).
_jack_last_frame_time = _libjack.jack_last_frame_time
_jack_last_frame_time.restype = ctypes.c_uint32
_jack_last_frame_time.argtypes = [ctypes.c_int64]
_jack_port_get_buffer = _libjack.jack_port_get_buffer
_jack_port_get_buffer.restype = ctypes.POINTER(ctypes.c_float)
_jack_port_get_buffer.argtypes = [ctypes.c_int64, ctypes.c_uint32]

# State table (int64) shared between Python and the cfunc.
_CLIENT, _CHANNELS, _CAPACITY, _AUDIO, _MAX_CYCLES, _CYC_FRAME, _CYC_NS, _CYC_NFRAMES, \
    _PORTS, _RECORDING, _CYCLES, _STARTED, _FIRST, _LAST, _LAST_N, _LAST_RAW, _END, \
    _OVERFLOW, _NGAPS, _GAPS, _MAX_GAPS, _XRUNS = range(22)
_STATE_SIZE = 32


_open_clients: "weakref.WeakSet[JackCapture]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    # Registered after liveengine.drivers.jackserver's exit handler when imported after it, so
    # it runs before: clients close before their server stops.
    for cap in list(_open_clients):
        try:
            cap.stop()
        except Exception:
            pass


_compiled: dict = {}
_compile_lock = threading.Lock()


def _callbacks():
    """Compile (once per process) the process and xrun callbacks."""
    with _compile_lock:
        if _compiled:
            return _compiled["process"], _compiled["xrun"]

        @numba.cfunc(types.int32(types.uint32, types.voidptr), nopython=True,
                     error_model="numpy")
        def process(nframes, arg):
            st = carray(arg, _STATE_SIZE, dtype=np.int64)
            raw = np.int64(_jack_last_frame_time(st[_CLIENT]))     # first: exact frame
            now_ns = monotonic_ns()
            if st[_RECORDING] == 0:
                return 0
            n = np.int64(nframes)
            if st[_STARTED] == 0:
                frame = raw
                st[_FIRST] = raw
                st[_STARTED] = 1
            else:
                step = (raw - st[_LAST_RAW]) & 0xFFFFFFFF       # frame times wrap at 2**32
                frame = st[_LAST] + step
                expected = st[_LAST] + st[_LAST_N]
                if frame != expected:
                    g = st[_NGAPS]
                    max_gaps = st[_MAX_GAPS]
                    if g < max_gaps:
                        gaps = carray(address_as_void_pointer(st[_GAPS]), 2 * max_gaps, np.int64)
                        gaps[2 * g] = expected
                        gaps[2 * g + 1] = frame
                    st[_NGAPS] = g + 1
            st[_LAST_RAW] = raw
            st[_LAST] = frame
            st[_LAST_N] = n
            c = st[_CYCLES]
            max_cycles = st[_MAX_CYCLES]
            if c < max_cycles:
                carray(address_as_void_pointer(st[_CYC_FRAME]), max_cycles, np.int64)[c] = frame
                carray(address_as_void_pointer(st[_CYC_NS]), max_cycles, np.int64)[c] = now_ns
                carray(address_as_void_pointer(st[_CYC_NFRAMES]), max_cycles, np.int64)[c] = n
            st[_CYCLES] = c + 1
            row = frame - st[_FIRST]
            cap = st[_CAPACITY]
            if row < 0 or row + n > cap:
                st[_OVERFLOW] += n
                return 0
            nch = st[_CHANNELS]
            ports = carray(address_as_void_pointer(st[_PORTS]), nch, np.int64)
            audio = carray(address_as_void_pointer(st[_AUDIO]), nch * cap, np.float32)
            for ch in range(nch):
                src = carray(_jack_port_get_buffer(ports[ch], nframes), n)
                base = ch * cap + row
                for k in range(n):
                    audio[base + k] = src[k]
            if row + n > st[_END]:
                st[_END] = row + n
            return 0

        @numba.cfunc(types.int32(types.voidptr), nopython=True, error_model="numpy")
        def xrun(arg):
            st = carray(arg, _STATE_SIZE, dtype=np.int64)
            st[_XRUNS] += 1
            return 0

        _compiled["process"] = process
        _compiled["xrun"] = xrun
        return process, xrun


class JackCapture:
    """Record ``channels`` JACK input ports into preallocated memory.

    Parameters
    ----------
    sources:
        Port names to record (``"PortAudio:out_0"``, ``"system:capture_1"``), one
        capture port each; may be empty and connected later with :meth:`connect`.
    seconds:
        Capacity; frames beyond it are dropped and counted in :attr:`overflow_frames`.
    name:
        JACK client name (JACK makes it unique if needed; see :attr:`name`).
    server:
        Server name; default ``$JACK_DEFAULT_SERVER``.
    channels:
        Number of capture ports (default ``len(sources)``).

    Use as a context manager (start/stop), or call :meth:`start` and :meth:`stop`.
    Recording starts at :meth:`start` (activation) and stops at :meth:`stop` or
    :meth:`pause`.
    """

    def __init__(self, sources: Sequence[str] = (), seconds: float = 5.0, *,
                 name: str = "capture", server: str | None = None,
                 channels: int | None = None, max_gaps: int = 1024) -> None:
        self.sources = list(sources)
        self.channels = int(channels if channels is not None else len(self.sources))
        if self.channels < 1:
            raise ValueError("need at least one channel")
        if len(self.sources) > self.channels:
            raise ValueError("more sources than channels")
        process, xrun = _callbacks()
        self.server = server if server is not None else os.environ.get("JACK_DEFAULT_SERVER")
        self.client = jack.Client(name, no_start_server=True, servername=self.server)
        self.name = self.client.name
        self.samplerate = int(self.client.samplerate)
        self.blocksize = int(self.client.blocksize)
        self.capacity = -(-int(np.ceil(seconds * self.samplerate)) // self.blocksize) * self.blocksize
        max_cycles = self.capacity // self.blocksize + 64
        self.ports = [self.client.inports.register(f"in_{i + 1}") for i in range(self.channels)]

        # Everything the callback touches, allocated once and kept alive by self.
        self._audio = np.zeros((self.channels, self.capacity), dtype=np.float32)
        self._cycle_frame = np.zeros(max_cycles, dtype=np.int64)
        self._cycle_ns = np.zeros(max_cycles, dtype=np.int64)
        self._cycle_nframes = np.zeros(max_cycles, dtype=np.int64)
        self._gaps = np.zeros((max_gaps, 2), dtype=np.int64)
        self._port_ptrs = np.array(
            [int(jack._ffi.cast("uintptr_t", p._ptr)) for p in self.ports], dtype=np.int64)
        st = self._state = np.zeros(_STATE_SIZE, dtype=np.int64)
        st[_CLIENT] = int(jack._ffi.cast("uintptr_t", self.client._ptr))
        st[_CHANNELS] = self.channels
        st[_CAPACITY] = self.capacity
        st[_AUDIO] = self._audio.ctypes.data
        st[_MAX_CYCLES] = max_cycles
        st[_CYC_FRAME] = self._cycle_frame.ctypes.data
        st[_CYC_NS] = self._cycle_ns.ctypes.data
        st[_CYC_NFRAMES] = self._cycle_nframes.ctypes.data
        st[_PORTS] = self._port_ptrs.ctypes.data
        st[_GAPS] = self._gaps.ctypes.data
        st[_MAX_GAPS] = max_gaps

        ffi, lib = jack._ffi, jack._lib
        arg = ffi.cast("void*", st.ctypes.data)
        self._keepalive = [ffi.cast("JackProcessCallback", process.address),
                           ffi.cast("JackXRunCallback", xrun.address), arg]
        if lib.jack_set_process_callback(self.client._ptr, self._keepalive[0], arg) != 0:
            raise jack.JackError("cannot set the process callback")
        if lib.jack_set_xrun_callback(self.client._ptr, self._keepalive[1], arg) != 0:
            raise jack.JackError("cannot set the xrun callback")
        self._active = False
        self._closed = False
        _open_clients.add(self)

    # -- control -----------------------------------------------------------------------

    def start(self) -> "JackCapture":
        """Activate the client, connect the sources, start recording."""
        if self._closed:
            raise RuntimeError("capture client already closed")
        if not self._active:
            self.client.activate()
            self._active = True
        self._connect(self.sources, 0)
        self._state[_RECORDING] = 1
        return self

    def connect(self, sources: Sequence[str], first_port: int = 0) -> None:
        """Connect ``sources[i]`` to capture port ``first_port + i`` (after start)."""
        self.sources[first_port:first_port + len(sources)] = list(sources)
        self._connect(sources, first_port)

    def _connect(self, sources: Sequence[str], first_port: int) -> None:
        for i, src in enumerate(sources):
            port = self.ports[first_port + i]
            if src not in [p.name for p in self.client.get_all_connections(port)]:
                self.client.connect(src, port)

    def pause(self) -> None:
        """Stop recording; the client stays active."""
        self._state[_RECORDING] = 0

    def stop(self) -> None:
        """Stop recording, deactivate and close the client. Idempotent."""
        self._state[_RECORDING] = 0
        if self._closed:
            return
        self._closed = True
        try:
            if self._active:
                self.client.deactivate()
                self._active = False
        finally:
            self.client.close()

    def __enter__(self) -> "JackCapture":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def wait_cycles(self, count: int, timeout: float = 5.0) -> bool:
        """Wait (polling) until at least ``count`` cycles were recorded."""
        deadline = time.monotonic() + timeout
        while self.cycles < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    # -- results -----------------------------------------------------------------------

    @property
    def cycles(self) -> int:
        """Process cycles recorded so far."""
        return int(self._state[_CYCLES])

    @property
    def first_jack_frame(self) -> int | None:
        """JACK frame of row 0 of :meth:`audio` (None before the first cycle)."""
        return int(self._state[_FIRST]) if self._state[_STARTED] else None

    @property
    def xruns(self) -> int:
        """Xrun notifications from the server (any client late, or the driver)."""
        return int(self._state[_XRUNS])

    @property
    def overflow_frames(self) -> int:
        return int(self._state[_OVERFLOW])

    def gaps(self) -> list[tuple[int, int]]:
        """Discontinuities in the frame times: (frame expected, frame seen) per gap."""
        n = min(int(self._state[_NGAPS]), self._gaps.shape[0])
        return [(int(a), int(b)) for a, b in self._gaps[:n]]

    @property
    def missed_frames(self) -> int:
        """Frames of cycles this client did not see (sum of forward gaps)."""
        return sum(b - a for a, b in self.gaps())

    def audio(self) -> tuple[np.ndarray, int | None]:
        """(audio [frames, channels] float32, JACK frame of row 0): a copy of what was
        recorded so far. Rows of missed cycles are zero (see :meth:`gaps`)."""
        end = int(self._state[_END])
        return np.ascontiguousarray(self._audio[:, :end].T), self.first_jack_frame

    def cycle_log(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per recorded cycle: (JACK frame of its first frame, CLOCK_MONOTONIC ns at the
        start of this client's process callback, frames in the cycle)."""
        n = min(self.cycles, self._cycle_frame.shape[0])
        return self._cycle_frame[:n].copy(), self._cycle_ns[:n].copy(), self._cycle_nframes[:n].copy()

    def row_of_frame(self, jack_frame: int) -> int:
        """Row of :meth:`audio` that holds JACK frame ``jack_frame``."""
        first = self.first_jack_frame
        if first is None:
            raise RuntimeError("nothing recorded yet")
        return int(jack_frame) - first

    def cycle_at_ns(self, t_ns: int, max_lag_ns: int | None = None) -> int:
        """JACK frame of the cycle in which a client *upstream* of this one (one whose
        output ports feed it, e.g. PortAudio) started a process callback at
        CLOCK_MONOTONIC time ``t_ns``.

        An upstream client runs before this one in every cycle, so its callback in
        cycle C starts before this client's callback in cycle C and after this client's
        callback in cycle C-1 started (unless one of them ran a full period late: an
        xrun, see :attr:`xruns` and :meth:`gaps`). So the answer is the first recorded
        cycle whose callback started at or after ``t_ns``. Exact whenever the
        preconditions hold; raises ValueError when the match is more than
        ``max_lag_ns`` (default: one period) after ``t_ns``, or outside the recording.
        """
        frames, ns, _ = self.cycle_log()
        i = int(np.searchsorted(ns, t_ns, side="left"))
        if i >= len(ns) or i == 0:
            raise ValueError("time outside the recorded cycles")
        if max_lag_ns is None:
            max_lag_ns = int(1e9 * self.blocksize / self.samplerate)
        if ns[i] - t_ns > max_lag_ns:
            raise ValueError(f"no capture cycle within {max_lag_ns} ns after {t_ns}")
        return int(frames[i])
