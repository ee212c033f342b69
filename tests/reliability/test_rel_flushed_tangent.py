"""Compositions whose inner function's own derivatives leave the float range while
the derivative of the whole is an ordinary float (issue 12, section 3).

``1/(1/u)`` at u = 1e200: the inner ``v = 1/u`` has the derivative -1e-400, which
underflows to 0 in hyperdual's tangent and in reverse's adjoint of v alike, and
the outer rule's partial (-1/v**2 = -1e400) cannot bring it back; the truth is 1.
Both engines gave 0 (reverse at 1e-300, where its retry at 2**600 flushed the
same adjoint; hyperdual's first-order helpers at 1e200, where nothing watched its
tangents); ``(1/u)**-0.5`` at 1e-300 (truth 5e149) needs a seed between 2**493
and 2**528 in reverse (1 underflows, 2**600 overflows); the second derivative of
``log(1/u)`` at 1e150 (truth 1e-300) had the wrong sign in hyperdual (1/u's
second part 2e-450 flushed, so one of the two terms of the chain rule was lost).

Now reverse's retries bisect the window of seeds between a pass that
underflowed and one that overflowed (``_exactdiff.fprange._narrow``), and
hyperdual's helpers at a float64 point watch numpy's underflow flag in their
pass (``_exactdiff.fprange.forward_pass``) and redo a flagged call with the seed
scaled.  Where no float64 seed reaches (``(1/u)**-2`` at 1e-250: the adjoint of
v = 1/u is 2e-750 times the seed; d2/du2 ``log(u**-3)`` at 1e100 needs v' v' =
9e-800 beside g''(v) = 1e600, and gave 4 times the truth), a call whose retries
settled nothing is redone in long double (``_exactdiff.fprange.UNSETTLED``).
Truths are closed forms, evaluated with mpmath at 50 digits.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from _exactdiff import fprange

M = pytest.importorskip("mpmath")

# (the compositions beyond seed scaling, and several inner values that overflow a
# chain rule's partial, are reached through one pass in long double: where it has
# float64's range, they are nan or, for the first, as wrong as before)
pytestmark = pytest.mark.skipif(fprange.WIDE is None,
                                reason="numpy's long double has float64's range here")

EPS = np.finfo(float).eps
TINY = np.finfo(float).tiny
ULPS = 8  # a few roundings per rule; each composition's condition number is at most 3

ENGINES = {"hd": hd, "rv": rv}

# name: (f, first derivative, second derivative) as mpmath closed forms
FORMS = {
    "1/(1/u)": (lambda u: 1 / (1 / u), lambda u: M.mpf(1), lambda u: M.mpf(0)),
    "(1/u)**-0.5": (lambda u: (1 / u) ** -0.5, lambda u: u ** -0.5 / 2,
                    lambda u: -u ** -1.5 / 4),
    "sqrt(1/u)**-1": (lambda u: np.sqrt(1 / u) ** -1.0, lambda u: u ** -0.5 / 2,
                      lambda u: -u ** -1.5 / 4),
    "log(1/u)": (lambda u: np.log(1 / u), lambda u: -1 / u, lambda u: 1 / u ** 2),
    "arctan(1/u)": (lambda u: np.arctan(1 / u), lambda u: -1 / (1 + u ** 2),
                    lambda u: 2 * u / (1 + u ** 2) ** 2),
    "(1/u)**-3": (lambda u: (1 / u) ** -3.0, lambda u: 3 * u ** 2, lambda u: 6 * u),
    "log(u**-3)": (lambda u: np.log(u ** -3.0), lambda u: -3 / u, lambda u: 3 / u ** 2),
    # beyond seed scaling: the adjoint of v = 1/u at 1e-250 is 2e-750 times the
    # seed, the product v' v' of v = u**-3 at 1e100 is 9e-800 beside g''(v) = 1e600
    "(1/u)**-2": (lambda u: (1 / u) ** -2.0, lambda u: 2 * u, lambda u: M.mpf(2)),
    "cbrt(u**-3)": (lambda u: np.cbrt(u ** -3.0), lambda u: -1 / u ** 2, lambda u: 2 / u ** 3),
    "log2(u**-3)": (lambda u: np.log2(u ** -3.0), lambda u: -3 / (u * M.log(2)),
                    lambda u: 3 / (u ** 2 * M.log(2))),
    "reciprocal(u**-3)": (lambda u: np.reciprocal(u ** -3.0), lambda u: 3 * u ** 2,
                          lambda u: 6 * u),
    "(u**-3)**-0.5": (lambda u: (u ** -3.0) ** -0.5, lambda u: 1.5 * u ** 0.5,
                      lambda u: 0.75 * u ** -0.5),
}
POINTS = (1e-300, 1e-250, 1e-200, 1e-150, 1e-100, 1e100, 1e150, 1e200, 1e300)


def _first_order(E, f, u):
    return {
        "derivative": E.derivative(f, u),
        "derivative[array]": E.derivative(f, np.array([u, 1.0]))[0],
        "gradient": E.gradient(lambda x: f(x[0]), np.array([u]))[0],
        "jacobian": E.jacobian(lambda x: f(x), np.array([u]))[0, 0],
        "value_and_gradient": E.value_and_gradient(lambda x: f(x[0]), np.array([u]))[1][0],
        "jvp": E.jvp(f, u, 1.0)[1],
    }


def _second_order(E, f, u):
    return {
        "second_derivative": E.second_derivative(f, u),
        "second_derivative[array]": E.second_derivative(f, np.array([u, 1.0]))[0],
        "hessian": E.hessian(lambda x: f(x[0]), np.array([u]))[0, 0],
        "hvp": E.hvp(lambda x: f(x[0]), np.array([u]), np.array([1.0]))[0],
    }


def _truth(form, u, order):
    with M.workdps(50):
        return FORMS[form][order](M.mpf(u))


def _cond_ok(form, u, order):
    # the second derivative of arctan(1/u) at tiny u is the difference of two terms
    # 1e300 times the truth (a condition number no float method has)
    return not (form == "arctan(1/u)" and order == 2 and u < 1)


_U3 = ("log(u**-3)", "cbrt(u**-3)", "log2(u**-3)", "reciprocal(u**-3)", "(u**-3)**-0.5")


def _needs_doubt(form, u):
    """Reached only by the long double redo of a call whose retries settled nothing
    (fprange.WIDENS_DOUBT: not where long double has float64's range, nor on numpy
    1.x, whose value-based casting keeps float64 arrays float64 beside it)."""
    return (form in _U3 and u == 1e100 or form == "(1/u)**-2" and u <= 1e-150
            or form == "(1/u)**-3" and u in (1e-150, 1e-100)
            or form == "cbrt(u**-3)" and u == 1e150)


_DOUBT = pytest.mark.skipif(not fprange.WIDENS_DOUBT,
                            reason="no long double redo of results in doubt here")


def _cases(order):
    for form in FORMS:
        for u in POINTS:
            t = _truth(form, u, order)
            if t == 0 or not TINY <= abs(t) <= np.finfo(float).max or not _cond_ok(form, u, order):
                continue
            with np.errstate(all="ignore", over="raise"):
                try:
                    if not np.isfinite(FORMS[form][0](np.float64(u))):
                        continue  # (f itself is not finite)
                except FloatingPointError:
                    continue  # (an inner value beyond the range: 1/inf is no derivative)
            marks = [_DOUBT] if _needs_doubt(form, u) else []
            for en in ENGINES:
                yield pytest.param(en, form, u, marks=marks, id=f"{en}-{form}-{u:g}")


def _assert_paths(helpers, engine, form, u, order):
    """Every path of ``helpers`` (_first_order or _second_order) within ULPS ulps."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = helpers(ENGINES[engine], FORMS[form][0], u)
    truth = _truth(form, u, order)
    bad = {name: float(g) for name, g in got.items()
           if not abs(M.mpf(float(g)) - truth) <= ULPS * EPS * abs(truth)}
    assert not bad, (bad, float(truth))


