"""The engine's small API: post events, install instruments, read telemetry and notifications.

Nothing outside `engine/` and `kernel/` touches the state arrays: control-plane code holds an
`Engine`, asks it for a `Producer` (one per producing thread: each owns an SPSC ring),
subscribes to what the audio thread reports (`subscribe`, filled by `poll()`) and reads
`telemetry()`. Memory the audio thread reads changes hands through `handover`.
"""

import collections
import logging
import threading
import time
from fractions import Fraction

import numpy as np

from ..background import BackgroundLoop
from ..kernel.dsp.ltc import nominal_fps, rate_heard
from ..kernel import chase
from ..kernel import events as ev
from .clock import SampleClock
from .drift import ClockDrift, DriftWatch
from .entries import kernel_entries
from .handover import Handover, HandoverError
from .latency import compensation_delays
from .notifications import (
    Acknowledged,
    CueEvent,
    HandedOver,
    LateEvent,
    Notification,
    Notifications,
    NoteRefused,
    PartsStopped,
    Refusal,
    Resource,
    SampleNotReady,
    Subscription,
    TimecodeEvent,
    decode,
)
from ..kernel.regions import ORIGINAL, SampleData, SampledInstrument
from ..kernel.regiontable import region_row
from ..kernel.synthpatch import LFO_RATE, P_LFO, SYNTH_LFO_FIELDS, SynthPatch, patch_row
from ..kernel.state import (
    B_DELAY,
    I_ATTACK_SECONDS,
    I_GAIN,
    I_PLUGIN,
    I_KIND,
    I_MODULATION,
    I_AFTERTOUCH,
    I_BEND_RANGE,
    I_PITCH_BEND,
    I_REGION_COUNT,
    I_REGION_FIRST,
    I_RELEASE_SECONDS,
    I_SW_HIKEY,
    I_SW_LAST,
    I_SW_LOKEY,
    KIND_NONE,
    KIND_SAMPLER,
    KIND_PLUGIN,
    KIND_SYNTH,
    KIND_TONE,
    CUE_SLOTS,
    Q_CHASE_SPAN,
    Q_FOLLOWS,
    Q_POSITION,
    Q_ROWS,
    Q_STANDS_FOR,
    Q_TRIGGER,
    MAX_INSTRUMENTS,
    MAX_REGIONS,
    SI_CHANNELS,
    SI_FRAMES,
    SI_FRAMES_READY,
    SI_FULL_ADDRESS,
    SI_VOICES,
    T_POSITION,
    T_TIMECODE_SPEED,
    T_TIMECODE_STATE,
    EngineSettings,
    EngineState,
)
from .samplepool import SamplePool
from .telemetry import BusLevel, Telemetry, position_and_timecode, read_bus_levels, read_telemetry

log = logging.getLogger("liveengine.engine")

INSTRUMENT_PARAMETERS = {"attack_seconds": I_ATTACK_SECONDS, "release_seconds": I_RELEASE_SECONDS,
                         "gain": I_GAIN, "pitch_bend": I_PITCH_BEND, "modulation": I_MODULATION,
                         "bend_range": I_BEND_RANGE, "aftertouch": I_AFTERTOUCH}


# Controllers as a General MIDI instrument starts: volume 100, expression full, pan centred.
GM_CONTROLLER_DEFAULTS = {7: 100 / 127, 10: 0.5, 11: 1.0}

RATE_TOLERANCE = 0.025  # beyond 2.5 % off speed for long, the picture runs at another frame rate
RATE_WATCH_SECONDS = 2.0
# The timecode's watchers (its rate, the picture's drift) speak of seconds: a poll runs them once this
# much audio has played since they last ran, not at every poll (an offline render polls every block).
WATCH_EVERY_SECONDS = 0.05


def rate_name(fps: Fraction, drop_frame: bool) -> str:
    """A frame rate as shows name it: "23.976", "25", "29.97df"."""
    return f"{float(fps):.3f}".rstrip("0").rstrip(".") + ("df" if drop_frame else "")


def rate_mismatch_text(source: str, heard: str, expected: str) -> str:
    """The warning when timecode runs at another rate than the show's: the same words for LTC and MTC."""
    return f"{source} runs at {heard} fps; the show expects {expected} fps ([timecode] rate)"


class RingFullError(RuntimeError):
    """A producer's ring is full and BACKLOG_LIMIT events wait behind it: the audio thread is not
    draining it (the stream stopped or stalled)."""


# Events a producer keeps, in order, while its ring is full: far more than any burst of playing
# or of a show (a ring holds a thousand or more); reaching it means nothing drains the ring.
BACKLOG_LIMIT = 1 << 16


