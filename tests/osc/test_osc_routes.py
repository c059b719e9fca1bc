"""The OSC address space as a table of routes: the README's table of addresses is the table's own,
every route's arguments are checked before anything is carried out, and each address finds its route."""

import re
from pathlib import Path

import pytest

from liveengine.show.reader import parse_show
from liveengine.kernel.rings import ring_fill
from liveengine.osc.routes import ADDRESS_SPACE, CommandError
from liveengine.osc.surface import OscSurface
from liveengine.show.cues import CueRunner
from liveengine.show.rig import build_rig

from oscpeers import ReplyCatcher

README = Path(__file__).resolve().parents[2] / "README.md"
SHOW = """
[show]
name = "Routes"
[instruments.tone]
type = "tone"
[[cues]]
number = "1M1"
go = true
actions = [{gain = "keys", db = -6}]
"""


def osc_ring_fill(surface) -> int:
    return int(ring_fill(surface.engine.state.input_rings["osc"].indices))


@pytest.fixture
def surface():
    rig = build_rig(parse_show(SHOW, "routes.toml"))
    return OscSurface(rig, CueRunner(rig, rig.engine.producer("show")), rig.engine.producer("osc"))


def test_the_readme_table_of_addresses_is_the_table_of_routes():
    readme = README.read_text(encoding="utf-8")
    assert ADDRESS_SPACE.markdown_table() in readme
    documented = set(re.findall(r"^\| `(/[^`]*)` \|", readme, re.MULTILINE))
    assert documented == {route.pattern for route in ADDRESS_SPACE.routes} | {"/seq/{n}/..."}


@pytest.mark.parametrize("address, route", [
    ("/go", "/go"), ("/cue/1M3/start", "/cue/{number}/start"), ("/cue/1M3/standby", "/cue/{number}/standby"),
    ("/bus/keys/gain", "/bus/{name}/gain"), ("/setup/organ", "/setup/{name}"), ("/state", "/state"),
])
def test_each_address_finds_its_route_and_the_parts_of_its_pattern(address, route):
    found, parts = ADDRESS_SPACE.find(address)
    assert found.pattern == route
    assert set(parts) == set(re.findall(r"\{(\w+)\}", route))


@pytest.mark.parametrize("address", ["/cue/1M3", "/cue/1M3/start/now", "/bus//gain", "/gone", "go", ""])
def test_an_address_no_route_has_is_unknown(address):
    with pytest.raises(CommandError, match="unknown address"):
        ADDRESS_SPACE.find(address)


WRONG_ARGUMENTS = [
    ("/go", [1], "/go: expected no arguments, got [1]"),
    ("/stop", ["soon"], "/stop fade seconds: expected a number, got 'soon'"),
    ("/stop", [601.0], "/stop: expected at most one fade time, 0 to 600 seconds"),
    ("/stop", [1, 2], "/stop: expected at most one fade time"),
    ("/stop", [float("nan")], "/stop fade seconds: expected a number, got nan"),
    ("/cue/1M1/start", [0], "/cue/1M1/start: expected no arguments, or a bar number from 1"),
    ("/cue/1M1/start", [2.0], "expected no arguments, or a bar number"),
    ("/cue/1M1/start", [True], "expected no arguments, or a bar number"),
    ("/cue/1M1/stop", ["now"], "expected no arguments"),
    ("/bus/keys/gain", [], "/bus/keys/gain: expected dB from -96 to 12"),
    ("/bus/keys/gain", [13], "/bus/keys/gain: expected dB from -96 to 12"),
    ("/bus/keys/gain", [-6, "slowly"], "/bus/keys/gain fade: expected a number, got 'slowly'"),
    ("/bus/keys/gain", [-6, 601], "/bus/keys/gain: expected dB from -96 to 12 and an optional fade time"),
    ("/bus/keys/mute", [2], "/bus/keys/mute: expected 1 (mute) or 0"),
    ("/bus/keys/mute", [b"\x01"], "/bus/keys/mute: expected a number"),
    ("/bus/nowhere/mute", [1], "no bus 'nowhere'; buses: master"),
    ("/locate", [], '/locate: expected one timecode string, like "01:00:00:00"'),
    ("/locate", [3600], "/locate: expected one timecode string"),
    ("/locate", ["25:00:00:00"], "/locate: "),
    ("/setup/organ", [1], "/setup/organ: expected at most one argument, the keyboard's name"),
    ("/setup/organ", [], "no keyboard setup 'organ': this show has no keyboards"),
    ("/replies", [0.5], "/replies: expected 1 (answer my commands) or 0"),
    ("/subscribe", [0], "/subscribe: expected a rate above 0 and up to 30 Hz"),
    ("/subscribe", [10, 70000], "/subscribe: expected a rate above 0"),
    ("/subscribe", [10, 9000.5], "/subscribe: expected a rate above 0"),
    ("/subscribe", ["fast"], "/subscribe rate: expected a number, got 'fast'"),
    ("/unsubscribe", ["now"], "/unsubscribe: expected no arguments"),
    ("/bus/keys/insert/1/gain", ["loud"], "/bus/keys/insert/1/gain: expected one number (not NaN)"),
    ("/bus/keys/insert/1/gain", [float("nan")], "/bus/keys/insert/1/gain: expected one number (not NaN)"),
    ("/bus/keys/insert/1/bypass", [2], "/bus/keys/insert/1/bypass: expected 1 (bypass) or 0"),
    ("/instrument/piano/treble_boost", [], "/instrument/piano/treble_boost: expected one number (not NaN)"),
]


