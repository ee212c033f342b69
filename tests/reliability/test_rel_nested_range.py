"""Second derivatives by one first-order helper nested in another, at huge and tiny
arguments, in all four engine combinations (issue 12, sections 1 and 3).

``reverse.jacobian(lambda x: reverse.gradient(f, x), x)`` is a Hessian formed by
two helper calls: the inner pass runs on the outer trace's data, and its
adjoint ``f''(u) u'`` (a single float, times both seeds) underflowed where the
Hessian is normal: at x = [1e150, -2e150] the Hessian of sum(log10(x**2)) came
out +8.7e-301 (the truth -8.7e-301) through reverse over reverse, hyperdual over
reverse and reverse over hyperdual.  The outer helper now redoes such a call
with both seeds scaled by powers of two (``_exactdiff.fprange``).  Here every
nesting of derivative, gradient, value_and_gradient, jacobian, jvp and vjp in
the four engine combinations goes through test_rel_second_order_range's sweep
(its rules, inner functions, points and mpmath truths, its convention: within
ULPS ulps times the condition number where the truth is normal, inf of the
truth's sign where it overflows, 0 or subnormal where it underflows, never a
finite number of the wrong sign).

``reverse.jvp`` (the double-vjp trick) seeded the cotangent u of its first
pass with zeros, and the zero-cotangent guard took that 0 times an infinite or
overflowing partial as a structural 0 and cut the path to u: d2/dv2 logit(v**2)
at 1.7e-150 by reverse.jvp of either vjp was 0 (the truth -6.9e299), and
hyperdual.jvp on an outer Variable hands over to it.  So reverse.jvp is the
outer helper of every inner helper here (vjp, gradient, derivative, jvp), in
the four engine combinations.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

M = pytest.importorskip("mpmath")
import tests.reliability.test_rel_chain_range as cr  # noqa: E402
import tests.reliability.test_rel_second_order_range as so  # noqa: E402

# a sweep: the full tier (py312, noavx512), not the quick one (-m 'not slow')
pytestmark = pytest.mark.slow

ENGINES = {"rv": rv, "hd": hd}
PAIRS = [(o, i) for o in ENGINES for i in ENGINES]  # (outer, inner)


#: every rule takes derivative(derivative) and jacobian(gradient) in the four
#: combinations, and two of the others (ROTATING, in turn: each of them every
#: third rule)
KINDS = ("derivative", "jacobian", "value_and_gradient", "jvp(vjp)", "vjp(jvp)",
         "jvp(gradient)", "jvp(derivative)", "jvp(jvp)")
ROTATING = KINDS[2:]


def _nested_paths(f, kinds=KINDS):
    """{path: function of v giving d2/dv2 f(v)} through nested first-order helpers."""
    one = np.array([1.0])

    def at(v):
        return np.array([v])

    def F(p):
        return f(p[0])

    paths = {}
    for o, i in PAIRS:
        O, inner = ENGINES[o], ENGINES[i]
        paths[f"{o}.derivative({i}.derivative)"] = (
            lambda v, O=O, inner=inner: O.derivative(lambda t: inner.derivative(f, t), v))
        paths[f"{o}.jacobian({i}.gradient)"] = (
            lambda v, O=O, inner=inner: O.jacobian(lambda p: inner.gradient(F, p), at(v))[0, 0])
        paths[f"{o}.gradient({i}.value_and_gradient)"] = (
            lambda v, O=O, inner=inner: O.gradient(
                lambda p: inner.value_and_gradient(F, p)[1][0], at(v))[0])
        paths[f"{o}.jvp({i}.vjp)"] = (
            lambda v, O=O, inner=inner: O.jvp(lambda p: inner.vjp(F, p, 1.0)[1], at(v),
                                              one)[1][0])
        paths[f"{o}.vjp({i}.jvp)"] = (
            lambda v, O=O, inner=inner: O.vjp(lambda p: inner.jvp(F, p, one)[1], at(v),
                                              1.0)[1][0])
        paths[f"{o}.jvp({i}.gradient)"] = (
            lambda v, O=O, inner=inner: O.jvp(lambda p: inner.gradient(F, p), at(v),
                                              one)[1][0])
        paths[f"{o}.jvp({i}.derivative)"] = (
            lambda v, O=O, inner=inner: O.jvp(lambda t: inner.derivative(f, t), v, 1.0)[1])
        paths[f"{o}.jvp({i}.jvp)"] = (
            lambda v, O=O, inner=inner: O.jvp(lambda p: inner.jvp(F, p, one)[1], at(v),
                                              one)[1])
    return {p: fun for p, fun in paths.items() if any(_kind(p) == k for k in kinds)}


def _kind(path):
    outer, inner = path[3:-1].split("(")
    kind = f"{outer}({inner[3:]})"
    if kind in KINDS[3:]:
        return kind
    for k, mark in (("derivative", "derivative(derivative)"), ("jacobian", "jacobian(gradient)"),
                    ("value_and_gradient", "gradient(value_and_gradient)")):
        if kind == mark:
            return k
    raise AssertionError(path)


def _kinds(name):
    """The kinds that rule ``name`` goes through: the two fixed, two rotating."""
    turn = so.RULES.index(name) % 3
    return KINDS[:2] + ROTATING[turn::3]


@pytest.mark.parametrize("name", so.RULES)
def test_nested_second_derivative_in_range(name):
    """f(g(v)) for every rule f and inner function g of the chain sweep, through
    every nesting of the first-order helpers of both engines."""
    bad, checked = [], 0
    kinds = _kinds(name)
    for inner in cr.INNERS:
        g = cr._inner(inner)[0]
        fn = cr._fn(name)
        paths = _nested_paths(lambda v, g=g, fn=fn: fn(g(v)), kinds)
        b, c = so._compare(f"{name}({inner})", paths, so._unary_truth(name, inner))
        bad += b
        checked += c
    assert not bad, f"{len(bad)} of {checked} wrong:\n" + "\n".join(bad[:12])


def test_log10_of_squares_nested_hessian():
    """The issue's example: diag(-2 / (x**2 ln 10)) at [1e150, -2e150] in every
    nesting (it was +8.7e-301, +2.2e-301 wherever reverse was involved)."""
    x = np.array([1e150, -2e150])
    want = np.array([float(-2 / (M.mpf(v) ** 2 * M.ln(10))) for v in x])

    def f(p):
        return np.sum(np.log10(p ** 2))

    def g(t):
        return np.log10(t ** 2)

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for o, i in PAIRS:
            O, inner = ENGINES[o], ENGINES[i]
            H = O.jacobian(lambda p, inner=inner: inner.gradient(f, p), x)
            assert np.all(np.abs(np.diag(H) - want) <= 4 * so.EPS * np.abs(want)), (o, i, H)
            assert np.all(H[[0, 1], [1, 0]] == 0), (o, i, H)
            for t0, w in zip(x, want):
                d = O.derivative(lambda t, inner=inner: inner.derivative(g, t), t0)
                assert abs(d - w) <= 4 * so.EPS * abs(w), (o, i, t0, d, w)


@pytest.mark.parametrize("v", [1.7e-150, -1.3e-150, 1e-120])
def test_jvp_outside_at_a_tiny_argument(v):
    """The issue's example: d2/dv2 logit(v**2) = -2/v**2 + 2(1 + v**2)/(1 - v**2)**2
    (-6.9e299 at 1.7e-150) by reverse.jvp and hyperdual.jvp of vjp, gradient,
    derivative and jvp of either engine.  reverse.jvp of vjp gave 0: its zero
    cotangent u times logit's overflowing partial was taken as a structural 0."""
    from scipy.special import logit

    with M.workdps(50):
        V = M.mpf(v)
        want = float(-2 / V ** 2 + 2 * (1 + V ** 2) / (1 - V ** 2) ** 2)

    def F(p):
        return logit(p[0] ** 2)

    def f(t):
        return logit(t ** 2)

    one = np.array([1.0])
    inners = {
        "vjp": lambda inner: lambda p: inner.vjp(F, p, 1.0)[1][0],
        "gradient": lambda inner: lambda p: inner.gradient(F, p)[0],
        "jvp": lambda inner: lambda p: inner.jvp(F, p, one)[1],
    }
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for o, i in PAIRS:
            O, inner = ENGINES[o], ENGINES[i]
            got = {k: O.jvp(make(inner), np.array([v]), one)[1] for k, make in inners.items()}
            got["derivative"] = O.jvp(lambda t, inner=inner: inner.derivative(f, t), v, 1.0)[1]
            # the point and direction as lists (hyperdual's watched redo took arrays only)
            got["vjp, lists"] = O.jvp(inners["vjp"](inner), [v], [1.0])[1]
            for k, d in got.items():
                d = float(np.asarray(d).reshape(()))
                assert abs(d - want) <= 8 * so.EPS * abs(want), (o, i, k, d, want)


