"""np.linalg.inv/solve/det/slogdet on Taylor numbers against closed forms.

Along A(t) = A0 + t A1 (with M = -A0^-1 A1 and lam the eigenvalues of A0^-1 A1):
inv(A(t)) = sum_k M^k A0^-1 t^k, det(A(t)) = det(A0) prod_i (1 + t lam_i) and
log|det A(t)| = log|det A0| + sum_k (-1)^(k-1) sum_i lam_i^k t^k / k.
"""

import numpy as np
import pytest

import hyperdual as hd
from hyperdual import Taylor

K = 6
RNG = np.random.default_rng(7)


def _series(A0, A1):
    c = np.zeros((K + 1,) + A0.shape)
    c[0], c[1] = A0, A1
    return Taylor(c)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_inv_det_slogdet_solve(n):
    A0 = RNG.normal(size=(n, n)) + 2 * n * np.eye(n)
    A1 = RNG.normal(size=(n, n))
    T = _series(A0, A1)
    Ai = np.linalg.inv(A0)
    M = -Ai @ A1
    ref = np.stack([np.linalg.matrix_power(M, k) @ Ai for k in range(K + 1)])
    np.testing.assert_allclose(np.linalg.inv(T).coef, ref, rtol=1e-12, atol=1e-14)

    lam = np.linalg.eigvals(Ai @ A1)
    poly = np.array([1.0 + 0j])
    for v in lam:  # multiply by (1 + v t), low order first
        poly = np.concatenate([poly, [0]]) + v * np.concatenate([[0], poly])
    det_ref = np.zeros(K + 1)
    det_ref[:n + 1] = np.linalg.det(A0) * poly.real
    np.testing.assert_allclose(np.linalg.det(T).coef, det_ref, rtol=1e-12, atol=1e-12)

    sign, logdet = np.linalg.slogdet(T)
    l_ref = [np.log(abs(np.linalg.det(A0)))] + [
        float(np.real((-1) ** (k - 1) * np.sum(lam ** k) / k)) for k in range(1, K + 1)]
    assert sign == np.sign(np.linalg.det(A0))
    np.testing.assert_allclose(logdet.coef, l_ref, rtol=1e-11, atol=1e-13)

    b = np.zeros((K + 1, n))
    b[0], b[2] = RNG.normal(size=n), RNG.normal(size=n)
    x = np.linalg.solve(T, Taylor(b, tag=T.tag))
    ref = np.stack([sum(np.linalg.matrix_power(M, k - j) @ Ai @ b[j] for j in range(k + 1))
                    for k in range(K + 1)])
    np.testing.assert_allclose(x.coef, ref, rtol=1e-12, atol=1e-14)
    # a constant right-hand side, and a constant matrix with a Taylor right-hand side
    np.testing.assert_allclose(np.linalg.solve(T, b[0]).coef, ref_const(M, Ai, b[0]),
                               rtol=1e-12, atol=1e-14)
    y = np.linalg.solve(A0, Taylor(b))
    np.testing.assert_allclose(y.coef, np.linalg.solve(A0, b[..., None])[..., 0], rtol=1e-13)


def ref_const(M, Ai, b0):
    return np.stack([np.linalg.matrix_power(M, k) @ Ai @ b0 for k in range(K + 1)])


def test_linalg_helpers_vs_hyperdual():
    f = lambda x: np.linalg.det(np.outer(x, x) + np.diag(1 + x ** 2))  # noqa: E731
    g = lambda x: np.sum(np.linalg.solve(np.diag(2 + x) + 0.3, x))  # noqa: E731
    x = np.array([0.4, -0.3, 0.8])
    v = np.array([1.0, 0.5, -0.25])
    for fn in (f, g):
        d = hd.directional_derivatives(fn, x, v, 2)
        np.testing.assert_allclose(d[1], hd.gradient(fn, x) @ v, rtol=1e-12)
        np.testing.assert_allclose(d[2], v @ hd.hessian(fn, x) @ v, rtol=1e-11)
