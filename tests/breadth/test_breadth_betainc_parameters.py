"""betainc and betaincc differentiated in their shape parameters a and b (they raised
TypeError; scipy.stats' beta cdf in its shapes, the censored-data likelihood, needs
them).

d/da, d/db of I_x(a, b) have no closed form: hyperdual/rules/incomplete_beta.py
differentiates the continued fraction behind I term by term, for I below the mean and
for 1 - I = I_(1-x)(b, a) above it.  Truth: mpmath's regularized incomplete beta at 40
digits, derivatives by ``mp.diff``, of the side that is small (mpmath's own 1 - I would
round the derivative away).  The tolerance of a first derivative is a few ulps times
the size of the exponents a log x, b log(1 - x) (the condition number of x^a (1-x)^b,
the only rounding that grows; scipy's own value has it too).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
from test_breadth_special_closed_forms import _check_orders
from test_breadth_special_more import hessian_paths

import hyperdual as hd
import reverse as rv
from hyperdual.rules.incomplete_beta import betainc_parameter_partials

_EPS = float(np.finfo(float).eps)
_BETAINCC = getattr(sp, "betaincc", None)


def _small_side(a, b, x):
    """(g, sign): I itself below the mean, 1 - I as I_(1-x)(b, a) above it."""
    x = mp.mpf(x)
    if x < mp.mpf(a) / (mp.mpf(a) + mp.mpf(b)):
        return (lambda s, t: mp.betainc(s, t, 0, x, regularized=True)), 1
    return (lambda s, t: mp.betainc(t, s, 0, 1 - x, regularized=True)), -1


def _partials(a, b, x):
    g, sign = _small_side(a, b, x)
    a, b = mp.mpf(a), mp.mpf(b)
    return (sign * float(mp.diff(lambda s: g(s, b), a)),
            sign * float(mp.diff(lambda t: g(a, t), b)))


# shapes from 0.3 to 3000 (integers too, where the fraction ends while its slope in b
# does not: d/db at (50, 1, 0.95) was 7e4 ulps off in a first version), x from 1e-5 to
# 1 - 1e-4 on both sides of the mean and of the fraction's switch
GRID = [(a, b, x) for a in (0.3, 1.0, 2.5, 10.0, 50.0, 300.0, 3000.0)
        for b in (0.5, 1.0, 3.0, 20.0, 200.0)
        for x in (1e-5, 0.05, 0.3, 0.5, 0.7, 0.95, 0.9999)]


def _condition(a, b, x):
    return 1.0 + abs(a * np.log(x)) + abs(b * np.log1p(-x))


def _value_error(a, b, x):
    """The relative error of scipy's value of the small side (the partials are that
    value times a logarithmic derivative): scipy 1.11's own betainc is 400 ulps off at
    (0.3, 200, 1e-5); from 1.12 (Boost) a few."""
    g, sign = _small_side(a, b, x)
    want = g(mp.mpf(a), mp.mpf(b))
    if sign > 0:
        got = sp.betainc(a, b, x)
    elif _BETAINCC is not None:
        got = _BETAINCC(a, b, x)
    else:
        got = sp.betainc(b, a, 1.0 - x)
    return float(abs((got - want) / want)) if want != 0 else 0.0


@pytest.mark.parametrize("a, b, x", GRID)
def test_partials_in_a_and_b_against_mpmath(a, b, x):
    want = _partials(a, b, x)
    got = betainc_parameter_partials(a, b, x, sp.betainc, _BETAINCC)
    tol = 8 * _EPS * _condition(a, b, x) + _value_error(a, b, x)
    for g, w, name in zip(got, want, "ab"):
        assert abs(g - w) <= tol * abs(w), (name, g, w, abs(g - w) / abs(w) / _EPS)
    for eng in (hd, rv):
        da = eng.derivative(lambda s: sp.betainc(s, b, x), a)
        db = eng.derivative(lambda t: sp.betainc(a, t, x), b)
        assert (da, db) == tuple(got), (eng.__name__, da, db, got)
        if _BETAINCC is not None:
            dca = eng.derivative(lambda s: _BETAINCC(s, b, x), a)
            assert dca == -got[0], (eng.__name__, dca, got[0])


def _hessian3(a, b, x):
    def order(i, j):
        n = [0, 0, 0]
        n[i] += 1
        n[j] += 1
        return tuple(n)

    def g(s, t, u):
        return mp.betainc(s, t, 0, u, regularized=True)
    p = tuple(map(mp.mpf, (a, b, x)))
    return np.array([[float(mp.diff(g, p, order(i, j))) for j in range(3)] for i in range(3)])


@pytest.mark.parametrize("p", [(2.5, 3.5, 0.3), (0.7, 4.0, 0.05), (3.0, 3.0, 0.6),
                               (12.0, 2.0, 0.8), (1.0, 1.0, 0.25)])
def test_hessian_in_every_argument_in_every_nesting(p):
    # (the points keep I away from 1, where mpmath's second differences of I itself
    # would lose the digits the test asks for)
    fv = lambda v: sp.betainc(v[0], v[1], v[2])  # noqa: E731
    want = _hessian3(*p)
    x = np.array(p)
    for got in hessian_paths(fv, x, every=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max(),
                                   err_msg=f"betainc at {p}")


@pytest.mark.parametrize("p", [(2.5, 3.5, 0.3), (0.6, 1.4, 0.7), (30.0, 24.0, 0.5)])
def test_orders_one_to_three_along_a_line(p):
    # every partial to the third through Dual, HyperDual, Taylor and create_graph:
    # t -> I_(x + t/8)(a + t, b - t/2) at t = 0
    a, b, x = p
    _check_orders(f"betainc along a line at {p}",
                  lambda t: sp.betainc(a + t, b - 0.5 * t, x + 0.125 * t),
                  lambda t: mp.betainc(mp.mpf(a) + t, mp.mpf(b) - t / 2, 0,
                                       mp.mpf(x) + t / 8, regularized=True), [0.0], 1e-11)


def test_arrays_broadcasting_and_edges():
    a = np.array([0.5, 2.0, 3.0, 40.0, 2.0, 2.0])
    x = np.array([0.2, 0.9, 0.5, 0.6, 0.0, 1.0])  # both sides, and x = 0, 1 (I = 0, 1)
    want = [_partials(s, 2.5, t)[0] if 0 < t < 1 else 0.0 for s, t in zip(a, x)]
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.gradient(lambda s: np.sum(sp.betainc(s, 2.5, x)), a),
                                   want, rtol=1e-13, atol=0, err_msg=eng.__name__)
        # one b against an array of x: the cotangent is summed to b's shape
        got = eng.derivative(lambda t: np.sum(sp.betainc(2.0, t, x[:4])), 2.5)
        total = sum(_partials(2.0, 2.5, t)[1] for t in x[:4])
        np.testing.assert_allclose(got, total, rtol=1e-13, err_msg=eng.__name__)
        # outside the domain scipy's value is nan, and so is its derivative
        assert np.isnan(eng.derivative(lambda s: sp.betainc(s, 2.0, 0.3), -1.0))
        assert np.isnan(eng.derivative(lambda s: sp.betainc(2.0, s, 1.5), 2.0))


def test_nested_in_the_four_engine_pairs():
    # d2/da db I at (2.5, 3.5, 0.3), each partial taken by a different helper
    want = _hessian3(2.5, 3.5, 0.3)[0, 1]
    for outer in (hd, rv):
        for inner in (hd, rv):
            got = outer.derivative(lambda s, inner=inner: inner.derivative(
                lambda t: sp.betainc(s, t, 0.3), 3.5), 2.5)
            assert got == pytest.approx(want, rel=1e-12), (outer.__name__, inner.__name__)


def test_scipy_stats_beta_cdf_in_its_shapes():
    # the censored-data likelihood's term log(1 - F(x; a, b)), both shapes traced
    def loglik(v, lib):
        return lib.stats.beta.logsf(0.4, v[0], v[1]) + lib.stats.beta.logpdf(0.3, v[0], v[1])

    v0 = np.array([2.0, 3.0])

    def truth(s, t):
        sf = mp.betainc(t, s, 0, mp.mpf(1) - mp.mpf(0.4), regularized=True)
        x = mp.mpf(0.3)
        logpdf = (s - 1) * mp.log(x) + (t - 1) * mp.log(1 - x) - mp.log(mp.beta(s, t))
        return mp.log(sf) + logpdf

    want = [float(mp.diff(truth, (2, 3), (1, 0))), float(mp.diff(truth, (2, 3), (0, 1)))]
    for lib in (hd, rv):
        np.testing.assert_allclose(lib.gradient(lambda v, lib=lib: loglik(v, lib), v0), want,
                                   rtol=1e-13, err_msg=lib.__name__)


def test_lazy_dask_arrays():
    da = pytest.importorskip("dask.array")
    a = np.array([0.7, 1.3, 2.1, 2.9, 3.6, 5.2])

    def f(z):
        return np.sum(sp.betainc(z, 2.0, 0.4) + sp.betainc(1.5, z, 0.6))

    want = hd.gradient(f, a)
    for eng in (hd, rv):
        got = eng.gradient(f, da.from_array(a, chunks=3))
        assert isinstance(got, da.Array), eng.__name__
        np.testing.assert_allclose(got.compute(), want, rtol=16 * _EPS, err_msg=eng.__name__)


def _inverse(a, b, y):
    """mpmath's x with I_x(a, b) = y (a root near scipy's)."""
    x0 = mp.mpf(float(sp.betaincinv(float(a), float(b), float(y))))
    return mp.findroot(lambda t: mp.betainc(a, b, 0, t, regularized=True) - y, x0)


@pytest.mark.parametrize("a, b, y", [(2.5, 3.5, 0.3), (0.7, 4.0, 0.9), (12.0, 2.0, 0.05)])
def test_inverses_in_every_argument(a, b, y):
    # x(a, b, y) with I_x(a, b) = y: dx/da = -I_a / I_x (implicit differentiation)
    p = tuple(map(mp.mpf, (a, b, y)))
    want = [float(mp.diff(_inverse, p, tuple(int(k == i) for k in range(3)))) for i in range(3)]
    want_aa = float(mp.diff(_inverse, p, (2, 0, 0)))
    for eng in (hd, rv):
        got = eng.gradient(lambda v: sp.betaincinv(v[0], v[1], v[2]), np.array([a, b, y]))
        np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=eng.__name__)
        got_aa = eng.second_derivative(lambda s: sp.betaincinv(s, b, y), a)
        assert got_aa == pytest.approx(want_aa, rel=1e-11), eng.__name__
        if _BETAINCC is not None:  # 1 - I = y: the same x at 1 - y
            got_c = eng.gradient(lambda v: sp.betainccinv(v[0], v[1], 1.0 - v[2]),
                                 np.array([a, b, y]))
            np.testing.assert_allclose(got_c, want, rtol=1e-12, err_msg=eng.__name__)
        # scipy.stats' beta quantile in its shapes
        assert eng.derivative(lambda s, eng=eng: eng.stats.beta.ppf(y, s, b), a) == \
            pytest.approx(want[0], rel=1e-13)


def test_inverses_at_the_ends_of_the_support():
    # x = 0 at y = 0 and x = 1 at y = 1 whatever a, b: d/da = 0 (not 0 over a density
    # of 0 or inf), and no warning from the infinite d/dy of the constant y
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for eng in (hd, rv):
            for y in (0.0, 1.0):
                assert eng.derivative(lambda s, y=y: sp.betaincinv(s, 2.0, y), 2.5) == 0.0
                assert eng.derivative(lambda s, y=y: sp.gammaincinv(s, y), 2.5) == 0.0
