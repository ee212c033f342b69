"""The zeta functions differentiated in s: Hurwitz ``zeta(s, q)`` (JAX's suite checks
its gradient in both arguments), Riemann ``zeta(s)`` and ``zetac(s)`` (TypeError before).

d/ds has no closed form: hyperdual/rules/zeta.py differentiates Euler-Maclaurin's
formula term by term, and for s <= -1/2 Riemann's functional equation.  Truth:
mpmath at 50 digits, derivatives by ``mp.diff`` of ``mp.zeta`` (mpmath's own
``zeta(s, q, 1)`` is off in the 9th digit at (20, 100)).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
from test_breadth_special_closed_forms import _check_orders

import hyperdual as hd
import reverse as rv
from hyperdual.rules.zeta import riemann_zeta_derivative, zeta_ds

_EPS = float(np.finfo(float).eps)


def _hurwitz_ds(s, q):
    q = mp.mpf(q)
    return mp.diff(lambda t: mp.zeta(t, q), mp.mpf(s))


GRID = [(s, q) for s in (1.001, 1.1, 1.5, 2.0, 3.0, 7.5, 20.0, 60.0)
        for q in (1e-3, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0)]


@pytest.mark.parametrize("s, q", GRID)
def test_hurwitz_derivative_in_s_against_mpmath(s, q):
    want = float(_hurwitz_ds(s, q))
    got = zeta_ds(s, q)
    # the rounding that grows is that of (q + k)^-s: its exponent s log(q + k)
    tol = 8 * _EPS * max(1.0, abs(s * np.log(q)))
    assert abs(got - want) <= tol * abs(want), (got, want)
    for eng in (hd, rv):
        assert eng.derivative(lambda t: sp.zeta(t, q), s) == got, eng.__name__


RIEMANN_POINTS = [-20.5, -7.0, -6.0, -3.3, -2.0, -0.6, -0.2, 0.0, 0.3, 0.5, 0.999, 1.001,
                  2.0, 5.0, 30.0]


@pytest.mark.parametrize("s", [v for v in np.linspace(-1.5, 3.5, 41) if v != 1.0])
def test_riemann_derivatives_to_a_few_ulps_round_the_pole(s):
    # Euler-Maclaurin's terms (k + 1)^-s grow and cancel for s < 1/2: zeta'(-0.4) was
    # 213 ulps off, the third derivative at -0.5 431 ulps (the 1e-12 tolerance below
    # could not see it).  Stieltjes' series for -1 < s < 3, the functional equation
    # below, Euler-Maclaurin above: orders 1-3 within 4 k ulps in both engines
    want = [mp.diff(mp.zeta, mp.mpf(float(s)), k) for k in range(1, 4)]
    for eng in (hd, rv):
        got = eng.derivatives(sp.zeta, float(s), 3)[1:]
        for k, (g, w) in enumerate(zip(got, want), start=1):
            err = abs(mp.mpf(float(g)) - w) / abs(w)
            assert err <= 4 * k * _EPS, (eng.__name__, s, k, float(err / _EPS))


@pytest.mark.parametrize("s", RIEMANN_POINTS)
def test_riemann_zeta_and_zetac_orders_one_to_three(s):
    # Dual, HyperDual, Taylor and create_graph against mpmath; the trivial zeros -2, -6
    # keep their slopes (sin(pi s / 2) of s reduced exactly)
    _check_orders(f"zeta at {s}", sp.zeta, mp.zeta, [s], 1e-12)
    _check_orders(f"zetac at {s}", sp.zetac, lambda t: mp.zeta(t) - 1, [s], 1e-12)


@pytest.mark.parametrize("p", [(3.0, 2.5), (1.5, 0.3), (20.0, 1.0), (1.01, 40.0)])
def test_hurwitz_hessian_in_every_nesting(p):
    fv = lambda v: sp.zeta(v[0], v[1])  # noqa: E731
    s, q = map(mp.mpf, p)
    want = np.array([[float(mp.diff(mp.zeta, (s, q), (2, 0))),
                      float(mp.diff(mp.zeta, (s, q), (1, 1)))],
                     [float(mp.diff(mp.zeta, (s, q), (1, 1))),
                      float(mp.diff(mp.zeta, (s, q), (0, 2)))]])
    x = np.array(p)
    double_backprop = np.stack([rv.hvp(fv, x, e, mode="reverse-over-reverse")
                                for e in np.eye(2)])
    for got in (hd.hessian(fv, x), rv.hessian(fv, x), double_backprop,
                hd.jacobian(lambda y: rv.gradient(fv, y), x),
                rv.jacobian(lambda y: hd.gradient(fv, y), x)):
        np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=f"zeta at {p}")


def test_arrays_and_outside_the_domain():
    s = np.array([1.5, 2.0, 7.0])
    q = np.array([0.5, 3.0, 1.0])
    want = [float(_hurwitz_ds(a, b)) for a, b in zip(s, q)]
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.gradient(lambda t: np.sum(sp.zeta(t, q)), s), want,
                                   rtol=1e-14, err_msg=eng.__name__)
        # one s against an array of q: summed to s's shape
        got = eng.derivative(lambda t: np.sum(sp.zeta(t, q)), 2.0)
        np.testing.assert_allclose(got, sum(float(_hurwitz_ds(2.0, b)) for b in q), rtol=1e-14)
        # scipy's Hurwitz zeta is nan for s < 1 (and q <= 0): so is its derivative
        assert np.isnan(eng.derivative(lambda t: sp.zeta(t, 2.0), 0.5))
        assert np.isnan(sp.zeta(0.5, 2.0))


def test_lazy_arrays_run_block_by_block():
    # on dask each block takes the terms its own largest abs(s) needs (one count for the
    # whole array would have to serve every s, and cancels for s < 1): the values are
    # the numpy path's on each block, large s and s < 1 alike
    da = pytest.importorskip("dask.array")
    s = np.array([1.5, 30.0, 110.0, 200.0, -0.3])
    q = np.array([0.5, 1.0, 2.0, 3.0, 1.0])
    got = zeta_ds(da.from_array(s, chunks=2), da.from_array(q, chunks=2))
    assert hasattr(got, "dask")
    blocks = [zeta_ds(s[i:i + 2], q[i:i + 2]) for i in range(0, 5, 2)]
    np.testing.assert_array_equal(got.compute(), np.concatenate(blocks))
    # (single calls take other term counts: a few ulps for s > 1; at s = -0.3 the sum
    # cancels ~100-fold, so even numpy's scalar and array powers differ there by 100 ulps)
    np.testing.assert_allclose(got.compute()[:4], [zeta_ds(a, b) for a, b in zip(s[:4], q[:4])],
                               rtol=16 * _EPS)
    # Riemann's zeta' at s = -0.3 by Stieltjes' series, lazily: within 4 ulps (the
    # Euler-Maclaurin sum of zeta_ds(-0.3, 1) cancels ~100 ulps away)
    lazy = riemann_zeta_derivative(da.from_array(s, chunks=2))
    assert hasattr(lazy, "dask")
    want = float(mp.diff(mp.zeta, mp.mpf(-0.3)))
    assert abs(lazy.compute()[-1] - want) <= 4 * _EPS * abs(want)
