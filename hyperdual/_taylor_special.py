"""Taylor rules of special functions from their derivatives at the point.

The ODE trick (``y' = f'(x) x'`` with ``f'`` from the rule table, evaluated on
Taylor numbers) differentiates a closed form of ``f'`` again and again; for
erfcx and the modified Bessel functions those closed forms cancel, and the
cancellation grows with the order (the 6th derivative of i0e at 10 was off by a
relative 1.7e-11, erfcx's 8th at 0.5 by 5e-10, i1's 8th at 1 by 3e-11).  Here
every derivative ``f^(m)(x_0)``, m = 0..K, comes from a formula that does not
cancel, and :func:`hyperdual._taylor_rules.compose` puts them together with the
argument's coefficients (as polygamma's rule does):

* erfcx (``y' = 2 x y - 2/sqrt(pi)``, normalised coefficients
  ``(k + 1) a_(k+1) = 2 x_0 a_k + 2 a_(k-1)``): erfcx is the recurrence's minimal
  solution for x_0 > 0, so there the ratios ``a_k / a_(k-1) = -1 / T_k`` come
  from Laplace's continued fraction ``T_k = x_0 + ((k + 1)/2) / T_(k+1)`` run down
  from a depth that converges to double precision (Miller's algorithm); below
  x_0 = 0.4 (where that depth grows like 1/x_0**2) the forward recurrence, which
  amplifies rounding by at most ~5 there (x_0 < 0: it is the dominant solution).
* i0e, i1e (``e^-abs(x) I_nu``): Kummer's positive series of
  :mod:`_exactdiff.special` for every order below an order-dependent abscissa
  (20 for the first two, up to 29 from the 8th), the asymptotic series
  differentiated termwise beyond.
* i0, i1: ``I_nu^(m) = 2**-m sum_j binom(m, j) I_(nu - m + 2j)`` (from
  ``2 I_n' = I_(n-1) + I_(n+1)``): positive terms for x_0 > 0, parity for x_0 < 0.

Where the derivatives decay like ``x_0**-m`` (the continued fraction and the
asymptotic series at large x_0) they are formed as ``f^(m) rho**m / m!`` with
``rho`` the power of two of abs(x_0), and composed with the argument's
coefficients divided by ``rho`` (exact), so that no derivative underflows where
its product with the argument's coefficients is an ordinary float (erfcx'(3e200)
is 6e-402 while its product with x_1 = 3e100 is 2e-301).

A rule returns None (the caller then uses the ODE trick) for nested numbers and
non-finite arguments.  At x_0 = 0 the Bessel rules take exact Taylor
coefficients (:func:`_at_zero`; for the scaled ones, those of the one-sided
expansions where the two sides agree and 0 where they differ in sign, the
convention of their first- and second-order rules).
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np
from scipy import special

from _exactdiff.special import _kummer_coefs, scaled_bessel_asymptotic_coefs

_SQRT_PI = math.sqrt(math.pi)


def _plain(x0) -> bool:
    return type(x0) is float or (type(x0) is np.ndarray and x0.dtype == np.float64)


def _finish(x, d, rho):
    """compose(x with its coefficients divided by rho, d): d_m = f^(m) rho**m / m!."""
    from ._taylor_rules import compose

    if type(x[0]) is float:  # Python floats throughout: the scalar path's lists
        d = [float(v) for v in d]
        rho = None if rho is None else float(rho)
    if rho is None:
        return compose(x, d)
    return compose([x[0]] + [v / rho for v in x[1:]], d)


def _rho(ax):
    """The power of two of ax (>= 1), 1 where ax < 1 or not finite."""
    if type(ax) is float:
        if 1.0 <= ax < math.inf:
            return math.ldexp(1.0, math.frexp(ax)[1])
        return 1.0
    with np.errstate(all="ignore"):
        e = np.frexp(np.where(np.isfinite(ax) & (ax >= 1.0), ax, 0.5))[1]
    return np.ldexp(1.0, e)


# --- erfcx ---------------------------------------------------------------------------
_ERFCX_FORWARD_BELOW = 0.4


def _erfcx_forward(x0, K, d1):
    """a_0..a_K by (k + 1) a_(k+1) = 2 x_0 a_k + 2 a_(k-1) from a_0 and a_1 = d1."""
    a = [special.erfcx(x0), d1]
    for k in range(1, K):
        a.append((2.0 * x0 * a[k] + 2.0 * a[k - 1]) / (k + 1))
    return a[:K + 1]


def _erfcx_depth(x_min, K) -> int:
    # the continued fraction's tail from T_k converges like exp(-2 sqrt(2) x (sqrt(N) -
    # sqrt(k))): 40 e-folds reach double precision (checked against mpmath, K <= 16)
    return int((math.sqrt(K) + 14.2 / x_min) ** 2) + 10


def _erfcx_cf(x0, K, rho):
    """d_m = a_m rho**m by the continued fraction (x0 >= 0.4): a_m / a_(m-1) = -1/T_m."""
    x_min = float(np.min(x0)) if type(x0) is np.ndarray else x0
    t = x0
    T = [None] * (K + 1)
    with np.errstate(all="ignore"):
        for k in range(_erfcx_depth(x_min, K), -1, -1):
            t = x0 + (0.5 * (k + 1)) / t
            if k <= K:
                T[k] = t
        d = [special.erfcx(x0)]
        for k in range(1, K + 1):
            d.append(d[-1] * (-rho / T[k]))
    return d


def erfcx(x):
    x0 = x[0]
    if not _plain(x0):
        return None
    K = len(x) - 1
    from ._rules import _erfcx_d1

    if type(x0) is float:
        if x0 < _ERFCX_FORWARD_BELOW or x0 != x0:
            a = _erfcx_forward(x0, K, _erfcx_d1(x0))
            return _finish(x, a, None)
        rho = _rho(x0)
        return _finish(x, _erfcx_cf(x0, K, rho), rho)
    near = ~(x0 >= _ERFCX_FORWARD_BELOW)
    with np.errstate(all="ignore"):
        rho = np.where(near, 1.0, _rho(np.abs(x0)))
        d = None
        if np.any(near):
            d = _erfcx_forward(x0, K, _erfcx_d1(x0))
        if not np.all(near):
            far = _erfcx_cf(np.where(near, 1.0, x0), K, rho)
            d = far if d is None else [np.where(near, a, b) for a, b in zip(d, far)]
    return _finish(x, d, rho)


# --- modified Bessel functions ---------------------------------------------------------
_KUMMER: dict = {}


def _kummer(nu, n):
    c = _KUMMER.get((nu, n))
    if c is None:
        c = _KUMMER[nu, n] = [float(v) for v in _kummer_coefs(nu, n)[::-1]]
    return c


def _asym_from(n: int) -> float:
    """Where the termwise-differentiated asymptotic series (40 terms) reaches double
    precision for the n-th derivative: 20 for n <= 2 (as the rule table), 29 at n = 8
    (checked against mpmath); Kummer's 130 terms hold to 30."""
    return min(30.0, 20.0 + 1.5 * max(0, n - 2))


