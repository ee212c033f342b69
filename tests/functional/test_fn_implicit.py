"""Implicit differentiation (root, fixed_point, minimize, root_scalar) in both engines.

Truth: closed forms where they exist (quadratic root, Kepler's dE/de and
d2E/de2, ridge regression), and mpmath at 30 digits (findroot + diff) for
the third derivatives.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import hyperdual
import reverse


@pytest.fixture(autouse=True)
def _module_precision():
    """The truths of this module at 30 digits (mpmath's precision is global:
    set for this module's tests only)."""
    with mp.workdps(30):
        yield


ENGINES = [hyperdual, reverse]


def quad(x, a, b, c):
    return a * x ** 2 + b * x + c


def quad_root(a, b, c):  # the larger root, for a > 0
    return (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a)


def mp_quad_root(a, b, c):
    return (-b + mp.sqrt(b * b - 4 * a * c)) / (2 * a)


P = (1.5, -0.7, -2.0)


def third(eng, fun, p):
    """f''' by the engine: derivative of second_derivative (nested)."""
    if eng is hyperdual:
        return hyperdual.derivative(lambda t: hyperdual.second_derivative(fun, t), p)
    x = reverse.Variable(p)
    y = fun(x)
    for _ in range(2):
        y.backward(create_graph=True)
        y = x.grad
        x.clear_grad()
    y.backward()
    return float(x.grad.data)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_quadratic_root_three_orders(eng):
    a, b, c = P
    for k in range(3):
        def r(t, k=k):
            args = list(P)
            args[k] = t
            return eng.root(quad, 1.0, *args)

        def exact(t, k=k):
            args = [mp.mpf(v) for v in P]
            args[k] = t
            return mp_quad_root(*args)

        assert r(P[k]) == pytest.approx(quad_root(a, b, c), rel=1e-15)
        for n, fn in ((1, eng.derivative), (2, eng.second_derivative)):
            want = float(mp.diff(exact, mp.mpf(P[k]), n))
            assert fn(r, P[k]) == pytest.approx(want, rel=1e-12), (k, n)
        want3 = float(mp.diff(exact, mp.mpf(P[k]), 3))
        assert third(eng, r, P[k]) == pytest.approx(want3, rel=1e-11), k


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_quadratic_root_gradient_and_hessian_in_all_params(eng):
    f = lambda p: eng.root(quad, 1.0, p[0], p[1], p[2])  # noqa: E731
    p = np.array(P)
    g_want = hyperdual.gradient(lambda q: quad_root(q[0], q[1], q[2]), p)  # closed form
    H_want = hyperdual.hessian(lambda q: quad_root(q[0], q[1], q[2]), p)
    np.testing.assert_allclose(eng.gradient(f, p), g_want, rtol=1e-12)
    np.testing.assert_allclose(eng.hessian(f, p), H_want, rtol=1e-11, atol=1e-13)


def kepler(E, e, M):
    return E - e * np.sin(E) - M


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
@pytest.mark.parametrize("e", [0.1, 0.5, 0.9])
def test_kepler_dE_de_closed_form(eng, e):
    M = 1.3
    E = eng.root(kepler, M, e, M)
    D = 1 - e * np.cos(E)
    d1 = np.sin(E) / D
    d2 = (np.cos(E) * d1 * D + np.sin(E) * np.cos(E) - e * np.sin(E) ** 2 * d1) / D ** 2
    assert E - e * np.sin(E) == pytest.approx(M, rel=1e-15)
    assert eng.derivative(lambda t: eng.root(kepler, M, t, M), e) == pytest.approx(d1, rel=1e-13)
    assert eng.second_derivative(lambda t: eng.root(kepler, M, t, M), e) == pytest.approx(
        d2, rel=1e-12)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_kepler_by_root_scalar(eng):
    e, M = 0.6, 2.0
    r = lambda t: eng.root_scalar(kepler, (0.0, 4.0), t, M)  # noqa: E731
    E = r(e)
    assert eng.derivative(r, e) == pytest.approx(np.sin(E) / (1 - e * np.cos(E)), rel=1e-13)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_fixed_point_of_cos(eng):
    def x_of(a):
        return eng.fixed_point(lambda x, b: np.cos(b * x), 0.7, a)

    def mp_x(a):
        return mp.findroot(lambda x: x - mp.cos(a * x), 0.7)

    x = x_of(1.0)
    assert x == pytest.approx(float(mp_x(mp.mpf(1))), rel=1e-15)
    assert eng.derivative(x_of, 1.0) == pytest.approx(-x * np.sin(x) / (1 + np.sin(x)),
                                                      rel=1e-13)
    assert eng.second_derivative(x_of, 1.0) == pytest.approx(
        float(mp.diff(mp_x, mp.mpf(1), 2)), rel=1e-12)
    assert third(eng, x_of, 1.0) == pytest.approx(float(mp.diff(mp_x, mp.mpf(1), 3)), rel=1e-11)


RNG = np.random.default_rng(7)
A = RNG.normal(size=(6, 3))
Y = RNG.normal(size=6)


def ridge_loss(w, lam, y):
    r = A @ w - y
    return np.sum(r * r) + lam * np.sum(w * w)


def ridge(lam, y=Y):
    return np.linalg.solve(A.T @ A + lam * np.eye(3), A.T @ y)


def test_ridge_argmin_against_closed_form_hyperdual():
    lam = 0.8
    w = hyperdual.minimize(ridge_loss, np.zeros(3), lam, Y)
    np.testing.assert_allclose(w, ridge(lam), rtol=1e-13)
    K = np.linalg.inv(A.T @ A + lam * np.eye(3))
    # dw/dlam = -K w, d2w/dlam2 = 2 K K w, dw/dy = K A^T
    np.testing.assert_allclose(
        hyperdual.derivative(lambda t: hyperdual.minimize(ridge_loss, np.zeros(3), t, Y), lam),
        -K @ w, rtol=1e-12)
    np.testing.assert_allclose(
        hyperdual.second_derivative(
            lambda t: hyperdual.minimize(ridge_loss, np.zeros(3), t, Y), lam),
        2 * K @ K @ w, rtol=1e-11)
    np.testing.assert_allclose(
        hyperdual.jacobian(lambda y: hyperdual.minimize(ridge_loss, np.zeros(3), lam, y), Y),
        K @ A.T, rtol=1e-12, atol=1e-14)


def test_ridge_argmin_reverse():
    lam = 0.8
    K = np.linalg.inv(A.T @ A + lam * np.eye(3))
    w = ridge(lam)
    d = reverse.jacobian(lambda t: reverse.minimize(ridge_loss, np.zeros(3), t, Y), lam)
    np.testing.assert_allclose(d, -K @ w, rtol=1e-12)
    d2 = reverse.jacobian(
        lambda t: reverse.jacobian(lambda s: reverse.minimize(ridge_loss, np.zeros(3), s, Y), t),
        lam)
    np.testing.assert_allclose(d2, 2 * K @ K @ w, rtol=1e-11)


@pytest.mark.parametrize("outer", ENGINES, ids=lambda m: m.__name__)
@pytest.mark.parametrize("inner", ENGINES, ids=lambda m: m.__name__)
def test_nested_implicit(outer, inner):
    # d/da [a * dx/db] with x(b) = sqrt(b) at b = a: a/(2 sqrt a) -> d/da = 1/(4 sqrt a)
    f = lambda x, b: x ** 2 - b  # noqa: E731
    a = 2.25
    got = outer.derivative(lambda t: t * inner.derivative(lambda b: inner.root(f, 1.0, b), t), a)
    assert got == pytest.approx(1 / (4 * np.sqrt(a)), rel=1e-13)


def test_vector_root_and_solver_choices():
    # x0^2 + x1^2 = r, x0 = s x1 -> x1 = sqrt(r / (1 + s^2))
    def f(x, r, s):
        return np.stack([x[0] ** 2 + x[1] ** 2 - r, x[0] - s * x[1]])

    def x1(r, s):
        return np.sqrt(r / (1 + s * s))

    for solver in (None, "lm", lambda fun, z: np.array([1.2, 1.0])):
        kw = {} if solver is None else {"solver": solver}
        g = hyperdual.gradient(lambda p, kw=kw: hyperdual.root(f, np.array([1.0, 1.0]), p[0],
                                                               p[1], **kw)[1],
                               np.array([2.0, 1.5]))
        want = hyperdual.gradient(lambda p: x1(p[0], p[1]), np.array([2.0, 1.5]))
        np.testing.assert_allclose(g, want, rtol=1e-13)


def test_errors():
    with pytest.raises(ValueError, match="root: f\\(x, \\*params\\) must have x's shape"):
        hyperdual.root(lambda x, a: np.sum(x) - a, np.ones(2), 1.0)
    with pytest.raises(RuntimeError, match="root"):
        hyperdual.root(lambda x, a: x ** 2 + a, 1.0, 1.0)  # no real root
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        hyperdual.derivative(lambda a: hyperdual.root(lambda x, b: x ** 3 - b, 0.5, a,
                                                      solver=lambda fun, z: 0.0), 0.0)


def test_plain_parameters_give_floats():
    r = hyperdual.root(lambda x, a: x ** 2 - a, 1.0, 9.0)
    assert type(r) is float and r == 3.0
    assert reverse.root is hyperdual.root


def test_reverse_create_graph_exact_at_every_order():
    # x(a) = sqrt(a): the k-th derivative is (1/2)(1/2 - 1)...(1/2 - k + 1) a^(1/2 - k).
    # The solution is one node whose backward is the implicit function theorem at
    # its own output, so each further backward pass is exact again (to 10 here).
    from math import prod

    x = reverse.Variable(4.0)
    y = reverse.root(lambda z, a: z ** 2 - a, 1.0, x)
    assert isinstance(y.creator, reverse.implicit.ImplicitSolution)
    y.backward(create_graph=True)
    for k in range(1, 11):
        g = x.grad
        want = prod(0.5 - j for j in range(k)) * 4.0 ** (0.5 - k)
        assert float(g.data) == pytest.approx(want, rel=1e-12), k
        x.clear_grad()
        g.backward(create_graph=True)


def test_reverse_vector_root_third_order_against_hyperdual():
    # x(a) solves x0 + x1^3 = a0, x0 x1 = a1 (a 2-d system): third derivatives of
    # sum(x * w) by reverse (nested helpers on the solution node) and by hyperdual
    # (chord corrections on HyperDuals) agree
    def f(x, a):
        return np.stack([x[0] + x[1] ** 3 - a[0], x[0] * x[1] - a[1]])

    w = np.array([0.7, -1.3])

    def g(a, engine):
        return np.sum(engine.root(f, np.array([1.0, 1.0]), a) * w)

    a0 = np.array([2.5, 1.2])
    H_rev = reverse.hessian(lambda a: g(a, reverse), a0)
    H_hd = hyperdual.hessian(lambda a: g(a, hyperdual), a0)
    np.testing.assert_allclose(H_rev, H_hd, rtol=1e-10, atol=1e-12)
    v = np.array([0.3, -0.8])
    T_rev = reverse.jacobian(lambda a: reverse.hvp(lambda b: g(b, reverse), a, v), a0)
    T_hd = hyperdual.jacobian(lambda a: hyperdual.hvp(lambda b: g(b, hyperdual), a, v), a0)
    np.testing.assert_allclose(T_rev, T_hd, rtol=1e-9, atol=1e-11)


def _small_root(a, b, c):
    return (-b - mp.sqrt(b * b - 4 * a * c)) / (2 * a)


@pytest.mark.parametrize("outer", ENGINES, ids=lambda m: m.__name__)
@pytest.mark.parametrize("inner", ENGINES, ids=lambda m: m.__name__)
def test_root_of_parameters_built_from_x_every_helper(outer, inner):
    """Parameters that are expressions of the outer x (not x itself): reverse.gradient
    crashed with "'float' object has no attribute 'shape'" (the solution node's
    backward gave a Python float cotangent for a 0-d parameter), and the Taylor helpers
    (derivative_tensor) with "a Taylor has no Dual parts"."""
    x = np.array([0.3, 0.8])

    def F(v):
        return inner.root(quad, 1.0, 1 + v[0] * v[1], -3 + v[0], 1.5 * v[1])

    def mF(a, b):
        return _small_root(1 + a * b, -3 + a, 1.5 * b)

    X = [mp.mpf(float(v)) for v in x]
    g = [float(mp.diff(mF, X, (1 - i, i))) for i in range(2)]
    H = [[float(mp.diff(mF, X, (2 - i - j, i + j))) for j in range(2)] for i in range(2)]
    T = [[[float(mp.diff(mF, X, (3 - i - j - k, i + j + k))) for k in range(2)]
          for j in range(2)] for i in range(2)]
    np.testing.assert_allclose(outer.gradient(F, x), g, rtol=1e-13)
    np.testing.assert_allclose(outer.hessian(F, x), H, rtol=1e-12)
    np.testing.assert_allclose(outer.derivative_tensor(F, x, 2), H, rtol=1e-12)
    np.testing.assert_allclose(outer.derivative_tensor(F, x, 3), T, rtol=1e-11)
    np.testing.assert_allclose(np.stack([outer.hvp(F, x, e) for e in np.eye(2)]), H,
                               rtol=1e-12)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
def test_taylor_mode_through_the_solvers(eng):
    """derivatives (one Taylor pass) of root, fixed_point and root_scalar to order 5,
    against mpmath: a Taylor parameter takes K chord corrections."""
    t0 = 0.3
    got = eng.derivatives(lambda t: eng.root(quad, 1.0, 1.0, -3 + t, 1.5), t0, 5)
    want = [float(mp.diff(lambda t: _small_root(1, -3 + t, mp.mpf(1.5)), mp.mpf(t0), k))
            for k in range(6)]
    np.testing.assert_allclose(got, want, rtol=1e-13)
    got = eng.derivatives(lambda a: eng.fixed_point(lambda y, a: np.cos(a * y), 1.0, a), 0.7, 4)
    fp = lambda a: mp.findroot(lambda y: mp.cos(a * y) - y, 0.7)  # noqa: E731
    np.testing.assert_allclose(got, [float(mp.diff(fp, mp.mpf(0.7), k)) for k in range(5)],
                               rtol=1e-13)
    got = eng.derivatives(lambda a: eng.root_scalar(lambda y, a: y ** 3 - a, (0.1, 5.0), a),
                          2.0, 3)
    np.testing.assert_allclose(got, [2 ** (1 / 3), 2 ** (-2 / 3) / 3, -2 / 9 * 2 ** (-5 / 3),
                                     10 / 27 * 2 ** (-8 / 3)], rtol=1e-14)


# A solver's function that closes over a differentiable value of the enclosing
# computation (instead of taking it through *params) failed with reverse's and
# hyperdual's generic "cannot convert a Variable/Dual to a plain numpy array"
# (minimize's and root_scalar's float solves stripped it silently first).  The
# error now names the fix; the same function with the value passed works.
_CLOSURES = {
    "root": lambda m, a: m.root(lambda x: x ** 2 - a, 1.0),
    "fixed_point": lambda m, a: m.fixed_point(lambda x: 0.5 * (x + a / x), 1.0),
    "root_scalar": lambda m, a: m.root_scalar(lambda x: x ** 2 - a, (0.1, 10.0)),
    "minimize": lambda m, a: m.minimize(lambda x: np.sum((x ** 2 - a) ** 2), np.array([1.0]),
                                        method="BFGS"),
}


@pytest.mark.parametrize("eng", ENGINES, ids=lambda m: m.__name__)
@pytest.mark.parametrize("name", list(_CLOSURES))
def test_a_closure_over_a_differentiated_value_is_refused_with_the_fix(eng, name):
    with pytest.raises(TypeError, match=r"closes over a differentiable value.*\*params"):
        eng.derivative(lambda a: _CLOSURES[name](eng, a), 4.0)
    # passed through params: sqrt(a)' = 1/4 at a = 4
    passed = {"root": lambda a: eng.root(lambda x, b: x ** 2 - b, 1.0, a),
              "fixed_point": lambda a: eng.fixed_point(lambda x, b: 0.5 * (x + b / x), 1.0, a),
              "root_scalar": lambda a: eng.root_scalar(lambda x, b: x ** 2 - b, (0.1, 10.0), a),
              "minimize": lambda a: np.sum(eng.minimize(
                  lambda x, b: np.sum((x ** 2 - b) ** 2), np.array([1.0]), a))}[name]
    np.testing.assert_allclose(eng.derivative(passed, 4.0), 0.25, rtol=1e-14)
