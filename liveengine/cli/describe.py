"""A show described for whoever runs it (`check`, and `run` before it starts): its rig, its cue list, and
what its samples take in memory."""

import sys


def _plugin_text(state: dict) -> str:
    latency = f", latency {state['latency_samples']} samples" if state["latency_samples"] else ""
    return f"{state['plugin']} <{state['uri']}>{latency}"


def _describe_inserts(rig, bus: str) -> list[str]:
    number = rig.engine.state.bus_index[bus]
    chain = [column for column in rig.engine.state.bus_inserts[number] if column >= 0] \
        if rig.show.buses[bus].inserts else []
    lines = []
    for position, column in enumerate(chain, 1):
        state = rig.engine.plugins.state_of(column)
        bypassed = ", bypassed" if state.get("bypassed") else ""
        lines.append(f"    insert {position}: {_plugin_text(state)}{bypassed}")
    return lines


def describe_rig(rig) -> list[str]:
    settings = rig.engine.settings
    block_ms = rig.block_size / settings.sample_rate * 1000
    lines = [f"{rig.show.name}: {settings.sample_rate} Hz, block {rig.block_size} ({block_ms:.2f} ms), "
             f"{settings.output_channels} outputs, {settings.input_channels} inputs, {settings.polyphony} voices"]
    for bus in rig.show.buses.values():
        route = f"outputs {', '.join(str(ch + 1) for ch in bus.outputs)}" if bus.outputs else \
            f"feeds {bus.feeds}" if bus.feeds else "no outputs (silent)"
        mute = ", muted" if bus.mute else ""
        lines.append(f"  bus {bus.name:<8} {bus.gain_db:+.1f} dB{mute}, {route}")
        lines += _describe_inserts(rig, bus.name)
    if rig.latency_samples:
        lines.append(f"  latency of the inserts: {rig.latency_samples} samples "
                     f"({rig.latency_samples / settings.sample_rate * 1000:.2f} ms); every bus is held back to match")
    for name, instrument in rig.show.instruments.items():
        if instrument.type == "lv2" and name in rig.instrument_problems:
            lines.append(f"  instrument {name}: lv2 <{instrument.plugin.uri}>, not loaded")
        elif instrument.type == "lv2":
            column = rig.engine.plugins.instrument_column(rig.instrument_numbers[name])
            lines.append(f"  instrument {name}: lv2 {_plugin_text(rig.engine.plugins.state_of(column))}, "
                         f"{instrument.gain_db:+.1f} dB")
        elif instrument.type == "tone":
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
    web = rig.show.web
    if web.enabled:
        hits = f"; {len(rig.show.hits)} hits of the show's own" if rig.show.hits else ""
        lines.append(f"  pages: port {web.port} on {', '.join(web.bind)}, clients {', '.join(web.allow)}, "
                     f"{'a view token' if web.view_token else 'no view token'}{hits}")
    timecode = rig.show.timecode
    if timecode.source == "ltc":
        lines.append(f"  timecode: chase LTC on input {timecode.input + 1} at {timecode.rate.name} fps, "
                     f"freewheel {timecode.freewheel_seconds:g} s, {_followed(timecode)}")
    elif timecode.source == "mtc":
        lines.append(f"  timecode: chase MTC from MIDI input {timecode.midi_input!r} at {timecode.rate.name} fps, "
                     f"freewheel {timecode.freewheel_seconds:g} s, {_followed(timecode)}")
    if timecode.ltc_output is not None:
        lines.append(f"  timecode master: LTC at {timecode.rate.name} fps on output {timecode.ltc_output + 1}, "
                     f"from {timecode.master_start}")
    if timecode.mtc_output is not None:
        lines.append(f"  timecode master: MTC at {timecode.rate.name} fps on MIDI port {timecode.mtc_output!r}, "
                     f"from {timecode.master_start}")
    from ..instruments.samples import sample_sizes
    return lines + describe_sample_memory({name: sample_sizes([loaded]) for name, loaded in rig.sampled.items()},
                                          rig.streamer)


def describe_sample_memory(sizes: dict, streamer=None) -> list[str]:
    """What each sampled instrument's samples take in memory, and all of them (a sample once however
    many play it): `sizes`, the SampleSizes of each instrument by name; `streamer`, the SampleStreamer
    serving them (None: nothing streams yet)."""
    from ..instruments.samples import sample_memory
    if not sizes:
        return []

    def figures(memory) -> str:
        streamed = "" if streamer is None else f"{_megabytes(memory.streamed)} streamed now of "
        return (f"{_megabytes(memory.preloaded)} preloaded, {streamed}{_megabytes(memory.in_full)} "
                "if every sample plays to its end")

    total = sample_memory({key: size for each in sizes.values() for key, size in each.items()}, streamer)
    budget = "" if streamer is None else f" (streaming holds at most {_megabytes(streamer.budget_bytes)})"
    lines = [f"  sample memory in all: {figures(total)}{budget}"]
    each = {name: sample_memory(instrument_sizes, streamer) for name, instrument_sizes in sizes.items()}
    lines += [f"    {name}: {figures(memory)}" for name, memory in each.items()]
    if sum(memory.preloaded + memory.in_full for memory in each.values()) > total.preloaded + total.in_full:
        lines.append("    (a sample that several instruments play is held once and counted once in all)")
    return lines


def _megabytes(size: int) -> str:
    return f"{size / (1 << 20):.1f} MB"


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


def describe_cues(runner) -> list[str]:
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


def warn_about_stems(runner):
    """The show goes on without a stem that cannot be read; whoever runs it must know."""
    for problem in runner.stems.problems:
        print(f"WARNING: {problem}; its cues play everything else", file=sys.stderr, flush=True)


def _followed(timecode) -> str:
    return f"cues follow the picture's clock within {100 * timecode.follow_speed:g} % of its speed"
