"""More array building for both engines: ``np.ediff1d``, ``np.geomspace``, ``np.vander``
and ``np.bincount`` with differentiated ``weights``.

Written with numpy calls on whatever they are given (arrays, Duals, HyperDuals,
Taylor numbers, reverse Variables), so derivatives of every order and nesting follow
from the primitives; ``bincount`` sums the weights with the engine's own scatter-add
(repeated bins accumulate), which each engine passes to :func:`bincount_with`.

Conventions
-----------
* ``geomspace(start, stop)`` is ``start ** (1 - t) * stop ** t`` with ``t = k / (num - 1)``
  (``k / num`` without the endpoint; for negative ends the same of their absolute
  values, negated), differentiable in ``start`` and ``stop``, in range wherever the
  entries are (``start`` 1e-200, ``stop`` 1e200 included); its
  first and last entries are ``start`` and ``stop`` exactly, as numpy's; the others agree
  with numpy's to a few ulps.  Both ends must have one sign and be nonzero (numpy's
  ``ValueError`` otherwise).
* ``vander`` forms the powers by repeated multiplication (x**0 is the constant 1).
* ``bincount``: the bins ``x`` are constants (non-negative integers); ``weights`` may be
  differentiated; without weights the counts are a plain integer array, as numpy's.

Examples
--------
>>> import numpy as np
>>> ediff1d(np.array([1.0, 4.0, 9.0]), to_begin=0.0)
array([0., 3., 5.])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ._common import float_dtype, is_traced, plain, read_dtype, shape_of, unsupported, value
from .arrays import is_foreign_array, plain_array

__all__ = ["BUILDING", "bincount_with"]


def _flat(a: Any) -> Any:
    if is_traced(a):
        return np.reshape(a, (-1,))
    if isinstance(a, (list, tuple)) and any(is_traced(e) for e in a):
        # a list holding differentiated values (to_end=[1.0, x[2]]): joined, not
        # converted (np.asarray of it raised the "cannot convert" TypeError)
        return np.concatenate([_flat(e) for e in a])
    return np.ravel(np.asarray(a, dtype=float))


def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """``np.ediff1d``: the differences of the flattened array, with optional
    (differentiable) values before and after."""
    a = _flat(ary)
    dt = float_dtype(a)

    def cast(v: Any) -> Any:  # numpy casts to_begin/to_end to ary's dtype
        v = _flat(v)
        return v if plain_array(value(v)).dtype == dt else v.astype(dt)

    parts = [] if to_begin is None else [cast(to_begin)]
    parts.append(a[1:] - a[:-1])
    if to_end is not None:
        parts.append(cast(to_end))
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
              dtype: Any = None, axis: int = 0) -> Any:
    """``np.geomspace``: a geometric sequence from ``start`` to ``stop`` (see the
    module's conventions)."""
    num = operator.index(plain(num, "geomspace", "num"))
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    dt = read_dtype(dtype) if dtype is not None else float_dtype(start, stop)
    if dt.kind != "f":
        raise unsupported(f"numpy.geomspace: dtype {dt} has no derivative; use a float "
                          "dtype", start, stop)
    s0, s1 = np.asarray(value(start), dtype=float), np.asarray(value(stop), dtype=float)
    if np.any(s0 == 0) or np.any(s1 == 0):
        raise ValueError("Geometric sequence cannot include zero")
    if np.any(np.sign(s0) != np.sign(s1)):
        raise unsupported("numpy.geomspace: start and stop of opposite signs give a "
                          "complex sequence, which has no real derivative", start, stop)
    bshape = np.broadcast_shapes(np.shape(s0), np.shape(s1))
    div = (num - 1) if endpoint else num

    def end(e: Any) -> Any:
        return np.reshape(e * np.ones(bshape, dtype=dt), (1,) + bshape)

    parts = [end(start)]  # (the ends exactly start and stop, as numpy's)
    k = np.arange(1, num - 1 if endpoint else num)
    if k.size:
        # the interior entries sign * abs(start)**u * abs(stop)**t, t = k / div and
        # u = 1 - t (each rounded once): every factor and its derivatives are in range
        # wherever the entry is (start * (stop / start)**t overflowed or underflowed in
        # stop / start for ends such as 1e-200 and 1e200, losing the value or the
        # derivatives)
        col = (-1,) + (1,) * len(bshape)
        t = (k / div).astype(dt).reshape(col)
        u = ((div - k) / div).astype(dt).reshape(col)
        if np.any(s0 < 0):  # (both ends have one sign, checked above)
            sign = np.where(s0 < 0, -1.0, 1.0).astype(dt)
            parts.append(sign * ((sign * start) ** u * (sign * stop) ** t))
        else:
            parts.append(start ** u * stop ** t)
    if endpoint and num > 1:
        parts.append(end(stop))
    y = np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0][:num]
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    return y


