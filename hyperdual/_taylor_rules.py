"""Univariate Taylor recurrences: the elementwise rules of :class:`hyperdual.Taylor`.

Every function here maps the normalised coefficients ``x_k = x^(k)(0) / k!`` of
an argument ``x(t)`` to those of ``f(x(t))``, k = 0..K, at O(K²) operations
(Griewank & Walther, *Evaluating Derivatives*, ch. 13).  Coefficients are held
as a Python list of *items*: Python floats (a scalar Taylor), numpy arrays of
the value's shape, or numbers of an older tag (a Dual, HyperDual or Taylor
carrying an outer perturbation), so one recurrence serves all of them.

Rules without a dedicated recurrence are derived from the rule table of
:mod:`hyperdual._rules` by the ODE trick: ``y' = f'(x) x'``, where ``f'(x)``
is the table's derivative evaluated on the argument truncated to order
``K - 1`` (:func:`ode`); that is O(K²) when ``f'`` needs no ``f`` (arcsin,
arctan, erf ...), and is how a rule added to the table later gets Taylor
arithmetic for free.
"""

from __future__ import annotations

import math
import threading
from operator import mul as _mul

import numpy as np
from scipy import special

from . import _generic as g

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


# --- small helpers on coefficient items ----------------------------------------------
def _dot(a, b, k, lo=0, hi=None):
    """sum_{j=lo..hi} a[j] * b[k - j] (hi defaults to k).

    Normally one C-level ``sum(map(mul, ...))``.  While :data:`SAFE` is set (the
    caller's retry after a non-finite result) a zero coefficient a[j]
    contributes exactly zero, also against an inf or nan b[k - j]: an
    overflowed value must give inf coefficients, not the nan of 0 * inf.
    """
    hi = k if hi is None else hi
    if not getattr(SAFE, "on", False):
        if hi == lo:
            return a[lo] * b[k - lo]
        return sum(map(_mul, a[lo:hi + 1], b[k - hi:k - lo + 1][::-1]))
    s = None
    for j in range(lo, hi + 1):
        aj = a[j]
        if type(aj) is float or isinstance(aj, np.generic):
            if aj == 0.0:
                continue
            t = aj * b[k - j]
        elif type(aj) is np.ndarray:
            t = np.where(aj == 0, 0.0, aj * b[k - j])
        else:
            t = aj * b[k - j]
        s = t if s is None else s + t
    return 0.0 if s is None else s


SAFE = threading.local()  # .on while a recurrence is re-run with 0 * inf masked (_dot)


def conv(a, b, n=None):
    """Cauchy product of two coefficient lists, truncated to ``n`` terms."""
    n = min(len(a), len(b)) if n is None else n
    return [_dot(a, b, k) for k in range(n)]


def _weighted(x):
    """The list ``j * x_j`` (x_0 term unused)."""
    return [x[0] * 0.0] + [j * x[j] for j in range(1, len(x))]


def _zero_like(v):
    return v * 0.0


# --- exponential family -----------------------------------------------------------
def _exp_series(x, y0, limit=False):
    """y = exp(x) given y_0: k y_k = sum_{j=1..k} j x_j y_{k-j}.

    Where y_0 is 0 (exp underflowed) every y_k is y_0 times a polynomial in the
    x_j: 0, also where an x_j overflowed (exp(-x**2) at x = 5e173, inside erf's
    derivatives, whose x**2 has inf coefficients: the recurrence's 0 * inf made
    them nan, truth 0), as it is where the x_j are finite.  Not with ``limit``
    (exp itself, whose exponent x_0 is its argument) where x_0 is -inf: a limit,
    not an overflow, so y_k is nan from the first infinite or nan x_j on (0 * inf:
    exp(log(u)) at u = 0 has x_1 = 1/0, its y_1 truth 1; it was 0)."""
    if type(y0) is float and y0 == 0.0:
        if not (limit and x[0] == -np.inf):
            return [y0] + [0.0] * (len(x) - 1)
        y, dead = [y0], False
        for v in x[1:]:
            dead = dead or not bool(np.all(np.isfinite(v)))
            y.append(math.nan if dead else 0.0)
        return y
    jx = _weighted(x)
    y = [y0]
    zero = type(y0) is np.ndarray and y0.dtype.kind == "f" and not y0.all()
    if zero:
        # (at a limit the recurrence's own nan stays: 0 * inf)
        keep = (y0 == 0) & ~np.isneginf(x[0]) if limit else y0 == 0
    with np.errstate(invalid="ignore") if zero else _NO_STATE:
        for k in range(1, len(x)):
            yk = _dot(jx, y, k, 1) / k
            y.append(np.where(keep, 0.0, yk) if zero else yk)
    return y


