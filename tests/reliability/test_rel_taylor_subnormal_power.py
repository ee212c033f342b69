"""Powers in Taylor mode at a subnormal point (issue 12, far range).

``hyperdual.derivatives(lambda t: t**3, 5e-320, 3)`` was ``[0, 0, inf, nan]``
(truth ``[1.25e-958 -> 0, 7.5e-639 -> 0, 3e-319, 6]``): the ratio series of the power
rule (taken where repeated squaring's products may leave the range) divides by the
value, and 1 / 5e-320 overflows, while the products of repeated squaring are exact
there.  Each coefficient is now the ratio series' where it is finite, else the
products'.  A non-integer power (``x**2.5`` at 1e-310: ``[0, 0, inf, inf, nan]``, truth
``[0, 0, 3.7e-155, 1.9e155, -inf]``) is redone in floats with a separate exponent
(hyperdual._taylor_scaled.power, which x**y with both operands moving already used).

Truth: the closed forms p (p-1) ... x**(p-k), exact binary numbers (a subnormal x0 and
small integer coefficients) or their correctly rounded values from mpmath; the Taylor
helpers of both engines, scalar and array points.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

M = pytest.importorskip("mpmath")
M.mp.dps = 50


def _truth(x0, n, k):
    if k > n:
        return 0.0
    return float(M.mpf(math.perm(n, k)) * M.mpf(x0) ** (n - k))


@pytest.mark.parametrize("x0", [5e-320, -1e-310, 2.0 ** -1074, 3e-309])
@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize("eng", [hd, rv], ids=["hd", "rv"])
def test_integer_power_at_a_subnormal_point(x0, n, eng):
    got = eng.derivatives(lambda t: t ** n, x0, n + 1)
    want = [_truth(x0, n, k) for k in range(n + 2)]
    # a subnormal truth keeps fewer bits: compare at the spacing of the subnormals
    for k, (g, w) in enumerate(zip(got, want)):
        if abs(w) < 2.3e-308:
            assert abs(g - w) <= 4 * 2.0 ** -1074, (k, g, w)
        else:
            assert_close_ulps(g, w, 4, err_msg=f"order {k}")


def test_array_point_with_one_subnormal_entry():
    # the sum's directional derivatives: the other entries are ordinary
    x = np.array([0.3, -0.7, 1.1, 5e-320])
    u = np.array([0.3, 1.0, -0.5, -1.2])
    want = [np.sum(x ** 3), np.sum(3 * x ** 2 * u), np.sum(6 * x * u ** 2), np.sum(6 * u ** 3)]
    for eng in (hd, rv):
        got = eng.directional_derivatives(lambda v: np.sum(v ** 3), x, u, 3)
        # each a short sum of exactly rounded products: a few ulps of its largest term
        np.testing.assert_allclose(got, want, rtol=0, atol=8 * 2.2e-16 * 3)


def _truth_real(x0, p, k):
    """d^k/dx^k x**p at x0, p the float given (its exact binary value), in mpmath."""
    P = M.mpf(p)
    co = M.mpf(1)
    for i in range(k):
        co *= P - i
    return float(co * M.mpf(x0) ** (P - k))


@pytest.mark.parametrize("x0", [5e-320, 1e-310, 2.0 ** -1074, 2.2e-308])
@pytest.mark.parametrize("p", [2.5, 0.3, -1.5, 7.3, 3.25, -0.7])
@pytest.mark.parametrize("eng", [hd, rv], ids=["hd", "rv"])
def test_real_power_at_a_subnormal_point(x0, p, eng):
    got = eng.derivatives(lambda t: t ** p, x0, 4)
    for k in range(5):
        w = _truth_real(x0, p, k)
        if abs(w) < 2.3e-308:
            assert abs(got[k] - w) <= 4 * 2.0 ** -1074, (k, got[k], w)
        else:
            # x0**(p - k) carries x0's rounding times abs(p - k) (exact here: x0 is
            # the binary number given) and pow's few ulps
            assert_close_ulps(got[k], w, 16, err_msg=f"order {k}")


@pytest.mark.parametrize("eng", [hd, rv], ids=["hd", "rv"])
@pytest.mark.parametrize("scale", [1e-150, 1e-120, 1e-110])
def test_integer_power_of_an_array_with_an_exact_zero_entry(eng, scale):
    """``sum(triu(X)**3)`` along X: triu's zero entry beside entries whose cubes
    underflow.  The ratio series was formed for every entry, the zero's too, where it
    is nan (a singular point of the ratios, counted by hyperdual._taylor.KEPT), and
    the helper's audit of that count made every derivative nan: [0, nan, nan, nan] at
    1e-150, where the truth is 6 sum(triu(X)**3) (1+t)**3's coefficients, each of
    them rounded (0 below the range)."""
    x = np.array([1.0, 2.0, 3.0, 4.0]) * scale

    def f(z):
        return np.sum(np.triu(np.reshape(z, (2, 2))) ** 3)

    got = eng.directional_derivatives(f, x, x, 3)
    cube = sum(M.mpf(v) ** 3 for v in (x[0], x[1], x[3]))
    want = [float(cube * c) for c in (1, 3, 6, 6)]
    assert_close_ulps(got, want, 4)
