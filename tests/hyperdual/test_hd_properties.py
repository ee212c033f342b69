"""Property tests: random compositions of table functions, Dual vs HyperDual vs
central differences; random broadcasting between parts of different shapes."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from scipy import special

import hyperdual as hd
from hyperdual import Dual, HyperDual

EPS = np.finfo(float).eps

# Functions defined on all of R with bounded growth on the inputs drawn below.
# Each goes through a different mix of entry points (numpy dispatch, hyperdual.<fn>,
# operators, scipy.special).
SAFE = {
    "sin": np.sin,
    "cos": hd.cos,
    "tanh": np.tanh,
    "arctan": hd.arctan,
    "exp_sin": lambda x: np.exp(np.sin(x)),
    "log_1px2": lambda x: np.log(1.0 + x * x),
    "sqrt_1px2": lambda x: hd.sqrt(1.0 + x ** 2),
    "square": lambda x: x * x,
    "rational": lambda x: x / (1.0 + x * x),
    "arcsinh": np.arcsinh,
    "erf": special.erf,
    "expit": special.expit,
    "hypot1": lambda x: np.hypot(x, 1.0),
    "exp2_cos": lambda x: 2.0 ** np.cos(x),
    "x_cos_x": lambda x: x * np.cos(x),
    "arctan2": lambda x: np.arctan2(x, 2.0),
    "cbrt_1px2": lambda x: np.cbrt(1.0 + x * x),
    "poly": lambda x: 0.5 * x ** 3 - x + 2.0,
    "log1p_x2": lambda x: hd.log1p(np.square(x)),
    "cosh_half": lambda x: np.cosh(0.5 * np.sin(x)),
    "arcsin_half_tanh": lambda x: np.arcsin(0.5 * np.tanh(x)),
    "sub_div": lambda x: (3.0 - x) / (2.0 + np.sin(x)),
}
NAMES = sorted(SAFE)

compositions = st.lists(st.sampled_from(NAMES), min_size=1, max_size=4)
points = st.floats(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)


def compose(names):
    def f(x):
        for n in names:
            x = SAFE[n](x)
        return x

    return f


def plain(f, x):
    return float(f(np.float64(x)))


@settings(max_examples=60, deadline=None)
@given(compositions, points)
def test_dual_equals_hyperdual_parts(names, x):
    f = compose(names)
    d = f(Dual(x, 1.0))
    z = f(HyperDual(x, 1.0, 1.0, 0.0))
    np.testing.assert_allclose(d.real, z.real, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(d.dual, z.eps1, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(d.dual, z.eps2, rtol=1e-14, atol=1e-300)
    # the value agrees with plain numpy evaluation
    np.testing.assert_allclose(d.real, plain(f, x), rtol=1e-14, atol=1e-300)


def _fd_tolerance(f_vals_max, deriv, h):
    # round-off in the difference quotient is some ulps of the differenced values
    # divided by h: 1024 ulps, because an exact first derivative of a composition
    # is itself a sum of large cancelling terms (cos(poly(poly(x))) at x = 3 needs
    # ~300; its f'' was checked against mpmath). The O(h^2) truncation term is
    # covered by a relative 1e-6 of the derivative (the higher derivatives of these
    # compositions stay far below 1e6 on [-3, 3]).
    return 1024 * EPS * f_vals_max / h + 1e-6 * (1.0 + abs(deriv))


@settings(max_examples=60, deadline=None)
@given(compositions, points)
def test_first_derivative_matches_central_differences(names, x):
    f = compose(names)
    d = hd.derivative(f, x)
    h = 1e-6 * max(1.0, abs(x))
    fp, fm = plain(f, x + h), plain(f, x - h)
    fd = (fp - fm) / (2 * h)
    tol = _fd_tolerance(max(abs(fp), abs(fm)), d, h)
    assert abs(d - fd) <= tol, (names, x, d, fd)


@settings(max_examples=60, deadline=None)
@given(compositions, points)
def test_second_derivative_matches_central_differences_of_exact_first(names, x):
    f = compose(names)
    d2 = f(HyperDual(x, 1.0, 1.0, 0.0)).eps12
    np.testing.assert_allclose(hd.second_derivative(f, x), d2, rtol=1e-14, atol=1e-300)
    h = 1e-6 * max(1.0, abs(x))
    gp, gm = hd.derivative(f, x + h), hd.derivative(f, x - h)
    fd = (gp - gm) / (2 * h)
    # Nested polynomials grow their higher derivatives fast (the fourth derivative
    # of cos(poly(poly(x))) is ~1e13 at x = 3; f'' there checked against mpmath),
    # so estimate the O(h^2) truncation error from the step-halved difference
    # (Richardson: err(h) ~ 4/3 |fd(h) - fd(h/2)|).
    gp2, gm2 = hd.derivative(f, x + h / 2), hd.derivative(f, x - h / 2)
    fd2 = (gp2 - gm2) / h
    tol = _fd_tolerance(max(abs(gp), abs(gm)), d2, h / 2) + 2.0 * abs(fd - fd2)
    assert abs(d2 - fd) <= tol, (names, x, d2, fd)


@settings(max_examples=60, deadline=None)
@given(compositions, st.lists(points, min_size=1, max_size=5))
def test_array_parts_equal_scalar_evaluations(names, xs):
    f = compose(names)
    x = np.array(xs)
    t = np.linspace(-1.0, 2.0, x.size)
    d = f(Dual(x, t))
    z = f(HyperDual(x, t, 1.0, 0.0))
    # Scalar parts go through math.*, array parts through numpy's ufuncs: each can
    # differ by an ulp, and a composition with cancelling derivative terms amplifies
    # that, so compare to 1e-12 (the project's bar for exact methods), not to 1 ulp.
    for i in range(x.size):
        s = f(Dual(float(x[i]), float(t[i])))
        q = f(HyperDual(float(x[i]), float(t[i]), 1.0, 0.0))
        np.testing.assert_allclose(d.real[i], s.real, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(d.dual[i], s.dual, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(z.eps12[i], q.eps12, rtol=1e-12, atol=1e-300)


# --- elementwise binary operations between Duals of broadcastable part shapes -----------
BINARY_OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "np.power": np.power,
    "hypot": np.hypot,
    "arctan2": hd.arctan2,
    "maximum": np.maximum,
    "minimum": hd.minimum,
    "xlogy": special.xlogy,
}
# Closed-form partials (f, f_a, f_b) for the per-element check.
PARTIALS = {
    "add": (lambda a, b: a + b, lambda a, b: 1.0, lambda a, b: 1.0),
    "sub": (lambda a, b: a - b, lambda a, b: 1.0, lambda a, b: -1.0),
    "mul": (lambda a, b: a * b, lambda a, b: b, lambda a, b: a),
    "div": (lambda a, b: a / b, lambda a, b: 1 / b, lambda a, b: -a / b ** 2),
    "pow": (lambda a, b: a ** b, lambda a, b: b * a ** (b - 1),
            lambda a, b: a ** b * math.log(a)),
    "hypot": (math.hypot, lambda a, b: a / math.hypot(a, b), lambda a, b: b / math.hypot(a, b)),
    "arctan2": (math.atan2, lambda a, b: b / (a * a + b * b), lambda a, b: -a / (a * a + b * b)),
    "maximum": (max, lambda a, b: 1.0 if a > b else (0.5 if a == b else 0.0),
                lambda a, b: 0.0 if a > b else (0.5 if a == b else 1.0)),
    "minimum": (min, lambda a, b: 1.0 if a < b else (0.5 if a == b else 0.0),
                lambda a, b: 0.0 if a < b else (0.5 if a == b else 1.0)),
    "xlogy": (lambda a, b: a * math.log(b), lambda a, b: math.log(b), lambda a, b: a / b),
}
PARTIALS["np.power"] = PARTIALS["pow"]

shapes4 = mutually_broadcastable_shapes(num_shapes=4, min_dims=0, max_dims=3, max_side=3)
positive = st.floats(min_value=0.25, max_value=2.5)


def _array(draw_fn, shape, elements):
    n = int(np.prod(shape, dtype=int))
    vals = draw_fn(st.lists(elements, min_size=n, max_size=n))
    return np.array(vals, dtype=float).reshape(shape)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(BINARY_OPS)), shapes4, st.data())
def test_broadcasting_binary_ops_match_per_element(op, shapes, data):
    s_ra, s_da, s_rb, s_db = shapes.input_shapes
    tangents = st.floats(min_value=-2.0, max_value=2.0)
    # positive reals keep every op in its domain (pow, xlogy, div); a few ties for max/min
    values = st.sampled_from([0.5, 1.0, 1.5]) if op in ("maximum", "minimum") else positive
    ra = _array(data.draw, s_ra, values)
    da = _array(data.draw, s_da, tangents)
    rb = _array(data.draw, s_rb, values)
    db = _array(data.draw, s_db, tangents)
    res = BINARY_OPS[op](Dual(ra, da), Dual(rb, db))
    shape = shapes.result_shape
    assert res.shape == shape
    f, fa, fb = PARTIALS[op]
    bra, bda, brb, bdb = (np.broadcast_to(p, shape) for p in (ra, da, rb, db))
    for idx in np.ndindex(*shape):
        a, b = float(bra[idx]), float(brb[idx])
        ta, tb = float(bda[idx]), float(bdb[idx])
        # per-element scalar Duals through the same entry point
        s = BINARY_OPS[op](Dual(a, ta), Dual(b, tb))
        np.testing.assert_allclose(np.asarray(res.real)[idx], s.real, rtol=1e-14, atol=1e-300)
        np.testing.assert_allclose(np.asarray(res.dual)[idx], s.dual, rtol=1e-13, atol=1e-15)
        # and the closed form
        want = fa(a, b) * ta + fb(a, b) * tb
        scale = abs(fa(a, b) * ta) + abs(fb(a, b) * tb)
        assert abs(np.asarray(res.dual)[idx] - want) <= 1e-13 * scale + 1e-15, (op, a, b)
        np.testing.assert_allclose(np.asarray(res.real)[idx], f(a, b), rtol=1e-14)


@settings(max_examples=30, deadline=None)
@given(shapes4, st.data())
def test_broadcasting_hyperdual_product(shapes, data):
    # (A * B).eps12 = a12 B + A b12 + a1 b2 + b1 a2, parts of four broadcastable shapes
    s1, s2, s3, s4 = shapes.input_shapes
    vals = st.floats(min_value=-2.0, max_value=2.0)
    pa = [_array(data.draw, s, vals) for s in (s1, s2, s3, s4)]
    pb = [_array(data.draw, s, vals) for s in (s4, s3, s2, s1)]
    z = HyperDual(*pa) * HyperDual(*pb)
    A = [np.broadcast_to(p, shapes.result_shape) for p in pa]
    B = [np.broadcast_to(p, shapes.result_shape) for p in pb]
    want = A[3] * B[0] + A[0] * B[3] + A[1] * B[2] + B[1] * A[2]
    np.testing.assert_allclose(z.eps12, want, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(z.eps1, A[1] * B[0] + A[0] * B[1], rtol=1e-14, atol=1e-14)
