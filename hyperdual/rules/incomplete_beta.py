"""The derivatives of the regularized incomplete beta function ``I_x(a, b)``
(``scipy.special.betainc``) in its parameters a and b.

No closed form exists.  Where ``x <= (a + 1)/(a + b + 2)``, ``I = K F`` with
``K = x^a (1 - x)^b / (a B(a, b))`` and the continued fraction behind I itself,
``F = 1/(1 + d_1/(1 + d_2/(1 + ...)))``,

    d_(2m+1) = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),
    d_(2m)   = m (b - m) x / ((a + 2m - 1)(a + 2m)),

so that ``dI/da = I (log x - 1/a - (psi(a) - psi(a + b)) + F_a/F)`` and ``dI/db =
I (log1p(-x) - (psi(b) - psi(a + b)) + F_b/F)``; the fraction's slopes ``F_a``,
``F_b`` come from differentiating its tail recurrence term by term.  Elsewhere the
same is done for ``J = I_(1-x)(b, a) = 1 - I``: ``dI/da = -dJ/da``, the derivative
of the function that is small there, never ``1 - ...``.  The number of terms is
found on the plain values (Lentz's pass, then doubled until the slopes settle: the
fraction ends at ``m = b`` for an integer b while its slope in b does not).

Everything is numpy arithmetic on the caller's values, so a Dual, HyperDual, Taylor
number or Variable passed in carries the derivatives of these derivatives too
(every order, every nesting).  ``I`` itself is the caller's (scipy's value).

Examples
--------
>>> import scipy.special as sp
>>> da, db = betainc_parameter_partials(2.0, 3.0, 0.4, sp.betainc)
>>> round(float(da), 12), round(float(db), 12)  # mpmath's numerical derivatives
(-0.240869376088, 0.156344336414)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sp

from _exactdiff._common import fpe_ignored
from _exactdiff._common import value as _plain
from _exactdiff.arrays import may_hold, plain_array
from _exactdiff.special import _BERNOULLI, horner, psi_difference

from .incomplete_gamma import _LOG1PMX

__all__ = ["betainc_parameter_partials"]

#: more terms than this (a, b ~ 1e10 next to the mean) is refused rather than summed
_MAX_TERMS = 100_000
_TINY = 1e-300


def _real(v: Any) -> Any:
    return np.real(plain_array(_plain(v), np.float64))


def _term(k: int, p: Any, q: Any, z: Any) -> tuple[Any, Any, Any]:
    """``d_k`` of the fraction of I_z(p, q) and its partials in p and q (the forms
    without cancellation: 1/(p + m) - 1/(p + 2m) = m/((p + m)(p + 2m)) ...)."""
    m = float(k // 2)
    if k % 2:
        pm, pqm, p2m, p2m1 = p + m, p + q + m, p + 2.0 * m, p + (2.0 * m + 1.0)
        d = -(pm * pqm) * z / (p2m * p2m1)
        d_p = d * (m / (pm * p2m) + (m + 1.0 - q) / (pqm * p2m1))
        d_q = d / pqm
    else:
        lo, hi = p + (2.0 * m - 1.0), p + 2.0 * m
        r = m * z / (lo * hi)
        d = r * (q - m)
        d_p = -d * (1.0 / lo + 1.0 / hi)
        d_q = r
    return d, d_p, d_q


def _log_slopes_of_fraction(p: Any, q: Any, z: Any, n: int) -> tuple[Any, Any]:
    """``F_p/F`` and ``F_q/F`` from the fraction's tail ``u = 1 + d_k/u``, F = 1/u."""
    u: Any = 1.0
    u_p: Any = 0.0
    u_q: Any = 0.0
    for k in range(n, 0, -1):
        d, d_p, d_q = _term(k, p, q, z)
        w = d / u
        u_p, u_q = (d_p - w * u_p) / u, (d_q - w * u_q) / u
        u = 1.0 + w
    return -u_p / u, -u_q / u


