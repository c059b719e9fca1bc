"""liveengine: a real-time performance engine for live-to-picture film concerts, and a library to
script it.

    import liveengine

    engine = liveengine.Engine(sample_rate=48000)          # the master bus on outputs 1-2
    piano = engine.load("Piano.sfz")                        # .sfz, .sf2 (bank=, program=), a patch name or file
    piano.note_on(60, velocity=100, at=0.0)                 # MIDI key and velocity, time in seconds
    piano.note_off(60, at=0.5)
    audio = engine.render(seconds=1.0)                      # numpy (frames, channels), the live kernel offline

    with engine.play(device=None):                          # a live stream, while the block runs
        piano.note_on(64)                                   # now, plus the scheduling latency

    liveengine.render_midi("song.mid", "FluidR3_GM.sf2", "out.wav")     # as `liveengine play`
    show = liveengine.Show.load("configs/demo.toml")
    show.render("demo.wav", seconds=30)                                 # as `liveengine render`

- `Engine(sample_rate=48000, *, block_size=256, outputs=2, polyphony=256, gain_db=0.0,
  interpolation="cubic")`: `load(source, *, bank=None, program=None, gain_db=0.0)` returns an
  `Instrument`; `render(seconds)` continues the timeline where the last render ended;
  `play(device=None)` is a context manager; `set_gain(db, at=None, fade_seconds=0.0)` sets the
  master level; `all_notes_off(at=None)`; `sample_rate`, `block_size`, `outputs`, `time`.
  Renders and live plays continue one timeline.
- `Instrument`: `note_on(key, velocity=100, at=None)`, `note_off(key, at=None)`,
  `control_change(control, value, at=None)`, `pitch_bend(value, at=None)` (-8192..8191),
  `program_change(program, at=None)`, `set_gain(db, at=None)`, `all_notes_off(at=None)`.
  `at` is seconds on the engine's timeline; None is now (offline: where the next render starts).
- `render_midi(midi, instrument, output=None, *, bank=None, program=None, sample_rate=44100, ...)`
  writes `output`, or returns the audio when `output` is None.
- `Show.load(path)`; `show.render(output=None, seconds=None, *, go=())`; `show.run(seconds=None,
  *, device=None, jack_dummy=False, console=True)` plays it live, as `liveengine run` does.

Keys, velocities, controllers and programs are MIDI numbers (0-127; velocity 1-127). A bad argument
(an unknown file or patch, a key or velocity out of range, a time already rendered, more instruments
than the engine holds) raises a ValueError saying which and why.

`import liveengine` loads nothing heavy: the names above are imported when first used.
"""

__all__ = ["Engine", "Instrument", "Show", "render_midi"]


def __getattr__(name: str):
    if name in __all__:
        from . import scripting
        return getattr(scripting, name)
    raise AttributeError(f"module 'liveengine' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
