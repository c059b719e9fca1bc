"""The synth benchmark, `python bench/synth.py [--quick]` in a checkout: liveengine's synth voice
against SuperCollider's scsynth, both rendering offline.

The voice is the same on both sides: a band-limited saw through a resonant low-pass
(2 kHz, a 6 dB peak), an ADSR envelope (10 ms, 200 ms, 70 %, 300 ms) and a pan; 64, 256
and 512 voices at different pitches start together, are held, and are released half a
second before the end. Both render at 48 kHz in 64-frame blocks:

- scsynth in non-real-time mode, from a score written here: the SynthDef in SCgf version 2
  (built without sclang) and the OSC bundles that load it, start the voices and release them;
- liveengine through OfflineRenderer, the patch installed with `Engine.install_synth`.

Cost is CPU time less that of the same render with no voices (scsynth's start-up and file
writing; the engine's mixing and metering): for scsynth the child process's CPU time, for
liveengine the render loop's alone. Rounds alternate the sides, so a noisy neighbour hurts
both alike. Before timing, one voice at 220 Hz is rendered on each side and checked: its
length, its pitch, the low-pass above the cutoff, and silence after the release. The
output levels printed show that every voice sounds (they grow with the voices); scsynth's
sit 6 dB below liveengine's, its Saw being half as loud at the same amplitude.

scsynth comes from Debian: `apt-get install -y --no-install-recommends supercollider-server`.
"""

import argparse
import functools
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from resource import RUSAGE_CHILDREN, getrusage

import numpy as np
import soundfile

from liveengine.osc.server import message
from liveengine.engine.warmup import prepare_kernels

RATE = 48000
BLOCK = 64
AMP = 0.01  # per voice: 512 of them peak below -6 dBFS, clear of the engine's limiter
CUTOFF = 2000.0
RESONANCE_DB = 6.0
RQ = 0.5  # 1/Q: a two-pole low-pass peaks at about Q, 6 dB
ATTACK, DECAY, SUSTAIN, RELEASE = 0.01, 0.2, 0.7, 0.3
RELEASE_BEFORE_END = 0.5  # seconds: every release ends before the render does
SCSYNTH_INSTALL = "apt-get install -y --no-install-recommends supercollider-server"

CONTROL, AUDIO = 1, 2  # SCgf calculation rates (0 is scalar)


def _pstring(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">B", len(data)) + data


def synthdef(name: str, parameters: dict[str, float], ugens: list[tuple]) -> bytes:
    """A file of one SynthDef in SCgf version 2 (what /d_recv takes).

    `parameters` ({name: default}) are the outputs of a Control UGen, which comes first in
    `ugens`. A UGen is (class, rate, inputs, output rates, special index), listed in the order
    they run; an input is a constant (a number) or (UGen index, output index).
    """
    constants = []
    for _, _, inputs, _, _ in ugens:
        for value in inputs:
            if not isinstance(value, tuple) and float(value) not in constants:
                constants.append(float(value))
    parts = [b"SCgf", struct.pack(">ih", 2, 1), _pstring(name),
             struct.pack(f">i{len(constants)}f", len(constants), *constants),
             struct.pack(f">i{len(parameters)}f", len(parameters), *parameters.values()),
             struct.pack(">i", len(parameters))]
    parts += [_pstring(parameter) + struct.pack(">i", index) for index, parameter in enumerate(parameters)]
    parts.append(struct.pack(">i", len(ugens)))
    for class_name, rate, inputs, outputs, special in ugens:
        parts.append(_pstring(class_name) + struct.pack(">biih", rate, len(inputs), len(outputs), special))
        for value in inputs:
            source = value if isinstance(value, tuple) else (-1, constants.index(float(value)))
            parts.append(struct.pack(">ii", *source))
        parts.append(bytes(outputs))
    parts.append(struct.pack(">h", 0))  # no variants
    return b"".join(parts)


