"""Telemetry, read side: the latest meters and counters the audio thread published.

Each figure is one aligned scalar the audio thread writes and nobody else does, so a
reader sees every value whole; a snapshot is a consistent-enough picture for meters
and counters (not a transaction across fields).
"""

import math
import time
from dataclasses import dataclass

from ..kernel.chase import S_REJECTED, S_RELOCATIONS, STATE_NAMES
from ..levels import to_dbfs
from ..kernel.state import (
    B_GAIN,
    B_GAIN_RAMP_LEFT,
    B_GAIN_TARGET,
    B_MUTE_TARGET,
    M_INPUT_MEAN_SQUARE,
    M_INPUT_PEAK,
    M_MEAN_SQUARE_LEFT,
    M_MEAN_SQUARE_RIGHT,
    M_PEAK_LEFT,
    M_PEAK_RIGHT,
    T_CALLBACKS,
    T_CUE_EVENTS_DROPPED,
    T_CUES_FIRED,
    T_CUES_SKIPPED,
    T_DSP_LOAD,
    T_DSP_LOAD_AVERAGE,
    T_DSP_LOAD_MAX,
    T_DSP_LOAD_PEAK,
    T_EVENTS_APPLIED,
    T_EVENTS_REJECTED,
    T_LATE_EVENTS,
    T_LONGEST_GAP_NS,
    T_MISSED_CYCLES,
    T_NOTES_REFUSED,
    T_NOTIFICATIONS_DROPPED,
    T_OVERFLOWS,
    T_POSITION,
    T_PUBLISHING,
    T_SAMPLES_NOT_READY,
    T_TIMECODE_FRAMES,
    T_TIMECODE_POSITION,
    T_TIMECODE_SPEED,
    T_TIMECODE_STATE,
    T_UNDERFLOWS,
    T_VOICES,
    T_VOICES_STOLEN,
    EngineState,
)

@dataclass(frozen=True)
class Meter:
    """Peak (instant rise, 20 dB/s fall) and RMS (300 ms), in dBFS, per channel."""

    peak_dbfs: tuple[float, ...]
    rms_dbfs: tuple[float, ...]


@dataclass(frozen=True)
class TimecodeStatus:
    """Where the chased picture is: LTC on an input, decoded and followed by the audio thread."""

    state: str  # stopped, locking, locked, freewheel
    position: float  # frames since midnight at the end of the last block (unwrapped past midnight)
    speed: float  # 1.0 at the nominal frame rate, negative in reverse, 0 when stopped
    frames_decoded: int
    frames_rejected: int  # glitches: frames that did not fit the line
    relocations: int  # jumps followed


@dataclass(frozen=True)
class Telemetry:
    position: int  # samples rendered since the engine started
    callbacks: int
    voices: int  # voice slots sounding, fading ones included
    dsp_load: float  # last callback's time / its period
    dsp_load_peak: float  # recent peak: the maximum, decaying by half in about 1400 callbacks (for meters)
    dsp_load_average: float
    dsp_load_max: float  # the true maximum since the engine started: the run's peak
    # Periods the callback was not called for (live streams): a gap of more than 1.5 periods
    # between two callbacks counts round(gap / period) - 1. On a server without real-time
    # priority, late wake-ups count too; the host's own cycle count is in `liveengine bench`.
    missed_cycles: int
    longest_gap_ms: float  # longest time between two callbacks
    late_events: int
    underflows: int  # PortAudio's output underflow flag
    overflows: int  # PortAudio's input overflow flag
    voices_stolen: int
    notes_refused: int
    events_applied: int
    events_rejected: int
    notifications_dropped: int
    buses: dict[str, Meter]
    inputs: tuple[Meter, ...]
    timecode: TimecodeStatus  # chased, or the engine's own as timecode master (from the first sample)
    cues_fired: int
    cues_skipped: int
    cue_events_dropped: int  # template events that found the pending set full
    samples_not_ready: int  # voices that reached sample frames the loader had not read yet


