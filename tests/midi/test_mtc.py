"""MTC: the generator's stream read back frame by frame, exactly; then MTC through JACK MIDI
ports into a live engine, whose chase must lock to it."""

import itertools
import logging
import time
from fractions import Fraction

import pytest

from liveengine.midi.ports import close_midi_inputs
from liveengine.midi.mtc import MtcInput, MtcReader, MtcSender, full_frame, open_mtc_input, quarter_frames
from liveengine.timecode import RATES, Timecode

# JACK clients in the test process: JACK2 keeps one set of client state per process, so
# `.ci/run` runs this file in a process of its own.
pytestmark = pytest.mark.jack_process

NS = 10 ** 9
# An MTC frame is known once its sequence is complete: the first reported frame is the third.
FIRST_REPORTED = 2


def sent(start, count, reverse=False):
    """The first `count` quarter frames from `start`, stamped with their exact send times in ns."""
    return [(message, seconds * NS) for seconds, message in itertools.islice(quarter_frames(start, reverse), count)]


def read(messages, rate):
    reader = MtcReader(rate)
    return [frame for message, arrival_ns in messages if (frame := reader.feed(message, arrival_ns))]


def frames_begun(frames, start, reverse=False):
    """How many frames after `start` began each reported frame, checking that each one is the
    timecode on screen at its exact start time (in reverse: the frame whose forward start it is)."""
    direction = -1 if reverse else 1
    begun = []
    for frame in frames:
        offset = frame.start_ns * start.rate.fps / NS
        assert offset.denominator == 1, f"{frame} does not start on a frame boundary"
        on_screen = start + direction * int(offset) + (1 if reverse else 0)
        assert frame.timecode == on_screen and frame.reverse == reverse and not frame.located, frame
        begun.append(int(offset))
    return begun


def through_midnight(rate):
    return Timecode.from_fields(23, 59, 59, rate.nominal - 10, rate)


@pytest.mark.parametrize("rate_name", list(RATES))
@pytest.mark.parametrize("start_at", [through_midnight, lambda rate: Timecode.from_fields(0, 9, 59, 20, rate)])
def test_every_frame_is_read_back_at_its_exact_start(rate_name, start_at):
    rate = RATES[rate_name]
    start = start_at(rate)
    frames = read(sent(start, 4 * 40), rate)
    assert frames_begun(frames, start) == list(range(FIRST_REPORTED, 40))


def test_the_drop_frame_minute_is_crossed_without_the_dropped_labels():
    rate = RATES["29.97df"]
    frames = read(sent(Timecode.parse("00:00:59;20", rate), 4 * 20), rate)
    labels = [str(frame.timecode) for frame in frames]
    assert labels[labels.index("00:00:59;29") + 1] == "00:01:00;02"


@pytest.mark.parametrize("rate_name, code", [("23.976", 0), ("24", 0), ("25", 1), ("29.97df", 2), ("29.97", 3), ("30", 3)])
def test_the_rate_code_travels_in_piece_7_and_in_the_full_frame(rate_name, code):
    start = Timecode.from_fields(1, 2, 3, 4, RATES[rate_name])
    piece_7 = sent(start, 8)[7][0]
    assert piece_7 == bytes((0xF1, 0x70 | code << 1))  # hours 1 < 16: the high nibble holds only the code
    assert full_frame(start) == bytes((0xF0, 0x7F, 0x7F, 0x01, 0x01, code << 5 | 1, 2, 3, 4, 0xF7))


def test_reverse_play_reports_descending_frames_at_their_forward_starts():
    rate = RATES["25"]
    start = Timecode.parse("10:00:00:05", rate)
    frames = read(sent(start, 4 * 20, reverse=True), rate)
    assert frames_begun(frames, start, reverse=True) == list(range(FIRST_REPORTED, 20))
    assert str(frames[0].timecode) == "10:00:00:04"


def test_a_missing_piece_discards_the_sequence_until_the_next_whole_one():
    rate = RATES["25"]
    start = Timecode.parse("01:00:00:00", rate)
    messages = sent(start, 4 * 12)
    del messages[21]  # piece 5 of the third sequence
    # In sync until the gap; then nothing until a whole sequence (pieces 24-31) has arrived again.
    assert frames_begun(read(messages, rate), start) == [2, 3, 4, 5, 8, 9, 10, 11]


def test_pieces_out_of_order_discard_the_sequence():
    rate = RATES["30"]
    start = Timecode.parse("01:00:00:00", rate)
    messages = sent(start, 4 * 12)
    messages[13], messages[14] = messages[14], messages[13]  # pieces 5 and 6 swapped
    assert frames_begun(read(messages, rate), start) == [2, 3, 6, 7, 8, 9, 10, 11]


def test_a_corrupt_sequence_is_discarded():
    rate = RATES["25"]
    start = Timecode.parse("01:00:00:00", rate)
    messages = sent(start, 4 * 12)
    # Frames low nibble 15 and high nibble 1: frame 31 does not exist at 25 fps.
    for index, data in ((16, 0x0F), (17, 0x11)):
        messages[index] = (bytes((0xF1, data)), messages[index][1])
    # Frames 4 and 5 were begun before the damage could be seen; after it, nothing until a good sequence.
    assert frames_begun(read(messages, rate), start) == [2, 3, 4, 5, 8, 9, 10, 11]


