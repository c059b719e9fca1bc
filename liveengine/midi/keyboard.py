"""The keyboardists' playing: MIDI messages through keyboard setups into engine events.

A setup is layers (an instrument over a range of keys and velocities, transposed, with a
velocity curve, a channel, a bus and a level) and controller maps. Every key held remembers
the notes it started, so its note-off releases exactly them whatever setup has taken over
since: a setup change takes the next notes, and what rings goes on ringing until released.
The notes, sustain (64), sostenuto (66), all notes off (123), all sound off (120) and reset all
controllers (121) mean what `midi.channel` says, as for a MIDI file; soft (67) plays new notes
softer. Pitch bend, aftertouch (channel and poly) and every controller reach the instruments of
the current setup. A program change selects
the setup that has its number, and reaches the instruments of the setup then in force (SFZ
regions with loprog/hiprog follow it).

All of it runs in one thread, which owns the engine's "keyboards" ring: the MIDI thread
(`midi.poller`) only queues what arrived, with its arrival time, and the arrival becomes the
sample the note sounds on (DESIGN.md §4).
"""

import collections
import logging
import os
import queue
import threading
from dataclasses import dataclass

import numpy as np

from .setups import ControlConfig, KeyboardConfig, LayerConfig, SetupConfig
from ..engine import Producer, RingFullError, events
from ..levels import db_to_gain
from .channel import MOD_WHEEL, SOFT, ChannelState
from .poller import MIDI_THREAD_PRIORITY

log = logging.getLogger("liveengine.midi")

NOTE_OFF, NOTE_ON, POLY_PRESSURE, CONTROL_CHANGE, PROGRAM_CHANGE, CHANNEL_PRESSURE, PITCH_BEND = \
    0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0, 0xE0
SOFT_PEDAL_LEVEL = 0.7  # una corda: new notes at this share of their level
QUEUE_CAPACITY = 8192  # messages waiting for the keyboard thread; beyond, dropped and counted
BACKLOG_TICK_SECONDS = 0.002  # how often the thread posts what a full ring held back


def velocity_level(curve, fixed: float, velocity: int) -> float:
    """A MIDI velocity (1-127) as a level 0..1 through a layer's curve."""
    x = velocity / 127.0
    if curve == "linear":
        return x
    if curve == "soft":  # loud sooner: a light touch still speaks
        return x ** 0.5
    if curve == "hard":  # loud later: it takes a firm touch
        return x * x
    if curve == "fixed":
        return fixed
    inputs, outputs = zip(*curve)
    return float(np.interp(velocity, inputs, outputs))


def control_value(control: ControlConfig, value: int) -> float:
    x = value / 127.0
    shaped = {"linear": x, "soft": x ** 0.5, "hard": x * x}[control.curve]
    return control.low + (control.high - control.low) * shaped


@dataclass(frozen=True)
class Layer:
    config: LayerConfig
    instrument: int
    bus: int
    gain: float

    def plays(self, channel: int, key: int, velocity: int) -> bool:
        c = self.config
        return (c.channel is None or c.channel == channel) and c.keys[0] <= key <= c.keys[1] \
            and c.velocities[0] <= velocity <= c.velocities[1]


@dataclass(frozen=True)
class Setup:
    config: SetupConfig
    layers: tuple[Layer, ...]
    controls: tuple[tuple[ControlConfig, int], ...]  # with the instrument's number

    def instruments_on(self, channel: int) -> set[int]:
        return {layer.instrument for layer in self.layers
                if layer.config.channel is None or layer.config.channel == channel}


class KeyboardState:
    """What one keyboard holds: its setup, and each channel's notes, pedals and controllers."""

    def __init__(self, config: KeyboardConfig, setup: Setup):
        self.config = config
        self.setup = setup
        self.channels: collections.defaultdict[int, ChannelState] = collections.defaultdict(ChannelState)  # 1-based


