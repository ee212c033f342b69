"""Contractions in both engines: einsum in every subscript form, tensordot, kron,
inner, dot, vdot, outer, matmul with broadcasting; gradients and Hessians against
central differences and the other engine; float32; direction stacks; nesting."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from breadth_checks import check_both_engines, check_third_order, scalarize

import hyperdual as hd
import reverse as rv
from hyperdual import Dual, HyperDual
from reverse import Variable
from tests._tolerance import assert_close_ulps


def R(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape) * 7 + len(shape)).standard_normal(shape)


def each_operand(f, *ops):
    """Check f's derivatives with respect to each operand in turn (others constant)."""
    for k in range(len(ops)):
        def fk(x, k=k):
            args = list(ops)
            args[k] = x
            return f(*args)
        check_both_engines(scalarize(fk), ops[k])


EINSUM = [
    ("ij->ji", [(3, 4)]),
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(0, 2, 3), (0, 3, 4)]),
    ("ijk,lji->lki", [(3, 2, 2), (2, 2, 3)]),
    ("...jk,...lj->...lk", [(3, 2, 2), (2, 2)]),
    ("...,...->...", [(2, 2), (3, 2, 2)]),
    ("jk...,lj...->lk...", [(3, 2, 2), (2, 3)]),
    ("j...k,lj...->lk...", [(2, 2, 2), (2, 2)]),
    ("ijk,lji,lli->lki", [(2, 3, 3), (3, 3, 2), (3, 3, 2)]),
    ("k,nk->", [(5,), (4, 5)]),
    ("abcd->bd", [(3, 2, 3, 2)]),
    ("...k,...nk->...", [(3, 5), (3, 2, 5)]),
    ("ij,k", [(3, 4), (3,)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("ij,ij->ij", [(1, 3), (4, 3)]),
    ("i,i,i->", [(4,), (4,), (4,)]),
    ("ba,ca", [(2, 3), (4, 3)]),
]


@pytest.mark.parametrize("subs,shapes", EINSUM, ids=[e[0] for e in EINSUM])
def test_einsum_every_operand(subs, shapes):
    ops = [R(*s) for s in shapes]
    np.testing.assert_allclose(np.einsum(subs, *ops), np.einsum(subs, *ops))
    each_operand(lambda *a: np.einsum(subs, *a), *ops)


def test_einsum_sublist_forms():
    a, b, c = R(2, 3), R(3, 4), R(3, 3, 2)
    each_operand(lambda x, y: np.einsum(x, [0, 1], y, [1, 2], [0, 2]), a, b)
    each_operand(lambda x, y: np.einsum(x, [Ellipsis, 0, 1], y, [Ellipsis, 1, 2],
                                        [Ellipsis, 0, 2]), R(2, 2, 3), b)
    each_operand(lambda x, y: np.einsum(x, [0, 1], y, [1, 2]), a, b)  # implicit output
    each_operand(lambda x: np.einsum(x, [0, 0, 1], [1]), c)


def test_einsum_values_match_numpy_with_dual_and_hyperdual():
    rng = np.random.default_rng(5)
    for subs, shapes in EINSUM:
        ops = [rng.standard_normal(s) for s in shapes]
        want = np.einsum(subs, *ops)
        for k in range(len(ops)):
            args = list(ops)
            args[k] = Dual(ops[k], np.zeros_like(ops[k]))
            got = np.einsum(subs, *args)
            np.testing.assert_allclose(got.real, want, rtol=1e-13, atol=1e-13)
            args[k] = HyperDual(ops[k], 0.0, 0.0, 0.0)
            np.testing.assert_allclose(np.einsum(subs, *args).real, want, rtol=1e-13,
                                       atol=1e-13)


def test_einsum_direction_stack_is_the_jacobian():
    A, x = R(3, 4), R(4)
    for eng in (hd, rv):
        J = eng.jacobian(lambda v: np.einsum("ij,j->i", A, np.sin(v)), x)
        assert_close_ulps(J, A * np.cos(x), ulps=8)  # (one product; cos SIMD or scalar)
        H = eng.hessian(lambda v: np.einsum("i,ij,j", v, A[:, :3] @ A[:, :3].T, v), x[:3])
        M = A[:, :3] @ A[:, :3].T
        np.testing.assert_allclose(H, M + M.T, rtol=1e-13)


@pytest.mark.parametrize("n", [1, 5, 13])
def test_einsum_hessian_mixed_terms_with_unit_direction_axes(n):
    """hyperdual.hessian's ε1 and ε2 stacks have a direction axis of length 1 each
    ((n, 1) and (1, n) leads), dropped before einsum plans the mixed terms: the
    same Hessian as reverse's, for contractions of two and three operands."""
    rng = np.random.default_rng(n)
    M, T, x = rng.standard_normal((n, n)), rng.standard_normal((n, n, 3)), R(n)

    def f(v):
        q = np.einsum("i,ij,j->", v, M, np.tanh(v))
        return q + np.sum(np.einsum("i,ijk,j->k", v, T, v) ** 2) + np.einsum("i,i", v, v) ** 2

    H = hd.hessian(f, x)
    np.testing.assert_allclose(H, rv.hessian(f, x), rtol=1e-12,
                               atol=1e-13 * np.max(np.abs(H)))
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-13 * np.max(np.abs(H)))


