"""Small shows on the cue tests' rig, played offline block by block as `liveengine render` plays
them (`show.offline.ShowRender`).

Every part plays `tone` notes with a short attack and release on a bus of its own, with a mono
output of its own, so each part's onsets can be read off its channel. A tone's first sample is
0 and its second already sounds, so an onset is exact to the sample.
"""

import textwrap

import numpy as np

from liveengine.show.offline import ShowRender
from liveengine.show.reader import parse_show
from liveengine.show.rig import build_rig

RATE = 48000
BLOCK = 64
SAMPLES_PER_FRAME = RATE // 25
# Output channels (0-based): master 1-2, click 3-4, then one mono output per bus one..four.
MASTER, CLICK = (0, 1), (2, 3)
ONE, TWO, THREE, FOUR = 4, 5, 6, 7
RELEASE_SAMPLES = RATE // 100  # the tone's 10 ms release
MASTER_START = '[timecode]\nsource = "none"\nrate = "25"\nmaster_start = "00:59:59:00"\n'
CUE_SAMPLE = RATE  # 01:00:00:00, one second after the master timecode's start at sample 0


def show_text(body: str, *, tempo: float = 120, timecode: str = MASTER_START, input_channels: int = 0,
              sample_rate: int = RATE, block_size: int = BLOCK) -> str:
    """A show file: the rig every test shares, then `body` (parts, clicks, cues)."""
    head = f"""
        [show]
        name = "Cue test"
        tempo = {tempo}

        [audio]
        sample_rate = {sample_rate}
        block_size = {block_size}
        output_channels = 8
        input_channels = {input_channels}
        voices = 64

        [buses.master]
        outputs = [1, 2]
        [buses.click]
        outputs = [3, 4]
        [buses.one]
        outputs = [5]
        [buses.two]
        outputs = [6]
        [buses.three]
        outputs = [7]
        [buses.four]
        outputs = [8]

        [instruments.tone]
        type = "tone"
        attack_ms = 1
        release_ms = 10
        gain_db = -12

        [instruments.blip]
        type = "tone"
        attack_ms = 0.5
        release_ms = 10
        gain_db = -6
    """
    return textwrap.dedent(head) + timecode + textwrap.dedent(body)


def part(name: str, bus: str, beats, length: float = 0.25, key: int = 69) -> str:
    """A [[parts]] table: one note of `length` beats at each of `beats`."""
    notes = ", ".join(f"[{key}, {beat}, {length}, 0.5]" for beat in beats)
    return f'\n[[parts]]\nname = "{name}"\ninstrument = "tone"\nbus = "{bus}"\nnotes = [{notes}]\n'


class Performance:
    """One show, played offline block by block as command_render plays it (`ShowRender`): it posts one
    block ahead, or as far as a live show does (cues.LOOKAHEAD_SECONDS) when `live_lookahead`."""

    def __init__(self, text: str, inputs: np.ndarray | None = None, live_lookahead: bool = False):
        self.show = parse_show(text, "test.toml")
        self.rig = build_rig(self.show)
        self.engine = self.rig.engine
        self.render = ShowRender(self.rig, inputs=inputs, live_lookahead=live_lookahead)
        self.runner = self.render.runner
        self.render.start()
        self.blocks: list[np.ndarray] = []
        # (position, sample, bus) of every note the runner posts itself, after the cue's template.
        self.posted: list[tuple[int, int, int]] = []
        producer = self.runner.producer
        post_note_on = producer.part_note_on

        def part_note_on(sample, group, number, instrument, key, velocity, bus, pan=0.0):
            self.posted.append((self.position, int(sample), self.engine.bus_number(bus)))
            post_note_on(sample, group, number, instrument, key, velocity, bus, pan)

        producer.part_note_on = part_note_on

    @property
    def position(self) -> int:
        return self.render.position

    def play_until(self, sample: int):
        """Render every block that ends by `sample`: an operation given next falls in the block
        holding `sample`, where command_render gives a GO at that sample."""
        self.blocks.append(self.render.play_until(sample))

    def play_channels_until(self, sample: int, channels, chunk_frames: int = 1 << 16) -> np.ndarray:
        """`play_until(sample)`, a chunk at a time, keeping only `channels` (in that order): the whole
        output of a performance of many minutes would take gigabytes."""
        kept = []
        while self.position + self.rig.block_size <= sample:
            kept.append(self.render.play_until(min(sample, self.position + chunk_frames))[:, channels])
        return np.concatenate(kept)

    @property
    def audio(self) -> np.ndarray:
        return self.blocks[0] if len(self.blocks) == 1 else np.concatenate(self.blocks)

    def decisions(self, cue: str | None = None) -> list[tuple[int, str]]:
        return [(d.sample, d.text) for d in self.runner.decisions if cue is None or d.cue == cue]


def onsets(channel: np.ndarray, gap: int = 1000) -> list[int]:
    """Samples where sound starts after at least `gap` silent samples (a tone's first sample is 0,
    its second already sounds)."""
    sounding = np.flatnonzero(np.abs(channel) > 0)
    if len(sounding) == 0:
        return []
    starts = np.concatenate([sounding[:1], sounding[1:][np.diff(sounding) > gap]])
    return [int(s) - 1 for s in starts]
