"""The block renderer: events -> voices -> buses -> outputs, at exact samples.

`process` is the whole audio callback body. The live stream's cfunc and the offline
renderer both call it with the same arguments (address table, interleaved float32
input and output, frame count, PortAudio status flags), so live and offline output
are the same computation.

Within a block, the renderer splits time at every due event: it renders up to the
event's sample, applies the event, and goes on. An event asking for a sample already
past applies on the block's first sample and is counted and reported as late.
"""

import numpy as np
from numba import carray

from .dsp.limiter import limiter_gain
from .dsp.ltc import (
    F_DROP_FRAME,
    F_FRAMES,
    F_HOURS,
    F_MINUTES,
    F_SECONDS,
    F_START,
    ltc_decode,
    ltc_encode,
    ltc_encoder_locate,
)
from .dsp.meters import mean_square_follow, peak_follow
from .realtime import realtime
from . import events as ev
from .chase import (
    ACCEPTED,
    FREEWHEEL,
    LOCKED,
    NOTHING,
    S_STATE,
    chase_frame,
    chase_idle,
    chase_position,
    chase_speed,
    frame_count,
    master_locate,
)
from .intrinsics import address_as_void_pointer, monotonic_ns
from .memory import f32_3d, f64_1d, f64_2d, f64_3d, i64_1d, i64_2d, notify
from .rings import ring_pop_into
from .sampler.source import evict_sample
from .state import (
    A_BUS_AUDIO,
    A_BUS_INTS,
    A_BUS_METERS,
    A_BUS_ORDER,
    A_BUS_VALUES,
    A_CHASE,
    A_CHASE_WINDOW,
    A_CONFIG,
    A_CONFIG_FLOAT,
    A_CONTROLLERS,
    A_EVENT_SCRATCH,
    A_INPUT_AUDIO,
    A_INPUT_METERS,
    A_INPUT_RING_INDICES,
    A_INPUT_RING_ROWS,
    A_INSTRUMENTS,
    A_KERNEL,
    A_LTC_FLOATS,
    A_LTC_FRAMES,
    A_LTC_INTS,
    A_LTC_OUT_FLOATS,
    A_LTC_OUT_INTS,
    A_OUTPUT_MIX,
    A_PENDING,
    A_STEM_AUDIO,
    A_STEM_INTS,
    A_STEM_VALUES,
    A_TELEMETRY,
    A_TELEMETRY_FLOAT,
    A_VOICE_INTS,
    A_VOICE_VALUES,
    B_FEEDS,
    B_GAIN,
    B_GAIN_RAMP_LEFT,
    B_GAIN_STEP,
    B_GAIN_TARGET,
    B_LIMITER_GAIN,
    B_MUTE_GAIN,
    B_MUTE_TARGET,
    B_OUTPUT_LEFT,
    B_OUTPUT_RIGHT,
    C_COUNT_MISSED_CYCLES,
    C_INPUT_CHANNELS,
    C_MAX_BLOCK,
    C_OUTPUT_CHANNELS,
    C_SAMPLE_RATE,
    C_TIMECODE_DROP_FRAME,
    C_TIMECODE_INPUT,
    C_TIMECODE_MODE,
    C_TIMECODE_NOMINAL,
    C_TIMECODE_OUTPUT,
    CF_DEZIPPER_SAMPLES,
    CF_FADE_SAMPLES,
    CF_LIMITER_CEILING,
    CF_LIMITER_RELEASE_COEFF,
    CF_MEAN_SQUARE_COEFF,
    CF_PEAK_DECAY,
    CONTROLLERS,
    I_KIND,
    I_PROGRAM,
    K_ARRIVAL_SEQUENCE,
    K_LAST_CALLBACK_NS,
    K_LAST_FRAMES,
    K_PENDING_COUNT,
    M_INPUT_MEAN_SQUARE,
    M_INPUT_PEAK,
    M_MEAN_SQUARE_LEFT,
    M_MEAN_SQUARE_RIGHT,
    M_PEAK_LEFT,
    M_PEAK_RIGHT,
    CUE_SLOTS,
    MAX_INSTRUMENTS,
    PENDING_ORDER,
    PENDING_PART,
    T_CALLBACKS,
    T_DSP_LOAD,
    T_DSP_LOAD_AVERAGE,
    T_DSP_LOAD_MAX,
    T_DSP_LOAD_PEAK,
    T_EVENTS_APPLIED,
    T_EVENTS_REJECTED,
    T_LATE_EVENTS,
    T_LONGEST_GAP_NS,
    T_MISSED_CYCLES,
    T_OVERFLOWS,
    T_POSITION,
    T_TIMECODE_FRAMES,
    T_TIMECODE_POSITION,
    T_TIMECODE_SPEED,
    T_TIMECODE_STATE,
    T_UNDERFLOWS,
    T_VOICES,
    TIMECODE_CHASE,
    TIMECODE_MASTER,
)
from .stems import render_stems, stem_start, stem_stop
from .triggers import (
    arm_cue,
    disarm_cue,
    fire_cue,
    follow_cues,
    note_group_off,
    start_part,
    stop_all_parts,
    stop_part,
    template_note_id,
)
from .voices.held import forget_held_notes
from .voices.kinds import note_off, note_on, render_voices
from .voices.pool import count_sounding, fade_notes, group_is_closed
from .voices.synth import poly_aftertouch, swap_patch

