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
from dataclasses import dataclass

import numpy as np
from scipy import special

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


@dataclass(frozen=True)
class Binary:
    """An elementwise function of two arguments and its partial derivatives."""

    name: str
    ufunc: Callable
    scalar: Callable | None
    partials: Callable  # (x, y, order, vary_x, vary_y) -> {(i, j): value}
    note: str = ""


def _zero(x):
    return g.zeros_like_value(x)


UNARY: dict[str, Unary] = {}
BINARY: dict[str, Binary] = {}


def _u(name, ufunc, scalar, df, d2f, note="", dscalar=None, d2scalar=None):
    UNARY[name] = Unary(name, ufunc, scalar, df, d2f, note, dscalar or df, d2scalar or d2f)


def _b(name, ufunc, scalar, partials, note=""):
    BINARY[name] = Binary(name, ufunc, scalar, partials, note)


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
   lambda x: x / g.power((1.0 - x) * (1.0 + x), 1.5),
   "derivative is inf at +-1 (numpy warns), nan outside [-1, 1]")
_u("arccos", np.arccos, math.acos,
   lambda x: -1.0 / g.sqrt((1.0 - x) * (1.0 + x)),
   lambda x: -x / g.power((1.0 - x) * (1.0 + x), 1.5),
   "derivative is -inf at +-1 (numpy warns), nan outside [-1, 1]")
_u("arctan", np.arctan, math.atan,
   lambda x: 1.0 / (1.0 + x * x),
   lambda x: -2.0 * x / (1.0 + x * x) ** 2)
# --- hyperbolic -----------------------------------------------------------------
_u("sinh", np.sinh, math.sinh, lambda x: g.cosh(x), lambda x: g.sinh(x))
_u("cosh", np.cosh, math.cosh, lambda x: g.sinh(x), lambda x: g.cosh(x))
_u("tanh", np.tanh, math.tanh,
   lambda x: 1.0 - g.tanh(x) ** 2,
   lambda x: -2.0 * g.tanh(x) * (1.0 - g.tanh(x) ** 2),
   dscalar=lambda x: 1.0 - math.tanh(x) ** 2)
_u("arcsinh", np.arcsinh, math.asinh,
   lambda x: 1.0 / g.sqrt(x * x + 1.0),
   lambda x: -x / g.power(x * x + 1.0, 1.5))
_u("arccosh", np.arccosh, math.acosh,
   lambda x: 1.0 / g.sqrt((x - 1.0) * (x + 1.0)),
   lambda x: -x / g.power((x - 1.0) * (x + 1.0), 1.5),
   "derivative is inf at 1, nan below 1")
_u("arctanh", np.arctanh, math.atanh,
   lambda x: 1.0 / ((1.0 - x) * (1.0 + x)),
   lambda x: 2.0 * x / ((1.0 - x) * (1.0 + x)) ** 2,
   "inf at +-1 (numpy warns)")
# --- exponential and logarithmic ------------------------------------------------
_u("exp", np.exp, math.exp, lambda x: g.exp(x), lambda x: g.exp(x), dscalar=math.exp,
   d2scalar=math.exp)
_u("expm1", np.expm1, math.expm1, lambda x: g.exp(x), lambda x: g.exp(x))
_u("exp2", np.exp2, lambda x: 2.0 ** x,
   lambda x: _LN2 * g.exp2(x), lambda x: _LN2 * _LN2 * g.exp2(x))
_u("log", np.log, math.log, lambda x: 1.0 / x, lambda x: -1.0 / (x * x),
   "log(0) = -inf and log'(0) = inf with numpy's warning; nan below 0")
_u("log1p", np.log1p, math.log1p,
   lambda x: 1.0 / (1.0 + x), lambda x: -1.0 / ((1.0 + x) * (1.0 + x)))
_u("log2", np.log2, math.log2,
   lambda x: 1.0 / (_LN2 * x), lambda x: -1.0 / (_LN2 * x * x))
_u("log10", np.log10, math.log10,
   lambda x: 1.0 / (_LN10 * x), lambda x: -1.0 / (_LN10 * x * x))
# --- powers and roots -----------------------------------------------------------
_u("sqrt", np.sqrt, math.sqrt,
   lambda x: 0.5 / g.sqrt(x), lambda x: -0.25 / (x * g.sqrt(x)),
   "sqrt'(0) = inf with numpy's warning", dscalar=lambda x: 0.5 / math.sqrt(x))
