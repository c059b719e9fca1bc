"""The sampler benchmark, `python bench/sampler.py [--quick]` in a checkout: liveengine's sampler
against FluidSynth, the same MIDI file through the same SF2 bank, both rendering offline; and
what streaming saves when a large SFZ file loads.

Render cost. A MIDI file written here sounds 64, 256 or 512 voices of FluidR3_GM.sf2 at once:
chords on six channels (strings, slow strings, synth strings, brass, warm pad, grand piano:
looped samples, each voice through its preset's envelopes and low-pass filter) that start
together at velocity 100, are held for the whole file and released at its end. Both sides
render it at 44.1 kHz in 64-frame blocks with room for 1024 voices, through the releases to
silence (FluidSynth adds two seconds of it):
- FluidSynth's fast renderer, on one core, without reverb and chorus (liveengine has neither),
  at its default interpolation, 4th order (FluidSynth sets interpolation per channel, through
  its API or its shell's `interp`; no setting reaches it from the command line);
- liveengine's `MidiPlayer`, what `liveengine play` runs, with cubic interpolation.
Work is voice-seconds, each side's own: the voices it sounds in each block, added up over the
render. liveengine's come from its telemetry, FluidSynth's from libfluidsynth
(fluid_synth_get_active_voice_count) playing the same notes with the same settings, block by
block; the two differ only in the releases, where FluidSynth ends a voice once it falls below
its noise floor. Cost is CPU time. For fluidsynth, the child process's (getrusage(RUSAGE_CHILDREN)
before and after) less that of the same command on a MIDI file with no events: its start-up and
loading the bank. For liveengine, this process's (time.process_time) over the render loop alone:
posting the file's events, serving the sample streamer, the kernel, and writing the WAV file, as
fluidsynth's time includes its own writing; loading and compiling are outside it. The sides
alternate over the rounds.

Loading. A large SFZ file written here (200 stereo 16-bit WAV files of 20 s each, 706 MB) is
loaded in a fresh process with its samples streamed (the default: the first 64k frames of each
decoded at load, the rest read when a voice plays it) and decoded in full: load time, and how
much the process's resident memory (VmRSS) grows. The files have just been written and come
from the page cache, so the time is decoding's, not the disk's.
"""

import argparse
import ctypes
import ctypes.util
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from resource import RUSAGE_CHILDREN, getrusage

import mido
import numpy as np
import soundfile

from liveengine.engine.warmup import prepare_kernels
from liveengine.instruments.sf2 import load_sf2
from liveengine.midi.player import MidiPlayer

BANK = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
RATE = 44100
BLOCK = 64
POLYPHONY = 1024
VELOCITY = 100
PROGRAMS = (48, 49, 50, 61, 89, 0)  # on channels 1-6: strings, slow strings, synth strings, brass, warm pad, piano
KEYS = range(36, 96)
TICKS_PER_SECOND = 960  # at the MIDI default of 120 bpm and 480 ticks a beat
FLUIDSYNTH_INSTALL = "apt-get install -y --no-install-recommends fluidsynth fluid-soundfont-gm"
LARGE_SFZ_SAMPLES, LARGE_SFZ_SECONDS = 200, 20.0


# The MIDI file.

def voices_per_note(program: int) -> dict[int, int]:
    """Voices a note of each key starts on the preset, at VELOCITY: its sounding attack regions."""
    regions = load_sf2(BANK, 0, program).regions
    return {key: sum(1 for region in regions if region.lokey <= key <= region.hikey and region.sample >= 0
                     and region.lovel <= VELOCITY <= region.hivel and region.trigger == "attack") for key in KEYS}


def chords(voices: int) -> list[tuple[int, int]]:
    """(channel, key) of notes whose voices add up to `voices`, spread over the channels and the keys."""
    per_note = [voices_per_note(program) for program in PROGRAMS]
    notes, total = [], 0
    for step in range(len(KEYS)):
        key = KEYS[step * 37 % len(KEYS)]  # 37 is prime to 60: every key, far apart in turn
        for channel, counts in enumerate(per_note):
            if 0 < counts[key] <= voices - total:
                notes.append((channel, key))
                total += counts[key]
    if total != voices:
        raise RuntimeError(f"the chords reach {total} voices, not {voices}")
    return notes


