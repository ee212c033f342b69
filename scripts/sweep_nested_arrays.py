"""Nested helpers over array code: linear algebra, einsum, statistics, sorting and
array building, every inner helper inside ``gradient`` in the four engine nestings.

Each case is F(x) = a weighted sum of ``inner(y -> f(x, y), y0)`` for a function f of
two 3-vectors (a 3x3 matrix built from both, then solve, inv, det, slogdet, eigh,
svd, norms, einsum, var/std, sort, cumsum/cumprod, kron, where, max/min, median, ...)
and an inner helper (gradient, hessian, hvp, jvp, value_and_gradient, derivative and
second_derivative along a direction).  The outer gradient of F at a random x0 is
compared with central differences (step 1e-5) of the same F computed by hyperdual
without nesting; an entry counts as wrong beyond 1e-6 of the larger of 1 and the
truth's largest entry (the differences' own error is ~1e-10).  Functions that reach
``np.asarray`` (``scipy.special.softmax``, ``scipy.linalg.expm``) cannot be
differentiated by either engine (README, Supported functions) and are not drawn.
Prints each wrong or raising case and the totals.  About a minute per seed.

Usage: ``PYTHONPATH=$PWD python scripts/sweep_nested_arrays.py [SEED ...]``
"""

from __future__ import annotations

import itertools
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hyperdual as hd  # noqa: E402
import reverse as rv  # noqa: E402

ENGINES = {"hd": hd, "rv": rv}
U = np.array([0.3, -1.2, 0.7])
W = np.array([1.1, 0.4, -0.6])


def matrix(x, y):
    """A well-conditioned 3x3 matrix whose entries depend on x and y."""
    return np.stack([np.stack([2 + x[0] * y[0], x[1] * y[1], x[2]]),
                     np.stack([y[2], 3 + x[1] * x[1], y[0] * x[2]]),
                     np.stack([x[0] * y[1], y[1] + x[2], 4 + y[2] * y[2]])])


FUNCTIONS = {
    "solve": lambda x, y: np.sum(np.linalg.solve(matrix(x, y), np.sin(x + y))),
    "inv": lambda x, y: np.sum(np.linalg.inv(matrix(x, y)) ** 2),
    "det": lambda x, y: np.linalg.det(matrix(x, y)),
    "slogdet": lambda x, y: np.linalg.slogdet(matrix(x, y))[1],
    "eigh": lambda x, y: np.sum(np.linalg.eigh(matrix(x, y) + matrix(x, y).T)[0] ** 3),
    "eigvalsh": lambda x, y: np.linalg.eigvalsh(matrix(x, y) @ matrix(x, y).T)[-1],
    "svd": lambda x, y: np.sum(np.linalg.svd(matrix(x, y), compute_uv=False) ** 1.5),
    "norm2": lambda x, y: np.linalg.norm(matrix(x, y), 2),
    "norm_nuc": lambda x, y: np.linalg.norm(matrix(x, y), "nuc"),
    "norm_fro": lambda x, y: np.linalg.norm(matrix(x, y)),
    "einsum": lambda x, y: np.einsum("ij,jk,k->", matrix(x, y), matrix(y, x), x * y),
    "matmul": lambda x, y: np.sum((matrix(x, y) @ matrix(y, x)) ** 2),
    "var": lambda x, y: np.var(x * y + np.exp(y), ddof=1),
    "std": lambda x, y: np.std(np.concatenate([x, y * x])),
    "sort": lambda x, y: np.sort(x * y + np.array([0.0, 5.0, 10.0]))[1] * np.sum(y),
    "cumsum": lambda x, y: np.sum(np.cumsum(x * y) ** 2),
    "cumprod": lambda x, y: np.sum(np.cumprod(x + y)),
    "outer": lambda x, y: np.sum(np.outer(x, y) ** 3),
    "kron": lambda x, y: np.sum(np.sin(np.kron(x, y))),
    "trace": lambda x, y: np.trace(matrix(x, y) @ matrix(x, y)),
    "tensordot": lambda x, y: np.tensordot(matrix(x, y), matrix(y, x), axes=2),
    "pinv": lambda x, y: np.sum(np.linalg.pinv(matrix(x, y))),
    "qr": lambda x, y: np.sum(np.abs(np.diag(np.linalg.qr(matrix(x, y))[1]))),
    "cholesky": lambda x, y: np.sum(np.linalg.cholesky(
        matrix(x, y) @ matrix(x, y).T + np.eye(3))),
    "lstsq": lambda x, y: np.sum(np.linalg.lstsq(matrix(x, y)[:, :2], x * y, rcond=None)[0]),
    "matrix_power": lambda x, y: np.sum(np.linalg.matrix_power(matrix(x, y), 3)),
    "where": lambda x, y: np.sum(np.where(x * y > 0, np.sqrt(np.abs(x * y)), (x * y) ** 2)),
    "max_min": lambda x, y: np.max(x * y + np.array([0.0, 3.0, 1.0])) - np.min(np.exp(x) * y),
    "diff": lambda x, y: np.sum(np.diff(np.concatenate([x, y])) ** 3),
    "pad_convolve": lambda x, y: np.sum(np.convolve(np.pad(x, 1), y) ** 2),
    "tile_repeat": lambda x, y: np.sum(np.tile(x, 2) * np.repeat(y, 2)),
    "prod": lambda x, y: np.prod(x + y),
    "median": lambda x, y: np.median(x * y + np.array([0.0, 4.0, 9.0])),
    "triu_tril": lambda x, y: np.sum(np.triu(matrix(x, y)) ** 2 * np.tril(matrix(y, x))),
    "hypot_arctan2": lambda x, y: np.sum(np.hypot(x, y) * np.arctan2(y, x)),
    "polydiv": lambda x, y: np.sum(np.concatenate(np.polydiv(
        np.concatenate([x * y, np.sin(y)]), np.concatenate([[2.0], x[:2] * y[1:]]))) ** 2),
    "histogram_weights": lambda x, y: np.sum(np.histogram(
        np.array([0.1, 0.6, 0.9]), 2, (0.0, 1.0), weights=x * np.exp(y))[0] ** 3),
    "histogram2d_density": lambda x, y: np.sum(np.histogram2d(
        x + np.array([0.0, 2.0, 4.0]), y + np.array([1.0, 0.0, 3.0]), 2,
        weights=x * y + 2.0, density=True)[0] * np.array([[1.0, 2.0], [3.0, 4.0]])),
    "unique": lambda x, y: np.sum(np.unique(x * y + np.array([0.0, 3.0, 6.0])) ** 3),
}


