"""scipy.special ``kolmogorov``, ``kolmogi``, ``round`` and ``radian`` in both engines,
and the name of an unsupported scipy.special function in the error.

All four raised "not supported (no derivative rule)", and the message called them
``numpy.kolmogorov`` ... (hyperdual) or "numpy ufunc 'round'" (reverse): numpy has no
such function, and ``np.round`` is supported, so the message sent the user to the
wrong library.

Truth: Kolmogorov's series at 60 digits, differentiated by mpmath: its alternating
form 2 sum (-1)^(k-1) exp(-2 k^2 y^2) from y = 1 on, and below (where 1 - Q(y) is tiny
and 1 - ... would lose it) the derivatives of -(sqrt(2 pi)/y) sum exp(-(2k-1)^2 pi^2 /
(8 y^2)) themselves; kolmogi's derivatives are those of the inverse function, 1/Q' and
-Q''/Q'^3, at scipy's kolmogi(p).  (scipy's own private derivative ``_kolmogp`` is 5e-10
off at y = 0.9; these are within a few ulps.)
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

M = pytest.importorskip("mpmath")

TINY = float(np.finfo(float).tiny)
POINTS = [0.04, 0.1, 0.2, 0.5, 0.9, 0.999, 1.0, 1.2, 2.0, 4.0, 6.0]


def _q_derivative(y: float, order: int):
    """d^order/dy^order of Kolmogorov's Q at y (order >= 1), 60 digits."""
    with M.workdps(60):
        y = M.mpf(y)
        if y >= 1:
            return M.diff(lambda t: 2 * sum((-1) ** (k - 1) * M.exp(-2 * k * k * t * t)
                                            for k in range(1, 40)), y, order)
        return -M.diff(lambda t: M.sqrt(2 * M.pi) / t * sum(
            M.exp(-(2 * k - 1) ** 2 * M.pi ** 2 / (8 * t * t)) for k in range(1, 40)), y, order)


def _paths(f, y):
    """The first, second and third derivatives by every route of both engines."""
    return {
        "hd.derivative": (1, lambda: hd.derivative(f, y)),
        "rv.derivative": (1, lambda: rv.derivative(f, y)),
        "hd.second_derivative": (2, lambda: hd.second_derivative(f, y)),
        "rv.second_derivative": (2, lambda: rv.second_derivative(f, y)),
        "hd.derivatives[3] (Taylor)": (3, lambda: hd.derivatives(f, y, 3)[3]),
        "rv(rv.second_derivative)": (3, lambda: rv.derivative(
            lambda t: rv.second_derivative(f, t), y)),
        "hd(rv.second_derivative)": (3, lambda: hd.derivative(
            lambda t: rv.second_derivative(f, t), y)),
        "rv(hd.second_derivative)": (3, lambda: rv.derivative(
            lambda t: hd.second_derivative(f, t), y)),
        "hd(hd.derivative(hd.derivative))": (3, lambda: hd.derivative(
            lambda t: hd.derivative(lambda s: hd.derivative(f, s), t), y)),
    }


@pytest.mark.parametrize("y", POINTS)
def test_kolmogorov_to_third_order_against_mpmath(y):
    exact = {k: _q_derivative(y, k) for k in (1, 2, 3, 4)}
    for name, (order, run) in _paths(sp.kolmogorov, y).items():
        want = float(exact[order])
        if abs(want) < TINY:  # below the normal floats: 0 or a subnormal is its float
            assert abs(run()) <= TINY, name
            continue
        # the condition number |y Q^(k+1) / Q^(k)| (exp(-a/y^2) below y = 1: ~2a/y^2)
        cond = abs(float(y * exact[order + 1] / exact[order]))
        assert_close_ulps(run(), want, ulps=32, cond=cond, err_msg=f"{name} at {y}")


