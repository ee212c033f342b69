"""Taylor mode on dask data: lazy, and the numpy path's coefficients.

Before, a Taylor number whose coefficients were a dask array computed it at once:
``variable`` assigned the seed into a numpy array, ``_pack`` wrapped the stacked
coefficients in ``np.array``, ``np.where``'s condition went through ``np.asarray``,
and 86 of the 87 elementwise rules of the fuzz tables, every helper
(``derivatives``, ``nth_derivative``, ``directional_derivatives``, both engines)
returned numpy arrays after one to several computes.  ``np.min``/``np.max`` over
several axes on dask coefficients reduced the first axis only (a wrong result).
Truth: the same rule or helper on the numpy array (itself checked against mpmath
and the other engines elsewhere); the lazy path runs the same recurrences, so the
coefficients agree to 1e-12.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual.rules import special as hs
from tests.reliability import _sympy_fuzz as fz

# a sweep of structure that no SIMD path changes: py312 only (tox.ini's tiers)
pytestmark = [pytest.mark.slow, pytest.mark.structure]

da = pytest.importorskip("dask.array")

V = np.cos(np.arange(4.0))


# A rule with many branches (i0e, i1e, the elliptic integrals) forms them all on lazy
# data: order 3 on two chunks is a graph of 25,000 tasks for i1e (11 s to build).  The
# rule sweep runs order 2 on one chunk by default, order 3 on two chunks with
# EXACTDIFF_SWEEP set (as the other sweeps); the lazy paths are the same code.
_ALL = os.environ.get("EXACTDIFF_SWEEP") is not None
ORDER, CHUNKS = (3, 2) if _ALL else (2, 4)


def _series(x, v, lib, K=3):
    """The Taylor number x + t v of order K, its coefficients in ``lib`` (np or da)."""
    return hd.Taylor(lib.stack([x, v] + [x * 0.0] * (K - 1)))


def _check(run, *xs, lazy):
    """run(*taylor numbers) on numpy and on dask coefficients: lazy, equal."""
    with np.errstate(all="ignore"):
        want = run(*[_series(x, V, np, ORDER) for x in xs]).coef
        dx = [da.from_array(x, chunks=CHUNKS) for x in xs]
        dv = da.from_array(V, chunks=CHUNKS)
        got = lazy(lambda: run(*[_series(x, dv, da, ORDER) for x in dx]).coef)
        assert hasattr(got, "dask"), type(got)
        got = got.compute()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, equal_nan=True)


UNARY_POINTS = np.array([0.3, 0.6, 0.8, 0.45])


@pytest.mark.parametrize("name", sorted(fz.UNARY))
def test_unary_rule_lazy(name, lazy):
    op = fz.UNARY[name][1]
    _check(op, UNARY_POINTS, lazy=lazy)


@pytest.mark.parametrize("name", sorted(fz.BINARY))
def test_binary_rule_lazy(name, lazy):
    op = fz.BINARY[name][1]
    _check(op, np.array([0.7, 1.3, 2.1, 0.4]), np.array([1.7, 2.6, 0.5, 0.9]), lazy=lazy)


@pytest.mark.parametrize("uf", sorted(hs.SPECIAL, key=lambda u: u.__name__),
                         ids=lambda u: u.__name__)
def test_scipy_special_rule_lazy(uf, lazy):
    p = (2, 5, 3.5)[:hs.SPECIAL[uf][1]]
    _check(lambda t: uf(*p, t), np.array([0.15, 0.3, 0.45, 0.6]), lazy=lazy)


X23 = np.array([[0.3, 1.2, -0.5], [0.7, 1.2, 0.4]])  # a tie (1.2) between the rows
REDUCTIONS = {
    "min_all_axes": lambda v: np.min(v, axis=(0, 1)),
    "max_tied_axis0": lambda v: np.max(v, axis=0),
    "max_tied_all": lambda v: np.max(v),
    "min_keepdims": lambda v: np.min(v, axis=1, keepdims=True),
    "minimum_reduce": lambda v: np.minimum.reduce(v, axis=(0, 1)),
    "einsum_three": lambda v: np.einsum("i,i,i->", v[0], np.sin(v[1]), v[0] * v[1]),
    "where_lazy_condition": lambda v: np.where(v > 0.5, v ** 2, np.exp(v)),
    "plus_constant": lambda v: v[0] + 2.5,
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction_lazy(name, lazy):
    f = REDUCTIONS[name]
    with np.errstate(all="ignore"):
        want = hd.directional_derivatives(lambda v: np.sum(f(v)), X23, np.cos(X23), 3)
        x = da.from_array(X23, chunks=(1, 2))
        got = lazy(lambda: hd.directional_derivatives(lambda v: np.sum(f(v)), x,
                                                      np.cos(x), 3))
    np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-14)


def test_min_over_two_axes_closed_form(lazy):
    """min over both axes of x + t v is x[i] + t v[i] at the unique minimum: the
    directional derivatives are (x_min, v_min, 0, 0), independent of the numpy path
    (before: the first axis only was reduced on dask)."""
    x0 = np.array([[0.3, 1.2, -0.5], [0.7, -0.9, 0.4]])
    v0 = np.arange(6.0).reshape(2, 3)
    x, v = da.from_array(x0, chunks=(1, 2)), da.from_array(v0, chunks=(1, 2))
    got = lazy(lambda: hd.directional_derivatives(lambda z: np.min(z, axis=(0, 1)), x, v,
                                                  3)).compute()
    np.testing.assert_array_equal(got, [-0.9, 4.0, 0.0, 0.0])


HELPERS = {
    "hd.derivatives": lambda x, v: hd.derivatives(lambda s: np.sin(s) * np.exp(s), x, 4),
    "hd.nth_derivative": lambda x, v: hd.nth_derivative(lambda s: np.sin(s) * s, x, 3),
    "hd.taylor": lambda x, v: hd.taylor(lambda s: np.log1p(s * s), x, 4),
    "hd.directional_derivatives": lambda x, v: hd.directional_derivatives(
        lambda z: np.sum(np.sin(z) * np.exp(z) + z ** 3), x, v, 4),
    "rv.directional_derivatives": lambda x, v: rv.directional_derivatives(
        lambda z: np.sum(np.sin(z) * np.exp(z) + z ** 3), x, v, 4),
    "rv.nth_derivative": lambda x, v: rv.nth_derivative(lambda s: np.sin(s) * s, x, 3),
}


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_helper_lazy(name, lazy):
    run = HELPERS[name]
    x0 = np.array([0.3, 1.2, 2.0, 0.7])
    want = run(x0, V)
    got = lazy(lambda: run(da.from_array(x0, chunks=2), da.from_array(V, chunks=2)))
    assert hasattr(got, "dask"), type(got)
    np.testing.assert_allclose(got.compute(), want, rtol=1e-12, atol=1e-14)


def test_helper_closed_form_on_dask(lazy):
    """d^k/dx^k of x e^x is (x + k) e^x, on dask, independent of the numpy path."""
    x0 = np.array([0.3, 1.2, -2.0, 0.7])
    got = lazy(lambda: hd.derivatives(lambda s: s * np.exp(s), da.from_array(x0, chunks=2),
                                      4)).compute()
    want = np.stack([(x0 + k) * np.exp(x0) for k in range(5)])
    np.testing.assert_allclose(got, want, rtol=1e-14)  # (a few ulps of exp, times the sum)


def test_matrix_series_on_dask_raise_a_clear_error():
    a = da.from_array(np.eye(3) * 2.0, chunks=-1)
    with pytest.raises(TypeError, match="coefficients are dask arrays is not supported"):
        hd.directional_derivatives(lambda m: np.sum(np.linalg.inv(m)), a, a, 3)
