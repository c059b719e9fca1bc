"""The real-time contract, as compile options.

Every function the audio callback can reach is compiled with `realtime`: numpy's
error model (a division by zero gives inf, never an exception: the setting does not
pass from caller to callee, so each function needs it), no bounds checks, no GIL,
and numba's on-disk cache for what Python calls, so the show starts without compiling. Only compiled
code calls a `realtime` function; the few that Python calls as well (a ring's ends, the DSP blocks tests
call one by one) are `realtime_entry`; the kernel's large parts are `realtime_unit`s, which a cold start
compiles on two cores (engine/kernelunits.py). `audit.py` verifies the result in the compiled callback's IR.

numba checks a cached function against its own source file only, not the files of the
functions it inlines: after an edit or an upgrade of a callee, the callback would run
stale code. So the cache lives in a directory named by a fingerprint of every file of the
kernel package (this folder and dsp/ below it), and of nothing else: editing the Python face in
engine/ keeps the compiled kernels. Every kernel module imports this one before it compiles.

numba itself is imported only when a kernel function is first compiled or called from Python
(`KernelFunction`): the control plane imports the kernel's layouts without it, and an offline
render that runs the kernel's native object (engine/native.py) never imports numba at all.
"""

import functools
import hashlib
import os
import sys
import types
from pathlib import Path

# The contract as numba's compile options.
CONTRACT = dict(error_model="numpy", boundscheck=False, nogil=True, fastmath={"contract"})


def kernel_sources() -> list[Path]:
    """Every file of the kernel package, in a fixed order: what the fingerprint hashes."""
    kernel = Path(__file__).resolve().parent
    return sorted(path for path in kernel.rglob("*") if path.is_file() and "__pycache__" not in path.parts)


@functools.cache
def kernel_fingerprint() -> str:
    """The SHA-256 of every file of the kernel package: compiled code of other sources is stale."""
    return hashlib.sha256(b"".join(path.read_bytes() for path in kernel_sources())).hexdigest()


def kernel_cache_dir() -> Path:
    """Where the compiled kernels of these sources live: numba's cache and their native object."""
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "liveengine")
    return Path(base, f"kernels-{kernel_fingerprint()[:16]}")


# LLVM's optimisation level for the kernels, unless NUMBA_OPT says otherwise: measured, -O2 renders the
# sampler and synth voices as fast as numba's default -O3, and a cold compile takes 8 % less.
KERNEL_OPTIMISATION = "2"


@functools.cache
def numba_for_kernels():
    """numba, its cache pointed at the kernel cache, its optimisation level the kernels': whatever compiles
    kernel code gets numba here."""
    os.environ.setdefault("NUMBA_OPT", KERNEL_OPTIMISATION)
    import numba
    # numba reads its environment again before each compile once it has changed, and then sets every value
    # from it, the cache's place too: read now (numba may have been imported before), the place set after
    # stays.
    numba.core.config.reload_config()
    numba.config.CACHE_DIR = str(kernel_cache_dir())
    return numba


if "numba" in sys.modules:
    # Whoever imported numba first may compile functions that call the kernel, with numba's cache on:
    # they take the kernel's code into theirs, so they belong in the kernel cache too.
    numba_for_kernels()


