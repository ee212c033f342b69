"""np.modf, np.frexp, np.ldexp, np.nextafter and np.spacing (and np.divmod in Taylor
mode) in both engines and Taylor mode: they raised "not supported".

``modf(x) = (x - trunc(x), trunc(x))``, ``frexp(x) = (x 2**-e, e)`` and ``ldexp(x, n) =
x 2**n`` are linear in x between the jumps of the integral part and the exponent, which
are piecewise constant: the derivatives are 1, ``2**-e`` and ``2**n`` (exact powers of
two), every higher derivative 0.  Truth: those closed forms, exactly; numpy's values,
exactly (products by powers of two round only in the subnormals, where a constant
correction gives numpy's one rounding); central differences for compositions.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual import Dual, HyperDual
from reverse import Variable
from tests._tolerance import assert_close_ulps

rng = np.random.default_rng(11)


def _wide(dtype, k=2000):
    """Finite and special values across the whole range of ``dtype``, subnormals too."""
    fi = np.finfo(dtype)
    ex = rng.integers(int(np.log10(fi.smallest_subnormal)) + 1, int(np.log10(fi.max)), k)
    x = (rng.uniform(-9.9, 9.9, k) * 10.0 ** ex.astype(float)).astype(dtype)
    x[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, fi.smallest_subnormal]
    return x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_first_derivatives_exact_over_the_range(dtype):
    x = _wide(dtype)
    n = rng.integers(-2300 if dtype is np.float64 else -300,
                     2300 if dtype is np.float64 else 300, x.size)
    with np.errstate(all="ignore"):
        d = Dual(x, np.ones_like(x))
        got = np.ldexp(d, n)
        np.testing.assert_array_equal(got.real, np.ldexp(x, n))
        np.testing.assert_array_equal(got.dual, np.ldexp(np.ones_like(x), n))
        assert got.real.dtype == dtype
        m, e = np.frexp(d)
        mw, ew = np.frexp(x)
        np.testing.assert_array_equal(m.real, mw)
        np.testing.assert_array_equal(e, ew)
        np.testing.assert_array_equal(m.dual, np.ldexp(np.ones_like(x), -ew))
        f, w = np.modf(d)
        fw, ww = np.modf(x)
        np.testing.assert_array_equal(f.real, fw)
        np.testing.assert_array_equal(w, ww)
        # derivative 1 (0 at +-inf, where the fractional part is the constant +-0)
        np.testing.assert_array_equal(f.dual, np.where(np.isinf(x), 0.0, 1.0))
        v = Variable(x)
        np.testing.assert_array_equal(np.ldexp(v, n).data, np.ldexp(x, n))
        np.testing.assert_array_equal(np.frexp(v)[0].data, mw)
        np.testing.assert_array_equal(np.modf(v)[0].data, fw)


X = np.array([0.3, -0.7, 2.6, 0.45, -3.2, 1.75])
N = np.array([1, -3, 40, 0, 2, -7])
CASES = {
    "modf": lambda v: np.sum(np.modf(v)[0] ** 3 + np.modf(v)[1] * v),
    "frexp": lambda v: np.sum(np.frexp(v)[0] ** 2 * np.frexp(v)[1]),
    "ldexp": lambda v: np.sum(np.sin(np.ldexp(v, N) * 1e-12)),
    "divmod": lambda v: np.sum(np.divmod(v + 5.0, 1.5)[1] ** 2 + np.divmod(v, 0.55)[0] * v),
}
#: closed forms of the gradients at X (the integral parts and exponents are constants)
U = np.array([0.3, 1.0, -0.5, 0.25, 0.7, -1.2])


def _closed_gradient(name):
    if name == "modf":
        return 3 * np.modf(X)[0] ** 2 + np.modf(X)[1]
    if name == "frexp":
        m, e = np.frexp(X)
        return 2 * m * e * np.ldexp(1.0, -e)
    if name == "ldexp":
        s = np.ldexp(1.0, N)
        return np.cos(X * s * 1e-12) * s * 1e-12
    r, q = np.mod(X + 5.0, 1.5), np.floor_divide(X, 0.55)
    return 2 * r + q


@pytest.mark.parametrize("name", CASES)
def test_gradients_hessians_and_taylor(name):
    f = CASES[name]
    want = _closed_gradient(name)
    for eng in (hd, rv):
        np.testing.assert_allclose(eng.gradient(f, X), want, rtol=1e-14, atol=0)
    H = hd.hessian(f, X)
    np.testing.assert_allclose(rv.hessian(f, X), H, rtol=1e-14, atol=1e-300)
    h = 1e-6
    fd = np.array([(hd.gradient(f, X + h * e) - hd.gradient(f, X - h * e)) / (2 * h)
                   for e in np.eye(6)])
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-8)
    # Taylor mode (directional derivatives, both engines) against the Hessian and
    # nested helpers
    t = hd.directional_derivatives(f, X, U, 3)
    np.testing.assert_allclose(t[1], want @ U, rtol=1e-13)
    np.testing.assert_allclose(t[2], U @ H @ U, rtol=1e-12, atol=1e-14)
    third = hd.derivative(lambda s: hd.second_derivative(lambda r: f(X + r * U), s), 0.0)
    np.testing.assert_allclose(t[3], third, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rv.directional_derivatives(f, X, U, 3), t, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("outer", [hd, rv], ids=["hd-outside", "rv-outside"])
@pytest.mark.parametrize("inner", [hd, rv], ids=["hd-inside", "rv-inside"])
def test_nesting(outer, inner):
    # d/da [a * d/db (frexp(a b)[0] + ldexp(b, 3) modf(a)[0])] at a = 1.3, b = 0.6:
    # frexp(1.3 b) has exponent 0 near b = 0.6 (mantissa a b), modf(a)[0] is a - 1:
    # inner = a + 8 (a - 1), outer derivative d/da [a**2 + 8 a (a - 1)] = 18 a - 8
    a0, b0 = 1.3, 0.6
    got = outer.derivative(lambda a: a * inner.derivative(
        lambda b: np.frexp(a * b)[0] + np.ldexp(b, 3) * np.modf(a)[0], b0), a0)
    np.testing.assert_allclose(got, 18 * a0 - 8, rtol=1e-14)


def test_hyperdual_numbers_and_errors():
    z = HyperDual(2.5, 1.0, 1.0, 0.0)
    m, e = np.frexp(z)
    assert (m.real, m.eps1, m.eps12, e) == (0.625, 0.25, 0.0, 2)
    with pytest.raises(TypeError, match="exponent n must be a constant integer"):
        np.ldexp(Dual(1.0, 1.0), Dual(2.0, 1.0))
    with pytest.raises(TypeError, match="exponent n must be an integer"):
        np.ldexp(Variable(np.ones(2)), 2.5)
    with pytest.raises(TypeError):  # numpy's own check: a float exponent array
        np.ldexp(Dual(np.ones(2), np.ones(2)), np.array([1.5, 2.0]))


# --- nextafter and spacing ---------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nextafter_and_spacing_values_and_derivatives_over_the_range(dtype):
    """nextafter(x1, x2) = x1 + a one-ulp step (piecewise constant): derivative 1 in x1,
    0 in x2, numpy's values exactly; spacing piecewise constant (derivative 0).  Both
    raised "not supported".  Where x1 is not finite, numpy's value, derivative 0."""
    x = _wide(dtype)
    to = np.where(rng.uniform(size=x.size) < 0.5, np.inf, -np.inf).astype(dtype)
    to[::7] = x[::7]  # x1 == x2: numpy returns x2
    for make, part in ((lambda v: Dual(v, np.ones_like(v)), lambda r: (r.real, r.dual)),
                       (lambda v: HyperDual(v, np.ones_like(v), np.ones_like(v), 0.0 * v),
                        lambda r: (r.real, r.eps1))):
        with np.errstate(all="ignore"):
            val, der = part(np.nextafter(make(x), to))
            np.testing.assert_array_equal(val, np.nextafter(x, to))
            assert val.dtype == dtype
            np.testing.assert_array_equal(der, np.where(np.isfinite(x), 1.0, 0.0))
            sp_ = np.spacing(make(x))
            np.testing.assert_array_equal(sp_, np.spacing(x))
            assert not isinstance(sp_, (Dual, HyperDual))
            # only the other argument differentiated: numpy's plain values (derivative 0)
            r = np.nextafter(x, make(to))
            assert isinstance(r, np.ndarray)
            np.testing.assert_array_equal(r, np.nextafter(x, to))


