"""A zero tangent (cotangent) is never poisoned by a non-finite value in a contraction.

``x @ sqrt(x)`` at x = [3, -1, 2]: the entry sqrt(-1) is NaN, and forward mode
used to multiply it by the zero tangents of the other directions inside the
matrix product (``nan * 0 = nan`` in every direction of the stack), so
``hyperdual.gradient`` was NaN everywhere while reverse mode gave NaN only in
the direction of x[1].  The README's convention (a zero tangent is never
poisoned by an infinite or NaN operand) now holds for ``@``/``matmul``,
``dot``, ``inner``, ``vdot``, ``outer``, ``tensordot``, ``kron`` and two-operand
``einsum`` as for the elementwise rules: checked entry by entry against reverse
mode and against closed forms.  Reverse mode's contraction backwards (``@``,
``einsum`` and the compositions on it) keep a zero cotangent zero the same way
(``reverse.jacobian`` of ``np.kron(sqrt(x[:2]), x)`` at a NaN entry was NaN
everywhere): each engine's contraction gives the numbers of its elementwise form.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual
import reverse

A = np.array([[1.0, 2.0, 3.0], [4.0, 0.0, 6.0]])

#: name -> (f with a contraction meeting a NaN/inf entry of a value, the same f
#: written elementwise: products and sums, where the convention already held)
FUNCS = {
    "matmul": (lambda x: np.sqrt(x) @ x, lambda x: np.sum(np.sqrt(x) * x)),
    "rmatmul": (lambda x: x @ np.sqrt(x), lambda x: np.sum(x * np.sqrt(x))),
    "dot": (lambda x: np.dot(np.sqrt(x), x), lambda x: np.sum(np.sqrt(x) * x)),
    "inner": (lambda x: np.inner(x, np.log(x)), lambda x: np.sum(x * np.log(x))),
    "vdot": (lambda x: np.vdot(np.sqrt(x), x * x), lambda x: np.sum(np.sqrt(x) * (x * x))),
    "einsum": (lambda x: np.einsum("i,i->", np.sqrt(x), x), lambda x: np.sum(np.sqrt(x) * x)),
    "tensordot": (lambda x: np.tensordot(np.outer(x, x), np.outer(np.sqrt(x), x), axes=2),
                  lambda x: np.sum(x * np.sqrt(x)) * np.sum(x * x)),
    "x@x": (lambda x: x @ x, lambda x: np.sum(x * x)),
}
JACS = {
    "outer": (lambda x: np.outer(np.sqrt(x), x), lambda x: np.sqrt(x)[:, None] * x[None, :]),
    "kron": (lambda x: np.kron(np.sqrt(x[:2]), x),
             lambda x: np.ravel(np.sqrt(x[:2])[:, None] * x[None, :])),
    "A@": (lambda x: np.stack([x @ np.sqrt(x), A[0] @ x]),
           lambda x: np.stack([np.sum(x * np.sqrt(x)), np.sum(A[0] * x)])),
}
POINTS = {
    "nan_value": np.array([3.0, -1.0, 2.0]),   # sqrt(-1), log(-1): NaN values
    "nan_input": np.array([3.0, np.nan, 2.0]),
    "inf_input": np.array([3.0, np.inf, 2.0]),
}


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(all="ignore"):
            return fn(*args)


def _same(got, want):
    """The same numbers: NaN and +-inf in the same entries, finite entries to a few
    ulps (the contraction sums the same products in another order)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    inf = np.isinf(want)
    np.testing.assert_array_equal(got[inf], want[inf])
    fin = np.isfinite(want)
    scale = np.max(np.abs(want[fin]), initial=1.0)
    np.testing.assert_allclose(got[fin], want[fin], rtol=0, atol=64 * np.finfo(float).eps * scale)


def _finite_where_reverse_is(got, rev):
    """Reverse mode forms no product of a cotangent with an unrelated entry: where it
    is finite, forward mode is finite and agrees."""
    got, rev = np.asarray(got), np.asarray(rev)
    fin = np.isfinite(rev)
    assert np.all(np.isfinite(got[fin])), (got, rev)
    scale = np.max(np.abs(rev[fin]), initial=1.0)
    np.testing.assert_allclose(got[fin], rev[fin], rtol=0, atol=64 * np.finfo(float).eps * scale)


