"""`liveengine demo [FOLDER]`: copy the shipped demo show out of the package."""

import pathlib

from . import UsageError


def add_parser(commands):
    demo = commands.add_parser("demo", help="copy the demo show (demo.toml) into a folder, to try and to edit")
    demo.add_argument("folder", nargs="?", default=".", help="where to write demo.toml (default: here)")
    demo.set_defaults(handler=command_demo)


def command_demo(args) -> int:
    """Copy the shipped demo show out of the package, to play, render or make into a show of one's own."""
    from importlib.resources import files
    target = pathlib.Path(args.folder) / "demo.toml"
    try:
        with open(target, "x", encoding="utf-8") as file:
            file.write(files("liveengine.configs").joinpath("demo.toml").read_text(encoding="utf-8"))
    except FileExistsError:
        raise UsageError(f"{target} exists: give another folder, or move it away") from None
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from None
    print(f"Wrote the demo show to {target}. Try:\n"
          f"  liveengine check {target}\n"
          f"  liveengine render {target} -o demo.wav\n"
          f"  liveengine run {target}")
    return 0
