"""What a live show tells its operator: the status line, the audio thread's reports worded in the
show's terms (timecode, cue numbers), a watchdog on the audio device, and the summary at the end."""

import math
import time

from ..engine import ChaseChange, TimecodeEvent
from ..timecode import Timecode


def _timecode_text(status, rate, drift) -> str:
    if status.state in ("locked", "freewheel"):
        clock = "" if drift is None else f" {drift.speed_ppm:+.0f} ppm drift {drift.samples:+.0f} smp"
        return f"TC {Timecode.from_frames(math.floor(status.position), rate)} {status.state}{clock}"
    return f"TC {status.state}"


def status_line(t, timecode_rate, elapsed: float, drift=None) -> str:
    """The live status: DSP load as its running average and the run's maximum, the summary's figure; while
    chasing, the picture's speed against the audio clock and its drift since lock (`drift`, a ClockDrift)."""
    master = t.buses["master"].peak_dbfs
    timecode = f"  {_timecode_text(t.timecode, timecode_rate, drift)}" if t.timecode else ""
    return (f"{elapsed:7.1f} s{timecode}  voices {t.voices:3d}  DSP {100 * t.dsp_load_average:5.1f}% "
            f"(max {100 * t.dsp_load_max:5.1f}%)  late cycles {t.missed_cycles}  late events {t.late_events}  "
            f"master {max(master):6.1f} dBFS")


def live_summary(t, stream_seconds: float, sample_rate: int) -> list[str]:
    """What a live run's audio thread counted, and what the counts mean.

    A period is one callback's frames (the JACK period). The time the stream ran allows so many
    periods; a gap of 1.5 periods or more between two callbacks counts as late cycles (the periods
    it spans, less one). A driver that wakes late may catch up with callbacks in quick succession
    (JACK's dummy driver does), so late cycles are not lost audio: the periods delivered say that.
    """
    if not t.callbacks:
        return [f"Audio: the device never called back in the {stream_seconds:.1f} s the stream was open."]
    frames = t.position / t.callbacks
    allowed = stream_seconds * sample_rate / frames
    period_ms = frames / sample_rate * 1000
    lines = [f"Audio: {t.callbacks} callbacks of {frames:.0f} frames ({period_ms:.2f} ms) in {stream_seconds:.1f} s; "
             f"that time allows {allowed:.0f} (from the stream's start to its close)."]
    if t.missed_cycles:
        shortfall = allowed - t.callbacks
        outcome = "the device caught up: every period was delivered" if shortfall < max(2.0, 0.01 * allowed) \
            else f"about {shortfall:.0f} periods were never delivered: the audio dropped out"
        lines.append(f"  {t.missed_cycles} late cycles (gaps between callbacks of 1.5 periods or more, "
                     f"longest {t.longest_gap_ms:.2f} ms); {outcome}.")
    lines.append(f"  DSP load: average {100 * t.dsp_load_average:.1f}%, max {100 * t.dsp_load_max:.1f}% of a period "
                 f"(the status line's max); {t.late_events} late events, {t.notes_refused} refused notes.")
    return lines


class CallbackWatchdog:
    """Says clearly when the audio device stops calling back (device lost, server gone), and when it resumes."""

    SILENT_SECONDS = 1.0

    def __init__(self, engine, report):
        self.engine = engine
        self.report = report  # report(text, error=False)
        self._callbacks = engine.telemetry().callbacks
        self._last_change = time.monotonic()
        self._stalled = False

    def check(self):
        callbacks = self.engine.telemetry().callbacks
        now = time.monotonic()
        if callbacks != self._callbacks:
            if self._stalled:
                self.report(f"Audio resumed after {now - self._last_change:.1f} s.", error=True)
            self._callbacks, self._last_change, self._stalled = callbacks, now, False
        elif not self._stalled and now - self._last_change > self.SILENT_SECONDS:
            self._stalled = True
            self.report(f"ERROR: the audio device has not called back for {self.SILENT_SECONDS:.0f} s: "
                        "device lost or audio server stopped. The show keeps its place and waits.", error=True)


def sayer(terminal, engine, timecode_rate):
    """say(text, error=False): a message to the operator, after the show's time (its timecode while
    the timecode runs, else the seconds since the stream started)."""
    def when() -> str:
        status = engine.telemetry().timecode
        if status.state in ("locked", "freewheel"):
            return str(Timecode.from_frames(math.floor(status.position), timecode_rate))
        return f"{engine.position / engine.settings.sample_rate:.1f} s"

    def say(text: str, error: bool = False):
        terminal.message(f"{when()} {text}", error=error)

    say.when = when
    return say


class EngineReports:
    """What the audio thread reported, worded for the operator: timecode events one by one; late
    events, rejected timecode frames and samples not ready counted, a line a second at most for each.
    (Refused notes are said by the engine once per instrument and reason, and counted in the summary.)"""

    def __init__(self, engine, timecode_rate, say):
        self.engine = engine
        self.timecode_events = engine.subscribe(TimecodeEvent)
        self.timecode_rate = timecode_rate
        self.say = say
        t = engine.telemetry()
        self._late, self._not_ready = t.late_events, t.samples_not_ready
        self._rejected = t.timecode.frames_rejected
        self._rate_reports = engine.timecode_rate_reports_made
        self._next_count = 0.0

    def check(self, elapsed: float):
        engine = self.engine
        for event in self.timecode_events.drain():
            if event.what not in (ChaseChange.LOCKING, ChaseChange.FRAME_REJECTED):
                self.say(event.text(str(Timecode.from_frames(math.floor(event.frame), self.timecode_rate))))
        reports, self._rate_reports = engine.timecode_rate_reports_since(self._rate_reports)
        for _, text, warning in reports:
            self.say(text, error=warning)
        if elapsed < self._next_count:
            return
        self._next_count = elapsed + 1.0
        t = engine.telemetry()
        sample_rate = engine.settings.sample_rate
        if t.late_events > self._late:
            new = list(engine.late_events)[-(t.late_events - self._late):]
            worst = max((late.applied_sample - late.wanted_sample for late in new), default=0) / sample_rate * 1000
            kinds = ", ".join(sorted({late.kind for late in new}))
            self.say(f"{t.late_events - self._late} late events ({kinds}), up to {worst:.0f} ms late: they arrived "
                     f"after their block had played; {t.late_events} since the start", error=True)
        if t.timecode.frames_rejected > self._rejected:
            self.say(f"{t.timecode.frames_rejected - self._rejected} timecode frames rejected: they did not follow "
                     "the picture's line (a glitch)", error=True)
        if t.samples_not_ready > self._not_ready:
            self.say(f"{t.samples_not_ready - self._not_ready} notes played silence: their samples were not read "
                     "from disk in time", error=True)
        self._late, self._not_ready = t.late_events, t.samples_not_ready
        self._rejected = t.timecode.frames_rejected


def say_decisions(runner, shown: int, say) -> int:
    """Say the runner's decisions made since the `shown` first; returns how many are shown now."""
    decisions = list(runner.decisions)
    total = runner.decisions_made
    for decision in decisions[len(decisions) - min(total - shown, len(decisions)):]:
        cue = f"cue {decision.cue}: " if decision.cue else ""
        say(f"{cue}{decision.text}")
    return total
