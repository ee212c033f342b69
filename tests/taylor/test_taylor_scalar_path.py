"""The scalar fast path (coefficients as a list of Python floats, unrolled kernels)
against mpmath and against the numpy-array path of the same Taylor arithmetic.

A Taylor seeded from a Python float runs on the list path; one seeded from a
0-d array runs on the numpy path.  Both must give the mpmath coefficients
within the documented bound, and the same non-finite results at the edges.
"""

import math
import warnings

import mpmath
import numpy as np
import pytest

import hyperdual as hd
from hyperdual import _taylor_scalar as ts
from hyperdual._taylor import variable

mpmath.mp.dps = 50
EPS = np.finfo(float).eps


def envelope(ref):
    """max_{j <= k} |ref_j| q**(k - j), q the geometric growth rate (as test_taylor_rules)."""
    a = np.abs(np.asarray(ref, dtype=float))
    a0 = a[0] if a[0] else max(a.max(), 1e-300)
    q = max([(a[j] / a0) ** (1.0 / j) for j in range(1, len(a)) if a[j]] + [1e-300])
    return np.array([max(max(a[j] * q ** (k - j) for j in range(k + 1)), a[k])
                     for k in range(len(a))])


def assert_coefficients(ours, ref, C=64.0):
    """|ours_k - ref_k| <= C (K + 1) eps env_k: the bound of the README's Taylor section."""
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    tol = C * len(ref) * EPS * envelope(ref)
    bad = np.abs(ours - ref) > tol
    assert not bad.any(), (np.flatnonzero(bad), ours[bad], ref[bad])

FUNCS = {
    "sin": (np.sin, mpmath.sin), "cos": (np.cos, mpmath.cos),
    "sinh": (np.sinh, mpmath.sinh), "cosh": (np.cosh, mpmath.cosh),
    "exp": (np.exp, mpmath.exp), "log": (np.log, mpmath.log),
    "sqrt": (np.sqrt, mpmath.sqrt), "tanh": (np.tanh, mpmath.tanh),
    "tan": (np.tan, mpmath.tan), "expm1": (np.expm1, mpmath.expm1),
    "arctan": (np.arctan, mpmath.atan), "reciprocal": (np.reciprocal, lambda x: 1 / x),
}
ORDERS = [1, 2, 5, 8, ts.MAX_UNROLLED, ts.MAX_UNROLLED + 3]


def inner(x):
    """A curve with every coefficient non-zero, so no kernel term is skipped."""
    return 0.4 + 0.3 * x + 0.2 * x * x / (1 + 0.5 * x)


def ref_coeffs(fm, x0, K):
    g = lambda t: fm(0.4 + 0.3 * t + 0.2 * t * t / (1 + 0.5 * t))  # noqa: E731
    return [float(c) for c in mpmath.taylor(g, mpmath.mpf(x0), K)]


@pytest.mark.parametrize("name", sorted(FUNCS))
@pytest.mark.parametrize("K", ORDERS)
def test_list_path_against_mpmath_and_array_path(name, K):
    fn, fm = FUNCS[name]
    x0 = 0.35
    X = variable(x0, K)
    assert X._l is not None  # the list path
    Y = fn(inner(X))
    assert Y._l is not None, "the fast path fell back to numpy"
    ref = ref_coeffs(fm, x0, K)
    C = 256.0 if K > 8 else 64.0
    assert_coefficients(Y.coef, ref, C)
    Z = fn(inner(variable(np.array(x0), K)))  # the numpy path
    assert Z._l is None
    assert_coefficients(Z.coef, ref, C)


