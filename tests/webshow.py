"""A show with the pages on, run by `liveengine run --jack-dummy`, and Debian's chromium driven headless."""

import re
import shutil
import socket
import textwrap

import pytest

from commandline import Run
from cueshows import show_text

TIMECODE = '[timecode]\nsource = "none"\nrate = "25"\nmaster_start = "00:59:48:00"\n'

TOKEN = "conductor-token-1"
PAGES_LINE = re.compile(r"Pages: (http://\S+/engineer)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def web_show(port: int, *, osc_port: int = 0, token: str | None = TOKEN, extra: str = "") -> str:
    """Master timecode from 00:59:48:00 (12 s before the first cue, time to open the pages); cue 1M1 at 01:00:00:00 starts a click (one bar of count-in at
    120 bpm, 4/4, a tempo change at bar 5: a yellow streamer into bar 4; from bar 12 a change every other bar), GO cues 1M2 and 1M3, and a
    punch of the show's own at bar 3 beat 1 of 1M1; cue 1M4 at 01:00:30:00 (no click), a flutter of
    three punches into 01:10:00:00; OSC on `osc_port` (for /locate)."""
    token_line = f'token = "{token}"' if token else ""
    # From bar 12 a change every other bar: a yellow streamer into every other downbeat, for the screenshots.
    tempo_changes = ", ".join(f"{{bar = {bar}, bpm = {96 if bar % 4 else 100}}}" for bar in range(12, 100, 2))
    return show_text(textwrap.dedent(f"""
        [clicks.conductor]
        instrument = "blip"
        bus = "click"
        tempo = [{{bar = 1, bpm = 120}}, {{bar = 5, bpm = 100}}, {tempo_changes}]
        meter = [{{bar = 1, time = "4/4"}}]
        bars = 100
        count_in = 1

        [[cues]]
        number = "1M1"
        name = "Main title"
        at = "01:00:00:00"
        actions = [{{start = "conductor"}}]

        [[cues]]
        number = "1M2"
        name = "Pads swell"
        go = true
        actions = [{{gain = "one", db = -6.0}}]

        [[cues]]
        number = "1M3"
        name = "Pads settle"
        go = true
        actions = [{{gain = "one", db = -3.0}}]

        [[cues]]
        number = "1M4"
        name = "Reel 2"
        at = "01:00:30:00"
        actions = [{{gain = "one", db = 0.0}}]

        [[hits]]
        kind = "punch"
        cue = "1M1"
        at = "3.1"
        color = "red"

        [[hits]]
        kind = "flutter"
        timecode = "01:10:00:00"
        punches = 3
        color = "cyan"

        [osc]
        enabled = {"true" if osc_port else "false"}
        port = {osc_port or 53100}

        [web]
        port = {port}
        {token_line}
        {extra}
        """), timecode=TIMECODE)


class LiveShow:
    """`liveengine run SHOW --jack-dummy` with the pages on, until the pages' addresses are printed."""

    def __init__(self, tmp_path, seconds: float = 60, osc: bool = True, **show):
        self.port, self.osc_port = free_port(), free_port() if osc else 0
        path = tmp_path / "web.toml"
        path.write_text(web_show(self.port, osc_port=self.osc_port, **show))
        self.run = Run(path, "--jack-dummy", "--seconds", str(seconds))
        self.run.wait_for(re.compile(r"Control token"), timeout=240)
        self.server_name = re.search(r"private JACK server '([^']+)'", self.run.output).group(1)
        self.base = f"http://127.0.0.1:{self.port}"

    def locate(self, timecode: str):
        """Jump the master timecode there, as the engineer's OSC /locate does."""
        from pythonosc.udp_client import SimpleUDPClient
        SimpleUDPClient("127.0.0.1", self.osc_port).send_message("/locate", timecode)

    def stop(self) -> str:
        self.run.process.stdin.write("quit\n")
        self.run.process.stdin.flush()
        self.run.finish(timeout=60)
        return self.run.output


def browser(width: int = 1920, height: int = 1080):
    """Debian's chromium, headless, its pages at that size."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
        pytest.fail("chromium and chromium-driver are needed (.ci/setup installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    # The page's own area at exactly that size (the window's includes its frame).
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    return driver
