"""Elementwise leftovers in both engines: first and second derivatives against central
differences of the exact lower derivative and against the other engine, float32,
reverse's third order, mpmath where the closed forms would cancel, operators."""

from __future__ import annotations

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
from breadth_checks import check_both_engines, check_third_order, reverse_nth

import hyperdual as hd
import reverse as rv
from hyperdual import Dual, HyperDual
from reverse import Variable
from tests._tolerance import assert_close_ulps

# name -> (function, sampling interval inside the domain)
UNARY = {
    "fabs": (np.fabs, (-2.0, 2.0)),
    "deg2rad": (np.deg2rad, (-90.0, 90.0)),
    "radians": (np.radians, (-90.0, 90.0)),
    "rad2deg": (np.rad2deg, (-2.0, 2.0)),
    "degrees": (np.degrees, (-2.0, 2.0)),
    "sinc": (np.sinc, (-3.0, 3.0)),
    "gamma": (sp.gamma, (0.3, 4.0)),
    "loggamma": (sp.loggamma, (0.3, 6.0)),
    "erfinv": (sp.erfinv, (-0.95, 0.95)),
    "erfcinv": (sp.erfcinv, (0.05, 1.95)),
    "erfcx": (sp.erfcx, (-1.5, 6.0)),
    "ndtr": (sp.ndtr, (-3.0, 3.0)),
    "log_ndtr": (sp.log_ndtr, (-8.0, 3.0)),
    "ndtri": (sp.ndtri, (0.02, 0.98)),
    "i0": (sp.i0, (-4.0, 4.0)),
    "np.i0": (np.i0, (-4.0, 4.0)),
    "i1": (sp.i1, (-4.0, 4.0)),
    "i0e": (sp.i0e, (-4.0, 25.0)),
    "i1e": (sp.i1e, (-4.0, 25.0)),
    "entr": (sp.entr, (0.1, 3.0)),
    "logit": (sp.logit, (0.05, 0.95)),
}


def _points(lo, hi, n=5, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, n)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_both_engines_against_central_differences(name):
    f, (lo, hi) = UNARY[name]
    x = _points(lo, hi)
    check_both_engines(lambda v: np.sum(f(v) * np.arange(1.0, 6.0)), x)


@pytest.mark.parametrize("name", ["sinc", "gamma", "erfinv", "log_ndtr", "i1", "i0e", "logit",
                                  "erfcx"])
def test_unary_third_order_through_reverse(name):
    f, (lo, hi) = UNARY[name]
    check_third_order(f, float(_points(lo, hi, 1, seed=3)[0]))


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_float32_stays_float32(name):
    f, (lo, hi) = UNARY[name]
    x = _points(lo, hi, 3).astype(np.float32)
    y = f(Dual(x, np.ones(3, np.float32)))
    assert y.real.dtype == np.float32 and y.dual.dtype == np.float32
    want = hd.jacobian(f, x.astype(np.float64)).diagonal()
    np.testing.assert_allclose(y.dual, want, rtol=2e-5, atol=1e-6)
    v = Variable(x)
    np.sum(f(v)).backward()
    assert v.grad.data.dtype == np.float32
    np.testing.assert_allclose(v.grad.data, want, rtol=2e-5, atol=1e-6)


# --- precision where the naive closed forms cancel (mpmath at 40 digits) ------------
mp.mp.dps = 40


def _mp_derivs(fm, x):
    return float(mp.diff(fm, mp.mpf(x), 1)), float(mp.diff(fm, mp.mpf(x), 2))


PRECISE = [
    ("erfcx", sp.erfcx, lambda t: mp.erfc(t) * mp.exp(t * t), [2.5, 10.0, 1e3]),
    ("log_ndtr", sp.log_ndtr, lambda t: mp.log(mp.ncdf(t)), [-40.0, -6.0, -300.0]),
    ("sinc", np.sinc, lambda t: mp.sin(mp.pi * t) / (mp.pi * t), [1e-7, 1e-3, 1000.3]),
    ("i0e", sp.i0e, lambda t: mp.besseli(0, t) * mp.exp(-abs(t)), [30.0, 1e4, -50.0]),
    ("i1e", sp.i1e, lambda t: mp.besseli(1, t) * mp.exp(-abs(t)), [30.0, 1e4, -50.0]),
    ("i1", sp.i1, lambda t: mp.besseli(1, t), [1e-6, 0.5]),
    ("erfinv", sp.erfinv, mp.erfinv, [1 - 1e-12, -(1 - 1e-9)]),
]


@pytest.mark.parametrize("name,f,fm,pts", PRECISE, ids=[p[0] for p in PRECISE])
def test_precise_where_closed_forms_cancel(name, f, fm, pts):
    for x in pts:
        d1, d2 = _mp_derivs(fm, x)
        for eng in (hd, rv):
            got1 = eng.derivative(f, x)
            got2 = eng.second_derivative(f, x)
            assert abs(got1 - d1) <= 1e-13 * abs(d1), (eng.__name__, x, got1, d1)
            assert abs(got2 - d2) <= 1e-13 * abs(d2), (eng.__name__, x, got2, d2)