@pytest.mark.parametrize("p", [1e-6, 0.01, 0.3, 0.5, 0.9, 0.999])
def test_kolmogi_is_the_inverse_functions_derivative(p):
    y = float(sp.kolmogi(p))
    q1, q2 = _q_derivative(y, 1), _q_derivative(y, 2)
    with M.workdps(60):
        d1, d2 = float(1 / q1), float(-q2 / q1 ** 3)
    # cond: kolmogi's own error (a few ulps of y) moves Q'(y) by y Q''/Q'
    cond = 1.0 + abs(y * float(q2 / q1)) + abs(y * float(_q_derivative(y, 3) / q2))
    for engine in (hd, rv):
        assert_close_ulps(engine.derivative(sp.kolmogi, p), d1, ulps=32, cond=cond,
                          err_msg=f"{engine.__name__}.derivative kolmogi({p})")
        assert_close_ulps(engine.second_derivative(sp.kolmogi, p), d2, ulps=32, cond=cond,
                          err_msg=f"{engine.__name__}.second_derivative kolmogi({p})")


def test_kolmogorov_edges_and_arrays():
    y = np.array([-1.0, 0.0, 0.01, 0.5, 2.0, np.nan])
    for engine in (hd, rv):
        g = engine.gradient(lambda v: np.sum(sp.kolmogorov(v)), y)
        # Q = 1 for y <= 0; below 0.03 every derivative underflows (exp(-1371) ...)
        assert np.all(g[:3] == 0.0)
        for i, y0 in ((3, 0.5), (4, 2.0)):  # cond |y Q''/Q'|, as above
            cond = abs(float(y0 * _q_derivative(y0, 2) / _q_derivative(y0, 1)))
            assert_close_ulps(g[i], float(_q_derivative(y0, 1)), ulps=32, cond=cond)
        assert np.isnan(g[5])
        np.testing.assert_array_equal(engine.jacobian(sp.kolmogorov, y[1:5]).diagonal(),
                                      g[1:5])


def test_round_is_piecewise_constant_and_radian_linear():
    for engine in (hd, rv):
        assert engine.derivative(sp.round, 2.3) == 0.0
        assert engine.derivative(lambda v: sp.round(v) * v, 2.3) == 2.0  # round(2.3)
        assert engine.second_derivative(lambda v: sp.round(v) * v ** 2, 2.6) == 6.0
        g = engine.gradient(lambda x: sp.radian(x[0], x[1], x[2]), np.array([10., 20., 30.]))
        # (products of constants: a few ulps, as the tolerance's helper counts them)
        assert_close_ulps(g, np.pi / 180 * np.array([1, 1 / 60, 1 / 3600]), ulps=4)
        h = engine.hessian(lambda x: sp.radian(x[0], x[1], x[2]) ** 2,
                           np.array([10., 20., 30.]))
        assert_close_ulps(h, 2 * np.outer(g, g), ulps=32)
    # Taylor mode: radian(t, 2t, t^2) = (t + t/30 + t^2/3600) pi/180
    c = np.pi / 180
    np.testing.assert_allclose(hd.derivatives(lambda t: sp.radian(t, 2 * t, t * t), 1.0, 3),
                               [c * (1 + 1 / 30 + 1 / 3600), c * (1 + 1 / 30 + 2 / 3600),
                                c * 2 / 3600, 0.0], rtol=1e-14, atol=0)


def test_unsupported_scipy_special_functions_are_named_as_scipys():
    with pytest.raises(TypeError, match=r"hyperdual: scipy\.special\.smirnov is not supported"):
        hd.derivative(lambda d: sp.smirnov(5, d), 0.3)
    with pytest.raises(TypeError, match=r"scipy\.special ufunc 'smirnov' is not supported by "
                                        "reverse"):
        rv.derivative(lambda d: sp.smirnov(5, d), 0.3)
    # a private ufunc behind a public function: scipy.special.lambertw calls _lambertw
    # (the error said "numpy._lambertw")
    with pytest.raises(TypeError, match=r"hyperdual: scipy\.special\.lambertw is not supported"):
        hd.derivative(lambda x: sp.lambertw(x).real, 1.5)
    with pytest.raises(TypeError, match=r"scipy\.special ufunc 'lambertw' is not supported by "
                                        "reverse"):
        rv.derivative(lambda x: sp.lambertw(x).real, 1.5)
