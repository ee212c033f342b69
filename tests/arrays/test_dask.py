"""Both engines on dask arrays: lazy results (no compute inside a helper), equal to numpy.

Truth is the numpy run of the same helper (tested against closed forms and
mpmath elsewhere) and, for Rosenbrock, its closed-form gradient.
"""
import numpy as np
import pytest

da = pytest.importorskip("dask.array")
from dask.callbacks import Callback  # noqa: E402

import hyperdual  # noqa: E402
import reverse  # noqa: E402
from _exactdiff import arrays  # noqa: E402


class CountComputes(Callback):
    """Counts the dask computes started while active."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosen_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


def logistic(X, y):
    def loss(w):
        return np.mean(np.logaddexp(0, -y * (X @ w)))
    return loss


RNG = np.random.default_rng(17)
XN = RNG.normal(size=101)
AN = RNG.normal(size=(120, 4))
YN = np.sign(RNG.normal(size=120))
WN = RNG.normal(size=4)
VN = RNG.normal(size=4)


def _lazy(fn):
    counter = CountComputes()
    with counter:
        out = fn()
    assert counter.count == 0, f"{counter.count} dask computes inside the helper"
    return out


def _close(lazy, expected):
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-13, atol=1e-13)


def test_allow_list_by_name():
    assert arrays.is_foreign_array(da.ones(3))
    assert not arrays.is_foreign_array(np.ones(3))
    assert not arrays.is_foreign_array(reverse.Variable(np.ones(3)))
    assert not arrays.is_foreign_array(hyperdual.Dual(np.ones(3), np.ones(3)))
    with pytest.raises(TypeError, match="exactdiff value"):
        reverse.register_array_type(reverse.Variable)
    with pytest.raises(TypeError, match="__array_function__"):
        hyperdual.register_array_type(int)


def test_variable_keeps_dask_data():
    x = da.from_array(np.arange(6), chunks=3)
    v = _lazy(lambda: reverse.Variable(x))
    assert isinstance(v.data, da.Array) and v.data.dtype == np.float64
    assert v.data.chunks == x.chunks


def test_rosenbrock_gradient_lazy():
    x = da.from_array(XN, chunks=25)
    g = _lazy(lambda: reverse.gradient(rosen, x))
    _close(g, rosen_grad(XN))
    assert g.chunks == x.chunks


def test_rosenbrock_value_and_gradient_lazy():
    x = da.from_array(XN, chunks=25)
    val, g = _lazy(lambda: reverse.value_and_gradient(rosen, x))
    _close(g, rosen_grad(XN))
    np.testing.assert_allclose(float(val), rosen(XN), rtol=1e-13)


def test_logistic_gradient_lazy():
    X = da.from_array(AN, chunks=(40, 4))
    y = da.from_array(YN, chunks=40)
    w = da.from_array(WN)
    g = _lazy(lambda: reverse.gradient(logistic(X, y), w))
    # closed form: mean of -y X sigmoid(-y Xw)
    m = YN * (AN @ WN)
    expected = AN.T @ (-YN / (1 + np.exp(m))) / len(YN)
    _close(g, expected)


def test_rosenbrock_hvp_reverse_over_reverse_lazy():
    x = da.from_array(XN, chunks=25)
    v = da.from_array(XN[::-1].copy(), chunks=25)
    h = _lazy(lambda: reverse.hvp(rosen, x, v, mode="reverse-over-reverse"))
    _close(h, reverse.hvp(rosen, XN, XN[::-1].copy(), mode="reverse-over-reverse"))


@pytest.mark.parametrize("index", [
    (slice(2, -3),), (slice(None, None, 3),), (slice(None, None, -2),), (3,),
    (None, slice(1, 9, 2)), (Ellipsis, -1),
])
def test_basic_index_gradient_lazy(index):
    x = da.from_array(XN[:30].reshape(5, 6), chunks=(2, 3))

    def f(z):
        return np.sum(z[index] ** 2)

    g = _lazy(lambda: reverse.gradient(f, x))
    _close(g, reverse.gradient(f, XN[:30].reshape(5, 6)))


def test_fancy_index_gradient_refused():
    x = da.from_array(XN, chunks=25)
    with pytest.raises(TypeError, match="fancy indexing"):
        reverse.gradient(lambda z: np.sum(z[[0, 0, 3]]), x)


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_rosenbrock_hvp_lazy_both_modes(mode):
    v_n = XN[::-1].copy()
    x = da.from_array(XN, chunks=25)
    v = da.from_array(v_n, chunks=25)
    h = _lazy(lambda: reverse.hvp(rosen, x, v, mode=mode))
    # truth: the closed-form Hessian of extended Rosenbrock times v
    n = len(XN)
    H = np.zeros((n, n))
    i = np.arange(n - 1)
    H[i, i] += 1200 * XN[:-1] ** 2 - 400 * XN[1:] + 2
    H[i + 1, i + 1] += 200
    H[i, i + 1] = H[i + 1, i] = -400 * XN[:-1]
    _close(h, H @ v_n)


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_logistic_hvp_lazy_both_modes(mode):
    X = da.from_array(AN, chunks=(40, 4))
    y = da.from_array(YN, chunks=40)
    h = _lazy(lambda: reverse.hvp(logistic(X, y), da.from_array(WN), da.from_array(VN),
                                  mode=mode))
    s = 1 / (1 + np.exp(-YN * (AN @ WN)))
    H = AN.T @ (AN * (s * (1 - s))[:, None]) / len(YN)
    _close(h, H @ VN)


def test_hyperdual_jvp_lazy():
    x = da.from_array(XN, chunks=25)
    v = da.from_array(np.ones_like(XN), chunks=25)
    val, t = _lazy(lambda: hyperdual.jvp(rosen, x, v))
    np.testing.assert_allclose(np.asarray(val), rosen(XN), rtol=1e-13)
    np.testing.assert_allclose(np.asarray(t), rosen_grad(XN).sum(), rtol=1e-12)


def test_dual_with_dask_parts_stays_lazy():
    x = da.from_array(XN, chunks=25)
    d = _lazy(lambda: np.sin(hyperdual.Dual(x, x)) * x / (1 + x ** 2))
    assert isinstance(d.real, da.Array) and isinstance(d.dual, da.Array)
    e = np.sin(hyperdual.Dual(XN, XN)) * XN / (1 + XN ** 2)
    np.testing.assert_allclose(d.dual.compute(), e.dual, rtol=1e-14)