@functools.cache
def kernel_dispatcher_class():
    """numba's dispatcher, made to compile a kernel function for as little as it can cost while its callers
    compile:
    - once for each set of argument *types*: numba would compile it once for each constant a caller
      passes as well (every layout row, event kind and envelope stage is a literal int where a caller
      names it), a third of a cold compile; inside the compiled block the constants still fold, once
      LLVM inlines the callee;
    - with no way in from Python unless it is an entry point (`realtime_entry`): compiled code calls a
      kernel function directly, so the CPython wrapper numba builds for each one was a fifth of a cold
      compile spent on code that never ran;
    - without machine code nor optimisation of its own unless it is an entry point: numba links the
      code of every callee into each caller and optimises the whole again, so optimising each kernel
      function on its own and making its machine code (never run: its callers' holds it) did the work
      of the whole kernel once more at each level of calls, half of the LLVM time of a cold compile.
      Its code is not cached either (object code is what numba caches): the entry points' is, and
      holds it."""
    numba_for_kernels()
    from numba.core import types as numba_types
    from numba.core.codegen import JITCodeLibrary
    from numba.core.compiler import Compiler, Flags
    from numba.core.registry import CPUDispatcher

    class LinkedOnlyLibrary(JITCodeLibrary):
        """The code of a kernel function that only compiled code calls: its functions as numba lowers and
        tidies them (its function passes), with its callees' linked in, for the caller that links it to
        optimise as a whole and to make machine code of."""

        def _optimize_final_module(self):
            pass  # each caller optimises it, inlined where it is called

        def _finalize_final_module(self):
            self._finalize_dynamic_globals()
            self._verify_declare_only_symbols()
            self._finalized = True  # and no machine code: never handed to the JIT engine

    defaults = {name: option.default for name, option in Flags.options.items()}
    flags_hash = hash(tuple(sorted(Flags.options)))

    class KernelFlags(Flags):
        """numba's compile options, compared at less cost: numba looks up an overload's implementation by the
        options of the compile at hand each time it types a call (some 100,000 times in a cold compile), and
        read each of its 22 options through a property to do it: 5 % of a cold compile. The same values and
        hash as numba's own."""
        __slots__ = ()

        def values(self):
            return {**defaults, **self._values}

        def __hash__(self):
            return flags_hash

        def __eq__(self, other):
            return isinstance(other, Flags) and self.values() == other.values()

    class KernelCompiler(Compiler):
        """numba's compiler, with `KernelFlags`."""

        def __init__(self, typingctx, targetctx, library, args, return_type, flags, locals):
            super().__init__(typingctx, targetctx, library, args, return_type, KernelFlags(flags), locals)

    class KernelOnlyCompiler(KernelCompiler):
        """numba's compiler, for a function it neither makes machine code of (`no_compile`) nor caches."""

        def compile_extra(self, func):
            self.state.library = LinkedOnlyLibrary(self.state.targetctx.codegen(), func.__qualname__)
            self.state.flags.no_compile = True
            return super().compile_extra(func)

    class KernelDispatcher(CPUDispatcher):
        """`alone`: its code is made into machine code of its own and kept in numba's cache (an entry point,
        a unit); else only its compiled callers hold it."""

        def __init__(self, py_func, targetoptions, alone: bool):
            self.alone = alone
            super().__init__(py_func=py_func, locals={}, targetoptions=targetoptions,
                             pipeline_class=KernelCompiler if alone else KernelOnlyCompiler)
            if alone:
                self.enable_caching()

        def get_call_template(self, args, kws):
            return super().get_call_template([numba_types.unliteral(arg) for arg in args],
                                             {name: numba_types.unliteral(arg) for name, arg in kws.items()})

        @property
        def entry_point(self) -> bool:
            return not self.targetoptions.get("no_cpython_wrapper", False)

        def add_overload(self, cres):
            if self.alone:
                super().add_overload(cres)
            else:  # for compiled callers only: Python's calls never find it, and come to _compile_for_args
                # With no machine code there is no entry point: its callers find its code under the
                # function's descriptor instead (numba registers the entry point's, as the key of a call).
                cres = cres._replace(entry_point=cres.fndesc)
                self.targetctx.insert_user_function(cres.entry_point, cres.fndesc, [cres.library])
                self.overloads[tuple(cres.signature.args)] = cres

        def _compile_for_args(self, *args, **kws):
            if not self.entry_point:
                raise TypeError(f"{self.py_func.__module__}.{self.py_func.__qualname__} is compiled for the "
                                "kernel's own calls only: call it from compiled code, or declare it with "
                                "realtime_entry")
            return super()._compile_for_args(*args, **kws)

    return KernelDispatcher


class KernelFunction:
    """A kernel function as numba compiles it (`kernel_dispatcher_class` with `options`), made when first
    needed: when called from Python, or when a caller that numba compiles refers to it (numba types it
    by the dispatcher's `_numba_type_`). Anything else asked of it is the dispatcher's (`py_func`,
    `stats`, `inspect_llvm`, ...)."""

    def __init__(self, py_func, options: dict, callee_options: dict | None = None, unit_arguments: str = ""):
        functools.update_wrapper(self, py_func)
        self.py_func = py_func
        self._options = options
        self._callee_options = callee_options  # an entry point's or a unit's, for its compiled callers
        self.unit_arguments = unit_arguments  # a unit's argument types, as numba writes them
        self.compiled_apart = False  # a unit another process has compiled into numba's cache

    @functools.cached_property
    def dispatcher(self):
        return kernel_dispatcher_class()(self.py_func, self._options, alone=self._callee_options is not None)

    @functools.cached_property
    def _twin(self):
        """For an entry point or a unit, the dispatcher that compiles for compiled callers only (no machine
        code, wrapper nor cache of its own: each caller holds its code), so that compiling the kernel does
        not also make Python's entry into every building block it reaches, a machine-code module each (an
        entry point's own dispatcher compiles that when Python calls it, into the cache)."""
        return kernel_dispatcher_class()(self.py_func, self._callee_options, alone=False)

    @property
    def _callee(self):
        """The dispatcher compiled callers call: a unit's own once another process has compiled it (its code
        comes from numba's cache), else the twin of an entry point or a unit."""
        if self._callee_options is None or self.compiled_apart:
            return self.dispatcher
        return self._twin

    @property
    def _numba_type_(self):
        return self._callee._numba_type_

    def __call__(self, *args):
        if self.unit_arguments:
            raise TypeError(f"{self.__module__}.{self.__qualname__} is a unit of the kernel: only compiled code "
                            "calls it")
        return self.dispatcher(*args)

    @property
    def unit_name(self) -> str:
        return f"{self.__module__}.{self.__qualname__}"

    def compile_unit(self, apart: bool):
        """Compile a unit for its declared arguments: `apart`, into numba's cache, for another process's
        callers (`compiled_apart` there); else for this process's callers."""
        numba_for_kernels()
        from numba.core.sigutils import normalize_signature
        arguments, _ = normalize_signature(self.unit_arguments)
        (self.dispatcher if apart else self._twin).compile(arguments)

    @functools.cached_property
    def as_python(self):
        """The function run by the interpreter, the kernel functions it calls too: for the few cheap
        computations that set up state from Python, which then need neither compiled code nor numba."""
        namespace = {name: value._call_as_python if isinstance(value, KernelFunction) else value
                     for name, value in self.py_func.__globals__.items()}
        return types.FunctionType(self.py_func.__code__, namespace, self.py_func.__name__,
                                  self.py_func.__defaults__, self.py_func.__closure__)

    def _call_as_python(self, *args):
        return self.as_python(*args)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dispatcher, name)


