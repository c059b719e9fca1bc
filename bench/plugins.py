"""The LV2 hosting benchmark, `python bench/plugins.py [--quick] [--liveengine-only]` in a checkout:
the cost of hosting a plugin chain in liveengine's audio callback, against the same chain in jalv.

The chain: mda EPiano holding 32 notes (C1 to G3, the longest envelope decay, so that every voice
sounds through a round) into Dragonfly Room, x42 fil4 and x42 dpl on a stereo bus, at 48 kHz, in
blocks of 64 and 256 frames. Both hosts run on the same private JACK server with the dummy driver,
one block size at a time, the JACK period being the block:

- jalv (Debian's `jalv`, the console front end): one process per plugin, chained with jack_connect,
  the last one's outputs on system:playback; a small JACK MIDI client (python-rtmidi, a process of
  its own) plays the 32 notes into the EPiano's MIDI input;
- liveengine: this process, the engine with the EPiano as an instrument on the keys bus and the
  three plugins as its inserts (latency compensated, as a show's rig does), the notes posted before
  the stream starts, its compiled callback a PortAudio client of the server (LiveStream).

Live cost is CPU seconds per second of audio: the user + system time of the host's whole processes
(all their threads, read from /proc/PID/stat) over an interval of wall-clock time, the dummy
driver's clock; jackd's own time is shown beside each. Rounds alternate the hosts; figures are
medians. An empty liveengine (no plugins, no notes) shows what the engine costs by itself, and
liveengine's time is also split by thread (the audio callback's among PortAudio's and JACK's, the
notification pump's, the LV2 worker's). Each round checks that the chain sounds: liveengine's held
notes and keys bus level, jalv's dpl signal level (its console's `monitors`); a jalv chain that goes
silent (one of its processes, at times, stops running its plugin) is started again, and counted.

liveengine's overhead over the plugins' own work is measured offline, in this thread's CPU time:
the chain rendered through OfflineRenderer, less an empty engine's render, against the same plugin
instances' `run` called through cffi one after the other on their own buffers (each one's outputs
copied to the next one's inputs, as tests/lv2plugins.py calls it), less that loop's own cost (the
same loop calling a compiled no-op of run's signature): overhead = (chain - empty - plain) / plain.

Last, a hostile Python thread (busy loops, full garbage collections of a million objects, sorts of
two million floats: liveengine/bench/core.py's) runs beside the live engine with the chain, in rounds
as long as the others (the notes struck anew each time: held longer, they fade), and the engine's
missed cycles are counted, beside the callback's longest run: a missed cycle while every callback took
less than its period was a late wake-up by the system, not late work by the engine. A reference JACK
client in C whose callback does nothing (bench/jackreference.py) is measured the same way, alone and
beside the same hostile thread: what it misses, the machine misses.

Install jalv from Debian for the comparison: `apt-get install -y --no-install-recommends jalv`.
Without it, or with --liveengine-only, only liveengine's figures are measured.
"""

import argparse
import contextlib
import gc
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from numba import cfunc, types

from liveengine.bench.core import HostileLoad
from liveengine.drivers.jackserver import PrivateJackServer, realtime_allowed
from liveengine.engine import Engine, EngineSettings, NotificationPump, OfflineRenderer
from liveengine.engine.warmup import prepare_kernels
from liveengine.instruments.lilv import ffi

sys.path.insert(0, str(Path(__file__).resolve().parent))
from jackreference import ReferenceClient  # noqa: E402

