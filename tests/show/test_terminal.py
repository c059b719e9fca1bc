"""What the operator reads during a show: one status line that messages never garble, messages in
timecode and words rather than sample numbers, DSP figures that agree, the `quit` command, and
kernel preparation that says how long it will take."""

import dataclasses
import io
import logging
import threading

import numba
import pytest

from liveengine.show.operator import EngineReports, live_summary, status_line
from liveengine.show.reader import parse_show
from liveengine.show.console import read_commands
from liveengine.show.terminal import ERASE_LINE, Terminal
from liveengine.engine import ChaseChange, OfflineRenderer, TimecodeEvent, TimecodeStatus
from liveengine.engine.drift import ClockDrift
from liveengine.engine import warmup
from liveengine.show.rig import build_rig
from liveengine.timecode import frame_rate

from shows import TONE, one_note_show


def test_a_message_ends_the_status_line_first_then_the_status_is_redrawn():
    out = io.StringIO()
    terminal = Terminal(out=out, errors=out, interactive=True, width=lambda: 80)
    terminal.status("  12.0 s  voices   6")
    terminal.message("01:00:10:05 cue 1M3: fired")
    terminal.message("Keyboard 'upper': setup 'strings'")
    terminal.close()
    assert out.getvalue() == (ERASE_LINE + "  12.0 s  voices   6"
                              + ERASE_LINE + "01:00:10:05 cue 1M3: fired\n" + "  12.0 s  voices   6"
                              + ERASE_LINE + "Keyboard 'upper': setup 'strings'\n" + "  12.0 s  voices   6"
                              + "\n")


def test_a_status_line_wider_than_the_terminal_is_cut_to_its_width_so_it_never_wraps():
    out = io.StringIO()
    columns = [30]
    terminal = Terminal(out=out, errors=out, interactive=True, width=lambda: columns[0])
    status = "   86.0 s  TC 01:00:10:05 locked  voices   6  DSP   5.9% (max 148.8%)"
    terminal.status(status)
    columns[0] = 50  # the window is widened
    terminal.message("cue 1M3: fired")
    terminal.status(status)
    assert out.getvalue() == (ERASE_LINE + status[:29] + ERASE_LINE + "cue 1M3: fired\n" + status[:29]
                              + ERASE_LINE + status[:49])


def test_on_a_pipe_status_and_messages_are_whole_lines():
    out = io.StringIO()
    terminal = Terminal(out=out, errors=out, interactive=False)
    terminal.status("status one")
    terminal.message("a message")
    terminal.close()
    assert out.getvalue() == "status one\na message\n"


def test_warnings_logged_anywhere_in_liveengine_reach_the_terminal_above_the_status():
    out = io.StringIO()
    terminal = Terminal(out=out, errors=out, interactive=True, width=lambda: 80)
    handler = terminal.log_handler(when=lambda: "01:00:00:12")
    logger = logging.getLogger("liveengine")
    logger.addHandler(handler)
    try:
        terminal.status("status")
        logging.getLogger("liveengine.midi").warning("MIDI input %r is gone", "keys")
        logging.getLogger("liveengine.midi").info("not shown")
    finally:
        logger.removeHandler(handler)
    assert out.getvalue() == (ERASE_LINE + "status" + ERASE_LINE + "01:00:00:12 WARNING: MIDI input 'keys' is gone\n"
                              + "status")


def rendering_rig():
    rig = build_rig(parse_show(one_note_show(48000, 64, TONE), "note.toml"))
    return rig, OfflineRenderer(rig.engine.state, 64)


def test_late_events_are_counted_in_milliseconds_not_logged_in_samples(caplog):
    rig, renderer = rendering_rig()
    engine = rig.engine
    said = []
    reports = EngineReports(engine, frame_rate("25"), lambda text, error=False: said.append(text))
    producer = engine.producer("show")
    for _ in range(10):
        renderer.render_block()
    with caplog.at_level(logging.INFO, logger="liveengine"):
        for _ in range(3):
            producer.note_on(0, 1, rig.instrument_numbers["voice"], 69, 0.5, "master")  # 640 samples too late
        renderer.render_block()
        engine.poll()
        reports.check(elapsed=1.0)
        reports.check(elapsed=1.5)  # nothing new: nothing said
    assert said == ["3 late events (note on), up to 13 ms late: they arrived after their block had played; "
                    "3 since the start"]
    assert not caplog.records, "the engine's per-event lines (in samples) stay at debug level"


