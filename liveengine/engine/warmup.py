"""Compile every kernel before the stream opens, so no note ever waits for the compiler.

Each kernel is compiled, or loaded from numba's on-disk cache. From a cold cache (the first start
after an install or an edit of a kernel) compiling takes some 25 s on a 2-core machine, nearly all
of it the render kernel, some of whose units a helper process compiles meanwhile
(engine/kernelunits.py): then each kernel reports its progress every second, with an estimate
from the last time it compiled on this machine (or, the first time, from a 2-core machine's
figures).

Once numba has them, the entry points the control plane calls (kernel/entries.py) are kept as native
code too (engine/native.py): a command (`run`, `check`, `render`, `play`) then loads that instead,
without importing numba, and says so. That native code belongs to the kernel's sources, not to where
they are installed: a new installation of the same sources (another virtual environment, a reinstall)
starts at once, where numba, whose cache follows the source files' paths, would compile it all again.

`liveengine warmup` prepares them once through numba (`through_numba`), as an installation step.
"""

import contextlib
import json
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..kernel.realtime import numba_for_kernels
from . import entries, kernelunits, native

# Measured from a cold cache on an idle 2-core machine (an AMD EPYC, Zen 3; 24 s in all, at -O2): (seconds,
# functions compiled in this process). The render kernel compiles its callees first (nearly all the functions
# and the time; some of its units in a helper process meanwhile, engine/kernelunits.py), then optimises the
# whole and makes its machine code.
FIRST_ESTIMATES = {"render kernel": (22.0, 221), "entry points": (1.4, 17)}
TICK_SECONDS = 1.0


@dataclass(frozen=True)
class KernelProgress:
    """Where the preparation of one kernel stands."""

    name: str
    cold: bool  # numba's cache holds no index for it: it compiles
    elapsed: float
    estimate: float  # seconds the whole compile should take (cold only)
    functions: int  # functions compiled so far
    expected_functions: int
    source: str = ""  # when done: "from cache", "compiled" or "already loaded"

    @property
    def done(self) -> bool:
        return bool(self.source)


def _cfunc_cache_counts(cfuncs) -> tuple[int, int]:
    hits = sum(cfunc.cache_hits for cfunc in cfuncs)
    return hits, len(cfuncs) - hits  # a cfunc is compiled once: from the cache, or not


def _is_cached(py_func) -> bool:
    """numba's index file for `py_func` exists in the kernel cache: it loads instead of compiling."""
    numba_for_kernels()
    from numba.core.caching import FunctionCache
    return Path(FunctionCache(py_func)._cache_file._index_path).exists()


def _kernels():
    """(name, a function whose cache entry says whether it is cold, its cache hits and misses, what
    compiles or loads it) of each kernel, in order."""
    numba_for_kernels()
    from ..kernel.entries import ENTRY_POINTS
    return (
        # The whole kernel, as PortAudio and the offline renderer call it.
        ("render kernel", ENTRY_POINTS["audio_callback"][0],
         lambda: _cfunc_cache_counts(entries.compiled_cfuncs(["audio_callback"])),
         _render_kernel),
        # The rings' ends, the sample slots' and the stems' handover; then the native code of them all.
        ("entry points", ENTRY_POINTS["push_event"][0],
         lambda: _cfunc_cache_counts(entries.compiled_cfuncs()),
         entries.write_native_code),
    )


def _render_kernel():
    """The render kernel; from a cold cache, its units first, some of them in a helper process."""
    from ..kernel.entries import ENTRY_POINTS
    if not _is_cached(ENTRY_POINTS["audio_callback"][0]):
        kernelunits.compile_units(_is_cached)
    return entries.compiled_entry("audio_callback")


def cache_is_cold() -> bool:
    """Some kernel will compile rather than load from numba's cache."""
    return not all(_is_cached(py_func) for _, py_func, _, _ in _kernels())


def _compile_counter():
    """A numba event listener counting the functions numba finishes compiling (a kernel's callees each
    count) in `finished`."""
    from numba.core import event

    class CompileCounter(event.Listener):
        def __init__(self):
            self.finished = 0

        def on_start(self, ev):
            pass

        def on_end(self, ev):
            self.finished += 1

    return CompileCounter()


def _records_path() -> Path:
    return Path(numba_for_kernels().config.CACHE_DIR).parent / "compile-times.json"


def _read_records() -> dict:
    try:
        return json.loads(_records_path().read_text())
    except (OSError, ValueError):
        return {}


