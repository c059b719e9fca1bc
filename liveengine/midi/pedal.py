"""The conductor's foot pedal (or any MIDI controller): notes and controllers as GO, back,
stop all and panic.

A note fires its operation on note-on; a controller (a sustain-style pedal) fires it when
its value rises through the middle (64), so holding the pedal down fires once.
"""

from .setups import PedalTrigger

NOTE_ON, CONTROL_CHANGE = 0x90, 0xB0
PRESSED = 64


class ConductorPedal:
    """Turns MIDI messages into the cue runner's operations (thread-safe: the runner queues them)."""

    def __init__(self, runner, triggers: dict[str, PedalTrigger], stop_fade_seconds: float = 3.0):
        self.runner = runner
        self.triggers = triggers
        self.stop_fade_seconds = stop_fade_seconds
        self._controller_values: dict[tuple[int, int], int] = {}

    def handle(self, message) -> str | None:
        """One MIDI message (a list of bytes); returns the operation it fired, if any."""
        if len(message) != 3:
            return None
        status, number, value = message
        kind, channel = status & 0xF0, (status & 0x0F) + 1
        if kind == NOTE_ON and value > 0:
            pressed = "note"
        elif kind == CONTROL_CHANGE:
            before = self._controller_values.get((channel, number), 0)
            self._controller_values[(channel, number)] = value
            if not (before < PRESSED <= value):
                return None
            pressed = "cc"
        else:
            return None
        for operation, trigger in self.triggers.items():
            if trigger.kind == pressed and trigger.number == number and trigger.channel in (None, channel):
                if operation == "stop_all":
                    self.runner.stop_all(self.stop_fade_seconds)
                else:
                    getattr(self.runner, operation)()
                return operation
        return None
