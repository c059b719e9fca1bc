"""The conductor's and engineer's pages in Debian's chromium, headless, on a show that `liveengine run`
plays live on a private JACK dummy server: the page's actions reach the cue runner and the buses once,
the conductor page's clock follows the engine's, and streamers and punches land on their hits."""

import asyncio
import json
import os
import pathlib
import random
import re
import socket
import statistics
import threading
import time

import aiohttp
import pytest
from selenium.webdriver.support.ui import WebDriverWait

from idleclient import ReferenceClient, within_scheduling_noise
from webshow import TOKEN, LiveShow, browser

FPS = 25
FIRST_DOWNBEAT = 90000 + 2 * FPS  # 1M1 at 01:00:00:00, one bar of count-in at 120 bpm
OWN_PUNCH = 90000 + 2 * FPS + 2 * 2 * FPS  # the show's [[hits]] punch at bar 3 beat 1
DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    show = LiveShow(tmp_path_factory.mktemp("web"), seconds=240)
    yield show
    show.stop()


@pytest.fixture(scope="module")
def chromium():
    driver = browser()
    yield driver
    driver.quit()


def wait(driver, condition, timeout=15):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: d.execute_script(condition))


def test_the_conductor_page_draws_the_engines_timecode_and_punches_on_their_hits(live, chromium):
    chromium.get(f"{live.base}/conductor")
    wait(chromium, "return serverNow() !== null && window.drawLog.some(e => e.frames > 0)")
    # The shown timecode advances with the engine's: 25 frames a second of the server's clock.
    first = chromium.execute_script("const e = drawLog[drawLog.length - 1]; return [e.t, e.frames];")
    time.sleep(1.0)
    second = chromium.execute_script("const e = drawLog[drawLog.length - 1]; return [e.t, e.frames];")
    assert (second[1] - first[1]) == pytest.approx((second[0] - first[0]) / 1000 * FPS, abs=1.0)
    assert re.fullmatch(r"0[01]:[0-9]{2}:[0-9]{2}:[0-9]{2}", chromium.find_element("id", "timecode").text)
    wait(chromium, f"return window.drawLog.some(e => e.frames > {OWN_PUNCH} + 10)", timeout=40)
    log = chromium.execute_script("return window.drawLog.filter(e => e.frames !== null && e.epoch === 0)")
    one_frame_in_timecode = display_frame_in_timecode(log)
    for hit in (FIRST_DOWNBEAT, OWN_PUNCH):
        assert_drawn_from_its_frame(log, hit, lambda entry: any(p["hit"] == hit for p in entry["punches"]))
    swept = [entry for entry in log if any(s["frame"] == FIRST_DOWNBEAT for s in entry["streamers"])]
    assert swept, "no streamer into the first downbeat"
    assert FIRST_DOWNBEAT - swept[-1]["frames"] <= one_frame_in_timecode  # it ends on the hit
    assert swept[0]["frames"] < FIRST_DOWNBEAT - 2 * FPS  # a sweep of seconds, not a flash
    # The shown clock never went backwards.
    assert all(b["frames"] >= a["frames"] for a, b in zip(log, log[1:]))


def assert_drawn_from_its_frame(log, instant: float, shows):
    """The first animation frame drawn for a time at or after `instant` shows it, the one before does not:
    it is drawn within one display frame of its time, never early, never a frame late."""
    first = next(n for n, entry in enumerate(log) if entry["frames"] >= instant)
    assert first > 0 and shows(log[first]) and not shows(log[first - 1]), (instant, log[first - 1:first + 1])


def display_frame_in_timecode(log) -> float:
    """One display frame (the median time between two animation frames), in timecode frames."""
    return statistics.median(b["t"] - a["t"] for a, b in zip(log, log[1:])) / 1000 * FPS


