"""Statistics and reductions: ``var``, ``std``, ``average``, ``cov``,
``corrcoef``, ``ptp``, ``nansum``, ``nanmean``, ``cumprod``, ``median``,
``percentile``, ``quantile``, ``trapezoid``, ``round``, and scipy-compatible
``logsumexp``, ``softmax``, ``log_softmax``.

Every function here is written with numpy calls on whatever it is given
(arrays, Duals, HyperDuals, reverse Variables), so both engines share one
definition (registered by :mod:`hyperdual.rules.statistics` and
:mod:`reverse.rules.statistics`), derivatives of every order follow from the
primitives, and nesting works.  Nothing here imports either engine at import
time (``no_derivative`` builds on hyperdual's ``custom_jvp`` when first needed).

Conventions
-----------
* ``median``/``percentile``/``quantile`` (numpy's default ``method="linear"`` and
  its twelve other methods, ``"lower"`` ... ``"hazen"``, ``"inverted_cdf"`` ...): away
  from ties the derivative goes to the one or two order statistics the result interpolates,
  with the interpolation weights.  At ties (several entries equal to an order
  statistic) it is shared equally among the tied entries, as ``max``/``min``
  do (JAX's convention for the reductions).  The second derivative is 0.
  ``q`` is a constant.
* ``corrcoef``'s entries that vary are not clipped to [-1, 1] (numpy clips;
  clipping would halve their derivative where they round to +-1): they may exceed
  1 by an ulp.  The constant entries (the diagonal; every entry of two
  observations) are numpy's clipped values, with every derivative exactly 0.
* ``std`` has derivative 0 where the variance is 0 (all entries equal: a kink,
  like ``abs`` at 0, or identically 0 for one entry), in both engines.
* ``var``/``std`` of a slice with ``n - ddof <= 0`` (value inf or nan, numpy's) have every
  derivative nan (0 for entries ``where=`` leaves out), in both engines.
* ``scipy.special.logsumexp``/``softmax``/``log_softmax`` convert their input
  with ``np.asarray``, which no dispatch protocol reaches: use
  ``hyperdual.logsumexp`` (same signature, ``b=`` and ``return_sign=``
  included), ``hyperdual.softmax``, ``hyperdual.log_softmax`` (or the same
  names in ``reverse.functions``), which accept plain arrays too.

Examples
--------
>>> import numpy as np
>>> float(var(np.array([1.0, 2.0, 4.0]), ddof=1))
2.333333333333333
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import float_dtype, is_traced, read_dtype, scalar_axis, shape_of, value
from .arrays import is_foreign_array, is_lazy, may_hold, plain_array

_plain = value
_is_engine = is_traced


def _arr(x: Any) -> Any:
    if _is_engine(x):
        return x
    if is_foreign_array(x):  # a dask constant (weights, mean=, y): lazy, in a float dtype
        dt = np.result_type(x.dtype, 1.0)
        return x if x.dtype == dt else x.astype(dt)
    return np.asarray(x, dtype=np.result_type(np.asarray(x), 1.0))


def _shape_of(x: Any) -> tuple:
    return tuple(np.shape(_plain(x)))


def _axes(axis: Any, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    ax = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in ax:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise np.exceptions.AxisError(a, ndim)
        out.append(a % ndim if ndim else 0)
    return tuple(out)


def _count(shape: tuple, axis: Any) -> int:
    return math.prod(shape[a] for a in _axes(axis, len(shape))) if shape else 1


def _reject(name: str, **kw: Any) -> None:
    for k, v in kw.items():
        if v is not None and v is not np._NoValue and v is not False:
            raise TypeError(f"numpy.{name}(..., {k}=...) is not supported for derivatives "
                            "(hyperdual and reverse)")


# ---------------------------------------------------------------------------------
# moments
# ---------------------------------------------------------------------------------
def var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
        keepdims: Any = False, *, where: Any = None, mean: Any = None,
        correction: Any = None) -> Any:
    """``np.var``: the mean squared deviation from the mean, divided by ``n - ddof``.

    With ``where=`` (a constant mask, broadcast to ``a``) only the selected entries count,
    in the mean, the squared deviations and ``n``; the others get derivative 0.  A slice
    with ``n - ddof <= 0`` warns "Degrees of freedom <= 0 for slice" and is divided by 0,
    as numpy's (nan or inf).  ``mean=`` (numpy 2) is used as given, as numpy does."""
    _reject("var", out=out)
    if correction is not None and correction is not np._NoValue:
        ddof = correction
    a = as_dtype("var", _arr(a), dtype)
    given = _given_mean(mean)
    keepdims = bool(keepdims) if keepdims is not np._NoValue else False
    shape = _shape_of(a)
    ax = None if axis is None else _axes(axis, len(shape))
    dt = float_dtype(a)
    if where is None or where is np._NoValue or where is True:
        n = _count(shape, axis)
        d = a - (np.mean(a, axis=ax, keepdims=True) if given is None else given)
        # the divisor in the data's float dtype: numpy 1.26 promotes float32 / float to
        # float64
        if n - ddof > 0:
            return np.sum(d * d, axis=ax, keepdims=keepdims) / dt.type(n - ddof)
        ss, denom = np.sum(d * d, axis=ax, keepdims=keepdims), np.asarray(n - ddof)
    else:
        mask = _where_mask("var", where, shape)
        cnt = np.sum(mask, axis=ax, keepdims=True)
        # the mean of the selected entries (an empty slice: 0, unused, no 0/0 warning)
        m = np.sum(np.where(mask, a, 0.0), axis=ax, keepdims=True) / np.maximum(
            cnt, 1).astype(dt) if given is None else given
        d = np.where(mask, a - m, 0.0)
        ss = np.sum(d * d, axis=ax, keepdims=keepdims)
        denom = cnt - ddof if keepdims else np.reshape(cnt - ddof, _shape_of(ss))
        if is_foreign_array(denom):
            # a dask mask: the counts are not asked for, the general form by lazy masks
            # (no warning of a slice with n - ddof <= 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                r = ss / np.maximum(denom, 0).astype(dt)
            return mark_no_dof(r, a, axis, ddof, keepdims, where)
        if np.all(denom > 0):
            return ss / denom.astype(dt)
    if np.any(denom <= 0):
        import warnings

        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = ss / np.maximum(denom, 0).astype(dt)
    return mark_no_dof(r, a, axis, ddof, keepdims, where)