@pytest.mark.parametrize("rate,frame,label", [("23.976", 86400 + 250, "01:00:10:10"), ("25", 90000 + 255, "01:00:10:05"),
                                              ("29.97df", 107892 + 305, "01:00:10;05")])
def test_timecode_events_are_said_in_the_shows_timecode(rate, frame, label):
    rig, _ = rendering_rig()
    said = []
    reports = EngineReports(rig.engine, frame_rate(rate), lambda text, error=False: said.append(text))
    for what in ("locking", "locked", "frame rejected", "relocated", "dropout: freewheel"):
        rig.engine.notifications.publish(TimecodeEvent(123456, ChaseChange(what), float(frame)))
    reports.check(elapsed=0.0)
    assert said == [f"timecode locked at {label}", f"timecode relocated at {label}",
                    f"timecode dropout: freewheel at {label}"]


def test_the_dsp_maximum_is_the_true_maximum_over_the_run_not_a_decaying_peak():
    rig, renderer = rendering_rig()
    engine = rig.engine
    loads = []
    for _ in range(3000):
        renderer.render_block()
        loads.append(engine.telemetry().dsp_load)
    t = engine.telemetry()
    assert t.dsp_load_max == max(loads)
    assert t.dsp_load_peak <= t.dsp_load_max


def test_the_status_line_and_the_summary_show_the_same_dsp_maximum():
    rig, renderer = rendering_rig()
    renderer.render_block()
    t = dataclasses.replace(rig.engine.telemetry(), dsp_load_peak=0.059, dsp_load_max=1.488, dsp_load_average=0.05,
                            callbacks=4146, position=4146 * 1024, missed_cycles=12, longest_gap_ms=64.0)
    assert "(max 148.8%)" in status_line(t, frame_rate("25"), 86.0)
    summary = "\n".join(live_summary(t, 4146 * 1024 / 48000, 48000))
    assert "max 148.8% of a period" in summary and "5.9" not in summary
    assert "4146 callbacks of 1024 frames (21.33 ms) in 88.4 s; that time allows 4146" in summary
    assert "12 late cycles" in summary and "the device caught up: every period was delivered" in summary


def test_the_summary_says_when_periods_were_never_delivered():
    rig, renderer = rendering_rig()
    renderer.render_block()
    t = dataclasses.replace(rig.engine.telemetry(), callbacks=3000, position=3000 * 1024, missed_cycles=1146)
    summary = "\n".join(live_summary(t, 4146 * 1024 / 48000, 48000))
    assert "that time allows 4146" in summary
    assert "about 1146 periods were never delivered: the audio dropped out" in summary


def test_the_summary_of_a_stream_never_called_says_so():
    rig, _ = rendering_rig()
    assert live_summary(rig.engine.telemetry(), 2.0, 48000) == [
        "Audio: the device never called back in the 2.0 s the stream was open."]


class Runner:
    def __init__(self):
        self.gone = 0

    def go(self):
        self.gone += 1


@pytest.mark.parametrize("typed", ["quit", "QUIT", "  quit  "])
def test_quit_at_the_terminal_ends_the_show(typed):
    runner, quit_asked, complaints = Runner(), threading.Event(), []
    thread = read_commands(runner, stream=io.StringIO(f"go\nquit now\n{typed}\ngo\n"), report=complaints.append,
                           on_quit=quit_asked.set)
    thread.join(timeout=10)
    assert quit_asked.is_set()
    assert runner.gone == 1, "nothing typed after quit is carried out"
    assert complaints == ["not a command: 'quit now'; commands: go | standby CUE | back | jump CUE | fire CUE [BAR] "
                          "| stop [SECONDS] | panic | quit"]


def test_a_cold_cache_is_detected_and_each_kernel_reports_its_progress(tmp_path, monkeypatch):
    warmup.prepare_kernels(report=lambda progress: None)
    assert not warmup.cache_is_cold()
    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "kernels-empty"))
    assert warmup.cache_is_cold()
    reports = []
    warmup.prepare_kernels(report=reports.append)  # compiled in this process already: nothing to do
    names = [report.name for report in reports if report.done]
    assert names == ["render kernel", "entry points"]
    first = reports[0]
    assert first.cold and first.name == "render kernel" and first.estimate > 0 and first.expected_functions > 0


