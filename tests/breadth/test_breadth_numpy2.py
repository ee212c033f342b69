"""numpy 2's functions in both engines: ``np.vecdot``, ``np.matvec``, ``np.vecmat``
(gufuncs, with ``axes=``/``axis=``/``keepdims=``), ``np.cumulative_sum``,
``np.cumulative_prod`` (``include_initial=``), ``np.unstack``, ``np.matrix_transpose``
and ``np.linalg.cross``/``vecdot``/``matrix_transpose``/``outer``.

Truth: numpy's own values; derivatives against the same function written with the
numpy 1 spellings (einsum, cumsum, concatenate, indexing), which the engines have
differentiated for long and which share no code with the new entries; central
differences (breadth_checks: the step 1e-6 earns ~1e-9 relative); the other engine;
Taylor coefficients against nested HyperDuals and reverse's repeated backprop.
numpy 1.26 has none of these functions (the module skips); numpy 2.0/2.1 lack
matvec and vecmat (those cases skip).
"""

from __future__ import annotations

import numpy as np
import pytest
from breadth_checks import check_both_engines, reverse_nth, scalarize

import hyperdual as hd
import reverse as rv
from reverse import Variable

if not hasattr(np, "vecdot"):
    pytest.skip("numpy < 2 has no vecdot, cumulative_sum, unstack ...",
                allow_module_level=True)

EPS = np.finfo(float).eps
NEEDS_22 = pytest.mark.skipif(not hasattr(np, "matvec"), reason="numpy < 2.2: no matvec")
NEEDS_21 = pytest.mark.skipif(not hasattr(np, "cumulative_sum"),
                              reason="numpy < 2.1: no cumulative_sum, unstack")
RNG = np.random.default_rng(20261201)
A34 = RNG.uniform(-1.0, 1.0, (3, 4))
A234 = RNG.uniform(-1.0, 1.0, (2, 3, 4))
V4 = RNG.uniform(-1.0, 1.0, 4)
V3 = RNG.uniform(-1.0, 1.0, 3)


