"""``hyperdual.dot`` and ``reverse.functions.dot`` take N-d operands as ``np.dot`` does.

dot is bilinear, so the truth is closed-form: the tangent of dot(A, B) along
(dA, dB) is dot(dA, B) + dot(A, dB), and reverse mode's cotangent must satisfy
<w, J t> = <J^T w, t> for that tangent.
"""

import numpy as np
import pytest

import hyperdual as hd
import reverse
import reverse.functions as F

SHAPES = [((2, 3, 4), (5, 4, 2)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3)), ((3, 4), (2, 4, 5))]


@pytest.mark.parametrize("sa, sb", SHAPES)
def test_forward_dot_nd_is_the_product_rule(sa, sb):
    rng = np.random.default_rng(1)
    A, B, dA, dB = (rng.normal(size=s) for s in (sa, sb, sa, sb))
    r = hd.dot(hd.Dual(A, dA), hd.Dual(B, dB))
    assert np.allclose(r.real, np.dot(A, B), rtol=1e-13, atol=0)
    assert np.allclose(r.dual, np.dot(dA, B) + np.dot(A, dB), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("sa, sb", SHAPES)
def test_reverse_dot_nd_is_the_adjoint_of_the_tangent(sa, sb):
    rng = np.random.default_rng(2)
    A, B, dA, dB = (rng.normal(size=s) for s in (sa, sb, sa, sb))
    w = rng.normal(size=np.dot(A, B).shape)
    a, b = reverse.Variable(A), reverse.Variable(B)
    y = F.dot(a, b)
    assert np.allclose(y.data, np.dot(A, B), rtol=1e-13, atol=0)
    (y * w).sum().backward()
    tangent = np.dot(dA, B) + np.dot(A, dB)
    lhs = np.sum(w * tangent)
    rhs = np.sum(a.grad.data * dA) + np.sum(b.grad.data * dB)
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)
