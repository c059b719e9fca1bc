"""The `liveengine` command: run a show live, render it offline, check it, list devices, benchmark."""

import argparse
import contextlib
import dataclasses
import math
import pathlib
import sys
import time

from .bench import PARTS, PEER_COMPARISONS
from .config import SAMPLE_RATES, ShowFileError, load_show

EXIT_FAILED = 1
EXIT_SHOW_FILE = 2
EXIT_AUDIO = 3
EXIT_INTERRUPTED = 130
START_LEAD_SECONDS = 0.25  # the show starts this long after the stream has settled


class UsageError(Exception):
    """A command-line value that cannot work; the message says which and why."""


def _block_size(text: str) -> int:
    value = int(text)
    if not 32 <= value <= 1024:
        raise argparse.ArgumentTypeError(f"block size must be 32 to 1024, got {value}")
    return value


def _channels(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 64:
        raise argparse.ArgumentTypeError(f"channel count must be 0 to 64, got {value}")
    return value


def _add_audio_options(parser: argparse.ArgumentParser, device: bool):
    group = parser.add_argument_group("audio (overrides the show file)")
    if device:
        group.add_argument("--device", help="output device: a name substring or an index (see `devices`)")
    group.add_argument("--sample-rate", type=int, choices=SAMPLE_RATES)
    group.add_argument("--block-size", type=_block_size, help="frames per audio block, 32-1024")
    group.add_argument("--outputs", type=_channels, dest="output_channels", help="output channel count")
    group.add_argument("--inputs", type=_channels, dest="input_channels", help="input channel count")


def _add_osc_options(parser: argparse.ArgumentParser):
    group = parser.add_argument_group("OSC (overrides the show file's [osc])").add_mutually_exclusive_group()
    group.add_argument("--osc-port", type=int, metavar="N",
                       help="listen for OSC on UDP and TCP port N, 1024-65535 (switches OSC on)")
    group.add_argument("--no-osc", action="store_true", help="run without OSC, on purpose")


def _with_osc_options(show, args):
    """The show with `run`'s --osc-port or --no-osc in place of its [osc] port and switch."""
    port, off = getattr(args, "osc_port", None), getattr(args, "no_osc", False)
    if port is None and not off:
        return show
    if port is not None and not 1024 <= port <= 65535:
        raise UsageError(f"--osc-port must be 1024 to 65535, got {port} (to run without OSC: --no-osc)")
    osc = dataclasses.replace(show.osc, enabled=not off, port=show.osc.port if port is None else port)
    return dataclasses.replace(show, osc=osc)


def _overrides(args):
    from .show.rig import AudioOverrides
    device = getattr(args, "device", None)
    if device is not None and device.isascii() and device.isdigit():  # "²" is a name, not an index
        device = int(device)
    return AudioOverrides(device=device, sample_rate=args.sample_rate, block_size=args.block_size,
                          output_channels=args.output_channels, input_channels=args.input_channels)


def _load_rig(args):
    from .show.rig import build_rig
    show = _with_osc_options(load_show(args.show), args)
    try:
        return build_rig(show, _overrides(args), show_progress=True)
    except ValueError as error:  # an override that contradicts the show, e.g. a bus on output 4 of 2
        raise UsageError(f"{args.show}: {error}") from None


def _warn_about_instruments(rig):
    """An instrument plays without what it could not load; whoever runs the show must know what that is."""
    for name, problems in rig.instrument_problems.items():
        print(f"WARNING: instrument {name}: {len(problems)} problem{'s' if len(problems) != 1 else ''}:",
              file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
    sys.stderr.flush()


def _prepare_kernels(quiet_when_warm: bool = False):
    from .engine.warmup import prepare_kernels_shown
    prepare_kernels_shown(quiet_when_warm=quiet_when_warm)


def _describe_rig(rig) -> list[str]:
    settings = rig.engine.settings
    block_ms = rig.block_size / settings.sample_rate * 1000
    lines = [f"{rig.show.name}: {settings.sample_rate} Hz, block {rig.block_size} ({block_ms:.2f} ms), "
             f"{settings.output_channels} outputs, {settings.input_channels} inputs, {settings.polyphony} voices"]
    for bus in rig.show.buses.values():
        route = f"outputs {', '.join(str(ch + 1) for ch in bus.outputs)}" if bus.outputs else \
            f"feeds {bus.feeds}" if bus.feeds else "no outputs (silent)"
        mute = ", muted" if bus.mute else ""
        lines.append(f"  bus {bus.name:<8} {bus.gain_db:+.1f} dB{mute}, {route}")
    for name, instrument in rig.show.instruments.items():
        if instrument.type == "tone":
            lines.append(f"  instrument {name}: tone, attack {instrument.attack_ms:g} ms, "
                         f"release {instrument.release_ms:g} ms, {instrument.gain_db:+.1f} dB")
        else:
            preset = f" preset {instrument.bank}:{instrument.program}" if instrument.type == "sf2" else ""
            lines.append(f"  instrument {name}: {instrument.type} {instrument.file}{preset}, {instrument.gain_db:+.1f} dB")
    lines += _describe_keyboards(rig.show)
    for part in rig.show.parts:
        source = f" from {part.midi_file}" if part.midi_file else ""
        lines.append(f"  part {part.name}: {len(part.notes) + len(part.midi_notes)} notes{source}, "
                     f"{part.instrument} on {part.bus}")
    for click in rig.show.clicks.values():
        bars_in = click.map.count_in_bars
        count_in = f" after {bars_in} count-in bar{'s' if bars_in > 1 else ''}" if bars_in else ""
        lines.append(f"  click {click.name}: {click.map.bars} bars{count_in}, {click.instrument} on {click.bus}")
    for stem in rig.show.stems.values():
        lines.append(f"  stem {stem.name}: {stem.path} on {stem.bus}, {stem.gain_db:+.1f} dB")
    osc = rig.show.osc
    if osc.enabled:
        lines.append(f"  OSC: port {osc.port} on {', '.join(osc.bind)}, clients {', '.join(osc.allow)}, "
                     f"{osc.messages_per_second:g} messages/s each; TCP: {osc.max_connections} connections, "
                     f"{osc.max_connections_per_client} a client, closed after {osc.idle_seconds:g} s idle")
    else:
        lines.append("  OSC: off")
    timecode = rig.show.timecode
    if timecode.source == "ltc":
        lines.append(f"  timecode: chase LTC on input {timecode.input + 1} at {timecode.rate.name} fps, "
                     f"freewheel {timecode.freewheel_seconds:g} s")
    elif timecode.source == "mtc":
        lines.append(f"  timecode: chase MTC from MIDI input {timecode.midi_input!r} at {timecode.rate.name} fps, "
                     f"freewheel {timecode.freewheel_seconds:g} s")
    if timecode.ltc_output is not None:
        lines.append(f"  timecode master: LTC at {timecode.rate.name} fps on output {timecode.ltc_output + 1}, "
                     f"from {timecode.master_start}")
    if timecode.mtc_output is not None:
        lines.append(f"  timecode master: MTC at {timecode.rate.name} fps on MIDI port {timecode.mtc_output!r}, "
                     f"from {timecode.master_start}")
    return lines


def _describe_keyboards(show) -> list[str]:
    """The keyboard setups (their layers and controllers) and the keyboards that play them."""
    lines = []
    for setup in show.setups.values():
        program = f", program {setup.program}" if setup.program is not None else ""
        bend = f", bend {setup.bend_range:g} semitones" if setup.bend_range is not None else ""
        lines.append(f"  setup {setup.name}{program}{bend}: {len(setup.layers)} "
                     f"layer{'s' if len(setup.layers) != 1 else ''}")
        for layer in setup.layers:
            channel = f"channel {layer.channel}" if layer.channel is not None else "every channel"
            transpose = f", transpose {layer.transpose:+d}" if layer.transpose else ""
            curve = layer.curve if isinstance(layer.curve, str) else "custom curve"
            lines.append(f"    {layer.instrument}: keys {layer.keys[0]}-{layer.keys[1]}, velocities "
                         f"{layer.velocities[0]}-{layer.velocities[1]}, {channel}{transpose}, {curve}, "
                         f"{layer.level_db:+.1f} dB on {layer.bus}")
        for control in setup.controls:
            lines.append(f"    CC {control.cc}: {control.instrument} {control.parameter} "
                         f"{control.low:g} to {control.high:g} ({control.curve})")
    for keyboard in show.keyboards.values():
        port = f"MIDI input matching {keyboard.input!r}" if keyboard.input is not None \
            else f"virtual MIDI input {keyboard.virtual!r}"
        thru = f", thru to {keyboard.thru!r}" if keyboard.thru is not None else ""
        lines.append(f"  keyboard {keyboard.name}: {port}, setup {keyboard.setup}{thru}")
    return lines


def _timecode_text(status, rate) -> str:
    from .show.timecode import Timecode
    if status.state in ("locked", "freewheel"):
        return f"TC {Timecode.from_frames(math.floor(status.position), rate)} {status.state}"
    return f"TC {status.state}"


def _status_line(t, timecode_rate, elapsed: float) -> str:
    """The live status: DSP load as its running average and the run's maximum, the summary's figure."""
    master = t.buses["master"].peak_dbfs
    timecode = f"  {_timecode_text(t.timecode, timecode_rate)}" if t.timecode else ""
    return (f"{elapsed:7.1f} s{timecode}  voices {t.voices:3d}  DSP {100 * t.dsp_load_average:5.1f}% "
            f"(max {100 * t.dsp_load_max:5.1f}%)  late cycles {t.missed_cycles}  late events {t.late_events}  "
            f"master {max(master):6.1f} dBFS")


def _summary(engine) -> str:
    """What an offline render's engine counted."""
    t = engine.telemetry()
    return (f"{t.callbacks} blocks, {t.late_events} late events, {t.notes_refused} refused notes, "
            f"DSP load average {100 * t.dsp_load_average:.1f}%, max {100 * t.dsp_load_max:.1f}% of a block's duration"
            + "".join(f"\n  {line}" for line in engine.refusal_report()))


def _live_summary(t, stream_seconds: float, sample_rate: int) -> list[str]:
    """What a live run's audio thread counted, and what the counts mean.

    A period is one callback's frames (the JACK period). The time the stream ran allows so many
    periods; a gap of 1.5 periods or more between two callbacks counts as late cycles (the periods
    it spans, less one). A driver that wakes late may catch up with callbacks in quick succession
    (JACK's dummy driver does), so late cycles are not lost audio: the periods delivered say that.
    """
    if not t.callbacks:
        return [f"Audio: the device never called back in the {stream_seconds:.1f} s the stream was open."]
    frames = t.position / t.callbacks
    allowed = stream_seconds * sample_rate / frames
    period_ms = frames / sample_rate * 1000
    lines = [f"Audio: {t.callbacks} callbacks of {frames:.0f} frames ({period_ms:.2f} ms) in {stream_seconds:.1f} s; "
             f"that time allows {allowed:.0f} (from the stream's start to its close)."]
    if t.missed_cycles:
        shortfall = allowed - t.callbacks
        outcome = "the device caught up: every period was delivered" if shortfall < max(2.0, 0.01 * allowed) \
            else f"about {shortfall:.0f} periods were never delivered: the audio dropped out"
        lines.append(f"  {t.missed_cycles} late cycles (gaps between callbacks of 1.5 periods or more, "
                     f"longest {t.longest_gap_ms:.2f} ms); {outcome}.")
    lines.append(f"  DSP load: average {100 * t.dsp_load_average:.1f}%, max {100 * t.dsp_load_max:.1f}% of a period "
                 f"(the status line's max); {t.late_events} late events, {t.notes_refused} refused notes.")
    return lines


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
    raise UsageError(f"{rig.show.path}: {setting}: no MIDI {kind} matches {pattern!r}\n  " + "\n  ".join(problems))


def _open_mtc(rig):
    """MTC from the show's MIDI input into the chase (the MIDI input thread then owns the
    engine's "midi" ring)."""
    from .midi.mtc import MtcInput, open_mtc_input
    timecode = rig.show.timecode
    mtc_input = MtcInput(rig.engine.producer("midi"), rig.engine.clock, timecode.rate)
    return _open_midi_port(rig, "[timecode] midi_input", timecode.midi_input, "MTC from MIDI input",
                            lambda api: open_mtc_input(mtc_input, timecode.midi_input, api=api))


def _open_pedal(rig, runner):
    """The conductor's pedal, from the show's [conductor] MIDI input, driving the cue runner."""
    from .midi.ports import open_midi_input
    from .midi.pedal import ConductorPedal
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
    from .midi.keyboard import Keyboards
    from .midi.inputs import MidiInputs, MidiInputSpec

    show = rig.show
    keyboards = Keyboards(show.keyboards, show.setups, rig.instrument_numbers, rig.engine,
                          rig.engine.producer("keyboards"), report=report)
    for name, keyboard in show.keyboards.items():
        if keyboard.thru is not None:
            keyboards.thru[name] = _open_thru(rig, name, keyboard.thru)
            stack.callback(keyboards.thru[name].delete)
    stack.callback(keyboards.start().stop)
    inputs = MidiInputs([MidiInputSpec(name, keyboard.input, keyboard.virtual) for name, keyboard in
                         show.keyboards.items()], keyboards.receive, report=report)
    stack.callback(inputs.start().stop)
    runner.on_setup = keyboards.change_setup
    for name, keyboard in show.keyboards.items():
        report(f"Keyboard {name!r}: setup {keyboard.setup!r}")
    return keyboards


def _open_thru(rig, keyboard: str, pattern: str):
    """A MIDI output to the first port whose name matches `pattern`, for a keyboard's thru."""
    from .midi.ports import open_midi_output
    return _open_midi_port(rig, f"[keyboards.{keyboard}] thru", pattern, f"Keyboard {keyboard!r} thru to MIDI output",
                           lambda api: open_midi_output(pattern, api=api, client_name=f"liveengine {keyboard} thru",
                                                        port_name="thru"), kind="output")


def _open_osc(rig, stack):
    """The show's OSC port, taken before the show starts: a port another program holds stops `run`
    here. Until `_start_osc`, every message is answered that the show is starting."""
    from .control.osc import OscServer
    from .control.surface import answer_before_the_show
    osc = rig.show.osc
    if not osc.enabled:
        return None
    server = OscServer(answer_before_the_show, osc.port, osc.bind, osc.allow, osc.messages_per_second,
                       max_connections=osc.max_connections, max_connections_per_client=osc.max_connections_per_client,
                       idle_seconds=osc.idle_seconds)
    try:
        server.start()
    except OSError as error:
        raise UsageError(f"cannot listen for OSC on port {osc.port} of {', '.join(osc.bind)}: "
                         f"{error.strerror or error}. Give another port with --osc-port N (or [osc] port in "
                         f"{rig.show.path.name}), or run without OSC with --no-osc.") from None
    stack.callback(server.stop)
    return server


def _start_osc(server, rig, runner, stack, keyboards=None, audio=None) -> str:
    """The sound engineer's OSC surface and its feed, on the server `_open_osc` started; says where it listens."""
    from .control.surface import FeedPublisher, OscSurface
    osc = rig.show.osc
    surface = OscSurface(rig, runner, rig.engine.producer("osc"), keyboards=keyboards)
    server.handle = surface.handle
    stack.callback(lambda: print(_osc_summary(server, surface)))
    # At the end, OSC stops before its summary and before what the show opened earlier (the stop
    # `_open_osc` registered then does nothing).
    stack.callback(server.stop)
    feed = FeedPublisher(surface, audio)
    server.on_refused = lambda host: feed.event("osc", f"refused client {host}")
    stack.callback(feed.start().stop)
    return f"OSC on UDP and TCP port {osc.port} of {', '.join(osc.bind)}; clients allowed: {', '.join(osc.allow)}"


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
    from .midi.mtc import sender_locked_to_engine
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
    raise UsageError(f"{rig.show.path}: [timecode] mtc_output: cannot open a MIDI port\n  " + "\n  ".join(problems))


class CallbackWatchdog:
    """Says clearly when the audio device stops calling back (device lost, server gone), and when it resumes."""

    SILENT_SECONDS = 1.0

    def __init__(self, engine, report):
        self.engine = engine
        self.report = report  # report(text, error=False)
        self._callbacks = engine.telemetry().callbacks
        self._last_change = time.monotonic()
        self._stalled = False

    def check(self):
        callbacks = self.engine.telemetry().callbacks
        now = time.monotonic()
        if callbacks != self._callbacks:
            if self._stalled:
                self.report(f"Audio resumed after {now - self._last_change:.1f} s.", error=True)
            self._callbacks, self._last_change, self._stalled = callbacks, now, False
        elif not self._stalled and now - self._last_change > self.SILENT_SECONDS:
            self._stalled = True
            self.report(f"ERROR: the audio device has not called back for {self.SILENT_SECONDS:.0f} s: "
                        "device lost or audio server stopped. The show keeps its place and waits.", error=True)


def command_check(args) -> int:
    if pathlib.Path(args.show).suffix.lower() in (".sfz", ".sf2"):
        return _check_instrument_file(args.show)
    rig = _load_rig(args)
    from .show.cues import CueRunner
    runner = CueRunner(rig, rig.engine.producer("show"))
    problems = [f"{args.show}: {problem}" for problem in runner.stems.problems]
    problems += [f"{args.show}: instrument {name}: {problem}" for name, instrument_problems
                 in rig.instrument_problems.items() for problem in instrument_problems]
    if problems:
        raise ShowFileError(problems)
    print(f"{args.show}: OK")
    for line in _describe_rig(rig):
        print(line)
    for line in _describe_cues(runner):
        print(line)
    _prepare_kernels(quiet_when_warm=True)  # a check before the show leaves nothing to compile at its start
    return 0


def command_demo(args) -> int:
    """Copy the shipped demo show out of the package, to play, render or make into a show of one's own."""
    from importlib.resources import files
    target = pathlib.Path(args.folder) / "demo.toml"
    try:
        with open(target, "x", encoding="utf-8") as file:
            file.write(files("liveengine.configs").joinpath("demo.toml").read_text(encoding="utf-8"))
    except FileExistsError:
        raise UsageError(f"{target} exists: give another folder, or move it away") from None
    except OSError as error:
        raise UsageError(f"cannot write {target}: {error.strerror or error}") from None
    print(f"Wrote the demo show to {target}. Try:\n"
          f"  liveengine check {target}\n"
          f"  liveengine render {target} -o demo.wav\n"
          f"  liveengine run {target}")
    return 0


def _check_instrument_file(path) -> int:
    """Check one SFZ file, or every preset of an SF2 bank: every ignored opcode, missing or unreadable sample."""
    from .instruments.library import InstrumentError, read_sampled_instrument
    from .instruments.samples import load_heads, progress_bar
    if pathlib.Path(path).suffix.lower() == ".sf2":
        from .instruments.sf2 import Sf2Error, list_presets
        try:
            presets = [(preset.bank, preset.program) for preset in list_presets(path)]
        except Sf2Error as error:
            raise UsageError(str(error)) from None
    else:
        presets = [(0, 0)]
    failed = 0
    for bank, program in presets:
        try:
            instrument = read_sampled_instrument(path, bank, program)
        except InstrumentError as error:
            raise UsageError(str(error)) from None
        loaded = load_heads(instrument, progress=progress_bar(instrument.name))
        playable = sum(1 for data in loaded.samples if data is not None)
        status = "OK" if not instrument.problems else f"{len(instrument.problems)} problems"
        print(f"{path}: {instrument.name}: {len(instrument.regions)} regions, {playable} of "
              f"{len(instrument.samples)} samples readable: {status}")
        for problem in instrument.problems:
            print(f"  {problem}")
        failed += bool(instrument.problems)
    return 1 if failed else 0


def _warn_about_stems(runner):
    """The show goes on without a stem that cannot be read; whoever runs it must know."""
    for problem in runner.stems.problems:
        print(f"WARNING: {problem}; its cues play everything else", file=sys.stderr, flush=True)


def _describe_cues(runner) -> list[str]:
    if not runner.rig.show.cues:
        return ["  no cue list: every part starts with the show"]
    lines = [f"  cue list ({len(runner.cues)} cues):"]
    for armed in runner.cues:
        cue = armed.cue
        trigger = {"timecode": f"at {cue.timecode}", "go": "on GO",
                   "follow": f"{cue.wait_seconds:g} s after the previous cue"}[cue.trigger]
        chase = ", chase" if cue.chase else ""
        actions = "; ".join(_action_text(action) for action in cue.actions) or "nothing"
        lines.append(f"    {cue.number:<6} {cue.name:<24} {trigger}{chase}: {actions}")
    return lines


def _action_text(action) -> str:
    if action.verb in ("start", "stop"):
        return f"{action.verb} {action.target}"
    if action.verb == "gain":
        return f"{action.target} to {action.gain_db:g} dB over {action.fade_seconds:g} s"
    if action.verb == "stop_all":
        return f"stop all over {action.fade_seconds:g} s"
    return "panic"


def _recorded_inputs(path, rig, channel: int):
    """The inputs the show will hear, with a recording (LTC) on `channel`: (frames, input channels) float32."""
    import numpy as np

    from .show import ltcfile
    try:
        recording, recorded_rate = ltcfile.read_audio(path)
    except ltcfile.LtcFileError as error:
        raise UsageError(str(error)) from None
    settings = rig.engine.settings
    if recorded_rate != settings.sample_rate:
        raise UsageError(f"{path} is at {recorded_rate} Hz; the show runs at {settings.sample_rate} Hz")
    inputs = np.zeros((len(recording), settings.input_channels), np.float32)
    inputs[:, channel] = recording[:, 0]
    return inputs


RENDER_LIMIT_SECONDS = 6 * 3600  # a show that never ends by itself stops here, unless --seconds says otherwise
TAIL_LIMIT_SECONDS = 60  # sound still ringing this long after the show is done is held (a stuck note): stop


def command_render(args) -> int:
    import numpy as np
    import soundfile

    from .engine import OfflineRenderer
    from .show.cues import CueRunner
    rig = _load_rig(args)
    engine = rig.engine
    rate = engine.settings.sample_rate
    block_size = rig.block_size
    inputs = None
    if args.ltc is not None:
        if rig.show.timecode.source != "ltc":
            raise UsageError(f"{args.show} chases no LTC: set [timecode] source = \"ltc\" and its input")
        inputs = _recorded_inputs(args.ltc, rig, rig.show.timecode.input)
    if args.seconds is not None:
        frames = round(args.seconds * rate)
    elif inputs is not None:
        frames = len(inputs)
    else:
        frames = RENDER_LIMIT_SECONDS * rate
    go_samples = sorted(round(seconds * rate) for seconds in args.go)
    _prepare_kernels()
    renderer = OfflineRenderer(engine.state, block_size)
    runner = CueRunner(rig, engine.producer("show"))
    runner.producer.drain = renderer.drain  # more events at an instant than the ring holds go in on time
    _warn_about_stems(runner)
    _warn_about_instruments(rig)
    runner.arm()
    runner.start(0)
    silence = np.zeros((block_size, engine.settings.input_channels), np.float32)
    began = time.monotonic()
    try:
        output = soundfile.SoundFile(args.output, "w", samplerate=rate, channels=engine.settings.output_channels,
                                     subtype=args.subtype)
    except (soundfile.LibsndfileError, TypeError, ValueError, OSError) as error:
        raise UsageError(f"cannot write {args.output}: {error}") from None
    peak = 0.0
    ended_at = None  # when the show had nothing left to do by itself
    stopped_by = ""  # why the render stopped before the show's sound ended
    with output:
        done = 0
        while done < frames:
            while go_samples and go_samples[0] < renderer.position + block_size:
                runner.go()
                go_samples.pop(0)
            runner.update(renderer.position, lookahead_samples=block_size)
            heard = None
            if inputs is not None:
                heard = inputs[done:done + block_size]
                if len(heard) < block_size:
                    heard = np.concatenate([heard, silence[:block_size - len(heard)]])
            rig.streamer.serve()  # what the last block's notes asked for, read before the next block plays it
            block = renderer.render_block(heard)
            take = min(len(block), frames - done)
            output.write(block[:take])
            peak = max(peak, float(abs(block[:take]).max(initial=0.0)))
            engine.poll()
            done += take
            if args.seconds is None and inputs is None and not go_samples and runner.idle():
                # Done when every voice and every tail on every bus has ended, however long it rings.
                ended_at = ended_at if ended_at is not None else done
                if _tails_ended(engine.telemetry()):
                    frames = done
                elif done - ended_at >= TAIL_LIMIT_SECONDS * rate:
                    frames = done
                    stopped_by = (f"WARNING: the render stops {TAIL_LIMIT_SECONDS} s after the show's last event: "
                                  f"{engine.telemetry().voices} voices still sound (a held note or a drone)")
        if done >= RENDER_LIMIT_SECONDS * rate and args.seconds is None and inputs is None:
            stopped_by = (f"WARNING: the render stops at its limit of {RENDER_LIMIT_SECONDS / 3600:g} hours: "
                          "the show had not ended by itself (give its length with --seconds)")
    took = time.monotonic() - began
    print(f"Rendered {frames / rate:.1f} s to {args.output} in {took:.2f} s ({frames / rate / took:.0f}x real time), "
          f"peak {20 * math.log10(max(peak, 1e-6)):.1f} dBFS")
    if stopped_by:
        print(stopped_by, file=sys.stderr)
    print(_summary(engine))
    _report_cues(runner)
    if runner.standing_by is not None:
        print(f"Cue {runner.standing_by.cue.number} waits for a GO: give the times of the GOs with --go SECONDS.")
    if inputs is not None:
        _report_timecode(rig)
    return 0


def command_play(args) -> int:
    import soundfile

    from .midi.player import MidiPlayer, PlayError
    if args.seconds is not None and args.seconds <= 0:
        raise UsageError(f"--seconds must be positive, got {args.seconds:g}")
    if args.polyphony < 1:
        raise UsageError(f"--polyphony must be at least 1, got {args.polyphony}")
    preset = None if args.bank is None and args.program is None else (args.bank or 0, args.program or 0)
    began = time.monotonic()
    try:
        player = MidiPlayer(args.patch, args.midi, sample_rate=args.sample_rate, block=args.block,
                            interpolation=args.interpolation, polyphony=args.polyphony, gain_db=args.gain,
                            preset=preset)
    except PlayError as error:
        raise UsageError(str(error)) from None
    print(f"Loaded {args.patch} for {args.midi} in {time.monotonic() - began:.2f} s:")
    for loaded in player.presets:
        problems = f", {len(loaded.problems)} problem{'s' if len(loaded.problems) != 1 else ''}" \
            if loaded.problems else ""
        channels = ", ".join(map(str, loaded.channels))
        kind = "synth patch" if loaded.regions is None else f"{loaded.regions} regions"
        print(f"  {loaded.label} {loaded.name}: {kind}, "
              f"channel{'s' if len(loaded.channels) > 1 else ''} {channels}{problems}")
    for notice in player.notices:
        print(f"  {notice}")
    if any(loaded.problems for loaded in player.presets):
        print(f"  (`liveengine check {args.patch}` lists the problems)")
    _prepare_kernels()
    rate = args.sample_rate
    try:
        output = soundfile.SoundFile(args.output, "w", samplerate=rate, channels=2, subtype=args.subtype)
    except (soundfile.LibsndfileError, TypeError, ValueError, OSError) as error:
        raise UsageError(f"cannot write {args.output}: {error}") from None
    peak = 0.0
    frames = 0
    began = time.monotonic()
    with output:
        try:
            for block in player.render(args.seconds):
                output.write(block)
                peak = max(peak, float(abs(block).max(initial=0.0)))
                frames += len(block)
        except PlayError as error:
            raise UsageError(str(error)) from None
    took = time.monotonic() - began
    t = player.engine.telemetry()
    print(f"Rendered {frames / rate:.1f} s to {args.output} in {took:.2f} s ({frames / rate / took:.0f}x real time), "
          f"peak {20 * math.log10(max(peak, 1e-6)):.1f} dBFS")
    print(f"Voices: {t.voices_stolen} stolen, {t.notes_refused} notes refused, {t.samples_not_ready} samples not "
          f"ready in time; {t.late_events} late events")
    for line in player.engine.refusal_report():
        print(f"  {line}")
    return 0


def _report_cues(runner):
    rate = runner.rate
    for decision in runner.decisions:
        cue = f"cue {decision.cue}: " if decision.cue else ""
        print(f"  {decision.sample / rate:9.3f} s  {cue}{decision.text}")


def _report_timecode(rig):
    """What the chase did over the render, in the show's timecode."""
    from .show.timecode import Timecode
    rate = rig.show.timecode.rate
    status = rig.engine.telemetry().timecode
    print(f"Timecode: {status.frames_decoded} frames decoded, {status.frames_rejected} rejected, "
          f"{status.relocations} relocations; {status.state} at the end")
    for _, text, warning in rig.engine.timecode_rate_reports:
        print(f"WARNING: {text}" if warning else text)
    sample_rate = rig.engine.settings.sample_rate
    for event in rig.engine.timecode_events:
        if event.what != "locking":
            label = Timecode.from_frames(math.floor(event.frame), rate)
            print(f"  {event.sample / sample_rate:9.3f} s  {event.what:<18} {label}")


def command_run(args) -> int:
    import logging
    import threading

    from .control.console import COMMANDS, read_commands
    from .midi.ports import close_midi_inputs
    from .control.terminal import Terminal
    from .engine import KeptStream, NotificationPump, choose_device, realtime_threads
    from .show.cues import CueRunner
    rig = _load_rig(args)
    engine = rig.engine
    settings = engine.settings
    rate = settings.sample_rate
    for line in _describe_rig(rig):
        print(line)
    from .engine import wait_for_a_block
    runner = CueRunner(rig, engine.producer("show"), wait_for_block=lambda: wait_for_a_block(engine))
    for line in _describe_cues(runner):
        print(line)
    _warn_about_stems(runner)
    _warn_about_instruments(rig)
    _prepare_kernels()
    runner.arm()

    terminal = Terminal()
    say = _sayer(terminal, engine, rig.show.timecode.rate)
    interrupted = quit_asked = False
    with contextlib.ExitStack() as stack:
        osc_server = _open_osc(rig, stack)
        server = None
        if args.jack_dummy:
            from .jackserver import PrivateJackServer, realtime_allowed
            realtime = realtime_allowed()  # as on a show machine, where the user may
            server = PrivateJackServer(sample_rate=rate, period=rig.block_size,
                                       capture_channels=max(1, settings.input_channels),
                                       playback_channels=settings.output_channels, realtime=realtime)
            print(f"Starting a private JACK server {server.name!r} (dummy driver, {rate} Hz, "
                  f"period {rig.block_size}, {'real-time' if realtime else 'no real-time'} scheduling)")
            server.start()
            stack.callback(server.stop)
        stream = KeptStream(engine.state, lambda: choose_device(rig.device, settings.output_channels,
                                                                settings.input_channels),
                            rig.block_size, report=say, private_server=server)
        stream_times = [time.monotonic()]
        stack.callback(lambda: stream_times.append(time.monotonic()))  # after the stream's close, below
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
        log_handler = terminal.log_handler(when=say.when)
        logging.getLogger("liveengine").addHandler(log_handler)
        stack.callback(logging.getLogger("liveengine").removeHandler, log_handler)
        stack.enter_context(NotificationPump(engine))
        rig.streamer.start()
        stack.callback(rig.streamer.stop)
        if any(instrument.type == "synth" for instrument in rig.show.instruments.values()):
            from .control.patchwatch import PatchWatcher
            stack.enter_context(PatchWatcher(rig, engine.producer("control"), report=say))
        if rig.show.timecode.source == "mtc":
            stack.callback(close_midi_inputs, _open_mtc(rig))
        started = time.monotonic()
        while not engine.clock.running:
            if time.monotonic() - started > 5:
                raise UsageError("the audio stream started but its callback is not being called")
            time.sleep(0.005)
        show_start = engine.position + round(START_LEAD_SECONDS * rate)
        runner.start(show_start)
        if rig.show.timecode.mtc_output is not None:
            stack.callback(_send_mtc(rig, runner, _open_midi_output(rig), show_start))
        if rig.show.conductor.midi_input is not None:
            stack.callback(close_midi_inputs, _open_pedal(rig, runner))
        keyboards = _start_keyboards(rig, runner, stack, say) if rig.show.keyboards else None
        if osc_server is not None:
            terminal.message(_start_osc(osc_server, rig, runner, stack, keyboards, audio=stream))
        quit_requested = threading.Event()
        read_commands(runner, report=lambda text: terminal.message(text, error=True), on_quit=quit_requested.set)
        terminal.message(f"Conductor commands (type, then Enter): {COMMANDS}")
        # Keyboardists may play at any moment: a show with keyboards runs until it is stopped.
        ends_by_itself = rig.show.timecode.source == "none" and not rig.show.keyboards
        reports = _EngineReports(engine, rig.show.timecode.rate, say)
        done_at = None  # when a show that ends by itself had played every cue and part
        next_status = 0.0
        shown = 0
        watchdog = CallbackWatchdog(engine, report=terminal.message)
        try:
            while not quit_requested.is_set():
                elapsed = time.monotonic() - started
                watchdog.check()
                stream.check()
                runner.update(engine.position)
                shown = _print_decisions(runner, shown, say)
                reports.check(elapsed)
                if args.seconds is not None:
                    if elapsed >= args.seconds:
                        break
                elif ends_by_itself and runner.finished():
                    done_at = elapsed if done_at is None else done_at
                    if _tails_ended(engine.telemetry()):
                        say("the show is over: every cue and part has played and every sound has ended")
                        break
                    if elapsed - done_at >= TAIL_LIMIT_SECONDS:
                        say(f"the show is over, but {engine.telemetry().voices} voices still sound "
                            f"{TAIL_LIMIT_SECONDS} s after its last event (a held note?): stopping", error=True)
                        break
                if elapsed >= next_status:
                    # While the audio is lost its meters would stand still at their last values.
                    line = f"{elapsed:7.1f} s  AUDIO LOST: no sound, reconnecting" if stream.lost \
                        else _status_line(engine.telemetry(), rig.show.timecode.rate, elapsed)
                    terminal.status(f"{line}  {runner.status()}")
                    next_status += 0.25 if terminal.interactive else 2.0
                time.sleep(0.01)
            quit_asked = quit_requested.is_set()
        except KeyboardInterrupt:
            interrupted = True
        if interrupted or quit_asked:
            say(f"{'interrupted' if interrupted else 'quit'}: stopping, all notes off")
            runner.panic()
            runner.update(engine.position)
            time.sleep(0.05)
        terminal.close()
    for line in _live_summary(engine.telemetry(), stream_times[-1] - stream_times[0], rate):
        print(line)
    for line in engine.refusal_report():
        print(f"  {line}")
    return EXIT_INTERRUPTED if interrupted else 0


TAIL_FLOOR_DBFS = -90.0  # a sound below this has ended


def _tails_ended(t) -> bool:
    """No voice sounds and every bus meter (what inserts and tails add) reads below TAIL_FLOOR_DBFS."""
    return t.voices == 0 and all(max(meter.peak_dbfs) < TAIL_FLOOR_DBFS for meter in t.buses.values())


def _sayer(terminal, engine, timecode_rate):
    """say(text, error=False): a message to the operator, after the show's time (its timecode while
    the timecode runs, else the seconds since the stream started)."""
    def when() -> str:
        status = engine.telemetry().timecode
        if status.state in ("locked", "freewheel"):
            from .show.timecode import Timecode
            return str(Timecode.from_frames(math.floor(status.position), timecode_rate))
        return f"{engine.position / engine.settings.sample_rate:.1f} s"

    def say(text: str, error: bool = False):
        terminal.message(f"{when()} {text}", error=error)

    say.when = when
    return say


class _EngineReports:
    """What the audio thread reported, worded for the operator: timecode events one by one; late
    events, rejected timecode frames and samples not ready counted, a line a second at most for each.
    (Refused notes are said by the engine once per instrument and reason, and counted in the summary.)"""

    def __init__(self, engine, timecode_rate, say):
        self.engine = engine
        self.timecode_rate = timecode_rate
        self.say = say
        t = engine.telemetry()
        self._late, self._not_ready = t.late_events, t.samples_not_ready
        self._rejected = t.timecode.frames_rejected
        self._rate_reports = engine.timecode_rate_reports_made
        self._next_count = 0.0

    def check(self, elapsed: float):
        from .show.timecode import Timecode
        engine = self.engine
        while engine.timecode_events:
            event = engine.timecode_events.popleft()
            if event.what not in ("locking", "frame rejected"):
                where = Timecode.from_frames(math.floor(event.frame), self.timecode_rate)
                self.say(f"timecode {event.what} at {where}")
        reports, self._rate_reports = engine.timecode_rate_reports_since(self._rate_reports)
        for _, text, warning in reports:
            self.say(text, error=warning)
        if elapsed < self._next_count:
            return
        self._next_count = elapsed + 1.0
        t = engine.telemetry()
        sample_rate = engine.settings.sample_rate
        if t.late_events > self._late:
            new = list(engine.late_events)[-(t.late_events - self._late):]
            worst = max((late.applied_sample - late.wanted_sample for late in new), default=0) / sample_rate * 1000
            kinds = ", ".join(sorted({late.kind for late in new}))
            self.say(f"{t.late_events - self._late} late events ({kinds}), up to {worst:.0f} ms late: they arrived "
                     f"after their block had played; {t.late_events} since the start", error=True)
        if t.timecode.frames_rejected > self._rejected:
            self.say(f"{t.timecode.frames_rejected - self._rejected} timecode frames rejected: they did not follow "
                     "the picture's line (a glitch)", error=True)
        if t.samples_not_ready > self._not_ready:
            self.say(f"{t.samples_not_ready - self._not_ready} notes played silence: their samples were not read "
                     "from disk in time", error=True)
        self._late, self._not_ready = t.late_events, t.samples_not_ready
        self._rejected = t.timecode.frames_rejected


def _print_decisions(runner, shown: int, say) -> int:
    """Say the runner's decisions made since the `shown` first; returns how many are shown now."""
    decisions = list(runner.decisions)
    total = runner.decisions_made
    for decision in decisions[len(decisions) - min(total - shown, len(decisions)):]:
        cue = f"cue {decision.cue}: " if decision.cue else ""
        say(f"{cue}{decision.text}")
    return total


def command_devices(args) -> int:
    from .engine import describe_devices
    print("Audio devices:")
    print(describe_devices())
    return 0


def _rate_and_timecode(rate_text: str, timecode_text: str):
    from .show.timecode import Timecode, frame_rate
    try:
        rate = frame_rate(rate_text)
        return rate, Timecode.parse(timecode_text, rate)
    except ValueError as error:
        raise UsageError(str(error)) from None


def command_ltc_generate(args) -> int:
    from .show import ltcfile
    rate, start = _rate_and_timecode(args.rate, args.start)
    if args.seconds <= 0:
        raise UsageError(f"--seconds must be positive, got {args.seconds:g}")
    try:
        ltcfile.generate(args.output, rate, start, args.seconds, args.sample_rate, args.level_db, args.user_bits)
    except ltcfile.LtcFileError as error:
        raise UsageError(str(error)) from None
    print(f"Wrote {args.seconds:g} s of {rate.name} fps LTC from {start} to {args.output} "
          f"({args.sample_rate} Hz, {args.level_db:g} dBFS)")
    return 0


def command_ltc_decode(args) -> int:
    import json

    from .show import ltcfile
    from .show.timecode import frame_rate
    try:
        rate = None if args.rate == "auto" else frame_rate(args.rate)
        recording = ltcfile.read(args.input, args.channel - 1, rate)
    except (ValueError, ltcfile.LtcFileError) as error:
        raise UsageError(str(error)) from None
    frames = recording.frames
    # A frame's sample is the first of it in the file, in either direction of play.
    if args.json:
        print(json.dumps([{"timecode": frame.timecode, "sample": round(frame.first_sample), "reverse": frame.reverse}
                          for frame in frames]))
    else:
        for frame in frames:
            direction = "  reverse" if frame.reverse else ""
            print(f"{frame.timecode}  sample {round(frame.first_sample)}{direction}")
    if not frames:
        print(f"liveengine: no LTC found on channel {args.channel} of {args.input}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{len(frames)} frames at {recording.rate.name} fps", file=sys.stderr)
    return 0


def command_monitor(args) -> int:
    from .control.monitor import parse_target, run_monitor
    try:
        host, port = parse_target(args.target)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return run_monitor(host, port, rate=args.rate, seconds=args.seconds)


def command_osc(args) -> int:
    from .control.monitor import parse_target
    from .control.oscrequest import run_request
    try:
        host, port = parse_target(args.target)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if not args.timeout > 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout:g}")
    return run_request(host, port, args.address, args.arguments, timeout=args.timeout, tcp=args.tcp)


def command_bench(args) -> int:
    from .bench import run_benchmarks
    return run_benchmarks(args)


def bench_part(name: str) -> str:
    """A part of `liveengine bench`; the peer comparisons that left it say where they went."""
    if name in PEER_COMPARISONS:
        peer, script = PEER_COMPARISONS[name]
        raise argparse.ArgumentTypeError(
            f"'{name}' is no longer part of liveengine bench: the comparison with {peer} is a script in "
            f"liveengine's source tree; run `python {script} [--quick]` in a checkout")
    return name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liveengine", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="play a show live")
    run.add_argument("show", help="show file (TOML)")
    run.add_argument("--jack-dummy", action="store_true",
                     help="run on a private JACK server with the dummy driver (no sound card needed)")
    run.add_argument("--seconds", type=float, help="stop after this many seconds")
    _add_audio_options(run, device=True)
    _add_osc_options(run)
    run.set_defaults(handler=command_run)

    render = commands.add_parser("render", help="render a show offline to a WAV or FLAC file")
    render.add_argument("show", help="show file (TOML)")
    render.add_argument("-o", "--output", required=True, help="output file (.wav, .flac)")
    render.add_argument("--seconds", type=float, help="length to render (default: the whole show)")
    render.add_argument("--subtype", default="PCM_24", help="sample format, e.g. PCM_16, PCM_24, FLOAT")
    render.add_argument("--ltc", metavar="IN.wav",
                        help="a recording of the picture's LTC to chase, heard on the show's timecode input")
    render.add_argument("--go", metavar="SECONDS", type=float, action="append", default=[],
                        help="the conductor presses GO this many seconds into the render (repeatable)")
    _add_audio_options(render, device=False)
    render.set_defaults(handler=command_render)

    play = commands.add_parser("play", help="render a MIDI file through one instrument (SFZ, SF2 or synth patch), "
                                            "like fluidsynth -F")
    play.add_argument("patch", help="instrument: an SFZ file, an SF2 bank, or a synth patch (a .toml file, or a "
                                    "shipped patch's name such as warm_pad)")
    play.add_argument("--midi", required=True, metavar="FILE.mid", help="Standard MIDI File (type 0 or 1)")
    play.add_argument("-o", "--output", required=True, help="output file (.wav, .flac)")
    play.add_argument("--sample-rate", type=int, choices=SAMPLE_RATES, default=44100,
                      help="default 44100, as fluidsynth's")
    play.add_argument("--block", type=_block_size, default=64, help="frames per block, 32-1024 (default 64)")
    play.add_argument("--interpolation", choices=("cubic", "linear"), default="cubic",
                      help="of sample voices (default cubic)")
    play.add_argument("--polyphony", type=int, default=512, help="voices at once (default 512)")
    play.add_argument("--gain", type=float, default=0.0, metavar="DB", help="output gain in dB (default 0)")
    play.add_argument("--seconds", type=float, help="length to render (default: the file and its release tails)")
    play.add_argument("--bank", type=int, help="SF2 bank of one preset for every channel, program changes ignored")
    play.add_argument("--program", type=int, help="SF2 program of that preset (default 0)")
    play.add_argument("--subtype", default="PCM_24", help="sample format, e.g. PCM_16, PCM_24, FLOAT")
    play.set_defaults(handler=command_play)

    check = commands.add_parser("check", help="validate a show file and describe it, or check an instrument file")
    check.add_argument("show", help="show file (TOML), or an SFZ file or SF2 bank")
    _add_audio_options(check, device=True)
    check.set_defaults(handler=command_check)

    demo = commands.add_parser("demo", help="copy the demo show (demo.toml) into a folder, to try and to edit")
    demo.add_argument("folder", nargs="?", default=".", help="where to write demo.toml (default: here)")
    demo.set_defaults(handler=command_demo)

    devices = commands.add_parser("devices", help="list audio devices")
    devices.set_defaults(handler=command_devices)

    ltc = commands.add_parser("ltc", help="generate or decode LTC timecode audio files")
    ltc_commands = ltc.add_subparsers(dest="ltc_command", required=True, metavar="ACTION")
    generate = ltc_commands.add_parser("generate", help="write LTC to an audio file")
    generate.add_argument("--rate", required=True, help="frame rate: 23.976, 24, 25, 29.97df, 29.97, 30")
    generate.add_argument("--start", default="01:00:00:00", help="first frame (default 01:00:00:00)")
    generate.add_argument("--seconds", type=float, required=True)
    generate.add_argument("-o", "--output", required=True, help="output file (.wav, .flac)")
    generate.add_argument("--sample-rate", type=int, choices=SAMPLE_RATES, default=48000)
    generate.add_argument("--level-db", type=float, default=-18.0, help="peak level in dBFS (default -18)")
    generate.add_argument("--user-bits", type=lambda text: int(text, 0), default=0,
                          help="32 user bits, e.g. 0x12345678")
    generate.set_defaults(handler=command_ltc_generate)
    decode = ltc_commands.add_parser("decode", help="read the LTC frames of an audio file")
    decode.add_argument("input", help="audio file carrying LTC")
    decode.add_argument("--channel", type=int, default=1, help="channel carrying the LTC (default 1)")
    decode.add_argument("--rate", default="auto", help="frame rate, or auto (default) to detect it")
    decode.add_argument("--json", action="store_true",
                        help='print a JSON list, a frame each: {"timecode": "01:00:00:00", "sample": 1234, '
                             '"reverse": false}, "sample" the first of the frame in the file')
    decode.set_defaults(handler=command_ltc_decode)

    monitor = commands.add_parser("monitor", help="watch a running engine's OSC feed: timecode, cues, meters, alerts")
    monitor.add_argument("target", metavar="HOST:PORT", help="the engine's OSC address, e.g. localhost:53100")
    monitor.add_argument("--rate", type=float, default=10.0, help="updates per second, 1-30 (default 10)")
    monitor.add_argument("--seconds", type=float, help="stop after this many seconds")
    monitor.set_defaults(handler=command_monitor)

    osc = commands.add_parser("osc", help="send one OSC message to a running engine and print its reply",
                              description="Send one OSC message to a running engine, from a port that stays open "
                                          "for the reply, and print the reply's JSON. Arguments are typed as "
                                          "oscsend's (a first argument of type tags: `ff -6 2`) or by their look "
                                          "(an integer is i, another number f, anything else a string).")
    osc.add_argument("target", metavar="HOST:PORT", help="the engine's OSC address, e.g. localhost:53100")
    osc.add_argument("address", metavar="ADDRESS", help="e.g. /buses, /go, /bus/keys/gain")
    osc.add_argument("arguments", metavar="ARG", nargs="*", help="the message's arguments, e.g. -6 2, or ff -6 2")
    osc.add_argument("--tcp", action="store_true", help="over TCP (OSC 1.1, SLIP-framed) instead of UDP")
    osc.add_argument("--timeout", type=float, default=2.0, metavar="SECONDS",
                     help="how long to wait for the reply (default 2)")
    osc.set_defaults(handler=command_osc)

    bench = commands.add_parser("bench", help="qualify this machine for a show: kernel cost, live delivery, timecode, OSC, MIDI")
    bench.add_argument("--quick", action="store_true", help="fewer blocks and shorter live runs")
    bench.add_argument("--part", type=bench_part, choices=PARTS, default="all",
                       help="core: render cost and live delivery; timecode: LTC decoding, chase and cue timing; "
                            "osc: command round trips and the rate sustained beside 256 live voices; "
                            "midi: MIDI-in to audio-out latency and jitter")
    bench.set_defaults(handler=command_bench)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .engine import AudioDeviceError
    from .jackserver import JackServerError
    try:
        return args.handler(args)
    except ShowFileError as error:
        print("\n".join(error.problems), file=sys.stderr)
        return EXIT_SHOW_FILE
    except (AudioDeviceError, JackServerError) as error:
        print(f"liveengine: {error}", file=sys.stderr)
        return EXIT_AUDIO
    except UsageError as error:
        print(f"liveengine: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