# name -> (new spelling, numpy-1 reference, x0, numpy-version mark); x is one argument,
# the other operands are constants or functions of x (so both operand slots are traced)
CASES = {
    "vecdot": (lambda x: np.vecdot(x, np.cos(x)),
               lambda x: np.einsum("ij,ij->i", x, np.cos(x)), A34, None),
    "vecdot_broadcast": (lambda x: np.vecdot(x, V4),
                         lambda x: np.einsum("aij,j->ai", x, V4), A234, None),
    "vecdot_const_first": (lambda x: np.vecdot(A34, x[0]),
                           lambda x: np.einsum("ij,ij->i", A34, x[0]), A234, None),
    "vecdot_axis0": (lambda x: np.vecdot(x, x * x, axis=0),
                     lambda x: np.einsum("ij,ij->j", x, x * x), A34, None),
    "vecdot_axes": (lambda x: np.vecdot(x, np.sin(x[0]), axes=[(1,), (0,)]),
                    lambda x: np.einsum("ajb,jb->ab", x, np.sin(x[0])), A234, None),
    "vecdot_keepdims": (lambda x: np.vecdot(x, np.exp(x), axis=1, keepdims=True),
                        lambda x: np.einsum("aij,aij->aj", x, np.exp(x))[:, None, :], A234,
                        None),
    "linalg_vecdot": (lambda x: np.linalg.vecdot(x, np.tanh(x), axis=0),
                      lambda x: np.einsum("ij,ij->j", x, np.tanh(x)), A34, None),
    "matvec": (lambda x: np.matvec(x, np.sin(x[0])),
               lambda x: np.einsum("ij,j->i", x, np.sin(x[0])), RNG.uniform(-1.0, 1.0, (4, 4)),
               NEEDS_22),
    "matvec_batch": (lambda x: np.matvec(x, V4),
                     lambda x: np.einsum("aij,j->ai", x, V4), A234, NEEDS_22),
    "matvec_axes": (lambda x: np.matvec(x, V3, axes=[(2, 1), (0,), (0,)]),
                    lambda x: np.einsum("anm,n->ma", x, V3), A234, NEEDS_22),
    "matvec_rows": (lambda x: np.matvec(np.cos(x[:2]), x),
                    lambda x: np.einsum("ij,kj->ki", np.cos(x[:2]), x), A34, NEEDS_22),
    "vecmat_rows": (lambda x: np.vecmat(x, np.exp(x[:, :2])),
                    lambda x: np.einsum("ki,ij->kj", x, np.exp(x[:, :2])),
                    RNG.uniform(-1.0, 1.0, (4, 4)), NEEDS_22),
    "vecmat": (lambda x: np.vecmat(np.cos(x[:, 0]), x),
               lambda x: np.einsum("i,ij->j", np.cos(x[:, 0]), x), A34, NEEDS_22),
    "vecmat_batch": (lambda x: np.vecmat(V3, x * x),
                     lambda x: np.einsum("i,aij->aj", V3, x * x), A234, NEEDS_22),
    "cumulative_sum": (lambda x: np.cumulative_sum(x * x),
                       lambda x: np.cumsum(x * x), V4, NEEDS_21),
    "cumulative_sum_axis_initial": (
        lambda x: np.cumulative_sum(x, axis=1, include_initial=True),
        lambda x: np.concatenate([np.zeros((3, 1)), np.cumsum(x, axis=1)], axis=1), A34,
        NEEDS_21),
    "cumulative_prod": (lambda x: np.cumulative_prod(x + 1.5),
                        lambda x: np.cumprod(x + 1.5), V4, NEEDS_21),
    "cumulative_prod_axis_initial": (
        lambda x: np.cumulative_prod(x, axis=0, include_initial=True),
        lambda x: np.concatenate([np.ones((1, 4)), np.cumprod(x, axis=0)], axis=0), A34,
        NEEDS_21),
    "cumulative_prod_zero": (lambda x: np.cumulative_prod(x * np.array([1.0, 0.0, 1.0, 1.0])),
                             lambda x: np.cumprod(x * np.array([1.0, 0.0, 1.0, 1.0])), V4,
                             NEEDS_21),
    "unstack": (lambda x: np.stack(np.unstack(x, axis=1)[::-1]) * np.unstack(x)[0],
                lambda x: np.stack([x[:, i] for i in range(4)][::-1]) * x[0],
                RNG.uniform(-1.0, 1.0, (4, 4)), NEEDS_21),
    "matrix_transpose": (lambda x: np.matrix_transpose(x) @ x,
                         lambda x: np.einsum("aji,ajk->aik", x, x), A234, None),
    "linalg_matrix_transpose": (lambda x: np.linalg.matrix_transpose(x) * x,
                                lambda x: np.transpose(x) * x, RNG.uniform(-1, 1, (3, 3)),
                                None),
    "linalg_cross": (lambda x: np.linalg.cross(x, np.sin(x)),
                     lambda x: np.stack([x[:, 1] * np.sin(x[:, 2]) - x[:, 2] * np.sin(x[:, 1]),
                                         x[:, 2] * np.sin(x[:, 0]) - x[:, 0] * np.sin(x[:, 2]),
                                         x[:, 0] * np.sin(x[:, 1]) - x[:, 1] * np.sin(x[:, 0])],
                                        axis=-1), RNG.uniform(-1, 1, (2, 3)), None),
    "linalg_cross_axis0": (lambda x: np.linalg.cross(x, V3[:, None] + 0 * x, axis=0),
                           lambda x: np.moveaxis(np.cross(np.moveaxis(x, 0, -1),
                                                          np.moveaxis(V3[:, None] + 0 * x,
                                                                      0, -1)), -1, 0),
                           RNG.uniform(-1, 1, (3, 2)), None),
    "linalg_outer": (lambda x: np.linalg.outer(x, np.exp(x)),
                     lambda x: x[:, None] * np.exp(x)[None, :], V3, None),
}


def _params():
    for name, (_, _, _, mark) in sorted(CASES.items()):
        yield pytest.param(name, marks=() if mark is None else (mark,), id=name)


def _plain(y):
    while not isinstance(y, (np.ndarray, np.generic, float)):
        y = y.data if isinstance(y, Variable) else y.real
    return np.asarray(y)


