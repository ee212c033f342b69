"""Numerical conventions at non-differentiable and singular points: ONE table.

Both engines are tested against it (value, f', f'' and whether numpy's
RuntimeWarning is expected).  f' and f'' are numpy's derivative formula
evaluated at the point (so ``sqrt'(0) = 0.5/sqrt(0) = inf``); where a tangent
is exactly zero, inf/NaN coefficients do not leak into it (NaN-safe forward
mode: the other directions of a gradient stay exact).
"""

import itertools
import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
import reverse.functions as RF
from tests._tolerance import assert_close_ulps

EPS = np.finfo(float).eps

INF, NAN = np.inf, np.nan

# (name, f, point, value, f'(point), f''(point), RuntimeWarning expected?)
CONVENTIONS = [
    ("abs", np.abs, 0.0, 0.0, 0.0, 0.0, False),
    ("sign", np.sign, 0.0, 0.0, 0.0, 0.0, False),
    ("relu", "relu", 0.0, 0.0, 0.0, 0.0, False),
    ("sqrt", np.sqrt, 0.0, 0.0, INF, -INF, True),
    ("sqrt(<0)", np.sqrt, -1.0, NAN, NAN, NAN, True),
    ("log", np.log, 0.0, -INF, INF, -INF, True),
    ("log(<0)", np.log, -1.0, NAN, -1.0, -1.0, True),
    ("reciprocal", lambda x: 1.0 / x, 0.0, INF, -INF, INF, True),
    ("x**0", lambda x: x ** 0, 0.0, 1.0, 0.0, 0.0, False),
    ("x**1", lambda x: x ** 1, 0.0, 0.0, 1.0, 0.0, False),
    ("x**2", lambda x: x ** 2, 0.0, 0.0, 0.0, 2.0, False),
    ("x**0.5", lambda x: x ** 0.5, 0.0, 0.0, INF, -INF, True),
    ("cbrt", np.cbrt, 0.0, 0.0, INF, NAN, True),
    ("0**y at y=0", lambda y: 0.0 ** y, 0.0, 1.0, 0.0, 0.0, False),
    ("0**y at y=2", lambda y: 0.0 ** y, 2.0, 0.0, 0.0, 0.0, False),
    ("maximum tie", lambda x: np.maximum(x, 0.0), 0.0, 0.0, 0.5, 0.0, False),
    ("minimum tie", lambda x: np.minimum(x, 0.0), 0.0, 0.0, 0.5, 0.0, False),
    ("maximum(x, x)", lambda x: np.maximum(x, x), 1.0, 1.0, 1.0, 0.0, False),
    ("clip at a_min", lambda x: np.clip(x, 0.0, 1.0), 0.0, 0.0, 0.5, 0.0, False),
    ("clip at a_max", lambda x: np.clip(x, 0.0, 1.0), 1.0, 1.0, 0.5, 0.0, False),
    # lo == hi: constant in x, so 0 (minimum(maximum(x, lo), hi)'s two splits gave 0.25)
    ("clip with lo == hi == x", lambda x: np.clip(x, 1.0, 1.0), 1.0, 1.0, 0.0, 0.0, False),
    ("clip with lo == hi < x", lambda x: np.clip(x, 1.0, 1.0), 2.0, 1.0, 0.0, 0.0, False),
    ("arcsin(1)", np.arcsin, 1.0, np.pi / 2, INF, INF, True),
    ("arcsin(-1)", np.arcsin, -1.0, -np.pi / 2, INF, -INF, True),
    ("arccos(1)", np.arccos, 1.0, 0.0, -INF, -INF, True),
    ("arctanh(1)", np.arctanh, 1.0, INF, INF, INF, True),
]
IDS = [c[0] for c in CONVENTIONS]
ENGINES = ["hyperdual", "reverse"]


def _fn(f, engine):
    if f == "relu":
        # hyperdual has no relu: the usual spelling where(x > 0, x, 0)
        return RF.relu if engine == "reverse" else (lambda x: np.where(x > 0, x, 0.0))
    return f


def _value(f, x, engine):
    if engine == "hyperdual":
        return f(hd.Dual(x, 1.0)).real
    y = f(rv.Variable(x))
    return float(y.data)


def _same(a, b):
    a, b = float(a), float(b)
    return (np.isnan(a) and np.isnan(b)) or a == b


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name,f,x,value,d1,d2,warns", CONVENTIONS, ids=IDS)
def test_convention_table(engine, name, f, x, value, d1, d2, warns):
    m = hd if engine == "hyperdual" else rv
    fn = _fn(f, engine)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = (_value(fn, x, engine), m.derivative(fn, x), m.second_derivative(fn, x))
    assert all(_same(a, b) for a, b in zip(got, (value, d1, d2))), (name, engine, got)
    n_runtime = sum(issubclass(w.category, RuntimeWarning) for w in caught)
    assert (n_runtime > 0) == warns, (name, engine, [str(w.message) for w in caught])


@pytest.mark.parametrize("name,f,x,value,d1,d2,warns", CONVENTIONS, ids=IDS)
def test_table_values_are_numpys(name, f, x, value, d1, d2, warns):
    if f == "relu":
        f = lambda z: np.maximum(z, 0.0)  # noqa: E731
    with np.errstate(all="ignore"):
        assert _same(f(np.float64(x)), value)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name,f,x,value,d1,d2,warns", CONVENTIONS, ids=IDS)
