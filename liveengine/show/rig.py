"""The rig for one show: an engine laid out and loaded as its show file says.

This is where show-file units (dB, ms, 1-based channel numbers, instrument names)
become engine units (linear gains, seconds, indices); nothing else converts them.
"""

from dataclasses import dataclass, replace

from ..config import ShowConfig
from ..engine import BusLayout, Engine, EngineSettings, TimecodeInput, TimecodeOutput


def db_to_gain(db: float) -> float:
    return 10.0 ** (db / 20.0)


@dataclass(frozen=True)
class AudioOverrides:
    """Audio settings given on the command line, which win over the show file."""

    device: str | int | None = None
    sample_rate: int | None = None
    block_size: int | None = None
    output_channels: int | None = None
    input_channels: int | None = None


@dataclass
class Rig:
    show: ShowConfig
    engine: Engine
    block_size: int
    device: str | int | None
    instrument_numbers: dict[str, int]


def build_rig(show: ShowConfig, overrides: AudioOverrides = AudioOverrides()) -> Rig:
    audio = replace(show.audio, **{k: v for k, v in vars(overrides).items() if v is not None})
    buses = tuple(BusLayout(name=bus.name, outputs=bus.outputs, feeds=bus.feeds, gain=db_to_gain(bus.gain_db),
                            muted=bus.mute) for bus in show.buses.values())
    rate = show.timecode.rate
    timecode = None
    if show.timecode.source != "none":
        # LTC comes on an input channel; MTC frames are posted by the MIDI input (channel None).
        timecode = TimecodeInput(channel=show.timecode.input if show.timecode.source == "ltc" else None,
                                 fps=rate.fps_ratio, drop_frame=rate.drop_frame,
                                 freewheel_seconds=show.timecode.freewheel_seconds)
    timecode_output = None
    if show.timecode.ltc_output is not None:
        timecode_output = TimecodeOutput(channel=show.timecode.ltc_output,
                                         fps=rate.fps_ratio, drop_frame=rate.drop_frame,
                                         start=show.timecode.master_start.fields)
    settings = EngineSettings(
        sample_rate=audio.sample_rate, max_block=audio.block_size, output_channels=audio.output_channels,
        input_channels=audio.input_channels, polyphony=audio.voices, buses=buses,
        limiter_ceiling=db_to_gain(audio.limiter_ceiling_db), timecode=timecode, timecode_output=timecode_output,
        stems=len(show.stems))
    latency = None
    if audio.scheduling_latency_ms is not None:
        latency = round(audio.scheduling_latency_ms * audio.sample_rate / 1000)
    engine = Engine(settings, scheduling_latency_samples=latency)
    numbers = {}
    for number, instrument in enumerate(show.instruments.values()):
        engine.install_tone(number, attack_seconds=instrument.attack_ms / 1000,
                            release_seconds=instrument.release_ms / 1000, gain=db_to_gain(instrument.gain_db))
        numbers[instrument.name] = number
    return Rig(show, engine, audio.block_size, audio.device, numbers)
