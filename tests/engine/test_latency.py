"""Delay compensation: which bus is held back how long when inserts report latency."""

import pytest

from liveengine.engine.latency import compensation_delays
from liveengine.kernel.state import MAX_COMPENSATION, BusLayout

SHOW_BUSES = (BusLayout("master", outputs=(0, 1)), BusLayout("keys", feeds="master"),
              BusLayout("stems", feeds="master"), BusLayout("click", outputs=(2, 3)))


def latencies(**by_bus):
    return [by_bus.get(bus.name, 0) for bus in SHOW_BUSES]


def test_without_latency_no_bus_is_delayed():
    assert compensation_delays(SHOW_BUSES, latencies()) == ([0, 0, 0, 0], 0)


def test_a_limiters_look_ahead_on_the_keys_holds_back_the_stems_and_the_click():
    delays, total = compensation_delays(SHOW_BUSES, latencies(keys=64))
    assert dict(zip([bus.name for bus in SHOW_BUSES], delays)) == {"master": 0, "keys": 0, "stems": 64, "click": 64}
    assert total == 64


def test_latency_on_master_holds_back_the_click_on_its_own_outputs():
    delays, total = compensation_delays(SHOW_BUSES, latencies(master=240, keys=64))
    assert delays == [0, 0, 64, 304] and total == 304


def test_a_chain_of_buses_adds_its_latencies_and_siblings_align_on_the_latest():
    buses = SHOW_BUSES + (BusLayout("strings", feeds="keys"), BusLayout("brass", feeds="keys"))
    delays, total = compensation_delays(buses, [0, 10, 0, 0, 100, 30])
    assert delays == [0, 0, 110, 110, 0, 70] and total == 110


def test_more_delay_than_a_bus_can_take_is_refused():
    with pytest.raises(ValueError, match="compensates at most"):
        compensation_delays(SHOW_BUSES, latencies(keys=MAX_COMPENSATION))
