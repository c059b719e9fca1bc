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


def pytest_collection_modifyitems(config, items):
    for item in items:
        if CORPUS_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.corpus)


@pytest.fixture(scope="module")
def live_server():
    """A private JACK server with the dummy driver at the live tests' rate and period (livecapture.py),
    with real-time scheduling where the machine allows it, as on stage: without it the dummy server's
    cycles are at the mercy of every other process."""
    from livecapture import PERIOD, RATE
    from liveengine.drivers.jackserver import PrivateJackServer, realtime_allowed
    with PrivateJackServer(sample_rate=RATE, period=PERIOD, capture_channels=2, playback_channels=4,
                           realtime=realtime_allowed()) as running:
        yield running
