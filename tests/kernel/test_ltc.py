"""LTC against libltc, the reference codec (through ctypes): each decodes the other, frame starts
to a sample, under varispeed, dropouts, jumps, reverse play, level, polarity, noise and slow edges;
and the kernels obey the real-time contract."""

import numpy as np
import pytest
from numba import carray, cfunc, types

import ltcref
from liveengine.kernel.dsp import ltc
from liveengine.kernel.dsp.ltc import decode_ltc, encode_ltc
from liveengine.engine.audit import audit_ir

RATES = {
    "23.976": ((24000, 1001), False),
    "24": ((24, 1), False),
    "25": ((25, 1), False),
    "29.97df": ((30000, 1001), True),
    "29.97": ((30000, 1001), False),
    "30": ((30, 1), False),
}
SAMPLE_RATES = (44100, 48000)
START = (10, 58, 59, 12)  # runs into 10:59:00, where 29.97df skips labels ;00 and ;01
USER_BITS = 0x9E3779B9


def fields(frame):
    return frame.hours, frame.minutes, frame.seconds, frame.frames


def matched_frames(decoded, starts, timecodes, reverse=False):
    """The reference frame behind each decoded one: it starts within a sample and has the same timecode."""
    starts = np.asarray(starts, np.float64)
    indices = []
    for frame in decoded:
        k = int(np.argmin(np.abs(starts - frame.start_sample)))
        assert abs(frame.start_sample - starts[k]) <= 1.0, f"{frame} is {frame.start_sample - starts[k]:+.2f} off"
        assert fields(frame) == timecodes[k] and frame.reverse == reverse, f"{frame} is not frame {k}"
        indices.append(k)
    return indices


def assert_every_frame(indices, count):
    """Frames 0 .. count-2 in order: the last frame of a recording has no edge after it to close it."""
    assert indices == list(range(count - 1)), indices


def libltc_signal(rate="25", sample_rate=48000, frame_count=50, **options):
    fps, drop_frame = RATES[rate]
    return ltcref.encode(sample_rate, fps, START, frame_count, drop_frame, **options)


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
@pytest.mark.parametrize("rate", RATES)
def test_ltc_from_libltc_decodes_to_its_timecodes_within_a_sample_of_each_frame_start(rate, sample_rate):
    fps, drop_frame = RATES[rate]
    reference = libltc_signal(rate, sample_rate, 60, user_bits=USER_BITS)
    decoded = decode_ltc(reference.audio, sample_rate, fps)
    assert_every_frame(matched_frames(decoded, reference.starts, reference.timecodes), 60)
    assert all(frame.drop_frame == drop_frame and frame.user_bits == USER_BITS for frame in decoded)


@pytest.mark.parametrize("slowdowns", ["0.9", "1.1", "0.9 to 1.1"])
def test_varispeed_is_tracked(slowdowns):
    count = 80
    per_frame = np.linspace(0.9, 1.1, count) if slowdowns == "0.9 to 1.1" else np.full(count, float(slowdowns))
    for rate, sample_rate in (("25", 48000), ("29.97df", 44100)):
        reference = libltc_signal(rate, sample_rate, count, slowdowns=per_frame)
        decoded = decode_ltc(reference.audio, sample_rate, RATES[rate][0])
        assert_every_frame(matched_frames(decoded, reference.starts, reference.timecodes), count)


def test_dropouts_resync_without_a_garbage_frame():
    count, sample_rate = 100, 48000
    reference = libltc_signal("25", sample_rate, count)
    audio = reference.audio.copy()
    silence = np.zeros_like(audio)
    noise = np.random.default_rng(1).normal(0.0, 10 ** (-50 / 20), len(audio)).astype(np.float32)
    dropouts = [(50_000, 70_000, silence), (120_000, 121_000, silence), (150_000, 160_000, noise)]
    for begin, end, replacement in dropouts:
        audio[begin:end] = replacement[begin:end]

    indices = matched_frames(decode_ltc(audio, sample_rate, (25, 1)), reference.starts, reference.timecodes)
    ends = np.append(reference.starts[1:], len(audio))
    intact = [k for k in range(count - 1)
              if all(ends[k] <= begin or reference.starts[k] >= end for begin, end, _ in dropouts)]
    assert indices == intact


