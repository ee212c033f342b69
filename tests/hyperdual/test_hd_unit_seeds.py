"""A constant matrix times the helpers' unit seeds is a slice of the matrix.

gradient/jacobian seed a 1-d x with blocks of identity rows; ``A @ seed`` and
``seed @ B`` take the rows/columns of the constant instead of a BLAS product
(hyperdual/rules/products.py).  The derivatives must be exactly those of the
general product: ``A @ I`` is ``A`` bit for bit, in every block of a chunked
Jacobian, with numpy's result dtype.
"""

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual import helpers
from hyperdual.rules import products

RNG = np.random.default_rng(3)
A = RNG.standard_normal((7, 5))
B = RNG.standard_normal((5, 4))
X = RNG.standard_normal(5)


@pytest.fixture(params=[1 << 22, 10], ids=["one block", "blocks of 2 directions"])
def block(request, monkeypatch):
    monkeypatch.setattr(helpers, "_BLOCK_ELEMENTS", request.param)
    return request.param


def test_jacobians_of_linear_maps_are_the_matrices_exactly(block):
    assert np.array_equal(hd.jacobian(lambda v: A @ v, X), A)
    assert np.array_equal(hd.jacobian(lambda v: v @ B, X), B.T)
    assert np.array_equal(hd.jacobian(lambda v: np.dot(A, v), X), A)
    assert np.array_equal(hd.jacobian(lambda v: np.matmul(v, B), X), B.T)


def test_gradients_through_a_first_layer_match_reverse(block):
    def f(v):
        return np.sum(np.tanh(A @ v) ** 2) + np.sum(np.logaddexp(0.0, v @ B))

    g, want = hd.gradient(f, X), rv.gradient(f, X)
    # both engines form the same terms in other orders: a few ulps of the largest term
    scale = np.abs(A).sum(axis=0) + np.abs(B).sum(axis=1)
    assert np.all(np.abs(g - want) <= 16 * np.finfo(float).eps * scale)


def test_the_shortcut_result_has_xs_dtype(block):
    x32 = X.astype(np.float32)
    J = hd.jacobian(lambda v: A @ v, x32)
    # f computes in float64 (A is), the Jacobian is with respect to a float32 x: x's
    # dtype, as reverse mode gives it (the dtype rule of every helper)
    assert J.dtype == np.float32 and np.array_equal(J, A.astype(np.float32))
    assert rv.jacobian(lambda v: A @ v, x32).dtype == np.float32
    A32 = A.astype(np.float32)
    J = hd.jacobian(lambda v: A32 @ v, x32)
    assert J.dtype == np.float32 and np.array_equal(J, A32)


def test_the_shortcut_is_taken_and_the_seed_is_read_only(monkeypatch):
    seen = []
    original = products._unit_start

    def spy(p):
        s = original(p)
        seen.append(s)
        if s is not None:
            assert not p.flags.writeable
        return s

    monkeypatch.setattr(products, "_unit_start", spy)
    hd.jacobian(lambda v: A @ v, X)
    assert 0 in seen


def test_a_stack_built_by_hand_is_not_a_unit_seed():
    # the same values as a seed, but not the helper's array: the general product
    eye = np.eye(5)
    d = hd.Dual._build((X, eye), hd.new_tag(), 1)
    assert products._unit_start(eye) is None
    assert np.array_equal((A @ d).dual, np.matmul(A, eye).T)
