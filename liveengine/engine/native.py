"""The compiled kernel's entry points as native code, loaded without numba or LLVM.

numba keeps each compiled function in its cache as object code, and loads it back into LLVM's
MCJIT. For the entry points of kernel/entries.py (C signatures), `write` copies that very
object code from numba's cache into the kernel cache's `native/` folder, with a manifest: the
fingerprint of the kernel sources, the processor it was compiled for, each entry point's symbol,
C signature and the SHA-256 of its object. `load` links those objects into the process itself
(engine/elfobject.py) and returns each entry point's address, for ctypes: the same machine code
numba would run, without importing numba (about 0.3 s of CPU and 70 MB) or llvmlite's LLVM (a
178 MB library, 100 MB of it resident once imported).

The objects call a few functions outside themselves: the C library and libm, which the process
has; CPython's error functions and numba's helpers, on the path a raise would take (the audit
proves it is never taken) and for frexp. numba's helpers are hidden symbols of its two C
extensions, which publish their addresses in a `c_helpers` table: `load` maps those extensions
(not numba's Python package) and links the objects to those addresses, as numba itself does.
"""

import ctypes
import functools
import hashlib
import importlib.util
import json
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from ..kernel.realtime import kernel_cache_dir, kernel_fingerprint
from .elfobject import MACHINE, UnloadableObject, load_object

MANIFEST = "manifest.json"
C_TYPES = {"void": None, "int32": ctypes.c_int32, "uint32": ctypes.c_uint32, "int64": ctypes.c_int64,
           "float64": ctypes.c_double}
# numba's C extensions whose helpers the objects call, and the prefix numba gives their names.
HELPER_EXTENSIONS = (("numba._helperlib", "numba_"), ("numba.core.runtime._nrt_python", "NRT_"))
# What /proc/cpuinfo says of a processor that LLVM's code depends on: its model (LLVM's host CPU name
# follows from it) and its flags (the instruction sets numba compiled for).
PROCESSOR_FIELDS = ("vendor_id", "cpu family", "model", "model name", "flags")


class NativeCodeUnusable(Exception):
    """The kernel cache holds no usable native code for these kernel sources; the message says why."""


@dataclass(frozen=True)
class EntryPoint:
    name: str
    address: int
    signature: str  # numba's type string: "int64(int64, float64)"

    def c_function(self):
        """The entry point as a ctypes function (it releases the GIL while the kernel runs)."""
        result, arguments = _parse_signature(self.signature)
        return ctypes.CFUNCTYPE(C_TYPES[result], *(C_TYPES[argument] for argument in arguments))(self.address)


def native_dir() -> Path:
    return kernel_cache_dir() / "native"


def _parse_signature(signature: str) -> tuple[str, list[str]]:
    result, _, arguments = signature.partition("(")
    names = [name.strip() for name in arguments.rstrip(")").split(",") if name.strip()]
    if result not in C_TYPES or any(name not in C_TYPES or name == "void" for name in names):
        raise NativeCodeUnusable(f"an entry point's signature {signature!r} is not one ctypes can call")
    return result, names


