"""np.linalg.inv/solve/det/slogdet on Taylor numbers against closed forms.

Along A(t) = A0 + t A1 (with M = -A0^-1 A1 and lam the eigenvalues of A0^-1 A1):
inv(A(t)) = sum_k M^k A0^-1 t^k, det(A(t)) = det(A0) prod_i (1 + t lam_i) and
log|det A(t)| = log|det A0| + sum_k (-1)^(k-1) sum_i lam_i^k t^k / k.
"""

import numpy as np
import pytest

import hyperdual as hd
from hyperdual import Taylor

K = 6
RNG = np.random.default_rng(7)


def _series(A0, A1):
    c = np.zeros((K + 1,) + A0.shape)
    c[0], c[1] = A0, A1
    return Taylor(c)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_inv_det_slogdet_solve(n):
    A0 = RNG.normal(size=(n, n)) + 2 * n * np.eye(n)
    A1 = RNG.normal(size=(n, n))
    T = _series(A0, A1)
    Ai = np.linalg.inv(A0)
    M = -Ai @ A1
    ref = np.stack([np.linalg.matrix_power(M, k) @ Ai for k in range(K + 1)])
    np.testing.assert_allclose(np.linalg.inv(T).coef, ref, rtol=1e-12, atol=1e-14)

    lam = np.linalg.eigvals(Ai @ A1)
    poly = np.array([1.0 + 0j])
    for v in lam:  # multiply by (1 + v t), low order first
        poly = np.concatenate([poly, [0]]) + v * np.concatenate([[0], poly])
    det_ref = np.zeros(K + 1)
    det_ref[:n + 1] = np.linalg.det(A0) * poly.real
    np.testing.assert_allclose(np.linalg.det(T).coef, det_ref, rtol=1e-12, atol=1e-12)

    sign, logdet = np.linalg.slogdet(T)
    l_ref = [np.log(abs(np.linalg.det(A0)))] + [
        float(np.real((-1) ** (k - 1) * np.sum(lam ** k) / k)) for k in range(1, K + 1)]
    assert sign == np.sign(np.linalg.det(A0))
    np.testing.assert_allclose(logdet.coef, l_ref, rtol=1e-11, atol=1e-13)

    b = np.zeros((K + 1, n))
    b[0], b[2] = RNG.normal(size=n), RNG.normal(size=n)
    x = np.linalg.solve(T, Taylor(b, tag=T.tag))
    ref = np.stack([sum(np.linalg.matrix_power(M, k - j) @ Ai @ b[j] for j in range(k + 1))
                    for k in range(K + 1)])
    np.testing.assert_allclose(x.coef, ref, rtol=1e-12, atol=1e-14)
    # a constant right-hand side, and a constant matrix with a Taylor right-hand side
    np.testing.assert_allclose(np.linalg.solve(T, b[0]).coef, ref_const(M, Ai, b[0]),
                               rtol=1e-12, atol=1e-14)
    y = np.linalg.solve(A0, Taylor(b))
    np.testing.assert_allclose(y.coef, np.linalg.solve(A0, b[..., None])[..., 0], rtol=1e-13)


def ref_const(M, Ai, b0):
    return np.stack([np.linalg.matrix_power(M, k) @ Ai @ b0 for k in range(K + 1)])


def test_linalg_helpers_vs_hyperdual():
    f = lambda x: np.linalg.det(np.outer(x, x) + np.diag(1 + x ** 2))  # noqa: E731
    g = lambda x: np.sum(np.linalg.solve(np.diag(2 + x) + 0.3, x))  # noqa: E731
    x = np.array([0.4, -0.3, 0.8])
    v = np.array([1.0, 0.5, -0.25])
    for fn in (f, g):
        d = hd.directional_derivatives(fn, x, v, 2)
        np.testing.assert_allclose(d[1], hd.gradient(fn, x) @ v, rtol=1e-12)
        np.testing.assert_allclose(d[2], v @ hd.hessian(fn, x) @ v, rtol=1e-11)


# --- cholesky, eigh/eigvalsh, the shared compositions, and the clear errors --------------
mpmath = pytest.importorskip("mpmath")


def _sym_series(n, K=6, seed=3):
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(n, n))
    A0 = B @ B.T + n * np.eye(n)
    A1 = rng.normal(size=(n, n))
    A2 = rng.normal(size=(n, n))
    c = np.zeros((K + 1, n, n))
    c[0], c[1], c[2] = A0, A1 + A1.T, A2 + A2.T
    return c


def _mp_taylor(fn, K):
    """Taylor coefficients of t -> fn(t) at 0 by mpmath (50 digits)."""
    with mpmath.workdps(50):
        return np.array([float(v) for v in mpmath.taylor(fn, 0, K)])


