"""The voices: every kind of voice behind one interface (start, release, render), dispatched by kind
in `kinds`; the pool every voice lives in, which alone allocates, steals, fades and counts stolen
voices and refused notes (`pool`); envelopes (`envelope`, their block of a table's row in
`envelope_row`); the notes held until their note off (`held`); the kernel's random numbers
(`randomness`); and one module per kind: `tone` (the test tone), `sample`, `synth`."""
