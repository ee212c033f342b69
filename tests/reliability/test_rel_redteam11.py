"""Silently wrong results and unhelpful crashes found by redteam11's sweeps of the
array surface under every helper (``/tmp`` probes comparing Taylor mode, Dual
numbers, reverse mode and numpy's own values; the random-expression sweep is
``scripts/fuzz_derivatives.py``).  Truth: closed forms and numpy's value."""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps, relative_to_largest

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
    assert_close_ulps(got, truth, ulps=4)  # products of powers of 2 and 3: exact but one rounding
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
    # (sums of products of differences, in another order than numpy's: a few ulps
    # times the size of the terms over the result)
    cond = np.sum(np.abs(y)) * np.max(np.abs(x)) / np.maximum(np.abs(ref), 1e-300)
    for engine in (hd, rv):
        jac = engine.jacobian(f, np.array([1.0, 1.0]))
        assert_close_ulps(jac[..., 0], ref, ulps=8, cond=cond)
        assert_close_ulps(jac[..., 1], ref, ulps=8, cond=cond)
    taylor = hd.derivatives(lambda s: f(np.array([1.0, 1.0]) * s), 1.0, 2)
    assert_close_ulps(taylor[0], ref, ulps=8, cond=cond)
    assert_close_ulps(taylor[2], 2 * ref, ulps=8, cond=cond)


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


mpmath = pytest.importorskip("mpmath")
_SC = pytest.importorskip("scipy.special")
_E = mpmath.exp
# scipy.special function, its mpmath form, point (inside the domain)
_SPECIAL_TAYLOR = [
    (lambda x: _SC.j0(x), lambda x: mpmath.besselj(0, x), 1.3),
    (lambda x: _SC.j1(x), lambda x: mpmath.besselj(1, x), 2.1),
    (lambda x: _SC.y0(x), lambda x: mpmath.bessely(0, x), 1.3),
    (lambda x: _SC.y1(x), lambda x: mpmath.bessely(1, x), 0.9),
    (lambda x: _SC.k0(x), lambda x: mpmath.besselk(0, x), 1.3),
    (lambda x: _SC.k1(x), lambda x: mpmath.besselk(1, x), 0.7),
    (lambda x: _SC.jv(1.5, x), lambda x: mpmath.besselj(1.5, x), 2.0),
    (lambda x: _SC.yv(0.5, x), lambda x: mpmath.bessely(0.5, x), 1.7),
    (lambda x: _SC.iv(2.0, x), lambda x: mpmath.besseli(2, x), -1.1),
    (lambda x: _SC.kv(1.5, x), lambda x: mpmath.besselk(1.5, x), 1.2),
    (lambda x: _SC.yn(2, x), lambda x: mpmath.bessely(2, x), 2.5),
    (lambda x: _SC.ive(0.5, x), lambda x: _E(-x) * mpmath.besseli(0.5, x), 1.4),
    (lambda x: _SC.kve(1.0, x), lambda x: _E(x) * mpmath.besselk(1, x), 0.8),
    (lambda x: _SC.rgamma(x), mpmath.rgamma, -0.6),
    (lambda x: _SC.gammainc(1.5, x), lambda x: mpmath.gammainc(1.5, 0, x, regularized=True),
     1.3),
    (lambda x: _SC.gammaincc(2.5, x), lambda x: mpmath.gammainc(2.5, x, regularized=True), 0.6),
    (lambda x: _SC.betainc(1.5, 2.0, x), lambda x: mpmath.betainc(1.5, 2, 0, x,
                                                                   regularized=True), 0.3),
]


@pytest.mark.parametrize("i", range(len(_SPECIAL_TAYLOR)))
def test_taylor_mode_of_the_parametric_special_functions(i):
    # Bessel functions, rgamma and the incomplete gamma/beta functions raised
    # "not supported for Taylor numbers" in every Taylor helper (derivatives,
    # taylor, derivative_tensor ...), though their custom_jvp rule serves every order
    f, mp_f, x = _SPECIAL_TAYLOR[i]
    mpmath.mp.dps = 40
    K = 5
    got = hd.derivatives(f, x, K)
    truth = [mpmath.diff(mp_f, mpmath.mpf(x), k) for k in range(K + 1)]
    # coefficient k to ~K ulps of the envelope of the coefficients up to k (the
    # ODE trick sums k products of lower coefficients)
    coef = [abs(t) / mpmath.factorial(k) for k, t in enumerate(truth)]
    for k in range(K + 1):
        env = max(coef[: k + 1]) * mpmath.factorial(k)
        assert abs(mpmath.mpf(float(got[k])) - truth[k]) <= 64 * (k + 1) * 2.0 ** -52 * env, k
    np.testing.assert_array_equal(rv.derivatives(f, x, K), got)
    d3 = hd.derivative_tensor(lambda v: f(v[0] * v[1]), np.array([1.0, x]), 3)[1, 1, 1]
    assert abs(mpmath.mpf(float(d3)) - truth[3]) <= 256 * 2.0 ** -52 * max(
        abs(t) for t in truth[:4])


