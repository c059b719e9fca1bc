"""The block: events -> voices -> buses -> outputs, at exact samples.

`process` is the whole audio callback body. The live stream's cfunc and the offline
renderer both call it with the same arguments (address table, interleaved float32
input and output, frame count, PortAudio status flags), so live and offline output
are the same computation.

Within a block, time is split at every due event: the voices and stems render up to the event's
sample, the event applies (commands.py), and the block goes on. Then the LV2 instruments run and the
buses are mixed over the whole block, each change an event made to them applying on its own frame. An event asking for a
sample already past applies on the block's first sample and is counted and reported as late.
While chasing, the events a cue put on the picture's clock are placed anew at the start of every
block, once the chase has taken the block's timecode (picture.py): then they are due like any other.
"""

import numpy as np

from . import events as ev
from .commands import apply_event
from .intrinsics import monotonic_ns, release_fence, store_release
from .memory import f32_3d, f64_1d, f64_2d, f64_3d, i64_1d, i64_2d, notify
from .mixer import clear_mix, mix_buses, read_input, write_output
from .plugins import render_plugin_instruments
from .realtime import realtime, realtime_spliced
from .rings import ring_pop_into
from .state import (
    A_BUS_AUDIO,
    A_CHASE,
    A_CONFIG,
    A_EVENT_SCRATCH,
    A_INPUT_RING_INDICES,
    A_INPUT_RING_ROWS,
    A_KERNEL,
    A_OUTPUT_MIX,
    A_PENDING,
    A_RESAMPLER,
    A_STEM_AUDIO,
    A_STEM_INTS,
    A_STEM_VALUES,
    A_TELEMETRY,
    A_TELEMETRY_FLOAT,
    A_VOICE_INTS,
    C_COUNT_MISSED_CYCLES,
    C_MAX_BLOCK,
    C_SAMPLE_RATE,
    K_ARRIVAL_SEQUENCE,
    K_LAST_CALLBACK_NS,
    K_LAST_FRAMES,
    K_PENDING_COUNT,
    PENDING_ON_PICTURE,
    PENDING_ORDER,
    PENDING_PART,
    T_CALLBACKS,
    T_DSP_LOAD,
    T_DSP_LOAD_AVERAGE,
    T_DSP_LOAD_MAX,
    T_DSP_LOAD_PEAK,
    T_LATE_EVENTS,
    T_LONGEST_GAP_NS,
    T_MISSED_CYCLES,
    T_OVERFLOWS,
    T_POSITION,
    T_PUBLISHING,
    T_UNDERFLOWS,
    T_VOICES,
)
from .stems import render_stems
from .timecode import follow_timecode, generate_timecode, publish_timecode
from .picture import follow_picture, place_posted_note
from .triggers import follow_cues, remove_pending
from .voices.kinds import render_voices
from .voices.pool import count_sounding

PA_INPUT_OVERFLOW = 0x2  # PortAudio's PaStreamCallbackFlags
PA_OUTPUT_UNDERFLOW = 0x4
LOAD_AVERAGE_COEFF = 0.01
LOAD_PEAK_DECAY = 0.9995


# The pending set.

@realtime
def drain_input_rings(table, block_start):
    """Move every waiting event into the pending set, stamped with its arrival order.

    A negative sample time means "as soon as possible": the block's first sample, not late. A note
    for a part that follows the picture takes the picture time its sample stands for (picture.py).
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
            pending[i, PENDING_ON_PICTURE] = 0.0
            kernel[K_ARRIVAL_SEQUENCE] += 1
            if pending[i, ev.SAMPLE] < 0.0:
                pending[i, ev.SAMPLE] = block_start
            else:
                place_posted_note(table, i)
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


# One block of at most max_block frames.

# Spliced into the callback (as `process` is): a function of its own, the block would be the whole kernel,
# optimised by LLVM once on its own and once more in the callback.
@realtime_spliced
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
    chase = f64_1d(table, A_CHASE)
    sinc = f64_3d(table, A_RESAMPLER)

    block_start = telemetry[T_POSITION]
    block_end = block_start + frames
    follow_timecode(table, block_start, frames)
    follow_picture(table, float(block_start))
    drain_input_rings(table, float(block_start))
    follow_cues(table, block_start, frames)
    clear_mix(table, frames)

    # Applying an event may add events (a cue firing its template, the cues that follow it): a block
    # applies at most twice what the pending set holds, so a chain of cues cannot hold it forever
    # (what is left waits for the next block).
    most = 2 * pending.shape[0]
    applied = 0
    # An int64, not the literal 0: a literal would compile the voices, stems and mixer a second time.
    cursor = np.int64(0)
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
            render_stems(stem_ints, stem_values, stem_audio, bus_audio, block_start, cursor, segment_end, chase, sinc)
            cursor = segment_end
        if due < 0:
            break
        # Out of the pending set before it applies: applying may add events (a cue firing).
        for field in range(scratch.shape[0]):
            scratch[field] = pending[due, field]
        remove_pending(pending, kernel, due)
        apply_event(table, scratch, float(block_start + cursor))
        applied += 1

    # The plugins and the mix take the whole block: what events changed in them waits for its frame.
    render_plugin_instruments(table, bus_audio, frames)
    mix_buses(table, frames)
    generate_timecode(table, output_mix, frames)
    publishing = telemetry[T_PUBLISHING] + 1
    store_release(telemetry, T_PUBLISHING, publishing)  # odd: the pair below is being written
    release_fence()  # and seen odd before any of it
    publish_timecode(table, float(block_end))
    store_release(telemetry, T_POSITION, block_end)  # after the timecode published for it
    store_release(telemetry, T_PUBLISHING, publishing + 1)
    telemetry[T_VOICES] = count_sounding(voice_ints)


# The callback.

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


@realtime_spliced
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
