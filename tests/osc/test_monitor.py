"""The sound engineer's monitor: the feed state from real OSC datagrams, the screen, the client against a
real UDP socket standing in for the engine, and the command's loop."""

import io
import itertools
import json
import random
import socket
import threading

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from liveengine.osc.monitor import (
    CLIP_HOLD_SECONDS,
    EVENTS_KEPT,
    FeedState,
    MonitorClient,
    big_text,
    level_cells,
    parse_target,
    render_screen,
    run_monitor,
)


def message(address, *args):
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build()


def datagram(address, *args) -> bytes:
    return message(address, *args).dgram


def bundle(*contents) -> bytes:
    """A bundle of messages and (already built) bundles."""
    builder = OscBundleBuilder(IMMEDIATELY)
    for content in contents:
        builder.add_content(content)
    return builder.build().dgram


def reply(status, data=None) -> bytes:
    return datagram("/reply/subscribe", json.dumps({"address": "/subscribe", "status": status, "data": data}))


FEED = [
    datagram("/timecode", "01:02:03:04", "locked", 1.5),
    datagram("/cue/current", "1M1", "Main Title"),
    datagram("/cue/next", "1M2", "Opening"),
    datagram("/meter/main", -6.0, -7.5, -12.0, -13.5),
    datagram("/meter/click", -120.0, -120.0, -120.0, -120.0),
    datagram("/voices", 12),
    datagram("/dsp", 23.5, 41.0),
    datagram("/dropouts", 0),
    datagram("/late_events", 2),
    datagram("/event", "cue", "1M1 fired at 01:00:00:00"),
]


def fed(*datagrams, at=None) -> FeedState:
    state = FeedState()
    for one in datagrams:
        state.apply_datagram(one, at)
    return state


def screen_lines(state, **options) -> list[str]:
    return render_screen(state, **options).split("\n")


def line_with(lines, text) -> str:
    found = [line for line in lines if text in line]
    assert found, f"no line with {text!r} in:\n" + "\n".join(lines)
    return found[0]


# ---------------------------------------------------------------------------------------------
# The feed state


def test_a_whole_feed_is_kept():
    state = fed(*FEED, reply("ok", {"rate": 10.0}))
    assert (state.timecode, state.chase_state, state.drift_samples) == ("01:02:03:04", "locked", 1.5)
    assert state.current_cue == ("1M1", "Main Title") and state.next_cue == ("1M2", "Opening")
    main = state.meters["main"]
    assert (main.peak_left, main.peak_right, main.rms_left, main.rms_right) == (-6.0, -7.5, -12.0, -13.5)
    assert list(state.meters) == ["main", "click"]
    assert (state.voices, state.dsp_load, state.dsp_max, state.dropouts, state.late_events) == (12, 23.5, 41.0, 0, 2)
    assert [(event.kind, event.text) for event in state.events] == [("cue", "1M1 fired at 01:00:00:00")]
    assert state.subscription_status == "ok" and json.loads(state.subscription_detail) == {"rate": 10.0}
    assert state.messages_applied == len(FEED) + 1 and state.messages_ignored == 0
    assert state.last_received is not None


def test_later_values_replace_earlier_ones():
    state = fed(datagram("/timecode", "01:00:00:00", "locking", 0.0), datagram("/cue/next", "1M2", "Opening"),
                datagram("/timecode", "01:00:00:01", "locked", -2.0), datagram("/cue/next", "", ""))
    assert (state.timecode, state.chase_state, state.drift_samples) == ("01:00:00:01", "locked", -2.0)
    assert state.next_cue == ("", "")


def test_bundles_and_nested_bundles_are_unpacked():
    inner = OscBundleBuilder(IMMEDIATELY)
    inner.add_content(message("/voices", 7))
    inner.add_content(message("/meter/strings", -20.0, -21.0, -30.0, -31.0))
    state = fed(bundle(message("/timecode", "10:00:00;02", "freewheel", 3.0), message("/dropouts", 4),
                       inner.build()))
    assert state.timecode == "10:00:00;02" and state.chase_state == "freewheel"
    assert state.dropouts == 4 and state.voices == 7 and state.meters["strings"].rms_right == -31.0
    assert state.messages_applied == 4 and state.malformed_datagrams == 0


