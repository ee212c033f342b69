"""The Hessian of the spectral norm needs only its singular value to be simple.

``np.linalg.norm(a, 2)`` is the largest singular value s_0.  Where s_0 is simple its
second derivative exists whatever the other singular values do:
``d2 s_0[E, F] = ((E v_0)^T P_u (F v_0) + (E^T u_0)^T P_v (F^T u_0)) / s_0`` for a square
matrix whose other singular values are 0 (P_u = I - u_0 u_0^T, P_v = I - v_0 v_0^T).  Both
engines formed the tangents of every singular vector for it, and at the repeated zero
singular values of a rank-one ``outer(v, w)`` (3 x 3) ``hd.hessian``, ``hd.hvp``,
``rv.hessian`` and ``rv.hvp`` raised DegenerateDerivativeError, while reverse-over-reverse
(whose backward pass sees that no cotangent reaches those vectors) gave the Hessian.

The truths: sympy's exact Hessian of ``|v| |w|`` (= norm(outer(v, w), 2)), the closed form
above, and central differences of the exact gradient ``u_0 v_0^T``.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import hyperdual as hd
import reverse as rv
from hyperdual.linalg import DegenerateDerivativeError
from tests._tolerance import assert_close_ulps


def _spectral(x, n):
    return np.linalg.norm(np.outer(x[:n], x[n:]), 2)


def _sympy_hessian(point, n):
    xs = sp.symbols(f"x0:{len(point)}", real=True)
    f = sp.sqrt(sum(x**2 for x in xs[:n])) * sp.sqrt(sum(x**2 for x in xs[n:]))
    h = sp.hessian(f, xs)
    subs = dict(zip(xs, [sp.Rational(p) for p in point]))
    return np.array(h.subs(subs).evalf(30).tolist(), dtype=np.float64)


def _directions(x):
    return np.eye(x.size).reshape((x.size,) + np.shape(x))


HELPERS = {  # each gives the Hessian as an (x.size, x.size) matrix
    "hd.hessian": lambda f, x: hd.hessian(f, x).reshape(x.size, x.size),
    "rv.hessian": lambda f, x: rv.hessian(f, x).reshape(x.size, x.size),
    "hd.hvp": lambda f, x: np.stack([hd.hvp(f, x, e).ravel() for e in _directions(x)], 1),
    "rv.hvp": lambda f, x: np.stack([rv.hvp(f, x, e).ravel() for e in _directions(x)], 1),
    "rv.hvp_ror": lambda f, x: np.stack(
        [rv.hvp(f, x, e, mode="reverse-over-reverse").ravel() for e in _directions(x)], 1),
}

POINTS = [
    ("2x2", 2, ["1", "2", "1/2", "-1"]),
    ("3x3", 3, ["1", "2", "3", "1/2", "-1", "2"]),      # two repeated zero singular values
    ("3x2", 3, ["1", "-2", "1/4", "3/2", "5"]),         # tall, one zero singular value
]


@pytest.mark.parametrize("helper", list(HELPERS))
@pytest.mark.parametrize("name,n,point", POINTS, ids=[p[0] for p in POINTS])
def test_hessian_of_spectral_norm_of_outer_against_sympy(helper, name, n, point):
    x = np.array([float(sp.Rational(p)) for p in point])
    truth = _sympy_hessian(point, n)
    got = HELPERS[helper](lambda y: _spectral(y, n), x)
    # the SVD is backward stable (errors of a few n eps relative to s_0) and an entry of H
    # is a sum of terms of size max|H|: its condition is max|H| / |H_ij|
    cond = np.max(np.abs(truth)) / np.maximum(np.abs(truth), 1e-300)
    assert_close_ulps(got, truth, ulps=64, cond=cond, err_msg=f"{helper} at {name}")


def _closed_form(p, q):
    """d2 s_0 of A = outer(p, q) (square, rank one) as a 9 x 9 matrix over A's entries."""
    s0 = np.linalg.norm(p) * np.linalg.norm(q)
    u0, v0 = p / np.linalg.norm(p), q / np.linalg.norm(q)
    n = p.size
    pu, pv = np.eye(n) - np.outer(u0, u0), np.eye(n) - np.outer(v0, v0)
    basis = np.eye(n * n).reshape(n * n, n, n)
    ev = np.stack([e @ v0 for e in basis])       # E v_0 for each unit E
    etu = np.stack([e.T @ u0 for e in basis])    # E^T u_0
    return (ev @ pu @ ev.T + etu @ pv @ etu.T) / s0


