"""`liveengine bench` qualifies a machine; the comparisons with FluidSynth, scsynth and jalv are scripts
in bench/, outside the package, that run from a checkout."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*command):
    return subprocess.run([sys.executable, *map(str, command)], capture_output=True, text=True, timeout=300, cwd=ROOT)


def script_module(script: str):
    """A script of bench/ imported as a module, as the script itself would run."""
    path = ROOT / script
    spec = importlib.util.spec_from_file_location(path.stem + "_comparison", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("part, peer, script", [("sampler", "FluidSynth", "bench/sampler.py"),
                                                ("synth", "scsynth", "bench/synth.py")])
def test_a_peer_comparison_asked_of_liveengine_bench_names_the_script_that_runs_it(part, peer, script):
    result = run("-m", "liveengine.cli", "bench", "--part", part)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert peer in result.stderr and f"python {script}" in result.stderr


def test_liveengine_bench_offers_the_parts_that_qualify_a_machine():
    result = run("-m", "liveengine.cli", "bench", "--help")
    assert result.returncode == 0
    assert "{all,core,timecode,osc,midi}" in result.stdout


@pytest.mark.parametrize("script", ["bench/sampler.py", "bench/synth.py", "bench/plugins.py"])
def test_a_peer_comparison_script_starts_from_the_checkout(script):
    result = run(script, "--help")
    assert result.returncode == 0, result.stderr
    assert f"python {script} [--quick]" in " ".join(result.stdout.split()) and "--quick" in result.stdout


def test_the_synth_comparison_renders_liveengine_s_voice_and_checks_it():
    """The script's own check of liveengine's side (length, pitch, low-pass, silence after release)."""
    synth = script_module("bench/synth.py")
    seconds, key, frequency = 2.0, 57.0, 220.0
    cpu, audio = synth.render_liveengine([(key, 0.0)], seconds)
    assert cpu > 0 and synth.check_voice(audio, seconds, frequency) is None


def test_the_plugin_hosting_comparison_measures_liveengine_s_side_in_its_quick_mode():
    """`python bench/plugins.py --quick --liveengine-only`, jalv left out: for blocks of 64 and 256 frames,
    the chain live in liveengine (CPU per audio second, beside an empty engine), its offline overhead over
    the plugins' own run(), and the missed cycles beside a hostile Python thread."""
    missing = script_module("bench/plugins.py").missing_plugins()
    if missing:
        pytest.skip("the benchmark's plugins are not installed: " + ", ".join(missing))
    result = run("bench/plugins.py", "--quick", "--liveengine-only")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    out = result.stdout
    assert "jalv left out" in out and "liveengine/jalv" not in out
    number = r"\s+(-?\d+\.\d+)"
    for block in (64, 256):
        # liveengine and its jackd, the empty engine and its jackd, the chain (the one less the other)
        live = re.search(rf"^\s+{block}{number * 5}$", out, re.MULTILINE)
        assert live, out
        chain, _, empty, _, difference = map(float, live.groups())
        assert chain > 0 and empty > 0 and difference == pytest.approx(chain - empty, abs=2e-4)
        assert re.search(rf"block {block}: the chain live in liveengine .* [+-]\d+% over its plugins' own run\(\) "
                         rf"\(offline\); \d+ missed cycles in its rounds, its longest callback \d+\.\d\d ms of a "
                         rf"\d+\.\d\d ms period \(the empty engine: \d+ missed cycles\)$", out, re.MULTILINE), out
        # the plugins' run(), the chain in liveengine, the empty engine, the one less the other, the overhead
        offline = re.search(rf"^\s+{block}{number * 4}\s+(-?\d+\.\d)%$", out, re.MULTILINE)
        assert offline, out
        assert float(offline.group(1)) > 0, "the plugins' own run() is measured"
        hostile = re.search(rf"block\s+{block}: (\d+) missed cycles, (\d+) / (\d+) cycles delivered, longest gap "
                            rf"\d+\.\d ms, longest callback (\d+\.\d\d) ms of a", out)
        assert hostile and int(hostile.group(2)) > 0 and float(hostile.group(4)) > 0, out
        reference = re.search(rf"block\s+{block}: alone (\d+) missed cycles \(longest gap (\d+\.\d) ms\), beside the "
                              rf"hostile thread (\d+) \(longest gap (\d+\.\d) ms\)$", out, re.MULTILINE)
        assert reference and float(reference.group(2)) >= 1000 * block / 48000 - 0.1, out  # its callbacks came
