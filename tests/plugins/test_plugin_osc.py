"""Plugins over OSC: a control set on its sample (clamped to the port's range), an insert bypassed, each
plugin's state read back; and the show file's plugins, as the rig installs them."""

import numpy as np
import pytest

from liveengine.engine import OfflineRenderer
from liveengine.engine.plugins import PluginHost
from liveengine.osc.surface import OscSurface
from liveengine.show.cues import CueRunner
from liveengine.show.reader import parse_show
from liveengine.show.rig import build_rig
from lv2plugins import EPIANO, FIL4_STEREO, require
from oscpeers import ReplyCatcher

SHOW = f"""
[show]
name = "Plugins"

[buses.keys]
inserts = [{{uri = "{FIL4_STEREO}", controls = {{gain = -6.0}}}}, {{uri = "{FIL4_STEREO}", bypass = true}}]

[instruments.epiano]
type = "lv2"
uri = "{EPIANO}"
preset = "Bright"

[instruments.bell]
type = "tone"
"""


@pytest.fixture
def surface():
    require(EPIANO, FIL4_STEREO)
    rig = build_rig(parse_show(SHOW, "plugins.toml"))
    assert not rig.instrument_problems and not rig.insert_problems
    return OscSurface(rig, CueRunner(rig, rig.engine.producer("show")), rig.engine.producer("osc"))


def ask(surface, address, *args):
    client = ReplyCatcher()
    surface.answer_commands(client, True)
    surface.handle(client, address, list(args))
    (_, reply), = client.replies
    return reply


def render(surface, frames=4096):
    surface.producer.flush()
    OfflineRenderer(surface.engine.state, 256).render(frames)


def test_the_show_files_plugins_are_installed_with_their_preset_controls_and_bypass(surface):
    first, second = ask(surface, "/bus/keys/insert/1"), ask(surface, "/bus/keys/insert/2")
    assert first["status"] == "ok" and first["data"]["controls"]["gain"] == -6.0 and not first["data"]["bypassed"]
    assert second["data"]["bypassed"] and second["data"]["uri"] == FIL4_STEREO
    epiano = ask(surface, "/instrument/epiano")["data"]
    assert epiano["plugin"] == "MDA ePiano" and epiano["latency_samples"] == 0
    with PluginHost.shared().instantiate(EPIANO, 48000, 256) as default:
        defaults = {port.symbol: float(default.controls[port.index]) for port in default.description.control_inputs}
    assert any(epiano["controls"][symbol] != value for symbol, value in defaults.items()), "the preset set controls"


@pytest.mark.parametrize("sent, applied", [(3.5, 3.5), (99.0, 18.0), (-1e30, -18.0), (float("inf"), 18.0),
                                           (float("-inf"), -18.0), (7, 7.0)])
def test_a_control_value_is_clamped_to_the_ports_range_and_applied(surface, sent, applied):
    reply = ask(surface, "/bus/keys/insert/1/gain", sent)
    assert reply == {"address": "/bus/keys/insert/1/gain", "status": "ok", "data": {"value": applied}}
    render(surface)
    assert ask(surface, "/bus/keys/insert/1")["data"]["controls"]["gain"] == applied


@pytest.mark.parametrize("address, args, complaint", [
    ("/bus/keys/insert/1/gian", [1.0], "has no control 'gian'; its controls: enable, gain,"),
    ("/bus/keys/insert/3/gain", [1.0], "bus 'keys': no insert 3; the bus has 2"),
    ("/bus/strings/insert/1/gain", [1.0], "no bus 'strings'"),
    ("/instrument/bell/gain", [1.0], "instrument 'bell': it is no LV2 instrument"),
    ("/instrument/organ", [], "no instrument 'organ'"),
])
def test_what_names_no_plugin_control_is_refused_and_says_why(surface, address, args, complaint):
    reply = ask(surface, address, *args)
    assert reply["status"] == "error" and complaint in reply["data"], reply


def test_bypass_from_osc_takes_an_insert_out_and_back(surface):
    assert ask(surface, "/bus/keys/insert/1/bypass", 1)["status"] == "ok"
    render(surface)
    assert ask(surface, "/bus/keys/insert/1")["data"]["bypassed"]
    ask(surface, "/bus/keys/insert/1/bypass", 0)
    render(surface)
    assert not ask(surface, "/bus/keys/insert/1")["data"]["bypassed"]
    assert np.isfinite(surface.engine.state.plugin_values).all()


def test_a_control_change_glides_unless_the_port_is_a_switch(surface):
    plugins = surface.engine.plugins
    column = plugins.insert_column(surface.engine.state.bus_index["keys"], 1)
    description = plugins.instances[column].description
    gain, enable = description.control("gain").index, description.control("enable").index
    steps = plugins.glide(column, gain, -18.0)  # from the show's -6 dB
    assert steps == pytest.approx([-6.0 - 12.0 * (step + 1) / 8 for step in range(8)])
    assert plugins.glide(column, enable, 0.0) == [0.0], "a toggle jumps"
