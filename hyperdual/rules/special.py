"""Forward-mode rules for scipy.special functions with a constant parameter:
Bessel functions of any order (``jv``/``jn``, ``yv``, ``yn``, ``iv``, ``ive``,
``kv``, ``kve``, ``kn``, ``jve``, ``yve``, ``j0``, ``j1``, ``y0``, ``y1``, ``k0``,
``k1``, ``k0e``, ``k1e``), ``rgamma``, the regularised incomplete gamma and beta functions
``gammainc``, ``gammaincc``, ``betainc`` and their inverses ``gammaincinv``,
``gammainccinv``, ``betaincinv``, ``betaincc``, ``betainccinv`` (differentiated in
``x``), the distribution functions ``chdtr``, ``gdtr``, ``pdtr``, ``bdtr``,
``nbdtr``, ``fdtr``, ``stdtr`` (and each ``...c`` complement), their quantile
functions ``chdtri``, ``gdtrix``, ``pdtri``, ``bdtri``, ``nbdtri``, ``fdtri``,
``stdtrit``, ``ndtri_exp``, the hypergeometric ``hyp0f1``,
``hyp1f1``, ``hyp2f1``, ``hyperu``, the orthogonal polynomials ``eval_legendre``,
``eval_chebyt``, ``eval_chebyu``, ``eval_gegenbauer``, ``eval_jacobi``,
``eval_hermite``, ``eval_hermitenorm``, ``eval_laguerre``, ``eval_genlaguerre``
(in ``x``), ``expi``, ``exp1``, ``expn``, ``erfi``, ``wrightomega``, ``exp10``,
``cosm1``, ``exprel``, scipy's own ``cbrt``, ``exp2``, ``expm1``, ``log1p``,
``sindg``, ``cosdg``, ``tandg``, ``cotdg``, ``ellipk``, ``ellipe``,
``ellipkm1``, ``spence``, ``zeta(s, q)`` (in
``q``), the Struve functions ``struve`` and ``modstruve`` (in ``x``), the Struve
integrals ``itstruve0``, ``itmodstruve0``, ``it2struve0``, Dawson's integral ``dawsn``,
the Kelvin functions ``ber``, ``bei``, ``ker``, ``kei`` and their derivatives ``berp``,
``beip``, ``kerp``, ``keip``, and ``gammasgn``;
:data:`MULTI` holds ``poch``, ``owens_t``, ``binom``, ``agm``, ``powm1`` and the
Box-Cox transforms ``boxcox``, ``boxcox1p``, ``inv_boxcox``, ``inv_boxcox1p`` (both
arguments) and the
several-output ``sici``, ``shichi``, ``fresnel``, ``airy`` and ``ellipj`` (in ``u``);
``ellipkinc`` and ``ellipeinc`` in ``phi``; ``chndtr`` in ``x`` and its noncentrality
``nc`` (df constant).  The functions differentiated through their
defining integral, equation or series (the Bessel integrals, the parabolic cylinder
functions, ``tklmbda``, ``wright_bessel``) are in :mod:`hyperdual.rules.special_equations`.

Each is a :class:`hyperdual.custom_jvp` whose JVP is written with the same
functions (``jv' = (j_{v-1} - j_{v+1}) / 2`` ...), so the rule differentiates
itself: HyperDuals, direction stacks, nesting and reverse mode (which
registers the same objects, :mod:`reverse.rules.special`) all follow from it.
The order ``v`` is a constant: a differentiated value there raises ``TypeError``
rather than dropping its derivative.  ``gammainc``/``gammaincc`` with a
differentiated ``a``, ``betainc``/``betaincc`` with a differentiated ``a`` or ``b``,
``zeta(s, q)`` with a differentiated ``s`` and ``hyp1f1(a, b, x)`` with a
differentiated ``a`` or ``b`` switch to a rule in every argument
(:data:`IN_PARAMETER`; d/da from :mod:`hyperdual.rules.incomplete_gamma`, d/da and d/db
of betainc from :mod:`hyperdual.rules.incomplete_beta`, d/ds from
:mod:`hyperdual.rules.zeta`, d/da and d/db from :mod:`hyperdual.rules.hypergeometric`).

Examples
--------
>>> import numpy as np, scipy.special as sp
>>> from hyperdual import derivative
>>> bool(np.isclose(derivative(lambda x: sp.jv(1.5, x), 2.0),
...                 (sp.jv(0.5, 2.0) - sp.jv(2.5, 2.0)) / 2))
True
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.special as sp

from _exactdiff import elementwise as _e
from _exactdiff._common import is_traced
from _exactdiff._common import value as _plain
from _exactdiff.arrays import is_foreign_array, is_lazy, plain_array
from _exactdiff.arrays import may_hold as _may_hold
from _exactdiff.special import horner

from .._number import implements
from ..custom import custom_jvp
from .blockwise import by_blocks
from .hypergeometric import hyp1f1_parameter_partials
from .incomplete_beta import (
    betainc_parameter_partials,
    student_t_df_partial_near,
    student_t_df_tail,
)
from .incomplete_gamma import _LOG1PMX, _STIRLING, gammainc_da, power_over_gamma
from .zeta import riemann_zeta_derivative, zeta_ds

# dispatch targets only: hyperdual exports nothing from here
__all__: list[str] = []

#: scipy ufunc -> (custom function, number of constant leading parameters)
SPECIAL: dict[Any, tuple[custom_jvp, int]] = {}


#: every rule of this module: they broadcast over a Dual's direction axes (one call per
#: direction stack, not one per direction: custom_jvp._broadcasts)
LIBRARY_RULES: list[custom_jvp] = []


def _library(f: custom_jvp) -> None:
    f._broadcasts = f._elementwise = True
    LIBRARY_RULES.append(f)


def _times_cotangent(g: Any, d: Any) -> Any:
    """``g * d`` in an elementwise rule's VJP (only reverse mode calls these), 0 where
    the cotangent g is 0 next to an infinite partial d: reverse's zero-cotangent guard
    (``reverse.rules._util._keep_zero``, audited as for its own rules).  A Jacobian row
    of ``gammainc(0.5, x)`` at x = (0, 1) had nan for d f1/d x0 (truth 0)."""
    from reverse.rules._util import _keep_zero

    return _keep_zero(g, g * d)


def _unbroadcast(ct: Any, x: Any) -> Any:
    """A cotangent of the output's shape summed down to the shape of input ``x`` (a
    parameter array may broadcast the output beyond x: ``jv([[0.5], [1.5]], x)``)."""
    shape, cs = np.shape(_plain(x)), np.shape(_plain(ct))
    if cs == shape:
        return ct
    extra = len(cs) - len(shape)
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape)
                                       if n == 1 and cs[extra + i] != 1)
    return np.reshape(np.sum(ct, axis=axes) if axes else ct, shape)


def _rule(ufunc: Any, nparams: int, deriv: Callable[..., Any],
          register: bool = True) -> custom_jvp:
    """A custom_jvp for ``ufunc(*params, x)`` with ``d/dx = deriv(*params, x)``
    (``register=False``: a helper function of the rules, not a dispatch target)."""
    f = custom_jvp(lambda *args: ufunc(*args), nondiff_argnums=tuple(range(nparams)))
    f.__name__ = f.__qualname__ = ufunc.__name__
    _library(f)

    @f.defjvp
    def _jvp(*args: Any) -> Any:
        params, (primals, tangents) = args[:nparams], args[nparams:]
        (x,), (t,) = primals, tangents
        return f(*params, x), t * deriv(*params, x)

    @f.defvjp
    def _vjp(*args: Any) -> Any:
        params, (primals, _out, g) = args[:nparams], args[nparams:]
        return _unbroadcast(_times_cotangent(g, deriv(*params, primals[0])), primals[0])

    if register:
        SPECIAL[ufunc] = (f, nparams)
    return f


def call(ufunc: Any, engine: str, *args: Any) -> Any:
    """Evaluate a rule of :data:`SPECIAL`; its parameters must be constants."""
    f, nparams = SPECIAL[ufunc]
    if len(args) != nparams + 1:
        raise TypeError(f"{engine}: scipy.special.{ufunc.__name__} takes {nparams + 1} "
                        f"arguments, got {len(args)}")
    both = IN_PARAMETER.get(ufunc)
    if both is not None and any(is_traced(p) for p in args[:nparams]):
        return both(*args)
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

# The scaled ive = iv e^{-|x|} and kve = kv e^x.  Their closed-form derivatives
# (i_{v-1} + i_{v+1}) / 2 - i_v cancel for large |x|: the result is about 1/(2x) of
# each term (2x ulps lost at the first derivative, (2x)^2 at the second: 1e10 ulps
# at x = 1e6).  From max(25, v^2/2) on, the derivative is the asymptotic series
# sqrt(pi/2 x) sum_k a_k(v) x^-k (of kve; ive's alternates and has 1/sqrt(2 pi x))
# differentiated termwise: 50 terms reach 1e-17 there and stop before 2x, where
# the divergent series' terms would grow again (within 12 ulps to order 4 for
# v <= 20, checked against mpmath).
_SCALED_TERMS = 50


def _scaled_bessel_far_derivative(v: Any, x: Any, alternate: bool) -> Any:
    """d/dx of the asymptotic series of kve(v, x) (ive's if ``alternate``), x >= 25."""
    v2 = 4.0 * np.asarray(v, dtype=float) ** 2
    a, coefs = np.ones_like(v2), []
    for k in range(_SCALED_TERMS):
        if k:
            a = a * ((v2 - (2 * k - 1) ** 2) / (8.0 * k))
        coefs.append(a * (-(k + 0.5) if not (alternate and k % 2) else k + 0.5))
    scale = 1.0 / np.sqrt(2.0 * np.pi) if alternate else np.sqrt(np.pi / 2.0)
    return scale * horner(1.0 / x, coefs) * x ** -1.5


# Between x = 1 and the series the closed forms still lose up to 2x ulps per order
# (the third derivative of kve(0.3, x) at 24.5: 2e3 ulps; of ive(20, x) at 190: the
# first 2e3 ulps, the third 2e7).  There the derivative is the quadrature of an
# integral representation whose x enters only by e^{-x c}:
#   kve = int_0^inf e^{-x (cosh t - 1)} cosh(v t) dt, a positive, even integrand: the
#     trapezoid rule converges geometrically and its sum does not cancel;
#   ive = (1/pi) int_0^pi e^{-x (1 - cos th)} cos(v th) dth
#         - (sin(v pi)/pi) int_0^inf e^{-x (1 + cosh t) - v t} dt,
#     by Gauss-Legendre (64 nodes) on [0, pi] cut where e^{-x (1 - cos th)} < e^-64,
#     and likewise for the second integral (e^-2x of the first: only for a
#     non-integer order below x = 40).
# The engine differentiates the sum termwise, so every order is the quadrature of
# that order's integral: within a few ulps.  ive's cos(v th) makes its integral
# cancel by about e^{v^2 / 2x}: it is used where v^2 <= 4x (8x from x = 6, 16x from
# x = 30, where the closed form loses more); kve's where |v| <= 2x (beyond, the
# closed form does not cancel).
_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(64)


def _trapezoid_nodes(x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodes t >= 0 (a row per entry) and weights of the trapezoid rule for the integral
    of e^{-x (cosh t - 1)} cosh(v t): the step 8 / (45 + hypot(x, v)) keeps the
    discretisation error below e^-45 of the integral (the integrand grows by
    e^{hypot(x, v) d^2 / 2} at distance d off the real axis, round its peak at
    t = asinh(|v| / x)), and the rows end where it has fallen by e^-64 (beyond the
    peak, x (cosh s - 1) bounds its fall)."""
    h = 8.0 / (45.0 + np.hypot(x, v))
    if is_foreign_array(x):  # (dask: the node count bounded without asking x)
        count = _lazy_node_bound(v)
    else:
        end = np.arcsinh(np.abs(v) / x) + np.arccosh(1.0 + 64.0 / x)
        count = int(np.ceil(np.max(end / h)))
    t = np.arange(count + 1) * h[..., None]
    w = np.where(t == 0.0, 0.5, 1.0) * h[..., None]
    return t, w


def _lazy_node_bound(v: np.ndarray) -> int:
    """The trapezoid rule's node count for any x in [1, max(25, v^2 / 2)] (where the
    quadrature serves): end / h is at most its end at x = 1 over its step at the top.
    On lazy data the count cannot depend on x's values."""
    av = np.abs(v)
    top = np.maximum(25.0, 0.5 * av * av)
    end = np.arcsinh(av) + np.arccosh(65.0)
    return int(np.ceil(np.max(end * (45.0 + np.hypot(top, av)) / 8.0)))


def _scaled_bessel_quadrature_derivative(v: np.ndarray, x: Any, xv: np.ndarray,
                                         alternate: bool) -> Any:
    """d/dx kve(v, x) (ive's if ``alternate``) for x >= 1 by quadrature; ``xv`` is
    x's plain value, v a plain array of the same shape."""
    xe = x[..., None]
    if not alternate:  # -int (cosh t - 1) e^{-x (cosh t - 1)} cosh(v t) dt
        va = np.abs(v)[..., None]
        t, w = _trapezoid_nodes(xv, v)
        c = 2.0 * np.sinh(0.5 * t) ** 2  # cosh t - 1 without its cancellation
        w = -0.5 * w * c * (1.0 + np.exp(-2.0 * va * t))
        return np.sum(w * np.exp(va * t - xe * c), axis=-1)
    top = np.arccos(np.maximum(-1.0, 1.0 - 64.0 / xv))[..., None]
    th = 0.5 * top * (1.0 + _GAUSS_NODES)
    c = 2.0 * np.sin(0.5 * th) ** 2  # 1 - cos th
    w = (-0.5 / np.pi) * top * _GAUSS_WEIGHTS * c * np.cos(v[..., None] * th)
    out = np.sum(w * np.exp(-xe * c), axis=-1)
    sin_v = np.where(v == np.round(v), 0.0, np.sin(np.pi * v))
    if not (sin_v != 0.0).any() or (
            not is_foreign_array(xv) and not ((sin_v != 0.0) & (xv < 40.0)).any()):
        return out
    # + (sin(v pi)/pi) int (1 + cosh t) e^{-x (1 + cosh t) - v t} dt: Gauss-Legendre
    # to where the integrand has fallen by e^-64 (its e^{-v t} is not even in t: the
    # trapezoid rule would be only O(h^2) here)
    end = (np.arcsinh(np.maximum(-v, 0.0) / xv) + np.arccosh(1.0 + 64.0 / xv))[..., None]
    t = 0.5 * end * (1.0 + _GAUSS_NODES)
    c = 2.0 * np.cosh(0.5 * t) ** 2  # 1 + cosh t
    w = 0.5 * end * _GAUSS_WEIGHTS * c * (sin_v / np.pi)[..., None]
    return out + np.sum(w * np.exp(-v[..., None] * t - xe * c), axis=-1)


def _scaled_bessel_derivative(v: Any, x: Any, near: Callable[..., Any],
                              alternate: bool) -> Any:
    """near(v, x) below x = 1, the quadrature up to max(25, v^2 / 2) (where it does
    not cancel), the far series from there; ive at x < 0 (an integer order) by its
    symmetry ive(v, -x) = (-1)^v ive(v, x)."""
    xv = np.real(_plain(x))
    vv = np.asarray(v, dtype=float)  # a constant (checked by call)
    lazy = is_foreign_array(xv)
    if lazy:
        # dask: the branch masks stay lazy, every branch is formed (on v itself, which
        # is numpy) and nothing asks which ones are needed (that would compute)
        xv = xv.astype(np.float64)
    else:
        vv, xv = np.broadcast_arrays(vv, np.asarray(xv, dtype=float))
    ax = np.abs(xv)
    with np.errstate(invalid="ignore"):
        if alternate:
            usable = (xv > 0) | (vv == np.round(vv))
            # the quadrature's cancellation e^{v^2 / 2x} against the closed form's ~x
            mid = vv * vv <= np.where(ax >= 30.0, 16.0, np.where(ax >= 6.0, 8.0, 4.0)) * ax
        else:
            usable = xv > 0
            mid = np.abs(vv) <= 2.0 * ax
        far = usable & (ax >= np.maximum(25.0, 0.5 * vv * vv))
        mid &= usable & ~far & (ax >= 1.0)
    if not (_may_hold(far) or _may_hold(mid)):
        return near(v, x)
    out = None
    if _may_hold(far):
        xf = np.abs(np.where(far, x, 25.0))
        out = _scaled_bessel_far_derivative(vv if lazy else np.where(far, vv, 0.0), xf,
                                            alternate)
    if _may_hold(mid):
        xm = np.abs(np.where(mid, x, 2.0))
        quad = _scaled_bessel_quadrature_derivative(
            vv if lazy else np.where(mid, vv, 0.0), xm, np.where(mid, ax, 2.0), alternate)
        out = quad if out is None else np.where(far, out, quad)
    if alternate and _may_hold(xv < 0):  # d/dx (-1)^v h(-x) = (-1)^(v+1) h'(-x)
        out = out * np.where(xv < 0, -np.cos(np.pi * vv), 1.0)
    if not lazy and (far | mid).all():
        return out
    return np.where(far | mid, out, near(v, x))


def _ive_derivative(v: Any, x: Any) -> Any:
    return _scaled_bessel_derivative(
        v, x, lambda v, x: _half(ive, v, x, 1.0) - np.sign(x) * ive(v, x), True)


def _kve_derivative(v: Any, x: Any) -> Any:
    return _scaled_bessel_derivative(
        v, x, lambda v, x: kve(v, x) - _half(kve, v, x, 1.0), False)


ive = _rule(sp.ive, 1, _ive_derivative)
kve = _rule(sp.kve, 1, _kve_derivative)
k0e = _rule(sp.k0e, 0, lambda x: _kve_derivative(0.0, x))
k1e = _rule(sp.k1e, 0, lambda x: _kve_derivative(1.0, x))
yn = _rule(sp.yn, 1, lambda n, x: _half(yv, np.asarray(n, dtype=float), x, -1.0))
j0 = _rule(sp.j0, 0, lambda x: -j1(x))
j1 = _rule(sp.j1, 0, lambda x: 0.5 * (j0(x) - jv(2.0, x)))
y0 = _rule(sp.y0, 0, lambda x: -y1(x))
y1 = _rule(sp.y1, 0, lambda x: 0.5 * (y0(x) - yv(2.0, x)))
k0 = _rule(sp.k0, 0, lambda x: -k1(x))
k1 = _rule(sp.k1, 0, lambda x: -0.5 * (k0(x) + kv(2.0, x)))


def _rgamma_derivative(x: Any) -> Any:
    """(1/Gamma)' = -psi(x) / Gamma(x) for x > 1/2; for x <= 1/2 the derivative of the
    reflection 1/Gamma(x) = sin(pi x) Gamma(1 - x) / pi, Gamma(1 - x) (cos(pi x) -
    sin(pi x) psi(1 - x) / pi): finite at the zeros x = 0, -1, -2 ... ((-1)^n n!), where
    the first form is 0 * nan.  sin and cos take x minus its nearest integer (exact), so
    that pi x does not round away the distance to the zero."""
    xv = np.real(_plain(x))
    left = xv <= 0.5
    if not _may_hold(left):
        return -rgamma(x) * sp.digamma(x)
    xl = np.where(left, x, 0.0)
    n = np.round(np.where(left, xv, 0.0))
    r = xl - n
    sign = np.where(np.remainder(n, 2.0) == 0.0, 1.0, -1.0)
    one_minus = 1.0 - xl
    near = sp.gamma(one_minus) * (sign * np.cos(np.pi * r)
                                  - sign * np.sin(np.pi * r) * sp.digamma(one_minus) / np.pi)
    if not is_foreign_array(xv) and np.all(left):
        return near
    xr = np.where(left, 1.0, x)
    return np.where(left, near, -rgamma(xr) * sp.digamma(xr))


rgamma = _rule(sp.rgamma, 0, _rgamma_derivative)
def _power_m1(x: Any, a: Any) -> Any:
    """x**(a - 1) with the exponent the caller's: a - 1 rounds for a < 1/2 (by up to
    2**-54, which costs |log x| / 2 ulps: 171 ulps at x = 6e-301, a = 0.1), so there
    x**a / x (within range: the densities' callers check |(a - 1) log x| < 700, and
    x**a is then within a factor x of it)."""
    if np.all(a >= 0.5):
        return x ** (a - 1.0)
    with np.errstate(all="ignore"):
        return np.where(a < 0.5, x ** a / x, x ** (a - 1.0))


def _gamma_density(a: Any, x: Any) -> Any:
    """x^(a-1) e^-x / Gamma(a), the derivative of gammainc in x: by powers where
    they stay in range (exp((a-1) log x - ...) cost |(a-1) log x| ulps where the
    condition number is |a - 1 - x|: 137 ulps at x = 1e-238, a = 1.5), by the
    saddle-point form :func:`_gamma_density_saddle` for a >= 170 (where Gamma(a)
    overflows), else by logarithms (xlogy: 1 at a = 1, x = 0, where (a - 1) log x
    gave 0 * -inf)."""
    a = np.asarray(a, dtype=float)
    xv = np.real(_plain(x))
    big = a >= 170.0
    with np.errstate(all="ignore"):
        ok = ~big & (xv > 0) & (xv < 700.0) & (np.abs((a - 1.0) * np.log(xv)) < 700.0)
    # (0 there; by logarithms inf - inf.  np.equal, not ==: on a Python float that gives
    # a Python bool, whose ~ is -1 or -2, and np.asarray would compute a dask array)
    far = np.equal(xv, np.inf)
    xp = np.where(ok, x, 1.0)
    xl = np.where(ok | big | far, 1.0, x)
    by_power = _power_m1(xp, a) * np.exp(-xp) / sp.gamma(np.where(ok, a, 1.0))
    by_log = np.exp(sp.xlogy(a - 1.0, xl) - xl - sp.gammaln(np.where(big, 1.0, a)))
    # at x = inf its limit 0, as exp(-x): a constant 0 there was kept as a structural
    # zero times an infinite tangent (Taylor mode: the derivative of gammaincc(1,
    # -log(u)) = u at 0 was 0, truth 1); exp's limit rule makes that nan
    # (always formed: asking np.any(far) would compute a dask array)
    at_inf = np.exp(-np.where(far, x, np.inf))
    out = np.where(ok, by_power, np.where(far, at_inf, by_log))
    if not np.any(big):
        return out
    saddle = _gamma_density_saddle(np.where(big, a, 200.0) - 1.0,
                                   np.where(big & ~far, x, 199.0))
    return np.where(big & ~far, saddle, out)



def _gamma_density_saddle(m: Any, x: Any) -> Any:
    """x^m e^-x / m! for m >= 169 as exp(m (log1p(u) - u) - stirlerr(m)) / sqrt(2 pi m),
    u = x/m - 1 (Loader's saddle-point form): its error is the condition number
    |m - x|, where m log x - x - gammaln(m + 1) lost |m log x| ulps (480 ulps at
    m = 299, x = 299, where the condition number is 0)."""
    m = np.asarray(m, dtype=float)
    q = x / m
    u = q - 1.0
    near = np.abs(np.real(_plain(u))) < 0.5
    un = np.where(near, u, 0.1)
    r = un / (2.0 + un)
    r2 = r * r
    series = 2.0 * r2 * (r * horner(r2, _LOG1PMX) - 1.0 / (1.0 - r))
    # away from the saddle log(x/m) (log1p(u) would take u's rounding near x = 0)
    qf = np.where(near, 2.0, q)
    direct = np.log(qf) - (qf - 1.0)
    t = np.where(near, series, direct)
    return np.exp(m * t - _stirlerr(m)) / np.sqrt(2.0 * np.pi * m)


def _beta_density(a: Any, b: Any, x: Any, xc: Any = None) -> Any:
    """x^(a-1) (1-x)^(b-1) / B(a, b), the derivative of betainc in x: by powers
    where they stay in range, else by logarithms (as :func:`_gamma_density`).
    ``xc`` is 1 - x where the caller has it exactly (1 - x formed from a rounded x
    near 1 keeps none of its digits: fdtr's w = m x / (n + m x) at x = 4e15)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if xc is None:
        xc = 1.0 - x
    xv, xcv = np.real(_plain(x)), np.real(_plain(xc))
    with np.errstate(all="ignore"):
        ok = ((xv > 0) & (xcv > 0) & (np.abs((a - 1.0) * np.log(xv)) < 700.0)
              & (np.abs((b - 1.0) * np.log(xcv)) < 700.0)
              & (np.abs(sp.betaln(a, b)) < 700.0))
    xp, xcp = np.where(ok, x, 0.5), np.where(ok, xc, 0.5)
    xl, xcl = np.where(ok, 0.5, x), np.where(ok, 0.5, xc)
    by_power = _power_m1(xp, a) * _power_m1(xcp, b) / sp.beta(np.where(ok, a, 1.0),
                                                            np.where(ok, b, 1.0))
    by_log = np.exp(sp.xlogy(a - 1.0, xl) + sp.xlogy(b - 1.0, xcl) - sp.betaln(a, b))
    out = np.where(ok, by_power, by_log)
    # scipy's beta(a, b) loses digits from a + b ~ 150 (136 ulps at (100, 100), 9242
    # at (16, 2000)) and the logarithms lose |(a - 1) log x| ulps: there the
    # saddle-point form, whose error is the size of its exponent (0 at the mode)
    big = (a >= 2.0) & (b >= 2.0) & ((a + b >= 150.0) | ~ok)
    if not _may_hold(big):
        return out
    saddle = _beta_density_saddle(np.where(big, a, 2.0) - 1.0, np.where(big, b, 2.0) - 1.0,
                                  np.where(big, x, 0.5), np.where(big, xc, 0.5))
    return np.where(big, saddle, out)


def _beta_density_saddle(al: Any, be: Any, x: Any, xc: Any) -> Any:
    """x^al xc^be / B(al + 1, be + 1) for al, be >= 1 as (n + 1) times Loader's
    binomial density, n = al + be: exp(stirlerr(n) - stirlerr(al) - stirlerr(be)
    - bd0(al, n x) - bd0(be, n xc)) sqrt(n / (2 pi al be)).  scipy's beta(300, 400)
    is 1350 ulps off and the logarithms lose |al log x| ulps; this form's error is
    the condition number (within 2 ulps at the mode)."""
    al, be = plain_array(al, np.float64), plain_array(be, np.float64)
    n = al + be
    e = _stirlerr(n) - _stirlerr(al) - _stirlerr(be)
    dens = np.exp(e - _bd0(al, n * x) - _bd0(be, n * xc))
    return (n + 1.0) * np.sqrt(n / (2.0 * np.pi * al * be)) * dens


def _stirlerr(m: Any) -> Any:
    """log Gamma(m + 1) - (m + 1/2) log m + m - log(2 pi)/2 for a constant m >= 1: the
    series from 15, the definition below (an absolute error of a few 1e-15 there)."""
    m = plain_array(m, np.float64)
    ms = np.maximum(m, 15.0)
    series = horner(1.0 / (ms * ms), _STIRLING) / ms
    mc = np.clip(m, 1.0, 15.0)
    direct = sp.gammaln(mc + 1.0) - (mc + 0.5) * np.log(mc) + mc - 0.5 * np.log(2.0 * np.pi)
    return np.where(m >= 15.0, series, direct)


def _bd0(k: Any, big_m: Any) -> Any:
    """k log(k / M) + M - k (Loader's deviance term) for a constant k > 0, without its
    cancellation near M = k: there (k - M) v + 2 k v^3 sum v^(2j) / (2j + 3), with
    v = (k - M) / (k + M)."""
    mv = np.real(_plain(big_m))
    with np.errstate(all="ignore"):
        near = np.abs((k - mv) / (k + mv)) < 0.1
    mn = np.where(near, big_m, k)
    v = (k - mn) / (k + mn)
    series = (k - mn) * v + 2.0 * k * (v * v * v) * horner(v * v, _LOG1PMX)
    mf = np.where(near, 2.0 * k, big_m)
    direct = k * np.log(k / mf) + mf - k
    return np.where(near, series, direct)


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
# scipy's own ufuncs for numpy's functions: scipy's values, numpy's derivatives
# (expm1' is e^x, not expm1(x) + 1, which cancels for x < 0)
cbrt = _rule(sp.cbrt, 0, lambda x: (1.0 / 3.0) / np.square(cbrt(x)))
exp2 = _rule(sp.exp2, 0, lambda x: _LN2 * exp2(x))
expm1 = _rule(sp.expm1, 0, lambda x: np.exp(x))
log1p = _rule(sp.log1p, 0, lambda x: 1.0 / (1.0 + x))

#: exprel'(x) = sum_k (k + 1) x**k / (k + 2)!, |x| < 1 (the closed forms cancel to 0/0)
_EXPREL_D = tuple((k + 1) / math.factorial(k + 2) for k in range(22))


def _exprel_derivative(x: Any) -> Any:
    """d/dx (e^x - 1)/x = (x e^x - e^x + 1)/x².  A series for |x| < 1; beyond, forms
    without cancellation: exprel(x) (x - 1)/x + 1/x for x >= 1 (positive terms, and
    no e^x to overflow before exprel does), (1 + e^x (x - 1))/x² for x <= -1 (e^x
    (x - 1) stays within (-2/e, 0): exprel(x) (x - 1) + 1 lost x digits there)."""
    xv = plain_array(np.real(_plain(x)))
    near, right = np.abs(xv) < 1.0, xv >= 1.0
    xn = np.where(near, x, 0.0)
    xr = np.where(right, x, 1.0)
    xl = np.where(near | right, -1.0, x)
    return np.where(near, horner(xn, _EXPREL_D),
                    np.where(right, exprel(xr) * ((xr - 1.0) / xr) + 1.0 / xr,
                             (1.0 + np.exp(xl) * (xl - 1.0)) / (xl * xl)))


exprel = _rule(sp.exprel, 0, _exprel_derivative)
sindg = _rule(sp.sindg, 0, lambda x: _DEG * cosdg(x))
cosdg = _rule(sp.cosdg, 0, lambda x: -_DEG * sindg(x))
tandg = _rule(sp.tandg, 0, lambda x: _DEG * (1.0 + tandg(x) ** 2))
cotdg = _rule(sp.cotdg, 0, lambda x: -_DEG * (1.0 + cotdg(x) ** 2))
# scipy's round half to even, piecewise constant: derivative 0, as numpy's rint
round_ = _rule(sp.round, 0, lambda x: np.zeros_like(_plain(x)))
erfi = _rule(sp.erfi, 0, lambda x: (2.0 / np.sqrt(np.pi)) * np.exp(x * x))


def _expi_derivative(x: Any) -> Any:
    # e^x / x, as e^(x/2) (e^(x/2) / x) beyond x = 700: e^x overflows from 710, Ei(x)
    # and its derivative only from 716 (exp(x - log x) would round x - log x: 250 ulps)
    far = np.real(_plain(x)) > 700.0
    xf = np.where(far, x, 80.0)  # (a stand-in whose e^(x/2) float32 holds too)
    xn = np.where(far, 1.0, x)
    return np.where(far, _exp_over(xf), np.exp(xn) / xn)


def _exp_over(x: Any) -> Any:
    """e^x / x for large positive x without overflow of e^x (up to x = 1419)."""
    h = np.exp(0.5 * x)
    return h * (h / x)


expi = _rule(sp.expi, 0, _expi_derivative)
# E1'(x) = -e^-x / x (scipy's exp1 is nan for x < 0)
exp1 = _rule(sp.exp1, 0, lambda x: -(np.exp(-x) / x))


def _expn_derivative(n: Any, x: Any) -> Any:
    # E_n' = -E_(n-1), and E_0(x) = e^-x / x (scipy's expn(-1, x) is nan)
    n = np.asarray(n)
    return np.where(n >= 1, -expn(np.maximum(n - 1, 0), x), -(np.exp(-x) / x) * (1.0 + 1.0 / x))


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
    """(n != 0, n - 1 with 0 for n = 0) of a constant degree n: the degree-0 derivative
    is 0 (scipy gives nan for some families at degree -1).  A non-integer degree keeps
    n - 1: the identities hold for the hypergeometric functions scipy evaluates there."""
    n = np.asarray(n)
    nonzero = n != 0
    return nonzero, np.where(nonzero, n - 1, 0)


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
# the shifted (argument 2x - 1) and scaled (x/2) families, by the chain rule through
# the families above: P*_n(x) = P_n(2x - 1), T*_n, U*_n likewise, C_n(x) = 2 T_n(x/2),
# S_n(x) = U_n(x/2), and G_n^(p,q)(x) = P_n^(p-q,q-1)(2x - 1) / binom(2n + p - 1, n),
# whose derivative is n G_(n-1)^(p+2,q+1)(x)
eval_sh_legendre = _poly_rule(sp.eval_sh_legendre, 1, lambda m, x: 2.0 * eval_gegenbauer(
    m, 1.5, 2.0 * x - 1.0))
eval_sh_chebyt = _poly_rule(sp.eval_sh_chebyt, 1, lambda m, x: 2.0 * (m + 1.0) * eval_chebyu(
    m, 2.0 * x - 1.0))
eval_sh_chebyu = _poly_rule(sp.eval_sh_chebyu, 1, lambda m, x: 4.0 * eval_gegenbauer(
    m, 2.0, 2.0 * x - 1.0))
eval_chebyc = _poly_rule(sp.eval_chebyc, 1, lambda m, x: (m + 1.0) * eval_chebyu(m, 0.5 * x))
eval_chebys = _poly_rule(sp.eval_chebys, 1, lambda m, x: eval_gegenbauer(m, 2.0, 0.5 * x))
eval_sh_jacobi = _poly_rule(sp.eval_sh_jacobi, 3, lambda m, p, q, x: (m + 1.0) * eval_sh_jacobi(
    m, np.asarray(p) + 2.0, np.asarray(q) + 1.0, x))


def _lpmv_derivative(m: Any, v: Any, x: Any) -> Any:
    """d/dx of the Ferrers function ``lpmv(m, v, x)`` (Condon-Shortley phase, |x| < 1):
    -m x P_v^m / (1 - x²) - P_v^(m+1) / sqrt(1 - x²), from P_v^m = (-1)^m (1 - x²)^(m/2)
    P_v^(m) (no cancellation near x = +-1: the first term dominates there); m = 0 is
    Legendre's C_(v-1)^(3/2)(x), finite at x = +-1 too."""
    m = np.asarray(m, dtype=float)
    one_minus = (1.0 - x) * (1.0 + x)
    with np.errstate(all="ignore"):
        general = (-m * x * lpmv(m, v, x) / one_minus
                   - lpmv(m + 1.0, v, x) / np.sqrt(one_minus))
    zero = m == 0
    if not np.any(zero):
        return general
    pos, lower = _lower(v)
    legendre = np.where(pos, eval_gegenbauer(lower, 1.5, x), 0.0)
    return np.where(zero, legendre, general)


lpmv = _rule(sp.lpmv, 2, _lpmv_derivative)


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
    np.asarray(n) - np.floor(k), np.floor(k) + 1.0, 1.0 - p, p))