def write_midi(path: Path, notes: list[tuple[int, int]], seconds: float) -> Path:
    """`notes` from the start to `seconds`, on PROGRAMS (no notes: a file of no events)."""
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    if notes:
        track += [mido.Message("program_change", channel=channel, program=program)
                  for channel, program in enumerate(PROGRAMS)]
        track += [mido.Message("note_on", channel=channel, note=key, velocity=VELOCITY) for channel, key in notes]
        releases = [mido.Message("note_off", channel=channel, note=key) for channel, key in notes]
        releases[0] = releases[0].copy(time=round(seconds * TICKS_PER_SECOND))  # the rest at the same tick
        track += releases
    midi.save(path)
    return path


# FluidSynth.

FLUIDSYNTH_SETTINGS = {"synth.polyphony": POLYPHONY, "synth.cpu-cores": 1, "synth.reverb.active": 0,
                       "synth.chorus.active": 0}


def fluidsynth_command(midi: Path, output: Path) -> list[str]:
    options = [word for name, value in FLUIDSYNTH_SETTINGS.items() for word in ("-o", f"{name}={value}")]
    return ["fluidsynth", "-ni", "-F", str(output), "-r", str(RATE), *options, str(BANK), str(midi)]


def render_fluidsynth(midi: Path, output: Path) -> float:
    """fluidsynth's CPU seconds to render `midi` into `output`, its start-up included."""
    before = getrusage(RUSAGE_CHILDREN)
    done = subprocess.run(fluidsynth_command(midi, output), capture_output=True, text=True, errors="replace",
                          check=False)
    after = getrusage(RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"fluidsynth failed ({done.returncode}): {done.stderr.strip()}")
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


@dataclass(frozen=True)
class VoiceCount:
    """The voices one side sounds over a render of the chords."""

    held: tuple[int, int]  # the fewest and the most while the chords are held
    voice_seconds: float  # over the whole render
    seconds: float  # rendered, to the end of the last voice


def count_voices(counts: list[int], held_blocks: int) -> VoiceCount:
    """`counts`: voices after each block, to the end of the last voice."""
    return VoiceCount((min(counts[:held_blocks]), max(counts[:held_blocks])), sum(counts) * BLOCK / RATE,
                      len(counts) * BLOCK / RATE)


def fluidsynth_voices(notes: list[tuple[int, int]], seconds: float) -> VoiceCount | None:
    """The voices FluidSynth sounds for `notes` held `seconds`, with the renderer's settings, as libfluidsynth
    counts them after each block; None without the library."""
    try:
        library = ctypes.CDLL(ctypes.util.find_library("fluidsynth") or "libfluidsynth.so.3")
    except OSError:
        return None
    pointer, integer, text = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    for name, result, arguments in (
            ("new_fluid_settings", pointer, ()), ("fluid_settings_setint", integer, (pointer, text, integer)),
            ("fluid_settings_setnum", integer, (pointer, text, ctypes.c_double)),
            ("new_fluid_synth", pointer, (pointer,)), ("fluid_synth_sfload", integer, (pointer, text, integer)),
            ("fluid_synth_program_change", integer, (pointer, integer, integer)),
            ("fluid_synth_noteon", integer, (pointer, integer, integer, integer)),
            ("fluid_synth_noteoff", integer, (pointer, integer, integer)),
            ("fluid_synth_write_float", integer, (pointer, integer, pointer, integer, integer, pointer, integer,
                                                  integer)),
            ("fluid_synth_get_active_voice_count", integer, (pointer,)),
            ("delete_fluid_synth", None, (pointer,)), ("delete_fluid_settings", None, (pointer,))):
        function = getattr(library, name)
        function.restype, function.argtypes = result, arguments
    settings = library.new_fluid_settings()
    for name, value in FLUIDSYNTH_SETTINGS.items():
        library.fluid_settings_setint(settings, name.encode(), value)
    library.fluid_settings_setnum(settings, b"synth.sample-rate", float(RATE))
    synth = library.new_fluid_synth(settings)
    library.fluid_synth_sfload(synth, str(BANK).encode(), 1)
    for channel, program in enumerate(PROGRAMS):
        library.fluid_synth_program_change(synth, channel, program)
    for channel, key in notes:
        library.fluid_synth_noteon(synth, channel, key, VELOCITY)
    block = np.zeros(2 * BLOCK, np.float32)
    held_blocks = round(seconds * RATE / BLOCK)
    counts = []
    while not counts or counts[-1] > 0:
        if len(counts) == held_blocks:
            for channel, key in notes:
                library.fluid_synth_noteoff(synth, channel, key)
        library.fluid_synth_write_float(synth, BLOCK, block.ctypes.data, 0, 2, block.ctypes.data, 1, 2)
        counts.append(library.fluid_synth_get_active_voice_count(synth))
    library.delete_fluid_synth(synth)
    library.delete_fluid_settings(settings)
    return count_voices(counts, held_blocks)


