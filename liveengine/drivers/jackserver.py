"""A private JACK server with the dummy driver, for tests and ``run --jack-dummy``.

The server runs ``jackd -n NAME --no-realtime -d dummy`` as a child process: no sound
card, no real-time privileges, a name of its own so that parallel runs never share a
server. After it accepts clients, ``JACK_DEFAULT_SERVER`` names it, so PortAudio and
every JACK client this process opens from then on connect to it.

Facts this module is built around (measured with PortAudio 19.6 and JACK2 1.9.21):

* PortAudio sees only a JACK server that was running when PortAudio initialised, and
  sounddevice initialises PortAudio at import. :meth:`PrivateJackServer.start` therefore
  re-initialises PortAudio once the server is up.
* PortAudio must be terminated (its streams closed, ``Pa_Terminate``) *before* the server
  goes away, or the process aborts at exit on an assertion in PortAudio's JACK host API
  (or hangs at exit, if a stream was running). :meth:`PrivateJackServer.stop` does that
  first, then stops jackd, then initialises PortAudio again so that later device queries
  work (without this server).
* Once the server PortAudio's JACK host API is a client of dies, that PortAudio can no
  longer be stopped: stopping or closing a stream, and ``Pa_Terminate``, wait 10 minutes
  for the server's process thread to answer (pa_jack.c's ``RealStop``), and
  ``Pa_Initialize`` does nothing more while it is initialised. :func:`abandon_portaudio`
  leaves that instance alone for good and gives sounddevice a fresh one: PortAudio loaded
  from a copy of its library file has state of its own, and its JACK client connects to
  the server when it returns (beside the dead client, which JACK2 ignores).
* JACK2's client library keeps one set of globals per process (engine control, graph):
  one process must be a client of one server at a time (a client opened on a second
  server saw the first one's rate, period and ports, and the process then segfaulted).
  Several servers may run at once; talk to each from its own process, or one after the
  other. Readiness is therefore probed with ``jack_wait`` in a child process.

Example::

    with PrivateJackServer(sample_rate=48000, period=64) as server:
        import sounddevice as sd
        sd.query_devices()          # lists the JACK device of this server
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref

__all__ = ["JackServerError", "PrivateJackServer", "abandon_portaudio", "default_server_name",
           "portaudio_jack_client_name", "reinitialize_portaudio", "server_accepts_clients",
           "set_portaudio_jack_client_name", "realtime_allowed"]

ENV_VAR = "JACK_DEFAULT_SERVER"

_name_counter = itertools.count()
_state_lock = threading.RLock()
# Servers started by this process and still running, oldest first. JACK_DEFAULT_SERVER
# names the newest; stopping one restores the newest still running, or the original value.
_running: list["PrivateJackServer"] = []
_env_before_first: list[str | None] = []   # [value of JACK_DEFAULT_SERVER before _running filled]
_all_servers: "weakref.WeakSet[PrivateJackServer]" = weakref.WeakSet()


class JackServerError(RuntimeError):
    """The private JACK server could not be started (or stopped)."""


def _tail(path: str | None, max_chars: int = 3000) -> str:
    if not path:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_chars))
            return f.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _find_tool(name: str) -> str | None:
    return shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)


def _portaudio_terminate() -> int:
    """Terminate PortAudio completely if sounddevice has it initialised.

    Returns how many times sounddevice had initialised it (its reference count), so that
    :func:`_portaudio_initialize` can restore the same count.
    """
    sd = sys.modules.get("sounddevice")
    if sd is None:
        return 0
    count = int(getattr(sd, "_initialized", 0))
    if count == 0:
        return 0
    # Streams of sounddevice's play()/rec() convenience functions: close them now, and
    # forget them, or sounddevice's exit handler would touch them after Pa_Terminate.
    if getattr(sd, "_last_callback", None) is not None:
        try:
            sd.stop(ignore_errors=True)
        finally:
            sd._last_callback = None
    for _ in range(count):
        sd._terminate()
    return count


def _portaudio_initialize(count: int) -> None:
    sd = sys.modules.get("sounddevice")
    if sd is None:
        return
    for _ in range(count):
        sd._initialize()


def _portaudio_initialized() -> bool:
    sd = sys.modules.get("sounddevice")
    return sd is not None and int(getattr(sd, "_initialized", 0)) > 0


def _portaudio_lib():
    import ctypes
    import sounddevice as sd
    lib = ctypes.CDLL(sd._libname)      # the library sounddevice loaded (same handle)
    lib.PaJack_SetClientName.argtypes = [ctypes.c_char_p]
    lib.PaJack_SetClientName.restype = ctypes.c_int
    lib.PaJack_GetClientName.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
    lib.PaJack_GetClientName.restype = ctypes.c_int
    return lib


_client_name_keepalive: list = []


def portaudio_jack_client_name() -> str | None:
    """The JACK client name of PortAudio's JACK host API (``"PortAudio"`` unless set
    otherwise, or made unique by JACK), or None when PortAudio has no JACK host API.

    PortAudio's ports are ``<name>:out_<k>`` and ``<name>:in_<k>``, numbered from 0 in
    the order streams open them (a counter per Pa_Initialize, not per stream).
    """
    import ctypes
    if not _portaudio_initialized():
        return None
    name = ctypes.c_char_p()
    if _portaudio_lib().PaJack_GetClientName(ctypes.byref(name)) != 0 or not name.value:
        return None
    return name.value.decode()


def set_portaudio_jack_client_name(name: str) -> None:
    """Set the JACK client name PortAudio uses, and re-initialise PortAudio so that it
    takes effect (PaJack_SetClientName works only before Pa_Initialize; sounddevice
    does not expose it, so it is called through ctypes). Close streams first."""
    import ctypes
    import sounddevice  # noqa: F401  (loads PortAudio)
    buf = ctypes.create_string_buffer(name.encode())
    with _state_lock:
        count = _portaudio_terminate()
        err = _portaudio_lib().PaJack_SetClientName(buf)
        # PortAudio keeps the pointer, not a copy: keep the buffer alive for good.
        _client_name_keepalive[:] = [buf]
        _portaudio_initialize(count)
    if err != 0:
        raise ValueError(f"PaJack_SetClientName({name!r}) failed with PortAudio error {err}")


def reinitialize_portaudio() -> None:
    """Make PortAudio (if sounddevice is imported) rescan host APIs and devices."""
    with _state_lock:
        _portaudio_initialize(_portaudio_terminate())


_abandoned_generation = [0]  # how many PortAudio instances were abandoned so far
_library_copies: list[str] = []


def abandon_portaudio() -> None:
    """Leave sounddevice's PortAudio, whose JACK server died, as it is, and give sounddevice a
    fresh, initialised PortAudio in its place (see the module docstring). The old instance and
    its streams are never touched again, so nothing waits on the dead server, not even
    sounddevice's exit handler. Close no stream of the old instance after this."""
    import sounddevice as sd
    with _state_lock:
        original = _loaded_library_file("libportaudio")
        fd, copy = tempfile.mkstemp(prefix="liveengine-portaudio-", suffix=".so")
        with os.fdopen(fd, "wb") as target, open(original, "rb") as source:
            shutil.copyfileobj(source, target)
        _library_copies.append(copy)
        sd._last_callback = None
        sd._initialized = 0
        sd._lib = sd._ffi.dlopen(copy)
        sd._libname = copy
        sd._initialize()
        _abandoned_generation[0] += 1


