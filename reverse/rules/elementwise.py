"""Reverse-mode rules for the elementwise leftovers: angle conversions, remainders,
``fmax``/``fmin``/``nan_to_num``/``angle`` (shared composites of :mod:`_exactdiff.elementwise`),
``sinc``, ``heaviside``, ``copysign``, ``float_power``, ``logaddexp`` and the
scipy.special functions ``gamma``, ``loggamma``, ``beta``, ``betaln``,
``erfinv``, ``erfcinv``, ``erfcx``, ``ndtr``, ``log_ndtr``, ``ndtri``,
``i0``/``i0e``/``i1``/``i1e``, ``xlog1py``, ``entr``, ``rel_entr``,
``kl_div``, ``logit``.

The formulas are the ones of hyperdual's rule table (:mod:`hyperdual._rules`),
written with numpy/scipy calls so that they compute numbers on arrays, build
graphs on Variables and carry Duals in forward-over-reverse.  Where a closed
form of f' would cancel (erfcx' for x >= 2, sinc' near 0, i1's near 0, the
scaled Bessel functions beyond 20), f' is its own ``Function`` whose backward
is the precise f'': second derivatives keep full relative precision, and
higher orders follow by the chain rule.

Examples
--------
>>> import numpy as np
>>> from reverse import derivative
>>> round(derivative(np.sinc, 0.5), 12) == round(-4 / np.pi, 12)
True
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
import scipy.special as sp

from _exactdiff import elementwise as _e
from _exactdiff._common import WATCH_UNDERFLOW as _WATCH
from _exactdiff._common import fpe_ignored as _fpe_ignored
from _exactdiff._common import select_branch as _select_branch
from _exactdiff.arrays import is_foreign_array as _is_foreign_array
from _exactdiff.arrays import may_hold as _may_hold
from _exactdiff.arrays import plain_array
from _exactdiff.special import (
    beta_near_zeros,
    beta_second_partials,
    beta_times,
    erfcx_derivative_mid,
    is_plain,
    psi_difference,
    scaled_bessel_asymptotic_coefs,
    scaled_bessel_derivative_mid,
)
from _exactdiff.special import horner as _horner
from _exactdiff.special import log_ratio_branches as _log_ratio_branches

from .. import core
from ..core import FUNCTIONS, UFUNCS, Function, Variable, _value
from ..utils import sum_to
from . import binary as _b
from . import unary as _u
from ._util import _keep_zero, zero_weighted_denominator

# The Function classes of the two-argument table (the functions and the classes of
# the one-argument table are generated into reverse.rules.binary and .unary).
__all__: list[str] = []

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_HALF_SQRT_PI = 0.5 * _SQRT_PI
_LN2 = math.log(2.0)


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------
def _select(x: Any, cond: Any, near: Any, far: Any) -> Any:
    """``near(x)`` where ``cond(plain x)``, else ``far(x)`` (only the branches used)."""
    return _select_branch(x, _value(x), cond, near, far, np.where)


def _small(limit: float) -> Any:
    def cond(r: Any) -> Any:
        if limit > _F32_MAX and getattr(r, "dtype", None) == np.float32:
            # every finite float32 is below the limit, which float32 cannot hold
            # (comparing casts it: "overflow encountered in cast")
            return np.isfinite(r)
        return np.abs(r) < limit
    return cond


_F32_MAX = float(np.finfo(np.float32).max)


def _reduce_even(x: Any) -> Any:
    """x minus the nearest even integer (a constant): sin(pi x) without pi*x's rounding."""
    k = np.round(_value(x) * 0.5) * 2.0  # (no np.asarray: dask stays lazy)
    return x - k


