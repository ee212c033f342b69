"""Every catalog function on dask data: both engines stay lazy and match the closed forms.

DESIGN: nothing on a rule's path calls ``np.asarray``, ``float()``,
``math.isfinite`` or ``np.any`` on data of a non-numpy library (on dask each
forces a compute).  Each scalar and R^n -> R entry runs through
``reverse.gradient``, ``reverse.hvp`` (forward-over-reverse) and
``hyperdual.jvp`` on a chunked dask array under a callback that counts
computes; the results are compared with the entry's closed-form derivatives.
Entries with custom rules (tag ``custom``) are skipped: their user-written
rules may compute.
"""
from __future__ import annotations

import numpy as np
import pytest
from catalog import CATALOG

da = pytest.importorskip("dask.array")

import hyperdual  # noqa: E402
import reverse  # noqa: E402

ENTRIES = [e for e in CATALOG if e.kind in ("scalar", "R^n->R") and "custom" not in e.tags
           and e.grad is not None]


def _point(e, rng):
    if e.kind == "scalar":
        xs = np.array([float(e.sample(rng)) for _ in range(6)])

        def f(z):
            return np.sum(e.f(z))

        grad = np.array([float(e.grad(t)) for t in xs])
        hess = None if e.hess is None else np.diag([float(e.hess(t)) for t in xs])
        return xs, f, grad, hess
    xs = np.asarray(e.sample(rng), dtype=float)
    hess = None if e.hess is None or not e.hessian_paths else np.asarray(e.hess(xs))
    return xs, e.f, np.asarray(e.grad(xs)), hess


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_lazy_on_dask_and_exact(entry, lazy):
    rng = np.random.default_rng(17)
    xs, f, grad, hess = _point(entry, rng)
    if xs.ndim == 0:
        pytest.skip("scalar point")
    vs = np.cos(np.arange(xs.size)).reshape(xs.shape)
    chunks = max(1, xs.shape[0] // 2)
    x = da.from_array(xs, chunks=chunks)
    v = da.from_array(vs, chunks=chunks)
    g, hv, t = lazy(lambda: (reverse.gradient(f, x), reverse.hvp(f, x, v),
                             hyperdual.jvp(f, x, v)[1]))
    assert isinstance(g, da.Array) and isinstance(hv, da.Array)
    scale = np.max(np.abs(grad)) + 1.0
    np.testing.assert_allclose(g.compute(), grad, rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(float(np.asarray(t)), grad.ravel() @ vs.ravel(),
                               rtol=1e-9, atol=1e-12 * scale * np.sum(np.abs(vs)))
    if hess is not None:
        n = xs.size
        expected = np.reshape(hess, (n, n)) @ vs.ravel()
        np.testing.assert_allclose(hv.compute().ravel(), expected, rtol=1e-9,
                                   atol=1e-12 * (np.max(np.abs(hess)) + 1.0) * n)
