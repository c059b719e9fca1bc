"""The LV2 host's control plane: instantiating plugins with the host features liveengine gives,
connecting every port once to buffers the kernel reads and writes, restoring default state and
presets, setting controls, and handing the kernel plain addresses to call.

The audio thread never calls liblilv or connect_port: it calls `run_address` (and the worker's
`work_response_address` / `end_run_address`) on `handle`, with the buffers of a `PluginInstance`
already connected. Everything here runs on the control plane, before the kernel takes the
instance and after it has let it go.

The kernel runs a plugin with at least `min_block` and at most `max_block` frames: the block
lengths the options feature promised it. Buffers the kernel reads and writes (all connected
before `activate`):
- `audio_inputs`, `audio_outputs`: float32 (ports, max_block), one row per audio port in port order;
- `controls`: float32, one slot per port index (control inputs and outputs; other slots unused);
- `midi_input`: bytes holding one atom:Sequence (LV2_Atom {size, type} then LV2_Atom_Sequence_Body
  {unit, pad}, then events: int64 frame, LV2_Atom {size, type = midi:MidiEvent}, the MIDI bytes,
  padded to 8). Empty, its header says size 8 and type atom:Sequence;
- `atom_inputs`, `atom_outputs`: other atom:Sequence ports by index. Before each run the host gives
  every output its whole capacity back: the first two uint32 of the buffer become
  (capacity - 8, atom:Chunk), which `reset_atom_outputs` writes and `atom_output_header` spells out.
"""

import functools
import math
import threading

import numpy as np

from ..instruments import lilv, lv2
from ..instruments.lilv import ffi
from ..instruments.lv2 import PluginError, PluginRefused

ATOM_HEADER_BYTES = 8  # LV2_Atom: uint32 size, uint32 type
SEQUENCE_BODY_BYTES = 8  # LV2_Atom_Sequence_Body: uint32 unit, uint32 pad
# How a port value of a state (a preset, the default state) is read, by its atom type.
STATE_VALUE_TYPES = {lilv.ATOM_FLOAT: "float*", lilv.ATOM_DOUBLE: "double*", lilv.ATOM_INT: "int32_t*",
                     lilv.ATOM_LONG: "int64_t*", lilv.ATOM_BOOL: "int32_t*"}


class PluginHost:
    """liveengine's LV2 host: the installed world (one per process) and the URID map every plugin shares.

    URIDs are handed out from a dict behind a lock: plugins map URIs when they are instantiated (on
    the control plane) or in their worker; a plugin that mapped in `run` would wait for the GIL."""

    def __init__(self):
        self.world = lv2.world()
        self._lock = threading.Lock()
        self._urids: dict[str, int] = {}
        self._uris: list = [ffi.NULL]  # URID n's string at index n, kept alive for unmap's callers
        self._map_callback = ffi.callback("LV2_URID(void*, const char*)", self._map_from_plugin)
        self._unmap_callback = ffi.callback("const char*(void*, LV2_URID)", self._unmap_from_plugin)
        self.urid_map = ffi.new("LV2_URID_Map*", {"handle": ffi.NULL, "map": self._map_callback})
        self.urid_unmap = ffi.new("LV2_URID_Unmap*", {"handle": ffi.NULL, "unmap": self._unmap_callback})
        self._feature_uris: dict[str, object] = {}
        self.common_features = [
            self.feature(lilv.URID_MAP, self.urid_map),
            self.feature(lilv.URID_UNMAP, self.urid_unmap),
            self.feature(lilv.BUF_SIZE_BOUNDED_BLOCK_LENGTH),
            self.feature(lilv.STATE_LOAD_DEFAULT_STATE),
        ]

    @classmethod
    @functools.cache
    def shared(cls) -> "PluginHost":
        """The process's host: one URID map for every plugin the engine runs."""
        return cls()

    def map_uri(self, uri: str) -> int:
        """The URID of `uri`, the same for every plugin of this host."""
        with self._lock:
            urid = self._urids.get(uri)
            if urid is None:
                urid = self._urids[uri] = len(self._uris)
                self._uris.append(ffi.new("char[]", uri.encode()))
            return urid

    def unmap_urid(self, urid: int) -> str | None:
        with self._lock:
            return ffi.string(self._uris[urid]).decode() if 0 < urid < len(self._uris) else None

    def _map_from_plugin(self, handle, uri) -> int:
        return self.map_uri(ffi.string(uri).decode())

    def _unmap_from_plugin(self, handle, urid):
        with self._lock:
            return self._uris[urid] if 0 < urid < len(self._uris) else ffi.NULL

    def feature(self, uri: str, data=ffi.NULL):
        """An LV2_Feature; its URI string lives as long as the host (plugins may keep the pointer)."""
        if uri not in self._feature_uris:
            self._feature_uris[uri] = ffi.new("char[]", uri.encode())
        return ffi.new("LV2_Feature*", {"URI": self._feature_uris[uri], "data": data})

    def instantiate(self, uri: str, sample_rate: float, max_block: int, *, preset: str | None = None,
                    controls: dict[str, float] | None = None,
                    schedule: tuple[int, int] | None = None) -> "PluginInstance":
        """A loaded plugin, active (ready to run), its ports connected, at its default state, then
        `preset`'s, then `controls`.

        `schedule` is the worker's (function address, handle address): the C function the plugin's
        LV2_Worker_Schedule.schedule_work points to, and its first argument. A plugin liveengine cannot
        host raises PluginRefused with every reason; a preset or control that does not fit, PluginError."""
        if not (sample_rate > 0 and max_block > 0):
            raise ValueError(f"sample rate {sample_rate} and block size {max_block} must be positive")
        description = lv2.describe(uri)
        reasons = lv2.refusal(description, max_block)
        if reasons:
            raise PluginRefused.naming(description, reasons)
        if schedule is None and lilv.WORKER_SCHEDULE in description.required_features:
            raise PluginError(f"{description.name} <{uri}> needs the LV2 worker, and no schedule function was given")
        return PluginInstance(self, description, sample_rate, max_block, preset=preset, controls=controls or {},
                              schedule=schedule)


