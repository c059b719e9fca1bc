"""Small SoundFont 2 files written byte by byte, to pin each generator's mapping and unit: the
generators by number, the sample types, and `write_bank`, whose samples are FRAMES of silence."""

import struct
from pathlib import Path

# Generators, by number.
START, END, LOOP_START, LOOP_END, START_COARSE, MOD_LFO_TO_PITCH, VIB_LFO_TO_PITCH = 0, 1, 2, 3, 4, 5, 6
FILTER_FC, FILTER_Q, MOD_ENV_TO_FILTER, MOD_LFO_TO_VOLUME, REVERB, PAN = 8, 9, 11, 13, 16, 17
DELAY_MOD_LFO, FREQ_MOD_LFO, DELAY_VIB_LFO, FREQ_VIB_LFO = 21, 22, 23, 24
ATTACK_MOD_ENV, DECAY_MOD_ENV, SUSTAIN_MOD_ENV = 26, 28, 29
DELAY_VOL_ENV, ATTACK_VOL_ENV, HOLD_VOL_ENV, DECAY_VOL_ENV, SUSTAIN_VOL_ENV, RELEASE_VOL_ENV = 33, 34, 35, 36, 37, 38
KEY_TO_HOLD, KEY_TO_DECAY = 39, 40
INSTRUMENT, KEY_RANGE, VEL_RANGE, ATTENUATION, COARSE_TUNE, FINE_TUNE, SAMPLE_ID = 41, 43, 44, 48, 51, 52, 53
SAMPLE_MODES, SCALE_TUNING, EXCLUSIVE_CLASS, ROOT_KEY = 54, 56, 57, 58
# Sample types.
MONO, RIGHT, LEFT, ROM = 1, 2, 4, 0x8001
FRAMES = 1000  # each test sample's length; they follow each other with 46 zero frames between


def keys(low, high):
    return low | high << 8


def chunk(chunk_id: bytes, data: bytes) -> bytes:
    return chunk_id + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)


def zone_tables(owners) -> tuple[list[int], bytes, bytes, bytes]:
    """Each owner's first zone (and the terminal record's), then the zone, modulator and generator
    tables of `owners` (presets or instruments, each a list of zones)."""
    firsts, bags, modulators, generators = [], [], [], []
    for zones in owners:
        firsts.append(len(bags))
        for zone in zones:
            zone_generators, zone_modulators = zone if isinstance(zone, tuple) else (zone, [])
            bags.append(struct.pack("<HH", len(generators), len(modulators)))
            generators += [struct.pack("<HH", generator, amount & 0xFFFF) for generator, amount in zone_generators]
            modulators += [struct.pack("<HHhHH", *modulator) for modulator in zone_modulators]
    firsts.append(len(bags))
    bags.append(struct.pack("<HH", len(generators), len(modulators)))
    return firsts, b"".join(bags), b"".join(modulators) + bytes(10), b"".join(generators) + bytes(4)


def write_bank(path: Path, presets, instruments, samples) -> Path:
    """A SoundFont 2 file. presets: (name, bank, program, zones); instruments: (name, zones); a zone:
    a list of (generator, amount), or a pair of it and a list of modulators; samples: (name, type,
    link, root key, pitch correction), each FRAMES of silence looping over frames 100..899."""
    firsts, pbag, pmod, pgen = zone_tables([zones for *_, zones in presets])
    phdr = b"".join(struct.pack("<20sHHHIII", name.encode(), program, bank, first, 0, 0, 0)
                    for (name, bank, program, _), first in zip([*presets, ("EOP", 0, 0, None)], firsts))
    firsts, ibag, imod, igen = zone_tables([zones for _, zones in instruments])
    inst = b"".join(struct.pack("<20sH", name.encode(), first)
                    for (name, _), first in zip([*instruments, ("EOI", None)], firsts))
    shdr = b""
    for index, (name, sample_type, link, root, correction) in enumerate(samples):
        start = index * (FRAMES + 46)
        shdr += struct.pack("<20sIIIIIBbHH", name.encode(), start, start + FRAMES, start + 100, start + 900, 44100,
                            root, correction, link, sample_type)
    shdr += struct.pack("<20sIIIIIBbHH", b"EOS", *[0] * 9)
    info = chunk(b"LIST", b"INFO" + chunk(b"ifil", struct.pack("<HH", 2, 1)) + chunk(b"isng", b"EMU8000\0")
                 + chunk(b"INAM", b"test\0"))
    sdta = chunk(b"LIST", b"sdta" + chunk(b"smpl", bytes(2 * len(samples) * (FRAMES + 46))))
    pdta = chunk(b"LIST", b"pdta" + b"".join(chunk(chunk_id, data) for chunk_id, data in (
        (b"phdr", phdr), (b"pbag", pbag), (b"pmod", pmod), (b"pgen", pgen), (b"inst", inst), (b"ibag", ibag),
        (b"imod", imod), (b"igen", igen), (b"shdr", shdr))))
    path.write_bytes(chunk(b"RIFF", b"sfbk" + info + sdta + pdta))
    return path


def preset_samples(path: Path, bank: int, program: int) -> set[int]:
    """Where in the file (byte offsets) the samples lie that preset bank:program's zones reach through its
    instruments, read here from the bank's tables on their own: the player's reader is what tests check."""
    data = path.read_bytes()
    sample_data = data.index(b"sdtasmpl") + 12  # the sdta list's type, the smpl chunk's id and size
    at = data.rindex(b"pdtaphdr") + 4  # the pdta list comes last, its phdr chunk first
    tables = {}
    for name, layout in ((b"phdr", "<20sHHH12x"), (b"pbag", "<HH"), (b"pmod", "<10x"), (b"pgen", "<HH"),
                         (b"inst", "<20sH"), (b"ibag", "<HH"), (b"imod", "<10x"), (b"igen", "<HH"),
                         (b"shdr", "<20sI22x")):
        chunk_id, size = struct.unpack_from("<4sI", data, at)
        assert chunk_id == name
        tables[name] = list(struct.iter_unpack(layout, data[at + 8:at + 8 + size]))
        at += 8 + size

    def generators(bags, table, first_zone, end_zone, wanted):
        return {amount for zone in range(first_zone, end_zone)
                for generator, amount in table[bags[zone][0]:bags[zone + 1][0]] if generator == wanted}

    phdr, inst = tables[b"phdr"], tables[b"inst"]
    index = next(i for i, (_, prog, bnk, _) in enumerate(phdr[:-1]) if (bnk, prog) == (bank, program))
    instruments = generators(tables[b"pbag"], tables[b"pgen"], phdr[index][3], phdr[index + 1][3], INSTRUMENT)
    samples = {sample for instrument in instruments for sample in generators(
        tables[b"ibag"], tables[b"igen"], inst[instrument][1], inst[instrument + 1][1], SAMPLE_ID)}
    return {sample_data + 2 * tables[b"shdr"][sample][1] for sample in samples}
