"""A checkout without ../shared/corpus (a fresh clone): the tests that read it skip, saying why,
and nothing fails; `.ci/run`'s closing summary fails the run only where the corpus is there and
such a test skipped all the same."""

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from corpus import ABSENT

ROOT = Path(__file__).resolve().parents[2]
CORPUS_TEST_FILES = ("tests/instruments/test_sfz.py", "tests/kernel/test_sampler.py", "tests/midi/test_player.py")


def summary(reports: Path, corpus: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, ROOT / ".ci" / "summary.py", reports, corpus],
                          capture_output=True, text=True, timeout=60)


def test_without_the_corpus_its_tests_skip_with_the_reason_and_the_summary_fails_only_where_it_is_there(tmp_path):
    checkout = tmp_path / "checkout"  # with no ../shared beside it
    shutil.copytree(ROOT / "tests", checkout / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", checkout)
    reports = tmp_path / "reports"
    reports.mkdir()
    result = subprocess.run([sys.executable, "-m", "pytest", "-m", "corpus", "-p", "no:cacheprovider", "-q",
                             f"--junitxml={reports / 'main.xml'}", *CORPUS_TEST_FILES],
                            capture_output=True, text=True, timeout=600, cwd=checkout)
    assert result.returncode == 0, result.stdout + result.stderr

    suite = ElementTree.parse(reports / "main.xml").getroot().find("testsuite")
    cases = suite.findall("testcase")
    reasons = {case.find("skipped").get("message") for case in cases}
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    assert len(cases) > 30 and reasons == {ABSENT}, reasons
    # Both ways of needing it: a fixture (sfizz, vsco) and a parametrisation over its files.
    names = {case.get("name") for case in cases}
    assert {"test_regions_inherit_from_global_master_and_group", "test_vsco_values_with_spaces_and_note_names",
            "test_every_sfizz_file_loads_with_sound_references[corpus-absent]"} <= names

    absent = summary(reports, tmp_path / "shared" / "corpus")
    assert absent.returncode == 0 and absent.stdout.splitlines()[-1] == f"0 passed, 0 failed, {len(cases)} skipped"
    present = summary(reports, tmp_path)  # a folder that is there
    assert present.returncode == 1
    assert f"{len(cases)} tests skipped for want of {tmp_path}, which is there" in present.stdout
    assert present.stdout.splitlines()[-1] == f"0 passed, 0 failed, {len(cases)} skipped"
