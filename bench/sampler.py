"""The sampler benchmark, `python bench/sampler.py [--quick] [--part whole|voices|loading]` in a
checkout: liveengine's sampler against FluidSynth, the same MIDI files through the same SF2 bank,
as a user runs them; what each sounds for its CPU time; and what streaming saves when a large SFZ
file loads.

Whole processes (`--part whole`). Four MIDI files written here, each rendered to a WAV file at
44.1 and 48 kHz by the two commands as a user types them, with the same polyphony (1024 voices):
- `liveengine play FluidR3_GM.sf2 --midi FILE -o OUT.wav --sample-rate RATE --polyphony 1024 --subtype PCM_16`
  (the venv's installed command; cubic interpolation, 64-frame blocks, its defaults; 16-bit samples, as
  fluidsynth writes by default) with
  `--seconds` set to the length fluidsynth renders (the file, its voices until they fall below
  FluidSynth's noise floor, and two seconds), measured by a render not counted;
- `fluidsynth -ni -F OUT.wav -r RATE` on one core, reverb and chorus off, at its default
  interpolation, 4th order (no setting reaches it from the command line).
The workloads: (1) held chords, 256 voices on six presets struck together and held; (2) a dense
orchestral file, 15 General MIDI programs each striking and releasing notes in turn, 110 notes
held at every moment; (3) fast repeated short notes on piano and plucked programs, 280 note
starts a second, where starting voices dominates; (4) a sparse file, chords of 16 voices on
piano and strings, where start-up and loading dominate. Cost is each command's whole process, as
os.wait4 reports it: CPU time (user + system, start-up, loading and writing the file included)
and peak resident memory (ru_maxrss), the command forked from a small launcher so that its peak
is its own, not this benchmark's carried over an exec. liveengine runs as an installed wheel
does, its modules byte-compiled, after a first run not counted (which also compiles its kernels
if their cache is cold). The sides alternate round by round; each figure is the median of the
rounds. The ratio is fluidsynth's CPU time over liveengine's: above 1, liveengine is faster.
Issue 15 requires it at least 1.0 and liveengine's peak memory no higher than fluidsynth's. Both
renders are checked for the same length and for sound, and liveengine's own count of voices
stolen (polyphony reached) and notes refused is printed beside the table.

Voice-seconds per CPU-second (`--part voices`). The held chords at 64, 256 and 512 voices,
rendered at 44.1 kHz in 64-frame blocks with room for 1024 voices, through the releases to
silence (FluidSynth adds two seconds of it): FluidSynth's fast renderer as above, and
liveengine's `MidiPlayer`, what `liveengine play` runs, in this process. Work is voice-seconds,
each side's own: the voices it sounds in each block, added up over the render. liveengine's come
from its telemetry, FluidSynth's from libfluidsynth (fluid_synth_get_active_voice_count) playing
the same notes with the same settings, block by block; the two differ only in the releases,
where FluidSynth ends a voice once it falls below its noise floor. Cost is CPU time. For
fluidsynth, the child process's less that of the same command on a MIDI file with no events: its
start-up and loading the bank. For liveengine, this process's (time.process_time) over the
render loop alone: posting the file's events, serving the sample streamer, the kernel, and
writing the WAV file, as fluidsynth's time includes its own writing; loading and compiling are
outside it.

Loading (`--part loading`). A large SFZ file written here (200 stereo 16-bit WAV files of 20 s
each, 706 MB) is loaded in a fresh process with its samples streamed (the default: the first
64k frames of each decoded at load, the rest read when a voice plays it) and decoded in full:
load time, and how much the process's resident memory (VmRSS) grows. The files have just been
written and come from the page cache, so the time is decoding's, not the disk's.
"""

