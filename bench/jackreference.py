"""A reference JACK client in C, for what this machine itself delivers: its process callback does nothing
but note when it was called, and counts missed cycles and the longest gap exactly as liveengine's
audio callback does (kernel/process.py, account_for_time). Beside the engine's figures it tells a late
wake-up of the machine (the client misses the same cycles) from the engine's own lateness.

Built with cffi on first use (a C compiler and Python's headers, as `pip install cffi` needs), linked to
Debian's libjack.so.0 without its development headers: the few declarations it needs are below.
"""

import ctypes.util
import tempfile
from dataclasses import dataclass

CDEF = """
typedef struct {
    int64_t callbacks, missed_cycles, longest_gap_ns, last_ns, last_frames;
    uint32_t sample_rate;
} gaps_t;
void *gaps_open(const char *name, gaps_t *gaps);
int gaps_close(void *client);
"""

SOURCE = """
#include <stdint.h>
#include <time.h>

typedef uint32_t jack_nframes_t;
typedef struct _jack_client jack_client_t;
typedef int (*JackProcessCallback)(jack_nframes_t nframes, void *arg);
jack_client_t *jack_client_open(const char *client_name, int options, int *status, ...);
int jack_set_process_callback(jack_client_t *client, JackProcessCallback process, void *arg);
int jack_activate(jack_client_t *client);
int jack_deactivate(jack_client_t *client);
int jack_client_close(jack_client_t *client);
jack_nframes_t jack_get_sample_rate(jack_client_t *client);

typedef struct {
    int64_t callbacks, missed_cycles, longest_gap_ns, last_ns, last_frames;
    uint32_t sample_rate;
} gaps_t;

static int process(jack_nframes_t frames, void *arg) {
    gaps_t *gaps = arg;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t entry_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    if (gaps->last_ns > 0 && gaps->last_frames > 0) {
        int64_t gap = entry_ns - gaps->last_ns;
        double period_ns = gaps->last_frames * 1e9 / gaps->sample_rate;
        int64_t cycles = (int64_t)(gap / period_ns + 0.5);
        if (cycles > 1)
            gaps->missed_cycles += cycles - 1;
        if (gap > gaps->longest_gap_ns)
            gaps->longest_gap_ns = gap;
    }
    gaps->last_ns = entry_ns;
    gaps->last_frames = frames;
    gaps->callbacks += 1;
    return 0;
}

void *gaps_open(const char *name, gaps_t *gaps) {
    int status = 0;
    jack_client_t *client = jack_client_open(name, 1 /* JackNoStartServer */, &status);
    if (client == 0)
        return 0;
    gaps->sample_rate = jack_get_sample_rate(client);
    if (jack_set_process_callback(client, process, gaps) != 0 || jack_activate(client) != 0) {
        jack_client_close(client);
        return 0;
    }
    return client;
}

int gaps_close(void *client) {
    jack_deactivate(client);
    return jack_client_close(client);
}
"""


@dataclass(frozen=True)
class Gaps:
    callbacks: int
    missed_cycles: int
    longest_gap_ms: float


class ReferenceClientError(RuntimeError):
    pass


_module = None


def _compiled():
    global _module
    if _module is None:
        import cffi
        library = ctypes.util.find_library("jack")
        if library is None:
            raise ReferenceClientError("libjack is not installed (apt install libjack-jackd2-0)")
        ffi = cffi.FFI()
        ffi.cdef(CDEF)
        ffi.set_source("_jack_gaps", SOURCE, extra_link_args=[f"-l:{library}"])
        build = tempfile.mkdtemp(prefix="jackreference-")
        try:
            path = ffi.compile(tmpdir=build)
        except Exception as error:  # cffi's build errors: no compiler, no headers
            raise ReferenceClientError(f"the reference client does not build: {error}") from None
        import importlib.util
        spec = importlib.util.spec_from_file_location("_jack_gaps", path)
        _module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(_module)
    return _module


class ReferenceClient:
    """The C client on the JACK server this process uses (JACK_DEFAULT_SERVER), while open."""

    def __init__(self, name: str = "liveengine-reference"):
        module = _compiled()
        self._ffi, self._lib = module.ffi, module.lib
        self._gaps = self._ffi.new("gaps_t *")
        self._client = self._lib.gaps_open(name.encode(), self._gaps)
        if self._client == self._ffi.NULL:
            raise ReferenceClientError("the reference client could not join the JACK server")

    def read(self) -> Gaps:
        gaps = self._gaps
        return Gaps(gaps.callbacks, gaps.missed_cycles, gaps.longest_gap_ns / 1e6)

    def close(self):
        if self._client != self._ffi.NULL:
            self._lib.gaps_close(self._client)
            self._client = self._ffi.NULL
