"""liblilv through cffi (ABI mode): the subset of its C API liveengine uses, the LV2 C structs a
host fills or reads, and the LV2 URIs it speaks.

Debian ships liblilv-0-0 but no Python bindings for it; nothing here is compiled, the library is
opened at run time. `lilv_instance_run` and friends are static inline in lilv.h, so a host reads
the plugin's `LV2_Descriptor` through the public head of the instance struct instead.
"""

import functools

LIBRARY = "liblilv-0.so.0"
DEBIAN_PACKAGE = "liblilv-0-0"

# `ffi` (this module's attribute, made on first use by `__getattr__` below) knows these: parsing them
# takes some 30 ms, which a show or a `play` without plugins never spends.
DECLARATIONS = """
    /* LV2 core (lv2.h) */
    typedef void* LV2_Handle;
    typedef struct { const char* URI; void* data; } LV2_Feature;
    typedef struct LV2_Descriptor {
        const char* URI;
        LV2_Handle (*instantiate)(const struct LV2_Descriptor*, double, const char*, const LV2_Feature* const*);
        void (*connect_port)(LV2_Handle instance, uint32_t port, void* data_location);
        void (*activate)(LV2_Handle instance);
        void (*run)(LV2_Handle instance, uint32_t sample_count);
        void (*deactivate)(LV2_Handle instance);
        void (*cleanup)(LV2_Handle instance);
        const void* (*extension_data)(const char* uri);
    } LV2_Descriptor;

    /* urid.h */
    typedef uint32_t LV2_URID;
    typedef struct { void* handle; LV2_URID (*map)(void* handle, const char* uri); } LV2_URID_Map;
    typedef struct { void* handle; const char* (*unmap)(void* handle, LV2_URID urid); } LV2_URID_Unmap;

    /* options.h */
    typedef enum { LV2_OPTIONS_INSTANCE, LV2_OPTIONS_RESOURCE, LV2_OPTIONS_BLANK, LV2_OPTIONS_PORT }
        LV2_Options_Context;
    typedef struct {
        LV2_Options_Context context; uint32_t subject; LV2_URID key; uint32_t size; LV2_URID type;
        const void* value;
    } LV2_Options_Option;

    /* worker.h */
    typedef enum { LV2_WORKER_SUCCESS = 0, LV2_WORKER_ERR_UNKNOWN = 1, LV2_WORKER_ERR_NO_SPACE = 2 }
        LV2_Worker_Status;
    typedef LV2_Worker_Status (*LV2_Worker_Respond_Function)(void* handle, uint32_t size, const void* data);
    typedef struct {
        LV2_Worker_Status (*work)(LV2_Handle instance, LV2_Worker_Respond_Function respond, void* handle,
                                  uint32_t size, const void* data);
        LV2_Worker_Status (*work_response)(LV2_Handle instance, uint32_t size, const void* body);
        LV2_Worker_Status (*end_run)(LV2_Handle instance);
    } LV2_Worker_Interface;
    typedef struct {
        void* handle;
        LV2_Worker_Status (*schedule_work)(void* handle, uint32_t size, const void* data);
    } LV2_Worker_Schedule;

    /* atom.h */
    typedef struct { uint32_t size; uint32_t type; } LV2_Atom;
    typedef struct { uint32_t unit; uint32_t pad; } LV2_Atom_Sequence_Body;
    typedef struct { LV2_Atom atom; LV2_Atom_Sequence_Body body; } LV2_Atom_Sequence;
    typedef struct { int64_t frames; LV2_Atom body; } LV2_Atom_Event;

    /* lilv.h */
    typedef struct LilvPluginImpl LilvPlugin;
    typedef struct LilvPluginClassImpl LilvPluginClass;
    typedef struct LilvPortImpl LilvPort;
    typedef struct LilvNodeImpl LilvNode;
    typedef struct LilvWorldImpl LilvWorld;
    typedef struct LilvStateImpl LilvState;
    typedef struct { const LV2_Descriptor* lv2_descriptor; LV2_Handle lv2_handle; void* pimpl; } LilvInstance;
    typedef void LilvIter;
    typedef void LilvPlugins;
    typedef void LilvNodes;
    typedef void (*LilvSetPortValueFunc)(const char* port_symbol, void* user_data, const void* value,
                                         uint32_t size, uint32_t type);

    LilvWorld* lilv_world_new(void);
    void lilv_world_load_all(LilvWorld* world);
    int lilv_world_load_resource(LilvWorld* world, const LilvNode* resource);
    const LilvPlugins* lilv_world_get_all_plugins(const LilvWorld* world);
    LilvNode* lilv_world_get(LilvWorld* world, const LilvNode* subject, const LilvNode* predicate,
                             const LilvNode* object);

    LilvNode* lilv_new_uri(LilvWorld* world, const char* uri);
    void lilv_node_free(LilvNode* val);
    const char* lilv_node_as_string(const LilvNode* value);
    const char* lilv_node_as_uri(const LilvNode* value);
    bool lilv_node_is_float(const LilvNode* value);
    bool lilv_node_is_int(const LilvNode* value);
    float lilv_node_as_float(const LilvNode* value);
    int lilv_node_as_int(const LilvNode* value);

    void lilv_nodes_free(LilvNodes* collection);
    LilvIter* lilv_nodes_begin(const LilvNodes* collection);
    const LilvNode* lilv_nodes_get(const LilvNodes* collection, const LilvIter* i);
    LilvIter* lilv_nodes_next(const LilvNodes* collection, LilvIter* i);
    bool lilv_nodes_is_end(const LilvNodes* collection, const LilvIter* i);

    LilvIter* lilv_plugins_begin(const LilvPlugins* collection);
    const LilvPlugin* lilv_plugins_get(const LilvPlugins* collection, const LilvIter* i);
    LilvIter* lilv_plugins_next(const LilvPlugins* collection, LilvIter* i);
    bool lilv_plugins_is_end(const LilvPlugins* collection, const LilvIter* i);
    const LilvPlugin* lilv_plugins_get_by_uri(const LilvPlugins* plugins, const LilvNode* uri);

    const LilvNode* lilv_plugin_get_uri(const LilvPlugin* plugin);
    LilvNode* lilv_plugin_get_name(const LilvPlugin* plugin);
    const LilvPluginClass* lilv_plugin_get_class(const LilvPlugin* plugin);
    const LilvNode* lilv_plugin_class_get_uri(const LilvPluginClass* plugin_class);
    const LilvNode* lilv_plugin_class_get_label(const LilvPluginClass* plugin_class);
    LilvNodes* lilv_plugin_get_value(const LilvPlugin* plugin, const LilvNode* predicate);
    bool lilv_plugin_has_feature(const LilvPlugin* plugin, const LilvNode* feature);
    LilvNodes* lilv_plugin_get_required_features(const LilvPlugin* plugin);
    LilvNodes* lilv_plugin_get_optional_features(const LilvPlugin* plugin);
    bool lilv_plugin_has_extension_data(const LilvPlugin* plugin, const LilvNode* uri);
    uint32_t lilv_plugin_get_num_ports(const LilvPlugin* plugin);
    bool lilv_plugin_has_latency(const LilvPlugin* plugin);
    uint32_t lilv_plugin_get_latency_port_index(const LilvPlugin* plugin);
    const LilvPort* lilv_plugin_get_port_by_index(const LilvPlugin* plugin, uint32_t index);
    LilvNodes* lilv_plugin_get_related(const LilvPlugin* plugin, const LilvNode* type);

    LilvNode* lilv_port_get(const LilvPlugin* plugin, const LilvPort* port, const LilvNode* predicate);
    LilvNodes* lilv_port_get_value(const LilvPlugin* plugin, const LilvPort* port, const LilvNode* predicate);
    bool lilv_port_has_property(const LilvPlugin* plugin, const LilvPort* port, const LilvNode* property);
    bool lilv_port_supports_event(const LilvPlugin* plugin, const LilvPort* port, const LilvNode* event_type);
    const LilvNode* lilv_port_get_symbol(const LilvPlugin* plugin, const LilvPort* port);
    LilvNode* lilv_port_get_name(const LilvPlugin* plugin, const LilvPort* port);
    const LilvNodes* lilv_port_get_classes(const LilvPlugin* plugin, const LilvPort* port);
    bool lilv_port_is_a(const LilvPlugin* plugin, const LilvPort* port, const LilvNode* port_class);
    void lilv_port_get_range(const LilvPlugin* plugin, const LilvPort* port, LilvNode** deflt, LilvNode** min,
                             LilvNode** max);

    LilvState* lilv_state_new_from_world(LilvWorld* world, LV2_URID_Map* map, const LilvNode* node);
    void lilv_state_restore(const LilvState* state, LilvInstance* instance, LilvSetPortValueFunc set_value,
                            void* user_data, uint32_t flags, const LV2_Feature* const* features);
    void lilv_state_free(LilvState* state);

    LilvInstance* lilv_plugin_instantiate(const LilvPlugin* plugin, double sample_rate,
                                          const LV2_Feature* const* features);
    void lilv_instance_free(LilvInstance* instance);
"""


