"""Forward-mode rules for scipy.special functions with a constant parameter:
Bessel functions of any order (``jv``/``jn``, ``yv``, ``yn``, ``iv``, ``ive``,
``kv``, ``kve``, ``kn``, ``jve``, ``yve``, ``j0``, ``j1``, ``y0``, ``y1``, ``k0``,
``k1``), ``rgamma``, the regularised incomplete gamma and beta functions
``gammainc``, ``gammaincc``, ``betainc`` and their inverses ``gammaincinv``,
``gammainccinv``, ``betaincinv`` (differentiated in ``x``), the distribution
functions ``chdtr``, ``gdtr``, ``pdtr``, ``bdtr``, ``nbdtr``, ``fdtr``, ``stdtr``
(and each ``...c`` complement), ``ndtri_exp``, the hypergeometric ``hyp0f1``,
``hyp1f1``, ``hyp2f1``, ``hyperu``, the orthogonal polynomials ``eval_legendre``,
``eval_chebyt``, ``eval_chebyu``, ``eval_gegenbauer``, ``eval_jacobi``,
``eval_hermite``, ``eval_hermitenorm``, ``eval_laguerre``, ``eval_genlaguerre``
(in ``x``), ``expi``, ``exp1``, ``expn``, ``erfi``, ``wrightomega``, ``exp10``,
``cosm1``, ``sindg``, ``cosdg``, ``tandg``, ``cotdg``, and ``gammasgn``.

Each is a :class:`hyperdual.custom_jvp` whose JVP is written with the same
functions (``jv' = (j_{v-1} - j_{v+1}) / 2`` ...), so the rule differentiates
itself: HyperDuals, direction stacks, nesting and reverse mode (which
registers the same objects, :mod:`reverse.rules.special`) all follow from it.
The order ``v`` (and ``a``, ``b`` of the incomplete functions) is a constant:
a differentiated value there raises ``TypeError`` rather than dropping its
derivative.

Examples
--------
>>> import numpy as np, scipy.special as sp
>>> from hyperdual import derivative
>>> bool(np.isclose(derivative(lambda x: sp.jv(1.5, x), 2.0),
...                 (sp.jv(0.5, 2.0) - sp.jv(2.5, 2.0)) / 2))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sp

from _exactdiff import elementwise as _e
from _exactdiff._common import is_traced
from _exactdiff._common import value as _plain

from .._number import implements
from ..custom import custom_jvp

# dispatch targets only: hyperdual exports nothing from here
__all__: list[str] = []

#: scipy ufunc -> (custom function, number of constant leading parameters)
SPECIAL: dict[Any, tuple[custom_jvp, int]] = {}


def _rule(ufunc: Any, nparams: int, deriv: Callable[..., Any]) -> custom_jvp:
    """A custom_jvp for ``ufunc(*params, x)`` with ``d/dx = deriv(*params, x)``."""
    f = custom_jvp(lambda *args: ufunc(*args), nondiff_argnums=tuple(range(nparams)))
    f.__name__ = f.__qualname__ = ufunc.__name__

    @f.defjvp
    def _jvp(*args: Any) -> Any:
        params, (primals, tangents) = args[:nparams], args[nparams:]
        (x,), (t,) = primals, tangents
        return f(*params, x), t * deriv(*params, x)

    @f.defvjp
    def _vjp(*args: Any) -> Any:
        params, (primals, _out, g) = args[:nparams], args[nparams:]
        return g * deriv(*params, primals[0])

    SPECIAL[ufunc] = (f, nparams)
    return f


def call(ufunc: Any, engine: str, *args: Any) -> Any:
    """Evaluate a rule of :data:`SPECIAL`; its parameters must be constants."""
    f, nparams = SPECIAL[ufunc]
    if len(args) != nparams + 1:
        raise TypeError(f"{engine}: scipy.special.{ufunc.__name__} takes {nparams + 1} "
                        f"arguments, got {len(args)}")
    for p in args[:nparams]:
        if is_traced(p):
            raise TypeError(
                f"{engine}: scipy.special.{ufunc.__name__}: the derivative with respect to "
                "its parameters (order, shape) is not supported; only the last argument "
                "may be differentiated")
    return f(*args)


def _half(f: Any, v: Any, x: Any, sign: float) -> Any:
    return 0.5 * (f(v - 1.0, x) + sign * f(v + 1.0, x))


jv = _rule(sp.jv, 1, lambda v, x: _half(jv, v, x, -1.0))
yv = _rule(sp.yv, 1, lambda v, x: _half(yv, v, x, -1.0))
iv = _rule(sp.iv, 1, lambda v, x: _half(iv, v, x, 1.0))
kv = _rule(sp.kv, 1, lambda v, x: -_half(kv, v, x, 1.0))
# scaled: ive = iv e^{-|x|}, kve = kv e^{x}
ive = _rule(sp.ive, 1, lambda v, x: _half(ive, v, x, 1.0) - np.sign(x) * ive(v, x))
kve = _rule(sp.kve, 1, lambda v, x: kve(v, x) - _half(kve, v, x, 1.0))
yn = _rule(sp.yn, 1, lambda n, x: _half(yv, np.asarray(n, dtype=float), x, -1.0))
j0 = _rule(sp.j0, 0, lambda x: -j1(x))
j1 = _rule(sp.j1, 0, lambda x: 0.5 * (j0(x) - jv(2.0, x)))
y0 = _rule(sp.y0, 0, lambda x: -y1(x))
y1 = _rule(sp.y1, 0, lambda x: 0.5 * (y0(x) - yv(2.0, x)))
k0 = _rule(sp.k0, 0, lambda x: -k1(x))
k1 = _rule(sp.k1, 0, lambda x: -0.5 * (k0(x) + kv(2.0, x)))
rgamma = _rule(sp.rgamma, 0, lambda x: -rgamma(x) * sp.digamma(x))
def _gamma_density(a: Any, x: Any) -> Any:
    """x^(a-1) e^-x / Gamma(a), the derivative of gammainc in x (by xlogy: 1 at
    a = 1, x = 0, where (a - 1) log x gave 0 * -inf = nan)."""
    return np.exp(sp.xlogy(np.asarray(a, dtype=float) - 1.0, x) - x - sp.gammaln(a))


def _beta_density(a: Any, b: Any, x: Any) -> Any:
    """x^(a-1) (1-x)^(b-1) / B(a, b), the derivative of betainc in x."""
    return np.exp(sp.xlogy(np.asarray(a, dtype=float) - 1.0, x)
                  + sp.xlog1py(np.asarray(b, dtype=float) - 1.0, -x) - sp.betaln(a, b))


# d/dx P(a, x) = x^(a-1) e^-x / Gamma(a); Q = 1 - P
gammainc = _rule(sp.gammainc, 1, _gamma_density)
gammaincc = _rule(sp.gammaincc, 1, lambda a, x: -_gamma_density(a, x))
# d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b)
betainc = _rule(sp.betainc, 2, _beta_density)


# --- more of scipy.special: each derivative in closed form, written with functions that
# have rules, so every order follows.  Where the textbook form overflows, cancels or
# divides 0 by 0 inside the range, it is rewritten (comments say where).
_LN2, _LN10, _DEG = float(np.log(2.0)), float(np.log(10.0)), float(np.pi / 180.0)

exp10 = _rule(sp.exp10, 0, lambda x: _LN10 * exp10(x))
cosm1 = _rule(sp.cosm1, 0, lambda x: -np.sin(x))
sindg = _rule(sp.sindg, 0, lambda x: _DEG * cosdg(x))
cosdg = _rule(sp.cosdg, 0, lambda x: -_DEG * sindg(x))
tandg = _rule(sp.tandg, 0, lambda x: _DEG * (1.0 + tandg(x) ** 2))
cotdg = _rule(sp.cotdg, 0, lambda x: -_DEG * (1.0 + cotdg(x) ** 2))
erfi = _rule(sp.erfi, 0, lambda x: (2.0 / np.sqrt(np.pi)) * np.exp(x * x))


def _pos_log(x: Any) -> Any:
    """log(x) where x > 0, 0 elsewhere (the safe-where idiom: no log of a negative
    number in the branch np.where drops, whose nan would reach the derivatives)."""
    pos = np.real(_plain(x)) > 0
    return np.where(pos, np.log(np.where(pos, x, 1.0)), 0.0)


def _expi_derivative(x: Any) -> Any:
    # e^x / x as exp(x - log x) for x > 0: e^x overflows from x = 710, Ei(x) and
    # its derivative only from x = 716
    pos = np.real(_plain(x)) > 0
    return np.where(pos, np.exp(x - _pos_log(x)), np.exp(x) / x)


expi = _rule(sp.expi, 0, _expi_derivative)
# E1'(x) = -e^-x / x (scipy's exp1 is nan for x < 0)
exp1 = _rule(sp.exp1, 0, lambda x: -np.exp(-x - _pos_log(x)))


def _expn_derivative(n: Any, x: Any) -> Any:
    # E_n' = -E_(n-1), and E_0(x) = e^-x / x (scipy's expn(-1, x) is nan)
    n = np.asarray(n)
    return np.where(n >= 1, -expn(np.maximum(n - 1, 0), x),
                    -np.exp(-x - _pos_log(x)) * (1.0 + 1.0 / x))


expn = _rule(sp.expn, 1, _expn_derivative)
# W(e^x): omega' = omega / (1 + omega) (omega > 0 for real x)
wrightomega = _rule(sp.wrightomega, 0, lambda x: wrightomega(x) / (1.0 + wrightomega(x)))
# Bessel functions: kn is kv at an integer order; jve and yve equal jv and yv on the
# real line (the scaling e^-|Im z| is 1)
kn = _rule(sp.kn, 1, lambda n, x: -_half(kv, np.asarray(n, dtype=float), x, 1.0))
jve = _rule(sp.jve, 1, lambda v, x: _half(jve, v, x, -1.0))
yve = _rule(sp.yve, 1, lambda v, x: _half(yve, v, x, -1.0))
# hypergeometric functions: d/dz of pFq is (prod a / prod b) times the function with
# every parameter raised by one
hyp0f1 = _rule(sp.hyp0f1, 1, lambda b, z: hyp0f1(np.asarray(b) + 1.0, z) / b)
hyp1f1 = _rule(sp.hyp1f1, 2, lambda a, b, z: (np.asarray(a) / b)
               * hyp1f1(np.asarray(a) + 1.0, np.asarray(b) + 1.0, z))
hyp2f1 = _rule(sp.hyp2f1, 3, lambda a, b, c, z: (np.asarray(a) * b / c) * hyp2f1(
    np.asarray(a) + 1.0, np.asarray(b) + 1.0, np.asarray(c) + 1.0, z))
hyperu = _rule(sp.hyperu, 2, lambda a, b, x: -np.asarray(a)
               * hyperu(np.asarray(a) + 1.0, np.asarray(b) + 1.0, x))


def _lower(n: Any) -> tuple[Any, Any]:
    """(n > 0, max(n - 1, 0)) of a constant degree n: the degree-0 derivative is 0
    (scipy gives nan for some families at degree -1)."""
    n = np.asarray(n)
    return n > 0, np.maximum(n - 1, 0)


def _poly_rule(ufunc: Any, nparams: int, deriv: Callable[..., Any]) -> custom_jvp:
    def d(*args: Any) -> Any:
        pos, lower = _lower(args[0])
        return np.where(pos, deriv(lower, *args[1:]), 0.0)
    return _rule(ufunc, nparams, d)


# orthogonal polynomials (degree n and parameters constant): d/dx C_n^(a) = 2a C_(n-1)^(a+1)
eval_gegenbauer = _poly_rule(sp.eval_gegenbauer, 2, lambda m, a, x: 2.0 * np.asarray(a)
                             * eval_gegenbauer(m, np.asarray(a) + 1.0, x))
eval_legendre = _poly_rule(sp.eval_legendre, 1, lambda m, x: eval_gegenbauer(m, 1.5, x))
eval_chebyu = _poly_rule(sp.eval_chebyu, 1, lambda m, x: 2.0 * eval_gegenbauer(m, 2.0, x))
eval_chebyt = _poly_rule(sp.eval_chebyt, 1, lambda m, x: (m + 1.0) * eval_chebyu(m, x))
eval_hermite = _poly_rule(sp.eval_hermite, 1, lambda m, x: 2.0 * (m + 1.0)
                          * eval_hermite(m, x))
eval_hermitenorm = _poly_rule(sp.eval_hermitenorm, 1, lambda m, x: (m + 1.0)
                              * eval_hermitenorm(m, x))
eval_genlaguerre = _poly_rule(sp.eval_genlaguerre, 2, lambda m, a, x: -eval_genlaguerre(
    m, np.asarray(a) + 1.0, x))
eval_laguerre = _poly_rule(sp.eval_laguerre, 1, lambda m, x: -eval_genlaguerre(m, 1.0, x))
eval_jacobi = _poly_rule(sp.eval_jacobi, 3, lambda m, a, b, x: 0.5 * (
    m + np.asarray(a) + b + 2.0) * eval_jacobi(m, np.asarray(a) + 1.0,
                                             np.asarray(b) + 1.0, x))


# distribution functions, as the incomplete gamma and beta functions they are
chdtr = _rule(sp.chdtr, 1, lambda v, x: 0.5 * _gamma_density(0.5 * np.asarray(v), 0.5 * x))
chdtrc = _rule(sp.chdtrc, 1, lambda v, x: -0.5 * _gamma_density(0.5 * np.asarray(v),
                                                                0.5 * x))
gdtr = _rule(sp.gdtr, 2, lambda a, b, x: np.asarray(a) * _gamma_density(b, np.asarray(a) * x))
gdtrc = _rule(sp.gdtrc, 2, lambda a, b, x: -np.asarray(a) * _gamma_density(
    b, np.asarray(a) * x))
pdtr = _rule(sp.pdtr, 1, lambda k, m: -_gamma_density(np.floor(k) + 1.0, m))
pdtrc = _rule(sp.pdtrc, 1, lambda k, m: _gamma_density(np.floor(k) + 1.0, m))
bdtr = _rule(sp.bdtr, 2, lambda k, n, p: -_beta_density(
    np.asarray(n) - np.floor(k), np.floor(k) + 1.0, 1.0 - p))
bdtrc = _rule(sp.bdtrc, 2, lambda k, n, p: _beta_density(
    np.floor(k) + 1.0, np.asarray(n) - np.floor(k), p))
nbdtr = _rule(sp.nbdtr, 2, lambda k, n, p: _beta_density(n, np.floor(k) + 1.0, p))
nbdtrc = _rule(sp.nbdtrc, 2, lambda k, n, p: -_beta_density(n, np.floor(k) + 1.0, p))


def _fdtr_derivative(m: Any, n: Any, x: Any) -> Any:
    # I_w(m/2, n/2) with w = m x / (n + m x): dw/dx = m n / (n + m x)**2
    m, n = np.asarray(m, dtype=float), np.asarray(n, dtype=float)
    s = n + m * x
    return _beta_density(0.5 * m, 0.5 * n, m * x / s) * (m * n / s) / s


fdtr = _rule(sp.fdtr, 2, _fdtr_derivative)
fdtrc = _rule(sp.fdtrc, 2, lambda m, n, x: -_fdtr_derivative(m, n, x))


def _t_density(df: Any, t: Any) -> Any:
    """Student's t density.  log(1 + t²/df) as 2 log|t| - log df + log1p(df / t²)
    where |t| > 1 (t² overflows from 1e154, and the density at df = 0.5 is still
    normal at t = 1e200); the constant 1 / (sqrt(df) B(df/2, 1/2)) by betaln, which
    does not cancel for large df as gammaln((df+1)/2) - gammaln(df/2) does."""
    df = np.asarray(df, dtype=float)
    big = np.abs(_plain(t)) > 1.0
    tb = np.where(big, t, 2.0)
    ts = np.where(big, 0.0, t)
    log_ratio = np.where(big, 2.0 * np.log(np.abs(tb)) - np.log(df) + np.log1p(df / (tb * tb)),
                         np.log1p(ts * ts / df))
    return np.exp(-sp.betaln(0.5 * df, 0.5) - 0.5 * np.log(df) - 0.5 * (df + 1.0) * log_ratio)


stdtr = _rule(sp.stdtr, 1, _t_density)
# inverses: 1 / (the density at the inverse), written with the inverse itself
gammaincinv = _rule(sp.gammaincinv, 1, lambda a, y: 1.0 / _gamma_density(a, gammaincinv(a, y)))
gammainccinv = _rule(sp.gammainccinv, 1,
                     lambda a, y: -1.0 / _gamma_density(a, gammainccinv(a, y)))
betaincinv = _rule(sp.betaincinv, 2,
                   lambda a, b, y: 1.0 / _beta_density(a, b, betaincinv(a, b, y)))
# ndtri_exp(y) = x with Phi(x) = e^y: dx/dy = Phi(x) / phi(x) = sqrt(pi/2) erfcx(-x/sqrt 2),
# which neither overflows nor cancels (e^y / phi(x) does, as y -> -inf)
ndtri_exp = _rule(sp.ndtri_exp, 0, lambda y: np.sqrt(np.pi / 2.0) * sp.erfcx(
    -ndtri_exp(y) / np.sqrt(2.0)))


def _register(ufunc: Any) -> None:
    def impl(*args: Any) -> Any:
        return call(ufunc, "hyperdual", *args)
    implements(ufunc)(impl)


for _uf in SPECIAL:
    _register(_uf)
implements(sp.gammasgn)(_e.gammasgn)