def read_telemetry(state: EngineState) -> Telemetry:
    t, load = state.telemetry, state.telemetry_float
    meters = state.bus_meters
    buses = {
        bus.name: Meter(
            peak_dbfs=(to_dbfs(meters[M_PEAK_LEFT, i]), to_dbfs(meters[M_PEAK_RIGHT, i])),
            rms_dbfs=(to_dbfs(math.sqrt(meters[M_MEAN_SQUARE_LEFT, i])),
                      to_dbfs(math.sqrt(meters[M_MEAN_SQUARE_RIGHT, i]))))
        for i, bus in enumerate(state.settings.buses)
    }
    inputs = tuple(
        Meter(peak_dbfs=(to_dbfs(state.input_meters[M_INPUT_PEAK, ch]),),
              rms_dbfs=(to_dbfs(math.sqrt(state.input_meters[M_INPUT_MEAN_SQUARE, ch])),))
        for ch in range(state.settings.input_channels))
    position, timecode = position_and_timecode(state)
    return Telemetry(
        position=position, callbacks=int(t[T_CALLBACKS]), voices=int(t[T_VOICES]),
        dsp_load=float(load[T_DSP_LOAD]), dsp_load_peak=float(load[T_DSP_LOAD_PEAK]),
        dsp_load_average=float(load[T_DSP_LOAD_AVERAGE]), dsp_load_max=float(load[T_DSP_LOAD_MAX]),
        missed_cycles=int(t[T_MISSED_CYCLES]),
        longest_gap_ms=t[T_LONGEST_GAP_NS] / 1e6, late_events=int(t[T_LATE_EVENTS]),
        underflows=int(t[T_UNDERFLOWS]), overflows=int(t[T_OVERFLOWS]), voices_stolen=int(t[T_VOICES_STOLEN]),
        notes_refused=int(t[T_NOTES_REFUSED]), events_applied=int(t[T_EVENTS_APPLIED]),
        events_rejected=int(t[T_EVENTS_REJECTED]), notifications_dropped=int(t[T_NOTIFICATIONS_DROPPED]),
        buses=buses, inputs=inputs, timecode=timecode, cues_fired=int(t[T_CUES_FIRED]),
        cues_skipped=int(t[T_CUES_SKIPPED]), cue_events_dropped=int(t[T_CUE_EVENTS_DROPPED]),
        samples_not_ready=int(t[T_SAMPLES_NOT_READY]))


@dataclass(frozen=True)
class BusLevel:
    """What a bus applies now, as the audio thread left it at the end of its last block: the show
    file's values until a command, a cue or a fade changes them."""

    gain_db: float  # the gain applied now (part way, while a fade runs)
    target_db: float  # where the gain is going: gain_db once any fade is over
    fade_seconds: float  # left of the fade toward target_db; 0 when the gain is there
    muted: bool  # as last commanded (the mute itself ramps over a few milliseconds)


def read_bus_levels(state: EngineState) -> dict[str, BusLevel]:
    values, rate = state.bus_values, state.settings.sample_rate
    return {bus.name: BusLevel(gain_db=float(to_dbfs(values[B_GAIN, i])),
                               target_db=float(to_dbfs(values[B_GAIN_TARGET, i])),
                               fade_seconds=float(values[B_GAIN_RAMP_LEFT, i]) / rate,
                               muted=bool(values[B_MUTE_TARGET, i] == 0.0))
            for i, bus in enumerate(state.settings.buses)}


# How long a reader waits for the audio thread to finish a publication it was held up in (the scheduler's
# doing: it writes the pair in nanoseconds).
PAIR_WAIT_SECONDS = 0.05


def position_and_timecode(state: EngineState) -> tuple[int, TimecodeStatus]:
    """The sample position and the timecode published for it, of one block: read between two readings of the
    audio thread's count of publications, the same and even (none written meanwhile, none under way), else
    read again. Past PAIR_WAIT_SECONDS (an audio thread stopped mid-publication), the last reading stands."""
    deadline = time.monotonic() + PAIR_WAIT_SECONDS
    while True:
        publishing = int(state.telemetry[T_PUBLISHING])
        position = int(state.telemetry[T_POSITION])
        timecode = _timecode_status(state)
        if (publishing % 2 == 0 and int(state.telemetry[T_PUBLISHING]) == publishing) or \
                time.monotonic() > deadline:
            return position, timecode
        time.sleep(0)  # let the audio thread finish


def _timecode_status(state: EngineState) -> TimecodeStatus:
    return TimecodeStatus(
        state=STATE_NAMES[int(state.telemetry[T_TIMECODE_STATE])],
        position=float(state.telemetry_float[T_TIMECODE_POSITION]),
        speed=float(state.telemetry_float[T_TIMECODE_SPEED]),
        frames_decoded=int(state.telemetry[T_TIMECODE_FRAMES]),
        frames_rejected=int(state.chase[S_REJECTED]), relocations=int(state.chase[S_RELOCATIONS]))