class _NoState:
    """A context manager that does nothing (cheaper than contextlib.nullcontext())."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NO_STATE = _NoState()


def exp(x):
    return _exp_series(x, g.exp(x[0]), limit=True)


def expm1(x):
    # the series of exp, except that the value keeps expm1's precision near 0
    y = _exp_series(x, g.exp(x[0]), limit=True)
    y[0] = g.expm1(x[0])
    return y


def exp2(x):
    return _exp_series([v * _LN2 for v in x], g.exp2(x[0]), limit=True)


def _log_series(x, y0, x0):
    """y = log(x) given y_0 and the divisor x_0: x_0 y_k = x_k - (1/k) sum j y_j x_{k-j}."""
    y = [y0]
    for k in range(1, len(x)):
        s = x[k]
        if k > 1:
            s = s - _dot(_weighted(y), x, k, 1, k - 1) / k
        y.append(s / x0)
    return y


def log(x):
    return _log_series(x, g.log(x[0]), x[0])


def log1p(x):
    return _log_series(x, g.log1p(x[0]), 1.0 + x[0])


def log2(x):
    y = log(x)
    return [g.log2(x[0])] + [v / _LN2 for v in y[1:]]


def log10(x):
    y = log(x)
    return [g.log10(x[0])] + [v / _LN10 for v in y[1:]]


# --- trigonometric and hyperbolic ----------------------------------------------------
def _sincos(x, s0, c0, sign):
    """s' = c x', c' = sign * s x' (sign -1: sin/cos; +1: sinh/cosh)."""
    jx = _weighted(x)
    s, c = [s0], [c0]
    for k in range(1, len(x)):
        sk = _dot(jx, c, k, 1) / k
        ck = _dot(jx, s, k, 1) / k
        s.append(sk)
        c.append(ck if sign > 0 else -ck)
    return s, c


def _cis(x):
    """exp(i x) for a float list: one complex recurrence gives cos and sin together.

    The weights j x_j are real, so each complex product is two real ones: the
    same arithmetic as the real pair of recurrences, at half the Python overhead.
    """
    x0 = x[0]
    e = [complex(math.cos(x0), math.sin(x0))]
    jx = [j * x[j] * 1j for j in range(len(x))]
    for k in range(1, len(x)):
        e.append(sum(map(_mul, jx[1:k + 1], e[k - 1::-1])) / k)
    return e


def sin(x):
    if type(x[0]) is float:
        return [v.imag for v in _cis(x)]
    return _sincos(x, g.sin(x[0]), g.cos(x[0]), -1)[0]


def cos(x):
    if type(x[0]) is float:
        return [v.real for v in _cis(x)]
    return _sincos(x, g.sin(x[0]), g.cos(x[0]), -1)[1]


def sinh(x):
    return _sincos(x, g.sinh(x[0]), g.cosh(x[0]), 1)[0]


def cosh(x):
    return _sincos(x, g.sinh(x[0]), g.cosh(x[0]), 1)[1]


def _riccati(x, y0, w0, sign):
    """y' = w x' with w = w0-corrected (1 + sign * y^2) (tan: +1, tanh: -1).

    ``w_0`` is passed in, computed without cancellation (sech² for tanh), and the
    higher coefficients of ``y²`` add to it.
    """
    jx = _weighted(x)
    y, w = [y0], [w0]
    for k in range(1, len(x)):
        y.append(_dot(jx, w, k, 1) / k)
        if k < len(x) - 1:
            sq = _dot(y, y, k)
            w.append(sq if sign > 0 else -sq)
    return y


def tan(x):
    t = g.tan(x[0])
    return _riccati(x, t, 1.0 + t * t, 1)


def tanh(x):
    c = g.cosh(x[0])
    return _riccati(x, g.tanh(x[0]), 1.0 / (c * c), -1)


def expit(x):
    """y' = y (1 - y) x', with w_0 = expit(x) expit(-x) (no cancellation at large x)."""
    y0 = g.expit(x[0])
    jx = _weighted(x)
    y, w = [y0], [y0 * g.expit(-x[0])]
    h = -g.tanh(0.5 * x[0])
    for k in range(1, len(x)):
        y.append(_dot(jx, w, k, 1) / k)
        if k < len(x) - 1:
            # w_k = y_k - sum_{i=0..k} y_i y_{k-i} = y_k (1 - 2 y_0) - sum_{i=1..k-1},
            # with 1 - 2 expit(x) = -tanh(x/2) (1 - 2 y_0 is 0 where y_0 rounds to 1/2)
            wk = y[k] * h
            if k > 1:
                wk = wk - _dot(y, y, k, 1, k - 1)
            w.append(wk)
    return y


# --- powers --------------------------------------------------------------------------
def divide(a, b):
    """q = a / b: b_0 q_k = a_k - sum_{j=1..k} b_j q_{k-j}."""
    b0 = b[0]
    q = [a[0] / b0]
    for k in range(1, len(b)):
        q.append((a[k] - _dot(b, q, k, 1)) / b0)
    return q


def reciprocal(x):
    one = [1.0 + _zero_like(x[0])] + [_zero_like(v) for v in x[1:]]
    return divide(one, x)


def square(x):
    return conv(x, x)


def sqrt(x):
    """y² = x: 2 y_0 y_k = x_k - sum_{j=1..k-1} y_j y_{k-j}."""
    y0 = g.sqrt(x[0])
    y = [y0]
    for k in range(1, len(x)):
        s = x[k]
        if k > 1:
            s = s - _dot(y, y, k, 1, k - 1)
        y.append(s / (2.0 * y0))
    return y


def power_const(x, a: float, y0=None):
    """y = x**a for a constant real a: y_k = y_0 z_k with z = (x / x_0)**a,
    k z_k = sum_{j=1..k} (a j - (k - j)) r_j z_{k-j}, r_j = x_j / x_0.

    The ratios r_j and z_k stay in the float range where the coefficients do
    (the products x_j y_{k-j} of the unnormalised recurrence underflow or overflow
    for a tiny or huge x_0: cbrt(1/v)'' at v = 1.7e100).
    """
    y0 = g.power(x[0], a) if y0 is None else y0
    x0 = x[0]
    r = [None] + [v / x0 for v in x[1:]]
    e = _ratio_exponent(r)
    if e is not None:
        r = [None] + [_ldexp(v, e * k) for k, v in enumerate(r[1:], 1)]
    z = [1.0]
    for k in range(1, len(x)):
        s = (a - k + 1.0) * r[1] * z[k - 1]
        for j in range(2, k + 1):
            s = s + (a * j + (j - k)) * r[j] * z[k - j]  # (a + 1) j - k, a j kept for tiny a
        z.append(s / k)
    split = _outside_range(x0, y0)
    if split is not None:
        # y_0 itself under- or overflows where y_0 z_k need not ((v**2)**1.5 at
        # v = 1e-120: y_0 = 1e-360, y_1 = -5e-240): y_0 = Y 2**N with Y an ordinary
        # float, and y_k = Y z_k 2**(N - e k), one rounding into the range
        Y, N = _power_split(x0, a)
        ek = 0 if e is None else e
        out = [y0] + [_ldexp(Y * v, N - ek * k) for k, v in enumerate(z[1:], 1)]
        if split is True:
            return out
        plain = power_const_plain(y0, z, e)
        return [y0] + [np.where(split, o, q) for o, q in zip(out[1:], plain[1:])]
    return power_const_plain(y0, z, e)


def power_const_plain(y0, z, e):
    """y_k = y_0 z_k 2**(-e k): the ratio series scaled back (y_0 an ordinary float)."""
    if e is None:
        return [y0] + [y0 * v for v in z[1:]]
    return [y0] + [_ldexp(y0 * v, -e * k) for k, v in enumerate(z[1:], 1)]


_TINY = float(np.finfo(float).tiny)
_BIG = float(np.finfo(float).max)


def _outside_range(x0, y0):
    """None where y_0 = x_0**a is an ordinary float (or x_0 is 0, inf or nan, or a
    nested number); else True (a float) or the mask of the elements where it is not."""
    if type(x0) is float:
        a = abs(y0)
        if _TINY <= a <= _BIG or x0 == 0.0 or x0 - x0 != 0.0 or a != a:
            return None
        return True
    if type(x0) is np.ndarray and x0.dtype.kind == "f" and isinstance(
            y0, (np.ndarray, np.generic)):
        with np.errstate(invalid="ignore"):
            a = np.abs(y0)
            bad = ~((a >= np.finfo(a.dtype).tiny) & (a <= np.finfo(a.dtype).max))
            bad &= (x0 != 0) & np.isfinite(x0) & ~np.isnan(a)
        return bad if np.any(bad) else None
    return None


def _power_split(x0, a: float):
    """(Y, N) with x0**a = Y 2**N, Y an ordinary float (x0 finite, nonzero).

    With a = n0 + f0 (n0 = trunc(a), f0 exact) and x0 = m 2**ex:
    x0**a = x0**f0 m**n0 2**(ex n0), where x0**f0 (abs(f0) < 1) is an ordinary
    float and m**n0 is formed as a mantissa and an exponent (it leaves the range
    beyond abs(n0) ~ 1074: the derivatives of x**1100 at 2 were 0, truth inf);
    each factor renormalised by frexp (a few roundings, no range loss)."""
    from ._powrule import _frexp_power

    n0 = float(math.trunc(a))
    f0 = a - n0
    if type(x0) is float:
        m, ex = math.frexp(x0)
        with np.errstate(all="ignore"):
            Y, e1 = _frexp_power(np.float64(m), n0)
        Y, N = float(Y), ex * int(n0) + int(e1)
        if f0:
            P, e2 = math.frexp(x0 ** f0)
            Y, e3 = math.frexp(Y * P)
            N += e2 + e3
        return Y, N
    with np.errstate(all="ignore"):
        m, ex = np.frexp(x0)
        Y, e1 = _frexp_power(m, n0)
        N = ex.astype(np.int64) * int(n0) + e1
        if f0:
            P, e2 = np.frexp(np.power(x0, f0))
            Y, e3 = np.frexp(Y * P)
            N = N + e2 + e3
    return Y, N


def _ldexp(v, n):
    if type(v) is float:
        try:
            return math.ldexp(v, n)
        except OverflowError:
            return math.copysign(math.inf, v)
    with np.errstate(over="ignore"):
        return np.ldexp(v, n)


def _ratio_exponent(r):
    """The exponent e (per element) with abs(r_k) 2**(e k) <= 1 for the ratios r_k
    = x_k / x_0 (k >= 1) of a power law's curve, or None where no scaling is needed or
    possible (nested numbers, non-finite ratios).  Time scaling t = 2**e s is exact;
    it keeps the ratio series of x**a in range where x_0 is tiny or huge relative to
    the x_k, a power law's natural scale being abs(x_0)."""
    if len(r) < 2:
        return None
    r1 = r[1]
    if type(r1) is float:
        a = [abs(v) for v in r[1:] if v != 0.0 and v - v == 0.0]
        if not a:
            return None
        bound = 2.0 ** (1000 // len(r))
        if max(a) <= bound and min(a) >= 1.0 / bound:  # every product of ratios in range
            return None
        e = None
        for k, v in enumerate(r[1:], 1):
            if v != 0.0 and v - v == 0.0:  # (an inf/nan ratio: its own coefficients only)
                ek = -math.frexp(v)[1] // k
                e = ek if e is None or ek < e else e
        return None if not e else max(min(e, 2100), -2100)
    if type(r1) is np.ndarray or isinstance(r1, np.generic):
        e = None
        with np.errstate(all="ignore"):
            for k, v in enumerate(r[1:], 1):
                v = np.asarray(v)
                ek = np.where((v == 0) | ~np.isfinite(v), 2100, -np.frexp(v)[1] // k)
                e = ek if e is None else np.minimum(e, ek)
        e = np.clip(e, -2100, 2100)
        return None if not np.any(e) else e
    return None


def cbrt(x):
    # y' = y x' / (3 x): the power recurrence holds for negative x too with y_0 = cbrt(x_0)
    return power_const(x, 1.0 / 3.0, g.cbrt(x[0]))


# --- functions whose derivatives are all known at a point (polygamma) ---------------------
def compose(x, c):
    """f(x(t)) from f's normalised derivatives ``c_m = f^(m)(x_0) / m!`` (Horner, O(K³))."""
    s = [_zero_like(x[0])] + list(x[1:])
    acc = [c[-1]] + [_zero_like(v) for v in x[1:]]
    for m in range(len(x) - 2, -1, -1):
        acc = conv(acc, s)
        acc[0] = acc[0] + c[m]
    return acc


def _polygamma_coeffs(n0: int, x0, K: int):
    """c_m = psi^(n0 + m - 1)(x0) / m! (n0 = 0: gammaln, 1: digamma, 2: polygamma(1, .))."""
    out = []
    for m in range(K + 1):
        n = n0 + m - 1
        v = special.gammaln(x0) if n < 0 else special.polygamma(n, x0)
        out.append(v / math.factorial(m))
    return out


def _polygamma_far(n0: int, x):
    """The composition of ``polygamma_family(n0)`` where x0 > 1e30, in range.

    There psi^(n)(x0) = (-1)**(n + 1) (n - 1)! / x0**n (1 + O(n / x0)), and each
    coefficient c_m x**m of the composition is an ordinary float where c_m alone
    underflows (digamma''(1e200) = -1e-400; the second derivative of
    digamma(v**2 + 0.3) at v = 1e100, -2e-200, came out +2e-200).  The curve is
    first time-scaled (x_k 2**(e k), each at most x0) and divided by sigma =
    2**frexp(x0)[1]: the terms a_m z**m, with a_m = c_m sigma**m / sigma**(1 - n0)
    of order 1, stay in range, and one ldexp per coefficient scales back.
    """
    K = len(x) - 1
    xs = [np.asarray(v, dtype=np.float64) for v in x]
    x0 = xs[0]
    with np.errstate(all="ignore"):
        big = np.ldexp(1.0, np.frexp(x0)[1])  # sigma (x0 > 1e30: no overflow)
        E = np.frexp(big)[1] - 1
        lg0 = np.log2(x0)
        e = np.full(np.shape(x0), np.inf)
        for k in range(1, K + 1):
            lk = np.log2(np.abs(xs[k]))
            e = np.minimum(e, np.where(xs[k] == 0, np.inf, np.floor((lg0 - lk) / k)))
        e = np.where(np.isfinite(e), e, 0.0).clip(-2100, 2100).astype(np.int64)
        z = [np.zeros_like(x0)] + [np.ldexp(xs[k], e * k - E) for k in range(1, K + 1)]
        r = np.ldexp(1.0 / x0, E)  # sigma / x0, in (1/2, 1]... (1, 2]
        if n0 == 0:
            head = special.gammaln(x0)
        elif n0 == 1:
            head = special.digamma(x0)
        else:
            head = special.polygamma(n0 - 1, x0)
        out = [head] + [np.zeros_like(x0) for _ in range(K)]
        power = list(z)  # z**1
        for m in range(1, K + 1):
            n = n0 + m - 1
            if n >= 1:
                a = (-1.0) ** (n + 1) * math.factorial(n - 1) / math.factorial(m) * r ** n
                for k in range(m, K + 1):
                    out[k] = out[k] + a * power[k]
            if m < K:
                power = conv(power, z)
        for k in range(1, K + 1):
            out[k] = np.ldexp(out[k], (1 - n0) * E - e * k)
            if n0 == 0:  # gammaln's first term digamma(x0) x_k, formed plainly
                out[k] = out[k] + special.digamma(x0) * xs[k]
    return out


def polygamma_family(n0: int):
    def rule(x):
        x0 = x[0]
        if isinstance(x0, (float, np.ndarray, np.generic)):
            if np.any(np.abs(x0) < 1e-8):
                # psi^(n)(x0) ~ n!/x0^(n+1) overflows near the pole while the
                # coefficients need not: the ODE trick on the rule table's scaled
                # products (the pole term apart) decides there
                return None
            far = x0 > 1e30
            if np.any(far) and all(isinstance(v, (float, np.ndarray, np.generic))
                                   for v in x):
                y = _polygamma_far(n0, x)
                if not np.all(far):
                    with np.errstate(all="ignore"):
                        near = compose(x, _polygamma_coeffs(n0, x0, len(x) - 1))
                    y = [np.where(far, a, b) for a, b in zip(y, near)]
                if type(x0) is float:
                    y = [float(v) for v in y]
                return y
            c = _polygamma_coeffs(n0, x0, len(x) - 1)
            if type(x0) is float:
                c = [float(v) for v in c]
            return compose(x, c)
        return None  # a nested number: the caller falls back to the ODE trick
    return rule


# --- the dedicated recurrences, by rule name ----------------------------------------------
def _piecewise_constant(name):
    def rule(x):
        return [getattr(g, name)(x[0])] + [_zero_like(v) for v in x[1:]]
    return rule


def _abs(x):
    s = g.sign(g.real_value(x[0]))  # abs'(0) = 0: sign(0) = 0 scales every coefficient
    return [g.absolute(x[0])] + [s * v for v in x[1:]]


UNARY = {
    "exp": exp, "expm1": expm1, "exp2": exp2, "log": log, "log1p": log1p, "log2": log2,
    "log10": log10, "sin": sin, "cos": cos, "sinh": sinh, "cosh": cosh, "tan": tan,
    "tanh": tanh, "expit": expit, "reciprocal": reciprocal, "square": square,
    "sqrt": sqrt, "cbrt": cbrt,
    "negative": lambda x: [-v for v in x], "positive": lambda x: list(x),
    "absolute": _abs, "fabs": _abs,
    "sign": _piecewise_constant("sign"), "floor": _piecewise_constant("floor"),
    "ceil": _piecewise_constant("ceil"), "trunc": _piecewise_constant("trunc"),
    "rint": _piecewise_constant("rint"),
    "gammaln": polygamma_family(0), "digamma": polygamma_family(1),
    "polygamma1": polygamma_family(2), "polygamma2": polygamma_family(3),
    "polygamma3": polygamma_family(4),
}
# Rules where x_0 = 0 is a branch point of x**a: handled by power_at_zero.
BRANCH_POWERS = {"sqrt": (0.5, False), "cbrt": (1.0 / 3.0, True)}


def power_at_zero(x, a: float, odd: bool):
    """Coefficients of ``x(t)**a`` where x_0 = 0 (a not an integer), one element.

    With p the index of the first non-zero coefficient, x(t)**a = O(t^(p a)): the
    coefficients below p·a are exactly 0.  Above it the function is not analytic;
    as the first- and second-order rules do (sqrt'(0) = inf), the k-th
    coefficient is ±inf with the sign of binom(a, k) x_1^k when p = 1, and nan
    where the one-sided limits differ (even k for the odd function cbrt) or
    p > 1.  A constant (all x_k = 0) stays constant.
    """
    K = len(x) - 1
    p = next((k for k in range(1, K + 1) if x[k] != 0), None)
    out = [0.0] * (K + 1)
    if p is None:
        return out
    # an audit's probe (its first moving coefficient nan) is nan below p·a too: the
    # zeros there are the truncation of a series that moves (x**1.5 of t to order 1
    # is [0, 0], and (x**1.5)**(2/3) = t would take it as a constant, 0, truth 1)
    below = math.nan if x[p] != x[p] else 0.0
    for k in range(1, K + 1):
        if k < p * a:
            out[k] = below
        elif p == 1 and k > a:
            if odd and k % 2 == 0:
                out[k] = math.nan
            else:
                b = 1.0
                for i in range(k):
                    b *= (a - i) / (i + 1)
                out[k] = math.copysign(math.inf, b * x[1] ** k)
        else:
            out[k] = math.nan
    return out


def _stirling1(n: int):
    """Signed Stirling numbers of the first kind s(l, j), l, j <= n (exact integers)."""
    s = [[0] * (n + 1) for _ in range(n + 1)]
    s[0][0] = 1
    for m in range(n):
        for j in range(1, n + 1):
            s[m + 1][j] = s[m][j - 1] - m * s[m][j]
    return s


def power_at_zero_base(x, y):
    """Coefficients of ``x(t)**y(t)`` where x_0 = 0 and both move (one element, lists of
    floats), by the convention of the first- and second-order rules: log x is taken as
    0 in every derivative by y (the derivatives by x of x**y times powers of log x keep
    only their terms free of log x).  With h = x - x_0 and d = y - y_0,
    f = sum_(i, j) D_ij / (i! j!) h**i d**j, where

    D_ij = 0**(y_0 - i) j! sum_l binom(i, l) (y_0)_(i - l) s(l, j)

    ((y_0)_n the falling factorial, s the Stirling numbers of the first kind:
    d^l/dx^l (log x)**j = x**-l j! s(l, j) + terms with log x), 0**p being 0, 1 or inf
    for p > 0, = 0, < 0; a zero sum, or a zero coefficient of h**i d**j, contributes 0
    (as 0 * inf in the Dual rules' zero tangents).  At (0, 1) the Hessian is
    [[0, 1], [1, 0]], at (0, 0) [[0, inf], [inf, 0]], as in both engines."""
    K = len(x) - 1
    y0 = y[0]
    h = [0.0] + list(x[1:])
    d = [0.0] + list(y[1:])
    st = _stirling1(K)
    out = [float(np.power(0.0, y0))] + [0.0] * K
    hp = [[1.0] + [0.0] * K]  # h**i
    for _ in range(K):
        hp.append(conv(hp[-1], h))
    dp = [[1.0] + [0.0] * K]
    for _ in range(K):
        dp.append(conv(dp[-1], d))
    for i in range(K + 1):
        p = y0 - i
        z = 0.0 if p > 0 else (1.0 if p == 0 else math.inf)
        fall = [1.0]  # (y_0)_n, n = 0..i
        for n in range(i):
            fall.append(fall[-1] * (y0 - n))
        for j in range(K + 1 - i):
            if i == 0 and j == 0:
                continue
            S = sum(math.comb(i, m) * fall[i - m] * st[m][j] for m in range(i + 1))
            if S == 0 or z == 0.0:
                continue
            w = z * S * math.factorial(j) / (math.factorial(i) * math.factorial(j))
            hd_ = conv(hp[i], dp[j])
            for k in range(i + j, K + 1):
                if hd_[k] != 0:
                    out[k] += w * hd_[k]
    return out


from ._taylor_special import UNARY as _SPECIAL  # noqa: E402 (uses compose above)

UNARY.update(_SPECIAL)
