"""The rule table: every elementary function defined once, with its derivatives.

A unary rule holds ``f`` (as a numpy ufunc and, for Python floats, a ``math``
function), its first derivative ``df`` and second derivative ``d2f``.  The
derivatives are written with the *generic* elementary functions of
:mod:`hyperdual._generic`, which accept floats, arrays and dual numbers alike,
so a rule applied to a nested dual number (a dual whose parts are duals of an
older tag) differentiates its own derivative correctly.

A binary rule holds ``f`` and a function returning the partial derivatives
``{(i, j): d^(i+j) f / dx^i dy^j}`` up to the requested order.  Dual and
HyperDual arithmetic (:mod:`hyperdual._number`) is derived from these two
kinds of rule and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from _exactdiff._common import fpe_ignored as _fpe_ignored
from _exactdiff._common import select_branch as _select_branch
from _exactdiff.arrays import is_foreign_array as _is_foreign
from _exactdiff.arrays import may_hold as _may_hold
from _exactdiff.arrays import plain_array as _plain_array
from _exactdiff.special import (
    beta_near_zeros,
    beta_second_partials,
    beta_times,
    erfcx_derivative_mid,
    is_plain,
    log_ndtr_h_derivative_mid,
    psi_difference,
    scaled_bessel_asymptotic_coefs,
    scaled_bessel_derivative_mid,
)
from _exactdiff.special import horner as _horner
from _exactdiff.special import log_ratio_branches as _log_ratio_branches
from _exactdiff.special import polygamma as _sp_polygamma

from . import _generic as g

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_SQRT_PI = math.sqrt(math.pi)


@dataclass(frozen=True)
class Unary:
    """An elementwise function of one argument and its first two derivatives."""

    name: str
    ufunc: Callable
    scalar: Callable | None  # math.* version for Python floats (fast path)
    df: Callable
    d2f: Callable
    note: str = ""
    # Optional float-only f' for the scalar fast path (skips one generic-call layer;
    # tests check it equals df).
    dscalar: Callable | None = None
    d2scalar: Callable | None = None  # likewise for f'' (HyperDual's fast path)
    # Optional scaled products for the chain rule: s1(x, a) = f'(x) a and
    # s2(x, a, b) = f''(x) a b, formed so that no intermediate leaves the float
    # range where the product is an ordinary float (f''(x) itself may underflow
    # to 0 while f''(x) a b does not: log''(4e198) * (4e99)**2).  When a rule has
    # them, the chain rule of Dual/HyperDual uses them instead of f' and f''.
    s1: Callable | None = None
    s2: Callable | None = None
    # (lo, hi): where lo <= x <= hi, f' and f'' are within about 1e+-100 and the
    # plain products f' a, (f'' a) b are used (cheaper where the scaled forms
    # repeat work); outside, or where a plain product is not finite, the scaled
    # ones.  None: the scaled forms everywhere.
    safe: tuple | None = None


@dataclass(frozen=True)
class Binary:
    """An elementwise function of two arguments and its partial derivatives."""

    name: str
    ufunc: Callable
    scalar: Callable | None
    partials: Callable  # (x, y, order, vary_x, vary_y) -> {(i, j): value}
    note: str = ""
    # Optional scaled products (see Unary.s1): scaled(x, y, (i, j), t1, t2, cache) is the
    # partial (i, j) times the tangent t1 (first order) or t1 t2 (second order; for
    # (1, 1), t1 moves x and t2 moves y), formed without leaving the float range;
    # None for a partial that is zero.  ``cache`` is a dict private to one
    # operation, for values shared by its terms.
    scaled: Callable | None = None
    # Optional: scaled_when(x, y, vary_x, vary_y) says whether this operation takes the
    # scaled products (None: always, where the rule has them)
    scaled_when: Callable | None = None
    # Optional: composite(x, y, rule) evaluates the function on engine values where a
    # composition of other rules is more accurate than this rule's partials, calling
    # ``rule(x, y)`` (this rule) elsewhere (beta next to its zeros)
    composite: Callable | None = None


def _zero(x):
    return g.zeros_like_value(x)


UNARY: dict[str, Unary] = {}
BINARY: dict[str, Binary] = {}


def _u(name, ufunc, scalar, df, d2f, note="", dscalar=None, d2scalar=None):
    UNARY[name] = Unary(name, ufunc, scalar, df, d2f, note, dscalar or df, d2scalar or d2f)


def _b(name, ufunc, scalar, partials, note=""):
    BINARY[name] = Binary(name, ufunc, scalar, partials, note)


def _scaled(name, s1, s2, table=None, safe=None, when=None):
    """Give a rule its scaled chain-rule products (see Unary.s1 / Binary.scaled)."""
    from dataclasses import replace

    table = UNARY if table is None else table
    if table is BINARY:
        table[name] = replace(table[name], scaled=s1, scaled_when=when)
    else:
        table[name] = replace(table[name], s1=s1, s2=s2, safe=safe)


def _safe(names, lo, hi):
    from dataclasses import replace

    for n in names:
        UNARY[n] = replace(UNARY[n], safe=(lo, hi))


def _square(v):
    return v * v


def _cube(v):
    return v * v * v


def _exp_minus_square(x):
    """exp(-x**2) to full precision: x*x is rounded (relative error eps), which
    exp amplifies by x**2 (676 ulps for erfc'(26)).  With x = hi + lo, hi having
    26 bits (a constant: hi*hi is exact), exp(-x**2) = exp(-hi**2) exp(-(2 hi + lo) lo)."""
    r = g.real_value(x)
    hi = _split_hi(r)
    if not isinstance(r, np.ndarray) and not _is_foreign(r):  # a scalar (dask stays lazy)
        hi = float(hi)
    lo = x - hi
    with np.errstate(invalid="ignore"):
        return g.exp(-(hi * hi)) * g.exp(-((2.0 * hi + lo) * lo))


def _split_hi(r):
    # the leading 26 bits of r (Veltkamp splitting), so that hi * hi is exact;
    # r itself where |r| >= 40 (exp(-r**2/2) times any factor that is a normal
    # float, phi(r) r**3 included, is 0 there, and the split's exp(-(2 hi + lo) lo)
    # overflows beside exp(-hi**2) = 0: 0 * inf was nan, log_ndtr(exp(v))'s third
    # derivative at v = 300 in Taylor mode, truth 0) or r is not finite (as reverse's
    # _exp_minus_square)
    with np.errstate(over="ignore", invalid="ignore"):
        c = r * 134217729.0  # 2**27 + 1
        return np.where(abs(r) < 40.0, c - (c - r), r)


# --- trigonometric --------------------------------------------------------------
_u("sin", np.sin, math.sin, lambda x: g.cos(x), lambda x: -g.sin(x), dscalar=math.cos,
   d2scalar=lambda x: -math.sin(x))
_u("cos", np.cos, math.cos, lambda x: -g.sin(x), lambda x: -g.cos(x),
   dscalar=lambda x: -math.sin(x), d2scalar=lambda x: -math.cos(x))
_u("tan", np.tan, math.tan,
   lambda x: 1.0 + g.tan(x) ** 2,
   lambda x: 2.0 * g.tan(x) * (1.0 + g.tan(x) ** 2))
_u("arcsin", np.arcsin, math.asin,
   lambda x: 1.0 / g.sqrt((1.0 - x) * (1.0 + x)),
   lambda x: x * _cube(1.0 / g.sqrt((1.0 - x) * (1.0 + x))),
   "derivative is inf at +-1 (numpy warns), nan outside [-1, 1]")
_u("arccos", np.arccos, math.acos,
   lambda x: -1.0 / g.sqrt((1.0 - x) * (1.0 + x)),
   lambda x: -x * _cube(1.0 / g.sqrt((1.0 - x) * (1.0 + x))),
   "derivative is -inf at +-1 (numpy warns), nan outside [-1, 1]")
_u("arctan", np.arctan, math.atan,
   lambda x: 1.0 / (1.0 + x * x),
   # -2x d**2 with d = 1/(1 + x**2), as (x d) d: no overflow of (1 + x**2)**2
   lambda x: -2.0 * (x / (1.0 + x * x)) / (1.0 + x * x))
# --- hyperbolic -----------------------------------------------------------------
_u("sinh", np.sinh, math.sinh, lambda x: g.cosh(x), lambda x: g.sinh(x))
_u("cosh", np.cosh, math.cosh, lambda x: g.sinh(x), lambda x: g.cosh(x))

# tanh' = sech**2, a rule of its own (below): 1 - tanh**2 loses every digit by
# x = 20, and a formula for sech**2 differentiated by the chain rule cancels or
# underflows somewhere; as a rule, every order of derivative stays precise.
_u("tanh", np.tanh, math.tanh,
   lambda x: g.sech2(x),
   lambda x: -2.0 * g.tanh(x) * g.sech2(x),
   dscalar=lambda x: _sech2_float(x))
# 1/hypot(1, x): x*x + 1 overflows for |x| > 1e154 (arcsinh'(1e160) = 1e-160)
_u("arcsinh", np.arcsinh, math.asinh,
   lambda x: 1.0 / g.hypot(1.0, x),
   lambda x: -(x / g.hypot(1.0, x)) * _square(1.0 / g.hypot(1.0, x)))
# sqrt(x - 1) sqrt(x + 1): the product (x - 1)(x + 1) overflows for x > 1e154
_u("arccosh", np.arccosh, math.acosh,
   lambda x: 1.0 / (g.sqrt(x - 1.0) * g.sqrt(x + 1.0)),
   lambda x: -(x / (g.sqrt(x - 1.0) * g.sqrt(x + 1.0)))
   * _square(1.0 / (g.sqrt(x - 1.0) * g.sqrt(x + 1.0))),
   "derivative is inf at 1, nan below 1")
_u("arctanh", np.arctanh, math.atanh,
   lambda x: 1.0 / ((1.0 - x) * (1.0 + x)),
   lambda x: 2.0 * (x / ((1.0 - x) * (1.0 + x))) / ((1.0 - x) * (1.0 + x)),
   "inf at +-1 (numpy warns)")
# --- exponential and logarithmic ------------------------------------------------
_u("exp", np.exp, math.exp, lambda x: g.exp(x), lambda x: g.exp(x), dscalar=math.exp,
   d2scalar=math.exp)
_u("expm1", np.expm1, math.expm1, lambda x: g.exp(x), lambda x: g.exp(x))
_u("exp2", np.exp2, lambda x: 2.0 ** x,
   lambda x: _LN2 * g.exp2(x), lambda x: _LN2 * _LN2 * g.exp2(x))
_u("log", np.log, math.log, lambda x: 1.0 / x, lambda x: -_square(1.0 / x),
   "log(0) = -inf and log'(0) = inf with numpy's warning; nan below 0")
_u("log1p", np.log1p, math.log1p,
   lambda x: 1.0 / (1.0 + x), lambda x: -_square(1.0 / (1.0 + x)))
_u("log2", np.log2, math.log2,
   # (1/x)/ln 2: ln2 * x is subnormal for x < 3e-308 where 1/(x ln 2) is normal
   lambda x: (1.0 / x) / _LN2, lambda x: -_square(1.0 / x) / _LN2)
_u("log10", np.log10, math.log10,
   lambda x: (1.0 / x) / _LN10, lambda x: -_square(1.0 / x) / _LN10)
# --- powers and roots -----------------------------------------------------------
_u("sqrt", np.sqrt, math.sqrt,
   # -x**-1.5 / 4 as (0.5/sqrt(x)) / x * -0.5: x * sqrt(x) leaves the normal range first
   lambda x: 0.5 / g.sqrt(x), lambda x: -0.5 * ((0.5 / g.sqrt(x)) / x),
   "sqrt'(0) = inf with numpy's warning", dscalar=lambda x: 0.5 / math.sqrt(x))
_u("cbrt", np.cbrt, None,
   lambda x: 1.0 / (3.0 * _square(g.cbrt(x))),
   # -2/9 x**(-5/3) written as (x / cbrt(x)**4) / cbrt(x)**4 (cbrt(x)**8 overflows
   # for x > 1e115): the one-sided limits at 0 differ (-inf and +inf), and this
   # form gives nan there, as reverse mode does
   lambda x: (-2.0 / 9.0) * ((x / _square(_square(g.cbrt(x)))) / _square(_square(g.cbrt(x)))),
   "cbrt'(0) = inf with numpy's warning; cbrt''(0) is nan (the two sides differ)")
_u("square", np.square, lambda x: x * x, lambda x: 2.0 * x, lambda x: _two_like(x))
_u("reciprocal", np.reciprocal, lambda x: 1.0 / x,
   lambda x: -_square(1.0 / x), lambda x: 2.0 * _cube(1.0 / x))
# --- sign-like ------------------------------------------------------------------
_u("negative", np.negative, lambda x: -x, lambda x: _one_like(x) * -1.0, _zero)
_u("positive", np.positive, lambda x: +x, lambda x: _one_like(x), _zero)
_u("absolute", np.absolute, abs, lambda x: g.sign(x), _zero,
   "abs'(0) = 0 (numpy's sign(0) = 0, as in JAX)")
_u("sign", np.sign, None, _zero, _zero, "derivative 0 everywhere, also at 0")
_u("floor", np.floor, None, _zero, _zero, "piecewise constant: derivative 0")
_u("ceil", np.ceil, None, _zero, _zero, "piecewise constant: derivative 0")
_u("trunc", np.trunc, None, _zero, _zero, "piecewise constant: derivative 0")
_u("rint", np.rint, None, _zero, _zero, "piecewise constant: derivative 0")
# --- scipy.special --------------------------------------------------------------
_u("erf", special.erf, math.erf,
   lambda x: (2.0 / _SQRT_PI) * _exp_minus_square(x),
   lambda x: (-4.0 / _SQRT_PI) * x * _exp_minus_square(x))
_u("erfc", special.erfc, math.erfc,
   lambda x: (-2.0 / _SQRT_PI) * _exp_minus_square(x),
   lambda x: (4.0 / _SQRT_PI) * x * _exp_minus_square(x))
# expit' = sech(x/2)**2 / 4, expit'' = -expit' tanh(x/2): s(1 - s) and 1 - 2s
# lose every digit for large |x| (expit'(40) = 4.2e-18)
_u("expit", special.expit, None,
   lambda x: 0.25 * g.sech2(0.5 * x),
   lambda x: -0.25 * (g.tanh(0.5 * x) * g.sech2(0.5 * x)))
# log_expit' = expit(-x) (not 1 - expit(x), 0 from x = 37 on), log_expit'' =
# -expit'(x) = -sech(x/2)**2 / 4; both to full relative precision at every x, and
# their own derivatives are expit's rules again
_u("log_expit", special.log_expit, None,
   lambda x: g.expit(-x),
   lambda x: -0.25 * g.sech2(0.5 * x))
# No math.lgamma fast path: it is up to ~1e-13 (relative) away from scipy's gammaln,
# so the scalar and array paths would disagree.
_u("gammaln", special.gammaln, None,
   lambda x: g.digamma(x), lambda x: g.polygamma1(x))
_u("digamma", special.psi, None,
   lambda x: g.polygamma1(x), lambda x: g.polygamma2(x))
_u("polygamma1", lambda x: _sp_polygamma(1, x), None,
   lambda x: g.polygamma2(x), lambda x: g.polygamma3(x))
_u("polygamma2", lambda x: _sp_polygamma(2, x), None,
   lambda x: g.polygamma3(x), lambda x: _polygamma(4, x))
# higher orders: the generic family of hyperdual._polygamma (any order)
_u("polygamma3", lambda x: _sp_polygamma(3, x), None,
   lambda x: _polygamma(4, x), lambda x: _polygamma(5, x))


def _one_like(x):
    return g.zeros_like_value(x) + 1.0


def _two_like(x):
    return g.zeros_like_value(x) + 2.0


def _polygamma(n, x):
    from ._polygamma import polygamma

    return polygamma(n, x)


# --- binary rules ---------------------------------------------------------------
def _add_partials(x, y, order, vx, vy):
    return {(1, 0): 1.0, (0, 1): 1.0, (2, 0): 0.0, (1, 1): 0.0, (0, 2): 0.0}


def _sub_partials(x, y, order, vx, vy):
    return {(1, 0): 1.0, (0, 1): -1.0, (2, 0): 0.0, (1, 1): 0.0, (0, 2): 0.0}


def _mul_partials(x, y, order, vx, vy):
    return {(1, 0): y, (0, 1): x, (2, 0): 0.0, (1, 1): 1.0, (0, 2): 0.0}


def _div_partials(x, y, order, vx, vy):
    r = 1.0 / y
    out = {(1, 0): r, (2, 0): 0.0}
    if vy:
        out[(0, 1)] = -(x * r) * r  # x/y first: x * r * r under/overflows sooner
    if order > 1 and vy:
        out[(1, 1)] = -r * r
        out[(0, 2)] = 2.0 * ((x * r) * r) * r
    return out


def _pow_partials(x, y, order, vx, vy):
    if vy or not g.is_constant(y):
        # The exponent carries a derivative (of this tag or an older one): the
        # partials are the family P_ij of hyperdual._powrule, each differentiable
        # by the next members, so no special case hides a dependence on y.
        from ._powrule import pow_partial as pp

        out = {}
        if vx:
            out[(1, 0)] = pp(1, 0, x, y)
            if order > 1:
                out[(2, 0)] = pp(2, 0, x, y)
        if vy:
            out[(0, 1)] = pp(0, 1, x, y)
            if order > 1:
                out[(0, 2)] = pp(0, 2, x, y)
                if vx:
                    out[(1, 1)] = pp(1, 1, x, y)
        return out
    out = {}
    pw = g.power  # numpy semantics on floats: 0.0**-1 is inf (with a warning), not an error
    if np.ndim(y) == 0:
        # n*x**(n-1) is nan at x = 0 for n = 0, and (n-1)*x**(n-2) for n = 1:
        # the exact derivatives there are 0, so those terms are not formed.
        # (y is a plain constant here, so y == 0 looks at the whole number.)
        from ._powrule import plain_power_is_precise, pow_partial

        # an exponent such as 0.3 or 1e-8 makes y - 1 inexact (|log x| amplifies
        # that) or x**(y - 2) overflow where y (y - 1) x**(y - 2) does not: the
        # power family handles those
        if y == 0:
            out[(1, 0)] = 0.0
        elif y == 1:
            out[(1, 0)] = _one_like(x)
        elif plain_power_is_precise(y, 1):
            out[(1, 0)] = y * pw(x, y - 1.0)
        else:
            out[(1, 0)] = pow_partial(1, 0, x, y)
        if order > 1:
            if y in (0, 1):
                out[(2, 0)] = 0.0
            elif plain_power_is_precise(y, 2):
                out[(2, 0)] = y * (y - 1.0) * pw(x, y - 2.0)
            else:
                out[(2, 0)] = pow_partial(2, 0, x, y)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            d1 = y * pw(x, y - 1.0)
            d2 = y * (y - 1.0) * pw(x, y - 2.0) if order > 1 else None
        out[(1, 0)] = g.where_value(y == 0, 0.0, d1)
        if order > 1:
            out[(2, 0)] = g.where_value((y == 0) | (y == 1), 0.0, d2)
    return out


def _unit_component(p, q, h):
    """p / hypot(p, q), for the unit vector of hypot and arctan2.

    On a nested number (a partial being differentiated again), the quotient's
    own derivative by p is 1/h - p**2/h**3 = q**2/h**3, formed as a difference
    that cancels to nothing where |q| << |p|: d2/dy2 hypot(1e-7, y) at 8 came
    out 0 (truth 2e-17).  There sign(p) / hypot(1, q/p) has the same value and
    its derivatives are products only.  Where |p| <= |q| the quotient is
    already free of cancellation (and q/p would be inf at p = 0)."""
    if g.is_constant(p) and g.is_constant(q):
        return p / h
    rp, rq = g.real_value(p), g.real_value(q)
    big = np.abs(rp) > np.abs(rq)
    if not np.any(big):
        return p / h
    with _fpe_ignored():
        ratio = g.where_value(big, q, 0.0) / g.where_value(big, p, 1.0)
        flat = np.sign(rp) / g.hypot(1.0, ratio)
    return flat if np.all(big) else g.where_value(big, flat, p / h)


def _unit_vector(a, b, h):
    return _unit_component(a, b, h), _unit_component(b, a, h)


def _arctan2_partials(a, b, order, vx, vy):
    # Everything in terms of the unit vector (a/h, b/h) and h = hypot(a, b):
    # a*a + b*b overflows at 1e154 and underflows at 1e-154, its square at 1e77.
    h = g.hypot(a, b)
    ua, ub = _unit_vector(a, b, h)
    out = {(1, 0): ub / h, (0, 1): -ua / h}
    if order > 1:
        out[(2, 0)] = -2.0 * (ua * ub) / h / h
        # (a**2 - b**2) / h**4 as (a - b)(a + b): no cancellation of the squares
        out[(1, 1)] = ((a - b) / h) * ((a + b) / h) / h / h
        out[(0, 2)] = 2.0 * (ua * ub) / h / h
    return out


def _hypot_partials(a, b, order, vx, vy):
    h = g.hypot(a, b)
    ua, ub = _unit_vector(a, b, h)
    out = {(1, 0): ua, (0, 1): ub}
    if order > 1:
        # b**2 / h**3 as (b/h)**2 / h: h**3 overflows once h > 6e102
        out[(2, 0)] = ub * ub / h
        out[(1, 1)] = -(ua * ub) / h
        out[(0, 2)] = ua * ua / h
    return out


def _max_partials(a, b, order, vx, vy):
    # Ties split the derivative evenly between the two arguments (as JAX does),
    # so maximum(x, x) has derivative 1 and clip is symmetric at its bounds.
    ra, rb = g.real_value(a), g.real_value(b)
    wa = g.select_value(ra > rb, 1.0, g.select_value(ra == rb, 0.5, 0.0))
    return {(1, 0): wa, (0, 1): 1.0 - wa, (2, 0): 0.0, (1, 1): 0.0, (0, 2): 0.0}


def _min_partials(a, b, order, vx, vy):
    ra, rb = g.real_value(a), g.real_value(b)
    wa = g.select_value(ra < rb, 1.0, g.select_value(ra == rb, 0.5, 0.0))
    return {(1, 0): wa, (0, 1): 1.0 - wa, (2, 0): 0.0, (1, 1): 0.0, (0, 2): 0.0}


def _xlogy_partials(x, y, order, vx, vy):
    out = {(1, 0): g.log(y), (2, 0): 0.0}
    if vy:
        out[(0, 1)] = x / y
    if order > 1:
        out[(1, 1)] = 1.0 / y
        out[(0, 2)] = -(x / y) / y  # y * y under/overflows first
    return out


_b("add", np.add, lambda x, y: x + y, _add_partials)
_b("subtract", np.subtract, lambda x, y: x - y, _sub_partials)
_b("multiply", np.multiply, lambda x, y: x * y, _mul_partials)
_b("true_divide", np.true_divide, lambda x, y: x / y, _div_partials)
_b("power", np.power, None, _pow_partials,
   "0**0 = 1; d/dx x**0 = 0 and d2/dx2 x**1 = 0 everywhere, also at 0; "
   "log x is taken as 0 at x = 0 in every derivative by y (so d/dy x**y = 0 there); "
   "nan for x < 0")
_b("arctan2", np.arctan2, math.atan2, _arctan2_partials, "undefined (nan) at (0, 0)")
_b("hypot", np.hypot, math.hypot, _hypot_partials, "undefined (nan) at (0, 0)")
_b("maximum", np.maximum, None, _max_partials, "ties: derivative split 0.5/0.5")
_b("minimum", np.minimum, None, _min_partials, "ties: derivative split 0.5/0.5")
_b("xlogy", special.xlogy, None, _xlogy_partials)

# --- elementwise leftovers (angles, remainders, sinc, scipy.special) ---------------
_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_HALF_SQRT_PI = 0.5 * _SQRT_PI


def _const_like(c):
    return lambda x: _one_like(x) * c


def _piecewise(x, small, near, far):
    """``near(x)`` where ``small(|real x|)`` holds, else ``far(x)`` (see :func:`_select`)."""
    if type(x) is float:
        return near(x) if small(abs(x)) else far(x)
    r = g.real_value(x)
    if type(r) is float:  # a scalar number (Taylor, nested Dual): no array detour
        return near(x) if small(abs(r)) else far(x)
    return _select(x, lambda r: small(np.abs(r)), near, far)


def _select(x, cond, near, far):
    """``near(x)`` where ``cond(real x)`` holds, else ``far(x)``.

    Each branch is evaluated only on the inputs it serves when x is a scalar
    (Python floats raise on 0/0); on arrays both are formed (warnings silenced)
    and selected elementwise.  Used where a closed form cancels (a series
    takes over) or divides by zero at a removable singularity.
    """
    if type(x) is float:
        return near(x) if cond(x) else far(x)
    return _select_branch(x, g.real_value(x), cond, near, far, g.where_value)


# sinc(x) = sin(t)/t with t = pi x.  d/dt: (t cos t - sin t)/t^2 and
# ((2 - t^2) sin t - 2 t cos t)/t^3 cancel for small t: a series (in u = t^2) there.
_SINC1 = [(-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(1, 14)]
_SINC2 = [(-1) ** k * 2 * k * (2 * k - 1) / math.factorial(2 * k + 1) for k in range(1, 14)]


def _sincos_pi(x):
    """sin(pi x) and cos(pi x) with x first reduced by an even integer (exactly), so
    that large x does not lose the ulps of pi*x's rounding in the trigonometric part."""
    k = np.round(g.real_value(x) * 0.5) * 2.0  # (no np.asarray: dask stays lazy)
    k = float(k) if np.ndim(k) == 0 else k
    t = math.pi * (x - k)
    return g.sin(t), g.cos(t)


def _sinc_d1(x):
    t = math.pi * x

    def far(x):
        s, c = _sincos_pi(x)
        return (c - s / t) / t  # not (t c - s) / t**2: t**2 overflows from |x| = 1e154

    return math.pi * _piecewise(x, lambda a: a < 1.0 / math.pi,
                                lambda x: t * _horner(t * t, _SINC1), far)


def _sinc_d2(x):
    t = math.pi * x

    def far(x):
        s, c = _sincos_pi(x)
        # ((2 - t^2) s - 2 t c) / t^3 without the overflowing powers of t
        return (2.0 * (s / t - c) / t - s) / t

    return (math.pi * math.pi) * _piecewise(x, lambda a: a < 1.0 / math.pi,
                                            lambda x: _horner(t * t, _SINC2), far)


# erfcx(z) = 1/(sqrt(pi) T0) with T_k = z + ((k+1)/2)/T_{k+1} (Laplace's continued
# fraction); then erfcx' = -1/(sqrt(pi) T0 T1) and erfcx'' = 2/(sqrt(pi) T0 T1 T2)
# exactly, where the closed forms 2z erfcx - 2/sqrt(pi) ... cancel (z >= 2); Taylor
# tables between 0.5 and 2 (_exactdiff.special), the closed forms below 0.5.
_ERFCX_CF = 80


def _erfcx_tails(z):
    t = z
    tails = []
    for k in range(_ERFCX_CF, -1, -1):
        t = z + (0.5 * (k + 1)) / t
        if k <= 2:
            tails.append(t)
    return tails[2], tails[1], tails[0]  # T0, T1, T2


def _erfcx_d1(x):
    def far(z):
        t0, t1, _ = _erfcx_tails(z)
        return -1.0 / (_SQRT_PI * t0 * t1)

    return _select(x, lambda r: r < 2.0, lambda x: _select(
        x, lambda r: r < 0.5, lambda x: 2.0 * x * g.erfcx(x) - 2.0 / _SQRT_PI,
        lambda x: erfcx_derivative_mid(1, x)), far)


def _erfcx_d2(x):
    def far(z):
        t0, t1, t2 = _erfcx_tails(z)
        return 2.0 / (_SQRT_PI * t0 * t1 * t2)

    return _select(x, lambda r: r < 2.0, lambda x: _select(
        x, lambda r: r < 0.5, lambda x: (2.0 + 4.0 * x * x) * g.erfcx(x) - 4.0 * x / _SQRT_PI,
        lambda x: erfcx_derivative_mid(2, x)), far)


def _exp_sq_via_erfcx(y, q):
    """exp(y**2) written as erfcx(|y|) / q, where q = erfc(|y|) is known exactly.

    exp(y*y) loses y**2 ulps for large |y| (the rounding of y*y is magnified);
    erfcx is accurate everywhere, so the inverse functions' derivatives keep
    full precision out to their domain's edges.
    """
    return g.erfcx(g.absolute(y)) / q


def _erfinv_d1(x):
    y = g.erfinv(x)
    return _HALF_SQRT_PI * _exp_sq_via_erfcx(y, 1.0 - g.absolute(x))


def _erfcinv_d1(x):
    y = g.erfcinv(x)
    q = g.where_value(g.real_value(x) <= 1.0, x, 2.0 - x)  # erfc(|y|), exact
    return -_HALF_SQRT_PI * _exp_sq_via_erfcx(y, q)


def _ndtri_d1(p):
    # 1/phi(y) with phi(y) = q * sqrt(2/pi) / erfcx(|y|/sqrt2), q = ndtr(-|y|) exactly
    y = g.ndtri(p)
    q = g.where_value(g.real_value(p) <= 0.5, p, 1.0 - p)
    return g.erfcx(g.absolute(y) / _SQRT_2) / (_SQRT_2_OVER_PI * q)


def _log_ndtr_h(x):
    # phi(x)/Phi(x) = sqrt(2/pi) / erfcx(-x/sqrt2): no underflow, no cancellation
    return _SQRT_2_OVER_PI / g.erfcx(-x / _SQRT_2)


def _log_ndtr_d1(x):
    # a rule of its own (g.log_ndtr_d1): differentiating the erfcx formula overflows
    # from x = 26.6 on (erfcx(-x/sqrt2)**2 = inf): third derivatives were wrong there
    return g.log_ndtr_d1(x)


# x + phi(x)/Phi(x) for x << 0: the continued fraction 1/(u + 2/(u + 3/(u + ...)))
# with u = -x (from the Mills ratio's); the direct sum cancels about u**2 ulps there.
_LOG_NDTR_CF = 60


def _log_ndtr_x_plus_h(x):
    def cf(x):
        u = -x
        t = u
        for k in range(_LOG_NDTR_CF, 1, -1):
            t = u + k / t
        return 1.0 / t

    return _log_ndtr_branch(x, cf)


def _log_ndtr_branch(x, cf):
    return _select(x, lambda r: r < -4.0, cf, lambda x: x + _log_ndtr_d1(x))


# i1(x)/x and its derivative (x i0 - 2 i1)/x^2: series near 0 (0/0 and cancellation)
_I1X = [1.0 / (2.0 * 4.0 ** k * math.factorial(k) * math.factorial(k + 1)) for k in range(16)]
_I1X_D = [(k + 1) / (4.0 ** (k + 1) * math.factorial(k + 1) * math.factorial(k + 2))
          for k in range(16)]


def _i1_over_x(x):
    return _piecewise(x, lambda a: a < 1.0, lambda x: _horner(x * x, _I1X),
                      lambda x: g.i1(x) / x)


def _i1_over_x_d(x):
    return _piecewise(x, lambda a: a < 2.0, lambda x: x * _horner(x * x, _I1X_D),
                      lambda x: (x * g.i0(x) - 2.0 * g.i1(x)) / (x * x))


def _i1e_over_x(x):
    return _piecewise(x, lambda a: a < 1.0,
                      lambda x: _horner(x * x, _I1X) * g.exp(-g.absolute(x)),
                      lambda x: g.i1e(x) / x)


def _i1e_over_x_d(x):  # e^{-|x|} d/dx(i1(x)/x)
    return _piecewise(x, lambda a: a < 2.0,
                      lambda x: x * _horner(x * x, _I1X_D) * g.exp(-g.absolute(x)),
                      lambda x: (x * g.i0e(x) - 2.0 * g.i1e(x)) / (x * x))



# For |x| >= 20 the closed forms of i0e', i1e' ... cancel (i1e - i0e ~ i0e / 2x):
# differentiate the asymptotic series e^{-x} I_nu(x) ~ sum_k b_k x^{-k-1/2} termwise
# (40 terms reach 1e-17 there).
_ASYM_X = 20.0


def _asym_deriv(nu, n, x):
    """n-th derivative of e^{-x} I_nu(x) for x >= 20 from the series (x > 0)."""
    coefs = scaled_bessel_asymptotic_coefs(nu, n)
    return _horner(1.0 / x, coefs) * g.power(x, -(0.5 + n))


def _scaled_bessel(nu, n, closed):
    """e^{-|x|} I_nu's n-th derivative: closed form below 20, series beyond; the
    symmetry (i0e even, i1e odd) gives x < 0."""
    def mid(x):  # 0 < |x| < 20: Kummer series (the closed forms cancel); x = 0: closed
        return _select(x, lambda r: r == 0, closed,
                       lambda x: scaled_bessel_derivative_mid(nu, n, x))

    def rule(x):
        def far(x):
            s = g.sign(g.real_value(x))
            v = _asym_deriv(nu, n, g.absolute(x))
            return v * s if (nu + n) % 2 else v
        return _piecewise(x, lambda a: a < _ASYM_X, mid, far)
    return rule


_u("fabs", np.fabs, math.fabs, lambda x: g.sign(x), _zero,
   "fabs'(0) = 0 (as abs)")
_u("deg2rad", np.deg2rad, None, _const_like(math.pi / 180.0), _zero)
_u("radians", np.radians, None, _const_like(math.pi / 180.0), _zero)
_u("rad2deg", np.rad2deg, None, _const_like(180.0 / math.pi), _zero)
_u("degrees", np.degrees, None, _const_like(180.0 / math.pi), _zero)
_u("sinc", np.sinc, None, _sinc_d1, _sinc_d2,
   "normalised sinc sin(pi x)/(pi x); a series near 0 keeps f', f'' precise there")
_u("gamma", special.gamma, None,
   lambda x: g.gamma(x) * g.digamma(x),
   lambda x: g.gamma(x) * (g.digamma(x) ** 2 + g.polygamma1(x)),
   "inf/nan at the poles 0, -1, -2, ...")
_u("loggamma", special.loggamma, None,
   lambda x: g.digamma(x), lambda x: g.polygamma1(x), "real loggamma: nan below 0")
# f' of the inverse functions is a private rule of its own (g.erfinv_d1 ...): its
# formula through erfcx(|y|) / (1 - |x|) differentiated by the chain rule cancels
# (erfinv'' near 0 came out as 1e-16 instead of 1e-300); its own rule, from
# f'' = c y f'^2, does not.
_u("erfinv", special.erfinv, None, lambda x: g.erfinv_d1(x),
   lambda x: 2.0 * g.erfinv(x) * g.erfinv_d1(x) ** 2, "inf at +-1")
_u("erfcinv", special.erfcinv, None, lambda x: g.erfcinv_d1(x),
   lambda x: 2.0 * g.erfcinv(x) * g.erfcinv_d1(x) ** 2, "inf at 0 and 2")
_u("erfcx", special.erfcx, None, _erfcx_d1, _erfcx_d2,
   "continued fractions for x >= 2, where 2x erfcx(x) - 2/sqrt(pi) would cancel")
_u("ndtr", special.ndtr, None,
   lambda x: g.exp(-0.5 * x * x) / _SQRT_2PI,
   lambda x: -x * g.exp(-0.5 * x * x) / _SQRT_2PI)
def _log_ndtr_d2(x):
    # -h (x + h) with h = phi/Phi cancels in x + h for x < 0 (10 ulps at x = -1); with
    # u = -x/sqrt2 it is erfcx'(u) / (sqrt(pi) erfcx(u)^2), erfcx' precise everywhere
    # for -4 <= x < 0; below -4 x + h is its continued fraction again (no cancellation;
    # erfcx(u)**2 underflows from x = -1e154 on, where log_ndtr'' is -1)
    def neg(x):
        u = x * (-1.0 / _SQRT_2)
        e = g.erfcx(u)
        return _erfcx_d1(u) / (_SQRT_PI * e * e)

    def h_times_gap(x):
        return -_log_ndtr_d1(x) * _log_ndtr_x_plus_h(x)

    return _select(x, lambda r: (r < 0.0) & (r >= -4.0), neg, h_times_gap)


def _log_ndtr_d3(x):
    # h'' for h = phi/Phi: the continued fraction below -4, the Taylor tables of
    # _exactdiff.special on [-4, 2) (the closed forms cancel there: ~40 ulps), then
    # h ((x + h)(x + 2h) - 1) (the bracket is >= 3), and beyond 9 (h < 1e-17, so
    # Phi = 1 and the bracket is x**2 - 1 to below 1e-18) phi(x) (x**2 - 1) with
    # exp(-x**2/2) split so that no factor underflows where h'' is normal (h is
    # subnormal from x = 37.5 on, h'' normal up to 37.7) and x**2/2 not rounded (h
    # through erfcx(-x/sqrt2) carries x**2 times the rounding of x/sqrt2)
    def far(x):
        # x << 0: the bracket is 2/x^4 + ...; from the continued fraction of x + h =
        # 1/T2 (T_k = u + k/T_(k+1), u = -x) it is 2 (u + 9/T4 - 8/T5) / (T2^2 T3^2 T4)
        u = -x
        t = u
        ts = {}
        for k in range(_LOG_NDTR_CF, 1, -1):
            t = u + k / t
            if k <= 5:
                ts[k] = t
        t2, t3, t4, t5 = ts[2], ts[3], ts[4], ts[5]
        # h q by factors near 1 and then divisions (T2**2 T3**2 overflows from u = 1e77)
        n = u + 9.0 / t4 - 8.0 / t5
        return (((2.0 * (g.log_ndtr_d1(x) / t2) * (n / t4)) / t2) / t3) / t3

    def pos(x):
        h = g.log_ndtr_d1(x)
        p = x + h
        return h * (p * (p + h) - 1.0)

    def mid(x):
        return _select(x, lambda r: r < 2.0, lambda x: log_ndtr_h_derivative_mid(2, x), pos)

    def tail(x):
        with _fpe_ignored():  # (x * x overflows from 1e154: _gauss_tail's 0 then)
            t = x * x - 1.0
        return _gauss_tail(x, t)

    return _select(x, lambda r: r < -4.0, far, lambda x: _select(
        x, lambda r: r <= 9.0, mid, tail))


def _log_ndtr_d4(x):
    # the third derivative of h: h (B' - p B) with p = x + h, B = p (p + h) - 1 (the
    # bracket of h'') and B' = (1 - h p)(p + h) + p (1 - 2 h p) (h' = -h p): below -4
    # the same from the continued fraction of _log_ndtr_d3's far branch,
    # differentiated along its recurrence (p B cancels there); the Taylor tables on
    # [-4, 2); beyond 9 phi(x) (3x - x**3) (phi's third derivative: h = phi to 1e-17)
    def far(x):
        u = -x
        t, dt = u, 1.0  # T_k and dT_k/du
        ts = {}
        for k in range(_LOG_NDTR_CF, 1, -1):
            dt = 1.0 - (k / t) * (dt / t)
            t = u + k / t
            if k <= 5:
                ts[k] = (t, dt)
        (t2, d2), (t3, d3), (t4, d4), (t5, d5) = ts[2], ts[3], ts[4], ts[5]
        n = u + 9.0 / t4 - 8.0 / t5
        dn = 1.0 - (9.0 / t4) * (d4 / t4) + (8.0 / t5) * (d5 / t5)
        hq = (((2.0 * (g.log_ndtr_d1(x) / t2) * (n / t4)) / t2) / t3) / t3  # h q, as h''
        # d/dx = -d/du; the result is h (dq/dx - p q) with p = x + h = 1/T2, and
        # dq/du = q (dn/n - 2 dT2/T2 - 2 dT3/T3 - dT4/T4)
        return hq * ((2.0 * d2 / t2 + 2.0 * d3 / t3 + d4 / t4) - dn / n - 1.0 / t2)

    def pos(x):
        h = g.log_ndtr_d1(x)
        p = x + h
        hp = h * p
        b = p * (p + h) - 1.0
        db = (1.0 - hp) * (p + h) + p * (1.0 - 2.0 * hp)
        return h * (db - p * b)

    def mid(x):
        return _select(x, lambda r: r < 2.0, lambda x: log_ndtr_h_derivative_mid(3, x), pos)

    return _select(x, lambda r: r < -4.0, far, lambda x: _select(
        x, lambda r: r <= 9.0, mid, lambda x: _gauss_tail(x, x * (3.0 - x * x))))


def _gauss_tail(x, t):
    """phi(x) t for x > 9 (phi = exp(-x**2/2)/sqrt(2 pi)): with x = hi + lo (hi of 26
    bits), exp(-hi**2/4) [exp(-hi**2/4) exp(-(2 hi + lo) lo / 2) t / sqrt(2 pi)]:
    each factor normal while the product is (exp(-x**2/2) alone is subnormal from
    x = 37.5 on), and hi**2/4 exact."""
    r = g.real_value(x)
    hi = _split_hi(r)
    if not isinstance(r, np.ndarray) and not _is_foreign(r):
        hi = float(hi)
    lo = x - hi
    with np.errstate(invalid="ignore", under="ignore"):
        a = g.exp(-0.25 * (hi * hi))
        out = a * ((a * g.exp(-0.5 * ((2.0 * hi + lo) * lo))) * (t / _SQRT_2PI))
    # where exp(-x**2/4) is 0 (x >= 54) phi(x) t is 0 to every order, also where t
    # (a polynomial in x) overflowed: 0 * inf was nan (log_ndtr's third derivative
    # at 1e200)
    ra = g.real_value(a)
    if not _is_foreign(ra):
        zero = np.asarray(ra) == 0
        if zero.any():
            return g.where_value(zero, x * 0.0, out)
    return out


_u("log_ndtr", special.log_ndtr, None, _log_ndtr_d1, lambda x: g.log_ndtr_d2(x),
   "f' = phi/Phi through erfcx (no underflow for x << 0)")
_u("ndtri", special.ndtri, None, lambda p: g.ndtri_d1(p),
   lambda p: g.ndtri(p) * g.ndtri_d1(p) ** 2, "inf at 0 and 1")
_u("i0", special.i0, None, lambda x: g.i1(x), lambda x: g.i0(x) - _i1_over_x(x))
_u("i1", special.i1, None,
   lambda x: g.i0(x) - _i1_over_x(x),
   lambda x: g.i1(x) - _i1_over_x_d(x))
_u("i0e", special.i0e, None,
   _scaled_bessel(0, 1, lambda x: g.i1e(x) - g.sign(x) * g.i0e(x)),
   _scaled_bessel(0, 2, lambda x: 2.0 * g.i0e(x) - _i1e_over_x(x)
                  - 2.0 * g.sign(x) * g.i1e(x)),
   "i0e'(0) = 0 (the kink of exp(-abs(x)) contributes sign(0) = 0)")
_u("i1e", special.i1e, None,
   _scaled_bessel(1, 1, lambda x: g.i0e(x) - _i1e_over_x(x) - g.sign(x) * g.i1e(x)),
   _scaled_bessel(1, 2, lambda x: (g.i1e(x) - _i1e_over_x_d(x)
                                   - 2.0 * g.sign(x) * (g.i0e(x) - _i1e_over_x(x))
                                   + g.i1e(x))))
_u("entr", special.entr, None,
   lambda x: -(g.log(x) + 1.0), lambda x: -1.0 / x, "entr'(0) = inf")
_u("logit", special.logit, None,
   lambda p: 1.0 / (p * (1.0 - p)),
   lambda p: (2.0 * p - 1.0) / (p * (1.0 - p)) ** 2)


# --- binary leftovers ---------------------------------------------------------------
def _real_pair(x, y):
    return g.real_value(x), g.real_value(y)


def _remainder_partials(x, y, order, vx, vy):
    # x mod y = x - q y with q = floor_divide(x, y) piecewise constant
    rx, ry = _real_pair(x, y)
    with _fpe_ignored():
        q = np.floor_divide(rx, ry)
    return {(1, 0): 1.0, (0, 1): -q, (2, 0): 0.0, (1, 1): 0.0, (0, 2): 0.0}


def _fmod_partials(x, y, order, vx, vy):
    rx, ry = _real_pair(x, y)
    with _fpe_ignored():
        q = np.round((rx - np.fmod(rx, ry)) / ry)  # the truncated quotient, exactly
    return {(1, 0): 1.0, (0, 1): -q, (2, 0): 0.0, (1, 1): 0.0, (0, 2): 0.0}


def _flat_partials(x, y, order, vx, vy):
    return {(1, 0): 0.0, (0, 1): 0.0, (2, 0): 0.0, (1, 1): 0.0, (0, 2): 0.0}


def _heaviside_partials(x, y, order, vx, vy):
    rx = g.real_value(x)
    return {(1, 0): 0.0, (0, 1): g.select_value(rx == 0, 1.0, 0.0),
            (2, 0): 0.0, (1, 1): 0.0, (0, 2): 0.0}


def _copysign_partials(x, y, order, vx, vy):
    rx, ry = _real_pair(x, y)
    s = np.sign(rx)
    d = s * np.copysign(np.ones_like(s), ry)  # in x's dtype (a float32 x stays float32)
    d = float(d) if np.ndim(d) == 0 else d
    return {(1, 0): d, (0, 1): 0.0, (2, 0): 0.0, (1, 1): 0.0, (0, 2): 0.0}


def _logaddexp_partials(a, b, order, vx, vy, scale=1.0):
    # d/da log(e^a + e^b) = expit(a - b): never 0/0, never overflows; where a and b are
    # the same infinity, a - b is NaN: the partials there are those of every a == b,
    # 1/2 each (the fold np.logaddexp.reduce of [-inf, -inf, 1] had a NaN gradient)
    ra, rb = g.real_value(a), g.real_value(b)
    # (lazy (dask) data: as before, asking np.any would compute it)
    same = False if _is_foreign(ra) or _is_foreign(rb) else \
        np.isinf(ra) & (ra == rb)
    if np.any(same):
        with np.errstate(invalid="ignore"):
            d = g.where_value(same, 0.0, a - b)
        d = d * scale if scale != 1.0 else d
    else:
        d = (a - b) * scale if scale != 1.0 else a - b
    s, t = g.expit(d), g.expit(-d)
    out = {(1, 0): s, (0, 1): t}
    if order > 1:
        # (0 where a, b are the same infinity: d is the constant 0 there, as reverse
        # mode's differentiated partials have it)
        st = scale * s * t
        st = g.where_value(same, 0.0, st) if np.any(same) else st
        out[(2, 0)] = st
        out[(1, 1)] = -st
        out[(0, 2)] = st
    return out


def _logaddexp2_partials(a, b, order, vx, vy):
    return _logaddexp_partials(a, b, order, vx, vy, scale=_LN2)


def _xlog1py_partials(x, y, order, vx, vy):
    out = {(1, 0): g.log1p(y), (2, 0): 0.0}
    if vy:
        out[(0, 1)] = x / (1.0 + y)
    if order > 1:
        out[(1, 1)] = 1.0 / (1.0 + y)
        out[(0, 2)] = -x / (1.0 + y) / (1.0 + y)  # (1 + y)**2 overflows from 1e154
    return out


def _pseudo_huber_partials(d, r, order, vx, vy):
    # scale-free forms of q = r/d (_exactdiff.elementwise): as a composition its
    # Hessian at d = r = 1e200 divided by d**3 and lost the d-d entry
    from _exactdiff import elementwise as _e

    with _fpe_ignored():
        dd, dr = _e.pseudo_huber_first(d, r)
        out = {(1, 0): dd, (0, 1): dr}
        if order > 1:
            out[(2, 0)], out[(1, 1)], out[(0, 2)] = _e.pseudo_huber_second(d, r)
    return out


def _log_ratio(x, y):
    """log(x / y), through log1p((x - y) / y) when x is close to y (no cancellation)
    and as log(x) - log(y) where x / y leaves the normal range (log(x / y) was -inf
    at x = 5e-324, y = 1e10; the truth -767): ``_exactdiff.special.log_ratio_branches``."""
    rx, ry = _real_pair(x, y)
    near, split = _log_ratio_branches(rx, ry)
    if np.ndim(near) == 0 and np.ndim(split) == 0:
        if bool(near):
            return g.log1p((x - y) / y)
        return g.log(x) - g.log(y) if bool(split) else g.log(x / y)
    with _fpe_ignored():
        a, b = g.log1p((x - y) / y), g.log(x / y)
        out = g.where_value(near, a, b)
        if _may_hold(split):
            out = g.where_value(split, g.log(x) - g.log(y), out)
    return out


def _rel_entr_partials(x, y, order, vx, vy):
    out = {(1, 0): _log_ratio(x, y) + 1.0}
    if vy:
        out[(0, 1)] = -x / y
    if order > 1:
        out[(2, 0)] = 1.0 / x
        out[(1, 1)] = -1.0 / y
        out[(0, 2)] = x / y / y  # not x / (y * y): y * y under/overflows from 1e154
    return out


def _one_minus_ratio(x, y):
    """1 - x / y: as (y - x) / y where x is close to y (no cancellation), else as
    1 - x / y.  On Taylor series (the ODE trick differentiates this partial) the
    quotient (y - x) / y divides the cancelling y_1 - (y_1 q_0) by a tiny y_0 when
    x << y: d2/dv2 kl_div(v**2, v) at v = 1.7e-50 came out 1 too large."""
    rx, ry = _real_pair(x, y)
    with _fpe_ignored():
        near = np.abs(_plain_array(rx) - ry) < 0.5 * np.abs(ry)
    if np.ndim(near) == 0:
        return (y - x) / y if bool(near) else 1.0 - x / y
    with _fpe_ignored():
        a, b = (y - x) / y, 1.0 - x / y
    return g.where_value(near, a, b)


def _kl_div_partials(x, y, order, vx, vy):
    out = {(1, 0): _log_ratio(x, y)}
    if vy:
        out[(0, 1)] = _one_minus_ratio(x, y)
    if order > 1:
        out[(2, 0)] = 1.0 / x
        out[(1, 1)] = -1.0 / y
        out[(0, 2)] = x / y / y  # not x / (y * y): y * y under/overflows from 1e154
    return out


def _psi_gap(a, b):
    return g.digamma(a) - g.digamma(a + b)


def _psi1_gap(a, b):
    return g.polygamma1(a) - g.polygamma1(a + b)


def _betaln_partials(a, b, order, vx, vy, scale=None):
    # psi(a) - psi(a + b) cancels when |b| << a: _exactdiff.special forms it from b
    da, db = psi_difference(a, b, 0, _psi_gap), psi_difference(b, a, 0, _psi_gap)
    out = {(1, 0): da, (0, 1): db}
    if order > 1:
        out[(2, 0)] = psi_difference(a, b, 1, _psi1_gap)
        out[(1, 1)] = -g.polygamma1(a + b)
        out[(0, 2)] = psi_difference(b, a, 1, _psi1_gap)
    return out


def _beta_partials(a, b, order, vx, vy):
    # B (log B)' and B ((log B)'' + (log B)'^2); the mixed one cancels where an
    # argument is small: _exactdiff.special forms the second partials without it
    if not is_plain(a, b) and (getattr(a, "_NPARTS", 0) or getattr(b, "_NPARTS", 0)):
        # nested Duals: beta_da is a rule of its own (precise tangents)
        out = {(1, 0): g.beta_da(a, b), (0, 1): g.beta_da(b, a)}
        if order > 1:
            out.update(_beta_d2_formula(a, b))
        return out
    lp = _betaln_partials(a, b, 1, vx, vy)
    bv = g.beta(a, b)
    out = {(1, 0): bv * lp[(1, 0)], (0, 1): bv * lp[(0, 1)]}
    if order > 1:  # the formulas on Taylor numbers and lazy arrays
        if is_plain(a, b):
            out[(2, 0)], out[(1, 1)], out[(0, 2)] = beta_second_partials(a, b)
        else:
            out.update(_beta_d2_formula(a, b))
    return out


def _beta_d2_formula(a, b):
    """beta's second partials as formulas (engine values: differentiable)."""
    lp = _betaln_partials(a, b, 2, True, True)
    bv = g.beta(a, b)
    da, db = lp[(1, 0)], lp[(0, 1)]
    return {(2, 0): bv * (lp[(2, 0)] + da * da), (1, 1): bv * (lp[(1, 1)] + da * db),
            (0, 2): bv * (lp[(0, 2)] + db * db)}


def _beta_da(a, b):
    """d beta(a, b) / da on plain values."""
    return special.beta(a, b) * psi_difference(a, b, 0, _psi_gap)


def _beta_da_partials(a, b, order, vx, vy):
    # the partials of d beta / da: B_aa, B_ab (precise on plain values) and, for
    # third derivatives, B (L_aaa + 3 L_a L_aa + L_a^3) and its mixed kin
    if is_plain(a, b):
        baa, bab, _ = beta_second_partials(a, b)
        out = {(1, 0): baa, (0, 1): bab}
    else:
        d2 = _beta_d2_formula(a, b)
        out = {(1, 0): d2[(2, 0)], (0, 1): d2[(1, 1)]}
    if order > 1:
        bv = g.beta(a, b)
        la, lb = psi_difference(a, b, 0, _psi_gap), psi_difference(b, a, 0, _psi_gap)
        laa, lbb = psi_difference(a, b, 1, _psi1_gap), psi_difference(b, a, 1, _psi1_gap)
        lab = -g.polygamma1(a + b)
        l3 = -g.polygamma2(a + b)
        laaa = g.polygamma2(a) + l3
        out[(2, 0)] = bv * (laaa + 3.0 * la * laa + la * la * la)
        out[(1, 1)] = bv * (l3 + laa * lb + 2.0 * la * lab + la * la * lb)
        out[(0, 2)] = bv * (l3 + la * lbb + 2.0 * lb * lab + la * lb * lb)
    return out


_b("remainder", np.remainder, None, _remainder_partials,
   "d/dy = -floor(x/y); jumps where x/y crosses an integer (derivative there: the right side)")
_b("fmod", np.fmod, None, _fmod_partials, "d/dy = -trunc(x/y)")
_b("floor_divide", np.floor_divide, None, _flat_partials, "piecewise constant: derivative 0")
_b("heaviside", np.heaviside, None, _heaviside_partials,
   "derivative 0 in x (also at 0); 1 in h0 where x == 0")
_b("copysign", np.copysign, None, _copysign_partials,
   "d/dx = sign(x) sign(y) (0 at x = 0, as abs); d/dy = 0")
def _to_float64(v):
    if type(v) is np.ndarray or isinstance(v, np.floating):
        return v.astype(np.float64) if v.dtype.itemsize < 8 else v
    if g._is_number(v) and v.dtype.itemsize < 8:
        return v.astype(np.float64)  # a nested number of float32 parts
    return v


def _float_power_partials(x, y, order, vx, vy):
    # numpy's float_power computes in float64 (float32 in, float64 out): so do its
    # derivatives (the parts of a Dual follow its value's dtype)
    return _pow_partials(_to_float64(x), _to_float64(y), order, vx, vy)


_b("float_power", np.float_power, None, _float_power_partials, "as power, in float64")
_b("logaddexp", np.logaddexp, None, _logaddexp_partials)
_b("logaddexp2", np.logaddexp2, None, _logaddexp2_partials)
_b("xlog1py", special.xlog1py, None, _xlog1py_partials)
_b("pseudo_huber", special.pseudo_huber, None, _pseudo_huber_partials)
_b("rel_entr", special.rel_entr, None, _rel_entr_partials)
_b("kl_div", special.kl_div, None, _kl_div_partials)
_b("beta", special.beta, None, _beta_partials,
   "d/da = B (psi(a) - psi(a+b)), the psi difference formed without cancellation; "
   "next to a zero (a + b near 0, -1, ...) the product Gamma(a) Gamma(b) rgamma(a + b)")
_b("betaln", special.betaln, None, _betaln_partials,
   "d/da = psi(a) - psi(a+b), formed without cancellation when abs(b) << a")

# --- private rules: derivatives of public rules, reached as g.<name> only -------------
PRIVATE: dict[str, Unary] = {}
PRIVATE_BINARY: dict[str, Binary] = {
    "beta_da": Binary("beta_da", _beta_da, None, _beta_da_partials, "d beta / da"),
}


def _sech2_array(x):
    """sech(x)**2 = 4 t / (1 + t)**2 with t = exp(-2|x|): no cancellation and no
    overflow (cosh(x)**2 overflows from 355 on); within ~4 ulps."""
    t = np.exp(np.where(x >= 0, -2.0 * x, 2.0 * x))  # (x's dtype: float32 stays)
    return 4.0 * t / ((1.0 + t) * (1.0 + t))


def _sech2_float(x):
    t = math.exp(-2.0 * abs(x))
    return 4.0 * t / ((1.0 + t) * (1.0 + t))


def _sech2_d1(x):
    return -2.0 * g.tanh(x) * g.sech2(x)


def _sech2_d2(x):
    # 2 sech2 (2 tanh**2 - sech2): cancels only where the true value is 0 (x = 0.66)
    return 2.0 * g.sech2(x) * (2.0 * g.tanh(x) * g.tanh(x) - g.sech2(x))


PRIVATE["sech2"] = Unary("sech2", _sech2_array, _sech2_float, _sech2_d1, _sech2_d2,
                         "sech(x)**2, the derivative of tanh", _sech2_d1, _sech2_d2)



def _inverse_d1_rule(name, inverse, d1, c):
    """f' of an inverse function y(x) with f'' = c y f'^2 as a rule of its own:
    (f')' = c y f'^2 and (f')'' = c f'^3 (1 + 2 c y^2), exact compositions."""
    def df(x):
        return c * getattr(g, inverse)(x) * getattr(g, name)(x) ** 2

    def d2f(x):
        y = getattr(g, inverse)(x)
        return c * getattr(g, name)(x) ** 3 * (1.0 + 2.0 * c * y * y)

    # scaled products (see Unary.s1): f'**2 and f'**3 overflow near the poles where
    # the products with the tangents do not (erfcinv'' at 1e-200)
    def s1(x, a):
        f1 = getattr(g, name)(x)
        return (c * getattr(g, inverse)(x)) * (f1 * (f1 * a))

    def s2(x, a, b):
        y = getattr(g, inverse)(x)
        f1 = getattr(g, name)(x)
        return (c * (f1 * (1.0 + 2.0 * c * y * y))) * ((f1 * a) * (f1 * b))

    PRIVATE[name] = Unary(name, d1, None, df, d2f, f"the derivative of {inverse}", df, d2f,
                          s1=s1, s2=s2)


def _log_ndtr_h1(x):
    # h' as a rule of its own (g.log_ndtr_d2): nested numbers differentiate it by the
    # precise h'' instead of through its formulas (the erfcx form cancels below 0,
    # -h (x + h) underflows beyond 37.5: third derivatives by nesting were 0 at
    # 37.7 and wrong at -1e8)
    return g.log_ndtr_d2(x)


PRIVATE["log_ndtr_d1"] = Unary("log_ndtr_d1", _log_ndtr_h, None, _log_ndtr_h1, _log_ndtr_d3,
                               "the derivative of log_ndtr", _log_ndtr_h1, _log_ndtr_d3)
PRIVATE["log_ndtr_d2"] = Unary("log_ndtr_d2", _log_ndtr_d2, None, _log_ndtr_d3, _log_ndtr_d4,
                               "the second derivative of log_ndtr", _log_ndtr_d3,
                               _log_ndtr_d4)
_inverse_d1_rule("erfinv_d1", "erfinv", _erfinv_d1, 2.0)
_inverse_d1_rule("erfcinv_d1", "erfcinv", _erfcinv_d1, 2.0)
_inverse_d1_rule("ndtri_d1", "ndtri", _ndtri_d1, 1.0)

def _one_minus_square(x):
    """(1 - x)(1 + x), the radicand of arcsin'/arccos' and the divisor of arctanh'.

    On floats and arrays the factored form (no cancellation near abs(x) = 1).  On a
    number (Dual, HyperDual, Taylor) the parts of the factored form cancel near
    x = 0 (the first part is (1 + x) a - (1 - x) a, 0 where 1 - x rounds to 1), which
    the Taylor rules differentiate further: there ``1 - x*x`` (parts -2 x a, no
    cancellation) with its value corrected by the float difference of the two forms.
    """
    if type(x) is float or type(x) is np.ndarray or isinstance(x, np.generic):
        return (1.0 - x) * (1.0 + x)
    r = g.real_value(x)
    if type(r) is float:
        return (1.0 - x * x) + ((1.0 - r) * (1.0 + r) - (1.0 - r * r))
    with _fpe_ignored():
        fix = (1.0 - r) * (1.0 + r) - (1.0 - r * r)
    return (1.0 - x * x) + fix


# --- scaled chain-rule products ------------------------------------------------------
# The chain rule forms f'(u) a and f''(u) a b + f'(u) c (a, b, c the parts of u).
# For a power-law tail f''(u) ~ u**p leaves the float range long before the
# product does (log''(4e198) = -6e-398 underflows to -0, while
# log''(4e198) (4e99)**2 = -1e-198): each rule below forms the products from
# ratios such as a/u, which stay ordinary floats as long as a and u do.  Rules
# with exponential tails form exp(e) t as exp(e + log abs(t)) sign(t) where exp(e)
# alone leaves the range.
_EXP_LO, _EXP_HI = -700.0, 700.0


def _plain_data(*vs) -> bool:
    return all(type(v) is float or type(v) is np.float64 or type(v) is np.ndarray
               for v in vs)


# ln 2 in two parts (fdlibm's): k * _LN2_HI is exact for |k| < 2**20
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10


def _fmin_all(e):
    return np.fmin.reduce(e, axis=None)


def _fmax_all(e):
    return np.fmax.reduce(e, axis=None)


def _exp_times(e, *ts, base2=False, limit=None):
    """exp(e) * t1 * t2 ... (2**e * t1 ... with ``base2``) with no intermediate
    under/overflow.  Where exp(e) alone leaves the range: exp(e) = 2**k exp(r) with
    r = e - k ln 2 reduced in two parts (r exact to an ulp of r), the factors' binary
    exponents added to k, one rounding into the range at the end (ldexp).  Folding
    log abs(t) into the exponent (exp(e + log abs(t))) rounded e + log abs(t) to an
    ulp of 700, 1e-13 of the result (d/dx exp(2x) at 352.6 was 250 ulps off).

    At e = -inf the product is 0, also beside an infinite factor: an exponent that
    overflowed (-u**2 at u = 5e173 in erf') beside tangents that overflowed.  Not
    where ``limit`` (True, or a mask of e's shape) says e is -inf because the rule's
    argument is infinite, a limit rather than an overflow: there 0 times an
    infinite or nan factor is nan, as 0 * inf is, unless another factor is exactly 0
    (a zero tangent stays zero).  exp(log(u)) at u = 0 is exp(-inf) times the
    tangent 1/0 = inf, whose truth is 1 (and exp(-1/u**2)'s is 0): it was 0."""
    lo, hi = (_EXP_LO / _LN2, _EXP_HI / _LN2) if base2 else (_EXP_LO, _EXP_HI)
    te = type(e)
    if te is float:
        if lo <= e <= hi:  # the usual case: the plain product
            return _prod(2.0 ** e if base2 else math.exp(e), ts)
    elif te is np.ndarray and _plain_data(*ts):
        # (fmin/fmax skip nan: a nan entry, whose product is nan either way, does not
        # send the whole array down the careful path; hyperdual.hvp of 4000 entries
        # with one nan took 3.7 s instead of 1)
        if e.size == 0 or lo <= _fmin_all(e) and _fmax_all(e) <= hi:
            return _prod(np.exp2(e) if base2 else np.exp(e), ts)
    if _plain_data(e, *ts):
        scalar = te is float and all(type(t) is float for t in ts)
        with _fpe_ignored():
            near = np.exp2(e) if base2 else g.exp(e)
            for t in ts:
                near = near * t
            e64 = np.asarray(e, dtype=np.float64)
            fin = np.isfinite(e64)
            # beyond |e| = 4000 no product with normal factors is in range (and k
            # would not fit an integer): exp(e + log abs(t)), 0 or inf, there
            huge = fin & (np.abs(e64) > 4000.0)
            e0 = np.where(fin & ~huge, e64, 0.0)
            if base2:
                k = np.rint(e0)
                r = (e0 - k) * _LN2  # e0 - k is exact
            else:
                k = np.rint(e0 / _LN2)
                r = (e0 - k * _LN2_HI) - k * _LN2_LO
            m, kk = np.exp(r), k.astype(np.int64)
            for t in ts:
                mt, et = np.frexp(np.asarray(t, dtype=np.float64))
                m, kk = m * mt, kk + et
            far = np.ldexp(m, np.clip(kk, -2200, 2200))
            if np.any(huge):
                sgn, tot = 1.0, e64
                for t in ts:
                    sgn = sgn * np.sign(t)
                    tot = tot + np.log(np.abs(t))
                far = np.where(huge, np.exp(tot) * sgn, far)
            out = np.where(fin & ((e64 < lo) | (e64 > hi)), far, near)
            # exp(-inf) t is 0, also for an infinite t: an exponent that overflowed
            # to -inf beside a tangent that overflowed (erf'(u) u' at u = 5e173:
            # exp(-u**2) is 0 to every order; 0 * inf made it nan)
            out = np.where(e64 == -np.inf, _limit_product(e64, ts, limit), out)
            out = out.astype(np.result_type(near), copy=False)
        return float(out) if scalar else out
    # nested or lazy numbers: the plain product, except where the innermost exponent
    # is -inf: there exp(e) t is 0 in every part, as on plain data (a tangent that
    # overflowed beside it made 0 * inf = nan: three nested hyperdual helpers gave
    # nan for the third derivative of erf(exp(v)) from v = 400 on, truth 0)
    def product():
        out = g.exp2(e) if base2 else g.exp(e)
        for t in ts:
            out = out * t
        return out

    dead = g.real_value(e) == -np.inf
    if _is_foreign(dead) or not np.any(dead):  # (dask: the plain product, unchecked)
        return product()
    with _fpe_ignored():
        out = product()
    if limit is not None:
        # at a limit the nested product itself: 0 * inf is nan part by part
        dead = dead & ~np.asarray(limit, dtype=bool)
    # (np.where, not where_value: a scalar condition keeps out's type, a 0 in every part)
    return np.where(np.asarray(dead), 0.0, out)


def _limit_product(e64, ts, limit):
    """exp(-inf) t1 t2 ... on plain data (see :func:`_exp_times`): 0, or nan where
    ``limit`` holds, a factor is infinite or nan and none is exactly 0."""
    if limit is None:
        return 0.0
    bad = np.zeros(np.shape(e64), dtype=bool)
    zero = np.zeros(np.shape(e64), dtype=bool)
    for t in ts:
        t = np.asarray(t, dtype=np.float64)
        bad = bad | ~np.isfinite(t)
        zero = zero | (t == 0.0)
    return np.where(np.asarray(limit, dtype=bool) & bad & ~zero, np.nan, 0.0)


def _s_log(c):
    def s1(x, a):
        return (a / x) / c if c != 1.0 else a / x

    def s2(x, a, b):
        p = (a / x) * (b / x)
        return -(p / c) if c != 1.0 else -p
    return s1, s2


for _n, _c in (("log", 1.0), ("log2", _LN2), ("log10", _LN10)):
    _scaled(_n, *_s_log(_c))


def _log1p_s1(x, a):
    return a / (1.0 + x)


def _log1p_s2(x, a, b):
    w = 1.0 + x
    return -((a / w) * (b / w))


_scaled("log1p", _log1p_s1, _log1p_s2)
_scaled("reciprocal", lambda x, a: -((a / x) / x),
        lambda x, a, b: 2.0 * (((a / x) * (b / x)) / x))


def _sqrt_s2(x, a, b):
    r = g.sqrt(x)
    return -0.25 * (((a / r) / r) * (b / r))


_scaled("sqrt", lambda x, a: (a / g.sqrt(x)) * 0.5, _sqrt_s2)


def _cbrt_s1(x, a):
    c = g.cbrt(x)
    return ((a / c) / c) / 3.0


def _cbrt_s2(x, a, b):
    c = g.cbrt(x)
    # a b x**(-5/3); times x/x (1, or nan at 0 where the two sides differ: as d2f)
    return (-2.0 / 9.0) * (((a / c) / c) * (((b / c) / c) / c)) * (x / x)


_scaled("cbrt", _cbrt_s1, _cbrt_s2)


def _arctan_s1(x, a):
    return _piecewise(x, lambda r: r <= 1e8, lambda x: a / (1.0 + x * x),
                      lambda x: (a / x) / x)


def _arctan_s2(x, a, b):
    def near(x):
        d = 1.0 + x * x
        return -2.0 * (((x / d) * (a / d)) * b)
    return _piecewise(x, lambda r: r <= 1e8, near,
                      lambda x: -2.0 * (((a / x) * (b / x)) / x))


_scaled("arctan", _arctan_s1, _arctan_s2)


def _s_inv_root(q, sign, p2):
    """f' = sign / q(x), f'' = p2 * sign * x / q(x)**3 (arcsinh, arccosh, arcsin ...)."""
    def s1(x, a):
        v = a / q(x)
        return -v if sign < 0 else v

    def s2(x, a, b):
        h = q(x)
        v = p2 * (((x / h) * (a / h)) * (b / h))
        return -v if sign < 0 else v
    return s1, s2


_scaled("arcsinh", *_s_inv_root(lambda x: g.hypot(1.0, x), 1, -1.0))
_scaled("arccosh", *_s_inv_root(lambda x: g.sqrt(x - 1.0) * g.sqrt(x + 1.0), 1, -1.0))
_scaled("arcsin", *_s_inv_root(lambda x: g.sqrt(_one_minus_square(x)), 1, 1.0))
_scaled("arccos", *_s_inv_root(lambda x: g.sqrt(_one_minus_square(x)), -1, 1.0))


def _arctanh_s2(x, a, b):
    q = _one_minus_square(x)
    return 2.0 * (((x / q) * (a / q)) * b)


_scaled("arctanh", lambda x, a: a / _one_minus_square(x), _arctanh_s2)
_scaled("entr", lambda x, a: -(g.log(x) + 1.0) * a, lambda x, a, b: -((a / x) * b))


def _logit_s2(p, a, b):
    q = p * (1.0 - p)
    return (2.0 * p - 1.0) * ((a / q) * (b / q))


_scaled("logit", lambda p, a: a / (p * (1.0 - p)), _logit_s2)


# log-gamma family: psi' ~ 1/x and psi'' ~ -1/x**2 for large x; near 0 the poles
# 1/x**2, -2/x**3 (psi'(x) = 1/x**2 + psi'(1 + x), psi''(x) = -2/x**3 + psi''(1 + x))
def _pg1_times(x, a, b):
    def near0(x):
        return (a / x) * (b / x) + (g.polygamma1(1.0 + x) * a) * b

    def mid(x):
        return _piecewise(x, lambda r: r < 1e-8, near0, lambda x: (g.polygamma1(x) * a) * b)

    # psi'(x) = 1/x (1 + 1/(2x) + ...): beyond 1e16 the correction is below eps, and
    # a / x keeps a nested Dual's part psi''(x) x' a in range (psi'' underflows)
    return _select(x, lambda r: r > 1e16, lambda x: (a / x) * b, mid)


def _pg2_times(x, a, b):
    def near0(x):
        return -2.0 * (((a / x) * (b / x)) / x) + (g.polygamma2(1.0 + x) * a) * b

    def mid(x):
        return (g.polygamma2(x) * a) * b

    def far(x):  # psi''(x) = -1/x**2 (1 + 1/x + ...): the correction is below eps here
        return -((a / x) * (b / x))
    return _select(x, lambda r: r > 1e16, far,
                   lambda x: _piecewise(x, lambda r: r < 1e-8, near0, mid))


def _pg1_s1(x, a):
    def mid(x):
        return _piecewise(x, lambda r: r < 1e-8,
                          lambda x: (a / x) / x + g.polygamma1(1.0 + x) * a,
                          lambda x: g.polygamma1(x) * a)
    # (as in _pg1_times: digamma(x**2 + 3)'' through hyperdual over hyperdual at
    # x = -1.3e150 had the wrong sign, psi''(1.7e300) x' underflowing)
    return _select(x, lambda r: r > 1e16, lambda x: a / x, mid)


for _n in ("gammaln", "loggamma"):
    _scaled(_n, lambda x, a: g.digamma(x) * a, _pg1_times)
_scaled("digamma", _pg1_s1, _pg2_times)


# exponential tails
# (limit: the exponent is the argument, so exp(-inf) is a limit, never an overflow)
_scaled("exp", lambda x, a: _exp_times(x, a, limit=True),
        lambda x, a, b: _exp_times(x, a, b, limit=True))
_scaled("expm1", lambda x, a: _exp_times(x, a, limit=True),
        lambda x, a, b: _exp_times(x, a, b, limit=True))
# (2**x directly: exp(x ln 2) rounded x ln 2, 7e-14 of 2**1000 ln 2)
_scaled("exp2", lambda x, a: _exp_times(x, a, _LN2, base2=True, limit=True),
        lambda x, a, b: _exp_times(x, a, b, _LN2 * _LN2, base2=True, limit=True))


def _cosh_times(x, *ts):
    # cosh(x) t = exp(|x|) (0.5 t) beyond 20 (exp(-2|x|) below an ulp); sinh alike with
    # the sign of x.  (exp(|x| - ln 2) rounded |x| - ln 2: 5.5e-14 of cosh'(700))
    return _piecewise(x, lambda r: r <= 20.0, lambda x: _prod(g.cosh(x), ts),
                      lambda x: _exp_times(g.absolute(x), 0.5, *ts))


def _sinh_times(x, *ts):
    return _piecewise(x, lambda r: r <= 20.0, lambda x: _prod(g.sinh(x), ts),
                      lambda x: _exp_times(g.absolute(x), 0.5, *ts) * g.sign(x))


def _safe_prod(*fs):
    """The product of the factors with no intermediate under/overflow (mantissas
    and exponents multiplied apart, one rounding into the result's range)."""
    if not _plain_data(*fs):
        out = fs[0]
        for f in fs[1:]:
            out = out * f
        return out
    scalar = all(type(f) is float for f in fs)
    with _fpe_ignored():
        m, e = np.frexp(fs[0])
        e = e.astype(np.int64)
        for f in fs[1:]:
            m2, e2 = np.frexp(f)
            m = m * m2
            e = e + e2
        out = np.ldexp(m, np.clip(e, -2200, 2200))
    return float(out) if scalar else out


def _prod(c, ts):
    for t in ts:
        c = c * t
    return c


_scaled("sinh", _cosh_times, _sinh_times)
_scaled("cosh", _sinh_times, _cosh_times)


def _sech2_times(x, *ts):
    # sech(x)**2 = 4 exp(-2|x|) / (1 + exp(-2|x|))**2; the last factor is 1 beyond 20
    return _piecewise(x, lambda r: r <= 20.0, lambda x: _prod(g.sech2(x), ts),
                      lambda x: _exp_times(-2.0 * g.absolute(x), *ts,
                                           limit=_infinite(x)) * 4.0)


def _infinite(x):
    """Where the argument x is infinite (a limit of a rule, see :func:`_exp_times`)."""
    r = g.real_value(x)
    return None if _is_foreign(r) else np.isinf(r)


_scaled("tanh", _sech2_times, lambda x, a, b: -2.0 * (g.tanh(x) * _sech2_times(x, a, b)))
_scaled("expit", lambda x, a: _sech2_times(0.5 * x, a) * 0.25,
        lambda x, a, b: -0.25 * (g.tanh(0.5 * x) * _sech2_times(0.5 * x, a, b)))


def _gauss_times(x, c, ts, half=False, second=False):
    # c exp(-x**2) t (erf, erfc) or c exp(-x**2/2) t (ndtr), exp(-x**2) exact-ish;
    # second: f'' = c x exp(..) a b, ts = (a, b)
    def near(x):
        e = _exp_minus_square(x) if not half else g.exp(-0.5 * x * x)
        return _prod(e * c, (x,) + ts if second else ts)

    def far(x):
        # (x * x overflows far out: exp(-inf) is 0 to every order, _exp_times;
        # numpy's overflow warning is the library's, as on plain data)
        with _fpe_ignored():
            e = -(x * x) if not half else -0.5 * (x * x)
        limit = _infinite(x)
        fs = ts
        if second:
            # f'' = -2x exp(-x**2): its factor x, infinite at the limit, is no
            # tangent; sign(x) there keeps the product's limit 0 (and its sign)
            fs = (x if limit is None or not np.any(limit)
                  else np.where(limit, g.sign(x), x),) + ts
        return _exp_times(e, *fs, limit=limit) * c
    return _piecewise(x, lambda r: r <= (26.0 if not half else 37.0), near, far)


_TWO_SQRT_PI = 2.0 / _SQRT_PI
_scaled("erf", lambda x, a: _gauss_times(x, _TWO_SQRT_PI, (a,)),
        lambda x, a, b: _gauss_times(x, -2.0 * _TWO_SQRT_PI, (a, b), second=True))
_scaled("erfc", lambda x, a: _gauss_times(x, -_TWO_SQRT_PI, (a,)),
        lambda x, a, b: _gauss_times(x, 2.0 * _TWO_SQRT_PI, (a, b), second=True))
_scaled("ndtr", lambda x, a: _gauss_times(x, 1.0 / _SQRT_2PI, (a,), True),
        lambda x, a, b: _gauss_times(x, -1.0 / _SQRT_2PI, (a, b), True, second=True))


def _erfcx_s1(x, a):
    # erfcx'(x) = -1/(sqrt(pi) x**2) (1 - 3/(2 x**2) + ...) for large x
    return _select(x, lambda r: r > 1e8, lambda x: ((a / x) / x) * (-1.0 / _SQRT_PI),
                   lambda x: _erfcx_d1(x) * a)


def _erfcx_s2(x, a, b):
    return _select(x, lambda r: r > 1e8,
                   lambda x: (((a / x) * (b / x)) / x) * (2.0 / _SQRT_PI),
                   lambda x: (_erfcx_d2(x) * a) * b)


_scaled("erfcx", _erfcx_s1, _erfcx_s2)


# linear and piecewise-constant rules: f'' = 0 exactly, so f'' a b is 0 even where
# a b overflows (0 * inf would be nan)
def _zeros_of(a):
    return 0.0 if type(a) is float else g.zeros_like_value(a)


def _linear(k):
    return lambda x, a: a * k


def _no_s2(x, a, b):
    return 0.0


for _n in ("sign", "floor", "ceil", "trunc", "rint"):
    _scaled(_n, lambda x, a: _zeros_of(a), _no_s2)
_scaled("negative", lambda x, a: -a, _no_s2)
_scaled("positive", lambda x, a: +a, _no_s2)
for _n in ("absolute", "fabs"):
    _scaled(_n, lambda x, a: g.sign(x) * a, _no_s2)
for _n, _k in (("deg2rad", math.pi / 180.0), ("radians", math.pi / 180.0),
               ("rad2deg", 180.0 / math.pi), ("degrees", 180.0 / math.pi)):
    _scaled(_n, _linear(_k), _no_s2)


# inverse functions (f'' = c y f'**2): f' near the domain's edges is large but
# ordinary where f'**2 overflows: c y (f' a) (f' b)
def _s_inverse(inverse, d1, c):
    def s1(x, a):
        return getattr(g, d1)(x) * a

    def s2(x, a, b):
        f1 = getattr(g, d1)(x)
        return (c * getattr(g, inverse)(x)) * ((f1 * a) * (f1 * b))
    return s1, s2


_scaled("erfinv", *_s_inverse("erfinv", "erfinv_d1", 2.0))
_scaled("erfcinv", *_s_inverse("erfcinv", "erfcinv_d1", 2.0))
_scaled("ndtri", *_s_inverse("ndtri", "ndtri_d1", 1.0))


# gamma near its pole at 0: Gamma(x) = Gamma(1 + x)/x, psi(x) = psi(1 + x) - 1/x
def _gamma_s1(x, a):
    def near0(x):
        p = a / x
        return g.gamma(1.0 + x) * (g.digamma(1.0 + x) * p - p / x)
    return _piecewise(x, lambda r: r < 1e-8, near0, lambda x: (g.gamma(x) * a) * g.digamma(x))


def _gamma_s2(x, a, b):
    def near0(x):
        x1 = 1.0 + x
        p, q = a / x, b / x
        psi = g.digamma(x1)
        return g.gamma(x1) * (2.0 * ((p * q) / x) - 2.0 * psi * (p * q)
                              + (psi * psi + g.polygamma1(x1)) * (p * b))

    def far(x):
        psi = g.digamma(x)
        return ((g.gamma(x) * a) * b) * (psi * psi + g.polygamma1(x))
    return _piecewise(x, lambda r: r < 1e-8, near0, far)


_scaled("gamma", _gamma_s1, _gamma_s2)


# e^{-|x|} I_nu: the far tail is a power law (x**(-1/2 - n) for the n-th derivative)
def _scaled_bessel_times(nu, n):
    d = UNARY["i0e" if nu == 0 else "i1e"]
    near_rule = d.df if n == 1 else d.d2f

    def times(x, *ts):
        def near(x):
            return _prod(near_rule(x), ts)

        def far(x):
            s = g.sign(g.real_value(x))
            ax = g.absolute(x)
            coefs = scaled_bessel_asymptotic_coefs(nu, n)
            v = _safe_prod(_horner(1.0 / ax, coefs) * g.power(ax, -0.5),
                           *[t / ax for t in ts])
            return v * s if (nu + n) % 2 else v
        return _piecewise(x, lambda r: r < _ASYM_X, near, far)
    return times


for _nu, _n in ((0, "i0e"), (1, "i1e")):
    _scaled(_n, _scaled_bessel_times(_nu, 1), _scaled_bessel_times(_nu, 2))


# where f' and f'' are within about 1e+-100 (see Unary.safe): there the plain
# products f' a and (f'' a) b stay in range unless a tangent is beyond 1e+-200
# (an overflow is caught; the scaled forms then decide)
_safe(("exp", "expm1", "sinh", "cosh", "expit"), -230.0, 230.0)
_safe(("exp2",), -330.0, 330.0)
_safe(("tanh",), -115.0, 115.0)
_safe(("erf", "erfc"), -15.0, 15.0)
_safe(("ndtr",), -21.0, 21.0)
_safe(("arctan",), -1e33, 1e33)
_safe(("i0e", "i1e"), -1e40, 1e40)
_safe(("erfcx",), -15.0, 1e33)
_safe(("gammaln", "loggamma"), 1e-50, 1e100)
_safe(("digamma",), 1e-33, 1e50)
_safe(("sqrt",), 1e-66, 1e66)


# binary rules
def _cached(cache, key, fn):
    # shared values of one operation (t / y of each tangent, x / y): formed once
    v = cache.get(key)
    if v is None:
        v = cache[key] = fn()
    return v


def _quotient(a, b):
    """a / b, IEEE for Python floats too (inf or nan at b = 0, as numpy's: the audit's
    replay of a long double pass divides Python float parts)."""
    try:
        return a / b
    except ZeroDivisionError:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.float64(a) / np.float64(b))


