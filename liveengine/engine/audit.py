"""Audit of the compiled audio callback's LLVM IR for the real-time contract.

numba wraps a cfunc's body in a wrapper that, only when the body returns a non-zero
status (an exception), takes the GIL and reports it. So "the callback never enters
the interpreter" holds exactly when no function of the body can return non-zero.
The audit proves that from the IR, and counts what must never appear in the body:

- raise sites: a status that is not a constant 0 nor the status of another audited
  body function (numba's raise, and the propagation of a Python error);
- NRT allocations: any call into numba's runtime that allocates, reallocates or frees
  (reference counting of the callback's borrowed views is not one: they own nothing);
- CPython API calls: Py*/_Py* functions and numba's GIL and exception helpers;
- calls through an address anywhere but kernel/plugins.py and kernel/worker.py (and the worker's entry
  points): the kernel calls C code by address only to run an LV2 plugin (its run, work, work_response,
  end_run). Those are listed as plugin calls: the plugins themselves are C binaries that declare
  themselves hard-real-time capable (liveengine refuses any other).

IR is only available for code compiled in this process, not loaded from numba's
cache, so `audit_callback` compiles in a subprocess with an empty cache directory the entry
points PortAudio and the control plane call (kernel/entries.py), the audio callback first. The native code an
offline render runs instead (engine/native.py) is numba's object code of those entry points;
numba keeps beside it the IR it was compiled from, which `--native` audits.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

_DEFINE = re.compile(r"^define [^@]*@(\"[^\"]+\"|[\w.$]+)\(")
_RET = re.compile(r"^\s*ret i32 (.+)$")
_ASSIGN = re.compile(r"^\s*(%[\w.\"-]+) = (.*)$")
_CALL = re.compile(r"\bcall [^@]*@(\"[^\"]+\"|[\w.$]+)\(")
_VALUE = re.compile(r"(%[\w.\"-]+|-?\d+|undef|poison)")
_CALL_BY_ADDRESS = re.compile(r"\bcall [^@%]*%[\w.\"-]+\(")
# kernel/plugins.py, and the worker's entry points, into which numba inlines it.
PLUGIN_CALLERS = re.compile(r"^liveengine\.kernel\.(plugins\.|worker\.|entries\.(schedule_work|work|work_responses)$)")

CPYTHON_API = re.compile(r"^(_?Py\w+|numba_gil_ensure|numba_gil_release|numba_unpickle|numba_do_raise|"
                         r"numba_runtime_build_excinfo_struct|numba_\w*pyobject\w*)$")
NRT_NOT_ALLOCATING = {"NRT_incref", "NRT_decref"}
ALLOCATORS = re.compile(r"^(NRT_\w+|malloc|calloc|realloc|free|posix_memalign|aligned_alloc)$")


@dataclass
class AuditReport:
    functions: int = 0
    raise_sites: list[str] = field(default_factory=list)
    allocations: list[str] = field(default_factory=list)
    cpython_calls: list[str] = field(default_factory=list)
    foreign_calls: list[str] = field(default_factory=list)  # by address, outside kernel/plugins.py
    plugin_calls: list[str] = field(default_factory=list)  # by address, in kernel/plugins.py

    @property
    def clean(self) -> bool:
        return not (self.raise_sites or self.allocations or self.cpython_calls or self.foreign_calls)

    def summary(self) -> str:
        lines = [f"audited {self.functions} functions: {len(self.raise_sites)} raise sites, "
                 f"{len(self.allocations)} NRT allocations, {len(self.cpython_calls)} CPython API calls, "
                 f"{len(self.foreign_calls)} calls by address outside the plugin calls "
                 f"({len(self.plugin_calls)} plugin calls)"]
        for title, items in (("raise sites", self.raise_sites), ("NRT allocations", self.allocations),
                             ("CPython API calls", self.cpython_calls), ("calls by address", self.foreign_calls)):
            lines += [f"  {title}: {item}" for item in items[:20]]
        return "\n".join(lines)


def _split_functions(ir: str) -> dict[str, list[str]]:
    functions: dict[str, list[str]] = {}
    current = None
    for line in ir.splitlines():
        match = _DEFINE.match(line)
        if match:
            current = match.group(1)
            functions[current] = []
        elif line.startswith("}"):
            current = None
        elif current is not None:
            functions[current].append(line)
    return functions


def _short(name: str) -> str:
    """numba's mangled name as a dotted Python name: _ZN10liveengine6engine... -> liveengine.engine..."""
    if not name.startswith("_ZN"):
        return name
    parts, rest = [], name[3:]
    while rest[:1].isdigit():
        length = re.match(r"\d+", rest).group()
        start = len(length)
        parts.append(rest[start:start + int(length)])
        rest = rest[start + int(length):]
    return ".".join(parts) or name


