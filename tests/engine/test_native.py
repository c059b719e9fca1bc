"""Offline renders through the kernel's native code: `liveengine play` and `render` load the compiled
entry points from the kernel cache without importing numba or LLVM, and render exactly what numba's own
code renders; native code that does not belong to these kernel sources or this processor, is damaged, or
holds what the loader does not link (engine/elfobject.py), is never run.

Each test works on a copy of this machine's warm kernel cache (numba's part only), so it compiles
nothing and leaves the real cache alone."""

import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from commandline import DEMO, ROOT
from examplefiles import song
from liveengine.engine import warmup
from liveengine.engine.native import MANIFEST
from liveengine.kernel.realtime import kernel_cache_dir

# `liveengine ARGS...`, then whether numba was imported, and LLVM (llvmlite's binding to it: the kernel's
# layouts import llvmlite's IR builder, plain Python).
PROBE = ("import sys\nfrom liveengine.cli import main\ncode = main(sys.argv[1:])\n"
         "print('numba imported:', 'numba' in sys.modules)\n"
         "print('LLVM imported:', 'llvmlite.binding' in sys.modules\n"
         "      or 'libllvmlite' in open('/proc/self/maps').read())\n"
         "sys.exit(code)")
WITHOUT_NUMBA_OR_LLVM = ("numba imported: False", "LLVM imported: False")
NATIVE_LINE = "without numba)"
NUMBA_LINE = "native code written to"


@pytest.fixture(scope="module")
def warm_cache():
    warmup.prepare_kernels(report=lambda progress: None)  # fills this machine's cache, if it was cold
    return kernel_cache_dir()


@pytest.fixture
def cache(warm_cache, tmp_path):
    """A copy of the warm kernel cache without native code: (its NUMBA_CACHE_DIR, its native folder)."""
    base = tmp_path / "cache"
    shutil.copytree(warm_cache, base / warm_cache.name, ignore=shutil.ignore_patterns("native"))
    return base, base / warm_cache.name / "native"


