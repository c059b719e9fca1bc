"""Show files: read a TOML show file, check all of it, and describe it as the show model (model.py).

Every problem in a file is reported at once, each naming the file, the table and the key,
so whoever fixes a show on the day of the concert fixes it in one pass.
"""

from __future__ import annotations

import ipaddress
import os
import pathlib
import re
import tomllib
from collections.abc import Collection, Iterable
from typing import Any

from ..engine.core import INSTRUMENT_PARAMETERS
from ..instruments.patches import UnknownPatchError, synth_patch_path
from ..kernel.chase import PERIOD_TOLERANCE
from ..kernel.state import (DEFAULT_FOLLOW_SPEED, MAX_BUSES, MAX_CUES, MAX_INSTRUMENTS, MAX_PARTS, MAX_STEMS,
                            SAMPLE_RATES)
from ..validation import (BOOLEAN, LIST, TABLES, TEXT, InvalidFileError, Kind, Problems, Table, integer_in,
                          is_integer, is_number, list_of, name_of, number_in, one_of)
from .click import MAX_BPM, MIN_BPM, ClickMap, ClickMapError, MeterChange, TempoChange, clicks as clicks_of, validate
from ..midi.smf import MidiFileError, read_midi_notes
from ..midi.setups import (CONTROL_CURVES, OPERATIONS, VELOCITY_CURVES, ConductorConfig, ControlConfig, KeyboardConfig,
                           LayerConfig, SetupConfig, parse_trigger)
from .model import (INSTRUMENT_TYPES, REQUIRED_BUSES, TIMECODE_SOURCES, AudioConfig, BusConfig, ClickConfig,
                    CueAction, CueConfig, InstrumentConfig, Note, OscConfig, PartConfig, PluginConfig, ShowConfig,
                    StemConfig, TimecodeConfig, FLUTTER_PUNCHES, HIT_KINDS, HitConfig, WebConfig)
from ..timecode import RATES, FrameRate, Timecode, frame_rate

MAX_NOTE_BEATS = 100_000  # a note starts, and lasts, at most this many beats: hours at any tempo


class ShowFileError(InvalidFileError):
    """All problems found in one show file; str() lists one per line."""


def load_show(path: str | os.PathLike[str]) -> ShowConfig:
    """Read and check the show file at `path`; raise ShowFileError listing every problem."""
    try:
        text = pathlib.Path(path).read_text(encoding="utf-8")
    except OSError as error:
        reason = error.strerror or str(error)
        raise ShowFileError([f"{path}: cannot read the show file: {reason}"]) from error
    except UnicodeDecodeError as error:
        raise ShowFileError([f"{path}: not UTF-8 text (byte {error.start})"]) from error
    return parse_show(text, path)


def parse_show(text: str, path: str | os.PathLike[str]) -> ShowConfig:
    """Check the show file `text`; `path` names it in messages and in the result."""
    problems = Problems(str(path), ShowFileError)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ShowFileError([f"{path}: TOML syntax error: {error}"]) from error
    except RecursionError:
        raise ShowFileError([f"{path}: arrays or tables nested too deeply to read"]) from None
    except ValueError as error:  # what tomllib lets through, e.g. an integer of more than 4300 digits
        raise ShowFileError([f"{path}: cannot read this TOML: {error}"]) from None

    top = problems.table(document, "")
    show = top.table("show")
    show_name = show.get("name", TEXT, required=True)
    tempo_bpm = show.get("tempo", number_in(MIN_BPM, MAX_BPM), 120.0)
    audio = _read_audio(top.table("audio"))
    timecode = _read_timecode(top.table("timecode"), audio.input_channels, audio.output_channels, problems)
    buses = _read_buses(top.table("buses"), audio.output_channels, problems)
    _check_ltc_output_is_its_own(timecode, buses, problems)
    instrument_tables = top.table("instruments").subtables()
    if len(instrument_tables) > MAX_INSTRUMENTS:
        problems.add("[instruments]", f"expected at most {MAX_INSTRUMENTS} instruments, got {len(instrument_tables)}")
    instruments = {name: _read_instrument(table, name, pathlib.Path(path).parent, problems)
                   for name, table in instrument_tables.items()}
    parts = _read_parts(top.get("parts", TABLES, []), instruments, buses, pathlib.Path(path).parent, problems)
    clicks = {name: _read_click(table, name, instruments, buses, problems)
              for name, table in top.table("clicks").subtables().items()}
    for name in clicks.keys() & {part.name for part in parts}:
        problems.add(f"[clicks.{name}]", "expected a name no part has: cues start and stop both by name")
    stems = {name: _read_stem(table, name, pathlib.Path(path).parent, buses)
             for name, table in top.table("stems").subtables().items()}
    if len(stems) > MAX_STEMS:
        problems.add("[stems]", f"expected at most {MAX_STEMS} stems, got {len(stems)}")
    for name in stems.keys() & ({part.name for part in parts} | clicks.keys()):
        problems.add(f"[stems.{name}]", "expected a name no part or click has: cues start and stop them by name")
    if len(parts) + len(clicks) > MAX_PARTS:
        problems.add("[[parts]]", f"expected at most {MAX_PARTS} parts and clicks together, "
                                  f"got {len(parts) + len(clicks)}")
    setups = {name: _read_setup(table, name, instruments, buses, problems)
              for name, table in top.table("setups").subtables().items()}
    keyboards = {name: _read_keyboard(table, name, setups, problems)
                 for name, table in top.table("keyboards").subtables().items()}
    cues = _read_cues(top.get("cues", TABLES, []), timecode.rate,
                      [part.name for part in parts] + list(clicks) + list(stems), list(buses), list(setups),
                      list(keyboards), problems)
    conductor = _read_conductor(top.table("conductor"), problems)
    osc = _read_osc(top.table("osc"))
    web = _read_web(top.table("web"), given=top.has("web"))
    hits = _read_hits(top.get("hits", TABLES, []), timecode.rate, cues, clicks, problems)

    problems.raise_if_any()
    return ShowConfig(pathlib.Path(path), show_name, tempo_bpm, audio, buses, instruments, parts, timecode,
                      clicks, stems, cues, conductor, osc, setups, keyboards, web, hits)


