"""Shape helpers used by backward formulas; each works on raw data and on Variables.

On raw arrays (the default, fast backward) they compute values; on Variables
(``create_graph=True``) they record ``Function`` nodes, so a backward formula
written with them is differentiable again.

Examples
--------
>>> import numpy as np
>>> sum_to(np.ones((2, 3)), (1, 3))
array([[2., 2., 2.]])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from _exactdiff import arrays as _arrays
from _exactdiff.arrays import is_foreign_array as _is_foreign

from . import core
from .core import Function, Variable, _is_dual, _value

_float64 = np.dtype(np.float64)

__all__ = [
    "ScatterAdd",
    "expand_to",
    "SumTo",
    "is_basic_index",
    "logsumexp",
    "reduce_shape",
    "scatter_add",
    "squeezed_shape",
    "sum_to",
    "value",
]



def value(obj: Any) -> Any:
    """Plain values of a Variable, Dual or array (constants of differentiation).

    Parameters
    ----------
    obj : Variable or hyperdual.Dual or array_like or float
        Any value a backward formula may meet.

    Returns
    -------
    numpy.ndarray or float
        The numbers without any derivative part: a Variable's data, a Dual's
        real part (recursively), anything else unchanged.

    Examples
    --------
    >>> value(Variable([1.0, 2.0]))
    array([1., 2.])
    """
    return _value(obj)


def _sum_to_raw(x: Any, shape: tuple[int, ...]) -> Any:
    xshape = x.shape
    if xshape == shape:
        return x
    lead = len(xshape) - len(shape)
    if lead < 0:
        raise ValueError(f"sum_to: cannot reduce shape {xshape} to the larger shape {shape}")
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and xshape[i + lead] != 1
    )
    y = np.sum(x, axis=axes, keepdims=True) if axes else x
    if y.shape[lead:] != shape and any(  # (10, 20, 20) to (10,): not a broadcast of it
            a == a and b == b and a != b for a, b in zip(y.shape[lead:], shape)):
        # (a == a: a dask array's unknown length is nan, and matches anything)
        raise ValueError(f"sum_to: shape {xshape} is not a broadcast of {shape} (numpy's "
                         f"broadcasting matches trailing axes, each equal or 1 in {shape})")
    if lead:
        y = np.reshape(y, shape)
    return y


def expand_to(g: Any, shape: tuple[int, ...]) -> Any:
    """``np.broadcast_to(g, shape)``, materialised for small plain arrays.

    ``np.broadcast_to`` is implemented in Python (an ``nditer``) and costs
    several microseconds; filling a fresh array is cheaper below ~10**4
    elements, and a view is cheaper above.

    Parameters
    ----------
    g : numpy.ndarray or Variable or hyperdual.Dual
        The value to broadcast.
    shape : tuple of int
        The target shape (``g.shape`` must broadcast to it).

    Returns
    -------
    numpy.ndarray or Variable or hyperdual.Dual
        ``g`` broadcast to ``shape``: a new array for small plain arrays, a
        read-only view for large ones, a recorded node for a Variable.

    Examples
    --------
    >>> import numpy as np
    >>> expand_to(np.array([[1.0], [2.0]]), (2, 2))
    array([[1., 1.],
           [2., 2.]])
    """
    if type(g) is np.ndarray or isinstance(g, np.generic):
        if g.shape == shape:
            return g
        if math.prod(shape) <= 10000:
            out = np.empty(shape, dtype=g.dtype if g.dtype.kind == "f" else np.float64)
            out[...] = g
            return out
    return np.broadcast_to(g, shape)


class SumTo(Function):
    """Sum a broadcast array back to ``shape`` (the adjoint of ``broadcast_to``).

    Parameters
    ----------
    shape : tuple of int
        The shape of the result.

    Examples
    --------
    >>> import numpy as np
    >>> SumTo((1, 2))(Variable(np.ones((3, 2))))
    variable([[3. 3.]])
    """

    __slots__ = ("shape",)
    _value_inputs = "none"  # only shapes (core._sweep_call)
    _value_output = False

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def forward(self, x: Any) -> Any:
        return _sum_to_raw(x, self.shape)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        if type(x) is not np.ndarray:
            xv = _value(x)
            if _arrays.is_lazy(xv):  # broadcast chunk by chunk, not as one chunk
                return _arrays.expand_like(gy, xv)
        return expand_to(gy, x.shape)


def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``x`` over broadcast axes so that it has ``shape``.

    Returns ``x`` itself when the shape already matches.

    Parameters
    ----------
    x : ndarray or Variable
        The broadcast value (a Variable is summed by a recorded ``SumTo``).
    shape : tuple of int
        The target shape; ``x.shape`` must broadcast from it.

    Returns
    -------
    ndarray or Variable
        ``x`` summed over the leading and the stretched axes, with ``shape``.

    Examples
    --------
    >>> import numpy as np
    >>> sum_to(np.ones((4, 2, 3)), (3,))
    array([8., 8., 8.])
    """
    if type(shape) is not tuple:
        shape = tuple(shape)
    if x.shape == shape:
        return x
    if isinstance(x, Variable):
        return SumTo(shape)(x)
    return _sum_to_raw(x, shape)