def _exact_gradient(a):
    u, _, vh = np.linalg.svd(a)
    return np.outer(u[:, 0], vh[0])


@pytest.mark.parametrize("helper", list(HELPERS))
def test_hessian_over_matrix_entries_of_a_rank_one_matrix(helper):
    """All 9 entries of A vary (not only rank-one directions): closed form, and central
    differences of the exact gradient u_0 v_0^T (smooth here: s_0 is simple)."""
    rng = np.random.default_rng(3)
    p, q = rng.normal(size=3), rng.normal(size=3)
    a = np.outer(p, q)
    truth = _closed_form(p, q)
    got = HELPERS[helper](lambda m: np.linalg.norm(m, 2), a)
    cond = np.max(np.abs(truth)) / np.maximum(np.abs(truth), 1e-300)
    assert_close_ulps(got, truth, ulps=64, cond=cond, err_msg=helper)
    # central differences: truncation h^2 |g'''| / 6 and rounding eps |g| / h, with
    # |g'''| ~ 6 / s_0^2 here; h = 1e-4 earns about 1e-8 / s_0^2 + 1e-12
    h = 1e-4
    s0 = np.linalg.norm(p) * np.linalg.norm(q)
    fd = np.zeros((9, 9))
    for k in range(9):
        e = np.zeros(9)
        e[k] = h
        fd[:, k] = ((_exact_gradient(a + e.reshape(3, 3)) - _exact_gradient(a - e.reshape(3, 3)))
                    / (2 * h)).ravel()
    np.testing.assert_allclose(got, fd, rtol=0, atol=10 * h**2 / s0**3 + 1e-11)


@pytest.mark.parametrize("engine", [hd, rv])
def test_smallest_singular_value_too(engine):
    """norm(a, -2) of diag(3, 2, 2) + ... : s_min simple, the two larger ones repeated."""
    a = np.diag([2.0, 2.0, 0.5])
    got = engine.hessian(lambda m: np.linalg.norm(m, -2), a).reshape(9, 9)
    # s_min of a = diag(d) with d_2 smallest: d2 s_2 = sum_{j<2} (E_j2^2 + E_2j^2) s_2
    # / (s_2^2 - s_j^2) + 2 s_j E_j2 E_2j / (s_2^2 - s_j^2)  (the 2 x 2 blocks (j, 2))
    truth = np.zeros((9, 9))
    for j in (0, 1):
        jk, kj = 3 * j + 2, 3 * 2 + j    # entries A[j, 2] and A[2, j]
        g = 0.5**2 - 2.0**2
        truth[jk, jk] += 0.5 / g
        truth[kj, kj] += 0.5 / g
        truth[jk, kj] += 2.0 / g
        truth[kj, jk] += 2.0 / g
    cond = np.max(np.abs(truth)) / np.maximum(np.abs(truth), 1e-300)
    assert_close_ulps(got, truth, ulps=64, cond=cond)


@pytest.mark.parametrize("engine", [hd, rv])
def test_repeated_top_value_still_raises_at_second_order(engine):
    """At a repeated largest singular value the second derivative does not exist."""
    with pytest.raises(DegenerateDerivativeError):
        engine.hessian(lambda m: np.linalg.norm(m, 2), np.eye(3))


@pytest.mark.parametrize("helper", ["rv.hessian", "rv.hvp", "rv.hvp_ror", "hd.hessian"])
def test_vectors_of_the_repeated_zeros_still_raise(helper):
    """A function of a vector of the simple value, which couples to the repeated zeros
    (its Hessian needs the rotation inside that cluster), raises in every mode: the
    forward-over-reverse pass forms those tangents without raising, its backward checks."""
    rng = np.random.default_rng(5)
    a = np.outer(rng.normal(size=3), rng.normal(size=3))
    with pytest.raises(DegenerateDerivativeError):
        HELPERS[helper](lambda m: np.linalg.svd(m)[0][0, 0], a)
