"""liveengine as a user installs it: a wheel, or a plain (not editable) `pip install .`, carries the
web pages, the shipped patches and the demo show, and the demo plays from it with every instrument.

The wheel is built from a copy of the files the build reads, so nothing left over in the
checkout (an old build/ folder) can slip into it.
"""

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

ROOT = Path(__file__).resolve().parent.parent
BUILD_INPUTS = ("pyproject.toml", "README.md", "liveengine", "patches", "configs")


def run(*command, cwd=None):
    result = subprocess.run([*map(str, command)], capture_output=True, text=True, timeout=900, cwd=cwd)
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of what the build reads."""
    copy = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
        else:
            shutil.copy(ROOT / name, copy / name)
    return copy


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, source)
    (built,) = out.glob("liveengine-*.whl")
    return built


def test_the_wheel_carries_every_module_the_pages_the_shipped_patches_and_the_demo_show(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {path.relative_to(ROOT).as_posix() for path in (ROOT / "liveengine").rglob("*.py")}
    expected |= {path.relative_to(ROOT).as_posix() for path in (ROOT / "liveengine" / "web" / "static").iterdir()}
    expected |= {f"liveengine/patches/{path.name}" for path in (ROOT / "patches").glob("*.toml")}
    expected |= {"liveengine/patches/README.md", "liveengine/configs/demo.toml"}
    assert len(expected) > 50 and "liveengine/patches/warm_pad.toml" in expected
    assert expected - names == set()
    assert not any(name.startswith(("patches/", "configs/")) for name in names), "nothing outside the package"


@pytest.mark.slow
def test_the_demo_plays_every_instrument_from_a_wheel_and_from_a_plain_pip_install(wheel, source, tmp_path):
    """A fresh virtual environment: the wheel and its dependencies (from pip's cache or the index), then the
    demo show as `liveengine demo` hands it out. The same kernel sources installed elsewhere: the kernels
    are this machine's kernel cache's native code, not compiled again."""
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    pip, liveengine = environment / "bin" / "pip", environment / "bin" / "liveengine"
    run(pip, "install", "-q", wheel)
    work = tmp_path / "work"  # away from the checkout, so only the installed package can be imported
    work.mkdir()
    run(liveengine, "demo", work, cwd=work)
    show = work / "demo.toml"
    assert show.read_text() == (ROOT / "configs" / "demo.toml").read_text()

    checked = run(liveengine, "check", show, cwd=work)
    assert "compiling" not in checked.stdout
    for instrument in ("pad", "bass", "bell"):
        assert f"instrument {instrument}: synth {environment}" in checked.stdout
    # Eight seconds: the music starts at 4.67 s, after the cue at 2 s and a bar of count-in at 90 bpm.
    rendered = run(liveengine, "render", show, "-o", work / "demo.wav", "--seconds", 8, cwd=work)
    assert "WARNING" not in rendered.stderr + rendered.stdout
    audio, rate = soundfile.read(work / "demo.wav")
    music = audio[round(4.7 * rate):, :2]  # the main mix: only the synth instruments play on it
    assert np.abs(music).max() > 0.05

    # `pip install .` (not editable) builds its own wheel from the source and installs it the same way.
    run(pip, "install", "-q", "--no-deps", "--force-reinstall", source)
    checked = run(liveengine, "check", show, cwd=work)
    assert checked.stdout.count(f"synth {environment}") == 3 and checked.stderr == ""
