"""The rig for one show: an engine laid out and loaded as its show file says.

This is where show-file units (dB, ms, 1-based channel numbers, instrument names)
become engine units (linear gains, seconds, indices); nothing else converts them.
"""

from collections import Counter
from dataclasses import dataclass, field, replace

from .model import ShowConfig
from ..engine import CUE_TEMPLATE_ROWS, BusLayout, Engine, EngineSettings, TimecodeInput, TimecodeMaster
from ..levels import db_to_gain
from ..instruments.library import InstrumentError, read_sampled_instrument
from ..instruments.samples import LoadedInstrument, SampleStreamer, load_heads, progress_bar
from ..instruments.synth import PatchError, load_patch
from ..instruments.lv2 import PluginError
from .sequence import click_sequence, first_instant, part_sequence


@dataclass(frozen=True)
class AudioOverrides:
    """Audio settings given on the command line, which win over the show file."""

    device: str | int | None = None
    sample_rate: int | None = None
    block_size: int | None = None
    output_channels: int | None = None
    input_channels: int | None = None


@dataclass
class Rig:
    show: ShowConfig
    engine: Engine
    block_size: int
    device: str | int | None
    instrument_numbers: dict[str, int]
    streamer: SampleStreamer
    # What loading the sampled instruments found (missing samples, ignored opcodes), per instrument.
    instrument_problems: dict[str, list[str]] = field(default_factory=dict)
    # The sampled instruments as loaded, by name: their samples' heads (for what they take in memory).
    sampled: dict[str, LoadedInstrument] = field(default_factory=dict)
    # What went wrong installing the buses' LV2 inserts, by bus and position ("keys insert 2").
    insert_problems: dict[str, list[str]] = field(default_factory=dict)
    latency_samples: int = 0  # of the whole output, from the inserts' latencies (engine/latency.py)


def ring_capacity(show: ShowConfig) -> int:
    """Room in each event ring for the most the show's keyboards post at one instant: every key of
    every keyboard through the most layers of its setups, struck and released (a sustain pedal lifting
    over all of them). At least EngineSettings' own; a power of two, as rings are."""
    layers = len(show.keyboards) * max((len(setup.layers) for setup in show.setups.values()), default=0)
    events = 2 * 128 * layers
    return max(EngineSettings.ring_capacity, 1 << max(0, events - 1).bit_length())


def cue_capacities(show: ShowConfig, sample_rate: int) -> tuple[int, int]:
    """(rows each cue's template needs, at least CUE_TEMPLATE_ROWS; events the show's parts and clicks
    may post for one instant). A template holds its cue's actions and the whole first instant of
    what it starts (no cue list: one cue starting everything); the busiest instants of every part
    and click together must fit the pending set, so that none of them waits for a block to come."""
    sequences = [part_sequence(show, part, 0, 0, sample_rate) for part in show.parts]
    sequences += [click_sequence(show, click, 0, 0, sample_rate) for click in show.clicks.values()]
    by_name = {sequence.name: sequence for sequence in sequences}
    cues = [(len(cue.actions), [by_name[action.target] for action in cue.actions
                                if action.verb == "start" and action.target in by_name]) for cue in show.cues]
    rows = max(actions + first_instant(started) for actions, started in cues or [(len(sequences), sequences)])
    busiest = sum(max(Counter(event.sample for event in sequence.events).values(), default=0)
                  for sequence in sequences)
    return max(CUE_TEMPLATE_ROWS, rows), busiest