def snapshot(state) -> tuple:
    return (state.timecode, state.chase_state, state.current_cue, state.next_cue, dict(state.meters), state.voices,
            state.dsp_load, state.dropouts, state.late_events, list(state.events), state.last_received,
            state.messages_applied, state.messages_ignored)


def test_garbage_datagrams_are_counted_and_change_nothing():
    state = fed(*FEED)
    before = snapshot(state)
    valid = datagram("/timecode", "01:02:03:04", "locked", 1.5)
    garbage = [b"", b"\x00\x00\x00\x00", b"hello world", b"#bundle\x00", valid[:13],
               b"/x\x89\x00\x00,[i][",  # python-osc raises UnicodeDecodeError on this one, not ParseError
               b"/timecode\x00\x00\x00,sss\x00\x00\x00\x00\xff\xfe\x00\x00"]
    for one in garbage:
        assert state.apply_datagram(one) == 0
    assert state.malformed_datagrams == len(garbage)
    assert snapshot(state) == before
    assert f"{len(garbage)} malformed datagrams" in render_screen(state)


@pytest.mark.parametrize("address, args", [
    ("/timecode", [1, 2, 3]),  # numbers for strings
    ("/timecode", ["01:00:00:00", "locked"]),  # drift missing
    ("/timecode", ["01:00:00:00", "locked", "far"]),
    ("/timecode", ["01:00:00:00", "locked", True]),  # an OSC True is no drift
    ("/cue/current", ["1M1"]),
    ("/cue/next", [1, 2]),
    ("/meter/main", [-6.0, -6.0, -12.0]),
    ("/meter/main", ["loud", -6.0, -12.0, -12.0]),
    ("/meter/main", [-6.0, float("nan"), -12.0, -12.0]),
    ("/meter/", [-6.0, -6.0, -12.0, -12.0]),  # no bus name
    ("/meter/main", [10**400, -6.0, -12.0, -12.0]),  # no float holds it
    ("/dsp", [float("inf"), 1.0]),
    ("/voices", ["twelve"]),
    ("/voices", [-3]),
    ("/voices", []),
    ("/dsp", [23.0]),
    ("/dropouts", [None]),
    ("/late_events", [[1, 2]]),
    ("/event", ["cue"]),
    ("/event", ["cue", 12]),
    ("/reply/subscribe", ["not json"]),
    ("/reply/subscribe", ['{"address": "/subscribe"}']),  # no status
    ("/reply/subscribe", ["[1, 2]"]),
    ("/reply/subscribe", ["[" * 60000]),  # json gives up with a RecursionError
    ("/no/such/address", [1]),
    ("/timecode", None),
    (None, []),
])
def test_wrong_messages_are_ignored_without_raising(address, args):
    state = FeedState()
    state.apply(address, args)
    assert state.messages_ignored == 1 and state.messages_applied == 0
    assert state.last_received is None, "an ignored message is no sign of a feed"
    assert (state.timecode, state.current_cue, state.next_cue, state.meters, state.voices, state.dsp_load,
            state.dropouts, state.late_events, list(state.events), state.subscription_status) == (
        None, None, None, {}, None, None, None, None, [], None)


def test_wrong_types_from_real_datagrams_are_ignored():
    state = fed(datagram("/voices", "12"), datagram("/timecode", 1.0, 2.0, 3.0), datagram("/dsp", b"blob", 1.0),
                datagram("/cue/current", True, False), datagram("/voices", 12))
    assert state.messages_ignored == 4 and state.voices == 12 and state.timecode is None


