"""beta's partials where they leave the float range alone but the derivative does
not: d2/dv2 ``beta(exp(v), 2)`` at v = -300 is 1.9e130 while B_aa = 2e900 (it was
inf); in Taylor mode at v = 300 B L_a = -5e-391 underflowed (every order was 0, truth
-5.3e-261, 1.06e-260 ...).  Truth: mpmath at 50 digits."""

import mpmath as mp
import numpy as np
import pytest
from scipy import special

import hyperdual as hd

mp.mp.dps = 50
EPS = np.finfo(np.float64).eps

CASES = {
    "beta(exp v, 2)": (lambda v: special.beta(np.exp(v), 2.0),
                       lambda v: mp.beta(mp.exp(v), 2)),
    "beta(2, exp v)": (lambda v: special.beta(2.0, np.exp(v)),
                       lambda v: mp.beta(2, mp.exp(v))),
    "beta(exp v, exp v)": (lambda v: special.beta(np.exp(v), np.exp(v)),
                           lambda v: mp.beta(mp.exp(v), mp.exp(v))),
    "beta(exp v, 0.5 exp v)": (lambda v: special.beta(np.exp(v), 0.5 * np.exp(v)),
                               lambda v: mp.beta(mp.exp(v), mp.exp(v) / 2)),
}
PATHS = {
    "second_derivative": lambda f, v: hd.second_derivative(f, v),
    "hessian": lambda f, v: hd.hessian(lambda p: f(p[0]), np.array([v]))[0, 0],
}


@pytest.mark.parametrize("v", [-300.0, -250.0, -200.0, -100.0, -20.0])
@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_second_derivative_where_b_aa_overflows(case, path, v):
    f, fm = CASES[case]
    truth = float(mp.diff(fm, mp.mpf(v), 2))
    got = float(np.asarray(PATHS[path](f, v)))
    # exp(v)'s own rounding (condition ~|v| per argument) times 64 ulps
    assert abs(got - truth) <= 64 * EPS * (2 + 2 * abs(v)) * abs(truth), (got, truth)


@pytest.mark.parametrize("v", [-300.0, -100.0, 100.0, 250.0, 300.0, 330.0])
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("case", sorted(CASES))
def test_taylor_nth_derivative_far(case, n, v):
    f, fm = CASES[case]
    truth = float(mp.diff(fm, mp.mpf(v), n))
    got = float(np.asarray(hd.nth_derivative(f, v, n)))
    assert abs(got - truth) <= 64 * EPS * (2 + 2 * abs(v)) * n * abs(truth), (got, truth)
