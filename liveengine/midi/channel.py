"""One MIDI channel as it stands: the notes its keys hold, its pedals, its controllers.

The keyboards (`midi.keyboard`) and the file player (`midi.player`) keep a `ChannelState` for
each channel they play and ask it what each message means for the notes sounding: which end
now, which a pedal keeps. A note here is whatever the caller started for a key (the engine's note
ids: a keyboard's layers start several for one key). The rules are General MIDI's, as FluidSynth
plays them (measured with FluidSynth 2.3.1):

- a note-off releases the key's notes, unless a pedal holds them: the sostenuto pedal the notes
  whose keys were down when it went down, the sustain pedal every other; they ring until their
  pedal lifts;
- a key struck again releases the notes it still holds down as its note-off would (a pedal
  keeps holding what it holds);
- all notes off (CC 123) is a note-off for every key held down: what a pedal holds, or catches
  now, rings on until the pedal lifts;
- all sound off (CC 120) releases every note of the channel, whatever the pedals say;
- reset all controllers (CC 121) lifts the pedals (releasing what they held) and puts
  expression, the mod wheel, pitch bend and the registered parameter at rest (RP-015); volume,
  pan, bank and program stay where they are;
- RPN 0 (pitch bend sensitivity) set by data entry (CC 6, CC 38) gives the bend's range.
"""

from dataclasses import dataclass, field

BANK_SELECT, MOD_WHEEL, DATA_ENTRY, VOLUME, PAN, EXPRESSION, DATA_ENTRY_FINE = 0, 1, 6, 7, 10, 11, 38
SUSTAIN, SOSTENUTO, SOFT = 64, 66, 67
NRPN_FINE, NRPN_COARSE, RPN_FINE, RPN_COARSE = 98, 99, 100, 101
ALL_SOUND_OFF, RESET_CONTROLLERS, ALL_NOTES_OFF = 120, 121, 123
FIRST_MODE_MESSAGE = 120  # controllers 120-127 are channel mode messages, not controller values
PEDAL_DOWN = 64  # a pedal is down from this value up
CENTRE = 64  # pan at the centre
GM_VOLUME = 100  # every channel's volume when General MIDI starts
PITCH_BEND_SENSITIVITY = (0, 0)  # RPN 0, as (coarse, fine)
NO_PARAMETER = (127, 127)  # the null RPN
GM_BEND_RANGE = 2.0  # semitones at full bend, General MIDI's default
# What reset all controllers sets (RP-015), in order; pitch bend and the RPN are reset beside.
RESET_VALUES = ((EXPRESSION, 127), (SUSTAIN, 0), (SOSTENUTO, 0), (SOFT, 0), (MOD_WHEEL, 0))


def _starting_controllers() -> list[int]:
    values = [0] * 128
    values[VOLUME], values[PAN], values[EXPRESSION] = GM_VOLUME, CENTRE, 127
    return values


@dataclass
class Change:
    """What a controller message did: the notes to release now, the controller values that moved
    (each, in order, to pass on to the channel's instruments) and whether the pitch bend or its
    range moved."""

    released: list[int] = field(default_factory=list)
    controllers: list[tuple[int, int]] = field(default_factory=list)
    bend_moved: bool = False
    bend_range_moved: bool = False


@dataclass
class ChannelState:
    """One channel: each call takes a message and answers with the notes it ends now."""

    controllers: list[int] = field(default_factory=_starting_controllers)  # 0..127, as the channel sets them
    bend: int = 0  # the wheel, -8192..8191
    bend_range: float = 0.0  # semitones at full bend as RPN 0 set them; 0: never set (each instrument's own)
    parameter: tuple[int, int] | None = None  # the RPN data entry sets; None: none, or an NRPN
    held: dict[int, list[int]] = field(default_factory=dict)  # key -> the notes it holds down
    sustained: list[int] = field(default_factory=list)  # notes the sustain pedal holds
    caught: set[int] = field(default_factory=set)  # notes held down when the sostenuto pedal went down
    sostenuto_held: list[int] = field(default_factory=list)  # of those, the notes whose keys were released

    def pedal(self, number: int) -> bool:
        return self.controllers[number] >= PEDAL_DOWN

    @property
    def wheel(self) -> float:
        return self.bend / 8192

    # Keys.

    def strike(self, key: int, notes: list[int]) -> list[int]:
        """`key` went down and started `notes`; returns the notes to release first (those the key
        still held down: a key struck again without its note-off)."""
        released = self.lift(key)
        if notes:
            self.held[key] = list(notes)
        return released

    def lift(self, key: int) -> list[int]:
        """`key` came up; returns the notes to release now (none that a pedal holds)."""
        return self._let_go(self.held.pop(key, []))

    def _let_go(self, notes: list[int]) -> list[int]:
        released = []
        for note in notes:
            if note in self.caught:
                self.sostenuto_held.append(note)
            elif self.pedal(SUSTAIN):
                self.sustained.append(note)
            else:
                released.append(note)
        return released

    def sounding(self) -> list[int]:
        """Every note the channel holds: down, sustained or under the sostenuto pedal."""
        return [note for notes in self.held.values() for note in notes] + self.sustained + self.sostenuto_held

    def silence(self) -> list[int]:
        """Forget every note (all sound off, or the end of a file); returns them, to release."""
        notes = self.sounding()
        self.held, self.sustained, self.sostenuto_held = {}, [], []
        self.caught = set()
        return notes

    # Controllers.

    def control(self, number: int, value: int) -> Change:
        """Controller `number` (0..127) to `value` (0..127)."""
        if number == ALL_NOTES_OFF:
            return Change(released=[note for key in list(self.held) for note in self.lift(key)])
        if number == ALL_SOUND_OFF:
            return Change(released=self.silence())
        if number == RESET_CONTROLLERS:
            change = Change(bend_moved=True)
            for reset, rest in RESET_VALUES:
                moved = self.control(reset, rest)
                change.released += moved.released
                change.controllers += moved.controllers
            self.bend, self.parameter = 0, None
            return change
        if number >= FIRST_MODE_MESSAGE:  # omni, mono, poly, local control: nothing a player follows
            return Change()
        change = Change(controllers=[(number, value)])
        was_down = self.pedal(number)
        self.controllers[number] = value
        down = self.pedal(number)
        if number == SUSTAIN and was_down and not down:
            change.released, self.sustained = self.sustained, []
        elif number == SOSTENUTO and down and not was_down:
            self.caught = {note for notes in self.held.values() for note in notes}
        elif number == SOSTENUTO and was_down and not down:
            caught, self.sostenuto_held, self.caught = self.sostenuto_held, [], set()
            change.released = self._let_go(caught)
        elif number in (RPN_COARSE, RPN_FINE):
            coarse, fine = self.parameter or NO_PARAMETER
            self.parameter = (value, fine) if number == RPN_COARSE else (coarse, value)
        elif number in (NRPN_COARSE, NRPN_FINE):
            self.parameter = None
        elif number in (DATA_ENTRY, DATA_ENTRY_FINE) and self.parameter == PITCH_BEND_SENSITIVITY:
            semitones, cents = divmod(round((self.bend_range or GM_BEND_RANGE) * 100), 100)
            semitones, cents = (value, cents) if number == DATA_ENTRY else (semitones, value)
            self.bend_range = semitones + cents / 100
            change.bend_range_moved = True
        return change
