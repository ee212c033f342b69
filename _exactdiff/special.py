"""Precise pieces of special-function derivatives shared by both engines.

Written with numpy arithmetic only, so the same code runs on floats, arrays,
Duals, HyperDuals and Variables (their operators dispatch back to the engine)
and stays differentiable to any order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._common import value

# erfcx' = 2x erfcx - 2/sqrt(pi) and erfcx'' = (2 + 4x^2) erfcx - 4x/sqrt(pi) cancel
# by up to 25x for 0.5 <= x < 2 (where the continued fraction used beyond 2 needs
# too many terms).  There: Taylor series of erfcx about the centres 0.625, 0.875,
# ..., 1.875 (|x - c| <= 1/8, 18 terms reach 1e-19), coefficients from the ODE
# y' = 2xy - 2/sqrt(pi), i.e. (n + 1) a_(n+1) = 2c a_n + 2 a_(n-1), evaluated with
# mpmath at 60 digits and rounded once.
_ERFCX_TAYLOR = (  # erfcx's Taylor coefficients a_0 .. a_17 about 0.625, 0.875, ..., 1.875
    (0.5568138808733625, -0.43236181600380946, 0.2865877458709816, -0.16882964988963062,
     0.09053460734498123, -0.044898208119606944, 0.02082440909007563, -0.009109414982374192,
     0.00378275618152294, -0.0014989316375383012, 0.0005691847816123003,
     -0.00020785293618738425, 7.321278274919753e-05, -2.4937684149097815e-05,
     8.232390022287343e-06, -2.6389920513557637e-06, 8.228774987737488e-07,
     -2.499639546614318e-07),
    (0.464311583202669, -0.3158338964908418, 0.1879569237731824, -0.1009143921262048,
     0.0498284153313766, -0.022925811484500114, 0.009922776760813, -0.0040695376625110675,
     0.001590482826528954, -0.0005950811531773852, 0.0002139573634997484,
     -7.415790183911005e-05, 2.4844866565087853e-05, -8.064406706870489e-06,
     2.5412158137965964e-06, -7.787790493064624e-07, 2.324730182066802e-07,
     -6.769001863242556e-08),
    (0.3956980795529959, -0.2380584881012718, 0.12788228043906513, -0.06279394840488235,
     0.028619544241786244, -0.01223878445314913, 0.004950303910664491,
     -0.0019056264439004506, 0.0007016185403191211, -0.0002480679080092087,
     8.450842876175226e-05, -2.7817441027679537e-05, 8.868967934268797e-06,
     -2.74459263101956e-06, 8.259001749102559e-07, -2.4206065789940297e-07,
     6.919774184667845e-08, -1.9319199802575258e-08),
    (0.3432958898621254, -0.18431546997466777, 0.08986211864695719, -0.0405033712234011,
     0.017084991607390333, -0.006804603105295757, 0.00257622077920289, -0.000932085581111938,
     0.00032365077629349377, -0.0001082368363796409, 3.496502525429751e-05,
     -1.0938168482723969e-05, 3.320840598425341e-06, -9.803096399829424e-07,
     2.818449776355422e-07, -7.90363727645429e-08, 2.1646245635536966e-08,
     -5.796798237138774e-09),
    (0.30226120936348594, -0.14603023666418335, 0.06496207478418799, -0.02697791009325191,
     0.010561485441326816, -0.003926198500438334, 0.0013938042927048415,
     -0.000474647578512276, 0.00015562549440559825, -4.9279144467373076e-05,
     1.5109376929223401e-05, -4.495710355888191e-06, 1.3006412668175152e-06,
     -3.6648743035534286e-07, 1.0072845607001184e-07, -2.7040491898876486e-08,
     7.098457091792195e-09, -1.8241763676134315e-09),
    (0.2694299851646704, -0.11801672272799837, 0.04814863004967349, -0.01849202758990706,
     0.006738039159298878, -0.0023432816664886646, 0.0007814620115442105,
     -0.0002508686842409343, 7.777080714811466e-05, -2.3344093519604294e-05,
     6.800126359771322e-06, -1.9261557445514666e-06, 5.314307231228871e-07,
     -1.43034329030162e-07, 3.7605908027333326e-08, -9.669766863854937e-09,
     2.434386894700665e-09, -6.006225219166106e-10),
)
_ERFCX_LO, _ERFCX_STEP = 0.5, 0.25


def _derivative_coefs(n: int) -> np.ndarray:
    """Row i: the Taylor coefficients of erfcx^(n) about centre i."""
    a = np.array(_ERFCX_TAYLOR)
    k = np.arange(a.shape[1] - n)
    scale = np.array([math.perm(j + n, n) for j in k], dtype=float)
    return a[:, n:] * scale


_ERFCX_D = {1: _derivative_coefs(1), 2: _derivative_coefs(2)}


def erfcx_derivative_mid(n: int, x: Any) -> Any:
    """``erfcx^(n)(x)`` (n = 1, 2) for 0.5 <= x < 2 from the Taylor tables.

    Examples
    --------
    >>> round(erfcx_derivative_mid(1, 1.0), 12)  # 2 erfcx(1) - 2/sqrt(pi)
    -0.273212014784
    """
    v = np.asarray(value(x))
    dt = v.dtype if v.dtype.kind == "f" else np.dtype(np.float64)  # float32 stays float32
    v = v.astype(np.float64)
    idx = np.clip(np.floor((v - _ERFCX_LO) / _ERFCX_STEP), 0, len(_ERFCX_TAYLOR) - 1)
    idx = idx.astype(np.intp)
    centre = (_ERFCX_LO + _ERFCX_STEP * (idx + 0.5)).astype(dt)
    coefs = _ERFCX_D[n][idx].astype(dt)  # shape x.shape + (terms,)
    if coefs.ndim == 1:
        centre = float(centre)
        coefs = [float(c) for c in coefs]
    else:
        coefs = [coefs[..., j] for j in range(coefs.shape[-1])]
    h = x - centre
    p = coefs[-1]
    for c in reversed(coefs[:-1]):
        p = p * h + c
    return p


# --- e^{-|x|} I_nu(x): derivatives for 0 < |x| < 20 ----------------------------------
# The closed forms (i1e - sign i0e, i0e - i1e/x - sign i1e, ...) cancel by up to 2|x|
# (100+ ulps for i1e'' at 3).  With Kummer's e^{-x} I_nu(x) = (x/2)^nu / nu! *
# e^{-2x} M(nu + 1/2, 2 nu + 1, 2x), F = e^{-2x} M(a, b, 2x) has
# F^(n)(x) = (-2)^n e^{-2x} sum_k m_k (b - a)_n / (b + k)_n (2x)^k / k!,
# m_k = (a)_k / (b)_k (the forward differences of the moments m_k of a Beta(a, b - a)
# variable are positive: no cancellation).  For nu = 1, (x F)^(n) = x F^(n) + n F^(n-1)
# collects into one series whose coefficients change sign at most once (the zero of
# the derivative itself).  130 terms: (2x)^k / k! is below 1e-17 of its peak at x < 20.
_KUMMER_TERMS = 130


def _poch(q: float, n: int) -> float:
    out = 1.0
    for j in range(n):
        out *= q + j
    return out


def _kummer_coefs(nu: int, n: int) -> np.ndarray:
    """Coefficients s_j of sum_j s_j w^j (w = z / 32, z = 2|x|) with the nu-th scaled
    Bessel function's n-th derivative = e^{-z} sum_j s_j w^j for x > 0."""
    a, b = nu + 0.5, 2.0 * nu + 1.0
    m = [1.0]
    for k in range(_KUMMER_TERMS):
        m.append(m[-1] * (a + k) / (b + k))

    def beta(order: int, k: int) -> float:
        return _poch(b - a, order) / _poch(b + k, order)

    out = []
    fact = 1.0
    for j in range(_KUMMER_TERMS):
        if j:
            fact *= j
        if nu == 0:
            c = (-2.0) ** n * m[j] * beta(n, j)
        else:
            c = n * m[j] * beta(n - 1, j) - (j * m[j - 1] * beta(n, j - 1) if j else 0.0)
            c *= 0.5 * (-2.0) ** (n - 1)
        out.append(c / fact * 32.0 ** j)  # in w = z / 32: no float32 underflow of 1/j!
    return np.array(out)