class Keyboards:
    """Every keyboard of a show. `receive` may be called from any thread; everything else runs in
    the keyboard thread (started by `start`), or in the caller's thread when driven by `play`."""

    def __init__(self, keyboards: dict[str, KeyboardConfig], setups: dict[str, SetupConfig],
                 instrument_numbers: dict[str, int], engine, producer: Producer, report=None):
        self.engine = engine
        self.producer = producer
        self.setups = {name: Setup(config, tuple(
            Layer(layer, instrument_numbers[layer.instrument], engine.bus_number(layer.bus), db_to_gain(layer.level_db))
            for layer in config.layers), tuple((control, instrument_numbers[control.instrument])
                                               for control in config.controls))
            for name, config in setups.items()}
        self.keyboards = {name: KeyboardState(config, self.setups[config.setup]) for name, config in keyboards.items()}
        self.report = report or (lambda text: log.info("%s", text))
        self._next_note_id = 0
        self._queue: queue.Queue = queue.Queue(QUEUE_CAPACITY)
        self._thread: threading.Thread | None = None
        self.dropped = 0  # messages the full queue or ring refused
        self._ring_full_reported = False
        self.ignored = 0  # messages that are not performance data, or malformed
        self.thru: dict[str, object] = {}  # keyboard name -> an open rtmidi MidiOut
        # (keyboard, key, velocity, arrival ns, sample scheduled, when that sample plays by the clock then) of recent
        # note-ons: timing, for whoever measures it
        self.note_log: collections.deque = collections.deque(maxlen=4096)

    # Any thread.

    def receive(self, keyboard: str, message, arrival_ns: int):
        """A MIDI message from `keyboard`'s input (the callback of its port)."""
        try:
            self._queue.put_nowait(("message", keyboard, message, arrival_ns))
        except queue.Full:
            self.dropped += 1

    def change_setup(self, setup: str, keyboard: str | None = None, done=None):
        """Take `setup` for the next notes of `keyboard` (None: every keyboard)."""
        self._queue.put(("setup", keyboard, setup, done))

    # The keyboard thread.

    def start(self) -> "Keyboards":
        self._thread = threading.Thread(target=self._run, name="liveengine-keyboards", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=2.0)
            self._thread = None

    def _run(self):
        # Above ordinary threads (below the audio thread): measured, it keeps notes on time under load.
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(MIDI_THREAD_PRIORITY))
        except (OSError, AttributeError) as error:
            self.report(f"keyboards: no real-time priority for the MIDI thread ({error}); under load a "
                        "note may come late for its sample")
        while True:
            try:
                # While the full ring holds events back, come round often to post them as it drains.
                item = self._queue.get(timeout=BACKLOG_TICK_SECONDS if self.producer.backlog else None)
            except queue.Empty:
                self.producer.flush()
                continue
            if item is None:
                break
            kind, keyboard, payload, extra = item
            if kind == "message":
                clock = self.engine.clock
                sample = clock.sample_for_arrival(extra) if clock.running else -1
                self.play(keyboard, payload, sample)
                if _is_channel_message(payload) and payload[0] & 0xF0 == NOTE_ON and payload[2] > 0:
                    sounds_at = clock.monotonic_ns_at(sample) if sample >= 0 else extra
                    self.note_log.append((keyboard, payload[1], payload[2], extra, sample, sounds_at))
            else:
                ok, text = self.set_setup(payload, keyboard)
                if extra is not None:
                    extra(ok, text)

    def play(self, keyboard: str, message, sample: int):
        """One message from `keyboard`, to sound on `sample` (-1: at once)."""
        try:
            self._play(keyboard, message, sample)
        except RingFullError as error:  # the audio thread is not draining (stalled, or no stream yet)
            self.dropped += 1
            if not self._ring_full_reported:
                self.report(f"keyboard {keyboard!r}: {error}; messages dropped until it drains")
                self._ring_full_reported = True
        else:
            self._ring_full_reported = False

    def _play(self, keyboard: str, message, sample: int):
        state = self.keyboards.get(keyboard)
        if state is None or not _is_channel_message(message):
            self.ignored += 1
            return
        if keyboard in self.thru:
            self._send_thru(keyboard, message)
        kind, channel = message[0] & 0xF0, (message[0] & 0x0F) + 1
        if kind == NOTE_ON and message[2] > 0:
            self._note_on(state, channel, message[1], message[2], sample)
        elif kind == NOTE_OFF or kind == NOTE_ON:  # a note-off without its note-on is ignored
            self._release(state.channels[channel].lift(message[1]), sample)
        elif kind == CONTROL_CHANGE:
            self._control(state, channel, message[1], message[2], sample)
        elif kind == PROGRAM_CHANGE:
            setup = next((name for name, s in self.setups.items() if s.config.program == message[1] + 1), None)
            if setup is None:
                self.report(f"keyboard {keyboard!r}: program {message[1] + 1} selects no setup")
            else:
                self.set_setup(setup, keyboard)
            # The program reaches the setup's instruments too: SFZ regions with loprog/hiprog follow it.
            for instrument in state.setup.instruments_on(channel):
                self.producer.program_change(instrument, message[1], sample=sample)
        elif kind == CHANNEL_PRESSURE:
            for instrument in state.setup.instruments_on(channel):
                self.producer.instrument_parameter(instrument, "aftertouch", message[1] / 127.0, sample=sample)
        elif kind == POLY_PRESSURE:
            for layer in state.setup.layers:
                played = message[1] + layer.config.transpose
                if layer.plays(channel, message[1], 127) and 0 <= played <= 127:
                    self.producer.post(sample, events.POLY_AFTERTOUCH, layer.instrument, played, message[2] / 127.0)
        elif kind == PITCH_BEND:
            state.channels[channel].bend = ((message[2] << 7) | message[1]) - 8192
            self._bend(state, channel, sample)

    def set_setup(self, setup: str, keyboard: str | None = None) -> tuple[bool, str]:
        if setup not in self.setups:
            return False, f"no keyboard setup {setup!r}; setups: {', '.join(self.setups) or 'none'}"
        if keyboard is not None and keyboard not in self.keyboards:
            return False, f"no keyboard {keyboard!r}; keyboards: {', '.join(self.keyboards) or 'none'}"
        for name in [keyboard] if keyboard else list(self.keyboards):
            self.keyboards[name].setup = self.setups[setup]
        where = f"keyboard {keyboard!r}" if keyboard else "every keyboard"
        text = f"setup {setup!r} on {where} for the next notes"
        self.report(text)
        return True, text

    def _note_on(self, state: KeyboardState, channel: int, key: int, velocity: int, sample: int):
        channel_state = state.channels[channel]
        soft = SOFT_PEDAL_LEVEL if channel_state.pedal(SOFT) else 1.0
        started = []  # (note id, layer, key played, level)
        for layer in state.setup.layers:
            played = key + layer.config.transpose
            if layer.plays(channel, key, velocity) and 0 <= played <= 127:
                level = velocity_level(layer.config.curve, layer.config.fixed_velocity, velocity) * layer.gain * soft
                started.append((self._new_note_id(), layer, played, level))
        self._release(channel_state.strike(key, [note_id for note_id, *_ in started]), sample)
        for note_id, layer, played, level in started:
            self.producer.post(sample, events.NOTE_ON, note_id, layer.instrument, float(played), level, layer.bus)

    def _release(self, notes: list[int], sample: int):
        for note_id in notes:
            self.producer.note_off(sample, note_id)

    def _control(self, state: KeyboardState, channel: int, number: int, value: int, sample: int):
        change = state.channels[channel].control(number, value)
        self._release(change.released, sample)
        for number, value in change.controllers:
            for instrument in state.setup.instruments_on(channel):
                # Every controller reaches the instruments: regions and synth routes that follow it move.
                self.producer.controller(instrument, number, value / 127.0, sample=sample)
                if number == MOD_WHEEL:
                    self.producer.instrument_parameter(instrument, "modulation", value / 127.0, sample=sample)
            for control, instrument in state.setup.controls:
                if control.cc == number:
                    self.producer.instrument_parameter(instrument, control.parameter, control_value(control, value),
                                                       sample=sample)
        if change.bend_moved:
            self._bend(state, channel, sample)

    def _bend(self, state: KeyboardState, channel: int, sample: int):
        # The setup's bend range, or (0) each instrument's own: a patch's, or an SFZ's bend_up/bend_down.
        bend_range = state.setup.config.bend_range or 0.0
        wheel = state.channels[channel].wheel
        for instrument in state.setup.instruments_on(channel):
            self.producer.instrument_parameter(instrument, "bend_range", bend_range, sample=sample)
            self.producer.instrument_parameter(instrument, "pitch_bend", wheel, sample=sample)

    def _new_note_id(self) -> int:
        self._next_note_id = self._next_note_id % events.LIVE_NOTE_IDS + 1
        return self._next_note_id

    def _send_thru(self, keyboard: str, message):
        try:
            self.thru[keyboard].send_message(list(message))
        except Exception as error:  # noqa: BLE001 - a thru port that fails is reported, the playing goes on
            self.report(f"keyboard {keyboard!r}: MIDI thru failed, stopped: {error}")
            del self.thru[keyboard]


def _is_channel_message(message) -> bool:
    """A complete channel voice message with data bytes in range (what performance needs)."""
    if not message or not 0x80 <= message[0] < 0xF0:
        return False
    length = 2 if message[0] & 0xF0 in (PROGRAM_CHANGE, 0xD0) else 3
    return len(message) == length and all(0 <= byte < 0x80 for byte in message[1:])
