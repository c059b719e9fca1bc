"""The engine's memory: structure-of-arrays layouts, allocated once, read by address.

Every array the audio thread touches is allocated here before the stream opens and
never reallocated while it runs. The kernel receives one int64 table holding each
array's address and shape (`AddressTable`), so it reads live memory, never arrays
frozen into its compiled code.

Field indices are module constants: the kernel compiles them in as literals.
"""

from dataclasses import dataclass

import numpy as np

from .dsp.ltc import (
    DECODER_FLOATS,
    DECODER_INTS,
    DEFAULT_LEVEL_DBFS,
    DROPPED_FRAME_NUMBERS,
    ENCODER_FLOATS,
    ENCODER_INTS,
    FRAME_FIELDS,
    decoder_state,
    encoder_state,
    frames_per_block,
    nominal_fps,
)
from .dsp.resampler import sinc_table
from .chase import PERIOD_TOLERANCE, STATE_FIELDS, WINDOW, frame_count, new_chase, new_master
from .events import EVENT_WIDTH, NOTE_GROUPS
from .regiontable import REGION_FIELDS
from .synthpatch import MAX_LFOS, MAX_OSCILLATORS, MAX_UNISON, PATCH_FIELDS
from .rings import INDEX_WORDS, Ring
from .stems import STEM_INT_FIELDS, STEM_VALUE_FIELDS

# Voice pool: one column per voice slot. A tone voice's phase is in radians; a sample voice's
# position in frames of its sample. A sample voice's amplitude envelope moves per sample as
# level = level * ENV_MUL + ENV_ADD (a linear or exponential segment), ENV_LEFT samples more.
V_PHASE, V_PHASE_STEP, V_LEVEL, V_ENVELOPE, V_ATTACK_STEP, V_RELEASE_COEFF, V_FADE_STEP, \
    V_GAIN_LEFT, V_GAIN_RIGHT, V_NOTE_ID, V_STARTED_AT, V_ENV_MUL, V_ENV_ADD, V_ENV_LEFT, V_SUSTAIN, \
    V_DECAY_SAMPLES, V_HOLD_SAMPLES, V_ATTACK_SAMPLES, V_RELEASE_SAMPLES, V_AGE, V_VELOCITY, V_KEY, \
    V_CUTOFF, V_FILTER_G, V_FILTER_K, V_FILTER_STATE, V_FILTER_STATE_2, V_FILTER_STATE_3, V_FILTER_STATE_4, \
    V_RELEASED_AT, V_RELEASE_LEVEL, V_START_LEVEL, V_PAN, V_ATTACK_CURVE, V_PAN_LEFT, V_PAN_RIGHT, \
    V_CUTOFF_CENTS = range(37)
VOICE_VALUE_FIELDS = 37
# VS_BIQUAD_STATES: 1 while a sample voice's filter, at rest, keeps its states as the biquad's (filters.py).
VS_STAGE, VS_INSTRUMENT, VS_BUS, VS_KIND, VS_REGION, VS_SAMPLE, VS_LOOP_MODE, VS_STARVED, VS_BIQUAD_STATES = range(9)
VOICE_INT_FIELDS = 9

# A voice sounds in every stage but FREE; it is held (not yet released) in those before RELEASE.
# Tone voices use ATTACK, SUSTAIN, RELEASE and FADE; sample voices the whole DAHDSR.
STAGE_FREE, STAGE_DELAY, STAGE_ATTACK, STAGE_HOLD, STAGE_DECAY, STAGE_SUSTAIN, STAGE_RELEASE, STAGE_FADE = range(8)

# Buses: one column per bus.
B_GAIN, B_GAIN_TARGET, B_GAIN_STEP, B_GAIN_RAMP_LEFT, B_MUTE_GAIN, B_MUTE_TARGET, B_LIMITER_GAIN = range(7)
BUS_VALUE_FIELDS = 7
B_FEEDS, B_OUTPUT_LEFT, B_OUTPUT_RIGHT, B_DELAY, B_DELAY_WRITE, B_CHANGE_COUNT = range(6)  # a bus index, or
# output channels; -1 for none. B_DELAY: samples the bus is held back so that it stays aligned with buses
# whose inserts have latency (engine/latency.py), through its delay line (B_DELAY_WRITE: where the next
# sample goes). The buses are mixed once a block: a gain or mute change waits in the bus's rows of the
# change table (B_CHANGE_COUNT of them) for the frame it applies on.
BUS_INT_FIELDS = 6
BC_FRAME, BC_KIND, BC_VALUE, BC_SECONDS = range(4)
BUS_CHANGE_FIELDS = 4
BUS_CHANGE_GAIN, BUS_CHANGE_MUTE = range(2)
MAX_BUS_CHANGES = 16  # a bus's changes in one block
MAX_COMPENSATION = 1 << 13  # samples of delay a bus can take: 170 ms at 48 kHz

# Meters: ballistic peak and mean square, per bus (post-fader, post-limiter) and per input channel.
M_PEAK_LEFT, M_PEAK_RIGHT, M_MEAN_SQUARE_LEFT, M_MEAN_SQUARE_RIGHT = range(4)
BUS_METER_FIELDS = 4
M_INPUT_PEAK, M_INPUT_MEAN_SQUARE = range(2)
INPUT_METER_FIELDS = 2

