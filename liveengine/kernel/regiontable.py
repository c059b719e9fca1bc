"""The region table: each `Region` as one row of numbers the audio thread reads.

Rows are written only before the audio thread may read them (an instrument is announced
by an event after all its rows are in place), so the kernel reads them without ordering.
Names, curves and units are resolved here, once: the kernel sees gains, cents and frames.
"""

import math

import numpy as np

from .regions import (
    CC_TARGETS,
    FILTER_TYPES,
    LOOP_MODES,
    OFF_MODES,
    ORIGINAL,
    TRIGGERS,
    Lfo,
    Region,
)
from .voices.envelope_row import ENVELOPE_FIELDS, write_envelope

LFO_FREQUENCY, LFO_DEPTH, LFO_DELAY, LFO_FADE = range(4)
LFO_FIELDS = 4
MAX_MODULATIONS = 4  # controller modulations per region
MOD_TARGET, MOD_CC, MOD_DEPTH = range(3)
MODULATION_FIELDS = 3
MAX_CROSSFADES = 2  # controller crossfades per region
XF_CC, XF_IN_LOW, XF_IN_HIGH, XF_OUT_LOW, XF_OUT_HIGH = range(5)
CROSSFADE_FIELDS = 5
MAX_CC_CONDITIONS = 2
COND_CC, COND_LOW, COND_HIGH = range(3)
CONDITION_FIELDS = 3

(R_SAMPLE, R_LOKEY, R_HIKEY, R_LOVEL, R_HIVEL, R_LORAND, R_HIRAND, R_SEQ_LENGTH, R_SEQ_POSITION, R_SW_LAST,
 R_TRIGGER, R_KEYCENTER, R_KEYTRACK, R_TUNE, R_PITCH_VELTRACK, R_BEND_UP, R_BEND_DOWN, R_GAIN, R_PAN,
 R_AMP_VELTRACK, R_RT_DECAY, R_XFIN_LOKEY, R_XFIN_HIKEY, R_XFOUT_LOKEY, R_XFOUT_HIKEY, R_XFIN_LOVEL,
 R_XFIN_HIVEL, R_XFOUT_LOVEL, R_XFOUT_HIVEL, R_XF_KEYCURVE, R_XF_VELCURVE, R_XF_CCCURVE, R_OFFSET, R_END,
 R_LOOP_MODE, R_LOOP_START, R_LOOP_END, R_RATE_RATIO, R_FIL_TYPE, R_CUTOFF, R_RESONANCE, R_FIL_VELTRACK,
 R_FIL_KEYTRACK, R_FIL_KEYCENTER, R_GROUP, R_OFF_BY, R_OFF_MODE, R_OFF_TIME, R_POLYPHONY, R_NOTE_POLYPHONY,
 R_MODULATIONS, R_CROSSFADES, R_CONDITIONS, R_LOPROG, R_HIPROG) = range(55)
R_AMP_ENVELOPE = 55
R_FILTER_ENVELOPE = R_AMP_ENVELOPE + ENVELOPE_FIELDS
R_AMP_LFO = R_FILTER_ENVELOPE + ENVELOPE_FIELDS
R_PITCH_LFO = R_AMP_LFO + LFO_FIELDS
R_MODULATION = R_PITCH_LFO + LFO_FIELDS
R_CROSSFADE = R_MODULATION + MAX_MODULATIONS * MODULATION_FIELDS
R_CONDITION = R_CROSSFADE + MAX_CROSSFADES * CROSSFADE_FIELDS
REGION_FIELDS = R_CONDITION + MAX_CC_CONDITIONS * CONDITION_FIELDS

# Codes of the named choices, in the order regions.py lists them.
TRIGGER_ATTACK, TRIGGER_RELEASE, TRIGGER_FIRST, TRIGGER_LEGATO, TRIGGER_RELEASE_KEY = range(5)
LOOP_NONE, LOOP_ONE_SHOT, LOOP_CONTINUOUS, LOOP_SUSTAIN = range(4)
FILTER_NONE = -1  # else the index in FILTER_TYPES
OFF_FAST, OFF_NORMAL, OFF_TIME = range(3)
CURVE_POWER, CURVE_GAIN = range(2)
TARGET_AMPLITUDE, TARGET_VOLUME, TARGET_PAN, TARGET_PITCH, TARGET_CUTOFF = range(5)
assert tuple(CC_TARGETS) == ("amplitude", "volume", "pan", "pitch", "cutoff")

