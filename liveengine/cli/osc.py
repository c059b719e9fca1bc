"""`liveengine osc HOST:PORT ADDRESS [ARG...]`: one OSC message to a running engine, and its reply."""

from . import UsageError


def add_parser(commands):
    osc = commands.add_parser("osc", help="send one OSC message to a running engine and print its reply",
                              description="Send one OSC message to a running engine, from a port that stays open "
                                          "for the reply, and print the reply's JSON. Arguments are typed as "
                                          "oscsend's (a first argument of type tags: `ff -6 2`) or by their look "
                                          "(an integer is i, another number f, anything else a string).")
    osc.add_argument("target", metavar="HOST:PORT", help="the engine's OSC address, e.g. localhost:53100")
    osc.add_argument("address", metavar="ADDRESS", help="e.g. /buses, /go, /bus/keys/gain")
    osc.add_argument("arguments", metavar="ARG", nargs="*", help="the message's arguments, e.g. -6 2, or ff -6 2")
    osc.add_argument("--tcp", action="store_true", help="over TCP (OSC 1.1, SLIP-framed) instead of UDP")
    osc.add_argument("--timeout", type=float, default=2.0, metavar="SECONDS",
                     help="how long to wait for the reply (default 2)")
    osc.set_defaults(handler=command_osc)


def command_osc(args) -> int:
    from ..osc.monitor import parse_target
    from ..osc.request import run_request
    try:
        host, port = parse_target(args.target)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout:g}")
    return run_request(host, port, args.address, args.arguments, timeout=args.timeout, tcp=args.tcp)
