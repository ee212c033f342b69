"""``method="backprop"`` of reverse's Taylor-mode helpers kept in the float range
(issue 12, far range).

``reverse.derivatives(f, x, K, method="backprop")`` differentiates K times by
recorded backward passes; it had none of the range retries of reverse's other
helpers, so an adjoint that underflowed in a pass was a silent 0:
``derivatives(lambda x: x / (x*x + 1), -1e100, 2, method="backprop")`` gave the
second derivative 4e-300 (truth -2e-300; the default Taylor method and
``reverse.second_derivative`` were right).  The K-th order now runs through the
range watch of the second-order helpers (seeds of the first two passes scaled),
the lower orders likewise where the first try was flagged, and entries still inf
or nan are redone once in long double.

Truth: mpmath (closed forms at 60 digits, ``mpmath.diff`` of the compositions in v
at 400 digits, enough for the differences of pi/2 - 1e-217); tolerance
``ULPS`` ulps times the condition number of the chain rule's terms.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special as sp

import hyperdual as hd
import reverse as rv
from _exactdiff import fprange

M = pytest.importorskip("mpmath")

EPS = float(np.finfo(float).eps)
TINY = float(np.finfo(float).tiny)
BIG = float(np.finfo(float).max)
ULPS = 16


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


def _rational(x):
    return x / (x * x + 1.0)


def _rational_mp(n, x):
    """The closed forms of x / (x**2 + 1) and its first two derivatives."""
    with M.workdps(60):
        X = M.mpf(x)
        q = X * X + 1
        return [X / q, (1 - X * X) / q ** 2, 2 * X * (X * X - 3) / q ** 3][n]


def test_the_issue_example():
    got = rv.derivatives(_rational, -1e100, 2, method="backprop")
    for k in range(3):
        want = _rational_mp(k, -1e100)
        assert abs(M.mpf(float(got[k])) - want) <= ULPS * EPS * abs(want), (k, got[k])


@pytest.mark.parametrize("x", [-1e100, 1e100, 3e101, -5e101, 1.7e95])
def test_every_backprop_helper(x):
    want = _rational_mp(2, x)
    got = {
        "derivatives": rv.derivatives(_rational, x, 2, method="backprop")[2],
        "nth_derivative": rv.nth_derivative(_rational, x, 2, method="backprop"),
        "taylor": 2 * rv.taylor(_rational, x, 2, method="backprop")[2],
        "derivatives (array)": rv.derivatives(_rational, np.array([x, 0.5]), 2,
                                              method="backprop")[2, 0],
    }
    bad = {k: v for k, v in got.items()
           if not abs(M.mpf(float(v)) - want) <= ULPS * EPS * abs(want)}
    assert not bad, (bad, float(want))


# --- a sweep: compositions f(exp(v)) whose adjoints leave the range ----------------------
RULES = {
    "arctan": (np.arctan, M.atan),
    "reciprocal": (np.reciprocal, lambda u: 1 / u),
    "x**-2": (lambda u: u ** -2.0, lambda u: u ** -2),
    "x**-0.5": (lambda u: u ** -0.5, lambda u: u ** -0.5),
    "erfcx": (sp.erfcx, None),
}


def _erfcx_mp(u):
    # the asymptotic series (u >= 1e65 here): four terms are exact to 60 digits
    s, t = M.mpf(0), M.mpf(1)
    for k in range(4):
        s += t
        t *= -(2 * k + 1) / (2 * u * u)
    return s / (u * M.sqrt(M.pi))


def _truth(rule, v, order):
    F = RULES[rule][1] or _erfcx_mp
    # (digits enough for mpmath.diff's differences: arctan(exp(v)) is pi/2 - 1e-217
    # at v = 500, whose derivatives are 1e-217)
    with M.workdps(400):
        V = M.mpf(v)
        g = [M.diff(lambda t: F(M.exp(t)), V, n) for n in (1, 2, 3)]
        want = g[order - 1]
        if order == 2:
            terms = [g[1] - g[0], g[0]]
        else:
            terms = [g[2] - 3 * g[1] + 2 * g[0], 3 * (g[1] - g[0]), g[0]]
        return want, float(sum(abs(t) for t in terms) / abs(want))


POINTS = {
    # (the third derivative of arctan(exp(v)) from v = 600 on, 3e-261, is 0 through
    # every reverse path: README, "Not yet in range")
    "arctan": [300.0, 360.0, 500.0],
    "reciprocal": [400.0, 600.0, -360.0, -600.0],
    "x**-2": [300.0, 345.0, -300.0, -345.0],
    "x**-0.5": [500.0, 700.0, -500.0, -700.0],
    "erfcx": [360.0, 500.0, 700.0],
}
CASES = [(r, v, k) for r, vs in POINTS.items() for v in vs for k in (2, 3)]


@pytest.mark.parametrize(("rule", "v", "order"), CASES)
def test_backprop_orders_against_mpmath(rule, v, order):
    want, cond = _truth(rule, v, order)
    if not TINY <= abs(want) <= BIG:
        pytest.skip("the truth is not a normal float")
    f = RULES[rule][0]
    got = _quiet(rv.derivatives, lambda x: f(np.exp(x)), v, order, method="backprop")
    # the orders below agree with the helpers of those orders (they are right there)
    assert abs(M.mpf(float(got[order])) - want) <= ULPS * cond * EPS * abs(want), (
        float(got[order]), float(want))
    d1 = _quiet(rv.derivative, lambda x: f(np.exp(x)), v)
    assert float(got[1]) == d1 or abs(got[1] - d1) <= 4 * EPS * abs(d1)


@pytest.mark.skipif(fprange.WIDE is None, reason="numpy's long double has float64's range")
def test_beyond_the_range_is_inf():
    """d/dv 1/v**2 and d2/dv2 at 1.2e-154 overflow: -inf and +inf (were inf - inf = nan)."""
    got = _quiet(rv.derivatives, lambda v: 1.0 / (v * v), 1.2e-154, 2, method="backprop")
    assert got[0] == 1.0 / (1.2e-154 * 1.2e-154)
    assert got[1] == -np.inf and got[2] == np.inf


def test_nested_and_outer_traces_keep_their_path():
    """Inside an outer helper (f closes over its numbers), and an outer Variable:
    the plain chain, differentiated by the outer trace."""
    def inner(t):
        return rv.derivatives(lambda x: t * x ** 3, 2.0, 2, method="backprop")[2]

    assert rv.derivative(inner, 1.5) == 12.0
    assert hd.derivative(inner, 1.5) == 12.0
    got = rv.derivatives(lambda x: rv.derivative(np.sin, x), 1.0, 2, method="backprop")
    np.testing.assert_allclose(got, [np.cos(1.0), -np.sin(1.0), -np.cos(1.0)], rtol=4 * EPS)