def build_rig(show: ShowConfig, overrides: AudioOverrides = AudioOverrides(), show_progress: bool = False) -> Rig:
    """The engine of `show`, its instruments installed (sampled ones with their heads loaded;
    `show_progress`: a progress line per library on stderr)."""
    audio = replace(show.audio, **{k: v for k, v in vars(overrides).items() if v is not None})
    buses = tuple(BusLayout(name=bus.name, outputs=bus.outputs, feeds=bus.feeds, gain=db_to_gain(bus.gain_db),
                            muted=bus.mute) for bus in show.buses.values())
    rate = show.timecode.rate
    timecode = master = None
    if show.timecode.source == "none":
        # The engine is the timecode master: its own timecode runs at the show's rate from sample 0.
        master = TimecodeMaster(fps=rate.fps_ratio, drop_frame=rate.drop_frame, start=show.timecode.master_start.fields,
                                ltc_channel=show.timecode.ltc_output)
    else:
        # LTC comes on an input channel; MTC frames are posted by the MIDI input (channel None).
        timecode = TimecodeInput(channel=show.timecode.input if show.timecode.source == "ltc" else None,
                                 fps=rate.fps_ratio, drop_frame=rate.drop_frame,
                                 freewheel_seconds=show.timecode.freewheel_seconds,
                                 follow_speed=show.timecode.follow_speed)
    rings = ring_capacity(show)
    template_rows, busiest = cue_capacities(show, audio.sample_rate)
    settings = EngineSettings(
        sample_rate=audio.sample_rate, max_block=audio.block_size, output_channels=audio.output_channels,
        input_channels=audio.input_channels, polyphony=audio.voices, buses=buses,
        limiter_ceiling=db_to_gain(audio.limiter_ceiling_db), timecode=timecode, timecode_master=master,
        interpolation=audio.interpolation,
        stems=len(show.stems), ring_capacity=rings, cue_template_rows=template_rows,
        # Room for a full keyboard ring, a cue's template firing and the parts' busiest instants at once.
        pending_capacity=EngineSettings.pending_capacity + rings + template_rows + busiest)
    latency = None
    if audio.scheduling_latency_ms is not None:
        latency = round(audio.scheduling_latency_ms * audio.sample_rate / 1000)
    engine = Engine(settings, scheduling_latency_samples=latency)
    numbers = {}
    streamer = SampleStreamer(engine, engine.producer("samples"), budget_bytes=audio.sample_memory_mb << 20)
    problems: dict[str, list[str]] = {}
    sampled_instruments: dict[str, LoadedInstrument] = {}
    for number, instrument in enumerate(show.instruments.values()):
        numbers[instrument.name] = number
        engine.instrument_names[number] = instrument.name
        if instrument.type == "tone":
            engine.install_tone(number, attack_seconds=instrument.attack_ms / 1000,
                                release_seconds=instrument.release_ms / 1000, gain=db_to_gain(instrument.gain_db))
            continue
        if instrument.type == "lv2":
            plugin = instrument.plugin
            try:
                engine.install_plugin_instrument(number, plugin.uri, preset=plugin.preset,
                                                 controls=dict(plugin.controls), bus="keys")
            except PluginError as error:
                problems[instrument.name] = [f"{error}: the instrument is left out, its notes are refused"]
                continue
            engine.instrument_gain(number, db_to_gain(instrument.gain_db))
            continue
        if instrument.type == "synth":
            try:
                engine.install_synth(number, load_patch(instrument.file), tempo_bpm=show.tempo_bpm)
            except PatchError as error:
                problems[instrument.name] = [*error.problems, "the instrument is left out, its notes are refused"]
                continue
            engine.instrument_gain(number, db_to_gain(instrument.gain_db))
            continue
        try:
            sampled = read_sampled_instrument(instrument.file, instrument.bank, instrument.program)
        except InstrumentError as error:
            problems[instrument.name] = [f"{error}: the instrument is left out, its notes are refused"]
            continue
        loaded = load_heads(sampled, audio.sample_preload_frames,
                            progress=progress_bar(instrument.name) if show_progress else None, pool=engine.samples)
        slots = engine.install_sampler(number, sampled, loaded.samples)
        engine.instrument_gain(number, db_to_gain(instrument.gain_db))
        streamer.add(loaded, slots)
        sampled_instruments[instrument.name] = loaded
        if sampled.problems:
            problems[instrument.name] = sampled.problems
    insert_problems: dict[str, list[str]] = {}
    latency = _install_inserts(show, engine, insert_problems)
    budget = audio.sample_memory_mb << 20
    preloaded = engine.samples.head_bytes  # each sample's head once, however many instruments play it
    if preloaded > budget:
        problems["samples"] = [f"the preloaded starts of every sample take {preloaded >> 20} MB, more than "
                               f"[audio] sample_memory_mb = {audio.sample_memory_mb}: long samples will not "
                               f"stay in memory between notes; lower sample_preload_frames or raise the budget"]
    streamer.budget_bytes = max(0, budget - preloaded)  # what streamed samples may hold beside the preloads
    return Rig(show, engine, audio.block_size, audio.device, numbers, streamer, problems, sampled_instruments,
               insert_problems, latency)


def _install_inserts(show: ShowConfig, engine: Engine, problems: dict[str, list[str]]) -> int:
    """Each bus's LV2 inserts, in order (one that cannot be hosted is left out, and said so), and the delays
    that keep the buses aligned; returns the latency of the whole output, in samples."""
    for bus in show.buses.values():
        for number, insert in enumerate(bus.inserts, 1):
            try:
                engine.install_insert(bus.name, insert.uri, preset=insert.preset, controls=dict(insert.controls),
                                      bypassed=insert.bypass)
            except PluginError as error:
                problems[f"{bus.name} insert {number}"] = [f"{error}: the bus plays on without it"]
    if not any(bus.inserts for bus in show.buses.values()):
        return 0
    try:
        return engine.compensate_latency()
    except ValueError as error:
        problems["latency"] = [f"{error}: the buses play uncompensated"]
        return 0

