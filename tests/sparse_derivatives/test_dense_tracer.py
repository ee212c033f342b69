"""The two pattern tracers of ``_exactdiff.sparsity`` give the same patterns.

Small x (up to ``_DENSE_MAX_N`` elements) is traced with dense boolean arrays,
larger x with scipy.sparse matrices; both must find exactly the same Jacobian and
Hessian patterns (global and local), and both must contain every nonzero of the
dense derivatives (truth: ``hyperdual.jacobian`` and ``reverse.hessian``, which the
rest of the suite checks against closed forms and mpmath).
"""

from __future__ import annotations

import numpy as np
import pytest

import _exactdiff.sparsity as S
import hyperdual
import reverse


def _patterns(f, x, dense, hessian=True, local=False):
    _, trace, _ = S._run(f, x, hessian, local, "test", dense=dense)
    assert trace.dense == dense
    if hessian:
        return S._as_csr(trace.pairs).toarray()
    y, _, _ = S._run(f, x, False, local, "test", dense=dense)
    return S._as_csr(y.deps).toarray()


def _problems(seed):
    """Scalar functions of a 12-vector covering the tracer's rules, with random
    constants (sparse matrices, index arrays, masks, exponents)."""
    rng = np.random.default_rng(seed)
    n = 12
    A = rng.normal(size=(7, n)) * (rng.random((7, n)) < 0.25)
    W = rng.normal(size=(4, 3)) * (rng.random((4, 3)) < 0.5)
    idx = rng.integers(0, n, size=7)
    mask = rng.random(n) < 0.5
    p = rng.choice([0.0, 1.0, 2.0, 0.5], size=n)
    ax = int(rng.integers(0, 2))

    def X(x):
        return x.reshape(3, 4)

    return {
        "sparse matvec and products": lambda x: np.sum(A @ np.sin(x) + (A @ x) ** 2
                                                     + x[idx] * x[(idx + 5) % n]),
        "matrix products": lambda x: np.sum(np.tanh(X(x) @ W)) + np.sum(X(x) @ X(x).T
                                                                      * X(x)[:, :3].sum()),
        "dot and vector products": lambda x: np.dot(x[:6], x[6:]) + np.dot(np.exp(x), x)
        + x[:3] @ X(x)[:, 1:] @ x[4:7],
        "reductions over an axis": lambda x: np.sum(np.prod(X(x), axis=ax) ** 2)
        + np.mean(np.sum(np.cos(X(x)), axis=1 - ax, keepdims=True) * X(x)),
        "cumulative": lambda x: np.sum(np.cumsum(X(x), axis=ax) ** 3)
        + np.sum(np.cumprod(x[idx[:4]])),
        "extrema, sort, abs": lambda x: np.max(x[mask] ** 2) * np.min(X(x), axis=0).sum()
        + np.sum(np.sort(X(x), axis=ax)[:, 0] ** 2) + np.sum(np.abs(x) * x[::-1]),
        "selection by comparisons": lambda x: np.sum(np.where(x > 0, np.exp(x), x[::-1] ** 2))
        + np.sum(np.clip(x, -0.5, 0.5) * x) + np.sum(np.maximum(x, x[::-1]) ** 2),
        "powers and quotients": lambda x: np.sum((1 + x * x) ** p)
        + np.sum(x[:4] ** np.array([0.0, 1.0, 1.0, 0.0]) * x[4:8])
        + np.sum(x[1:] / (1 + x[:-1] ** 2))
        + np.sum(np.abs(x) ** x[::-1]) + np.sum(2.0 / x[mask]),
        "shapes": lambda x: np.sum(np.concatenate([x[mask], np.zeros(2), x[:3] ** 2]) ** 2)
        + np.sum(np.stack([x, x[::-1]]) * np.roll(x, 3)) + np.sum(np.tile(x[:3], 2) ** 3)
        + np.sum(np.outer(x[:4], x[4:8])) + np.sum(np.flip(X(x), axis=ax).T[0] ** 2),
        "broadcasting": lambda x: np.sum((x[:, None] - x[None, :6]) ** 2 * A[0, :6])
        + np.sum(np.sin(X(x) + x[:4]) * X(x)[:, :1]),
        "norm and an unknown function": lambda x: np.linalg.norm(x[mask] - 1)
        + np.linalg.det(X(x)[:, :3]) + np.sum(np.exp(x[::3])),
        "rosenbrock": lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
        "linear": lambda x: np.sum(A @ x) + np.sum(x[idx]),
    }