@pytest.mark.parametrize("address, args, complaint", WRONG_ARGUMENTS)
def test_wrong_arguments_are_answered_and_nothing_is_carried_out(surface, address, args, complaint):
    client = ReplyCatcher()
    surface.handle(client, f"/seq/7{address}", args)
    (reply_address, reply), = client.replies
    assert reply_address == f"/reply/seq/7{address}" and reply["status"] == "error"
    assert complaint in reply["data"]
    assert surface.errors == 1 and surface.commands_carried_out == 0
    assert osc_ring_fill(surface) == 0 and surface.runner.commands.empty()


def test_every_route_that_takes_arguments_has_a_wrong_one_tested():
    tested = {ADDRESS_SPACE.find(address)[0].pattern for address, _, _ in WRONG_ARGUMENTS}
    assert tested >= {route.pattern for route in ADDRESS_SPACE.routes if route.arguments}


def test_arguments_left_out_take_their_defaults(surface):
    route, _ = ADDRESS_SPACE.find("/subscribe")
    assert route.check("/subscribe", []) == (10.0, None)
    assert route.check("/subscribe", [30, 9000]) == (30.0, 9000.0)
    assert ADDRESS_SPACE.find("/stop")[0].check("/stop", []) == (3.0,)
    assert ADDRESS_SPACE.find("/bus/keys/gain")[0].check("/bus/keys/gain", [-6]) == (-6.0, 0.0)


def test_queries_and_subscribe_are_always_answered_and_are_not_commands(surface):
    assert set(ADDRESS_SPACE.always_answered) == {"/cuelist", "/buses", "/setups", "/state", "/ping", "/subscribe",
                                                  "/bus/{name}/insert/{n}", "/instrument/{name}"}
    client = ReplyCatcher()
    surface.handle(client, "/ping", [])
    surface.handle(client, "/subscribe", [5])
    assert client.replies[0] == ("/reply/ping", {"address": "/ping", "status": "ok", "data": "pong"})
    assert client.replies[1][0] == "/reply/subscribe" and client.replies[1][1]["data"]["rate"] == 5.0
    assert surface.feed.subscribers == 1 and surface.commands_carried_out == 0
    surface.handle(client, "/bus/keys/mute", [1])  # a command: carried out, answered only when asked
    assert surface.commands_carried_out == 1 and len(client.replies) == 2 and osc_ring_fill(surface) == 1
    surface.handle(client, "/go", [])
    assert surface.commands_carried_out == 2 and surface.runner.commands.qsize() == 1
