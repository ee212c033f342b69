"""Silently wrong results and unhelpful crashes found by redteam11's sweeps of the
array surface under every helper (``/tmp`` probes comparing Taylor mode, Dual
numbers, reverse mode and numpy's own values; the random-expression sweep is
``scripts/fuzz_derivatives.py``).  Truth: closed forms and numpy's value."""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

W = np.array([1.0, 2.0])


def test_taylor_inner_with_a_scalar_scales():
    # np.inner(vector, scalar) is the scaled vector; Taylor mode summed it
    # (derivatives of inner(w t, t) were [3, 6, 6], truth [w, 2w, 2w])
    for f in (lambda t: np.inner(W * t, t), lambda t: np.inner(t, W * t)):
        got = hd.derivatives(f, 1.0, 2)
        np.testing.assert_array_equal(got, [W, 2 * W, 2 * W])
        np.testing.assert_array_equal(rv.derivatives(f, 1.0, 2), got)


@pytest.mark.parametrize("engine", [hd, rv])
def test_derivative_tensor_of_inner_with_a_scalar(engine):
    # sum(inner(v, v0)**2) = v0**4 + v0**2 v1**2
    f = lambda v: np.sum(np.inner(v, v[0]) ** 2)  # noqa: E731
    x = np.array([1.0, 2.0])
    truth = np.array([[12 * 1 + 2 * 4, 4 * 1 * 2], [4 * 1 * 2, 2 * 1]])
    np.testing.assert_array_equal(engine.derivative_tensor(f, x, 2), truth)


@pytest.mark.parametrize("fname", ["derivatives", "taylor"])
def test_backprop_orders_of_a_shape_1_output(fname):
    # f of a scalar with output shape (1,): method="backprop" raised numpy's
    # "all input arrays must have the same shape"; Taylor mode gives (K + 1, 1)
    f = lambda t: np.cumsum(t ** 3)  # noqa: E731
    got = getattr(rv, fname)(f, 0.5, 3, method="backprop")
    scale = [1, 1, 2, 6] if fname == "taylor" else [1, 1, 1, 1]
    truth = np.array([[0.125], [0.75], [3.0], [6.0]]) / np.array(scale)[:, None]
    np.testing.assert_allclose(got, truth, rtol=4e-16)
    np.testing.assert_array_equal(got, getattr(hd, fname)(f, 0.5, 3))


def test_backprop_shape_1_inside_an_outer_trace():
    g = lambda a: np.sum(rv.derivatives(  # noqa: E731
        lambda t: np.atleast_2d(a * t ** 3), 0.5, 3, method="backprop"))
    truth = 0.125 + 0.75 + 3.0 + 6.0  # d/da of a (t^3 + 3t^2 + 6t + 6)
    assert rv.derivative(g, 2.0) == pytest.approx(truth, rel=4e-16)
    assert hd.derivative(g, 2.0) == pytest.approx(truth, rel=4e-16)


Y3 = np.array([0.3, -0.2, 0.5])
X23 = np.array([[0.1, 0.5, 0.7], [0.2, 0.9, 1.3]])
X22 = np.array([[0.1, 0.5], [0.2, 0.9]])


@pytest.mark.parametrize("y, x, axis", [
    (Y3, X23, -1), (Y3[:2], X22, -1), (X22, Y3[:2], -1), (np.array([[0.3], [0.4]]), X22, -1),
    (X23.T, X23.T, 0), (X23, X23, 1)])
def test_trapezoid_with_sample_points_of_other_rank(y, x, axis):
    # x with more or fewer dimensions than y: the differences are taken along
    # x's own axis (slicing x with y's axis gave a wrong value, even a wrong shape)
    ref = np.trapezoid(y, x, axis=axis) if hasattr(np, "trapezoid") else np.trapz(y, x, axis=axis)
    f = lambda t: (np.trapezoid if hasattr(np, "trapezoid") else np.trapz)(  # noqa: E731
        y * t[0], x * t[1], axis=axis)
    # f is linear in t[0] and in t[1]: d/dt0 = d/dt1 = f(1, 1)
    for engine in (hd, rv):
        jac = engine.jacobian(f, np.array([1.0, 1.0]))
        np.testing.assert_allclose(jac[..., 0], ref, rtol=1e-15)
        np.testing.assert_allclose(jac[..., 1], ref, rtol=1e-15)
    taylor = hd.derivatives(lambda s: f(np.array([1.0, 1.0]) * s), 1.0, 2)
    np.testing.assert_allclose(taylor[0], ref, rtol=1e-15)
    np.testing.assert_allclose(taylor[2], 2 * ref, rtol=1e-15)


@pytest.mark.parametrize("engine", [hd, rv])
def test_convolve_promotes_a_scalar(engine):
    # numpy promotes 0-d operands of convolve to length 1; the engines raised
    # "'float' object is not subscriptable" or "object too deep"
    x = np.array([2.0, 3.0])
    np.testing.assert_array_equal(engine.jacobian(lambda t: np.convolve(t[0], t), x),
                                  [[4.0, 0.0], [3.0, 2.0]])
    np.testing.assert_array_equal(engine.jacobian(lambda t: np.convolve(t, t[0] * t[1]), x),
                                  [[12.0, 4.0], [9.0, 12.0]])
    np.testing.assert_array_equal(engine.derivative(lambda s: np.convolve(s, 3.0), 2.0), [3.0])
