"""MIDI: what a show says of its keyboards and pedal (`setups`); one channel's state (`channel`),
shared by the keyboards and the file player; Standard MIDI Files (`smf`); ports (`ports`), the
keyboards' inputs (`inputs`), the keyboards themselves (`keyboard`), the conductor's pedal
(`pedal`), MIDI timecode (`mtc`) and the file player (`player`)."""
