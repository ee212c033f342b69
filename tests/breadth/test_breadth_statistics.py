"""Statistics and reductions in both engines: var/std (ddof, axis, keepdims), average,
cov, corrcoef, ptp, nansum, nanmean, cumsum, cumprod, median/percentile/quantile
(ties: documented convention), logsumexp/softmax/log_softmax."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.special as sp
from breadth_checks import check_both_engines, check_third_order, scalarize

import hyperdual as hd
import reverse as rv
import reverse.functions as F
from hyperdual import Dual
from reverse import Variable
from tests._tolerance import assert_close_ulps, relative_to_largest

rng = np.random.default_rng(11)
A0 = rng.standard_normal()
B = rng.standard_normal(3)
C = rng.standard_normal((2, 3))
D = rng.standard_normal((1, 3))


def _values_match(f, x, **kw):
    """The value through each engine equals numpy's on plain arrays."""
    want = f(x, **kw)
    y = f(Dual(x, np.zeros_like(x)), **kw)
    np.testing.assert_allclose(getattr(y, "real", y), want, rtol=1e-13, atol=1e-14)
    v = f(Variable(x), **kw)
    np.testing.assert_allclose(v.data, want, rtol=1e-13, atol=1e-14)


STAT_CASES = ([(x, {"axis": ax, "keepdims": kd}) for x, ax, kd in itertools.product(
    [B, C, D], [None, 0], [True, False])]
    + [(x, {"axis": ax, "keepdims": kd}) for x, ax, kd in itertools.product(
        [C, D], [1, (0, 1), -1], [True, False])])


@pytest.mark.parametrize("fname", ["var", "std"])
@pytest.mark.parametrize("k", range(len(STAT_CASES)))
def test_var_std_axis_keepdims(fname, k):
    x, kw = STAT_CASES[k]
    f = getattr(np, fname)
    for ddof in (0, 1):
        if x.size - ddof <= 0 or (kw["axis"] is not None and np.size(
                np.sum(x, axis=kw["axis"])) == x.size and ddof):
            continue
        _values_match(f, x, ddof=ddof, **kw)
        check_both_engines(scalarize(lambda v, ddof=ddof: f(v, ddof=ddof, **kw)), x)


def test_var_std_ddof2_and_scalars():
    x = rng.standard_normal((3, 4))
    for f in (np.var, np.std):
        check_both_engines(scalarize(lambda v, f=f: f(v, axis=1, ddof=2)), x)
        check_both_engines(lambda v, f=f: f(v, ddof=2), x)
    assert hd.derivative(np.var, 3.5) == 0.0 and rv.derivative(np.var, 3.5) == 0.0


def test_var_float32():
    x = rng.standard_normal(5).astype(np.float32)
    y = np.var(Dual(x, np.ones_like(x)))
    assert np.result_type(y.real) == np.float32
    v = Variable(x)
    np.std(v).backward()
    if np.lib.NumpyVersion(np.__version__) >= "2.0.0":
        # numpy 1.26 promotes 0-d float32 with Python scalars (reverse's sqrt and
        # mean backward then give float64, for np.sqrt(np.sum(v * v)) too)
        assert v.grad.data.dtype == np.float32
    np.testing.assert_allclose(v.grad.data, hd.gradient(np.std, x.astype(float)), rtol=1e-5)


def test_average_weights():
    x = rng.standard_normal((3, 4))
    w = rng.uniform(0.5, 2.0, 4)
    W = rng.uniform(0.5, 2.0, (3, 4))
    check_both_engines(lambda v: np.sum(np.sin(np.average(v, axis=1, weights=w))), x)
    check_both_engines(lambda v: np.average(v, weights=W), x)
    check_both_engines(lambda v: np.average(v), x)
    # the weights differentiated too
    check_both_engines(lambda u: np.sum(np.average(x, axis=1, weights=u) ** 2), w)
    avg, scl = np.average(Dual(x, np.ones_like(x)), axis=1, weights=w, returned=True)
    np.testing.assert_allclose(avg.real, np.average(x, axis=1, weights=w))
    np.testing.assert_allclose(scl, np.broadcast_to(w.sum(), (3,)))
    for keep in (True, False):
        _values_match(np.average, x, axis=1, weights=w, keepdims=keep)


@pytest.mark.parametrize("kw", [{}, {"rowvar": False}, {"bias": True}, {"ddof": 2},
                                {"aweights": np.array([1.0, 2, 3, 1, 2])},
                                {"fweights": np.array([1, 2, 1, 3, 1])}])
