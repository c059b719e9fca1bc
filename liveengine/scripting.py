"""The scripting face of liveengine: an engine to load instruments into, play notes on at given
times, render offline or play live; a MIDI file rendered through one instrument; a show rendered.

Everything here speaks as a musician's tools do: seconds, MIDI keys, velocities and controller
values (0-127), pitch bend (-8192..8191), decibels. Sample slots, note ids, rings and event kinds
are the engine's business. A bad argument raises a ValueError that says which and why.
"""

import concurrent.futures
import contextlib
import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from .instruments.patches import UnknownPatchError, synth_patch_path
from .kernel.state import SAMPLE_RATES
from .show.reader import ShowFileError, load_show
from .drivers.devices import AudioDeviceError
from .engine import (BusLayout, EngineSettings, NotificationPump, OfflineLoop, OutputFileError, collect_audio, events,
                     write_audio)
from .levels import db_to_gain
from .engine import Engine as InternalEngine  # the kernel's Python face, which this Engine drives
from .instruments.library import SAMPLED_SUFFIXES, InstrumentError, read_sampled_instrument
from .instruments.samples import SampleStreamer, load_heads
from .instruments.sf2 import Sf2Error, list_presets
from .instruments.synth import PatchError, load_patch
from .kernel.state import MAX_INSTRUMENTS

RENDER_STEP_FRAMES = 1024  # frames rendered in one call into the kernel: events are posted ahead, on their samples
EVENT_CAPACITY = 1 << 14  # events at one instant (ring and the kernel's pending set)
START_TIMEOUT_SECONDS = 5.0


