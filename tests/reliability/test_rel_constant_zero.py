"""A constant factor of exactly 0 contributes exactly 0, also next to an infinite
(or NaN) derivative, in both engines and every helper (issue 12).

At x = [0, 1, 4], sqrt'(x[0]) is inf.  ``0.0 * sqrt(x[0])`` is identically 0, so
its derivative is 0; forward mode used to give ``0 * inf = nan`` (the constant's
zero met the infinite tangent), where reverse mode's zero cotangent gave 0.  The
same held for every rule whose partial with respect to the moving operand is a
constant that can be exactly 0: products with constant arrays, division by an
infinite constant, the contractions with a constant matrix (``@``, ``dot``,
``einsum``, ``inner``, ``vdot``, ``tensordot``), and the functions built on them
(``np.average`` and ``np.cov`` weights, ``np.trapezoid``'s spacing, ``np.polyval``'s
leading zero coefficients, ``logsumexp``'s ``b``, ``heaviside``, ``copysign``).

Every f below is ``f0(x) + q(x)`` with ``q = sum(x**2) / 2``, where ``f0`` has a term
in sqrt(x[0]) with a constant weight of exactly 0; the truth is the derivative of f
with that term removed, in closed form (the zero-weighted entry's derivative is
then only q's).  Each helper of each engine is checked against it (the
gradient, Jacobian, Hessian, both Hessian-vector products, derivative tensors,
Taylor derivatives along a direction that moves x[0], first and second
derivatives), and so the two engines agree.  A derivative that is genuinely
infinite (a nonzero weight on sqrt(x[0])) stays inf.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual
import reverse

EPS = np.finfo(float).eps
X = np.array([0.0, 1.0, 4.0])
S = np.sqrt(X)
with np.errstate(divide="ignore"):
    S1 = 0.5 / S                      # sqrt': [inf, 0.5, 0.25]
    S2 = -0.25 / (X * S)              # sqrt'': [-inf, -0.25, -1/32]
A = np.array([[0.0, 1.0, 2.0], [0.0, 3.0, 1.0]])  # column 0 is 0; column sums [0, 4, 3]
W3 = np.array([0.0, 2.0, 3.0])
B3 = np.diag([5.0, 1.0, 2.0])     # A @ B3 has column sums [0, 4, 6]
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy 1.x: trapz


def _lse(eng):
    return hyperdual.logsumexp if eng is hyperdual else reverse.functions.logsumexp


#: name -> (f0(x, engine), w): f0 == sum(w * sqrt(x)) + constant, with w[0] == 0
WEIGHTED = {
    "0.0*": (lambda x, e: 0.0 * np.sqrt(x[0]) + np.sqrt(x[1]) + np.sqrt(x[2]), [0, 1, 1]),
    "*0.0": (lambda x, e: np.sqrt(x[0]) * 0.0 + np.sqrt(x[1]) + np.sqrt(x[2]), [0, 1, 1]),
    "0*": (lambda x, e: 0 * np.sqrt(x[0]) + np.sqrt(x[1]) + 2.0 * np.sqrt(x[2]), [0, 1, 2]),
    "np.multiply": (lambda x, e: np.multiply(np.sqrt(x[0]), 0.0) + np.sqrt(x[1]), [0, 1, 0]),
    "array*": (lambda x, e: np.sum(W3 * np.sqrt(x)), W3),
    "*array": (lambda x, e: np.sum(np.sqrt(x) * W3), W3),
    "0-d array*": (lambda x, e: np.zeros(()) * np.sqrt(x[0]) + np.sqrt(x[2]), [0, 0, 1]),
    "/inf": (lambda x, e: np.sqrt(x[0]) / np.inf + np.sum(np.sqrt(x[1:])), [0, 1, 1]),
    "/array": (lambda x, e: np.sum(np.sqrt(x) / np.array([np.inf, 0.5, 0.25])), [0, 2, 4]),
    "0.0/": (lambda x, e: 0.0 / (1.0 + np.sqrt(x[0])) + np.sqrt(x[1]) + np.sqrt(x[2]),
             [0, 1, 1]),
    "zeros/": (lambda x, e: np.sum(np.array([0.0, 0.0, 0.0]) / (1.0 + np.sqrt(x)))
               + np.sqrt(x[1]), [0, 1, 0]),
    "average": (lambda x, e: np.average(np.sqrt(x), weights=[0.0, 1.0, 1.0]), [0, 0.5, 0.5]),
    "dot": (lambda x, e: np.dot(W3, np.sqrt(x)), W3),
    "dot_right": (lambda x, e: np.dot(np.sqrt(x), W3), W3),
    "@": (lambda x, e: np.sum(A @ np.sqrt(x)), [0, 4, 3]),
    "@A.T": (lambda x, e: np.sum(np.sqrt(x) @ A.T), [0, 4, 3]),
    "matmul": (lambda x, e: np.sum(np.matmul(A, np.sqrt(x))), [0, 4, 3]),
    "einsum": (lambda x, e: np.einsum("ij,j->", A, np.sqrt(x)), [0, 4, 3]),
    "einsum_rows": (lambda x, e: np.sum(np.einsum("ij,j->i", A, np.sqrt(x))), [0, 4, 3]),
    "einsum3": (lambda x, e: np.einsum("ij,jk,k->", A, B3, np.sqrt(x)), [0, 4, 6]),
    "einsum3_moving_first": (lambda x, e: np.einsum("k,ij,jk->", np.sqrt(x), A, B3),
                             [0, 4, 6]),
    "einsum4_rows": (lambda x, e: np.sum(np.einsum("ij,jk,k,k->i", A, B3, np.sqrt(x),
                                                   np.ones(3))), [0, 4, 6]),
    "inner": (lambda x, e: np.inner(W3, np.sqrt(x)), W3),
    "vdot": (lambda x, e: np.vdot(np.sqrt(x), W3), W3),
    "tensordot": (lambda x, e: np.sum(np.tensordot(A, np.sqrt(x), axes=1)), [0, 4, 3]),
    "polyval": (lambda x, e: np.polyval([0.0, 0.0, 2.0], np.sqrt(x[0])) + np.sqrt(x[1])
                + np.sqrt(x[2]), [0, 1, 1]),
    "trapezoid": (lambda x, e: _trapezoid(np.sqrt(x), x=[0.0, 0.0, 1.0]), [0, 0.5, 0.5]),
    "heaviside": (lambda x, e: np.sum(np.heaviside(np.array([1.0, 0.0, 0.0]), np.sqrt(x))),
                  [0, 1, 1]),
    "copysign": (lambda x, e: np.sum(np.copysign(2.0, np.sqrt(x))) + np.sqrt(x[1])
                 + np.sqrt(x[2]), [0, 1, 1]),
}


def _weighted_truth(w):
    w = np.asarray(w, dtype=float)
    with np.errstate(invalid="ignore"):  # (0 * inf, replaced by its truth 0)
        g = np.where(w != 0, w * S1, 0.0) + X
        h = np.diag(np.where(w != 0, w * S2, 0.0)) + np.eye(3)
    return g, h


def _lse_truth():
    """log(exp(s1) + exp(s2)) (logsumexp(sqrt(x), b=[0, 1, 1]))."""
    e = np.exp(S[1:])
    p = e / np.sum(e)
    g = np.zeros(3)
    g[1:] = p * S1[1:]
    h = np.zeros((3, 3))
    h[1:, 1:] = np.outer(S1[1:], S1[1:]) * (np.diag(p) - np.outer(p, p)) + np.diag(p * S2[1:])
    return g + X, h + np.eye(3)


def _cov_truth():
    """(s1 - s2)**2 / 2 (np.cov(sqrt(x), aweights=[0, 1, 1]))."""
    d = S[1] - S[2]
    g = np.array([0.0, d * S1[1], -d * S1[2]])
    h = np.zeros((3, 3))
    h[1, 1] = S1[1] ** 2 + d * S2[1]
    h[2, 2] = S1[2] ** 2 - d * S2[2]
    h[1, 2] = h[2, 1] = -S1[1] * S1[2]
    return g + X, h + np.eye(3)


#: name -> (f0(x, engine), (gradient, Hessian) of f0 + q at X)
CASES = {name: (f, _weighted_truth(w)) for name, (f, w) in WEIGHTED.items()}
CASES["logsumexp_b"] = (lambda x, e: _lse(e)(np.sqrt(x), b=np.array([0.0, 1.0, 1.0])),
                        _lse_truth())
CASES["cov_aweights"] = (lambda x, e: np.cov(np.sqrt(x), aweights=[0.0, 1.0, 1.0]),
                         _cov_truth())

ENGINES = {"hyperdual": hyperdual, "reverse": reverse}
V = np.array([1.0, -1.0, 2.0])   # an hvp direction moving x[0]
E = np.array([1.0, 1.0, 0.0])    # a line through X along which x[0] moves


def _full(name, eng):
    f0 = CASES[name][0]
    return lambda x: f0(x, eng) + 0.5 * np.sum(x * x)


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(all="ignore"):
            return fn(*args, **kw)


def _check(got, want, what):
    """Exact zeros stay exact zeros; the rest within a few ulps of the closed form
    (each truth is a handful of operations on sums of same-sign terms: condition 1
    to 2 at this point)."""
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape, what
    assert np.all(np.isfinite(got)), f"{what}: {got} (truth {want})"
    np.testing.assert_allclose(got, want, rtol=32 * EPS, atol=0, err_msg=what)


@pytest.mark.parametrize("eng", list(ENGINES))
@pytest.mark.parametrize("name", list(CASES))
def test_gradient_jacobian(name, eng):
    m = ENGINES[eng]
    f = _full(name, m)
    g, _ = CASES[name][1]
    _check(_quiet(m.gradient, f, X), g, f"{eng}.gradient")
    jac = _quiet(m.jacobian, lambda x: f(x) * np.array([1.0, 2.0]), X)
    _check(jac, np.stack([g, 2.0 * g]), f"{eng}.jacobian")
    # along V, which moves x[0]: reverse's jvp (two reverse passes) and linearize
    _check(_quiet(m.jvp, f, X, V)[1], g @ V, f"{eng}.jvp")
    if m is reverse:
        _check(_quiet(m.linearize, f, X)[1](V), g @ V, "reverse.linearize")


@pytest.mark.parametrize("eng", list(ENGINES))
@pytest.mark.parametrize("name", list(CASES))
def test_hessian_hvp_tensor(name, eng):
    m = ENGINES[eng]
    f = _full(name, m)
    _, h = CASES[name][1]
    _check(_quiet(m.hessian, f, X), h, f"{eng}.hessian")
    _check(_quiet(m.derivative_tensor, f, X, 2), h, f"{eng}.derivative_tensor")
    if m is reverse:
        for mode in ("forward-over-reverse", "reverse-over-reverse"):
            _check(_quiet(m.hvp, f, X, V, mode=mode), h @ V, f"reverse.hvp {mode}")
    else:
        _check(_quiet(m.hvp, f, X, V), h @ V, "hyperdual.hvp")


@pytest.mark.parametrize("eng", list(ENGINES))
@pytest.mark.parametrize("name", list(CASES))
def test_along_a_line(name, eng):
    """Scalar helpers (Dual, HyperDual, Taylor) on t -> f(X + t E), which moves x[0]."""
    m = ENGINES[eng]
    f = _full(name, m)
    g, h = CASES[name][1]
    d1, d2 = g @ E, E @ h @ E
    line = lambda t: f(X + t * E)  # noqa: E731
    _check(_quiet(m.derivative, line, 0.0), d1, f"{eng}.derivative")
    _check(_quiet(m.second_derivative, line, 0.0), d2, f"{eng}.second_derivative")
    ds = _quiet(m.derivatives, line, 0.0, 2)
    _check(ds[1:], [d1, d2], f"{eng}.derivatives")


@pytest.mark.parametrize("name", ["0.0*", "array*", "@", "einsum", "/inf"])
def test_scalar_derivative_at_the_singular_point(name):
    """d/dt of f0 along x[0] alone at x[0] = 0: exactly 0 (f0 does not depend on x[0])."""
    f0 = CASES[name][0]
    e0 = np.array([1.0, 0.0, 0.0])
    for m in (hyperdual, reverse):
        got = _quiet(m.derivative, lambda t, m=m: f0(X + t * e0, m), 0.0)
        assert got == 0.0, (m.__name__, got)


GENUINE = {
    "1.0*": (lambda x: 1.0 * np.sqrt(x[0]) + np.sqrt(x[1]), [np.inf, 0.5, 0.0]),
    "array*": (lambda x: np.sum(np.array([1.0, 2.0, 0.0]) * np.sqrt(x)), [np.inf, 1.0, 0.0]),
    "@": (lambda x: np.sum(np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]]) @ np.sqrt(x)),
          [np.inf, 0.5, 0.0]),
    "einsum": (lambda x: np.einsum("i,i->", np.array([-1.0, 0.0, 1.0]), np.sqrt(x)),
               [-np.inf, 0.0, 0.25]),
    "average": (lambda x: np.average(np.sqrt(x), weights=[1.0, 0.0, 1.0]),
                [np.inf, 0.0, 0.125]),
}


@pytest.mark.parametrize("eng", list(ENGINES))
@pytest.mark.parametrize("name", list(GENUINE))
def test_a_genuine_infinity_stays(name, eng):
    """A nonzero weight on sqrt(x[0]) keeps the infinite derivative, with its sign;
    the zero-weighted entries next to it are exactly 0."""
    m = ENGINES[eng]
    f, want = GENUINE[name]
    got = _quiet(m.gradient, f, X)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_allclose(got, want, rtol=4 * EPS, atol=0)
    assert _quiet(m.derivative, lambda t: 1.0 * np.sqrt(t), 0.0) == np.inf
    # J v along x[0] alone: the infinite entry times 1.  (reverse.jvp seeded its
    # first pass's cotangent u with zeros, and the zero-cotangent guard took u's 0
    # times the infinite partial as a structural 0: it gave 0.)
    e0 = np.array([1.0, 0.0, 0.0])
    assert _quiet(m.jvp, f, X, e0)[1] == want[0]
    assert _quiet(m.jvp, np.sqrt, X, e0)[1].tolist() == [np.inf, 0.0, 0.0]
    if m is reverse:
        assert _quiet(m.linearize, f, X)[1](e0) == want[0]


def test_stacked_and_nested_numbers():
    """The direction-stack lanes (arrays of tangents), HyperDual's lanes and
    forward-over-reverse give the same zeros: the Jacobian of the elementwise
    product with a constant array is diagonal, 0 at the zero weight."""
    w = np.array([0.0, 2.0, 3.0])
    with np.errstate(invalid="ignore"):
        want = np.diag(np.where(w != 0, w * S1, 0.0))
    for m in (hyperdual, reverse):
        _check(_quiet(m.jacobian, lambda x: w * np.sqrt(x), X), want, m.__name__)
        _check(_quiet(m.jacobian, lambda x: np.sqrt(x) * w, X), want, m.__name__)
    # the Hessian of sum(w * (sqrt(x) * x)): at x[0] = 0 the tangents of sqrt(x) * x
    # are NaN (0 * inf, both factors move); w's 0 there gives 0.  (x**1.5)'' = 0.75/sqrt(x)
    h = np.diag(np.where(w != 0, w * 0.75 / np.where(S > 0, S, 1.0), 0.0))
    for m in (hyperdual, reverse):
        got = _quiet(m.hessian, lambda x: np.sum(w * (np.sqrt(x) * x)), X)
        _check(got, h, m.__name__)


SCALAR = {
    "0.0*": lambda t: 0.0 * np.sqrt(t) + t * t,
    "*0": lambda t: np.sqrt(t) * 0 + t * t,
    "np.float64(0)*": lambda t: np.float64(0.0) * np.sqrt(t) + t * t,
    "/inf": lambda t: np.sqrt(t) / np.inf + t * t,
    "0.0/": lambda t: 0.0 / (1.0 + np.sqrt(t)) + t * t,
    "polyval": lambda t: np.polyval([0.0, 3.0], np.sqrt(t)) + t * t,
}


@pytest.mark.parametrize("eng", list(ENGINES))
@pytest.mark.parametrize("name", list(SCALAR))
def test_scalar_numbers(name, eng):
    """Python-float Duals, HyperDuals and Taylor numbers (the scalar fast paths):
    f = c + 0 * sqrt(t) + t**2 at t = 0 has f' = 0, f'' = 2, and Taylor derivatives
    [c, 0, 2, 0]."""
    m = ENGINES[eng]
    f = SCALAR[name]
    assert _quiet(m.derivative, f, 0.0) == 0.0
    assert _quiet(m.second_derivative, f, 0.0) == 2.0
    np.testing.assert_array_equal(_quiet(m.derivatives, f, 0.0, 3),
                                  [_quiet(f, 0.0), 0.0, 2.0, 0.0])
    np.testing.assert_array_equal(_quiet(m.hessian, lambda x: f(x[0]), np.zeros(1)), [[2.0]])


def test_zero_numerator_forward_mode():
    """``c / y`` with a constant c = 0 is identically 0 where y is not 0: forward mode's
    partials -c/y**2, 2c/y**3 are constant zeros there (Dual, HyperDual, Taylor).
    (Reverse mode's second-order paths form -(gy * (c / y)) / y with both factors
    moving, and keep numpy's nan there, as for any product of two moving factors.)"""
    f = lambda t: 0.0 / (1.0 + np.sqrt(t)) + t * t  # noqa: E731
    assert _quiet(hyperdual.derivative, f, 0.0) == 0.0
    assert _quiet(hyperdual.second_derivative, f, 0.0) == 2.0
    np.testing.assert_array_equal(_quiet(hyperdual.derivatives, f, 0.0, 3), [0.0, 0.0, 2.0, 0.0])
    g = lambda x: np.sum(np.array([0.0, 2.0, 1.0]) / (1.0 + np.sqrt(x))) + 0.5 * np.sum(x * x)  # noqa: E731
    s1 = np.array([0.0, 0.5, 0.25])  # sqrt' where the numerator is not 0
    want = -np.array([0.0, 2.0, 1.0]) * s1 / (1.0 + S) ** 2 + X
    assert _quiet(reverse.gradient, g, X)[0] == 0.0
    _check(_quiet(hyperdual.gradient, g, X), want, "hyperdual.gradient")
    _check(_quiet(hyperdual.jacobian, lambda x: g(x) * np.ones(2), X), np.stack([want, want]),
           "hyperdual.jacobian")
    assert _quiet(hyperdual.hessian, g, X)[0, 0] == 1.0
