"""An idle JACK client in a process of its own, the reference a live test judges the engine's missed
cycles against: on 2 shared cores the scheduler alone may hold up any client's cycle now and then."""

import subprocess
import sys

# The engine's callback shares 2 cores with the test's load, the server and the reference client: any
# one of its cycles may be held up by the scheduler. Idle runs counted 0-1 late cycles on either side, in
# either order; a callback that overran its period under load would be late on most cycles, not on a few.
SCHEDULING_NOISE = 3

# An idle JACK client in a process of its own, counting the gaps between its callbacks of 1.5 periods
# or more as the engine counts its late cycles (DESIGN.md §7: a Python process callback is fine idle).
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
    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-c", REFERENCE_CLIENT], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def late_cycles(self) -> int:
        out, _ = self.process.communicate("", timeout=20)
        return int(out.strip())
