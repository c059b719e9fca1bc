"""The fixed-size records that cross between the control plane and the audio thread.

Every record is one row of float64: the sample at which it applies, its kind, its
target, and up to five values. One row is 64 bytes, a cache line. Sample times are
exact in float64 for 2**53 samples (about 5,900 years at 48 kHz).
"""

EVENT_WIDTH = 8
SAMPLE, KIND, TARGET, A, B, C, D, E = range(EVENT_WIDTH)

# Control -> audio: what an event asks for, and how its fields are used.
NOTE_ON = 1  # target: note id; A: instrument; B: key (MIDI, fractional allowed); C: velocity 0..1; D: bus; E: pan -1..1
NOTE_OFF = 2  # target: note id; every voice of that note enters its release
ALL_NOTES_OFF = 3  # panic: every voice fades out fast
BUS_GAIN = 4  # target: bus; A: linear gain; B: fade time in seconds (0: de-zipper only)
BUS_MUTE = 5  # target: bus; A: 1 mute, 0 unmute (always a short ramp, never a click)
INSTRUMENT_PARAMETER = 6  # target: instrument; A: parameter index; B: value
FENCE = 7  # target: token; acknowledged with the sample at which the audio thread reached it
TIMECODE_FRAME = 8  # a timecode frame from outside the audio thread (MTC): target: frame count since
#                     midnight; A: the sample at which the frame started. Post it as soon as possible (-1).
LTC_LOCATE = 9  # the generated LTC jumps: its next frame is A:B:C:D (hours, minutes, seconds, frames)

EVENT_NAMES = {
    NOTE_ON: "note on",
    NOTE_OFF: "note off",
    ALL_NOTES_OFF: "all notes off",
    BUS_GAIN: "bus gain",
    BUS_MUTE: "bus mute",
    INSTRUMENT_PARAMETER: "instrument parameter",
    FENCE: "fence",
    TIMECODE_FRAME: "timecode frame",
    LTC_LOCATE: "LTC locate",
}

# Audio -> control notifications, same row layout.
CLOCK = 101  # SAMPLE: first sample of the block; A: CLOCK_MONOTONIC ns at callback entry
LATE_EVENT = 102  # SAMPLE: sample it was applied at; TARGET: event kind; A: sample it asked for; B: producer ring
ACKNOWLEDGED = 103  # SAMPLE: sample at which the fence was reached; TARGET: fence token
NOTE_REFUSED = 104  # SAMPLE: sample of the note on; TARGET: note id; A: reason (see REFUSED_*)
TIMECODE = 105  # SAMPLE: where it happened; TARGET: what (chase.LOCKED_NOW, RELOCATED, REJECTED,
#                 FREEWHEEL_STARTED + CHASE_IDLE_OFFSET, ...); A: frame count (frames since midnight)
CHASE_IDLE_OFFSET = 10  # chase_idle's outcomes, shifted clear of chase_frame's

REFUSED_NO_VOICE = 1  # every voice slot busy, even after stealing
REFUSED_NO_INSTRUMENT = 2  # the instrument index names no installed instrument
REFUSED_BAD_BUS = 3
