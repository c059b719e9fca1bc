"""LV2 plugins in the audio thread: instruments and bus inserts, run on the engine's own samples.

The control plane instantiates each plugin and connects its ports once, to buffers it owns
(engine/plugins.py); the kernel copies audio into and out of those buffers, writes MIDI into the
plugin's atom:Sequence, resets its atom outputs, and calls its run(). Plugins run in the same segments
as the voices: a block splits at every event's sample, so an event reaches a plugin on frame 0 of the
run that starts on its own sample, and a control change applies from its sample on.

The worker (LV2's worker extension): the plugin's schedule_work is `schedule_work` below, its handle
the plugin's worker record. Requests go through a byte ring to the control plane's worker thread,
which calls `perform_work`; the plugin's responses come back through a second ring, which the kernel
drains into work_response after each run, before end_run. Rendering offline, schedule_work calls
work() at once (the record's W_SYNCHRONOUS), so a render is the same every time.
"""

import numpy as np
from numba import carray

from .intrinsics import address_as_void_pointer, call_status_at, call_void_at, load_acquire, store_release
from .memory import f64_1d, f64_2d, i64_1d, i64_2d, i64_3d
from .realtime import realtime, realtime_inline
from .rings import READ_INDEX, WRITE_INDEX
from .state import (
    A_BUS_INSERTS,
    A_CONFIG,
    A_CONFIG_FLOAT,
    A_INSTRUMENTS,
    A_PLUGIN_ATOM_OUTPUTS,
    A_PLUGIN_INTS,
    A_PLUGIN_VALUES,
    A_WORKERS,
    C_MAX_BLOCK,
    C_URID_CHUNK,
    C_URID_MIDI_EVENT,
    C_URID_SEQUENCE,
    CF_DEZIPPER_SAMPLES,
    I_GAIN,
    I_KIND,
    I_PLUGIN,
    KIND_PLUGIN,
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
    P_MIDI,
    P_MIDI_CAPACITY,
    P_OUTPUTS,
    P_ROLE,
    P_RUN,
    P_TWIN,
    P_WORK_RESPONSE,
    PV_WET,
    PV_WET_TARGET,
    ROLE_INSERT,
    ROLE_INSTRUMENT,
    W_HANDLE,
    W_REFUSED,
    W_REQUEST_INDICES,
    W_REQUESTS,
    W_RESPOND,
    W_RESPONSE_INDICES,
    W_RESPONSES,
    W_SCRATCH,
    W_SYNCHRONOUS,
    W_WORK,
    WORKER_FIELDS,
    WORKER_MESSAGE_BYTES,
    WORKER_RING_BYTES,
)

SQRT_HALF = 0.7071067811865476  # a mono signal on both sides of a stereo bus, and back: the same level
WORKER_SUCCESS, WORKER_ERR_UNKNOWN, WORKER_ERR_NO_SPACE = range(3)  # LV2_Worker_Status
SEQUENCE_BODY_BYTES = 8  # LV2_Atom_Sequence_Body: unit, pad
ATOM_HEADER_BYTES = 8  # LV2_Atom: size, type
EVENT_HEADER_BYTES = 16  # LV2_Atom_Event: frames (int64), then its LV2_Atom
MESSAGE_HEADER_BYTES = 8  # a worker message's length, before its bytes


@realtime_inline
def byte_view(address, count):
    return carray(address_as_void_pointer(address), (count,), np.uint8)


@realtime_inline
def word_view(address, count):
    return carray(address_as_void_pointer(address), (count,), np.uint32)


@realtime_inline
def padded(size):
    return (size + 7) & ~7


# The worker's byte rings: single producer, single consumer, as kernel/rings.py's, a message being its
# length (8 bytes) and its bytes, padded to 8.