@pytest.mark.parametrize("outer", [hd, rv])
@pytest.mark.parametrize("inner", [hd, rv])
def test_sparsity_detection_names_a_helper_inside_f(outer, inner):
    # a derivative helper inside f cannot be traced by the pattern: hyperdual said
    # "x must be a float, int, numpy scalar or array, got Pattern", reverse that f
    # converts x with np.asarray; both now name the helper and the way out
    f = lambda x: np.sum(np.sin(x) * x[::-1])  # noqa: E731
    x = np.array([0.3, 0.5, 0.7])
    with pytest.raises(TypeError, match="derivative helper.*sparsity="):
        outer.sparse_jacobian(lambda q: inner.gradient(f, q), x)
    dense = outer.sparse_jacobian(lambda q: inner.gradient(f, q), x,
                                  sparsity=np.ones((3, 3), dtype=bool))
    dense = dense.toarray() if hasattr(dense, "toarray") else np.asarray(dense)
    want = hd.hessian(f, x)  # the same sums of products, in another order
    assert_close_ulps(dense, want, ulps=8, cond=relative_to_largest(want))


_TAIL_RULES = [  # reverse forms f'(x) gy as one node for these (power-law tails)
    (lambda z: _SC.i0e(z), lambda z: mpmath.exp(-abs(z)) * mpmath.besseli(0, z)),
    (lambda z: _SC.i1e(z), lambda z: mpmath.exp(-abs(z)) * mpmath.besseli(1, z)),
    (lambda z: _SC.erfcx(z), lambda z: mpmath.exp(z * z) * mpmath.erfc(z)),
]


@pytest.mark.parametrize("i", range(len(_TAIL_RULES)))
@pytest.mark.parametrize("engines", [(hd, hd, rv), (hd, rv, rv), (rv, hd, rv), (hd, hd, hd)])
def test_third_derivative_of_a_tail_rule_through_three_helpers(i, engines):
    # hyperdual.derivative of hyperdual.derivative of reverse.derivative of
    # g(i0e(...)) with g nonlinear raised numpy's "input operand has more dimensions
    # than allowed by the axis remapping" (the outer Dual's direction axis met the
    # inner Dual's tangent as a value axis in reverse's scaled product)
    f, mp_f = _TAIL_RULES[i]
    A, B, C = engines
    p0, u, v = 0.291189, 0.75, 0.25
    h = lambda z: np.log1p(f(z) ** 2)  # noqa: E731
    got = A.derivative(lambda r: B.derivative(lambda s: C.derivative(
        lambda t: h(p0 + r * u + s * v + t * u), 0.0), 0.0), 0.0)
    mpmath.mp.dps = 40
    truth = mpmath.diff(lambda z: mpmath.log1p(mp_f(z) ** 2), mpmath.mpf(p0), 3) * u * u * v
    assert abs(mpmath.mpf(float(got)) - truth) <= 1e-13 * abs(truth)


@pytest.mark.parametrize("order", [2, 3])
def test_backprop_derivative_tensor_of_a_power_at_the_origin(order):
    # every interpolation direction of x**y at (0, 0) meets log 0, so reverse's
    # backprop tensor was all nan; the convention (README: x**y's Hessian is
    # [[0, inf], [inf, 0]] at (0, 0)) is what hessian and hyperdual give
    f = lambda v: v[0] ** v[1]  # noqa: E731
    x = np.array([0.0, 0.0])
    with np.errstate(all="ignore"):
        got = rv.derivative_tensor(f, x, order, method="backprop")
        np.testing.assert_array_equal(got, hd.derivative_tensor(f, x, order))
        if order == 2:
            np.testing.assert_array_equal(got, [[0.0, np.inf], [np.inf, 0.0]])
            np.testing.assert_array_equal(got, rv.hessian(f, x))
        # a nan f stays nan (entries that do not move it are hyperdual's 0)
        g = lambda v: np.sqrt(v[0] - 1.0) * v[1]  # noqa: E731
        y = np.array([0.0, 1.0])
        bad = rv.derivative_tensor(g, y, order, method="backprop")
        np.testing.assert_array_equal(bad, hd.derivative_tensor(g, y, order))
    assert np.isnan(bad[(0,) * order])


@pytest.mark.parametrize("f, third", [
    (lambda t: np.hypot(0.0, t), lambda t: 0.0),
    (lambda t: np.hypot(t, 0.0), lambda t: 0.0),
    (lambda t: 1.0 / np.hypot(0.0, t), lambda t: -6.0 / t ** 4 * np.sign(t)),
    (lambda t: np.hypot(0.0 * t, t), lambda t: 0.0),
])
def test_third_derivative_of_hypot_with_a_zero_operand(f, third):
    # hypot(0, x) = |x|: reverse's partial a / h took the form b / a of the branch
    # not taken at a = 0 (inf), whose derivative met the where's zero cotangent as
    # 0 * inf = nan on the recorded graph: every reverse-outer third derivative was
    # nan (found by scripts/fuzz_derivatives.py: x1 / hypot(ndtri(0.5), x0))
    x = -0.58729
    truth = third(x)
    got = [rv.derivatives(f, x, 3, method="backprop")[3],
           rv.derivative(lambda s: rv.second_derivative(f, s), x),
           rv.derivative(lambda s: hd.second_derivative(f, s), x),
           rv.second_derivative(lambda s: rv.derivative(f, s), x),
           rv.derivative(lambda r: rv.derivative(lambda s: rv.derivative(f, s), r), x)]
    np.testing.assert_allclose(got, truth, rtol=1e-14, atol=0)