def _div_scaled(x, y, key, t1, t2=None, cache=None):
    cache = {} if cache is None else cache

    def over(t):
        return _cached(cache, id(t), lambda: _quotient(t, y))
    if key == (1, 0):
        return over(t1)
    if key == (0, 1):
        return -(_cached(cache, "q", lambda: _quotient(x, y)) * over(t1))
    if key == (1, 1):
        return -(over(t1) * over(t2))
    if key == (0, 2):
        # (x/y)(t1/y) first: (t1/y)(t2/y) underflows at y = 1e200 where 2x/y**3 does
        # not, and is inf * 0 = nan at x = 0
        return 2.0 * ((_cached(cache, "q", lambda: _quotient(x, y)) * over(t1)) * over(t2))
    return None


def _hypot_scaled(a, b, key, t1, t2=None, cache=None):
    h = g.hypot(a, b)
    ua, ub = _unit_vector(a, b, h)
    if key == (1, 0):
        return ua * t1
    if key == (0, 1):
        return ub * t1
    if key == (2, 0):
        return (ub * (t1 / h)) * (ub * t2)
    if key == (1, 1):
        return -((ua * (t1 / h)) * (ub * t2))
    return (ua * (t1 / h)) * (ua * t2)


def _arctan2_scaled(a, b, key, t1, t2=None, cache=None):
    h = g.hypot(a, b)
    ua, ub = _unit_vector(a, b, h)
    if key == (1, 0):
        return ub * (t1 / h)
    if key == (0, 1):
        return -(ua * (t1 / h))
    # each factor of the unit vector pairs with a tangent over h before the two
    # halves meet: (ua ub) (t1 t2 / h**2) is 0 * inf = nan at a = 0 or a = b with
    # h = 1e-300 (the truth 0), and inf where ua ub is tiny (a = 1e-160, b = 1e-300)
    if key == (1, 1):
        return (((a - b) / h) * (t1 / h)) * (((a + b) / h) * (t2 / h))
    v = (ua * (t1 / h)) * (ub * (t2 / h))
    return -2.0 * v if key == (2, 0) else 2.0 * v


