"""SoundFont 2 banks: the presets a bank holds, and one preset as a `SampledInstrument`.

Reading follows the SoundFont 2.04 specification. Only the bank's `pdta` chunk (its
presets, instruments, zones, generators and sample headers) is read, and where its `smpl`
chunk lies: regions point into that chunk through `RawPcm`, so the sample data stays on
disk until the sample loader reads what it needs. A bank's tables are parsed once per process
(numpy records), however many of its presets load, and again only when the file's `pdta` changes. `sm24` (the optional low bytes of
24-bit samples) is not used: samples play as their 16-bit words.

Where the SF2 model and the engine's differ:
- initialAttenuation is applied at 0.4× its centibels, as EMU's hardware and FluidSynth do
  (banks were voiced on those players; at the full figure they sound far too quiet);
- velocity: SF2's default modulator attenuates by a concave curve down to -96 dB; regions
  keep the engine's own velocity curve (amp_veltrack 100). The default velocity-to-cutoff
  modulator, which the SF2 revisions disagree about and players commonly disable, is not
  applied. Modulators a bank defines itself are reported, not applied;
- keynumToVolEnvHold/Decay (and the modulation envelope's) scale a stage by key: exact for a
  region of one key, taken at the middle key of a wider region (reported);
- the minimum delay and hold (-12000 timecents, the spec's 1 ms) mean none;
- the volume envelope's decay and release fall as fast as the bank asks, 100 dB in decayVolEnv's
  and releaseVolEnv's time; the engine's decay and release fall exponentially (linearly in dB) and
  end on their level once 60 dB down, so they last 0.6 of that time (FluidSynth, 96 dB in that
  time, ends a voice at its -90 dB noise floor). A decay toward a sustain level above -60 dB then
  eases into it, where the bank's stops at it in a corner; a sustain of 1000 centibels or more is
  silence, the specification's convention, and the note ends with its decay;
- a zone plays its sample with the zone's pan, as FluidSynth does, whatever the sample's
  type; only a zone that sets no pan and whose sample's stereo partner (by its sample link)
  plays in the same instrument is panned hard to its side.
Generators the engine has no place for are listed in the instrument's problems, once per
generator and instrument.
"""

import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from ..kernel.regions import (
    ORIGINAL,
    Envelope,
    Lfo,
    RawPcm,
    Region,
    SampledInstrument,
    SampleSource,
)
from ..kernel.voices.envelope import RELEASE_TIME_CONSTANTS

DRUM_BANK = 128  # General MIDI percussion
ATTENUATION_SCALE = 0.4  # of initialAttenuation's centibels, as EMU's hardware applies them
OPEN_FILTER = 13500  # initialFilterFc's maximum, in absolute cents (about 20 kHz): no filter
SF2_FALL_DB = 100.0  # decayVolEnv, releaseVolEnv: the time of a fall of this much (SF2 2.04, 8.1.3)
# The engine's decay and release fall exponentially, this much in their time, where they end (60 dB).
ENGINE_FALL_DB = 20.0 * math.log10(math.e) * RELEASE_TIME_CONSTANTS
FALL_TIME_SCALE = ENGINE_FALL_DB / SF2_FALL_DB  # the same slope in dB per second
FULL_ATTENUATION = 1000  # sustainVolEnv's centibels of silence (SF2 2.04, 8.1.3: "conventionally 1000")


class Sf2Error(Exception):
    """A file that cannot be read as a SoundFont 2 bank; the message names the file and why."""


@dataclass(frozen=True)
class Sf2Preset:
    """A preset as a bank lists it: MIDI bank (128 for General MIDI drum kits) and program."""

    bank: int
    program: int
    name: str


def list_presets(path: str | os.PathLike) -> list[Sf2Preset]:
    """The presets of the bank at `path`, by bank and program."""
    presets = _read_hydra(Path(path)).presets[:-1]  # the last record only ends the table
    return sorted((Sf2Preset(preset.bank, preset.program, _name(preset.name)) for preset in presets),
                  key=lambda preset: (preset.bank, preset.program))


def load_sf2(path: str | os.PathLike, bank: int = 0, program: int = 0) -> SampledInstrument:
    """Preset `bank`:`program` of the bank at `path`, as regions over raw PCM in its sample chunk."""
    path = Path(path)
    hydra = _read_hydra(path)
    for index, preset in enumerate(hydra.presets[:-1]):
        if (preset.bank, preset.program) == (bank, program):
            return _PresetMapper(path, hydra, index).instrument()
    raise Sf2Error(f"{path}: no preset {bank}:{program}")