def prepare_kernels(report=print):
    """Compile or load every kernel; `report(KernelProgress)` at each kernel's start and end, and
    every TICK_SECONDS while one compiles."""
    from numba.core import event
    records = _read_records()
    for name, py_func, cache_counts, run in _kernels():
        cold = not _is_cached(py_func)
        seconds, functions = records.get(name, FIRST_ESTIMATES[name])
        counter = _compile_counter()
        began = time.monotonic()

        def progress(source=""):
            return KernelProgress(name, cold, time.monotonic() - began, seconds, counter.finished, functions, source)

        report(progress())
        hits, misses = cache_counts()
        with _every_tick(report, progress) if cold else contextlib.nullcontext(), \
                event.install_listener("numba:compile", counter):
            run()
        new_hits, new_misses = cache_counts()
        source = "from cache" if new_hits > hits else "compiled" if new_misses > misses else "already loaded"
        done = progress(source)
        if source == "compiled":
            records[name] = (done.elapsed, counter.finished)
            _write_records(records)
        report(done)


@contextlib.contextmanager
def _every_tick(report, progress):
    """Reports `progress()` every TICK_SECONDS from a thread of its own while the block runs."""
    finished = threading.Event()

    def tick():
        while not finished.wait(TICK_SECONDS):
            report(progress())

    ticker = threading.Thread(target=tick, daemon=True, name="liveengine-kernel-progress")
    ticker.start()
    try:
        yield
    finally:
        finished.set()
        ticker.join()


def _write_records(records: dict):
    path = _records_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(records))
    except OSError:
        pass  # an estimate only: the next cold start uses the first figures again


class ProgressPrinter:
    """Prints kernel preparation for a person: a line per kernel, redrawn in place on a terminal
    while it compiles (elsewhere a line every ten seconds)."""

    LOG_EVERY_SECONDS = 10.0

    def __init__(self, out=None):
        self.out = out if out is not None else sys.stdout
        self.interactive = self.out.isatty()
        self._logged: dict[str, float] = {}  # kernel: when its last line was written

    def __call__(self, progress: KernelProgress):
        if progress.done:
            self._write(f"  {progress.name:<16} {progress.elapsed:6.2f} s  ({progress.source})", end="\n")
        elif progress.cold:
            estimate = f"of about {progress.estimate:.0f} s" if progress.elapsed <= progress.estimate else \
                f"(more than the {progress.estimate:.0f} s expected: the machine is busy)"
            text = (f"  {progress.name:<16} compiling: {progress.elapsed:4.0f} s {estimate}, "
                    f"{progress.functions} of about {progress.expected_functions} functions")
            if self.interactive:
                self._write(text, end="")
            elif progress.elapsed - self._logged.get(progress.name, -self.LOG_EVERY_SECONDS) >= self.LOG_EVERY_SECONDS:
                self._logged[progress.name] = progress.elapsed
                self._write(text, end="\n")

    def _write(self, text: str, end: str):
        self.out.write(("\r\x1b[K" + text if self.interactive else text) + end)
        self.out.flush()


def prepare_kernels_shown(out=None, quiet_when_warm: bool = False, through_numba: bool = False):
    """Prepare the kernels and tell a person: a line per kernel, and progress with an estimate for each
    one that compiles. `quiet_when_warm`: say nothing when every kernel loads from the cache. The kernel
    cache's native code will do when it holds a usable one, unless `through_numba`."""
    out = out if out is not None else sys.stdout
    began = time.monotonic()
    if not through_numba and entries.kernel_entries().source == entries.NATIVE:
        if not quiet_when_warm:
            print("Preparing kernels:", file=out)
            print(f"  {'native code':<16} {time.monotonic() - began:6.2f} s  (loaded from {native.native_dir()}, "
                  "without numba)", file=out)
            print(f"  ready in {time.monotonic() - began:.2f} s", file=out, flush=True)
        return
    cold = cache_is_cold()
    if quiet_when_warm and not cold:
        prepare_kernels(report=lambda progress: None)
        return
    if cold:
        records = _read_records()
        total = sum(records.get(name, estimate)[0] for name, estimate in FIRST_ESTIMATES.items())
        print(f"Preparing kernels: numba's cache is cold (the first start after an install or an update), "
              f"compiling once, about {total:.0f} s:", file=out, flush=True)
    else:
        print("Preparing kernels:", file=out, flush=True)
    prepare_kernels(report=ProgressPrinter(out))
    if (native.native_dir() / native.MANIFEST).exists():
        print(f"  native code written to {native.native_dir()}: commands load it without numba", file=out)
    print(f"  ready in {time.monotonic() - began:.2f} s", file=out, flush=True)
