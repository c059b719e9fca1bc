"""The kernel: exactly what the audio callback reaches, and the layouts it reads.

Everything here obeys the real-time contract (DESIGN.md §3): every function the callback can
reach is compiled with `realtime.realtime` (numpy's error model, no bounds checks, no GIL); no
raise or assert, no array, list or dict created, no print, lock, I/O or Python object; live
state is read through addresses handed over at run time, never through module-level arrays;
memory the audio thread may still read is never freed or reallocated under it.
`python -m liveengine.engine.audit` proves it from the compiled callback's LLVM IR.

The kernel cache is named by a fingerprint of every file in this folder (dsp/ included) and of
nothing else, so only an edit here recompiles the kernels. Hence what lives here:
- the contract (`realtime`), atomics (`intrinsics`), rings, event rows, memory views;
- the block (`process`), one handler per event kind (`commands`), the mixer, the timecode in
  the block (`timecode`), the audio thread's half of the handover (`handover`), timecode chase,
  armed cues (`triggers`), the real-time half of stems, and `dsp/` (filters, oscillators,
  interpolation, limiter, meters, LTC);
- `voices/`: the voice pool (allocation, stealing, fades, note groups, every count of stolen
  voices and refused notes), envelopes, held notes, and one module per kind of voice (`tone`,
  `sample`, `synth`) behind one interface, dispatched by kind in `voices.kinds`;
- `sampler/`: what of the sampler is not a voice: which regions sound (`layers`) and reading
  a sample (`source`);
- the layouts the kernel reads, with the Python that fills them, kept beside the constants
  they share: `state` (the engine's arrays and their settings), `regiontable` (a region as a
  row), `synthpatch` (a patch as a row), `voices.envelope_row` (an envelope as a block of such
  rows) and `regions` (the region description `regiontable` reads; it sits here so that the
  kernel imports nothing from `engine/`).

The kernel's Python face (producers, installing instruments, the handover, typed notifications,
the clock, telemetry, offline rendering, the audit and the warm-up) lives in `liveengine/engine/`;
the PortAudio stream that calls the kernel live lives in `liveengine/drivers/`.
"""