@functools.cache
def declared_ffi():
    import cffi
    ffi = cffi.FFI()
    ffi.cdef(DECLARATIONS)
    return ffi


def __getattr__(name: str):
    if name == "ffi":
        return declared_ffi()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class LilvUnavailable(RuntimeError):
    """liblilv is not installed: LV2 plugins cannot be discovered or loaded."""


@functools.cache
def library():
    """liblilv, opened once; a clear error naming the Debian package when it is missing."""
    try:
        return declared_ffi().dlopen(LIBRARY)
    except OSError as error:
        raise LilvUnavailable(
            f"LV2 plugins need liblilv, which is not installed ({error}); on Debian or Ubuntu: "
            f"sudo apt install {DEBIAN_PACKAGE}") from None


def text(node) -> str | None:
    """A lilv node's string (a URI or a literal), None for a NULL node."""
    ffi = declared_ffi()
    if node == ffi.NULL:
        return None
    return ffi.string(library().lilv_node_as_string(node)).decode()


def address(pointer) -> int:
    """A C pointer as a plain integer (0 for NULL): how the kernel receives functions and handles."""
    return int(declared_ffi().cast("uintptr_t", pointer))


LV2 = "http://lv2plug.in/ns/lv2core#"
ATOM = "http://lv2plug.in/ns/ext/atom#"
BUF_SIZE = "http://lv2plug.in/ns/ext/buf-size#"
OPTIONS = "http://lv2plug.in/ns/ext/options#"
STATE = "http://lv2plug.in/ns/ext/state#"
URID = "http://lv2plug.in/ns/ext/urid#"
WORKER = "http://lv2plug.in/ns/ext/worker#"

