"""The pages' server: aiohttp on an event loop of its own, in a control-plane thread.

It serves the static pages (/conductor, /engineer) and one WebSocket per viewer (/ws). Each tick
(TICK_HZ) it builds one message per page kind and puts it in every viewer's queue; a viewer whose
queue is full (it stalls, or its network does) is dropped, never waited for. Nothing here touches
the engine's arrays: it reads telemetry, the cue runner's state and the bus levels, and carries out
actions through the OSC surface's handlers, in the thread that owns the surface's ring
(`submit`), exactly as an OSC client's /seq/{n}/... command would be.

A viewer's messages, server to page: {"type": "hello"} once, {"type": "tick"} TICK_HZ times a
second, {"type": "pong"} for each ping, {"type": "reply"} for each action, {"type": "events"}
as things happen. Page to server: {"type": "ping", "id", "t"} and {"type": "action", "seq",
"address", "args"}.
"""

import asyncio
import hmac
import ipaddress
import itertools
import json
import logging
import pathlib
import queue
import socket
import threading
import time

from aiohttp import WSMsgType, web

from ..osc.feed import cue_fields, timecode_text
from ..osc.routes import ADDRESS_SPACE, CommandError
from .schedule import Schedule

log = logging.getLogger("liveengine.web")

STATIC = pathlib.Path(__file__).with_name("static")
TICK_HZ = 20
VIEWER_QUEUE = 16  # messages waiting for one viewer; past that it is dropped
MAX_VIEWERS = 64
SEND_BUFFER_BYTES = 64 * 1024
EVENT_LOG = 200
# What a page may ask for (with the control token): the same routes an OSC client sends.
PAGE_ROUTES = ("/go", "/back", "/stop", "/panic", "/cue/{number}/standby", "/cue/{number}/start",
               "/bus/{name}/gain", "/bus/{name}/mute")


class WebError(Exception):
    """The pages cannot be served: the port is taken, an address cannot be bound."""


class WebClient:
    """A viewer as the OSC surface sees a client: its replies go back to the page."""

    def __init__(self, viewer: "Viewer"):
        self.viewer = viewer
        self.host = f"web {viewer.remote} #{viewer.number}"  # its own sequences, never another's
        self.port = 0
        self.connection = None
        self.key = (self.host, 0)

    def send(self, address: str, *args) -> bool:
        answer = json.loads(args[0]) if args and isinstance(args[0], str) else {}
        seq = int(address.split("/")[3]) if address.startswith("/reply/seq/") else None
        self.viewer.post_threadsafe({"type": "reply", "seq": seq, "address": answer.get("address"),
                                     "status": answer.get("status"), "data": answer.get("data")})
        return True