# --- What a value must be, in a show -------------------------------------------------


def _output_channels(channel_count: int) -> Kind[tuple[int, ...]]:
    """One or two different channel numbers, 1-based in the file, kept 0-based."""

    def convert(value: Any) -> tuple[int, ...] | None:
        if (
            isinstance(value, list)
            and 1 <= len(value) <= 2
            and all(is_integer(channel) and 1 <= channel <= channel_count for channel in value)
            and len(set(value)) == len(value)
        ):
            return tuple(channel - 1 for channel in value)
        return None

    return Kind(f"a list of 1 or 2 different output channels from 1 to {channel_count}", convert)


_NOTE_NAME = re.compile(r"([A-Ga-g])([#b]?)(-1|[0-9])")
_SEMITONES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACCIDENTALS = {"": 0, "#": 1, "b": -1}


def _midi_key(value: Any) -> int | None:
    """A MIDI note number, or a note name such as "C4" (60), "c#4" or "Eb3"."""
    if isinstance(value, str) and (match := _NOTE_NAME.fullmatch(value)):
        letter, accidental, octave = match.groups()
        value = 12 * (int(octave) + 1) + _SEMITONES[letter.lower()] + _ACCIDENTALS[accidental]
    return value if is_integer(value) and 0 <= value <= 127 else None


_DEVICE = Kind(
    "an output device name or index (an integer from 0)",
    lambda v: v if (isinstance(v, str) and v.strip()) or (is_integer(v) and v >= 0) else None,
)
_GAIN_DB = number_in(-96, 12)
# An LV2 control port's value: a number, or true/false for a toggle (its range is the plugin's to say).
_CONTROL_VALUE = Kind("a number or true/false",
                      lambda v: float(v) if isinstance(v, bool) or is_number(v) else None)
_PITCH = Kind("a MIDI note number from 0 to 127 or a note name like 'C4', 'F#3', 'Eb5'", _midi_key)
_NOTE = Kind(
    "a note [pitch, start beat, length in beats, velocity]",
    lambda v: v if isinstance(v, list) and len(v) == 4 else None,
)
_NOTE_FIELDS = (
    ("pitch", _PITCH),
    ("start", number_in(0, MAX_NOTE_BEATS)),
    ("length", number_in(0, MAX_NOTE_BEATS, low_included=False)),
    ("velocity", number_in(0, 1, low_included=False)),
)


def _frame_rate(value: Any) -> FrameRate | None:
    try:
        return frame_rate(value) if isinstance(value, str) else None
    except ValueError:
        return None


_FRAME_RATE = Kind("a frame rate: " + ", ".join(RATES), _frame_rate)


def _timecode_at(rate: FrameRate) -> Kind[Timecode]:
    def convert(value: Any) -> Timecode | None:
        try:
            return Timecode.parse(value, rate) if isinstance(value, str) else None
        except ValueError:
            return None

    separator = ";" if rate.drop_frame else ":"
    return Kind(f"a timecode at {rate.name} fps, like \"01:00:00{separator}00\"", convert)


_NOWHERE = Kind("no 'to' at all (master is where every route ends)", lambda v: None)


# --- The sections of a show -----------------------------------------------------------


def _read_audio(audio: Table) -> AudioConfig:
    return AudioConfig(
        device=audio.get("device", _DEVICE),
        sample_rate=audio.get("sample_rate", one_of(SAMPLE_RATES), 48000),
        block_size=audio.get("block_size", integer_in(32, 1024), 256),
        output_channels=audio.get("output_channels", integer_in(1, 64), 2),
        input_channels=audio.get("input_channels", integer_in(0, 64), 0),
        voices=audio.get("voices", integer_in(1, 4096), 512),
        scheduling_latency_ms=audio.get("scheduling_latency_ms", number_in(0, 1000)),
        limiter_ceiling_db=audio.get("limiter_ceiling_db", number_in(-24, 0), -0.3),
        interpolation=audio.get("interpolation", one_of(("cubic", "linear")), "cubic"),
        sample_preload_frames=audio.get("sample_preload_frames", integer_in(1024, 1 << 30), 65536),
        sample_memory_mb=audio.get("sample_memory_mb", integer_in(64, 1 << 20), 2048),
    )


