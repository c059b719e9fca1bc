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
ALL_NOTES_OFF = 3  # panic: every voice fades out fast, and every part stops (see NOTE_GROUP_SIZE)
BUS_GAIN = 4  # target: bus; A: linear gain; B: fade time in seconds (0: de-zipper only)
BUS_MUTE = 5  # target: bus; A: 1 mute, 0 unmute (always a short ramp, never a click)
INSTRUMENT_PARAMETER = 6  # target: instrument; A: parameter index; B: value
FENCE = 7  # target: token; acknowledged with the sample at which the audio thread reached it
TIMECODE_FRAME = 8  # a timecode frame from outside the audio thread (MTC): target: frame count since
#                     midnight; A: the sample at which the frame started. Post it as soon as possible (-1).
STOP_ALL = 10  # every part stops: its notes fade out over A seconds (0: the fast panic fade); live notes ring on
NOTE_GROUP_OFF = 11  # target: note group; its sounding notes release, its later note-ons are dropped
PART_START = 12  # target: part; it plays in a fresh note group from here on (a cue's firing sets A: the
#                  cue slot, B: the offset into the part, for the PART_STARTED report)
PART_STOP = 13  # target: part; the note group it plays in now gets NOTE_GROUP_OFF
CUE_FIRE = 16  # target: cue slot (the conductor's GO); A: offset into the cue, in samples
TIMECODE_LOCATE = 17  # as timecode master: frame `target` of the master's frame grid (counted from sample 0)
#                       carries the label A:B:C:D (hours, minutes, seconds, frames), and the timecode runs on
#                       from there, for the cues and the generated LTC. Refused by an engine that is not master
STEM_START = 18  # target: stem slot; A: file frame to start from; B: bus; C: linear gain
STEM_STOP = 19  # target: stem slot; A: fade seconds (0: the fast fade)
CONTROLLER = 20  # target: instrument; A: controller number 0..127; B: value 0..1 (regions follow it)
POLY_AFTERTOUCH = 23  # target: instrument; A: key; B: pressure 0..1 (the voices on that key follow it)
PROGRAM_CHANGE = 25  # target: instrument; A: program 0..127 of its channel (regions with loprog/hiprog follow it)
PLUGIN_CONTROL = 26  # target: plugin column; A: control port index; B: value (an LV2 control port)
PLUGIN_BYPASS = 27  # target: plugin column (an insert); A: 1 bypass, 0 back in the chain (a short crossfade)
# The handover of memory (engine/handover.py): the control plane writes a resource while it is its own,
# then one ADOPT hands it to the audio thread; one LET_GO asks for it back. Each is answered HANDED_OVER
# with its token: only that answer lets the control plane rewrite or free the memory.
ADOPT = 21  # target: slot; A: resource (RESOURCE_*); B: token; C: an instrument's kind (state.KIND_*)
LET_GO = 22  # target: slot; A: resource (RESOURCE_*); B: token

# A note id is group * NOTE_GROUP_SIZE + number. Every start of a part plays in a fresh group,
# so stopping the part (or a jump of the picture) silences exactly its notes, including any
# still on their way. Group 0 is live playing, which STOP_ALL leaves alone.
NOTE_GROUP_SIZE = 1 << 20
NOTE_GROUPS = 4096
# In a cue template, a note's target is part * NOTE_GROUP_SIZE + number: when it applies, the
# part's group at that moment takes the part's place.
# Live notes (keyboards, files played, scripts) take ids 0..LIVE_NOTE_IDS, all in group 0; a part
# numbers its notes 1..LIVE_NOTE_IDS within its group. The Producer holds every note to its range,
# so a live note never falls into a part's group (where stopping the part would silence it).
LIVE_NOTE_IDS = NOTE_GROUP_SIZE - 1


def live_note_id(note_id) -> int:
    """`note_id` as a live note's id; ValueError outside 0..LIVE_NOTE_IDS."""
    if note_id != int(note_id) or not 0 <= note_id <= LIVE_NOTE_IDS:
        raise ValueError(f"note id {note_id} is no live note's: live notes take ids 0..{LIVE_NOTE_IDS}; "
                         f"the ids above are the cue parts' note groups")
    return int(note_id)


def part_note_id(group: int, number: int) -> int:
    """The id of note `number` (1..LIVE_NOTE_IDS) of a part playing in note group `group` (1..NOTE_GROUPS-1)."""
    if not 0 < group < NOTE_GROUPS or not 0 < number <= LIVE_NOTE_IDS:
        raise ValueError(f"a part's note {number} in note group {group}: groups are 1..{NOTE_GROUPS - 1}, "
                         f"a part's notes 1..{LIVE_NOTE_IDS}")
    return group * NOTE_GROUP_SIZE + number