_KUMMER = {(nu, n): _kummer_coefs(nu, n) for nu in (0, 1) for n in (1, 2)}


def scaled_bessel_derivative_mid(nu: int, n: int, x: Any) -> Any:
    """n-th derivative (n = 1, 2) of ``e^{-|x|} I_nu(x)`` (nu = 0, 1) for x != 0,
    meant for |x| < 20 (beyond, the asymptotic series).

    Examples
    --------
    >>> import math
    >>> from scipy import special
    >>> x = 3.0  # i1e'(x) = i0e(x) - i1e(x) (1 + 1/x) for x > 0
    >>> v = scaled_bessel_derivative_mid(1, 1, x)
    >>> math.isclose(v, special.i0e(x) - special.i1e(x) * (1 + 1 / x), rel_tol=1e-13)
    True
    """
    coefs = _KUMMER[nu, n]
    v = np.asarray(value(x))
    s = np.sign(v if v.dtype.kind == "f" else v.astype(np.float64))  # float32 stays
    sign = s if (nu + n) % 2 else 1.0  # i0e is even, i1e odd
    if np.ndim(s) == 0:
        sign = float(sign)
    ax = x * s  # |x|, differentiably
    w = ax * (2.0 / 32.0)  # z / 32, z = 2|x|
    p = float(coefs[-1])
    for c in coefs[-2::-1]:
        p = p * w + float(c)
    return p * np.exp(ax * -2.0) * sign


