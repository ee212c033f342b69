"""hyperdual's helpers on dask arrays: lazy results, seeds built in dask, closed-form truth.

The helpers that push many directions (gradient, jacobian, hessian, hvp, vjp)
seed ``n`` unit directions at once, so they are for small ``n``; on dask they
build those seeds lazily in the data's chunking and compute nothing.
"""
import numpy as np
import pytest

from ._problems import rosen, rosen_grad, rosen_hess

da = pytest.importorskip("dask.array")

import hyperdual  # noqa: E402


def _close(out, expected, chunks=None):
    assert isinstance(out, da.Array), type(out)
    if chunks is not None:
        assert out.chunks == chunks
    np.testing.assert_allclose(out.compute(), expected, rtol=1e-13, atol=1e-13)


XN = np.linspace(0.5, 1.5, 7)
VN = np.cos(np.arange(7.0))
X = da.from_array(XN, chunks=3)
V = da.from_array(VN, chunks=3)


def vec(z):
    return np.sin(z) * z[::-1]


def vec_jac(z):
    # f_i = sin(z_i) z_(n-1-i)
    J = np.diag(np.cos(z) * z[::-1])
    J[np.arange(len(z)), np.arange(len(z))[::-1]] += np.sin(z)
    return J


def test_elementwise_derivatives_lazy(lazy):
    _close(lazy(lambda: hyperdual.derivative(np.sin, X)), np.cos(XN), X.chunks)
    _close(lazy(lambda: hyperdual.second_derivative(np.sin, X)), -np.sin(XN), X.chunks)


def test_gradient_lazy_chunked_like_x(lazy):
    _close(lazy(lambda: hyperdual.gradient(rosen, X)), rosen_grad(XN), X.chunks)
    val, g = lazy(lambda: hyperdual.value_and_gradient(rosen, X))
    _close(g, rosen_grad(XN), X.chunks)
    np.testing.assert_allclose(float(val), rosen(XN), rtol=1e-13)


def test_hessian_and_hvp_lazy(lazy):
    _close(lazy(lambda: hyperdual.hessian(rosen, X)), rosen_hess(XN))
    _close(lazy(lambda: hyperdual.hvp(rosen, X, V)), rosen_hess(XN) @ VN, X.chunks)


def test_jacobian_jvp_vjp_lazy(lazy):
    J = vec_jac(XN)
    _close(lazy(lambda: hyperdual.jacobian(vec, X)), J)
    _close(lazy(lambda: hyperdual.jvp(vec, X, V))[1], J @ VN)
    _close(lazy(lambda: hyperdual.vjp(vec, X, V))[1], VN @ J)


def test_constant_function_gives_lazy_zeros(lazy):
    # f does not depend on x: the zero derivative is built in dask, not numpy
    g = lazy(lambda: hyperdual.gradient(lambda z: 3.0, X))
    _close(g, np.zeros(7))
    h = lazy(lambda: hyperdual.hvp(lambda z: 3.0, X, V))
    _close(h, np.zeros(7))


def test_seeds_are_built_in_dask(lazy):
    from _exactdiff import arrays

    seed = lazy(lambda: arrays.eye_block_like(X, 2, 3, (3, 1)))
    assert isinstance(seed, da.Array) and seed.chunks[-1] == X.chunks[0]
    np.testing.assert_array_equal(seed.compute(), np.eye(7)[2:5].reshape(3, 1, 7))
    z = arrays.zeros_lead(X, (2, 4))
    assert isinstance(z, da.Array) and z.shape == (2, 4, 7) and not z.compute().any()


def test_gradient_and_hessian_of_a_matrix_lazy(lazy):
    an = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
    a = da.from_array(an, chunks=(2, 3))
    g = lazy(lambda: hyperdual.gradient(lambda z: np.sum(z ** 3), a))
    _close(g, 3 * an ** 2, a.chunks)
    h = lazy(lambda: hyperdual.hessian(lambda z: np.sum(z ** 3), a))
    _close(h, np.diag(6 * an.ravel()).reshape(3, 4, 3, 4))