@pytest.mark.parametrize("v", [1e100, -2e100, 1e-100, -3e-90])
def test_second_order_helper_nested_in_a_first_order_one(v):
    """d3/dv3 log10(v**2) = 4 / (v**3 ln 10) by a first-order helper of a
    second-order one (derivative of second_derivative, jacobian of hessian, jvp
    and gradient of hvp), in the four engine combinations.  The inner helper took
    its one unscaled pass on the outer trace's data, where the term f3(u) u1**3
    underflows (at 1e100 the result had the wrong sign, -3.5e-300 for 1.7e-300)
    or overflows (inf at 1e-100); it now counts as a nested call, as the
    first-order helpers do, and the outer helper redoes both with scaled seeds."""
    with M.workdps(50):
        want = float(4 / (M.mpf(v) ** 3 * M.ln(10)))

    def f(t):
        return np.log10(t ** 2)

    def F(p):
        return np.log10(p[0] ** 2)

    one = np.array([1.0])
    x = np.array([v])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for o, i in PAIRS:
            O, inner = ENGINES[o], ENGINES[i]
            got = {
                "derivative(second_derivative)":
                    O.derivative(lambda t, inner=inner: inner.second_derivative(f, t), v),
                "jacobian(hessian)":
                    O.jacobian(lambda p, inner=inner: inner.hessian(F, p), x)[0, 0, 0],
                "jvp(hvp)": O.jvp(lambda p, inner=inner: inner.hvp(F, p, one), x, one)[1][0],
                "gradient(hvp)":
                    O.gradient(lambda p, inner=inner: inner.hvp(F, p, one)[0], x)[0],
            }
            for k, d in got.items():
                assert abs(float(d) - want) <= 8 * so.EPS * abs(want), (o, i, k, d, want)