# Instruments: one column per installed instrument. A sampler's regions are the rows
# [I_REGION_FIRST, I_REGION_FIRST + I_REGION_COUNT) of the region table.
# Pitch bend is the wheel's position, -1..1; each instrument bends by its own range (a tone: 2
# semitones; a sampler: its regions' bend_up/bend_down; a synth: its patch's), unless
# I_BEND_RANGE (semitones, set by a keyboard setup) is above 0. Modulation (the mod wheel)
# and aftertouch are 0..1. I_PROGRAM is the last program change of the instrument's channel,
# 0..127 (0 until one comes): a sampler's regions with loprog/hiprog sound only in their range.
I_KIND, I_ATTACK_SECONDS, I_RELEASE_SECONDS, I_GAIN, I_PITCH_BEND, I_MODULATION, I_REGION_FIRST, \
    I_REGION_COUNT, I_SW_LOKEY, I_SW_HIKEY, I_SW_LAST, I_HELD_NOTES, I_BEND_RANGE, I_AFTERTOUCH, I_PROGRAM, \
    I_PLUGIN = range(16)
INSTRUMENT_FIELDS = 16  # I_PLUGIN: an LV2 instrument's plugin slot
KIND_NONE, KIND_TONE, KIND_SAMPLER, KIND_SYNTH, KIND_PLUGIN = range(5)
CONTROLLERS = 128  # each instrument's controller values (0..1), for regions that follow them

# Fixed settings (int and float), written before the stream opens.
C_SAMPLE_RATE, C_MAX_BLOCK, C_OUTPUT_CHANNELS, C_INPUT_CHANNELS, C_POLYPHONY, C_BUS_COUNT, \
    C_COUNT_MISSED_CYCLES, C_TIMECODE_MODE, C_TIMECODE_INPUT, C_TIMECODE_NOMINAL, C_TIMECODE_DROP_FRAME, \
    C_TIMECODE_OUTPUT, C_INTERPOLATION, C_URID_SEQUENCE, C_URID_CHUNK, C_URID_MIDI_EVENT = range(16)
CONFIG_INT_FIELDS = 16  # C_URID_*: the LV2 host's URIDs for atom:Sequence, atom:Chunk and midi:MidiEvent
# C_TIMECODE_MODE: no timecode; chasing a timecode input (TimecodeInput); the timecode master (TimecodeMaster).
TIMECODE_NONE, TIMECODE_CHASE, TIMECODE_MASTER = range(3)
INTERPOLATION_LINEAR, INTERPOLATION_CUBIC = range(2)
CF_LIMITER_CEILING, CF_LIMITER_RELEASE_COEFF, CF_PEAK_DECAY, CF_MEAN_SQUARE_COEFF, CF_FADE_SAMPLES, \
    CF_DEZIPPER_SAMPLES, CF_BLOCK_APPROACH, CF_FOLLOW_SPEED = range(8)
CONFIG_FLOAT_FIELDS = 8  # CF_FOLLOW_SPEED: while chasing, how far from 1 the picture's speed may be and be followed
# Gliding levels move toward their targets with a time constant of a fifth of the dezipper time:
# what of the way is left after n samples is exp(-GLIDES_PER_DEZIPPER * n / dezipper samples).
GLIDES_PER_DEZIPPER = 5.0

# The audio thread's private bookkeeping.
K_PENDING_COUNT, K_ARRIVAL_SEQUENCE, K_LAST_CALLBACK_NS, K_LAST_FRAMES, K_NEXT_GROUP, K_CUE_EPOCH, \
    K_TIMECODE_RUNNING, K_RANDOM, K_OFF_SPEED = range(9)
KERNEL_FIELDS = 9  # K_OFF_SPEED: 1 while the chased picture runs further from its speed than CF_FOLLOW_SPEED

# Cue slots: one column per slot. A slot is idle (not armed), waiting for its trigger, or done
# (fired or skipped in this pass of the timecode). The control plane writes a slot's template and
# its Q_TRIGGER..Q_STANDS_FOR only while the slot is its own (engine/handover.py), then hands it
# over (ADOPT arms it); Q_STATE is the audio thread's.
# Q_STANDS_FOR: the slot whose followers its firing schedules (its own; a pickup's, the cue it picks up).
Q_STATE, Q_TRIGGER, Q_POSITION, Q_CHASE_SPAN, Q_FOLLOWS, Q_ROWS, Q_STANDS_FOR = range(7)
CUE_SLOT_FIELDS = 7
SLOT_IDLE, SLOT_WAITING, SLOT_DONE = range(3)

# Telemetry: written only by the audio thread, one aligned scalar each, read by anyone.
T_POSITION, T_CALLBACKS, T_LATE_EVENTS, T_MISSED_CYCLES, T_VOICES, T_NOTIFICATIONS_DROPPED, \
    T_UNDERFLOWS, T_OVERFLOWS, T_VOICES_STOLEN, T_NOTES_REFUSED, T_EVENTS_APPLIED, T_EVENTS_REJECTED, \
    T_LONGEST_GAP_NS, T_TIMECODE_STATE, T_TIMECODE_FRAMES, T_CUES_FIRED, T_CUES_SKIPPED, \
    T_CUE_EVENTS_DROPPED, T_SAMPLES_NOT_READY, T_PUBLISHING = range(20)
TELEMETRY_INT_FIELDS = 20
# T_PUBLISHING counts the publications of a block's timecode and end (T_TIMECODE_*, then T_POSITION): odd while
# one is being written, so that a reader can tell a pair of one block from a torn one.
T_DSP_LOAD, T_DSP_LOAD_PEAK, T_DSP_LOAD_AVERAGE, T_TIMECODE_POSITION, T_TIMECODE_SPEED, T_DSP_LOAD_MAX = range(6)
TELEMETRY_FLOAT_FIELDS = 6

