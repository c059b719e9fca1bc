"""Opening an instrument file of any kind the engine plays: an SFZ file, or a preset of an SF2 bank."""

from __future__ import annotations

from pathlib import Path

from ..kernel.regions import SampledInstrument
from .sf2 import Sf2Error, load_sf2
from .sfz import SfzError, load_sfz

SAMPLED_SUFFIXES = (".sfz", ".sf2")


class InstrumentError(Exception):
    """An instrument file that cannot be opened at all (its problems inside it are reported, not raised)."""


def read_sampled_instrument(path: str | Path, bank: int = 0, program: int = 0) -> SampledInstrument:
    """The regions and samples of `path`: an SFZ file, or preset bank:program of an SF2 bank."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".sfz":
            return load_sfz(path)
        if suffix == ".sf2":
            return load_sf2(path, bank, program)
    except (SfzError, Sf2Error) as error:
        raise InstrumentError(str(error)) from None
    raise InstrumentError(f"{path}: not an instrument file the engine plays ({', '.join(SAMPLED_SUFFIXES)})")
