"""`liveengine warmup`: compile every kernel once (or load it from numba's cache), so no show start waits."""

from .options import prepare_kernels


def add_parser(commands):
    warmup = commands.add_parser("warmup", help="compile every kernel once, so no show start waits for it")
    warmup.add_argument("--quiet-when-warm", action="store_true",
                        help="say nothing when every kernel loads from the cache (for installation scripts)")
    warmup.set_defaults(handler=command_warmup)


def command_warmup(args) -> int:
    prepare_kernels(quiet_when_warm=args.quiet_when_warm, through_numba=True)
    return 0
