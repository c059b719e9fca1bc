"""The show model: what a show file describes, as frozen values (show/reader.py reads and checks them).

A show is its audio settings and buses, its instruments, the parts and click tracks they play,
its stems, its timecode, its cue list, the conductor's pedal, the OSC surface, and the keyboard
setups its keyboardists play. Everything here is already checked: whoever holds a ShowConfig may
trust each value to be in range and each name to name something of the show.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from .click import ClickMap
from ..midi.setups import ConductorConfig, KeyboardConfig, SetupConfig
from ..midi.smf import MidiNote
from ..kernel.state import DEFAULT_FOLLOW_SPEED
from ..timecode import FrameRate, Timecode

INSTRUMENT_TYPES = ("tone", "sfz", "sf2", "synth", "lv2")
TIMECODE_SOURCES = ("none", "ltc", "mtc")
REQUIRED_BUSES = ("master", "keys", "stems", "click")

@dataclass(frozen=True)
class AudioConfig:
    device: str | int | None  # output device: name substring or index; None = system default
    sample_rate: int
    block_size: int
    output_channels: int
    input_channels: int
    voices: int
    scheduling_latency_ms: float | None  # None: two blocks
    limiter_ceiling_db: float
    interpolation: str = "cubic"  # of sampled instruments: "cubic" or "linear"
    sample_preload_frames: int = 65536  # of every sample, decoded before the show; the rest streams
    sample_memory_mb: int = 2048  # decoded samples held at once, preloads and streamed ones together


@dataclass(frozen=True)
class PluginConfig:
    """An LV2 plugin as the show names it: its URI, a preset (its label or URI) and control values by
    port symbol, applied in that order; an insert may start bypassed."""

    uri: str
    preset: str | None = None
    controls: tuple[tuple[str, float], ...] = ()
    bypass: bool = False


@dataclass(frozen=True)
class BusConfig:
    name: str
    gain_db: float
    mute: bool
    outputs: tuple[int, ...]  # 0-based output channels; () when the bus feeds another bus
    feeds: str | None  # the bus it sends into; None when it has outputs
    inserts: tuple[PluginConfig, ...] = ()  # LV2 effects, in order, before the bus's gain (and limiter)


@dataclass(frozen=True)
class InstrumentConfig:
    """An instrument of the show: the test tone, a sampled library (an SFZ file, or a preset of an SF2
    bank), a synth patch, or an LV2 instrument plugin."""

    name: str
    type: str
    attack_ms: float
    release_ms: float
    gain_db: float
    file: pathlib.Path | None = None  # sfz, sf2: the library; synth: the patch file
    bank: int = 0  # sf2
    program: int = 0  # sf2
    plugin: PluginConfig | None = None  # lv2


@dataclass(frozen=True)
class Note:
    key: int  # MIDI note number
    start_beat: float
    length_beats: float
    velocity: float  # 0 < velocity <= 1


@dataclass(frozen=True)
class PartConfig:
    name: str
    instrument: str
    bus: str
    notes: tuple[Note, ...]  # in beats of the show's tempo
    midi_notes: tuple[MidiNote, ...] = ()  # from a MIDI file, in seconds by its own tempo map
    midi_file: pathlib.Path | None = None


@dataclass(frozen=True)
class ClickConfig:
    """A click track: a tempo and meter map, and the sounds of its kinds of click."""

    name: str
    map: ClickMap
    instrument: str
    bus: str
    sounds: dict[str, tuple[int, float]]  # click kind (show.click.ACCENT, ...) -> (MIDI key, velocity)


@dataclass(frozen=True)
class StemConfig:
    """An audio file a cue plays from disk, sample-locked to where the cue starts it."""

    name: str
    path: pathlib.Path  # as given, relative to the show file's folder
    bus: str
    gain_db: float


@dataclass(frozen=True)
class CueAction:
    """One thing a cue does. verb: "start" or "stop" (a part, click or stem, by name), "gain"
    (a bus, to gain_db over fade_seconds), "stop_all" (fade_seconds), "panic", "setup" (a
    keyboard setup, for one keyboard or all)."""

    verb: str
    target: str | None = None
    gain_db: float = 0.0
    fade_seconds: float = 0.0
    keyboard: str | None = None  # "setup": the keyboard it changes; None: every keyboard


@dataclass(frozen=True)
class CueConfig:
    number: str  # as the score numbers it: "1M3"
    name: str
    trigger: str  # "timecode", "go" or "follow" (after the previous cue)
    timecode: Timecode | None  # for "timecode"
    wait_seconds: float  # for "follow": after the previous cue fired
    chase: bool  # a jump into the cue's length starts it part-way, in time with the picture
    actions: tuple[CueAction, ...]


@dataclass(frozen=True)
class OscConfig:
    """The sound engineer's OSC surface: where it listens and whom it answers."""

    enabled: bool
    port: int
    bind: tuple[str, ...]  # local addresses to listen on
    allow: tuple[str, ...]  # client addresses or networks ("192.168.1.0/24") that may talk to it
    messages_per_second: float  # per client, beyond which its messages are dropped
    max_connections: int  # TCP connections at once, from all clients
    max_connections_per_client: int  # TCP connections at once from one client address
    idle_seconds: float  # a TCP connection that sends nothing this long is closed