def _scaled_bessel_derivative(nu, n, ax, rho):
    """f^(n)(ax) rho**n for f = e^-x I_nu(x), ax > 0 (floats or arrays)."""
    far = ax >= _asym_from(n)
    out = None
    if not np.all(far):  # (far is a Python bool on the scalar path: no ~)
        w = (2.0 / 32.0) * ax
        p = 0.0
        for c in _kummer(nu, n):
            p = p * w + c
        out = p * np.exp(-2.0 * ax)
        if rho is not None:
            out = out * rho ** n
    if np.any(far):
        inv = 1.0 / ax
        coefs = scaled_bessel_asymptotic_coefs(nu, n)
        p = coefs[-1]
        for c in coefs[-2::-1]:
            p = p * inv + c
        q = p / np.sqrt(ax)
        if rho is not None:
            q = q * (rho * inv) ** n
        else:
            q = q * inv ** n
        out = q if out is None else np.where(far, q, out)
    return out


@functools.cache
def _at_zero(nu, m, scaled):
    """The m-th Taylor coefficient at x = 0, exact (a fraction rounded once).

    I_nu: 1 / (2**m k! (k + nu)!) for m = 2k + nu, else 0.  e^-abs(x) I_nu: the
    coefficient of the one-sided expansion e^-x I_nu(x) (x > 0) where m + nu is even
    (the two sides agree there: the second derivative of i0e at 0 is 1.5 from both),
    0 where they differ only by sign (the mean of the sides, as abs'(0) = 0; the first-
    and second-order rules give the same: i0e'(0) = 0, i1e''(0) = 0)."""
    def plain(j):
        if j < nu or (j - nu) % 2:
            return Fraction(0)
        k = (j - nu) // 2
        return Fraction(1, 2 ** j * math.factorial(k) * math.factorial(k + nu))

    if not scaled:
        return float(plain(m))
    if (m + nu) % 2:
        return 0.0
    return float(sum(plain(j) * Fraction((-1) ** (m - j), math.factorial(m - j))
                     for j in range(m + 1)))


