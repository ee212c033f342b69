"""beta's second partials where they leave the float range alone but the derivative
does not: d2/dv2 ``beta(exp(v), 2)`` at v = -300 is 1.9e130 while B_aa = 2e900
(it was inf).  Truth: mpmath at 50 digits."""

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
