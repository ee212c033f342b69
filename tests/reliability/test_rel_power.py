"""``x ** y`` to third order, both partials, both engines, against mpmath at 50
digits across the float range (tiny and huge bases and exponents, bases next to
1, negative bases with integer exponents).

Wherever a partial derivative is a normal float64 it must be within ``ULPS``
ulps times its condition number (``(|x dP/dx| + |y dP/dy|) / |P|``, from the
next partials in closed form).  Intermediate powers such as ``x**(y - 2)`` may
overflow where the partial does not (x = 3e-200, y = 4e-200: ``x**(y - 2)`` is
1e399, the second x-partial -4.4e199): ``hyperdual._powrule`` must not.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps

mpmath = pytest.importorskip("mpmath")
M = mpmath
M.mp.dps = 50
ULPS = 8
TINY = np.finfo(float).tiny
BIG = np.finfo(float).max

XS = [1e-300, 3e-200, 1e-100, 1e-8, 0.3, 1 - 2 ** -53, 1 + 2 ** -52, 2.0, 1e8, 1e100,
      3e200, 1e300]
YS = [4e-200, -1e-300, 1e-8, 1e-3, 0.3, -0.7, 1 + 2 ** -52, 2.0, 2.5, 3.0, -3.0, 50.0]
NEG = [(-1e-200, 3.0), (-2.0, -3.0), (-1e100, 2.0), (-0.5, 5.0), (-1e-150, -2.0)]
POINTS = [(x, y) for x in XS for y in YS] + NEG


def _partial(i, j, X, Y):
    """d^(i+j)/dx^i dy^j of X**Y in closed form: X**(Y - i) * sum_k c_k(Y) log(X)^k,
    the y-derivatives taken of the falling factorial times X**(Y - i)."""
    if X < 0:
        if j:
            return None
        c = M.mpf(1)
        for t in range(i):
            c *= Y - t
        return c * (-1) ** int(Y - i) * (-X) ** (Y - i)
    L = M.ln(X)
    # d^j/dy^j [F(y) X**(y - i)] = X**(y - i) sum_m binom(j, m) F^(m)(y) L^(j - m)
    coeffs = [M.mpf(1)]  # falling factorial as a polynomial in y
    for t in range(i):
        coeffs = [(coeffs[k - 1] if k else 0) - t * (coeffs[k] if k < len(coeffs) else 0)
                  for k in range(len(coeffs) + 1)]

    def poly(cs, y):
        return sum(c * y ** k for k, c in enumerate(cs))

    total = M.mpf(0)
    cs = coeffs
    for m in range(j + 1):
        total += M.binomial(j, m) * poly(cs, Y) * L ** (j - m)
        cs = [k * cs[k] for k in range(1, len(cs))] or [M.mpf(0)]
    return X ** (Y - i) * total


def _truth(i, j, x, y):
    """(value, condition number) of the partial, or None if it is not a normal float."""
    X, Y = M.mpf(x), M.mpf(y)
    v = _partial(i, j, X, Y)
    if v is None or v == 0 or not (TINY <= abs(v) <= BIG):
        return None
    dx = _partial(i + 1, j, X, Y)
    dy = _partial(i, j + 1, X, Y)
    cond = (abs(X * dx) + (abs(Y * dy) if dy is not None else 0)) / abs(v)
    return v, max(1.0, float(cond))


def _ulps(got, want):
    if not math.isfinite(got):
        return math.inf
    return float(abs((M.mpf(got) - want) / want)) / np.finfo(float).eps


def _f(v):
    return v[0] ** v[1]


def _check(results, order):
    """results: {path: tensor of partials (indices 0 = x, 1 = y)} at each point."""
    bad = []
    for (x, y), paths in results.items():
        for path, tensor in paths.items():
            for idx in np.ndindex(*([2] * order)):
                i, j = idx.count(0), idx.count(1)
                t = _truth(i, j, x, y)
                if t is None:
                    continue
                want, cond = t
                got = float(tensor[idx])
                e = _ulps(got, want)
                if not e <= ULPS * cond:
                    bad.append(f"d{'x' * i}{'y' * j} of x**y at ({x!r}, {y!r}) via {path}:"
                               f" {got!r} vs {float(want)!r} ({e:.3g} ulps, cond {cond:.3g})")
    paths = sorted({b.split(" via ")[1].split(":")[0] for b in bad})
    assert not bad, f"{len(bad)} wrong, via {paths}:\n" + "\n".join(bad[:20])


def test_gradient_matches_mpmath():
    out = {}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for x, y in POINTS:
            p = np.array([x, y])
            out[x, y] = {"hyperdual.gradient": hd.gradient(_f, p),
                         "reverse.gradient": rv.gradient(_f, p)}
    _check(out, 1)


@pytest.mark.slow
def test_hessian_matches_mpmath():
    out = {}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for x, y in POINTS:
            p = np.array([x, y])
            e = np.eye(2)
            out[x, y] = {
                "hyperdual.hessian": hd.hessian(_f, p),
                "reverse.hessian": rv.hessian(_f, p),
                "reverse.hvp forward-over-reverse": np.stack(
                    [rv.hvp(_f, p, e[k], mode="forward-over-reverse") for k in range(2)]),
                "reverse.hvp reverse-over-reverse": np.stack(
                    [rv.hvp(_f, p, e[k], mode="reverse-over-reverse") for k in range(2)]),
                "hyperdual.jacobian(reverse.gradient)": hd.jacobian(
                    lambda v: rv.gradient(_f, v), p),
            }
    _check(out, 2)


@pytest.mark.slow
def test_third_derivatives_match_mpmath():
    out = {}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for x, y in POINTS[::3] + NEG:
            p = np.array([x, y])
            out[x, y] = {
                "reverse.jacobian(reverse.hessian)": rv.jacobian(
                    lambda v: rv.hessian(_f, v), p),
                "hyperdual.jacobian(hyperdual.hessian)": hd.jacobian(
                    lambda v: hd.hessian(_f, v), p),
                "hyperdual.jacobian(reverse.hessian)": hd.jacobian(
                    lambda v: rv.hessian(_f, v), p),
            }
    _check(out, 3)


@pytest.mark.parametrize("engine", [hd, rv], ids=lambda m: m.__name__)
def test_constant_exponent_matches_mpmath(engine):
    """x**c with a plain constant exponent takes the engines' fast path."""
    bad = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for x, c in POINTS:
            for order, helper in ((1, engine.derivative), (2, engine.second_derivative)):
                t = _truth(order, 0, x, c)
                if t is None:
                    continue
                want, cond = t
                got = float(helper(lambda s, c=c: s ** c, x))
                e = _ulps(got, want)
                if not e <= ULPS * cond:
                    bad.append(f"order {order} of x**{c!r} at {x!r}: {got!r} vs "
                               f"{float(want)!r} ({e:.3g} ulps, cond {cond:.3g})")
    assert not bad, "\n".join(bad[:20])


