"""Cues with more events at one instant than a template or a ring holds by default, and rehearsal
pickups: every event sounds on its sample, and the late-event counter stays at zero (it counts
only what went wrong). Played offline as `liveengine render` plays a show."""

import subprocess
import sys
import textwrap

from liveengine.engine import CUE_TEMPLATE_ROWS

from cueshows import CUE_SAMPLE, ONE, RATE, Performance, onsets, show_text

BEAT = RATE // 2  # 120 bpm


def chord(notes: int, beat: float = 0, length: float = 1.0, keys=range(40, 90)) -> list[str]:
    keys = list(keys)
    return [f"[{keys[i % len(keys)]}, {beat}, {length}, 0.5]" for i in range(notes)]


def crowded_show(notes: list[str], cue: str) -> str:
    text = show_text(f'\n[[parts]]\nname = "crowd"\ninstrument = "tone"\nbus = "one"\nnotes = [{", ".join(notes)}]\n'
                     + textwrap.dedent(cue))
    return text.replace("voices = 64", "voices = 2048")


def test_a_cue_with_400_notes_at_its_first_instant_fires_them_all_on_its_sample_and_none_late():
    assert 400 > CUE_TEMPLATE_ROWS  # more than a template holds by default
    show = Performance(crowded_show(chord(400) + chord(3, beat=2), """
        [[cues]]
        number = "1M1"
        name = "Tutti"
        at = "01:00:00:00"
        actions = [{start = "crowd"}]
    """))
    show.play_until(CUE_SAMPLE + 64)
    assert show.engine.telemetry().voices == 400
    show.play_until(CUE_SAMPLE + 3 * BEAT)
    assert onsets(show.audio[:, ONE]) == [CUE_SAMPLE, CUE_SAMPLE + 2 * BEAT]
    telemetry = show.engine.telemetry()
    assert telemetry.late_events == 0 and telemetry.cue_events_dropped == 0 and telemetry.notes_refused == 0
    assert not any("truncated" in text for _, text in show.decisions())


def test_a_rehearsal_pickup_from_bar_3_sounds_its_held_chord_and_next_notes_on_time():
    # A chord held across bar 3 (beat 8), then a note on every beat: the pickup hears the chord
    # from its first sample and every note after on its own.
    notes = chord(3, beat=6, length=4) + [f"[72, {beat}, 0.5, 0.5]" for beat in range(0, 16)]
    show = Performance(crowded_show(notes, """
        [[cues]]
        number = "2M1"
        name = "Reprise"
        go = true
        actions = [{start = "crowd"}]
    """))
    for attempt in range(3):  # pickups one after another: none adds a late event
        show.play_until(RATE + attempt * 8 * BEAT)
        fired_at = show.position
        show.runner.fire("2M1", bar=3)
        show.play_until(fired_at + 64)
        assert show.engine.telemetry().voices >= 4, "the held chord and beat 8's note sound at once"
        show.play_until(fired_at + 5 * BEAT)
        pickup = show.audio[fired_at:, ONE]
        assert onsets(pickup, gap=100)[:1] == [0]
        show.runner.stop_cue("2M1")
        show.play_until(fired_at + 6 * BEAT)
    assert show.engine.telemetry().late_events == 0
    fired = [text for _, text in show.decisions("2M1") if text.startswith("fired")]
    assert fired == ["fired by hand from bar 3", "fired"] * 3


def test_more_events_at_one_instant_than_a_ring_holds_all_sound_on_time_in_a_render(tmp_path):
    path = tmp_path / "crowd.toml"
    # A note on the first beat, so the template holds it and the runner posts the crowd 2 s later.
    path.write_text(crowded_show(["[60, 0, 0.5, 0.5]"] + chord(1500, beat=4, length=0.5), ""))
    result = subprocess.run([sys.executable, "-m", "liveengine.cli", "render", str(path), "-o",
                             str(tmp_path / "out.wav")], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    assert " 0 late events, 0 refused notes" in result.stdout
