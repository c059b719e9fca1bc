"""liveengine's benchmarks: `python bench/core.py [--quick] [--part core|timecode|osc|midi]`, the same
as `liveengine bench`.

core: render cost per block (p50/p99/p99.9) for 64, 256 and 512 voices at 64 frames and
48 kHz, voice-seconds per CPU-second, the cost of silent tails, and live cycle delivery on a
private JACK server with and without a hostile Python thread, next to a sounddevice Python
callback under the same load.
timecode: the LTC decoder's cost per block, lock time from a cold start at every rate, the
chase error over ten minutes of LTC at +-0.1 % speed, and cue onsets against their frames at
0.9 to 1.1 speed.
osc: command round trips (p50/p99) and the message rate the OSC server carries out while the
engine plays 256 voices live, with the audio cycles delivered meanwhile.
midi: the latency the engine adds to MIDI notes, the notes late for it, and send-to-sound time
and jitter through JACK MIDI at 64 and 128 frames.

Figures are for comparison within one run: the machines are shared and noisy.
"""

import sys

from liveengine.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
