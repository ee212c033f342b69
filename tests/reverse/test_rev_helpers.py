"""Functional helpers: shapes, return types, errors, HVP modes, checks, Newton."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der, rosen_hess, rosen_hess_prod

import reverse
from reverse import (
    GradientCheckError,
    Variable,
    derivative,
    gradient,
    gradient_check,
    hessian,
    hvp,
    jacobian,
    newton,
    numerical_grad,
    second_derivative,
    value_and_gradient,
)

try:
    import hyperdual

    HYPERDUAL_ERROR = None
except Exception as exc:  # the sibling package may be mid-edit
    hyperdual = None
    HYPERDUAL_ERROR = exc

needs_hyperdual = pytest.mark.xfail(
    hyperdual is None, reason=f"hyperdual not importable yet: {HYPERDUAL_ERROR!r}",
    raises=ImportError, strict=True,
)


def hd():
    """hyperdual, or ImportError (the expected failure) while it does not import."""
    if hyperdual is None:
        raise ImportError(f"hyperdual not importable: {HYPERDUAL_ERROR!r}")
    return hyperdual


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


X5 = np.array([-1.2, 1.0, 0.3, 0.8, 1.5])
V5 = np.array([0.5, -1.0, 2.0, 0.1, -0.3])


def test_scalar_in_scalar_out_returns_float():
    for x in (2.0, 2, np.float64(2.0), np.array(2.0)):
        for helper in (derivative, second_derivative, gradient):
            r = helper(lambda t: t**3, x)
            assert type(r) is float
    assert derivative(lambda t: t**3, 2.0) == 12.0
    assert second_derivative(lambda t: t**3, 2.0) == 12.0
    assert type(hessian(lambda t: t**3, 2.0)) is float
    assert type(jacobian(lambda t: t**3, 2.0)) is float
    assert type(hvp(lambda t: t**3, 2.0, 1.0, mode="reverse-over-reverse")) is float
    v, g = value_and_gradient(lambda t: t**3, 2.0)
    assert (v, g) == (8.0, 12.0) and type(v) is float and type(g) is float


def test_gradient_matches_scipy_rosen_der_and_shapes():
    g = gradient(rosenbrock, X5)
    assert isinstance(g, np.ndarray) and g.shape == X5.shape
    np.testing.assert_allclose(g, rosen_der(X5), rtol=1e-13)
    v, g2 = value_and_gradient(rosenbrock, X5)
    assert v == pytest.approx(rosen(X5), rel=1e-14)
    np.testing.assert_array_equal(g, g2)
    M = np.arange(1.0, 7.0).reshape(2, 3)
    assert gradient(lambda m: np.sum(m**2), M).shape == (2, 3)


def test_hessian_matches_scipy_rosen_hess():
    H = hessian(rosenbrock, X5)
    assert H.shape == (5, 5)
    np.testing.assert_allclose(H, rosen_hess(X5), rtol=1e-13)
    M = np.arange(1.0, 5.0).reshape(2, 2)
    HM = hessian(lambda m: np.sum(m**3), M)
    assert HM.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(HM.reshape(4, 4), np.diag(6 * M.ravel()))


def test_hvp_reverse_over_reverse_matches_scipy():
    got = hvp(rosenbrock, X5, V5, mode="reverse-over-reverse")
    np.testing.assert_allclose(got, rosen_hess_prod(X5, V5), rtol=1e-13)


@needs_hyperdual
def test_hvp_forward_over_reverse_matches_scipy():
    got = hvp(rosenbrock, X5, V5)  # the default mode
    np.testing.assert_allclose(got, rosen_hess_prod(X5, V5), rtol=1e-13)
    got = hvp(rosenbrock, X5, V5, mode="forward-over-reverse")
    np.testing.assert_allclose(got, rosen_hess_prod(X5, V5), rtol=1e-13)


@needs_hyperdual
@pytest.mark.parametrize("f", [
    lambda x: np.sum(np.sin(x) * np.exp(x) / (1 + x**2)),
    lambda x: np.sum(np.maximum(x, 0.2) ** 3 + np.tanh(x[::-1] * x)),
    lambda x: np.sum(np.reshape(x[:4], (2, 2)) @ np.reshape(x[1:], (2, 2))) ** 2,
    lambda x: reverse.functions.softmax_cross_entropy(np.reshape(x[:4], (2, 2)), np.array([0, 1])),
    lambda x: np.sum(np.broadcast_to(x[:2], (3, 2)) * np.arange(6.0).reshape(3, 2)) ** 2,
    lambda x: np.mean(x[np.array([0, 0, 3])] ** 3) + np.sum(np.sqrt(x**2 + 1)),
])
def test_hvp_modes_agree(f):
    a = hvp(f, X5, V5, mode="reverse-over-reverse")
    b = hvp(f, X5, V5, mode="forward-over-reverse")
    np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


@needs_hyperdual
def test_variable_keeps_dual_data_unconverted():
    d = hd().Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    x = Variable(d)
    assert x.data is d
    y = np.sum(x * x)
    y.backward()
    assert type(x.grad.data).__module__.startswith("hyperdual")
    np.testing.assert_allclose(x.grad.data.real, [2.0, 4.0])
    np.testing.assert_allclose(x.grad.data.dual, [2.0, 0.0])


@needs_hyperdual
def test_reverse_helpers_nested_in_forward_mode():
    # d/dx [x * d/dy (x + y)] = 1 and d/dx [x * d/dy (x * y)] = 2x (DESIGN's checks)
    a = hd().derivative(lambda x: x * reverse.derivative(lambda y: x + y, 1.0), 3.0)
    assert float(a) == pytest.approx(1.0)
    b = hd().derivative(lambda x: x * reverse.derivative(lambda y: x * y, 1.0), 3.0)
    assert float(b) == pytest.approx(6.0)
    # the differentiated input itself is a Dual
    c = hd().derivative(lambda t: reverse.derivative(lambda x: x**3, t), 2.0)
    assert float(c) == pytest.approx(12.0)


def test_jacobian_shapes():
    x = np.array([1.0, 2.0, 3.0])
    J = jacobian(lambda z: np.stack([z[0] * z[1], np.sin(z[2]), np.sum(z)]), x)
    want = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, np.cos(3.0)], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(J, want)
    M = np.arange(1.0, 7.0).reshape(2, 3)
    assert jacobian(lambda m: m**2, M).shape == (2, 3, 2, 3)
    assert jacobian(lambda m: np.sum(m, axis=0), M).shape == (3, 2, 3)
    assert jacobian(lambda t: np.stack([t, t**2]), 2.0).shape == (2,)
    np.testing.assert_allclose(jacobian(lambda z: [z[0] * 2, z[1]], x[:2]), [[2, 0], [0, 1]])


def test_derivative_elementwise_on_arrays():
    x = np.array([0.0, 0.5, 1.0])
    np.testing.assert_allclose(derivative(np.sin, x), np.cos(x))
    np.testing.assert_allclose(second_derivative(np.sin, x), -np.sin(x))
    with pytest.raises(ValueError, match="jacobian"):
        derivative(lambda z: np.stack([z, z]), x)


def test_structural_zeros_from_helpers():
    assert second_derivative(lambda x: 3 * x + 1, 2.0) == 0.0
    assert derivative(lambda x: 5.0, 2.0) == 0.0
    np.testing.assert_array_equal(gradient(lambda x: 7.0, np.ones(3)), np.zeros(3))
    np.testing.assert_array_equal(hessian(lambda x: np.sum(2 * x), np.ones(3)), np.zeros((3, 3)))
    np.testing.assert_array_equal(hvp(lambda x: np.sum(2 * x), np.ones(3), np.ones(3),
                                      mode="reverse-over-reverse"), np.zeros(3))
    np.testing.assert_array_equal(jacobian(lambda x: np.ones(2), np.ones(3)), np.zeros((2, 3)))
    assert derivative(lambda x: x, 2.0) == 1.0
    assert second_derivative(lambda x: x, 2.0) == 0.0


def test_non_scalar_f_points_to_jacobian():
    for call in (lambda: gradient(np.sin, np.ones(3)), lambda: hessian(np.sin, np.ones(3)),
                 lambda: hvp(np.sin, np.ones(3), np.ones(3), mode="reverse-over-reverse"),
                 lambda: value_and_gradient(np.sin, np.ones(3))):
        with pytest.raises(ValueError, match="jacobian"):
            call()


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        hvp(rosenbrock, X5, V5, mode="forward")
    with pytest.raises(ValueError, match="shape"):
        hvp(rosenbrock, X5, V5[:3], mode="reverse-over-reverse")
    with pytest.raises(TypeError, match="str"):
        gradient(rosenbrock, "1.0")
    # a Variable x is a point of an outer graph (nesting): the gradient is a
    # Variable of that graph, not an error
    g = gradient(rosenbrock, Variable(X5))
    assert isinstance(g, Variable)
    np.testing.assert_allclose(g.data, gradient(rosenbrock, X5), rtol=1e-14)
    with pytest.raises(ValueError, match="order"):
        gradient_check(rosenbrock, X5, order=3)


def test_numerical_grad_accuracy_and_shapes():
    g = numerical_grad(rosenbrock, X5)
    np.testing.assert_allclose(g, rosen_der(X5), rtol=1e-8)
    assert isinstance(numerical_grad(np.sin, 1.0), float)
    assert numerical_grad(lambda x: x * np.arange(3.0), 2.0).shape == (3,)
    assert numerical_grad(lambda x: x**2, np.ones((2, 2))).shape == (2, 2, 2, 2)


def test_gradient_check_passes_and_reports():
    r = gradient_check(rosenbrock, X5)
    assert r and r.order == 1 and r.max_rel_error < 1e-6
    r2 = gradient_check(rosenbrock, X5, order=2)
    assert r2 and r2.max_abs_error < 1e-3
    assert "ok" in r2.report()


class WrongSquare(reverse.Function):
    def forward(self, x):
        return x * x

    def backward(self, gy, y, x):
        return gy * 2.1 * x  # deliberately wrong


def test_gradient_check_catches_a_wrong_rule():
    f = lambda x: np.sum(WrongSquare()(x))  # noqa: E731
    with pytest.raises(GradientCheckError) as info:
        gradient_check(f, np.array([1.0, 2.0]))
    assert isinstance(info.value, AssertionError)
    assert "FAILED" in str(info.value) and "worst" in str(info.value)
    r = gradient_check(f, np.array([1.0, 2.0]), raise_on_failure=False)
    assert not r


def test_newton_scalar_textbook():
    path = newton(lambda x: x**4 - 2 * x**2, 2.0)
    assert path.ndim == 1 and path[0] == 2.0
    assert path[-1] == pytest.approx(1.0, abs=1e-10)  # |grad| <= 1e-10 at the stop
    assert len(path) < 10


def test_newton_vector_rosenbrock():
    path = newton(rosenbrock, np.array([-1.2, 1.0]))
    assert path.shape[1:] == (2,)
    np.testing.assert_allclose(path[-1], [1.0, 1.0], atol=1e-10)
    assert np.linalg.norm(gradient(rosenbrock, path[-1])) <= 1e-10


def test_newton_warns_when_not_converged_and_rejects_flat_points():
    with pytest.warns(RuntimeWarning, match="tol"):
        path = newton(rosenbrock, np.array([-1.2, 1.0]), max_iter=2)
    assert len(path) == 3
    with pytest.raises(ValueError, match="second derivative"):
        newton(lambda x: 3 * x, 1.0)


@needs_hyperdual
@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_hvp_nested_in_forward_mode(mode):
    x0 = np.array([1.0, 2.0])
    v = np.array([1.0, -1.0])
    # outer perturbation in a closed-over constant, and in x itself
    a = hd().derivative(lambda t: hvp(lambda x: np.sum(x**3) * t, x0, v, mode=mode), 2.0)
    b = hd().derivative(lambda t: hvp(lambda x: np.sum(x**3), x0 * t, v, mode=mode), 1.0)
    np.testing.assert_allclose(a, 6 * x0 * v)
    np.testing.assert_allclose(b, 6 * x0 * v)


@needs_hyperdual
@pytest.mark.parametrize("f,x", [
    (rosenbrock, X5),
    (rosenbrock, np.array([0.3])),  # empty slices: falls back to double backprop
    (lambda x: np.sum(np.sin(x) * np.exp(x[::-1]) / (1 + x**2)), X5),
    (lambda x: reverse.functions.softmax_cross_entropy(x, np.array([1, 0])), X5[:4].reshape(2, 2)),
    (lambda x: np.sum(np.reshape(x, (2, 2)) @ np.reshape(x, (2, 2)).T) ** 2, X5[:4]),
    (lambda x: np.sum(2 * x), X5),
])
def test_hessian_forward_over_reverse_equals_reverse_over_reverse(f, x):
    from reverse.helpers import _hessian_forward_over_reverse, _hessian_reverse_over_reverse

    hd()
    want = _hessian_reverse_over_reverse(f, x, False, "hessian")
    got = hessian(f, x)
    np.testing.assert_allclose(got, want[1], rtol=1e-12, atol=1e-12)
    if x.size > 1:
        g, H = _hessian_forward_over_reverse(hd(), f, x, False, "hessian")
        np.testing.assert_allclose(H, want[1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(g, want[0], rtol=1e-13, atol=1e-14)


@needs_hyperdual
def test_hessian_in_direction_blocks(monkeypatch):
    import reverse.helpers as helpers

    hd()
    monkeypatch.setattr(helpers, "_HESSIAN_BLOCK_ELEMENTS", 10)  # 2 directions per block
    x = np.random.default_rng(4).uniform(-1.0, 1.0, 7)
    np.testing.assert_allclose(hessian(rosenbrock, x), rosen_hess(x), rtol=1e-13)
    path = newton(rosenbrock, np.array([-1.2, 1.0, 0.5]))
    np.testing.assert_allclose(path[-1], np.ones(3), atol=1e-9)


_HELPER_ARGS = {
    "derivative": (0.5,), "second_derivative": (0.5,), "gradient": (np.ones(2),),
    "value_and_gradient": (np.ones(2),), "jacobian": (np.ones(2),), "hessian": (np.ones(2),),
    "hvp": (np.ones(2), np.ones(2)), "numerical_grad": (np.ones(2),),
    "gradient_check": (np.ones(2),), "newton": (np.ones(2),), "vjp": (np.ones(2), np.ones(2)),
    "jvp": (np.ones(2), np.ones(2)), "linearize": (np.ones(2),),
}


@pytest.mark.parametrize("engine", ["reverse", "hyperdual"])
@pytest.mark.parametrize("name", sorted(_HELPER_ARGS))
def test_helpers_name_a_non_callable_f(engine, name):
    # a number or array passed where f belongs: the helper says so (it used to be
    # Python's bare "'float' object is not callable" from inside reverse)
    import hyperdual

    mod = reverse if engine == "reverse" else hyperdual
    helper = getattr(mod, name, None)
    if helper is None:
        pytest.skip(f"{engine} has no {name}")
    for f in (2.5, np.ones(3)):
        with pytest.raises(TypeError, match=rf"{engine}\.{name}: f must be callable, got "
                                            rf"{type(f).__name__}"):
            helper(f, *_HELPER_ARGS[name])


@pytest.mark.parametrize("engine", ["reverse", "hyperdual"])
@pytest.mark.parametrize("x", [2.0, np.array(-0.7)])
def test_derivatives_of_a_scalar_to_array_map(engine, x):
    # f: R -> R^(2x2) gives f' and f'' of every output in both engines (reverse refused it)
    import hyperdual

    mod = reverse if engine == "reverse" else hyperdual

    def f(t):
        return np.stack([np.stack([t ** 3, np.sin(t)]), np.stack([np.exp(2 * t), 5.0 * t])])

    t = float(x)
    d1 = [[3 * t ** 2, np.cos(t)], [2 * np.exp(2 * t), 5.0]]
    d2 = [[6 * t, -np.sin(t)], [4 * np.exp(2 * t), 0.0]]
    np.testing.assert_allclose(mod.derivative(f, x), d1, rtol=4 * np.finfo(float).eps)
    np.testing.assert_allclose(mod.second_derivative(f, x), d2, rtol=8 * np.finfo(float).eps,
                               atol=0)
    # inside an outer differentiation in a (closes over a): d/da sum(d2/dx2 [a x^3, x]) = 6x
    for outer in (reverse, hyperdual):
        got = outer.derivative(
            lambda a: np.sum(mod.second_derivative(lambda s: np.stack([a * s ** 3, s]), x)), 1.5)
        assert got == pytest.approx(6 * t, rel=4 * np.finfo(float).eps)