# A pending event: its row, its arrival order (same-sample events keep it), for a note
# from a cue template the part whose note group it joins when it applies (-1: none), and whether
# it is placed by the picture's clock (1.0: its sample is where the chase line reaches
# PENDING_PICTURE, a frame position, worked out again every block; kernel/picture.py).
PENDING_ORDER, PENDING_PART, PENDING_ON_PICTURE, PENDING_PICTURE = range(EVENT_WIDTH, EVENT_WIDTH + 4)
PENDING_WIDTH = EVENT_WIDTH + 4

# A note group that follows the picture (one row each): the notes posted to it are placed by the
# picture's clock, a sample time s meaning the frame GP_FRAME + (s - GP_SAMPLE) / nominal samples per frame.
GP_ON_PICTURE, GP_SAMPLE, GP_FRAME = range(3)
GROUP_PICTURE_FIELDS = 3

# LV2 plugins: one column per plugin instance, an instrument or an insert on a bus. The addresses are
# the instance's (engine/plugins.py): its handle, its functions, and the buffers connected once to its
# ports (float32 audio rows of max_block frames, the MIDI atom:Sequence, the control values). A mono
# insert on a stereo bus is two instances: the left's P_TWIN is the right's column. A plugin runs once a
# block, in pieces split where a change (a control, a bypass) applies, each piece at least P_MIN_BLOCK
# frames long; its MIDI waits in its rows of the MIDI table until then (P_MIDI_COUNT of them, and
# P_MIDI_DROPPED counts what did not fit), its changes in its rows of the change table (P_CHANGE_COUNT).
P_ROLE, P_HANDLE, P_RUN, P_WORK_RESPONSE, P_END_RUN, P_AUDIO_IN, P_INPUTS, P_AUDIO_OUT, P_OUTPUTS, P_MIDI, \
    P_MIDI_CAPACITY, P_BUS, P_TWIN, P_CONTROLS, P_CONTROL_COUNT, P_ATOM_OUTPUTS, P_INSTRUMENT, P_MIN_BLOCK, \
    P_MIDI_COUNT, P_MIDI_DROPPED, P_CHANGE_COUNT, P_LATENCY, P_DRY_WRITE = range(23)
PLUGIN_INT_FIELDS = 23  # P_INSTRUMENT: an instrument's column in the instrument table (its gain is there)
# P_LATENCY: an insert's latency, which its dry path (its rows of the dry table, P_DRY_WRITE the next
# frame's place) holds its input back by, so that crossfading or bypassing it never moves the bus in time.
ROLE_NONE, ROLE_INSTRUMENT, ROLE_INSERT = range(3)
# An insert's mix of its own output (wet) against its input: 1 while it plays, 0 bypassed (it then does
# not run); bypassing glides over the de-zipper time.
PV_WET, PV_WET_TARGET = range(2)
PLUGIN_VALUE_FIELDS = 2
# A MIDI message waiting for its plugin's run: the frame in the block, then its bytes and length.
PM_FRAME, PM_STATUS, PM_DATA1, PM_DATA2, PM_LENGTH = range(5)
PLUGIN_MIDI_FIELDS = 5
MAX_PLUGIN_MIDI = 512  # a plugin's MIDI messages in one block
# A change waiting for its plugin's run: the frame it applies on, the control port (CHANGE_BYPASS: the
# insert's bypass), the value.
PC_FRAME, PC_PORT, PC_VALUE = range(3)
PLUGIN_CHANGE_FIELDS = 3
CHANGE_BYPASS = -1
MAX_PLUGIN_CHANGES = 64  # a plugin's changes in one block
MAX_PLUGINS = 32
MAX_INSERTS = 8  # a bus's insert chain
MAX_ATOM_OUTPUTS = 4  # a plugin's atom output ports: (address, capacity in bytes) each, reset every run
# The LV2 worker, one record per plugin column (kernel/plugins.py): its request and response byte
# rings, and how to call the plugin's work() when rendering offline (synchronously).
W_REQUESTS, W_REQUEST_INDICES, W_RESPONSES, W_RESPONSE_INDICES, W_SCRATCH, W_SYNCHRONOUS, W_WORK, W_HANDLE, \
    W_RESPOND, W_REFUSED = range(10)
WORKER_FIELDS = 16  # 128 bytes a record: two cache lines
WORKER_RING_BYTES = 1 << 14
WORKER_MESSAGE_BYTES = 1 << 12  # the largest request or response

# Address table entries, each (address, dim0, dim1, dim2).
(A_CONFIG, A_CONFIG_FLOAT, A_KERNEL, A_TELEMETRY, A_TELEMETRY_FLOAT, A_VOICE_VALUES, A_VOICE_INTS,
 A_BUS_VALUES, A_BUS_INTS, A_BUS_ORDER, A_BUS_AUDIO, A_BUS_METERS, A_INPUT_AUDIO, A_INPUT_METERS,
 A_OUTPUT_MIX, A_INSTRUMENTS, A_PENDING, A_INPUT_RING_ROWS, A_INPUT_RING_INDICES, A_NOTIFY_ROWS,
 A_NOTIFY_INDICES, A_LTC_INTS, A_LTC_FLOATS, A_LTC_FRAMES, A_CHASE, A_CHASE_WINDOW, A_LTC_OUT_INTS,
 A_LTC_OUT_FLOATS, A_CUE_SLOTS, A_CUE_TEMPLATES, A_PART_GROUPS, A_GROUP_CLOSED, A_EVENT_SCRATCH, A_STEM_INTS,
 A_STEM_VALUES, A_STEM_AUDIO, A_SAMPLE_INTS, A_REGIONS, A_REGION_COUNTERS, A_CONTROLLERS,
 A_HELD_NOTES, A_PATCHES, A_WAVETABLES, A_SYNTH_VOICES, A_SYNTH_VOICE_INTS, A_SYNTH_SCRATCH, A_STAGED_PATCHES,
 A_STAGED_WAVETABLES, A_PLUGIN_INTS, A_PLUGIN_VALUES, A_BUS_INSERTS, A_PLUGIN_ATOM_OUTPUTS, A_WORKERS,
 A_BUS_DELAY_AUDIO, A_BUS_CHANGES, A_PLUGIN_MIDI, A_PLUGIN_CHANGES, A_PLUGIN_DRY, A_RESAMPLER,
 A_GROUP_PICTURE) = range(60)
