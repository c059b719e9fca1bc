"""LV2 plugins live: the engine's stream on a private JACK server with the dummy driver, captured by a
JACK client (tests/livecapture.py), at a period of 64 and of 256 frames (the engine's block).

The notes are posted ahead of time, each on a chosen frame k of its block. Engine sample S is heard at
the capture's row for JACK frame (the cycle its block was rendered in) + (S - block start); each note is
judged over a stretch that reached the capture without a missed cycle, against an offline render of the
same notes on the same frames of their blocks: the plugins play the same samples live and offline, and
nothing before the note's frame sounds.

JACK clients run in the test process, so `.ci/run` gives this file a process of its own.
"""

import time

import numpy as np
import pytest

from liveengine.drivers.devices import choose_device
from liveengine.drivers.jackserver import PrivateJackServer, realtime_allowed
from liveengine.drivers.stream import LiveStream
from liveengine.engine import Engine, EngineSettings, NotificationPump, OfflineRenderer
from liveengine.kernel.state import W_SYNCHRONOUS
from livecapture import RATE, capture_engine, heard_without_interruption
from lv2plugins import DX10, EPIANO, ZEROCONVOLV_STEREO, require

pytestmark = pytest.mark.jack_process

INSTRUMENT = 1
# Notes this far apart: DX10's longest tail (a 50 ms note, its default release) is silent again after
# about 22,000 samples, so every note starts from silence.
SPACING = 96 * 256
NOTE_SAMPLES = 2400
# Of each note: its attack, its release and a good part of its tail, before any sample loop's end (mda EPiano
# rewrites the ends of its loops in data its instances share, at each instantiation).
JUDGED_SAMPLES = 12000
AHEAD_SECONDS = 0.2  # the first note's distance from the block playing when the notes are posted
REFERENCE_ORIGIN_BLOCKS = 4  # silence before the offline render's first note: a block to judge before it


@pytest.fixture(scope="module", params=(64, 256), ids=lambda period: f"period {period}")
def period(request):
    """A private JACK server (4 playback ports, 2 capture ports) at this period; JACK2 lets one process be
    a client of one server at a time, and each server stops before the next starts."""
    with PrivateJackServer(sample_rate=RATE, period=request.param, capture_channels=2, playback_channels=4,
                           realtime=realtime_allowed()):
        yield request.param


def frames_in_block(period: int) -> tuple[int, ...]:
    """The frames within their blocks the notes fall on: each twice, so that each is heard at least once
    where a cycle was missed."""
    return (0, 1, 37, period - 1) * 2


def keys_engine(period: int, instrument: str, insert: tuple[str, str] | None = None) -> Engine:
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=period, output_channels=4, input_channels=2))
    engine.install_plugin_instrument(INSTRUMENT, instrument, bus="keys")
    if insert is not None:
        uri, preset = insert
        engine.install_insert("keys", uri, preset=preset)
        engine.compensate_latency()
    return engine


def post_notes(producer, origin: int, frames: tuple[int, ...]) -> list[int]:
    """Note i on frame frames[i] of the block SPACING * i after `origin` (a block start); their samples."""
    samples = []
    for note, frame in enumerate(frames):
        sample = origin + note * SPACING + frame
        producer.note_on(sample, note, INSTRUMENT, 60 + note, 0.8, "keys")
        producer.note_off(sample + NOTE_SAMPLES, note)
        samples.append(sample)
    return samples


def offline_reference(engine: Engine, period: int, frames: tuple[int, ...]) -> tuple[int, np.ndarray]:
    """(where the notes start, the render): the same notes on the same frames of their blocks, offline."""
    origin = REFERENCE_ORIGIN_BLOCKS * period
    post_notes(engine.producer("control"), origin, frames)
    return origin, OfflineRenderer(engine.state, period).render(origin + len(frames) * SPACING)


