"""Relocatable x86-64 ELF objects, loaded into this process without LLVM: the kernel's native code
(engine/native.py) runs without LLVM's JIT, whose library alone would keep 100 MB of a render resident.

What LLVM emits for a module in the large code model: code and constants in sections the object does
not place (.ltext, .text, .rodata*, .lrodata), and relocations saying where a section must hold a
symbol's 64-bit address (R_X86_64_64) or its distance from that place (R_X86_64_PC64). `load_object`
lays the sections out in fresh pages, finds each symbol (defined in the object, or given by `resolve`
from the process), writes the relocations, then seals the pages: code readable and executable,
constants read-only, no page ever writable and executable at once. Anything else (another machine,
another relocation type, a writable or thread-local section, an undefined symbol `resolve` does not
know, a truncated file) raises UnloadableObject: an object loads whole or not at all.
"""

import ctypes
import dataclasses
import mmap
import struct
from typing import Callable

MACHINE = "x86_64"  # platform.machine() of the processors whose objects this loads

ELF_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
SECTION_HEADER = struct.Struct("<IIQQQQIIQQ")
SYMBOL = struct.Struct("<IBBHQQ")
RELOCATION = struct.Struct("<QQq")
ELF_IDENTITY = b"\x7fELF\x02\x01"  # magic, 64-bit, little-endian
ET_REL, EM_X86_64 = 1, 62
SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOBITS, SHT_REL = 1, 2, 3, 4, 8, 9
SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR, SHF_TLS = 0x1, 0x2, 0x4, 0x400
SHN_UNDEF, SHN_LORESERVE, SHN_ABS, SHN_COMMON = 0, 0xFF00, 0xFFF1, 0xFFF2
STB_LOCAL = 0
STT_TLS, STT_GNU_IFUNC = 6, 10
R_X86_64_64, R_X86_64_PC64 = 1, 24
# Other relocation types, named in refusals.
RELOCATION_NAMES = {0: "R_X86_64_NONE", 2: "R_X86_64_PC32", 4: "R_X86_64_PLT32", 9: "R_X86_64_GOTPCREL",
                    10: "R_X86_64_32", 11: "R_X86_64_32S", 23: "R_X86_64_TPOFF32", 41: "R_X86_64_GOTPCRELX",
                    42: "R_X86_64_REX_GOTPCRELX"}
# The unwind tables are not loaded. They serve to unwind through this code: for a C++ exception (none
# crosses it: it calls only C functions, and is called from C) or a thread's cancellation (it contains
# no cancellation point, so none can begin in it). A relocation referring to them refuses the object.
UNWIND_TABLES = ".eh_frame"
WORD = 0xFFFF_FFFF_FFFF_FFFF

_libc = ctypes.CDLL(None, use_errno=True)
_mmap = _libc.mmap
_mmap.restype = ctypes.c_void_p
_mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_mprotect = _libc.mprotect
_mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_munmap = _libc.munmap
_munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
MAP_FAILED = WORD


class UnloadableObject(Exception):
    """The object is not one this loader can load; the message says what is wrong."""


@dataclasses.dataclass(frozen=True)
class Section:
    name: str
    type: int
    flags: int
    offset: int
    size: int
    link: int
    info: int
    alignment: int
    entry_size: int


@dataclasses.dataclass(frozen=True)
class Symbol:
    name: str
    bind: int
    type: int
    section: int
    value: int