PA_INPUT_OVERFLOW = 0x2  # PortAudio's PaStreamCallbackFlags
PA_OUTPUT_UNDERFLOW = 0x4
SQRT_HALF = 0.7071067811865476
LOAD_AVERAGE_COEFF = 0.01
LOAD_PEAK_DECAY = 0.9995


# Events.

@realtime
def drain_input_rings(table, block_start):
    """Move every waiting event into the pending set, stamped with its arrival order.

    A negative sample time means "as soon as possible": the block's first sample, not late.
    """
    ring_rows = f64_3d(table, A_INPUT_RING_ROWS)
    ring_indices = i64_2d(table, A_INPUT_RING_INDICES)
    pending = f64_2d(table, A_PENDING)
    kernel = i64_1d(table, A_KERNEL)
    count = kernel[K_PENDING_COUNT]
    for ring in range(ring_rows.shape[0]):
        # Events left in a ring while the pending set is full simply wait for the next block.
        taken = ring_pop_into(ring_rows[ring], ring_indices[ring], pending[count:], pending.shape[0] - count)
        for i in range(count, count + taken):
            pending[i, PENDING_ORDER] = kernel[K_ARRIVAL_SEQUENCE]
            pending[i, PENDING_PART] = -1.0
            kernel[K_ARRIVAL_SEQUENCE] += 1
            if pending[i, ev.SAMPLE] < 0.0:
                pending[i, ev.SAMPLE] = block_start
        count += taken
    kernel[K_PENDING_COUNT] = count


@realtime
def next_due_event(pending, count, block_end):
    """Index of the earliest pending event before block_end (ties: first to arrive), or -1."""
    best = -1
    for i in range(count):
        sample = pending[i, ev.SAMPLE]
        if sample < block_end:
            if best < 0 or sample < pending[best, ev.SAMPLE] or (
                    sample == pending[best, ev.SAMPLE] and pending[i, PENDING_ORDER] < pending[best, PENDING_ORDER]):
                best = i
    return best


