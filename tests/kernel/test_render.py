"""Offline renders through the real kernel: timing, routing, gains, limiter, tails, events."""

import re

import numpy as np
import pytest
import soundfile

from liveengine.engine import BusLayout, Engine, EngineSettings, OfflineRenderer
from liveengine.kernel.state import STAGE_FREE, VS_STAGE

from commandline import liveengine

RATE = 48000
BLOCK = 64
FOUR_OUTPUTS = (
    BusLayout("master", outputs=(0, 1)),
    BusLayout("keys", feeds="master"),
    BusLayout("stems", feeds="master"),
    BusLayout("click", outputs=(2, 3)),
)


def make_engine(polyphony=64, buses=FOUR_OUTPUTS, input_channels=0, **settings):
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, output_channels=4, polyphony=polyphony,
                                   buses=buses, input_channels=input_channels, **settings))
    engine.install_tone(0, attack_seconds=0.002, release_seconds=0.05, gain=1.0)
    return engine, engine.producer("control"), OfflineRenderer(engine.state, BLOCK)


def render_note(start, frames=4096, key=69, velocity=0.5, bus="keys", length=1000):
    engine, producer, renderer = make_engine()
    producer.note_on(start, 1, 0, key, velocity, bus)
    producer.note_off(start + length, 1)
    return renderer.render(frames), engine


@pytest.mark.parametrize("offset", [0, 1, 17, 31, 63])
def test_tone_starts_on_its_exact_sample_inside_a_block(offset):
    start = 10 * BLOCK + offset
    out, _ = render_note(start)
    reference, _ = render_note(10 * BLOCK)
    left = out[:, 0]
    assert not left[:start].any(), "nothing may sound before the scheduled sample"
    assert left[start + 1] != 0.0
    # The same note, shifted by `offset`: identical samples, so it began exactly on `start`.
    np.testing.assert_array_equal(left[start:start + 2000], reference[10 * BLOCK:10 * BLOCK + 2000, 0])


def test_note_off_releases_at_its_sample_and_the_voice_ends_on_exact_zero():
    out, engine = render_note(100, frames=8192, length=1500)
    left = out[:, 0]
    assert left[100 + 1500 - 10:100 + 1500].any()
    release_samples = int(0.05 * RATE)
    assert not left[100 + 1500 + release_samples + 1:].any()
    assert (engine.state.voice_ints[VS_STAGE] == STAGE_FREE).all()
    assert engine.telemetry().voices == 0


def test_attack_and_release_have_no_clicks():
    out, _ = render_note(100, frames=8192, key=81, velocity=1.0, length=2000)
    jumps = np.abs(np.diff(out[:, 0].astype(np.float64)))
    largest_sine_step = 1.0 * np.sqrt(0.5) * 2 * np.pi * 880 / RATE
    assert jumps.max() <= largest_sine_step * 1.01


def test_keys_reach_the_main_outputs_and_the_click_only_its_own():
    keys, _ = render_note(0, bus="keys")
    click, _ = render_note(0, bus="click")
    assert np.abs(keys[:, :2]).max() > 0.1 and not keys[:, 2:].any()
    assert np.abs(click[:, 2:]).max() > 0.1 and not click[:, :2].any()


def test_bus_gain_applies_on_its_sample_with_a_ramp():
    engine, producer, renderer = make_engine()
    producer.note_on(0, 1, 0, 69, 0.5, "keys")
    producer.bus_gain("keys", 0.25, fade_seconds=0.0, sample=1000)
    out = renderer.render(4000)
    reference, _ = render_note(0, frames=4000, length=10_000)
    np.testing.assert_array_equal(out[:1000], reference[:1000])
    ramp = int(0.005 * RATE)
    assert np.allclose(out[1000 + ramp + 10:, 0], 0.25 * reference[1000 + ramp + 10:, 0], atol=1e-6)


