"""jvp / vjp (both engines) and reverse.linearize: values, shapes, errors, nesting.

Truth is the closed-form Jacobian of each test function; the engines are also
checked against each other and against nesting identities.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual
import reverse
from tests._tolerance import assert_close_ulps

ENGINES = [hyperdual, reverse]


def f_vec(x):
    # R^3 -> R^2; J = [[x1, x0, 0], [0, cos(x1) , 2 x2]]
    return np.stack([x[0] * x[1], np.sin(x[1]) + x[2] ** 2])


def jac_vec(x):
    return np.array([[x[1], x[0], 0.0], [0.0, np.cos(x[1]), 2 * x[2]]])


def f_mat(x):
    # (2, 2) -> (2, 2), elementwise exp times a row sum
    return np.exp(x) * np.sum(x, axis=1, keepdims=True)


def jac_mat(x):
    J = np.zeros((2, 2, 2, 2))
    s = x.sum(axis=1)
    for i in range(2):
        for j in range(2):
            J[i, j, i, j] += np.exp(x[i, j]) * s[i]
            for k in range(2):
                J[i, j, i, k] += np.exp(x[i, j])
    return J


def _dot_cond(abs_sum, value):
    """The condition of a sum of products: sum |terms| / |sum| (two implementations sum
    them in other orders)."""
    return abs_sum / np.abs(value)


X3 = np.array([0.3, -1.2, 0.7])
V3 = np.array([1.5, 0.25, -2.0])
U2 = np.array([-0.5, 2.0])
XM = np.array([[0.1, -0.4], [0.9, 0.2]])
VM = np.array([[1.0, 2.0], [-1.0, 0.5]])


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_jvp_vector_against_closed_form(eng):
    y, t = eng.jvp(f_vec, X3, V3)
    assert_close_ulps(y, [X3[0] * X3[1], np.sin(X3[1]) + X3[2] ** 2])
    J = jac_vec(X3)  # a dot product: cond = sum |J_ij v_j| / |sum J_ij v_j|
    assert_close_ulps(t, J @ V3, ulps=8, cond=_dot_cond(np.abs(J) @ np.abs(V3), J @ V3))
    assert t.shape == (2,)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_vjp_vector_against_closed_form(eng):
    y, c = eng.vjp(f_vec, X3, U2)
    J = jac_vec(X3)
    assert_close_ulps(c, U2 @ J, ulps=8, cond=_dot_cond(np.abs(U2) @ np.abs(J), U2 @ J))
    assert c.shape == (3,)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_matrix_shapes(eng):
    J = jac_mat(XM)
    y, t = eng.jvp(f_mat, XM, VM)
    want = np.tensordot(J, VM, axes=2)
    assert_close_ulps(t, want, ulps=8,
                      cond=_dot_cond(np.tensordot(np.abs(J), np.abs(VM), axes=2), want))
    u = np.array([[0.3, -1.0], [2.0, 0.1]])
    y2, c = eng.vjp(f_mat, XM, u)
    want = np.tensordot(u, J, axes=2)
    assert_close_ulps(c, want, ulps=8,
                      cond=_dot_cond(np.tensordot(np.abs(u), np.abs(J), axes=2), want))
    assert t.shape == c.shape == (2, 2)
    assert_close_ulps(y, f_mat(XM))


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_scalar_in_scalar_out_gives_floats(eng):
    y, t = eng.jvp(np.sin, 0.5, 2.0)
    assert type(y) is float and type(t) is float
    assert t == pytest.approx(2 * np.cos(0.5), rel=1e-15)
    y, c = eng.vjp(np.exp, 0.5, 3.0)
    assert type(c) is float
    assert c == pytest.approx(3 * np.exp(0.5), rel=1e-15)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_scalar_output_of_vector_input(eng):
    f = lambda x: np.sum(x ** 3)  # noqa: E731
    y, t = eng.jvp(f, X3, V3)
    assert t == pytest.approx(float(np.sum(3 * X3 ** 2 * V3)), rel=1e-14)
    y, c = eng.vjp(f, X3, 2.0)
    assert_close_ulps(c, 6 * X3 ** 2, ulps=8)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_constant_function_gives_zeros(eng):
    y, t = eng.jvp(lambda x: 4.0, X3, V3)
    assert y == 4.0 and t == 0.0
    y, c = eng.vjp(lambda x: 4.0, X3, 1.0)
    np.testing.assert_array_equal(c, np.zeros(3))


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_shape_errors_name_the_helper(eng):
    with pytest.raises(ValueError, match=r"jvp: v has shape \(2,\)"):
        eng.jvp(f_vec, X3, np.ones(2))
    with pytest.raises(ValueError, match=r"vjp: u has shape \(3,\)"):
        eng.vjp(f_vec, X3, np.ones(3))


def test_linearize_reuses_one_recording():
    calls = []

    def f(x):
        calls.append(1)
        return f_vec(x)

    y, fn = reverse.linearize(f, X3)
    J = np.stack([fn(e) for e in np.eye(3)], axis=1)
    assert_close_ulps(J, jac_vec(X3), ulps=8)  # (cos: SIMD or scalar, a few ulps)
    want = jac_vec(X3) @ V3
    assert_close_ulps(fn(V3), want, ulps=8,
                      cond=_dot_cond(np.abs(jac_vec(X3)) @ np.abs(V3), want))
    assert len(calls) == 1
    with pytest.raises(ValueError, match="linearize: v has shape"):
        fn(np.ones(4))


@pytest.mark.parametrize("inner", ENGINES, ids=lambda m: m.__name__)
def test_nested_in_forward_mode(inner):
    # d/da [J_x(a x^2) . a] at x = 3: J = 2 a x, so the jvp is 6 a^2 -> 12 a = 24
    d = hyperdual.derivative(lambda a: inner.jvp(lambda x: a * x ** 2, 3.0, a)[1], 2.0)
    assert d == pytest.approx(24.0, rel=1e-15)
    d = hyperdual.derivative(lambda a: inner.vjp(lambda x: a * x ** 2, 3.0, a)[1], 2.0)
    assert d == pytest.approx(24.0, rel=1e-15)
    # the perturbation-confusion check: d/dx [x * d/dy (x + y)] = 1
    d = hyperdual.derivative(lambda x: x * inner.jvp(lambda y: x + y, 1.0, 1.0)[1], 2.0)
    assert d == 1.0
    d = hyperdual.derivative(lambda x: x * inner.vjp(lambda y: x * y, 1.0, 1.0)[1], 2.0)
    assert d == pytest.approx(4.0, rel=1e-15)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_hessian_of_jvp_is_third_derivative(eng):
    # second derivative (HyperDual) of x -> jvp(sin)(x; 1) = cos(x): -cos
    d2 = hyperdual.second_derivative(lambda x: eng.jvp(np.sin, x, 1.0)[1], 0.4)
    assert d2 == pytest.approx(-np.cos(0.4), rel=1e-14)
