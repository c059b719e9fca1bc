"""What the verbs share: audio and OSC settings given on the command line, which win over the show
file, the rig built from both, and the kernels prepared with their progress shown."""

import argparse
import dataclasses
import sys

from ..kernel.state import SAMPLE_RATES
from . import UsageError


def block_size(text: str) -> int:
    value = int(text)
    if not 32 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"block size must be 32 to 1024, got {value}")
    return value


def channel_count(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 64:
        raise argparse.ArgumentTypeError(f"channel count must be 0 to 64, got {value}")
    return value


def add_audio_options(parser: argparse.ArgumentParser, device: bool):
    group = parser.add_argument_group("audio (overrides the show file)")
    if device:
        group.add_argument("--device", help="output device: a name substring or an index (see `devices`)")
    group.add_argument("--sample-rate", type=int, choices=SAMPLE_RATES)
    group.add_argument("--block-size", type=block_size, help="frames per audio block, 32-1024")
    group.add_argument("--outputs", type=channel_count, dest="output_channels", help="output channel count")
    group.add_argument("--inputs", type=channel_count, dest="input_channels", help="input channel count")


def add_osc_options(parser: argparse.ArgumentParser):
    group = parser.add_argument_group("OSC (overrides the show file's [osc])").add_mutually_exclusive_group()
    group.add_argument("--osc-port", type=int, metavar="N",
                       help="listen for OSC on UDP and TCP port N, 1024-65535 (switches OSC on)")
    group.add_argument("--no-osc", action="store_true", help="run without OSC, on purpose")


def with_osc_options(show, args):
    """The show with `run`'s --osc-port or --no-osc in place of its [osc] port and switch."""
    port, off = getattr(args, "osc_port", None), getattr(args, "no_osc", False)
    if port is None and not off:
        return show
    if port is not None and not 1024 <= port <= 65535:
        raise UsageError(f"--osc-port must be 1024 to 65535, got {port} (to run without OSC: --no-osc)")
    osc = dataclasses.replace(show.osc, enabled=not off, port=show.osc.port if port is None else port)
    return dataclasses.replace(show, osc=osc)


def overrides(args):
    from ..show.rig import AudioOverrides
    device = getattr(args, "device", None)
    if device is not None and device.isascii() and device.isdigit():  # "²" is a name, not an index
        device = int(device)
    return AudioOverrides(device=device, sample_rate=args.sample_rate, block_size=args.block_size,
                          output_channels=args.output_channels, input_channels=args.input_channels)


def load_rig(args):
    from ..show.reader import load_show
    from ..show.rig import build_rig
    show = with_osc_options(load_show(args.show), args)
    try:
        return build_rig(show, overrides(args), show_progress=True)
    except ValueError as error:  # an override that contradicts the show, e.g. a bus on output 4 of 2
        raise UsageError(f"{args.show}: {error}") from None


def warn_about_instruments(rig):
    """An instrument plays without what it could not load, a bus without an insert that could not be hosted;
    whoever runs the show must know what that is."""
    for what, found in [*(("instrument " + name, problems) for name, problems in rig.instrument_problems.items()),
                        *(("bus " + where, problems) for where, problems in rig.insert_problems.items())]:
        print(f"WARNING: {what}: {len(found)} problem{'s' if len(found) != 1 else ''}:", file=sys.stderr)
        for problem in found:
            print(f"  {problem}", file=sys.stderr)
    sys.stderr.flush()


def prepare_kernels(quiet_when_warm: bool = False, through_numba: bool = False):
    from ..engine.warmup import prepare_kernels_shown
    prepare_kernels_shown(quiet_when_warm=quiet_when_warm, through_numba=through_numba)