import argparse
import ctypes
import ctypes.util
import multiprocessing
import os
import re
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
RATE = 44100  # of the voice-seconds view and the loading
RATES = (44100, 48000)  # of the whole processes
BLOCK = 64
POLYPHONY = 1024
VELOCITY = 100
PROGRAMS = (48, 49, 50, 61, 89, 0)  # on channels 1-6: strings, slow strings, synth strings, brass, warm pad, piano
KEYS = range(36, 96)
TICKS_PER_SECOND = 960  # at the MIDI default of 120 bpm and 480 ticks a beat
SILENT_PEAK = 1e-4  # -80 dBFS: a render whose peak is below it made no sound
FLUIDSYNTH_INSTALL = "apt-get install -y --no-install-recommends fluidsynth fluid-soundfont-gm"
LARGE_SFZ_SAMPLES, LARGE_SFZ_SECONDS = 200, 20.0
MELODIC_CHANNELS = tuple(channel for channel in range(16) if channel != 9)  # channel 10 plays drums
ORCHESTRA = (40, 41, 42, 43, 48, 46, 56, 57, 58, 60, 68, 70, 71, 73, 0)  # strings, harp, brass, winds, piano
ORCHESTRA_HELD = 110  # notes held at every moment, over the 15 programs
ORCHESTRA_NOTE_SECONDS = 2.0
PLUCKED = (0, 1, 6, 24, 25, 45, 46, 105)  # pianos, harpsichord, guitars, pizzicato, harp, banjo
PLUCKED_STARTS_PER_SECOND = 280
PLUCKED_NOTE_SECONDS = 0.02
SPARSE_VOICES, SPARSE_CHORD_SECONDS = 16, 2.0
SPARSE_PROGRAMS = (0, 48)  # piano and strings


# The MIDI files.

@dataclass(frozen=True)
class Note:
    start: float  # seconds
    end: float
    channel: int
    key: int
    velocity: int = VELOCITY


def write_midi(path: Path, programs: dict[int, int], notes: list[Note], seconds: float) -> Path:
    """A file of `notes` on channels given `programs` at its start, ending at `seconds`."""
    timed = [(0, 0, mido.Message("program_change", channel=channel, program=program))
             for channel, program in programs.items()]
    for note in notes:  # at the same tick a note-off comes before a note-on, so a key struck again sounds
        timed.append((round(note.start * TICKS_PER_SECOND), 2,
                      mido.Message("note_on", channel=note.channel, note=note.key, velocity=note.velocity)))
        timed.append((round(note.end * TICKS_PER_SECOND), 1,
                      mido.Message("note_off", channel=note.channel, note=note.key)))
    timed.sort(key=lambda event: event[:2])
    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    tick = 0
    for at, _, message in timed:
        track.append(message.copy(time=at - tick))
        tick = at
    track.append(mido.MetaMessage("end_of_track", time=max(0, round(seconds * TICKS_PER_SECOND) - tick)))
    midi.save(path)
    return path


def voices_per_note(program: int) -> dict[int, int]:
    """Voices a note of each key starts on the preset, at VELOCITY: its sounding attack regions."""
    regions = load_sf2(BANK, 0, program).regions
    return {key: sum(1 for region in regions if region.lokey <= key <= region.hikey and region.sample >= 0
                     and region.lovel <= VELOCITY <= region.hivel and region.trigger == "attack") for key in KEYS}


def chords(voices: int, programs: tuple[int, ...] = PROGRAMS, shift: int = 0) -> list[tuple[int, int]]:
    """(channel, key) of notes whose voices add up to `voices`, spread over the channels (one a program) and
    the keys; `shift` starts the keys elsewhere."""
    per_note = [voices_per_note(program) for program in programs]
    notes, total = [], 0
    for step in range(len(KEYS)):
        key = KEYS[(step * 37 + shift) % len(KEYS)]  # 37 is prime to 60: every key, far apart in turn
        for channel, counts in enumerate(per_note):
            if 0 < counts[key] <= voices - total:
                notes.append((channel, key))
                total += counts[key]
    if total != voices:
        raise RuntimeError(f"the chords reach {total} voices, not {voices}")
    return notes


def held(chord: list[tuple[int, int]], seconds: float) -> list[Note]:
    """The (channel, key) notes of `chord` struck together at the start and held `seconds`."""
    return [Note(0.0, seconds, channel, key) for channel, key in chord]


