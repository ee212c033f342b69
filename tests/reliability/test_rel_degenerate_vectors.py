"""Eigenvectors and singular vectors of repeated values have no derivative: every
helper of both engines raises, never a number.

At a repeated eigenvalue of a symmetric matrix any unit vector of the eigenspace is an
eigenvector, and the one ``np.linalg.eigh`` returns jumps under perturbations of any
size (``V[0, 0]`` at ``diag(1, 1, 2)`` is 1, and -0.707 as soon as ``A[0, 1]`` moves
by 1e-6, checked below). reverse mode used to look only at ``V^T gV`` between the
repeated pair, which is zero for ``V[0, 0]``, and returned a gradient of 0; forward
mode raised. Vectors of values that are not repeated keep their derivative in reverse
mode (the gap to every other value is nonzero), and so do the values themselves.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual.linalg import DegenerateDerivativeError

A = np.diag([1.0, 1.0, 2.0])  # eigenvalue 1 repeated
E01 = np.zeros((3, 3))
E01[0, 1] = E01[1, 0] = 1.0


def _v00(m):
    return np.linalg.eigh(m)[1][0, 0]


def _u00(m):
    return np.linalg.svd(m)[0][0, 0]


def _sum_v_cubed(m):
    return np.sum(np.linalg.eigh(m)[1] ** 3)


def _u_of_rect(m):
    return np.linalg.svd(m, full_matrices=False)[0][1, 1]


def test_the_vectors_jump_there():
    """The truth: no derivative (the value jumps, whatever the step)."""
    for t in (1e-3, 1e-6, 1e-9):
        assert abs(_v00(A + t * E01) - _v00(A)) > 0.29
        assert abs(_u00(np.eye(2) + t * E01[:2, :2]) - _u00(np.eye(2))) > 0.29


CASES = [
    ("eigh V[0,0]", _v00, A),
    ("eigh sum V**3", _sum_v_cubed, A),
    ("svd U[0,0]", _u00, np.eye(2)),
    ("svd reduced U[1,1] of a 3x2", _u_of_rect, np.eye(3)[:, :2] * 2.0),
]


@pytest.mark.parametrize("name,f,a", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("helper", [
    "hd.gradient", "rv.gradient", "rv.jacobian", "rv.vjp", "rv.value_and_gradient",
    "hd.jacobian"])
def test_vectors_of_repeated_values_raise(helper, name, f, a):
    engine, fn = helper.split(".")
    mod = hd if engine == "hd" else rv
    with pytest.raises(DegenerateDerivativeError, match="repeated"):
        if fn == "vjp":
            mod.vjp(f, a, 1.0)
        else:
            getattr(mod, fn)(f, a)


def test_reverse_keeps_what_exists():
    """Values, and vectors of values that are not repeated, still differentiate."""
    # eigenvalues through eigh's w: sum w**2 = |A|_F^2 of the lower triangle read
    g = rv.gradient(lambda m: np.sum(np.linalg.eigh(m)[0] ** 2), A)
    np.testing.assert_array_equal(g, 2 * np.tril(A))
    # the vector of the simple eigenvalue 2 is e2; V[2, 2]**2 = 1 - (dA[0,2]^2 + dA[1,2]^2)
    # + ..., so its gradient is 0, and V[0, 2] moves by dA[2, 0] / (2 - 1) (lower triangle)
    g = rv.gradient(lambda m: np.linalg.eigh(m)[1][2, 2] ** 2, A)
    np.testing.assert_array_equal(g, np.zeros((3, 3)))
    v02 = rv.gradient(lambda m: np.linalg.eigh(m)[1][0, 2] * np.sign(np.linalg.eigh(m)[1][2, 2]),
                      A)
    expected = np.zeros((3, 3))
    expected[2, 0] = 1.0  # d V[0,2] = A'[0,2] / (lambda_2 - lambda_0), read from A[2, 0]
    np.testing.assert_allclose(v02, expected, rtol=0, atol=1e-15)
    # singular values through the full svd
    g = rv.gradient(lambda m: np.sum(np.linalg.svd(m)[1]), np.eye(2))
    np.testing.assert_array_equal(g, np.eye(2))


def test_zero_singular_value_of_a_square_matrix_flips_a_vector():
    """The truth for the xfail below: Vh[1, 1] of diag(1, t) is sign(t)."""
    for t in (1e-3, 1e-9):
        up = np.linalg.svd(np.diag([1.0, t]))[2][1, 1]
        down = np.linalg.svd(np.diag([1.0, -t]))[2][1, 1]
        assert up * down < 0 and abs(up - down) > 1.9


SINGULAR_SQUARE = [
    ("diag(1, 0)", np.diag([1.0, 0.0])),
    ("rank 1 2x2", np.array([[1.0, 2.0], [2.0, 4.0]])),
    ("rank 2 3x3", np.arange(9.0).reshape(3, 3)),
]
LAST_VECTOR = {
    "Vh[-1, -1]": lambda m: np.linalg.svd(m)[2][-1, -1],
    "U[0, -1]": lambda m: np.linalg.svd(m)[0][0, -1],
    "sum Vh[-1]**3": lambda m: np.sum(np.linalg.svd(m)[2][-1] ** 3),
}


@pytest.mark.parametrize("fname", list(LAST_VECTOR))
@pytest.mark.parametrize("name,a", SINGULAR_SQUARE, ids=[c[0] for c in SINGULAR_SQUARE])
@pytest.mark.parametrize("helper", [
    "hd.gradient", "hd.jacobian", "hd.hessian", "rv.gradient", "rv.jacobian", "rv.vjp",
    "rv.value_and_gradient", "rv.hessian", "rv.hvp_ror"])
def test_vectors_of_a_zero_singular_value_of_a_square_matrix_raise(helper, name, a, fname):
    """Decided from the math: no derivative (the flip above), so DegenerateDerivativeError
    as at repeated values. Before, both engines differentiated the signed branch and
    returned it (0 for ``Vh[1, 1]`` at diag(1, 0), whose one-sided slopes are +-inf)."""
    f = LAST_VECTOR[fname]
    engine, fn = helper.split(".")
    mod = hd if engine == "hd" else rv
    with pytest.raises(DegenerateDerivativeError, match="zero singular value"):
        if fn == "vjp":
            mod.vjp(f, a, 1.0)
        elif fn == "hvp_ror":
            mod.hvp(f, a, np.ones_like(a), mode="reverse-over-reverse")
        else:
            getattr(mod, fn)(f, a)


def test_taylor_mode_raises_too():
    """hyperdual's Taylor numbers: Vh[1, 1] of diag(1, t) at t = 0 gave the series [1, 0, 0]."""
    def f(t):
        return np.linalg.svd(np.stack([np.stack([1.0 + 0 * t, 0 * t]),
                                       np.stack([0 * t, t])]))[2][1, 1]
    with pytest.raises(DegenerateDerivativeError, match="zero singular value"):
        hd.derivatives(f, 0.0, 2)


