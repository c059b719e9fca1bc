"""Synth patch files: read a TOML patch, check all of it, and describe it as a `SynthPatch`.

    patch = load_patch("patches/warm_pad.toml")      # or parse_patch(text, "name for messages")

The format is documented key by key in `patches/README.md`. The file speaks the musician's
units (milliseconds, dB, cents, Hz, percent); the patch the engine's (seconds, linear gain,
cents, Hz, percent). Every problem of a file is reported at once by `PatchError`, each
naming the file, the table and the key, as show files do (both are read with
`liveengine.validation`): an unknown key comes with the known key it most
resembles, a name out of a list with the closest name in it.

Besides each value's type and range, the reader refuses what the engine would play as
silence or ignore without a word: a route from or to an LFO, oscillator or filter the patch
does not have, an LFO modulating an LFO, FM on an oscillator that is not a sine, a
controller number on a route whose source is not "cc", a wavetable on an oscillator that
is not one.
"""

from __future__ import annotations

import difflib
import os
import pathlib
import reprlib
import tomllib
from collections.abc import Collection
from typing import Any

import numpy as np

from ..validation import TABLES, TEXT, InvalidFileError, Kind, Problems, Table, integer_in, is_number, number_in
from ..kernel.dsp.oscillators import build_wavetable_from_harmonics, build_wavetable_from_wav
from ..kernel.regions import Envelope
from ..kernel.synthpatch import (
    DESTINATIONS, FILTER_MODES, LFO_SHAPES, MAX_LFOS, MAX_OSCILLATORS, MAX_ROUTES, MAX_UNISON, SOURCES, VOICE_MODES,
    WAVES, Oscillator, Route, SynthFilter, SynthLfo, SynthPatch,
)

__all__ = ["PatchError", "load_patch", "parse_patch", "AMOUNT_LIMITS", "DEFAULT_GAIN_DB"]

DEFAULT_GAIN_DB = -12.0  # headroom for chords: at 0 dB, a few saw notes held together pass full scale
MAX_STAGE_MS = 100_000.0  # an envelope stage: up to 100 seconds
# The largest amount, either way, a route may move each destination by (in its unit, DESTINATIONS).
AMOUNT_LIMITS = {"pitch": 4800.0, "cutoff": 9600.0, "resonance": 40.0, "amplitude": 1.0, "pan": 2.0,
                 "pulse_width": 0.9, "lfo1_depth": 1.0, "lfo2_depth": 1.0, "lfo1_rate": 8.0, "lfo2_rate": 8.0,
                 "osc1_level": 1.0, "osc2_level": 1.0, "osc3_level": 1.0, "fm_index": 50.0}
assert AMOUNT_LIMITS.keys() == DESTINATIONS.keys()


class PatchError(InvalidFileError):
    """All problems found in one patch file; str() lists one per line."""


