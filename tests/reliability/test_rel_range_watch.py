"""Reverse mode's range watch on its common path (issue 12, section 3).

A first-order helper of ``reverse`` called on its own at a float64 point runs
its backward pass with numpy's floating-point flags watched
(``_exactdiff.fprange.first_pass``): where an adjoint under- or overflowed, the
call is redone through the range watch with the seed scaled by powers of two.
Before, only a result with an inf or nan entry (or a float result that is 0 or
subnormal) was redone, so an array entry flushed to 0 by an underflow stayed
0: ``reverse.gradient`` of ``sum(arctan(x**2))`` at [1.7e100] was [0.] (truth
4.07e-301: ``1 / (1 + u**2)`` underflows at u = 2.89e200 before the factor
2x = 3.4e100 brings it back).

Also here: reverse's second derivative whose truth overflows where its terms
span more than the float range (``d2/dv2 1/v**2`` at 1.7e-150 was nan, truth
7e599: +inf), and the warnings: an adjoint that overflowed at seed 1 in a call
whose redone result is right warns of nothing, and a warning that the watch
passes on from f's own operations names the ufunc, as numpy's does.

Truth: mpmath at 50 digits (``mpmath.workdps``); tolerances a few ulps times the
condition number of the closed form's evaluation (1 here: products and
quotients of the input, each rounded once).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import reverse as rv
from tests._tolerance import assert_close_ulps

M = pytest.importorskip("mpmath")

ULPS = 8  # a handful of roundings (the rule's products, the chain rule's, ldexp's none)


def _truth(expr, xs):
    """float(expr(mpf(x))) at 50 digits for each x."""
    with M.workdps(50):
        return np.array([float(expr(M.mpf(float(x)))) for x in xs])


# (name, f elementwise, f' at 50 digits, points: entries whose backward pass underflows,
#  next to an ordinary one)
CASES = [
    ("arctan(x**2)", lambda v: np.arctan(v ** 2), lambda x: 2 * x / (1 + x ** 4),
     np.array([1.7e100, -2e100, 0.5])),
    ("arctan(x**3)", lambda v: np.arctan(v ** 3), lambda x: 3 * x ** 2 / (1 + x ** 6),
     np.array([1e60, -2e60, 0.5])),
    ("1/(1+x**2)", lambda v: np.reciprocal(1 + v ** 2), lambda x: -2 * x / (1 + x ** 2) ** 2,
     np.array([1e100, -3e100, 0.5])),
    ("x/(1+x**2)**2", lambda v: v / (1 + v ** 2) ** 2,
     lambda x: (1 - 3 * x ** 2) / (1 + x ** 2) ** 3, np.array([1e75, -2e75, 0.5])),
]
IDS = [c[0] for c in CASES]


def _gradient(g, x):
    return rv.gradient(lambda v: np.sum(g(v)), x)


def _value_and_gradient(g, x):
    value, grad = rv.value_and_gradient(lambda v: np.sum(g(v)), x)
    assert value == pytest.approx(float(np.sum(g(x))), rel=1e-15)
    return grad


def _jacobian(g, x):
    jac = rv.jacobian(g, x)
    off = jac[~np.eye(x.size, dtype=bool)]
    assert not off.any()
    return np.diag(jac)


def _vjp(g, x):
    value, ct = rv.vjp(g, x, np.ones_like(x))
    return ct


def _derivative(g, x):
    return rv.derivative(g, x)


def _jvp(g, x):
    value, tangent = rv.jvp(g, x, np.ones_like(x))
    return tangent


def _linearize(g, x):
    value, jvp_fn = rv.linearize(g, x)
    return jvp_fn(np.ones_like(x))


HELPERS = {"gradient": _gradient, "value_and_gradient": _value_and_gradient,
           "jacobian": _jacobian, "vjp": _vjp, "derivative": _derivative, "jvp": _jvp,
           "linearize": _linearize}


@pytest.mark.parametrize("helper", list(HELPERS))
@pytest.mark.parametrize("name,g,dg,x", CASES, ids=IDS)
def test_entries_flushed_by_an_underflow_are_redone(helper, name, g, dg, x):
    want = _truth(dg, x)
    assert np.all(np.abs(want[:-1]) >= np.finfo(float).tiny)  # normal truths
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning: nothing is wrong with f
        got = HELPERS[helper](g, x)
    assert_close_ulps(got, want, ULPS, err_msg=f"{helper} {name}")


@pytest.mark.parametrize("name,g,dg,x", CASES, ids=IDS)
def test_scalar_points(name, g, dg, x):
    # a float result: the same redo (it was already taken for a 0 result)
    for xi in x:
        assert_close_ulps(rv.derivative(g, float(xi)), _truth(dg, [xi])[0], ULPS, err_msg=name)


def test_a_genuine_zero_gradient_stays_zero():
    # a backward pass with no flag: zeros of a ReLU and a where are the truth
    x = np.array([-1.0, 2.0, 0.0, 1e100])
    got = rv.gradient(lambda v: np.sum(np.maximum(v, 0.0) + np.where(v > 1e99, 0.0 * v, v)), x)
    np.testing.assert_array_equal(got, [1.0, 2.0, 1.5, 1.0])


def test_underflow_of_the_truth_stays_below_the_range():
    # the truth itself underflows (-2e-400): 0 (or the subnormal nearest), not a finite
    # number of the wrong sign, and no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = rv.gradient(lambda v: np.sum(np.reciprocal(1 + v ** 2)), np.array([1e150, 1.0]))
    assert got[0] == 0.0 and got[1] == -0.5


# --- the second derivative whose truth overflows ----------------------------------------
def _recip_sq(v):
    return np.reciprocal(v ** 2)


@pytest.mark.parametrize("x", [1.7e-150, -1.7e-150, 1e-140, 1e-120, 1e-100, 1e-80])
def test_second_derivative_beyond_the_range_is_inf(x):
    # 6 v**-4 beyond the float range, f itself finite: +inf (was nan)
    with M.workdps(50):
        assert 6 * M.mpf(x) ** -4 > M.mpf(np.finfo(float).max)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert rv.second_derivative(_recip_sq, x) == np.inf


@pytest.mark.parametrize("x", [3e-77, -5e-77, 1e-70])
def test_second_derivative_near_the_edge(x):
    want = _truth(lambda v: 6 / v ** 4, [x])[0]
    assert_close_ulps(rv.second_derivative(_recip_sq, x), want, ULPS)


# --- warnings ----------------------------------------------------------------------------
def _inv_abs(v):
    return (v ** 2) ** -0.5  # d/dv at 1e-120: -1e240, the adjoint -0.5 u**-1.5 overflows


def test_an_adjoint_that_overflowed_in_a_right_result_does_not_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = rv.derivative(_inv_abs, 1e-120)
        g = rv.gradient(lambda v: np.sum(_inv_abs(v)), np.array([1e-120, 1.0]))
    assert_close_ulps(d, -1e240, ULPS)
    assert_close_ulps(g, [-1e240, -1.0], ULPS)
    assert [str(w.message) for w in caught] == []


def test_a_singular_derivative_still_warns():
    # sqrt'(0) = 0.5 / sqrt(0): inf, with numpy's divide warning (the conventions table)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert rv.gradient(lambda v: np.sum(np.sqrt(v)), np.array([0.0, 4.0]))[0] == np.inf
    assert any("divide by zero encountered" in str(w.message) for w in caught)


def test_warnings_of_f_name_the_ufunc():
    # f's own overflow, in a first pass and in the watched passes: numpy's wording
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rv.gradient(lambda v: np.sum(np.exp(v)), np.array([1000.0, 1.0]))
        rv.second_derivative(np.exp, 1000.0)
        rv.hessian(lambda v: np.sum(np.exp(v)), np.array([1000.0, 1.0]), )
    messages = {str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)}
    assert messages and all(m.endswith(" in exp") for m in messages), messages


def test_the_users_error_settings_are_kept():
    # under np.errstate(under="raise") the watch sees the adjoint's underflow (the
    # truth, not FloatingPointError from the library's own pass), and f's own
    # underflow raises as numpy raises it (test_rel_errstate_watch: every mode)
    want = _truth(lambda x: 2 * x / (1 + x ** 4), [1.7e100])
    with np.errstate(under="raise"):
        got = rv.gradient(lambda v: np.sum(np.arctan(v ** 2)), np.array([1.7e100]))
    assert_close_ulps(got, want, ulps=ULPS)
    with np.errstate(under="raise"), pytest.raises(FloatingPointError):
        rv.gradient(lambda v: np.sum(np.arctan(v ** 2) + np.exp(-800.0 * (v / v))),
                    np.array([1.7e100]))
