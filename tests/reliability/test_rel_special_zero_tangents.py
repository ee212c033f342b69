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


# f(x0, x1) = P(x0) x1**2 + x1**3, P = gammainc(0.5, .) with P(0) = 0 and P'(0) = inf:
# at (0, 1) the Hessian is [[-inf, inf], [inf, 2 P(0) + 6 = 6]]; the smooth entry was
# nan in hyperdual's hessian and hvp (the rule's second-order pass multiplied the zero
# tangents of x0 by P'(0))
def _beside(x):
    return sp.gammainc(0.5, x[0]) * x[1] ** 2 + x[1] ** 3


SECOND = {
    "hessian": lambda eng: eng.hessian(_beside, X)[1, 1],
    "hvp": lambda eng: eng.hvp(_beside, X, np.array([0.0, 1.0]))[1],
    "second_derivative": lambda eng: eng.second_derivative(
        lambda t: _beside(np.array([0.0, 1.0]) + t * np.array([0.0, 1.0])), 0.0),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("helper", SECOND)
@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_second_order_keeps_zeros_beside_an_infinite_derivative(eng, helper):
    assert SECOND[helper](eng) == 6.0
    h = eng.hessian(_beside, X)
    assert h[0, 1] == h[1, 0] == np.inf and h[0, 0] == -np.inf


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer, inner", NESTINGS, ids=lambda e: e.__name__)
def test_second_order_zeros_inside_every_nesting(outer, inner):
    # the Hessian's smooth entry by a Jacobian of a gradient, in the four nestings
    h = outer.jacobian(lambda u: inner.gradient(_beside, u), X)
    assert h[1, 1] == 6.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_a_computed_zero_is_not_kept_at_second_order(eng):
    # erf(abs(x0)) x1**2: d^2/dx0 dx1 = 2 x1 d/dx0 erf(abs(x0)) has no value at x0 = 0
    # (the tangent 2 x0 of x0**2 is a computed zero): nan, never 0; the smooth entry
    # 2 erf(0) + 6 = 6 stays
    h = eng.hessian(lambda x: sp.gammainc(0.5, x[0] * x[0]) * x[1] ** 2 + x[1] ** 3, X)
    assert np.isnan(h[0, 1]) and np.isnan(h[1, 0]) and h[1, 1] == 6.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_lazy_arrays_keep_the_zeros_too(eng):
    # on dask the zeros are kept by a where in the graph (nothing computed to ask
    # whether a tangent is zero): the Jacobian was [[inf, nan], [0, P'(1)]] in hyperdual
    da = pytest.importorskip("dask.array")
    f, g = CASES["gammainc(0.5, x)"]
    got = eng.jacobian(f, da.from_array(X, chunks=1))
    assert isinstance(got, da.Array)
    np.testing.assert_allclose(np.asarray(got), [[np.inf, 0.0], [0.0, _slope(g)]],
                               rtol=1e-13)
    # and at second order: the smooth entry of the Hessian beside the infinite one
    h = eng.hessian(_beside, da.from_array(X, chunks=1))
    assert isinstance(h, da.Array)
    np.testing.assert_array_equal(np.asarray(h), [[-np.inf, np.inf], [np.inf, 6.0]])
