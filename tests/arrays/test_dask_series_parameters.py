"""Derivatives in the parameters of gammainc, gammaincc, hyp1f1 and zeta on dask data.

Their rules sum a series whose length depends on the values.  On dask data the
length was found by computing the array (1-58 computes a call), and each term was
one dask operation: ``hd.hvp`` of ``sum(gammainc(a, 2))`` on six elements built a graph
that computed in 495 s or exceeded Python's recursion limit.  The series now runs
block by block (``hyperdual.rules.blockwise.by_blocks``): lazy in every engine path,
with a graph of a few hundred tasks.

Truth: the same helper on the numpy arrays (whose rules the breadth tests check
against mpmath); the blocks run the same code, so to a few ulps.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import hyperdual as hd
import reverse as rv

da = pytest.importorskip("dask.array")

A = np.array([0.7, 1.3, 2.1, 2.9, 3.6, 5.2])
V = np.cos(np.arange(6.0))

FUNCTIONS = {
    # a traced, x constant; a and x both traced
    "gammainc(a, 2)": lambda z: np.sum(sp.gammainc(z, 2.0)),
    "gammaincc(a, a + 1)": lambda z: np.sum(sp.gammaincc(z[::-1], z + 1.0)),
    "gammainc(a, x) mixed": lambda z: np.sum(sp.gammainc(z[:3], z[3:]) * z[::2]),
    "hyp1f1(a, 3, 0.7)": lambda z: np.sum(sp.hyp1f1(z, 3.0, 0.7)),
    "hyp1f1(1.2, b, x)": lambda z: np.sum(sp.hyp1f1(1.2, z[:3] + 1.0, z[3:] / 4)),
    # zeta's d/ds (Euler-Maclaurin, terms by the largest abs(s)): Hurwitz's in s and q,
    # Riemann's on both sides of the functional equation's switch at s = -1/2
    "zeta(s, q)": lambda z: np.sum(sp.zeta(z[:3] + 1.5, z[3:])),
    "zeta(s)": lambda z: np.sum(sp.zeta(z - 3.0)),
}

PATHS = {
    "hd.jvp": lambda f, x: hd.jvp(f, x, _like(x, V))[1],
    "rv.gradient": lambda f, x: rv.gradient(f, x),
    "hd.gradient": lambda f, x: hd.gradient(f, x),  # (a direction stack through the rule)
    "hd.hessian": lambda f, x: hd.hessian(f, x),
    "hd.hvp": lambda f, x: hd.hvp(f, x, _like(x, V)),
    "rv.hvp": lambda f, x: rv.hvp(f, x, _like(x, V)),
    "rv.hvp(reverse-over-reverse)": lambda f, x: rv.hvp(
        f, x, _like(x, V), mode="reverse-over-reverse"),
    "rv.grad(hd.jvp)": lambda f, x: rv.gradient(lambda y: hd.jvp(f, y, _like(y, V))[1], x),
    "hd.jvp(rv.grad)": lambda f, x: hd.jvp(
        lambda y: rv.gradient(f, y), x, _like(x, V))[1],
}


def _like(x, v):
    return da.from_array(v, chunks=3) if isinstance(x, da.Array) else v


def _tasks(out):
    parts = out if isinstance(out, tuple) else (out,)
    return sum(len(p.__dask_graph__()) for p in parts if hasattr(p, "__dask_graph__"))


@pytest.mark.slow
@pytest.mark.structure
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_parameter_derivatives_stay_lazy_and_agree(name, path, lazy):
    f, run = FUNCTIONS[name], PATHS[path]
    want = np.asarray(run(f, A), dtype=float)
    out = lazy(lambda: run(f, da.from_array(A, chunks=3)))
    # a shallow graph: within 10 times that of the rule in x alone (closed form); the
    # old per-term operations made 10-100 times more tasks than that
    baseline = _tasks(run(lambda z: np.sum(sp.gammainc(2.0, z) * z),
                          da.from_array(A, chunks=3)))
    assert _tasks(out) < 10 * baseline + 1000, (_tasks(out), baseline)
    got = np.asarray(out.compute(), dtype=float)
    np.testing.assert_allclose(got, want, rtol=64 * np.finfo(float).eps,
                               atol=64 * np.finfo(float).eps * np.max(np.abs(want)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_third_derivative_in_a_by_taylor_mode_on_dask(lazy):
    # Taylor mode's coefficients of gammainc(a, 2) in a, against the numpy path's and
    # (order 1) the closed form at a = 1: d/da P(1, x) = -e^-x (log x + gamma) - E1(x)
    def f(a):
        return sp.gammainc(a, 2.0)

    want = hd.taylor(f, A, 3)
    got = lazy(lambda: hd.taylor(f, da.from_array(A, chunks=3), 3))
    np.testing.assert_allclose(np.asarray(got.compute() if hasattr(got, "compute") else got),
                               want, rtol=64 * np.finfo(float).eps, atol=1e-300)
    one = hd.taylor(f, da.from_array(np.array([1.0]), chunks=1), 1)
    closed = -np.exp(-2.0) * (np.log(2.0) + np.euler_gamma) - sp.exp1(2.0)
    np.testing.assert_allclose(np.asarray(one.compute())[1], closed, rtol=1e-13)


def test_region_refused_by_the_series_raises_at_compute():
    # hyp1f1's d/da is refused where the alternating series cancels (x < 0, b <= a):
    # on dask the same ValueError, when the blocks run
    x = da.from_array(np.array([3.0, 4.0]), chunks=1)
    g = rv.gradient(lambda a: np.sum(sp.hyp1f1(a, 1.0, -30.0)), x)
    with pytest.raises(ValueError, match="hyp1f1"):
        g.compute()
    with pytest.raises(ValueError, match="hyp1f1"):
        hd.gradient(lambda a: np.sum(sp.hyp1f1(a, 1.0, -30.0)), np.array([3.0, 4.0]))