def voice_synthdef() -> bytes:
    """The bench voice, as sclang compiles

        SynthDef(\\benchsaw, { |freq = 440, amp = 0.1, pan = 0, gate = 1|
            var env = EnvGen.kr(Env.adsr(0.01, 0.2, 0.7, 0.3), gate, doneAction: 2);
            Out.ar(0, Pan2.ar(RLPF.ar(Saw.ar(freq), 2000, 0.5) * env, pan, amp)) })
    """
    # Env as EnvGen reads it: start level, segments, release node, loop node (-99: none), then
    # per segment its level, time, shape (5: curve) and curvature.
    adsr = (0, 3, 2, -99, 1, ATTACK, 5, -4, SUSTAIN, DECAY, 5, -4, 0, RELEASE, 5, -4)
    multiply = 2  # BinaryOpUGen's operator number for *
    ugens = [
        ("Control", CONTROL, (), (CONTROL,) * 4, 0),  # 0: freq, amp, pan, gate
        ("Saw", AUDIO, ((0, 0),), (AUDIO,), 0),  # 1
        ("RLPF", AUDIO, ((1, 0), CUTOFF, RQ), (AUDIO,), 0),  # 2
        # 3: gate, level scale, level bias, time scale, done action (2: free the synth), envelope
        ("EnvGen", CONTROL, ((0, 3), 1, 0, 1, 2, *adsr), (CONTROL,), 0),
        ("BinaryOpUGen", AUDIO, ((2, 0), (3, 0)), (AUDIO,), multiply),  # 4
        ("Pan2", AUDIO, ((4, 0), (0, 2), (0, 1)), (AUDIO, AUDIO), 0),  # 5: in, pos, level
        ("Out", AUDIO, (0, (5, 0), (5, 1)), (), 0),  # bus 0, left, right
    ]
    return synthdef("benchsaw", {"freq": 440.0, "amp": 0.1, "pan": 0.0, "gate": 1.0}, ugens)


def voices_played(voices: int) -> list[tuple[float, float]]:
    """(key, pan) of each voice: keys spread evenly over five octaves, far enough apart that
    voices starting together drift out of phase within a second."""
    return [(36 + 60 * note / voices, (note % 7 - 3) / 3) for note in range(voices)]


def _bundle(seconds: float, *messages: bytes) -> bytes:
    # An NRT score's time tags count from the start of the render, in NTP's 32.32 fixed point.
    body = b"#bundle\0" + struct.pack(">Q", round(seconds * 2 ** 32))
    body += b"".join(struct.pack(">i", len(m)) + m for m in messages)
    return struct.pack(">i", len(body)) + body


def score(played: list[tuple[float, float]], seconds: float) -> bytes:
    """An NRT score: load the voice, start `played` at once, release them, end at `seconds`."""
    nodes = range(1000, 1000 + len(played))
    starts = [message("/s_new", "benchsaw", node, 1, 0,  # add to the tail of the root group
                      "freq", 440.0 * 2 ** ((key - 69) / 12), "amp", AMP, "pan", pan)
              for node, (key, pan) in zip(nodes, played)]
    releases = [message("/n_set", node, "gate", 0.0) for node in nodes]
    return b"".join([_bundle(0.0, message("/d_recv", voice_synthdef()), *starts),
                     _bundle(seconds - RELEASE_BEFORE_END, *releases),
                     # scsynth renders up to the end of the block holding the last bundle.
                     _bundle(seconds - BLOCK / RATE, message("/c_set", 0, 0.0))])


def scsynth_command(score_path: Path, output_path: Path) -> list[str]:
    # -D 0: no synth definitions from disk, only the score's.
    return ["scsynth", "-N", str(score_path), "_", str(output_path), str(RATE), "WAV", "float",
            "-o", "2", "-z", str(BLOCK), "-D", "0"]


