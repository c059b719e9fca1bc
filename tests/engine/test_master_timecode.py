"""The engine as timecode master, at every frame rate and sample rate: shows rendered offline as
`liveengine render` renders them, through the real kernel.

Frame k of the master's timecode (counted from the start frame, on sample 0) begins on sample
ceil(k * sample_rate / fps). A timecode cue must start its music on exactly that sample, the LTC
the engine generates must carry the cue's label from that sample, and MTC out must run on the
same line; across midnight too, and after a locate. A tone's first sample is 0 and its second
already sounds, so an onset is exact to the sample.
"""

import itertools
import math
import textwrap
from fractions import Fraction

import numpy as np
import pytest

import ltcref
from liveengine.show.reader import parse_show
from liveengine.midi.mtc import MtcReader, sender_locked_to_engine
from liveengine.kernel.dsp.ltc import decode_ltc
from liveengine.show.offline import ShowRender
from liveengine.show.rig import build_rig
from liveengine.timecode import RATES, Timecode

LTC_CHANNEL = 2  # 0-based: output 3
RATE_NAMES = list(RATES)
# Every frame rate at every sample rate, the block sizes spread over them.
MATRIX = [(name, sample_rate, block) for (name, sample_rate), block
          in zip(itertools.product(RATE_NAMES, (44100, 48000, 96000)), itertools.cycle((32, 64, 1024, 256)))]


def label(rate, hours, minutes, seconds, frames) -> str:
    return str(Timecode.from_fields(hours, minutes, seconds, frames, RATES[rate]))


def show_text(rate: str, sample_rate: int, block: int, start: str, cue: str) -> str:
    return textwrap.dedent(f"""
        [show]
        name = "Master timecode"
        [audio]
        sample_rate = {sample_rate}
        block_size = {block}
        output_channels = 3
        [buses.master]
        outputs = [1, 2]
        [timecode]
        rate = "{rate}"
        master_start = "{start}"
        ltc_output = {LTC_CHANNEL + 1}
        [instruments.tone]
        type = "tone"
        attack_ms = 1
        release_ms = 5
        [[parts]]
        name = "hit"
        instrument = "tone"
        notes = [[69, 0, 0.1, 0.5]]
        [[cues]]
        number = "1M1"
        at = "{cue}"
        actions = [{{start = "hit"}}]
    """)


class Render:
    """A show rendered as `liveengine render` renders it (`ShowRender`); `before_block(runner, position)`
    may give the conductor's operations."""

    def __init__(self, text: str, seconds: float, before_block=None):
        self.show = parse_show(text, "master.toml")
        render = ShowRender(build_rig(self.show), before_block=before_block)
        self.engine = render.engine
        self.sample_rate = self.engine.settings.sample_rate
        self.runner = render.runner
        self.audio = render.audio(seconds)

    @property
    def rate(self):
        return self.show.timecode.rate

    def onsets(self) -> list[int]:
        sounding = np.flatnonzero(self.audio[:, 0])
        return [int(s) - 1 for s in sounding[np.diff(sounding, prepend=-10 ** 9) > 1000]]

    def frame_start(self, frames_after_start: int) -> int:
        """The sample on which the master's frame `frames_after_start` after its start frame begins."""
        return math.ceil(frames_after_start * Fraction(self.sample_rate) / self.rate.fps)

    def ltc_labels(self) -> dict[int, str]:
        """The generated LTC as our decoder reads it: {start sample: label}."""
        frames = decode_ltc(self.audio[:, LTC_CHANNEL], self.sample_rate, self.rate.fps_ratio)
        return {round(frame.start_sample): frame.timecode for frame in frames}


