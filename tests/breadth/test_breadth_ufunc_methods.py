"""ufunc methods (``np.add.reduce``, ``np.maximum.accumulate``, ``np.multiply.outer``
...) in both engines and in Taylor mode: values equal numpy's, derivatives against
closed forms, central differences and each other, third order and nesting in the four
engine pairs; the methods without a derivative (``at``, ``out=``) raise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from breadth_checks import check_both_engines, check_third_order, scalarize

import hyperdual as hd
import reverse as rv
from hyperdual import Dual
from reverse import Variable
from tests._tolerance import assert_close_ulps, noisy_condition, relative_to_largest

rng = np.random.default_rng(5)
X6 = rng.uniform(-1.5, 1.5, 6)
X23 = rng.uniform(0.5, 1.5, (2, 3))

# (ufunc, method, kwargs, input shape(s)): each row is checked for values, gradient,
# Hessian and hvp in both engines
REDUCE = [
    (np.add, {}), (np.add, {"axis": None}), (np.add, {"axis": 1, "keepdims": True}),
    (np.multiply, {"axis": -1}), (np.multiply, {"initial": 2.0}),
    (np.maximum, {"axis": 0}), (np.minimum, {"axis": (0, 1)}),
    (np.logaddexp, {}), (np.logaddexp, {"axis": None}), (np.logaddexp2, {"axis": 1}),
    (np.hypot, {"axis": 1, "keepdims": True}), (np.hypot, {"axis": (0, 1)}),
    (np.subtract, {"axis": 1}), (np.divide, {"axis": 0}), (np.power, {"axis": 0}),
    (np.arctan2, {"axis": 1, "initial": 0.5}), (np.fmax, {"axis": None}),
    (np.add, {"axis": 1, "where": np.array([True, False, True]), "initial": 0.0}),
]


def _ids(rows):
    return [f"{u.__name__}-{kw}" for u, kw in rows]


def _left_fold(ufunc, x, axis, initial=None):
    """The reduction as numpy documents it, ((x0 op x1) op x2) ..., on plain arrays: the
    reference for arctan2 and power, whose numpy 2.4/2.5 reduce loops return
    op(x0, x_last) for three or more entries (they skip the partial results)."""
    parts = list(np.moveaxis(x, axis, 0))
    out = parts[0] if initial is None else ufunc(initial, parts[0])
    for p in parts[1:]:
        out = ufunc(out, p)
    return out


def _values_match(call, x, want=None):
    """The value through Dual, Variable and Taylor numbers equals numpy's: two
    implementations (another summation order, SIMD or scalar loops), so a few ulps
    times the condition (Monte Carlo arithmetic on numpy's function; a reduction's
    sum is not perturbed by it, hence 32 ulps), not a flat 1e-14."""
    want = call(x) if want is None else want
    cond = noisy_condition(call, x)
    assert_close_ulps(call(Dual(x, np.zeros_like(x))).real, want, ulps=32, cond=cond)
    assert_close_ulps(call(Variable(x)).data, want, ulps=32, cond=cond)
    t = call(hd.Taylor(np.stack([x, np.ones_like(x), np.zeros_like(x)])))
    assert_close_ulps(t.coef[0], want, ulps=32, cond=cond)


@pytest.mark.parametrize("ufunc,kw", REDUCE, ids=_ids(REDUCE))
def test_reduce(ufunc, kw):
    def call(v):
        if ufunc in (np.arctan2, np.power) and isinstance(v, np.ndarray):
            return _left_fold(ufunc, v, kw["axis"], kw.get("initial"))  # (numpy's skips)
        return ufunc.reduce(v, **kw)
    x = X23.copy()
    _values_match(call, x)
    check_both_engines(scalarize(call), x)


ACCUMULATE = [(np.add, {}), (np.add, {"axis": 1}), (np.multiply, {"axis": 1}),
              (np.maximum, {"axis": 1}), (np.minimum, {}), (np.logaddexp, {"axis": -1}),
              (np.subtract, {"axis": 1}), (np.hypot, {"axis": 0})]


@pytest.mark.parametrize("ufunc,kw", ACCUMULATE, ids=_ids(ACCUMULATE))
def test_accumulate(ufunc, kw):
    call = lambda v: ufunc.accumulate(v, **kw)  # noqa: E731
    x = X23.copy()
    _values_match(call, x)
    check_both_engines(scalarize(call), x)


REDUCEAT = [(np.add, [0, 2, 2, 1], {}), (np.add, [0, 1], {"axis": 1}),
            (np.multiply, [1, 2], {"axis": -1}), (np.maximum, [0, 3, 1], {}),
            (np.minimum, [2], {"axis": 1}), (np.logaddexp, [0, 4], {"dtype": np.float64}),
            (np.hypot, [0, 3], {}), (np.subtract, [0, 4, 5], {})]


@pytest.mark.parametrize("ufunc,idx,kw", REDUCEAT,
                         ids=[f"{u.__name__}-{i}-{kw}" for u, i, kw in REDUCEAT])
def test_reduceat(ufunc, idx, kw):
    # one reduce per segment a[idx[k]:idx[k+1]] (to the end for the last), a[idx[k]]
    # itself where the next index is not larger (numpy's definition); it was refused
    def call(v):  # along an axis of the (2, 3) input, or along its six entries
        return ufunc.reduceat(v if "axis" in kw else np.ravel(v), idx, **kw)
    x = X23.copy()
    _values_match(call, x)
    check_both_engines(scalarize(call), x)


def test_reduceat_closed_form():
    # d/dx sum_k w_k add.reduceat(x, [0, 2, 2, 5])_k: segments [0:2], x[2], [2:5], [5:6]
    x = np.array([0.3, -1.2, 2.0, 0.7, 1.1, 0.4])
    w = np.array([1.0, 2.0, 3.0, 4.0])
    for eng in (hd, rv):
        g = eng.gradient(lambda v: np.add.reduceat(v, [0, 2, 2, 5]) @ w, x)
        np.testing.assert_array_equal(g, [1.0, 1.0, 2.0 + 3.0, 3.0, 3.0, 4.0])
        # maximum.reduceat's derivative goes to each segment's maximum
        g = eng.gradient(lambda v: np.sum(np.maximum.reduceat(v, [0, 3])), x)
        np.testing.assert_array_equal(g, [0.0, 0.0, 1.0, 0.0, 1.0, 0.0])


OUTER = [np.add, np.subtract, np.multiply, np.divide, np.arctan2, np.maximum, np.power]


@pytest.mark.parametrize("ufunc", OUTER, ids=[u.__name__ for u in OUTER])
def test_outer(ufunc):
    def call(v):
        return ufunc.outer(v[:2], np.reshape(v[2:], (2, 2)))
    x = np.abs(X6) + 0.5
    want = call(x)
    assert want.shape == (2, 2, 2)
    _values_match(call, x)
    check_both_engines(scalarize(call), x)
    # a plain array on the left, the engine value on the right
    check_both_engines(scalarize(lambda v: ufunc.outer(np.array([0.7, 1.3]), v)), x)


def test_closed_forms():
    """d logaddexp.reduce = softmax; d sum(maximum.accumulate(x)) counts how many running
    maxima each entry is; multiply.outer(x, y)'s Jacobian."""
    x = np.array([0.3, -1.2, 2.0, 0.7, 1.1])
    soft = np.exp(x) / np.sum(np.exp(x))
    for eng in (hd, rv):
        assert_close_ulps(eng.gradient(np.logaddexp.reduce, x), soft, ulps=16,
                          cond=1 + np.max(np.abs(x)))  # (exp of x: its argument's ulps)
        np.testing.assert_allclose(eng.hessian(np.logaddexp.reduce, x),
                                   np.diag(soft) - np.outer(soft, soft), rtol=1e-13,
                                   atol=1e-16)
        np.testing.assert_array_equal(
            eng.gradient(lambda v: np.sum(np.maximum.accumulate(v)), x), [2, 0, 3, 0, 0])
        J = eng.jacobian(lambda v: np.multiply.outer(v[:2], v[2:]), x)
        want = np.zeros((2, 3, 5))
        for i in range(2):
            for j in range(3):
                want[i, j, i] = x[2 + j]
                want[i, j, 2 + j] = x[i]
        np.testing.assert_array_equal(J, want)
        # hypot.reduce is the 2-norm: gradient x / norm
        assert_close_ulps(eng.gradient(np.hypot.reduce, x), x / np.linalg.norm(x), ulps=8)


