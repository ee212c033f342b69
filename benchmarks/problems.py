"""The functions being differentiated, and the hand-written references.

Everything here is plain Python/numpy, written for the benchmark.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "MiniDual",
    "chain",
    "CHAIN_OPS_PER_STEP",
    "gaussian_nll",
    "gaussian_problem",
    "central_hessian",
    "mini_sin",
    "rosen",
    "rosen_loop",
    "rosen_point",
    "standard_start",
    "wide",
    "WIDE_OPS_PER_BRANCH",
]


def rosen(x):
    """Vectorised Rosenbrock, written once with plain numpy (the user's f)."""
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosen_loop(x):
    """Rosenbrock as a Python loop over scalars (for scalar-dual peers: num-dual)."""
    s = 0.0
    for i in range(len(x) - 1):
        a = x[i + 1] - x[i] ** 2
        b = 1 - x[i]
        s = s + 100 * a * a + b * b
    return s


def rosen_point(n: int, seed: int = 0) -> np.ndarray:
    """A reproducible point near the valley (values in [-1, 1.5])."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.5, size=n)


def standard_start(n: int, kind: str = "alternating") -> np.ndarray:
    """The classic start: (-1.2, 1, -1.2, 1, ...) or all -1.2."""
    if kind == "full":
        return np.full(n, -1.2)
    x = np.ones(n)
    x[::2] = -1.2
    return x


def central_hessian(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Hessian by four-point central differences, upper triangle then mirrored."""
    n = x.size
    H = np.empty((n, n))
    xp = np.array(x, dtype=float)
    for i in range(n):
        for j in range(i, n):
            xi, xj = xp[i], xp[j]
            xp[i] += h
            xp[j] += h
            fpp = f(xp)
            xp[j] -= 2 * h
            fpm = f(xp)
            xp[i] -= 2 * h
            fmm = f(xp)
            xp[j] += 2 * h
            fmp = f(xp)
            xp[i], xp[j] = xi, xj
            H[i, j] = H[j, i] = (fpp - fpm - fmp + fmm) / (4 * h * h)
    return H


class MiniDual:
    """The minimal pure-Python dual number of the issue's baseline."""

    __slots__ = ("re", "du")

    def __init__(self, re, du=0.0):
        self.re = re
        self.du = du

    def __add__(self, o):
        if isinstance(o, MiniDual):
            return MiniDual(self.re + o.re, self.du + o.du)
        return MiniDual(self.re + o, self.du)

    __radd__ = __add__

    def __mul__(self, o):
        if isinstance(o, MiniDual):
            return MiniDual(self.re * o.re, self.re * o.du + self.du * o.re)
        return MiniDual(self.re * o, self.du * o)

    __rmul__ = __mul__


def mini_sin(x):
    if isinstance(x, MiniDual):
        return MiniDual(math.sin(x.re), math.cos(x.re) * x.du)
    return math.sin(x)


CHAIN_OPS_PER_STEP = 3  # sin, mul, add


def chain(sin, x, steps: int):
    """``y <- sin(y) * x + x`` repeated: a scalar chain of sin/mul/add."""
    y = x
    for _ in range(steps):
        y = sin(y) * x + x
    return y


WIDE_OPS_PER_BRANCH = 3  # add a constant, sin, accumulate


def wide(sin, x, consts):
    """``k`` independent branches ``sin(x + c_i)`` summed: a graph of width k."""
    s = sin(x + consts[0])
    for c in consts[1:]:
        s = s + sin(x + c)
    return s


def gaussian_problem(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fixed SPD kernel K (n x n), data y and log-noise parameters theta (length n)."""
    rng = np.random.default_rng(seed)
    b = rng.standard_normal((n, n))
    return b @ b.T / n, rng.standard_normal(n), rng.uniform(-1.0, 0.0, n)


def gaussian_nll(theta, k, y):
    """Negative log-likelihood of y under N(0, K + diag(exp(theta))), up to a constant.

    Plain numpy (slogdet + solve); ``np.eye(n) * exp(theta)`` is the diagonal
    matrix (the engines need no np.diag).
    """
    s = k + np.eye(k.shape[0]) * np.exp(theta)
    return 0.5 * np.linalg.slogdet(s)[1] + 0.5 * (y @ np.linalg.solve(s, y))