class SliceMap:
    """Which entries of a reduction's data each entry of its result counts.

    ``counted`` (shaped as the data) marks the entries var/std count (``where=``
    selects them; not NaN for the nan-functions); ``axis`` (a tuple, or None for
    all) and ``keepdims`` are the reduction's."""

    def __init__(self, counted: np.ndarray, axis: Any, keepdims: bool) -> None:
        self.counted = counted
        self.axis = axis
        self.keepdims = keepdims

    def reach(self, mask: Any) -> np.ndarray:
        """Result-shaped: the slices in which ``mask`` (data-shaped) holds at a
        counted entry."""
        return np.any(plain_array(mask, bool) & self.counted, axis=self.axis,
                      keepdims=self.keepdims)

    def kept_shape(self) -> tuple:
        """The result's shape as with ``keepdims=True`` (broadcasts against the data)."""
        axes = range(self.counted.ndim) if self.axis is None else self.axis
        return tuple(1 if k in axes else n for k, n in enumerate(self.counted.shape))

    def spread(self, sel: Any) -> np.ndarray:
        """Data-shaped: the counted entries of the slices ``sel`` (result-shaped) selects."""
        sel = np.reshape(plain_array(sel, bool), self.kept_shape())
        return np.broadcast_to(sel, self.counted.shape) & self.counted


def _moves(x: Any) -> np.ndarray:
    """Where a tangent or cotangent is not 0 (in any part of a nested number: a
    forward-over-reverse cotangent whose value is 0 but whose tangent is not still
    carries a derivative)."""
    while is_traced(x) and hasattr(x, "data"):  # a reverse Variable: its data
        x = x.data
    if not is_traced(x):
        return (x if is_foreign_array(x) else np.asarray(x)) != 0  # (dask: lazy)
    if hasattr(x, "coef"):  # a Taylor series: any coefficient (the leading axis)
        return np.any(_moves(x.coef), axis=0)
    parts = x._parts()
    nonzero = _moves(parts[0])
    for q in parts[1:]:
        q = _moves(q)
        if q.ndim > nonzero.ndim:  # a direction stack: moved along any direction
            q = np.any(q, axis=tuple(range(q.ndim - nonzero.ndim)))
        nonzero = nonzero | q
    return nonzero


def no_derivative(r: Any, bad: Any, src: Any, slices: SliceMap) -> Any:
    """``r`` with every derivative of the entries ``bad`` selects nan, its value kept.

    var's divisor ``n - ddof <= 0`` makes the value inf or nan (numpy's): no
    derivative exists there, and the composition gave hyperdual +-inf (ss'/0) and
    reverse nan (inf - inf in the centring's transpose); both engines now give nan
    at every order.  ``src`` is the data ``r`` was reduced from and ``slices`` which
    of its entries each entry of ``r`` counts: a direction that moves a counted entry
    of a bad slice gets nan even where ``r``'s own tangent is 0 (one entry with
    ``ddof=1``: its deviation from its own mean is 0 at every order, so the Hessian
    was 0), and the nan reaches every order because the marks are formed from
    ``mark``'s own differentiable output and from ``src``.  Built on hyperdual's
    ``custom_jvp`` (reverse bridges it), imported here only when it is needed: a
    traced value with such a slice."""
    bad = plain_array(bad, bool)  # (a dask mask: not asked, the marks applied lazily)
    if not is_traced(r) or not may_hold(bad):
        return r
    from hyperdual.custom import custom_jvp

    @custom_jvp
    def mark(u: Any, s: Any) -> Any:
        return u

    @mark.defjvp
    def mark_jvp(primals: Any, tangents: Any) -> Any:
        (u, s), (t, ts) = primals, tangents
        y = mark(u, s)
        # the other entries pass unchanged (a finite slice beside the bad one keeps its
        # derivative in reverse's transpose too); a direction that moves no counted
        # entry of a bad slice keeps 0 there (as reverse gives the entries where= leaves
        # out)
        moved = _moves(t)
        if ts is not None:  # (None: the data are a constant of this perturbation)
            moved = moved | slices.reach(_moves(ts))
        out = t * np.where(bad, np.where(moved, np.nan, 0.0), 1.0)
        hit = bad & moved
        if may_hold(hit):
            # r's tangent may be a constant 0 (then so is its derivative): y * nan
            # carries the nan to the next order too
            out = out + np.where(hit, y * np.nan, 0.0)
        return y, out

    @mark.defvjp
    def mark_vjp(primals: Any, out: Any, g: Any) -> Any:
        from reverse import core

        _, s = primals
        # the first pass marks every bad entry: a 0 * nan there shows in the
        # gradient, and the pass is redone with the zero-cotangent guard, where a
        # cotangent 0 on a bad entry stays 0 (0 * nan would reach inputs the result
        # does not depend on)
        hit = _moves(g) if core.GUARD_ZEROS.get() else np.ones(bad.shape, dtype=bool)
        gu = g * np.where(bad, np.where(hit, np.nan, 0.0), 1.0)
        # the counted entries of a hit bad slice get nan through s, so the gradient
        # depends on the data and its own derivative (a Hessian) is nan too
        spread = slices.spread(bad & hit)
        gs = np.where(spread, s * np.nan * np.reshape(g, slices.kept_shape()), 0.0)
        return gu, gs

    return mark(r, src)


def mark_no_dof(r: Any, a: Any, axis: Any, ddof: Any, keepdims: Any, where: Any,
                correction: Any = None, skip_nan: bool = False) -> Any:
    """:func:`no_derivative` on the slices of var/std's result ``r`` (of the data
    ``a``) with ``n - ddof <= 0``: counted entries (``where=``, not NaN for the
    nan-functions) fewer than or as many as ddof."""
    if not is_traced(r):
        return r
    if correction is not None and correction is not np._NoValue:
        ddof = correction
    shape = _shape_of(a)
    if skip_nan or not (where is None or where is np._NoValue or where is True):
        counted = _counted(plain_array(_plain(a)), where, skip_nan)  # (dask: lazy)
    else:  # every entry counts: the data (dask's, uncomputed) need not be read
        counted = np.ones(shape, dtype=bool)
    ax = None if axis is None else _axes(axis, len(shape))
    keep = bool(keepdims) if keepdims is not np._NoValue else False
    bad = np.sum(counted, axis=ax, keepdims=keep) - ddof <= 0
    bad = np.broadcast_to(bad, _shape_of(r))
    return no_derivative(r, bad, a, SliceMap(counted, ax, keep))


def _given_mean(mean: Any) -> Any:
    """numpy 2's ``mean=`` of ``var``/``std``/``nanvar``/``nanstd``: the mean to take the
    deviations from (shaped as with ``keepdims=True``; a differentiated value carries
    its own derivative), or None to compute it."""
    if mean is None or mean is np._NoValue:
        return None
    return _arr(mean)


def _where_mask(name: str, where: Any, shape: tuple) -> np.ndarray:
    """numpy's ``where=`` of ``name``: a constant boolean mask broadcast to ``shape``
    (a dask mask stays lazy)."""
    if is_traced(where):
        raise TypeError(f"numpy.{name}: where= must be a constant mask, not a "
                        "differentiated value (hyperdual and reverse)")
    return np.broadcast_to(plain_array(where, bool), shape)