def _pow_scaled_when(x, y, vx, vy):
    """x**c for a plain constant scalar c (not 0, 1, 2, whose products are exact
    special cases) and plain data x outside the band where x**(c - 1) and
    x**(c - 2) are ordinary floats: the products of :func:`_pow_scaled`."""
    if vy or not vx or not (type(y) is float or isinstance(y, np.floating)
                            or (type(y) is np.ndarray and y.ndim == 0)):
        return False
    if not (type(x) is float or type(x) is np.float64 or type(x) is np.ndarray):
        return False
    c = float(y)
    if c in (0.0, 1.0, 2.0) or c != c:
        return False
    from ._powrule import in_band

    return not in_band(x, c)  # in the band: the plain partials (as fast as before)


def _pow_scaled(x, y, key, t1, t2=None, cache=None):
    """x**c's chain-rule products for a plain constant c (see _pow_scaled_when):
    ``f'(x) t1`` and ``f''(x) t1 t2`` by :func:`hyperdual._powrule.pow_term`, which
    keeps the plain products where nothing leaves the range and otherwise forms
    them as one product of mantissas and exponents."""
    from ._powrule import pow_term

    cache = {} if cache is None else cache
    c = float(y)
    order = 1 if key == (1, 0) else 2
    if (order == 1 and c == 0.0) or (order == 2 and c in (0.0, 1.0)):
        return None
    # (out of the band, a partial that overflows alone is not used: pow_term forms
    # the product from mantissas and exponents; its overflow is no event of the
    # result, for the user's warnings or for reverse's range watch)
    with np.errstate(over="ignore"):
        d = _cached(cache, "partials", lambda: _pow_partials(x, y, 2, True, False))[key]
    return pow_term(c, order, x, (t1,) if order == 1 else (t1, t2), d)


