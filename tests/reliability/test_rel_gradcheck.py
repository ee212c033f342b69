"""reverse.gradient_check as a public tool: passes on right derivatives, fails on wrong ones."""

import numpy as np
import pytest

import reverse as rv
from reverse import Function, GradientCheckError, Variable


class GoodCube(Function):
    def forward(self, x):
        return x ** 3

    def backward(self, gy, y, x):
        return gy * 3 * x * x


class WrongFirst(GoodCube):
    def backward(self, gy, y, x):
        return gy * 3.01 * x * x  # 0.3% wrong first derivative


class WrongCurvature(Function):
    def forward(self, x):
        return x ** 3

    def backward(self, gy, y, x):
        # value of the gradient is right (3x^2), but its graph says d(3x^2)/dx = 0
        # the values of x only (no Variable graph, no Dual tangent): right
        # gradient value, zero second derivative in every Hessian path
        v = x.data if isinstance(x, Variable) else x
        v = getattr(v, "real", v)
        return gy * (3 * v * v)


X = np.array([0.3, -1.2, 2.0])


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("f", [lambda x: np.sum(np.sin(x) * np.exp(x / 2)),
                               lambda x: np.sum(GoodCube()(x)),
                               lambda x: np.sum(np.tanh(x) ** 2) * np.prod(x)])
def test_passes_on_correct_functions(f, order):
    r = rv.gradient_check(f, X, order=order)
    assert r and r.ok and r.order == order and r.max_abs_error < 1e-6


@pytest.mark.parametrize("order", [1])
def test_fails_on_wrong_first_derivative(order):
    """order=1 catches it; order=2 checks H against the (wrong) gradient, consistently."""
    with pytest.raises(GradientCheckError, match="FAILED"):
        rv.gradient_check(lambda x: np.sum(WrongFirst()(x)), X, order=order)
    r = rv.gradient_check(lambda x: np.sum(WrongFirst()(x)), X, order=order,
                          raise_on_failure=False)
    assert not r and "FAILED" in r.report()


def test_fails_on_wrong_second_derivative_only():
    f = lambda x: np.sum(WrongCurvature()(x))  # noqa: E731
    assert rv.gradient_check(f, X, order=1)  # the gradient's value is right
    with pytest.raises(GradientCheckError):
        rv.gradient_check(f, X, order=2)


@pytest.mark.parametrize("eps", [1e-3, 1e-4, 1e-6])
def test_tolerances_scale_with_the_step(eps):
    """Central differences err ~ eps**2 |f'''|: a tolerance scaled as eps**2 passes."""
    f = lambda x: np.sum(np.exp(2 * x))  # noqa: E731
    tol = max(1e-5, 10 * eps ** 2 * np.max(8 * np.exp(2 * np.abs(X))))
    assert rv.gradient_check(f, X, eps=eps, rtol=tol, atol=tol)
    # and the truncation error really is of order eps**2 (not hidden by a huge tol)
    r = rv.gradient_check(f, X, eps=eps, rtol=tol, atol=tol)
    assert r.max_rel_error < 10 * eps ** 2 * 8 + 1e-8


def test_wrong_derivative_hidden_by_a_coarse_step_is_not_passed_with_scaled_tol():
    eps = 1e-3
    r = rv.gradient_check(lambda x: np.sum(WrongFirst()(x)), X, eps=eps, rtol=eps ** 2 * 100,
                          atol=eps ** 2 * 100, raise_on_failure=False)
    assert not r


def test_bad_order_is_a_value_error():
    with pytest.raises(ValueError, match="order"):
        rv.gradient_check(np.sum, X, order=3)
