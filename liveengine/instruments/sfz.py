"""SFZ instruments read into the engine's region model (`kernel.regions`).

`load_sfz` reads an SFZ file with its `#include`s and `#define`s and the header hierarchy
<control> → <global> → <master> → <group> → <region>: a region takes every opcode of the
headers above it unless it sets the opcode itself. A new <global> starts a new master and
group, a new <master> a new group, and a new <control> clears `default_path`.

It reads what the engine plays and reports the rest. Every opcode it ignores, every value it
changes and every sample it cannot find is in `SampledInstrument.problems` as
"file:line: message", so nothing is dropped silently. What it chooses on the way:

- A missing sample leaves its region silent (`sample=-1`) rather than removing it: the key
  ranges, keyswitches, round robins and chokes stay as written, so the notes that have their
  samples play exactly as they would with the whole library. One problem per missing file.
- A number outside its range is clamped into it; a value that cannot be read at all (not a
  number, not a note name, not one of the options) is ignored, so the value inherited from
  the headers above, or the default, stays.
- Ranges are the SFZ specification's, widened where libraries write more and players
  accept it: `volume` up to +48 dB (VSCO 2 uses +23 dB), `tune` ±9600 cents (the spec's
  ±100 is SFZ 1's), `lovel`/`hivel` from 0 (VSCO 2 writes `lovel=0`; it matches the same
  notes as 1), `lokey`/`hikey` from -1 (SFZ 2's "no key").
- Sample paths are relative to the top file's folder, from an included file too, as the
  spec says; `#include` paths are relative to the including file's folder, then the top
  file's. `\\` separates folders as `/` does, and where the exact path does not exist, each
  folder and file name is matched regardless of letter case.
- `end=-1` (SFZ 2: the region does not play, but still chokes other regions) makes the
  region silent. A region started by a controller (`on_loccN`/`on_hiccN`) is left out: the
  engine starts regions by notes only. With `trigger=release` the controller is disregarded.
- The filter is on only where `cutoff` is set, as in SFZ; filter types the engine lacks play
  as the 2-pole filter of their family (`lpf_4p` as `lpf_2p`) or without a filter (`pkf_2p`).
- <curve>, <effect>, <midi> and <sample> headers are reported and skipped with their opcodes.
"""

import math
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from liveengine.kernel.regions import (
    CURVE_SHAPES,
    FILTER_TYPES,
    LOOP_MODES,
    OFF_MODES,
    ORIGINAL,
    TRIGGERS,
    ControllerCrossfade,
    ControllerModulation,
    Envelope,
    Lfo,
    Region,
    SampledInstrument,
    SampleSource,
)

__all__ = ["GENERATED_SAMPLES", "SfzError", "load_sfz", "parse_note_name"]

GENERATED_SAMPLES = ("*sine", "*saw", "*square", "*triangle", "*noise", "*silence")

MAX_INCLUDE_DEPTH = 32  # nested #includes; deeper ones are reported and skipped
MAX_INCLUDES = 5000  # #includes followed in all; files that include each other many times stop there


class SfzError(Exception):
    """The SFZ file itself cannot be read (missing, a directory, not permitted)."""


def load_sfz(path: str | os.PathLike, *, default_path_override: str | None = None) -> SampledInstrument:
    """The instrument an SFZ file describes, with the problems found on the way.

    `default_path_override`, when given, replaces every `default_path` of the file (for a
    library whose samples were moved); relative to the file's folder unless absolute.
    Raises SfzError only when the file itself cannot be read."""
    top = os.path.abspath(os.fspath(path))
    try:
        with open(top, "rb") as file:
            data = file.read()
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise SfzError(f"cannot read SFZ file {top}: {reason}") from error
    return _Loader(top, default_path_override).load(data)


_NOTE = re.compile(r"([a-gA-G])([#♯b♭]?)(-?\d{1,2})")
_SEMITONES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACCIDENTALS = {"": 0, "#": 1, "♯": 1, "b": -1, "♭": -1}


def parse_note_name(text: str) -> int:
    """The MIDI key of a note name in SFZ's convention, c4 = 60: `c#4` is 61, `eb3` 51, `C-1` 0.

    Raises ValueError when `text` is not a note name. The key may fall outside 0..127 (`g#9`)."""
    match = _NOTE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a note name: {text!r}")
    letter, accidental, octave = match.groups()
    return (int(octave) + 1) * 12 + _SEMITONES[letter.lower()] + _ACCIDENTALS[accidental]


# --- Values -------------------------------------------------------------------------------

