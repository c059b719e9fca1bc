"""LV2 plugins in the audio thread: instruments and bus inserts, run on the engine's own samples.

The control plane instantiates each plugin and connects its ports once, to buffers it owns
(engine/plugins.py); the kernel copies audio into and out of those buffers, writes MIDI into the
plugin's atom:Sequence, resets its atom outputs, and calls its run(). A plugin runs once a block, after
the voices: what events ask of it waits until then at its frame in the block (kernel/state.py's MIDI and
change tables), so a note reaches an instrument stamped with its own frame, and the run is split where a
control change or a bypass applies (never shorter than the plugin's minimum block length).
After each run, the plugin's worker's responses go to its work_response (kernel/worker.py), then its
end_run is called.
"""

import numpy as np
from numba import carray

from .intrinsics import address_as_void_pointer, call_status_at, call_void_at
from .memory import f64_1d, f64_2d, f64_3d, i64_1d, i64_2d, i64_3d
from .realtime import realtime, realtime_inline, realtime_unit
from .worker import byte_view, deliver_work_responses, padded
from .state import (
    A_BUS_INSERTS,
    A_CONFIG,
    A_CONFIG_FLOAT,
    A_INSTRUMENTS,
    A_PLUGIN_ATOM_OUTPUTS,
    A_PLUGIN_CHANGES,
    A_PLUGIN_DRY,
    A_PLUGIN_INTS,
    A_PLUGIN_MIDI,
    A_PLUGIN_VALUES,
    A_TELEMETRY,
    A_WORKERS,
    CF_DEZIPPER_SAMPLES,
    CHANGE_BYPASS,
    C_MAX_BLOCK,
    C_URID_CHUNK,
    C_URID_MIDI_EVENT,
    C_URID_SEQUENCE,
    I_GAIN,
    I_KIND,
    I_PLUGIN,
    KIND_PLUGIN,
    MAX_PLUGINS,
    MAX_PLUGIN_CHANGES,
    MAX_PLUGIN_MIDI,
    PC_FRAME,
    PC_PORT,
    PC_VALUE,
    PLUGIN_CHANGE_FIELDS,
    PM_DATA1,
    PM_DATA2,
    PM_FRAME,
    PM_LENGTH,
    PM_STATUS,
    PV_WET,
    PV_WET_TARGET,
    P_ATOM_OUTPUTS,
    P_AUDIO_IN,
    P_AUDIO_OUT,
    P_BUS,
    P_CHANGE_COUNT,
    P_CONTROLS,
    P_CONTROL_COUNT,
    P_DRY_WRITE,
    P_END_RUN,
    P_HANDLE,
    P_INPUTS,
    P_INSTRUMENT,
    P_LATENCY,
    P_MIDI,
    P_MIDI_CAPACITY,
    P_MIDI_COUNT,
    P_MIDI_DROPPED,
    P_MIN_BLOCK,
    P_OUTPUTS,
    P_ROLE,
    P_RUN,
    P_TWIN,
    P_WORK_RESPONSE,
    ROLE_INSERT,
    ROLE_INSTRUMENT,
    ROLE_NONE,
    T_POSITION,
)

SQRT_HALF = 0.7071067811865476  # a mono signal on both sides of a stereo bus, and back: the same level
SEQUENCE_BODY_BYTES = 8  # LV2_Atom_Sequence_Body: unit, pad
ATOM_HEADER_BYTES = 8  # LV2_Atom: size, type
EVENT_HEADER_BYTES = 16  # LV2_Atom_Event: frames (int64), then its LV2_Atom


@realtime_inline
def word_view(address, count):
    return carray(address_as_void_pointer(address), (count,), np.uint32)


# Running a plugin.

@realtime
def block_frame(table, sample):
    """Where `sample` falls in the block being rendered (the telemetry's position is the block's start)."""
    return max(0, int(sample) - i64_1d(table, A_TELEMETRY)[T_POSITION])


