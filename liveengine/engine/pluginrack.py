"""The engine's LV2 plugins: which kernel column each instance runs in, the buses' insert chains, and
the worker thread.

A plugin is instantiated (engine/plugins.py) with its column's worker record as the handle of its
schedule_work, so the column is chosen first. Its ports' buffers, its functions and its worker are
written into the kernel's memory before the stream runs; the instances live as long as the engine.

The worker: rendering offline, the kernel calls a plugin's work() inside its schedule_work, so a render
is the same every time; a live stream (drivers/stream.py) hands requests to the worker thread here,
which calls work() with the GIL released, and the kernel hands the responses back on the next run.
"""

import math
import threading
import time
import weakref

import numpy as np

from ..kernel.state import (
    C_URID_CHUNK,
    C_URID_MIDI_EVENT,
    C_URID_SEQUENCE,
    MAX_ATOM_OUTPUTS,
    MAX_COMPENSATION,
    MAX_INSERTS,
    MAX_PLUGINS,
    P_ATOM_OUTPUTS,
    P_AUDIO_IN,
    P_AUDIO_OUT,
    P_BUS,
    P_CONTROL_COUNT,
    P_CONTROLS,
    P_END_RUN,
    P_HANDLE,
    P_INPUTS,
    P_INSTRUMENT,
    P_LATENCY,
    P_MIDI,
    P_MIDI_CAPACITY,
    P_MIN_BLOCK,
    P_OUTPUTS,
    P_ROLE,
    P_RUN,
    P_TWIN,
    P_WORK_RESPONSE,
    PV_WET,
    PV_WET_TARGET,
    ROLE_INSERT,
    ROLE_INSTRUMENT,
    ROLE_NONE,
    W_HANDLE,
    W_RESPOND,
    W_WORK,
    EngineState,
)
from .entries import kernel_entries
from ..instruments.lv2 import PluginRefused
from .plugins import PluginHost, PluginInstance

ATOM_SEQUENCE = "http://lv2plug.in/ns/ext/atom#Sequence"
ATOM_CHUNK = "http://lv2plug.in/ns/ext/atom#Chunk"
MIDI_EVENT = "http://lv2plug.in/ns/ext/midi#MidiEvent"
# The worker thread looks for requests this often just after one, backing off to the idle interval: a
# plugin's work (loading an impulse response) comes in bursts, and polling every 2 ms for nothing cost
# about 0.008 CPU-s a second (bench/plugins.py).
WORKER_POLL_SECONDS = 0.002
WORKER_IDLE_POLL_SECONDS = 0.05
GLIDE_STEPS = 8  # a control change from OSC glides in this many steps over the de-zipper time


