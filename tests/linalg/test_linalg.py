"""Linear algebra in both engines: first and second derivatives of every
``np.linalg`` function against central differences of the exact first
derivative and against the other engine, batched and unbatched, float64 and
float32; reverse third order for a few; degenerate points; nesting.
"""

import numpy as np
import pytest
from _linalg_checks import central, close, reverse_third

import hyperdual as hd
import reverse as rv
from reverse import Variable

RNG = np.random.default_rng(20261130)
NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


# ---------------------------------------------------------------------------------
# Inputs (well conditioned) and the catalog
# ---------------------------------------------------------------------------------
def general(shape):
    m, n = shape[-2:]
    return RNG.standard_normal(shape) + max(m, n) * np.eye(m, n)


def spd(shape):
    m = RNG.standard_normal(shape)
    n = shape[-1]
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def symmetric(shape):
    # distinct eigenvalues (well separated) in a random basis
    n = shape[-1]
    q, _ = np.linalg.qr(RNG.standard_normal(shape))
    w = np.arange(1.0, n + 1) * 1.5 + RNG.uniform(0, 0.3, shape[:-1])
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


def rect(shape):
    # well separated singular values
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(RNG.standard_normal(shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(RNG.standard_normal(shape[:-2] + (n, k)))
    s = np.arange(1.0, k + 1) + RNG.uniform(0, 0.3, shape[:-2] + (k,))
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


B3 = RNG.standard_normal(3)
B32 = RNG.standard_normal((3, 2))
B4 = RNG.standard_normal(4)

# name: (function, input maker, unbatched shape, batched shape or None)
CASES = {
    "solve_vec": (lambda a: np.linalg.solve(a, B3), general, (3, 3), (2, 3, 3)),
    "solve_mat": (lambda a: np.linalg.solve(a, B32), general, (3, 3), (2, 3, 3)),
    "solve_b": (lambda b: np.linalg.solve(A_FIXED, b), None, (3, 2),
                (2, 3, 2)),
    "solve_both": (lambda a: np.linalg.solve(a, a[..., :2] * a[..., :2]), general, (3, 3),
                   (2, 3, 3)),
    # batch shapes that differ between A and b (numpy broadcasts them)
    "solve_b_more_batch": (lambda a: np.linalg.solve(a, B4132), general, (3, 3), (2, 3, 3)),
    "inv": (np.linalg.inv, general, (3, 3), (2, 3, 3)),
    "det": (np.linalg.det, general, (3, 3), (2, 3, 3)),
    "slogdet": (lambda a: np.linalg.slogdet(a)[1], general, (3, 3), (2, 3, 3)),
    "slogdet_neg": (lambda a: np.linalg.slogdet(-a)[1] * np.linalg.slogdet(-a)[0], general,
                    (3, 3), None),
    "cholesky": (np.linalg.cholesky, spd, (3, 3), (2, 3, 3)),
    "eigh_w": (lambda a: np.linalg.eigh(a)[0], symmetric, (3, 3), (2, 3, 3)),
    "eigh_v": (lambda a: np.linalg.eigh(a)[1], symmetric, (3, 3), (2, 3, 3)),
    "eigh_upper": (lambda a: np.linalg.eigh(a, "U")[1] * np.linalg.eigh(a, "U")[0], symmetric,
                   (3, 3), None),
    "eigvalsh": (np.linalg.eigvalsh, symmetric, (3, 3), (2, 3, 3)),
    "svd_s": (lambda a: np.linalg.svd(a, compute_uv=False), rect, (4, 3), (2, 3, 4)),
    "svd_u_tall": (lambda a: np.linalg.svd(a, full_matrices=False)[0], rect, (4, 3), (2, 4, 3)),
    "svd_vh_tall": (lambda a: np.linalg.svd(a, full_matrices=False)[2], rect, (4, 3), None),
    "svd_u_wide": (lambda a: np.linalg.svd(a, full_matrices=False)[0], rect, (3, 4), None),
    "svd_vh_wide": (lambda a: np.linalg.svd(a, full_matrices=False)[2], rect, (3, 4),
                    (2, 3, 4)),
    "svd_square": (lambda a: np.linalg.svd(a)[0] * np.linalg.svd(a)[1], rect, (3, 3), None),
    "qr_q": (lambda a: np.linalg.qr(a)[0], general, (4, 3), (2, 4, 3)),
    "qr_r": (lambda a: np.linalg.qr(a)[1], general, (4, 3), None),
    "qr_wide": (lambda a: np.linalg.qr(a)[1] + np.linalg.qr(a)[0].sum(), general, (3, 4),
                (2, 3, 4)),
    "qr_mode_r": (lambda a: np.linalg.qr(a, mode="r"), general, (3, 3), None),
    "pinv_tall": (np.linalg.pinv, rect, (4, 3), (2, 4, 3)),
    "pinv_wide": (np.linalg.pinv, rect, (3, 4), None),
    "lstsq_x": (lambda a: np.linalg.lstsq(a, B4)[0], rect, (4, 3), None),
    "lstsq_res": (lambda a: np.linalg.lstsq(a, B4)[1], rect, (4, 3), None),
    "lstsq_s": (lambda a: np.linalg.lstsq(a, B4)[3], rect, (4, 3), None),
    "matrix_power_3": (lambda a: np.linalg.matrix_power(a, 3), general, (3, 3), (2, 3, 3)),
    "matrix_power_m2": (lambda a: np.linalg.matrix_power(a, -2), general, (3, 3), (2, 3, 3)),
    "multi_dot": (lambda a: np.linalg.multi_dot([a, a[:, :2], a[:2], B3]), general, (3, 3),
                  None),
    "trace": (np.trace, general, (3, 3), None),
    "trace_axes": (lambda a: np.trace(a, 1, -1, -2), general, (3, 3), (2, 3, 4)),
    "norm_default": (np.linalg.norm, general, (3, 4), (2, 3, 4)),
    "norm_fro_axis": (lambda a: np.linalg.norm(a, "fro", axis=(0, -1)), general, (3, 4),
                      (2, 3, 4)),
    "norm_nuc": (lambda a: np.linalg.norm(a, "nuc"), rect, (3, 4), None),
    "norm_nuc_axis": (lambda a: np.linalg.norm(a, "nuc", axis=(-1, -2), keepdims=True), rect,
                      (3, 4), (2, 3, 4)),
    "norm_2": (lambda a: np.linalg.norm(a, 2), rect, (4, 3), None),
    "norm_m2": (lambda a: np.linalg.norm(a, -2), rect, (4, 3), None),
    "norm_1": (lambda a: np.linalg.norm(a, 1), general, (3, 4), None),
    "norm_m1": (lambda a: np.linalg.norm(a, -1, axis=(1, 0)), general, (3, 4), None),
    "norm_inf": (lambda a: np.linalg.norm(a, np.inf), general, (3, 4), None),
    "norm_minf_axis": (lambda a: np.linalg.norm(a, -np.inf, axis=(-2, -1)), general, (3, 4),
                       (2, 3, 4)),
    "norm_vec_3": (lambda a: np.linalg.norm(a, 3, axis=0), general, (3, 4), (2, 3, 4)),
    "norm_vec_1": (lambda a: np.linalg.norm(a, 1, axis=-1, keepdims=True), general, (3, 4),
                   None),
    "norm_vec_inf": (lambda a: np.linalg.norm(a[0], np.inf), general, (3, 4), None),
    "norm_vec_minf": (lambda a: np.linalg.norm(a[0], -np.inf), general, (3, 4), None),
    "norm_vec_half": (lambda a: np.linalg.norm(a[0] + 5.0, 0.5), general, (3, 4), None),
}
if NUMPY2:  # numpy 2's array-API names, cholesky(upper=), solve's 1-d b semantics
    CASES.update({
        "svdvals": (np.linalg.svdvals, rect, (4, 3), (2, 3, 4)),
        "matrix_norm": (np.linalg.matrix_norm, general, (3, 4), (2, 3, 4)),
        "matrix_norm_nuc": (lambda a: np.linalg.matrix_norm(a, ord="nuc", keepdims=True), rect,
                            (3, 4), (2, 3, 4)),
        "vector_norm": (np.linalg.vector_norm, general, (3, 4), (2, 3, 4)),
        "vector_norm_axes": (lambda a: np.linalg.vector_norm(a, axis=(0, -1), ord=3,
                                                             keepdims=True), general, (3, 4),
                             (2, 3, 4)),
        "vector_norm_axis": (lambda a: np.linalg.vector_norm(a, axis=-2, ord=np.inf), general,
                             (3, 4), None),
        "linalg_trace": (lambda a: np.linalg.trace(a, offset=1), general, (3, 4), (2, 3, 4)),
        "linalg_diagonal": (lambda a: np.linalg.diagonal(a) ** 2, general, (3, 4), (2, 3, 4)),
        "linalg_matmul": (lambda a: np.linalg.matmul(a, np.linalg.matrix_transpose(a)), general,
                          (3, 4), (2, 3, 4)),
        "linalg_outer_vecdot": (lambda a: np.linalg.outer(a[0], a[1]) * np.linalg.vecdot(a, a)[2],
                                general, (3, 4), None),
        "cond": (np.linalg.cond, general, (3, 3), (2, 3, 3)),
        "cond_m2": (lambda a: np.linalg.cond(a, -2), rect, (4, 3), None),
        "cond_fro": (lambda a: np.linalg.cond(a, "fro"), general, (3, 3), None),
        "cond_1": (lambda a: np.linalg.cond(a, 1), general, (3, 3), None),
        "tensorinv": (lambda a: np.linalg.tensorinv(np.reshape(a, (2, 2, 4)), ind=2),
                      lambda s: general((4, 4)), (4, 4), None),
        "tensorsolve": (lambda a: np.linalg.tensorsolve(np.reshape(a, (2, 2, 2, 2)),
                                                        B4.reshape(2, 2)),
                        lambda s: general((4, 4)), (4, 4), None),
        "tensorsolve_axes": (lambda a: np.linalg.tensorsolve(np.reshape(a, (2, 2, 2, 2)),
                                                             B4.reshape(2, 2), axes=(0, 2)),
                             lambda s: general((4, 4)), (4, 4), None),
        "cholesky_upper": (lambda a: np.linalg.cholesky(a, upper=True), spd, (3, 3),
                           (2, 3, 3)),
        "solve_a_more_batch": (lambda b: np.linalg.solve(A233, b), None, (3,), (3, 2)),
        "solve_mixed_batch": (lambda b: np.linalg.solve(A233 * np.sum(b), b), None, (3,),
                              (4, 1, 3, 2)),
    })
else:  # numpy 1.x: a 1-d b is a vector only for a 2-d a
    CASES["solve_vec"] = CASES["solve_vec"][:3] + (None,)
A_FIXED = general((3, 3))
A233 = general((2, 3, 3))
B4132 = RNG.standard_normal((4, 1, 3, 2))


def _point(name, batched):
    f, make, shape, bshape = CASES[name]
    s = bshape if batched else shape
    if make is None:
        return f, RNG.standard_normal(s)
    return f, make(s)


PARAMS = [(n, False) for n in CASES] + [(n, True) for n in CASES if CASES[n][3] is not None
                                        # numpy 1.x reads a (3, 2) b next to a (2, 3, 3) a
                                        # as a stack of vectors: numpy itself refuses it
                                        and (NUMPY2 or n != "solve_mat")]
IDS = [f"{n}-{'batched' if b else 'single'}" for n, b in PARAMS]


def scalar_of(f):
    # a nonlinear scalar of the output, so the Hessian has every term
    return lambda x: np.sum(np.sin(f(x)))


# ---------------------------------------------------------------------------------
# First and second order, both engines, float64
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name, batched", PARAMS, ids=IDS)
def test_first_order(name, batched):
    f, x = _point(name, batched)
    jf = hd.jacobian(f, x)
    close(jf, central(f, x, 1e-6), 1e-7, "hyperdual jacobian vs central differences")
    jr = rv.jacobian(f, x)
    close(jr, jf, 1e-10, "reverse jacobian vs hyperdual")
    # one direction through a plain Dual (no direction stack) and through jvp
    v = RNG.standard_normal(x.shape)
    y = f(hd.Dual(x, v))
    close(y.dual, np.tensordot(jf, v, axes=x.ndim), 1e-10, "Dual tangent vs jacobian")
    close(y.real, np.asarray(f(x)), 1e-12, "Dual value vs numpy")


@pytest.mark.parametrize("name, batched", PARAMS, ids=IDS)
def test_second_order(name, batched):
    f, x = _point(name, batched)
    s = scalar_of(f)
    h = hd.hessian(s, x)
    close(h, central(lambda z: hd.gradient(s, z), x, 1e-6), 1e-6,
          "hyperdual hessian vs central differences of the gradient")
    v = RNG.standard_normal(x.shape)
    hv = np.tensordot(h, v, axes=x.ndim)
    close(hd.hvp(s, x, v), hv, 1e-9, "hyperdual hvp")
    close(rv.hvp(s, x, v, mode="forward-over-reverse"), hv, 1e-9, "reverse FoR hvp")
    close(rv.hvp(s, x, v, mode="reverse-over-reverse"), hv, 1e-9, "reverse RoR hvp")
    close(rv.hessian(s, x), h, 1e-9, "reverse hessian")


@pytest.mark.parametrize("name", ["solve_mat", "inv", "det", "slogdet", "cholesky", "eigh_v",
                                  "svd_u_tall", "qr_q", "pinv_wide", "norm_nuc"])
def test_third_order_reverse(name):
    f, x = _point(name, False)
    s = scalar_of(f)
    u, w = RNG.standard_normal(x.shape), RNG.standard_normal(x.shape)
    third = reverse_third(s, x, u, w)
    # the same third derivative as central differences of the exact H u (forward mode)
    ref = central(lambda z: np.sum(hd.hvp(s, z, u) * w), x, 1e-5)
    close(third, ref, 1e-6, "reverse third order vs central differences of hyperdual hvp")


# ---------------------------------------------------------------------------------
# float32: values, derivatives and their dtype
# ---------------------------------------------------------------------------------
F32 = ["solve_mat", "inv", "det", "slogdet", "cholesky", "eigh_v", "eigvalsh", "svd_u_tall",
       "svd_s", "qr_q", "pinv_tall", "lstsq_x", "norm_nuc", "norm_2", "matrix_power_m2",
       "trace"]


@pytest.mark.parametrize("name", F32)
@pytest.mark.parametrize("engine", ["hyperdual", "reverse"])
def test_float32(name, engine):
    f, x = _point(name, False)
    mod = hd if engine == "hyperdual" else rv
    j64 = mod.jacobian(f, x)
    x32 = x.astype(np.float32)
    j32 = mod.jacobian(f, x32)
    # x's dtype, also where a float64 constant operand promotes f's value to float64
    # (a derivative with respect to x has x's dtype, as JAX's jacobian/hessian)
    assert j32.dtype == np.float32
    close(j32, j64, 2e-3, f"{engine} float32 jacobian vs float64")
    s = scalar_of(f)
    h32 = mod.hessian(s, x32)
    assert h32.dtype == np.float32
    close(h32, mod.hessian(s, x), 5e-3, f"{engine} float32 hessian vs float64")


# ---------------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", [hd, rv])
def test_closed_forms(engine):
    a = general((4, 4))
    # d det / dA = det(A) A^-T; d log|det| / dA = A^-T
    close(engine.gradient(np.linalg.det, a), np.linalg.det(a) * np.linalg.inv(a).T, 1e-12,
          "det gradient")
    close(engine.gradient(lambda m: np.linalg.slogdet(m)[1], a), np.linalg.inv(a).T, 1e-12,
          "slogdet gradient")
    # trace(A^-1 B) has gradient -(A^-1 B A^-1)^T
    b = RNG.standard_normal((4, 4))
    ai = np.linalg.inv(a)
    close(engine.gradient(lambda m: np.trace(np.linalg.solve(m, b)), a), -(ai @ b @ ai).T,
          1e-12, "trace(solve) gradient")
    # nuclear norm gradient of a full-rank matrix: U V^T
    r = rect((4, 3))
    u, _, vh = np.linalg.svd(r, full_matrices=False)
    close(engine.gradient(lambda m: np.linalg.norm(m, "nuc"), r), u @ vh, 1e-12, "nuc")


# ---------------------------------------------------------------------------------
# Degenerate points
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", [hd, rv])
def test_repeated_eigenvalues(engine):
    a = np.diag([1.0, 2.0, 2.0]) + 0.0
    # eigenvalues and symmetric functions of them: exact and finite at first order
    g = engine.gradient(lambda m: np.sum(np.linalg.eigvalsh(m) ** 2), a)
    close(g, 2 * np.tril(a), 1e-12, "sum w^2 = |A|_F^2 (lower triangle read)")
    close(engine.gradient(lambda m: np.sum(np.linalg.eigvalsh(m)), a), np.eye(3), 1e-12,
          "sum w = trace")
    j = engine.jacobian(np.linalg.eigvalsh, a)
    assert np.all(np.isfinite(j))
    # eigenvectors: no derivative there -> a clear error, never NaN
    with pytest.raises(ArithmeticError, match="repeated eigenvalues"):
        engine.jacobian(lambda m: np.linalg.eigh(m)[1], a)
    # second derivatives of eigenvalues there need the vectors' derivatives
    with pytest.raises(ArithmeticError, match="repeated"):
        engine.hessian(lambda m: np.sum(np.linalg.eigvalsh(m) ** 3), a)


def test_repeated_eigenvalues_reverse_unused_vectors():
    # reverse mode only needs the vectors' derivative if v is used
    a = np.eye(3)
    g = rv.gradient(lambda m: np.sum(np.linalg.eigh(m)[0]), a)
    close(g, np.eye(3), 1e-12, "eigh w only")
    with pytest.raises(ArithmeticError, match="repeated"):
        rv.hvp(lambda m: np.sum(np.linalg.eigvalsh(m) ** 3), a, np.ones((3, 3)),
               mode="reverse-over-reverse")


@pytest.mark.parametrize("engine", [hd, rv])
def test_repeated_singular_values(engine):
    a = np.eye(4)[:, :3] * 2.0
    close(engine.gradient(lambda m: np.sum(np.linalg.svd(m, compute_uv=False)), a),
          np.eye(4)[:, :3], 1e-12, "nuclear norm at repeated singular values")
    with pytest.raises(ArithmeticError, match="repeated singular values"):
        engine.jacobian(lambda m: np.linalg.svd(m, full_matrices=False)[0], a)


@pytest.mark.parametrize("engine", [hd, rv])
def test_not_unique_outputs_raise(engine):
    a = rect((4, 3))
    with pytest.raises(TypeError, match="full_matrices=False"):
        engine.jacobian(lambda m: np.linalg.svd(m)[0], a)
    with pytest.raises(TypeError, match="mode='reduced'"):
        engine.jacobian(lambda m: np.linalg.qr(m, mode="complete")[0], a)


@pytest.mark.parametrize("engine", [hd, rv])
def test_singular_det_gives_cofactors(engine):
    # rank 1: every 2 x 2 minor is 0 (was numpy's LinAlgError; test_rel_det_singular
    # sweeps ranks n - 1 and n - 2 against mpmath)
    np.testing.assert_allclose(engine.gradient(np.linalg.det, np.ones((3, 3))),
                               np.zeros((3, 3)), atol=1e-15)
    np.testing.assert_allclose(engine.gradient(np.linalg.det, np.arange(9.0).reshape(3, 3)),
                               [[-3, 6, -3], [6, -12, 6], [-3, 6, -3]], atol=1e-13)


# ---------------------------------------------------------------------------------
# Nesting: every engine combination
# ---------------------------------------------------------------------------------
@pytest.mark.parametrize("outer", [hd, rv])
@pytest.mark.parametrize("inner", [hd, rv])
def test_nested(outer, inner):
    a, b = spd((3, 3)), RNG.standard_normal((3, 3))

    def inner_grad(t):
        # d/dA logdet(A + t B) = (A + t B)^-T: the outer derivative in t is
        # -(A+tB)^-T B^T (A+tB)^-T
        return inner.gradient(lambda m: np.linalg.slogdet(m + t * b)[1], a)

    def outer_f(t):
        return np.sum(inner_grad(t) * b)

    t0 = 0.3
    m = np.linalg.inv(a + t0 * b)
    expected = -np.sum((m @ b @ m).T * b)
    close(outer.derivative(outer_f, t0), expected, 1e-10, "nested derivative")


def test_nested_in_hyperdual_second_order():
    # a forward-mode Hessian of a function that uses a reverse gradient of a solve
    a = general((3, 3))

    def f(x):
        g = rv.gradient(lambda m: np.sum(np.linalg.solve(m, x) ** 2), a)
        return np.sum(g * a)

    x = RNG.standard_normal(3)
    h = hd.hessian(f, x)
    close(h, central(lambda z: hd.gradient(f, z), x, 1e-6), 1e-6, "nested hessian")


# ---------------------------------------------------------------------------------
# Results types, constant operands, errors
# ---------------------------------------------------------------------------------
def test_result_types():
    a = spd((3, 3))
    d = hd.Dual(a, np.ones((3, 3)))
    v = Variable(a)
    for x in (d, v):
        r = np.linalg.slogdet(x)
        assert np.ndim(r[0]) == 0
        w, q = np.linalg.eigh(x)
        assert w.shape == (3,) and q.shape == (3, 3)
        u, s, vh = np.linalg.svd(x)
        assert u.shape == (3, 3) and s.shape == (3,)
        assert np.linalg.qr(x)[1].shape == (3, 3)


def test_not_square_raises():
    for x in (hd.Dual(np.ones((2, 3)), 1.0), Variable(np.ones((2, 3)))):
        with pytest.raises(np.linalg.LinAlgError):
            np.linalg.inv(x)


@pytest.mark.parametrize("engine", [hd, rv])
def test_norm_errors_match_numpy(engine):
    x = np.ones((2, 3, 4))
    for kw in ({"ord": 2}, {"ord": "nuc", "axis": 0}, {"ord": "fro", "axis": 1},
               {"axis": (0, 0)}, {"ord": 7, "axis": (0, 1)}):
        with pytest.raises(ValueError):
            np.linalg.norm(x, **kw)
        with pytest.raises(ValueError):
            engine.gradient(lambda m, kw=kw: np.sum(np.linalg.norm(m, **kw)), x)


def test_matrix_rank_is_a_value():
    a = np.diag([1.0, 2.0, 0.0])
    for x in (hd.Dual(a, np.ones((3, 3))), Variable(a)):
        assert np.linalg.matrix_rank(x) == 2


def test_norm_ord0_is_constant():
    x = np.array([1.0, 0.0, -2.0])
    for engine in (hd, rv):
        close(engine.gradient(lambda m: np.linalg.norm(m, 0) * np.sum(m), x), [2.0] * 3,
              1e-15, "ord=0 counts")


@pytest.mark.parametrize("outer", [hd, rv])
@pytest.mark.parametrize("inner", [hd, rv])
def test_nested_eigh_svd(outer, inner):
    # d/dt of an inner gradient through eigenvectors and singular vectors
    a = symmetric((3, 3))
    b = RNG.standard_normal((3, 3))
    b = b + b.T

    def g(t):
        w = inner.gradient(lambda m: np.sum(np.linalg.eigh(m + t * b)[1][:, 0] ** 3)
                           + np.sum(np.linalg.svd(m + t * b, compute_uv=False) ** 3), a)
        return np.sum(g_weights * w)

    g_weights = RNG.standard_normal((3, 3))
    t0 = 0.1
    ref = (g(t0 + 1e-5) - g(t0 - 1e-5)) / 2e-5
    close(outer.derivative(g, t0), ref, 1e-6, "nested eigh/svd derivative")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reverse_lu_path_matches_numpy(dtype):
    # plain 2-d matrices go through kept LU factors in reverse mode: same values as
    # numpy, gradients against forward mode
    a = general((5, 5)).astype(dtype)
    b = RNG.standard_normal((5, 2)).astype(dtype)
    tol = 50 * np.finfo(dtype).eps
    v = Variable(a)
    close(np.linalg.solve(v, b).data, np.linalg.solve(a, b), tol, "solve value")
    close(np.linalg.det(v).data, np.linalg.det(a), tol, "det value")
    sign, logdet = np.linalg.slogdet(v)
    close(logdet.data, np.linalg.slogdet(a)[1], tol, "slogdet value")
    assert sign == np.linalg.slogdet(a)[0]

    def f(m):
        return (np.sum(np.linalg.solve(m, b) ** 2) + np.linalg.slogdet(m)[1]
                + np.linalg.det(m) * 1e-3)

    g = rv.gradient(f, a)
    assert g.dtype == dtype
    close(g, hd.gradient(f, a), 100 * tol, "reverse vs forward")
