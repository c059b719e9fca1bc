"""A cold compile of the render kernel on two cores: a helper process compiles some of the kernel's units
(`realtime_unit`, kernel/realtime.py) into numba's cache while this process compiles the others; the kernel
then compiles here, its helper's units loaded from the cache.

numba compiles in one thread at a time, and nearly all of a cold compile is numba's own Python (typing and
lowering each function), so a second core helps only as a second process. The units are the kernel's large
parts, each called once a block with arguments whose types are known in advance; which the helper takes
(`HELPER_UNITS`) shares the work about evenly. Should the helper fail, its units compile here, as any kernel
function does, and the failure is said.
"""

import importlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ..kernel.realtime import UNITS

# The units the helper compiles: the voices' render and the timecode's and stems' parts, about half of the
# units' compile (measured from a cold cache, the voices 9 s, the timecode 2.6 s, the stems 1 s; the events
# 7.4 s, the cues 2.5 s, the plugins 1.5 s, the mix 0.6 s, which compile here).
HELPER_UNITS = (
    "liveengine.kernel.voices.kinds.render_voices",
    "liveengine.kernel.timecode.follow_timecode",
    "liveengine.kernel.timecode.generate_timecode",
    "liveengine.kernel.stems.render_stems",
)
HELPER_TIMEOUT_SECONDS = 600.0
PARENT_CHECK_SECONDS = 0.5
PACKAGE_ROOT = Path(__file__).resolve().parent.parent.parent


def kernel_units() -> dict:
    """Every unit of the render kernel, by name: the kernel's entry points import every module it calls."""
    importlib.import_module("liveengine.kernel.entries")
    return {name: unit for name, unit in UNITS.items() if name.startswith("liveengine.kernel.")}


def compile_units(is_cached, units: dict | None = None, helper_units=HELPER_UNITS):
    """Compile every unit for the compile of the kernel that follows (the render kernel's, unless `units`
    names others): `helper_units` in a helper process (those `is_cached(py_func)` does not find in numba's
    cache), the others here meanwhile. The helper's that reach the cache are then taken from it
    (`compiled_apart`); any other compiles here with the kernel. On one processor there is no helper: it
    would only take turns with this process."""
    if processors_available() < 2:
        return
    units = kernel_units() if units is None else units
    apart = [name for name in helper_units if not is_cached(units[name].py_func)]
    helper, problem = None, ""
    if apart:
        try:
            helper = Helper(apart)
        except OSError as error:
            problem = f"it could not start: {error}"
    try:
        for name, unit in units.items():
            if name not in helper_units:
                unit.compile_unit(apart=False)
        if helper is not None:
            problem = helper.wait()
    finally:
        if helper is not None:
            helper.stop()
    if problem:
        print(f"Kernel units not compiled by the helper process ({problem}): compiling them here.", file=sys.stderr,
              flush=True)
    for name in helper_units:
        units[name].compiled_apart = is_cached(units[name].py_func)


def processors_available() -> int:
    """The processors this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Helper:
    """The helper process compiling units `names` (OSError if it cannot start). Its messages go to a file: a
    pipe, unread while this process compiles, could fill and hold the helper up."""

    def __init__(self, names: list[str]):
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, (str(PACKAGE_ROOT), environment.get("PYTHONPATH"))))
        self._errors = tempfile.TemporaryFile(mode="w+")
        self._process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from liveengine.engine.kernelunits import compile_here; "
                                   "compile_here(int(sys.argv[1]), sys.argv[2:])", str(os.getpid()), *names],
            env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._errors)

    def wait(self) -> str:
        """Waits for the helper to end; what went wrong, or "" if nothing did."""
        try:
            status = self._process.wait(timeout=HELPER_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            return f"it did not end within {HELPER_TIMEOUT_SECONDS:.0f} s"
        if status != 0:
            self._errors.seek(0)
            last = self._errors.read().strip().splitlines()[-1:] or ["no message"]
            return f"it ended with status {status}: {last[0]}"
        return ""

    def stop(self):
        """Ends the helper if it still runs (this process is stopping, or gave up waiting)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._errors.close()


def compile_here(parent: int, names: list[str]):
    """The helper process: compile units `names` into numba's cache, for process `parent`; ends as soon as
    that process has (stopped while it compiled: killed, or interrupted by its user)."""
    threading.Thread(target=_end_with, args=(parent,), daemon=True, name="liveengine-helper-parent").start()
    for name in names:
        importlib.import_module(name.rpartition(".")[0])  # a unit's module: a unit is a module's function
        UNITS[name].compile_unit(apart=True)


def _end_with(parent: int):
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)
