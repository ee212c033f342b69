"""Functions added after running autograd's own test suite through both engines
(scripts/autograd_suite.py): scipy.special functions with a constant order or
shape parameter (Bessel functions, rgamma, the incomplete gamma and beta
functions), fmax/fmin, nan_to_num, angle and gammasgn of real input, np.cross,
np.fft.fftshift/ifftshift.

Truth: central differences of f and of hyperdual's exact gradient, the other
engine, mpmath's derivatives (at 30 digits) for the special functions,
reverse's third order against central differences of the exact second.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
from breadth_checks import check_both_engines, check_third_order

import hyperdual as hd
import reverse as rv
from hyperdual import Dual, HyperDual
from reverse import Variable
from tests._tolerance import assert_close_ulps

# name -> (function of x, mpmath function of x, sampling interval)
SPECIAL = {
    "jv": (lambda x: sp.jv(1.5, x), lambda t: mp.besselj(1.5, t), (0.5, 6.0)),
    "jn": (lambda x: sp.jn(2, x), lambda t: mp.besselj(2, t), (0.5, 6.0)),
    "yv": (lambda x: sp.yv(0.7, x), lambda t: mp.bessely(0.7, t), (0.5, 6.0)),
    "yn": (lambda x: sp.yn(2, x), lambda t: mp.bessely(2, t), (0.5, 6.0)),
    "iv": (lambda x: sp.iv(1.3, x), lambda t: mp.besseli(1.3, t), (0.2, 3.0)),
    "ive": (lambda x: sp.ive(2.0, x), lambda t: mp.besseli(2, t) * mp.exp(-abs(t)),
            (0.3, 8.0)),
    "kv": (lambda x: sp.kv(0.4, x), lambda t: mp.besselk(0.4, t), (0.3, 5.0)),
    "kve": (lambda x: sp.kve(1.0, x), lambda t: mp.besselk(1, t) * mp.exp(t), (0.3, 5.0)),
    "j0": (sp.j0, lambda t: mp.besselj(0, t), (-6.0, 6.0)),
    "j1": (sp.j1, lambda t: mp.besselj(1, t), (-6.0, 6.0)),
    "y0": (sp.y0, lambda t: mp.bessely(0, t), (0.5, 6.0)),
    "y1": (sp.y1, lambda t: mp.bessely(1, t), (0.5, 6.0)),
    "k0": (sp.k0, lambda t: mp.besselk(0, t), (0.3, 5.0)),
    "k1": (sp.k1, lambda t: mp.besselk(1, t), (0.3, 5.0)),
    "rgamma": (sp.rgamma, mp.rgamma, (0.3, 4.0)),
    "gammainc": (lambda x: sp.gammainc(2.5, x), lambda t: mp.gammainc(2.5, 0, t, regularized=True),
                 (0.2, 5.0)),
    "gammaincc": (lambda x: sp.gammaincc(1.7, x),
                  lambda t: mp.gammainc(1.7, t, mp.inf, regularized=True), (0.2, 5.0)),
    "betainc": (lambda x: sp.betainc(2.0, 3.5, x),
                lambda t: mp.betainc(2.0, 3.5, 0, t, regularized=True), (0.05, 0.95)),
}


def _points(lo, hi, n=4, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, n)


@pytest.mark.parametrize("name", list(SPECIAL))
def test_special_both_engines_against_central_differences(name):
    f, _, (lo, hi) = SPECIAL[name]
    check_both_engines(lambda v: np.sum(f(v) * np.arange(1.0, 5.0)), _points(lo, hi))


@pytest.mark.parametrize("name", list(SPECIAL))
def test_special_against_mpmath(name):
    f, fm, (lo, hi) = SPECIAL[name]
    with mp.workdps(30):
        for x in _points(lo, hi, 2, seed=5):
            d1 = float(mp.diff(fm, mp.mpf(x), 1))
            d2 = float(mp.diff(fm, mp.mpf(x), 2))
            y = f(HyperDual(x, 1.0, 1.0, 0.0))
            scale = max(abs(d1), abs(d2), 1e-3)
            assert abs(y.eps1 - d1) <= 1e-12 * scale, (x, y.eps1, d1)
            assert abs(y.eps12 - d2) <= 1e-11 * scale, (x, y.eps12, d2)
            assert abs(rv.second_derivative(f, x) - d2) <= 1e-11 * scale


@pytest.mark.parametrize("name", ["jv", "ive", "y1", "gammainc", "betainc", "rgamma"])
def test_special_third_order_through_reverse(name):
    f, _, (lo, hi) = SPECIAL[name]
    check_third_order(f, float(_points(lo, hi, 1, seed=3)[0]))


def test_special_order_broadcasts_and_is_a_constant():
    x = np.array([1.0, 2.0, 3.0])
    v = np.array([[0.5], [1.5]])
    d = sp.jv(v, Dual(x, np.ones(3)))
    np.testing.assert_allclose(d.dual, 0.5 * (sp.jv(v - 1, x) - sp.jv(v + 1, x)), rtol=1e-13)
    with pytest.raises(TypeError, match="hyperdual.*jv.*parameters"):
        sp.jv(Dual(1.0, 1.0), 2.0)
    with pytest.raises(TypeError, match="reverse.*kv.*parameters"):
        sp.kv(Variable(1.0), Variable(0.3))


def test_gammasgn_is_piecewise_constant():
    x = np.array([-1.5, -0.5, 0.5])
    assert not isinstance(sp.gammasgn(Dual(x, 1.0)), Dual)
    np.testing.assert_array_equal(sp.gammasgn(Dual(x, 1.0)), sp.gammasgn(x))
    np.testing.assert_array_equal(rv.gradient(lambda t: np.sum(sp.gammasgn(t) * t), x),
                                  sp.gammasgn(x))


# --- fmax / fmin / nan_to_num / angle ------------------------------------------
@pytest.mark.parametrize("fn,base", [(np.fmax, np.maximum), (np.fmin, np.minimum)])
def test_fmax_fmin_follow_maximum_and_skip_nan(fn, base):
    a = np.array([1.0, -2.0, 0.5, 3.0])
    b = np.array([0.2, 4.0, 2.5, -1.0])
    check_both_engines(lambda x: np.sum(fn(x, b) * x), a)
    check_both_engines(lambda x: np.sum(fn(a, x ** 2)), b)
    # a NaN operand is skipped: the derivative goes to the other one
    bn = np.array([np.nan, 4.0, np.nan, -1.0])
    g = hd.gradient(lambda x: np.sum(fn(x, bn)), a)
    want = np.where(np.isnan(bn), 1.0, hd.gradient(lambda x: np.sum(base(x, bn)), a))
    np.testing.assert_array_equal(g, want)
    np.testing.assert_array_equal(rv.gradient(lambda x: np.sum(fn(bn, x)), a),
                                  np.where(np.isnan(bn) | (base(bn, a) == a), 1.0, 0.0))


def test_nan_to_num_passes_finite_entries():
    x = np.array([1.0, 2.0, 3.0])
    mask = np.array([1.0, 0.0, 1.0])

    def f(t):  # log(0) = -inf at the middle entry
        return np.sum(np.nan_to_num(np.log(t * mask)) * t)

    g_hd, g_rv = hd.gradient(f, x), rv.gradient(f, x)
    want = np.array([np.log(1.0) + 1.0, -np.finfo(float).max, np.log(3.0) + 1.0])
    assert_close_ulps(g_hd, want)
    assert_close_ulps(g_rv, want)


def test_angle_of_real_input_is_constant():
    x = np.array([-2.0, 0.5, 3.0])
    for deg in (False, True):
        np.testing.assert_array_equal(np.angle(Dual(x, 1.0), deg=deg), np.angle(x, deg=deg))
        assert rv.gradient(lambda t: np.sum(np.angle(t) * t), x).tolist() == \
            np.angle(x).tolist()


# --- cross, fftshift -----------------------------------------------------------
CROSS = [
    ((3,), (3,), {}), ((4, 3), (3,), {}), ((2,), (3,), {}), ((3,), (2,), {}),
    ((5, 2), (5, 2), {}), ((3, 4), (4, 3), {"axisa": 0}), ((2, 3, 2), (2, 3, 2), {"axis": 1}),
    ((4, 3), (4, 3), {"axisc": 0}),
]


@pytest.mark.parametrize("sa,sb,kw", CROSS)
def test_cross_both_engines(sa, sb, kw):
    rng = np.random.default_rng(len(sa) + len(sb))
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    try:
        c = np.cross(a, b, **kw)
    except ValueError:  # numpy 2.5 removed 2-component vectors (deprecated in 2.0)
        pytest.skip("this numpy refuses 2-component vectors in np.cross")
    w = rng.standard_normal(c.shape)

    check_both_engines(lambda x: np.sum(np.cross(x, b, **kw) ** 2 * w), a)
    if sa == sb:  # both operands differentiated
        check_both_engines(lambda x: np.sum(np.cross(x, np.sin(x), **kw) * w), a)
    check_both_engines(lambda x: np.sum(np.cross(a, x, **kw) ** 3 * w), b)
    d = np.cross(Dual(a, np.ones(sa)), b, **kw)
    # our cross (an einsum) and numpy's cancel the same products: ulps of their size
    scale = np.max(np.abs(a)) * np.max(np.abs(b))
    np.testing.assert_allclose(d.real, c, rtol=0, atol=8 * np.finfo(float).eps * scale)


@pytest.mark.parametrize("fn,inverse", [(np.fft.fftshift, np.fft.ifftshift),
                                        (np.fft.ifftshift, np.fft.fftshift)])
@pytest.mark.parametrize("axes", [None, 0, (1,)])
def test_fftshift_is_the_roll(fn, inverse, axes):
    x = np.arange(15.0).reshape(3, 5)
    w = np.random.default_rng(0).standard_normal((3, 5))
    g = check_both_engines(lambda t: np.sum(fn(t, axes=axes) ** 2 * w), x)
    assert_close_ulps(g, 2 * x * inverse(w, axes=axes), ulps=8)  # (products, cond 1)
    y = fn(Dual(x, x + 1.0), axes=axes)
    np.testing.assert_array_equal(y.real, fn(x, axes=axes))
    np.testing.assert_array_equal(y.dual, fn(x + 1.0, axes=axes))


# --- every mode and nesting agree (forward-over-reverse HVP over Dual data, double
# backprop, a helper of one engine inside the other's) ------------------------------
_XN = np.array([0.7, 1.3, 2.1])
NESTED = {
    "jv": lambda t: np.sum(sp.jv(1.5, t) ** 2),
    "gammainc": lambda t: np.sum(sp.gammainc(2.0, t) * t),
    "cross": lambda t: np.sum(np.cross(t, np.sin(t)) ** 2),
    "fmax": lambda t: np.sum(np.fmax(t, 1.0) ** 3),
    "eigvals": lambda t: np.sum(np.linalg.eigvals(np.outer(t, t) + np.diag([1.0, 3.0, 6.0])) ** 2),
    "fftshift": lambda t: np.sum(np.fft.fftshift(t) ** 2 * _XN),
    "nan_to_num": lambda t: np.sum(np.nan_to_num(np.log(t)) ** 2),
}


@pytest.mark.parametrize("name", list(NESTED))
def test_modes_and_nesting_agree(name):
    f = NESTED[name]
    v = np.array([0.3, -1.0, 0.5])
    H = hd.hessian(f, _XN)
    scale = max(1.0, float(np.max(np.abs(H))))
    # the Hessian itself against central differences of the exact gradient
    h = 1e-6
    num = np.stack([(hd.gradient(f, _XN + h * e) - hd.gradient(f, _XN - h * e)) / (2 * h)
                    for e in np.eye(3)], axis=1)
    np.testing.assert_allclose(H, num, rtol=0, atol=1e-6 * scale)
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        np.testing.assert_allclose(rv.hvp(f, _XN, v, mode=mode), H @ v, rtol=0,
                                   atol=1e-12 * scale)
    np.testing.assert_allclose(hd.jacobian(lambda t: rv.gradient(f, t), _XN), H, rtol=0,
                               atol=1e-12 * scale)
    np.testing.assert_allclose(rv.jacobian(lambda t: hd.gradient(f, t), _XN), H, rtol=0,
                               atol=1e-12 * scale)
