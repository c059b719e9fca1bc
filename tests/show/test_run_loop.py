"""`liveengine run` as typed, on a private JACK server: a show runs until it is stopped (Ctrl-C,
`quit`), unless it ends by itself after its last sound; Ctrl-C exits 130 and shuts down cleanly;
the summary's figures agree with the status line's."""

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from test_show_end import TONE, one_note_show

ROOT = Path(__file__).resolve().parents[2]
STATUS = re.compile(r"^\s*\d+\.\d s .*voices .*DSP .*\(max +([\d.]+)%\)")
SUMMARY = re.compile(r"Audio: (\d+) callbacks of (\d+) frames .* in ([\d.]+) s; that time allows (\d+)")
SUMMARY_DSP = re.compile(r"DSP load: average [\d.]+%, max ([\d.]+)% of a period")
KEYBOARD = """
[setups.plain]
layers = [{instrument = "voice"}]
[keyboards.upper]
virtual = "upper keys"
setup = "plain"
"""
NO_NOTES = "\n[instruments.voice]\ntype = \"tone\"\n"


class Run:
    """`liveengine run SHOW --jack-dummy` (or with other `options`) in a subprocess, its output read line by line."""

    def __init__(self, show: Path, *options: str, env: dict | None = None):
        self.process = subprocess.Popen([sys.executable, "-m", "liveengine.cli", "run", str(show),
                                         *(options or ["--jack-dummy"])],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, cwd=ROOT, env=env)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: re.Pattern, count: int = 1, timeout: float = 300) -> list[str]:
        """The output's lines up to the `count`-th matching `pattern`; fails if the run ends first."""
        deadline = time.monotonic() + timeout
        matched = 0
        while matched < count:
            line = self._queue.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "the run ended before:\n" + "\n".join(self.lines)
            self.lines.append(line)
            matched += bool(pattern.search(line))
        return self.lines

    def finish(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        while (line := self._queue.get(timeout=10)) is not None:
            self.lines.append(line)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def server_running(self) -> bool:
        return subprocess.run(["pgrep", "-f", f"jackd -n liveengine-{self.process.pid}-"],
                              capture_output=True).returncode == 0

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def keyboard_show(tmp_path):
    show = tmp_path / "keys.toml"
    text = one_note_show(48000, 256, NO_NOTES)
    show.write_text(text[:text.index("[[parts]]")] + KEYBOARD)
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