TRIGGER_MANUAL, TRIGGER_TIMECODE, TRIGGER_FOLLOW = range(3)

# What the audio thread adopts and lets go. An instrument: its table column (adopted with its kind,
# never let go); a cue: its slot's template and trigger (adopting arms it, letting go disarms it);
# a sample: its full data (adopted as the loader publishes its frames; let go unless a voice plays
# it); a patch: an instrument's staged synth patch (adopting swaps it in; the staged row and the
# patch it replaced are the control plane's again once that is acknowledged).
RESOURCE_INSTRUMENT, RESOURCE_CUE, RESOURCE_SAMPLE, RESOURCE_PATCH = range(4)
# How the audio thread answered: done; kept (a voice still plays the sample; ask again later);
# refused (no such slot, or nothing of that kind to adopt or let go).
HANDOVER_DONE, HANDOVER_KEPT, HANDOVER_REFUSED = range(3)

EVENT_NAMES = {
    NOTE_ON: "note on",
    NOTE_OFF: "note off",
    ALL_NOTES_OFF: "all notes off",
    BUS_GAIN: "bus gain",
    BUS_MUTE: "bus mute",
    INSTRUMENT_PARAMETER: "instrument parameter",
    FENCE: "fence",
    TIMECODE_FRAME: "timecode frame",
    STOP_ALL: "stop all",
    NOTE_GROUP_OFF: "note group off",
    PART_START: "part start",
    PART_STOP: "part stop",
    CUE_FIRE: "cue fire",
    TIMECODE_LOCATE: "timecode locate",
    STEM_START: "stem start",
    STEM_STOP: "stem stop",
    CONTROLLER: "controller",
    ADOPT: "adopt",
    LET_GO: "let go",
    POLY_AFTERTOUCH: "poly aftertouch",
    PROGRAM_CHANGE: "program change",
    PLUGIN_CONTROL: "plugin control",
    PLUGIN_BYPASS: "plugin bypass",
}

# Audio -> control notifications, same row layout.
CLOCK = 101  # SAMPLE: first sample of the block; A: CLOCK_MONOTONIC ns at callback entry
LATE_EVENT = 102  # SAMPLE: sample it was applied at; TARGET: event kind; A: sample it asked for; B: producer ring
ACKNOWLEDGED = 103  # SAMPLE: sample at which the fence was reached; TARGET: fence token
NOTE_REFUSED = 104  # SAMPLE: sample of the note on; TARGET: note id; A: reason (see REFUSED_*); B: instrument
TIMECODE = 105  # SAMPLE: where it happened; TARGET: what (chase.LOCKED_NOW, RELOCATED, REJECTED,
#                 FREEWHEEL_STARTED + CHASE_IDLE_OFFSET, ...); A: frame count (frames since midnight)
CHASE_IDLE_OFFSET = 10  # chase_idle's outcomes, shifted clear of chase_frame's
CUE = 106  # SAMPLE: where; TARGET: cue slot; A: what (CUE_*); B: offset into the cue or lateness, in samples;
#            C: frame position of the picture
PART_STARTED = 107  # SAMPLE: where the part's time 0 falls; TARGET: part; A: its note group; B: the cue slot
#                     that started it; C: the offset (samples) into the part at which it started
SEQUENCES_STOPPED = 108  # SAMPLE: where; A: why (STOPPED_BY_*)
SAMPLE_WANTED = 109  # TARGET: sample slot a voice started on, longer than its preloaded head: read it all
SAMPLE_NOT_READY = 110  # TARGET: sample slot; A: note id; a voice reached frames not yet read (it goes on silent)
HANDED_OVER = 111  # TARGET: the ADOPT's or LET_GO's token; A: resource; B: slot; C: outcome (HANDOVER_*)
PICTURE_SPEED = 112  # SAMPLE: where; TARGET: 1 the chased picture's speed came back within the speed followed,
#                      0 it left it; A: its speed; B: the speed followed (a share either side of 1); C: frame position

# What happened to a cue (CUE notifications).
CUE_FIRED, CUE_FIRED_LATE, CUE_CHASED, CUE_SKIPPED, CUE_REARMED, CUE_NOT_ARMED, CUE_TRUNCATED, \
    CUE_FIRED_LATE_AFTER_DROPOUT = range(8)
STOPPED_BY_JUMP, STOPPED_BY_TIMECODE_STOP = range(2)

REFUSED_NO_VOICE = 1  # every voice slot busy, even after stealing
REFUSED_NO_INSTRUMENT = 2  # the instrument index names no installed instrument
REFUSED_BAD_BUS = 3
