"""`liveengine bench`: what the real-time core costs, and whether it keeps its cycles under load.

1. Kernel cost: render time per block (p50/p99/p99.9) with 64, 256 and 512 sounding
   voices at 64 frames and 48 kHz, timed inside compiled code (no interpreter in the
   measurement), and voice-seconds rendered per CPU-second.
2. Live delivery: the compiled callback on a private JACK server (dummy driver), with
   and without a hostile Python thread in the same process (busy loop, gc.collect() of
   a large object graph, sorted() of a large list), as delivered / expected cycles; the
   same run with a sounddevice Python callback, for comparison.

Machines here are shared and noisy: compare figures within one run, never across runs.
"""

import contextlib
import gc
import time

import numpy as np
from numba import njit

from .background import BackgroundLoop
from .kernel.dsp.ltc import FRAME_FIELDS, decoder_state, encode_ltc, frames_per_block, ltc_decode
from .engine import (BusLayout, Engine, EngineSettings, LiveStream, NotificationPump, OfflineRenderer,
                     TimecodeInput, choose_device, events)
from .kernel.intrinsics import monotonic_ns
from .kernel.render import process

RATE = 48000
BLOCK = 64


@njit(cache=True, nogil=True)
def _time_blocks(table, input_address, output_address, frames, durations):
    for i in range(durations.shape[0]):
        began = monotonic_ns()
        process(table, input_address, output_address, frames, 0)
        durations[i] = monotonic_ns() - began


