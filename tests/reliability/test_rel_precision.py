"""Every elementwise rule of both engines against mpmath at 50 digits, across the
float range (1e-300 ... 1e300, both signs, next to domain edges).

Wherever the true derivative is a normal float64 (and f itself is finite), the
first and second derivatives of every rule must be within ``ULPS`` ulps times
the condition number of that derivative at x (``|x g'(x) / g(x)|`` for the
derivative ``g``: an exact float input is all a rule sees, so this only allows
for the rounding of intermediate values that are themselves well conditioned).
The rules are taken from the rule tables, so a new rule is covered
automatically; one without an mpmath reference below fails
``test_every_rule_has_a_reference`` until it gets one (or a documented skip).

Engines and paths: hyperdual Dual and HyperDual with scalar (math.*) and array
(numpy) parts; reverse ``derivative`` (first order), double backprop through
``create_graph=True`` (second order: the backward formulas differentiated
again), and the forward-over-reverse ``hvp``.  A subset is checked to third
order by nesting (hyperdual over hyperdual and over reverse).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import special

import hyperdual as hd
import reverse as rv
import reverse.functions as rvf
from hyperdual import Dual, HyperDual, _generic, _rules

mpmath = pytest.importorskip("mpmath")
mp = mpmath.mp
TINY = np.finfo(float).tiny
ULPS = 8


@pytest.fixture(autouse=True)
def _module_precision():
    """The truths of this module at 50 digits (mpmath's precision is global: set
    for this module's tests only)."""
    with mpmath.workdps(50):
        yield


# --- mpmath references: f (and the derivative of every order by mp.diff on the
# closed forms below, which are exact to 50 digits) ------------------------------
M = mpmath
REF = {
    "sin": (M.sin, M.cos, lambda x: -M.sin(x)),
    "cos": (M.cos, lambda x: -M.sin(x), lambda x: -M.cos(x)),
    "tan": (M.tan, lambda x: M.sec(x) ** 2, lambda x: 2 * M.tan(x) * M.sec(x) ** 2),
    "arcsin": (M.asin, lambda x: 1 / M.sqrt(1 - x * x), lambda x: x / (1 - x * x) ** 1.5),
    "arccos": (M.acos, lambda x: -1 / M.sqrt(1 - x * x), lambda x: -x / (1 - x * x) ** 1.5),
    "arctan": (M.atan, lambda x: 1 / (1 + x * x), lambda x: -2 * x / (1 + x * x) ** 2),
    "sinh": (M.sinh, M.cosh, M.sinh),
    "cosh": (M.cosh, M.sinh, M.cosh),
    "tanh": (M.tanh, lambda x: M.sech(x) ** 2, lambda x: -2 * M.tanh(x) * M.sech(x) ** 2),
    "arcsinh": (M.asinh, lambda x: 1 / M.sqrt(1 + x * x), lambda x: -x / (1 + x * x) ** 1.5),
    "arccosh": (M.acosh, lambda x: 1 / M.sqrt(x * x - 1), lambda x: -x / (x * x - 1) ** 1.5),
    "arctanh": (M.atanh, lambda x: 1 / (1 - x * x), lambda x: 2 * x / (1 - x * x) ** 2),
    "exp": (M.exp, M.exp, M.exp),
    "expm1": (M.expm1, M.exp, M.exp),
    "exp2": (lambda x: 2 ** x, lambda x: M.ln(2) * 2 ** x, lambda x: M.ln(2) ** 2 * 2 ** x),
    "log": (M.ln, lambda x: 1 / x, lambda x: -1 / x ** 2),
    "log1p": (M.log1p, lambda x: 1 / (1 + x), lambda x: -1 / (1 + x) ** 2),
    "log2": (lambda x: M.log(x, 2), lambda x: 1 / (x * M.ln(2)),
             lambda x: -1 / (x * x * M.ln(2))),
    "log10": (M.log10, lambda x: 1 / (x * M.ln(10)), lambda x: -1 / (x * x * M.ln(10))),
    "sqrt": (M.sqrt, lambda x: 1 / (2 * M.sqrt(x)), lambda x: -1 / (4 * x * M.sqrt(x))),
    "cbrt": (M.cbrt, lambda x: 1 / (3 * M.cbrt(x) ** 2), lambda x: -2 / (9 * x * M.cbrt(x) ** 2)),
    "square": (lambda x: x * x, lambda x: 2 * x, lambda x: M.mpf(2)),
    "reciprocal": (lambda x: 1 / x, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3),
    "negative": (lambda x: -x, lambda x: M.mpf(-1), lambda x: M.mpf(0)),
    "positive": (lambda x: x, lambda x: M.mpf(1), lambda x: M.mpf(0)),
    "absolute": (abs, M.sign, lambda x: M.mpf(0)),
    "erf": (M.erf, lambda x: 2 / M.sqrt(M.pi) * M.exp(-x * x),
            lambda x: -4 * x / M.sqrt(M.pi) * M.exp(-x * x)),
    "erfc": (M.erfc, lambda x: -2 / M.sqrt(M.pi) * M.exp(-x * x),
             lambda x: 4 * x / M.sqrt(M.pi) * M.exp(-x * x)),
    "expit": (lambda x: 1 / (1 + M.exp(-x)), lambda x: 1 / (4 * M.cosh(x / 2) ** 2),
              lambda x: -M.tanh(x / 2) / (4 * M.cosh(x / 2) ** 2)),
    "log_expit": (lambda x: -M.log1p(M.exp(-x)), lambda x: 1 / (1 + M.exp(x)),
                  lambda x: -1 / (4 * M.cosh(x / 2) ** 2)),
    "gammaln": (M.loggamma, M.digamma, lambda x: M.polygamma(1, x)),
    # private rule: tanh's derivative (hyperdual._rules.PRIVATE, reverse Sech2)
    "sech2": (lambda x: M.sech(x) ** 2, lambda x: -2 * M.tanh(x) * M.sech(x) ** 2,
              lambda x: (4 * M.tanh(x) ** 2 - 2 * M.sech(x) ** 2) * M.sech(x) ** 2),
    "digamma": (M.digamma, lambda x: M.polygamma(1, x), lambda x: M.polygamma(2, x)),
    "polygamma1": (lambda x: M.polygamma(1, x), lambda x: M.polygamma(2, x),
                   lambda x: M.polygamma(3, x)),
    "polygamma2": (lambda x: M.polygamma(2, x), lambda x: M.polygamma(3, x),
                   lambda x: M.polygamma(4, x)),
    "polygamma3": (lambda x: M.polygamma(3, x), lambda x: M.polygamma(4, x),
                   lambda x: M.polygamma(5, x)),
}


def _nd(f, n):
    """The n-th derivative of the mpmath function f, by central differences with
    a relative step and enough extra digits (for the references of rules whose
    derivatives have no convenient closed form)."""
    def d(X):
        dps = mp.dps
        mp.dps = 40 * (n + 1) + 20
        try:
            h = (abs(X) if X != 0 else mp.mpf(1)) * mp.mpf(10) ** -(10 * (n + 1))
            if n == 1:
                return (f(X + h) - f(X - h)) / (2 * h)
            if n == 2:
                return (f(X + h) - 2 * f(X) + f(X - h)) / (h * h)
            return (f(X + 2 * h) - 2 * f(X + h) + 2 * f(X - h) - f(X - 2 * h)) / (2 * h ** 3)
        finally:
            mp.dps = dps
    return d


def _numeric(f):
    return (f, _nd(f, 1), _nd(f, 2))


def _sinc(x):
    return M.sin(M.pi * x) / (M.pi * x) if x != 0 else M.mpf(1)


def _ndtri(p):
    return M.sqrt(2) * M.erfinv(2 * p - 1)


# rules added to the table by issue 13: mpmath references (derivatives of the
# special functions numerically, at 100+ digits)
_C = M.pi / 180
REF.update({
    "deg2rad": (lambda x: x * _C, lambda x: _C, lambda x: M.mpf(0)),
    "radians": (lambda x: x * _C, lambda x: _C, lambda x: M.mpf(0)),
    "rad2deg": (lambda x: x / _C, lambda x: 1 / _C, lambda x: M.mpf(0)),
    "degrees": (lambda x: x / _C, lambda x: 1 / _C, lambda x: M.mpf(0)),
    "fabs": (abs, M.sign, lambda x: M.mpf(0)),
    "gamma": _numeric(M.gamma),
    "loggamma": _numeric(M.loggamma),
    "entr": (lambda x: -x * M.log(x), lambda x: -(M.log(x) + 1), lambda x: -1 / x),
    "logit": (lambda p: M.log(p / (1 - p)), lambda p: 1 / (p * (1 - p)),
              lambda p: (2 * p - 1) / (p * (1 - p)) ** 2),
})


# --- the special functions of issue 13: closed forms evaluated with enough digits
# for their cancellations (mpmath's exponent range is unbounded, so tails such as
# erfc(1e150) are exact), series where the closed forms are 0/0 -----------------
def _digits(X, per_decade=2):
    """Working digits for a closed form that cancels ~per_decade digits per decade
    of |X| (e.g. 2x erfcx(x) - 2/sqrt(pi))."""
    if X == 0:
        return 50
    return 50 + int(per_decade * abs(M.log10(abs(X)))) + 10


def _hp(fn, per_decade=2):
    def wrapped(X):
        with mp.workdps(max(mp.dps, _digits(X, per_decade))):
            return +fn(X)
    return wrapped


def _sinc_n(n):
    """n-th derivative of sin(pi x)/(pi x): sinpi/cospi (exact argument reduction at
    1e300), the Taylor series of sin(u)/u for |u| < 1 (the closed forms cancel)."""
    def d(X):
        u = M.pi * X
        if abs(u) < 1:
            tot = M.mpf(0)
            for k in range(60):
                e = 2 * k - n
                if e < 0:
                    continue
                c = (-1) ** k / M.factorial(2 * k + 1)
                for j in range(n):
                    c *= 2 * k - j
                tot += c * u ** e
            return tot * M.pi ** n
        sp_, cp_ = M.sinpi(X), M.cospi(X)
        if n == 0:
            return sp_ / u
        if n == 1:
            return M.pi * (cp_ / u - sp_ / u ** 2)
        return M.pi ** 2 * (-sp_ / u - 2 * cp_ / u ** 2 + 2 * sp_ / u ** 3)
    return d


def _log_ndtr(X):
    return M.log(M.ncdf(X)) if X < 0 else M.log1p(-M.ncdf(-X))


def _mills(X):  # phi / Phi
    if X < -30:
        # mpmath's ncdf loses digits far left (h = phi/Phi came out 3e-5 off at -1e30);
        # Laplace's continued fraction h = u + 1/T2, T_k = u + k/T_(k+1), u = -x
        u = -X
        t = u
        for k in range(2000 if u < 100 else 200, 1, -1):
            t = u + k / t
        return u + 1 / t
    return M.npdf(X) / M.ncdf(X)


def _mills_d2(X):  # the second derivative of h = phi / Phi: h ((x + h)(x + 2h) - 1)
    h = _mills(X)
    return h * ((X + h) * (X + 2 * h) - 1)


def _mills_d3(X):
    """The third derivative of h = phi / Phi: h (B' - p B) with p = x + h,
    B = p (p + h) - 1 and B' = (1 - h p)(p + h) + p (1 - 2 h p) (h' = -h p)."""
    h = _mills(X)
    p = X + h
    b = p * (p + h) - 1
    db = (1 - h * p) * (p + h) + p * (1 - 2 * h * p)
    return h * (db - p * b)


def _ndtri_mp(P):
    if not 0 < P < 1:
        raise ValueError("ndtri: outside (0, 1)")
    z0 = special.ndtri(float(P))
    return M.findroot(lambda z: M.ncdf(z) - P, M.mpf(z0))


def _erfcinv_mp(X):
    if not 0 < X < 2:
        raise ValueError("erfcinv: outside (0, 2)")
    return M.findroot(lambda y: M.erfc(y) - X, M.mpf(special.erfcinv(float(X))))


def _erfcx_n(n):
    """erfcx and its derivatives: the closed forms at enough digits, the asymptotic
    series 1/(x sqrt(pi)) sum (-1)^k (2k-1)!!/(2x^2)^k beyond 1e4 (termwise)."""
    def d(X):
        if X < -30:
            raise OverflowError("erfcx(x) > 1e308 below -27")
        if X > 10 ** 4:
            tot, c = M.mpf(0), M.mpf(1)
            for k in range(40):
                e = -(2 * k + 1)  # c x^e / sqrt(pi)
                t = c
                for j in range(n):
                    t *= e - j
                tot += t * X ** (e - n)
                c *= -(2 * k + 1) / M.mpf(2)
            return tot / M.sqrt(M.pi)
        with mp.workdps(max(mp.dps, _digits(X, 4))):
            f = M.exp(X * X) * M.erfc(X)
            if n == 0:
                return +f
            if n == 1:
                return 2 * X * f - 2 / M.sqrt(M.pi)
            return (2 + 4 * X * X) * f - 4 * X / M.sqrt(M.pi)
    return d


def _bessel_n(nu, n):
    """n-th derivative of I_nu (I_nu' = (I_{nu-1} + I_{nu+1}) / 2)."""
    def d(X):
        if abs(X) > 720:
            raise OverflowError("I_nu(x) > 1e308")
        if n == 0:
            return M.besseli(nu, X)
        if n == 1:
            return (M.besseli(nu - 1, X) + M.besseli(nu + 1, X)) / 2
        return (M.besseli(nu - 2, X) + 2 * M.besseli(nu, X) + M.besseli(nu + 2, X)) / 4
    return d


def _scaled_bessel_n(nu, n):
    """n-th derivative of e^{-|x|} I_nu(x): e^{-x}(g - g')... for 0 < x <= 700, the
    asymptotic series e^{-x} I_nu(x) ~ sum_k (-1)^k a_k x^{-k-1/2} / sqrt(2 pi)
    (termwise) beyond; x < 0 by parity (i0e even, i1e odd)."""
    def pos(X):
        if X > 700:
            tot, a = M.mpf(0), M.mpf(1)
            for k in range(60):
                e = -(k + M.mpf(1) / 2)
                t = (-1) ** k * a
                for j in range(n):
                    t *= e - j
                tot += t * X ** (e - n)
                a *= (4 * nu * nu - (2 * k + 1) ** 2) / M.mpf(8 * (k + 1))
            return tot / M.sqrt(2 * M.pi)
        g = [_bessel_n(nu, k)(X) for k in range(n + 1)]
        w = M.exp(-X)
        if n == 0:
            return w * g[0]
        if n == 1:
            return w * (g[1] - g[0])
        return w * (g[2] - 2 * g[1] + g[0])

    def d(X):
        if X == 0:
            raise ValueError("e^{-|x|} has a kink at 0")
        if X > 0:
            return pos(X)
        sign = (-1) ** ((nu + n) % 2)  # parity of the n-th derivative
        return sign * pos(-X)
    return d


REF.update({
    "sinc": (_sinc_n(0), _sinc_n(1), _sinc_n(2)),
    "ndtr": (M.ncdf, M.npdf, lambda x: -x * M.npdf(x)),
    "log_ndtr": (_hp(_log_ndtr), _hp(_mills),
                 _hp(lambda x: -_mills(x) * (x + _mills(x)), per_decade=3)),
    # log_ndtr's derivative h = phi/Phi, a private rule: h' = -h (x + h),
    # h'' = h ((x + h)(x + 2h) - 1)
    "log_ndtr_d1": (_hp(_mills), _hp(lambda x: -_mills(x) * (x + _mills(x)), per_decade=3),
                    _hp(_mills_d2, per_decade=7)),  # x + h and the bracket cancel
    # and h' (log_ndtr's second derivative), a private rule too: its derivatives are
    # h'' and the third derivative of h (_mills_d3)
    "log_ndtr_d2": (_hp(lambda x: -_mills(x) * (x + _mills(x)), per_decade=3),
                    _hp(_mills_d2, per_decade=7),
                    _hp(_mills_d3, per_decade=9)),  # x + h and B' - p B cancel
    "ndtri": (_ndtri_mp, lambda p: M.sqrt(2 * M.pi) * M.exp(_ndtri_mp(p) ** 2 / 2),
              lambda p: _ndtri_mp(p) * 2 * M.pi * M.exp(_ndtri_mp(p) ** 2)),
    "erfinv": (M.erfinv, lambda x: M.sqrt(M.pi) / 2 * M.exp(M.erfinv(x) ** 2),
               lambda x: M.erfinv(x) * M.pi / 2 * M.exp(2 * M.erfinv(x) ** 2)),
    "erfcinv": (_erfcinv_mp, lambda x: -M.sqrt(M.pi) / 2 * M.exp(_erfcinv_mp(x) ** 2),
                lambda x: _erfcinv_mp(x) * M.pi / 2 * M.exp(2 * _erfcinv_mp(x) ** 2)),
    "erfcx": (_erfcx_n(0), _erfcx_n(1), _erfcx_n(2)),
    "i0": (_bessel_n(0, 0), _bessel_n(0, 1), _bessel_n(0, 2)),
    "i1": (_bessel_n(1, 0), _bessel_n(1, 1), _bessel_n(1, 2)),
    "i0e": (_scaled_bessel_n(0, 0), _scaled_bessel_n(0, 1), _scaled_bessel_n(0, 2)),
    "i1e": (_scaled_bessel_n(1, 0), _scaled_bessel_n(1, 1), _scaled_bessel_n(1, 2)),
})
PENDING: set = set()


def _inverse_d1_ref(inverse, d1, c):
    """f, f', f'' of the derivative d1 of an inverse function (a private rule):
    d1' = c y d1**2 and d1'' = c d1**3 (1 + 2 c y**2)."""
    return (d1, lambda x: c * inverse(x) * d1(x) ** 2,
            lambda x: c * d1(x) ** 3 * (1 + 2 * c * inverse(x) ** 2))


REF.update({
    "erfinv_d1": _inverse_d1_ref(M.erfinv, REF["erfinv"][1], 2),
    "erfcinv_d1": _inverse_d1_ref(_erfcinv_mp, REF["erfcinv"][1], 2),
    "ndtri_d1": _inverse_d1_ref(_ndtri_mp, REF["ndtri"][1], 1),
})
PIECEWISE_CONSTANT = {"sign", "floor", "ceil", "trunc", "rint"}  # derivative 0
# Documented skips: rule -> why.
SKIP = {
    # reverse's digamma backward calls scipy.special.polygamma, which cannot take
    # the Dual data of a forward-over-reverse hvp (issue 12 section 4 makes
    # polygamma a rule of its own); its first and second derivatives pass otherwise
    "digamma": "reverse hvp: polygamma on Dual data (issue 12 section 4)",
    # mpmath's polygamma is slow at the sweep's large arguments and these are
    # reached as derivatives of gammaln/digamma only (being reworked, section 4)
    "polygamma1": "internal derivative rule, reworked by issue 12 section 4",
    "polygamma2": "internal derivative rule, reworked by issue 12 section 4",
    "polygamma3": "its derivative is not in the table",
}

BASE = [1e-300, 3e-200, 1e-100, 2e-30, 1e-8, 0.1, 0.7, 1.0, 1.5, 3.0, 10.0, 20.0, 40.0,
        100.0, 700.0, 1e8, 1e30, 1e100, 1e160, 3e200, 1e300]
EDGES = [1 + 2 ** -52, 1 + 1e-10, 1 - 2 ** -53, 1 - 1e-10, -1 + 2 ** -53, -1 + 1e-10,
         1e-310, 26.0, -26.0, -37.5, 355.0, 2.5, 0.5]
POINTS = sorted(set(BASE + [-x for x in BASE] + EDGES))


def _mp(x):
    return mp.mpf(float(x))


def _d(f, X, n=1):
    """n-th derivative of f at X by central differences with a step relative to X
    (1e-25 |X| at 50 digits: truncation ~1e-50, rounding ~1e-25 relative; mp.diff's
    absolute step is useless at 1e-300)."""
    h = abs(X) * mp.mpf("1e-25") if X != 0 else mp.mpf("1e-25")
    if n == 1:
        return (f(X + h) - f(X - h)) / (2 * h)
    return (f(X + h) - 2 * f(X) + f(X - h)) / (h * h)


def _truth(name, order, x):
    """(f(x), f^(order)(x), condition number of f^(order) at x) or None."""
    fns = REF[name]
    X = _mp(x)
    try:
        f0 = fns[0](X)
        if order < 3:
            d = fns[order](X)
            nxt = fns[2](X) if order == 1 else _nd(fns[2], 1)(X)
        else:
            mp.dps = 80  # the second difference needs the extra digits
            try:
                d = _nd(fns[2], 1)(X)
                nxt = _nd(fns[2], 2)(X)
            finally:
                mp.dps = 50
    except (ValueError, ZeroDivisionError, OverflowError):
        return None  # outside the domain, or beyond mpmath's exponent range
    if any(isinstance(v, mpmath.mpc) or not mpmath.isfinite(v) for v in (f0, d, nxt)):
        return None
    if abs(f0) > np.finfo(float).max:
        return None
    if d != 0 and not (TINY <= abs(d) <= np.finfo(float).max):
        return None  # the truth is not a normal float64
    cond = float(abs(X * nxt / d)) if d != 0 else 1.0
    return float(f0), float(d), max(cond, 1.0), d


def _ulps(got, want_mp):
    if want_mp == 0:
        return 0.0 if got == 0 else math.inf
    if not math.isfinite(got):
        return math.inf
    return float(abs((mp.mpf(got) - want_mp) / want_mp)) / np.finfo(float).eps


ALL_UNARY = {**_rules.UNARY, **_rules.PRIVATE}


def _fn(name, engine="hyperdual"):
    """The callable for a unary rule: the numpy/scipy ufunc (both engines); a
    private rule through hyperdual's generic function or reverse's Function."""
    if name in _rules.PRIVATE:
        if engine == "hyperdual":
            return getattr(_generic, name)
        from reverse.rules import elementwise as rve

        cls = {"sech2": rvf.Sech2, "erfinv_d1": rve._ErfinvD1, "erfcinv_d1": rve._ErfcinvD1,
               "ndtri_d1": rve._NdtriD1, "log_ndtr_d1": rve._LogNdtrD1,
               "log_ndtr_d2": rve._LogNdtrD2}[name]
        return lambda x: cls()(x)
    rule = _rules.UNARY[name]
    if name.startswith("polygamma"):
        n = int(name[-1])
        return lambda x: special.polygamma(n, x)
    return rule.ufunc


def _hyperdual_paths(name, x, order):
    """The order-th derivative at x through each hyperdual path."""
    f = _fn(name)
    out = {}
    if order == 1:
        out["Dual scalar"] = f(Dual(x, 1.0)).dual
        out["Dual array"] = f(Dual(np.array([x]), np.array([1.0]))).dual[0]
        out["HyperDual scalar eps1"] = f(HyperDual(x, 1.0, 1.0, 0.0)).eps1
    else:
        out["HyperDual scalar"] = f(HyperDual(x, 1.0, 1.0, 0.0)).eps12
        out["HyperDual array"] = f(HyperDual(np.array([x]), 1.0, 1.0, 0.0)).eps12[0]
        out["hyperdual.second_derivative"] = hd.second_derivative(f, x)
    return out


def _reverse_paths(name, x, order):
    f = _fn(name, "reverse")
    out = {}
    if order == 1:
        out["reverse.derivative"] = rv.derivative(f, x)
    else:
        v = rv.Variable(np.array(x))
        y = f(v)
        y.backward(create_graph=True)
        g = v.grad
        v.clear_grad()
        g.backward()
        out["double backprop"] = float(v.grad.data)
        out["hvp forward-over-reverse"] = float(rv.hvp(
            lambda z: np.sum(f(z)), np.array([x]), np.array([1.0]),
            mode="forward-over-reverse")[0])
    return out


def _check(name, engine, order, sweep):
    failures = []
    checked = 0
    for x in POINTS:
        t = _truth(name, order, x)
        if t is None:
            continue
        _, d, cond, d_mp = t
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            paths = (_hyperdual_paths if engine == "hyperdual" else _reverse_paths)(name, x, order)
        for path, got in paths.items():
            e = _ulps(float(got), d_mp)
            checked += 1
            sweep.append((name, engine, order, x, path, e / cond, e))
            # a private rule's f'' is a public function's third derivative: products
            # of three first derivatives, each within a few ulps
            limit = ULPS * (2 if name in _rules.PRIVATE and order == 2 else 1)
            if not e <= limit * cond:
                failures.append(f"{name}^({order}) at {x!r} via {path}: {float(got)!r}, "
                                f"truth {d!r}, {e:.3g} ulps (cond {cond:.3g})")
    return checked, failures


SWEEP: list = []


def test_every_rule_has_a_reference():
    missing = set(ALL_UNARY) - set(REF) - PIECEWISE_CONSTANT - PENDING
    assert not missing, f"add an mpmath reference (or a documented skip) for {missing}"


# Private rules whose f'' (a public function's third derivative) is not yet within
# the sweep's ulps everywhere: rule -> what is open.  Their f' is checked.
OPEN_D2: dict[str, str] = {}


def _unary_cases():
    for name in sorted(ALL_UNARY):
        if name in PIECEWISE_CONSTANT or name in SKIP or name in PENDING:
            continue
        for engine in ("hyperdual", "reverse"):
            for order in (1, 2):
                if order == 2 and name in OPEN_D2:
                    continue
                yield pytest.param(name, engine, order, id=f"{name}-{engine}-d{order}")


@pytest.mark.slow
@pytest.mark.parametrize("name,engine,order", list(_unary_cases()))
def test_unary_rule_matches_mpmath_across_the_float_range(name, engine, order):
    if name not in REF:
        pytest.fail(f"no mpmath reference for {name}")
    checked, failures = _check(name, engine, order, SWEEP)
    assert checked, f"{name}: no point of the sweep is in its domain"
    assert not failures, "\n".join(failures[:10])


@pytest.mark.parametrize("name", sorted(PIECEWISE_CONSTANT & set(_rules.UNARY)))
def test_piecewise_constant_rules_have_zero_derivatives(name):
    f = _fn(name)
    for x in (-2.5, -0.3, 0.7, 1e300):
        z = f(HyperDual(x, 1.0, 1.0, 0.0))
        assert z.eps1 == 0.0 and z.eps12 == 0.0
        assert rv.derivative(f, x) == 0.0


# --- third derivatives by nesting, on rules whose second-derivative formula is
# written in primitives that are themselves precise rules -------------------------
THIRD = ["sin", "cos", "exp", "sinh", "cosh", "log", "sqrt", "reciprocal", "arctan", "expit",
         "erf", "tanh"]
THIRD_POINTS = [-20.0, -3.0, -0.7, 0.1, 0.7, 1.5, 3.0, 20.0, 1e-8, 1e8]


@pytest.mark.parametrize("name", THIRD)
@pytest.mark.parametrize("outer", ["hyperdual", "reverse"])
def test_third_derivative_by_nesting(name, outer):
    f = _fn(name)
    inner = hd.second_derivative if outer == "hyperdual" else rv.second_derivative
    bad = []
    for x in THIRD_POINTS:
        t = _truth(name, 3, x)
        if t is None:
            continue
        _, d, cond, d_mp = t
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            got = hd.derivative(lambda s: inner(f, s), x)
        e = _ulps(float(got), d_mp)
        if not e <= 4 * ULPS * cond:
            bad.append(f"{name}''' at {x}: {got!r} vs {d!r} ({e:.3g} ulps, cond {cond:.3g})")
    assert not bad, "\n".join(bad)


# --- binary rules: gradient and Hessian against mpmath ------------------------------
def _atan2_partials(a, b):
    r2 = a * a + b * b
    return [b / r2, -a / r2], [[-2 * a * b / r2 ** 2, (a * a - b * b) / r2 ** 2],
                               [None, 2 * a * b / r2 ** 2]]


def _hypot_partials(a, b):
    h = M.sqrt(a * a + b * b)
    return [a / h, b / h], [[b * b / h ** 3, -a * b / h ** 3], [None, a * a / h ** 3]]


def _pow_partials(a, b):
    p, la = a ** b, M.ln(a)
    return [b * a ** (b - 1), p * la], [[b * (b - 1) * a ** (b - 2), a ** (b - 1) * (1 + b * la)],
                                        [None, p * la * la]]


Z = M.mpf(0)
# f, gradient and (upper) Hessian of each binary rule, in closed form
BINARY_REF = {
    "add": (lambda a, b: a + b, np.add, lambda a, b: ([1, 1], [[Z, Z], [None, Z]])),
    "subtract": (lambda a, b: a - b, np.subtract,
                 lambda a, b: ([1, -1], [[Z, Z], [None, Z]])),
    "multiply": (lambda a, b: a * b, np.multiply, lambda a, b: ([b, a], [[Z, 1], [None, Z]])),
    "true_divide": (lambda a, b: a / b, np.true_divide,
                    lambda a, b: ([1 / b, -a / b ** 2],
                                  [[Z, -1 / b ** 2], [None, 2 * a / b ** 3]])),
    "power": (lambda a, b: a ** b, np.power, _pow_partials),
    "arctan2": (M.atan2, np.arctan2, _atan2_partials),
    "hypot": (lambda a, b: M.sqrt(a * a + b * b), np.hypot, _hypot_partials),
    "xlogy": (lambda a, b: a * M.ln(b), special.xlogy,
              lambda a, b: ([M.ln(b), a / b], [[Z, 1 / b], [None, -a / b ** 2]])),
}
# Known, documented imprecisions (reported as xfail while they last): none today
# (x**y's x**(y - 2) overflow at (3e-200, 4e-200) is fixed: tests/reliability/test_rel_power.py)
KNOWN: dict = {}
BINARY_SKIP = {"maximum": "piecewise (ties split 0.5/0.5): see test_rel_conventions",
               "minimum": "piecewise (ties split 0.5/0.5): see test_rel_conventions",
               "floor_divide": "piecewise constant", "heaviside": "piecewise constant",
               "remainder": "piecewise", "fmod": "piecewise", "copysign": "piecewise"}


def _logaddexp_partials(a, b, scale=1):
    """d/da = 1 / (1 + e^(s(b - a))), d2/da2 = s / (4 cosh(s (a - b) / 2)^2)."""
    s = M.mpf(scale)
    pa, pb = 1 / (1 + M.exp(s * (b - a))), 1 / (1 + M.exp(s * (a - b)))
    h = s / (4 * M.cosh(s * (a - b) / 2) ** 2)
    return [pa, pb], [[h, -h], [None, h]]


def _logaddexp(a, b, scale=1):
    s = M.mpf(scale)
    hi, lo = (a, b) if a >= b else (b, a)
    return hi + M.log1p(M.exp(s * (lo - hi))) / s


def _digits2(a, b):
    """Digits for a + b exact and psi(a) - psi(a + b) without cancellation."""
    d = 50
    for v in (a, b):
        if v != 0:
            d += int(abs(M.log10(abs(v))))
    return d + 10


def _betaln_partials(a, b):
    with mp.workdps(max(mp.dps, _digits2(a, b))):
        s = a + b
        pa, pb, ps = M.digamma(a), M.digamma(b), M.digamma(s)
        qa, qb, qs = M.psi(1, a), M.psi(1, b), M.psi(1, s)
        return [+(pa - ps), +(pb - ps)], [[+(qa - qs), -qs], [None, +(qb - qs)]]


def _beta_partials(a, b):
    # B_ab = B (L_a L_b - psi'(a + b)): the terms cancel to a relative 1e-150 at
    # (1e150, 1e-150), so twice the digits
    with mp.workdps(max(mp.dps, 2 * _digits2(a, b))):
        B = M.beta(a, b)
        (da, db), ((daa, dab), (_, dbb)) = _betaln_partials(a, b)
        return [B * da, B * db], [[B * (daa + da * da), B * (dab + da * db)],
                                  [None, B * (dbb + db * db)]]


def _beta_scaled_partials(a, b):
    """beta's partials are B times psi terms, B being the value scipy returns; scipy's
    beta itself is off by up to 4e6 ulps (at (1e6, 0.5)), so the reference takes
    scipy's B: what is checked is the derivative of the function as evaluated."""
    g, h = _beta_partials(a, b)
    with mp.workdps(max(mp.dps, _digits2(a, b))):
        ratio = mp.mpf(float(special.beta(float(a), float(b)))) / M.beta(a, b)
    if not mpmath.isfinite(ratio) or ratio == 0:
        ratio = 1
    return [v * ratio for v in g], [[v * ratio if v is not None else None for v in r]
                                    for r in h]


def _betaln(a, b):
    with mp.workdps(max(mp.dps, _digits2(a, b))):
        return M.log(abs(M.beta(a, b)))


def _pseudo_huber(d, r):
    # scipy: inf for delta < 0 (a constant there: skipped as not finite)
    return d * d * (M.sqrt(1 + (r / d) ** 2) - 1) if d > 0 else M.inf


def _pseudo_huber_partials(d, r):
    q = r / d
    s = M.sqrt(1 + q * q)
    return ([d * q ** 4 / (s * (s + 1) ** 2), r / s],
            [[-q ** 4 * (2 * s + 1) / (s ** 3 * (s + 1) ** 2), q ** 3 / s ** 3],
             [None, 1 / s ** 3]])


def _xlog1py_ok(a, b):
    return a * M.log1p(b)


BINARY_REF.update({
    "float_power": (lambda a, b: a ** b, np.float_power, _pow_partials),
    "logaddexp": (_logaddexp, np.logaddexp, _logaddexp_partials),
    "logaddexp2": (lambda a, b: _logaddexp(a, b, M.ln(2)) / M.ln(2), np.logaddexp2,
                   lambda a, b: _logaddexp_partials(a, b, M.ln(2))),
    "xlog1py": (_xlog1py_ok, special.xlog1py,
                lambda a, b: ([M.log1p(b), a / (1 + b)],
                              [[Z, 1 / (1 + b)], [None, -a / (1 + b) ** 2]])),
    "rel_entr": (lambda a, b: a * M.log(a / b), special.rel_entr,
                 lambda a, b: ([M.log(a / b) + 1, -a / b],
                               [[1 / a, -1 / b], [None, a / b ** 2]])),
    "kl_div": (lambda a, b: a * M.log(a / b) - a + b, special.kl_div,
               lambda a, b: ([M.log(a / b), 1 - a / b], [[1 / a, -1 / b], [None, a / b ** 2]])),
    "beta": (lambda a, b: M.beta(a, b), special.beta, _beta_scaled_partials),
    "betaln": (_betaln, special.betaln, _betaln_partials),
    "pseudo_huber": (_pseudo_huber, special.pseudo_huber, _pseudo_huber_partials),
})
PAIRS = [(3e-200, 4e-200), (3e200, 4e200), (3e102, 4e102), (1.5, -0.7), (-2.0, 0.3),
         (1e-8, 2.0), (2.0, 1e-8), (0.5, 3.0), (7.0, -1e-3), (1e150, 1e-150),
         (1e-150, 1e150), (1.0, 1.0 + 2 ** -52),
         # a >> b and b >> a at moderate size (beta's psi(a) - psi(a + b) cancels),
         # near-equal arguments, mixed signs, near -1 (log1p)
         (1e6, 0.5), (0.5, 1e6), (50.0, 1e-3), (1e-3, 50.0), (3.0, 3.0 + 1e-12),
         (0.3, -0.9999999), (-0.25, 2.5), (40.0, 39.0), (1e20, 3.0)]


def test_every_binary_rule_has_a_reference():
    missing = set(_rules.BINARY) - set(BINARY_REF) - set(BINARY_SKIP)
    assert not missing, f"add an mpmath reference (or a documented skip) for {missing}"


def _binary_truth(name, a, b):
    fn, _, partials = BINARY_REF[name]
    A, B = _mp(a), _mp(b)
    try:
        f = fn(A, B)
        g, h = partials(A, B)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    if any(isinstance(v, mpmath.mpc) for v in (f, *g, h[0][0], h[0][1], h[1][1])):
        return None  # outside the real domain
    g = [M.mpf(v) for v in g]
    h = [[M.mpf(h[0][0]), M.mpf(h[0][1])], [M.mpf(h[0][1]), M.mpf(h[1][1])]]
    vals = [f, *g, *h[0], h[1][1]]
    if any(isinstance(v, mpmath.mpc) or not mpmath.isfinite(v) for v in vals):
        return None
    if abs(f) > np.finfo(float).max:
        return None
    return f, g, h


def _binary_cond(name, a, b, which):
    """Condition number of one partial (a function of a and b) at (a, b)."""
    partials = BINARY_REF[name][2]
    A, B = _mp(a), _mp(b)

    def part(s, t):
        g, h = partials(s, t)
        return {"a": g[0], "b": g[1], "aa": h[0][0], "ab": h[0][1], "bb": h[1][1]}[which]

    v = M.mpf(part(A, B))
    if v == 0:
        return 1.0
    da = _d(lambda s: M.mpf(part(s, B)), A)
    db = _d(lambda t: M.mpf(part(A, t)), B)
    return max(1.0, float((abs(A * da) + abs(B * db)) / abs(v)))


@pytest.mark.parametrize("name", sorted(set(_rules.BINARY) - set(BINARY_SKIP)))
@pytest.mark.parametrize("engine", ["hyperdual", "reverse"])
def test_binary_rule_matches_mpmath(name, engine):
    np_fn = BINARY_REF[name][1]
    bad, known = [], []
    for a, b in PAIRS:
        t = _binary_truth(name, a, b)
        if t is None:
            continue
        _, g, h = t

        def f(v):
            return np_fn(v[0], v[1])

        x = np.array([a, b])
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            eng = hd if engine == "hyperdual" else rv
            got_g = eng.gradient(f, x)
            got_h = eng.hessian(f, x)
        want = {"a": (got_g[0], g[0]), "b": (got_g[1], g[1]), "aa": (got_h[0, 0], h[0][0]),
                "ab": (got_h[0, 1], h[0][1]), "bb": (got_h[1, 1], h[1][1])}
        for which, (got, truth) in want.items():
            if truth != 0 and not (TINY <= abs(truth) <= np.finfo(float).max):
                continue  # not a normal float64
            e = _ulps(float(got), truth)
            if e <= ULPS:
                continue
            cond = _binary_cond(name, a, b, which)
            if not e <= ULPS * cond:
                if (name, which, (a, b)) in KNOWN:
                    known.append(KNOWN[name, which, (a, b)])
                    continue
                bad.append(f"{name} d/{which} at ({a}, {b}): {got!r} vs {float(truth)!r} "
                           f"({e:.3g} ulps, cond {cond:.3g})")
    assert not bad, "\n".join(bad)
    if known:
        pytest.xfail("; ".join(known))


def _beta_hessian_truth(a, b):
    g, h = _beta_scaled_partials(_mp(a), _mp(b))
    return [[float(h[0][0]), float(h[0][1])], [float(h[0][1]), float(h[1][1])]]


@pytest.mark.parametrize("engine", ["hyperdual", "reverse"])
def test_beta_second_partials_random_small_arguments(engine):
    """beta's Hessian where one or both arguments are small next to the other
    (B_ab = B (L_ab + L_a L_b) cancels there): a seeded sweep against mpmath."""
    rng = np.random.default_rng(12)
    eng = hd if engine == "hyperdual" else rv
    bad = []
    for i in range(24):
        a = 10 ** rng.uniform(-3, 3)
        b = a * 10 ** rng.uniform(-14, -1) * (1 if i % 3 else -1)
        if i % 2:
            a, b = b, a
        want = _beta_hessian_truth(a, b)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = eng.hessian(lambda v: special.beta(v[0], v[1]), np.array([a, b]))
        # the mixed partial: all its terms have one sign, a few ulps; the pure ones
        # cancel with a negative argument (condition up to ~1/(1 + b))
        for (j, k), tol in (((0, 1), 8), ((0, 0), 64), ((1, 1), 64)):
            t = want[j][k]
            if t == 0 or not TINY <= abs(t) <= np.finfo(float).max:
                continue
            e = _ulps(float(got[j, k]), _mp(t))
            if e > tol:
                bad.append(f"({a!r}, {b!r}) [{j},{k}]: {got[j, k]!r} vs {t!r} ({e:.3g} ulps)")
    assert not bad, "\n".join(bad)
