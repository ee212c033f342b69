"""np.max / np.min of a slice that holds NaN: numpy's value, no warning numpy would
not give, and the derivative of the documented convention (issue 12, leftovers).

numpy's ``np.max([1, nan])`` is nan and warns of nothing.  The engines shared the
derivative among the entries equal to the maximum, and no entry equals a NaN
maximum: the weights were ``0 / 0``, so both engines warned "invalid value
encountered in divide" (reverse twice) and the gradient was ``[nan, nan]``, while
reverse's Hessian was 0 and the Jacobian of a max along an axis was nan in the NaN
column in reverse mode but across the whole row in hyperdual.  The convention now,
in both engines, Taylor numbers and every order: a NaN entry is the one selected
(as ``np.maximum(nan, 1)``, whose derivative is 1 in the NaN operand); several NaN
entries share the derivative equally, as tied extremes do.  The truths below are
these weights, written out.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual.taylor_helpers import directional_derivatives

NAN = np.nan
ENGINES = {"hyperdual": hd, "reverse": rv}

# (f, x, gradient by the convention)
CASES = {
    "max [1, nan]": (np.max, [1.0, NAN], [0.0, 1.0]),
    "min [1, nan]": (np.min, [1.0, NAN], [0.0, 1.0]),
    "max [nan, 2, nan]": (np.max, [NAN, 2.0, NAN], [0.5, 0.0, 0.5]),
    "amin [3, nan, 1]": (np.amin, [3.0, NAN, 1.0], [0.0, 1.0, 0.0]),
    "method max": (lambda v: v.max(), [1.0, NAN, 5.0], [0.0, 1.0, 0.0]),
    "maximum.reduce": (np.maximum.reduce, [1.0, NAN], [0.0, 1.0]),
    "max of x**2": (lambda v: np.max(v ** 2), [3.0, NAN], [0.0, NAN]),  # 2 x at the NaN
    "ptp": (np.ptp, [1.0, NAN, 3.0], [0.0, 0.0, 0.0]),  # nan - nan: both weights on x1
}


def _quiet_numpy(f, x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return f(np.array(x))


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_without_warnings(case, engine):
    f, x, want = CASES[case]
    assert np.isnan(_quiet_numpy(f, x))  # numpy: nan, and no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, g = ENGINES[engine].value_and_gradient(f, np.array(x))
    assert np.isnan(value)
    np.testing.assert_array_equal(g, want)


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("case", ["max [1, nan]", "max [nan, 2, nan]", "method max"])
def test_hessian_is_zero_without_warnings(case, engine):
    """max is piecewise linear: its Hessian is 0 (reverse gave 0, hyperdual nan)."""
    f, x, _ = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        H = ENGINES[engine].hessian(f, np.array(x))
    np.testing.assert_array_equal(H, np.zeros((len(x), len(x))))


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("red", [np.max, np.min])
def test_jacobian_along_an_axis(red, engine):
    """max/min along axis 0 of [[1, nan], [2, 3]]: column 0 picks one entry, column 1
    the NaN; both engines agree (reverse had nan in the NaN column, hyperdual nan
    across the row)."""
    a = np.array([1.0, NAN, 2.0, 3.0])
    pick0 = 2 if red is np.max else 0
    want = np.zeros((2, 4))
    want[0, pick0] = 1.0
    want[1, 1] = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = ENGINES[engine].jacobian(lambda v: red(v.reshape(2, 2), axis=0), a)
    np.testing.assert_array_equal(J, want)


@pytest.mark.parametrize("case", ["max [1, nan]", "max [nan, 2, nan]", "amin [3, nan, 1]"])
def test_taylor_follows_the_convention(case):
    """Taylor numbers: the first derivative along the direction of ones is the sum of
    the weights (1), the second 0; and along e_i the weight of entry i."""
    f, x, want = CASES[case]
    x = np.array(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        d = directional_derivatives(f, x, np.ones_like(x), 2)
        assert np.isnan(d[0]) and d[1] == 1.0 and d[2] == 0.0
        for i in range(len(x)):
            e = np.zeros_like(x)
            e[i] = 1.0
            assert directional_derivatives(f, x, e, 1)[1] == want[i]
