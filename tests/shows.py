"""Small show files for tests that run a whole show: one note at the start and nothing after
(with the instrument a test chooses), and a show with a keyboard and nothing else to play."""

import textwrap

RELEASE_SECONDS = 2.5  # TONE's release


def one_note_show(rate: int, block: int, instrument: str, note_seconds: float = 0.5) -> str:
    """One note at the start of the show (tempo 60: a beat is a second), then nothing."""
    return textwrap.dedent(f"""
        [show]
        name = "One note"
        tempo = 60
        [audio]
        sample_rate = {rate}
        block_size = {block}
        output_channels = 2
        input_channels = 0
        [osc]
        enabled = false
        [timecode]
        source = "none"
        rate = "25"
        {instrument}
        [[parts]]
        name = "note"
        instrument = "voice"
        notes = [[69, 0, {note_seconds}, 0.1]]
        """)


TONE = f"""
[instruments.voice]
type = "tone"
attack_ms = 1
release_ms = {RELEASE_SECONDS * 1000:g}
gain_db = -20
"""

NO_NOTES = "\n[instruments.voice]\ntype = \"tone\"\n"
KEYBOARD = """
[setups.plain]
layers = [{instrument = "voice"}]
[keyboards.upper]
virtual = "upper keys"
setup = "plain"
"""


def keyboard_only_show() -> str:
    """A show at 48 kHz, 256-frame blocks, with the keyboard "upper" (a virtual MIDI input,
    "upper keys") and no parts or cues: it runs until it is stopped."""
    text = one_note_show(48000, 256, NO_NOTES)
    return text[:text.index("[[parts]]")] + KEYBOARD