class Producer:
    """The posting end of one SPSC ring. Only one thread may post through it.

    A full ring loses nothing: what it cannot take waits here, in order and with its sample
    times, and goes in as the audio thread drains the ring: on the next post, or on `flush()`,
    which the owning thread calls on every tick while `backlog` is not zero. Offline, `drain`
    (the renderer's) moves the ring into the audio thread's pending set when the ring fills."""

    def __init__(self, engine: "Engine", name: str, ring):
        self.engine = engine
        self.name = name
        self._ring = ring
        self._thread: int | None = None
        self._backlog: collections.deque[tuple[float, ...]] = collections.deque()
        self.drain = None  # offline: a callable that empties the ring into the pending set
        self.held_back = 0  # posts that waited for room in the ring

    def post(self, sample: float, kind: int, target: float = 0, a: float = 0.0, b: float = 0.0,
             c: float = 0.0, d: float = 0.0, e: float = 0.0):
        """Queue one event for `sample` (negative: as soon as possible), behind any the full ring
        still holds back. Raises RingFullError only when nothing drains the ring (BACKLOG_LIMIT).
        A note's id must be a live note's (`events.live_note_id`): a part's notes go through
        `part_note_on` and `part_note_off`."""
        if kind == ev.NOTE_ON or kind == ev.NOTE_OFF:
            target = ev.live_note_id(target)
        self._post(sample, kind, target, a, b, c, d, e)

    def _post(self, sample, kind, target, a=0.0, b=0.0, c=0.0, d=0.0, e=0.0):
        self._check_thread()
        row = (float(sample), float(kind), float(target), float(a), float(b), float(c), float(d), float(e))
        if (self._backlog and self.flush() > 0) or not self._push(row):
            if len(self._backlog) >= BACKLOG_LIMIT:
                raise RingFullError(f"event ring {self.name!r} is full and {len(self._backlog)} more events wait "
                                    "for it: the audio thread is not taking them (stream stopped or stalled)")
            self._backlog.append(row)
            self.held_back += 1

    def flush(self) -> int:
        """Post what the full ring held back, in order, as far as it has room; returns how many still wait."""
        self._check_thread()
        while self._backlog and self._push(self._backlog[0]):
            self._backlog.popleft()
        return len(self._backlog)

    @property
    def backlog(self) -> int:
        """Events held back, waiting for room in the ring."""
        return len(self._backlog)

    def _push(self, row) -> bool:
        if kernel_entries().ring_push(self._ring, *row):
            return True
        if self.drain is None:
            return False
        self.drain()
        return kernel_entries().ring_push(self._ring, *row)

    def _check_thread(self):
        thread = threading.get_ident()
        if self._thread is None:
            self._thread = thread
        elif thread != self._thread:
            raise RuntimeError(f"producer {self.name!r} is owned by another thread: rings have one producer")

    def note_on(self, sample, note_id, instrument, key, velocity, bus, pan=0.0):
        self.post(sample, ev.NOTE_ON, note_id, instrument, key, velocity, self.engine.bus_number(bus), pan)

    def note_off(self, sample, note_id):
        self.post(sample, ev.NOTE_OFF, note_id)

    def part_note_on(self, sample, group, number, instrument, key, velocity, bus, pan=0.0):
        """Note `number` of a part playing in note group `group` (the group the audio thread gave the part)."""
        self._post(sample, ev.NOTE_ON, ev.part_note_id(group, number), instrument, key, velocity,
                   self.engine.bus_number(bus), pan)

    def part_note_off(self, sample, group, number):
        self._post(sample, ev.NOTE_OFF, ev.part_note_id(group, number))

    def panic(self, sample=-1):
        self.post(sample, ev.ALL_NOTES_OFF)

    def bus_gain(self, bus, gain, fade_seconds=0.0, sample=-1):
        self.post(sample, ev.BUS_GAIN, self.engine.bus_number(bus), gain, fade_seconds)

    def bus_mute(self, bus, muted: bool, sample=-1):
        self.post(sample, ev.BUS_MUTE, self.engine.bus_number(bus), 1.0 if muted else 0.0)

    def instrument_parameter(self, instrument: int, name: str, value: float, sample=-1):
        self.post(sample, ev.INSTRUMENT_PARAMETER, instrument, INSTRUMENT_PARAMETERS[name], value)

    def timecode_frame(self, frame: int, start_sample: float):
        """A timecode frame received outside the audio thread (MTC), for the chase."""
        self.post(-1, ev.TIMECODE_FRAME, frame, start_sample)

    def controller(self, instrument: int, cc: int, value: float, sample=-1):
        """Controller `cc` of `instrument` moves to `value` (0..1): the regions that follow it move."""
        self.post(sample, ev.CONTROLLER, instrument, cc, value)

    def program_change(self, instrument: int, program: int, sample=-1):
        """`instrument`'s channel changes to `program` (0..127): its next notes play the regions whose
        loprog/hiprog range holds it."""
        self.post(sample, ev.PROGRAM_CHANGE, instrument, program)

    def plugin_control(self, column: int, port: int, value: float, sample=-1):
        """Control port `port` (its index) of the plugin in kernel column `column` takes `value` on its sample."""
        self.post(sample, ev.PLUGIN_CONTROL, column, port, value)

    def bypass_insert(self, column: int, bypassed: bool, sample=-1):
        """The insert in column `column` crossfades out of its bus's chain (or back in)."""
        self.post(sample, ev.PLUGIN_BYPASS, column, 1.0 if bypassed else 0.0)

    def adopt(self, resource: Resource, slot: int, write=lambda: None, value: float = 0.0, then=None) -> int:
        """Write a resource while it is the control plane's, then hand it to the audio thread
        (engine/handover.py); `then` runs once it is adopted. Returns the handover's token."""
        return self.engine.handover.adopt(self, resource, slot, write, value, then)

    def let_go(self, resource: Resource, slot: int, then=None) -> int:
        """Ask the audio thread to let go of a resource; `then` runs once it has. Returns the token."""
        return self.engine.handover.let_go(self, resource, slot, then)

    def stop_all(self, fade_seconds: float = 0.0, sample=-1):
        """Every part stops, its notes fading over `fade_seconds`; live playing rings on."""
        self.post(sample, ev.STOP_ALL, 0, fade_seconds)

    def start_stem(self, slot: int, bus, gain: float = 1.0, from_frame: int = 0, sample=-1):
        """Play stem `slot` from file frame `from_frame` on `sample` (its loader keeps it fed)."""
        self.post(sample, ev.STEM_START, slot, from_frame, self.engine.bus_number(bus), gain)

    def stop_stem(self, slot: int, fade_seconds: float = 0.0, sample=-1):
        self.post(sample, ev.STEM_STOP, slot, fade_seconds)

    def locate_timecode(self, label: tuple[int, int, int, int], sample: int) -> int:
        """As timecode master, jump: the frame labelled `label` (hours, minutes, seconds, frames) begins
        on the master's first frame boundary at or after `sample`, for the cues and the generated LTC
        alike, and the timecode runs on from it. Returns that boundary's sample."""
        self.engine._master().frame_count(label)  # a label of the master's rate, or a ValueError
        index = self.engine.master_frame_at_or_after(sample)
        self.post(-1, ev.TIMECODE_LOCATE, index, *label)
        return self.engine.master_frame_start(index)

    def arm_cue(self, slot: int, trigger: int, template: np.ndarray, *, frame: float = 0.0,
                chase_frames: float = 0.0, follows: int = -1, wait_samples: float = 0.0, stands_for: int = -1) -> int:
        """Arm cue `slot`: write its template (rows of events, sample times relative to the cue)
        while the audio thread does not read it, then announce it. Timecode cues fire where
        the picture reaches `frame`; chase cues start part-way when the picture lands within
        `chase_frames` after it; follow cues fire `wait_samples` after cue `follows`. A slot that
        `stands_for` another (a pickup of it) fires that one's followers, as it would. The slot's memory
        is handed over (engine/handover.py); returns the handover's token."""
        if not 0 <= slot < CUE_SLOTS:
            raise ValueError(f"cue slots are 0..{CUE_SLOTS - 1}")
        state = self.engine.state
        rows = np.asarray(template, np.float64)
        if rows.ndim != 2 or rows.shape[1] != ev.EVENT_WIDTH or len(rows) > state.cue_templates.shape[1]:
            raise ValueError(f"a cue template is at most {state.cue_templates.shape[1]} event rows")

        def write():
            state.cue_templates[slot, :len(rows)] = rows
            column = state.cue_slots[:, slot]
            column[Q_TRIGGER] = trigger
            column[Q_POSITION] = {ev.TRIGGER_TIMECODE: frame, ev.TRIGGER_FOLLOW: wait_samples}.get(trigger, 0.0)
            column[Q_CHASE_SPAN] = chase_frames if trigger == ev.TRIGGER_TIMECODE else 0.0
            column[Q_FOLLOWS] = follows if trigger == ev.TRIGGER_FOLLOW else -1.0
            column[Q_ROWS] = len(rows)
            column[Q_STANDS_FOR] = stands_for if 0 <= stands_for < CUE_SLOTS else slot

        try:
            return self.adopt(Resource.CUE, slot, write)
        except HandoverError:
            raise HandoverError(f"cue slot {slot} is armed: disarm it and wait until the audio thread lets it go") \
                from None

    def disarm_cue(self, slot: int) -> int:
        """Disarm cue `slot`; returns the handover's token, after whose acknowledgement the slot may be
        armed again."""
        return self.let_go(Resource.CUE, slot)

    def fire_cue(self, slot: int, sample=-1, offset_samples: float = 0.0):
        """Fire cue `slot` (the conductor's GO), `offset_samples` into it."""
        self.post(sample, ev.CUE_FIRE, slot, offset_samples)

    def fence(self, sample=-1) -> int:
        """A token the audio thread acknowledges once it has applied everything posted before it."""
        token = self.engine._next_fence_token()
        self.post(sample, ev.FENCE, token)
        return token

    @property
    def waiting(self) -> int:
        return kernel_entries().ring_fill(self._ring)