def test_einsum_float32():
    a = R(2, 3).astype(np.float32)
    b = R(3, 4).astype(np.float32)
    y = np.einsum("ij,jk->ik", Dual(a, np.ones_like(a)), b)
    assert y.real.dtype == np.float32 and y.dual.dtype == np.float32
    v = Variable(a)
    np.sum(np.einsum("ij,jk->ik", v, b)).backward()
    assert v.grad.data.dtype == np.float32
    np.testing.assert_allclose(v.grad.data, np.broadcast_to(b.sum(1), (2, 3)), rtol=1e-6)


def test_einsum_third_order_through_reverse():
    A = R(3, 3)
    check_third_order(lambda t: np.einsum("i,ij,j->", np.sin(t * np.ones(3)), A,
                                          t * np.arange(1.0, 4.0)), 0.4)


KRON = [R(3, 3), R(3), R(3, 1), R(1, 3), R()]
KRON2 = [R(2, 2), R(2), R(1, 2), R(2, 1), R()]


@pytest.mark.parametrize("i,j", list(itertools.product(range(5), range(5))))
def test_kron(i, j):
    a, b = KRON[i], KRON2[j]
    np.testing.assert_allclose(np.shape(hd.jacobian(lambda v: np.kron(v, b), a)),
                               np.kron(a, b).shape + a.shape)
    each_operand(np.kron, a, b)


@pytest.mark.parametrize("a,b", list(itertools.product([R(), R(3), R(2, 3)],
                                                       [R(), R(3), R(4, 3)])))
def test_inner(a, b):
    each_operand(np.inner, a, b)


DOTS = [(a, b) for a, b in itertools.product([R(), R(3), R(2, 3), R(2, 2, 3)],
                                             [R(), R(3), R(3, 4), R(2, 3, 4)])]


@pytest.mark.parametrize("k", range(len(DOTS)))
def test_dot_every_dimensionality(k):
    a, b = DOTS[k]
    try:
        want = np.dot(a, b)
    except ValueError:
        pytest.skip("numpy refuses these shapes")
    got = np.dot(Dual(a, np.zeros_like(a)) if a.ndim else a, b)
    np.testing.assert_allclose(getattr(got, "real", got), want, rtol=1e-13)
    each_operand(np.dot, a, b)


