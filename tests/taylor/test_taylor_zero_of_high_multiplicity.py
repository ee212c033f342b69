"""Taylor mode at a singular point whose argument vanishes to an order above K.

Truncated at order K, the series of ``(t - 1)**4`` at t = 1 is all zeros, the same as
that of the constant 0: Taylor arithmetic cannot tell them apart, but ``sqrt`` can
(sqrt((t - 1)**4) = (t - 1)**2 has second derivative 2, sqrt(0 * t) none).  The rules
take an all-zero series as constant (``_taylor._kept_constant``), right for a
structural constant and wrong for a computed one, so the Taylor-mode helpers audit
such calls with nan probes (``hyperdual.taylor_helpers._audited``): a computed zero
series gives nan (issue 12, class 2: nan or the truth, never a wrong number), a
structural one keeps its exact zeros, and the other elements and directions keep their
values.  Truths by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

ENGINES = (hd, rv)


pytestmark = pytest.mark.usefixtures("quiet_floats")


def _never_finite_wrong(got, truth):
    got = np.asarray(got, dtype=float)
    ok = np.isnan(got) | (got == np.asarray(truth, dtype=float))
    assert ok.all(), f"{got.tolist()} (truth {truth})"


def _moving_nan(got, truth):
    """nan or the truth, and nan somewhere: the audit saw the computed zero."""
    _never_finite_wrong(got, truth)
    assert np.isnan(np.asarray(got, dtype=float)).any(), got


#: f, order K, the truth of derivatives(f, 1.0, K): the argument vanishes to order > K
COMPUTED = {
    "sqrt((t-1)**4), K=3": (lambda t: np.sqrt((t - 1.0) ** 4), 3, [0.0, 0.0, 2.0, 0.0]),
    "cbrt((t-1)**3), K=2": (lambda t: np.cbrt((t - 1.0) ** 3), 2, [0.0, 1.0, 0.0]),
    "((t-1)**4)**0.75, K=3": (lambda t: np.power((t - 1.0) ** 4, 0.75), 3,
                             [0.0, 0.0, 0.0, 6.0]),
    # arcsin(1 - s**4) = pi/2 - sqrt(2) s**2 + O(s**6)
    "arcsin(1-(t-1)**4), K=3": (lambda t: np.arcsin(1.0 - (t - 1.0) ** 4), 3,
                               [np.arcsin(1.0), 0.0, -2.0 * math.sqrt(2.0), 0.0]),
    # a moving exponent whose series is constant: the base's zero is still computed
    "((t-1)**4)**(0.5+0t), K=3": (lambda t: ((t - 1.0) ** 4) ** (0.5 + 0.0 * t), 3,
                                 [0.0, 0.0, 2.0, 0.0]),
}


@pytest.mark.parametrize("name", COMPUTED)
@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_a_computed_zero_series_is_not_taken_as_constant(eng, name):
    f, k, truth = COMPUTED[name]
    _moving_nan(eng.derivatives(f, 1.0, k), truth)


@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_every_taylor_helper_audits(eng):
    f = COMPUTED["sqrt((t-1)**4), K=3"][0]
    _moving_nan(eng.taylor(f, 1.0, 3), [0.0, 0.0, 1.0, 0.0])
    got = eng.nth_derivative(f, 1.0, 2)
    assert math.isnan(got) or got == 2.0, got
    _moving_nan([eng.nth_derivative(f, np.array([1.0]), 2)], [[2.0]])
    _moving_nan(eng.derivatives(f, [1.0], 3), [[0.0], [0.0], [2.0], [0.0]])


@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_only_the_singular_element_or_direction_becomes_nan(eng):
    f = COMPUTED["sqrt((t-1)**4), K=3"][0]
    got = eng.derivatives(f, np.array([1.0, 3.0]), 3)
    _moving_nan(got[:, 0], [0.0, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(got[:, 1], [4.0, 4.0, 2.0, 0.0])  # (t - 1)**2 at 3

    def g(x):
        return np.sqrt((x[0] - 1.0) ** 4) + x[1] ** 2

    x = np.array([1.0, 2.0])
    # along (1, 1): t**2 + (2 + t)**2
    _moving_nan(eng.directional_derivatives(g, x, np.array([1.0, 1.0]), 3),
                [4.0, 4.0, 4.0, 0.0])
    both = eng.directional_derivatives(g, x, np.eye(2), 3)
    _moving_nan(both[0], [4.0, 0.0, 2.0, 0.0])
    # along e1 the sqrt's argument does not move: a structural constant, kept exactly
    np.testing.assert_array_equal(both[1], [4.0, 4.0, 2.0, 0.0])
    # elements of one array with different exponents: x**2 of the zero series is exact
    got = eng.derivatives(lambda t: np.power((t - 1.0) ** 4 * np.ones(2),
                                             np.array([0.5, 2.0])), 1.0, 3)
    _moving_nan(got[:, 0], [0.0, 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(got[:, 1], [0.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_structural_constants_keep_their_zeros(eng):
    # sqrt(0 t) does not depend on t
    np.testing.assert_array_equal(eng.derivatives(lambda t: np.sqrt(0.0 * t), 1.0, 3),
                                  [0.0, 0.0, 0.0, 0.0])
    # beside a moving term, which keeps its exact derivatives
    got = eng.derivatives(lambda t: np.sqrt(0.0 * t) + np.sin(t), 1.0, 3)
    assert_close_ulps(got, [math.sin(1.0), math.cos(1.0), -math.sin(1.0), -math.cos(1.0)],
                      ulps=8)
    # a where mask: the branch not taken is a structural constant too
    got = eng.derivatives(lambda t: np.where(t > 5.0, np.sqrt((t - 1.0) ** 4), 0.0) + t,
                          1.0, 3)
    np.testing.assert_array_equal(got, [1.0, 1.0, 0.0, 0.0])


@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_a_function_the_audit_cannot_carry_gives_nan(eng):
    # np.cumsum leaves the direction stack the audit runs on: it cannot tell which
    # element's zero series was computed, so every derivative of order >= 1 is nan
    got = eng.derivatives(lambda t: np.sqrt(np.cumsum(np.stack([(t - 1.0) ** 4,
                                                                 0.0 * t + 1.0]))), 1.0, 2)
    np.testing.assert_array_equal(got[0], [0.0, 1.0])
    assert np.isnan(got[1:]).all(), got


@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_what_was_right_before_the_audit(eng):
    # a zero of order 2 at the kink of abs: |t - 1| has no derivative at 1 (nan)
    got = eng.derivatives(lambda t: np.sqrt((t - 1.0) ** 2), 1.0, 2)
    assert got[0] == 0.0 and np.isnan(got[1]) and np.isnan(got[2])
    # a zero of order K or less is seen: sqrt((t-1)**4) to order 4 is 0 below order 2
    # (the branch rule's nan above, which would need the series beyond order K)
    got = eng.derivatives(lambda t: np.sqrt((t - 1.0) ** 4), 1.0, 4)
    np.testing.assert_array_equal(got[:2], [0.0, 0.0])
    _never_finite_wrong(got, [0.0, 0.0, 2.0, 0.0, 0.0])
    # the first- and second-order helpers audit the computed zero: nan, not 0
    assert np.isnan(eng.second_derivative(lambda t: np.sqrt((t - 1.0) ** 4), 1.0))
    assert np.isnan(eng.derivative(lambda t: np.cbrt((t - 1.0) ** 3), 1.0))


@pytest.mark.parametrize("inner", ENGINES, ids=lambda e: e.__name__)
@pytest.mark.parametrize("outer", ENGINES, ids=lambda e: e.__name__)
def test_nested_in_either_engine(outer, inner):
    # d/ds of the second derivative of s sqrt((t - 1)**4) at t = 1: the truth is 2
    got = outer.derivative(
        lambda s: inner.derivatives(lambda t: np.sqrt((t - 1.0) ** 4) * s, 1.0, 3)[2], 1.0)
    assert np.isnan(got) or got == 2.0, got
    # d/ds of it where the zero's centre moves with s: the truth is 0
    got = outer.derivative(
        lambda s: inner.derivatives(lambda t: np.sqrt((t - s) ** 4), 1.0, 3)[2], 1.0)
    assert np.isnan(got) or got == 0.0, got
    # Taylor mode outside: d^k/dt^k of d/ds (s**2 sqrt((t - 1)**4)) = 2 (t - 1)**2
    got = inner.derivatives(
        lambda t: outer.derivative(lambda s: np.sqrt((t - 1.0) ** 4) * s * s, 1.0), 1.0, 3)
    _moving_nan(got, [0.0, 0.0, 4.0, 0.0])
    # a structural constant: exact where the audit can run (a reverse Variable in f
    # hands the inner call to reverse's backprop); under hyperdual's outer pass the
    # redo's direction stack cannot carry the outer Dual, so it cannot tell: nan
    got = outer.derivative(
        lambda s: inner.derivatives(lambda t: np.sqrt(0.0 * t) + s * t * t, 1.0, 3)[2], 1.0)
    if outer is rv:
        assert got == 2.0, got
    else:
        assert np.isnan(got), got


@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_custom_rules_keep_constant_series_and_are_audited(eng):
    special = pytest.importorskip("scipy.special")
    # gammainc(0.5, x) has an infinite derivative at x = 0: the element that does not
    # move keeps a constant series (its tangent series was 0 * inf = nan); the array
    # and the scalar evaluations of the rule may round differently (scipy 1.11: 1 ulp)
    got = eng.derivatives(lambda t: np.sum(special.gammainc(0.5, t * np.array([0.0, 1.0]))),
                          1.0, 3)
    assert_close_ulps(got, eng.derivatives(lambda t: special.gammainc(0.5, t), 1.0, 3),
                      ulps=8)
    # a computed zero series there: gammainc(0.5, s**4) = erf(s**2) = 2 s**2 / sqrt(pi) + ...
    _moving_nan(eng.derivatives(lambda t: special.gammainc(0.5, (t - 1.0) ** 4), 1.0, 3),
                [0.0, 0.0, 4.0 / math.sqrt(math.pi), 0.0])