class Engine:
    def __init__(self, settings: EngineSettings, scheduling_latency_samples: int | None = None):
        """`scheduling_latency_samples`: how far after its arrival live input takes effect;
        None: two blocks, as the audio callback is actually called."""
        self.settings = settings
        self.state = EngineState(settings)
        self.clock = SampleClock(settings.sample_rate, scheduling_latency_samples)
        self._producers: dict[str, Producer] = {}
        self._poll_lock = threading.Lock()
        self._notifications = np.zeros((256, ev.EVENT_WIDTH), np.float64)
        self._notifications_address = self._notifications.ctypes.data
        self._fence_lock = threading.Lock()
        self._fence_counter = 0
        self._acknowledged: dict[int, int] = {}
        self.notifications = Notifications()
        self.handover = Handover()
        # Recent reports, for summaries and tests (consumers that act on them subscribe instead).
        self.late_events: collections.deque[LateEvent] = collections.deque(maxlen=1000)
        self.refused_notes: collections.deque[NoteRefused] = collections.deque(maxlen=1000)
        # Notes refused, by (instrument, reason): each pair is logged once, when it first happens.
        self.refusals: collections.Counter[tuple[int, Refusal]] = collections.Counter()
        # How messages name each instrument (the show's names); one not named here by its index.
        self.instrument_names: dict[int, str] = {}
        self.timecode_events: collections.deque[TimecodeEvent] = collections.deque(maxlen=1000)
        # What was said of the timecode's rate, at each change, (sample, text, is_warning); the latest
        # warning standing, or None.
        self.timecode_rate_reports: collections.deque[tuple[int, str, bool]] = collections.deque(maxlen=100)
        self.timecode_rate_reports_made = 0
        self._rate_reports_lock = threading.Lock()
        self.timecode_rate_warning: str | None = None
        self._rate_off_since: int | None = None
        self._rate_warned = False
        self._ltc_rate_heard: str | None = None
        self._watched_at: int | None = None  # the position when the timecode's watchers last ran
        self._watch_every = round(WATCH_EVERY_SECONDS * self.settings.sample_rate)
        timecode = self.settings.timecode
        self._drift = DriftWatch(self.settings.sample_rate, timecode.fps[0] / timecode.fps[1]) if timecode else None
        # Memory the audio thread may read, kept alive here: each synth's wavetables (and those of a
        # patch staged for it), the samples' heads (in the pool), and full sample data while the audio
        # thread holds it.
        self._wavetables: dict[int, list[np.ndarray]] = {}
        self._staged_wavetables: dict[int, list[np.ndarray]] = {}
        self.samples = SamplePool(self.state.sample_ints)
        self._sample_full: dict[int, np.ndarray] = {}
        self._next_region_row = 0
        self.samples_not_ready: collections.deque[SampleNotReady] = collections.deque(maxlen=1000)
        self._plugins = None

    # Set-up, before the stream runs.

    def install_tone(self, index: int, attack_seconds: float, release_seconds: float, gain: float):
        """Install the test-tone instrument at `index` (before the stream starts; later, post parameters)."""
        self._claim_instrument(index)
        instruments = self.state.instruments
        instruments[I_ATTACK_SECONDS, index] = attack_seconds
        instruments[I_RELEASE_SECONDS, index] = release_seconds
        instruments[I_GAIN, index] = gain
        instruments[I_KIND, index] = KIND_TONE

    def install_sampler(self, index: int, instrument: SampledInstrument, samples: list[SampleData],
                        producer: Producer | None = None) -> list[int]:
        """Install a sampled instrument at `index`, its samples' heads already decoded (`samples[i]` for
        `instrument.samples[i]`; None for one that failed to load: its regions stay, silent, still choking
        and taking their turns). Returns the sample slots its samples play from: a sample that an
        instrument installed before plays has its slot already (`samples`). The instrument sounds only
        once every row is in place: at once if the stream does not run (`producer` None), else when
        `producer`'s event applies."""
        self._claim_instrument(index)
        for cc, value in instrument.controllers.items():
            self.state.controllers[index, cc] = value
        regions = instrument.regions
        if self._next_region_row + len(regions) > MAX_REGIONS:
            raise ValueError(f"{instrument.name}: the engine holds {MAX_REGIONS} regions in all; "
                             f"{MAX_REGIONS - self._next_region_row} are left, {len(regions)} needed")
        slots = self.samples.slots(instrument, samples)
        rate = self.settings.sample_rate
        first = self._next_region_row
        for row, region in enumerate(regions):
            # A region whose sample is missing stays, silent: it still chokes, switches and takes its turn.
            if 0 <= region.sample < len(slots) and slots[region.sample] >= 0:
                data = samples[region.sample]
                self.state.regions[first + row] = region_row(region, slots[region.sample], data.frames,
                                                             data.sample_rate, rate, data.root_key, data.loop,
                                                             data.tune)
            else:
                self.state.regions[first + row] = region_row(region, -1, 1, rate, rate, ORIGINAL, None)
        self._next_region_row += len(regions)
        switches = [(r.sw_lokey, r.sw_hikey) for r in regions if r.sw_lokey >= 0 and r.sw_hikey >= r.sw_lokey]
        instruments = self.state.instruments
        instruments[I_REGION_FIRST, index] = first
        instruments[I_REGION_COUNT, index] = len(regions)
        instruments[I_SW_LOKEY, index] = min((low for low, _ in switches), default=-1)
        instruments[I_SW_HIKEY, index] = max((high for _, high in switches), default=-1)
        instruments[I_SW_LAST, index] = instrument.sw_default
        if producer is None:
            instruments[I_KIND, index] = KIND_SAMPLER
        else:
            producer.adopt(Resource.INSTRUMENT, index, value=KIND_SAMPLER)
        return slots

    def install_synth(self, index: int, patch: SynthPatch, tempo_bpm: float = 120.0):
        """Install a synth patch at `index` before the stream runs (while it runs: `reload_synth`).
        LFOs synced to beats run at `tempo_bpm`."""
        self._claim_instrument(index)
        self._wavetables[index] = self._write_patch(self.state.patches, self.state.wavetables, index, patch,
                                                    tempo_bpm)
        self.state.instruments[I_KIND, index] = KIND_SYNTH

    def reload_synth(self, index: int, patch: SynthPatch, producer: Producer, tempo_bpm: float = 120.0):
        """Replace a running synth's patch: staged here, swapped in by the audio thread between two
        segments. Sounding notes play on and glide to the new levels and cutoff: no click. Raises
        HandoverError while the previous reload is not swapped in yet."""
        if self.state.instruments[I_KIND, index] != KIND_SYNTH:
            raise ValueError(f"instrument {index} is not a synth")

        def stage():
            self._staged_wavetables[index] = self._write_patch(self.state.staged_patches,
                                                               self.state.staged_wavetables, index, patch, tempo_bpm)

        def swapped():  # the replaced patch's wavetables are read no more
            self._wavetables[index] = self._staged_wavetables.pop(index)

        producer.adopt(Resource.PATCH, index, stage, then=swapped)

    @staticmethod
    def _write_patch(patches: np.ndarray, wavetables: np.ndarray, index: int, patch: SynthPatch,
                     tempo_bpm: float) -> list[np.ndarray]:
        """Write `patch` as instrument `index`'s row; returns the wavetables its row points to, which
        must live as long as the audio thread may read them."""
        row = patch_row(patch)
        for i, lfo in enumerate(patch.lfos):
            if lfo.sync_beats > 0:
                row[P_LFO + i * SYNTH_LFO_FIELDS + LFO_RATE] = tempo_bpm / 60.0 / lfo.sync_beats
        patches[index] = row
        wavetables[index] = 0
        kept = []
        for osc, oscillator in enumerate(patch.oscillators):
            if oscillator.wavetable >= 0:
                data = np.ascontiguousarray(patch.wavetables[oscillator.wavetable], np.float64)
                kept.append(data)
                wavetables[index, osc] = (data.ctypes.data, data.shape[0], data.shape[1])
        return kept

    @property
    def plugins(self):
        """The engine's LV2 plugins (engine/pluginrack.py), made when first asked: a show without plugins
        never loads liblilv."""
        if self._plugins is None:
            from .pluginrack import PluginRack
            self._plugins = PluginRack(self.state)
        return self._plugins

    def install_plugin_instrument(self, index: int, uri: str, *, preset: str | None = None,
                                  controls: dict | None = None, bus=0) -> int:
        """Install the LV2 instrument `uri` at `index` before the stream runs, playing into `bus` (until a
        note names another); returns its plugin column. PluginError when it cannot be hosted."""
        self._claim_instrument(index)
        column = self.plugins.instantiate(uri, preset=preset, controls=controls)
        self.plugins.add_instrument(column, index, self.bus_number(bus))
        self.plugins.names[column] = self.instrument_name(index)
        self.state.instruments[I_PLUGIN, index] = column
        self.state.instruments[I_KIND, index] = KIND_PLUGIN
        return column

    def install_insert(self, bus, uri: str, *, preset: str | None = None, controls: dict | None = None,
                       bypassed: bool = False) -> int:
        """Append the LV2 effect `uri` to `bus`'s insert chain before the stream runs; returns its plugin
        column. PluginError when it cannot be hosted."""
        number = self.bus_number(bus)
        position = int((self.state.bus_inserts[number] >= 0).sum()) + 1
        name = f"{self.settings.buses[number].name} insert {position}"
        return self.plugins.add_insert(number, uri, name=name, preset=preset, controls=controls, bypassed=bypassed)

    def compensate_latency(self) -> int:
        """Delay each bus so that every path to the outputs is as late as the one whose inserts have the most
        latency (before the stream runs, once the inserts are installed); returns that latency in samples."""
        delays, total = compensation_delays(self.settings.buses, self.plugins.insert_latencies())
        self.state.bus_ints[B_DELAY] = delays
        return total

    def _claim_instrument(self, index: int):
        if not 0 <= index < MAX_INSTRUMENTS:
            raise ValueError(f"instrument index must be 0..{MAX_INSTRUMENTS - 1}")
        if self.state.instruments[I_KIND, index] != KIND_NONE or not self.handover.is_free(Resource.INSTRUMENT, index):
            raise ValueError(f"instrument {index} is installed already")
        self.state.instruments[:, index] = 0.0
        self.state.instruments[I_GAIN, index] = 1.0
        self.state.controllers[index] = 0.0
        for cc, value in GM_CONTROLLER_DEFAULTS.items():
            self.state.controllers[index, cc] = value

    def instrument_gain(self, index: int, gain: float):
        """Set an instrument's gain before the stream runs (later: post the "gain" parameter)."""
        self.state.instruments[I_GAIN, index] = gain

    def sample_frames(self, slot: int) -> int:
        return int(self.state.sample_ints[SI_FRAMES, slot])

    def sample_voices(self, slot: int) -> int:
        """Voices playing sample `slot` as the audio thread last counted (a hint: it may change at once)."""
        return int(self.state.sample_ints[SI_VOICES, slot])

    def attach_full_sample(self, slot: int, data: np.ndarray):
        """Give sample `slot` its full data (float32, (frames, channels)), to be filled and published
        with `publish_sample_frames`: the audio thread holds it from then on, until it lets it go
        (`let_go_of_full_sample`). Only the sample loader's thread calls these."""
        if data.dtype != np.float32 or not data.flags.c_contiguous or \
                data.shape[1] != self.state.sample_ints[SI_CHANNELS, slot]:
            raise ValueError("full sample data must be C-contiguous float32 with the head's channels")
        self.handover.adopted(Resource.SAMPLE, slot)
        self._sample_full[slot] = data
        self.state.sample_ints[SI_FULL_ADDRESS, slot] = data.ctypes.data

    def publish_sample_frames(self, slot: int, frames: int):
        """The first `frames` frames of sample `slot`'s full data are written: voices may read them."""
        kernel_entries().publish_frames_ready(self.state.sample_ints[SI_FRAMES_READY], slot, frames)

    def let_go_of_full_sample(self, slot: int, producer: Producer) -> int:
        """Ask the audio thread to stop reading sample `slot`'s full data; it is freed once it has (a
        HandedOver notification says which: a sample a voice plays is kept). Returns the token."""
        return producer.let_go(Resource.SAMPLE, slot, then=lambda: self._sample_full.pop(slot, None))

    def producer(self, name: str) -> Producer:
        """The producer for ring `name` (one of settings.input_rings); each may be taken once."""
        if name in self._producers:
            raise RuntimeError(f"event ring {name!r} already has its producer")
        if name not in self.state.input_rings:
            raise KeyError(f"no event ring {name!r}; rings: {', '.join(self.state.input_rings)}")
        producer = Producer(self, name, self.state.input_rings[name])
        self._producers[name] = producer
        return producer

    def bus_number(self, bus) -> int:
        if isinstance(bus, str):
            try:
                return self.state.bus_index[bus]
            except KeyError:
                raise KeyError(f"no bus {bus!r}; buses: {', '.join(self.state.bus_index)}") from None
        return int(bus)

    # The master timecode's frame grid: frame k (counted from sample 0) begins on sample
    # ceil(k * sample_rate / fps), exactly, as in the audio thread (chase.master_frame_start).

    def master_frame_start(self, index: int) -> int:
        """The sample on which frame `index` of the master's grid begins."""
        num, den = self._master().fps
        return -(-index * self.settings.sample_rate * den // num)

    def master_frame_at_or_after(self, sample: int) -> int:
        """The index of the first frame of the master's grid that begins at or after `sample`."""
        num, den = self._master().fps
        return (int(sample) - 1) * num // (self.settings.sample_rate * den) + 1

    def _master(self):
        if self.settings.timecode_master is None:
            raise ValueError("the engine is not the timecode master: it runs no timecode of its own to locate "
                             "(EngineSettings.timecode_master)")
        return self.settings.timecode_master

    # Reading what the audio thread reports.

    @property
    def position(self) -> int:
        return int(self.state.telemetry[T_POSITION])

    def telemetry(self) -> Telemetry:
        return read_telemetry(self.state)

    def picture_at(self, sample: int) -> float | None:
        """The frame position the chased picture reaches at `sample`, by the line the audio thread
        published last (where it was at the end of its last block, and its speed); None while no
        timecode runs."""
        timecode = self.settings.timecode
        if timecode is None:
            return None
        position, status = position_and_timecode(self.state)
        if status.state not in ("locked", "freewheel"):
            return None
        frames_per_sample = timecode.fps[0] / (timecode.fps[1] * self.settings.sample_rate)
        return status.position + (sample - position) * status.speed * frames_per_sample

    def bus_levels(self) -> dict[str, BusLevel]:
        """Each bus's gain, fade and mute as the audio thread applies them now."""
        return read_bus_levels(self.state)

    def subscribe(self, *kinds: type[Notification]) -> Subscription:
        """The audio thread's notifications of these types (engine/notifications.py), from now on, in
        order, as `poll()` reads them."""
        return self.notifications.subscribe(*kinds)

    def poll(self) -> int:
        """Drain the audio thread's notifications: the clock, fences and handovers are settled here, recent
        reports kept in the deques above (logged at debug level, in samples), and every notification goes
        to its subscribers: whoever shows it to a person words it in timecode."""
        handled = 0
        with self._poll_lock:
            while True:
                count = kernel_entries().ring_pop_into(self.state.notify_ring, self._notifications_address,
                                                       len(self._notifications), len(self._notifications))
                for row in self._notifications[:count]:
                    self._handle(row)
                handled += count
                if count < self._notifications.shape[0]:
                    self._watch_timecode()
                    return handled

    def _watch_timecode(self):
        if self.settings.timecode is None:
            return
        position = self.position
        if self._watched_at is not None and 0 <= position - self._watched_at < self._watch_every:
            return
        self._watched_at = position
        self._watch_ltc_rate()
        self._watch_timecode_rate()
        self._watch_clock_drift()

    def timecode_rate_reports_since(self, seen: int) -> tuple[list[tuple[int, str, bool]], int]:
        """The rate reports made after the first `seen` (those still kept), and how many are made now."""
        with self._rate_reports_lock:
            reports = list(self.timecode_rate_reports)
            made = self.timecode_rate_reports_made
        return reports[len(reports) - min(made - seen, len(reports)):], made

    def _report_rate(self, text: str, warning: bool = True):
        with self._rate_reports_lock:
            self.timecode_rate_reports.append((self.position, text, warning))
            self.timecode_rate_reports_made += 1
        self.timecode_rate_warning = text if warning else None
        (log.warning if warning else log.info)("%s", text)

    def _watch_ltc_rate(self):
        """Say, at each change, when the LTC input runs at another rate than the show's, locked or
        not: its labels tell 24, 25 or 30 within a second, its frame length 23.976 and 29.97."""
        timecode = self.settings.timecode
        if timecode is None or timecode.channel is None:
            return
        heard = rate_heard(self.state.ltc_ints, self.state.ltc_floats, self.settings.sample_rate)
        if heard is None:
            return
        show_fps = Fraction(*timecode.fps)
        expected = rate_name(show_fps, timecode.drop_frame)
        if heard.fps is None:  # varispeed: the labels alone speak
            heard_fps = show_fps if heard.labels == nominal_fps(timecode.fps) else Fraction(heard.labels)
        else:
            heard_fps = heard.fps
        name = rate_name(heard_fps, heard.drop_frame)
        if name == self._ltc_rate_heard:
            return
        source = f"LTC on input {timecode.channel + 1}"
        if name != expected:
            self._report_rate(rate_mismatch_text(source, name, expected))
        elif self._ltc_rate_heard is not None:
            self._report_rate(f"{source} runs at {name} fps again, as the show expects", warning=False)
        self._ltc_rate_heard = name

    @property
    def clock_drift(self) -> ClockDrift | None:
        """While chasing a picture, its clock against the audio's (as of the last poll); None otherwise."""
        return self._drift.reading if self._drift is not None else None

    @property
    def last_clock_drift(self) -> ClockDrift | None:
        """The last reading of `clock_drift`, kept after the chase stops (a render's report)."""
        return self._drift.last_reading if self._drift is not None else None

    def _watch_clock_drift(self):
        if self._drift is None:
            return
        sample, status = position_and_timecode(self.state)
        report = self._drift.observe(status, sample)
        if report is not None:
            self._report_rate(*report)

    def _watch_timecode_rate(self):
        """Warn once per lock when the chased timecode runs at another frame rate than the show's:
        a speed that stays further from 1 than varispeed goes, for RATE_WATCH_SECONDS (unless the
        LTC's own rate is named already)."""
        timecode = self.settings.timecode
        if timecode is None or self._ltc_rate_heard not in (None, rate_name(Fraction(*timecode.fps),
                                                                             timecode.drop_frame)):
            return
        locked = self.state.telemetry[T_TIMECODE_STATE] == chase.LOCKED
        speed = float(self.state.telemetry_float[T_TIMECODE_SPEED])
        position = self.position
        if not locked or abs(speed - 1.0) <= RATE_TOLERANCE:
            self._rate_off_since = None
            if not locked:
                self._rate_warned = False
            return
        if self._rate_off_since is None:
            self._rate_off_since = position
        elif not self._rate_warned and \
                position - self._rate_off_since >= RATE_WATCH_SECONDS * self.settings.sample_rate:
            fps = timecode.fps[0] / timecode.fps[1]
            self._report_rate(f"the timecode runs at {fps * speed:.3f} fps, the show's rate is {fps:.3f} fps: "
                              "check [timecode] rate")
            self._rate_warned = True

    def _handle(self, row):
        if int(row[ev.KIND]) == ev.CLOCK:
            self.clock.observe(int(row[ev.SAMPLE]), int(row[ev.A]))
            return
        notification = decode(row)
        match notification:
            case Acknowledged(sample=sample, token=token):
                with self._fence_lock:
                    self._acknowledged[token] = sample
            case HandedOver():
                self.handover.settle(notification)
            case LateEvent():
                self.late_events.append(notification)
                log.debug("%s", notification.text())
            case TimecodeEvent():
                self.timecode_events.append(notification)
                log.debug("timecode %s at sample %d (frame %.0f)", notification.what, notification.sample,
                          notification.frame)
            case CueEvent(sample=sample, slot=slot, what=what):
                log.debug("cue slot %d %s at sample %d", slot, what, sample)
            case PartsStopped(sample=sample, why=why):
                log.debug("every part stopped at sample %d: %s", sample, why)
            case SampleNotReady(sample=sample, slot=slot, note=note):
                self.samples_not_ready.append(notification)
                log.debug("sample slot %d was not read far enough for note %d at sample %d: it played silence",
                          slot, note, sample)
            case NoteRefused(instrument=instrument, reason=reason):
                self.refused_notes.append(notification)
                self.refusals[(instrument, reason)] += 1
                if self.refusals[(instrument, reason)] == 1:
                    log.warning("%s (each one is counted in the summary)",
                                notification.text(self.instrument_name(instrument)))
        if notification is not None:
            self.notifications.publish(notification)

    def instrument_name(self, index: int) -> str:
        return f"instrument {self.instrument_names.get(index, index)}"

    def refusal_report(self) -> list[str]:
        """What the refused notes were, one line per instrument and reason: "instrument piano: 3 notes
        refused: the instrument is not loaded"."""
        return [f"{self.instrument_name(instrument)}: {count} note{'s' if count != 1 else ''} refused: "
                f"{reason.text}" for (instrument, reason), count in sorted(self.refusals.items())]

    def _next_fence_token(self) -> int:
        with self._fence_lock:
            self._fence_counter += 1
            return self._fence_counter

    def acknowledged(self, token: int) -> int | None:
        """The sample at which the audio thread reached fence `token`, or None if not yet."""
        with self._fence_lock:
            return self._acknowledged.pop(token, None)


class NotificationPump(BackgroundLoop):
    """A control-plane thread that keeps draining the engine's notifications while a stream runs.

    Every 5 ms: what waits on a notification has more time than that (a cue's template carries the first
    second of what it starts; a voice's sample has its head in memory), and each wake-up costs. Measured
    on an empty engine at 64-frame blocks on a JACK dummy server: 0.026-0.031 CPU-s per second polling
    every 2 ms, 0.012-0.014 every 5 ms, 0.011-0.014 every 10 ms (the rest is the rows themselves)."""

    def __init__(self, engine: Engine, interval_seconds: float = 0.005):
        super().__init__("liveengine-notifications")
        self.engine = engine
        self.interval = interval_seconds

    def step(self):
        self.engine.poll()
        time.sleep(self.interval)

    def finish(self):
        self.engine.poll()
