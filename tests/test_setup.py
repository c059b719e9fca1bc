"""`.ci/setup`, which `.ci/run` and `.ci/demo` run first every time: once the checkout's `.venv`
holds the package, installed editable from this checkout with this pyproject.toml, a setup runs
no pip at all."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"


def setup() -> subprocess.CompletedProcess:
    result = subprocess.run(["bash", ROOT / ".ci" / "setup"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def installed_metadata() -> tuple[int, int]:
    """The installed distribution's metadata folder: a pip install replaces it."""
    (folder,) = VENV.glob("lib/python3*/site-packages/liveengine-*.dist-info")
    status = folder.stat()
    return status.st_ino, status.st_mtime_ns


@pytest.mark.skipif(Path(sys.prefix).resolve() != VENV.resolve(), reason="runs in the checkout's own .venv")
def test_a_second_setup_installs_nothing():
    setup()  # brings the environment up to date, if it was not
    before = installed_metadata()
    again = setup()
    assert installed_metadata() == before, "pip ran again"
    assert again.stdout == "" and again.stderr == ""


def test_the_readme_names_every_debian_package_setup_installs():
    packages = re.search(r"apt_packages=\(([^)]*)\)", (ROOT / ".ci" / "setup").read_text()).group(1).split()
    setup_paragraph = (ROOT / "README.md").read_text().split("Both first run `.ci/setup`")[1].split("\n\n")[0]
    assert len(packages) >= 9
    assert [package for package in packages if not re.search(rf"\b{re.escape(package)}\b", setup_paragraph)] == []