def test_the_reference_is_independent():
    """The closed form used as truth agrees with mpmath's own differentiation."""
    for x, y in [(0.7, 2.5), (3.0, -0.4)]:
        X, Y = M.mpf(x), M.mpf(y)
        for i, j in [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (2, 1), (1, 2), (3, 0)]:
            want = M.diff(lambda a, b: a ** b, (X, Y), (i, j))
            assert abs(_partial(i, j, X, Y) - want) <= 1e-30 * abs(want)


@pytest.mark.parametrize("x0", [-1.2, -1e-3, 0.0, 0.5, 3.0])
def test_taylor_power_with_an_array_of_exponents_is_the_scalar_power_elementwise(x0):
    """x ** [2, 3, -1, 0, 0.5, 1.5] in Taylor mode (derivatives, derivative_tensor of
    both engines) is x ** p for each p: exp(p log x) gave nan at every order for a
    negative base (x ** [2, 3] at -1.2) and at 0, where the integer powers are exact."""
    ps = np.array([2, 3, -1, 0, 0.5, 1.5])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        got = hd.derivatives(lambda x: x ** ps, x0, 4)
        for k, p in enumerate(ps):
            want = hd.derivatives(lambda x, p=p: x ** float(p), x0, 4)
            np.testing.assert_allclose(got[:, k], want, rtol=32 * 2 ** -52, atol=0)
            if x0 < 0 and not float(p).is_integer():
                continue
            P = M.mpf(float(p))
            for n in range(5):  # the falling factorial p (p-1) ... x**(p-n)
                if x0 == 0 and (n > p or (p < 0)):
                    continue
                c = M.mpf(1)
                for i in range(n):
                    c *= P - i
                truth = c * M.mpf(x0) ** (P - n) if c != 0 else M.mpf(0)
                assert abs(got[n, k] - truth) <= 8 * 2 ** -52 * abs(truth) * (n + 1)
        # as a tensor over two variables, against the HyperDual Hessian
        f = lambda v: np.sum(v ** np.array([2, 3])) * v[0]  # noqa: E731
        v = np.array([x0, 0.7 - x0])
        for eng in (hd, rv):
            np.testing.assert_allclose(eng.derivative_tensor(f, v, 2), hd.hessian(f, v),
                                       rtol=1e-14, atol=1e-14)


