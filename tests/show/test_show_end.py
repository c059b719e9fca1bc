"""Where a show ends by itself: after the last release tail, never in the middle of one, and never
later than a cap when something rings forever. Offline renders through the CLI as typed, and a
live run on a private JACK server."""

import numpy as np
import pytest
import soundfile

from commandline import liveengine
from shows import RELEASE_SECONDS, TONE, one_note_show


def level_dbfs(samples: np.ndarray) -> float:
    return 20 * np.log10(max(float(np.abs(samples).max(initial=0.0)), 1e-12))


@pytest.mark.parametrize("rate,block", [(44100, 32), (48000, 256), (96000, 1024)])
def test_a_render_ends_after_the_whole_release_tail(tmp_path, rate, block):
    show = tmp_path / "note.toml"
    show.write_text(one_note_show(rate, block, TONE))
    result = liveengine("render", show, "-o", tmp_path / "out.wav", "--subtype", "FLOAT")
    assert result.returncode == 0, result.stderr
    audio, file_rate = soundfile.read(tmp_path / "out.wav", dtype="float32")
    assert file_rate == rate
    note_off = round(0.5 * rate)
    assert len(audio) >= note_off + RELEASE_SECONDS * rate * 0.9, "the render covers the release"
    assert level_dbfs(audio[-block:]) < -90, "it ends once the tail is below -90 dBFS"
    # The tail is there all along, fading: loud just after the note-off, and still sounding
    # well into the release (the old render cut it 0.65 s after the note-off, at -39.5 dBFS).
    held = level_dbfs(audio[note_off - rate // 10:note_off])
    assert level_dbfs(audio[note_off:note_off + rate // 10]) > held - 3
    assert level_dbfs(audio[note_off + rate:note_off + rate + rate // 10]) < held - 12
    assert level_dbfs(audio[note_off + 2 * rate:note_off + 2 * rate + rate // 10]) > -100
    assert "WARNING" not in result.stderr


def test_a_render_given_seconds_stops_there_even_inside_a_tail(tmp_path):
    show = tmp_path / "note.toml"
    show.write_text(one_note_show(48000, 64, TONE))
    result = liveengine("render", show, "-o", tmp_path / "out.wav", "--seconds", "1")
    assert result.returncode == 0, result.stderr
    assert soundfile.info(tmp_path / "out.wav").frames == 48000


def test_a_sound_that_never_ends_stops_the_render_at_the_cap_and_says_so(tmp_path):
    """A looping sample with a 100 s release rings long after the show's last event: the render
    stops 60 s after it, and says why."""
    rate = 48000
    t = np.arange(rate) / rate
    soundfile.write(tmp_path / "sine.wav", (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    (tmp_path / "drone.sfz").write_text("<region> sample=sine.wav loop_mode=loop_continuous loop_start=0 "
                                        f"loop_end={rate - 1} ampeg_release=100\n")
    show = tmp_path / "drone.toml"
    show.write_text(one_note_show(rate, 1024, '[instruments.voice]\ntype = "sfz"\nfile = "drone.sfz"\n'))
    result = liveengine("render", show, "-o", tmp_path / "out.wav")
    assert result.returncode == 0, result.stderr
    assert "the render stops 60 s after the show's last event" in result.stderr
    assert "voices still sound" in result.stderr
    frames = soundfile.info(tmp_path / "out.wav").frames
    assert 60 * rate <= frames <= 62 * rate
