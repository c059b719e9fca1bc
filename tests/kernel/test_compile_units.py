"""How the kernel's functions compile (kernel/realtime.py): once per set of argument types, not once
per constant a caller passes; and with a way in from Python only for the entry points, so a Python
call to any other function is refused with a message saying so, never a crash; and a cold start's units,
compiled partly in a helper process (engine/kernelunits.py)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numba import njit, typeof

from liveengine.engine.kernelunits import HELPER_UNITS
from liveengine.kernel.memory import f64_2d


@njit  # not cached: compiled in each run, so its callee is asked for each time
def two_views(table):
    """Two calls naming two address-table entries as constants, as every kernel function does."""
    return f64_2d(table, 3)[0, 0] + f64_2d(table, 4)[0, 0]


def test_a_function_called_with_different_constants_compiles_once():
    values = np.zeros(4)
    table = np.zeros((8, 4), np.int64)
    table[3] = table[4] = (values.ctypes.data, 2, 2, 0)
    values[0] = 1.5
    assert two_views(table) == 3.0
    assert [str(arg) for arg in next(iter(f64_2d.overloads))] == [str(typeof(table)), "int64"]
    assert len(f64_2d.overloads) == 1


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("compiled_first", [False, True], ids=["not compiled yet", "compiled by its callers"])
def test_a_kernel_only_function_called_from_python_is_refused_with_a_message(compiled_first):
    done = run(f"""
        import numpy as np
        from liveengine.engine.warmup import prepare_kernels
        from liveengine.kernel.memory import i64_1d
        if {compiled_first}:
            prepare_kernels()
        try:
            i64_1d(np.zeros((4, 4), np.int64), 0)
        except TypeError as error:
            print(error)
    """)
    assert done.returncode == 0, done.stderr
    assert "liveengine.kernel.memory.i64_1d is compiled for the kernel's own calls only" in done.stdout
    assert "realtime_entry" in done.stdout


def test_an_entry_point_is_called_from_python():
    done = run("""
        import numpy as np
        from liveengine.kernel.dsp.filters import prewarp
        print(prewarp(1000.0, 48000.0) > 0)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"]


def test_only_entry_points_are_cached_kernel_only_code_lives_in_its_callers(tmp_path):
    """A kernel-only function gets neither machine code nor a cache entry of its own: its callers link its
    code and make the machine code of it (kernel/realtime.py's LinkedOnlyLibrary), and they run it."""
    done = run(f"""
        import os
        os.environ["NUMBA_CACHE_DIR"] = {str(tmp_path)!r}
        import numpy as np
        from numba import njit
        from liveengine.kernel.dsp.filters import prewarp
        from liveengine.kernel.memory import i64_1d

        @njit
        def third(table):
            return i64_1d(table, 2)[0]

        row = np.arange(5, 9, dtype=np.int64)
        table = np.zeros((4, 4), np.int64)
        table[2] = (row.ctypes.data, 4, 1, 0)
        print(third(table), prewarp(1000.0, 48000.0) > 0)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["5", "True"]
    cached = {path.name.split("-")[0] for path in tmp_path.rglob("*.nbi")}
    assert "filters.prewarp" in cached and not any("i64_1d" in name for name in cached), cached


@pytest.mark.parametrize("numba_first", [False, True], ids=["liveengine first", "numba imported first"])
def test_kernels_compile_at_o2_into_the_kernel_cache_whoever_imported_numba_first(numba_first):
    """The kernels' optimisation level and cache hold through numba's own reading of its environment before
    each compile, also when numba was imported before the engine asked for it."""
    done = run(f"""
        import os
        os.environ.pop("NUMBA_OPT", None)
        {"import numba" if numba_first else ""}
        from liveengine.kernel.realtime import kernel_cache_dir, numba_for_kernels
        numba = numba_for_kernels()

        @numba.njit  # a compile: numba reads its environment again before it
        def twice(x):
            return 2 * x

        assert twice(21) == 42
        print(int(numba.config.OPT), numba.config.CACHE_DIR == str(kernel_cache_dir()))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "True"]


