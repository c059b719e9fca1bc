"""The mixer: buses with their insert chains (kernel/plugins.py), fades and mutes, the delay that keeps
them aligned when inserts have latency, the limiter on every bus that reaches outputs,
meters, and the block's input and output.

Voices and stems add into their buses' audio; `mix_buses` then runs each bus's inserts and applies
its gain and mute in mix order (a bus before the bus it feeds) and limits what reaches the outputs. Gain
changes glide (never a click): a fade over its time, a mute over the de-zipper time.
"""

import numpy as np
from numba import carray

from .dsp.limiter import limiter_gain
from .dsp.meters import mean_square_follow, peak_follow
from .intrinsics import address_as_void_pointer
from .memory import f64_1d, f64_2d, f64_3d, i64_1d, i64_2d
from .plugins import block_frame, run_inserts
from .realtime import realtime, realtime_unit
from .state import (
    A_BUS_AUDIO,
    A_BUS_CHANGES,
    A_BUS_DELAY_AUDIO,
    A_BUS_INTS,
    A_BUS_METERS,
    A_BUS_ORDER,
    A_BUS_VALUES,
    A_CONFIG,
    A_CONFIG_FLOAT,
    A_INPUT_AUDIO,
    A_INPUT_METERS,
    A_OUTPUT_MIX,
    BC_FRAME,
    BC_KIND,
    BC_SECONDS,
    BC_VALUE,
    BUS_CHANGE_GAIN,
    B_CHANGE_COUNT,
    B_DELAY,
    B_DELAY_WRITE,
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
    CF_DEZIPPER_SAMPLES,
    CF_LIMITER_CEILING,
    CF_LIMITER_RELEASE_COEFF,
    CF_MEAN_SQUARE_COEFF,
    CF_PEAK_DECAY,
    C_INPUT_CHANNELS,
    C_OUTPUT_CHANNELS,
    C_SAMPLE_RATE,
    MAX_BUS_CHANGES,
    MAX_COMPENSATION,
    M_INPUT_MEAN_SQUARE,
    M_INPUT_PEAK,
    M_MEAN_SQUARE_LEFT,
    M_MEAN_SQUARE_RIGHT,
    M_PEAK_LEFT,
    M_PEAK_RIGHT,
)

SQRT_HALF = 0.7071067811865476


@realtime
def bus_count(table):
    return f64_2d(table, A_BUS_VALUES).shape[1]


@realtime
def queue_bus_change(table, bus, sample, kind, value, seconds):
    """A gain (BUS_CHANGE_GAIN: to `value` over `seconds`, at least the de-zipper time) or mute
    (BUS_CHANGE_MUTE: `value` 1 mutes, 0 unmutes, over the de-zipper time) change of bus `bus`, from
    `sample` on, when the block is mixed; False when the bus has had too many changes in this block."""
    bus_ints = i64_2d(table, A_BUS_INTS)
    count = bus_ints[B_CHANGE_COUNT, bus]
    if count >= MAX_BUS_CHANGES:
        return False
    row = f64_3d(table, A_BUS_CHANGES)[bus, count]
    row[BC_FRAME] = block_frame(table, sample)
    row[BC_KIND] = kind
    row[BC_VALUE] = value
    row[BC_SECONDS] = seconds
    bus_ints[B_CHANGE_COUNT, bus] = count + 1
    return True


@realtime
def clear_mix(table, frames):
    """Silence every bus and output for the block's first `frames` frames, before anything adds in."""
    bus_audio = f64_3d(table, A_BUS_AUDIO)
    output_mix = f64_2d(table, A_OUTPUT_MIX)
    for bus in range(bus_audio.shape[0]):
        for channel in range(2):
            for i in range(frames):
                bus_audio[bus, channel, i] = 0.0
    for channel in range(output_mix.shape[0]):
        for i in range(frames):
            output_mix[channel, i] = 0.0


@realtime_unit("(int64[:, ::1], int64)")
def mix_buses(table, frames):
    """Mix the block's `frames` frames: in mix order, each bus's inserts, then its gain and mute (each change
    on its frame), its delay; then it is sent on, or limited into its outputs."""
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
    delay_audio = f64_3d(table, A_BUS_DELAY_AUDIO)
    delay_mask = MAX_COMPENSATION - 1
    changes = f64_3d(table, A_BUS_CHANGES)
    rate = float(i64_1d(table, A_CONFIG)[C_SAMPLE_RATE])
    dezipper = config_float[CF_DEZIPPER_SAMPLES]

    for k in range(bus_order.shape[0]):
        bus = bus_order[k]
        run_inserts(table, bus_audio, bus, frames)
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
        delay = bus_ints[B_DELAY, bus]
        delay_write = bus_ints[B_DELAY_WRITE, bus]
        change_count = bus_ints[B_CHANGE_COUNT, bus]
        change = 0
        for i in range(frames):
            while change < change_count and changes[bus, change, BC_FRAME] <= i:
                value = changes[bus, change, BC_VALUE]
                if changes[bus, change, BC_KIND] == BUS_CHANGE_GAIN:
                    ramp_left = max(dezipper, np.floor(changes[bus, change, BC_SECONDS] * rate))
                    bus_values[B_GAIN_TARGET, bus] = value
                    gain_step = (value - gain) / ramp_left
                else:
                    mute_target = 0.0 if value != 0.0 else 1.0
                change += 1
            if ramp_left > 0.0:
                ramp_left -= 1.0
                gain = bus_values[B_GAIN_TARGET, bus] if ramp_left <= 0.0 else gain + gain_step
            if mute_gain != mute_target:
                mute_gain = min(mute_target, mute_gain + mute_step) if mute_gain < mute_target \
                    else max(mute_target, mute_gain - mute_step)
            left = bus_audio[bus, 0, i] * gain * mute_gain
            right = bus_audio[bus, 1, i] * gain * mute_gain
            if delay > 0:
                delay_audio[bus, 0, delay_write] = left
                delay_audio[bus, 1, delay_write] = right
                left = delay_audio[bus, 0, (delay_write - delay) & delay_mask]
                right = delay_audio[bus, 1, (delay_write - delay) & delay_mask]
                delay_write = (delay_write + 1) & delay_mask
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
        bus_values[B_GAIN_STEP, bus] = gain_step
        bus_values[B_MUTE_GAIN, bus] = mute_gain
        bus_values[B_MUTE_TARGET, bus] = mute_target
        bus_ints[B_CHANGE_COUNT, bus] = 0
        bus_values[B_LIMITER_GAIN, bus] = limiter
        bus_ints[B_DELAY_WRITE, bus] = delay_write
        meters[M_PEAK_LEFT, bus] = peak_left
        meters[M_PEAK_RIGHT, bus] = peak_right
        meters[M_MEAN_SQUARE_LEFT, bus] = square_left
        meters[M_MEAN_SQUARE_RIGHT, bus] = square_right


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
