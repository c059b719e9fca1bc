"""Loops in the audio thread end by construction, whatever the state hands them. Each case runs in
a subprocess with a time limit: compiled code that spins cannot be interrupted from inside."""

import subprocess
import sys
import textwrap

TIME_LIMIT = 180  # seconds: a hang guard (a cold kernel cache compiles first), not a speed check


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=TIME_LIMIT)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_timecode_frame_days_away_unwraps_at_once():
    said = run("""
        from liveengine.kernel.chase import unwrap
        day = 24 * 3600 * 25.0
        print(unwrap(1e17, 0.0, day), unwrap(-1e17, 0.0, day), unwrap(day + 5.0, 3.0, day))
    """).split()
    far, near_below, next_day = map(float, said)
    day = 24 * 3600 * 25.0
    assert abs(far) <= day and abs(near_below) <= day and next_day == 5.0


def test_a_cue_that_follows_itself_cannot_hold_the_audio_thread():
    said = run("""
        import numpy as np
        from liveengine.engine import BusLayout, Engine, EngineSettings, OfflineRenderer, events
        engine = Engine(EngineSettings(max_block=64, polyphony=8, buses=(BusLayout("master", outputs=(0, 1)),)))
        producer = engine.producer("control")
        template = np.array([[0.0, events.BUS_GAIN, 0, 1.0, 0.0, 0.0, 0.0, 0.0]])
        producer.arm_cue(0, events.TRIGGER_FOLLOW, template, follows=0, wait_samples=0)
        producer.fire_cue(0)
        renderer = OfflineRenderer(engine.state, 64)
        renderer.render(64 * 4)
        print(renderer.position, engine.telemetry().cues_fired)
    """).split()
    position, fired = map(int, said)
    assert position == 256 and fired > 0