@pytest.mark.parametrize("name", list(_params()))
def test_values_match_numpy_in_every_number(name):
    f, ref, x0, _ = CASES[name]
    want = f(x0)
    np.testing.assert_allclose(ref(x0), want, rtol=16 * EPS, atol=16 * EPS)
    for wrap in (lambda x: hd.Dual(x, np.ones_like(x)), lambda x: hd.HyperDual(x, 1.0, 1.0, 0.0),
                 Variable):
        got = _plain(f(wrap(x0)))
        assert got.shape == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=4 * EPS, atol=4 * EPS)


@pytest.mark.parametrize("name", list(_params()))
def test_gradient_and_hessian_both_engines(name):
    f, ref, x0, _ = CASES[name]
    g = check_both_engines(scalarize(f), x0)  # vs reverse, central differences, Hessians
    # the numpy 1 spelling: the same function, through rules that share no code with f's
    g_ref = hd.gradient(scalarize(ref), x0)
    scale = max(1.0, float(np.max(np.abs(g_ref))))
    np.testing.assert_allclose(g, g_ref, rtol=64 * EPS, atol=64 * EPS * scale)
    H = rv.hessian(lambda v: scalarize(f)(np.reshape(v, x0.shape)), x0.ravel())
    H_ref = hd.hessian(lambda v: scalarize(ref)(np.reshape(v, x0.shape)), x0.ravel())
    hs = max(1.0, float(np.max(np.abs(H_ref))))
    np.testing.assert_allclose(H, H_ref, rtol=256 * EPS, atol=256 * EPS * hs)


@pytest.mark.parametrize("name", list(_params()))
def test_jacobian_direction_stacks(name):
    # hyperdual.jacobian seeds every input direction in one stacked number
    f, ref, x0, _ = CASES[name]
    J = hd.jacobian(f, x0)
    J_ref = hd.jacobian(ref, x0)
    scale = max(1.0, float(np.max(np.abs(J_ref))))
    np.testing.assert_allclose(J, J_ref, rtol=64 * EPS, atol=64 * EPS * scale)
    np.testing.assert_allclose(rv.jacobian(f, x0), J_ref, rtol=64 * EPS, atol=64 * EPS * scale)


@pytest.mark.parametrize("name", list(_params()))
def test_taylor_orders_along_a_direction(name):
    # Taylor numbers (order 4) against the numpy 1 spelling's Taylor series and reverse
    # mode's repeated backprop along the same line
    f, ref, x0, _ = CASES[name]
    v = np.random.default_rng(3).uniform(-1.0, 1.0, x0.shape)
    s, sr = scalarize(f), scalarize(ref)
    d = hd.directional_derivatives(s, x0, v, 4)
    d_ref = hd.directional_derivatives(sr, x0, v, 4)
    scale = np.abs(d_ref) + 1.0
    np.testing.assert_array_less(np.abs(d - d_ref), 1e-12 * scale)
    d_rev = rv.directional_derivatives(s, x0, v, 4, method="backprop")
    np.testing.assert_array_less(np.abs(d_rev - d_ref), 1e-11 * scale)
    # several directions at once (a stack of Taylor lines)
    V = np.stack([v, -0.5 * v + 0.25])
    D = hd.directional_derivatives(s, x0, V, 3)
    D_ref = np.stack([hd.directional_derivatives(sr, x0, w, 3) for w in V])
    np.testing.assert_array_less(np.abs(D - D_ref), 1e-12 * (np.abs(D_ref) + 1.0))


@pytest.mark.parametrize("name", list(_params()))
def test_third_order_through_nesting(name):
    # along t -> x0 + t v: reverse's third derivative by create_graph twice, hyperdual's by
    # a HyperDual inside a Dual, against the reference's Taylor coefficient (3! c3)
    f, ref, x0, _ = CASES[name]
    v = np.random.default_rng(4).uniform(-1.0, 1.0, x0.shape)
    s, sr = scalarize(f), scalarize(ref)
    line = lambda t: s(x0 + t * v)  # noqa: E731
    want = hd.directional_derivatives(sr, x0, v, 3)[3]
    d3_rev = reverse_nth(line, 0.0, 3)[2]
    d3_hd = hd.derivative(lambda t: hd.second_derivative(line, t), 0.0)
    tol = 1e-11 * (abs(want) + 1.0)
    assert abs(d3_rev - want) <= tol, (d3_rev, want)
    assert abs(d3_hd - want) <= tol, (d3_hd, want)


