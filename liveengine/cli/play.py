"""`liveengine play PATCH --midi FILE.mid -o out.wav`: a MIDI file through one instrument, like `fluidsynth -F`."""

import time

from ..kernel.state import SAMPLE_RATES
from . import UsageError
from .describe import describe_sample_memory
from .options import block_size, prepare_kernels


def add_parser(commands):
    play = commands.add_parser("play", help="render a MIDI file through one instrument (SFZ, SF2, synth patch or "
                                            "LV2 instrument), like fluidsynth -F")
    play.add_argument("patch", help="instrument: an SFZ file, an SF2 bank, a synth patch (a .toml file, or a "
                                    "shipped patch's name such as warm_pad), or an LV2 instrument's URI "
                                    "(`liveengine plugins` lists them)")
    play.add_argument("--midi", required=True, metavar="FILE.mid", help="Standard MIDI File (type 0 or 1)")
    play.add_argument("-o", "--output", required=True, help="output file (.wav, .flac)")
    play.add_argument("--sample-rate", type=int, choices=SAMPLE_RATES, default=44100,
                      help="default 44100, as fluidsynth's")
    play.add_argument("--block", type=block_size, default=64, help="frames per block, 32-1024 (default 64)")
    play.add_argument("--interpolation", choices=("cubic", "linear"), default="cubic",
                      help="of sample voices (default cubic)")
    play.add_argument("--polyphony", type=int, default=512, help="voices at once (default 512)")
    play.add_argument("--gain", type=float, default=0.0, metavar="DB", help="output gain in dB (default 0)")
    play.add_argument("--seconds", type=float, help="length to render (default: the file and its release tails)")
    play.add_argument("--bank", type=int, help="SF2 bank of one preset for every channel, program changes ignored")
    play.add_argument("--program", type=int, help="SF2 program of that preset (default 0)")
    play.add_argument("--subtype", default="PCM_24", help="sample format, e.g. PCM_16, PCM_24, FLOAT")
    play.add_argument("-v", "--verbose", action="store_true",
                      help="also report what the samples take in memory, each instrument's and in all")
    play.set_defaults(handler=command_play)


def command_play(args) -> int:
    from ..engine import OutputFileError, peak_dbfs, write_audio
    from ..midi.player import MidiPlayer, PlayError
    if args.seconds is not None and args.seconds <= 0:
        raise UsageError(f"--seconds must be positive, got {args.seconds:g}")
    if args.polyphony < 1:
        raise UsageError(f"--polyphony must be at least 1, got {args.polyphony}")
    preset = None if args.bank is None and args.program is None else (args.bank or 0, args.program or 0)
    began = time.monotonic()
    try:
        player = MidiPlayer(args.patch, args.midi, sample_rate=args.sample_rate, block=args.block,
                            interpolation=args.interpolation, polyphony=args.polyphony, gain_db=args.gain,
                            preset=preset)
    except PlayError as error:
        raise UsageError(str(error)) from None
    print(f"Loaded {args.patch} for {args.midi} in {time.monotonic() - began:.2f} s:")
    for loaded in player.presets:
        problems = f", {len(loaded.problems)} problem{'s' if len(loaded.problems) != 1 else ''}" \
            if loaded.problems else ""
        channels = ", ".join(map(str, loaded.channels))
        kind = "LV2 instrument" if loaded.plugin else "synth patch" if loaded.regions is None \
            else f"{loaded.regions} regions"
        print(f"  {loaded.label} {loaded.name}: {kind}, "
              f"channel{'s' if len(loaded.channels) > 1 else ''} {channels}{problems}")
    for notice in player.notices:
        print(f"  {notice}")
    if any(loaded.problems for loaded in player.presets):
        print(f"  (`liveengine check {args.patch}` lists the problems)")
    prepare_kernels()
    rate = args.sample_rate
    began = time.monotonic()
    try:
        written = write_audio(player.render(args.seconds), args.output, rate, 2, args.subtype)
    except (PlayError, OutputFileError) as error:
        raise UsageError(str(error)) from None
    took = time.monotonic() - began
    t = player.engine.telemetry()
    print(f"Rendered {written.frames / rate:.1f} s to {args.output} in {took:.2f} s "
          f"({written.frames / rate / took:.0f}x real time), peak {peak_dbfs(written.peak):.1f} dBFS")
    print(f"Voices: {t.voices_stolen} stolen, {t.notes_refused} notes refused, {t.samples_not_ready} samples not "
          f"ready in time; {t.late_events} late events")
    for line in player.engine.refusal_report():
        print(f"  {line}")
    if args.verbose:
        for line in describe_sample_memory({f"{loaded.label} {loaded.name}": loaded.samples
                                            for loaded in player.presets if loaded.samples is not None},
                                           player.streamer):
            print(line)
    return 0
