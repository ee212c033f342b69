"""numpy's NaN-ignoring functions (nanvar, nanstd, nanmax, nanmin, nanprod, nancumsum,
nancumprod, nanmedian, nanpercentile, nanquantile) in both engines and Taylor mode.

Truths: numpy's own values; central differences over the entries that are not NaN
(a NaN entry stays NaN in every evaluation, so numpy's function ignores it and its
derivative is 0); the plain function of the compressed array (the NaN entries left out)
differentiated by the other engine; all-NaN slices as numpy (NaN and its warning)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from breadth_checks import H, central_jacobian

import hyperdual as hd
import reverse as rv
from hyperdual import Dual
from reverse import Variable
from tests._tolerance import assert_close_ulps, noisy_condition, relative_to_largest

X = np.array([[0.3, np.nan, 2.0, 1.7], [0.7, 1.1, 0.4, np.nan], [1.3, -0.6, 0.9, 2.4]])
VALID = ~np.isnan(X)

CASES = [
    (np.nanvar, {}), (np.nanvar, {"axis": 1, "ddof": 1}), (np.nanvar, {"axis": 0,
                                                                      "keepdims": True}),
    (np.nanstd, {}), (np.nanstd, {"axis": 1}), (np.nanstd, {"axis": (0, 1), "ddof": 1}),
    (np.nanmax, {}), (np.nanmax, {"axis": 0}), (np.nanmin, {"axis": 1, "keepdims": True}),
    (np.nanmin, {"axis": 0, "initial": 0.5}),
    (np.nanprod, {}), (np.nanprod, {"axis": 1}),
    (np.nancumsum, {}), (np.nancumsum, {"axis": 1}), (np.nancumprod, {"axis": 0}),
    (np.nanmedian, {}), (np.nanmedian, {"axis": 1}), (np.nanmedian, {"axis": 0,
                                                                     "keepdims": True}),
    (np.nanpercentile, {"q": [10, 50, 95], "axis": 1}),
    (np.nanquantile, {"q": 0.3}), (np.nanquantile, {"q": 0.25, "axis": 0,
                                                    "method": "midpoint"}),
]
IDS = [f"{f.__name__}-{kw}" for f, kw in CASES]


def _scalar(f, kw):
    w = np.random.default_rng(3).uniform(0.5, 1.5, np.shape(f(X, **kw)))
    return lambda v: np.sum(np.sin(f(v, **kw)) * w)


def _fd_gradient(s, x, h=H):
    g = np.zeros(x.shape)
    for i in zip(*np.nonzero(~np.isnan(x))):
        e = np.zeros(x.shape)
        e[i] = h
        g[i] = (s(x + e) - s(x - e)) / (2 * h)
    return g


@pytest.mark.parametrize("f,kw", CASES, ids=IDS)
def test_values_match_numpy(f, kw):
    want = f(X, **kw)
    # two implementations of one function: ulps x its condition (Monte Carlo arithmetic;
    # sums are not perturbed by it, hence 32 ulps), not a flat 1e-14
    cond = noisy_condition(lambda v: f(v, **kw), X)
    assert_close_ulps(f(Dual(X, np.ones_like(X)), **kw).real, want, ulps=32, cond=cond)
    assert_close_ulps(f(Variable(X), **kw).data, want, ulps=32, cond=cond)
    t = f(hd.Taylor(np.stack([X, np.ones_like(X), np.zeros_like(X)])), **kw)
    assert_close_ulps(t.coef[0], want, ulps=32, cond=cond)


@pytest.mark.parametrize("f,kw", CASES, ids=IDS)
def test_gradient_and_hessian(f, kw):
    s = _scalar(f, kw)
    gh, gr = hd.gradient(s, X), rv.gradient(s, X)
    scale = max(1.0, float(np.max(np.abs(gh))))
    np.testing.assert_allclose(gh, gr, rtol=1e-12, atol=1e-13 * scale)
    np.testing.assert_array_equal(gh[~VALID], 0.0)
    np.testing.assert_allclose(gh, _fd_gradient(s, X), rtol=2e-6, atol=2e-6 * scale)
    # Hessian over the valid entries: both engines, and central differences of the
    # exact gradient
    idx = np.nonzero(VALID.ravel())[0]

    def on_valid(v):
        parts = []
        k = 0
        for j in range(X.size):
            if VALID.ravel()[j]:
                parts.append(v[k])
                k += 1
            else:
                parts.append(np.nan)
        return s(np.reshape(np.stack(parts), X.shape))

    xv = X.ravel()[idx]
    Hh, Hr = hd.hessian(on_valid, xv), rv.hessian(on_valid, xv)
    hs = max(1.0, float(np.max(np.abs(Hh))))
    np.testing.assert_allclose(Hh, Hr, rtol=1e-11, atol=1e-12 * hs)
    np.testing.assert_allclose(Hh, central_jacobian(lambda v: hd.gradient(on_valid, v), xv),
                               rtol=2e-6, atol=2e-6 * hs)


@pytest.mark.parametrize("f,plain", [(np.nanvar, np.var), (np.nanstd, np.std),
                                     (np.nanmax, np.max), (np.nanprod, np.prod),
                                     (np.nanmedian, np.median)])
def test_equals_plain_function_of_the_rest(f, plain):
    """d nanf(x) at the valid entries = d f(x[valid]) by the other engine."""
    x = np.array([0.4, np.nan, 1.9, -0.3, np.nan, 0.8])
    keep = ~np.isnan(x)
    g = hd.gradient(f, x)
    want = np.zeros(x.size)
    want[keep] = rv.gradient(plain, x[keep])
    # two engines, two functions: errors of the size of the largest entry's ulps
    cond = relative_to_largest(want)
    assert_close_ulps(g, want, ulps=32, cond=cond)
    assert_close_ulps(rv.gradient(f, x), want, ulps=32, cond=cond)


def test_taylor_and_third_order():
    """d^k/dt^k nanvar(x + t v) by Taylor mode and reverse's nested derivatives."""
    v = np.array([[0.5, 0.0, -1.0, 2.0], [1.0, 0.3, 0.2, 0.0], [-0.4, 0.9, 0.1, 0.6]])

    def g(t):
        return np.nanstd(X + t * v, axis=1)[2] + np.nanmedian(X * (1 + t * v))

    d = hd.derivatives(g, 0.1, 3)
    d1 = rv.derivative(g, 0.1)
    d2 = rv.derivative(lambda t: rv.derivative(g, t), 0.1)
    d3 = rv.derivative(lambda t: rv.derivative(lambda u: rv.derivative(g, u), t), 0.1)
    np.testing.assert_allclose(d[1:], [d1, d2, d3], rtol=1e-12)


