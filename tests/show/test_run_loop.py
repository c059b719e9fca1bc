"""`liveengine run` as typed, on a private JACK server: a show runs until it is stopped (Ctrl-C,
`quit`), unless it ends by itself after its last sound; Ctrl-C exits 130 and shuts down cleanly;
the summary's figures agree with the status line's."""

import re
import signal

import pytest

from commandline import Run
from shows import TONE, keyboard_only_show, one_note_show

STATUS = re.compile(r"^\s*\d+\.\d s .*voices .*DSP .*\(max +([\d.]+)%\)")
SUMMARY = re.compile(r"Audio: (\d+) callbacks of (\d+) frames .* in ([\d.]+) s; that time allows (\d+)")
SUMMARY_DSP = re.compile(r"DSP load: average [\d.]+%, max ([\d.]+)% of a period")


@pytest.fixture
def keyboard_show(tmp_path):
    show = tmp_path / "keys.toml"
    show.write_text(keyboard_only_show())
    return show


def test_ctrl_c_exits_130_after_a_clean_shutdown(keyboard_show):
    run = Run(keyboard_show)
    try:
        run.wait_for(STATUS, count=2)
        assert run.server_running()
        run.process.send_signal(signal.SIGINT)
        code = run.finish()
    finally:
        run.kill()
    assert code == 130, run.output
    assert "interrupted: stopping, all notes off" in run.output
    assert "Traceback" not in run.output
    assert not run.server_running(), "the private JACK server is stopped"
    # The summary's callbacks fit the time the stream ran, and its DSP max is the status line's
    # (a maximum over the run: never below what the status line showed last).
    callbacks, frames, _seconds, allowed = map(float, SUMMARY.search(run.output).groups())
    assert frames == 256
    assert callbacks <= allowed * 1.02 + 2
    last_status_max = float([STATUS.search(line) for line in run.lines if STATUS.search(line)][-1].group(1))
    assert float(SUMMARY_DSP.search(run.output).group(1)) >= last_status_max


def test_a_show_with_a_keyboard_and_no_cues_runs_until_quit(keyboard_show):
    """It used to end at once (after 0 s): the keyboardist could not play."""
    run = Run(keyboard_show)
    try:
        run.wait_for(STATUS, count=3)
        assert run.process.poll() is None
        run.process.stdin.write("quit\n")
        run.process.stdin.flush()
        code = run.finish()
    finally:
        run.kill()
    assert code == 0, run.output
    assert "quit: stopping, all notes off" in run.output
    assert "keyboard upper: virtual MIDI input 'upper keys', setup plain" in run.output
    assert not run.server_running()


def test_a_show_without_keyboards_ends_by_itself_after_its_last_tail(tmp_path):
    show = tmp_path / "note.toml"
    show.write_text(one_note_show(48000, 256, TONE).replace('rate = "25"', 'rate = "25"\nmaster_start = "01:00:00:00"'))
    run = Run(show)
    try:
        code = run.finish(timeout=300)
    finally:
        run.kill()
    assert code == 0, run.output
    over = re.search(r"^(\d\d):(\d\d):(\d\d):(\d\d) the show is over: every cue and part has played and every "
                     r"sound has ended", run.output, re.MULTILINE)
    assert over, run.output
    hours, minutes, seconds, frames = map(int, over.groups())
    show_seconds = (hours - 1) * 3600 + minutes * 60 + seconds + frames / 25
    assert show_seconds >= 0.5 + 2.5, "the 2.5 s release after the 0.5 s note has played out"
    assert not re.search(r"sample \d", run.output), "no internal sample numbers reach the operator"
    assert "Audio:" in run.output