def test_cov(kw):
    x = rng.standard_normal((3, 5)) if kw.get("rowvar", True) else rng.standard_normal((5, 3))
    _values_match(np.cov, x, **kw)
    check_both_engines(scalarize(lambda v: np.cov(v, **kw)), x)


def test_cov_corrcoef_shapes_and_y():
    x, y = rng.standard_normal(6), rng.standard_normal(6)
    check_both_engines(lambda v: np.cov(v), x)  # 0-d result
    check_both_engines(scalarize(lambda v: np.cov(v, y)), x)
    check_both_engines(scalarize(lambda v: np.corrcoef(v, y)), x)
    m = rng.standard_normal((3, 6))
    _values_match(np.corrcoef, m)
    check_both_engines(scalarize(np.corrcoef), m)
    # the diagonal is 1 identically: its derivative is 0 (no clipping at 1)
    J = hd.jacobian(np.corrcoef, m)
    np.testing.assert_array_equal(np.einsum("iijk->ijk", J), 0.0)


_CORR_CONSTANT = [
    # (name, f of the flat data, data, entries of the flat result that are constant)
    ("diagonal", lambda v: np.corrcoef(v.reshape(3, 5)), (15,), np.eye(3, dtype=bool)),
    ("diagonal rowvar=False", lambda v: np.corrcoef(v.reshape(5, 3), rowvar=False), (15,),
     np.eye(3, dtype=bool)),
    ("with y", lambda v: np.corrcoef(v[:5], v[5:]), (10,), np.eye(2, dtype=bool)),
    ("two observations", lambda v: np.corrcoef(v.reshape(3, 2)), (6,),
     np.ones((3, 3), dtype=bool)),
    ("two observations rowvar=False", lambda v: np.corrcoef(v.reshape(2, 3), rowvar=False),
     (6,), np.ones((3, 3), dtype=bool)),
    ("two observations with y", lambda v: np.corrcoef(v[:2], v[2:]), (4,),
     np.ones((2, 2), dtype=bool)),
    ("one variable", lambda v: np.corrcoef(v), (4,), np.ones((), dtype=bool)),
]


@pytest.mark.parametrize("name,f,shape,const", _CORR_CONSTANT,
                         ids=[c[0] for c in _CORR_CONSTANT])
def test_corrcoef_constant_entries_have_exact_zero_derivatives(name, f, shape, const):
    # a variable with itself is 1, and with two observations every centred row is a
    # multiple of (1, -1), so every entry is +-1: no derivative of any order. As
    # quotients c_ij / (s_i s_j) the derivatives were rounding, 3e-16 (not 0); the
    # varying entries keep theirs (against central differences)
    x = rng.standard_normal(shape)
    want = f(x)  # numpy's value (clipped to [-1, 1]) at plain data
    flat_const = np.broadcast_to(const, np.shape(want)).ravel()
    for m in (hd, rv):
        np.testing.assert_array_equal(m.jacobian(lambda v: np.ravel(f(v)), x)[flat_const], 0.0)
        for k in np.flatnonzero(flat_const):
            np.testing.assert_array_equal(m.hessian(lambda v, k=k: np.ravel(f(v))[k], x), 0.0)
        assert hd.nth_derivative(lambda t: np.ravel(f(x + t))[np.flatnonzero(flat_const)[0]],
                                 0.0, 3) == 0.0
    if not flat_const.all():
        k = np.flatnonzero(~flat_const)[0]
        g = hd.gradient(lambda v: np.ravel(f(v))[k], x)
        h = 1e-6
        fd = [(np.ravel(f(x + h * e))[k] - np.ravel(f(x - h * e))[k]) / (2 * h)
              for e in np.eye(x.size)]
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
        assert np.any(g != 0)


def test_corrcoef_values_are_numpys_at_traced_data():
    x = rng.standard_normal((3, 2))
    for m in (hd, rv):
        got = m.value_and_gradient(lambda v: np.corrcoef(v.reshape(3, 2))[0, 1], x.ravel())[0]
        assert got == np.corrcoef(x)[0, 1] and abs(got) == 1.0
    # a constant variable: numpy's nan (0/0), and no derivative (nan) along its entries
    z = np.array([[1.0, 1.0], [2.0, 3.0]])
    for m in (hd, rv):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            v, g = m.value_and_gradient(lambda v: np.corrcoef(v.reshape(2, 2))[0, 0],
                                        z.ravel())
        assert np.isnan(v) and np.isnan(g[:2]).all(), (m, g)