def test_a_jump_in_timecode_is_followed_at_once():
    sample_rate, fps = 48000, (25, 1)
    before = ltcref.encode(sample_rate, fps, (1, 0, 0, 0), 30)
    after = ltcref.encode(sample_rate, fps, (2, 30, 0, 0), 30)
    starts = np.concatenate([before.starts, len(before.audio) + after.starts])
    decoded = decode_ltc(np.concatenate([before.audio, after.audio]), sample_rate, fps)
    assert_every_frame(matched_frames(decoded, starts, before.timecodes + after.timecodes), 60)


@pytest.mark.parametrize("rate", ["23.976", "29.97df"])
def test_reverse_play_reports_descending_frames_at_their_bit_0(rate):
    fps, _ = RATES[rate]
    count, sample_rate = 60, 48000
    reference = libltc_signal(rate, sample_rate, count)
    backwards = reference.audio[::-1]
    # Bit 0's leading edge lies between samples start-1 and start; reversed, the first sample past it is N - start.
    mirrored_starts = len(backwards) - reference.starts
    decoded = decode_ltc(backwards, sample_rate, fps)
    indices = matched_frames(decoded, mirrored_starts, reference.timecodes, reverse=True)
    assert indices == list(range(count - 1, 0, -1))  # all but frame 0, whose bit 0 ends the recording


@pytest.mark.parametrize("level_dbfs", [-40.0, -20.0, 0.0])
@pytest.mark.parametrize("polarity", [1.0, -1.0])
def test_any_level_from_minus_40_dbfs_to_full_scale_and_either_polarity(level_dbfs, polarity):
    reference = libltc_signal(volume_dbfs=0.0)
    audio = reference.audio * np.float32(polarity * 10 ** (level_dbfs / 20))
    decoded = decode_ltc(audio, 48000, (25, 1))
    assert_every_frame(matched_frames(decoded, reference.starts, reference.timecodes), 50)


def test_noise_20_db_below_the_signal():
    reference = libltc_signal("29.97df", 44100, volume_dbfs=0.0)
    amplitude = 10 ** (-20 / 20)
    noise = np.random.default_rng(2).normal(0.0, 0.1 * amplitude, len(reference.audio))
    audio = (reference.audio * amplitude + noise).astype(np.float32)
    decoded = decode_ltc(audio, 44100, (30000, 1001))
    assert_every_frame(matched_frames(decoded, reference.starts, reference.timecodes), 50)


def rise_time_10_to_90(kernel, sample_rate):
    step = np.cumsum(kernel) / kernel.sum()
    return (np.searchsorted(step, 0.9) - np.searchsorted(step, 0.1)) / sample_rate


@pytest.mark.parametrize("rate, sample_rate, taps", [("25", 48000, 11), ("30", 44100, 11)])
def test_slow_edges(rate, sample_rate, taps):
    """A linear-phase low-pass (no delay): edges rise in 100-150 us, three times SMPTE's 40 us."""
    kernel = np.hanning(taps + 2)[1:-1]
    assert 100e-6 <= rise_time_10_to_90(kernel, sample_rate) <= 150e-6
    reference = libltc_signal(rate, sample_rate)
    audio = np.convolve(reference.audio, kernel / kernel.sum(), mode="same").astype(np.float32)
    decoded = decode_ltc(audio, sample_rate, RATES[rate][0])
    assert_every_frame(matched_frames(decoded, reference.starts, reference.timecodes), 50)


@pytest.mark.parametrize("sample_rate", SAMPLE_RATES)
@pytest.mark.parametrize("rate", RATES)
def test_libltc_decodes_every_frame_we_write_bit_for_bit(rate, sample_rate):
    fps, drop_frame = RATES[rate]
    count = 50
    audio = encode_ltc(START, fps, count * fps[1] / fps[0], sample_rate, drop_frame=drop_frame, user_bits=USER_BITS)
    expected = libltc_signal(rate, sample_rate, count, user_bits=USER_BITS)  # libltc counts the labels itself
    decoded = ltcref.decode(audio, sample_rate, fps)
    assert [frame.timecode for frame in decoded] == expected.timecodes[:count - 1]
    # Same 80 bits as libltc writes: BCD, flags, user bits, polarity correction bit and sync word.
    assert [frame.word for frame in decoded] == expected.words[:count - 1]
    assert all(frame.sync_word == ltc.SYNC_WORD and frame.user_bits == USER_BITS and frame.drop_frame == drop_frame
               and not frame.reverse for frame in decoded)