class Viewer:
    def __init__(self, server: "WebServer", ws: web.WebSocketResponse, remote: str, page: str, control: bool):
        self.server = server
        self.ws = ws
        self.remote = remote
        self.page = page  # "conductor" or "engineer"
        self.control = control  # gave the control token
        self.number = next(server.viewer_numbers)
        self.queue: asyncio.Queue = asyncio.Queue(VIEWER_QUEUE)
        self.client = WebClient(self)
        self.dropped = False

    def post(self, message) -> bool:
        """Queue `message` (a dict, or text already encoded); drop the viewer when its queue is full."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(message if isinstance(message, str) else json.dumps(message))
            return True
        except asyncio.QueueFull:
            self.server.drop(self, "it stopped reading")
            return False

    def post_threadsafe(self, message: dict):
        self.server.loop.call_soon_threadsafe(self.post, message)


class WebServer:
    """The pages of `rig`'s show and its cue runner. `start()` takes the port before the show starts (a
    port another program holds stops `run` there); until `carry_out_with(submit)` names the thread that
    carries out actions, every action hears that the show is starting. Addresses are in `pages`."""

    def __init__(self, config, rig, runner, token: str):
        self.config = config
        self.submit = None
        self.token = token
        self.engine = rig.engine
        self.runner = runner
        self.show = rig.show
        self.schedule = Schedule(self.show, self.engine, self.runner)
        self.allow = tuple(ipaddress.ip_network(entry, strict=False) for entry in config.allow)
        self.viewers: set[Viewer] = set()
        self.viewer_numbers = itertools.count(1)
        self.viewers_seen = 0
        self.viewers_dropped = 0
        self.refused = 0
        self.events: list[dict] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="liveengine-web", daemon=True)
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._stop: asyncio.Event | None = None

    def summary(self) -> str:
        return (f"Pages: {self.viewers_seen} viewers, {self.viewers_dropped} dropped for not reading, "
                f"{self.refused} requests refused")

    @property
    def pages(self) -> list[str]:
        hosts = [f"[{host}]" if ":" in host else host for host in self.config.bind]
        return [f"http://{host}:{self.config.port}/{page}" for host in hosts for page in ("conductor", "engineer")]

    # Life.

    def start(self) -> "WebServer":
        self._thread.start()
        self._started.wait(10.0)
        if self._failure is not None:
            raise WebError(f"cannot serve the pages on port {self.config.port} of {', '.join(self.config.bind)}: "
                           f"{getattr(self._failure, 'strerror', None) or self._failure}")
        return self

    def stop(self):
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=5.0)

    def carry_out_with(self, submit):
        """`submit(client, address, args)` carries out an action in the thread that owns the OSC surface's
        ring, through the surface's handlers."""
        self.submit = submit

    def event(self, kind: str, text: str):
        """An entry for the engineer's event log (from any thread)."""
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._add_events, [(kind, text)])

    def events_from_feed(self, events: list[tuple[str, str]]):
        if self.loop is not None and events:
            self.loop.call_soon_threadsafe(self._add_events, events)

    def _run(self):
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as error:  # noqa: BLE001 - said by start()
            self._failure = error
            self._started.set()
        finally:
            self.loop.close()

    async def _serve(self):
        self._stop = asyncio.Event()
        app = web.Application(middlewares=[self._admit])
        app.router.add_get("/", lambda request: web.HTTPFound("/conductor"))
        app.router.add_get("/conductor", self._page("conductor.html"))
        app.router.add_get("/engineer", self._page("engineer.html"))
        app.router.add_get("/ws", self._socket)
        app.router.add_static("/static", STATIC)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            for host in self.config.bind:
                await web.TCPSite(runner, host, self.config.port).start()
            self._started.set()
            ticker = asyncio.ensure_future(self._tick())
            await self._stop.wait()
            ticker.cancel()
            for viewer in list(self.viewers):
                await viewer.ws.close()
        finally:
            await runner.cleanup()

    # Who may see and do what.

    @web.middleware
    async def _admit(self, request, handler):
        remote = (request.remote or "").split("%")[0]
        try:
            allowed = any(ipaddress.ip_address(remote) in network for network in self.allow)
        except ValueError:
            allowed = False
        if not allowed:
            self._refuse(remote, "not on the allow-list")
            raise web.HTTPForbidden(text=f"{remote} may not see this show's pages: it is not on [web] allow")
        view = self.config.view_token
        if view is not None and not (self._matches(request.query.get("view", ""), view)
                                     or self._matches(request.query.get("token", ""), self.token)):
            if request.path.startswith("/static/"):
                return await handler(request)
            self._refuse(remote, "no view token")
            raise web.HTTPUnauthorized(text="this show's pages need its view token: add ?view=TOKEN to the address")
        return await handler(request)

    @staticmethod
    def _matches(given: str, token: str) -> bool:
        return hmac.compare_digest(given.encode(), token.encode())

    def _refuse(self, remote: str, why: str):
        self.refused += 1
        self._add_events([("web", f"refused client {remote}: {why}")])

    def _page(self, name: str):
        async def page(request):
            return web.FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})
        return page

    # Viewers.

    async def _socket(self, request):
        page = request.query.get("page", "conductor")
        control = self._matches(request.query.get("token", ""), self.token)
        if len(self.viewers) >= MAX_VIEWERS:
            raise web.HTTPServiceUnavailable(text=f"{MAX_VIEWERS} viewers are watching already")
        ws = web.WebSocketResponse(heartbeat=10.0, max_msg_size=64 * 1024)
        await ws.prepare(request)
        # A small kernel buffer: a viewer that stops reading fills it, then its queue, within seconds.
        raw = request.transport.get_extra_info("socket") if request.transport else None
        if raw is not None:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        viewer = Viewer(self, ws, request.remote or "", page, control)
        self.viewers_seen += 1
        self.viewers.add(viewer)
        viewer.post(self._hello(viewer))
        sender = asyncio.ensure_future(self._send(viewer))
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                self._receive(viewer, message.data)
        finally:
            sender.cancel()
            self.viewers.discard(viewer)
        return ws

    async def _send(self, viewer: Viewer):
        try:
            while True:
                await viewer.ws.send_str(await viewer.queue.get())
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass

    def drop(self, viewer: Viewer, why: str):
        if viewer.dropped:
            return
        viewer.dropped = True
        self.viewers.discard(viewer)
        self.viewers_dropped += 1
        log.warning("web viewer %s dropped: %s", viewer.remote, why)
        self._add_events([("web", f"viewer {viewer.remote} dropped: {why}")])
        asyncio.ensure_future(viewer.ws.close())

    def _receive(self, viewer: Viewer, text: str):
        try:
            message = json.loads(text)
            kind = message["type"]
        except (ValueError, KeyError, TypeError):
            return
        if kind == "ping":
            viewer.post({"type": "pong", "id": message.get("id"), "t": message.get("t"),
                         "server": time.monotonic_ns() / 1e6})
        elif kind == "action":
            self._act(viewer, message)

    def _act(self, viewer: Viewer, message: dict):
        seq, address, args = message.get("seq"), message.get("address"), message.get("args", [])
        if not isinstance(seq, int) or not 0 <= seq < 10 ** 18 or not isinstance(address, str) \
                or not isinstance(args, list):
            viewer.post({"type": "reply", "seq": seq, "status": "error", "data": "malformed action"})
            return
        if not viewer.control:
            self._refuse(viewer.remote, f"{address} without the control token")
            viewer.post({"type": "reply", "seq": seq, "address": address, "status": "error",
                         "data": f"refused: {address} needs the show's control token (open the page with ?token=...)"})
            return
        try:
            route, _ = ADDRESS_SPACE.find(address)
        except CommandError as error:
            route, problem = None, str(error)
        if route is None or route.pattern not in PAGE_ROUTES:
            viewer.post({"type": "reply", "seq": seq, "address": address, "status": "error",
                         "data": problem if route is None else f"{address} is not an action of the pages"})
            return
        if self.submit is None:
            viewer.post({"type": "reply", "seq": seq, "address": address, "status": "error",
                         "data": "the show is starting: nothing was carried out; try again in a moment"})
            return
        self.submit(viewer.client, f"/seq/{seq}{address}", args)

    # What the pages get.

    def _hello(self, viewer: Viewer) -> dict:
        rate = self.show.timecode.rate
        cues = [{"number": armed.cue.number, "name": armed.cue.name, "trigger": armed.cue.trigger,
                 "timecode": str(armed.cue.timecode) if armed.cue.timecode else None,
                 "frame": armed.cue.timecode.frame_count if armed.cue.timecode else None} for armed in self.runner.cues]
        return {"type": "hello", "show": self.show.name, "page": viewer.page, "control": viewer.control,
                "rate": {"fps": float(rate.fps), "nominal": rate.nominal, "drop": rate.drop_frame, "name": rate.name},
                "cues": cues, "buses": list(self.show.buses), "server": time.monotonic_ns() / 1e6,
                "events": self.events[-50:]}

    def _add_events(self, events):
        now = time.time()
        added = [{"time": now, "kind": kind, "text": text} for kind, text in events]
        self.events = (self.events + added)[-EVENT_LOG:]
        for viewer in list(self.viewers):
            if viewer.page == "engineer":
                viewer.post({"type": "events", "events": added})

    async def _tick(self):
        interval = 1.0 / TICK_HZ
        while True:
            if self.viewers:
                try:
                    conductor, engineer = self._tick_messages()
                except Exception:  # noqa: BLE001 - a broken tick must not end the pages
                    log.exception("web tick failed")
                else:
                    for viewer in list(self.viewers):
                        viewer.post(engineer if viewer.page == "engineer" else conductor)
            await asyncio.sleep(interval)

    def _tick_messages(self) -> tuple[str, str]:
        telemetry = self.engine.telemetry()
        runner = self.runner
        cue_state = {"current": cue_fields(runner.current), "standing_by": cue_fields(runner.standing_by),
                     "next": _next_cue(runner)}
        conductor = {"type": "tick", "clock": self.schedule.clock(telemetry), **self.schedule.marks(telemetry),
                     "cues": cue_state, "timecode": timecode_text(telemetry.timecode, self.show.timecode.rate)}
        levels = self.engine.bus_levels()
        engineer = {**conductor,
                    "meters": {name: {"peak": _finite(meter.peak_dbfs), "rms": _finite(meter.rms_dbfs)}
                               for name, meter in telemetry.buses.items()},
                    "buses": {name: {"gain_db": round(level.gain_db, 2), "target_db": round(level.target_db, 2),
                                     "mute": level.muted} for name, level in levels.items()},
                    "drift": _drift_ms(self.engine),
                    "voices": telemetry.voices, "dsp": 100 * telemetry.dsp_load_average,
                    "dsp_peak": 100 * telemetry.dsp_load_peak, "missed": telemetry.missed_cycles,
                    "late": telemetry.late_events, "viewers": len(self.viewers)}
        return json.dumps(conductor), json.dumps(engineer)