def test_errstate_ignore_silences_everything(engine, name, f, x, value, d1, d2, warns):
    m = hd if engine == "hyperdual" else rv
    fn = _fn(f, engine)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="ignore"):
            m.derivative(fn, x)
            m.second_derivative(fn, x)


def test_errstate_divide_raise_for_log_zero():
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            np.log(hd.Dual(0.0, 1.0))
        with pytest.raises(FloatingPointError):
            np.log(hd.Dual(np.zeros(2), 1.0))
        with pytest.raises(FloatingPointError):
            np.log(rv.Variable(0.0))
        with pytest.raises(FloatingPointError):
            hd.derivative(np.log, 0.0)
        with pytest.raises(FloatingPointError):
            rv.derivative(np.log, 0.0)


@pytest.mark.parametrize("m", [hd, rv])
def test_nan_and_inf_propagate_as_numpy(m):
    x = np.array([np.nan, np.inf, -np.inf, 1.0, 0.0])
    for f in (np.sin, np.exp, np.tanh, lambda z: z * 2.0, lambda z: z + 1.0, np.arctan):
        with np.errstate(all="ignore"):
            value = f(x)
            got = (f(hd.Dual(x, 1.0)).real if m is hd
                   else f(rv.Variable(x)).data)
        np.testing.assert_array_equal(got, value)
    with np.errstate(all="ignore"):
        d = m.derivative(np.sin, x)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(d, np.cos(x))


@pytest.mark.parametrize("m", [hd, rv])
def test_singular_point_does_not_poison_other_directions(m):
    """sqrt'(0) = inf in x0's direction; x1's derivative stays exact (NaN-safe)."""
    def f(x):
        return np.sqrt(x[0]) + x[1] ** 2

    with np.errstate(all="ignore"):
        g = m.gradient(f, np.array([0.0, 1.0]))
    assert g[0] == np.inf and g[1] == 2.0


def _sqrt_jacobian(m):
    with np.errstate(all="ignore"):
        j = m.jacobian(lambda x: np.sqrt(x), np.array([0.0, 4.0]))
    assert j[0, 0] == np.inf and j[1, 1] == 0.25 and j[0, 1] == 0.0 and j[1, 0] == 0.0


def test_hyperdual_jacobian_at_singular_point_keeps_other_entries():
    _sqrt_jacobian(hd)


def test_reverse_jacobian_at_singular_point_keeps_other_entries():
    _sqrt_jacobian(rv)


def test_hyperdual_hessian_at_singular_point_keeps_other_entries():
    with np.errstate(all="ignore"):
        H = hd.hessian(lambda x: np.sum(np.sqrt(x)), np.array([0.0, 1.0]))
    np.testing.assert_array_equal(H, [[-np.inf, 0.0], [0.0, -0.25]])


def test_reverse_hessian_at_singular_point_keeps_other_entries():
    with np.errstate(all="ignore"):
        H = rv.hessian(lambda x: np.sum(np.sqrt(x)), np.array([0.0, 1.0]))
    np.testing.assert_array_equal(H, [[-np.inf, 0.0], [0.0, -0.25]])


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_reverse_hvp_at_singular_point_keeps_other_entries(mode):
    """H e1 of sum(sqrt(x)) at (0, 1) is (0, -1/4): x0's infinite curvature stays in x0."""
    with np.errstate(all="ignore"):
        hv = rv.hvp(lambda x: np.sum(np.sqrt(x)), np.array([0.0, 1.0]), np.array([0.0, 1.0]),
                    mode=mode)
    np.testing.assert_array_equal(hv, [0.0, -0.25])


@pytest.mark.parametrize("create_graph", [False, True])
def test_reverse_zero_cotangent_guard_on_both_backward_paths(create_graph):
    """A seed with a zero where sqrt'(0) = inf: that entry's gradient is 0, not nan."""
    from reverse import Variable

    x = Variable(np.array([0.0, 4.0]))
    with np.errstate(all="ignore"):
        y = np.sqrt(x) * 3.0
        y.grad = Variable(np.array([0.0, 1.0]))  # the seed: only y[1] matters
        y.backward(create_graph=create_graph)
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.75])


def test_reverse_genuine_nan_still_reported():
    """The guard reruns a pass that met NaN; a NaN the function itself makes stays."""
    with np.errstate(all="ignore"):
        g = rv.gradient(lambda x: np.sum(np.sqrt(x)), np.array([-1.0, 4.0]))
    assert np.isnan(g[0]) and g[1] == 0.25


# Both engines apply "zero (co)tangents stay zero" at different places of the chain
# rule; wherever f itself is finite they must still agree, infinities included.
_CROSS = {
    "x*x": lambda x: np.sum(x * x),
    "x**2": lambda x: np.sum(x ** 2),
    "products": lambda x: x[0] * x[1] + x[1] * x[2],
    "quotient": lambda x: x[0] / x[1] + x[2] * 2.0,
    "sqrt": lambda x: np.sum(np.sqrt(x)) + x[0] * x[2],
    "exp": lambda x: np.sum(np.exp(x)) * 1.0,
    "xlogx": lambda x: np.sum(np.log(x) * x),
    "x**3": lambda x: np.sum(x ** 3),
}
_CROSS_POINTS = [np.array(p) for p in itertools.product([0.0, 1.0, -2.0, np.inf], repeat=3)]


