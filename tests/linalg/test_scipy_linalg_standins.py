"""scipy.linalg's names in ``hyperdual.linalg`` and ``reverse.linalg``: ``solve``, ``inv``,
``det``, ``cholesky``, ``eigh``, ``eigvalsh``, ``svd``, ``svdvals``, ``pinv``, ``lstsq``,
``norm``, ``block_diag``, ``lu``, ``qr``, ``polar``, ``toeplitz``, ``circulant``,
``hankel``, ``solve_sylvester``, ``solve_continuous_lyapunov``,
``solve_discrete_lyapunov``.

``scipy.linalg.solve(a, b)`` of a Dual or Variable raised "cannot convert" (scipy
calls np.asarray) and the stand-in modules had only expm, the triangular, Cholesky and
LU solvers: code written against scipy.linalg could not be differentiated without
rewriting it for np.linalg, whose conventions differ (cholesky's factor, the triangle
eigh and solve(assume_a='sym') read).

Truth: mpmath matrices at 40 digits (lu_solve, inverse, det, cholesky, eigsy, svd_r,
the Kronecker form of the Sylvester equations), differentiated by ``mpmath.diff`` along
``A(x) = A0 + x0 E0 + x1 E1``; each program reads scipy's convention into its mpmath
twin (the triangle, the factor), so a wrong convention fails.  Functionals of
eigenvectors and singular vectors are sign-invariant (``V diag(d) V^T``,
``U diag(d) Vh``).  Tolerance: 64 ulps of the largest entry times the condition of
these matrices (singular values in [0.9, 4.5]: ~10, squared for the products of
inverses in the second derivatives).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

import hyperdual as hd
import reverse as rv
from tests._tolerance import assert_close_ulps, relative_to_largest

mp = pytest.importorskip("mpmath")

#: not symmetric: programs that read one triangle differ from those reading both
A0 = np.array([[3.0, 0.7, -0.4], [0.2, 2.5, 0.6], [-0.3, 0.1, 2.8]])
E0 = np.array([[0.3, -0.2, 0.1], [0.05, 0.4, -0.3], [0.2, 0.1, -0.1]])
E1 = np.array([[-0.1, 0.2, 0.3], [0.25, -0.2, 0.0], [0.1, -0.3, 0.2]])
B0 = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.8]])  # SPD
R = np.array([1.0, -2.0, 0.5])
W = np.array([[1.0, -0.5, 0.3], [0.7, 1.2, -0.4], [0.2, 0.6, 0.9]])
D = np.array([1.0, -0.7, 0.4])
X = np.array([0.3, -0.2])
COND = 100.0


def _a(x, lib=np):
    return A0 + x[0] * E0 + x[1] * E1


def _mpm(m):
    return mp.matrix(np.asarray(m).tolist())


def _tri(m, lower):
    """mpmath: the symmetric matrix of m's lower (upper) triangle."""
    n = m.rows
    out = mp.matrix(n, n)
    for i in range(n):
        for j in range(n):
            k = (max(i, j), min(i, j)) if lower else (min(i, j), max(i, j))
            out[i, j] = m[k]
    return out


def _wsum(m, w=W):
    return sum(w[i, j] * m[i, j] for i in range(m.rows) for j in range(m.cols))


def _mp_eig(s):
    e, q = mp.eigsy(s)
    return e, q


def _vdv(q, d):
    n = q.rows
    return q * mp.diag([d[i] for i in range(n)]) * q.T


def _mp_kron_solve(a, b, q):
    """X with a X + X b = q by (I (x) a + b^T (x) I) vec X = vec q (column-major vec)."""
    m, n = a.rows, b.rows
    big = mp.matrix(m * n, m * n)
    for j in range(n):
        for i in range(m):
            r = j * m + i
            for k in range(m):
                big[r, j * m + k] += a[i, k]
            for k in range(n):
                big[r, k * m + i] += b[k, j]
    v = mp.lu_solve(big, mp.matrix([q[i, j] for j in range(n) for i in range(m)]))
    return mp.matrix([[v[j * m + i] for j in range(n)] for i in range(m)])


