"""Instruments: SFZ and SF2 libraries and synth patches, loaded into descriptions the engine plays."""