# --- psi(a) - psi(a + b) and psi'(a) - psi'(a + b) without cancellation -------------
# The derivatives of betaln are differences of digamma (trigamma) values that agree
# to many digits when |b| << a (psi(1e6) - psi(1e6 + 0.5): 7 digits lost; at
# (1e150, 1e-150) all of them).  Shifted up by N = 10 (psi(x) = psi(x + N) -
# sum 1/(x + j)) and expanded asymptotically, every term of the difference is formed
# from b directly: log(x / y) = -log1p(b / x), x^-k - y^-k = -x^-k expm1(-k log1p(b / x)).
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798)
_SHIFT = 10


def _psi_difference_shifted(a: Any, b: Any, order: int) -> Any:
    """psi^(order)(a) - psi^(order)(a + b) for a > 0, a + b > 0 (order 0 or 1)."""
    total = 0.0
    va, vb = np.asarray(value(a), dtype=float), np.asarray(value(b), dtype=float)
    for j in range(_SHIFT):
        p, q = a + float(j), a + b + float(j)
        # 1/p - 1/q as b/(p q) when |b| < p (no cancellation of the value), as the
        # difference otherwise (then its derivative in a is free of cancellation and
        # of overflow: d/da b/(p q) = b/(p q^2) - b/(p^2 q) cancels for b >> p)
        small = np.abs(vb) < va + j
        if np.ndim(small) == 0:
            small = bool(small)
        if order == 0:
            def near(p: Any, q: Any = q) -> Any:
                return -(b / p / q)  # not b / (p q): p q underflows at a = 3e-200

            def far(p: Any, q: Any = q) -> Any:
                return 1.0 / q - 1.0 / p
        else:
            def near(p: Any, q: Any = q) -> Any:
                r = b / p / q
                return r * (1.0 / p + 1.0 / q)

            def far(p: Any, q: Any = q) -> Any:
                return 1.0 / p / p - 1.0 / q / q
        if small is True:
            term = near(p)
        elif small is False:
            term = far(p)
        else:
            with np.errstate(all="ignore"):
                term = np.where(small, near(p), far(p))
        total = total + term
    x = a + float(_SHIFT)
    y = x + b
    lr = np.log1p(b / x)  # log(y / x)

    def power_gap(k: int) -> Any:  # x^-k - y^-k
        return -np.expm1(lr * float(-k)) * x ** float(-k)

    if order == 0:  # psi(x) ~ log x - 1/(2x) - sum B_2k / (2k x^2k)
        out = -lr - b / x / y * 0.5
        for k, bern in enumerate(_BERNOULLI, start=1):
            out = out - (bern / (2 * k)) * power_gap(2 * k)
    else:  # psi'(x) ~ 1/x + 1/(2x^2) + sum B_2k / x^(2k+1)
        r = b / x / y  # x y overflows at a = 3e200
        out = r + r * (0.5 / x + 0.5 / y)
        for k, bern in enumerate(_BERNOULLI, start=1):
            out = out + bern * power_gap(2 * k + 1)
    return total + out