bdtrc = _rule(sp.bdtrc, 2, lambda k, n, p: _beta_density(
    np.floor(k) + 1.0, np.asarray(n) - np.floor(k), p))
nbdtr = _rule(sp.nbdtr, 2, lambda k, n, p: _beta_density(n, np.floor(k) + 1.0, p))
nbdtrc = _rule(sp.nbdtrc, 2, lambda k, n, p: -_beta_density(n, np.floor(k) + 1.0, p))


def _fdtr_derivative(m: Any, n: Any, x: Any) -> Any:
    # I_w(m/2, n/2) with w = m x / (n + m x): dw/dx = m n / (n + m x)**2
    m, n = np.asarray(m, dtype=float), np.asarray(n, dtype=float)
    s = n + m * x
    return _beta_density(0.5 * m, 0.5 * n, m * x / s, n / s) * (m * n / s) / s


fdtr = _rule(sp.fdtr, 2, _fdtr_derivative)
fdtrc = _rule(sp.fdtrc, 2, lambda m, n, x: -_fdtr_derivative(m, n, x))


def _t_density(df: Any, t: Any) -> Any:
    """Student's t density C (1 + t²/df)^(-(df+1)/2), C = 1 / (sqrt(df) B(df/2, 1/2))
    (betaln: gammaln((df+1)/2) - gammaln(df/2) cancels for large df).  Where
    t² < df, exp(-(df+1)/2 log1p(t²/df)) (a power of 1 + t²/df would lose t²/df's
    digits for large df); elsewhere |t|^-(df+1) (1/df + (1/t)²)^(-(df+1)/2), powers
    whose error stays within the condition number (exp of -(df+1)/2 log(t²/df) was
    429 ulps off at df = 0.5, t = 1e150) and which never square t (t² overflows from
    1e154, where the density at df = 0.5 is still 1e-231).  ``df`` may be traced
    (stdtr's rule in both arguments)."""
    if not is_traced(df):
        df = np.asarray(df, dtype=float)
    dfv = np.real(_plain(df))
    e = -0.5 * (df + 1.0)
    near = np.abs(_plain(t)) ** 2 < dfv
    tn = np.where(near, t, 0.0)
    tf = np.where(near, np.sqrt(df) + 1.0, t)
    inner = np.exp(e * np.log1p(tn * tn / df))
    # the exponents -(df + 1) and -(df + 1)/2 split into exact parts (df + 1 rounds,
    # and a rounded exponent of |t| = 1e147 cost 170 ulps at df = 1e-3)
    at, b = np.abs(tf), 1.0 / df + (1.0 / tf) ** 2
    # where |t|^-df underflows though the density does not (df = 50, t = -6.7e6: the
    # density is 7e-306), the same form in |t| / sqrt(df) and df b (its powers of df
    # cancel; the rounding of sqrt(df) costs about (df + 1) / 2 ulps, the condition
    # number's order, so only there)
    with np.errstate(all="ignore"):
        scaled = dfv * np.log(np.abs(np.real(_plain(tf)))) > 700.0
    if _may_hold(scaled):
        at = np.where(scaled, at / np.sqrt(df), at)
        b = np.where(scaled, 1.0 + (1.0 / at) ** 2, b)
    outer = (at ** -df / at) * (b ** (-0.5 * df) / np.sqrt(b))
    return _t_constant(df) * np.where(near, inner, outer)


