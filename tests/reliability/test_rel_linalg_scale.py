"""Matrix norms and condition numbers at entries of 1e+-200.

``np.linalg.norm(A, 'fro')`` was ``sqrt(sum(A * A))``: inf at entries of 1e200 and
0 at 1e-200 (the value, so ``cond(A, 'fro')`` came out inf or 0 and its reverse
gradient nan or inf) although the norm, its gradient and its Hessian are normal
floats.  It is now the scaled 2-norm of the entries (powers of two, exact), as for
vectors.  Both are homogeneous, so the truth at scale s is the truth at scale 1
times a power of s (exact for s a power of two).

A known limit of forward mode is not tested here: an intermediate derivative
that itself leaves the float range (the tangent of ``inv(A)`` at entries of
1e200 is about 1e-400) underflows even where the final derivative is normal;
reverse mode starts from the output and keeps it (see the README).
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

A0 = np.array([[2.0, 1.0, 0.3], [0.5, 3.0, 1.0], [0.2, 0.4, 1.5]])
SCALES = [2.0 ** 664, 2.0 ** -664, 2.0 ** 996, 2.0 ** -1000]  # ~1e200, 1e-200, 1e300, 1e-301


def _fro(a):
    return np.linalg.norm(a.reshape(3, 3), "fro")


def _truth(f, x):
    """Closed forms at scale 1: f(A) = sqrt(sum A^2): g = A / f, H = (I - g g^T) / f."""
    n = np.sqrt(np.sum(x * x))
    g = x / n
    return n, g, (np.eye(x.size) - np.outer(g, g)) / n


@pytest.mark.parametrize("s", SCALES)
@pytest.mark.parametrize("eng", [hd, rv], ids=["hyperdual", "reverse"])
def test_frobenius_norm_in_range_at_extreme_scales(eng, s):
    x = A0.ravel()
    n, g, h = _truth(_fro, x)
    val, grad = eng.value_and_gradient(_fro, x * s)
    assert_close_ulps(val, n * s, ulps=4, cond=x.size)
    assert_close_ulps(grad, g, ulps=4, cond=x.size)
    H = eng.hessian(_fro, x * s)
    assert_close_ulps(H * s, h, ulps=16, cond=x.size * np.max(np.abs(h)) / np.abs(h))


@pytest.mark.parametrize("s", SCALES[:2])
def test_reverse_gradient_of_cond_fro_at_extreme_scales(s):
    """cond(A, 'fro') is scale invariant: its gradient at s A is the one at A over s."""
    def f(a):
        return np.linalg.cond(a, "fro")

    g1 = rv.gradient(f, A0)
    assert_close_ulps(rv.gradient(f, A0 * s) * s, g1, ulps=4)
    assert_close_ulps(hd.gradient(f, A0), g1, ulps=16, cond=np.max(np.abs(g1)) / np.abs(g1))
    assert_close_ulps(rv.value_and_gradient(f, A0 * s)[0], f(A0), ulps=4)
