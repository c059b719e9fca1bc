"""The audio thread's half of the handover (engine/handover.py holds the control plane's).

The control plane writes a resource while it is its own, then hands it over with one ADOPT;
it asks for it back with one LET_GO. The audio thread answers each with HANDED_OVER and the
event's token: only that answer lets the control plane rewrite or free the memory.
"""

from . import events as ev
from .memory import i64_2d, f64_2d, notify
from .realtime import realtime
from .state import (
    A_INSTRUMENTS,
    A_SAMPLE_INTS,
    I_KIND,
    MAX_INSTRUMENTS,
    SI_FRAMES_READY,
    SI_FULL_ADDRESS,
    SI_REQUESTED,
    SI_VOICES,
)
from .voices.synth import swap_patch
from .triggers import arm_cue, disarm_cue


@realtime
def adopt(table, resource, slot, value, sample):
    """Start reading what the control plane wrote; returns a HANDOVER_* outcome."""
    if resource == ev.RESOURCE_CUE:
        return ev.HANDOVER_DONE if arm_cue(table, slot, sample) else ev.HANDOVER_REFUSED
    if not 0 <= slot < MAX_INSTRUMENTS:
        return ev.HANDOVER_REFUSED
    if resource == ev.RESOURCE_INSTRUMENT:
        f64_2d(table, A_INSTRUMENTS)[I_KIND, slot] = value
        return ev.HANDOVER_DONE
    if resource == ev.RESOURCE_PATCH:
        swap_patch(table, slot)
        return ev.HANDOVER_DONE
    return ev.HANDOVER_REFUSED


@realtime
def let_go(table, resource, slot):
    """Stop reading a resource, so the control plane may free or rewrite it; returns a HANDOVER_* outcome."""
    if resource == ev.RESOURCE_CUE:
        return ev.HANDOVER_DONE if disarm_cue(table, slot) else ev.HANDOVER_REFUSED
    if resource == ev.RESOURCE_SAMPLE:
        return let_go_of_sample(table, slot)
    return ev.HANDOVER_REFUSED


@realtime
def let_go_of_sample(table, slot):
    """A sample's full data, unless a voice still plays it (the voice would read freed memory)."""
    sample_ints = i64_2d(table, A_SAMPLE_INTS)
    if not 0 <= slot < sample_ints.shape[1]:
        return ev.HANDOVER_REFUSED
    if sample_ints[SI_VOICES, slot] > 0:
        return ev.HANDOVER_KEPT
    sample_ints[SI_FRAMES_READY, slot] = 0
    sample_ints[SI_FULL_ADDRESS, slot] = 0
    sample_ints[SI_REQUESTED, slot] = 0
    return ev.HANDOVER_DONE


@realtime
def hand_over(table, event, sample, letting_go):
    """Carry out an ADOPT or a LET_GO and answer it; False when refused."""
    resource = int(event[ev.A])
    slot = int(event[ev.TARGET])
    if letting_go:
        outcome = let_go(table, resource, slot)
    else:
        outcome = adopt(table, resource, slot, event[ev.C], sample)
    notify(table, sample, ev.HANDED_OVER, event[ev.B], resource, slot, outcome)
    return outcome != ev.HANDOVER_REFUSED
