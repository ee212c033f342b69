"""Defects found by a random-expression fuzzer (sympy/mpmath truths at 50 digits over
random compositions of the rule table, reductions over small arrays, every helper
and nesting, Taylor mode to order 8), each minimised to the mechanism at fault.

Truths are closed forms or exact rational arithmetic (``fractions``), never the
code's own output.

* reverse's ``prod`` rule differentiated again (``create_graph`` or Dual data):
  its gradient ``y / x`` has derivative ``(y / x_i) / x_i - y / x_i**2`` by x_i,
  exactly 0 but formed as the rounding of two terms of size ``y / x_i**2``
  (``reverse.hessian(np.prod, [0.1, 0.2, 0.3, 0.4])`` had -5.6e-17 on its
  diagonal, and the third derivative of ``prod(x)**2`` at ``[1, 1, -1e-50]``
  along ``(1, 0.25, 2)`` was 20 through reverse over reverse and 4e34 through
  hyperdual over reverse, truth 60).
* hyperdual's chain rule of the binary rules (logaddexp, logaddexp2, ...) formed
  ``f''(u) u1 u2`` as ``0 * inf`` where f'' underflowed to 0 and the tangent
  product overflowed: ``hyperdual.second_derivative`` of ``logaddexp(0, exp(x))``
  at 400 was nan (truth 5.2e173); the unary rules already redo such a part with
  scaled tangents, the binary ones now do too.
* hyperdual's chain rule for the unary rules without scaled products (log_ndtr,
  sinc, i0, i1, polygamma, sin, cos, tan) did not redo a nan second-order part
  either: d2/dx2 ``log_ndtr(exp(x))`` at 30 and 400 was nan (f'' = 0 times an
  overflowed u' u'), the truth about -10**-(2e25) underflows to 0.
* the power rule's scaled product (``pow_term``, both engines) raised x's binary
  mantissa m to n = trunc(c) - k as one float: 0.5**1099 underflows, so d/dx
  ``x**1100`` at 2 was 0 (truth 7.5e333: inf) and d/dx ``x**-1100`` at 2 was -inf
  (truth -4e-329: -0 or a subnormal).
* reverse's first-order helpers watched their backward pass for flushed adjoints
  only under numpy's default error settings: inside ``np.errstate(all="ignore")``
  (common in user code, and in tests) ``reverse.gradient`` of
  ``sum(arctan(x**2))`` at [1.7e100] was [0.] (truth 4.07e-301) and of
  ``(x1**2 + 1)**(-7/3)`` at (1, 1e50) had 0 for -2.17e-283.  Settings that only
  ignore or warn are now watched too (their warnings as they say).
* hyperdual's exponential tails (exp, expm1, exp2, sinh, cosh beyond 20) folded a
  rounded exponent into exp: exp(|x| - ln 2), exp(x ln 2), exp(e + log abs(t)) are
  off by up to an ulp of the exponent, 1e-13 of the result (d/dx cosh at 700 and
  d/dx exp(2x) at 352.6 were 500 and 250 ulps off, reverse and Taylor mode exact).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

# --------------------------------------------------------------------------------
# reverse's prod rule at second and third order
# --------------------------------------------------------------------------------
PROD_POINTS = [
    [0.1, 0.2, 0.3, 0.4],
    [0.3, 0.7, 1e-3],
    [1.0, 1.0, 1e-50],
    [-2.5, 1e-120, 3.0, 7.0],
]


def _prod_hessian_truth(p):
    n = len(p)
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                h[i, j] = math.prod(p[k] for k in range(n) if k not in (i, j))
    return h


PROD_HESSIANS = {
    "reverse.hessian": lambda f, p: rv.hessian(f, p),
    "reverse.hvp forward-over-reverse": lambda f, p: np.stack(
        [rv.hvp(f, p, e) for e in np.eye(len(p))]),
    "reverse.hvp reverse-over-reverse": lambda f, p: np.stack(
        [rv.hvp(f, p, e, mode="reverse-over-reverse") for e in np.eye(len(p))]),
    "reverse.jacobian(reverse.gradient)": lambda f, p: rv.jacobian(
        lambda v: rv.gradient(f, v), p),
    "hyperdual.jacobian(reverse.gradient)": lambda f, p: hd.jacobian(
        lambda v: rv.gradient(f, v), p),
}


@pytest.mark.parametrize("path", sorted(PROD_HESSIANS))
@pytest.mark.parametrize("p", PROD_POINTS, ids=str)
def test_prod_hessian_has_an_exact_zero_diagonal(path, p):
    """d2 prod / dx_i2 is exactly 0; the off-diagonal entries are the products of
    the other entries (a product of at most two roundings)."""
    p = np.array(p)
    got = PROD_HESSIANS[path](np.prod, p)
    truth = _prod_hessian_truth(list(p))
    assert np.all(np.diag(got) == 0), f"{path}: diagonal {np.diag(got)}"
    assert_close_ulps(got, truth, ulps=4, err_msg=path)


def _third_of_square_of_prod(p, v, magnitude=False):
    """d3/dt3 prod(p + t v)**2 at t = 0, exactly: the polynomial's coefficients in
    rationals (every float is one).  ``magnitude``: the same with every entry's
    absolute value, the sum of the contributions' magnitudes (for the condition)."""
    poly = [Fraction(1)]
    for pi, vi in zip(p, v):
        a, b = Fraction(pi), Fraction(vi)
        if magnitude:
            a, b = abs(a), abs(b)
        nxt = [Fraction(0)] * (len(poly) + 1)
        for k, c in enumerate(poly):
            nxt[k] += c * a
            nxt[k + 1] += c * b
        poly = nxt
    sq = [sum(poly[i] * poly[k - i] for i in range(k + 1) if i < len(poly) and k - i < len(poly))
          for k in range(4)]
    return float(6 * sq[3])