def test_the_beat_flash_is_drawn_within_one_display_frame_of_each_click(live, chromium):
    chromium.get(f"{live.base}/conductor?flash=1")
    wait(chromium, "return serverNow() !== null && window.drawLog.some(e => e.frames > 0)")
    time.sleep(3.0)
    log = chromium.execute_script("return window.drawLog.filter(e => e.frames !== null && e.epoch === 0)")
    clicks = sorted({frame for entry in log for frame in entry["flashes"]})
    clicks = [frame for frame in clicks if frame > log[0]["frames"]]  # whole flashes, from their start
    assert len(clicks) >= 4
    for click in clicks:
        assert_drawn_from_its_frame(log, click, lambda entry: click in entry["flashes"])


def test_go_from_the_engineer_page_fires_the_cue_standing_by_once(live, chromium):
    chromium.get(f"{live.base}/engineer?token={TOKEN}")
    wait(chromium, "return document.querySelector('#cuelist tr.standby') !== null")
    standing_by = chromium.execute_script("return document.querySelector('#cuelist tr.standby').dataset.number")
    chromium.find_element("id", "go").click()
    wait(chromium, "return window.acknowledged.length === 1")
    reply, = chromium.execute_script("return window.acknowledged")
    assert reply["status"] == "ok", reply
    wait(chromium, f"return document.querySelector('#cuelist tr.current')?.dataset.number === '{standing_by}'")
    # The event log says so, as the OSC feed does.
    wait(chromium, f"return [...document.querySelectorAll('#log li')].some(li => li.textContent.startsWith("
                   f"'cue: {standing_by} ') && li.textContent.includes('fired'))")
    time.sleep(0.5)
    assert len(chromium.execute_script("return window.acknowledged")) == 1


def test_a_fader_on_the_engineer_page_moves_the_bus_gain(live, chromium):
    chromium.get(f"{live.base}/engineer?token={TOKEN}")
    wait(chromium, "return document.querySelector('.bus[data-bus=two] .fader') !== null")
    chromium.execute_script("const f = document.querySelector('.bus[data-bus=two] .fader');"
                            "f.value = -18; f.dispatchEvent(new Event('input'));")
    wait(chromium, "return document.querySelector('.bus[data-bus=two] .gain').textContent === '-18.0'")
    assert chromium.execute_script("return window.acknowledged[0].status") == "ok"


def test_an_action_without_the_token_is_refused(live, chromium):
    chromium.get(f"{live.base}/engineer")
    wait(chromium, "return document.querySelector('#cuelist tr.current') !== null")  # after the page's GO
    current = chromium.execute_script("return document.querySelector('#cuelist tr.current')?.dataset.number")
    chromium.find_element("id", "go").click()
    wait(chromium, "return window.acknowledged.length === 1")
    reply, = chromium.execute_script("return window.acknowledged")
    assert reply["status"] == "error" and "token" in reply["data"]
    time.sleep(0.5)
    assert chromium.execute_script("return document.querySelector('#cuelist tr.current')?.dataset.number") == current


@pytest.mark.parametrize("width, height", [(1920, 1080), (1024, 768)])
def test_screenshots_of_both_pages(live, width, height):
    driver = browser(width, height)
    try:
        for page in ("conductor", "engineer"):
            driver.get(f"{live.base}/{page}?token={TOKEN}")
            wait(driver, "return serverNow() !== null")
            time.sleep(1.0)
            if page == "conductor":  # with a streamer on its way
                wait(driver, "const e = drawLog[drawLog.length - 1]; return e.streamers.length && "
                             "e.streamers[0].progress > 0.5", timeout=20)
            path = DOCS / f"{page}-{width}x{height}.png"
            path.parent.mkdir(exist_ok=True)
            assert driver.save_screenshot(str(path))
            data = path.read_bytes()
            assert data.startswith(b"\x89PNG") and len(data) > 5000
            assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (width, height)
    finally:
        driver.quit()