def _lentz_count(p: np.ndarray, q: np.ndarray, z: np.ndarray) -> int:
    c = np.ones_like(p)
    d = 1.0 - (p + q) * z / (p + 1.0)
    d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
    done = np.zeros(p.shape, dtype=bool)
    n = 0
    for m in range(1, _MAX_TERMS):
        for k in (2 * m, 2 * m + 1):
            dk = _term(k, p, q, z)[0]
            d = 1.0 + dk * d
            d = 1.0 / np.where(np.abs(d) < _TINY, _TINY, d)
            c = 1.0 + dk / c
            c = np.where(np.abs(c) < _TINY, _TINY, c)
            done |= np.abs(c * d - 1.0) <= 2.0 ** -52
        n = 2 * m + 1
        if np.all(done):
            break
    return n


def _count(p: np.ndarray, q: np.ndarray, z: np.ndarray) -> int:
    n = max(_lentz_count(p, q, z), 9)
    last = _log_slopes_of_fraction(p, q, z, n)
    settled = np.zeros(p.shape, dtype=bool)
    while True:
        if n > _MAX_TERMS:
            raise ValueError(
                "scipy.special.betainc: the derivative in a, b needs more than "
                f"{_MAX_TERMS} terms of its continued fraction here (a, b > ~1e9 next to "
                "the mean); not supported")
        n *= 2
        now = _log_slopes_of_fraction(p, q, z, n)
        # (an entry that settled once stays settled: two sums of the tail differ by
        # their rounding, a few ulps)
        close = np.ones(p.shape, dtype=bool)
        for a_, b_ in zip(now, last):
            close &= np.abs(a_ - b_) <= 2.0 ** -50 * (np.abs(a_) + 1.0)
        settled |= close
        if np.all(settled):
            break
        last = now
    return n + n // 4 + 8


def betainc_parameter_partials(a: Any, b: Any, x: Any, betainc: Callable[..., Any],
                               betaincc: Callable[..., Any] | None = None
                               ) -> tuple[Any, Any]:
    """``d/da`` and ``d/db`` of ``scipy.special.betainc(a, b, x)``.

    Parameters
    ----------
    a, b : float, array or engine value
        The shapes a, b > 0 (Duals, HyperDuals, Taylor numbers or Variables carry
        the derivatives of these derivatives).
    x : float, array or engine value
        The argument, 0 <= x <= 1.
    betainc, betaincc : callable
        ``I = betainc(a, b, x)`` and ``1 - I = betaincc(a, b, x)`` on the same kind
        of values (scipy's for plain ones, an engine's rule for engine values): the
        partials are I or 1 - I times a logarithmic derivative.  Without
        ``betaincc`` (scipy < 1.12), ``betainc(b, a, 1 - x)``, whose rounded
        ``1 - x`` costs the condition number ``b x`` times an ulp of x where x < 1/2.

    Returns
    -------
    tuple
        ``(d/da, d/db)`` broadcast over a, b and x: 0 at x = 0 and x = 1, nan where
        a <= 0, b <= 0 or x is outside [0, 1].

    Raises
    ------
    ValueError
        Where the continued fraction needs more than 100,000 terms (a, b > ~1e9
        next to the mean a/(a + b)).

    Examples
    --------
    >>> import scipy.special as sp
    >>> da, db = betainc_parameter_partials(1.0, 1.0, 0.25, sp.betainc)  # I = x
    >>> round(float(da), 12)  # I_x(a, 1) = x^a: d/da = x log x at a = 1
    -0.34657359028
    """
    av, bv, xv = np.broadcast_arrays(_real(a), _real(b), _real(x))
    ok = ((av > 0) & (bv > 0) & np.isfinite(av) & np.isfinite(bv) & (xv > 0) & (xv < 1))
    edge = (av > 0) & (bv > 0) & np.isfinite(av) & np.isfinite(bv) & ((xv == 0) | (xv == 1))
    with fpe_ignored():
        outside: Any = np.where(edge, 0.0, np.nan)
        if not np.any(ok):
            return outside[()], outside[()]
        # J = I_(1-x)(b, a) = 1 - I beyond the fraction's good side
        swap = ok & (xv > (av + 1.0) / (av + bv + 2.0))
        pv, qv = np.where(swap, bv, av), np.where(swap, av, bv)
        zv = np.where(swap, 1.0 - xv, xv)
        n = _count(pv[ok], qv[ok], zv[ok])
        a_ok, b_ok = np.where(ok, a, 1.0), np.where(ok, b, 1.0)
        x_ok = np.where(ok, x, 0.5)
        p, q = np.where(swap, b_ok, a_ok), np.where(swap, a_ok, b_ok)
        z = np.where(swap, 1.0 - x_ok, x_ok)
        log_x, log_xc = np.log(x_ok), np.log1p(-x_ok)  # (log(1 - x) loses tiny x)
        log_z, log_zc = np.where(swap, log_xc, log_x), np.where(swap, log_x, log_xc)
        f_p, f_q = _log_slopes_of_fraction(p, q, z, n)
        plain = _direct_psi_difference
        l_p = log_z - 1.0 / p - psi_difference(p, q, 0, plain) + f_p
        l_q = log_zc - psi_difference(q, p, 0, plain) + f_q
        # I where not swapped, J = 1 - I where swapped (not betainc(b, a, 1 - x): at
        # x = 0.05, b = 1e4 the rounding of 1 - x alone was 1800 ulps of J)
        upper = (betaincc(a_ok, b_ok, x_ok) if betaincc is not None
                 else betainc(b_ok, a_ok, 1.0 - x_ok))
        small = np.where(swap, upper, betainc(a_ok, b_ok, x_ok))
        d_a = np.where(swap, -(small * l_q), small * l_p)
        d_b = np.where(swap, -(small * l_p), small * l_q)
        if may_hold(~ok):
            d_a, d_b = np.where(ok, d_a, outside), np.where(ok, d_b, outside)
    if isinstance(d_a, np.ndarray) and d_a.ndim == 0:
        d_a, d_b = d_a[()], d_b[()]
    return d_a, d_b