def test_progress_while_compiling_names_the_kernel_and_the_time_it_should_take():
    out = io.StringIO()
    printer = warmup.ProgressPrinter(out)
    for elapsed, functions in ((0.0, 0), (1.0, 10), (10.5, 120), (45.0, 270)):
        printer(warmup.KernelProgress("render kernel", True, elapsed, 40.0, functions, 274))
    printer(warmup.KernelProgress("render kernel", True, 46.0, 40.0, 274, 274, "compiled"))
    assert out.getvalue().splitlines() == [
        "  render kernel    compiling:    0 s of about 40 s, 0 of about 274 functions",
        "  render kernel    compiling:   10 s of about 40 s, 120 of about 274 functions",
        "  render kernel    compiling:   45 s (more than the 40 s expected: the machine is busy), "
        "270 of about 274 functions",
        "  render kernel     46.00 s  (compiled)",
    ]


def test_a_kernel_that_compiles_reports_its_progress_every_tick(monkeypatch, tmp_path):
    """A stand-in for a long compile: not in the cache, and busy for a while."""
    import time

    def slow_kernel():
        time.sleep(0.3)

    monkeypatch.setattr(numba.config, "CACHE_DIR", str(tmp_path / "kernels-empty"))
    monkeypatch.setattr(warmup, "TICK_SECONDS", 0.02)
    monkeypatch.setattr(warmup, "_kernels", lambda: (("render kernel", slow_kernel, lambda: (0, 0), slow_kernel),))
    reports = []
    warmup.prepare_kernels(report=reports.append)
    ticks = [report for report in reports if not report.done]
    assert len(ticks) >= 5 and all(report.cold for report in ticks)
    assert [report.elapsed for report in ticks] == sorted(report.elapsed for report in ticks)
    assert reports[-1].done and reports[-1].source == "already loaded"


def test_the_status_line_shows_the_pictures_speed_and_drift_while_chasing():
    rig, renderer = rendering_rig()
    renderer.render_block()
    t = rig.engine.telemetry()
    chasing = dataclasses.replace(t, timecode=TimecodeStatus("locked", 90000.0, 1.001, 100, 0, 0))
    line = status_line(chasing, frame_rate("25"), 10.0, ClockDrift(1000.0, 480.0, 1000.0))
    assert "TC 01:00:00:00 locked +1000 ppm drift +480 smp" in line
    stopped = dataclasses.replace(t, timecode=TimecodeStatus("stopped", 0.0, 0.0, 0, 0, 0))
    assert "TC stopped  voices" in status_line(stopped, frame_rate("25"), 10.0, None)


def test_a_terminal_that_stops_taking_output_never_stops_the_show_and_is_told_what_it_missed():
    """A pipe nobody reads (a frozen ssh session is alike): the show's threads print on, what cannot wait
    is dropped and counted, and the terminal is told once it reads again."""
    import os
    from liveengine.show.terminal import WAITING_LIMIT
    reader, writer = os.pipe()
    out = os.fdopen(writer, "w")
    terminal = Terminal(out=out, errors=out, interactive=False, background=True)
    printed = threading.Thread(target=lambda: [terminal.message(f"01:00:00:00 cue {n}: fired") for n in range(5000)],
                               daemon=True)
    printed.start()
    printed.join(30)
    assert not printed.is_alive(), "printing waited for a terminal that takes no output"
    read = []
    with os.fdopen(reader) as pipe:
        reading = threading.Thread(target=lambda: read.append(pipe.read()))
        reading.start()  # the terminal reads again
        terminal.close()  # what waited reaches it
        out.close()
        reading.join(30)
    text, = read
    lines = text.splitlines()
    shown = [line for line in lines if line.endswith(": fired")]
    # one notice each time the terminal caught up after drops: the writer may catch up, and messages be
    # dropped again, before the pipe fills
    notices = [line for line in lines if "not shown" in line]
    counts = [int(notice.split()[0].lstrip("(")) for notice in notices]
    assert notices == [f"({count} messages not shown: the terminal did not take them in time)" for count in counts]
    dropped = sum(counts)
    assert shown[0] == "01:00:00:00 cue 0: fired" and len(shown) + dropped == 5000
    assert dropped >= 5000 - WAITING_LIMIT - 64 * 1024 // len(shown[0])  # beyond what waited and the pipe held