class _Invalid(Exception):
    """A value the opcode cannot take: the opcode is ignored."""


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _shorten(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[:length - 1] + "…"


def _figure(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


@dataclass(frozen=True)
class _Range:
    """A number from low to high, clamped into the range; `whole`: integers only;
    `notes`: note names too."""

    low: float
    high: float = math.inf
    whole: bool = False
    notes: bool = False

    def read(self, text: str) -> tuple[object, str | None]:
        number = self._number(text)
        if self.whole and not number.is_integer():
            raise _Invalid("not a whole number")
        clamped = min(max(number, self.low), self.high)
        value = int(clamped) if self.whole else clamped
        if number < self.low:
            return value, f"below {_figure(self.low)}; raised to it"
        if number > self.high:
            return value, f"above {_figure(self.high)}; lowered to it"
        return value, None

    def _number(self, text: str) -> float:
        if not text:
            raise _Invalid("no value")
        if _NUMBER.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                return number
        if self.notes:
            try:
                return float(parse_note_name(text))
            except ValueError:
                pass
        raise _Invalid("not a note number or name" if self.notes else "not a number")


@dataclass(frozen=True)
class _Choice:
    """One of `options`; `substitutes` maps options the engine lacks to what it plays instead,
    with the reason."""

    options: tuple[str, ...]
    substitutes: dict[str, tuple[str, str]] = field(default_factory=dict)

    def read(self, text: str) -> tuple[object, str | None]:
        if text in self.options:
            return text, None
        if text in self.substitutes:
            return self.substitutes[text]
        raise _Invalid("no value" if not text else f"not one of {', '.join(self.options)}")


class _Text:
    """Text as written: labels, paths."""

    def read(self, text: str) -> tuple[object, str | None]:
        return text, None


class _SampleName:
    """A sample file's path, or a generated wave such as `*sine`."""

    def read(self, text: str) -> tuple[object, str | None]:
        if not text.strip():
            raise _Invalid("no sample named")
        return text.strip(), None


class _KeyCenter:
    """A key, or `sample`: the sample file's own root key (SFZ 2)."""

    def read(self, text: str) -> tuple[object, str | None]:
        return (ORIGINAL, None) if text == "sample" else _KEY.read(text)


# --- Opcodes ------------------------------------------------------------------------------
# Each opcode sets one or more targets: a Region field by name, or a tuple naming a part of a
# nested record: ("amp_envelope", "attack"), or, for controller opcodes,
# ("modulation", cc, target), ("crossfade", cc, "in_low"), ("cc_condition", cc, "low").

_KEY = _Range(0, 127, whole=True, notes=True)
_MIDI_VALUE = _Range(0, 127, whole=True)
_SECONDS = _Range(0, 100)
_PERCENT = _Range(0, 100)
_VELOCITY_SCALING = _Range(-100, 100)
_FRAMES = _Range(0, 2**32, whole=True)
_WIDE_CENTS = _Range(-9600, 9600)
_INT32 = _Range(-2**31, 2**31 - 1, whole=True)
_TEXT = _Text()

_FILTER_FAMILIES = ("lpf", "hpf", "bpf", "brf")
_OTHER_FILTERS = ("bpf_1p", "brf_1p", "apf_1p", "lpf_2p_sv", "hpf_2p_sv", "bpf_2p_sv", "brf_2p_sv", "pkf_2p",
                  "lpf_4p", "hpf_4p", "lpf_6p", "hpf_6p", "comb", "pink", "lsh", "hsh", "peq")


def _filter_substitute(name: str) -> tuple[str, str]:
    family = name[:3]
    if family in _FILTER_FAMILIES:
        return f"{family}_2p", f"not supported; played as {family}_2p"
    return "", "not supported; played without a filter"


_FILTER_TYPE = _Choice(FILTER_TYPES, {name: _filter_substitute(name) for name in _OTHER_FILTERS})

_ENVELOPE_STAGES = {"delay": _SECONDS, "start": _PERCENT, "attack": _SECONDS, "hold": _SECONDS,
                    "decay": _SECONDS, "sustain": _PERCENT, "release": _SECONDS}
_VELOCITY_STAGES = ("delay", "attack", "hold", "decay", "sustain", "release")
# SFZ's filter envelope sustains at 0 % and releases at once by default, unlike the amplifier's.
_FILTER_ENVELOPE_DEFAULTS = {"sustain": 0.0, "release": 0.0}


def _envelope_opcodes(prefix: str, record: str) -> dict:
    opcodes = {f"{prefix}_{stage}": (((record, stage),), reader) for stage, reader in _ENVELOPE_STAGES.items()}
    opcodes |= {f"{prefix}_vel2{stage}": (((record, f"vel2{stage}"),), _VELOCITY_SCALING) for stage in _VELOCITY_STAGES}
    return opcodes


def _lfo_opcodes(prefix: str, record: str, depth: _Range) -> dict:
    readers = {"freq": _Range(0, 20), "depth": depth, "delay": _SECONDS, "fade": _SECONDS}
    attributes = {"freq": "frequency"}
    return {f"{prefix}_{name}": (((record, attributes.get(name, name)),), reader) for name, reader in readers.items()}


def _same(reader, *names: str) -> dict:
    return {name: ((name,), reader) for name in names}


_OPCODES: dict[str, tuple[tuple, object]] = {
    # Which notes play the region.
    **_same(_Range(-1, 127, whole=True, notes=True), "lokey", "hikey"),
    "key": (("lokey", "hikey", "pitch_keycenter"), _KEY),
    **_same(_Range(0, 127, whole=True), "lovel", "hivel"),
    **_same(_Range(1, 16, whole=True), "lochan", "hichan"),
    **_same(_Range(0, 127, whole=True), "loprog", "hiprog"),
    **_same(_Range(0, 1), "lorand", "hirand"),
    **_same(_Range(1, 100, whole=True), "seq_length", "seq_position"),
    **_same(_KEY, "sw_lokey", "sw_hikey", "sw_last", "sw_default"),
    "sw_label": (("sw_label",), _TEXT),
    "trigger": (("trigger",), _Choice(TRIGGERS)),
    # Pitch.
    "pitch_keycenter": (("pitch_keycenter",), _KeyCenter()),
    "pitch_keytrack": (("pitch_keytrack",), _Range(-1200, 1200)),
    "tune": (("tune",), _WIDE_CENTS),
    "transpose": (("transpose",), _Range(-127, 127, whole=True)),
    **_same(_WIDE_CENTS, "pitch_veltrack", "bend_up", "bend_down"),
    # Amplitude.
    "volume": (("volume",), _Range(-144, 48)),
    "amplitude": (("amplitude",), _PERCENT),
    "pan": (("pan",), _Range(-100, 100)),
    "amp_veltrack": (("amp_veltrack",), _Range(-100, 100)),
    "rt_decay": (("rt_decay",), _Range(0, 200)),
    **_envelope_opcodes("ampeg", "amp_envelope"),
    **_envelope_opcodes("fileg", "filter_envelope"),
    "fileg_depth": ((("filter_envelope", "depth"),), _Range(-12000, 12000)),
    # Only matter when a controller modulates an envelope, which the engine does not do.
    "ampeg_dynamic": ((), _Range(0, 1, whole=True)),
    "fileg_dynamic": ((), _Range(0, 1, whole=True)),
    **_lfo_opcodes("amplfo", "amp_lfo", _Range(-10, 10)),
    **_lfo_opcodes("pitchlfo", "pitch_lfo", _Range(-1200, 1200)),
    # Crossfades.
    **_same(_KEY, "xfin_lokey", "xfin_hikey", "xfout_lokey", "xfout_hikey"),
    **_same(_MIDI_VALUE, "xfin_lovel", "xfin_hivel", "xfout_lovel", "xfout_hivel"),
    **_same(_Choice(CURVE_SHAPES), "xf_keycurve", "xf_velcurve", "xf_cccurve"),
    # The sample.
    "sample": (("sample",), _SampleName()),
    "offset": (("offset",), _FRAMES),
    "end": (("end",), _Range(-1, 2**32, whole=True)),
    "loop_mode": (("loop_mode",), _Choice(LOOP_MODES)),
    **_same(_FRAMES, "loop_start", "loop_end"),
    # Filter.
    "fil_type": (("fil_type",), _FILTER_TYPE),
    "cutoff": (("cutoff",), _Range(0)),
    "resonance": (("resonance",), _Range(0, 40)),
    "fil_veltrack": (("fil_veltrack",), _WIDE_CENTS),
    "fil_keytrack": (("fil_keytrack",), _Range(0, 1200)),
    "fil_keycenter": (("fil_keycenter",), _KEY),
    # Chokes and polyphony.
    **_same(_INT32, "group", "off_by"),
    "off_mode": (("off_mode",), _Choice(OFF_MODES)),
    "off_time": (("off_time",), _Range(0)),
    **_same(_Range(0, whole=True), "polyphony", "note_polyphony"),
    **_same(_TEXT, "global_label", "master_label", "group_label", "region_label"),
}

# Older and other players' names for the same opcodes (SFZ 1, SFZ 2, ARIA).
_ALIASES = {
    "loopmode": "loop_mode", "loopstart": "loop_start", "loopend": "loop_end", "offby": "off_by",
    "polyphony_group": "group", "filtype": "fil_type", "bendup": "bend_up", "benddown": "bend_down",
    "pitch": "tune", "tune_keytrack": "pitch_keytrack", "tune_veltrack": "pitch_veltrack",
    **{f"amp_{stage}": f"ampeg_{stage}" for stage in ("delay", "attack", "hold", "decay", "sustain", "release")},
    **{f"amp_vel2{stage}": f"ampeg_vel2{stage}" for stage in _VELOCITY_STAGES},
    **{f"fil_{stage}": f"fileg_{stage}" for stage in ("delay", "attack", "hold", "decay", "sustain", "release",
                                                       "depth")},
    **{f"fil_vel2{stage}": f"fileg_vel2{stage}" for stage in _VELOCITY_STAGES},
}

# Opcodes ending in a controller number, by the name before it: (record, attribute, reader).
_CONTROLLER_OPCODES = {
    **{name: ("modulation", "volume", _Range(-144, 48)) for name in ("gain_cc", "gain_oncc", "volume_oncc")},
    **{name: ("modulation", "amplitude", _Range(-100, 100)) for name in ("amplitude_cc", "amplitude_oncc")},
    **{name: ("modulation", "pan", _Range(-200, 200)) for name in ("pan_cc", "pan_oncc")},
    **{name: ("modulation", "pitch", _WIDE_CENTS) for name in ("pitch_oncc", "tune_cc", "tune_oncc")},
    **{name: ("modulation", "cutoff", _WIDE_CENTS) for name in ("cutoff_cc", "cutoff_oncc")},
    "xfin_locc": ("crossfade", "in_low", _MIDI_VALUE), "xfin_hicc": ("crossfade", "in_high", _MIDI_VALUE),
    "xfout_locc": ("crossfade", "out_low", _MIDI_VALUE), "xfout_hicc": ("crossfade", "out_high", _MIDI_VALUE),
    "locc": ("cc_condition", "low", _MIDI_VALUE), "hicc": ("cc_condition", "high", _MIDI_VALUE),
    **{name: ("cc_trigger", "low", _MIDI_VALUE) for name in ("on_locc", "start_locc")},
    **{name: ("cc_trigger", "high", _MIDI_VALUE) for name in ("on_hicc", "start_hicc")},
}

_CONTROL_OPCODES = {"default_path"}
_LABELS = ("region_label", "group_label", "master_label", "global_label")  # the most specific first
# Targets the region assembly reads itself rather than passing to Region as they are.
_ASSEMBLED = {"sample", "end", "fil_type", "sw_default", "sw_label", *_LABELS}

_LEVELS = ("global", "master", "group", "region")
_INITIAL_CONTROLLER = re.compile(r"set_(hd)?cc(\d+)")
_SKIPPED_HEADERS = {
    "curve": "read but not used: the engine has no controller curves; its opcodes are ignored",
    "effect": "not supported; its opcodes are ignored",
    "midi": "not supported; its opcodes are ignored",
    "sample": "not supported (embedded samples); its opcodes are ignored",
}
_GENERATOR_ALIASES = {"*tri": "*triangle"}


def _entry(name: str) -> tuple[tuple, object] | None:
    """An opcode's targets and its value's reader; None if the engine does not support it.
    Raises _Invalid for a controller number beyond MIDI's."""
    name = _ALIASES.get(name, name)
    if name in _OPCODES:
        return _OPCODES[name]
    stem = name.rstrip("0123456789")
    if stem == name or stem not in _CONTROLLER_OPCODES:
        return None
    record, attribute, reader = _CONTROLLER_OPCODES[stem]
    digits = name[len(stem):]
    if record == "cc_trigger":  # such a region is left out, whatever its controller
        return (((record, digits, attribute),), reader)
    if len(digits) > 3 or int(digits) > 127:
        raise _Invalid(f"controller {_shorten(digits, 12)} is beyond MIDI's 0..127")
    return (((record, int(digits), attribute),), reader)


def _supported(name: str) -> bool:
    try:
        return _entry(name) is not None
    except _Invalid:  # a controller opcode, for a controller beyond MIDI's
        return True


_TEXT_OPCODES = {name for name, (_, reader) in _OPCODES.items() if isinstance(reader, _Text | _SampleName)}


def _takes_one_word(name: str) -> bool:
    """Whether the opcode's value is a number or keyword, as opposed to text with spaces."""
    return _supported(name) and _ALIASES.get(name, name) not in _TEXT_OPCODES


# --- Text to tokens -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Token:
    kind: str  # "header", "opcode", or "text": anything else
    name: str  # the header's or opcode's name, or the text
    value: str
    origin: str  # "file:line"


_COMMENT = re.compile(r"//|/\*")
_DIRECTIVE = re.compile(r"(?<![^\s>])#(?:define|include)\b")
_DEFINE = re.compile(r"#define\s+(\$\w+)\s+(.*\S)", re.ASCII)
_INCLUDE = re.compile(r'#include\s*"([^"]*)"\s*(.*)')
_VARIABLE = re.compile(r"\$\w+", re.ASCII)
_SPACE = re.compile(r"\s*")
_HEADER = re.compile(r"<(\w+)>", re.ASCII)
_OPCODE = re.compile(r"(\w+)=", re.ASCII)
# A value runs to the next `opcode=`, header or the end of the line: values hold spaces
# (`sample=Arco Vib/A3.wav`, `sw_label=C2 Sustain`). The look-behind tries each run of
# spaces once, so long runs cost linear time.
_VALUE_END = re.compile(r"(?<!\s)\s+(?=\w+=)|<", re.ASCII)
_OTHER = re.compile(r"<[^<>\s]*>?|[^\s<]+")


def _code_lines(text: str, name: str, problems: "_Problems") -> Iterator[tuple[int, str]]:
    """The lines of `text`, numbered from 1, without their `//` and `/* */` comments."""
    comment_from = 0  # the line where an open /* comment began
    for number, line in enumerate(text.split("\n"), 1):
        code = []
        position = 0
        while position <= len(line):
            if comment_from:
                end = line.find("*/", position)
                if end < 0:
                    break
                comment_from = 0
                position = end + 2
            match = _COMMENT.search(line, position)
            if match is None:
                code.append(line[position:])
                break
            code.append(line[position:match.start()])
            if match.group() == "//":
                break
            comment_from = number
            position = match.end()
        yield number, " ".join(code)
    if comment_from:
        problems.add(f"{name}:{comment_from}: /* comment never closed; the rest of the file is ignored")


def _tokens_of_line(line: str, origin: str) -> Iterator[_Token]:
    position = _SPACE.match(line).end()
    while position < len(line):
        if header := _HEADER.match(line, position):
            yield _Token("header", header.group(1), "", origin)
            position = header.end()
        elif opcode := _OPCODE.match(line, position):
            end = _VALUE_END.search(line, opcode.end())
            position = len(line) if end is None else end.start()
            yield _Token("opcode", opcode.group(1), line[opcode.end():position].strip(), origin)
        else:
            other = _OTHER.match(line, position)
            yield _Token("text", other.group(), "", origin)
            position = other.end()
        position = _SPACE.match(line, position).end()


def _decode(data: bytes) -> tuple[str, int | None]:
    """The text, and the line of its first byte that is not UTF-8 if it was read as Latin-1."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        return data.decode("latin-1"), data.count(b"\n", 0, error.start) + 1


class _Problems:
    """What the loader reports, in order, each message once (an #included file may be read twice)."""

    def __init__(self):
        self._messages: dict[str, None] = {}

    def add(self, message: str):
        self._messages.setdefault(message)

    def messages(self) -> list[str]:
        return list(self._messages)


class _Files:
    """Finds the files an SFZ names: `\\` or `/` between folders, and where the exact path does
    not exist, folder and file names matched regardless of letter case."""

    def __init__(self):
        self._folders: dict[str, dict[str, str]] = {}  # folder → its entries by case-folded name

    @staticmethod
    def spelled(base: str, written: str) -> str:
        """The path as written, from `base`."""
        return os.path.normpath(os.path.join(base, written.replace("\\", "/")))

    def find(self, base: str, written: str) -> str | None:
        exact = self.spelled(base, written)
        if os.path.isfile(exact):
            return exact
        relative = written.replace("\\", "/")
        current = "/" if os.path.isabs(relative) else base
        for part in relative.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                current = os.path.dirname(current)
                continue
            candidate = os.path.join(current, part)
            if not os.path.exists(candidate):
                entry = self._entries(current).get(part.casefold())
                if entry is None:
                    return None
                candidate = os.path.join(current, entry)
            current = candidate
        return current if os.path.isfile(current) else None

    def _entries(self, folder: str) -> dict[str, str]:
        if folder not in self._folders:
            try:
                names = sorted(os.listdir(folder))
            except (OSError, ValueError):
                names = []
            entries: dict[str, str] = {}
            for name in names:
                entries.setdefault(name.casefold(), name)
            self._folders[folder] = entries
        return self._folders[folder]


class _Reader:
    """SFZ text as tokens: comments dropped, `#define`d names replaced, `#include`s followed."""

    def __init__(self, top: str, files: _Files, problems: _Problems):
        self._top_folder = os.path.dirname(top)
        self._files = files
        self._problems = problems
        self._defines: dict[str, str] = {}
        self._define_pattern: re.Pattern | None = None
        self._open: list[str] = []  # the real paths of the files being read, outermost first
        self._includes = 0

    def tokens(self, path: str, text: str, not_utf8_at: int | None = None) -> Iterator[_Token]:
        self._open.append(os.path.realpath(path))
        name = self.display(path)
        if not_utf8_at:
            self._problems.add(f"{name}:{not_utf8_at}: not UTF-8; the file is read as Latin-1")
        for number, line in _code_lines(text, name, self._problems):
            origin = f"{name}:{number}"
            directive = _DIRECTIVE.search(line)
            code = line if directive is None else line[:directive.start()]
            yield from _tokens_of_line(self._substitute(code, origin), origin)
            if directive is not None:
                yield from self._directive(line[directive.start():].strip(), path, origin)
        self._open.pop()

    def display(self, path: str) -> str:
        """`path` as messages name it: relative to the top file's folder when inside it (through
        whatever links either was reached by)."""
        relative = os.path.relpath(os.path.realpath(path), os.path.realpath(self._top_folder))
        return path if relative.split(os.sep)[0] == ".." else relative

    def _substitute(self, text: str, origin: str) -> str:
        if "$" not in text:
            return text
        if self._defines:
            if self._define_pattern is None:  # longest name first: $KEY2 before $KEY
                names = sorted(self._defines, key=len, reverse=True)
                self._define_pattern = re.compile("|".join(re.escape(name) for name in names))
            text = self._define_pattern.sub(lambda match: self._defines[match.group()], text)
        for name in _VARIABLE.findall(text):
            self._problems.add(f"{origin}: {name} is not #defined")
        return text

    def _directive(self, text: str, path: str, origin: str) -> Iterator[_Token]:
        if text.startswith("#define"):
            define = _DEFINE.fullmatch(text)
            if define is None:
                self._problems.add(f"{origin}: {_shorten(text)}: expected #define $NAME value; ignored")
                return
            name, value = define.groups()
            self._defines[name] = self._substitute(value, origin)
            self._define_pattern = None
            return
        include = _INCLUDE.fullmatch(self._substitute(text, origin))
        if include is None or not include.group(1).strip():
            self._problems.add(f"{origin}: {_shorten(text)}: expected #include \"file\"; ignored")
            return
        written, rest = include.groups()
        if rest:
            self._problems.add(f"{origin}: unexpected text after #include: {_shorten(rest)}; ignored")
        yield from self._include(written.strip(), path, origin)

    def _include(self, written: str, path: str, origin: str) -> Iterator[_Token]:
        problem = f'{origin}: #include "{_shorten(written)}"'
        if len(self._open) >= MAX_INCLUDE_DEPTH:
            self._problems.add(f"{problem}: nested deeper than {MAX_INCLUDE_DEPTH} files; not included")
            return
        if self._includes >= MAX_INCLUDES:
            self._problems.add(f"{problem}: more than {MAX_INCLUDES} #includes; not included")
            return
        folders = list(dict.fromkeys([os.path.dirname(path), self._top_folder]))
        found = next(filter(None, (self._files.find(folder, written) for folder in folders)), None)
        if found is None:
            self._problems.add(f"{problem}: file not found (looked for {self._files.spelled(folders[0], written)})")
            return
        real = os.path.realpath(found)
        if real in self._open:
            loop = [self.display(file) for file in self._open[self._open.index(real):]] + [self.display(found)]
            self._problems.add(f"{problem}: include loop ({' → '.join(loop)}); not included again")
            return
        try:
            with open(found, "rb") as file:
                data = file.read()
        except OSError as error:
            self._problems.add(f"{problem}: cannot read: {error.strerror or error}")
            return
        self._includes += 1
        yield from self.tokens(found, *_decode(data))


# --- Tokens to regions --------------------------------------------------------------------

@dataclass(frozen=True)
class _Setting:
    """An opcode's value as read, with where it was written, for later messages."""

    value: object
    origin: str  # "file:line"
    text: str  # "opcode=value" as written

    @property
    def where(self) -> str:
        return f"{self.origin}: {self.text}"


class _Loader:
    """Follows the header hierarchy over the tokens and assembles regions and samples."""

    def __init__(self, top: str, default_path_override: str | None):
        self._top = top
        self._top_folder = os.path.dirname(top)
        self._override = default_path_override
        self._problems = _Problems()
        self._files = _Files()
        self._reader = _Reader(top, self._files, self._problems)
        # What the opcodes of each level set, by target; a region merges them top down.
        self._levels: dict[str, dict[object, _Setting]] = {level: {} for level in _LEVELS}
        self._at: str | None = None  # where opcodes go: a level, "control", "skipped", or nowhere yet
        self._default_path = ""
        self._region_opened: tuple[str, str] | None = None  # (origin, default path) of the open <region>
        self._regions: list[Region] = []
        self._samples: list[SampleSource] = []
        self._sample_indices: dict[str, int] = {}  # sample path as written with its default path → index
        self._source_indices: dict[str, int] = {}  # file found (or generator) → index
        self._sw_default: _Setting | None = None
        self._sw_labels: dict[int, _Setting] = {}
        self._controllers: dict[int, float] = {}

    def load(self, data: bytes) -> SampledInstrument:
        for token in self._reader.tokens(self._top, *_decode(data)):
            self._token(token)
        self._close_region()
        return SampledInstrument(
            name=Path(self._top).stem,
            regions=self._regions,
            samples=self._samples,
            sw_default=-1 if self._sw_default is None else self._sw_default.value,
            sw_labels={key: setting.value for key, setting in self._sw_labels.items()},
            controllers=dict(self._controllers),
            problems=self._problems.messages(),
        )

    def _token(self, token: _Token):
        if token.kind == "header":
            self._header(token.name, token.origin)
        elif token.kind == "opcode":
            self._opcode(token.name, token.value, token.origin)
        elif self._at != "skipped":
            self._unexpected(token.name, token.origin)

    def _header(self, name: str, origin: str):
        self._close_region()
        if name in _LEVELS:
            for level in _LEVELS[_LEVELS.index(name):]:  # a header starts its level and those below afresh
                self._levels[level] = {}
            self._at = name
            if name == "region":
                self._region_opened = (origin, self._default_path)
        elif name == "control":
            self._at = "control"
            self._default_path = ""
        else:
            self._at = "skipped"
            reason = _SKIPPED_HEADERS.get(name, "not an SFZ header; its opcodes are ignored")
            self._problems.add(f"{origin}: <{name}> {reason}")

    def _unexpected(self, text: str, origin: str):
        if text.startswith("<"):
            why = "malformed header"
        elif text.startswith("="):
            why = "'=' without an opcode name"
        else:
            why = "unexpected text"
        self._problems.add(f"{origin}: {why}: {_shorten(text)}; ignored")

    def _opcode(self, name: str, value: str, origin: str):
        if self._at == "skipped":
            return
        stray = ""
        if _takes_one_word(name) and len(words := value.split(maxsplit=1)) == 2:
            value, stray = words  # a number or keyword ends at a space; what follows is stray text
        text = f"{name}={_shorten(value)}"
        if self._at is None:
            self._problems.add(f"{origin}: {text}: before any header; ignored")
        elif self._at == "control":
            self._control_opcode(name, value, origin, text)
        elif name in _CONTROL_OPCODES:
            self._problems.add(f"{origin}: {text}: belongs under <control>; ignored")
        else:
            self._levels[self._at].update(self._read(name, value, origin, text))
        for token in _tokens_of_line(stray, origin):
            self._token(token)

    def _control_opcode(self, name: str, value: str, origin: str, text: str):
        initial = _INITIAL_CONTROLLER.fullmatch(name)
        if name == "default_path":
            self._default_path = value
        elif initial is not None:
            self._initial_controller(initial, value, origin, text)
        elif _supported(name):
            self._problems.add(f"{origin}: {text}: not a <control> opcode; ignored")
        else:
            self._problems.add(f"{origin}: unsupported opcode '{name}' ignored")

    def _initial_controller(self, opcode: re.Match, value: str, origin: str, text: str):
        """set_ccN (0..127) and set_hdccN (0..1): where controller N stands before anything moves it."""
        high_definition, number = opcode.group(1) is not None, int(opcode.group(2))
        try:
            level = float(value)
        except ValueError:
            self._problems.add(f"{origin}: {text}: not a number; ignored")
            return
        top = 1.0 if high_definition else 127.0
        if not 0 <= number < 128 or not 0.0 <= level <= top:
            self._problems.add(f"{origin}: {text}: expected controller 0..127 and a value 0..{top:g}; ignored")
            return
        self._controllers[number] = level / top

    def _read(self, name: str, value: str, origin: str, text: str) -> dict[object, _Setting]:
        """What an opcode under <global>, <master>, <group> or <region> sets, by target."""
        try:
            entry = _entry(name)
            if entry is None:
                self._problems.add(f"{origin}: unsupported opcode '{name}' ignored")
                return {}
            targets, reader = entry
            parsed, note = reader.read(value)
        except _Invalid as error:
            self._problems.add(f"{origin}: {text}: {error}; ignored")
            return {}
        if note:
            self._problems.add(f"{origin}: {text}: {note}")
        setting = _Setting(parsed, origin, text)
        return {target: setting for target in targets}

    # A region -------------------------------------------------------------------------------

    def _close_region(self):
        if self._region_opened is None:
            return
        origin, default_path = self._region_opened
        self._region_opened = None
        merged: dict[object, _Setting] = {}
        for level in _LEVELS:
            merged.update(self._levels[level])
        region = self._region(merged, origin, default_path)
        if region is not None:
            self._regions.append(region)

    def _region(self, merged: dict[object, _Setting], origin: str, default_path: str) -> Region | None:
        plain = {target: setting for target, setting in merged.items() if isinstance(target, str)}
        nested: dict[str, dict[tuple, _Setting]] = defaultdict(dict)
        for target, setting in merged.items():
            if isinstance(target, tuple):
                nested[target[0]][target[1:]] = setting
        if not self._plays_by_notes(plain, nested["cc_trigger"]):
            return None
        fields = {target: setting.value for target, setting in plain.items() if target not in _ASSEMBLED}
        fields |= _records(nested)
        if "cutoff" in plain:
            fields["fil_type"] = plain["fil_type"].value if "fil_type" in plain else "lpf_2p"
        fields["label"] = next((plain[label].value for label in _LABELS if label in plain), "")
        if "end" in plain and plain["end"].value >= 0:
            fields["end"] = plain["end"].value
        self._keyswitch(plain)
        return Region(sample=self._region_sample(plain, origin, default_path), origin=origin, **fields)

    def _region_sample(self, plain: dict[str, _Setting], origin: str, default_path: str) -> int:
        if "end" in plain and plain["end"].value == -1:
            return -1  # SFZ 2's region that does not play, but chokes others
        if "sample" not in plain:
            self._problems.add(f"{origin}: region without sample=; it is silent")
            return -1
        return self._sample(plain["sample"], default_path)

    def _plays_by_notes(self, plain: dict[str, _Setting], cc_trigger: dict[tuple, _Setting]) -> bool:
        """False for a region started by a controller; reports it."""
        releases = "trigger" in plain and plain["trigger"].value in ("release", "release_key")
        for setting in cc_trigger.values():
            if releases:
                self._problems.add(f"{setting.where}: disregarded in a release region")
            else:
                self._problems.add(f"{setting.where}: regions started by a controller are not supported; "
                                   "the region is left out")
        return releases or not cc_trigger

    def _keyswitch(self, plain: dict[str, _Setting]):
        """Collects the instrument's sw_default and sw_label from a region."""
        if "sw_default" in plain:
            chosen = plain["sw_default"]
            if self._sw_default is None:
                self._sw_default = chosen
            elif chosen.value != self._sw_default.value:
                self._problems.add(f"{chosen.where}: another sw_default was set before "
                                   f"({self._sw_default.where}); that one is kept")
        if "sw_label" in plain:
            label = plain["sw_label"]
            if "sw_last" not in plain:
                self._problems.add(f"{label.where}: the region has no sw_last; the label names no key")
                return
            key = plain["sw_last"].value
            known = self._sw_labels.setdefault(key, label)
            if known.value != label.value:
                self._problems.add(f"{label.where}: key {key} is already labelled ({known.where}); "
                                   "that label is kept")

    def _sample(self, setting: _Setting, default_path: str) -> int:
        """The index of the region's sample in the instrument's, or -1 if it cannot be played."""
        written = setting.value
        if written.startswith("*"):
            generator = _GENERATOR_ALIASES.get(written, written)
            if generator in GENERATED_SAMPLES:
                return self._sample_source(generator)
            self._problems.add(f"{setting.where}: no such generated sample "
                               f"(there are {', '.join(GENERATED_SAMPLES)}); the region is silent")
            return -1
        path = (default_path if self._override is None else self._override) + written
        if path not in self._sample_indices:
            found = self._files.find(self._top_folder, path)
            if found is None:
                looked_for = self._files.spelled(self._top_folder, path)
                self._problems.add(f"{setting.origin}: sample not found: {written} (looked for {looked_for})")
                self._sample_indices[path] = -1
            else:
                self._sample_indices[path] = self._sample_source(found)
        return self._sample_indices[path]

    def _sample_source(self, path: str) -> int:
        if path not in self._source_indices:
            self._source_indices[path] = len(self._samples)
            self._samples.append(SampleSource(path=path))
        return self._source_indices[path]


def _records(nested: dict[str, dict[tuple, _Setting]]) -> dict[str, object]:
    """The region's envelopes, LFOs and controller opcodes, from their settings by record."""
    filter_envelope = _FILTER_ENVELOPE_DEFAULTS | _attributes(nested["filter_envelope"])
    return {
        "amp_envelope": Envelope(**_attributes(nested["amp_envelope"])),
        "filter_envelope": Envelope(**filter_envelope),
        "amp_lfo": Lfo(**_attributes(nested["amp_lfo"])),
        "pitch_lfo": Lfo(**_attributes(nested["pitch_lfo"])),
        "modulations": tuple(ControllerModulation(target, cc, depth) for (cc, target), depth
                             in _attributes(nested["modulation"], keep_key=True).items()),
        "crossfades": tuple(ControllerCrossfade(cc, **attributes) for cc, attributes
                            in _by_controller(nested["crossfade"]).items()),
        "cc_conditions": tuple((cc, limits.get("low", 0), limits.get("high", 127)) for cc, limits
                               in _by_controller(nested["cc_condition"]).items()),
    }


def _attributes(settings: dict[tuple, _Setting], keep_key: bool = False) -> dict:
    """The values of one nested record's settings, by attribute name (or by whole key)."""
    return {(key if keep_key else key[0]): setting.value for key, setting in settings.items()}


def _by_controller(settings: dict[tuple, _Setting]) -> dict[int, dict[str, object]]:
    """Settings keyed (cc, attribute) grouped by controller."""
    grouped: dict[int, dict[str, object]] = defaultdict(dict)
    for (cc, attribute), setting in settings.items():
        grouped[cc][attribute] = setting.value
    return grouped