def _direct_psi_difference(a: Any, b: Any) -> Any:
    return sp.digamma(a) - sp.digamma(a + b)


# --- Student's t cdf in its degrees of freedom ----------------------------------------
# stdtr(nu, t) = 1/2 + sign(t) G for t² < nu, G = I_y(1/2, nu/2) / 2, y = t²/(nu + t²).
# Its derivative in nu is O(1/nu²) while betainc's partials in b and y are O(1/nu) and
# cancel (1e-6 relative at nu = 1e5): the derivative is formed along the path instead.
# With w = nu + t², s = t²/nu, b = nu/2 and I = K F as above:
#   d log K/d nu = ([s - log1p(s)] + g(b) + t²(1 - t²)/(nu w)) / 2,
#   g(b) = psi(b + 1/2) - psi(b) - 1/(2b),
# each bracket formed without cancellation, and the fraction's terms differentiated in
# nu through both b and y (d/d nu of (1/2 + m + nu/2)/w is (t² - 1 - 2m)/(2 w²)).
#: B_2k / (2k), the coefficients of psi's asymptotic series
_B_OVER_2K = tuple(v / (2 * k) for k, v in enumerate(_BERNOULLI, start=1))


def half_step_digamma_gap(b: Any) -> Any:
    """``psi(b + 1/2) - psi(b) - 1/(2b)`` for b > 0, without cancellation.

    Shifted up by g(b) = g(b + 1) + 1/(4 b (b + 1)(b + 1/2)) (positive terms) to
    b + N >= 20, where the asymptotic series of psi is summed in forms that keep
    their digits (``log1p(h) - h/(1 + h)`` by :func:`_log1p_minus_ratio`, h = 1/(2x),
    ``(x + 1/2)**-2k - x**-2k`` as ``x**-2k expm1(-2k log1p(h))``).

    Parameters
    ----------
    b : float, array or engine value
        b > 0.

    Returns
    -------
    float, array or engine value
        The difference, ~ 1/(8 b**2) for large b.

    Examples
    --------
    >>> import scipy.special as sp
    >>> g = half_step_digamma_gap(1.5)  # psi(2) - psi(1.5) - 1/3
    >>> bool(abs(g - (sp.digamma(2.0) - sp.digamma(1.5) - 1 / 3)) < 1e-15)
    True
    """
    lowest = float(np.min(_real(b)))
    n = max(0, int(np.ceil(20.0 - lowest))) if np.isfinite(lowest) else 0
    total: Any = 0.0
    for j in range(n):
        x = b + float(j)
        total = total + 0.25 / (x * (x + 1.0) * (x + 0.5))
    x = b + float(n)
    h = 0.5 / x
    series = _log1p_minus_ratio(h)  # log1p(h) - h/(1 + h), h <= 1/40
    inv2 = 1.0 / (x * x)
    power: Any = 1.0
    lh = np.log1p(h)
    for k, c in enumerate(_B_OVER_2K, start=1):
        power = power * inv2
        series = series - c * power * np.expm1(-2.0 * k * lh)
    return total + series


