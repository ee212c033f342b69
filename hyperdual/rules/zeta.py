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
HyperDual, Taylor number or Variable carries every further derivative.

Riemann's zeta takes Euler-Maclaurin's formula for s >= 3 only: below, its first
terms (k + 1)^-s grow and cancel (200 ulps at s = -0.4).  For -1 < s < 3 it is the
Laurent series at the pole, zeta(s) = 1/t + sum_n (-1)^n gamma_n / n! t^n, t = s - 1,
with Stieltjes' constants gamma_n (a polynomial in s, so every derivative keeps full
precision); for s <= -1 the functional equation zeta(s) = chi(s) zeta(1 - s), chi(s) =
2^s pi^(s-1) sin(pi s/2) Gamma(1 - s), with sin and cos of pi s/2 reduced exactly (s
minus the nearest multiple of 4), so the trivial zeros keep their slopes.

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
from _exactdiff.arrays import may_hold, plain_array
from _exactdiff.special import horner

from .blockwise import by_blocks

__all__ = ["riemann_zeta_derivative", "zeta_ds"]

#: B_2j / (2j)!, j = 1 .. 12
_EM = tuple(b / math.factorial(2 * j) for j, b in enumerate(
    (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
     43867 / 798, -174611 / 330, 854513 / 138, -236364091 / 2730), start=1))


#: (-1)^n gamma_n / (n - 1)!, n = 1 .. 36, with gamma_n Stieltjes' constants (mpmath
#: at 60 digits): zeta(s) = 1/t + sum_n (-1)^n gamma_n / n! t^n, t = s - 1, so zeta'(s) =
#: -1/t^2 + sum_n _STIELTJES[n - 1] t^(n - 1); the 36th term is below 1e-30 of the sum
#: for abs(t) <= 2.5 (the terms fall faster than geometrically)
_STIELTJES = (
    0.07281584548367673, -0.00969036319287232, -0.001026917210151673,
    0.00038756167757788337, -3.3055159054210945e-05, -1.9897445452516635e-06,
    7.323466209135431e-07, -6.986574480219038e-08, 8.530450004486123e-10,
    5.658421927608708e-10, -7.445558849865067e-11, 4.190539124006438e-12,
    5.73355216428508e-14, -3.3597007104793986e-14, 3.251596830109024e-15,
    -1.5271145722187144e-16, -1.2559050322915682e-18, 8.641531408478517e-19,
    -7.865917801655281e-20, 3.833640318798247e-21, -4.2927240556750546e-23,
    -1.0600696702436178e-23, 1.1067271218478904e-24, -6.144631944765156e-26,
    1.731960223826167e-27, 4.2343796312625256e-29, -8.62363141511379e-30,
    5.877624450217592e-31, -2.4176561356780177e-32, 4.023778131657656e-34,
    2.832514606302433e-35, -3.125894863005813e-36, 1.714232152860392e-37,
    -5.887948623547415e-39, 6.900670816432005e-41, 7.014528297920118e-42)

#: Stieltjes' series serves -1 < s < _STIELTJES_TOP (Euler-Maclaurin above)
_STIELTJES_TOP = 3.0


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
    return _zeta_ds_by_blocks(s, q)


def _zeta_ds(s: Any, q: Any) -> Any:
    """zeta_ds on numpy data (or engine values holding it): as many terms as the
    largest abs(s) needs."""
    # (Python floats would raise OverflowError where numpy gives inf)
    s, q = (np.float64(v) if isinstance(v, (int, float)) else v for v in (s, q))
    sv, qv = _real(s), _real(q)
    ok = np.isfinite(sv) & np.isfinite(qv) & (qv > 0)
    with fpe_ignored():
        sv, qv = np.broadcast_arrays(sv, qv)
        if not np.any(ok):
            return np.full(sv.shape, np.nan)[()]
        smax = float(np.max(np.abs(sv[ok])))
        n_terms = max(0, math.ceil(max(12.0, 0.5 * (smax + 24.0)) - float(np.min(qv[ok]))))
        total = _em_ds(s, q, n_terms)
    return total if np.all(ok) else np.where(ok, total, np.nan)


#: on lazy (dask) data block by block: the number of terms depends on the largest abs(s)
#: of the block (a count fixed for the whole array would have to serve every s, and
#: cancels for s < 1), and the graph of a second derivative stays a few tasks a block
_zeta_ds_by_blocks = by_blocks(_zeta_ds, "zeta_ds")


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
        The derivative: the functional equation's for s <= -1, Stieltjes' series
        for -1 < s < 3, Euler-Maclaurin's above.

    Examples
    --------
    >>> round(float(riemann_zeta_derivative(0.0)), 12)  # -log(2 pi) / 2
    -0.918938533205
    """
    return _riemann_by_blocks(s)


def _riemann_zeta_derivative(s: Any) -> Any:
    """riemann_zeta_derivative on numpy data (or engine values holding it)."""
    sv = _real(s)
    # (Euler-Maclaurin's terms grow like N^(1 - s) and cancel for s < 1/2: 200 ulps at
    # s = -0.4; from -1 down zeta(1 - s) is far from its pole, for the functional
    # equation; between, Stieltjes' series, within 3 ulps to the third derivative)
    left = sv <= -1.0
    near = np.logical_and(np.logical_not(left), sv < _STIELTJES_TOP)
    right = np.logical_not(np.logical_or(left, near))  # (nan too: Euler-Maclaurin's nan)
    with fpe_ignored():
        parts = [(mask, form(np.where(mask, s, safe))) for mask, form, safe in (
            (left, _by_functional_equation, -1.0), (near, _by_stieltjes, 0.0),
            (right, lambda t: zeta_ds(t, 1.0), 2.0)) if may_hold(mask)]
        if len(parts) == 1:  # (the masks part the entries: this one holds them all)
            return parts[0][1]
        out = parts[-1][1]
        for mask, part in parts[-2::-1]:
            out = np.where(mask, part, out)
        return out


#: on lazy (dask) data block by block, as zeta_ds: three branches of elementwise dask
#: operations (Horner's 36 steps among them) made second-order graphs of 10^4 tasks
_riemann_by_blocks = by_blocks(_riemann_zeta_derivative, "riemann_zeta_derivative")


def _by_functional_equation(s: Any) -> Any:
    """zeta'(s) for s <= -1 from zeta(s) = chi(s) zeta(1 - s)."""
    one_minus = 1.0 - s
    sin, cos = _sin_cos_half_pi(s)
    g = sp.gamma(one_minus)
    scale = 2.0 ** s * np.pi ** (s - 1.0)
    chi = scale * sin * g
    dchi = scale * g * ((math.log(2.0 * np.pi) - sp.digamma(one_minus)) * sin
                        + 0.5 * np.pi * cos)
    return dchi * sp.zeta(one_minus) - chi * zeta_ds(one_minus, 1.0)


def _by_stieltjes(s: Any) -> Any:
    """zeta'(s) near s = 1 from the Laurent series in t = s - 1 (Horner's scheme)."""
    t = s - 1.0
    return horner(t, _STIELTJES) - 1.0 / (t * t)
