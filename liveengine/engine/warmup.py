"""Compile every kernel before the stream opens, so no note ever waits for the compiler.

Each kernel is compiled, or loaded from numba's on-disk cache, by running it once on a
small scratch engine; `report` receives a line per kernel with its time and source.
"""

import time

import numpy as np

from .rings import Ring, ring_fill, ring_pop_into, ring_push
from .render import process
from .state import EngineSettings, EngineState
from . import stream
from .stream import audio_callback


def _cache_counts(dispatcher) -> tuple[int, int]:
    return sum(dispatcher.stats.cache_hits.values()), sum(dispatcher.stats.cache_misses.values())


def _callback_cache_counts() -> tuple[int, int]:
    if stream._compiled_callback is None:
        return 0, 0
    hits = stream._compiled_callback.cache_hits
    return hits, 1 - hits  # a cfunc is compiled once: from the cache, or not


def prepare_kernels(report=print):
    scratch = EngineState(EngineSettings(max_block=32, polyphony=4, input_channels=1, ring_capacity=16,
                                         notify_capacity=16, pending_capacity=16))
    ring = Ring(16)
    rows = np.zeros((4, ring.rows.shape[1]))
    out = np.zeros((32, scratch.settings.output_channels), np.float32)
    silent = np.zeros((32, 1), np.float32)
    steps = (
        ("render kernel", lambda: _cache_counts(process),
         lambda: process(scratch.table, silent.ctypes.data, out.ctypes.data, 32, 0)),
        ("event rings", lambda: _cache_counts(ring_push),
         lambda: (ring.push(0, 0), ring_pop_into(ring.rows, ring.indices, rows, 4), ring_fill(ring.indices))),
        ("audio callback", _callback_cache_counts, audio_callback),
    )
    for name, cache_counts, run in steps:
        began = time.monotonic()
        hits, misses = cache_counts()
        run()
        new_hits, new_misses = cache_counts()
        source = "from cache" if new_hits > hits else "compiled" if new_misses > misses else "already loaded"
        report(f"  {name:<16} {time.monotonic() - began:6.2f} s  ({source})")
