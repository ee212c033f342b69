"""Every elementwise rule of the fuzz tables and every scipy.special rule on dask data:
lazy, and the numpy path's derivatives.

A rule that chose its branch by asking the data (``np.asarray`` of the plain value,
``mask.any()``, a numpy table indexed by the data, scipy's ``polygamma``, which is
Python code calling ``np.asarray``) computed the dask array inside the helper: 35
functions did (digamma, erfcx, ive, log_ndtr, poch, sinc, kl_div, fmax, betainc, the
distribution functions ...), 1-62 computes per call.  On lazy data a rule now forms
every branch and picks by the lazy mask (``_exactdiff._common.select_branch``).
Truth: the same helper on the numpy array, itself checked against mpmath by the
fuzz and the special-function tests; the branches agree elementwise, so to 1e-12.
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

VS = np.cos(np.arange(6.0))


def _unary_point(name):
    dom = fz.UNARY[name][2]
    rng = np.random.default_rng(sum(map(ord, name)))
    pts = []
    while len(pts) < 6:
        t = float(rng.choice([-1.0, 1.0]) * rng.uniform(0.05, 6.0))
        if dom(t):
            pts.append(t)
    return np.array(pts)


CASES = {}
for _name, (_s, _op, _dom) in fz.UNARY.items():
    CASES[_name] = (lambda z, op=_op: np.sum(op(z)), _unary_point(_name))
for _name, (_s, _op, _dom) in fz.BINARY.items():
    CASES["binary " + _name] = (lambda z, op=_op: np.sum(op(z[:3], z[3:])),
                                np.array([0.7, 1.3, 2.1, 0.4, 1.7, 2.6]))
for _uf, (_f, _nparams) in hs.SPECIAL.items():
    # the parameters (order, shape) constants; x in (0, 1), the domain of them all
    CASES["scipy " + _uf.__name__] = (
        lambda z, uf=_uf, p=(2, 5, 3.5)[:_nparams]: np.sum(uf(*p, z)),
        np.array([0.15, 0.3, 0.45, 0.6, 0.75, 0.9]))

# the second-order paths cost ~0.3 s a case on dask (graph building): every sixth case
# by default, all of them with EXACTDIFF_SWEEP set (as the fuzz sweep)
_ALL = os.environ.get("EXACTDIFF_SWEEP") is not None
SECOND = ("reverse.hvp", "hyperdual.hvp")

PATHS = {
    "reverse.gradient": lambda f, x, v: rv.gradient(f, x),
    "reverse.hvp": lambda f, x, v: rv.hvp(f, x, v),
    "hyperdual.jvp": lambda f, x, v: hd.jvp(f, x, v)[1],
    "hyperdual.hvp": lambda f, x, v: hd.hvp(f, x, v),
}


RUNS = [(name, path) for k, name in enumerate(sorted(CASES)) for path in sorted(PATHS)
        if _ALL or path not in SECOND or k % 6 == 0]


@pytest.mark.parametrize("name,path", RUNS)
def test_rule_stays_lazy_on_dask(name, path, lazy):
    f, xs = CASES[name]
    run = PATHS[path]
    with np.errstate(all="ignore"):
        want = np.asarray(run(f, xs, VS), dtype=float)
    x, v = da.from_array(xs, chunks=3), da.from_array(VS, chunks=3)
    with np.errstate(all="ignore"):
        out = lazy(lambda: run(f, x, v))
        got = np.asarray(out.compute() if hasattr(out, "compute") else out, dtype=float)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
