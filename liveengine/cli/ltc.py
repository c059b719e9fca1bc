"""`liveengine ltc generate|decode`: write LTC to an audio file, or read the LTC frames of one."""

import sys

from ..kernel.state import SAMPLE_RATES
from . import EXIT_FAILED, UsageError


def add_parser(commands):
    ltc = commands.add_parser("ltc", help="generate or decode LTC timecode audio files")
    ltc_commands = ltc.add_subparsers(dest="ltc_command", required=True, metavar="ACTION")
    generate = ltc_commands.add_parser("generate", help="write LTC to an audio file")
    generate.add_argument("--rate", required=True, help="frame rate: 23.976, 24, 25, 29.97df, 29.97, 30")
    generate.add_argument("--start", default="01:00:00:00", help="first frame (default 01:00:00:00)")
    generate.add_argument("--seconds", type=float, required=True)
    generate.add_argument("-o", "--output", required=True, help="output file (.wav, .flac)")
    generate.add_argument("--sample-rate", type=int, choices=SAMPLE_RATES, default=48000)
    generate.add_argument("--level-db", type=float, default=-18.0, help="peak level in dBFS (default -18)")
    generate.add_argument("--user-bits", type=lambda text: int(text, 0), default=0,
                          help="32 user bits, e.g. 0x12345678")
    generate.set_defaults(handler=command_ltc_generate)
    decode = ltc_commands.add_parser("decode", help="read the LTC frames of an audio file")
    decode.add_argument("input", help="audio file carrying LTC")
    decode.add_argument("--channel", type=int, default=1, help="channel carrying the LTC (default 1)")
    decode.add_argument("--rate", default="auto", help="frame rate, or auto (default) to detect it")
    decode.add_argument("--json", action="store_true",
                        help='print a JSON list, a frame each: {"timecode": "01:00:00:00", "sample": 1234, '
                             '"reverse": false}, "sample" the first of the frame in the file')
    decode.set_defaults(handler=command_ltc_decode)


def _rate_and_timecode(rate_text: str, timecode_text: str):
    from ..timecode import Timecode, frame_rate
    try:
        rate = frame_rate(rate_text)
        return rate, Timecode.parse(timecode_text, rate)
    except ValueError as error:
        raise UsageError(str(error)) from None


def command_ltc_generate(args) -> int:
    from ..show import ltcfile
    rate, start = _rate_and_timecode(args.rate, args.start)
    if args.seconds <= 0:
        raise UsageError(f"--seconds must be positive, got {args.seconds:g}")
    try:
        ltcfile.generate(args.output, rate, start, args.seconds, args.sample_rate, args.level_db, args.user_bits)
    except ltcfile.LtcFileError as error:
        raise UsageError(str(error)) from None
    print(f"Wrote {args.seconds:g} s of {rate.name} fps LTC from {start} to {args.output} "
          f"({args.sample_rate} Hz, {args.level_db:g} dBFS)")
    return 0


def command_ltc_decode(args) -> int:
    import json

    from ..show import ltcfile
    from ..timecode import frame_rate
    try:
        rate = None if args.rate == "auto" else frame_rate(args.rate)
        recording = ltcfile.read(args.input, args.channel - 1, rate)
    except (ValueError, ltcfile.LtcFileError) as error:
        raise UsageError(str(error)) from None
    frames = recording.frames
    # A frame's sample is the first of it in the file, in either direction of play.
    if args.json:
        print(json.dumps([{"timecode": frame.timecode, "sample": round(frame.first_sample), "reverse": frame.reverse}
                          for frame in frames]))
    else:
        for frame in frames:
            direction = "  reverse" if frame.reverse else ""
            print(f"{frame.timecode}  sample {round(frame.first_sample)}{direction}")
    if not frames:
        print(f"liveengine: no LTC found on channel {args.channel} of {args.input}", file=sys.stderr)
        return EXIT_FAILED
    print(f"{len(frames)} frames at {recording.rate.name} fps", file=sys.stderr)
    return 0