# liveengine.

def liveengine_player(midi: Path) -> MidiPlayer:
    return MidiPlayer(BANK, midi, sample_rate=RATE, block=BLOCK, interpolation="cubic", polyphony=POLYPHONY)


def render_liveengine(midi: Path, output: Path) -> float:
    """The render loop's CPU seconds for `midi` into `output`, the bank loaded before."""
    player = liveengine_player(midi)
    began = time.process_time()
    with soundfile.SoundFile(output, "w", samplerate=RATE, channels=2, subtype="PCM_16") as file:
        for block in player.render():
            file.write(block)
    return time.process_time() - began


def liveengine_voices(midi: Path, seconds: float) -> VoiceCount:
    """The voices liveengine sounds for `midi`, whose chords are held `seconds`, by its telemetry after each block."""
    player = liveengine_player(midi)
    counts = [player.engine.telemetry().voices for _ in player.render(chunk_frames=BLOCK)]
    return count_voices(counts, round(seconds * RATE / BLOCK))


def run_render_costs(quick: bool, directory: Path):
    counts = (64, 256, 512)
    seconds, rounds = (3.0, 1) if quick else (10.0, 5)
    print(f"Sampler against FluidSynth {fluidsynth_version()}: {BANK.name}, programs {', '.join(map(str, PROGRAMS))} "
          f"on channels 1-{len(PROGRAMS)}, chords held {seconds:g} s, {RATE} Hz, {BLOCK}-frame blocks, "
          f"{POLYPHONY} voices of polyphony:")
    print("  fluidsynth: " + " ".join(fluidsynth_command(directory / "FILE.mid", directory / "OUT.wav")))
    print("  liveengine: midi.player.MidiPlayer, cubic interpolation, rendered and written in this process")
    notes = {n: chords(n) for n in counts}
    files = {n: write_midi(directory / f"chords{n}.mid", notes[n], seconds) for n in counts}
    empty = write_midi(directory / "empty.mid", [], 0.0)
    sides = {"liveengine": {n: liveengine_voices(files[n], seconds) for n in counts},
             "fluidsynth": {n: fluidsynth_voices(notes[n], seconds) for n in counts}}
    if None in sides["fluidsynth"].values():
        print("  libfluidsynth cannot be loaded here: FluidSynth's voices cannot be counted")
        return
    print("  voices while held (fewest-most in any block), voice-seconds and seconds to the end of the last voice:")
    for n in counts:
        print(f"    {n:>4}: " + "; ".join(f"{side} {count[n].held[0]}-{count[n].held[1]}, {count[n].voice_seconds:.0f} "
                                          f"voice-s in {count[n].seconds:.2f} s" for side, count in sides.items()))

    renders = {"liveengine": lambda midi: render_liveengine(midi, directory / "ours.wav"),
               "fluidsynth": lambda midi: render_fluidsynth(midi, directory / "theirs.wav")}
    cpu = {(side, n): [] for side in renders for n in counts}
    start_up = []
    for round_number in range(rounds):
        for n in counts:
            for side in list(renders)[::1 if round_number % 2 == 0 else -1]:
                cpu[side, n].append(renders[side](files[n]))
            start_up.append(render_fluidsynth(empty, directory / "empty.wav"))
    fluidsynth_start_up = float(np.median(start_up))
    ours_seconds, theirs_seconds = (soundfile.info(directory / name).duration for name in ("ours.wav", "theirs.wav"))
    print(f"  the files rendered for {counts[-1]} voices: liveengine {ours_seconds:.2f} s, fluidsynth "
          f"{theirs_seconds:.2f} s; fluidsynth's start-up and loading, {fluidsynth_start_up:.3f} CPU s (median of "
          f"{len(start_up)}), are taken off its times")
    print(f"  voice-seconds per CPU-second, CPU seconds the median of {rounds} round(s):")
    print(f"  {'voices':>6} {'liveengine CPU s':>17} {'voice-s/CPU-s':>14} {'fluidsynth CPU s':>17} "
          f"{'voice-s/CPU-s':>14} {'liveengine/fluidsynth':>22}")
    for n in counts:
        ours = float(np.median(cpu["liveengine", n]))
        theirs = float(np.median(cpu["fluidsynth", n])) - fluidsynth_start_up
        our_rate = sides["liveengine"][n].voice_seconds / ours
        their_rate = sides["fluidsynth"][n].voice_seconds / theirs
        print(f"  {n:>6} {ours:>17.3f} {our_rate:>14.0f} {theirs:>17.3f} {their_rate:>14.0f} "
              f"{our_rate / their_rate:>22.2f}")


