"""Live tests of the private JACK server (dummy driver), PortAudio on it, and the
capture client. Real jackd, real PortAudio, no mocks."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import sounddevice as sd  # noqa: E402

from liveengine.drivers.jackserver import (  # noqa: E402
    JackServerError, PrivateJackServer, portaudio_jack_client_name,
    set_portaudio_jack_client_name)

# JACK clients in the test process: JACK2 keeps one set of client state per process, so
# `.ci/run` runs this file in a process of its own.
pytestmark = pytest.mark.jack_process

RATE = 48000
PERIOD = 64
JACK_HOSTAPI = "JACK Audio Connection Kit"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def server():
    with PrivateJackServer(sample_rate=RATE, period=PERIOD) as s:
        yield s
    assert not s.running


def jack_device() -> int:
    for i, d in enumerate(sd.query_devices()):
        if sd.query_hostapis(d["hostapi"])["name"] == JACK_HOSTAPI:
            return i
    raise AssertionError(f"no JACK device in {sd.query_devices()}")


def portaudio_ports(kind: str = "out") -> list[str]:
    client = portaudio_jack_client_name()
    assert client
    return [f"{client}:{kind}_{k}" for k in range(2)]


def connections(server_name: str) -> dict[str, set[str]]:
    out = subprocess.run(["jack_lsp", "-s", server_name, "-c"], capture_output=True,
                         text=True, timeout=10).stdout
    result: dict[str, set[str]] = {}
    port = None
    for line in out.splitlines():
        if line.startswith((" ", "\t")):
            result[port].add(line.strip())
        elif line.strip():
            port = line.strip()
            result[port] = set()
    return result


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


# -- the server and what PortAudio sees ------------------------------------------------

def test_portaudio_sees_the_server_with_its_channel_counts():
    before = os.environ.get("JACK_DEFAULT_SERVER")
    with PrivateJackServer(sample_rate=44100, period=128, capture_channels=3,
                           playback_channels=5) as s:
        assert s.running and s.name.startswith(f"liveengine-{os.getpid()}-")
        assert os.environ["JACK_DEFAULT_SERVER"] == s.name
        ports = s.list_ports()
        assert ports == ([f"system:capture_{i}" for i in (1, 2, 3)]
                         + [f"system:playback_{i}" for i in (1, 2, 3, 4, 5)])
        dev = sd.query_devices(jack_device())
        assert dev["name"] == "system"
        assert (dev["max_input_channels"], dev["max_output_channels"]) == (3, 5)
        assert dev["default_samplerate"] == 44100
        # the JACK device is the default one (no sound card here)
        assert sd.query_devices(kind="output")["name"] == "system"
        assert portaudio_jack_client_name() == "PortAudio"
        pid, log = s.pid, s.log_path
    assert os.environ.get("JACK_DEFAULT_SERVER") == before
    assert not pid_alive(pid)
    assert not os.path.exists(log)
    # PortAudio was re-initialised after the stop: queries work, without JACK
    assert JACK_HOSTAPI not in [h["name"] for h in sd.query_hostapis()]
    assert portaudio_jack_client_name() is None
    s.stop()        # idempotent


def test_start_fails_with_jackd_output_when_jackd_exits():
    s = PrivateJackServer(capture_channels=-1)
    with pytest.raises(JackServerError, match="exited with code"):
        s.start()
    assert not s.running and s.log_path is None
    assert "JACK_DEFAULT_SERVER" not in os.environ or os.environ["JACK_DEFAULT_SERVER"] != s.name


def test_start_fails_when_the_name_is_taken(server):
    with pytest.raises(JackServerError, match="already running"):
        PrivateJackServer(name=server.name).start()
    assert server.running and os.environ["JACK_DEFAULT_SERVER"] == server.name


def test_two_servers_at_once():
    # One process should be a JACK client of one server at a time (JACK2 keeps one set
    # of client globals per process): PortAudio follows the newest server, the other
    # one is checked from child processes.
    a = PrivateJackServer(sample_rate=48000, period=64, playback_channels=2)
    b = PrivateJackServer(sample_rate=44100, period=128, playback_channels=4)
    with a, b:
        assert a.name != b.name and a.running and b.running
        assert os.environ["JACK_DEFAULT_SERVER"] == b.name
        assert a.list_ports()[-1] == "system:playback_2"
        assert b.list_ports()[-1] == "system:playback_4"
        assert sd.query_devices(jack_device())["default_samplerate"] == 44100
        b.stop()
        assert os.environ["JACK_DEFAULT_SERVER"] == a.name
        assert sd.query_devices(jack_device())["default_samplerate"] == 48000
        assert a.running
    assert not a.running and not b.running


# -- PortAudio streams on the server, recorded by the capture client -------------------

def test_output_stream_is_captured_with_its_content(server):
    from jackcapture import JackCapture

    calls = []
    pos = [0]
    freq = 1000.0

    def callback(outdata, frames, time_info, status):
        s = pos[0]
        idx = np.arange(s, s + frames)
        outdata[:, 0] = (idx + 1).astype(np.float32)      # exact in float32 below 2**24
        outdata[:, 1] = (0.5 * np.sin(2 * np.pi * freq * idx / RATE)).astype(np.float32)
        calls.append(frames)
        pos[0] = s + frames

    stream = sd.OutputStream(device=jack_device(), channels=2, samplerate=RATE,
                             blocksize=0, dtype="float32", callback=callback)
    try:
        sources = portaudio_ports("out")
        assert set(sources) <= set(server.list_ports())
        with JackCapture(sources, seconds=3.0) as cap:
            assert cap.wait_cycles(4)
            stream.start()
            # PortAudio connects its ports to system:playback_N at start
            conns = connections(server.name)
            assert conns[sources[0]] == {"system:playback_1", f"{cap.name}:in_1"}
            assert conns[sources[1]] == {"system:playback_2", f"{cap.name}:in_2"}
            time.sleep(0.6)
            stream.stop()
            cycles = cap.cycles
        audio, first = cap.audio()
    finally:
        stream.close()

    assert set(calls) == {PERIOD}, "one callback per JACK cycle, frameCount == period"
    assert first is not None and cycles > 0.5 * 0.6 * RATE / PERIOD
    ramp, tone = audio[:, 0], audio[:, 1]
    played = np.nonzero(ramp)[0]
    assert len(played) >= 0.9 * pos[0] - 4 * PERIOD      # a few cycles may be missed
    # Every captured cycle holds one whole block: sample k of a block at its offset k.
    for r in range(played[0], played[-1] + 1, PERIOD):
        block = ramp[r:r + PERIOD]
        if not block.any():
            continue    # a cycle the capture or PortAudio missed (non-RT jackd)
        start = int(block[0]) - 1
        assert start % PERIOD == 0
        assert np.array_equal(block, np.arange(start + 1, start + PERIOD + 1, dtype=np.float32))
        idx = np.arange(start, start + PERIOD)
        expected = (0.5 * np.sin(2 * np.pi * freq * idx / RATE)).astype(np.float32)
        assert np.array_equal(tone[r:r + PERIOD], expected)
    # Blocks start JACK cycles (the first block itself may be one the capture missed).
    assert (int(ramp[played[0]]) - 1) % PERIOD == 0 and (first + played[0]) % PERIOD == 0


def test_portaudio_client_name_can_be_set(server):
    try:
        set_portaudio_jack_client_name("liveengine-test")
        assert portaudio_jack_client_name() == "liveengine-test"
        stream = sd.OutputStream(device=jack_device(), channels=2, samplerate=RATE)
        try:
            assert {"liveengine-test:out_0", "liveengine-test:out_1"} <= set(server.list_ports())
        finally:
            stream.close()
    finally:
        set_portaudio_jack_client_name("PortAudio")
    assert portaudio_jack_client_name() == "PortAudio"


# -- from engine sample to JACK frame, with an engine-like cfunc stream ----------------

def _cfunc_stream_callback():
    """A PortAudio callback like the engine's: a numba cfunc, opened through
    sounddevice's PortAudio handle. Plays a ramp (sample index + 1) on channel 0 and
    logs, per block, its first sample and CLOCK_MONOTONIC ns at entry."""
    from numba import carray, cfunc, types

    from liveengine.kernel.intrinsics import address_as_void_pointer, monotonic_ns

    pa_stream_callback = types.int32(types.voidptr, types.voidptr, types.uint64, types.voidptr, types.uint64,
                                     types.voidptr)

    @cfunc(pa_stream_callback, nopython=True, error_model="numpy")
    def callback(inp, outp, frames, time_info, flags, user):
        st = carray(user, 5, np.int64)      # blocks, pos, max, log, nch
        now = monotonic_ns()
        n = np.int64(frames)
        nch = st[4]
        pos = st[1]
        out = carray(outp, n * nch, np.float32)
        for k in range(n):
            out[k * nch] = np.float32(pos + k + 1)
            for c in range(1, nch):
                out[k * nch + c] = np.float32(0.0)
        b = st[0]
        if b < st[2]:
            log = carray(address_as_void_pointer(st[3]), 3 * st[2], np.int64)
            log[3 * b] = pos
            log[3 * b + 1] = now
            log[3 * b + 2] = n
        st[0] = b + 1
        st[1] = pos + n
        return 0

    return callback


@pytest.mark.parametrize("duplex,blocksize,shift", [
    (False, 0, 0),
    (True, 0, 0),
    # PortAudio's buffer processor, full duplex with a fixed user block size and JACK's
    # "unknown" host buffer size, delays the output by one block.
    (True, PERIOD, PERIOD),
])
def test_engine_sample_maps_to_jack_frame(server, duplex, blocksize, shift):
    """The recommended mapping for live tests: the engine logs (sample position,
    CLOCK_MONOTONIC ns at callback entry) per block; the capture client logs (JACK
    frame, CLOCK_MONOTONIC ns at its callback entry) per cycle; the block belongs to
    the first capture cycle that starts after it. Engine sample S then plays at JACK
    frame cycle + (S - block start) + shift, exactly."""
    from jackcapture import JackCapture

    callback = _cfunc_stream_callback()
    ffi, lib = sd._ffi, sd._lib
    dev, nch, max_blocks = jack_device(), 2, 4096
    log = np.zeros((max_blocks, 3), dtype=np.int64)
    state = np.zeros(5, dtype=np.int64)
    state[2], state[3], state[4] = max_blocks, log.ctypes.data, nch
    out_params = ffi.new("PaStreamParameters*", (dev, nch, 0x00000001, 0.0, ffi.NULL))
    in_params = ffi.new("PaStreamParameters*", (dev, 2, 0x00000001, 0.0, ffi.NULL)) \
        if duplex else ffi.NULL
    stream_p = ffi.new("PaStream**")
    cb = ffi.cast("PaStreamCallback*", callback.address)
    assert lib.Pa_OpenStream(stream_p, in_params, out_params, float(RATE), blocksize, 0, cb,
                             ffi.cast("void*", state.ctypes.data)) == 0
    stream = stream_p[0]
    try:
        with JackCapture(portaudio_ports("out"), seconds=3.0) as cap:
            assert cap.wait_cycles(4)
            assert lib.Pa_StartStream(stream) == 0
            time.sleep(1.0)
            assert lib.Pa_StopStream(stream) == 0
        audio, first = cap.audio()
    finally:
        lib.Pa_CloseStream(stream)

    blocks = log[:min(int(state[0]), max_blocks)]
    assert len(blocks) > 0.8 * RATE / PERIOD and set(blocks[:, 2]) == {PERIOD}
    ramp = audio[:, 0]
    # Cycles next to a gap in the capture (a missed or late cycle) prove nothing.
    doubtful = set()
    for expected, seen in cap.gaps():
        for f in range(min(expected, seen) - 2 * PERIOD, max(expected, seen) + 2 * PERIOD,
                       PERIOD):
            doubtful.add(f)
    exact = lost = skipped = 0
    for pos, t_ns, n in blocks:
        try:
            cycle = cap.cycle_at_ns(int(t_ns))
        except ValueError:
            skipped += 1
            continue
        if cycle in doubtful:
            skipped += 1
            continue
        row = cap.row_of_frame(cycle + shift)
        want = np.arange(pos + 1, pos + n + 1, dtype=np.float32)
        got = ramp[row:row + n]
        if not got.any() and not np.isin(want[:1], ramp).any():
            lost += 1       # PortAudio's block never reached the capture
            continue
        assert np.array_equal(got, want), (
            f"block at engine sample {pos}: expected at JACK frame {cycle + shift}, found "
            f"at {np.nonzero(ramp == pos + 1)[0][:1] + first}")
        exact += 1
    assert exact >= 0.9 * len(blocks), (exact, lost, skipped, len(blocks), cap.gaps())


# -- exit behaviour ----------------------------------------------------------------------

EXIT_SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path[:0] = [{repo!r}, {tests!r}]
    import sounddevice as sd
    from liveengine.drivers.jackserver import PrivateJackServer
    from jackcapture import JackCapture
    server = PrivateJackServer()
    server.start()
    print(server.pid, flush=True)
    stream = sd.OutputStream(channels=2, samplerate=48000,
                             callback=lambda o, f, t, s: o.fill(0.25))
    cap = JackCapture(["PortAudio:out_0"], seconds=1)
    cap.start()
    stream.start()
    time.sleep(0.2)
    mode = sys.argv[1]
    if mode == "clean":
        stream.stop(); stream.close(); cap.stop(); server.stop()
    elif mode == "stream-open":
        cap.stop()
        server.stop()       # terminates PortAudio (closing the stream) first
    # mode "atexit": leave everything to the exit handlers
    print("end", flush=True)
""")


