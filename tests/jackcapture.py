"""A JACK capture client for live tests: records what other clients play, per JACK frame.

Built on the JACK-Client package (``import jack``) with a *Python* process callback.
Keep it idle (DESIGN §7): under heavy Python load in the same process, deactivating a
client whose callback waits for the GIL can deadlock. The callback allocates only small
wrapper objects per cycle; all audio goes into memory preallocated at construction.

Audio is stored by JACK frame: row ``r`` of :meth:`JackCapture.audio` is the sample
played at JACK frame ``first_jack_frame + r`` (the frame time of the first recorded
cycle's first frame, ``jack_last_frame_time``). A cycle that this client did not see
(a gap in the frame times) leaves zeros and is listed in :attr:`JackCapture.gaps`.

A capture port connected to another client's output port runs after it in the same JACK
cycle (JACK orders the graph by connections), so a sample that a client writes at
offset ``i`` of the cycle whose ``jack_last_frame_time`` is ``L`` appears at row
``L + i - first_jack_frame``: no latency between the two.

JACK2's client library keeps one set of globals per process: open this client on the
same server as everything else in the process (by default ``$JACK_DEFAULT_SERVER``).
PortAudio disconnects all connections of its ports when its stream stops: connect after
``Pa_OpenStream`` (the ports exist from then on) and expect silence after the stop.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from typing import Sequence

import numpy as np

import jack

__all__ = ["JackCapture", "jack_get_time_us", "CLOCK_JACK"]

# JACK2 (1.9.21) on Linux: jack_get_time() is clock_gettime(CLOCK_MONOTONIC_RAW) in µs.
CLOCK_JACK = getattr(__import__("time"), "CLOCK_MONOTONIC_RAW", None)

_libjack = ctypes.CDLL(ctypes.util.find_library("jack") or "libjack.so.0")
_libjack.jack_get_time.restype = ctypes.c_uint64
_libjack.jack_get_time.argtypes = []
_libjack.jack_get_cycle_times.restype = ctypes.c_int
_libjack.jack_get_cycle_times.argtypes = [
    ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32), ctypes.POINTER(ctypes.c_uint64),
    ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_float)]
_libjack.jack_frames_to_time.restype = ctypes.c_uint64
_libjack.jack_frames_to_time.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
_libjack.jack_time_to_frames.restype = ctypes.c_uint32
_libjack.jack_time_to_frames.argtypes = [ctypes.c_void_p, ctypes.c_uint64]


def jack_get_time_us() -> int:
    """JACK's clock in microseconds (``jack_get_time()``)."""
    return int(_libjack.jack_get_time())


