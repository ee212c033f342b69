"""Every binary rule of the table on Taylor numbers (the ODE trick on the table's
first partials): against mpmath to order 6 where the function is smooth, and
against the Dual/HyperDual rules (orders 1 and 2) for all of them."""

import warnings

import mpmath
import numpy as np
import pytest
from scipy import special

import hyperdual as hd
from hyperdual._rules import BINARY

mpmath.mp.dps = 40


def curves(ufunc):
    return [
        lambda t: ufunc(t, 0.5 * t + 0.9),
        lambda t: ufunc(t * t + 0.2, 1.7),
        lambda t: ufunc(1.3, t * t + 0.4),
    ]


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_rules_agree_with_dual_and_hyperdual(name):
    ufunc = BINARY[name].ufunc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in curves(ufunc):
            for t0 in (0.3, -0.45):
                if not np.isfinite(f(t0)):
                    continue  # outside the domain (rel_entr of x < 0 is inf)
                d = hd.derivatives(f, t0, 2)
                want = [f(t0), hd.derivative(f, t0), hd.second_derivative(f, t0)]
                np.testing.assert_allclose(d, want, rtol=1e-12, atol=1e-14)


SMOOTH = {
    "logaddexp": (np.logaddexp, lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b))),
    "logaddexp2": (np.logaddexp2, lambda a, b: mpmath.log(2 ** a + 2 ** b, 2)),
    "xlog1py": (special.xlog1py, lambda a, b: a * mpmath.log1p(b)),
    "rel_entr": (special.rel_entr, lambda a, b: a * mpmath.log(a / b)),
    "kl_div": (special.kl_div, lambda a, b: a * mpmath.log(a / b) - a + b),
    "beta": (special.beta, mpmath.beta),
    "betaln": (special.betaln, lambda a, b: mpmath.log(abs(mpmath.beta(a, b)))),
    "float_power": (np.float_power, lambda a, b: a ** b),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_smooth_binary_rules_against_mpmath(name):
    f, fm = SMOOTH[name]
    t0 = 0.35
    got = hd.derivatives(lambda t: f(t * t + 0.6, 0.5 * t + 1.1), t0, 6)
    want = [float(mpmath.diff(lambda t: fm(t * t + 0.6, 0.5 * t + 1.1), t0, k))
            for k in range(7)]
    np.testing.assert_allclose(got, want, rtol=2e-11, atol=1e-13)


def test_piecewise_binary_rules():
    # remainder / fmod: x - q y with the quotient constant; floor_divide: constant
    d = hd.derivatives(lambda t: np.remainder(t ** 3, 0.5 + t), 0.9, 5)
    q = np.floor(0.9 ** 3 / 1.4)
    want = hd.derivatives(lambda t: t ** 3 - q * (0.5 + t), 0.9, 5)
    np.testing.assert_allclose(d, want, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(hd.derivatives(lambda t: np.floor_divide(t, 0.3), 1.0, 3),
                                  [3.0, 0.0, 0.0, 0.0])
    # copysign(x, y) = sign(x0) sign(y0) x: here (-1)(-1)(t² - 2)
    np.testing.assert_allclose(hd.derivatives(lambda t: np.copysign(t * t - 2, -1.0), 0.5, 3),
                               [-1.75, 1.0, 2.0, 0.0])