def orchestral_notes(seconds: float) -> list[Note]:
    """Each program holds its share of ORCHESTRA_HELD notes of ORCHESTRA_NOTE_SECONDS, striking one as the
    oldest ends, its keys stepping by fifths over two octaves from its own register, velocities varied."""
    notes = []
    for index, channel in enumerate(MELODIC_CHANNELS):
        held = ORCHESTRA_HELD // len(ORCHESTRA) + (index < ORCHESTRA_HELD % len(ORCHESTRA))
        step = ORCHESTRA_NOTE_SECONDS / held
        low = 40 + 3 * index % 24
        for number in range(round(seconds / step)):
            start = number * step + index * step / len(ORCHESTRA)  # the channels strike in turn
            notes.append(Note(start, min(start + ORCHESTRA_NOTE_SECONDS, seconds), channel, low + number * 7 % 24,
                              60 + number * 23 % 60))
    return notes


def plucked_notes(seconds: float) -> list[Note]:
    """PLUCKED_STARTS_PER_SECOND short notes over the PLUCKED programs, each key struck four times in a row."""
    per_channel = PLUCKED_STARTS_PER_SECOND / len(PLUCKED)
    notes = []
    for channel in range(len(PLUCKED)):
        for number in range(round(seconds * per_channel)):
            start = (number + channel / len(PLUCKED)) / per_channel
            notes.append(Note(start, start + PLUCKED_NOTE_SECONDS, channel, 48 + (number // 4 * 5 + 3 * channel) % 30,
                              60 + number * 17 % 60))
    return notes


def sparse_notes(seconds: float) -> list[Note]:
    """Chords of SPARSE_VOICES voices on SPARSE_PROGRAMS, a new one every SPARSE_CHORD_SECONDS."""
    notes = []
    for number in range(round(seconds / SPARSE_CHORD_SECONDS)):
        start = number * SPARSE_CHORD_SECONDS
        notes += [Note(start, start + SPARSE_CHORD_SECONDS, channel, key)
                  for channel, key in chords(SPARSE_VOICES, SPARSE_PROGRAMS, shift=5 * number)]
    return notes


@dataclass(frozen=True)
class Workload:
    name: str
    midi: Path
    seconds: float  # the file's length


def write_workloads(directory: Path, quick: bool) -> list[Workload]:
    lengths = {"held chords": 3.0, "orchestral": 6.0, "fast plucked": 4.0, "sparse": 4.0} if quick else \
        {"held chords": 10.0, "orchestral": 60.0, "fast plucked": 40.0, "sparse": 20.0}
    files = {"held chords": (dict(enumerate(PROGRAMS)), held(chords(256), lengths["held chords"])),
             "orchestral": (dict(zip(MELODIC_CHANNELS, ORCHESTRA)), orchestral_notes(lengths["orchestral"])),
             "fast plucked": (dict(enumerate(PLUCKED)), plucked_notes(lengths["fast plucked"])),
             "sparse": (dict(enumerate(SPARSE_PROGRAMS)), sparse_notes(lengths["sparse"]))}
    return [Workload(name, write_midi(directory / f"{name.replace(' ', '_')}.mid", programs, notes, lengths[name]),
                     lengths[name]) for name, (programs, notes) in files.items()]


# FluidSynth's command, shared by both views.

FLUIDSYNTH_SETTINGS = {"synth.polyphony": POLYPHONY, "synth.cpu-cores": 1, "synth.reverb.active": 0,
                       "synth.chorus.active": 0}


def fluidsynth_command(midi: Path, output: Path, rate: int = RATE) -> list[str]:
    options = [word for name, value in FLUIDSYNTH_SETTINGS.items() for word in ("-o", f"{name}={value}")]
    return ["fluidsynth", "-ni", "-F", str(output), "-r", str(rate), *options, str(BANK), str(midi)]


def fluidsynth_version() -> str:
    done = subprocess.run(["fluidsynth", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.split("version")[-1].split()[0] if "version" in done.stdout else "(version unknown)"


# Whole processes.

def liveengine_command(midi: Path, output: Path, rate: int, seconds: float) -> list[str]:
    """The venv's installed `liveengine play`, rendering `seconds` (as long as fluidsynth does)."""
    return [str(Path(sys.executable).with_name("liveengine")), "play", str(BANK), "--midi", str(midi),
            "-o", str(output), "--sample-rate", str(rate), "--polyphony", str(POLYPHONY), "--subtype", "PCM_16",
            "--seconds", repr(seconds)]


@dataclass(frozen=True)
class ProcessCost:
    cpu_seconds: float  # user + system
    peak_mb: float  # resident
    log: str  # what it printed


# Runs a command as its own child and reports that child's CPU time and peak memory. A process's peak
# resident memory (ru_maxrss) carries over an exec from the process image it replaced, so a command spawned
# from this benchmark, which holds the bank's tables and numpy, would report at least this process's size:
# the command is forked from this small launcher instead.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_utime + usage.ru_stime!r} {usage.ru_maxrss}")
"""


def run_process(command: list[str], log: Path, environment: dict[str, str] | None = None) -> ProcessCost:
    """Run `command` to its end, its output into `log`; its own CPU time and peak memory."""
    report = log.with_suffix(".cost")
    launched = [sys.executable, "-c", LAUNCHER, str(report), *command]
    pid = os.posix_spawnp(launched[0], launched, environment or os.environ, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), (os.POSIX_SPAWN_DUP2, 1, 2)])
    _, status = os.waitpid(pid, 0)
    printed = log.read_text(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the launcher of {' '.join(command)} failed: {printed.strip()}")
    code, cpu_seconds, peak_kb = report.read_text().split()
    if int(code) != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({code}): {printed.strip()}")
    return ProcessCost(float(cpu_seconds), int(peak_kb) * 1024 / 1e6, printed)


def check_renders(workload: Workload, outputs: dict[str, Path]) -> list[str]:
    """What is wrong with the two renders of `workload`: a different length, or silence."""
    lengths = {side: soundfile.info(path).frames for side, path in outputs.items()}
    problems = []
    if len(set(lengths.values())) > 1:
        problems.append(f"{workload.name}: lengths differ, "
                        + ", ".join(f"{side} {frames} frames" for side, frames in lengths.items()))
    for side, path in outputs.items():
        if np.abs(soundfile.read(path, dtype="float32")[0]).max() < SILENT_PEAK:
            problems.append(f"{workload.name}: {side}'s render is silent")
    return problems


def liveengine_voice_report(log: str) -> str:
    """The line of `liveengine play`'s output that counts stolen voices and refused notes."""
    found = re.search(r"^Voices: .*$", log, re.MULTILINE)
    return found.group(0) if found else "(no voice report)"


def fluidsynth_seconds(workload: Workload, rate: int, directory: Path) -> float:
    """How long fluidsynth renders `workload`: the file, its voices until they fall below its noise floor, and
    two seconds (a render not counted, which also brings the bank into the page cache)."""
    output = directory / "length.wav"
    run_process(fluidsynth_command(workload.midi, output, rate), directory / "length.log")
    return soundfile.info(output).frames / rate


def installed_environment(directory: Path) -> dict[str, str]:
    """liveengine's environment as an installed wheel runs: its modules byte-compiled once (pip compiles
    them at install; an editable install has no byte code where PYTHONDONTWRITEBYTECODE is set, and then
    compiles every module from source at every start)."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = str(directory / "bytecode")
    return environment


def run_whole_processes(quick: bool, directory: Path):
    rounds = 1 if quick else 5
    workloads = write_workloads(directory, quick)
    seconds = {(workload.name, rate): fluidsynth_seconds(workload, rate, directory)
               for workload in workloads for rate in RATES}
    sides = {"liveengine": lambda workload, output, rate: liveengine_command(workload.midi, output, rate,
                                                                             seconds[workload.name, rate]),
             "fluidsynth": lambda workload, output, rate: fluidsynth_command(workload.midi, output, rate)}
    environments = {"liveengine": installed_environment(directory), "fluidsynth": dict(os.environ)}
    # Not counted: byte-compiles liveengine's modules, and compiles its kernels if their cache is cold.
    run_process(sides["liveengine"](workloads[-1], directory / "first.wav", RATE), directory / "first.log",
                environments["liveengine"])
    print(f"Whole processes, liveengine against FluidSynth {fluidsynth_version()}: {BANK.name}, {POLYPHONY} voices "
          f"of polyphony, CPU time (user + system) and peak resident memory of each process, median of {rounds} "
          "round(s), the sides alternating:")
    example = workloads[0]
    for side, command in sides.items():
        print(f"  {side}: " + " ".join(command(example, directory / "OUT.wav", RATE)))
    for workload in workloads:
        print(f"  {workload.name}: a file of {workload.seconds:g} s, rendered "
              + ", ".join(f"{seconds[workload.name, rate]:.2f} s at {rate} Hz" for rate in RATES))
    costs = {(side, workload.name, rate): [] for side in sides for workload in workloads for rate in RATES}
    for round_number in range(rounds):
        for rate in RATES:
            for workload in workloads:
                for side in list(sides)[::1 if round_number % 2 == 0 else -1]:
                    output = directory / f"{side}-{workload.midi.stem}-{rate}.wav"
                    costs[side, workload.name, rate].append(run_process(
                        sides[side](workload, output, rate), directory / f"{side}.log", environments[side]))
    for rate in RATES:
        print_whole_table(rate, workloads, costs)
        for workload in workloads:
            report = liveengine_voice_report(costs["liveengine", workload.name, rate][-1].log)
            print(f"    {workload.name}, liveengine: {report}")
        problems = [problem for workload in workloads for problem in check_renders(workload, {
            side: directory / f"{side}-{workload.midi.stem}-{rate}.wav" for side in sides})]
        for problem in problems:
            print(f"    sanity check failed: {problem}")
        if not problems:
            print("    renders checked: each workload's two files have the same length, and both sound")


def print_whole_table(rate: int, workloads: list[Workload], costs: dict):
    print(f"\n  at {rate} Hz:")
    print(f"  {'workload':<13} {'liveengine CPU s':>16} {'fluidsynth CPU s':>16} {'ratio':>6} {'>= 1.0':>6} "
          f"{'liveengine MB':>13} {'fluidsynth MB':>13} {'<=':>4}")
    for workload in workloads:
        ours, theirs = (costs[side, workload.name, rate] for side in ("liveengine", "fluidsynth"))
        our_cpu, their_cpu = (float(np.median([cost.cpu_seconds for cost in side])) for side in (ours, theirs))
        our_mb, their_mb = (float(np.median([cost.peak_mb for cost in side])) for side in (ours, theirs))
        ratio = their_cpu / our_cpu
        print(f"  {workload.name:<13} {our_cpu:>16.2f} {their_cpu:>16.2f} {ratio:>6.2f} "
              f"{'yes' if ratio >= 1.0 else 'NO':>6} {our_mb:>13.0f} {their_mb:>13.0f} "
              f"{'yes' if our_mb <= their_mb else 'NO':>4}")


# Voice-seconds per CPU-second.

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


# (liveengine's side of the voice-seconds view)

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
    print(f"\nVoice-seconds per CPU-second, the sampler against FluidSynth {fluidsynth_version()}: {BANK.name}, "
          f"programs {', '.join(map(str, PROGRAMS))} on channels 1-{len(PROGRAMS)}, chords held {seconds:g} s, "
          f"{RATE} Hz, {BLOCK}-frame blocks, {POLYPHONY} voices of polyphony:")
    print("  fluidsynth: " + " ".join(fluidsynth_command(directory / "FILE.mid", directory / "OUT.wav")))
    print("  liveengine: midi.player.MidiPlayer, cubic interpolation, rendered and written in this process")
    notes = {n: chords(n) for n in counts}
    files = {n: write_midi(directory / f"chords{n}.mid", dict(enumerate(PROGRAMS)),
                           held(notes[n], seconds), seconds) for n in counts}
    empty = write_midi(directory / "empty.mid", {}, [], 0.0)
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


PARTS = {"whole": run_whole_processes, "voices": run_render_costs, "loading": run_load_costs}


def run_sampler_benchmarks(quick: bool, parts: list[str]):
    if shutil.which("fluidsynth") is None or not BANK.exists():
        print(f"Sampler benchmark skipped: it needs fluidsynth and {BANK} (`{FLUIDSYNTH_INSTALL}`)")
        return
    for part in parts:
        with tempfile.TemporaryDirectory(prefix="samplerbench-") as name:
            PARTS[part](quick, Path(name))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="short files, one round, one load of each kind: a smoke run")
    parser.add_argument("--part", choices=list(PARTS), action="append",
                        help="run only this part (repeatable; default: all three)")
    args = parser.parse_args(argv)
    prepare_kernels(report=lambda line: None)
    run_sampler_benchmarks(args.quick, args.part or list(PARTS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