def _log1p_gap(s: Any) -> Any:
    """``s - log1p(s)`` for 0 <= s <= 1 as 2 r²/(1 - r) - 2 r³ sum r^2k/(2k + 3),
    r = s/(2 + s) <= 1/3 (log1p = 2 artanh(r)): no cancellation."""
    r = s / (2.0 + s)
    return 2.0 * r * r / (1.0 - r) - 2.0 * (r * r * r) * horner(r * r, _LOG1PMX)


def student_t_df_partial_near(nu: Any, t: Any, betainc: Callable[..., Any]) -> Any:
    """``d/d nu`` of ``scipy.special.stdtr(nu, t)`` for 0 < t² < nu, along the path
    (see the comment above).

    Parameters
    ----------
    nu, t : float, array or engine value
        Degrees of freedom nu > 0 and 0 < t² < nu (t's sign is kept).
    betainc : callable
        ``betainc(a, b, x)`` on the same kind of values (for G itself).

    Returns
    -------
    float, array or engine value
        The derivative, O(t/nu²) for large nu.

    Examples
    --------
    >>> import scipy.special as sp
    >>> d = student_t_df_partial_near(3.0, 0.5, sp.betainc)
    >>> round(float(d), 14)  # mpmath's numerical derivative
    0.00529909273003
    """
    nv, tv = _real(nu), _real(t)
    t2 = t * t
    w = nu + t2
    b = 0.5 * nu
    y = t2 / w
    n = _count(np.full(np.shape(nv * tv), 0.5), np.broadcast_to(0.5 * nv, np.shape(nv * tv)),
               np.broadcast_to(tv * tv / (nv + tv * tv), np.shape(nv * tv)))
    # the fraction of I_y(1/2, b) and its total derivative in nu
    u: Any = 1.0
    u_nu: Any = 0.0
    scale = t2 / (2.0 * (w * w))  # t² / (2 w²)
    for k in range(n, 0, -1):
        m = float(k // 2)
        if k % 2:
            c = (0.5 + m) / ((0.5 + 2.0 * m) * (1.5 + 2.0 * m))
            d = -c * t2 * (0.5 + m + b) / w
            d_nu = -c * scale * (t2 - (1.0 + 2.0 * m))
        else:
            c = m / ((2.0 * m - 0.5) * (2.0 * m + 0.5))
            d = c * t2 * (b - m) / w
            d_nu = c * scale * (t2 + 2.0 * m)
        ratio = d / u
        u_nu = (d_nu - ratio * u_nu) / u
        u = 1.0 + ratio
    log_f = -u_nu / u
    log_k = 0.5 * (_log1p_gap(t2 / nu) + half_step_digamma_gap(b)
                   + t2 * (1.0 - t2) / (nu * w))
    g = 0.5 * betainc(0.5, b, y)
    return np.sign(tv) * (g * (log_k + log_f))


# --- Student's t cdf in nu, the tail beyond |t| = 2 from nu = 30 ----------------------------
# T(nu, a) = int_a^inf f_nu(s) ds (a = |t|) has d T/d nu = int_a^inf f_nu(s) score(s) ds,
#   score = d log f_nu / d nu = (g(nu/2) - h(s²/nu) + s²/(nu (nu + s²))) / 2,
#   h(q) = log1p(q) - q/(1 + q),  g as above,
# each term formed without cancellation and, beyond s² = 1 + sqrt(2) (so for a > 2),
# of one sign for large nu: the integral has no cancellation where the closed forms
# through betainc's partials cancel O(1/nu) terms to the O(1/nu²) derivative.  With
# s = a + u and f_nu(a + u) = f_nu(a) R(u), R = (1 + (2 a u + u²)/(nu + a²))^-((nu+1)/2),
# the integral over u in (0, inf) is summed by the exp-sinh rule
# u = L exp(pi/2 sinh(k h)) (fixed nodes: every engine differentiates the sum).
_ES_STEP = 1.0 / 32.0  # (1/16 left 1000 ulps at nu = 1e5, a = 2.5; 1/32 a few)
_ES_TAU = np.arange(-4.25, 3.0 + _ES_STEP / 2, _ES_STEP)
_ES_NODES = np.exp(0.5 * np.pi * np.sinh(_ES_TAU))
_ES_WEIGHTS = _ES_STEP * 0.5 * np.pi * np.cosh(_ES_TAU) * _ES_NODES
#: 1/(2k + 1), k = 1 .. 16, for h(q) by r = q/(2 + q) <= 1/3
_ODD_RECIPROCALS = tuple(1.0 / (2 * k + 1) for k in range(1, 17))


def _log1p_minus_ratio(q: Any) -> Any:
    """``log1p(q) - q/(1 + q)`` for q >= 0 without cancellation: with r = q/(2 + q),
    log1p(q) = 2 artanh(r) and q/(1 + q) = 2r/(1 + r), so the difference is the
    positive series 2 r²/(1 + r) + 2 r³ sum_k r^(2k-2)/(2k + 1) for q <= 1 (r <= 1/3,
    16 terms); beyond, the direct difference (at least half of log1p(q))."""
    small = _real(q) <= 1.0
    qs = np.where(small, q, 0.0)
    r = qs / (2.0 + qs)
    series = 2.0 * r * r / (1.0 + r) + 2.0 * (r * r * r) * horner(r * r, _ODD_RECIPROCALS)
    ql = np.where(small, 2.0, q)
    return np.where(small, series, np.log1p(ql) - ql / (1.0 + ql))


def student_t_df_tail(nu: Any, a: Any) -> Any:
    """``d/d nu`` of the Student's t tail ``int_a^inf f_nu(s) ds`` divided by the
    density ``f_nu(a)``, for a > 2 (see the comment above).

    Parameters
    ----------
    nu, a : float, array or engine value
        Degrees of freedom nu > 0 and the tail's start a > 2 (one sign of the
        integrand for nu >= ~10; below, the sum is still exact to the size of its terms).

    Returns
    -------
    float, array or engine value
        The integral of R(u) score(a + u), negative for large nu.

    Examples
    --------
    >>> import scipy.special as sp
    >>> from scipy.stats import t as student
    >>> nu, a = 500.0, 3.0
    >>> h = 1e-3
    >>> fd = (sp.stdtr(nu + h, -a) - sp.stdtr(nu - h, -a)) / (2 * h)  # ~1e-7
    >>> bool(abs(student_t_df_tail(nu, a) * student.pdf(a, nu) - fd) < 1e-11)
    True
    """
    nv, av = _real(nu), _real(a)
    rate = np.asarray(av * (nv + 1.0) / (nv + av * av), dtype=float)  # -d log R/du at 0
    scale = 1.0 / np.maximum(rate, 1e-300)
    expand = (lambda v: np.expand_dims(v, -1)) if np.ndim(rate) else (lambda v: v)
    nu_e, a_e = expand(nu), expand(a)
    u = expand(scale) * _ES_NODES
    w = nu_e + a_e * a_e
    ratio = np.exp(-0.5 * (nu_e + 1.0) * np.log1p((2.0 * a_e + u) * u / w))
    s = a_e + u
    s2 = s * s
    score = 0.5 * (half_step_digamma_gap(0.5 * nu_e) - _log1p_minus_ratio(s2 / nu_e)
                   + s2 / (nu_e * (nu_e + s2)))
    return np.sum(ratio * score * (expand(scale) * _ES_WEIGHTS), axis=-1)
