"""A show played live: everything `liveengine run` wires around a show's rig, started and stopped
in the right order, for the command line and for scripts alike.

    session = Session(build_rig(load_show("show.toml")))
    with session:                       # the stream runs and the show has started
        session.run(seconds=None)       # until it is stopped (Ctrl-C, `quit`), or ends by itself
    print("\n".join(session.summary()))

Start, in order: the kernels prepared and the cue list armed; the OSC port and the pages' port taken (a
port another program holds stops the show here, before any sound); a private JACK server if asked; the audio
stream (kept: a lost device is reconnected); warnings to the terminal, the notification pump, the
sample streamer, the patch watcher; MTC in; once the callback runs, the show starts a moment later;
MTC out, the conductor's pedal, the keyboards, the OSC surface and the pages' actions, the conductor's
typed commands.
Stop undoes all of it in reverse order, after a panic if the show was interrupted or quit.
"""

import contextlib
import logging
import threading
import time

from ..loader.stems import wait_for_a_block
from .cues import CueRunner
from .offline import TAIL_LIMIT_SECONDS, tails_ended
from .operator import CallbackWatchdog, EngineReports, live_summary, say_decisions, sayer, status_line

START_LEAD_SECONDS = 0.25  # the show starts this long after the stream has settled
CALLBACK_WAIT_SECONDS = 5.0  # a started stream whose callback has not run by then is broken


class SessionError(Exception):
    """A live show that cannot start: a MIDI or OSC port missing or taken, a stream never called back."""


