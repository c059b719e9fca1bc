"""Benchmark of the real-time core: `python bench/core.py [--quick]`, the same as `liveengine bench`.

Prints render cost per block (p50/p99/p99.9) for 64, 256 and 512 voices at 64 frames and
48 kHz, voice-seconds per CPU-second, and live cycle delivery on a private JACK server with
and without a hostile Python thread, next to a sounddevice Python callback under the same
load. Figures are for comparison within one run: the machines are shared and noisy.
"""

import sys

from liveengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
