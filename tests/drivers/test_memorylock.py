"""A live stream keeps the engine's memory locked in RAM while it is open, or says why it cannot."""

import os
import resource
import shutil
import subprocess
import sys

import pytest

from liveengine.drivers.devices import choose_device
from liveengine.drivers.memorylock import locked_kib
from liveengine.drivers.stream import LiveStream
from liveengine.engine import Engine, EngineSettings

from livecapture import PERIOD, RATE

# JACK clients in the test process: `.ci/run` runs this file in a process of its own.
pytestmark = pytest.mark.jack_process

LOCK_AND_REPORT = """
from liveengine.drivers.memorylock import hold_memory_lock, locked_kib, release_memory_lock
lock = hold_memory_lock()
print(lock.locked, locked_kib() > 0)
print(lock.report())
release_memory_lock()
print(locked_kib())
"""


def lock_in_a_process(*, memlock_kib: int, without_cap_ipc_lock: bool) -> list[str]:
    """What LOCK_AND_REPORT prints in a fresh process under a memlock limit of `memlock_kib`."""
    limit = memlock_kib * 1024
    command = [sys.executable, "-c", LOCK_AND_REPORT]
    if without_cap_ipc_lock:  # root's way past the limit, taken away as a user never has it
        command = ["setpriv", "--bounding-set=-ipc_lock", "--inh-caps=-ipc_lock", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_MEMLOCK, (limit, limit)))
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def locked_code_kib(library: str) -> int:
    """How much of `library`'s executable mapping in this process is locked, in KiB (/proc/self/smaps)."""
    locked, in_code = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:  # a mapping's header: range, permissions, ..., path
                in_code = "x" in fields[1] and len(fields) >= 6 and library in fields[5]
            elif in_code and fields[0] == "Locked:":
                locked += int(fields[1])
    return locked


root_only = pytest.mark.skipif(os.geteuid() != 0, reason="locks past a memlock limit, and drops the capability "
                                                         "that allows it, only as root")


@root_only
def test_a_live_stream_locks_the_memory_while_it_is_open_and_unlocks_it_after(live_server):
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=256, output_channels=4, input_channels=2))
    stream = LiveStream(engine.state, choose_device(None, 4, 2), PERIOD)
    jacks_own = locked_kib()  # a JACK client locks its shared memory with a real-time server
    stream.start()
    try:
        assert stream.memory_lock.locked
        assert stream.memory_lock.report().startswith("Memory locked: yes")
        before = locked_kib()
        assert before > jacks_own
        assert locked_code_kib("libportaudio") > 0  # code the audio thread runs: never evicted
        grown = bytearray(64 * 1024 * 1024)  # allocated while the stream runs: locked too
        assert locked_kib() >= before + 60 * 1024
        del grown
    finally:
        stream.close()
    assert stream.memory_lock is None and locked_kib() == 0


@root_only
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="util-linux's setpriv drops the capability")
def test_under_a_memlock_limit_nothing_is_locked_and_the_operator_is_told_how_to_lift_it():
    locked, report, after = lock_in_a_process(memlock_kib=64, without_cap_ipc_lock=True)
    assert locked == "False False"
    assert report.startswith("WARNING: the engine's memory is not locked (the memlock limit is 64 KiB)")
    assert "memlock unlimited" in report and "/etc/security/limits.d/audio.conf" in report
    assert after == "0"


@root_only
def test_a_process_allowed_past_the_limit_locks_all_the_same():
    locked, report, after = lock_in_a_process(memlock_kib=64, without_cap_ipc_lock=False)
    assert locked == "True True"
    assert report.startswith("Memory locked: yes")
    assert after == "0"