# The fastest a voice reads its sample: this many times its own speed (ten octaves up). Beyond it
# everything a sample holds from 20 Hz up would sound above 20 kHz: nothing of it can be heard, and
# a voice stepping further only costs time. The kernel holds every voice to it, bend and LFOs
# included; a region that asks for more is reported when its instrument loads (`pitch_problem`).
MAX_PITCH_RATIO = 1024.0
MAX_PITCH_CENTS = 1200.0 * math.log2(MAX_PITCH_RATIO)


class RegionTableError(ValueError):
    """A region the table cannot hold as it stands (too many modulations, an unknown name)."""


def _lfo(row: np.ndarray, at: int, lfo: Lfo):
    row[at:at + LFO_FIELDS] = (lfo.frequency, lfo.depth, lfo.delay, lfo.fade)


def region_row(region: Region, sample_slot: int, sample_frames: int, sample_rate: int, engine_rate: int,
               root_key: int, file_loop: tuple[int, int] | None, tune: float = 0.0) -> np.ndarray:
    """The table row of `region`, playing the sample in `sample_slot` (`sample_frames` long, recorded
    at `sample_rate`; `root_key` and `file_loop` (start, end inclusive) from its file, or ORIGINAL
    and None; `tune` its bank's correction in cents)."""
    if len(region.modulations) > MAX_MODULATIONS:
        raise RegionTableError(f"{region.origin}: at most {MAX_MODULATIONS} controller modulations per region")
    if len(region.crossfades) > MAX_CROSSFADES:
        raise RegionTableError(f"{region.origin}: at most {MAX_CROSSFADES} controller crossfades per region")
    if len(region.cc_conditions) > MAX_CC_CONDITIONS:
        raise RegionTableError(f"{region.origin}: at most {MAX_CC_CONDITIONS} controller conditions per region")
    row = np.zeros(REGION_FIELDS, np.float64)
    keycenter = _keycenter(region, root_key)
    end = sample_frames - 1 if region.end < 0 else min(region.end, sample_frames - 1)
    loop_mode = region.loop_mode or ("loop_continuous" if file_loop is not None else "no_loop")
    if region.trigger in ("release", "release_key"):
        loop_mode = "one_shot"  # no note off will end it: it plays its sample once through (as SFZ says)
    loop_start = region.loop_start if region.loop_start != ORIGINAL else (file_loop[0] if file_loop else 0)
    loop_end = region.loop_end if region.loop_end != ORIGINAL else (file_loop[1] if file_loop else end)
    loop_end = min(loop_end, end)
    if loop_mode in ("loop_continuous", "loop_sustain") and not 0 <= loop_start < loop_end:
        loop_mode = "no_loop"  # an empty loop cannot loop: the region plays through (checked by the loader)
    row[R_SAMPLE] = sample_slot
    row[R_LOKEY], row[R_HIKEY], row[R_LOVEL], row[R_HIVEL] = region.lokey, region.hikey, region.lovel, region.hivel
    row[R_LORAND], row[R_HIRAND] = region.lorand, region.hirand
    row[R_SEQ_LENGTH], row[R_SEQ_POSITION] = max(1, region.seq_length), region.seq_position
    row[R_SW_LAST] = region.sw_last
    row[R_LOPROG], row[R_HIPROG] = region.loprog, region.hiprog
    row[R_TRIGGER] = TRIGGERS.index(region.trigger)
    row[R_KEYCENTER], row[R_KEYTRACK] = keycenter, region.pitch_keytrack
    row[R_TUNE] = region.tune + 100.0 * region.transpose + tune
    row[R_PITCH_VELTRACK] = region.pitch_veltrack
    row[R_BEND_UP], row[R_BEND_DOWN] = region.bend_up, region.bend_down
    row[R_GAIN] = 10.0 ** (region.volume / 20.0) * region.amplitude / 100.0
    row[R_PAN] = max(-100.0, min(100.0, region.pan)) / 100.0
    row[R_AMP_VELTRACK] = region.amp_veltrack / 100.0
    row[R_RT_DECAY] = region.rt_decay
    row[R_XFIN_LOKEY:R_XFOUT_HIVEL + 1] = (region.xfin_lokey, region.xfin_hikey, region.xfout_lokey,
                                          region.xfout_hikey, region.xfin_lovel, region.xfin_hivel,
                                          region.xfout_lovel, region.xfout_hivel)
    row[R_XF_KEYCURVE] = _curve(region.xf_keycurve)
    row[R_XF_VELCURVE] = _curve(region.xf_velcurve)
    row[R_XF_CCCURVE] = _curve(region.xf_cccurve)
    row[R_OFFSET] = min(max(0, region.offset), end)
    row[R_END] = end
    row[R_LOOP_MODE] = LOOP_MODES.index(loop_mode)
    row[R_LOOP_START], row[R_LOOP_END] = loop_start, loop_end
    row[R_RATE_RATIO] = sample_rate / engine_rate
    row[R_FIL_TYPE] = FILTER_TYPES.index(region.fil_type) if region.fil_type else FILTER_NONE
    row[R_CUTOFF], row[R_RESONANCE] = region.cutoff, region.resonance
    row[R_FIL_VELTRACK], row[R_FIL_KEYTRACK], row[R_FIL_KEYCENTER] = \
        region.fil_veltrack, region.fil_keytrack, region.fil_keycenter
    row[R_GROUP], row[R_OFF_BY] = region.group, region.off_by
    row[R_OFF_MODE], row[R_OFF_TIME] = OFF_MODES.index(region.off_mode), region.off_time
    row[R_POLYPHONY], row[R_NOTE_POLYPHONY] = region.polyphony, region.note_polyphony
    write_envelope(row, R_AMP_ENVELOPE, region.amp_envelope)
    write_envelope(row, R_FILTER_ENVELOPE, region.filter_envelope)
    _lfo(row, R_AMP_LFO, region.amp_lfo)
    _lfo(row, R_PITCH_LFO, region.pitch_lfo)
    row[R_MODULATIONS] = len(region.modulations)
    for i, modulation in enumerate(region.modulations):
        at = R_MODULATION + i * MODULATION_FIELDS
        row[at + MOD_TARGET] = list(CC_TARGETS).index(modulation.target)
        row[at + MOD_CC], row[at + MOD_DEPTH] = modulation.cc, modulation.depth
    row[R_CROSSFADES] = len(region.crossfades)
    for i, crossfade in enumerate(region.crossfades):
        at = R_CROSSFADE + i * CROSSFADE_FIELDS
        row[at:at + CROSSFADE_FIELDS] = (crossfade.cc, crossfade.in_low, crossfade.in_high, crossfade.out_low,
                                         crossfade.out_high)
    row[R_CONDITIONS] = len(region.cc_conditions)
    for i, (cc, low, high) in enumerate(region.cc_conditions):
        at = R_CONDITION + i * CONDITION_FIELDS
        row[at:at + CONDITION_FIELDS] = (cc, low, high)
    if not np.isfinite(row).all():
        raise RegionTableError(f"{region.origin}: a value is not a finite number")
    return row