def load_object(data: bytes, resolve: Callable[[str], int | None]) -> dict[str, int]:
    """Load the relocatable object `data`; `resolve(name)` gives the address of an undefined symbol, or
    None when the process has none. Returns the address of each global symbol the object defines.
    The pages are never unmapped: the code may run until the process ends."""
    sections = _sections(data)
    symbols = _symbols(data, sections)
    offsets, code_size, size = _layout(sections)
    base = _mmap(None, size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    if base in (None, MAP_FAILED):
        raise UnloadableObject(f"no memory for its {size} bytes (errno {ctypes.get_errno()})")
    try:
        image = bytearray(size)
        for index, offset in offsets.items():
            if sections[index].type != SHT_NOBITS:
                image[offset:offset + sections[index].size] = _contents(data, sections[index])
        link = _Link(sections, symbols, offsets, base, resolve)
        for relocations in sections:
            if relocations.type in (SHT_REL, SHT_RELA) and relocations.info in offsets:
                if relocations.type == SHT_REL:
                    raise UnloadableObject(f"{relocations.name} holds relocations without addends")
                link.relocate(relocations, _contents(data, relocations), image)
        ctypes.memmove(base, bytes(image), size)
        _protect(base, code_size, mmap.PROT_READ | mmap.PROT_EXEC)
        _protect(base + code_size, size - code_size, mmap.PROT_READ)
    except BaseException:
        _munmap(base, size)
        raise
    return {symbol.name: base + offsets[symbol.section] + symbol.value for symbol in symbols
            if symbol.bind != STB_LOCAL and symbol.section in offsets}


def _header(data: bytes) -> tuple:
    if len(data) < ELF_HEADER.size:
        raise UnloadableObject("is truncated (shorter than an ELF header)")
    header = ELF_HEADER.unpack_from(data)
    if header[0][:4] != ELF_IDENTITY[:4]:
        raise UnloadableObject("is not an ELF object")
    if header[0][:6] != ELF_IDENTITY:
        raise UnloadableObject("is not a 64-bit little-endian ELF object")
    if header[1] != ET_REL:
        raise UnloadableObject(f"is not a relocatable object (ELF type {header[1]})")
    if header[2] != EM_X86_64:
        raise UnloadableObject(f"is for ELF machine {header[2]}, not x86-64 ({EM_X86_64})")
    return header


def _sections(data: bytes) -> list[Section]:
    header = _header(data)
    table, entry_size, count, names_index = header[6], header[11], header[12], header[13]
    if count == 0 or entry_size != SECTION_HEADER.size:
        raise UnloadableObject(f"has a section table this loader does not read "
                               f"({count} entries of {entry_size} bytes)")
    if table + count * entry_size > len(data):
        raise UnloadableObject("is truncated (its section table ends past the file's end)")
    headers = list(SECTION_HEADER.iter_unpack(data[table:table + count * entry_size]))
    # each header: name, type, flags, address (none in an object), offset, size, link, info, alignment, entry size
    unnamed = [Section("", *fields[1:3], *fields[4:]) for fields in headers]
    names = _strings(data, unnamed, names_index)
    return [dataclasses.replace(section, name=names(fields[0])) for section, fields in zip(unnamed, headers)]


def _contents(data: bytes, section: Section) -> bytes:
    if section.offset + section.size > len(data):
        raise UnloadableObject(f"is truncated (its section {section.name} ends past the file's end)")
    return data[section.offset:section.offset + section.size]


def _strings(data: bytes, sections: list[Section], index: int) -> Callable[[int], str]:
    """The names in string table `index`, by offset."""
    if index >= len(sections) or sections[index].type != SHT_STRTAB:
        raise UnloadableObject(f"names a string table at section {index}, which is not one")
    table = _contents(data, sections[index])

    def name(offset: int) -> str:
        end = table.find(b"\0", offset)
        if end < 0:
            raise UnloadableObject("has a name running past its string table")
        return table[offset:end].decode("utf-8", "replace")
    return name


def _symbols(data: bytes, sections: list[Section]) -> list[Symbol]:
    tables = [section for section in sections if section.type == SHT_SYMTAB]
    if not tables:
        return []  # an object of constants alone: nothing to link
    if len(tables) > 1 or tables[0].entry_size != SYMBOL.size:
        raise UnloadableObject(f"has {len(tables)} symbol tables, not one this loader reads")
    names = _strings(data, sections, tables[0].link)
    return [Symbol(names(name), info >> 4, info & 0xF, section, value)
            for name, info, _, section, value, _ in SYMBOL.iter_unpack(_contents(data, tables[0]))]


def _layout(sections: list[Section]) -> tuple[dict[int, int], int, int]:
    """Where each loaded section goes: ({section index: offset}, the code's size, the whole size). The
    code comes first, then the constants, each part on pages of its own for its protection."""
    offsets = {}
    size = 0
    for code in (True, False):
        for index, section in enumerate(sections):
            if not section.flags & SHF_ALLOC or section.name == UNWIND_TABLES \
                    or bool(section.flags & SHF_EXECINSTR) != code:
                continue
            if section.flags & SHF_TLS:
                raise UnloadableObject(f"has the thread-local section {section.name}")
            if section.flags & SHF_WRITE and section.size:  # an empty one (as `as` makes) holds nothing to write
                raise UnloadableObject(f"has the writable section {section.name}")
            if section.type not in (SHT_PROGBITS, SHT_NOBITS):
                raise UnloadableObject(f"has the section {section.name} of type {section.type:#x}")
            alignment = max(section.alignment, 1)
            offsets[index] = -(-size // alignment) * alignment
            size = offsets[index] + section.size
        size = -(-size // mmap.PAGESIZE) * mmap.PAGESIZE
        if code:
            code_size = size
    return offsets, code_size, max(size, mmap.PAGESIZE)


@dataclasses.dataclass
class _Link:
    """An object being linked at `base`: its sections' offsets from there, and its symbols' addresses."""
    sections: list[Section]
    symbols: list[Symbol]
    offsets: dict[int, int]  # of each loaded section
    base: int
    resolve: Callable[[str], int | None]
    addresses: dict[int, int] = dataclasses.field(default_factory=dict)  # by symbol index, as found

    def relocate(self, relocations: Section, entries: bytes, image: bytearray):
        """Write one section's relocations into `image`, the bytes to be mapped at `base`."""
        target = self.sections[relocations.info]
        if relocations.entry_size != RELOCATION.size:
            raise UnloadableObject(f"{relocations.name} has entries of {relocations.entry_size} bytes")
        for offset, info, addend in RELOCATION.iter_unpack(entries):
            kind, index = info & 0xFFFF_FFFF, info >> 32
            if kind not in (R_X86_64_64, R_X86_64_PC64):
                raise UnloadableObject(f"has a relocation of type {kind} ({RELOCATION_NAMES.get(kind, 'unknown')}) "
                                       f"in {target.name}, which this loader does not apply")
            if offset + 8 > target.size:
                raise UnloadableObject(f"has a relocation past the end of {target.name}")
            if index not in self.addresses:
                self.addresses[index] = self.address(index)
            place = self.offsets[relocations.info] + offset
            value = self.addresses[index] + addend
            if kind == R_X86_64_PC64:
                value -= self.base + place
            struct.pack_into("<Q", image, place, value & WORD)

    def address(self, index: int) -> int:
        if index >= len(self.symbols):
            raise UnloadableObject(f"has a relocation naming symbol {index} of {len(self.symbols)}")
        symbol = self.symbols[index]
        name = symbol.name or self._section_name(symbol.section)
        if symbol.type == STT_TLS:
            raise UnloadableObject(f"refers to the thread-local symbol {name}")
        if symbol.type == STT_GNU_IFUNC:
            raise UnloadableObject(f"refers to the indirect function {name}")
        if symbol.section == SHN_UNDEF:
            address = self.resolve(name)
            if not address:
                raise UnloadableObject(f"refers to the undefined symbol {name}, which this process does not have")
            return address
        if symbol.section == SHN_ABS:
            return symbol.value
        if symbol.section == SHN_COMMON:
            # numba's objects declare its functions' environment pointers as common symbols; its code
            # refers to none of them, for none of it raises Python exceptions.
            raise UnloadableObject(f"refers to the common symbol {name}, which this loader does not allocate")
        if symbol.section >= SHN_LORESERVE:
            raise UnloadableObject(f"refers to {name} in the reserved section index {symbol.section:#x}")
        if symbol.section not in self.offsets:
            raise UnloadableObject(f"refers to {name} in {self._section_name(symbol.section)}, a section not loaded")
        return self.base + self.offsets[symbol.section] + symbol.value

    def _section_name(self, index: int) -> str:
        return self.sections[index].name if index < len(self.sections) else f"section {index}"


def _protect(address: int, size: int, protection: int):
    if size and _mprotect(address, size, protection) != 0:
        raise UnloadableObject(f"cannot be protected (mprotect: errno {ctypes.get_errno()})")
