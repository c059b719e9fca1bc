"""liveengine's synth voice against SuperCollider's scsynth: `python bench/synth.py [--quick]`,
the same as `liveengine bench --part synth`.

A band-limited saw through a resonant 2 kHz low-pass, an ADSR envelope and a pan, 64, 256
and 512 voices held together for 10 s (3 s with --quick), rendered offline by both: scsynth
in non-real-time mode from a score and SynthDef written without sclang, liveengine through
its offline renderer. Prints voice-seconds per CPU-second for each and their ratio, CPU time
counted less a render of the same length with no voices, the sides alternating over five
rounds (one with --quick). One voice is first checked on each side: length, pitch, low-pass
and silence after its release.

scsynth comes from Debian: apt-get install -y --no-install-recommends supercollider-server

Figures are for comparison within one run: the machines are shared and noisy.
"""

import sys

from liveengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--part", "synth", *sys.argv[1:]]))