# The picture's speed followed: a share either side of 1, up to the varispeed the chase holds a line through.
FOLLOW_SPEED = Kind(f"a share of the picture's nominal speed above 0 and at most {PERIOD_TOLERANCE:g} (0.02: 2 %; "
                    f"the chase loses timecode further off)", number_in(0, PERIOD_TOLERANCE, low_included=False).convert)


def _read_timecode(timecode: Table, input_channels: int, output_channels: int,
                   problems: Problems) -> TimecodeConfig:
    source = timecode.get("source", one_of(TIMECODE_SOURCES), "none")
    channel = timecode.get("input", integer_in(1, input_channels), required=source == "ltc") \
        if input_channels else None
    if source == "ltc" and not input_channels:
        problems.add(f"{timecode.label} source", "expected [audio] input_channels of at least 1 for LTC, got 0")
    midi_input = timecode.get("midi_input", TEXT, required=source == "mtc")
    rate = timecode.get("rate", _FRAME_RATE, RATES["24"])
    ltc_output = timecode.get("ltc_output", integer_in(1, output_channels))
    mtc_output = timecode.get("mtc_output", TEXT)
    # With no timecode to chase, the engine is the timecode master: cues follow its own timecode.
    master = source == "none"
    start = timecode.get("master_start", _timecode_at(rate), Timecode.from_fields(1, 0, 0, 0, rate))
    for key, value in (("ltc_output", ltc_output), ("mtc_output", mtc_output)):
        if value is not None and not master:
            problems.add(f"{timecode.label} {key}", f"expected source \"none\" (the engine as timecode master) to "
                                                    f"send timecode, got source {source!r}")
    if timecode.has("follow_speed") and master:
        problems.add(f"{timecode.label} follow_speed", "expected source \"ltc\" or \"mtc\" (a picture to follow) "
                                                       "for a speed to follow, got source \"none\" (the engine's own "
                                                       "timecode, which never strays from its speed)")
    if timecode.has("master_start") and not master:
        problems.add(f"{timecode.label} master_start", f"expected source \"none\" (the engine as timecode master)"
                                                        f" for a master start, got source {source!r}")
    return TimecodeConfig(
        source=source,
        input=None if channel is None else channel - 1,
        midi_input=midi_input,
        rate=rate,
        freewheel_seconds=timecode.get("freewheel_seconds", number_in(0, 60), 2.0),
        follow_speed=timecode.get("follow_speed", FOLLOW_SPEED, DEFAULT_FOLLOW_SPEED),
        ltc_output=None if ltc_output is None else ltc_output - 1,
        mtc_output=mtc_output,
        master_start=start if master else None,
    )


def _check_ltc_output_is_its_own(timecode: TimecodeConfig, buses: dict[str, BusConfig], problems: Problems):
    """Generated LTC goes to a channel of its own: no bus may play there."""
    if timecode.ltc_output is None:
        return
    for bus in buses.values():
        if timecode.ltc_output in bus.outputs:
            problems.add("[timecode] ltc_output", f"expected an output no bus plays on, got {timecode.ltc_output + 1}"
                                                  f" (an output of bus {bus.name!r})")


def _read_buses(buses: Table, output_channels: int, problems: Problems) -> dict[str, BusConfig]:
    tables = buses.subtables()
    for name in REQUIRED_BUSES:
        if name not in tables:
            tables[name] = problems.table({}, f"buses.{name}")  # absent: its defaults apply
    names = ["master", *(name for name in tables if name != "master")]
    if len(names) > MAX_BUSES:
        limit = f"at most {MAX_BUSES} buses (master, keys, stems, click included)"
        problems.add(buses.label, f"expected {limit}, got {len(names)}")

    routed = {
        name: _read_bus(tables[name], name, names, output_channels, problems) for name in names
    }
    _check_loops(routed, problems)
    _check_click_stays_private(routed, problems)
    return routed


def _read_bus(
    bus: Table, name: str, bus_names: list[str], output_channels: int, problems: Problems
) -> BusConfig:
    others = [other for other in bus_names if other != name]
    destinations = _NOWHERE if name == "master" else name_of("another bus", others)
    outputs = bus.get("outputs", _output_channels(output_channels), ())
    feeds = bus.get("to", destinations)
    if bus.has("outputs") and bus.has("to"):
        problems.add(bus.label, "expected either outputs or to, got both")
    elif not (bus.has("outputs") or bus.has("to")):
        route = _default_route(name, output_channels)
        if route is None:
            problems.add(bus.label, "expected either outputs or to, got neither")
        else:
            outputs, feeds = route
    return BusConfig(
        name=name,
        gain_db=bus.get("gain_db", _GAIN_DB, 0.0),
        mute=bus.get("mute", BOOLEAN, False),
        outputs=outputs,
        feeds=feeds,
        inserts=_read_inserts(bus, problems),
    )