TABLE_ENTRIES = 60
TABLE_ENTRY_WIDTH = 4

MAX_BUSES = 16
MAX_INSTRUMENTS = 64
MAX_CUES = 256  # armed at once; a film's score has a few hundred cues at most
PICKUP_SLOTS = 2  # cue slots after the show's, for rehearsal pickups (a cue from bar N), used in turn
CUE_SLOTS = MAX_CUES + PICKUP_SLOTS
CUE_TEMPLATE_ROWS = 256  # events a cue fires by itself (at least); the control plane posts the rest once it has fired
MAX_PARTS = 256
MAX_STEMS = 64
MAX_SAMPLES = 1 << 15  # sample slots of every sampler together
MAX_REGIONS = 1 << 15  # region rows of every sampler together
HELD_NOTE_SLOTS = 1024  # notes held on samplers at once (for release triggers and first/legato)

# Sample slots: one column each. The loader owns SI_FULL_ADDRESS and SI_FRAMES_READY while it
# reads a sample in full, publishing frames with a release store; the audio thread owns
# them only while it lets go of the full data (a LET_GO the loader posted).
SI_HEAD_ADDRESS, SI_HEAD_FRAMES, SI_FULL_ADDRESS, SI_FRAMES_READY, SI_FRAMES, SI_CHANNELS, SI_VOICES, \
    SI_REQUESTED = range(8)
SAMPLE_INT_FIELDS = 8

# A synth voice's own state, beside its column in the voice pool: oscillator phases (every
# unison copy of every oscillator), FM modulators, LFOs, the glide and the gains it smooths.
SV_PHASE = 0
SV_FM_PHASE = SV_PHASE + MAX_OSCILLATORS * MAX_UNISON
SV_FM_LAST = SV_FM_PHASE + MAX_OSCILLATORS
SV_LFO_PHASE = SV_FM_LAST + MAX_OSCILLATORS
SV_LFO_HELD = SV_LFO_PHASE + MAX_LFOS
SV_OSC_LEVEL = SV_LFO_HELD + MAX_LFOS
# From SV_SOUNDING_PITCH on: what the last segment worked out, kept so the next need not again.
SV_PITCH, SV_PITCH_TARGET, SV_GLIDE_STEP, SV_POLY_AFTERTOUCH, SV_SOUNDING_PITCH, SV_NOTE_INCREMENT, \
    SV_RESONANCE, SV_PAN, SV_PAN_LEFT, SV_PAN_RIGHT, SV_FILTER_MODE, SV_CUTOFF, SV_G_TARGET = \
    range(SV_OSC_LEVEL + MAX_OSCILLATORS, SV_OSC_LEVEL + MAX_OSCILLATORS + 13)
SYNTH_VOICE_FIELDS = SV_G_TARGET + 1
SVI_NOISE = 0  # the noise generator's state
SYNTH_VOICE_INT_FIELDS = 1

# Held notes (samplers: release regions, first/legato; synths: mono and legato): one row each;
# H_INSTRUMENT < 0: a free row.
H_NOTE_ID, H_INSTRUMENT, H_KEY, H_VELOCITY, H_SAMPLE, H_BUS = range(6)
HELD_NOTE_FIELDS = 6


@dataclass(frozen=True)
class BusLayout:
    """A bus as the engine sees it: a name, and either outputs or the bus it feeds."""

    name: str
    outputs: tuple[int, ...] = ()  # 0-based output channels, one (mono) or two (left, right)
    feeds: str | None = None
    gain: float = 1.0
    muted: bool = False


def _frames_per_day(fps: tuple[int, int], drop_frame: bool) -> int:
    return int(frame_count.as_python(24, 0, 0, 0, nominal_fps(fps), drop_frame))


# The picture's speed followed by default: 2 % either way, far beyond two free-running crystals
# (100 ppm) or a pull-down (0.1 %), far short of a shuttle or a scrub.
DEFAULT_FOLLOW_SPEED = 0.02


@dataclass(frozen=True)
class TimecodeInput:
    """Timecode the audio thread chases: LTC on an input channel, or frames posted as events (MTC)."""

    channel: int | None  # 0-based input channel carrying LTC; None: frames arrive as TIMECODE_FRAME events
    fps: tuple[int, int]  # exact frame rate: (24000, 1001), (25, 1), (30000, 1001), ...
    drop_frame: bool = False
    freewheel_seconds: float = 2.0  # how long the chase runs on through a dropout
    # How far from nominal the picture's speed may be while what cues started follows it (a share:
    # 0.02 is 2 %); beyond it (a scrub, a shuttle) that stops as for a jump.
    follow_speed: float = DEFAULT_FOLLOW_SPEED

    @property
    def frames_per_day(self) -> int:
        return _frames_per_day(self.fps, self.drop_frame)


