"""Kernel preparation as a user sees it: `liveengine warmup`, and the start of `run`, `render`, `play`
and `check`, show each kernel's progress while it compiles, never a silent wait.

A whole cold compile takes most of a minute, so a cold start is read only until its first progress
line, then stopped: each test takes a few seconds."""

import os
import re

import pytest

from commandline import DEMO, Running, liveengine
from examplefiles import piano, song
from liveengine.engine import warmup

KERNELS = ("render kernel", "entry points")
FIRST_PROGRESS = re.compile(r"^\s+render kernel\s+compiling:")
STARTUP_SECONDS = 60  # generous: the first progress line comes within seconds, even on a busy machine


def cold_cache_env(folder) -> dict:
    """The environment of a first start: numba's kernel cache in an empty folder."""
    return dict(os.environ, NUMBA_CACHE_DIR=str(folder))


def first_progress(*args, env: dict) -> list[str]:
    """`liveengine ARGS...` read until its first kernel's first progress line, then stopped."""
    command = Running(*args, env=env)
    try:
        return command.wait_for(FIRST_PROGRESS, timeout=STARTUP_SECONDS)
    finally:
        command.kill()


def assert_cold_progress(lines: list[str]):
    announced = [line for line in lines if line.startswith("Preparing kernels:")]
    assert announced and "numba's cache is cold" in announced[0], "\n".join(lines)
    progress = lines[-1]
    assert re.search(r"compiling:\s+\d+ s of about \d+ s, \d+ of about \d+ functions$", progress), progress


def test_warmup_shows_each_kernel_compiling_from_a_cold_cache(tmp_path):
    lines = first_progress("warmup", env=cold_cache_env(tmp_path / "cache"))
    assert lines[0].startswith("Preparing kernels: numba's cache is cold")
    assert_cold_progress(lines)


@pytest.fixture
def verb_arguments(tmp_path):
    """The command line of each verb that opens the engine, on small real files."""
    return {
        "run": ("run", DEMO, "--jack-dummy", "--seconds", "1"),
        "render": ("render", DEMO, "-o", tmp_path / "out.wav", "--seconds", "1"),
        "play": ("play", piano(tmp_path), "--midi", song(tmp_path / "song.mid"), "-o", tmp_path / "play.wav"),
        "check": ("check", DEMO),
    }


@pytest.mark.parametrize("verb", ["run", "render", "play", "check"])
def test_a_cold_start_shows_kernel_progress(verb, verb_arguments, tmp_path):
    lines = first_progress(*verb_arguments[verb], env=cold_cache_env(tmp_path / "cache"))
    assert_cold_progress(lines)


def test_warmup_from_a_warm_cache_loads_every_kernel_from_it():
    warmup.prepare_kernels(report=lambda progress: None)  # fills this machine's cache, if it was cold
    result = liveengine("warmup")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Preparing kernels:"
    for kernel in KERNELS:
        assert re.search(rf"^\s+{kernel}\s+[\d.]+ s\s+\(from cache\)$", result.stdout, re.M), result.stdout
    assert "compiling" not in result.stdout


def test_warmup_for_an_installation_says_nothing_when_the_cache_is_warm():
    warmup.prepare_kernels(report=lambda progress: None)
    result = liveengine("warmup", "--quiet-when-warm")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
