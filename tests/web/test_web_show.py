"""The show file's [web] table and [[hits]]: read as written, and every mistake said by name."""

import asyncio
import json
import re
import socket
import time

import aiohttp

import pytest

from liveengine.show.reader import ShowFileError, load_show
from commandline import liveengine
from webshow import TOKEN, LiveShow, free_port, web_show


def read(tmp_path, text):
    path = tmp_path / "show.toml"
    path.write_text(text)
    return load_show(path)


def test_web_and_hits_are_read(tmp_path):
    show = read(tmp_path, web_show(8123))
    assert show.web.enabled and show.web.port == 8123 and show.web.bind == ("127.0.0.1",)
    punch, flutter = show.hits
    assert (punch.kind, punch.cue, punch.bar, punch.beat, punch.color) == ("punch", "1M1", 3, 1, "red")
    assert (flutter.kind, str(flutter.timecode), flutter.punches) == ("flutter", "01:10:00:00", 3)


@pytest.mark.parametrize("extra, said", [
    ('[[hits]]\ncue = "1M2"\nat = "1.1"', "cue 1M2 starts no click track"),
    ('[[hits]]\ncue = "1M1"\nat = "999.1"', "has no bar 999 beat 1"),
    ('[[hits]]\nat = "3.1"', "expected either timecode"),
    ('[[hits]]\ntimecode = "01:00:01:00"\nkind = "flash"', "kind"),
    ('[[hits]]\ntimecode = "01:00:01:00"\nkind = "flutter"\npunches = 4', "punches"),
    ('[[hits]]\ntimecode = "01:00:01:00"\ncolor = "mauve"', "colour"),
])
def test_a_wrong_hit_is_said_by_name(tmp_path, extra, said):
    with pytest.raises(ShowFileError, match=said):
        read(tmp_path, web_show(8123) + extra)


def test_a_short_token_is_refused(tmp_path):
    with pytest.raises(ShowFileError, match="token"):
        read(tmp_path, web_show(8123, token="short"))


def test_run_stops_before_any_sound_when_the_pages_port_is_taken(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        path = tmp_path / "show.toml"
        path.write_text(web_show(port))
        done = liveengine("run", path, "--jack-dummy", "--seconds", "5")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"cannot serve the pages on port {port} of 127.0.0.1" in output
    assert "Starting a private JACK server" not in output  # stopped before the audio started


def test_run_prints_the_pages_and_the_control_token_it_made(tmp_path):
    path = tmp_path / "show.toml"
    port = free_port()
    path.write_text(web_show(port, token=None))
    done = liveengine("run", path, "--jack-dummy", "--seconds", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Pages: http://127.0.0.1:{port}/conductor" in done.stdout
    assert f"Pages: http://127.0.0.1:{port}/engineer" in done.stdout
    assert (f"  pages: port {port} on 127.0.0.1, clients 127.0.0.1/32, ::1/128, no view token; "
            "2 hits of the show's own") in done.stdout
    token = re.search(r"Control token for GO, stop and faders: (\S+) \(open /engineer\?token=\1\)", done.stdout)
    assert token and len(token.group(1)) >= 16


def test_without_osc_the_pages_actions_still_reach_the_cue_runner_once(tmp_path):
    show = LiveShow(tmp_path, seconds=30, osc=False)

    async def go_twice():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"ws://127.0.0.1:{show.port}/ws?page=engineer&token={TOKEN}") as ws:
                replies = []
                for sent in range(2):  # the second as a page resends an action whose reply it lost: carried out once
                    await ws.send_str(json.dumps({"type": "action", "seq": 7, "address": "/go", "args": []}))
                    while len(replies) <= sent:
                        message = json.loads((await ws.receive(timeout=10)).data)
                        if message["type"] == "reply":
                            replies.append(message)
                return replies

    try:
        replies = asyncio.run(go_twice())
        time.sleep(0.5)  # for the cue runner to hear that it fired
    finally:
        output = show.stop()
    assert [reply["status"] for reply in replies] == ["ok", "ok"] and replies[0]["data"] == replies[1]["data"]
    assert output.count("cue 1M2: GO") == 1 and output.count("cue 1M2: fired") == 1, output


def test_a_view_token_keeps_the_pages_from_whoever_lacks_it(tmp_path):
    show = LiveShow(tmp_path, seconds=30, extra='view_token = "viewers-only-1"')

    async def statuses():
        async with aiohttp.ClientSession() as session:
            found = []
            for query in ("", "?view=viewers-only-1", f"?token={TOKEN}", "?view=wrong-token"):
                async with session.get(f"{show.base}/conductor{query}") as response:
                    found.append(response.status)
            return found

    try:
        found = asyncio.run(statuses())
    finally:
        output = show.stop()
    assert found == [401, 200, 200, 401]
    assert "Pages: 0 viewers, 0 dropped for not reading, 2 requests refused" in output


def test_a_client_off_the_allow_list_is_refused(tmp_path):
    show = LiveShow(tmp_path, seconds=30, extra='allow = ["192.0.2.0/24"]')

    async def status():
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{show.base}/engineer?token={TOKEN}") as response:
                return response.status, await response.text()

    try:
        code, text = asyncio.run(status())
    finally:
        show.stop()
    assert code == 403 and "127.0.0.1 may not see this show's pages" in text
