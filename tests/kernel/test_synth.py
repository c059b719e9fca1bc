"""The synth voice, measured offline through the whole engine: pitch of every wave, aliasing,
the filter's cutoff and key tracking, envelope timing, clicks, voice stealing, glide and the
voice modes, silent tails, patch reload, the modulation matrix, and the shipped patches."""

import dataclasses
import math
import pathlib

import numpy as np
import pytest

from liveengine.kernel.dsp.oscillators import build_wavetable_from_harmonics
from liveengine.engine import Engine, EngineSettings, OfflineRenderer
from liveengine.engine import events as ev
from liveengine.kernel.voices.envelope import RELEASE_UNDERSHOOT
from liveengine.kernel.regions import Envelope
from liveengine.kernel.state import (
    V_ENVELOPE,
    V_FILTER_STATE,
    V_FILTER_STATE_2,
    V_FILTER_STATE_3,
    V_FILTER_STATE_4,
)
from liveengine.kernel.synthpatch import (
    Oscillator,
    Route,
    SynthFilter,
    SynthLfo,
    SynthPatch,
)
from liveengine.instruments.synth import load_patch

RATE = 48000
BLOCK = 64
SHIPPED = sorted((pathlib.Path(__file__).resolve().parents[2] / "patches").glob("*.toml"))
CENTRE = math.sqrt(0.5)  # a centred voice's gain on each side (constant-power pan)
FILTER_STATES = [V_FILTER_STATE, V_FILTER_STATE_2, V_FILTER_STATE_3, V_FILTER_STATE_4]
SMALLEST_NORMAL = np.finfo(np.float64).tiny


def key_hz(key):
    return 440.0 * 2.0 ** ((key - 69) / 12)


def cents(hertz, reference):
    return 1200.0 * math.log2(hertz / reference)


def start(patch, polyphony=16):
    """An engine with `patch` as instrument 0 (the limiter out of the way) and its producer."""
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, polyphony=polyphony, limiter_ceiling=100.0))
    engine.install_synth(0, patch)
    return engine, engine.producer("control")


def render(engine, seconds, before_block=None):
    return OfflineRenderer(engine.state, BLOCK).render(round(seconds * RATE), before_block).astype(np.float64)


def play(patch, keys, seconds, release=None, velocity=1.0, setup=None):
    """The output (frames, 2) of `keys` played together from sample 0 (released at `release`
    seconds), after `setup(producer)` has posted its controllers."""
    engine, producer = start(patch)
    if setup is not None:
        setup(producer)
    for note, key in enumerate(keys):
        producer.note_on(0, note, 0, key, velocity, "keys")
        if release is not None:
            producer.note_off(round(release * RATE), note)
    return render(engine, seconds), engine


def steady(output, begin, end):
    return output[round(begin * RATE):round(end * RATE)]


