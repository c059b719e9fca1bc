"""LLVM-level operations numba does not offer: atomics, raw addresses, the monotonic clock, borrowed views.

Each is a numba intrinsic, so it inlines into the caller's IR and stays cacheable
(no ctypes function pointers), and none of them can raise or allocate. numba's modules are
imported as a caller compiles (realtime.KernelIntrinsic), not when the kernel's layouts are.
"""

from llvmlite import ir

from .realtime import intrinsic

CLOCK_MONOTONIC = 1  # Linux <time.h>


def _element_pointer(context, builder, array_type, array_value, index):
    from numba.core import cgutils
    array = context.make_array(array_type)(context, builder, array_value)
    return cgutils.get_item_pointer(
        context, builder, array_type, array, [index], wraparound=False, boundscheck=False
    )


@intrinsic
def load_acquire(typingctx, array, index):
    """array[index] read with acquire ordering: later reads cannot move before it."""
    from numba.core import types
    if not (isinstance(array, types.Array) and array.ndim == 1 and isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(pointer, "acquire", array.dtype.bitwidth // 8)

    return array.dtype(array, index), codegen


@intrinsic
def store_release(typingctx, array, index, value):
    """array[index] = value with release ordering: earlier writes are visible first."""
    from numba.core import types
    if not (isinstance(array, types.Array) and array.ndim == 1 and isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature.args[0], args[0], args[1])
        stored = context.cast(builder, args[2], signature.args[2], array.dtype)
        builder.store_atomic(stored, pointer, "release", array.dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.void(array, index, value), codegen


@intrinsic
def release_fence(typingctx):
    """Writes before it are visible before any write after it: what opens a publication a reader must see
    whole (a sequence count made odd, then the values)."""
    from numba.core import types

    def codegen(context, builder, signature, args):
        builder.fence("release")
        return context.get_dummy_value()

    return types.void(), codegen


@intrinsic
def address_as_void_pointer(typingctx, address):
    """An integer address as a void pointer, for numba.carray views of memory handed over at run time."""
    from numba.core import cgutils, types
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


@intrinsic
def monotonic_ns(typingctx):
    """CLOCK_MONOTONIC in nanoseconds, the clock of Python's time.monotonic_ns() (a vDSO call, no syscall)."""
    from numba.core import cgutils, types

    def codegen(context, builder, signature, args):
        int64 = ir.IntType(64)
        timespec = ir.LiteralStructType([int64, int64])
        clock_gettime = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(32), [ir.IntType(32), timespec.as_pointer()]), "clock_gettime"
        )
        now = cgutils.alloca_once(builder, timespec)
        builder.call(clock_gettime, [ir.Constant(ir.IntType(32), CLOCK_MONOTONIC), now])
        seconds = builder.load(cgutils.gep_inbounds(builder, now, 0, 0))
        nanoseconds = builder.load(cgutils.gep_inbounds(builder, now, 0, 1))
        return builder.add(builder.mul(seconds, ir.Constant(int64, 1_000_000_000)), nanoseconds)

    return types.int64(), codegen


@intrinsic
def void_pointer_as_address(typingctx, pointer):
    """A pointer as an integer address (the inverse of address_as_void_pointer)."""
    from numba.core import types
    if pointer != types.voidptr:
        return None

    def codegen(context, builder, signature, args):
        return builder.ptrtoint(args[0], ir.IntType(64))

    return types.int64(pointer), codegen


@intrinsic
def borrowed(typingctx, array):
    """The same array, without its reference count: a view for the duration of a call that holds the array
    itself. numba counts references to an array whenever a function takes it, with atomic (locked)
    instructions, which stall the pipeline: profiled on FluidR3_GM renders, a sixth of the sample voices'
    time, and the renders ran 5-9 % faster without it. A view without one (as `numba.carray` makes) costs
    nothing to pass."""
    from numba.core import cgutils, types
    if not isinstance(array, types.Array):
        return None

    def codegen(context, builder, signature, args):
        source = context.make_array(signature.args[0])(context, builder, args[0])
        view = context.make_array(signature.return_type)(context, builder)
        cgutils.copy_struct(view, source)
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()

    return array(array), codegen


def _call_at(return_type, doc):
    """An intrinsic calling the C function at an integer address with a tuple of arguments: a plugin's
    functions, whose addresses the control plane writes into the kernel's memory at run time (a baked-in
    function pointer would keep numba from caching the kernel). int64 arguments pass pointers and
    handles, uint32 ones frame and byte counts."""
    def call(typingctx, address, arguments):
        from numba.core import cgutils, types
        if not (isinstance(address, types.Integer) and isinstance(arguments, types.BaseTuple)
                and all(isinstance(t, types.Integer) for t in arguments)):
            return None
        result = types.void if return_type == "void" else types.int32

        def codegen(context, builder, signature, args):
            argument_types = signature.args[1]
            values = cgutils.unpack_tuple(builder, args[1], len(argument_types))
            function_type = ir.FunctionType(context.get_value_type(result),
                                            [context.get_value_type(t) for t in argument_types])
            function = builder.inttoptr(args[0], function_type.as_pointer())
            returned = builder.call(function, values)
            return context.get_dummy_value() if return_type == "void" else returned

        return result(address, arguments), codegen

    call.__name__, call.__doc__ = f"call_{return_type}_at", doc
    return call


call_void_at = intrinsic(_call_at("void", "call_void_at(address, (arguments...)): a C function returning nothing."))
call_status_at = intrinsic(_call_at("status", "call_status_at(address, (arguments...)): a C function returning an "
                                              "int32 status (an LV2_Worker_Status)."))
