"""pydata/sparse arrays as data: what works, and a clear error for what would densify.

Truth: closed-form derivatives computed on the dense numpy copy.
"""
import subprocess
import sys

import numpy as np
import pytest

sparse = pytest.importorskip("sparse")

import hyperdual  # noqa: E402
import reverse  # noqa: E402
from _exactdiff import arrays  # noqa: E402
from tests._tolerance import assert_close_ulps  # noqa: E402

RNG = np.random.default_rng(23)
XD = RNG.normal(size=(12, 4)) * (RNG.random((12, 4)) < 0.4)  # ~60% zeros
X = sparse.COO.from_numpy(XD)
Y = np.sign(RNG.normal(size=12))
W = RNG.normal(size=4)
V = RNG.normal(size=4)


def _dense(a):
    return a.todense() if hasattr(a, "todense") else np.asarray(a)


def test_allowed_without_importing_sparse():
    assert arrays.is_foreign_array(X)
    code = ("import numpy, hyperdual, reverse, _exactdiff.arrays as a, sys; "
            "assert a.is_foreign_array(numpy.ones(2)) is False; "
            "print('sparse' in sys.modules, 'dask' in sys.modules, 'cupy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False", "False"]


def f_elementwise(z):
    return np.sum(np.sin(z) * z)


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_elementwise_gradient_and_hvp_stay_sparse(mode):
    g = reverse.gradient(f_elementwise, X)
    assert isinstance(g, sparse.SparseArray)
    # d/dz sin(z) z = sin z + z cos z (0 at the structural zeros: the result stays sparse)
    want = np.sin(XD) + XD * np.cos(XD)  # a sum of two terms: cond = |terms| / |sum|
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = np.where(want != 0, (np.abs(np.sin(XD)) + np.abs(XD * np.cos(XD)))
                        / np.abs(want), 1.0)
    assert_close_ulps(_dense(g), want, ulps=8, cond=cond)
    vd = np.cos(np.arange(XD.size)).reshape(XD.shape)
    h = reverse.hvp(f_elementwise, X, sparse.COO.from_numpy(vd), mode=mode)
    np.testing.assert_allclose(_dense(h), (2 * np.cos(XD) - XD * np.sin(XD)) * vd,
                               rtol=1e-13, atol=1e-15)


def test_elementwise_forward_mode():
    d = hyperdual.derivative(np.sin, X)
    assert isinstance(d, sparse.SparseArray)
    assert_close_ulps(_dense(d), np.cos(XD))  # the same np.cos, on sparse's data
    _, t = hyperdual.jvp(f_elementwise, X, X)
    np.testing.assert_allclose(float(_dense(t)), np.sum((np.sin(XD) + XD * np.cos(XD)) * XD),
                               rtol=1e-13)
    small = sparse.COO.from_numpy(XD[:2])
    g = hyperdual.gradient(f_elementwise, small)  # n directions: small n only
    want = np.sin(XD[:2]) + XD[:2] * np.cos(XD[:2])
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = np.where(want != 0, (np.abs(np.sin(XD[:2])) + np.abs(XD[:2] * np.cos(XD[:2])))
                        / np.abs(want), 1.0)
    assert_close_ulps(_dense(g), want, ulps=8, cond=cond)


def logistic(w):
    # the sparse data matrix on the right of the engine's value: the engine's
    # __matmul__ runs first (pydata/sparse's X @ w does not defer to other types)
    return np.mean(np.logaddexp(0, -Y * (w @ X.T)))


