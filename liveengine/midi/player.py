"""Playing a Standard MIDI File through one instrument, offline, as `fluidsynth -F` does.

Every channel message of the file becomes engine events on its exact sample: the file's tempo
map is worked out exactly (`midi.smf`) and each time rounded to the nearest sample. Each
MIDI channel gets engine instruments of its own, one for each preset it plays, so one channel's
pitch bend, volume and controllers never move another channel's notes.

Which instrument plays:
- an SFZ file plays on every channel that has notes (regions that name their channels with
  lochan/hichan only on those); each channel's program changes choose among regions that
  name programs with loprog/hiprog;
- a synth patch (a .toml file, or the name of a shipped patch such as "warm_pad") plays on every
  channel that has notes, whatever the program changes say; LFOs synced to beats follow the
  file's tempo at its start;
- an LV2 instrument (its URI): an instance of it on every channel that has notes; the plugin hears
  the channel's messages (program changes, controllers, pitch bend, aftertouch) and makes of them what
  it does, volume and expression included (the engine does not apply them again), and the render ends
  once the plugin's sound has died away;
- an SF2 bank: each channel plays the preset that its bank select and program changes choose,
  as FluidSynth does by default (its "gs" style): CC0 is the bank, CC32 is ignored, a new bank
  takes effect at the next program change, and channel 10 plays the drum bank (128 + CC0). A
  preset the bank lacks falls back as General MIDI players do: the same program in bank 0
  (drums: in bank 128), then program 0. Or one preset plays on every channel, whatever the
  program changes say (`preset`).

How the channel messages sound:
- volume (CC7) and expression (CC11) give the channel's gain, (cc7/127)² · (cc11/127)²: the
  curve of FluidSynth's default modulators (SF2 2.01 §8.4.5, §8.4.7: 960 cB, concave) and of
  sfizz's defaults. General MIDI starts every channel at volume 100, so at -4.1 dB;
- pan (CC10) places each note as it starts (a sounding note stays where it started);
- pitch bend spans each instrument's own range (an SF2 preset's ±2 semitones, General MIDI's
  default; an SFZ file's bend_up/bend_down) until RPN 0 (pitch bend sensitivity) sets one;
- the notes, the pedals (sustain, CC64; sostenuto, CC66), all notes off (CC123), all sound off
  (CC120) and reset all controllers (CC121) mean what `midi.channel` says, for keyboards and
  files alike; all sound off releases the notes into their release (the engine silences one
  channel no faster);
- every controller below 120 also reaches the channel's instruments (`Producer.controller`),
  so SFZ regions that follow one (the mod wheel, CC1, among them) move with it.

Memory: only the presets the file plays are loaded, and of their samples only a short head each;
before the chunk in which a note starts, the samples its key and velocity may play are read in
full (whatever round robin or controller picks among them), so a voice never waits for its sample
and the render is the same as with every sample preloaded whole.
"""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..instruments.patches import UnknownPatchError, synth_patch_path
from ..engine import BusLayout, Ending, Engine, EngineSettings, OfflineLoop, RingFullError, events
from ..levels import db_to_gain
from ..kernel.state import MAX_INSTRUMENTS
from ..instruments.library import SAMPLED_SUFFIXES, InstrumentError, read_sampled_instrument
from ..instruments.samples import SampleSizes, SampleStreamer, load_heads, sample_sizes
from ..instruments.sf2 import DRUM_BANK, Sf2Error, list_presets
from ..instruments.synth import PatchError, load_patch
from ..instruments.lv2 import PluginError, looks_like_uri
from .channel import BANK_SELECT, CENTRE, EXPRESSION, PAN, VOLUME, ChannelState
from .smf import MidiFileError, read_channel_messages

CHANNELS = 16
DRUM_CHANNEL = 9  # MIDI channel 10
TAIL_LIMIT_SECONDS = 10.0  # release tails after the file render until silence, at most this long
EVENTS_PER_CHUNK = 1 << 14  # ring and pending capacity: a whole orchestra's chord with its controllers
# Frames rendered in one call while the file plays: the Python around a call cost about what its silent blocks do
# at 1024 (measured, the sparse benchmark file 6 % faster in all at 4096). Each note's samples are read in full
# before the note is posted (below), so a chunk's length is nothing to them.
CHUNK_FRAMES = 4096
TAIL_CHUNK_FRAMES = 1024  # once the file has ended: the render stops within this of its tails' end
# Frames of each sample decoded at load. The file says which notes come, so each note's samples are
# read in full before it sounds: a head only checks that its sample reads, and unplayed samples
# cost next to nothing.
HEAD_FRAMES = 1024
PLUGIN_SILENCE = 10 ** (-100 / 20)  # a plugin's tail has died away below this peak


