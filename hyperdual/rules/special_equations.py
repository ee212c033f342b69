"""Forward-mode rules for scipy.special functions whose derivative follows from their
definition as an integral, a differential equation or a series:

* the integrals of Bessel functions ``iti0k0``, ``itj0y0`` (derivatives I0, K0 and J0,
  Y0) and ``it2i0k0``, ``it2j0y0`` (derivatives (I0 - 1)/x, -K0/x and (1 - J0)/x,
  -Y0/x, by their power series for ``|x| <= 2``, where the quotients cancel);
* the parabolic cylinder functions ``pbdv`` (D_v and D_v'), ``pbvv`` (V_v and V_v')
  and ``pbwa`` (W(a, x) and W'), in x with the order constant: each pair is
  (y, y'), and y'' = (x²/4 - v - 1/2) y for D_v and V_v, (a - x²/4) y for W;
* Tukey's lambda distribution function ``tklmbda(x, lmbda)`` in x: it inverts the
  quantile Q(p) = (p^l - (1 - p)^l)/l, so F' = 1 / (F^(l-1) + (1 - F)^(l-1)), with
  1 - F taken as F(-x) (the distribution is symmetric), and 0 outside the support
  ``|x| <= 1/l`` of a positive l;
* Wright's generalised Bessel function ``wright_bessel(a, b, x)``, the series
  sum x^k / (k! Gamma(a k + b)), in x: its derivative is ``wright_bessel(a, a + b,
  x)``; and ``log_wright_bessel`` (scipy >= 1.14), whose derivative is the ratio
  exp(log_wright_bessel(a, a + b, x) - log_wright_bessel(a, b, x)).

Every derivative is written with functions that have rules themselves (the rules
differentiate themselves to every order, in every engine, as in
:mod:`hyperdual.rules.special`).  The orders and parameters are constants: a
differentiated value there raises ``TypeError``.  Left out on purpose: ``itairy``,
whose scipy values are good to about 1e-8 only (their finite differences are 2 % off
Ai(x) at x = 4), so an exact derivative would disagree with scipy's own function; and
``airye``, whose derivatives by its equation, eAi' = eAip + sqrt(x) eAi, cancel
(eAip -> -sqrt(x) eAi as x grows: 1e-12 relative at x = 2, 6e-10 at third order at
x = 30), and want the asymptotic series instead.

Examples
--------
>>> import numpy as np, scipy.special as sp
>>> from hyperdual import derivative
>>> bool(np.isclose(derivative(lambda x: sp.itj0y0(x)[0], 1.5), sp.j0(1.5)))
True
>>> bool(np.isclose(derivative(lambda x: sp.pbdv(1.5, x)[0], 0.7), sp.pbdv(1.5, 0.7)[1]))
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as sp

from _exactdiff._common import value as _plain
from _exactdiff.special import horner

from .special import (
    MULTI,
    _component,
    _constant_parameters,
    _exp_over,
    _in_first,
    _outputs,
    _rule,
)

# dispatch targets only: hyperdual exports nothing from here
__all__: list[str] = []


# --- integrals of Bessel functions --------------------------------------------------
#: 1 / (k!)² for k = 1 .. 13: (I0(x) - 1)/x = x/4 sum_k u^(k-1)/(k!)², u = x²/4, and
#: (1 - J0(x))/x the same in -u; at |x| <= 2 (u <= 1) the last term is 1/(13!)² ~ 2.6e-20
_INV_FACTORIAL_SQUARED = tuple(1.0 / float(math.factorial(k)) ** 2 for k in range(1, 14))


def _bessel_quotient(x: Any, sign: float, bessel0: Any) -> Any:
    """(I0(x) - 1)/x (sign +1, bessel0 = i0) or (1 - J0(x))/x (sign -1, j0): the
    series for |x| <= 2, where the difference cancels, the quotient beyond; and
    I0(x)/x beyond |x| = 700 as i0e(x) e^|x| / x, whose e^|x|/|x| is formed without
    overflow (I0 overflows from 713.98, the quotient only from 720.5)."""
    ax = np.abs(_plain(x))
    near = ax <= 2.0
    xn = np.where(near, x, 0.0)
    xf = np.where(near, 3.0, x)  # (any point beyond 2 for the masked-out entries)
    series = 0.25 * xn * horner(sign * (0.25 * (xn * xn)), _INV_FACTORIAL_SQUARED)
    out = np.where(near, series, sign * (bessel0(xf) - 1.0) / xf)
    if sign < 0:
        return out
    far = ax > 700.0
    xb = np.where(far, x, 701.0)
    return np.where(far, np.sign(xb) * sp.i0e(xb) * _exp_over(np.abs(xb)), out)


_outputs(sp.iti0k0, _component(sp.iti0k0, 0, lambda x: sp.i0(x)),
         _component(sp.iti0k0, 1, lambda x: sp.k0(x)))
_outputs(sp.itj0y0, _component(sp.itj0y0, 0, lambda x: sp.j0(x)),
         _component(sp.itj0y0, 1, lambda x: sp.y0(x)))
# it2i0k0 = (int_0^x (I0(t) - 1)/t dt, int_x^inf K0(t)/t dt), it2j0y0 likewise with
# (1 - J0(t))/t and Y0(t)/t
_outputs(sp.it2i0k0, _component(sp.it2i0k0, 0, lambda x: _bessel_quotient(x, 1.0, sp.i0)),
         _component(sp.it2i0k0, 1, lambda x: -sp.k0(x) / x))
_outputs(sp.it2j0y0, _component(sp.it2j0y0, 0, lambda x: _bessel_quotient(x, -1.0, sp.j0)),
         _component(sp.it2j0y0, 1, lambda x: -sp.y0(x) / x))


# --- parabolic cylinder functions: (y, y') with y'' = q(x) y ---------------------------
def _pair(ufunc: Any, q: Any) -> None:
    """``ufunc(v, x) -> (y, y')`` in x, ``v`` constant, where y'' = q(v, x) y."""
    name = ufunc.__name__
    y = _in_first(lambda x, v: ufunc(v, x)[0], f"{name}[0]", lambda x, v: dy(x, v))
    dy = _in_first(lambda x, v: ufunc(v, x)[1], f"{name}[1]",
                   lambda x, v: q(np.asarray(v, dtype=float), x) * y(x, v))

    MULTI[ufunc] = _constant_parameters(name, lambda v, x: (y(x, v), dy(x, v)),
                                       {0: "its order (the first argument)"}, "x")


_pair(sp.pbdv, lambda v, x: 0.25 * (x * x) - (v + 0.5))
_pair(sp.pbvv, lambda v, x: 0.25 * (x * x) - (v + 0.5))
_pair(sp.pbwa, lambda a, x: a - 0.25 * (x * x))


# --- Tukey's lambda distribution ------------------------------------------------------
def _tukey_lambda_density(x: Any, lmbda: Any) -> Any:
    lmbda = np.asarray(lmbda, dtype=float)
    below, above = _tklmbda(-x, lmbda), _tklmbda(x, lmbda)  # 1 - F and F
    with np.errstate(all="ignore"):
        density = 1.0 / (above ** (lmbda - 1.0) + below ** (lmbda - 1.0))
        outside = (lmbda > 0) & (np.abs(_plain(x)) * lmbda > 1.0)
    return np.where(outside, 0.0, density)


_tklmbda = _in_first(lambda x, lmbda: sp.tklmbda(x, lmbda), "tklmbda", _tukey_lambda_density)


MULTI[sp.tklmbda] = _constant_parameters("tklmbda", _tklmbda, {1: "lmbda"}, "x")


# --- Wright's generalised Bessel function ---------------------------------------------
wright_bessel = _rule(sp.wright_bessel, 2, lambda a, b, x: wright_bessel(
    a, np.asarray(a, dtype=float) + b, x))
if hasattr(sp, "log_wright_bessel"):  # scipy >= 1.14
    log_wright_bessel = _rule(sp.log_wright_bessel, 2, lambda a, b, x: np.exp(
        log_wright_bessel(a, np.asarray(a, dtype=float) + b, x) - log_wright_bessel(a, b, x)))
