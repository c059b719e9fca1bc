"""The `liveengine` command: run a show live, render it offline, check it, list devices and LV2
plugins, benchmark, prepare the kernels."""

import argparse
import os
import sys

# OpenBLAS, which numpy loads, starts a thread per core at import, and they spin: 0.1 CPU-s of every
# command on two cores. The engine does no linear algebra that would need them, and on stage they would
# only compete with the audio thread.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

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
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as error:
        code = _exit_code(error)
        if code is None:
            raise
        print("\n".join(error.problems) if code == EXIT_SHOW_FILE else f"liveengine: {error}", file=sys.stderr)
        return code


def _exit_code(error: Exception) -> int | None:
    """The exit code of an error the user can act on, or None: a command imports only what it needs (a
    render of a MIDI file never loads a show), so the classes are looked up once one is raised."""
    from ..drivers.devices import AudioDeviceError
    from ..drivers.jackserver import JackServerError
    from ..show.reader import ShowFileError
    from ..show.session import SessionError
    if isinstance(error, ShowFileError):
        return EXIT_SHOW_FILE
    if isinstance(error, (AudioDeviceError, JackServerError)):
        return EXIT_AUDIO
    if isinstance(error, (UsageError, SessionError)):
        return EXIT_FAILED
    return None
