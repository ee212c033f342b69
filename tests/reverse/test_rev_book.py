"""The book's Function protocol ("Deep Learning from Scratch 3"): backward(self, gy).

The classes below are written exactly as in the book (self.inputs, and
self.outputs[0]() for the output); derivatives are checked against closed
forms, at first and higher order, through every helper, forward-over-reverse
(Dual data) and nesting.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual
import reverse
from reverse import Function, Variable
from tests._tolerance import assert_close_ulps, noisy_condition, relative_to_largest


class Sin(Function):
    def forward(self, x):
        return np.sin(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * cos(x)


class Cos(Function):
    def forward(self, x):
        return np.cos(x)

    def backward(self, gy):
        x, = self.inputs
        return gy * -sin(x)


class Tanh(Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * (1 - y * y)


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        y = self.outputs[0]()
        return gy * y


class Square(Function):
    def forward(self, x):
        return x ** 2

    def backward(self, gy):
        x, = self.inputs
        return 2 * x * gy


class Mul(Function):  # two inputs: a tuple of gradients
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return gy * b, gy * a


def sin(x):
    return Sin()(x)


def cos(x):
    return Cos()(x)


def tanh(x):
    return Tanh()(x)


def exp(x):
    return Exp()(x)


def square(x):
    return Square()(x)


def mul(a, b):
    return Mul()(a, b)


def derivatives(f, x0, n):
    """f', ..., f^(n) at x0 by repeated y.backward(create_graph=True), as in the book."""
    x = Variable(np.array(x0))
    y = f(x)
    y.backward(create_graph=True)
    out = []
    for _ in range(n):
        gx = x.grad
        out.append(float(gx.data))
        x.cleargrad()
        gx.backward(create_graph=True)
    return out


X0 = 0.7


def test_sin_cos_up_to_third_order():
    s, c = np.sin(X0), np.cos(X0)
    assert_close_ulps(derivatives(sin, X0, 4), [c, -s, -c, s])
    assert_close_ulps(derivatives(cos, X0, 3), [-s, -c, s])


def test_tanh_through_the_weakly_held_output():
    def truth(x):
        t = np.tanh(x)
        d1 = 1 - t ** 2
        return [d1, -2 * t * d1, -2 * d1 * (1 - 3 * t ** 2)]

    # the closed forms cancel (1 - t^2, 1 - 3 t^2): ulps x their condition
    assert_close_ulps(derivatives(tanh, X0, 3), truth(X0), ulps=8,
                      cond=noisy_condition(lambda x: np.stack(truth(x)), np.array(X0)))


def test_exp_square_and_composition():
    e = np.exp(X0 ** 2)
    # d/dx exp(x^2) = 2x e, (2 + 4x^2) e, (12x + 8x^3) e
    want = [2 * X0 * e, (2 + 4 * X0 ** 2) * e, (12 * X0 + 8 * X0 ** 3) * e]
    assert_close_ulps(derivatives(lambda x: exp(square(x)), X0, 3), want, ulps=8,
                      cond=1 + 2 * X0 ** 2)  # (exp of x^2: its argument's ulps)


def test_mixed_with_numpy_functions_and_two_inputs():
    # f = sin(x) * x^2 by the book's Mul: f' = cos x x^2 + 2x sin x
    want = np.cos(X0) * X0 ** 2 + 2 * X0 * np.sin(X0)
    assert derivatives(lambda x: mul(sin(x), np.square(x)), X0, 1)[0] == pytest.approx(want)


@pytest.mark.parametrize("name", ["derivative", "second_derivative"])
def test_scalar_helpers(name):
    fn = getattr(reverse, name)
    want = {"derivative": np.cos(X0), "second_derivative": -np.sin(X0)}[name]
    assert fn(sin, X0) == pytest.approx(want, rel=1e-15)


def test_vector_helpers_including_forward_over_reverse():
    x = np.array([0.3, -0.4, 1.1])
    f = lambda z: np.sum(tanh(z) * exp(z))  # noqa: E731
    g_want = hyperdual.gradient(lambda z: np.sum(np.tanh(z) * np.exp(z)), x)
    H_want = hyperdual.hessian(lambda z: np.sum(np.tanh(z) * np.exp(z)), x)
    assert_close_ulps(reverse.gradient(f, x), g_want, ulps=16,
                      cond=relative_to_largest(g_want))  # (two engines, two formulas)
    np.testing.assert_allclose(reverse.hessian(f, x), H_want, rtol=1e-13)  # Dual data
    v = np.array([1.0, 2.0, -1.0])
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        np.testing.assert_allclose(reverse.hvp(f, x, v, mode=mode), H_want @ v, rtol=1e-13)
    assert_close_ulps(reverse.jacobian(sin, x), np.diag(np.cos(x)))
    assert_close_ulps(reverse.jvp(sin, x, v)[1], np.cos(x) * v)
    assert_close_ulps(reverse.vjp(sin, x, v)[1], np.cos(x) * v)


def test_dual_data_directly():
    x = Variable(hyperdual.Dual(X0, 1.0))
    y = sin(x)
    y.backward()
    # d/dx sin = cos(x + eps) = cos x - sin x eps
    assert x.grad.data.real == pytest.approx(np.cos(X0))
    assert x.grad.data.dual == pytest.approx(-np.sin(X0))


@pytest.mark.parametrize("outer", [hyperdual, reverse], ids=lambda m: m.__name__)
def test_nested_in_both_engines(outer):
    # d/da [d/dx sin(a x)] = d/da [a cos(a x)] = cos(a x) - a x sin(a x)
    a, x0 = 1.3, 0.4
    got = outer.derivative(lambda b: reverse.derivative(lambda x: sin(b * x), x0), a)
    want = np.cos(a * x0) - a * x0 * np.sin(a * x0)
    assert got == pytest.approx(want, rel=1e-14)


def test_outputs_is_a_list_of_weakrefs_and_cleargrad():
    x = Variable(1.0)
    y = exp(x)
    refs = y.creator.outputs
    assert isinstance(refs, list) and len(refs) == 1 and refs[0]() is y
    y.backward()
    x.cleargrad()
    assert x.grad is None


def test_signature_detected_once_per_class_and_callable_the_books_way():
    # the class's backward is adapted when the class is defined
    assert Sin.backward.__wrapped__ is Sin.__dict__["backward"].__wrapped__
    x = Variable(0.5)
    y = sin(x)
    g = y.creator.backward(Variable(2.0))  # as the book's own Variable.backward calls it
    assert float(g.data) == pytest.approx(2 * np.cos(0.5))


def test_subclass_of_a_book_function_keeps_the_protocol():
    class Sin2(Sin):
        pass

    assert derivatives(lambda x: Sin2()(x), X0, 2) == pytest.approx([np.cos(X0), -np.sin(X0)])


def test_multiple_outputs_raise_a_clear_error():
    class Split(Function):
        def forward(self, x):
            return x, 2 * x

        def backward(self, gy):
            return gy

    with pytest.raises(TypeError, match="Split: forward returned a tuple.*one output"):
        Split()(Variable(1.0))
