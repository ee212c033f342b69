"""custom_jvp: one JVP rule, every mode and order, checked against mpmath.

The primal functions call code no engine can trace (scipy.integrate.quad,
scipy.special.ellipk); the truth is computed independently with mpmath at 30
digits (quadrature, and mpmath.diff for the derivatives of K).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.integrate
import scipy.special

import hyperdual
import reverse
from hyperdual import custom_jvp
from tests._tolerance import assert_close_ulps


@pytest.fixture(autouse=True)
def _module_precision():
    """The truths of this module at 30 digits (mpmath's precision is global:
    set for this module's tests only)."""
    with mp.workdps(30):
        yield


ENGINES = [hyperdual, reverse]


# --- a parametric integral: M_k(a) = int_0^1 t^k exp(a t) dt; M_k' = M_{k+1} --------
@custom_jvp
def moment(k, a):
    return scipy.integrate.quad(lambda t: t ** k * np.exp(a * t), 0.0, 1.0,
                                epsabs=0.0, epsrel=1e-13)[0]


moment.nondiff_argnums = (0,)


@moment.defjvp
def _moment_jvp(k, primals, tangents):
    (a,), (ta,) = primals, tangents
    return moment(k, a), moment(k + 1, a) * ta


def M(k, a):
    return float(mp.quad(lambda t: t ** k * mp.exp(a * t), [0, 1]))


def f_int(x):
    return moment(0, x[0] * x[1]) + x[0] * moment(1, x[1])


def hess_int(x):
    x0, x1 = x
    s = x0 * x1
    h01 = M(1, s) + s * M(2, s) + M(2, x1)
    return np.array([[x1 ** 2 * M(2, s), h01], [h01, x0 ** 2 * M(2, s) + x0 * M(3, x1)]])


X = np.array([0.7, -1.3])


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_parametric_integral_hessian_is_exact(eng):
    x0, x1 = X
    g = eng.gradient(f_int, X)
    np.testing.assert_allclose(g, [x1 * M(1, x0 * x1) + M(1, x1),
                                   x0 * M(1, x0 * x1) + x0 * M(2, x1)], rtol=1e-12)
    np.testing.assert_allclose(eng.hessian(f_int, X), hess_int(X), rtol=1e-12)


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_parametric_integral_hvp_both_reverse_modes(mode):
    v = np.array([0.4, 2.0])
    np.testing.assert_allclose(reverse.hvp(f_int, X, v, mode=mode), hess_int(X) @ v, rtol=1e-12)


def test_parametric_integral_third_derivative_by_hyperdual_in_reverse():
    # d^3/da^3 M_0(a) = M_3(a): HyperDual second derivative of reverse's first
    d3 = hyperdual.second_derivative(lambda a: reverse.derivative(lambda b: moment(0, b), a), 0.6)
    assert d3 == pytest.approx(M(3, 0.6), rel=1e-12)


# --- elliptic integrals: K' and E' in terms of K and E ------------------------------
@custom_jvp
def ellipk(m):
    return scipy.special.ellipk(m)


@custom_jvp
def ellipe(m):
    return scipy.special.ellipe(m)


@ellipk.defjvp
def _ellipk_jvp(primals, tangents):
    (m,), (t,) = primals, tangents
    k, e = ellipk(m), ellipe(m)
    return k, t * (e - (1 - m) * k) / (2 * m * (1 - m))


@ellipe.defjvp
def _ellipe_jvp(primals, tangents):
    (m,), (t,) = primals, tangents
    e = ellipe(m)
    return e, t * (e - ellipk(m)) / (2 * m)


def dK(m, n):
    return float(mp.diff(mp.ellipk, mp.mpf(m), n))


# scipy's K and E are accurate to a few ulps; the derivative formulas divide by
# m (1 - m), so compare at a relative tolerance well above that rounding
RTOL_K = 1e-12


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
@pytest.mark.parametrize("m", [0.1, 0.5, 0.9])
def test_ellipk_first_and_second_derivative(eng, m):
    assert eng.derivative(ellipk, m) == pytest.approx(dK(m, 1), rel=RTOL_K)
    assert eng.second_derivative(ellipk, m) == pytest.approx(dK(m, 2), rel=RTOL_K)


def test_ellipk_hyperdual_parts():
    z = ellipk(hyperdual.HyperDual(0.3, 1.0, 1.0, 0.0))
    assert z.real == pytest.approx(dK(0.3, 0), rel=1e-15)
    assert z.eps1 == z.eps2 == pytest.approx(dK(0.3, 1), rel=RTOL_K)
    assert z.eps12 == pytest.approx(dK(0.3, 2), rel=RTOL_K)


def test_ellipk_reverse_third_order_by_create_graph():
    x = reverse.Variable(0.4)
    y = ellipk(x)
    y.backward(create_graph=True)
    g1 = x.grad
    x.clear_grad()
    g1.backward(create_graph=True)
    g2 = x.grad
    x.clear_grad()
    g2.backward()
    assert float(g1.data) == pytest.approx(dK(0.4, 1), rel=RTOL_K)
    assert float(g2.data) == pytest.approx(dK(0.4, 2), rel=RTOL_K)
    assert float(x.grad.data) == pytest.approx(dK(0.4, 3), rel=1e-11)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_ellipk_hessian_of_vector_function(eng):
    # h(x) = K(x0 x1): H = K''(s) [x1, x0]^T [x1, x0] + K'(s) [[0, 1], [1, 0]]
    x = np.array([0.5, 0.8])
    s = x[0] * x[1]
    u = x[::-1]
    want = dK(s, 2) * np.outer(u, u) + dK(s, 1) * np.array([[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(eng.hessian(lambda z: ellipk(z[0] * z[1]), x), want,
                               rtol=RTOL_K)


@pytest.mark.parametrize("outer", ENGINES, ids=lambda m: m.__name__)
@pytest.mark.parametrize("inner", ENGINES, ids=lambda m: m.__name__)
def test_nested_helpers(outer, inner):
    # d/da [d/dz K(a z)] at z = m: d/da [a K'(a m)] = K'(am) + a m K''(am)
    m, a = 0.5, 0.6
    got = outer.derivative(lambda b: inner.derivative(lambda z: ellipk(b * z), m), a)
    want = dK(a * m, 1) + a * m * dK(a * m, 2)
    assert got == pytest.approx(want, rel=RTOL_K)


# --- VJP rules, nondiff arguments, errors ---------------------------------------------
def _scaled():
    @custom_jvp
    def scaled(x, c, how):
        return c * np.sin(x) if how == "sin" else c * np.cos(x)

    scaled.nondiff_argnums = (2,)

    @scaled.defjvp
    def _(how, primals, tangents):
        (x, c), (tx, tc) = primals, tangents
        d = np.cos(x) if how == "sin" else -np.sin(x)
        return scaled(x, c, how), c * d * tx + tc * scaled(x, 1.0, how)

    return scaled


def test_nondiff_argument_passes_through():
    s = _scaled()
    x = np.array([0.2, 1.1])
    for eng in ENGINES:
        assert_close_ulps(eng.jacobian(lambda z: s(z, 2.0, "cos"), x), np.diag(-2 * np.sin(x)))
        assert eng.derivative(lambda c: s(0.3, c, "sin"), 5.0) == pytest.approx(np.sin(0.3))


def test_vjp_rule_is_used_by_reverse_and_agrees():
    s = _scaled()
    calls = []

    def vjp(how, primals, out, g):
        calls.append(how)
        x, c = primals
        d = np.cos(x) if how == "sin" else -np.sin(x)
        return c * d * g, np.sum(g * s(x, 1.0, how))

    s.defvjp(vjp)
    x = np.array([0.2, 1.1])
    f = lambda z: np.sum(s(z, 3.0, "sin") ** 2)  # noqa: E731
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        np.testing.assert_allclose(reverse.hvp(f, x, np.array([1.0, -1.0]), mode=mode),
                                   hyperdual.hvp(f, x, np.array([1.0, -1.0])), rtol=1e-14)
    assert calls


def test_errors_name_the_function():
    @custom_jvp
    def badshape(x):
        return np.sin(x)

    @badshape.defjvp
    def _(p, t):
        return badshape(p[0]), np.ones(5)

    with pytest.raises(ValueError, match="badshape.*tangent of shape"):
        hyperdual.gradient(lambda z: np.sum(badshape(z)), np.ones(3))
    with pytest.raises(ValueError, match="badshape.*tangent of shape"):
        reverse.gradient(lambda z: np.sum(badshape(z)), np.ones(3))

    @custom_jvp
    def novjp(x, y):
        return x * y

    novjp.defjvp(lambda p, t: (novjp(*p), p[1] * t[0] + p[0] * t[1]))
    novjp.defvjp(lambda p, out, g: (p[1] * g, None))
    with pytest.raises(ValueError, match="novjp.*returned None for input 1"):
        reverse.gradient(lambda z: novjp(z[0], z[1]), np.ones(2))
    novjp.defvjp(lambda p, out, g: p[1] * g)
    with pytest.raises(ValueError, match="novjp.*1 cotangents for 2"):
        reverse.gradient(lambda z: novjp(z[0], z[1]), np.ones(2))

    @custom_jvp
    def norule(x):
        return x

    with pytest.raises(TypeError, match="norule.*no JVP rule"):
        hyperdual.derivative(norule, 1.0)


def test_plain_call_does_not_touch_the_rule():
    @custom_jvp
    def f(x):
        return x + 1

    assert f(1.0) == 2.0  # no rule needed without engine numbers


def test_check_rule_accepts_a_right_rule_and_rejects_a_wrong_one():
    errs = hyperdual.check_rule(ellipk, np.array([0.3, 0.6]))
    assert max(errs.values()) < 1e-6
    assert "reverse_hessian_vs_forward" in errs

    @custom_jvp
    def wrong(x):
        return np.sin(x)

    wrong.defjvp(lambda p, t: (wrong(p[0]), np.cos(p[0]) * t[0] * 1.001))
    with pytest.raises(AssertionError, match="wrong.*jacobian_vs_central"):
        reverse.check_rule(wrong, np.array([0.3, 0.6]))


def test_same_object_in_both_packages():
    assert reverse.custom_jvp is hyperdual.custom_jvp
    assert reverse.check_rule is hyperdual.check_rule