def _keycenter(region: Region, root_key: int) -> int:
    if region.pitch_keycenter != ORIGINAL:
        return region.pitch_keycenter
    return root_key if root_key != ORIGINAL else 60


def pitch_problem(region: Region, root_key: int, tune: float = 0.0) -> str | None:
    """What to report when `region` (its sample's `root_key` and bank `tune` as for `region_row`) asks
    some key or velocity of it to play faster than MAX_PITCH_RATIO times its sample's speed; None if not."""
    keycenter = _keycenter(region, root_key)
    keys = (max(0, min(127, region.lokey)), max(0, min(127, region.hikey)))
    top_key = max(keys, key=lambda key: (key - keycenter) * region.pitch_keytrack)
    cents = (top_key - keycenter) * region.pitch_keytrack + region.tune + 100.0 * region.transpose + tune \
        + max(0.0, region.pitch_veltrack)
    moved = max(0.0, region.bend_up) + abs(region.pitch_lfo.depth) + sum(
        max(0.0, modulation.depth) for modulation in region.modulations if modulation.target == "pitch")
    if not cents + moved > MAX_PITCH_CENTS:
        return None
    modulated = f", {(cents + moved) / 100:.0f} with pitch bend, LFO and controllers at full" if moved else ""
    return (f"{region.origin}: key {top_key} would play its sample {cents / 100:.0f} semitones up{modulated} "
            f"(pitch_keycenter {keycenter}, pitch_keytrack {region.pitch_keytrack:g}, transpose {region.transpose}, "
            f"tune {region.tune + tune:g}); a voice plays at most {MAX_PITCH_CENTS / 100:.0f} semitones up "
            f"({MAX_PITCH_RATIO:g} times the sample's speed), its notes are held there")


def _curve(name: str) -> int:
    return CURVE_POWER if name == "power" else CURVE_GAIN