def _mp_dlyap(a, q):
    """X with a X a^T - X + q = 0 by its Kronecker form."""
    n = a.rows
    big = mp.matrix(n * n, n * n)
    for j in range(n):
        for i in range(n):
            r = j * n + i
            big[r, r] -= 1
            for k in range(n):
                for m_ in range(n):
                    big[r, m_ * n + k] += a[i, k] * a[j, m_]
    v = mp.lu_solve(big, -mp.matrix([q[i, j] for j in range(n) for i in range(n)]))
    return mp.matrix([[v[j * n + i] for j in range(n)] for i in range(n)])


# name: (program(lib, x) on either engine's linalg, mpmath twin (A(x) as an mp matrix))
CASES = {
    "solve": (lambda L, x: np.sum(W[0] * L.solve(_a(x), R * (1 + x[0]))),
              lambda A, x: _wsum(mp.lu_solve(A, _mpm(R) * (1 + x[0])).T, W[:1])),
    "solve_transposed": (lambda L, x: np.sum(W[0] * L.solve(_a(x), R, transposed=True)),
                         lambda A, x: _wsum(mp.lu_solve(A.T, _mpm(R)).T, W[:1])),
    "solve_sym_upper": (lambda L, x: np.sum(W[0] * L.solve(_a(x), R, assume_a="sym")),
                        lambda A, x: _wsum(mp.lu_solve(_tri(A, False), _mpm(R)).T, W[:1])),
    "solve_pos_lower": (lambda L, x: np.sum(W[0] * L.solve(_a(x), R, assume_a="pos",
                                                         lower=True)),
                        lambda A, x: _wsum(mp.lu_solve(_tri(A, True), _mpm(R)).T, W[:1])),
    "solve_matrix_rhs": (lambda L, x: np.sum(W * L.solve(_a(x), B0 * x[1])),
                         lambda A, x: _wsum(mp.inverse(A) * _mpm(B0) * x[1])),
    "inv": (lambda L, x: np.sum(W * L.inv(_a(x))), lambda A, x: _wsum(mp.inverse(A))),
    "det": (lambda L, x: L.det(_a(x)), lambda A, x: mp.det(A)),
    "cholesky_upper": (lambda L, x: np.sum(W * L.cholesky(_a(x))),
                       lambda A, x: _wsum(mp.cholesky(_tri(A, False)).T)),
    "cholesky_lower": (lambda L, x: np.sum(W * L.cholesky(_a(x), lower=True)),
                       lambda A, x: _wsum(mp.cholesky(_tri(A, True)))),
    "eigvalsh": (lambda L, x: np.sum(D * L.eigvalsh(_a(x))),
                 lambda A, x: sum(D[i] * v for i, v in enumerate(sorted(
                     _mp_eig(_tri(A, True))[0])))),
    "eigh_vectors_upper": (
        lambda L, x: np.sum(W * (lambda w, v: (v * D) @ v.T)(*L.eigh(_a(x), lower=False))),
        lambda A, x: _wsum(_vdv_sorted(_tri(A, False)))),
    "eigh_generalized": (
        lambda L, x: np.sum(W * (lambda w, v: (v * D) @ v.T + np.diag(w))(
            *L.eigh(_a(x), B0 + x[1] * np.eye(3)))),
        lambda A, x: _wsum(_mp_generalized(A, _mpm(B0) + x[1] * mp.eye(3)))),
    "eigh_subset": (lambda L, x: np.sum(L.eigh(_a(x), subset_by_index=[1, 2])[0] * D[:2]),
                    lambda A, x: sum(D[i] * v for i, v in enumerate(sorted(
                        _mp_eig(_tri(A, True))[0])[1:]))),
    "svd": (lambda L, x: np.sum(W * (lambda u, s, vh: (u * (D * s)) @ vh)(*L.svd(_a(x)))),
            lambda A, x: _wsum(_usv(A))),
    "svdvals": (lambda L, x: np.sum(D * L.svdvals(_a(x))),
                lambda A, x: sum(D[i] * v for i, v in enumerate(
                    sorted(mp.svd_r(A, compute_uv=False), reverse=True)))),
    "pinv": (lambda L, x: np.sum(W[:2] * L.pinv(_a(x)[:2].T)),
             lambda A, x: _wsum(_mp_pinv_tall(A[0:2, 0:3].T), W[:2])),
    "lstsq": (lambda L, x: np.sum(D[:2] * L.lstsq(_a(x)[:, :2], R)[0])
              + 0.3 * np.sum(L.lstsq(_a(x)[:, :2], R)[1]),
              lambda A, x: _mp_lstsq(A, D[:2], 0.3)),
    "norm_2": (lambda L, x: L.norm(_a(x), 2), lambda A, x: max(mp.svd_r(A, compute_uv=False))),
    "norm_fro": (lambda L, x: L.norm(_a(x)), lambda A, x: mp.mnorm(A, "f")),
    "block_diag": (lambda L, x: np.sum(W[:3, :3] * L.block_diag(_a(x)[:2, :2], x[0] * x[1])),
                   lambda A, x: _wsum(_mp_block(A[0:2, 0:2], x[0] * x[1]), W[:3, :3])),
    "lu": (lambda L, x: (lambda p, lo, up: np.sum(W * lo) + np.sum(D * np.diagonal(up))
                         + np.sum(W * (p @ lo @ up)))(*L.lu(_a(x))),
           lambda A, x: _mp_lu(A)),
    "lu_permute_l": (lambda L, x: np.sum(W * L.lu(_a(x), permute_l=True)[0]),
                     lambda A, x: _wsum(_mp_lu(A, parts=True)[0])),
    "qr_economic": (lambda L, x: (lambda q, r: np.sum(W[:, :2] * q) + np.sum(W[:2, :2] * r))(
        *L.qr(_a(x)[:, :2], mode="economic")), lambda A, x: _mp_qr(A)),
    "qr_r_tall": (lambda L, x: np.sum(W[:, :2] * L.qr(_a(x)[:, :2], mode="r")[0]),
                  lambda A, x: _wsum(_mp_qr(A, parts=True)[1], W[:2, :2])),
    "qr_full_square": (lambda L, x: (lambda q, r: np.sum(W * q) + np.sum(W * r))(*L.qr(_a(x))),
                       lambda A, x: _mp_qr(A, square=True)),
    "polar_right": (lambda L, x: (lambda u, p: np.sum(W * u) + np.sum(W.T * p))(*L.polar(_a(x))),
                    lambda A, x: _mp_polar(A, "right")),
    "polar_left": (lambda L, x: (lambda u, p: np.sum(W * u) + np.sum(W.T * p))(
        *L.polar(_a(x), side="left")), lambda A, x: _mp_polar(A, "left")),
    "toeplitz": (lambda L, x: np.sum(W * L.toeplitz(_a(x)[:, 0], _a(x)[1] ** 2)),
                 lambda A, x: _wsum(_mp_toeplitz([A[i, 0] for i in range(3)],
                                                 [A[1, j] ** 2 for j in range(3)]))),
    "circulant": (lambda L, x: np.sum(W * L.circulant(_a(x)[:, 1]) ** 2),
                  lambda A, x: sum(W[i, j] * A[(i - j) % 3, 1] ** 2
                                   for i in range(3) for j in range(3))),
    "hankel": (lambda L, x: np.sum(W * L.hankel(_a(x)[:, 2], _a(x)[0])),
               lambda A, x: sum(W[i, j] * ([A[k, 2] for k in range(3)] + [A[0, 1], A[0, 2]])[
                   i + j] for i in range(3) for j in range(3))),
    "solve_sylvester": (
        lambda L, x: np.sum(W[:3, :2] * L.solve_sylvester(_a(x), B0[:2, :2] * (1 + x[1]),
                                                          B0[:, :2] + x[0])),
        lambda A, x: _wsum(_mp_kron_solve(A, _mpm(B0[:2, :2]) * (1 + x[1]),
                                          _mpm(B0[:, :2]) + x[0] * mp.ones(3, 2)),
                           W[:3, :2])),
    "solve_continuous_lyapunov": (
        lambda L, x: np.sum(W * L.solve_continuous_lyapunov(-_a(x), B0 * (1 + x[1]))),
        lambda A, x: _wsum(_mp_kron_solve(-A, -A.T, _mpm(B0) * (1 + x[1])))),
    "solve_discrete_lyapunov": (
        lambda L, x: np.sum(W * L.solve_discrete_lyapunov(0.25 * _a(x), B0 * (1 + x[1]))),
        lambda A, x: _wsum(_mp_dlyap(0.25 * A, _mpm(B0) * (1 + x[1])))),
    "solve_discrete_lyapunov_bilinear": (
        lambda L, x: np.sum(W * L.solve_discrete_lyapunov(0.25 * _a(x), B0, "bilinear")),
        lambda A, x: _wsum(_mp_dlyap(0.25 * A, _mpm(B0)))),
}


