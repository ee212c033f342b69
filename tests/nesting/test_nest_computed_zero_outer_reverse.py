"""A computed zero inside a nested gradient, differentiated by an outer reverse pass.

``f(x) = h(x0) * x1**2`` at (0, 1) with ``h`` one of ``cbrt(x0**3)`` (= x0),
``sqrt(x0**2)`` (= |x0|) and ``gammainc(0.5, x0**2)`` (= erf(|x0|)).  The inner
gradient's entry 0 is ``h'(x0) x1**2``: each engine computes it as an infinite
derivative (``cbrt'(0)``, ``sqrt'(0)``, ``d/dy gammainc(0.5, y)`` at 0) times the
computed zero ``d/dx0`` of ``x0**3`` / ``x0**2`` (``3 x0**2``, ``2 x0``), so it is nan
(the project's convention: a computed zero next to an infinite derivative gives
nan, never a finite number).  Its derivative with respect to ``x1`` is
``2 h'(0) x1``: 2 for cbrt (truth), undefined for the two others; with reverse mode
outside it came out 0 (the inner pass recorded ``inf * 0`` as a plain product, and
the outer pass's zero-cotangent guard cut its cotangent path: the cotangent was the
computed zero ``3 x0**2``, whose own derivative ``6 x0`` is finite, so the audit took
it for a clean one).  ``reverse._audit.mirrored_graph`` now makes the derivatives of
such a nan entry nan along its paths in a nested pass whose input is a Variable of
the outer trace as well.

Truths by hand (the Hessian of f at (0, 1)):

* cbrt: ``[[0, 2], [2, 0]]``; every entry but ``[1, 1]`` meets the computed zero
  of x0 (nan allowed there), ``[1, 1] = 2 h(0) = 0`` exactly.
* sqrt, gammainc: ``[[?, ?], [?, 0]]``: ``h`` has a kink at 0 (|x0|, erf(|x0|)), so
  every entry involving x0 is undefined (any non-finite value: nan, or inf for the
  kink's second derivative), ``[1, 1] = 0`` exactly.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sps

import hyperdual as hd
import reverse as rv

ENGINES = {"hyperdual": hd, "reverse": rv}
X = np.array([0.0, 1.0])
U = np.nan  # an undefined truth

#: name: (f, the Hessian of f at X)
CASES = {
    "cbrt(x0**3)*x1**2": (lambda x: np.cbrt(x[0] ** 3) * x[1] ** 2, [[0.0, 2.0], [2.0, 0.0]]),
    "sqrt(x0**2)*x1**2": (lambda x: np.sqrt(x[0] ** 2) * x[1] ** 2, [[U, U], [U, 0.0]]),
    "gammainc(0.5,x0**2)*x1**2": (lambda x: sps.gammainc(0.5, x[0] ** 2) * x[1] ** 2,
                                  [[U, U], [U, 0.0]]),
}
NESTINGS = {f"{inner}-in-{outer}": (ENGINES[outer], ENGINES[inner])
            for outer in ENGINES for inner in ENGINES}


pytestmark = pytest.mark.usefixtures("quiet_floats")


def _never_finite_wrong(got, truth):
    """Each entry is its truth exactly or nan; where the truth is undefined, any
    non-finite value (never a finite number).  (Which entries must be exact:
    test_entry_away_from_the_computed_zero_is_exact.)"""
    got = np.asarray(got, dtype=float)
    truth = np.asarray(truth, dtype=float)
    undefined = np.isnan(truth)
    ok = np.where(undefined, ~np.isfinite(got), (got == truth) | np.isnan(got))
    assert ok.all(), f"{got.tolist()} (truth {truth.tolist()})"


def _nested_hessian(outer, inner, f):
    return outer.jacobian(lambda u: inner.gradient(f, u), X)


@pytest.mark.parametrize("outer, inner", NESTINGS.values(), ids=NESTINGS.keys())
@pytest.mark.parametrize("name", CASES)
def test_jacobian_of_gradient_never_finite_wrong(outer, inner, name):
    f, truth = CASES[name]
    _never_finite_wrong(_nested_hessian(outer, inner, f), truth)


@pytest.mark.parametrize("inner", ENGINES.values(), ids=ENGINES.keys())
@pytest.mark.parametrize("name", CASES)
def test_reverse_gradient_of_the_computed_entry(inner, name):
    # the outer gradient of the inner gradient's nan entry 0: its x1 entry was 0
    f, truth = CASES[name]
    g = rv.gradient(lambda u: inner.gradient(f, u)[0], X)
    _never_finite_wrong(g, truth[0])


@pytest.mark.parametrize("outer, inner", [
    pytest.param(*pair, id=name, marks=[pytest.mark.xfail(
        strict=True, reason="hyperdual inside hyperdual: the nan of the computed zero "
        "reaches J[1, 1] too (its audit does not tell the rows of the inner gradient "
        "apart), truth 0")] if name == "hyperdual-in-hyperdual" else [])
    for name, pair in NESTINGS.items()])
@pytest.mark.parametrize("name", CASES)
def test_entry_away_from_the_computed_zero_is_exact(outer, inner, name):
    # J[1, 1] = d/dx1 (2 x1 h(x0)) = 2 h(0) = 0: no computed zero on its paths
    f, _ = CASES[name]
    assert _nested_hessian(outer, inner, f)[1, 1] == 0.0


#: structural zeros next to the same infinite derivatives: the Hessian of
#: x0 * x1**2 exactly, [[0, 2], [2, 0]] (the nan must not reach them).  With
#: hyperdual inside hyperdual the inner pass's tangents are numbers of the outer
#: tag: the constant zero weight makes all of such a tangent 0 (its nan value of
#: cbrt'(0) * 0 and the outer derivatives of it; J[:, 1] was nan)
STRUCTURAL = {
    "where(x0>0, cbrt(x0**3), x0)*x1**2":
        lambda x: np.where(x[0] > 0, np.cbrt(x[0] ** 3), x[0]) * x[1] ** 2,
    "(x0 + 0.0*cbrt(x0**3))*x1**2": lambda x: (x[0] + 0.0 * np.cbrt(x[0] ** 3)) * x[1] ** 2,
    "(x0 + cbrt(x0**3)*0.0)*x1**2": lambda x: (x[0] + np.cbrt(x[0] ** 3) * 0.0) * x[1] ** 2,
    "(x0 + cbrt(x0**3)/inf)*x1**2": lambda x: (x[0] + np.cbrt(x[0] ** 3) / np.inf) * x[1] ** 2,
    "(x0 + xlogy(0, 1+cbrt(x0**3)))*x1**2":
        lambda x: (x[0] + sps.xlogy(0.0, 1.0 + np.cbrt(x[0] ** 3))) * x[1] ** 2,
    "[0,1]@[cbrt(x0**3), x0]*x1**2":
        lambda x: np.sum(np.array([0.0, 1.0]) * np.stack([np.cbrt(x[0] ** 3), x[0]])) * x[1] ** 2,
    "x0*x1**2 + 0.0*sqrt(x0)": lambda x: x[0] * x[1] ** 2 + 0.0 * np.sqrt(x[0]),
}


@pytest.mark.parametrize("outer, inner", NESTINGS.values(), ids=NESTINGS.keys())
@pytest.mark.parametrize("name", STRUCTURAL)
def test_structural_zeros_stay_exact(outer, inner, name):
    J = _nested_hessian(outer, inner, STRUCTURAL[name])
    assert np.array_equal(J, [[0.0, 2.0], [2.0, 0.0]]), J


@pytest.mark.parametrize("outer", ENGINES.values(), ids=ENGINES.keys())
@pytest.mark.parametrize("inner", ENGINES.values(), ids=ENGINES.keys())
@pytest.mark.parametrize("name", STRUCTURAL)
def test_structural_zero_along_a_curve(outer, inner, name):
    # d/ds of the inner gradient's entry 0 (= x1**2) along x = (0, s), at s = 1: 2
    f = STRUCTURAL[name]
    assert outer.derivative(lambda s: inner.gradient(f, np.stack([0.0 * s, s]))[0], 1.0) == 2.0


@pytest.mark.parametrize("name", ["0.0*cbrt(x0**3)", "cbrt(x0**3)/inf"])
def test_the_zero_weight_keeps_the_computed_zero_elsewhere(name):
    # the weight zeroes its own term only: next to it, the unweighted cbrt(x0**3)
    # still meets its computed zero (nan at J[0, 0], never a finite wrong entry)
    h = {"0.0*cbrt(x0**3)": lambda x: 0.0 * np.cbrt(x[0] ** 3),
         "cbrt(x0**3)/inf": lambda x: np.cbrt(x[0] ** 3) / np.inf}[name]
    f = lambda x: (h(x) + np.cbrt(x[0] ** 3)) * x[1] ** 2  # noqa: E731
    _never_finite_wrong(_nested_hessian(hd, hd, f), CASES["cbrt(x0**3)*x1**2"][1])
    assert np.isnan(_nested_hessian(hd, hd, f)[0, 0])