class JackCapture:
    """Record ``len(sources)`` JACK output ports into preallocated memory.

    Parameters
    ----------
    sources:
        Port names to record (``"PortAudio:out_1"``, ``"system:capture_1"``), one
        capture port each; may be empty and connected later with :meth:`connect`.
    seconds:
        Capacity; frames beyond it are dropped and counted in :attr:`overflow_frames`.
    name:
        JACK client name (JACK makes it unique if needed).
    server:
        Server name; default ``$JACK_DEFAULT_SERVER``.
    channels:
        Number of capture ports (default ``len(sources)``).

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, sources: Sequence[str] = (), seconds: float = 5.0, *,
                 name: str = "capture", server: str | None = None,
                 channels: int | None = None, max_cycles: int | None = None) -> None:
        self.sources = list(sources)
        self.channels = int(channels if channels is not None else len(self.sources))
        if self.channels < 1:
            raise ValueError("need at least one channel")
        if len(self.sources) > self.channels:
            raise ValueError("more sources than channels")
        server = server if server is not None else os.environ.get("JACK_DEFAULT_SERVER")
        self.client = jack.Client(name, no_start_server=True, servername=server)
        self.server = server
        self.samplerate = int(self.client.samplerate)
        self.blocksize = int(self.client.blocksize)
        self.capacity = int(np.ceil(seconds * self.samplerate / self.blocksize)) * self.blocksize
        n_cycles = int(max_cycles if max_cycles is not None
                       else self.capacity // self.blocksize + 16)
        self.ports = [self.client.inports.register(f"in_{i + 1}") for i in range(self.channels)]
        self._ptr = int(jack._ffi.cast("uintptr_t", self.client._ptr))

        # Preallocated records. Audio is written channel by channel into a [channels,
        # frames] array (contiguous per channel); audio() returns its transpose.
        self._audio = np.zeros((self.channels, self.capacity), dtype=np.float32)
        self.cycle_frame = np.zeros(n_cycles, dtype=np.int64)    # unwrapped last_frame_time
        self.cycle_usecs = np.zeros(n_cycles, dtype=np.int64)    # jack cycle wakeup (µs)
        self.cycle_nframes = np.zeros(n_cycles, dtype=np.int32)
        self.cycles = 0                 # process callbacks seen while recording
        self.overflow_frames = 0
        self.errors = 0
        self.gaps: list[tuple[int, int]] = []   # (expected frame, frame seen)
        self.first_jack_frame: int | None = None
        self._last_raw: int | None = None
        self._unwrapped = 0
        self._end = 0                   # one past the last row written
        self._recording = False
        self._active = False
        self._closed = False
        self._done = threading.Event()
        self._c_frames = ctypes.c_uint32()
        self._c_usecs = ctypes.c_uint64()
        self._c_next = ctypes.c_uint64()
        self._c_period = ctypes.c_float()
        self._ct_args = (ctypes.c_void_p(self._ptr), ctypes.byref(self._c_frames),
                         ctypes.byref(self._c_usecs), ctypes.byref(self._c_next),
                         ctypes.byref(self._c_period))
        self.client.set_process_callback(self._process)

    # -- the process callback ----------------------------------------------------------

    def _process(self, frames: int) -> None:
        if not self._recording:
            return
        try:
            raw = self.client.last_frame_time
            if self._last_raw is None:
                self._unwrapped = raw
                self.first_jack_frame = raw
            else:
                step = (raw - self._last_raw) & 0xFFFFFFFF
                expected = self._unwrapped + self._last_frames
                self._unwrapped += step
                if self._unwrapped != expected:
                    self.gaps.append((expected, self._unwrapped))
            self._last_raw = raw
            self._last_frames = frames
            n = self.cycles
            if n < self.cycle_frame.shape[0]:
                self.cycle_frame[n] = self._unwrapped
                self.cycle_nframes[n] = frames
                if _libjack.jack_get_cycle_times(*self._ct_args) == 0:
                    self.cycle_usecs[n] = self._c_usecs.value
            self.cycles = n + 1
            row = self._unwrapped - self.first_jack_frame
            if row < 0 or row + frames > self.capacity:
                self.overflow_frames += frames
                return
            for ch, port in enumerate(self.ports):
                self._audio[ch, row:row + frames] = port.get_array()
            if row + frames > self._end:
                self._end = row + frames
        except Exception:
            self.errors += 1

    # -- control -----------------------------------------------------------------------

    def start(self) -> "JackCapture":
        """Activate the client, connect the sources, start recording."""
        if not self._active:
            self.client.activate()
            self._active = True
        self.connect(self.sources, _record=False)
        self._recording = True
        return self

    def connect(self, sources: Sequence[str], *, first_port: int = 0,
                _record: bool = True) -> None:
        """Connect ``sources[i]`` to capture port ``first_port + i`` (client active)."""
        if _record:
            self.sources[first_port:first_port + len(sources)] = list(sources)
        for i, src in enumerate(sources):
            port = self.ports[first_port + i]
            if src not in [p.name for p in self.client.get_all_connections(port)]:
                self.client.connect(src, port)

    def stop(self) -> None:
        """Stop recording, deactivate and close the client. Idempotent."""
        self._recording = False
        if self._closed:
            return
        self._closed = True
        if self._active:
            self.client.deactivate()
            self._active = False
        self.client.close()

    def __enter__(self) -> "JackCapture":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- results -----------------------------------------------------------------------

    def audio(self) -> tuple[np.ndarray, int | None]:
        """(audio [frames, channels] float32, JACK frame of row 0).

        A copy of what was recorded so far; rows of missed cycles are zero (see
        :attr:`gaps`). The frame is None before the first cycle.
        """
        end = self._end
        return np.ascontiguousarray(self._audio[:, :end].T), self.first_jack_frame

    def row_of_frame(self, jack_frame: int) -> int:
        """Row of :meth:`audio` that holds JACK frame ``jack_frame``."""
        if self.first_jack_frame is None:
            raise RuntimeError("nothing recorded yet")
        return int(jack_frame) - self.first_jack_frame

    def frame_at_usecs(self, usecs: int) -> float:
        """JACK frame (fractional) at JACK time ``usecs`` (``jack_get_time`` clock),
        interpolated between the recorded cycle wakeups. Wakeup times are JACK's
        filtered estimates: expect errors of a few frames, never use this alone where
        exactness matters; snap to a cycle start instead."""
        n = min(self.cycles, self.cycle_frame.shape[0])
        if n < 2:
            raise RuntimeError("need at least two recorded cycles")
        return float(np.interp(usecs, self.cycle_usecs[:n], self.cycle_frame[:n],
                               left=np.nan, right=np.nan))

    def wait_cycles(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until at least ``count`` cycles were recorded (polling)."""
        import time
        deadline = time.monotonic() + timeout
        while self.cycles < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True
