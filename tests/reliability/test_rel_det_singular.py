"""Derivatives of ``np.linalg.det`` at singular and nearly singular matrices.

det is a polynomial: its gradient (the cofactor matrix) and Hessian (signed minors
of order n - 2) are defined and well conditioned at every matrix.  Both engines
formed the gradient as det(a) a^-T: ``np.linalg.det(np.arange(9.).reshape(3, 3))``
raised numpy's bare "Singular matrix" in every helper, and at a rank-deficient
matrix whose two LU factorisations (det's of a, the solve's of a^T) disagree about
the tiny pivot the gradient was silently wrong: all zeros, or off by a factor up to
5 (random rank-2 3 x 3 matrices).  Now (``_exactdiff.linalg.det_degenerate``):
cofactors from the SVD for a plain matrix, the minors' determinants through the
engine for a nested one (second order).

Truth: the cofactors and second-order minors of the float matrix in mpmath at 50
digits.  Bound: normwise, 64 ulps times n**2 times the scale of the entries'
products (max abs(a)**(n - 1) for the gradient, **(n - 2) for the Hessian).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

mpmath = pytest.importorskip("mpmath")
EPS = float(np.finfo(float).eps)


def _mdet(a, rows, cols):
    if not rows:
        return mpmath.mpf(1)
    return mpmath.det(mpmath.matrix([[mpmath.mpf(float(a[i, j])) for j in cols] for i in rows]))


def _truth(a):
    n = a.shape[0]
    with mpmath.workdps(50):
        grad = np.array([[float((-1) ** (i + j) * _mdet(a, [r for r in range(n) if r != i],
                                                         [c for c in range(n) if c != j]))
                          for j in range(n)] for i in range(n)])
        hess = np.zeros((n * n, n * n))
        for i, j, k, m in itertools.product(range(n), repeat=4):
            if i == k or j == m:
                continue
            rows = [r for r in range(n) if r not in (i, k)]
            cols = [c for c in range(n) if c not in (j, m)]
            sign = (-1) ** (i + j + k + m) * (1 if (i < k) == (j < m) else -1)
            hess[i * n + j, k * n + m] = float(sign * _mdet(a, rows, cols))
    return grad, hess


def _matrices():
    out = [np.arange(9.0).reshape(3, 3), np.arange(1.0, 10.0).reshape(3, 3),
           np.array([[1.0, 2.0], [2.0, 4.0]]), np.zeros((3, 3)), np.zeros((1, 1)),
           np.outer([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) + np.diag([1.0, 0.0, 0.0]),
           np.outer([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])]
    rng = np.random.default_rng(7)
    for n, r in [(3, 2), (3, 2), (4, 3), (4, 2), (2, 1), (3, 1)]:
        out.append(rng.standard_normal((n, r)) @ rng.standard_normal((r, n)))
    # nearly singular (s_min / s_max ~ 1e-11): det is not 0, the cofactors are not small
    out.append(rng.standard_normal((3, 2)) @ rng.standard_normal((2, 3))
               + 1e-10 * rng.standard_normal((3, 3)))
    return out


MATRICES = _matrices()


def _check(got, want, a, order):
    n = a.shape[0]
    scale = max(float(np.max(np.abs(a))), 1.0) ** max(n - order, 0)
    err = float(np.max(np.abs(np.asarray(got, dtype=float) - want))) if want.size else 0.0
    return err <= 64 * EPS * n * n * scale, err


@pytest.mark.parametrize("k", range(len(MATRICES)))
def test_det_derivatives_at_singular_matrices(k):
    a = MATRICES[k]
    n = a.shape[0]
    grad, hess = _truth(a)
    x = a.ravel()

    def f(v):
        return np.linalg.det(np.reshape(v, (n, n)))

    def fs(v):  # det of a stack: the degenerate matrix next to a regular one
        m = np.reshape(v, (n, n))
        return np.sum(np.linalg.det(np.stack([m, m + 3.0 * np.eye(n)])) * np.array([1.0, 0.0]))

    w = np.linspace(-1.0, 1.0, n * n)
    first = {
        "hd.gradient(matrix)": lambda: hd.gradient(np.linalg.det, a).ravel(),
        "rv.gradient(matrix)": lambda: rv.gradient(np.linalg.det, a).ravel(),
        "hd.gradient": lambda: hd.gradient(f, x), "rv.gradient": lambda: rv.gradient(f, x),
        "hd.gradient(stack)": lambda: hd.gradient(fs, x),
        "rv.gradient(stack)": lambda: rv.gradient(fs, x),
        "hd.vjp": lambda: hd.vjp(f, x, 2.0)[1] / 2.0, "rv.vjp": lambda: rv.vjp(f, x, 2.0)[1] / 2.0,
        "hd.value_and_gradient": lambda: hd.value_and_gradient(f, x)[1],
        "rv.value_and_gradient": lambda: rv.value_and_gradient(f, x)[1],
    }
    second = {
        "hd.hessian": lambda: hd.hessian(f, x), "rv.hessian": lambda: rv.hessian(f, x),
        "hd.jacobian(rv.gradient)": lambda: hd.jacobian(lambda v: rv.gradient(f, v), x),
        "rv.jacobian(hd.gradient)": lambda: rv.jacobian(lambda v: hd.gradient(f, v), x),
        "rv.jacobian(rv.gradient)": lambda: rv.jacobian(lambda v: rv.gradient(f, v), x),
    }
    bad = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for label, fn in first.items():
            ok, err = _check(fn(), grad.ravel(), a, 1)
            if not ok:
                bad.append((label, err))
        jv = float(grad.ravel() @ w)
        for label, fn in {"hd.jvp": lambda: hd.jvp(f, x, w)[1],
                          "rv.jvp": lambda: rv.jvp(f, x, w)[1]}.items():
            ok, err = _check(np.array([fn()]), np.array([jv]), a, 1)
            if not ok:
                bad.append((label, err))
        for label, fn in second.items():
            ok, err = _check(fn(), hess, a, 2)
            if not ok:
                bad.append((label, err))
        hv = hess @ w
        for label, fn in {"hd.hvp": lambda: hd.hvp(f, x, w),
                          "rv.hvp": lambda: rv.hvp(f, x, w),
                          "rv.hvp reverse-over-reverse":
                              lambda: rv.hvp(f, x, w, mode="reverse-over-reverse")}.items():
            ok, err = _check(fn(), hv, a, 2)
            if not ok:
                bad.append((label, err))
    assert not bad, (a, bad)


@pytest.mark.parametrize("k", [0, 2, 5, 6, 7, 8, 10, 13])
def test_det_taylor_series_at_singular_matrices(k):
    """Taylor mode: y' = y tr(A^-1 A') is 0 (or noise) times a huge series there; the
    third derivative of det(A + tB) at a rank-2 A came out 0 or 5.6e14 for 3.4.  Truth:
    the exact polynomial det(A + tB) of the float entries (sympy rationals)."""
    sympy = pytest.importorskip("sympy")
    a = MATRICES[k]
    n = a.shape[0]
    b = np.random.default_rng(k).standard_normal((n, n))
    t = sympy.Symbol("t")
    m = sympy.Matrix(n, n, lambda i, j: sympy.Rational(float(a[i, j]))
                     + t * sympy.Rational(float(b[i, j])))
    poly = sympy.Poly(sympy.expand(m.det()), t)
    K = 4
    want = np.array([float(poly.coeff_monomial(t ** j)) * math.factorial(j) for j in range(K + 1)])
    got = hd.derivatives(lambda s: np.linalg.det(a + s * b), 0.0, K)
    scale = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))), 1.0) ** n
    assert np.max(np.abs(got - want)) <= 64 * EPS * n ** 3 * scale * math.factorial(K), (got, want)
    # the third-order tensor entry d3 det / da00 da11 da22 = 1 (n = 3)
    if n == 3:
        def f(v):
            return np.linalg.det(np.reshape(v, (3, 3)))
        assert abs(hd.derivative_tensor(f, a.ravel(), 3)[0, 4, 8] - 1.0) <= 1e-12


def test_det_taylor_refuses_large_singular_matrices():
    a = np.ones((7, 7))
    with pytest.raises(np.linalg.LinAlgError, match="det of a Taylor matrix"):
        hd.derivatives(lambda s: np.linalg.det(a + s * np.eye(7)), 0.0, 2)