RATE = 48000
BLOCKS = (64, 256)
EPIANO = "http://drobilla.net/plugins/mda/EPiano"
ROOM = "urn:dragonfly:room"
FIL4 = "http://gareus.org/oss/lv2/fil4#stereo"
DPL = "http://gareus.org/oss/lv2/dpl#stereo"
INSERTS = (ROOM, FIL4, DPL)
DEBIAN_PACKAGES = {EPIANO: "mda-lv2", ROOM: "dragonfly-reverb-lv2", FIL4: "x42-plugins", DPL: "x42-plugins"}
JALV_NAMES = {EPIANO: "epiano", ROOM: "room", FIL4: "fil4", DPL: "dpl"}  # each jalv's JACK client
EPIANO_CONTROLS = {"env_decay": 1.0}  # held notes ring for 20 s and more: every voice sounds through a round
HELD_KEYS = tuple(range(24, 56))  # 32 notes, mda EPiano's whole polyphony
VELOCITY = 100
INSTRUMENT, KEYS_BUS = 1, "keys"
SETTLE_SECONDS = 1.0  # after the notes start, before an interval is measured
SILENT_DBFS = -40.0
DPL_LEVEL_FLOOR = -10.0  # x42 dpl's signal level output (dB) in silence: the bottom of its range
JALV_INSTALL = "apt-get install -y --no-install-recommends jalv"
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
LV2_WORKER_THREAD = "lv2 worker"  # the name engine/pluginrack.py gives it

# The client that plays the held notes into jalv's EPiano: a process of its own, so that no JACK client
# shares this process with PortAudio's; python-rtmidi's JACK port is served in C, never waiting for a GIL.
# It plays one line of keys from stdin at a time, and closes its port at the end of stdin.
NOTE_CLIENT = """
import sys
import rtmidi
out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name=sys.argv[1])
out.open_virtual_port("out")
print("ready", flush=True)
for line in sys.stdin:
    for key in line.split():
        out.send_message([0x90, int(key), int(sys.argv[2])])
    print("played", flush=True)
out.close_port()
out.delete()
"""
NOTE_CLIENT_NAME = "bench notes"


# Not cached: this module is run as a script and imported by the tests, and numba's cache names the module
# a cfunc was compiled in, which the other cannot import.
@cfunc(types.void(types.voidptr, types.uint32))
def _run_nothing(handle, frames):
    """run's signature, doing nothing: what calling a plugin costs the plain loop, to take off."""


def missing_plugins() -> list[str]:
    """What keeps the chain from loading here: the plugins not installed, with their Debian packages."""
    from liveengine.instruments import lv2
    installed = lv2.world().descriptions
    return [f"<{uri}> (Debian package {package})" for uri, package in DEBIAN_PACKAGES.items() if uri not in installed]


def cpu_seconds(stat: Path) -> float:
    """User + system CPU time from a /proc stat file: /proc/PID/stat for a whole process, every thread."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND  # utime and stime, fields 14 and 15


def thread_cpu_seconds() -> dict[str, float]:
    """This process's CPU time by thread: Python's threads by their names, the others (PortAudio's and
    JACK's, the audio callback's among them) together as "native"."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    times: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        name = names.get(int(task.name), "native")
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            times[name] = times.get(name, 0.0) + cpu_seconds(task / "stat")
    return times


def cpu_per_audio_second(pids: list[int], seconds: float) -> tuple[list[float], dict[str, float]]:
    """Each process's CPU seconds per second over the next `seconds` of wall-clock time, and this process's
    by thread (threads that started or ended meanwhile left out)."""
    before, threads_before = [cpu_seconds(Path(f"/proc/{pid}/stat")) for pid in pids], thread_cpu_seconds()
    began = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - began
    after, threads_after = [cpu_seconds(Path(f"/proc/{pid}/stat")) for pid in pids], thread_cpu_seconds()
    threads = {name: (threads_after[name] - used) / elapsed for name, used in threads_before.items()
               if name in threads_after}
    return [(now - used) / elapsed for now, used in zip(after, before)], threads


# The chain in liveengine.

def engine_settings(block: int) -> EngineSettings:
    return EngineSettings(sample_rate=RATE, max_block=block, polyphony=64)


def chain_engine(block: int) -> tuple[Engine, list[int]]:
    """An engine with the chain installed and the notes posted on its first sample, and the chain's
    plugin columns in the order the signal takes."""
    engine = Engine(engine_settings(block))
    columns = [engine.install_plugin_instrument(INSTRUMENT, EPIANO, bus=KEYS_BUS, controls=EPIANO_CONTROLS)]
    columns += [engine.install_insert(KEYS_BUS, uri) for uri in INSERTS]
    engine.compensate_latency()
    producer = engine.producer("midi")
    for note, key in enumerate(HELD_KEYS):
        producer.note_on(0, note, INSTRUMENT, key, VELOCITY / 127, KEYS_BUS)
    return engine, columns


