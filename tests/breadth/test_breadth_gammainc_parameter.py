"""gammainc and gammaincc differentiated in their parameter a (JAX's special-function
suite checks their gradients in both arguments; they raised TypeError here).

d/da P(a, x) has no closed form: hyperdual/rules/incomplete_gamma.py differentiates P's
series (x < a + 1) and Q's continued fraction (x >= a + 1) term by term.  Truth: mpmath's
regularized incomplete gamma at 40 digits, derivatives by ``mp.diff``.  The tolerance of
the plain derivative is a few ulps times the size of the exponent a log x - x (the
condition number of x^a e^-x in a and x), the only rounding that grows.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
from test_breadth_special_closed_forms import _check_orders
from test_breadth_special_more import _hessian, hessian_paths

import hyperdual as hd
import reverse as rv
from hyperdual.rules.incomplete_gamma import gammainc_da

_EPS = float(np.finfo(float).eps)


def _p(a, x):
    return mp.gammainc(a, 0, x, regularized=True)


def _q(a, x):
    return mp.gammainc(a, x, mp.inf, regularized=True)


# a from 1e-3 to 300 (integers too, where the continued fraction ends early while its
# derivative does not: d/da at (1, 3) was 7e7 ulps off in a first version), x from
# 1e-3 a to 10 a on both sides of the switch x = a + 1
GRID = [(a, r * a if a >= 1 else 3 * r) for a in (1e-3, 0.1, 0.5, 1.0, 2.5, 3.0, 7.0, 20.0,
                                                  99.5, 300.0)
        for r in (1e-3, 0.1, 0.5, 0.9, 1.0, 1.05, 1.5, 3.0, 10.0)]


@pytest.mark.parametrize("a, x", GRID)
def test_derivative_in_a_against_mpmath(a, x):
    # the small one of P, Q is differentiated (the other's derivative is its negative):
    # mpmath's too, so neither truth is 1 minus a rounded number
    g = _p if x < a + 1 else lambda s, t: -_q(s, t)
    want = float(mp.diff(lambda s: g(s, mp.mpf(x)), mp.mpf(a)))
    got = gammainc_da(a, x)
    tol = 8 * _EPS * max(1.0, abs(a * np.log(x)), x)
    assert abs(got - want) <= tol * abs(want), (got, want)
    for eng in (hd, rv):
        d = eng.derivative(lambda s: sp.gammainc(s, x), a)
        dc = eng.derivative(lambda s: sp.gammaincc(s, x), a)
        assert d == got and dc == -got, (eng.__name__, d, dc, got)


HESSIAN_POINTS = [(2.5, 1.3), (0.7, 4.0), (3.0, 3.0), (3.0, 8.0), (12.0, 11.0)]


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
@pytest.mark.parametrize("p", HESSIAN_POINTS)
def test_hessian_in_both_arguments_in_every_nesting(name, p):
    f = getattr(sp, name)
    fv = lambda v: f(v[0], v[1])  # noqa: E731
    want = _hessian(_p if name == "gammainc" else _q, p)
    x = np.array(p)
    for got in hessian_paths(fv, x, every=True):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13 * np.abs(want).max(),
                                   err_msg=f"{name} at {p}")


@pytest.mark.parametrize("p", [(2.5, 1.3), (3.0, 3.3), (0.4, 6.0), (30.0, 24.0)])
def test_orders_one_to_three_along_a_line(p):
    # every partial to the third through Dual, HyperDual, Taylor and create_graph:
    # t -> P(a + t, x + t/2) at t = 0
    a, x = p
    _check_orders(f"gammainc along a line at {p}", lambda t: sp.gammainc(a + t, x + 0.5 * t),
                  lambda t: _p(mp.mpf(a) + t, mp.mpf(x) + t / 2), [0.0], 1e-12)


def test_arrays_broadcasting_and_edges():
    a = np.array([0.5, 2.0, 3.0, 40.0, 2.0])
    x = np.array([0.2, 9.0, 3.0, 39.0, 0.0])  # both forms, and x = 0 (P = 0 for every a)
    want = [float(mp.diff(lambda s, t=t: _p(s, mp.mpf(t)), mp.mpf(s0))) if t > 0 else 0.0
            for s0, t in zip(a, x)]
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.gradient(lambda s: np.sum(sp.gammainc(s, x)), a), want,
                                   rtol=1e-13, atol=0, err_msg=eng.__name__)
        # one a against an array of x: the cotangent is summed to a's shape
        got = eng.derivative(lambda s: np.sum(sp.gammaincc(s, x[:4])), 2.0)
        total = sum(-float(mp.diff(lambda s, t=t: _p(s, mp.mpf(t)), 2)) for t in x[:4])
        np.testing.assert_allclose(got, total, rtol=1e-13, err_msg=eng.__name__)
        # outside the domain scipy's value is nan, and so is its derivative
        assert np.isnan(eng.derivative(lambda s: sp.gammainc(s, 2.0), -1.0))
        assert eng.derivative(lambda s: sp.gammaincc(s, np.inf), 2.0) == 0.0  # Q = 0
        # d/dx at x = inf with a constant: the density, 0 (it was inf - inf = nan)
        assert eng.derivative(lambda t: sp.gammainc(2.0, t), np.inf) == 0.0


def test_derivative_in_a_on_a_long_array():
    # 5,000 a's at one x: Lentz's step ratio of the fraction settles within 1-2 ulps of
    # 1 and some entries stay at 4.4e-16, which a count asking every entry for 1.1e-16
    # at one step never saw: it ran to the term limit and raised ValueError ("a > ~1e9")
    a = np.linspace(0.5, 30.0, 5000)
    for eng in (hd, rv):
        g = eng.gradient(lambda s: np.sum(sp.gammainc(s, 10.0)), a)
        for i in range(0, 5000, 499):
            want = float(mp.diff(lambda s: _p(s, 10), mp.mpf(a[i])))
            tol = 8 * _EPS * max(10.0, abs(a[i] * np.log(10.0)))
            assert abs(g[i] - want) <= tol * abs(want), (a[i], g[i], want)
        # and each entry as in a call of its own
        one = [gammainc_da(float(s), 10.0) for s in a[::250]]
        np.testing.assert_allclose(g[::250], one, rtol=4 * _EPS)


@pytest.mark.parametrize("a, y", [(2.5, 0.3), (0.7, 0.9), (40.0, 0.05)])
def test_inverses_in_a(a, y):
    # x(a, y) with P(a, x) = y (gammaincinv) or Q(a, x) = y (gammainccinv): dx/da =
    # -P_a / P_x by implicit differentiation, d2x/da2 through the same rule again
    def inverse(s, t):
        x0 = mp.mpf(float(sp.gammaincinv(float(s), float(t))))
        return mp.findroot(lambda u: _p(s, u) - t, x0)

    p = (mp.mpf(a), mp.mpf(y))
    want_a, want_y = (float(mp.diff(inverse, p, (1, 0))), float(mp.diff(inverse, p, (0, 1))))
    want_aa = float(mp.diff(inverse, p, (2, 0)))
    for eng in (hd, rv):
        got = eng.gradient(lambda v: sp.gammaincinv(v[0], v[1]), np.array([a, y]))
        np.testing.assert_allclose(got, [want_a, want_y], rtol=1e-13, err_msg=eng.__name__)
        got_c = eng.gradient(lambda v: sp.gammainccinv(v[0], 1.0 - v[1]), np.array([a, y]))
        np.testing.assert_allclose(got_c, [want_a, want_y], rtol=1e-12, err_msg=eng.__name__)
        assert eng.second_derivative(lambda s: sp.gammaincinv(s, y), a) == pytest.approx(
            want_aa, rel=1e-11), eng.__name__
        assert eng.derivative(lambda s, eng=eng: eng.stats.gamma.ppf(y, s), a) == \
            pytest.approx(want_a, rel=1e-13)
