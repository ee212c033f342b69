"""The derivative of the zeta functions in s: Hurwitz ``zeta(s, q)`` (s > 1) and
Riemann ``zeta(s)``, ``zetac(s) = zeta(s) - 1`` (every s != 1).

No closed form exists.  Euler-Maclaurin summation gives zeta(s, q) as N terms of
its series, the integral of the rest and a correction series in w = q + N,

    sum_(k<N) (q + k)^-s + w^(1-s) / (s - 1) + w^-s / 2
        + sum_j B_2j / (2j)! s (s + 1) ... (s + 2j - 2) w^(1 - s - 2j),

an analytic function of s and q, differentiated here term by term in s (with the
product s (s + 1) ... carried with its derivative, so no division by s + i).  N
makes w >= (abs(s) + 24) / 2, where the twelve correction terms fall geometrically to
below an ulp.  Written with numpy arithmetic on the caller's values, a Dual,
HyperDual, Taylor number or Variable carries every further derivative.  For s <= -1/2
Riemann's zeta is differentiated through the functional equation zeta(s) =
chi(s) zeta(1 - s), chi(s) = 2^s pi^(s-1) sin(pi s/2) Gamma(1 - s), with sin and
cos of pi s/2 reduced exactly (s minus the nearest multiple of 4), so the trivial
zeros keep their slopes (nearer 0, zeta(1 - s) is next to its pole: there
Euler-Maclaurin again).

Examples
--------
>>> round(float(zeta_ds(2.0, 1.0)), 12)  # zeta'(2) = -0.937548254316...
-0.937548254316
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as sp

from _exactdiff._common import fpe_ignored
from _exactdiff._common import value as _plain
from _exactdiff.arrays import is_foreign_array, may_hold, plain_array

__all__ = ["riemann_zeta_derivative", "zeta_ds"]

#: B_2j / (2j)!, j = 1 .. 12
_EM = tuple(b / math.factorial(2 * j) for j, b in enumerate(
    (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
     43867 / 798, -174611 / 330, 854513 / 138, -236364091 / 2730), start=1))


#: Euler-Maclaurin's N on lazy arrays where abs(s) > 4, whose largest abs(s) is not asked for
#: (that would compute them): w >= 64 serves abs(s) <= 104, and beyond, the tail's terms
#: are smaller than the sum's first by (q / w)^s
_LAZY_TERMS = 64


def _real(v: Any) -> Any:
    return np.real(plain_array(_plain(v), np.float64))


def zeta_ds(s: Any, q: Any) -> Any:
    """``d/ds`` of the Hurwitz zeta function ``scipy.special.zeta(s, q)``.

    Parameters
    ----------
    s, q : float, array or engine value
        s != 1 and q > 0 (engine values carry the derivatives of this derivative).

    Returns
    -------
    float, array or engine value
        The derivative (Euler-Maclaurin's formula's, the analytic continuation for
        s < 1), broadcast over s and q; nan where q <= 0.

    Examples
    --------
    >>> round(float(zeta_ds(3.0, 2.5)), 12)
    -0.146304508488
    """
    # (Python floats would raise OverflowError where numpy gives inf)
    s, q = (np.float64(v) if isinstance(v, (int, float)) else v for v in (s, q))
    sv, qv = _real(s), _real(q)
    ok = np.isfinite(sv) & np.isfinite(qv) & (qv > 0)
    with fpe_ignored():
        if is_foreign_array(ok):
            # lazy: few terms where |s| is small (more would cancel for s < 1: 64 cost
            # 3 digits at s = -0.3), the fixed count elsewhere, chosen by a lazy mask
            small = np.abs(sv) <= 4.0
            total = np.where(small, _em_ds(np.where(small, s, 2.0), q, 12),
                             _em_ds(np.where(small, 30.0, s), q, _LAZY_TERMS))
            return np.where(ok, total, np.nan)
        sv, qv = np.broadcast_arrays(sv, qv)
        if not np.any(ok):
            return np.full(sv.shape, np.nan)[()]
        smax = float(np.max(np.abs(sv[ok])))
        n_terms = max(0, math.ceil(max(12.0, 0.5 * (smax + 24.0)) - float(np.min(qv[ok]))))
        total = _em_ds(s, q, n_terms)
    return total if np.all(ok) else np.where(ok, total, np.nan)


def _em_ds(s: Any, q: Any, n_terms: int) -> Any:
    """Euler-Maclaurin's formula with ``n_terms`` terms, differentiated in s."""
    total: Any = 0.0
    for k in range(n_terms):
        base = q + float(k)
        total = total - np.log(base) * base ** (-s)
    w = q + float(n_terms)
    log_w = np.log(w)
    a = w ** (1.0 - s)
    sm1 = s - 1.0
    total = total - log_w * a / sm1 - a / (sm1 * sm1) - 0.5 * log_w * w ** (-s)
    p, dp = s, 1.0  # s (s + 1) ... (s + 2j - 2) and its derivative
    power = w ** (1.0 - s)
    w2 = w * w
    for j, c in enumerate(_EM, start=1):
        power = power / w2
        total = total + c * (dp - log_w * p) * power
        f1, f2 = s + (2.0 * j - 1.0), s + 2.0 * j
        dp = dp * f1 * f2 + p * (f1 + f2)
        p = p * f1 * f2
    return total


def _sin_cos_half_pi(s: Any) -> tuple[Any, Any]:
    """sin(pi s / 2), cos(pi s / 2) with s reduced by the nearest multiple of 4
    (exact): pi s / 2 alone rounds away the distance to a zero."""
    n4 = 4.0 * np.round(_real(s) / 4.0)
    r = s - n4
    return np.sin(0.5 * np.pi * r), np.cos(0.5 * np.pi * r)


def riemann_zeta_derivative(s: Any) -> Any:
    """``zeta'(s)`` of Riemann's zeta (``scipy.special.zeta(s)``, and of ``zetac``).

    Parameters
    ----------
    s : float, array or engine value
        Any real s != 1.

    Returns
    -------
    float, array or engine value
        The derivative: Euler-Maclaurin's for s > -1/2, the functional equation's
        below.

    Examples
    --------
    >>> round(float(riemann_zeta_derivative(0.0)), 12)  # -log(2 pi) / 2
    -0.918938533205
    """
    sv = _real(s)
    # (from -1/2 down: Euler-Maclaurin's terms grow like N^(1 - s) and cancel; above,
    # zeta(1 - s) nears its pole at s = 0)
    left = sv <= -0.5
    if not may_hold(left):
        return zeta_ds(s, 1.0)
    with fpe_ignored():
        sl = np.where(left, s, -1.0)
        one_minus = 1.0 - sl
        sin, cos = _sin_cos_half_pi(sl)
        g = sp.gamma(one_minus)
        scale = 2.0 ** sl * np.pi ** (sl - 1.0)
        chi = scale * sin * g
        dchi = scale * g * ((math.log(2.0 * np.pi) - sp.digamma(one_minus)) * sin
                            + 0.5 * np.pi * cos)
        inner = dchi * sp.zeta(one_minus) - chi * zeta_ds(one_minus, 1.0)
        if not may_hold(~left):
            return inner
        right = zeta_ds(np.where(left, 2.0, s), 1.0)
        return np.where(left, inner, right)
