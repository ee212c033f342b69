"""Array functions of session 12 at hostile points (issue 12: no silently wrong
derivative): ``np.geomspace`` between ends far apart, ``np.hypot.reduce`` through
zeros and of one entry, ``np.vander`` of inf and NaN.

* ``geomspace(1e-300, 1e-10, 5)`` was ``start * (stop / start) ** t``: stop / start
  overflowed or underflowed for ends such as 1e-200 and 1e200, so the values were 0
  instead of 1e100 and the derivatives NaN, +-inf or finite and wrong (reverse gave
  3.16e72 for d y1 / d start, truth 2.37e72, and 0 for d y1 / d stop, truth 7.9e-219).
* ``np.hypot.reduce`` was the fold hypot(hypot(a0, a1), a2), whose inner hypot(0, 0)
  is a kink where the whole, sqrt(a0**2 + a1**2 + a2**2), is smooth: hyperdual's
  gradient at (0, 0, 3) was [nan, nan, 1] (truth [0, 0, 1]) and both engines' Hessians
  NaN; one entry gave a0 (numpy: hypot(0, a0) = abs(a0)), so value and derivative
  had the wrong sign at a0 < 0.
* ``np.vander`` formed x**0 as x * 0 + 1: NaN at x = inf (numpy 1) and every
  column after it NaN.

Truth: mpmath at 50 digits (closed forms), tolerances in ulps times the condition.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual import Dual
from reverse import Variable

M = pytest.importorskip("mpmath")
EPS = np.finfo(float).eps
ENGINES = [hd, rv]


def _ok(got, want, cond, ulps=8.0, what=""):
    """got (float) within ulps * cond of the mpmath value want."""
    assert np.isfinite(got), (what, got, want)
    err = abs(M.mpf(float(got)) - want)
    assert err <= ulps * cond * EPS * abs(want), (what, float(got), float(want),
                                                   float(err / (EPS * abs(want))))


# --- geomspace ------------------------------------------------------------------
ENDS = [(1e-200, 1e200), (1e200, 1e-200), (1e-300, 1e-10), (2.0, 1e300), (1e-170, 1e170),
        (3.0, 7.0), (-1e-150, -1e150), (-5.0, -0.25)]


def _geom_truth(a, b, t):
    """The entry y = sign abs(a)**(1-t) abs(b)**t and its derivatives in a and b
    (mpmath, 50 digits); cond: the value's condition in its exponents."""
    with M.workdps(50):
        a, b, t = M.mpf(a), M.mpf(b), M.mpf(t)
        u = 1 - t
        s = -1 if a < 0 else 1
        y = s * abs(a) ** u * abs(b) ** t
        first = (u * y / a, t * y / b)
        second = ((u * (u - 1) * y / a ** 2, u * t * y / (a * b)),
                  (u * t * y / (a * b), t * (t - 1) * y / b ** 2))
        cond = 2 + abs(u * M.log(abs(a))) + abs(t * M.log(abs(b)))
        return y, first, second, float(cond)


@pytest.mark.parametrize("a,b", ENDS)
@pytest.mark.parametrize("eng", ENGINES, ids=["hyperdual", "reverse"])
def test_geomspace_jacobian_across_the_range(eng, a, b):
    num = 5
    x = np.array([a, b])
    J = eng.jacobian(lambda v: np.geomspace(v[0], v[1], num), x)
    vals = np.geomspace(Dual(x[0], 0.0), x[1], num).real
    for k in range(num):
        y, first, _, cond = _geom_truth(a, b, M.mpf(k) / (num - 1))
        _ok(vals[k], y, cond, what=f"value {k}")
        for j in range(2):
            if first[j] == 0:
                assert J[k, j] == 0
            else:
                _ok(J[k, j], first[j], cond, what=f"d y{k} / d x{j}")


@pytest.mark.parametrize("a,b", [(1e-120, 1e120), (1e120, 1e-120), (-1e-90, -1e100),
                                 (3.0, 7.0)])
@pytest.mark.parametrize("eng", ENGINES, ids=["hyperdual", "reverse"])
def test_geomspace_hessian_of_an_interior_entry(eng, a, b):
    H = eng.hessian(lambda v: np.geomspace(v[0], v[1], 5)[1], np.array([a, b]))
    _, _, second, cond = _geom_truth(a, b, M.mpf(1) / 4)
    for i in range(2):
        for j in range(2):
            _ok(H[i, j], second[i][j], cond, ulps=16, what=f"H[{i},{j}]")


def test_geomspace_taylor_third_derivative():
    """hd.derivatives (Taylor numbers) of the entry t = 1/4 in start, at 1e-60."""
    a, b = 1e-60, 1e60
    d = hd.derivatives(lambda s: np.geomspace(s, b, 5, endpoint=False), a, order=3)[:, 1]
    with M.workdps(50):
        t = M.mpf(1) / 5
        u = 1 - t
        B = M.mpf(b) ** t
        want = [M.mpf(a) ** u * B, u * M.mpf(a) ** (u - 1) * B,
                u * (u - 1) * M.mpf(a) ** (u - 2) * B,
                u * (u - 1) * (u - 2) * M.mpf(a) ** (u - 3) * B]
    for k in range(4):
        _ok(d[k], want[k], 2 + 4 * 140, what=f"order {k}")


