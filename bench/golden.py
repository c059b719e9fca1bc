"""Renders that must not move when the code is reorganised: `python bench/golden.py DIR` writes
them to DIR with a manifest of their samples' SHA-256 sums; `--compare OLD_DIR` then names every render
whose samples differ from OLD_DIR's and by how much.

The set: the demo show (30 s), every shipped synth patch playing a phrase, and a General MIDI
file (programs, drums, controllers, pitch bend) through FluidR3_GM with `play`. Each is made by
the `liveengine` command as a user types it, so the check does not depend on the package's
inner layout. Bit-identical output is the goal; a difference must be explained by a named fix.
"""

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
BANK = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def liveengine(*args) -> None:
    result = subprocess.run([sys.executable, "-m", "liveengine.cli", *map(str, args)], capture_output=True,
                            text=True, cwd=ROOT, timeout=900)
    if result.returncode != 0:
        raise SystemExit(f"liveengine {' '.join(map(str, args))} failed:\n{result.stdout}{result.stderr}")


def phrase(path: Path) -> Path:
    """A short phrase on channel 1: a melody, a chord, modulation, a bend and a sustained note."""
    track = mido.MidiTrack()
    events = [(0, "note_on", 60, 100), (240, "note_off", 60, 0), (0, "note_on", 64, 80), (240, "note_off", 64, 0),
              (0, "note_on", 67, 110), (0, "note_on", 72, 60), (0, "note_on", 76, 90), (960, "note_off", 67, 0),
              (0, "note_off", 72, 0), (0, "note_off", 76, 0), (0, "note_on", 48, 127)]
    for delta, kind, note, velocity in events:
        track.append(mido.Message(kind, note=note, velocity=velocity, time=delta))
    track.append(mido.Message("control_change", control=1, value=100, time=240))
    track.append(mido.Message("pitchwheel", pitch=4096, time=240))
    track.append(mido.Message("note_off", note=48, velocity=0, time=480))
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(path)
    return path


def general_midi(path: Path) -> Path:
    """Four channels of General MIDI: piano, strings, bass and drums, with volume, pan and a bend."""
    midi = mido.MidiFile(ticks_per_beat=480)
    for channel, program, notes in ((0, 0, [60, 64, 67, 72]), (1, 48, [48, 55, 60]), (2, 33, [36, 43]),
                                    (9, 0, [36, 38, 42, 46])):
        track = mido.MidiTrack()
        track.append(mido.Message("program_change", channel=channel, program=program, time=0))
        track.append(mido.Message("control_change", channel=channel, control=7, value=100 - 10 * channel % 40))
        track.append(mido.Message("control_change", channel=channel, control=10, value=32 + 20 * (channel % 4)))
        for beat in range(8):
            note = notes[beat % len(notes)]
            track.append(mido.Message("note_on", channel=channel, note=note, velocity=50 + 9 * beat, time=0))
            if channel == 1 and beat == 4:
                track.append(mido.Message("pitchwheel", channel=channel, pitch=-2048, time=120))
                track.append(mido.Message("note_off", channel=channel, note=note, velocity=0, time=360))
            else:
                track.append(mido.Message("note_off", channel=channel, note=note, velocity=0, time=480))
        midi.tracks.append(track)
    midi.save(path)
    return path


def samples_sum(path: Path) -> str:
    """SHA-256 of a render's samples and shape (a float WAV's PEAK chunk carries the time it was written)."""
    samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    return hashlib.sha256(f"{rate} {samples.shape}".encode() + samples.tobytes()).hexdigest()


def render_all(directory: Path) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    renders = {"demo.wav": lambda out: liveengine("render", ROOT / "configs" / "demo.toml", "-o", out,
                                                  "--seconds", "30", "--subtype", "FLOAT")}
    melody = phrase(directory / "phrase.mid")
    for patch in sorted((ROOT / "patches").glob("*.toml")):
        renders[f"patch-{patch.stem}.wav"] = lambda out, name=patch.stem: liveengine(
            "play", name, "--midi", melody, "-o", out, "--subtype", "FLOAT")
    if BANK.exists():
        song = general_midi(directory / "general-midi.mid")
        renders["general-midi.wav"] = lambda out: liveengine("play", BANK, "--midi", song, "-o", out,
                                                             "--subtype", "FLOAT")
    manifest = {}
    for name, render in renders.items():
        render(directory / name)
        manifest[name] = samples_sum(directory / name)
        print(f"{manifest[name][:16]}  {name}", flush=True)
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def compare(new: Path, old: Path) -> int:
    """Names each render of `new` whose samples differ from `old`'s; 1 if any does."""
    old_manifest = json.loads((old / "manifest.json").read_text())
    new_manifest = json.loads((new / "manifest.json").read_text())
    moved = 0
    for name in sorted(old_manifest.keys() | new_manifest.keys()):
        if name not in old_manifest or name not in new_manifest:
            print(f"{name}: only in {'the new' if name in new_manifest else 'the old'} set")
            moved += 1
        elif old_manifest[name] != new_manifest[name]:
            before, _ = soundfile.read(old / name, dtype="float64", always_2d=True)
            after, _ = soundfile.read(new / name, dtype="float64", always_2d=True)
            if before.shape != after.shape:
                print(f"{name}: {before.shape[0]} frames before, {after.shape[0]} after")
            else:
                difference = np.abs(before - after).max()
                print(f"{name}: differs, at most {20 * np.log10(max(difference, 1e-300)):.1f} dBFS")
            moved += 1
    print(f"{len(new_manifest) - moved} of {len(new_manifest)} renders bit-identical")
    return 1 if moved else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="where the renders and their manifest go")
    parser.add_argument("--compare", type=Path, metavar="OLD_DIR", help="a directory an earlier run wrote")
    args = parser.parse_args()
    render_all(args.directory)
    return compare(args.directory, args.compare) if args.compare else 0


if __name__ == "__main__":
    sys.exit(main())