#: scipy's row permutation and factor signs at the point: constants of the programs
_PERM = np.argmax(sl.lu(_a(X))[0], axis=0)  # A[_PERM] = L U
_QR_SIGNS = np.sign(np.diagonal(sl.qr(_a(X)[:, :2], mode="economic")[1]))
_QR_SIGNS3 = np.sign(np.diagonal(sl.qr(_a(X))[1]))


def _mp_lu(A, parts=False):
    n = A.rows
    pa = mp.matrix([[A[int(_PERM[i]), j] for j in range(n)] for i in range(n)])
    lo, up = mp.eye(n), mp.zeros(n, n)
    for i in range(n):  # Doolittle, no pivoting (the permutation is scipy's)
        for j in range(i, n):
            up[i, j] = pa[i, j] - sum(lo[i, k] * up[k, j] for k in range(i))
        for j in range(i + 1, n):
            lo[j, i] = (pa[j, i] - sum(lo[j, k] * up[k, i] for k in range(i))) / up[i, i]
    p = mp.zeros(n, n)
    for i in range(n):
        p[int(_PERM[i]), i] = 1
    if parts:
        return p * lo, up
    return _wsum(lo) + sum(D[i] * up[i, i] for i in range(n)) + _wsum(p * lo * up)


def _mp_gram_schmidt(a, signs):
    m, n = a.rows, a.cols
    q, r = mp.zeros(m, n), mp.zeros(n, n)
    for j in range(n):
        v = mp.matrix([a[i, j] for i in range(m)])
        for k in range(j):
            r[k, j] = sum(q[i, k] * a[i, j] for i in range(m))
            v = v - r[k, j] * mp.matrix([q[i, k] for i in range(m)])
        r[j, j] = mp.norm(v)
        for i in range(m):
            q[i, j] = v[i] / r[j, j]
    for j in range(n):  # scipy's signs
        for i in range(m):
            q[i, j] *= signs[j]
        for k in range(n):
            r[j, k] *= signs[j]
    return q, r