#: Gamma(a + 1/2) / Gamma(a) / sqrt(a) = sum c_k a**-k as a -> inf (checked against
#: mpmath: within an ulp from a = 100)
_HALF_GAMMA_RATIO = (1.0, -1.0 / 8, 1.0 / 128, 5.0 / 1024, -21.0 / 32768, -399.0 / 262144,
                     869.0 / 4194304)


def _t_constant(df: Any) -> Any:
    """1 / (sqrt(df) B(df/2, 1/2)) for a constant df: by scipy's betaln below df = 200
    (within 1.5 ulps), by the asymptotic series of Gamma(a + 1/2) / Gamma(a) above,
    where betaln's own rounding grows with df (1500 ulps at 1e3, 1e6 at 1e6).  ``df``
    may be traced."""
    if not is_traced(df):
        df = np.asarray(df, dtype=float)
    low = np.real(_plain(df)) < 200.0
    a = 0.5 * np.where(low, 200.0, df)
    s: Any = 0.0
    for c in reversed(_HALF_GAMMA_RATIO):
        s = s / a + c
    with np.errstate(divide="ignore", invalid="ignore"):
        small = np.exp(-sp.betaln(0.5 * np.where(low, df, 1.0), 0.5)
                       - 0.5 * np.log(np.where(low, df, 1.0)))
    return np.where(low, small, np.sqrt(a) * s / np.sqrt(np.pi * df))


