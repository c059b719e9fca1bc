"""The kernel's entry points for the control plane: the functions engine/ and loader/ call from
Python, each with a C signature, so the same compiled code runs through numba or, with no numba in
the process, from the native object engine/native.py keeps of it.

Each takes addresses and sizes where the kernel function takes arrays, and views them as the kernel
does (numba.carray), so the entry point is only the kernel function under a C signature. The
signatures are numba's type strings; their ctypes twins are engine/native.py's. This module is
imported where numba compiles the entry points, never on the native path.
"""

import numpy as np
from numba import carray

from .events import EVENT_WIDTH
from .intrinsics import address_as_void_pointer, store_release
from .worker import deliver_work_responses, perform_work, respond_to_plugin, schedule_work_request, worker_record
from .process import drain_input_rings, process
from .realtime import realtime_inline
from .rings import INDEX_WORDS, ring_fill, ring_pop_into, ring_push
from .state import MAX_SAMPLES, TABLE_ENTRIES, TABLE_ENTRY_WIDTH
from .stems import STEM_INT_FIELDS, invalidate_window, play_position, publish_window

PA_CONTINUE = 0  # PortAudio: call again for the next block


@realtime_inline
def int64_view(address, shape):
    return carray(address_as_void_pointer(address), shape, np.int64)


@realtime_inline
def ring_view(rows_address, capacity, indices_address):
    """An event ring's rows and indices."""
    return carray(address_as_void_pointer(rows_address), (capacity, EVENT_WIDTH), np.float64), \
        int64_view(indices_address, (INDEX_WORDS,))


def audio_callback(input_address, output_address, frames, time_info, status_flags, table_address):
    """The block, as PortAudio calls it (a PaStreamCallback, its user data the engine's address table) and
    as an offline render does (no time info, no status flags): live and offline run this one function.
    PortAudio's pointers and unsigned longs pass as int64s, the same registers on 64-bit Linux."""
    process(int64_view(table_address, (TABLE_ENTRIES, TABLE_ENTRY_WIDTH)), input_address, output_address, frames,
            status_flags)
    return PA_CONTINUE


def drain_rings(table_address, block_start):
    drain_input_rings(int64_view(table_address, (TABLE_ENTRIES, TABLE_ENTRY_WIDTH)), block_start)


def push_event(rows_address, capacity, indices_address, sample, kind, target, a, b, c, d, e):
    """1 when the ring took the event, 0 when it is full."""
    rows, indices = ring_view(rows_address, capacity, indices_address)
    return 1 if ring_push(rows, indices, sample, kind, target, a, b, c, d, e) else 0


def pop_events(rows_address, capacity, indices_address, destination_address, destination_rows, limit):
    rows, indices = ring_view(rows_address, capacity, indices_address)
    destination = carray(address_as_void_pointer(destination_address), (destination_rows, EVENT_WIDTH), np.float64)
    return ring_pop_into(rows, indices, destination, limit)


def events_waiting(indices_address):
    return ring_fill(int64_view(indices_address, (INDEX_WORDS,)))


def publish_frames_ready(frames_ready_address, slot, frames):
    """Release store of a sample slot's frames ready (a row of MAX_SAMPLES): the frames written before
    it are visible to the audio thread before the count."""
    store_release(int64_view(frames_ready_address, (MAX_SAMPLES,)), slot, frames)


def stem_play_position(stem_ints_address, slots, slot):
    """The next frame stem `slot` plays (an acquire load: whether it plays may be read after it)."""
    position, _ = play_position(int64_view(stem_ints_address, (STEM_INT_FIELDS, slots)), slot)
    return position


def publish_stem_window(stem_ints_address, slots, slot, window_start, window_end):
    publish_window(int64_view(stem_ints_address, (STEM_INT_FIELDS, slots)), slot, window_start, window_end)


def invalidate_stem_window(stem_ints_address, slots, slot):
    invalidate_window(int64_view(stem_ints_address, (STEM_INT_FIELDS, slots)), slot)


def schedule_work(record_address, size, data_address):
    """An LV2 plugin's LV2_Worker_Schedule.schedule_work; its handle is the plugin's worker record."""
    return schedule_work_request(record_address, size, data_address)


def respond(record_address, size, data_address):
    """The LV2_Worker_Respond_Function an LV2 plugin's work() is given."""
    return respond_to_plugin(record_address, size, data_address)


def work(record_address):
    """The worker thread's step for one plugin: 1 if it handed a request to the plugin's work(), else 0."""
    return perform_work(record_address)


def work_responses(record_address, work_response, handle):
    """The plugin's waiting responses to its work_response, before the kernel first runs it (set-up)."""
    deliver_work_responses(worker_record(record_address), work_response, handle)


# name: (function, C signature). Addresses and counts are int64, LV2's byte counts uint32; sample times and
# event fields float64.
ENTRY_POINTS = {
    "audio_callback": (audio_callback, "int32(int64, int64, int64, int64, int64, int64)"),
    "drain_rings": (drain_rings, "void(int64, float64)"),
    "push_event": (push_event, "int64(int64, int64, int64, float64, float64, float64, float64, float64, float64, "
                               "float64, float64)"),
    "pop_events": (pop_events, "int64(int64, int64, int64, int64, int64, int64)"),
    "events_waiting": (events_waiting, "int64(int64)"),
    "publish_frames_ready": (publish_frames_ready, "void(int64, int64, int64)"),
    "stem_play_position": (stem_play_position, "int64(int64, int64, int64)"),
    "publish_stem_window": (publish_stem_window, "void(int64, int64, int64, int64, int64)"),
    "invalidate_stem_window": (invalidate_stem_window, "void(int64, int64, int64)"),
    "schedule_work": (schedule_work, "int32(int64, uint32, int64)"),
    "respond": (respond, "int32(int64, uint32, int64)"),
    "work": (work, "int64(int64)"),
    "work_responses": (work_responses, "void(int64, int64, int64)"),
}
