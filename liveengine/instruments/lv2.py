"""LV2 plugins as descriptions: what each installed plugin is (ports, features, block lengths,
presets), read once from liblilv's world, and why liveengine could not host one.

liveengine runs plugins inside its own audio thread, so it hosts only what it can run there: a
plugin that needs a host feature liveengine does not give, that does not promise to be real-time
safe (lv2:hardRTCapable), or that needs blocks liveengine does not deliver, is refused with every
reason at once. lilv is not thread-safe: everything here belongs to the control plane's thread.
"""

import difflib
import functools
import re
from dataclasses import dataclass

from . import lilv

# The host features liveengine gives every plugin it instantiates (engine/plugins.py).
SUPPORTED_FEATURES = frozenset({
    lilv.URID_MAP, lilv.URID_UNMAP, lilv.OPTIONS_OPTIONS, lilv.BUF_SIZE_BOUNDED_BLOCK_LENGTH,
    lilv.WORKER_SCHEDULE, lilv.STATE_LOAD_DEFAULT_STATE,
    # hardRTCapable is a promise of the plugin, listed among its features; the host has nothing to give.
    lilv.LV2_HARD_RT_CAPABLE,
    # Audio inputs and outputs are separate buffers (never processed in place), and the engine runs live.
    lilv.LV2_IN_PLACE_BROKEN, lilv.LV2_IS_LIVE,
})
MIDI_BUFFER_BYTES = 8192  # the least an atom sequence buffer holds: a few hundred MIDI events a block


class PluginError(Exception):
    """An LV2 plugin that cannot be found, configured or loaded; the message says which and why."""


class PluginRefused(PluginError):
    """A plugin liveengine cannot host (or cannot host one more of), with every reason."""

    def __init__(self, message: str, reasons: list[str] | None = None):
        super().__init__(message)
        self.reasons = reasons or [message]

    @classmethod
    def naming(cls, description: "PluginDescription", reasons: list[str]) -> "PluginRefused":
        """The refusal of `description` for `reasons` (from `refusal`), naming the plugin and its URI."""
        return cls(f"cannot host the LV2 plugin {description.name} <{description.uri}>: " + "; ".join(reasons),
                   reasons)


@dataclass(frozen=True)
class ControlPort:
    """A control port: one float, set by the host (input) or reported by the plugin (output)."""
    index: int
    symbol: str
    name: str
    default: float
    minimum: float | None
    maximum: float | None
    is_input: bool
    toggled: bool = False
    integer: bool = False
    enumeration: bool = False
    logarithmic: bool = False

    def range_text(self) -> str:
        low = "-inf" if self.minimum is None else f"{self.minimum:g}"
        high = "inf" if self.maximum is None else f"{self.maximum:g}"
        return f"{low} .. {high}"

    def accepts(self, value: float) -> bool:
        return ((self.minimum is None or value >= self.minimum)
                and (self.maximum is None or value <= self.maximum))


@dataclass(frozen=True)
class AtomPort:
    """An atom:Sequence port other than the MIDI input (patch messages, notifications)."""
    index: int
    symbol: str
    is_input: bool
    minimum_size: int | None  # rsz:minimumSize, bytes


@dataclass(frozen=True)
class Preset:
    label: str
    uri: str


