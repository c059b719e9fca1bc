"""The MIDI benchmark: how long after a note-on arrives the engine plays it, and how steady
that is, over many notes played into a private JACK dummy server through JACK MIDI.

Per period: the latency the engine adds (its scheduling latency, two blocks by default: a note
starts that long after the sample playing when it arrived), how many notes came too late
for it (applied late, counted by the audio thread), and the time from sending each note to
its first sample on the engine's clock, with its jitter, which adds JACK's MIDI transport
(delivered once per period).
"""

import time

import numpy as np

from ..show.reader import parse_show
from ..midi.keyboard import Keyboards
from ..midi.inputs import MidiInputs, MidiInputSpec
from ..drivers.devices import choose_device
from ..drivers.stream import LiveStream
from ..engine import NotificationPump
from ..show.rig import build_rig

RATE = 48000


def _show(period: int, latency_blocks: int) -> str:
    return f"""
[show]
name = "MIDI bench"
[audio]
sample_rate = {RATE}
block_size = {period}
scheduling_latency_ms = {latency_blocks * period / RATE * 1000}
[osc]
enabled = false
[instruments.tone]
type = "tone"
attack_ms = 1
release_ms = 5
[setups.plain]
layers = [{{instrument = "tone"}}]
[keyboards.bench]
input = "bench keys"
setup = "plain"
"""


def note_timing(period: int, latency_blocks: int, notes: int) -> dict:
    import rtmidi
    rig = build_rig(parse_show(_show(period, latency_blocks), "midibench.toml"))
    engine = rig.engine
    keyboards = Keyboards(rig.show.keyboards, rig.show.setups, rig.instrument_numbers, engine,
                          engine.producer("keyboards"))
    sender = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="bench keys")
    sender.open_virtual_port("out")
    inputs = MidiInputs([MidiInputSpec("bench", "bench keys", None)], keyboards.receive, apis=[rtmidi.API_UNIX_JACK],
                        poll_seconds=0.2)
    stream = LiveStream(engine.state, choose_device(None, 2, 0), period)
    sent = {}  # (key, velocity) -> when it was sent: each note is told apart by the pair
    try:
        with NotificationPump(engine):
            stream.start()
            keyboards.start()
            inputs.start()
            deadline = time.monotonic() + 10
            while "open" not in inputs.status()["bench"] and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.5)
            for note in range(notes):
                key, velocity = 36 + note % 48, 1 + note % 127
                sent[(key, velocity)] = time.monotonic_ns()
                sender.send_message([0x90, key, velocity])
                time.sleep(0.01)
                sender.send_message([0x80, key, 0])
                time.sleep(0.01)
            time.sleep(0.2)
    finally:
        inputs.stop()
        keyboards.stop()
        stream.close()
        sender.close_port()
        sender.delete()
    engine.poll()
    played = {(key, velocity): sounds_at for _, key, velocity, _, _, sounds_at in keyboards.note_log}
    through = np.array([(played[note] - send) / 1e6 for note, send in sent.items() if note in played])
    late = sum(1 for late in engine.late_events if late.kind == "note on")
    return {"notes": len(played), "sent": len(sent), "latency": engine.clock.latency_samples, "late": late,
            "through_p50": float(np.percentile(through, 50)), "through_p99": float(np.percentile(through, 99)),
            "through_jitter": float(through.std())}


def run_midi_benchmarks(quick: bool):
    from ..drivers.jackserver import PrivateJackServer, realtime_allowed
    realtime = realtime_allowed()
    notes = 200 if quick else 1000
    print(f"MIDI in to audio out on a private JACK server (dummy driver, {RATE} Hz, "
          f"{'real-time' if realtime else 'no real-time'} scheduling), {notes} notes through JACK MIDI:")
    for period, latency_blocks in ((64, 1), (64, 2), (128, 1), (128, 2)):
        with PrivateJackServer(sample_rate=RATE, period=period, playback_channels=2, realtime=realtime):
            r = note_timing(period, latency_blocks, notes)
        print(f"  period {period:>3}: {r['notes']} of {r['sent']} notes; the engine adds {r['latency']} samples "
              f"({r['latency'] / RATE * 1000:.2f} ms), {r['late']} notes late for it; send to first sample "
              f"p50 {r['through_p50']:.2f} ms, p99 {r['through_p99']:.2f} ms, jitter {r['through_jitter']:.2f} ms RMS")
