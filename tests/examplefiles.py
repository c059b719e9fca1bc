"""The files the README's scripting examples name, made real: "Piano.sfz" (one region of a constant
level, so a note sounds from its very first sample), "song.mid" (a short General MIDI song) and
the General MIDI bank FluidR3_GM, where Debian's fluid-soundfont-gm is installed."""

from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

BANK = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
needs_bank = pytest.mark.skipif(not BANK.is_file(), reason="FluidR3_GM (Debian fluid-soundfont-gm) is not installed")
RELEASE_SECONDS = 0.01  # the piano's release


def piano(folder: Path, sample_rate: int = 48000) -> Path:
    """An SFZ file whose one region plays a constant level: a note sounds from its very first sample."""
    soundfile.write(folder / "dc.wav", np.full(sample_rate, 0.5, np.float32), sample_rate)
    (folder / "Piano.sfz").write_text(f"<region> sample=dc.wav pitch_keycenter=60 ampeg_release={RELEASE_SECONDS}\n")
    return folder / "Piano.sfz"


def song(path: Path) -> Path:
    """A short General MIDI file: a melody on a piano, a chord on strings (program 48), a bend."""
    track = mido.MidiTrack()
    track.append(mido.Message("program_change", channel=1, program=48, time=0))
    for key, velocity in ((60, 90), (64, 70), (67, 110)):
        track.append(mido.Message("note_on", note=key, velocity=velocity, time=0))
        track.append(mido.Message("note_off", note=key, velocity=0, time=240))
    for key in (48, 55, 64):
        track.append(mido.Message("note_on", channel=1, note=key, velocity=80, time=0))
    track.append(mido.Message("pitchwheel", channel=1, pitch=4096, time=240))
    for key in (48, 55, 64):
        track.append(mido.Message("note_off", channel=1, note=key, velocity=0, time=240 if key == 48 else 0))
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    midi.save(path)
    return path