@pytest.mark.parametrize("rate, sample_rate, block", MATRIX)
def test_a_timecode_cue_sounds_on_its_frames_exact_sample_where_the_generated_ltc_reaches_it(rate, sample_rate,
                                                                                             block):
    start, cue = label(rate, 0, 59, 58, 0), label(rate, 1, 0, 0, 1)
    show = Render(show_text(rate, sample_rate, block, start, cue), 2.3)
    frames = Timecode.parse(cue, show.rate) - Timecode.parse(start, show.rate)
    onset = show.frame_start(frames)
    assert show.onsets() == [onset]
    assert show.ltc_labels()[onset] == cue, "the generated LTC reaches the cue on its sample"
    # libltc reads the same frame there (it dates a frame within a few samples of its first edge).
    heard = [frame for frame in ltcref.decode(show.audio[:, LTC_CHANNEL], sample_rate, show.rate.fps_ratio)
             if str(Timecode.from_fields(*frame.timecode, show.rate)) == cue]
    assert len(heard) == 1 and abs(heard[0].off_start - onset) <= 4
    assert [(d.sample, d.text) for d in show.runner.decisions if d.cue == "1M1"] == [(onset, f"fired at {cue}")]


@pytest.mark.parametrize("rate, sample_rate, block", MATRIX[::2])
def test_a_show_that_crosses_midnight_fires_its_cues_after_the_wrap(rate, sample_rate, block):
    start, cue = label(rate, 23, 59, 58, 0), label(rate, 0, 0, 1, 0)
    show = Render(show_text(rate, sample_rate, block, start, cue), 3.3)
    frames = show.rate.frames_per_day() - Timecode.parse(start, show.rate).frame_count + \
        Timecode.parse(cue, show.rate).frame_count
    onset = show.frame_start(frames)
    assert show.onsets() == [onset]
    labels = show.ltc_labels()
    assert labels[onset] == cue and label(rate, 0, 0, 0, 0) in labels.values()


@pytest.mark.parametrize("rate", RATE_NAMES)
def test_a_locate_as_master_moves_the_cues_and_the_ltc_together_on_the_masters_frame_grid(rate):
    # From 00:59:01:00, locate to two seconds before the cue at 01:10:00:00 half a second in.
    start, cue = label(rate, 0, 59, 1, 0), label(rate, 1, 10, 0, 0)
    where = Timecode.parse(label(rate, 1, 9, 58, 0), RATES[rate])

    asked = []

    def locate_once(runner, position):
        if position >= 22050 and not asked:
            runner.locate_master(where)
            asked.append(position)

    show = Render(show_text(rate, 44100, 64, start, cue), 3.0, locate_once)
    located = [decision.sample for decision in show.runner.decisions
               if decision.text == f"timecode master jumps to {where}"]
    assert len(located) == 1
    grid_index = next(k for k in itertools.count() if show.frame_start(k) >= located[0])
    assert located[0] == show.frame_start(grid_index), "a locate lands on a frame boundary of the master"
    onset = show.frame_start(grid_index + (Timecode.parse(cue, show.rate) - where))
    assert show.onsets() == [onset]
    labels = show.ltc_labels()
    assert labels[located[0]] == str(where) and labels[onset] == cue


class EngineSamples:
    """A sample clock whose "nanoseconds" are engine samples, to read MTC's timing in samples."""

    @staticmethod
    def monotonic_ns_at(sample: float) -> float:
        return sample


@pytest.mark.parametrize("rate", RATE_NAMES)
@pytest.mark.parametrize("sample_rate", [44100, 96000])
def test_mtc_out_begins_each_frame_where_the_master_begins_it(rate, sample_rate):
    """MTC as `liveengine run` sends it as master (from its start, then from a locate's frame
    boundary): each frame a receiver reads begins within a sample of where the master's line,
    its cues and its LTC begin that frame, and carries the same timecode."""
    rate = RATES[rate]
    start = Timecode.from_fields(23, 59, 59, 0, rate)  # across midnight
    show_start = 12345
    first = math.ceil(show_start * rate.fps / sample_rate)  # MTC's first whole frame after the show starts
    sender = sender_locked_to_engine(None, start, 0, EngineSamples, sample_rate, show_start)
    reader = MtcReader(rate)
    frames = [frame for due, message in itertools.islice(sender.schedule(), 4 * 3 * rate.nominal)
              if (frame := reader.feed(message, due)) is not None]
    assert len(frames) > 2 * rate.nominal
    for frame in frames:
        k = frame.timecode.frame_count - start.frame_count
        k += rate.frames_per_day() if k < 0 else 0
        assert k >= first and abs(frame.start_ns - math.ceil(k * Fraction(sample_rate) / rate.fps)) < 1