@realtime
def apply_event(table, event, sample):
    """Apply one event row (taken out of the pending set) at `sample`."""
    config = i64_1d(table, A_CONFIG)
    config_float = f64_1d(table, A_CONFIG_FLOAT)
    telemetry = i64_1d(table, A_TELEMETRY)
    voice_values = f64_2d(table, A_VOICE_VALUES)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    bus_values = f64_2d(table, A_BUS_VALUES)
    kind = int(event[ev.KIND])
    target = event[ev.TARGET]
    a = event[ev.A]
    b = event[ev.B]
    bus_count = bus_values.shape[1]
    rate = float(config[C_SAMPLE_RATE])

    if kind == ev.NOTE_ON or kind == ev.NOTE_OFF:
        target = template_note_id(table, event)
        if target < 0 or (kind == ev.NOTE_ON and group_is_closed(table, target)):
            return  # its part is not playing, or has stopped
    if kind == ev.NOTE_ON:
        note_on(table, sample, target, int(a), b, event[ev.C], int(event[ev.D]), event[ev.E])
    elif kind == ev.NOTE_OFF:
        note_off(table, sample, target)
    elif kind == ev.ALL_NOTES_OFF:
        stop_all_parts(table, config_float[CF_FADE_SAMPLES])
        fade_notes(voice_values, voice_ints, config_float[CF_FADE_SAMPLES], 0)
        forget_held_notes(table)
    elif kind == ev.STOP_ALL:
        stop_all_parts(table, max(config_float[CF_FADE_SAMPLES], np.floor(a * rate)))
    elif kind == ev.NOTE_GROUP_OFF:
        note_group_off(table, int(target))
    elif kind == ev.PART_START:
        if not start_part(table, event, sample):
            telemetry[T_EVENTS_REJECTED] += 1
            return
    elif kind == ev.PART_STOP:
        if not stop_part(table, int(target)):
            telemetry[T_EVENTS_REJECTED] += 1
            return
    elif kind == ev.BUS_GAIN and 0 <= target < bus_count:
        bus = int(target)
        ramp = max(config_float[CF_DEZIPPER_SAMPLES], np.floor(b * rate))
        bus_values[B_GAIN_TARGET, bus] = a
        bus_values[B_GAIN_STEP, bus] = (a - bus_values[B_GAIN, bus]) / ramp
        bus_values[B_GAIN_RAMP_LEFT, bus] = ramp
    elif kind == ev.BUS_MUTE and 0 <= target < bus_count:
        bus_values[B_MUTE_TARGET, int(target)] = 0.0 if a != 0.0 else 1.0
    elif kind == ev.INSTRUMENT_PARAMETER:
        instruments = f64_2d(table, A_INSTRUMENTS)
        field = int(a)
        if 0 <= target < instruments.shape[1] and 0 < field < instruments.shape[0]:
            instruments[field, int(target)] = b
        else:
            telemetry[T_EVENTS_REJECTED] += 1
            return
    elif kind == ev.FENCE:
        notify(table, sample, ev.ACKNOWLEDGED, target, 0.0, 0.0)
    elif kind == ev.TIMECODE_FRAME and config[C_TIMECODE_MODE] == TIMECODE_CHASE:
        chase_timecode_frame(table, a, target)
    elif kind == ev.TIMECODE_LOCATE and config[C_TIMECODE_MODE] == TIMECODE_MASTER:
        locate_master_timecode(table, int(target), int(a), int(b), int(event[ev.C]), int(event[ev.D]))
    elif kind == ev.CUE_ARM:
        if not arm_cue(table, event):
            telemetry[T_EVENTS_REJECTED] += 1
            return
    elif kind == ev.CUE_DISARM:
        if not disarm_cue(table, int(target)):
            telemetry[T_EVENTS_REJECTED] += 1
            return
    elif kind == ev.STEM_START:
        if not stem_start(i64_2d(table, A_STEM_INTS), f64_2d(table, A_STEM_VALUES), int(target), int(sample), int(a),
                          int(b), event[ev.C]) or not 0 <= b < bus_count:
            telemetry[T_EVENTS_REJECTED] += 1
            return
    elif kind == ev.STEM_STOP:
        if not stem_stop(i64_2d(table, A_STEM_INTS), f64_2d(table, A_STEM_VALUES), int(target),
                         max(config_float[CF_FADE_SAMPLES], np.floor(a * rate))):
            telemetry[T_EVENTS_REJECTED] += 1
            return
    elif kind == ev.CONTROLLER and 0 <= target < MAX_INSTRUMENTS and 0 <= a < CONTROLLERS:
        f64_2d(table, A_CONTROLLERS)[int(target), int(a)] = min(1.0, max(0.0, b))
    elif kind == ev.PROGRAM_CHANGE and 0 <= target < MAX_INSTRUMENTS and 0 <= a <= 127:
        f64_2d(table, A_INSTRUMENTS)[I_PROGRAM, int(target)] = np.floor(a)
    elif kind == ev.PATCH_SWAP and 0 <= target < MAX_INSTRUMENTS:
        swap_patch(table, int(target))
    elif kind == ev.POLY_AFTERTOUCH and 0 <= target < MAX_INSTRUMENTS:
        poly_aftertouch(table, int(target), a, b)
    elif kind == ev.INSTRUMENT_READY and 0 <= target < MAX_INSTRUMENTS:
        f64_2d(table, A_INSTRUMENTS)[I_KIND, int(target)] = a
    elif kind == ev.SAMPLE_EVICT:
        if not evict_sample(table, sample, int(target)):
            telemetry[T_EVENTS_REJECTED] += 1
            return
    elif kind == ev.CUE_FIRE and 0 <= target < CUE_SLOTS:
        fire_cue(table, int(target), sample, a, ev.CUE_FIRED, 0.0, chase_position(f64_1d(table, A_CHASE), sample))
    else:
        telemetry[T_EVENTS_REJECTED] += 1
        return
    telemetry[T_EVENTS_APPLIED] += 1


