"""log_ndtr's higher derivatives where erfcx(-x/sqrt2) overflows.

log_ndtr' = h = phi/Phi was formed as sqrt(2/pi) / erfcx(-x/sqrt2); differentiating
that formula (nested helpers, forward-over-reverse) squares erfcx, which overflows
from x = 26.6 on: third derivatives were wrong by a relative 5e-7 at 27 and had the
wrong sign and magnitude from 30 on, and reverse.hessian / hvp gave nan from 38 on
(the truth underflows to 0 there).  h is now a rule of its own in both engines.
"""

import warnings

import mpmath
import numpy as np
import pytest
from scipy import special

import hyperdual as hd
import reverse as rv

EPS = np.finfo(float).eps


def _third(x):
    with mpmath.workdps(60):
        t = mpmath.mpf(x)
        h = mpmath.npdf(t) / mpmath.ncdf(t)
        return float(h * ((t + h) * (t + 2 * h) - 1))


def _second(x):
    with mpmath.workdps(60):
        t = mpmath.mpf(x)
        h = mpmath.npdf(t) / mpmath.ncdf(t)
        return float(-h * (t + h))


def _thirds(x):
    f = special.log_ndtr
    return {
        "hd.nth_derivative": hd.nth_derivative(f, x, 3),
        "rv.nth_derivative": rv.nth_derivative(f, x, 3),
        "hd(hd.second)": hd.derivative(lambda z: hd.second_derivative(f, z), x),
        "hd(hd(hd))": hd.derivative(lambda z: hd.derivative(lambda y: hd.derivative(f, y), z), x),
        "rv(rv.second)": rv.derivative(lambda z: rv.second_derivative(f, z), x),
        "rv(hd.second)": rv.derivative(lambda z: hd.second_derivative(f, z), x),
        "hd(rv.second)": hd.derivative(lambda z: rv.second_derivative(f, z), x),
        "hd.jacobian(rv.hessian)": hd.jacobian(
            lambda v: rv.hessian(lambda w: f(w[0]), v), np.array([x]))[0, 0, 0],
        "rv.jacobian(rv.hessian)": rv.jacobian(
            lambda v: rv.hessian(lambda w: f(w[0]), v), np.array([x]))[0, 0, 0],
    }


@pytest.mark.parametrize("x", [-30.0, -2.0, 0.5, 3.0, 20.0, 27.0, 30.0, 37.0])
def test_log_ndtr_third_derivative_every_nesting(x):
    want = _third(x)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        got = _thirds(x)
    # condition of h'' in x is about x**2 for large x (exp(-x**2/2)); a few ulps each
    cond = max(1.0, x * x)
    for path, v in got.items():
        assert abs(v - want) <= 64 * EPS * cond * abs(want), (path, v, want)


@pytest.mark.parametrize("x", [38.0, 40.0, 100.0, 1e10])
def test_log_ndtr_second_derivative_past_the_overflow_is_zero_not_nan(x):
    f = lambda v: special.log_ndtr(v[0])  # noqa: E731
    p, e = np.array([x]), np.array([1.0])
    assert abs(_second(x)) < 1e-300
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        got = {"rv.hessian": rv.hessian(f, p)[0, 0], "rv.hvp": rv.hvp(f, p, e)[0],
               "rv.hvp ror": rv.hvp(f, p, e, mode="reverse-over-reverse")[0],
               "hd.hessian": hd.hessian(f, p)[0, 0],
               "rv(rv)": rv.derivative(lambda z: rv.derivative(special.log_ndtr, z), x),
               "hd(rv)": hd.derivative(lambda z: rv.derivative(special.log_ndtr, z), x),
               "rv(hd)": rv.derivative(lambda z: hd.derivative(special.log_ndtr, z), x)}
        third = _thirds(x)
    for path, v in {**got, **third}.items():
        assert np.isfinite(v) and abs(v) < 1e-300, (path, v)


def _third_and_cond(x):
    """h'' at x (log_ndtr's third derivative) and its condition abs(x h''' / h''),
    from the continued fraction of x + h below -30 (mpmath's ncdf loses digits
    there) at enough digits for the cancellations of the closed forms."""
    digits = 60 + 9 * int(abs(mpmath.log10(abs(x)))) if x else 60
    with mpmath.workdps(digits):
        t = mpmath.mpf(x)
        if t < -30:
            u, c = -t, -t
            for k in range(2000, 1, -1):
                c = u + k / c
            h = u + 1 / c
        else:
            h = mpmath.npdf(t) / mpmath.ncdf(t)
        p = t + h
        h2 = h * (p * (p + h) - 1)
        h3 = h * ((1 - h * p) * (p + h) + p * (1 - 2 * h * p) - p * (p * (p + h) - 1))
        return h2, max(1.0, float(abs(t * h3 / h2)))


@pytest.mark.parametrize("x", [-1e8, -1e4, -40.0, -4.5, -1.0, -1e-8, 1e-8, 0.7, 1.9, 2.1,
                               9.5, 25.0, 37.5, 37.7, 37.75])
def test_log_ndtr_third_derivative_within_ulps_every_nesting(x):
    """Within 8 ulps times the condition number on every path (issue 12 s3): the
    closed forms of h'' cancelled by ~40 ulps for -4 < x < 1, reverse-over-reverse
    differentiated the erfcx form of h' through the graph (17% off at -1e8), and
    phi underflowed where h'' is still normal (0 at 37.7)."""
    want, cond = _third_and_cond(x)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        got = _thirds(x)
    for path, v in got.items():
        ulps = float(abs((mpmath.mpf(float(v)) - want) / want)) / EPS
        assert ulps <= 8 * cond, (path, v, float(want), ulps, cond)
