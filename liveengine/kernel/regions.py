"""What a sampled instrument is, as the engine plays it: regions over samples.

SFZ and SF2 loaders (in `instruments/`) describe an instrument with these plain
records, in the units of the formats (MIDI keys and velocities, cents, dB, seconds,
sample frames). The engine turns them into its region table; nothing else of the
table's layout leaks out of `engine/`.
"""

from dataclasses import dataclass, field

import numpy as np

TRIGGERS = ("attack", "release", "first", "legato", "release_key")
LOOP_MODES = ("no_loop", "one_shot", "loop_continuous", "loop_sustain")
FILTER_TYPES = ("lpf_1p", "hpf_1p", "lpf_2p", "hpf_2p", "bpf_2p", "brf_2p")
OFF_MODES = ("fast", "normal", "time")
# Targets of a controller's modulation, with the unit of its depth.
CC_TARGETS = {"amplitude": "percent", "volume": "dB", "pan": "percent", "pitch": "cents", "cutoff": "cents"}
CURVE_SHAPES = ("power", "gain")  # crossfade curves: equal power, or linear gain
ORIGINAL = -1  # loop points and key centre: take the sample file's own


@dataclass(frozen=True)
class Envelope:
    """A DAHDSR envelope (seconds; start and sustain in percent), with velocity scaling:
    vel2* add their value, at full velocity, to the stage (in proportion below it)."""

    delay: float = 0.0
    start: float = 0.0
    attack: float = 0.0
    hold: float = 0.0
    decay: float = 0.0
    sustain: float = 100.0
    release: float = 0.001
    vel2delay: float = 0.0
    vel2attack: float = 0.0
    vel2hold: float = 0.0
    vel2decay: float = 0.0
    vel2sustain: float = 0.0
    vel2release: float = 0.0
    depth: float = 0.0  # filter envelope only: its peak, in cents of cutoff


@dataclass(frozen=True)
class Lfo:
    """A sine LFO: frequency in Hz, depth (dB for amplitude, cents for pitch and cutoff),
    starting after `delay` seconds and reaching its depth over `fade` seconds."""

    frequency: float = 0.0
    depth: float = 0.0
    delay: float = 0.0
    fade: float = 0.0


@dataclass(frozen=True)
class ControllerModulation:
    """Controller `cc` (0..127 as 0..1) moves `target` by up to `depth` (in CC_TARGETS' unit)."""

    target: str
    cc: int
    depth: float


@dataclass(frozen=True)
class ControllerCrossfade:
    """Fade in as controller `cc` goes from in_low to in_high, out from out_low to out_high."""

    cc: int
    in_low: int = 0
    in_high: int = 0
    out_low: int = 127
    out_high: int = 127