@realtime
def write_midi_piece(table, plugin, start, end):
    """The plugin's MIDI input, for a run over the block's frames [start, end): an atom:Sequence of its
    waiting messages from those frames, each at its frame in the run. What does not fit is dropped (and
    counted): the buffer holds at least 8 KiB, 500 messages."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    config = i64_1d(table, A_CONFIG)
    address = ints[P_MIDI, plugin]
    words = word_view(address, 4)
    words[0] = SEQUENCE_BODY_BYTES
    words[1] = config[C_URID_SEQUENCE]
    words[2] = 0  # unit: frames
    words[3] = 0
    waiting = f64_3d(table, A_PLUGIN_MIDI)
    for row in range(ints[P_MIDI_COUNT, plugin]):
        frame = waiting[plugin, row, PM_FRAME]
        if not start <= frame < end:
            continue
        length = int(waiting[plugin, row, PM_LENGTH])
        offset = ATOM_HEADER_BYTES + words[0]
        needed = EVENT_HEADER_BYTES + padded(length)
        if offset + needed > ints[P_MIDI_CAPACITY, plugin]:
            ints[P_MIDI_DROPPED, plugin] += 1
            continue
        carray(address_as_void_pointer(address + offset), (1,), np.int64)[0] = int(frame) - start
        header = word_view(address + offset + 8, 2)
        header[0] = length
        header[1] = config[C_URID_MIDI_EVENT]
        message = byte_view(address + offset + EVENT_HEADER_BYTES, 8)
        message[0] = int(waiting[plugin, row, PM_STATUS])
        message[1] = int(waiting[plugin, row, PM_DATA1])
        message[2] = int(waiting[plugin, row, PM_DATA2])
        words[0] += needed


@realtime
def run_plugin(table, plugin, frames):
    """One run() of `frames` frames on the buffers connected to its ports, then its worker's responses and
    end_run."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    config = i64_1d(table, A_CONFIG)
    outputs = i64_3d(table, A_PLUGIN_ATOM_OUTPUTS)
    for port in range(ints[P_ATOM_OUTPUTS, plugin]):
        words = word_view(outputs[plugin, port, 0], 2)
        words[0] = outputs[plugin, port, 1] - ATOM_HEADER_BYTES
        words[1] = config[C_URID_CHUNK]
    handle = ints[P_HANDLE, plugin]
    call_void_at(ints[P_RUN, plugin], (handle, np.uint32(frames)))
    if ints[P_WORK_RESPONSE, plugin] != 0:
        deliver_work_responses(i64_2d(table, A_WORKERS)[plugin], ints[P_WORK_RESPONSE, plugin], handle)
    if ints[P_END_RUN, plugin] != 0:
        call_status_at(ints[P_END_RUN, plugin], (handle,))


@realtime_inline
def audio_rows(address, rows, max_block):
    return carray(address_as_void_pointer(address), (rows, max_block), np.float32)


@realtime
def instrument_piece(table, bus_audio, plugin, start, end):
    """An LV2 instrument's run over the block's frames [start, end), its output added into its bus at the
    instrument's gain (a mono output on both sides, at the level it would have folded back to mono)."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    if ints[P_MIDI, plugin] != 0:
        write_midi_piece(table, plugin, start, end)
    run_plugin(table, plugin, end - start)
    out = audio_rows(ints[P_AUDIO_OUT, plugin], ints[P_OUTPUTS, plugin], i64_1d(table, A_CONFIG)[C_MAX_BLOCK])
    bus = ints[P_BUS, plugin]
    right = 1 if ints[P_OUTPUTS, plugin] > 1 else 0
    scale = f64_2d(table, A_INSTRUMENTS)[I_GAIN, ints[P_INSTRUMENT, plugin]] * (1.0 if right else SQRT_HALF)
    for i in range(start, end):
        bus_audio[bus, 0, i] += scale * out[0, i - start]
        bus_audio[bus, 1, i] += scale * out[right, i - start]


@realtime
def delay_dry(table, bus_audio, plugin, bus, start, end):
    """The insert's input, held back by the insert's own latency in place (its dry path, so that
    bypassing it neither moves the bus in time nor combs the crossfade)."""
    latency = i64_2d(table, A_PLUGIN_INTS)[P_LATENCY, plugin]
    if latency == 0:
        return
    ints = i64_2d(table, A_PLUGIN_INTS)
    line = f64_3d(table, A_PLUGIN_DRY)
    mask = line.shape[2] - 1
    write = ints[P_DRY_WRITE, plugin]
    for i in range(start, end):
        for channel in range(2):
            line[plugin, channel, write] = bus_audio[bus, channel, i]
            bus_audio[bus, channel, i] = line[plugin, channel, (write - latency) & mask]
        write = (write + 1) & mask
    ints[P_DRY_WRITE, plugin] = write


@realtime
def insert_piece(table, bus_audio, plugin, start, end):
    """An insert's run over the block's frames [start, end) of its bus: its output replaces its input,
    crossfaded by its wet level against its dry path. Bypassed for good, it does not run: the bus passes
    through its dry path."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    values = f64_2d(table, A_PLUGIN_VALUES)
    wet = values[PV_WET, plugin]
    target = values[PV_WET_TARGET, plugin]
    bus = ints[P_BUS, plugin]
    if wet == 0.0 and target == 0.0:
        delay_dry(table, bus_audio, plugin, bus, start, end)
        return
    max_block = i64_1d(table, A_CONFIG)[C_MAX_BLOCK]
    twin = ints[P_TWIN, plugin]
    frames = end - start
    first_in = audio_rows(ints[P_AUDIO_IN, plugin], ints[P_INPUTS, plugin], max_block)
    first_out = audio_rows(ints[P_AUDIO_OUT, plugin], ints[P_OUTPUTS, plugin], max_block)
    stereo_in = ints[P_INPUTS, plugin] == 2
    for i in range(frames):
        left = bus_audio[bus, 0, start + i]
        right = bus_audio[bus, 1, start + i]
        if stereo_in:
            first_in[0, i] = left
            first_in[1, i] = right
        elif twin >= 0:
            first_in[0, i] = left
        else:
            first_in[0, i] = (left + right) * SQRT_HALF
    run_plugin(table, plugin, frames)
    second_out = first_out
    right_row = 1 if ints[P_OUTPUTS, plugin] > 1 else 0
    if twin >= 0:
        twin_in = audio_rows(ints[P_AUDIO_IN, twin], 1, max_block)
        for i in range(frames):
            twin_in[0, i] = bus_audio[bus, 1, start + i]
        run_plugin(table, twin, frames)
        second_out = audio_rows(ints[P_AUDIO_OUT, twin], 1, max_block)
        right_row = 0
    delay_dry(table, bus_audio, plugin, bus, start, end)
    wet_step = 1.0 / f64_1d(table, A_CONFIG_FLOAT)[CF_DEZIPPER_SAMPLES]
    for i in range(frames):
        if wet != target:
            wet = min(target, wet + wet_step) if wet < target else max(target, wet - wet_step)
        left = bus_audio[bus, 0, start + i]
        right = bus_audio[bus, 1, start + i]
        bus_audio[bus, 0, start + i] = left + (first_out[0, i] - left) * wet
        bus_audio[bus, 1, start + i] = right + (second_out[right_row, i] - right) * wet
    values[PV_WET, plugin] = wet


