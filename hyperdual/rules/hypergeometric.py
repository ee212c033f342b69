"""The derivatives of Kummer's function ``hyp1f1(a, b, x)`` in its parameters a and b
(JAX's special-function suite checks its gradient in all three arguments).

No closed form exists.  The series M = sum t_n, t_n = t_(n-1) (a + n - 1) x / ((b + n
- 1) n), is differentiated term by term: with r_n the ratio, dt_n/da = dt_(n-1)/da r_n
+ t_(n-1) x / ((b + n - 1) n) and dt_n/db = dt_(n-1)/db r_n - t_n / (b + n - 1).  For
a, b > 0 and x >= 0 every term of each sum has one sign, so nothing cancels.  For x < 0
the terms alternate: the series is summed where abs(x) a / b <= 1 (costing at most a
factor e); beyond, Kummer's transformation M(a, b, x) = e^x M(b - a, b, -x) gives terms
of one sign when b > a (d/da = -e^x M_1, d/db = e^x (M_1 + M_2) at (b - a, b, -x)),
and elsewhere, or for a or b <= 0, a ValueError says so.  Written with numpy
arithmetic on the caller's values, so a Dual, HyperDual, Taylor number or Variable
carries every further derivative.

Examples
--------
>>> da, db = hyp1f1_parameter_partials(1.0, 2.0, 1.0)  # M(1, 2, x) = (e^x - 1) / x
>>> round(float(da), 12), round(float(db), 12)  # mpmath: 0.847480063873, -0.447100386868
(0.847480063873, -0.447100386868)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _exactdiff._common import fpe_ignored
from _exactdiff._common import value as _plain

__all__ = ["hyp1f1_parameter_partials"]

#: more terms than this (x beyond ~1e5) is refused rather than summed for minutes
_MAX_TERMS = 200_000


def _real(v: Any) -> Any:
    return np.real(np.asarray(_plain(v), dtype=float))


def _count(av: np.ndarray, bv: np.ndarray, xv: np.ndarray) -> int:
    """Terms until each sum (and its derivatives') has stopped changing, plus a margin
    for the derivatives of higher order."""
    t, ta, tb = np.ones_like(av), np.zeros_like(av), np.zeros_like(av)
    s, sa, sb = t.copy(), ta.copy(), tb.copy()
    n = 0
    while n < _MAX_TERMS:
        n += 1
        u = xv / ((bv + (n - 1)) * n)
        r = (av + (n - 1)) * u
        ta, tb, t = ta * r + t * u, tb * r - t * r / (bv + (n - 1)), t * r
        s, sa, sb = s + t, sa + ta, sb + tb
        small = ((np.abs(t) <= 2.0 ** -60 * np.abs(s))
                 & (np.abs(ta) <= 2.0 ** -60 * np.abs(sa))
                 & (np.abs(tb) <= 2.0 ** -60 * np.abs(sb)))
        if n > np.max(np.abs(xv)) and np.all(small | (t == 0)):
            return n + n // 4 + 8
    raise ValueError("scipy.special.hyp1f1: the derivative in a or b needs more than "
                     f"{_MAX_TERMS} terms here (|x| > ~1e5); not supported")


def _series(a: Any, b: Any, x: Any, n_terms: int) -> tuple[Any, Any]:
    """d/da and d/db of the series, n_terms terms."""
    t: Any = 1.0
    ta: Any = 0.0
    tb: Any = 0.0
    sa: Any = 0.0
    sb: Any = 0.0
    for n in range(1, n_terms + 1):
        bn = b + float(n - 1)
        u = x / (bn * float(n))
        r = (a + float(n - 1)) * u
        ta, tb, t = ta * r + t * u, tb * r - t * r / bn, t * r
        sa = sa + ta
        sb = sb + tb
    return sa, sb


def hyp1f1_parameter_partials(a: Any, b: Any, x: Any) -> tuple[Any, Any]:
    """``(d/da, d/db)`` of Kummer's function ``scipy.special.hyp1f1(a, b, x)``.

    Parameters
    ----------
    a, b, x : float, array or engine value
        a, b > 0; for x < 0, b > a or abs(x) a <= b (engine values carry the
        derivatives of these derivatives).

    Returns
    -------
    tuple
        ``(d/da, d/db)``, each broadcast over a, b and x.

    Raises
    ------
    ValueError
        Outside that region (the series' alternating terms cancel there), or where
        more than 200,000 terms are needed (abs(x) > ~1e5).

    Examples
    --------
    >>> da, db = hyp1f1_parameter_partials(0.5, 1.5, 0.3)
    >>> round(float(da), 12), round(float(db), 12)  # mpmath: 0.226104027655, -0.077198490359
    (0.226104027655, -0.077198490359)
    """
    av, bv, xv = np.broadcast_arrays(_real(a), _real(b), _real(x))
    ok = np.isfinite(av) & np.isfinite(bv) & np.isfinite(xv)
    # x < 0: the series' terms alternate, the largest near e^(|x| a / b) times the sum;
    # Kummer's form has terms of one sign for b > a, but its d/db = e^x (M_1 + M_2)
    # subtracts (60-fold at (0.5, 30, -0.7)): the series where |x| a <= b
    direct = ok & ((xv >= 0) | (-xv * av <= bv))
    kummer = ok & ~direct & (bv > av)
    bad = ok & ((av <= 0) | (bv <= 0) | (~direct & ~kummer))
    if np.any(bad):
        i = np.flatnonzero(bad)[0]
        raise ValueError(
            "scipy.special.hyp1f1: the derivative in a or b is supported for a, b > 0 with "
            f"x >= 0, b > a or |x| a <= b (its series cancels elsewhere); got a = "
            f"{float(av.flat[i])!r}, b = {float(bv.flat[i])!r}, x = {float(xv.flat[i])!r}")
    with fpe_ignored():
        out_a: Any = np.full(av.shape, np.nan)
        out_b: Any = np.full(av.shape, np.nan)
        if np.any(direct):
            n = _count(av[direct], bv[direct], xv[direct])
            da, db = _series(np.where(direct, a, 1.0), np.where(direct, b, 2.0),
                             np.where(direct, x, 0.5), n)
            out_a, out_b = np.where(direct, da, out_a), np.where(direct, db, out_b)
        if np.any(kummer):
            c = b - a
            n = _count((bv - av)[kummer], bv[kummer], -xv[kummer])
            cs, bs = np.where(kummer, c, 1.0), np.where(kummer, b, 2.0)
            xs = np.where(kummer, x, -0.5)
            d1, d2 = _series(cs, bs, -xs, n)
            e = np.exp(xs)
            out_a = np.where(kummer, -e * d1, out_a)
            out_b = np.where(kummer, e * (d1 + d2), out_b)
    return out_a, out_b