@pytest.mark.parametrize("mode", ["clean", "stream-open", "atexit"])
def test_process_exits_cleanly(mode, tmp_path):
    script = tmp_path / "exit_script.py"
    script.write_text(EXIT_SCRIPT.format(repo=REPO, tests=os.path.join(REPO, "tests")))
    env = {k: v for k, v in os.environ.items() if k != "JACK_DEFAULT_SERVER"}
    proc = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True,
                          timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.split()
    assert lines[-1] == "end"
    pid = int(lines[0])
    deadline = time.monotonic() + 5
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid), "jackd outlived its process"


# -- the capture client's own bookkeeping --------------------------------------------------

def test_capture_counts_cycles_and_detects_gaps(server):
    """A client upstream of the capture stalls for ~10 periods once: the capture misses
    those cycles, and says so."""
    import jack

    from jackcapture import JackCapture

    staller = jack.Client("staller", no_start_server=True, servername=server.name)
    out = staller.outports.register("out")
    stall = [False, False]          # requested, done

    def process(frames):
        out.get_array()[:] = 0.5
        if stall[0] and not stall[1]:
            stall[1] = True
            end = time.perf_counter() + 10 * PERIOD / RATE
            while time.perf_counter() < end:
                pass

    staller.set_process_callback(process)
    staller.activate()
    try:
        with JackCapture([f"{staller.name}:out"], seconds=2.0) as cap:
            assert cap.wait_cycles(50)
            stall[0] = True
            assert cap.wait_cycles(cap.cycles + 100)
            assert stall[1]
            cap.pause()
            cycles = cap.cycles
            audio, first = cap.audio()
            frames, ns, nframes = cap.cycle_log()
    finally:
        staller.deactivate()
        staller.close()
    assert cycles == len(frames) and set(nframes) == {PERIOD}
    assert cap.gaps(), "the stall must show as a gap"
    assert cap.missed_frames >= PERIOD
    # rows are JACK frames: recorded cycles hold the staller's signal
    rows = frames - first
    assert np.all(audio[rows[-10:], 0] == 0.5)
    assert np.all(np.diff(ns) > 0)