@pytest.mark.parametrize("name", sorted(_CROSS))
def test_engines_agree_at_singular_points_where_f_is_finite(name):
    f = _CROSS[name]
    checked = 0
    with np.errstate(all="ignore"):
        for x in _CROSS_POINTS:
            if not np.isfinite(f(x)):
                continue
            checked += 1
            np.testing.assert_allclose(hd.gradient(f, x), rv.gradient(f, x), rtol=1e-12,
                                       err_msg=f"gradient of {name} at {x}")
            np.testing.assert_allclose(hd.hessian(f, x), rv.hessian(f, x), rtol=1e-12,
                                       err_msg=f"Hessian of {name} at {x}")
    assert checked > 0


_CROSS_VECTOR = {
    "sqrt": lambda x: np.sqrt(x),
    "sqrt-times": lambda x: np.sqrt(x) * x[0],
    "square-quotient": lambda x: x ** 2 / 4.0 + x * x[1],
    "reciprocal-sum": lambda x: 1.0 / (1.0 + x * x),
}


@pytest.mark.parametrize("name", sorted(_CROSS_VECTOR))
def test_engines_never_disagree_on_a_number_in_jacobians(name):
    """Jacobian rows seed zero cotangents, which reverse mode keeps zero; forward
    mode keeps zero tangents and the term of a zero factor with a finite tangent
    (d/dx1 of x0 * sqrt(x1) at x0 = x1 = 0 is 0 in both).  An entry may still be
    nan in forward mode only, next to an infinite operand (1 / (1 + x * x) at
    x = inf: the tangent of x * x is inf * 1 + inf * 1, then times the derivative 0
    of the reciprocal there); every other entry must agree."""
    f = _CROSS_VECTOR[name]
    checked = 0
    with np.errstate(all="ignore"):
        for x in _CROSS_POINTS:
            if not np.all(np.isfinite(f(x))):
                continue
            checked += 1
            jf, jr = hd.jacobian(f, x), rv.jacobian(f, x)
            assert not np.any(np.isnan(jr) & ~np.isnan(jf)), f"{name} at {x}"
            if np.all(np.isfinite(x)):
                np.testing.assert_array_equal(np.isnan(jf), np.isnan(jr), err_msg=f"{name} at {x}")
            both = ~np.isnan(jf)
            np.testing.assert_allclose(jf[both], jr[both], rtol=1e-12,
                                       err_msg=f"Jacobian of {name} at {x}")
    assert checked > 0


def test_zero_factor_with_finite_derivative_times_infinite_one():
    """a * b with a = 0, a' finite, b finite and b' infinite: (ab)' = a' b exactly
    (a(x+h) b(x+h) = (a'h + o(h)) (b + o(1))), so the a b' term is 0, not 0 * inf.
    Truths by hand: x0 sqrt(x1) has gradient (sqrt(x1), x0 / (2 sqrt(x1))) -> (0, 0)
    along x0 = 0 (f is 0 on that line); sin(x) sqrt(x) = x**1.5 + O(x**3.5) has
    f'(0) = 0 and f''(0) = +inf; x**3 sqrt(x) = x**3.5 has f'(0) = f''(0) = 0;
    (0 * x) sqrt(x) is 0.  sqrt(x) * sqrt(x) is left nan in forward mode: a' is inf
    there and the chain rule does not decide 0 * inf (reverse mode's zero cotangent
    gives 0, the README's list)."""
    z = np.zeros(2)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for m in (hd, rv):
            f = lambda x: x[0] * np.sqrt(x[1])  # noqa: E731
            np.testing.assert_array_equal(m.gradient(f, z), [0.0, 0.0], err_msg=m.__name__)
            np.testing.assert_array_equal(m.jacobian(lambda x: x * np.sqrt(x[::-1]), z),
                                          np.zeros((2, 2)), err_msg=m.__name__)
            np.testing.assert_array_equal(m.gradient(lambda x: np.sum(x[:2] * np.sqrt(x[2:])),
                                                     np.zeros(4)), np.zeros(4))
            for g, d1, d2 in ((lambda t: np.sin(t) * np.sqrt(t), 0.0, np.inf),
                              (lambda t: t ** 3 * np.sqrt(t), 0.0, 0.0),
                              (lambda t: (0.0 * t) * np.sqrt(t), 0.0, 0.0),
                              (lambda t: np.sqrt(t) * np.sin(t), 0.0, np.inf)):
                assert m.derivative(g, 0.0) == d1, m.__name__
                assert hd.second_derivative(g, 0.0) == d2
        # hyperdual's Hessian of x0 sqrt(x1) at 0: d2/dx1^2 is 0 along x0 = 0 (f = 0 there)
        H = hd.hessian(lambda x: x[0] * np.sqrt(x[1]), z)
        np.testing.assert_array_equal(H, [[0.0, np.inf], [np.inf, 0.0]])
        assert np.isnan(hd.derivative(lambda t: np.sqrt(t) * np.sqrt(t), 0.0))
        # Taylor numbers, any order: t**1.5 has derivatives 0, 0, +inf, -inf at 0
        # (1.5 t**0.5, 0.75 t**-0.5, -0.375 t**-1.5), x**3.5 all 0 up to the third
        inf = np.inf
        for g in (lambda t: t * np.sqrt(t), lambda t: np.sqrt(t) * t,
                  lambda t: np.sin(t) * np.sqrt(t), lambda t: np.sum(np.ones(2) * t * np.sqrt(t))):
            np.testing.assert_array_equal(hd.derivatives(g, 0.0, order=3), [0.0, 0.0, inf, -inf])
        np.testing.assert_array_equal(hd.derivatives(lambda t: t ** 3 * np.sqrt(t), 0.0, order=3),
                                      np.zeros(4))
        f = lambda x: x[0] * np.sqrt(x[1])  # noqa: E731
        np.testing.assert_array_equal(hd.directional_derivatives(f, z, np.array([0.0, 1.0]), 3),
                                      np.zeros(4))  # f = 0 along x0 = 0
        np.testing.assert_array_equal(hd.directional_derivatives(f, z, np.array([1.0, 1.0]), 3),
                                      [0.0, 0.0, inf, -inf])  # f = t**1.5 along (1, 1)
        # away from the special point the rule changes nothing: sin(x) sqrt(x) at 0.3
        t = 0.3
        want = np.cos(t) * np.sqrt(t) + np.sin(t) / (2 * np.sqrt(t))
        np.testing.assert_allclose(hd.derivative(lambda t: np.sin(t) * np.sqrt(t), t), want,
                                   rtol=8 * np.finfo(float).eps)


