"""Entries that two formulas lost to cancellation (found by a random sweep, issue 12).

1. ``derivative_tensor`` combines Taylor coefficients along directions by the
   Griewank-Utke-Walther interpolation, a signed sum whose terms are rounded
   relative to their own size.  An entry far below its neighbours kept none of its
   digits: for ``1e20 x0**2 + x0 x1 + x1**2`` the mixed partial came out -1 (truth 1)
   in both engines, and the third-order tensor of ``1e20 x0**3 + x0**2 x1`` had
   -2.048e4 and 8.192e3 where the truth is 2 and 0.  Such entries are now
   recomputed by nested jvp's, which form no such sum.
2. ``beta``'s mixed second partial B_ab took the stable divided-difference form only
   where a + b > 0; at a, b in (-1, 0) next to the pole (a = -1.8e-9, b = -0.0195)
   the direct B (L_a L_b + L_ab) cancelled from 1e8 to the truth 2.458 and gave
   -3707.6 in both engines (the form holds wherever a, b, a + b > -1).

Truth: closed forms, and mpmath's derivatives of Gamma(a) Gamma(b) / Gamma(a + b)
at 60 digits.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy import special

import hyperdual as hd
import reverse as rv
from _exactdiff.special import beta_second_partials

EPS = np.finfo(float).eps

TENSOR_ENGINES = {
    "hyperdual": lambda f, x, d: hd.derivative_tensor(f, x, d),
    "reverse taylor": lambda f, x, d: rv.derivative_tensor(f, x, d),
    "reverse backprop": lambda f, x, d: rv.derivative_tensor(f, x, d, method="backprop"),
}


@pytest.mark.parametrize("engine", sorted(TENSOR_ENGINES))
def test_small_entry_next_to_a_huge_one_second_order(engine):
    def f(x):
        return 1e20 * x[0] ** 2 + x[0] * x[1] + x[1] ** 2

    T = TENSOR_ENGINES[engine](f, np.array([0.3, 0.7]), 2)
    np.testing.assert_allclose(T, [[2e20, 1.0], [1.0, 2.0]], rtol=8 * EPS)


@pytest.mark.parametrize("engine", sorted(TENSOR_ENGINES))
def test_small_entries_next_to_a_huge_one_third_order(engine):
    def f(x):
        return 1e20 * x[0] ** 3 + x[0] ** 2 * x[1] + np.sin(x[1])

    x = np.array([0.3, 0.7])
    T = TENSOR_ENGINES[engine](f, x, 3)
    truth = np.zeros((2, 2, 2))
    truth[0, 0, 0] = 6e20
    truth[0, 0, 1] = truth[0, 1, 0] = truth[1, 0, 0] = 2.0
    truth[1, 1, 1] = -np.cos(0.7)
    np.testing.assert_allclose(T, truth, rtol=8 * EPS, atol=0)


def test_well_scaled_tensor_unchanged():
    def f(x):
        return np.exp(x[0]) * np.sin(x[1]) * x[2]

    x = np.array([0.4, -0.3, 1.2])
    T = hd.derivative_tensor(f, x, 3)
    e, s, c = np.exp(0.4), np.sin(-0.3), np.cos(-0.3)
    assert abs(T[0, 1, 2] - e * c) <= 8 * EPS * e
    assert T[2, 2, 2] == 0.0 and T[1, 2, 2] == 0.0
    assert abs(T[1, 1, 2] + e * s) <= 8 * EPS * e
    np.testing.assert_allclose(T, np.transpose(T, (1, 0, 2)), rtol=0, atol=0)


def _beta_truth(a, b):
    mpmath.mp.dps = 60

    def B(x, y):
        return mpmath.gamma(x) * mpmath.gamma(y) / mpmath.gamma(x + y)

    A, Bb = mpmath.mpf(a), mpmath.mpf(b)
    return [mpmath.diff(B, (A, Bb), k) for k in ((2, 0), (1, 1), (0, 2))]


# a, b in (-1, 0) or of mixed sign with a + b in (-1, 0): B_ab ~ 2.5 from terms ~1e8
BETA_POINTS = [(-1.7897898527905821e-09, -0.01947366164713464),
               (1.3920974480682235e-07, -6.562361738545596e-06),
               (-0.08914137371061348, 3.26187265517454e-06),
               (-0.005803769064794877, -5.58839787233617e-08),
               (-0.3, 0.2), (0.5, -0.7), (-0.5, -0.4)]


@pytest.mark.parametrize("a, b", BETA_POINTS)
def test_beta_mixed_partial_where_a_plus_b_is_negative(a, b):
    bab = beta_second_partials(a, b)[1]
    t = _beta_truth(a, b)[1]
    assert abs((mpmath.mpf(float(bab)) - t) / t) <= 64 * EPS, (float(bab), float(t))


def test_beta_hessian_both_engines_near_the_pole():
    a, b = BETA_POINTS[0]
    t = float(_beta_truth(a, b)[1])

    def f(x):
        return special.beta(x[0], x[1])

    p = np.array([a, b])
    e1 = np.array([0.0, 1.0])
    got = [hd.hessian(f, p)[0, 1], rv.hessian(f, p)[0, 1], hd.hvp(f, p, e1)[0],
           rv.hvp(f, p, e1)[0], rv.hvp(f, p, e1, mode="reverse-over-reverse")[0]]
    for v in got:
        assert abs(v - t) <= 64 * EPS * abs(t), (got, t)