def test_any_mangled_packet_is_survived():
    """Thousands of datagrams cut from real ones, with bytes changed, inserted and type tags swapped."""
    sources = [*FEED, bundle(*(message(address, *args) for address, args in [
        ("/timecode", ("01:00:00:00", "locked", 0.5)), ("/meter/main", (-1.0, -2.0, -3.0, -4.0)),
        ("/event", ("device", "audio device lost"))]))]
    generator = random.Random(20240611)
    state = FeedState()
    for _ in range(5000):
        mangled = bytearray(generator.choice(sources))
        for _ in range(generator.randint(1, 4)):
            where = generator.randrange(len(mangled) + 1)
            choice = generator.random()
            if choice < 0.4 and where < len(mangled):
                mangled[where] = generator.choice(b",ifsbTFNhd[]/\x00\xff" + bytes([generator.randrange(256)]))
            elif choice < 0.7:
                del mangled[where:]
            else:
                mangled.insert(where, generator.randrange(256))
        state.apply_datagram(bytes(mangled))
        render_screen(state, width=80, now=0.0)
    assert state.malformed_datagrams > 0 and state.messages_applied > 0


def test_the_last_events_are_kept_with_their_arrival():
    state = FeedState()
    for number in range(EVENTS_KEPT + 3):
        state.apply("/event", ["cue", f"1M{number} fired"], at=100.0 + number)
    assert len(state.events) == EVENTS_KEPT
    assert [event.text for event in state.events] == [f"1M{number} fired" for number in range(3, EVENTS_KEPT + 3)]
    assert [event.arrived_at for event in state.events] == [100.0 + number for number in range(3, EVENTS_KEPT + 3)]
    assert all(len(event.wall_clock) == 8 and event.wall_clock[2] == ":" for event in state.events)


def test_a_lost_device_stands_until_it_resumes():
    state = fed(datagram("/event", "device", "audio device lost"))
    assert state.device_alarm == "audio device lost"
    assert "AUDIO DEVICE: audio device lost" in render_screen(state)
    state.apply_datagram(datagram("/event", "device", "audio resumed"))
    assert state.device_alarm is None and "AUDIO DEVICE" not in render_screen(state)


# ---------------------------------------------------------------------------------------------
# The screen


def test_the_timecode_is_drawn_big():
    state = fed(*FEED, at=50.0)
    lines = screen_lines(state, width=80, now=50.5)
    rows = big_text("01:02:03:04")
    assert len(rows) == 5 and all(len(row) == len(rows[0]) for row in rows)
    drawn = [line.strip() for line in lines]
    start = drawn.index(rows[0].strip())
    assert drawn[start:start + 5] == [row.strip() for row in rows]
    assert "chase LOCKED" in line_with(lines, "drift +1.5 samples")


def test_every_digit_has_a_glyph_of_its_own():
    drawn = [tuple(big_text(digit)) for digit in "0123456789"]
    assert len(set(drawn)) == 10
    assert big_text("01:00:00;00") != big_text("01:00:00:00"), "drop-frame must show"
    assert big_text("01:00:00:0x") is None


def test_drop_frame_and_a_timecode_without_glyphs():
    state = fed(datagram("/timecode", "01:00:00;02", "locked", 0.0), at=1.0)
    lines = screen_lines(state, now=1.0)
    assert "drop-frame" in line_with(lines, "chase LOCKED")
    assert any(line.strip() == row.strip() for row in big_text("01:00:00;02") for line in lines if "," in row)
    odd = fed(datagram("/timecode", "1:00 AM", "stopped", 0.0), at=1.0)
    assert "TIMECODE 1:00 AM" in render_screen(odd, now=1.0)


def test_the_cues_are_shown():
    lines = screen_lines(fed(*FEED, at=5.0), now=5.0)
    assert "Main Title" in line_with(lines, "CURRENT  1M1")
    assert "standing by for GO" in line_with(lines, "NEXT     1M2    Opening")
    nothing = screen_lines(fed(datagram("/cue/current", "", ""), at=5.0), now=5.0)
    assert line_with(nothing, "CURRENT").endswith("(none)") and line_with(nothing, "NEXT").endswith("(none)")


def meter_line(state, bus, width=80, now=0.0) -> str:
    return line_with(screen_lines(state, width=width, now=now), f"{bus} ")


def bars(line) -> list[str]:
    """The inside of a meter line's two bars."""
    return [part.split("]")[0] for part in line.split("[")[1:]]