@dataclass(frozen=True)
class TimecodeMaster:
    """The engine as timecode master: its own timecode runs at exactly `fps` from the frame
    labelled `start` on sample 0; timecode cues follow it, and LTC carries it on `ltc_channel`."""

    fps: tuple[int, int]  # exact frame rate: (24000, 1001), (25, 1), (30000, 1001), ...
    drop_frame: bool
    start: tuple[int, int, int, int]  # (hours, minutes, seconds, frames) of the frame at sample 0
    ltc_channel: int | None = None  # 0-based output channel of the generated LTC (no bus may play there)
    level_dbfs: float = DEFAULT_LEVEL_DBFS
    user_bits: int = 0

    @property
    def frames_per_day(self) -> int:
        return _frames_per_day(self.fps, self.drop_frame)

    def frame_count(self, label: tuple[int, int, int, int]) -> int:
        """Frames from midnight to `label` (hours, minutes, seconds, frames); ValueError if no frame
        carries that label at this rate."""
        hours, minutes, seconds, frames = label
        nominal = nominal_fps(self.fps)
        dropped = self.drop_frame and minutes % 10 != 0 and seconds == 0 and frames < DROPPED_FRAME_NUMBERS
        if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60 and 0 <= frames < nominal) or dropped:
            raise ValueError(f"{hours:02}:{minutes:02}:{seconds:02}:{frames:02} is no timecode at "
                             f"{self.fps[0]}/{self.fps[1]} fps{' drop-frame' if self.drop_frame else ''}")
        return int(frame_count.as_python(hours, minutes, seconds, frames, nominal, self.drop_frame))


SAMPLE_RATES = (44100, 48000, 96000)  # what shows, renders and play run at: the rates the tests cover


