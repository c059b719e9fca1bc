"""LV2 plugins' control ports over OSC, from real sockets: a query leaves what plays alone."""

import numpy as np

from liveengine.engine import OfflineRenderer
from lv2plugins import DPL_STEREO, DX10, FIL4_STEREO, require
from oscpeers import Surface, UdpPeer

PLUGIN_SHOW = f"""
[show]
name = "Plugins over OSC"
tempo = 60
[audio]
sample_rate = 48000
block_size = 256
output_channels = 2
input_channels = 0
[timecode]
source = "none"
rate = "25"
[instruments.dx]
type = "lv2"
uri = "{DX10}"
[buses.keys]
inserts = [{{uri = "{FIL4_STEREO}", controls = {{gain = -3.0}}}}, {{uri = "{DPL_STEREO}"}}]
"""
CHORD = (60, 64, 67, 72)


def play_chord(osc: Surface):
    """The chord on the DX10, posted straight to the engine: the renders compared must be the same."""
    producer, dx = osc.rig.engine.producer("control"), osc.rig.instrument_numbers["dx"]
    for note, key in enumerate(CHORD):
        producer.note_on(1000 * note, note, dx, key, 0.9, "keys")


def test_querying_a_plugin_while_the_show_plays_leaves_its_sound_alone():
    """The queries read the plugins as they play (the limiter reports its look-ahead); they never run a
    plugin the audio thread runs."""
    require(DX10, FIL4_STEREO, DPL_STEREO)
    renders = []
    for queried in (False, True):
        with Surface(show=PLUGIN_SHOW) as osc:
            play_chord(osc)
            renderer = OfflineRenderer(osc.rig.engine.state, 256)
            before = renderer.render(48000).copy()
            if queried:
                peer = UdpPeer()
                for address in ("/bus/keys/insert/1", "/bus/keys/insert/2", "/instrument/dx"):
                    peer.send(osc.port, address)
                    reply_address, reply = peer.reply()
                    assert (reply_address, reply["status"]) == (f"/reply{address}", "ok"), reply
                    if address == "/bus/keys/insert/2":
                        assert reply["data"]["latency_samples"] > 0, reply
            renders.append(np.concatenate([before, renderer.render(48000)]))
    assert np.abs(renders[0]).max() > 0.05, "the chords play through the inserts"
    assert np.array_equal(renders[0], renders[1])
