"""Red-team findings on the array breadth (linear algebra, contractions, statistics,
sorting, array building), each checked against independent truth.

Truth here: central differences of an exact lower-order derivative (the tolerance the
step earns), numpy's own values, and the other engine.
"""

from __future__ import annotations

import numpy as np
import pytest
from breadth_checks import scalarize

import hyperdual as hd
import reverse as rv

RNG = np.random.default_rng(2026)


def _check_taylor3(f, x, v, rtol=1e-5):
    """Taylor mode's directional derivatives 1..3 of scalar ``f`` at ``x`` along ``v``:
    1 and 2 against the exact gradient and Hessian (hyperdual), 3 against central
    differences (step 1e-4: error ~1e-8 relative) of the exact second derivative."""
    x = np.asarray(x, float)
    d = np.asarray(hd.directional_derivatives(f, x, v, 3))
    g = hd.gradient(f, x)
    second = lambda p: float(np.vdot(v, hd.hvp(f, p, v)))  # noqa: E731
    h = 1e-4
    third = (second(x + h * v) - second(x - h * v)) / (2 * h)
    np.testing.assert_allclose(d[0], f(x), rtol=1e-13)
    np.testing.assert_allclose(d[1], np.vdot(g, v), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d[2], second(x), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(d[3], third, rtol=rtol, atol=rtol)
    # reverse's helper hands the Taylor pass over; its backprop method nests backward passes
    np.testing.assert_allclose(rv.directional_derivatives(f, x, v, 3), d, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rv.directional_derivatives(f, x, v, 3, method="backprop"), d,
                               rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------- Taylor dot/inner, n-d

_B = RNG.standard_normal((3, 4, 2))
_DOT_INNER = {
    "dot 3d,2d": lambda x: np.dot(np.reshape(x, (2, 3, 4)), _B[0]),
    "dot 3d,1d": lambda x: np.dot(np.reshape(x, (2, 3, 4)), x[:4]),
    "dot 1d,3d": lambda x: np.dot(x[:4], np.reshape(x, (2, 4, 3))),
    "dot 2d,3d": lambda x: np.dot(np.reshape(x[:12], (3, 4)), np.reshape(x, (2, 4, 3))),
    "dot 3d,3d": lambda x: np.dot(np.reshape(x, (2, 3, 4)), _B),
    "inner 3d,2d": lambda x: np.inner(np.reshape(x, (2, 3, 4)), np.reshape(x[:8], (2, 4))),
    "inner 2d,1d": lambda x: np.inner(np.reshape(x, (6, 4)), x[4:8]),
    "inner 1d,3d": lambda x: np.inner(x[:4], np.reshape(x, (3, 2, 4))),
}


@pytest.mark.parametrize("name", sorted(_DOT_INNER))
def test_taylor_dot_inner_nd(name):
    """np.dot / np.inner of operands with more than two (inner: one) dimensions in Taylor
    mode (``TypeError`` before), as the einsum the Dual rules use."""
    f = scalarize(_DOT_INNER[name])
    x = RNG.standard_normal(24)
    v = RNG.standard_normal(24)
    _check_taylor3(f, x, v)
    # the Taylor value of the vector function is numpy's
    coef = hd.directional_derivatives(_DOT_INNER[name], x, v, 1)
    np.testing.assert_allclose(coef[0], _DOT_INNER[name](x), rtol=1e-14, atol=1e-14)