stdtr = _rule(sp.stdtr, 1, _t_density)
# inverses: 1 / (the density at the inverse), written with the inverse itself
gammaincinv = _rule(sp.gammaincinv, 1, lambda a, y: 1.0 / _gamma_density(a, gammaincinv(a, y)))
gammainccinv = _rule(sp.gammainccinv, 1,
                     lambda a, y: -1.0 / _gamma_density(a, gammainccinv(a, y)))
betaincinv = _rule(sp.betaincinv, 2,
                   lambda a, b, y: 1.0 / _beta_density(a, b, betaincinv(a, b, y)))
if hasattr(sp, "betaincc"):  # scipy >= 1.12
    betaincc = _rule(sp.betaincc, 2, lambda a, b, x: -_beta_density(a, b, x))
    betainccinv = _rule(sp.betainccinv, 2,
                        lambda a, b, y: -1.0 / _beta_density(a, b, betainccinv(a, b, y)))
# the quantile functions (inverses in the last argument) of the distribution functions


def _bdtri_density(k: Any, n: Any, p: Any) -> Any:
    return _beta_density(np.asarray(n) - np.floor(k), np.floor(k) + 1.0, 1.0 - p, p)


chdtri = _rule(sp.chdtri, 1, lambda v, p: -2.0 / _gamma_density(0.5 * np.asarray(v),
                                                                0.5 * chdtri(v, p)))
gdtrix = _rule(sp.gdtrix, 2, lambda a, b, p: 1.0 / (np.asarray(a) * _gamma_density(
    b, np.asarray(a) * gdtrix(a, b, p))))
pdtri = _rule(sp.pdtri, 1, lambda k, y: -1.0 / _gamma_density(np.floor(k) + 1.0,
                                                              pdtri(k, y)))
bdtri = _rule(sp.bdtri, 2, lambda k, n, y: -1.0 / _bdtri_density(k, n, bdtri(k, n, y)))
nbdtri = _rule(sp.nbdtri, 2, lambda k, n, y: 1.0 / _beta_density(
    n, np.floor(k) + 1.0, nbdtri(k, n, y)))
fdtri = _rule(sp.fdtri, 2, lambda m, n, p: 1.0 / _fdtr_derivative(m, n, fdtri(m, n, p)))
stdtrit = _rule(sp.stdtrit, 1, lambda df, p: 1.0 / _t_density(df, stdtrit(df, p)))
def _ndtri_exp_derivative(y: Any) -> Any:
    """dx/dy of x = ndtri_exp(y) (Phi(x) = e^y): Phi(x) / phi(x).  For x <= 0 that is
    sqrt(pi/2) erfcx(-x/sqrt 2), which neither overflows nor cancels (e^y / phi(x)
    does, as y -> -inf); for x > 0, e^y M(x) / (-expm1(y)) with the Mills ratio
    M(x) = (1 - Phi(x)) / phi(x) = sqrt(pi/2) erfcx(x/sqrt 2): 1 / phi(x) alone
    multiplies the rounding of x by x² (870 ulps at y = -6e-270, x = 35)."""
    x = ndtri_exp(y)
    right = np.real(_plain(x)) > 0
    yr = np.where(right, y, -1.0)
    left = np.sqrt(np.pi / 2.0) * sp.erfcx(-np.where(right, 0.0, x) / np.sqrt(2.0))
    mills = np.sqrt(np.pi / 2.0) * sp.erfcx(np.where(right, x, 0.0) / np.sqrt(2.0))
    return np.where(right, np.exp(yr) * mills / -np.expm1(yr), left)


ndtri_exp = _rule(sp.ndtri_exp, 0, _ndtri_exp_derivative)


#: ((2n)! / (4**n n!**2))**2, n = 0..63: K(m) = pi/2 sum c_n m**n, E(m) = pi/2 sum
#: c_n m**n / (1 - 2n); their derivatives' series to |m| <= 1/2 within an ulp
_ELLIP = tuple(float(np.prod([(2 * j - 1) / (2 * j) for j in range(1, n + 1)])) ** 2
               for n in range(64))
_ELLIPK_D = tuple(0.5 * np.pi * (n + 1) * _ELLIP[n + 1] for n in range(63))
_ELLIPE_D = tuple(0.5 * np.pi * (n + 1) * _ELLIP[n + 1] / (1 - 2 * (n + 1)) for n in range(63))


