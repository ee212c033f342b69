"""Library rules of scipy.special next to an infinite derivative: a zero tangent or
cotangent stays zero.

Where f is finite but its derivative is infinite (``gammainc(0.5, x)`` at x = 0: f = 0,
f' = inf), the rules' ``t * f'`` made nan of the zero tangents a Jacobian row or column
seeds into the other entries: the Jacobian at x = (0, 1) was ``[[inf, nan], [0, f'(1)]]``
in hyperdual and ``[[inf, 0], [nan, f'(1)]]`` in reverse (truth ``[[inf, 0], [0,
f'(1)]]``), and ``reverse.gradient`` of ``f(x)[1]`` had nan for d/dx0.  Elementwise
library rules now keep such zeros as the engines' own rules do, and the audits still
tell a computed zero (the tangent of ``x**2`` at 0) from a structural one: d/dx
``gammainc(0.5, x**2)`` at 0 (``erf(abs(x))``, no derivative there) stays nan.

Truth: mpmath at 30 digits for the finite entry; the structural zeros are exact.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp

import hyperdual as hd
import reverse as rv

ENGINES = (hd, rv)
NESTINGS = [(o, i) for o in ENGINES for i in ENGINES]
X = np.array([0.0, 1.0])

# f(x) elementwise, finite at 0 with an infinite derivative there; the mpmath
# derivative at 1
CASES = {
    "gammainc(0.5, x)": (lambda x: sp.gammainc(0.5, x),
                         lambda t: mp.gammainc(0.5, 0, t, regularized=True)),
    "gammaincc(0.25, x)": (lambda x: sp.gammaincc(0.25, x),
                           lambda t: mp.gammainc(0.25, t, mp.inf, regularized=True)),
    "betainc(0.5, 2, x)": (lambda x: sp.betainc(0.5, 2.0, x),
                           lambda t: mp.betainc(0.5, 2, 0, t, regularized=True)),
    # a traced parameter: the rule in every argument (gammainc in a and x)
    "gammainc(a, x), a traced": (lambda x: sp.gammainc(0.5 + 0.0 * x[::-1], x),
                                 lambda t: mp.gammainc(0.5, 0, t, regularized=True)),
}


def _slope(g):
    with mp.workdps(30):
        return float(mp.diff(g, mp.mpf(1)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_jacobian_keeps_zeros_beside_an_infinite_derivative(eng, name):
    f, g = CASES[name]
    d1 = _slope(g)
    sign = np.sign(eng.jacobian(f, X)[0, 0])
    want = np.array([[sign * np.inf, 0.0], [0.0, d1]])
    np.testing.assert_allclose(eng.jacobian(f, X), want, rtol=1e-13)
    # one output: its gradient is 0 in the direction of the other entry
    np.testing.assert_allclose(eng.gradient(lambda x: f(x)[1], X), [0.0, d1], rtol=1e-13)
    assert sign != 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer, inner", NESTINGS,
                         ids=lambda e: e.__name__)
def test_kept_zeros_inside_every_nesting(outer, inner):
    # d/ds of the zero entries of the inner Jacobian of gammainc(0.5, s x): 0 for all s
    def jac(s):
        return inner.jacobian(lambda y: sp.gammainc(0.5, s * y), X)

    assert outer.derivative(lambda s: jac(s)[1, 0], 1.0) == 0.0
    assert outer.derivative(lambda s: jac(s)[0, 1], 1.0) == 0.0
    got = outer.derivative(lambda s: inner.gradient(
        lambda y: sp.gammainc(0.5, s * y)[1], X)[0], 1.0)
    assert got == 0.0
    # the finite entry: d/ds [s P'(s)] at s = 1 = P'(1) + P''(1)
    p = CASES["gammainc(0.5, x)"][1]
    with mp.workdps(30):
        want = float(mp.diff(p, mp.mpf(1)) + mp.diff(p, mp.mpf(1), 2))
    np.testing.assert_allclose(outer.derivative(lambda s: jac(s)[1, 1], 1.0), want,
                               rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_a_computed_zero_tangent_is_not_kept(eng):
    # gammainc(0.5, x**2) = erf(abs(x)): no derivative at 0.  The tangent 2x = 0 of
    # x**2 is computed, not structural: nan, never a silently wrong 0
    assert np.isnan(eng.derivative(lambda x: sp.gammainc(0.5, x * x), 0.0))
    got = eng.gradient(lambda x: sp.gammainc(0.5, x[0] * x[0]) + 3.0 * x[1], X)
    assert np.isnan(got[0]) and got[1] == 3.0
