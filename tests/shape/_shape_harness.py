"""One check for a numpy function of an array: every engine and order against
central differences and against each other.

``check(f, x)`` takes ``f`` written with plain numpy (array in, array or
sequence of arrays out) and a float64 point ``x``:

* values: ``f`` on a Dual / HyperDual / Variable gives numpy's own result;
* first order: the Jacobians of hyperdual (direction stacks) and reverse agree
  with each other and with central differences of ``f``;
* second order: for ``g = sum(w * sin(f(x)))`` (so that ``f``'s curvature and
  the chain rule both matter), hyperdual's Hessian, reverse's forward-over-
  reverse and reverse-over-reverse Hessian-vector products agree, and match
  central differences of the exact gradient;
* float32: derivatives stay float32 and agree with float64 to float32 accuracy;
* optionally third order through reverse (``third=True``): the gradient of
  ``u . H v`` by double backprop inside reverse mode against hyperdual nested
  in hyperdual and central differences of ``H v``.
"""

from __future__ import annotations

import numpy as np

import hyperdual as hd
import reverse as rv
from hyperdual import Dual, HyperDual
from tests.linalg._linalg_checks import reverse_third


def flat(y):
    """A function's output(s) as one 1-d array (sequences are joined)."""
    if isinstance(y, (list, tuple)):
        return np.concatenate([np.reshape(v, (-1,)) for v in y])
    return np.reshape(y, (-1,))


def _num_jac(f, x, h):
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        cols.append((flat(f(x + e)) - flat(f(x - e))) / (2 * h))
    return np.stack(cols, axis=-1) if cols else np.zeros((flat(f(x)).size, 0))


def _scale(a):
    return max(1.0, float(np.max(np.abs(a)))) if np.size(a) else 1.0


def check(f, x, *, third=False, float32=True, h=1e-6, exact_value=True, seed=0,
          check_dtype=True):
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    y0 = flat(f(x))
    n, m = x.size, y0.size

    # values through every engine
    for kind in (Dual, HyperDual):
        parts = [np.ones(x.shape)] * (kind._NPARTS - 1)
        yd = f(kind(x, *parts))
        got = flat([v.real for v in yd] if isinstance(yd, (list, tuple)) else yd.real)
        if exact_value:
            np.testing.assert_array_equal(got, y0)
        else:
            np.testing.assert_allclose(got, y0, rtol=1e-13, atol=1e-13 * _scale(y0))
    yv = f(rv.Variable(x))
    gotv = flat([v.data for v in yv] if isinstance(yv, (list, tuple)) else yv.data)
    np.testing.assert_allclose(gotv, y0, rtol=1e-13, atol=1e-13 * _scale(y0))

    # first order
    fl = lambda z: flat(f(z))  # noqa: E731
    jf = np.reshape(hd.jacobian(fl, x), (m, n))
    jr = np.reshape(rv.jacobian(fl, x), (m, n))
    jn = _num_jac(f, x, h)
    tol = 1e-12 * _scale(jf)
    np.testing.assert_allclose(jf, jr, rtol=1e-12, atol=tol)
    np.testing.assert_allclose(jf, jn, rtol=1e-6, atol=1e-6 * _scale(jf) * _scale(x))

    # second order
    w = rng.uniform(0.5, 1.5, m)

    def g(z):
        return np.sum(w * np.sin(flat(f(z))))

    H = np.reshape(hd.hessian(g, x), (n, n))
    Hn = _num_jac(lambda z: hd.gradient(g, z), x, h)
    np.testing.assert_allclose(H, Hn, rtol=1e-6, atol=1e-6 * _scale(H) * _scale(x))
    v = rng.standard_normal(x.shape)
    hv = H @ v.ravel()
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        got = np.ravel(rv.hvp(g, x, v, mode=mode))
        np.testing.assert_allclose(got, hv, rtol=1e-11, atol=1e-11 * _scale(H) * _scale(v))
    np.testing.assert_allclose(np.reshape(rv.hessian(g, x), (n, n)), H,
                               rtol=1e-11, atol=1e-11 * _scale(H))
    np.testing.assert_allclose(np.ravel(hd.hvp(g, x, v)), hv,
                               rtol=1e-11, atol=1e-11 * _scale(H) * _scale(v))

    if float32:
        # numpy 1.x promotes Python scalars by value (no NEP 50): the dtype numpy
        # itself picks differs from 2.x, so only numpy 2's is checked exactly
        check_dtype = check_dtype and np.lib.NumpyVersion(np.__version__) >= "2.0.0"
        x32 = x.astype(np.float32)
        # numpy's own promotion decides (a float64 constant promotes float32)
        want = np.result_type(fl(x32))
        yd = f(Dual(x32, np.ones(x.shape, np.float32)))
        for p in (yd if isinstance(yd, (list, tuple)) else [yd]):
            if check_dtype:
                assert np.result_type(p.real) == want, p
            assert np.result_type(p.dual) == np.result_type(p.real), p
        # the Jacobian is with respect to x: x's dtype, float32, in both engines,
        # also where a float64 constant promotes f's value (JAX's jacobian)
        j32 = np.reshape(hd.jacobian(fl, x32), (m, n))
        assert j32.dtype == np.float32
        np.testing.assert_allclose(j32, jf, rtol=1e-5, atol=1e-5 * _scale(jf))
        if m:
            j32r = np.reshape(rv.jacobian(fl, x32), (m, n))
            assert j32r.dtype == np.float32
            np.testing.assert_allclose(j32r, jf, rtol=1e-5, atol=1e-5 * _scale(jf))
        g32 = rv.gradient(lambda z: np.sum(fl(z) * w.astype(np.float32)), x32)
        assert np.result_type(g32) == np.float32

    if third:
        u = rng.standard_normal(x.shape)

        def uhv_fwd(z):
            return np.sum(hd.hvp(g, z, v) * u)

        t_rev = reverse_third(g, x, v, u)
        t_fwd = hd.gradient(uhv_fwd, x)
        t_num = _num_jac(lambda z: np.array([np.sum(hd.hvp(g, z, v) * u)]), x, 1e-5)[0]
        np.testing.assert_allclose(t_rev, t_fwd, rtol=1e-10, atol=1e-10 * _scale(t_fwd))
        np.testing.assert_allclose(np.ravel(t_fwd), t_num, rtol=1e-5,
                                   atol=1e-5 * _scale(t_fwd) * _scale(x))