def _loaded_library_file(prefix: str) -> str:
    """The file of the first library this process mapped whose name starts with `prefix`."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split(maxsplit=5)[-1].strip()
            if os.path.basename(path).startswith(prefix) and os.path.exists(path):
                return path
    raise JackServerError(f"cannot find the PortAudio library ({prefix}*) this process loaded")


@atexit.register
def _remove_library_copies() -> None:
    for copy in _library_copies:  # mapped while the process runs; the files are not needed
        try:
            os.unlink(copy)
        except OSError:
            pass


def default_server_name() -> str:
    """The JACK server JACK clients of this process connect to."""
    return os.environ.get(ENV_VAR) or "default"


def server_accepts_clients(name: str, timeout: float = 3.0) -> bool:
    """Does a JACK server of this name accept clients? (``jack_wait -c`` in a child process:
    a probe client in this process could disturb JACK2's per-process client state.)"""
    jack_wait = _find_tool("jack_wait")
    if jack_wait is None:
        raise JackServerError("jack_wait not found (it comes with jackd2)")
    env = dict(os.environ, JACK_NO_START_SERVER="1")
    try:
        probe = subprocess.run([jack_wait, "-s", name, "-c"], env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return probe.stdout.decode(errors="replace").strip() == "running"


def realtime_allowed() -> bool:
    """Whether this user may run threads with SCHED_FIFO (root, or an rtprio limit above 0)."""
    import resource
    soft, _ = resource.getrlimit(resource.RLIMIT_RTPRIO)
    return os.geteuid() == 0 or soft > 0


class PrivateJackServer:
    """A ``jackd`` child process with the dummy driver under a private name.

    Parameters
    ----------
    sample_rate, period:
        The dummy driver's rate and period (frames per JACK cycle).
    capture_channels, playback_channels:
        Ports ``system:capture_1..N`` and ``system:playback_1..N``.
    name:
        The server name; by default unique per process and call
        (``liveengine-<pid>-<n>``).
    timeout:
        Seconds to wait for the server to accept clients, and for it to exit at stop.
    """

    def __init__(self, sample_rate: int = 48000, period: int = 64, capture_channels: int = 2,
                 playback_channels: int = 2, name: str | None = None, *,
                 realtime: bool = False, timeout: float = 10.0) -> None:
        self.sample_rate = int(sample_rate)
        self.period = int(period)
        self.capture_channels = int(capture_channels)
        self.playback_channels = int(playback_channels)
        self.name = name if name is not None else f"liveengine-{os.getpid()}-{next(_name_counter)}"
        # Real-time scheduling (SCHED_FIFO) for the server and its clients' process threads,
        # as on a show machine; it needs rtprio limits or root.
        self.realtime = bool(realtime)
        self.timeout = float(timeout)
        self.log_path: str | None = None
        self._proc: subprocess.Popen | None = None
        self._portaudio_generation = 0  # the PortAudio instance its start() initialised
        _all_servers.add(self)

    # -- state -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`stop`."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def log_tail(self, max_chars: int = 3000) -> str:
        """The end of jackd's output (stdout and stderr)."""
        return _tail(self.log_path, max_chars)

    def command(self) -> list[str]:
        jackd = _find_tool("jackd") or "jackd"
        scheduling = ["--realtime", "--realtime-priority", "70"] if self.realtime else ["--no-realtime"]
        return [jackd, "-n", self.name, *scheduling, "-d", "dummy",
                "-r", str(self.sample_rate), "-p", str(self.period),
                "-C", str(self.capture_channels), "-P", str(self.playback_channels)]

    # -- start -------------------------------------------------------------------------

    def start(self) -> None:
        """Start jackd, wait until it accepts clients, make it this process's default.

        Sets ``JACK_DEFAULT_SERVER`` to :attr:`name` and re-initialises PortAudio (if
        sounddevice is imported) so that it lists this server's JACK device. Raises
        :class:`JackServerError`, with the tail of jackd's log, if jackd is missing,
        exits early or does not accept clients within the timeout, or if a server of
        that name already runs. Calling it on a running server does nothing.

        Re-initialising PortAudio closes every PortAudio stream of this process: start
        the server before opening streams.
        """
        if self.running:
            return
        if self._proc is not None:          # started once and died since: clean up first
            self.stop()
        jackd = _find_tool("jackd")
        if jackd is None:
            raise JackServerError("jackd not found (install jackd2: "
                                  "DEBIAN_FRONTEND=noninteractive apt-get install jackd2)")
        if server_accepts_clients(self.name):
            raise JackServerError(f"a JACK server named {self.name!r} is already running")

        fd, self.log_path = tempfile.mkstemp(prefix=f"{self.name}-", suffix=".log")
        cmd = self.command()
        # Terminate jackd if this process dies without stopping it (a killed test run
        # must not leave servers behind; SIGTERM, not SIGKILL, lets jackd remove its
        # shared memory). PR_SET_PDEATHSIG fires when the *thread* that forked exits,
        # so use it only from the main thread.
        setpriv = _find_tool("setpriv")
        if (sys.platform.startswith("linux") and setpriv
                and threading.current_thread() is threading.main_thread()):
            cmd = [setpriv, "--pdeathsig", "TERM", "--"] + cmd
        env = dict(os.environ)
        env.pop(ENV_VAR, None)
        try:
            with os.fdopen(fd, "wb") as log:
                # A session of its own: Ctrl-C on the terminal reaches this process
                # only, which can then stop PortAudio before the server.
                self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                              stderr=subprocess.STDOUT, env=env,
                                              start_new_session=True)
        except OSError as e:
            self._proc = None
            raise JackServerError(f"cannot run {cmd[0]}: {e}") from e

        try:
            self._wait_ready()
        except BaseException:
            self._kill_process()
            self._remove_log()
            raise

        with _state_lock:
            if not _running:
                _env_before_first[:] = [os.environ.get(ENV_VAR)]
            _running.append(self)
            os.environ[ENV_VAR] = self.name
            self._portaudio_generation = _abandoned_generation[0]
            reinitialize_portaudio()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise JackServerError(
                    f"jackd for server {self.name!r} exited with code {code} before "
                    f"accepting clients:\n{self.log_tail()}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise JackServerError(
                    f"jackd for server {self.name!r} did not accept clients within "
                    f"{self.timeout:g} s:\n{self.log_tail()}")
            if server_accepts_clients(self.name, timeout=max(0.5, min(remaining, 3.0))):
                if self._proc.poll() is None:
                    return
                continue        # answered by someone else's server of that name
            time.sleep(0.02)

    def list_ports(self) -> list[str]:
        """Names of all ports on this server (``jack_lsp -s NAME``, in a child process)."""
        jack_lsp = _find_tool("jack_lsp")
        if jack_lsp is None:
            raise JackServerError("jack_lsp not found (it comes with jackd2)")
        out = subprocess.run([jack_lsp, "-s", self.name], stdin=subprocess.DEVNULL,
                             capture_output=True, timeout=10)
        return [line.strip() for line in out.stdout.decode(errors="replace").splitlines()
                if line.strip()]

    # -- stop --------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the server. Idempotent.

        Order matters: PortAudio must be stopped *before* the server goes away. If the
        server goes first, Pa_Terminate (at the latest in sounddevice's exit handler)
        aborts the process on ``pa_jack.c: Terminate: Assertion `err == 0' failed``
        (jack_client_close fails), or, if a stream was still running, hangs at exit
        (both measured with PortAudio 19.6 and JACK2 1.9.21). So this first terminates
        PortAudio (``sounddevice._terminate()``, as many times as
        sounddevice initialised it), which closes every PortAudio stream still open.
        **Close your own streams before calling stop()**: a sounddevice stream object
        that outlives ``Pa_Terminate`` holds a dangling pointer. The same holds for JACK
        clients of this process (e.g. a test's capture client): deactivate and close
        them first. Then jackd gets SIGTERM (SIGKILL after the timeout),
        ``JACK_DEFAULT_SERVER`` is restored (to the newest private server still running,
        else to its value before the first one started), and PortAudio is initialised
        again so that device queries keep working (they no longer list this server).
        If jackd died on its own, PortAudio, attached to a dead server, is abandoned
        instead (:func:`abandon_portaudio`).
        """
        with _state_lock:
            if self._proc is None:
                return
            if self._proc.poll() is None:
                count = _portaudio_terminate()
            else:
                # jackd died on its own: a PortAudio attached to it can no longer be
                # terminated (it would wait on the dead server), so it is abandoned.
                count = 0
                if _portaudio_initialized() and self._portaudio_generation == _abandoned_generation[0]:
                    abandon_portaudio()
            try:
                self._kill_process()
            finally:
                if self in _running:
                    _running.remove(self)
                    if _running:
                        os.environ[ENV_VAR] = _running[-1].name
                    else:
                        before = _env_before_first[0] if _env_before_first else None
                        if before is None:
                            os.environ.pop(ENV_VAR, None)
                        else:
                            os.environ[ENV_VAR] = before
                _portaudio_initialize(count)
            self._remove_log()

    def _remove_log(self) -> None:
        if self.log_path:
            try:
                os.unlink(self.log_path)
            except OSError:
                pass
            self.log_path = None

    def _kill_process(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=self.timeout)
            except ProcessLookupError:
                pass

    # -- context manager ----------------------------------------------------------------

    def __enter__(self) -> "PrivateJackServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (f"PrivateJackServer(name={self.name!r}, sample_rate={self.sample_rate}, "
                f"period={self.period}, {state})")


@atexit.register
def _stop_all_at_exit() -> None:
    # Servers still running at exit. Either order of exit handlers is safe: if
    # sounddevice's runs first, PortAudio is already terminated; if this one runs first,
    # stop() terminates PortAudio before each server goes away.
    for server in list(_running)[::-1]:
        try:
            server.stop()
        except Exception:
            pass
    for server in list(_all_servers):
        try:
            server._kill_process()
        except Exception:
            pass

