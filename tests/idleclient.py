"""An idle JACK client in a process of its own, counting its late cycles: what the server's scheduling
costs any client, the reference a live engine's missed cycles are judged against (a Python process
callback is fine while idle, DESIGN.md §7)."""

import math
import subprocess
import sys

# The engine's callback shares 2 cores with whatever a test drives it with, the server and the reference
# client: the scheduler alone may hold up a few of anyone's cycles (idle runs counted 0-1 late cycles on
# either side, in either order). When the machine stalls as a whole, the idle client counts the stall too,
# and the engine, whose work for the cycle comes after it, a few more of it (seen: 29 against 25), as a
# count's noise grows with its square root. A callback that overran its period would be late on most of a
# test's cycles, not on a few.
SCHEDULING_NOISE = 3


def within_scheduling_noise(engine_late: int, reference_late: int) -> bool:
    """Whether the engine missed no more cycles than an idle client beside it did, but for the scheduler's
    noise."""
    return engine_late <= reference_late + SCHEDULING_NOISE + 2 * math.sqrt(reference_late)

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
