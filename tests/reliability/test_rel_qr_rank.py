"""``np.linalg.qr`` of a square (or wide) matrix of rank n - 1, in every helper of both
engines, against exact derivatives; and a clear error where Q has none.

LAPACK's last Householder reflector of a square matrix acts on a 1 x 1 block and is the
identity, so Q depends on the first n - 1 columns only and is smooth (analytic) as long
as they are independent; only the last pivot R[n-1, n-1] = q_n^T a_n is 0 at rank n - 1.
The rules used to form dA R^-1 and subtract Q (dR R^-1), dividing rounding noise by
that pivot (~1e-16): the gradient of Q[0, 1] at [[1, 2], [2, 4]] was
[[-2, 1], [-1.26, 0.63]] (hyperdual), [[-2.68, 1.43], [-2.01, 0.96]] (reverse), truth
[[0.179, 0], [-0.089, 0]]; Hessians and Taylor coefficients likewise. The square rules now
read only the leading block of R (Q^T dQ from the strictly lower part of Q^T dA R^-1,
dR = Q^T dA - (Q^T dQ) R). A zero pivot before the last (or any pivot of a tall matrix)
leaves later columns of Q not unique: DegenerateDerivativeError, never a number.

Truth: for the 2 x 2 case the closed form of numpy's factors near the point
(Q = [-a0, (-a10, a00)] / |a0| with a0 the first column, R = Q^T A), differentiated by
sympy and evaluated with mpmath at 50 digits; for 3 x 3 and wide matrices Richardson-
extrapolated central differences of numpy's own qr (error ~1e-9 at this step).
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual.linalg import DegenerateDerivativeError

sp = pytest.importorskip("sympy")

A2 = np.array([[1.0, 2.0], [2.0, 4.0]])  # rank 1: R[1, 1] ~ 2e-16
U2 = np.array([[0.3, -0.7], [1.1, 0.4]])  # weights of Q, R entries in the scalar test function
W2 = np.array([[-0.5, 0.9], [0.0, 0.6]])


def _closed_form():
    a = sp.symbols("a00 a01 a10 a11", real=True)
    A = sp.Matrix(2, 2, a)
    nrm = sp.sqrt(A[0, 0] ** 2 + A[1, 0] ** 2)
    Q = sp.Matrix([[-A[0, 0], -A[1, 0]], [-A[1, 0], A[0, 0]]]) / nrm
    R = Q.T * A
    f = sum(U2[i, j] * Q[i, j] + W2[i, j] * R[i, j] for i in range(2) for j in range(2))
    return a, Q, R, f


def _num(expr, a):
    return float(sp.N(expr.subs(dict(zip(a, A2.ravel().tolist()))), 50))


@pytest.fixture(scope="module")
def truth():
    a, Q, R, f = _closed_form()
    # the closed form is numpy's factorisation here (signs included)
    q, r = np.linalg.qr(A2)
    np.testing.assert_allclose(q, [[_num(Q[i, j], a) for j in range(2)] for i in range(2)],
                               rtol=0, atol=1e-15)
    g = np.array([_num(sp.diff(f, v), a) for v in a]).reshape(2, 2)
    h = np.array([[_num(sp.diff(f, v, w), a) for w in a] for v in a]).reshape(2, 2, 2, 2)
    t3 = np.array([[[_num(sp.diff(f, v, w, z), a) for z in a] for w in a] for v in a])
    jq = np.array([[_num(sp.diff(Q[i, j], v), a) for v in a]
                   for i in range(2) for j in range(2)]).reshape(2, 2, 2, 2)
    jr = np.array([[_num(sp.diff(R[i, j], v), a) for v in a]
                   for i in range(2) for j in range(2)]).reshape(2, 2, 2, 2)
    return g, h, t3.reshape((2, 2) * 3), jq, jr


def _f(m):
    q, r = np.linalg.qr(m)
    return np.sum(U2 * q) + np.sum(W2 * r)


def _flat(v):
    return _f(np.reshape(v, (2, 2)))


def _close(actual, expected, what):
    actual = np.asarray(actual, dtype=float)
    scale = max(1.0, float(np.max(np.abs(expected))))
    # rounding amplified by the conditioning of the leading block only (cond ~ 1 here)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=64 * 2.2e-16 * scale,
                               err_msg=what)


def test_first_order_every_helper(truth):
    g, _, _, jq, jr = truth
    for name, val in [
        ("hd.gradient", hd.gradient(_f, A2)), ("rv.gradient", rv.gradient(_f, A2)),
        ("rv.vjp", rv.vjp(_f, A2, 1.0)[1]), ("hd.vjp", hd.vjp(_f, A2, 1.0)[1]),
    ]:
        _close(val, g, name)
    for eng in (hd, rv):
        _close(eng.jacobian(lambda m: np.linalg.qr(m)[0], A2), jq, f"{eng.__name__} J_Q")
        _close(eng.jacobian(lambda m: np.linalg.qr(m)[1], A2), jr, f"{eng.__name__} J_R")
        _close(eng.jacobian(lambda m: np.linalg.qr(m, mode="r"), A2), jr,
               f"{eng.__name__} J_R mode r")


def test_second_order_every_helper(truth):
    _, h, _, _, _ = truth
    v = np.array([[0.3, -1.2], [0.8, 0.5]])
    hv = np.einsum("ijkl,kl->ij", h, v)
    _close(hd.hessian(_f, A2), h, "hd.hessian")
    _close(rv.hessian(_f, A2), h, "rv.hessian")
    _close(hd.hvp(_f, A2, v), hv, "hd.hvp")
    _close(rv.hvp(_f, A2, v), hv, "rv.hvp forward-over-reverse")
    _close(rv.hvp(_f, A2, v, mode="reverse-over-reverse"), hv, "rv.hvp reverse-over-reverse")
    h4 = h.reshape(4, 4)
    for method in ("taylor", "backprop"):
        _close(rv.derivative_tensor(_flat, A2.ravel(), 2, method=method), h4,
               f"rv.derivative_tensor {method}")
    _close(hd.derivative_tensor(_flat, A2.ravel(), 2), h4, "hd.derivative_tensor")
    for outer in (hd, rv):
        for inner in (hd, rv):
            _close(outer.jacobian(lambda m, inner=inner: inner.gradient(_f, m), A2), h,
                   f"{outer.__name__}.jacobian({inner.__name__}.gradient)")


def test_third_order_taylor(truth):
    _, _, t3, _, _ = truth
    t64 = t3.reshape(4, 4, 4)
    _close(hd.derivative_tensor(_flat, A2.ravel(), 3), t64, "hd.derivative_tensor 3")
    _close(rv.derivative_tensor(_flat, A2.ravel(), 3), t64, "rv.derivative_tensor 3")
    v = np.array([[0.3, -1.2], [0.8, 0.5]])
    d3 = np.einsum("ijklmn,ij,kl,mn->", t3, v, v, v)
    _close(hd.directional_derivatives(_f, A2, v, 3)[3], d3, "hd.directional_derivatives")
    _close(rv.directional_derivatives(_f, A2, v, 3)[3], d3, "rv.directional_derivatives")


def _richardson_jacobian(f, x, h=1e-3):
    x = np.asarray(x, dtype=float)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1.0
        e = e.reshape(x.shape)
        d = [(f(x + s * e) - f(x - s * e)) / (2 * s) for s in (h, h / 2, h / 4)]
        r1, r2 = (4 * d[1] - d[0]) / 3, (4 * d[2] - d[1]) / 3
        cols.append((16 * r2 - r1) / 15)
    return np.moveaxis(np.array(cols), 0, -1).reshape(np.shape(f(x)) + x.shape)


# rank 2 with the third column equal to the first (R[2, 2] ~ 1e-16), and a wide matrix
# whose leading 3 x 3 block is that one
A3 = np.array([[1.0, 0.0, 1.0], [2.0, 1.0, 2.0], [0.5, 3.0, 0.5]])
WIDE = np.concatenate([A3, np.array([[1.0], [-2.0], [0.5]])], axis=1)


@pytest.mark.parametrize("a", [A3, WIDE], ids=["3x3 rank 2", "3x4 wide"])
@pytest.mark.parametrize("part", [0, 1], ids=["Q", "R"])
@pytest.mark.parametrize("engine", [hd, rv])
def test_rank_deficient_last_pivot_against_differences(engine, part, a):
    truth = _richardson_jacobian(lambda m: np.linalg.qr(m)[part], a)
    got = engine.jacobian(lambda m: np.linalg.qr(m)[part], a)
    np.testing.assert_allclose(got, truth, rtol=0, atol=1e-8)


@pytest.mark.parametrize("a", [
    np.array([[0.0, 1.0], [0.0, 2.0]]),                      # zero first column
    np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]),          # tall, dependent columns
    np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 1.0], [3.0, 6.0, 5.0]]),  # pivot 1 of 3 is 0
], ids=["zero first column", "tall rank 1", "square rank 2 middle pivot"])
def test_not_unique_q_raises(a):
    def f(m):
        return np.sum(np.linalg.qr(m)[0] * np.arange(1.0, 1.0 + np.linalg.qr(a)[0].size)
                      .reshape(np.linalg.qr(a)[0].shape))
    def flat(v):
        return f(np.reshape(v, a.shape))

    for call in (lambda: hd.gradient(f, a), lambda: rv.gradient(f, a),
                 lambda: hd.hessian(f, a), lambda: rv.hessian(f, a),
                 lambda: hd.derivative_tensor(flat, a.ravel(), 2),
                 lambda: rv.derivative_tensor(flat, a.ravel(), 2)):
        with pytest.raises(DegenerateDerivativeError, match="rank deficient"):
            call()


@pytest.mark.parametrize("engine", [hd, rv])
def test_one_column_and_empty(engine):
    """hyperdual's qr rule crashed on 1 x n matrices ('matmul: Input operand 1 does not
    have enough dimensions'); eigh/svd of empty matrices crashed in _gap_inverse. For a
    1 x n matrix LAPACK's only reflector is the identity: Q = [[1]], R = A."""
    a = np.array([[0.5, 2.0, 3.0]])
    np.testing.assert_array_equal(engine.gradient(lambda m: np.sum(np.linalg.qr(m)[1] ** 2), a),
                                  2 * a)
    np.testing.assert_array_equal(
        engine.gradient(lambda m: np.sum(np.linalg.qr(m)[0]) + m[0, 0], np.array([[-2.0]])),
        [[1.0]])
    np.testing.assert_array_equal(
        engine.hessian(lambda v: np.linalg.qr(v.reshape(1, 1))[1][0, 0] ** 3, np.array([-2.0])),
        [[-12.0]])
    assert engine.gradient(lambda m: np.sum(np.linalg.eigh(m)[1]), np.zeros((0, 0))).shape == (0, 0)
    assert engine.gradient(lambda m: np.sum(np.linalg.svd(m, full_matrices=False)[0]),
                           np.zeros((2, 0))).shape == (2, 0)