def _default_route(name: str, output_channels: int) -> tuple[tuple[int, ...], str | None] | None:
    """(outputs, feeds) of a required bus the file leaves unrouted; None for other buses."""
    match name:
        case "master":
            return ((0, 1) if output_channels >= 2 else (0,)), None
        case "keys" | "stems":
            return (), "master"
        case "click":
            # Without outputs of its own the click stays silent rather than join the main mix.
            return ((2, 3) if output_channels >= 4 else ()), None
    return None


def _route(start: str, buses: dict[str, BusConfig]) -> list[str]:
    """The buses a signal passes from `start` on, up to one with outputs or to the first
    bus it meets twice (then the route ends in a loop)."""
    route = [start]
    while (next_bus := buses[route[-1]].feeds) is not None and next_bus not in route:
        route.append(next_bus)
    if next_bus is not None:
        route.append(next_bus)
    return route


def _check_loops(buses: dict[str, BusConfig], problems: Problems) -> None:
    reported: set[frozenset[str]] = set()
    for name in buses:
        route = _route(name, buses)
        loop = frozenset(route[:-1])
        if len(route) > 1 and route[-1] == name and loop not in reported:
            reported.add(loop)
            message = f"expected a route that ends at outputs, got a loop: {' -> '.join(route)}"
            problems.add(f"[buses.{name}] to", message)


def _check_click_stays_private(buses: dict[str, BusConfig], problems: Problems) -> None:
    """The conductor's click must never play through the outputs the audience hears."""
    end = buses[_route("click", buses)[-1]]
    shared = sorted(set(end.outputs) & set(buses["master"].outputs))
    if shared:
        channels = ", ".join(str(channel + 1) for channel in shared)
        message = f"the click would play on master's outputs {channels}; give it its own"
        problems.add("[buses.click]", message)


def _read_instrument(instrument: Table, name: str, folder: pathlib.Path, problems: Problems) -> InstrumentConfig:
    kind = instrument.get("type", one_of(INSTRUMENT_TYPES), required=True)
    file = instrument.get("file", TEXT, "", required=kind in ("sfz", "sf2"))
    patch = instrument.get("patch", TEXT, "", required=kind == "synth")
    plugin = _read_plugin(instrument, problems, insert=False) if kind == "lv2" else None
    if file and kind not in ("sfz", "sf2"):
        problems.add(f"{instrument.label} file", f"a {kind} instrument plays no file")
    if patch and kind != "synth":
        problems.add(f"{instrument.label} patch", f"only a synth has a patch, not a {kind} instrument")
    path = None
    if kind in ("sfz", "sf2") and file:
        path = folder / file
    elif kind == "synth" and patch:
        try:
            path = synth_patch_path(patch, folder)
        except UnknownPatchError as error:
            problems.add(f"{instrument.label} patch", str(error))
    return InstrumentConfig(
        name=name,
        type=kind,
        attack_ms=instrument.get("attack_ms", number_in(0.5, 10000), 5.0),
        release_ms=instrument.get("release_ms", number_in(1, 20000), 150.0),
        gain_db=instrument.get("gain_db", _GAIN_DB, 0.0),
        file=path,
        bank=instrument.get("bank", integer_in(0, 128), 0),
        program=instrument.get("program", integer_in(0, 127), 0),
        plugin=plugin,
    )


def _read_plugin(plugin: Table, problems: Problems, *, insert: bool) -> PluginConfig:
    """An LV2 plugin's URI, preset and controls (and, for an insert, whether it starts bypassed). Whether the
    plugin is installed, and has that preset and those controls, is `check`'s and the rig's to say."""
    controls = plugin.table("controls")
    values = tuple((symbol, controls.get(symbol, _CONTROL_VALUE)) for symbol in controls.keys())
    return PluginConfig(
        uri=plugin.get("uri", TEXT, "", required=True),
        preset=plugin.get("preset", TEXT),
        controls=tuple((symbol, value) for symbol, value in values if value is not None),
        bypass=plugin.get("bypass", BOOLEAN, False) if insert else False,
    )


def _read_inserts(bus: Table, problems: Problems) -> tuple[PluginConfig, ...]:
    items = bus.get("inserts", TABLES, [])
    return tuple(_read_plugin(problems.table(item, f"{bus.name}.inserts[{number}]"), problems, insert=True)
                 for number, item in enumerate(items, 1))


def _unique_name(table: Table, key: str, seen: set[str], section: str, thing: str,
                 problems: Problems) -> str | None:
    """The name under `key` of one `thing` of the array `section` (a part, a cue), which no other
    may have; from then on, messages name the table by it."""
    name = table.get(key, TEXT, required=True)
    if name in seen:
        problems.add(f"{table.label} {key}", f"expected a {key} no other {thing} has, got {name!r}")
    elif name is not None:
        seen.add(name)
        table.name = f"{section}.{name}"
    return name


