"""scipy.special functions differentiated by their defining integral, equation or
series (hyperdual.rules.special_equations): the Bessel integrals ``iti0k0``,
``itj0y0``, ``it2i0k0``, ``it2j0y0``; the parabolic cylinder functions ``pbdv``,
``pbvv``, ``pbwa`` (each a pair y, y'); Tukey's lambda distribution ``tklmbda``;
Wright's ``wright_bessel`` and ``log_wright_bessel``.

Truth: the first derivative as an independent mpmath function at 40 digits (the
integrand by mpmath's Bessel functions, mpmath's own ``pcfd``/``pcfv``/``pcfw``, Tukey's
quantile inverted by ``findroot``, Wright's series summed by ``nsum``), the higher
orders by ``mp.diff`` of it.  Tolerances: the Bessel integrals and Wright's function
are good to an ulp or two (16 eps); the pairs and tklmbda carry scipy's own error in the
value they start from (pbdv' at x = 7 is scipy's 1.3e-13, tklmbda's value is 1e-13 off
at (-1.5, 0.5)): 1e-12.  log_wright_bessel's higher orders are a difference of close
ratios: 2e-13.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp

import hyperdual as hd
import reverse as rv

_EPS = float(np.finfo(float).eps)


def _tukey_cdf(lam):
    """mpmath's F = Q^-1 for Tukey's quantile Q(p) = (p^l - (1 - p)^l)/l, from scipy's
    value as the start (only where to look)."""
    lam = mp.mpf(lam)

    def F(x):
        q = (lambda p: mp.log(p / (1 - p))) if lam == 0 else (
            lambda p: (p ** lam - (1 - p) ** lam) / lam)
        start = mp.mpf(float(sp.tklmbda(float(x), float(lam))))
        return mp.re(mp.findroot(lambda p: mp.re(q(p)) - x, start))
    return F


def _wright(a, b):
    a, b = mp.mpf(a), mp.mpf(b)
    return lambda x: mp.nsum(lambda k: x ** k / (mp.factorial(k) * mp.gamma(a * k + b)),
                             [0, mp.inf])


# name: (f, the mpmath first derivative, points, rtol)
CASES = {
    "iti0k0[0]": (lambda x: sp.iti0k0(x)[0], lambda x: mp.besseli(0, x),
                  [-1.2, 0.5, 3.0, 12.0], 16 * _EPS),
    "iti0k0[1]": (lambda x: sp.iti0k0(x)[1], lambda x: mp.besselk(0, x),
                  [0.5, 3.0, 12.0], 16 * _EPS),
    "itj0y0[0]": (lambda x: sp.itj0y0(x)[0], lambda x: mp.besselj(0, x),
                  [-1.2, 0.5, 3.0, 12.0], 16 * _EPS),
    "itj0y0[1]": (lambda x: sp.itj0y0(x)[1], lambda x: mp.bessely(0, x),
                  [0.5, 3.0, 12.0], 16 * _EPS),
    # (I0 - 1)/x and (1 - J0)/x: the series to |x| = 2 (the quotient cancelled there:
    # at x = 1e-3 it kept 10 digits), the quotient beyond
    # (and I0(x)/x without the overflow of I0 beyond x = 713.98, finite to 720.5)
    "it2i0k0[0]": (lambda x: sp.it2i0k0(x)[0], lambda x: (mp.besseli(0, x) - 1) / x,
                   [-0.7, 1e-8, 1e-3, 0.5, 1.99, 2.01, 5.0, 699.0, -705.0, 716.0],
                   16 * _EPS),
    "it2i0k0[1]": (lambda x: sp.it2i0k0(x)[1], lambda x: -mp.besselk(0, x) / x,
                   [0.5, 3.0, 12.0], 16 * _EPS),
    "it2j0y0[0]": (lambda x: sp.it2j0y0(x)[0], lambda x: (1 - mp.besselj(0, x)) / x,
                   [-0.7, 1e-8, 1e-3, 0.5, 1.99, 2.01, 5.0], 16 * _EPS),
    "it2j0y0[1]": (lambda x: sp.it2j0y0(x)[1], lambda x: -mp.bessely(0, x) / x,
                   [0.5, 3.0, 12.0], 16 * _EPS),
    "pbdv(1.7)[0]": (lambda x: sp.pbdv(1.7, x)[0],
                     lambda x: mp.diff(lambda t: mp.pcfd(1.7, t), x),
                     [-1.0, 0.3, 2.0, 7.0], 1e-12),
    "pbdv(1.7)[1]": (lambda x: sp.pbdv(1.7, x)[1],
                     lambda x: mp.diff(lambda t: mp.pcfd(1.7, t), x, 2),
                     [-1.0, 0.3, 2.0, 7.0], 1e-12),
    "pbdv(-0.6)[0]": (lambda x: sp.pbdv(-0.6, x)[0],
                      lambda x: mp.diff(lambda t: mp.pcfd(-0.6, t), x), [-2.0, 0.4, 3.0],
                      1e-12),
    # scipy's V_v is mpmath's V(a, x) with a = -v - 1/2
    "pbvv(1.7)[0]": (lambda x: sp.pbvv(1.7, x)[0],
                     lambda x: mp.diff(lambda t: mp.pcfv(-2.2, t), x), [0.3, 2.0, 7.0],
                     1e-12),
    "pbvv(1.7)[1]": (lambda x: sp.pbvv(1.7, x)[1],
                     lambda x: mp.diff(lambda t: mp.pcfv(-2.2, t), x, 2), [0.3, 2.0, 7.0],
                     1e-12),
    "pbwa(0.7)[0]": (lambda x: sp.pbwa(0.7, x)[0],
                     lambda x: mp.diff(lambda t: mp.pcfw(0.7, t), x), [-1.0, 0.3, 2.0, 4.5],
                     1e-12),
    "pbwa(0.7)[1]": (lambda x: sp.pbwa(0.7, x)[1],
                     lambda x: mp.diff(lambda t: mp.pcfw(0.7, t), x, 2),
                     [-1.0, 0.3, 2.0, 4.5], 1e-12),
    "tklmbda(0.5)": (lambda x: sp.tklmbda(x, 0.5),
                     lambda x: mp.diff(_tukey_cdf(0.5), x), [-1.5, 0.3, 1.9], 1e-12),
    "tklmbda(-0.3)": (lambda x: sp.tklmbda(x, -0.3),
                      lambda x: mp.diff(_tukey_cdf(-0.3), x), [-5.0, 0.3, 8.0], 1e-12),
    "tklmbda(0)": (lambda x: sp.tklmbda(x, 0.0), lambda x: mp.diff(_tukey_cdf(0), x),
                   [-4.0, 0.3, 2.5], 1e-12),
    "wright_bessel(0.5, 1.5)": (lambda x: sp.wright_bessel(0.5, 1.5, x),
                                lambda x: mp.diff(_wright(0.5, 1.5), x),
                                [0.1, 2.0, 10.0], 16 * _EPS),
    "wright_bessel(1.3, 0.2)": (lambda x: sp.wright_bessel(1.3, 0.2, x),
                                lambda x: mp.diff(_wright(1.3, 0.2), x), [0.05, 1.0, 6.0],
                                16 * _EPS),
}
if hasattr(sp, "log_wright_bessel"):  # scipy >= 1.14
    CASES["log_wright_bessel(0.5, 1.5)"] = (
        lambda x: sp.log_wright_bessel(0.5, 1.5, x),
        lambda x: mp.diff(lambda t: mp.log(_wright(0.5, 1.5)(t)), x), [0.1, 2.0, 10.0],
        2e-13)


def _orders(dg, x):
    return [float(mp.diff(dg, mp.mpf(x), k)) for k in range(3)]


@pytest.mark.parametrize("name", CASES)
def test_orders_one_to_three_against_mpmath(name):
    f, dg, points, rtol = CASES[name]
    for x in points:
        want = _orders(dg, x)
        scale = max(abs(v) for v in want)
        tol = dict(rtol=rtol, atol=rtol * scale, err_msg=f"{name} at {x}")
        for eng in (hd, rv):
            np.testing.assert_allclose(eng.derivative(f, x), want[0], **tol)
            np.testing.assert_allclose(eng.second_derivative(f, x), want[1], **tol)
            # hyperdual's: Taylor mode; reverse's: nested graphs
            np.testing.assert_allclose(eng.derivatives(f, x, 3)[1:], want, **tol)
        np.testing.assert_allclose(rv.derivatives(f, x, 2, method="backprop")[1:],
                                   want[:2], **tol)


@pytest.mark.parametrize("name", ["it2i0k0[0]", "pbdv(1.7)[1]", "tklmbda(0.5)",
                                  "wright_bessel(0.5, 1.5)"])
def test_arrays_and_nesting(name):
    # elementwise on an array (the gradient of a sum) and inside the other engine
    f, dg, points, rtol = CASES[name]
    x = np.array(points)
    want = np.array([_orders(dg, v)[:2] for v in points])
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.gradient(lambda v: np.sum(f(v)), x), want[:, 0],
                                   rtol=rtol)
    s = points[1]
    for outer, inner in ((hd, rv), (rv, hd), (hd, hd), (rv, rv)):
        got = outer.derivative(lambda t, inner=inner: inner.derivative(
            lambda y: f(t * y), 1.0), s)
        # d/dt [t f'(t)] = f'(t) + t f''(t)
        np.testing.assert_allclose(got, want[1, 0] + s * want[1, 1], rtol=rtol)


def test_values_are_scipys():
    x = np.array([0.3, 1.7])
    for f in (lambda v: sp.itj0y0(v)[1], lambda v: sp.it2i0k0(v)[0],
              lambda v: sp.pbdv(1.2, v)[0], lambda v: sp.pbwa(0.4, v)[1],
              lambda v: sp.tklmbda(v, 0.2), lambda v: sp.wright_bessel(0.5, 1.0, v)):
        for eng in (hd, rv):
            np.testing.assert_array_equal(eng.jvp(f, x, np.ones(2))[0], f(x))


def test_tklmbda_outside_its_support_and_uniform_cases():
    # lambda > 0: support |x| <= 1/lambda, density 0 beyond (the formula gave
    # 1 / (1 + 0) = 1 there for lambda > 1); lambda = 1 and 2: uniform densities
    for eng in (hd, rv):
        np.testing.assert_array_equal(
            eng.gradient(lambda v: np.sum(sp.tklmbda(v, 2.0)), np.array([-0.7, 0.1, 0.6])),
            [0.0, 1.0, 0.0])
        np.testing.assert_array_equal(
            eng.gradient(lambda v: np.sum(sp.tklmbda(v, 1.0)), np.array([-1.5, 0.25, 3.0])),
            [0.0, 0.5, 0.0])
        assert eng.derivative(lambda v: sp.tklmbda(v, 0.5), 2.5) == 0.0


@pytest.mark.parametrize("call", [
    lambda a: sp.pbdv(a, 0.7)[0], lambda a: sp.pbvv(a, 0.7)[1], lambda a: sp.pbwa(a, 0.7)[0],
    lambda a: sp.tklmbda(0.3, a), lambda a: sp.wright_bessel(a, 1.0, 0.5),
    lambda a: sp.wright_bessel(0.5, a, 0.5)])
def test_differentiated_parameters_are_refused(call):
    for eng in (hd, rv):
        with pytest.raises(TypeError, match="not supported|parameter|constant"):
            eng.derivative(call, 0.8)


def test_lazy_dask_input_stays_lazy(lazy):
    # (the several-output functions are not dask operations: sp.pbdv(0.4, dask array)
    # raises dask's own TypeError without any engine)
    da = pytest.importorskip("dask.array")
    xs = np.array([0.2, 0.9, 1.6, 2.4])
    for f in (lambda v: np.sum(sp.tklmbda(v, 0.3)),
              lambda v: np.sum(sp.wright_bessel(0.5, 1.0, v) * sp.tklmbda(v, -0.2))):
        want = rv.gradient(f, xs)
        for eng in (hd, rv):
            got = lazy(lambda f=f, eng=eng: eng.gradient(f, da.from_array(xs, chunks=2)))
            np.testing.assert_allclose(got.compute(), want, rtol=4 * _EPS)
