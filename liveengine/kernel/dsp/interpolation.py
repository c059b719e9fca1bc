"""Reading a sample between its frames: 4-point interpolation as one vector operation.

`interpolate(x0, x1, x2, x3, t, cubic)` -> the value at `t` (0..1) of the way from x1 to
x2, given the frames before and after them: the 3rd-order Hermite (Catmull-Rom) curve
through the four when `cubic`, else the straight line from x1 to x2. At t = 0 it is x1
exactly.

Both are a weighted sum of the four taps, whose weights are cubic polynomials of t. So
the taps (float32 frames, as samples are held) go into one vector of four doubles, the
weights come from three vector multiply-adds, and one multiply and two adds sum them:
about half the scalar operations of the usual form, and four neighbouring loads become
one. numba has no vector types, so this is an LLVM intrinsic. It is exact to the same
rounding wherever it is used (no compiler flag reorders it): a voice reading at the edge
of its sample and one reading in the middle compute alike.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_DOUBLE = ir.DoubleType()
_DOUBLES = ir.VectorType(_DOUBLE, 4)
_FLOATS = ir.VectorType(ir.FloatType(), 4)
_LANE = ir.IntType(32)

# The taps' weights as polynomials in t, the coefficients of t^3, t^2, t and 1, each for the four taps.
_CUBIC_WEIGHTS = ((-0.5, 1.5, -1.5, 0.5), (1.0, -2.5, 2.0, -0.5), (-0.5, 0.0, 0.5, 0.0), (0.0, 1.0, 0.0, 0.0))
_LINEAR_WEIGHTS = ((0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0), (0.0, -1.0, 1.0, 0.0), (0.0, 1.0, 0.0, 0.0))


def _doubles(values):
    return ir.Constant(_DOUBLES, [ir.Constant(_DOUBLE, value) for value in values])


def _lanes(*lanes):
    return ir.Constant(ir.VectorType(_LANE, len(lanes)), list(lanes))


@intrinsic
def interpolate(typingctx, x0, x1, x2, x3, t, cubic):
    """The sample at `t` between taps x1 and x2 (float32 frames), cubic or linear."""
    if any(tap != types.float32 for tap in (x0, x1, x2, x3)) or t != types.float64 or \
            not isinstance(cubic, (types.Boolean, types.BooleanLiteral)):
        return None

    def codegen(context, builder, signature, args):
        taps = ir.Constant(_FLOATS, ir.Undefined)
        for lane in range(4):
            taps = builder.insert_element(taps, args[lane], ir.Constant(_LANE, lane))
        taps = builder.fpext(taps, _DOUBLES)
        at = builder.insert_element(ir.Constant(_DOUBLES, ir.Undefined), args[4], ir.Constant(_LANE, 0))
        at = builder.shuffle_vector(at, at, _lanes(0, 0, 0, 0))
        is_cubic = context.cast(builder, args[5], signature.args[5], types.boolean)
        fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_DOUBLES, [_DOUBLES] * 3),
                                             "llvm.fma.v4f64")
        weights = builder.select(is_cubic, _doubles(_CUBIC_WEIGHTS[0]), _doubles(_LINEAR_WEIGHTS[0]))
        for power in range(1, 4):
            coefficients = builder.select(is_cubic, _doubles(_CUBIC_WEIGHTS[power]), _doubles(_LINEAR_WEIGHTS[power]))
            weights = builder.call(fma, [weights, at, coefficients])
        terms = builder.fmul(taps, weights)
        pair = builder.fadd(builder.shuffle_vector(terms, terms, _lanes(0, 1)),
                            builder.shuffle_vector(terms, terms, _lanes(2, 3)))
        return builder.fadd(builder.extract_element(pair, ir.Constant(_LANE, 0)),
                            builder.extract_element(pair, ir.Constant(_LANE, 1)))

    return types.float64(x0, x1, x2, x3, t, cubic), codegen
