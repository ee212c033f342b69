"""CuPy arrays (GPU) and a dask.distributed cluster: the dask tests' helpers on both.

Each part skips with its reason when its library (or a GPU) is absent.
Truth: numpy's result of the same helper and the closed-form gradient.
"""
import importlib

import numpy as np
import pytest

import reverse


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def logistic(X, y):
    def loss(w):
        return np.mean(np.logaddexp(0, -y * (X @ w)))
    return loss


RNG = np.random.default_rng(5)
XN = RNG.normal(size=40)
AN = RNG.normal(size=(60, 3))
YN = np.sign(RNG.normal(size=60))
WN = RNG.normal(size=3)


def _cupy():
    try:
        cp = importlib.import_module("cupy")
        cp.cuda.runtime.getDeviceCount()
    except Exception as exc:  # not installed, or no GPU/driver
        pytest.skip(f"CuPy tests need cupy and a GPU: {type(exc).__name__}: {exc}")
    return cp


@pytest.mark.parametrize("mode", ["forward-over-reverse", "reverse-over-reverse"])
def test_cupy_gradient_and_hvp_stay_on_device(mode):
    cp = _cupy()
    x = cp.asarray(XN)
    g = reverse.gradient(rosen, x)
    h = reverse.hvp(rosen, x, x, mode=mode)
    assert isinstance(g, cp.ndarray) and isinstance(h, cp.ndarray)
    np.testing.assert_allclose(cp.asnumpy(g), reverse.gradient(rosen, XN), rtol=1e-12)
    np.testing.assert_allclose(cp.asnumpy(h), reverse.hvp(rosen, XN, XN, mode=mode),
                               rtol=1e-12)


def test_cupy_logistic_gradient():
    cp = _cupy()
    g = reverse.gradient(logistic(cp.asarray(AN), cp.asarray(YN)), cp.asarray(WN))
    np.testing.assert_allclose(cp.asnumpy(g), reverse.gradient(logistic(AN, YN), WN),
                               rtol=1e-12)


def test_distributed_local_cluster_logistic_and_rosenbrock():
    distributed = pytest.importorskip("distributed")
    da = pytest.importorskip("dask.array")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  memory_limit="500MB", dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        X = da.from_array(AN, chunks=(20, 3))
        y = da.from_array(YN, chunks=20)
        g = reverse.gradient(logistic(X, y), da.from_array(WN)).compute()
        m = YN * (AN @ WN)
        np.testing.assert_allclose(g, AN.T @ (-YN / (1 + np.exp(m))) / len(YN), rtol=1e-13)
        x = da.from_array(XN, chunks=10)
        h = reverse.hvp(rosen, x, x).compute()
        np.testing.assert_allclose(h, reverse.hvp(rosen, XN, XN), rtol=1e-13)
