"""hypot and arctan2 differentiated twice by nesting first-order helpers, where one
argument is far smaller than the other (issue 12, rules that lose precision).

Their partials are written with the unit vector (a/h, b/h), h = hypot(a, b).  A
nested helper differentiates that quotient again, and its derivative by a is
1/h - a**2/h**3 = b**2/h**3: formed as a difference it cancels to nothing where
|b| << |a|.  ``hd.derivative(lambda y: hd.derivative(lambda z: np.hypot(1e-7, z),
y), 8.0)`` was 0 (truth 1.95e-17) while ``hd.second_derivative`` was right, and the
random-expression fuzz (``scripts/fuzz_derivatives.py --seed 19031 --count 120
--wide``) found ``hypot(arctan2(gammaincc(x0), ndtr(x1)), x1)`` off by up to 6e-4
relative through hd-in-hd.  The unit vector is now formed as
sign(a) / hypot(1, b/a) on nested numbers where |a| > |b|.

Truth: mpmath at 50 digits.  The results are short products of correctly rounded
factors, so 64 ulps is generous, and the old results (0, or 1e-5 relative) fail it.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

M = pytest.importorskip("mpmath")
M.mp.dps = 50

ENGINES = {"hd": hd, "rv": rv}
NESTINGS = [(o, i) for o in ENGINES for i in ENGINES]
FUNCS = {
    "hypot": (np.hypot, M.hypot),
    "arctan2": (np.arctan2, M.atan2),
}


def _truth(mfn, c, y, swap, n):
    def f(t):
        return mfn(t, M.mpf(c)) if swap else mfn(M.mpf(c), t)
    return float(M.diff(f, M.mpf(y), n))


@pytest.mark.parametrize("outer,inner", NESTINGS, ids=[f"{o}-{i}" for o, i in NESTINGS])
@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("c,y", [(1e-7, 8.0), (3.0, -2e-9), (-5e-12, 0.75), (2.5, 2.5e-3)])
@pytest.mark.parametrize("swap", [False, True])
def test_second_derivative_by_nesting(outer, inner, name, c, y, swap):
    fn, mfn = FUNCS[name]

    def f(z):
        return fn(z, c) if swap else fn(c, z)
    got = ENGINES[outer].derivative(
        lambda t: ENGINES[inner].derivative(f, t), y)
    assert_close_ulps(got, _truth(mfn, c, y, swap, 2), 64,
                      err_msg=f"{outer}({inner}) d2 {name}")


@pytest.mark.parametrize("name", FUNCS)
def test_hessian_by_jacobian_of_gradient(name):
    fn, mfn = FUNCS[name]
    x = np.array([1e-7, 8.0])
    got = hd.jacobian(lambda v: hd.gradient(lambda u: fn(u[0], u[1]), v), x)
    for i in range(2):
        for j in range(2):
            def mixed(a, b):
                return mfn(a, b)
            want = float(M.diff(mixed, (M.mpf(x[0]), M.mpf(x[1])),
                                (int(i == 0) + int(j == 0), int(i == 1) + int(j == 1))))
            assert_close_ulps(got[i, j], want, 64, err_msg=f"{name} H[{i},{j}]")


@pytest.mark.parametrize("name", FUNCS)
def test_third_derivative_by_triple_nesting(name):
    fn, mfn = FUNCS[name]
    got = hd.derivative(lambda s: hd.derivative(
        lambda t: hd.derivative(lambda z: fn(1e-6, z), t), s), 4.0)
    assert_close_ulps(got, _truth(mfn, 1e-6, 4.0, False, 3), 64)


def test_array_mixes_both_forms():
    """Entries where |a| > |b| (quotient replaced) beside entries where it is not."""
    a = np.array([1e-7, 8.0, 3.0, 0.5])

    def f(y):
        return np.sum(np.hypot(a, y) + np.arctan2(y, a))
    y = np.array([8.0, 1e-7, 3.0, -2.0])
    got = hd.jacobian(lambda t: hd.gradient(f, t), y)
    for k in range(4):
        def fk(t, k=k):
            return M.hypot(M.mpf(a[k]), t) + M.atan2(t, M.mpf(a[k]))
        assert_close_ulps(got[k, k], float(M.diff(fk, M.mpf(y[k]), 2)), 64,
                          err_msg=f"entry {k}")
    assert np.all(got[~np.eye(4, dtype=bool)] == 0)


def test_fuzz_case():
    """The expression the random fuzz found (seed 19031): hypot of a small arctan2
    and x1, the Hessian by hd.jacobian of hd.gradient."""
    from scipy import special

    def f(x):
        return np.hypot(np.arctan2(special.gammaincc(2.5, x[0]), special.ndtr(x[1])), x[1])

    def mf(a, b):
        return M.hypot(M.atan2(M.gammainc(2.5, a, regularized=True), M.ncdf(b)), b)
    x = np.array([16.35, 8.09])
    got = hd.jacobian(lambda v: hd.gradient(f, v), x)
    want = [[float(M.diff(mf, (M.mpf(x[0]), M.mpf(x[1])),
                          (int(i == 0) + int(j == 0), int(i == 1) + int(j == 1))))
             for j in range(2)] for i in range(2)]
    # gammaincc, ndtr and arctan2 evaluated in float64 feed the hypot: a few ulps each, and
    # the Hessian's entries are sums of products of them
    assert_close_ulps(got, want, 256)
