"""A show rendered offline through its rig, as `liveengine render`, `liveengine.Show.render` and the
tests render it: the cue runner steps the show a block at a time, posting a block ahead of the
kernel; the conductor's GOs fall at the samples given; an LTC recording may be heard on the show's
timecode input. Left to itself the render lasts until the show has played every cue and part and
every sound on every bus has died away."""

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from ..engine import Ending, OfflineLoop, collect_audio
from .cues import CueRunner

RENDER_LIMIT_SECONDS = 6 * 3600  # a show that never ends by itself stops here, unless given a length
TAIL_LIMIT_SECONDS = 60  # sound still ringing this long after the show is done is held (a stuck note): stop
TAIL_FLOOR_DBFS = -90.0  # a sound below this has ended


def tails_ended(t) -> bool:
    """No voice sounds and every bus meter (what inserts and tails add) reads below TAIL_FLOOR_DBFS."""
    return t.voices == 0 and all(max(meter.peak_dbfs) < TAIL_FLOOR_DBFS for meter in t.buses.values())


class ShowRender:
    """One offline performance of a rig's show. `inputs`: (frames, input channels) the inputs hear
    from the first sample; `go_seconds`: when the conductor presses GO; `before_block(runner,
    position)`: any other operation of the conductor's, given before the block at `position` plays;
    `live_lookahead`: the runner posts as far ahead as it does live (`cues.LOOKAHEAD_SECONDS`)
    instead of a block ahead."""

    def __init__(self, rig, *, inputs: np.ndarray | None = None, go_seconds: Iterable[float] = (),
                 before_block: Callable[[CueRunner, int], None] | None = None, live_lookahead: bool = False):
        self.rig = rig
        self.engine = rig.engine
        rate = self.engine.settings.sample_rate
        self.runner = CueRunner(rig, self.engine.producer("show"))
        self.loop = OfflineLoop(self.engine, rig.block_size, streamer=rig.streamer, inputs=inputs)
        self.runner.producer.drain = self.loop.drain  # more events at an instant than the ring holds go in on time
        self.inputs = inputs
        self.go_samples = sorted(round(seconds * rate) for seconds in go_seconds)
        self.before_block = before_block
        self.lookahead_samples = None if live_lookahead else rig.block_size
        self.started = False
        self.stopped_by = ""  # why the render stopped before the show's sound ended ("": it did not)

    @property
    def position(self) -> int:
        return self.loop.position

    def start(self):
        """Arm the cue list and start the show at sample 0 (done by the first `blocks` if not before)."""
        self.runner.arm()
        self.runner.start(0)
        self.started = True

    def blocks(self, seconds: float | None = None) -> Iterator[np.ndarray]:
        """The show's audio a block at a time, each (frames, output channels) float32 and valid until
        the next: `seconds` of it; or as long as the inputs given; or until the show ends by itself."""
        if not self.started:
            self.start()
        rate = self.engine.settings.sample_rate
        if seconds is not None:
            return self.loop.run(round(seconds * rate), before_step=self._before_block)
        if self.inputs is not None:
            return self.loop.run(len(self.inputs), before_step=self._before_block)
        return self._until_the_end()

    def audio(self, seconds: float | None = None) -> np.ndarray:
        """`blocks(seconds)` as one (frames, output channels) float32 array."""
        return collect_audio(self.blocks(seconds), self.engine.settings.output_channels)

    def play_until(self, sample: int) -> np.ndarray:
        """Render every block that ends by `sample`, as one array: an operation given next falls
        in the block holding `sample`, where a GO given at that sample falls."""
        frames = max(0, (sample - self.position) // self.rig.block_size * self.rig.block_size)
        if not self.started:
            self.start()
        return collect_audio(self.loop.run(frames, before_step=self._before_block),
                             self.engine.settings.output_channels, frames)

    def _until_the_end(self) -> Iterator[np.ndarray]:
        rate = self.engine.settings.sample_rate
        ending = Ending(finished=lambda: self.position if not self.go_samples and self.runner.idle() else None,
                        quiet=tails_ended, tail_limit_seconds=TAIL_LIMIT_SECONDS)
        yield from self.loop.run(RENDER_LIMIT_SECONDS * rate, before_step=self._before_block, ending=ending)
        if self.loop.stopped_by_tail_limit:
            self.stopped_by = (f"WARNING: the render stops {TAIL_LIMIT_SECONDS} s after the show's last event: "
                               f"{self.engine.telemetry().voices} voices still sound (a held note or a drone)")
        elif self.loop.frames_done >= RENDER_LIMIT_SECONDS * rate:
            self.stopped_by = (f"WARNING: the render stops at its limit of {RENDER_LIMIT_SECONDS / 3600:g} hours: "
                               "the show had not ended by itself (give its length with --seconds)")

    def _before_block(self, start: int, end: int):
        while self.go_samples and self.go_samples[0] < end:
            self.runner.go()
            self.go_samples.pop(0)
        if self.before_block is not None:
            self.before_block(self.runner, start)
        self.runner.update(start, lookahead_samples=self.lookahead_samples)