def _mp_qr(A, parts=False, square=False):
    if square:
        q, r = _mp_gram_schmidt(A, _QR_SIGNS3)
        return _wsum(q) + _wsum(r)
    q, r = _mp_gram_schmidt(A[0:3, 0:2], _QR_SIGNS)
    if parts:
        return q, r
    return _wsum(q, W[:, :2]) + _wsum(r, W[:2, :2])


def _mp_polar(A, side):
    if side == "right":
        p = mp.sqrtm(A.T * A)
        u = A * mp.inverse(p)
    else:
        p = mp.sqrtm(A * A.T)
        u = mp.inverse(p) * A
    return _wsum(u) + _wsum(p, W.T)


def _mp_toeplitz(c, r):
    return mp.matrix([[c[i - j] if i >= j else r[j - i] for j in range(3)] for i in range(3)])


def _vdv_sorted(s):
    e, q = _mp_eig(s)
    order = sorted(range(s.rows), key=lambda i: e[i])
    qs = mp.matrix([[q[r, i] for i in order] for r in range(s.rows)])
    return _vdv(qs, D)


def _mp_generalized(A, B):
    low = mp.cholesky(_tri(B, True))
    li = mp.inverse(low)
    c = li * _tri(A, True) * li.T
    e, q = _mp_eig(c)
    order = sorted(range(c.rows), key=lambda i: e[i])
    qs = mp.matrix([[q[r, i] for i in order] for r in range(c.rows)])
    v = li.T * qs
    return _vdv(v, D) + mp.diag([e[i] for i in order])


