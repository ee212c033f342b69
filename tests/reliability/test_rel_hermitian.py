"""``np.linalg.svd(a, hermitian=True)`` and ``np.linalg.pinv(a, hermitian=True)`` in
both engines: derivatives of numpy's own function.

numpy computes both from ``eigh`` of the lower triangle (s = abs(w) sorted, U the
eigenvectors in that order, Vh = (U sign(w))^T). The engines ignored ``hermitian`` and
differentiated the general SVD of the whole matrix: wrong where ``a`` is not exactly
symmetric (the gradient went to the upper triangle, which numpy never reads) and, for
the vectors, wrong signs and order (U of an indefinite matrix). They now run numpy's
composition, so the derivative is that of the entries numpy reads, as for ``eigh``.

Truth: Richardson-extrapolated central differences of numpy's own function in float64
(error ~1e-9 at this point, whose |eigenvalues| are well apart), and the exact zero
that the upper triangle must get.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps, noisy_condition

A = np.array([[2.0, 0.5, 0.4], [0.5, -3.0, 0.2], [0.1, 0.2, 1.0]])  # a[0, 2] != a[2, 0]
W = np.arange(9.0).reshape(3, 3) - 4.0
C3 = np.array([1.0, 2.0, 3.0])

PROGRAMS = {
    "svd values": lambda a: np.linalg.svd(a, hermitian=True, compute_uv=False) @ C3,
    "svd s": lambda a: np.linalg.svd(a, hermitian=True)[1] @ C3,
    "svd U": lambda a: np.sum(np.linalg.svd(a, hermitian=True)[0] * W),
    "svd Vh": lambda a: np.sum(np.linalg.svd(a, hermitian=True)[2] * W),
    "pinv": lambda a: np.sum(np.linalg.pinv(a, hermitian=True) * W),
}


def _richardson(f, a, h=1e-3):
    g = np.zeros(a.shape)
    for i in np.ndindex(a.shape):
        e = np.zeros(a.shape)
        e[i] = 1.0
        d = [(f(a + s * e) - f(a - s * e)) / (2 * s) for s in (h, h / 2, h / 4)]
        r1, r2 = (4 * d[1] - d[0]) / 3, (4 * d[2] - d[1]) / 3
        g[i] = (16 * r2 - r1) / 15
    return g


@pytest.mark.parametrize("name", list(PROGRAMS))
@pytest.mark.parametrize("engine", [hd, rv])
def test_gradient_is_numpys(engine, name):
    f = PROGRAMS[name]
    value, g = engine.value_and_gradient(f, A)
    # the engine's value and numpy's: ulps x the program's condition (Monte Carlo)
    assert_close_ulps(value, f(A), ulps=32, cond=noisy_condition(f, A))
    np.testing.assert_array_equal(np.triu(g, 1), 0.0)  # numpy never reads it
    np.testing.assert_allclose(g, _richardson(f, A), rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_second_order_paths_agree_with_differences(name):
    f = PROGRAMS[name]

    def flat(z):
        return f(np.reshape(z, (3, 3)))

    x = A.ravel()
    # truth: Richardson differences of reverse's (first-order, checked above) gradient
    h_true = np.array([_richardson(lambda z, i=i: rv.gradient(flat, z)[i], x)
                       for i in range(9)])
    v = np.linspace(-1.0, 1.0, 9)
    for what, h in [("hd.hessian", hd.hessian(flat, x)), ("rv.hessian", rv.hessian(flat, x)),
                    ("hd.derivative_tensor", hd.derivative_tensor(flat, x, 2)),
                    ("rv.derivative_tensor", rv.derivative_tensor(flat, x, 2))]:
        np.testing.assert_allclose(h, h_true, rtol=0, atol=1e-6, err_msg=what)
    np.testing.assert_allclose(rv.hvp(flat, x, v, mode="reverse-over-reverse"), h_true @ v,
                               rtol=0, atol=1e-6)


@pytest.mark.parametrize("engine", [hd, rv])
def test_factors_are_numpys(engine):
    """The values inside f are numpy's factors (order and signs included)."""
    seen = {}

    def f(a):
        u, s, vh = np.linalg.svd(a, hermitian=True)
        seen["u"], seen["vh"] = u, vh
        return np.sum(u * W) + np.sum(vh * W) + np.sum(s)

    engine.gradient(f, A)
    u, _, vh = np.linalg.svd(A, hermitian=True)
    for key, ref in (("u", u), ("vh", vh)):
        got = seen[key]
        got = got.real if engine is hd else got.data
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-15)
