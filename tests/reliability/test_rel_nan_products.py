"""A zero tangent is never poisoned by a NaN or inf partner in a second-order product.

The ε1ε2 part of a chain rule multiplies tangents of two directions (``a * b2`` in
``x * y``, ``f''(u) a b`` in ``f(u)``, the Cauchy products of Taylor
coefficients); where a direction does not move an element its tangent there is
exactly 0, and ``0 * nan`` made every Hessian entry that sums over that element
NaN: ``hyperdual.hessian`` of ``sum(x * exp(x))`` at ``[3, nan, 2]`` was NaN in
the whole row and column of the NaN element (and, for the Taylor type, everywhere),
while reverse mode gave NaN only at ``H[1, 1]``.  The truth there: the Hessian is
diagonal (``(2 + x) e**x``), so every entry but ``H[1, 1]`` is an ordinary number.

JAX (``jax.hessian``, forward over reverse) gives that answer in the NaN
element's column but NaN across its row, so it is not symmetric; both engines
here give the symmetric one (the README's "A zero tangent (forward) or zero
cotangent (reverse) is never poisoned").

The property test builds random elementwise expressions ``g`` (products,
quotients, constant powers, exp, sin, sqrt, log1p ...) and
``f(x) = sum(g(x)) + c sum(x[:-1] x[1:])``, whose Hessian entries other than
``H[k, k]`` do not depend on ``x[k]``; with ``x[k]`` NaN or inf every such entry
must equal the Hessian at the same point with ``x[k]`` finite, in every path of
both engines (hyperdual's HyperDual stacks, its sparse route at n >= 40 and
hvp; reverse's hessian and both hvp modes; the Taylor type's directional
second derivatives along the other coordinates).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kw)


def _hessians(f, x):
    """{path: Hessian} through every second-order path of both engines."""
    n = x.size
    eye = np.eye(n)
    out = {
        "hyperdual.hessian": _quiet(hd.hessian, f, x),
        "hyperdual.hvp": np.stack([_quiet(hd.hvp, f, x, e) for e in eye]),
        "reverse.hessian": _quiet(rv.hessian, f, x),
    }
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        out[f"reverse.hvp[{mode}]"] = np.stack(
            [_quiet(rv.hvp, f, x, e, mode=mode) for e in eye])
    return out


def _taylor_diagonal(f, x):
    """H[i, i] from the Taylor type: d2/dt2 f(x + t e_i)."""
    return np.array([_quiet(hd.directional_derivatives, f, x, e, 2)[2] for e in np.eye(x.size)])


def test_the_example_of_the_issue():
    x = np.array([3.0, np.nan, 2.0])

    def f(v):
        return np.sum(v * np.exp(v))

    want = np.diag([5.0 * math.exp(3.0), np.nan, 4.0 * math.exp(2.0)])
    for path, H in _hessians(f, x).items():
        assert np.isnan(H[1, 1]), path
        H = H.copy()
        H[1, 1] = np.nan
        assert_close_ulps(H, want, ulps=4, err_msg=path)
    d = _taylor_diagonal(f, x)
    assert_close_ulps(d[[0, 2]], [5.0 * math.exp(3.0), 4.0 * math.exp(2.0)], ulps=4)


# --- random elementwise expressions ------------------------------------------------
UNARY = [
    ("exp", np.exp), ("sin", np.sin), ("tanh", np.tanh),
    ("sqrt(1+u*u)", lambda u: np.sqrt(1.0 + u * u)), ("log1p(u*u)", lambda u: np.log1p(u * u)),
    ("u**3", lambda u: u ** 3), ("u**1.5", lambda u: np.abs(u) ** 1.5),
    ("1/(1+u*u)", lambda u: 1.0 / (1.0 + u * u)), ("u*exp(-u)", lambda u: u * np.exp(-u)),
    ("cbrt", np.cbrt), ("arctan", np.arctan),
]
BINARY = [
    ("*", lambda a, b: a * b), ("+", lambda a, b: a + b),
    ("/", lambda a, b: a / (1.5 + b * b)), ("-", lambda a, b: a - b * 0.5),
]


def _random_g(rng, depth):
    """A random elementwise expression tree of the variable u (and its name)."""
    if depth == 0 or rng.random() < 0.2:
        c = float(rng.choice([0.5, 1.0, -0.7]))
        return (f"{c}*u", lambda u, c=c: c * u)
    if rng.random() < 0.55:
        name, op = UNARY[rng.integers(len(UNARY))]
        sn, sub = _random_g(rng, depth - 1)
        return (f"{name}({sn})", lambda u, op=op, sub=sub: op(sub(u)))
    name, op = BINARY[rng.integers(len(BINARY))]
    (an, a), (bn, b) = _random_g(rng, depth - 1), _random_g(rng, depth - 1)
    return (f"({an} {name} {bn})", lambda u, op=op, a=a, b=b: op(a(u), b(u)))


def _cases(count, seed=12):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        name, g = _random_g(rng, 3)
        c = float(rng.choice([0.0, 0.3]))
        n = 4
        x = rng.uniform(0.3, 1.6, n) * rng.choice([-1.0, 1.0], n)
        with np.errstate(all="ignore"):
            if not np.all(np.isfinite(g(x))):
                continue
        k = int(rng.integers(n))
        bad = float(rng.choice([np.nan, np.inf, -np.inf]))
        out.append((name, g, c, x, k, bad))
    return out


CASES = _cases(40)


@pytest.mark.slow
@pytest.mark.parametrize("case", range(len(CASES)))
def test_hessian_entries_that_do_not_depend_on_the_bad_element(case):
    name, g, c, x, k, bad = CASES[case]

    def f(v):
        return np.sum(g(v)) + c * np.sum(v[:-1] * v[1:])

    xb = x.copy()
    xb[k] = bad
    keep = np.ones((x.size, x.size), dtype=bool)
    keep[k, k] = False
    ref = _quiet(rv.hessian, f, x)  # x[k] finite: the same entries (they do not depend on it)
    assert np.all(np.isfinite(ref[keep])), name
    for path, H in _hessians(f, xb).items():
        # the same sums of the same products (exact zeros added): a few ulps at most
        assert_close_ulps(H[keep], ref[keep], ulps=8, cond=np.max(np.abs(ref[keep])) /
                          np.maximum(np.abs(ref[keep]), 1e-300),
                          err_msg=f"{path}: {name} + {c} sum(x x') with x[{k}] = {bad}")
    d = _taylor_diagonal(f, xb)
    others = [i for i in range(x.size) if i != k]
    assert_close_ulps(d[others], np.diag(ref)[others], ulps=8,
                      cond=np.max(np.abs(ref)) / np.maximum(np.abs(np.diag(ref)[others]), 1e-300),
                      err_msg=f"Taylor: {name} with x[{k}] = {bad}")


def test_sparse_route_of_a_large_hessian():
    """n >= 40: hyperdual.hessian colours the pattern (ε1 carries one direction per
    colour); a NaN element still stays in its own entry."""
    n = 45
    x = np.linspace(0.5, 1.5, n)
    x[7] = np.nan

    def f(v):
        return np.sum(v * np.exp(v)) + 0.5 * np.sum(v[:-1] * v[1:])

    H = _quiet(hd.hessian, f, x)
    want = np.diag((2.0 + x) * np.exp(x)) + 0.5 * (np.eye(n, k=1) + np.eye(n, k=-1))
    keep = ~np.isnan(want)
    assert np.isnan(H[7, 7])
    assert_close_ulps(H[keep], want[keep], ulps=8)
    assert_close_ulps(_quiet(rv.hessian, f, x)[keep], want[keep], ulps=8)


def test_lanes_with_an_infinite_tangent_at_a_finite_value():
    """(sqrt(x) + 1) * (x + 1) at x = [0, 1, 2]: sqrt'(0) = inf is a tangent of a
    finite value (the written-out + - * lanes), met by the zero tangents of the
    other directions; only H[0, 0] is not finite."""
    x = np.array([0.0, 1.0, 2.0])
    for f in (lambda v: np.sum((np.sqrt(v) + 1.0) * (v + 1.0)),
              lambda v: np.sum((np.sqrt(v) + 1.0) * (np.sqrt(v) + 1.0))):
        got = _hessians(f, x)
        ref = _quiet(hd.hessian, f, np.array([0.25, 1.0, 2.0]))
        keep = np.ones((3, 3), dtype=bool)
        keep[0, 0] = False
        for path, H in got.items():
            assert not np.isfinite(H[0, 0]), path
            assert_close_ulps(H[keep], ref[keep], ulps=4, err_msg=path)


@pytest.mark.parametrize("n", [50, 2500, 20000])
def test_hvp_of_a_large_x_with_a_nan_element(n):
    """The guards' finiteness check is a dot product on small arrays and a sum
    on large ones (``_exactdiff._common.finite_array``, BLAS threads above ~10^4
    elements): a NaN element is found on both sides, and H @ e_j for j away from
    it is the closed form in every HVP path.  (hyperdual's HVP is n forward
    directions, O(n**2): its parts pass 10^4 elements at n = 2500 already, and at
    n = 20000 it took 75 s of the suite, so it runs up to n = 2500.)"""
    x = np.linspace(0.5, 1.5, n)
    k, j = n // 3, (2 * n) // 3
    x[k] = np.nan

    def f(v):
        return np.sum(v * np.exp(v)) + 0.5 * np.sum(v[:-1] * v[1:])

    e = np.zeros(n)
    e[j] = 1.0
    want = np.zeros(n)
    want[j] = (2.0 + x[j]) * np.exp(x[j])
    want[j - 1] = want[j + 1] = 0.5
    got = {"hyperdual.hvp": _quiet(hd.hvp, f, x, e)} if n <= 2500 else {}
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        got[mode] = _quiet(rv.hvp, f, x, e, mode=mode)
    for path, h in got.items():
        assert_close_ulps(h, want, ulps=4, err_msg=path)


@pytest.mark.parametrize("n", [1, 7, 8192, 8193, 30000])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_finite_array_finds_every_bad_element(n, bad):
    from _exactdiff._common import finite_array

    x = np.linspace(-2.0, 3.0, n)
    assert finite_array(x) and finite_array(x.reshape(1, n)) and finite_array(x[::-1])
    for i in {0, n // 2, n - 1}:
        y = x.copy()
        y[i] = bad
        assert not finite_array(y), (n, i)
        assert not finite_array(y.reshape(1, n)), (n, i)
        assert not finite_array(y[::-1]), (n, i)
        with np.errstate(all="raise"):  # no floating-point warning on the way
            finite_array(y)


@pytest.mark.parametrize("scale", [1e200, 1e-170])
def test_guards_under_raising_error_mode(scale):
    # Under np.seterr(all="raise") a helper raises only where f itself does: the
    # guards' finiteness check (a dot product of the tangents, which over- or
    # underflows at entries beyond 1e154 or below 1e-162) must not raise
    # FloatingPointError on a function numpy evaluates without one.
    x = np.array([scale, 2.0])

    def f(v):
        return np.sum(3.0 * v)

    with np.errstate(all="raise"):
        f(x)  # numpy itself is fine here
        got = [hd.gradient(f, x), rv.gradient(f, x), hd.jacobian(lambda v: 3.0 * v, x)]
    np.testing.assert_array_equal(got[0], [3.0, 3.0])
    np.testing.assert_array_equal(got[1], [3.0, 3.0])
    np.testing.assert_array_equal(got[2], np.diag([3.0, 3.0]))
    if scale > 1:
        # x sin x: Hessian diag(2 cos x - x sin x), evaluated by numpy outside the raise mode
        want = np.diag(2 * np.cos(x) - x * np.sin(x))
        with np.errstate(all="raise"):
            hs = [hd.hessian(lambda v: np.sum(v * np.sin(v)), x),
                  rv.hessian(lambda v: np.sum(v * np.sin(v)), x)]
        for h in hs:
            assert_close_ulps(h, want, ulps=8, cond=np.abs(x * np.cos(x)) / np.maximum(
                np.abs(want.diagonal()), 1e-300)[:, None] + 1)


@pytest.mark.parametrize("scale", [1e155, 1e200, 1.7e308])
def test_guards_are_silent_in_the_default_error_mode(scale):
    """The guards' finiteness check of tangents beyond 1e154 (a dot product of
    the tangents with themselves overflowed) emitted numpy's RuntimeWarning
    "overflow encountered in dot" under the default np.errstate, where f itself
    is silent; warnings are errors here.  The user's own error mode still
    applies to their own code."""
    from _exactdiff._common import finite_array

    x = np.array([scale, 2.0])

    def f(v):
        return np.sum(0.5 * v)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f(x)  # numpy itself is silent here
        assert finite_array(x) and finite_array(np.full(8192, scale))
        assert finite_array(np.array([[scale, -scale]]))
        assert not finite_array(np.array([scale, np.inf]))
        got = [hd.gradient(f, x), rv.gradient(f, x), hd.jacobian(lambda v: 0.5 * v, x),
               rv.jacobian(lambda v: 0.5 * v, x)]
        np.testing.assert_array_equal(got[0], [0.5, 0.5])
        np.testing.assert_array_equal(got[1], [0.5, 0.5])
        np.testing.assert_array_equal(got[2], np.diag([0.5, 0.5]))
        np.testing.assert_array_equal(got[3], np.diag([0.5, 0.5]))
        # the tangents 1 * scale of the Dual's arithmetic; then numpy's own warning
        jd = hd.jacobian(lambda v: v * scale, np.array([1.0, -0.5]))
        np.testing.assert_array_equal(jd, np.diag([scale, scale]))
        with pytest.raises(RuntimeWarning, match="overflow"):
            np.float64(scale) * np.float64(scale)
