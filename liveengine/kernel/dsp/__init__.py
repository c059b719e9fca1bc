"""Pure numba kernels the audio thread runs: each obeys the real-time contract."""
