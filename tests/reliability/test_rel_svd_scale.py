"""Singular values and vectors of matrices with entries near 1e-300 and 1e300.

The svd rules formed 1/(s_j^2 - s_i^2) from squared singular values: at 1e-300
the squares underflow to 0, so the distinct values 1e-300 and 2e-300 were called
repeated and the derivative raised (forward gradient, reverse Hessian); at 1e300
they overflow.  The gap is now 1/(s_j - s_i) times 1/(s_j + s_i), and "repeated"
is judged on the unsquared values.  Truth: the closed form of the singular values
of a 2x2 matrix, differentiated by sympy; scaling by powers of two is exact, values
are homogeneous of degree 1 (gradient scale-free, Hessian scales as 1/s).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import hyperdual as hd
import reverse as rv
from hyperdual.linalg import DegenerateDerivativeError
from tests._tolerance import assert_close_ulps

X0 = np.array([1.5, 0.25, -0.75, 2.0])
SCALES = [2.0 ** -996, 2.0 ** -498, 1.0, 2.0 ** 498, 2.0 ** 996]  # ~1e-300 .. 1e300


def _truth(index):
    """Gradient and Hessian of singular value ``index`` of [[a, b], [c, d]] at X0."""
    a, b, c, d = sym = sp.symbols("a b c d", real=True)
    p = sp.sqrt((a + d) ** 2 + (b - c) ** 2)
    q = sp.sqrt((a - d) ** 2 + (b + c) ** 2)
    s = (p + q) / 2 if index == 0 else (p - q) / 2
    at = dict(zip(sym, [sp.Rational(v) for v in X0]))
    grad = [sp.diff(s, v).subs(at).evalf(50) for v in sym]
    hess = [[sp.diff(s, v, w).subs(at).evalf(50) for w in sym] for v in sym]
    return np.array(grad, dtype=float), np.array(hess, dtype=float)


def _value(index):
    return lambda x: np.linalg.svd(x.reshape(2, 2))[1][index]


@pytest.mark.parametrize("engine", [hd, rv])
@pytest.mark.parametrize("index", [0, 1])
@pytest.mark.parametrize("scale", SCALES)
def test_singular_value_derivatives_across_range(engine, index, scale):
    grad, hess = _truth(index)
    x = X0 * scale
    assert_close_ulps(engine.gradient(_value(index), x), grad, ulps=64, cond=4.0)
    assert_close_ulps(engine.hessian(_value(index), x) * scale, hess, ulps=64, cond=16.0)


@pytest.mark.parametrize("engine", [hd, rv])
def test_distinct_tiny_singular_values_are_not_repeated(engine):
    # s = (2e-300, 1e-300): d s_max / dA = u_1 v_1^T = e_4; Hessian in b, c: 1/(s1^2 - s2^2)
    x = np.array([1e-300, 0.0, 0.0, 2e-300])
    np.testing.assert_array_equal(engine.gradient(_value(0), x), [0, 0, 0, 1])
    h = engine.hessian(_value(0), x)
    truth = np.zeros((4, 4))
    truth[1:3, 1:3] = np.array([[2.0, 1.0], [1.0, 2.0]]) / 3e-300
    assert_close_ulps(h, truth, ulps=64, cond=4.0)


@pytest.mark.parametrize("engine", [hd, rv])
@pytest.mark.parametrize("scale", [2.0 ** -498, 2.0 ** 498])
def test_singular_vector_derivatives_scale(engine, scale):
    # u[0, 0] v[0, 0] (sign-free) is homogeneous of degree 0: gradient scales as 1/s
    def f(x):
        u, _, vh = np.linalg.svd(x.reshape(2, 2))
        return u[0, 0] * vh[0, 0]

    a = sp.Matrix(2, 2, [sp.Rational(v) for v in X0])
    eps = sp.Rational(1, 10 ** 30)
    grad = []
    for k in range(4):  # central difference of the exact product at 50 digits
        e = sp.zeros(2, 2)
        e[k // 2, k % 2] = eps
        fp, fm = (_uv00(a + e), _uv00(a - e))
        grad.append(float((fp - fm) / (2 * eps)))
    assert_close_ulps(engine.gradient(f, X0 * scale) * scale, np.array(grad), ulps=64,
                      cond=16.0)


def _uv00(a):
    """u[0, 0] v[0, 0] of the largest singular value: the top eigenvectors of
    a a^T and a^T a (the product of their first entries, sign-free via u^T a v > 0)."""
    import mpmath
    mpmath.mp.dps = 60
    m = mpmath.matrix([[mpmath.mpf(sp.N(a[i, j], 60)) for j in range(2)] for i in range(2)])
    u, s, v = mpmath.svd_r(m)
    return sp.Float(str(u[0, 0] * v[0, 0]), 60)


def test_zero_singular_value_message_says_what_to_do():
    # U S Vh of a singular matrix: the factors have no derivative, the product does
    def rebuilt(x):
        u, s, vh = np.linalg.svd(x.reshape(2, 2))
        return np.sum((u * s) @ vh)

    def vector(x):
        return np.linalg.svd(x.reshape(2, 2))[2][1, 1] ** 3

    x = np.array([1.0, 2.0, 2.0, 4.0])
    for engine, f in ((hd, rebuilt), (rv, vector)):
        with pytest.raises(DegenerateDerivativeError) as info:
            engine.gradient(f, x)
        text = str(info.value)
        assert "differentiate the matrix itself" in text
        assert "compute_uv=False" in text and "np.linalg.norm" in text
    assert_close_ulps(rv.gradient(rebuilt, x), np.ones(4), ulps=64, cond=4.0)
    text = str(pytest.raises(DegenerateDerivativeError, hd.gradient, rebuilt, x).value)
    assert "reverse mode" in text


NEAR = np.diag([1.0, 1.0 + 2.0 ** -50])  # distinct, gap below 8 n eps max(s)
B = np.array([[0.3, 1.0], [0.2, -0.5]])


def test_taylor_near_repeated_values_raise_as_the_dual_rule():
    # before: the series divided by the gap 2^-50 and returned 9e29 at order 2
    def vec(t):
        return np.linalg.svd(NEAR + B * t)[0][0, 0] ** 2

    def eig(t):
        return np.linalg.eigh(NEAR + (B + B.T) * t)[1][0, 0] ** 2

    for f in (vec, eig):
        with pytest.raises(DegenerateDerivativeError):
            hd.hessian(lambda x, f=f: f(x[0]), np.array([0.0]))
        with pytest.raises(DegenerateDerivativeError):
            hd.derivatives(f, 0.0, 3)


@pytest.mark.parametrize("scale", SCALES)
def test_taylor_singular_value_series_across_range(scale):
    # s_max(a + b t) of 2x2 by sympy's closed form, orders 0..4; homogeneous of degree 1
    t = sp.symbols("t", real=True)
    a, b, c, d = [sp.Rational(v) + sp.Rational(w) * t for v, w in zip(X0, B.ravel())]
    p = sp.sqrt((a + d) ** 2 + (b - c) ** 2)
    q = sp.sqrt((a - d) ** 2 + (b + c) ** 2)
    s = (p + q) / 2
    truth = np.array([float(sp.diff(s, t, k).subs(t, 0).evalf(50)) for k in range(5)])
    got = hd.derivatives(lambda u: np.linalg.svd((X0.reshape(2, 2) + B * u) * scale)[1][0],
                         0.0, 4) / scale
    assert_close_ulps(got, truth, ulps=64, cond=64.0)


def test_spectral_norm_third_derivative_at_rank_one():
    # norm(outer(v, w), 2) = |v||w|: third derivatives by sympy (the other singular
    # value is a zero of the rank-one matrix)
    x0 = np.array([0.5, -1.25, 0.75, 2.0])
    sym = sp.symbols("a b c d", real=True)
    exact = sp.sqrt(sym[0] ** 2 + sym[1] ** 2) * sp.sqrt(sym[2] ** 2 + sym[3] ** 2)
    at = dict(zip(sym, [sp.Rational(v) for v in x0]))
    truth = np.array([[[float(sp.diff(exact, p, q, r).subs(at).evalf(50)) for r in sym]
                       for q in sym] for p in sym])

    def f(x):
        return np.linalg.norm(np.outer(x[:2], x[2:]), 2)

    scale = np.max(np.abs(truth))
    for got in (hd.derivative_tensor(f, x0, 3), rv.derivative_tensor(f, x0, 3)):
        np.testing.assert_array_less(np.abs(got - truth), 256 * np.finfo(float).eps * scale)


@pytest.mark.parametrize("how", ["hessian", "forward-over-reverse", "reverse-over-reverse"])
def test_reverse_second_derivative_through_repeated_vector_raises(how):
    # forward-over-reverse gave 0 (the forward pass gave the cluster's rotation a zero
    # tangent, so the cotangent 2 u00 was 0 in every part) before the nan marks, and
    # reverse-over-reverse gave 0 (the mask of the repeated pair zeroed 2 u00's
    # derivative) before _RepeatedVectorsMark;
    # singular values 1 and 1 + 2**-50 are repeated to working precision; the
    # truth, 2 (du00/dx)**2 with du00/dx ~ 2**50, does not exist at the limit: the
    # forward engine raises, reverse must not return a finite number
    a = np.diag([1.0, 1.0 + 2.0 ** -50])
    b = np.array([[0.3, 1.0], [0.2, -0.5]])

    def f(x):
        return np.linalg.svd(a + b * x[0])[0][0, 0] ** 2

    with pytest.raises(DegenerateDerivativeError):
        hd.hessian(f, np.array([0.0]))
    with pytest.raises(DegenerateDerivativeError):
        if how == "hessian":
            rv.hessian(f, np.array([0.0]))
        else:
            rv.hvp(f, np.array([0.0]), np.array([1.0]), mode=how)