def test_ptp_nansum_nanmean():
    x = rng.standard_normal((3, 4))
    for kw in ({}, {"axis": 0}, {"axis": 1, "keepdims": True}):
        _values_match(np.ptp, x, **kw)
        check_both_engines(scalarize(lambda v, kw=kw: np.ptp(v, **kw)), x, hessian=False)
    xn = x.copy()
    xn[0, 1] = xn[2, 3] = np.nan
    for f in (np.nansum, np.nanmean):
        for kw in ({}, {"axis": 0}, {"axis": 1, "keepdims": True}):
            _values_match(f, xn, **kw)
            g1 = hd.gradient(lambda v, f=f, kw=kw: np.sum(np.sin(f(v, **kw))), xn)
            g2 = rv.gradient(lambda v, f=f, kw=kw: np.sum(np.sin(f(v, **kw))), xn)
            assert_close_ulps(g1, g2, ulps=32, cond=relative_to_largest(g2))
            assert g1[0, 1] == 0.0 and g1[2, 3] == 0.0
            clean = np.where(np.isnan(xn), 0.0, xn)
            if f is np.nansum:
                g0 = hd.gradient(lambda v, kw=kw: np.sum(np.sin(np.sum(v, **kw))), clean)
                g0 = np.where(np.isnan(xn), 0.0, g0)
                assert_close_ulps(g1, g0, ulps=32, cond=relative_to_largest(g0))


@pytest.mark.parametrize("f", [np.cumsum, np.cumprod])
def test_cumsum_cumprod(f):
    x = rng.uniform(0.5, 1.5, (3, 4)) * np.where(rng.random((3, 4)) > 0.5, 1, -1)
    for axis in (None, 0, 1, -1):
        _values_match(f, x, axis=axis)
        check_both_engines(scalarize(lambda v, axis=axis: f(v, axis=axis)), x)
    check_third_order(lambda t: np.sum(f(np.array([1.0, 2.0, 3.0]) * t) ** 2), 0.7)


def test_cumprod_with_zero_is_exact():
    x = np.array([2.0, 0.0, 3.0, 4.0])
    for eng in (hd, rv):
        J = eng.jacobian(np.cumprod, x)
        want = np.array([[1, 0, 0, 0], [0, 2, 0, 0], [0, 6, 0, 0], [0, 24, 0, 0]], float)
        np.testing.assert_array_equal(J, want)


QUANT = [("median", lambda v, **k: np.median(v, **k), {}),
         ("percentile30", lambda v, **k: np.percentile(v, 30, **k), {}),
         ("quantile-arr", lambda v, **k: np.quantile(v, [0.1, 0.5, 0.95], **k), {}),
         ("lower", lambda v, **k: np.quantile(v, 0.4, method="lower", **k), {}),
         ("higher", lambda v, **k: np.quantile(v, 0.4, method="higher", **k), {}),
         ("nearest", lambda v, **k: np.quantile(v, 0.4, method="nearest", **k), {}),
         ("midpoint", lambda v, **k: np.quantile(v, 0.4, method="midpoint", **k), {})]


@pytest.mark.parametrize("name,f,_", QUANT, ids=[q[0] for q in QUANT])
def test_quantiles(name, f, _):
    x = rng.standard_normal((4, 5))
    for kw in ({}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": (0, 1)}):
        _values_match(f, x, **kw)
        check_both_engines(scalarize(lambda v, kw=kw: f(v, **kw)), x)


def test_median_at_ties_shares_the_derivative():
    # convention: tied order statistics share the derivative equally (as max/min do)
    x = np.array([3.0, 1.0, 3.0, 0.0, 3.0])
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.gradient(np.median, x), [1 / 3, 0, 1 / 3, 0, 1 / 3])
        np.testing.assert_allclose(eng.gradient(lambda v: np.percentile(v, 10), x),
                                   [0, 0.4, 0, 0.6, 0])
    # symmetric: the one-sided derivatives' average along the tie's direction
    y = np.array([1.0, 2.0, 2.0, 5.0])
    g = hd.gradient(np.median, y)
    np.testing.assert_allclose(g, [0, 0.5, 0.5, 0])
    assert hd.second_derivative(lambda t: np.median(np.array([1.0, 4.0]) * t), 1.0) == 0.0