def _xlog_scaled(log, arg):
    """x log(arg(y)): each tangent of y is divided by arg(y) before it meets x or the
    other tangent (x / y, 1 / y and x / y**2 alone leave the range where the products
    do not: d2/dv2 xlogy(v, v**2) at v = 1e-150 is 2e150, the plain partial
    -x / y**2 = -1e450 made it -inf; d2/dv2 xlog1py(v, v**2) at v = 1.7e150 was 3x the
    truth: -x / (1 + y)**2 underflowed where its product with the tangents is
    1e-150)."""

    def scaled(x, y, key, t1, t2=None, cache=None):
        cache = {} if cache is None else cache

        def over(t):
            return _cached(cache, id(t), lambda: t / arg(y))
        if key == (1, 0):
            return log(y) * t1
        if key == (0, 1):
            return x * over(t1)
        if key == (1, 1):
            return t1 * over(t2)
        if key == (0, 2):
            return -((x * over(t1)) * over(t2))
        return None

    return scaled


# xlogy(x, y) = x log y; xlog1py(x, y) = x log1p(y), as xlogy with 1 + y for y
# (g's functions are installed after this table is built: looked up at call time)
_xlogy_scaled = _xlog_scaled(lambda y: g.log(y), lambda y: y)
_xlog1py_scaled = _xlog_scaled(lambda y: g.log1p(y), lambda y: 1.0 + y)