def std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
        keepdims: Any = False, *, where: Any = None, mean: Any = None,
        correction: Any = None) -> Any:
    """``np.std``: the square root of :func:`var`; derivative 0 where the variance is 0."""
    v = var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    scale = _std_rescale(a, v, axis, where, mean)
    if scale is not None:
        # the squares of the deviations left the range (data of 1e-300: var 1e-600 is 0,
        # so std was 0 with derivative 0; truth 1e-300 and O(1)): std is homogeneous,
        # std(a) = 2**k std(a / 2**k), exact for a power of two (mean= scaled alike)
        given = _given_mean(mean)
        return std(_arr(a) * scale[0], axis, dtype, out, ddof, keepdims, where=where,
                   mean=mean if given is None else given * scale[0],
                   correction=correction) * scale[1]
    pv = _plain(v)
    if is_lazy(pv):
        return lazy_std(v, pv, a, axis, ddof, keepdims, where, correction)
    if is_traced(v) and not np.isfinite(np.asarray(pv)).all():
        # sqrt'(inf) = 0 would hide var's nan derivatives from reverse's backward pass
        return mark_no_dof(np.sqrt(v), a, axis, ddof, keepdims, where, correction)
    zero = np.asarray(pv) == 0
    if not zero.any():
        return np.sqrt(v)
    # all entries equal: std is a kink there (|x - y| for two entries) or identically
    # 0 (one entry); the derivative 0 is abs'(0) = 0's convention, in both engines
    return np.where(zero, 0.0, np.sqrt(np.where(zero, 1.0, v)))


def lazy_std(v: Any, pv: Any, a: Any, axis: Any, ddof: Any, keepdims: Any, where: Any,
             correction: Any, skip_nan: bool = False) -> Any:
    """std/nanstd from the variance ``v`` whose plain value ``pv`` is lazy (dask),
    without asking the data which case holds.

    On numpy data a variance that is not finite somewhere gives ``sqrt(v)`` with the
    no-derivative marks of :func:`mark_no_dof`, else the zero-variance form (derivative
    0 where ``v == 0``).  Here both are applied, by lazy masks: the zero-variance form
    where ``v == 0`` (``sqrt(v)`` elsewhere, the non-finite slices included) and the
    marks (which change nothing on slices with ``n - ddof > 0``).  The one difference:
    a slice of variance 0 next to a non-finite one has derivative 0 here, the
    convention, where numpy data's ``sqrt'(0)`` gave nan."""
    zero = pv == 0
    r = np.where(zero, 0.0, np.sqrt(np.where(zero, 1.0, v)))
    return mark_no_dof(r, a, axis, ddof, keepdims, where, correction, skip_nan=skip_nan)


def _counted(pa: np.ndarray, where: Any, skip_nan: bool) -> np.ndarray:
    """The entries of the plain data ``pa`` that var/std count: those ``where=``
    selects, and not NaN for the nan-functions."""
    sel = np.ones(pa.shape, dtype=bool)
    if where is not None and where is not np._NoValue and where is not True:
        sel = _where_mask("std", where, pa.shape)
    if skip_nan:
        sel = sel & ~np.isnan(pa)
    return sel


def _std_rescale(a: Any, v: Any, axis: Any = None, where: Any = None, mean: Any = None,
                 skip_nan: bool = False) -> Any:
    """``(2**-k, 2**k)`` where var's value ``v`` under- or overflowed (0, subnormal or
    inf) at finite data that are not all equal, 2**k the size of the largest deviation
    of the counted entries (those ``where=`` selects, not NaN for ``nanstd``) from their
    slice's mean (or from numpy 2's ``mean=``); None elsewhere.  None on lazy (dask)
    data, whose values are not asked for: std is then the value numpy's formula gives
    (0 or inf where the squares left the range)."""
    pv = _plain(v)
    if is_lazy(pv):
        return None
    pv = np.abs(np.asarray(pv))
    if pv.dtype.kind != "f":
        return None
    fi = np.finfo(pv.dtype)
    if not (((pv < fi.tiny) | np.isinf(pv)).any()):
        return None
    pa = np.asarray(_plain(a), dtype=pv.dtype)
    sel = _counted(pa, where, skip_nan)
    if not np.isfinite(pa[sel]).all():
        return None
    ax = None if axis is None else _axes(axis, pa.ndim)
    given = _given_mean(mean)
    if given is None:
        cnt = np.maximum(np.sum(sel, axis=ax, keepdims=True), 1)
        m = np.sum(np.where(sel, pa, 0.0), axis=ax, keepdims=True) / cnt
    else:
        m = np.asarray(_plain(given), dtype=pv.dtype)
        if not np.isfinite(m).all():
            return None
    with np.errstate(all="ignore"):
        dev = np.max(np.where(sel, np.abs(pa - m), 0.0), initial=0.0)
    if not (0.0 < dev < np.inf):
        return None
    k = int(np.frexp(dev)[1])
    if -8 <= k <= 8:
        return None
    return pv.dtype.type(np.ldexp(1.0, -k)), pv.dtype.type(np.ldexp(1.0, k))


def average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
            keepdims: Any = False) -> Any:
    """``np.average``: weighted mean (weights may be differentiated too)."""
    a = _arr(a)
    keepdims = bool(keepdims) if keepdims is not np._NoValue else False
    shape = _shape_of(a)
    ax = None if axis is None else _axes(axis, len(shape))
    if weights is None:
        avg = np.mean(a, axis=ax, keepdims=keepdims)
        scl = np.full(_shape_of(avg), _count(shape, axis), dtype=float_dtype(a))
    else:
        w = _arr(weights)
        wshape = _shape_of(w)
        if wshape != shape:
            if ax is None or len(ax) != 1:
                raise TypeError("average: axis must be one int when weights and a differ "
                                "in shape")
            if len(wshape) != 1 or wshape[0] != shape[ax[0]]:
                raise ValueError("average: length of weights differs from the axis of a")
            w = np.reshape(w, tuple(n if i == ax[0] else 1 for i, n in enumerate(shape)))
        # (dask weights: their own float dtype, which float_dtype would compute them for)
        wdt = w.dtype if is_foreign_array(w) else float_dtype(w)
        scl = np.sum(w * np.ones(shape, dtype=wdt), axis=ax, keepdims=keepdims) \
            if _shape_of(w) != shape else np.sum(w, axis=ax, keepdims=keepdims)
        avg = np.sum(a * w, axis=ax, keepdims=keepdims) / scl
    if returned:
        if _shape_of(scl) != _shape_of(avg):
            scl = np.broadcast_to(scl, _shape_of(avg))
        return avg, scl
    return avg