class PlayError(Exception):
    """A MIDI file or an instrument file that cannot be played; the message says which and why."""


def gm_substitutes(bank: int, program: int) -> tuple[tuple[int, int], ...]:
    """Where a General MIDI player looks for preset bank:program, in order (FluidSynth's rule)."""
    fallback_bank = DRUM_BANK if bank >= DRUM_BANK else 0
    return (bank, program), (fallback_bank, program), (fallback_bank, 0)


def preset_label(preset: tuple[int, int]) -> str:
    return f"{preset[0]:03d}:{preset[1]:03d}"


@dataclass
class Channel(ChannelState):
    """One MIDI channel of the file as it stands: its notes, pedals and controllers, and the preset
    it asks for."""

    number: int = 0  # 0-based
    preset: tuple[int, int] = (0, 0)  # (bank, program) its next notes ask for

    def __post_init__(self):
        self.preset = (self.drum_offset, 0)

    @property
    def drum_offset(self) -> int:
        return DRUM_BANK if self.number == DRUM_CHANNEL else 0

    def follow_program(self, message):
        """Take a bank select or program change."""
        if message.type == "program_change":  # the bank select takes effect here
            self.preset = (self.drum_offset + self.controllers[BANK_SELECT], message.program)
        elif message.type == "control_change" and message.control == BANK_SELECT:
            self.controllers[BANK_SELECT] = message.value

    @property
    def gain(self) -> float:
        return (self.controllers[VOLUME] / 127) ** 2 * (self.controllers[EXPRESSION] / 127) ** 2

    @property
    def pan_position(self) -> float:
        return max(-1.0, (self.controllers[PAN] - CENTRE) / CENTRE)


@dataclass
class LoadedPreset:
    """An instrument loaded for the channels that play it."""

    label: str  # "bank:program", or the SFZ file's name, or the synth patch as named
    name: str
    channels: list[int]  # 1-based
    regions: int | None  # None: a synth patch or a plugin
    problems: list[str]
    samples: SampleSizes | None = None  # what its samples take in memory; None: a synth patch or a plugin
    plugin: bool = False  # an LV2 instrument


