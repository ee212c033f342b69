"""One ``dtype=`` rule for every entry point, in Dual, HyperDual, Taylor and reverse.

numpy computes a reduction (or a running sum, a contraction, a ufunc method) of input
cast to a floating ``dtype=``; the engines cast (``astype``, whose derivative is the cast
derivative) and compute, through one function (``_exactdiff.statistics.as_dtype``), for
the numpy functions, the ndarray methods (``x.sum(dtype=...)``) and ``ufunc.reduce`` /
``accumulate`` / ``outer`` alike.  A non-float dtype (int, bool, complex) raises a
``TypeError`` naming ``dtype=`` (numpy would truncate the values to integers: no
derivative).  :mod:`test_breadth_reduction_dtype` covers sum, mean, prod, cumsum and
cumprod as functions; this file the rest.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from reverse import Variable

X32 = np.array([[0.3, -1.2, 2.5], [1.7, 0.9, -0.4], [0.2, 1.1, -0.8]], dtype=np.float32)
X64 = X32.astype(np.float64) + 1e-9  # not representable in float32

ENTRIES = {
    "var": lambda x, **kw: np.var(x, axis=0, **kw),
    "std": lambda x, **kw: np.std(x, axis=1, ddof=1, **kw),
    "nansum": lambda x, **kw: np.nansum(x, axis=0, **kw),
    "nanmean": lambda x, **kw: np.nanmean(x, axis=1, **kw),
    "nanvar": lambda x, **kw: np.nanvar(x, **kw),
    "nanstd": lambda x, **kw: np.nanstd(x, axis=0, **kw),
    "nanprod": lambda x, **kw: np.nanprod(x, axis=1, **kw),
    "nancumsum": lambda x, **kw: np.nancumsum(x, axis=0, **kw),
    "nancumprod": lambda x, **kw: np.nancumprod(x, axis=1, **kw),
    "trace": lambda x, **kw: np.trace(x, **kw),
    "einsum": lambda x, **kw: np.einsum("ij,jk->ik", x, x, **kw),
    "add.reduce": lambda x, **kw: np.add.reduce(x, axis=1, **kw),
    "multiply.reduce": lambda x, **kw: np.multiply.reduce(x, axis=0, **kw),
    "maximum.reduce": lambda x, **kw: np.maximum.reduce(x, axis=1, **kw),
    "logaddexp.reduce": lambda x, **kw: np.logaddexp.reduce(x, axis=0, **kw),
    "add.accumulate": lambda x, **kw: np.add.accumulate(x, axis=1, **kw),
    "hypot.accumulate": lambda x, **kw: np.hypot.accumulate(x, axis=0, **kw),
    "multiply.outer": lambda x, **kw: np.multiply.outer(x[0], x[1], **kw),
    ".sum": lambda x, **kw: x.sum(axis=0, **kw),
    ".mean": lambda x, **kw: x.mean(axis=1, **kw),
    ".prod": lambda x, **kw: x.prod(**kw),
    ".cumsum": lambda x, **kw: x.cumsum(axis=0, **kw),
    ".cumprod": lambda x, **kw: x.cumprod(axis=1, **kw),
    ".var": lambda x, **kw: x.var(axis=0, **kw),
    ".std": lambda x, **kw: x.std(**kw),
    ".trace": lambda x, **kw: x.trace(**kw),
}


def _taylor(x):
    return hd.Taylor(np.stack([x, np.ones_like(x), np.zeros_like(x)]))


ENGINES = {"Dual": lambda x: hd.Dual(x, np.ones_like(x)),
           "HyperDual": lambda x: hd.HyperDual(x, np.ones_like(x), np.ones_like(x), 0.0),
           "Taylor": _taylor, "reverse": Variable}


def _value(y):
    if isinstance(y, Variable):
        return np.asarray(y.data)
    if isinstance(y, hd.Taylor):
        return np.asarray(y.coef[0])
    return np.asarray(y.real)


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", sorted(ENTRIES))
@pytest.mark.parametrize("x0, dt", [(X32, np.float64), (X64, np.float32)],
                         ids=["f32-in-f64", "f64-in-f32"])
def test_float_dtype_computes_in_it_as_numpy(engine, name, x0, dt):
    f = ENTRIES[name]
    if name == "einsum" and dt is np.float32:
        # einsum's casting="safe" (its default) refuses float64 data in float32, in
        # numpy and in the engines alike
        for v in (x0, ENGINES[engine](x0)):
            with pytest.raises(TypeError, match="cast"):
                f(v, dtype=dt)
        return
    got = _value(f(ENGINES[engine](x0), dtype=dt))
    assert got.dtype == np.dtype(dt) == f(x0, dtype=dt).dtype
    # the values of the cast input: numpy's own nanvar/nanstd keep the deviations from
    # the mean in the input's dtype (float32 x, dtype=float64: float32 deviations, 1e-8
    # off); the engines compute all of it in dtype=, as np.var does
    want = f(x0.astype(dt))
    # the same operations in the same dtype, up to the order of a sum: a few ulps of dt
    # times the size of the terms
    eps = np.finfo(dt).eps
    scale = max(1.0, float(np.max(np.abs(want))))
    np.testing.assert_allclose(got, want, rtol=64 * eps, atol=64 * eps * scale)


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", sorted(ENTRIES))
@pytest.mark.parametrize("dt", [np.int64, bool, np.complex128])
def test_non_float_dtype_is_refused_by_name(engine, name, dt):
    with pytest.raises(TypeError, match="dtype"):
        ENTRIES[name](ENGINES[engine](X64), dtype=dt)


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_derivatives_through_dtype_are_those_without_it(name):
    # float64 data with dtype=float64: the cast is the identity, so gradients and
    # Hessians in both engines equal those of the call without dtype= (same arithmetic)
    f = ENTRIES[name]
    x0 = np.array([[0.3, -1.2, 2.5], [1.7, 0.9, -0.4], [0.2, 1.1, -0.8]])
    w = np.random.default_rng(1).uniform(0.5, 1.5, np.shape(f(x0)))

    def g(v):
        return np.sum(np.sin(f(v.reshape(3, 3), dtype=np.float64)) * w)

    def ref(v):
        return np.sum(np.sin(f(v.reshape(3, 3))) * w)

    eps = np.finfo(float).eps
    v0 = x0.ravel()
    G = hd.gradient(ref, v0)
    H = hd.hessian(ref, v0)
    gs, hs = max(1.0, float(np.max(np.abs(G)))), max(1.0, float(np.max(np.abs(H))))
    for grad, hess in ((hd.gradient, hd.hessian), (rv.gradient, rv.hessian)):
        np.testing.assert_allclose(grad(g, v0), G, rtol=64 * eps, atol=64 * eps * gs)
        np.testing.assert_allclose(hess(g, v0), H, rtol=256 * eps, atol=256 * eps * hs)


def test_cast_derivative_against_central_differences():
    # var(x, dtype=float32) of float64 x: the derivative is that of var(x.astype(float32)),
    # 2 (x - mean) / n in float32; central differences of the float64 value with a step
    # that float32 rounding cannot hide (h = 1e-2: truncation 0, var is quadratic)
    x0 = np.array([0.3, -1.2, 2.5, 1.7])
    # (a derivative with respect to x has x's dtype in both engines, float64 here,
    # with float32's precision: f computed in float32)
    got = hd.gradient(lambda x: np.var(x, dtype=np.float32), x0)
    assert np.asarray(got).dtype == np.float64
    want = 2 * (x0 - x0.mean()) / x0.size
    np.testing.assert_allclose(got, want, rtol=8 * np.finfo(np.float32).eps)
    gr = rv.gradient(lambda x: np.var(x, dtype=np.float32), x0)
    assert np.asarray(gr).dtype == np.float64
    np.testing.assert_allclose(gr, want, rtol=8 * np.finfo(np.float32).eps)


def test_nested_engines_through_dtype():
    # forward over reverse: the Hessian of sum(x.cumsum(dtype=float64) ** 3) is
    # diag-free closed form H = 6 * sum_k>=max(i,j) c_k, c the running sums
    x0 = np.array([0.5, -0.3, 1.2])

    def f(x):
        return np.sum(x.cumsum(dtype=np.float64) ** 3)

    H = hd.jacobian(lambda x: rv.gradient(f, x), x0)
    c = np.cumsum(x0)
    tail = np.cumsum(c[::-1])[::-1]  # tail[m] = sum_{k >= m} c_k
    want = 6 * tail[np.maximum.outer(np.arange(3), np.arange(3))]
    np.testing.assert_allclose(H, want, rtol=16 * np.finfo(float).eps)