class LivePlay:
    """The notes played live, and what the capture heard."""

    def __init__(self, engine: Engine, period: int, frames: tuple[int, ...]):
        self.engine, self.period = engine, period
        stream = LiveStream(engine.state, choose_device(None, 4, 2), period)
        seconds = AHEAD_SECONDS + len(frames) * SPACING / RATE + 0.5
        try:
            with NotificationPump(engine), capture_engine(stream, seconds=seconds + 1.0, channels=2) as capture:
                stream.start()
                assert capture.wait_cycles(50)
                while not engine.clock.running:
                    time.sleep(0.005)
                time.sleep(0.2)
                self.workers_threaded = bool(engine.state.workers[:, W_SYNCHRONOUS].max() == 0)
                playing = int(engine.clock.sample_at(time.monotonic_ns()))
                origin = (playing + round(AHEAD_SECONDS * RATE)) // period * period
                self.samples = post_notes(engine.producer("control"), origin, frames)
                time.sleep(seconds)
                stream.stop()
                capture.pause()
                engine.poll()
                self.audio, _ = capture.audio()
        finally:
            stream.close()
        self.capture = capture
        self.pairs = dict(engine.clock.recent_pairs)

    def heard(self, first_block: int, end: int) -> np.ndarray | None:
        """The main outputs as captured for engine samples [first_block, end); None where a cycle was missed."""
        if not heard_without_interruption(self.capture, self.pairs, first_block, end, self.period):
            return None
        row = self.capture.row_of_frame(self.capture.cycle_at_ns(self.pairs[first_block]))
        return self.audio[row:row + end - first_block, :2]


def first_sound(channel: np.ndarray) -> int:
    return int(np.flatnonzero(np.abs(channel) > 1e-6)[0])


def judge_notes(live: LivePlay, reference_origin: int, reference: np.ndarray, onset_delay: int) -> list[str]:
    """Each note from the block before its own: 'exact' (the offline samples, silent up to its frame plus
    `onset_delay`), or 'interrupted' (a missed cycle in the stretch: not comparable)."""
    period, origin = live.period, live.samples[0] - live.samples[0] % live.period
    assert not live.engine.late_events, "every note was posted ahead of its block"
    outcomes = []
    for sample in live.samples:
        frame = sample % period
        first_block, end = sample - frame - period, sample + JUDGED_SAMPLES
        heard = live.heard(first_block, end)
        if heard is None:
            outcomes.append("interrupted")
            continue
        expected = reference[first_block - origin + reference_origin:end - origin + reference_origin, :2]
        assert first_sound(heard[:, 0]) == period + frame + onset_delay, f"the note on frame {frame}"
        assert np.array_equal(heard, expected), f"the note on frame {frame} differs from the offline render"
        outcomes.append("exact")
    return outcomes


@pytest.mark.parametrize("instrument", (EPIANO, DX10), ids=("EPiano", "DX10"))
def test_an_lv2_instruments_notes_sound_live_from_their_own_frames_as_offline(period, instrument):
    require(instrument)
    frames = frames_in_block(period)
    reference_origin, reference = offline_reference(keys_engine(period, instrument), period, frames)
    live = LivePlay(keys_engine(period, instrument), period, frames)
    outcomes = judge_notes(live, reference_origin, reference, onset_delay=0)
    heard_frames = {sample % period for sample, outcome in zip(live.samples, outcomes) if outcome == "exact"}
    assert heard_frames == set(frames), f"{outcomes}, capture gaps: {live.capture.gaps()}"


def test_a_worker_plugin_insert_plays_live_as_offline(period):
    """x42 zeroconvolv (its preset's impulse response loads through the LV2 worker) on the keys: live, the
    worker is the control plane's thread, offline it is called at once; the samples are the same."""
    require(EPIANO, ZEROCONVOLV_STEREO)
    frames = frames_in_block(period)
    insert = (ZEROCONVOLV_STEREO, "No-OP Stereo")
    reference_engine = keys_engine(period, EPIANO, insert)
    latency = reference_engine.compensate_latency()
    assert latency > 0, "the convolver reports its buffering"
    reference_origin, reference = offline_reference(reference_engine, period, frames)
    live = LivePlay(keys_engine(period, EPIANO, insert), period, frames)
    assert live.workers_threaded, "the live stream hands the plugin's work to the worker thread"
    outcomes = judge_notes(live, reference_origin, reference, onset_delay=latency)
    assert outcomes.count("exact") >= len(frames) // 2, f"{outcomes}, capture gaps: {live.capture.gaps()}"