def test_third_order_and_taylor():
    """d^3/dt^3 of logaddexp.reduce([t, 2t, t^2]) against its closed form by sympy-free
    recursion: reverse's repeated create_graph and Taylor mode agree with mpmath."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40

    def f(t):
        return np.logaddexp.reduce(np.stack([t, 2.0 * t, t * t]))

    t0 = 0.4
    truth = [float(mpmath.diff(lambda s: mpmath.log(mpmath.exp(s) + mpmath.exp(2 * s)
                                                    + mpmath.exp(s * s)), t0, k))
             for k in range(1, 5)]
    d = check_third_order(f, t0)
    np.testing.assert_allclose(d, truth[:3], rtol=1e-13)
    tay = hd.derivatives(f, t0, 4)
    np.testing.assert_allclose(tay[1:], truth, rtol=1e-12)
    acc = hd.derivatives(lambda t: np.sum(np.multiply.accumulate(np.stack([t, t, 3.0]))), t0, 3)
    np.testing.assert_allclose(acc, [t0 + t0**2 + 3 * t0**2, 1 + 8 * t0, 8.0, 0.0],
                               rtol=1e-14, atol=1e-14)


def _reduce_pair(a, b):
    return np.logaddexp.reduce(np.stack([a * b, b, a + b]))


@pytest.mark.parametrize("outer", [hd, rv], ids=["hd-outside", "rv-outside"])
@pytest.mark.parametrize("inner", [hd, rv], ids=["hd-inside", "rv-inside"])
def test_nesting(outer, inner):
    """d/da [a * d/db logaddexp.reduce([ab, b, a+b])] in the four engine pairs, against
    the closed form (mpmath's numerical differentiation at 40 digits)."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    a0, b0 = 0.6, -0.3

    def truth_inner(a, b):
        e = [mpmath.exp(a * b), mpmath.exp(b), mpmath.exp(a + b)]
        return (a * e[0] + e[1] + e[2]) / sum(e)

    truth = float(mpmath.diff(lambda a: a * truth_inner(a, mpmath.mpf(b0)), a0))
    got = outer.derivative(lambda a: a * inner.derivative(lambda b: _reduce_pair(a, b), b0),
                           a0)
    np.testing.assert_allclose(got, truth, rtol=1e-13)


@pytest.mark.parametrize("make", [lambda x: Dual(x, np.ones_like(x)), Variable],
                         ids=["Dual", "Variable"])
def test_refused_and_numpy_errors(make):
    x = make(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match=r"add\.at is not supported.*in place"):
        np.add.at(x, [0], 1.0)
    with pytest.raises(TypeError, match=r"add\.reduceat with out= is not supported"):
        np.add.reduceat(x, [0, 2], out=np.zeros(2))
    with pytest.raises(IndexError, match="out-of-bounds"):  # numpy's check of the indices
        np.add.reduceat(x, [0, 3])
    with pytest.raises(TypeError, match="out="):
        np.add.reduce(x, out=np.zeros(()))
    with pytest.raises(TypeError, match="dtype="):
        np.add.reduce(x, dtype=np.int64)  # a float dtype= casts (test_breadth_dtype_rule)
    with pytest.raises(TypeError, match="where="):
        np.logaddexp.reduce(x, where=np.array([True, False, True]))
    # numpy's own checks, as for plain arrays
    with pytest.raises(ValueError, match="not reorderable"):
        np.subtract.reduce(make(np.ones((2, 2))), axis=(0, 1))
    with pytest.raises(ValueError, match="no identity"):
        np.subtract.reduce(make(np.ones((0, 2))))
    with pytest.raises((TypeError, ValueError), match="scalar"):
        np.add.accumulate(make(np.array(2.0)))
    with pytest.raises(TypeError, match="initial="):
        np.hypot.reduce(x, initial=make(np.array(1.0)))


def test_empty_and_identity():
    """An empty reduction is the ufunc's identity (or initial=), a constant."""
    for make in (lambda a: Dual(a, a), Variable):
        np.testing.assert_array_equal(np.logaddexp.reduce(make(np.zeros((0, 2)))),
                                      [-math.inf] * 2)
        got = np.hypot.reduce(make(np.zeros((0, 2))), axis=0, initial=3.0)
        np.testing.assert_array_equal(got, [3.0, 3.0])
        for eng in (hd, rv):
            g = eng.gradient(lambda v: np.sum(np.add.reduce(v[:0] * v[0])) + v[1], [1.0, 2.0])
            np.testing.assert_array_equal(g, [0.0, 1.0])


def test_sparsity_detection():
    """The sparsity tracer sees through the methods: structural patterns (lower
    triangular for accumulate, every pair for outer) and sparse = dense Jacobians."""
    x = np.arange(1.0, 7.0)
    tri = np.tril(np.ones((6, 6), dtype=bool))
    cases = [
        (lambda v: np.logaddexp.accumulate(v), tri),
        (lambda v: np.maximum.accumulate(v), tri),  # every entry may become the maximum
        (lambda v: np.hypot.reduce(np.reshape(v, (3, 2)), axis=1),
         np.kron(np.eye(3, dtype=bool), np.ones((1, 2), dtype=bool))),
        (lambda v: np.multiply.outer(v[:2], v).ravel(),
         np.array([[k == i or k == j for k in range(6)] for i in range(2) for j in range(6)])),
    ]
    for f, want in cases:
        for eng in (hd, rv):
            np.testing.assert_array_equal(eng.jacobian_sparsity(f, x).toarray() != 0, want)
            dense = eng.jacobian(f, x)  # the same products, seeded by colour groups
            assert_close_ulps(eng.sparse_jacobian(f, x).toarray(), dense, ulps=4,
                              cond=relative_to_largest(dense))