def _logistic_truth():
    m = Y * (XD @ W)
    s = 1 / (1 + np.exp(-m))
    grad = XD.T @ (-Y * (1 - s)) / len(Y)
    H = XD.T @ (XD * (s * (1 - s))[:, None]) / len(Y)
    return grad, H


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_matmul_with_a_sparse_data_matrix(mode):
    grad, H = _logistic_truth()
    np.testing.assert_allclose(_dense(reverse.gradient(logistic, W)), grad, rtol=1e-13)
    np.testing.assert_allclose(_dense(reverse.hvp(logistic, W, V, mode=mode)), H @ V,
                               rtol=1e-12)
    np.testing.assert_allclose(_dense(hyperdual.gradient(logistic, W)), grad, rtol=1e-13)
    np.testing.assert_allclose(_dense(hyperdual.hvp(logistic, W, V)), H @ V, rtol=1e-12)


def test_fancy_index_gradient_is_a_clear_error():
    with pytest.raises(TypeError, match="fancy indexing on a sparse array"):
        reverse.gradient(lambda z: np.sum(z[[0, 0, 3]] ** 2), X)


def test_dense_cotangent_into_a_slice_is_a_clear_error():
    # the gradient of prod over a row is dense (fill value != 0): scattering it
    # back into the sparse shape would densify
    with pytest.raises(TypeError, match="densify"):
        reverse.gradient(lambda z: np.prod(z[0] + 1.0), X)


# numpy functions pydata/sparse lacks (or implements only by densifying): either
# the derivative is right, or our TypeError names the function and the way out
# (what pydata/sparse supports differs between its versions), never sparse's
# own error about its internals
UNSUPPORTED = {
    "np.cumsum": lambda z: np.sum(np.cumsum(z, axis=0) ** 2),
    "np.sort": lambda z: np.sum(np.sort(z, axis=0)[0] ** 2),
    "np.linalg.norm": lambda z: np.linalg.norm(z),
    "np.median": lambda z: np.median(z),
    "np.std": lambda z: np.std(z),
    "np.nansum": lambda z: np.nansum(z ** 2),
    "np.flip": lambda z: np.sum(np.flip(z, 0)[0] ** 2),
    "np.roll": lambda z: np.sum(np.roll(z, 1) * z),
    "np.pad": lambda z: np.sum(np.pad(z, 1) ** 2),
    "the gradient of MatMul": lambda z: np.sum(z @ z.T),
    "the gradient of Einsum": lambda z: np.einsum("ij,ij->", z, z),
}
ENGINES = {
    "reverse.gradient": lambda f, x, v: reverse.gradient(f, x),
    "reverse.hvp-fr": lambda f, x, v: reverse.hvp(f, x, v, mode="forward-over-reverse"),
    "reverse.hvp-rr": lambda f, x, v: reverse.hvp(f, x, v, mode="reverse-over-reverse"),
    "hyperdual.jvp": lambda f, x, v: hyperdual.jvp(f, x, v)[1],
}


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize("name", list(UNSUPPORTED))
def test_unsupported_function_is_our_clear_error(name, engine):
    f, call = UNSUPPORTED[name], ENGINES[engine]
    vd = np.cos(np.arange(XD.size)).reshape(XD.shape)
    try:
        out = call(f, X, sparse.COO.from_numpy(vd))
    except TypeError as exc:
        msg = str(exc)
        assert msg.startswith("exactdiff:"), msg
        if not msg.startswith("exactdiff: the gradient of indexing"):  # scatter_add's own
            assert "pydata/sparse" in msg and ".todense()" in msg, msg
            if engine != "hyperdual.jvp":  # the forward pass may fail in a helper op
                assert name in msg, msg
        return
    expected = call(f, XD, vd)  # pydata/sparse supports it: the same numbers as numpy
    np.testing.assert_allclose(_dense(out), expected, rtol=1e-12, atol=1e-14)


def test_other_errors_pass_through():
    # only pydata/sparse's errors are converted: numpy's own stay what they are
    with pytest.raises(ValueError, match="shape"):
        reverse.gradient(lambda z: np.sum(np.reshape(z, (5, 5))), XD)
    with pytest.raises(ValueError):
        hyperdual.jvp(lambda z: np.sum(np.reshape(z, (5, 5))), XD, XD)