def test_a_pause_in_the_stream_loses_sync():
    rate = RATES["25"]
    start = Timecode.parse("01:00:00:00", rate)
    messages = sent(start, 4 * 12)
    # The stream stops after a sequence and resumes a second later: it may be anywhere by now.
    later = [(message, arrival + NS) for message, arrival in messages[24:]]
    reported = read(messages[:24] + later, rate)
    assert [frame.start_ns for frame in reported] == [
        k * NS / rate.fps for k in (2, 3, 4, 5)] + [k * NS / rate.fps + NS for k in (8, 9, 10, 11)]


def test_a_full_frame_is_a_locate_and_resets_the_running_count():
    rate = RATES["29.97df"]
    reader = MtcReader(rate)
    start = Timecode.parse("01:00:00;00", rate)
    for message, arrival_ns in sent(start, 12):
        reader.feed(message, arrival_ns)
    target = Timecode.parse("02:10:00;00", rate)
    located = reader.feed(full_frame(target), Fraction(7, 2) * NS)
    assert (located.timecode, located.start_ns, located.located) == (target, Fraction(7, 2) * NS, True)
    # The pieces after a locate say nothing until a whole sequence has arrived again.
    assert [reader.feed(message, arrival_ns) for message, arrival_ns in sent(start, 24)[12:]] == [None] * 12
    assert reader.feed(full_frame(target, device=5), 0).timecode == target
    assert reader.feed(bytes((0xF0, 0x7E, 0x7F, 0x06, 0x01, 0xF7)), 0) is None  # another SysEx


@pytest.mark.parametrize("sent_at, configured, warned", [
    ("30", "25", True), ("30", "29.97df", True), ("29.97df", "29.97", True),
    ("24", "23.976", False), ("30", "29.97", False), ("29.97df", "29.97df", False)])
def test_a_rate_code_that_contradicts_the_show_is_a_warning_once(sent_at, configured, warned, caplog):
    reader = MtcReader(RATES[configured])
    with caplog.at_level(logging.WARNING, logger="liveengine.midi.mtc"):
        for message, arrival_ns in sent(Timecode.parse("01:00:00:00", RATES[sent_at]), 8 * 10):
            reader.feed(message, arrival_ns)
        reader.feed(full_frame(Timecode.parse("01:00:00:00", RATES[sent_at])), 0)
    assert len(caplog.records) == warned and (reader.rate_mismatch is not None) == warned
    if warned:
        assert f"MTC runs at {sent_at} fps; the show expects {configured} fps ([timecode] rate)" in caplog.text


# Live: MTC through JACK MIDI into a running engine.

RATE = 48000
PERIOD = 64
FREEWHEEL_SECONDS = 0.5


@pytest.fixture(scope="module")
def server():
    from liveengine.drivers.jackserver import PrivateJackServer
    with PrivateJackServer(sample_rate=RATE, period=PERIOD) as running:
        yield running


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


@pytest.mark.parametrize("rate_name", list(RATES))
def test_mtc_through_jack_midi_locks_the_chase_then_freewheels_and_stops(server, rate_name):
    import rtmidi
    from liveengine.drivers.devices import choose_device
    from liveengine.drivers.stream import LiveStream
    from liveengine.engine import Engine, EngineSettings, NotificationPump, TimecodeInput

    rate = RATES[rate_name]
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=256, polyphony=16, timecode=TimecodeInput(
        None, (rate.fps.numerator, rate.fps.denominator), rate.drop_frame, FREEWHEEL_SECONDS)))
    stream = LiveStream(engine.state, choose_device(None, 2, 0), PERIOD)
    media_server = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="media server")
    media_server.open_virtual_port("timecode")
    mtc_in = None
    states = []
    try:
        with NotificationPump(engine):
            stream.start()
            assert wait_for(lambda: engine.clock.running, 2.0)
            mtc_in = open_mtc_input(MtcInput(engine.producer("midi"), engine.clock, rate),
                                    r"media server:timecode", rtmidi.API_UNIX_JACK)
            start = Timecode.from_fields(1, 0, 0, 0, rate)
            with MtcSender(media_server, start) as sender:
                time.sleep(3.0)
                status = engine.telemetry().timecode
                position_sent = start.frame_count + (time.monotonic_ns() - sender.origin_ns) * rate.fps / NS
            # The sender's thread has ended: no MIDI reaches the input's JACK thread any more.
            wait_for(lambda: states.append(engine.telemetry().timecode.state) or states[-1] == "stopped",
                     FREEWHEEL_SECONDS + 1.0)
    finally:
        if mtc_in is not None:
            close_midi_inputs(mtc_in)
        media_server.close_port()
        media_server.delete()
        stream.close()

    # MIDI through Python on a dummy server without real-time priority jitters by milliseconds.
    assert status.state == "locked", status
    assert abs(status.position - float(position_sent)) <= 2, (status.position, float(position_sent))
    assert abs(status.speed - 1.0) < 0.02, status.speed
    assert [state for k, state in enumerate(states) if k == 0 or state != states[k - 1]] == [
        "locked", "freewheel", "stopped"]