def reduce_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """Shape of a ``keepdims=True`` reduction of ``shape`` over ``axis``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the reduced array.
    axis : int or tuple of int or None
        Reduced axes (negative counts from the end); None reduces all.

    Returns
    -------
    tuple of int
        ``shape`` with a 1 on every reduced axis.

    Examples
    --------
    >>> reduce_shape((2, 3, 4), (0, -1))
    (1, 3, 1)
    """
    ndim = len(shape)
    if axis is None:
        return (1,) * ndim
    if not isinstance(axis, tuple):
        axis = (axis,)
    axes = {a % ndim if ndim else a for a in axis}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def is_basic_index(index: Any) -> bool:
    """True if ``index`` selects each element at most once (ints, slices, None, ...).

    Parameters
    ----------
    index : object
        Anything that can index an array.

    Returns
    -------
    bool
        True for ints, slices, None, Ellipsis and tuples of those; False for
        integer arrays, lists and boolean masks (which may repeat or need a
        scatter-add in the backward pass).

    Examples
    --------
    >>> is_basic_index((slice(1, None), 0))
    True
    >>> is_basic_index([0, 0])
    False
    """
    if type(index) is slice:
        return True
    if not isinstance(index, tuple):
        index = (index,)
    for i in index:
        if isinstance(i, (bool, np.bool_)):
            return False  # a boolean scalar index is a mask, not a position
        if not (i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer))):
            return False
    return True


def _scatter_raw(gy: Any, index: Any, shape: tuple[int, ...]) -> Any:
    if isinstance(gy, (np.ndarray, np.generic, float, int)):
        dt = getattr(gy, "dtype", None)
        dt = dt if dt is not None and dt.kind == "f" else _float64
        # in a large trace, a buffer of the pool's (core.pooled_out): a fresh
        # np.zeros page-faults its memory in (a third of an HVP at n = 10**5)
        gx = core._take(tuple(shape), dt) if core._POOLING else None
        basic = is_basic_index(index)
        if gx is None:
            gx = np.zeros(shape, dtype=dt)
        elif basic:
            core.fill_scattered(gx, index, gy)  # (zeros only outside the index)
            return gx
        else:
            gx.fill(0.0)
        if basic:
            # Plain assignment is several times faster than np.add.at and exact
            # here because a basic index never repeats an element.
            gx[index] = gy
        else:
            np.add.at(gx, index, gy)
        return gx
    if _is_dual(gy):
        import hyperdual  # lazy: reverse must import even while hyperdual is broken

        return hyperdual.scatter_add(shape, index, gy)
    if _is_foreign(gy):  # dask, CuPy: no in-place writes on lazy arrays
        return _arrays.scatter_add(shape, index, gy)
    raise TypeError(f"reverse: cannot scatter a gradient of type {type(gy).__name__}")


class ScatterAdd(Function):
    """Zeros of ``shape`` with ``gy`` added at ``index`` (the adjoint of indexing).

    Parameters
    ----------
    index : object
        The index the forward pass selected with (repeats accumulate).
    shape : tuple of int
        Shape of the indexed array (and of the result).

    Examples
    --------
    >>> ScatterAdd([1, 1], (3,))(Variable([1.0, 2.0]))
    variable([0. 3. 0.])
    """

    __slots__ = ("index", "shape")
    _value_inputs = "none"  # only shapes (core._sweep_call)
    _value_output = False

    def __init__(self, index: Any, shape: tuple[int, ...]) -> None:
        self.index = index
        self.shape = shape

    def forward(self, gy: Any) -> Any:
        return _scatter_raw(gy, self.index, self.shape)

    def backward(self, ggx: Any, y: Any, gy: Any) -> Any:
        if type(ggx) is np.ndarray:
            ggx = _arrays.lazy_for_mask(ggx, self.index)
        return ggx[self.index]


def scatter_add(gy: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """Return zeros of ``shape`` with ``gy`` added at ``index`` (repeats accumulate).

    Parameters
    ----------
    gy : numpy.ndarray or Variable or hyperdual.Dual
        The gradient of ``x[index]``.
    index : object
        The index used in the forward pass.
    shape : tuple of int
        Shape of ``x``.

    Returns
    -------
    numpy.ndarray or Variable or hyperdual.Dual
        The gradient of ``x``: a recorded ``ScatterAdd`` for a Variable, a new
        array (or Dual, or lazy array) otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> scatter_add(np.array([1.0, 2.0]), [0, 0], (3,))
    array([3., 0., 0.])
    """
    if isinstance(gy, Variable):
        return ScatterAdd(index, shape)(gy)
    return _scatter_raw(gy, index, shape)


def logsumexp(x: Any, axis: Any = -1, keepdims: bool = True) -> Any:
    """Stable ``log(sum(exp(x), axis))`` on raw data or Variables.

    The shift by the maximum is a constant of the differentiation (the result
    does not depend on it), so it is taken from the plain values.

    Parameters
    ----------
    x : numpy.ndarray or Variable
        The values.
    axis : int or tuple of int or None
        Axes to reduce (default the last).
    keepdims : bool
        Keep the reduced axes with length one (default True, as a backward
        formula needs it for broadcasting).

    Returns
    -------
    numpy.ndarray or Variable
        ``log(sum(exp(x), axis))``, without overflow for large ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> float(logsumexp(np.array([1000.0, 1000.0]), keepdims=False))
    1000.6931471805599
    """
    m = np.max(_value(x), axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    s = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        s = np.reshape(s, squeezed_shape(x.shape, axis))
    return s


def squeezed_shape(shape: tuple[int, ...], axis: Any) -> tuple[int, ...]:
    """Shape of a ``keepdims=False`` reduction of ``shape`` over ``axis``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the reduced array.
    axis : int or tuple of int or None
        Reduced axes (negative counts from the end); None reduces all.

    Returns
    -------
    tuple of int
        ``shape`` without the reduced axes.

    Examples
    --------
    >>> squeezed_shape((2, 3, 4), 1)
    (2, 4)
    """
    if axis is None:
        return ()
    if not isinstance(axis, tuple):
        axis = (axis,)
    ndim = len(shape)
    axes = {a % ndim for a in axis}
    return tuple(n for i, n in enumerate(shape) if i not in axes)
