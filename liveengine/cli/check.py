"""`liveengine check SHOW`: validate a show file and describe it, or check an SFZ file or SF2 bank."""

import pathlib

from . import UsageError
from .describe import describe_cues, describe_rig, describe_sample_memory
from .options import add_audio_options, load_rig, prepare_kernels


def add_parser(commands):
    check = commands.add_parser("check", help="validate a show file and describe it, or check an instrument file")
    check.add_argument("show", help="show file (TOML), or an SFZ file or SF2 bank")
    add_audio_options(check, device=True)
    check.set_defaults(handler=command_check)


def command_check(args) -> int:
    if pathlib.Path(args.show).suffix.lower() in (".sfz", ".sf2"):
        return _check_instrument_file(args.show)
    rig = load_rig(args)
    from ..show.cues import CueRunner
    from ..show.reader import ShowFileError
    runner = CueRunner(rig, rig.engine.producer("show"))
    problems = [f"{args.show}: {problem}" for problem in runner.stems.problems]
    problems += [f"{args.show}: instrument {name}: {problem}" for name, instrument_problems
                 in rig.instrument_problems.items() for problem in instrument_problems]
    problems += [f"{args.show}: bus {where}: {problem}" for where, insert_problems in rig.insert_problems.items()
                 for problem in insert_problems]
    if problems:
        raise ShowFileError(problems)
    print(f"{args.show}: OK")
    for line in describe_rig(rig):
        print(line)
    for line in describe_cues(runner):
        print(line)
    prepare_kernels(quiet_when_warm=True)  # a check before the show leaves nothing to compile at its start
    return 0


def _check_instrument_file(path) -> int:
    """Check one SFZ file, or every preset of an SF2 bank: every ignored opcode, missing or unreadable
    sample; and what its samples take in memory."""
    from ..instruments.library import InstrumentError, read_sampled_instrument
    from ..instruments.samples import load_heads, progress_bar, sample_sizes
    if pathlib.Path(path).suffix.lower() == ".sf2":
        from ..instruments.sf2 import Sf2Error, list_presets
        try:
            presets = [(preset.bank, preset.program) for preset in list_presets(path)]
        except Sf2Error as error:
            raise UsageError(str(error)) from None
    else:
        presets = [(0, 0)]
    failed = 0
    sizes = {}  # what each preset's samples take: its heads are let go before the next loads
    for bank, program in presets:
        try:
            instrument = read_sampled_instrument(path, bank, program)
        except InstrumentError as error:
            raise UsageError(str(error)) from None
        loaded = load_heads(instrument, progress=progress_bar(instrument.name))
        playable = sum(1 for data in loaded.samples if data is not None)
        status = "OK" if not instrument.problems else f"{len(instrument.problems)} problems"
        print(f"{path}: {instrument.name}: {len(instrument.regions)} regions, {playable} of "
              f"{len(instrument.samples)} samples readable: {status}")
        for problem in instrument.problems:
            print(f"  {problem}")
        failed += bool(instrument.problems)
        label = f"{bank}:{program} {instrument.name}" if len(presets) > 1 else instrument.name
        sizes[label] = sample_sizes([loaded])
    for line in describe_sample_memory(sizes):
        print(line)
    return 1 if failed else 0
