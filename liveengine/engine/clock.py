"""The sample clock as seen from the control plane: arrival time -> target sample.

The audio thread publishes (first sample of block, CLOCK_MONOTONIC ns at callback
entry) every block. Callback wake-ups jitter, so the pairs go through a second-order
delay-locked loop (F. Adriaensen, "Using a DLL to filter time", LAC 2005), which
tracks the true sample rate and position; a MIDI or OSC arrival time then maps to a
sample through the filtered line, plus a fixed scheduling latency. Jitter in Python
handling therefore never becomes jitter in sound, as long as it stays below the latency.
"""

import collections
import math
import threading


class SampleClock:
    STALL_SECONDS = 0.25  # a block this much later than the line predicts: the stream stalled or was reopened

    def __init__(self, sample_rate: int, latency_samples: int | None = None, bandwidth_hz: float = 1.0):
        """`latency_samples` None: two blocks of the running stream (the host may choose its size):
        a message arriving as a block starts to render misses that block, so the next one must
        leave the time to handle it (measured: `liveengine bench --part midi`)."""
        self.sample_rate = sample_rate
        self._fixed_latency = latency_samples
        self.bandwidth_hz = bandwidth_hz
        self._lock = threading.Lock()
        self._previous_sample: int | None = None
        # The filtered line: sample0 is played at time0, sample1 is predicted at time1 (seconds).
        self._sample0 = self._sample1 = 0
        self._time0 = self._time1 = 0.0
        self._period = 0.0  # filtered seconds per block; 0 until two pairs have arrived
        self._b = self._c = 0.0
        self.recent_pairs: collections.deque[tuple[int, int]] = collections.deque(maxlen=8192)

    def observe(self, sample: int, monotonic_ns: int):
        """One (block start sample, callback entry time) pair from the audio thread."""
        now = monotonic_ns * 1e-9
        self.recent_pairs.append((sample, monotonic_ns))
        with self._lock:
            previous, self._previous_sample = self._previous_sample, sample
            if previous is None or sample <= previous:
                self._period = 0.0
                return
            frames = sample - previous
            error = now - self._time1
            if self._period <= 0.0 or sample != self._sample1 or error > self.STALL_SECONDS:
                self._start_loop(sample, now, frames)
                return
            self._sample0, self._time0 = sample, self._time1
            self._time1 += self._b * error + self._period
            self._period += self._c * error
            self._sample1 = sample + frames

    def _start_loop(self, sample: int, now: float, frames: int):
        # With the first pair of blocks, and again after a skip (missed notifications, relocation) or a stall.
        self._period = frames / self.sample_rate
        self._sample0, self._time0 = sample, now
        self._sample1, self._time1 = sample + frames, now + self._period
        omega = 2 * math.pi * self.bandwidth_hz * self._period
        self._b, self._c = math.sqrt(2) * omega, omega * omega

    @property
    def running(self) -> bool:
        """True once the stream has published enough pairs to map time."""
        with self._lock:
            return self._period > 0.0

    def sample_at(self, monotonic_ns: int) -> float:
        """The sample the output stream renders at that time (fractional, no latency added)."""
        with self._lock:
            if self._period <= 0.0:
                raise RuntimeError("the sample clock has no running stream to follow")
            # The slope is the filtered rate; a single step of the loop also carries its phase correction.
            frames = self._sample1 - self._sample0
            return self._sample0 + (monotonic_ns * 1e-9 - self._time0) * frames / self._period

    @property
    def latency_samples(self) -> int:
        if self._fixed_latency is not None:
            return self._fixed_latency
        with self._lock:
            return 2 * (self._sample1 - self._sample0)

    def monotonic_ns_at(self, sample: float) -> int:
        """When (CLOCK_MONOTONIC ns) the output stream renders `sample`: the inverse of sample_at."""
        with self._lock:
            if self._period <= 0.0:
                raise RuntimeError("the sample clock has no running stream to follow")
            frames = self._sample1 - self._sample0
            return round((self._time0 + (sample - self._sample0) * self._period / frames) * 1e9)

    def sample_for_arrival(self, monotonic_ns: int) -> int:
        """The sample at which something that arrived at that time takes effect."""
        return math.floor(self.sample_at(monotonic_ns)) + self.latency_samples
