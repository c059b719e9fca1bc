"""A zero-latency peak limiter: instant attack, exponential release, stereo-linked.

No look-ahead, so it adds no latency to a live rig; the gain drops on the very
sample that would pass the ceiling, so no sample ever exceeds it.
"""

from ..realtime import realtime


@realtime
def limiter_gain(gain, peak, ceiling, release_coeff):
    """The next gain for a sample whose louder channel is `peak`."""
    allowed = 1.0 if peak <= ceiling else ceiling / peak
    recovered = gain + (1.0 - gain) * release_coeff
    if recovered > 1.0 - 1e-12:
        recovered = 1.0
    return min(allowed, recovered)
