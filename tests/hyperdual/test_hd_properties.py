"""Property tests: random compositions of table functions, Dual vs HyperDual vs
central differences; random broadcasting between parts of different shapes."""

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from scipy import special

import hyperdual as hd
from hyperdual import Dual, HyperDual
from tests._tolerance import assert_close_ulps

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


def _stage_derivatives(fn, v):
    """f and its first three derivatives at the float v (the third by nesting)."""
    z = fn(HyperDual(v, 1.0, 1.0, 0.0))
    f3 = hd.derivative(lambda s: fn(HyperDual(s, 1.0, 1.0, 0.0)).eps12, v)
    return float(z.real), float(z.eps1), float(z.eps12), float(f3)


def error_scales(names, x, a, b, c):
    """Running error bounds, in units of eps, of the four parts of
    ``compose(names)(HyperDual(x, a, b, c))`` (forward error analysis).

    Two correct evaluations of a composition (math.* scalars against numpy's SIMD
    ufuncs, or two orders of the same chain rule) each carry rounding errors of
    about this size: every stage adds an error the size of its chain-rule terms
    (``f2*a*b`` and ``f1*c`` for eps12: a sum that may cancel) and amplifies the
    errors of its input by its partial derivatives. Comparing the two at a few
    ulps of this scale is "a few ulps times the condition number"; a flat rtol
    fails where a composition cancels (rational(sqrt(1 + x**2)) near x = 0).
    """
    v = x
    e0 = ea = eb = ec = 0.0
    for n in names:
        e0 = max(e0, abs(v))  # every stage sees its argument rounded (>= 1 ulp)
        f0, f1, f2, f3 = _stage_derivatives(SAFE[n], v)
        e0, ea, eb, ec = (
            abs(f1) * e0 + abs(f0),
            abs(f2 * a) * e0 + abs(f1) * ea + abs(f1 * a),
            abs(f2 * b) * e0 + abs(f1) * eb + abs(f1 * b),
            abs(f3 * a * b + f2 * c) * e0 + abs(f2 * b) * ea + abs(f2 * a) * eb
            + abs(f1) * ec + abs(f2 * a * b) + abs(f1 * c),
        )
        v, a, b, c = f0, f1 * a, f1 * b, f2 * a * b + f1 * c
    return e0, ea, eb, ec


# Each stage of SAFE is a few elementary operations, each within an ulp or two.
STAGE_ULPS = 16


def assert_close_scaled(actual, expected, scale, what):
    """|actual - expected| <= STAGE_ULPS * eps * scale (scale from error_scales).

    Plus STAGE_ULPS subnormal spacings: below 2.2e-308 an ulp is the fixed
    5e-324, not eps times the value (x = 2.2e-311 gives cos·sub_div a tangent
    of that size, and two correct evaluations differ by one such step).
    """
    err = abs(actual - expected)
    floor = STAGE_ULPS * np.finfo(np.float64).smallest_subnormal
    assert err <= STAGE_ULPS * EPS * max(scale, abs(expected)) + floor, (
        what, actual, expected, scale)


@settings(max_examples=60, deadline=None)
@given(compositions, points)
def test_dual_equals_hyperdual_parts(names, x):
    f = compose(names)
    d = f(Dual(x, 1.0))
    z = f(HyperDual(x, 1.0, 1.0, 0.0))
    e0, e1, _, _ = error_scales(names, x, 1.0, 1.0, 0.0)
    assert_close_scaled(d.real, z.real, e0, (names, x, "real"))
    assert_close_scaled(d.dual, z.eps1, e1, (names, x, "eps1"))
    assert_close_scaled(d.dual, z.eps2, e1, (names, x, "eps2"))
    # the value agrees with plain numpy evaluation
    assert_close_scaled(d.real, plain(f, x), e0, (names, x, "numpy"))


def _fd_tolerance(f_vals_max, deriv, h, truncation):
    # round-off in the difference quotient is some ulps of the differenced values
    # divided by h: 1024 ulps, because an exact first derivative of a composition
    # is itself a sum of large cancelling terms (cos(poly(poly(x))) at x = 3 needs
    # ~300; its f'' was checked against mpmath). The O(h^2) truncation term is
    # measured, not assumed: ``truncation`` is the change of the quotient when h
    # is halved (three times the h-quotient's own truncation error), because the
    # higher derivatives of these compositions reach 1e10 (the third derivative
    # of cos(poly(poly(x))) at x = 3 is -2.5e10: an O(h^2) term of 0.04).
    return 1024 * EPS * f_vals_max / h + truncation + 1e-9 * (1.0 + abs(deriv))


def _central(f, x, h):
    fp, fm = plain(f, x + h), plain(f, x - h)
    return (fp - fm) / (2 * h), max(abs(fp), abs(fm))


