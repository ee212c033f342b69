"""What test_linalg and test_scipy_linalg share: central differences of any function
of an array, a closeness check relative to the larger of 1 and the expected values'
largest magnitude, and reverse mode's third derivative by three backward passes."""

import numpy as np

from reverse import Variable


def central(f, x, h):
    """Central differences of ``f`` (any output shape) in every entry of ``x``."""
    out_shape = np.shape(f(x))
    jac = np.zeros(out_shape + x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        jac[(...,) + i] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
    return jac


def close(a, b, rtol, what):
    """max abs(a - b) <= rtol * max(1, max abs(b)), with equal shapes."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, what
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    assert err <= rtol * scale, f"{what}: max error {err:.3g} (scale {scale:.3g})"


def reverse_third(f, x, u, w):
    """The gradient of ``(H u) . w`` for scalar ``f`` at ``x`` by reverse mode alone:
    three backward passes, the first two recording their graphs."""
    xv = Variable(x)
    f(xv).backward(create_graph=True)
    g = xv.grad
    xv.clear_grad()
    np.sum(g * u).backward(create_graph=True)
    hu = xv.grad
    xv.clear_grad()
    np.sum(hu * w).backward()
    return xv.grad.data
