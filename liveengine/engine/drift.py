"""The picture's clock against the audio interface's, while chasing.

Two free-running crystals are 20 to 100 ppm apart; a pulled-down picture 1000. What cues start
follows the picture either way (kernel/picture.py), but the operator should know: the speed the
chase measures now (ppm from nominal), and how far the picture has moved against the audio clock
since the chase locked (in samples, and as ppm over that time). More than WARN_PPM for WARN_SECONDS
is worth a warning: the media server and the audio interface should share word clock.
"""

from dataclasses import dataclass

WARN_PPM = 200.0
WARN_SECONDS = 10.0
PPM = 1e6


@dataclass(frozen=True)
class ClockDrift:
    speed_ppm: float  # the picture's speed now, from nominal (+: it runs fast against the audio clock)
    samples: float  # how far the picture has moved ahead of the audio clock since the chase locked
    ppm: float  # that drift over the time since the lock

    def text(self) -> str:
        return f"speed {self.speed_ppm:+.0f} ppm, drift {self.samples:+.0f} samples ({self.ppm:+.0f} ppm) since lock"


class DriftWatch:
    """Follows the chase's telemetry (observe, from the engine's poll) for the drift since each lock
    (a relocation is a new lock) and the warnings."""

    def __init__(self, sample_rate: int, fps: float):
        self.sample_rate = sample_rate
        self.samples_per_frame = sample_rate / fps
        self.reading: ClockDrift | None = None  # None while no timecode is followed
        self.last_reading: ClockDrift | None = None  # the last reading taken, kept after the lock ends
        self._lock: tuple[float, int, int] | None = None  # (frame position, sample, relocations) at the lock
        self._off_since: int | None = None  # the sample from which the speed stayed beyond WARN_PPM
        self._warned = False

    def observe(self, status, sample: int) -> tuple[str, bool] | None:
        """Take the chase's `status` (TimecodeStatus) at engine sample `sample`; a report (text, warning)
        when the picture's clock has run more than WARN_PPM off for WARN_SECONDS, or is back within."""
        if status.state not in ("locked", "freewheel"):
            self.reading, self._lock, self._off_since = None, None, None
            return None
        if self._lock is None or self._lock[2] != status.relocations:
            self._lock = (status.position, sample, status.relocations)
        frame, locked_at, _ = self._lock
        elapsed = sample - locked_at
        drift = (status.position - frame) * self.samples_per_frame - elapsed
        speed_ppm = (status.speed - 1.0) * PPM
        self.reading = self.last_reading = ClockDrift(speed_ppm, drift, drift / elapsed * PPM if elapsed > 0 else 0.0)
        if abs(speed_ppm) <= WARN_PPM or status.state != "locked":
            self._off_since = None
            if self._warned and abs(speed_ppm) <= WARN_PPM:
                self._warned = False
                return f"the picture's clock is within {WARN_PPM:.0f} ppm of the audio's again ({speed_ppm:+.0f} ppm)", \
                    False
            return None
        if self._off_since is None:
            self._off_since = sample
        if not self._warned and sample - self._off_since >= WARN_SECONDS * self.sample_rate:
            self._warned = True
            return (f"the picture's clock has run {speed_ppm:+.0f} ppm from the audio's for {WARN_SECONDS:.0f} s "
                    f"(drift {drift:+.0f} samples since lock): what cues start follows the picture, but the media "
                    "server and the audio interface should share word clock"), True
        return None