def _read_parts(
    tables: Iterable[dict[str, Any]],
    instruments: Collection[str],
    buses: Collection[str],
    folder: pathlib.Path,
    problems: Problems,
) -> tuple[PartConfig, ...]:
    parts = []
    names_seen: set[str] = set()
    for number, values in enumerate(tables, start=1):
        part = problems.table(values, f"parts #{number}")
        name = _unique_name(part, "name", names_seen, "parts", "part", problems)
        instrument = part.get("instrument", name_of("an instrument", instruments), required=True)
        bus = part.get("bus", name_of("a bus", buses), "keys")
        notes = [
            _read_note(row, f"{part.label} note {index}", problems)
            for index, row in enumerate(part.get("notes", LIST, []), start=1)
        ]
        valid_notes = tuple(note for note in notes if note is not None)
        midi_file, midi_notes = _read_midi_part(part, folder, problems)
        if midi_file is not None and part.has("notes"):
            problems.add(part.label, "expected notes or midi_file, got both")
        if name is not None:  # a part without a name is reported, and nothing can name it
            parts.append(PartConfig(name, instrument, bus, valid_notes, midi_notes, midi_file))
    return tuple(parts)


def _read_midi_part(part: Table, folder: pathlib.Path, problems: Problems):
    """(path, notes) of a part played from a Standard MIDI File; (None, ()) for a part of notes."""
    file = part.get("midi_file", TEXT)
    track = part.get("track", integer_in(0, 1000))
    channel = part.get("channel", integer_in(1, 16))
    if file is None:
        for key in ("track", "channel"):
            if part.has(key):
                problems.add(f"{part.label} {key}", "expected midi_file too: what it chooses from")
        return None, ()
    path = folder / file
    try:
        notes = read_midi_notes(path, track, channel)
    except MidiFileError as error:
        problems.add(f"{part.label} midi_file", str(error))
        return path, ()
    if not notes:
        problems.add(f"{part.label} midi_file", f"{path} has no notes" + (" on the chosen track or channel"
                                                                           if track is not None or channel else ""))
    return path, notes


def _read_note(row: Any, where: str, problems: Problems) -> Note | None:
    fields = problems.check(where, row, _NOTE)
    if fields is None:
        return None
    values = [
        problems.check(f"{where} {field}", value, kind)
        for (field, kind), value in zip(_NOTE_FIELDS, fields)
    ]
    return None if None in values else Note(*values)


_TEMPO_CHANGE = Kind(
    "a tempo change {bar = 1, bpm = 120} (ramp = true: moving evenly to the next tempo)",
    lambda v: v if isinstance(v, dict) and v.keys() <= {"bar", "bpm", "ramp"} and {"bar", "bpm"} <= v.keys()
    and is_integer(v["bar"]) and is_number(v["bpm"]) and isinstance(v.get("ramp", False), bool) else None,
)
_TIME_SIGNATURE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})")
_METER_CHANGE = Kind(
    "a meter change {bar = 1, time = \"4/4\"}",
    lambda v: v if isinstance(v, dict) and v.keys() == {"bar", "time"} and is_integer(v["bar"])
    and isinstance(v["time"], str) and _TIME_SIGNATURE.fullmatch(v["time"]) else None,
)
_CLICK_SOUND = Kind("a click sound [pitch, velocity]",
                     lambda v: v if isinstance(v, list) and len(v) == 2 and _midi_key(v[0]) is not None
                     and is_number(v[1]) and 0 < v[1] <= 1 else None)
DEFAULT_CLICK_SOUNDS = {"accent": ("C7", 0.9), "beat": ("G6", 0.5), "count-in": ("E7", 0.6),
                        "warning": ("D7", 0.7)}


def _read_click(click: Table, name: str, instruments: Collection[str], buses: Collection[str],
                problems: Problems) -> ClickConfig | None:
    tempo_rows = click.get("tempo", list_of(_TEMPO_CHANGE), required=True)  # None: reported already
    tempos = [TempoChange(v["bar"], v["bpm"], v.get("ramp", False)) for v in tempo_rows or []]
    meters = []
    for v in click.get("meter", list_of(_METER_CHANGE), [{"bar": 1, "time": "4/4"}]):
        beats, unit = map(int, _TIME_SIGNATURE.fullmatch(v["time"]).groups())
        meters.append(MeterChange(v["bar"], beats, unit))
    click_map = ClickMap(tuple(tempos), tuple(meters), click.get("bars", integer_in(1, 10000), 1, required=True),
                         click.get("count_in", integer_in(0, 8), 0), click.get("warnings", BOOLEAN, False))
    instrument = click.get("instrument", name_of("an instrument", instruments), required=True)
    bus = click.get("bus", name_of("a bus", buses), "click")
    sounds = {}
    for kind, (pitch, velocity) in DEFAULT_CLICK_SOUNDS.items():
        key, velocity = click.get(kind, _CLICK_SOUND, [pitch, velocity])
        sounds[kind] = (_midi_key(key), float(velocity))
    if tempo_rows is not None:  # an empty list too: the map says what it lacks
        try:
            validate(click_map)
        except ClickMapError as error:
            problems.add(click.label, str(error))
            return None
    return ClickConfig(name, click_map, instrument, bus, sounds)


