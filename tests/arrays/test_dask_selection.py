"""Selections, piecewise definitions and float-part functions on dask data: lazy, and
the numpy path's derivatives.

Found by sweeping the breadth catalogs through both engines on chunked dask arrays:
``np.triu``/``tril``/``diag``/``convolve``/``correlate`` raised inside dask (a gather
by a two-dimensional integer index, which dask's indexing refuses), ``np.piecewise``
with conditions computed from the data raised (the conditions were converted with
``np.asarray``), and ``np.select``, ``np.nan_to_num``, ``np.frexp``, ``np.ldexp``,
``np.modf``, ``scipy.special.huber``/``pseudo_huber``, hyperdual's max/min ties
(``np.linalg.norm(x, inf)``) and ``np.copy``, and reverse's ``np.clip`` with
differentiated bounds computed the dask array inside the helper.  Truth: the
same helper on the numpy array (checked elsewhere against closed forms and central
differences); the lazy paths are the same formulas, so to 1e-12.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import hyperdual as hd
import reverse as rv

da = pytest.importorskip("dask.array")

X = np.array([0.3, 1.2, 2.0, 0.7, 1.1, 0.4, -0.5, 0.9])
V = np.cos(np.arange(8.0) * 1.3)
W = np.cos(np.arange(16.0)) + 0.5


def _weighted(f):
    """A scalar of f's result (any shape up to 16 entries): sum(f(v) * weights)."""
    def g(v):
        y = f(v)
        n = int(np.prod(np.shape(y)))
        return np.sum(y * np.reshape(W[:n], np.shape(y)))
    return g


CASES = {
    "triu": lambda v: np.triu(np.reshape(v, (2, 4))),
    "tril": lambda v: np.tril(np.reshape(v, (2, 4)), -1),
    "diag": lambda v: np.diag(v[:4]),
    "convolve": lambda v: np.convolve(v, [1.0, 2.0, 3.0]),
    "correlate": lambda v: np.correlate(v, v[:3]),
    "piecewise": lambda v: np.piecewise(v, [v < 0.5, v > 1.5], [lambda t: t ** 2, np.sin,
                                                                 lambda t: 3 * t]),
    "piecewise_constant": lambda v: np.piecewise(v, [v < 0.5], [1.0, lambda t: t ** 3]),
    "piecewise_later_wins": lambda v: np.piecewise(v, [v > 0.5, v > 1.0],
                                                   [np.cos, lambda t: t * t]),
    "piecewise_outside_domain": lambda v: np.piecewise(v, [v > 0], [np.log, 0.0]),
    "select": lambda v: np.select([v > 1, v < 0.5], [v, v ** 3], v * 2),
    "select_default_number": lambda v: np.select([v > 1], [np.exp(v)]),
    "nan_to_num": lambda v: np.nan_to_num(np.log(v - 0.5)),
    "nan_to_num_fills": lambda v: np.nan_to_num(np.log(v - 0.5), nan=2.0, neginf=-3.0),
    "frexp": lambda v: np.frexp(v)[0],
    "ldexp": lambda v: np.ldexp(v, 3),
    "modf": lambda v: np.modf(v * 3)[0],
    "huber": lambda v: sp.huber(0.8, v),
    "pseudo_huber": lambda v: sp.pseudo_huber(0.8, v) + sp.pseudo_huber(v + 1.0, 0.9),
    "max_ties_norm_inf": lambda v: np.linalg.norm(v, np.inf),
    "ediff1d_ends": lambda v: np.ediff1d(v, to_begin=v[0] ** 2, to_end=[1.0, 2.0]),
    "copy_ravel": lambda v: np.ravel(np.copy(np.reshape(v, (2, 4)))),
    "clip_differentiated_bounds": lambda v: np.clip(v[:3], v[3:4] - 1, v[4] * 0 + 0.2),
}

PATHS = {
    "reverse.gradient": lambda f, x, v: rv.gradient(f, x),
    "reverse.hvp": lambda f, x, v: rv.hvp(f, x, v),
    "hyperdual.jvp": lambda f, x, v: hd.jvp(f, x, v)[1],
    "hyperdual.hvp": lambda f, x, v: hd.hvp(f, x, v),
}


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("name", sorted(CASES))
def test_stays_lazy_on_dask(name, path, lazy):
    f, run = _weighted(CASES[name]), PATHS[path]
    with np.errstate(all="ignore"):
        want = np.asarray(run(f, X, V), dtype=float)
        x, v = da.from_array(X, chunks=4), da.from_array(V, chunks=4)
        out = lazy(lambda: run(f, x, v))
        got = np.asarray(out.compute() if hasattr(out, "compute") else out, dtype=float)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_piecewise_closed_form_on_dask(lazy):
    """d/dx of piecewise(x, [x < 0.5, x > 1.5], [x**2, sin, 3x]) is 2x, cos x, 3 (the
    otherwise branch); independent of the numpy path."""
    f = CASES["piecewise"]
    x = da.from_array(X, chunks=4)
    g = lazy(lambda: rv.gradient(lambda v: np.sum(f(v)), x)).compute()
    want = np.where(X < 0.5, 2 * X, np.where(X > 1.5, np.cos(X), 3.0))
    np.testing.assert_allclose(g, want, rtol=1e-14)


def test_select_first_condition_wins_on_dask(lazy):
    """np.select takes the first condition that holds: with both x > 0.2 and x > 1
    holding, x**2 (first) wins, not x**3."""
    x = da.from_array(X, chunks=4)
    g = lazy(lambda: rv.gradient(
        lambda v: np.sum(np.select([v > 0.2, v > 1.0], [v ** 2, v ** 3], 0.0)), x)).compute()
    np.testing.assert_allclose(g, np.where(X > 0.2, 2 * X, 0.0), rtol=1e-14)


@pytest.mark.parametrize("v", [0.8, [0.1, 0.8, 1.5]])
def test_searchsorted_of_a_dask_value(v):
    """np.searchsorted of an engine value holding dask data by a plain number raised
    inside dask (its searchsorted takes dask values only, and fails on a 0-d one);
    the indices (no derivative) are numpy's.  (np.sort computes, as on plain dask.)"""
    def f(z):
        return np.sum(np.sum(np.searchsorted(np.sort(z), v)) * z)

    x = da.from_array(X, chunks=4)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():  # dask: "np.argsort is not implemented by Dask"
            warnings.simplefilter("ignore", FutureWarning)
            got = [np.asarray(rv.gradient(f, x)), np.asarray(hd.jvp(f, x, x)[1])]
    n = np.sum(np.searchsorted(np.sort(X), v))
    np.testing.assert_array_equal(got[0], np.full(8, float(n)))
    np.testing.assert_allclose(got[1], n * np.sum(X), rtol=1e-14)