class Session:
    """One live performance of a rig's show. `jack_dummy`: run on a private JACK server with the dummy
    driver (no sound card needed); `console`: read the conductor's typed commands from standard input.
    The cue runner exists from the start, to describe and warn about (its stems' problems) before the
    show starts."""

    def __init__(self, rig, *, jack_dummy: bool = False, console: bool = True):
        self.rig = rig
        self.engine = rig.engine
        self.jack_dummy = jack_dummy
        self.console = console
        self.runner = CueRunner(rig, self.engine.producer("show"), wait_for_block=lambda: wait_for_a_block(self.engine))
        self.terminal = None
        self.stream = None
        self.interrupted = False  # the run ended on Ctrl-C
        self._stack: contextlib.ExitStack | None = None
        self._stream_times: list[float] = []
        self._quit_requested = threading.Event()

    def __enter__(self) -> "Session":
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        """Prepare, open and start everything; the show starts START_LEAD_SECONDS after the stream runs."""
        from ..show.terminal import Terminal
        from ..engine.warmup import prepare_kernels_shown
        prepare_kernels_shown()
        self.runner.arm()
        self.terminal = Terminal(background=True)
        self.say = sayer(self.terminal, self.engine, self.rig.show.timecode.rate)
        self._stack = contextlib.ExitStack()
        try:
            self._wire(self._stack)
        except BaseException:
            self._stack.close()
            self._stack = None
            raise

    def _wire(self, stack: contextlib.ExitStack):
        from ..show.console import COMMANDS, read_commands
        from ..midi.ports import close_midi_inputs
        from ..drivers.devices import choose_device, realtime_threads
        from ..drivers.stream import KeptStream
        from ..engine import NotificationPump
        rig, engine, say = self.rig, self.engine, self.say
        settings = engine.settings
        rate = settings.sample_rate
        osc_server = _open_osc(rig, stack)
        web_server = _open_web(rig, self.runner, stack) if rig.show.web.enabled else None
        server = None
        if self.jack_dummy:
            from ..drivers.jackserver import PrivateJackServer, realtime_allowed
            realtime = realtime_allowed()  # as on a show machine, where the user may
            server = PrivateJackServer(sample_rate=rate, period=rig.block_size,
                                       capture_channels=max(1, settings.input_channels),
                                       playback_channels=settings.output_channels, realtime=realtime)
            print(f"Starting a private JACK server {server.name!r} (dummy driver, {rate} Hz, "
                  f"period {rig.block_size}, {'real-time' if realtime else 'no real-time'} scheduling)")
            server.start()
            stack.callback(server.stop)
        self.stream = stream = KeptStream(engine.state, lambda: choose_device(rig.device, settings.output_channels,
                                                                              settings.input_channels),
                                          rig.block_size, report=say, private_server=server)
        self._stream_times = [time.monotonic()]
        stack.callback(lambda: self._stream_times.append(time.monotonic()))  # after the stream's close, below
        stream.start()
        stack.callback(stream.close)
        device = stream.device
        print(f"Audio device: [{device.index}] {device.name} ({device.host_api})")
        threads = realtime_threads()
        if threads:
            print(f"Real-time priority: yes ({threads[0][1]} priority {threads[0][2]})")
        else:
            print("WARNING: the audio thread runs without real-time priority: other programs can delay it "
                  "and cause dropouts. Give the audio group rtprio limits and run JACK with -R.")
        print(stream.stream.memory_lock.report())
        log_handler = self.terminal.log_handler(when=say.when)
        logging.getLogger("liveengine").addHandler(log_handler)
        stack.callback(logging.getLogger("liveengine").removeHandler, log_handler)
        stack.enter_context(NotificationPump(engine))
        rig.streamer.start()
        stack.callback(rig.streamer.stop)
        if any(instrument.type == "synth" for instrument in rig.show.instruments.values()):
            from ..show.patchwatch import PatchWatcher
            stack.enter_context(PatchWatcher(rig, engine.producer("control"), report=say))
        if rig.show.timecode.source == "mtc":
            stack.callback(close_midi_inputs, _open_mtc(rig))
        self._started = time.monotonic()
        while not engine.clock.running:
            if time.monotonic() - self._started > CALLBACK_WAIT_SECONDS:
                raise SessionError("the audio stream started but its callback is not being called")
            time.sleep(0.005)
        show_start = engine.position + round(START_LEAD_SECONDS * rate)
        runner = self.runner
        runner.start(show_start)
        if rig.show.timecode.mtc_output is not None:
            stack.callback(_send_mtc(rig, runner, _open_midi_output(rig), show_start))
        if rig.show.conductor.midi_input is not None:
            stack.callback(close_midi_inputs, _open_pedal(rig, runner))
        keyboards = _start_keyboards(rig, runner, stack, say) if rig.show.keyboards else None
        if osc_server is not None or web_server is not None:
            for line in _start_surfaces(osc_server, web_server, rig, runner, stack, keyboards, audio=stream):
                self.terminal.message(line)
        if self.console:
            read_commands(runner, report=lambda text: self.terminal.message(text, error=True),
                          on_quit=self._quit_requested.set)
            self.terminal.message(f"Conductor commands (type, then Enter): {COMMANDS}")

    def quit(self):
        """Ask `run` to stop, as `quit` typed at the terminal does (from any thread)."""
        self._quit_requested.set()

    def run(self, seconds: float | None = None):
        """Run the show until it is stopped (Ctrl-C, `quit`), or for `seconds`, or until it ends by
        itself: a show with no timecode to chase and no keyboards ends once every cue and part has
        played and every sound has died away. Ctrl-C and `quit` end in a panic (all notes off)."""
        engine, runner, terminal, say = self.engine, self.runner, self.terminal, self.say
        timecode_rate = self.rig.show.timecode.rate
        # Keyboardists may play at any moment: a show with keyboards runs until it is stopped.
        ends_by_itself = self.rig.show.timecode.source == "none" and not self.rig.show.keyboards
        reports = EngineReports(engine, timecode_rate, say)
        done_at = None  # when a show that ends by itself had played every cue and part
        next_status = 0.0
        shown = 0
        watchdog = CallbackWatchdog(engine, report=terminal.message)
        quit_asked = False
        try:
            while not self._quit_requested.is_set():
                elapsed = time.monotonic() - self._started
                watchdog.check()
                self.stream.check()
                runner.update(engine.position)
                shown = say_decisions(runner, shown, say)
                reports.check(elapsed)
                if seconds is not None:
                    if elapsed >= seconds:
                        break
                elif ends_by_itself and runner.finished():
                    done_at = elapsed if done_at is None else done_at
                    if tails_ended(engine.telemetry()):
                        say("the show is over: every cue and part has played and every sound has ended")
                        break
                    if elapsed - done_at >= TAIL_LIMIT_SECONDS:
                        say(f"the show is over, but {engine.telemetry().voices} voices still sound "
                            f"{TAIL_LIMIT_SECONDS} s after its last event (a held note?): stopping", error=True)
                        break
                if elapsed >= next_status:
                    # While the audio is lost its meters would stand still at their last values.
                    line = f"{elapsed:7.1f} s  AUDIO LOST: no sound, reconnecting" if self.stream.lost \
                        else status_line(engine.telemetry(), timecode_rate, elapsed, engine.clock_drift)
                    terminal.status(f"{line}  {runner.status()}")
                    next_status += 0.25 if terminal.interactive else 2.0
                time.sleep(0.01)
            quit_asked = self._quit_requested.is_set()
        except KeyboardInterrupt:
            self.interrupted = True
        if self.interrupted or quit_asked:
            say(f"{'interrupted' if self.interrupted else 'quit'}: stopping, all notes off")
            runner.panic()
            runner.update(engine.position)
            time.sleep(0.05)

    def stop(self):
        """Stop everything started, in reverse order (OSC first, the stream and JACK server last)."""
        if self._stack is None:
            return
        self.terminal.close()
        stack, self._stack = self._stack, None
        stack.close()

    def summary(self) -> list[str]:
        """What the audio thread counted over the run, and the notes refused."""
        lines = live_summary(self.engine.telemetry(), self._stream_times[-1] - self._stream_times[0],
                             self.engine.settings.sample_rate)
        return lines + [f"  {line}" for line in self.engine.refusal_report()]