def sounding_engine(voices: int, release_at: int | None = None) -> Engine:
    """An engine with `voices` test tones spread over the keyboard, held or released at a sample."""
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, polyphony=max(voices, 1)))
    engine.install_tone(0, attack_seconds=0.001, release_seconds=0.2, gain=1.0 / max(voices, 1))
    producer = engine.producer("control")
    for note in range(voices):
        producer.note_on(0, note, 0, 36 + note % 60 + (note // 60) * 0.01, 0.8, "keys", pan=(note % 7 - 3) / 3)
        if release_at is not None:
            producer.note_off(release_at, note)
    return engine


def kernel_cost(voices: int, blocks: int) -> dict:
    engine = sounding_engine(voices)
    out = np.zeros((BLOCK, engine.settings.output_channels), np.float32)
    durations = np.zeros(blocks, np.int64)
    _time_blocks(engine.state.table, 0, out.ctypes.data, BLOCK, durations[:16])  # notes start, caches warm
    cpu_began = time.process_time()
    _time_blocks(engine.state.table, 0, out.ctypes.data, BLOCK, durations)
    cpu = time.process_time() - cpu_began
    assert engine.telemetry().voices == voices
    micros = durations / 1000
    return {"voices": voices, "p50_us": float(np.percentile(micros, 50)), "p99_us": float(np.percentile(micros, 99)),
            "p999_us": float(np.percentile(micros, 99.9)), "period_us": BLOCK / RATE * 1e6,
            "voice_seconds_per_cpu_second": voices * blocks * BLOCK / RATE / cpu}


def silent_tail_cost(blocks: int) -> tuple[float, float]:
    """p50 block cost (us) of a never-used engine, and of one whose 512 voices finished
    their releases a moment ago (meters and limiter still decaying): equal when no state
    decays into subnormal numbers."""
    out = np.zeros((BLOCK, 2), np.float32)

    def p50_after(engine, settle_blocks):
        durations = np.zeros(blocks, np.int64)
        _time_blocks(engine.state.table, 0, out.ctypes.data, BLOCK, np.zeros(settle_blocks, np.int64))
        _time_blocks(engine.state.table, 0, out.ctypes.data, BLOCK, durations)
        return float(np.percentile(durations, 50)) / 1000

    released = sounding_engine(512, release_at=BLOCK)
    tail = p50_after(released, settle_blocks=RATE // 2 // BLOCK)  # past the 200 ms releases
    assert released.telemetry().voices == 0
    return p50_after(sounding_engine(0), settle_blocks=16), tail


class HostileLoad(BackgroundLoop):
    """A Python thread that holds the GIL as badly as real programs do: busy loops, full
    garbage collections over a large object graph, and sorts of large lists."""

    def __init__(self):
        super().__init__("hostile-load")
        self.rounds = 0
        self._graph = [{"n": i, "next": [i]} for i in range(1_000_000)]
        self._numbers = list(np.random.default_rng(1).random(2_000_000))

    def step(self):
        total = 0
        for i in range(2_000_000):  # busy interpreter loop
            total += i * i
        gc.collect()  # walks the million-object graph
        sorted(self._numbers)  # one long C call holding the GIL
        self.rounds += 1


def _hostile_or_not(hostile: bool):
    return HostileLoad() if hostile else contextlib.nullcontext()


def live_delivery(seconds: float, hostile: bool) -> dict:
    """Run the compiled callback on the current (JACK) device; count cycles delivered.

    Expected cycles come from the stream's own clock (for JACK, its frame counter), so a
    dummy driver that runs a little slow is not mistaken for missed cycles.
    """
    engine = sounding_engine(64)
    device = choose_device(None, engine.settings.output_channels, 0)
    stream = LiveStream(engine.state, device, BLOCK)
    with NotificationPump(engine):
        stream.start()
        try:
            time.sleep(0.5)  # settle
            before, stream_before = engine.telemetry(), stream.stream_time()
            with _hostile_or_not(hostile) as load:
                time.sleep(seconds)
                after, stream_after = engine.telemetry(), stream.stream_time()
        finally:
            stream.close()
    return {"expected": (stream_after - stream_before) * RATE / BLOCK, "delivered": after.callbacks - before.callbacks,
            "missed_cycles": after.missed_cycles - before.missed_cycles, "longest_gap_ms": after.longest_gap_ms,
            "hostile_rounds": load.rounds if hostile else 0}


def python_callback_delivery(seconds: float, hostile: bool) -> dict:
    """The same run with sounddevice's ordinary Python callback, which needs the GIL every cycle."""
    import sounddevice
    calls = [0]

    def callback(outdata, frames, time_info, status):
        outdata.fill(0)
        calls[0] += 1

    with sounddevice.OutputStream(samplerate=RATE, blocksize=0, channels=2, callback=callback) as stream:
        time.sleep(0.5)
        before, stream_before = calls[0], stream.time
        with _hostile_or_not(hostile) as load:
            time.sleep(seconds)
            after, stream_after = calls[0], stream.time
    return {"expected": (stream_after - stream_before) * RATE / BLOCK, "delivered": after - before,
            "hostile_rounds": load.rounds if hostile else 0}


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


def run_benchmarks(args) -> int:
    from .engine.warmup import prepare_kernels
    quick = getattr(args, "quick", False)
    prepare_kernels(report=lambda line: None)
    if args.part in ("timecode", "all"):
        run_timecode_benchmarks(quick)
    if args.part in ("core", "all"):
        run_core_benchmarks(quick)
    if args.part in ("osc", "all"):
        from .oscbench import run_osc_benchmarks
        run_osc_benchmarks(quick)
    if args.part in ("midi", "all"):
        from .midibench import run_midi_benchmarks
        run_midi_benchmarks(quick)
    if args.part in ("synth", "all"):
        from .synthbench import run_synth_benchmarks
        run_synth_benchmarks(quick)
    if args.part in ("sampler", "all"):
        from .samplerbench import run_sampler_benchmarks
        run_sampler_benchmarks(quick)
    return 0


def run_core_benchmarks(quick: bool):
    print(f"Kernel cost, {BLOCK}-frame blocks at {RATE} Hz (period {BLOCK / RATE * 1e6:.0f} us), test-tone voices:")
    print(f"  {'voices':>6} {'p50 us':>9} {'p99 us':>9} {'p99.9 us':>9} {'load p50':>9} {'voice-s/CPU-s':>14}")
    blocks = 2000 if quick else 20000
    for voices in (64, 256, 512):
        r = kernel_cost(voices, blocks)
        print(f"  {voices:>6} {r['p50_us']:>9.1f} {r['p99_us']:>9.1f} {r['p999_us']:>9.1f} "
              f"{100 * r['p50_us'] / r['period_us']:>8.1f}% {r['voice_seconds_per_cpu_second']:>14.0f}")
    silence, tails = silent_tail_cost(blocks)
    print(f"  silent engine {silence:.1f} us per block; just after 512 releases ended {tails:.1f} us per block")

    from .jackserver import PrivateJackServer
    seconds = 5.0 if quick else 20.0
    for realtime in (False, True):
        mode = "real-time (SCHED_FIFO), as on a show machine" if realtime else "no real-time priority"
        print(f"\nLive delivery on a private JACK server, dummy driver, {RATE} Hz, period {BLOCK}, {mode}; "
              f"{seconds:.0f} s each, delivered / expected cycles by the stream's clock:")
        with PrivateJackServer(sample_rate=RATE, period=BLOCK, capture_channels=2, playback_channels=2,
                               realtime=realtime):
            rows = [("compiled callback", live_delivery(seconds, False)),
                    ("compiled callback + hostile thread", live_delivery(seconds, True)),
                    ("Python callback", python_callback_delivery(seconds, False)),
                    ("Python callback + hostile thread", python_callback_delivery(seconds, True))]
        for name, r in rows:
            ratio = r["delivered"] / r["expected"]
            extra = f", gaps counted as missed {r['missed_cycles']}, longest gap {r['longest_gap_ms']:.1f} ms" \
                if "missed_cycles" in r else ""
            hostile = f", hostile rounds {r['hostile_rounds']}" if r["hostile_rounds"] else ""
            print(f"  {name:<36} {r['delivered']:>7} / {r['expected']:>7.0f} ({100 * ratio:5.1f}%){extra}{hostile}")