def psi_difference(a: Any, b: Any, order: int, plain: Any) -> Any:
    """``psi^(order)(a) - psi^(order)(a + b)`` (order 0: digamma, 1: trigamma) for
    floats, arrays or engine values; ``plain(a, b)`` (the direct difference) where
    a <= 0 or a + b <= 0 (no shift through the poles).

    Examples
    --------
    >>> d = psi_difference(1e6, 0.5, 0, None)  # the direct difference loses 7 digits
    >>> bool(abs(d - (-5.00000125e-07)) < 1e-15)
    True
    """
    va = np.asarray(value(a), dtype=float)
    vb = np.asarray(value(b), dtype=float)
    ok = (va > 0) & (va + vb > 0)
    if np.all(ok):
        return _psi_difference_shifted(a, b, order)
    if not np.any(ok):
        return plain(a, b)
    with np.errstate(all="ignore"):
        one = np.ones((), dtype=np.result_type(value(a), value(b), 1.0))
        good = _psi_difference_shifted(np.where(ok, a, one), np.where(ok, b, one), order)
        bad = plain(a, b)
    return np.where(ok, good, bad)


# --- beta's second partials without cancellation (plain floats and arrays) -----------
# B_ab = B (L_ab + L_a L_b), L = log B: the two terms are O(1/b) and cancel to O(1)
# when b is small (and to O(1) from O(1/a^2) when both are).  With phi(x) = psi(1 + x)
# (psi(x) = phi(x) - 1/x takes the poles out) the 1/s^2 parts cancel analytically and
#   B_ab = G [R(1 + a, b) + R(1 + b, a) + s Q(1 + a, b) Q(1 + b, a)],
#   G = B a b / s = Gamma(1 + a) Gamma(1 + b) / Gamma(1 + s),  s = a + b,
# with Q(x, h) = (psi(x + h) - psi(x)) / h and R(x, h) = (Q(x, h) - psi'(x + h)) / h,
# a second divided difference.  Where a, b > -1 and s > 0 all three terms have one
# sign (psi' is decreasing on (0, inf)), so nothing cancels; R is summed as a series
# about the midpoint where h is small next to x, as a difference where h is large
# (little cancellation there), and by halving the interval in between.
def is_plain(*vs: Any) -> bool:
    """True if every value is a Python/numpy real number or a real numpy array."""
    for v in vs:
        if isinstance(v, (float, int, np.floating, np.integer)) and not isinstance(v, bool):
            continue
        if type(v) is np.ndarray and v.dtype.kind in "fiu":
            continue
        return False
    return True


def _polygamma(n: int, x: Any) -> Any:
    from scipy import special

    return special.polygamma(n, x)


