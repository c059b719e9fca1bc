"""The kernel cache is named by the kernel package's files and by nothing else: an edit of the
Python face (a log message in loader/stems.py) keeps every compiled kernel, an edit in
kernel/ (dsp/ included) names a new cache."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import liveengine
from liveengine.kernel.realtime import kernel_sources

PACKAGE = Path(liveengine.__file__).resolve().parent
KERNEL = PACKAGE / "kernel"


def test_the_fingerprint_hashes_exactly_the_kernel_package():
    expected = {path for path in KERNEL.rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    assert set(kernel_sources()) == expected
    assert {KERNEL / "realtime.py", KERNEL / "process.py", KERNEL / "dsp" / "ltc.py"} <= expected
    assert not any(PACKAGE / "engine" in path.parents for path in kernel_sources())


@pytest.fixture
def package_copy(tmp_path) -> Path:
    shutil.copytree(PACKAGE, tmp_path / "liveengine", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def cache_dir(root: Path, tmp_path: Path) -> str:
    """The kernel cache directory the package copy under `root` names."""
    env = dict(os.environ, PYTHONPATH=str(root), NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    program = "import liveengine.kernel.realtime as r; print(r.numba_for_kernels().config.CACHE_DIR)"
    result = subprocess.run([sys.executable, "-c", program], env=env, cwd=root, capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip().startswith(str(tmp_path / "cache" / "kernels-"))
    return result.stdout.strip()


@pytest.mark.parametrize("edited, same_cache", [
    ("loader/stems.py", True),
    ("engine/core.py", True),
    ("kernel/sampler.py", False),
    ("kernel/dsp/filters.py", False),
])
def test_only_a_kernel_edit_names_a_new_cache(package_copy, tmp_path, edited, same_cache):
    before = cache_dir(package_copy, tmp_path)
    with open(package_copy / "liveengine" / edited, "a") as file:
        file.write("# an edit\n")
    assert (cache_dir(package_copy, tmp_path) == before) == same_cache
