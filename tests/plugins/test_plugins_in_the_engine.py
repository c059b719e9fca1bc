"""LV2 plugins run by the compiled kernel, offline (the live stream runs the same callback): an LV2
instrument's notes on their exact samples, inserts on buses, dual mono, bypass, control changes,
delay compensation, and the worker."""

import math

import numpy as np
import pytest

from liveengine.engine import BusLayout, Engine, EngineSettings, OfflineRenderer
from liveengine.kernel.state import B_DELAY
from lv2plugins import DPL_STEREO, EPIANO, FIL4_STEREO, require

FIL4_MONO = "http://gareus.org/oss/lv2/fil4#mono"
DX10 = "http://drobilla.net/plugins/mda/DX10"
ROOM = "urn:dragonfly:room"
ZEROCONVOLV = "http://gareus.org/oss/lv2/zeroconvolv#Stereo"
TONE, EPIANO_INSTRUMENT = 0, 1
KEYS = 1
BUSES = (BusLayout("master", outputs=(0, 1)), BusLayout("keys", feeds="master"), BusLayout("stems", feeds="master"),
         BusLayout("click", outputs=(2, 3)))


def engine_with(sample_rate=48000, max_block=256, outputs=2, buses=None) -> Engine:
    settings = EngineSettings(sample_rate=sample_rate, max_block=max_block, output_channels=outputs,
                              buses=buses or EngineSettings.buses)
    engine = Engine(settings)
    engine.install_tone(TONE, attack_seconds=0.0, release_seconds=0.05, gain=0.5)
    return engine


def first_sound(channel: np.ndarray) -> int:
    return int(np.flatnonzero(np.abs(channel) > 1e-6)[0])


