"""Offline renders through the kernel's native code: `liveengine play` and `render` load the compiled
entry points from the kernel cache without importing numba, and render exactly what numba's own code
renders; native code that does not belong to these kernel sources, or is damaged, is never run.

Each test works on a copy of this machine's warm kernel cache (numba's part only), so it compiles
nothing and leaves the real cache alone."""

import json
import os
import re
import shutil
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

# `liveengine ARGS...`, then whether numba was imported.
PROBE = ("import sys\nfrom liveengine.cli import main\ncode = main(sys.argv[1:])\n"
         "print('numba imported:', 'numba' in sys.modules)\nsys.exit(code)")
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
    assert "numba imported: False" in through_native.stdout
    assert native_wav == numba_wav
    audio, _ = soundfile.read(tmp_path / "native.wav")
    assert np.abs(audio).max() > 0.1  # the song sounded


STEM_SHOW = """[show]
name = "stems"
[audio]
sample_rate = 48000
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


def stem_show(folder):
    """A show whose one cue starts a stem: the loader publishes its windows through the entry points."""
    noise = np.random.default_rng(1).uniform(-0.25, 0.25, (3 * 48000, 2)).astype(np.float32)
    soundfile.write(folder / "strings.wav", noise, 48000, subtype="FLOAT")
    (folder / "show.toml").write_text(STEM_SHOW)
    return folder / "show.toml"


def ltc_show(folder):
    """The demo, generating LTC on a fifth output."""
    text = DEMO.read_text().replace("output_channels = 4 ", "output_channels = 5 ", 1)
    (folder / "show.toml").write_text(text.replace("[timecode]\n", "[timecode]\nltc_output = 5\n", 1))
    return folder / "show.toml"


@pytest.mark.parametrize("show, seconds, fired", [("demo", 25, "cue 1M2: fired"), ("stems", 6, "cue 1M1: fired"),
                                                  ("ltc", 4, "cue 1M1: fired")])
def test_render_of_a_show_runs_native_code_without_numba_exactly_as_numba_does(cache, tmp_path, show, seconds, fired):
    base, _ = cache
    path = {"demo": lambda folder: DEMO, "stems": stem_show, "ltc": ltc_show}[show](tmp_path)
    renders = []
    for name in ("numba.wav", "native.wav"):
        result = liveengine(base, "render", path, "-o", tmp_path / name, "--seconds", seconds)
        renders.append((result.stdout, (tmp_path / name).read_bytes()))
    (numba_out, numba_wav), (native_out, native_wav) = renders
    assert NUMBA_LINE in numba_out and NATIVE_LINE in native_out and "numba imported: False" in native_out
    assert fired in native_out, native_out
    assert native_wav == numba_wav
    audio, _ = soundfile.read(tmp_path / "native.wav", dtype="float32")
    if show == "stems":
        assert np.abs(audio[2 * 48000:5 * 48000]).max() > 0.2  # the stem played
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


@pytest.mark.parametrize("spoil, reason", [(truncate_the_block, "is damaged"),
                                           (of_other_sources, "native code of other kernel sources"),
                                           (garble_the_manifest, "is unreadable")])
def test_native_code_that_is_damaged_or_stale_is_not_run_but_compiled_again(cache, tmp_path, spoil, reason):
    base, native = cache
    _, expected = play(base, tmp_path, 48000, "first.wav")  # through numba, writing native code
    spoil(native)

    again, wav = play(base, tmp_path, 48000, "again.wav")
    assert "Kernel native code not used:" in again.stderr and reason in again.stderr, again.stderr
    assert NUMBA_LINE in again.stdout and "numba imported: True" in again.stdout
    assert wav == expected

    healed, wav = play(base, tmp_path, 48000, "healed.wav")  # written anew by the run before
    assert NATIVE_LINE in healed.stdout and "numba imported: False" in healed.stdout and not healed.stderr
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