def test_computed_zeros_at_singular_points_as_the_readme_says():
    """The README's list: a kept zero may be a computed one (x**3 has tangent 0 at 0),
    so either engine may give 0 where the limit is another number, and the engines then
    differ.  These are the documented numbers, not the truth (1 for the first two): a
    change here must change the README too."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        cases = {  # f, point, (forward, reverse)
            # forward: the audit's probe shows the zero tangent of x**3 is computed
            "cbrt(x**3)": (lambda x: np.cbrt(x ** 3), 0.0, (NAN, NAN)),
            # reverse: the audit of the kept zero (reverse._audit) finds the cotangent
            # 2 sqrt(x) computed (its derivative is inf): nan, no longer a silent 0
            "sqrt(x)**2": (lambda x: np.sqrt(x) ** 2, 0.0, (NAN, NAN)),
        }
        for name, (f, x, (fwd, rev)) in cases.items():
            assert _same(hd.derivative(f, x), fwd), name
            assert _same(rv.derivative(f, x), rev), name
        v = np.zeros(3)
        # no gradient there (the directional derivatives are |d|): nan in both now
        # (forward mode's 0 was a kept computed zero: the tangent 2 v of v * v)
        assert np.all(np.isnan(hd.gradient(lambda v: np.sqrt(np.sum(v * v)), v)))
        assert np.all(np.isnan(rv.gradient(lambda v: np.sqrt(np.sum(v * v)), v)))
        for m in (hd, rv):
            np.testing.assert_array_equal(m.gradient(np.linalg.norm, v), 0.0)


# --- issue 12, section 5: one convention, both engines (each a documented number) -----
def _both(fn):
    return fn(hd), fn(rv)


def test_max_min_reductions_share_ties_equally_in_both_engines_every_order():
    x = np.array([1.0, 3.0, 3.0, 3.0])
    for red, want in ((np.max, [0.0, 1 / 3, 1 / 3, 1 / 3]), (np.min, [1.0, 0.0, 0.0, 0.0])):
        for g in _both(lambda m, red=red: m.gradient(red, x)):
            assert_close_ulps(g, want)
    f = lambda v: np.max(v * v, axis=1).sum()  # noqa: E731
    X = np.array([[1.0, -1.0], [2.0, 0.5]]).ravel()
    f2 = lambda v: f(v.reshape(2, 2))  # noqa: E731
    hh, hr = _both(lambda m: m.hessian(f2, X))
    assert_close_ulps(hh, hr)
    assert_close_ulps(hh, np.diag([1.0, 1.0, 2.0, 0.0]))
    # a HyperDual with direction stacks (hd.hessian) and the elementwise split
    for g in _both(lambda m: m.gradient(lambda v: np.maximum(v[0], v[1]), np.ones(2))):
        np.testing.assert_array_equal(g, [0.5, 0.5])


TIE_FUNCTIONS = {
    "max**2": lambda v: np.max(v) ** 2,
    "min(v*v)": lambda v: np.min(v * v) * v[1],
    "max over axis 0": lambda v: np.sum(np.max(v.reshape(2, 2), axis=0) ** 3),
    "max over a tuple of axes": lambda v: np.sin(np.max(v.reshape(2, 1, 2), axis=(0, 2))[0]),
    "min keepdims": lambda v: np.sum(np.amin(v.reshape(2, 2), axis=1, keepdims=True) * v),
    "inf-norm": lambda v: np.linalg.norm(v, np.inf) ** 2,
    "ptp": lambda v: np.ptp(v) ** 2 + v[0] * np.ptp(v),
}


@pytest.mark.parametrize("name", sorted(TIE_FUNCTIONS))
@pytest.mark.parametrize("point", [[1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 0.0, 2.0],
                                   [0.5, 0.5, -0.25, 1.5], [0.3, -1.2, 0.7, 2.1]])
def test_taylor_mode_shares_max_min_ties_as_dual_and_reverse(name, point):
    """Taylor numbers (derivative_tensor/derivatives of both engines) share every
    coefficient equally among tied extremes, as Dual/HyperDual and reverse do: they gave
    the first argmax everything (derivative_tensor(max(v)**2, ones, 1) was [2, 0, 0, 0],
    the gradient [0.5, 0.5, 0.5, 0.5]), and a tuple axis raised TypeError."""
    f, p = TIE_FUNCTIONS[name], np.array(point)
    g, H = hd.gradient(f, p), hd.hessian(f, p)
    assert_close_ulps(rv.gradient(f, p), g)
    T3 = hd.jacobian(lambda v: hd.hessian(f, v), p)
    for m in (hd, rv):
        np.testing.assert_allclose(m.derivative_tensor(f, p, 1), g, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(m.derivative_tensor(f, p, 2), H, rtol=1e-14, atol=1e-14)
        np.testing.assert_allclose(m.derivative_tensor(f, p, 3), T3, rtol=1e-13, atol=1e-13)
        v = np.array([0.3, -0.5, 0.7, 1.1])
        d = m.directional_derivatives(f, p, v, 2)
        np.testing.assert_allclose(d[1:], [g @ v, v @ H @ v], rtol=1e-14, atol=1e-14)


def test_power_at_zero_base_symmetric_hessian_same_in_both_engines():
    """x**y: log x is taken as 0 at x = 0 in every y-derivative (JAX's d/dy, extended)."""
    f = lambda v: v[0] ** v[1]  # noqa: E731
    want = {(0.0, 0.0): [[0.0, np.inf], [np.inf, 0.0]], (0.0, 1.0): [[0.0, 1.0], [1.0, 0.0]],
            (0.0, 2.0): [[2.0, 0.0], [0.0, 0.0]]}
    with np.errstate(all="ignore"):
        for p, H in want.items():
            for got in _both(lambda m, p=p: m.hessian(f, np.array(p))):
                np.testing.assert_array_equal(got, H)
            for got in _both(lambda m, p=p: m.gradient(f, np.array(p))):
                np.testing.assert_array_equal(got, [p[1] if p[1] == 1.0 else 0.0, 0.0])


@pytest.mark.parametrize("y0", [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, -1.0])
def test_power_at_zero_base_taylor_follows_the_convention(y0):
    """Taylor numbers follow the same convention at every order (exp(y log x) gave nan
    at x = 0): derivative_tensor of orders 2 and 3 (each entry from Taylor passes
    along directions moving both operands) equals the nested Dual partials entry by
    entry, infinities included, and the Hessian equals hessian's in both engines.
    Along x = 2t, y = 1 + 3t (non-analytic: t log t) the coefficients are 2 and
    2 * 3 by the Hessian [[0, 1], [1, 0]]."""
    from hyperdual.helpers import jvp
    from hyperdual.taylor_helpers import nested_partial

    f = lambda v: v[0] ** v[1]  # noqa: E731
    p = np.array([0.0, y0])
    with np.errstate(all="ignore"):
        for got in _both(lambda m: m.hessian(f, p)):
            np.testing.assert_array_equal(hd.derivative_tensor(f, p, 2), got)
        for d in (2, 3):
            T = hd.derivative_tensor(f, p, d)
            for pos in itertools.product(range(2), repeat=d):
                want = float(nested_partial(f, p, tuple(sorted(pos)), jvp))
                # (finite entries: the interpolation's weights, rounded rationals, leave
                # a few ulps of the other directions' coefficients)
                assert T[pos] == want or abs(T[pos] - want) <= 8 * EPS * np.max(
                    np.abs(T[np.isfinite(T)]), initial=1.0), (y0, pos, T[pos], want)
        if y0 == 1.0:
            d = hd.derivatives(lambda t: (2 * t) ** (1 + 3 * t), 0.0, 2)
            np.testing.assert_array_equal(d, [0.0, 2.0, 12.0])


def test_gradient_of_a_shape_1_output_raises_in_both_engines():
    for m in (hd, rv):
        with pytest.raises(ValueError, match="jacobian"):
            m.gradient(lambda v: np.sum(v).reshape(1), np.ones(2))


@pytest.mark.parametrize("helper", ["hessian", "hvp", "hvp_ror", "value_and_gradient"])
def test_scalar_helpers_refuse_a_shape_1_output_in_both_engines(helper):
    x = np.ones(2)
    calls = {
        "hessian": lambda m, f: m.hessian(f, x),
        "hvp": lambda m, f: m.hvp(f, x, x),
        "hvp_ror": lambda m, f: (m.hvp(f, x, x, mode="reverse-over-reverse") if m is rv
                                 else m.hvp(f, x, x)),
        "value_and_gradient": lambda m, f: m.value_and_gradient(f, x),
    }
    for m in (hd, rv):
        for shape in ((1,), (1, 1)):
            with pytest.raises(ValueError, match="jacobian"):
                calls[helper](m, lambda v, s=shape: np.sum(v ** 2).reshape(s))


@pytest.mark.parametrize("shape", [(1,), (1, 1), ()])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_vjp_and_jvp_values_keep_a_shape_1_output(shape, dtype):
    """f(x) of shape (1,) is returned as numpy gives it, not as a float (redteam17a:
    reverse's vjp, jvp and linearize turned every one-element value into a float)."""
    x = np.array([1.0, 2.0], dtype=dtype)
    f = lambda v: np.sum(v ** 2).reshape(shape)  # noqa: E731
    u = np.full(shape, 1.5, dtype=dtype)
    want_value = f(x)
    for m in (hd, rv):
        value, g = m.vjp(f, x, u)
        assert np.shape(value) == shape and np.result_type(value) == dtype, m.__name__
        np.testing.assert_array_equal(value, want_value)
        np.testing.assert_array_equal(g, 3.0 * x)  # 1.5 * 2 x, exact
        value, t = m.jvp(f, x, np.ones(2, dtype=dtype))
        assert np.shape(value) == shape and np.shape(t) == shape, m.__name__
        np.testing.assert_array_equal(t, np.full(shape, 6.0))
    value, fn = rv.linearize(f, x)
    assert np.shape(value) == shape


@pytest.mark.parametrize("f", [np.max, lambda v: np.sum(np.clip(v, 0.0, 1.5))],
                         ids=["max", "clip"])
def test_float32_through_max_and_clip_stays_float32(f):
    x = np.array([1.0, 2.0], dtype=np.float32)
    for m in (hd, rv):
        v, g = m.value_and_gradient(f, x)
        assert np.asarray(v).dtype == np.float32 and g.dtype == np.float32, m.__name__


def test_norm_of_a_zero_vector_gradient_zero_in_both_engines():
    """JAX's safe norm: gradient (and Hessian) 0 at the zero vector, never nan."""
    for m in (hd, rv):
        np.testing.assert_array_equal(m.gradient(np.linalg.norm, np.zeros(3)), np.zeros(3))
        np.testing.assert_array_equal(m.hessian(np.linalg.norm, np.zeros(2)), np.zeros((2, 2)))
        J = m.jacobian(lambda v: np.linalg.norm(v.reshape(2, 2), axis=1),
                       np.array([0.0, 0.0, 3.0, 4.0]))
        assert_close_ulps(J, [[0, 0, 0, 0], [0, 0, 0.6, 0.8]])


VECTOR_ORDS = [None, 1, 2, 3, 1.5, 0.5, np.inf, -np.inf, -0.5, -1, -2, 0]
MATRIX_ORDS = [None, "fro", "nuc", 1, 2, np.inf, -1, -2, -np.inf]


@pytest.mark.parametrize("ord_", VECTOR_ORDS, ids=str)
def test_norm_of_a_zero_vector_every_ord_gradient_zero(ord_):
    """The safe-norm convention for every ord (redteam17a): ord=3 gave nan in both
    engines, ord=0.5, -1, -2 nan in hyperdual and 0 in reverse."""
    f = lambda v: np.linalg.norm(v, ord_)  # noqa: E731
    rows = lambda v: np.linalg.norm(v.reshape(2, 3), ord_, axis=1)  # noqa: E731
    keep = lambda v: np.sum(np.linalg.norm(v.reshape(3, 2), ord_, axis=0,  # noqa: E731
                                           keepdims=True) * np.array([[1.0, -2.0]]))
    x = np.array([0.0, 0.0, 0.0, 0.5, 1.0, -2.0])
    for m in (hd, rv):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            np.testing.assert_array_equal(m.gradient(f, np.zeros(3)), np.zeros(3))
            np.testing.assert_array_equal(m.hessian(f, np.zeros(2)), np.zeros((2, 2)))
            J = m.jacobian(rows, x)
            np.testing.assert_array_equal(J[0], np.zeros(6))
            # the other row is the norm's derivative there (central differences)
            num = rv.numerical_grad(lambda v: rows(v)[1], x)
            np.testing.assert_allclose(J[1], num, rtol=1e-7, atol=1e-9)
            assert np.all(np.isfinite(m.gradient(keep, np.zeros(6))))
            for dt in (np.float32,):
                g = m.gradient(f, np.zeros(3, dtype=dt))
                assert g.dtype == dt and np.all(g == 0)


@pytest.mark.parametrize("ord_", MATRIX_ORDS, ids=str)
@pytest.mark.parametrize("shape", [(3, 3), (2, 3), (3, 2)])
def test_norm_of_a_zero_matrix_every_ord_gradient_zero(ord_, shape):
    """A zero matrix's norm is the constant 0 in both engines, for every ord
    (redteam17a): the spectral and nuclear norms went through the singular vectors
    of the zero matrix, which are arbitrary: hyperdual gave I / 6 for ord=2 of a
    3 x 3 one, I / 2 for ord=-2 of a 2 x 3, reverse raised DegenerateDerivativeError
    for a non-square one."""
    f = lambda a: np.linalg.norm(a, ord_)  # noqa: E731
    for m in (hd, rv):
        np.testing.assert_array_equal(m.gradient(f, np.zeros(shape)), np.zeros(shape))
        np.testing.assert_array_equal(m.hessian(f, np.zeros(shape)),
                                      np.zeros(shape + shape))
    # a stack with one zero matrix: that one is 0, the other the derivative
    # (central differences of numpy's norm)
    a = np.zeros((2,) + shape)
    a[1] = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape) ** 1.5
    stack = lambda b: np.linalg.norm(b, ord_, axis=(2, 1), keepdims=True)  # noqa: E731
    num = rv.numerical_grad(lambda b: stack(b)[1, 0, 0], a)
    for m in (hd, rv):
        J = np.asarray(m.jacobian(stack, a))
        assert J.shape == (2, 1, 1) + a.shape
        np.testing.assert_array_equal(J[0, 0, 0], 0.0)
        np.testing.assert_allclose(J[1, 0, 0], num, rtol=1e-7, atol=1e-9)




