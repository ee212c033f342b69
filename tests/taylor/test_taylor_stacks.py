"""Direction stacks: ``directional_derivatives(f, x, V, K)`` with V of shape (m, n)
carries the m directions through one pass.

Checked against the per-direction passes (the same arithmetic elementwise: equal
to a few ulps), against nested HyperDuals (order 2: v.H.v; order 3: the
directional derivative of v.H.v) and against sympy's closed form; functions the
stack does not carry fall back to the per-direction passes with the same result.
"""

import numpy as np
import pytest

import hyperdual as hd
from hyperdual import taylor_helpers as th

EPS = np.finfo(float).eps

STACKED = {
    "elementwise": lambda x: np.sum(np.exp(np.sin(x)) * np.sqrt(1.5 + np.cos(x)) / (2 + x * x)),
    "power_abs": lambda x: np.sum(np.abs(x) ** 2.5 + x ** 3 - 2.0 ** x),
    "sum_prod": lambda x: np.sum(x ** 2) * np.prod(np.sin(x)),
    "mean_dot": lambda x: np.mean(np.exp(x)) + np.dot(x, x[::-1]),
    "matmul": lambda x: np.sum(np.tanh(x.reshape(2, 2) @ x.reshape(2, 2).T)),
    "matvec": lambda x: x @ (np.arange(16.0).reshape(4, 4) / 10) @ np.tanh(x),
    "const_matvec": lambda x: np.sum(np.tanh(np.arange(12.0).reshape(3, 4) / 10 @ x) ** 2)
    + np.sum(np.matmul(np.ones((2, 4)), np.reshape(x, (4, 1)) * x)),
    "index_concat": lambda x: np.sum(np.concatenate([x[1:] * x[:-1], x[[0, 2]] ** 3])),
    "stack_transpose": lambda x: np.sum(np.stack([x, np.cos(x)]).T @ np.arange(2.0)),
    "where_max": lambda x: np.max(np.where(x > 0, x, x * x)) + np.min(np.log1p(x * x)),
    "broadcast": lambda x: np.sum(np.tanh(x[:, None] - x) ** 2) / (1 + x @ x),
    "loop_and_builtins": lambda x: sum(xi * xi for xi in x) * len(x) + x[0] / x[-1],
    "vector_out": lambda x: np.stack([np.sum(np.sin(x)), x[0] * x[1], np.arctan(x[2])]),
    "axis_reductions": lambda x: np.sum(np.prod(np.reshape(x, (2, 2)) + 2, axis=0)
                                        * np.mean(np.reshape(x, (2, 2)), axis=1)),
    "axes_keepdims": lambda x: np.sum(np.max(np.reshape(x, (2, 2)) ** 2, axis=-1, keepdims=True)
                                      * np.prod(np.reshape(x, (2, 2)), axis=1, keepdims=True)
                                      + np.min(np.reshape(x, (2, 2)), axis=0)),
    "shapes": lambda x: np.sum(np.transpose(np.expand_dims(np.reshape(x, (2, 2)), 0),
                                            (2, 0, 1))[..., 1] * np.squeeze(x[None, :2])),
    "masks_joins": lambda x: np.sum(x[x > 0] ** 2) + np.sum(np.concatenate([x, [1.0, 2.0]])
                                                             * np.arange(6.0))
    + np.sum(np.stack([x, 2 * x], axis=1) ** 3 @ np.array([1.0, -1.0])),
    "scalar_consts": lambda x: np.sum((np.float32(2.0) * x - 1) ** 2 / np.float64(3.0))
    + np.sum(np.maximum(x, 0.2) + np.clip(x, -0.5, 0.5) * np.hypot(x, 1.0)),
}
X = np.array([0.3, -0.8, 1.1, 0.5])


def _dirs(m, n, seed=5):
    V = np.random.default_rng(seed).normal(size=(m, n))
    V[0] = 0.0
    V[1] = np.eye(n)[0]  # a direction with zero components: constant elements
    return V


