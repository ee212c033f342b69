"""Reverse-mode rule of indexing: ``x[index]`` (``GetItem``, ``getitem``).

The backward scatters the gradient back into zeros of the input's shape
(repeated indices accumulate); on raw arrays it is a pending scatter that the
backward pass applies in place.  The scatter's own backward is indexing again,
so every order works, and over Dual data each part is scattered.  ``np.take``,
``take_along_axis``, ``compress`` ... are in :mod:`reverse.rules.shape`.

Examples
--------
>>> from reverse import Variable
>>> x = Variable([1.0, 2.0, 3.0])
>>> (x[[0, 0, 2]] * 1.0).sum().backward()
>>> x.grad
variable([2. 0. 1.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _exactdiff import arrays as _arrays

from .. import core
from ..core import Function, Variable, _value
from ..utils import is_basic_index, scatter_add
from ._util import _arg

__all__ = ["GetItem", "getitem"]


_PLAIN_INDEX = (slice, int, tuple, np.ndarray, list)


class GetItem(Function):
    """``x[index]``; the gradient is scattered back (repeated indices accumulate).

    Parameters
    ----------
    index : object
        Any numpy index (ints, slices, None, Ellipsis, integer or boolean arrays).

    Examples
    --------
    >>> from reverse import Variable
    >>> GetItem(1)(Variable([1.0, 2.0]))
    variable(2.)
    """

    __slots__ = ("index",)
    _value_inputs = "none"  # only shapes (core._sweep_call)
    _value_output = False

    def __init__(self, index: Any) -> None:
        self.index = index

    def forward(self, x: Any) -> Any:
        if type(x) is np.ndarray:
            if type(self.index) not in _PLAIN_INDEX:
                x = _arrays.lazy_for_mask(x, self.index)  # a seed/cotangent, dask mask
        elif type(self.index) is not slice:
            index = _arrays.align_lazy_mask(self.index, _value(x))
            if index is not self.index:  # the backward scatter needs the same blocks
                self.index = index
        return x[self.index]

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        if isinstance(gy, Variable):
            return scatter_add(gy, self.index, x.shape)
        index = self.index
        return core.PendingScatter(index, gy, x.shape,
                                   type(index) is slice or is_basic_index(index))


def _index_arg(index: Any) -> Any:
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if isinstance(item, Variable):
            raise TypeError("reverse: cannot index with a Variable; use .data for the "
                            "(non-differentiable) index values")
    return index


def getitem(x: Any, index: Any) -> Variable:
    """``x[index]`` with slices, integers, integer/boolean arrays, None, Ellipsis.

    Parameters
    ----------
    x : Variable or array_like
        The values.
    index : object
        Any numpy index.

    Returns
    -------
    Variable
        The selected values; repeated indices accumulate their gradients.

    Examples
    --------
    >>> from reverse import Variable
    >>> x = Variable([1.0, 2.0, 3.0])
    >>> getitem(x, [0, 0, 2]).sum().backward()
    >>> x.grad
    variable([2. 0. 1.])
    """
    return GetItem(_index_arg(index))(_arg(x, "getitem"))