def vander(x: Any, N: Any = None, increasing: bool = False) -> Any:
    """``np.vander``: the columns x**0, x**1, ..., x**(N-1) (decreasing unless
    ``increasing``), powers by repeated multiplication."""
    shape = shape_of(x)
    if len(shape) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    n = shape[0] if N is None else operator.index(plain(N, "vander", "N"))
    if n <= 0:
        return np.zeros((shape[0], 0), dtype=float_dtype(x))
    # x**0 is the constant 1 (x * 0 + 1 was NaN at x = inf or NaN, where numpy's is 1)
    cols: list = [np.ones(shape, dtype=float_dtype(x))]
    if n > 1:
        cols.append(x)
    for _ in range(2, n):
        cols.append(cols[-1] * x)
    if not increasing:
        cols = cols[::-1]
    return np.stack(cols, axis=1)


def bincount_with(scatter: Any) -> Any:
    """``np.bincount`` for an engine whose ``scatter(shape, index, values)`` returns
    zeros of ``shape`` with ``values`` added at ``index`` (repeats accumulate).

    Examples
    --------
    >>> import numpy as np
    >>> def scatter(shape, index, values):
    ...     out = np.zeros(shape)
    ...     np.add.at(out, index, values)
    ...     return out
    >>> bincount_with(scatter)(np.array([0, 2, 2]), weights=np.array([1.0, 2.0, 3.0]))
    array([1., 0., 5.])
    """
    def bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
        x = np.asarray(plain(x, "bincount", "x (the bins)"))
        if weights is None or not is_traced(weights):
            return np.bincount(x, weights=weights, minlength=minlength)
        counts = np.bincount(x, minlength=minlength)  # numpy's checks of x and minlength
        if shape_of(weights) != x.shape:
            raise ValueError("The weights and list don't have the same length.")
        return scatter((counts.shape[0],), x, weights)
    return bincount


def apply_along_axis(func1d: Any, axis: int, arr: Any, *args: Any, **kwargs: Any) -> Any:
    """``np.apply_along_axis``: ``func1d`` on every 1-d slice along ``axis`` (a Python
    loop over the slices, each differentiated as written), results stacked where
    the axis was."""
    shape = shape_of(arr)
    nd = len(shape)
    if nd == 0:
        raise np.exceptions.AxisError(axis, 0) if hasattr(np, "exceptions") else ValueError(
            "axis out of bounds")
    ax = operator.index(axis)
    if not -nd <= ax < nd:
        raise (np.exceptions.AxisError if hasattr(np, "exceptions") else ValueError)(
            f"axis {axis} is out of bounds for array of dimension {nd}")
    ax %= nd
    lead = shape[:ax] + shape[ax + 1:]
    m = int(np.prod(lead)) if lead else 1
    if m == 0:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    if not is_traced(arr):
        arr = np.asarray(arr)
    rows = np.reshape(np.moveaxis(arr, ax, -1), (m, shape[ax]))
    res = [func1d(rows[i], *args, **kwargs) for i in range(m)]
    rs = tuple(shape_of(res[0]))
    out = np.reshape(np.stack(res), lead + rs)
    # numpy puts the result's axes where ``axis`` was
    k = len(rs)
    perm = list(range(ax)) + list(range(len(lead), len(lead) + k)) + list(
        range(ax, len(lead)))
    return np.transpose(out, perm) if perm != list(range(len(perm))) else out


