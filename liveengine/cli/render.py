"""`liveengine render SHOW -o out.wav`: render a show offline, faster than real time."""

import math
import sys
import time

from . import UsageError
from .describe import warn_about_stems
from .options import add_audio_options, load_rig, prepare_kernels, warn_about_instruments


def add_parser(commands):
    render = commands.add_parser("render", help="render a show offline to a WAV or FLAC file")
    render.add_argument("show", help="show file (TOML)")
    render.add_argument("-o", "--output", required=True, help="output file (.wav, .flac)")
    render.add_argument("--seconds", type=float, help="length to render (default: the whole show)")
    render.add_argument("--subtype", default="PCM_24", help="sample format, e.g. PCM_16, PCM_24, FLOAT")
    render.add_argument("--ltc", metavar="IN.wav",
                        help="a recording of the picture's LTC to chase, heard on the show's timecode input")
    render.add_argument("--go", metavar="SECONDS", type=float, action="append", default=[],
                        help="the conductor presses GO this many seconds into the render (repeatable)")
    add_audio_options(render, device=False)
    render.set_defaults(handler=command_render)


def command_render(args) -> int:
    from ..engine import OutputFileError, peak_dbfs, write_audio
    from ..show.offline import ShowRender
    rig = load_rig(args)
    inputs = None
    if args.ltc is not None:
        if rig.show.timecode.source != "ltc":
            raise UsageError(f"{args.show} chases no LTC: set [timecode] source = \"ltc\" and its input")
        inputs = _recorded_inputs(args.ltc, rig, rig.show.timecode.input)
    prepare_kernels()
    render = ShowRender(rig, inputs=inputs, go_seconds=args.go)
    warn_about_stems(render.runner)
    warn_about_instruments(rig)
    settings = rig.engine.settings
    rate = settings.sample_rate
    began = time.monotonic()
    try:
        written = write_audio(render.blocks(args.seconds), args.output, rate, settings.output_channels, args.subtype)
    except OutputFileError as error:
        raise UsageError(str(error)) from None
    took = time.monotonic() - began
    print(f"Rendered {written.frames / rate:.1f} s to {args.output} in {took:.2f} s "
          f"({written.frames / rate / took:.0f}x real time), peak {peak_dbfs(written.peak):.1f} dBFS")
    if render.stopped_by:
        print(render.stopped_by, file=sys.stderr)
    print(_summary(rig.engine))
    _report_cues(render.runner)
    standing_by = render.runner.standing_by
    if standing_by is not None:
        print(f"Cue {standing_by.cue.number} waits for a GO: give the times of the GOs with --go SECONDS.")
    if inputs is not None:
        _report_timecode(rig)
    return 0


def _recorded_inputs(path, rig, channel: int):
    """The inputs the show will hear, with a recording (LTC) on `channel`: (frames, input channels) float32."""
    import numpy as np

    from ..show import ltcfile
    try:
        recording, recorded_rate = ltcfile.read_audio(path)
    except ltcfile.LtcFileError as error:
        raise UsageError(str(error)) from None
    settings = rig.engine.settings
    if recorded_rate != settings.sample_rate:
        raise UsageError(f"{path} is at {recorded_rate} Hz; the show runs at {settings.sample_rate} Hz")
    inputs = np.zeros((len(recording), settings.input_channels), np.float32)
    inputs[:, channel] = recording[:, 0]
    return inputs


def _summary(engine) -> str:
    """What an offline render's engine counted."""
    t = engine.telemetry()
    return (f"{t.callbacks} blocks, {t.late_events} late events, {t.notes_refused} refused notes, "
            f"DSP load average {100 * t.dsp_load_average:.1f}%, max {100 * t.dsp_load_max:.1f}% of a block's duration"
            + "".join(f"\n  {line}" for line in engine.refusal_report()))


def _report_cues(runner):
    rate = runner.rate
    for decision in runner.decisions:
        cue = f"cue {decision.cue}: " if decision.cue else ""
        print(f"  {decision.sample / rate:9.3f} s  {cue}{decision.text}")


def _report_timecode(rig):
    """What the chase did over the render, in the show's timecode."""
    from ..engine import ChaseChange
    from ..timecode import Timecode
    rate = rig.show.timecode.rate
    status = rig.engine.telemetry().timecode
    print(f"Timecode: {status.frames_decoded} frames decoded, {status.frames_rejected} rejected, "
          f"{status.relocations} relocations; {status.state} at the end")
    drift = rig.engine.last_clock_drift
    if drift is not None:
        print(f"The picture's clock against the audio's, at the end of the last lock: {drift.text()}")
    for _, text, warning in rig.engine.timecode_rate_reports:
        print(f"WARNING: {text}" if warning else text)
    sample_rate = rig.engine.settings.sample_rate
    for event in rig.engine.timecode_events:
        if event.what is not ChaseChange.LOCKING:
            label = Timecode.from_frames(math.floor(event.frame), rate)
            print(f"  {event.sample / sample_rate:9.3f} s  {event.what:<18} {label}")
