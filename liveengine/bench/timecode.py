"""`liveengine bench --part timecode`: the LTC decoder's cost per block, the chase's lock time
from a cold start at every rate, its error over long LTC at +-0.1 % speed, and where cues sound
against their frames at 0.9 to 1.1 speed.

Machines here are shared and noisy: compare figures within one run, never across runs.
"""

import numpy as np
from numba import njit

from ..kernel.dsp.ltc import FRAME_FIELDS, decoder_state, encode_ltc, frames_per_block, ltc_decode
from ..engine import BusLayout, Engine, EngineSettings, OfflineRenderer, TimecodeInput, events
from ..kernel.intrinsics import monotonic_ns
from .core import BLOCK, RATE


@njit(cache=True, nogil=True)
def _time_decoder(signal, block, ints, floats, rows, durations):
    for i in range(durations.shape[0]):
        began = monotonic_ns()
        ltc_decode(signal[i * block:(i + 1) * block], i * block, ints, floats, rows)
        durations[i] = monotonic_ns() - began


def ltc_decoder_cost(seconds: float) -> tuple[float, float]:
    """p50 and p99 time (us) to decode one 64-sample block of 25 fps LTC at 48 kHz."""
    signal = encode_ltc((1, 0, 0, 0), (25, 1), seconds, RATE)
    ints, floats = decoder_state(RATE, (25, 1))
    rows = np.zeros((frames_per_block(BLOCK, RATE, (25, 1)), FRAME_FIELDS))
    durations = np.zeros(len(signal) // BLOCK, np.int64)
    _time_decoder(signal, BLOCK, ints, floats, rows, durations)
    return float(np.percentile(durations, 50)) / 1000, float(np.percentile(durations, 99)) / 1000


def chase_engine(fps: tuple[int, int], drop_frame: bool) -> tuple[Engine, OfflineRenderer]:
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, input_channels=1,
                                   timecode=TimecodeInput(0, fps, drop_frame)))
    return engine, OfflineRenderer(engine.state, BLOCK)


def lock_time_frames(fps: tuple[int, int], drop_frame: bool, offset_fraction: float) -> float:
    """Frames of LTC heard, from a cold start `offset_fraction` into a frame, until the chase locks."""
    engine, renderer = chase_engine(fps, drop_frame)
    samples_per_frame = RATE * fps[1] / fps[0]
    skip = round(offset_fraction * samples_per_frame)
    signal = encode_ltc((1, 0, 0, 0), fps, 1.0, RATE, drop_frame=drop_frame)[skip:]
    for begin in range(0, len(signal) - BLOCK, BLOCK):
        renderer.render_block(signal[begin:begin + BLOCK, None])
        if engine.telemetry().timecode.state == "locked":
            return (begin + BLOCK) / samples_per_frame
    return float("inf")


def chase_error_samples(seconds: float, speed: float) -> tuple[float, float]:
    """Max and RMS distance (samples) between the chase line and the truth, over LTC at `speed`."""
    engine, renderer = chase_engine((25, 1), False)
    # Varispeed as a media server makes it: 25 fps LTC at one sample rate, played at another.
    recorded_rate = round(RATE / speed)
    signal = encode_ltc((1, 0, 0, 0), (25, 1), seconds / speed, recorded_rate)
    nominal_samples_per_frame = RATE / 25
    errors = []
    for begin in range(0, len(signal) - BLOCK, BLOCK):
        renderer.render_block(signal[begin:begin + BLOCK, None])
        if begin % (BLOCK * 16) == 0 and begin > RATE:
            # Where the line puts the start of the nearest frame, against where the encoder put it.
            status = engine.telemetry().timecode
            frame = round(status.position) - 90_000
            line_start = begin + BLOCK + (90_000 + frame - status.position) * nominal_samples_per_frame / status.speed
            encoder_start = -(-frame * recorded_rate // 25)
            errors.append(line_start - encoder_start)
    errors = np.abs(np.array(errors))
    return float(errors.max()), float(np.sqrt(np.mean(errors ** 2)))


CUE_FRAMES = (37, 60, 83, 146, 229)  # cue positions, frames after 01:00:00:00


def cue_onset_errors(speed: float) -> list[int]:
    """Samples between each cue's first sound and the true start of its frame, in LTC at `speed`."""
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, input_channels=1, polyphony=16,
                                   timecode=TimecodeInput(0, (25, 1)), buses=(BusLayout("master", outputs=(0, 1)),)))
    engine.install_tone(0, attack_seconds=0.001, release_seconds=0.005, gain=0.5)
    producer = engine.producer("show")
    for slot, frame in enumerate(CUE_FRAMES):
        note = slot * events.NOTE_GROUP_SIZE + 1
        template = [[0, events.PART_START, slot, 0, 0, 0, 0, 0],
                    [0, events.NOTE_ON, note, 0, 69.0, 1.0, 0, 0], [480, events.NOTE_OFF, note, 0, 0, 0, 0, 0]]
        producer.arm_cue(slot, events.TRIGGER_TIMECODE, np.array(template, np.float64), frame=90_000 + frame)
    recorded_rate = round(RATE / speed)  # varispeed as a media server makes it, as in chase_error_samples
    signal = encode_ltc((1, 0, 0, 0), (25, 1), (max(CUE_FRAMES) + 10) / 25, recorded_rate)
    renderer = OfflineRenderer(engine.state, BLOCK)
    audio = np.concatenate([renderer.render_block(signal[begin:begin + BLOCK, None])[:, 0].copy()
                            for begin in range(0, len(signal) - BLOCK, BLOCK)])
    sounding = np.flatnonzero(audio)
    onsets = [sounding[0]] + [b for a, b in zip(sounding, sounding[1:]) if b - a > 1000]
    # A tone's first sample is zero; the encoder starts frame k on sample ceil(k * rate / 25).
    return [int(onset) - 1 - (-(-frame * recorded_rate // 25)) for onset, frame in zip(onsets, CUE_FRAMES)]


def run_timecode_benchmarks(quick: bool):
    decode_p50, decode_p99 = ltc_decoder_cost(10.0 if quick else 60.0)
    print(f"LTC decoder, 25 fps at {RATE} Hz: {decode_p50:.2f} us per {BLOCK}-sample block (p50), "
          f"{decode_p99:.2f} us (p99)")
    print("Lock time from a cold start, in frames of LTC heard (a frame is known once it has ended):")
    for name, fps, drop_frame in (("23.976", (24000, 1001), False), ("24", (24, 1), False), ("25", (25, 1), False),
                                  ("29.97df", (30000, 1001), True), ("29.97", (30000, 1001), False),
                                  ("30", (30, 1), False)):
        times = [lock_time_frames(fps, drop_frame, offset) for offset in (0.0, 0.25, 0.5, 0.75)]
        print(f"  {name:>8} fps: {min(times):.2f} to {max(times):.2f} frames (start 0, 1/4, 1/2, 3/4 into a frame)")
    seconds = 60.0 if quick else 600.0
    for speed in (0.999, 1.001):
        largest, rms = chase_error_samples(seconds, speed)
        print(f"Chase error over {seconds / 60:.0f} min of 25 fps LTC at {100 * (speed - 1):+.1f} % speed: "
              f"max {largest:.2f} samples, RMS {rms:.2f} samples")
    print(f"Cue onsets against the true start of their frame, {len(CUE_FRAMES)} cues per run, 25 fps LTC:")
    for speed in (0.9, 0.999, 1.0, 1.001, 1.1):
        errors = cue_onset_errors(speed)
        print(f"  speed {speed:5.3f}: errors {errors} samples")