@realtime
def run_piece(table, bus_audio, plugin, start, end):
    if i64_2d(table, A_PLUGIN_INTS)[P_ROLE, plugin] == ROLE_INSTRUMENT:
        instrument_piece(table, bus_audio, plugin, start, end)
    else:
        insert_piece(table, bus_audio, plugin, start, end)


@realtime_inline
def set_control(ints, column, port, value):
    carray(address_as_void_pointer(ints[P_CONTROLS, column]), (ints[P_CONTROL_COUNT, column],),
           np.float32)[port] = np.float32(value)


@realtime
def apply_change(table, plugin, port, value):
    """A waiting change, now: a bypass, or a control of the plugin (and of its twin, a mono insert's right side)."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    if port == CHANGE_BYPASS:
        f64_2d(table, A_PLUGIN_VALUES)[PV_WET_TARGET, plugin] = 0.0 if value != 0.0 else 1.0
        return
    set_control(ints, plugin, port, value)
    if ints[P_TWIN, plugin] >= 0:
        set_control(ints, ints[P_TWIN, plugin], port, value)


@realtime
def run_for_block(table, bus_audio, plugin, frames):
    """The plugin's run over the block's `frames` frames, split where its changes apply: each on its frame,
    unless that would make a run shorter than the plugin's minimum (then on the start of the run it falls in)."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    changes = f64_3d(table, A_PLUGIN_CHANGES)
    shortest = ints[P_MIN_BLOCK, plugin]
    piece_start = 0
    for row in range(ints[P_CHANGE_COUNT, plugin]):
        frame = int(changes[plugin, row, PC_FRAME])
        if frame - piece_start >= max(1, shortest) and frames - frame >= shortest:
            run_piece(table, bus_audio, plugin, piece_start, frame)
            piece_start = frame
        apply_change(table, plugin, int(changes[plugin, row, PC_PORT]), changes[plugin, row, PC_VALUE])
    if frames > piece_start:
        run_piece(table, bus_audio, plugin, piece_start, frames)
    ints[P_CHANGE_COUNT, plugin] = 0
    ints[P_MIDI_COUNT, plugin] = 0


@realtime_unit("(int64[:, ::1], float64[:, :, ::1], int64)")
def render_plugin_instruments(table, bus_audio, frames):
    """Every LV2 instrument runs over the block, its MIDI at its frames, and adds its output into its bus."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    for plugin in range(MAX_PLUGINS):
        if ints[P_ROLE, plugin] == ROLE_INSTRUMENT:
            run_for_block(table, bus_audio, plugin, frames)


@realtime
def run_inserts(table, bus_audio, bus, frames):
    """The bus's insert chain, in order, over the block."""
    inserts = i64_2d(table, A_BUS_INSERTS)
    for k in range(inserts.shape[1]):
        plugin = inserts[bus, k]
        if plugin < 0:
            break
        run_for_block(table, bus_audio, plugin, frames)