@settings(max_examples=60, deadline=None)
@given(compositions, points)
def test_first_derivative_matches_central_differences(names, x):
    f = compose(names)
    d = hd.derivative(f, x)
    h = 1e-6 * max(1.0, abs(x))
    coarse, _ = _central(f, x, 2 * h)
    fd, f_max = _central(f, x, h)
    # the quotient must resolve f: where one step changes f by more than a tenth of
    # its size the differences measure nothing (cos(poly(poly(poly(x)))) at x = 3:
    # the step moves cos's argument by ~1e4, so the quotient is noise; reverse mode
    # and hyperdual agree there on -3.99e9)
    assume(abs(d) * h <= 0.1 * max(1.0, f_max))
    tol = _fd_tolerance(f_max, d, h, abs(coarse - fd))
    assert abs(d - fd) <= tol, (names, x, d, fd, tol)


def test_central_difference_check_catches_a_factor_of_two():
    # the measured truncation term must not make the check blind: a derivative
    # off by a factor 2 fails it, also where the third derivative is large
    for names in (("cos",), ("poly", "poly", "cos")):
        f = compose(names)
        for x in (0.3, 2.9):
            d = 2 * hd.derivative(f, x)
            h = 1e-6 * max(1.0, abs(x))
            coarse, _ = _central(f, x, 2 * h)
            fd, f_max = _central(f, x, h)
            assert abs(d - fd) > _fd_tolerance(f_max, d, h, abs(coarse - fd)), (names, x)


@settings(max_examples=60, deadline=None)
@given(compositions, points)
def test_second_derivative_matches_central_differences_of_exact_first(names, x):
    f = compose(names)
    d2 = f(HyperDual(x, 1.0, 1.0, 0.0)).eps12
    scale = error_scales(names, x, 1.0, 1.0, 0.0)[3]
    assert_close_scaled(hd.second_derivative(f, x), d2, scale, (names, x, "f''"))
    h = 1e-6 * max(1.0, abs(x))
    gp, gm = hd.derivative(f, x + h), hd.derivative(f, x - h)
    fd = (gp - gm) / (2 * h)
    # Nested polynomials grow their higher derivatives fast (the fourth derivative
    # of cos(poly(poly(x))) is ~1e13 at x = 3; f'' there checked against mpmath),
    # so estimate the O(h^2) truncation error from the step-halved difference
    # (Richardson: err(h) ~ 4/3 |fd(h) - fd(h/2)|).
    gp2, gm2 = hd.derivative(f, x + h / 2), hd.derivative(f, x - h / 2)
    fd2 = (gp2 - gm2) / h
    tol = _fd_tolerance(max(abs(gp), abs(gm)), d2, h / 2, 2.0 * abs(fd - fd2))
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
    # that: compare at a few ulps of the running error bound (the condition number).
    for i in range(x.size):
        xi, ti = float(x[i]), float(t[i])
        s = f(Dual(xi, ti))
        q = f(HyperDual(xi, ti, 1.0, 0.0))
        e0, e1, _, e12 = error_scales(names, xi, ti, 1.0, 0.0)
        assert_close_scaled(d.real[i], s.real, e0, (names, xi, "real"))
        assert_close_scaled(d.dual[i], s.dual, e1, (names, xi, "dual"))
        assert_close_scaled(z.eps12[i], q.eps12, e12, (names, xi, "eps12"))


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
        # math.* against numpy's ufuncs: a few ulps each; the dual part is the sum
        # fa*ta + fb*tb, whose condition number is scale / |sum|
        want = fa(a, b) * ta + fb(a, b) * tb
        scale = abs(fa(a, b) * ta) + abs(fb(a, b) * tb)
        cond = scale / abs(want) if want else np.inf
        assert_close_ulps(np.asarray(res.real)[idx], s.real, ulps=4, err_msg=op)
        if want or scale:
            assert_close_ulps(np.asarray(res.dual)[idx], s.dual, ulps=8, cond=cond, err_msg=op)
            assert_close_ulps(np.asarray(res.dual)[idx], want, ulps=8, cond=cond, err_msg=op)
        else:
            assert np.asarray(res.dual)[idx] == s.dual == 0.0, op
        assert_close_ulps(np.asarray(res.real)[idx], f(a, b), ulps=4, err_msg=op)


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
    scale = abs(A[3] * B[0]) + abs(A[0] * B[3]) + abs(A[1] * B[2]) + abs(B[1] * A[2])
    # sums of products in another order: a few ulps of the terms' magnitude
    assert np.all(abs(z.eps12 - want) <= 4 * EPS * scale)
    scale1 = abs(A[1] * B[0]) + abs(A[0] * B[1])
    assert np.all(abs(z.eps1 - (A[1] * B[0] + A[0] * B[1])) <= 4 * EPS * scale1)