def test_bars_scale_with_the_level():
    levels = [-120.0, -60.0, -45.0, -30.0, -15.0, -6.0, -0.5]
    filled = []
    for level in levels:
        state = fed(datagram("/meter/main", level, level, level, level), at=0.0)
        left, right = bars(meter_line(state, "main"))
        assert left == right and set(left) <= {"#", "."}
        filled.append(left.count("#"))
    assert filled[0] == filled[1] == 0 and all(lower < higher for lower, higher in itertools.pairwise(filled[1:]))
    assert filled[-1] == len(left) - 1, "-0.5 dBFS fills all but the last cell, kept for full scale"
    assert filled[3] == len(left) // 2, "-30 dBFS is half way on a -60..0 scale"
    assert level_cells(-30.0, 20) == 10 and level_cells(-90.0, 20) == 0 and level_cells(6.0, 20) == 20


def test_a_bar_shows_rms_solid_and_the_peak_beyond_it_with_the_numbers():
    state = fed(datagram("/meter/main", -6.0, -30.0, -18.0, -42.0), at=0.0)
    line = meter_line(state, "main")
    left, right = bars(line)
    assert left.count("#") == level_cells(-18.0, len(left)) and left.count("#") + left.count("=") == level_cells(
        -6.0, len(left))
    assert right.count("#") == level_cells(-42.0, len(right))
    assert "-6.0 -18.0" in line and "-30.0 -42.0" in line and "CLIP" not in line


def test_clipping_is_marked_and_held():
    state = FeedState()
    state.apply("/meter/main", [0.4, -3.0, -6.0, -9.0], at=10.0)
    line = meter_line(state, "main", now=10.0)
    left, right = bars(line)
    assert line.endswith("CLIP") and left.endswith("!") and not right.endswith("!")
    assert "+0.4" in line
    state.apply("/meter/main", [-20.0, -20.0, -30.0, -30.0], at=10.1)
    assert meter_line(state, "main", now=10.2).endswith("CLIP"), "a one-update clip must stay visible"
    assert "CLIP" not in meter_line(state, "main", now=10.0 + CLIP_HOLD_SECONDS + 0.1)


def test_no_feed_alert():
    state = fed(*FEED, at=100.0)
    assert "NO FEED" not in render_screen(state, now=101.9)
    lines = screen_lines(state, now=102.5)
    assert lines[2] == "!! NO FEED for 2 s", "alerts come first, under the title"
    assert "NO FEED for 7 s" in render_screen(state, now=107.2)
    state.apply_datagram(datagram("/voices", 3), at=107.3)
    assert "NO FEED" not in render_screen(state, now=107.4)
    never = FeedState()
    assert "NO FEED for 3 s (nothing received yet)" in render_screen(never, now=never.created_at + 3.0)


def test_other_alerts():
    state = fed(reply("refused", "too many clients"), datagram("/timecode", "01:00:00:00", "freewheel", 0.0),
                datagram("/dropouts", 1), at=20.0)
    state.apply_datagram(datagram("/dropouts", 3), at=21.0)
    state.link_error = "[Errno 101] Network is unreachable"
    screen = render_screen(state, now=21.5)
    assert "!! SUBSCRIPTION REFUSED: too many clients" in screen
    assert "!! TIMECODE FREEWHEELING" in screen
    assert "!! AUDIO DROPOUTS: 3 missed cycles since start" in screen
    assert "!! cannot send to the engine: [Errno 101] Network is unreachable" in screen
    assert "AUDIO DROPOUTS" not in render_screen(state, now=30.0), "a rise is news for a few seconds only"


def test_counters_and_events_are_shown():
    state = fed(*FEED, datagram("/event", "timecode", "lock lost"), at=0.0)
    lines = screen_lines(state, now=0.0)
    counters = line_with(lines, "voices 12")
    assert "DSP 24% (max 41%)" in counters and "dropouts 0" in counters and "late events 2" in counters
    newest, older = line_with(lines, "lock lost"), line_with(lines, "1M1 fired at 01:00:00:00")
    assert lines.index(newest) < lines.index(older) and "timecode" in newest and " cue " in older


