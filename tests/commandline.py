"""The `liveengine` command as a user types it: a subprocess of `python -m liveengine.cli` run from
the checkout, either to completion (`liveengine`) or read line by line while it runs (`Running`,
and `Run` for a `liveengine run`)."""

import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "demo.toml"


def liveengine(*args, env=None, cwd=ROOT):
    """`liveengine ARGS...` run to its end in `cwd`: the completed process, its output as text."""
    return subprocess.run([sys.executable, "-m", "liveengine.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


class Running:
    """`liveengine ARGS...` in a subprocess, its output (stdout and stderr) read line by line."""

    def __init__(self, *args, env: dict | None = None):
        self.process = subprocess.Popen([sys.executable, "-m", "liveengine.cli", *map(str, args)],
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

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class Run(Running):
    """`liveengine run SHOW --jack-dummy` (or with other `options`) in a subprocess, its output read line by line."""

    def __init__(self, show: Path, *options: str, env: dict | None = None):
        super().__init__("run", show, *(options or ["--jack-dummy"]), env=env)

    def server_running(self) -> bool:
        return subprocess.run(["pgrep", "-f", f"jackd -n liveengine-{self.process.pid}-"],
                              capture_output=True).returncode == 0