@realtime
def remove_pending(pending, kernel, index):
    last = kernel[K_PENDING_COUNT] - 1
    for field in range(pending.shape[1]):
        pending[index, field] = pending[last, field]
    kernel[K_PENDING_COUNT] = last


# Buses.

@realtime
def mix_buses(table, start, end):
    """Apply each bus's gain and mute in mix order; send it on, or limit it into its outputs."""
    config_float = f64_1d(table, A_CONFIG_FLOAT)
    bus_values = f64_2d(table, A_BUS_VALUES)
    bus_ints = i64_2d(table, A_BUS_INTS)
    bus_order = i64_1d(table, A_BUS_ORDER)
    bus_audio = f64_3d(table, A_BUS_AUDIO)
    meters = f64_2d(table, A_BUS_METERS)
    output_mix = f64_2d(table, A_OUTPUT_MIX)
    ceiling = config_float[CF_LIMITER_CEILING]
    release = config_float[CF_LIMITER_RELEASE_COEFF]
    peak_decay = config_float[CF_PEAK_DECAY]
    mean_square_coeff = config_float[CF_MEAN_SQUARE_COEFF]
    mute_step = 1.0 / config_float[CF_DEZIPPER_SAMPLES]

    for k in range(bus_order.shape[0]):
        bus = bus_order[k]
        feeds = bus_ints[B_FEEDS, bus]
        out_left = bus_ints[B_OUTPUT_LEFT, bus]
        out_right = bus_ints[B_OUTPUT_RIGHT, bus]
        gain = bus_values[B_GAIN, bus]
        gain_step = bus_values[B_GAIN_STEP, bus]
        ramp_left = bus_values[B_GAIN_RAMP_LEFT, bus]
        mute_gain = bus_values[B_MUTE_GAIN, bus]
        mute_target = bus_values[B_MUTE_TARGET, bus]
        limiter = bus_values[B_LIMITER_GAIN, bus]
        peak_left = meters[M_PEAK_LEFT, bus]
        peak_right = meters[M_PEAK_RIGHT, bus]
        square_left = meters[M_MEAN_SQUARE_LEFT, bus]
        square_right = meters[M_MEAN_SQUARE_RIGHT, bus]
        for i in range(start, end):
            if ramp_left > 0.0:
                ramp_left -= 1.0
                gain = bus_values[B_GAIN_TARGET, bus] if ramp_left <= 0.0 else gain + gain_step
            if mute_gain != mute_target:
                mute_gain = min(mute_target, mute_gain + mute_step) if mute_gain < mute_target \
                    else max(mute_target, mute_gain - mute_step)
            left = bus_audio[bus, 0, i] * gain * mute_gain
            right = bus_audio[bus, 1, i] * gain * mute_gain
            if feeds >= 0:
                bus_audio[feeds, 0, i] += left
                bus_audio[feeds, 1, i] += right
            elif out_left >= 0:
                if out_right >= 0:
                    limiter = limiter_gain(limiter, max(abs(left), abs(right)), ceiling, release)
                    left *= limiter
                    right *= limiter
                    output_mix[out_left, i] += left
                    output_mix[out_right, i] += right
                else:
                    mono = (left + right) * SQRT_HALF
                    limiter = limiter_gain(limiter, abs(mono), ceiling, release)
                    left = right = mono * limiter
                    output_mix[out_left, i] += left
            peak_left = peak_follow(peak_left, left, peak_decay)
            peak_right = peak_follow(peak_right, right, peak_decay)
            square_left = mean_square_follow(square_left, left, mean_square_coeff)
            square_right = mean_square_follow(square_right, right, mean_square_coeff)
        bus_values[B_GAIN, bus] = gain
        bus_values[B_GAIN_RAMP_LEFT, bus] = ramp_left
        bus_values[B_MUTE_GAIN, bus] = mute_gain
        bus_values[B_LIMITER_GAIN, bus] = limiter
        meters[M_PEAK_LEFT, bus] = peak_left
        meters[M_PEAK_RIGHT, bus] = peak_right
        meters[M_MEAN_SQUARE_LEFT, bus] = square_left
        meters[M_MEAN_SQUARE_RIGHT, bus] = square_right


