"""The kernel's way into the engine's memory: array views through the address table, and
notifications to the control plane (never waiting: what does not fit is counted)."""

import numpy as np
from numba import carray

from .realtime import realtime
from .intrinsics import address_as_void_pointer
from .rings import ring_push
from .state import A_NOTIFY_INDICES, A_NOTIFY_ROWS, A_TELEMETRY, T_NOTIFICATIONS_DROPPED

# Views of the memory named in the address table.

@realtime
def f64_1d(table, entry):
    return carray(address_as_void_pointer(table[entry, 0]), (table[entry, 1],), np.float64)


@realtime
def f64_2d(table, entry):
    return carray(address_as_void_pointer(table[entry, 0]), (table[entry, 1], table[entry, 2]), np.float64)


@realtime
def f64_3d(table, entry):
    return carray(address_as_void_pointer(table[entry, 0]),
                  (table[entry, 1], table[entry, 2], table[entry, 3]), np.float64)


@realtime
def i64_1d(table, entry):
    return carray(address_as_void_pointer(table[entry, 0]), (table[entry, 1],), np.int64)


@realtime
def i64_3d(table, entry):
    return carray(address_as_void_pointer(table[entry, 0]),
                  (table[entry, 1], table[entry, 2], table[entry, 3]), np.int64)


@realtime
def f32_3d(table, entry):
    return carray(address_as_void_pointer(table[entry, 0]),
                  (table[entry, 1], table[entry, 2], table[entry, 3]), np.float32)


@realtime
def i64_2d(table, entry):
    return carray(address_as_void_pointer(table[entry, 0]), (table[entry, 1], table[entry, 2]), np.int64)


@realtime
def notify(table, sample, kind, target, a, b, c=0.0, d=0.0):
    if not ring_push(f64_2d(table, A_NOTIFY_ROWS), i64_1d(table, A_NOTIFY_INDICES),
                     float(sample), float(kind), float(target), float(a), float(b), float(c), float(d), 0.0):
        telemetry = i64_1d(table, A_TELEMETRY)
        telemetry[T_NOTIFICATIONS_DROPPED] += 1