def _mp_matrix(c, t):
    return sum((mpmath.matrix(c[k].tolist()) * t ** k for k in range(1, len(c))),
               mpmath.matrix(c[0].tolist()))


def _envelope_close(ours, ref, C=64.0):
    """abs(ours_k - ref_k) <= C (K + 1) eps max_j<=k abs(ref_j) q^(k-j) (the README's bound;
    q the growth rate of the reference coefficients)."""
    ref = np.asarray(ref, dtype=float)
    a = np.abs(ref)
    a0 = a[0] if a[0] else max(a.max(), 1e-300)
    q = max([(a[j] / a0) ** (1.0 / j) for j in range(1, len(a)) if a[j]] + [1.0])
    env = np.array([max(a[j] * q ** (k - j) for j in range(k + 1)) for k in range(len(a))])
    tol = C * len(a) * np.finfo(float).eps * np.maximum(env, a0 * q ** np.arange(len(a)))
    assert np.all(np.abs(ours - ref) <= tol), (ours, ref, tol)


@pytest.mark.parametrize("n", [1, 3])
def test_cholesky_against_mpmath(n):
    c = _sym_series(n)
    L = np.linalg.cholesky(Taylor(c))
    np.testing.assert_array_equal(np.triu(L.coef, 1), 0.0)
    for i in range(n):
        for j in range(i + 1):
            ref = _mp_taylor(lambda t, i=i, j=j: mpmath.cholesky(_mp_matrix(c, t))[i, j], K)
            _envelope_close(L.coef[:, i, j], ref)


@pytest.mark.parametrize("n", [2, 4])
def test_eigh_eigvalsh_against_mpmath(n):
    c = _sym_series(n)
    T = Taylor(c)
    w, Q = np.linalg.eigh(T)
    np.testing.assert_array_equal(np.linalg.eigvalsh(T).coef, w.coef)
    for i in range(n):
        ref = _mp_taylor(lambda t, i=i: sorted(mpmath.eigsy(_mp_matrix(c, t))[0])[i], K)
        _envelope_close(w.coef[:, i], ref, C=256.0)

    Q0 = np.linalg.eigh(c[0])[1]

    def vec(t, i, r):  # the eigenvector with numpy's sign at t = 0
        E, V = mpmath.eigsy(_mp_matrix(c, t))
        order = sorted(range(n), key=lambda j: E[j])
        col = V[:, order[i]]
        s = 1 if sum(col[p] * Q0[p, i] for p in range(n)) > 0 else -1
        return s * col[r]
    for i in range(n):
        ref = _mp_taylor(lambda t, i=i: vec(t, i, 0), K)
        _envelope_close(Q.coef[:, 0, i], ref, C=256.0)
    # the defining identities as series: Q diag(w) Q^T = A and Q^T Q = I
    np.testing.assert_allclose((Q * w[..., None, :] @ Q.T).coef, c, atol=1e-11 * np.abs(c).max())


def test_linalg_compositions_against_backprop():
    """cholesky, eigh, norm, matrix_power, multi_dot, tensorsolve through a scalar f,
    order 4 along a direction, against reverse mode's repeated create_graph."""
    import reverse

    def sym(x):
        M = np.reshape(x, (3, 3))
        return M @ M.T + 3.0 * np.eye(3)

    fs = {
        "cholesky": lambda x: np.sum(np.linalg.cholesky(sym(x)) ** 2
                                     * np.arange(9.0).reshape(3, 3)),
        "eigvalsh": lambda x: np.linalg.eigvalsh(sym(x))[0],
        "eigh": lambda x: np.linalg.eigh(sym(x))[1][0, 2] ** 2,
        "norm": lambda x: np.linalg.norm(x, 3) + np.linalg.norm(np.reshape(x, (3, 3)), np.inf)
        + np.linalg.norm(np.reshape(x, (3, 3))),
        "matrix_power": lambda x: np.sum(np.linalg.matrix_power(np.reshape(x, (3, 3)), -2)),
        "multi_dot": lambda x: np.linalg.multi_dot([x[:3], np.reshape(x, (3, 3)), x[3:6]]),
        "tensorsolve": lambda x: np.sum(np.linalg.tensorsolve(sym(x), x[:3])),
        "einsum": lambda x: np.einsum("ij,jk,k->", np.reshape(x, (3, 3)), sym(x), x[:3]),
        "tensordot_kron_cross": lambda x: np.sum(np.tensordot(np.reshape(x, (3, 3)), sym(x)))
        + np.sum(np.kron(x[:2], x[3:5]) ** 2) + np.sum(np.cross(x[:3], x[6:]) ** 3),
    }
    rng = np.random.default_rng(11)
    x = rng.normal(size=9) + np.array([2.0, 0, 0, 0, 2.5, 0, 0, 0, 3.0])
    v = rng.normal(size=9)
    for name, f in fs.items():
        ours = hd.directional_derivatives(f, x, v, 4)
        ref = reverse.directional_derivatives(f, x, v, 4, method="backprop")
        np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-11, err_msg=name)


