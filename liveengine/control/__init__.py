"""The control plane: MIDI, MTC and OSC inputs and outputs, feeding the engine through its rings."""
