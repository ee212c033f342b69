"""``hyperdual.polygamma`` under reverse mode: every nesting and helper, against mpmath.

``scipy.special.polygamma`` is a Python function that calls ``np.asarray``, so each
engine has its own (``hyperdual.polygamma``, ``reverse.functions.polygamma``).
hyperdual's reached scipy's for anything that was not a hyperdual number or plain
data, so reverse mode around hyperdual code (``reverse.derivative`` of a
``hyperdual.derivative`` of ``polygamma(1, x * y)``) and ``hyperdual.polygamma`` on a
Variable raised "cannot convert a Variable to a plain numpy array"; the other three
nestings worked. The shared plain function now hands another engine's value to that
engine's registered rule, as numpy's ``__array_function__`` protocol does.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

mpmath = pytest.importorskip("mpmath")
mpmath.mp.dps = 50


def psi(n, x):
    return float(mpmath.psi(n, mpmath.mpf(x)))


def _close(actual, expected, what=""):
    # polygamma of scipy is accurate to a few ulps; a nesting adds a product or two
    np.testing.assert_allclose(actual, expected, rtol=64 * 2.2e-16, atol=0, err_msg=what)


X = 0.7


@pytest.mark.parametrize("n", [1, 2, 5])
@pytest.mark.parametrize("outer", [hd, rv], ids=["hd", "rv"])
@pytest.mark.parametrize("inner", [hd, rv], ids=["hd", "rv"])
def test_every_nesting(outer, inner, n):
    """d/dx [d/dy polygamma(n, x y)] at y = 1 = psi_{n+1}(x) + x psi_{n+2}(x)."""
    pg = hd.polygamma if inner is hd else rv.functions.polygamma
    got = outer.derivative(lambda x: inner.derivative(lambda y: pg(n, x * y), 1.0), X)
    _close(got, psi(n + 1, X) + X * psi(n + 2, X), f"{outer.__name__}({inner.__name__})")


@pytest.mark.parametrize("n", [1, 3, 4])
def test_reverse_helpers_on_hyperdual_polygamma(n):
    x = np.array([0.7, 1.3])
    v = np.array([1.0, -2.0])
    d1 = np.array([psi(n + 1, t) for t in x])
    d2 = np.array([psi(n + 2, t) for t in x])

    def f(z):
        return np.sum(hd.polygamma(n, z))

    _close(rv.gradient(f, x), d1, "gradient")
    _close(rv.hessian(f, x), np.diag(d2), "hessian")
    _close(rv.hvp(f, x, v), d2 * v, "hvp forward-over-reverse")
    _close(rv.hvp(f, x, v, mode="reverse-over-reverse"), d2 * v, "hvp reverse-over-reverse")
    _close(rv.derivatives(lambda t: hd.polygamma(n, t), X, 3, method="backprop"),
           [psi(n + k, X) for k in range(4)], "derivatives backprop")
    _close(rv.second_derivative(lambda t: hd.polygamma(n, t), X), psi(n + 2, X))
    # reverse's Hessian of a hyperdual derivative: d2/dx2 [x psi_{n+1}(x)]
    h = rv.hessian(lambda z: hd.derivative(lambda y: hd.polygamma(n, z[0] * y), 1.0),
                   np.array([X]))
    _close(h, [[2 * psi(n + 2, X) + X * psi(n + 3, X)]], "hessian of a derivative")


def test_float32_stays_float32():
    g = rv.gradient(lambda z: np.sum(hd.polygamma(1, z)), np.array([0.7], np.float32))
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, [psi(2, 0.7)], rtol=4e-7)


def test_plain_arrays_and_subclasses_stay_plain():
    """The hand-off to another engine is for engine values only: an ndarray subclass
    (np.matrix, np.memmap, astropy's Quantity) still goes to scipy."""
    sub = type("Sub", (np.ndarray,), {})
    x = np.array([0.7, 1.3]).view(sub)
    np.testing.assert_allclose(hd.polygamma(1, x), [psi(1, 0.7), psi(1, 1.3)], rtol=1e-14)
    np.testing.assert_allclose(np.asarray(hd.linalg.expm(np.matrix([[0.0, 1.0], [0.0, 0.0]]))),
                               [[1.0, 1.0], [0.0, 1.0]], rtol=0, atol=1e-15)
