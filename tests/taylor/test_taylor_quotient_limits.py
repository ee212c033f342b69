"""The documented limit of Taylor division near the denominator's zero (README, Taylor
mode, "Quotients"): ``expm1(x) / x`` at x = 1e-3 against mpmath's Taylor coefficients.

The quotient's coefficients come from q_k = (a_k - b_1 q_{k-1}) / b_0 (b = x0 + t here):
each order divides the rounding errors of the a_j by b_0 once more, so coefficient k is
known to about eps * sum_j |a_j| |b_1|^(k-j) / |b_0|^(k-j+1), the size of the terms
that cancel in it (mpmath: 2e-10 relative at order 2, 8e-7 at order 3, 4e-3 at order 4
at x = 1e-3).  That is the conditioning of the truncated series (its truth needs a's
coefficients beyond order K), not of the recurrence's arithmetic: no reordering recovers
it.  This test holds the engine to that bound (so the recurrence never loses more than the
inputs' rounding forces) and to full precision where the bound is small.
"""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

import hyperdual as hd

EPS = float(np.finfo(np.float64).eps)
K = 8


def _truth(x0):
    with mp.workdps(60):
        c = mp.taylor(lambda t: mp.expm1(t) / t, mp.mpf(x0), K)
        return np.array([float(v) for v in c])


def _bound(x0):
    """eps * sum_{j<=k} |a_j| / |x0|^(k-j+1): the cancelling terms of coefficient k."""
    a = np.array([abs(math.expm1(x0))] + [math.exp(x0) / math.factorial(j)
                                          for j in range(1, K + 1)])
    return np.array([EPS * sum(a[j] / abs(x0) ** (k - j + 1) for j in range(k + 1))
                     for k in range(K + 1)])


@pytest.mark.parametrize("x0", [1e-3, 1e-2, 0.1, 0.5, 2.0, -0.3])
def test_quotient_coefficients_within_the_inputs_rounding(x0):
    got = hd.taylor(lambda x: np.expm1(x) / x, x0, K)
    truth = _truth(x0)
    allowed = 8 * (np.arange(K + 1) + 1) * np.maximum(_bound(x0), EPS * np.abs(truth))
    err = np.abs(got - truth)
    assert np.all(err <= allowed), (err / allowed)


def test_the_loss_is_real_and_documented():
    """At 1e-3 the bound (and the error) is large from order 3 on, small below: the
    README's figures."""
    rel = _bound(1e-3) / np.abs(_truth(1e-3))
    assert rel[2] < 1e-8 and rel[3] > 1e-6 and rel[4] > 1e-3
    got = hd.taylor(lambda x: np.expm1(x) / x, 1e-3, 4)
    err = np.abs(got / _truth(1e-3)[:5] - 1)
    assert err[2] < 1e-9 and err[3] > 1e-8  # (measured: 1.9e-10 and 7.6e-7)