def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: Any = None,
        fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Any:
    """``np.cov``: covariance matrix of the rows (variables) of ``m`` (and ``y``)."""
    # numpy computes in dtype=, by default in float64 at least (float32 data too)
    dt = dtype if dtype is not None else np.result_type(
        float_dtype(m) if y is None else float_dtype(m, y), np.float64)
    X = as_dtype("cov", _arr(m), dt)
    if len(_shape_of(X)) > 2:
        raise ValueError("m has more than 2 dimensions")
    if len(_shape_of(X)) < 2:
        X = np.reshape(X, (1, -1))
    if not rowvar and _shape_of(X)[0] != 1:
        X = np.transpose(X)
    if y is not None:
        Y = as_dtype("cov", _arr(y), dt)
        if len(_shape_of(Y)) < 2:
            Y = np.reshape(Y, (1, -1))
        if not rowvar and _shape_of(Y)[0] != 1:
            Y = np.transpose(Y)
        X = np.concatenate([X, Y], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = np.asarray(fweights, dtype=float)
    if aweights is not None:
        aw = np.asarray(aweights, dtype=float)
        w = aw if w is None else w * aw
    n = _shape_of(X)[1]
    if w is not None and w.ndim == 1 and w.shape[0] == n and is_traced(X):
        # Observations of weight 0 contribute exactly 0 (a constant 0 contributes 0,
        # even next to an inf/NaN derivative: sqrt of a 0 observation); left out,
        # the value is numpy's wherever their data is finite (else numpy's NaN stays).
        keep = w != 0
        if not keep.all() and keep.any() and np.all(np.isfinite(
                np.asarray(_plain(X))[:, ~keep])):
            X = X[:, np.flatnonzero(keep)]
            w = w[keep]
            if aweights is not None:
                aweights = np.asarray(aweights, dtype=float)[keep]
    if w is None:
        avg = np.mean(X, axis=1, keepdims=True)
        fact = float(n - ddof)
    else:
        w_sum = float(np.sum(w))
        avg = np.sum(X * w, axis=1, keepdims=True) / w_sum
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * float(np.sum(w * np.asarray(aweights, float))) / w_sum
    Xc = X - avg
    Xw = Xc if w is None else Xc * w
    c = np.matmul(Xc, np.transpose(Xw)) / fact
    shp = _shape_of(c)
    if 1 in shp:
        c = np.reshape(c, tuple(s for s in shp if s != 1))
    return c


def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """``np.corrcoef`` (not clipped to [-1, 1]; see the module notes).

    The entries that are constant (the diagonal, a variable with itself: 1, or nan
    for a constant variable; every entry of two observations, whose centred rows are
    all multiples of (1, -1): +-1) have every derivative exactly 0, and numpy's
    clipped value; as quotients their derivatives were rounding (3e-16)."""
    c = cov(x, y, rowvar, dtype=dtype)
    if len(_shape_of(c)) == 0:
        r = c / c
        const = np.ones((), dtype=bool)
    else:
        d = np.einsum("ii->i", c)
        s = np.sqrt(d)
        r = c / np.reshape(s, (-1, 1)) / np.reshape(s, (1, -1))
        k = _shape_of(r)[0]
        const = np.ones((k, k), dtype=bool) if _observations(x, rowvar) == 2 else np.eye(
            k, dtype=bool)
    if not is_traced(r):
        return r
    with np.errstate(invalid="ignore"):
        fixed = np.clip(_plain(r), -1.0, 1.0)  # (dask: lazy)
    # (a constant variable: nan, 0/0, whose quotient's derivatives are nan too)
    return np.where(const & (fixed == fixed), fixed, r)


def _observations(x: Any, rowvar: bool) -> int:
    """How many observations ``np.cov(x, rowvar=rowvar)`` averages over (y has as many)."""
    shape = _shape_of(x)
    if len(shape) < 2:
        return int(np.prod(shape, dtype=np.int64))
    return shape[1] if rowvar or shape[0] == 1 else shape[0]


# ---------------------------------------------------------------------------------
# reductions built from others
# ---------------------------------------------------------------------------------
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False) -> Any:
    """``np.ptp``: max - min (ties share the derivative as in max/min)."""
    _reject("ptp", out=out)
    keepdims = bool(keepdims) if keepdims is not np._NoValue else False
    a = _arr(a)
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


def nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
           keepdims: Any = False, initial: Any = None, where: Any = None) -> Any:
    """``np.nansum``: NaNs (and with ``where=`` the entries it leaves out) count as 0
    (derivative 0 there)."""
    _reject("nansum", out=out)
    keepdims = bool(keepdims) if keepdims is not np._NoValue else False
    a = as_dtype("nansum", _arr(a), dtype)
    nan = np.isnan(plain_array(_plain(a)))  # (dask: a lazy mask, not asked)
    if where is not None and where is not np._NoValue and where is not True:
        nan = nan | ~_where_mask("nansum", where, nan.shape)
    clean = np.where(nan, 0.0, a) if may_hold(nan) else a
    s = np.sum(clean, axis=axis, keepdims=keepdims)
    return s if initial is None or initial is np._NoValue else s + initial


def nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: Any = False, *, where: Any = None) -> Any:
    """``np.nanmean``: the mean of the non-NaN entries (with ``where=``: of those it
    selects)."""
    _reject("nanmean", out=out)
    keepdims = bool(keepdims) if keepdims is not np._NoValue else False
    a = as_dtype("nanmean", _arr(a), dtype)
    nan = np.isnan(plain_array(_plain(a)))  # (dask: a lazy mask, not asked)
    if where is not None and where is not np._NoValue and where is not True:
        nan = nan | ~_where_mask("nanmean", where, nan.shape)  # left out as a NaN is
    # the count in the data's float dtype (float32 data: a float32 mean, as numpy's)
    cnt = np.sum(~nan, axis=axis, keepdims=keepdims).astype(float_dtype(a))
    clean = np.where(nan, 0.0, a) if may_hold(nan) else a
    return np.sum(clean, axis=axis, keepdims=keepdims) / cnt


def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: Any = -1) -> Any:
    """``np.trapezoid`` (``np.trapz`` on numpy 1.x): sum of d (y[1:] + y[:-1]) / 2 along
    ``axis``, d the spacing ``dx`` or the differences of the sample points ``x``
    (differentiable too)."""
    y = _arr(y)
    nd = len(_shape_of(y))
    ax = _axes(axis, nd)[0]
    hi = (slice(None),) * ax + (slice(1, None),)
    lo = (slice(None),) * ax + (slice(None, -1),)
    if x is None:
        d = dx
    else:
        x = _arr(x)
        if len(_shape_of(x)) == 1:
            d = np.reshape(x[1:] - x[:-1], (-1,) + (1,) * (nd - ax - 1))
        else:
            # numpy: the differences along ``axis`` of x itself (x may have more or
            # fewer dimensions than y: they broadcast), and the sum along ``axis`` of
            # the broadcast product (slicing x with y's axis was wrong, value too)
            nx = len(_shape_of(x))
            axx = _axes(axis, nx)[0]
            d = x[(slice(None),) * axx + (slice(1, None),)] \
                - x[(slice(None),) * axx + (slice(None, -1),)]
            return np.sum(d * (y[hi] + y[lo]), axis=axis) / 2.0
    return np.sum(d * (y[hi] + y[lo]), axis=ax) / 2.0


