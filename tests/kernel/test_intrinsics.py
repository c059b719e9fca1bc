"""The kernel's own LLVM-level operations, each on its own."""

import numpy as np
import pytest

from liveengine.kernel.intrinsics import borrowed
from liveengine.kernel.realtime import realtime_entry


@realtime_entry
def add_through_a_borrowed_view(array, value):
    view = borrowed(array)
    view += value
    return view.shape, view.strides


@pytest.mark.parametrize("array", [np.zeros(5), np.zeros((3, 4)), np.zeros((2, 3, 4)), np.zeros((4, 6))[::2, 1::2]],
                         ids=["1-d", "2-d", "3-d", "strided"])
def test_a_borrowed_view_is_the_array_itself_without_its_reference_count(array):
    shape, strides = add_through_a_borrowed_view(array, 1.5)
    assert shape == array.shape and strides == array.strides
    assert (array == 1.5).all(), "what the view writes lands in the array"