@dataclass(frozen=True)
class Region:
    """One region: which notes play it, and how it plays its sample."""

    sample: int  # index into the instrument's samples; -1: the region is silent
    origin: str = ""  # "file:line" of the region's header, for messages
    # Which notes play the region.
    lokey: int = 0
    hikey: int = 127
    lovel: int = 1
    hivel: int = 127
    lochan: int = 1
    hichan: int = 16
    loprog: int = 0  # the last program change of the channel, 0..127 (0 before any)
    hiprog: int = 127
    lorand: float = 0.0
    hirand: float = 1.0
    seq_length: int = 1
    seq_position: int = 1
    sw_lokey: int = -1  # the keyswitch range of the instrument (keys that switch, never sound)
    sw_hikey: int = -1
    sw_last: int = -1  # the region plays only when this was the last keyswitch pressed
    trigger: str = "attack"
    cc_conditions: tuple[tuple[int, int, int], ...] = ()  # (cc, low, high): locc/hicc
    # Pitch.
    pitch_keycenter: int = 60  # ORIGINAL: the sample file's root key
    pitch_keytrack: float = 100.0  # cents per key
    tune: float = 0.0  # cents
    transpose: int = 0  # semitones
    pitch_veltrack: float = 0.0  # cents at full velocity
    bend_up: float = 200.0  # cents at full bend
    bend_down: float = -200.0
    # Amplitude.
    volume: float = 0.0  # dB
    amplitude: float = 100.0  # percent
    pan: float = 0.0  # -100..100
    amp_veltrack: float = 100.0  # percent
    rt_decay: float = 0.0  # release triggers: dB lost per second the note was held
    amp_envelope: Envelope = Envelope()
    amp_lfo: Lfo = Lfo()
    pitch_lfo: Lfo = Lfo()
    modulations: tuple[ControllerModulation, ...] = ()
    # Crossfades by key, velocity and controller.
    xfin_lokey: int = 0
    xfin_hikey: int = 0
    xfout_lokey: int = 127
    xfout_hikey: int = 127
    xfin_lovel: int = 0
    xfin_hivel: int = 0
    xfout_lovel: int = 127
    xfout_hivel: int = 127
    xf_keycurve: str = "power"
    xf_velcurve: str = "power"
    xf_cccurve: str = "power"
    crossfades: tuple[ControllerCrossfade, ...] = ()
    # The sample.
    offset: int = 0  # frames
    end: int = -1  # last frame played (inclusive); -1: the sample's end
    loop_mode: str = ""  # "": loop_continuous if the sample file has a loop, else no_loop
    loop_start: int = ORIGINAL  # frames; ORIGINAL: the sample file's loop
    loop_end: int = ORIGINAL  # inclusive
    # Filter: none when fil_type is "".
    fil_type: str = ""
    cutoff: float = 0.0  # Hz
    resonance: float = 0.0  # dB
    fil_veltrack: float = 0.0  # cents at full velocity
    fil_keytrack: float = 0.0  # cents per key
    fil_keycenter: int = 60
    filter_envelope: Envelope = Envelope()
    # Chokes and polyphony.
    group: int = 0
    off_by: int = 0
    off_mode: str = "fast"
    off_time: float = 0.006  # seconds, for off_mode "time"
    polyphony: int = 0  # voices of this region's group at once; 0: no limit
    note_polyphony: int = 0  # voices of one key in this region's group at once; 0: no limit
    label: str = ""


@dataclass(frozen=True)
class RawPcm:
    """Headerless 16-bit little-endian mono PCM inside a larger file (an SF2's sample chunk)."""

    byte_offset: int
    frames: int
    sample_rate: int


@dataclass(frozen=True)
class SampleSource:
    """A sample an instrument plays: a sound file, raw PCM in a bank, or a generated wave
    (`*sine`, `*saw`, `*square`, `*triangle`, `*noise`, `*silence`)."""

    path: str
    root_key: int = ORIGINAL  # ORIGINAL: from the file's sampler chunk, if it has one
    loop_start: int = ORIGINAL  # ORIGINAL: from the file's loop, if it has one
    loop_end: int = ORIGINAL  # inclusive
    tune: float = 0.0  # cents: a bank's pitch correction of the sample
    raw: RawPcm | None = None

    @property
    def is_sound_file(self) -> bool:
        """A file for libsndfile to decode: not raw PCM in a bank, nor a generated wave."""
        return self.raw is None and not self.path.startswith("*")


@dataclass
class SampledInstrument:
    """Regions over samples, with what the loader reported about them."""

    name: str
    regions: list[Region]
    samples: list[SampleSource]
    sw_default: int = -1  # the keyswitch in force before any is played
    sw_labels: dict[int, str] = field(default_factory=dict)
    controllers: dict[int, float] = field(default_factory=dict)  # where controllers stand at first (0..1)
    problems: list[str] = field(default_factory=list)  # "file:line: message", one each


@dataclass(frozen=True)
class SampleData:
    """A sample as the loader hands it to the engine: its first frames, decoded, and what the
    engine must know of the rest (the loader reads the rest when a voice needs it)."""

    head: np.ndarray  # float32, (frames, channels), C-contiguous: the first frames (or all of them)
    frames: int  # the whole sample's length
    sample_rate: float
    root_key: int = ORIGINAL
    loop: tuple[int, int] | None = None  # the file's own loop (start, end inclusive), if it has one
    tune: float = 0.0  # cents

    @property
    def channels(self) -> int:
        return self.head.shape[1]
