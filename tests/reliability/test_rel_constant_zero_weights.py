"""A constant zero weight makes a product independent of its other factor.

``0.0 * t`` does not depend on t, so d/dt ``sqrt(0.0 * t)`` is 0 although sqrt'(0) is
infinite.  hyperdual has always given 0 (the tangent of ``0.0 * t`` is the constant
coefficient 0: ``_number._mul_coef``); reverse gave ``inf * 0 = nan`` (the cotangent of
``0.0 * t`` is inf, then times the constant 0), so the engines disagreed where f is
finite, and a direction with a zero entry next to an infinite derivative made the
second derivative along it nan in reverse.  Truth: closed forms (the functions below
do not depend on t where the weight is 0).  ``test_rel_constant_zero.py`` has the
weight on the other side (``0.0 * sqrt(x)``: the constant meets the infinite tangent).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import hyperdual as hd
import reverse as rv

ENGINES = (hd, rv)
NESTINGS = [(o, i) for o in ENGINES for i in ENGINES]
W = np.array([0.0, 1.0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_a_constant_zero_weight_gives_a_zero_derivative(eng):
    assert eng.derivative(lambda t: np.sqrt(0.0 * t), 1.0) == 0.0
    assert eng.derivative(lambda t: np.sqrt(t * 0.0), 1.0) == 0.0
    assert eng.derivative(lambda t: np.sqrt(W * t)[0], 1.0) == 0.0
    # the other entry: d/dt sqrt(t) = 1/2 at 1
    assert eng.derivative(lambda t: np.sum(np.sqrt(W * t)), 1.0) == 0.5
    # a library rule (gammainc(0.5, .)' is inf at 0) the same way
    assert eng.derivative(lambda t: sp.gammainc(0.5, W * t)[0], 1.0) == 0.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_second_derivatives_along_a_direction_with_a_zero_entry(eng):
    # f(W t) with f(x) = sqrt(x0) t**2 + x1**3: sqrt(0) t**2 + t**3, f'' = 6 t = 6 at 1
    def f(t):
        x = W * t
        return np.sqrt(x[0]) * t ** 2 + x[1] ** 3

    assert eng.second_derivative(f, 1.0) == 6.0
    # forward-over-reverse (Dual cotangents) and the Hessian route: the same
    assert eng.hessian(lambda v: f(v[0]), np.array([1.0]))[0, 0] == 6.0
    assert eng.hvp(lambda v: f(v[0]), np.array([1.0]), np.array([1.0]))[0] == 6.0


# products with a constant vector W = [0, 1] (the weight 0 beside the weight 1): the
# sqrt of the entry weighted 0 does not depend on t, that of the entry weighted 1 is
# sqrt(t) (derivative 1/2 at t = 1); reverse gave nan for the first through outer,
# matmul and dot of vectors, einsum, inner (the cotangent inf times the constant 0)
CONTRACTIONS = {
    "multiply": lambda t: np.sqrt(W * t),
    "outer": lambda t: np.sqrt(np.outer(W, np.stack([t])))[:, 0],
    "kron": lambda t: np.sqrt(np.kron(W, np.stack([t]))),
    "matmul": lambda t: np.sqrt(np.stack([W[:1] @ np.stack([t]), W[1:] @ np.stack([t])])),
    "dot": lambda t: np.sqrt(np.stack([np.dot(W[:1], np.stack([t])),
                                       np.dot(W[1:], np.stack([t]))])),
    "inner": lambda t: np.sqrt(np.stack([np.inner(W[:1], np.stack([t])),
                                         np.inner(W[1:], np.stack([t]))])),
    "einsum": lambda t: np.sqrt(np.einsum("i,j->ij", W, np.stack([t])))[:, 0],
    "einsum to a scalar": lambda t: np.sqrt(np.stack([
        np.einsum("i,i->", W[:1], np.stack([t])), np.einsum("i,i->", W[1:], np.stack([t]))])),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", CONTRACTIONS)
@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_a_constant_zero_weight_in_a_product(eng, name):
    f = CONTRACTIONS[name]
    assert eng.derivative(lambda t: f(t)[0], 1.0) == 0.0
    assert eng.derivative(lambda t: f(t)[1], 1.0) == 0.5
    assert eng.second_derivative(lambda t: f(t)[0], 1.0) == 0.0
    assert eng.second_derivative(lambda t: f(t)[1], 1.0) == -0.25
    np.testing.assert_array_equal(eng.jacobian(f, 1.0), [0.0, 0.5])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("outer, inner", NESTINGS, ids=lambda e: e.__name__)
def test_constant_zero_weights_inside_every_nesting(outer, inner):
    # d/ds [d/dt (sqrt(0 t) + s t**2)] = d/ds [2 s t] = 2 t = 2 at t = 1
    got = outer.derivative(lambda s: inner.derivative(
        lambda t: np.sqrt(0.0 * t) + s * t ** 2, 1.0), 3.0)
    assert got == 2.0
    got = outer.derivative(lambda s: inner.gradient(
        lambda x: np.sum(np.sqrt(W * x)) * s, np.array([1.0, 4.0]))[0], 3.0)
    assert got == 0.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("eng", ENGINES, ids=lambda e: e.__name__)
def test_a_computed_zero_weight_is_not_structural(eng):
    # the weight u - 1 is computed (0 at u = 1): sqrt((u - 1) t) has no derivative in u
    # there (sqrt(h t) ~ sqrt(h)); nan, not a silently wrong 0
    got = eng.gradient(lambda v: np.sqrt((v[0] - 1.0) * v[1]), np.array([1.0, 2.0]))
    assert np.isnan(got[0]) or np.isinf(got[0])