@dataclass(frozen=True)
class PluginDescription:
    uri: str
    name: str
    class_label: str
    is_instrument: bool
    port_count: int
    audio_inputs: tuple[int, ...]
    audio_outputs: tuple[int, ...]
    control_ports: tuple[ControlPort, ...]
    midi_input: int | None  # the atom input that takes midi:MidiEvent
    midi_input_minimum_size: int | None
    atom_ports: tuple[AtomPort, ...]
    unconnectable_ports: tuple[str, ...]  # "'symbol' (what it is)": CV ports and types liveengine cannot connect
    latency_port: int | None
    required_features: tuple[str, ...]
    optional_features: tuple[str, ...]
    hard_rt_capable: bool
    min_block_length: int | None
    max_block_length: int | None
    fixed_block_length: bool
    power_of_2_block_length: bool
    has_worker_interface: bool
    presets: tuple[Preset, ...]

    @property
    def kind(self) -> str:
        return "instrument" if self.is_instrument else "effect"

    @property
    def control_inputs(self) -> tuple[ControlPort, ...]:
        return tuple(port for port in self.control_ports if port.is_input)

    def control(self, symbol: str) -> ControlPort:
        """The control input called `symbol`; an error listing the plugin's control inputs otherwise."""
        for port in self.control_inputs:
            if port.symbol == symbol:
                return port
        symbols = ", ".join(port.symbol for port in self.control_inputs) or "none"
        raise PluginError(f"{self.name} <{self.uri}> has no control input {symbol!r}; its controls are: {symbols}")

    def preset(self, label_or_uri: str) -> Preset:
        """A preset by its label or its URI; an error listing the plugin's presets otherwise."""
        for preset in self.presets:
            if label_or_uri in (preset.label, preset.uri):
                return preset
        labels = ", ".join(repr(preset.label) for preset in self.presets)
        known = f"its presets are: {labels}" if labels else "it has no presets"
        close = difflib.get_close_matches(label_or_uri, [preset.label for preset in self.presets], n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise PluginError(f"{self.name} <{self.uri}> has no preset {label_or_uri!r}{hint}; {known}")


def refusal(description: PluginDescription, max_block: int) -> list[str] | None:
    """Why liveengine cannot host this plugin with blocks of up to `max_block` frames; None if it can."""
    reasons = []
    for feature in description.required_features:
        if feature == lilv.BUF_SIZE_FIXED_BLOCK_LENGTH:
            reasons.append("it needs every block to have the same length (buf-size:fixedBlockLength), "
                           "which liveengine does not promise")
        elif feature == lilv.BUF_SIZE_POWER_OF_2_BLOCK_LENGTH:
            reasons.append("it needs blocks of a power-of-two length (buf-size:powerOf2BlockLength), "
                           "which liveengine does not promise")
        elif feature not in SUPPORTED_FEATURES:
            reasons.append(f"it requires the host feature <{feature}>, which liveengine does not give")
    if not description.hard_rt_capable:
        reasons.append("it does not declare lv2:hardRTCapable, so it may block the audio thread")
    if description.min_block_length is not None and description.min_block_length > max_block:
        reasons.append(f"it needs blocks of at least {description.min_block_length} frames "
                       f"(buf-size:minBlockLength), above the block size {max_block}")
    if description.max_block_length is not None and description.max_block_length < max_block:
        reasons.append(f"it takes blocks of at most {description.max_block_length} frames "
                       f"(buf-size:maxBlockLength), below the block size {max_block}")
    for port in description.unconnectable_ports:
        reasons.append(f"it has the port {port}, which liveengine cannot connect")
    if not description.audio_outputs:
        reasons.append("it has no audio output")
    return reasons or None


class World:
    """The installed LV2 plugins as liblilv loads them (LV2_PATH, or the system's folders): one per process."""

    def __init__(self):
        self.lib = lilv.library()
        self.pointer = self.lib.lilv_world_new()
        self.lib.lilv_world_load_all(self.pointer)
        self._plugins = self.lib.lilv_world_get_all_plugins(self.pointer)
        self._nodes = {}

    def node(self, uri: str):
        """A URI node that lives as long as the world (lilv wants nodes for every query)."""
        if uri not in self._nodes:
            self._nodes[uri] = self.lib.lilv_new_uri(self.pointer, uri.encode())
        return self._nodes[uri]

    def plugin(self, uri: str):
        """The lilv plugin with this URI; NULL when none is installed."""
        return self.lib.lilv_plugins_get_by_uri(self._plugins, self.node(uri))

    def nodes(self, collection) -> list[str]:
        """The strings of a lilv node collection, which this frees."""
        lib, values = self.lib, []
        if collection == lilv.ffi.NULL:
            return values
        iterator = lib.lilv_nodes_begin(collection)
        while not lib.lilv_nodes_is_end(collection, iterator):
            values.append(lilv.text(lib.lilv_nodes_get(collection, iterator)))
            iterator = lib.lilv_nodes_next(collection, iterator)
        lib.lilv_nodes_free(collection)
        return values

    @functools.cached_property
    def descriptions(self) -> dict[str, PluginDescription]:
        lib, found = self.lib, {}
        iterator = lib.lilv_plugins_begin(self._plugins)
        while not lib.lilv_plugins_is_end(self._plugins, iterator):
            description = self._describe(lib.lilv_plugins_get(self._plugins, iterator))
            found[description.uri] = description
            iterator = lib.lilv_plugins_next(self._plugins, iterator)
        return dict(sorted(found.items()))

    def _describe(self, plugin) -> PluginDescription:
        lib = self.lib
        uri = lilv.text(lib.lilv_plugin_get_uri(plugin))
        name_node = lib.lilv_plugin_get_name(plugin)
        name = lilv.text(name_node) or uri
        lib.lilv_node_free(name_node)
        audio_inputs, audio_outputs, controls, atoms, unconnectable = [], [], [], [], []
        midi_input = midi_input_size = None
        port_count = lib.lilv_plugin_get_num_ports(plugin)
        for index in range(port_count):
            port = lib.lilv_plugin_get_port_by_index(plugin, index)
            symbol = lilv.text(lib.lilv_port_get_symbol(plugin, port))
            is_input = lib.lilv_port_is_a(plugin, port, self.node(lilv.LV2_INPUT_PORT))
            if lib.lilv_port_is_a(plugin, port, self.node(lilv.LV2_AUDIO_PORT)):
                (audio_inputs if is_input else audio_outputs).append(index)
            elif lib.lilv_port_is_a(plugin, port, self.node(lilv.LV2_CONTROL_PORT)):
                controls.append(self._control_port(plugin, port, index, symbol, is_input))
            elif lib.lilv_port_is_a(plugin, port, self.node(lilv.ATOM_PORT)):
                buffer_types = self.nodes(lib.lilv_port_get_value(plugin, port, self.node(lilv.ATOM_BUFFER_TYPE)))
                if lilv.ATOM_SEQUENCE not in buffer_types:
                    unconnectable.append(f"{symbol!r} (an atom port whose buffer is not an atom:Sequence)")
                    continue
                size = self._port_int(plugin, port, lilv.RESIZE_PORT_MINIMUM_SIZE)
                midi = lib.lilv_port_supports_event(plugin, port, self.node(lilv.MIDI_EVENT))
                if is_input and midi and midi_input is None:
                    midi_input, midi_input_size = index, size
                else:
                    atoms.append(AtomPort(index, symbol, bool(is_input), size))
            elif lib.lilv_port_is_a(plugin, port, self.node(lilv.LV2_CV_PORT)):
                unconnectable.append(f"{symbol!r} (a CV port)")
            else:
                kinds = [kind for kind in self.nodes(lib.lilv_port_get_value(plugin, port, self.node(lilv.RDF_TYPE)))
                         if kind not in (lilv.LV2_INPUT_PORT, lilv.LV2_OUTPUT_PORT, lilv.LV2_PORT)]
                unconnectable.append(f"{symbol!r} ({', '.join(kinds) or 'of no known type'})")
        required = self.nodes(lib.lilv_plugin_get_required_features(plugin))
        optional = self.nodes(lib.lilv_plugin_get_optional_features(plugin))
        types = self.nodes(lib.lilv_plugin_get_value(plugin, self.node(lilv.RDF_TYPE)))
        is_instrument = (lilv.LV2_INSTRUMENT_PLUGIN in types
                         or (midi_input is not None and bool(audio_outputs) and not audio_inputs))
        return PluginDescription(
            uri=uri, name=name, class_label=self._class_label(plugin, types),
            is_instrument=is_instrument, port_count=port_count,
            audio_inputs=tuple(audio_inputs), audio_outputs=tuple(audio_outputs), control_ports=tuple(controls),
            midi_input=midi_input, midi_input_minimum_size=midi_input_size, atom_ports=tuple(atoms),
            unconnectable_ports=tuple(unconnectable),
            latency_port=(lib.lilv_plugin_get_latency_port_index(plugin) if lib.lilv_plugin_has_latency(plugin)
                          else None),
            required_features=tuple(required), optional_features=tuple(optional),
            hard_rt_capable=lilv.LV2_HARD_RT_CAPABLE in required + optional,
            min_block_length=self._plugin_int(plugin, lilv.BUF_SIZE_MIN_BLOCK_LENGTH),
            max_block_length=self._plugin_int(plugin, lilv.BUF_SIZE_MAX_BLOCK_LENGTH),
            fixed_block_length=lilv.BUF_SIZE_FIXED_BLOCK_LENGTH in required,
            power_of_2_block_length=lilv.BUF_SIZE_POWER_OF_2_BLOCK_LENGTH in required,
            has_worker_interface=lib.lilv_plugin_has_extension_data(plugin, self.node(lilv.WORKER_INTERFACE)),
            presets=self._presets(plugin))

    def _class_label(self, plugin, types: list[str]) -> str:
        """The plugin's class ("Instrument", "Reverb"): lilv's label when it knows the class hierarchy
        (Debian ships it in lv2-dev, which hosts need not install), else the plugin's own lv2: type."""
        plugin_class = self.lib.lilv_plugin_get_class(plugin)
        if lilv.text(self.lib.lilv_plugin_class_get_uri(plugin_class)) != lilv.LV2_PLUGIN:
            return lilv.text(self.lib.lilv_plugin_class_get_label(plugin_class))
        for kind in types:
            if kind.startswith(lilv.LV2) and kind != lilv.LV2_PLUGIN:
                return kind.removeprefix(lilv.LV2).removesuffix("Plugin")
        return "Plugin"

    def _control_port(self, plugin, port, index, symbol, is_input) -> ControlPort:
        lib = self.lib
        name_node = lib.lilv_port_get_name(plugin, port)
        name = lilv.text(name_node) or symbol
        lib.lilv_node_free(name_node)
        nodes = lilv.ffi.new("LilvNode*[3]")
        lib.lilv_port_get_range(plugin, port, nodes + 0, nodes + 1, nodes + 2)
        default, minimum, maximum = (self._number(node) for node in nodes)
        if default is None:  # no stated default: the lowest value the port takes, else zero
            default = minimum if minimum is not None else 0.0

        def has(property_uri):
            return bool(lib.lilv_port_has_property(plugin, port, self.node(property_uri)))
        return ControlPort(index, symbol, name, default, minimum, maximum, bool(is_input),
                           toggled=has(lilv.LV2_TOGGLED), integer=has(lilv.LV2_INTEGER),
                           enumeration=has(lilv.LV2_ENUMERATION), logarithmic=has(lilv.PORT_PROPS_LOGARITHMIC))

    def _number(self, node) -> float | None:
        """A numeric node's value (freeing the node); None for a missing or non-numeric one."""
        if node == lilv.ffi.NULL:
            return None
        value = None
        if self.lib.lilv_node_is_float(node) or self.lib.lilv_node_is_int(node):
            value = float(self.lib.lilv_node_as_float(node))
        self.lib.lilv_node_free(node)
        return value

    def _plugin_int(self, plugin, predicate: str) -> int | None:
        values = self.nodes(self.lib.lilv_plugin_get_value(plugin, self.node(predicate)))
        return int(float(values[0])) if values else None

    def _port_int(self, plugin, port, predicate: str) -> int | None:
        value = self._number(self.lib.lilv_port_get(plugin, port, self.node(predicate)))
        return None if value is None else int(value)

    def _presets(self, plugin) -> tuple[Preset, ...]:
        lib, presets = self.lib, []
        for uri in self.nodes(lib.lilv_plugin_get_related(plugin, self.node(lilv.PRESETS_PRESET))):
            preset = self.node(uri)
            lib.lilv_world_load_resource(self.pointer, preset)
            label_node = lib.lilv_world_get(self.pointer, preset, self.node(lilv.RDFS_LABEL), lilv.ffi.NULL)
            presets.append(Preset(lilv.text(label_node) or uri, uri))
            lib.lilv_node_free(label_node)
        return tuple(sorted(presets, key=lambda preset: preset.label.lower()))


def looks_like_uri(text: str) -> bool:
    """Whether `text` names a plugin by its URI (a scheme of two letters or more, then a colon: http://...,
    urn:...) rather than a file."""
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]+:", text) is not None


@functools.cache
def world() -> World:
    """The process's LV2 world, loaded on first use."""
    return World()


def discover() -> list[PluginDescription]:
    """Every installed LV2 plugin, described (hostable or not: see `refusal`)."""
    return list(world().descriptions.values())


def describe(uri: str) -> PluginDescription:
    """The installed plugin with this URI; an error naming it, and the closest installed URIs, otherwise."""
    descriptions = world().descriptions
    if uri in descriptions:
        return descriptions[uri]
    close = difflib.get_close_matches(uri, list(descriptions), n=3, cutoff=0.8)
    hint = f" (did you mean {' or '.join(f'<{match}>' for match in close)}?)" if close else ""
    raise PluginError(f"no LV2 plugin <{uri}> is installed{hint}; `liveengine plugins` lists the installed ones")
