"""Helpers shared by the reverse-mode rule modules: operand checks (``_arg``,
``_reject``), zeros in the data's own dtype and library (``_zeros``), and the
zero-cotangent guard of the elementwise backwards (``_keep_zero``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from _exactdiff import arrays as _arrays
from _exactdiff._common import finite_array as _finite_array
from _exactdiff._common import fpe_ignored as _fpe_ignored
from _exactdiff._common import zero_weighted as _zero_weighted
from _exactdiff.arrays import is_foreign_array as _is_foreign

from .. import core
from ..core import Variable, _const, _value, as_array


def _arg(x: Any, fname: str) -> Any:
    """Validate an operand of a public function: a Variable or a constant."""
    if isinstance(x, Variable):
        return x
    c = _const(x)
    if c is None:
        as_array(x)  # raises the descriptive TypeError for strings, objects ...
        raise TypeError(f"reverse.functions.{fname}: unsupported operand {type(x).__name__}")
    return c


def _zeros(x: Any) -> np.ndarray:
    # x's float dtype: a float64 zero added to a float32 gradient would promote it
    if type(x) is not np.ndarray and _is_foreign(x):  # in x's library and chunking
        return _arrays.zeros_like(x, core._seed_dtype(x))
    return np.zeros(x.shape, dtype=core._seed_dtype(x))


_guard_zeros = core.GUARD_ZEROS.get
_auditing = core.AUDIT_ZEROS.get
_straight = core.STRAIGHT_ZEROS.get


def _as_dtype(a: Any, dt: Any) -> Any:
    """``a`` in dtype ``dt``; foreign (dask) data stays in its library, uncomputed."""
    if _is_foreign(a):
        return a if a.dtype == dt else a.astype(dt)
    return np.asarray(a, dtype=dt)


def _keep_zero(gy: Any, gx: Any) -> Any:
    """``gx = gy * (a local derivative)``, zero wherever ``gy`` is zero (the
    convention of ``_exactdiff._common.zero_weighted``, which forward mode applies
    to its constant factors: a factor of exactly 0 contributes exactly 0).

    A Jacobian row or a Hessian column seeds zero cotangents into outputs that
    do not matter for it; where the local derivative is inf (sqrt'(0), or an
    infinite operand of a product) ``0 * inf`` would turn those unrelated
    entries into NaN.  hyperdual keeps zero tangents zero the same way.  Only
    non-finite entries are touched, with one mask on both paths (raw arrays and
    Variables), so they agree exactly; a finite ``gx`` costs one reduction
    (``_exactdiff._common.finite_array``).
    With Dual data (forward-over-reverse) a cotangent counts as zero where all
    its parts are zero.
    Off in a backward pass's first try (``core.GUARD_ZEROS``): see
    ``core._run_backward``.
    """
    if not _guard_zeros():
        return gx
    v = gx.data if isinstance(gx, Variable) else gx
    if type(v) is np.ndarray:
        if v.dtype.kind != "f" or _finite_array(v):
            return gx
    elif isinstance(v, np.floating) or type(v) is float:
        if math.isfinite(v):
            return gx
    elif core._is_dual(v):
        if _auditing():  # the audit pass of reverse._audit: Dual data of its own
            from .._audit import audited_keep_zero

            return audited_keep_zero(gy, gx)
        # Forward-over-reverse: a cotangent is zero when all its parts are (a
        # cotangent whose real part is 0 but whose tangent is not still matters).
        # Lazy (dask) parts: the same mask, applied without asking whether it is
        # empty (that would compute).
        lazy = _is_foreign(_value(v))
        bad = ~_all_parts(v, np.isfinite)
        if not lazy and not bad.any():
            return gx
        gd = gy.data if isinstance(gy, Variable) else gy
        if not lazy:
            from .._audit import mirrored, note_clean

            # a clean zero cotangent (0, finite tangent) next to the bad entries: the
            # pass redoes this node split (reverse._audit.split_clean)
            note_clean(gd, bad)
            if not isinstance(gx, Variable):
                gx = v = mirrored(gd, v)
        mask = np.logical_and(_all_parts(gd, lambda a: np.equal(a, 0)), bad)
        if not lazy and not mask.any():
            return gx
        if gy is not core.SEEDING[0]:
            core.KEPT[0] += 1  # audited where the helper's own input is plain data
        if isinstance(gx, Variable):
            from .selection import Where  # rare path; selection imports this module

            return Where(mask)(0.0, gx)
        return np.where(mask, 0.0, v)
    elif not _is_foreign(v):
        return gx
    g = _value(gy)
    if not isinstance(gx, Variable) and not _is_foreign(v):
        # forward mode's constant zeros go through the same helper (one convention)
        out = _zero_weighted(v, g)
        if out is v:
            return out
        if gy is not core.SEEDING[0]:  # (the seed's zeros are structural)
            core.KEPT[0] += 1  # a zero kept next to an inf/nan partial: audited (reverse._audit)
        return out[()] if type(out) is np.ndarray and not out.ndim else out
    if isinstance(gx, Variable) and not _is_foreign(v):
        from .._audit import mirrored_graph

        gx = mirrored_graph(g, v, gx)
    mask = np.logical_and(np.equal(g, 0), ~np.isfinite(v))
    if not _is_foreign(v) and not mask.any():  # lazy data: the mask applies unasked
        return gx
    if gy is not core.SEEDING[0]:
        core.KEPT[0] += 1
    zero = np.zeros((), dtype=np.result_type(v))
    if isinstance(gx, Variable):
        if _straight():  # (reverse._audit.split_recorded: the value 0, the derivative kept)
            from .._audit import straight

            return straight(mask, zero, gx)
        from .selection import Where

        return Where(mask)(zero, gx)
    out = np.where(mask, zero, v)
    return out if out.ndim else out[()]


def _keep_constant_zero(gx: Any, c: Any) -> Any:
    """``gx = gy * c`` for a constant ``c`` of the graph (plain data, not a Variable),
    zero where ``c`` is exactly 0: the product does not depend on its other factor
    there, whatever the cotangent (forward mode's constant zero coefficient,
    ``hyperdual._number._mul_coef``).  d/dt ``sqrt(0 * t)`` was ``inf * 0 = nan``
    where hyperdual gives 0, and so was the second derivative of anything that
    moves one entry of an array along a direction with a zero entry next to an
    infinite derivative.  Structural zeros: not counted for the audit; only
    non-finite entries of ``gx`` are touched.
    """
    if gx is None or not _guard_zeros() or not (
            type(c) is np.ndarray or type(c) is float or isinstance(c, np.floating)):
        return gx
    if np.ndim(c) == 0 and c != 0:
        return gx  # (x * 2.0, the usual product: no pass over gx)
    v = gx.data if isinstance(gx, Variable) else gx
    if not isinstance(gx, Variable) and not core._is_dual(v):
        return _zero_weighted(v, c)  # plain or lazy data: the engines' one convention
    # a recorded pass (gx a Variable) or Dual data: the same mask, applied by Where/where
    lazy = False
    if type(v) is np.ndarray:
        if v.dtype.kind != "f" or _finite_array(v):
            return gx
        bad = ~np.isfinite(v)
    elif isinstance(v, np.floating) or type(v) is float:
        if math.isfinite(v):
            return gx
        bad = np.bool_(True)
    elif core._is_dual(v):
        lazy = _is_foreign(_value(v))
        bad = ~_all_parts(v, np.isfinite)
    elif _is_foreign(v):
        lazy = True
        bad = ~np.isfinite(v)
    else:
        return gx
    mask = np.logical_and(np.equal(c, 0), bad)
    if not lazy and not np.any(mask):
        return gx
    if isinstance(gx, Variable):
        from .selection import Where

        return Where(mask)(0.0, gx)
    out = np.where(mask, 0.0, v)  # (Dual data: the number's where)
    return out if lazy or np.ndim(out) else out[()]


def _keep_zero_bilinear(out: Any, bil: Any, gy: Any, x: Any, const: bool = False) -> Any:
    """A contraction backward ``out = bil(gy, x)`` (``matmul``, ``einsum``: a sum of
    products of cotangent and operand entries), zero-guarded as :func:`_keep_zero`.

    A Jacobian row seeds zero cotangents; a zero cotangent times an inf or NaN
    entry of the other operand (``0 * inf``) must not make the unrelated entries
    of the gradient NaN, as forward mode's contractions keep zero tangents zero
    (``_exactdiff.contractions.zero_safe`` for both).  Where the guard is on and
    ``out`` is not finite, the entries that differ from the guarded contraction of
    the plain values are replaced (by ``Where`` on a graph, so ``out`` stays
    differentiable elsewhere).  Dual and lazy data are left as they are.
    ``const``: ``x`` is a constant of the graph (not a Variable), whose zeros are
    structural as well (forward mode's constant factors: a second pass meets an
    infinite adjoint where a constant matrix has its zeros).
    """
    if not _guard_zeros():
        return out
    v = out.data if isinstance(out, Variable) else out
    if core._is_dual(v) and _auditing():
        from .._audit import audited_bilinear

        return audited_bilinear(out, bil, gy, x, const)
    if type(v) is not np.ndarray or v.dtype.kind != "f":
        return out
    if _finite_array(v):
        return out
    g, xv = _value(gy), _value(x)
    if type(g) is float or isinstance(g, np.floating):  # (a scalar output's cotangent)
        g = np.asarray(g)
    if not (type(g) is np.ndarray and type(xv) is np.ndarray):
        return out
    from _exactdiff.contractions import zero_safe

    with _fpe_ignored():
        safe = np.asarray(zero_safe(bil, g, xv, True, const), dtype=v.dtype)
        mask = ~((safe == v) | (np.isnan(safe) & np.isnan(v)))
    if not mask.any():
        return out
    core.KEPT[0] += 1
    if isinstance(out, Variable):
        if _straight():  # (as in _keep_zero)
            from .._audit import straight

            return straight(mask, safe, out)
        from .selection import Where

        return Where(mask)(safe, out)
    out = np.where(mask, safe, v)
    return out if out.ndim else out[()]


def _all_parts(v: Any, pred: Any) -> Any:
    """Where ``pred`` holds for every part of ``v`` (a Dual, nested or with
    direction axes, or plain data): a boolean array of the value's shape."""
    if not core._is_dual(v):
        if _is_foreign(v):  # lazy: kept in its library
            return pred(v)
        return np.asarray(pred(np.asarray(v)), dtype=bool)
    coef = getattr(v, "coef", None)
    if coef is not None:  # a Taylor number: coefficients along the first axis
        return np.all(pred(coef), axis=0)
    parts = v._parts()
    nd = v.nd
    mask = _all_parts(parts[0], pred)
    for p in parts[1:]:
        pm = _all_parts(p, pred)
        if nd:
            pm = np.all(pm, axis=tuple(range(nd)))
        mask = mask & pm
    return mask


def _reject(fname: str, **kwargs: Any) -> None:
    for key, val in kwargs.items():
        if val is not None and val is not np._NoValue:
            raise TypeError(f"reverse: np.{fname}(..., {key}=...) is not supported "
                            "(reverse-mode autodiff)")


def zero_weighted_denominator(a: Any, d: Any, wa: bool) -> Any:
    """``d``, with 1 where the constant ``a`` is 0: the partial ``a / d`` of
    ``xlogy(a, b)`` / ``xlog1py(a, b)`` in b is then 0 there, as the function is
    (identically 0 in b), and not 0/0 at d = 0 (d/db xlogy(0, b) at 0 was nan)."""
    if wa or not (type(a) is np.ndarray or type(a) is float or isinstance(a, np.generic)):
        return d
    zero = np.equal(a, 0)
    if not np.any(zero):
        return d
    return np.where(zero, 1.0, d)
