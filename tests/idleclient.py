"""An idle JACK client in a process of its own, counting its late cycles: what the server's scheduling
costs any client, the reference a live engine's missed cycles are judged against (a Python process
callback is fine while idle, DESIGN.md §7)."""

import subprocess
import sys

# Counts the gaps between its callbacks of 1.5 periods or more as the engine counts its late cycles.
REFERENCE_CLIENT = """
import os, sys, time
import jack
client = jack.Client("reference", no_start_server=True)
last, late = [0], [0]
@client.set_process_callback
def process(frames):
    now = time.monotonic_ns()
    period_ns = frames * 1e9 / client.samplerate
    if last[0] and now - last[0] >= 1.5 * period_ns:
        late[0] += round((now - last[0]) / period_ns) - 1
    last[0] = now
client.activate()
print("ready", flush=True)
sys.stdin.read()
print(late[0], flush=True)
os._exit(0)  # no deactivation: the process callback is left as it is
"""


class ReferenceClient:
    """Started on the server `env`'s JACK_DEFAULT_SERVER names (default: this process's), counting from
    now; `late_cycles()` ends it and says how many of its cycles came late."""

    def __init__(self, env: dict | None = None):
        self.process = subprocess.Popen([sys.executable, "-c", REFERENCE_CLIENT], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout.readline().strip() == "ready"

    def late_cycles(self) -> int:
        out, _ = self.process.communicate("", timeout=20)
        return int(out.strip())
