"""A show whose LV2 plugins go wrong, as typed: a plugin that is not installed, one that requires a host
feature liveengine does not give, one that does not declare lv2:hardRTCapable, a preset that does not
exist. `liveengine check` names each (the instrument or the bus insert, the plugin, and why) and fails;
`liveengine render` plays the rest of the show as if they were not there, and says what it left out."""

import os

import numpy as np
import pytest
import soundfile

from commandline import liveengine
from lv2plugins import DX10, FIL4_STEREO, lv2_path_with, require, write_stereo_effect_bundle

NOT_INSTALLED = "http://example.org/lv2/ghost-organ"
NEEDS_LOG = "urn:liveengine:test:needs-log"
NOT_REALTIME = "urn:liveengine:test:not-realtime"
LOG_FEATURE = "http://lv2plug.in/ns/ext/log#log"

SHOW_HEAD = """
[show]
name = "Plugins gone wrong"
tempo = 60
[audio]
sample_rate = 48000
block_size = 256
output_channels = 2
input_channels = 0
[osc]
enabled = false
[timecode]
source = "none"
rate = "25"
"""
# What plays: a DX10 and a tone on the keys, through an EQ taking 6 dB off.
GOOD = f"""
[instruments.synth]
type = "lv2"
uri = "{DX10}"
[instruments.voice]
type = "tone"
[[parts]]
name = "synth"
instrument = "synth"
bus = "keys"
notes = [["C4", 0, 0.5, 0.8], ["G4", 0.5, 0.5, 0.8]]
[[parts]]
name = "voice"
instrument = "voice"
bus = "keys"
notes = [["A4", 0.25, 0.5, 0.5]]
"""
GOOD_INSERTS = f"""
[buses.keys]
inserts = [{{uri = "{FIL4_STEREO}", controls = {{gain = -6.0}}}}]
"""
# What goes wrong: an instrument that is not installed, a preset that does not exist, an insert before the EQ
# that needs the log feature, and an insert on master that may block the audio thread.
BROKEN = f"""
[instruments.ghost]
type = "lv2"
uri = "{NOT_INSTALLED}"
[instruments.piano]
type = "lv2"
uri = "{DX10}"
preset = "Bright Piano"
[[parts]]
name = "ghost"
instrument = "ghost"
bus = "keys"
notes = [["E4", 0, 1, 0.8]]
[[parts]]
name = "piano"
instrument = "piano"
bus = "keys"
notes = [["C5", 0, 1, 0.8]]
"""
BROKEN_INSERTS = f"""
[buses.keys]
inserts = [{{uri = "{NEEDS_LOG}"}}, {{uri = "{FIL4_STEREO}", controls = {{gain = -6.0}}}}]
[buses.master]
outputs = [1, 2]
inserts = [{{uri = "{NOT_REALTIME}"}}]
"""
LEFT_OUT = {"instrument": "the instrument is left out, its notes are refused",
            "bus": "the bus plays on without it"}
# Each fault's message, by where it is in the show: the plugin and why (then what becomes of it, LEFT_OUT).
EXPECTED = {
    "instrument ghost": f"no LV2 plugin <{NOT_INSTALLED}> is installed; `liveengine plugins` lists the installed "
                        "ones",
    "instrument piano": f"MDA DX10 <{DX10}> has no preset 'Bright Piano' (did you mean 'Bright E.Piano'?); its "
                        "presets are: 'Bright E.Piano', ",
    "bus keys insert 1": f"cannot host the LV2 plugin Logging Reverb <{NEEDS_LOG}>: it requires the host feature "
                         f"<{LOG_FEATURE}>, which liveengine does not give",
    "bus master insert 1": f"cannot host the LV2 plugin Blocking Reverb <{NOT_REALTIME}>: it does not declare "
                           "lv2:hardRTCapable, so it may block the audio thread",
}


def is_reported(text: str, where: str) -> bool:
    """Whether `text` (one problem) is EXPECTED's for `where`, and says what becomes of it."""
    return text.startswith(EXPECTED[where]) and text.endswith(f": {LEFT_OUT[where.split()[0]]}")


@pytest.fixture
def shows(tmp_path):
    """(the broken show, the same show without what goes wrong), and the environment that finds the two
    description-only plugins."""
    require(DX10, FIL4_STEREO)
    bundles = tmp_path / "lv2"
    write_stereo_effect_bundle(bundles, NEEDS_LOG, "Logging Reverb", required=(LOG_FEATURE,))
    write_stereo_effect_bundle(bundles, NOT_REALTIME, "Blocking Reverb", hard_rt_capable=False)
    broken, clean = tmp_path / "broken.toml", tmp_path / "clean.toml"
    broken.write_text(SHOW_HEAD + GOOD + BROKEN + BROKEN_INSERTS)
    clean.write_text(SHOW_HEAD + GOOD + GOOD_INSERTS)
    return broken, clean, dict(os.environ, LV2_PATH=lv2_path_with(bundles))


def lines_naming(output: str, where: str) -> list[str]:
    return [line for line in output.splitlines() if f" {where}: " in f" {line}"]


def test_check_names_each_plugin_that_goes_wrong_and_why(shows):
    broken, clean, env = shows
    result = liveengine("check", broken, env=env)
    assert result.returncode != 0
    for where in EXPECTED:
        (line,) = lines_naming(result.stderr, where)
        assert line.startswith(f"{broken}: {where}: ") and is_reported(line.split(f"{where}: ", 1)[1], where), line
    for fine in ("instrument synth", "instrument voice", "bus keys insert 2"):
        assert not lines_naming(result.stderr, fine), result.stderr
    assert liveengine("check", clean, env=env).returncode == 0


def rendered(show, env, output) -> tuple[np.ndarray, list[str]]:
    """`liveengine render SHOW -o OUTPUT` as typed: what it wrote, and the lines it said."""
    result = liveengine("render", show, "-o", output, "--subtype", "FLOAT", env=env)
    assert result.returncode == 0, result.stderr
    return soundfile.read(output, dtype="float32")[0], (result.stdout + result.stderr).splitlines()


def test_render_plays_the_rest_of_the_show_and_says_what_it_left_out(shows, tmp_path):
    broken, clean, env = shows
    played, lines = rendered(broken, env, tmp_path / "broken.wav")
    reference, _ = rendered(clean, env, tmp_path / "clean.wav")
    for where in EXPECTED:
        (warning,) = [number for number, line in enumerate(lines) if line.startswith(f"WARNING: {where}: ")]
        assert lines[warning] == f"WARNING: {where}: 1 problem:", lines[warning]
        assert lines[warning + 1].startswith("  ") and is_reported(lines[warning + 1][2:], where), lines[warning + 1]
    for name in ("ghost", "piano"):
        assert f"  instrument {name}: 1 note refused: the instrument is not loaded" in lines, lines
    assert np.abs(reference).max() > 0.05, "the DX10 and the tone sound"
    assert np.array_equal(played, reference), "the rest plays as if the show were only the rest"