def _entropy_scaled(first_x, first_y):
    """rel_entr / kl_div: x log(x / y) (- x + y): the second partials 1/x, -1/y and
    x/y**2 meet the tangents as (t1/x) t2, t1 (t2/y) and (x (t1/y)) (t2/y)
    (x / y / y underflowed at y = v**2, v = 1.7e150, where the products are 1e-150;
    1 / x overflowed at x = 1.7e-150)."""

    def scaled(x, y, key, t1, t2=None, cache=None):
        cache = {} if cache is None else cache

        def over(t):
            return _cached(cache, id(t), lambda: t / y)
        if key == (1, 0):
            return _cached(cache, "fx", lambda: first_x(x, y)) * t1
        if key == (0, 1):
            return first_y(x, y, over(t1), t1)
        if key == (2, 0):
            return (t1 / x) * t2
        if key == (1, 1):
            return -(t1 * over(t2))
        return (x * over(t1)) * over(t2)

    return scaled




def _beta_scaled_when(x, y, vx, vy):
    """beta on plain float64 data (nested numbers keep their beta_da rules)."""
    return is_plain(x, y) and np.result_type(x, y, 1.0) == np.float64


def _beta_scaled(a, b, key, t1, t2=None, cache=None):
    # B L_a t as one product of mantissas and exponents (_exactdiff.special.beta_times):
    # the partial B L_a alone underflowed at a = e**300, b = 2 (d/dv beta(exp(v), 2)
    # was 0, truth -5.3e-261)
    return beta_times(a, b, key, t1) if t2 is None else beta_times(a, b, key, t1, t2)


