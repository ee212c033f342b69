"""``dtype=`` of the reductions and running sums/products in both engines, and ``where=``
of the elementwise ufuncs.

numpy casts the input to a floating ``dtype=`` and reduces in it; the engines do the same
(the derivative is cast with the value), so values match numpy's in that dtype and the
derivatives are those of ``f(x.astype(dtype))``.  A non-float ``dtype`` used to be ignored
silently by hyperdual (float results for ``dtype=int``) and refused by reverse for every
dtype; both now raise a ``TypeError`` naming it.  ``where=`` on an elementwise ufunc leaves
the masked entries unset (or writes into ``out=``): both engines refuse it by name.
A float ``dtype=`` on an elementwise ufunc (``np.exp(x, dtype=np.float32)``, numpy's own
``np.subtract(a, b, dtype=dt)`` inside ``np.histogram``) casts the operands, as numpy
does; it used to be refused.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from reverse import Variable
from tests._tolerance import assert_close_ulps

X32 = np.array([[0.3, -1.2, 2.5], [1.7, 0.9, -0.4]], dtype=np.float32)
X64 = X32.astype(np.float64) + 1e-9  # not representable in float32

FUNCS = {"sum": np.sum, "mean": np.mean, "prod": np.prod, "cumsum": np.cumsum,
         "cumprod": np.cumprod}
if hasattr(np, "cumulative_sum"):
    FUNCS["cumulative_sum"] = lambda x, **kw: np.cumulative_sum(x, axis=1, **kw)
    FUNCS["cumulative_prod"] = lambda x, **kw: np.cumulative_prod(x, axis=0, **kw)

ENGINES = {"Dual": lambda x: hd.Dual(x, np.ones_like(x)), "reverse": Variable,
           "HyperDual": lambda x: hd.HyperDual(x, np.ones_like(x), np.ones_like(x), 0.0)}


def _value(y):
    return np.asarray(y.data if isinstance(y, Variable) else y.real)


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", sorted(FUNCS))
@pytest.mark.parametrize("x0, dt", [(X32, np.float64), (X64, np.float32)],
                         ids=["f32-in-f64", "f64-in-f32"])
def test_float_dtype_casts_then_reduces_as_numpy(engine, name, x0, dt):
    f = FUNCS[name]
    want = f(x0, dtype=dt)
    got = _value(f(ENGINES[engine](x0), dtype=dt))
    assert got.dtype == np.dtype(dt)
    eps = np.finfo(dt).eps
    np.testing.assert_allclose(got, want, rtol=8 * eps, atol=8 * eps)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float_dtype_derivatives_are_those_of_the_cast(name):
    # f(x, dtype=float64) of float32 x: the derivative of f(x.astype(float64)), exact in
    # float64; both engines, gradients and Hessians
    f = FUNCS[name]
    x0 = X32.astype(np.float64)

    def g(x):
        return np.sum(np.sin(f(x, dtype=np.float64)) * np.arange(1.0, 1.0 + np.size(f(x0))
                                                                  ).reshape(np.shape(f(x0))))

    def ref(x):
        return np.sum(np.sin(f(x)) * np.arange(1.0, 1.0 + np.size(f(x0))
                                               ).reshape(np.shape(f(x0))))

    eps = np.finfo(float).eps
    for G in (hd.gradient, rv.gradient):
        np.testing.assert_allclose(G(g, x0), hd.gradient(ref, x0), rtol=16 * eps,
                                   atol=16 * eps)
    flat = lambda v: g(v.reshape(x0.shape))  # noqa: E731
    flat_ref = lambda v: ref(v.reshape(x0.shape))  # noqa: E731
    H = hd.hessian(flat_ref, x0.ravel())
    scale = max(1.0, float(np.max(np.abs(H))))
    for Hf in (hd.hessian, rv.hessian):
        np.testing.assert_allclose(Hf(flat, x0.ravel()), H, rtol=64 * eps,
                                   atol=64 * eps * scale)


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", sorted(FUNCS))
@pytest.mark.parametrize("dt", [np.int64, bool, np.complex128])
def test_non_float_dtype_is_refused_by_name(engine, name, dt):
    with pytest.raises(TypeError, match="dtype="):
        FUNCS[name](ENGINES[engine](X64), dtype=dt)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_dtype_positional_and_with_where(engine):
    x = ENGINES[engine](X32)
    got = _value(np.sum(x, 1, np.float64))
    # (the summation order may differ: ulps times the condition of the sum)
    assert_close_ulps(got, np.sum(X32, 1, np.float64), ulps=2,
                      cond=np.sum(np.abs(X32), 1) / np.abs(np.sum(X32, 1, np.float64)))
    mask = np.array([[True, False, True], [False, True, True]])
    got = _value(np.sum(x, axis=0, dtype=np.float64, where=mask))
    assert got.dtype == np.float64
    want = np.sum(X32, axis=0, dtype=np.float64, where=mask)
    assert_close_ulps(got, want, ulps=2,
                      cond=np.sum(np.abs(X32), axis=0, where=mask) / np.abs(want))


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("call", [
    lambda x: np.exp(x, where=x.real > 0 if not isinstance(x, Variable) else x.data > 0),
    lambda x: np.exp(x, where=np.ones((2, 3), bool), out=np.zeros((2, 3))),
    lambda x: np.add(x, 1.0, where=np.ones((2, 3), bool)),
], ids=["exp-where", "exp-where-out", "add-where"])
def test_ufunc_where_is_refused_by_name(engine, call):
    with pytest.raises(TypeError, match="where|out="):
        call(ENGINES[engine](X64))


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_ufunc_where_messages_and_the_default_mask(engine):
    x = ENGINES[engine](X64)
    with pytest.raises(TypeError, match=r"where=.*np\.where\(mask"):
        np.exp(x, where=np.ones((2, 3), bool))
    with pytest.raises(TypeError, match=r"dtype=.*astype"):
        np.exp(x, dtype=np.int64)
    # where=True is numpy's default (every entry): the plain call
    np.testing.assert_array_equal(_value(np.exp(x, where=True)), np.exp(X64))
    np.testing.assert_array_equal(_value(np.add(x, 2.0, where=True)), X64 + 2.0)


@pytest.mark.parametrize("engine", sorted(ENGINES) + ["Taylor"])
@pytest.mark.parametrize("x0, dt", [(X32, np.float64), (X64, np.float32), (X64, np.float64)],
                         ids=["f32-in-f64", "f64-in-f32", "f64-in-f64"])
def test_float_dtype_of_an_elementwise_ufunc_casts_the_operands(engine, x0, dt):
    """np.exp(x, dtype=dt) and np.subtract(x, c, dtype=dt): numpy's values in dt (its
    loop for dt on the cast operands) and the derivative of exp(x.astype(dt))."""
    if engine == "Taylor" and dt != np.float64:
        pytest.skip("Taylor numbers are float64")
    make = ENGINES.get(engine) or (lambda x: hd.Taylor(np.stack([x, np.ones_like(x)])))
    x = make(x0)
    y = np.exp(x, dtype=dt)
    got = _value(y) if engine != "Taylor" else np.asarray(y.coef[0])
    assert got.dtype == np.dtype(dt)
    want = np.exp(x0, dtype=dt)
    # (numpy's SIMD exp and the engine's: a few ulps in dt)
    assert_close_ulps(got, want, ulps=4)
    if engine in ("Dual", "HyperDual"):
        assert_close_ulps(np.asarray(y.dual if engine == "Dual" else y.eps1), want, ulps=4)
    elif engine == "reverse":
        gx = rv.gradient(lambda v: np.sum(np.exp(v, dtype=dt)), x0.astype(np.float64))
        assert_close_ulps(gx, np.exp(x0.astype(dt)), ulps=4)
    else:
        assert_close_ulps(np.asarray(y.coef[1]), want, ulps=4)
    z = np.subtract(x, 0.25, dtype=dt)
    zv = _value(z) if engine != "Taylor" else np.asarray(z.coef[0])
    assert zv.dtype == np.dtype(dt)
    np.testing.assert_array_equal(zv, np.subtract(x0, 0.25, dtype=dt))
    # the DType class, as numpy 2.5's np.histogram passes it (dtype=type(result_type(..)));
    # np.dtype() of the class is object, so it was refused as a non-float dtype
    w = np.subtract(x, 0.25, dtype=type(np.dtype(dt)))
    wv = _value(w) if engine != "Taylor" else np.asarray(w.coef[0])
    assert wv.dtype == np.dtype(dt)
    np.testing.assert_array_equal(wv, zv)
    if engine != "Taylor":  # (.astype of a DType class, as numpy's own astype reads it)
        c = x.astype(type(np.dtype(dt)))
        assert _value(c).dtype == np.dtype(dt)
        np.testing.assert_array_equal(_value(c), x0.astype(dt))


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("dt", [np.int64, bool, np.complex128])
def test_non_float_dtype_of_an_elementwise_ufunc_is_refused(engine, dt):
    with pytest.raises(TypeError, match="dtype="):
        np.add(ENGINES[engine](X64), 1.0, dtype=dt)


def test_histogram_bin_edges_of_a_differentiated_range():
    """np.histogram_bin_edges(points, n, range=(lo, hi)) with plain points: numpy's own
    code runs (it does not hand range to the engines): the edges are lo + k (hi - lo)/n.
    np.histogram gets past its np.subtract(..., dtype=) now but turns the traced range
    into bin indices (astype(intp)): a TypeError naming astype and the way out (the edges
    as bins=, which numpy does hand to the engines), not a wrong count."""
    pts = np.array([0.1, 0.5, 0.9, 0.95])
    k = np.arange(4) / 3
    for m in (hd, rv):
        J = m.jacobian(lambda z: np.histogram_bin_edges(pts, 3, range=(z[0], z[1])),
                       np.array([0.0, 1.0]))
        np.testing.assert_allclose(J, np.stack([1 - k, k], axis=1), rtol=0, atol=1e-15)
        with pytest.raises(TypeError, match=r"astype(.|\n)*np.histogram(.|\n)*bins=np.linspace"):
            m.jacobian(lambda z: np.histogram(pts, 3, range=(z, 1.0))[0], 0.0)
        # the way out the message gives: the edges as bins=, differentiated; the density
        # n / (N w) with w = (1 - z) / 3 has d/dz = n / N / (3 w²), at z = 0: 3 n / N
        dens = m.derivative(lambda z: np.histogram(pts, np.linspace(z, 1.0, 4),
                                                   density=True)[0], 0.0)
        np.testing.assert_allclose(dens, 3 * np.array([1, 1, 2]) / 4,
                                   rtol=4 * np.finfo(float).eps)