# --- sinc -------------------------------------------------------------------------
_SINC1 = [(-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(1, 14)]
_SINC2 = [(-1) ** k * 2 * k * (2 * k - 1) / math.factorial(2 * k + 1) for k in range(1, 14)]


def _sinc_d1(x: Any) -> Any:
    def near(x: Any) -> Any:
        t = math.pi * x
        return t * _horner(t * t, _SINC1)

    def far(x: Any) -> Any:
        t, r = math.pi * x, math.pi * _reduce_even(x)
        return (np.cos(r) - np.sin(r) / t) / t  # t * t overflows from |x| = 1e154

    return math.pi * _select(x, _small(1.0 / math.pi), near, far)


def _sinc_d2(x: Any) -> Any:
    def near(x: Any) -> Any:
        t = math.pi * x
        return _horner(t * t, _SINC2)

    def far(x: Any) -> Any:
        t, r = math.pi * x, math.pi * _reduce_even(x)
        s = np.sin(r)
        return (2.0 * (s / t - np.cos(r)) / t - s) / t

    return (math.pi * math.pi) * _select(x, _small(1.0 / math.pi), near, far)


# --- erfcx and the inverse error functions ------------------------------------------
_ERFCX_CF = 80


def _erfcx_tails(z: Any) -> tuple[Any, Any, Any]:
    t = z
    tails = []
    for k in range(_ERFCX_CF, -1, -1):
        t = z + (0.5 * (k + 1)) / t
        if k <= 2:
            tails.append(t)
    return tails[2], tails[1], tails[0]


def _erfcx_d1(x: Any) -> Any:
    def far(z: Any) -> Any:
        t0, t1, _ = _erfcx_tails(z)
        return -1.0 / (_SQRT_PI * t0 * t1)

    return _select(x, lambda r: r < 2.0, lambda x: _select(
        x, lambda r: r < 0.5, lambda x: 2.0 * x * sp.erfcx(x) - 2.0 / _SQRT_PI,
        lambda x: erfcx_derivative_mid(1, x)), far)


def _erfcx_d2(x: Any) -> Any:
    def far(z: Any) -> Any:
        t0, t1, t2 = _erfcx_tails(z)
        return 2.0 / (_SQRT_PI * t0 * t1 * t2)

    return _select(x, lambda r: r < 2.0, lambda x: _select(
        x, lambda r: r < 0.5, lambda x: (2.0 + 4.0 * x * x) * sp.erfcx(x) - 4.0 * x / _SQRT_PI,
        lambda x: erfcx_derivative_mid(2, x)), far)


def _erfinv_d1(x: Any, y: Any) -> Any:
    # exp(y**2) = erfcx(|y|) / erfc(|y|) and erfc(|y|) = 1 - |x| exactly
    return _HALF_SQRT_PI * sp.erfcx(np.abs(y)) / (1.0 - np.abs(x))


def _erfcinv_d1(x: Any, y: Any) -> Any:
    q = np.where(_value(x) <= 1.0, x, 2.0 - x)
    return -_HALF_SQRT_PI * sp.erfcx(np.abs(y)) / q


def _ndtri_d1(p: Any, y: Any) -> Any:
    q = np.where(_value(p) <= 0.5, p, 1.0 - p)
    return sp.erfcx(np.abs(y) / _SQRT_2) / (_SQRT_2_OVER_PI * q)


def _log_ndtr_d1(x: Any) -> Any:
    return _SQRT_2_OVER_PI / sp.erfcx(-x / _SQRT_2)


# --- modified Bessel functions ------------------------------------------------------
_I1X = [1.0 / (2.0 * 4.0 ** k * math.factorial(k) * math.factorial(k + 1)) for k in range(16)]
_I1X_D = [(k + 1) / (4.0 ** (k + 1) * math.factorial(k + 1) * math.factorial(k + 2))
          for k in range(16)]


def _i1_over_x(x: Any) -> Any:
    return _select(x, _small(1.0), lambda x: _horner(x * x, _I1X), lambda x: sp.i1(x) / x)


def _i1_over_x_d(x: Any) -> Any:
    return _select(x, _small(2.0), lambda x: x * _horner(x * x, _I1X_D),
                   lambda x: (x * sp.i0(x) - 2.0 * sp.i1(x)) / (x * x))


def _i1e_over_x(x: Any) -> Any:
    return _select(x, _small(1.0), lambda x: _horner(x * x, _I1X) * np.exp(-np.abs(x)),
                   lambda x: sp.i1e(x) / x)


def _i1e_over_x_d(x: Any) -> Any:
    return _select(x, _small(2.0),
                   lambda x: x * _horner(x * x, _I1X_D) * np.exp(-np.abs(x)),
                   lambda x: (x * sp.i0e(x) - 2.0 * sp.i1e(x)) / (x * x))


def _scaled_bessel(nu: int, n: int, closed: Any) -> Any:
    """n-th derivative of e^{-|x|} I_nu(x): ``closed`` below |x| = 20, beyond it the
    asymptotic series differentiated termwise (the closed forms cancel there)."""
    coefs = scaled_bessel_asymptotic_coefs(nu, n)

    def far(x: Any) -> Any:
        a = np.abs(x)
        v = _horner(1.0 / a, coefs) * a ** (-(0.5 + n))
        return v * np.sign(_value(x)) if (nu + n) % 2 else v

    def mid(x: Any) -> Any:  # 0 < |x| < 20: Kummer series (the closed forms cancel)
        return _select(x, lambda r: r == 0, closed,
                       lambda x: scaled_bessel_derivative_mid(nu, n, x))

    return lambda x: _select(x, _small(20.0), mid, far)


def _scaled_bessel_times(nu: int, n: int, closed: Any) -> Any:
    """``(x, gy) -> gy`` times the n-th derivative of e^{-|x|} I_nu(x): beyond
    abs(x) = 1e100 the asymptotic series with gy / abs(x)**n formed first (the
    derivative alone, ~ abs(x)**(-1/2 - n), underflows where the product does not)."""
    plain = _scaled_bessel(nu, n, closed)
    coefs = scaled_bessel_asymptotic_coefs(nu, n)

    def times(x: Any, gy: Any, *more: Any) -> Any:
        # (more: further factors of the product, each divided by abs(x) in turn:
        # gz gy alone overflows where gz/x gy/x does not)
        ts = (gy,) + more

        def near(x: Any) -> Any:
            v = ts[0] * plain(x)
            for t in ts[1:]:
                v = v * t
            return v

        def far(x: Any) -> Any:
            a = np.abs(x)
            fs = list(ts)
            for i in range(n):
                fs[i % len(fs)] = fs[i % len(fs)] / a
            w = fs[0]
            for t in fs[1:]:
                w = w * t
            v = (_horner(1.0 / a, coefs) / np.sqrt(a)) * w
            return v * np.sign(_value(x)) if (nu + n) % 2 else v

        return _select(x, _small(1e100), near, far)

    return times


def _sgn(x: Any) -> Any:
    return np.sign(_value(x))


def _i0e_d2_closed(x: Any) -> Any:
    return 2.0 * sp.i0e(x) - _i1e_over_x(x) - 2.0 * _sgn(x) * sp.i1e(x)


def _i1e_d2_closed(x: Any) -> Any:
    return 2.0 * sp.i1e(x) - _i1e_over_x_d(x) - 2.0 * _sgn(x) * (sp.i0e(x) - _i1e_over_x(x))


_I0E_D1 = _scaled_bessel(0, 1, lambda x: sp.i1e(x) - _sgn(x) * sp.i0e(x))
_I0E_D1_TIMES = _scaled_bessel_times(0, 1, lambda x: sp.i1e(x) - _sgn(x) * sp.i0e(x))
_I0E_D2 = _scaled_bessel(0, 2, _i0e_d2_closed)
_I0E_D2_TIMES = _scaled_bessel_times(0, 2, _i0e_d2_closed)
_I1E_D1 = _scaled_bessel(1, 1, lambda x: sp.i0e(x) - _i1e_over_x(x) - _sgn(x) * sp.i1e(x))
_I1E_D1_TIMES = _scaled_bessel_times(
    1, 1, lambda x: sp.i0e(x) - _i1e_over_x(x) - _sgn(x) * sp.i1e(x))
_I1E_D2 = _scaled_bessel(1, 2, _i1e_d2_closed)
_I1E_D2_TIMES = _scaled_bessel_times(1, 2, _i1e_d2_closed)

# ----------------------------------------------------------------------------
# unary rules
# ----------------------------------------------------------------------------
def _dual_by_rule(x: Any, d1: Any, d2: Any, d2_times: Any = None) -> Any:
    """f'(x) on Dual data (forward-over-reverse) as a rule: value d1(real), tangent
    d2(real) * dual (``d2_times(real, dual)`` where given: d2 alone may underflow
    where the product does not, i0e''(1.7e200) times 2.6e100).  Evaluating d1's
    formula on the Dual would differentiate that formula, which cancels where the
    rule's own d2 does not (i0e'' at 10: 23 ulps).  None for HyperDual or nested
    data (the formula is used there)."""
    from hyperdual import _number as hn

    if type(x) is not hn.Dual or isinstance(x.real, hn._Number):
        return None
    r = x.real
    if d2_times is not None and not isinstance(x.dual, hn._Number):
        dual = x.dual
        with _fpe_ignored():
            t = np.where(dual == 0, 0.0, d2_times(r, dual))  # a zero tangent stays 0
        t = t if np.shape(t) == np.shape(dual) else np.broadcast_to(t, np.shape(dual))
        if type(dual) is float or np.ndim(t) == 0 and not isinstance(dual, np.ndarray):
            t = _scalar_part(t)
        return hn.Dual._build((d1(r), t), x.tag, x.nd)
    t = hn._mul_coef(d2(r), x.dual)
    if t is None:
        t = np.zeros_like(x.dual)
    return hn.Dual._build((d1(r), t), x.tag, x.nd)


def _derivative_function(cls_name: str, d1: Any, d2: Any, d2_times: Any = None) -> type:
    """A Function computing f' whose backward is the (precise) f''.

    ``d2_times(x, gy)``, if given, forms ``f''(x) gy`` where f'' alone leaves the
    float range but the product does not (a power-law tail: erfcx''(1.7e110)
    underflows, times the cotangent 1e100 it is 2e-230)."""

    def backward(self: Any, gy: Any, y: Any, x: Any) -> Any:
        return _keep_zero(gy, gy * d2(x) if d2_times is None else d2_times(x, gy))

    def forward(x: Any) -> Any:
        if core._is_dual(x):
            out = _dual_by_rule(x, d1, d2, d2_times)
            if out is not None:
                return out
        return d1(x)

    return type(cls_name, (Function,), {
        "__slots__": (), "forward": staticmethod(forward), "backward": backward,
        "__module__": __name__, "d2_times": staticmethod(
            d2_times if d2_times is not None else lambda x, gy, b: (gy * d2(x)) * b),
        "__doc__": f"f' of an elementwise rule, differentiated by its own f'' ({cls_name}).",
    })


def _via(dcls: type, d1: Any, d1_times: Any = None) -> Any:
    """backward ``gy * f'(x)``: a graph node for f' when building a graph.

    ``d1_times(x, gy)``, if given, forms ``f'(x) gy`` on plain data under the range
    watch (a first-order helper's retry with its cotangent scaled up): f' alone
    underflows on a power-law tail where the product does not (i0e'(1.7e200)
    times 2.6e100).  Then the recorded graph and Dual data (forward-over-reverse)
    form the product with the cotangent as one node too (:func:`_times_function`):
    a node ``f'(x)`` of its own is 0 there at every seed scale, and the term
    ``f'(u) u''`` of a second derivative was lost (d2/dv2 erfcx(exp(v)) at 360 was
    twice the truth, 0 from 400 on, truth 1e-174)."""
    times = None if d1_times is None else _times_function(
        dcls.__name__ + "Times", dcls, d1_times)

    def grad(gy: Any, y: Any, x: Any) -> Any:
        if isinstance(x, Variable):
            return gy * dcls()(x) if times is None else times()(x, gy)
        if core._is_dual(x) or core._is_dual(gy):
            if times is not None:
                out = _dual_times(x, gy, d1_times, dcls.d2_times)
                if out is not None:
                    return out
                if _is_hyperdual(x) or _is_hyperdual(gy):
                    # second-order data: the product's formula with the cotangent
                    # inside it (f' alone, ~x**-1.5 at x = e**500 for i0e, is below
                    # the float range where the product is not)
                    return d1_times(x, gy)
            if core._is_dual(x):  # forward-over-reverse: f' with its own rule's tangent
                return gy * dcls.forward(x)
        if d1_times is not None and (_WATCH.get() or isinstance(gy, Variable)):
            return times()(x, gy) if isinstance(gy, Variable) else d1_times(x, gy)
        return gy * d1(x)

    return grad


def _times_function(cls_name: str, dcls: type, d1_times: Any) -> type:
    """A Function of ``(x, gy)`` computing ``f'(x) gy`` by ``d1_times`` (no
    intermediate leaves the float range where the product does not), whose
    backward is ``f''(x) gy gz`` by the rule's ``d2_times`` toward x, and the
    same node of ``(x, gz)`` toward gy: every order of the graph keeps the
    cotangent inside the products of its tails."""

    def forward(x: Any, gy: Any) -> Any:
        return d1_times(x, gy)

    def backward(self: Any, gz: Any, out: Any, x: Any, gy: Any) -> Any:
        ix, ig = self._inputs
        gx = ggy = None
        if isinstance(ix, Variable):
            gx = _keep_zero(gz, dcls.d2_times(x, gz, gy))
        if isinstance(ig, Variable):
            ggy = _keep_zero(gz, cls()(x, gz) if isinstance(x, Variable)
                             or isinstance(gz, Variable) else d1_times(x, gz))
        return gx, ggy

    cls = type(cls_name, (Function,), {
        "__slots__": (), "forward": staticmethod(forward), "backward": backward,
        "__module__": __name__,
        "__doc__": f"``gy * f'(x)`` of an elementwise rule as one node ({cls_name}).",
    })
    return cls


def _dual_times(x: Any, gy: Any, d1_times: Any, d2_times: Any) -> Any:
    """``gy * f'(x)`` on Dual data (forward-over-reverse) with the products of the
    tails formed scaled: value ``d1_times(r, g)``, tangent ``d2_times(r, g xd) +
    d1_times(r, gd)`` for x = r + xd eps, gy = g + gd eps.  None for other data
    (HyperDual, nested or mixed Duals: the formula is used there)."""
    from hyperdual import _number as hn

    if type(x) is hn.Dual:
        r, xd, tag, nd = x.real, x.dual, x.tag, x.nd
    elif core._is_dual(x):
        return None
    else:
        r, xd, tag, nd = x, None, None, None
    if type(gy) is hn.Dual:
        if tag is not None and (gy.tag is not tag or gy.nd != nd):
            return None
        g, gd, tag, nd = gy.real, gy.dual, gy.tag, gy.nd
    elif core._is_dual(gy):
        return None
    else:
        g, gd = gy, None
    if isinstance(r, Variable) or isinstance(g, Variable):
        return None
    if isinstance(r, hn._Number) or isinstance(g, hn._Number):
        # nested Duals (a third derivative through hyperdual helpers): the parts
        # are Duals of an inner tag, each product formed the same way
        val = _times_any(r, g, d1_times, d2_times)
        if val is None:
            return None
        t = None if xd is None else d2_times(r, g, xd)
        if gd is not None:
            t2 = _times_any(r, gd, d1_times, d2_times)
            if t2 is None:
                return None
            t = t2 if t is None else t + t2
        return hn.Dual._build((val, t), tag, nd)
    val = d1_times(r, g)
    # the tangents' direction axes lead; their value axes are lifted to the
    # product's, so that x and gy of different value shapes (gy the dual part of
    # an outer Dual, whose direction axis is a value axis here) broadcast value
    # axis against value axis: hyperdual.derivative of hyperdual.derivative of
    # reverse.derivative of i0e(x)**2 raised numpy's "input operand has more
    # dimensions than allowed by the axis remapping"
    vshape = np.broadcast_shapes(np.shape(r), np.shape(g))
    if nd:
        xd = None if xd is None else hn._lift(xd, nd, len(vshape))
        gd = None if gd is None else hn._lift(gd, nd, len(vshape))
    t = None
    with _fpe_ignored():
        if xd is not None:  # a zero tangent or cotangent stays 0
            t = np.where((xd == 0) | (g == 0), 0.0, d2_times(r, g, xd))
        if gd is not None:
            t2 = np.where(gd == 0, 0.0, d1_times(r, gd))
            t = t2 if t is None else t + t2
    shape = np.shape(xd if xd is not None else gd)[:nd or 0] + vshape
    t = t if np.shape(t) == shape else np.broadcast_to(t, shape)
    if np.ndim(t) == 0 and not isinstance(xd if xd is not None else gd, np.ndarray):
        t = _scalar_part(t)
    return hn.Dual._build((val, t), tag, nd)


def _scalar_part(t: Any) -> Any:
    """A 0-d part as a Python float, or a numpy scalar of its own type where that is
    not float64: a long double part of a call's redo in long double
    (fprange.widened) stays one (float() flushed erfcx''(e**380) ~ 1e-496 to 0,
    and the third derivative of erfcx(exp(v)) by three nested helpers changed sign)."""
    return float(t) if np.result_type(t) == np.float64 else np.asarray(t)[()]


def _times_any(x: Any, gy: Any, d1_times: Any, d2_times: Any) -> Any:
    """``gy * f'(x)`` by :func:`_dual_times` on Dual data, ``d1_times`` on plain."""
    if core._is_dual(x) or core._is_dual(gy):
        return _dual_times(x, gy, d1_times, d2_times)
    return d1_times(x, gy)


def _erfcx_d2_times(x: Any, gy: Any, *more: Any) -> Any:
    # erfcx'' = 2 / (sqrt(pi) x**3) (1 - 3/x**2 + ...): beyond 1e8 the leading term,
    # gy divided by x three times (x**3 alone overflows, erfcx'' alone underflows);
    # a second factor (gy gz of the graph's next order) divided by x once of them
    if more:
        (b,) = more
        return _select(x, lambda r: r > 1e8,
                       lambda x: (((gy / x) * (b / x)) / x) * (2.0 / _SQRT_PI),
                       lambda x: (gy * _erfcx_d2(x)) * b)
    return _select(x, lambda r: r > 1e8, lambda x: (((gy / x) / x) / x) * (2.0 / _SQRT_PI),
                   lambda x: gy * _erfcx_d2(x))


def _erfcx_d1_times(x: Any, gy: Any) -> Any:
    # erfcx' = -1 / (sqrt(pi) x**2) (1 - 3 / (2 x**2) + ...): beyond 1e9 the leading
    # term, gy divided by x twice (erfcx' alone underflows from 1e154 on)
    return _select(x, lambda r: r > 1e9, lambda x: -(((gy / x) / x) / _SQRT_PI),
                   lambda x: gy * _erfcx_d1(x))


_ErfcxD1 = _derivative_function("ErfcxD1", _erfcx_d1, _erfcx_d2, _erfcx_d2_times)
_SincD1 = _derivative_function("SincD1", _sinc_d1, _sinc_d2)
_I0D1 = _derivative_function("I0D1", sp.i1, lambda x: sp.i0(x) - _i1_over_x(x))
_I1D1 = _derivative_function("I1D1", lambda x: sp.i0(x) - _i1_over_x(x),
                             lambda x: sp.i1(x) - _i1_over_x_d(x))
_I0eD1 = _derivative_function("I0eD1", _I0E_D1, _I0E_D2, _I0E_D2_TIMES)
_I1eD1 = _derivative_function("I1eD1", _I1E_D1, _I1E_D2, _I1E_D2_TIMES)

def _inverse_d1_function(cls_name: str, hd_name: str, inverse: Any, d1: Any, c: float) -> Any:
    """f' of an inverse function y(x) as a Function of its own, whose backward is
    f'' = c y f'^2 (the output is f'): differentiating the formula for f' through
    the graph cancels (erfinv'' near 0 was 1e-16 instead of 1e-300).  On Dual data
    (forward-over-reverse) hyperdual's private rule of the same name."""

    def forward(x: Any) -> Any:
        if core._is_dual(x):
            from hyperdual import _generic

            return getattr(_generic, hd_name)(x)
        return d1(x, inverse(x))

    def backward(self: Any, gy: Any, y: Any, x: Any) -> Any:
        # f'' gy = c y f'**2 gy as (gy f') (c y f'): f'**2 overflows near the domain's
        # edges (erfcinv at 3e-200) where f'' gy is an ordinary float
        return _keep_zero(gy, (gy * y) * ((c * inverse(x)) * y))

    cls = type(cls_name, (Function,), {
        "__slots__": (), "forward": staticmethod(forward), "backward": backward,
        "__module__": __name__,
        "__doc__": f"The derivative of {hd_name[:-3]}, a rule of its own ({cls_name}).",
    })

    def grad(gy: Any, y: Any, x: Any) -> Any:
        return gy * (cls()(x) if isinstance(x, Variable) else forward(x))

    return cls, grad


_ErfinvD1, _erfinv_grad = _inverse_d1_function("ErfinvD1", "erfinv_d1", sp.erfinv,
                                              _erfinv_d1, 2.0)
_ErfcinvD1, _erfcinv_grad = _inverse_d1_function("ErfcinvD1", "erfcinv_d1", sp.erfcinv,
                                                _erfcinv_d1, 2.0)
_NdtriD1, _ndtri_grad = _inverse_d1_function("NdtriD1", "ndtri_d1", sp.ndtri, _ndtri_d1, 1.0)


class _LogNdtrD1(Function):
    """log_ndtr' = phi/Phi as a rule of its own: differentiating its erfcx formula
    overflows from x = 26.6 on (erfcx(-x/sqrt2)**2 = inf: third derivatives were
    wrong, Hessians of forward-over-reverse nan from 38); the backward is the
    precise h' (hyperdual's rule on Dual data)."""

    __slots__ = ()

    @staticmethod
    def forward(x: Any) -> Any:
        if core._is_dual(x):
            from hyperdual import _generic

            return _generic.log_ndtr_d1(x)
        return _log_ndtr_d1(x)

    def backward(self: Any, gy: Any, y: Any, x: Any) -> Any:
        return _keep_zero(gy, _log_ndtr_d2_grad(gy, y, x))


def _log_ndtr_h(x: Any) -> Any:
    return _LogNdtrD1()(x) if isinstance(x, Variable) else _LogNdtrD1.forward(x)


def _log_ndtr_d2(x: Any) -> Any:
    """h' = log_ndtr'' on arrays and Dual data: hyperdual's rule (the erfcx form for
    -4 <= x < 0, -h (x + h) with x + h by a continued fraction elsewhere below 0)."""
    from hyperdual import _rules

    return _rules._log_ndtr_d2(x)


def _log_ndtr_d3(x: Any) -> Any:
    """h'' (log_ndtr's third derivative): hyperdual's rule (a continued fraction
    below -4, Taylor tables on [-4, 2), no underflow of phi beyond 9) on arrays and
    Dual data; on Variables a node of its own (fourth derivatives)."""
    if isinstance(x, Variable):
        return _LogNdtrD3()(x)
    from hyperdual import _rules

    return _rules._log_ndtr_d3(x)


def _log_ndtr_d4(x: Any) -> Any:
    """The third derivative of h: hyperdual's rule on arrays and Dual data; on
    Variables (fifth derivatives) its closed form in h through the graph."""
    if isinstance(x, Variable):
        h = _log_ndtr_h(x)
        p = x + h
        hp = h * p
        b = p * (p + h) - 1.0
        return h * (((1.0 - hp) * (p + h) + p * (1.0 - 2.0 * hp)) - p * b)
    from hyperdual import _rules

    return _rules._log_ndtr_d4(x)


# h' and h'' as rules of their own too, whose backward is the next precise
# derivative: differentiating the erfcx form of h' through the graph cancels
# (reverse-over-reverse's third derivative of log_ndtr was 17% off at -1e8, 1e3 ulps
# at -10, 0 at 37.7)
_LogNdtrD2 = _derivative_function("LogNdtrD2", _log_ndtr_d2, _log_ndtr_d3)
_LogNdtrD3 = _derivative_function("LogNdtrD3", _log_ndtr_d3, _log_ndtr_d4)
_log_ndtr_d2_grad = _via(_LogNdtrD2, _log_ndtr_d2)


def _log_ndtr_grad(gy: Any, y: Any, x: Any) -> Any:
    return gy * _log_ndtr_h(x)

_DEG = math.pi / 180.0

_UNARY: list[tuple[str, Any, Any, tuple[str, ...], str, float]] = [
    ("Sinc", np.sinc, _via(_SincD1, _sinc_d1), ("sinc",),
     "(np.cos(np.pi * x) - np.sinc(x)) / x", 0.5),
    # (gy y) first: y psi(x) alone overflows near 0 (1e240 * -1e240 at x = 1e-240),
    # where the scaled seeds of the second-order watch keep gy y psi(x) in range
    ("Gamma", sp.gamma, lambda gy, y, x: (gy * y) * sp.digamma(x), ("gamma",),
     "__import__('scipy.special').special.gamma(x) * "
     "__import__('scipy.special').special.digamma(x)", 2.5),
    ("Loggamma", sp.loggamma, lambda gy, y, x: gy * sp.digamma(x), ("loggamma",),
     "__import__('scipy.special').special.digamma(x)", 2.5),
    ("Erfinv", sp.erfinv, _erfinv_grad, ("erfinv",),
     "np.sqrt(np.pi) / 2 * np.exp(__import__('scipy.special').special.erfinv(x) ** 2)", 0.5),
    ("Erfcinv", sp.erfcinv, _erfcinv_grad, ("erfcinv",),
     "-np.sqrt(np.pi) / 2 * np.exp(__import__('scipy.special').special.erfcinv(x) ** 2)",
     0.5),
    ("Erfcx", sp.erfcx, _via(_ErfcxD1, _erfcx_d1, _erfcx_d1_times), ("erfcx",),
     "2 * x * __import__('scipy.special').special.erfcx(x) - 2 / np.sqrt(np.pi)", 0.5),
    ("Ndtr", sp.ndtr, lambda gy, y, x: gy * (_u._exp_minus_half_square(x) / _SQRT_2PI),
     ("ndtr",),
     "np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi)", 0.5),
    ("LogNdtr", sp.log_ndtr, _log_ndtr_grad, ("log_ndtr",),
     "np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi) / __import__('scipy.special').special.ndtr(x)",
     0.5),
    ("Ndtri", sp.ndtri, _ndtri_grad, ("ndtri",),
     "np.sqrt(2 * np.pi) * np.exp(__import__('scipy.special').special.ndtri(x) ** 2 / 2)",
     0.3),
    ("I0", sp.i0, _via(_I0D1, sp.i1), ("i0",), "__import__('scipy.special').special.i1(x)",
     0.5),
    ("I1", sp.i1, _via(_I1D1, lambda x: sp.i0(x) - _i1_over_x(x)), ("i1",),
     "np.i0(x) - __import__('scipy.special').special.i1(x) / x", 0.5),
    ("I0e", sp.i0e, _via(_I0eD1, _I0E_D1, _I0E_D1_TIMES), ("i0e",),
     "np.exp(-x) * (__import__('scipy.special').special.i1(x) - np.i0(x))", 0.5),
    ("I1e", sp.i1e, _via(_I1eD1, _I1E_D1, _I1E_D1_TIMES), ("i1e",),
     "np.exp(-x) * (np.i0(x) - (1 + 1 / x) * __import__('scipy.special').special.i1(x))",
     0.5),
    ("Entr", sp.entr, lambda gy, y, x: -(gy * (np.log(x) + 1.0)), ("entr",),
     "-(np.log(x) + 1)", 0.5),
    ("Logit", sp.logit, lambda gy, y, x: (gy / x) / (1.0 - x), ("logit",),
     "1 / (x * (1 - x))", 0.3),
]

for _entry in _UNARY:
    _u._make_unary(*_entry)

# numpy's non-ufunc spellings and the aliases that are distinct ufunc objects
FUNCTIONS[np.sinc] = _u.sinc  # type: ignore[attr-defined]
FUNCTIONS[np.i0] = _u.i0  # type: ignore[attr-defined]
for _alias, _of in ((np.radians, np.deg2rad), (np.degrees, np.rad2deg)):
    UFUNCS[_alias] = UFUNCS[_of]
    core.UNARY_UFUNCS[_alias] = core.UNARY_UFUNCS[_of]


# ----------------------------------------------------------------------------
# binary rules: one Function class per rule, partials written with numpy calls
# ----------------------------------------------------------------------------
class _Binary(Function):
    """An elementwise function of two arguments; ``partials(a, b, y)`` gives (fa, fb)."""

    __slots__ = ()

    @staticmethod
    def partials(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
        """The partial derivatives ``(df/da, df/db)`` at ``(a, b)`` (each rule has its own).

        Written with numpy calls, so that they are arrays on the fast path and
        recorded graphs under ``create_graph=True``.

        Parameters
        ----------
        a, b : numpy.ndarray or Variable
            The operands' values.
        y : numpy.ndarray or Variable
            The output ``f(a, b)``.
        wa, wb : bool
            Whether each operand needs its partial (a constant does not).

        Returns
        -------
        tuple
            ``(fa, fb)``, each broadcastable to the output (unused ones may
            be None or zero).

        Examples
        --------
        ``logaddexp``'s partials are ``exp(a - y)`` and ``exp(b - y)``, which sum to one:

        >>> import numpy as np
        >>> a, b = np.array([0.0]), np.array([np.log(3.0)])
        >>> fa, fb = Logaddexp.partials(a, b, np.logaddexp(a, b), True, True)
        >>> fa, fb
        (array([0.25]), array([0.75]))
        """
        raise NotImplementedError

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        wa, wb = isinstance(ia, Variable), isinstance(ib, Variable)
        fa, fb = self.partials(a, b, y, wa, wb)
        # partials formed from a constant operand (a 0-d float64 array, not weak) or
        # np.zeros are float64: float32 data keeps float32 gradients
        dt = getattr(_value(y), "dtype", None)
        if dt is not None and dt.kind == "f" and dt != np.float64:
            fa, fb = _in_dtype(fa, dt), _in_dtype(fb, dt)
        ga = sum_to(_keep_zero(gy, gy * fa), a.shape) if wa else None
        gb = sum_to(_keep_zero(gy, gy * fb), b.shape) if wb else None
        return ga, gb


def _in_dtype(f: Any, dt: np.dtype) -> Any:
    if type(f) is np.ndarray and f.dtype == np.float64:
        return f.astype(dt)
    return f


def _zeros_of(v: Any) -> Any:
    return np.zeros(np.shape(_value(v)))


def _plain_pair(a: Any, b: Any) -> tuple[Any, Any]:
    return plain_array(_value(a)), plain_array(_value(b))


def _remainder_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    ra, rb = _plain_pair(a, b)
    with _fpe_ignored():
        q = np.floor_divide(ra, rb)
    return 1.0, -q


def _fmod_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    ra, rb = _plain_pair(a, b)
    with _fpe_ignored():
        q = np.round((ra - np.fmod(ra, rb)) / rb)
    return 1.0, -q


def _flat_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    return _zeros_of(a), _zeros_of(b)


def _heaviside_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    return _zeros_of(a), np.where(plain_array(_value(a)) == 0, 1.0, 0.0)


def _copysign_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    ra, rb = _plain_pair(a, b)
    return np.sign(ra) * np.copysign(1.0, rb), _zeros_of(b)


def _float_power_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    # the partials of power (the P_ij family of hyperdual._powrule: exact at x = 0,
    # at every order, no intermediate overflow), in float64 as float_power computes,
    # or wider (long double in, long double out: a pass in fprange.WIDE was -0 for
    # d/dv float_power(exp(v), -2.0) at 300, where x**-3 = exp(-900) was cast down)
    def f64(v: Any) -> Any:
        if isinstance(v, Variable) or core._is_dual(v):
            return v
        dt = getattr(v, "dtype", None)
        wide = dt is not None and dt.kind == "f" and dt.itemsize > 8
        return plain_array(v, None if wide else np.float64)

    return (_b._pow_partial(1, 0, f64(a), f64(b)) if wa else None,
            _b._pow_partial(0, 1, f64(a), f64(b)) if wb else None)


def _logaddexp_diff(a: Any, b: Any) -> Any:
    """a - b, with 0 where a and b are the same infinity (NaN there otherwise): the
    partials of every a == b, 1/2 each (np.logaddexp.reduce of [-inf, -inf, 1] had a
    NaN Hessian)."""
    ra, rb = _value(a), _value(b)
    if _is_foreign_array(ra) or _is_foreign_array(rb):
        return a - b  # lazy (dask) data: asking would compute it
    ra, rb = np.asarray(ra), np.asarray(rb)
    same = np.isinf(ra) & (ra == rb)
    if not np.any(same):
        return a - b
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, a - b)


def _logaddexp_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    d = _logaddexp_diff(a, b)
    return sp.expit(d), sp.expit(-d)


def _logaddexp2_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    d = _logaddexp_diff(a, b) * _LN2
    return sp.expit(d), sp.expit(-d)


def _xlog1py_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    return np.log1p(b), (a / zero_weighted_denominator(a, 1.0 + b, wa) if wb else None)



def _log_ratio(a: Any, b: Any) -> Any:
    # log(a / b): log1p((a - b) / b) near a = b, log(a) - log(b) where a / b leaves
    # the normal range (log(a / b) was -inf at (5e-324, 1e10), the truth -767)
    ra, rb = _plain_pair(a, b)
    near, split = _log_ratio_branches(ra, rb)

    def far(a: Any) -> Any:
        if not _may_hold(split):
            return np.log(a / b)
        return _select(a, lambda _r: split, lambda a: np.log(a) - np.log(b),
                       lambda a: np.log(a / b))
    return _select(a, lambda _r: near, lambda a: np.log1p((a - b) / b), far)


def _rel_entr_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    return _log_ratio(a, b) + 1.0, (-(a / b) if wb else None)


def _kl_div_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    # d/db = 1 - a/b: as (b - a)/b its graph derivative 1/b - ((b - a)/b)/b cancels
    # for |a| << |b| (kl_div'' in b off by 1e-8 at (1e-8, 2)); 1 - a/b cancels for
    # a ~ b, where b - a is exact
    if not wb:
        return _log_ratio(a, b), None
    ra, rb = _plain_pair(a, b)
    with _fpe_ignored():
        far = np.abs(ra) < 0.5 * np.abs(rb)
    gb = _select(b, lambda _r: far, lambda b: 1.0 - a / b, lambda b: (b - a) / b)
    return _log_ratio(a, b), gb


class _PseudoHuberD(Function):
    """A first partial of ``pseudo_huber(delta, r)`` (``which`` 0: by delta, 1: by r)
    as a rule of its own, whose backward is the precise second partials
    (``_exactdiff.elementwise.pseudo_huber_second``): through the graph of the first
    partial's formula, d2/d delta dr at (1e-200, 1e-250) was 0 (truth 1e-150): the
    adjoint of a factor underflowed.

    Examples
    --------
    >>> from reverse import Variable
    >>> r = Variable(0.0)
    >>> y = _PseudoHuberD(1)(1.0, r)
    >>> y.backward()
    >>> float(r.grad.data)  # d2/dr2 at r = 0: 1
    1.0
    """

    __slots__ = ("which",)

    def __init__(self, which: int) -> None:
        self.which = which

    def forward(self, a: Any, b: Any) -> Any:
        with _fpe_ignored():
            return _e.pseudo_huber_first(a, b)[self.which]

    def backward(self: Any, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        with _fpe_ignored():
            hdd, hdr, hrr = _e.pseudo_huber_second(a, b)
        pa, pb = (hdd, hdr) if self.which == 0 else (hdr, hrr)
        ga = sum_to(_keep_zero(gy, gy * pa), np.shape(a)) if isinstance(ia, Variable) else None
        gb = sum_to(_keep_zero(gy, gy * pb), np.shape(b)) if isinstance(ib, Variable) else None
        return ga, gb


def _pseudo_huber_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    # scale-free forms (_exactdiff.elementwise.pseudo_huber_first); on a graph, nodes
    # whose backward is the second partials
    if isinstance(a, Variable) or isinstance(b, Variable):
        return (_PseudoHuberD(0)(a, b) if wa else None), (_PseudoHuberD(1)(a, b) if wb else None)
    with _fpe_ignored():
        return _e.pseudo_huber_first(a, b)


def _psi_gap(a: Any, b: Any) -> Any:
    return sp.digamma(a) - sp.digamma(a + b)


def _betaln_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    # psi(a) - psi(a + b) cancels when |b| << a: _exactdiff.special forms it from b
    # (in differentiable operations, so the graph's second derivative is precise too)
    return psi_difference(a, b, 0, _psi_gap), psi_difference(b, a, 0, _psi_gap)


class _BetaDa(Function):
    """``d beta(a, b) / da`` as a rule of its own, whose backward is beta's precise
    second partials: differentiating the formula ``B (psi(a) - psi(a + b))``
    through the graph cancels when an argument is small (B_ab at (2, 1e-8) lost 8
    digits).  On Dual data (forward-over-reverse) hyperdual's private rule.

    Examples
    --------
    >>> from reverse import Variable
    >>> a = Variable(2.0)
    >>> y = _BetaDa()(a, 1e-8)
    >>> y.backward()
    >>> round(float(a.grad.data), 6)  # B_aa = pi**2 / 3 - 2 zeta(3) + O(b)
    0.404114
    """

    __slots__ = ()

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        if core._is_dual(a) or core._is_dual(b):
            from hyperdual import _generic

            return _generic.beta_da(a, b)
        return sp.beta(a, b) * psi_difference(a, b, 0, _psi_gap)

    def backward(self: Any, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        wa, wb = isinstance(ia, Variable), isinstance(ib, Variable)
        if is_plain(a, b):
            baa, bab, _ = beta_second_partials(a, b)
        else:  # a graph (third derivatives) or Dual data: the formulas
            bv = sp.beta(a, b)
            la, lb = psi_difference(a, b, 0, _psi_gap), psi_difference(b, a, 0, _psi_gap)
            baa = bv * (psi_difference(a, b, 1, _psi1_gap) + la * la)
            bab = bv * (la * lb - _u._polygamma(1, a + b))
        ga = sum_to(_keep_zero(gy, gy * baa), a.shape) if wa else None
        gb = sum_to(_keep_zero(gy, gy * bab), b.shape) if wb else None
        return ga, gb


def _psi1_gap(a: Any, b: Any) -> Any:
    return _u._polygamma(1, a) - _u._polygamma(1, a + b)


def _beta_da_of(a: Any, b: Any, y: Any) -> Any:
    if isinstance(a, Variable) or isinstance(b, Variable) or core._is_dual(a) \
            or core._is_dual(b):
        return _BetaDa()(a, b) if isinstance(a, Variable) or isinstance(b, Variable) \
            else _BetaDa.forward(a, b)
    return y * psi_difference(a, b, 0, _psi_gap)


def _beta_p(a: Any, b: Any, y: Any, wa: bool, wb: bool) -> Any:
    return (_beta_da_of(a, b, y) if wa else None), (_beta_da_of(b, a, y) if wb else None)


_BINARY = [
    ("Remainder", np.remainder, _remainder_p, ("remainder", "mod")),
    ("Fmod", np.fmod, _fmod_p, ("fmod",)),
    ("FloorDivide", np.floor_divide, _flat_p, ("floor_divide",)),
    ("Heaviside", np.heaviside, _heaviside_p, ("heaviside",)),
    ("Copysign", np.copysign, _copysign_p, ("copysign",)),
    ("FloatPower", np.float_power, _float_power_p, ("float_power",)),
    ("Logaddexp", np.logaddexp, _logaddexp_p, ("logaddexp",)),
    ("Logaddexp2", np.logaddexp2, _logaddexp2_p, ("logaddexp2",)),
    ("Xlog1py", sp.xlog1py, _xlog1py_p, ("xlog1py",)),
    ("PseudoHuber", sp.pseudo_huber, _pseudo_huber_p, ("pseudo_huber",)),
    ("RelEntr", sp.rel_entr, _rel_entr_p, ("rel_entr",)),
    ("KlDiv", sp.kl_div, _kl_div_p, ("kl_div",)),
    ("Beta", sp.beta, _beta_p, ("beta",)),
    ("Betaln", sp.betaln, _betaln_p, ("betaln",)),
]


_BINARY_CLASS_DOC = """``{name}(a, b)`` elementwise (reverse mode): the node :func:`{name}` records.

Examples
--------
>>> from reverse import Variable
>>> a = Variable([0.7])
>>> y = {cls}()(a, 1.3)
>>> y.backward()
>>> a.grad.shape
(1,)
"""


def _make_binary(cls_name: str, ufunc: Any, partials: Any, names: tuple[str, ...]) -> None:
    cls = type(cls_name, (_Binary,), {
        "__slots__": (), "forward": staticmethod(ufunc),
        "partials": staticmethod(partials), "__module__": __name__,
        "__doc__": _BINARY_CLASS_DOC.format(name=names[0], cls=cls_name),
    })
    globals()[cls_name] = cls
    __all__.append(cls_name)
    _b._make_binary(cls, ufunc, names)


for _entry in _BINARY:
    _make_binary(*_entry)


# beta's backward (no docstring of its own: it implements Function.backward's protocol,
# whose documentation it inherits like every rule's backward): on plain float64 data the
# cotangent meets B L_a as one product of mantissas and exponents
# (``_exactdiff.special.beta_times``): the partial alone underflowed at a = e**300,
# b = 2 (d/dv beta(exp(v), 2) was 0, truth -5.3e-261; the range watch's scaled
# cotangent could not reach it); otherwise (graphs, Dual data, float32) the partials' path.
def _beta_backward(self: Any, gy: Any, y: Any, a: Any, b: Any) -> Any:
    if not (is_plain(a, b, gy) and np.result_type(a, b, gy, 1.0) == np.float64):
        return _Binary.backward(self, gy, y, a, b)
    ia, ib = self._inputs
    wa, wb = isinstance(ia, Variable), isinstance(ib, Variable)
    ga = sum_to(_keep_zero(gy, beta_times(a, b, (1, 0), gy)), a.shape) if wa else None
    gb = sum_to(_keep_zero(gy, beta_times(a, b, (0, 1), gy)), b.shape) if wb else None
    return ga, gb


Beta.backward = _beta_backward  # type: ignore[name-defined]  # noqa: F821
FloatPower._float64_result = True  # type: ignore[name-defined]  # noqa: F821
_float_power_partials = UFUNCS[np.float_power]


def _float_power(a: Any, b: Any) -> Any:
    """``np.float_power``: for a float64 Variable and a plain constant scalar
    exponent, ``power``'s own rule (the same value, float64 in float64 out), whose
    products with the cotangent are formed in range and whose double backprop
    stays in its family (the partials' path formed ``b a**(b - 1)`` alone:
    d/dv float_power(exp(v), -2.0) at 300 was 0, truth -5.3e-261); otherwise the
    P_ij partials in float64."""
    if isinstance(a, Variable) and not isinstance(b, Variable) and (
            type(b) is float or type(b) is int or isinstance(b, np.floating)) and \
            getattr(a.data, "dtype", None) == np.float64:
        return _b.power(a, float(b))  # type: ignore[attr-defined]
    return _float_power_partials(a, b)


_float_power.__name__ = _float_power.__qualname__ = "float_power"
_float_power.__doc__ = _float_power_partials.__doc__
UFUNCS[np.float_power] = float_power = _float_power


def _divmod(a: Any, b: Any) -> tuple[Variable, Variable]:
    return _b.floor_divide(a, b), _b.remainder(a, b)  # type: ignore[attr-defined]


UFUNCS[np.divmod] = _divmod


def _install_operators() -> None:
    def op(fn: Any, reflected: bool) -> Any:
        def method(self: Variable, other: Any) -> Any:
            if not isinstance(other, Variable) and core._const(other) is None:
                return NotImplemented
            return fn(other, self) if reflected else fn(self, other)
        return method

    Variable.__mod__ = op(_b.remainder, False)  # type: ignore[attr-defined]
    Variable.__rmod__ = op(_b.remainder, True)  # type: ignore[attr-defined]
    Variable.__floordiv__ = op(_b.floor_divide, False)  # type: ignore[attr-defined]
    Variable.__rfloordiv__ = op(_b.floor_divide, True)  # type: ignore[attr-defined]
    Variable.__divmod__ = op(_divmod, False)  # type: ignore[attr-defined]
    Variable.__rdivmod__ = op(lambda a, b: _divmod(a, b), True)  # type: ignore[attr-defined]


_install_operators()


# composites shared with forward mode (_exactdiff.elementwise)
UFUNCS[np.fmax] = _e.fmax
UFUNCS[np.fmin] = _e.fmin
UFUNCS[sp.huber] = _e.huber
# beta next to its zeros: Gamma(a) Gamma(b) rgamma(a + b) (_exactdiff.special)
UFUNCS[sp.beta] = partial(beta_near_zeros, rule=UFUNCS[sp.beta])
UFUNCS[np.modf] = _e.modf
UFUNCS[np.frexp] = _e.frexp
UFUNCS[np.ldexp] = _e.ldexp
UFUNCS[np.nextafter] = _e.nextafter
UFUNCS[np.spacing] = _e.spacing
FUNCTIONS[np.nan_to_num] = _e.nan_to_num
FUNCTIONS[np.angle] = _e.angle


def _is_hyperdual(x: Any) -> bool:
    from hyperdual import _number as hn

    return isinstance(x, hn.HyperDual)