_CUE_VERBS = ("start", "stop", "gain", "stop_all", "panic", "setup")
_CUE_ACTION = Kind(
    "an action: {start = \"part, click or stem\"}, {stop = \"part, click or stem\"}, "
    "{gain = \"bus\", db = -6, fade = 2.0}, {stop_all = fade seconds}, {panic = true} or "
    "{setup = \"keyboard setup\", keyboard = \"name\"}",
    lambda v: v if isinstance(v, dict) and len(set(v) & set(_CUE_VERBS)) == 1 else None,
)


def _read_stem(stem: Table, name: str, folder: pathlib.Path, buses: Collection[str]) -> StemConfig:
    file = stem.get("file", TEXT, "", required=True)
    return StemConfig(name, folder / file, stem.get("bus", name_of("a bus", buses), "stems"),
                      stem.get("gain_db", _GAIN_DB, 0.0))


def _read_cues(tables: Iterable[dict[str, Any]], rate: FrameRate, players: list[str], buses: list[str],
               setups: list[str], keyboards: list[str], problems: Problems) -> tuple[CueConfig, ...]:
    cues = []
    numbers_seen: set[str] = set()
    tables = list(tables)
    if len(tables) > MAX_CUES:
        problems.add("[[cues]]", f"expected at most {MAX_CUES} cues, got {len(tables)}")
    for index, values in enumerate(tables, start=1):
        cue = problems.table(values, f"cues #{index}")
        number = _unique_name(cue, "number", numbers_seen, "cues", "cue", problems)
        triggers = [key for key in ("at", "go", "follow") if cue.has(key)]
        if len(triggers) != 1:
            problems.add(cue.label, "expected exactly one trigger: at = \"timecode\", go = true, or follow = "
                                    f"seconds after the previous cue; got {' and '.join(triggers) or 'none'}")
        timecode = cue.get("at", _timecode_at(rate))
        cue.get("go", one_of((True,), "true"))
        wait = cue.get("follow", number_in(0, 3600), 0.0)
        if cue.has("follow") and index == 1:
            problems.add(f"{cue.label} follow", "expected a cue before it to follow")
        trigger = "timecode" if cue.has("at") else "follow" if cue.has("follow") else "go"
        actions = []
        for number_of_action, action in enumerate(cue.get("actions", list_of(_CUE_ACTION), []), start=1):
            read = _read_cue_action(problems.table(action, f"{cue.name} action {number_of_action}"), players, buses,
                                    setups, keyboards)
            if read is not None:
                actions.append(read)
        cues.append(CueConfig(number or f"#{index}", cue.get("name", TEXT, number or ""), trigger, timecode, wait,
                              cue.get("chase", BOOLEAN, False), tuple(actions)))
    return tuple(cues)


def _read_cue_action(action: Table, players: list[str], buses: list[str], setups: list[str],
                     keyboards: list[str]) -> CueAction | None:
    if action.has("setup"):
        # The keyboard it is for; every keyboard when the show names none.
        return CueAction("setup", action.get("setup", name_of("a keyboard setup", setups), required=True),
                         keyboard=action.get("keyboard", name_of("a keyboard", keyboards)))
    if action.has("start"):
        return CueAction("start", action.get("start", name_of("a part, click or stem", players), required=True))
    if action.has("stop"):
        return CueAction("stop", action.get("stop", name_of("a part, click or stem", players), required=True))
    if action.has("gain"):
        return CueAction("gain", action.get("gain", name_of("a bus", buses), required=True),
                         gain_db=action.get("db", _GAIN_DB, 0.0, required=True),
                         fade_seconds=action.get("fade", number_in(0, 600), 0.0))
    if action.has("stop_all"):
        return CueAction("stop_all", fade_seconds=action.get("stop_all", number_in(0, 600), 0.0, required=True))
    action.get("panic", one_of((True,), "true"), required=True)
    return CueAction("panic")


_PEDAL_TRIGGER = Kind("a MIDI trigger like \"note 60\", \"cc 64\" or \"note 60 ch 10\"",
                       lambda v: parse_trigger(v) if isinstance(v, str) else None)


def _read_conductor(conductor: Table, problems: Problems) -> ConductorConfig:
    midi_input = conductor.get("midi_input", TEXT)
    triggers = {operation: trigger for operation in OPERATIONS
                if (trigger := conductor.get(operation, _PEDAL_TRIGGER)) is not None}
    if midi_input is not None and not triggers:
        problems.add(f"{conductor.label} midi_input", f"expected at least one of {', '.join(OPERATIONS)} too: "
                                                      "what the pedal does")
    if triggers and midi_input is None:
        problems.add(conductor.label, "expected midi_input too: the port the pedal is on")
    return ConductorConfig(midi_input, triggers, conductor.get("stop_fade", number_in(0, 600), 3.0))