def _status_is_zero(value: str, definitions: dict[str, str], body: dict, seen: set) -> bool:
    """Whether a returned status can only be 0: a constant 0, or phis and selects of such values
    and of statuses returned by audited body functions (whose own returns are audited too)."""
    if value == "0":
        return True
    if not value.startswith("%"):
        return False
    if value in seen:
        return True  # a loop through phis adds no new source
    seen.add(value)
    definition = definitions.get(value, "")
    if definition.startswith("phi i32"):
        incoming = re.findall(r"\[\s*([^,\]]+),", definition)
        return all(_status_is_zero(v.strip(), definitions, body, seen) for v in incoming)
    if definition.startswith("select"):
        operands = _VALUE.findall(definition.split(",", 1)[1])
        return all(_status_is_zero(v, definitions, body, seen) for v in operands[:2])
    call = _CALL.search(definition)
    return bool(call and definition.startswith("call i32") and call.group(1) in body)


def audit_ir(ir: str, entry_prefix: str = "cfunc.") -> AuditReport:
    """Audit every function defined in `ir` except the cfunc wrapper (whose name starts with entry_prefix)."""
    functions = _split_functions(ir)
    body = {name: lines for name, lines in functions.items()
            if not name.startswith(entry_prefix) and name not in NRT_NOT_ALLOCATING}
    report = AuditReport(functions=len(body))
    for name, lines in body.items():
        definitions = {}
        for line in lines:
            assignment = _ASSIGN.match(line)
            if assignment:
                definitions[assignment.group(1)] = assignment.group(2)
            for callee in _CALL.findall(line):
                callee = callee.strip('"')
                if CPYTHON_API.match(callee):
                    report.cpython_calls.append(f"{_short(name)} calls {callee}")
                elif ALLOCATORS.match(callee) and callee not in NRT_NOT_ALLOCATING:
                    report.allocations.append(f"{_short(name)} calls {callee}")
            if _CALL_BY_ADDRESS.search(line):
                caller = _short(name)
                (report.plugin_calls if PLUGIN_CALLERS.match(caller) else report.foreign_calls).append(
                    f"{caller} calls by address")

        for line in lines:
            returned = _RET.match(line)
            if returned and not _status_is_zero(returned.group(1).strip(), definitions, body, set()):
                report.raise_sites.append(f"{_short(name)}: ret i32 {returned.group(1).strip()}")
    return report


_COMPILE_AND_PRINT = """
import sys
from liveengine.engine.entries import NAMES, compiled_entry
for name in NAMES:
    sys.stdout.write(compiled_entry(name)[0].inspect_llvm())
"""


def compiled_ir(program: str) -> str:
    """What `program` (Python source that compiles something and writes its LLVM IR to stdout)
    prints, compiled from scratch in a subprocess: IR exists only for code compiled in this
    process, never for code loaded from numba's cache."""
    with tempfile.TemporaryDirectory() as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        result = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True,
                                text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError("compiling for the audit failed:\n" + result.stderr[-4000:])
    return result.stdout


def audit_callback() -> AuditReport:
    return audit_ir(compiled_ir(_COMPILE_AND_PRINT))


def audit_native_code() -> AuditReport:
    """The audit of the IR the kernel cache's native code was compiled from."""
    from .native import native_ir
    return audit_ir(native_ir())


def main():
    report = audit_native_code() if "--native" in sys.argv[1:] else audit_callback()
    print(report.summary())
    print(json.dumps({"functions": report.functions, "raise_sites": len(report.raise_sites),
                      "nrt_allocations": len(report.allocations), "cpython_calls": len(report.cpython_calls),
                      "foreign_calls": len(report.foreign_calls), "plugin_calls": len(report.plugin_calls)}))
    sys.exit(0 if report.clean else 1)


if __name__ == "__main__":
    main()