def _elliptic_derivative(series: tuple, far: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """K' or E' as m -> far(m), and by the derivative of the power series where |m| <= 1/2
    (K' = (E - (1-m) K) / (2m(1-m)) and E' = (E - K) / (2m) are 0/0 at m = 0, and their
    own derivatives cancel near it: 4e-14 at m = 0.26 with the series to 1/4 only)."""
    def d(m: Any) -> Any:
        near = np.abs(_plain(m)) <= 0.5
        return np.where(near, horner(np.where(near, m, 0.0), series),
                        far(np.where(near, 0.75, m)))
    return d


_ellipk_derivative = _elliptic_derivative(
    _ELLIPK_D, lambda m: (ellipe(m) - (1.0 - m) * ellipk(m)) / (2.0 * m * (1.0 - m)))
ellipk = _rule(sp.ellipk, 0, _ellipk_derivative)
ellipe = _rule(sp.ellipe, 0, _elliptic_derivative(
    _ELLIPE_D, lambda m: (ellipe(m) - ellipk(m)) / (2.0 * m)))


# ellipkm1(p) = K(1 - p).  Its derivative -K'(1 - p) = -(E - p K) / (2 (1 - p) p) is
# written in p and in E(1 - p) as a function of p (_ellipem1, whose own derivative
# -(E - K) / (2 (1 - p)) again takes K = ellipkm1(p)): K' formed at the rounded
# m = 1 - p kept none of p's digits for small p (ellipkm1'(2e-12) was 4e10 ulps off).
# Within 1/2 of p = 1 the series in m = 1 - p (exact there).
def _near_one(p: Any, near: Callable[[Any], Any], far: Callable[[Any], Any]) -> Any:
    close = np.abs(_plain(p) - 1.0) <= 0.5
    return np.where(close, near(1.0 - np.where(close, p, 1.0)), far(np.where(close, 0.25, p)))


_ellipem1 = _rule(lambda p: sp.ellipe(1.0 - p), 0, lambda p: _near_one(
    p, lambda m: -horner(m, _ELLIPE_D),
    lambda p: -(_ellipem1(p) - ellipkm1(p)) / (2.0 * (1.0 - p))), register=False)


def _ellipkm1_derivative(p: Any) -> Any:
    return _near_one(p, lambda m: -horner(m, _ELLIPK_D),
                     lambda p: -(_ellipem1(p) - p * ellipkm1(p)) / (2.0 * (1.0 - p) * p))


ellipkm1 = _rule(sp.ellipkm1, 0, _ellipkm1_derivative)


#: -log(1 - w) / w = sum w**k / (k + 1), to |w| <= 1/4 within an ulp (27 terms)
_LOG_RATIO = tuple(1.0 / (k + 1) for k in range(27))


def _spence_derivative(z: Any) -> Any:
    # spence(z) = int_1^z log t / (1 - t) dt, so spence' = log z / (1 - z): 0/0 at z = 1
    # and its own derivative 1/(z(1-z)) + log z/(1-z)**2 cancels near 1; there the
    # series of -log(1 - w)/w in w = 1 - z (every order exact at z = 1)
    near = np.abs(_plain(z) - 1.0) <= 0.25
    w = 1.0 - np.where(near, z, 1.0)
    zf = np.where(near, 2.0, z)
    return np.where(near, -horner(w, _LOG_RATIO), np.log(zf) / (1.0 - zf))


spence = _rule(sp.spence, 0, _spence_derivative)
# Hurwitz zeta in q (sp.zeta(s, q) calls this ufunc): d/dq zeta(s, q) = -s zeta(s + 1, q)
_HURWITZ = getattr(sp, "_ufuncs", None) and getattr(sp._ufuncs, "_zeta", None)
if isinstance(_HURWITZ, np.ufunc):
    hurwitz_zeta = _rule(_HURWITZ, 1, lambda s, q: -np.asarray(s) * hurwitz_zeta(
        np.asarray(s) + 1.0, q))
# Riemann's zeta (sp.zeta(s) calls this ufunc) and zetac = zeta - 1 in s: d/ds by
# Euler-Maclaurin differentiated term by term (hyperdual/rules/zeta.py)
_RIEMANN = getattr(sp, "_ufuncs", None) and getattr(sp._ufuncs, "_riemann_zeta", None)
if isinstance(_RIEMANN, np.ufunc):
    riemann_zeta = _rule(_RIEMANN, 0, riemann_zeta_derivative)
zetac = _rule(sp.zetac, 0, riemann_zeta_derivative)

# Struve H and modified Struve L in x (order v constant).  Within |x| <= 2 the
# derivative is the power series H_v' = sum_k s^k (2k + v + 1)/2 (x/2)^(2k + v) /
# (Gamma(k + 3/2) Gamma(k + v + 3/2)), s = -1 for H and +1 for L (its terms fall like
# 1/k!^2 and every order is the series differentiated termwise, exact at x = 0).
# The closed forms cancel there: (x^v H_v)' = x^v H_(v-1) gives H_v' = H_(v-1) - (v/x)
# H_v, whose own derivative has H_(v-2) + ... ; at a negative integer order (the
# second derivative of H_0 needs H_(-2) + H_(-1)/x) both terms grow like 1/x near 0
# and cancel (H_0'' at x = 1e-8 was 17 times the truth).  Beyond 2 that form is used
# for H (the order goes down at each differentiation, where H_v is dominated by the
# slowly varying Y_v-like part); L uses the recurrence L_(v-1) = (2v/x) L_v + L_(v+1) +
# (x/2)^v / (sqrt(pi) Gamma(v + 3/2)), i.e. L_v' = (v/x) L_v + L_(v+1) + (x/2)^v /
# (sqrt(pi) Gamma(v + 3/2)), whose terms have one sign for v >= 0, x > 0 (L grows like
# I_v: H's form would cancel its exponential parts).
_STRUVE_TERMS = 30
_STRUVE_NEAR = 2.0


def _struve_series_derivative(v: np.ndarray, x: Any, sign: float) -> Any:
    out = 0.0
    for k in range(_STRUVE_TERMS):
        p = 2.0 * k + v
        c = (sign ** k) * 0.5 * (p + 1.0) / (math.gamma(k + 1.5) * sp.gamma(k + v + 1.5))
        # a zero coefficient (p = -1: H_(-1)' = -H_1' has no x^-1 term) with its power
        # set to x^0, not 0 * inf at x = 0
        out = out + c * (0.5 * x) ** np.where(c == 0.0, 0.0, p)
    return out


def _struve_derivative(f: Any, sign: float) -> Callable[[Any, Any], Any]:
    def d(v: Any, x: Any) -> Any:
        v = np.asarray(v, dtype=float)
        near = np.abs(np.real(_plain(x))) <= _STRUVE_NEAR
        xn = np.where(near, x, 1.0)
        xf = np.where(near, 3.0, x)
        if sign < 0:
            far = f(v - 1.0, xf) - v / xf * f(v, xf)
        else:
            far = (v / xf * f(v, xf) + f(v + 1.0, xf)
                   + (0.5 * xf) ** v / (np.sqrt(np.pi) * sp.gamma(v + 1.5)))
        return np.where(near, _struve_series_derivative(v, xn, sign), far)
    return d


struve = _rule(sp.struve, 1, lambda v, x: _struve_derivative(struve, -1.0)(v, x))
modstruve = _rule(sp.modstruve, 1, lambda v, x: _struve_derivative(modstruve, 1.0)(v, x))

# Integrals of the Struve functions: d/dx int_0^x H_0 = H_0(x), d/dx int_0^x L_0 =
# L_0(x), d/dx int_x^inf H_0(t)/t dt = -H_0(x)/x, whose quotient is taken from H_0's
# power series near 0 (H_0(x)/x -> 2/pi: no 0/0 at x = 0, at any order)
_H0_OVER_X = [(-1.0) ** k * 0.5 / (math.gamma(k + 1.5) ** 2) * 0.25 ** k for k in range(12)]


def _h0_over_x(x: Any) -> Any:
    near = np.abs(np.real(_plain(x))) <= 0.5
    xn = np.where(near, x, 0.0)
    xf = np.where(near, 1.0, x)
    # H_0(x) = sum_k (-1)^k (x/2)^(2k+1) / Gamma(k + 3/2)^2, so H_0(x)/x is a series
    # in x**2 (0.5**12 / 12!**2: far below an ulp within 0.5)
    return np.where(near, horner(xn * xn, _H0_OVER_X), struve(0.0, xf) / xf)


itstruve0 = _rule(sp.itstruve0, 0, lambda x: struve(0.0, x))
itmodstruve0 = _rule(sp.itmodstruve0, 0, lambda x: modstruve(0.0, x))
it2struve0 = _rule(sp.it2struve0, 0, lambda x: -_h0_over_x(x))

# Dawson's integral D(x) = exp(-x^2) int_0^x exp(t^2) dt: D' = 1 - 2 x D.  From |x| ~ 1
# on that difference cancels (D ~ 1/(2x): 1 - 2xD ~ -1/(2x^2), 2 x^2 ulps lost, and
# more in each order the engines form from it: the third derivative at 1.99 was 380
# ulps off).  From |x| = 0.5 on D' (even) is taken from |x|: within 0.5 .. 7 from its
# Taylor polynomial about the nearest of 26 centres
# (coefficients below), beyond 7 from the asymptotic series -sum_k (2k - 1)!! /
# (2 x^2)^k, of one sign (30 terms: the last is 1e-19 of the first at 7).  Each is a
# polynomial the engines differentiate term by term, so every order keeps its
# precision.
_DAWSN_NEAR, _DAWSN_FAR, _DAWSN_STEP = 0.5, 7.0, 0.25
_DAWSN_TERMS = [0.0] + [-float(math.prod(range(1, 2 * k, 2))) * 0.5 ** k for k in range(1, 31)]


def _dawsn_taylor_table(degree: int = 25) -> np.ndarray:
    """Row i: the Taylor coefficients of D' about c_i = 0.5 + (i + 1/2) 0.25, from D's
    Taylor coefficients by the equation's recurrence (n + 1) a_(n+1) = -2 c a_n -
    2 a_(n-1), in 80-digit decimals (the recurrence and D(c) = sum_k (-2)^k c^(2k+1)
    / (2k+1)!! cancel by up to e^49: far above an ulp in 80 digits), rounded once."""
    from decimal import Decimal, localcontext

    rows = []
    with localcontext() as ctx:
        ctx.prec = 80
        n_centres = round((_DAWSN_FAR - _DAWSN_NEAR) / _DAWSN_STEP)
        for i in range(n_centres):
            c = Decimal(_DAWSN_NEAR + (i + 0.5) * _DAWSN_STEP)
            term = total = c
            k = 0
            while abs(term) > Decimal(10) ** -60:
                term = term * (-2 * c * c) / (2 * k + 3)
                total += term
                k += 1
            a = [total, 1 - 2 * c * total]
            for n in range(1, degree + 1):
                a.append((-2 * c * a[n] - 2 * a[n - 1]) / (n + 1))
            rows.append([float((n + 1) * a[n + 1]) for n in range(degree)])
    return np.array(rows)


_DAWSN_TAYLOR = _dawsn_taylor_table()


def _dawsn_derivative(x: Any) -> Any:
    r = np.abs(np.real(_plain(x)))
    mid = (r >= _DAWSN_NEAR) & (r < _DAWSN_FAR)
    far = r >= _DAWSN_FAR
    near = ~(mid | far)
    a = np.abs(x)
    out = 0.0 * x
    if _may_hold(near):
        xn = np.where(near, x, 0.0)
        out = np.where(near, 1.0 - 2.0 * xn * dawsn(xn), out)
    if _may_hold(mid):
        i = np.clip(np.floor((np.where(mid, r, _DAWSN_NEAR) - _DAWSN_NEAR) / _DAWSN_STEP),
                    0, len(_DAWSN_TAYLOR) - 1).astype(int)
        h = np.where(mid, a, _DAWSN_NEAR + 0.5 * _DAWSN_STEP) - (
            _DAWSN_NEAR + (i + 0.5) * _DAWSN_STEP)
        out = np.where(mid, horner(h, list(_DAWSN_TAYLOR[i].T)), out)
    if _may_hold(far):
        xf = np.where(far, a, _DAWSN_FAR)
        out = np.where(far, horner(1.0 / (xf * xf), _DAWSN_TERMS), out)
    return out


# (on dask data block by block: the Taylor pieces index a table by the values)
dawsn = _rule(sp.dawsn, 0, by_blocks(_dawsn_derivative, "dawsn_derivative"))

# Kolmogorov's survival function Q(y) = 2 sum_k (-1)^(k-1) exp(-2 k^2 y^2) = 1 - (sqrt(2
# pi) / y) sum_k exp(-a_k / y^2), a_k = (2k - 1)^2 pi^2 / 8 (Jacobi's form).  Q' is
# either series differentiated term by term, written with numpy on the caller's
# values, so every further derivative follows: the first for y >= 1 (the terms fall as
# exp(-2 k^2): six reach below an ulp), the second below (four terms, each positive:
# 2 a_1 > y^2).  Below 0.03 every derivative is below the smallest float (exp(-1371)
# times powers of 1/y): exactly 0 there, and at y <= 0, where Q = 1.
_KOLMOGOROV_A = tuple((2 * k - 1) ** 2 * math.pi ** 2 / 8.0 for k in range(1, 5))
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _kolmogorov_derivative(y: Any) -> Any:
    yv = np.real(_plain(y))
    big = yv >= 1.0
    small = np.logical_and(yv >= 0.03, np.logical_not(big))
    out = np.where(np.isnan(yv), np.nan, 0.0 * yv)
    if _may_hold(big):
        yb = np.where(big, y, 1.0)
        total: Any = 0.0
        for k in range(6, 0, -1):  # (smallest terms first)
            total = total + (-1.0) ** (k - 1) * k * k * np.exp(-2.0 * k * k * yb * yb)
        out = np.where(big, -8.0 * yb * total, out)
    if _may_hold(small):
        inv2 = 1.0 / np.square(np.where(small, y, 0.5))
        total = 0.0
        for a in _KOLMOGOROV_A[::-1]:
            total = total + np.exp(-a * inv2) * (2.0 * a * inv2 - 1.0)
        out = np.where(small, -_SQRT_2PI * inv2 * total, out)
    return out


kolmogorov = _rule(sp.kolmogorov, 0, _kolmogorov_derivative)
# its inverse: 1 / Q'(kolmogi(p)), written with kolmogi itself (every order follows)
kolmogi = _rule(sp.kolmogi, 0, lambda p: 1.0 / _kolmogorov_derivative(kolmogi(p)))

# Kelvin functions: ber + i bei = J_0(x e^(3 pi i / 4)), ker + i kei = K_0(x e^(pi i /
# 4)); their second derivatives from Bessel's equation, ber'' = -ber'/x - bei, bei'' =
# -bei'/x + ber (ker, kei alike), with ber'/x and bei'/x from the power series near 0
# (ber = sum (-1)^k (x/2)^(4k) / (2k)!^2, bei = sum (-1)^k (x/2)^(4k+2) / (2k+1)!^2:
# exact at x = 0, where the quotient is 0/0)
# berp/x = sum_(k>=1) (-1)^k k (x/2)^(4k-2) / (2k)!^2 = x**2 sum_k c_k x**(4(k-1)), and
# beip/x = sum_(k>=0) (-1)^k (2k+1)/2 (x/2)^(4k) / (2k+1)!^2: coefficients in x**4
_BERP_OVER_X = [(-1.0) ** k * k / math.factorial(2 * k) ** 2 * 0.0625 ** k * 4.0
                for k in range(1, 12)]
_BEIP_OVER_X = [(-1.0) ** k * (2 * k + 1) * 0.5 / math.factorial(2 * k + 1) ** 2
                * 0.0625 ** k for k in range(12)]


def _over_x(x: Any, near_value: Callable[[Any], Any], fp: Any) -> Any:
    """``fp(x) / x``, from ``near_value(x)`` (the power series) within |x| <= 1."""
    near = np.abs(np.real(_plain(x))) <= 1.0
    xn = np.where(near, x, 0.0)
    xf = np.where(near, 2.0, x)
    return np.where(near, near_value(xn), fp(xf) / xf)


def _berp_over_x(x: Any) -> Any:
    return _over_x(x, lambda t: horner(t ** 4, _BERP_OVER_X) * t * t, berp)


def _beip_over_x(x: Any) -> Any:
    return _over_x(x, lambda t: horner(t ** 4, _BEIP_OVER_X), beip)


ber = _rule(sp.ber, 0, lambda x: berp(x))
bei = _rule(sp.bei, 0, lambda x: beip(x))
berp = _rule(sp.berp, 0, lambda x: -_berp_over_x(x) - bei(x))
beip = _rule(sp.beip, 0, lambda x: -_beip_over_x(x) + ber(x))
ker = _rule(sp.ker, 0, lambda x: kerp(x))
kei = _rule(sp.kei, 0, lambda x: keip(x))
kerp = _rule(sp.kerp, 0, lambda x: -kerp(x) / x - kei(x))
keip = _rule(sp.keip, 0, lambda x: -keip(x) / x + ker(x))


# --- functions of several differentiated arguments, and ufuncs of several outputs ----
#: scipy ufunc -> the function that evaluates it on engine values (every argument may
#: be differentiated; several outputs come back as a tuple)
MULTI: dict[Any, Callable[..., Any]] = {}


def _plain_zero(t: Any) -> bool:
    """A tangent that is a plain zero (a constant argument's: a float, or a numpy
    array of zeros; never a lazy array, whose values would be computed)."""
    if type(t) is float:
        return t == 0.0
    return type(t) is np.ndarray and t.dtype.kind == "f" and not t.any()


def _in_every_argument(ufunc: Any, partials: Callable[..., tuple],
                       register: bool = True) -> custom_jvp:
    """A custom_jvp for ``ufunc(a, b, ...)`` differentiable in every argument;
    ``partials(f, a, b, ...)`` returns ``(f(a, b, ...), d/da, d/db, ...)`` written with
    rules (``register=False``: not a dispatch target of its own)."""
    f = custom_jvp(lambda *args: ufunc(*args))
    f.__name__ = f.__qualname__ = ufunc.__name__
    _library(f)

    @f.defjvp
    def _jvp(primals: tuple, tangents: tuple) -> tuple:
        value, *ds = partials(f, *primals)
        out: Any = None
        for t, d in zip(tangents, ds):
            # (a constant argument's zero tangent adds nothing, also next to an
            # infinite partial: betaincinv in a at y = 0, whose d/dy is inf)
            if _plain_zero(t):
                continue
            out = t * d if out is None else out + t * d
        return value, (tangents[0] * 0.0 if out is None else out)

    @f.defvjp
    def _vjp(primals: tuple, _out: Any, g: Any) -> tuple:
        _, *ds = partials(f, *primals)
        return tuple(_unbroadcast(_times_cotangent(g, d), p) for d, p in zip(ds, primals))

    if register:
        MULTI[ufunc] = f
    return f


# --- gammainc and gammaincc in both arguments --------------------------------------
#: scipy ufunc -> its custom_jvp in every argument, for calls whose parameter carries
#: a derivative (the one-argument rule above serves the others)
IN_PARAMETER: dict[Any, custom_jvp] = {}


def _gamma_density_in_a(a: Any, x: Any) -> Any:
    # d/dx P = a E / x with E = x^a e^-x / Gamma(a + 1) formed for a traced a
    # (_gamma_density takes a constant a); at x = 0 and inf that rule's value
    xv = np.real(_plain(x))
    # (np.logical_and, not &: an array, whose ~ negates, also for Python floats, and
    # no np.asarray, which would compute a dask array)
    inside = np.logical_and(xv > 0, xv < np.inf)
    xp = np.where(inside, x, 1.0)
    inner = a * power_over_gamma(a, xp) / xp
    if not _may_hold(~inside):
        return inner
    ar = np.real(_plain(a))
    if is_foreign_array(ar):
        # (lazy: _gamma_density's constant a would be computed) its values at x = 0
        # (inf, 1, 0 for a < 1, a = 1, a > 1) and x = inf (0), constants in a
        at_zero = np.where(ar < 1.0, np.inf, np.where(ar == 1.0, 1.0, 0.0))
        at_zero = np.where(ar > 0.0, at_zero, np.nan)
        return np.where(inside, inner, np.where(
            xv == 0.0, at_zero, np.where(xv == np.inf, 0.0, np.nan)))
    return np.where(inside, inner, _gamma_density(ar, np.where(inside, 1.0, x)))


#: d/da on dask data by blocks (the series' length depends on the values)
_gammainc_da = by_blocks(gammainc_da, "gammainc_da")


def _gammainc_partials(f: Any, a: Any, x: Any) -> tuple:
    return f(a, x), _gammainc_da(a, x), _gamma_density_in_a(a, x)


def _gammaincc_partials(f: Any, a: Any, x: Any) -> tuple:
    return f(a, x), -_gammainc_da(a, x), -_gamma_density_in_a(a, x)


IN_PARAMETER[sp.gammainc] = _in_every_argument(sp.gammainc, _gammainc_partials, register=False)
IN_PARAMETER[sp.gammaincc] = _in_every_argument(sp.gammaincc, _gammaincc_partials, register=False)


# --- betainc and betaincc in every argument ------------------------------------------
def _beta_density_in_ab(a: Any, b: Any, x: Any) -> Any:
    """d/dx betainc = x^(a-1) (1-x)^(b-1) / B(a, b) for traced a, b (_beta_density
    takes constant ones): by powers where they and B stay in range (pow's rounding,
    not the |(a - 1) log x| ulps of an exponential), else by logarithms; at x = 0, 1
    that rule's values (constants in a, b)."""
    xv = np.real(_plain(x))
    inside = np.logical_and(xv > 0, xv < 1)
    xp = np.where(inside, x, 0.5)
    with np.errstate(all="ignore"):
        beta = sp.beta(a, b)
        by_power = xp ** (a - 1.0) * (1.0 - xp) ** (b - 1.0) / beta
        pv, bv = np.abs(np.real(_plain(by_power))), np.abs(np.real(_plain(beta)))
        good = (pv > 1e-290) & (pv < 1e290) & (bv > 1e-290) & (bv < 1e290)
        if _may_hold(~good):
            by_log = np.exp(sp.xlogy(a - 1.0, xp) + sp.xlog1py(b - 1.0, -xp)
                            - sp.betaln(a, b))
            by_power = np.where(good, by_power, by_log)
    if not _may_hold(~inside):
        return by_power
    ar, br = np.real(_plain(a)), np.real(_plain(b))
    with np.errstate(all="ignore"):  # (x outside [0, 1]: nan, as the value)
        edge = _beta_density(ar, br, np.where(inside, 0.5, x))
    return np.where(inside, by_power, edge)


_BETAINCC = getattr(sp, "betaincc", None)  # (scipy >= 1.12)
#: d/da, d/db on dask data by blocks (the fraction's length depends on the values)
_betainc_da = by_blocks(lambda a, b, x: betainc_parameter_partials(
    a, b, x, sp.betainc, _BETAINCC)[0], "betainc_da")
_betainc_db = by_blocks(lambda a, b, x: betainc_parameter_partials(
    a, b, x, sp.betainc, _BETAINCC)[1], "betainc_db")


def _betainc_parameter_partials(a: Any, b: Any, x: Any) -> tuple[Any, Any]:
    if any(is_lazy(_plain(v)) for v in (a, b, x)):
        return _betainc_da(a, b, x), _betainc_db(a, b, x)
    return betainc_parameter_partials(a, b, x, sp.betainc, _BETAINCC)


def _betainc_partials(f: Any, a: Any, b: Any, x: Any, sign: float = 1.0) -> tuple:
    # (sign -1: betaincc = 1 - betainc, every partial negated)
    d_a, d_b = _betainc_parameter_partials(a, b, x)
    return f(a, b, x), sign * d_a, sign * d_b, sign * _beta_density_in_ab(a, b, x)


IN_PARAMETER[sp.betainc] = _in_every_argument(sp.betainc, _betainc_partials, register=False)
if _BETAINCC is not None:
    IN_PARAMETER[_BETAINCC] = _in_every_argument(
        _BETAINCC, functools.partial(_betainc_partials, sign=-1.0), register=False)


def _inverse_partials(x: Any, upper: float, d_params: tuple, density: Any,
                      sign: float) -> tuple:
    """Partials of an inverse ``x(params, y)`` of ``F(params, x) = y`` (sign 1) or
    ``1 - F = y`` (sign -1) from F's: ``dx/dp = -F_p / F_x`` for each parameter (the
    same for both), ``dx/dy = sign / F_x``; at the ends of the support (0 and
    ``upper``), where F is constant in the parameters, dx/dp = 0 (not 0 over a density
    of 0 or inf)."""
    xv = np.real(_plain(x))
    inside = np.logical_and(xv > 0, xv < upper)
    with np.errstate(all="ignore"):  # (dx/dy at the ends: +-inf or 0, as in y alone)
        d_x = [-d / density for d in d_params]
        d_y = sign / density
    if _may_hold(~inside):
        d_x = [np.where(inside, d, np.where(np.isnan(xv), np.nan, 0.0)) for d in d_x]
    return (*d_x, d_y)


def _betaincinv_partials(f: Any, a: Any, b: Any, y: Any, sign: float = 1.0) -> tuple:
    # (sign -1: betainccinv, the inverse of 1 - betainc)
    x = f(a, b, y)
    return (x, *_inverse_partials(x, 1.0, _betainc_parameter_partials(a, b, x),
                                  _beta_density_in_ab(a, b, x), sign))


IN_PARAMETER[sp.betaincinv] = _in_every_argument(sp.betaincinv, _betaincinv_partials,
                                                 register=False)
if _BETAINCC is not None:
    IN_PARAMETER[sp.betainccinv] = _in_every_argument(
        sp.betainccinv, functools.partial(_betaincinv_partials, sign=-1.0), register=False)


def _gammaincinv_partials(f: Any, a: Any, y: Any, sign: float = 1.0) -> tuple:
    # (sign -1: gammainccinv, the inverse of 1 - gammainc)
    x = f(a, y)
    d_a, d_y = _inverse_partials(x, np.inf, (_gammainc_da(a, x),),
                                 _gamma_density_in_a(a, x), sign)
    return x, d_a, d_y


IN_PARAMETER[sp.gammaincinv] = _in_every_argument(sp.gammaincinv, _gammaincinv_partials,
                                                  register=False)
IN_PARAMETER[sp.gammainccinv] = _in_every_argument(
    sp.gammainccinv, functools.partial(_gammaincinv_partials, sign=-1.0), register=False)


#: stdtr's derivative in df: along G's path where t² <= df/2 and |t| <= 2 (G's
#: fraction loses digits where I_y nears 1: 650 ulps at |t| = 2.5, df = 1e5);
#: elsewhere (the tail, |t| > 2 there) from df = 30 on by the tail's integral
#: (``student_t_df_tail``: within 15 ulps of mpmath, up to the condition number
#: ~t² of the density's exponent deep in the tail), below df = 30 through the
#: tail's betainc partials (which lose about df² ulps: 3600 at df = 300, |t| = 2)
_STDTR_QUADRATURE_DF = 30.0


def _stdtr_df_on_values(nu: Any, t: Any) -> Any:
    """d/d(df) of Student's t cdf ``stdtr(nu, t)``: with w = nu + t², near 0
    stdtr = 1/2 + sign(t) G, G = I_(t²/w)(1/2, nu/2) / 2, along the path
    (:func:`hyperdual.rules.incomplete_beta.student_t_df_partial_near`: within 50
    ulps of mpmath); elsewhere stdtr = T or 1 - T with
    T the tail beyond |t|: from df = 30 its derivative is the integral of the density's
    derivative (:func:`hyperdual.rules.incomplete_beta.student_t_df_tail`), below
    through betainc's partials of T = I_(nu/w)(nu/2, 1/2) / 2 (a few ulps there).
    0 at t = 0 and +-inf."""
    tv, nuv = np.real(_plain(t)), np.real(_plain(nu))
    sign = np.sign(tv)
    inside = np.isfinite(tv) & (tv != 0) & (nuv > 0)
    at = np.abs(tv)
    by_path = (tv * tv <= 0.5 * nuv) & (at <= 2.0)
    tail = inside & ~by_path
    by_integral = tail & (nuv >= _STDTR_QUADRATURE_DF)
    far = tail & ~by_integral
    with np.errstate(all="ignore"):
        t_in = np.where(inside, t, 1.0)
        out: Any = None
        if _may_hold(far):
            t_far = np.where(far, t_in, 3.0)
            w = nu + t_far * t_far
            r = t_far / w
            x = nu / w
            half = 0.5 * nu
            d_a = _betainc_parameter_partials(half, 0.5, x)[0]
            d_f = 0.5 * (0.5 * d_a + _beta_density_in_ab(half, 0.5, x) * (r * r))
            out = -sign * d_f
        if _may_hold(by_integral):
            a = np.abs(np.where(by_integral, t_in, 3.0))
            nu_i = np.where(by_integral, nu, 100.0)
            d_t = student_t_df_tail(nu_i, a) * _t_density(nu_i, a)
            out = -sign * d_t if out is None else np.where(by_integral, -sign * d_t, out)
        if _may_hold(inside & ~tail):
            near = student_t_df_partial_near(nu, np.where(tail, 1.0, t_in), sp.betainc)
            out = near if out is None else np.where(tail, out, near)
        edge = np.where((nuv > 0) & ~np.isnan(tv), 0.0, np.nan)  # t = 0, +-inf
        return edge if out is None else np.where(inside, out, edge)


#: (on lazy data block by block: its paths and series lengths depend on the values)
_stdtr_df = by_blocks(_stdtr_df_on_values, "stdtr_df")


def _stdtr_partials(f: Any, nu: Any, t: Any) -> tuple:
    return f(nu, t), _stdtr_df(nu, t), _t_density(nu, t)


IN_PARAMETER[sp.stdtr] = _in_every_argument(sp.stdtr, _stdtr_partials, register=False)


def _stdtrit_partials(f: Any, nu: Any, p: Any) -> tuple:
    # t(nu, p) with stdtr(nu, t) = p: dt/d nu = -stdtr_nu / density (implicit
    # differentiation), dt/dp = 1 / density; at p = 0, 1 (t = -+inf) dt/d nu = 0
    t = f(nu, p)
    tv = np.real(_plain(t))
    finite = np.isfinite(tv)
    t_in = np.where(finite, t, 1.0)
    density = _t_density(nu, t_in)
    d_nu = -_stdtr_df(nu, t_in) / density
    with np.errstate(all="ignore"):
        d_p = 1.0 / _t_density(nu, t)
    if _may_hold(~finite):
        d_nu = np.where(finite, d_nu, np.where(np.isnan(tv), np.nan, 0.0))
    return t, d_nu, d_p


IN_PARAMETER[sp.stdtrit] = _in_every_argument(sp.stdtrit, _stdtrit_partials, register=False)


def _hurwitz_partials(f: Any, s: Any, q: Any) -> tuple:
    # d/ds by Euler-Maclaurin (hyperdual/rules/zeta.py), nan where scipy's value is
    # (s < 1: zeta_ds alone would give the analytic continuation's); d/dq = -s zeta(s +
    # 1, q)
    d_s = zeta_ds(s, q)
    below = np.real(_plain(s)) < 1.0
    if _may_hold(below):
        d_s = np.where(below, np.nan, d_s)
    return f(s, q), d_s, -s * f(s + 1.0, q)


if isinstance(_HURWITZ, np.ufunc):
    IN_PARAMETER[_HURWITZ] = _in_every_argument(_HURWITZ, _hurwitz_partials, register=False)


#: d/da, d/db on dask data by blocks (the series' length depends on the values)
_hyp1f1_da = by_blocks(lambda a, b, x: hyp1f1_parameter_partials(a, b, x)[0], "hyp1f1_da")
_hyp1f1_db = by_blocks(lambda a, b, x: hyp1f1_parameter_partials(a, b, x)[1], "hyp1f1_db")


def _hyp1f1_partials(f: Any, a: Any, b: Any, x: Any) -> tuple:
    # d/da, d/db by the series differentiated term by term (hyperdual/rules/
    # hypergeometric.py); d/dx = (a/b) M(a + 1, b + 1, x)
    if any(is_lazy(_plain(v)) for v in (a, b, x)):
        d_a, d_b = _hyp1f1_da(a, b, x), _hyp1f1_db(a, b, x)
    else:  # (one pass for both: each wrapper alone would sum the series again)
        d_a, d_b = hyp1f1_parameter_partials(a, b, x)
    return f(a, b, x), d_a, d_b, a / b * f(a + 1.0, b + 1.0, x)


IN_PARAMETER[sp.hyp1f1] = _in_every_argument(sp.hyp1f1, _hyp1f1_partials, register=False)


def _by_gamma_poles(near: Any, safe_near: tuple, safe_far: tuple, args: tuple,
                    near_form: Callable[..., tuple], far_form: Callable[..., tuple]) -> tuple:
    """``near_form(*args)`` where ``near``, ``far_form(*args)`` elsewhere, each formed on
    arguments replaced by ``safe_near``/``safe_far`` outside its entries (no nan or
    warning from the branch not taken)."""
    if not _may_hold(near):
        return far_form(*args)
    if not is_foreign_array(near) and np.all(near):
        return near_form(*args)
    inner = near_form(*(np.where(near, a, s) for a, s in zip(args, safe_near)))
    outer = far_form(*(np.where(near, s, a) for a, s in zip(args, safe_far)))
    return tuple(np.where(near, i, o) for i, o in zip(inner, outer))


def _poch_partials(f: Any, z: Any, m: Any) -> tuple:
    # Pochhammer's (z)_m = Gamma(z + m) / Gamma(z): d/dz = y (psi(z + m) - psi(z)),
    # the difference without its cancellation for small m; d/dm = y psi(z + m).
    # For z <= 1/2 (Gamma(z + m) finite), y ~ (z - z0) and psi(z) ~ -1/(z - z0) near
    # a zero z0 of 1/Gamma: their product is right but its derivatives are differences of
    # terms 1/(z - z0) apart (the second derivative of poch(z, 1.5) at 1e-8 lost 8 digits,
    # at 1e-300 it was -inf, truth 1.09).  There d/dz = Gamma(z + m) (psi(z + m) rgamma(z)
    # + rgamma'(z)), whose terms are smooth through the zeros of rgamma.
    from _exactdiff.special import psi_difference

    y = f(z, m)
    zv, mv = np.real(_plain(z)), np.real(_plain(m))
    top = zv + mv
    near = (zv <= 0.5) & (top < 170.0) & ~((top <= 0.0) & (top == np.round(top)))

    def by_rgamma(z: Any, m: Any) -> tuple:
        g = sp.gamma(z + m)
        return (g * (sp.digamma(z + m) * rgamma(z) + _rgamma_derivative(z)),)

    def by_psi(z: Any, m: Any) -> tuple:  # (y itself: poch's value is finite where used)
        gap = psi_difference(z, m, 0, lambda a, b: sp.digamma(a) - sp.digamma(a + b))
        return (-y * gap,)

    (d_z,) = _by_gamma_poles(near, (0.25, 1.0), (1.0, 1.0), (z, m), by_rgamma, by_psi)
    return y, d_z, y * sp.digamma(z + m)


def _owens_t_partials(f: Any, h: Any, a: Any) -> tuple:
    # Owen's T(h, a) = 1/(2 pi) int_0^a exp(-h²(1 + x²)/2) / (1 + x²) dx: d/dh =
    # -phi(h) erf(a h / sqrt 2) / 2 (the integrand's h-derivative integrates in closed
    # form); d/da = the integrand at a
    phi = np.exp(-0.5 * (h * h)) / np.sqrt(2.0 * np.pi)
    s = 1.0 + a * a
    return (f(h, a), -0.5 * phi * sp.erf(a * h / np.sqrt(2.0)),
            np.exp(-0.5 * (h * h) * s) / (2.0 * np.pi * s))


def _binom_partials(f: Any, n: Any, k: Any) -> tuple:
    # binom(n, k) = Gamma(n + 1) / (Gamma(k + 1) Gamma(n - k + 1)): d/dn = y (psi(n + 1)
    # - psi(n - k + 1)), a digamma difference kept without cancellation for small k
    # (psi_difference, as poch's); d/dk = y (psi(n - k + 1) - psi(k + 1)).  Where k + 1
    # or n - k + 1 is <= 1/2 (near a zero of 1/Gamma, as in poch; y = 0 at the zero
    # itself, k > n for an integer n, where y (psi - psi) is 0 * nan) the partials of
    # Gamma(n + 1) rgamma(k + 1) rgamma(n - k + 1) with rgamma' ((3, 5): -1/20, 1/20).
    from _exactdiff.special import psi_difference

    y = f(n, k)
    nv, kv = np.real(_plain(n)), np.real(_plain(k))
    pole_n = (nv + 1.0 <= 0.0) & (nv == np.round(nv))
    near = (((kv + 1.0 <= 0.5) | (nv - kv + 1.0 <= 0.5)) & (nv + 1.0 < 170.0) & ~pole_n)

    def by_rgamma(n: Any, k: Any) -> tuple:
        g, a, b = sp.gamma(n + 1.0), rgamma(k + 1.0), rgamma(n - k + 1.0)
        da, db = _rgamma_derivative(k + 1.0), _rgamma_derivative(n - k + 1.0)
        return g * a * (sp.digamma(n + 1.0) * b + db), g * (da * b - a * db)

    def by_psi(n: Any, k: Any) -> tuple:  # (y is 0 or finite where by_rgamma is not used)
        gap = psi_difference(n - k + 1.0, k, 0,
                             lambda a, b: sp.digamma(a) - sp.digamma(a + b))
        return -y * gap, y * (sp.digamma(n - k + 1.0) - sp.digamma(k + 1.0))

    return (y,) + _by_gamma_poles(near, (1.0, 0.0), (1.5, 0.5), (n, k), by_rgamma, by_psi)


def _powm1_partials(f: Any, x: Any, y: Any) -> tuple:
    # powm1(x, y) = x^y - 1: d/dx = y x^(y - 1), d/dy = x^y log x (x^y - 1 cancels as
    # y -> 0 or x -> 1, its derivatives do not)
    return f(x, y), y * x ** (y - 1.0), x ** y * np.log(x)


def _agm_partials(f: Any, a: Any, b: Any) -> tuple:
    # With h the argument of larger modulus and l the other, p = (l/h)^2 in (0, 1]:
    # agm(a, b) = pi h / (2 K(1 - p)) = pi h / (2 ellipkm1(p)).  Differentiating,
    # d/dh = (M/h)(1 + c) and d/dl = -(M/l) c with c = 2 p K_p / K in [-1/2, 0)
    # (K_p = ellipkm1'(p) < 0): no cancellation, and agm's symmetry gives the other
    # order (both are 1/2 at a = b).  agm(-a, -b) = -agm(a, b) keeps the signs right
    # through M/h and M/l; arguments of opposite signs give nan, as agm itself.
    m = f(a, b)
    first = np.abs(_plain(a)) >= np.abs(_plain(b))
    h = np.where(first, a, b)
    lo = np.where(first, b, a)
    p = (lo / h) * (lo / h)
    c = 2.0 * p * _ellipkm1_derivative(p) / ellipkm1(p)
    d_h = m / h * (1.0 + c)
    d_l = -(m / lo) * c
    return m, np.where(first, d_h, d_l), np.where(first, d_l, d_h)


poch = _in_every_argument(sp.poch, _poch_partials)
owens_t = _in_every_argument(sp.owens_t, _owens_t_partials)
binom = _in_every_argument(sp.binom, _binom_partials)
agm = _in_every_argument(sp.agm, _agm_partials)
# radian(d, m, s) = (d + m / 60 + s / 3600) pi / 180: linear, constant partials
radian = _in_every_argument(sp.radian, lambda f, d, m, s: (
    f(d, m, s), _DEG, _DEG / 60.0, _DEG / 3600.0))
if hasattr(sp, "powm1"):  # scipy >= 1.10
    powm1 = _in_every_argument(sp.powm1, _powm1_partials)


# Box-Cox: boxcox(x, l) = (x^l - 1) / l = L exprel(l L) with L = log x (log1p(x) for
# boxcox1p), so d/dx = x^(l-1) and d/dl = L² exprel'(l L), which keeps its digits as
# l -> 0 (the textbook (l x^l L - x^l + 1) / l² cancels to (log x)²/2).  boxcox1p's
# (1 + x)^(l-1) is exp((l-1) log1p x): a power of the rounded 1 + x lost x's digits in
# its l-derivative (log(1 + x) at x = 1e-8: 1.6e-8 relative).
def _box_cox_partials(log: Callable[[Any], Any], power: Callable[[Any, Any, Any], Any]
                      ) -> Callable[..., tuple]:
    def partials(f: Any, x: Any, lmbda: Any) -> tuple:
        big_l = log(x)
        return (f(x, lmbda), power(x, lmbda - 1.0, big_l),
                big_l * big_l * _exprel_derivative(lmbda * big_l))
    return partials


boxcox = _in_every_argument(sp.boxcox, _box_cox_partials(np.log, lambda x, e, big_l: x ** e))
boxcox1p = _in_every_argument(sp.boxcox1p, _box_cox_partials(
    np.log1p, lambda x, e, big_l: np.exp(e * big_l)))

#: (s / (1 + s) - log1p(s)) / s² = sum_j (-1)^(j+1) (j+1)/(j+2) s^j, |s| <= 1/4 (29 terms)
_INV_BOXCOX = tuple((-1.0) ** (j + 1) * (j + 1) / (j + 2) for j in range(29))


def _inv_box_cox_k(s: Any) -> Any:
    """(s / (1 + s) - log1p(s)) / s²: its series near 0, where the difference cancels."""
    near = np.abs(np.real(_plain(s))) <= 0.25
    sn = np.where(near, s, 0.0)
    sf = np.where(near, 1.0, s)
    return np.where(near, horner(sn, _INV_BOXCOX), (sf / (1.0 + sf) - np.log1p(sf)) / (sf * sf))


# inverses: v = exp(u), u = log1p(l y) / l: dv/dy = v / (1 + l y), dv/dl = v y² k(l y)
# (inv_boxcox1p = expm1(u): v + 1 in place of v)
def _inv_box_cox_partials(shift: float) -> Callable[..., tuple]:
    def partials(f: Any, y: Any, lmbda: Any) -> tuple:
        v = f(y, lmbda)
        e = v + shift
        return v, e / (1.0 + lmbda * y), e * (y * y) * _inv_box_cox_k(lmbda * y)
    return partials


inv_boxcox = _in_every_argument(sp.inv_boxcox, _inv_box_cox_partials(0.0))
inv_boxcox1p = _in_every_argument(sp.inv_boxcox1p, _inv_box_cox_partials(1.0))


def _component(ufunc: Any, k: int, deriv: Callable[[Any], Any]) -> custom_jvp:
    """Output k of the one-argument, several-output ``ufunc`` as a custom_jvp."""
    f = custom_jvp(lambda x: ufunc(x)[k])
    f.__name__ = f.__qualname__ = f"{ufunc.__name__}[{k}]"
    _library(f)

    @f.defjvp
    def _jvp(primals: tuple, tangents: tuple) -> tuple:
        (x,), (t,) = primals, tangents
        return f(x), t * deriv(x)

    @f.defvjp
    def _vjp(primals: tuple, _out: Any, g: Any) -> Any:
        return _times_cotangent(g, deriv(primals[0]))

    return f


def _outputs(ufunc: Any, *parts: custom_jvp) -> None:
    MULTI[ufunc] = lambda x: tuple(p(x) for p in parts)


#: sinh(x)/x = sum x**(2k) / (2k + 1)!, to |x| <= 1 within an ulp (11 terms in x**2)
_SINHC = tuple(1.0 / float(np.prod(np.arange(2.0, 2 * k + 2))) for k in range(11))


def _sinhc(x: Any) -> Any:
    """sinh(x) / x: the series near 0 (the quotient rule of sinh(x)/x cancels there),
    e^|x| / (2|x|) beyond 700 (sinh overflows from 710, sinh(x)/x from 716)."""
    ax = np.abs(_plain(x))
    near, far = ax <= 1.0, ax > 700.0
    xn = np.where(near, x, 0.0)
    xm = np.where(near | far, 2.0, x)
    xf = np.abs(np.where(far, x, 701.0))
    return np.where(near, horner(xn * xn, _SINHC),
                    np.where(far, 0.5 * _exp_over(xf), np.sinh(xm) / xm))


def _coshc(x: Any) -> Any:
    """cosh(x) / x, e^|x| / (2x) beyond 700."""
    far = np.abs(_plain(x)) > 700.0
    xm = np.where(far, 2.0, x)
    xf = np.where(far, x, 701.0)
    return np.where(far, 0.5 * np.sign(xf) * _exp_over(np.abs(xf)), np.cosh(xm) / xm)


# Si' = sin(x)/x (np.sinc keeps its series near 0), Ci' = cos(x)/x
_outputs(sp.sici, _component(sp.sici, 0, lambda x: np.sinc(x / np.pi)),
         _component(sp.sici, 1, lambda x: np.cos(x) / x))
_outputs(sp.shichi, _component(sp.shichi, 0, _sinhc), _component(sp.shichi, 1, _coshc))
# Fresnel: S' = sin(pi x**2 / 2), C' = cos(pi x**2 / 2)
_outputs(sp.fresnel, _component(sp.fresnel, 0, lambda x: np.sin(0.5 * np.pi * (x * x))),
         _component(sp.fresnel, 1, lambda x: np.cos(0.5 * np.pi * (x * x))))
# Airy: Ai'' = x Ai (and Bi likewise): (Ai, Ai', Bi, Bi')' = (Ai', x Ai, Bi', x Bi)
_ai = _component(sp.airy, 0, lambda x: _aip(x))
_aip = _component(sp.airy, 1, lambda x: x * _ai(x))
_bi = _component(sp.airy, 2, lambda x: _bip(x))
_bip = _component(sp.airy, 3, lambda x: x * _bi(x))
_outputs(sp.airy, _ai, _aip, _bi, _bip)


def _in_first(fun: Any, name: str, deriv: Callable[..., Any], nparams: int = 1) -> custom_jvp:
    """A custom_jvp for ``fun(x, *params)`` in x, the ``nparams`` parameters constant:
    d/dx = deriv(x, *params)."""
    f = custom_jvp(fun, nondiff_argnums=tuple(range(1, nparams + 1)))
    f.__name__ = f.__qualname__ = name
    _library(f)

    @f.defjvp
    def _jvp(*args: Any) -> tuple:
        params, (primals, tangents) = args[:nparams], args[nparams:]
        (x,), (t,) = primals, tangents
        return f(x, *params), t * deriv(x, *params)

    @f.defvjp
    def _vjp(*args: Any) -> Any:
        params, (primals, _out, g) = args[:nparams], args[nparams:]
        return _unbroadcast(_times_cotangent(g, deriv(primals[0], *params)), primals[0])

    return f


def _constant_parameters(name: str, fn: Callable[..., Any], constants: dict[int, str],
                        free: str) -> Callable[..., Any]:
    """``fn`` as the dispatch target of ``scipy.special.<name>``, refusing a
    differentiated argument ``i`` of ``constants`` (``{i: "its parameter m"}``) by name:
    its derivative has no rule, and a silent constant would drop it."""
    def impl(*args: Any) -> Any:
        for i, label in constants.items():
            if is_traced(args[i]):
                raise TypeError(f"scipy.special.{name}: the derivative with respect to "
                                f"{label} is not supported; only {free} may be "
                                "differentiated")
        return fn(*args)

    return impl


# Jacobi elliptic functions in u (the parameter m constant): sn' = cn dn, cn' = -sn dn,
# dn' = -m sn cn, and the amplitude ph' = dn.
def _ellipj_component(k: int, deriv: Callable[[Any, Any], Any]) -> custom_jvp:
    return _in_first(lambda u, m: sp.ellipj(u, m)[k], f"ellipj[{k}]", deriv)


_sn = _ellipj_component(0, lambda u, m: _cn(u, m) * _dn(u, m))
_cn = _ellipj_component(1, lambda u, m: -_sn(u, m) * _dn(u, m))
_dn = _ellipj_component(2, lambda u, m: -np.asarray(m) * _sn(u, m) * _cn(u, m))
_ph = _ellipj_component(3, lambda u, m: _dn(u, m))


MULTI[sp.ellipj] = _constant_parameters(
    "ellipj", lambda u, m: tuple(part(u, m) for part in (_sn, _cn, _dn, _ph)),
    {1: "its parameter m"}, "u")


# Incomplete elliptic integrals F(phi | m), E(phi | m) in phi (m constant): the
# integrands 1/D and D, D = sqrt(1 - m sin^2 phi) written as sqrt(cos^2 phi + (1 - m)
# sin^2 phi), which does not cancel as m -> 1 and phi -> pi/2 (0 <= m <= 1).
def _in_phi(ufunc: Any, deriv: Callable[[Any, Any], Any]) -> None:
    f = _in_first(lambda phi, m: ufunc(phi, m), ufunc.__name__, deriv)
    MULTI[ufunc] = _constant_parameters(ufunc.__name__, f, {1: "its parameter m"}, "phi")


def _delta(phi: Any, m: Any) -> Any:
    # sqrt(cos^2 + (1 - m) sin^2) as hypot(cos, sqrt(1 - m) sin) for m <= 1: the square
    # root of a sum of squares differentiated by the chain rule cancels where cos -> 0
    # and m -> 1 (the third derivative of E(phi, 1) at pi/2 - 1e-8 was 100 % off: terms
    # 1/|cos| apart, truth -|cos|); hypot's own partials do not
    c, s = np.cos(phi), np.sin(phi)
    m = np.asarray(m, dtype=float)
    if np.all(m <= 1.0):
        return np.hypot(c, np.sqrt(1.0 - m) * s)
    return np.sqrt(c * c + (1.0 - m) * (s * s))


_in_phi(sp.ellipkinc, lambda phi, m: 1.0 / _delta(phi, m))
_in_phi(sp.ellipeinc, _delta)


# The noncentral chi-squared cdf chndtr(x, k, lam) in x and in its noncentrality lam
# (the degrees of freedom k constant).  d/dx is the density
#   f(x; k, lam) = 1/2 exp(-(sqrt(x) - sqrt(lam))²/2) (x/lam)^(k/4 - 1/2) ive(k/2 - 1,
#                  sqrt(lam x)),
# the exponential scaling of I moved into ive (I_nu(sqrt(lam x)) e^-(x + lam)/2 overflows
# and underflows in turn), sqrt(x) - sqrt(lam) as (x - lam)/(sqrt(x) + sqrt(lam)); 0 below
# x = 0.  Where lam x <= 1 (lam = 0 included) the density is its Poisson mixture of
# central densities, sum_j e^(-lam/2) (lam/2)^j / j! f(x; k + 2j, 0): positive terms,
# polynomial in lam, so its lam-derivatives at lam = 0 are exact too (the closed form's
# (x/lam)^... is 0 * inf there).  Term j is at most (lam x/4)^j / (j! (k/2)_j) times the
# largest: 10 terms reach 1e-18 at lam x = 1.
# d/dlam follows from the mixture: F(x; k, lam) - F(x; k + 2, lam) = 2 f(x; k + 2, lam)
# (term by term for the central cdfs), so d/dlam F = -f(x; k + 2, lam).
_CHI2_MIXTURE_TERMS = 10


def _noncentral_chi2_density(x: Any, k: Any, lam: Any) -> Any:
    k = np.asarray(k, dtype=float)
    xv, lv = np.real(_plain(x)), np.real(_plain(lam))
    inside = xv >= 0
    xin = np.where(inside, x, 1.0)
    # (a negative lam, where scipy's value is nan, takes the closed form: nan too)
    near = (lv >= 0) & (lv * np.where(inside, xv, 0.0) <= 1.0)
    with np.errstate(all="ignore"):
        ln = 0.5 * np.where(near, lam, 0.0)
        central = [0.5 / math.factorial(j) * _gamma_density(0.5 * k + j, 0.5 * xin)
                   for j in range(_CHI2_MIXTURE_TERMS)]
        mixture = np.exp(-ln) * horner(ln, central)
        lf, xf = np.where(near, 1.0, lam), np.where(near, 1.0, xin)
        rx, rl = np.sqrt(xf), np.sqrt(lf)
        gap = (xf - lf) / (rx + rl)
        closed = (0.5 * np.exp(-0.5 * (gap * gap)) * (xf / lf) ** (0.25 * k - 0.5)
                  * ive(0.5 * k - 1.0, rx * rl))
    return np.where(inside, np.where(near, mixture, closed), 0.0)


_chndtr_in_x = _in_first(lambda x, k, lam: sp.chndtr(x, k, lam), "chndtr",
                         _noncentral_chi2_density, nparams=2)


def _chndtr_partials(f: Any, x: Any, k: Any, lam: Any) -> tuple:
    # (k's entry is never used: a differentiated k is refused before)
    y = f(x, k, lam)
    return (y, _noncentral_chi2_density(x, k, lam), 0.0 * y,
            -_noncentral_chi2_density(x, np.asarray(k, dtype=float) + 2.0, lam))


_chndtr_in_x_and_nc = _in_every_argument(sp.chndtr, _chndtr_partials, register=False)


def _chndtr(x: Any, k: Any, lam: Any) -> Any:
    return (_chndtr_in_x_and_nc if is_traced(lam) else _chndtr_in_x)(x, k, lam)


MULTI[sp.chndtr] = _constant_parameters("chndtr", _chndtr, {1: "df"}, "x and nc")


# the rules from integrals, differential equations and series (their own module; it
# adds to SPECIAL and MULTI, registered with the rest just below)
from . import special_equations  # noqa: E402, F401


def _register(ufunc: Any) -> None:
    def impl(*args: Any) -> Any:
        return call(ufunc, "hyperdual", *args)
    implements(ufunc)(impl)


for _uf in SPECIAL:
    _register(_uf)
for _uf, _impl in MULTI.items():
    implements(_uf)(_impl)
implements(sp.gammasgn)(_e.gammasgn)