def _usv(A):
    u, s, v = mp.svd_r(A)
    order = sorted(range(A.rows), key=lambda i: -s[i])
    n = A.rows
    us = mp.matrix([[u[r, i] * D[k] * s[i] for k, i in enumerate(order)] for r in range(n)])
    vs = mp.matrix([[v[i, c] for c in range(n)] for i in order])
    return us * vs


def _mp_pinv_tall(a):
    return mp.inverse(a.T * a) * a.T


def _mp_lstsq(A, d, c):
    a = A[0:3, 0:2]
    b = _mpm(R)
    x = mp.inverse(a.T * a) * (a.T * b)
    res = a * x - b
    return sum(d[i] * x[i] for i in range(2)) + c * sum(r ** 2 for r in res)


def _mp_block(a, s):
    out = mp.zeros(3, 3)
    for i in range(2):
        for j in range(2):
            out[i, j] = a[i, j]
    out[2, 2] = s
    return out


def _truth(name):
    prog = CASES[name][1]
    with mp.workdps(40):
        P, Q, S = _mpm(A0), _mpm(E0), _mpm(E1)

        def g(u, v):
            return prog(P + u * Q + v * S, (u, v))

        pt = tuple(mp.mpf(float(v)) for v in X)
        grad = np.array([float(mp.diff(g, pt, (1, 0))), float(mp.diff(g, pt, (0, 1)))])
        hess = np.array([[float(mp.diff(g, pt, (2, 0))), float(mp.diff(g, pt, (1, 1)))],
                         [float(mp.diff(g, pt, (1, 1))), float(mp.diff(g, pt, (0, 2)))]])
        return grad, hess


def _close(got, want, msg):
    assert_close_ulps(got, want, ulps=64, cond=COND * relative_to_largest(want), err_msg=msg)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_and_hessian_match_mpmath_in_both_engines(name):
    grad, hess = _truth(name)
    f = CASES[name][0]
    fh, fr = (lambda x: f(hd.linalg, x)), (lambda x: f(rv.linalg, x))
    _close(hd.gradient(fh, X), grad, f"hd.gradient {name}")
    _close(rv.gradient(fr, X), grad, f"rv.gradient {name}")
    _close(hd.hessian(fh, X), hess, f"hd.hessian {name}")
    _close(rv.hessian(fr, X), hess, f"rv.hessian {name}")
    v = np.array([0.6, -1.1])
    _close(rv.hvp(fr, X, v, mode="reverse-over-reverse"), hess @ v, f"rv.hvp ror {name}")
    # the two modules are one set of functions: each runs the other engine's numbers
    _close(rv.gradient(fh, X), grad, f"rv.gradient of hyperdual.linalg {name}")
    _close(hd.hessian(fr, X), hess, f"hd.hessian of reverse.linalg {name}")


@pytest.mark.parametrize("name", ["solve_sym_upper", "eigh_generalized", "svd",
                                  "solve_sylvester", "solve_discrete_lyapunov"])
@pytest.mark.parametrize("outer, inner", [("hd", "hd"), ("hd", "rv"), ("rv", "hd"),
                                          ("rv", "rv")])
def test_mixed_second_derivative_through_nested_helpers(name, outer, inner):
    """d/dx1 of d/dx0 with the inner helper of one engine inside the outer of any."""
    hess = _truth(name)[1]
    f = CASES[name][0]
    lib = {"hd": hd, "rv": rv}

    def inner_derivative(b):
        return lib[inner].derivative(
            lambda a: f(lib[inner].linalg, np.stack([a, b])), X[0])

    got = lib[outer].derivative(inner_derivative, X[1])
    assert_close_ulps(got, hess[0, 1], ulps=64, cond=COND * relative_to_largest(hess)[0, 1],
                      err_msg=f"{outer}({inner}) {name}")


@pytest.mark.parametrize("name", ["solve", "solve_sylvester", "cholesky_upper"])
def test_taylor_mode_third_derivative(name):
    f = CASES[name][0]
    prog = CASES[name][1]
    with mp.workdps(40):
        P, Q = _mpm(A0), _mpm(E0)
        want = [float(mp.diff(lambda u: prog(P + u * Q, (u, mp.mpf(0))), mp.mpf(0.3), k))
                for k in range(4)]
    got = hd.derivatives(lambda t: f(hd.linalg, np.stack([t, 0.0 * t])), 0.3, 3)
    assert_close_ulps(got, want, ulps=64, cond=COND * relative_to_largest(want),
                      err_msg=f"Taylor {name}")