# A cold start's units (engine/kernelunits.py): what the process that compiled the kernel says of each.
UNIT_REPORT = """
    import json, os, sys
    os.environ["NUMBA_CACHE_DIR"] = sys.argv[1]
    from numba.core.sigutils import normalize_signature
    from liveengine.engine.warmup import prepare_kernels
    from liveengine.engine.kernelunits import kernel_units
    prepare_kernels(report=lambda progress: None)
    print(json.dumps({name: unit_report(unit) for name, unit in kernel_units().items()}))
"""
UNIT_REPORT_FUNCTION = """
    def unit_report(unit):
        from numba.core.sigutils import normalize_signature
        cached, twin = unit.__dict__.get("dispatcher"), unit.__dict__.get("_twin")
        declared = tuple(normalize_signature(unit.unit_arguments)[0])
        return {
            "compiled apart": unit.compiled_apart,
            "loaded from the cache": sum(cached.stats.cache_hits.values()) if cached else 0,
            "compiled here for the cache": sum(cached.stats.cache_misses.values()) if cached else 0,
            "compiled here": [list(map(str, args)) == list(map(str, declared)) for args in twin.overloads] if twin
            else [],
        }
"""
APART = {"compiled apart": True, "loaded from the cache": 1, "compiled here for the cache": 0, "compiled here": []}
HERE = {"compiled apart": False, "loaded from the cache": 0, "compiled here for the cache": 0, "compiled here": [True]}


def test_a_cold_start_compiles_some_units_in_a_helper_process_and_takes_them_from_the_cache(tmp_path):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(UNIT_REPORT_FUNCTION) + textwrap.dedent(UNIT_REPORT),
                           str(tmp_path / "cache")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    units = json.loads(done.stdout.splitlines()[-1])
    assert set(HELPER_UNITS) < set(units), "the helper's units are units, and some compile here"
    for name, unit in units.items():
        # The helper's: written to numba's cache by the helper, loaded from it by the kernel's compile. The
        # others: compiled here once, for their declared argument types, which the kernel's call passes.
        assert unit == (APART if name in HELPER_UNITS else HERE), name
    assert "helper" not in done.stderr


# Two units and their caller, compiled as a cold start compiles the render kernel's units.
SMALL_KERNEL = """
from liveengine.kernel.realtime import realtime_entry, realtime_unit


@realtime_unit("(float64[::1], int64)")
def total(values, count):
    result = 0.0
    for i in range(count):
        result += values[i]
    return result


@realtime_unit("(float64[::1], int64)")
def largest(values, count):
    result = values[0]
    for i in range(1, count):
        result = max(result, values[i])
    return result


@realtime_entry
def total_and_largest(values, count):
    return total(values, count) + largest(values, count)
"""
SMALL_KERNEL_START = """
    import json, os, sys
    os.environ["NUMBA_CACHE_DIR"] = sys.argv[1]
    if sys.argv[2] == "broken helper":
        sys.executable = "/bin/false"  # the helper process starts, and fails at once
    elif sys.argv[2] == "no helper":
        sys.executable = "/no/such/python"  # the helper process cannot start
    import numpy as np
    import smallkernel
    from liveengine.engine.kernelunits import compile_units
    from liveengine.engine.warmup import _is_cached
    from liveengine.kernel.realtime import UNITS
    units = {name: UNITS[name] for name in ("smallkernel.total", "smallkernel.largest")}
    compile_units(_is_cached, units, helper_units=("smallkernel.total",))
    print(smallkernel.total_and_largest(np.array([1.0, 5.0, 2.0]), 3))
    print(json.dumps({name: unit_report(unit) for name, unit in units.items()}))
"""


@pytest.mark.parametrize("helper", ["helper", "broken helper", "no helper"])
def test_units_compile_in_a_helper_process_or_here_when_it_fails_and_the_user_is_told(tmp_path, helper):
    (tmp_path / "smallkernel.py").write_text(SMALL_KERNEL)
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(UNIT_REPORT_FUNCTION) +
                           textwrap.dedent(SMALL_KERNEL_START), str(tmp_path / "cache"), helper],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (
                              str(tmp_path), os.environ.get("PYTHONPATH"))))})
    assert done.returncode == 0, done.stderr
    result, report = done.stdout.splitlines()[-2:]
    assert float(result) == 8.0 + 5.0
    units = json.loads(report)
    assert units["smallkernel.largest"] == HERE
    if helper == "helper":
        assert units["smallkernel.total"] == APART
        assert not done.stderr
    else:
        assert units["smallkernel.total"] == HERE
        why = "it ended with status 1" if helper == "broken helper" else "it could not start: [Errno 2]"
        assert f"Kernel units not compiled by the helper process ({why}" in done.stderr
        assert "compiling them here" in done.stderr


def test_on_one_processor_no_helper_process_starts():
    done = run("""
        import os, subprocess
        from liveengine.engine import kernelunits
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

        def refuse(*args, **kwargs):
            raise AssertionError("a helper process started")

        subprocess.Popen = refuse
        print(kernelunits.processors_available())
        kernelunits.compile_units(lambda py_func: False)
        print([name for name, unit in kernelunits.kernel_units().items() if unit.compiled_apart])
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["1", "[]"]
