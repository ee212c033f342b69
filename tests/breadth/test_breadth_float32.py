"""float32 in, numpy's dtype out, in every engine.

For plain float32 data numpy keeps float32 through most functions (``np.mean``,
``np.median``, ``np.linalg.det``, ``np.where(c, x, 0.0)``, ``x + 1.5``) and goes to
float64 in a few (``np.cov``, ``np.corrcoef``, ``np.interp``).  Each engine's value and
every derivative part have the dtype numpy gives the plain values: Dual, HyperDual,
Taylor (whose constants from Python numbers used to be float64 arrays, promoting the
series) and reverse Variables.  The derivative helpers give the same dtype in both
engines.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

X = np.array([[0.3, -1.2, 2.5], [1.7, 0.9, -0.4]], dtype=np.float32)
_W3 = np.array([1, 2, 3], np.float32)
_EYE = np.eye(2, dtype=np.float32)
_MASK = np.array([True, False, True])

FUNCS = {
    "mean": np.mean, "mean_axis": lambda a: np.mean(a, axis=0), "var": np.var,
    "std": np.std, "average": np.average,
    "average_weights": lambda a: np.average(a, axis=1, weights=_W3),
    "average_returned": lambda a: np.average(a, axis=1, returned=True)[1],
    "median": np.median, "percentile": lambda a: np.percentile(a, 30),
    "nanmean": np.nanmean, "nanvar": np.nanvar, "nanstd": np.nanstd,
    "nanmedian": np.nanmedian, "nanquantile": lambda a: np.nanquantile(a, 0.3),
    "cov": np.cov, "corrcoef": np.corrcoef, "ptp": np.ptp,
    "norm": np.linalg.norm, "norm_axis": lambda a: np.linalg.norm(a, axis=1),
    "mean_where": lambda a: np.mean(a, where=_MASK),
    "sum_where": lambda a: np.sum(a, where=_MASK),
    "max_where": lambda a: np.max(a, where=_MASK, initial=-5),
    "logaddexp.reduce": lambda a: np.logaddexp.reduce(a, axis=0),
    "logaddexp.reduce_initial": lambda a: np.logaddexp.reduce(a, axis=0, initial=0.0),
    "hypot.accumulate": lambda a: np.hypot.accumulate(a, axis=1),
    "interp": lambda a: np.interp(a, np.array([0, 1, 2], np.float32),
                                  np.array([0, 1, 4], np.float32)),
    "sinc": np.sinc, "i0": np.i0, "clip": lambda a: np.clip(a, -1, 1),
    "heaviside": lambda a: np.heaviside(a, 0.5),
    "arctan2": lambda a: np.arctan2(a, np.float32(2)),
    "where": lambda a: np.where(a > 0, a, 0.0), "maximum": lambda a: np.maximum(a, 0.0),
    "add_float": lambda a: a + 1.5, "rtruediv": lambda a: 1 / (a + 3),
    "det": lambda a: np.linalg.det(a @ a.T),
    "inv": lambda a: np.linalg.inv(a @ a.T + _EYE),
    "slogdet": lambda a: np.linalg.slogdet(a @ a.T)[1],
    "eigh": lambda a: np.linalg.eigh(a @ a.T)[0],
    "eigh_vectors": lambda a: np.linalg.eigh(a @ a.T)[1],
    "einsum": lambda a: np.einsum("ij,ij->i", a, a),
    "float_power": lambda a: np.float_power(a * a + 1, 1.5),  # float64 in numpy
    "copysign": lambda a: np.copysign(a, -1.0), "unwrap": lambda a: np.unwrap(4 * a),
    "std_where": lambda a: np.std(a, axis=1, where=_MASK),
    "nanvar_where": lambda a: np.nanvar(a, axis=1, where=_MASK),
    "pad_constant": lambda a: np.pad(a, 1, constant_values=1.5),
    "gradient_x": lambda a: np.gradient(a, np.array([0, 1, 3], np.float32), axis=1),
}


def _taylor(x):
    return hd.Taylor(np.stack([x, np.ones_like(x), np.full_like(x, 0.5)]))


ENGINES = {"Dual": lambda x: hd.Dual(x, np.ones_like(x)),
           "HyperDual": lambda x: hd.HyperDual(x, np.ones_like(x), np.ones_like(x),
                                                np.zeros_like(x)),
           "Taylor": _taylor, "reverse": rv.Variable}


def _part_dtypes(y):
    if isinstance(y, (np.ndarray, np.generic)):  # a constant (average's weight sum)
        return [y.dtype]
    if isinstance(y, rv.Variable):
        return [np.asarray(y.data).dtype]
    if isinstance(y, hd.Taylor):
        return [np.asarray(y.coef).dtype]
    if isinstance(y, hd.HyperDual):
        return [np.asarray(p).dtype for p in (y.real, y.eps1, y.eps2, y.eps12)]
    return [np.asarray(p).dtype for p in (y.real, y.dual)]


# numpy 1.x gives float64 for these of float32 data (its value-based casting of the
# float q); the engines keep float32 there, numpy 2's dtype
_NUMPY2_DTYPE = {"percentile", "nanquantile"}


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_value_and_parts_have_numpys_dtype(engine, name):
    if name in _NUMPY2_DTYPE and np.lib.NumpyVersion(np.__version__) < "2.0.0":
        pytest.skip("numpy 1.x promotes float32 with a float q to float64")
    f = FUNCS[name]
    want = np.asarray(f(X)).dtype
    got = _part_dtypes(f(ENGINES[engine](X)))
    assert all(d == want for d in got), (got, want)


def test_reverse_gradient_of_float32_mean_where():
    # the mean's count in float32: the gradient 1/count on the kept entries, float32
    g = rv.gradient(lambda a: np.mean(a, where=_MASK), X)
    assert g.dtype == np.float32
    want = np.where(_MASK, np.float32(0.25), np.float32(0)) * np.ones_like(X)
    np.testing.assert_array_equal(g, want)


def test_taylor_python_constant_takes_the_series_dtype():
    # np.where(c, t, 0.0) and maximum(t, 0.0) of a float32 series stay float32, with the
    # coefficients those of the float64 computation rounded (exact here: 0, 1 and 0.5)
    t = _taylor(X)
    for y in (np.where(X > 0, t, 0.0), np.maximum(t, 0.0)):
        assert y.coef.dtype == np.float32
        pos = X > 0
        np.testing.assert_array_equal(y.coef[1], pos.astype(np.float32))
        np.testing.assert_array_equal(y.coef[2], np.where(pos, 0.5, 0).astype(np.float32))