# Timecode.

@realtime
def follow_timecode(table, block_start, frames):
    """Chase the timecode input through this block (decoded LTC; MTC arrives as events), then
    publish where the picture is: chased, or the engine's own master timecode."""
    config = i64_1d(table, A_CONFIG)
    chase = f64_1d(table, A_CHASE)
    block_end = float(block_start + frames)
    if config[C_TIMECODE_MODE] == TIMECODE_CHASE:
        channel = config[C_TIMECODE_INPUT]
        if channel >= 0:
            rows = f64_2d(table, A_LTC_FRAMES)
            nominal = config[C_TIMECODE_NOMINAL]
            decoded = ltc_decode(f64_2d(table, A_INPUT_AUDIO)[channel, :frames], block_start,
                                 i64_1d(table, A_LTC_INTS), f64_1d(table, A_LTC_FLOATS), rows)
            for i in range(decoded):
                frame = float(frame_count(int(rows[i, F_HOURS]), int(rows[i, F_MINUTES]), int(rows[i, F_SECONDS]),
                                          int(rows[i, F_FRAMES]), nominal, rows[i, F_DROP_FRAME] != 0.0))
                chase_timecode_frame(table, rows[i, F_START], frame)
        # Let the block's time pass in the chase: dropouts.
        outcome = chase_idle(chase, block_end)
        if outcome != NOTHING:
            notify(table, block_end, ev.TIMECODE, outcome + ev.CHASE_IDLE_OFFSET, chase_position(chase, block_end),
                   0.0)
    telemetry = i64_1d(table, A_TELEMETRY)
    published = f64_1d(table, A_TELEMETRY_FLOAT)
    state = int(chase[S_STATE])
    telemetry[T_TIMECODE_STATE] = state
    if state == LOCKED or state == FREEWHEEL:
        published[T_TIMECODE_POSITION] = chase_position(chase, block_end)
        published[T_TIMECODE_SPEED] = chase_speed(chase)
    else:
        published[T_TIMECODE_SPEED] = 0.0


@realtime
def chase_timecode_frame(table, start_sample, frame):
    """One timecode frame (decoded LTC, or MTC posted as an event) into the chase."""
    outcome = chase_frame(f64_1d(table, A_CHASE), f64_2d(table, A_CHASE_WINDOW), start_sample, frame)
    i64_1d(table, A_TELEMETRY)[T_TIMECODE_FRAMES] += 1
    if outcome != ACCEPTED:
        notify(table, start_sample, ev.TIMECODE, outcome, frame, 0.0)


@realtime
def locate_master_timecode(table, index, hours, minutes, seconds, frames):
    """As timecode master, jump: frame `index` of the master's grid carries this label, for the cues
    and the generated LTC alike."""
    config = i64_1d(table, A_CONFIG)
    frame = frame_count(hours, minutes, seconds, frames, config[C_TIMECODE_NOMINAL], config[C_TIMECODE_DROP_FRAME])
    master_locate(f64_1d(table, A_CHASE), index, float(frame))
    if config[C_TIMECODE_OUTPUT] >= 0:
        ltc_encoder_locate(i64_1d(table, A_LTC_OUT_INTS), hours, minutes, seconds, frames, index)