THIRD = {
    "reverse(reverse.second_derivative)": lambda g: rv.derivative(
        lambda t: rv.second_derivative(g, t), 0.0),
    "hyperdual(reverse.second_derivative)": lambda g: hd.derivative(
        lambda t: rv.second_derivative(g, t), 0.0),
    "reverse(hyperdual.second_derivative)": lambda g: rv.derivative(
        lambda t: hd.second_derivative(g, t), 0.0),
    "reverse.derivatives backprop": lambda g: rv.derivatives(g, 0.0, 3, method="backprop")[3],
}


@pytest.mark.parametrize("path", sorted(THIRD))
@pytest.mark.parametrize("p", [[1.0, 1.0, -1e-50], [0.9999999990686774, 1.0, 1e-3],
                               [2.0, -3.0, 1e-30, 0.5]], ids=str)
def test_third_derivative_through_reverse_prod(path, p):
    p = np.array(p)
    v = np.array([1.0, 0.25, 2.0, -0.5][:len(p)])
    truth = _third_of_square_of_prod(list(p), list(v))
    cond = _third_of_square_of_prod(list(p), list(v), magnitude=True) / abs(truth)
    got = THIRD[path](lambda t: np.prod(p + t * v) ** 2)
    # a few roundings in each product and sum, times the cancellation among the
    # contributions to the t**3 coefficient
    assert_close_ulps(got, truth, ulps=64, cond=cond, err_msg=path)


# --------------------------------------------------------------------------------
# hyperdual's binary chain rule where f'' underflowed to 0 and u' u' overflowed
# --------------------------------------------------------------------------------
M = pytest.importorskip("mpmath")  # noqa: N816


def _softplus_exp_second(x):
    """d2/dx2 log(1 + exp(exp(x))) = s u + s (1 - s) u**2, u = exp(x), s = expit(u)."""
    with M.workdps(50):
        u = M.exp(M.mpf(x))
        s = 1 / (1 + M.exp(-u))
        return float(s * u + s * (1 - s) * u ** 2)


def _lae2_cosh_second(x):
    """d2/dx2 log2(2**cosh(x) + 2**1.5)."""
    with M.workdps(50):
        return float(M.diff(lambda t: M.log(2 ** M.cosh(t) + 2 ** M.mpf(1.5), 2), M.mpf(x), 2))


BINARY_WIDE = {
    "logaddexp(0, exp(x))": (lambda v: np.logaddexp(0.0, np.exp(v)), _softplus_exp_second),
    "logaddexp(exp(x), 0)": (lambda v: np.logaddexp(np.exp(v), 0.0), _softplus_exp_second),
    "logaddexp2(cosh(x), 1.5)": (lambda v: np.logaddexp2(np.cosh(v), 1.5), _lae2_cosh_second),
}


def _hd_second_order_paths(f, x):
    """f''(x) by hyperdual's three second-order helpers (errors ignored: the terms
    under test leave the float range)."""
    with np.errstate(all="ignore"):
        return {
            "second_derivative": hd.second_derivative(f, x),
            "hessian": hd.hessian(lambda v: np.sum(f(v)), np.array([x, 0.5]))[0, 0],
            "hvp": hd.hvp(lambda v: f(v[0]), np.array([x]), np.array([1.0]))[0],
        }


