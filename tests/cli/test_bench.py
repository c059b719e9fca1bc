"""`liveengine bench` qualifies a machine; the comparisons with FluidSynth and scsynth are scripts
in bench/, outside the package, that run from a checkout."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*command):
    return subprocess.run([sys.executable, *map(str, command)], capture_output=True, text=True, timeout=300, cwd=ROOT)


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


@pytest.mark.parametrize("script", ["bench/sampler.py", "bench/synth.py"])
def test_a_peer_comparison_script_starts_from_the_checkout(script):
    result = run(script, "--help")
    assert result.returncode == 0, result.stderr
    assert f"python {script} [--quick]" in " ".join(result.stdout.split()) and "--quick" in result.stdout


def test_the_synth_comparison_renders_liveengine_s_voice_and_checks_it():
    """The script's own check of liveengine's side (length, pitch, low-pass, silence after release)."""
    spec = importlib.util.spec_from_file_location("synth_comparison", ROOT / "bench" / "synth.py")
    synth = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(synth)
    seconds, key, frequency = 2.0, 57.0, 220.0
    cpu, audio = synth.render_liveengine([(key, 0.0)], seconds)
    assert cpu > 0 and synth.check_voice(audio, seconds, frequency) is None
