"""np.ediff1d, np.geomspace, np.vander and np.bincount(weights=) in both engines (and
Taylor mode where it applies): values equal numpy's, gradients and Hessians against
central differences and each other, closed forms, nesting, errors."""

from __future__ import annotations

import numpy as np
import pytest
from breadth_checks import check_both_engines, check_third_order, scalarize

import hyperdual as hd
import reverse as rv
from hyperdual import Dual
from reverse import Variable

X = np.array([0.3, 1.2, 2.0, 0.7, 1.1, 0.4])
BINS = np.array([0, 1, 1, 3, 0, 3])

CASES = {
    "bincount": lambda v: np.bincount(BINS, weights=v * v, minlength=5),
    "bincount_plain_weights_moving_bins": lambda v: np.bincount(BINS, weights=v),
    "ediff1d": lambda v: np.ediff1d(np.reshape(v, (2, 3))),
    "ediff1d_ends": lambda v: np.ediff1d(v, to_begin=v[0] ** 2, to_end=[1.0, 2.0]),
    "geomspace": lambda v: np.geomspace(v[0], v[1], 5),
    "geomspace_negative": lambda v: np.geomspace(-v[0], -v[2], 4, endpoint=False),
    "geomspace_arrays_axis": lambda v: np.geomspace(v[:2], v[2:4], 3, axis=1),
    "vander": lambda v: np.vander(v[:4]),
    "vander_N_increasing": lambda v: np.vander(v[:3], 5, increasing=True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_derivatives(name):
    f = CASES[name]
    want = f(X)
    np.testing.assert_allclose(f(Dual(X, np.ones_like(X))).real, want, rtol=4e-15)
    np.testing.assert_allclose(f(Variable(X)).data, want, rtol=4e-15)
    check_both_engines(scalarize(f), X)


def test_closed_forms():
    w = np.array([1.0, 2.0, 3.0, 4.0])
    for eng in (hd, rv):
        # d/dw bincount(b, w)[k] = [b == k]
        J = eng.jacobian(lambda v: np.bincount([2, 0, 2, 1], weights=v), w)
        np.testing.assert_array_equal(J, [[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 1, 0]])
        # geomspace(a, b, 3)[1] = sqrt(a b): gradient (b, a) / (2 sqrt(ab))
        g = eng.gradient(lambda v: np.geomspace(v[0], v[1], 3)[1], np.array([2.0, 8.0]))
        np.testing.assert_allclose(g, [8 / 8, 2 / 8], rtol=1e-15)
        # geomspace's ends: d first / d start = 1, d last / d stop = 1, others 0
        J = eng.jacobian(lambda v: np.geomspace(v[0], v[1], 4)[[0, 3]], np.array([2.0, 9.0]))
        np.testing.assert_array_equal(J, np.eye(2))
        # vander: d/dx x**k = k x**(k-1)
        J = eng.jacobian(lambda v: np.vander(v, 4), np.array([0.0, 2.0]))
        np.testing.assert_array_equal(J[:, :, 0], [[0, 0, 1, 0], [0] * 4])
        np.testing.assert_array_equal(J[:, :, 1], [[0] * 4, [12, 4, 1, 0]])


def test_third_order_and_taylor():
    f = lambda t: np.sum(np.sin(np.vander(np.stack([t, 2 * t]), 3))) + np.geomspace(  # noqa: E731
        1.0 + t * t, 3.0, 4)[1] + np.sum(np.ediff1d(np.stack([t, t ** 3, 1.0])) ** 2)
    d = check_third_order(f, 0.6)
    tay = hd.derivatives(f, 0.6, 3)
    np.testing.assert_allclose(tay[1:], d, rtol=1e-12)


@pytest.mark.parametrize("outer", [hd, rv], ids=["hd-outside", "rv-outside"])
@pytest.mark.parametrize("inner", [hd, rv], ids=["hd-inside", "rv-inside"])
def test_nesting(outer, inner):
    """d/da [a * d/db sum(bincount(bins, [a b, b^2, a + b])^2)] = 4 a (3b + ... ) by hand:
    bins (0, 0, 1): s = (ab + b^2)^2 + (a + b)^2; ds/db = 2(ab + b^2)(a + 2b) + 2(a + b)."""
    b0, a0 = 0.7, 1.3

    def inner_f(a):
        return inner.derivative(lambda b: np.sum(np.bincount(
            np.array([0, 0, 1]), weights=np.stack([a * b, b * b, a + b])) ** 2), b0)

    got = outer.derivative(lambda a: a * inner_f(a), a0)

    def ds_db(a, b):
        return 2 * (a * b + b * b) * (a + 2 * b) + 2 * (a + b)

    # d/da [a ds/db] = ds/db + a d2s/dadb; d2s/dadb = 2 b (a + 2b) + 2 (ab + b^2) + 2
    want = ds_db(a0, b0) + a0 * (2 * b0 * (a0 + 2 * b0) + 2 * (a0 * b0 + b0 * b0) + 2)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_errors():
    d = Dual(np.array([1.0, 2.0]), np.ones(2))
    with pytest.raises(ValueError, match="zero"):
        np.geomspace(d[0] * 0.0, 2.0, 3)
    with pytest.raises(TypeError, match="complex"):
        np.geomspace(Variable(-1.0), 2.0, 3)
    with pytest.raises(ValueError, match="same length"):
        np.bincount([0, 1, 1], weights=d)
    with pytest.raises(TypeError, match="bins"):
        np.bincount(Variable(np.array([0.0, 1.0])), weights=Variable(np.ones(2)))
    with pytest.raises(ValueError, match="one-dimensional"):
        np.vander(Variable(np.ones((2, 2))))
    # numpy's own checks of the bins
    with pytest.raises(ValueError):
        np.bincount(np.array([-1, 0]), weights=d)