def test_what_exists_at_a_zero_singular_value_keeps_its_derivative():
    """The values, the vectors of the nonzero value, and sign-invariant uses (U S Vh) keep
    their derivatives in reverse mode (its backward pass sees which vectors are reached;
    forward mode, which cannot, raises whenever the vectors are formed there)."""
    a = np.array([[1.0, 2.0], [2.0, 4.0]])  # s = (5, 0)
    u, _, vh = np.linalg.svd(a)
    def s0_values(m):
        return np.linalg.svd(m, compute_uv=False)[0]

    def s0_full(m):
        return np.linalg.svd(m)[1][0]

    for engine, f in ((hd, s0_values), (rv, s0_values), (rv, s0_full)):  # u_0 v_0^T
        g = engine.gradient(f, a)
        np.testing.assert_allclose(g, np.outer(u[:, 0], vh[0]), rtol=0, atol=4e-16)
    c = np.array([[0.5, -1.0], [2.0, 3.0]])
    g = rv.gradient(lambda m: np.sum(c * ((np.linalg.svd(m)[0] * np.linalg.svd(m)[1])
                                          @ np.linalg.svd(m)[2])), a)
    np.testing.assert_allclose(g, c, rtol=0, atol=1e-14)  # U S Vh = A

    def u10_squared(m):
        return np.linalg.svd(m)[0][1, 0] ** 2

    got = rv.gradient(u10_squared, a)
    # central differences (u_0 is smooth: s_0 is simple): error h^2 + eps / h ~ 1e-10
    h = 1e-5
    fd = np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            e = np.zeros((2, 2))
            e[i, j] = h
            fd[i, j] = (u10_squared(a + e) - u10_squared(a - e)) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=0, atol=1e-8)
    assert np.max(np.abs(got)) > 0.05
    with pytest.raises(DegenerateDerivativeError, match="zero singular value"):
        hd.gradient(u10_squared, a)


JORDAN = np.array([[1.0, 1.0], [0.0, 1.0]])


def test_jordan_block_eigenvalues_move_like_sqrt():
    """The truth for the next test: along A[1, 0] = t the eigenvalues are 1 +- sqrt(t),
    so (w(t) - w(0)) / t grows like t^-1/2: no derivative."""
    for t in (1e-6, 1e-10):
        w = np.sort(np.real(np.linalg.eigvals(JORDAN + t * np.array([[0.0, 0.0], [1.0, 0.0]]))))
        np.testing.assert_allclose(w, [1 - np.sqrt(t), 1 + np.sqrt(t)], rtol=1e-6)


@pytest.mark.parametrize("helper", ["hd.gradient", "rv.gradient", "hd.hessian", "rv.hessian",
                                    "rv.jacobian", "hd.jacobian"])
def test_eigvals_of_a_defective_matrix_raise(helper):
    """It solved with the (singular) eigenvector matrix: a gradient entry of 4.5e15."""
    engine, fn = helper.split(".")
    mod = hd if engine == "hd" else rv

    def f(m):
        w = np.real(np.linalg.eigvals(m))
        return w if fn == "jacobian" else np.sum(w ** 2)

    with pytest.raises(DegenerateDerivativeError, match="defective"):
        getattr(mod, fn)(f, JORDAN)


@pytest.mark.parametrize("engine", [hd, rv])
def test_eigvals_near_defective_still_exact(engine):
    """[[1, 1], [d, 1]] with d = 1e-8 is diagonalisable: w = 1 -+ sqrt(d) in numpy's
    order here, dw/dA[1, 0] = -+ 1 / (2 sqrt(d)) = -+ 5000, dw/dA[0, 1] = -+ d / (2 sqrt(d))."""
    d = 1e-8
    a = np.array([[1.0, 1.0], [d, 1.0]])
    w = np.real(np.linalg.eigvals(a))
    sgn = np.sign(w - 1.0)
    for k in range(2):
        g = engine.gradient(lambda m, k=k: np.real(np.linalg.eigvals(m))[k], a)
        expected = np.array([[0.5, sgn[k] * d / (2 * np.sqrt(d))],
                             [sgn[k] / (2 * np.sqrt(d)), 0.5]])
        # the eigenvector matrix has condition ~ 1/sqrt(d): its rounding is amplified
        np.testing.assert_allclose(g, expected, rtol=1e-7)
