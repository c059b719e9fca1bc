"""The real-time contract, as compile options.

Every function the audio callback can reach is compiled with `realtime`: numpy's
error model (a division by zero gives inf, never an exception: the setting does not
pass from caller to callee, so each function needs it), no bounds checks, no GIL,
and numba's on-disk cache so the show starts without compiling.
`audit.py` verifies the result in the compiled callback's IR.

numba checks a cached function against its own source file only, not the files of the
functions it inlines: after an edit or an upgrade of a callee, the callback would run
stale code. So the cache lives in a directory named by a fingerprint of every file of the
kernel package (this folder and dsp/ below it), and of nothing else: editing the Python face in
engine/ keeps the compiled kernels. Every kernel module imports this one before it compiles.
"""

import hashlib
import os
from pathlib import Path

import numba
from numba.core import types
from numba.core.registry import CPUDispatcher


def kernel_sources() -> list[Path]:
    """Every file of the kernel package, in a fixed order: what the fingerprint hashes."""
    kernel = Path(__file__).resolve().parent
    return sorted(path for path in kernel.rglob("*") if path.is_file() and "__pycache__" not in path.parts)


def _realtime_cache_dir() -> Path:
    sources = kernel_sources()
    fingerprint = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "liveengine")
    return Path(base, f"kernels-{fingerprint}")


numba.config.CACHE_DIR = str(_realtime_cache_dir())

class KernelDispatcher(CPUDispatcher):
    """A kernel function, compiled to cost as little as it can while its callers compile:
    - once for each set of argument *types*: numba would compile it once for each constant a caller
      passes as well (every layout row, event kind and envelope stage is a literal int where a caller
      names it), a third of a cold compile; inside the compiled block the constants still fold, once
      LLVM inlines the callee;
    - with no way in from Python unless it is an entry point (`realtime_entry`): compiled code calls a
      kernel function directly, so the CPython wrapper numba builds for each one was a fifth of a cold
      compile spent on code that never ran."""

    def get_call_template(self, args, kws):
        return super().get_call_template([types.unliteral(arg) for arg in args],
                                         {name: types.unliteral(arg) for name, arg in kws.items()})

    @property
    def entry_point(self) -> bool:
        return not self.targetoptions.get("no_cpython_wrapper", False)

    def add_overload(self, cres):
        if self.entry_point:
            super().add_overload(cres)
        else:  # for compiled callers only: Python's calls never find it, and come to _compile_for_args
            self.overloads[tuple(cres.signature.args)] = cres

    def _compile_for_args(self, *args, **kws):
        if not self.entry_point:
            raise TypeError(f"{self.py_func.__module__}.{self.py_func.__qualname__} is compiled for the kernel's "
                            "own calls only: call it from compiled code, or declare it with realtime_entry")
        return super()._compile_for_args(*args, **kws)


def _kernel_function(**options):
    def compile_lazily(function):
        dispatcher = KernelDispatcher(py_func=function, locals={}, targetoptions={**_CONTRACT, **options})
        dispatcher.enable_caching()
        return dispatcher
    return compile_lazily


_CONTRACT = dict(nopython=True, error_model="numpy", boundscheck=False, nogil=True, fastmath={"contract"})
_KERNEL_ONLY = dict(no_cpython_wrapper=True, no_cfunc_wrapper=True)
realtime = _kernel_function(**_KERNEL_ONLY)
# The same, inlined into its caller by numba itself: for the stages a voice renders in, and the helpers
# its per-sample loops call, so that a render split into named stages costs what one function would
# (LLVM alone does not inline a function that large, nor one a loop calls with arrays and tuples).
realtime_inline = _kernel_function(inline="always", **_KERNEL_ONLY)
# A kernel function the control plane (or a test) calls from Python: the block's process, the rings'
# producer and consumer ends, the DSP building blocks tested one by one.
realtime_entry = _kernel_function()

# Below this, a decaying state is flushed to exact zero: subnormal floats cost ~3x per operation.
DENORMAL_FLOOR = 1e-15