@pytest.mark.parametrize("K", [3, 8, 30])
def test_arithmetic_kernels(K):
    x0 = 0.7
    f = lambda x: (x * inner(x) - 2.0) / (inner(x) + x) + 3.0 / inner(x) - x / 4.0  # noqa: E731
    fm = lambda t: (t * (0.4 + 0.3 * t + 0.2 * t * t / (1 + 0.5 * t)) - 2) / (  # noqa: E731
        (0.4 + 0.3 * t + 0.2 * t * t / (1 + 0.5 * t)) + t) + 3 / (
        0.4 + 0.3 * t + 0.2 * t * t / (1 + 0.5 * t)) - t / 4
    ref = [float(c) for c in mpmath.taylor(fm, mpmath.mpf(x0), K)]
    Y = f(variable(x0, K))
    assert Y._l is not None
    assert_coefficients(Y.coef, ref, 256.0)
    assert_coefficients(f(variable(np.array(x0), K)).coef, ref, 256.0)


def test_seed_line_products():
    # the seed x_0 + t multiplies in O(K); a product of two seeds is x²
    X = variable(1.5, 6)
    assert type(X._l) is ts.Line
    np.testing.assert_array_equal((X * X).coef, [2.25, 3.0, 1.0, 0, 0, 0, 0])
    assert type((X * X)._l) is list  # results are plain lists: only the seed is a line
    np.testing.assert_allclose(hd.derivatives(lambda x: x ** 3 * np.sin(x), 1.5, 6),
                               [float(mpmath.diff(lambda t: t ** 3 * mpmath.sin(t), 1.5, k))
                                for k in range(7)], rtol=1e-14, atol=1e-13)


@pytest.mark.parametrize("f, x0", [
    (np.sqrt, 0.0), (np.log, 0.0), (np.exp, 800.0), (lambda x: 1.0 / x, 0.0),
    (np.sin, math.inf), (np.tan, math.pi / 2), (lambda x: x / (x - 1.0), 1.0),
    (lambda x: np.exp(x) * np.exp(x), 400.0),
])
def test_edges_agree_with_the_array_path(f, x0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = hd.derivatives(f, x0, 6)
        b = hd.derivatives(f, np.array(x0), 6)
    # equal up to a few ulps (numpy 2.5's tan at the pole rounds the 1e99 and
    # 1e116 coefficients one ulp apart from the list path); inf/nan placed alike
    np.testing.assert_allclose(a, b, rtol=4 * np.finfo(float).eps, atol=0)


def test_overflowing_coefficients_are_inf_on_the_list_path():
    d = hd.derivatives(lambda x: 1 / (1 - x), 0.0, 200)
    assert np.all(np.isfinite(d[:171])) and np.all(np.isinf(d[171:]))
    np.testing.assert_allclose(d[:20], [math.factorial(k) for k in range(20)], rtol=1e-13)


@pytest.mark.parametrize("name", ["sin", "cos", "sinh", "cosh", "exp", "log", "sqrt", "tanh",
                                  "tan"])
@pytest.mark.parametrize("K", [1, 2, 5, 8])
def test_kernels_tail_check_catches_every_non_finite_coefficient(name, K):
    """The generated unary kernels check y0, y(K-1) and yK only: a non-finite value anywhere
    in the result (from an inf/nan/huge input coefficient or an overflowing product) must
    still give None, so the numpy path decides."""
    ns = dict(ts._GLOBALS)
    if name in ts._W0:
        ns["_w0"] = ts._W0[name]
    exec("\n".join(ts._SOURCES[name](K)), ns)  # the kernel without the check
    full = ns[name]
    checked = ts.KERNELS[name][K]
    rng = np.random.default_rng(K)
    for pos in range(1, K + 1):
        for bad in (math.inf, -math.inf, math.nan, 1e200, 1e300, 0.0):
            xs = [0.6] + rng.uniform(-1, 1, K).tolist()
            xs[pos] = bad
            if bad == 0.0:  # zeros elsewhere make 0 * inf products
                xs = [0.6] + [0.0] * K
                xs[pos] = 1e300
            try:
                ys = full(xs)
            except (ZeroDivisionError, OverflowError, ValueError):
                continue
            ok = all(math.isfinite(v) for v in ys)
            got = checked(xs)
            assert (got is not None) == ok, (xs, ys, got)
            if ok:
                assert got == ys