class DelayingProxy:
    """A TCP proxy that delays every chunk by `delay` ± `jitter` seconds each way, in order."""

    def __init__(self, target_port: int, delay: float = 0.05, jitter: float = 0.01):
        self.target_port, self.delay, self.jitter = target_port, delay, jitter
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(("127.0.0.1", self.target_port))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink):
        import queue
        chunks = queue.Queue()

        def deliver():
            while (item := chunks.get()) is not None:
                due, data = item
                time.sleep(max(0.0, due - time.monotonic()))
                try:
                    sink.sendall(data)
                except OSError:  # the page went away
                    return

        threading.Thread(target=deliver, daemon=True).start()
        last_due = 0.0
        while data := source.recv(65536):
            last_due = max(last_due, time.monotonic() + self.delay + random.uniform(-self.jitter, self.jitter))
            chunks.put((last_due, data))
        chunks.put(None)


def test_the_pages_clock_stays_within_5_ms_of_the_servers_through_a_slow_jittery_network(live, chromium):
    proxy = DelayingProxy(live.port)
    chromium.get(f"http://127.0.0.1:{proxy.port}/conductor")
    wait(chromium, "return serverNow() !== null", timeout=30)
    time.sleep(6.0)  # the first pings, then some every half second
    errors = []
    for _ in range(10):
        before = time.monotonic_ns()
        estimate = chromium.execute_script("return serverNow()")
        after = time.monotonic_ns()
        errors.append((after - before, estimate - (before + after) / 2e6))
        time.sleep(0.3)
    call_ns, error_ms = min(errors)  # the quickest call bounds the reading best
    assert abs(error_ms) <= 5.0 + call_ns / 2e6, errors


def test_ten_viewers_and_a_stalled_one_cost_the_engine_no_cycle_an_idle_client_keeps(live):
    async def watch(seconds: float, viewers: int):
        async with aiohttp.ClientSession() as session:
            sockets = [await session.ws_connect(f"ws://127.0.0.1:{live.port}/ws?page=engineer")
                       for _ in range(viewers)]
            ticks = [[] for _ in sockets]
            deadline = time.monotonic() + seconds

            async def read(number, ws):
                while time.monotonic() < deadline:
                    try:
                        message = await asyncio.wait_for(ws.receive(), deadline - time.monotonic())
                    except asyncio.TimeoutError:
                        break
                    data = json.loads(message.data)
                    if data["type"] == "tick":
                        ticks[number].append(data)

            await asyncio.gather(*(read(n, ws) for n, ws in enumerate(sockets)))
            for ws in sockets:
                await ws.close()
            return ticks

    def watched(viewers: int) -> tuple[list, int]:
        """A round of `viewers`, beside an idle JACK client on the same server that counts the cycles the
        scheduler alone takes from anyone in the same seconds."""
        reference = ReferenceClient(env={**os.environ, "JACK_DEFAULT_SERVER": live.server_name})
        ticks = asyncio.run(watch(8.0, viewers))
        return ticks, reference.late_cycles()

    # A viewer that connects, then never reads: its socket's buffers fill, then its queue.
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", live.port))
    stalled.sendall(b"GET /ws?page=engineer HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    # On this machine's dummy server the scheduler takes cycles at a 64-frame period from any client, a C
    # one doing nothing included (bench/plugins.py: 2-10 in 10 s), in bursts: the engine with ten viewers
    # may miss what the idle client missed in the same seconds, or the engine with one viewer, and a
    # Poisson count's spread; the viewers must cost nothing beyond that.
    # The idle client does not see every burst the engine sees: in sched traces jackd woke it on jackd's own
    # CPU and the engine's audio thread on the other, so what delays the engine's CPU alone (the host waking
    # that vCPU from idle late; another process's kernel work, which this PREEMPT_NONE kernel does not
    # interrupt for a real-time thread) costs the engine cycles the idle client keeps. Measured for issue 17
    # over 231 alternating rounds of 8 s: the engine missed 3 or more cycles beyond its idle client in 4 of
    # 72 rounds with ten viewers and 2 of 159 with none, one or ten in another process (9 at most; a
    # difference within chance), and in the traces its audio thread never waited behind a thread of its own
    # process. Such a burst rarely comes twice running, a steady cost of the viewers would come every time:
    # the pair of rounds is judged up to three times.
    attempts = []
    for attempt in range(3):
        one, reference_with_one = watched(1)
        loaded, reference_with_ten = watched(10)
        alone = one[0][-1]["missed"] - one[0][0]["missed"]
        engine_late = loaded[0][-1]["missed"] - loaded[0][0]["missed"]
        for viewer in loaded:  # every reading viewer kept getting its 20 ticks a second
            assert len(viewer) >= 8.0 * 20 * 0.7
        if attempt == 0:
            deadline = time.monotonic() + 20  # it is dropped once the server's small send buffer is full
            while not any("dropped: it stopped reading" in event["text"] for event in _events(live)):
                assert time.monotonic() < deadline, "the stalled viewer was never dropped"
                time.sleep(0.5)
            stalled.close()
        attempts.append(f"with ten viewers the engine missed {engine_late} cycles, with one {alone}; the idle "
                        f"client missed {reference_with_ten} beside the ten, {reference_with_one} beside the one")
        baseline = max(alone, reference_with_ten)
        if within_scheduling_noise(engine_late, baseline):
            break
    else:
        pytest.fail("ten viewers cost the engine cycles every time: " + "; ".join(attempts))


def _events(live):
    async def hello():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"ws://127.0.0.1:{live.port}/ws?page=engineer") as ws:
                return json.loads((await ws.receive()).data)["events"]
    return asyncio.run(hello())


