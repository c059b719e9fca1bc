"""LV2 plugins' control ports over OSC, from real sockets: a query leaves what plays alone, a burst or a
flood of values to one port ends on the last of them, and a storm of random values to a live show's plugins
is clamped to each port's range, NaN refused, and costs the engine no cycle."""

import math
import os
import random
import re
import signal
import time

import numpy as np
from pythonosc.osc_message_builder import OscMessageBuilder

from commandline import Run
from idleclient import ReferenceClient, within_scheduling_noise
from liveengine.engine import OfflineRenderer
from liveengine.instruments import lv2
from lv2plugins import DPL_STEREO, DX10, FIL4_STEREO, require
from oscpeers import Surface, UdpPeer, free_port

BLOCK_SIZE = 256
PLUGIN_SHOW = f"""
[show]
name = "Plugins over OSC"
tempo = 60
[audio]
sample_rate = 48000
block_size = {BLOCK_SIZE}
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
            renderer = OfflineRenderer(osc.rig.engine.state, BLOCK_SIZE)
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


def test_a_burst_of_values_to_one_control_ends_on_the_last_one():
    """Three hundred values to one port, all due in the same block (the engine plays no block until every
    reply is in): the port holds the last of them, as the replies said, not one the block had room for."""
    require(DX10, FIL4_STEREO, DPL_STEREO)
    rng = random.Random(300)
    values = [float(rng.randint(-18, 18)) for _ in range(300)]
    with Surface(show=PLUGIN_SHOW) as osc:
        peer = UdpPeer()
        peer.send(osc.port, "/replies", 1)
        assert peer.reply()[1]["status"] == "ok"
        for value in values:  # each answered before the next (a datagram burst may overflow the socket)
            peer.send(osc.port, "/bus/keys/insert/1/gain", value)
            assert peer.reply()[1]["data"]["value"] == value
        OfflineRenderer(osc.rig.engine.state, BLOCK_SIZE).render_block()
        peer.send(osc.port, "/bus/keys/insert/1")
        assert peer.reply()[1]["data"]["controls"]["gain"] == values[-1]



def test_a_flood_of_changes_on_every_frame_of_a_block_ends_on_the_last_value_and_crowds_out_no_other():
    """Two hundred changes of one port on successive frames of one block (more than a block's table holds,
    as a glide's steps under a burst of values may be), then one of another port: the first ends on the last
    of its values, and the other port takes its own."""
    require(DX10, FIL4_STEREO, DPL_STEREO)
    with Surface(show=PLUGIN_SHOW) as osc:
        engine = osc.rig.engine
        column = engine.plugins.insert_column(engine.state.bus_index["keys"], 1)
        instance = engine.plugins.instances[column]
        gain, shelf = (instance.description.control(symbol).index for symbol in ("gain", "LSgain"))
        values = [-18.0 + 36.0 * frame / 199 for frame in range(200)]
        producer = engine.producer("control")
        for frame, value in enumerate(values):
            producer.plugin_control(column, gain, value, sample=frame)
        producer.plugin_control(column, shelf, 9.0, sample=200)
        OfflineRenderer(engine.state, BLOCK_SIZE).render_block()
        assert (instance.controls[gain], instance.controls[shelf]) == (np.float32(values[-1]), 9.0)

# The plugins of PLUGIN_SHOW by the addresses of their controls.
TARGETS = {"/instrument/dx": DX10, "/bus/keys/insert/1": FIL4_STEREO, "/bus/keys/insert/2": DPL_STEREO}
VALUES = 10_000
BURST = 100  # values sent at once (a socket's receive buffer holds them); then their replies, and a read-back
# What a value sent live needs to be in place: the scheduling latency (two blocks), a glide over the
# de-zipper time (5 ms), and the block that applies its last step.
SETTLE_BLOCKS = 8


def live_plugin_show(port: int) -> str:
    """PLUGIN_SHOW on OSC port `port`, taking the storm whole, its DX10 playing a chord through both inserts."""
    return PLUGIN_SHOW.replace("[timecode]", f"""[osc]
port = {port}
messages_per_second = 100000
[timecode]""") + """
[[parts]]
name = "chord"
instrument = "dx"
bus = "keys"
notes = [["C4", 0, 600, 0.5], ["E4", 0, 600, 0.5], ["G4", 0, 600, 0.5]]
[[cues]]
number = "1"
at = "01:00:00:00"
actions = [{start = "chord"}]
"""


def random_value(rng: random.Random, port: lv2.ControlPort) -> tuple[float, str]:
    """(a value, its OSC type tag): in and out of the port's range, huge, infinite, NaN; floats of 32 and 64
    bits, integers of 32 and 64."""
    low, high = port.minimum, port.maximum
    span = high - low
    return rng.choice([
        lambda: (rng.uniform(low, high), "f"),
        lambda: (rng.choice([low - rng.uniform(0, 10 * span + 1), high + rng.uniform(0, 10 * span + 1)]), "f"),
        lambda: (rng.choice([1e30, -1e30, 3.4e38, -3.4e38]), "f"),
        lambda: (rng.choice([math.inf, -math.inf]), rng.choice("fd")),
        lambda: (math.nan, rng.choice("fd")),
        lambda: (rng.randint(math.floor(low) - 100, math.ceil(high) + 100), "i"),
        lambda: (rng.choice([2 ** 31 - 1, -2 ** 31]), "i"),
        lambda: (rng.choice([2 ** 62, -2 ** 62]), "h"),
        lambda: (rng.choice([rng.uniform(low - span, high + span), 1e300, -1e300, 5e-324, -0.0]), "d"),
    ])()


def as_received(value: float, type_tag: str) -> float:
    """The number the engine reads: a 32-bit float is rounded to one."""
    return float(np.float32(value)) if type_tag == "f" else float(value)


def send_typed(peer: UdpPeer, port: int, address: str, value, type_tag: str):
    builder = OscMessageBuilder(address)
    builder.add_arg(value, type_tag)
    peer.sock.sendto(builder.build().dgram, ("127.0.0.1", port))


def reply_to(peer: UdpPeer, address: str) -> dict:
    """The reply to `address` (the show's own feed or stray replies aside)."""
    while True:
        reply_address, reply = peer.reply()
        if reply_address == f"/reply{address}":
            return reply


def ask(peer: UdpPeer, port: int, address: str) -> dict:
    peer.send(port, address)
    reply = reply_to(peer, address)
    assert reply["status"] == "ok", reply
    return reply["data"]


def let_blocks_play(peer: UdpPeer, port: int, blocks: int, block_size: int):
    """Wait until the engine has played `blocks` more blocks."""
    until = ask(peer, port, "/state")["position_samples"] + blocks * block_size
    while ask(peer, port, "/state")["position_samples"] < until:
        time.sleep(0.002)


def test_ten_thousand_random_control_values_are_clamped_to_each_ports_range_live(tmp_path):
    """`liveengine run` on a private JACK server, its OSC from a real socket: each value is answered with the
    value set, the port's range holding it (NaN refused), and read back as set; the engine misses no more
    cycles than an idle client of the same server."""
    require(DX10, FIL4_STEREO, DPL_STEREO)
    osc_port = free_port()
    show = tmp_path / "plugins.toml"
    show.write_text(live_plugin_show(osc_port))
    ports = {address: lv2.describe(uri).control_inputs for address, uri in TARGETS.items()}
    rng = random.Random(16)
    run, peer, reference = Run(show), UdpPeer(), None
    try:
        server = re.search(r"private JACK server '([^']+)'", run.wait_for(re.compile("private JACK server"))[-1])[1]
        deadline = time.monotonic() + 120
        while True:  # until the show plays and its OSC answers
            assert time.monotonic() < deadline and run.process.poll() is None, run.output
            peer.send(osc_port, "/ping")
            try:
                if reply_to(peer, "/ping")["data"] == "pong":
                    break
            except TimeoutError:
                pass
        expected = {}  # every control input's value as set: at first, as the show set it
        for address in TARGETS:
            controls = ask(peer, osc_port, address)["controls"]
            expected[address] = {port.symbol: controls[port.symbol] for port in ports[address]}
        reference = ReferenceClient(env=dict(os.environ, JACK_DEFAULT_SERVER=server))
        dropouts_before = ask(peer, osc_port, "/state")["dropouts"]
        peer.send(osc_port, "/replies", 1)
        assert reply_to(peer, "/replies")["status"] == "ok"
        refused = 0
        for _ in range(VALUES // BURST):
            target = rng.choice(list(TARGETS))
            sent = [(port, *random_value(rng, port)) for port in rng.choices(ports[target], k=BURST)]
            for port, value, type_tag in sent:  # to one plugin, as fast as the socket takes them
                send_typed(peer, osc_port, f"{target}/{port.symbol}", value, type_tag)
            for port, value, type_tag in sent:
                address = f"{target}/{port.symbol}"
                reply = reply_to(peer, address)
                received = as_received(value, type_tag)
                if math.isnan(received):
                    assert reply["status"] == "error" and "NaN" in reply["data"], reply
                    refused += 1
                    continue
                clamped = min(port.maximum, max(port.minimum, received))
                assert reply == {"address": address, "status": "ok", "data": {"value": clamped}}, (value, type_tag)
                expected[target][port.symbol] = float(np.float32(clamped))
            let_blocks_play(peer, osc_port, SETTLE_BLOCKS, BLOCK_SIZE)
            for address, values in expected.items():
                controls = ask(peer, osc_port, address)["controls"]
                assert {symbol: controls[symbol] for symbol in values} == values, address
        dropouts = ask(peer, osc_port, "/state")["dropouts"] - dropouts_before
        reference_late = reference.late_cycles()
    finally:
        peer.sock.close()
        if reference is not None and reference.process.poll() is None:
            reference.process.kill()
        run.process.send_signal(signal.SIGINT)
        code = run.finish()
    assert code == 130 and "Traceback" not in run.output, run.output[-3000:]
    assert 0 < refused < VALUES // 5
    assert within_scheduling_noise(dropouts, reference_late), f"the engine missed {dropouts} cycles, an idle client " \
                                                          f"{reference_late}"