def round_(a: Any, decimals: Any = 0, out: Any = None) -> Any:
    """``np.round``/``np.around`` (and Python's ``round``): numpy's own steps, rint of
    the scaled value then unscaled, so the values are numpy's; derivative 0 (rint's)."""
    _reject("round", out=out)
    a = _arr(a)
    d = int(decimals)
    if d == 0:
        return np.rint(a)
    if d > 0:
        s = 10.0 ** d
        return np.rint(a * s) / s
    s = 10.0 ** -d
    return np.rint(a / s) * s


def cumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """``np.cumprod`` as running products (exact derivatives, zeros included)."""
    _reject("cumprod", out=out)
    a = as_dtype("cumprod", _arr(a), dtype)
    if axis is None:
        a = np.reshape(a, (-1,))
        axis = 0
    shape = _shape_of(a)
    ax = _axes(axis, len(shape))[0]
    n = shape[ax]
    if n == 0:
        return a
    pre = (slice(None),) * ax
    run = a[pre + (0,)]
    rows = [run]
    for i in range(1, n):
        run = run * a[pre + (i,)]
        rows.append(run)
    return np.stack(rows, axis=ax)


def _cumulative(name: str, run: Any, fill: float, x: Any, axis: Any, dtype: Any, out: Any,
                include_initial: Any) -> Any:
    """numpy 2's ``cumulative_sum``/``cumulative_prod``: ``run`` (the engine's
    ``np.cumsum``/``np.cumprod``) along ``axis``, with the identity ``fill`` (a constant)
    in front when ``include_initial``."""
    if out is not None:
        raise TypeError(f"numpy.{name}(..., out=...) is not supported for derivatives "
                        "(hyperdual and reverse)")
    x = as_dtype(name, _arr(x), dtype)
    shape = shape_of(x)
    if not shape:
        x, shape = np.reshape(x, (1,)), (1,)
    if axis is None:
        if len(shape) > 1:
            raise ValueError("For arrays which have more than one dimension ``axis`` "
                             "argument is required.")
        axis = 0
    ax = _axes(axis, len(shape))[0]
    res = run(x, axis=ax)
    if include_initial:
        head = np.full(shape[:ax] + (1,) + shape[ax + 1:], fill, dtype=float_dtype(x))
        res = np.concatenate([head, res], axis=ax)
    return res


def cumulative_sum(x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
                   include_initial: bool = False) -> Any:
    """``np.cumulative_sum`` (numpy 2.1): ``np.cumsum`` with an optional leading 0.

    Examples
    --------
    >>> cumulative_sum(np.array([1.0, 2.0, 3.0]), include_initial=True)
    array([0., 1., 3., 6.])
    """
    return _cumulative("cumulative_sum", np.cumsum, 0.0, x, axis, dtype, out, include_initial)


def cumulative_prod(x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
                    include_initial: bool = False) -> Any:
    """``np.cumulative_prod`` (numpy 2.1): ``np.cumprod`` with an optional leading 1.

    Examples
    --------
    >>> cumulative_prod(np.array([1.0, 2.0, 3.0]), include_initial=True)
    array([1., 1., 2., 6.])
    """
    return _cumulative("cumulative_prod", np.cumprod, 1.0, x, axis, dtype, out,
                       include_initial)


# ---------------------------------------------------------------------------------
# order statistics: median, percentile, quantile
# ---------------------------------------------------------------------------------
# numpy's continuous methods (Hyndman & Fan's alpha, beta): the virtual index
# n q + alpha + q (1 - alpha - beta) - 1 interpolated linearly between its neighbours
_CONTINUOUS = {"interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5),
               "weibull": (0.0, 0.0), "median_unbiased": (1 / 3.0, 1 / 3.0),
               "normal_unbiased": (3 / 8.0, 3 / 8.0)}
_METHODS = {"linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf",
            "averaged_inverted_cdf", "closest_observation", *_CONTINUOUS}


# numpy 2.0 fixed closest_observation's tie to the even (1-based) order statistic;
# numpy 1.x rounds to the odd one: follow the numpy in use
_CLOSEST_PARITY = 1 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 0


def _discrete_index(index: float, take_floor: Any) -> int:
    """numpy's ``_discrete_interpolation_to_boundaries``: the order statistic that a
    discrete method picks at the virtual ``index`` (clipped at 0)."""
    prev = math.floor(index)
    return max(prev if take_floor(index - prev, prev) else prev + 1, 0)


def quantile_position(q: float, n: int, method: str) -> tuple[int, int, float]:
    """The order statistics (lo, hi) of n sorted values that the q-quantile interpolates
    by ``method``, and the weight ``frac`` of hi (1 - frac of lo): numpy's virtual
    index and interpolation weight (``numpy.quantile``'s notes) for each of its
    thirteen methods.

    >>> quantile_position(0.5, 4, "linear")
    (1, 2, 0.5)
    >>> quantile_position(0.5, 4, "averaged_inverted_cdf")
    (1, 2, 0.5)
    """
    if method == "inverted_cdf":
        k = _discrete_index(n * q - 1, lambda g, prev: g == 0)
        return k, k, 0.0
    if method == "closest_observation":  # the nearest even order statistic at g = 0
        k = _discrete_index(n * q - 1 - 0.5,
                            lambda g, prev: g == 0 and prev % 2 == _CLOSEST_PARITY)
        return k, k, 0.0
    pos = q * (n - 1)
    if method in ("lower", "higher", "nearest"):
        k = {"lower": math.floor, "higher": math.ceil,
             "nearest": lambda p: int(np.around(p))}[method](pos)
        return k, k, 0.0
    if method == "midpoint":
        pos = 0.5 * (math.floor(pos) + math.ceil(pos))
    elif method == "averaged_inverted_cdf":
        pos = n * q - 1
    elif method != "linear":
        alpha, beta = _CONTINUOUS[method]
        pos = n * q + (alpha + q * (1 - alpha - beta)) - 1
    # numpy's _get_indexes: beyond the ends both neighbours are the end
    if pos >= n - 1:
        return n - 1, n - 1, 0.0
    if pos < 0:
        return 0, 0, 0.0
    lo = math.floor(pos)
    frac = pos - lo
    if method == "midpoint":
        frac = 0.5 if frac > 0 else 0.0
    elif method == "averaged_inverted_cdf":
        frac = 0.5 if frac == 0 else 1.0
    return lo, lo + 1, frac


