"""Taylor mode against the other engines, domain edges, nesting, dispatch and errors."""

import math
import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse
from hyperdual import Dual, HyperDual, Taylor
from tests._tolerance import assert_close_ulps

EPS = np.finfo(float).eps
RNG = np.random.default_rng(16)

FUNCS = {
    "chain": lambda x: np.sin(np.exp(x) * x) + x ** 3 / (1 + x * x),
    "trig": lambda x: np.tan(x / 2) * np.cos(x) - np.arctan(x),
    "hyper": lambda x: np.tanh(x) * np.sinh(x / 3) + np.sqrt(1 + x * x),
    "logs": lambda x: np.log(2 + np.cos(x)) * np.expm1(x / 4),
    "inverse": lambda x: np.arcsinh(x) + np.arcsin(x / 3) * np.log1p(x * x),
}


def nested_hyperdual(f, x, order):
    """f^(order) by nesting second_derivative order/2 times (order even)."""
    g = f
    for _ in range(order // 2):
        g = (lambda h: lambda t: hd.second_derivative(h, t))(g)
    return g(x)


def repeated_backprop(f, x, order):
    """d^k f / dx^k by k rounds of create_graph backprop (reverse mode)."""
    xv = reverse.Variable(np.array(x))
    y = f(xv)
    out = [float(y.data)]
    for _ in range(order):
        xv.clear_grad()
        y.backward(create_graph=True)
        y = xv.grad
        out.append(float(y.data))
    return np.array(out)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_order8_vs_nested_hyperduals_and_backprop(name):
    f = FUNCS[name]
    for x in RNG.uniform(-1.2, 1.2, size=2):
        d = hd.derivatives(f, x, 8)
        rb = repeated_backprop(f, x, 8)
        scale = np.maximum(np.abs(rb), np.abs(d)) + 1.0
        np.testing.assert_array_less(np.abs(d - rb), 1e-10 * scale)
        for k in (2, 4, 8):
            nh = nested_hyperdual(f, x, k)
            assert abs(d[k] - nh) <= 1e-10 * (abs(nh) + 1.0), (k, d[k], nh)


def test_reverse_derivatives_agrees():
    f = FUNCS["chain"]
    np.testing.assert_allclose(reverse.derivatives(f, 0.3, 6), hd.derivatives(f, 0.3, 6),
                               rtol=1e-12)
    np.testing.assert_allclose(reverse.derivatives(f, 0.3, 6, method="backprop"),
                               hd.derivatives(f, 0.3, 6), rtol=1e-10)


# --- domain edges ----------------------------------------------------------------------
def test_sqrt_at_zero_follows_the_conventions():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d = hd.derivatives(np.sqrt, 0.0, 3)
    assert d[0] == 0.0 and d[1] == np.inf and d[2] == -np.inf and d[3] == np.inf
    # HyperDual gives the same first two
    z = np.sqrt(HyperDual(0.0, 1.0, 1.0, 0.0))
    assert (z.eps1, z.eps12) == (d[1], d[2])
    # a constant stays constant (zero tangents stay zero where sqrt' is inf)
    c = hd.Taylor([0.0, 0.0, 0.0])
    np.testing.assert_array_equal(np.sqrt(c).coef, [0.0, 0.0, 0.0])
    # x(t) = t**2: sqrt = |t|: coefficient 1 is nan (sides differ), 0 below
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        c = np.sqrt(hd.Taylor([0.0, 0.0, 1.0, 0.0])).coef
    assert c[0] == 0.0 and np.isnan(c[1])


def test_powers_at_zero():
    np.testing.assert_array_equal(hd.derivatives(lambda x: x ** 3, 0.0, 4), [0, 0, 0, 6, 0])
    np.testing.assert_array_equal(hd.derivatives(lambda x: x ** 0, 0.0, 2), [1, 0, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d = hd.derivatives(lambda x: x ** 2.5, 0.0, 4)
    assert list(d[:3]) == [0.0, 0.0, 0.0] and d[3] == np.inf and d[4] == -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d = hd.derivatives(np.cbrt, 0.0, 3)
    assert d[0] == 0.0 and d[1] == np.inf and np.isnan(d[2]) and d[3] == np.inf


def test_overflow_is_inf_never_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d = hd.derivatives(np.exp, 710.0, 4)
        assert np.all(np.isinf(d))
        d = hd.derivatives(lambda x: 1 / (1 - x), 0.0, 200)  # k! overflows past 170
    assert np.all(np.isinf(d[171:])) and np.all(np.isfinite(d[:171]))
    np.testing.assert_allclose(d[170], float(math.factorial(170)), rtol=1e-13)


def test_log_at_zero_is_inf():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        d = hd.derivatives(np.log, 0.0, 2)
    assert d[0] == -np.inf and d[1] == np.inf and d[2] == -np.inf


# --- nesting without perturbation confusion -------------------------------------------
def test_nesting_checks_of_the_design():
    # d/dx[x * d/dy(x + y)] = 1 and d/dx[x * d/dy(x y)] = 2x, every outer/inner combination
    inner1 = lambda x: x * hd.nth_derivative(lambda y: x + y, 1.0, 1)  # noqa: E731
    inner2 = lambda x: x * hd.nth_derivative(lambda y: x * y, 1.0, 1)  # noqa: E731
    assert hd.derivative(inner1, 3.0) == 1.0
    assert hd.derivative(inner2, 3.0) == 6.0
    np.testing.assert_allclose(hd.derivatives(inner2, 3.0, 3), [9.0, 6.0, 2.0, 0.0])
    np.testing.assert_allclose(
        hd.derivatives(lambda x: x * hd.derivative(lambda y: x * y, 1.0), 3.0, 3),
        [9.0, 6.0, 2.0, 0.0])
    np.testing.assert_allclose(
        hd.derivatives(lambda x: x * hd.nth_derivative(lambda y: x * y, 1.0, 1), 3.0, 3),
        [9.0, 6.0, 2.0, 0.0])


def test_taylor_inside_and_outside_duals():
    # outer Dual, inner Taylor: d/dx of d^3/dy^3 sin(x y) at y = 0.5
    x = 1.3
    g = lambda x: hd.nth_derivative(lambda y: np.sin(x * y), 0.5, 3)  # noqa: E731
    terms = [-3 * x ** 2 * np.cos(x * 0.5), x ** 3 * 0.5 * np.sin(x * 0.5)]
    ref = terms[0] + terms[1]  # two terms that cancel: cond = |terms| / |sum|
    assert_close_ulps(hd.derivative(g, x), ref, ulps=8,
                      cond=(abs(terms[0]) + abs(terms[1])) / abs(ref))
    # outer Taylor, inner Dual
    h = lambda x: hd.derivative(lambda y: np.sin(x * y), 0.5)  # noqa: E731
    np.testing.assert_allclose(hd.derivatives(h, 1.3, 4),
                               hd.derivatives(lambda x: x * np.cos(x * 0.5), 1.3, 4),
                               rtol=1e-13)
    # outer HyperDual around an inner Taylor
    k = lambda x: hd.nth_derivative(lambda y: np.exp(x * y), 1.0, 2)  # x^2 e^x  # noqa: E731
    np.testing.assert_allclose(hd.second_derivative(k, 0.7),
                               (0.7 ** 2 + 4 * 0.7 + 2) * np.exp(0.7), rtol=1e-13)
    # Taylor inside Taylor
    m = lambda x: hd.nth_derivative(lambda y: np.exp(x * y), 1.0, 2)  # noqa: E731
    d = hd.derivatives(m, 0.7, 3)
    e = np.exp(0.7)
    np.testing.assert_allclose(d, [0.49 * e, (0.49 + 1.4) * e, (0.49 + 2.8 + 2) * e,
                                   (0.49 + 4.2 + 6) * e], rtol=1e-13)


def test_taylor_inside_reverse():
    # hyperdual's Taylor helper meets the outer Variable and hands the call to reverse's
    # helper of the same name, which stays in the outer trace (issue 16's example)
    import sympy as sp

    a, b, t = sp.symbols("a b t")
    assert reverse.derivative(lambda a: hd.nth_derivative(lambda t: a * t ** 3, 1.0, 3),
                              2.0) == 6.0
    f = lambda a: hd.nth_derivative(lambda t: a[0] ** 2 * np.sin(a[1] * t), 0.5, 3)  # noqa: E731
    e = sp.diff(a ** 2 * sp.sin(b * t), t, 3)
    pt = {a: 1.5, b: 0.7, t: 0.5}
    np.testing.assert_allclose(reverse.gradient(f, np.array([1.5, 0.7])),
                               [float(sp.diff(e, v).subs(pt)) for v in (a, b)], rtol=1e-13)
    np.testing.assert_allclose(reverse.hessian(f, np.array([1.5, 0.7])),
                               [[float(sp.diff(e, u, v).subs(pt)) for v in (a, b)]
                                for u in (a, b)], rtol=1e-13)
    # the whole vector, the coefficients and a directional version, inside reverse.gradient
    g = lambda a: np.sum(hd.derivatives(lambda t: np.exp(a[0] * t) * a[1], 0.2, 4)  # noqa: E731
                         * np.arange(1.0, 6.0))
    want = sum((k + 1) * sp.diff(sp.exp(a * t) * b, t, k) for k in range(5))
    np.testing.assert_allclose(
        reverse.gradient(g, np.array([0.8, -1.2])),
        [float(sp.diff(want, v).subs({a: 0.8, b: -1.2, t: 0.2})) for v in (a, b)], rtol=1e-13)
    h = lambda a: hd.directional_derivatives(  # noqa: E731
        lambda y: a * y[0] ** 2 * y[1], np.array([1.0, 2.0]), np.array([0.5, -1.0]), 3)[3]
    # d^3/ds^3 a (1 + s/2)^2 (2 - s) = a * 6 * (1/4) * (-1) = -1.5 a
    assert reverse.derivative(h, 3.0) == pytest.approx(-1.5, rel=1e-14)


def test_taylor_helpers_hand_over_when_x_is_a_variable():
    # x itself a Variable of an outer trace: reverse's helper runs in that trace
    x = reverse.Variable(np.array(0.7))
    y = hd.nth_derivative(lambda t: t ** 5, x, 3)  # 60 x^2
    assert isinstance(y, reverse.Variable)
    y.backward()
    assert x.grad.data == pytest.approx(120 * 0.7, rel=1e-14)


def test_reverse_over_taylor_data():
    # the outer engine is Taylor: reverse runs on Taylor data (as forward-over-reverse)
    f = lambda x: reverse.derivative(lambda y: np.sin(x * y), 0.5)  # x cos(x y)  # noqa: E731
    np.testing.assert_allclose(hd.derivatives(f, 1.3, 4),
                               hd.derivatives(lambda x: x * np.cos(x * 0.5), 1.3, 4),
                               rtol=1e-13)


def test_same_tag_mixing_is_an_error():
    t = Taylor([1.0, 1.0, 0.0])
    with pytest.raises(TypeError, match="same tag"):
        t + Dual(1.0, 1.0)
    with pytest.raises(TypeError, match="same tag"):
        Dual(1.0, 1.0) * t
    with pytest.raises(ValueError, match="orders"):
        t + Taylor([1.0, 1.0])


# --- dispatch and errors ----------------------------------------------------------------
def test_errors_name_the_function_and_engine():
    t = Taylor(np.ones((3, 2, 2)))
    with pytest.raises(TypeError, match="Taylor"):
        np.asarray(t)
    with pytest.raises(TypeError, match=r"eig.*Taylor"):
        np.linalg.eig(t)
    with pytest.raises(TypeError, match=r"numpy\.add\.at"):
        np.add.at(t, [0], 1.0)
    with pytest.raises(TypeError, match="Taylor"):
        float(Taylor([1.0, 2.0]))
    with pytest.raises(TypeError, match="Taylor"):
        np.gcd(t, t)
    with pytest.raises(ValueError, match="order"):
        hd.derivatives(np.sin, 1.0, -1)


# --- linear operations, checked against HyperDual Hessians ------------------------------
LINEAR = {
    "sum_prod": lambda x: np.sum(x ** 2) * np.prod(np.sin(x)),
    "mean_dot": lambda x: np.mean(np.exp(x)) + np.dot(x, x[::-1]),
    "matmul": lambda x: np.sum(np.tanh(x.reshape(2, 2) @ x.reshape(2, 2).T)),
    "index_concat": lambda x: np.sum(np.concatenate([x[1:] * x[:-1], x[[0, 2]] ** 3])),
    "stack_transpose": lambda x: np.sum(np.stack([x, np.cos(x)]).T @ np.arange(2.0)),
    "where_max": lambda x: np.max(np.where(x > 0, x, x * x)) + np.linalg.norm(x),
    "outer_trace": lambda x: np.trace(np.outer(x, np.sin(x))),
}


@pytest.mark.parametrize("name", sorted(LINEAR))
def test_linear_ops_vs_hessian(name):
    f = LINEAR[name]
    x = np.array([0.3, -0.8, 1.1, 0.5])
    v = np.array([0.7, 0.2, -0.4, 1.0])
    d = hd.directional_derivatives(f, x, v, 3)
    np.testing.assert_allclose(d[0], f(x), rtol=1e-14)
    np.testing.assert_allclose(d[1], hd.gradient(f, x) @ v, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d[2], v @ hd.hessian(f, x) @ v, rtol=1e-12, atol=1e-14)
    # third order: the directional derivative of v.H.v along v
    d3 = hd.derivative(lambda t: v @ hd.hessian(f, x + t * v) @ v, 0.0)
    np.testing.assert_allclose(d[3], d3, rtol=1e-11, atol=1e-13)


# --- derivative tensors ------------------------------------------------------------------
def test_tensor_order2_and_3_and_4():
    f = lambda x: np.exp(x[0]) * np.sin(x[1] * x[2]) + x[0] * x[1] ** 3  # noqa: E731
    x = np.array([0.3, -0.7, 1.2])
    np.testing.assert_allclose(hd.derivative_tensor(f, x, 1), hd.gradient(f, x), rtol=1e-13)
    np.testing.assert_allclose(hd.derivative_tensor(f, x, 2), hd.hessian(f, x),
                               rtol=1e-12, atol=1e-13)
    T3 = hd.derivative_tensor(f, x, 3)
    ref3 = hd.jacobian(lambda y: hd.hessian(f, y), x)
    np.testing.assert_allclose(T3, ref3, rtol=1e-11, atol=1e-12)
    T4 = hd.derivative_tensor(f, x, 4)
    ref4 = np.empty((3, 3, 3, 3))
    for i in range(3):
        for j in range(3):
            ref4[i, j] = hd.hessian(lambda y, i=i, j=j: hd.hessian(f, y)[i, j], x)
    np.testing.assert_allclose(T4, ref4, rtol=1e-10, atol=1e-11)
    assert np.allclose(T4, np.transpose(T4, (2, 0, 3, 1)))


def test_taylor_around_hyperdual_gradient_and_hessian_helpers():
    # outer Taylor, inner HyperDual / direction stacks: the inner helpers' numbers hold
    # Taylor parts
    d = hd.derivatives(lambda x: hd.second_derivative(lambda y: np.sin(x * y), 0.5), 1.3, 3)
    np.testing.assert_allclose(d, hd.derivatives(lambda x: -x ** 2 * np.sin(x * 0.5), 1.3, 3),
                               rtol=1e-13)
    y0 = np.array([0.5, 1.0])
    g = lambda x: hd.gradient(lambda y: np.sum(np.sin(x * y)), y0)[1]  # noqa: E731
    np.testing.assert_allclose(hd.derivatives(g, 1.3, 3),
                               hd.derivatives(lambda x: x * np.cos(x), 1.3, 3), rtol=1e-13)
    h = lambda x: hd.hessian(lambda y: np.sum(np.sin(x * y)), y0)[1, 1]  # noqa: E731
    np.testing.assert_allclose(hd.derivatives(h, 1.3, 2),
                               hd.derivatives(lambda x: -x * x * np.sin(x), 1.3, 2), rtol=1e-13)


def test_directional_derivative_stacks():
    # m directions at once (one Taylor pass each) against the closed form
    # f(x + t v) = (x0 + t v0)^2 (x1 + t v1) sin(x2 + t v2)
    import sympy as sp

    f = lambda x: x[0] ** 2 * x[1] * np.sin(x[2])  # noqa: E731
    x = np.array([0.4, -1.3, 0.8])
    V = np.array([[1.0, 0.0, 0.0], [0.5, -2.0, 1.5], [0.0, 0.3, -0.7]])
    t = sp.Symbol("t")
    want = np.array([[float(sp.diff((x[0] + t * v[0]) ** 2 * (x[1] + t * v[1])
                                    * sp.sin(x[2] + t * v[2]), t, k).subs(t, 0))
                      for k in range(5)] for v in V])
    for E in (hd, reverse):
        got = E.directional_derivatives(f, x, V, 4)
        assert got.shape == (3, 5)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(reverse.directional_derivatives(f, x, V, 4, method="backprop"),
                               want, rtol=1e-13, atol=1e-13)
    with pytest.raises(ValueError, match="shape"):
        hd.directional_derivatives(f, x, np.ones((3, 2)), 2)


def _softplus():
    @hd.custom_jvp
    def softplus(x):
        return np.logaddexp(0.0, x)

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (dx,) = primals, tangents
        return softplus(x), dx * hd.expit(x)

    return softplus


def test_custom_jvp_on_taylor_numbers():
    import mpmath

    sp_ = _softplus()
    ref = lambda x: mpmath.log(1 + mpmath.exp(x))  # noqa: E731
    for x0 in (-2.0, 0.3, 5.0):
        want = [float(mpmath.diff(ref, x0, k)) for k in range(9)]
        np.testing.assert_allclose(hd.derivatives(sp_, x0, 8), want, rtol=1e-12, atol=1e-15)
    # composed, with array parts, and against nested HyperDuals
    g = lambda x: sp_(x * x) * np.sin(x)  # noqa: E731
    xs = np.array([0.3, -1.1])
    d = hd.derivatives(g, xs, 4)
    np.testing.assert_allclose(d[2], hd.second_derivative(g, xs), rtol=1e-13)
    d4 = hd.second_derivative(lambda y: hd.second_derivative(g, y), xs)
    np.testing.assert_allclose(d[4], d4, rtol=1e-12)
    # inside an outer Dual (Taylor coefficients carrying the outer perturbation)
    # d/da d^3/dt^3 softplus(a t) = d/da a^3 softplus'''(a t) = 3a² s3 + a³ t s4
    a, t0 = 1.2, 0.5
    s3 = float(mpmath.diff(ref, a * t0, 3))
    s4 = float(mpmath.diff(ref, a * t0, 4))
    got = hd.derivative(lambda a: hd.nth_derivative(lambda t: sp_(a * t), t0, 3), a)
    assert got == pytest.approx(3 * a ** 2 * s3 + a ** 3 * t0 * s4, rel=1e-12)
    # inside reverse: the rule runs as a reverse Function in the handed-over call
    got = reverse.derivative(lambda a: hd.nth_derivative(lambda t: sp_(a * t), t0, 3), a)
    assert got == pytest.approx(3 * a ** 2 * s3 + a ** 3 * t0 * s4, rel=1e-12)


def test_fmax_fmin():
    np.testing.assert_allclose(hd.derivatives(lambda t: np.fmax(t * t, 0.5), 0.9, 3),
                               [0.81, 1.8, 2.0, 0.0])
    np.testing.assert_allclose(hd.derivatives(lambda t: np.fmin(t * t, np.nan), 0.9, 3),
                               [0.81, 1.8, 2.0, 0.0])
    np.testing.assert_allclose(hd.derivatives(lambda t: np.fmax(np.nan, 3 * t), 0.9, 2),
                               [2.7, 3.0, 0.0])


@pytest.mark.parametrize("name, args", [
    ("derivatives", ("a", 2)), ("taylor", ("a", 2)), ("nth_derivative", ("a", 2)),
    ("directional_derivatives", (np.ones(2), np.ones(3), 2)),
    ("derivative_tensor", ("a", 2)),
])
def test_reverse_taylor_helpers_name_themselves_in_argument_errors(name, args):
    # reverse's Taylor helpers run hyperdual's; a bad x or v is reported under the
    # name the user called (it named hyperdual's helper or hyperdual itself)
    with pytest.raises((TypeError, ValueError), match=rf"^reverse\.{name}:") as info:
        getattr(reverse, name)(lambda x: x, *args)
    assert "hyperdual" not in str(info.value).split(":")[0]