def test_all_nan_slices_are_nan_with_numpy_warning():
    x = np.array([[np.nan, np.nan], [1.0, 3.0]])
    for f in (np.nanvar, np.nanmax, np.nanmedian):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            want = f(x, axis=1)
        assert rec and issubclass(rec[0].category, RuntimeWarning)
        for make in (lambda a: Dual(a, np.ones_like(a)), Variable):
            with pytest.warns(RuntimeWarning):
                got = f(make(x), axis=1)
            got = got.real if isinstance(got, Dual) else got.data
            assert_close_ulps(got, want, ulps=32, cond=noisy_condition(
                lambda v, f=f: f(v, axis=1), x))
        with pytest.warns(RuntimeWarning):
            g = rv.gradient(lambda v, f=f: f(v, axis=1)[1], x)
        with pytest.warns(RuntimeWarning):
            np.testing.assert_allclose(g, hd.gradient(lambda v, f=f: f(v, axis=1)[1], x))
        assert np.all(g[0] == 0)


def test_refused_arguments():
    x = Variable(np.array([1.0, np.nan]))
    with pytest.raises(TypeError, match="out="):
        np.nanvar(x, out=np.zeros(()))
    with pytest.raises(TypeError, match="q must be a constant"):
        np.nanquantile(x, Variable(0.5))
    with pytest.raises(ValueError, match="not a valid method"):  # as numpy
        np.nanquantile(Dual(np.ones(2), np.ones(2)), 0.5, method="weibul")