@NEEDS_22
def test_gufuncs_on_taylor_numbers_directly():
    # a Taylor number's coefficients through vecdot/matvec/vecmat: bilinear, so the
    # coefficients of the product are the Cauchy products of the operands' coefficients
    from hyperdual import Taylor

    rng = np.random.default_rng(5)
    ca, cb = rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 3))  # (order+1,) + shape
    a, b = Taylor(ca), Taylor(cb)
    for fn, sub in ((np.vecdot, "ij,j->i"), (np.matvec, None), (np.vecmat, None)):
        if fn is np.vecdot:
            got = fn(a, b)
            want = np.stack([sum(np.einsum(sub, ca[j], cb[k - j]) for j in range(k + 1))
                             for k in range(4)])
        elif fn is np.matvec:
            got = fn(a, b)
            want = np.stack([sum(ca[j] @ cb[k - j] for j in range(k + 1)) for k in range(4)])
        else:
            got = fn(Taylor(cb[:, :2]), a)
            want = np.stack([sum(cb[j, :2] @ ca[k - j] for j in range(k + 1))
                             for k in range(4)])
        np.testing.assert_allclose(got.coef, want, rtol=32 * EPS, atol=32 * EPS)


def test_vecdot_conjugates_a_complex_constant():
    # numpy's vecdot is sum(conj(a) * b): a complex constant first operand is conjugated
    c = np.array([1.0 + 2.0j, -1.0j])
    x = np.array([0.5, 2.0])
    assert np.vecdot(c, x) == np.sum(np.conj(c) * x)
    # the engines' numbers are real; reverse refuses complex results with its own error,
    # hyperdual computes the same sum
    with pytest.raises(TypeError):
        rv.gradient(lambda y: np.vecdot(c, y), x)


# --- keywords: numpy's checks, and a clear TypeError for what is not supported -----------
ENGINES = {"hyperdual": lambda x: hd.Dual(x, np.ones_like(x)), "reverse": Variable}


@pytest.mark.parametrize("engine", sorted(ENGINES))
@pytest.mark.parametrize("kw, word", [({"out": np.empty(3)}, "out="),
                                      ({"dtype": np.int64}, "dtype"),
                                      ({"casting": "unsafe"}, "casting"),
                                      ({"order": "C"}, "order"),
                                      ({"subok": False}, "subok"),
                                      ({"signature": "dd->d"}, "signature")])
def test_vecdot_refuses_unsupported_keywords_by_name(engine, kw, word):
    x = ENGINES[engine](A34)
    with pytest.raises(TypeError, match=word):
        np.vecdot(x, A34, **kw)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_vecdot_keywords_at_their_defaults_are_accepted(engine):
    x = ENGINES[engine](A34)
    y = np.vecdot(x, A34, dtype=np.float64, casting="same_kind", order="K", subok=True)
    np.testing.assert_allclose(_plain(y), np.vecdot(A34, A34), rtol=8 * EPS, atol=8 * EPS)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_vecdot_float_dtype_casts_the_operands(engine):
    x = ENGINES[engine](A34)
    y = _plain(np.vecdot(x, A34, dtype=np.float32))
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, np.vecdot(A34, A34, dtype=np.float32),
                               rtol=8 * np.finfo(np.float32).eps)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_gufunc_shape_errors_are_numpys(engine):
    x = ENGINES[engine](A34)
    with pytest.raises(ValueError, match="core dimension"):
        np.vecdot(x, V3)
    with pytest.raises(ValueError, match="core dimension"):
        np.linalg.vecdot(x, np.ones((3, 1)))  # numpy does not broadcast the core axis
    with pytest.raises(ValueError):
        np.vecdot(x, A34, axes=[(0,), (1,)])  # sizes 3 and 4
    with pytest.raises(np.exceptions.AxisError):
        np.vecdot(x, A34, axis=2)
    with pytest.raises(TypeError, match="both"):
        np.vecdot(x, A34, axis=0, axes=[(0,), (0,)])
    if hasattr(np, "matvec"):
        with pytest.raises(TypeError, match="axis"):
            np.matvec(x, V4, axis=0)
        with pytest.raises(TypeError, match="keepdims"):
            np.matvec(x, V4, keepdims=True)
        with pytest.raises(ValueError):
            np.matvec(x, V3)
        with pytest.raises(ValueError):
            np.vecmat(V4, x)
        for f, a, b in ((np.matvec, x, 1.0), (np.vecmat, 1.0, x), (np.matvec, x[0], V4)):
            with pytest.raises(ValueError, match="enough dimensions"):
                f(a, b)
    with pytest.raises(ValueError, match="enough dimensions"):
        np.vecdot(x[0, 0], 2.0)