def _open_midi_port(rig, setting: str, pattern: str, what: str, open_on, kind: str = "input"):
    """`open_on(api)` on the first MIDI backend that has a port matching `pattern`."""
    import rtmidi
    problems = []
    for api in rtmidi.get_compiled_api():
        try:
            midi_in = open_on(api)
        except (ValueError, rtmidi.RtMidiError) as error:
            problems.append(f"{rtmidi.get_api_display_name(api)}: {error}")
            continue
        print(f"{what} {pattern!r} ({rtmidi.get_api_display_name(api)})")
        return midi_in
    raise SessionError(f"{rig.show.path}: {setting}: no MIDI {kind} matches {pattern!r}\n  " + "\n  ".join(problems))


def _open_mtc(rig):
    """MTC from the show's MIDI input into the chase (the MIDI input thread then owns the
    engine's "midi" ring)."""
    from ..midi.mtc import MtcInput, open_mtc_input
    timecode = rig.show.timecode
    mtc_input = MtcInput(rig.engine.producer("midi"), rig.engine.clock, timecode.rate)
    return _open_midi_port(rig, "[timecode] midi_input", timecode.midi_input, "MTC from MIDI input",
                            lambda api: open_mtc_input(mtc_input, timecode.midi_input, api=api))


def _open_pedal(rig, runner):
    """The conductor's pedal, from the show's [conductor] MIDI input, driving the cue runner."""
    from ..midi.ports import open_midi_input
    from ..midi.pedal import ConductorPedal
    conductor = rig.show.conductor
    pedal = ConductorPedal(runner, conductor.triggers, conductor.stop_fade_seconds)
    def open_on(api):
        return open_midi_input(conductor.midi_input, lambda message, _arrival: pedal.handle(message), api=api,
                               client_name="liveengine pedal", port_name="pedal")

    midi_in = _open_midi_port(rig, "[conductor] midi_input", conductor.midi_input,
                              "Conductor's pedal from MIDI input", open_on)
    print("  " + ", ".join(f"{operation}: {trigger}" for operation, trigger in conductor.triggers.items()))
    return midi_in


