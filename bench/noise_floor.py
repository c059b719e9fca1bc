"""What ending sample voices at a noise floor could save (issue 15): `python bench/noise_floor.py [MIDI ...]`.

FluidSynth ends a voice once its envelope × attenuation × its sample's peak (its loop's, once in the loop)
falls below a floor of 3e-5 (-90 dB). The engine may end a voice only where its render differs from
today's by less than -120 dBFS in the mix, with many voices ending together: a floor of 1e-7 a voice for
ten at once, 1e-9 for a whole polyphony of 1024. This measures, on `liveengine play`'s own voices
(the MIDI player, FluidR3_GM, 44.1 kHz, cubic, 1024 voices), how much of their time a floor could take:
every 1024 frames, each sample voice in a stage where its envelope does not rise (decay, sustain,
release, fade) is below a floor when |envelope| × its larger gain × the peak of what it can still read
(from where it is to its end, or its loop once inside it, by blocks of 256 frames) × 1.25 (the most a
cubic interpolation overshoots its taps) is under it. The filter's gain is left out (a safe bound needs its
worst, at least 1), so the share is an upper bound on what a noise-floor end can save. Without files,
the sampler benchmark's four workloads.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from liveengine.instruments.samples import read_frames
from liveengine.kernel.regiontable import LOOP_CONTINUOUS, R_LOOP_END, R_LOOP_START
from liveengine.kernel.state import (
    KIND_SAMPLER, STAGE_DECAY, STAGE_FADE, STAGE_FREE, STAGE_RELEASE, STAGE_SUSTAIN, V_ENVELOPE, V_GAIN_LEFT,
    V_GAIN_RIGHT, V_PHASE, VS_KIND, VS_LOOP_MODE, VS_REGION, VS_SAMPLE, VS_STAGE,
)
from liveengine.midi.player import MidiPlayer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sampler import BANK, BLOCK, POLYPHONY, RATE, write_workloads  # noqa: E402

FLOORS = (3e-5, 1e-6, 1e-7, 1e-9)  # FluidSynth's, then this engine's per-voice choices
PEAK_BLOCK = 256
CHUNK = 1024
INTERPOLATION_OVERSHOOT = 1.25
FALLING = (STAGE_DECAY, STAGE_SUSTAIN, STAGE_RELEASE, STAGE_FADE)


def block_peaks(player: MidiPlayer) -> dict[int, np.ndarray]:
    """Each sample slot's peak magnitude by blocks of PEAK_BLOCK frames, read in full from the bank."""
    peaks = {}
    for preset in player.presets:
        for source, _, _ in (preset.samples or {}).values():
            slot = player.engine.samples.slot(source)
            if slot is not None and slot not in peaks:
                magnitude = np.abs(read_frames(source, 0, source.raw.frames)).max(axis=1)
                padded = np.pad(magnitude, (0, -len(magnitude) % PEAK_BLOCK))
                peaks[slot] = padded.reshape(-1, PEAK_BLOCK).max(axis=1)
    return peaks


def still_readable_peak(blocks: np.ndarray, position: float, looping: bool, loop_start: int, loop_end: int) -> float:
    """The peak of what a voice at `position` can still read: its loop once inside it, else all after it."""
    if looping and position >= loop_start + 1:
        return float(blocks[loop_start // PEAK_BLOCK:loop_end // PEAK_BLOCK + 1].max())
    first = max(0, int(position) - 1) // PEAK_BLOCK
    return float(blocks[first:].max()) if first < len(blocks) else 0.0


def measure(midi: Path) -> tuple[float, dict[float, float]]:
    """Voice-seconds of the render, and for each floor the share of them below it."""
    player = MidiPlayer(BANK, midi, sample_rate=RATE, block=BLOCK, interpolation="cubic", polyphony=POLYPHONY)
    state = player.engine.state
    peaks = block_peaks(player)
    below = dict.fromkeys(FLOORS, 0)
    voice_chunks = 0
    for _ in player.render(chunk_frames=CHUNK):
        ints, values = state.voice_ints, state.voice_values
        sounding = np.nonzero((ints[VS_KIND] == KIND_SAMPLER) & np.isin(ints[VS_STAGE], FALLING))[0]
        voice_chunks += int(np.count_nonzero((ints[VS_KIND] == KIND_SAMPLER) & (ints[VS_STAGE] != STAGE_FREE)))
        for v in sounding:
            r = ints[VS_REGION, v]
            peak = still_readable_peak(peaks[ints[VS_SAMPLE, v]], values[V_PHASE, v],
                                       ints[VS_LOOP_MODE, v] == LOOP_CONTINUOUS, int(state.regions[r, R_LOOP_START]),
                                       int(state.regions[r, R_LOOP_END]))
            bound = abs(values[V_ENVELOPE, v]) * max(abs(values[V_GAIN_LEFT, v]), abs(values[V_GAIN_RIGHT, v])) * \
                peak * INTERPOLATION_OVERSHOOT
            for floor in FLOORS:
                below[floor] += bound < floor
    return voice_chunks * CHUNK / RATE, {floor: count / max(1, voice_chunks) for floor, count in below.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("midi", nargs="*", type=Path, help="MIDI files (default: the sampler benchmark's workloads)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        files = args.midi or [workload.midi for workload in write_workloads(Path(directory), quick=False)]
        print(f"Share of sample-voice time below a noise floor ({BANK.name}, {RATE} Hz, cubic, {POLYPHONY} voices):")
        print(f"  {'file':18} {'voice-s':>9} " + " ".join(f"{floor:>8.0e}" for floor in FLOORS))
        for midi in files:
            seconds, shares = measure(midi)
            print(f"  {midi.stem:18} {seconds:9.0f} " + " ".join(f"{shares[floor]:8.2%}" for floor in FLOORS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