def test_nextafter_spacing_helpers_nesting_and_the_long_double_redo():
    """f = nextafter(x², 10) * spacing(x) + x: f' = 2 x spacing(x) + 1, f'' = 2 spacing;
    at subnormal x (the helpers' long double redo) spacing stays float64's ulp."""
    x0 = np.array([1.5, -3.0, 1e-310, 0.0])
    sp_ = np.spacing(x0)

    def f(x):
        return np.sum(np.nextafter(x * x, 10.0) * np.spacing(x) + x)

    for eng in (hd, rv):
        # (1 + 2 x spacing(x) rounds in another order: an ulp of 1)
        assert_close_ulps(eng.gradient(f, x0), 2 * x0 * sp_ + 1.0, ulps=2)
        np.testing.assert_array_equal(eng.hessian(f, x0), np.diag(2 * sp_))
        np.testing.assert_array_equal(
            eng.jacobian(lambda v: np.spacing(v) * v, x0), np.diag(sp_))
        d = eng.derivatives(lambda t: np.nextafter(t ** 3, -np.inf), 1.25, 3)
        np.testing.assert_array_equal(d, [np.nextafter(1.25 ** 3, -np.inf), 3 * 1.25 ** 2,
                                          6 * 1.25, 6.0])
    for outer in (hd, rv):
        for inner in (hd, rv):
            got = outer.derivative(lambda a, inner=inner: inner.derivative(
                lambda b: np.nextafter(a * b * b, 0.0), 2.0), 3.0)
            assert got == 4.0, (outer.__name__, inner.__name__)
