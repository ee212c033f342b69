"""Binary Taylor rules with a logarithm inside, on curves of extreme scale.

``xlogy(x, y) = x log y``, ``rel_entr``, ``kl_div`` and ``x**y`` with both
operands moving multiply one operand's series by that of a logarithm of the
other.  The logarithm's coefficients are polynomials in the ratios
``r_k = y_k / y_0``; where ``y_0`` is huge or tiny relative to the ``y_k``
(``u = v`` at v = 1.7e200: ``r_1 = 6e-201``) they under- or overflow while their
products with the other operand do not: the second derivative of
``xlogy(v, v)`` at 1.7e200 came out twice the truth (``log``'s coefficient
``-1/(2 v**2)`` underflowed to 0), at 1.7e-300 as -inf (it overflowed), and
``v**(v**2 + 3)`` at 1.7e-150 gave 0 (``v**3`` underflows, the series of the
exponential overflows; the coefficients are 3 v**2, 3 v and 1).

Here those series are formed in :class:`W` numbers, floats with a separate
integer exponent (each operation rounds once, as in floats, but nothing leaves
the range), and every coefficient is rounded once into the float range at the
end (inf or 0 only where the truth is beyond it).  ``x**y`` is
``x**y_0 exp((y - y_0) log x)``: the ratio series of ``(x / x_0)**y_0`` times
the exponential of a series without constant term, times ``x_0**y_0``.  Used
only for the elements whose ratios spread beyond ``2**(1000 / (K + 1))``
(elsewhere every product of ratios is in range and the plain recurrences hold
to a few ulps); where such a result is not finite and the plain one is, the
plain one stays.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from _exactdiff.special import log_ratio_plain

_ZERO_P = np.iinfo(np.int64).min // 4  # the exponent of a zero (below every other)


class W:
    """Floats with a separate exponent, elementwise: m 2**p with m a float in
    [0.5, 1) (or 0, inf, nan) and p an int64, so that no product or sum of the series
    below leaves the range: each operation rounds the mantissa once, as a float
    operation does; :meth:`float` rounds once into the float range (inf or 0 where
    the value is beyond it)."""

    __slots__ = ("m", "p")

    def __init__(self, m, p):
        with np.errstate(all="ignore"):
            mm, q = np.frexp(m)
            fin = np.isfinite(m) & (m != 0)
            self.m = np.where(np.isfinite(m), mm, m)
            self.p = np.where(fin, np.asarray(p, dtype=np.int64) + q, _ZERO_P)

    @classmethod
    def of(cls, v):
        return cls(np.asarray(v, dtype=np.float64), 0)

    def __mul__(self, o):
        if not isinstance(o, W):
            o = W.of(o)
        with np.errstate(all="ignore"):
            zero = (self.p == _ZERO_P) | (o.p == _ZERO_P)
            return W(self.m * o.m, np.where(zero, 0, self.p + o.p))

    __rmul__ = __mul__

    def __add__(self, o):
        if not isinstance(o, W):
            o = W.of(o)
        with np.errstate(all="ignore"):
            p = np.maximum(self.p, o.p)
            top = np.where(p == _ZERO_P, 0, p)
            m = (np.ldexp(self.m, np.maximum(self.p - top, -2200))
                 + np.ldexp(o.m, np.maximum(o.p - top, -2200)))
        return W(m, top)

    __radd__ = __add__

    def __neg__(self):
        w = object.__new__(W)
        w.m, w.p = -self.m, self.p
        return w

    def __sub__(self, o):
        return self + (-o if isinstance(o, W) else W.of(-np.asarray(o)))

    def __truediv__(self, o):  # by a W number or a plain float (an index k)
        if not isinstance(o, W):
            o = W.of(o)
        with np.errstate(all="ignore"):
            zero = self.p == _ZERO_P
            return W(self.m / o.m, np.where(zero, 0, self.p - np.where(zero, 0, o.p)))

    def float(self):
        with np.errstate(all="ignore"):
            return np.ldexp(self.m, np.clip(self.p, -2200, 2200))


def _sum(terms):
    out = None
    for t in terms:
        out = t if out is None else out + t
    return out


def raw_exponent(c):
    """min_k floor((log2 abs(c_0) - log2 abs(c_k)) / k) per element: the largest e with
    abs(c_k) 2**(e k) <= abs(c_0); +inf where no coefficient constrains it (a constant
    curve, c_0 = 0 or not finite)."""
    K = c.shape[0] - 1
    with np.errstate(all="ignore"):
        lg = np.log2(np.abs(c))
        k = np.arange(1.0, K + 1.0).reshape((K,) + (1,) * (c.ndim - 1))
        e = np.min((lg[0] - lg[1:]) / k, axis=0)
        ok = np.isfinite(lg[0]) & ~np.isnan(e)
        return np.where(ok, np.floor(e), np.inf)


def extreme(c, bits=None):
    """The elements whose ratios abs(c_k / c_0) leave [2**-B, 2**B], B = 1000 // (K + 1)
    or ``bits`` if smaller (a constant curve, c_0 = 0 or not finite: no)."""
    K = c.shape[0] - 1
    B = 1000 // (K + 1) if bits is None else min(bits, 1000 // (K + 1))
    if c.ndim == 1:  # a scalar Taylor: Python floats (numpy's calls cost more here)
        lst = c.tolist()
        c0 = lst[0]
        if c0 == 0.0 or c0 - c0 != 0.0:
            return False
        e0 = math.frexp(c0)[1]
        return any(v != 0.0 and v - v == 0.0 and abs(math.frexp(v)[1] - e0) > B + 1
                   for v in lst[1:])
    with np.errstate(all="ignore"):
        lg = np.log2(np.abs(c))
        spread = np.abs(lg[1:] - lg[0])
        spread = np.where(np.isfinite(spread), spread, 0.0)
        return np.any(spread > B, axis=0) & np.isfinite(lg[0])


def ratios(c):
    """The ratios ``c_k / c_0`` (k >= 1; index 0 unused) as W numbers."""
    c0 = W.of(c[0])
    out = [None]
    for k in range(1, c.shape[0]):
        ck = W.of(c[k])
        with np.errstate(all="ignore"):
            out.append(W(ck.m / c0.m, np.where(ck.p == _ZERO_P, 0, ck.p - c0.p)))
    return out


def log_ratio(c):
    """The coefficients of log(c(t) / c_0) (L_0 = 0), c_0 > 0, as W numbers:
    L_k = r_k - (1/k) sum_j j L_j r_(k-j)."""
    K = c.shape[0] - 1
    rho = ratios(c)
    L = [W.of(np.zeros(c.shape[1:]))]
    for k in range(1, K + 1):
        s = rho[k]
        if k > 1:
            s = s - _sum(L[j] * rho[k - j] * float(j) for j in range(1, k)) / k
        L.append(s)
    return L


def product(a, L):
    """The series a (plain coefficients) times the W series L (L_0 = 0)."""
    K = a.shape[0] - 1
    aw = [W.of(a[j]) for j in range(K + 1)]
    return [W.of(np.zeros(a.shape[1:]))] + [_sum(aw[j] * L[k - j] for j in range(k))
                                            for k in range(1, K + 1)]


def xlogy(a, b):
    """xlogy(x, y) = x log y_0 + x log(y / y_0) (y_0 > 0)."""
    xl = product(a, log_ratio(b))
    with np.errstate(all="ignore"):
        ly0 = np.log(b[0])
        out = [special.xlogy(a[0], b[0])] + [(xl[k] + W.of(a[k] * ly0)).float()
                                             for k in range(1, a.shape[0])]
    return np.array(out)


def rel_entr(a, b):
    """x log(x_0 / y_0) + x (log(x / x_0) - log(y / y_0)) (x_0, y_0 > 0)."""
    La, Lb = log_ratio(a), log_ratio(b)
    xl = product(a, [p - q for p, q in zip(La, Lb)])
    with np.errstate(all="ignore"):
        # log(x_0 / y_0): rel_entr(x_0, y_0) / x_0 rounded to few digits where the
        # product is subnormal (x_0 = 5e-324: -743.0 for -743.44)
        q0 = special.rel_entr(a[0], b[0]) / a[0]
        q0 = np.where((a[0] > 0) & (b[0] > 0), log_ratio_plain(a[0], b[0]), q0)
        out = [special.rel_entr(a[0], b[0])] + [(xl[k] + W.of(a[k] * q0)).float()
                                                for k in range(1, a.shape[0])]
    return np.array(out)


def kl_div(a, b):
    out = rel_entr(a, b)
    out[0] = special.kl_div(a[0], b[0])
    out[1:] = out[1:] - a[1:] + b[1:]
    return out


def _power_split(x0, y0):
    """(Y, N) with x0**y0 = Y 2**N elementwise (x0 > 0 finite, abs(y0) <= 512), Y an
    ordinary float: x0 = m 2**p, x0**y0 = m**y0 2**(p y0), p y0 = n + f split exactly
    (y0 cut to 32 bits, so p times the high part is exact)."""
    with np.errstate(all="ignore"):
        m, p = np.frexp(x0)
        my, py = np.frexp(y0)
        hi = np.ldexp(np.floor(np.ldexp(my, 32)), py - 32)  # y0's top 32 bits
        lo = y0 - hi
        t = p * hi  # exact: 32 + 11 bits
        n = np.floor(t)
        f = (t - n) + p * lo
        Y = np.power(m, y0) * np.exp2(f)
    return Y, n.astype(np.int64)


def power(a, b):
    """x**y = x**y_0 exp((y - y_0) log x) (x_0 > 0): the ratio series z of
    (x / x_0)**y_0 and Q = exp(R), R = (y - y_0) log x_0 + (y - y_0) log(x / x_0), times
    x_0**y_0 = Y 2**N.  (The exponential of the whole of y log x cancels: at y_0 = 3 the
    fourth coefficient of v**(v**2 + 3) came out as the rounding of y_0 over v.)"""
    K = a.shape[0] - 1
    y0 = b[0]
    d = np.array(b, copy=True)
    d[0] = 0.0
    R = product(d, log_ratio(a))
    rho = ratios(a)
    with np.errstate(all="ignore"):
        lx0 = np.log(a[0])
        for k in range(1, K + 1):
            R[k] = R[k] + W.of(d[k] * lx0)
        one = W.of(np.ones(a.shape[1:]))
        Q, z = [one], [one]
        for k in range(1, K + 1):
            Q.append(_sum(R[j] * Q[k - j] * float(j) for j in range(1, k + 1)) / k)
            # k z_k = sum_j ((y0 + 1) j - k) r_j z_(k-j), y0 j kept apart for tiny y0
            z.append(_sum(rho[j] * z[k - j] * (y0 * j + (j - k)) for j in range(1, k + 1)) / k)
        Y, N = _power_split(a[0], y0)
        scale = W(Y, N)
        out = [np.power(a[0], y0)]
        for k in range(1, K + 1):
            out.append((scale * _sum(z[j] * Q[k - j] for j in range(k + 1))).float())
    return np.array(out)


def hypot(a, b):
    """hypot(x, y) = abs(B) sqrt(1 + q**2), q = S / B, B the operand of the larger value
    (elementwise; not both 0), every series in W numbers."""
    K = a.shape[0] - 1
    with np.errstate(all="ignore"):
        big = np.abs(a[0]) >= np.abs(b[0])
        B = np.where(big, a, b)
        S = np.where(big, b, a)
        Bw = [W.of(B[k]) for k in range(K + 1)]
        q = [W.of(S[0]) / Bw[0]]
        for k in range(1, K + 1):
            q.append((W.of(S[k]) - _sum(Bw[j] * q[k - j] for j in range(1, k + 1))) / Bw[0])
        w = [_sum(q[j] * q[k - j] for j in range(k + 1)) for k in range(K + 1)]
        s0 = np.sqrt(1.0 + w[0].float())
        two_s0 = W.of(2.0 * s0)
        r = [W.of(s0)]
        for k in range(1, K + 1):
            t = w[k]
            if k > 1:
                t = t - _sum(r[j] * r[k - j] for j in range(1, k))
            r.append(t / two_s0)
        sgn = np.sign(B[0])
        out = [np.hypot(a[0], b[0])] + [(_sum(Bw[j] * r[k - j] for j in range(k + 1))
                                         * sgn).float() for k in range(1, K + 1)]
    return np.array(out)


RULES = {"xlogy": xlogy, "rel_entr": rel_entr, "kl_div": kl_div, "power": power,
         "float_power": power}


def _domain(name, a, b):
    with np.errstate(all="ignore"):
        fin = np.all(np.isfinite(a), axis=0) & np.all(np.isfinite(b), axis=0)
        if name == "xlogy":
            return fin & (b[0] > 0)
        if name in ("power", "float_power"):
            return fin & (a[0] > 0) & (np.abs(b[0]) <= 512)
        return fin & (a[0] > 0) & (b[0] > 0)


def apply(name, a, b, plain):
    """The plain result's coefficient array ``plain`` with the elements of extreme scale
    redone by the scaled rule (a, b: float64 coefficient arrays of the operands, both
    of shape (K + 1,) + the result's shape), or ``plain`` unchanged."""
    if a.shape[0] < 2:
        return plain
    need = extreme(a) | extreme(b)
    if not np.any(need):
        return plain
    need = need & _domain(name, a, b)
    if not np.any(need):
        return plain
    new = RULES[name](a, b)
    with np.errstate(all="ignore"):
        keep = ~np.isfinite(new) & np.isfinite(plain)
        out = np.where(need & ~keep, new, plain)
    return out
