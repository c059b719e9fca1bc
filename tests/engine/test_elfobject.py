"""The loader of relocatable x86-64 ELF objects (engine/elfobject.py), on objects GNU `as` assembles:
one in LLVM's large code model loads, links to the process and runs from sealed pages; every object it
cannot load exactly is refused, saying what is wrong."""

import ctypes
import math
import shutil
import struct
import subprocess

import pytest

from liveengine.engine.elfobject import UnloadableObject, load_object

pytestmark = pytest.mark.skipif(shutil.which("as") is None, reason="GNU as (binutils) is not installed")

# Large code model, as LLVM emits it: every address a 64-bit absolute (R_X86_64_64) or a 64-bit
# distance (R_X86_64_PC64), code in .ltext, constants in .lrodata.
LARGE_MODEL = """
    .section .ltext,"axl",@progbits
    .globl sine_of_twice
    .p2align 4
sine_of_twice:              # sin(2 x): a constant of its own, and libm's sine
    movabs $.Ltwo, %rax
    mulsd (%rax), %xmm0
    movabs $sin, %rax
    jmp *%rax
    .globl where_sine_of_twice_is
    .p2align 4
where_sine_of_twice_is:     # its entry's address, from a distance the loader wrote
    movabs $.Ldistance, %rcx
    movq (%rcx), %rax
    addq %rcx, %rax
    ret
    .section .lrodata,"al",@progbits
    .p2align 3
.Ltwo:
    .double 2.0
.Ldistance:
    .quad sine_of_twice - .Ldistance
"""


def assemble(tmp_path, source: str) -> bytes:
    (tmp_path / "object.s").write_text(source)
    subprocess.run(["as", "-o", tmp_path / "object.o", tmp_path / "object.s"], check=True)
    return (tmp_path / "object.o").read_bytes()


def in_process(name: str) -> int | None:
    try:
        return ctypes.cast(getattr(ctypes.CDLL(None), name), ctypes.c_void_p).value
    except AttributeError:
        return None


def protection_at(address: int) -> str:
    for line in open("/proc/self/maps"):
        span, permissions = line.split()[:2]
        start, end = (int(bound, 16) for bound in span.split("-"))
        if start <= address < end:
            return permissions[:3]
    raise AssertionError(f"{address:#x} is not mapped")


def test_an_object_in_the_large_code_model_loads_links_to_the_process_and_runs_from_sealed_pages(tmp_path):
    data = assemble(tmp_path, LARGE_MODEL)
    relocations = subprocess.run(["readelf", "-r", tmp_path / "object.o"], capture_output=True, text=True).stdout
    assert "R_X86_64_64" in relocations and "R_X86_64_PC64" in relocations

    symbols = load_object(data, in_process)
    sine_of_twice = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_double)(symbols["sine_of_twice"])
    assert sine_of_twice(0.3) == math.sin(0.6)
    assert ctypes.CFUNCTYPE(ctypes.c_uint64)(symbols["where_sine_of_twice_is"])() == symbols["sine_of_twice"]
    assert protection_at(symbols["sine_of_twice"]) == "r-x"
    movabs_operand = symbols["where_sine_of_twice_is"] + 2
    constants = ctypes.c_uint64.from_address(movabs_operand).value  # .Ldistance, after the 2.0
    assert protection_at(constants) == "r--"
    assert ctypes.c_double.from_address(constants - 8).value == 2.0


def with_header_field(data: bytes, offset: int, value: int) -> bytes:
    return data[:offset] + struct.pack("<H", value) + data[offset + 2:]


@pytest.mark.parametrize("source, edit, refusal", [
    (LARGE_MODEL, lambda data: with_header_field(data, 18, 183), "is for ELF machine 183, not x86-64"),
    (LARGE_MODEL, lambda data: with_header_field(data, 16, 2), "is not a relocatable object (ELF type 2)"),
    (LARGE_MODEL, lambda data: data[:len(data) // 2], "is truncated"),
    (LARGE_MODEL, lambda data: b"\x7fELF\x01" + data[5:], "is not a 64-bit little-endian ELF object"),
    # the small code model's call, through the procedure linkage table a linker would make
    (".text\n.globl f\nf:\n    call sin\n    ret\n", None, "a relocation of type 4 (R_X86_64_PLT32) in .text"),
    (".text\n.globl f\nf:\n    movabs $liveengine_nowhere, %rax\n    ret\n", None,
     "refers to the undefined symbol liveengine_nowhere, which this process does not have"),
    (".comm counter, 8, 8\n.text\n.globl f\nf:\n    movabs $counter, %rax\n    ret\n", None,
     "refers to the common symbol counter"),
    (".data\n.globl counter\ncounter:\n    .quad 1\n", None, "has the writable section .data"),
    ('.section .tdata,"awT",@progbits\n    .quad 1\n', None, "has the thread-local section .tdata"),
    ('.section .eh_frame,"a",@unwind\n.Lframe:\n    .quad 0\n.section .lrodata,"al",@progbits\n    .quad .Lframe\n',
     None, "in .eh_frame, a section not loaded"),
])
def test_an_object_the_loader_cannot_load_exactly_is_refused_saying_why(tmp_path, source, edit, refusal):
    data = assemble(tmp_path, source)
    with pytest.raises(UnloadableObject) as refused:
        load_object(edit(data) if edit else data, in_process)
    assert refusal in str(refused.value)
