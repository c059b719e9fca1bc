"""The kernel's random numbers: round robins' random layers, free-running oscillator phases,
sample-and-hold LFOs. One xorshift64* generator with a fixed seed, so renders repeat exactly."""

from ..realtime import realtime
from ..state import K_RANDOM


@realtime
def next_random(kernel):
    """A uniform number in [0, 1) from the kernel's generator."""
    x = kernel[K_RANDOM]
    x ^= x >> 12
    x ^= x << 25
    x ^= x >> 27
    kernel[K_RANDOM] = x
    return float((x * 2685821657736338717) >> 11 & ((1 << 53) - 1)) / 9007199254740992.0