def test_mute_and_unmute_are_ramped_not_cut():
    engine, producer, renderer = make_engine()
    producer.note_on(0, 1, 0, 69, 1.0, "keys")
    producer.bus_mute("master", True, sample=2000)
    producer.bus_mute("master", False, sample=6000)
    out = renderer.render(9000)[:, 0].astype(np.float64)
    ramp = int(0.005 * RATE)
    assert not out[2000 + ramp + 1:6000].any()
    assert np.abs(out[6000 + ramp:]).max() > 0.5
    assert np.abs(np.diff(out)).max() < 0.1


def test_limiter_never_lets_a_sample_past_its_ceiling():
    engine, producer, renderer = make_engine(polyphony=128)
    for note in range(40):
        producer.note_on(0, note, 0, 48 + note, 1.0, "keys")
        producer.note_on(0, 100 + note, 0, 60 + note, 1.0, "click")
    out = renderer.render(RATE // 2)
    ceiling = engine.settings.limiter_ceiling
    assert np.abs(out).max() <= np.float32(ceiling)
    assert np.abs(out).max() > 0.9 * ceiling, "the limiter must limit, not silence"


def test_limiter_releases_after_a_peak():
    engine, producer, renderer = make_engine(polyphony=128)
    for note in range(20):
        producer.note_on(0, note, 0, 50 + note, 1.0, "keys")
        producer.note_off(2000, note)
    producer.note_on(20000, 999, 0, 69, 0.3, "keys")
    out = renderer.render(40000)
    # Long after the loud chord, a quiet note plays at its own level again.
    expected_peak = 0.3 * np.sqrt(0.5)
    assert abs(np.abs(out[35000:, 0]).max() - expected_peak) < 1e-3


def subnormals(engine):
    state = engine.state
    arrays = [state.voice_values, state.bus_values, state.bus_meters, state.bus_audio, state.output_mix,
              state.input_meters, state.telemetry_float]
    return sum(int(((a != 0) & (np.abs(a) < np.finfo(np.float64).tiny)).sum()) for a in arrays)


def test_silent_tails_hold_no_subnormal_numbers():
    engine, producer, renderer = make_engine()
    for note in range(16):
        producer.note_on(0, note, 0, 40 + 3 * note, 0.5, "keys")
        producer.note_off(3000, note)
    out = renderer.render(RATE * 60)  # a minute: meters and limiter decay far past the subnormal range
    assert subnormals(engine) == 0
    tail = out[RATE * 10:]
    assert not tail.any(), "after the release the output is exact digital silence"
    telemetry = engine.telemetry()
    assert telemetry.buses["master"].peak_dbfs == (-120.0, -120.0)


def test_late_event_applies_at_the_first_sample_of_the_block_and_is_counted():
    engine, producer, renderer = make_engine()
    renderer.render(10 * BLOCK)
    producer.note_on(5 * BLOCK + 3, 1, 0, 69, 0.5, "keys")
    out = renderer.render(BLOCK * 4)
    reference, _ = render_note(0, frames=BLOCK * 4, length=10_000)
    np.testing.assert_array_equal(out, reference)
    assert engine.telemetry().late_events == 1
    engine.poll()
    assert engine.late_events[-1].wanted_sample == 5 * BLOCK + 3
    assert engine.late_events[-1].applied_sample == 10 * BLOCK


def test_events_at_one_sample_keep_their_order():
    engine, producer, renderer = make_engine()
    producer.bus_gain("keys", 0.1, sample=500)
    producer.bus_gain("keys", 1.0, sample=500)  # the later post wins
    producer.note_on(0, 1, 0, 69, 0.5, "keys")
    out = renderer.render(4000)
    reference, _ = render_note(0, frames=4000, length=10_000)
    np.testing.assert_allclose(out[2000:], reference[2000:], atol=1e-6)


def test_stealing_prefers_releasing_voices_and_fades_without_a_click():
    engine, producer, renderer = make_engine(polyphony=4)
    for note in range(4):
        producer.note_on(0, note, 0, 60 + note, 0.2, "keys")
    producer.note_off(1000, 2)  # note 2 is releasing when the fifth note comes
    producer.note_on(1200, 10, 0, 72, 0.2, "keys")
    out = renderer.render(3000)[:, 0].astype(np.float64)
    state = engine.state
    telemetry = engine.telemetry()
    assert telemetry.voices_stolen == 1
    sounding_ids = {int(state.voice_values[9, s]) for s in np.nonzero(state.voice_ints[VS_STAGE])[0]}
    assert sounding_ids == {0, 1, 3, 10}
    assert np.abs(np.diff(out)).max() < 0.05


def test_stealing_takes_the_oldest_note_when_none_is_releasing():
    engine, producer, renderer = make_engine(polyphony=3)
    for note in range(3):
        producer.note_on(note * 100, note, 0, 60 + note, 0.2, "keys")
    producer.note_on(1000, 7, 0, 70, 0.2, "keys")
    renderer.render(3000)
    state = engine.state
    sounding_ids = {int(state.voice_values[9, s]) for s in np.nonzero(state.voice_ints[VS_STAGE])[0]}
    assert sounding_ids == {1, 2, 7}


def test_panic_fades_every_voice_out_fast():
    engine, producer, renderer = make_engine()
    for note in range(10):
        producer.note_on(0, note, 0, 50 + note, 0.1, "keys")
    producer.panic(sample=2000)
    out = renderer.render(4000)
    fade = int(0.005 * RATE)
    assert not out[2000 + fade + 1:].any()
    assert engine.telemetry().voices == 0


def test_notes_for_a_missing_instrument_are_refused_and_reported_once_with_a_count(caplog):
    engine, producer, renderer = make_engine()
    engine.instrument_names[7] = "piano"
    for note in range(5):
        producer.note_on(note * 100, 5 + note, 7, 69, 0.5, "keys")
    producer.note_on(0, 20, 8, 69, 0.5, "keys")
    out = renderer.render(1000)
    assert not out.any()
    engine.poll()
    assert engine.telemetry().notes_refused == 6
    assert engine.refused_notes[-1].note == 9
    assert engine.refusal_report() == ["instrument piano: 5 notes refused: the instrument is not loaded",
                                       "instrument 8: 1 note refused: the instrument is not loaded"]
    assert [record.getMessage() for record in caplog.records] == [
        "instrument piano: notes refused: the instrument is not loaded (each one is counted in the summary)",
        "instrument 8: notes refused: the instrument is not loaded (each one is counted in the summary)"]


def test_render_says_each_problem_of_a_show_once(tmp_path):
    """A missing instrument and a stem at another sample rate: one warning each, and the refused
    notes counted by instrument, never a line per note."""
    soundfile.write(tmp_path / "music44.wav", np.full((44100, 2), 0.01, np.float32), 44100)
    (tmp_path / "show.toml").write_text("""
[show]
name = "Problems"
tempo = 120
[audio]
sample_rate = 48000
output_channels = 2
input_channels = 0
[instruments.piano]
type = "sfz"
file = "missing/piano.sfz"
[[parts]]
name = "melody"
instrument = "piano"
notes = [["C4", 0, 0.5, 0.5], ["D4", 0.5, 0.5, 0.5], ["E4", 1, 0.5, 0.5], ["F4", 1.5, 0.5, 0.5]]
[stems.music]
file = "music44.wav"
[[cues]]
number = "1"
name = "Start"
go = true
actions = [{start = "melody"}, {start = "music"}]
""")
    result = liveengine("render", tmp_path / "show.toml", "-o", tmp_path / "out.wav", "--go", "0")
    assert result.returncode == 0, result.stderr
    said = (result.stdout + result.stderr).splitlines()
    assert sum("music44.wav is at 44100 Hz" in line for line in said) == 1
    assert sum("refused" in line and "piano" in line for line in said) == 3, "loading, first refusal, summary"
    assert "  instrument piano: 4 notes refused: the instrument is not loaded" in said
    assert not any(re.match(r"note \d+", line) for line in said)


def test_fence_is_acknowledged_with_the_sample_it_reached():
    engine, producer, renderer = make_engine()
    token = producer.fence(sample=300)
    renderer.render(BLOCK * 2)
    engine.poll()
    assert engine.acknowledged(token) is None
    renderer.render(BLOCK * 4)
    engine.poll()
    assert engine.acknowledged(token) == 300


def test_a_full_ring_keeps_posts_until_it_drains():
    engine, producer, renderer = make_engine(ring_capacity=16)
    for i in range(20):
        producer.note_off(i, 1)
    assert producer.backlog == 4
    renderer.render(BLOCK)
    producer.note_off(18, 1)
    assert producer.backlog == 0


def test_a_producer_belongs_to_one_thread():
    import threading
    engine, producer, renderer = make_engine()
    producer.note_off(0, 1)
    errors = []
    thread = threading.Thread(target=lambda: errors.append(pytest.raises(RuntimeError, producer.note_off, 1, 1)))
    thread.start()
    thread.join()
    assert errors


def test_inputs_reach_the_kernel_and_its_meters():
    engine, producer, renderer = make_engine(input_channels=2)
    signal = np.zeros((BLOCK, 2), np.float32)
    signal[:, 1] = 0.5
    for _ in range(200):
        renderer.render_block(signal)
    np.testing.assert_array_equal(engine.state.input_audio[1, :BLOCK], 0.5)
    inputs = engine.telemetry().inputs
    assert inputs[0].peak_dbfs == (-120.0,)
    assert abs(inputs[1].peak_dbfs[0] - 20 * np.log10(0.5)) < 0.01


def test_meters_follow_bus_levels():
    engine, producer, renderer = make_engine()
    producer.note_on(0, 1, 0, 69, 0.5, "keys")
    renderer.render(3 * RATE)  # ten time constants of the 300 ms RMS
    meters = engine.telemetry().buses
    peak = 20 * np.log10(0.5 * np.sqrt(0.5))
    assert abs(meters["keys"].peak_dbfs[0] - peak) < 0.05
    assert abs(meters["keys"].rms_dbfs[0] - (peak - 3.01)) < 0.1
    assert meters["click"].peak_dbfs == (-120.0, -120.0)


def dominant_frequency(signal, rate=RATE):
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    return np.argmax(spectrum) * rate / len(signal)


def test_pitch_bend_moves_every_voice_of_its_instrument_and_the_mod_wheel_adds_vibrato():
    engine, control, renderer = make_engine()
    engine.install_tone(1, attack_seconds=0.002, release_seconds=0.05, gain=1.0)
    control.note_on(0, 1, 0, 69, 0.5, "keys", pan=-1.0)  # instrument 0 on the left
    control.note_on(0, 2, 1, 69, 0.5, "keys", pan=1.0)  # instrument 1 on the right
    control.instrument_parameter(0, "pitch_bend", 1.0, sample=RATE)  # the wheel fully up: a tone's 2 semitones
    audio = renderer.render(2 * RATE)
    left, right = audio[:, 0], audio[:, 1]
    assert dominant_frequency(left[:RATE]) == pytest.approx(440, abs=1.5)
    assert dominant_frequency(left[RATE:]) == pytest.approx(440 * 2 ** (2 / 12), abs=1.5)  # a whole tone up
    assert dominant_frequency(right[RATE:]) == pytest.approx(440, abs=1.5)  # the other instrument stays
    control.instrument_parameter(0, "pitch_bend", 0.0)
    control.instrument_parameter(0, "modulation", 1.0)
    vibrato = renderer.render(RATE)[:, 0]
    # Cycle by cycle (rising zero crossings, interpolated), the pitch swings half a semitone each way.
    rising = np.flatnonzero((vibrato[:-1] < 0) & (vibrato[1:] >= 0))
    crossings = rising + vibrato[rising] / (vibrato[rising] - vibrato[rising + 1])
    frequencies = RATE / np.diff(crossings)
    assert frequencies.max() == pytest.approx(440 * 2 ** (0.5 / 12), abs=1.0)
    assert frequencies.min() == pytest.approx(440 * 2 ** (-0.5 / 12), abs=1.0)
