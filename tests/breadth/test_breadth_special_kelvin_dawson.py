"""Dawson's integral, the Kelvin functions and the Struve integrals (they raised "no
derivative rule"): ``dawsn``, ``ber``, ``bei``, ``ker``, ``kei`` and their
derivatives ``berp`` ... ``keip``, ``itstruve0``, ``itmodstruve0``, ``it2struve0``,
in both engines, Taylor mode and nested.

Truth: mpmath at 40 digits (Dawson's integral as sqrt(pi)/2 exp(-x^2) erfi(x),
``mp.ber`` ... ``mp.kei``, the Struve integrals by quadrature of ``mp.struveh`` /
``mp.struvel``), derivatives by ``mp.diff``.  The derivatives of dawsn are checked
where its closed form D' = 1 - 2xD cancels (from |x| ~ 1 on: 2x^2 ulps lost per
order before the Taylor and asymptotic polynomials took over) at 4e-15; the Kelvin
functions where scipy's own values are good to an ulp or so (ber at 10 is 5e-10 off
in scipy itself).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sp
from test_breadth_special_closed_forms import _check_orders

import hyperdual as hd
import reverse as rv

_EPS = float(np.finfo(float).eps)


def _dawson(x):
    return mp.sqrt(mp.pi) / 2 * mp.exp(-x * x) * mp.erfi(x)


def _kelvin_p(f):
    return lambda x: mp.diff(lambda t: f(0, t), x)


CASES = {
    # near 0 (the closed form), both sides of 0.5 and 7 (Taylor pieces, asymptotic
    # series), between centres, far
    "dawsn": (sp.dawsn, _dawson, [-9.0, -2.3, -0.4, 0.0, 0.49, 0.51, 0.7, 1.99, 2.01, 3.3,
                                  4.61, 6.99, 7.01, 15.0, 1e4]),
    "ber": (sp.ber, lambda x: mp.ber(0, x), [-2.0, 0.0, 0.3, 0.99, 1.01, 3.0]),
    "bei": (sp.bei, lambda x: mp.bei(0, x), [-2.0, 0.0, 0.3, 0.99, 1.01, 3.0]),
    "berp": (sp.berp, _kelvin_p(mp.ber), [-2.0, 0.0, 0.5, 1.5, 4.0]),
    "beip": (sp.beip, _kelvin_p(mp.bei), [-2.0, 0.0, 0.5, 1.5, 4.0]),
    "ker": (sp.ker, lambda x: mp.ker(0, x), [0.1, 0.9, 2.5]),
    "kei": (sp.kei, lambda x: mp.kei(0, x), [0.1, 0.9, 2.5]),
    "kerp": (sp.kerp, _kelvin_p(mp.ker), [0.1, 0.9, 2.5]),
    "keip": (sp.keip, _kelvin_p(mp.kei), [0.1, 0.9, 2.5]),
    "itstruve0": (sp.itstruve0, lambda x: mp.quad(lambda t: mp.struveh(0, t), [0, x]),
                  [0.0, 0.4, 2.0, 8.0]),
    "itmodstruve0": (sp.itmodstruve0, lambda x: mp.quad(lambda t: mp.struvel(0, t), [0, x]),
                     [0.0, 0.4, 2.0, 5.0]),
    # (d/dx = -H_0(x)/x: from H_0's series within 0.5, the quotient beyond)
    "it2struve0": (sp.it2struve0,
                   lambda x: mp.pi / 2 - mp.quad(lambda t: mp.struveh(0, t) / t, [0, x]),
                   [1e-3, 0.4, 0.6, 2.0, 5.0]),
}


@pytest.mark.parametrize("name", CASES)
def test_derivatives_against_mpmath(name):
    f, g, points = CASES[name]
    _check_orders(name, f, g, points, 4e-15 if name == "dawsn" else 1e-13)


def test_dawsn_far_keeps_full_precision():
    # 1 - 2xD(x) at x = 1e4 is -5e-9: the closed form alone kept 8 digits
    for x in (5.0, 30.0, 1e4, -1e8):
        want = float(mp.diff(_dawson, mp.mpf(x)))
        for eng in (hd, rv):
            got = eng.derivative(sp.dawsn, x)
            assert abs(got - want) <= 8 * _EPS * abs(want), (eng.__name__, x, got, want)


def test_arrays_taylor_and_nesting():
    x = np.array([-8.0, -3.1, 0.0, 0.5, 2.6, 6.2, 40.0])
    want = np.array([float(mp.diff(_dawson, mp.mpf(v))) for v in x])
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.gradient(lambda v: np.sum(sp.dawsn(v)), x), want,
                                   rtol=8 * _EPS)
        # elementwise second derivative (D'' = -2D - 2xD') over one array
        d2 = eng.second_derivative(sp.dawsn, x)
        want2 = np.array([float(mp.diff(_dawson, mp.mpf(v), 2)) for v in x])
        np.testing.assert_allclose(d2, want2, rtol=64 * _EPS, atol=1e-300)
    # Taylor mode to order 5 agrees with mpmath
    got = hd.derivatives(sp.ber, 1.7, 5)
    want = [float(mp.diff(lambda t: mp.ber(0, t), mp.mpf(1.7), k)) for k in range(6)]
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    # d/ds [s f'(s)] = f'(s) + s f''(s), each engine inside the other
    s0 = 0.8
    d1 = float(mp.diff(lambda t: mp.kei(0, t), mp.mpf(s0)))
    d2 = float(mp.diff(lambda t: mp.kei(0, t), mp.mpf(s0), 2))
    for outer, inner in ((hd, rv), (rv, hd), (hd, hd), (rv, rv)):
        got = outer.derivative(lambda s, inner=inner: inner.derivative(
            lambda y: sp.kei(s * y), 1.0), s0)
        np.testing.assert_allclose(got, d1 + s0 * d2, rtol=1e-13)
