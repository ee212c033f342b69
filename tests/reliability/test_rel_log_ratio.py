"""The log(x / y) inside rel_entr's and kl_div's derivatives, across the float range.

d/dx rel_entr(x, y) = log(x / y) + 1 (kl_div: log(x / y)).  Formed as log(x / y),
it was -inf at (5e-324, 1e10) and +inf at (1e300, 1e-10), where the truth is the
ordinary float -766.47 / 714.80 (Dual, HyperDual and reverse: x / y leaves the float
range); Taylor mode's scaled path took log(x_0 / y_0) as rel_entr(x_0, y_0) / x_0,
a subnormal product rounded to a few digits: -743.0 for -743.44 at x = 5e-324.
The shared branches live in ``_exactdiff.special.log_ratio_branches``.

Truth: mpmath at 50 digits; bound: 8 ulps of the derivative (log(x / y) is
well conditioned once x and y are given exactly).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import special

import hyperdual as hd
import reverse as rv

mpmath = pytest.importorskip("mpmath")

POINTS = [(5e-324, 1.0), (5e-324, 1e10), (2e-320, 1e-5), (1e-310, 3.0), (1e-300, 1e10),
          (1e300, 1e-10), (1.5e308, 1e-300), (3e-200, 4e200), (0.7, 0.3), (0.7, 0.69),
          (2.0, 1.0 + 2**-40)]
ULPS = 8
EPS = float(np.finfo(float).eps)


def _truth(x, y, shift):
    with mpmath.workdps(50):
        return float(mpmath.log(mpmath.mpf(x) / mpmath.mpf(y)) + shift)


def _paths(fn, y):
    """(label, d/dx fn(x, y) at x) for every first-order path of both engines."""
    def f(v):
        return fn(v, y)

    def fsum(v):
        return np.sum(fn(v, np.array([y, 1.0])))

    return [
        ("hd.derivative", lambda x: hd.derivative(f, x)),
        ("hd.second_derivative's HyperDual", lambda x: hd.HyperDual(x, 1.0, 1.0, 0.0)),
        ("hd.gradient", lambda x: hd.gradient(fsum, np.array([x, 0.5]))[0]),
        ("hd.derivatives K=1", lambda x: hd.derivatives(f, x, 1)[1]),
        ("hd.derivatives K=3", lambda x: hd.derivatives(f, x, 3)[1]),
        ("hd.derivatives array", lambda x: hd.derivatives(f, np.array([x, 0.5]), 2)[1][0]),
        ("rv.derivative", lambda x: rv.derivative(f, x)),
        ("rv.gradient", lambda x: rv.gradient(fsum, np.array([x, 0.5]))[0]),
        ("rv.hessian's gradient", lambda x: rv.value_and_gradient(fsum, np.array([x, 0.5]))[1][0]),
    ]


@pytest.mark.parametrize("name, fn, shift", [("rel_entr", special.rel_entr, 1),
                                             ("kl_div", special.kl_div, 0)])
@pytest.mark.parametrize("x, y", POINTS)
def test_log_ratio_partial_in_range(name, fn, shift, x, y):
    truth = _truth(x, y, shift)
    bad = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for label, path in _paths(fn, y):
            if label.startswith("hd.second_derivative"):
                got = fn(path(x), y).eps1
            else:
                got = path(x)
            got = float(got)
            if not abs(got - truth) <= ULPS * math.ulp(truth):
                bad.append((label, got))
    assert not bad, (name, x, y, truth, bad)


def test_log_ratio_second_order_in_y_direction():
    """The branch also sits inside second-order paths: d/dy of d/dx rel_entr = -1/y
    must stay exact, and d2/dx2 = 1/x, where the split branch was taken."""
    x, y = 1e-300, 1e10
    f = lambda v: special.rel_entr(v[0], v[1])  # noqa: E731
    for H in (hd.hessian(f, np.array([x, y])), rv.hessian(f, np.array([x, y]))):
        np.testing.assert_allclose([H[0, 0], H[0, 1], H[1, 0]], [1 / x, -1 / y, -1 / y],
                                   rtol=4 * EPS)
