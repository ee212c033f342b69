"""``hyperdual.signal`` / ``reverse.signal``: scipy.signal's ``convolve``, ``correlate``,
``fftconvolve`` for the engines' numbers.

``scipy.signal.convolve(x, k)`` of a Dual or Variable raised "cannot convert" (scipy
calls np.asarray).  Truth: a convolution is linear in each operand, so its Jacobian's
columns are scipy's own convolutions of unit vectors (one nonzero term per entry: exact
in floating point); the Hessian of ``sum(W * convolve(x, x, 'full'))`` is
``2 W[i + j]``.  Values: scipy's, to rounding (a different order of summation).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal as ss

import hyperdual as hd
import reverse as rv

EPS = float(np.finfo(float).eps)
FUNCS = ["convolve", "correlate", "fftconvolve"]
SHAPES = [((5,), (3,)), ((3,), (6,)), ((4, 3), (2, 2)), ((3, 5), (4, 2)), ((3, 2, 4), (2, 2, 3)),
          ((2, 3), (2, 3))]


def _scipy(name, a, b, mode):
    """scipy's direct sums (its FFT rounds; fftconvolve is convolve computed that way)."""
    if name == "correlate":
        return ss.correlate(a, b, mode=mode, method="direct")
    return ss.convolve(a, b, mode=mode, method="direct")


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("s1, s2", SHAPES)
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_values_and_jacobians_in_both_operands(name, s1, s2, mode):
    rng = np.random.default_rng(hash((name, s1, s2, mode)) % 2**32)
    a, b = rng.normal(size=s1), rng.normal(size=s2)
    try:
        want = _scipy(name, a, b, mode)
    except ValueError:
        for lib in (hd, rv):
            with pytest.raises(ValueError):
                lib.jacobian(lambda x, lib=lib: getattr(lib.signal, name)(x, b, mode=mode), a)
        return
    # the Jacobian in a: columns are the convolutions of unit arrays (exact)
    ja = np.stack([_scipy(name, e.reshape(s1), b, mode).ravel()
                   for e in np.eye(a.size)], axis=-1)
    jb = np.stack([_scipy(name, a, e.reshape(s2), mode).ravel()
                   for e in np.eye(b.size)], axis=-1)
    for lib in (hd, rv):
        f = getattr(lib.signal, name)
        got_a = np.asarray(lib.jacobian(lambda x, f=f: f(x, b, mode=mode), a))
        got_b = np.asarray(lib.jacobian(lambda y, f=f: f(a, y, mode=mode), b))
        np.testing.assert_allclose(got_a.reshape(ja.shape), ja, rtol=0, atol=1e-15)
        np.testing.assert_allclose(got_b.reshape(jb.shape), jb, rtol=0, atol=1e-15)
        value = lib.value_and_gradient(lambda x, f=f: np.sum(f(x, b, mode=mode)), a)[0]
        np.testing.assert_allclose(value, np.sum(want), rtol=1e-13, atol=1e-13)


def test_values_are_scipys_shapes_included():
    a, b = np.arange(12.0).reshape(3, 4), np.array([[1.0, -2.0], [0.5, 3.0]])
    for mode in ("full", "same", "valid"):
        d = hd.signal.convolve(hd.Dual(a, np.ones_like(a)), b, mode=mode)
        # (scipy may take the FFT: its rounding is normwise, ulps of the largest entry)
        want = ss.convolve(a, b, mode=mode)
        np.testing.assert_allclose(d.real, want, rtol=0, atol=64 * EPS * np.max(np.abs(want)))
        v = rv.signal.correlate(rv.Variable(a), b, mode=mode)
        want = ss.correlate(a, b, mode=mode)
        np.testing.assert_allclose(v.data, want, rtol=0, atol=64 * EPS * np.max(np.abs(want)))
    np.testing.assert_array_equal(hd.signal.convolve(a, b), ss.convolve(a, b))


@pytest.mark.parametrize("outer, inner", [("hd", "hd"), ("hd", "rv"), ("rv", "hd"),
                                          ("rv", "rv")])
def test_hessian_of_a_self_convolution(outer, inner):
    """f(x) = sum(W * convolve(x, x)): H_ij = 2 W[i + j]; as the jacobian of a gradient,
    in every engine pair."""
    lib = {"hd": hd, "rv": rv}
    w = np.array([0.5, -1.0, 2.0, 0.25, 1.5, -0.75, 1.0])
    x = np.array([0.3, -1.2, 0.8, 2.0])
    f = lambda v: np.sum(w * lib[inner].signal.convolve(v, v))  # noqa: E731
    h = lib[outer].jacobian(lambda v: lib[inner].gradient(f, v), x)
    i, j = np.indices((4, 4))
    np.testing.assert_allclose(h, 2 * w[i + j], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(hd.hessian(f, x), 2 * w[i + j], rtol=1e-14, atol=1e-15)


def test_bad_input_is_refused():
    x = hd.Dual(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="same dimensionality"):
        hd.signal.convolve(x, np.ones((2, 2)))
    with pytest.raises(ValueError, match="mode"):
        hd.signal.convolve(x, np.ones(2), mode="circular")
    with pytest.raises(ValueError, match="valid"):
        hd.signal.convolve(hd.Dual(np.ones((3, 2)), np.ones((3, 2))), np.ones((2, 3)),
                           mode="valid")
    with pytest.raises(ValueError, match="axes=None"):
        hd.signal.fftconvolve(x, np.ones(2), axes=0)