@pytest.mark.parametrize("rate", RATES)
def test_labels_count_like_libltc_through_drop_frames_and_midnight(rate):
    fps, drop_frame = RATES[rate]
    expected = ltcref.encode(48000, fps, (23, 58, 59, 0), 2 * 60 * 30, drop_frame).timecodes
    label, counted = expected[0], [expected[0]]
    for _ in range(len(expected) - 1):
        label = ltc.next_timecode(*label, ltc.nominal_fps(fps), drop_frame)
        counted.append(label)
    assert counted == expected
    assert (0, 0, 0, 0) in counted and (drop_frame == ((23, 59, 0, 0) not in counted))


@pytest.mark.parametrize("nominal", [24, 25, 30])
def test_unpack_reads_back_what_pack_writes(nominal):
    rng = np.random.default_rng(nominal)
    for _ in range(200):
        values = (int(rng.integers(24)), int(rng.integers(60)), int(rng.integers(60)), int(rng.integers(nominal)),
                  int(rng.integers(2)), int(rng.integers(2)), int(rng.integers(2 ** 32)), int(rng.integers(8)))
        hours, minutes, seconds, frames, drop_frame, color_frame, user_bits, flags = values
        word = ltc.pack_frame(hours, minutes, seconds, frames, nominal, drop_frame, user_bits, color_frame, flags)
        assert ltc.unpack_frame(word, nominal) == values
        zeros = 80 - bin(word & (2 ** 64 - 1)).count("1") - ltc.SYNC_ONES
        assert zeros % 2 == 0, "the polarity correction bit makes the zeros even"


