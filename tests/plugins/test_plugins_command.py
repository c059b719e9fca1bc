"""`liveengine plugins` as typed: the installed LV2 plugins it can host, and those it cannot, with why."""

import os
import textwrap

from commandline import liveengine
from lv2plugins import CONVOLV_STEREO, EPIANO, require


def sections(output: str) -> tuple[str, str]:
    """The command's two lists: what liveengine can host, what it cannot."""
    hostable, refused = output.split("\nLV2 plugins liveengine cannot host")
    return hostable, refused


def line_of(section: str, uri: str) -> str:
    (line,) = [line for line in section.splitlines() if f"<{uri}>" in line]
    return line


def test_lists_epiano_as_an_instrument_with_its_presets():
    require(EPIANO, CONVOLV_STEREO)
    result = liveengine("plugins")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("LV2 plugins liveengine can host with blocks of 256 frames (")
    hostable, refused = sections(result.stdout)
    assert line_of(hostable, EPIANO).split() == [
        "instrument", f"<{EPIANO}>", "MDA", "ePiano", "[Instrument];", "presets:",
        "Autopan,", "Bright,", "Default,", "Mellow,", "Tremolo"]
    assert line_of(hostable, CONVOLV_STEREO).split()[0] == "effect"
    assert f"<{EPIANO}>" not in refused and f"<{CONVOLV_STEREO}>" not in refused


def test_convolv_is_refused_at_a_block_of_32_with_why():
    require(CONVOLV_STEREO)
    result = liveengine("plugins", "--block", "32")
    assert result.returncode == 0, result.stderr
    hostable, refused = sections(result.stdout)
    assert f"<{CONVOLV_STEREO}>" not in hostable
    assert line_of(refused, CONVOLV_STEREO) == (
        f"  <{CONVOLV_STEREO}>  LV2 Convolution Stereo: it needs blocks of at least 64 frames "
        "(buf-size:minBlockLength), above the block size 32")


def test_a_plugin_asking_for_what_liveengine_does_not_give_is_listed_with_every_reason(tmp_path):
    """A plugin bundle of its own (descriptions only: nothing is instantiated), found through LV2_PATH."""
    require()
    bundle = tmp_path / "strict.lv2"
    bundle.mkdir()
    (bundle / "manifest.ttl").write_text(textwrap.dedent("""\
        @prefix lv2:  <http://lv2plug.in/ns/lv2core#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <urn:liveengine:test:strict> a lv2:Plugin ; lv2:binary <strict.so> ; rdfs:seeAlso <strict.ttl> .
        """))
    (bundle / "strict.ttl").write_text(textwrap.dedent("""\
        @prefix doap: <http://usefulinc.com/ns/doap#> .
        @prefix lv2:  <http://lv2plug.in/ns/lv2core#> .
        <urn:liveengine:test:strict> a lv2:Plugin, lv2:ReverbPlugin ;
            doap:name "Strict Reverb" ;
            lv2:requiredFeature <http://lv2plug.in/ns/ext/log#log> ;
            lv2:port [ a lv2:InputPort, lv2:CVPort ; lv2:index 0 ; lv2:symbol "mod" ; lv2:name "Modulation" ] ,
                     [ a lv2:OutputPort, lv2:AudioPort ; lv2:index 1 ; lv2:symbol "out" ; lv2:name "Out" ] .
        """))
    result = liveengine("plugins", env={**os.environ, "LV2_PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("LV2 plugins liveengine can host with blocks of 256 frames (0):")
    _, refused = sections(result.stdout)
    assert line_of(refused, "urn:liveengine:test:strict") == (
        "  <urn:liveengine:test:strict>  Strict Reverb: "
        "it requires the host feature <http://lv2plug.in/ns/ext/log#log>, which liveengine does not give; "
        "it does not declare lv2:hardRTCapable, so it may block the audio thread; "
        "it has the port 'mod' (a CV port), which liveengine cannot connect")


def test_no_plugins_installed_says_what_to_install(tmp_path):
    require()
    result = liveengine("plugins", env={**os.environ, "LV2_PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "No LV2 plugins are installed" in result.stdout
    assert "sudo apt install mda-lv2 x42-plugins dragonfly-reverb-lv2" in result.stdout


def test_a_block_size_out_of_range_is_a_usage_error():
    result = liveengine("plugins", "--block", "16")
    assert result.returncode == 2 and "block size must be 32 to 1024, got 16" in result.stderr

