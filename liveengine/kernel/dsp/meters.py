"""Ballistic level meters: peak with a constant fall in dB, and an exponential mean square."""

from ..realtime import DENORMAL_FLOOR, realtime


@realtime
def peak_follow(peak, sample, decay):
    level = abs(sample)
    falling = peak * decay
    if falling < DENORMAL_FLOOR:
        falling = 0.0
    return level if level > falling else falling


@realtime
def mean_square_follow(mean_square, sample, coeff):
    mean_square += (sample * sample - mean_square) * coeff
    # Mean squares are level squared: flush at the square of the floor.
    return 0.0 if mean_square < DENORMAL_FLOOR * DENORMAL_FLOOR else mean_square
