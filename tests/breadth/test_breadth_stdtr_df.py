"""Student's t cdf ``scipy.special.stdtr(df, t)`` differentiated in its degrees of
freedom (it raised TypeError; scipy.stats' t cdf in df, for a fitted df, needs it).

Truth: mpmath's regularized incomplete beta at 40 digits, of the side that is small
(mpmath's own 1 - I would round the derivative away), derivatives by ``mp.diff``.
The derivative is O(1/df²) where the incomplete beta's own partials are O(1/df):
near t = 0 it is formed along the path (hyperdual.rules.incomplete_beta), within 50
ulps where t² <= df/2 and |t| <= 2; in the tails from df = 30 on as the integral of
the density's derivative over the tail (exp-sinh quadrature, a few ulps times the
condition number ~t² of the density), below df = 30 through betainc's partials.  The
tails beyond df = 300 used to raise ValueError (betainc's partials lose df² ulps).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
from test_breadth_special_more import hessian_paths

import hyperdual as hd
import reverse as rv
from hyperdual.rules.incomplete_beta import half_step_digamma_gap
from tests._tolerance import assert_close_ulps

_EPS = float(np.finfo(float).eps)


def _sides(nu, t):
    """The tail F = I_(nu/w)(nu/2, 1/2)/2 and G = I_(t²/w)(1/2, nu/2)/2 as functions of
    nu: stdtr = F (t < 0), 1 - F (t > 0), or 1/2 + sign(t) G."""
    t = mp.mpf(t)
    half = mp.mpf(1) / 2

    def f(n):
        return mp.betainc(n / 2, half, 0, n / (n + t * t), regularized=True) / 2

    def g(n):
        return mp.betainc(half, n / 2, 0, t * t / (n + t * t), regularized=True) / 2
    return f, g


def _d_df(nu, t, order=1):
    f, g = _sides(nu, t)
    s = 1 if t > 0 else -1
    n = mp.mpf(nu)
    if f(n) < g(n):
        return -s * float(mp.diff(f, n, order))
    return s * float(mp.diff(g, n, order))


GRID = [(nu, t) for nu in (0.5, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 1e5)
        for t in (-1e3, -30.0, -3.0, -2.5, -0.5, 1e-3, 0.5, 1.0, 2.0, 2.6, 5.0, 50.0)]
#: the tails of large df (refused before): the integral's path
TAIL_GRID = [(nu, t) for nu in (30.0, 60.0, 300.0, 300.5, 1e3, 1e4, 1e6, 1e8)
             for t in (-20.0, -7.5, -3.0, -2.5, -2.01, 2.3, 2.51, 4.0, 10.0)]


def _value_error(nu, t):
    """The relative error of scipy's betainc at the side the rule uses (scipy 1.11's is
    400 ulps off at some points; from 1.12, Boost's, a few): the tail's partials cancel
    O(1/df) terms (by up to ~1000 at df = 300), which multiplies it."""
    f, g = _sides(nu, t)
    w = nu + t * t
    if t * t <= nu / 2 and abs(t) <= 2:  # G's path
        want, got = g(mp.mpf(nu)), sp.betainc(0.5, nu / 2, t * t / w) / 2
    else:
        want, got = f(mp.mpf(nu)), sp.betainc(nu / 2, 0.5, nu / w) / 2
    return float(abs((got - want) / want)) if float(want) != 0 else 0.0


@pytest.mark.parametrize("nu, t", GRID)
def test_derivative_in_df_against_mpmath(nu, t):
    want = _d_df(nu, t)
    if want == 0.0:  # (below the smallest float: 0 as the derivative's underflow)
        for eng in (hd, rv):
            assert eng.derivative(lambda n: sp.stdtr(n, t), nu) == 0.0
        return
    if nu >= 30 and abs(t) > 2:  # the integral
        # (the density's exponent -(nu + 1)/2 log1p(t²/nu) has condition ~t²)
        tol = 16 * _EPS * max(1.0, t * t)
    else:
        tol = 700 * _EPS + 1000 * _value_error(nu, t)
    for eng in (hd, rv):
        got = eng.derivative(lambda n: sp.stdtr(n, t), nu)
        assert abs(got - want) <= tol * abs(want), (eng.__name__, got, want)


@pytest.mark.parametrize("nu, t", TAIL_GRID)
def test_tail_derivative_in_df_to_second_order(nu, t):
    """Where the tail's closed forms cancel (large df): the integral's first and second
    derivatives within a few ulps times t² of mpmath (its betainc at 50 digits)."""
    want, want2 = _d_df(nu, t), _d_df(nu, t, 2)
    for eng in (hd, rv):
        got = eng.derivative(lambda n: sp.stdtr(n, t), nu)
        assert abs(got - want) <= 16 * _EPS * max(1.0, t * t) * abs(want), \
            (eng.__name__, got, want)
        got2 = eng.second_derivative(lambda n: sp.stdtr(n, t), nu)
        assert abs(got2 - want2) <= 64 * _EPS * max(1.0, t * t) * abs(want2), \
            (eng.__name__, got2, want2)


@pytest.mark.parametrize("p", [(3.0, 0.7), (2.5, -2.0), (30.0, 1.5), (300.0, 4.0),
                               (1e3, -3.0)])
def test_hessian_in_df_and_t_in_every_nesting(p):
    nu0, t0 = p
    s = 1 if t0 > 0 else -1

    def truth(n, t):
        f, g = _sides(n, t)
        if t0 * t0 <= nu0 / 2:
            return mp.mpf(1) / 2 + s * g(n)
        return f(n) if s < 0 else 1 - f(n)

    def order(i, j):
        return (int(i == 0) + int(j == 0), int(i == 1) + int(j == 1))
    want = np.array([[float(mp.diff(truth, (mp.mpf(nu0), mp.mpf(t0)), order(i, j)))
                      for j in range(2)] for i in range(2)])
    fv = lambda v: sp.stdtr(v[0], v[1])  # noqa: E731
    x = np.array(p)
    for got in hessian_paths(fv, x):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11 * np.abs(want).max(),
                                   err_msg=f"stdtr at {p}")


def test_second_derivative_in_df():
    for nu, t in ((3.0, 0.7), (10.0, -4.0), (1e3, 1.2)):
        want = _d_df(nu, t, 2)
        for eng in (hd, rv):
            got = eng.second_derivative(lambda n, t=t: sp.stdtr(n, t), nu)
            assert got == pytest.approx(want, rel=1e-10), (eng.__name__, nu, t)


def test_edges_arrays_and_the_refused_region():
    ts = np.array([-3.0, 0.4, 2.2])
    nus, tt = np.array([500.0, 500.0, 5.0, 1e4]), np.array([3.0, 0.4, -3.0, -2.6])
    for eng in (hd, rv):
        assert eng.derivative(lambda n: sp.stdtr(n, 0.0), 3.0) == 0.0
        assert eng.derivative(lambda n: sp.stdtr(n, np.inf), 3.0) == 0.0
        assert np.isnan(eng.derivative(lambda n: sp.stdtr(n, 1.0), -1.0))
        got = eng.gradient(lambda n: np.sum(sp.stdtr(n, ts)), np.array([4.0, 4.0, 4.0]))
        np.testing.assert_allclose(got, [_d_df(4.0, v) for v in ts], rtol=1e-13)
        # a tail beyond df = 300 (refused before) in an array with the other paths
        got = eng.gradient(lambda n: np.sum(sp.stdtr(n, tt)), nus)
        np.testing.assert_allclose(got, [_d_df(a, b) for a, b in zip(nus, tt)],
                                   rtol=1e-13)
        # scipy.stats' t cdf in df (its sf is stdtr at -t)
        assert eng.derivative(lambda n, eng=eng: eng.stats.t.cdf(0.7, n), 3.0) == \
            pytest.approx(_d_df(3.0, 0.7), rel=1e-14)
        assert eng.derivative(lambda n, eng=eng: eng.stats.t.sf(0.7, n), 3.0) == \
            pytest.approx(-_d_df(3.0, 0.7), rel=1e-14)


def test_nested_in_the_four_engine_pairs():
    # d2/(d df dt) stdtr at (5, 1.3), each partial taken by a different helper
    # (stdtr = 1/2 + G for t > 0, G = I_(t²/(n + t²))(1/2, n/2) / 2)
    want = float(mp.diff(lambda n, t: mp.betainc(
        mp.mpf(1) / 2, n / 2, 0, t * t / (n + t * t), regularized=True) / 2,
        (mp.mpf(5), mp.mpf(1.3)), (1, 1)))
    for outer in (hd, rv):
        for inner in (hd, rv):
            got = outer.derivative(lambda n, inner=inner: inner.derivative(
                lambda t: sp.stdtr(n, t), 1.3), 5.0)
            assert got == pytest.approx(want, rel=1e-12), (outer.__name__, inner.__name__)


@pytest.mark.parametrize("b", [0.1, 1.5, 7.0, 19.9, 20.0, 300.0, 5e4, 1e8])
def test_half_step_digamma_gap(b):
    want = mp.digamma(mp.mpf(b) + mp.mpf(1) / 2) - mp.digamma(b) - 1 / (2 * mp.mpf(b))
    got = half_step_digamma_gap(b)
    assert abs(got - want) <= 4 * _EPS * abs(want), (got, want)


@pytest.mark.parametrize("nu, p", [(3.0, 0.3), (10.0, 0.99), (0.8, 0.6), (200.0, 0.02)])
def test_quantile_stdtrit_in_df(nu, p):
    # t(df, p) with stdtr(df, t) = p: dt/d df = -stdtr_df / density (implicit
    # differentiation) at scipy's quantile t (scipy 1.11's is 1e-10 off at (200, 0.02):
    # the derivative belongs to the value returned); the truth in mpmath there
    half = mp.mpf(1) / 2
    t = float(sp.stdtrit(nu, p))

    def cdf(n, u):
        g = mp.betainc(half, n / 2, 0, u * u / (n + u * u), regularized=True) / 2
        return half + (g if u > 0 else -g)

    point = (mp.mpf(nu), mp.mpf(t))
    want = -float(mp.diff(cdf, point, (1, 0)) / mp.diff(cdf, point, (0, 1)))
    for eng in (hd, rv):
        got = eng.derivative(lambda n: sp.stdtrit(n, p), nu)
        assert got == pytest.approx(want, rel=1e-12), (eng.__name__, got, want)
        assert eng.derivative(lambda n, eng=eng: eng.stats.t.ppf(p, n), nu) == \
            pytest.approx(want, rel=1e-12)
        # at p = 0 scipy's quantile is nan (1.11) or inf (1.17): the derivative in df
        # is 0 where the value is infinite (a constant), nan with it
        edge = eng.derivative(lambda n: sp.stdtrit(n, 0.0), 3.0)
        assert edge == 0.0 if np.isinf(sp.stdtrit(3.0, 0.0)) else np.isnan(edge)


def test_lazy_df_stays_lazy_and_matches_numpy():
    """On dask data the derivative in df runs block by block (its paths and series
    lengths depend on the values; it raised dask's NotImplementedError for out=)."""
    da = pytest.importorskip("dask.array")
    nus, tt = np.array([500.0, 500.0, 5.0, 1e4]), np.array([3.0, 0.4, -3.0, -2.6])
    ps = np.array([0.3, 0.9, 0.99, 0.01])
    for eng in (hd, rv):
        for f in (lambda n: np.sum(sp.stdtr(n, tt)), lambda n: np.sum(sp.stdtrit(n, ps))):
            lazy = eng.gradient(f, da.from_array(nus, chunks=2))
            assert isinstance(lazy, da.Array)
            # (a block's series shift follows its own smallest df: an ulp apart)
            assert_close_ulps(lazy.compute(), eng.gradient(f, nus), ulps=4)
        H = eng.hessian(lambda n: np.sum(sp.stdtr(n, tt)), da.from_array(nus, chunks=2))
        want = eng.hessian(lambda n: np.sum(sp.stdtr(n, tt)), nus)
        np.testing.assert_allclose(H.compute(), want, rtol=1e-14, atol=0)
