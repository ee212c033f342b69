"""Taylor numbers through ``hyperdual.linalg`` and ``np.take``'s modes.

``hyperdual.linalg.expm`` of a Taylor number used to raise "operands of one tag mix
Dual and HyperDual" (the Dual/HyperDual dispatcher took the Taylor for a
mismatched Dual); it now has a series rule (the first block row of expm of the
block upper-triangular Toeplitz matrix of the coefficients), checked here against
mpmath's expm at 50 digits.  The other ``hyperdual.linalg`` functions without a
series rule name themselves and Taylor numbers.  ``np.take(x, i, mode='clip')``
raised a bare ``take() got an unexpected keyword argument 'mode'``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hyperdual as hd
from tests._tolerance import assert_close_ulps

mpmath = pytest.importorskip("mpmath")

A = np.array([[1.0, 2.0], [0.5, 3.0]])
B = np.array([[0.3, -1.0], [2.0, 0.1]])
W = np.array([[1.0, 2.0], [3.0, 4.0]])


def _truth(t0, order):
    with mpmath.workdps(50):
        def fm(t):
            E = mpmath.expm(mpmath.matrix(A.tolist()) + mpmath.matrix(B.tolist()) * t)
            return sum(W[i, j] * E[i, j] for i in range(2) for j in range(2))
        return [float(mpmath.diff(fm, mpmath.mpf(t0), k)) for k in range(order + 1)]


@pytest.mark.parametrize("t0", [-0.4, 0.7])
def test_expm_of_a_taylor_number_matches_mpmath(t0):
    d = hd.derivatives(lambda t: np.sum(hd.linalg.expm(A + B * t) * W), t0, 4)
    M = A + B * t0
    n1 = np.linalg.norm(M, 1) + np.linalg.norm(B, 1)
    # expm's relative condition number (bounded by norm(M) e^norm(M) / norm(e^M)),
    # and the weighted sum's cancellation
    cond = n1 * math.exp(n1) / np.linalg.norm(hd.linalg.expm(M), 1) * np.sum(np.abs(W)) / 4
    assert_close_ulps(d, _truth(t0, 4), ulps=16, cond=cond)


def test_expm_taylor_agrees_with_the_dual_rule_and_nests():
    x = np.array([0.5, 0.7])

    def f(y):
        return np.sum(hd.linalg.expm(A * y[0] + B * y[1]))

    h = hd.hessian(f, x)
    M = A * x[0] + B * x[1]
    n1 = np.linalg.norm(M, 1) + np.linalg.norm(A, 1) + np.linalg.norm(B, 1)
    # scipy's expm is accurate to its condition number (both routes call it on
    # different block matrices); the mixed entries add rows of either sign
    kappa = n1 * math.exp(n1) / np.linalg.norm(hd.linalg.expm(M), 1)
    t2 = hd.derivative_tensor(f, x, 2)
    assert_close_ulps(t2, h, ulps=16, cond=kappa * np.max(np.abs(h)) / np.abs(h))
    t3 = hd.derivative_tensor(f, x, 3)
    j3 = hd.jacobian(lambda y: hd.hessian(f, y), x)
    assert_close_ulps(t3, j3, ulps=16, cond=kappa * np.max(np.abs(j3)) / np.abs(j3))


@pytest.mark.parametrize("call", [
    lambda t: hd.linalg.solve_triangular(np.triu(A) * t, np.ones(2)),
    lambda t: hd.linalg.lu_factor(A * t)[0],
])
def test_linalg_without_a_series_rule_names_taylor(call):
    with pytest.raises(TypeError, match="not supported for Taylor numbers"):
        hd.derivatives(lambda t: np.sum(call(t)), 0.5, 3)


@pytest.mark.parametrize("mode", ["clip", "wrap"])
def test_take_modes_on_taylor_numbers(mode):
    idx = [0, 4, -5]

    def f(t):
        v = np.stack([t, 2 * t, t * t])
        return np.sum(np.take(v, idx, mode=mode) ** 3)

    got = hd.derivatives(f, 0.7, 3)
    j = np.take(np.arange(3), idx, mode=mode)
    ref = hd.derivatives(lambda t: np.sum(np.stack([t, 2 * t, t * t])[j] ** 3), 0.7, 3)
    np.testing.assert_array_equal(got, ref)
    assert j.tolist() == ([0, 2, 0] if mode == "clip" else [0, 1, 1])


TAYLOR_FUNCS = {  # functions Dual had and Taylor refused ("numpy.roll is not supported")
    "roll": lambda t: np.sum(np.roll(np.stack([t, t * t, 2 * t]), 1) * np.array([1.0, 2, 3])),
    "roll_axis": lambda t: np.roll(np.stack([np.stack([t, t * t]), np.stack([np.sin(t), t])]),
                                   -1, axis=1)[1, 0] * t,
    "nan_to_num": lambda t: np.nan_to_num(np.exp(t) * t),
    "angle": lambda t: np.angle(-t) * t,  # pi t for t > 0
    "i0": lambda t: np.i0(t * t),
}


@pytest.mark.parametrize("name", list(TAYLOR_FUNCS))
def test_taylor_takes_what_dual_takes(name):
    f = TAYLOR_FUNCS[name]
    got = hd.derivatives(f, 0.7, 3)
    ref = [f(0.7), hd.derivative(f, 0.7), hd.second_derivative(f, 0.7),
           hd.derivative(lambda s: hd.second_derivative(f, s), 0.7)]
    assert_close_ulps(got, ref, ulps=16,
                      cond=np.max(np.abs(ref)) / np.maximum(np.abs(ref), 1e-300))


def test_taylor_names_scipy_special_functions_it_lacks():
    # (jv was the example here until Taylor mode took the custom_jvp rules of the
    # parametric special functions, then struve and zetac, then tklmbda, until they had
    # rules; Kolmogorov-Smirnov's smirnov has no rule in any engine)
    from scipy import special
    with pytest.raises(TypeError, match=r"scipy\.special\.smirnov is not supported for Taylor"):
        hd.derivatives(lambda t: special.smirnov(3, t), 0.3, 3)
