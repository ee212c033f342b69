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


# --- scale invariance: a derivative wrong by a factor 2 is caught at any scale of x
# and of f, and right derivatives pass there (issue 12 section 7) ------------------
class ScaledCube(Function):
    """c * x**3 with a right (factor 1) or wrong (factor 2) first derivative."""

    def __init__(self, c, factor=1.0):
        self.c, self.factor = c, factor

    def forward(self, x):
        return self.c * x ** 3

    def backward(self, gy, y, x):
        return gy * (3.0 * self.factor * self.c) * x * x


class ScaledCubeWrongCurvature(ScaledCube):
    """Right gradient value 3 c x**2, but its derivative is 12 c x (twice 6 c x)."""

    def backward(self, gy, y, x):
        v = x.data if isinstance(x, Variable) else x
        while hasattr(v, "real") and not isinstance(v, (np.ndarray, float)):
            v = v.real  # the plain values under Dual data (forward-over-reverse)
        return gy * (3.0 * self.c * (v * v) + 6.0 * self.c * (x * x - v * v))


X_SCALES = [1e-8, 1e-3, 1.0, 1e3, 1e8]
F_SCALES = [1e-20, 1.0, 1e20]
PATTERN = np.array([0.3, -1.2, 2.0])


@pytest.mark.parametrize("xs", X_SCALES)
@pytest.mark.parametrize("fs", F_SCALES)
def test_wrong_by_two_is_caught_and_right_passes_at_any_scale(xs, fs):
    x = PATTERN * xs
    c = fs / xs ** 3  # f values ~ fs at x ~ xs
    right = lambda z: np.sum(ScaledCube(c)(z))  # noqa: E731
    wrong = lambda z: np.sum(ScaledCube(c, factor=2.0)(z))  # noqa: E731
    assert rv.gradient_check(right, x, order=1)
    assert rv.gradient_check(right, x, order=2)
    assert not rv.gradient_check(wrong, x, order=1, raise_on_failure=False)
    with pytest.raises(GradientCheckError):
        rv.gradient_check(wrong, x, order=1)
    curv = lambda z: np.sum(ScaledCubeWrongCurvature(c)(z))  # noqa: E731
    assert rv.gradient_check(curv, x, order=1)
    assert not rv.gradient_check(curv, x, order=2, raise_on_failure=False)


@pytest.mark.parametrize("xs", X_SCALES)
@pytest.mark.parametrize("fs", F_SCALES)
def test_ordinary_functions_pass_at_any_scale(xs, fs):
    x = PATTERN * xs
    for f in (lambda z: fs * np.sum(np.sin(z / xs) * np.exp(z / (2 * xs))),
              lambda z: fs * np.sum(np.log1p((z / xs) ** 2)),
              lambda z: fs * np.sum(np.tanh(z / xs) ** 2) * np.prod(z / xs)):
        assert rv.gradient_check(f, x, order=1)
        assert rv.gradient_check(f, x, order=2)


def test_wrong_by_two_in_one_entry_of_a_jacobian_is_caught():
    class Half(Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, gy, y, x):
            return gy * np.array([1.0, 0.5, 1.0])  # d y1 / d x1 halved

    x = np.array([1e-9, 2e-9, 3e-9])
    with pytest.raises(GradientCheckError):
        rv.gradient_check(lambda z: Half()(z) * 1e12, x)


def test_numerical_grad_steps_relative_to_x():
    # f(x) = log(x) at 1e-8: an absolute step of 1e-6 would leave the domain
    assert abs(rv.numerical_grad(np.log, 1e-8) - 1e8) < 1e-8 * 1e8  # ~eps**2 truncation
    g = rv.numerical_grad(lambda z: np.sum(z ** 2), np.array([0.0, 3e-9]))
    np.testing.assert_allclose(g, [0.0, 6e-9], rtol=1e-8, atol=1e-20)


