"""What a synthesizer patch is, as the engine plays it, and its row in the patch table.

A patch (read from TOML by `instruments/synth.py`) is up to three oscillators, each with
unison and optional two-operator FM, a resonant filter, amplitude and filter envelopes,
two LFOs, and a small modulation matrix. The engine keeps one row of numbers per
instrument; names are resolved here, once.
"""

from dataclasses import dataclass, field

import numpy as np

from .regions import Envelope
from .voices.envelope_row import ENVELOPE_FIELDS, write_envelope

WAVES = ("saw", "pulse", "triangle", "sine", "noise", "wavetable")
FILTER_MODES = ("none", "lowpass", "highpass", "bandpass", "notch")
LFO_SHAPES = ("sine", "triangle", "saw", "square", "sample_hold")
VOICE_MODES = ("poly", "mono", "legato")
SOURCES = ("velocity", "key", "mod_wheel", "aftertouch", "poly_aftertouch", "pitch_bend", "expression",
           "lfo1", "lfo2", "filter_envelope", "amp_envelope", "cc")
# Destinations, with the unit of a route's amount at full source.
DESTINATIONS = {"pitch": "cents", "cutoff": "cents", "resonance": "dB", "amplitude": "fraction of full level",
                "pan": "fraction of full pan", "pulse_width": "fraction", "lfo1_depth": "fraction",
                "lfo2_depth": "fraction", "lfo1_rate": "octaves", "lfo2_rate": "octaves", "osc1_level": "fraction",
                "osc2_level": "fraction", "osc3_level": "fraction", "fm_index": "radians"}
MAX_OSCILLATORS = 3
MAX_UNISON = 8
MAX_ROUTES = 8
MAX_LFOS = 2


@dataclass(frozen=True)
class Oscillator:
    wave: str = "saw"
    level: float = 1.0  # 0..1
    semitones: float = 0.0
    detune: float = 0.0  # cents
    pulse_width: float = 0.5  # 0.05..0.95
    unison: int = 1  # 1..MAX_UNISON stacked copies
    unison_detune: float = 0.0  # cents between the outermost copies
    unison_spread: float = 0.0  # 0..1: how far the copies spread across the stereo field
    fm_ratio: float = 0.0  # two-operator FM: a sine modulator at this ratio of the note's frequency; 0: none
    fm_index: float = 0.0  # radians
    fm_feedback: float = 0.0  # radians
    wavetable: int = -1  # wave "wavetable": the index into the patch's wavetables


@dataclass(frozen=True)
class SynthFilter:
    mode: str = "none"
    cutoff: float = 20000.0  # Hz
    resonance: float = 0.0  # dB of peak (as SFZ's resonance)
    keytrack: float = 0.0  # 0..1: 1 moves the cutoff with the key, 100 cents a key
    envelope_depth: float = 0.0  # cents at the filter envelope's peak
    velocity: float = 0.0  # cents at full velocity


@dataclass(frozen=True)
class SynthLfo:
    shape: str = "sine"
    rate: float = 5.0  # Hz, unless synced
    sync_beats: float = 0.0  # > 0: one cycle every this many beats of the show's tempo
    delay: float = 0.0  # seconds
    fade: float = 0.0  # seconds to full depth after the delay
    depth: float = 1.0  # 0..1, scaling every route from this LFO


@dataclass(frozen=True)
class Route:
    """`source` (0..1, or -1..1 for LFOs and pitch bend) moves `destination` by `amount` at full source."""

    source: str
    destination: str
    amount: float
    cc: int = -1  # source "cc": the controller number


@dataclass(frozen=True)
class SynthPatch:
    name: str
    oscillators: tuple[Oscillator, ...] = (Oscillator(),)
    filter: SynthFilter = SynthFilter()
    amp_envelope: Envelope = Envelope(attack=0.005, release=0.3)
    filter_envelope: Envelope = Envelope()
    attack_curve: float = 0.0  # -1 (slow start) .. 0 (linear) .. 1 (fast start)
    lfos: tuple[SynthLfo, ...] = ()
    routes: tuple[Route, ...] = ()
    mode: str = "poly"
    portamento: float = 0.0  # seconds to glide to a new note (mono and legato; poly glides from the last note)
    gain: float = 1.0  # linear
    pan: float = 0.0  # -1..1
    bend_range: float = 2.0  # semitones at full pitch bend
    velocity_sensitivity: float = 1.0  # 0: every note at full level; 1: level follows velocity squared
    wavetables: tuple[np.ndarray, ...] = field(default=(), compare=False)  # built by dsp.oscillators


# The patch table: one row per instrument.
OSC_WAVE, OSC_LEVEL, OSC_CENTS, OSC_PULSE_WIDTH, OSC_UNISON, OSC_UNISON_DETUNE, OSC_UNISON_SPREAD, OSC_FM_RATIO, \
    OSC_FM_INDEX, OSC_FM_FEEDBACK, OSC_WAVETABLE = range(11)