def test_nested_scaling_is_exact_for_the_outer_function():
    """The nested helper scales its seed and its result back inside the outer trace:
    f that uses the inner result nonlinearly (x * g'(x) and g'(x)**2, where only
    the adjoint's scale moves) gets the truth (d/dx [x cos(x)] and d/dx [sin(x)**2]
    ... at a point where the first pass underflows)."""
    x = 1e150

    def h(t):
        return np.log10(t ** 2)  # h'(t) = 2 / (t ln 10), h''(t) = -2 / (t**2 ln 10)

    X = M.mpf(x)
    d1 = 2 / (X * M.ln(10))
    d2 = -2 / (X ** 2 * M.ln(10))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for o, i in PAIRS:
            O, inner = ENGINES[o], ENGINES[i]
            # d/dx [x h'(x)] = h'(x) + x h''(x) = 0 exactly: both terms of 8.7e-151
            got = O.derivative(lambda t, inner=inner: t * inner.derivative(h, t), x)
            assert abs(got) <= 4 * so.EPS * float(abs(d1)), (o, i, got)
            # d/dx [h'(x) / x] = h''(x)/x - h'(x)/x**2 = -4 / (x**3 ln 10): underflows to 0
            got = O.derivative(lambda t, inner=inner: inner.derivative(h, t) * 1e-150, x)
            want = float(d2 * M.mpf(1e-150))
            assert abs(got - want) <= 4 * so.EPS * abs(want), (o, i, got, want)


def test_every_nesting_of_the_sweep_is_swept():
    """The rotation of test_nested_second_derivative_in_range covers every kind."""
    seen = {k for n in so.RULES for k in _kinds(n)}
    assert seen == set(KINDS)
    assert {_kind(p) for p in _nested_paths(np.sin)} == set(KINDS)
    assert len(_nested_paths(np.sin)) == 4 * len(KINDS)


def test_nested_watch_leaves_the_users_error_mode_alone():
    """As the second-order helpers' watch: under the user's errstate(under='raise')
    their f still raises in a nested call (exp(-800) underflows), and the error
    mode is restored."""
    def f(p):
        return np.sum(np.log10(p ** 2) + np.exp(-800.0 * (p / p)))

    x = np.array([1e150, -2e150])
    before = np.geterr()
    for o, i in PAIRS:
        O, inner = ENGINES[o], ENGINES[i]
        with np.errstate(under="raise"), pytest.raises(FloatingPointError):
            O.jacobian(lambda p, inner=inner: inner.gradient(f, p), x)
        assert np.geterr() == before and np.geterrcall() is None


def test_a_contradicted_first_pass_is_nan_not_a_wrong_number():
    """fprange.second_order: where the first pass underflowed and a retry without
    overflow gives another value that no second scale confirms, the entry is nan
    (loud), not the first pass's possibly wrong finite number; an entry that the
    retries confirm is theirs, and 0 stays 0."""
    from _exactdiff import fprange

    def run(kt, ks):
        np.float64(1e-300) * np.float64(1e-300)  # noqa: B018 - raises the flag
        if (kt, ks) == (0, 0):
            return np.array([8.7e-301, 5.0, 0.0])
        # entry 0: each retry another value (never confirmed); entry 1: 5 at every
        # scale; entry 2: 0
        return np.ldexp(np.array([-8.7e-301 * (1 + kt + 2 * ks), 5.0, 0.0]), kt + ks)

    got = fprange.second_order(run, True)
    assert np.isnan(got[0]) and got[1] == 5.0 and got[2] == 0.0