FLUTTER = 90000 + 10 * 60 * FPS  # 01:10:00:00


def timecode_of(frames: float) -> str:
    whole = int(frames)
    return f"{whole // (3600 * FPS):02}:{whole // (60 * FPS) % 60:02}:{whole // FPS % 60:02}:{whole % FPS:02}"


def test_after_a_jump_nothing_of_the_old_position_is_drawn_and_a_flutter_lands(live, chromium):
    chromium.get(f"{live.base}/conductor?flash=1")
    wait(chromium, "return window.drawLog.some(e => e.frames > 90000 && e.flashes.length)", timeout=30)
    # Two seconds ahead: the old position's clicks would fall in the new one's first seconds.
    ahead = chromium.execute_script("return drawLog[drawLog.length - 1].frames") + 2 * FPS
    live.locate(timecode_of(ahead))
    wait(chromium, f"return window.drawLog.some(e => e.frames > {ahead} + 2 * {FPS})", timeout=30)
    log = chromium.execute_script("return window.drawLog.filter(e => e.frames !== null)")
    jumped = next(n for n in range(1, len(log)) if log[n]["frames"] - log[n - 1]["frames"] > FPS)
    assert log[jumped]["epoch"] > log[jumped - 1]["epoch"], log[jumped - 3:jumped + 3]  # seen as a relocation
    assert any(entry["flashes"] for entry in log[:jumped])  # the old position's click was drawn
    after = log[jumped:]
    assert not any(entry["flashes"] or entry["streamers"] or entry["punches"] for entry in after)
    assert all(b["frames"] >= a["frames"] for a, b in zip(after, after[1:]))
    # Into a flutter: three punches half a second apart (no click to follow), the last on the hit.
    live.locate(timecode_of(FLUTTER - 3 * FPS))
    wait(chromium, f"return window.drawLog.some(e => e.frames > {FLUTTER} + 10)", timeout=30)
    log = chromium.execute_script(f"return window.drawLog.filter(e => e.frames > {FLUTTER} - 3 * {FPS} + 1)")
    punches = sorted({mark["frame"] for entry in log for mark in entry["punches"]})
    assert punches == pytest.approx([FLUTTER - FPS, FLUTTER - FPS / 2, FLUTTER])
    for punch in punches:
        assert_drawn_from_its_frame(log, punch, lambda entry: any(m["frame"] == punch for m in entry["punches"]))


