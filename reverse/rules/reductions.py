"""Reverse-mode rules of the reductions: ``sum``, ``prod``, ``mean``, ``max``
and ``min`` (``np.amax``/``np.amin`` too).

``Sum``'s gradient is broadcast back; ``Prod``'s is ``y / x`` in a backward pass
that nothing differentiates again, otherwise (and with a zero entry) the product
of the other entries as exclusive cumulative products (exact at every order);
``Max``/``Min`` share the gradient equally among tied extremes (JAX's convention).
``where=``/``initial=`` are layered on top by :mod:`reverse.rules.statistics`,
which holds ``cumsum``, ``var``, ``std`` and the other statistics.

Examples
--------
>>> from reverse import Variable
>>> x = Variable([2.0, 0.0, 3.0])
>>> prod(x).backward()
>>> x.grad
variable([0. 6. 0.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from _exactdiff import arrays as _arrays

from .. import core
from ..core import FUNCTIONS, Function, Variable, _value
from ..utils import expand_to, reduce_shape
from ._util import _arg, _reject

__all__ = ["Sum", "Prod", "Max", "Min", "sum", "prod", "mean", "max", "min"]


def _check_axis(axis: Any) -> Any:
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis


class Sum(Function):
    """Sum over ``axis``; the gradient is broadcast back.

    Parameters
    ----------
    axis : int or tuple of int or None
        Axes to sum over; None sums every element.
    keepdims : bool
        Keep the summed axes with length one.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> Sum(0, False)(Variable(np.ones((2, 3))))
    variable([2. 2. 2.])
    """

    __slots__ = ("axis", "keepdims")
    _value_inputs = "none"  # only shapes (core._sweep_call)
    _value_output = False

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self.axis = _check_axis(axis)
        self.keepdims = bool(keepdims)

    def forward(self, x: Any) -> Any:
        if type(x) is np.ndarray and x.dtype.kind == "f":
            # what np.sum runs, without its ~2 us Python wrapper
            return np.add.reduce(x, axis=self.axis, keepdims=self.keepdims)
        if self.axis is None and not self.keepdims:
            return np.sum(x)  # the same sum; a Dual takes its short path for np.sum(x)
        return np.sum(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        shape = x.shape
        # a 0-d gy (a full sum) broadcasts as it is: no reshape (~1.5 us)
        if not self.keepdims and shape and getattr(gy, "ndim", 1):
            gy = np.reshape(gy, reduce_shape(shape, self.axis))
        if type(x) is not np.ndarray and shape:
            xv = _value(x)
            if _arrays.is_lazy(xv):  # broadcast chunk by chunk, not as one chunk
                return _arrays.expand_like(gy, xv)
        return expand_to(gy, shape)


class Prod(Function):
    """Product over ``axis`` (zero-safe first derivative, see module notes).

    Parameters
    ----------
    axis : int or tuple of int or None
        Axes to multiply over; None multiplies every element.
    keepdims : bool
        Keep the reduced axes with length one.

    Examples
    --------
    >>> from reverse import Variable
    >>> Prod()(Variable([2.0, 3.0]))
    variable(6.)
    """

    __slots__ = ("axis", "keepdims")

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self.axis = _check_axis(axis)
        self.keepdims = bool(keepdims)

    def forward(self, x: Any) -> Any:
        return np.prod(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        kd = reduce_shape(x.shape, self.axis)
        gy = np.reshape(gy, kd)
        xv = _value(x)
        if _final(gy, x) and not _arrays.is_lazy(xv) and not np.any(xv == 0) and _normal(
                _value(y)):
            # y / x: the gradient to an ulp or two wherever no entry is zero and the
            # product is a normal float (lazy data: no compute, as before).  Only
            # where nothing differentiates it again: its derivative by x_i,
            # (y / x_i) / x_i - y / x_i**2, is exactly 0 but comes out as the
            # rounding of two terms of size y / x_i**2 (rv.hessian(np.prod) at
            # [0.1, 0.2, 0.3, 0.4] had -5.6e-17 on its diagonal, the third
            # derivative of prod(x)**2 at [1, 1, -1e-50] along (1, 0.25, 2) was 20,
            # truth 60, and 4e34 through hyperdual over reverse).
            return gy * (np.reshape(y, kd) / x)
        # Differentiated again (a graph or Dual data), with a zero entry, or a product
        # that under/overflows (prod of four 1e-150s is 0, its Hessian entries
        # 1e-300): the product of the others as exclusive cumulative products from
        # both sides, built of slices, products and concatenations only, so every
        # order of derivative is exact (and Hessians symmetric, diagonals 0).
        return gy * _prod_others(x, self.axis)


def _final(gy: Any, x: Any) -> bool:
    """Whether the backward pass is not itself differentiated: plain data, no graph
    (``create_graph``) and no Dual parts (forward-over-reverse, a reverse helper
    inside a hyperdual one)."""
    return not (isinstance(gy, Variable) or isinstance(x, Variable)
                or core._is_dual(gy) or core._is_dual(x))


def _normal(y: Any) -> bool:
    """Whether every entry of the product ``y`` (plain values) is a normal float (not
    0, subnormal, inf or nan), so that ``y / x`` keeps the products of the others."""
    if _arrays.is_foreign_array(y):  # dask/CuPy/sparse: as before (no compute, no copy)
        return True
    a = np.abs(np.asarray(y))
    if a.dtype.kind != "f":
        return True
    info = np.finfo(a.dtype)
    return bool(np.all((a >= info.tiny) & (a <= info.max)))


def _exclusive_cumprod(z: Any) -> Any:
    """prod(z[..., :k]) for every k, along the last axis (a log-step scan)."""
    n = z.shape[-1]
    c, d = z, 1
    while d < n:
        c = np.concatenate([c[..., :d], c[..., d:] * c[..., :-d]], axis=-1)
        d *= 2
    ones = np.ones(z.shape[:-1] + (1,), dtype=core._seed_dtype(z))
    return np.concatenate([ones, c[..., :-1]], axis=-1)


def _prod_others(x: Any, axis: Any) -> Any:
    """For each entry, the product of the other entries of its reduced slice."""
    shape = tuple(x.shape)
    nd = len(shape)
    if axis is None:
        axes = tuple(range(nd))
    else:
        axes = tuple(sorted({a % nd for a in (axis if isinstance(axis, tuple) else (axis,))}))
    keep = [a for a in range(nd) if a not in axes]
    perm = keep + list(axes)
    moved = x if perm == list(range(nd)) else np.transpose(x, perm)
    kshape = tuple(shape[a] for a in keep)
    z = np.reshape(moved, kshape + (math.prod(shape[a] for a in axes),))
    others = _exclusive_cumprod(z) * _exclusive_cumprod(z[..., ::-1])[..., ::-1]
    others = np.reshape(others, tuple(shape[a] for a in perm))
    if perm == list(range(nd)):
        return others
    return np.transpose(others, tuple(np.argsort(perm)))


class Max(Function):
    """Maximum over ``axis``; ties share the gradient equally (JAX).

    Parameters
    ----------
    axis : int or tuple of int or None
        Axes to reduce; None reduces every element.
    keepdims : bool
        Keep the reduced axes with length one.

    Examples
    --------
    >>> from reverse import Variable
    >>> Max()(Variable([1.0, 3.0, 2.0]))
    variable(3.)
    """

    __slots__ = ("axis", "keepdims")
    _reduce = staticmethod(np.max)

    def __init__(self, axis: Any = None, keepdims: bool = False) -> None:
        self.axis = _check_axis(axis)
        self.keepdims = bool(keepdims)

    def forward(self, x: Any) -> Any:
        return self._reduce(x, axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        kd = reduce_shape(x.shape, self.axis)
        xv = _value(x)
        # a NaN entry is the one selected (the value is NaN there, as maximum picks a
        # NaN operand): it takes the cotangent, and no slice has a count of 0 (0 / 0)
        hit = (xv == np.reshape(_value(y), kd)) | (xv != xv)
        weight = hit / np.sum(hit, axis=self.axis, keepdims=True)
        # (a float64 weight would promote a float32 gradient)
        return np.reshape(gy, kd) * weight.astype(core._seed_dtype(x), copy=False)


class Min(Max):
    """Minimum over ``axis``; ties share the gradient equally (JAX).

    Parameters
    ----------
    axis : int or tuple of int or None
        Axes to reduce; None reduces every element.
    keepdims : bool
        Keep the reduced axes with length one.

    Examples
    --------
    >>> from reverse import Variable
    >>> Min()(Variable([1.0, 3.0, 2.0]))
    variable(1.)
    """

    __slots__ = ()
    _reduce = staticmethod(np.min)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Sum of elements over ``axis`` (all by default).

    Parameters
    ----------
    x : Variable or array_like
        The values.
    axis : int or tuple of int, optional
        Axes to reduce (negative counts from the end); None reduces every element.
    keepdims : bool
        Keep the reduced axes with length one.

    Returns
    -------
    Variable
        The sum; its gradient is the output gradient broadcast back.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.arange(6.0).reshape(2, 3))
    >>> y = sum(x, axis=1)
    >>> y
    variable([ 3. 12.])
    """
    return Sum(axis, keepdims)(_arg(x, "sum"))


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Product of elements over ``axis``.

    Parameters
    ----------
    x : Variable or array_like
        The values.
    axis : int or tuple of int, optional
        Axes to reduce (negative counts from the end); None reduces every element.
    keepdims : bool
        Keep the reduced axes with length one.

    Returns
    -------
    Variable
        The product; its gradient is exact with zero entries too.

    Examples
    --------
    >>> prod([2.0, 3.0, 4.0])
    variable(24.)
    """
    return Prod(axis, keepdims)(_arg(x, "prod"))


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Arithmetic mean over ``axis``.

    Parameters
    ----------
    x : Variable or array_like
        The values.
    axis : int or tuple of int, optional
        Axes to reduce (negative counts from the end); None reduces every element.
    keepdims : bool
        Keep the reduced axes with length one.

    Returns
    -------
    Variable
        The mean (the sum divided by the number of reduced elements).

    Examples
    --------
    >>> mean([1.0, 2.0, 6.0])
    variable(3.)
    """
    x = _arg(x, "mean")
    shape = np.shape(_value(x))
    axis = _check_axis(axis)
    n = math.prod(shape) if axis is None else math.prod(
        shape[a] for a in (axis if isinstance(axis, tuple) else (axis,)))
    total = Sum(axis, keepdims)(x)
    return total * (1.0 / n) if n else total / 0.0


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient equally.

    Parameters
    ----------
    x : Variable or array_like
        The values.
    axis : int or tuple of int, optional
        Axes to reduce (negative counts from the end); None reduces every element.
    keepdims : bool
        Keep the reduced axes with length one.

    Returns
    -------
    Variable
        The maximum.

    Examples
    --------
    >>> from reverse import Variable
    >>> x = Variable([1.0, 3.0, 3.0])
    >>> max(x).backward()
    >>> x.grad
    variable([0.  0.5 0.5])
    """
    return Max(axis, keepdims)(_arg(x, "max"))


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient equally.

    Parameters
    ----------
    x : Variable or array_like
        The values.
    axis : int or tuple of int, optional
        Axes to reduce (negative counts from the end); None reduces every element.
    keepdims : bool
        Keep the reduced axes with length one.

    Returns
    -------
    Variable
        The minimum.

    Examples
    --------
    >>> min([[1.0, 5.0], [0.0, 2.0]], axis=1)
    variable([1. 0.])
    """
    return Min(axis, keepdims)(_arg(x, "min"))


def _np_reduction(fn: Any, fname: str) -> Any:
    def impl(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: Any = False, **kwargs: Any) -> Variable:
        _reject(fname, dtype=dtype, out=out, **kwargs)
        return fn(a, axis=axis, keepdims=bool(keepdims) if keepdims is not np._NoValue
                  else False)
    return impl


def _np_extremum(fn: Any, fname: str) -> Any:
    def impl(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False,
             **kwargs: Any) -> Variable:
        _reject(fname, out=out, **kwargs)
        return fn(a, axis=axis, keepdims=bool(keepdims) if keepdims is not np._NoValue
                  else False)
    return impl


FUNCTIONS[np.sum] = _np_reduction(sum, "sum")
FUNCTIONS[np.prod] = _np_reduction(prod, "prod")
FUNCTIONS[np.mean] = _np_reduction(mean, "mean")
for _f, _name in ((max, "max"), (min, "min")):
    for _np_f in {getattr(np, _name), getattr(np, "a" + _name, None)} - {None}:
        FUNCTIONS[_np_f] = _np_extremum(_f, _name)