def gm_drum_kit(path: str | os.PathLike, program: int = 0) -> SampledInstrument:
    """A General MIDI drum kit of the bank at `path`: bank 128, program 0 (Standard) unless asked."""
    return load_sf2(path, DRUM_BANK, program)


# --- The file: RIFF chunks and the hydra's tables -----------------------------------------------


class _PresetHeader(NamedTuple):
    name: bytes
    program: int
    bank: int
    first_zone: int
    library: int
    genre: int
    morphology: int


class _InstrumentHeader(NamedTuple):
    name: bytes
    first_zone: int


class _SampleHeader(NamedTuple):
    name: bytes
    start: int  # frames from the start of the smpl chunk
    end: int  # the first frame after the sample
    loop_start: int
    loop_end: int  # the first frame after the loop
    rate: int
    root_key: int
    correction: int  # cents
    link: int  # a stereo sample's partner
    type: int


_Modulator = tuple[int, int, int, int, int]  # source, destination, amount, amount source, transform

# The hydra's nine tables, in the order the specification requires, with their record layouts
# (little-endian, packed) and, for the three header tables, the record type their rows become.
# Zones (bags) are (first generator, first modulator); generators are (generator, amount), the
# amount an unsigned word that each generator reads as a range, an index or a signed value.
_BAG = np.dtype([("generators", "<u2"), ("modulators", "<u2")])
_GENERATOR = np.dtype([("generator", "<u2"), ("amount", "<u2")])
_MODULATOR = np.dtype([("source", "<u2"), ("destination", "<u2"), ("amount", "<i2"), ("amount_source", "<u2"),
                       ("transform", "<u2")])
_TABLES = {
    b"phdr": (np.dtype([("name", "S20"), ("program", "<u2"), ("bank", "<u2"), ("first_zone", "<u2"),
                        ("library", "<u4"), ("genre", "<u4"), ("morphology", "<u4")]), _PresetHeader),
    b"pbag": (_BAG, None),
    b"pmod": (_MODULATOR, None),
    b"pgen": (_GENERATOR, None),
    b"inst": (np.dtype([("name", "S20"), ("first_zone", "<u2")]), _InstrumentHeader),
    b"ibag": (_BAG, None),
    b"imod": (_MODULATOR, None),
    b"igen": (_GENERATOR, None),
    b"shdr": (np.dtype([("name", "S20"), ("start", "<u4"), ("end", "<u4"), ("loop_start", "<u4"),
                        ("loop_end", "<u4"), ("rate", "<u4"), ("root_key", "u1"), ("correction", "i1"),
                        ("link", "<u2"), ("type", "<u2")]), _SampleHeader),
}


@dataclass(frozen=True)
class _Hydra:
    """A bank's articulation data. Each header table ends with a terminal record. The zone, generator
    and modulator tables stay packed records (numpy): a preset reads only its own zones' slices."""

    presets: list[_PresetHeader]
    preset_zones: np.ndarray  # of _BAG
    preset_modulators: np.ndarray  # of _MODULATOR
    preset_generators: np.ndarray  # of _GENERATOR
    instruments: list[_InstrumentHeader]
    instrument_zones: np.ndarray
    instrument_modulators: np.ndarray
    instrument_generators: np.ndarray
    samples: list[_SampleHeader]
    sample_data: int  # file offset of the smpl chunk's data
    sample_frames: int  # 16-bit words in it


def _read_hydra(path: Path) -> _Hydra:
    try:
        with open(path, "rb") as file:
            return _HydraReader(path, file).read()
    except OSError as error:
        raise Sf2Error(f"{path}: cannot read: {error.strerror or error}") from error


# The tables of each bank parsed in this process: file (device, inode) -> (its pdta bytes, their tables).
# Every load walks the file's chunks and reads pdta again (tens of microseconds); its tables are
# parsed again only when those bytes differ, so an edited bank is never played from stale tables.
_parsed: dict[tuple[int, int], tuple[bytes, list]] = {}


