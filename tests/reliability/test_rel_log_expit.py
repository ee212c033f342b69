"""scipy.special.log_expit in both engines and Taylor mode (issue #12: it had no rule,
so every helper raised TypeError).  log_expit' = expit(-x), log_expit'' = -expit'(x):
both to full relative precision over the whole float range, against mpmath at 50
digits (1 - expit(x) would be 0 from x = 37 on, where the truth is e**-37)."""

import mpmath as mp
import numpy as np
import pytest
from scipy import special

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

POINTS = np.array([-1e300, -1e10, -745.0, -700.0, -40.0, -3.0, -0.5, -1e-10, 0.0, 1e-10,
                   0.5, 3.0, 37.0, 40.0, 700.0, 745.0, 1e10, 1e300])


def _truth(x: float, k: int) -> float:
    with mp.workdps(50):
        t = mp.mpf(x)
        e = mp.exp(t) if t < 0 else mp.exp(-t)  # e**-|x|, the small one
        # derivatives of -log(1 + exp(-x)) in terms of s = expit(x), c = expit(-x)
        s, c = (e / (1 + e), 1 / (1 + e)) if t < 0 else (1 / (1 + e), e / (1 + e))
        return float([-mp.log1p(mp.exp(-t)) if t > -700 else t - mp.log1p(mp.exp(t)),
                      c, -s * c, s * c * (s - c), -s * c * (1 - 6 * s * c)][k])


TRUTH = np.array([[_truth(x, k) for x in POINTS] for k in range(5)])


@pytest.mark.parametrize("engine", [hd, rv], ids=["hyperdual", "reverse"])
def test_first_and_second_derivative(engine):
    assert_close_ulps(engine.derivative(special.log_expit, POINTS), TRUTH[1], ulps=8)
    assert_close_ulps(engine.second_derivative(special.log_expit, POINTS), TRUTH[2], ulps=8)


@pytest.mark.parametrize("call", [
    lambda x: hd.derivatives(special.log_expit, x, 4),
    lambda x: rv.derivatives(special.log_expit, x, 4),
    lambda x: rv.derivatives(special.log_expit, x, 4, method="backprop"),
], ids=["taylor", "reverse-taylor", "backprop"])
def test_orders_to_four(call):
    assert_close_ulps(call(POINTS), TRUTH, ulps=64)


def test_functions_of_both_engines():
    assert_close_ulps(hd.log_expit(hd.Dual(POINTS, 1.0)).dual, TRUTH[1], ulps=8)
    assert np.result_type(rv.derivative(special.log_expit, np.float32(3.0))) == np.float32
