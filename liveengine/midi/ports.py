"""Opening MIDI ports by name: inputs for timecode and the conductor's pedal, outputs for thru."""

import logging
import re

import rtmidi

from .poller import shared_poller

log = logging.getLogger("liveengine.midi")

# Errors that opening or closing a port may raise: reported, never raised to the show.
# (rtmidi.SystemError, the backend failing, is an RtMidiError; ValueError: the port went
# away between listing and opening.)
PORT_ERRORS = (rtmidi.RtMidiError, SystemError, ValueError)


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
    midi_out = rtmidi.MidiOut(rtmidi.API_UNSPECIFIED if api is None else api, name=client_name)
    midi_out.open_port(_matching_port(midi_out, port_pattern, "output"), port_name)
    return midi_out


def open_midi_input(port_pattern: str, handle, *, api: int | None = None, client_name: str = "liveengine",
                    port_name: str = "in", timing: bool = False):
    """A python-rtmidi MidiIn connected to the first port whose name matches `port_pattern`
    (a regular expression, case-insensitive), read by the process's MIDI thread (`midi.poller`):
    `handle(message, arrival_ns)` gets each message's bytes and its CLOCK_MONOTONIC arrival there.
    `timing`: pass system messages too (MTC's quarter frames and SysEx). Close it with
    :func:`close_midi_inputs`."""
    midi_in = rtmidi.MidiIn(rtmidi.API_UNSPECIFIED if api is None else api, name=client_name)
    port = _matching_port(midi_in, port_pattern, "input")
    poller = shared_poller()
    poller.listen(midi_in, handle, system_messages=timing, name=f"MIDI input {port_pattern!r}")
    try:
        midi_in.open_port(port, port_name)
    except PORT_ERRORS:
        poller.forget(midi_in)
        midi_in.delete()
        raise
    return midi_in


def close_midi_inputs(*midi_ins: rtmidi.MidiIn, keep_clients: bool = False) -> None:
    """Stop reading MidiIns and close them; delete them too, unless `keep_clients` (their ports
    are closed, and they can open others). Errors are logged."""
    poller = shared_poller()
    for midi_in in midi_ins:
        poller.forget(midi_in)
        try:
            midi_in.close_port()
        except PORT_ERRORS as error:
            _closing_failed(midi_in, error)
        if not keep_clients:
            midi_in.delete()


def _closing_failed(midi_in: rtmidi.MidiIn, error: Exception) -> None:
    log.warning("closing a MIDI input (%s) failed: %s", rtmidi.get_api_display_name(midi_in.get_current_api()), error)
