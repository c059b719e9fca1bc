"""Checking TOML files: the kinds of value a key may hold, and tables whose look-ups collect every
problem of a file instead of stopping at the first.

    problems = Problems("show.toml", ShowFileError)
    top = problems.table(tomllib.loads(text), "")
    tempo = top.table("show").get("tempo", number_in(10, 400), 120.0)
    problems.raise_if_any()      # every problem at once, each naming the file, the table and the key

Show files (show/reader.py) and synth patches (instruments/synth.py) are read with it, so both
speak to whoever fixes them in the same words. A key nobody asked for is reported as unknown.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class InvalidFileError(Exception):
    """All problems found in one file; str() lists one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Kind(Generic[T]):
    """A kind of value: `what` completes "expected ...", and `convert` returns the value as
    the reader keeps it, or None when it is not acceptable (TOML has no null, so None never
    stands for a value from the file)."""

    what: str
    convert: Callable[[Any], T | None]


def is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # true is not 1 in a file


def is_number(value: object) -> bool:
    # TOML allows inf and nan, which no setting means.
    return (is_integer(value) or isinstance(value, float)) and math.isfinite(value)


def integer_in(low: int, high: int) -> Kind[int]:
    return Kind(
        f"an integer from {low} to {high}",
        lambda v: v if is_integer(v) and low <= v <= high else None,
    )


def number_in(low: float, high: float = math.inf, *, low_included: bool = True) -> Kind[float]:
    bounded = math.isfinite(high)
    if not low_included:
        bounds = f"above {low:g}" + (f" and at most {high:g}" if bounded else "")
    elif bounded:
        bounds = f"from {low:g} to {high:g}"
    else:
        bounds = f"of at least {low:g}"

    def convert(value: Any) -> float | None:
        if not is_number(value):
            return None
        above_low = value >= low if low_included else value > low
        return float(value) if above_low and value <= high else None

    return Kind(f"a number {bounds}", convert)


def one_of(choices: Collection[object], what: str | None = None) -> Kind[Any]:
    def convert(value: Any) -> Any:
        # Compare types too: 48000.0 is not a sample rate, true is not 1.
        matches = any(type(value) is type(choice) and value == choice for choice in choices)
        return value if matches else None

    return Kind(what or "one of " + ", ".join(map(repr, choices)), convert)


def name_of(thing: str, names: Collection[str]) -> Kind[str]:
    return one_of(tuple(names), f"the name of {thing} ({', '.join(names) or 'none are defined'})")


def list_of(item: Kind[T]) -> Kind[list[T]]:
    return Kind(f"a list, each item {item.what}",
                 lambda v: v if isinstance(v, list) and all(item.convert(x) is not None for x in v) else None)


TEXT = Kind("a non-empty string", lambda v: v if isinstance(v, str) and v.strip() else None)
BOOLEAN = Kind("true or false", lambda v: v if isinstance(v, bool) else None)
TABLE = Kind("a table", lambda v: v if isinstance(v, dict) else None)
TABLES = Kind(
    "an array of tables ([[...]])",
    lambda v: v if isinstance(v, list) and all(isinstance(item, dict) for item in v) else None,
)
LIST = Kind("a list", lambda v: v if isinstance(v, list) else None)


# --- Reading tables, collecting problems ----------------------------------------------


class Problems:
    """The problems found in one file so far, and the tables read from it."""

    def __init__(self, file: str, error: type[InvalidFileError] = InvalidFileError):
        """`error`: what `raise_if_any` raises (a show's ShowFileError, a patch's PatchError)."""
        self.file = file
        self.error = error
        self.messages: list[str] = []
        self._tables: list[Table] = []

    def add(self, where: str, message: str) -> None:
        self.messages.append(": ".join(filter(None, (self.file, where, message))))

    def check(self, where: str, value: Any, kind: Kind[T], fallback: T | None = None) -> T | None:
        """`value` converted, or `fallback` after recording why it is not of `kind`."""
        converted = kind.convert(value)
        if converted is None:
            self.add(where, f"expected {kind.what}, got {reprlib.repr(value)}")
            return fallback
        return converted

    def table(self, values: dict[str, Any], name: str) -> Table:
        table = Table(values, name, self)
        self._tables.append(table)
        return table

    def raise_if_any(self) -> None:
        # Only now is it known which keys each table was asked for.
        for table in self._tables:
            table.report_unknown_keys()
        if self.messages:
            raise self.error(self.messages)


class Table:
    """One TOML table. Its typed look-ups record problems instead of raising, and every key
    nobody looked up is reported as unknown, with the keys that are known."""

    def __init__(self, values: dict[str, Any], name: str, problems: Problems):
        self.name = name  # dotted, as in the file: "audio", "buses.click"; "" for the top level
        self._values = values
        self._problems = problems
        self._known: set[str] = set()

    @property
    def label(self) -> str:
        return f"[{self.name}]" if self.name else ""

    def has(self, key: str) -> bool:
        return key in self._values

    def get(
        self, key: str, kind: Kind[T], default: T | None = None, *, required: bool = False
    ) -> T | None:
        """The value at `key` as `kind` converts it; `default` when it is absent or wrong."""
        self._known.add(key)
        where = f"{self.label} {key}".lstrip()
        if key not in self._values:
            if required:
                self._problems.add(where, f"expected {kind.what}, got nothing")
            return default
        return self._problems.check(where, self._values[key], kind, default)

    def table(self, key: str) -> Table:
        return self._problems.table(self.get(key, TABLE, {}), self._child_name(key))

    def keys(self) -> list[str]:
        """The keys the file gives here, where the file chooses them (a plugin's control symbols)."""
        return list(self._values)

    def subtables(self) -> dict[str, Table]:
        """The tables in this one, keyed by their names (bus names, instrument names)."""
        found = {}
        for key in self._values:
            values = self.get(key, TABLE)
            if values is not None:
                found[key] = self._problems.table(values, self._child_name(key))
        return found

    def report_unknown_keys(self) -> None:
        where = self.label or "the top level"
        known = ", ".join(sorted(self._known))
        for key in (key for key in self._values if key not in self._known):
            self._problems.add("", f"unknown key {key!r} in {where}; known keys: {known}")

    def _child_name(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key