@dataclass(frozen=True)
class EngineSettings:
    sample_rate: int = 48000
    max_block: int = 256
    output_channels: int = 2
    input_channels: int = 0
    polyphony: int = 512
    buses: tuple[BusLayout, ...] = (
        BusLayout("master", outputs=(0, 1)),
        BusLayout("keys", feeds="master"),
        BusLayout("stems", feeds="master"),
        BusLayout("click"),
    )
    input_rings: tuple[str, ...] = ("control", "midi", "osc", "show", "keyboards", "samples")
    ring_capacity: int = 1024
    notify_capacity: int = 8192
    pending_capacity: int = 2048
    cue_template_rows: int = CUE_TEMPLATE_ROWS  # each cue slot's; a show with a busier first instant asks more
    limiter_ceiling: float = 10 ** (-0.3 / 20)
    limiter_release_seconds: float = 0.080
    fade_seconds: float = 0.005  # stolen voices and panic: fast, yet never a click
    dezipper_seconds: float = 0.005  # shortest ramp for any gain change
    meter_peak_fall_db_per_second: float = 20.0
    meter_rms_seconds: float = 0.300
    timecode: TimecodeInput | None = None  # the timecode to chase, or None
    timecode_master: TimecodeMaster | None = None  # or the engine's own timecode, or None (no timecode cues)
    stems: int = 0  # stem slots
    stem_buffer_seconds: float = 8.0  # how far ahead of the play position each stem is read
    interpolation: str = "cubic"  # of sample voices: "cubic" (4-point Hermite) or "linear"

    @property
    def voice_slots(self) -> int:
        # Headroom above the polyphony, so a stolen voice can fade while its successor starts.
        return self.polyphony + max(16, self.polyphony // 8)


def bus_mix_order(buses: tuple[BusLayout, ...]) -> list[int]:
    """Bus indices ordered so every bus is mixed before the bus it feeds."""
    index = {bus.name: i for i, bus in enumerate(buses)}
    order: list[int] = []
    placed: set[int] = set()

    def place(i: int, path: tuple[int, ...]):
        if i in placed:
            return
        if i in path:
            raise ValueError("bus routing has a cycle: " + " -> ".join(buses[j].name for j in path + (i,)))
        for j, other in enumerate(buses):
            if other.feeds == buses[i].name:
                place(j, path + (i,))
        placed.add(i)
        order.append(i)

    for bus in buses:
        if bus.feeds is not None and bus.feeds not in index:
            raise ValueError(f"bus {bus.name!r} feeds unknown bus {bus.feeds!r}")
    for i in range(len(buses)):
        place(i, ())
    return order


class EngineState:
    """All the memory of one engine, and the address table that hands it to the kernel."""

    def __init__(self, settings: EngineSettings):
        s = settings
        if len(s.buses) > MAX_BUSES:
            raise ValueError(f"at most {MAX_BUSES} buses, got {len(s.buses)}")
        self.settings = s
        self.bus_index = {bus.name: i for i, bus in enumerate(s.buses)}
        slots = s.voice_slots
        nbus = len(s.buses)

        self.config = np.zeros(CONFIG_INT_FIELDS, np.int64)
        self.config[C_SAMPLE_RATE] = s.sample_rate
        self.config[C_MAX_BLOCK] = s.max_block
        self.config[C_OUTPUT_CHANNELS] = s.output_channels
        self.config[C_INPUT_CHANNELS] = s.input_channels
        self.config[C_POLYPHONY] = s.polyphony
        self.config[C_BUS_COUNT] = nbus
        if s.interpolation not in ("cubic", "linear"):
            raise ValueError(f"interpolation is cubic or linear, not {s.interpolation!r}")
        self.config[C_INTERPOLATION] = INTERPOLATION_CUBIC if s.interpolation == "cubic" else INTERPOLATION_LINEAR
        self.config_float = np.zeros(CONFIG_FLOAT_FIELDS, np.float64)
        self._lay_out_timecode(s)
        rate = float(s.sample_rate)
        self.config_float[CF_LIMITER_CEILING] = s.limiter_ceiling
        self.config_float[CF_LIMITER_RELEASE_COEFF] = 1.0 - np.exp(-1.0 / (s.limiter_release_seconds * rate))
        self.config_float[CF_PEAK_DECAY] = 10 ** (-s.meter_peak_fall_db_per_second / 20 / rate)
        self.config_float[CF_MEAN_SQUARE_COEFF] = 1.0 - np.exp(-1.0 / (s.meter_rms_seconds * rate))
        self.config_float[CF_FADE_SAMPLES] = max(1.0, round(s.fade_seconds * rate))
        self.config_float[CF_DEZIPPER_SAMPLES] = max(1.0, round(s.dezipper_seconds * rate))
        self.config_float[CF_BLOCK_APPROACH] = np.exp(-GLIDES_PER_DEZIPPER * s.max_block /
                                                      self.config_float[CF_DEZIPPER_SAMPLES])

        self.kernel = np.zeros(KERNEL_FIELDS, np.int64)
        self.telemetry = np.zeros(TELEMETRY_INT_FIELDS, np.int64)
        self.telemetry_float = np.zeros(TELEMETRY_FLOAT_FIELDS, np.float64)

        self.voice_values = np.zeros((VOICE_VALUE_FIELDS, slots), np.float64)
        self.voice_ints = np.zeros((VOICE_INT_FIELDS, slots), np.int64)

        self.bus_values = np.zeros((BUS_VALUE_FIELDS, nbus), np.float64)
        self.bus_ints = np.full((BUS_INT_FIELDS, nbus), -1, np.int64)
        self.bus_ints[B_DELAY] = self.bus_ints[B_DELAY_WRITE] = self.bus_ints[B_CHANGE_COUNT] = 0
        self.bus_changes = np.zeros((nbus, MAX_BUS_CHANGES, BUS_CHANGE_FIELDS), np.float64)
        self.bus_delay_audio = np.zeros((nbus, 2, MAX_COMPENSATION), np.float64)
        for i, bus in enumerate(s.buses):
            if bus.feeds is not None and bus.outputs:
                raise ValueError(f"bus {bus.name!r} has both outputs and a bus it feeds")
            if any(not 0 <= ch < s.output_channels for ch in bus.outputs) or len(bus.outputs) > 2:
                raise ValueError(f"bus {bus.name!r}: outputs {bus.outputs} outside 0..{s.output_channels - 1}")
            gain = float(bus.gain)
            self.bus_values[B_GAIN, i] = self.bus_values[B_GAIN_TARGET, i] = gain
            self.bus_values[B_MUTE_GAIN, i] = self.bus_values[B_MUTE_TARGET, i] = 0.0 if bus.muted else 1.0
            self.bus_values[B_LIMITER_GAIN, i] = 1.0
            if bus.feeds is not None:
                self.bus_ints[B_FEEDS, i] = self.bus_index[bus.feeds]
            if bus.outputs:
                self.bus_ints[B_OUTPUT_LEFT, i] = bus.outputs[0]
                self.bus_ints[B_OUTPUT_RIGHT, i] = bus.outputs[-1] if len(bus.outputs) == 2 else -1
        self.bus_order = np.array(bus_mix_order(s.buses), np.int64)
        self.bus_audio = np.zeros((nbus, 2, s.max_block), np.float64)
        self.bus_meters = np.zeros((BUS_METER_FIELDS, nbus), np.float64)

        inputs = max(1, s.input_channels)  # one silent row keeps the shapes valid with no inputs
        self.input_audio = np.zeros((inputs, s.max_block), np.float64)
        self.input_meters = np.zeros((INPUT_METER_FIELDS, inputs), np.float64)
        self.output_mix = np.zeros((s.output_channels, s.max_block), np.float64)

        self.instruments = np.zeros((INSTRUMENT_FIELDS, MAX_INSTRUMENTS), np.float64)
        self.pending = np.zeros((s.pending_capacity, PENDING_WIDTH), np.float64)
        self.event_scratch = np.zeros(PENDING_WIDTH, np.float64)  # the event being applied, out of the pending set

        self.cue_slots = np.zeros((CUE_SLOT_FIELDS, CUE_SLOTS), np.float64)
        self.cue_templates = np.zeros((CUE_SLOTS, s.cue_template_rows, EVENT_WIDTH), np.float64)
        self.part_groups = np.zeros(MAX_PARTS, np.int64)  # each part's current note group; 0: not playing
        self.group_closed = np.zeros(NOTE_GROUPS, np.int64)
        self.group_picture = np.zeros((NOTE_GROUPS, GROUP_PICTURE_FIELDS), np.float64)
        self.kernel[K_NEXT_GROUP] = 1

        if s.stems > MAX_STEMS:
            raise ValueError(f"at most {MAX_STEMS} stems, got {s.stems}")
        stem_slots = max(1, s.stems)  # one idle slot keeps the shapes valid with no stems
        self.stem_ints = np.zeros((STEM_INT_FIELDS, stem_slots), np.int64)
        self.stem_values = np.zeros((STEM_VALUE_FIELDS, stem_slots), np.float64)
        self.stem_audio = np.zeros((stem_slots, round(s.stem_buffer_seconds * s.sample_rate) if s.stems else 1, 2),
                                   np.float32)
        self.resampler = sinc_table()  # the weights stems that follow the picture are read with

        self.sample_ints = np.zeros((SAMPLE_INT_FIELDS, MAX_SAMPLES), np.int64)
        self.regions = np.zeros((MAX_REGIONS, REGION_FIELDS), np.float64)
        self.region_counters = np.zeros(MAX_REGIONS, np.int64)  # round-robin counts, the audio thread's
        self.controllers = np.zeros((MAX_INSTRUMENTS, CONTROLLERS), np.float64)
        self.held_notes = np.full((HELD_NOTE_SLOTS, HELD_NOTE_FIELDS), -1.0, np.float64)
        self.kernel[K_RANDOM] = 0x2545F4914F6CDD1D  # any non-zero seed: renders repeat exactly
        # A synth's patch, and where a reload stages the next one (the audio thread swaps them).
        self.patches = np.zeros((MAX_INSTRUMENTS, PATCH_FIELDS), np.float64)
        self.staged_patches = np.zeros((MAX_INSTRUMENTS, PATCH_FIELDS), np.float64)
        self.wavetables = np.zeros((MAX_INSTRUMENTS, MAX_OSCILLATORS, 3), np.int64)  # address, rows, columns
        self.staged_wavetables = np.zeros((MAX_INSTRUMENTS, MAX_OSCILLATORS, 3), np.int64)
        self.synth_voices = np.zeros((SYNTH_VOICE_FIELDS, slots), np.float64)
        self.synth_voice_ints = np.zeros((SYNTH_VOICE_INT_FIELDS, slots), np.int64)
        self.synth_scratch = np.zeros((3, s.max_block), np.float64)  # a voice's pair, an oscillator copy's wave

        self._lay_out_plugins(nbus)

        self.input_ring_rows = np.zeros((len(s.input_rings), s.ring_capacity, EVENT_WIDTH), np.float64)
        self.input_ring_indices = np.zeros((len(s.input_rings), INDEX_WORDS), np.int64)
        self.input_rings = {name: Ring.over(self.input_ring_rows[i], self.input_ring_indices[i])
                            for i, name in enumerate(s.input_rings)}
        self.notify_ring = Ring(s.notify_capacity)

        self.table = np.zeros((TABLE_ENTRIES, TABLE_ENTRY_WIDTH), np.int64)
        for entry, array in (
            (A_CONFIG, self.config), (A_CONFIG_FLOAT, self.config_float), (A_KERNEL, self.kernel),
            (A_TELEMETRY, self.telemetry), (A_TELEMETRY_FLOAT, self.telemetry_float),
            (A_VOICE_VALUES, self.voice_values), (A_VOICE_INTS, self.voice_ints),
            (A_BUS_VALUES, self.bus_values), (A_BUS_INTS, self.bus_ints), (A_BUS_ORDER, self.bus_order),
            (A_BUS_AUDIO, self.bus_audio), (A_BUS_METERS, self.bus_meters),
            (A_INPUT_AUDIO, self.input_audio), (A_INPUT_METERS, self.input_meters),
            (A_OUTPUT_MIX, self.output_mix), (A_INSTRUMENTS, self.instruments), (A_PENDING, self.pending),
            (A_INPUT_RING_ROWS, self.input_ring_rows), (A_INPUT_RING_INDICES, self.input_ring_indices),
            (A_NOTIFY_ROWS, self.notify_ring.rows), (A_NOTIFY_INDICES, self.notify_ring.indices),
            (A_LTC_INTS, self.ltc_ints), (A_LTC_FLOATS, self.ltc_floats), (A_LTC_FRAMES, self.ltc_frames),
            (A_CHASE, self.chase), (A_CHASE_WINDOW, self.chase_window),
            (A_LTC_OUT_INTS, self.ltc_out_ints), (A_LTC_OUT_FLOATS, self.ltc_out_floats),
            (A_CUE_SLOTS, self.cue_slots), (A_CUE_TEMPLATES, self.cue_templates),
            (A_PART_GROUPS, self.part_groups), (A_GROUP_CLOSED, self.group_closed),
            (A_EVENT_SCRATCH, self.event_scratch),
            (A_STEM_INTS, self.stem_ints), (A_STEM_VALUES, self.stem_values), (A_STEM_AUDIO, self.stem_audio),
            (A_SAMPLE_INTS, self.sample_ints), (A_REGIONS, self.regions), (A_REGION_COUNTERS, self.region_counters),
            (A_CONTROLLERS, self.controllers), (A_HELD_NOTES, self.held_notes), (A_PATCHES, self.patches),
            (A_WAVETABLES, self.wavetables), (A_SYNTH_VOICES, self.synth_voices),
            (A_SYNTH_VOICE_INTS, self.synth_voice_ints), (A_SYNTH_SCRATCH, self.synth_scratch),
            (A_STAGED_PATCHES, self.staged_patches), (A_STAGED_WAVETABLES, self.staged_wavetables),
            (A_PLUGIN_INTS, self.plugin_ints), (A_PLUGIN_VALUES, self.plugin_values),
            (A_BUS_INSERTS, self.bus_inserts), (A_PLUGIN_ATOM_OUTPUTS, self.plugin_atom_outputs),
            (A_WORKERS, self.workers), (A_BUS_DELAY_AUDIO, self.bus_delay_audio), (A_BUS_CHANGES, self.bus_changes),
            (A_PLUGIN_MIDI, self.plugin_midi), (A_PLUGIN_CHANGES, self.plugin_changes),
            (A_PLUGIN_DRY, self.plugin_dry), (A_RESAMPLER, self.resampler), (A_GROUP_PICTURE, self.group_picture),
        ):
            self._enter(entry, array)

    def _lay_out_plugins(self, nbus: int):
        """Plugin columns, insert chains and worker records, all empty until a plugin is installed. Each
        worker record holds the addresses of its own rings: the plugin hands it to schedule_work as is."""
        self.plugin_ints = np.zeros((PLUGIN_INT_FIELDS, MAX_PLUGINS), np.int64)
        self.plugin_ints[P_TWIN] = -1
        self.plugin_values = np.zeros((PLUGIN_VALUE_FIELDS, MAX_PLUGINS), np.float64)
        self.bus_inserts = np.full((nbus, MAX_INSERTS), -1, np.int64)
        self.plugin_atom_outputs = np.zeros((MAX_PLUGINS, MAX_ATOM_OUTPUTS, 2), np.int64)
        self.plugin_midi = np.zeros((MAX_PLUGINS, MAX_PLUGIN_MIDI, PLUGIN_MIDI_FIELDS), np.float64)
        self.plugin_changes = np.zeros((MAX_PLUGINS, MAX_PLUGIN_CHANGES, PLUGIN_CHANGE_FIELDS), np.float64)
        self.plugin_dry = np.zeros((MAX_PLUGINS, 2, MAX_COMPENSATION), np.float64)
        self.worker_bytes = np.zeros((MAX_PLUGINS, 2, WORKER_RING_BYTES), np.uint8)
        self.worker_indices = np.zeros((MAX_PLUGINS, 2, INDEX_WORDS), np.int64)
        self.worker_scratch = np.zeros((MAX_PLUGINS, 2, WORKER_MESSAGE_BYTES), np.uint8)
        self.workers = np.zeros((MAX_PLUGINS, WORKER_FIELDS), np.int64)
        for plugin in range(MAX_PLUGINS):
            record = self.workers[plugin]
            record[W_REQUESTS] = self.worker_bytes[plugin, 0].ctypes.data
            record[W_REQUEST_INDICES] = self.worker_indices[plugin, 0].ctypes.data
            record[W_RESPONSES] = self.worker_bytes[plugin, 1].ctypes.data
            record[W_RESPONSE_INDICES] = self.worker_indices[plugin, 1].ctypes.data
            record[W_SCRATCH] = self.worker_scratch[plugin].ctypes.data
            record[W_SYNCHRONOUS] = 1

    def run_plugin_workers_live(self, live: bool):
        """Live, an LV2 plugin's work() runs on the worker thread (engine/pluginrack.py); offline (as before
        a stream opens), inside its schedule_work, so that a render is the same every time."""
        self.workers[:, W_SYNCHRONOUS] = 0 if live else 1

    def _lay_out_timecode(self, s: EngineSettings):
        """The chase or the master's line, the LTC decoder and generator. Memory nothing uses stays
        zero: the kernel reads it only in the mode that fills it."""
        chased, master = s.timecode, s.timecode_master
        if chased is not None and master is not None:
            raise ValueError("an engine chases a timecode or is the timecode master, not both")
        self.config[C_TIMECODE_MODE] = TIMECODE_CHASE if chased else TIMECODE_MASTER if master else TIMECODE_NONE
        self.config[C_TIMECODE_INPUT] = -1
        self.config[C_TIMECODE_OUTPUT] = -1
        self.ltc_ints, self.ltc_floats = np.zeros(DECODER_INTS, np.int64), np.zeros(DECODER_FLOATS)
        self.ltc_frames = np.zeros((1, FRAME_FIELDS))
        self.ltc_out_ints, self.ltc_out_floats = np.zeros(ENCODER_INTS, np.int64), np.zeros(ENCODER_FLOATS)
        self.chase, self.chase_window = np.zeros(STATE_FIELDS), np.zeros((WINDOW, 2))
        if chased is not None:
            self.config[C_TIMECODE_NOMINAL] = nominal_fps(chased.fps)
            if not 0.0 < chased.follow_speed <= PERIOD_TOLERANCE:
                raise ValueError(f"follow_speed {chased.follow_speed!r}: expected a share of the nominal speed above 0 "
                                 f"and at most {PERIOD_TOLERANCE:g} (the chase loses timecode further off)")
            self.config_float[CF_FOLLOW_SPEED] = chased.follow_speed
            self.config[C_TIMECODE_DROP_FRAME] = chased.drop_frame
            if chased.channel is not None:
                if not 0 <= chased.channel < s.input_channels:
                    raise ValueError(f"timecode input {chased.channel + 1} is not one of the {s.input_channels} inputs")
                self.config[C_TIMECODE_INPUT] = chased.channel
                self.ltc_ints, self.ltc_floats = decoder_state(s.sample_rate, chased.fps)
                self.ltc_frames = np.zeros((frames_per_block(s.max_block, s.sample_rate, chased.fps), FRAME_FIELDS))
            self.chase, self.chase_window = new_chase(s.sample_rate, chased.fps, chased.frames_per_day,
                                                      chased.freewheel_seconds)
        if master is not None:
            self.config[C_TIMECODE_NOMINAL] = nominal_fps(master.fps)
            self.config[C_TIMECODE_DROP_FRAME] = master.drop_frame
            self.chase, self.chase_window = new_master(s.sample_rate, master.fps, master.frames_per_day,
                                                       master.frame_count(master.start))
            if master.ltc_channel is not None:
                if not 0 <= master.ltc_channel < s.output_channels:
                    raise ValueError(f"LTC output {master.ltc_channel + 1} is not one of the {s.output_channels} "
                                     f"outputs")
                sharing = [bus.name for bus in s.buses if master.ltc_channel in bus.outputs]
                if sharing:
                    raise ValueError(f"LTC output {master.ltc_channel + 1} is also an output of bus {sharing[0]!r}")
                self.config[C_TIMECODE_OUTPUT] = master.ltc_channel
                self.ltc_out_ints, self.ltc_out_floats = encoder_state(
                    s.sample_rate, master.fps, master.start, master.drop_frame, master.user_bits, master.level_dbfs)

    def _enter(self, entry: int, array: np.ndarray):
        if not array.flags.c_contiguous:
            raise ValueError("the kernel reads only C-contiguous arrays")
        self.table[entry, 0] = array.ctypes.data
        self.table[entry, 1:1 + array.ndim] = array.shape

    @property
    def table_address(self) -> int:
        """The user-data pointer the audio callback receives."""
        return self.table.ctypes.data