def _start_keyboards(rig, runner, stack, report):
    """The keyboardists' MIDI inputs through their setups; an input that is missing or goes
    away is reported and taken again when it returns."""
    from ..midi.keyboard import Keyboards
    from ..midi.inputs import MidiInputs, MidiInputSpec

    show = rig.show
    keyboards = Keyboards(show.keyboards, show.setups, rig.instrument_numbers, rig.engine,
                          rig.engine.producer("keyboards"), report=report)
    for name, keyboard in show.keyboards.items():
        if keyboard.thru is not None:
            keyboards.thru[name] = open_thru(rig, name, keyboard.thru)
            stack.callback(keyboards.thru[name].delete)
    stack.callback(keyboards.start().stop)
    inputs = MidiInputs([MidiInputSpec(name, keyboard.input, keyboard.virtual) for name, keyboard in
                         show.keyboards.items()], keyboards.receive, report=report)
    stack.callback(inputs.start().stop)
    runner.on_setup = keyboards.change_setup
    for name, keyboard in show.keyboards.items():
        report(f"Keyboard {name!r}: setup {keyboard.setup!r}")
    return keyboards


def open_thru(rig, keyboard: str, pattern: str):
    """A MIDI output to the first port whose name matches `pattern`, for a keyboard's thru."""
    from ..midi.ports import open_midi_output
    return _open_midi_port(rig, f"[keyboards.{keyboard}] thru", pattern, f"Keyboard {keyboard!r} thru to MIDI output",
                           lambda api: open_midi_output(pattern, api=api, client_name=f"liveengine {keyboard} thru",
                                                        port_name="thru"), kind="output")


def _open_osc(rig, stack):
    """The show's OSC port, taken before the show starts: a port another program holds stops `run`
    here. Until `_start_osc`, every message is answered that the show is starting."""
    from ..osc.server import OscServer
    from ..osc.surface import answer_before_the_show
    osc = rig.show.osc
    if not osc.enabled:
        return None
    server = OscServer(answer_before_the_show, osc.port, osc.bind, osc.allow, osc.messages_per_second,
                       max_connections=osc.max_connections, max_connections_per_client=osc.max_connections_per_client,
                       idle_seconds=osc.idle_seconds)
    try:
        server.start()
    except OSError as error:
        raise SessionError(f"cannot listen for OSC on port {osc.port} of {', '.join(osc.bind)}: "
                         f"{error.strerror or error}. Give another port with --osc-port N (or [osc] port in "
                         f"{rig.show.path.name}), or run without OSC with --no-osc.") from None
    stack.callback(server.stop)
    return server


def _start_surfaces(osc_server, web_server, rig, runner, stack, keyboards=None, audio=None) -> list[str]:
    """The sound engineer's OSC surface with its feed, on the server `_open_osc` started, and the actions
    of the pages `_open_web` serves, which the surface carries out in the thread that owns its ring (the
    OSC worker's, or one of their own without OSC); says where they listen."""
    from ..osc.feed import FeedPublisher
    from ..osc.surface import OscSurface
    surface = OscSurface(rig, runner, rig.engine.producer("osc"), keyboards=keyboards)
    feed = FeedPublisher(surface, audio)
    said = []
    if osc_server is not None:
        said.append(_start_osc(osc_server, rig, surface, feed, stack))
        submit = osc_server.carry_out
    else:
        from ..web.server import ActionThread
        actions = ActionThread(surface.handle).start()
        stack.callback(actions.stop)
        submit = actions.submit
    if web_server is not None:
        web_server.carry_out_with(submit)
        feed.listeners.append(web_server.events_from_feed)
        said += _web_summary(rig, web_server)
    stack.callback(feed.start().stop)
    return said