def test_values_are_scipys_with_scipys_vector_signs():
    a = A0 + A0.T
    d = hd.Dual(a, E0 + E0.T)
    for mod in (hd.linalg, rv.linalg):
        np.testing.assert_array_equal(mod.solve(A0, R), sl.solve(A0, R))
        np.testing.assert_array_equal(mod.cholesky(B0), sl.cholesky(B0))
    w, v = hd.linalg.eigh(d)
    w0, v0 = sl.eigh(a)
    np.testing.assert_allclose(w.real, w0, rtol=1e-13)
    np.testing.assert_allclose(v.real, v0, atol=1e-13)  # the same signs as scipy's
    u, s, vh = hd.linalg.svd(hd.Dual(A0, E0))
    u0, s0, vh0 = sl.svd(A0)
    np.testing.assert_allclose(u.real, u0, atol=1e-13)
    np.testing.assert_allclose(vh.real, vh0, atol=1e-13)
    np.testing.assert_allclose(s.real, s0, rtol=1e-13)
    up = rv.linalg.cholesky(rv.Variable(B0))
    np.testing.assert_allclose(up.data, sl.cholesky(B0), rtol=1e-13)
    np.testing.assert_allclose(np.triu(up.data), up.data)  # scipy's upper factor


def test_triangle_conventions_give_no_derivative_to_the_unread_entries():
    # cholesky (upper, scipy's default) reads the upper triangle: the strictly lower
    # entries of a have no influence
    g = rv.gradient(lambda m: np.sum(rv.linalg.cholesky(m.reshape(3, 3))), B0.ravel())
    assert np.all(g.reshape(3, 3)[np.tril_indices(3, -1)] == 0)
    assert np.all(g.reshape(3, 3)[np.triu_indices(3, 1)] != 0)
    g = hd.gradient(lambda m: np.sum(hd.linalg.eigh(m.reshape(3, 3))[0] * D), B0.ravel())
    assert np.all(g.reshape(3, 3)[np.triu_indices(3, 1)] == 0)  # eigh reads the lower


@pytest.mark.parametrize("engine", ["hd", "rv"])
def test_bad_input_is_refused_with_a_clear_error(engine):
    lib = {"hd": hd, "rv": rv}[engine]
    L = lib.linalg
    with pytest.raises(ValueError, match="assume_a='banded'"):
        lib.gradient(lambda m: np.sum(L.solve(m.reshape(3, 3), R, assume_a="banded")),
                     A0.ravel())
    with pytest.raises(ValueError, match="subset_by_value"):
        lib.gradient(lambda m: np.sum(L.eigh(m.reshape(3, 3), subset_by_value=(0, 3))[0]),
                     A0.ravel())
    with pytest.raises(ValueError, match="type=1"):
        lib.gradient(lambda m: np.sum(L.eigvalsh(m.reshape(3, 3), B0, type=2)), A0.ravel())
    with pytest.raises(np.linalg.LinAlgError):
        lib.gradient(lambda m: np.sum(L.solve(m.reshape(3, 3), R, assume_a="pos")),
                     -B0.ravel())
    with pytest.raises(ValueError, match="square"):
        lib.gradient(lambda m: L.det(m.reshape(2, 3)), np.ones(6))
    with pytest.raises(ValueError, match="a must be a square matrix"):
        lib.gradient(lambda m: np.sum(L.solve_sylvester(m.reshape(2, 3), B0, B0)), np.ones(6))


