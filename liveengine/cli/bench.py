"""`liveengine bench`: qualify this machine for a show (kernel cost, live delivery, timecode, OSC, MIDI)."""

import argparse

from ..bench import PARTS, PEER_COMPARISONS


def add_parser(commands):
    bench = commands.add_parser("bench", help="qualify this machine for a show: kernel cost, live delivery, timecode, OSC, MIDI")
    bench.add_argument("--quick", action="store_true", help="fewer blocks and shorter live runs")
    bench.add_argument("--part", type=bench_part, choices=PARTS, default="all",
                       help="core: render cost and live delivery; timecode: LTC decoding, chase and cue timing; "
                            "osc: command round trips and the rate sustained beside 256 live voices; "
                            "midi: MIDI-in to audio-out latency and jitter")
    bench.set_defaults(handler=command_bench)


def command_bench(args) -> int:
    from ..bench import run_benchmarks
    return run_benchmarks(args)


def bench_part(name: str) -> str:
    """A part of `liveengine bench`; the peer comparisons that left it say where they went."""
    if name in PEER_COMPARISONS:
        peer, script = PEER_COMPARISONS[name]
        raise argparse.ArgumentTypeError(
            f"'{name}' is no longer part of liveengine bench: the comparison with {peer} is a script in "
            f"liveengine's source tree; run `python {script} [--quick]` in a checkout")
    return name