def _quantile_weights(r: np.ndarray, q: float, axes: tuple, method: str) -> np.ndarray:
    """Weights W (shaped like r) with quantile = sum(W * x over axes) near r."""
    nd = r.ndim
    rest = [i for i in range(nd) if i not in axes]
    perm = rest + list(axes)
    rr = np.transpose(r, perm)
    lead = rr.shape[:len(rest)]
    n = math.prod(rr.shape[len(rest):])
    rr = rr.reshape(lead + (n,))
    srt = np.sort(rr, axis=-1)
    lo, hi, frac = quantile_position(q, n, method)

    def onehot(k: int) -> np.ndarray:
        hit = rr == srt[..., k:k + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            return hit / np.sum(hit, axis=-1, keepdims=True)

    w = onehot(lo) * (1.0 - frac)
    if frac:
        w = w + onehot(hi) * frac
    w = w.reshape(lead + tuple(r.shape[i] for i in axes))
    return np.transpose(w, np.argsort(perm)).astype(r.dtype if r.dtype.kind == "f" else float)


def blockwise_weights(r: Any, axes: tuple, weights: Callable[[np.ndarray], np.ndarray]) -> Any:
    """An order statistic's weights for lazy (dask) data ``r``, without computing it:
    ``weights`` (the numpy function, shape-preserving) applied block by block to ``r``
    rechunked so that the reduced ``axes`` are each one chunk, as dask's own ``median``
    does (each slice is sorted whole, in one task); chunked back like ``r``."""
    dt = r.dtype if r.dtype.kind == "f" else np.dtype(float)
    whole = r.rechunk({ax: -1 for ax in axes})
    w = whole.map_blocks(weights, dtype=dt, meta=np.empty((0,) * r.ndim, dtype=dt))
    return w.rechunk(r.chunks)


def _forward(a: Any) -> bool:
    """Whether ``a`` is a forward-mode number (Dual, HyperDual, Taylor)."""
    return type(a).__module__.startswith("hyperdual")


def quantile_method(name: str, method: str, interpolation: Any, q: Any) -> str:
    """The method of ``np.quantile`` or ``np.nanquantile`` (``name``), checked: one of
    the methods with a derivative rule (the old ``interpolation=`` name taking
    precedence, as numpy's), and a constant ``q`` (TypeError otherwise)."""
    if interpolation is not None:
        method = interpolation
    if method not in _METHODS:  # numpy's error for a name it does not know
        raise ValueError(f"numpy.{name}: {method!r} is not a valid method; use one of "
                         f"{sorted(_METHODS)}")
    if _is_engine(q):
        pct = name.replace("quantile", "percentile")
        raise TypeError(f"{name}/{pct}: q must be a constant (its derivative is not "
                        "supported)")
    return method


def quantile(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
             method: str = "linear", keepdims: Any = False, *, weights: Any = None,
             interpolation: Any = None) -> Any:
    """``np.quantile`` (q in [0, 1]); see the module notes for ties."""
    _reject("quantile", out=out, weights=weights)
    method = quantile_method("quantile", method, interpolation, q)
    keepdims = bool(keepdims) if keepdims is not np._NoValue else False
    a = _arr(a)
    r = _plain(a)
    lazy = is_lazy(r)  # (dask: the weights from its blocks, lazily)
    if not lazy:
        r = np.asarray(r)
    axes = _axes(axis, r.ndim)
    qa = np.asarray(q, dtype=float)
    if np.any((qa < 0) | (qa > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    res = []
    for qq in qa.reshape(-1):
        if lazy:
            w = blockwise_weights(r, axes, functools.partial(
                _quantile_weights, q=float(qq), axes=axes, method=method))
        else:
            w = _quantile_weights(r, float(qq), axes, method)
        # forward mode: an inf/NaN derivative of an element the quantile does not
        # use (sqrt'(0) of the smallest entry of a median) must give 0, not
        # 0 * inf = NaN, as reverse mode's zero cotangent does
        aw = np.where(w != 0, a, 0.0) if _forward(a) else a
        res.append(np.sum(w * aw, axis=axes, keepdims=keepdims))
    if qa.ndim == 0:
        return res[0]
    out_ = np.stack(res, axis=0)
    return np.reshape(out_, qa.shape + _shape_of(res[0])) if qa.ndim > 1 else out_


def percentile(a: Any, q: Any, axis: Any = None, out: Any = None,
               overwrite_input: bool = False, method: str = "linear", keepdims: Any = False,
               *, weights: Any = None, interpolation: Any = None) -> Any:
    """``np.percentile`` (q in [0, 100])."""
    if _is_engine(q):
        raise TypeError("quantile/percentile: q must be a constant")
    return quantile(a, np.asarray(q, dtype=float) / 100.0, axis, out, overwrite_input, method,
                    keepdims, weights=weights, interpolation=interpolation)


def median(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
           keepdims: Any = False) -> Any:
    """``np.median``: the 0.5 quantile (ties: the derivative is shared)."""
    return quantile(a, 0.5, axis, out, overwrite_input, "linear", keepdims)


# ---------------------------------------------------------------------------------
# log-sum-exp family (scipy.special's versions call np.asarray and cannot be reached)
# ---------------------------------------------------------------------------------
def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False) -> Any:
    """``log(sum(b * exp(a)))`` stably, with scipy.special.logsumexp's signature.

    Works on arrays, Duals, HyperDuals and reverse Variables (``b`` too).  The
    shift by the maximum is taken from the plain values (the result does not
    depend on it), so nothing overflows and the derivative is exact.

    Parameters
    ----------
    a : array_like or engine number
        The exponents.
    axis : int or tuple of int, optional
        Axes to sum over (default: all).
    b : array_like or engine number, optional
        Weights of the exponentials (may be negative).
    keepdims : bool
        Keep the reduced axes with length one.
    return_sign : bool
        Also return the sign of the sum (then the log of its absolute value).

    Returns
    -------
    out : numpy.ndarray or float or engine number
        ``log(sum(b * exp(a)))``; NaN where the sum is negative, unless
        ``return_sign``.
    sign : numpy.ndarray or float
        Only with ``return_sign=True``: the sign of the sum (a constant).

    Examples
    --------
    >>> import numpy as np
    >>> float(logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599

    Its gradient is the softmax: with ``a = (0, log 3)``, ``(1/4, 3/4)``:

    >>> import hyperdual
    >>> hyperdual.gradient(logsumexp, np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
    >>> out, sign = logsumexp(np.zeros(2), b=np.array([1.0, -3.0]), return_sign=True)
    >>> float(out), sign  # log|1 - 3|
    (0.6931471805599453, -1.0)
    """
    a = _arr(a)
    r = np.asarray(_plain(a))
    axis = scalar_axis(axis, r.ndim)  # (a 0-d a's axis 0 or -1: every axis, as scipy's)
    ax = None if axis is None else _axes(axis, r.ndim)
    with np.errstate(invalid="ignore"):
        m = np.max(r, axis=ax, keepdims=True) if r.size else np.zeros((1,) * r.ndim)
    if b is None and r.size and r.dtype.kind == "f" and is_traced(a) \
            and type(r) is np.ndarray and np.all(np.isfinite(m)):
        out = _logsumexp_dominant(a, r, m, ax)
        if out is not None:
            if not keepdims:
                out = np.reshape(out, _reduced(r.shape, ax))
            if return_sign:
                return out, (np.ones(np.shape(value(out))) if np.ndim(value(out)) else 1.0)
            return out
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(a - m)
    if b is not None:
        e = e * _arr(b)
    s = np.sum(e, axis=ax, keepdims=True)
    sgn = np.sign(np.asarray(_plain(s)))
    if return_sign:
        s = s * sgn
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(s) + m
    if not keepdims:
        out = np.reshape(out, _reduced(r.shape, ax))
        sgn = np.reshape(sgn, _reduced(r.shape, ax))
    if return_sign:
        return out, (sgn if sgn.ndim else float(sgn))
    return out


def _logsumexp_dominant(a: Any, r: np.ndarray, m: np.ndarray, ax: Any,
                        want: str = "logsumexp") -> Any:
    """``a_k + log1p(sum_{j != k} exp(a_j - a_k))`` (k the first maximum of each slice)
    where that sum T is at most 1 in every slice, else None.

    ``log(sum(exp(a - m)))`` has the second derivative ``s_k - s_k**2`` in the entry
    that dominates, which cancels to 0 where the truth ``s_k (1 - s_k)`` is tiny
    (4e-18 at a = (0, -40, -45)); here it is ``T / (1 + T) - T**2 / (1 + T)**2``, two
    terms of which the first is at least (1 + T) times the second.  For T > 1 the
    shifted form is the accurate one (its first derivative is ``1 - T / (1 + T)``
    here): each form is used where it keeps full precision.  ``want``: "softmax" gives
    ``(e_k + exp(a - a_k)) / (1 + T)`` instead, "log_softmax" ``a - a_k - log1p(T)``
    (their Jacobian diagonals ``s_k (1 - s_k)`` and ``1 - s_k`` cancelled in
    ``exp(a - logsumexp(a))`` and ``a - logsumexp(a)``).
    """
    with np.errstate(all="ignore"):
        t = np.sum(np.exp(r - m), axis=ax, keepdims=True) - 1.0
    if not np.all(t <= 1.0):
        return None
    axes = tuple(range(r.ndim)) if ax is None else ax
    k = len(axes)
    moved = np.moveaxis(r, axes, tuple(range(-k, 0)))
    flat = np.reshape(moved, moved.shape[:moved.ndim - k] + (-1,))
    first = np.zeros(flat.shape, dtype=bool)
    np.put_along_axis(first, np.argmax(flat, axis=-1)[..., None], True, axis=-1)
    mask = np.moveaxis(np.reshape(first, moved.shape), tuple(range(-k, 0)), axes)
    ak = np.sum(np.where(mask, a, 0.0), axis=ax, keepdims=True)
    ratio = np.where(mask, 0.0, np.exp(a - ak))
    rest = np.sum(ratio, axis=ax, keepdims=True)
    if want == "softmax":  # s = (e_k + exp(a - a_k)) / (1 + T): no 1 - s_k anywhere
        return (np.where(mask, 1.0, 0.0) + ratio) / (1.0 + rest)
    if want == "log_softmax":  # log s = (a - a_k, 0 at k) - log1p(T)
        return np.where(mask, 0.0, a - ak) - np.log1p(rest)
    return ak + np.log1p(rest)


def _reduced(shape: tuple, ax: Any) -> tuple:
    if ax is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in ax)


def softmax(x: Any, axis: Any = None) -> Any:
    """``exp(x - logsumexp(x, axis))`` (scipy.special.softmax's signature).

    Parameters
    ----------
    x : array_like or engine number
        The scores.
    axis : int or tuple of int, optional
        Axes that are normalised together (default: all, as in scipy; the
        ``reverse.functions.softmax`` of neural networks defaults to the last).

    Returns
    -------
    numpy.ndarray or engine number
        Positive values summing to one over ``axis``, shaped like ``x``.

    Examples
    --------
    The Jacobian is ``diag(s) - s s^T``: with ``s = (1/4, 3/4)`` every entry
    is ``3/16 = 0.1875`` in size:

    >>> import numpy as np
    >>> import hyperdual
    >>> x = np.array([0.0, np.log(3.0)])
    >>> softmax(x)
    array([0.25, 0.75])
    >>> hyperdual.jacobian(softmax, x)
    array([[ 0.1875, -0.1875],
           [-0.1875,  0.1875]])
    """
    s = _dominant_form(x, axis, "softmax")
    return s if s is not None else np.exp(x - logsumexp(x, axis=axis, keepdims=True))


def _dominant_form(x: Any, axis: Any, want: str) -> Any:
    """:func:`_logsumexp_dominant`'s ``want`` for a traced x whose slices each have an
    entry that dominates (T <= 1); None otherwise."""
    a = _arr(x)
    r = np.asarray(_plain(a))
    if not (is_traced(a) and r.size and r.dtype.kind == "f" and type(r) is np.ndarray):
        return None
    ax = scalar_axis(axis, r.ndim)
    ax = None if ax is None else _axes(ax, r.ndim)
    with np.errstate(invalid="ignore"):
        m = np.max(r, axis=ax, keepdims=True)
    if not np.all(np.isfinite(m)):
        return None
    return _logsumexp_dominant(a, r, m, ax, want)


def log_softmax(x: Any, axis: Any = None) -> Any:
    """``x - logsumexp(x, axis)`` (scipy.special.log_softmax's signature).

    Parameters
    ----------
    x : array_like or engine number
        The scores.
    axis : int or tuple of int, optional
        Axes that are normalised together (default: all, as in scipy).

    Returns
    -------
    numpy.ndarray or engine number
        ``log(softmax(x, axis))``, computed without overflow or log(0).

    Examples
    --------
    Row i of the Jacobian is ``e_i - s``, with ``s = softmax(x) = (1/4, 3/4)``:

    >>> import numpy as np
    >>> import hyperdual
    >>> x = np.array([0.0, np.log(3.0)])
    >>> bool(np.allclose(log_softmax(x), np.log([0.25, 0.75])))
    True
    >>> hyperdual.jacobian(log_softmax, x)
    array([[ 0.75, -0.75],
           [-0.25,  0.25]])
    """
    s = _dominant_form(x, axis, "log_softmax")
    return s if s is not None else _arr(x) - logsumexp(x, axis=axis, keepdims=True)


STATISTICS = {
    np.var: var, np.std: std, np.average: average, np.cov: cov, np.corrcoef: corrcoef,
    np.ptp: ptp, np.nansum: nansum, np.nanmean: nanmean, np.cumprod: cumprod,
    np.median: median, np.percentile: percentile, np.quantile: quantile,
}
# numpy 2's name; numpy 1.x has trapz only (numpy 2.0-2.3's trapz calls trapezoid)
STATISTICS[getattr(np, "trapezoid", None) or np.trapz] = trapezoid
# numpy 2.1's array-API spellings of cumsum and cumprod
for _f, _impl in (("cumulative_sum", cumulative_sum), ("cumulative_prod", cumulative_prod)):
    if hasattr(np, _f):
        STATISTICS[getattr(np, _f)] = _impl
# not a statistic, but shared the same way: a value-only composition of rint
STATISTICS[np.round] = STATISTICS[np.around] = round_


# ---------------------------------------------------------------------------------
# where= and initial= of the reductions, on top of each engine's own reduction
# ---------------------------------------------------------------------------------
_NEUTRAL = {"sum": 0.0, "prod": 1.0, "max": -np.inf, "min": np.inf}


def cast_pieces(name: str, arrays: Any, dtype: Any = None,
                casting: str = "same_kind") -> Any:
    """The pieces of a join (``concatenate``, ``stack``, ``hstack``, ``vstack``) in the
    dtype numpy's ``dtype=`` asks for (numpy casts the result with ``casting``): a
    float dtype casts each piece, a non-float one raises (its result has no
    derivative); both engines ignored or refused it, and hyperdual returned the
    derivative of the float values for ``dtype=int``.

    Examples
    --------
    >>> [p.dtype for p in cast_pieces("stack", [np.ones(2)], np.float32)]
    [dtype('float32')]
    """
    if dtype is None:
        return arrays
    return [as_dtype(name, a, dtype, casting) for a in arrays]


def as_dtype(name: str, a: Any, dtype: Any, casting: str | None = None) -> Any:
    """``a`` in the floating dtype that numpy's ``dtype=`` of ``name`` asks for.

    numpy converts the input to ``dtype`` and reduces (or accumulates) in it, so
    ``np.sum(x, dtype=np.float64)`` of float32 values sums in float64 and
    ``np.mean(x, dtype=np.float32)`` in float32: the engines cast (``astype``, whose
    derivative is the cast of the derivative) and reduce.  A non-float ``dtype``
    (int, bool, complex) has no derivative here: ``TypeError`` naming it.  This one
    function serves every entry point: the reductions, running sums and statistics, the
    NaN functions, ``trace``, ``einsum`` (with its ``casting``: numpy's default "safe"
    refuses float64 data in ``dtype=float32``), ``ufunc.reduce``/``accumulate``/``outer``
    and the ndarray methods of the engines' values (``x.sum(dtype=...)``).

    Examples
    --------
    >>> as_dtype("sum", np.ones(2, dtype=np.float32), np.float64).dtype
    dtype('float64')
    """
    if dtype is None:
        return a
    dt = read_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"numpy.{name}(..., dtype={dt}) is not supported for derivatives "
                        "(hyperdual and reverse): the dtype must be a floating one")
    if casting is not None and not np.can_cast(float_dtype(a), dt, casting):
        raise TypeError(f"numpy.{name}: cannot cast the {float_dtype(a)} input to "
                        f"dtype={dt} with casting={casting!r} (numpy's rule)")
    if not is_traced(a):
        return np.asarray(a, dtype=dt)
    return a if float_dtype(a) == dt else a.astype(dt)