def test_the_calibration_view_sets_the_display_latency_the_page_draws_for(live, chromium):
    from selenium.webdriver.common.by import By
    chromium.get(f"{live.base}/conductor?calibrate=1")
    wait(chromium, "return serverNow() !== null")
    body = chromium.find_element(By.TAG_NAME, "body")
    for key in "]]]]]][":  # six steps later, one back: 25 ms
        body.send_keys(key)
    assert chromium.find_element(By.ID, "calibration").text.startswith("display latency 25 ms")
    chromium.get(f"{live.base}/conductor")  # kept in this browser
    wait(chromium, "return serverNow() !== null && drawLog.some(e => e.t !== null)")
    # In the same animation frame as the page's drawing, just after it, on that frame's time (a loaded machine
    # may run the frame's callbacks well after it began): drawn for 25 ms ahead of its clock.
    ahead = chromium.execute_async_script(
        "const done = arguments[0];"
        "requestAnimationFrame((frameMs) => done(drawLog[drawLog.length - 1].t - show.clock.now(frameMs)));")
    assert 25 - 10 <= ahead <= 25
    chromium.execute_script("localStorage.removeItem('displayLatency')")


def test_the_pages_write_timecode_as_the_engine_does_at_every_frame_rate(live, chromium):
    from liveengine.timecode import RATES, Timecode
    chromium.get(f"{live.base}/conductor")
    wait(chromium, "return typeof timecodeLabel === 'function'")
    for rate in RATES.values():
        day = rate.frames_per_day()
        frames = [0, 1, 1799, 1800, 1801, 17981, 17982, 17983, 107892, day - 1, day, day + 5, 90000.6]
        labels = chromium.execute_script(
            "const [frames, rate] = arguments; return frames.map(f => timecodeLabel(f, rate));",
            frames, {"fps": float(rate.fps), "nominal": rate.nominal, "drop": rate.drop_frame})
        assert labels == [str(Timecode.from_frames(int(f), rate)) for f in frames], rate.name


def test_the_lock_shows_lost_once_a_freewheel_has_run_out(live, chromium):
    chromium.get(f"{live.base}/conductor")
    wait(chromium, "return serverNow() !== null")
    states = chromium.execute_script("""
        liveShow.socket.onclose = null; liveShow.socket.onmessage = null; liveShow.socket.close();
        return ["locked", "freewheel", "stopped", "stopped", "locking", "stopped", "locked", "stopped"].map(
            state => { mapping = {frames: 90000, speed: 0, t0: 0, state, epoch}; return lockState(); });
    """)
    assert states == ["locked", "freewheel", "lost", "lost", "locking", "stopped", "locked", "stopped"]


def test_the_countdown_to_a_timecode_cue_counts_the_clicks_beats_and_seconds(live, chromium):
    chromium.get(f"{live.base}/conductor")
    wait(chromium, "return serverNow() !== null && cues.length > 0")
    countdowns = chromium.execute_script(f"""
        liveShow.socket.onclose = null; liveShow.socket.onmessage = null; liveShow.socket.close();
        const reel2 = cues.find(c => c.number === "1M4").frame;
        cueState = {{current: ["1M3", ""], standing_by: ["", ""], next: ["1M4", "Reel 2"]}};
        const said = [];
        for (const beats of [[], [reel2 - 100, reel2 - 50, reel2 - 37.5, reel2 - 25, reel2 - 12.5, reel2]]) {{
            mapping = {{frames: reel2 - 2.5 * {FPS}, speed: {FPS}, t0: serverNow(), state: "locked", epoch}};
            shownFrames = null;
            marks = {{beats: beats.map(f => [f, 1, 1, "beat"]), visuals: []}};
            draw(performance.now());
            said.push(document.getElementById("countdown").textContent);
        }}
        return said;
    """)
    assert countdowns == ["in 2.5 s", "in 5 beats, 2.5 s"]  # the last on the cue
