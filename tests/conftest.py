"""Fixtures every test file may take."""

import pytest

from corpus import corpus_folder

CORPUS_FIXTURES = {"sfizz", "vsco"}


@pytest.fixture
def sfizz():
    """sfizz's test files, with their samples."""
    return corpus_folder("sfizz-testfiles")


@pytest.fixture
def vsco():
    """VSCO-2 CE's SFZ files, without their samples."""
    return corpus_folder("vsco2ce-sfz")


def pytest_collection_modifyitems(items):
    for item in items:
        if CORPUS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.corpus)
