"""Seeded hostile MIDI into a live keyboard: the engine's live stream on a private JACK server, a test
client playing garbage into the keyboard's JACK MIDI input (running-status fragments, sysex, every
channel, note-on and pedal storms, pitch bend extremes, program changes, random bytes), then every
note released. The engine keeps its cycles (it misses no more of them than an idle reference client
on the same server, within the scheduler's noise), nothing raises in any thread, and no voice is left sounding.

JACK clients run in the test process, so `.ci/run` gives this file a process of its own.
"""

import random
import threading
import time

import pytest
import rtmidi

from idleclient import ReferenceClient, within_scheduling_noise
from livekeyboard import playing_keyboard

pytestmark = pytest.mark.jack_process

MESSAGES = 6000  # about 2 s of MIDI at the pace below
BATCH = 40  # messages a batch, a batch every 5 ms: what a JACK MIDI buffer takes without dropping
# The storm brings about five messages to every cycle: a callback that overran its period on them would be
# late on most of the ~1,200 cycles, not on a few (idleclient.within_scheduling_noise).


def hostile_messages(rng: random.Random, count: int):
    """Seeded garbage and storms, every channel; each message at most 3 bytes unless a sysex."""
    def channel():
        return rng.randrange(16)

    makers = [
        lambda: [0x90 | channel(), rng.randrange(128), rng.randrange(128)],  # note-on storm (velocity 0 included)
        lambda: [0x90 | channel(), rng.randrange(128), rng.randrange(128)],
        lambda: [0x80 | channel(), rng.randrange(128), rng.randrange(128)],
        lambda: [0xB0 | channel(), rng.choice([64, 66, 67]), rng.choice([0, 63, 64, 127])],  # pedal storm
        lambda: [0xE0 | channel(), *rng.choice([(0, 0), (127, 127), (0, 64), (127, 0)])],  # pitch bend extremes
        lambda: [0xC0 | channel(), rng.randrange(128)],  # program changes
        lambda: [rng.randrange(128) for _ in range(rng.randint(1, 3))],  # running status without a status
        lambda: [0x90 | channel(), rng.randrange(128)],  # a status short of its data
        lambda: [rng.randrange(0x80, 0x100), rng.randrange(256), rng.randrange(256)],  # data bytes out of range
        lambda: [0xF0] + [rng.randrange(128) for _ in range(rng.randint(0, 64))] + [0xF7],  # sysex
        lambda: [0xF0] + [rng.randrange(256) for _ in range(rng.randint(1, 31))] + [0xF7],  # statuses inside
        # (an unterminated sysex deafens the input: see the xfail test below)
        lambda: [rng.choice([0xF1, 0xF2, 0xF3, 0xF6, 0xF8, 0xFA, 0xFC, 0xFE, 0xFF])],  # system messages
        lambda: [0xB0 | channel(), rng.randrange(128), rng.randrange(128)],  # any controller
    ]
    for _ in range(count):
        yield rng.choice(makers)()


def send_paced(keys_out, messages, batch=BATCH):
    sent = 0
    for index, message in enumerate(messages):
        try:
            keys_out.send_message(message)
            sent += 1
        except (ValueError, rtmidi.RtMidiError):
            pass  # a message python-rtmidi itself refuses to send
        if index % batch == batch - 1:
            time.sleep(0.005)
    return sent


def every_note_released():
    for channel in range(16):
        yield from ([0xB0 | channel, pedal, 0] for pedal in (64, 66, 67))
        yield from ([0x80 | channel, key, 0] for key in range(128))


@pytest.mark.parametrize("seed", [13, 2026])
def test_hostile_midi_into_a_live_keyboard_leaves_no_voice_and_keeps_the_engines_cycles(live_server, seed):
    raised = []
    previous_hook = threading.excepthook
    threading.excepthook = lambda args: raised.append(args)
    try:
        with playing_keyboard() as (engine, keyboards, keys_out, stream):
            reference = ReferenceClient()
            late_before = engine.telemetry().missed_cycles
            sent = send_paced(keys_out, hostile_messages(random.Random(seed), MESSAGES))
            # At half the storm's pace: what is asserted of the releases must not hang on rtmidi's input
            # buffer keeping up with 2,000 of them while the machine is loaded.
            send_paced(keys_out, every_note_released(), batch=BATCH // 2)
            time.sleep(0.5)  # the releases (50 ms) and the sender's buffer play out
            telemetry = engine.telemetry()
            reference_late = reference.late_cycles()
    finally:
        threading.excepthook = previous_hook
    assert sent > MESSAGES // 2
    assert keyboards.note_log, "the storm played notes"
    assert keyboards.ignored > 0, "the garbage reached the keyboard, and was counted and ignored"
    # Keys the keyboard still holds: their note-offs never reached it (lost in the MIDI transport).
    held = {channel: sorted(state.held) for channel, state in keyboards.keyboards["upper"].channels.items()
            if state.sounding()}
    assert telemetry.voices == 0, f"every note released: no voice left sounding (keys still held: {held})"
    assert not raised, [f"{args.exc_type.__name__}: {args.exc_value}" for args in raised]
    engine_late = telemetry.missed_cycles - late_before
    assert within_scheduling_noise(engine_late, reference_late), \
        f"the engine missed {engine_late} cycles, an idle client {reference_late}"


@pytest.mark.xfail(strict=True, reason="rtmidi's JACK input joins every later event to a sysex left open (no F7) "
                                       "until an event ends in F7, and drops them all as sysex: the keyboard "
                                       "hears nothing, and notes already held stay held")
def test_an_unterminated_sysex_does_not_deafen_the_keyboard(live_server):
    with playing_keyboard() as (engine, keyboards, keys_out, stream):
        keys_out.send_message([0xF0, 0x7E, 0x01])
        time.sleep(0.05)
        keys_out.send_message([0x90, 60, 100])
        time.sleep(0.05)
        keys_out.send_message([0x80, 60, 0])
        time.sleep(0.3)
    assert [entry[1] for entry in keyboards.note_log] == [60], "the note after the broken sysex was heard"