OSC_FIELDS = 11
LFO_SHAPE, LFO_RATE, LFO_SYNC_BEATS, LFO_DELAY, LFO_FADE, LFO_DEPTH = range(6)
SYNTH_LFO_FIELDS = 6
ROUTE_SOURCE, ROUTE_DESTINATION, ROUTE_AMOUNT, ROUTE_CC = range(4)
ROUTE_FIELDS = 4
(P_OSCILLATORS, P_FILTER_MODE, P_CUTOFF, P_RESONANCE, P_KEYTRACK, P_FILTER_ENV_DEPTH, P_FILTER_VELOCITY,
 P_ATTACK_CURVE, P_LFOS, P_ROUTES, P_MODE, P_PORTAMENTO, P_GAIN, P_PAN, P_BEND_RANGE,
 P_VELOCITY_SENSITIVITY) = range(16)
P_OSCILLATOR = 16
P_AMP_ENVELOPE = P_OSCILLATOR + MAX_OSCILLATORS * OSC_FIELDS
P_FILTER_ENVELOPE = P_AMP_ENVELOPE + ENVELOPE_FIELDS
P_LFO = P_FILTER_ENVELOPE + ENVELOPE_FIELDS
P_ROUTE = P_LFO + MAX_LFOS * SYNTH_LFO_FIELDS
PATCH_FIELDS = P_ROUTE + MAX_ROUTES * ROUTE_FIELDS

MODE_POLY, MODE_MONO, MODE_LEGATO = range(3)
WAVE_SAW, WAVE_PULSE, WAVE_TRIANGLE, WAVE_SINE, WAVE_NOISE, WAVE_WAVETABLE = range(6)
SOURCE_VELOCITY, SOURCE_KEY, SOURCE_MOD_WHEEL, SOURCE_AFTERTOUCH, SOURCE_POLY_AFTERTOUCH, SOURCE_PITCH_BEND, \
    SOURCE_EXPRESSION, SOURCE_LFO1, SOURCE_LFO2, SOURCE_FILTER_ENVELOPE, SOURCE_AMP_ENVELOPE, SOURCE_CC = range(12)
DEST_PITCH, DEST_CUTOFF, DEST_RESONANCE, DEST_AMPLITUDE, DEST_PAN, DEST_PULSE_WIDTH, DEST_LFO1_DEPTH, \
    DEST_LFO2_DEPTH, DEST_LFO1_RATE, DEST_LFO2_RATE, DEST_OSC1_LEVEL, DEST_OSC2_LEVEL, DEST_OSC3_LEVEL, \
    DEST_FM_INDEX = range(14)
assert tuple(DESTINATIONS) == ("pitch", "cutoff", "resonance", "amplitude", "pan", "pulse_width", "lfo1_depth",
                               "lfo2_depth", "lfo1_rate", "lfo2_rate", "osc1_level", "osc2_level", "osc3_level",
                               "fm_index")


def patch_row(patch: SynthPatch) -> np.ndarray:
    """The patch table row of `patch` (validated by its reader: names and ranges are trusted here)."""
    row = np.zeros(PATCH_FIELDS, np.float64)
    row[P_OSCILLATORS] = len(patch.oscillators)
    for i, osc in enumerate(patch.oscillators):
        at = P_OSCILLATOR + i * OSC_FIELDS
        row[at:at + OSC_FIELDS] = (WAVES.index(osc.wave), osc.level, 100.0 * osc.semitones + osc.detune,
                                   osc.pulse_width, osc.unison, osc.unison_detune, osc.unison_spread, osc.fm_ratio,
                                   osc.fm_index, osc.fm_feedback, osc.wavetable)
    row[P_FILTER_MODE] = FILTER_MODES.index(patch.filter.mode)
    row[P_CUTOFF], row[P_RESONANCE] = patch.filter.cutoff, patch.filter.resonance
    row[P_KEYTRACK] = 100.0 * patch.filter.keytrack
    row[P_FILTER_ENV_DEPTH], row[P_FILTER_VELOCITY] = patch.filter.envelope_depth, patch.filter.velocity
    row[P_ATTACK_CURVE] = patch.attack_curve
    write_envelope(row, P_AMP_ENVELOPE, patch.amp_envelope)
    write_envelope(row, P_FILTER_ENVELOPE, patch.filter_envelope)
    row[P_LFOS] = len(patch.lfos)
    for i, lfo in enumerate(patch.lfos):
        at = P_LFO + i * SYNTH_LFO_FIELDS
        row[at:at + SYNTH_LFO_FIELDS] = (LFO_SHAPES.index(lfo.shape), lfo.rate, lfo.sync_beats, lfo.delay,
                                         lfo.fade, lfo.depth)
    row[P_ROUTES] = len(patch.routes)
    for i, route in enumerate(patch.routes):
        at = P_ROUTE + i * ROUTE_FIELDS
        row[at:at + ROUTE_FIELDS] = (SOURCES.index(route.source), list(DESTINATIONS).index(route.destination),
                                     route.amount, route.cc)
    row[P_MODE] = VOICE_MODES.index(patch.mode)
    row[P_PORTAMENTO] = patch.portamento
    row[P_GAIN], row[P_PAN] = patch.gain, patch.pan
    row[P_BEND_RANGE] = patch.bend_range
    row[P_VELOCITY_SENSITIVITY] = patch.velocity_sensitivity
    return row
