"""`liveengine bench`: what a user runs to qualify a machine for a show.

core: the kernel's render cost per block (p50/p99/p99.9) for 64, 256 and 512 voices, and live
cycle delivery on a private JACK server with and without a hostile Python thread.
timecode: the LTC decoder's cost, lock time, chase error and cue onsets against their frames.
osc: command round trips and the message rate carried out beside 256 live voices.
midi: the latency the engine adds to MIDI notes, and send-to-sound time and jitter through JACK.

The comparisons with other engines (FluidSynth, scsynth) are not part of the package: they are
scripts in the source tree, `python bench/sampler.py` and `python bench/synth.py`.
"""

PARTS = ("all", "core", "timecode", "osc", "midi")
# The parts that moved out of the installed command: the engine each compared with, and the script now.
PEER_COMPARISONS = {"sampler": ("FluidSynth", "bench/sampler.py"), "synth": ("scsynth", "bench/synth.py")}


def run_benchmarks(args) -> int:
    from ..engine.warmup import prepare_kernels
    quick = getattr(args, "quick", False)
    prepare_kernels(report=lambda line: None)
    if args.part in ("timecode", "all"):
        from .timecode import run_timecode_benchmarks
        run_timecode_benchmarks(quick)
    if args.part in ("core", "all"):
        from .core import run_core_benchmarks
        run_core_benchmarks(quick)
    if args.part in ("osc", "all"):
        from .osc import run_osc_benchmarks
        run_osc_benchmarks(quick)
    if args.part in ("midi", "all"):
        from .midi import run_midi_benchmarks
        run_midi_benchmarks(quick)
    return 0
