"""Opening MIDI ports by name: inputs for timecode and the conductor's pedal, outputs for thru;
closing MIDI inputs without racing the backends' threads that call into Python."""

import logging
import re
import time

import rtmidi

log = logging.getLogger("liveengine.midi")

# Errors that opening or closing a port may raise: reported, never raised to the show.
# (rtmidi.SystemError, the backend failing, is an RtMidiError; ValueError: the port went
# away between listing and opening.)
PORT_ERRORS = (rtmidi.RtMidiError, SystemError, ValueError)

# Closing waits this long, with the GIL released, for a callback that is already on its way
# into Python (waiting for the GIL) to finish, before the backend's thread is stopped.
CALLBACK_DRAIN_SECONDS = 0.02


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
    (a regular expression, case-insensitive). `handle(message, arrival_ns)` gets each message's
    bytes and its CLOCK_MONOTONIC arrival. `timing`: pass SysEx and timing messages too (MTC).
    Close it with :func:`close_midi_inputs`."""
    midi_in = rtmidi.MidiIn(rtmidi.API_UNSPECIFIED if api is None else api, name=client_name)
    port = _matching_port(midi_in, port_pattern, "input")

    def on_message(event, _data):
        arrival_ns = time.monotonic_ns()  # first thing: rtmidi's delta times are not reliable
        handle(event[0], arrival_ns)

    midi_in.ignore_types(sysex=not timing, timing=not timing, active_sense=True)
    midi_in.set_callback(on_message)
    midi_in.open_port(port, port_name)
    return midi_in


def silence_midi_input(midi_in: rtmidi.MidiIn) -> None:
    """Stop `midi_in`'s backend from starting new calls into Python; on JACK its callback is
    kept (for the next port it opens), elsewhere it is cancelled. Errors are logged."""
    try:
        if midi_in.get_current_api() == rtmidi.API_UNIX_JACK:
            # Unregister the JACK port, keeping the callback: RtMidi's JACK process callback
            # returns at once without a port, so no new message starts.
            rtmidi.MidiIn.__base__.close_port(midi_in)
        else:
            # ALSA gives no other way: a message arriving at this very instant remains a risk.
            midi_in.cancel_callback()
    except PORT_ERRORS as error:
        _closing_failed(midi_in, error)


def close_midi_inputs(*midi_ins: rtmidi.MidiIn, keep_clients: bool = False) -> None:
    """Close MidiIns without racing their backends' threads; delete them too, unless
    `keep_clients` (their ports are closed, and they can open others). Errors are logged.

    python-rtmidi holds the GIL while it closes, and a backend's thread may be waiting for
    the GIL to deliver a message: MidiIn.close_port frees the callback that thread is about
    to use, ALSA's closing joins that thread (a deadlock), and closing a JACK client kills
    it there. So every input is silenced first, and the closing waits with the GIL released
    for the calls on their way (CALLBACK_DRAIN_SECONDS). Close inputs that are open together
    in one call: closing a JACK client while another input's callback waits for the GIL
    stalls that callback for JACK's client timeout."""
    if not midi_ins:
        return
    for midi_in in midi_ins:
        silence_midi_input(midi_in)
    time.sleep(CALLBACK_DRAIN_SECONDS)
    for midi_in in midi_ins:
        try:
            midi_in.close_port()
        except PORT_ERRORS as error:
            _closing_failed(midi_in, error)
        if not keep_clients:
            midi_in.delete()


def _closing_failed(midi_in: rtmidi.MidiIn, error: Exception) -> None:
    log.warning("closing a MIDI input (%s) failed: %s", rtmidi.get_api_display_name(midi_in.get_current_api()), error)