def _next_cue(runner) -> list[str]:
    """The cue after the one standing by, in show order: what comes after the next GO."""
    if runner.standing_by is None:
        return ["", ""]
    after = runner.cues[runner.standing_by.slot + 1] if runner.standing_by.slot + 1 < len(runner.cues) else None
    return cue_fields(after)


def _finite(values) -> list[float]:
    return [max(-120.0, round(float(value), 1)) for value in values]


class ActionThread:
    """The thread that owns the surface's ring when no OSC server does (a show with [osc] enabled = false)."""

    def __init__(self, handle):
        self.handle = handle
        self._queue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="liveengine-web-actions", daemon=True)

    def start(self) -> "ActionThread":
        self._thread.start()
        return self

    def submit(self, client, address: str, args: list):
        self._queue.put((client, address, args))

    def stop(self):
        self._queue.put(None)
        self._thread.join(timeout=2.0)

    def _work(self):
        while (item := self._queue.get()) is not None:
            try:
                self.handle(*item)
            except Exception:  # noqa: BLE001 - one bad action must not end the pages
                log.exception("web action %s failed", item[1])


def _drift_ms(engine) -> float:
    """How far the picture has moved against the audio clock since the chase locked, in ms (0: not chasing)."""
    drift = engine.clock_drift
    return 0.0 if drift is None else drift.samples / engine.settings.sample_rate * 1000