@realtime
def byte_ring_write(ring_address, indices_address, size, data_address):
    """Append one message; False when it does not fit (or is larger than any message may be)."""
    ring = byte_view(ring_address, WORKER_RING_BYTES)
    indices = carray(address_as_void_pointer(indices_address), (READ_INDEX + 1,), np.int64)
    write = indices[WRITE_INDEX]
    read = load_acquire(indices, READ_INDEX)
    needed = MESSAGE_HEADER_BYTES + padded(size)
    if size > WORKER_MESSAGE_BYTES or write + needed - read > WORKER_RING_BYTES:
        return False
    mask = WORKER_RING_BYTES - 1
    for k in range(MESSAGE_HEADER_BYTES):
        ring[(write + k) & mask] = (size >> (8 * k)) & 0xFF
    data = byte_view(data_address, size)
    for k in range(size):
        ring[(write + MESSAGE_HEADER_BYTES + k) & mask] = data[k]
    store_release(indices, WRITE_INDEX, write + needed)
    return True


@realtime
def byte_ring_read(ring_address, indices_address, destination_address):
    """Move the oldest message into `destination` (WORKER_MESSAGE_BYTES long); its length, or -1."""
    ring = byte_view(ring_address, WORKER_RING_BYTES)
    indices = carray(address_as_void_pointer(indices_address), (READ_INDEX + 1,), np.int64)
    read = indices[READ_INDEX]
    if load_acquire(indices, WRITE_INDEX) == read:
        return -1
    mask = WORKER_RING_BYTES - 1
    size = 0
    for k in range(MESSAGE_HEADER_BYTES):
        size |= np.int64(ring[(read + k) & mask]) << (8 * k)
    destination = byte_view(destination_address, WORKER_MESSAGE_BYTES)
    for k in range(size):
        destination[k] = ring[(read + MESSAGE_HEADER_BYTES + k) & mask]
    store_release(indices, READ_INDEX, read + MESSAGE_HEADER_BYTES + padded(size))
    return size


@realtime_inline
def worker_record(record_address):
    return carray(address_as_void_pointer(record_address), (WORKER_FIELDS,), np.int64)


@realtime
def schedule_work_request(record_address, size, data_address):
    """The plugin's schedule_work, called from its run(): the request goes to the worker thread, or, when
    rendering offline, to the plugin's work() at once. Never waits. A plugin restoring its state as it is
    instantiated may ask before its record is wired (no work() yet): the request waits in the ring, and
    the rack hands it over once it is (engine/pluginrack.py)."""
    record = worker_record(record_address)
    if record[W_SYNCHRONOUS] != 0 and record[W_WORK] != 0:
        return call_status_at(record[W_WORK], (record[W_HANDLE], record[W_RESPOND], record_address, np.uint32(size),
                                               data_address))
    if byte_ring_write(record[W_REQUESTS], record[W_REQUEST_INDICES], size, data_address):
        return WORKER_SUCCESS
    record[W_REFUSED] += 1
    return WORKER_ERR_NO_SPACE


@realtime
def respond_to_plugin(record_address, size, data_address):
    """The respond function work() is given: the response waits for the plugin's next run."""
    record = worker_record(record_address)
    if byte_ring_write(record[W_RESPONSES], record[W_RESPONSE_INDICES], size, data_address):
        return WORKER_SUCCESS
    return WORKER_ERR_NO_SPACE


@realtime
def perform_work(record_address):
    """The worker thread's step: the oldest request goes to the plugin's work(); 1 if there was one, else 0."""
    record = worker_record(record_address)
    scratch = record[W_SCRATCH]  # the worker thread's half: requests
    size = byte_ring_read(record[W_REQUESTS], record[W_REQUEST_INDICES], scratch)
    if size < 0:
        return 0
    call_status_at(record[W_WORK], (record[W_HANDLE], record[W_RESPOND], record_address, np.uint32(size), scratch))
    return 1


# Running a plugin.

@realtime
def reset_sequence(address, sequence_urid):
    """An empty atom:Sequence, in frames."""
    words = word_view(address, 4)
    words[0] = SEQUENCE_BODY_BYTES
    words[1] = sequence_urid
    words[2] = 0
    words[3] = 0