def _midi_value(what: str, value, low: int = 0, high: int = 127) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ValueError(f"{what} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


class Instrument:
    """An instrument loaded into an Engine: play it with MIDI keys, velocities and controllers.

    `at` is a time in seconds on the engine's timeline (0: the first sample it renders or plays);
    None means now: offline, where the next render starts; live, the moment of the call plus the
    engine's scheduling latency."""

    def __init__(self, engine: "Engine", index: int, name: str):
        self.engine = engine
        self.name = name
        self._index = index
        self._sounding: dict[int, list[tuple[int, int]]] = {}  # key -> (start sample, note id) of its notes

    def __repr__(self) -> str:
        return f"<liveengine.Instrument {self.name!r}>"

    def note_on(self, key: int, velocity: int = 100, at: float | None = None):
        """Start a note: `key` 0-127 (60 is middle C), `velocity` 1-127."""
        key = _midi_value("key", key)
        velocity = _midi_value("velocity", velocity, 1, 127)
        sample = self.engine._sample(at)
        note_id = self.engine._next_note_id()
        self._sounding.setdefault(key, []).append((sample, note_id))
        self.engine._post(sample, lambda producer: producer.note_on(sample, note_id, self._index, key,
                                                                    velocity / 127, "master"))

    def note_off(self, key: int, at: float | None = None):
        """Release the notes `key` sounds (those started by then): they fade as their release says."""
        key = _midi_value("key", key)
        sample = self.engine._sample(at)
        self._release(key, sample)

    def all_notes_off(self, at: float | None = None):
        """Release every note this instrument sounds (started by then)."""
        sample = self.engine._sample(at)
        for key in list(self._sounding):
            self._release(key, sample)

    def control_change(self, control: int, value: int, at: float | None = None):
        """Move controller `control` (0-119) to `value` (0-127): the regions and parameters that follow it move."""
        control = _midi_value("controller", control, 0, 119)
        value = _midi_value("controller value", value)
        sample = self.engine._sample(at)
        self.engine._post(sample, lambda producer: producer.controller(self._index, control, value / 127, sample))

    def pitch_bend(self, value: int, at: float | None = None):
        """Bend the pitch: `value` -8192..8191 (0: none), over the instrument's own bend range."""
        value = _midi_value("pitch bend", value, -8192, 8191)
        sample = self.engine._sample(at)
        self.engine._post(sample, lambda producer: producer.instrument_parameter(self._index, "pitch_bend",
                                                                                 value / 8192, sample))

    def program_change(self, program: int, at: float | None = None):
        """Choose among an SFZ file's regions that name programs (loprog/hiprog)."""
        program = _midi_value("program", program)
        sample = self.engine._sample(at)
        self.engine._post(sample, lambda producer: producer.program_change(self._index, program, sample))

    def set_gain(self, db: float, at: float | None = None):
        """The instrument's level in dB (in place of the `gain_db` it was loaded with)."""
        gain = db_to_gain(_finite("gain", db))
        sample = self.engine._sample(at)
        self.engine._post(sample, lambda producer: producer.instrument_parameter(self._index, "gain", gain, sample))

    def _release(self, key: int, sample: int):
        notes = self._sounding.get(key, [])
        started = [note_id for start, note_id in notes if start <= sample]
        self._sounding[key] = [(start, note_id) for start, note_id in notes if start > sample]
        if not self._sounding[key]:
            del self._sounding[key]
        for note_id in started:
            self.engine._post(sample, lambda producer, note_id=note_id: producer.note_off(sample, note_id))


def _finite(what: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


class _SampleReader:
    """The sample streamer on one thread of its own, offline and live alike (its producer has one
    thread): offline `serve_requests()` reads what the last step asked for and returns when done; live
    it serves on that thread between `start()` and `stop()`."""

    def __init__(self, streamer: SampleStreamer):
        self.streamer = streamer
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="liveengine-samples")
        self._stop = threading.Event()
        self._serving: concurrent.futures.Future | None = None

    def serve_requests(self):
        self._thread.submit(self.streamer.serve_requests).result()

    def start(self):
        self._stop.clear()
        self._serving = self._thread.submit(self._serve_until_stopped)

    def _serve_until_stopped(self):
        while not self._stop.is_set():
            self.streamer.serve(wait_seconds=0.05)

    def stop(self):
        self._stop.set()
        self._serving.result()


class Engine:
    """An audio engine: instruments loaded, notes scheduled, audio rendered offline through the same
    kernel that plays live, or played live on an audio device.

    The master bus sits on outputs 1-2 of `outputs`. Offline renders and live plays continue one
    timeline: a render after a play starts where the play stopped."""

    def __init__(self, sample_rate: int = 48000, *, block_size: int = 256, outputs: int = 2,
                 polyphony: int = 256, gain_db: float = 0.0, interpolation: str = "cubic"):
        if sample_rate not in SAMPLE_RATES:
            raise ValueError(f"sample_rate must be one of {', '.join(map(str, SAMPLE_RATES))}, got {sample_rate!r}")
        _midi_value("block_size", block_size, 32, 1024)
        _midi_value("outputs", outputs, 2, 64)
        _midi_value("polyphony", polyphony, 1, 4096)
        if interpolation not in ("cubic", "linear"):
            raise ValueError(f"interpolation must be 'cubic' or 'linear', got {interpolation!r}")
        settings = EngineSettings(
            sample_rate=sample_rate, max_block=block_size, output_channels=outputs, polyphony=polyphony,
            buses=(BusLayout("master", outputs=(0, 1), gain=db_to_gain(_finite("gain_db", gain_db))),),
            input_rings=("control", "samples"), interpolation=interpolation,
            ring_capacity=EVENT_CAPACITY, pending_capacity=EVENT_CAPACITY)
        self._engine = InternalEngine(settings)
        self._producer = self._engine.producer("control")
        self._samples = _SampleReader(SampleStreamer(self._engine, self._engine.producer("samples")))
        self.instruments: list[Instrument] = []
        self._note_ids = itertools.cycle(range(1, events.LIVE_NOTE_IDS + 1))  # group 0: cues play in groups of their own
        self._scheduled: list[tuple[int, int, Callable]] = []  # offline: (sample, order, post) not yet posted
        self._order = itertools.count()
        self._loop: OfflineLoop | None = None
        self._live = False  # playing live now

    def __repr__(self) -> str:
        return f"<liveengine.Engine {self.sample_rate} Hz, {len(self.instruments)} instruments>"

    @property
    def sample_rate(self) -> int:
        return self._engine.settings.sample_rate

    @property
    def block_size(self) -> int:
        return self._engine.settings.max_block

    @property
    def outputs(self) -> int:
        return self._engine.settings.output_channels

    @property
    def time(self) -> float:
        """Seconds rendered or played so far: where `at=None` falls offline."""
        return self._engine.position / self.sample_rate

    def load(self, source: str | Path, *, bank: int | None = None, program: int | None = None,
             gain_db: float = 0.0) -> Instrument:
        """Load an instrument: an SFZ file, preset `bank`:`program` of an SF2 bank (default 0:0), or
        a synth patch (a .toml file, or the name of a shipped patch such as "warm_pad")."""
        if self._live:
            raise RuntimeError("load instruments before play(), not while the engine plays live")
        if len(self.instruments) >= MAX_INSTRUMENTS:
            raise ValueError(f"too many instruments: an engine holds {MAX_INSTRUMENTS}")
        gain = db_to_gain(_finite("gain_db", gain_db))
        path = Path(source)
        index = len(self.instruments)
        if path.suffix.lower() in SAMPLED_SUFFIXES:
            name = self._load_sampled(index, path, bank, program)
        elif path.suffix.lower() in ("", ".toml"):
            if bank is not None or program is not None:
                raise ValueError(f"{source}: bank and program choose a preset of an SF2 bank, not of a synth patch")
            name = self._load_synth(index, str(source))
        else:
            raise ValueError(f"{source}: not an instrument the engine plays: an SFZ file, an SF2 bank, or a "
                             "synth patch (a .toml file, or a shipped patch's name such as warm_pad)")
        self._engine.instrument_names[index] = name
        self._engine.instrument_gain(index, gain)
        instrument = Instrument(self, index, name)
        self.instruments.append(instrument)
        return instrument

    def _load_sampled(self, index: int, path: Path, bank: int | None, program: int | None) -> str:
        if not path.is_file():
            raise ValueError(f"instrument file not found: {path}")
        if path.suffix.lower() == ".sfz" and (bank is not None or program is not None):
            raise ValueError(f"{path}: bank and program choose a preset of an SF2 bank, not of an SFZ file")
        bank = _midi_value("bank", 0 if bank is None else bank, 0, 128)
        program = _midi_value("program", 0 if program is None else program)
        if path.suffix.lower() == ".sf2":
            try:
                presets = {(preset.bank, preset.program) for preset in list_presets(path)}
            except Sf2Error as error:
                raise ValueError(str(error)) from None
            if (bank, program) not in presets:
                raise ValueError(f"{path}: no preset {bank:03d}:{program:03d}")
        try:
            instrument = read_sampled_instrument(path, bank, program)
        except InstrumentError as error:
            raise ValueError(str(error)) from None
        loaded = load_heads(instrument, pool=self._engine.samples)
        slots = self._engine.install_sampler(index, instrument, loaded.samples)
        self._samples.streamer.add(loaded, slots)
        return instrument.name

    def _load_synth(self, index: int, name: str) -> str:
        try:
            path = synth_patch_path(name, Path("."))
            if not path.is_file():
                raise ValueError(f"synth patch file not found: {path}")
            patch = load_patch(path)
        except UnknownPatchError as error:
            raise ValueError(str(error)) from None
        except PatchError as error:
            raise ValueError("\n".join(error.problems)) from None
        self._engine.install_synth(index, patch)
        return patch.name

    def set_gain(self, db: float, at: float | None = None, fade_seconds: float = 0.0):
        """The master bus's level in dB, reached over `fade_seconds`."""
        gain = db_to_gain(_finite("gain", db))
        fade = _finite("fade_seconds", fade_seconds)
        if fade < 0:
            raise ValueError(f"fade_seconds must not be negative, got {fade_seconds!r}")
        sample = self._sample(at)
        self._post(sample, lambda producer: producer.bus_gain("master", gain, fade, sample))

    def all_notes_off(self, at: float | None = None):
        """Release every note of every instrument."""
        for instrument in self.instruments:
            instrument.all_notes_off(at)

    def render(self, seconds: float) -> np.ndarray:
        """The next `seconds` of the engine's timeline, rendered offline through the kernel that plays
        live: a (frames, outputs) float32 array. Each render continues where the last ended."""
        seconds = _finite("seconds", seconds)
        if seconds <= 0:
            raise ValueError(f"seconds must be positive, got {seconds:g}")
        if self._live:
            raise RuntimeError("render() while the engine plays live: render after the `with engine.play()` block")
        if self._loop is None:
            self._loop = OfflineLoop(self._engine, self.block_size, step_frames=RENDER_STEP_FRAMES,
                                     streamer=self._samples)
            self._producer.drain = self._loop.drain
        frames = round(seconds * self.sample_rate)
        return collect_audio(self._loop.run(frames, before_step=self._post_due), self.outputs, frames)

    @contextlib.contextmanager
    def play(self, device: str | int | None = None) -> Iterator["Engine"]:
        """Play live on an audio `device` (a name substring or an index; None: the default output)
        while the `with` block runs: notes given `at=None` sound now, plus the scheduling latency."""
        from .drivers.devices import choose_device
        from .drivers.stream import LiveStream
        if self._live:
            raise RuntimeError("the engine already plays")
        stream = LiveStream(self._engine.state, choose_device(device, self.outputs, 0), self.block_size)
        self._post_due(0, math.inf)  # what was scheduled offline, in the ring before the stream's first block
        with contextlib.ExitStack() as stack:
            # The audio thread alone drains the rings while it runs (offline, a full ring is drained here).
            stack.callback(setattr, self._producer, "drain", self._producer.drain)
            self._producer.drain = None
            stream.start()
            stack.callback(stream.close)
            stack.enter_context(NotificationPump(self._engine))
            self._samples.start()
            stack.callback(self._samples.stop)
            started = time.monotonic()
            while not self._engine.clock.running:
                if time.monotonic() - started > START_TIMEOUT_SECONDS:
                    raise AudioDeviceError(f"the audio stream on {stream.device.name!r} started, but its "
                                           "callback is not being called")
                time.sleep(0.005)
            self._live = True
            stack.callback(setattr, self, "_live", False)
            yield self

    def _next_note_id(self) -> int:
        return next(self._note_ids)

    def _sample(self, at: float | None) -> int:
        """The sample at which `at` falls; a time already rendered or played is refused."""
        if at is None:
            if self._live:
                return self._engine.clock.sample_for_arrival(time.monotonic_ns())
            return self._engine.position
        at = _finite("at", at)
        sample = round(at * self.sample_rate)
        position = self._engine.position
        if sample < position:
            done = "played" if self._live else "rendered"
            raise ValueError(f"at={at:g} s is in the past: the engine has {done} {position / self.sample_rate:g} s")
        return sample

    def _post(self, sample: int, post: Callable):
        if self._live:
            post(self._producer)
        else:
            heapq.heappush(self._scheduled, (sample, next(self._order), post))

    def _post_due(self, start: int, end: int):
        """Offline, before a step of frames [start, end): post what falls in it."""
        while self._scheduled and self._scheduled[0][0] < end:
            _, _, post = heapq.heappop(self._scheduled)
            post(self._producer)


def render_midi(midi: str | Path, instrument: str | Path, output: str | Path | None = None, *,
                bank: int | None = None, program: int | None = None, sample_rate: int = 44100,
                block_size: int = 64, polyphony: int = 512, gain_db: float = 0.0, interpolation: str = "cubic",
                seconds: float | None = None, subtype: str = "PCM_24") -> np.ndarray | None:
    """Render a Standard MIDI File through one instrument, as `liveengine play` does (an SF2 bank's
    presets chosen by each channel's program changes, or `bank`:`program` on every channel). Writes
    `output` (.wav, .flac), or returns the audio as a (frames, 2) float32 array if `output` is None."""
    from .midi.player import MidiPlayer, PlayError
    if sample_rate not in SAMPLE_RATES:
        raise ValueError(f"sample_rate must be one of {', '.join(map(str, SAMPLE_RATES))}, got {sample_rate!r}")
    _midi_value("block_size", block_size, 32, 1024)
    _midi_value("polyphony", polyphony, 1, 4096)
    if seconds is not None and not _finite("seconds", seconds) > 0:
        raise ValueError(f"seconds must be positive, got {seconds:g}")
    preset = None if bank is None and program is None else (bank or 0, program or 0)
    try:
        player = MidiPlayer(instrument, midi, sample_rate=sample_rate, block=block_size, interpolation=interpolation,
                            polyphony=polyphony, gain_db=_finite("gain_db", gain_db), preset=preset)
        if output is None:
            return collect_audio(player.render(seconds), 2)
        write_audio(player.render(seconds), output, sample_rate, 2, subtype)
    except (PlayError, OutputFileError) as error:
        raise ValueError(str(error)) from None
    return None


class Show:
    """A show file, read and checked: render it offline as `liveengine render` does, or run it live as
    `liveengine run` does."""

    def __init__(self, config):
        self.config = config

    @classmethod
    def load(cls, path: str | Path) -> "Show":
        """Read and check the show file at `path`; every problem found is listed in the ValueError."""
        try:
            return cls(load_show(path))
        except ShowFileError as error:
            raise ValueError("\n".join(error.problems)) from None

    def __repr__(self) -> str:
        return f"<liveengine.Show {self.config.name!r} from {self.config.path}>"

    @property
    def name(self) -> str:
        return self.config.name

    def render(self, output: str | Path | None = None, seconds: float | None = None, *,
               go: tuple[float, ...] = (), subtype: str = "PCM_24") -> np.ndarray | None:
        """Render the show offline: `seconds` of it, or until it ends by itself (every cue and part
        played, every sound died away); `go`: when the conductor presses GO, in seconds. Writes
        `output` (.wav, .flac), or returns the audio as a (frames, outputs) float32 array."""
        from .show.offline import ShowRender
        from .show.rig import build_rig
        if seconds is not None and not _finite("seconds", seconds) > 0:
            raise ValueError(f"seconds must be positive, got {seconds:g}")
        render = ShowRender(build_rig(self.config), go_seconds=[_finite("go", at) for at in go])
        if output is None:
            return render.audio(seconds)
        settings = render.engine.settings
        try:
            write_audio(render.blocks(seconds), output, settings.sample_rate, settings.output_channels, subtype)
        except OutputFileError as error:
            raise ValueError(str(error)) from None
        return None

    def run(self, seconds: float | None = None, *, device: str | int | None = None, jack_dummy: bool = False,
            console: bool = True):
        """Play the show live, as `liveengine run` does (its status and messages on the terminal), until
        it is stopped (Ctrl-C, or `quit` typed when `console` reads the conductor's commands), for
        `seconds`, or until it ends by itself; `jack_dummy`: on a private JACK server with the dummy
        driver. Returns the stopped `Session` (its `summary()`)."""
        from .show.rig import AudioOverrides, build_rig
        from .show.session import Session
        if seconds is not None and not _finite("seconds", seconds) > 0:
            raise ValueError(f"seconds must be positive, got {seconds:g}")
        session = Session(build_rig(self.config, AudioOverrides(device=device)), jack_dummy=jack_dummy,
                          console=console)
        with session:
            session.run(seconds)
        return session
