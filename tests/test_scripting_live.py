"""The scripting API live, on a private JACK server with the dummy driver: `Engine.play()` as a
context manager, and the README's Python example run as it is written (its file names replaced by
real files), so the README and the API cannot drift apart."""

import re
import time

import numpy as np
import pytest

import liveengine
from liveengine.drivers.jackserver import PrivateJackServer, realtime_allowed

from commandline import DEMO, ROOT
from examplefiles import BANK, needs_bank, piano, song

# JACK clients in the test process: JACK2 keeps one set of client state per process, so
# `.ci/run` runs this file in a process of its own.
pytestmark = pytest.mark.jack_process


@pytest.fixture(scope="module")
def server():
    with PrivateJackServer(sample_rate=48000, period=256, realtime=realtime_allowed()) as running:
        yield running


def test_play_sounds_a_note_now_plus_the_scheduling_latency_and_continues_the_timeline(server, tmp_path):
    engine = liveengine.Engine(sample_rate=48000)
    instrument = engine.load(piano(tmp_path))
    instrument.note_on(60, at=0.0)  # scheduled before the stream starts: it plays at its start
    with engine.play() as playing:
        assert playing is engine
        time.sleep(0.2)
        assert engine._engine.telemetry().voices == 1
        instrument.note_off(60)
        asked = time.monotonic()
        instrument.note_on(64)
        while engine._engine.telemetry().voices == 0 and time.monotonic() - asked < 2.0:
            time.sleep(0.002)
        sounding = engine._engine.telemetry()
        assert sounding.voices == 1 and max(sounding.buses["master"].peak_dbfs) > -20
        with pytest.raises(ValueError, match="is in the past: the engine has played"):
            instrument.note_on(60, at=0.0)
        with pytest.raises(RuntimeError, match="while the engine plays live"):
            engine.render(seconds=0.1)
        instrument.note_off(64)
        time.sleep(0.1)
    played = engine.time
    assert played > 0.3
    # Scheduled before the stream started, the first note was in the ring for its first block. (A note
    # given now may come late on a loaded machine: it is then counted, and sounds a block later.)
    assert all(late.wanted_sample != 0 for late in engine._engine.late_events)
    audio = engine.render(seconds=0.1)  # offline again, where the stream stopped
    assert engine.time == pytest.approx(played + 0.1, abs=1 / 48000) and not audio.any()


def test_show_run_plays_a_show_live_through_a_session(server, tmp_path):
    (tmp_path / "show.toml").write_text("""
[show]
name = "one note"
[audio]
sample_rate = 48000
block_size = 256
[osc]
enabled = false
[instruments.voice]
type = "tone"
[[parts]]
name = "tune"
instrument = "voice"
notes = [["A4", 0, 0.5, 0.5]]
""")
    show = liveengine.Show.load(tmp_path / "show.toml")
    session = show.run(seconds=1.5, console=False)
    t = session.engine.telemetry()
    assert t.callbacks > 0 and t.position >= 1.5 * 48000 and t.voices == 0
    assert [decision.text for decision in session.runner.decisions][-1] == "fired"
    assert session.runner.finished() and not session.interrupted
    assert session.summary()[0].startswith("Audio: ")


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python API"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@needs_bank
def test_the_readme_example_runs_as_written(server, tmp_path, monkeypatch):
    code = readme_example()
    assert "engine.play(device=None)" in code and 'liveengine.render_midi("song.mid"' in code
    piano(tmp_path)
    song(tmp_path / "song.mid")
    (tmp_path / "FluidR3_GM.sf2").symlink_to(BANK)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "demo.toml").symlink_to(DEMO)
    monkeypatch.chdir(tmp_path)
    names = {}
    exec(compile(code, "README.md", "exec"), names)
    audio = names["audio"]
    assert audio.shape == (48000, 2) and np.flatnonzero(audio[:, 0])[0] == 0
    assert (tmp_path / "out.wav").stat().st_size > 1000 and (tmp_path / "demo.wav").stat().st_size > 1000