def _q_plain(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """(psi(x + h) - psi(x)) / h for x > 0, x + h > 0 (psi'(x) at h = 0)."""
    with np.errstate(all="ignore"):
        hh = np.where(h == 0, 1.0, h)
        d = _psi_difference_shifted(x, hh, 0)
        return np.where(h == 0, _polygamma(1, x), -d / hh)


def _r_series(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """R(x, h) about the midpoint c = x + h/2 (w = h/2, abs(w)/c <= 1/4):
    R = 1/2 sum_(n >= 2) psi^(n)(c) w^(n-2) alpha_n, alpha_n = -1/(n-1)! (+ 1/n! for odd n)."""
    c, w = x + 0.5 * h, 0.5 * h
    total = np.zeros_like(c)
    p = np.ones_like(c)  # w^(n-2)
    with np.errstate(all="ignore"):
        for n in range(2, 90):
            alpha = -1.0 / math.factorial(n - 1) + (1.0 / math.factorial(n) if n % 2 else 0.0)
            term = _polygamma(n, c) * p * alpha
            total = total + term
            if n > 3 and np.all(np.abs(term) <= 1e-18 * np.abs(total)):
                break
            p = p * w
    return 0.5 * total


def _r_plain(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """R(x, h) = ((psi(x + h) - psi(x)) / h - psi'(x + h)) / h for x > 0, x + h > 0."""
    out = np.empty_like(x)
    with np.errstate(all="ignore"):
        t = h / x
        r = np.abs(0.5 * h) / (x + 0.5 * h)
    ser = r <= 0.25
    direct = ~ser & ((t >= 4.0) | (t <= -0.7))
    split = ~ser & ~direct
    if np.any(ser):
        out[ser] = _r_series(x[ser], h[ser])
    if np.any(direct):
        xd, hd = x[direct], h[direct]
        out[direct] = (_q_plain(xd, hd) - _polygamma(1, xd + hd)) / hd
    if np.any(split):  # u(x, h) = u(x, h/2)/2 + u(m, h/2)/2 + (psi'(m) - psi'(x + h))/2
        xs, hs = x[split], 0.5 * h[split]
        m = xs + hs
        out[split] = (0.25 * _r_plain(xs, hs) + 0.25 * _r_plain(m, hs)
                      + _psi_difference_shifted(m, hs, 1) / (4.0 * hs))
    return out


def _dpsi1_series(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(psi'(a + b) - psi'(a)) / b for abs(b) << a, about the midpoint."""
    c, w = a + 0.5 * b, 0.5 * b
    total = np.zeros_like(c)
    w2 = w * w
    p = np.ones_like(c)
    with np.errstate(all="ignore"):
        for j in range(12):
            term = _polygamma(2 * j + 2, c) * p / math.factorial(2 * j + 1)
            total = total + term
            if np.all(np.abs(term) <= 1e-18 * np.abs(total)):
                break
            p = p * w2
    return total


def beta_second_partials(a: Any, b: Any) -> tuple[Any, Any, Any]:
    """``(B_aa, B_ab, B_bb)``, the second partials of ``scipy.special.beta`` at plain
    (float or array) ``a``, ``b``, each within a few ulps where it is a normal float.

    Examples
    --------
    >>> baa, bab, bbb = beta_second_partials(2.0, 1e-8)
    >>> round(float(bab), 12)  # B (L_ab + L_a L_b) directly loses 8 digits here
    0.846990951422
    """
    from scipy import special

    dt = np.result_type(a, b, 1.0)
    ab, bb = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    shape = ab.shape
    A, Bv = ab.ravel(), bb.ravel()
    with np.errstate(all="ignore"):
        S = A + Bv
        beta = special.beta(A, Bv)

        def gap(x: Any, y: Any, order: int) -> Any:  # psi^(order)(x) - psi^(order)(x + y)
            return psi_difference(x, y, order, lambda p, q: _polygamma(order, p)
                                  - _polygamma(order, p + q))

        la, lb = gap(A, Bv, 0), gap(Bv, A, 0)
        # B_ab: the stable form where a, b > -1 and s > 0, else B (L_ab + L_a L_b)
        new = (A > -1.0) & (Bv > -1.0) & (S > 0.0)
        bab = beta * (la * lb - _polygamma(1, S))
        if np.any(new):
            x, y, s, bn = A[new], Bv[new], S[new], beta[new]
            small = np.abs(x) <= np.abs(y)
            gfac = np.where(small, bn * x * (y / s), bn * y * (x / s))
            qa, qb = _q_plain(1.0 + x, y), _q_plain(1.0 + y, x)
            bab[new] = gfac * (_r_plain(1.0 + x, y) + _r_plain(1.0 + y, x) + (s * qa) * qb)

        def pure(x: Any, y: Any, lx: Any) -> Any:  # B_xx = B L_xx + B_x L_x
            bl = beta * gap(x, y, 1)
            # L_xx ~ y psi''(x) underflows at (1e150, 1e-150) where B L_xx does not
            tiny = (x > 0) & (np.abs(y) <= 1e-3 * x) & (y != 0)
            if np.any(tiny):
                bl[tiny] = -(beta[tiny] * y[tiny]) * _dpsi1_series(x[tiny], y[tiny])
            return bl + (beta * lx) * lx

        baa, bbb = pure(A, Bv, la), pure(Bv, A, lb)
    out = tuple(v.reshape(shape).astype(dt, copy=False) for v in (baa, bab, bbb))
    if not shape:
        return tuple(v[()] for v in out)  # type: ignore[return-value]
    return out  # type: ignore[return-value]