def render_scsynth(played: list[tuple[float, float]], seconds: float, directory: Path) -> tuple[float, np.ndarray]:
    """scsynth's CPU seconds and its output for `played` voices over `seconds`."""
    score_path, output_path = directory / f"score{len(played)}.osc", directory / f"out{len(played)}.wav"
    score_path.write_bytes(score(played, seconds))
    before = getrusage(RUSAGE_CHILDREN)
    done = subprocess.run(scsynth_command(score_path, output_path), capture_output=True, text=True, errors="replace")
    after = getrusage(RUSAGE_CHILDREN)
    # A bad SynthDef or command still exits 0, with a complaint and silence: check the log too.
    complaints = [line for line in (done.stdout + done.stderr).splitlines()
                  if any(word in line for word in ("FAILURE", "ERROR", "not found", "alloc failed"))]
    if done.returncode != 0 or complaints:
        raise RuntimeError(f"scsynth failed ({done.returncode}): " + "; ".join(complaints or [done.stderr.strip()]))
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return cpu, soundfile.read(output_path, dtype="float32")[0]


def synth_patch():
    from liveengine.kernel.regions import Envelope
    from liveengine.kernel.synthpatch import Oscillator, SynthFilter, SynthPatch
    return SynthPatch("bench saw", oscillators=(Oscillator("saw"),),
                      filter=SynthFilter("lowpass", CUTOFF, RESONANCE_DB),
                      amp_envelope=Envelope(attack=ATTACK, decay=DECAY, sustain=100 * SUSTAIN, release=RELEASE),
                      gain=AMP, velocity_sensitivity=0.0)


def render_liveengine(played: list[tuple[float, float]], seconds: float) -> tuple[float, np.ndarray]:
    """The render loop's CPU seconds and the output for `played` voices over `seconds`; checks
    midway that every voice sounds."""
    from liveengine.engine import Engine, EngineSettings, OfflineRenderer
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK, polyphony=max(len(played), 1)))
    engine.install_synth(0, synth_patch())
    producer = engine.producer("control")
    release_at = round((seconds - RELEASE_BEFORE_END) * RATE)
    for note, (key, pan) in enumerate(played):
        producer.note_on(0, note, 0, key, 1.0, "keys", pan=pan)
        producer.note_off(release_at, note)
    renderer = OfflineRenderer(engine.state, BLOCK)
    frames, middle = round(seconds * RATE), round(seconds * RATE / 2) // BLOCK * BLOCK
    began = time.process_time()
    first = renderer.render(middle)
    cpu = time.process_time() - began
    if engine.telemetry().voices != len(played):
        raise RuntimeError(f"liveengine sounds {engine.telemetry().voices} voices midway, not {len(played)}")
    began = time.process_time()
    rest = renderer.render(frames - middle)
    cpu += time.process_time() - began
    return cpu, np.concatenate([first, rest])