LV2_AUDIO_PORT = LV2 + "AudioPort"
LV2_CONTROL_PORT = LV2 + "ControlPort"
LV2_CV_PORT = LV2 + "CVPort"
LV2_INPUT_PORT = LV2 + "InputPort"
LV2_OUTPUT_PORT = LV2 + "OutputPort"
LV2_PLUGIN = LV2 + "Plugin"
LV2_INSTRUMENT_PLUGIN = LV2 + "InstrumentPlugin"
LV2_HARD_RT_CAPABLE = LV2 + "hardRTCapable"
LV2_IN_PLACE_BROKEN = LV2 + "inPlaceBroken"
LV2_IS_LIVE = LV2 + "isLive"
LV2_TOGGLED = LV2 + "toggled"
LV2_INTEGER = LV2 + "integer"
LV2_ENUMERATION = LV2 + "enumeration"
LV2_PORT = LV2 + "Port"
PORT_PROPS_LOGARITHMIC = "http://lv2plug.in/ns/ext/port-props#logarithmic"

ATOM_PORT = ATOM + "AtomPort"
ATOM_BUFFER_TYPE = ATOM + "bufferType"
ATOM_SEQUENCE = ATOM + "Sequence"
ATOM_CHUNK = ATOM + "Chunk"
ATOM_FLOAT = ATOM + "Float"
ATOM_DOUBLE = ATOM + "Double"
ATOM_INT = ATOM + "Int"
ATOM_LONG = ATOM + "Long"
ATOM_BOOL = ATOM + "Bool"
MIDI_EVENT = "http://lv2plug.in/ns/ext/midi#MidiEvent"
RESIZE_PORT_MINIMUM_SIZE = "http://lv2plug.in/ns/ext/resize-port#minimumSize"

URID_MAP = URID + "map"
URID_UNMAP = URID + "unmap"
OPTIONS_OPTIONS = OPTIONS + "options"
BUF_SIZE_BOUNDED_BLOCK_LENGTH = BUF_SIZE + "boundedBlockLength"
BUF_SIZE_FIXED_BLOCK_LENGTH = BUF_SIZE + "fixedBlockLength"
BUF_SIZE_POWER_OF_2_BLOCK_LENGTH = BUF_SIZE + "powerOf2BlockLength"
BUF_SIZE_MIN_BLOCK_LENGTH = BUF_SIZE + "minBlockLength"
BUF_SIZE_MAX_BLOCK_LENGTH = BUF_SIZE + "maxBlockLength"
BUF_SIZE_NOMINAL_BLOCK_LENGTH = BUF_SIZE + "nominalBlockLength"
BUF_SIZE_SEQUENCE_SIZE = BUF_SIZE + "sequenceSize"
PARAMETERS_SAMPLE_RATE = "http://lv2plug.in/ns/ext/parameters#sampleRate"
WORKER_SCHEDULE = WORKER + "schedule"
WORKER_INTERFACE = WORKER + "interface"
STATE_LOAD_DEFAULT_STATE = STATE + "loadDefaultState"
STATE_INTERFACE = STATE + "interface"
PRESETS_PRESET = "http://lv2plug.in/ns/ext/presets#Preset"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
