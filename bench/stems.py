"""The stems benchmark, `python bench/stems.py [--rounds N]` in a checkout: what 16 stereo stems cost
the audio thread per 64-frame block at 48 kHz, sample-locked (no timecode: as every stem played before
they followed the picture) and following a chased picture at exactly its nominal speed and at 1.001
of it (read between frames by the resampler).

Each engine holds 16 stems of 6 s of noise, loaded whole before the render (no disk read while it is
timed). A chased engine's timecode frames are posted ahead, on an exact line at the speed, so the
chase is locked from the start; every stem starts on the same sample, after which half-second
renders are timed with time.perf_counter around one call into the kernel (its blocks of 64 frames
inside compiled code, no interpreter between them). The same engine with no stem playing gives the
rest of the block's cost, taken off to leave the stems'. The cases alternate round by round; each
figure is the median of the rounds. Machines here are shared and noisy: compare figures within one
run, never across runs.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from liveengine.engine import Engine, EngineSettings, OfflineRenderer, TimecodeInput
from liveengine.engine.warmup import prepare_kernels_shown
from liveengine.kernel.stems import ST_FOLLOWS, ST_PLAYING, ST_STARVED
from liveengine.loader.stems import StemFile, StemLoader

RATE = 48000
BLOCK = 64
STEMS = 16
STEM_SECONDS = 6.0
FPS = (25, 1)
HOUR_AT_25 = 90000
START = RATE // 2  # every stem starts here, the chase locked long before
TIMED_SAMPLES = RATE // 2  # one timed render
RENDERS = 8  # timed renders in a round: 4 s of each stem


class Case:
    """An engine whose stems play `STEM_SECONDS` from START: sample-locked (`speed` None), following a
    picture at `speed`, or not at all (`stems_play` False)."""

    def __init__(self, folder: Path, speed: float | None, stems_play: bool = True):
        timecode = TimecodeInput(None, FPS, freewheel_seconds=STEM_SECONDS) if speed is not None else None
        self.engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, stems=STEMS, timecode=timecode,
                                            stem_buffer_seconds=STEM_SECONDS + 1.0))
        loader = StemLoader(self.engine, [StemFile(slot, f"stem{slot}", folder / f"stem{slot}.wav")
                                          for slot in range(STEMS)], wait_for_block=lambda: None)
        assert not loader.problems, loader.problems
        loader.preload()  # the whole of every file: nothing to read while timed
        self.renderer = OfflineRenderer(self.engine.state, BLOCK)
        producer = self.engine.producer("show")
        if speed is not None:
            period = RATE * FPS[1] / FPS[0] / speed
            for frame in range(round((START + RENDERS * TIMED_SAMPLES) / period) + 2):
                producer.timecode_frame(HOUR_AT_25 + frame, frame * period)
        if stems_play:
            for slot in range(STEMS):
                producer.start_stem(slot, "stems", 0.1, 0, sample=START)
        self.renderer.render_frames(START + BLOCK)
        self.follows = bool(self.engine.state.stem_ints[ST_FOLLOWS].all())

    def time_render(self) -> float:
        """Seconds per block of one timed render."""
        began = time.perf_counter()
        self.renderer.render_frames(TIMED_SAMPLES)
        return (time.perf_counter() - began) / (TIMED_SAMPLES // BLOCK)

    def check(self, stems_play: bool):
        ints = self.engine.state.stem_ints
        assert ints[ST_PLAYING].all() == stems_play and not ints[ST_STARVED].any(), "every stem played throughout"


def write_stems(folder: Path):
    rng = np.random.default_rng(1)
    for slot in range(STEMS):
        noise = rng.uniform(-0.5, 0.5, (round(STEM_SECONDS * RATE), 2)).astype(np.float32)
        soundfile.write(folder / f"stem{slot}.wav", noise, RATE, subtype="FLOAT")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    prepare_kernels_shown(quiet_when_warm=True)
    names = {"no stem playing": (None, False), "sample-locked": (None, True),
             "following, speed 1.0": (1.0, True), "following, speed 1.001": (1.001, True)}
    times = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        write_stems(folder)
        for _ in range(args.rounds):
            for name, (speed, stems_play) in names.items():
                case = Case(folder, speed, stems_play)
                assert case.follows == (speed is not None and stems_play), name
                times[name].append(statistics.median(case.time_render() for _ in range(RENDERS)))
                case.check(stems_play)
    base = statistics.median(times["no stem playing"])
    locked = statistics.median(times["sample-locked"]) - base
    print(f"{STEMS} stereo stems, {BLOCK}-frame blocks at {RATE} Hz (a block lasts {BLOCK / RATE * 1e6:.0f} us); "
          f"median of {args.rounds} rounds")
    print(f"{'':26}{'block, us':>11}{'stems, us':>11}{'vs locked':>11}")
    for name, figures in times.items():
        block = statistics.median(figures)
        line = f"{name:26}{block * 1e6:11.1f}"
        if name != "no stem playing":
            line += f"{(block - base) * 1e6:11.1f}{(block - base) / locked:10.2f}x"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
