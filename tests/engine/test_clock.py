"""The control plane's sample clock: arrival time -> sample, through a DLL over the audio thread's pairs."""

import numpy as np
import pytest

from liveengine.engine.clock import SampleClock

RATE = 48000
BLOCK = 64
PERIOD_NS = BLOCK / RATE * 1e9


def feed(clock, blocks, jitter_ns, rate_error=0.0, seed=1, first_block=0):
    """Callback entry times of a stream whose true clock runs (1 + rate_error) fast, with wake-up jitter."""
    rng = np.random.default_rng(seed)
    true_ns = []
    for k in range(first_block, first_block + blocks):
        t = 1_000_000_000 + k * PERIOD_NS / (1 + rate_error)
        true_ns.append(t)
        clock.observe(k * BLOCK, int(t + rng.uniform(0, jitter_ns)))
    return true_ns


def test_no_mapping_before_the_stream_runs():
    clock = SampleClock(RATE)
    assert not clock.running
    with pytest.raises(RuntimeError, match="no running stream"):
        clock.sample_at(0)


def test_the_filtered_line_is_far_steadier_than_the_raw_wake_ups():
    clock = SampleClock(RATE)
    jitter = 0.8 * PERIOD_NS  # wake-ups anywhere in the first 80 % of the period
    true_ns = feed(clock, 20000, jitter, rate_error=1e-4)
    # Ask where the stream is at each of the last 100 true block starts.
    errors = [clock.sample_at(int(t + jitter / 2)) - (20000 - 100 + i) * BLOCK
              for i, t in enumerate(true_ns[-100:])]
    # The raw pairs scatter over 0.8 of a block (51 samples); the line stays within two
    # samples of the mean wake-up, and follows the stream's true rate.
    assert np.ptp(errors) < 2
    assert abs(np.mean(errors)) < 2


def test_default_latency_is_two_blocks_of_the_running_stream():
    clock = SampleClock(RATE)
    feed(clock, 100, 0)
    assert clock.latency_samples == 2 * BLOCK
    now = int(1_000_000_000 + 99.5 * PERIOD_NS)
    assert clock.sample_for_arrival(now) == int(np.floor(clock.sample_at(now))) + 2 * BLOCK
    assert SampleClock(RATE, latency_samples=300).latency_samples == 300


def test_a_skipped_block_restarts_the_loop_on_the_new_position():
    clock = SampleClock(RATE)
    feed(clock, 200, 0)
    feed(clock, 50, 0, first_block=1000)  # a relocation: the positions jump
    t = int(1_000_000_000 + 1049 * PERIOD_NS)
    assert abs(clock.sample_at(t) - 1049 * BLOCK) < 1