def test_taylor_constant_base_zero_has_zero_derivatives_in_the_exponent():
    """0 ** y: log 0 is taken as 0 in every derivative by y (the Dual rule's convention,
    README), in Taylor mode too (it gave nan); -2 ** y stays nan, 3 ** y is exact."""
    base = np.array([0.0, -2.0, 3.0])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for y0 in (2.0, 0.0, -1.0):
            got = hd.derivatives(lambda y: base ** y, y0, 3)
            np.testing.assert_array_equal(got[1:, 0], 0.0)
            assert np.all(np.isnan(got[1:, 1]))
            # 3**y log(3)**k at 50 digits; got's own rounding, a few ulps (not a flat rtol)
            want = [float(M.mpf(3) ** y0 * M.log(3) ** k) for k in range(4)]
            assert_close_ulps(got[:, 2], want, ulps=ULPS)
            assert got[1, 0] == hd.derivative(lambda y: base ** y, y0)[0]
            assert got[2, 0] == hd.second_derivative(lambda y: base ** y, y0)[0]


POW_CURVES = [(2.0, 30.0), (1e-10, 3.0), (50.0, 100.0), (1e5, -50.0), (0.5, 700.0),
              (1e100, 2.5), (1e-100, -2.5), (1e-300, 0.9), (3.0, -600.0)]


@pytest.mark.parametrize("a, b", POW_CURVES)
def test_taylor_power_with_a_moving_exponent_keeps_full_precision(a, b):
    """x(t)**y(t) and c**y(t) in Taylor mode, orders 1-4, within a few ulps of mpmath:
    exp(y log x) carried the rounding of y_0 log x_0 (abs(y_0 log x_0) ulps: 29 ulps
    at (50 + 50t)**(100 + 2t), 230 at 1e-300**(0.9 + 2t)) into every coefficient."""
    def both(t):
        return (a + a * t) ** (b + 2 * t)

    def const(t):
        return a ** (b + 2 * t)

    for f in (both, const):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            got = hd.derivatives(f, 0.0, 4)
        for k in range(5):
            truth = M.diff(f, 0, k)
            if not TINY <= abs(truth) <= BIG:
                continue
            # a handful of roundings per order (the value, log(x0), the series' terms)
            assert abs((got[k] - truth) / truth) <= 8 * (k + 1) * 2 ** -52, (f.__name__, k)
