"""Forward-mode rules for the reductions: ``sum``, ``mean``, ``prod``, ``max``/``amax``
and ``min``/``amin``.

A sum is linear, so every part is summed along the same axes (shifted past
the direction axes); ``prod`` is the product rule, one factor at a time, so a
zero entry keeps its exact derivative; ``max``/``min`` share the derivative
equally among tied extremes (JAX's convention, as in reverse mode).  The
``where=``/``initial=`` keywords are layered on top of these by
:mod:`hyperdual.rules.statistics`, which also holds ``cumsum``, ``var``,
``std`` and the other statistics; ``trace`` is in :mod:`hyperdual.rules.linalg`.

Examples
--------
>>> import numpy as np
>>> from hyperdual import Dual
>>> np.prod(Dual(np.array([2.0, 0.0]), np.array([1.0, 1.0]))).dual
2.0
"""

from __future__ import annotations

import numpy as np

from .. import _generic as g
from .._number import (
    _add_reduce,
    _map_parts,
    _no_out,
    _norm_axis,
    _Number,
    _shift,
    _sum_finite,
    _tidy,
    implements,
)
from .shape import expand_dims, moveaxis, ravel, reshape, squeeze

# What hyperdual exports from this module (as hyperdual.<name>); the other
# functions here are rules that numpy dispatch reaches (np.swapaxes(x) ...).
__all__ = ["sum_", "mean", "prod", "max_", "min_"]