_scaled("power", _pow_scaled, None, BINARY, when=_pow_scaled_when)
_scaled("beta", _beta_scaled, None, BINARY, when=_beta_scaled_when)
BINARY["beta"] = replace(BINARY["beta"], composite=beta_near_zeros)
# float_power: power's products in float64 (its plain partials alone left the range:
# d/dv float_power(exp(v), -2.0) at 300 was 0, truth -5.3e-261)
_scaled("float_power", lambda x, y, key, t1, t2=None, cache=None: _pow_scaled(
    _to_float64(x), _to_float64(y), key, t1, t2, cache), None, BINARY, when=_pow_scaled_when)
_scaled("xlogy", _xlogy_scaled, None, BINARY)
_scaled("xlog1py", _xlog1py_scaled, None, BINARY)
_scaled("rel_entr", _entropy_scaled(lambda x, y: _log_ratio(x, y) + 1.0,
                                    lambda x, y, ty, t: -(x * ty)), None, BINARY)
_scaled("kl_div", _entropy_scaled(_log_ratio,
                                  lambda x, y, ty, t: _one_minus_ratio(x, y) * t), None, BINARY)
_scaled("true_divide", _div_scaled, None, BINARY)
_scaled("hypot", _hypot_scaled, None, BINARY)
_scaled("arctan2", _arctan2_scaled, None, BINARY)

# numpy ufunc object -> rule
UNARY_BY_UFUNC = {r.ufunc: r for r in UNARY.values() if isinstance(r.ufunc, np.ufunc)}
BINARY_BY_UFUNC = {r.ufunc: r for r in BINARY.values() if isinstance(r.ufunc, np.ufunc)}
BINARY_BY_UFUNC[np.divide] = BINARY["true_divide"]
