"""Opening MIDI input ports by name, for timecode and for the conductor's pedal."""

import re
import time


def open_midi_input(port_pattern: str, handle, *, api: int | None = None, client_name: str = "liveengine",
                    port_name: str = "in", timing: bool = False):
    """A python-rtmidi MidiIn connected to the first port whose name matches `port_pattern`
    (a regular expression, case-insensitive). `handle(message, arrival_ns)` gets each message's
    bytes and its CLOCK_MONOTONIC arrival. `timing`: pass SysEx and timing messages too (MTC).
    Close it with `close_port()` and `delete()`."""
    import rtmidi
    midi_in = rtmidi.MidiIn(rtmidi.API_UNSPECIFIED if api is None else api, name=client_name)
    ports = midi_in.get_ports()
    matching = [index for index, name in enumerate(ports) if re.search(port_pattern, name, re.IGNORECASE)]
    if not matching:
        midi_in.delete()
        raise ValueError(f"no MIDI input port matches {port_pattern!r}; ports: {', '.join(ports) or 'none'}")

    def on_message(event, _data):
        arrival_ns = time.monotonic_ns()  # first thing: rtmidi's delta times are not reliable
        handle(event[0], arrival_ns)

    midi_in.ignore_types(sysex=not timing, timing=not timing, active_sense=True)
    midi_in.set_callback(on_message)
    midi_in.open_port(matching[0], port_name)
    return midi_in