def _float_power_helpers(m):
    f = lambda v: np.float_power(v, 2.5)  # noqa: E731 - numpy returns float64 here
    s = lambda v: np.sum(np.float_power(v, v))  # noqa: E731
    x = np.array([1.5, 2.0], dtype=np.float32)
    u = np.array([1.0, -0.5], dtype=np.float32)
    out = {"gradient": m.gradient(s, x), "jacobian": m.jacobian(f, x),
           "hessian": m.hessian(s, x), "hvp": m.hvp(s, x, u),
           "jvp": m.jvp(f, x, u)[1], "vjp": m.vjp(f, x, u)[1],
           "value_and_gradient": m.value_and_gradient(s, x)[1],
           "derivative": m.derivative(f, np.float32(1.5)),
           "second_derivative": m.second_derivative(f, np.float32(1.5))}
    if m is rv:
        out["hvp[reverse-over-reverse]"] = m.hvp(s, x, u, mode="reverse-over-reverse")
    else:
        d = hd.Dual(x, np.ones(2, dtype=np.float32))
        out["Dual parts"] = np.float_power(d, 2.5).dual
    return out


def test_float32_through_float_power_in_both_engines():
    """np.float_power returns float64 for float32 input.  A Dual's parts follow its
    value (float64: hyperdual gave float32 tangents), jvp's tangent is f's (float64,
    JAX's jvp), and every derivative with respect to the float32 x is float32 in both
    engines (JAX's grad/jacobian/hessian/vjp)."""
    x = np.array([1.5, 2.0], dtype=np.float32)
    assert np.float_power(x, 2.5).dtype == np.float64
    got = {m.__name__: _float_power_helpers(m) for m in (hd, rv)}
    for m, results in got.items():
        for name, r in results.items():
            want = np.float64 if name in ("jvp", "Dual parts") else np.float32
            assert np.result_type(r) == want, (m, name, np.result_type(r))
    for name, r in got["hyperdual"].items():
        if name in got["reverse"]:
            assert type(got["reverse"][name]) is type(r), name
            np.testing.assert_allclose(got["reverse"][name], r, rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("scale", [1e-300, 1e-170, 1e170, 1e300])
def test_norm_gradient_where_the_sum_of_squares_under_or_overflows(scale):
    """norm(x) = s norm(x / s) with a power of two s: x * x underflowed to 0 at 1e-300
    (gradient inf where the truth is x / norm(x)) and overflowed at 1e300 (reverse's
    Hessian nan); the gradient is finite and right in both engines."""
    p = np.array([3.0, -4.0, 0.0, 12.0]) * scale
    want = np.array([3.0, -4.0, 0.0, 12.0]) / 13.0
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for m in (hd, rv):
            # a sum of squares, a sqrt and a division: a few roundings (BLAS order varies)
            assert_close_ulps(m.gradient(np.linalg.norm, p), want, ulps=8)
            J = m.jacobian(lambda v: np.linalg.norm(v.reshape(2, 2), axis=1), p)
            assert_close_ulps(J[0, :2], want[:2] * 13 / 5, ulps=8)
        u = want
        # (I - u u^T) / norm(x), formed as (I - u u^T) / 13 / scale (13 * 1e-300 is fine,
        # the largest entry is 1e299): finite at every scale here
        H = (np.eye(4) - np.outer(u, u)) / 13.0 / scale
        assert np.all(np.isfinite(H))
        for m in (hd, rv):
            # I - u u^T cancels on the diagonal: errors scale with the largest entry
            # (hyperdual's Hessian was nan at 1e-300 and 0 at 1e300: (1/s)**2 left the range)
            for got in (m.hessian(np.linalg.norm, p),
                        np.stack([m.hvp(np.linalg.norm, p, e) for e in np.eye(4)])):
                err = np.abs(got - H)
                assert np.all(err <= 16 * np.spacing(np.max(np.abs(H)))), (m.__name__, err)


@pytest.mark.parametrize("m", [hd, rv])
def test_clip_with_equal_bounds_gives_the_bounds_half_each(m):
    """clip(x, lo, hi) with lo == hi is that bound for every x: x's derivative is 0 and
    the bounds share 0.5/0.5 (their sum is 1: clip(t, t, t) = t); lo > hi is hi."""
    def f(v):
        return np.clip(v[0], v[1], v[2])

    for p in ([1.0, 1.0, 1.0], [2.0, 1.0, 1.0], [0.0, 1.0, 1.0]):
        np.testing.assert_array_equal(m.gradient(f, np.array(p)), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(m.gradient(f, np.array([1.0, 2.0, 1.0])), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(m.hessian(f, np.array([1.0, 1.0, 1.0])), np.zeros((3, 3)))
    np.testing.assert_array_equal(m.derivative(lambda x: np.clip(x, [0.0, 1.0], 1.0),
                                               np.ones(2)), [0.5, 0.0])


_X3 = np.array([1.0, 2.0, 4.0])
_KEEP = np.array([True, True, False])
# (name, f, x, counted entries): var's divisor n - ddof <= 0, numpy's value inf (or nan
# where the deviations are 0, and always for nanvar/nanstd)
NO_DOF = [
    ("var ddof=n", lambda y: np.var(y, ddof=3), _X3, [True] * 3),
    ("var ddof=n+1", lambda y: np.var(y, ddof=4), _X3, [True] * 3),
    ("var ddof=n equal data", lambda y: np.var(y, ddof=3), np.ones(3), [True] * 3),
    ("std ddof=n", lambda y: np.std(y, ddof=3), _X3, [True] * 3),
    ("var correction=n", lambda y: np.var(y, correction=3), _X3, [True] * 3),
    ("var where ddof=2", lambda y: np.var(y, ddof=2, where=_KEEP), _X3, _KEEP),
    ("nanvar ddof=n", lambda y: np.nanvar(y, ddof=3), _X3, [True] * 3),
    ("nanstd ddof=n", lambda y: np.nanstd(y, ddof=3), _X3, [True] * 3),
    # one counted entry with ddof=1: its deviation from its own mean is 0 at every
    # order, so r's tangent was a constant 0 and the Hessian, second derivatives and
    # reverse's jvp came out 0 where the gradient was nan
    ("var one entry ddof=1", lambda y: np.var(y[1:2], ddof=1), _X3, [False, True, False]),
    ("var where one entry ddof=1", lambda y: np.var(y, ddof=1, where=[True, False, False]),
     _X3, [True, False, False]),
    ("std one entry ddof=1", lambda y: np.std(y[2:], ddof=1), _X3, [False, False, True]),
    ("var correction=1 one entry", lambda y: np.var(y[:1], correction=1), _X3,
     [True, False, False]),
    ("nanvar one entry ddof=1", lambda y: np.nanvar(
        np.where([False, True, False], y, np.nan), ddof=1), _X3, [False, True, False]),
    ("nanstd one entry ddof=1", lambda y: np.nanstd(
        np.where([True, False, False], y, np.nan), ddof=1), _X3, [True, False, False]),
    ("var axis keepdims one entry", lambda y: np.var(y.reshape(1, 3)[:, 2:], axis=1, ddof=1,
                                                     keepdims=True)[0, 0], _X3,
     [False, False, True]),
]


@pytest.mark.slow
@pytest.mark.parametrize("name,f,x,counted", NO_DOF, ids=[c[0] for c in NO_DOF])
def test_var_with_no_degrees_of_freedom_has_nan_derivatives_in_both_engines(
        name, f, x, counted):
    # numpy's value is inf or nan ("Degrees of freedom <= 0"): no derivative exists.
    # hyperdual gave +-inf (ss'/0), reverse nan (inf - inf through the centring), and
    # nanvar's constant nan derivative 0; now nan at every order in both engines, 0 for
    # the entries where= leaves out (the value does not depend on them)
    if "correction" in name and np.lib.NumpyVersion(np.__version__) < "2.0.0":
        pytest.skip("numpy < 2 has no correction= keyword")
    counted = np.asarray(counted)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        want_value = f(x)
        assert not np.isfinite(want_value)
        for m in (hd, rv):
            value_, grad = m.value_and_gradient(f, x)
            np.testing.assert_equal(value_, want_value)
            assert np.isnan(grad[counted]).all() and (grad[~counted] == 0).all(), (m, grad)
            H = m.hessian(f, x)
            assert np.isnan(H[np.ix_(counted, counted)]).all(), (m, H)
            assert (H[~counted] == 0).all() and (H[:, ~counted] == 0).all(), (m, H)
        for m in (hd, rv):
            d = m.directional_derivatives(f, x, counted.astype(float) * [1.0, -2.0, 0.5], 3)
            np.testing.assert_equal(d[0], want_value)
            assert np.isnan(d[1:]).all(), (m, d)
        first = np.flatnonzero(counted)[0]
        assert np.isnan(hd.nth_derivative(lambda t: f(x + t * np.eye(3)[first]), 0.0, 3)), name
        # along a counted entry: nan tangent and Hessian-vector product (at the counted
        # entries); along an entry the value does not count: 0
        hvps = {"hd.hvp": hd.hvp, "rv.hvp": rv.hvp,
                "rv.hvp(reverse)": lambda f, x, v: rv.hvp(f, x, v,
                                                          mode="reverse-over-reverse")}
        for k in range(3):
            v = np.eye(3)[k]
            for m in (hd, rv):
                tangent = m.jvp(f, x, v)[1]
                assert np.isnan(tangent) if counted[k] else tangent == 0, (m, k, tangent)
            for hname, hvp in hvps.items():
                hv = hvp(f, x, v)
                if counted[k]:
                    assert np.isnan(hv[counted]).all() and (hv[~counted] == 0).all(), (
                        hname, k, hv)
                else:
                    assert (hv == 0).all(), (hname, k, hv)


@pytest.mark.parametrize("m", [hd, rv])
def test_a_slice_with_no_degrees_of_freedom_leaves_its_neighbours_exact(m):
    # row 0 counts one entry with ddof=1 (nan), row 1 counts two: row 1's derivatives
    # are var's own (2 (x - mean) / (n - 1) and [[1, -1], [-1, 1]]), not nan from row 0
    # (reverse's 0 cotangent times a nan mark); row 0's gradient nan where it counts
    x = np.array([1.0, 2.0, 4.0, 7.0])
    keep = [[True, False], [True, True]]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for f in (lambda y: np.var(y.reshape(2, 2), axis=1, ddof=1, where=keep)[1],
                  lambda y: np.nanvar(np.where([True, False, True, True], y, np.nan)
                                      .reshape(2, 2), axis=1, ddof=1)[1]):
            np.testing.assert_array_equal(m.gradient(f, x), [0.0, 0.0, -3.0, 3.0])
            H = np.zeros((4, 4))
            H[2:, 2:] = [[1.0, -1.0], [-1.0, 1.0]]
            np.testing.assert_array_equal(m.hessian(f, x), H)
            # Hessian-vector products along row 1's entries: its column of H, exactly
            # (every mode of hvp; reverse's by both double backprop and forward over it)
            hvps = [m.hvp] + ([lambda f, x, v: rv.hvp(f, x, v, mode="reverse-over-reverse")]
                              if m is rv else [])
            for hvp in hvps:
                for k in (2, 3):
                    np.testing.assert_array_equal(hvp(f, x, np.eye(4)[k]), H[:, k])
        g = m.gradient(lambda y: np.std(y.reshape(2, 2), axis=1, ddof=1, where=keep)[0], x)
        assert np.isnan(g[0]) and (g[1:] == 0).all(), g
