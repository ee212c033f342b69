"""Kummer's hyp1f1(a, b, x) differentiated in its parameters a and b (JAX's suite
checks its gradient in all three arguments; a differentiated a or b raised TypeError).

d/da and d/db have no closed form: hyperdual/rules/hypergeometric.py differentiates
the series term by term (Kummer's transformation first for x < 0, b > a).  Truth:
mpmath's hyp1f1 at 40 digits, derivatives by ``mp.diff``.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
from test_breadth_special_closed_forms import _check_orders

import hyperdual as hd
import reverse as rv
from hyperdual.rules.hypergeometric import hyp1f1_parameter_partials

_EPS = float(np.finfo(float).eps)


def _supported(a, b, x):
    return x >= 0 or b > a or -x * a <= b


GRID = [(a, b, x) for a in (0.5, 1.0, 3.7, 15.0, 30.0) for b in (0.5, 1.0, 2.2, 15.0, 30.0)
        for x in (-40.0, -5.0, -0.7, 0.0, 0.5, 3.0, 12.0, 30.0) if _supported(a, b, x)]


@pytest.mark.parametrize("a, b, x", GRID)
def test_parameter_partials_against_mpmath(a, b, x):
    A, B, X = map(mp.mpf, (a, b, x))
    want = [float(mp.diff(lambda s: mp.hyp1f1(s, B, X), A)),
            float(mp.diff(lambda s: mp.hyp1f1(A, s, X), B))]
    got = hyp1f1_parameter_partials(a, b, x)
    # each sum's terms have one sign; rounding grows with the number of terms (~|x|), and
    # for x < 0 d/db = e^x (M_1 + M_2) subtracts (200 ulps at x = -40)
    tol = 16 * _EPS * max(1.0, abs(x))
    for g, w in zip(got, want):
        assert abs(g - w) <= tol * abs(w), (got, want)
    for eng in (hd, rv):
        assert eng.derivative(lambda s: sp.hyp1f1(s, b, x), a) == got[0], eng.__name__
        assert eng.derivative(lambda s: sp.hyp1f1(a, s, x), b) == got[1], eng.__name__


@pytest.mark.parametrize("p", [(1.5, 2.5, 3.0), (0.7, 4.0, -6.0), (12.0, 3.0, 20.0)])
def test_hessian_in_all_three_arguments_in_every_nesting(p):
    fv = lambda v: sp.hyp1f1(v[0], v[1], v[2])  # noqa: E731
    point = tuple(map(mp.mpf, p))

    def entry(i, j):
        order = [0, 0, 0]
        order[i] += 1
        order[j] += 1
        return float(mp.diff(mp.hyp1f1, point, tuple(order)))

    want = np.array([[entry(i, j) for j in range(3)] for i in range(3)])
    x = np.array(p)
    for got in (hd.hessian(fv, x), rv.hessian(fv, x),
                hd.jacobian(lambda y: rv.gradient(fv, y), x),
                rv.jacobian(lambda y: hd.gradient(fv, y), x)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13 * np.abs(want).max(),
                                   err_msg=f"hyp1f1 at {p}")


@pytest.mark.parametrize("p", [(1.5, 2.5, 3.0), (0.7, 4.0, -6.0)])
def test_orders_one_to_three_along_a_line(p):
    a, b, x = p
    _check_orders(f"hyp1f1 along a line at {p}",
                  lambda t: sp.hyp1f1(a + t, b - 0.5 * t, x + 0.25 * t),
                  lambda t: mp.hyp1f1(mp.mpf(a) + t, mp.mpf(b) - t / 2, mp.mpf(x) + t / 4),
                  [0.0], 1e-12)


def test_where_the_series_cancels_it_says_so():
    # x < 0 with a > b: alternating terms as large as e^(|x| a / b) times the sum
    for eng in (hd, rv):
        with pytest.raises(ValueError, match=r"hyp1f1: the derivative in a or b .* x = -5"):
            eng.derivative(lambda s: sp.hyp1f1(s, 1.0, -5.0), 3.0)
        # the derivative in x alone keeps its closed form there
        got = eng.derivative(lambda t: sp.hyp1f1(3.0, 1.0, t), -5.0)
        np.testing.assert_allclose(got, 3.0 * sp.hyp1f1(4.0, 2.0, -5.0), rtol=1e-14)
