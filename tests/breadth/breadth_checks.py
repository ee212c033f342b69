"""Shared checks for the breadth tests: both engines against each other and against
central differences of an exact lower derivative.

* first derivatives: central differences of f itself (step 1e-6: error ~1e-9
  relative to the function's scale),
* second derivatives: central differences of hyperdual's exact gradient,
* hyperdual and reverse agree to a few ulps times the size of the terms,
* reverse's third derivatives (create_graph twice): central differences of
  hyperdual's exact Hessian.
"""

from __future__ import annotations

import numpy as np

import hyperdual as hd
import reverse as rv
from reverse import Variable

H = 1e-6


def scalarize(f, seed=0):
    """sum(w * sin(f(x))) with fixed random weights: a scalar that sees every output."""
    def s(x):
        y = f(x)
        w = np.random.default_rng(seed).uniform(0.5, 1.5, np.shape(_plain(y)))
        return np.sum(np.sin(y) * w)
    return s


def _plain(y):
    while hasattr(y, "real") and not isinstance(y, (np.ndarray, np.generic, float)):
        y = y.real
    if isinstance(y, Variable):
        y = y.data
        return _plain(y)
    return y


def central_gradient(f, x, h=H):
    x = np.asarray(x, dtype=float)
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[idx] = h
        out[idx] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def central_jacobian(g, x, h=H):
    """d g / d x for a vector-valued exact g (shape g(x).shape + x.shape)."""
    x = np.asarray(x, dtype=float)
    g0 = np.asarray(g(x))
    out = np.zeros(g0.shape + x.shape)
    for idx in np.ndindex(x.shape):
        e = np.zeros(x.shape)
        e[idx] = h
        out[(...,) + idx] = (np.asarray(g(x + e)) - np.asarray(g(x - e))) / (2 * h)
    return out


def assert_close(a, b, rtol, atol=0.0, what=""):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol,
                               atol=atol, err_msg=what)


def check_both_engines(f, x, hessian=True, rtol_fd=2e-6, agree=1e-10):
    """Gradient and Hessian of scalar ``f`` in both engines, against each other and
    against central differences.  Returns the (hyperdual) gradient."""
    x = np.asarray(x, dtype=float)
    g1 = hd.gradient(f, x)
    g2 = rv.gradient(f, x)
    scale = max(1.0, float(np.max(np.abs(g1))) if np.size(g1) else 1.0)
    assert_close(g1, g2, rtol=agree, atol=agree * scale, what="gradient: hyperdual vs reverse")
    num = central_gradient(f, x)
    assert_close(g1, num, rtol=rtol_fd, atol=rtol_fd * scale, what="gradient vs central diff")
    if hessian and x.size:
        H1 = hd.hessian(f, x) if x.ndim == 1 else None
        xf = x.reshape(-1)
        shape = x.shape

        def flat(v):
            return f(np.reshape(v, shape))

        H1 = hd.hessian(flat, xf)
        H2 = rv.hessian(flat, xf)
        hs = max(1.0, float(np.max(np.abs(H1))))
        assert_close(H1, H2, rtol=agree, atol=agree * hs, what="Hessian: hyperdual vs reverse")
        numH = central_jacobian(lambda v: hd.gradient(flat, v), xf)
        assert_close(H1, numH, rtol=rtol_fd, atol=rtol_fd * hs,
                     what="Hessian vs central diff of the exact gradient")
        # forward-over-reverse HVP and reverse-over-reverse agree with the Hessian
        v = np.random.default_rng(1).standard_normal(xf.shape)
        assert_close(rv.hvp(flat, xf, v), H1 @ v, rtol=agree * 10, atol=agree * 10 * hs,
                     what="reverse.hvp (forward-over-reverse)")
    return g1


def reverse_nth(f, x0, n):
    """Derivatives 1..n of scalar f at the float x0 by repeated create_graph backward."""
    x = Variable(np.array(x0))
    y = f(x)
    out = []
    for _ in range(n):
        x.clear_grad()
        y.backward(create_graph=True)
        y = x.grad
        out.append(float(y.data))
    return out


def check_third_order(f, x0, rtol=1e-5):
    """reverse's third derivative against central differences of the exact second."""
    d = reverse_nth(f, x0, 3)
    h = 1e-5 * max(1.0, abs(x0))
    num = (hd.second_derivative(f, x0 + h) - hd.second_derivative(f, x0 - h)) / (2 * h)
    assert abs(d[2] - num) <= rtol * max(1.0, abs(num)), (d, num)
    assert abs(d[1] - hd.second_derivative(f, x0)) <= 1e-10 * max(1.0, abs(d[1]))
    return d
