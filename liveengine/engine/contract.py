"""The real-time contract, as compile options.

Every function the audio callback can reach is compiled with `realtime`: numpy's
error model (a division by zero gives inf, never an exception: the setting does not
pass from caller to callee, so each function needs it), no bounds checks, no GIL,
and numba's on-disk cache so the show starts without compiling.
`audit.py` verifies the result in the compiled callback's IR.
"""

from numba import njit

realtime = njit(cache=True, error_model="numpy", boundscheck=False, nogil=True, fastmath=False)

# Below this, a decaying state is flushed to exact zero: subnormal floats cost ~3x per operation.
DENORMAL_FLOOR = 1e-15
