"""What the conductor's screen draws, as a schedule: the clock mapping and the visual cues ahead.

The pages get no triggers. Each tick they get a clock mapping (the timecode, in frames since
midnight, at an instant of the server's CLOCK_MONOTONIC, with its speed and the chase state) and
the marks around the playhead in the same timeline units (frames): the clicks of every running
click track (bar, beat, kind) and the visual cues (streamers, punches, flutters). The page draws
from its own estimate of the server's clock, so the network's jitter never moves a streamer.

Where the marks come from: a click track that plays (its cue has fired) is placed where its player
puts it; a click track that a timecode cue will start, from that cue's timecode. By default each
click track brings a green streamer into its first downbeat and a yellow one into the downbeat of
each warning bar (the bar before a tempo or meter change); the show's `[[hits]]` add their own.

`epoch` counts discontinuities: a relocation, a stop, a lost lock. A page drops every mark of an
older epoch at once, so nothing of the old position is drawn after a jump.
"""

import bisect
from dataclasses import dataclass

from ..show.click import ACCENT, clicks

HORIZON_SECONDS = 12.0  # marks this far ahead of the playhead are sent
BEHIND_SECONDS = 1.0  # and this far behind (a punch fades out after its hit)
DEFAULT_STREAMER_SECONDS = 3.0
DOWNBEAT_COLOR, WARNING_COLOR = "green", "yellow"
JUMP_FRAMES = 2.0  # a timecode this far off the line the last tick predicted is a jump
MOVING = ("locked", "freewheel")


@dataclass(frozen=True)
class ClickTrack:
    """One click track's clicks from its start: seconds, bar, beat, kind; and its visual cues."""

    name: str
    seconds: tuple[float, ...]
    bars: tuple[int, ...]
    beats: tuple[int, ...]
    kinds: tuple[str, ...]
    visuals: tuple[dict, ...]  # {"kind", "seconds" (from the track's start), "length", "color", "punches"}


def click_tracks(show) -> dict[str, ClickTrack]:
    """Every click track of the show with its default streamers and the show's hits counted in it."""
    tracks = {}
    for name, click in show.clicks.items():
        track = clicks(click.map)
        at = {(c.bar, c.beat): float(c.seconds) for c in track}
        visuals = []
        first_downbeat = next((float(c.seconds) for c in track if c.kind == ACCENT), None)
        if first_downbeat is not None:
            visuals.append(_streamer(first_downbeat, DOWNBEAT_COLOR))
        changes = {change.bar for change in (*click.map.tempos[1:], *click.map.meters[1:])}
        visuals += [_streamer(at[(bar - 1, 1)], WARNING_COLOR) for bar in sorted(changes) if (bar - 1, 1) in at]
        tracks[name] = ClickTrack(name, tuple(float(c.seconds) for c in track), tuple(c.bar for c in track),
                                  tuple(c.beat for c in track), tuple(c.kind for c in track), tuple(visuals))
    return tracks


def _streamer(seconds: float, color: str, length: float = DEFAULT_STREAMER_SECONDS) -> dict:
    return {"kind": "streamer", "seconds": seconds, "length": length, "color": color, "punches": 1}


def _hit_visual(hit, seconds: float) -> dict:
    return {"kind": hit.kind, "seconds": seconds, "length": hit.length_seconds, "color": hit.color,
            "punches": hit.punches}