class MidiPlayer:
    """An instrument loaded for the channels and presets of one MIDI file, rendered offline."""

    def __init__(self, patch, midi, *, sample_rate: int = 44100, block: int = 64, interpolation: str = "cubic",
                 polyphony: int = 512, gain_db: float = 0.0, preset: tuple[int, int] | None = None,
                 head_frames: int = HEAD_FRAMES):
        """`patch`: an SFZ file, an SF2 bank, or a synth patch (a .toml file or a shipped patch's name);
        `preset`: (bank, program) of an SF2 bank to play on every channel; `head_frames`: frames of
        each sample decoded at load (each note's samples are read in full before it sounds)."""
        try:
            self.messages, self.end_sample, self.tempo_bpm = read_channel_messages(midi, sample_rate)
        except MidiFileError as error:
            raise PlayError(str(error)) from None
        self.sample_rate = sample_rate
        self.block = block
        self.engine = Engine(EngineSettings(
            sample_rate=sample_rate, max_block=block, polyphony=polyphony, interpolation=interpolation,
            buses=(BusLayout("master", outputs=(0, 1), gain=db_to_gain(gain_db)),), input_rings=("control", "samples"),
            ring_capacity=EVENTS_PER_CHUNK, pending_capacity=EVENTS_PER_CHUNK))
        self.producer = self.engine.producer("control")
        self.streamer = SampleStreamer(self.engine, self.engine.producer("samples"))
        self.channels = [Channel(number=number) for number in range(CHANNELS)]
        self.presets: list[LoadedPreset] = []
        self.notices: list[str] = []  # presets substituted or missing
        self._instrument: dict[tuple[int, tuple[int, int]], int] = {}  # (channel, preset asked) -> instrument
        self._channel_instruments: list[list[int]] = [[] for _ in range(CHANNELS)]
        # Sampled engine instrument -> key -> (lowest velocity, highest, slot) of its regions on streamed samples.
        self._streamed: dict[int, list[list[tuple[int, int, int]]]] = {}
        self._next_note_id = 0
        self._plugins: set[int] = set()  # engine instruments that are LV2 plugins
        self._last_peak = 0.0  # of the last chunk rendered
        suffix = Path(patch).suffix.lower()
        if looks_like_uri(str(patch)):
            self._load_plugin(str(patch), preset)
        elif suffix in SAMPLED_SUFFIXES:
            self._load_sampled(Path(patch), preset, head_frames)
        elif suffix in ("", ".toml"):
            self._load_synth(str(patch), preset)
        else:
            raise PlayError(f"{patch}: not an instrument the engine plays: an SFZ file, an SF2 bank, a synth "
                            "patch (a .toml file, or a shipped patch's name such as warm_pad), or an LV2 "
                            "instrument's URI")

    # Loading.

    def _presets_asked(self) -> set[tuple[int, tuple[int, int]]]:
        """(channel, preset) of every note of the file, following its program changes."""
        channels = [Channel(number=number) for number in range(CHANNELS)]
        asked = set()
        for timed in self.messages:
            channel = channels[timed.message.channel]
            channel.follow_program(timed.message)
            if timed.message.type == "note_on" and timed.message.velocity > 0:
                asked.add((channel.number, channel.preset))
        return asked

    def _choose_presets(self, patch: Path, preset, asked: set) -> dict[tuple[int, int], tuple[int, int]]:
        """The preset that plays each preset asked for (an SFZ file's one instrument is 0:0); one
        asked for that nothing plays is left out."""
        if patch.suffix.lower() != ".sf2":
            if preset is not None:
                raise PlayError(f"{patch}: a bank and program choose a preset of an SF2 bank, not of {patch.suffix}")
            return {wanted: (0, 0) for _, wanted in asked}
        try:
            names = {(p.bank, p.program): p.name for p in list_presets(patch)}
        except Sf2Error as error:
            raise PlayError(str(error)) from None
        if preset is not None:
            if preset not in names:
                raise PlayError(f"{patch}: no preset {preset_label(preset)}")
            return {wanted: preset for _, wanted in asked}
        chosen = {}
        for channel, wanted in sorted(asked):
            found = next((candidate for candidate in gm_substitutes(*wanted) if candidate in names), None)
            if found is None:
                self.notices.append(f"channel {channel + 1}: the bank has no preset {preset_label(wanted)} nor a "
                                    "General MIDI substitute: its notes are silent")
                continue
            if found != wanted and wanted not in chosen:
                self.notices.append(f"the bank has no preset {preset_label(wanted)}: {preset_label(found)} "
                                    f"{names[found]} plays it (General MIDI's rule)")
            chosen[wanted] = found
        return chosen

    def _load_sampled(self, patch: Path, preset, head_frames: int):
        if not patch.is_file():
            raise PlayError(f"instrument file not found: {patch}")
        asked = self._presets_asked()
        chosen = self._choose_presets(patch, preset, asked)
        players: dict[tuple[int, int], dict[int, list[tuple[int, int]]]] = {}  # preset -> channel -> asked for
        for channel, wanted in sorted(asked):
            if wanted in chosen:
                players.setdefault(chosen[wanted], {}).setdefault(channel, []).append(wanted)
        if sum(len(channels) for channels in players.values()) > MAX_INSTRUMENTS:
            raise PlayError(f"the file plays more than {MAX_INSTRUMENTS} presets on its channels together, "
                            "the most the engine holds")
        for key, channels in players.items():
            try:
                instrument = read_sampled_instrument(patch, *key)
            except InstrumentError as error:
                raise PlayError(str(error)) from None
            loaded = load_heads(instrument, head_frames, pool=self.engine.samples)
            label = preset_label(key) if patch.suffix.lower() == ".sf2" else patch.name
            self.presets.append(LoadedPreset(label, instrument.name, [channel + 1 for channel in channels],
                                             len(instrument.regions), instrument.problems, sample_sizes([loaded])))
            for channel, asked_for in channels.items():
                index = self._install_sampled(instrument, loaded, channel, label)
                for wanted in asked_for:
                    self._instrument[(channel, wanted)] = index

    def _load_synth(self, name: str, preset):
        """One synth patch for every channel that has notes: one engine instrument each."""
        if preset is not None:
            raise PlayError(f"{name}: a bank and program choose a preset of an SF2 bank, not of a synth patch")
        try:
            patch = load_patch(synth_patch_path(name, Path(".")))
        except (PatchError, UnknownPatchError) as error:
            raise PlayError(str(error)) from None
        asked = self._presets_asked()
        channels = sorted({channel for channel, _ in asked})  # at most 16: the engine holds them all
        self.presets.append(LoadedPreset(name, patch.name, [channel + 1 for channel in channels], None, []))
        indices = {}
        for channel in channels:
            indices[channel] = self._next_index()
            self.engine.install_synth(indices[channel], patch, tempo_bpm=self.tempo_bpm)
            self._join(indices[channel], channel, name, set_controllers={})
        for channel, wanted in asked:
            self._instrument[(channel, wanted)] = indices[channel]

    def _load_plugin(self, uri: str, preset):
        """An instance of the LV2 instrument `uri` for every channel that has notes."""
        if preset is not None:
            raise PlayError(f"{uri}: a bank and program choose a preset of an SF2 bank, not of an LV2 plugin")
        channels = sorted({channel for channel, _ in self._presets_asked()})
        name = uri
        for channel in channels:
            index = self._next_index()
            try:
                column = self.engine.install_plugin_instrument(index, uri, bus="master")
            except PluginError as error:
                raise PlayError(str(error)) from None
            name = self.engine.plugins.instances[column].description.name
            self._plugins.add(index)
            self._join(index, channel, uri, set_controllers={})
            for wanted in {wanted for asked_channel, wanted in self._presets_asked() if asked_channel == channel}:
                self._instrument[(channel, wanted)] = index
        self.presets.append(LoadedPreset(uri, name, [channel + 1 for channel in channels], None, [], plugin=True))

    def _next_index(self) -> int:
        return sum(len(instruments) for instruments in self._channel_instruments)

    def _install_sampled(self, instrument, loaded, channel: int, label: str) -> int:
        """Install `instrument` (`label`) as the next engine instrument, for `channel` as it stands."""
        index = self._next_index()
        answering = replace(instrument, regions=[region for region in instrument.regions
                                                 if region.lochan <= channel + 1 <= region.hichan])
        try:
            slots = self.engine.install_sampler(index, answering, loaded.samples)
        except ValueError as error:  # beyond the engine's samples or regions
            raise PlayError(str(error)) from None
        self.streamer.add(loaded, slots)
        self._streamed[index] = by_key = [[] for _ in range(128)]
        for region in answering.regions:
            if region.sample >= 0 and slots[region.sample] in self.streamer.sources:
                for key in range(region.lokey, region.hikey + 1):
                    by_key[key].append((region.lovel, region.hivel, slots[region.sample]))
        self._join(index, channel, label, set_controllers=instrument.controllers)
        return index

    def _join(self, index: int, channel: int, label: str, set_controllers):
        """Engine instrument `index` (`label`) plays for `channel` from here on, starting where the
        channel stands (but for the controllers in `set_controllers`, which the instrument file sets)."""
        self._channel_instruments[channel].append(index)
        self.engine.instrument_names[index] = f"{label} on channel {channel + 1}"
        state = self.channels[channel]
        self.engine.instrument_gain(index, 1.0 if index in self._plugins else state.gain)
        for number, value in ((VOLUME, state.controllers[VOLUME]), (PAN, state.controllers[PAN]),
                              (EXPRESSION, state.controllers[EXPRESSION])):
            if number not in set_controllers:
                self.producer.controller(index, number, value / 127, sample=0)

    # Playing.

    def render(self, seconds: float | None = None, chunk_frames: int = CHUNK_FRAMES) -> Iterator[np.ndarray]:
        """The performance in chunks of up to `chunk_frames`, each (frames, 2) float32 and valid until
        the next: the file, then its release tails until they end (at most TAIL_LIMIT_SECONDS) in chunks of
        up to TAIL_CHUNK_FRAMES, or `seconds` of it. A chunk's events are posted before it renders, at their
        samples, and the kernel renders the chunk in one call."""
        loop = OfflineLoop(self.engine, self.block, step_frames=chunk_frames, streamer=self.streamer)
        self.producer.drain = loop.drain  # a chunk's events beyond the ring go straight to the pending set
        waiting = deque(self.messages)
        ended = False

        def post_chunk(start: int, end: int):
            nonlocal ended
            try:
                self.producer.flush()  # what the pending set had no room for, as it has now
                while waiting and waiting[0].sample < end:
                    timed = waiting.popleft()
                    self._play(timed.message, timed.sample)
                if not ended and not waiting and self.end_sample < end:
                    self._release_everything(max(start, self.end_sample))
                    ended = True
            except RingFullError:
                raise PlayError(f"more than {EVENTS_PER_CHUNK} events in {chunk_frames} frames") from None

        if seconds is not None:
            return loop.run(round(seconds * self.sample_rate), before_step=post_chunk)
        ending = Ending(finished=lambda: self.end_sample if ended else None, quiet=self._quiet,
                        tail_limit_seconds=TAIL_LIMIT_SECONDS)
        chunks = self._file_then_tails(loop, post_chunk, ending, min(chunk_frames, TAIL_CHUNK_FRAMES))
        return self._peaks(chunks) if self._plugins else chunks

    def _file_then_tails(self, loop: OfflineLoop, post_chunk, ending: Ending, tail_frames: int) -> Iterator[np.ndarray]:
        """The file in the loop's chunks up to the first multiple of `tail_frames` after its end, then the tails
        in chunks of `tail_frames`, the ending asked after each."""
        yield from loop.run((self.end_sample // tail_frames + 1) * tail_frames, before_step=post_chunk)
        loop.step_frames = tail_frames
        yield from loop.run(before_step=post_chunk, ending=ending)

    def _peaks(self, chunks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """The chunks, each one's peak kept for `_quiet` (which the loop asks once the chunk is taken): LV2
        instruments' sound outlasts their notes."""
        for chunk in chunks:
            self._last_peak = float(np.abs(chunk).max()) if chunk.size else 0.0
            yield chunk

    def _quiet(self, telemetry) -> bool:
        """Every voice has ended; with LV2 instruments, whose notes end before their sound does, the sound
        too (the last chunk below PLUGIN_SILENCE)."""
        return telemetry.voices == 0 and (not self._plugins or self._last_peak < PLUGIN_SILENCE)

    def _play(self, message, sample: int):
        channel = self.channels[message.channel]
        kind = message.type
        if kind == "note_on" and message.velocity > 0:
            self._note_on(channel, message.note, message.velocity, sample)
        elif kind in ("note_on", "note_off"):
            self._release(channel.lift(message.note), sample)
        elif kind == "control_change":
            self._control(channel, message.control, message.value, sample)
        elif kind == "program_change":
            channel.follow_program(message)
            for instrument in self._channel_instruments[channel.number]:
                self.producer.program_change(instrument, message.program, sample=sample)
        elif kind == "pitchwheel":
            channel.bend = message.pitch
            self._bend(channel, sample)

    def _note_on(self, channel: Channel, key: int, velocity: int, sample: int):
        instrument = self._instrument.get((channel.number, channel.preset))
        if instrument is None:  # a preset the bank has no substitute for
            self._release(channel.strike(key, []), sample)
            return
        self._read_ahead(instrument, key, velocity)
        self._next_note_id = self._next_note_id % events.LIVE_NOTE_IDS + 1
        self._release(channel.strike(key, [self._next_note_id]), sample)
        self.producer.note_on(sample, self._next_note_id, instrument, key, velocity / 127, "master",
                              pan=channel.pan_position)

    def _read_ahead(self, instrument: int, key: int, velocity: int):
        """Read in full, now, before the chunk of the note renders, every streamed sample a region of
        `instrument` may play for it (whatever its other conditions): its voice never waits for one."""
        regions = self._streamed.get(instrument)
        for lowest, highest, slot in regions[key] if regions is not None else ():
            if lowest <= velocity <= highest:
                self.streamer.read_in_full(slot)

    def _release(self, notes: list[int], sample: int):
        for note_id in notes:
            self.producer.note_off(sample, note_id)

    def _release_everything(self, sample: int):
        for channel in self.channels:
            self._release(channel.silence(), sample)

    def _control(self, channel: Channel, number: int, value: int, sample: int):
        change = channel.control(number, value)
        self._release(change.released, sample)
        for number, value in change.controllers:
            for instrument in self._channel_instruments[channel.number]:
                self.producer.controller(instrument, number, value / 127, sample=sample)
            if number in (VOLUME, EXPRESSION):
                self._gain(channel, sample)
        if change.bend_range_moved:
            for instrument in self._channel_instruments[channel.number]:
                self.producer.instrument_parameter(instrument, "bend_range", channel.bend_range, sample=sample)
        if change.bend_moved:
            self._bend(channel, sample)

    def _gain(self, channel: Channel, sample: int):
        for instrument in self._channel_instruments[channel.number]:
            if instrument not in self._plugins:  # a plugin follows volume and expression itself
                self.producer.instrument_parameter(instrument, "gain", channel.gain, sample=sample)

    def _bend(self, channel: Channel, sample: int):
        for instrument in self._channel_instruments[channel.number]:
            self.producer.instrument_parameter(instrument, "pitch_bend", channel.wheel, sample=sample)
