"""libltc, the reference LTC codec (Debian's libltc11), through ctypes: for tests only.

Layouts follow libltc 1.3.2's ltc.h on little-endian machines: an LTCFrame is 80 bit-fields
in unsigned ints (12 bytes, frame bit i is bit i%8 of byte i//8), an LTCFrameExt adds the
sample offsets, the reverse flag and signal details.
"""

import ctypes
from dataclasses import dataclass

import numpy as np

LIBRARY = "libltc.so.11"

LTC_TV_525_60, LTC_TV_625_50, LTC_TV_1125_60, LTC_TV_FILM_24 = range(4)
SAMPLE_CENTER = 128  # libltc's audio is unsigned 8 bit
SAMPLE_SCALE = 127.0  # as ltc_decoder_write_float converts: 128 + x * 127
DROP_FRAME_BYTE, DROP_FRAME_MASK = 1, 0x04  # frame bit 10


class SMPTETimecode(ctypes.Structure):
    _fields_ = [("timezone", ctypes.c_char * 6), ("years", ctypes.c_ubyte), ("months", ctypes.c_ubyte),
                ("days", ctypes.c_ubyte), ("hours", ctypes.c_ubyte), ("mins", ctypes.c_ubyte),
                ("secs", ctypes.c_ubyte), ("frame", ctypes.c_ubyte)]


class LTCFrame(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_ubyte * 12)]


class LTCFrameExt(ctypes.Structure):
    _fields_ = [("ltc", LTCFrame), ("off_start", ctypes.c_longlong), ("off_end", ctypes.c_longlong),
                ("reverse", ctypes.c_int), ("biphase_tics", ctypes.c_float * 80), ("sample_min", ctypes.c_ubyte),
                ("sample_max", ctypes.c_ubyte), ("volume", ctypes.c_double)]


assert ctypes.sizeof(LTCFrameExt) == 368 and LTCFrameExt.off_start.offset == 16


