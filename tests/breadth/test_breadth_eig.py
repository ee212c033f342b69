"""np.linalg.eig / eigvals of real matrices with real spectra, both engines.

Truth: central differences of f and of hyperdual's exact gradient, the other
engine, the closed form dλ = uᵀ dA v / (uᵀ v) (left and right eigenvectors
from scipy), reverse's third order; complex spectra and repeated eigenvalues
raise clear errors.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
from breadth_checks import check_both_engines

import hyperdual as hd
import reverse as rv
from hyperdual import Dual, HyperDual
from hyperdual.linalg import DegenerateDerivativeError
from reverse import Variable


def _real_spectrum(n, seed, batch=()):
    """V diag(w) V^-1 with distinct real w and a well-conditioned V."""
    rng = np.random.default_rng(seed)
    w = np.sort(rng.uniform(-3, 3, batch + (n,))) + np.arange(n)
    v = rng.standard_normal(batch + (n, n)) + 3 * np.eye(n)
    return v @ (w[..., :, None] * np.linalg.inv(v))


@pytest.mark.parametrize("batch", [(), (2,)])
def test_eigvals_both_engines(batch):
    a = _real_spectrum(4, 0, batch)
    w = np.random.default_rng(1).standard_normal(batch + (4,))
    check_both_engines(lambda x: np.sum(np.sort(np.linalg.eigvals(x)) ** 2 * w), a)


def test_eigvals_closed_form_left_right_eigenvectors():
    a = _real_spectrum(3, 2)
    da = np.random.default_rng(3).standard_normal((3, 3))
    lam, vl, vr = sla.eig(a, left=True, right=True)
    want = np.array([vl[:, k] @ da @ vr[:, k] / (vl[:, k] @ vr[:, k]) for k in range(3)]).real
    got = np.linalg.eigvals(Dual(a, da))
    np.testing.assert_allclose(got.real, lam.real, rtol=1e-13)
    np.testing.assert_allclose(got.dual, want, rtol=1e-10, atol=1e-12)
    vr_ = Variable(a)
    np.sum(np.linalg.eigvals(vr_) * np.arange(1.0, 4.0)).backward()
    np.testing.assert_allclose(np.sum(vr_.grad.data * da),
                               want @ np.arange(1.0, 4.0), rtol=1e-10)


@pytest.mark.parametrize("batch", [(), (2,)])
def test_eig_vectors_both_engines(batch):
    a = _real_spectrum(3, 4, batch)
    w = np.random.default_rng(5).standard_normal(batch + (3, 3))

    def f(x):
        vals, vecs = np.linalg.eig(x)
        # a sign-invariant function of each unit eigenvector, weighted by its eigenvalue
        return np.sum(vecs ** 2 * w * vals[..., None, :])

    check_both_engines(f, a)


def test_eig_unit_norm_kept_and_hyperdual_second_order():
    a = _real_spectrum(3, 6)
    d1 = np.random.default_rng(7).standard_normal((3, 3))
    d2 = np.random.default_rng(8).standard_normal((3, 3))
    vals, vecs = np.linalg.eig(HyperDual(a, d1, d2, np.zeros((3, 3))))
    norms = np.sum(vecs * vecs, axis=0)  # unit norm: all derivative parts vanish
    np.testing.assert_allclose(norms.real, 1.0, rtol=1e-14)
    np.testing.assert_allclose(norms.eps1, 0.0, atol=1e-12)
    np.testing.assert_allclose(norms.eps12, 0.0, atol=1e-11)
    # A V = V diag(w) holds to second order
    resid = a @ vecs - vecs * vals
    assert np.max(np.abs(resid.real)) < 1e-12
    r = HyperDual(a, d1, d2, 0.0) @ vecs - vecs * vals
    for part in (r.eps1, r.eps2, r.eps12):
        assert np.max(np.abs(part)) < 1e-10


def test_eigvals_third_order_reverse_against_hyperdual():
    a = _real_spectrum(3, 9)
    u = np.random.default_rng(10).standard_normal((3, 3))

    def f(t):
        return np.sum(np.sort(np.linalg.eigvals(a + t * u)) ** 3)

    x = Variable(np.array(0.3))
    y = f(x)
    for _ in range(3):
        x.clear_grad()
        y.backward(create_graph=True)
        y = x.grad
    h = 1e-4
    num = (hd.second_derivative(f, 0.3 + h) - hd.second_derivative(f, 0.3 - h)) / (2 * h)
    assert abs(float(y.data) - num) <= 1e-5 * max(1.0, abs(num))


def test_complex_spectrum_and_repeated_eigenvalues_raise():
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    with pytest.raises(TypeError, match="hyperdual.*complex eigenvalues.*eigh"):
        np.linalg.eig(Dual(rot, np.eye(2)))
    with pytest.raises(TypeError, match="reverse.*complex eigenvalues.*eigvalsh"):
        np.linalg.eigvals(Variable(rot))
    jordan_free = np.diag([2.0, 2.0, 3.0])
    with pytest.raises(DegenerateDerivativeError):
        np.linalg.eig(Dual(jordan_free, np.ones((3, 3))))
    # the eigenvalues of a diagonalisable matrix stay differentiable there
    got = np.linalg.eigvals(Dual(np.diag([1.0, 3.0]), np.array([[1.0, 5.0], [0.0, 2.0]])))
    np.testing.assert_allclose(got.dual, [1.0, 2.0])
    assert rv.gradient(lambda x: np.sum(np.linalg.eigvals(x)), np.diag([1.0, 3.0])).tolist() \
        == np.eye(2).tolist()