class Schedule:
    """The clock mapping and the marks of one show, read from its engine and cue runner (control plane)."""

    def __init__(self, show, engine, runner):
        self.show = show
        self.engine = engine
        self.runner = runner
        self.rate = engine.settings.sample_rate
        self.fps = float(show.timecode.rate.fps)
        self.tracks = click_tracks(show)
        self.track_of_cue = {cue.number: next((a.target for a in cue.actions if a.verb == "start"
                                               and a.target in self.tracks), None) for cue in show.cues}
        # Where each hit counted in a click track falls, in seconds from the track's first click.
        self.hit_seconds = {hit: self._seconds_of(self.tracks[self.track_of_cue[hit.cue]], hit)
                            for hit in show.hits if hit.cue is not None}
        self.epoch = 0
        self._last = None  # (frames, monotonic ns, frames per second, state) of the last mapping

    def clock(self, telemetry) -> dict:
        """Timecode frames at server monotonic time t (ms): frames + speed_fps * (t - t0) / 1000."""
        status = telemetry.timecode
        moving = status.state in MOVING
        speed = status.speed * self.fps if moving else 0.0
        t0 = self.engine.clock.monotonic_ns_at(telemetry.position) if self.engine.clock.running else 0
        frames = status.position
        if self._last is not None:
            last_frames, last_t0, last_speed, last_state = self._last
            predicted = last_frames + last_speed * (t0 - last_t0) / 1e9
            if (last_state in MOVING) != moving or (moving and abs(frames - predicted) > JUMP_FRAMES):
                self.epoch += 1
        self._last = (frames, t0, speed, status.state)
        return {"t0": t0 / 1e6, "frames": frames, "speed": speed, "state": status.state, "epoch": self.epoch}

    def marks(self, telemetry) -> dict:
        """The clicks and visual cues from BEHIND_SECONDS before the playhead to HORIZON_SECONDS after,
        in frames. Nothing while the timecode stands still: its marks belong to no running picture."""
        status = telemetry.timecode
        if status.state not in MOVING or status.speed <= 0:
            return {"beats": [], "visuals": []}
        now = status.position
        low, high = now - BEHIND_SECONDS * self.fps, now + HORIZON_SECONDS * self.fps
        beats, visuals = [], []
        for start, track, hits in self._placed_tracks(telemetry):
            first = bisect.bisect_left(track.seconds, (low - start) / self.fps)
            last = bisect.bisect_right(track.seconds, (high - start) / self.fps)
            beats += [[start + track.seconds[i] * self.fps, track.bars[i], track.beats[i], track.kinds[i]]
                      for i in range(first, last)]
            marks = [*track.visuals, *(_hit_visual(hit, self.hit_seconds[hit]) for hit in hits)]
            visuals += [{**mark, "frame": start + mark["seconds"] * self.fps} for mark in marks]
        visuals += [{**_hit_visual(hit, 0.0), "frame": hit.timecode.frame_count}
                    for hit in self.show.hits if hit.timecode is not None]
        visuals = [mark for mark in visuals if low <= mark["frame"] <= high + mark["length"] * self.fps]
        beats.sort()
        return {"beats": beats, "visuals": sorted(visuals, key=lambda mark: mark["frame"])}

    def _placed_tracks(self, telemetry):
        """(frame of the track's first click, track, the hits counted in it) for every click track that
        plays now (with the hits of every cue that counts in it), and for those that timecode cues not yet
        fired will start (with that cue's hits)."""
        status, placed, playing = telemetry.timecode, [], set()
        frames_per_sample = status.speed * self.fps / self.rate
        for part, player in self.runner.players.items():
            name = self.runner.sequences[part].name
            if name in self.tracks:
                start = status.position + (player.start_sample - telemetry.position) * frames_per_sample
                hits = [hit for hit in self.hit_seconds if self.track_of_cue[hit.cue] == name]
                placed.append((start, self.tracks[name], hits))
                playing.add(name)
        for cue in self.show.cues:
            name = self.track_of_cue[cue.number]
            if cue.trigger == "timecode" and name is not None and name not in playing \
                    and cue.timecode.frame_count > status.position:
                hits = [hit for hit in self.hit_seconds if hit.cue == cue.number]
                placed.append((float(cue.timecode.frame_count), self.tracks[name], hits))
        return placed

    @staticmethod
    def _seconds_of(track: ClickTrack, hit) -> float:
        """The reader made sure the track has that bar and beat."""
        return next(seconds for seconds, bar, beat in zip(track.seconds, track.bars, track.beats)
                    if (bar, beat) == (hit.bar, hit.beat))
