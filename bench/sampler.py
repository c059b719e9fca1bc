"""liveengine's sampler against FluidSynth: `python bench/sampler.py [--quick]`, the same as
`liveengine bench --part sampler`.

The same MIDI file (chords of 64, 256 and 512 voices on six channels, held 10 s; 3 s with
--quick) through FluidR3_GM.sf2, rendered offline by FluidSynth's fast renderer and by
liveengine's MIDI player: voice-seconds per CPU-second for each and their ratio, the voices
counted on both sides first, the sides alternating over five rounds (one with --quick). Then
the load time and resident memory of a large SFZ file written for the purpose, with its
samples streamed and decoded in full.

FluidSynth and the bank come from Debian: apt-get install -y --no-install-recommends fluidsynth fluid-soundfont-gm

Figures are for comparison within one run: the machines are shared and noisy.
"""

import sys

from liveengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--part", "sampler", *sys.argv[1:]]))