@dataclass(frozen=True)
class WebConfig:
    """The conductor's and engineer's pages: where their server listens, whom it serves, and the tokens
    that control actions (and, when given, viewing) need."""

    enabled: bool = False  # a show without a [web] table serves no pages
    port: int = 8080
    bind: tuple[str, ...] = ("127.0.0.1",)
    allow: tuple[str, ...] = ("127.0.0.1/32", "::1/128")
    token: str | None = None  # None: `run` makes one and prints it
    view_token: str | None = None  # None: anyone allowed may watch


HIT_KINDS = ("streamer", "punch", "flutter")
FLUTTER_PUNCHES = (1, 3, 5, 7)


@dataclass(frozen=True)
class HitConfig:
    """A visual cue of the show's own for the conductor's screen, at a timecode or at a bar and beat of
    a cue's click track: a streamer (a sweep ending on the hit, then a punch), a punch alone, or a
    flutter (punches on the beats before the hit, the last on it)."""

    kind: str  # one of HIT_KINDS
    timecode: Timecode | None  # where it is, or:
    cue: str | None  # the cue whose first click track counts bar and beat
    bar: int = 1
    beat: int = 1
    length_seconds: float = 3.0  # of a streamer's sweep
    punches: int = 3  # of a flutter
    color: str = "white"


@dataclass(frozen=True)
class TimecodeConfig:
    source: str  # "none": the engine is its own clock; "ltc": chase LTC on an input; "mtc": MTC over MIDI
    input: int | None  # 0-based input channel that carries the LTC
    midi_input: str | None  # MIDI input port carrying MTC: a pattern its name matches
    rate: FrameRate
    freewheel_seconds: float  # how long the chase runs on through a dropout before it stops
    ltc_output: int | None  # 0-based output channel on which the engine generates LTC (timecode master)
    mtc_output: str | None  # the MIDI output port (a virtual port of the engine's) on which it sends MTC
    master_start: Timecode | None  # as timecode master (source "none"): the frame at which the show starts
    # While chasing, how far the picture's speed may be from nominal (a share: 0.02 is 2 %) and what cues
    # start follow it; beyond it (a scrub, a shuttle) that stops as for a jump.
    follow_speed: float = DEFAULT_FOLLOW_SPEED


@dataclass(frozen=True)
class ShowConfig:
    path: pathlib.Path
    name: str
    tempo_bpm: float
    audio: AudioConfig
    buses: dict[str, BusConfig]  # master first, then the others in file order
    instruments: dict[str, InstrumentConfig]
    parts: tuple[PartConfig, ...]
    timecode: TimecodeConfig
    clicks: dict[str, ClickConfig]
    stems: dict[str, StemConfig]
    cues: tuple[CueConfig, ...]  # in show order; none: every part starts with the show
    conductor: ConductorConfig
    osc: OscConfig
    setups: dict[str, SetupConfig]
    keyboards: dict[str, KeyboardConfig]
    web: WebConfig = WebConfig()
    hits: tuple[HitConfig, ...] = ()

    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo_bpm