# forceinline set either way: numba would otherwise take it from the caller being compiled at the time.
_ENTRY = dict(CONTRACT, nopython=True, forceinline=False)
_KERNEL_ONLY = dict(_ENTRY, no_cpython_wrapper=True, no_cfunc_wrapper=True)


def realtime(py_func):
    """A kernel function under the contract, called only by compiled code."""
    return KernelFunction(py_func, _KERNEL_ONLY)


def realtime_inline(py_func):
    """The same, inlined into every caller by LLVM (alwaysinline): for the stages a voice renders in, and
    the helpers its per-sample loops call, so that a render split into named stages costs what one function
    would (LLVM alone does not inline a function that large, nor one a loop calls with arrays and tuples).
    numba compiles it once, on its own, like any kernel function."""
    return KernelFunction(py_func, dict(_KERNEL_ONLY, forceinline=True))


def realtime_spliced(py_func):
    """The same, its body spliced by numba into each caller's before the caller is typed: only for the
    callback's body (measured: inlined by LLVM instead, a cold compile took 5 s longer). numba copies the
    function's IR at each call, at a cost that grows with its size times its blocks: splicing the voices'
    renders and their stages took a third of a cold compile, and the sample voice's twelve loops a seventh,
    where LLVM's inlining (`realtime_inline`) gives the same code."""
    return KernelFunction(py_func, dict(_KERNEL_ONLY, inline="always"))


def realtime_entry(py_func):
    """A kernel function Python calls as well: a ring's ends, and the chase, LTC and DSP building blocks
    that the control plane's set-up or the tests call one by one."""
    return KernelFunction(py_func, _ENTRY, _KERNEL_ONLY)


def realtime_entry_inline(py_func):
    """An entry point that compiled callers inline (alwaysinline), as `realtime_inline`: for the building
    blocks a per-sample loop calls (the oscillators' ticks). LLVM alone leaves the larger ones a call a sample
    in a caller as large as a voice's render, and a loop that calls cannot vectorise."""
    return KernelFunction(py_func, _ENTRY, dict(_KERNEL_ONLY, forceinline=True))


# The kernel's units (`realtime_unit`), by `unit_name`.
UNITS: dict[str, KernelFunction] = {}


def realtime_unit(arguments: str):
    """A kernel function that compiles as a unit of its own, for the argument types its one caller passes
    (numba's type string, as a tuple): so that a cold start can compile some units in a helper process, into
    numba's cache, while it compiles the others (engine/warmup.py). Its callers then link its code from the
    cache (machine code of its own, never run, and its LLVM code, optimised again with theirs). Anywhere
    else it compiles as any kernel function. For the kernel's large parts only: each such compile makes
    machine code of its own."""
    def decorate(py_func):
        unit = KernelFunction(py_func, _KERNEL_ONLY, _KERNEL_ONLY, unit_arguments=arguments)
        UNITS[unit.unit_name] = unit
        return unit
    return decorate


class KernelIntrinsic:
    """An LLVM-level operation for kernel code, as numba's `intrinsic` makes one (`definition(typingctx,
    *argument types)` returns the signature and the code generator), without importing numba until a
    caller compiles. Only compiled code can call it."""

    def __init__(self, definition):
        functools.update_wrapper(self, definition)
        self._definition = definition

    @functools.cached_property
    def _numba_type_(self):
        numba_for_kernels()
        from numba.core import types
        from numba.core.typing.templates import make_intrinsic_template
        return types.Function(make_intrinsic_template(self, self._definition, self.__name__))

    def __call__(self, *args):
        raise NotImplementedError(f"{self.__name__} is an intrinsic: only compiled kernel code can call it")


intrinsic = KernelIntrinsic

# Below this, a decaying state is flushed to exact zero: subnormal floats cost ~3x per operation.
DENORMAL_FLOOR = 1e-15