# --- the extremes of the float range: x ~ 1e-300 .. 1e300 (redteam17a) ------------
# The step's scale was the rms of x formed as sqrt(mean(x**2)); x**2 underflowed to 0
# for |x| < 1e-154 (overflowed for |x| > 1e154) and the scale fell back to 1, so
# x ~ 1e-300 was stepped by 1e-6: f(x + h) - f(x - h) was 0 and the rounding
# allowance, |f(x + h)| / h, let a gradient wrong by 2, by a sign or with swapped
# entries pass.
class ScaledSquare(Function):
    """sum(c * x * x), formed as (c x) x so that it stays in range; its backward
    is scaled by ``factor`` and its entries permuted by ``perm``."""

    def __init__(self, c, factor=1.0, perm=None):
        self.c, self.factor, self.perm = c, factor, perm

    def forward(self, x):
        return np.sum(self.c * x * x)

    def backward(self, gy, y, x):
        g = gy * (2.0 * self.factor * self.c) * x
        return g if self.perm is None else g[self.perm]


WIDE_X = [1e-300, 1e-200, 1e-100, 1e-20, 1.0, 1e20, 1e100, 1e200, 1e300]
WIDE_F = [1e-300, 1e-100, 1.0, 1e100, 1e300]


@pytest.mark.parametrize("xs", WIDE_X)
@pytest.mark.parametrize("fs", WIDE_F)
@pytest.mark.parametrize("vector", [True, False])
def test_wrong_gradients_are_caught_across_the_float_range(xs, fs, vector):
    c = fs / xs / xs
    if not (np.isfinite(c) and c > 0):
        pytest.skip("f cannot be formed in float64 at this pair of scales")
    x = PATTERN * xs if vector else 0.7 * xs
    with np.errstate(all="ignore"):
        assert rv.gradient_check(lambda z: ScaledSquare(c)(z), x)
        for factor in (2.0, -1.0, 0.5):
            r = rv.gradient_check(lambda z, k=factor: ScaledSquare(c, k)(z), x,
                                  raise_on_failure=False)
            assert not r, (factor, r.report())
        if vector:
            r = rv.gradient_check(lambda z: ScaledSquare(c, 1.0, [1, 0, 2])(z), x,
                                  raise_on_failure=False)
            assert not r, r.report()


@pytest.mark.parametrize("xs", [1e-300, 1e-160, 1e160, 1e300])
def test_numerical_grad_steps_on_the_scale_of_extreme_x(xs):
    # d/dx of x / xs is 1 / xs exactly; with a step of 1e-6 at x ~ 1e-300 it was 0
    x = PATTERN * xs
    g = rv.numerical_grad(lambda z: z[0] / xs + z[1] / xs - z[2] / xs, x)
    np.testing.assert_allclose(g * xs, [1.0, 1.0, -1.0], rtol=1e-6)


# --- a right gradient of 0 where f''' is not 0 (redteam17a) -------------------------
# The scale-free tolerance had no room for the central difference's truncation error,
# so x**3 at 0 (D(h) = h**2 where the gradient is 0) failed; the check now estimates
# that error from a second difference at twice the step.
@pytest.mark.parametrize("f, x", [
    (lambda z: z[0] ** 3, [0.0, 1.0]),
    (lambda z: np.sum(z ** 3), [0.0, 0.0]),
    (lambda z: z ** 3, 0.0),
    (lambda z: np.sum(np.sin(z)) - np.sum(z), [0.0, 0.0]),
    (lambda z: np.sum(np.exp(z) - z), [0.0, 0.0]),
    (lambda z: 1e-200 * np.sum(((z - 1e-100) / 1e-100) ** 3), [1e-100, 1e-100]),
    (lambda z: 1e200 * np.sum(np.cos(z / 1e100)), [1e100 * np.pi, 1e100 * np.pi]),
], ids=["x0^3", "sum x^3", "scalar x^3", "sin - x", "exp - x", "scaled cube", "scaled cos"])
def test_right_zero_gradients_at_stationary_points_pass(f, x):
    x = np.array(x)
    assert rv.gradient_check(f, x)
    assert rv.gradient_check(f, x, order=2)


@pytest.mark.parametrize("xs", [1e-300, 1e-8, 1.0, 1e8, 1e300])
def test_wrong_by_two_of_a_curved_function_still_caught(xs):
    """The truncation allowance is about h**2 |f'''|, far below a factor 2 of f'."""
    class WrongSin(Function):
        def forward(self, z):
            return np.sin(z / xs)

        def backward(self, gy, y, z):
            return gy * 2.0 * np.cos(z / xs) / xs

    x = PATTERN * xs
    assert rv.gradient_check(lambda z: np.sum(np.sin(z / xs)), x)
    assert not rv.gradient_check(lambda z: np.sum(WrongSin()(z)), x, raise_on_failure=False)