def processor() -> dict[str, str]:
    """This processor, as far as the native code depends on it, told without LLVM."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError as error:
        raise NativeCodeUnusable(f"this system does not tell its processor ({error})") from None
    # Linux describes each core alike: the first one's lines, up to the first blank line, will do.
    fields = dict(line.split(":", 1) for line in text.partition("\n\n")[0].splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in fields.items()}
    return {"machine": platform.machine(), **{key: fields.get(key, "") for key in PROCESSOR_FIELDS}}


# Writing: where numba compiled the entry points (numba is imported there).

def write(compiled: dict, directory: Path | None = None) -> Path:
    """Copy the object code of `compiled` (name: (numba CFunc, signature)) from numba's cache into
    `directory` (default: this kernel cache's native/), with its manifest written last."""
    directory = directory or native_dir()
    if platform.machine() != MACHINE or not sys.platform.startswith("linux"):
        raise NativeCodeUnusable(f"native code loads on {MACHINE} Linux only")
    directory.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name, (cfunc, signature) in compiled.items():
        codegen = cfunc._library.codegen
        payload = cfunc._cache._cache_file.load(cfunc._cache._index_key(cfunc._sig, codegen))
        if payload is None:
            raise NativeCodeUnusable(f"numba's cache holds no object code for {name}")
        # CompileResult._reduce(): the library's object code, and the bitcode of the module it was emitted from
        _, kind, (object_code, bitcode) = payload[0]
        if kind != "object":
            raise NativeCodeUnusable(f"numba's cache holds {kind}, not object code, for {name}")
        _write_whole(directory / f"{name}.o", object_code)
        _write_whole(directory / f"{name}.bc", bitcode)  # what the audit reads (engine/audit.py --native)
        entries[name] = {"symbol": cfunc.native_name, "signature": signature, "object": f"{name}.o",
                         "sha256": hashlib.sha256(object_code).hexdigest(), "bitcode": f"{name}.bc"}
    manifest = {"fingerprint": kernel_fingerprint(), "processor": processor(), "entries": entries}
    _write_whole(directory / MANIFEST, json.dumps(manifest, indent=1).encode())
    return directory


def _write_whole(path: Path, data: bytes):
    """Another process loading meanwhile reads the old file or the new one, never half of one."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def native_ir(directory: Path | None = None) -> str:
    """The LLVM IR the native objects were compiled from (numba keeps it beside each object), for the audit."""
    directory = directory or native_dir()
    manifest = json.loads((directory / MANIFEST).read_text())
    if manifest.get("fingerprint") != kernel_fingerprint():
        raise NativeCodeUnusable(f"{directory} holds native code of other kernel sources")
    import llvmlite.binding as llvm
    return "\n".join(str(llvm.parse_bitcode((directory / entry["bitcode"]).read_bytes()))
                     for entry in manifest["entries"].values())


# Loading: neither numba nor llvmlite.


def load(names, directory: Path | None = None) -> dict[str, EntryPoint]:
    """The entry points `names` from the native objects in `directory` (default: this kernel cache's),
    or NativeCodeUnusable saying why not (none written yet, other kernel sources, another processor,
    an object damaged or holding what engine/elfobject.py does not link)."""
    directory = directory or native_dir()
    try:
        manifest = json.loads((directory / MANIFEST).read_text())
    except FileNotFoundError:
        raise NativeCodeUnusable(f"no native code in {directory} yet") from None
    except (OSError, ValueError) as error:
        raise NativeCodeUnusable(f"{directory / MANIFEST} is unreadable ({error})") from None
    if manifest.get("fingerprint") != kernel_fingerprint():
        raise NativeCodeUnusable(f"{directory} holds native code of other kernel sources")
    entries = manifest.get("entries", {})
    missing = [name for name in names if name not in entries]
    if missing:
        raise NativeCodeUnusable(f"{directory} lacks the entry points {', '.join(missing)}")
    objects = {}
    for name in names:
        path = directory / entries[name]["object"]
        try:
            objects[name] = path.read_bytes()
        except OSError as error:
            raise NativeCodeUnusable(f"{path} is unreadable ({error})") from None
        if hashlib.sha256(objects[name]).hexdigest() != entries[name]["sha256"]:
            raise NativeCodeUnusable(f"{path} is damaged (its checksum differs from the manifest's)")
    if manifest.get("processor") != processor():
        raise NativeCodeUnusable(f"{directory} holds native code compiled for another processor")
    points = {}
    for name in names:
        path = directory / entries[name]["object"]
        try:
            symbols = load_object(objects[name], _symbol_in_process)
        except UnloadableObject as error:
            raise NativeCodeUnusable(f"{path} does not load: it {error}") from None
        if entries[name]["symbol"] not in symbols:
            raise NativeCodeUnusable(f"{path} lacks its entry point")
        points[name] = EntryPoint(name, symbols[entries[name]["symbol"]], entries[name]["signature"])
    return points


_process = ctypes.CDLL(None)
_dlsym = _process.dlsym
_dlsym.restype = ctypes.c_void_p
_dlsym.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
RTLD_DEFAULT = None


def _symbol_in_process(name: str) -> int | None:
    """The address of a symbol the objects leave undefined, as LLVM would link it for numba: numba's
    helpers from their tables, anything else (the C library, libm, CPython) from the process."""
    return _helpers().get(name) or _dlsym(RTLD_DEFAULT, name.encode())


@functools.cache
def _helpers() -> dict[str, int]:
    return {prefix + name: address for module_name, prefix in HELPER_EXTENSIONS
            for name, address in _c_helpers(module_name).items()}


def _c_helpers(module_name: str) -> dict[str, int]:
    """The `c_helpers` table of one of numba's C extensions, mapped from its file alone: numba's Python
    package stays unimported (if it is imported, its extension already is)."""
    if module_name in sys.modules:
        return sys.modules[module_name].c_helpers
    package, _, leaf = module_name.rpartition(".")
    spec = importlib.util.find_spec(package.partition(".")[0])
    if spec is None or not spec.submodule_search_locations:
        raise NativeCodeUnusable("numba is not installed: its helpers are missing")
    folder = Path(spec.submodule_search_locations[0], *package.split(".")[1:])
    files = sorted(folder.glob(f"{leaf}.*.so")) + sorted(folder.glob(f"{leaf}.*.pyd"))
    if not files:
        raise NativeCodeUnusable(f"numba's helper library {module_name} is missing")
    extension = importlib.util.spec_from_file_location(module_name, files[0])
    module = importlib.util.module_from_spec(extension)
    sys.modules.pop(module_name, None)  # mapped for its table, not imported as numba's module
    return module.c_helpers