@pytest.mark.parametrize("name", sorted(STACKED))
def test_stack_equals_per_direction_passes(name):
    f = STACKED[name]
    V = _dirs(6, 4)
    K = 5
    assert th._stacked(f, X, V, K) is not None, "the stack fell back"
    got = hd.directional_derivatives(f, X, V, K)
    ref = np.stack([hd.directional_derivatives(f, X, v, K) for v in V])
    assert got.shape == ref.shape
    # elementwise the same operations: equal up to a few ulps (reductions may sum in
    # another order over the wider arrays)
    scale = np.max(np.abs(ref), axis=0, keepdims=True) + 1e-300
    assert np.all(np.abs(got - ref) <= 16 * EPS * scale), name


@pytest.mark.parametrize("name", sorted(STACKED))
def test_stack_against_nested_hyperduals(name):
    f = STACKED[name]
    V = _dirs(4, 4, seed=9)
    got = hd.directional_derivatives(f, X, V, 3)
    for v, d in zip(V, got):
        np.testing.assert_allclose(d[1], hd.jacobian(f, X) @ v, rtol=1e-12, atol=1e-13)
        H = hd.jacobian(lambda y: hd.jacobian(f, y), X)
        np.testing.assert_allclose(d[2], np.einsum("...ij,i,j->...", H, v, v),
                                   rtol=1e-11, atol=1e-12)
        if np.ndim(d[3]) == 0:
            d3 = hd.derivative(lambda t, v=v: v @ hd.hessian(f, X + t * v) @ v, 0.0)
            np.testing.assert_allclose(d[3], d3, rtol=1e-10, atol=1e-11)


def test_stack_against_sympy():
    sp = pytest.importorskip("sympy")
    f = lambda x: x[0] ** 2 * x[1] * np.sin(x[2]) / (1 + x[0] * x[2])  # noqa: E731
    x = np.array([0.4, -1.3, 0.8])
    V = np.array([[1.0, 0.0, 0.0], [0.5, -2.0, 1.5], [0.0, 0.3, -0.7], [1.0, 1.0, 1.0]])
    t = sp.Symbol("t")
    want = np.array([[float(sp.diff(
        (x[0] + t * v[0]) ** 2 * (x[1] + t * v[1]) * sp.sin(x[2] + t * v[2])
        / (1 + (x[0] + t * v[0]) * (x[2] + t * v[2])), t, k).subs(t, 0))
        for k in range(7)] for v in V])
    assert th._stacked(f, x, V, 6) is not None
    np.testing.assert_allclose(hd.directional_derivatives(f, x, V, 6), want,
                               rtol=1e-12, atol=1e-12)


FALLBACK = {
    "linalg": lambda x: np.linalg.det(np.reshape(x, (2, 2)) + 2 * np.eye(2)),
    "unlisted_numpy": lambda x: np.sum(np.cumsum(x) ** 2),
    "hyperdual_inside": lambda x: hd.derivative(lambda s: np.sum(np.sin(s * x)), 0.5),
    "advanced_index": lambda x: np.sum(np.reshape(x, (2, 2))[[0, 1], :][:, [1, 0]] ** 3),
}


@pytest.mark.parametrize("name", sorted(FALLBACK))
def test_what_a_stack_does_not_carry_falls_back(name):
    f = FALLBACK[name]
    V = _dirs(3, 4)
    got = hd.directional_derivatives(f, X, V, 3)
    ref = np.stack([hd.directional_derivatives(f, X, v, 3) for v in V])
    np.testing.assert_allclose(got, ref, rtol=1e-14, atol=1e-15)


def test_errors_of_f_still_raise():
    def f(x):
        raise ValueError("boom")
    with pytest.raises(ValueError, match="boom"):
        hd.directional_derivatives(f, X, _dirs(3, 4), 2)
    with pytest.raises(TypeError):
        hd.directional_derivatives(lambda x: float(x[0]), X, _dirs(3, 4), 2)


def test_derivative_tensor_takes_one_stacked_pass():
    f = lambda x: np.exp(x[0]) * np.sin(x[1] * x[2]) + x[0] * x[1] ** 3  # noqa: E731
    x = np.array([0.3, -0.7, 1.2])
    calls = []

    def counted(y):
        calls.append(1)
        return f(y)
    T3 = hd.derivative_tensor(counted, x, 3)
    assert len(calls) == 1
    ref3 = hd.jacobian(lambda y: hd.hessian(f, y), x)
    np.testing.assert_allclose(T3, ref3, rtol=1e-11, atol=1e-12)