@realtime
def append_midi(table, plugin, status, data1, data2, length):
    """A MIDI message of `length` (1-3) bytes at the start of the plugin's next run; False when its
    sequence is full (the message is dropped)."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    address = ints[P_MIDI, plugin]
    if address == 0:
        return False
    words = word_view(address, 2)
    end = ATOM_HEADER_BYTES + words[0]
    needed = EVENT_HEADER_BYTES + padded(length)
    if end + needed > ints[P_MIDI_CAPACITY, plugin]:
        return False
    carray(address_as_void_pointer(address + end), (1,), np.int64)[0] = 0  # frame 0 of the run
    header = word_view(address + end + 8, 2)
    header[0] = length
    header[1] = i64_1d(table, A_CONFIG)[C_URID_MIDI_EVENT]
    message = byte_view(address + end + EVENT_HEADER_BYTES, 8)
    message[0] = status
    message[1] = data1
    message[2] = data2
    words[0] += needed
    return True


@realtime
def instrument_plugin(table, instrument):
    """The plugin column of an LV2 instrument, or -1."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    if not 0 <= instrument < instruments.shape[1] or instruments[I_KIND, instrument] != KIND_PLUGIN:
        return -1
    return int(instruments[I_PLUGIN, instrument])


@realtime
def run_plugin(table, plugin, frames):
    """One run() of `frames` frames on the buffers connected to its ports, then its worker's responses and
    end_run; its MIDI input is empty again for the next run."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    config = i64_1d(table, A_CONFIG)
    outputs = i64_3d(table, A_PLUGIN_ATOM_OUTPUTS)
    for port in range(ints[P_ATOM_OUTPUTS, plugin]):
        words = word_view(outputs[plugin, port, 0], 2)
        words[0] = outputs[plugin, port, 1] - ATOM_HEADER_BYTES
        words[1] = config[C_URID_CHUNK]
    handle = ints[P_HANDLE, plugin]
    call_void_at(ints[P_RUN, plugin], (handle, np.uint32(frames)))
    if ints[P_WORK_RESPONSE, plugin] != 0:
        record = i64_2d(table, A_WORKERS)[plugin]
        responses = record[W_SCRATCH] + WORKER_MESSAGE_BYTES  # the audio thread's half
        while True:
            size = byte_ring_read(record[W_RESPONSES], record[W_RESPONSE_INDICES], responses)
            if size < 0:
                break
            call_status_at(ints[P_WORK_RESPONSE, plugin], (handle, np.uint32(size), responses))
    if ints[P_END_RUN, plugin] != 0:
        call_status_at(ints[P_END_RUN, plugin], (handle,))
    if ints[P_MIDI, plugin] != 0:
        reset_sequence(ints[P_MIDI, plugin], config[C_URID_SEQUENCE])


@realtime_inline
def audio_rows(address, rows, max_block):
    return carray(address_as_void_pointer(address), (rows, max_block), np.float32)


@realtime
def render_plugin_instruments(table, bus_audio, start, end):
    """Every LV2 instrument runs for the frames [start, end) of the block and adds its output, at the
    instrument's gain, into its bus."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    instruments = f64_2d(table, A_INSTRUMENTS)
    max_block = i64_1d(table, A_CONFIG)[C_MAX_BLOCK]
    for plugin in range(MAX_PLUGINS):
        if ints[P_ROLE, plugin] != ROLE_INSTRUMENT:
            continue
        run_plugin(table, plugin, end - start)
        out = audio_rows(ints[P_AUDIO_OUT, plugin], ints[P_OUTPUTS, plugin], max_block)
        bus = ints[P_BUS, plugin]
        right = 1 if ints[P_OUTPUTS, plugin] > 1 else 0
        scale = instruments[I_GAIN, ints[P_INSTRUMENT, plugin]] * (1.0 if right else SQRT_HALF)
        for i in range(start, end):
            bus_audio[bus, 0, i] += scale * out[0, i - start]
            bus_audio[bus, 1, i] += scale * out[right, i - start]