def inner_helpers(E):
    """name -> (g, y0) -> the inner helper of engine E on g at y0."""
    return {
        "gradient": lambda g, y: E.gradient(g, y),
        "hessian": lambda g, y: E.hessian(g, y),
        "hvp": lambda g, y: E.hvp(g, y, U),
        "jvp": lambda g, y: E.jvp(g, y, U)[1],
        "value_and_gradient": lambda g, y: E.value_and_gradient(g, y)[1],
        "derivative": lambda g, y: E.derivative(lambda t: g(y + t * W), 0.0),
        "second_derivative": lambda g, y: E.second_derivative(lambda t: g(y + t * W), 0.0),
    }


def weighted(r):
    """A fixed weighted sum of the entries of ``r`` (a scalar stays as it is)."""
    if not np.ndim(r):
        return r
    return np.sum(r * np.linspace(1.0, 2.0, int(np.size(r))).reshape(np.shape(r)))


def central(F, x, h=1e-5):
    return np.array([(F(x + h * e) - F(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def run(seed: int) -> tuple[int, int]:
    rng = np.random.default_rng(seed)
    wrong = total = 0
    for fname, f in FUNCTIONS.items():
        x0, y0 = rng.uniform(0.3, 1.2, 3), rng.uniform(0.3, 1.2, 3)
        for name, plain in inner_helpers(hd).items():
            truth = central(lambda x, f=f, y0=y0, plain=plain: float(
                weighted(np.asarray(plain(lambda y: f(x, y), y0), dtype=float))), x0)
            scale = max(1.0, float(np.max(np.abs(truth))))
            for (on, outer), (inn, inner) in itertools.product(ENGINES.items(), repeat=2):
                helper = inner_helpers(inner)[name]
                total += 1
                label = f"{fname}: {on}.gradient({inn}.{name})"
                try:
                    got = np.asarray(outer.gradient(
                        lambda x, f=f, y0=y0, helper=helper: weighted(
                            helper(lambda y: f(x, y), y0)), x0), dtype=float)
                except Exception as e:  # noqa: BLE001 - every exception is a finding
                    wrong += 1
                    print(f"{label} raised {type(e).__name__}: {str(e)[:150]}")
                    continue
                err = float(np.max(np.abs(got - truth))) / scale
                if not err <= 1e-6:
                    wrong += 1
                    print(f"{label}: {got}, central differences {truth} (error {err:.2g})")
    return wrong, total


def main(argv: list[str]) -> int:
    warnings.simplefilter("ignore")
    seeds = [int(a) for a in argv] or [1]
    bad = 0
    for seed in seeds:
        wrong, total = run(seed)
        bad += wrong
        print(f"seed {seed}: {total} cases, {wrong} wrong or raising")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
