"""The derivative of the regularized incomplete gamma functions in their parameter:
``d/da P(a, x) = -d/da Q(a, x)`` (``scipy.special.gammainc`` / ``gammaincc``).

No closed form exists.  P's power series and Q's continued fraction (the two
algorithms behind P and Q themselves) are differentiated term by term in ``a``,
each written with numpy arithmetic on the caller's values, so a Dual, HyperDual,
Taylor number or Variable passed in carries the derivatives of this derivative
too (every order, every nesting):

* ``x < a + 1``: ``P = E s`` with ``E = x^a e^-x / Gamma(a + 1)`` and
  ``s = sum c_n``, ``c_n = c_(n-1) x / (a + n)``; ``dc_n/da = (dc_(n-1) x - c_n)
  / (a + n)`` (every one negative: the sum does not cancel), and
  ``dP/da = E (s (log x - psi(a + 1)) + ds/da)``.
* ``x >= a + 1``: ``Q = a E F`` with Legendre's continued fraction ``F = 1/(b_0 +
  a_1/(b_1 + ...))``, ``b_k = x + 2k + 1 - a``, ``a_k = -k (k - a)``, summed from
  its tail (the number of terms from a Lentz pass on the plain values);
  ``dQ/da = E (F + a F (log x - psi(a + 1)) + a dF/da)``.

Each form gives the derivative of the function that is small there, so neither
subtracts it from 1.  ``E`` is Loader's saddle-point form for a >= 1 (``exp(a log x
- x - log Gamma(a + 1))`` loses ``a log a`` ulps near x = a), and ``log x - psi(a +
1)``, which cancels near x = a + 1/2, is formed as ``log1p((x - y)/y) + (log y -
psi(y))`` with ``y = a + 1`` and the asymptotic series of the second term from y = 10.

Examples
--------
>>> round(float(gammainc_da(2.0, 1.0)), 12)  # mpmath: -0.276196045702835
-0.276196045703
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.special as sp

from _exactdiff._common import fpe_ignored
from _exactdiff._common import value as _plain
from _exactdiff.arrays import may_hold, plain_array
from _exactdiff.special import horner

__all__ = ["gammainc_da", "power_over_gamma"]

#: more terms than this (a ~ 1e9 next to x = a) is refused rather than summed for minutes
_MAX_TERMS = 200_000
#: Stirling's series of log Gamma(m + 1) - (m + 1/2) log m + m - log(2 pi)/2 in 1/m^2,
#: times 1/m (below 1e-19 from m = 15; also the constant-parameter densities' table)
_STIRLING = (1.0 / 12, -1.0 / 360, 1.0 / 1260, -1.0 / 1680, 1.0 / 1188, -691.0 / 360360,
             1.0 / 156, -3617.0 / 122400)
#: log y - psi(y) = 1/(2y) + sum B_2k / (2k y^2k), in 1/y^2 (below 1e-19 from y = 10)
_LOG_MINUS_PSI = (1.0 / 12, -1.0 / 120, 1.0 / 252, -1.0 / 240, 1.0 / 132,
                  -691.0 / 32760, 1.0 / 12, -3617.0 / 8160)
#: (log1p(v) - v + 2 r**2 / (1 - r)) / (2 r**3) = sum r**(2k) / (2k + 3), r = v / (2 + v):
#: 17 terms to abs(r) <= 1/3 within an ulp (also the constant-parameter densities' table)
_LOG1PMX = tuple(1.0 / (2 * k + 3) for k in range(17))


def _real(v: Any) -> Any:
    return np.real(plain_array(_plain(v), np.float64))


def _stirlerr(m: Any) -> Any:
    """log Gamma(m + 1) - (m + 1/2) log m + m - log(2 pi)/2 for m >= 1."""
    mv = _real(m)
    big = mv >= 15.0
    ms = np.where(big, m, 15.0)
    series = horner(1.0 / (ms * ms), _STIRLING) / ms
    if not may_hold(~big):
        return series
    mc = np.where(big, 2.0, m)
    direct = sp.gammaln(mc + 1.0) - (mc + 0.5) * np.log(mc) + mc - 0.5 * np.log(2.0 * np.pi)
    return np.where(big, series, direct)


def _bd0(k: Any, big_m: Any) -> Any:
    """k log(k / M) + M - k without its cancellation near M = k (Loader's deviance)."""
    kv, mv = _real(k), _real(big_m)
    with fpe_ignored():
        near = np.abs((kv - mv) / (kv + mv)) < 0.1
    mn = np.where(near, big_m, 2.0 * k)
    v = (k - mn) / (k + mn)
    series = (k - mn) * v + 2.0 * k * (v * v * v) * horner(v * v, _LOG1PMX)
    mf = np.where(near, 2.0 * k, big_m)
    direct = k * np.log(k / mf) + mf - k
    return np.where(near, series, direct)


def power_over_gamma(a: Any, x: Any) -> Any:
    """``x^a e^-x / Gamma(a + 1)`` for a > 0, x > 0, without its exponent's rounding.

    Parameters
    ----------
    a, x : float, array or engine value
        a > 0 (traced or not), x > 0.

    Returns
    -------
    float, array or engine value
        Loader's saddle-point form for a >= 1, ``exp(a log x - x - log Gamma(a + 1))``
        below.

    Examples
    --------
    >>> round(float(power_over_gamma(2.0, 3.0)), 12)  # 9 e^-3 / 2
    0.224041807655
    """
    av = _real(a)
    saddle = av >= 1.0
    with fpe_ignored():
        if not may_hold(saddle):
            return np.exp(sp.xlogy(a, x) - x - sp.gammaln(a + 1.0))
        ab = np.where(saddle, a, 2.0)
        by_saddle = np.exp(-_bd0(ab, np.where(saddle, x, 2.0)) - _stirlerr(ab)) / np.sqrt(
            2.0 * np.pi * ab)
        if not may_hold(~saddle):
            return by_saddle
        al, xl = np.where(saddle, 0.5, a), np.where(saddle, 1.0, x)
        by_log = np.exp(sp.xlogy(al, xl) - xl - sp.gammaln(al + 1.0))
        return np.where(saddle, by_saddle, by_log)


def _log_minus_psi(x: Any, y: Any) -> Any:
    """log x - psi(y), without cancellation where x is near y >= 10."""
    big = _real(y) >= 10.0
    with fpe_ignored():
        if not may_hold(big):
            return np.log(x) - sp.digamma(y)
        yb = np.where(big, y, 10.0)
        xb = np.where(big, x, 10.0)
        inv = 1.0 / yb
        by_series = np.log1p((xb - yb) / yb) + 0.5 * inv + (inv * inv) * horner(
            inv * inv, _LOG_MINUS_PSI)
        if not may_hold(~big):
            return by_series
        ys, xs = np.where(big, 1.0, y), np.where(big, 1.0, x)
        return np.where(big, by_series, np.log(xs) - sp.digamma(ys))


def _terms(n: int) -> int:
    # the a-derivatives of the terms (and theirs, for higher orders) carry factors
    # log n and decay a little later than the terms: a margin beyond the plain count
    if n > _MAX_TERMS:
        raise ValueError(
            "scipy.special.gammainc: the derivative in a needs more than "
            f"{_MAX_TERMS} terms here (a > ~1e9 next to x = a); not supported")
    return n + n // 4 + 8


def _series_count(av: np.ndarray, xv: np.ndarray) -> int:
    c, dc, s, ds = np.ones_like(av), np.zeros_like(av), np.ones_like(av), np.zeros_like(av)
    n = 0
    while True:
        n += 1
        c = c * xv / (av + n)
        dc = (dc * xv - c) / (av + n)
        s, ds = s + c, ds + dc
        if n > xv.max() - av.min() and np.all(c <= 1e-17 * s) and np.all(
                np.abs(dc) <= 1e-17 * np.abs(ds)):
            return _terms(n)
        if n > _MAX_TERMS:
            return _terms(n)


def _fraction_count(av: np.ndarray, xv: np.ndarray) -> int:
    tiny = 1e-300
    b = xv + 1.0 - av
    c = np.full_like(av, 1.0 / tiny)
    d = 1.0 / b
    done = np.zeros(av.shape, dtype=bool)
    n = 0
    while True:
        n += 1
        an = -n * (n - av)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        # Lentz's step ratio c d ends within an ulp or two of 1 and may stay there
        # (4.4e-16 on 12,000 of 142,000 points at n = 350): an entry is done once it
        # came within 2 ulps, not all at one n (an array of 200,000 a's ran to the
        # term limit and raised)
        done |= np.abs(c * d - 1.0) <= 2.0 ** -52
        if np.all(done) or n > _MAX_TERMS:
            break
    # the fraction ends where a is an integer (a_k = 0 at k = a) while its derivative
    # in a (da_k/da = k) does not: double the count until dF/da settles too
    n = max(n, 8)
    last = _fraction_with_slope(av, xv, n)[1]
    settled = np.zeros(av.shape, dtype=bool)
    while n <= _MAX_TERMS:
        n *= 2
        f, now = _fraction_with_slope(av, xv, n)
        # (two sums of the tail differ by their rounding: a few ulps, not 0; an entry
        # that settled once stays settled, as for Lentz's ratio above)
        settled |= np.abs(now - last) <= 2.0 ** -50 * (np.abs(now) + np.abs(f))
        if np.all(settled):
            break
        last = now
    return _terms(n)


def _fraction_with_slope(a: Any, x: Any, n_terms: int) -> tuple[Any, Any]:
    """F and dF/da from the fraction's tail: t = b_(k-1) + a_k / t (db/da = -1,
    da_k/da = k)."""
    t = x + (2.0 * n_terms + 1.0) - a
    dt = -1.0
    for k in range(n_terms, 0, -1):
        ak = -float(k) * (float(k) - a)
        t, dt = x + (2.0 * k - 1.0) - a + ak / t, -1.0 + (float(k) * t - ak * dt) / (t * t)
    return 1.0 / t, -dt / (t * t)


def _da_series(a: Any, x: Any, n_terms: int) -> Any:
    c, dc, s, ds = 1.0, 0.0, 1.0, 0.0
    for n in range(1, n_terms + 1):
        c = c * x / (a + float(n))
        dc = (dc * x - c) / (a + float(n))
        s = s + c
        ds = ds + dc
    return power_over_gamma(a, x) * (s * _log_minus_psi(x, a + 1.0) + ds)


def _da_fraction(a: Any, x: Any, n_terms: int) -> Any:
    f, df = _fraction_with_slope(a, x, n_terms)
    e = power_over_gamma(a, x)
    dq = e * (f + a * f * _log_minus_psi(x, a + 1.0) + a * df)
    return -dq


def gammainc_da(a: Any, x: Any) -> Any:
    """``d/da`` of ``scipy.special.gammainc(a, x)`` (minus that of ``gammaincc``).

    Parameters
    ----------
    a, x : float, array or engine value
        The shape a > 0 and the argument x >= 0 (Duals, HyperDuals, Taylor numbers
        or Variables carry the derivatives of this derivative).

    Returns
    -------
    float, array or engine value
        The derivative, broadcast over a and x: 0 at x = 0 and x = inf, nan where
        a <= 0 or x < 0.

    Raises
    ------
    ValueError
        Where the series or fraction needs more than 200,000 terms (a > ~1e9 next
        to x = a).

    Examples
    --------
    >>> round(float(gammainc_da(1.0, 2.0)), 12)  # -e^-x (log x + Euler's gamma) - E1(x)
    -0.220825426212
    """
    av, xv = np.broadcast_arrays(_real(a), _real(x))
    ok = (av > 0) & (xv > 0) & np.isfinite(av) & np.isfinite(xv)
    series = ok & (xv < av + 1.0)
    fraction = ok & ~series
    with fpe_ignored():
        # P(a, 0) = 0 and P(a, inf) = 1 for every a > 0
        out: Any = np.where(((xv == 0) | (xv == np.inf)) & (av > 0) & np.isfinite(av),
                            0.0, np.nan)
        if np.any(series):
            n = _series_count(av[series], xv[series])
            part = _da_series(np.where(series, a, 1.0), np.where(series, x, 0.5), n)
            out = np.where(series, part, out)
        if np.any(fraction):
            n = _fraction_count(av[fraction], xv[fraction])
            part = _da_fraction(np.where(fraction, a, 1.0), np.where(fraction, x, 3.0), n)
            out = np.where(fraction, part, out)
    return out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out