@realtime
def generate_timecode(table, output_mix, frames):
    """LTC on its output channel, when the engine is the timecode master (no bus plays there)."""
    channel = i64_1d(table, A_CONFIG)[C_TIMECODE_OUTPUT]
    if channel >= 0:
        ltc_encode(output_mix[channel, :frames], i64_1d(table, A_LTC_OUT_INTS), f64_1d(table, A_LTC_OUT_FLOATS))


# One block of at most max_block frames.

@realtime
def render_block(table, frames):
    telemetry = i64_1d(table, A_TELEMETRY)
    kernel = i64_1d(table, A_KERNEL)
    pending = f64_2d(table, A_PENDING)
    voice_ints = i64_2d(table, A_VOICE_INTS)
    bus_audio = f64_3d(table, A_BUS_AUDIO)
    output_mix = f64_2d(table, A_OUTPUT_MIX)
    scratch = f64_1d(table, A_EVENT_SCRATCH)
    stem_ints = i64_2d(table, A_STEM_INTS)
    stem_values = f64_2d(table, A_STEM_VALUES)
    sample_rate = float(i64_1d(table, A_CONFIG)[C_SAMPLE_RATE])
    stem_audio = f32_3d(table, A_STEM_AUDIO)

    block_start = telemetry[T_POSITION]
    block_end = block_start + frames
    follow_timecode(table, block_start, frames)
    drain_input_rings(table, float(block_start))
    follow_cues(table, block_start, frames)
    for bus in range(bus_audio.shape[0]):
        for channel in range(2):
            for i in range(frames):
                bus_audio[bus, channel, i] = 0.0
    for channel in range(output_mix.shape[0]):
        for i in range(frames):
            output_mix[channel, i] = 0.0

    # Applying an event may add events (a cue firing its template, the cues that follow it): a block
    # applies at most twice what the pending set holds, so a chain of cues cannot hold it forever
    # (what is left waits for the next block).
    most = 2 * pending.shape[0]
    applied = 0
    cursor = 0
    while True:
        due = next_due_event(pending, kernel[K_PENDING_COUNT], float(block_end)) if applied < most else -1
        segment_end = frames
        if due >= 0:
            wanted = int(pending[due, ev.SAMPLE])
            if wanted < block_start:
                telemetry[T_LATE_EVENTS] += 1
                notify(table, block_start, ev.LATE_EVENT, pending[due, ev.KIND], wanted, 0.0)
                wanted = block_start
            segment_end = max(cursor, wanted - block_start)
        if segment_end > cursor:
            render_voices(table, bus_audio, cursor, segment_end, block_start + cursor, sample_rate)
            render_stems(stem_ints, stem_values, stem_audio, bus_audio, block_start, cursor, segment_end)
            mix_buses(table, cursor, segment_end)
            cursor = segment_end
        if due < 0:
            break
        # Out of the pending set before it applies: applying may add events (a cue firing).
        for field in range(scratch.shape[0]):
            scratch[field] = pending[due, field]
        remove_pending(pending, kernel, due)
        apply_event(table, scratch, float(block_start + cursor))
        applied += 1

    generate_timecode(table, output_mix, frames)
    telemetry[T_POSITION] = block_end
    telemetry[T_VOICES] = count_sounding(voice_ints)


@realtime
def read_input(table, input_address, offset, frames):
    """De-interleave the input chunk into the kernel's input rows (timecode is decoded from these)."""
    config = i64_1d(table, A_CONFIG)
    config_float = f64_1d(table, A_CONFIG_FLOAT)
    input_audio = f64_2d(table, A_INPUT_AUDIO)
    meters = f64_2d(table, A_INPUT_METERS)
    channels = config[C_INPUT_CHANNELS]
    if channels == 0 or input_address == 0:
        for channel in range(input_audio.shape[0]):
            for i in range(frames):
                input_audio[channel, i] = 0.0
        return
    source = carray(address_as_void_pointer(input_address), ((offset + frames) * channels,), np.float32)
    for channel in range(channels):
        peak = meters[M_INPUT_PEAK, channel]
        mean_square = meters[M_INPUT_MEAN_SQUARE, channel]
        for i in range(frames):
            value = float(source[(offset + i) * channels + channel])
            input_audio[channel, i] = value
            peak = peak_follow(peak, value, config_float[CF_PEAK_DECAY])
            mean_square = mean_square_follow(mean_square, value, config_float[CF_MEAN_SQUARE_COEFF])
        meters[M_INPUT_PEAK, channel] = peak
        meters[M_INPUT_MEAN_SQUARE, channel] = mean_square


