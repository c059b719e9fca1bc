"""What a show says of the MIDI its players send: keyboard setups (layers over key and velocity
ranges, curves, controller maps), the keyboards that play them, and the conductor's pedal, as
frozen values (show/reader.py reads and checks them; midi/keyboard.py and midi/pedal.py play them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

VELOCITY_CURVES = ("linear", "soft", "hard", "fixed")
CONTROL_CURVES = ("linear", "soft", "hard")

# The conductor's pedal: which MIDI note or controller does which of the cue runner's operations.
OPERATIONS = ("go", "back", "stop_all", "panic")
_TRIGGER = re.compile(r"(note|cc)\s+([0-9]{1,3})(?:\s+ch(?:annel)?\s+([0-9]{1,2}))?", re.IGNORECASE)


@dataclass(frozen=True)
class PedalTrigger:
    kind: str  # "note" or "cc"
    number: int  # 0..127
    channel: int | None = None  # 1..16; None: any channel

    def __str__(self) -> str:
        return f"{self.kind} {self.number}" + (f" ch {self.channel}" if self.channel else "")


def parse_trigger(text: str) -> PedalTrigger | None:
    """ "note 60", "cc 64", "note 60 ch 10"; None when `text` is none of these."""
    match = _TRIGGER.fullmatch(text.strip())
    if not match:
        return None
    kind, number, channel = match.group(1).lower(), int(match.group(2)), match.group(3)
    if number > 127 or (channel is not None and not 1 <= int(channel) <= 16):
        return None
    return PedalTrigger(kind, number, None if channel is None else int(channel))


@dataclass(frozen=True)
class LayerConfig:
    """One instrument of a keyboard setup, over a range of keys and velocities."""

    instrument: str
    keys: tuple[int, int]  # lowest and highest MIDI key played
    velocities: tuple[int, int]  # lowest and highest MIDI velocity that plays it
    transpose: int  # semitones
    curve: str | tuple[tuple[int, float], ...]  # "linear", "soft", "hard", "fixed", or (velocity, level) points
    fixed_velocity: float  # for "fixed": the level every note gets
    channel: int | None  # 1-16; None: every channel
    bus: str
    level_db: float


@dataclass(frozen=True)
class ControlConfig:
    """A MIDI controller mapped to an instrument parameter."""

    cc: int
    instrument: str
    parameter: str  # liveengine.engine.core.INSTRUMENT_PARAMETERS
    low: float  # the parameter at controller value 0
    high: float  # ... and at 127
    curve: str  # "linear", "soft", "hard"


@dataclass(frozen=True)
class SetupConfig:
    name: str
    program: int | None  # 1-128: a program change selects it
    bend_range: float | None  # semitones at full pitch bend; None: each instrument's own range
    layers: tuple[LayerConfig, ...]
    controls: tuple[ControlConfig, ...]


@dataclass(frozen=True)
class KeyboardConfig:
    name: str
    input: str | None  # a pattern of the MIDI input port's name
    virtual: str | None  # or: a virtual input port of this name, for other software to play into
    setup: str  # the setup when the show starts
    thru: str | None  # a pattern of a MIDI output port that gets everything this keyboard sends


@dataclass(frozen=True)
class ConductorConfig:
    """The conductor's MIDI pedal: the input port, and which note or controller does what."""

    midi_input: str | None  # a pattern the port's name matches; None: no pedal
    triggers: dict[str, PedalTrigger]  # operation ("go", "back", "stop_all", "panic") -> trigger
    stop_fade_seconds: float
