"""Opening MIDI ports by name: inputs for timecode and the conductor's pedal, outputs for thru."""

import re
import time


def _matching_port(midi_port, port_pattern: str, kind: str) -> int:
    ports = midi_port.get_ports()
    matching = [index for index, name in enumerate(ports) if re.search(port_pattern, name, re.IGNORECASE)]
    if not matching:
        midi_port.delete()
        raise ValueError(f"no MIDI {kind} port matches {port_pattern!r}; ports: {', '.join(ports) or 'none'}")
    return matching[0]


def open_midi_output(port_pattern: str, *, api: int | None = None, client_name: str = "liveengine",
                     port_name: str = "out"):
    """A python-rtmidi MidiOut connected to the first port whose name matches `port_pattern`."""
    import rtmidi
    midi_out = rtmidi.MidiOut(rtmidi.API_UNSPECIFIED if api is None else api, name=client_name)
    midi_out.open_port(_matching_port(midi_out, port_pattern, "output"), port_name)
    return midi_out


def open_midi_input(port_pattern: str, handle, *, api: int | None = None, client_name: str = "liveengine",
                    port_name: str = "in", timing: bool = False):
    """A python-rtmidi MidiIn connected to the first port whose name matches `port_pattern`
    (a regular expression, case-insensitive). `handle(message, arrival_ns)` gets each message's
    bytes and its CLOCK_MONOTONIC arrival. `timing`: pass SysEx and timing messages too (MTC).
    Close it with `close_port()` and `delete()`."""
    import rtmidi
    midi_in = rtmidi.MidiIn(rtmidi.API_UNSPECIFIED if api is None else api, name=client_name)
    port = _matching_port(midi_in, port_pattern, "input")

    def on_message(event, _data):
        arrival_ns = time.monotonic_ns()  # first thing: rtmidi's delta times are not reliable
        handle(event[0], arrival_ns)

    midi_in.ignore_types(sysex=not timing, timing=not timing, active_sense=True)
    midi_in.set_callback(on_message)
    midi_in.open_port(port, port_name)
    return midi_in