@implements(np.sum)
def sum_(x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """Sum of the elements of an array, a Dual or a HyperDual (each part is summed).

    Also reached through ``np.sum`` on Duals and HyperDuals.

    Parameters
    ----------
    x : array_like, Dual or HyperDual
        The values.
    axis : int, tuple of int or None
        Axes to reduce (None: all).
    keepdims : bool
        Keep the reduced axes with length one.
    dtype, out, **kw
        As in numpy; ``out`` is refused with a ``TypeError`` (no in-place results).

    Returns
    -------
    Dual, HyperDual or ndarray
        The sum; a plain numpy result for plain input.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.sum(x)
    Dual(6.0, 1.0)
    """
    _no_out("sum", out)
    if not isinstance(x, _Number):
        return np.sum(x, axis=axis, keepdims=keepdims)
    nr = x.ndim
    ax = _norm_axis(axis, nr)

    def fn(p, nd):
        if type(p) is float:
            return p
        a = tuple(range(nd, nd + nr)) if ax is None else _shift(ax, nd)
        if type(p) is np.ndarray and p.dtype.kind == "f":
            return _add_reduce(p, axis=a, keepdims=keepdims)  # np.sum minus its wrapper
        return np.sum(p, axis=a, keepdims=keepdims)

    return _map_parts(x, fn)


@implements(np.mean)
def mean(x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """Mean of the elements along ``axis``, derivative parts included.

    Also reached through ``np.mean`` on Duals and HyperDuals.

    Parameters
    ----------
    x : array_like, Dual or HyperDual
        The values.
    axis : int, tuple of int or None
        Axes to reduce (None: all).
    keepdims : bool
        Keep the reduced axes with length one.
    dtype, out, **kw
        As in numpy; ``out`` is refused with a ``TypeError`` (no in-place results).

    Returns
    -------
    Dual, HyperDual or ndarray
        The mean.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.mean(x)
    Dual(2.0, 0.3333333333333333)
    """
    _no_out("mean", out)
    shape = np.shape(g.real_value(x))
    ax = _norm_axis(axis, len(shape))
    if ax is None:
        count = int(np.prod(shape, dtype=np.int64))
    else:
        axes = ax if isinstance(ax, tuple) else (ax,)
        count = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    return sum_(x, axis=axis, keepdims=keepdims) / float(count)


@implements(np.prod)
def prod(x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    """Product of the elements along ``axis`` (product rule; exact at zero entries).

    Also reached through ``np.prod`` on Duals and HyperDuals.

    Parameters
    ----------
    x : array_like, Dual or HyperDual
        The values.
    axis : int, tuple of int or None
        Axes to reduce (None: all).
    keepdims : bool
        Keep the reduced axes with length one.
    dtype, out, **kw
        As in numpy; ``out`` is refused with a ``TypeError`` (no in-place results).

    Returns
    -------
    Dual, HyperDual or ndarray
        The product.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.prod(x)
    Dual(6.0, 6.0)
    """
    _no_out("prod", out)
    if axis is None:
        flat = ravel(x)
        res = _prod0(flat)
        return reshape(res, (1,) * x.ndim) if keepdims else res
    ax = _norm_axis(axis, x.ndim)
    if isinstance(ax, tuple):
        # one axis at a time, the last first, so the others keep their numbers
        for a in sorted(set(ax), reverse=True):
            x = prod(x, axis=a, keepdims=keepdims)
        return x
    moved = moveaxis(x, ax, 0)
    res = _prod0(moved)
    return expand_dims(res, ax) if keepdims else res


def _prod0(x):
    n = x.shape[0]
    if n == 0:
        return sum_(x, axis=0) + 1.0
    res = x[0]
    for i in range(1, n):
        res = res * x[i]
    return res


def _select_extreme(x, axis, keepdims, argf):
    """max/min over ``axis``: the value of the extreme element; the derivative
    parts are shared equally among tied extremes (JAX's convention, as reverse)."""
    nr = x.ndim
    if nr == 0:
        return x
    red = np.max if argf is np.argmax else np.min
    r = g.real_value(x)
    axes = tuple(range(nr)) if axis is None else _norm_axis(axis, nr)
    axes = axes if isinstance(axes, tuple) else (axes,)
    # a NaN entry is the one selected (numpy's max is NaN there, as maximum picks
    # a NaN operand): it takes the derivative, and no slice has a count of 0
    hit = (r == red(r, axis=axes, keepdims=True)) | (r != r)
    w = hit / np.sum(hit, axis=axes, keepdims=True)
    if isinstance(r, np.ndarray) and r.dtype.kind == "f":
        w = w.astype(r.dtype, copy=False)
    parts = x._parts()
    nd = x.nd
    real = parts[0]
    if isinstance(real, _Number):  # nested: the value is shared among ties too
        # the elements that are not extreme get weight 0 and must not count even
        # where their value is inf (a masked entry of min(where=...)): 0 * inf
        out = [sum_(w * np.where(hit, real, 0.0), axis=axes, keepdims=True)]
    else:
        out = [red(real, axis=axes, keepdims=True)]
    sh = _shift(axes, nd)
    for p in parts[1:]:
        # likewise an inf/NaN derivative of an element that is not selected
        # (sqrt'(0) of a non-maximal entry) gives 0, as reverse mode's zero
        # cotangent does, not 0 * inf = NaN
        if isinstance(p, _Number) or not _sum_finite(p):
            p = np.where(hit, p, 0.0)
        wp = w * p
        out.append(sum_(wp, axis=sh, keepdims=True) if isinstance(wp, _Number)
                   else np.sum(wp, axis=sh, keepdims=True))
    res = type(x)._build([_tidy(o) for o in out], x.tag, nd)
    return res if keepdims else squeeze(res, axis=axes)


@implements(np.max, np.amax)
def max_(x, axis=None, out=None, keepdims=False, **kw):
    """Largest element along ``axis``; tied maxima share the derivative equally (as JAX).

    Also reached through ``np.max`` on Duals and HyperDuals.

    Parameters
    ----------
    x : array_like, Dual or HyperDual
        The values.
    axis : int, tuple of int or None
        Axes to reduce (None: all).
    keepdims : bool
        Keep the reduced axes with length one.
    out, **kw
        As in numpy; ``out`` is refused with a ``TypeError`` (no in-place results).

    Returns
    -------
    Dual, HyperDual or ndarray
        The maximum.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.max(x)
    Dual(3.0, 0.0)
    """
    _no_out("max", out)
    return _select_extreme(x, axis, keepdims, np.argmax)


@implements(np.min, np.amin)
def min_(x, axis=None, out=None, keepdims=False, **kw):
    """Smallest element along ``axis``; tied minima share the derivative equally (as JAX).

    Also reached through ``np.min`` on Duals and HyperDuals.

    Parameters
    ----------
    x : array_like, Dual or HyperDual
        The values.
    axis : int, tuple of int or None
        Axes to reduce (None: all).
    keepdims : bool
        Keep the reduced axes with length one.
    out, **kw
        As in numpy; ``out`` is refused with a ``TypeError`` (no in-place results).

    Returns
    -------
    Dual, HyperDual or ndarray
        The minimum.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.min(x)
    Dual(1.0, 1.0)
    """
    _no_out("min", out)
    return _select_extreme(x, axis, keepdims, np.argmin)
