"""Catalog of test functions for the cross-validation harness.

Every function is written once in **plain numpy** (``np.sin``, ``np.exp``,
``@``, ``np.sum``, indexing, broadcasting) so the very same code runs on
ndarrays, on ``hyperdual`` numbers and on ``reverse`` Variables.  Closed-form
derivatives (written by hand from calculus, evaluated on ndarrays only) are
the independent reference the engines are checked against.

Kinds
-----
``"scalar"``
    ``f: R -> R``; the sampler returns a Python float, ``grad`` is ``f'`` and
    ``hess`` is ``f''`` (both floats).
``"R^n->R"``
    ``f: R^n -> R``; the sampler returns a 1-d array, ``grad`` returns shape
    ``(n,)`` and ``hess`` shape ``(n, n)``.
``"vector"``
    ``f: R^n -> R^m`` (any output shape); ``jac`` returns
    ``f(x).shape + x.shape``.

Optimisation problems also carry ``start`` (the standard starting point) and
``minimiser`` (the minimiser reached from it; ``None`` when the test checks
the value ``fmin`` instead).

Examples
--------
>>> from catalog import CATALOG, by_name
>>> len(CATALOG) >= 40
True
>>> e = by_name("rosenbrock_2d")
>>> float(e.f(e.minimiser))
0.0
>>> e.grad(e.start)
array([-215.6,  -88. ])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.special

__all__ = ["Entry", "CATALOG", "by_name", "entries", "OPTIMISATION"]

LN2 = np.log(2.0)
LN10 = np.log(10.0)


@dataclass(frozen=True)
class Entry:
    """One test function with its domain and (where known) closed-form derivatives.

    Attributes
    ----------
    name : str
        Unique identifier, used in test ids and failure messages.
    f : callable
        The function, plain numpy.
    sample : callable
        ``sample(rng) -> x``: a point inside the domain where ``f`` is smooth.
    kind : {"scalar", "R^n->R", "vector"}
    grad, hess : callable or None
        Closed-form gradient / Hessian (``f'`` / ``f''`` for scalars).
    jac : callable or None
        Closed-form Jacobian for vector-valued functions.
    start, minimiser : ndarray or None
        Standard starting point and the minimiser reached from it.
    fmin : float or None
        Minimum value (used when the minimiser is not unique).
    hessian_paths : bool
        Run full-Hessian paths (False for large ``n``; HVPs still run).
    scipy_rosen : bool
        ``f`` equals ``scipy.optimize.rosen`` (chained Rosenbrock), so
        ``rosen_der``/``rosen_hess``/``rosen_hess_prod`` are references too.
    fd_scale : float
        Extra factor on the finite-difference tolerance (a bound on the size
        of third derivatives relative to the function's scale; 1 by default).
    """

    name: str
    f: Callable
    sample: Callable[[np.random.Generator], Any]
    kind: str
    grad: Callable | None = None
    hess: Callable | None = None
    jac: Callable | None = None
    start: np.ndarray | None = None
    minimiser: np.ndarray | None = None
    fmin: float | None = None
    hessian_paths: bool = True
    scipy_rosen: bool = False
    fd_scale: float = 1.0
    tags: tuple = field(default_factory=tuple)

    def __repr__(self) -> str:  # short ids in pytest output
        return f"Entry({self.name})"


def _uniform(lo: float, hi: float) -> Callable:
    return lambda rng: float(rng.uniform(lo, hi))


def _signed(lo: float, hi: float) -> Callable:
    """|x| in [lo, hi] with a random sign (keeps away from a singular point at 0)."""
    return lambda rng: float(rng.choice([-1.0, 1.0]) * rng.uniform(lo, hi))


def _box(lo: float, hi: float, n: int) -> Callable:
    return lambda rng: rng.uniform(lo, hi, size=n)


def _scalar(name, f, d1, d2, sample, **kw) -> Entry:
    return Entry(name, f, sample, "scalar", grad=d1, hess=d2, tags=("elementary",), **kw)


# ---------------------------------------------------------------------------
# Scalar functions: one per elementary rule (f, f', f'' by hand)
# ---------------------------------------------------------------------------


def _cbrt_d1(x):
    return 1.0 / (3.0 * np.cbrt(x) ** 2)


def _cbrt_d2(x):
    return -2.0 / (9.0 * np.cbrt(x) ** 5)


# hypot(x, 2 - x) = sqrt(u), u = x^2 + (2 - x)^2, u' = 4x - 4, u'' = 4
def _hyp_u(x):
    return x * x + (2.0 - x) ** 2


def _hyp_d1(x):
    return (4.0 * x - 4.0) / (2.0 * np.sqrt(_hyp_u(x)))


def _hyp_d2(x):
    r = np.sqrt(_hyp_u(x))
    return 4.0 / (2.0 * r) - (4.0 * x - 4.0) ** 2 / (4.0 * r**3)


SCALARS = [
    _scalar("sin", np.sin, np.cos, lambda x: -np.sin(x), _uniform(-3, 3)),
    _scalar("cos", np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x), _uniform(-3, 3)),
    _scalar("tan", np.tan, lambda x: 1 + np.tan(x) ** 2,
            lambda x: 2 * np.tan(x) * (1 + np.tan(x) ** 2), _uniform(-1.2, 1.2)),
    _scalar("arcsin", np.arcsin, lambda x: 1 / np.sqrt(1 - x * x),
            lambda x: x / (1 - x * x) ** 1.5, _uniform(-0.9, 0.9)),
    _scalar("arccos", np.arccos, lambda x: -1 / np.sqrt(1 - x * x),
            lambda x: -x / (1 - x * x) ** 1.5, _uniform(-0.9, 0.9)),
    _scalar("arctan", np.arctan, lambda x: 1 / (1 + x * x),
            lambda x: -2 * x / (1 + x * x) ** 2, _uniform(-3, 3)),
    _scalar("sinh", np.sinh, np.cosh, np.sinh, _uniform(-3, 3)),
    _scalar("cosh", np.cosh, np.sinh, np.cosh, _uniform(-3, 3)),
    _scalar("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2,
            lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), _uniform(-3, 3)),
    _scalar("arcsinh", np.arcsinh, lambda x: 1 / np.sqrt(1 + x * x),
            lambda x: -x / (1 + x * x) ** 1.5, _uniform(-3, 3)),
    _scalar("arccosh", np.arccosh, lambda x: 1 / np.sqrt(x * x - 1),
            lambda x: -x / (x * x - 1) ** 1.5, _uniform(1.2, 4)),
    _scalar("arctanh", np.arctanh, lambda x: 1 / (1 - x * x),
            lambda x: 2 * x / (1 - x * x) ** 2, _uniform(-0.9, 0.9)),
    _scalar("exp", np.exp, np.exp, np.exp, _uniform(-3, 3)),
    _scalar("expm1", np.expm1, np.exp, np.exp, _uniform(-3, 3)),
    _scalar("exp2", np.exp2, lambda x: LN2 * np.exp2(x), lambda x: LN2**2 * np.exp2(x),
            _uniform(-3, 3)),
    _scalar("log", np.log, lambda x: 1 / x, lambda x: -1 / x**2, _uniform(0.2, 5)),
    _scalar("log1p", np.log1p, lambda x: 1 / (1 + x), lambda x: -1 / (1 + x) ** 2,
            _uniform(-0.8, 4)),
    _scalar("log2", np.log2, lambda x: 1 / (x * LN2), lambda x: -1 / (x * x * LN2),
            _uniform(0.2, 5)),
    _scalar("log10", np.log10, lambda x: 1 / (x * LN10), lambda x: -1 / (x * x * LN10),
            _uniform(0.2, 5)),
    _scalar("sqrt", np.sqrt, lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x**-1.5,
            _uniform(0.2, 5)),
    _scalar("cbrt", np.cbrt, _cbrt_d1, _cbrt_d2, _signed(0.2, 5)),
    _scalar("square", np.square, lambda x: 2 * x, lambda x: 2.0, _uniform(-3, 3)),
    _scalar("reciprocal", np.reciprocal, lambda x: -1 / x**2, lambda x: 2 / x**3,
            _signed(0.3, 3)),
    _scalar("power_real_exponent", lambda x: np.power(x, 2.7), lambda x: 2.7 * x**1.7,
            lambda x: 2.7 * 1.7 * x**0.7, _uniform(0.2, 4)),
    _scalar("power_real_base", lambda x: np.power(2.5, x), lambda x: np.log(2.5) * 2.5**x,
            lambda x: np.log(2.5) ** 2 * 2.5**x, _uniform(-3, 3)),
    _scalar("power_x_to_x", lambda x: x**x, lambda x: x**x * (np.log(x) + 1),
            lambda x: x**x * ((np.log(x) + 1) ** 2 + 1 / x), _uniform(0.3, 2.5)),
    _scalar("integer_powers", lambda x: x**4 - 2 * x**3 + x**1 - 3 * x**0,
            lambda x: 4 * x**3 - 6 * x**2 + 1, lambda x: 12 * x**2 - 12 * x, _uniform(-2, 2)),
    _scalar("hypot", lambda x: np.hypot(x, 2.0 - x), _hyp_d1, _hyp_d2, _uniform(-3, 3)),
    # arctan2(x, 1.5) + arctan2(1, x): d/dy atan2(y, c) = c/(c^2+y^2),
    # d/dx atan2(c, x) = -c/(c^2+x^2); second derivatives by the quotient rule.
    _scalar("arctan2", lambda x: np.arctan2(x, 1.5) + np.arctan2(1.0, x),
            lambda x: 1.5 / (2.25 + x * x) - 1 / (1 + x * x),
            lambda x: -3 * x / (2.25 + x * x) ** 2 + 2 * x / (1 + x * x) ** 2,
            _uniform(-3, 3)),
    # |x| sin x away from x = 0: f' = sign(x) sin x + |x| cos x, f'' = 2 sign(x) cos x - |x| sin x
    _scalar("abs", lambda x: np.abs(x) * np.sin(x),
            lambda x: np.sign(x) * np.sin(x) + np.abs(x) * np.cos(x),
            lambda x: 2 * np.sign(x) * np.cos(x) - np.abs(x) * np.sin(x), _signed(0.2, 3)),
    # maximum(x^2, 1) away from the ties at |x| = 1
    _scalar("maximum", lambda x: np.maximum(x * x, 1.0),
            lambda x: 2 * x if x * x > 1 else 0.0, lambda x: 2.0 if x * x > 1 else 0.0,
            lambda rng: float(rng.choice([-1, 1]) * rng.choice([rng.uniform(0.1, 0.8),
                                                                 rng.uniform(1.2, 2.5)]))),
    # minimum(exp(x), 2) away from the tie at x = ln 2
    _scalar("minimum", lambda x: np.minimum(np.exp(x), 2.0),
            lambda x: np.exp(x) if x < LN2 else 0.0, lambda x: np.exp(x) if x < LN2 else 0.0,
            lambda rng: float(rng.choice([rng.uniform(-2, 0.5), rng.uniform(0.9, 2.5)]))),
    _scalar("erf", scipy.special.erf, lambda x: 2 / np.sqrt(np.pi) * np.exp(-x * x),
            lambda x: -4 * x / np.sqrt(np.pi) * np.exp(-x * x), _uniform(-2.5, 2.5)),
]


# ---------------------------------------------------------------------------
# Classical optimisation problems (Moré, Garbow & Hillstrom 1981 and others)
# ---------------------------------------------------------------------------


def rosenbrock(x):
    """Chained Rosenbrock, identical to ``scipy.optimize.rosen``."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    x = np.asarray(x, float)
    g = np.zeros_like(x)
    t = x[1:] - x[:-1] ** 2
    g[:-1] += -400.0 * x[:-1] * t - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * t
    return g


def rosenbrock_hess(x):
    x = np.asarray(x, float)
    n = x.size
    h = np.zeros((n, n))
    i = np.arange(n - 1)
    h[i, i] += 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    h[i + 1, i + 1] += 200.0
    h[i, i + 1] = h[i + 1, i] = -400.0 * x[:-1]
    return h


def extended_rosenbrock(x):
    """MGH problem 21: independent Rosenbrock pairs (x[2i], x[2i+1])."""
    e, o = x[0::2], x[1::2]
    return np.sum(100.0 * (o - e**2) ** 2 + (1.0 - e) ** 2)


def extended_rosenbrock_grad(x):
    x = np.asarray(x, float)
    e, o = x[0::2], x[1::2]
    g = np.empty_like(x)
    g[0::2] = -400.0 * e * (o - e**2) - 2.0 * (1.0 - e)
    g[1::2] = 200.0 * (o - e**2)
    return g


def extended_rosenbrock_hess(x):
    x = np.asarray(x, float)
    n = x.size
    h = np.zeros((n, n))
    i = np.arange(0, n, 2)
    e, o = x[0::2], x[1::2]
    h[i, i] = 1200.0 * e**2 - 400.0 * o + 2.0
    h[i, i + 1] = h[i + 1, i] = -400.0 * e
    h[i + 1, i + 1] = 200.0
    return h


_BEALE_C = (1.5, 2.25, 2.625)


def beale(x):
    """Beale's function, minimiser (3, 0.5)."""
    a, b = x[0], x[1]
    return ((1.5 - a + a * b) ** 2 + (2.25 - a + a * b**2) ** 2
            + (2.625 - a + a * b**3) ** 2)


def beale_grad(x):
    a, b = x
    g = np.zeros(2)
    for k, c in enumerate(_BEALE_C, start=1):
        r = c - a + a * b**k
        g += 2 * r * np.array([b**k - 1, k * a * b ** (k - 1)])
    return g


def beale_hess(x):
    a, b = x
    h = np.zeros((2, 2))
    for k, c in enumerate(_BEALE_C, start=1):
        r = c - a + a * b**k
        dr = np.array([b**k - 1, k * a * b ** (k - 1)])
        d2r = np.array([[0.0, k * b ** (k - 1)],
                        [k * b ** (k - 1), k * (k - 1) * a * b ** (k - 2) if k > 1 else 0.0]])
        h += 2 * (np.outer(dr, dr) + r * d2r)
    return h


def booth(x):
    """Booth's function, minimiser (1, 3)."""
    return (x[0] + 2 * x[1] - 7) ** 2 + (2 * x[0] + x[1] - 5) ** 2


def booth_grad(x):
    a = x[0] + 2 * x[1] - 7
    b = 2 * x[0] + x[1] - 5
    return np.array([2 * a + 4 * b, 4 * a + 2 * b])


def himmelblau(x):
    """Himmelblau's function; from (1, 1) the minimiser reached is (3, 2)."""
    return (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2


def himmelblau_grad(x):
    a = x[0] ** 2 + x[1] - 11
    b = x[0] + x[1] ** 2 - 7
    return np.array([4 * x[0] * a + 2 * b, 2 * a + 4 * x[1] * b])


def himmelblau_hess(x):
    u, v = x
    return np.array([[12 * u**2 + 4 * v - 42, 4 * u + 4 * v],
                     [4 * u + 4 * v, 4 * u + 12 * v**2 - 26]])


def powell_singular(x):
    """MGH problem 13; singular Hessian at the minimiser 0."""
    return ((x[0] + 10 * x[1]) ** 2 + 5 * (x[2] - x[3]) ** 2 + (x[1] - 2 * x[2]) ** 4
            + 10 * (x[0] - x[3]) ** 4)


def powell_singular_grad(x):
    a, b, c, d = x[0] + 10 * x[1], x[2] - x[3], x[1] - 2 * x[2], x[0] - x[3]
    return np.array([2 * a + 40 * d**3, 20 * a + 4 * c**3, 10 * b - 8 * c**3,
                     -10 * b - 40 * d**3])


def powell_singular_hess(x):
    c, d = x[1] - 2 * x[2], x[0] - x[3]
    c2, d2 = 12 * c**2, 120 * d**2
    return np.array([[2 + d2, 20, 0, -d2],
                     [20, 200 + c2, -2 * c2, 0],
                     [0, -2 * c2, 10 + 4 * c2, -10],
                     [-d2, 0, -10, 10 + d2]], dtype=float)


ST_MIN = -2.903534027771178  # root of 2x^3 - 16x + 2.5 = 0 (global minimiser per coordinate)


def styblinski_tang(x):
    """Styblinski-Tang, ``0.5 sum(x^4 - 16 x^2 + 5 x)``."""
    return 0.5 * np.sum(x**4 - 16 * x**2 + 5 * x)


def wood(x):
    """Wood's function (MGH problem 14), minimiser (1, 1, 1, 1)."""
    return (100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2 + 90 * (x[3] - x[2] ** 2) ** 2
            + (1 - x[2]) ** 2 + 10.1 * ((x[1] - 1) ** 2 + (x[3] - 1) ** 2)
            + 19.8 * (x[1] - 1) * (x[3] - 1))


def wood_grad(x):
    x1, x2, x3, x4 = x
    return np.array([-400 * x1 * (x2 - x1**2) - 2 * (1 - x1),
                     200 * (x2 - x1**2) + 20.2 * (x2 - 1) + 19.8 * (x4 - 1),
                     -360 * x3 * (x4 - x3**2) - 2 * (1 - x3),
                     180 * (x4 - x3**2) + 20.2 * (x4 - 1) + 19.8 * (x2 - 1)])


def wood_hess(x):
    x1, x2, x3, x4 = x
    return np.array([[1200 * x1**2 - 400 * x2 + 2, -400 * x1, 0, 0],
                     [-400 * x1, 220.2, 0, 19.8],
                     [0, 0, 1080 * x3**2 - 360 * x4 + 2, -360 * x3],
                     [0, 19.8, -360 * x3, 200.2]])


def trigonometric(x):
    """MGH problem 26: sum of squares of r_i = n - sum cos x_j + i (1 - cos x_i) - sin x_i."""
    n = x.shape[0]
    i = np.arange(1.0, n + 1)
    r = n - np.sum(np.cos(x)) + i * (1 - np.cos(x)) - np.sin(x)
    return np.sum(r * r)


def _trig_r(x):
    n = x.size
    i = np.arange(1.0, n + 1)
    return i, n - np.sum(np.cos(x)) + i * (1 - np.cos(x)) - np.sin(x)


def trigonometric_grad(x):
    # J = 1 s^T + diag(i sin x - cos x), s = sin x;  g = 2 J^T r
    i, r = _trig_r(x)
    return 2 * (np.sin(x) * np.sum(r) + (i * np.sin(x) - np.cos(x)) * r)


def trigonometric_hess(x):
    # H = 2 (J^T J + sum_i r_i Hess(r_i)), Hess(r_i) = diag(cos x) + e_i e_i^T (i cos x_i + sin x_i)
    i, r = _trig_r(x)
    J = np.outer(np.ones(x.size), np.sin(x)) + np.diag(i * np.sin(x) - np.cos(x))
    return 2 * (J.T @ J + np.diag(np.cos(x) * np.sum(r) + r * (i * np.cos(x) + np.sin(x))))


# --- logistic regression (fixed seeded data) -------------------------------

_rng = np.random.default_rng(20240601)
LOGREG_X = _rng.normal(size=(40, 4))
LOGREG_Y = np.sign(LOGREG_X @ np.array([1.5, -2.0, 0.5, 1.0]) + 0.8 * _rng.normal(size=40))
LOGREG_LAMBDA = 0.1


def logistic_loss(w):
    """Mean logistic loss plus ``0.5 * lambda * |w|^2`` on fixed data (labels +-1)."""
    z = LOGREG_Y * (LOGREG_X @ w)
    return np.mean(np.log1p(np.exp(-z))) + 0.5 * LOGREG_LAMBDA * np.sum(w * w)


def _logreg_s(w):
    z = LOGREG_Y * (LOGREG_X @ w)
    return 1.0 / (1.0 + np.exp(z))  # sigmoid(-z)


def logistic_grad(w):
    m = LOGREG_X.shape[0]
    return -LOGREG_X.T @ (LOGREG_Y * _logreg_s(w)) / m + LOGREG_LAMBDA * w


def logistic_hess(w):
    m = LOGREG_X.shape[0]
    s = _logreg_s(w)
    return (LOGREG_X.T * (s * (1 - s))) @ LOGREG_X / m + LOGREG_LAMBDA * np.eye(w.size)


def _newton_closed(grad, hess, x0, iters=50):
    x = np.array(x0, float)
    for _ in range(iters):
        x = x - np.linalg.solve(hess(x), grad(x))
    return x


LOGREG_MIN = _newton_closed(logistic_grad, logistic_hess, np.zeros(4))


# --- small MLP: 2 -> 3 (tanh) -> 3 classes, softmax cross-entropy ---------------

MLP_X = _rng.normal(size=(12, 2))
MLP_LABELS = (np.arctan2(MLP_X[:, 1], MLP_X[:, 0]) // (2 * np.pi / 3)).astype(int) % 3
MLP_Y = np.eye(3)[MLP_LABELS]  # one-hot
MLP_SHAPES = ((2, 3), (3,), (3, 3), (3,))
MLP_N = sum(int(np.prod(s)) for s in MLP_SHAPES)  # 21


def mlp_unpack(theta):
    """Split the flat parameter vector into (W1, b1, W2, b2) by slicing + reshape."""
    out, k = [], 0
    for s in MLP_SHAPES:
        size = int(np.prod(s))
        out.append(theta[k:k + size].reshape(s))
        k += size
    return out


def mlp_loss(theta):
    """Mean softmax cross-entropy of a tanh MLP; stable log-softmax with np.max."""
    W1, b1, W2, b2 = mlp_unpack(theta)
    h = np.tanh(MLP_X @ W1 + b1)
    logits = h @ W2 + b2
    m = np.max(logits, axis=1, keepdims=True)
    logp = logits - m - np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
    return -np.sum(MLP_Y * logp) / MLP_X.shape[0]


def mlp_grad(theta):
    """Backpropagation by hand."""
    W1, b1, W2, b2 = mlp_unpack(np.asarray(theta, float))
    n = MLP_X.shape[0]
    h = np.tanh(MLP_X @ W1 + b1)
    logits = h @ W2 + b2
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    dlogits = (p - MLP_Y) / n
    dW2, db2 = h.T @ dlogits, dlogits.sum(axis=0)
    da = (dlogits @ W2.T) * (1 - h * h)
    dW1, db1 = MLP_X.T @ da, da.sum(axis=0)
    return np.concatenate([dW1.ravel(), db1, dW2.ravel(), db2])


# --- miscellaneous R^n -> R ------------------------------------------------------

_A4 = _rng.normal(size=(4, 4))
QUAD_A = _A4 @ _A4.T + 4 * np.eye(4)
QUAD_B = _rng.normal(size=4)


def _softmax(x):
    e = np.exp(x - np.max(x))
    return e / np.sum(e)


def _rev(n):
    return np.arange(n)[::-1]


def _sincos_hess(x):
    n = x.size
    r = _rev(n)
    s = -np.sin(x + x[r])
    h = np.diag(s)
    h[np.arange(n), r] += s
    return h


def _pairwise_hess(x):
    n = x.size
    return 4 * n * np.eye(n) - 4 * np.ones((n, n))


def _norm_hess(x):
    r = np.sqrt(1 + x @ x)
    return (np.eye(x.size) - np.outer(x, x) / r**2) / r


# --- numpy surface: reductions, joins, broadcasting, piecewise functions ----------

PROD_W = _rng.normal(size=8)
STACK_C = np.array([0.7, -1.3])
OUTER_C = _rng.normal(size=4)
BCAST_C = _rng.normal(size=(3, 4))
MAXMIN_C = _rng.normal(size=5)
_M3 = _rng.normal(size=(3, 3))
TRACE_M = _M3 + _M3.T


def prod_mean(x):
    return np.prod(x[:3]) + np.sum(np.mean(x.reshape(2, 3), axis=0) ** 2)


def prod_mean_grad(x):
    g = np.zeros(6)
    g[:3] = np.prod(x[:3]) / x[:3]
    m = (x[:3] + x[3:]) / 2
    g[:3] += m
    g[3:] += m
    return g


def prod_mean_hess(x):
    h = np.zeros((6, 6))
    p = np.prod(x[:3])
    h[:3, :3] = p / np.outer(x[:3], x[:3])
    h[np.arange(3), np.arange(3)] = 0.0
    j = np.arange(3)
    for a, b in ((j, j), (j, j + 3), (j + 3, j), (j + 3, j + 3)):
        h[a, b] += 0.5
    return h


def joins(x):
    return (np.sum(np.concatenate([x, x**2]) * PROD_W)
            + np.sum(np.stack([x, np.sin(x)]).T @ STACK_C))


def outer_dot_broadcast(x):
    return np.dot(x, np.outer(x, OUTER_C) @ x) + np.sum(np.broadcast_to(x, (3, 4)) * BCAST_C)


def _outer_dot_hess(x):
    c = OUTER_C
    return 2 * (c @ x) * np.eye(4) + 2 * np.outer(x, c) + 2 * np.outer(c, x)


def piecewise(x):
    return (np.sum(np.where(x > 0, x**3, np.sin(x))) + np.sum(np.clip(x, -1.0, 1.0) ** 2)
            + np.sum(np.sign(x) * x**2))


def piecewise_grad(x):
    return (np.where(x > 0, 3 * x**2, np.cos(x)) + np.where(np.abs(x) < 1, 2 * x, 0.0)
            + 2 * np.abs(x))


def piecewise_hess(x):
    return np.diag(np.where(x > 0, 6 * x, -np.sin(x)) + np.where(np.abs(x) < 1, 2.0, 0.0)
                   + 2 * np.sign(x))


def _away_from_kinks(n):
    def sample(rng):
        mag = np.where(rng.random(n) < 0.5, rng.uniform(0.2, 0.8, n), rng.uniform(1.2, 2.0, n))
        return rng.choice([-1.0, 1.0], n) * mag
    return sample


def max_min(x):
    return np.max(x * MAXMIN_C) - np.min(x**2) + np.sum(x**3) / 3


def max_min_grad(x):
    g = x**2
    i = np.argmax(x * MAXMIN_C)
    j = np.argmin(x**2)
    g[i] += MAXMIN_C[i]
    g[j] -= 2 * x[j]
    return g


def max_min_hess(x):
    h = np.diag(2 * x)
    j = np.argmin(x**2)
    h[j, j] -= 2
    return h


def trace_form(X):
    """tr(X M X^T) for a 2 x 3 matrix input (gradient 2 X M)."""
    return np.sum((X.T @ X) * TRACE_M)


def trace_form_hess(X):
    # d2 f / dX_ab dX_cd = 2 delta_ac M_bd
    return 2 * np.eye(2)[:, None, :, None] * TRACE_M[None, :, None, :]


SURFACE = [
    Entry("prod_and_mean_axis", prod_mean, _box(0.5, 1.5, 6), "R^n->R", prod_mean_grad,
          prod_mean_hess, tags=("surface",)),
    Entry("concatenate_stack_transpose", joins, _box(-2, 2, 4), "R^n->R",
          lambda x: PROD_W[:4] + 2 * x * PROD_W[4:] + STACK_C[0] + STACK_C[1] * np.cos(x),
          lambda x: np.diag(2 * PROD_W[4:] - STACK_C[1] * np.sin(x)), tags=("surface",)),
    Entry("outer_dot_broadcast_to", outer_dot_broadcast, _box(-2, 2, 4), "R^n->R",
          lambda x: 2 * x * (OUTER_C @ x) + (x @ x) * OUTER_C + BCAST_C.sum(axis=0),
          _outer_dot_hess, tags=("surface",)),
    Entry("where_clip_sign", piecewise, _away_from_kinks(5), "R^n->R", piecewise_grad,
          piecewise_hess, tags=("surface",)),
    Entry("max_min_reductions", max_min, _box(-2, 2, 5), "R^n->R", max_min_grad, max_min_hess,
          tags=("surface",)),
    Entry("matrix_input_trace_form", trace_form, lambda rng: rng.uniform(-2, 2, (2, 3)),
          "R^n->R", lambda X: 2 * X @ TRACE_M, trace_form_hess, tags=("surface", "matrix")),
]


OPTIMISATION = [
    Entry("rosenbrock_2d", rosenbrock, _box(-2, 2, 2), "R^n->R", rosenbrock_grad,
          rosenbrock_hess, start=np.array([-1.2, 1.0]), minimiser=np.ones(2), fmin=0.0,
          scipy_rosen=True, tags=("optimisation",)),
    Entry("rosenbrock_6d", rosenbrock, _box(-1.5, 1.5, 6), "R^n->R", rosenbrock_grad,
          rosenbrock_hess, start=np.array([-1.2, 1.0] * 3), minimiser=np.ones(6), fmin=0.0,
          scipy_rosen=True, tags=("optimisation",)),
    Entry("beale", beale, _box(-2, 2, 2), "R^n->R", beale_grad, beale_hess,
          start=np.array([1.0, 1.0]), minimiser=np.array([3.0, 0.5]), fmin=0.0,
          tags=("optimisation",)),
    Entry("booth", booth, _box(-5, 5, 2), "R^n->R", booth_grad,
          lambda x: np.array([[10.0, 8.0], [8.0, 10.0]]), start=np.array([0.0, 0.0]),
          minimiser=np.array([1.0, 3.0]), fmin=0.0, tags=("optimisation",)),
    Entry("himmelblau", himmelblau, _box(-4, 4, 2), "R^n->R", himmelblau_grad,
          himmelblau_hess, start=np.array([1.0, 1.0]), minimiser=np.array([3.0, 2.0]),
          fmin=0.0, tags=("optimisation",)),
    Entry("powell_singular", powell_singular, _box(-2, 2, 4), "R^n->R", powell_singular_grad,
          powell_singular_hess, start=np.array([3.0, -1.0, 0.0, 1.0]), minimiser=np.zeros(4),
          fmin=0.0, tags=("optimisation", "singular")),
    Entry("styblinski_tang_4d", styblinski_tang, _box(-4, 4, 4), "R^n->R",
          lambda x: 2 * x**3 - 16 * x + 2.5, lambda x: np.diag(6 * x**2 - 16),
          start=np.full(4, -2.0), minimiser=np.full(4, ST_MIN),
          fmin=float(4 * 0.5 * (ST_MIN**4 - 16 * ST_MIN**2 + 5 * ST_MIN)),
          tags=("optimisation",)),
    Entry("wood", wood, _box(-3, 3, 4), "R^n->R", wood_grad, wood_hess,
          start=np.array([-3.0, -1.0, -3.0, -1.0]), minimiser=np.ones(4), fmin=0.0,
          tags=("optimisation",)),
    Entry("trigonometric_5d", trigonometric, _box(-1, 1, 5), "R^n->R", trigonometric_grad,
          trigonometric_hess, start=np.full(5, 1 / 5), minimiser=None, fmin=0.0,
          tags=("optimisation",)),
    Entry("extended_rosenbrock_100", extended_rosenbrock, _box(-1.5, 1.5, 100), "R^n->R",
          extended_rosenbrock_grad, extended_rosenbrock_hess,
          start=np.tile([-1.2, 1.0], 50), minimiser=np.ones(100), fmin=0.0,
          hessian_paths=False, tags=("optimisation", "large")),
    Entry("logistic_regression", logistic_loss, lambda rng: rng.normal(size=4), "R^n->R",
          logistic_grad, logistic_hess, start=np.zeros(4), minimiser=LOGREG_MIN,
          fmin=float(logistic_loss(LOGREG_MIN)), tags=("optimisation", "ml")),
    Entry("mlp_softmax_cross_entropy", mlp_loss, lambda rng: rng.normal(0, 0.8, MLP_N),
          "R^n->R", mlp_grad, None, tags=("ml",)),
]

MISC = [
    Entry("quadratic_form", lambda x: 0.5 * (x @ (QUAD_A @ x)) + QUAD_B @ x, _box(-2, 2, 4),
          "R^n->R", lambda x: QUAD_A @ x + QUAD_B, lambda x: QUAD_A.copy()),
    Entry("logsumexp", lambda x: np.max(x) + np.log(np.sum(np.exp(x - np.max(x)))),
          _box(-3, 3, 5), "R^n->R", _softmax,
          lambda x: np.diag(_softmax(x)) - np.outer(_softmax(x), _softmax(x))),
    Entry("sqrt_one_plus_norm2", lambda x: np.sqrt(1 + np.sum(x * x)), _box(-2, 2, 5),
          "R^n->R", lambda x: x / np.sqrt(1 + x @ x), _norm_hess),
    # sum_ij (x_i - x_j)^2 = 2n sum x^2 - 2 (sum x)^2
    Entry("pairwise_broadcast", lambda x: np.sum((x[:, None] - x[None, :]) ** 2),
          _box(-2, 2, 5), "R^n->R", lambda x: 4 * x.size * x - 4 * np.sum(x),
          _pairwise_hess),
    # sum_i sin(x_i) cos(x_{n-1-i}): pairs combine into sin(a + b)
    Entry("sin_times_reversed_cos", lambda x: np.sum(np.sin(x) * np.cos(x[::-1])),
          _box(-2, 2, 5), "R^n->R", lambda x: np.cos(x + x[::-1]), _sincos_hess),
]


# ---------------------------------------------------------------------------
# Vector-valued functions (Jacobians)
# ---------------------------------------------------------------------------

JAC_A = _rng.normal(size=(3, 4))


def _polar(x):
    return np.stack([x[0] * np.cos(x[1]), x[0] * np.sin(x[1])])


def _polar_jac(x):
    r, t = x
    return np.array([[np.cos(t), -r * np.sin(t)], [np.sin(t), r * np.cos(t)]])


def _spherical(x):
    r, t, p = x[0], x[1], x[2]
    return np.stack([r * np.sin(t) * np.cos(p), r * np.sin(t) * np.sin(p), r * np.cos(t)])


def _spherical_jac(x):
    r, t, p = x
    st, ct, sp, cp = np.sin(t), np.cos(t), np.sin(p), np.cos(p)
    return np.array([[st * cp, r * ct * cp, -r * st * sp],
                     [st * sp, r * ct * sp, r * st * cp],
                     [ct, -r * st, 0.0]])


def _outer_jac(x):
    n = x.size
    eye = np.eye(n)
    # d(x_i x_j)/dx_k = delta_ik x_j + x_i delta_jk
    return eye[:, None, :] * x[None, :, None] + x[:, None, None] * eye[None, :, :]


VECTORS = [
    Entry("polar_to_cartesian", _polar,
          lambda rng: np.array([rng.uniform(0.5, 2), rng.uniform(-3, 3)]), "vector",
          jac=_polar_jac),
    Entry("spherical_to_cartesian", _spherical,
          lambda rng: np.array([rng.uniform(0.5, 2), rng.uniform(0.2, 3), rng.uniform(-3, 3)]),
          "vector", jac=_spherical_jac),
    Entry("x_times_sum_x", lambda x: x * np.sum(x), _box(-2, 2, 4), "vector",
          jac=lambda x: np.sum(x) * np.eye(x.size) + np.outer(x, np.ones(x.size))),
    Entry("matrix_times_sin", lambda x: JAC_A @ np.sin(x), _box(-3, 3, 4), "vector",
          jac=lambda x: JAC_A * np.cos(x)[None, :]),
    Entry("softmax", _softmax, _box(-3, 3, 4), "vector",
          jac=lambda x: np.diag(_softmax(x)) - np.outer(_softmax(x), _softmax(x))),
    Entry("outer_product", lambda x: x[:, None] * x[None, :], _box(-2, 2, 3), "vector",
          jac=_outer_jac),
    Entry("helix_scalar_input", lambda t: np.stack([np.cos(t), np.sin(t), t * t]),
          _uniform(-3, 3), "vector",
          jac=lambda t: np.array([-np.sin(t), np.cos(t), 2 * t])),
]

# ---------------------------------------------------------------------------
# Custom rules (custom_jvp): primal functions no engine can trace
# ---------------------------------------------------------------------------


def _custom_rules():
    import scipy.integrate
    import scipy.special

    from hyperdual import custom_jvp

    @custom_jvp
    def ellipk(m):
        return scipy.special.ellipk(m)

    @custom_jvp
    def ellipe(m):
        return scipy.special.ellipe(m)

    @ellipk.defjvp
    def _k(primals, tangents):
        (m,), (t,) = primals, tangents
        return ellipk(m), t * (ellipe(m) - (1 - m) * ellipk(m)) / (2 * m * (1 - m))

    @ellipe.defjvp
    def _e(primals, tangents):
        (m,), (t,) = primals, tangents
        return ellipe(m), t * (ellipe(m) - ellipk(m)) / (2 * m)

    # M_k(a) = int_0^1 t^k e^(a t) dt by quadrature; M_k' = M_(k+1)
    @custom_jvp
    def moment(k, a):
        return scipy.integrate.quad(lambda t: t ** k * np.exp(a * t), 0.0, 1.0,
                                    epsabs=0.0, epsrel=1e-13)[0]

    moment.nondiff_argnums = (0,)

    @moment.defjvp
    def _m(k, primals, tangents):
        (a,), (t,) = primals, tangents
        return moment(k, a), moment(k + 1, a) * t

    # A @ sin(x) with both rules (the VJP is used by reverse mode)
    @custom_jvp
    def asin_map(x):
        return JAC_A @ np.sin(x)

    asin_map.defjvp(lambda p, t: (asin_map(p[0]), JAC_A @ (np.cos(p[0]) * t[0])))
    asin_map.defvjp(lambda p, out, g: (g @ JAC_A) * np.cos(p[0]))
    return ellipk, ellipe, moment, asin_map


_ELLIPK, _ELLIPE, _MOMENT, _ASIN_MAP = _custom_rules()


def _ellipk_d1(m):
    k, e = scipy.special.ellipk(m), scipy.special.ellipe(m)
    return (e - (1 - m) * k) / (2 * m * (1 - m))


def _ellipk_d2(m):
    # Legendre's equation: m (1 - m) K'' + (1 - 2m) K' - K / 4 = 0
    return (scipy.special.ellipk(m) / 4 - (1 - 2 * m) * _ellipk_d1(m)) / (m * (1 - m))


def _moments(a, n):
    """M_0 .. M_n in closed form: M_0 = (e^a - 1)/a, M_k = e^a/a - k M_(k-1)/a."""
    out = [np.expm1(a) / a]
    for k in range(1, n + 1):
        out.append(np.exp(a) / a - k * out[-1] / a)
    return out


def _integral(x):
    return _MOMENT(0, x[0] * x[1]) + x[0] * _MOMENT(1, x[1])


def _integral_grad(x):
    x0, x1 = x
    s, t = _moments(x0 * x1, 2), _moments(x1, 2)
    return np.array([x1 * s[1] + t[1], x0 * s[1] + x0 * t[2]])


def _integral_hess(x):
    x0, x1 = x
    s, t = _moments(x0 * x1, 2), _moments(x1, 3)
    h01 = s[1] + x0 * x1 * s[2] + t[2]
    return np.array([[x1 ** 2 * s[2], h01], [h01, x0 ** 2 * s[2] + x0 * t[3]]])


CUSTOM = [
    Entry("custom_ellipk", _ELLIPK, _uniform(0.1, 0.9), "scalar", grad=_ellipk_d1,
          hess=_ellipk_d2, fd_scale=30.0, tags=("custom",)),
    Entry("custom_quad_integral", _integral, _box(0.5, 1.5, 2), "R^n->R", _integral_grad,
          _integral_hess, fd_scale=10.0, tags=("custom",)),
    Entry("custom_vjp_matrix_sin", _ASIN_MAP, _box(-3, 3, 4), "vector",
          jac=lambda x: JAC_A * np.cos(x)[None, :], tags=("custom",)),
    Entry("custom_ellipk_ellipe_sum", lambda x: np.sum(_ELLIPK(x) * _ELLIPE(x[::-1])),
          _box(0.2, 0.8, 3), "R^n->R", tags=("custom",)),
]

CATALOG: list[Entry] = SCALARS + OPTIMISATION + MISC + SURFACE + VECTORS + CUSTOM

_BY_NAME = {e.name: e for e in CATALOG}
assert len(_BY_NAME) == len(CATALOG), "duplicate catalog names"


def by_name(name: str) -> Entry:
    """Look an entry up by its name.

    Examples
    --------
    >>> by_name("booth").minimiser
    array([1., 3.])
    """
    return _BY_NAME[name]


def entries(kind: str | None = None, tag: str | None = None) -> list[Entry]:
    """Entries filtered by ``kind`` and/or ``tag``.

    Examples
    --------
    >>> len(entries(kind="vector")) >= 5
    True
    """
    return [e for e in CATALOG
            if (kind is None or e.kind == kind) and (tag is None or tag in e.tags)]