def _bessel_rule(nu, value, derivatives, scaled):
    """The Taylor rule of I_nu (scaled: e^-abs(x) I_nu), nu = 0 or 1.

    ``derivatives(ax, rho, K)`` gives f^(n)(ax) rho**n, n = 1..K, for ax > 0 (rho: the
    power of two the argument's coefficients are divided by, or None); the parity of
    I_nu gives the sign for x_0 < 0, and x_0 = 0 takes the exact :func:`_at_zero`.
    Nested numbers (and non-finite x_0 for the scaled ones) return None: the ODE
    trick decides."""

    def rule(x):
        x0 = x[0]
        if not _plain(x0):
            return None
        K = len(x) - 1
        with np.errstate(all="ignore"):
            ax = np.abs(x0)
            if scaled and not np.all(np.isfinite(ax)):
                return None
            zero = ax == 0
            if type(x0) is float:
                ax = float(ax)
                if zero:
                    d = [value(x0)] + [_at_zero(nu, m, scaled) for m in range(1, K + 1)]
                    return _finish(x, d, None)
            elif np.any(zero):
                ax = np.where(zero, 1.0, ax)
            else:
                zero = None
            rho = _rho(ax) if scaled else None
            neg = x0 < 0
            d = [value(x0)]
            fact = 1.0
            for n, v in enumerate(derivatives(ax, rho, K), 1):
                fact *= n
                v = v / fact
                if (nu + n) % 2:  # parity: I_0 even, I_1 odd (and their scaled forms)
                    v = np.where(neg, -v, v)
                if zero is not None:
                    z = _at_zero(nu, n, scaled)
                    v = np.where(zero, z if rho is None else z * rho ** n, v)
                d.append(v)
        return _finish(x, d, rho)
    return rule


def _scaled_bessel(nu):
    def derivatives(ax, rho, K):
        return [_scaled_bessel_derivative(nu, n, ax, rho) for n in range(1, K + 1)]

    return _bessel_rule(nu, special.i0e if nu == 0 else special.i1e, derivatives, True)


def _bessel(nu):
    def derivatives(ax, rho, K):
        """I_nu^(n)(ax) = 2**-n sum_j binom(n, j) I_(nu - n + 2j)(ax): positive terms, as
        e^ax times cephes' i0e/i1e for orders 0 and 1 (scipy's ive(1, x) is 30+ ulps
        off for tiny x) and ive above."""
        scale = np.exp(ax)
        ive = {n: special.ive(n, ax) for n in range(2, nu + K + 1)}
        ive[0], ive[1] = special.i0e(ax), special.i1e(ax)
        out = []
        for n in range(1, K + 1):
            s = 0.0
            b = 1.0  # binom(n, j)
            for j in range(n + 1):
                s = s + b * ive[abs(nu - n + 2 * j)]
                b = b * (n - j) / (j + 1)
            out.append(s * (scale * 0.5 ** n))
        return out

    return _bessel_rule(nu, special.i0 if nu == 0 else special.i1, derivatives, False)


# --- sinc ------------------------------------------------------------------------------
# pi**m correctly rounded (m = 0..20): the scale of sinc's m-th derivative in x
_PI_POW = [1.0, 3.141592653589793, 9.869604401089358, 31.00627668029982, 97.40909103400244,
           306.01968478528147, 961.3891935753045, 3020.2932277767923, 9488.531016070574,
           29809.09933344621, 93648.04747608303, 294204.0179738906, 924269.1815233742,
           2903677.2706132834, 9122171.181754353, 28658145.969387997, 90032220.84293328,
           282844563.58653307, 888582403.0712634, 2791563949.5978456, 8769956796.082699]


def _sincos_pi(x):
    """sin(pi x), cos(pi x) with x reduced by the nearest integer n exactly (exact
    zeros at the integers, where sin(pi x) of the rounded pi x is 1e-16 off and the
    derivatives of sinc cancel down to it: d4 of sinc(v**2 + 3) at tiny v was 9 ulps
    off)."""
    if type(x) is float:
        n = round(x)
        r = math.pi * (x - n)
        sg = -1.0 if n % 2 else 1.0
        return sg * math.sin(r), sg * math.cos(r)
    n = np.round(x)
    r = np.pi * (x - n)
    sg = np.where(np.remainder(n, 2.0) == 1.0, -1.0, 1.0)
    return sg * np.sin(r), sg * np.cos(r)


