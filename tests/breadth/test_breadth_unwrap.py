"""``np.unwrap`` in both engines and Taylor numbers, and ``where=`` of the reductions in
sparsity detection.

``unwrap(p)`` is ``p`` plus a piecewise-constant multiple of ``period`` decided on the
values: the values are numpy's exactly (the same steps), and every derivative is that of
``p`` (the Jacobian of unwrap itself is the identity; of a function of it, the chain
rule through the identity), in both engines, at every order and nested.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual import hessian_sparsity, jacobian_sparsity
from tests.breadth.breadth_checks import _plain, check_both_engines

RNG = np.random.default_rng(7)
P = np.cumsum(RNG.uniform(-4.0, 4.0, (3, 8)), axis=1)  # jumps larger than pi
KWARGS = [{}, {"axis": 0}, {"discont": 4.0}, {"period": 5.0},
          {"period": 360.0, "discont": 170.0}]
ENGINES = {"Dual": lambda x: hd.Dual(x, np.ones_like(x)),
           "HyperDual": lambda x: hd.HyperDual(x, np.ones_like(x), np.ones_like(x), 0.0),
           "Taylor": lambda x: hd.Taylor(np.stack([x, np.ones_like(x), np.zeros_like(x)])),
           "reverse": rv.Variable}


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("kw", KWARGS, ids=str)
@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_values_are_numpys_exactly(engine, kw, dt):
    p = P.astype(dt)
    want = np.unwrap(p, **kw)
    got = np.asarray(_plain(np.unwrap(ENGINES[engine](p), **kw)))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kw", KWARGS, ids=str)
def test_jacobian_is_the_identity(kw):
    x = P[0]
    for jac in (hd.jacobian, rv.jacobian):
        np.testing.assert_array_equal(jac(lambda v: np.unwrap(v, **kw), x), np.eye(x.size))


@pytest.mark.parametrize("kw", KWARGS[:3], ids=str)
def test_derivatives_of_a_function_of_it(kw):
    # sum(w * sin(unwrap(p) / 3)): gradient and Hessian in both engines, against each other
    # and central differences (the correction is constant near P: no jump within 1e-6)
    w = RNG.uniform(0.5, 1.5, P.shape)
    check_both_engines(lambda p: np.sum(w * np.sin(np.unwrap(p, **kw) / 3.0)), P)


def test_closed_form_hessian_and_taylor_orders():
    # f = sum(unwrap(p) ** 3): gradient 3 u**2, Hessian diag(6 u), third derivative along
    # v: 6 sum(v**3); Taylor coefficients along p + t v to order 4 exactly
    p = P[1]
    u = np.unwrap(p)

    def f(x):
        return np.sum(np.unwrap(x) ** 3)

    eps = np.finfo(float).eps
    for grad, hess in ((hd.gradient, hd.hessian), (rv.gradient, rv.hessian)):
        np.testing.assert_allclose(grad(f, p), 3 * u ** 2, rtol=4 * eps)
        np.testing.assert_allclose(hess(f, p), np.diag(6 * u), rtol=4 * eps)
    v = RNG.standard_normal(p.shape)
    c = hd.Taylor(np.stack([p, v, 0 * p, 0 * p, 0 * p]))
    got = np.sum(np.unwrap(c) ** 3).coef
    want = [np.sum(u ** 3), np.sum(3 * u ** 2 * v), np.sum(3 * u * v ** 2),
            np.sum(v ** 3), 0.0]
    scale = np.sum(np.abs(u) ** 3) + np.sum(np.abs(v) ** 3)
    np.testing.assert_allclose(got, want, rtol=0, atol=32 * eps * scale)


def test_nested_forward_over_reverse():
    def f(x):
        return np.sum(np.cos(np.unwrap(x)) * x)

    x = P[2]
    H = hd.hessian(f, x)
    np.testing.assert_allclose(hd.jacobian(lambda v: rv.gradient(f, v), x), H,
                               rtol=1e-13, atol=1e-13 * np.max(np.abs(H)))


def test_unwrap_sparsity_is_the_identity_pattern():
    x = P[0]
    for local in (False, True):
        J = jacobian_sparsity(np.unwrap, x, local=local).toarray()
        np.testing.assert_array_equal(J != 0, np.eye(x.size, dtype=bool))


def test_differentiated_period_is_refused():
    with pytest.raises(TypeError, match="period"):
        np.unwrap(rv.Variable(P), period=rv.Variable(5.0))
    with pytest.raises(TypeError, match="discont"):
        np.unwrap(hd.Dual(P, P), discont=hd.Dual(1.0, 1.0))


# ---------------------------------------------------------------------------------
# sparsity detection honours where= of the reductions
# ---------------------------------------------------------------------------------
MASK = np.array([[True, False, True], [False, True, True]])
X6 = np.arange(1.0, 7.0)
REDUCTIONS = {
    "sum": lambda x: np.sum(x.reshape(2, 3), axis=1, where=MASK),
    "mean": lambda x: np.mean(x.reshape(2, 3), axis=0, where=MASK),
    "prod_initial": lambda x: np.prod(x.reshape(2, 3), axis=1, where=MASK, initial=2.0),
    "max_initial": lambda x: np.max(x.reshape(2, 3), axis=1, where=MASK, initial=-9.0),
    "add.reduce": lambda x: np.add.reduce(x.reshape(2, 3), axis=1, where=MASK),
    "nansum": lambda x: np.nansum(x.reshape(2, 3), axis=1, where=MASK),
}


@pytest.mark.parametrize("local", [False, True])
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_sparsity_leaves_out_what_where_leaves_out(name, local):
    # the detected pattern contains every nonzero of the true Jacobian and nothing that
    # where= leaves out (an entry the mask drops has derivative 0 for every x)
    f = REDUCTIONS[name]
    P_ = jacobian_sparsity(f, X6, local=local).toarray() != 0
    J = hd.jacobian(f, X6)
    assert np.all(P_[J != 0])
    out_rows = P_.shape[0]
    masked = ~MASK.ravel()
    if name == "mean":  # axis 0: column j of the result reads x[j] and x[3 + j]
        cols = np.array([[0, 3], [1, 4], [2, 5]])
        for j in range(out_rows):
            for c in cols[j]:
                assert P_[j, c] == bool(MASK.ravel()[c])
    else:
        assert not P_[:, masked].any()


def test_sparsity_hessian_with_where():
    H = hessian_sparsity(lambda x: np.sum(np.prod(x.reshape(2, 3), axis=1, where=MASK)),
                         X6).toarray() != 0
    assert not H[~MASK.ravel()].any() and not H[:, ~MASK.ravel()].any()
    assert H[0, 2] and H[4, 5] and not H[0, 4]


def test_sparsity_refuses_a_mask_computed_from_x():
    with pytest.raises(TypeError, match="where"):
        jacobian_sparsity(lambda x: np.sum(x, where=x > 2), X6)
    J = jacobian_sparsity(lambda x: np.sum(x, where=x > 2), X6, local=True).toarray()
    np.testing.assert_array_equal(J[0] != 0, X6 > 2)