@pytest.mark.parametrize("name", sorted(BINARY_WIDE))
@pytest.mark.parametrize("x", [400.0, 367.5, 650.0, 700.0, 1.25])
def test_binary_second_derivative_where_the_tangent_product_overflows(name, x):
    """f''(u) u'**2 with f'' = 0 (an underflowed s (1 - s)) and u'**2 = inf was
    0 * inf = nan in HyperDual's chain rule of the binary rules (the unary rules
    redo such a part with scaled tangents); the truth is f'(u) u'' = 2.6e173 at
    400 (reverse mode and nested Duals had it)."""
    f, truth_of = BINARY_WIDE[name]
    truth = truth_of(x)
    got = _hd_second_order_paths(f, x)
    for path, value in got.items():
        # a handful of roundings in s, u, the products (f'' u'^2 is negligible at 400)
        assert_close_ulps(value, truth, ulps=16, err_msg=f"{name} {path}")


# --------------------------------------------------------------------------------
# hyperdual's exponential tails: exp(e) t to an ulp or two where e is large
# --------------------------------------------------------------------------------
def _exp_cases():
    two = M.mpf(2)
    return [
        ("cosh", np.cosh, lambda x: (M.sinh(x), M.cosh(x)), [25.0, 300.0, 650.0, 700.0, 709.5,
                                                             -700.0]),
        ("sinh", np.sinh, lambda x: (M.cosh(x), M.sinh(x)), [25.0, 300.0, 650.0, -709.5]),
        ("exp(2x)", lambda v: np.exp(2.0 * v),
         lambda x: (2 * M.exp(2 * x), 4 * M.exp(2 * x)), [352.6, 354.0, -352.6]),
        ("exp2", np.exp2, lambda x: (M.ln2 * two ** x, M.ln2 ** 2 * two ** x),
         [1000.0, 1020.5, -1000.5]),
        ("expm1(3x)", lambda v: np.expm1(3.0 * v),
         lambda x: (3 * M.exp(3 * x), 9 * M.exp(3 * x)), [235.0, 236.5]),
    ]


@pytest.mark.parametrize("case", range(5))
def test_exponential_tails_to_an_ulp(case):
    name, f, truth_of, points = _exp_cases()[case]
    for x in points:
        with M.workdps(50):
            t1, t2 = (float(t) for t in truth_of(M.mpf(x)))
        got1 = {"derivative": hd.derivative(f, x),
                "gradient": hd.gradient(lambda v: np.sum(f(v)), np.array([x, 1.0]))[0]}
        got2 = {"second_derivative": hd.second_derivative(f, x),
                "hessian": hd.hessian(lambda v: np.sum(f(v)), np.array([x, 1.0]))[0, 0],
                "derivative(derivative)": hd.derivative(lambda y: hd.derivative(f, y), x)}
        for path, value in got1.items():
            assert_close_ulps(value, t1, ulps=4, err_msg=f"{name} at {x}: {path}")
        for path, value in got2.items():
            assert_close_ulps(value, t2, ulps=4, err_msg=f"{name} at {x}: {path}")


# --------------------------------------------------------------------------------
# hyperdual's unary chain rule without scaled products: f'' = 0 times u' u' = inf
# --------------------------------------------------------------------------------
@pytest.mark.parametrize("x", [400.0, 360.0, 30.0])
def test_unary_second_derivative_where_the_tangent_product_overflows(x):
    """exp(x)' ** 2 overflows beyond 355; the truth, about
    -exp(-exp(2x)/2) exp(2x) / sqrt(2 pi), is far below the smallest subnormal: 0."""
    from scipy import special

    f = lambda v: special.log_ndtr(np.exp(v))  # noqa: E731
    truth = 0.0
    got = _hd_second_order_paths(f, x)
    for path, value in got.items():
        assert_close_ulps(value, truth, ulps=64, err_msg=f"log_ndtr(exp(x)) at {x}: {path}")


# --------------------------------------------------------------------------------
# x**c with a large constant c: the mantissa's power leaves the range
# --------------------------------------------------------------------------------
POWER_CASES = [(1100.0, 2.0), (2000.0, 2.0), (1e4, 1.1), (1e4, 0.9), (-1100.0, 2.0),
               (-1100.0, 0.5), (1100.0, -2.0), (1101.0, -2.0), (1e5, 1.001), (1100.5, 1.5),
               (-1100.5, 0.7), (1030.0, 1.9)]