def end_lv2_workers():
    """End the LV2 worker threads of the engines no longer referenced: each polls for work every few
    milliseconds for as long as its engine's plugin rack lives, and a rack, in reference cycles, lives
    until the garbage collector frees it."""
    workers = [thread for thread in threading.enumerate() if thread.name == LV2_WORKER_THREAD]
    gc.collect()
    for thread in workers:
        thread.join(timeout=5.0)
        if thread.is_alive():
            raise RuntimeError("an LV2 worker thread outlives its engine")


def check_chain_sounds(engine: Engine):
    telemetry = engine.telemetry()
    level = max(telemetry.buses[KEYS_BUS].rms_dbfs)
    if telemetry.voices != len(HELD_KEYS) or level < SILENT_DBFS:
        raise RuntimeError(f"liveengine's chain holds {telemetry.voices} notes, not {len(HELD_KEYS)}, "
                           f"at {level:.1f} dBFS on the {KEYS_BUS} bus")


def liveengine_live(block: int, seconds: float, server: PrivateJackServer, *, chain: bool = True,
                    hostile: bool = False) -> dict:
    """A live engine (the chain, or nothing) on the current JACK server for `seconds` after it settles:
    this process's CPU per audio second, jackd's, and the stream's missed cycles."""
    from liveengine.drivers.devices import choose_device
    from liveengine.drivers.stream import LiveStream
    engine = chain_engine(block)[0] if chain else Engine(engine_settings(block))
    stream = LiveStream(engine.state, choose_device(None, engine.settings.output_channels, 0), block)
    try:
        with NotificationPump(engine):
            stream.start()
            time.sleep(SETTLE_SECONDS)
            before, stream_before = engine.telemetry(), stream.stream_time()
            with HostileLoad() if hostile else contextlib.nullcontext() as load:
                (cpu, jackd), threads = cpu_per_audio_second([os.getpid(), server.pid], seconds)
            after, stream_after = engine.telemetry(), stream.stream_time()
    finally:
        stream.close()
    if chain:
        check_chain_sounds(engine)
    engine.plugins.close()
    del engine
    end_lv2_workers()
    return {"cpu": cpu, "jackd": jackd, "threads": threads, "missed_cycles": after.missed_cycles - before.missed_cycles,
            "delivered": after.callbacks - before.callbacks,
            "expected": (stream_after - stream_before) * RATE / block, "longest_gap_ms": after.longest_gap_ms,
            # The callback's own longest run: under the period, a missed cycle was a late wake-up, not late work.
            "longest_callback_ms": after.dsp_load_max * block / RATE * 1000,
            "hostile_rounds": load.rounds if hostile else 0}


def reference_live(seconds: float, hostile: bool = False) -> dict:
    """The reference C client on the current JACK server for `seconds` after it settles: its missed cycles."""
    client = ReferenceClient()
    try:
        time.sleep(SETTLE_SECONDS)
        before = client.read()
        with HostileLoad() if hostile else contextlib.nullcontext():
            time.sleep(seconds)
        after = client.read()
    finally:
        client.close()
    return {"missed_cycles": after.missed_cycles - before.missed_cycles,
            "delivered": after.callbacks - before.callbacks, "longest_gap_ms": after.longest_gap_ms}


# The chain in jalv.

def jack(*command: str) -> str:
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def client_ports(client: str) -> dict[str, list[str]]:
    """A JACK client's ports by direction and kind ("audio in", "midi in", ...), in the order it made them."""
    ports: dict[str, list[str]] = {}
    name = None
    properties = kind = ""
    for line in jack("jack_lsp", "-p", "-t").splitlines() + [""]:
        if not line.startswith("\t"):
            if name is not None and name.startswith(client + ":"):
                direction = "in" if "input" in properties else "out"
                ports.setdefault(f"{'midi' if 'midi' in kind else 'audio'} {direction}", []).append(name)
            name, properties, kind = line.strip(), "", ""
        elif "properties:" in line:
            properties = line
        else:
            kind = line
    return ports