_u("cbrt", np.cbrt, None,
   lambda x: 1.0 / (3.0 * g.cbrt(x) ** 2),
   # -2/9 x**(-5/3) written as x / cbrt(x)**8: the one-sided limits at 0 differ
   # (-inf and +inf), and this form gives nan there, as reverse mode does
   lambda x: (-2.0 / 9.0) * x / g.cbrt(x) ** 8,
   "cbrt'(0) = inf with numpy's warning; cbrt''(0) is nan (the two sides differ)")
_u("square", np.square, lambda x: x * x, lambda x: 2.0 * x, lambda x: _two_like(x))
_u("reciprocal", np.reciprocal, lambda x: 1.0 / x,
   lambda x: -1.0 / (x * x), lambda x: 2.0 / (x * x * x))
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
   lambda x: (2.0 / _SQRT_PI) * g.exp(-x * x),
   lambda x: (-4.0 / _SQRT_PI) * x * g.exp(-x * x))
_u("erfc", special.erfc, math.erfc,
   lambda x: (-2.0 / _SQRT_PI) * g.exp(-x * x),
   lambda x: (4.0 / _SQRT_PI) * x * g.exp(-x * x))
_u("expit", special.expit, None,
   lambda x: g.expit(x) * (1.0 - g.expit(x)),
   lambda x: g.expit(x) * (1.0 - g.expit(x)) * (1.0 - 2.0 * g.expit(x)))
# No math.lgamma fast path: it is up to ~1e-13 (relative) away from scipy's gammaln,
# so the scalar and array paths would disagree.
_u("gammaln", special.gammaln, None,
   lambda x: g.digamma(x), lambda x: g.polygamma1(x))
_u("digamma", special.psi, None,
   lambda x: g.polygamma1(x), lambda x: g.polygamma2(x))
_u("polygamma1", lambda x: special.polygamma(1, x), None,
   lambda x: g.polygamma2(x), lambda x: g.polygamma3(x))
_u("polygamma2", lambda x: special.polygamma(2, x), None,
   lambda x: g.polygamma3(x), lambda x: _unsupported_order("polygamma(4, x)"))
_u("polygamma3", lambda x: special.polygamma(3, x), None,
   lambda x: _unsupported_order("polygamma(4, x)"),
   lambda x: _unsupported_order("polygamma(5, x)"))


def _one_like(x):
    return g.zeros_like_value(x) + 1.0


def _two_like(x):
    return g.zeros_like_value(x) + 2.0


def _unsupported_order(what):
    raise TypeError(f"hyperdual: {what} is not in the rule table (derivative order too high)")


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
        out[(0, 1)] = -x * r * r
    if order > 1 and vy:
        out[(1, 1)] = -r * r
        out[(0, 2)] = 2.0 * x * r * r * r
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
        out[(1, 0)] = 0.0 if y == 0 else (_one_like(x) if y == 1 else y * pw(x, y - 1.0))
        if order > 1:
            out[(2, 0)] = 0.0 if y in (0, 1) else y * (y - 1.0) * pw(x, y - 2.0)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            d1 = y * pw(x, y - 1.0)
            d2 = y * (y - 1.0) * pw(x, y - 2.0) if order > 1 else None
        out[(1, 0)] = g.where_value(y == 0, 0.0, d1)
        if order > 1:
            out[(2, 0)] = g.where_value((y == 0) | (y == 1), 0.0, d2)
    return out


def _arctan2_partials(a, b, order, vx, vy):
    r2 = a * a + b * b
    out = {(1, 0): b / r2, (0, 1): -a / r2}
    if order > 1:
        r4 = r2 * r2
        out[(2, 0)] = -2.0 * a * b / r4
        out[(1, 1)] = (a * a - b * b) / r4
        out[(0, 2)] = 2.0 * a * b / r4
    return out


def _hypot_partials(a, b, order, vx, vy):
    h = g.hypot(a, b)
    out = {(1, 0): a / h, (0, 1): b / h}
    if order > 1:
        h3 = h * h * h
        out[(2, 0)] = b * b / h3
        out[(1, 1)] = -a * b / h3
        out[(0, 2)] = a * a / h3
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
        out[(0, 2)] = -x / (y * y)
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

# numpy ufunc object -> rule
UNARY_BY_UFUNC = {r.ufunc: r for r in UNARY.values() if isinstance(r.ufunc, np.ufunc)}
BINARY_BY_UFUNC = {r.ufunc: r for r in BINARY.values() if isinstance(r.ufunc, np.ufunc)}
BINARY_BY_UFUNC[np.divide] = BINARY["true_divide"]