class _HydraReader:
    """Walks the RIFF structure, checking every size against its container, and reads `pdta`."""

    def __init__(self, path: Path, file: BinaryIO):
        self.path = path
        self.file = file
        self.status = os.fstat(file.fileno())
        self.size = self.status.st_size

    def fail(self, message: str):
        raise Sf2Error(f"{self.path}: {message}")

    def read_at(self, offset: int, size: int) -> bytes:
        self.file.seek(offset)
        data = self.file.read(size)
        if len(data) != size:
            self.fail(f"truncated at byte {offset + len(data)}")
        return data

    def read(self) -> _Hydra:
        if self.size < 12:
            self.fail(f"not a SoundFont 2 bank: {self.size} bytes, too short for a RIFF header")
        riff, riff_size, form = struct.unpack("<4sI4s", self.read_at(0, 12))
        if riff != b"RIFF" or form != b"sfbk":
            self.fail(f"not a SoundFont 2 bank: it starts with {riff!r}…{form!r}, not RIFF…sfbk")
        if 8 + riff_size > self.size:
            self.fail(f"truncated: its RIFF chunk claims {8 + riff_size} bytes, the file has {self.size}")
        top = self.chunks(12, 8 + riff_size, "the RIFF chunk")
        info, sdta, pdta = (self.required(top, b"LIST " + kind, "the RIFF chunk")
                            for kind in (b"INFO", b"sdta", b"pdta"))
        version = self.chunks(info[0], info[0] + info[1], "LIST INFO").get(b"ifil")
        if version is not None and version[1] >= 2:
            major = struct.unpack("<H", self.read_at(version[0], 2))[0]
            if major != 2:
                self.fail(f"SoundFont version {major}; only version 2 (16-bit PCM samples) is read")
        smpl = self.required(self.chunks(sdta[0], sdta[0] + sdta[1], "LIST sdta"), b"smpl", "LIST sdta")
        return _Hydra(*self.parsed_tables(pdta), sample_data=smpl[0], sample_frames=smpl[1] // 2)

    def parsed_tables(self, pdta: tuple[int, int]) -> list:
        data = self.read_at(*pdta)
        identity = self.status.st_dev, self.status.st_ino
        parsed = _parsed.get(identity)
        if parsed is None or parsed[0] != data:
            parsed = _parsed[identity] = data, self.tables(data, pdta[0])
        return parsed[1]

    def chunks(self, start: int, end: int, container: str) -> dict[bytes, tuple[int, int]]:
        """The chunks from `start` to `end`, id → (data offset, size); a LIST by "LIST " + its type."""
        found = {}
        while start + 8 <= end:
            chunk_id, size = struct.unpack("<4sI", self.read_at(start, 8))
            data = start + 8
            if data + size > end:
                self.fail(f"chunk {chunk_id!r} at byte {start} claims {size} bytes, past the end of {container}")
            if chunk_id == b"LIST":
                if size < 4:
                    self.fail(f"the LIST chunk at byte {start} is too short to hold its type")
                chunk_id, data, size = b"LIST " + self.read_at(data, 4), data + 4, size - 4
            found.setdefault(chunk_id, (data, size))
            start = data + size + (size & 1)  # chunks are padded to an even size
        return found

    def required(self, chunks: dict[bytes, tuple[int, int]], chunk_id: bytes, container: str) -> tuple[int, int]:
        if chunk_id not in chunks:
            self.fail(f"no {chunk_id.decode('latin-1')} chunk in {container}")
        return chunks[chunk_id]

    def tables(self, pdta: bytes, offset: int) -> list:
        tables, at = [], 0
        for chunk_id, (layout, header) in _TABLES.items():
            name = chunk_id.decode()
            if at + 8 > len(pdta):
                self.fail(f"LIST pdta ends before its {name} chunk")
            found, size = struct.unpack_from("<4sI", pdta, at)
            if found != chunk_id:
                self.fail(f"LIST pdta has {found!r} at byte {offset + at} where {name} belongs")
            at += 8
            if at + size > len(pdta):
                self.fail(f"the {name} chunk claims {size} bytes, past the end of LIST pdta")
            if size == 0 or size % layout.itemsize:
                self.fail(f"the {name} chunk is {size} bytes, not a whole number of {layout.itemsize}-byte records")
            records = np.frombuffer(pdta, layout, size // layout.itemsize, at)
            tables.append(records if header is None else list(map(header._make, records.tolist())))
            at += size
        presets, preset_zones, preset_modulators, preset_generators, instruments, instrument_zones, \
            instrument_modulators, instrument_generators, _ = tables
        # A header's zones run to the next header's first zone; a zone's generators and
        # modulators to the next zone's first.
        self.check_ascending("phdr", np.array([preset.first_zone for preset in presets]), len(preset_zones) - 1)
        self.check_ascending("pbag", preset_zones["generators"], len(preset_generators))
        self.check_ascending("pbag", preset_zones["modulators"], len(preset_modulators))
        self.check_ascending("inst", np.array([instrument.first_zone for instrument in instruments]),
                             len(instrument_zones) - 1)
        self.check_ascending("ibag", instrument_zones["generators"], len(instrument_generators))
        self.check_ascending("ibag", instrument_zones["modulators"], len(instrument_modulators))
        return tables

    def check_ascending(self, table: str, indices: np.ndarray, limit: int):
        if np.any(indices[1:] < indices[:-1]):
            self.fail(f"the {table} chunk's indices are not in ascending order")
        if indices[-1] > limit:
            self.fail(f"the {table} chunk points past the end of the table it indexes")


def _name(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1").strip()


# --- Generators and zones ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Generator:
    name: str
    default: int = 0
    low: int = -32768
    high: int = 32767
    in_presets: bool = True  # a preset zone may offset it; else the specification ignores it there


def _timecents(name: str, high: int) -> _Generator:
    return _Generator(name, -12000, -12000, high)


def _sample_only(name: str, default: int = 0, low: int = -32768, high: int = 32767) -> _Generator:
    return _Generator(name, default, low, high, in_presets=False)


INSTRUMENT, KEY_RANGE, VEL_RANGE, SAMPLE_ID, PAN = 41, 43, 44, 53, 17
_STRUCTURAL = (INSTRUMENT, KEY_RANGE, VEL_RANGE, SAMPLE_ID)
_GENERATORS = {  # SF2.04 section 8.1.3: default and range of each value generator
    0: _sample_only("startAddrsOffset"),
    1: _sample_only("endAddrsOffset"),
    2: _sample_only("startloopAddrsOffset"),
    3: _sample_only("endloopAddrsOffset"),
    4: _sample_only("startAddrsCoarseOffset"),
    5: _Generator("modLfoToPitch", 0, -12000, 12000),
    6: _Generator("vibLfoToPitch", 0, -12000, 12000),
    7: _Generator("modEnvToPitch", 0, -12000, 12000),
    8: _Generator("initialFilterFc", OPEN_FILTER, 1500, OPEN_FILTER),
    9: _Generator("initialFilterQ", 0, 0, 960),
    10: _Generator("modLfoToFilterFc", 0, -12000, 12000),
    11: _Generator("modEnvToFilterFc", 0, -12000, 12000),
    12: _sample_only("endAddrsCoarseOffset"),
    13: _Generator("modLfoToVolume", 0, -960, 960),
    15: _Generator("chorusEffectsSend", 0, 0, 1000),
    16: _Generator("reverbEffectsSend", 0, 0, 1000),
    PAN: _Generator("pan", 0, -500, 500),
    21: _timecents("delayModLFO", 5000),
    22: _Generator("freqModLFO", 0, -16000, 4500),
    23: _timecents("delayVibLFO", 5000),
    24: _Generator("freqVibLFO", 0, -16000, 4500),
    25: _timecents("delayModEnv", 5000),
    26: _timecents("attackModEnv", 8000),
    27: _timecents("holdModEnv", 5000),
    28: _timecents("decayModEnv", 8000),
    29: _Generator("sustainModEnv", 0, 0, 1000),
    30: _timecents("releaseModEnv", 8000),
    31: _Generator("keynumToModEnvHold", 0, -1200, 1200),
    32: _Generator("keynumToModEnvDecay", 0, -1200, 1200),
    33: _timecents("delayVolEnv", 5000),
    34: _timecents("attackVolEnv", 8000),
    35: _timecents("holdVolEnv", 5000),
    36: _timecents("decayVolEnv", 8000),
    37: _Generator("sustainVolEnv", 0, 0, 1440),
    38: _timecents("releaseVolEnv", 8000),
    39: _Generator("keynumToVolEnvHold", 0, -1200, 1200),
    40: _Generator("keynumToVolEnvDecay", 0, -1200, 1200),
    45: _sample_only("startloopAddrsCoarseOffset"),
    46: _sample_only("keynum", -1, -1, 127),
    47: _sample_only("velocity", -1, -1, 127),
    48: _Generator("initialAttenuation", 0, 0, 1440),
    50: _sample_only("endloopAddrsCoarseOffset"),
    51: _Generator("coarseTune", 0, -120, 120),
    52: _Generator("fineTune", 0, -99, 99),
    54: _sample_only("sampleModes"),  # flags: the low two bits say how the sample loops
    56: _Generator("scaleTuning", 100, 0, 1200),
    57: _sample_only("exclusiveClass", 0, 0, 127),
    58: _sample_only("overridingRootKey", -1, -1, 127),
}
_DEFAULTS = {generator.name: generator.default for generator in _GENERATORS.values()}
# Generators the engine has no place for, and why: reported wherever they take effect.
_UNMAPPED = {
    "modLfoToPitch": "no vibrato from the modulation LFO",
    "modEnvToPitch": "no pitch envelope",
    "modLfoToFilterFc": "no cutoff LFO",
    "chorusEffectsSend": "no effect sends",
    "reverbEffectsSend": "no effect sends",
    "keynum": "no fixed key",
    "velocity": "no fixed velocity",
}
_KEY_SCALED = ("keynumToVolEnvHold", "keynumToVolEnvDecay", "keynumToModEnvHold", "keynumToModEnvDecay")
# Modulator sources that are not MIDI controllers (SF2.04 section 8.2.1).
_SOURCES = {0: "no controller", 2: "note-on velocity", 3: "note-on key", 10: "poly pressure",
            13: "channel pressure", 14: "pitch wheel", 16: "pitch wheel sensitivity", 127: "link"}


def _signed(amount: int) -> int:
    return amount - 0x10000 if amount & 0x8000 else amount


_FULL_RANGE = 127 << 8  # a range generator's amount: low byte the lowest, high byte the highest


def _range(amount: int) -> tuple[int, int]:
    return amount & 0xFF, amount >> 8


def _modulator(source: int, destination: int, amount: int) -> str:
    index = source & 0x7F
    name = f"CC {index}" if source & 0x80 else _SOURCES.get(index, f"source {index}")
    target = _GENERATORS[destination].name if destination in _GENERATORS else f"generator {destination}"
    return f"modulator {name} → {target} ({amount})"


@dataclass(frozen=True)
class _Zone:
    index: int  # among its preset's or instrument's zones, global zone included
    generators: dict[int, int]  # generator → raw amount; a repeated generator's last amount
    modulators: list[_Modulator]


def _zones(bags: np.ndarray, generators: np.ndarray, modulators: np.ndarray,
           first: int, end: int, terminal: int) -> tuple[_Zone | None, list[_Zone], list[_Zone]]:
    """The global zone (if any), the zones that name their `terminal` (an instrument or a sample),
    and the others, which the specification ignores."""
    bounds = bags[first:end + 1].tolist()  # each zone's first generator and modulator, and where the last ends
    first_generator, first_modulator = bounds[0]
    own_generators = generators[first_generator:bounds[-1][0]].tolist()
    own_modulators = modulators[first_modulator:bounds[-1][1]].tolist()
    zones = []
    for index, ((generator_start, modulator_start), (generator_end, modulator_end)) in enumerate(
            zip(bounds, bounds[1:])):
        values = {}
        for generator, amount in own_generators[generator_start - first_generator:generator_end - first_generator]:
            values[generator] = amount
            if generator == terminal:
                break  # what follows the terminal generator is ignored
        zones.append(_Zone(index, values,
                           own_modulators[modulator_start - first_modulator:modulator_end - first_modulator]))
    global_zone = zones.pop(0) if zones and terminal not in zones[0].generators else None
    return (global_zone, [zone for zone in zones if terminal in zone.generators],
            [zone for zone in zones if terminal not in zone.generators])


class _Values:
    """A region's generator values: the instrument zone's amount (else its global zone's, else the
    default), plus the preset zone's offset (else its global zone's), kept within range."""

    def __init__(self, preset: dict[int, int], instrument: dict[int, int]):
        self.preset = preset
        self.instrument = instrument
        # Worked out at once from the few generators the zones set (a region reads some 40): measured, a bank's
        # regions map in half the time.
        values = _DEFAULTS.copy()
        for number in instrument.keys() | preset.keys():
            generator = _GENERATORS.get(number)
            if generator is None:
                continue
            amount = instrument.get(number)
            value = generator.default if amount is None else _signed(amount)
            offset = preset.get(number)
            if offset is not None and generator.in_presets:
                value += _signed(offset)
            values[generator.name] = min(max(value, generator.low), generator.high)
        self._values = values

    def __getitem__(self, name: str) -> int:
        return self._values[name]

    def sets(self, number: int) -> bool:
        return number in self.instrument or number in self.preset

    def key_range(self) -> tuple[int, int]:
        return self._intersection(KEY_RANGE)

    def velocity_range(self) -> tuple[int, int]:
        return self._intersection(VEL_RANGE)

    def _intersection(self, number: int) -> tuple[int, int]:
        low, high = _range(self.instrument.get(number, _FULL_RANGE))
        preset_low, preset_high = _range(self.preset.get(number, _FULL_RANGE))
        return max(low, preset_low), min(high, preset_high, 127)


# --- One preset as regions -----------------------------------------------------------------------

_ROM = 0x8000
_RIGHT, _LEFT = 2, 4
_HARD_PAN = {_RIGHT: 100.0, _LEFT: -100.0}
_LOOP_MODES = ("no_loop", "loop_continuous", "no_loop", "loop_sustain")  # by sampleModes
_COARSE = 32768  # frames per unit of the coarse address offsets


class _PresetMapper:
    """Crosses a preset's zones with its instruments' zones into regions, collecting problems."""

    def __init__(self, path: Path, hydra: _Hydra, preset: int):
        self.path = path
        self.hydra = hydra
        self.preset = preset
        header = hydra.presets[preset]
        self.name = _name(header.name)
        self.label = f"preset {header.bank}:{header.program} '{self.name}'"
        self.regions: list[Region] = []
        self.samples: list[SampleSource] = []
        self.sample_slots: dict[int, int] = {}  # sample header → index in self.samples
        self.problems: list[str] = []
        self.reported: set[tuple[str, str]] = set()

    def report(self, where: str, message: str, once_per: tuple[str, str] | None = None):
        if once_per is not None:
            if once_per in self.reported:
                return
            self.reported.add(once_per)
        self.problems.append(f"{self.path}: {where}: {message}")

    def instrument(self) -> SampledInstrument:
        hydra = self.hydra
        first, end = hydra.presets[self.preset].first_zone, hydra.presets[self.preset + 1].first_zone
        global_zone, zones, ignored = _zones(hydra.preset_zones, hydra.preset_generators, hydra.preset_modulators,
                                             first, end, INSTRUMENT)
        self.check_zones(self.label, self.label, global_zone, zones, ignored, "instrument")
        for zone in zones:
            generators = {**(global_zone.generators if global_zone else {}), **zone.generators}
            self.map_instrument(generators, f"{self.label} zone {zone.index}")
        return SampledInstrument(name=self.name, regions=self.regions, samples=self.samples, problems=self.problems)

    def check_zones(self, where: str, owner: str, global_zone: _Zone | None, zones: list[_Zone],
                    ignored: list[_Zone], terminal: str):
        for zone in ignored:
            self.report(where, f"zone {zone.index} names no {terminal}; ignored")
        for zone in ([global_zone] if global_zone else []) + zones:
            for source, destination, amount, _, _ in zone.modulators:
                if amount:  # a modulator of no amount only switches a default modulator off
                    modulator = _modulator(source, destination, amount)
                    self.report(f"{where} zone {zone.index}", f"{modulator} ignored", (modulator, owner))

    def map_instrument(self, preset: dict[int, int], where: str):
        hydra = self.hydra
        instrument = preset[INSTRUMENT]
        if instrument >= len(hydra.instruments) - 1:
            raise Sf2Error(f"{self.path}: {where} names instrument {instrument}; the bank has "
                           f"{len(hydra.instruments) - 1}")
        name = _name(hydra.instruments[instrument].name)
        where = f"{where}, instrument '{name}'"
        for number in preset:
            if number == SAMPLE_ID or number in _GENERATORS and not _GENERATORS[number].in_presets:
                generator = _GENERATORS[number].name if number in _GENERATORS else "sampleID"
                self.report(where, f"{generator} is not allowed in a preset; ignored", (f"preset {generator}", name))
        global_zone, zones, ignored = _zones(hydra.instrument_zones, hydra.instrument_generators,
                                             hydra.instrument_modulators, hydra.instruments[instrument].first_zone,
                                             hydra.instruments[instrument + 1].first_zone, SAMPLE_ID)
        self.check_zones(where, name, global_zone, zones, ignored, "sample")
        merged = [{**(global_zone.generators if global_zone else {}), **zone.generators} for zone in zones]
        played = {generators[SAMPLE_ID] for generators in merged}
        for zone, generators in zip(zones, merged):
            region = self.map_zone(_Values(preset, generators), f"{where} zone {zone.index}", name, played)
            if region is not None:
                self.regions.append(region)

    def map_zone(self, values: _Values, where: str, instrument: str, played: set[int]) -> Region | None:
        lokey, hikey = values.key_range()
        lovel, hivel = values.velocity_range()
        lovel = max(lovel, 1)  # velocity 0 is a note-off
        if lokey > hikey or lovel > hivel:
            return None  # the preset zone and the instrument zone share no note
        self.check_generators(values, where, instrument, lokey == hikey)
        sample = values.instrument[SAMPLE_ID]
        slot = self.sample_slot(sample, where)
        if slot is None:
            return None
        header = self.hydra.samples[sample]
        source = self.samples[slot]
        frames = source.raw.frames

        offset = values["startAddrsOffset"] + _COARSE * values["startAddrsCoarseOffset"]
        end_offset = values["endAddrsOffset"] + _COARSE * values["endAddrsCoarseOffset"]
        loop_start_offset = values["startloopAddrsOffset"] + _COARSE * values["startloopAddrsCoarseOffset"]
        loop_end_offset = values["endloopAddrsOffset"] + _COARSE * values["endloopAddrsCoarseOffset"]
        last = frames - 1 + end_offset
        if not 0 <= offset <= last < frames:
            self.report(where, f"sample offsets {offset}..{last} reach outside the sample's {frames} frames; "
                               "kept within it", ("offsets", instrument))
            offset, last = min(max(offset, 0), frames - 1), min(max(last, 0), frames - 1)
        loop = ORIGINAL, ORIGINAL
        if source.loop_start != ORIGINAL:
            loop = source.loop_start + loop_start_offset, source.loop_end + loop_end_offset
        loop_mode = _LOOP_MODES[values["sampleModes"] & 3]
        if loop_mode != "no_loop" and not 0 <= loop[0] < loop[1] <= last:
            self.report(where, f"sample '{_name(header.name)}' is to loop, but its loop {loop[0]}..{loop[1]} "
                               f"lies outside frames 0..{last}; plays without loop", ("loop", instrument))
            loop_mode = "no_loop"

        pan = values["pan"] / 5.0
        if not values.sets(PAN) and header.type in _HARD_PAN and self.is_stereo_pair(sample, played):
            pan = _HARD_PAN[header.type]
        key = (lokey + hikey) // 2  # where key-scaled envelope stages are taken
        cutoff = values["initialFilterFc"]
        filter_depth = values["modEnvToFilterFc"]
        has_filter = cutoff < OPEN_FILTER or filter_depth < 0
        tremolo = values["modLfoToVolume"]
        vibrato = values["vibLfoToPitch"]
        root = values["overridingRootKey"]
        return Region(
            sample=slot, origin=f"{self.path}: {where}",
            lokey=lokey, hikey=hikey, lovel=lovel, hivel=hivel,
            pitch_keycenter=root if root >= 0 else source.root_key,
            pitch_keytrack=float(values["scaleTuning"]),
            transpose=values["coarseTune"],
            tune=float(values["fineTune"]),
            volume=-ATTENUATION_SCALE * values["initialAttenuation"] / 10.0,
            pan=pan,
            amp_veltrack=100.0,
            amp_envelope=Envelope(
                delay=_delay(values["delayVolEnv"]),
                attack=_seconds(values["attackVolEnv"]),
                hold=_delay(values["holdVolEnv"] + (60 - key) * values["keynumToVolEnvHold"]),
                decay=_seconds(values["decayVolEnv"] + (60 - key) * values["keynumToVolEnvDecay"]) * FALL_TIME_SCALE,
                sustain=_sustain_percent(values["sustainVolEnv"]),
                release=_seconds(values["releaseVolEnv"]) * FALL_TIME_SCALE,
            ),
            amp_lfo=Lfo(_hz(values["freqModLFO"]), tremolo / 10.0, _delay(values["delayModLFO"]))
            if tremolo else Lfo(),
            pitch_lfo=Lfo(_hz(values["freqVibLFO"]), float(vibrato), _delay(values["delayVibLFO"]))
            if vibrato else Lfo(),
            offset=offset,
            end=last if end_offset else -1,
            loop_mode=loop_mode,
            loop_start=loop[0],
            loop_end=loop[1],
            fil_type="lpf_2p" if has_filter else "",
            cutoff=_hz(cutoff) if has_filter else 0.0,
            resonance=values["initialFilterQ"] / 10.0 if has_filter else 0.0,
            filter_envelope=Envelope(
                delay=_delay(values["delayModEnv"]),
                attack=_seconds(values["attackModEnv"]),
                hold=_delay(values["holdModEnv"] + (60 - key) * values["keynumToModEnvHold"]),
                decay=_seconds(values["decayModEnv"] + (60 - key) * values["keynumToModEnvDecay"]),
                sustain=100.0 - values["sustainModEnv"] / 10.0,
                release=_seconds(values["releaseModEnv"]),
                depth=float(filter_depth),
            ) if has_filter and filter_depth else Envelope(),
            group=values["exclusiveClass"],
            off_by=values["exclusiveClass"],  # a class chokes its own earlier notes too
        )

    def check_generators(self, values: _Values, where: str, instrument: str, one_key: bool):
        for number in {*values.preset, *values.instrument} - {*_GENERATORS, *_STRUCTURAL}:
            self.report(where, f"unused generator {number} ignored", (f"generator {number}", instrument))
        if INSTRUMENT in values.instrument:
            self.report(where, "instrument is not allowed in an instrument; ignored", ("instrument", instrument))
        for name, reason in _UNMAPPED.items():
            if values[name] != _DEFAULTS[name]:
                self.report(where, f"{name} ignored ({reason})", (name, instrument))
        if not one_key:
            for name in _KEY_SCALED:
                if values[name]:
                    self.report(where, f"{name} taken at each region's middle key (the engine's envelopes do "
                                       "not scale by key)", (name, instrument))

    def is_stereo_pair(self, sample: int, played: set[int]) -> bool:
        """Whether `sample`'s partner is a sample of the other side, linked back, that the instrument plays."""
        samples = self.hydra.samples
        link = samples[sample].link
        return (link in played and link < len(samples) - 1 and samples[link].link == sample
                and samples[link].type == _LEFT + _RIGHT - samples[sample].type)

    def sample_slot(self, sample: int, where: str) -> int | None:
        """The index in self.samples of sample header `sample`; None if it cannot play (reported)."""
        if sample in self.sample_slots:
            return self.sample_slots[sample]
        hydra = self.hydra
        if sample >= len(hydra.samples) - 1:
            raise Sf2Error(f"{self.path}: {where} names sample {sample}; the bank has {len(hydra.samples) - 1}")
        header = hydra.samples[sample]
        name = _name(header.name)
        if header.type & _ROM:
            self.report(where, f"sample '{name}' is in a sound ROM, which the file does not hold; skipped",
                        ("rom", name))
            return None
        if not header.start < header.end <= hydra.sample_frames or header.rate == 0:
            self.report(where, f"sample '{name}' is corrupt (frames {header.start}..{header.end} at {header.rate} "
                               f"Hz; the sample chunk holds {hydra.sample_frames}); skipped", ("corrupt", name))
            return None
        if header.start <= header.loop_start < header.loop_end <= header.end:
            loop_start, loop_end = header.loop_start - header.start, header.loop_end - 1 - header.start
        else:
            loop_start = loop_end = ORIGINAL
        self.sample_slots[sample] = len(self.samples)
        self.samples.append(SampleSource(
            path=str(self.path),
            root_key=header.root_key if header.root_key <= 127 else 60,  # 255: unpitched
            loop_start=loop_start, loop_end=loop_end, tune=float(header.correction),
            raw=RawPcm(byte_offset=hydra.sample_data + 2 * header.start, frames=header.end - header.start,
                       sample_rate=header.rate)))
        return self.sample_slots[sample]


def _sustain_percent(centibels: int) -> float:
    """The volume envelope's sustain level: so many centibels down, 1000 (100 dB) and more being silence, as
    the specification has it (the note then ends with its decay)."""
    return 0.0 if centibels >= FULL_ATTENUATION else 100.0 * 10.0 ** (-centibels / 200.0)


def _seconds(timecents: int) -> float:
    return 2.0 ** (timecents / 1200.0)


def _delay(timecents: int) -> float:
    """A delay or a hold: its minimum, the specification's 1 ms, is none."""
    return 0.0 if timecents <= -12000 else _seconds(timecents)


def _hz(absolute_cents: int) -> float:
    return 8.176 * 2.0 ** (absolute_cents / 1200.0)