class PluginRack:
    """The plugins installed in one engine."""

    def __init__(self, state: EngineState):
        self.state = state
        self.instances: dict[int, PluginInstance] = {}  # by kernel column
        self.names: dict[int, str] = {}  # how messages name each column: "keys insert 1 (x42 fil4)"
        # The value each control was last set to by a glide, (column, port) -> value: where its next glide
        # starts (the port itself may still be on its way there).
        self._glided_to: dict[tuple[int, int], float] = {}
        self._worker = None

    # Instantiating into a column.

    def instantiate(self, uri: str, *, preset: str | None = None, controls: dict | None = None) -> int:
        """A new instance of `uri` in a free column, its worker wired to that column; returns the column."""
        column = self._free_column()
        record = self.state.workers[column]
        schedule = (kernel_entries().address("schedule_work"), record.ctypes.data)
        instance = PluginHost.shared().instantiate(uri, self.state.settings.sample_rate, self.state.settings.max_block,
                                                   preset=preset, controls=controls, schedule=schedule)
        self._write_column(column, instance)
        self.instances[column] = instance
        return column

    def _free_column(self) -> int:
        for column in range(MAX_PLUGINS):
            if column not in self.instances:
                return column
        raise PluginRefused(f"the engine runs at most {MAX_PLUGINS} plugin instances")

    def _write_column(self, column: int, instance: PluginInstance):
        ints, config = self.state.plugin_ints, self.state.config
        host = PluginHost.shared()
        config[C_URID_SEQUENCE] = host.map_uri(ATOM_SEQUENCE)
        config[C_URID_CHUNK] = host.map_uri(ATOM_CHUNK)
        config[C_URID_MIDI_EVENT] = host.map_uri(MIDI_EVENT)
        ints[:, column] = 0
        ints[P_TWIN, column] = -1
        ints[P_HANDLE, column] = instance.handle
        ints[P_RUN, column] = instance.run_address
        ints[P_WORK_RESPONSE, column] = instance.work_response_address
        ints[P_END_RUN, column] = instance.end_run_address
        ints[P_INPUTS, column] = instance.audio_inputs.shape[0]
        ints[P_AUDIO_IN, column] = instance.audio_inputs.ctypes.data if instance.audio_inputs.size else 0
        ints[P_OUTPUTS, column] = min(2, instance.audio_outputs.shape[0])
        ints[P_AUDIO_OUT, column] = instance.audio_outputs.ctypes.data
        ints[P_CONTROLS, column] = instance.controls.ctypes.data
        ints[P_CONTROL_COUNT, column] = instance.controls.shape[0]
        ints[P_MIN_BLOCK, column] = instance.min_block
        if instance.midi_input is not None:
            ints[P_MIDI, column] = instance.midi_input.ctypes.data
            ints[P_MIDI_CAPACITY, column] = instance.midi_input.nbytes
        atom_outputs = instance.atom_output_buffers()
        if len(atom_outputs) > MAX_ATOM_OUTPUTS:
            raise PluginRefused(f"{instance.description.name}: {len(atom_outputs)} atom outputs; liveengine "
                                f"connects at most {MAX_ATOM_OUTPUTS}")
        for port, buffer in enumerate(atom_outputs):
            self.state.plugin_atom_outputs[column, port] = (buffer.ctypes.data, buffer.nbytes)
        ints[P_ATOM_OUTPUTS, column] = len(atom_outputs)
        record = self.state.workers[column]
        record[W_WORK] = instance.work_address
        record[W_HANDLE] = instance.handle
        record[W_RESPOND] = kernel_entries().address("respond")
        if instance.work_address:
            # What the plugin asked while restoring its state, before its record was wired: done now, and
            # answered, before the kernel first runs it (its latency may depend on it).
            entries = kernel_entries()
            while entries.perform_work(record.ctypes.data):
                pass
            if instance.work_response_address:
                entries.deliver_work_responses(record.ctypes.data, instance.work_response_address, instance.handle)
            self._start_worker()

    # Roles.

    def add_instrument(self, column: int, instrument: int, bus: int):
        """Column `column` plays as instrument `instrument` into `bus` (until a note names another)."""
        self.state.plugin_ints[P_INSTRUMENT, column] = instrument
        self.state.plugin_ints[P_BUS, column] = bus
        self.state.plugin_ints[P_ROLE, column] = ROLE_INSTRUMENT

    def add_insert(self, bus: int, uri: str, *, name: str, preset: str | None = None,
                   controls: dict | None = None, bypassed: bool = False) -> int:
        """Append `uri` to `bus`'s insert chain; returns its column (a mono plugin: the left one of two)."""
        chain = self.state.bus_inserts[bus]
        free = np.flatnonzero(chain < 0)
        if not free.size:
            raise PluginRefused(f"{name}: a bus takes at most {MAX_INSERTS} inserts")
        column = self.instantiate(uri, preset=preset, controls=controls)
        instance = self.instances[column]
        shape = (instance.audio_inputs.shape[0], instance.audio_outputs.shape[0])
        latency = instance.latency()
        problem = None
        if shape not in ((1, 1), (1, 2), (2, 2)):
            problem = (f"has {shape[0]} audio inputs and {shape[1]} outputs; an insert on a stereo bus takes 1 or 2 "
                       f"inputs and gives as many outputs or 2")
        elif latency >= MAX_COMPENSATION:
            problem = f"reports a latency of {latency} samples; the engine compensates at most {MAX_COMPENSATION - 1}"
        if problem is not None:
            self.remove(column)
            raise PluginRefused(f"{name}: {instance.description.name} {problem}")
        if shape == (1, 1):  # mono on a stereo bus: one instance a side, the same settings
            try:
                twin = self.instantiate(uri, preset=preset, controls=controls)
            except Exception:
                self.remove(column)
                raise
            self.state.plugin_ints[P_TWIN, column] = twin
            self.names[twin] = f"{name} (right)"
        ints, values = self.state.plugin_ints, self.state.plugin_values
        ints[P_LATENCY, column] = latency
        ints[P_BUS, column] = bus
        wet = 0.0 if bypassed else 1.0
        values[PV_WET, column] = values[PV_WET_TARGET, column] = wet
        ints[P_ROLE, column] = ROLE_INSERT
        chain[free[0]] = column
        self.names[column] = name
        return column

    # Finding plugins and their controls, for the OSC surface and the screens.

    def insert_column(self, bus: int, position: int) -> int:
        """The column of insert `position` (from 1) in bus `bus`'s chain; LookupError if there is none."""
        chain = [column for column in self.state.bus_inserts[bus] if column >= 0]
        if not 1 <= position <= len(chain):
            raise LookupError(f"no insert {position}; the bus has {len(chain)}")
        return int(chain[position - 1])

    def instrument_column(self, instrument: int) -> int:
        """The column of the LV2 instrument at `instrument`; LookupError if it is none."""
        for column, instance in self.instances.items():
            if self.state.plugin_ints[P_ROLE, column] == ROLE_INSTRUMENT and \
                    self.state.plugin_ints[P_INSTRUMENT, column] == instrument:
                return column
        raise LookupError("it is no LV2 instrument")

    def control_value(self, column: int, symbol: str, value: float) -> tuple[int, float]:
        """(the index of input control port `symbol`, `value` clamped to its range); LookupError saying what
        the plugin has when it has no such port, ValueError for a value no port can take (NaN)."""
        description = self.instances[column].description
        inputs = {port.symbol: port for port in description.control_inputs}
        port = inputs.get(symbol)
        if port is None:
            raise LookupError(f"{description.name} has no control {symbol!r}; its controls: {', '.join(inputs)}")
        low = -math.inf if port.minimum is None else port.minimum
        high = math.inf if port.maximum is None else port.maximum
        clamped = min(high, max(low, value))
        if not math.isfinite(clamped):
            raise ValueError(f"{description.name} {symbol}: expected a number in {port.range_text()}, got {value}")
        return port.index, clamped

    def glide(self, column: int, port: int, value: float) -> list[float]:
        """The values a change of control `port` to `value` steps through, over GLIDE_STEPS steps from where
        the port was last set to go (geometric on a logarithmic port): plugins that do not smooth their
        controls themselves would click on a jump. A toggle, an integer or an enumeration jumps."""
        description = self.instances[column].description
        control = next(control for control in description.control_inputs if control.index == port)
        start = self._glided_to.get((column, port), float(self.instances[column].controls[port]))
        self._glided_to[column, port] = value
        if control.toggled or control.integer or control.enumeration or start == value:
            return [value]
        fractions = [(step + 1) / GLIDE_STEPS for step in range(GLIDE_STEPS)]
        if control.logarithmic and start > 0 < value:
            return [start * (value / start) ** fraction for fraction in fractions[:-1]] + [value]
        return [start + (value - start) * fraction for fraction in fractions[:-1]] + [value]

    def state_of(self, column: int) -> dict:
        """A plugin as it plays now: what it is, its latency, whether bypassed, every control's value (read, never
        run: the audio thread may be running it)."""
        instance = self.instances[column]
        description = instance.description
        state = {"name": self.names.get(column, description.name), "plugin": description.name,
                 "uri": description.uri, "latency_samples": instance.reported_latency(),
                 "controls": {port.symbol: float(instance.controls[port.index]) for port in description.control_ports}}
        if self.state.plugin_ints[P_ROLE, column] == ROLE_INSERT:
            state["bypassed"] = bool(self.state.plugin_values[PV_WET_TARGET, column] == 0.0)
        return state

    def insert_latencies(self) -> list[int]:
        """Each bus's inserts' latency together, in samples, as the plugins report it."""
        return [sum(self.instances[column].latency() for column in chain if column >= 0)
                for chain in self.state.bus_inserts]

    def remove(self, column: int):
        """Free a column the audio thread does not run (set-up went wrong after instantiating)."""
        self.state.plugin_ints[P_ROLE, column] = ROLE_NONE
        self.instances.pop(column).close()

    # The worker.

    def _start_worker(self):
        if self._worker is None:
            self._worker = threading.Thread(target=_serve_workers, args=(weakref.ref(self),), name="lv2 worker",
                                            daemon=True)
            self._worker.start()

    def close(self):
        """Every instance deactivated and freed (the stream must be stopped)."""
        for column in list(self.instances):
            self.remove(column)


def _serve_workers(rack_reference):
    """The worker thread: hands every waiting request to its plugin's work(), while the rack lives."""
    entries = kernel_entries()
    interval = WORKER_POLL_SECONDS
    while True:
        rack = rack_reference()
        if rack is None:
            return
        records = [rack.state.workers[column].ctypes.data for column, instance in list(rack.instances.items())
                   if instance.work_address]
        del rack
        busy = False
        for record in records:
            while entries.perform_work(record):
                busy = True
        interval = WORKER_POLL_SECONDS if busy else min(WORKER_IDLE_POLL_SECONDS, 2 * interval)
        time.sleep(interval)
