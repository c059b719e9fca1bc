"""The LV2 worker's side in the kernel (LV2's worker extension: a plugin asks for work its run() must not do,
such as reading a file, and gets the answer in a later run).

A plugin's schedule_work is `schedule_work_request`, its handle the plugin's worker record (kernel/state.py's
W_* fields). Requests go through a byte ring to the control plane's worker thread (engine/pluginrack.py),
which calls `perform_work`: the plugin's work() then answers through `respond_to_plugin` into a second
ring, which the kernel drains into the plugin's work_response after each of its runs
(`deliver_work_responses`). Rendering offline, schedule_work calls work() at once (the record's
W_SYNCHRONOUS), so a render is the same every time.
"""

import numpy as np
from numba import carray

from .intrinsics import address_as_void_pointer, call_status_at, load_acquire, store_release
from .realtime import realtime, realtime_inline
from .rings import READ_INDEX, WRITE_INDEX
from .state import (
    WORKER_FIELDS,
    WORKER_MESSAGE_BYTES,
    WORKER_RING_BYTES,
    W_HANDLE,
    W_REFUSED,
    W_REQUESTS,
    W_REQUEST_INDICES,
    W_RESPOND,
    W_RESPONSES,
    W_RESPONSE_INDICES,
    W_SCRATCH,
    W_SYNCHRONOUS,
    W_WORK,
)

WORKER_SUCCESS, WORKER_ERR_UNKNOWN, WORKER_ERR_NO_SPACE = range(3)  # LV2_Worker_Status
MESSAGE_HEADER_BYTES = 8  # a worker message's length, before its bytes


@realtime_inline
def byte_view(address, count):
    return carray(address_as_void_pointer(address), (count,), np.uint8)


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


@realtime
def deliver_work_responses(record, work_response, handle):
    """Every response the plugin's work() gave, to its work_response, in order."""
    responses = record[W_SCRATCH] + WORKER_MESSAGE_BYTES  # the audio thread's half of the scratch
    while True:
        size = byte_ring_read(record[W_RESPONSES], record[W_RESPONSE_INDICES], responses)
        if size < 0:
            break
        call_status_at(work_response, (handle, np.uint32(size), responses))