_NAMES = list(_problems(0))


@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.parametrize("seed", range(3))
def test_dense_and_sparse_tracers_give_the_same_patterns(name, seed):
    f = _problems(seed)[name]
    x = np.random.default_rng(100 + seed).normal(size=12)
    for local in (False, True):
        hd = _patterns(f, x, True, local=local)
        hs = _patterns(f, x, False, local=local)
        np.testing.assert_array_equal(hd, hs)
        assert np.array_equal(hd, hd.T)
    H = reverse.hessian(f, x)
    assert not np.any((H != 0) & ~hd)


@pytest.mark.parametrize("seed", range(6))
def test_dense_and_sparse_jacobian_patterns(seed):
    rng = np.random.default_rng(seed)
    n = 10
    A = rng.normal(size=(6, n)) * (rng.random((6, n)) < 0.3)
    idx = rng.integers(0, n, size=5)

    def f(x):
        y = A @ np.sin(x) + (A @ x) ** 2
        z = np.cumsum(x[idx]) * x[::2]
        return np.concatenate([y, z, np.where(x[:3] > 0, x[3:6], x[6:9] ** 2),
                               np.sort(x[4:]) * 2, np.max(x.reshape(2, 5), axis=0)])

    x = rng.normal(size=n)
    for local in (False, True):
        jd = _patterns(f, x, True, hessian=False, local=local)
        js = _patterns(f, x, False, hessian=False, local=local)
        np.testing.assert_array_equal(jd, js)
    J = hyperdual.jacobian(f, x)
    assert not np.any((J != 0) & ~jd)


def test_public_functions_pick_the_tracer_by_size(monkeypatch):
    def f(x):
        return np.sum(x[1:] * x[:-1]) + np.sum(np.exp(x))

    x = np.ones(30)
    dense = hyperdual.hessian_sparsity(f, x)
    monkeypatch.setattr(S, "_DENSE_MAX_N", 0)
    sparse = hyperdual.hessian_sparsity(f, x)
    assert (dense != sparse).nnz == 0 and dense.dtype == sparse.dtype == bool
    assert dense.has_canonical_format
    j = hyperdual.jacobian_sparsity(lambda x: x[1:] * x[:-1], x)
    monkeypatch.setattr(S, "_DENSE_MAX_N", 10 ** 9)
    assert (j != hyperdual.jacobian_sparsity(lambda x: x[1:] * x[:-1], x)).nnz == 0


def test_a_dense_trace_that_grows_too_large_starts_again_sparse(monkeypatch):
    calls = []

    def f(x):  # an outer product: n * n rows of dependencies
        calls.append(1)
        return np.sum(np.sin(x[:, None] * x[None, :])) + np.sum(x[1:] * x[:-1])

    def swallowing(x):  # f's own `except` must not hide the restart
        try:
            return f(x)
        except BaseException:
            return np.sum(x ** 2)

    x = np.linspace(0.1, 1.0, 20)
    want = _patterns(f, x, False)
    monkeypatch.setattr(S, "_DENSE_MAX_CELLS", 20 * 20 * 10)
    for g in (f, swallowing):
        calls.clear()
        got = hyperdual.hessian_sparsity(g, x).toarray()
        np.testing.assert_array_equal(got, want)
        assert len(calls) == 2  # the dense trace, then the sparse one
    assert want.all()