# --- binary functions ---------------------------------------------------------------
BINARY = {
    "remainder": (np.remainder, (-0.9, 0.9), (0.7, 1.9)),
    "mod": (np.mod, (-2.0, 2.0), (0.8, 2.1)),
    "fmod": (np.fmod, (-3.0, 3.0), (0.7, 1.9)),
    "floor_divide": (np.floor_divide, (-3.0, 3.0), (0.7, 1.9)),
    "heaviside": (np.heaviside, (-1.0, 1.0), (0.0, 1.0)),
    "copysign": (np.copysign, (-2.0, 2.0), (-2.0, 2.0)),
    "float_power": (np.float_power, (0.5, 2.0), (-1.5, 2.5)),
    "true_divide": (np.true_divide, (-2.0, 2.0), (0.8, 1.2)),
    "logaddexp": (np.logaddexp, (-3.0, 3.0), (-3.0, 3.0)),
    "logaddexp2": (np.logaddexp2, (-3.0, 3.0), (-3.0, 3.0)),
    "xlog1py": (sp.xlog1py, (-2.0, 2.0), (-0.5, 2.0)),
    "rel_entr": (sp.rel_entr, (0.2, 2.0), (0.2, 2.0)),
    "kl_div": (sp.kl_div, (0.2, 2.0), (0.2, 2.0)),
    "beta": (sp.beta, (1.1, 4.0), (1.1, 4.0)),
    "betaln": (sp.betaln, (1.1, 4.0), (1.1, 4.0)),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_both_engines_against_central_differences(name):
    f, la, lb = BINARY[name]
    rng = np.random.default_rng(len(name))
    a, b = rng.uniform(*la, 3), rng.uniform(*lb, 3)
    check_both_engines(lambda v: np.sum(f(v[:3], v[3:]) * np.array([1.0, 2.0, 3.0])),
                       np.concatenate([a, b]))
    # broadcasting: a (2, 3) against b (3,), each differentiated alone
    A = rng.uniform(*la, (2, 3))
    check_both_engines(lambda v: np.sum(np.sin(f(v, b))), A)
    check_both_engines(lambda v: np.sum(np.sin(f(A, v))), b)


def test_remainder_operators_both_engines():
    for x0 in (5.3, -1.25):
        assert hd.derivative(lambda x: x % 2.0, x0) == 1.0
        assert rv.derivative(lambda x: x % 2.0, x0) == 1.0
        assert hd.derivative(lambda y: 5.3 % y, 2.0) == -2.0
        assert rv.derivative(lambda y: 5.3 % y, 2.0) == -2.0
        assert hd.derivative(lambda x: x // 2.0, x0) == 0.0
        assert rv.derivative(lambda x: x // 2.0, x0) == 0.0
    q, r = divmod(Dual(5.3, 1.0), 2.0)
    assert (q.real, q.dual, r.dual) == (2.0, 0.0, 1.0)
    q, r = np.divmod(HyperDual(5.3, 1.0, 1.0, 0.0), 2.0)
    assert (q.real, r.eps1, r.eps12) == (2.0, 1.0, 0.0)
    v = Variable(5.3)
    q, r = divmod(v, 2.0)
    (q + r).backward()
    assert float(v.grad.data) == 1.0
    q2, r2 = np.divmod(7.0, Variable(2.0))
    assert float(q2.data) == 3.0 and float(r2.data) == 1.0


def test_heaviside_derivative_in_h0_only_at_zero():
    g = hd.gradient(lambda v: np.sum(np.heaviside(v[:2], v[2:])), np.array([0.0, 1.0, .3, .4]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0, 0.0])
    g2 = rv.gradient(lambda v: np.sum(np.heaviside(v[:2], v[2:])), np.array([0.0, 1.0, .3, .4]))
    np.testing.assert_array_equal(g2, g)


def test_logaddexp_extremes_keep_precision():
    # d/da logaddexp(a, b) = expit(a - b): no overflow, no 0/0, full relative precision
    for a, b in ((800.0, -800.0), (-800.0, 800.0), (-745.0, -745.0)):
        for eng in (hd, rv):
            g = eng.gradient(lambda v: np.logaddexp(v[0], v[1]), np.array([a, b]))
            assert_close_ulps(g, [sp.expit(a - b), sp.expit(b - a)])


def test_third_order_binary_through_reverse():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in (lambda x: np.logaddexp(x, 0.3), lambda x: sp.beta(x, 1.7),
                  lambda x: sp.kl_div(x, 0.8), lambda x: sp.xlog1py(0.7, x)):
            check_third_order(f, 0.9)


@pytest.mark.parametrize("outer,inner_eng", [(hd, hd), (hd, rv), (rv, rv), (rv, hd)],
                         ids=["hd-hd", "hd-rv", "rv-rv", "rv-hd"])
def test_nested_engines_elementwise(outer, inner_eng):
    # d/dx [ x * d/dy gamma(x * y) at y = 1 ] = d/dx [x * x gamma'(x)] in every combination
    def inner(x):
        return x * inner_eng.derivative(lambda y: sp.gamma(x * y), 1.0)

    x0 = 1.7
    want = (2 * x0 * sp.gamma(x0) * sp.psi(x0)
            + x0 * x0 * sp.gamma(x0) * (sp.psi(x0) ** 2 + sp.polygamma(1, x0)))
    got = outer.derivative(inner, x0)
    assert math.isclose(got, want, rel_tol=1e-12)


def test_fabs_and_radians_are_supported_by_both():
    assert "numpy.fabs" in hd.SUPPORTED_FUNCTIONS and "numpy.radians" in hd.SUPPORTED_FUNCTIONS
    d = reverse_nth(np.radians, 1.0, 2)
    assert d == [math.pi / 180, 0.0]
