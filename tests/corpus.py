"""The real instrument files some tests read: `../shared/corpus` beside the checkout, with sfizz's
test files (and their samples) and VSCO-2 CE's SFZ mappings.

A fresh clone has no `../shared`: every test that needs the corpus then skips with `ABSENT` as
its reason, and `.ci/run` fails where the corpus is present but a test skipped for that reason.
Tests take the `sfizz` or `vsco` fixture (tests/conftest.py) or parametrise over
`corpus_files`, either of which marks them `corpus` (`pytest -m corpus` runs just them);
where neither fits, `corpus_folder` skips the same way.
"""

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
ABSENT = "needs ../shared/corpus (sfizz test files, VSCO-2 CE): absent"


def corpus_folder(name: str) -> Path:
    """A folder of the corpus; the test calling this skips where the corpus is absent."""
    if not CORPUS.is_dir():
        pytest.skip(ABSENT)
    return CORPUS / name


def corpus_files(folder: str, pattern: str) -> list:
    """Parameters for pytest.mark.parametrize: the files of a corpus folder that match a glob
    pattern (ids relative to the folder), or, where the corpus is absent, one case that skips."""
    if not CORPUS.is_dir():
        return [pytest.param(None, id="corpus-absent", marks=[pytest.mark.corpus, pytest.mark.skip(reason=ABSENT)])]
    return [pytest.param(path, id=path.relative_to(CORPUS / folder).as_posix(), marks=pytest.mark.corpus)
            for path in sorted((CORPUS / folder).glob(pattern))]
