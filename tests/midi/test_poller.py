"""Arrival times from rtmidi's deltas and the times messages were read (midi.poller.ArrivalClock):
a message read late keeps the time it came in."""

import random

import pytest

from liveengine.midi.poller import OFFSET_WINDOW_NS, ArrivalClock

MS = 1_000_000


def deltas_of(arrivals):
    """rtmidi's time stamps: 0 for the first message, then the seconds since the previous one."""
    return [0.0] + [(later - earlier) / 1e9 for earlier, later in zip(arrivals, arrivals[1:])]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_messages_read_late_keep_their_arrival_once_one_was_read_promptly(seed):
    rng = random.Random(seed)
    arrivals = [10_000 * MS]
    for _ in range(400):
        arrivals.append(arrivals[-1] + rng.randrange(0, 20 * MS))
    # Read by a thread that polls every millisecond, but is held up now and then for up to 50 ms.
    reads, due = [], arrivals[0]
    for arrival in arrivals:
        while due < arrival:
            due += MS + (rng.randrange(50 * MS) if rng.random() < 0.05 else 0)
        reads.append(due)
    clock = ArrivalClock()
    stamps = [clock.arrival(delta, read) for delta, read in zip(deltas_of(arrivals), reads)]
    worst_read = max(read - arrival for arrival, read in zip(arrivals, reads))
    assert worst_read > 20 * MS, "some messages were read late"
    errors = [stamp - arrival for stamp, arrival in zip(stamps, arrivals)]
    assert all(0 <= error <= MS for error in errors), max(errors)  # within one poll of the truth
    assert stamps == sorted(stamps)


def test_a_stamp_is_never_after_its_read_nor_before_the_previous_stamp():
    clock = ArrivalClock()
    assert clock.arrival(0.0, 1000 * MS) == 1000 * MS
    # rtmidi's clock lost 30 ms (a message it dropped took its delta with it): the next stamps
    # may come early for a while, but never after their reads, nor out of order.
    previous = clock.arrival(0.010, 1010 * MS)
    for k in range(1, 40):
        read = 1040 * MS + k * 10 * MS
        stamp = clock.arrival(0.010, read)
        assert previous <= stamp <= read
        previous = stamp
    # Once the bounds from before the loss have left the window, the stamps are right again.
    read = 1040 * MS + 40 * 10 * MS + OFFSET_WINDOW_NS
    stamp = clock.arrival(OFFSET_WINDOW_NS / 1e9 + 0.010, read)
    assert stamp == read


def test_a_backend_clock_that_runs_slow_by_100_ppm_is_followed():
    clock = ArrivalClock()
    arrival, errors = 0, []
    for _ in range(20_000):  # 100 s of a message every 5 ms, each read 0.2 ms after it came
        arrival += 5 * MS
        errors.append(clock.arrival(0.005 * (1 - 1e-4), arrival + 200_000) - arrival)
    # The offset's bound rises 0.5 us a message; the window's oldest is 50 messages (25 us) behind: the
    # error stays what the drift over one window makes it, and does not grow over the 100 s.
    drift_over_window = OFFSET_WINDOW_NS * 1e-4
    assert all(200_000 - drift_over_window - 1_000 <= error <= 200_000 for error in errors)
