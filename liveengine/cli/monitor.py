"""`liveengine monitor HOST:PORT`: watch a running engine's OSC feed."""

from . import UsageError


def add_parser(commands):
    monitor = commands.add_parser("monitor", help="watch a running engine's OSC feed: timecode, cues, meters, alerts")
    monitor.add_argument("target", metavar="HOST:PORT", help="the engine's OSC address, e.g. localhost:53100")
    monitor.add_argument("--rate", type=float, default=10.0, help="updates per second, 1-30 (default 10)")
    monitor.add_argument("--seconds", type=float, help="stop after this many seconds")
    monitor.set_defaults(handler=command_monitor)


def command_monitor(args) -> int:
    from ..osc.monitor import parse_target, run_monitor
    try:
        host, port = parse_target(args.target)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return run_monitor(host, port, rate=args.rate, seconds=args.seconds)