def test_quantile_q_must_be_constant():
    with pytest.raises(TypeError, match="constant"):
        np.quantile(np.arange(3.0), Dual(0.5, 1.0))


def test_logsumexp_family():
    x = rng.standard_normal((3, 4))
    b = rng.uniform(0.5, 2.0, (3, 4))
    for mod in (hd, F):
        lse = mod.logsumexp
        for kw in ({}, {"axis": 1}, {"axis": 0, "keepdims": True}, {"b": b},
                   {"axis": 1, "b": b}):
            want = sp.logsumexp(x, **kw)  # (errors of exp's arguments: ulps of max|x|)
            assert_close_ulps(lse(x, **kw), want, ulps=16,
                              cond=(1 + np.max(np.abs(x))) / np.abs(want))
            check_both_engines(scalarize(lambda v, kw=kw, lse=lse: lse(v, **kw)), x)
        # b differentiated, and the sign of a negative sum
        check_both_engines(lambda u, lse=lse: lse(x, axis=None, b=u), b, hessian=False)
        bs = b * np.where(np.arange(4) % 2, -1.0, 1.0)
        r, s = lse(x, axis=1, b=bs, return_sign=True)
        r0, s0 = sp.logsumexp(x, axis=1, b=bs, return_sign=True)
        np.testing.assert_allclose(getattr(r, "data", r), r0, rtol=1e-13)
        np.testing.assert_array_equal(s, s0)
        check_both_engines(lambda v, lse=lse, bs=bs: np.sum(lse(v, axis=1, b=bs,
                                                               return_sign=True)[0]), x)
    big = np.array([1000.0, 1000.0, -1000.0])
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.gradient(hd.logsumexp, big), [0.5, 0.5, 0.0])
    assert_close_ulps(hd.softmax(x, axis=1), sp.softmax(x, axis=1), ulps=16,
                      cond=1 + 2 * np.max(np.abs(x)))
    np.testing.assert_allclose(hd.log_softmax(x), sp.log_softmax(x), rtol=1e-13, atol=1e-14)
    check_both_engines(scalarize(lambda v: hd.softmax(v, axis=0)), x)
    check_both_engines(scalarize(lambda v: hd.log_softmax(v, axis=1)), x)


def test_scipy_logsumexp_refuses_with_the_alternative():
    for val in (Dual(np.ones(2), 1.0), Variable(np.ones(2))):
        with pytest.raises(TypeError, match="logsumexp"):
            sp.logsumexp(val)


def test_logaddexp_reduce_alternative_and_nested():
    # logsumexp inside a reverse gradient inside a hyperdual derivative
    x0 = np.array([0.3, -0.2, 1.1])

    def inner(t):
        return np.sum(rv.gradient(lambda v: hd.logsumexp(v * t), x0))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = hd.derivative(inner, 1.3)
    h = 1e-6
    num = (inner(1.3 + h) - inner(1.3 - h)) / (2 * h)
    np.testing.assert_allclose(got, num, rtol=1e-6)


@pytest.mark.parametrize("shape,kw", [((5, 5), {"n": 1, "axis": 0}), ((5, 5), {"n": 2, "axis": 1}),
                                      ((3, 3, 3), {"n": 2, "axis": 1}),
                                      ((4,), {"prepend": 1.0, "append": [2.0, 3.0]}),
                                      ((3, 4), {"axis": 0, "prepend": np.ones((1, 4))})])
def test_diff_both_engines(shape, kw):
    x = rng.standard_normal(shape)
    _values_match(np.diff, x, **kw)
    check_both_engines(scalarize(lambda v: np.diff(v, **kw)), x)


@pytest.mark.parametrize("shape,axis", [((1,), 0), ((1, 1), 0), ((1, 1), 1), ((3, 1), 1)])
def test_diff_empty_results(shape, axis):
    x = rng.standard_normal(shape)
    for eng in (hd, rv):
        J = eng.jacobian(lambda v: np.diff(v, axis=axis), x)
        assert np.shape(J) == np.diff(x, axis=axis).shape + x.shape


MASK = np.array([[True, False, True], [False, True, True]])
X23 = np.array([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])


