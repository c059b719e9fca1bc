"""The `liveengine` command: run a show live, render it offline, check it, list devices and LV2
plugins, benchmark, prepare the kernels."""

import argparse
import sys

EXIT_FAILED = 1
EXIT_SHOW_FILE = 2
EXIT_AUDIO = 3
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A command-line value that cannot work; the message says which and why."""


def build_parser() -> argparse.ArgumentParser:
    from . import bench, check, demo, devices, ltc, monitor, osc, play, plugins, render, run, warmup
    parser = argparse.ArgumentParser(prog="liveengine", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for verb in (run, render, play, check, demo, devices, plugins, ltc, monitor, osc, bench, warmup):
        verb.add_parser(commands)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from ..show.reader import ShowFileError
    from ..drivers.devices import AudioDeviceError
    from ..drivers.jackserver import JackServerError
    from ..show.session import SessionError
    try:
        return args.handler(args)
    except ShowFileError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return EXIT_SHOW_FILE
    except (AudioDeviceError, JackServerError) as error:
        print(f"liveengine: {error}", file=sys.stderr)
        return EXIT_AUDIO
    except (UsageError, SessionError) as error:
        print(f"liveengine: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
