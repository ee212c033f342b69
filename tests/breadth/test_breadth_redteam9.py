"""Red-team findings on the array breadth (linear algebra, contractions, statistics,
sorting, array building), each checked against independent truth.

Truth here: central differences of an exact lower-order derivative (the tolerance the
step earns), numpy's own values, and the other engine.
"""

from __future__ import annotations

import numpy as np
import pytest
from breadth_checks import check_both_engines, scalarize

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

RNG = np.random.default_rng(2026)


def _check_taylor3(f, x, v, rtol=1e-5, rtol2=1e-11):
    """Taylor mode's directional derivatives 1..3 of scalar ``f`` at ``x`` along ``v``:
    1 and 2 against the exact gradient and Hessian (hyperdual), 3 against central
    differences (step 1e-4: error ~1e-8 relative) of the exact second derivative."""
    x = np.asarray(x, float)
    d = np.asarray(hd.directional_derivatives(f, x, v, 3))
    g = hd.gradient(f, x)
    second = lambda p: float(np.vdot(v, hd.hvp(f, p, v)))  # noqa: E731
    h = 1e-4
    third = (second(x + h * v) - second(x - h * v)) / (2 * h)
    np.testing.assert_allclose(d[0], f(x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(d[1], np.vdot(g, v), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(d[2], second(x), rtol=rtol2, atol=rtol2)
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


# --------------------------------------------------------------- quantile methods

_ALL_METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation",
                "interpolated_inverted_cdf", "hazen", "weibull", "linear", "median_unbiased",
                "normal_unbiased", "lower", "higher", "nearest", "midpoint"]


@pytest.mark.parametrize("method", _ALL_METHODS)
@pytest.mark.parametrize("nan", [False, True])
def test_quantile_every_numpy_method(method, nan):
    """np.quantile / np.nanquantile with each of numpy's thirteen methods (eight raised
    TypeError before): numpy's value, and the derivative of both engines against central
    differences (the order statistics are distinct, so the result is piecewise linear)."""
    x = RNG.permutation(np.linspace(-2.0, 2.0, 15)).reshape(3, 5) + RNG.uniform(0, 0.05, (3, 5))
    fq = np.nanquantile if nan else np.quantile
    qs = [0.0, 0.1, 0.25, 0.4, 0.5, 0.73, 1.0]

    def f(v):
        if nan:
            v = np.where(np.arange(15).reshape(3, 5) % 7 == 3, np.nan, v)
        return fq(v, qs, axis=1, method=method)

    for n_ in range(1, 8):  # every virtual index, small n: numpy's value
        y = RNG.standard_normal(n_)
        for q in np.linspace(0.0, 1.0, 29):
            got, want = fq(hd.Dual(y, np.ones(n_)), q, method=method), fq(y, q, method=method)
            # numpy's lerp and the weighted sum of two order statistics round differently:
            # a few ulps of the larger one (the interpolation's condition number)
            assert_close_ulps(got.real, want, cond=np.max(np.abs(y)) / abs(want),
                              err_msg=f"n={n_}, q={q}")
            assert abs(got.dual - 1.0) < 1e-14  # the weights sum to 1
    want = f(x)
    assert_close_ulps(f(hd.Dual(x, np.zeros_like(x))).real, want, cond=2.0 / np.abs(want))
    check_both_engines(scalarize(f), x)


# --------------------------------------------------------------- var/std mean= (numpy 2)

_MEAN_KW = {
    "var const mean": lambda x: np.var(x, axis=1, mean=np.full((3, 1), 0.3)),
    "var own mean": lambda x: np.var(x, axis=1, ddof=1, mean=np.mean(x, axis=1, keepdims=True)),
    "std moving mean": lambda x: np.std(x, axis=0, mean=x[:1] * 0.5, keepdims=True),
    "var where": lambda x: np.var(x, axis=1, mean=np.full((3, 1), -0.2),
                                  where=np.array([True, False, True, True, False])),
    "nanvar": lambda x: np.nanvar(np.where(np.arange(15).reshape(3, 5) % 4 == 1, np.nan, x),
                                  axis=1, mean=np.full((3, 1), 0.1)),
    "nanstd": lambda x: np.nanstd(x, axis=0, ddof=1, mean=np.mean(x, axis=0, keepdims=True)),
    "method": lambda x: x.var(axis=1, mean=x[:, 2:3]),
}


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.0.0", reason="numpy 2's mean=")
@pytest.mark.parametrize("name", sorted(_MEAN_KW))
def test_var_std_mean_keyword(name):
    """np.var/std/nanvar/nanstd(mean=...) (TypeError before): numpy's value, and both
    engines' derivatives (through the given mean too) against central differences."""
    f = _MEAN_KW[name]
    x = RNG.standard_normal((3, 5))
    want = f(x)
    got = f(hd.Dual(x, np.zeros_like(x))).real
    assert_close_ulps(got, want, ulps=8, cond=5)
    check_both_engines(scalarize(f), x)
    _check_taylor3(scalarize(f), x, RNG.standard_normal((3, 5)))


# --------------------------------------------------------------- ediff1d keeps float32

def _parts(y):
    """Every array a value of an engine holds."""
    if isinstance(y, rv.Variable):
        return [y.data]
    if isinstance(y, hd.Taylor):
        return list(y.coef)
    if isinstance(y, hd.HyperDual):
        return [y.real, y.eps1, y.eps2, y.eps12]
    return [y.real, y.dual]


@pytest.mark.parametrize("engine", ["Dual", "HyperDual", "Taylor", "reverse"])
def test_ediff1d_keeps_ary_dtype(engine):
    """numpy casts to_begin/to_end to ary's dtype: float32 data stays float32 with float64
    (or Python float) ends (the engines gave float64 before)."""
    x = np.array([0.5, 1.5, 4.0, 3.0], dtype=np.float32)
    make = {"Dual": lambda a: hd.Dual(a, np.ones_like(a)),
            "HyperDual": lambda a: hd.HyperDual(a, np.ones_like(a), np.ones_like(a), 0 * a),
            "Taylor": lambda a: hd.Taylor(np.stack([a, np.ones_like(a), 0 * a])),
            "reverse": rv.Variable}[engine]
    for kw in ({"to_end": [1.0, 2.0]}, {"to_begin": np.float64(3.0)},
               {"to_begin": [1.0], "to_end": np.array([2.0, 5.0])}):
        want = np.ediff1d(x, **kw)
        got = np.ediff1d(make(x), **kw)
        parts = _parts(got)
        for p in parts:
            assert p.dtype == want.dtype == np.float32, (kw, p.dtype)
        np.testing.assert_array_equal(parts[0], want)
    f = lambda v: np.sum(np.ediff1d(v, to_begin=0.25, to_end=v[:2] * 2.0) ** 3)  # noqa: E731
    g = hd.gradient(f, x)
    assert g.dtype == rv.gradient(f, x).dtype == np.float32
    np.testing.assert_allclose(g, rv.gradient(f, x.astype(float)), rtol=1e-5)


# --------------------------------------------------------------- reverse keeps float32

_BINARY32 = ["hypot", "arctan2", "copysign", "heaviside", "mod", "fmod", "remainder",
             "floor_divide", "logaddexp", "maximum", "power", "divide"]
_OPERANDS = {"x, 0.5": lambda fn, v, c: fn(v, 0.5), "2.0, x": lambda fn, v, c: fn(2.0, v),
             "x, f32": lambda fn, v, c: fn(v, c), "x, x*x": lambda fn, v, c: fn(v, v * v + 0.25)}


@pytest.mark.parametrize("name", _BINARY32)
@pytest.mark.parametrize("form", sorted(_OPERANDS))
def test_reverse_binary_keeps_float32(name, form):
    """float32 data, a Python float or float32 operand: reverse's gradient, Hessian and
    both HVPs are float32 as numpy's result is (copysign/heaviside/mod/floor_divide
    partials and hypot/arctan2's forward-over-reverse Hessians were float64), and agree
    with float64 to float32's precision."""
    x = np.array([0.3, -0.7, 1.2, 0.55], dtype=np.float32) + np.float32(0.1)
    c = x[::-1] + np.float32(0.5)
    fn = getattr(np, name)

    def f(v):
        return np.sum(np.sin(_OPERANDS[form](fn, v, c)))

    assert f(x).dtype == np.float32
    x64 = x.astype(float)
    for what, helper in [("gradient", rv.gradient), ("hessian", rv.hessian),
                         ("hvp", lambda g, p: rv.hvp(g, p, p)),
                         ("hvp ror", lambda g, p: rv.hvp(g, p, p, mode="reverse-over-reverse"))]:
        got = helper(f, x)
        assert got.dtype == np.float32, what
        want = helper(f, x64)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.nanmax(np.abs(want)),
                                   err_msg=what)


# --------------------------------------------------------------- correlate with a list

_SEQ = {
    "correlate x, list, same": lambda x: np.correlate(x, [0.5, 1.0, 2.0], "same"),
    "correlate list, x, full": lambda x: np.correlate([0.5, 1.0, 2.0, 3.0], x[:3], "full"),
    "correlate tuple, x, same": lambda x: np.correlate((1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0), x,
                                                       "same"),
    "convolve x, tuple, valid": lambda x: np.convolve(x, (1.0, 2.0), "valid"),
    "convolve list, x": lambda x: np.convolve([1.0, -2.0, 0.5, 3.0, 1.0, 2.0, 4.0], x ** 2),
}


@pytest.mark.parametrize("name", sorted(_SEQ))
def test_correlate_list_operand(name):
    """np.correlate / np.convolve with a constant given as a list or tuple (TypeError
    "unsupported operand type(s) for @: 'Dual' and 'list'" before)."""
    f = _SEQ[name]
    x = RNG.standard_normal(6)
    np.testing.assert_allclose(f(hd.Dual(x, np.zeros(6))).real, f(x), rtol=1e-14, atol=1e-14)
    check_both_engines(scalarize(f), x)
    _check_taylor3(scalarize(f), x, RNG.standard_normal(6))


@pytest.mark.parametrize("engine", ["Dual", "HyperDual", "Taylor", "reverse"])
@pytest.mark.parametrize("name", ["polyadd", "polysub"])
def test_polyadd_polysub_keep_float32(engine, name):
    """np.polyadd / np.polysub of float32 coefficients of different lengths are float32
    (the shorter one's padding was float64 zeros)."""
    x = np.array([0.5, -1.5, 4.0, 3.0, 2.0], dtype=np.float32)
    make = {"Dual": lambda a: hd.Dual(a, np.ones_like(a)),
            "HyperDual": lambda a: hd.HyperDual(a, np.ones_like(a), np.ones_like(a), 0 * a),
            "Taylor": lambda a: hd.Taylor(np.stack([a, np.ones_like(a), 0 * a])),
            "reverse": rv.Variable}[engine]
    fn = getattr(np, name)
    for f in (lambda v: fn(v[:2], v[1:]), lambda v: fn(v, v[3:])):
        want = f(x)
        got = _parts(f(make(x)))
        assert all(p.dtype == want.dtype == np.float32 for p in got)
        np.testing.assert_array_equal(got[0], want)
    f = lambda v: np.sum(fn(v[:2], v[1:]) ** 3)  # noqa: E731
    assert rv.gradient(f, x).dtype == hd.gradient(f, x).dtype == np.float32


# --------------------------------------------------------------- reshape/ravel order="F"

_FORTRAN = {
    "np.reshape F": lambda x: np.reshape(x, (4, 6), order="F"),
    "np.reshape F -1": lambda x: np.reshape(np.reshape(x, (2, 3, 4)), (3, -1), order="F"),
    "np.ravel F": lambda x: np.ravel(np.reshape(x, (2, 3, 4)), order="F") * x,
    "method reshape F": lambda x: np.reshape(x, (6, 4)).T.reshape(2, 12, order="F"),
    "method ravel F": lambda x: np.reshape(x, (4, 6)).ravel("F") ** 2,
    "method flatten F": lambda x: np.reshape(x, (3, 8)).flatten(order="F") * x[::-1],
    "vec trick": lambda x: np.reshape(x[:4], (2, 2), order="F") @ np.reshape(x[4:8], (2, 2)),
}


@pytest.mark.parametrize("name", sorted(_FORTRAN))
def test_reshape_ravel_fortran_order(name):
    """order='F' in np.reshape/np.ravel and the reshape/ravel/flatten methods: TypeError in
    hyperdual and reverse before, and Taylor.reshape(order='F') silently used C order."""
    f = _FORTRAN[name]
    x = RNG.standard_normal(24)
    want = f(x)
    for make in (lambda a: hd.Dual(a, np.zeros_like(a)),
                 lambda a: hd.HyperDual(a, 0 * a, 0 * a, 0 * a),
                 lambda a: hd.Taylor(np.stack([a, 0 * a])), rv.Variable):
        np.testing.assert_array_equal(_parts(f(make(x)))[0], want)
    check_both_engines(scalarize(f), x, hessian=False)
    _check_taylor3(scalarize(f), x, RNG.standard_normal(24))
    V = RNG.standard_normal((3, 24))  # a stack of directions, one Taylor pass
    stacked = hd.directional_derivatives(scalarize(f), x, V, 2)
    for i in range(3):
        np.testing.assert_allclose(stacked[i], hd.directional_derivatives(scalarize(f), x, V[i], 2),
                                   rtol=1e-13, atol=1e-13)


def test_reshape_order_a_k_refused():
    x = hd.Dual(np.ones((2, 3)), np.ones((2, 3)))
    for call in (lambda: np.reshape(x, 6, order="A"), lambda: x.ravel("K"),
                 lambda: rv.Variable(np.ones((2, 3))).reshape(3, 2, order="A"),
                 lambda: hd.Taylor(np.ones((2, 2, 3))).reshape(6, order="K")):
        with pytest.raises(TypeError, match="order="):
            call()


# --------------------------------------------------------------- Taylor cholesky(upper=True)

@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) < "2.0.0", reason="numpy 2's upper=")
def test_taylor_cholesky_upper():
    """np.linalg.cholesky(a, upper=True) in Taylor mode (TypeError before): the factor of
    the upper triangle numpy reads, as the Dual rule; orders 1 and 2 against
    Dual/HyperDual, 3 against central differences of HyperDual's exact second."""
    X = RNG.standard_normal((3, 3))
    A = X @ X.T + 3 * np.eye(3)
    A[0, 2] += 0.3  # numpy reads one triangle: the other must not matter
    V = RNG.standard_normal((3, 3))
    f = lambda t: np.linalg.cholesky(t, upper=True)  # noqa: E731

    def second(p):
        return np.linalg.cholesky(hd.HyperDual(p, V, V, np.zeros_like(p)), upper=True).eps12

    T = hd.directional_derivatives(f, A, V, 3)
    np.testing.assert_array_equal(T[0], f(A))
    np.testing.assert_allclose(T[1], np.linalg.cholesky(hd.Dual(A, V), upper=True).dual,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(T[2], second(A), rtol=1e-11, atol=1e-11)
    h = 1e-4
    np.testing.assert_allclose(T[3], (second(A + h * V) - second(A - h * V)) / (2 * h),
                               rtol=1e-6, atol=1e-6)
    s = scalarize(f)
    _check_taylor3(s, A, V)


# --------------------------------------------------------------- Taylor svd and qr

def _taylor_matrix(shape, K):
    A = RNG.standard_normal(shape)
    coef = np.zeros((K + 1,) + shape)
    coef[0], coef[1], coef[2] = A, RNG.standard_normal(shape), 0.3 * RNG.standard_normal(shape)
    return coef


@pytest.mark.parametrize("shape", [(3, 3), (4, 3), (3, 5), (2, 4, 3), (2, 3, 4)])
def test_taylor_svd_qr_series_identities(shape):
    """The svd/qr series (TypeError before) satisfy their definitions to order 5: A(t) =
    U diag(s) V^T = Q R coefficient by coefficient, U^T U = V V^T = Q^T Q = I, R upper
    triangular; order 0 is numpy's factorisation."""
    coef = _taylor_matrix(shape, 5)
    U, s, Vh = np.linalg.svd(hd.Taylor(coef), full_matrices=False)
    Q, R = np.linalg.qr(hd.Taylor(coef))
    for got, want in zip((U, s, Vh, Q, R), (*np.linalg.svd(coef[0], full_matrices=False),
                                            *np.linalg.qr(coef[0]))):
        np.testing.assert_array_equal(got.coef[0], want)
    u, sv, v, q, r = U.coef, s.coef, Vh.coef, Q.coef, R.coef
    T = lambda m: np.swapaxes(m, -1, -2)  # noqa: E731
    tol = 1e-12 * np.max(np.abs(coef)) ** 2 * 50
    for k in range(6):
        usv = sum((u[i] * sv[j][..., None, :]) @ v[k - i - j]
                  for i in range(k + 1) for j in range(k - i + 1))
        np.testing.assert_allclose(usv, coef[k], atol=tol)
        np.testing.assert_allclose(sum(q[i] @ r[k - i] for i in range(k + 1)), coef[k], atol=tol)
        eye = (k == 0) * 1.0
        for m, tr in ((u, True), (v, False), (q, True)):
            gram = sum((T(m[i]) @ m[k - i]) if tr else (m[i] @ T(m[k - i])) for i in range(k + 1))
            np.testing.assert_allclose(gram, eye * np.eye(gram.shape[-1]) + 0 * gram, atol=tol)
        assert np.all(np.tril(r[k][..., :, :min(shape[-2:])], -1) == 0)


_SVD_QR = {
    "svd s": lambda x: np.linalg.svd(x, compute_uv=False),
    "svd U Vh": lambda x: np.linalg.svd(x, full_matrices=False)[0] @ np.linalg.svd(
        x, full_matrices=False)[2][..., :, :1],
    "svdvals": lambda x: np.linalg.svd(x, compute_uv=False)[..., :1, None] * x,
    "norm 2": lambda x: np.linalg.norm(x, 2, axis=(-2, -1)),
    "norm nuc": lambda x: np.linalg.norm(x, "nuc", axis=(-2, -1)),
    "norm -2": lambda x: np.linalg.norm(x, -2, axis=(-2, -1)),
    "cond": lambda x: np.linalg.cond(x[..., :3, :3] + 3.0 * np.eye(3)),
    "qr Q": lambda x: np.linalg.qr(x)[0],
    "qr R": lambda x: np.linalg.qr(x, mode="r"),
}


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
@pytest.mark.parametrize("name", sorted(_SVD_QR))
def test_taylor_svd_qr_third_order(name, shape):
    """Taylor mode's orders 1-3 of svd/qr and the spectral norms, svdvals and cond built
    on them: against the exact Dual/HyperDual gradient and HVP and central differences
    of the exact second derivative; reverse's backprop method agrees."""
    f = scalarize(_SVD_QR[name])
    rng = np.random.default_rng(sorted(_SVD_QR).index(name) * 10 + len(shape) + shape[-1])
    x = rng.standard_normal(shape)
    # two exact methods (Taylor's series, HyperDual's rule) agree to rounding times the
    # conditioning of the factorisation (inverse gaps, R0^-1): 1e-9 for these matrices
    _check_taylor3(f, x, rng.standard_normal(shape), rtol2=1e-9)


def test_taylor_svd_degenerate_and_refusals():
    eye = hd.Taylor(np.stack([np.eye(3), np.ones((3, 3)), np.zeros((3, 3))]))
    with pytest.raises(hd.linalg.DegenerateDerivativeError, match="distinct singular"):
        np.linalg.svd(eye)
    with pytest.raises(TypeError, match="full_matrices"):
        np.linalg.svd(hd.Taylor(np.ones((2, 4, 3))))
    with pytest.raises(TypeError, match="mode='complete'"):
        np.linalg.qr(hd.Taylor(np.ones((2, 4, 3))), mode="complete")
    # order 1 of the singular values also at repeated ones, the Dual rule's convention
    # (diag(U0^T dA V0) in numpy's U0, V0: s(t) has a kink there)
    a, d = np.eye(3), np.diag([1.0, 2.0, 3.0])
    with np.errstate(all="raise"):
        got = np.linalg.svd(hd.Taylor(np.stack([a, d])), compute_uv=False).coef[1]
    np.testing.assert_array_equal(got, np.linalg.svd(hd.Dual(a, d), compute_uv=False).dual)
    with pytest.raises(hd.linalg.DegenerateDerivativeError, match="distinct singular"):
        np.linalg.svd(hd.Taylor(np.stack([a, d])))  # the vectors: none


# --------------------------------------------------------------- Taylor pinv and lstsq

_PINV = {
    "pinv tall": (lambda x: np.linalg.pinv(x), (4, 3)),
    "pinv wide": (lambda x: np.linalg.pinv(x), (2, 5)),
    "pinv batched": (lambda x: np.linalg.pinv(x), (2, 3, 3)),
    "pinv hermitian": (lambda x: np.linalg.pinv(x @ np.swapaxes(x, -1, -2) + np.eye(3),
                                                 hermitian=True), (3, 3)),
    "pinv rcond": (lambda x: np.linalg.pinv(x, rcond=1e-10), (4, 2)),
    "lstsq x": (lambda x: np.linalg.lstsq(x, np.arange(4.0), rcond=None)[0], (4, 3)),
    "lstsq resid": (lambda x: np.linalg.lstsq(x, np.arange(4.0), rcond=None)[1], (4, 3)),
    "lstsq matrix b": (lambda x: np.linalg.lstsq(x[:, :2], x[:, 2:] ** 2, rcond=None)[0], (5, 3)),
}


@pytest.mark.parametrize("name", sorted(_PINV))
def test_taylor_pinv_lstsq(name):
    """np.linalg.pinv and lstsq (built on it) in Taylor mode (TypeError before), for
    matrices of full rank: order 0 is numpy's value, orders 1-3 against the exact
    gradient/HVP and central differences."""
    g, shape = _PINV[name]
    rng = np.random.default_rng(sorted(_PINV).index(name))
    x = rng.standard_normal(shape) + 2.0 * np.eye(*shape[-2:])  # well conditioned
    got = hd.directional_derivatives(g, x, x, 1)[0]
    if name.startswith("pinv"):
        np.testing.assert_array_equal(got, g(x))
    else:  # the shared lstsq is pinv(a) @ b, numpy's is LAPACK's gelsd: a few ulps x cond
        assert_close_ulps(got, g(x), ulps=8, cond=np.linalg.cond(x) * np.max(np.abs(g(x)))
                          / np.abs(g(x)))
    _check_taylor3(scalarize(g), x, rng.standard_normal(shape), rtol2=1e-9)


def test_taylor_pinv_rank_deficient_refused():
    a = np.outer([1.0, 2.0, 3.0], [1.0, -1.0])  # rank 1
    with pytest.raises(TypeError, match="rank-deficient"):
        np.linalg.pinv(hd.Taylor(np.stack([a, np.ones((3, 2))])))


def test_taylor_svd_qr_pinv_mpmath():
    """Taylor coefficients 0..3 of singular values, of R of qr (numpy's signs) and of
    pinv along A(t) = A + t V, against mpmath at 50 digits: the coefficients of
    mpmath's own factorisation by central differences (h = 1e-10: truncation ~1e-20,
    rounding ~1e-50 / h^3 = 1e-20), so each is good to ~1e-18 in float64 terms."""
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(7)
    A = rng.standard_normal((4, 3)) + np.eye(4, 3)
    V = rng.standard_normal((4, 3))
    T = hd.Taylor(np.stack([A, V, 0 * A, 0 * A]))
    with mpmath.workdps(50):
        h = mpmath.mpf("1e-10")
        sign = np.sign(np.diag(np.linalg.qr(A)[1]))

        def at(t):
            M = mpmath.matrix(A.tolist()) + t * mpmath.matrix(V.tolist())
            s = mpmath.svd_r(M, compute_uv=False)
            R = mpmath.qr(M)[1]  # (square R of the reduced factorisation on top)
            R = [R[i, j] * sign[i] * mpmath.sign(R[i, i]) for i in range(3) for j in range(3)]
            P = (M.T * M) ** -1 * M.T  # full column rank: the pseudo-inverse
            return [s[i] for i in range(3)] + R + [P[i, j] for i in range(3) for j in range(4)]

        f = [at(k * h) for k in (-2, -1, 0, 1, 2)]
        coef = [[float(f[2][i]), float((f[3][i] - f[1][i]) / (2 * h)),
                 float((f[3][i] - 2 * f[2][i] + f[1][i]) / (2 * h ** 2)),
                 float((f[4][i] - 2 * f[3][i] + 2 * f[1][i] - f[0][i]) / (12 * h ** 3))]
                for i in range(24)]
    want = np.array(coef).T  # (order, entry)
    got = np.concatenate([np.linalg.svd(T, compute_uv=False).coef,
                          np.linalg.qr(T)[1].coef.reshape(4, 9),
                          np.linalg.pinv(T).coef.reshape(4, 12)], axis=1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------- eig keeps float32

@pytest.mark.parametrize("what", ["eigvals", "eigvecs", "both"])
def test_eig_keeps_float32(what):
    """float32 matrices: eig/eigvals derivatives are float32 in every helper (reverse's
    gradient was float64: the VJPs' identity matrices were float64) and agree with
    float64 to float32's precision."""
    x = np.array([[2.0, 1.0, 0.3], [0.5, 3.0, -0.2], [0.1, 0.4, 4.5]], dtype=np.float32)
    f = {"eigvals": lambda a: np.sum(np.linalg.eigvals(a) ** 2),
         "eigvecs": lambda a: np.sum(np.linalg.eig(a)[1] ** 3),
         "both": lambda a: np.sum(np.linalg.eig(a)[0] * np.linalg.eig(a)[1] ** 3)}[what]
    v = np.array([[1.0, -0.5, 0.25], [0.5, 0.0, 1.0], [-1.0, 0.3, 0.2]], dtype=np.float32)
    for helper in (rv.gradient, hd.gradient, rv.hessian, hd.hessian,
                   lambda g, p: rv.hvp(g, p, v.astype(p.dtype), mode="reverse-over-reverse")):
        got, want = helper(f, x), helper(f, x.astype(float))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=2e-4, atol=2e-4 * np.max(np.abs(want)))


# --------------------------------------------------------------- poly, trim_zeros, fix, astype

_SMALL = {
    "poly roots": lambda x: np.poly(x[:4]),
    "poly matrix": lambda x: np.poly(np.reshape(x[:4], (2, 2)) + np.reshape(x[:4], (2, 2)).T),
    "trim_zeros fb": lambda x: np.trim_zeros(np.concatenate([[0.0, 0.0], x, [0.0]])),
    "trim_zeros f": lambda x: np.trim_zeros(np.concatenate([[0.0], x, [0.0]]), "f"),
    "trim_zeros b": lambda x: np.trim_zeros(np.concatenate([[0.0], x, [0.0]]), trim="b"),
    "fix": lambda x: np.fix(x * 3.0) * x,
}
if hasattr(np, "astype"):
    _SMALL["astype"] = lambda x: np.astype(x, np.float64) ** 2


@pytest.mark.parametrize("name", sorted(_SMALL))
def test_poly_trim_zeros_fix_astype(name):
    """np.poly, np.trim_zeros, np.fix and numpy 2's np.astype on differentiated values
    (TypeError 'not supported' before, both engines): numpy's value, both engines'
    derivatives against central differences, Taylor order 3."""
    f = _SMALL[name]
    x = np.random.default_rng(sorted(_SMALL).index(name)).standard_normal(8)
    np.testing.assert_allclose(f(hd.Dual(x, np.zeros(8))).real, f(x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(f(rv.Variable(x)).data, f(x), rtol=1e-13, atol=1e-13)
    check_both_engines(scalarize(f), x)
    if not name.startswith("poly matrix"):  # (Taylor has no eigvals rule)
        _check_taylor3(scalarize(f), x, np.ones(8))


# --------------------------------------------------------------- Taylor solve broadcasting

@pytest.mark.parametrize("bshape", [(3,), (2, 3), (3, 2), (2, 3, 2), (1, 3, 1)])
def test_taylor_solve_broadcast_rhs(bshape):
    """np.linalg.solve of a stack of matrices (2, 3, 3) with b of every shape numpy
    accepts: a 1-d b is one vector broadcast over the stack in numpy 2 and a matrix b is
    broadcast too (Taylor took a b with one axis fewer than a for stacked vectors: a
    ValueError for b of shape (3,) or (3, 2)).  Orders 0-2 against numpy, Dual and
    HyperDual, order 3 against central differences."""
    rng = np.random.default_rng(len(bshape) * 10 + bshape[-1])
    A = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal(bshape)
    try:
        want = np.linalg.solve(A, b)
    except ValueError:
        pytest.skip("this numpy rejects the shape")
    V = rng.standard_normal(A.shape)
    coef = np.linalg.solve(hd.Taylor(np.stack([A, V, 0 * A, 0 * A])), b).coef
    np.testing.assert_allclose(coef[0], want, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(coef[1], np.linalg.solve(hd.Dual(A, V), b).dual, rtol=1e-13,
                               atol=1e-13)

    def second(p):
        return np.linalg.solve(hd.HyperDual(p, V, V, 0 * p), b).eps12

    np.testing.assert_allclose(2 * coef[2], second(A), rtol=1e-12, atol=1e-12)
    h = 1e-4
    np.testing.assert_allclose(6 * coef[3], (second(A + h * V) - second(A - h * V)) / (2 * h),
                               rtol=1e-6, atol=1e-6)
    f = lambda a: np.linalg.solve(a, b)  # noqa: E731
    _check_taylor3(scalarize(f), A, V)


# --------------------------------------------------------------- lists inside concatenate/stack

_LISTS = {
    "concatenate [x, [x0]]": lambda x: np.concatenate([x, [x[0]]]),
    "concatenate [x, [x0, 2]]": lambda x: np.concatenate([x, [x[0], 2.0]]),
    "concatenate axis None": lambda x: np.concatenate([[x[2], x[1]], x], axis=None),
    "stack": lambda x: np.stack([x, [x[0], 1.0, x[2]]]),
    "stack axis 1 tuple": lambda x: np.stack([x, (x[1] ** 2, x[0], 3.0)], axis=1),
}


@pytest.mark.parametrize("name", sorted(_LISTS))
def test_concatenate_stack_lists_of_values(name):
    """np.concatenate / np.stack with a list inside holding differentiated values (numpy
    converts a list of numbers; the engines raised TypeError 'cannot convert', while
    hstack/vstack/append already took such lists): values, both engines against
    central differences, Taylor order 3 and direction stacks."""
    f = _LISTS[name]
    x = np.array([0.5, -1.25, 2.0])
    np.testing.assert_array_equal(f(hd.Dual(x, 0 * x)).real, f(x))
    np.testing.assert_array_equal(f(rv.Variable(x)).data, f(x))
    check_both_engines(scalarize(f), x)
    _check_taylor3(scalarize(f), x, np.array([1.0, 0.5, -2.0]))
    stacked = hd.directional_derivatives(scalarize(f), x, np.eye(3), 2)
    np.testing.assert_allclose(stacked[:, 1], hd.gradient(scalarize(f), x), rtol=1e-13)


# --------------------------------------------------------------- 0-d boolean index

_BOOL0 = {
    "x[x0 > -100]": lambda x: x[x[0] > -100] * x[1],
    "x[x0 > 100]": lambda x: np.sum(x[x[0] > 100], axis=0) + x ** 2,
    "matrix[np.True_]": lambda x: np.reshape(x, (2, 2))[np.True_] * x[0],
    "x[True]": lambda x: x[True] * x,
}


@pytest.mark.parametrize("name", sorted(_BOOL0))
def test_zero_d_boolean_index(name):
    """A 0-d boolean index (x[cond] with a scalar cond: a new axis, or nothing): reverse's
    forward-over-reverse Hessian raised numpy's 'Calling nonzero on 0d arrays' ValueError
    in the scatter of Dual parts."""
    f = _BOOL0[name]
    check_both_engines(scalarize(f), np.array([1.0, 2.0, -0.5, 0.75]))


# --------------------------------------------------------------- empty selections

_EMPTY = {
    "x[[]]": lambda x: np.concatenate([x[[]], x * x]),
    "matrix[[], []]": lambda x: np.sum(np.reshape(x, (3, 1))[[], []]) + x ** 2,
    "tile 0": lambda x: np.concatenate([np.tile(x, 0), x ** 3]),
    "repeat 0": lambda x: np.concatenate([np.repeat(x, 0), np.sin(x)]),
}


@pytest.mark.parametrize("name", sorted(_EMPTY))
def test_empty_selections(name):
    """Selections of nothing: x[[]] (an empty list index, which np.asarray makes float)
    raised IndexError in hyperdual, Taylor and reverse's Hessian, and the scatter of an
    empty selection in nested helpers ValueError 'cannot reshape array of size 0'.
    Checked: both engines at orders 1-2, Taylor order 3, and the third order through
    nested helpers in the four engine combinations."""
    f = _EMPTY[name]
    x = np.array([0.5, -1.0, 2.0])
    v = np.array([1.0, 0.25, -0.5])
    s = scalarize(f)
    check_both_engines(s, x)
    _check_taylor3(s, x, v)
    third = hd.gradient(lambda p: hd.hvp(s, p, v) @ v, x)
    for outer, inner in ((hd, rv), (rv, hd), (rv, rv)):
        got = outer.gradient(lambda p, inner=inner: inner.hvp(s, p, v) @ v, x)
        np.testing.assert_allclose(got, third, rtol=1e-12, atol=1e-12)
