"""Linear maps that are not selections (diff, gradient, convolve, correlate,
linspace, logspace) and interp, polyval: values match numpy's, derivatives of
every engine and order agree with each other and with central differences."""

import numpy as np
import pytest
from _shape_harness import check

rng = np.random.default_rng(7)
V1 = rng.standard_normal(6)
M = rng.standard_normal((3, 4))
T3 = rng.standard_normal((3, 2, 4))
XS = np.sort(rng.uniform(0.0, 4.0, 5))

CASES = {
    "diff": (lambda x: np.diff(x), V1),
    "diff-n2-axis0": (lambda x: np.diff(x, 2, axis=0), T3),
    "diff-neg-axis": (lambda x: np.diff(x, axis=-2), T3),
    "diff-n0": (lambda x: np.diff(x, 0), V1),
    "diff-prepend-append": (lambda x: np.diff(x, prepend=0.5, append=x[:, :1] ** 2), M),
    "diff-prepend-differentiated": (lambda x: np.diff(x[1:], prepend=x[0]), V1),
    "gradient-1d": (lambda x: np.gradient(x), V1),
    "gradient-spacing": (lambda x: np.gradient(x, 0.3), V1),
    "gradient-edge2": (lambda x: np.gradient(x, edge_order=2), V1),
    "gradient-coords": (lambda x: np.gradient(x, np.array([0.0, 0.5, 1.5, 1.7, 3.0, 4.0])), V1),
    "gradient-coords-edge2": (lambda x: np.gradient(x, np.array([0.0, 0.5, 1.5, 1.7, 3.0, 4.0]),
                                                    edge_order=2), V1),
    "gradient-2d": (lambda x: np.gradient(x), M),
    "gradient-axis": (lambda x: np.gradient(x, 2.0, axis=-1), T3),
    "gradient-axes-spacings": (lambda x: np.gradient(x, 1.0, np.array([0.0, 1.0, 3.0, 3.5]),
                                                     axis=(0, 2), edge_order=2), T3),
    "convolve-full": (lambda x: np.convolve(x[:4], x[4:]), V1),
    "convolve-same-const": (lambda x: np.convolve(x, [1.0, -2.0, 0.5], "same"), V1),
    "convolve-valid-short-first": (lambda x: np.convolve(x[:2], x[2:], mode="valid"), V1),
    "convolve-same-short-first": (lambda x: np.convolve([0.5, 2.0], x, mode="same"), V1),
    "correlate-valid": (lambda x: np.correlate(x, x[:3]), V1),
    "correlate-same-even": (lambda x: np.correlate(x[:2], x[2:], "same"), V1),
    "correlate-same": (lambda x: np.correlate(x[:5], x[3:], "same"), V1),
    "correlate-full": (lambda x: np.correlate(x[:2], x[2:], "full"), V1),
    "linspace": (lambda x: np.linspace(x[0], x[1], 7), V1),
    "linspace-no-endpoint-retstep": (lambda x: np.concatenate(
        [np.linspace(x[0], 2.0, 4, endpoint=False, retstep=True)[0],
         np.reshape(np.linspace(x[0], 2.0, 4, endpoint=False, retstep=True)[1], (1,))]), V1),
    "linspace-arrays-axis": (lambda x: np.linspace(x[:3], x[3:], 4, axis=-1), V1),
    "linspace-constant-start": (lambda x: np.linspace(-1.0, x[2], 5), V1),
    "linspace-num1": (lambda x: np.linspace(x[0], x[1], 1), V1),
    "logspace": (lambda x: np.logspace(x[0], x[1], 4), V1 * 0.3),
    "logspace-base": (lambda x: np.logspace(x[:2], 1.0, 3, base=2.0), V1),
    "interp-x": (lambda x: np.interp(x, XS, np.cos(XS)), rng.uniform(-1.0, 5.0, 8)),
    "interp-fp": (lambda x: np.interp(np.array([0.3, 1.7, 2.2, -1.0, 9.0]), XS, x), XS * 0.5),
    "interp-scalar-x": (lambda x: np.interp(x, XS, XS ** 2), np.array(2.1)),
    "interp-left-right": (lambda x: np.interp(np.array([-1.0, 1.0, 7.0]), XS, x[:5],
                                              left=x[5], right=2.0), np.arange(6.0) * 0.7),
    "interp-x-fp-xp": (lambda x: np.interp(x[:2], x[2:5], x[5:]),
                       np.array([1.1, 2.9, 0.0, 2.0, 3.5, 1.0, -1.0, 4.0])),
    "polyval": (lambda x: np.polyval([1.0, -2.0, 0.5, 3.0], x), V1),
    "polyval-coeffs": (lambda x: np.polyval(x, np.array([0.5, -1.5, 2.0])), V1),
    "polyval-both": (lambda x: np.polyval(x[:3], x[3:]), V1),
    "polyval-poly1d": (lambda x: np.polyval(np.poly1d([2.0, 1.0, -1.0]), x), M),
}

INEXACT = {"gradient-coords", "gradient-coords-edge2", "gradient-axes-spacings",
           "convolve-full", "convolve-same-const", "convolve-valid-short-first",
           "convolve-same-short-first", "correlate-valid", "correlate-same-even",
           "correlate-same", "correlate-full", "logspace", "logspace-base"}


@pytest.mark.parametrize("name", list(CASES))
def test_linear(name):
    f, x = CASES[name]
    # a different summation order may differ from numpy's by an ulp
    check(f, x, exact_value=name not in INEXACT,
          # numpy computes interp in float64 and makes logspace's base float64;
          # the engines keep float32 where the other operands are float32
          check_dtype=not name.startswith(("interp", "logspace")))


@pytest.mark.parametrize("name", ["convolve-full", "gradient-edge2", "interp-x-fp-xp",
                                  "polyval-both", "linspace-arrays-axis"])
def test_linear_third_order(name):
    f, x = CASES[name]
    check(f, x, third=True, float32=False, exact_value=name not in INEXACT)


def test_interp_at_knots_takes_the_right_slope():
    import hyperdual as hd

    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
    d = [hd.derivative(lambda t: np.interp(t, xp, fp), t) for t in (0.0, 1.0, 3.0, 4.0, -1.0)]
    assert d == [2.0, 0.5, 0.5, 0.0, 0.0]
    assert np.interp(hd.Dual(1.0, 1.0), xp, fp).real == 2.0
