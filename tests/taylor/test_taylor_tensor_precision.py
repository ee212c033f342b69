"""derivative_tensor: the interpolation's rounding and non-finite entries.

Each entry is sum_i gamma(j, i) c_i over the directions i within its support
(c_i the d-th normalised Taylor coefficient along i).  The weights are rational
numbers rounded once (they were float sums, a few ulps off) and the sum is formed
with one rounding (math.fsum of the rounded products), so an entry is within a
few ulps of sum_i abs(gamma(j, i) c_i) of the truth plus the propagated error of
the c_i: that bound is what is tested here against closed forms in mpmath
(50 digits), not a flat tolerance.  An entry whose directions meet an infinite
partial of another variable (d2/dx0dx2 of x0 x1 x2 + sqrt(x2) at x2 = 0) is
recomputed by nested Dual passes, so only what depends on the infinite partial
is non-finite, as in hessian.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse
from hyperdual.taylor_helpers import _entry_weights, _gamma_coeff, _multi_indices

M = pytest.importorskip("mpmath")
EPS = np.finfo(float).eps
ULPS = 8

# (f for hyperdual, f for mpmath) with closed-form partials via mpmath.diff
CASES = {
    "exp-linear": (lambda x: np.exp(x[0] + 2.0 * x[1] - x[2]),
                   lambda a, b, c: M.exp(a + 2 * b - c)),
    "monomial": (lambda x: x[0] ** 2 * x[1] ** 3 * x[2], lambda a, b, c: a ** 2 * b ** 3 * c),
    "sin-product": (lambda x: np.sin(x[0] * x[1]) + x[2] * np.exp(x[0]),
                    lambda a, b, c: M.sin(a * b) + c * M.exp(a)),
}
POINT = (0.3, -0.7, 1.2)


@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("case", sorted(CASES))
def test_tensor_entries_within_the_interpolation_bound(case, d):
    f, fm = CASES[case]
    x = np.array(POINT)
    T = hd.derivative_tensor(f, x, d)
    idx = list(_multi_indices(3, d))
    c = {i: hd.directional_derivatives(f, x, np.array(i, dtype=float), d)[d]
         / np.prod(np.arange(1.0, d + 1.0)) for i in idx}
    bad = []
    with M.workdps(50):
        X = [M.mpf(v) for v in POINT]
        for pos in itertools.product(range(3), repeat=d):
            j = tuple(pos.count(m) for m in range(3))
            want = M.diff(fm, X, j)
            if abs(want) < M.mpf(10) ** -30:  # a zero partial: mpmath.diff's noise
                want = M.mpf(0)
            spread = sum(abs(_gamma_coeff(j, i, d) * c[i]) for i in idx)
            # the c_i are each a few ulps (times their own small condition) off, the
            # weights and the sum add one rounding each
            tol = ULPS * EPS * (spread + abs(float(want)))
            if abs(M.mpf(float(T[pos])) - want) > tol:
                bad.append(f"{pos}: {T[pos]!r}, truth {M.nstr(want, 17)}, bound {tol:.3g}")
    assert not bad, "\n".join(bad[:10])


def test_gamma_weights_are_the_exact_rationals_rounded_once():
    from fractions import Fraction

    # d = 2: the mixed partial of (1, 1) is c_(1,1) - (c_(2,0) + c_(0,2)) / 4... with
    # weights 1, -1/4, -1/4 (x y: c along (1,1) = 1, along (2,0) and (0,2) = 0)
    assert _gamma_coeff((1, 1), (1, 1), 2) == 1.0
    assert _gamma_coeff((1, 1), (2, 0), 2) == -0.25
    # d = 3: the weight of (1, 1, 1) on the direction (1, 1, 1) is 1 and the one on
    # (2, 1, 0) is -1/6 + ... : each the float nearest the exact rational
    assert _gamma_coeff((1, 1, 1), (1, 1, 1), 3) == 1.0
    for j in _multi_indices(3, 3):
        for i in _multi_indices(3, 3):
            w = _gamma_coeff(j, i, 3)
            assert abs(Fraction(w) - Fraction(w).limit_denominator(1000)) <= abs(
                Fraction(w)) * Fraction(1, 2 ** 53)


@pytest.mark.parametrize("n,d", [(4, 2), (4, 3), (5, 4), (3, 5)])
def test_entry_weights_are_the_full_index_weights_on_the_entry_support(n, d):
    # the interpolation takes each entry's weights from the compositions of d on the
    # entry's support; the full formula over all n-variable directions must agree:
    # same nonzero weights, bit for bit, and none outside the support
    for j in _multi_indices(n, d):
        support = [m for m in range(n) if j[m]]
        reduced = {}
        for sub, w in _entry_weights(tuple(j[m] for m in support), d):
            full = [0] * n
            for m, c in zip(support, sub):
                full[m] = c
            reduced[tuple(full)] = w
        everywhere = {i: _gamma_coeff(j, i, d) for i in _multi_indices(n, d)}
        assert reduced == {i: w for i, w in everywhere.items() if w != 0.0}


TENSORS = {
    "hyperdual": hd.derivative_tensor,
    # recorded backward passes: the same interpolation, and the same recomputation of
    # its nan entries by nested jvp's (reverse's own), shared code (it gave nan at
    # d2/dx0dx2 and every third partial touching x2)
    "reverse-backprop": lambda f, x, d: reverse.derivative_tensor(f, x, d, method="backprop"),
}


@pytest.mark.parametrize("engine", sorted(TENSORS))
@pytest.mark.parametrize("d", [2, 3])
def test_an_infinite_partial_leaves_its_neighbours_finite(d, engine):
    f = lambda x: x[0] * x[1] * x[2] + np.sqrt(x[2])  # noqa: E731
    x = np.array([1.0, 2.0, 0.0])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        T = TENSORS[engine](f, x, d)
        if d == 2:
            want = hd.hessian(f, x)
            np.testing.assert_array_equal(T, want)
    # only the pure x2 partial involves sqrt's infinite derivatives
    for pos in itertools.product(range(3), repeat=d):
        pure = all(p == 2 for p in pos)
        assert np.isfinite(T[pos]) != pure, (pos, T[pos])
    if d == 3:
        assert T[0, 1, 2] == 1.0 and T[0, 0, 2] == 0.0 and T[2, 2, 2] == np.inf
    if d == 2:
        assert T[0, 2] == 2.0 and T[1, 2] == 1.0