def test_frames_start_on_the_exact_sample_of_the_rational_rate():
    sample_rate, fps = 44100, (24000, 1001)
    audio = encode_ltc((0, 0, 0, 0), fps, 10.0, sample_rate)
    starts = -(-np.arange(239) * sample_rate * fps[1] // fps[0])
    # Each frame's first transition is centred half a sample before its start: a symmetric ramp.
    np.testing.assert_allclose(audio[starts[1:] - 1], -audio[starts[1:]], atol=1e-7)
    decoded = decode_ltc(audio, sample_rate, fps)
    errors = np.array([frame.start_sample for frame in decoded]) - starts[:len(decoded)]
    assert len(decoded) == 239 and np.abs(errors).max() <= 0.5


def crossing_time(rising, level):
    """Where an increasing edge passes `level`, interpolated between samples."""
    after = int(np.argmax(rising >= level))
    return after - 1 + (level - rising[after - 1]) / (rising[after] - rising[after - 1])


def test_level_and_rise_time_follow_the_settings():
    sample_rate = 192000  # fine enough to measure a 40 us edge
    audio = encode_ltc((0, 0, 0, 0), (25, 1), 0.2, sample_rate)
    peak = np.abs(audio).max()
    assert peak == pytest.approx(10 ** (ltc.DEFAULT_LEVEL_DBFS / 20), rel=1e-6)
    start = sample_rate // 25  # frame 1: its first transition, and no other, within 20 samples
    edge = audio[start - 20:start + 20] / peak
    rising = edge * np.sign(edge[-1])
    rise = crossing_time(rising, 0.8) - crossing_time(rising, -0.8)  # 10 % to 90 % of the swing
    assert rise / sample_rate == pytest.approx(ltc.DEFAULT_RISE_SECONDS, abs=2e-6)
    square = encode_ltc((0, 0, 0, 0), (25, 1), 0.2, 48000, level_dbfs=-3.0, rise_seconds=0.0)
    np.testing.assert_allclose(np.abs(square), 10 ** (-3 / 20), rtol=1e-6)  # a square wave


def test_settings_the_encoder_cannot_honour_are_refused():
    with pytest.raises(ValueError, match="drop-frame"):
        encode_ltc((0, 0, 0, 0), (25, 1), 1.0, 48000, drop_frame=True)
    with pytest.raises(ValueError, match="half a bit cell"):
        encode_ltc((0, 0, 0, 0), (30, 1), 1.0, 48000, rise_seconds=150e-6)


@pytest.mark.parametrize("index, labels", [
    (6, ["09:59:59:24", "10:00:00:00"]),  # the next frame carries the label
    (8, ["01:00:00:06", "01:00:00:07", "09:59:59:24"]),  # a frame further on
    (3, ["10:00:00:02", "10:00:00:03"]),  # a frame gone by: the timecode is where it would have been
])
def test_a_locate_labels_its_frame_and_the_labels_count_on_from_it(index, labels):
    sample_rate, fps = 48000, (25, 1)
    ints, floats = ltc.encoder_state(sample_rate, fps, (1, 0, 0, 0), user_bits=7)
    audio = np.zeros(sample_rate, np.float32)
    ltc.ltc_encode(audio[:10_000], ints, floats)  # into frame 5
    ltc.ltc_encoder_locate(ints, 9, 59, 59, 24, index)
    ints[ltc.E_USER_BITS] = 8
    ltc.ltc_encode(audio[10_000:], ints, floats)
    decoded = decode_ltc(audio, sample_rate, fps)
    assert [frame.timecode for frame in decoded[:6 + len(labels)]] == [
        "01:00:00:00", "01:00:00:01", "01:00:00:02", "01:00:00:03", "01:00:00:04", "01:00:00:05", *labels]
    assert [frame.user_bits for frame in decoded[5:8]] == [7, 8, 8]


def test_blocks_of_any_size_decode_the_same_frames():
    sample_rate, fps = 48000, (30000, 1001)
    reference = libltc_signal("29.97df", sample_rate, 40)
    results = []
    for block in (1, 64, 4096):
        ints, floats = ltc.decoder_state(sample_rate, fps)
        rows = np.zeros((ltc.frames_per_block(block, sample_rate, fps), ltc.FRAME_FIELDS))
        found = []
        for begin in range(0, len(reference.audio), block):
            count = ltc.ltc_decode(reference.audio[begin:begin + block], begin, ints, floats, rows)
            found += [tuple(row) for row in rows[:count]]
        assert ints[ltc.DI_FRAMES_LOST] == 0
        results.append(found)
    assert len(results[0]) == 39 and results[0] == results[1] == results[2]


def test_silence_tones_and_noise_give_no_frames():
    sample_rate = 48000
    rng = np.random.default_rng(3)
    t = np.arange(3 * sample_rate) / sample_rate
    signals = [np.zeros_like(t), 0.5 * np.sin(2 * np.pi * 1000 * t), 0.5 * np.sign(np.sin(2 * np.pi * 1200 * t))]
    signals += [rng.normal(0.0, 10 ** (level / 20), len(t)) for level in (-70, -40, -10)]
    for signal in signals:
        for fps in ((25, 1), (30000, 1001)):
            assert decode_ltc(signal, sample_rate, fps) == []


def test_a_silent_input_leaves_no_subnormal_state():
    sample_rate, fps = 48000, (25, 1)
    ints, floats = ltc.decoder_state(sample_rate, fps)
    audio = np.concatenate([libltc_signal().audio, np.zeros(30 * sample_rate, np.float32)])
    rows = np.zeros((ltc.frames_per_block(len(audio), sample_rate, fps), ltc.FRAME_FIELDS))
    assert ltc.ltc_decode(audio, 0, ints, floats, rows) == 49
    finite = floats[np.isfinite(floats)]
    assert not np.any((finite != 0) & (np.abs(finite) < np.finfo(np.float64).tiny))
    assert floats[ltc.D_ENVELOPE_HIGH] == floats[ltc.D_ENVELOPE_LOW] == 0.0


# The real-time contract: the kernels as the audio callback will call them, on carray views.
ROWS = 4
KERNEL_SIGNATURE = types.int64(types.voidptr, types.int64, types.int64, types.voidptr, types.voidptr, types.voidptr,
                               types.voidptr, types.voidptr)


def decode_then_encode(audio, frames, first_sample, decoder_ints, decoder_floats, rows, encoder_ints,
                       encoder_floats):
    block = carray(audio, (frames,), np.float32)
    decoded = ltc.ltc_decode(block, first_sample, carray(decoder_ints, (ltc.DECODER_INTS,), np.int64),
                             carray(decoder_floats, (ltc.DECODER_FLOATS,), np.float64),
                             carray(rows, (ROWS, ltc.FRAME_FIELDS), np.float64))
    ints = carray(encoder_ints, (ltc.ENCODER_INTS,), np.int64)
    if decoded:
        ltc.ltc_encoder_locate(ints, 1, 0, 0, 0, 0)
    ltc.ltc_encode(block, ints, carray(encoder_floats, (ltc.ENCODER_FLOATS,), np.float64))
    return decoded


def test_the_kernels_obey_the_real_time_contract():
    ir = cfunc(KERNEL_SIGNATURE, error_model="numpy")(decode_then_encode).inspect_llvm()
    report = audit_ir(ir)
    for kernel in ("ltc_decode", "_push_bit", "ltc_encode", "_advance_edge", "pack_frame"):
        assert f"{len(kernel)}{kernel}B" in ir, f"the audit must see {kernel}'s body"
    assert report.clean, report.summary()