@pytest.mark.parametrize("width", [24, 40, 52, 64, 80, 100, 132])
def test_every_line_fits_the_width(width):
    state = fed(*FEED, datagram("/meter/a_very_long_bus_name_indeed", 2.0, -80.0, -1.0, -90.0),
                datagram("/event", "osc", "refused client 10.0.0.5 " * 10),
                datagram("/cue/current", "1M1", "A cue name far longer than any terminal is wide " * 3),
                reply("error", {"reason": "rate out of range " * 5}), at=0.0)
    lines = screen_lines(state, width=width, now=5.0)
    assert all(len(line) <= width for line in lines), [line for line in lines if len(line) > width]
    assert line_with(lines, "NO FEED")
    assert len(bars(meter_line(state, "main", width=width))) == 2
    if width >= 52:
        assert any(big_text("01:02:03:04")[0].strip() in line for line in lines)
    if width >= 80:
        assert "voices 12   DSP 24% (max 41%)   dropouts 0   late events 2" in lines


def test_what_the_network_sends_cannot_drive_the_terminal():
    state = fed(datagram("/event", "osc", "evil\x1b[2J\x1b[Hhome\nnewline\r"), datagram("/meter/x\x07y", 0, 0, 0, 0),
                at=0.0)
    screen = render_screen(state, now=0.0)
    assert "\x1b" not in screen and "\r" not in screen and "\x07" not in screen
    assert "evil?[2J?[Hhome?newline?" in screen


# ---------------------------------------------------------------------------------------------
# The client, against a UDP socket standing in for the engine


@pytest.fixture
def engine_socket():
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    server.settimeout(2.0)
    yield server
    server.close()


def receive(server, timeout=2.0):
    """The next message the engine's socket gets: (address, params, sender)."""
    server.settimeout(timeout)
    data, sender = server.recvfrom(65535)
    parsed = OscPacket(data).messages[0].message
    return parsed.address, parsed.params, sender


def nothing_more(server, wait=0.1) -> bool:
    server.settimeout(wait)
    try:
        server.recvfrom(65535)
    except TimeoutError:
        return True
    return False


def test_the_client_subscribes_receives_the_feed_and_unsubscribes(engine_socket):
    host, port = engine_socket.getsockname()
    client = MonitorClient(host, port, local_address=("127.0.0.1", 0), renew_interval=60.0)
    try:
        assert client.subscribe(12.5)
        address, params, sender = receive(engine_socket)
        assert (address, params) == ("/subscribe", [12.5])
        assert sender == client.local_address, "the subscription comes from the socket the feed goes to"

        engine_socket.sendto(reply("ok"), sender)
        for one in FEED[:4]:
            engine_socket.sendto(one, sender)
        engine_socket.sendto(bundle(*(OscPacket(one).messages[0].message for one in FEED[4:])), sender)
        engine_socket.sendto(b"\x00garbage\xff", sender)
        taken = client.poll(0.5)
        assert taken == len(FEED) + 1
        state = client.state
        assert state.subscription_status == "ok" and state.timecode == "01:02:03:04"
        assert state.voices == 12 and state.late_events == 2 and state.malformed_datagrams == 1
        assert "1M1" in render_screen(state) and "NO FEED" not in render_screen(state)
        assert nothing_more(engine_socket), "no renewal before it is due"
    finally:
        client.close()
    assert receive(engine_socket)[:2] == ("/unsubscribe", [])
    client.close()  # twice is harmless, and sends nothing more
    assert nothing_more(engine_socket)


def test_the_subscription_is_renewed_on_time_with_the_rate(engine_socket):
    host, port = engine_socket.getsockname()
    with MonitorClient(host, port, local_address=("127.0.0.1", 0), renew_interval=0.1) as client:
        client.subscribe(5)
        client.poll(0.55)
    received = []
    while True:
        try:
            address, params, _ = receive(engine_socket, timeout=0.5)
        except TimeoutError:
            break
        received.append((address, params))
    assert received[-1] == ("/unsubscribe", [])
    subscriptions = received[:-1]
    assert subscriptions == [("/subscribe", [5.0])] * len(subscriptions)
    # One at the start and one every 0.1 s over 0.55 s: 6, fewer only if the machine is very busy.
    assert 3 <= len(subscriptions) <= 6, subscriptions


def test_a_feed_rate_out_of_range_is_refused(engine_socket):
    host, port = engine_socket.getsockname()
    with MonitorClient(host, port, local_address=("127.0.0.1", 0)) as client:
        for rate in (0.5, 31, float("nan")):
            with pytest.raises(ValueError, match="1 to 30 Hz"):
                client.subscribe(rate)
    assert nothing_more(engine_socket), "never subscribed: nothing to unsubscribe"


