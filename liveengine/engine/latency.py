"""Delay compensation: an insert that reports latency (a look-ahead limiter, a convolver) makes its bus
late; every other path to the outputs is held back by as much, so that the keys, the stems and the
click stay together. What reaches a bus from several feeders is aligned on the latest of them, and
every bus with outputs on the latest of those: the whole output is then that much later than the
engine's clock, which `check` reports.
"""

from ..kernel.state import MAX_COMPENSATION, BusLayout, bus_mix_order


def compensation_delays(buses: tuple[BusLayout, ...], insert_latency: list[int]) -> tuple[list[int], int]:
    """(each bus's delay in samples, the latency of the whole output), `insert_latency[b]` being the sum of
    the latencies of bus b's own inserts."""
    index = {bus.name: number for number, bus in enumerate(buses)}
    arrival = [0] * len(buses)  # the latency of what reaches a bus, its feeders aligned
    ready = [0] * len(buses)  # the latency of a bus's output, before its own delay
    for number in bus_mix_order(buses):  # every feeder before the bus it feeds
        ready[number] = arrival[number] + insert_latency[number]
        feeds = buses[number].feeds
        if feeds is not None:
            arrival[index[feeds]] = max(arrival[index[feeds]], ready[number])
    outputs = [number for number, bus in enumerate(buses) if bus.outputs]
    total = max((ready[number] for number in outputs), default=0)
    delays = [0] * len(buses)
    for number, bus in enumerate(buses):
        if bus.feeds is not None:
            delays[number] = arrival[index[bus.feeds]] - ready[number]
        elif bus.outputs:
            delays[number] = total - ready[number]
    longest = max(delays, default=0)
    if longest >= MAX_COMPENSATION:
        raise ValueError(f"the inserts' latencies need a bus delayed by {longest} samples; the engine "
                         f"compensates at most {MAX_COMPENSATION - 1}")
    return delays, total