def test_lu_with_pivoting_against_mpmath():
    """A matrix that pivots (rows 1, 2, 0): P is scipy's, L and U those of P^T A."""
    a0 = np.array([[0.5, 2.0, 1.0], [3.0, 1.0, 0.2], [1.0, 4.0, 2.5]])
    p0 = sl.lu(a0)[0]
    perm = np.argmax(p0, axis=0)
    assert not np.array_equal(perm, np.arange(3))
    with mp.workdps(40):
        def factors(t):
            pa = mp.matrix([[a0[perm[i], j] + t * E0[perm[i], j] for j in range(3)]
                            for i in range(3)])
            lo, up = mp.eye(3), mp.zeros(3, 3)
            for i in range(3):
                for j in range(i, 3):
                    up[i, j] = pa[i, j] - sum(lo[i, k] * up[k, j] for k in range(i))
                for j in range(i + 1, 3):
                    lo[j, i] = (pa[j, i] - sum(lo[j, k] * up[k, i] for k in range(i))) / up[i, i]
            return lo, up

        want = [np.array([[float(mp.diff(lambda t, i=i, j=j, w=w: factors(t)[w][i, j], 0))
                           for j in range(3)] for i in range(3)]) for w in (0, 1)]
    for engine in (hd, rv):
        p, lo, up = engine.linalg.lu(hd.Dual(a0, E0) if engine is hd else rv.Variable(a0))
        np.testing.assert_array_equal(p, p0)
        for w, name in ((1, "L"), (2, "U")):
            got = engine.jacobian(lambda t, w=w, e=engine: e.linalg.lu(a0 + t * E0)[w],
                                  np.array(0.0))
            np.testing.assert_allclose(np.asarray(got).reshape(3, 3), want[w - 1], rtol=1e-13,
                                       atol=1e-14, err_msg=f"{engine.__name__} {name}")


def test_polar_where_singular_values_repeat():
    """a = s I + t E: du/dt = (E - E^T) / (2 s), dp/dt = (E + E^T) / 2 at t = 0 (an SVD
    would divide by the differences of the equal singular values)."""
    s = 2.0
    for engine in (hd, rv):
        for k, want in ((0, (E0 - E0.T) / (2 * s)), (1, (E0 + E0.T) / 2)):
            got = engine.jacobian(lambda t, k=k, e=engine: e.linalg.polar(s * np.eye(3)
                                                                          + t * E0)[k],
                                  np.array(0.0))
            np.testing.assert_allclose(np.asarray(got).reshape(3, 3), want, atol=1e-14,
                                       err_msg=f"{engine.__name__} polar[{k}]")


def test_solve_banded_against_the_dense_closed_form():
    """x = A^-1 b with A in banded storage: dx/db = A^-1, dx/d(ab entry) = -A^-1 E x."""
    low, up, n = 1, 2, 5
    rng = np.random.default_rng(3)
    ab = rng.normal(size=(low + up + 1, n)) + np.array([[0], [0], [4.0], [0]])
    b = rng.normal(size=n)
    dense = np.zeros((n, n))
    for i in range(n):
        for j in range(max(0, i - low), min(n, i + up + 1)):
            dense[i, j] = ab[up + i - j, j]
    x = np.linalg.solve(dense, b)
    inv = np.linalg.inv(dense)
    want_ab = np.zeros((n,) + ab.shape)
    for r in range(ab.shape[0]):
        for j in range(n):
            i = r - up + j
            if 0 <= i < n:
                want_ab[:, r, j] = -inv[:, i] * x[j]
    want = sl.solve_banded((low, up), ab, b)
    np.testing.assert_allclose(hd.linalg.solve_banded((low, up), hd.Dual(ab, ab), b).real, want,
                               rtol=1e-13)
    np.testing.assert_allclose(rv.linalg.solve_banded((low, up), rv.Variable(ab), b).data,
                               want, rtol=1e-13)
    for lib in (hd, rv):
        got_b = lib.jacobian(lambda v, lib=lib: lib.linalg.solve_banded((low, up), ab, v), b)
        np.testing.assert_allclose(got_b, inv, rtol=1e-12, atol=1e-14)
        got_ab = lib.jacobian(lambda m, lib=lib: lib.linalg.solve_banded(
            (low, up), m.reshape(ab.shape), b), ab.ravel())
        np.testing.assert_allclose(np.asarray(got_ab).reshape(want_ab.shape), want_ab,
                                   rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="l\\+u\\+1"):
        hd.jacobian(lambda v: hd.linalg.solve_banded((1, 1), ab, v), b)
