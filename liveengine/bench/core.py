"""`liveengine bench --part core`: what the real-time core costs, and whether it keeps its cycles under load.

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

from ..background import BackgroundLoop
from ..drivers.devices import choose_device
from ..drivers.stream import LiveStream
from ..engine import Engine, EngineSettings, NotificationPump
from ..kernel.intrinsics import monotonic_ns
from ..kernel.process import process

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

    from ..drivers.jackserver import PrivateJackServer
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