@realtime
def write_output(table, output_address, offset, frames):
    """Interleave the output mix as float32, clamped at the ceiling (two buses may share a channel)."""
    config = i64_1d(table, A_CONFIG)
    ceiling = f64_1d(table, A_CONFIG_FLOAT)[CF_LIMITER_CEILING]
    output_mix = f64_2d(table, A_OUTPUT_MIX)
    channels = config[C_OUTPUT_CHANNELS]
    destination = carray(address_as_void_pointer(output_address), ((offset + frames) * channels,), np.float32)
    for i in range(frames):
        for channel in range(channels):
            value = min(ceiling, max(-ceiling, output_mix[channel, i]))
            destination[(offset + i) * channels + channel] = np.float32(value)


@realtime
def account_for_time(table, entry_ns, frames):
    """Count missed cycles from the gap since the previous callback (live streams only)."""
    config = i64_1d(table, A_CONFIG)
    kernel = i64_1d(table, A_KERNEL)
    telemetry = i64_1d(table, A_TELEMETRY)
    last_ns = kernel[K_LAST_CALLBACK_NS]
    if config[C_COUNT_MISSED_CYCLES] != 0 and last_ns > 0 and kernel[K_LAST_FRAMES] > 0:
        gap = entry_ns - last_ns
        period_ns = kernel[K_LAST_FRAMES] * 1e9 / config[C_SAMPLE_RATE]
        cycles = int(gap / period_ns + 0.5)
        if cycles > 1:
            telemetry[T_MISSED_CYCLES] += cycles - 1
        if gap > telemetry[T_LONGEST_GAP_NS]:
            telemetry[T_LONGEST_GAP_NS] = gap
    kernel[K_LAST_CALLBACK_NS] = entry_ns
    kernel[K_LAST_FRAMES] = frames


@realtime
def process(table, input_address, output_address, frames, status_flags):
    """The audio callback's body: render `frames` frames, in chunks of at most max_block."""
    if frames <= 0:
        return
    entry_ns = monotonic_ns()
    config = i64_1d(table, A_CONFIG)
    telemetry = i64_1d(table, A_TELEMETRY)
    load = f64_1d(table, A_TELEMETRY_FLOAT)
    account_for_time(table, entry_ns, frames)
    if status_flags & PA_OUTPUT_UNDERFLOW:
        telemetry[T_UNDERFLOWS] += 1
    if status_flags & PA_INPUT_OVERFLOW:
        telemetry[T_OVERFLOWS] += 1
    notify(table, telemetry[T_POSITION], ev.CLOCK, 0, float(entry_ns), 0.0)

    max_block = config[C_MAX_BLOCK]
    done = 0
    while done < frames:
        chunk = min(max_block, frames - done)
        read_input(table, input_address, done, chunk)
        render_block(table, chunk)
        write_output(table, output_address, done, chunk)
        done += chunk

    telemetry[T_CALLBACKS] += 1
    period_ns = frames * 1e9 / config[C_SAMPLE_RATE]
    this_load = (monotonic_ns() - entry_ns) / period_ns
    load[T_DSP_LOAD] = this_load
    load[T_DSP_LOAD_PEAK] = max(this_load, load[T_DSP_LOAD_PEAK] * LOAD_PEAK_DECAY)
    load[T_DSP_LOAD_MAX] = max(this_load, load[T_DSP_LOAD_MAX])
    load[T_DSP_LOAD_AVERAGE] += (this_load - load[T_DSP_LOAD_AVERAGE]) * LOAD_AVERAGE_COEFF
