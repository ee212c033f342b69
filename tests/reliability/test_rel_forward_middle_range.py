"""Third derivatives through hyperdual.derivative of hyperdual.derivative of
reverse.derivative on far tails (issue 12, far range).

The outer helper's range retries seed every helper nested in its f with the same
2**k.  The middle forward helper scaled its own tangents by it too, and times
e**400 they overflowed: the third derivative of ``erfcx(exp(v))``, ``i0e``,
``i1e`` and ``arctan`` of ``exp(v)`` came out 0 from v = 380 (truths 1e-166 ..
1e-305, normal).  A nested forward helper whose own f runs further helpers now
leaves the scale to them (hyperdual.helpers._nested_in).

erfcx from v = 500 and arctan from 600 on this path are reached by the call's
redo in long double, where the retries settled nothing (its intermediates span
e**-1000 .. e**1500 at every seed scale).  erfcx there was 0: scipy's erfcx has
no long double loop and the redo failed; it now evaluates such a ufunc in
float64 on a float64-sized argument (fprange.ufunc_in_wide), and a long double
tangent is no longer flushed to a Python float (its f'' term, 1e-496, was 0 and
the redo's result had the wrong sign).
Through a second-order hyperdual helper outside reverse.derivative all four are
right to 700.

Truth: the leading asymptotic terms in mpmath at 50 digits (erfcx(z) =
1/(z sqrt(pi)) (1 - 1/(2 z**2) ..), i0e(z), i1e(z) = (1 + O(1/z)) / sqrt(2 pi z),
arctan(z) = pi/2 - 1/z + ..., with z = e**v, v >= 380: the next terms are
e**-380 relative); ``ULPS`` ulps.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.special as sp

import hyperdual as hd
import reverse as rv
from _exactdiff import fprange

M = pytest.importorskip("mpmath")
M.mp.dps = 50

EPS = float(np.finfo(float).eps)
ULPS = 64


def _truth(name, v):
    V = M.mpf(v)
    return float({"erfcx": -M.exp(-V) / M.sqrt(M.pi),
                  "i0e": -M.exp(-V / 2) / M.sqrt(2 * M.pi) / 8,
                  "i1e": -M.exp(-V / 2) / M.sqrt(2 * M.pi) / 8,
                  "arctan": M.exp(-V)}[name])


FUNCTIONS = {"erfcx": sp.erfcx, "i0e": sp.i0e, "i1e": sp.i1e, "arctan": np.arctan}


def _hd_hd_rv(f, v):
    return hd.derivative(lambda a: hd.derivative(lambda b: rv.derivative(f, b), a), v)


def _hd_second_rv(f, v):
    return hd.second_derivative(lambda a: rv.derivative(f, a), v)


def _params():
    for name in FUNCTIONS:
        for v in (380.0, 400.0, 450.0, 500.0, 600.0, 650.0, 700.0):
            marks = []
            if name == "arctan" and v >= 600 or name == "erfcx" and v >= 500:
                # (the retries settle nothing: reached by the call's pass in long
                # double; erfcx there in float64 on its float64-sized argument)
                marks = [pytest.mark.skipif(not fprange.WIDENS_DOUBT,
                                            reason="no long double redo of results in doubt")]
            yield pytest.param(name, v, marks=marks, id=f"{name}-{v:g}")


@pytest.mark.parametrize("name, v", list(_params()))
def test_two_forward_helpers_outside_reverse(name, v):
    fn = FUNCTIONS[name]
    truth = _truth(name, v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = _hd_hd_rv(lambda t: fn(np.exp(t)), v)
    assert abs(got - truth) <= ULPS * EPS * abs(truth), (got, truth)


def _second_order_params():
    for name in FUNCTIONS:
        for v in (380.0, 400.0, 450.0, 500.0, 600.0, 700.0):
            yield pytest.param(name, v, id=f"{name}-{v:g}")


@pytest.mark.parametrize("name, v", list(_second_order_params()))
def test_second_order_forward_helper_outside_reverse(name, v):
    """hd.second_derivative of reverse.derivative: reverse's rules on HyperDual data
    with Python-float parts, whose products underflow without a flag ((gy r) r with r
    = e**-400 in arctan's rule gave 0); a scalar 0 is now retried with scaled seeds
    (fprange._unflagged_zero).  erfcx (nan from 380), i0e and i1e (0 from 500):
    their rules formed f'(x) alone on HyperDual data, ~x**-1.5 at x = e**500, below
    the float range where ``gy f'(x)`` is not; the product's scaled formula is now
    used there too."""
    fn = FUNCTIONS[name]
    truth = _truth(name, v)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = _hd_second_rv(lambda t: fn(np.exp(t)), v)
    assert abs(got - truth) <= ULPS * EPS * abs(truth), (got, truth)


L = np.longdouble


@pytest.mark.skipif(fprange.WIDE is None, reason="long double is float64 here")
def test_ufunc_in_wide_takes_float64_sized_arguments_only():
    """A scipy ufunc without a long double loop in the redo: float64 on arguments
    and results that float64 holds (erfcx(1e200) = 5.6e-201 within an ulp);
    refused (TypeError, the redo keeps its float64 result) where the argument or
    the result is beyond float64's normal range, and outside a redo."""
    token = fprange._WIDENING.set(True)
    try:
        got = fprange.ufunc_in_wide(sp.erfcx, np.array([L(2.0), L("1e200")]))
        assert got.dtype == fprange.WIDE
        truth = [M.erfc(2) * M.exp(4), 1 / (M.mpf(10) ** 200 * M.sqrt(M.pi))]
        for g, t in zip(got, truth):
            assert abs(float(g) - float(t)) <= 4 * EPS * float(t)
        assert float(fprange.ufunc_in_wide(sp.erf, L(0.0))) == 0.0  # an exact zero
        for fn, arg in ((sp.erfcx, L("1e-400")), (sp.erfcx, L("1e400")),
                        (sp.erfc, L(30.0)),  # 1e-393: below float64's range
                        (sp.erfcx, np.array([L(1.0), L("1e-320")]))):
            with pytest.raises(TypeError):
                fprange.ufunc_in_wide(fn, arg)
    finally:
        fprange._WIDENING.reset(token)
    with pytest.raises(TypeError):
        fprange.ufunc_in_wide(sp.erfcx, L(2.0))