TENSORDOT = [
    (R(1, 3), R(3), [(1,), (0,)]), (R(2, 3, 2), R(3, 4, 2), [(1,), (0,)]),
    (R(3, 4, 2), R(2, 3, 2), [(0,), (1,)]), (R(2, 3, 4), R(2, 2, 3, 4), [(1, 0), (2, 1)]),
    (R(2, 3, 4), R(2, 2, 3, 4), [(0, 1), (1, 2)]), (R(4, 2, 2), R(2, 2, 4), 2),
    (R(2, 2), R(2, 2), 1), (R(4), R(), 0), (R(2, 6), R(6, 3), [[-1], [0]]),
    (R(2, 6), R(6, 3), [-1, 0]), (R(2), R(2, 2), [0, 1]),
]


@pytest.mark.parametrize("k", range(len(TENSORDOT)))
def test_tensordot(k):
    a, b, axes = TENSORDOT[k]
    each_operand(lambda x, y: np.tensordot(x, y, axes), a, b)


def test_tensordot_axes_by_position():
    check_both_engines(lambda x: np.sum(np.tensordot(x * np.ones((2, 2)), x * np.ones((2, 2)),
                                                     2)), np.array([0.7]))


@pytest.mark.parametrize("a,b", [(R(3), R(3)), (R(2, 3), R(3, 4)), (R(1, 2, 2), R(3, 2, 1)),
                                 (R(2, 2, 3), R(3)), (R(3), R(2, 3, 4)),
                                 (R(2, 1, 1, 3), R(4, 3, 2))])
def test_matmul_broadcasting(a, b):
    each_operand(np.matmul, a, b)
    each_operand(lambda x, y: x @ y, a, b)


def test_vdot_outer():
    each_operand(np.vdot, R(2, 3), R(3, 2))
    each_operand(np.outer, R(3), R(2, 2))


def test_matmul_with_direction_stack_is_one_product_and_exact():
    # a constant matrix times a stacked Dual, both sides, vector and matrix cores
    rng = np.random.default_rng(3)
    A = rng.standard_normal((5, 4))
    for x in (rng.standard_normal(4), rng.standard_normal((4, 3))):
        J = hd.jacobian(lambda v: A @ v, x)
        want = np.einsum("ij,kl->ikjl", A, np.eye(x.shape[1])) if x.ndim == 2 else A
        assert_close_ulps(J, want.reshape(J.shape))
    for x in (rng.standard_normal(5), rng.standard_normal((3, 5))):
        J = hd.jacobian(lambda v: v @ A, x)
        assert_close_ulps(J, rv.jacobian(lambda v: v @ A, x))
    # HyperDual stacks (eps1 (k1, 1, n), eps2 (1, k2, n)) through the same path
    x0 = rng.standard_normal(4)
    H = hd.hessian(lambda v: np.sum((A @ v) ** 3), x0)
    np.testing.assert_allclose(H, (A.T * (6 * (A @ x0))) @ A, rtol=1e-13)
    np.testing.assert_allclose(H, rv.hessian(lambda v: np.sum((A @ v) ** 3), x0), rtol=1e-13)


def test_nested_contractions():
    # d/dx [ sum over einsum with an inner gradient ] in hyperdual-over-reverse and back
    A = R(3, 3)

    def inner_grad(eng, x):
        return eng.gradient(lambda y: np.einsum("i,ij,j", y, A, y) * x, np.ones(3))

    want_total = np.sum((A + A.T) @ np.ones(3))
    for outer in (hd, rv):
        for inner in (hd, rv):
            got = outer.derivative(lambda x, e=inner: np.sum(inner_grad(e, x)), 0.5)
            np.testing.assert_allclose(got, want_total, rtol=1e-13)


def test_unsupported_einsum_keywords_raise():
    with pytest.raises(TypeError, match="einsum"):
        np.einsum("i->i", Dual(np.ones(2), 1.0), out=np.empty(2))
    with pytest.raises(TypeError, match="einsum"):
        np.einsum("i->i", Variable(np.ones(2)), out=np.empty(2))