def _ip_address(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _ip_network(value: Any) -> str | None:
    try:
        return str(ipaddress.ip_network(value, strict=False)) if isinstance(value, str) else None
    except ValueError:
        return None


_ADDRESSES = Kind("a list of IP addresses, like [\"127.0.0.1\", \"192.168.1.20\"]",
                   lambda v: tuple(map(_ip_address, v)) if isinstance(v, list) and v
                   and all(_ip_address(x) for x in v) else None)
_NETWORKS = Kind("a list of client addresses or networks, like [\"127.0.0.1\", \"192.168.1.0/24\"]",
                  lambda v: tuple(map(_ip_network, v)) if isinstance(v, list) and v
                  and all(_ip_network(x) for x in v) else None)


def _read_osc(osc: Table) -> OscConfig:
    return OscConfig(
        enabled=osc.get("enabled", BOOLEAN, True),
        port=osc.get("port", integer_in(1024, 65535), 53100),
        bind=osc.get("bind", _ADDRESSES, ("127.0.0.1",)),
        allow=osc.get("allow", _NETWORKS, ("127.0.0.1/32", "::1/128")),
        messages_per_second=osc.get("messages_per_second", number_in(1, 100000), 500.0),
        max_connections=osc.get("max_connections", integer_in(1, 4096), 64),
        max_connections_per_client=osc.get("max_connections_per_client", integer_in(1, 4096), 16),
        idle_seconds=osc.get("idle_seconds", number_in(1, 86400), 300.0),
    )


_TOKEN = Kind("a string of 8 to 200 letters, digits, '-' or '_'",
               lambda v: v if isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_-]{8,200}", v) else None)


def _read_web(web: Table, given: bool) -> WebConfig:
    """The pages are served when the show has a [web] table (unless it says enabled = false)."""
    return WebConfig(
        enabled=web.get("enabled", BOOLEAN, given),
        port=web.get("port", integer_in(1024, 65535), 8080),
        bind=web.get("bind", _ADDRESSES, ("127.0.0.1",)),
        allow=web.get("allow", _NETWORKS, ("127.0.0.1/32", "::1/128")),
        token=web.get("token", _TOKEN),
        view_token=web.get("view_token", _TOKEN),
    )


_COLOR_NAMES = ("green", "yellow", "red", "white", "blue", "cyan", "magenta", "orange")
_COLOR = Kind(f"a colour: one of {', '.join(_COLOR_NAMES)}, or \"#rrggbb\"",
              lambda v: v if isinstance(v, str) and (v in _COLOR_NAMES or re.fullmatch(r"#[0-9a-fA-F]{6}", v))
              else None)
_BAR_BEAT = Kind("a bar and beat like \"17.1\" (bar 17, beat 1)",
                 lambda v: tuple(map(int, v.split("."))) if isinstance(v, str)
                 and re.fullmatch(r"-?[0-9]{1,5}\.[0-9]{1,2}", v) else None)


def _read_hits(tables, rate: FrameRate, cues, clicks, problems: Problems) -> tuple[HitConfig, ...]:
    """The show's own visual cues: each at a timecode, or at a bar.beat of a cue that starts a click track."""
    cue_clicks = {cue.number: [action.target for action in cue.actions
                               if action.verb == "start" and action.target in clicks] for cue in cues}
    hits = []
    for index, values in enumerate(tables, start=1):
        hit = problems.table(values, f"hits #{index}")
        kind = hit.get("kind", one_of(HIT_KINDS), "streamer")
        timecode = hit.get("timecode", _timecode_at(rate))
        cue = hit.get("cue", name_of("a cue's number", list(cue_clicks)))
        bar, beat = hit.get("at", _BAR_BEAT, (1, 1))
        if hit.has("timecode") == hit.has("cue"):
            problems.add(hit.label, "expected either timecode = \"HH:MM:SS:FF\", or cue = \"number\" with "
                                    "at = \"bar.beat\"")
        elif hit.has("at") and not hit.has("cue"):
            problems.add(f"{hit.label} at", "a bar.beat counts in a cue's click track: give cue too")
        elif cue is not None:
            if not cue_clicks[cue]:
                problems.add(f"{hit.label} cue", f"cue {cue} starts no click track to count bars and beats in")
            elif not _has_beat(clicks[cue_clicks[cue][0]].map, bar, beat):
                problems.add(f"{hit.label} at", f"click track {cue_clicks[cue][0]!r} of cue {cue} has no bar "
                                                f"{bar} beat {beat}")
        hits.append(HitConfig(kind, timecode, cue, bar, beat, hit.get("length", number_in(0.1, 60), 3.0),
                              hit.get("punches", one_of(FLUTTER_PUNCHES), 3), hit.get("color", _COLOR, "white")))
    return tuple(hits)


def _has_beat(map: ClickMap, bar: int, beat: int) -> bool:
    try:
        return any(click.bar == bar and click.beat == beat for click in clicks_of(map))
    except ClickMapError:
        return True  # the click track's own problem is said where it is read


PEDALS = {64: "sustain", 66: "sostenuto", 67: "soft"}
_KEY_RANGE = Kind("two keys, lowest and highest, like [\"C2\", \"B4\"] or [36, 71]",
                   lambda v: (_midi_key(v[0]), _midi_key(v[1])) if isinstance(v, list) and len(v) == 2
                   and None not in (_midi_key(v[0]), _midi_key(v[1])) and _midi_key(v[0]) <= _midi_key(v[1])
                   else None)
_VELOCITY_RANGE = Kind("two velocities from 1 to 127, lowest first, like [1, 90]",
                        lambda v: tuple(v) if isinstance(v, list) and len(v) == 2 and all(is_integer(x) for x in v)
                        and 1 <= v[0] <= v[1] <= 127 else None)
_CURVE_POINTS = Kind("a velocity curve: \"linear\", \"soft\", \"hard\", \"fixed\", or points [[velocity, level], "
                      "...] from velocity 1 to 127, levels 0 to 1",
                      lambda v: v if v in VELOCITY_CURVES else _curve_points(v))
_PARAMETER_RANGE = Kind("two numbers: the parameter at controller 0 and at 127",
                         lambda v: (float(v[0]), float(v[1])) if isinstance(v, list) and len(v) == 2
                         and all(is_number(x) for x in v) else None)


def _curve_points(value: Any) -> tuple[tuple[int, float], ...] | None:
    if not isinstance(value, list) or len(value) < 2:
        return None
    points = []
    for point in value:
        if not (isinstance(point, list) and len(point) == 2 and is_integer(point[0]) and 1 <= point[0] <= 127
                and is_number(point[1]) and 0 <= point[1] <= 1):
            return None
        points.append((point[0], float(point[1])))
    velocities = [velocity for velocity, _ in points]
    if velocities != sorted(set(velocities)) or velocities[0] != 1 or velocities[-1] != 127:
        return None
    return tuple(points)


def _read_setup(setup: Table, name: str, instruments: Collection[str], buses: Collection[str],
                problems: Problems) -> SetupConfig:
    layers = []
    for number, values in enumerate(setup.get("layers", TABLES, [], required=True), start=1):
        layer = problems.table(values, f"setups.{name} layer {number}")
        curve = layer.get("curve", _CURVE_POINTS, "linear")
        layers.append(LayerConfig(
            instrument=layer.get("instrument", name_of("an instrument", instruments), "", required=True),
            keys=layer.get("keys", _KEY_RANGE, (0, 127)),
            velocities=layer.get("velocities", _VELOCITY_RANGE, (1, 127)),
            transpose=layer.get("transpose", integer_in(-48, 48), 0),
            curve=curve,
            fixed_velocity=layer.get("fixed", number_in(0, 1, low_included=False), 0.8),
            channel=layer.get("channel", integer_in(1, 16)),
            bus=layer.get("bus", name_of("a bus", buses), "keys"),
            level_db=layer.get("level_db", _GAIN_DB, 0.0)))
        if layer.has("fixed") and curve != "fixed":
            problems.add(f"{layer.label} fixed", "expected curve = \"fixed\" too: the level every note gets")
    if setup.has("layers") and not layers:
        problems.add(f"{setup.label} layers", "expected at least one layer")
    controls = []
    for number, values in enumerate(setup.get("controls", TABLES, []), start=1):
        control = problems.table(values, f"setups.{name} control {number}")
        cc = control.get("cc", integer_in(0, 127), 1, required=True)
        if cc in PEDALS:
            problems.add(f"{control.label} cc", f"expected a controller other than {cc}, the {PEDALS[cc]} pedal")
        low, high = control.get("range", _PARAMETER_RANGE, (0.0, 1.0), required=True)
        controls.append(ControlConfig(
            cc=cc,
            instrument=control.get("instrument", name_of("an instrument", instruments), "", required=True),
            parameter=control.get("parameter", one_of(tuple(INSTRUMENT_PARAMETERS)), "gain", required=True),
            low=low, high=high,
            curve=control.get("curve", one_of(CONTROL_CURVES), "linear")))
    return SetupConfig(name, setup.get("program", integer_in(1, 128)), setup.get("bend_range", number_in(0, 48), None),
                       tuple(layers), tuple(controls))


def _read_keyboard(keyboard: Table, name: str, setups: Collection[str], problems: Problems) -> KeyboardConfig:
    port, virtual = keyboard.get("input", TEXT), keyboard.get("virtual", TEXT)
    if (port is None) == (virtual is None):
        problems.add(keyboard.label, "expected one of input (a MIDI input port's name, or a pattern of it) or "
                                     "virtual (a port of liveengine's own, for software to play into)")
    return KeyboardConfig(name, port, virtual, keyboard.get("setup", name_of("a keyboard setup", setups), "",
                                                            required=True), keyboard.get("thru", TEXT))