POWER_PATHS = {
    "hyperdual.derivative": (1, lambda f, x: hd.derivative(f, x)),
    "reverse.derivative": (1, lambda f, x: rv.derivative(f, x)),
    "hyperdual.gradient": (1, lambda f, x: hd.gradient(lambda v: f(v[0]), np.array([x]))[0]),
    "hyperdual.second_derivative": (2, lambda f, x: hd.second_derivative(f, x)),
    "reverse.second_derivative": (2, lambda f, x: rv.second_derivative(f, x)),
    "hyperdual.hessian": (2, lambda f, x: hd.hessian(lambda v: f(v[0]), np.array([x]))[0, 0]),
}
TAYLOR_POWER_PATHS = {
    "hyperdual.derivatives[1]": (1, lambda f, x: hd.derivatives(f, x, order=3)[1]),
    "hyperdual.derivatives[3]": (3, lambda f, x: hd.derivatives(f, x, order=3)[3]),
    "hyperdual.nth_derivative 2": (2, lambda f, x: hd.nth_derivative(f, x, 2)),
    "hyperdual.derivatives on an array": (
        2, lambda f, x: hd.derivatives(f, np.array([x, 1.0]), order=2)[2, 0]),
    "reverse.derivatives": (2, lambda f, x: rv.derivatives(f, x, 2)[2]),
}


@pytest.mark.parametrize("path", sorted(POWER_PATHS) + sorted(TAYLOR_POWER_PATHS))
@pytest.mark.parametrize(("c", "x"), POWER_CASES)
def test_power_with_a_large_constant_exponent(path, c, x):
    """Within a few ulps times the condition number (abs(c - k)) where the truth is
    a normal float, inf of its sign beyond the range, 0 or subnormal below it.
    (Taylor mode's x**c split x0**c likewise: its derivatives of x**1100 at 2 were
    0 and of x**-1100 at 2 nan or inf.)"""
    k, run = {**POWER_PATHS, **TAYLOR_POWER_PATHS}[path]
    with M.workdps(50):
        cc, xx = M.mpf(c), M.mpf(x)
        truth = M.ff(cc, k) * xx ** (cc - k)  # c (c - 1) .. (c - k + 1) x**(c - k)
    with np.errstate(all="ignore"):
        got = float(run(lambda v: v ** c, x))
    if abs(truth) > np.finfo(float).max:
        assert got == (math.inf if truth > 0 else -math.inf), f"{path}: {got}, truth {truth}"
    elif abs(truth) < np.finfo(float).tiny:
        assert abs(got) < np.finfo(float).tiny and (got == 0 or (got > 0) == (truth > 0)), \
            f"{path}: {got}, truth {truth}"
    else:
        assert_close_ulps(got, float(truth), ulps=8 * k, cond=abs(c), err_msg=path)


# --------------------------------------------------------------------------------
# reverse's first-order range watch under the user's np.errstate
# --------------------------------------------------------------------------------
def _watch_cases():
    with M.workdps(50):
        x = M.mpf(1.7e100)
        t_arctan = float(2 * x / (1 + x ** 4))
        y = M.mpf(1e50)
        c = M.mpf(-7 / 3)  # the float exponent the program uses
        t_pow = float(c * (y ** 2 + 1) ** (c - 1) * 2 * y)
    return [
        (lambda v: np.sum(np.arctan(v ** 2)), np.array([1.7e100]), np.array([t_arctan])),
        (lambda v: (v[1] * v[1] + 1) ** (-7 / 3), np.array([1.0, 1e50]), np.array([0.0, t_pow])),
    ]


WATCH_PATHS = {
    "gradient": lambda f, p: rv.gradient(f, p),
    "value_and_gradient": lambda f, p: rv.value_and_gradient(f, p)[1],
    "jacobian": lambda f, p: rv.jacobian(lambda v: np.stack([f(v)]), p)[0],
    "vjp": lambda f, p: rv.vjp(f, p, 1.0)[1],
}


@pytest.mark.parametrize("state", [{"all": "ignore"}, {"all": "warn", "under": "ignore"},
                                   {"all": "ignore", "divide": "warn"}], ids=str)
@pytest.mark.parametrize("path", sorted(WATCH_PATHS))
def test_reverse_first_order_watch_under_the_users_errstate(path, state):
    for f, p, truth in _watch_cases():
        with np.errstate(**state):
            got = WATCH_PATHS[path](f, p)
        assert_close_ulps(got, truth, ulps=16, err_msg=f"{path} under {state}")


def test_the_watch_keeps_the_users_ignore():
    """sqrt'(0) = inf: no warning inside np.errstate(all="ignore"), numpy's divide
    warning outside it."""
    import warnings

    f = lambda v: np.sum(np.sqrt(v))  # noqa: E731
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with np.errstate(all="ignore"):
            g = rv.gradient(f, np.array([0.0, 1.0]))
        assert not caught, [str(w.message) for w in caught]
        assert g[0] == np.inf and g[1] == 0.5
        rv.gradient(f, np.array([0.0, 1.0]))
        assert any("divide by zero" in str(w.message) for w in caught)
