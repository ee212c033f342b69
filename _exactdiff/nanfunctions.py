"""numpy's NaN-ignoring functions for both engines: ``nanvar``, ``nanstd``, ``nanmax``,
``nanmin``, ``nanprod``, ``nancumsum``, ``nancumprod``, ``nanmedian``, ``nanpercentile``,
``nanquantile`` (``nansum`` and ``nanmean`` are in :mod:`_exactdiff.statistics`).

Each is the plain function on the entries that are not NaN: a NaN entry is replaced by
the neutral value of the operation (0 for sums, 1 for products, -inf/+inf for the
maximum/minimum) or left out of the order statistics, so its derivative is 0 and the
other entries' derivatives are those of the plain function on the rest.  Which
entries are NaN is read from the plain values (a constant of the derivative).  As in
numpy, an all-NaN slice gives NaN, with numpy's ``RuntimeWarning``.

Written with numpy calls on whatever they are given (arrays, Duals, HyperDuals,
Taylor numbers, reverse Variables), so both engines share one definition
(registered by ``hyperdual.rules.nanfunctions`` and ``reverse.rules.nanfunctions``)
and derivatives of every order and nesting follow from the primitives.

Examples
--------
>>> import numpy as np
>>> float(nanvar(np.array([1.0, np.nan, 3.0])))
1.0
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any

import numpy as np

from ._common import float_dtype, is_traced, value
from .arrays import is_foreign_array, is_lazy, may_hold, plain_array
from .statistics import (
    _arr,
    _axes,
    _given_mean,
    _reject,
    _std_rescale,
    _where_mask,
    as_dtype,
    blockwise_weights,
    lazy_std,
    mark_no_dof,
    quantile_method,
    quantile_position,
)

__all__ = ["NANFUNCTIONS"]

_NO = np._NoValue


def _kd(keepdims: Any) -> bool:
    return bool(keepdims) if keepdims is not _NO else False


def _nan_mask(a: Any) -> np.ndarray:
    # (dask data: a lazy mask, which the rules apply without asking where it holds)
    return np.isnan(plain_array(value(a)))


def _all_nan_warning(what: str) -> None:
    warnings.warn(what, RuntimeWarning, stacklevel=4)


# ---------------------------------------------------------------------------------
# moments
# ---------------------------------------------------------------------------------
def nanvar(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
           keepdims: Any = False, *, where: Any = _NO, mean: Any = _NO,
           correction: Any = _NO) -> Any:
    """``np.nanvar``: the variance of the non-NaN entries, divided by ``count - ddof``
    (with ``where=``: of the non-NaN entries it selects)."""
    _reject("nanvar", out=out)
    given = _given_mean(None if mean is _NO else mean)
    if correction is not _NO and correction is not None:
        ddof = correction
    a = as_dtype("nanvar", _arr(a), dtype)
    keep = _kd(keepdims)
    nan = _nan_mask(a)
    if where is not _NO and where is not None and where is not True:
        nan = nan | ~_where_mask("nanvar", where, nan.shape)  # left out as a NaN is
    ax = None if axis is None else _axes(axis, nan.ndim)
    count = np.sum(~nan, axis=ax, keepdims=True)
    if may_hold(nan):
        clean = np.where(nan, 0.0, a)
        # (an all-NaN slice: its mean is not used, so no 0/0 and no warning of it)
        m = np.sum(clean, axis=ax, keepdims=True) / np.maximum(count, 1).astype(
            float_dtype(a)) if given is None else given
        d = np.where(nan, 0.0, clean - m)
    else:
        d = a - (np.mean(a, axis=ax, keepdims=True) if given is None else given)
    ss = np.sum(d * d, axis=ax, keepdims=keep)
    denom = count - ddof
    if not keep:
        denom = np.reshape(denom, np.shape(value(ss)))
    bad = denom <= 0
    lazy = is_foreign_array(bad)  # (dask: the marks applied by the lazy mask, no warning)
    if lazy or np.any(bad):
        if not lazy:
            _all_nan_warning("Degrees of freedom <= 0 for slice.")
        # numpy's value nan, and no derivative: nan (a constant nan gave derivative 0)
        # (ss * nan on the bad slices only: the value nan that carries ss's dependence
        # to no_derivative's mark, and no 0 * nan in the others' reverse pass)
        good = ss / np.where(bad, 1, denom).astype(float_dtype(a))
        return mark_no_dof(np.where(bad, np.where(bad, ss, 1.0) * np.nan, good), a, axis,
                           ddof, keepdims, None if where is _NO else where, skip_nan=True)
    return ss / np.asarray(denom, dtype=float_dtype(a))


def nanstd(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
           keepdims: Any = False, *, where: Any = _NO, mean: Any = _NO,
           correction: Any = _NO) -> Any:
    """``np.nanstd``: the square root of :func:`nanvar`; derivative 0 where it is 0
    (the convention of ``np.std``)."""
    v = nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
               correction=correction)
    scale = _std_rescale(a, v, axis, None if where is _NO else where,
                         None if mean is _NO else mean, skip_nan=True)
    if scale is not None:
        # deviations of 1e-300 (or 1e200) square out of the range: as np.std,
        # nanstd(a) = 2**k nanstd(a / 2**k), exact for a power of two (NaNs stay NaN)
        given = _given_mean(None if mean is _NO else mean)
        return nanstd(_arr(a) * scale[0], axis, dtype, out, ddof, keepdims, where=where,
                      mean=mean if given is None else given * scale[0],
                      correction=correction) * scale[1]
    pv = value(v)
    if is_lazy(pv):
        return lazy_std(v, pv, a, axis, ddof, keepdims, None if where is _NO else where,
                        None if correction is _NO else correction, skip_nan=True)
    if is_traced(v) and not np.isfinite(np.asarray(pv)).all():
        # sqrt'(nan) would hide nanvar's nan derivatives from reverse's backward pass
        return mark_no_dof(np.sqrt(v), a, axis, ddof, keepdims,
                           None if where is _NO else where,
                           None if correction is _NO else correction, skip_nan=True)
    zero = np.asarray(pv) == 0
    if not zero.any():
        return np.sqrt(v)
    return np.where(zero, 0.0, np.sqrt(np.where(zero, 1.0, v)))


# ---------------------------------------------------------------------------------
# max, min, prod, cumulative
# ---------------------------------------------------------------------------------
def _extremum(name: str, fill: float, reduce: Any) -> Any:
    def impl(a: Any, axis: Any = None, out: Any = None, keepdims: Any = False,
             initial: Any = _NO, where: Any = _NO) -> Any:
        _reject(name, out=out)
        a = _arr(a)
        keep = _kd(keepdims)
        nan = _nan_mask(a)
        extra = {k: v for k, v in (("initial", initial), ("where", where)) if v is not _NO}
        if not may_hold(nan):
            return reduce(a, axis=axis, keepdims=keep, **extra)
        ax = None if axis is None else _axes(axis, nan.ndim)
        clean = np.where(nan, fill, a)
        r = reduce(clean, axis=ax, keepdims=keep, **extra)
        valid = ~nan if "where" not in extra else ~nan & np.broadcast_to(
            plain_array(extra["where"]), nan.shape)
        empty = ~np.any(valid, axis=ax, keepdims=keep)
        if "initial" not in extra and may_hold(empty):
            if not is_foreign_array(empty):  # (dask: not asked, no warning)
                _all_nan_warning("All-NaN slice encountered")
            return np.where(empty, np.nan, r)
        return r
    impl.__name__ = name
    impl.__doc__ = (f"``np.{name}``: the {'maximum' if fill < 0 else 'minimum'} of the "
                    "non-NaN entries (NaN entries have derivative 0).")
    return impl


nanmax = _extremum("nanmax", -math.inf, np.max)
nanmin = _extremum("nanmin", math.inf, np.min)


def nanprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: Any = False, initial: Any = _NO, where: Any = _NO) -> Any:
    """``np.nanprod``: NaN entries count as 1 (derivative 0 there)."""
    _reject("nanprod", out=out)
    a = as_dtype("nanprod", _arr(a), dtype)
    nan = _nan_mask(a)
    extra = {k: v for k, v in (("initial", initial), ("where", where)) if v is not _NO}
    clean = np.where(nan, 1.0, a) if may_hold(nan) else a
    return np.prod(clean, axis=axis, keepdims=_kd(keepdims), **extra)


def nancumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """``np.nancumsum``: NaN entries count as 0 (derivative 0 there)."""
    _reject("nancumsum", out=out)
    a = as_dtype("nancumsum", _arr(a), dtype)
    nan = _nan_mask(a)
    return np.cumsum(np.where(nan, 0.0, a) if may_hold(nan) else a, axis=axis)


def nancumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """``np.nancumprod``: NaN entries count as 1 (derivative 0 there)."""
    _reject("nancumprod", out=out)
    a = as_dtype("nancumprod", _arr(a), dtype)
    nan = _nan_mask(a)
    return np.cumprod(np.where(nan, 1.0, a) if may_hold(nan) else a, axis=axis)


# ---------------------------------------------------------------------------------
# order statistics of the non-NaN entries
# ---------------------------------------------------------------------------------
def _weights(r: np.ndarray, q: float, axes: tuple, method: str) -> tuple:
    """Weights W shaped like r (quantile = sum(W * x) over ``axes`` near r, NaN entries
    weight 0, tied entries share) and the mask of all-NaN slices (shape of the rest)."""
    rest = [i for i in range(r.ndim) if i not in axes]
    perm = rest + list(axes)
    rr = np.transpose(r, perm)
    lead = rr.shape[:len(rest)]
    rr = rr.reshape((math.prod(lead), -1))
    w = np.zeros(rr.shape)
    empty = np.zeros(rr.shape[0], dtype=bool)
    for i, row in enumerate(rr):
        vals = np.sort(row[~np.isnan(row)])
        n = vals.size
        if n == 0:
            empty[i] = True
            continue
        lo, hi, frac = quantile_position(q, n, method)
        for k, share in ((lo, 1.0 - frac), (hi, frac)):
            if share:
                hit = row == vals[k]  # (ties share the derivative, as in np.quantile)
                w[i] += share * hit / np.sum(hit)
    w = np.transpose(w.reshape(lead + tuple(r.shape[i] for i in axes)), np.argsort(perm))
    return w.astype(r.dtype if r.dtype.kind == "f" else float), empty.reshape(lead)


def _weights_only(r: np.ndarray, q: float, axes: tuple, method: str) -> np.ndarray:
    """:func:`_weights`'s weights alone (a block of dask data)."""
    return _weights(r, q, axes, method)[0]