@pytest.mark.parametrize(("engine", "form", "u"), list(_cases(1)))
def test_first_order_through_a_flushed_inner_derivative(engine, form, u):
    _assert_paths(_first_order, engine, form, u, 1)


@pytest.mark.parametrize(("engine", "form", "u"), list(_cases(2)))
def test_second_order_through_a_flushed_inner_derivative(engine, form, u):
    _assert_paths(_second_order, engine, form, u, 2)


def _nested_cases():
    points = {(p.values[1], p.values[2]) for p in _cases(2)}
    for form, u in sorted(points, key=lambda fu: (list(FORMS).index(fu[0]), fu[1])):
        marks = [_DOUBT] if _needs_doubt(form, u) else []
        for outer in ENGINES:
            for inner in ENGINES:
                yield pytest.param(outer, inner, form, u, marks=marks,
                                   id=f"{outer}-{inner}-{form}-{u:g}")


@pytest.mark.parametrize(("outer", "inner", "form", "u"), list(_nested_cases()))
def test_nested_derivatives_through_a_flushed_inner_derivative(outer, inner, form, u):
    # the inner helper runs on the outer's numbers, unwatched: the outer call's
    # retries (and its long double pass) keep the whole in range.  Before:
    # hd(hd) of (1/u)**-3 at 1e-150 was 0, hd(rv) twice the truth; 17 of 160 wrong
    A, B = ENGINES[outer], ENGINES[inner]
    f = FORMS[form][0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = A.derivative(lambda s: B.derivative(f, s), u)
    truth = _truth(form, u, 2)
    assert abs(M.mpf(float(got)) - truth) <= ULPS * EPS * abs(truth), (float(got), float(truth))


def test_own_underflow_of_f_keeps_one_retry():
    # f's own exp(-800) underflows in every pass: the watch redoes the call once at
    # 2**600, which agrees, and the result is the first pass's (exp(-800) * 3 = 0
    # to the float range; the derivative 2 of the other term is exact)
    f = lambda u: np.exp(-800.0 * u) * 3.0 + 2.0 * u  # noqa: E731
    for E in (hd, rv):
        assert E.derivative(f, 1.0) == 2.0
        np.testing.assert_array_equal(E.gradient(lambda x: f(x[0]) + x[1], np.array([1.0, 5.0])),
                                      [2.0, 1.0])


def test_forward_watch_keeps_the_users_error_mode():
    # under errstate(under="raise") f's own underflow still raises, at f's
    # operation; under the default modes the watch warns of nothing
    with np.errstate(under="raise"):
        with pytest.raises(FloatingPointError):
            hd.derivative(lambda u: u * 1e-300 * 1e-300, np.array([1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hd.derivative(lambda u: np.log(1 / u), 1e200) == -1e-200