@realtime
def instrument_plugin(table, instrument):
    """The plugin column of an LV2 instrument, or -1."""
    instruments = f64_2d(table, A_INSTRUMENTS)
    if not 0 <= instrument < instruments.shape[1] or instruments[I_KIND, instrument] != KIND_PLUGIN:
        return -1
    return int(instruments[I_PLUGIN, instrument])


# What events do to plugins: each waits for the plugin's run, at its frame in the block.

@realtime
def queue_midi(table, plugin, sample, status, data1, data2, length):
    """A MIDI message of `length` (1-3) bytes for the plugin, on `sample`; False when its block holds too
    many already (dropped, and counted)."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    count = ints[P_MIDI_COUNT, plugin]
    if count >= MAX_PLUGIN_MIDI:
        ints[P_MIDI_DROPPED, plugin] += 1
        return False
    row = f64_3d(table, A_PLUGIN_MIDI)[plugin, count]
    row[PM_FRAME] = block_frame(table, sample)
    row[PM_STATUS] = status
    row[PM_DATA1] = data1
    row[PM_DATA2] = data2
    row[PM_LENGTH] = length
    ints[P_MIDI_COUNT, plugin] = count + 1
    return True


@realtime
def superseded_change(changes, count):
    """The first of the `count` waiting changes that a later one of the same port follows; -1 if none is."""
    for row in range(count):
        for later in range(row + 1, count):
            if changes[later, PC_PORT] == changes[row, PC_PORT]:
                return row
    return -1


@realtime
def queue_change(table, plugin, sample, port, value):
    """A control change (or, `port` CHANGE_BYPASS, a bypass) on `sample`; False when there is no such port,
    or the plugin's block holds as many changes as it can, each the last of its port (the event is rejected,
    and counted as such). A change takes the place of the last one waiting for its port when that one is on
    the same frame (only the later would sound), and when the block holds no more (it then lands on that
    one's frame); a port with none waiting takes the room of a change another change of its port follows.
    So a flood of changes (an OSC client's fader, a glide's steps) ends on its last value, and crowds out no
    other port's."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    if not 0 <= plugin < MAX_PLUGINS or ints[P_ROLE, plugin] == ROLE_NONE:
        return False
    if port == CHANGE_BYPASS:
        if ints[P_ROLE, plugin] != ROLE_INSERT:
            return False
    elif not 0 <= port < ints[P_CONTROL_COUNT, plugin]:
        return False
    changes = f64_3d(table, A_PLUGIN_CHANGES)
    frame = block_frame(table, sample)
    count = ints[P_CHANGE_COUNT, plugin]
    latest = -1
    for row in range(count):
        if changes[plugin, row, PC_PORT] == port:
            latest = row
    if latest >= 0 and (changes[plugin, latest, PC_FRAME] == frame or count >= MAX_PLUGIN_CHANGES):
        changes[plugin, latest, PC_VALUE] = value
        return True
    if count >= MAX_PLUGIN_CHANGES:
        superseded = superseded_change(changes[plugin], count)
        if superseded < 0:
            return False
        for row in range(superseded, count - 1):  # the rest keep their order (their frames')
            for field in range(PLUGIN_CHANGE_FIELDS):
                changes[plugin, row, field] = changes[plugin, row + 1, field]
        count -= 1
    changes[plugin, count, PC_FRAME] = frame
    changes[plugin, count, PC_PORT] = port
    changes[plugin, count, PC_VALUE] = value
    ints[P_CHANGE_COUNT, plugin] = count + 1
    return True


@realtime
def send_midi(table, instrument, sample, status, data1, data2, length):
    """A MIDI message to an LV2 instrument, on its channel 1, on `sample`; False if the instrument is none."""
    plugin = instrument_plugin(table, instrument)
    if plugin < 0:
        return False
    queue_midi(table, plugin, sample, status, data1, data2, length)
    return True


@realtime
def silence_plugin_instruments(table, sample):
    """Panic: every LV2 instrument hears All Sound Off and All Notes Off."""
    ints = i64_2d(table, A_PLUGIN_INTS)
    for plugin in range(MAX_PLUGINS):
        if ints[P_ROLE, plugin] == ROLE_INSTRUMENT:
            queue_midi(table, plugin, sample, 0xB0, 120, 0, 3)
            queue_midi(table, plugin, sample, 0xB0, 123, 0, 3)