def nanquantile(a: Any, q: Any, axis: Any = None, out: Any = None,
                overwrite_input: bool = False, method: str = "linear",
                keepdims: Any = False, *, weights: Any = None,
                interpolation: Any = None) -> Any:
    """``np.nanquantile``: :func:`np.quantile` of the non-NaN entries of each slice."""
    _reject("nanquantile", out=out, weights=weights)
    method = quantile_method("nanquantile", method, interpolation, q)
    keep = _kd(keepdims)
    a = _arr(a)
    r = value(a)
    lazy = is_lazy(r)  # (dask: the weights from its blocks, lazily)
    if not lazy:
        r = np.asarray(r)
    axes = _axes(axis, r.ndim)
    qa = np.asarray(q, dtype=float)
    if np.any((qa < 0) | (qa > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    res = []
    warned = False
    for qq in qa.reshape(-1):
        if lazy:
            w = blockwise_weights(r, axes, functools.partial(
                _weights_only, q=float(qq), axes=axes, method=method))
            empty = np.all(np.isnan(r), axis=axes)
        else:
            w, empty = _weights(r, float(qq), axes, method)
        s = np.sum(w * np.where(w != 0, a, 0.0), axis=axes, keepdims=keep)
        if may_hold(empty):
            if not warned and not lazy:  # (dask: not asked, no warning)
                _all_nan_warning("All-NaN slice encountered")
                warned = True
            if keep:
                empty = np.expand_dims(empty, axes) if axes else empty
            s = np.where(empty, np.nan, s)
        res.append(s)
    if qa.ndim == 0:
        return res[0]
    return np.reshape(np.stack(res, axis=0), qa.shape + np.shape(value(res[0])))


def nanpercentile(a: Any, q: Any, axis: Any = None, out: Any = None,
                  overwrite_input: bool = False, method: str = "linear",
                  keepdims: Any = False, *, weights: Any = None,
                  interpolation: Any = None) -> Any:
    """``np.nanpercentile`` (q in [0, 100])."""
    if type(q).__module__.split(".")[0] in ("hyperdual", "reverse"):
        raise TypeError("nanquantile/nanpercentile: q must be a constant")
    return nanquantile(a, np.asarray(q, dtype=float) / 100.0, axis, out, overwrite_input,
                       method, keepdims, weights=weights, interpolation=interpolation)


def nanmedian(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
              keepdims: Any = False) -> Any:
    """``np.nanmedian``: the median of the non-NaN entries (ties share the derivative)."""
    return nanquantile(a, 0.5, axis, out, overwrite_input, "linear", keepdims)


NANFUNCTIONS = {
    np.nanvar: nanvar, np.nanstd: nanstd, np.nanmax: nanmax, np.nanmin: nanmin,
    np.nanprod: nanprod, np.nancumsum: nancumsum, np.nancumprod: nancumprod,
    np.nanmedian: nanmedian, np.nanpercentile: nanpercentile, np.nanquantile: nanquantile,
}
