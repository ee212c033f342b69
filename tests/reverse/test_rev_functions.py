"""Every rule of the reverse table: first and second derivatives against closed
forms and against central differences of the exact first derivative."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.special as sp

import reverse
import reverse.functions as F
from reverse import Variable, derivative, gradient, hessian, second_derivative
from tests.breadth.breadth_checks import reverse_nth

LN2, LN10 = math.log(2.0), math.log(10.0)
BOUNDED = np.array([-0.7, -0.2, 0.3, 0.9])
POSITIVE = np.array([0.3, 1.1, 2.5])
ANY = np.array([-1.3, -0.4, 0.6, 1.7])
GT1 = np.array([1.2, 2.0, 3.5])


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


# name -> (function applied through numpy, f', f'', sample points)
UNARY = {
    "sin": (np.sin, np.cos, lambda x: -np.sin(x), ANY),
    "cos": (np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), ANY),
    "tan": (np.tan, lambda x: 1 / np.cos(x) ** 2, lambda x: 2 * np.tan(x) / np.cos(x) ** 2,
            BOUNDED),
    "arcsin": (np.arcsin, lambda x: 1 / np.sqrt(1 - x**2), lambda x: x / (1 - x**2) ** 1.5,
               BOUNDED),
    "arccos": (np.arccos, lambda x: -1 / np.sqrt(1 - x**2), lambda x: -x / (1 - x**2) ** 1.5,
               BOUNDED),
    "arctan": (np.arctan, lambda x: 1 / (1 + x**2), lambda x: -2 * x / (1 + x**2) ** 2, ANY),
    "sinh": (np.sinh, np.cosh, np.sinh, ANY),
    "cosh": (np.cosh, np.sinh, np.cosh, ANY),
    "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2,
             lambda x: -2 * np.tanh(x) / np.cosh(x) ** 2, ANY),
    "arcsinh": (np.arcsinh, lambda x: 1 / np.sqrt(x**2 + 1), lambda x: -x / (x**2 + 1) ** 1.5,
                ANY),
    "arccosh": (np.arccosh, lambda x: 1 / np.sqrt(x**2 - 1), lambda x: -x / (x**2 - 1) ** 1.5,
                GT1),
    "arctanh": (np.arctanh, lambda x: 1 / (1 - x**2), lambda x: 2 * x / (1 - x**2) ** 2,
                BOUNDED),
    "exp": (np.exp, np.exp, np.exp, ANY),
    "expm1": (np.expm1, np.exp, np.exp, ANY),
    "exp2": (np.exp2, lambda x: LN2 * 2**x, lambda x: LN2**2 * 2**x, ANY),
    "log": (np.log, lambda x: 1 / x, lambda x: -1 / x**2, POSITIVE),
    "log1p": (np.log1p, lambda x: 1 / (1 + x), lambda x: -1 / (1 + x) ** 2, BOUNDED),
    "log2": (np.log2, lambda x: 1 / (x * LN2), lambda x: -1 / (x**2 * LN2), POSITIVE),
    "log10": (np.log10, lambda x: 1 / (x * LN10), lambda x: -1 / (x**2 * LN10), POSITIVE),
    "sqrt": (np.sqrt, lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x**-1.5, POSITIVE),
    "cbrt": (np.cbrt, lambda x: x ** (-2 / 3) / 3, lambda x: -2 / 9 * x ** (-5 / 3), POSITIVE),
    "square": (np.square, lambda x: 2 * x, lambda x: 2 + 0 * x, ANY),
    "reciprocal": (np.reciprocal, lambda x: -1 / x**2, lambda x: 2 / x**3, POSITIVE),
    "absolute": (np.abs, np.sign, lambda x: 0 * x, ANY),
    "negative": (np.negative, lambda x: -1 + 0 * x, lambda x: 0 * x, ANY),
    "positive": (np.positive, lambda x: 1 + 0 * x, lambda x: 0 * x, ANY),
    "deg2rad": (np.deg2rad, lambda x: np.pi / 180 + 0 * x, lambda x: 0 * x, ANY),
    "rad2deg": (np.rad2deg, lambda x: 180 / np.pi + 0 * x, lambda x: 0 * x, ANY),
    "sign": (np.sign, lambda x: 0 * x, lambda x: 0 * x, ANY),
    "floor": (np.floor, lambda x: 0 * x, lambda x: 0 * x, ANY),
    "ceil": (np.ceil, lambda x: 0 * x, lambda x: 0 * x, ANY),
    "trunc": (np.trunc, lambda x: 0 * x, lambda x: 0 * x, ANY),
    "rint": (np.rint, lambda x: 0 * x, lambda x: 0 * x, ANY),
    "erf": (sp.erf, lambda x: 2 / np.sqrt(np.pi) * np.exp(-(x**2)),
            lambda x: -4 * x / np.sqrt(np.pi) * np.exp(-(x**2)), ANY),
    "erfc": (sp.erfc, lambda x: -2 / np.sqrt(np.pi) * np.exp(-(x**2)),
             lambda x: 4 * x / np.sqrt(np.pi) * np.exp(-(x**2)), ANY),
    "expit": (sp.expit, lambda x: sig(x) * (1 - sig(x)),
              lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)), ANY),
    "gammaln": (sp.gammaln, sp.digamma, lambda x: sp.polygamma(1, x), POSITIVE),
    "digamma": (sp.digamma, lambda x: sp.polygamma(1, x), lambda x: sp.polygamma(2, x),
                POSITIVE),
    # neural-network functions of reverse.functions
    "sigmoid": (F.sigmoid, lambda x: sig(x) * (1 - sig(x)),
                lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)), ANY),
    "relu": (F.relu, lambda x: (x > 0) * 1.0, lambda x: 0 * x, ANY),
}


def plain(v):
    return v.data if isinstance(v, Variable) else v


def central(fprime, x, h=1e-5):
    """Central difference of an exact derivative function, elementwise."""
    return (plain(fprime(x + h)) - plain(fprime(x - h))) / (2 * h)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_first_and_second_derivative(name):
    f, d1, d2, pts = UNARY[name]
    # closed forms, elementwise on an array and on each scalar
    np.testing.assert_allclose(derivative(f, pts), d1(pts), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(second_derivative(f, pts), d2(pts), rtol=1e-10, atol=1e-12)
    for p in pts:
        d = derivative(f, float(p))
        assert isinstance(d, float)
        assert d == pytest.approx(float(d1(p)), rel=1e-12, abs=1e-14)
    # central differences: of f for f', of the exact f' for f''
    np.testing.assert_allclose(derivative(f, pts), central(f, pts), rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(second_derivative(f, pts),
                               central(lambda z: derivative(f, z), pts),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(n for n in UNARY if hasattr(F, n)))
def test_unary_public_function_matches_numpy_dispatch(name):
    f = getattr(F, name)
    x = Variable(ANY if name not in ("log", "log2", "log10", "sqrt", "cbrt", "reciprocal",
                                     "gammaln", "digamma") else POSITIVE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arccosh/arcsin outside their domain: NaN is fine
        y1 = f(x)
        y2 = UNARY[name][0](x)
    assert isinstance(y1, Variable) and isinstance(y2, Variable)
    np.testing.assert_array_equal(y1.data, y2.data)


def test_unary_functions_accept_plain_arrays():
    y = F.sin(np.array([0.0, 1.0]))
    assert isinstance(y, Variable)
    np.testing.assert_allclose(y.data, np.sin([0.0, 1.0]))


def test_sin_derivatives_to_fourth_order():
    x0 = 0.7
    got = reverse_nth(np.sin, x0, 4)
    want = [math.cos(x0), -math.sin(x0), -math.cos(x0), math.sin(x0)]
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_tanh_derivatives_to_fourth_order():
    x0 = 0.4
    t = math.tanh(x0)
    s = 1 - t * t
    want = [s, -2 * t * s, -2 * s * (1 - 3 * t * t), 8 * t * s * (2 - 3 * t * t)]
    got = reverse_nth(np.tanh, x0, 4)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # the fourth against central differences of the (exact) third
    h = 1e-5
    third = [reverse_nth(np.tanh, x0 + d, 3)[2] for d in (h, -h)]
    assert (third[0] - third[1]) / (2 * h) == pytest.approx(got[3], rel=1e-6)


# ----------------------------------------------------------------------------
# Binary rules: (f(a, b), gradient (fa, fb), Hessian ((faa, fab), (fab, fbb)))
# ----------------------------------------------------------------------------

BINARY = {
    "add": (np.add, lambda a, b: (1, 1), lambda a, b: ((0, 0), (0, 0))),
    "subtract": (np.subtract, lambda a, b: (1, -1), lambda a, b: ((0, 0), (0, 0))),
    "multiply": (np.multiply, lambda a, b: (b, a), lambda a, b: ((0, 1), (1, 0))),
    "divide": (np.divide, lambda a, b: (1 / b, -a / b**2),
               lambda a, b: ((0, -1 / b**2), (-1 / b**2, 2 * a / b**3))),
    "power": (np.power, lambda a, b: (b * a ** (b - 1), a**b * np.log(a)),
              lambda a, b: ((b * (b - 1) * a ** (b - 2), a ** (b - 1) * (1 + b * np.log(a))),
                            (a ** (b - 1) * (1 + b * np.log(a)), a**b * np.log(a) ** 2))),
    "arctan2": (np.arctan2, lambda a, b: (b / (a * a + b * b), -a / (a * a + b * b)),
                lambda a, b: ((-2 * a * b / (a * a + b * b) ** 2,
                               (a * a - b * b) / (a * a + b * b) ** 2),
                              ((a * a - b * b) / (a * a + b * b) ** 2,
                               2 * a * b / (a * a + b * b) ** 2))),
    "hypot": (np.hypot, lambda a, b: (a / np.hypot(a, b), b / np.hypot(a, b)),
              lambda a, b: ((b * b / np.hypot(a, b) ** 3, -a * b / np.hypot(a, b) ** 3),
                            (-a * b / np.hypot(a, b) ** 3, a * a / np.hypot(a, b) ** 3))),
    "maximum": (np.maximum, lambda a, b: (float(a > b), float(b > a)),
                lambda a, b: ((0, 0), (0, 0))),
    "minimum": (np.minimum, lambda a, b: (float(a < b), float(b < a)),
                lambda a, b: ((0, 0), (0, 0))),
    "xlogy": (sp.xlogy, lambda a, b: (np.log(b), a / b),
              lambda a, b: ((0, 1 / b), (1 / b, -a / b**2))),
}
POINTS2 = [(1.3, 0.7), (0.4, 2.2), (2.5, 1.9)]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("a,b", POINTS2)
def test_binary_first_and_second_derivatives(name, a, b):
    f, grad, hess = BINARY[name]

    def g(z):
        return f(z[0], z[1])

    z = np.array([a, b])
    np.testing.assert_allclose(gradient(g, z), np.array(grad(a, b), dtype=float),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hessian(g, z), np.array(hess(a, b), dtype=float),
                               rtol=1e-10, atol=1e-12)
    reverse.gradient_check(g, z, order=1)
    reverse.gradient_check(g, z, order=2)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_broadcasting_in_backward(name):
    f = BINARY[name][0]
    rng = np.random.default_rng(1)
    shapes = [((), (2, 3)), ((1, 3), (2, 1)), ((2, 3), (3,)), ((4, 1, 3), (2, 1))]
    for sa, sb in shapes:
        a = rng.uniform(0.5, 2.0, sa)
        b = rng.uniform(0.5, 2.0, sb)
        w = rng.normal(size=np.broadcast_shapes(sa, sb))
        ga = gradient(lambda a_, b=b, w=w: np.sum(f(a_, b) * w), a)
        gb = gradient(lambda b_, a=a, w=w: np.sum(f(a, b_) * w), b)
        assert np.shape(ga) == sa and np.shape(gb) == sb
        num_a = reverse.numerical_grad(lambda a_, b=b, w=w: np.sum(f(a_, b) * w), a)
        num_b = reverse.numerical_grad(lambda b_, a=a, w=w: np.sum(f(a, b_) * w), b)
        np.testing.assert_allclose(ga, num_a, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(gb, num_b, rtol=1e-6, atol=1e-7)


def test_broadcast_scalar_with_matrix_and_row_with_column():
    s = Variable(2.0)
    M = Variable(np.arange(6.0).reshape(2, 3))
    y = np.sum(s * M)
    y.backward()
    assert s.grad.shape == () and float(s.grad.data) == 15.0
    np.testing.assert_array_equal(M.grad.data, np.full((2, 3), 2.0))

    r = Variable(np.array([[1.0, 2.0, 3.0]]))
    c = Variable(np.array([[10.0], [20.0]]))
    y = np.sum(r * c + r - c)
    y.backward()
    np.testing.assert_array_equal(r.grad.data, [[32.0, 32.0, 32.0]])  # sum(c) + 2 rows
    np.testing.assert_array_equal(c.grad.data, [[3.0], [3.0]])
    # second order through broadcasting: d/dr of sum over rows of (dy/dc)
    r.clear_grad()
    c.clear_grad()
    y = np.sum((r * c) ** 2)
    y.backward(create_graph=True)
    gc_ = c.grad
    r.clear_grad()
    c.clear_grad()
    np.sum(gc_).backward()
    # d/dr_j sum_i 2 c_i r_j^2 = 4 r_j sum_i c_i
    np.testing.assert_allclose(r.grad.data, 4 * np.array([[1.0, 2.0, 3.0]]) * 30.0)


# ----------------------------------------------------------------------------
# Conventions at non-differentiable points
# ----------------------------------------------------------------------------


def test_abs_and_sign_at_zero():
    assert derivative(np.abs, 0.0) == 0.0
    assert second_derivative(np.abs, 0.0) == 0.0
    assert derivative(np.sign, 0.0) == 0.0


def test_sqrt_at_zero_is_inf_with_warning():
    with pytest.warns(RuntimeWarning):
        d = derivative(np.sqrt, 0.0)
    assert d == math.inf


@pytest.mark.parametrize("n,value,d1,d2", [(0, 1.0, 0.0, 0.0), (1, 0.0, 1.0, 0.0),
                                           (2, 0.0, 0.0, 2.0), (3, 0.0, 0.0, 0.0)])
def test_integer_powers_at_zero_have_no_nan(n, value, d1, d2):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0 * inf on the way
        assert float((Variable(0.0) ** n).data) == value
        assert derivative(lambda x: x**n, 0.0) == d1
        assert second_derivative(lambda x: x**n, 0.0) == d2
        x = Variable(0.0)
        y = x**n
        for _ in range(3):
            x.clear_grad()
            y.backward(create_graph=True)
            y = x.grad
            assert not np.isnan(y.data)


def test_power_with_array_exponent_containing_zero_and_one():
    n = np.array([0.0, 1.0, 2.0])
    x = np.zeros(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(derivative(lambda z: z**n, x), [0.0, 1.0, 0.0])
        np.testing.assert_array_equal(second_derivative(lambda z: z**n, x), [0.0, 0.0, 2.0])


def test_variable_exponent_at_zero_base_and_rpow():
    # d/db 0**b = 0 (JAX's convention), d/db 2**b = 2**b log 2
    assert gradient(lambda z: z[0] ** z[1], np.array([0.0, 2.0]))[1] == 0.0
    assert derivative(lambda b: 2.0**b, 3.0) == pytest.approx(8 * LN2, rel=1e-14)
    assert second_derivative(lambda b: 2**b, 3.0) == pytest.approx(8 * LN2**2, rel=1e-14)


def test_maximum_minimum_ties_split_half():
    g = gradient(lambda z: np.maximum(z[0], z[1]), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(g, [0.5, 0.5])
    g = gradient(lambda z: np.minimum(z[0], z[1]), np.array([2.0, 2.0]))
    np.testing.assert_array_equal(g, [0.5, 0.5])
    # against a constant at a tie: half goes to the Variable
    assert derivative(lambda x: np.maximum(x, 0.0), 0.0) == 0.5


def test_relu_at_zero_is_zero():
    assert derivative(F.relu, 0.0) == 0.0


def test_clip_gradient_inside_boundaries_and_to_bounds():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    # ties at the bounds split 0.5/0.5, as minimum(maximum(x, lo), hi) does in JAX
    np.testing.assert_array_equal(derivative(lambda z: np.clip(z, -1.0, 1.0), x),
                                  [0, 0.5, 1, 0.5, 0])
    np.testing.assert_array_equal(derivative(lambda z: np.clip(z, None, 1.0), x),
                                  [1, 1, 1, 0.5, 0])
    np.testing.assert_array_equal(derivative(lambda z: F.clip(z, x_min=0.0), x),
                                  [0, 0, 0.5, 1, 1])
    lo = Variable(-1.0)
    xv = Variable(x)
    F.clip(xv, lo, 1.0).sum().backward()
    assert float(lo.grad.data) == 1.5  # x = -2 below the bound, x = -1 at it (half)
    with pytest.raises(ValueError):
        F.clip(xv)


# ----------------------------------------------------------------------------
# Reductions, shapes, indexing, linear algebra: exact first and second order
# ----------------------------------------------------------------------------

RNG = np.random.default_rng(0)
X23 = RNG.uniform(0.5, 1.5, (2, 3))
W23 = RNG.normal(size=(2, 3))

STRUCTURAL = {
    "sum_axis0": (lambda x: np.sum(np.sum(x, axis=0) ** 2), X23),
    "sum_keepdims": (lambda x: np.sum(np.sum(x, axis=1, keepdims=True) * x), X23),
    "method_sum": (lambda x: (x * x).sum(axis=(0, 1)), X23),
    "mean": (lambda x: np.mean(x**3, axis=1)[0] + np.mean(x), X23),
    "prod": (lambda x: np.prod(x), X23),
    "prod_axis": (lambda x: np.sum(np.prod(x, axis=0) ** 2), X23),
    "max": (lambda x: np.max(x**2) + np.sum(np.max(x, axis=1)), X23),
    "min": (lambda x: np.min(np.sin(x), axis=0, keepdims=True).sum(), X23),
    "reshape": (lambda x: np.sum(np.reshape(x, (3, 2)) * W23.reshape(3, 2) ** 2 * x.reshape(6, 1)[:3]), X23),  # noqa: E501
    "transpose": (lambda x: np.sum(np.transpose(x) @ x * 1.5), X23),
    "T": (lambda x: np.sum((x.T * W23.T) ** 2), X23),
    "broadcast_to": (lambda x: np.sum(np.broadcast_to(x[0], (4, 3)) ** 3), X23),
    "concatenate": (lambda x: np.sum(np.concatenate([x, x**2], axis=1) ** 2), X23),
    "concatenate_const": (lambda x: np.sum(np.concatenate([W23, x * x]) ** 2), X23),
    "stack": (lambda x: np.sum(np.stack([x[0], x[1] ** 2], axis=1) ** 3), X23),
    "getitem_slice": (lambda x: np.sum(x[1:, ::2] ** 3), X23),
    "getitem_repeats": (lambda x: np.sum(x[[0, 0, 1], [1, 1, 2]] ** 3), X23),
    "getitem_mask": (lambda x: np.sum(x[x > 1.0] ** 2), X23),
    "getitem_int": (lambda x: x[1, 2] ** 3 * x[0, 0], X23),
    "matmul_2d": (lambda x: np.sum((x @ x.T) ** 2), X23),
    "matmul_vec": (lambda x: np.sum((x @ np.array([1.0, 2.0, 3.0])) ** 2)
                   * np.sum(np.array([1.0, 2.0]) @ x) ** 2, X23),
    "matmul_batched": (lambda x: np.sum(np.matmul(np.reshape(x, (2, 1, 3)), np.ones((3, 2)) * x.T) ** 2), X23),  # noqa: E501
    "dot": (lambda x: np.dot(x[0], x[1]) ** 2 + np.sum(np.dot(x, x.T)), X23),
    "outer": (lambda x: np.sum(np.outer(x[0], x[1]) ** 2), X23),
    "where": (lambda x: np.sum(np.where(x > 1.0, x**2, np.sin(x))), X23),
    "squeeze_expand": (lambda x: np.sum(np.squeeze(np.expand_dims(x, 0), 0) ** 3), X23),
    "ravel_diff": (lambda x: np.sum(np.diff(np.ravel(x)) ** 2), X23),
    "norm": (lambda x: np.linalg.norm(x) ** 3, X23),
    "softmax": (lambda x: np.sum(F.softmax(x) * W23), X23),
    "softmax_axis0": (lambda x: np.sum(F.softmax(x, axis=0) ** 2), X23),
    "log_softmax": (lambda x: np.sum(F.log_softmax(x) * W23), X23),
    "sce_labels": (lambda x: F.softmax_cross_entropy(x, np.array([2, 0])), X23),
    "sce_probs": (lambda x: F.softmax_cross_entropy(x, np.array([[0.2, 0.3, 0.5],
                                                                  [1.0, 0.0, 0.0]])), X23),
    "mse": (lambda x: F.mean_squared_error(x, W23), X23),
    "linear": (lambda x: np.sum(F.linear(x, x.T, np.array([1.0, 2.0])) ** 2), X23),
    "tanh_mlp": (lambda x: np.sum(np.tanh(x @ W23.T) ** 2), X23),
}


@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_structural_first_and_second_order_against_central_differences(name):
    f, x = STRUCTURAL[name]
    reverse.gradient_check(f, x, order=1)
    reverse.gradient_check(f, x, order=2)


def test_reduction_closed_forms():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(gradient(np.sum, x), np.ones((2, 3)))
    np.testing.assert_allclose(gradient(np.mean, x), np.full((2, 3), 1 / 6))
    np.testing.assert_allclose(gradient(np.prod, x), np.prod(x) / x)
    g = gradient(np.max, x)
    assert g[1, 2] == 1.0 and g.sum() == 1.0
    # ties share equally
    np.testing.assert_array_equal(gradient(np.max, np.array([3.0, 1.0, 3.0])), [0.5, 0, 0.5])
    np.testing.assert_array_equal(gradient(np.min, np.array([2.0, 2.0])), [0.5, 0.5])


def test_prod_with_zeros_first_derivative():
    x = np.array([2.0, 0.0, 3.0])
    np.testing.assert_array_equal(gradient(np.prod, x), [0.0, 6.0, 0.0])
    x = np.array([0.0, 0.0, 3.0])
    np.testing.assert_array_equal(gradient(np.prod, x), [0.0, 0.0, 0.0])
    x = np.array([[1.0, 0.0], [2.0, 3.0]])
    np.testing.assert_array_equal(gradient(lambda z: np.sum(np.prod(z, axis=1)), x),
                                  [[0.0, 1.0], [3.0, 2.0]])


def test_getitem_repeated_indices_accumulate_and_second_order():
    x = Variable(np.array([1.0, 2.0, 3.0]))
    y = np.sum(x[np.array([0, 0, 2])] ** 3)
    y.backward(create_graph=True)
    np.testing.assert_array_equal(x.grad.data, [6.0, 0.0, 27.0])
    g = x.grad
    x.clear_grad()
    np.sum(g).backward()
    np.testing.assert_array_equal(x.grad.data, [12.0, 0.0, 18.0])


def test_softmax_cross_entropy_is_stable_and_has_textbook_gradient():
    x = np.array([[1e4, 0.0, -1e4], [3.0, 1.0, 0.2]])
    t = np.array([1, 0])
    xv = Variable(x)
    loss = F.softmax_cross_entropy(xv, t)
    assert np.isfinite(loss.data)
    loss.backward()
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    onehot = np.eye(3)[t]
    np.testing.assert_allclose(xv.grad.data, (p - onehot) / 2, atol=1e-15)
    # float labels that are whole numbers, and labels as a Variable
    np.testing.assert_allclose(F.softmax_cross_entropy(x, t.astype(float)).data, loss.data)
    np.testing.assert_allclose(F.softmax_cross_entropy(x, Variable(t.astype(float))).data,
                               loss.data)


def test_softmax_cross_entropy_bad_targets():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        F.softmax_cross_entropy(x, np.array([0, 3]))
    with pytest.raises(ValueError, match="whole numbers"):
        F.softmax_cross_entropy(x, np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="shape"):
        F.softmax_cross_entropy(x, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="2-d"):
        F.softmax_cross_entropy(np.zeros(3), np.array([0]))


def test_softmax_and_log_softmax_large_logits():
    y = F.softmax(np.array([1000.0, 1000.0, -1000.0]))
    np.testing.assert_allclose(y.data, [0.5, 0.5, 0.0])
    z = F.log_softmax(np.array([1000.0, 0.0]))
    np.testing.assert_allclose(z.data, [0.0, -1000.0])


def test_dropout_train_and_test():
    x = Variable(np.ones((50, 40)))
    y = F.dropout(x, 0.25, rng=np.random.default_rng(3))
    kept = y.data != 0
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    assert 0.65 < kept.mean() < 0.85
    np.sum(y).backward()
    np.testing.assert_allclose(x.grad.data, kept / 0.75)
    with reverse.test_mode():
        y = F.dropout(x, 0.25)
    np.testing.assert_array_equal(y.data, x.data)
    with pytest.raises(ValueError):
        F.dropout(x, 1.0)


def test_mean_squared_error_and_linear_closed_forms():
    a = Variable(np.array([1.0, 2.0, 4.0]))
    loss = F.mean_squared_error(a, np.array([1.0, 1.0, 1.0]))
    assert float(loss.data) == pytest.approx((0 + 1 + 9) / 3)
    loss.backward()
    np.testing.assert_allclose(a.grad.data, 2 * np.array([0.0, 1.0, 3.0]) / 3)
    x = np.array([[1.0, 2.0]])
    W = Variable(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]))
    b = Variable(np.zeros(3))
    np.sum(F.linear(x, W, b)).backward()
    np.testing.assert_array_equal(W.grad.data, [[1.0] * 3, [2.0] * 3])
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0, 1.0])


def test_public_functions_listed():
    needed = ["linear", "relu", "sigmoid", "tanh", "softmax", "log_softmax",
              "softmax_cross_entropy", "mean_squared_error", "getitem", "max", "min", "clip",
              "dropout", "sum", "prod", "mean", "dot", "matmul", "outer", "reshape",
              "transpose", "concatenate", "stack", "broadcast_to", "where", "power", "hypot",
              "arctan2", "maximum", "minimum", "erf", "abs", "absolute", "sign", "negative",
              "add", "subtract", "multiply", "divide", "true_divide", "positive"]
    for name in needed:
        assert callable(getattr(F, name)), name
        assert name in F.__all__, name