def _j0_derivatives(t, K, sc=None):
    """d^m/dt^m sin(t)/t, m = 1..K (floats or arrays).

    Where abs(t) < 2K + 8: j0^(m)(t) = Re(i**m I_m) with I_m = int_0^1 s**m e^(i s t) ds,
    from integration by parts, i t I_m = e^(it) - m I_(m-1): upwards from
    I_0 = sin(t)/t + 2i sin(t/2)**2 / t for m <= abs(t), downwards from zero at a depth
    where the start has died out for m > abs(t) (each direction shrinks the rounding
    of the steps before it: by m / abs(t), by abs(t) / m).  Beyond: Leibniz's
    sum_j binom(m, j) sin^(m-j)(t) (-1)**j j! / t**(j+1), whose terms decrease there.
    (The ODE trick differentiated the closed form of the first derivative,
    (t cos t - sin t) / t**2, again and again: 455 times the condition number in ulps
    at order 8 near x = 0.5.)"""
    if type(t) is float and abs(t) < 2 * K + 8:
        return _j0_derivatives_scalar(t, K, sc)
    at = np.abs(t)
    near = at < 2 * K + 8
    out = [None] * (K + 1)
    with np.errstate(all="ignore"):
        if np.any(near):
            tt = np.where(near, t, 0.0)
            e = np.where(near, sc[1] + 1j * sc[0], 1.0 + 0j)
            it = 1j * tt
            sh = np.sin(0.5 * tt)
            safe = np.where(tt == 0, 1.0, tt)
            up = [np.where(tt == 0, 1.0 + 0j, e.imag / safe + 2j * sh * sh / safe)]
            for m in range(1, K + 1):
                up.append((e - m * up[m - 1]) / np.where(tt == 0, 1.0, it))
            down = [None] * (K + 1)
            N = 2 * (2 * K + 8) + 2 * K + 40
            cur = 0.0 * e
            for m in range(N, 0, -1):
                cur = (e - it * cur) / m  # I_(m-1)
                if m - 1 <= K:
                    down[m - 1] = cur
            for m in range(1, K + 1):
                v = np.where(m <= np.abs(tt), up[m], down[m])
                out[m] = (v.real, -v.imag, -v.real, v.imag)[m % 4]
        if not np.all(near):
            st, ct = sc
            sd = [st, ct, -st, -ct]  # sin^(n)(t) = sd[n % 4]
            inv = 1.0 / t
            for m in range(1, K + 1):
                acc = 0.0
                b, f, p = 1.0, 1.0, inv  # binom(m, j), (-1)**j j!, 1/t**(j+1)
                for j in range(m + 1):
                    acc = acc + b * sd[(m - j) % 4] * f * p
                    b = b * (m - j) / (j + 1)
                    f = -f * (j + 1)
                    p = p * inv
                out[m] = acc if out[m] is None else np.where(near, out[m], acc)
    return out


def _j0_derivatives_scalar(t: float, K: int, sc):
    """:func:`_j0_derivatives` for a float abs(t) < 2K + 8, in Python complex numbers
    (the same recurrences; numpy's per-call overhead made it 30x slower)."""
    e = complex(sc[1], sc[0])
    it = 1j * t
    out = [None] * (K + 1)
    if t == 0.0:
        I = [1.0 / (m + 1) for m in range(K + 1)]  # noqa: E741
    else:
        sh = math.sin(0.5 * t)
        up = [complex(sc[0] / t, 2.0 * sh * sh / t)]
        for m in range(1, min(K, int(abs(t))) + 1):
            up.append((e - m * up[m - 1]) / it)
        I = up + [None] * (K + 1 - len(up))  # noqa: E741
        if len(up) <= K:
            cur = 0j
            for m in range(2 * int(abs(t)) + K + 40, len(up), -1):
                cur = (e - it * cur) / m  # I_(m-1)
                if m - 1 <= K:
                    I[m - 1] = cur
    for m in range(1, K + 1):
        v = complex(I[m])
        out[m] = (v.real, -v.imag, -v.real, v.imag)[m % 4]
    return out


def sinc(x):
    """np.sinc(x) = sin(pi x) / (pi x): its derivatives pi**m j0^(m)(pi x_0) composed
    with the argument's coefficients."""
    x0 = x[0]
    if not _plain(x0) or not np.all(np.isfinite(x0)):
        return None
    K = len(x) - 1
    if K > 20:
        return None
    with np.errstate(all="ignore"):
        t = np.pi * x0
        dj = _j0_derivatives(t, K, _sincos_pi(x0))
        d = [np.sinc(x0)]
        fact = 1.0
        for m in range(1, K + 1):
            fact *= m
            d.append(dj[m] * (_PI_POW[m] / fact))
    return _finish(x, d, None)


UNARY = {"sinc": sinc, "erfcx": erfcx, "i0e": _scaled_bessel(0), "i1e": _scaled_bessel(1),
         "i0": _bessel(0), "i1": _bessel(1)}