# ---------------------------------------------------------------------------------------------
# The command


@pytest.mark.parametrize("text, target", [
    ("localhost:9000", ("localhost", 9000)), ("10.0.0.5:53000", ("10.0.0.5", 53000)),
    ("[::1]:9000", ("::1", 9000)), (" engine.local:1 ", ("engine.local", 1))])
def test_parse_target(text, target):
    assert parse_target(text) == target


@pytest.mark.parametrize("text, complaint", [
    ("localhost", "expected HOST:PORT"), (":9000", "no host"), ("localhost:", "port must be a number"),
    ("localhost:osc", "port must be a number"), ("localhost:9\u00b2", "port must be a number"), ("localhost:-1", "port must be a number"),
    ("localhost:0", "1 to 65535"), ("localhost:70000", "1 to 65535"), ("::1:9000", "IPv6 address in brackets"),
    ("[::1]9000", r"\[IPV6\]:PORT"), ("[::1", r"\[IPV6\]:PORT"), ("", "expected HOST:PORT")])
def test_parse_target_says_what_is_wrong(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_target(text)


def test_an_unknown_host_is_a_clear_error(capsys):
    assert run_monitor("no-such-host.invalid", 9000, seconds=0.1, out=io.StringIO()) == 1
    assert "cannot resolve no-such-host.invalid:9000" in capsys.readouterr().err


def test_a_rate_out_of_range_is_a_clear_error(capsys):
    assert run_monitor("127.0.0.1", 9000, rate=60, out=io.StringIO()) == 1
    assert "1 to 30 Hz" in capsys.readouterr().err


class FakeEngine:
    """Answers /subscribe with a reply and a feed, the way the engine's OSC server does."""

    def __init__(self, server):
        self.server = server
        self.received = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.stopped = threading.Event()
        self.thread.start()

    def serve(self):
        self.server.settimeout(0.05)
        subscriber = None
        while not self.stopped.is_set():
            try:
                data, sender = self.server.recvfrom(65535)
                parsed = OscPacket(data).messages[0].message
                self.received.append((parsed.address, parsed.params))
                if parsed.address == "/subscribe":
                    subscriber = sender
                    self.server.sendto(reply("ok"), sender)
                elif parsed.address == "/unsubscribe":
                    subscriber = None
            except TimeoutError:
                pass
            if subscriber is not None:
                self.server.sendto(bundle(*(OscPacket(one).messages[0].message for one in FEED)), subscriber)

    def stop(self):
        self.stopped.set()
        self.thread.join(2.0)


def test_run_monitor_prints_a_screen_a_second_to_a_pipe(engine_socket):
    engine = FakeEngine(engine_socket)
    out = io.StringIO()
    try:
        host, port = engine_socket.getsockname()
        assert run_monitor(host, port, rate=20, seconds=1.4, out=out) == 0
    finally:
        engine.stop()
    text = out.getvalue()
    assert "\x1b" not in text, "no terminal codes into a file or a pipe"
    assert text.count("liveengine monitor") == 2, "one screen after a second, one at the end"
    assert all(row.strip() in text for row in big_text("01:02:03:04"))
    assert "CURRENT  1M1" in text and "NO FEED" not in text
    assert engine.received[0] == ("/subscribe", [20.0]) and engine.received[-1] == ("/unsubscribe", [])


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_run_monitor_redraws_in_place_on_a_terminal(engine_socket):
    out = Terminal()
    host, port = engine_socket.getsockname()
    assert run_monitor(host, port, seconds=0.35, out=out) == 0
    text = out.getvalue()
    assert text.startswith("\x1b[2J\x1b[H"), "clear the screen once, at the start"
    assert text.count("\x1b[H") >= 3, "then home and redraw every frame"
    assert "NO FEED" not in text, "nothing received yet, but not for 2 s"
    assert receive(engine_socket)[:2] == ("/subscribe", [10.0])
    assert receive(engine_socket)[:2] == ("/unsubscribe", [])