def piecewise(x: Any, condlist: Any, funclist: Any, *args: Any, **kw: Any) -> Any:
    """``np.piecewise``: where ``condlist[i]`` holds, ``funclist[i]`` of those entries of
    ``x`` (or a constant); 0 where no condition holds unless an extra last function is
    given for that; later conditions win, as in numpy.  The conditions are constants."""
    shape = shape_of(x)
    if not is_traced(x):
        x = np.asarray(x, dtype=float)
    if np.isscalar(condlist) or (not isinstance(condlist[0], (list, np.ndarray))
                                 and not is_foreign_array(value(condlist[0]))
                                 and len(shape) != 0):
        condlist = [condlist]
    conds = [np.broadcast_to(plain_array(value(c), bool), shape) for c in condlist]
    n, n2 = len(conds), len(funclist)
    if n == n2 - 1:  # the "otherwise" function
        conds.append(~np.any(np.stack(conds), axis=0) if conds else np.ones(shape, bool))
    elif n != n2:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are "
                         "expected")
    size = int(np.prod(shape)) if shape else 1
    y: Any = np.zeros(shape, dtype=float_dtype(x))
    flat_x = np.reshape(x, (size,))
    if any(is_foreign_array(c) for c in conds):
        return _piecewise_lazy(x, conds, funclist, args, kw)
    for cond, func in zip(conds, funclist):
        if not callable(func):
            y = np.where(cond, func, y)  # (a number; it may be differentiated too)
            continue
        idx = np.flatnonzero(cond)
        if idx.size == 0:
            continue
        vals = func(flat_x[idx], *args, **kw)
        vals = np.reshape(vals, (-1,)) if len(shape_of(vals)) else vals * np.ones(idx.size)
        if shape_of(vals)[0] == 1 and idx.size > 1:
            vals = vals * np.ones(idx.size)
        pick = np.arange(size)
        pick[idx] = size + np.arange(idx.size)
        y = np.reshape(np.concatenate([np.reshape(y, (size,)), vals])[pick], shape)
    return y


def _piecewise_lazy(x: Any, conds: list, funclist: Any, args: tuple, kw: dict) -> Any:
    """``piecewise`` under lazy (dask) conditions, which cannot say which entries
    they select without computing: each function runs on all of ``x`` (flattened, as
    numpy hands it a one-dimensional selection) and ``np.where`` keeps its entries
    where its condition holds, later conditions winning.  Unselected entries may be
    NaN or inf (a function outside its domain); ``np.where`` drops them and their
    derivatives."""
    shape = shape_of(x)
    size = int(np.prod(shape)) if shape else 1
    flat_x = np.reshape(x, (size,))
    y: Any = np.zeros((size,), dtype=float_dtype(x))
    for cond, func in zip(conds, funclist):
        cond = np.reshape(cond, (size,))
        if callable(func):
            with np.errstate(all="ignore"):
                func = func(flat_x, *args, **kw)
        y = np.where(cond, func, y)
    return np.reshape(y, shape)


def trim_zeros(filt: Any, trim: str = "fb", axis: Any = None) -> Any:
    """``np.trim_zeros``: the slice without the leading ("f") and/or trailing ("b") zeros
    (of the values; the derivative of the kept entries passes through)."""
    vals = np.asarray(value(filt))
    if axis is not None or vals.ndim != 1:
        raise unsupported("numpy.trim_zeros of a differentiated value: one-dimensional "
                          "input without axis= only", filt)
    trim = trim.lower()
    nz = np.flatnonzero(vals)
    if nz.size == 0:
        return filt[:0]
    start = int(nz[0]) if "f" in trim else 0
    stop = int(nz[-1]) + 1 if "b" in trim else vals.size
    return filt[start:stop]


def fix(x: Any, out: Any = None) -> Any:
    """``np.fix``: rounding towards zero, ``np.trunc`` (derivative 0)."""
    if out is not None:
        raise unsupported("numpy.fix(out=...) is not supported for derivatives", x)
    return np.trunc(x)


def astype(x: Any, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Any:
    """numpy 2's ``np.astype``: the value's ``astype`` method (a cast derivative)."""
    return x.astype(dtype)


BUILDING = {np.ediff1d: ediff1d, np.geomspace: geomspace, np.vander: vander,
            np.apply_along_axis: apply_along_axis, np.piecewise: piecewise,
            np.trim_zeros: trim_zeros, np.fix: fix}
if hasattr(np, "astype"):  # numpy >= 2.1
    BUILDING[np.astype] = astype
