"""The functional API (derivative ... value_and_gradient) against scipy's Rosenbrock
derivatives, closed forms, one-direction-at-a-time Duals and central differences;
nesting without perturbation confusion; scatter_add."""

import math

import numpy as np
import pytest
from scipy.optimize import rosen_der, rosen_hess, rosen_hess_prod

import hyperdual
from hyperdual import (
    Dual,
    HyperDual,
    derivative,
    gradient,
    hessian,
    hvp,
    jacobian,
    scatter_add,
    second_derivative,
    value_and_gradient,
)
from hyperdual import helpers as helpers_module
from tests._tolerance import assert_close_ulps, relative_to_largest


def close(a, b, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def rosen(x):
    """Rosenbrock written with plain numpy (scipy's own converts with asarray)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(2024)


# --- Rosenbrock vs scipy --------------------------------------------------------------
@pytest.mark.parametrize("n", [2, 5, 300])
def test_rosenbrock_gradient_hessian_hvp(n, rng):
    x = rng.uniform(-1.5, 1.5, n)
    v = rng.normal(size=n)
    val, g = value_and_gradient(rosen, x)
    assert isinstance(val, float)
    close(val, rosen(x))
    close(g, rosen_der(x))
    close(gradient(rosen, x), rosen_der(x))
    H = hessian(rosen, x)
    assert H.shape == (n, n)
    close(H, rosen_hess(x))
    close(hvp(rosen, x, v), rosen_hess_prod(x, v))


def test_blocking_gives_the_same_answers(rng, monkeypatch):
    n = 37
    x = rng.uniform(-1.5, 1.5, n)
    v = rng.normal(size=n)
    M = rng.normal(size=(5, n))
    want = (gradient(rosen, x), hessian(rosen, x), hvp(rosen, x, v),
            jacobian(lambda y: np.tanh(M @ y), x))
    # tiny blocks: every helper now takes several passes over the direction stack
    monkeypatch.setattr(helpers_module, "_BLOCK_ELEMENTS", 3 * n)
    got = (gradient(rosen, x), hessian(rosen, x), hvp(rosen, x, v),
           jacobian(lambda y: np.tanh(M @ y), x))
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    close(got[0], rosen_der(x))
    close(got[1], rosen_hess(x))
    close(got[2], rosen_hess_prod(x, v))
    close(got[3], (1 / np.cosh(M @ x) ** 2)[:, None] * M)


# --- quadratic forms ------------------------------------------------------------------
def test_quadratic_form_vector(rng):
    n = 7
    A = rng.normal(size=(n, n))
    b = rng.normal(size=n)
    x = rng.normal(size=n)
    v = rng.normal(size=n)

    def f(y):
        return y @ A @ y + b @ y

    S = A + A.T
    close(gradient(f, x), S @ x + b)
    close(hessian(f, x), S)
    close(hvp(f, x, v), S @ v)
    val, g = value_and_gradient(f, x)
    close(val, x @ A @ x + b @ x)
    close(g, S @ x + b)


def test_quadratic_form_matrix_input(rng):
    # f(X) = sum(X * (A @ X)) = tr(X^T A X): grad (A + A^T) X,
    # H[i, j, k, l] = (A + A^T)[i, k] delta[j, l]
    A = rng.normal(size=(3, 3))
    X = rng.normal(size=(3, 2))

    def f(Y):
        return np.sum(Y * (A @ Y))

    S = A + A.T
    g = gradient(f, X)
    assert g.shape == (3, 2)
    close(g, S @ X)
    H = hessian(f, X)
    assert H.shape == (3, 2, 3, 2)
    close(H, np.einsum("ik,jl->ijkl", S, np.eye(2)))
    Vm = rng.normal(size=(3, 2))
    close(hvp(f, X, Vm), S @ Vm)


# --- jacobian shapes and vector functions -----------------------------------------------
def test_jacobian_vector_function(rng):
    x = rng.normal(size=4)
    M = rng.normal(size=(3, 4))
    close(jacobian(lambda y: M @ y, x), M)
    # f(y) = sin(y) * y[0]: J = diag(cos(y) y0) + sin(y) e_0^T
    J = jacobian(lambda y: np.sin(y) * y[0], x)
    want = np.diag(np.cos(x) * x[0])
    want[:, 0] += np.sin(x)
    close(J, want)


def test_jacobian_shapes(rng):
    X = rng.normal(size=(2, 3))
    J = jacobian(lambda Y: np.exp(Y.T), X)
    assert J.shape == (3, 2, 2, 3)
    want = np.zeros((3, 2, 2, 3))
    for i in range(3):
        for j in range(2):
            want[i, j, j, i] = np.exp(X[j, i])
    close(J, want)
    # scalar output: shape x.shape
    J = jacobian(lambda Y: np.sum(Y ** 2), X)
    assert J.shape == (2, 3)
    close(J, 2 * X)
    # scalar input, vector output
    J = jacobian(lambda t: np.stack([t, t ** 2, np.sin(t)]), 0.5)
    assert J.shape == (3,)
    close(J, [1.0, 1.0, math.cos(0.5)])


def test_scalar_and_0d_inputs_return_floats():
    f = lambda t: t ** 3 + np.sin(t)  # noqa: E731
    for x in (0.7, np.array(0.7), np.float64(0.7), 1):
        x0 = float(x)
        d1 = 3 * x0 ** 2 + math.cos(x0)
        d2 = 6 * x0 - math.sin(x0)
        for got, want in ((derivative(f, x), d1), (second_derivative(f, x), d2),
                          (gradient(f, x), d1), (hessian(f, x), d2), (hvp(f, x, 2.0), 2 * d2),
                          (jacobian(f, x), d1), (value_and_gradient(f, x)[1], d1),
                          (value_and_gradient(f, x)[0], x0 ** 3 + math.sin(x0))):
            assert type(got) is float, (x, got)
            close(got, want)


def test_derivative_of_array_valued_function():
    d = derivative(lambda t: np.stack([t, t * t, np.exp(t)]), 1.5)
    close(d, [1.0, 3.0, math.exp(1.5)])
    d2 = second_derivative(lambda t: t * np.array([1.0, 2.0]) + t ** 3, 1.5)
    close(d2, [9.0, 9.0])


def test_constant_functions_have_zero_derivatives():
    assert derivative(lambda t: 3.0, 1.0) == 0.0
    assert second_derivative(lambda t: 3.0, 1.0) == 0.0
    np.testing.assert_array_equal(gradient(lambda y: 2.0, np.ones(3)), np.zeros(3))
    np.testing.assert_array_equal(hessian(lambda y: 2.0, np.ones(2)), np.zeros((2, 2)))
    np.testing.assert_array_equal(jacobian(lambda y: np.ones(2), np.ones(3)), np.zeros((2, 3)))


@pytest.mark.parametrize("helper", ["gradient", "hessian", "hvp", "value_and_gradient"])
def test_non_scalar_f_points_at_jacobian(helper):
    fn = getattr(hyperdual, helper)
    x = np.array([1.0, 2.0])
    args = (x, x) if helper == "hvp" else (x,)
    with pytest.raises(ValueError, match="jacobian"):
        fn(lambda y: y * 2.0, *args)


def test_array_x_means_elementwise_like_reverse():
    x = np.array([-0.5, 0.0, 1.25])
    assert_close_ulps(derivative(np.sin, x), np.cos(x))
    assert_close_ulps(second_derivative(np.sin, x), -np.sin(x))
    np.testing.assert_array_equal(derivative(lambda z: np.clip(z, -1.0, 1.0),
                                             np.array([-2.0, -1.0, 0.0, 1.0, 2.0])),
                                  [0.0, 0.5, 1.0, 0.5, 0.0])  # ties split (JAX)


def test_bad_helper_arguments():
    with pytest.raises(ValueError, match="jacobian"):
        derivative(np.sum, np.ones(2))  # not elementwise
    with pytest.raises(ValueError, match="jacobian"):
        second_derivative(lambda z: z[:1], np.ones(2))
    with pytest.raises(ValueError):
        hvp(lambda y: np.sum(y), np.ones(2), np.ones(3))
    with pytest.raises(TypeError):
        gradient("not callable", np.ones(2))
    with pytest.raises(TypeError):
        gradient(np.sum, "1.0")


# --- scatter_add ---------------------------------------------------------------------
def test_scatter_add_arrays():
    out = scatter_add((4,), np.array([0, 3, 0]), np.array([1.0, 2.0, 5.0]))
    np.testing.assert_array_equal(out, [6.0, 0.0, 0.0, 2.0])
    out = scatter_add((2, 3), (np.array([0, 0, 1]), np.array([1, 1, 2])),
                      np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(out, [[0.0, 3.0, 0.0], [0.0, 0.0, 3.0]])
    out = scatter_add((3, 2), np.array([2, 2]), np.ones((2, 2)))
    np.testing.assert_array_equal(out, [[0, 0], [0, 0], [2, 2]])


def test_scatter_add_duals():
    idx = np.array([0, 2, 0])
    d = scatter_add((3,), idx, Dual(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])))
    assert isinstance(d, Dual)
    np.testing.assert_array_equal(d.real, [4.0, 0.0, 2.0])
    np.testing.assert_array_equal(d.dual, [40.0, 0.0, 20.0])
    z = scatter_add((2,), np.array([1, 1]), HyperDual(np.ones(2), 1.0, 2.0, np.array([3., 4.])))
    np.testing.assert_array_equal(z.eps12, [0.0, 7.0])
    np.testing.assert_array_equal(z.eps2, [0.0, 4.0])


def test_scatter_add_inside_gradient_and_hessian(rng):
    # f(x) = sum(w * scatter(x**2)): grad_j = 2 x_j w[idx_j], H = diag(2 w[idx])
    idx = np.array([0, 2, 0, 1, 2])
    w = rng.normal(size=3)
    x = rng.normal(size=5)

    def f(y):
        return np.sum(w * scatter_add((3,), idx, y ** 2))

    close(gradient(f, x), 2 * x * w[idx])
    close(hessian(f, x), np.diag(2 * w[idx]))


# --- nesting: no perturbation confusion ------------------------------------------------
@pytest.mark.parametrize("x", [-1.3, 0.0, 2.5])
def test_nested_derivative_classic_checks(x):
    # d/dx [x * d/dy (x + y)] = 1 ;  d/dx [x * d/dy (x * y)] = 2x
    assert derivative(lambda a: a * derivative(lambda b: a + b, 1.0), x) == 1.0
    close(derivative(lambda a: a * derivative(lambda b: a * b, 1.0), x), 2 * x)
    # same checks with the inner point depending on the outer variable
    close(derivative(lambda a: a * derivative(lambda b: a * b, a), x), 2 * x)


def test_nested_second_derivatives():
    # d/dx [ d2/dy2 (x y^3) at y = 2 ] = d/dx [12 x] = 12
    close(derivative(lambda a: second_derivative(lambda b: a * b ** 3, 2.0), 0.3), 12.0)
    # d2/dx2 [ x^2 * d/dy (x y^2) at y = 1 ] = d2/dx2 [2 x^3] = 12 x
    close(second_derivative(lambda a: a ** 2 * derivative(lambda b: a * b ** 2, 1.0), 0.7),
          12 * 0.7)
    # d/dx f'(x) where the inner derivative is at the outer point: d/dx cos(x) = -sin(x)
    close(derivative(lambda a: derivative(np.sin, a), 0.4), -math.sin(0.4))
    close(derivative(lambda a: derivative(lambda b: derivative(np.sin, b), a), 0.4),
          -math.cos(0.4))


def test_hessian_of_function_calling_derivative():
    # f(x) = x0 * d/dt [x1 t^3 + sin(x0 t)] at t = 1 = 3 x0 x1 + x0^2 cos(x0)
    def f(x):
        return x[0] * derivative(lambda t: x[1] * t ** 3 + np.sin(x[0] * t), 1.0)

    p = np.array([0.8, -1.7])
    a, b = p
    close(f(p), 3 * a * b + a * a * math.cos(a))
    close(gradient(f, p), [3 * b + 2 * a * math.cos(a) - a * a * math.sin(a), 3 * a])
    H = hessian(f, p)
    close(H, [[2 * math.cos(a) - 4 * a * math.sin(a) - a * a * math.cos(a), 3.0],
              [3.0, 0.0]])


def test_gradient_of_function_calling_gradient(rng):
    y0 = rng.normal(size=3)
    c = rng.normal(size=3)
    x = rng.normal(size=3)

    # inner gradient wrt y of sum(x * y^2) is 2 x y0, so f(x) = sum(2 x y0 c)
    def f(z):
        return np.sum(gradient(lambda y: np.sum(z * y ** 2), y0) * c)

    close(f(x), np.sum(2 * x * y0 * c))
    close(gradient(f, x), 2 * y0 * c)
    close(hessian(lambda z: f(z) * z[0], x)[0], 2 * y0 * c + np.eye(3)[0] * 2 * y0[0] * c[0])


def test_jacobian_of_function_calling_hessian_and_hvp(rng):
    # g(x) = hessian_y [ sum(x * y^3) ] at y0 = diag(6 x y0): linear in x
    y0 = rng.normal(size=3)
    v = rng.normal(size=3)
    x = rng.normal(size=3)
    J = jacobian(lambda z: np.diagonal(hessian(lambda y: np.sum(z * y ** 3), y0)), x)
    close(J, np.diag(6 * y0))
    J = jacobian(lambda z: hvp(lambda y: np.sum(z * y ** 3), y0, v), x)
    close(J, np.diag(6 * y0 * v))


# --- direction stacks vs one direction at a time ---------------------------------------
def f_mix(x):
    return np.sum(np.sin(x) * np.roll(x, 1)) + np.log1p(x @ x) + np.prod(np.tanh(x[:3]))


def test_gradient_and_jacobian_match_single_directions(rng):
    x = rng.normal(size=6)
    E = np.eye(6)
    g = gradient(f_mix, x)
    # a stack of directions sums its products in another order (BLAS) than one at a
    # time: ulps of the largest entry
    want = np.array([f_mix(Dual(x, e)).dual for e in E])
    assert_close_ulps(g, want, ulps=32, cond=relative_to_largest(want))
    M = rng.normal(size=(4, 6))

    def F(y):
        return np.tanh(M @ y) * y[:4] + np.exp(-y[2:]) ** 2

    J = jacobian(F, x)
    cols = np.stack([F(Dual(x, e)).dual for e in E], axis=-1)
    assert_close_ulps(J, cols, ulps=32, cond=relative_to_largest(cols))


def test_hessian_matches_single_directions_and_central_differences(rng):
    n = 6
    x = rng.normal(size=n)
    E = np.eye(n)
    H = hessian(f_mix, x)
    close(H, H.T, rtol=1e-13, atol=1e-13)
    one = np.array([[f_mix(HyperDual(x, E[i], E[j], np.zeros(n))).eps12 for j in range(n)]
                    for i in range(n)])
    close(H, one, rtol=1e-13, atol=1e-14)
    # v^T H v = second derivative along v
    v = rng.normal(size=n)
    close(v @ H @ v, second_derivative(lambda t: f_mix(x + t * v), 0.0), rtol=1e-12)
    close(hvp(f_mix, x, v), H @ v, rtol=1e-13, atol=1e-13)
    # central differences of the exact gradient: error O(h^2) + O(eps / h)
    h = 1e-5
    fd = np.stack([(gradient(f_mix, x + h * e) - gradient(f_mix, x - h * e)) / (2 * h)
                   for e in E], axis=1)
    np.testing.assert_allclose(H, fd, rtol=0, atol=1e-7 * max(1.0, np.abs(H).max()))


def test_gradient_matches_central_differences(rng):
    x = rng.normal(size=5)
    g = gradient(f_mix, x)
    h = 1e-6
    fd = np.array([(f_mix(x + h * e) - f_mix(x - h * e)) / (2 * h) for e in np.eye(5)])
    np.testing.assert_allclose(g, fd, rtol=0, atol=1e-7 * max(1.0, np.abs(g).max()))


def test_derivative_of_array_valued_helpers():
    # Inner helpers return Duals carrying the outer perturbation.
    b = np.array([1.0, 2.0])
    v = np.array([1.0, -1.0])
    a0 = 3.0
    close(derivative(lambda a: gradient(lambda y: np.sum(a * y ** 2), b), a0), 2 * b)
    close(derivative(lambda a: jacobian(lambda y: a * y ** 2, b), a0), np.diag(2 * b))
    close(derivative(lambda a: hessian(lambda y: np.sum(a * y ** 3), b), a0), np.diag(6 * b))
    close(derivative(lambda a: hvp(lambda y: np.sum(a * y ** 3), b, v), a0), 6 * b * v)
    close(derivative(lambda a: value_and_gradient(lambda y: np.sum(a * y ** 2), b)[0], a0),
          np.sum(b ** 2))
    # a second derivative of a second derivative: d2/da2 [6 a^3 b] at b = 2 -> 72 a
    close(second_derivative(lambda a: second_derivative(lambda y: a ** 3 * y ** 3, 2.0), 1.5),
          72 * 1.5)
    # the inner function ignores its own variable: its derivative is 0, outer too
    assert derivative(lambda a: derivative(lambda y: a * 2.0, 1.0), 3.0) == 0.0


def test_list_inputs_are_accepted():
    close(gradient(lambda y: np.sum(y ** 2), [1.0, 2.0]), [2.0, 4.0])
    close(hvp(lambda y: np.sum(y ** 3), [1.0, 2.0], [1.0, 1.0]), [6.0, 12.0])
    close(hessian(lambda y: y[0] * y[1], [1, 2]), [[0.0, 1.0], [1.0, 0.0]])


@pytest.mark.parametrize("index", [np.array([0, 0, 2]), np.array([True, False, True]),
                                   slice(0, 2), (np.array([0, 1]),), 1,
                                   np.array([], dtype=int)])
def test_scatter_add_with_direction_stack_matches_per_direction(index):
    from hyperdual._number import Dual as _D

    x = _D._build((np.arange(3.0), np.arange(12.0).reshape(4, 3) ** 2), 7, 1)
    v = x[index]
    out = scatter_add((3,), index, v)
    ref = np.zeros((4, 3))
    for k in range(4):  # independent path: one direction at a time
        np.add.at(ref[k], index, np.asarray(v.dual)[k])
    np.testing.assert_array_equal(out.dual, ref)
