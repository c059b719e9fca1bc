"""Levels in decibels: the gain a level in dB stands for, and the dBFS of an amplitude."""

import math

SILENCE_DBFS = -120.0  # meters floor: what "nothing" reads as


def db_to_gain(db: float) -> float:
    return 10.0 ** (db / 20.0)


def to_dbfs(amplitude: float) -> float:
    return SILENCE_DBFS if amplitude <= db_to_gain(SILENCE_DBFS) else max(SILENCE_DBFS, 20 * math.log10(amplitude))
