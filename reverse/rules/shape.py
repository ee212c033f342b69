"""Reverse-mode rules for array building and shape functions.

The implementations are shared with forward mode (:mod:`_exactdiff.shape`) and
are written with numpy calls that record ``Function`` nodes on Variables:
selections (``tile``, ``pad``, ``diag``, ``triu``, ``insert``, ``flip``,
``roll`` ...) are a reshape and an indexing node, whose backward is a
scatter-add (and whose scatter's backward is indexing again), so every order
of ``create_graph`` and forward-over-reverse over ``Dual`` data work;
``diff``, ``gradient``, ``convolve``, ``linspace``, ``interp`` and ``polyval``
are compositions of slicing and arithmetic.  ``np.conj`` and ``np.real`` of a
real Variable are the Variable; ``np.imag`` is a constant zero.

The structural nodes those build on are here too: ``Reshape``, ``Transpose``,
``BroadcastTo`` and ``Concatenate`` (with ``reshape``, ``transpose``,
``broadcast_to``, ``concatenate``, ``stack``, ``squeeze``, ``expand_dims`` and
their numpy spellings), each with a backward that is the inverse map (or, for
``broadcast_to``, ``sum_to``); indexing is in :mod:`reverse.rules.indexing`.

Examples
--------
>>> import numpy as np
>>> from reverse import Variable
>>> x = Variable([1.0, 2.0])
>>> np.sum(np.tile(x, 3) * np.arange(6.0)).backward()
>>> x.grad
variable([6. 9.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _exactdiff import shape as _s
from _exactdiff._common import operand as _operand
from _exactdiff.statistics import cast_pieces

from .. import core
from ..core import FUNCTIONS, UFUNCS, Function, Variable, _value
from ..utils import sum_to
from ._util import _arg, _reject
from .unary import _UNARY_CLASSES

__all__ = ["Reshape", "Transpose", "BroadcastTo", "Concatenate", "reshape", "transpose",
           "broadcast_to", "concatenate", "stack", "squeeze", "expand_dims"]


# ----------------------------------------------------------------------------
# Structural Functions and their numpy spellings
# ----------------------------------------------------------------------------


class Reshape(Function):
    """Reshape (the gradient is reshaped back).

    Parameters
    ----------
    shape : tuple of int
        The new shape (one entry may be -1).

    Examples
    --------
    >>> from reverse import Variable
    >>> Reshape((2, 1))(Variable([1.0, 2.0])).shape
    (2, 1)
    """

    __slots__ = ("shape",)

    def __init__(self, shape: Any) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        return np.reshape(x, self.shape)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        return np.reshape(gy, x.shape)


class Transpose(Function):
    """Permute axes (``axes=None`` reverses them).

    Parameters
    ----------
    axes : tuple of int or None
        The permutation.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> Transpose(None)(Variable(np.ones((2, 3)))).shape
    (3, 2)
    """

    __slots__ = ("axes",)

    def __init__(self, axes: Any = None) -> None:
        self.axes = None if axes is None else tuple(int(a) for a in axes)

    def forward(self, x: Any) -> Any:
        return np.transpose(x, self.axes)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        if self.axes is None:
            return np.transpose(gy)
        nd = len(self.axes)
        inverse = tuple(np.argsort([a % nd for a in self.axes]))
        return np.transpose(gy, inverse)


class BroadcastTo(Function):
    """Broadcast to ``shape``; the gradient is summed back (``sum_to``).

    Parameters
    ----------
    shape : tuple of int
        The target shape.

    Examples
    --------
    >>> from reverse import Variable
    >>> BroadcastTo((2, 3))(Variable([1.0, 2.0, 3.0])).shape
    (2, 3)
    """

    __slots__ = ("shape",)
    _value_inputs = "none"  # only shapes (core._sweep_call)
    _value_output = False

    def __init__(self, shape: Any) -> None:
        self.shape = tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)

    def forward(self, x: Any) -> Any:
        return np.broadcast_to(x, self.shape)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        return sum_to(gy, x.shape)


class Concatenate(Function):
    """Join along an existing axis; the gradient is sliced back.

    Parameters
    ----------
    axis : int
        The axis to join along.

    Examples
    --------
    >>> from reverse import Variable
    >>> Concatenate(0)(Variable([1.0]), [2.0, 3.0])
    variable([1. 2. 3.])
    """

    __slots__ = ("axis",)

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *xs: Any) -> Any:
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy: Any, y: Any, *xs: Any) -> Any:
        axis = self.axis % len(gy.shape)
        grads = []
        start = 0
        for inp, x in zip(self._inputs, xs):
            stop = start + x.shape[axis]
            if isinstance(inp, Variable):
                grads.append(gy[(slice(None),) * axis + (slice(start, stop),)])
            else:
                grads.append(None)
            start = stop
        return tuple(grads)


def _as_operand_array(x: Any) -> Any:
    """A constant Python number or numpy scalar as a 0-d array (it needs a shape)."""
    if isinstance(x, Variable) or core._is_dual(x) or isinstance(x, np.ndarray):
        return x
    return np.asarray(x, dtype=np.float64 if isinstance(x, (int, float, bool)) else None)


def reshape(x: Any, shape: Any) -> Variable:
    """Reshape to ``shape`` (``-1`` allowed).

    Parameters
    ----------
    x : Variable or array_like
        The values.
    shape : int or tuple of int
        The new shape; one entry may be -1.

    Returns
    -------
    Variable
        The same values in the new shape.

    Examples
    --------
    >>> reshape([1.0, 2.0, 3.0, 4.0], (2, 2)).shape
    (2, 2)
    """
    x = _arg(x, "reshape")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(shape)
    if isinstance(x, Variable) and x.shape == shape:
        return x
    return Reshape(shape)(x)


def transpose(x: Any, axes: Any = None) -> Variable:
    """Permute axes (reverse them by default).

    Parameters
    ----------
    x : Variable or array_like
        The values.
    axes : tuple of int, optional
        The permutation; None reverses the axes.

    Returns
    -------
    Variable
        The transposed values.

    Examples
    --------
    >>> import numpy as np
    >>> transpose(np.ones((2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    return Transpose(axes)(_arg(x, "transpose"))


def broadcast_to(x: Any, shape: Any) -> Variable:
    """Broadcast to ``shape``.

    Parameters
    ----------
    x : Variable or array_like
        The values.
    shape : tuple of int
        The target shape (numpy's broadcasting rules).

    Returns
    -------
    Variable
        The broadcast values; the gradient is summed back to ``x``'s shape.

    Examples
    --------
    >>> broadcast_to(1.0, (2, 2)).shape
    (2, 2)
    """
    x = _arg(x, "broadcast_to")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if isinstance(x, Variable) and x.shape == shape:
        return x
    return BroadcastTo(shape)(x)


def concatenate(xs: Any, axis: int | None = 0) -> Variable:
    """Join a sequence along ``axis`` (``axis=None`` flattens first).

    Parameters
    ----------
    xs : sequence of Variable or array_like
        The pieces (shapes equal except along ``axis``).
    axis : int or None
        The axis to join along.

    Returns
    -------
    Variable
        The joined values; each piece gets its slice of the gradient.

    Examples
    --------
    >>> from reverse import Variable
    >>> concatenate([Variable([1.0]), [2.0]])
    variable([1. 2.])
    """
    # (a list inside holding Variables, np.concatenate([x, [x[0], 1.0]]), is stacked first)
    xs = [_as_operand_array(_arg(_operand(x), "concatenate")) for x in xs]
    if axis is None:
        xs = [reshape(x, (-1,)) for x in xs]
        axis = 0
    return Concatenate(int(axis))(*xs)


def stack(xs: Any, axis: int = 0) -> Variable:
    """Join a sequence along a new axis.

    Parameters
    ----------
    xs : sequence of Variable or array_like
        The pieces, all of one shape.
    axis : int
        Position of the new axis in the result.

    Returns
    -------
    Variable
        The stacked values.

    Examples
    --------
    >>> from reverse import Variable
    >>> stack([Variable([1.0, 2.0]), [3.0, 4.0]], axis=1).shape
    (2, 2)
    """
    # (a list inside holding Variables, np.stack([x, [x[0], 1.0]]), is stacked first)
    xs = [_as_operand_array(_arg(_operand(x), "stack")) for x in xs]
    if not xs:
        raise ValueError("stack: need at least one array")
    shape = np.shape(_value(xs[0]))
    ax = axis % (len(shape) + 1)
    new = shape[:ax] + (1,) + shape[ax:]
    return Concatenate(ax)(*[reshape(x, new) for x in xs])


def squeeze(x: Any, axis: Any = None) -> Variable:
    """Remove axes of length one.

    Parameters
    ----------
    x : Variable or array_like
        The values.
    axis : int or tuple of int, optional
        The axes to remove (each of length one); None removes all.

    Returns
    -------
    Variable
        The same values without those axes.

    Raises
    ------
    ValueError
        If a named axis does not have length one.

    Examples
    --------
    >>> squeeze([[1.0, 2.0]]).shape
    (2,)
    """
    x = _arg(x, "squeeze")
    shape = np.shape(_value(x))
    if axis is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
        for a in axes:
            if shape[a] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size "
                                 "not equal to one")
        new = tuple(n for i, n in enumerate(shape) if i not in axes)
    return reshape(x, new)


def expand_dims(x: Any, axis: Any) -> Variable:
    """Insert axes of length one at ``axis``.

    Parameters
    ----------
    x : Variable or array_like
        The values.
    axis : int or tuple of int
        Positions of the new axes in the result.

    Returns
    -------
    Variable
        The same values with the new axes.

    Examples
    --------
    >>> expand_dims([1.0, 2.0], 0).shape
    (1, 2)
    """
    x = _arg(x, "expand_dims")
    shape = list(np.shape(_value(x)))
    axes = axis if isinstance(axis, tuple) else (axis,)
    nd = len(shape) + len(axes)
    for a in sorted(a % nd for a in axes):
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


def _np_reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None,
                copy: Any = None) -> Variable:
    shape = newshape if shape is None else shape
    if order != "C" and order is not None:
        return _s.reshape_fortran(_arg(a, "reshape"), shape, order, "reverse")
    return reshape(a, shape)


def _np_transpose(a: Any, axes: Any = None) -> Variable:
    return transpose(a, axes)


def _np_broadcast_to(array: Any, shape: Any, subok: bool = False) -> Variable:
    return broadcast_to(array, shape)


def _np_concatenate(arrays: Any, axis: Any = 0, out: Any = None, dtype: Any = None,
                    casting: str = "same_kind", **kwargs: Any) -> Variable:
    _reject("concatenate", out=out, **kwargs)
    return concatenate(cast_pieces("concatenate", arrays, dtype, casting), axis)


def _np_stack(arrays: Any, axis: int = 0, out: Any = None, dtype: Any = None,
              casting: str = "same_kind", **kwargs: Any) -> Variable:
    _reject("stack", out=out, **kwargs)
    return stack(cast_pieces("stack", arrays, dtype, casting), axis)


def _np_ravel(a: Any, order: str = "C") -> Variable:
    if order != "C" and order is not None:
        return _s.reshape_fortran(_arg(a, "ravel"), (-1,), order, "reverse")
    return reshape(a, (-1,))


def _np_copy(a: Any, *args: Any, **kwargs: Any) -> Variable:
    return _UNARY_CLASSES["Positive"]()(_arg(a, "copy"))


FUNCTIONS.update({
    np.reshape: _np_reshape,
    np.transpose: _np_transpose,
    np.broadcast_to: _np_broadcast_to,
    np.concatenate: _np_concatenate,
    np.stack: _np_stack,
    np.squeeze: squeeze,
    np.expand_dims: expand_dims,
    np.ravel: _np_ravel,
    np.copy: _np_copy,
})


# ----------------------------------------------------------------------------
# Shared with forward mode (_exactdiff.shape)
# ----------------------------------------------------------------------------
#: numpy function -> shared implementation registered for Variables.
RULES = dict(_s.NUMPY_FUNCTIONS)

FUNCTIONS.update(RULES)

# conj of a real number is the number itself
UFUNCS[np.conjugate] = UFUNCS[np.positive]
core.UNARY_UFUNCS[np.conjugate] = core.UNARY_UFUNCS[np.positive]
