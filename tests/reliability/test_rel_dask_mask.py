"""x[x > 0] on dask data through every second-order path, jvp and Taylor mode.

Indexing a part that is a plain numpy array (a helper's unit seeds, a cotangent)
by a dask boolean mask computed the mask and gave a selection of known size,
which dask then refused to combine with the value's selection of unknown size
("operands could not be broadcast together with shapes (nan,) (4,)") in
``reverse.hessian``, ``reverse.jacobian`` of a gradient, Taylor ``derivatives``
(np.stack of unknown sizes) and hyperdual-over-reverse (the scatter refused
direction axes).  Truth: closed forms of sum(x^3) and sum(sin(x) x) over the mask.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

da = pytest.importorskip("dask.array")

XN = np.linspace(-1.0, 1.5, 7)
VN = np.cos(np.arange(7.0))
X2N = np.linspace(-1.2, 1.3, 12).reshape(3, 4)
V2N = np.sin(np.arange(12.0)).reshape(3, 4)


def cube(z):
    return np.sum(z[z > 0] ** 3)


def sinx(z):
    m = z > 0.1
    return np.sum(np.sin(z[m]) * z[m])


# (f, gradient, Hessian diagonal, third derivative diagonal) elementwise on the mask
FUNCS = {
    "cube": (cube, 0.0, lambda x: 3 * x ** 2, lambda x: 6 * x, lambda x: 6 + 0 * x),
    "sinx": (sinx, 0.1, lambda x: np.sin(x) + x * np.cos(x),
             lambda x: 2 * np.cos(x) - x * np.sin(x), lambda x: -3 * np.sin(x) - x * np.cos(x)),
}

PATHS = {
    "hd.hessian": lambda f, x, v: hd.hessian(f, x),
    "rv.hessian": lambda f, x, v: rv.hessian(f, x),
    "hd.jacobian(rv.gradient)": lambda f, x, v: hd.jacobian(lambda y: rv.gradient(f, y), x),
    "rv.jacobian(rv.gradient)": lambda f, x, v: rv.jacobian(lambda y: rv.gradient(f, y), x),
    "rv.jacobian(hd.gradient)": lambda f, x, v: rv.jacobian(lambda y: hd.gradient(f, y), x),
    "hd.hvp": lambda f, x, v: hd.hvp(f, x, v),
    "rv.hvp-for": lambda f, x, v: rv.hvp(f, x, v, mode="forward-over-reverse"),
    "rv.hvp-ror": lambda f, x, v: rv.hvp(f, x, v, mode="reverse-over-reverse"),
}


def _np(a):
    return np.asarray(a.compute() if hasattr(a, "compute") else a, dtype=float)


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("fname", list(FUNCS))
@pytest.mark.parametrize("data,v", [(XN, VN), (X2N, V2N)], ids=["1-d", "2-d"])
def test_second_order_paths_through_a_dask_mask(path, fname, data, v, lazy):
    f, cut, _, h, _ = FUNCS[fname]
    chunks = 3 if data.ndim == 1 else (2, 2)
    x, vd = da.from_array(data, chunks=chunks), da.from_array(v, chunks=chunks)
    call = lambda: PATHS[path](f, x, vd)  # noqa: E731
    # reverse.hessian computes once on dask data (its own choice, not the mask's)
    out = _np(call() if path == "rv.hessian" else lazy(call))
    hdiag = np.where(data > cut, h(data), 0.0).ravel()
    if path.endswith(("hvp", "-for", "-ror")):
        assert_close_ulps(out.ravel(), hdiag * v.ravel(), ulps=8)
    else:
        assert_close_ulps(out.reshape(data.size, data.size), np.diag(hdiag), ulps=8)


@pytest.mark.parametrize("fname", list(FUNCS))
def test_jvp_and_taylor_through_a_dask_mask(fname):
    f, cut, g, h, t = FUNCS[fname]
    x, v = da.from_array(XN, chunks=3), da.from_array(VN, chunks=3)
    on = XN > cut
    truth = [f(XN), np.sum(g(XN)[on] * VN[on]), np.sum(h(XN)[on] * VN[on] ** 2),
             np.sum(t(XN)[on] * VN[on] ** 3)]
    cond = np.sum(np.abs(t(XN)[on] * VN[on] ** 3)) / abs(truth[3])
    for eng in (hd, rv):
        val, tan = eng.jvp(f, x, v)
        assert_close_ulps([_np(val), _np(tan)], truth[:2], ulps=8, cond=7)
    d = _np(hd.derivatives(lambda s: f(x + s * v), 0.0, 3))
    assert_close_ulps(d, truth, ulps=8, cond=max(7, cond))
    assert_close_ulps(_np(hd.directional_derivatives(f, x, v, 3)), truth, ulps=8,
                      cond=max(7, cond))
