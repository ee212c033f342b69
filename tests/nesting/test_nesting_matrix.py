"""Every helper inside every other helper, in all four engine combinations.

The inner helper differentiates a function of y that closes over the outer
variable x; the outer helper differentiates the inner result with respect to
x.  The truth is sympy's exact derivatives of the same expressions, evaluated
in floating point: nothing here is computed by either engine.  Perturbation
confusion (an inner pass writing into the outer variable's gradient, or the
inner result coming back as a constant) shows up as a wrong number.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import sympy as sp

import hyperdual
import reverse

# a sweep of structure that no SIMD path changes: py312 only (tox.ini's tiers)
pytestmark = [pytest.mark.slow, pytest.mark.structure]

ENGINES = {"hyperdual": hyperdual, "reverse": reverse}
X = np.array([0.7, -0.4])      # outer point (vector helpers)
XS = 0.45                      # outer point (scalar helpers)
YV = np.array([0.3, 1.1])      # inner point (vector helpers)
YS = 0.6                       # inner point (scalar helpers)
V = np.array([0.5, -1.5])
U = np.array([1.25, -0.5])

x0, x1, y0, y1, ys, t = sp.symbols("x0 x1 y0 y1 ys t")


# --- the inner functions, written once for numpy and once for sympy --------------
def g_scalar(x, y):      # R -> R in y, closes over x (two numbers)
    return x[0] * y ** 3 + np.sin(x[1] * y) + x[0] * x[1] * y


def g_scalar_sym(y):
    return x0 * y ** 3 + sp.sin(x1 * y) + x0 * x1 * y


def g_vec(x, y):         # R^2 -> R
    return x[0] * y[0] ** 2 * y[1] + np.sin(x[1] * y[0]) + x[0] * x[1] * y[1] ** 3


def g_vec_sym(y):
    return x0 * y[0] ** 2 * y[1] + sp.sin(x1 * y[0]) + x0 * x1 * y[1] ** 3


def G_vec(x, y):         # R^2 -> R^2
    return np.stack([x[0] * y[0] * y[1], np.sin(x[1] * y[0]) + y[1] ** 2 * x[0]])


def G_vec_sym(y):
    return [x0 * y[0] * y[1], sp.sin(x1 * y[0]) + y[1] ** 2 * x0]


Y = [y0, y1]


def _hvp_sym(vsym):
    H = sp.hessian(g_vec_sym(Y), Y)
    return list(H * sp.Matrix(vsym))


# inner helper name -> (call(engine, x) -> numbers of the outer engine, sympy list)
def _inner_calls():
    subs_v = {y0: YV[0], y1: YV[1]}
    subs_s = {ys: YS}
    cases = {
        "derivative": (
            lambda E, x: E.derivative(lambda y: g_scalar(x, y), YS),
            [sp.diff(g_scalar_sym(ys), ys).subs(subs_s)]),
        "second_derivative": (
            lambda E, x: E.second_derivative(lambda y: g_scalar(x, y), YS),
            [sp.diff(g_scalar_sym(ys), ys, 2).subs(subs_s)]),
        "gradient": (
            lambda E, x: E.gradient(lambda y: g_vec(x, y), YV),
            [sp.diff(g_vec_sym(Y), v).subs(subs_v) for v in Y]),
        "value_and_gradient": (
            lambda E, x: _vg(E.value_and_gradient(lambda y: g_vec(x, y), YV)),
            [g_vec_sym(Y).subs(subs_v)] + [sp.diff(g_vec_sym(Y), v).subs(subs_v) for v in Y]),
        "jacobian": (
            lambda E, x: E.jacobian(lambda y: G_vec(x, y), YV),
            [sp.diff(c, v).subs(subs_v) for c in G_vec_sym(Y) for v in Y]),
        "hessian": (
            lambda E, x: E.hessian(lambda y: g_vec(x, y), YV),
            [sp.diff(g_vec_sym(Y), a, b).subs(subs_v) for a in Y for b in Y]),
        "hvp": (
            lambda E, x: E.hvp(lambda y: g_vec(x, y), YV, V),
            [e.subs(subs_v) for e in _hvp_sym(list(V))]),
        "jvp": (
            lambda E, x: _vg(E.jvp(lambda y: G_vec(x, y), YV, V)),
            [c.subs(subs_v) for c in G_vec_sym(Y)]
            + [sum(sp.diff(c, v) * w for v, w in zip(Y, V)).subs(subs_v) for c in G_vec_sym(Y)]),
        "vjp": (
            lambda E, x: _vg(E.vjp(lambda y: G_vec(x, y), YV, U)),
            [c.subs(subs_v) for c in G_vec_sym(Y)]
            + [sum(sp.diff(c, v) * w for c, w in zip(G_vec_sym(Y), U)).subs(subs_v)
               for v in Y]),
        # v depends on the outer variable too
        "hvp_v_outer": (
            lambda E, x: E.hvp(lambda y: g_vec(x, y), YV, x * np.array([1.0, 2.0])),
            [e.subs(subs_v) for e in _hvp_sym([x0, 2 * x1])]),
        "hvp_ror": (
            lambda E, x: (E.hvp(lambda y: g_vec(x, y), YV, V, mode="reverse-over-reverse")
                          if E is reverse else E.hvp(lambda y: g_vec(x, y), YV, V)),
            [e.subs(subs_v) for e in _hvp_sym(list(V))]),
        # derivatives of any order (Taylor mode in hyperdual; in reverse, or inside a
        # reverse trace, recorded backward passes)
        "derivatives": (
            lambda E, x: E.derivatives(lambda y: g_scalar(x, y), YS, 3),
            [sp.diff(g_scalar_sym(ys), ys, k).subs(subs_s) for k in range(4)]),
        "taylor": (
            lambda E, x: E.taylor(lambda y: g_scalar(x, y), YS, 3),
            [sp.diff(g_scalar_sym(ys), ys, k).subs(subs_s) / sp.factorial(k)
             for k in range(4)]),
        "nth_derivative": (
            lambda E, x: E.nth_derivative(lambda y: g_scalar(x, y), YS, 4),
            [sp.diff(g_scalar_sym(ys), ys, 4).subs(subs_s)]),
        "directional_derivatives": (
            lambda E, x: E.directional_derivatives(lambda y: g_vec(x, y), YV, V, 3),
            [sp.diff(g_vec_sym([YV[0] + t * V[0], YV[1] + t * V[1]]), t, k).subs(t, 0)
             for k in range(4)]),
        "directional_derivatives_v_outer": (
            lambda E, x: E.directional_derivatives(lambda y: g_vec(x, y), YV,
                                                   x * np.array([1.0, 2.0]), 2),
            [sp.diff(g_vec_sym([YV[0] + t * x0, YV[1] + 2 * t * x1]), t, k).subs(t, 0)
             for k in range(3)]),
        "derivative_tensor": (
            lambda E, x: E.derivative_tensor(lambda y: g_vec(x, y), YV, 3),
            [sp.diff(g_vec_sym(Y), a, b, c).subs(subs_v) for a in Y for b in Y for c in Y]),
    }
    return cases


def _vg(pair):
    value, grad = pair
    return np.concatenate([np.reshape(value * np.ones(1), (-1,)), np.reshape(grad, (-1,))])


INNER = _inner_calls()
WEIGHTS = (1.0, -0.7, 0.4, 1.3, 0.9, -1.1, 0.6, -0.8)


def _reduce(r):
    """A scalar of the outer engine from the inner result (weights break symmetry)."""
    flat = np.reshape(r, (-1,))
    w = np.array(WEIGHTS[: flat.shape[0]])
    return np.sum(flat * w)


def _reduce_sym(exprs):
    return sum(e * w for e, w in zip(exprs, WEIGHTS))


@functools.cache
def _truth(inner: str, outer: str):
    F = sp.simplify(_reduce_sym(INNER[inner][1]) * (x0 + 2 * x1))
    if outer in ("derivative", "second_derivative", "nth_derivative"):
        Fs = F.subs({x0: t, x1: 2 * t})
        order = {"derivative": 1, "second_derivative": 2, "nth_derivative": 3}[outer]
        return float(sp.diff(Fs, t, order).subs(t, XS))
    if outer == "directional_derivatives":
        Fs = F.subs({x0: X[0] + t * V[0], x1: X[1] + t * V[1]})
        return np.array([float(sp.diff(Fs, t, k).subs(t, 0)) for k in range(3)])
    subs = {x0: X[0], x1: X[1]}
    if outer == "gradient":
        return np.array([float(sp.diff(F, v).subs(subs)) for v in (x0, x1)])
    if outer == "value_and_gradient":
        return (float(F.subs(subs)),
                np.array([float(sp.diff(F, v).subs(subs)) for v in (x0, x1)]))
    if outer == "hessian":
        return np.array([[float(sp.diff(F, a, b).subs(subs)) for b in (x0, x1)]
                         for a in (x0, x1)])
    if outer == "hvp":
        H = np.array([[float(sp.diff(F, a, b).subs(subs)) for b in (x0, x1)] for a in (x0, x1)])
        return H @ V
    if outer == "jvp":
        return (float(F.subs(subs)),
                sum(float(sp.diff(F, v).subs(subs)) * w for v, w in zip((x0, x1), V)))
    if outer == "vjp":
        return (float(F.subs(subs)),
                np.array([1.5 * float(sp.diff(F, v).subs(subs)) for v in (x0, x1)]))
    if outer == "jacobian":  # of x -> [F, x0 * F]
        row = np.array([float(sp.diff(F, v).subs(subs)) for v in (x0, x1)])
        row2 = np.array([float(sp.diff(x0 * F, v).subs(subs)) for v in (x0, x1)])
        return np.stack([row, row2])
    raise AssertionError(outer)


def _outer(O, outer: str, inner_call, I):
    def F(x):
        return _reduce(inner_call(I, x)) * (x[0] + 2 * x[1])

    if outer in ("derivative", "second_derivative"):
        return getattr(O, outer)(lambda s: F(np.stack([s, 2 * s]) if not np.isscalar(s)
                                             else _pair(s)), XS)
    if outer == "nth_derivative":
        return O.nth_derivative(lambda s: F(np.stack([s, 2 * s])), XS, 3)
    if outer == "directional_derivatives":
        return O.directional_derivatives(F, X, V, 2)
    if outer == "jacobian":
        return O.jacobian(lambda x: np.stack([F(x), x[0] * F(x)]), X)
    if outer == "hvp":
        return O.hvp(F, X, V)
    if outer == "jvp":
        return O.jvp(F, X, V)
    if outer == "vjp":
        return O.vjp(F, X, 1.5)
    return getattr(O, outer)(F, X)


def _pair(s):
    return np.stack([s, 2 * s])


OUTER = ["derivative", "second_derivative", "gradient", "value_and_gradient", "jacobian",
         "hessian", "hvp", "jvp", "vjp", "nth_derivative", "directional_derivatives"]


@pytest.mark.parametrize("outer_engine", ENGINES)
@pytest.mark.parametrize("inner_engine", ENGINES)
@pytest.mark.parametrize("inner", list(INNER))
@pytest.mark.parametrize("outer", OUTER)
def test_helper_inside_helper(outer_engine, inner_engine, inner, outer):
    O, I = ENGINES[outer_engine], ENGINES[inner_engine]
    got = _outer(O, outer, INNER[inner][0], I)
    want = _truth(inner, outer)
    if outer in ("value_and_gradient", "jvp", "vjp"):
        assert isinstance(got[0], float)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        got, want = got[1], want[1]
    assert isinstance(got, (float, np.ndarray)), type(got)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("outer_engine", ENGINES)
@pytest.mark.parametrize("inner_engine", ENGINES)
def test_design_checks(outer_engine, inner_engine):
    """DESIGN.md: d/dx[x · d/dy(x + y)] = 1 and d/dx[x · d/dy(x·y)] = 2x."""
    O, I = ENGINES[outer_engine], ENGINES[inner_engine]
    assert O.derivative(lambda x: x * I.derivative(lambda y: x + y, 3.0), 2.0) == 1.0
    assert O.derivative(lambda x: x * I.derivative(lambda y: x * y, 3.0), 2.0) == 4.0
    # three levels deep: d/dx [x * d/dy [y * d/dz (x*y*z)]] = d/dx [x * 2xy] at y=3 -> 4x*3
    got = O.derivative(lambda x: x * I.derivative(
        lambda y: y * O.derivative(lambda z: x * y * z, 5.0), 3.0), 2.0)
    assert got == pytest.approx(4 * 2.0 * 3.0, rel=1e-14)


_HESSIAN_CASES = [(o, i, inner, outer) for o in ENGINES for i in ENGINES for inner in INNER
                  for outer in OUTER if "hessian" in (inner, outer)]


@pytest.mark.parametrize("outer_engine, inner_engine, inner, outer", _HESSIAN_CASES)
def test_hessian_sparse_route_inside_and_around_helpers(outer_engine, inner_engine, inner,
                                                        outer, monkeypatch):
    """The same matrix with hyperdual.hessian taking its sparse route at any size
    (detection, colouring, compressed HyperDual pass): closures over an outer
    variable of either engine must give the dense stacks' answers."""
    import hyperdual.sparse as hs

    monkeypatch.setattr(hs, "_ROUTE_MIN_N", 1)
    monkeypatch.setattr(hs, "_ROUTE_MAX_FILL", 1.0)
    taken = []
    route = hs._dense_hessian_by_colours
    monkeypatch.setattr(hs, "_dense_hessian_by_colours",
                        lambda *a: taken.append(1) or route(*a))
    test_helper_inside_helper(outer_engine, inner_engine, inner, outer)
    if ("hessian", "hyperdual") in ((inner, inner_engine), (outer, outer_engine)):
        assert taken  # hyperdual.hessian was called at a plain point
