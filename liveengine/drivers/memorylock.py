"""Keeping the engine's memory in RAM while a live stream runs (mlockall), as pro audio hosts do.

The audio thread never allocates, but it touches pages: its tables, the samples, its own code and the
code of PortAudio, JACK and the plugins it calls. Under memory pressure (a browser, a video player, a
large bank loading on the same machine) the system evicts pages: a library's code is dropped and read
back from disk at its next use, anonymous memory goes to swap. An audio thread that touches such a page
waits for the disk, many periods long: a dropout. Locked pages are never evicted.

Every page mapped now and later is locked (MCL_CURRENT | MCL_FUTURE) when the memlock limit is
unlimited or the process may exceed it (root, CAP_IPC_LOCK). Under a finite limit nothing is locked:
with MCL_FUTURE, every allocation past the limit would fail, and a show would stop for want of
memory it has. The operator is told which, and how to lift the limit.
"""

import ctypes
import errno
import os
import platform
import resource
import sys
import threading
from dataclasses import dataclass

# <sys/mman.h>: the flags differ on a few architectures.
_POWERPC_OR_SPARC = platform.machine().startswith(("ppc", "powerpc", "sparc"))
MCL_CURRENT = 0x2000 if _POWERPC_OR_SPARC else 1
MCL_FUTURE = 0x4000 if _POWERPC_OR_SPARC else 2
LIMIT_ADVICE = ("Give the user `memlock unlimited`: Debian's jackd2 sets it for the audio group in "
                "/etc/security/limits.d/audio.conf (add the user to the group, then log in again).")


@dataclass(frozen=True)
class MemoryLock:
    locked: bool
    detail: str  # why not, or how much is locked

    def report(self) -> str:
        if self.locked:
            return f"Memory locked: yes ({self.detail})"
        return (f"WARNING: the engine's memory is not locked ({self.detail}): a page fault in the audio thread "
                f"can wait for other threads and cause dropouts. {LIMIT_ADVICE}")


_holders = 0
_state: MemoryLock | None = None
_guard = threading.Lock()


def hold_memory_lock() -> MemoryLock:
    """Lock the process's memory, now and as it grows, for a live stream; every call is matched by
    `release_memory_lock`. The first holder locks; the others share its outcome."""
    global _holders, _state
    with _guard:
        _holders += 1
        if _holders == 1:
            _state = _lock_all()
        return _state


def release_memory_lock():
    """A live stream no longer needs the lock: the last one's release unlocks."""
    global _holders, _state
    with _guard:
        if _holders == 0:
            return
        _holders -= 1
        if _holders == 0 and _state.locked:
            _libc().munlockall()
            _state = None


def _lock_all() -> MemoryLock:
    if not sys.platform.startswith("linux"):
        return MemoryLock(False, f"{platform.system()} has no mlockall")
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if soft != resource.RLIM_INFINITY and not _may_exceed_limit():
        return MemoryLock(False, f"the memlock limit is {soft // 1024} KiB")
    libc = _libc()
    if libc.mlockall(MCL_CURRENT | MCL_FUTURE) != 0:
        code = ctypes.get_errno()
        return MemoryLock(False, f"mlockall failed: {os.strerror(code)} ({errno.errorcode.get(code, code)})")
    return MemoryLock(True, f"{locked_kib() // 1024} MB now, and all it allocates")


def _may_exceed_limit() -> bool:
    """Whether the process holds CAP_IPC_LOCK (root does), which lifts the memlock limit."""
    cap_ipc_lock = 14  # <linux/capability.h>
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> cap_ipc_lock & 1)
    except OSError:
        pass
    return False


def locked_kib() -> int:
    """The process's locked memory (VmLck), in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmLck:"):
                return int(line.split()[1])
    return 0


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mlockall.argtypes, libc.mlockall.restype = [ctypes.c_int], ctypes.c_int
    libc.munlockall.argtypes, libc.munlockall.restype = [], ctypes.c_int
    return libc