@pytest.mark.parametrize("point", sorted(POINTS))
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_gradient_and_hessian_as_the_elementwise_form_and_reverse(name, point):
    (f, twin), x = FUNCS[name], POINTS[point]
    g = _quiet(hyperdual.gradient, f, x)
    _same(g, _quiet(hyperdual.gradient, twin, x))
    _finite_where_reverse_is(g, _quiet(reverse.gradient, twin, x))
    H = _quiet(hyperdual.hessian, f, x)
    if point != "inf_input":  # there inf - inf in another order may be nan or inf
        _same(H, _quiet(hyperdual.hessian, twin, x))
    _finite_where_reverse_is(H, _quiet(reverse.hessian, twin, x))
    # reverse mode's contraction backwards: the same numbers as its elementwise form
    _same(_quiet(reverse.gradient, f, x), _quiet(reverse.gradient, twin, x))
    _same(_quiet(reverse.hessian, f, x), _quiet(reverse.hessian, twin, x))


@pytest.mark.parametrize("point", sorted(POINTS))
@pytest.mark.parametrize("name", sorted(JACS))
def test_jacobian_as_the_elementwise_form_and_reverse(name, point):
    (f, twin), x = JACS[name], POINTS[point]
    J = _quiet(hyperdual.jacobian, f, x)
    _same(J, _quiet(hyperdual.jacobian, twin, x))
    _finite_where_reverse_is(J, _quiet(reverse.jacobian, twin, x))
    # a Jacobian row seeds zero cotangents: reverse's kron/matmul/einsum backwards
    # keep them zero against a NaN/inf operand (all NaN before, for kron)
    _same(_quiet(reverse.jacobian, f, x), _quiet(reverse.jacobian, twin, x))


def test_closed_forms():
    x = POINTS["nan_value"]
    # d/dx sum_i x_i**1.5 = 1.5 sqrt(x_i): exact where x_i > 0
    g = _quiet(hyperdual.gradient, FUNCS["matmul"][0], x)
    np.testing.assert_allclose(g[[0, 2]], 1.5 * np.sqrt(x[[0, 2]]), rtol=4 * np.finfo(float).eps)
    assert np.isnan(g[1])
    H = _quiet(hyperdual.hessian, FUNCS["matmul"][0], x)
    off = ~np.eye(3, dtype=bool)
    off[1, 1] = False
    np.testing.assert_array_equal(H[off & ~np.isnan(H)], 0.0)
    assert np.count_nonzero(np.isnan(H)) == 1  # only H[1, 1]
    # x @ x at [3, inf, 2]: the gradient 2x is [6, inf, 4] (not [nan, inf, nan])
    np.testing.assert_array_equal(_quiet(hyperdual.gradient, FUNCS["x@x"][0], POINTS["inf_input"]),
                                  [6.0, np.inf, 4.0])


def test_infinite_constant_times_a_tangent_stack():
    # a Dual matrix times a constant vector holding inf: (a + t da) @ x
    x = np.array([1.0, np.inf, 2.0])
    a = hyperdual.Dual(np.array([[1.0, -1.0, 0.0], [2.0, 1.0, 0.0]]),
                       np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    y = _quiet(np.matmul, a, x)
    np.testing.assert_array_equal(y.real, [-np.inf, np.inf])
    # da @ x = [1 + inf, 2]: the zero tangents met by x's inf entry stay 0
    np.testing.assert_array_equal(y.dual, [np.inf, 2.0])
    y = _quiet(np.einsum, "ij,j->i", a, x)
    np.testing.assert_array_equal(y.dual, [np.inf, 2.0])
    # a negative tangent against +inf gives -inf, both signs together NaN
    b = hyperdual.Dual(np.array([[1.0, 1.0, 1.0]]), np.array([[0.0, -2.0, 5.0]]))
    np.testing.assert_array_equal(_quiet(np.matmul, b, x).dual, [-np.inf])
    c = hyperdual.Dual(np.array([[1.0, 1.0]]), np.array([[-1.0, 1.0]]))
    assert np.isnan(_quiet(np.matmul, c, np.array([np.inf, np.inf])).dual[0])


def test_finite_data_takes_the_plain_product():
    # same numbers as before where nothing is non-finite (no guard, bit for bit)
    rng = np.random.default_rng(3)
    M, x = rng.standard_normal((4, 3)), rng.standard_normal(3)
    J = hyperdual.jacobian(lambda x: M @ np.sin(x), x)
    np.testing.assert_array_equal(J, M * np.cos(x))