def load_patch(path: str | os.PathLike[str]) -> SynthPatch:
    """Read and check the patch file at `path`; raise PatchError listing every problem."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        raise PatchError([f"{path}: cannot read the patch file: {reason}"]) from error
    except UnicodeDecodeError as error:
        raise PatchError([f"{path}: not UTF-8 text (byte {error.start})"]) from error
    return parse_patch(text, path)


def parse_patch(text: str, name_for_messages: str | os.PathLike[str],
                folder: str | os.PathLike[str] | None = None) -> SynthPatch:
    """Check the patch file `text`; `name_for_messages` names it in every problem, and its folder
    (unless `folder` is given) is where wavetable files are looked for."""
    problems = _PatchProblems(str(name_for_messages), PatchError)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PatchError([f"{name_for_messages}: TOML syntax error: {error}"]) from error
    folder = pathlib.Path(name_for_messages).parent if folder is None else pathlib.Path(folder)

    top = problems.table(document, "")
    settings = _read_settings(top.table("patch"), pathlib.Path(name_for_messages).stem)
    wavetables: list[np.ndarray] = []
    oscillators = _read_oscillators(top.get("oscillators", TABLES), top.has("oscillators"), folder, wavetables,
                                    problems)
    filter_ = _read_filter(top.table("filter"), top.has("filter"))
    amp_envelope = _read_envelope(top.table("amp_envelope"))
    filter_envelope = _read_envelope(top.table("filter_envelope"), depth=filter_.envelope_depth)
    lfos = _read_lfos(top.get("lfos", TABLES, []), problems)
    routes = _read_routes(top.get("routes", TABLES, []), oscillators, filter_, len(lfos), problems)

    problems.raise_if_any()
    return SynthPatch(oscillators=tuple(oscillators), filter=filter_, amp_envelope=amp_envelope,
                      filter_envelope=filter_envelope, lfos=tuple(lfos), routes=tuple(routes),
                      wavetables=tuple(wavetables), **settings)


# --- Problems, with suggestions -------------------------------------------------------


class _PatchProblems(Problems):
    """The collector of problems of liveengine.validation, whose tables suggest the key meant."""

    def table(self, values: dict[str, Any], name: str) -> _PatchTable:
        table = _PatchTable(values, name, self)
        self._tables.append(table)
        return table


class _PatchTable(Table):
    def report_unknown_keys(self) -> None:
        where = f"in {self.label}" if self.label else "at the top level"
        for key in self._values:
            if key in self._known:
                continue
            close = difflib.get_close_matches(key, self._known, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else "known keys: " + ", ".join(sorted(self._known))
            self._problems.add("", f"unknown key {key!r} {where}; {hint}")

    def choice(self, key: str, choices: Collection[str], default: str | None = None, *,
               required: bool = False) -> str | None:
        """The name at `key`, one of `choices`; a wrong one is reported with the closest choice."""
        what = "one of " + ", ".join(map(repr, choices))
        value = self.get(key, _ANYTHING)
        where = f"{self.label} {key}".lstrip()
        if value is None:
            if required:
                self._problems.add(where, f"expected {what}, got nothing")
            return default
        if isinstance(value, str) and value in choices:
            return value
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6) if isinstance(value, str) else []
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self._problems.add(where, f"expected {what}, got {reprlib.repr(value)}{hint}")
        return default


_ANYTHING = Kind("anything", lambda v: v)  # TOML has no null: every value converts
_ANY_NUMBER = Kind("a number", lambda v: float(v) if is_number(v) else None)


def _milliseconds(table: Table, key: str, default_ms: float, low: float = 0.0, high: float = MAX_STAGE_MS) -> float:
    """A time in milliseconds in the file, in seconds in the patch."""
    return table.get(key, number_in(low, high), default_ms) / 1000.0


# --- The tables of a patch ------------------------------------------------------------


def _read_settings(patch: _PatchTable, default_name: str) -> dict[str, Any]:
    return dict(
        name=patch.get("name", TEXT, default_name),
        mode=patch.choice("mode", VOICE_MODES, "poly"),
        portamento=_milliseconds(patch, "portamento_ms", 0.0, high=10_000.0),
        gain=10.0 ** (patch.get("gain_db", number_in(-96, 12), DEFAULT_GAIN_DB) / 20.0),
        pan=patch.get("pan", number_in(-1, 1), 0.0),
        bend_range=patch.get("bend_range", number_in(0, 48), 2.0),
        velocity_sensitivity=patch.get("velocity_sensitivity", number_in(0, 1), 1.0),
        attack_curve=patch.get("attack_curve", number_in(-1, 1), 0.0),
    )


_WAVETABLE = Kind('a table {harmonics = [1, 0.5, ...]} or {file = "cycle.wav"}',
                   lambda v: v if isinstance(v, dict) else None)
_HARMONICS = Kind("a non-empty list of numbers, the amplitudes of harmonics 1, 2, 3, ...",
                   lambda v: v if isinstance(v, list) and v and all(is_number(x) for x in v) else None)


def _read_oscillators(tables: list[dict[str, Any]] | None, present: bool, folder: pathlib.Path,
                      wavetables: list[np.ndarray], problems: _PatchProblems) -> list[Oscillator]:
    """`tables`: None when absent, or when not an array of tables (`present`: reported already)."""
    if tables is None and present:
        return []
    tables = tables or []
    if not tables:
        problems.add("[[oscillators]]", "expected at least one oscillator, got none")
    elif len(tables) > MAX_OSCILLATORS:
        problems.add("[[oscillators]]", f"expected at most {MAX_OSCILLATORS} oscillators, got {len(tables)}")
    return [_read_oscillator(problems.table(values, f"oscillators #{number}"), folder, wavetables, problems)
            for number, values in enumerate(tables, start=1)]


def _read_oscillator(osc: _PatchTable, folder: pathlib.Path, wavetables: list[np.ndarray],
                     problems: _PatchProblems) -> Oscillator:
    wave = osc.choice("wave", WAVES, required=True)
    fm_ratio = osc.get("fm_ratio", number_in(0, 32), 0.0)
    fm_index = osc.get("fm_index", number_in(0, 50), 0.0)
    fm_feedback = osc.get("fm_feedback", number_in(0, 4), 0.0)
    if fm_ratio > 0.0 and wave not in (None, "sine"):
        problems.add(f"{osc.label} fm_ratio", f"expected wave \"sine\" for FM (the carrier is a sine), got {wave!r}")
    for key, value in (("fm_index", fm_index), ("fm_feedback", fm_feedback)):
        if value and not fm_ratio:
            problems.add(f"{osc.label} {key}", "expected an fm_ratio above 0 too: without a modulator it does nothing")
    wavetable = -1
    values = osc.get("wavetable", _WAVETABLE)
    if values is not None:
        table = problems.table(values, f"{osc.name}.wavetable")
        built = _read_wavetable(table, folder, problems)
        if wave not in (None, "wavetable"):
            problems.add(f"{osc.label} wavetable", f"expected wave \"wavetable\" to play it, got {wave!r}")
        elif built is not None:
            wavetable = len(wavetables)
            wavetables.append(built)
    elif wave == "wavetable" and not osc.has("wavetable"):
        problems.add(f"{osc.label} wavetable", 'expected {harmonics = [...]} or {file = "..."} for a wavetable '
                                               "oscillator, got nothing")
    return Oscillator(
        wave=wave or "saw",
        level=osc.get("level", number_in(0, 1), 1.0),
        semitones=osc.get("semitones", number_in(-48, 48), 0.0),
        detune=osc.get("detune_cents", number_in(-100, 100), 0.0),
        pulse_width=osc.get("pulse_width", number_in(0.05, 0.95), 0.5),
        unison=osc.get("unison", integer_in(1, MAX_UNISON), 1),
        unison_detune=osc.get("unison_detune_cents", number_in(0, 200), 0.0),
        unison_spread=osc.get("unison_spread", number_in(0, 1), 0.0),
        fm_ratio=fm_ratio, fm_index=fm_index, fm_feedback=fm_feedback, wavetable=wavetable,
    )


def _read_wavetable(table: _PatchTable, folder: pathlib.Path, problems: _PatchProblems) -> np.ndarray | None:
    harmonics = table.get("harmonics", _HARMONICS)
    file = table.get("file", TEXT)
    if table.has("harmonics") and table.has("file"):
        problems.add(table.label, "expected harmonics or file, got both")
        return None
    if not table.has("harmonics") and not table.has("file"):
        problems.add(table.label, 'expected harmonics = [1, 0.5, ...] or file = "cycle.wav", got neither')
        return None
    try:
        if harmonics is not None:
            return build_wavetable_from_harmonics(harmonics)
        if file is not None:
            path = folder / file
            if not path.is_file():
                problems.add(f"{table.label} file", f"expected a single-cycle sound file, {path} does not exist")
                return None
            return build_wavetable_from_wav(path)
    except ValueError as error:
        key = "harmonics" if harmonics is not None else "file"
        problems.add(f"{table.label} {key}", str(error).removeprefix("harmonic amplitudes: "))
    return None


def _read_filter(filter_: _PatchTable, present: bool) -> SynthFilter:
    # A patch without [filter] plays unfiltered; a [filter] without a mode is a low-pass.
    mode = filter_.choice("mode", FILTER_MODES, "lowpass" if present else "none")
    return SynthFilter(
        mode=mode,
        cutoff=filter_.get("cutoff_hz", number_in(20, 20000), 20000.0, required=mode != "none"),
        resonance=filter_.get("resonance_db", number_in(0, 40), 0.0),
        keytrack=filter_.get("keytrack", number_in(0, 1), 0.0),
        envelope_depth=filter_.get("envelope_cents", number_in(-9600, 9600), 0.0),
        velocity=filter_.get("velocity_cents", number_in(-9600, 9600), 0.0),
    )


def _read_envelope(envelope: _PatchTable, depth: float = 0.0) -> Envelope:
    def vel2(key: str) -> float:
        return _milliseconds(envelope, key, 0.0, -MAX_STAGE_MS, MAX_STAGE_MS)

    return Envelope(
        delay=_milliseconds(envelope, "delay_ms", 0.0),
        start=envelope.get("start", number_in(0, 100), 0.0),
        attack=_milliseconds(envelope, "attack_ms", 5.0),
        hold=_milliseconds(envelope, "hold_ms", 0.0),
        decay=_milliseconds(envelope, "decay_ms", 0.0),
        sustain=envelope.get("sustain", number_in(0, 100), 100.0),
        release=_milliseconds(envelope, "release_ms", 300.0),
        vel2delay=vel2("vel2delay_ms"),
        vel2attack=vel2("vel2attack_ms"),
        vel2hold=vel2("vel2hold_ms"),
        vel2decay=vel2("vel2decay_ms"),
        vel2sustain=envelope.get("vel2sustain", number_in(-100, 100), 0.0),
        vel2release=vel2("vel2release_ms"),
        depth=depth,
    )


def _read_lfos(tables: list[dict[str, Any]], problems: _PatchProblems) -> list[SynthLfo]:
    if len(tables) > MAX_LFOS:
        problems.add("[[lfos]]", f"expected at most {MAX_LFOS} LFOs, got {len(tables)}")
    lfos = []
    for number, values in enumerate(tables, start=1):
        lfo = problems.table(values, f"lfos #{number}")
        rate = lfo.get("rate_hz", number_in(0.01, 100), 5.0)
        sync_beats = lfo.get("sync_beats", number_in(0, 64, low_included=False), 0.0)
        if lfo.has("rate_hz") and lfo.has("sync_beats"):
            problems.add(lfo.label, "expected rate_hz or sync_beats, got both")
        lfos.append(SynthLfo(
            shape=lfo.choice("shape", LFO_SHAPES, "sine"),
            rate=rate,
            sync_beats=sync_beats,
            delay=_milliseconds(lfo, "delay_ms", 0.0),
            fade=_milliseconds(lfo, "fade_ms", 0.0),
            depth=lfo.get("depth", number_in(0, 1), 1.0),
        ))
    return lfos


def _amount(destination: str | None) -> Kind[float]:
    if destination is None:
        return _ANY_NUMBER  # its destination is reported already
    limit = AMOUNT_LIMITS[destination]
    kind = number_in(-limit, limit)
    return Kind(f"{kind.what} ({DESTINATIONS[destination]}, for {destination})", kind.convert)


def _read_routes(tables: list[dict[str, Any]], oscillators: list[Oscillator], filter_: SynthFilter, lfo_count: int,
                 problems: _PatchProblems) -> list[Route]:
    if len(tables) > MAX_ROUTES:
        problems.add("[[routes]]", f"expected at most {MAX_ROUTES} routes, got {len(tables)}")
    routes = []
    for number, values in enumerate(tables, start=1):
        route = problems.table(values, f"routes #{number}")
        source = route.choice("source", SOURCES, required=True)
        destination = route.choice("destination", DESTINATIONS, required=True)
        amount = route.get("amount", _amount(destination), 0.0, required=True)
        cc = route.get("cc", integer_in(0, 127), -1, required=source == "cc")
        if route.has("cc") and source not in (None, "cc"):
            problems.add(f"{route.label} cc", f"expected source \"cc\" for a controller number, got {source!r}")
        for problem in _pointless(source, destination, oscillators, filter_, lfo_count):
            problems.add(route.label, problem)
        routes.append(Route(source or "velocity", destination or "pitch", amount, cc))
    return routes


def _pointless(source: str | None, destination: str | None, oscillators: list[Oscillator], filter_: SynthFilter,
               lfo_count: int) -> list[str]:
    """Why a route would do nothing in this patch."""
    found = []
    have = f"the patch has {lfo_count} [[lfos]]"
    for end, name in (("source", source), ("destination", destination)):
        if name and name.startswith("lfo") and int(name[3]) > lfo_count:
            found.append(f"{end} {name!r} is an LFO the patch does not have ({have})")
    if source in ("lfo1", "lfo2") and destination in ("lfo1_depth", "lfo2_depth", "lfo1_rate", "lfo2_rate"):
        found.append(f"an LFO does not modulate an LFO: {source!r} cannot move {destination!r}")
    if destination in ("osc1_level", "osc2_level", "osc3_level") and int(destination[3]) > len(oscillators):
        found.append(f"destination {destination!r} is an oscillator the patch does not have "
                     f"(it has {len(oscillators)})")
    if destination in ("cutoff", "resonance") and filter_.mode == "none":
        found.append(f"destination {destination!r} needs a [filter] (its mode is \"none\")")
    if destination == "pulse_width" and not any(osc.wave == "pulse" for osc in oscillators):
        found.append("destination 'pulse_width' needs an oscillator with wave \"pulse\"")
    if destination == "fm_index" and not any(osc.fm_ratio > 0.0 for osc in oscillators):
        found.append("destination 'fm_index' needs an oscillator with an fm_ratio above 0")
    return found
