"""Sparsity detection, colouring and compressed sparse derivatives, both engines.

Truth: dense Jacobians/Hessians (of both engines, which the rest of the suite
checks against closed forms and mpmath), closed-form patterns of classical
problems, and scipy's Rosenbrock derivatives.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import rosen, rosen_der, rosen_hess

import hyperdual
import reverse
from _exactdiff.colouring import column_colouring, recover_hessian, seeds, star_colouring
from tests._tolerance import assert_close_ulps

ENGINES = {"hyperdual": hyperdual, "reverse": reverse}


def rosen_np(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def bratu(u, lam=1.0):
    """1-d Bratu residual on n interior points, h = 1/(n+1), zero boundaries."""
    n = u.shape[0]
    h = 1.0 / (n + 1)
    up = np.concatenate([u[1:], np.zeros(1)])
    um = np.concatenate([np.zeros(1), u[:-1]])
    return (um - 2 * u + up) / h ** 2 + lam * np.exp(u)


def arrowhead(x):
    return np.sum(x[0] * x[1:] ** 2) + np.sum(np.sin(x))


def _random_problem(seed, n=12, m=9):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(m, n)) * (rng.random((m, n)) < 0.2)
    B = rng.normal(size=(m, n)) * (rng.random((m, n)) < 0.15)
    idx = rng.integers(0, n, size=m)

    def f(x):
        return A @ np.sin(x) + (B @ x) ** 2 + x[idx] * x[(idx + 3) % n]

    def g(x):  # scalar
        r = f(x)
        return np.sum(r * r) + np.sum(np.exp(x[::3]) * x[1::3][: len(x[::3])])

    return f, g, rng.normal(size=n)


@pytest.mark.parametrize("seed", range(8))
def test_patterns_contain_every_nonzero(seed):
    f, g, x = _random_problem(seed)
    J = hyperdual.jacobian(f, x)
    P = hyperdual.jacobian_sparsity(f, x).toarray()
    assert not np.any((J != 0) & ~P)
    H = reverse.hessian(g, x)
    PH = hyperdual.hessian_sparsity(g, x).toarray()
    assert not np.any((H != 0) & ~PH)
    assert np.array_equal(PH, PH.T)


def test_classical_patterns_are_exact():
    n = 7
    tri = (np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= 1)
    assert np.array_equal(hyperdual.hessian_sparsity(rosen_np, np.zeros(n)).toarray(), tri)
    assert np.array_equal(hyperdual.jacobian_sparsity(bratu, np.zeros(n)).toarray(), tri)
    arrow = np.zeros((n, n), bool)
    arrow[0, :] = arrow[:, 0] = True
    arrow[np.diag_indices(n)] = True
    assert np.array_equal(hyperdual.hessian_sparsity(arrowhead, np.zeros(n)).toarray(), arrow)
    # separable sum: diagonal; linear function: empty
    assert np.array_equal(hyperdual.hessian_sparsity(lambda x: np.sum(np.exp(x)), np.ones(n))
                          .toarray(), np.eye(n, dtype=bool))
    assert hyperdual.hessian_sparsity(lambda x: np.sum(3 * x - x[::-1]), np.ones(n)).nnz == 0
    # the two packages export the same detection
    assert reverse.jacobian_sparsity is hyperdual.jacobian_sparsity


def test_branch_on_value_needs_local():
    def f(x):
        return x[0] ** 2 if x[0] > 0 else x[1] ** 3

    with pytest.raises(ValueError, match="local=True"):
        hyperdual.jacobian_sparsity(f, np.array([1.0, 2.0]))
    assert hyperdual.jacobian_sparsity(f, np.array([1.0, 2.0]), local=True).toarray().tolist() \
        == [[True, False]]
    assert hyperdual.jacobian_sparsity(f, np.array([-1.0, 2.0]), local=True).toarray().tolist() \
        == [[False, True]]


def test_where_counts_both_branches_globally_and_one_locally():
    def f(x):
        return np.where(x > 0, np.sqrt(np.abs(x)), x[::-1] ** 2)

    x = np.array([1.0, -2.0, 3.0])
    glob = hyperdual.jacobian_sparsity(f, x).toarray()
    assert np.array_equal(glob, np.eye(3, dtype=bool) | np.eye(3, dtype=bool)[::-1])
    loc = hyperdual.jacobian_sparsity(f, x, local=True).toarray()
    J = hyperdual.jacobian(f, x)
    assert not np.any((J != 0) & ~loc)
    assert loc.sum() < glob.sum()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("engine", ENGINES)
def test_sparse_derivatives_equal_dense(engine, seed):
    E = ENGINES[engine]
    f, g, x = _random_problem(seed)
    J = E.sparse_jacobian(f, x)
    assert sp.issparse(J)
    np.testing.assert_allclose(J.toarray(), hyperdual.jacobian(f, x), rtol=1e-12, atol=1e-12)
    H = E.sparse_hessian(g, x)
    assert sp.issparse(H)
    np.testing.assert_allclose(H.toarray(), reverse.hessian(g, x), rtol=1e-11, atol=1e-10)


@pytest.mark.parametrize("engine", ENGINES)
def test_rosenbrock_and_bratu_against_scipy_and_closed_forms(engine):
    E = ENGINES[engine]
    x = np.linspace(-1.2, 1.3, 40)
    H = E.SparseHessian(rosen_np, np.zeros(40))
    assert H.ncolours == 3
    np.testing.assert_allclose(H(x).toarray(), rosen_hess(x), rtol=1e-13)
    np.testing.assert_allclose(H(x + 0.1).toarray(), rosen_hess(x + 0.1), rtol=1e-13)
    u = np.linspace(0.1, 0.5, 30)
    J = E.SparseJacobian(bratu, u)
    h = 1.0 / 31
    dense = (np.diag(np.full(30, -2 / h ** 2) + np.exp(u)) + np.diag(np.full(29, 1 / h ** 2), 1)
             + np.diag(np.full(29, 1 / h ** 2), -1))
    np.testing.assert_allclose(J(u).toarray(), dense, rtol=1e-13)
    assert rosen(x) == pytest.approx(rosen_np(x))
    np.testing.assert_allclose(E.gradient(rosen_np, x), rosen_der(x), rtol=1e-12)


def test_large_rosenbrock_completes_with_three_colours():
    n = 100_000
    x = np.full(n, 0.5)
    H = reverse.SparseHessian(rosen_np, x)
    assert H.ncolours == 3
    h = H(x)
    assert h.nnz == 3 * n - 2
    # closed forms at x = 0.5: d2/dx0^2 = 1200 x0^2 - 400 x1 + 2, d2/dx0dx1 = -400 x0
    assert h[0, 0] == pytest.approx(1200 * 0.25 - 400 * 0.5 + 2)
    assert h[10, 11] == pytest.approx(-400 * 0.5)
    assert h[n - 1, n - 1] == pytest.approx(200)


def test_known_sparsity_is_used_and_checked():
    P = sp.identity(4, format="csr")
    H = hyperdual.sparse_hessian(lambda x: np.sum(x ** 4), np.ones(4), sparsity=P)
    np.testing.assert_allclose(H.toarray(), 12 * np.eye(4))
    with pytest.raises(ValueError, match="shape"):
        reverse.SparseHessian(lambda x: np.sum(x ** 4), np.ones(4), sparsity=sp.identity(3))
    Hs = reverse.SparseHessian(lambda x: np.sum(x ** 4), np.ones(4))
    with pytest.raises(ValueError, match="shape"):
        Hs(np.ones(5))


@pytest.mark.parametrize("seed", range(10))
def test_colourings_are_valid(seed):
    rng = np.random.default_rng(seed)
    n = 30
    M = rng.random((n, n)) < 0.08
    S = M | M.T | np.eye(n, dtype=bool)
    c = column_colouring(sp.csr_matrix(M))
    for k in range(c.max() + 1):  # no two columns of a colour share a row
        assert np.all(M[:, c == k].sum(axis=1) <= 1)
    s = star_colouring(sp.csr_matrix(S))
    assert all(s[i] != s[j] for i, j in zip(*np.nonzero(S)) if i != j)
    # every entry recovered directly from H @ V, for a random symmetric H on S
    Hm = np.where(S, rng.normal(size=(n, n)), 0.0)
    Hm = Hm + Hm.T
    rec = recover_hessian(sp.csr_matrix(S), s, Hm @ seeds(s))
    np.testing.assert_allclose(rec.toarray(), Hm, rtol=1e-14, atol=1e-14)


def test_colour_counts_of_structures():
    n = 50
    tri = sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(n, n), format="csr")
    assert star_colouring(tri).max() + 1 == 3
    arrow = sp.lil_matrix((n, n))
    arrow[0, :] = 1
    arrow[:, 0] = 1
    arrow.setdiag(1)
    assert star_colouring(arrow.tocsr()).max() + 1 == 2
    assert star_colouring(sp.identity(n, format="csr")).max() + 1 == 1


@pytest.mark.parametrize("outer", ENGINES)
@pytest.mark.parametrize("inner", ENGINES)
def test_sparse_helpers_nest(outer, inner):
    O, I = ENGINES[outer], ENGINES[inner]
    x0 = np.array([0.3, -0.2, 0.5])

    def F(a):  # d/da of sum(H(a)) where H = sparse Hessian of a * sum(x^3) at x0
        H = I.sparse_hessian(lambda x: a * np.sum(x ** 3), x0)
        return np.sum(H * np.ones((3, 3))) if not sp.issparse(H) else H.sum()

    # sum of the Hessian = a * sum(6 x0): derivative in a is sum(6 x0)
    assert O.derivative(F, 2.0) == pytest.approx(6 * x0.sum(), rel=1e-13)

    def G(x):  # the sparse Jacobian taken at an outer point
        J = I.sparse_jacobian(lambda z: z ** 2, x)
        return np.sum(J * np.ones((3, 3)))

    np.testing.assert_allclose(O.gradient(G, x0), np.full(3, 2.0), rtol=1e-13)


@pytest.mark.parametrize("engine", ENGINES)
def test_scipy_adapters_with_sparse_derivatives(engine):
    from scipy.optimize import least_squares, minimize

    E = ENGINES[engine]
    n = 30
    d = E.scipy_derivatives(rosen_np, method="trust-constr", prefer="hess", sparse=True)
    x = np.linspace(-1.0, 1.5, n)
    h = d["hess"](x)
    assert sp.issparse(h)
    np.testing.assert_allclose(h.toarray(), rosen_hess(x), rtol=1e-13)
    res = minimize(rosen_np, np.full(n, 0.5), method="trust-constr", **d,
                   options={"gtol": 1e-10, "xtol": 1e-12, "maxiter": 2000})
    np.testing.assert_allclose(res.x, np.ones(n), atol=1e-6)

    # least squares: the Bratu residual with sparse exact Jacobians
    jac = E.least_squares_jac(bratu, sparse=True)
    u0 = np.zeros(n)
    J = jac(u0)
    assert sp.issparse(J)
    np.testing.assert_allclose(J.toarray(), E.jacobian(bratu, u0), rtol=1e-13)
    sol = least_squares(bratu, u0, jac=jac, tr_solver="lsmr", xtol=1e-14, ftol=1e-14,
                        gtol=1e-14)
    assert np.max(np.abs(bratu(sol.x))) < 1e-8
    dense = E.least_squares_jac(bratu)
    np.testing.assert_allclose(dense(sol.x), jac(sol.x).toarray(), rtol=1e-13)


@pytest.mark.parametrize("seed", range(4))
def test_stacked_recovery_and_seed_stack_match_the_plain_forms(seed):
    from _exactdiff.colouring import hessian_recovery, seed_stack

    rng = np.random.default_rng(seed)
    n = 25
    M = rng.random((n, n)) < 0.1
    S = M | M.T | np.eye(n, dtype=bool)
    s = star_colouring(sp.csr_matrix(S))
    V = seeds(s)
    st = seed_stack(s, (5, 5), np.float32)
    assert st.flags.c_contiguous and st.dtype == np.float32
    np.testing.assert_array_equal(st.reshape(-1, n), V.T)
    Hm = np.where(S, rng.normal(size=(n, n)), 0.0)
    Hm = Hm + Hm.T
    R = hessian_recovery(sp.csr_matrix(S), s)
    a = R(Hm @ V)
    b = R.stacked((Hm @ V).T)
    np.testing.assert_array_equal(a.toarray(), Hm)
    np.testing.assert_array_equal(b.toarray(), Hm)
    assert b.has_sorted_indices and b.nnz == S.sum()


@pytest.mark.parametrize("b", range(4))
def test_full_bands_take_the_vectorised_colouring_with_the_greedys_count(b, monkeypatch):
    import _exactdiff.colouring as C

    for n in (1, 3, 7, 4 * b + 4, 40):
        if b >= n:
            continue
        band = sp.diags([np.ones(n)] * (2 * b + 1), list(range(-b, b + 1)), shape=(n, n),
                        format="csr")
        fast = C.star_colouring(band)
        fast_upper = C.star_colouring(sp.triu(band, format="csr"))
        fast_col = C.column_colouring(band)
        with monkeypatch.context() as m:  # the greedy loops alone
            m.setattr(C, "_full_band", lambda P: None)
            m.setattr(C, "_row_spans", lambda P: (P.shape[1], 0))
            slow, slow_col = C.star_colouring(band), C.column_colouring(band)
        assert fast.max() == slow.max() == fast_upper.max()
        assert fast_col.max() == slow_col.max()
        dense = band.toarray()
        for k in range(fast_col.max() + 1):
            assert np.all(dense[:, fast_col == k].sum(axis=1) <= 1)
        rng = np.random.default_rng(n)
        Hm = np.where(dense != 0, rng.normal(size=(n, n)), 0.0)
        Hm = Hm + Hm.T
        np.testing.assert_array_equal(recover_hessian(band, fast, Hm @ seeds(fast)).toarray(),
                                      Hm)
    # a band with a hole is not full: the greedy colours it
    holed = sp.lil_matrix(sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(20, 20)))
    holed[9, 10] = holed[10, 9] = 0
    s = star_colouring(sp.csr_matrix(holed))
    assert all(s[i] != s[j] for i, j in zip(*holed.nonzero()) if i != j and holed[i, j])


def test_hessian_patterns_of_dense_rows_and_stencils():
    # a reduction fed to a nonlinear function couples everything (the sparse-product
    # branch of the tracer), a 2-d five-point stencil squared couples neighbours of
    # neighbours (many inputs per row); both against the dense Hessians' nonzeros
    n = 300
    P = hyperdual.hessian_sparsity(lambda x: np.sum(x) ** 2 + np.sum(np.sin(x[::2])), np.ones(n))
    assert P.nnz == n * n
    m = 7

    def stencil(u):
        U = u.reshape(m, m)
        Q = np.pad(U, 1)
        r = Q[:-2, 1:-1] + Q[2:, 1:-1] + Q[1:-1, :-2] + Q[1:-1, 2:] - 4 * U + np.exp(U)
        return np.sum(r ** 2)

    x = np.random.default_rng(3).normal(size=m * m)
    S = hyperdual.hessian_sparsity(stencil, x).toarray()
    H = reverse.hessian(stencil, x)
    assert not np.any((H != 0) & ~S)
    assert np.array_equal(S, np.abs(H) > 0)  # exact here: no cancellation
    np.testing.assert_allclose(reverse.sparse_hessian(stencil, x).toarray(), H, rtol=1e-12,
                               atol=1e-9)


# ---- hyperdual.hessian's sparse route (detect, colour, one compressed pass) ------------
def _route_spy(monkeypatch):
    import hyperdual.sparse as hs

    taken = []
    route = hs._dense_hessian_by_colours

    def spy(*args):
        out = route(*args)
        taken.append(out is not None)
        return out

    monkeypatch.setattr(hs, "_dense_hessian_by_colours", spy)
    return taken


def _dense_stacks(f, x, monkeypatch):
    import hyperdual.sparse as hs

    with monkeypatch.context() as m:
        m.setattr(hs, "_ROUTE_MIN_N", 10 ** 9)
        return hyperdual.hessian(f, x)


def _chain(x):  # banded (half-width 2), several nonlinear ops
    return np.sum(np.sin(x[2:] * x[:-2]) + np.exp(0.1 * x[1:-1]) * x[2:] ** 2) + np.sum(x ** 4)


def _arrow_2d(x):  # a 2-d x, an arrowhead coupling through x[0, 0]
    return np.sum(x[0, 0] * x ** 2) + np.sum(np.log1p(x ** 2))


@pytest.mark.parametrize("f, x", [
    (rosen_np, np.linspace(-1.2, 1.3, 100)),
    (_chain, np.linspace(-0.7, 0.9, 64)),
    (arrowhead, np.linspace(0.2, 1.5, 60)),
    (_arrow_2d, np.linspace(-1.0, 1.0, 48).reshape(6, 8)),
])
def test_hessian_sparse_route_equals_dense_hessians(f, x, monkeypatch):
    taken = _route_spy(monkeypatch)
    H = hyperdual.hessian(f, x)
    assert taken == [True]
    assert type(H) is np.ndarray and H.shape == x.shape + x.shape
    R = reverse.hessian(f, x)
    scale = np.max(np.abs(R))
    np.testing.assert_allclose(H, R, rtol=1e-13, atol=64 * np.finfo(float).eps * scale)
    np.testing.assert_allclose(H, _dense_stacks(f, x, monkeypatch), rtol=1e-13,
                               atol=64 * np.finfo(float).eps * scale)
    if f is rosen_np:
        np.testing.assert_allclose(H, rosen_hess(x), rtol=1e-13)


@pytest.mark.parametrize("seed", range(4))
def test_hessian_sparse_route_on_random_sparse_problems(seed, monkeypatch):
    _, g, x = _random_problem(seed, n=60, m=40)
    taken = _route_spy(monkeypatch)
    H = hyperdual.hessian(g, x)
    R = reverse.hessian(g, x)
    np.testing.assert_allclose(H, R, rtol=1e-11, atol=1e-10 * np.max(np.abs(R)))
    assert len(taken) == 1  # the route ran; it may find the pattern too dense


def test_hessian_sparse_route_falls_back_where_detection_refuses(monkeypatch):
    def branch(x):  # the pattern depends on the value of x[0]
        if x[0] > 0:
            return np.sum(x[1:] * x[:-1])
        return np.sum(x ** 3)

    def values(x):  # reads the values (a constant factor for the derivative)
        return np.max(x.real) * np.sum(x[1:] ** 2 * x[:-1]) + np.sum(np.cos(x))

    def converts(x):  # an error in both
        return float(np.sum(x[:2])) * np.sum(x ** 2)

    x = np.linspace(0.1, 0.9, 50)
    taken = _route_spy(monkeypatch)
    for f in (branch, values):
        np.testing.assert_array_equal(hyperdual.hessian(f, x), _dense_stacks(f, x, monkeypatch))
    assert taken == [False, False]
    assert_close_ulps(hyperdual.hessian(branch, -x), np.diag(-6 * x))  # 6 * (-x): one rounding
    with pytest.raises(TypeError, match="float"):
        hyperdual.hessian(converts, x)


def test_hessian_sparse_route_checks_the_pattern_and_keeps_non_finite_dense(monkeypatch):
    import hyperdual.sparse as hs

    x = np.linspace(-1.2, 1.3, 60)
    want = rosen_hess(x)
    # a pattern missing the off-diagonals: V.T @ H has nonzeros where the pattern has
    # none, so the route gives up and the dense stacks answer (either form of pattern)
    for wrong in (lambda f, x: sp.identity(x.size, format="csr", dtype=bool),
                  lambda f, x: np.eye(x.size, dtype=bool)):
        with monkeypatch.context() as m:
            m.setattr(hs, "hessian_pairs", wrong)
            taken = _route_spy(m)
            np.testing.assert_allclose(hyperdual.hessian(rosen_np, x), want, rtol=1e-13)
            assert taken == [False]
    taken = _route_spy(monkeypatch)
    z = np.zeros(50)  # sqrt at 0: an infinite second derivative
    np.testing.assert_array_equal(hyperdual.hessian(lambda v: np.sum(np.sqrt(v ** 2 + v)), z),
                                  _dense_stacks(lambda v: np.sum(np.sqrt(v ** 2 + v)), z,
                                                monkeypatch))
    assert taken == [False]


def test_hessian_sparse_route_float32_and_constant(monkeypatch):
    x = np.linspace(-1.0, 1.0, 64).astype(np.float32)
    H = hyperdual.hessian(rosen_np, x)
    assert H.dtype == _dense_stacks(rosen_np, x, monkeypatch).dtype
    np.testing.assert_allclose(H, rosen_hess(x.astype(float)), rtol=1e-5)
    np.testing.assert_array_equal(hyperdual.hessian(lambda v: 3.0, np.ones(50)),
                                  np.zeros((50, 50)))


def _two_coloured_p4(S, c):
    """A path v-w-x-y of the symmetric pattern S coloured with two colours, or None."""
    nb = [set(np.nonzero(S[i])[0]) - {i} for i in range(S.shape[0])]
    for w in range(S.shape[0]):
        for x in nb[w]:
            for v in nb[w] - {x}:
                if c[v] != c[x]:
                    continue
                for y in nb[x] - {w, v}:
                    if c[y] == c[w]:
                        return v, w, x, y
    return None


@pytest.mark.parametrize("seed", range(12))
def test_greedy_colourings_are_valid_on_random_patterns(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(20, 70))
    density = rng.uniform(0.02, 0.12)
    M = rng.random((n, n)) < density
    S = M | M.T | (rng.random(n) < 0.7)[:, None] * np.eye(n, dtype=bool)
    s = star_colouring(sp.csr_matrix(S))
    assert all(s[i] != s[j] for i, j in zip(*np.nonzero(S)) if i != j)  # distance 1
    assert _two_coloured_p4(S, s) is None  # star
    Hm = np.where(S, rng.normal(size=(n, n)), 0.0)
    Hm = Hm + Hm.T
    rec = recover_hessian(sp.csr_matrix(S), s, Hm @ seeds(s))
    np.testing.assert_allclose(rec.toarray(), Hm, rtol=1e-14, atol=1e-14)
    m = int(rng.integers(10, 2 * n))
    R = rng.random((m, n)) < density  # rectangular: distance 2 in the bipartite graph
    c = column_colouring(sp.csr_matrix(R))
    for k in range(c.max() + 1):
        assert np.all(R[:, c == k].sum(axis=1) <= 1)
    assert c.max() + 1 >= R.sum(axis=1).max()  # no colouring does with fewer


@pytest.mark.parametrize("engine, what", [("reverse", "hessian"), ("reverse", "jacobian"),
                                          ("hyperdual", "jacobian")])
def test_memory_per_element_stays_bounded_at_n_1e5(engine, what):
    """O(n) memory: the peak of numpy allocations per element of x (tracemalloc) at
    n = 10**5 is a few hundred bytes; any dense row, column or direction stack of
    length n per element would be ~10**5 times that.  (hyperdual's sparse Hessian
    carries n directions on ε2, O(n**2): not in this list.)"""
    import tracemalloc

    E = ENGINES[engine]
    n = 100_000
    x = np.full(n, 0.5)
    call = ((lambda: E.sparse_hessian(rosen_np, x)) if what == "hessian"
            else (lambda: E.sparse_jacobian(bratu, x)))
    call()  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        out = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.shape == (n, n) and out.nnz == 3 * n - 2
    assert peak / n < 2048, peak / n
    if what == "hessian":
        assert out[5, 5] == pytest.approx(1200 * 0.25 - 400 * 0.5 + 202)
        assert out[5, 6] == pytest.approx(-200.0)
    else:
        h = 1.0 / (n + 1)
        assert out[5, 5] == pytest.approx(-2 / h ** 2 + np.exp(0.5))
        assert out[5, 6] == pytest.approx(1 / h ** 2)
