"""`liveengine run SHOW`: play a show live, until it is stopped or ends by itself."""

from . import EXIT_INTERRUPTED
from .describe import describe_cues, describe_rig, warn_about_stems
from .options import add_audio_options, add_osc_options, load_rig, warn_about_instruments


def add_parser(commands):
    run = commands.add_parser("run", help="play a show live")
    run.add_argument("show", help="show file (TOML)")
    run.add_argument("--jack-dummy", action="store_true",
                     help="run on a private JACK server with the dummy driver (no sound card needed)")
    run.add_argument("--seconds", type=float, help="stop after this many seconds")
    add_audio_options(run, device=True)
    add_osc_options(run)
    run.set_defaults(handler=command_run)


def command_run(args) -> int:
    from ..show.session import Session
    rig = load_rig(args)
    for line in describe_rig(rig):
        print(line)
    session = Session(rig, jack_dummy=args.jack_dummy)
    for line in describe_cues(session.runner):
        print(line)
    warn_about_stems(session.runner)
    warn_about_instruments(rig)
    with session:
        session.run(args.seconds)
    for line in session.summary():
        print(line)
    return EXIT_INTERRUPTED if session.interrupted else 0
