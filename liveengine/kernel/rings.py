"""Single-producer single-consumer rings of event rows on preallocated numpy memory.

Indices grow monotonically (int64, never wrap in practice) and live on separate
cache lines; capacity is a power of two. The producer writes the row, then
publishes the write index with a release store; the consumer reads it with an
acquire load, so it never sees a half-written row. Neither side ever waits: a full
ring refuses the push and the caller counts it.
"""

import numpy as np

from .realtime import realtime_entry
from .events import EVENT_WIDTH
from .intrinsics import load_acquire, store_release

WRITE_INDEX = 0
READ_INDEX = 8  # 64 bytes after the write index: no false sharing between the two threads
INDEX_WORDS = 16


@realtime_entry
def ring_push(rows, indices, sample, kind, target, a, b, c, d, e):
    """Producer side: append one event; False when the ring is full."""
    write = indices[WRITE_INDEX]  # only this producer writes it: a plain load is enough
    read = load_acquire(indices, READ_INDEX)
    capacity = rows.shape[0]
    if write - read >= capacity:
        return False
    slot = write & (capacity - 1)
    rows[slot, 0] = sample
    rows[slot, 1] = kind
    rows[slot, 2] = target
    rows[slot, 3] = a
    rows[slot, 4] = b
    rows[slot, 5] = c
    rows[slot, 6] = d
    rows[slot, 7] = e
    store_release(indices, WRITE_INDEX, write + 1)
    return True


@realtime_entry
def ring_pop_into(rows, indices, destination, limit):
    """Consumer side: move up to `limit` rows into `destination`; returns how many."""
    read = indices[READ_INDEX]
    available = load_acquire(indices, WRITE_INDEX) - read
    count = min(available, limit, destination.shape[0])
    mask = rows.shape[0] - 1
    for i in range(count):
        slot = (read + i) & mask
        for field in range(EVENT_WIDTH):
            destination[i, field] = rows[slot, field]
    store_release(indices, READ_INDEX, read + count)
    return count


@realtime_entry
def ring_fill(indices):
    """Rows waiting in the ring, as seen from either side."""
    return load_acquire(indices, WRITE_INDEX) - load_acquire(indices, READ_INDEX)


class Ring:
    """The memory of one ring: its rows and its index words."""

    def __init__(self, capacity: int):
        self.rows = np.zeros((capacity, EVENT_WIDTH), np.float64)
        self.indices = np.zeros(INDEX_WORDS, np.int64)
        self._check()

    @classmethod
    def over(cls, rows: np.ndarray, indices: np.ndarray) -> "Ring":
        """A ring on memory allocated elsewhere (the engine's table of input rings)."""
        ring = cls.__new__(cls)
        ring.rows, ring.indices = rows, indices
        ring._check()
        return ring

    def _check(self):
        capacity = self.rows.shape[0]
        if capacity < 2 or capacity & (capacity - 1):
            raise ValueError(f"ring capacity must be a power of two, got {capacity}")
        if self.rows.shape[1:] != (EVENT_WIDTH,) or self.indices.shape != (INDEX_WORDS,):
            raise ValueError("ring memory has the wrong shape")
        # For the C entry points, which Python calls per event: asking numpy for them costs 2 us a time.
        self.rows_address = self.rows.ctypes.data
        self.indices_address = self.indices.ctypes.data

    @property
    def capacity(self) -> int:
        return self.rows.shape[0]

    def push(self, sample, kind, target=0, a=0.0, b=0.0, c=0.0, d=0.0, e=0.0) -> bool:
        return ring_push(self.rows, self.indices, float(sample), float(kind), float(target),
                         float(a), float(b), float(c), float(d), float(e))

    def pop_into(self, destination: np.ndarray) -> int:
        return ring_pop_into(self.rows, self.indices, destination, destination.shape[0])

    def __len__(self) -> int:
        return int(ring_fill(self.indices))
