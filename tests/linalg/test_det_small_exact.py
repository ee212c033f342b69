"""det of 1 x 1, 2 x 2 and 3 x 3 matrices: derivatives of every order from the
cofactors as polynomials in the entries (_exactdiff.linalg.small_cofactors).

det(a) a^-T and its derivatives lose eps times the condition number of a: the
Hessian of det at a random 3 x 3 matrix (entries +-a_ij or 0) was 1500 ulps off
through reverse's jacobian of its gradient, the third derivative of det(A + t V)
(6 det(V)) 2e-12 relative through Taylor mode.  Truth: exact rational arithmetic
(fractions.Fraction) on the float entries: cofactors, the Hessian's entries
(+-a_mn, the complementary 1 x 1 minors), 6 det(V); the results are within a few
ulps of the products that form them.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

EPS = float(np.finfo(float).eps)
ENGINES = {"hd": hd, "rv": rv}


def _det_exact(m):
    n = len(m)
    if n == 1:
        return m[0][0]
    return sum((-1) ** j * m[0][j] * _det_exact([row[:j] + row[j + 1:] for row in m[1:]])
               for j in range(n))


def _fractions(a):
    return [[Fraction(float(v)) for v in row] for row in a]


def _cofactors_exact(a):
    m = _fractions(a)
    n = len(m)
    return np.array([[float((-1) ** (i + j) * _det_exact(
        [r[:j] + r[j + 1:] for k, r in enumerate(m) if k != i]) if n > 1 else 1)
        for j in range(n)] for i in range(n)])


def _hessian_exact(a):
    """d2 det / da_ij da_kl: the signed complementary minor of rows i, k, columns j, l."""
    m = _fractions(a)
    n = len(m)
    H = np.zeros((n * n, n * n))
    for (i, j), (k, l) in itertools.product(itertools.product(range(n), repeat=2), repeat=2):
        if i == k or j == l:
            continue
        rows = [r for r in range(n) if r not in (i, k)]
        cols = [c for c in range(n) if c not in (j, l)]
        minor = _det_exact([[m[r][c] for c in cols] for r in rows]) if rows else 1
        # sign of the permutation taking (i -> j, k -> l, rest in order)
        perm = {i: j, k: l, **dict(zip(rows, cols))}
        p = [perm[r] for r in range(n)]
        inv = sum(1 for x in range(n) for y in range(x + 1, n) if p[x] > p[y])
        H[i * n + j, k * n + l] = float((-1) ** inv * minor)
    return H


def _ill_conditioned(n, cond, seed):
    rng = np.random.default_rng(seed)
    q1, _ = np.linalg.qr(rng.normal(size=(n, n)))
    q2, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return q1 @ np.diag(np.geomspace(1.0, 1.0 / cond, n)) @ q2


POINTS = [pytest.param(_ill_conditioned(3, c, s), id=f"3x3-cond{c:g}-{s}")
          for c in (1e1, 1e3, 1e6) for s in (0, 1)]
POINTS += [pytest.param(_ill_conditioned(2, 1e5, 2), id="2x2-cond1e5"),
           pytest.param(np.array([[0.7]]), id="1x1")]


def _close(got, want, scale, ulps=8, what=""):
    np.testing.assert_allclose(np.asarray(got, float), want, rtol=0,
                               atol=ulps * EPS * scale, err_msg=what)


@pytest.mark.parametrize("a", POINTS)
def test_gradient_hessian_every_path(a):
    n = a.shape[0]
    f = lambda x: np.linalg.det(np.reshape(x, (n, n)))  # noqa: E731
    x = a.ravel()
    scale = max(1.0, float(np.max(np.abs(a)))) ** max(n - 1, 1)
    C = _cofactors_exact(a).ravel()
    H = _hessian_exact(a)
    for name, m in ENGINES.items():
        _close(m.gradient(f, x), C, scale, what=f"{name}.gradient")
        _close(m.hessian(f, x), H, scale, what=f"{name}.hessian")
        _close(m.hvp(f, x, np.ones_like(x)), H @ np.ones_like(x), scale * x.size,
               what=f"{name}.hvp")
        for inner_name, inner in ENGINES.items():
            J = m.jacobian(lambda z, inner=inner: inner.gradient(f, z), x)
            _close(J, H, scale, what=f"{name}.jacobian({inner_name}.gradient)")


@pytest.mark.parametrize("a", POINTS)
def test_third_derivative_along_a_direction_is_six_det_v(a):
    n = a.shape[0]
    f = lambda x: np.linalg.det(np.reshape(x, (n, n)))  # noqa: E731
    V = np.random.default_rng(7).normal(size=(n, n))
    truth = float(math.factorial(n) * _det_exact(_fractions(V)))  # n! det(V)
    scale = 6 * max(1.0, float(np.max(np.abs(V)))) ** n
    for name, m in ENGINES.items():
        d = m.directional_derivatives(f, a.ravel(), V.ravel(), n)
        _close(d[n], truth, scale, ulps=16, what=f"{name}.directional_derivatives")
    if n == 3:
        for o_name, o in ENGINES.items():
            for i_name, i in ENGINES.items():
                g = lambda t, i=i: i.second_derivative(  # noqa: E731
                    lambda s: f(a.ravel() + s * V.ravel()), t)
                _close(o.derivative(g, 0.0), truth, scale, ulps=16,
                       what=f"{o_name}.derivative({i_name}.second_derivative)")


def test_stacks_and_float32_keep_numpy_values():
    A = np.stack([_ill_conditioned(3, 1e2, s) for s in range(4)]).astype(np.float32)
    for m in ENGINES.values():
        J = m.jacobian(lambda x: np.linalg.det(x), A)
        assert J.dtype == np.float32
        for k in range(4):
            np.testing.assert_allclose(J[k, k], _cofactors_exact(A[k]), rtol=0, atol=1e-6)
        v, g = m.value_and_gradient(lambda x: np.sum(np.linalg.det(x)), A.astype(float))
        assert v == np.sum(np.linalg.det(A.astype(float)))  # numpy's own value