@NEEDS_21
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_cumulative_keywords(engine):
    x = ENGINES[engine](A34)
    with pytest.raises(ValueError, match="axis"):
        np.cumulative_sum(x)  # numpy's rule: 2-d input needs axis=
    with pytest.raises(TypeError, match="out="):
        np.cumulative_sum(x, axis=0, out=np.empty((3, 4)))
    with pytest.raises(TypeError, match="dtype"):
        np.cumulative_prod(x, axis=0, dtype=np.int64)
    y32 = _plain(np.cumulative_prod(x, axis=0, dtype=np.float32))  # cast, then multiply
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, np.cumulative_prod(A34, axis=0, dtype=np.float32),
                               rtol=4 * np.finfo(np.float32).eps)
    y = np.cumulative_sum(x, axis=-1, dtype=np.float64, include_initial=True)
    np.testing.assert_array_equal(_plain(y), np.cumulative_sum(A34, axis=-1,
                                                               include_initial=True))
    s = ENGINES[engine](np.array(2.5))  # 0-d: numpy makes it 1-d
    np.testing.assert_array_equal(_plain(np.cumulative_prod(s, include_initial=True)),
                                  [1.0, 2.5])
    e = ENGINES[engine](np.zeros((2, 0)))
    assert _plain(np.cumulative_sum(e, axis=1, include_initial=True)).shape == (2, 1)


@NEEDS_21
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_unstack_and_cross_errors(engine):
    x = ENGINES[engine](A34)
    parts = np.unstack(x, axis=-1)
    assert len(parts) == 4
    np.testing.assert_array_equal(_plain(parts[2]), A34[:, 2])
    with pytest.raises(ValueError):
        np.unstack(ENGINES[engine](np.array(1.0)))
    with pytest.raises(np.exceptions.AxisError):
        np.unstack(x, axis=2)
    with pytest.raises(ValueError, match="3-dimensional"):
        np.linalg.cross(ENGINES[engine](np.ones(2)), np.ones(2))  # np.cross allows 2-vectors
    with pytest.raises(ValueError, match="2-dimensional"):
        np.matrix_transpose(ENGINES[engine](V3))


# the rest: a zero constant the tracer does not see, or batched matmul and np.cross
# (traced conservatively)
EXACT_PATTERNS = {"vecdot", "vecdot_broadcast", "vecdot_const_first", "vecdot_axis0",
                  "vecdot_axes", "vecdot_keepdims", "matvec", "vecmat", "matvec_rows",
                  "vecmat_rows", "cumulative_sum",
                  "cumulative_sum_axis_initial", "cumulative_prod",
                  "cumulative_prod_axis_initial", "unstack", "linalg_vecdot", "linalg_outer",
                  "linalg_matrix_transpose"}


@pytest.mark.parametrize("name", list(_params()))
def test_sparsity_patterns_hold_the_jacobians_nonzeros(name):
    # the traced pattern (no values) must contain every nonzero of the exact Jacobian and
    # have its shape; for these functions the generic Jacobian's nonzeros are the pattern
    # (a gufunc once went through the elementwise rule: the wrong shape)
    f, _, x0, _ = CASES[name]
    flat = lambda v: f(np.reshape(v, x0.shape))  # noqa: E731
    J = hd.jacobian(flat, x0.ravel())
    J = J.reshape(-1, x0.size)
    P = hd.jacobian_sparsity(flat, x0.ravel()).toarray()
    assert P.shape == J.shape
    assert not np.any((J != 0) & (P == 0))
    if name in EXACT_PATTERNS:
        np.testing.assert_array_equal(P != 0, J != 0)
    H = hd.hessian(lambda v: np.sum(np.sin(flat(v))), x0.ravel())
    PH = hd.hessian_sparsity(lambda v: np.sum(np.sin(flat(v))), x0.ravel()).toarray()
    assert not np.any((H != 0) & (PH == 0))