@realtime
def run_inserts(table, bus_audio, bus, start, end):
    """The bus's insert chain, in order, on its frames [start, end): each insert's output replaces its input,
    crossfaded by its wet level (an insert bypassed for good does not run)."""
    inserts = i64_2d(table, A_BUS_INSERTS)
    if inserts[bus, 0] < 0:
        return
    ints = i64_2d(table, A_PLUGIN_INTS)
    values = f64_2d(table, A_PLUGIN_VALUES)
    max_block = i64_1d(table, A_CONFIG)[C_MAX_BLOCK]
    wet_step = 1.0 / f64_1d(table, A_CONFIG_FLOAT)[CF_DEZIPPER_SAMPLES]
    frames = end - start
    for k in range(inserts.shape[1]):
        plugin = inserts[bus, k]
        if plugin < 0:
            break
        wet = values[PV_WET, plugin]
        target = values[PV_WET_TARGET, plugin]
        if wet == 0.0 and target == 0.0:
            continue
        twin = ints[P_TWIN, plugin]
        first_in = audio_rows(ints[P_AUDIO_IN, plugin], ints[P_INPUTS, plugin], max_block)
        first_out = audio_rows(ints[P_AUDIO_OUT, plugin], ints[P_OUTPUTS, plugin], max_block)
        stereo_in = ints[P_INPUTS, plugin] == 2
        for i in range(frames):
            left = bus_audio[bus, 0, start + i]
            right = bus_audio[bus, 1, start + i]
            if stereo_in:
                first_in[0, i] = left
                first_in[1, i] = right
            elif twin >= 0:
                first_in[0, i] = left
            else:
                first_in[0, i] = (left + right) * SQRT_HALF
        run_plugin(table, plugin, frames)
        second_out = first_out
        right_row = 1 if ints[P_OUTPUTS, plugin] > 1 else 0
        if twin >= 0:
            twin_in = audio_rows(ints[P_AUDIO_IN, twin], 1, max_block)
            for i in range(frames):
                twin_in[0, i] = bus_audio[bus, 1, start + i]
            run_plugin(table, twin, frames)
            second_out = audio_rows(ints[P_AUDIO_OUT, twin], 1, max_block)
            right_row = 0
        for i in range(frames):
            if wet != target:
                wet = min(target, wet + wet_step) if wet < target else max(target, wet - wet_step)
            left = bus_audio[bus, 0, start + i]
            right = bus_audio[bus, 1, start + i]
            bus_audio[bus, 0, start + i] = left + (first_out[0, i] - left) * wet
            bus_audio[bus, 1, start + i] = right + (second_out[right_row, i] - right) * wet
        values[PV_WET, plugin] = wet


# What events do to plugins.

@realtime
def set_plugin_control(table, plugin, port, value):
    """Control port `port` of a plugin column (and of its twin) takes `value` from this sample on."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    if not 0 <= plugin < MAX_PLUGINS or ints[P_ROLE, plugin] == 0 or not 0 <= port < ints[P_CONTROL_COUNT, plugin]:
        return False
    carray(address_as_void_pointer(ints[P_CONTROLS, plugin]), (ints[P_CONTROL_COUNT, plugin],),
           np.float32)[port] = np.float32(value)
    twin = ints[P_TWIN, plugin]
    if twin >= 0:
        carray(address_as_void_pointer(ints[P_CONTROLS, twin]), (ints[P_CONTROL_COUNT, twin],),
               np.float32)[port] = np.float32(value)
    return True


@realtime
def bypass_insert(table, plugin, bypassed):
    """An insert glides to bypassed (its input passes, and it stops running) or back into the chain."""
    if not 0 <= plugin < MAX_PLUGINS or i64_2d(table, A_PLUGIN_INTS)[P_ROLE, plugin] != ROLE_INSERT:
        return False
    f64_2d(table, A_PLUGIN_VALUES)[PV_WET_TARGET, plugin] = 0.0 if bypassed else 1.0
    return True


@realtime
def send_midi(table, instrument, status, data1, data2, length):
    """A MIDI message to an LV2 instrument's next run, on its channel 1; False if the instrument is none."""
    plugin = instrument_plugin(table, instrument)
    if plugin < 0:
        return False
    append_midi(table, plugin, status, data1, data2, length)
    return True


@realtime
def silence_plugin_instruments(table):
    """Panic: every LV2 instrument hears All Sound Off and All Notes Off."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    for plugin in range(MAX_PLUGINS):
        if ints[P_ROLE, plugin] == ROLE_INSTRUMENT:
            append_midi(table, plugin, 0xB0, 120, 0, 3)
            append_midi(table, plugin, 0xB0, 123, 0, 3)