def check_voice(audio: np.ndarray, seconds: float, frequency: float) -> str | None:
    """What is wrong with one voice at `frequency` released RELEASE_BEFORE_END before the end
    of `seconds`, or None."""
    if audio.shape != (round(seconds * RATE), 2):
        return f"{audio.shape[0]} frames of {audio.shape[1]} channels, not {round(seconds * RATE)} of 2"
    held = audio[RATE // 2:round((seconds - RELEASE_BEFORE_END) * RATE), 0].astype(np.float64)
    if np.sqrt(np.mean(held ** 2)) < 1e-4:
        return "silent"
    spectrum = np.abs(np.fft.rfft(held * np.hanning(len(held))))
    bin_hz = RATE / len(held)
    peak = np.argmax(spectrum) * bin_hz
    if abs(peak - frequency) > 2 * bin_hz:
        return f"loudest partial at {peak:.1f} Hz, not {frequency:.1f} Hz"

    def partial(n):
        at = round(n * frequency / bin_hz)
        return spectrum[at - 2:at + 3].max()
    # A bare saw's 20th partial is 26 dB below its first; the low-pass takes 12 dB more at 2.2 times its cutoff.
    twentieth = 20 * np.log10(partial(20) / partial(1))
    if twentieth > -32:
        return f"20th partial {twentieth:.1f} dB below the first: not low-passed at {CUTOFF:.0f} Hz"
    tail = np.abs(audio[round((seconds - RELEASE_BEFORE_END + RELEASE + 0.05) * RATE):]).max()
    if tail > 1e-4:
        return f"still sounding ({tail:.1e}) after its release"
    return None


def _rms_db(audio: np.ndarray, seconds: float) -> float:
    held = audio[RATE // 2:round((seconds - RELEASE_BEFORE_END) * RATE)].astype(np.float64)
    return 10 * np.log10(np.mean(held ** 2))


def run_synth_benchmarks(quick: bool):
    counts = (64, 256, 512)
    seconds, rounds = (3.0, 1) if quick else (10.0, 5)
    print(f"Synth voice (saw, {CUTOFF:.0f} Hz resonant low-pass, ADSR, pan), offline at {RATE} Hz in {BLOCK}-frame "
          f"blocks, {seconds:g} s renders, voices released {RELEASE_BEFORE_END:g} s before the end:")
    with tempfile.TemporaryDirectory(prefix="synthbench-") as name:
        directory = Path(name)
        sides = {}
        if shutil.which("scsynth"):
            print("  scsynth: " + " ".join(scsynth_command(directory / "score.osc", directory / "out.wav")))
            sides["scsynth"] = functools.partial(render_scsynth, directory=directory)
        else:
            print(f"  scsynth not found: install it with `{SCSYNTH_INSTALL}`")
        print(f"  liveengine: Engine.install_synth, then OfflineRenderer(engine.state, {BLOCK}).render, "
              "in this process")
        sides["liveengine"] = render_liveengine

        check_seconds, key, frequency = 2.0, 57.0, 220.0
        for side, render in sides.items():
            problem = check_voice(render([(key, 0.0)], check_seconds)[1], check_seconds, frequency)
            if problem:
                raise RuntimeError(f"{side}'s voice at {frequency:g} Hz is wrong: {problem}")
        print(f"  one voice at {frequency:g} Hz checked ({', '.join(sides)}): length, pitch, low-pass, "
              "silence after its release")

        net = {(side, n): [] for side in sides for n in counts}
        levels = {}
        for round_number in range(rounds):
            order = list(sides.items())[::1 if round_number % 2 == 0 else -1]
            for n in counts:
                for side, render in order:
                    cpu, audio = render(voices_played(n), seconds)
                    net[side, n].append(cpu - render([], seconds)[0])
                    levels[side, n] = _rms_db(audio, seconds)
    for side in sides:
        by_count = [levels[side, n] for n in counts]
        if by_count != sorted(by_count):
            raise RuntimeError(f"{side}'s level does not grow with its voices: {by_count} dBFS")

    # Both sides end a voice with its release.
    voice_seconds = seconds - RELEASE_BEFORE_END + RELEASE
    print(f"  voice-seconds per CPU-second, median of {rounds} round(s), CPU time less a render with no voices:")
    header = "".join(f" {side:>12} {'RMS dBFS':>9}" for side in sides)
    print(f"  {'voices':>6}{header}{'  liveengine/scsynth' if len(sides) == 2 else ''}")
    for n in counts:
        rates = {side: n * voice_seconds / float(np.median(net[side, n])) for side in sides}
        row = "".join(f" {rates[side]:>12.0f} {levels[side, n]:>9.1f}" for side in sides)
        ratio = f" {rates['liveengine'] / rates['scsynth']:>19.2f}" if len(sides) == 2 else ""
        print(f"  {n:>6}{row}{ratio}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s renders, one round")
    args = parser.parse_args(argv)
    prepare_kernels(report=lambda line: None)
    run_synth_benchmarks(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