def peak_hz(x, low, high):
    """The strongest peak between `low` and `high` Hz: Hann window, zero padded 4 times, and a
    parabola through the log magnitudes of its three bins (exact for a Gaussian peak)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), 4 * x.size))
    frequencies = np.fft.rfftfreq(4 * x.size, 1 / RATE)
    band = np.flatnonzero((frequencies >= low) & (frequencies <= high))
    i = band[np.argmax(spectrum[band])]
    before, at, after = np.log(spectrum[i - 1:i + 2])
    return frequencies[i] + 0.5 * (before - after) / (before - 2 * at + after) * frequencies[1]


def analytic(x):
    """x plus i times its Hilbert transform (one-sided spectrum)."""
    weights = np.zeros(x.size)
    weights[0] = 1.0
    weights[1:(x.size + 1) // 2] = 2.0
    if x.size % 2 == 0:
        weights[x.size // 2] = 1.0
    return np.fft.ifft(np.fft.fft(x) * weights)


def pitch_track(x, reference_hz):
    """Instantaneous pitch in cents from `reference_hz`, a sample at a time."""
    phase = np.unwrap(np.angle(analytic(x)))
    return 1200.0 * np.log2(np.maximum(np.diff(phase) * RATE / (2 * np.pi), 1.0) / reference_hz)


def largest_step(x):
    return np.abs(np.diff(x)).max()


# --- Pitch ---------------------------------------------------------------------------------

TABLE = build_wavetable_from_harmonics([1.0, 0.5, 0.3, 0.2, 0.1])
WAVES = {
    "saw": Oscillator("saw"),
    "pulse": Oscillator("pulse", pulse_width=0.3),
    "triangle": Oscillator("triangle"),
    "sine": Oscillator("sine"),
    "fm_sine": Oscillator("sine", fm_ratio=2.0, fm_index=1.5),
    "wavetable": Oscillator("wavetable", wavetable=0),
}


@pytest.mark.parametrize("wave", WAVES)
def test_every_wave_plays_its_key_within_a_cent(wave):
    patch = SynthPatch("pitch", oscillators=(WAVES[wave],), wavetables=(TABLE,))
    for key in (33, 57, 69, 81, 96):
        output, _ = play(patch, [key], 1.1)
        hertz = peak_hz(steady(output, 0.1, 1.1)[:, 0], 0.97 * key_hz(key), 1.03 * key_hz(key))
        assert abs(cents(hertz, key_hz(key))) < 1.0, (wave, key, cents(hertz, key_hz(key)))


def test_transposition_and_fine_tuning_land_where_they_say():
    patch = SynthPatch("tuned", oscillators=(Oscillator("saw", semitones=-7, detune=13.0),))
    output, _ = play(patch, [69], 1.1)
    expected = key_hz(62) * 2 ** (13 / 1200)
    hertz = peak_hz(steady(output, 0.1, 1.1)[:, 0], 0.97 * expected, 1.03 * expected)
    assert abs(cents(hertz, expected)) < 1.0


@pytest.mark.parametrize("copies, detune", [(3, 40.0), (4, 60.0)])
def test_unison_copies_sit_symmetrically_around_the_key(copies, detune):
    """Each copy (its own peak, resolved by a 2 s window) within a cent of its place, evenly
    spread over `detune` cents and centred on the key: the stack as a whole is in tune."""
    patch = SynthPatch("unison", oscillators=(Oscillator("saw", unison=copies, unison_detune=detune,
                                                         unison_spread=0.5),))
    step = detune / (copies - 1)
    for key in (57, 81):
        output, _ = play(patch, [key], 2.1)
        mix = steady(output, 0.1, 2.1).sum(axis=1)
        places = [detune * (copy / (copies - 1) - 0.5) for copy in range(copies)]
        found = []
        for place in places:
            hertz = key_hz(key) * 2 ** (place / 1200)
            half_gap = hertz * (2 ** (step / 2 / 1200) - 1)
            found.append(cents(peak_hz(mix, hertz - half_gap, hertz + half_gap), key_hz(key)))
        assert np.abs(np.subtract(found, places)).max() < 1.0, (key, found, places)
        assert abs(np.mean(found)) < 1.0, (key, found)


# --- Aliasing ------------------------------------------------------------------------------

# As for the oscillators alone (tests/test_oscillators.py): aliases below 10 kHz, where
# hearing is keenest and nothing masks them, 60 dB down; all of them together 30 dB down.
AUDIBLE_ALIAS_LIMIT_HZ = 10_000
AUDIBLE_ALIAS_LIMIT_DB = -60.0
TOTAL_ALIAS_LIMIT_DB = -30.0


@pytest.mark.parametrize("key", [100, 110])
@pytest.mark.parametrize("wave", ["saw", "pulse"])
def test_a_high_note_through_the_voice_keeps_its_aliases_down(wave, key):
    """Tuned a hair (under 0.02 cent) to a whole number of Hz, one second of sustain holds
    whole cycles: harmonics fall on multiples of that bin, anything between them folded back."""
    hertz = round(key_hz(key))
    oscillator = Oscillator(wave, detune=cents(hertz, key_hz(key)), pulse_width=0.3)
    patch = SynthPatch("high", oscillators=(oscillator,), filter=SynthFilter("lowpass", cutoff=20000.0))
    output, _ = play(patch, [key], 1.1)
    spectrum = np.abs(np.fft.rfft(steady(output, 0.1, 1.1)[:, 0]))
    power = (spectrum / spectrum[hertz]) ** 2
    frequencies = np.arange(power.size)
    aliases = frequencies % hertz != 0
    audible = 10 * np.log10(power[aliases & (frequencies < AUDIBLE_ALIAS_LIMIT_HZ)].max())
    total = 10 * np.log10(power[aliases].sum())
    assert audible < AUDIBLE_ALIAS_LIMIT_DB, audible
    assert total < TOTAL_ALIAS_LIMIT_DB, total


# --- The filter ----------------------------------------------------------------------------

def noise_patch(filter_=None, routes=()):
    """White noise (pitch plays no part), through `filter_` or unfiltered."""
    return SynthPatch("noise", oscillators=(Oscillator("noise", level=0.5),), filter=filter_ or SynthFilter(),
                      routes=routes, velocity_sensitivity=0.0)


def filter_response(filtered, key=60, velocity=1.0, setup=None):
    """(frequencies, |H|) of the voice's filter: the same noise (same note, same voice, same
    seed) rendered unfiltered and through `filtered`, compared by Welch's cross-spectrum."""
    signals = []
    for patch in (noise_patch(), filtered):
        output, _ = play(patch, [key], 2.0, velocity=velocity, setup=setup)
        signals.append(steady(output, 0.1, 2.0)[:, 0])
    x, y = signals
    size = 8192
    window = np.hanning(size)
    input_power = 0.0
    cross = 0.0
    for at in range(0, x.size - size, size // 2):
        spectrum_x = np.fft.rfft(x[at:at + size] * window)
        cross = cross + np.fft.rfft(y[at:at + size] * window) * np.conj(spectrum_x)
        input_power = input_power + np.abs(spectrum_x) ** 2
    return np.fft.rfftfreq(size, 1 / RATE), np.abs(cross / input_power)


def minus_3_db_hz(frequencies, response, falling=True):
    """Where the response crosses -3 dB (interpolated on a log-frequency axis), going up in frequency."""
    level = 20 * np.log10(np.maximum(response, 1e-12)) + 10 * math.log10(2)
    below = level < 0.0 if falling else level >= 0.0
    i = np.flatnonzero(below[1:] & ~below[:-1])[0] + 1
    fraction = level[i - 1] / (level[i - 1] - level[i])
    return frequencies[i - 1] * (frequencies[i] / frequencies[i - 1]) ** fraction


CUTOFF_TOLERANCE = 0.05


@pytest.mark.parametrize("mode, cutoff", [("lowpass", 200.0), ("lowpass", 1000.0), ("lowpass", 5000.0),
                                          ("lowpass", 12000.0), ("highpass", 1000.0)])
def test_the_filter_is_3_db_down_at_its_cutoff(mode, cutoff):
    frequencies, response = filter_response(noise_patch(SynthFilter(mode, cutoff=cutoff)))
    measured = minus_3_db_hz(frequencies, response, falling=mode == "lowpass")
    assert abs(measured / cutoff - 1) < CUTOFF_TOLERANCE, measured


@pytest.mark.parametrize("keytrack, key", [(1.0, 72), (1.0, 48), (0.5, 84), (0.0, 84)])
def test_key_tracking_moves_the_cutoff_100_cents_a_key_times_its_amount(keytrack, key):
    patch = noise_patch(SynthFilter("lowpass", cutoff=1000.0, keytrack=keytrack))
    expected = 1000.0 * 2 ** (keytrack * (key - 60) / 12)
    measured = minus_3_db_hz(*filter_response(patch, key=key))
    assert abs(measured / expected - 1) < CUTOFF_TOLERANCE, (measured, expected)


def test_velocity_moves_the_cutoff_in_proportion():
    patch = noise_patch(SynthFilter("lowpass", cutoff=1000.0, velocity=1200.0))
    measured = minus_3_db_hz(*filter_response(patch, velocity=0.5))
    assert abs(measured / (1000.0 * 2 ** 0.5) - 1) < CUTOFF_TOLERANCE, measured


# --- Envelopes -----------------------------------------------------------------------------

def enveloped_sine(envelope, attack_curve=0.0):
    """A full-level sine at a quarter of the sample rate, so that two neighbouring samples are
    a quarter cycle apart and sqrt(y[n]^2 + y[n+1]^2) is its level, sample by sample."""
    quarter = 12 * math.log2(RATE / 4 / 440.0)
    return SynthPatch("envelope", oscillators=(Oscillator("sine", semitones=quarter),), amp_envelope=envelope,
                      attack_curve=attack_curve, velocity_sensitivity=0.0)


def level_of(output):
    y = output[:, 0] / CENTRE
    return np.sqrt(y[:-1] ** 2 + y[1:] ** 2)


def milliseconds(samples):
    return 1000.0 * samples / RATE


STAGE_TOLERANCE_MS = 1.0
EXACT = 1e-6  # the float32 output's resolution, with room


def test_every_envelope_stage_ends_on_time():
    envelope = Envelope(delay=0.020, attack=0.050, hold=0.030, decay=0.100, sustain=50.0, release=0.200)
    engine, producer = start(enveloped_sine(envelope))
    producer.note_on(0, 1, 0, 69, 1.0, "keys")
    producer.note_off(round(0.4 * RATE), 1)
    level = level_of(render(engine, 0.8))
    full = np.flatnonzero(level >= 1.0 - EXACT)
    sustained = np.flatnonzero(np.abs(level - 0.5) < EXACT)
    # The release falls from the sustain level by the same law that takes full level to zero in its time.
    release_ms = 200.0 * math.log((0.5 - RELEASE_UNDERSHOOT) / -RELEASE_UNDERSHOOT) / \
        math.log((1.0 - RELEASE_UNDERSHOOT) / -RELEASE_UNDERSHOOT)
    ends = {
        "delay": (milliseconds(np.flatnonzero(level > EXACT)[0]), 20.0),
        "attack": (milliseconds(full[0]), 70.0),
        "hold": (milliseconds(full[-1]), 100.0),
        "decay": (milliseconds(sustained[0]), 200.0),
        "sustain": (milliseconds(sustained[-1]), 400.0),
        "release": (milliseconds(np.flatnonzero(level > EXACT)[-1]), 400.0 + release_ms),
    }
    for stage, (measured, expected) in ends.items():
        assert abs(measured - expected) < STAGE_TOLERANCE_MS, (stage, measured, expected)


@pytest.mark.parametrize("curve", [-1.0, 0.0, 1.0])
def test_every_attack_curve_reaches_full_level_at_the_attack_time(curve):
    engine, producer = start(enveloped_sine(Envelope(attack=0.100, release=0.150), attack_curve=curve))
    producer.note_on(0, 1, 0, 69, 1.0, "keys")
    producer.note_off(round(0.3 * RATE), 1)
    level = level_of(render(engine, 0.5))
    assert abs(milliseconds(np.flatnonzero(level >= 1.0 - EXACT)[0]) - 100.0) < STAGE_TOLERANCE_MS
    halfway = level[round(0.05 * RATE)]
    if curve < 0:
        assert halfway < 0.45  # starts slowly
    elif curve > 0:
        assert halfway > 0.55  # starts fast
    else:
        assert abs(halfway - 0.5) < 0.01
    assert level[:round(0.1 * RATE)].max() <= 1.0 + EXACT
    assert abs(milliseconds(np.flatnonzero(level > EXACT)[-1]) - 450.0) < STAGE_TOLERANCE_MS  # from full: its time


# --- Clicks --------------------------------------------------------------------------------

# A low sine moves little from one sample to the next (at 98 Hz, 1.3 % of its peak); a click,
# a level that steps, would jump by up to the peak itself: 78 times that. Starts, ends and
# steals may each add the slope of their ramp: at most half as much again.
CLICK_BOUND = 1.5
LOW_SINE = SynthPatch("low sine", oscillators=(Oscillator("sine"),), velocity_sensitivity=0.0, gain=0.5)


def test_notes_start_and_end_without_a_click():
    engine, producer = start(LOW_SINE)
    producer.note_on(0, 1, 0, 43, 1.0, "keys")
    producer.note_off(round(0.5 * RATE), 1)
    producer.note_on(round(0.9 * RATE), 2, 0, 43, 1.0, "keys")
    producer.note_off(round(0.9 * RATE) + 96, 2)  # released 2 ms into its attack
    output = render(engine, 1.5)[:, 0]
    own = largest_step(steady(output, 0.1, 0.5))
    for moment in (0.0, 0.5, 0.9):
        around = steady(output, max(0.0, moment - 0.01), moment + 0.05)
        assert largest_step(around) < CLICK_BOUND * own, (moment, largest_step(around) / own)


def test_a_stolen_voice_fades_out_over_5_ms_without_a_click():
    """Five notes on four voices. Random oscillator phases come from one seeded stream in
    note order, so the same notes without stealing, and the first alone, give the stolen
    voice's own output: the difference of the renders, and its fade."""
    keys = [43, 45, 47, 48, 50]
    steal = 4 * 4800

    def five_notes(polyphony, notes=range(5)):
        engine, producer = start(LOW_SINE, polyphony)
        for note in notes:
            producer.note_on(note * 4800, note, 0, keys[note], 1.0, "keys")
        return render(engine, 0.5)[:, 0], engine

    stealing, engine = five_notes(4)
    everything, _ = five_notes(8)
    first, _ = five_notes(8, [0])
    stolen = stealing - everything + first
    assert engine.telemetry().voices_stolen == 1
    assert engine.telemetry().voices == 4
    assert np.abs(stolen[:steal] - first[:steal]).max() < EXACT
    sounding = np.flatnonzero(np.abs(stolen[steal:]) > 1e-5)
    assert 4.0 < milliseconds(sounding[-1] + 1) <= 5.0, milliseconds(sounding[-1] + 1)
    gain = stolen[steal:steal + 240] / first[steal:steal + 240]
    loud = np.abs(first[steal:steal + 240]) > 0.05
    ramp = 1.0 - np.arange(1, 241) / 240  # linear, from where it was to zero
    assert np.abs(gain - ramp)[loud].max() < 0.01
    own = largest_step(everything[steal - 4800:steal + 4800])
    assert largest_step(stealing[steal - 480:steal + 960]) < CLICK_BOUND * own


# --- Glide and the voice modes -------------------------------------------------------------

GLIDE_SECONDS = 0.200
SEGMENT_MS = milliseconds(BLOCK)  # glides move a segment at a time: timing within one


def glide_patch(mode):
    return SynthPatch(mode, oscillators=(Oscillator("sine"),), mode=mode, portamento=GLIDE_SECONDS,
                      amp_envelope=Envelope(attack=0.050, decay=0.050, sustain=50.0, release=0.100),
                      velocity_sensitivity=0.0)


def two_keys(mode):
    """Key 57 held from 0 s to 1.5 s; key 69 from 0.5 s to 1 s."""
    engine, producer = start(glide_patch(mode))
    producer.note_on(0, 1, 0, 57, 1.0, "keys")
    producer.note_on(round(0.5 * RATE), 2, 0, 69, 1.0, "keys")
    producer.note_off(round(1.0 * RATE), 2)
    producer.note_off(round(1.5 * RATE), 1)
    output = render(engine, 2.0)[:, 0]
    return output, pitch_track(output, key_hz(57)), np.abs(analytic(output)) / CENTRE, engine


def glide_span_ms(track, begin, end, from_cents, to_cents):
    """Where a line fitted to the middle 60 % of a glide meets its two notes (ms)."""
    times = np.arange(track.size) / RATE
    low, high = sorted((from_cents, to_cents))
    middle = (times > begin) & (times < end) & (track > low + 0.2 * (high - low)) & (track < high - 0.2 * (high - low))
    slope, intercept = np.polyfit(times[middle], track[middle], 1)
    return 1000 * (from_cents - intercept) / slope, 1000 * (to_cents - intercept) / slope


@pytest.mark.parametrize("mode", ["legato", "mono"])
def test_a_second_key_glides_over_the_portamento_time_and_its_release_returns_to_the_first(mode):
    output, track, _, engine = two_keys(mode)
    began, ended = glide_span_ms(track, 0.5, 0.75, 0.0, 1200.0)
    assert abs(began - 500.0) < SEGMENT_MS and abs(ended - 700.0) < SEGMENT_MS, (began, ended)
    began, ended = glide_span_ms(track, 1.0, 1.25, 1200.0, 0.0)
    assert abs(began - 1000.0) < SEGMENT_MS and abs(ended - 1200.0) < SEGMENT_MS, (began, ended)
    # Between the glides, each key in tune.
    for begin, end, key in ((0.72, 0.98, 69), (1.22, 1.48, 57)):
        hertz = peak_hz(steady(output, begin, end), 0.97 * key_hz(key), 1.03 * key_hz(key))
        assert abs(cents(hertz, key_hz(key))) < 1.0, (key, cents(hertz, key_hz(key)))
    assert engine.telemetry().voices == 0


def test_legato_keeps_its_envelope_and_mono_restarts_it_from_where_it_was():
    legato_output, _, legato, _ = two_keys("legato")
    mono_output, _, mono, _ = two_keys("mono")
    for level in (legato, mono):
        assert np.abs(steady(level, 0.2, 0.5) - 0.5).max() < 0.01  # sustaining at half level
    assert np.abs(steady(legato, 0.5, 1.5) - 0.5).max() < 0.01
    assert mono[round(0.55 * RATE)] > 0.98  # a new attack, back up to full level in its 50 ms
    # No step: nothing moves faster than the upper key's sine at full level does.
    own = 2 * CENTRE * math.sin(math.pi * key_hz(69) / RATE)
    for output in (legato_output, mono_output):
        assert largest_step(steady(output, 0.0, 1.5)) < CLICK_BOUND * own


def test_mono_plays_each_new_note_at_its_velocity_with_its_keys_cutoff():
    patch = SynthPatch("mono", oscillators=(Oscillator("sine"),), mode="mono",
                       filter=SynthFilter("lowpass", cutoff=key_hz(60), keytrack=1.0))
    engine, producer = start(patch)
    producer.note_on(0, 1, 0, 60, 1.0, "keys")
    producer.note_on(round(0.5 * RATE), 2, 0, 72, 0.5, "keys")
    level = np.abs(analytic(render(engine, 1.0)[:, 0])) / CENTRE
    # Each note on its own key's cutoff (-3 dB), at its velocity squared.
    assert abs(np.median(steady(level, 0.2, 0.45)) - CENTRE) < 0.005
    assert abs(np.median(steady(level, 0.7, 0.95)) - 0.25 * CENTRE) < 0.005


# --- Silent tails --------------------------------------------------------------------------

def filter_states(engine):
    return engine.state.voice_values[FILTER_STATES]


def test_released_notes_leave_no_voice_and_no_filter_state_behind():
    patch = SynthPatch("chord", oscillators=(Oscillator("saw", unison=2, unison_detune=10.0, unison_spread=1.0),),
                       filter=SynthFilter("lowpass", cutoff=300.0, resonance=12.0), amp_envelope=Envelope(release=0.1))
    engine, producer = start(patch, polyphony=4)
    for note, key in enumerate((48, 55, 60, 64)):
        producer.note_on(0, note, 0, key, 1.0, "keys")
        producer.note_off(round(0.25 * RATE), note)
    render(engine, 0.5)
    assert engine.telemetry().voices == 0
    assert not filter_states(engine).any()
    assert not engine.state.voice_values[V_ENVELOPE].any()


def test_a_held_voice_gone_silent_filters_down_to_exact_zero_never_subnormal():
    """A sounding voice whose oscillator the mod wheel turns off: its resonant filter rings down
    and its states land on exactly 0.0, without passing through subnormal numbers (which cost
    several times the arithmetic of normal ones)."""
    patch = SynthPatch("silenced", oscillators=(Oscillator("saw"),),
                       filter=SynthFilter("lowpass", cutoff=100.0, resonance=12.0),
                       routes=(Route("mod_wheel", "osc1_level", -1.0),))
    engine, producer = start(patch)
    producer.note_on(0, 1, 0, 48, 1.0, "keys")
    producer.controller(0, 1, 1.0, sample=round(0.1 * RATE))
    subnormal = []

    def look(position):
        states = filter_states(engine)
        subnormal.append(bool(np.any((states != 0.0) & (np.abs(states) < SMALLEST_NORMAL))))

    render(engine, 2.0, look)
    assert engine.telemetry().voices == 1
    assert not any(subnormal)
    assert not filter_states(engine).any()


def test_a_note_without_sustain_frees_its_voice_while_held():
    patch = SynthPatch("pluck", oscillators=(Oscillator("saw"),), filter=SynthFilter("lowpass", cutoff=800.0),
                       amp_envelope=Envelope(attack=0.002, decay=0.2, sustain=0.0))
    _, engine = play(patch, [60], 0.5)
    assert engine.telemetry().voices == 0
    assert not filter_states(engine).any()


# --- Patch reload --------------------------------------------------------------------------

def test_a_patch_reloaded_under_a_sounding_note_takes_its_new_level_cutoff_and_pan_without_a_click():
    before = SynthPatch("before", oscillators=(Oscillator("sine"),), filter=SynthFilter("lowpass", cutoff=2000.0),
                        velocity_sensitivity=0.0, gain=0.5)
    after = SynthPatch("after", oscillators=(Oscillator("sine", level=0.5),),
                       filter=SynthFilter("lowpass", cutoff=key_hz(43)), velocity_sensitivity=0.0, gain=0.25, pan=0.6)
    engine, producer = start(before)
    producer.note_on(0, 1, 0, 43, 1.0, "keys")
    renderer = OfflineRenderer(engine.state, BLOCK)
    first = renderer.render(RATE // 2).astype(np.float64)
    engine.reload_synth(0, after, producer)
    output = np.concatenate([first, renderer.render(RATE // 2).astype(np.float64)])
    # Half the gain, half the oscillator, the note now on the cutoff (-3 dB), and panned.
    angle = (0.6 + 1) * math.pi / 4
    for side, pan_gain in enumerate((math.cos(angle), math.sin(angle))):
        level = np.abs(analytic(output[:, side]))
        ratio = np.median(steady(level, 0.8, 0.95)) / np.median(steady(level, 0.2, 0.45))
        assert abs(ratio / (0.5 * 0.5 * CENTRE * pan_gain / CENTRE) - 1) < 0.01, (side, ratio)
        own = largest_step(steady(output[:, side], 0.1, 0.45))
        assert largest_step(steady(output[:, side], 0.45, 0.6)) < CLICK_BOUND * own, side


@pytest.mark.parametrize("before, after", [("lowpass", "highpass"), ("none", "lowpass"), ("lowpass", "none"),
                                           ("bandpass", "notch")])
def test_a_reload_that_changes_the_filter_mode_crossfades_without_a_click(before, after):
    """On the cutoff, a low-pass and a high-pass pass a sine in opposite phases: switched at once,
    the output would jump by twice its amplitude."""
    def patch(mode):
        return SynthPatch(mode, oscillators=(Oscillator("sine"),), filter=SynthFilter(mode, cutoff=key_hz(57)),
                          velocity_sensitivity=0.0, gain=0.5)
    engine, producer = start(patch(before))
    producer.note_on(0, 1, 0, 57, 1.0, "keys")
    renderer = OfflineRenderer(engine.state, BLOCK)
    reload_at = RATE // 4 // BLOCK * BLOCK  # whole blocks: the reload applies at the next one's start
    first = renderer.render(reload_at).astype(np.float64)
    engine.reload_synth(0, patch(after), producer)
    output = np.concatenate([first, renderer.render(reload_at).astype(np.float64)])[:, 0]
    own = max(largest_step(output[reload_at // 2:reload_at - BLOCK]), largest_step(output[reload_at + 4 * BLOCK:]))
    assert largest_step(output[reload_at - BLOCK:reload_at + 4 * BLOCK]) < CLICK_BOUND * own



# it moves itself: smooth sweeps simulated sample by sample step 1.6 to 3.5 times the sine's own
# step over 1 to 5 ms. A cutoff stepped within a sample: 22 times.
CUTOFF_SWEEP_BOUND = 5.0


@pytest.mark.parametrize("destination, amount, jump, bound", [
    ("amplitude", 1.0, (0.1, 1.0), CLICK_BOUND),
    ("pan", 1.0, (0.0, 1.0), CLICK_BOUND),
    ("cutoff", 6000.0, (0.0, 1.0), CUTOFF_SWEEP_BOUND),
])
@pytest.mark.parametrize("segment", ["one sample", "to the block's end"])
def test_a_controller_jump_glides_however_short_the_segment_it_lands_in(destination, amount, jump, bound, segment):
    """The mod wheel jumps (the cutoff from the sine's own pitch up five octaves); an event on the
    next sample may end the segment after one sample. Levels and the cutoff still approach their
    new values with the dezipper's time constant (1 ms), not over whatever a segment lasts."""
    patch = SynthPatch("jump", oscillators=(Oscillator("sine"),), velocity_sensitivity=0.0, gain=0.5,
                       filter=SynthFilter("lowpass", cutoff=key_hz(43)) if destination == "cutoff" else SynthFilter(),
                       routes=(Route("mod_wheel", destination, amount),))
    engine, producer = start(patch)
    producer.controller(0, 1, jump[0], sample=0)
    producer.note_on(0, 1, 0, 43, 1.0, "keys")
    at = round(0.3 * RATE) + 5
    producer.controller(0, 1, jump[1], sample=at)
    if segment == "one sample":
        producer.controller(0, 2, 0.5, sample=at + 1)
    output = render(engine, 0.5)
    # The voice's own largest step: its sine at full level, on the side the pan favours.
    loudest = 0.5 if destination == "pan" else 0.5 * CENTRE
    own = 2 * loudest * math.sin(math.pi * key_hz(43) / RATE)
    for side in (0, 1):
        assert largest_step(output[:, side]) < bound * own, (side, largest_step(output[:, side]) / own)


# --- The modulation matrix -----------------------------------------------------------------

@pytest.mark.parametrize("source, move", [
    ("mod_wheel", lambda producer: producer.controller(0, 1, 0.5)),
    ("aftertouch", lambda producer: producer.instrument_parameter(0, "aftertouch", 0.5)),
    ("cc", lambda producer: producer.controller(0, 74, 0.5)),
    ("poly_aftertouch", lambda producer: producer.post(1, ev.POLY_AFTERTOUCH, 0, 60, 0.5)),
])
def test_controllers_move_the_cutoff_by_their_route(source, move):
    route = Route(source, "cutoff", 1200.0, cc=74 if source == "cc" else -1)
    patch = noise_patch(SynthFilter("lowpass", cutoff=1000.0), routes=(route,))
    measured = minus_3_db_hz(*filter_response(patch, setup=move))
    assert abs(measured / (1000.0 * 2 ** 0.5) - 1) < CUTOFF_TOLERANCE, measured


def sine_level(output):
    return np.median(np.abs(analytic(steady(output, 0.1, 0.9)[:, 0]))) / CENTRE


@pytest.mark.parametrize("source, move, expected", [
    ("velocity", None, 0.5),  # velocity 0.5, amount 1: half level
    ("mod_wheel", lambda producer: producer.controller(0, 1, 0.25), 0.25),
    ("expression", lambda producer: producer.controller(0, 11, 0.75), 0.75),
    ("cc", lambda producer: producer.controller(0, 74, 0.5), 0.5),
    ("aftertouch", lambda producer: producer.instrument_parameter(0, "aftertouch", 0.5), 0.5),
])
def test_a_unipolar_source_scales_the_amplitude_down_from_full(source, move, expected):
    patch = SynthPatch("amp", oscillators=(Oscillator("sine"),), velocity_sensitivity=0.0,
                       routes=(Route(source, "amplitude", 1.0, cc=74 if source == "cc" else -1),))
    output, _ = play(patch, [69], 1.0, velocity=0.5, setup=move)
    assert abs(sine_level(output) - expected) < 0.005


def test_velocity_sensitivity_sets_the_level_by_velocity_squared():
    for sensitivity, expected in ((1.0, 0.25), (0.5, 0.625), (0.0, 1.0)):
        patch = SynthPatch("velocity", oscillators=(Oscillator("sine"),), velocity_sensitivity=sensitivity)
        output, _ = play(patch, [69], 1.0, velocity=0.5)
        assert abs(sine_level(output) - expected) < 0.005, sensitivity


def test_poly_aftertouch_reaches_only_its_key():
    patch = SynthPatch("pressure", oscillators=(Oscillator("sine"),), velocity_sensitivity=0.0,
                       routes=(Route("poly_aftertouch", "amplitude", 1.0),))
    output, _ = play(patch, [69, 81], 1.0, setup=lambda producer: producer.post(1, ev.POLY_AFTERTOUCH, 0, 69, 0.5))
    window = np.hanning(round(0.7 * RATE))  # 0.7 s: both notes on whole cycles, on a bin each
    spectrum = np.abs(np.fft.rfft(steady(output, 0.2, 0.9)[:, 0] * window)) * 2 / window.sum() / CENTRE
    frequencies = np.fft.rfftfreq(window.size, 1 / RATE)
    assert abs(spectrum[np.argmin(np.abs(frequencies - 440.0))] - 0.5) < 0.005  # pressure 0.5: half level
    assert spectrum[np.argmin(np.abs(frequencies - 880.0))] < 1e-4  # pressure 0: silent under this route


def vibrato_cents(output, rate_hz, key=69):
    """The pitch swing's amplitude at the LFO's rate, by a least-squares fit to the pitch track."""
    track = pitch_track(output[:, 0], key_hz(key))[RATE // 4:-RATE // 4]
    times = np.arange(track.size) / RATE
    basis = np.stack([np.cos(2 * np.pi * rate_hz * times), np.sin(2 * np.pi * rate_hz * times),
                      np.ones_like(times)], axis=1)
    (a, b, _), *_ = np.linalg.lstsq(basis, track, rcond=None)
    return math.hypot(a, b)


def test_an_lfo_swings_the_pitch_by_its_route_amount():
    patch = SynthPatch("vibrato", oscillators=(Oscillator("sine"),), lfos=(SynthLfo("sine", rate=5.0),),
                       routes=(Route("lfo1", "pitch", 50.0),))
    output, _ = play(patch, [69], 2.5)
    assert abs(vibrato_cents(output, 5.0) - 50.0) < 1.0


@pytest.mark.parametrize("wheel", [0.0, 0.5, 1.0])
def test_the_mod_wheel_brings_in_vibrato_through_the_lfos_depth(wheel):
    """An LFO at depth 0 with the mod wheel routed to its depth: the patch README's vibrato."""
    patch = SynthPatch("wheel", oscillators=(Oscillator("sine"),), lfos=(SynthLfo("sine", rate=5.0, depth=0.0),),
                       routes=(Route("mod_wheel", "lfo1_depth", 1.0), Route("lfo1", "pitch", 50.0)))
    output, _ = play(patch, [69], 2.5, setup=lambda producer: producer.controller(0, 1, wheel))
    assert abs(vibrato_cents(output, 5.0) - 50.0 * wheel) < 1.0


@pytest.mark.parametrize("patch_range, setup_range, wheel", [(2, 0, 1.0), (7, 0, 1.0), (7, 0, -0.5),
                                                              (7, 12, 1.0), (7, 12, -0.25)])
def test_pitch_bend_bends_by_the_patchs_range_unless_the_setup_gives_one(patch_range, setup_range, wheel):
    patch = SynthPatch("bend", oscillators=(Oscillator("sine"),), bend_range=patch_range)

    def bend(producer):
        if setup_range:
            producer.instrument_parameter(0, "bend_range", setup_range)
        producer.instrument_parameter(0, "pitch_bend", wheel)

    output, _ = play(patch, [69], 1.1, setup=bend)
    expected = 100.0 * (setup_range or patch_range) * wheel
    assert abs(cents(peak_hz(steady(output, 0.1, 1.1)[:, 0], 100.0, 2000.0), key_hz(69)) - expected) < 1.0


# --- The shipped patches -------------------------------------------------------------------

CHORD = [60, 64, 67, 72]  # C4 E4 G4 C5
# The riser sweeps its pitch an octave by design, over a bed of noise: it has no one pitch.
UNPITCHED = {"riser"}
# Pulse-width modulation moves a pulse's falling edge, and with it the phase of every partial:
# while the width sweeps, the pitch bends by half the sweep's speed in Hz (the ostinato's LFO,
# from the start of each note: 0.3 Hz, a cent at C3). Its tuning is measured with the width held.
PULSE_WIDTH_SWEPT = {"pulse_ostinato"}


def fundamental_cents(output, hertz):
    """Pitch of the partials within 50 cents of `hertz` (their power-weighted mean frequency),
    in cents from it: a detuned stack or a vibrato counts as its centre."""
    x = output.sum(axis=1)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), 4 * x.size)) ** 2
    frequencies = np.fft.rfftfreq(4 * x.size, 1 / RATE)
    near = np.abs(1200 * np.log2(np.maximum(frequencies, 1.0) / hertz)) < 50.0
    return cents((spectrum[near] * frequencies[near]).sum() / spectrum[near].sum(), hertz)


@pytest.mark.parametrize("path", [pytest.param(path, id=path.stem) for path in SHIPPED if path.stem not in UNPITCHED])
def test_a_shipped_patch_plays_in_tune(path):
    patch = load_patch(path)
    if path.stem in PULSE_WIDTH_SWEPT:
        patch = dataclasses.replace(patch, routes=tuple(route for route in patch.routes
                                                        if route.destination != "pulse_width"))
    # The lowest oscillator's fundamental (an organ's 16', an ostinato's sub octave).
    hertz = key_hz(60 + min(oscillator.semitones for oscillator in patch.oscillators))
    output, _ = play(patch, [60], 2.1)
    assert abs(fundamental_cents(steady(output, 0.05, 2.05), hertz)) < 1.0


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_a_shipped_patch_plays_a_full_chord_below_full_scale(path):
    output, _ = play(load_patch(path), CHORD, 2.5, release=2.0)
    assert 0.0 < np.abs(output).max() < 1.0


# --- Renders that must not move --------------------------------------------------------------

# Rendered by the voice before its loops were vectorised (the oscillators' phase from the segment's start,
# the filter over the whole segment, a held envelope level as one gain; the waves' case before its sine became a
# polynomial and each wave a row of its own): each case at each rate, in 64-frame blocks, as float32 (the
# renderer's output). Every case renders the same in any block size, to rounding.
REFERENCE_RENDERS = pathlib.Path(__file__).resolve().parent / "synth_reference_renders.npz"
REFERENCE_PATCHES = {
    # The benchmark's voice: a mono saw through a resonant low-pass at rest (the voice's fast path).
    "saw_low_pass": SynthPatch("saw", oscillators=(Oscillator("saw"),), filter=SynthFilter("lowpass", 2000.0, 6.0),
                               amp_envelope=Envelope(attack=0.01, decay=0.02, sustain=70.0, release=0.02), gain=0.3),
    # A stereo voice through the general filter loop: panned unison copies, a pulse and an FM sine.
    "stereo_unison": SynthPatch("unison", oscillators=(
        Oscillator("saw", unison=3, unison_detune=20.0, unison_spread=0.7), Oscillator("pulse", 0.5, semitones=-12),
        Oscillator("sine", 0.3, fm_ratio=2.0, fm_index=1.5, fm_feedback=0.3)),
        filter=SynthFilter("highpass", 300.0, 3.0),
        amp_envelope=Envelope(attack=0.005, decay=0.03, sustain=50.0, release=0.015), attack_curve=0.5, gain=0.3),
    # The waves' own loops, unfiltered: a sine, an FM sine without feedback (its samples free of each other), a
    # triangle; rendered before the sine became a polynomial and the waves a row of their own.
    "sine_fm_triangle": SynthPatch("waves", oscillators=(
        Oscillator("sine", 0.4), Oscillator("sine", 0.3, fm_ratio=3.5, fm_index=0.6),
        Oscillator("triangle", 0.3, semitones=12)),
        amp_envelope=Envelope(attack=0.002, decay=0.03, sustain=60.0, release=0.015), gain=0.3),
}


def reference_render(case, rate, block):
    """Three notes from sample 0, panned apart, released 50 ms in (their releases end within the render)."""
    engine = Engine(EngineSettings(sample_rate=rate, max_block=block, polyphony=8, limiter_ceiling=100.0))
    engine.install_synth(0, REFERENCE_PATCHES[case])
    producer = engine.producer("control")
    for note, key in enumerate((45, 64, 83)):
        producer.note_on(0, note, 0, key, 0.8, "keys", pan=0.4 * note - 0.4)
        producer.note_off(round(0.05 * rate) + 7 * note, note)
    return OfflineRenderer(engine.state, block).render(round(0.08 * rate))


@pytest.mark.parametrize("block", [32, 64, 256, 1024])
@pytest.mark.parametrize("rate", [44100, 48000, 96000])
@pytest.mark.parametrize("case", REFERENCE_PATCHES)
def test_a_voice_renders_within_1e_6_of_its_reference(case, rate, block):
    expected = np.load(REFERENCE_RENDERS)[f"{case}/{rate}"]
    output = reference_render(case, rate, block)
    assert output.shape == expected.shape
    assert np.abs(expected).max() > 0.05  # every note sounds
    assert np.abs(output.astype(np.float64) - expected).max() < 1e-6