@pytest.mark.parametrize("num,endpoint", [(0, True), (1, True), (2, True), (2, False),
                                          (3, False), (6, True)])
def test_geomspace_ends_and_shapes_as_numpy(num, endpoint):
    want = np.geomspace(2.0, 8.0, num, endpoint=endpoint)
    for got in (np.geomspace(Dual(2.0, 1.0), 8.0, num, endpoint=endpoint).real,
                np.geomspace(Variable(2.0), 8.0, num, endpoint=endpoint).data):
        assert got.shape == want.shape
        if num:
            assert got[0] == 2.0
            if endpoint and num > 1:
                assert got[-1] == 8.0
        np.testing.assert_allclose(got, want, rtol=8 * EPS)


# --- hypot.reduce -----------------------------------------------------------------
def _norm_truth(v):
    """gradient and Hessian of sqrt(sum v**2) at v (mpmath, 50 digits)."""
    with M.workdps(50):
        m = [M.mpf(float(e)) for e in v]
        r = M.sqrt(sum(e * e for e in m))
        g = [e / r for e in m]
        H = [[((1 if i == j else 0) - g[i] * g[j]) / r for j in range(len(m))]
             for i in range(len(m))]
        return g, H


@pytest.mark.parametrize("v", [[0.0, 0.0, 3.0], [0.0, 2.0, 0.0, -1.0], [3e200, 0.0, 4e200],
                               [0.0, 3e-200, 0.0, 4e-200], [0.5, -1.5, 2.0]])
@pytest.mark.parametrize("eng", ENGINES, ids=["hyperdual", "reverse"])
def test_hypot_reduce_is_smooth_through_zero_partial_results(eng, v):
    x = np.array(v)
    g, H = _norm_truth(v)
    got_g = eng.gradient(np.hypot.reduce, x)
    got_H = eng.hessian(np.hypot.reduce, x)
    n = len(v)
    for i in range(n):
        if g[i] == 0:
            assert got_g[i] == 0
        else:
            _ok(got_g[i], g[i], n, what=f"g[{i}]")
        for j in range(n):
            if abs(H[i][j]) <= 1e-300:
                assert abs(got_H[i, j]) <= 4 * n * EPS * max(abs(float(e)) for r in H
                                                             for e in r), (i, j)
            else:
                _ok(got_H[i, j], H[i][j], 4 * n, what=f"H[{i},{j}]")


@pytest.mark.parametrize("kw", [{}, {"axis": 1}, {"axis": None}, {"axis": (0, 1)},
                                {"axis": -1, "keepdims": True}, {"axis": 1, "initial": -2.0},
                                {"axis": ()}, {"axis": 0, "initial": 0.5}])
def test_hypot_reduce_values_and_axes_as_numpy(kw):
    x = np.array([[0.0, -1.0, 2.0], [0.0, 0.0, -3.0]])
    want = np.hypot.reduce(x, **kw)
    for got in (np.hypot.reduce(Dual(x, np.ones_like(x)), **kw).real,
                np.hypot.reduce(Variable(x), **kw).data):
        assert np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=4 * EPS)


@pytest.mark.parametrize("eng", ENGINES, ids=["hyperdual", "reverse"])
def test_hypot_reduce_of_one_entry_is_its_absolute_value(eng):
    """numpy: hypot(0, a0) = abs(a0) (hypot's identity is 0); d/da0 = sign(a0)."""
    assert eng.derivative(lambda t: np.hypot.reduce(np.stack([t])), -2.0) == -1.0
    assert float(np.hypot.reduce(Variable(np.array([-2.0]))).data) == 2.0
    # an empty reduction with initial= gives initial itself, as numpy's
    got = np.hypot.reduce(Variable(np.zeros((0, 2))), axis=0, initial=-3.0)
    np.testing.assert_array_equal(got.data, [-3.0, -3.0])


# --- vander -----------------------------------------------------------------------
@pytest.mark.parametrize("increasing", [False, True])
def test_vander_of_inf_and_nan_as_numpy(increasing):
    x = np.array([np.inf, 2.0, np.nan, -3.0])
    want = np.vander(x, 3, increasing=increasing)
    for got in (np.vander(Dual(x, np.ones(4)), 3, increasing=increasing),
                np.vander(Variable(x), 3, increasing=increasing)):
        val = got.real if isinstance(got, Dual) else got.data
        np.testing.assert_array_equal(val, want)
    d = np.vander(Dual(x, np.ones(4)), 3, increasing=increasing).dual
    col = 0 if increasing else 2
    np.testing.assert_array_equal(d[:, col], 0.0)  # x**0: the constant 1
    np.testing.assert_array_equal(d[:, 1], 1.0)  # x**1
    np.testing.assert_array_equal(d[1:2, 2 - col], [4.0])  # d x**2 / dx at 2