class NoteClient:
    """The small JACK MIDI client that holds the notes in jalv's EPiano (see NOTE_CLIENT)."""

    def __init__(self):
        self.process = subprocess.Popen([sys.executable, "-c", NOTE_CLIENT, NOTE_CLIENT_NAME, str(VELOCITY)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._expect("ready")
        self.port = client_ports(NOTE_CLIENT_NAME)["midi out"][0]

    def _expect(self, word: str):
        line = self.process.stdout.readline().strip()
        if line != word:
            raise RuntimeError(f"the note client said {line!r}, not {word!r}")

    def play(self, keys: tuple[int, ...]):
        """Note-ons of `keys`, in the next JACK cycle."""
        self.process.stdin.write(" ".join(map(str, keys)) + "\n")
        self.process.stdin.flush()
        self._expect("played")

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=10)


class JalvChain:
    """The chain in jalv on the current JACK server: a process per plugin, connected in order, the
    last one's outputs on system:playback, the note client's output on the EPiano's MIDI input."""

    def __init__(self, notes: NoteClient):
        self.processes: dict[str, subprocess.Popen] = {}
        try:
            for uri in (EPIANO, *INSERTS):
                controls = [word for symbol, value in EPIANO_CONTROLS.items() for word in ("-c", f"{symbol}={value}")] \
                    if uri == EPIANO else []
                # Line-buffered, so that what jalv's console prints can be read as it runs.
                self.processes[uri] = subprocess.Popen(
                    ["stdbuf", "-oL", "jalv", "-x", "-n", JALV_NAMES[uri], *controls, uri], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            ports = {uri: self._wait_for_ports(uri, ("midi in" if uri == EPIANO else "audio in", "audio out"))
                     for uri in self.processes}
            jack("jack_connect", notes.port, ports[EPIANO]["midi in"][0])
            outputs = ports[EPIANO]["audio out"]
            for uri in INSERTS:
                for output, input_ in zip(outputs, ports[uri]["audio in"], strict=True):
                    jack("jack_connect", output, input_)
                outputs = ports[uri]["audio out"]
            for output, playback in zip(outputs, ("system:playback_1", "system:playback_2"), strict=True):
                jack("jack_connect", output, playback)
        except BaseException:
            self.close()
            raise

    def _wait_for_ports(self, uri: str, kinds: tuple[str, ...], timeout: float = 20.0) -> dict:
        """A jalv's ports, once it has made those of every kind in `kinds` (two of each audio kind)."""
        process, client = self.processes[uri], JALV_NAMES[uri]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"jalv {client} exited: {process.stdout.read().decode(errors='replace').strip()}")
            ports = client_ports(client)
            if all(len(ports.get(kind, ())) == (2 if kind.startswith("audio") else 1) for kind in kinds):
                return ports
            time.sleep(0.05)
        raise RuntimeError(f"jalv {client} made no ports within {timeout:g} s")

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes.values()]

    def monitor(self, uri: str, symbol: str, timeout: float = 5.0) -> float:
        """A control output of a plugin, as its jalv's console prints it when asked for its monitors."""
        process = self.processes[uri]
        process.stdin.write(b"monitors\n")
        process.stdin.flush()
        said = b""
        deadline = time.monotonic() + timeout
        while (found := re.search(rb"\b" + symbol.encode() + rb" = (\S+)\n", said)) is None:
            if not select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise RuntimeError(f"jalv {JALV_NAMES[uri]} did not print {symbol} within {timeout:g} s: "
                                   f"{said.decode(errors='replace')}")
            read = os.read(process.stdout.fileno(), 65536)
            if not read:
                raise RuntimeError(f"jalv {JALV_NAMES[uri]} exited: {said.decode(errors='replace')}")
            said += read
        return float(found.group(1))

    def close(self):
        """End every jalv: each exits at the end of its stdin."""
        for process in self.processes.values():
            try:
                process.communicate(b"", timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
        self.processes = {}


def jalv_live(notes: NoteClient, seconds: float, server: PrivateJackServer, attempts: int = 8) -> dict:
    """The chain in jalv for `seconds` once the notes sound: its processes' CPU per audio second, and jackd's.

    dpl, last in the chain, must hear it before and after the interval. In about one chain in five here,
    one or more of the jalv processes never runs its plugin (most often dpl's): its JACK process thread
    waits for a wake-up that never comes, JACK2 logs it "not finished, state = Triggered" cycle after
    cycle, reconnecting its ports does not revive it, and all after it is silent. Such a chain is ended
    and started again; the restarts are counted."""
    for restarts in range(attempts):
        chain = JalvChain(notes)
        try:
            notes.play(HELD_KEYS)
            time.sleep(SETTLE_SECONDS)
            if chain.monitor(DPL, "level") <= DPL_LEVEL_FLOOR:
                continue
            (*plugins, jackd), _ = cpu_per_audio_second([*chain.pids, server.pid], seconds)
            if chain.monitor(DPL, "level") <= DPL_LEVEL_FLOOR:
                continue
            return {"cpu": sum(plugins), "jackd": jackd, "restarts": restarts}
        finally:
            chain.close()
    raise RuntimeError(f"jalv's chain went silent {attempts} times in a row: x42 dpl, its last plugin, heard nothing")


# Offline: the chain in liveengine against its plugins' own run().

def run_plainly(instances: list, functions: list, block: int, blocks: int):
    """Each plugin's `run` (or whatever `functions` holds in its place) called through cffi, one after the
    other on their own buffers, each one's audio outputs copied to the next one's inputs, `blocks` times."""
    handles = [ffi.cast("void*", instance.handle) for instance in instances]
    pairs = list(zip(instances[1:], instances[:-1]))
    for _ in range(blocks):
        instances[0].reset_atom_outputs()
        functions[0](handles[0], block)
        for (instance, source), function, handle in zip(pairs, functions[1:], handles[1:]):
            instance.audio_inputs[:] = source.audio_outputs
            instance.reset_atom_outputs()
            function(handle, block)


def offline_costs(block: int, seconds: float, rounds: int) -> dict[str, float]:
    """Median CPU seconds per audio second, in this thread: the chain in liveengine, an empty engine,
    the plugins' run() called plainly, and that plain loop calling a no-op instead."""
    blocks = round(seconds * RATE / block)
    run_signature = "void(*)(void*, uint32_t)"
    nothing = ffi.cast(run_signature, _run_nothing.address)
    costs = {"chain": [], "empty": [], "plain": [], "harness": []}
    for round_number in range(rounds):
        engine, columns = chain_engine(block)
        chain, empty = OfflineRenderer(engine.state, block), OfflineRenderer(Engine(engine_settings(block)).state, block)
        chain.render_frames(16 * block)  # the notes start, caches warm
        empty.render_frames(16 * block)
        instances = [engine.plugins.instances[column] for column in columns]
        instances[0].reset_midi_input()
        functions = [ffi.cast(run_signature, instance.run_address) for instance in instances]
        parts = {"chain": lambda: chain.render_frames(blocks * block),
                 "empty": lambda: empty.render_frames(blocks * block),
                 "plain": lambda: run_plainly(instances, functions, block, blocks),
                 "harness": lambda: run_plainly(instances, [nothing] * len(instances), block, blocks)}
        order = list(parts)[round_number % len(parts):] + list(parts)[:round_number % len(parts)]
        for part in order:
            began = time.thread_time()
            parts[part]()
            costs[part].append((time.thread_time() - began) / (blocks * block / RATE))
        check_chain_sounds(engine)
        engine.plugins.close()
        del engine
        end_lv2_workers()
    return {part: statistics.median(values) for part, values in costs.items()}


# The run.

def live_rounds(block: int, rounds: int, seconds: float, hostile_rounds: int, with_jalv: bool,
                realtime: bool) -> dict[str, list[dict]]:
    """On a private JACK server whose period is `block`: `rounds` rounds of each side, alternating, then
    `hostile_rounds` of the live engine with the chain beside a hostile thread (each with the notes struck
    anew: held longer, they fade), and of the reference client alone and beside the same thread."""
    with PrivateJackServer(sample_rate=RATE, period=block, realtime=realtime) as server:
        sides = {"liveengine": lambda: liveengine_live(block, seconds, server),
                 "liveengine empty": lambda: liveengine_live(block, seconds, server, chain=False)}
        with contextlib.ExitStack() as closing:
            if with_jalv:
                notes = closing.enter_context(contextlib.closing(NoteClient()))
                sides["jalv"] = lambda: jalv_live(notes, seconds, server)
            measured = {side: [] for side in sides}
            for round_number in range(rounds):
                for side, measure in list(sides.items())[::1 if round_number % 2 == 0 else -1]:
                    measured[side].append(measure())
        measured["hostile"] = [liveengine_live(block, seconds, server, hostile=True) for _ in range(hostile_rounds)]
        measured["reference"] = [reference_live(seconds) for _ in range(hostile_rounds)]
        measured["reference hostile"] = [reference_live(seconds, hostile=True) for _ in range(hostile_rounds)]
    return measured


def median(rounds: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def print_live(live: dict, offline: dict, rounds: int, seconds: float):
    sides = [side for side in ("jalv", "liveengine", "liveengine empty") if side in live[BLOCKS[0]]]
    print(f"\nLive, CPU seconds per second of audio (user + system of the whole processes), median of "
          f"{rounds} alternating round(s) of {seconds:g} s:")
    print(f"  {'block':>5}" + "".join(f" {side:>16} {'its jackd':>9}" for side in sides)
          + f" {'chain (less empty)':>18}" + (f" {'liveengine/jalv':>15}" if "jalv" in sides else ""))
    for block in BLOCKS:
        cpu = {side: median(live[block][side], "cpu") for side in sides}
        row = "".join(f" {cpu[side]:>16.4f} {median(live[block][side], 'jackd'):>9.4f}" for side in sides)
        row += f" {cpu['liveengine'] - cpu['liveengine empty']:>18.4f}"
        if "jalv" in sides:
            row += f" {cpu['liveengine'] / cpu['jalv']:>15.2f}"
        print(f"  {block:>5}{row}")
    print("  liveengine's process by thread, CPU seconds per second of audio (median; \"native\": PortAudio's "
          "and JACK's threads, the audio callback's among them):")
    for block in BLOCKS:
        for side in ("liveengine", "liveengine empty"):
            rounds_of_side = live[block][side]
            names = set().union(*(r["threads"] for r in rounds_of_side))
            threads = {name: statistics.median(r["threads"].get(name, 0.0) for r in rounds_of_side) for name in names}
            print(f"    block {block:>3}, {side + ':':<17} " + ", ".join(
                f"{name} {cost:.4f}" for name, cost in sorted(threads.items(), key=lambda item: -item[1])))
    for block in BLOCKS:
        chain = live[block]["liveengine"]
        hosted = median(chain, "cpu") - median(live[block]["liveengine empty"], "cpu")
        line = (f"  block {block}: the chain live in liveengine (less the empty engine) costs "
                f"{100 * (hosted / offline[block]['plain'] - 1):+.0f}% over its plugins' own run() (offline); "
                f"{sum(r['missed_cycles'] for r in chain)} missed cycles in its rounds, its longest callback "
                f"{max(r['longest_callback_ms'] for r in chain):.2f} ms of a {1000 * block / RATE:.2f} ms period "
                f"(the empty engine: {sum(r['missed_cycles'] for r in live[block]['liveengine empty'])} missed cycles)")
        if "jalv" in sides:
            jalv = live[block]["jalv"]
            line += f"; {sum(r['restarts'] for r in jalv)} jalv chain(s) gone silent and started again"
        print(line)


def print_offline(offline: dict, rounds: int, seconds: float):
    print(f"\nOffline, this thread's CPU seconds per second of audio, median of {rounds} rounds of {seconds:g} s:")
    print(f"  {'block':>5} {'plugins run()':>13} {'liveengine':>10} {'empty':>7} {'chain in liveengine':>19} "
          f"{'overhead':>8}")
    for block in BLOCKS:
        cost = offline[block]
        print(f"  {block:>5} {cost['plain']:>13.4f} {cost['chain']:>10.4f} {cost['empty']:>7.4f} "
              f"{cost['hosted']:>19.4f} {100 * (cost['hosted'] - cost['plain']) / cost['plain']:>7.1f}%")
    print("  plugins run(): the plain loop less its own cost; chain in liveengine: liveengine less the empty engine;")
    print("  overhead: (chain in liveengine - plugins run()) / plugins run()")


def print_hostile(live: dict, rounds: int, seconds: float):
    print(f"\nliveengine live with the chain and a hostile Python thread beside it (busy loops, gc of a million "
          f"objects, sorts of two million floats), {rounds} round(s) of {seconds:g} s:")
    for block in BLOCKS:
        hostile = live[block]["hostile"]
        total = {key: sum(r[key] for r in hostile) for key in ("missed_cycles", "delivered", "expected",
                                                                "hostile_rounds")}
        print(f"  block {block:>3}: {total['missed_cycles']} missed cycles, {total['delivered']} / "
              f"{total['expected']:.0f} cycles delivered, longest gap {max(r['longest_gap_ms'] for r in hostile):.1f} "
              f"ms, longest callback {max(r['longest_callback_ms'] for r in hostile):.2f} ms of a "
              f"{1000 * block / RATE:.2f} ms period, the hostile thread's loop done {total['hostile_rounds']} times")
    print(f"The reference C client (its callback does nothing; bench/jackreference.py), {rounds} round(s) of "
          f"{seconds:g} s alone and as many beside the same hostile thread:")
    for block in BLOCKS:
        alone, beside = live[block]["reference"], live[block]["reference hostile"]
        print(f"  block {block:>3}: alone {sum(r['missed_cycles'] for r in alone)} missed cycles (longest gap "
              f"{max(r['longest_gap_ms'] for r in alone):.1f} ms), beside the hostile thread "
              f"{sum(r['missed_cycles'] for r in beside)} (longest gap {max(r['longest_gap_ms'] for r in beside):.1f} ms)")


def run_plugin_benchmarks(quick: bool, with_jalv: bool):
    rounds, seconds = (1, 1.5) if quick else (5, 10.0)
    offline_rounds, offline_seconds = (3, 1.0) if quick else (15, 3.0)
    hostile_rounds = 1 if quick else 3
    realtime = realtime_allowed()
    print(f"LV2 hosting: mda EPiano holding {len(HELD_KEYS)} notes into Dragonfly Room, x42 fil4 and x42 dpl "
          f"on a stereo bus, {RATE} Hz")
    print(f"  on a private JACK server, dummy driver, its period the block, "
          f"{'real-time (SCHED_FIFO)' if realtime else 'no real-time priority'}")
    if with_jalv:
        print("  jalv: one process per plugin (jalv -x -n NAME URI), chained with jack_connect, the notes from a "
              "JACK MIDI client of its own")
    print("  liveengine: this process, the EPiano an instrument on the keys bus and the rest its inserts, "
          "LiveStream through PortAudio")
    offline = {}
    for block in BLOCKS:
        cost = offline_costs(block, offline_seconds, offline_rounds)
        offline[block] = dict(cost, plain=cost["plain"] - cost["harness"], hosted=cost["chain"] - cost["empty"])
    live = {block: live_rounds(block, rounds, seconds, hostile_rounds, with_jalv, realtime) for block in BLOCKS}
    print_live(live, offline, rounds, seconds)
    print_offline(offline, offline_rounds, offline_seconds)
    print_hostile(live, hostile_rounds, seconds)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one short round of each, short offline and hostile runs")
    parser.add_argument("--liveengine-only", action="store_true", help="leave jalv out")
    args = parser.parse_args(argv)
    missing = missing_plugins()
    if missing:
        print("the chain's plugins are not all installed: " + ", ".join(missing), file=sys.stderr)
        return 1
    with_jalv = not args.liveengine_only
    if with_jalv and shutil.which("jalv") is None:
        print(f"jalv not found: only liveengine is measured (install jalv with `{JALV_INSTALL}`)")
        with_jalv = False
    elif not with_jalv:
        print("jalv left out (--liveengine-only): only liveengine is measured")
    prepare_kernels(report=lambda line: None)
    run_plugin_benchmarks(args.quick, with_jalv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
