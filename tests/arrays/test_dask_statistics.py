"""Statistics and NaN functions on dask data: lazy, and the numpy path's derivatives.

The rules asked the data which branch they needed: ``np.asarray`` of the plain value
for the NaN mask of every nan-function (nanvar, nanstd, nanmax, nanmin, nanprod,
nancumsum, nancumprod, nansum, nanmean), ``mask.any()`` before applying it, std's
finiteness and zero-variance tests and its rescaling's range test, the sort of the
order statistics (median, percentile, quantile, their nan-versions), ``np.asarray`` of a
dask ``where=`` mask (``np.sum(x, where=x > 0)``, var, std, the nan-functions) and of
a dask constant (``np.average``'s weights, var's ``mean=``, trapezoid's ``x``): 1-4
dask computes per call.  On lazy data the masks are applied by ``np.where`` without
asking, the slices with ``n - ddof <= 0`` are marked by lazy masks, and the order
statistics' weights are computed block by block (each slice whole in one block).

Truth: the same helper on the numpy arrays (to 1e-12); the two documented differences
(std's rescaling, a zero-variance slice next to a non-finite one) have their own tests.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

# a sweep of structure that no SIMD path changes: py312 only (tox.ini's tiers)
pytestmark = [pytest.mark.slow, pytest.mark.structure]

da = pytest.importorskip("dask.array")

# NaNs, an all-NaN row, and a row of one non-NaN entry (ddof=1: n - ddof = 0)
XN = np.array([[0.3, np.nan, 2.0, 1.7, 0.2],
               [np.nan, np.nan, np.nan, np.nan, np.nan],
               [1.3, -0.6, 0.9, 2.4, 0.9],
               [0.5, np.nan, np.nan, np.nan, np.nan]])
# column 1 constant: a slice of variance 0
XC = np.array([[0.3, 1.0, 2.0, 1.7], [0.7, 1.0, 0.4, 0.2], [1.3, 1.0, 0.9, 2.4]])
# NaNs and a constant column among the non-NaN entries
XNC = np.array([[0.3, 1.0, np.nan, 1.7], [np.nan, 1.0, 0.4, 0.2], [1.3, 1.0, 0.9, np.nan]])
# ties (the derivative shared among tied order statistics)
XT = np.array([[3.0, 1.0, 3.0, 0.0, 3.0], [1.0, 2.0, 2.0, 5.0, -1.0],
               [0.5, 0.5, 0.5, 0.5, 0.5]])
MASK = np.array([[1, 0, 1, 1], [1, 0, 0, 0], [0, 0, 1, 1]], dtype=bool)  # column 1 empty
MASKN = np.arange(20).reshape(4, 5) % 3 != 0
_TRAPZ = getattr(np, "trapezoid", None) or np.trapz  # (numpy 1.x: trapz only)

CASES = {
    # std / var
    "std": (lambda z: np.std(z), XC),
    "std axis=0 (a zero-variance slice)": (lambda z: np.std(z, axis=0), XC),
    "std axis=1 ddof=1": (lambda z: np.std(z, axis=1, ddof=1), XC),
    "std axis=0 ddof=3 (n - ddof = 0)": (lambda z: np.std(z, axis=0, ddof=3), XC),
    "std keepdims correction": (lambda z: np.std(z, axis=0, keepdims=True, correction=1), XC),
    "std where (an empty slice)": (lambda z: np.std(z, axis=0, where=MASK), XC),
    "std where ddof=1": (lambda z: np.std(z, axis=0, ddof=1, where=MASK), XC),
    # nan-functions
    "nanvar": (lambda z: np.nanvar(z), XN),
    "nanvar axis=1": (lambda z: np.nanvar(z, axis=1), XN),
    "nanvar axis=1 ddof=1": (lambda z: np.nanvar(z, axis=1, ddof=1), XN),
    "nanvar axis=0 keepdims where": (
        lambda z: np.nanvar(z, axis=0, keepdims=True, where=MASKN), XN),
    "nanstd": (lambda z: np.nanstd(z), XN),
    "nanstd axis=1 ddof=1": (lambda z: np.nanstd(z, axis=1, ddof=1), XN),
    "nanstd axis=0 (a zero-variance slice)": (lambda z: np.nanstd(z, axis=0), XNC),
    "nanstd axis=(0, 1) ddof=1": (lambda z: np.nanstd(z, axis=(0, 1), ddof=1), XN),
    "nanmax": (lambda z: np.nanmax(z), XN),
    "nanmax axis=1": (lambda z: np.nanmax(z, axis=1), XN),
    "nanmin axis=0 keepdims": (lambda z: np.nanmin(z, axis=0, keepdims=True), XN),
    "nanmin axis=0 initial": (lambda z: np.nanmin(z, axis=0, initial=0.5), XN),
    "nanmax where initial": (
        lambda z: np.nanmax(z, axis=1, where=MASKN, initial=-5.0), XN),
    "nanprod": (lambda z: np.nanprod(z), XN),
    "nanprod axis=1": (lambda z: np.nanprod(z, axis=1), XN),
    "nancumsum": (lambda z: np.nancumsum(z), XN),
    "nancumsum axis=1": (lambda z: np.nancumsum(z, axis=1), XN),
    "nancumprod axis=0": (lambda z: np.nancumprod(z, axis=0), XN),
    "nansum": (lambda z: np.nansum(z), XN),
    "nansum axis=1 where": (lambda z: np.nansum(z, axis=1, where=MASKN), XN),
    "nanmean axis=0": (lambda z: np.nanmean(z, axis=0), XNC),
    "nanmean where": (lambda z: np.nanmean(z, where=MASKN), XN),
    # order statistics (the reduced axes span several chunks)
    "nanmedian": (lambda z: np.nanmedian(z), XN),
    "nanmedian axis=1": (lambda z: np.nanmedian(z, axis=1), XN),
    "nanmedian axis=0 keepdims": (lambda z: np.nanmedian(z, axis=0, keepdims=True), XN),
    "nanpercentile hazen": (
        lambda z: np.nanpercentile(z, [5, 50, 90], axis=0, method="hazen"), XN),
    "nanquantile": (lambda z: np.nanquantile(z, 0.3), XN),
    "nanquantile inverted_cdf keepdims": (
        lambda z: np.nanquantile(z, 0.7, axis=1, keepdims=True, method="inverted_cdf"), XN),
    "median": (lambda z: np.median(z), XT),
    "median axis=1 (ties)": (lambda z: np.median(z, axis=1), XT),
    "percentile axis=0 keepdims": (lambda z: np.percentile(z, 30, axis=0, keepdims=True), XT),
    "quantile axis=(0, 1) weibull": (
        lambda z: np.quantile(z, [0.2, 0.9], axis=(0, 1), method="weibull"), XT),
}
for _m in ("linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf",
           "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
           "hazen", "weibull", "median_unbiased", "normal_unbiased"):
    CASES[f"quantile axis=1 {_m}"] = (
        lambda z, m=_m: np.quantile(z, 0.35, axis=1, method=m), XT)

# where= masks and constants that are themselves dask arrays (d: the dask version)
WCASES = {
    "sum where=x>0.8": lambda z, d: np.sum(z, axis=0, where=d(XC) > 0.8),
    "mean where=x>0.8": lambda z, d: np.mean(z, axis=1, where=d(XC) > 0.8),
    "prod where=x>0.8": lambda z, d: np.prod(z, where=d(XC) > 0.8),
    "max where= initial": lambda z, d: np.max(z, axis=0, where=d(XC) > 0.8, initial=0.0),
    "var where=mask": lambda z, d: np.var(z, axis=0, where=d(MASK)),
    "var where=mask ddof=1": lambda z, d: np.var(z, axis=0, ddof=1, where=d(MASK)),
    "std where=mask": lambda z, d: np.std(z, axis=1, where=d(MASK)),
    "std where=mask ddof=1": lambda z, d: np.std(z, axis=0, ddof=1, where=d(MASK)),
    "nanvar where=mask": lambda z, d: np.nanvar(z, axis=0, where=d(MASK)),
    "nanstd where=mask ddof=1": lambda z, d: np.nanstd(z, axis=1, ddof=1, where=d(MASK)),
    "nansum where=mask": lambda z, d: np.nansum(z, axis=0, where=d(MASK)),
    "nanmean where=mask": lambda z, d: np.nanmean(z, axis=1, where=d(MASK)),
    "average weights": lambda z, d: np.average(z, axis=0, weights=d(XC + 1.0)),
    "average 1-d weights": lambda z, d: np.average(z, axis=1, weights=d(XC[0] + 1.0)),
    "var mean=": lambda z, d: np.var(z, axis=0, mean=d(np.mean(XC, axis=0, keepdims=True))),
    "std mean=": lambda z, d: np.std(z, axis=1, mean=d(np.mean(XC, axis=1, keepdims=True))),
    "trapezoid x=": lambda z, d: _TRAPZ(z, x=d(np.array([0.0, 0.5, 1.5, 1.75]))),
}

# the second-order paths cost up to 2 s a case on dask (graph building): every function
# once (these cases) by default, every case with EXACTDIFF_SWEEP set (as the fuzz sweep)
_ALL = os.environ.get("EXACTDIFF_SWEEP") is not None
SECOND = ("reverse.hvp", "hyperdual.hvp")
SECOND_CASES = {
    "std axis=0 (a zero-variance slice)", "std where ddof=1", "nanvar axis=1 ddof=1",
    "nanstd axis=0 (a zero-variance slice)", "nanstd axis=1 ddof=1", "nanmax axis=1",
    "nanmin axis=0 initial", "nanprod axis=1", "nancumsum axis=1", "nancumprod axis=0",
    "nansum axis=1 where", "nanmean axis=0", "nanmedian axis=1", "nanpercentile hazen",
    "nanquantile inverted_cdf keepdims", "median axis=1 (ties)",
    "percentile axis=0 keepdims", "quantile axis=(0, 1) weibull", "quantile axis=1 midpoint",
    "sum where=x>0.8", "mean where=x>0.8", "prod where=x>0.8", "max where= initial",
    "var where=mask ddof=1", "std where=mask ddof=1", "nanvar where=mask",
    "nanstd where=mask ddof=1", "nansum where=mask", "nanmean where=mask",
    "average weights", "var mean=", "std mean=", "trapezoid x=",
}

PATHS = {
    "reverse.gradient": lambda f, x, v: rv.gradient(lambda z: np.sum(np.sin(f(z))), x),
    "reverse.hvp": lambda f, x, v: rv.hvp(lambda z: np.sum(np.sin(f(z))), x, v),
    "hyperdual.jvp": lambda f, x, v: hd.jvp(f, x, v)[1],
    "hyperdual.hvp": lambda f, x, v: hd.hvp(lambda z: np.sum(np.sin(f(z))), x, v),
}


def _direction(x0):
    return np.cos(np.arange(x0.size) * 1.3).reshape(x0.shape)


def _numpy_path(run, f, x0):
    # numpy's own warnings (all-NaN slices, n - ddof <= 0) are expected here
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(run(f, x0, _direction(x0)), dtype=float)


def _lazy_path(lazy, run, f, x0):
    x, v = da.from_array(x0, chunks=2), da.from_array(_direction(x0), chunks=2)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        # (a slice with n - ddof <= 0 that the shape or a numpy where= mask shows warns
        # at call time on dask data too)
        warnings.simplefilter("ignore", RuntimeWarning)
        out = lazy(lambda: run(f, x, v))
        return np.asarray(out.compute() if hasattr(out, "compute") else out, dtype=float)


assert SECOND_CASES <= set(CASES) | set(WCASES)  # (no name mistyped)
if np.lib.NumpyVersion(np.__version__) < "2.0.0":  # correction= and mean= are numpy 2's
    for _name in ("std keepdims correction", "var mean=", "std mean="):
        CASES.pop(_name, None)
        WCASES.pop(_name, None)


def _runs(cases):
    return [(name, path) for name in cases for path in sorted(PATHS)
            if _ALL or path not in SECOND or name in SECOND_CASES]


@pytest.mark.parametrize("name,path", _runs(CASES))
def test_statistic_stays_lazy_on_dask(name, path, lazy):
    f, x0 = CASES[name]
    want = _numpy_path(PATHS[path], f, x0)
    got = _lazy_path(lazy, PATHS[path], f, x0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name,path", _runs(WCASES))
def test_dask_mask_or_constant_stays_lazy(name, path, lazy):
    g = WCASES[name]
    x0 = XN[:3, :4] if name.startswith("nan") else XC
    want = _numpy_path(PATHS[path], lambda z: g(z, lambda c: c), x0)
    got = _lazy_path(lazy, PATHS[path], lambda z: g(z, lambda c: da.from_array(c, chunks=2)),
                     x0)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)


def test_std_of_out_of_range_data_is_numpys_formula_on_dask(lazy):
    # documented (docs/howto/dask.md): squared deviations of 1e-300 underflow to a
    # variance of 0; numpy data are rescaled by a power of two (std 4e-301, derivative
    # O(1)), lazy data are not asked for their range: numpy's own np.std value, 0, with
    # derivative 0 (the zero-variance convention), never a compute
    x0 = XC * 1e-300
    x = da.from_array(x0, chunks=2)
    g = lazy(lambda: rv.gradient(lambda z: np.sum(np.std(z, axis=0)), x))
    assert np.all(np.asarray(np.std(x, axis=0).compute()) == 0.0)
    np.testing.assert_array_equal(g.compute(), 0.0)
    y, t = lazy(lambda: hd.jvp(lambda z: np.std(z, axis=0), x, da.ones_like(x)))
    np.testing.assert_array_equal(y.compute(), 0.0)
    np.testing.assert_array_equal(t.compute(), 0.0)


def test_zero_variance_next_to_a_non_finite_slice_on_dask(lazy):
    # documented: numpy data give the constant column sqrt'(0)'s nan there (the
    # non-finite branch); lazy data the zero-variance convention, 0; the other columns
    # are the numpy path's
    x0 = XC.copy()
    x0[0, 0] = np.inf
    f = lambda z: np.sum(np.std(z, axis=0) * np.array([1.0, 2.0, 3.0, 4.0]))  # noqa: E731
    with np.errstate(all="ignore"):
        want = rv.gradient(f, x0)
        got = lazy(lambda: rv.gradient(f, da.from_array(x0, chunks=2))).compute()
    np.testing.assert_array_equal(got[:, 1], 0.0)
    np.testing.assert_allclose(got[:, [0, 2, 3]], want[:, [0, 2, 3]], rtol=1e-12)