class PluginInstance:
    """One instantiated LV2 plugin, its ports connected to numpy buffers it owns (see the module)."""

    def __init__(self, host: PluginHost, description: lv2.PluginDescription, sample_rate: float, max_block: int,
                 *, preset: str | None, controls: dict[str, float], schedule: tuple[int, int] | None):
        self.host = host
        self.description = description
        self.sample_rate = sample_rate
        self.max_block = max_block
        self.min_block = description.min_block_length or 1
        self.active = False
        self._instance = ffi.NULL
        self._make_buffers()
        features = list(host.common_features)
        features.append(host.feature(lilv.OPTIONS_OPTIONS, self._options()))
        preset_uri = description.preset(preset).uri if preset is not None else None
        if schedule is not None:
            function_address, handle_address = schedule
            if not function_address:
                raise ValueError("the worker's schedule function address is 0")
            self._schedule = ffi.new("LV2_Worker_Schedule*", {
                "handle": ffi.cast("void*", handle_address),
                "schedule_work": ffi.cast("LV2_Worker_Status(*)(void*, uint32_t, const void*)", function_address)})
            features.append(host.feature(lilv.WORKER_SCHEDULE, self._schedule))
        self._features = features
        self._feature_array = ffi.new("LV2_Feature*[]", features + [ffi.NULL])
        self._set_value_callback = ffi.callback("void(const char*, void*, const void*, uint32_t, uint32_t)",
                                                self._set_value_from_state)
        self._restore_problems: list[str] = []

        self._instance = host.world.lib.lilv_plugin_instantiate(
            host.world.plugin(description.uri), float(sample_rate), self._feature_array)
        if self._instance == ffi.NULL:
            raise PluginError(f"{description.name} <{description.uri}> failed to instantiate "
                              f"at {sample_rate:g} Hz with blocks of up to {max_block} frames")
        try:
            self._descriptor = self._instance.lv2_descriptor
            self.handle = lilv.address(self._instance.lv2_handle)
            self.run_address = lilv.address(self._descriptor.run)
            self._find_worker_interface()
            self._connect_ports()
            if lilv.STATE_LOAD_DEFAULT_STATE in description.required_features + description.optional_features:
                self._restore(host.world.node(description.uri), "its default state", missing_is_fine=True)
            if preset_uri is not None:
                self._restore(host.world.node(preset_uri), f"the preset {preset!r}")
            for symbol, value in controls.items():
                self.set_control(symbol, value)
            self.activate()
        except BaseException:
            self.close()
            raise

    @property
    def latency_port(self) -> int:
        """The index of the port reporting the plugin's latency in frames; -1 without one."""
        return -1 if self.description.latency_port is None else self.description.latency_port

    def _make_buffers(self):
        description = self.description
        self.audio_inputs = np.zeros((len(description.audio_inputs), self.max_block), np.float32)
        self.audio_outputs = np.zeros((len(description.audio_outputs), self.max_block), np.float32)
        self.controls = np.zeros(description.port_count, np.float32)
        for port in description.control_ports:
            self.controls[port.index] = port.default
        self.midi_input = None
        if description.midi_input is not None:
            self.midi_input = self._atom_buffer(description.midi_input_minimum_size)
            self._empty_sequence(self.midi_input)
        self.atom_inputs, self.atom_outputs = {}, {}
        for port in description.atom_ports:
            buffer = self._atom_buffer(port.minimum_size)
            if port.is_input:
                self._empty_sequence(buffer)
                self.atom_inputs[port.index] = buffer
            else:
                self.atom_outputs[port.index] = buffer
        self.reset_atom_outputs()

    @staticmethod
    def _atom_buffer(minimum_size: int | None) -> np.ndarray:
        """Bytes on int64 storage (atom events are 64-bit aligned), at least the port's minimum size."""
        capacity = max(minimum_size or 0, lv2.MIDI_BUFFER_BYTES)
        return np.zeros((capacity + 7) // 8, np.int64).view(np.uint8)

    def _empty_sequence(self, buffer: np.ndarray):
        buffer.view(np.uint32)[:4] = (SEQUENCE_BODY_BYTES, self.host.map_uri(lilv.ATOM_SEQUENCE), 0, 0)

    def reset_midi_input(self):
        """Make the MIDI input an empty sequence again."""
        if self.midi_input is not None:
            self._empty_sequence(self.midi_input)

    def atom_output_buffers(self) -> list[np.ndarray]:
        """The atom outputs' buffers in port order (the kernel resets each before every run)."""
        return [self.atom_outputs[index] for index in sorted(self.atom_outputs)]

    def atom_output_header(self, index: int) -> tuple[int, int]:
        """What the first two uint32 of atom output `index` must hold before each run: (size, type)."""
        return self.atom_outputs[index].nbytes - ATOM_HEADER_BYTES, self.host.map_uri(lilv.ATOM_CHUNK)

    def reset_atom_outputs(self):
        """Give every atom output its whole capacity back, as the host must before each run."""
        for index, buffer in self.atom_outputs.items():
            buffer.view(np.uint32)[:2] = self.atom_output_header(index)

    def _options(self):
        """The options feature's data: sample rate, block lengths and sequence size, alive as long as the instance."""
        host = self.host
        sequence_size = max([buffer.nbytes for buffer in (self.midi_input, *self.atom_inputs.values(),
                                                          *self.atom_outputs.values()) if buffer is not None]
                            or [lv2.MIDI_BUFFER_BYTES])
        self._option_values = [ffi.new("float*", self.sample_rate)] + [
            ffi.new("int32_t*", value) for value in (self.min_block, self.max_block, self.max_block, sequence_size)]
        keys = (lilv.PARAMETERS_SAMPLE_RATE, lilv.BUF_SIZE_MIN_BLOCK_LENGTH, lilv.BUF_SIZE_MAX_BLOCK_LENGTH,
                lilv.BUF_SIZE_NOMINAL_BLOCK_LENGTH, lilv.BUF_SIZE_SEQUENCE_SIZE)
        types = (lilv.ATOM_FLOAT,) + (lilv.ATOM_INT,) * 4
        options = ffi.new("LV2_Options_Option[]", len(keys) + 1)  # ends with a zeroed option
        for option, key, value_type, value in zip(options, keys, types, self._option_values):
            option.context = 0  # LV2_OPTIONS_INSTANCE
            option.key = host.map_uri(key)
            option.size = 4
            option.type = host.map_uri(value_type)
            option.value = value
        self._options_array = options
        return options

    def _find_worker_interface(self):
        self.work_address = self.work_response_address = self.end_run_address = 0
        if not self.description.has_worker_interface or self._descriptor.extension_data == ffi.NULL:
            return
        interface = self._descriptor.extension_data(lilv.WORKER_INTERFACE.encode())
        if interface != ffi.NULL:
            interface = ffi.cast("LV2_Worker_Interface*", interface)
            self.work_address = lilv.address(interface.work)
            self.work_response_address = lilv.address(interface.work_response)
            self.end_run_address = lilv.address(interface.end_run)

    def _connect_ports(self):
        connect, handle = self._descriptor.connect_port, self._instance.lv2_handle
        description = self.description
        for row, index in enumerate(description.audio_inputs):
            connect(handle, index, ffi.cast("void*", self.audio_inputs[row].ctypes.data))
        for row, index in enumerate(description.audio_outputs):
            connect(handle, index, ffi.cast("void*", self.audio_outputs[row].ctypes.data))
        for port in description.control_ports:
            connect(handle, port.index, ffi.cast("void*", self.controls.ctypes.data + 4 * port.index))
        if self.midi_input is not None:
            connect(handle, description.midi_input, ffi.cast("void*", self.midi_input.ctypes.data))
        for index, buffer in (*self.atom_inputs.items(), *self.atom_outputs.items()):
            connect(handle, index, ffi.cast("void*", buffer.ctypes.data))

    def _restore(self, subject, what: str, *, missing_is_fine: bool = False):
        """Restore a state (the plugin's default or a preset): its port values into `controls`,
        its properties through the plugin's state interface."""
        lib = self.host.world.lib
        state = lib.lilv_state_new_from_world(self.host.world.pointer, self.host.urid_map, subject)
        if state == ffi.NULL:
            if missing_is_fine:
                return
            raise PluginError(f"{self.description.name} <{self.description.uri}>: {what} cannot be read")
        self._restore_problems = []
        try:
            lib.lilv_state_restore(state, self._instance, self._set_value_callback, ffi.NULL, 0, self._feature_array)
        finally:
            lib.lilv_state_free(state)
        if self._restore_problems:
            raise PluginError(f"{self.description.name} <{self.description.uri}>: {what} sets "
                              + "; ".join(self._restore_problems))

    def _set_value_from_state(self, symbol, user_data, value, size, value_type):
        """lilv's callback for each port value of a state (a cffi callback: problems are collected, not raised)."""
        symbol = ffi.string(symbol).decode()
        reader = STATE_VALUE_TYPES.get(self.host.unmap_urid(value_type))
        port = next((port for port in self.description.control_inputs if port.symbol == symbol), None)
        if port is None:
            self._restore_problems.append(f"the port {symbol!r}, which is not one of its control inputs")
        elif reader is None:
            self._restore_problems.append(f"{symbol!r} to a value of type <{self.host.unmap_urid(value_type)}>")
        else:
            self.controls[port.index] = float(ffi.cast(reader, value)[0])

    def set_control(self, symbol: str, value: float):
        """Set a control input, checked against the port's range (the control plane's values, before or
        between runs: the kernel's own parameter events are its business)."""
        port = self.description.control(symbol)
        what = f"{self.description.name}: the control {symbol!r} ({port.name})"
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise PluginError(f"{what} takes a number, not {value!r}") from None
        if not math.isfinite(value):
            raise PluginError(f"{what} takes a finite number, not {value}")
        if not port.accepts(value):
            raise PluginError(f"{what} takes {port.range_text()}, not {value:g}")
        self.controls[port.index] = value

    def control(self, symbol: str) -> float:
        """A control port's current value, input or output."""
        for port in self.description.control_ports:
            if port.symbol == symbol:
                return float(self.controls[port.index])
        return float(self.controls[self.description.control(symbol).index])  # raises, listing the controls

    def activate(self):
        """Activate the plugin (instantiate did; again after nothing but close is an error)."""
        if self._instance == ffi.NULL:
            raise PluginError(f"{self.description.name} <{self.description.uri}> is closed")
        if not self.active:
            if self._descriptor.activate != ffi.NULL:
                self._descriptor.activate(self._instance.lv2_handle)
            self.active = True

    def latency(self) -> int:
        """The plugin's latency in frames, as its latency port reports it after one run of silence
        (0 without a latency port). Runs the plugin from Python: before the kernel takes it."""
        if self.description.latency_port is None:
            return 0
        self.activate()
        self.audio_inputs[:] = 0
        self.reset_midi_input()
        self.reset_atom_outputs()
        self._descriptor.run(self._instance.lv2_handle, self.max_block)
        return self.reported_latency()

    def reported_latency(self) -> int:
        """The latency in frames that the plugin's latency port reported on its last run (0 without a latency
        port). Never runs the plugin, so the control plane may ask while the kernel runs it."""
        if self.description.latency_port is None:
            return 0
        return int(round(float(self.controls[self.description.latency_port])))

    def close(self):
        """Deactivate and free the plugin; the buffers stay readable. Safe to call twice."""
        if self._instance == ffi.NULL:
            return
        if self.active and self._descriptor.deactivate != ffi.NULL:
            self._descriptor.deactivate(self._instance.lv2_handle)
        self.active = False
        self.host.world.lib.lilv_instance_free(self._instance)
        self._instance = ffi.NULL
        self.handle = self.run_address = 0
        self.work_address = self.work_response_address = self.end_run_address = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
