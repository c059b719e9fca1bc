"""The compiled callback: the audit of the real-time contract in IR, and the same output as offline."""

import ctypes

import numpy as np
from numba import carray, cfunc, njit, types

from liveengine.engine.entries import compiled_entry
from liveengine.engine import Engine, EngineSettings, OfflineRenderer
from liveengine.engine.audit import audit_ir
from liveengine.kernel.intrinsics import call_void_at

PA_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_void_p,
                               ctypes.c_ulong, ctypes.c_void_p)


# The whole kernel's audit: tests/engine/test_native.py reads the IR of the kernel cache's native code.
# The audit must fail when a change breaks the contract: each of these breaks it once.
SIGNATURE = types.int32(types.voidptr, types.int64)


@njit(boundscheck=True, error_model="numpy")
def _checked_read(values, i):
    return values[i]


@njit(error_model="python")  # integer division by zero raises ZeroDivisionError
def _python_error_model_divide(a, b):
    return a // b


def _raising(pointer, n):
    if n > 3:
        raise ValueError("n too large")
    return 0


def _bounds_checked(pointer, n):
    return int(_checked_read(carray(pointer, (4,), np.float64), n))


def _python_error_model(pointer, n):
    return _python_error_model_divide(n, n - 3)


def _allocating(pointer, n):
    return int(np.zeros(n).sum())


def _printing(pointer, n):
    print(n)
    return 0


def _calling_by_address(pointer, n):
    """A C function called through an address, as the kernel calls a plugin, but not from kernel/plugins.py."""
    call_void_at(n, (np.int64(0), np.uint32(64)))
    return 0


def _clean(pointer, n):
    return int(carray(pointer, (4,), np.float64)[n & 3])


def audit_of(function):
    return audit_ir(cfunc(SIGNATURE, error_model="numpy")(function).inspect_llvm())


def test_the_audit_catches_every_kind_of_violation():
    assert audit_of(_raising).raise_sites
    assert audit_of(_bounds_checked).raise_sites
    assert audit_of(_python_error_model).raise_sites
    allocating = audit_of(_allocating)
    assert allocating.allocations
    assert audit_of(_printing).cpython_calls
    assert audit_of(_calling_by_address).foreign_calls
    assert audit_of(_clean).clean


def scripted_engine():
    engine = Engine(EngineSettings(sample_rate=48000, max_block=128, output_channels=4, input_channels=2,
                                   polyphony=32))
    engine.install_tone(0, 0.003, 0.04, 0.8)
    producer = engine.producer("control")
    for n in range(12):
        producer.note_on(37 * n + 5, n, 0, 50 + 2 * n, 0.3, "keys" if n % 3 else "click", pan=(n % 5 - 2) / 2)
        producer.note_off(37 * n + 2000, n)
    producer.bus_gain("keys", 0.5, fade_seconds=0.01, sample=900)
    producer.bus_mute("click", True, sample=3000)
    return engine


def test_calling_the_cfunc_through_its_pointer_matches_the_offline_renderer_bit_for_bit():
    block, blocks = 128, 60
    input_signal = (0.25 * np.sin(np.arange(block * blocks * 2) * 0.01)).astype(np.float32).reshape(-1, 2)

    offline_engine = scripted_engine()
    renderer = OfflineRenderer(offline_engine.state, block)
    offline = np.concatenate([renderer.render_block(input_signal[i * block:(i + 1) * block]).copy()
                              for i in range(blocks)])

    live_engine = scripted_engine()
    callback = PA_CALLBACK(compiled_entry("audio_callback")[0].address)
    through_pointer = np.zeros((block * blocks, 4), np.float32)
    for i in range(blocks):
        source = np.ascontiguousarray(input_signal[i * block:(i + 1) * block])
        destination = through_pointer[i * block:(i + 1) * block]
        assert callback(source.ctypes.data, destination.ctypes.data, block, None, 0,
                        live_engine.state.table_address) == 0

    assert np.abs(offline).max() > 0.05
    np.testing.assert_array_equal(through_pointer, offline)
    assert live_engine.telemetry().callbacks == blocks


def test_a_callback_larger_than_the_block_is_rendered_in_chunks_identically():
    small = scripted_engine()
    renderer = OfflineRenderer(small.state, 128)
    expected = renderer.render(1024)
    large = scripted_engine()
    callback = PA_CALLBACK(compiled_entry("audio_callback")[0].address)
    out = np.zeros((1024, 4), np.float32)
    silent = np.zeros((1024, 2), np.float32)
    callback(silent.ctypes.data, out.ctypes.data, 1024, None, 0, large.state.table_address)
    np.testing.assert_array_equal(out, expected)


def test_a_callback_with_no_frames_changes_nothing():
    engine = scripted_engine()
    callback = PA_CALLBACK(compiled_entry("audio_callback")[0].address)
    assert callback(None, None, 0, None, 0, engine.state.table_address) == 0
    telemetry = engine.telemetry()
    assert telemetry.callbacks == 0 and telemetry.position == 0