def with_where(kind: str, base: Any) -> Any:
    """``base`` (an engine's ``np.sum``/``prod``/``max``/``min``/``mean``) with numpy's
    ``where=`` mask and ``initial=`` value: masked entries are replaced by the
    reduction's identity (a constant, so they get derivative 0) and ``initial``
    joins the result as numpy defines it (added, multiplied, or compared by
    ``maximum``/``minimum``, whose ties split the derivative 0.5/0.5)."""

    def impl(a: Any, *args: Any, where: Any = np._NoValue, initial: Any = np._NoValue,
             **kwargs: Any) -> Any:
        has_where = where is not np._NoValue and where is not True
        has_init = initial is not np._NoValue and initial is not None
        if kind != "max" and kind != "min" and (len(args) > 1 or "dtype" in kwargs):
            # dtype=: reduce the input cast to that floating dtype, as numpy does
            if len(args) > 1:
                args, dtype = args[:1] + (None,) + args[2:], args[1]
            else:
                dtype = kwargs.pop("dtype")
            a = as_dtype(kind, a, dtype)
        if not has_where and not has_init:
            return base(a, *args, **kwargs)
        if is_traced(where) or is_traced(initial):
            raise TypeError(f"numpy.{kind}: where= and initial= must be constants, not "
                            "differentiated values (hyperdual and reverse)")
        a = _arr(a)
        names = ("axis", "dtype", "out") if kind != "max" and kind != "min" else ("axis", "out")
        kw = dict(zip(names, args))
        kw.update(kwargs)
        axis = kw.pop("axis", None)
        keepdims = kw.pop("keepdims", False)
        keepdims = bool(keepdims) if keepdims is not np._NoValue else False
        if kind in ("max", "min") and has_where and not has_init:
            raise ValueError(f"reduction operation '{'maximum' if kind == 'max' else 'minimum'}'"
                             " does not have an identity, so to use a where mask one has to "
                             "specify 'initial'")
        if kind == "mean" and has_init:
            raise TypeError("mean() got an unexpected keyword argument 'initial'")
        shape = _shape_of(a)
        if has_where:
            mask = np.broadcast_to(plain_array(where, bool), shape)  # (dask: lazy)
            fill = 0.0 if kind == "mean" else _NEUTRAL[kind]
            a = np.where(mask, a, fill)
        if kind == "mean":
            ax = None if axis is None else _axes(axis, len(shape))
            total = np.sum(a, axis=ax, keepdims=keepdims)
            count = np.sum(mask, axis=ax, keepdims=keepdims) if has_where else \
                _count(shape, axis)
            with np.errstate(invalid="ignore", divide="ignore"):  # the data's float dtype
                return total / plain_array(count, float_dtype(a))
        if kind in ("max", "min") and has_init and _count(shape, axis) == 0:
            # an empty reduction is initial itself (numpy), a constant: sum(a * 0) gives
            # it the engine's type and numpy's result shape (max/min of it had no identity)
            return np.sum(a * 0.0, axis=axis, keepdims=keepdims) + initial
        r = base(a, axis=axis, keepdims=keepdims, **kw)
        if has_init:
            if kind == "sum":
                r = r + initial
            elif kind == "prod":
                r = r * initial
            elif kind == "max":
                r = np.maximum(r, initial)
            else:
                r = np.minimum(r, initial)
        return r

    impl.__name__ = impl.__qualname__ = kind
    return impl


REDUCTIONS = {"sum": (np.sum,), "prod": (np.prod,), "mean": (np.mean,),
              "max": (np.max, np.amax), "min": (np.min, np.amin)}