@pytest.mark.parametrize("f,kw", [
    (np.sum, {"where": MASK}), (np.sum, {"initial": 10.0}),
    (np.sum, {"axis": 1, "where": MASK, "initial": 1.0, "keepdims": True}),
    (np.prod, {"where": MASK, "initial": 2.0}), (np.prod, {"axis": 0, "where": MASK}),
    (np.mean, {"where": MASK}), (np.mean, {"axis": 0, "where": MASK}),
    (np.max, {"where": MASK, "initial": -5.0}), (np.min, {"axis": 1, "where": MASK,
                                                          "initial": 10.0}),
    (np.max, {"initial": 7.0}), (np.amax, {"axis": 0, "initial": 4.5}),
], ids=lambda v: getattr(v, "__name__", None) or "-".join(sorted(v)))
def test_reductions_where_and_initial(f, kw):
    # these were silently ignored by hyperdual (np.sum(d, where=m) summed everything)
    _values_match(f, X23, **kw)
    check_both_engines(scalarize(lambda v: f(v, **kw)), X23)


def test_max_where_without_initial_is_numpys_error():
    for v in (Dual(X23, 0.0), Variable(X23)):
        with pytest.raises(ValueError, match="initial"):
            np.max(v, where=MASK)


_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy 1.x: trapz only


def test_trapezoid_closed_form_both_engines():
    """np.trapezoid (np.trapz on numpy 1.x) was unsupported in both engines.  It is
    linear in y with weights w_0 = d_0 / 2, w_i = (d_{i-1} + d_i) / 2, w_n = d_{n-1} / 2
    (d the spacings); in the sample points x its gradient is
    [-(y_0 + y_1) / 2, (y_0 - y_2) / 2, ..., (y_{n-1} + y_n) / 2]."""
    y = np.array([1.0, 2.0, 4.0, 3.0])
    x = np.array([0.0, 0.5, 2.0, 2.2])
    d = np.diff(x)
    w = np.concatenate([[d[0]], d[:-1] + d[1:], [d[-1]]]) / 2
    gx = np.concatenate([[-(y[0] + y[1])], y[:-2] - y[2:], [y[-2] + y[-1]]]) / 2
    for engine in (hd, rv):
        np.testing.assert_allclose(engine.gradient(lambda v: _trapezoid(v * v, x), y),
                                   2 * y * w, rtol=4 * np.finfo(float).eps)
        np.testing.assert_allclose(engine.gradient(lambda v: _trapezoid(y, v), x), gx,
                                   rtol=4 * np.finfo(float).eps)
        np.testing.assert_allclose(engine.hessian(lambda v: _trapezoid(v * v, dx=0.5), y),
                                   np.diag([0.5, 1.0, 1.0, 0.5]), rtol=0, atol=0)
    Y = rng.standard_normal((2, 3))
    for axis in (0, 1, -1):
        f = scalarize(lambda v, axis=axis: _trapezoid(v ** 3, dx=0.3, axis=axis))
        check_both_engines(f, Y)
        _values_match(lambda v, axis=axis: _trapezoid(v, x[:Y.shape[axis]], axis=axis), Y)
    np.testing.assert_allclose(hd.directional_derivatives(lambda v: _trapezoid(v * v, x), y,
                                                          np.ones(4), 3),
                               [_trapezoid(y * y, x), 2 * w @ y, 2 * w.sum(), 0.0],
                               rtol=4 * np.finfo(float).eps)


def test_round_is_numpys_with_derivative_zero():
    """np.round/np.around and Python's round() were unsupported ('round' is not
    supported; type Dual doesn't define __round__): values are numpy's, the
    derivative is 0 (piecewise constant, as rint)."""
    x = np.array([2.345, -1.25, 1234.5678, 0.5, -0.05])
    for d in (0, 1, 2, -1, -2):
        for fn in (np.round, np.around):
            _values_match(lambda v, fn=fn, d=d: fn(v, d) * v, x)
            for engine in (hd, rv):
                np.testing.assert_array_equal(
                    engine.jvp(lambda v, fn=fn, d=d: fn(v, decimals=d) * v, x, np.ones(5))[1],
                    np.round(x, d))
    for engine in (hd, rv):
        assert engine.derivative(lambda t: round(t) * t, 2.34) == 2.0
        assert engine.derivative(lambda t: round(t, 1) * t, 2.34) == 2.3
        assert engine.hessian(lambda t: round(t) * t * t, 2.34) == 4.0
    # (Taylor numbers divide by a constant as a product with its reciprocal: 1 ulp)
    np.testing.assert_allclose(hd.derivatives(lambda t: round(t, 1) * t, 2.34, 3),
                               [2.3 * 2.34, 2.3, 0.0, 0.0], rtol=4 * np.finfo(float).eps)