def fluidsynth_version() -> str:
    done = subprocess.run(["fluidsynth", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.split("version")[-1].split()[0] if "version" in done.stdout else "(version unknown)"


# Loading a large SFZ file.

def write_large_sfz(directory: Path) -> Path:
    """LARGE_SFZ_SAMPLES stereo 16-bit WAV files of LARGE_SFZ_SECONDS each, a region each, two per key."""
    frames = round(LARGE_SFZ_SECONDS * RATE)
    time_axis = np.arange(frames) / RATE
    regions = []
    for number in range(LARGE_SFZ_SAMPLES):
        key, layer = 28 + number // 2, number % 2
        tone = 0.3 * np.sin(2 * np.pi * 440 * 2 ** ((key - 69) / 12) * time_axis)
        soundfile.write(directory / f"sample{number:03d}.wav", np.stack([tone, tone[::-1]], axis=1), RATE,
                        subtype="PCM_16")
        regions.append(f"<region> sample=sample{number:03d}.wav key={key} lovel={1 + 64 * layer} "
                       f"hivel={64 + 63 * layer}")
    path = directory / "large.sfz"
    path.write_text("\n".join(regions) + "\n")
    return path


def resident_bytes() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def measure_load(sfz: str, head_frames: int, answer):
    """In a fresh process: load `sfz` into an engine; send (seconds, CPU seconds, VmRSS growth, head bytes)."""
    from liveengine.engine import Engine, EngineSettings
    from liveengine.instruments.samples import load_heads
    from liveengine.instruments.sfz import load_sfz
    engine = Engine(EngineSettings(sample_rate=RATE, max_block=BLOCK))
    before, began, cpu_began = resident_bytes(), time.perf_counter(), time.process_time()
    instrument = load_sfz(sfz)
    loaded = load_heads(instrument, head_frames)
    engine.install_sampler(0, instrument, loaded.samples)
    answer.send((time.perf_counter() - began, time.process_time() - cpu_began, resident_bytes() - before,
                 loaded.head_bytes))


def load_in_a_fresh_process(sfz: Path, head_frames: int) -> tuple[float, float, int, int]:
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=measure_load, args=(str(sfz), head_frames, sending))
    process.start()
    figures = receiving.recv()
    process.join()
    return figures


def run_load_costs(quick: bool, directory: Path):
    from liveengine.instruments.samples import DEFAULT_HEAD_FRAMES
    sfz = write_large_sfz(directory)
    size = sum(path.stat().st_size for path in directory.glob("sample*.wav"))
    print(f"\nLoading a large SFZ file written for this benchmark: {LARGE_SFZ_SAMPLES} stereo 16-bit WAV files of "
          f"{LARGE_SFZ_SECONDS:g} s at {RATE} Hz ({size / 1e6:.0f} MB), each loaded in a fresh process, from the page "
          "cache:")
    modes = (("streamed (default)", DEFAULT_HEAD_FRAMES), ("decoded in full", 1 << 31))
    for _ in range(1 if quick else 2):
        for name, head_frames in modes:
            seconds, cpu, grown, heads = load_in_a_fresh_process(sfz, head_frames)
            print(f"  {name:<19} {seconds:6.2f} s ({cpu:.2f} CPU s), resident memory +{grown / 1e6:7.1f} MB, "
                  f"heads {heads / 1e6:7.1f} MB")


def run_sampler_benchmarks(quick: bool):
    if shutil.which("fluidsynth") is None or not BANK.exists():
        print(f"Sampler benchmark skipped: it needs fluidsynth and {BANK} (`{FLUIDSYNTH_INSTALL}`)")
        return
    with tempfile.TemporaryDirectory(prefix="samplerbench-") as name:
        run_render_costs(quick, Path(name))
    with tempfile.TemporaryDirectory(prefix="samplerbench-") as name:
        run_load_costs(quick, Path(name))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s renders, one round, one load of each kind")
    args = parser.parse_args(argv)
    prepare_kernels(report=lambda line: None)
    run_sampler_benchmarks(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
