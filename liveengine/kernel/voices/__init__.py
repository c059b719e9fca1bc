"""The voices: the pool every voice lives in (`pool`), their envelopes (`envelope`), the notes held
until their note off (`held`), one module per kind of voice (`tone`, `sample`, `synth`), and the
one interface they share, dispatched by kind (`kinds`)."""
