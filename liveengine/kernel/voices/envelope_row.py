"""A DAHDSR envelope as a block of numbers in a table's row (a region's, a synth patch's).

The layout lives here, apart from `envelope.py` which reads it, so that the tables holding
envelopes (`regiontable`, `synthpatch`) import nothing of the voices.
"""

import numpy as np

from ..regions import Envelope

# An envelope's block of fields, in the order of `Envelope`'s fields.
ENV_DELAY, ENV_START, ENV_ATTACK, ENV_HOLD, ENV_DECAY, ENV_SUSTAIN, ENV_RELEASE, ENV_VEL2DELAY, ENV_VEL2ATTACK, \
    ENV_VEL2HOLD, ENV_VEL2DECAY, ENV_VEL2SUSTAIN, ENV_VEL2RELEASE, ENV_DEPTH = range(14)
ENVELOPE_FIELDS = 14


def write_envelope(row: np.ndarray, at: int, envelope: Envelope):
    """An `Envelope` into its block of fields at `at` of a table's row."""
    row[at:at + ENVELOPE_FIELDS] = (envelope.delay, envelope.start, envelope.attack, envelope.hold, envelope.decay,
                                    envelope.sustain, envelope.release, envelope.vel2delay, envelope.vel2attack,
                                    envelope.vel2hold, envelope.vel2decay, envelope.vel2sustain,
                                    envelope.vel2release, envelope.depth)