@pytest.mark.parametrize("uri", (EPIANO, DX10))
@pytest.mark.parametrize("sample_rate", (44100, 48000, 96000))
@pytest.mark.parametrize("max_block", (32, 64, 256, 1024))
def test_an_lv2_instruments_notes_sound_from_their_own_samples(uri, sample_rate, max_block):
    require(uri)
    for offset in (0, 1, max_block // 2, max_block - 1):  # several places inside one block
        engine = engine_with(sample_rate, max_block)
        engine.install_plugin_instrument(EPIANO_INSTRUMENT, uri, bus="keys")
        at = 3 * max_block + offset
        engine.producer("midi").note_on(at, 1, EPIANO_INSTRUMENT, 60, 0.8, KEYS)
        out = OfflineRenderer(engine.state, max_block).render(at + sample_rate // 10)
        assert first_sound(out[:, 0]) == at and first_sound(out[:, 1]) == at
        assert np.abs(out).max() > 0.01
        assert engine.telemetry().voices == 1, "the held note holds a voice slot"


def test_a_key_struck_again_on_the_sample_it_is_let_go_sounds_again():
    require(EPIANO)
    rate, block = 48000, 256
    engine = engine_with(rate, block)
    engine.install_plugin_instrument(EPIANO_INSTRUMENT, EPIANO, bus="keys")
    producer = engine.producer("midi")
    producer.note_on(0, 1, EPIANO_INSTRUMENT, 60, 0.8, KEYS)
    producer.note_off(rate // 10, 1)
    producer.note_on(rate // 10, 2, EPIANO_INSTRUMENT, 60, 0.8, KEYS)
    out = OfflineRenderer(engine.state, block).render(rate)
    assert engine.telemetry().voices == 1
    assert np.abs(out[rate // 2:]).max() > 0.01, "the second note is held: the plugin heard off, then on"


def test_the_note_off_reaches_the_plugin_and_frees_the_slot():
    require(EPIANO)
    rate, block = 48000, 256
    levels = {}
    for released in (False, True):
        engine = engine_with(rate, block)
        engine.install_plugin_instrument(EPIANO_INSTRUMENT, EPIANO, bus="keys")
        producer = engine.producer("midi")
        producer.note_on(0, 1, EPIANO_INSTRUMENT, 60, 0.8, KEYS)
        if released:
            producer.note_off(rate // 10, 1)
        out = OfflineRenderer(engine.state, block).render(rate)
        levels[released] = np.abs(out[rate // 2:]).max()
        assert engine.telemetry().voices == (0 if released else 1)
    assert levels[True] < 0.1 * levels[False], levels


def test_panic_silences_an_lv2_instrument():
    require(EPIANO)
    rate, block = 48000, 256
    engine = engine_with(rate, block)
    engine.install_plugin_instrument(EPIANO_INSTRUMENT, EPIANO, bus="keys")
    producer = engine.producer("midi")
    for key in (48, 55, 60, 64, 67):
        producer.note_on(0, key, EPIANO_INSTRUMENT, key, 0.9, KEYS)
    producer.panic(rate // 10)
    out = OfflineRenderer(engine.state, block).render(rate)
    assert engine.telemetry().voices == 0
    assert np.abs(out[rate // 2:]).max() < 0.1 * np.abs(out[:rate // 10]).max()


def tone_through(engine: Engine, seconds: float = 0.5, pan: float = 0.0, block: int = 256) -> np.ndarray:
    engine.producer("midi").note_on(0, 1, TONE, 69, 1.0, KEYS, pan)
    return OfflineRenderer(engine.state, block).render(round(seconds * engine.settings.sample_rate))


def rms(signal: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(signal.astype(np.float64)))))


def test_an_insert_on_the_keys_bus_processes_what_the_bus_plays():
    require(FIL4_STEREO)
    dry = tone_through(engine_with())
    engine = engine_with()
    engine.install_insert("keys", FIL4_STEREO, controls={"gain": -6.0})
    wet = tone_through(engine)
    ratio = rms(wet[12000:, 0]) / rms(dry[12000:, 0])
    assert ratio == pytest.approx(10 ** (-6 / 20), rel=0.02)


def test_a_mono_insert_on_a_stereo_bus_runs_once_a_side():
    require(FIL4_STEREO)
    engine = engine_with()
    engine.install_insert("keys", FIL4_MONO, controls={"gain": -6.0})
    out = tone_through(engine, pan=-1.0)
    assert rms(out[12000:, 0]) > 0.05
    assert rms(out[12000:, 1]) < 1e-4, "the left side's signal stays on the left: one instance a side"


def test_a_control_change_applies_on_its_sample_and_can_be_read_back():
    require(FIL4_STEREO)
    engine = engine_with()
    column = engine.install_insert("keys", FIL4_STEREO)
    instance = engine.plugins.instances[column]
    gain = instance.description.control("gain").index
    at = 24000
    engine.producer("osc").plugin_control(column, gain, -12.0, at)
    out = tone_through(engine, seconds=1.0)
    assert instance.controls[gain] == -12.0
    before, after = rms(out[12000:at, 0]), rms(out[at + 12000:, 0])
    assert after / before == pytest.approx(10 ** (-12 / 20), rel=0.02)


def test_bypass_crossfades_out_and_back_without_a_click():
    require(FIL4_STEREO)
    rate = 48000
    engine = engine_with()
    column = engine.install_insert("keys", FIL4_STEREO, controls={"gain": -12.0})
    producer = engine.producer("osc")
    producer.bypass_insert(column, True, rate // 2)
    producer.bypass_insert(column, False, rate)
    out = tone_through(engine, seconds=1.5)[:, 0]
    dry = tone_through(engine_with(), seconds=1.5)[:, 0]
    assert rms(out[rate // 2 + 2400:rate]) == pytest.approx(rms(dry[rate // 2 + 2400:rate]), rel=0.01)
    assert rms(out[rate + 12000:]) == pytest.approx(rms(dry[rate + 12000:]) * 10 ** (-12 / 20), rel=0.02)
    step = np.abs(np.diff(out)).max()
    assert step <= 1.05 * np.abs(np.diff(dry)).max(), "no sample jumps further than the tone itself does"


@pytest.mark.parametrize("bypassed", (False, True))
def test_a_look_ahead_limiter_on_the_keys_does_not_move_them_against_the_click(bypassed):
    require(DPL_STEREO)
    rate = 48000
    engine = engine_with(rate, 256, outputs=4, buses=BUSES)
    engine.install_insert("keys", DPL_STEREO, bypassed=bypassed)
    latency = engine.compensate_latency()
    assert latency > 0
    assert engine.state.bus_ints[B_DELAY, 3] == latency, "the click, on its own outputs, waits for the keys"
    producer = engine.producer("midi")
    at = 1000
    producer.note_on(at, 1, TONE, 69, 0.2, KEYS)
    producer.note_on(at, 2, TONE, 81, 0.2, 3)
    out = OfflineRenderer(engine.state, 256).render(rate // 4)
    # The tone starts at phase zero: its first sample is 0, its second the first one heard. Bypassed, the
    # limiter's dry path keeps its latency.
    assert first_sound(out[:, 0]) == first_sound(out[:, 2]) == at + latency + 1


def test_bypassing_an_insert_with_latency_crossfades_between_aligned_signals():
    require(DPL_STEREO)
    rate = 48000
    renders = []
    for bypass_at in (None, rate // 4):
        engine = engine_with(rate)
        column = engine.install_insert("keys", DPL_STEREO)
        if bypass_at is not None:
            engine.producer("osc").bypass_insert(column, True, bypass_at)
        renders.append(tone_through(engine, seconds=0.5)[:, 0])
    # The tone is far below the limiter's threshold: wet and dry are the same signal, 64 samples late, and
    # crossfading from one to the other changes nothing (no comb, no dip, no jump).
    playing, bypassed = renders
    assert np.abs(bypassed - playing).max() < 1e-3 * np.abs(playing).max()


def test_an_offline_render_with_plugins_is_the_same_every_time():
    require(EPIANO, FIL4_STEREO)
    renders = []
    for _ in range(2):
        engine = engine_with()
        engine.install_plugin_instrument(EPIANO_INSTRUMENT, EPIANO, bus="keys")
        engine.install_insert("keys", FIL4_STEREO, controls={"gain": -3.0})
        producer = engine.producer("midi")
        for number, key in enumerate((60, 64, 67)):
            producer.note_on(100 * number, number, EPIANO_INSTRUMENT, key, 0.7, KEYS)
            producer.note_off(12000 + 100 * number, number)
        renders.append(OfflineRenderer(engine.state, 256).render(24000).copy())
    assert np.array_equal(renders[0], renders[1])


def level_db(signal: np.ndarray) -> float:
    return 20 * math.log10(rms(signal))


def tone_level_db(frequency: float, controls: dict | None) -> float:
    """The steady level of a tone of `frequency` on the keys bus, through fil4 with `controls` (None: none)."""
    engine = engine_with()
    if controls is not None:
        engine.install_insert("keys", FIL4_STEREO, controls=controls)
    engine.producer("midi").note_on(0, 1, TONE, 69 + 12 * math.log2(frequency / 440), 1.0, KEYS)
    return level_db(OfflineRenderer(engine.state, 256).render(48000)[24000:, 0])


@pytest.mark.parametrize("controls, expected_db", [
    # A low shelf of +9 dB at 100 Hz: all of it far below, half of it on its frequency, none far above.
    ({"LSgain": 9.0, "LSfreq": 100.0}, {30: 9.0, 100: 4.5, 1000: 0.0}),
    # A second-order low-pass at 2 kHz: |H| = 1 / sqrt(1 + (f / 2000) ** 4).
    ({"LowPass": 1.0, "LPfreq": 2000.0, "LPQ": 0.7},
     {frequency: -10 * math.log10(1 + (frequency / 2000) ** 4) for frequency in (100, 1000, 2000)}),
])
def test_fil4s_measured_response_matches_its_settings(controls, expected_db):
    require(FIL4_STEREO)
    for frequency, expected in expected_db.items():
        measured = tone_level_db(frequency, controls) - tone_level_db(frequency, None)
        assert measured == pytest.approx(expected, abs=0.5), f"{frequency} Hz"


def reverb_decay_seconds(decay: float) -> float:
    """Dragonfly Room's tail after a 10 ms burst, wet only: the time it takes to fall by 60 dB, from its
    fall from -5 to -35 dB (T30)."""
    rate, window = 48000, 960
    engine = engine_with(rate)
    engine.install_insert("keys", ROOM, controls={"decay": decay, "dry_level": 0.0, "early_level": 0.0,
                                                  "late_level": 100.0})
    producer = engine.producer("midi")
    producer.note_on(0, 1, TONE, 69, 1.0, KEYS)
    producer.note_off(480, 1)
    out = OfflineRenderer(engine.state, 256).render(4 * rate)[:, 0].astype(np.float64)
    levels = 10 * np.log10(np.square(out[:len(out) // window * window]).reshape(-1, window).mean(axis=1) + 1e-30)
    peak = int(levels.argmax())
    tail = levels[peak:] - levels[peak]
    return 2 * (np.argmax(tail < -35) - np.argmax(tail < -5)) * window / rate


def test_a_reverbs_tail_decays_over_its_decay_time():
    require(ROOM)
    measured = {decay: reverb_decay_seconds(decay) for decay in (0.5, 1.0, 2.0)}
    # Dragonfly's decay is its own, not a strict RT60: measured here 0.84, 1.52 and 2.16 s.
    for decay, seconds in measured.items():
        assert 0.5 * decay <= seconds <= 2 * decay, measured
    assert measured[0.5] < measured[1.0] < measured[2.0], measured


def test_bypassing_a_reverb_crossfades_without_a_step():
    require(ROOM)
    rate = 48000
    renders = {}
    for bypass_at in (None, rate // 2):
        engine = engine_with(rate)
        column = engine.install_insert("keys", ROOM, controls={"decay": 1.0})
        if bypass_at is not None:
            engine.producer("osc").bypass_insert(column, True, bypass_at)
        renders[bypass_at] = tone_through(engine, seconds=1.0)[:, 0]
    dry = tone_through(engine_with(), seconds=1.0)[:, 0]
    own_step = max(np.abs(np.diff(dry)).max(), np.abs(np.diff(renders[None])).max())
    crossfaded = renders[rate // 2]
    assert np.abs(np.diff(crossfaded)).max() <= 1.05 * own_step
    assert np.array_equal(crossfaded[rate // 2 + 480:], dry[rate // 2 + 480:]), "bypassed: the dry signal, as is"


def test_a_plugin_that_needs_the_worker_renders_the_same_every_time():
    require(ZEROCONVOLV)
    renders = []
    for _ in range(2):
        engine = engine_with()
        column = engine.install_insert("keys", ZEROCONVOLV, preset="No-OP Stereo")
        assert engine.plugins.instances[column].work_address, "the convolver loads its impulse response in its worker"
        latency = engine.compensate_latency()
        renders.append(tone_through(engine, seconds=0.5).copy())
    dry = tone_through(engine_with(), seconds=0.5)
    assert np.array_equal(renders[0], renders[1])
    # Its preset's impulse response is a single 0 dB tap: the tone, the convolver's latency later.
    assert latency > 0
    assert np.allclose(renders[0][latency:, 0], dry[:-latency, 0], atol=1e-6)
