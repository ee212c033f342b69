"""The statistics family (var, std, average, cov, corrcoef, ptp, nansum, nanmean,
cumprod, median, percentile, quantile) on Taylor numbers.

They are the compositions of :mod:`_exactdiff.statistics` that Dual, HyperDual and
reverse already use; Taylor numbers used to refuse them ("no Taylor rule"), so
``directional_derivatives``, ``derivative_tensor``, ``taylor`` and reverse's
Taylor-method helpers stopped at ``np.var``.  Checked against a closed form
(the variance along a line is a quadratic polynomial in t) and against reverse
mode's repeated backward passes (``method="backprop"``), entry by entry within
64 ulps of the largest coefficient of the same order.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

EPS = np.finfo(float).eps
RNG = np.random.default_rng(3)
X = RNG.normal(size=6)
V = RNG.normal(size=6)

STATS = {
    "var": lambda x: np.var(x),
    "var_axis_ddof": lambda x: np.var(x.reshape(2, 3), axis=1, ddof=1) @ np.array([1.0, 2.0]),
    "std": lambda x: np.std(x) * np.sum(x),
    "std_axis": lambda x: np.sum(np.std(x.reshape(2, 3), axis=0, keepdims=True) ** 3),
    "average": lambda x: np.average(x, weights=np.arange(1.0, 7.0)),
    "average_weights": lambda x: np.average(x[:3], weights=x[3:] ** 2),
    "cov": lambda x: np.sum(np.cov(x.reshape(2, 3)) ** 2),
    "corrcoef": lambda x: np.corrcoef(x.reshape(2, 3))[0, 1],
    "ptp": lambda x: np.ptp(x) ** 2,
    "nansum": lambda x: np.nansum(x * x),
    "nanmean": lambda x: np.nanmean(np.sin(x)),
    "cumprod": lambda x: np.sum(np.cumprod(x)),
    "median": lambda x: np.median(np.exp(x)),
    "percentile": lambda x: np.percentile(x ** 3, 30),
    "quantile": lambda x: np.quantile(np.sin(x), 0.7),
}


@pytest.mark.parametrize("name", sorted(STATS))
def test_statistics_of_taylor_numbers_against_backprop(name):
    f = STATS[name]
    ours = hd.directional_derivatives(f, X, V, 4)
    ref = rv.directional_derivatives(f, X, V, 4, method="backprop")
    np.testing.assert_array_equal(rv.directional_derivatives(f, X, V, 4), ours)
    scale = np.max(np.abs(ref))
    np.testing.assert_allclose(ours, ref, rtol=0, atol=64 * EPS * scale)
    assert f"numpy.{name.split('_')[0]}" in hd.taylor_supported()


def test_variance_along_a_line_is_a_quadratic():
    """var(x + t v) = var(x) + 2 t cov(x, v) + t**2 var(v): derivatives
    [var(x), 2 cov(x, v), 2 var(v), 0, 0]."""
    got = hd.directional_derivatives(np.var, X, V, 4)
    c = np.mean((X - X.mean()) * (V - V.mean()))
    want = np.array([np.var(X), 2 * c, 2 * np.var(V), 0.0, 0.0])
    np.testing.assert_allclose(got, want, rtol=0, atol=16 * EPS * np.max(np.abs(want)))
    t = hd.derivative_tensor(lambda x: np.std(x), X, 3)
    assert t.shape == (6, 6, 6)
    np.testing.assert_allclose(np.einsum("ijk,i,j,k->", t, V, V, V),
                               hd.directional_derivatives(np.std, X, V, 3)[3],
                               rtol=64 * EPS * 10)