def liveengine(base, *args):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(base)}
    result = subprocess.run([sys.executable, "-c", PROBE, *map(str, args)], capture_output=True, text=True,
                            timeout=300, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def sine_instrument(folder, sample_rate):
    """An SFZ instrument on a decaying sine, so every key reads its sample between frames."""
    t = np.arange(sample_rate) / sample_rate
    soundfile.write(folder / "sine.wav", (0.5 * np.sin(2 * np.pi * 220 * t) * np.exp(-3 * t)).astype(np.float32),
                    sample_rate)
    (folder / "sine.sfz").write_text("<region> sample=sine.wav pitch_keycenter=57 ampeg_release=0.2\n")
    return folder / "sine.sfz"


def play(base, tmp_path, sample_rate, name):
    output = tmp_path / name
    result = liveengine(base, "play", sine_instrument(tmp_path, sample_rate), "--midi", song(tmp_path / "song.mid"),
                        "-o", output, "--sample-rate", sample_rate, "--block", 128)
    return result, output.read_bytes()


@pytest.mark.parametrize("sample_rate", [44100, 48000, 96000])
def test_play_renders_through_native_code_without_numba_exactly_as_numba_does(cache, tmp_path, sample_rate):
    base, native = cache
    through_numba, numba_wav = play(base, tmp_path, sample_rate, "numba.wav")
    assert NUMBA_LINE in through_numba.stdout and "numba imported: True" in through_numba.stdout
    assert (native / MANIFEST).is_file()

    through_native, native_wav = play(base, tmp_path, sample_rate, "native.wav")
    assert NATIVE_LINE in through_native.stdout, through_native.stdout
    assert all(line in through_native.stdout for line in WITHOUT_NUMBA_OR_LLVM), through_native.stdout
    assert native_wav == numba_wav
    audio, _ = soundfile.read(tmp_path / "native.wav")
    assert np.abs(audio).max() > 0.1  # the song sounded


STEM_SHOW = """[show]
name = "stems"
[audio]
sample_rate = {sample_rate}
block_size = 64
[timecode]
source = "none"
rate = "25"
master_start = "00:59:58:00"
[stems.strings]
file = "strings.wav"
[[cues]]
number = "1M1"
at = "01:00:00:00"
actions = [{start = "strings"}]
"""


def stem_show(folder, sample_rate):
    """A show whose one cue starts a stem: the loader publishes its windows through the entry points."""
    noise = np.random.default_rng(1).uniform(-0.25, 0.25, (3 * sample_rate, 2)).astype(np.float32)
    soundfile.write(folder / "strings.wav", noise, sample_rate, subtype="FLOAT")
    (folder / "show.toml").write_text(STEM_SHOW.replace("{sample_rate}", str(sample_rate)))
    return folder / "show.toml"


def ltc_show(folder, sample_rate):
    """The demo, generating LTC on a fifth output."""
    text = DEMO.read_text().replace("output_channels = 4 ", "output_channels = 5 ", 1)
    (folder / "show.toml").write_text(text.replace("[timecode]\n", "[timecode]\nltc_output = 5\n", 1))
    return folder / "show.toml"


@pytest.mark.parametrize("show, sample_rate, seconds, fired", [
    ("demo", 48000, 25, "cue 1M2: fired"), ("stems", 44100, 6, "cue 1M1: fired"), ("stems", 48000, 6, "cue 1M1: fired"),
    ("stems", 96000, 6, "cue 1M1: fired"), ("ltc", 48000, 4, "cue 1M1: fired")])
def test_render_of_a_show_runs_native_code_without_numba_exactly_as_numba_does(cache, tmp_path, show, sample_rate,
                                                                               seconds, fired):
    base, _ = cache
    path = {"demo": lambda folder, rate: DEMO, "stems": stem_show, "ltc": ltc_show}[show](tmp_path, sample_rate)
    renders = []
    for name in ("numba.wav", "native.wav"):
        result = liveengine(base, "render", path, "-o", tmp_path / name, "--seconds", seconds)
        renders.append((result.stdout, (tmp_path / name).read_bytes()))
    (numba_out, numba_wav), (native_out, native_wav) = renders
    assert NUMBA_LINE in numba_out and NATIVE_LINE in native_out
    assert all(line in native_out for line in WITHOUT_NUMBA_OR_LLVM), native_out
    assert fired in native_out, native_out
    assert native_wav == numba_wav
    audio, rate = soundfile.read(tmp_path / "native.wav", dtype="float32")
    assert rate == sample_rate
    if show == "stems":
        assert np.abs(audio[2 * rate:5 * rate]).max() > 0.2  # the stem played
    if show == "ltc":
        assert np.abs(audio[:, 4]).max() > 0.1  # the timecode sounded


def truncate_the_block(native):
    path = native / "audio_callback.o"
    path.write_bytes(path.read_bytes()[:1000])


def of_other_sources(native):
    manifest = json.loads((native / MANIFEST).read_text())
    manifest["fingerprint"] = "0" * 64
    (native / MANIFEST).write_text(json.dumps(manifest))


def garble_the_manifest(native):
    (native / MANIFEST).write_text("{ not json")


def for_another_processor(native):
    manifest = json.loads((native / MANIFEST).read_text())
    manifest["processor"]["flags"] += " avx10_9"  # compiled for an instruction set this processor lacks
    (native / MANIFEST).write_text(json.dumps(manifest))


def edit_the_block(native, edit):
    """Edit audio_callback.o as a compiler might have written it: its checksum in the manifest follows."""
    path = native / "audio_callback.o"
    path.write_bytes(edit(bytearray(path.read_bytes())))
    manifest = json.loads((native / MANIFEST).read_text())
    manifest["entries"]["audio_callback"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (native / MANIFEST).write_text(json.dumps(manifest))


def for_another_machine(native):
    edit_the_block(native, lambda data: data[:18] + struct.pack("<H", 183) + data[20:])  # AArch64's e_machine


def with_a_small_model_call(native):
    """The block's first relocation of its code made an R_X86_64_PLT32 (4), a call a linker would route."""
    def edit(data):
        table, count = struct.unpack_from("<Q", data, 40)[0], struct.unpack_from("<H", data, 60)[0]
        headers = [struct.unpack_from("<IIQQQQIIQQ", data, table + 64 * index) for index in range(count)]
        code = next(index for index, header in enumerate(headers) if header[2] & 0x4 and header[5])
        relocations = next(header for header in headers if header[1] == 4 and header[7] == code)
        struct.pack_into("<I", data, relocations[4] + 8, 4)  # the type: r_info's low half
        return data
    edit_the_block(native, edit)


@pytest.mark.parametrize("spoil, reason", [(truncate_the_block, "is damaged"),
                                           (of_other_sources, "native code of other kernel sources"),
                                           (garble_the_manifest, "is unreadable"),
                                           (for_another_processor, "compiled for another processor"),
                                           (for_another_machine, "audio_callback.o does not load: it is for ELF "
                                                                 "machine 183, not x86-64"),
                                           (with_a_small_model_call, "audio_callback.o does not load: it has a "
                                                                     "relocation of type 4 (R_X86_64_PLT32)")])
def test_native_code_that_is_damaged_or_stale_is_not_run_but_compiled_again(cache, tmp_path, spoil, reason):
    base, native = cache
    _, expected = play(base, tmp_path, 48000, "first.wav")  # through numba, writing native code
    spoil(native)

    again, wav = play(base, tmp_path, 48000, "again.wav")
    assert "Kernel native code not used:" in again.stderr and reason in again.stderr, again.stderr
    assert NUMBA_LINE in again.stdout and "numba imported: True" in again.stdout
    assert wav == expected

    healed, wav = play(base, tmp_path, 48000, "healed.wav")  # written anew by the run before
    assert NATIVE_LINE in healed.stdout and all(line in healed.stdout for line in WITHOUT_NUMBA_OR_LLVM)
    assert not healed.stderr
    assert wav == expected


def test_the_audit_reads_the_ir_the_native_objects_were_compiled_from(cache, tmp_path):
    base, native = cache
    play(base, tmp_path, 48000, "out.wav")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(base)}
    result = subprocess.run([sys.executable, "-m", "liveengine.engine.audit", "--native"], capture_output=True,
                            text=True, timeout=120, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = json.loads(result.stdout.splitlines()[-1])
    assert {name: counts[name] for name in ("raise_sites", "nrt_allocations", "cpython_calls", "foreign_calls")} \
        == {"raise_sites": 0, "nrt_allocations": 0, "cpython_calls": 0, "foreign_calls": 0}
    assert counts["plugin_calls"] > 0, "the plugin calls are audited as such"
    assert counts["functions"] >= 100, "the audit must see the whole kernel, not only the entry points' wrappers"
    # The IR beside each object defines that object's entry point (and the block's its whole kernel).
    program = ("from liveengine.engine.native import native_ir; import sys; sys.stdout.write(native_ir())")
    ir = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120, cwd=ROOT,
                        env=env, check=True).stdout
    for entry in json.loads((native / MANIFEST).read_text())["entries"].values():
        assert re.search(rf'^define [^@]*@"?{re.escape(entry["symbol"])}"?\(', ir, re.M), entry["symbol"]
    assert "kernel7process" in ir and "render_voices" in ir


def test_the_kernel_layouts_and_the_engine_import_without_numba():
    program = "import sys, liveengine.engine, liveengine.kernel.state; print('numba' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"