def _bind():
    lib = ctypes.CDLL(LIBRARY)
    pointer, frame_pointer = ctypes.c_void_p, ctypes.POINTER(LTCFrame)
    signatures = {
        "ltc_encoder_create": (pointer, [ctypes.c_double, ctypes.c_double, ctypes.c_int, ctypes.c_int]),
        "ltc_encoder_free": (None, [pointer]),
        "ltc_encoder_set_buffersize": (ctypes.c_int, [pointer, ctypes.c_double, ctypes.c_double]),
        "ltc_encoder_set_volume": (ctypes.c_int, [pointer, ctypes.c_double]),
        "ltc_encoder_set_timecode": (None, [pointer, ctypes.POINTER(SMPTETimecode)]),
        "ltc_encoder_get_timecode": (None, [pointer, ctypes.POINTER(SMPTETimecode)]),
        "ltc_encoder_set_user_bits": (None, [pointer, ctypes.c_ulong]),
        "ltc_encoder_get_frame": (None, [pointer, frame_pointer]),
        "ltc_encoder_set_frame": (None, [pointer, frame_pointer]),
        "ltc_encoder_encode_byte": (ctypes.c_int, [pointer, ctypes.c_int, ctypes.c_double]),
        "ltc_encoder_inc_timecode": (ctypes.c_int, [pointer]),
        "ltc_encoder_get_bufferptr": (ctypes.c_int, [pointer, ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte)),
                                                     ctypes.c_int]),
        "ltc_decoder_create": (pointer, [ctypes.c_int, ctypes.c_int]),
        "ltc_decoder_free": (ctypes.c_int, [pointer]),
        "ltc_decoder_write_float": (None, [pointer, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t,
                                           ctypes.c_longlong]),
        "ltc_decoder_read": (ctypes.c_int, [pointer, ctypes.POINTER(LTCFrameExt)]),
        "ltc_frame_to_time": (None, [ctypes.POINTER(SMPTETimecode), frame_pointer, ctypes.c_int]),
        "ltc_frame_get_user_bits": (ctypes.c_ulong, [frame_pointer]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    return lib


LTC = _bind()


def tv_standard(fps: tuple[int, int]) -> int:
    """The standard that places libltc's flag and parity bits for this rate."""
    nominal = -(-fps[0] // fps[1])
    return {25: LTC_TV_625_50, 24: LTC_TV_FILM_24}.get(nominal, LTC_TV_525_60)


def frame_word(frame: LTCFrame) -> int:
    """Frame bits 0-63 as an unsigned integer, bit i at position i."""
    return int.from_bytes(bytes(frame.bytes[:8]), "little")


def sync_word(frame: LTCFrame) -> int:
    return int.from_bytes(bytes(frame.bytes[8:10]), "little")


def _fields(timecode: SMPTETimecode) -> tuple[int, int, int, int]:
    return timecode.hours, timecode.mins, timecode.secs, timecode.frame


@dataclass
class Encoded:
    audio: np.ndarray  # float32, as libltc's decoder reads it back (x = (u8 - 128) / 127)
    starts: np.ndarray  # the sample at which each frame's first bit cell begins
    timecodes: list  # (hours, minutes, seconds, frames) of each frame
    words: list  # bits 0-63 of each frame, as libltc sent them


def encode(sample_rate: int, fps: tuple[int, int], start: tuple[int, int, int, int], frame_count: int,
           drop_frame: bool = False, user_bits: int = 0, slowdowns=None, volume_dbfs: float = -3.0) -> Encoded:
    """LTC written by libltc, one frame at a time; slowdowns[k] > 1 plays frame k slower (varispeed)."""
    encoder = LTC.ltc_encoder_create(sample_rate, fps[0] / fps[1], tv_standard(fps), 0)
    assert encoder
    try:
        # Room for a frame at half speed; the default holds exactly one frame at speed 1.
        assert LTC.ltc_encoder_set_buffersize(encoder, sample_rate, fps[0] / fps[1] / 2) == 0
        assert LTC.ltc_encoder_set_volume(encoder, volume_dbfs) == 0
        frame = LTCFrame()
        LTC.ltc_encoder_get_frame(encoder, frame)
        assert bool(frame.bytes[DROP_FRAME_BYTE] & DROP_FRAME_MASK) == (fps == (30000, 1001))  # set by libltc
        if not drop_frame:
            frame.bytes[DROP_FRAME_BYTE] &= ~DROP_FRAME_MASK
            LTC.ltc_encoder_set_frame(encoder, frame)
        LTC.ltc_encoder_set_user_bits(encoder, user_bits)  # before the timecode, which recomputes the parity
        timecode = SMPTETimecode()
        timecode.hours, timecode.mins, timecode.secs, timecode.frame = start
        LTC.ltc_encoder_set_timecode(encoder, timecode)

        chunks, starts, timecodes, words = [], [], [], []
        position = 0
        buffer = ctypes.POINTER(ctypes.c_ubyte)()
        for k in range(frame_count):
            LTC.ltc_encoder_get_frame(encoder, frame)
            LTC.ltc_encoder_get_timecode(encoder, timecode)
            words.append(frame_word(frame))
            timecodes.append(_fields(timecode))
            slowdown = 1.0 if slowdowns is None else float(slowdowns[k])
            for byte in range(10):
                assert LTC.ltc_encoder_encode_byte(encoder, byte, slowdown) == 0
            length = LTC.ltc_encoder_get_bufferptr(encoder, ctypes.byref(buffer), 1)
            chunks.append(np.ctypeslib.as_array(buffer, (length,)).copy())
            starts.append(position)
            position += length
            LTC.ltc_encoder_inc_timecode(encoder)
    finally:
        LTC.ltc_encoder_free(encoder)
    audio = ((np.concatenate(chunks).astype(np.float32) - SAMPLE_CENTER) / SAMPLE_SCALE).astype(np.float32)
    return Encoded(audio, np.array(starts), timecodes, words)


@dataclass
class Decoded:
    timecode: tuple[int, int, int, int]
    drop_frame: bool
    user_bits: int
    word: int
    sync_word: int
    off_start: int
    off_end: int
    reverse: bool


def decode(audio: np.ndarray, sample_rate: int, fps: tuple[int, int], block: int = 1024) -> list[Decoded]:
    """Every frame libltc's decoder finds in a float signal (full scale +-1)."""
    audio = np.ascontiguousarray(audio, np.float32)
    decoder = LTC.ltc_decoder_create(round(sample_rate * fps[1] / fps[0]), 64)
    assert decoder
    frames, found, timecode = [], LTCFrameExt(), SMPTETimecode()
    try:
        for begin in range(0, len(audio), block):
            chunk = audio[begin:begin + block]
            LTC.ltc_decoder_write_float(decoder, chunk.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), len(chunk),
                                        begin)
            while LTC.ltc_decoder_read(decoder, found):
                LTC.ltc_frame_to_time(timecode, found.ltc, 0)
                frames.append(Decoded(_fields(timecode), bool(found.ltc.bytes[DROP_FRAME_BYTE] & DROP_FRAME_MASK),
                                      LTC.ltc_frame_get_user_bits(found.ltc), frame_word(found.ltc),
                                      sync_word(found.ltc), found.off_start, found.off_end, bool(found.reverse)))
    finally:
        LTC.ltc_decoder_free(decoder)
    return frames