def test_eigh_of_repeated_eigenvalues_raises():
    from hyperdual.linalg import DegenerateDerivativeError

    c = np.zeros((3, 2, 2))
    c[0], c[1] = np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(DegenerateDerivativeError, match="distinct"):
        np.linalg.eigh(Taylor(c))


def test_symmetric_functions_read_one_triangle_as_numpy_does():
    """eigh/eigvalsh/cholesky read one triangle of every coefficient, as numpy reads one
    triangle of the matrix and as the Dual rules do.  A matrix symmetric only up to
    rounding, S @ S.T (its higher coefficients sum the same products in different
    orders), was refused with 'needs every coefficient symmetric'."""
    import reverse

    def f(x):
        S = np.reshape(x, (2, 2))
        return np.linalg.eigvalsh(S @ S.T + np.eye(2))[-1]

    x = np.array([-0.3082800694237453, 1.2302525041729346, -0.1856131525412934,
                  0.3672076443333494])
    v = np.array([-0.02406695545577886, -0.5759697389723848, -0.13747899829329446,
                  0.06810908627843992])
    ours = hd.directional_derivatives(f, x, v, 3)
    ref = reverse.directional_derivatives(f, x, v, 3, method="backprop")
    np.testing.assert_allclose(ours, ref, rtol=64 * np.finfo(float).eps * 1e3)
    assert ours[2] == pytest.approx(hd.hvp(f, x, v) @ v, rel=1e-12)

    rng = np.random.default_rng(5)
    c = rng.normal(size=(4, 3, 3))
    c[0] += 6 * np.eye(3)
    for uplo, tri in (("L", np.tril), ("U", np.triu)):
        sym = tri(c) + np.swapaxes(tri(c, -1 if uplo == "L" else 1), -1, -2)
        got, want = np.linalg.eigh(Taylor(c), UPLO=uplo), np.linalg.eigh(Taylor(sym), UPLO=uplo)
        np.testing.assert_array_equal(got[0].coef, want[0].coef)
        np.testing.assert_array_equal(got[1].coef, want[1].coef)
        np.testing.assert_array_equal(np.linalg.eigvalsh(Taylor(c), UPLO=uplo).coef,
                                      want[0].coef)
    lower = np.tril(c) + np.swapaxes(np.tril(c, -1), -1, -2)
    np.testing.assert_array_equal(np.linalg.cholesky(Taylor(c)).coef,
                                  np.linalg.cholesky(Taylor(lower)).coef)


def _linalg_calls():
    a = Taylor(np.stack([np.diag([2.0, 3.0, 4.0]) + 0.1, np.ones((3, 3)), np.zeros((3, 3))]))
    b = np.ones(3)
    calls = {
        "cholesky": (a,), "det": (a,), "slogdet": (a,), "inv": (a,), "solve": (a, b),
        "eigh": (a,), "eigvalsh": (a,), "norm": (a,), "matrix_power": (a, 3),
        "multi_dot": ([a, a],), "matrix_rank": (a,), "tensorinv": (a, 1),
        "tensorsolve": (a, b), "cond": (a, 1), "eig": (a,), "eigvals": (a,), "svd": (a,),
        "qr": (a,), "pinv": (a,), "lstsq": (a, b), "svdvals": (a,), "matrix_norm": (a,),
        "vector_norm": (a,), "matmul": (a, a), "outer": (b, a[0]), "vecdot": (a, a),
        "matrix_transpose": (a,), "trace": (a,), "diagonal": (a,),
        "cross": (a, a), "tensordot": (a, a),
    }
    return calls


UNSUPPORTED = {"eig", "eigvals"}


@pytest.mark.parametrize("name", sorted(f for f in dir(np.linalg) if not f.startswith("_")
                                        and callable(getattr(np.linalg, f))
                                        and not f[0].isupper() and f != "test"))
def test_every_linalg_function_works_or_names_itself(name):
    """Each numpy.linalg function gives a Taylor result or a TypeError naming it (and an
    engine that differentiates it)."""
    args = _linalg_calls().get(name)
    assert args is not None, f"no call for numpy.linalg.{name}: add one"
    fn = getattr(np.linalg, name)
    if name in UNSUPPORTED:
        with pytest.raises(TypeError, match=rf"numpy\.linalg\.{name}\b.*reverse"):
            fn(*args)
        return
    out = fn(*args)
    assert out is not None
    assert f"numpy.linalg.{name}" in hd.taylor_supported() or name in ("matmul", "outer",
                                                                        "trace", "diagonal")