def _start_osc(server, rig, surface, feed, stack) -> str:
    """The OSC surface on the server `_open_osc` started; says where it listens."""
    osc = rig.show.osc
    server.handle = surface.handle
    stack.callback(lambda: print(_osc_summary(server, surface)))
    # At the end, OSC stops before its summary and before what the show opened earlier (the stop
    # `_open_osc` registered then does nothing).
    stack.callback(server.stop)
    server.on_refused = lambda host: feed.event("osc", f"refused client {host}")
    return f"OSC on UDP and TCP port {osc.port} of {', '.join(osc.bind)}; clients allowed: {', '.join(osc.allow)}"


def _open_web(rig, runner, stack):
    """The conductor's and engineer's pages, their port taken before the show starts (a port another
    program holds stops `run` here); their actions wait for `_start_surfaces`."""
    import secrets
    from ..web.server import WebError, WebServer
    config = rig.show.web
    server = WebServer(config, rig, runner, config.token or secrets.token_urlsafe(12))
    try:
        server.start()
    except WebError as error:
        raise SessionError(f"{error}. Give another port in {rig.show.path.name}'s [web] port.") from None
    stack.callback(lambda: print(server.summary()))
    stack.callback(server.stop)
    return server


def _web_summary(rig, server) -> list[str]:
    """The pages' addresses, and the control token when `run` made it."""
    config = rig.show.web
    view = f"?view={config.view_token}" if config.view_token else ""
    said = [f"Pages: {address}{view}" for address in server.pages]
    said.append(f"Control token for GO, stop and faders: {server.token} (open /engineer?token={server.token})"
                if config.token is None else "Control token: the show's [web] token")
    return said


def _osc_summary(server, surface) -> str:
    c = server.counters
    refused = f" from {', '.join(sorted(server.refused_hosts))}" if server.refused_hosts else ""
    return (f"OSC: {c.received} packets, {surface.commands_carried_out} commands carried out, {surface.errors} "
            f"refused as wrong, {c.malformed} malformed, {c.oversized} oversized, {c.rate_limited} over the rate "
            f"limit, {c.queue_overflow} dropped with the queue full, {c.refused} from clients not allowed{refused}"
            + "".join(f"\n  OSC client {line}" for line in server.refusal_lines()))


def _send_mtc(rig, runner, midi_out, show_start: int):
    """MTC out of the master timeline from the show's start, following its jumps; returns the
    function that stops it and closes the port."""
    from ..midi.mtc import sender_locked_to_engine
    engine, rate = rig.engine, rig.engine.settings.sample_rate
    senders = [sender_locked_to_engine(midi_out, rig.show.timecode.master_start, 0, engine.clock, rate,
                                       show_start).start()]

    def follow_jump(where, sample):
        senders.pop().stop()
        senders.append(sender_locked_to_engine(midi_out, where, sample, engine.clock, rate, sample).start())

    def stop():
        senders.pop().stop()
        midi_out.close_port()
        midi_out.delete()

    runner.on_locate = follow_jump
    return stop


def _open_midi_output(rig):
    """The engine's MTC output: a virtual MIDI port, on the first MIDI backend that can make one."""
    import rtmidi
    port = rig.show.timecode.mtc_output
    problems = []
    for api in rtmidi.get_compiled_api():
        try:
            midi_out = rtmidi.MidiOut(api, name="liveengine")
            midi_out.open_virtual_port(port)
        except rtmidi.RtMidiError as error:
            problems.append(f"{rtmidi.get_api_display_name(api)}: {error}")
            continue
        print(f"MTC out on MIDI port 'liveengine:{port}' ({rtmidi.get_api_display_name(api)})")
        return midi_out
    raise SessionError(f"{rig.show.path}: [timecode] mtc_output: cannot open a MIDI port\n  " + "\n  ".join(problems))
