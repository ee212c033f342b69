"""Entries of ``derivative_tensor`` that its interpolation lost to cancellation (found
by a random sweep, issue 12).

``derivative_tensor`` combines Taylor coefficients along directions by the
Griewank-Utke-Walther interpolation, a signed sum whose terms are rounded relative
to their own size.  An entry far below its neighbours kept none of its digits: for
``1e20 x0**2 + x0 x1 + x1**2`` the mixed partial came out -1 (truth 1) in both
engines, and the third-order tensor of ``1e20 x0**3 + x0**2 x1`` had -2.048e4 and
8.192e3 where the truth is 2 and 0.  Such entries are now recomputed by nested
jvp's, which form no such sum.  Truth: closed forms.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

EPS = np.finfo(float).eps

TENSOR_ENGINES = {
    "hyperdual": lambda f, x, d: hd.derivative_tensor(f, x, d),
    "reverse taylor": lambda f, x, d: rv.derivative_tensor(f, x, d),
    "reverse backprop": lambda f, x, d: rv.derivative_tensor(f, x, d, method="backprop"),
}


@pytest.mark.parametrize("engine", sorted(TENSOR_ENGINES))
def test_small_entry_next_to_a_huge_one_second_order(engine):
    def f(x):
        return 1e20 * x[0] ** 2 + x[0] * x[1] + x[1] ** 2

    T = TENSOR_ENGINES[engine](f, np.array([0.3, 0.7]), 2)
    np.testing.assert_allclose(T, [[2e20, 1.0], [1.0, 2.0]], rtol=8 * EPS)


@pytest.mark.parametrize("engine", sorted(TENSOR_ENGINES))
def test_small_entries_next_to_a_huge_one_third_order(engine):
    def f(x):
        return 1e20 * x[0] ** 3 + x[0] ** 2 * x[1] + np.sin(x[1])

    x = np.array([0.3, 0.7])
    T = TENSOR_ENGINES[engine](f, x, 3)
    truth = np.zeros((2, 2, 2))
    truth[0, 0, 0] = 6e20
    truth[0, 0, 1] = truth[0, 1, 0] = truth[1, 0, 0] = 2.0
    truth[1, 1, 1] = -np.cos(0.7)
    np.testing.assert_allclose(T, truth, rtol=8 * EPS, atol=0)


def test_well_scaled_tensor_unchanged():
    def f(x):
        return np.exp(x[0]) * np.sin(x[1]) * x[2]

    x = np.array([0.4, -0.3, 1.2])
    T = hd.derivative_tensor(f, x, 3)
    e, s, c = np.exp(0.4), np.sin(-0.3), np.cos(-0.3)
    assert abs(T[0, 1, 2] - e * c) <= 8 * EPS * e
    assert T[2, 2, 2] == 0.0 and T[1, 2, 2] == 0.0
    assert abs(T[1, 1, 2] + e * s) <= 8 * EPS * e
    np.testing.assert_allclose(T, np.transpose(T, (1, 0, 2)), rtol=0, atol=0)


# Entries along a variable f does not use: the interpolation left the rounding noise
# of the other entries there (found by scripts/fuzz_derivatives.py: 9e-17 in the
# [0, 0, 1] entry of sinh(arcsinh(x0)), 2e-14 in backprop's [0, 1, 1] of
# expit(logit(x1)); the truth is exactly 0).  A variable whose first partial is
# exactly 0 has its entries recomputed by nested jvp's, which give that 0.
@pytest.mark.parametrize("engine", sorted(TENSOR_ENGINES))
@pytest.mark.parametrize("f, x, used", [
    (lambda x: np.sinh(np.arcsinh(x[0])), [-0.128051, 3.833731], 0),
    (lambda x: np.tan(np.arctan(x[1])), [-0.05059, 0.079787], 1),
    (lambda x: np.arctan2(np.log(np.exp(x[1])), x[1] + 0.5), [-1.565574, 1.697024], 1),
])
def test_entries_along_an_unused_variable_are_exactly_zero(engine, f, x, used):
    T = TENSOR_ENGINES[engine](f, np.array(x), 3)
    other = 1 - used
    for pos in np.ndindex(T.shape):
        if other in pos:
            assert T[pos] == 0.0, (pos, T[pos])


@pytest.mark.parametrize("engine", sorted(TENSOR_ENGINES))
def test_a_zero_first_partial_of_a_used_variable_keeps_its_entries(engine):
    # x1 has first partial 0 at x1 = 0 but is used: d3/dx0 dx1^2 (x0 x1^2) = 2
    T = TENSOR_ENGINES[engine](lambda x: x[0] * x[1] ** 2 + x[1] ** 3, np.array([1.5, 0.0]),
                               3)
    want = np.zeros((2, 2, 2))
    want[0, 1, 1] = want[1, 0, 1] = want[1, 1, 0] = 2.0
    want[1, 1, 1] = 6.0
    np.testing.assert_array_equal(T, want)


def _many_small_entries(x):
    # six variables, a huge separable part and small couplings: most third partials are
    # far below the directions they are interpolated from, so they are recomputed, many
    # sharing their smallest axis (grouped into one Hessian each)
    return (1e12 * np.sum(np.cosh(x)) + x[0] * x[1] * x[2]
            + np.sin(x[3]) * x[4] * x[5] + np.exp(x[0] * x[4]))


def _many_small_truth(x):
    import mpmath
    import sympy as sp

    s = sp.symbols("s0:6")
    expr = (sp.Float(10) ** 12 * sum(sp.cosh(v) for v in s) + s[0] * s[1] * s[2]
            + sp.sin(s[3]) * s[4] * s[5] + sp.exp(s[0] * s[4]))
    at = {v: sp.Rational(float(xi)) for v, xi in zip(s, x)}
    T = np.zeros((6, 6, 6))
    with mpmath.workdps(40):
        for i in range(6):
            for j in range(i, 6):
                for k in range(j, 6):
                    val = float(sp.diff(expr, s[i], s[j], s[k]).evalf(40, subs=at))
                    for p in {(i, j, k), (i, k, j), (j, i, k), (j, k, i), (k, i, j),
                              (k, j, i)}:
                        T[p] = val
    return T


@pytest.mark.parametrize("block_from", [1, 3, 10 ** 9])
@pytest.mark.parametrize("engine", sorted(TENSOR_ENGINES))
def test_recomputed_entries_grouped_into_hessians(engine, block_from, monkeypatch):
    # block_from: every recomputed entry through a Hessian of its prefix, the default
    # grouping, and one nested jvp pass per entry: the same truths (sympy, 40 digits)
    import hyperdual.helpers
    import hyperdual.taylor_helpers as th
    import reverse.helpers

    monkeypatch.setattr(th, "_BLOCK_FROM", block_from)
    blocks = []
    for module in (hyperdual.helpers, reverse.helpers):
        def counted(f, x, _hessian=module.hessian):
            blocks.append(1)
            return _hessian(f, x)
        monkeypatch.setattr(module, "hessian", counted)
    x = np.array([0.3, -0.5, 0.8, 1.1, 0.6, -0.9])
    T = TENSOR_ENGINES[engine](_many_small_entries, x, 3)
    # one Hessian per shared smallest axis at most; none when every group is too small
    assert (0 < len(blocks) <= 6) if block_from <= 3 else not blocks
    truth = _many_small_truth(x)
    # each entry a few ulps of its own size: a mixed partial of the couplings is not
    # within 1e12 of the cosh part any more
    np.testing.assert_allclose(T, truth, rtol=16 * EPS, atol=0)


def test_a_failing_hessian_block_falls_back_to_nested_passes():
    from hyperdual.taylor_helpers import _recomputed

    def block(prefix):
        raise TypeError("this Hessian cannot be taken")

    calls = []

    def partial(axes):
        calls.append(axes)
        return float(len(axes) + sum(axes))

    redo = [(1, 1, 1, 0), (1, 1, 0, 1), (1, 0, 1, 1), (2, 1, 0, 0)]
    out = {j: -1.0 for j in redo}
    got = _recomputed(redo, out, partial, block, 3)
    assert got == {(1, 1, 1, 0): 6.0, (1, 1, 0, 1): 7.0, (1, 0, 1, 1): 8.0,
                   (2, 1, 0, 0): 4.0}
    assert len(calls) == 4
