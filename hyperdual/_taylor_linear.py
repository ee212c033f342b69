"""Structural operations on Taylor numbers: one numpy call on the coefficient array.

Reductions, reshapes, indexing and joins are linear, so they act on every
Taylor coefficient alike: the value's axis ``i`` is the coefficient array's
axis ``i + 1``.  The part-by-part linear maps of Dual and HyperDual
(``sum``, ``mean``, ``reshape``, ``transpose``, ``squeeze``, ``cumsum``,
basic indexing ...) are the same maps: :func:`hyperdual._number._map_parts`
hands them a Taylor's coefficient array as one part with one leading axis, so
they are registered here unchanged rather than written again.  Products
(``matmul``, ``dot``, ``outer``) are Cauchy products with ``@`` between
coefficients.  The table :data:`FUNCTIONS` is what :class:`~hyperdual.Taylor`'s
``__array_function__`` dispatches to; numpy functions not in it raise
``TypeError`` naming the function and the engine.
"""

from __future__ import annotations

import numpy as np

from _exactdiff import contractions as _contractions
from _exactdiff import elementwise as _elementwise
from _exactdiff import linalg as _shared_linalg
from _exactdiff._common import finite_array as _finite_array
from _exactdiff._common import operand as _operand
from _exactdiff.arrays import is_foreign_array, plain_array
from _exactdiff.messages import zero_singular_square
from _exactdiff.statistics import REDUCTIONS, as_dtype, with_where
from _exactdiff.statistics import cast_pieces as _cast_pieces

from . import _generic as g
from . import _number as _n
from ._number import _map_parts, _Number, _shape
from ._taylor import ENGINE, Taylor, _coef_of, _const, _const_coef, _conv, _lift, _role
from .rules import shape as _shape_rules
from .rules.indexing import _index_part, _list_index
from .rules.reductions import mean, prod, sum_
from .rules.selection import clip
from .rules.shape import diagonal, expand_dims, moveaxis, ravel, reshape, squeeze, transpose
from .rules.statistics import cumsum

FUNCTIONS: dict = {}

# the linear part-maps and value-only functions shared with Dual/HyperDual
FUNCTIONS.update({
    np.sum: sum_, np.mean: mean, np.prod: prod, np.reshape: reshape, np.ravel: ravel,
    np.transpose: transpose, np.swapaxes: _shape_rules.swapaxes, np.moveaxis: moveaxis,
    np.squeeze: squeeze, np.expand_dims: expand_dims,
    np.broadcast_to: _shape_rules.broadcast_to, np.flip: _shape_rules.flip,
    np.diagonal: diagonal, np.cumsum: cumsum, np.clip: clip,
    np.shape: _shape_rules._shape_func, np.ndim: _shape_rules._ndim_func,
    np.size: _shape_rules._size_func, np.zeros_like: _shape_rules._zeros_like,
    np.ones_like: _shape_rules._ones_like, np.copy: _shape_rules._copy,
})


def _i0(x):
    """np.i0 is a Python function, not a ufunc: scipy.special.i0's Taylor rule."""
    import scipy.special as _sp
    return _sp.i0(x)


# part-maps and compositions of where/constants that hold at every order
FUNCTIONS.update({
    np.roll: _shape_rules.roll, np.nan_to_num: _elementwise.nan_to_num,
    np.angle: _elementwise.angle, np.i0: _i0,
})


def _impl(*funcs):
    def deco(fn):
        for f in funcs:
            FUNCTIONS[f] = fn
        return fn
    return deco


@_impl(np.sinc)
def sinc(x):
    """np.sinc is a Python function, not a ufunc: the rule table's sinc (ODE trick)."""
    return g.sinc(x)


def _ax(axis, ndim):
    return _n._norm_axis(axis, ndim)


@_impl(np.trace)
def trace(x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _n._no_out("trace", out)
    return sum_(diagonal(as_dtype("trace", x, dtype), offset, axis1, axis2), axis=-1)


def getitem(x, index):
    if isinstance(index, _Number) or (
            isinstance(index, tuple) and any(isinstance(i, _Number) for i in index)):
        raise TypeError(f"{ENGINE}: a Taylor number cannot be used as an index")
    index = _list_index(index)
    return _map_parts(x, lambda c, nd: _index_part(c, nd, index))


def _items_of(c):
    return [c[k] for k in range(_shape(c)[0])]


@_impl(np.take)
def take(x, indices, axis=None, out=None, mode="raise"):
    _n._no_out("take", out)
    if mode != "raise":  # clip/wrap: the shared selection maps the indices first
        from _exactdiff.shape import take as _take
        return _take(x, indices, axis, mode=mode)
    if axis is None:
        return getitem(ravel(x), np.asarray(indices))
    ax = _ax(axis, x.ndim)
    return getitem(x, (slice(None),) * ax + (np.asarray(indices),))


def _gather(seq):
    """Coefficient arrays of Taylors of the top tag and of constants (zero series)."""
    top = None
    for v in seq:
        if isinstance(v, Taylor) and (top is None or v.tag > top.tag):
            top = v
    cols = []
    for v in seq:
        if _role(top, v) is None:
            raise TypeError(f"{ENGINE}: cannot combine a Taylor with {type(v).__name__}")
        c = _coef_of(v, top)
        cols.append(c if c is not None else _const_coef(v, top.order, top))
    return top, cols


@_impl(np.concatenate)
def concatenate(arrays, axis=0, out=None, **kw):
    _n._no_out("concatenate", out)
    arrays = _cast_pieces("concatenate", arrays, kw.get("dtype"), kw.get("casting", "same_kind"))
    top, cols = _gather([_operand(a) for a in arrays])  # (lists of numbers stacked)
    if axis is None:
        return concatenate([ravel(Taylor._make(c, top.tag)) for c in cols], axis=0)
    ax = _ax(axis, len(_shape(cols[0])) - 1)
    return Taylor._make(np.concatenate(cols, axis=ax + 1), top.tag)


@_impl(np.stack)
def stack(arrays, axis=0, out=None, **kw):
    _n._no_out("stack", out)
    arrays = _cast_pieces("stack", arrays, kw.get("dtype"), kw.get("casting", "same_kind"))
    top, cols = _gather([_operand(a) for a in arrays])
    ax = _ax(axis, len(_shape(cols[0])))
    return Taylor._make(np.stack(cols, axis=ax + 1), top.tag)


@_impl(np.hstack)
def hstack(tup, **kw):
    arrs = [reshape(a, (1,)) if isinstance(a, Taylor) and a.ndim == 0 else
            (a if isinstance(a, Taylor) else np.atleast_1d(a)) for a in tup]
    first = arrs[0]
    return concatenate(arrs, axis=0 if np.ndim(g.real_value(first)) == 1 else 1, **kw)


@_impl(np.vstack)
def vstack(tup, **kw):
    arrs = [reshape(a, (1, -1)) if isinstance(a, Taylor) and a.ndim < 2 else
            (a if isinstance(a, Taylor) else np.atleast_2d(a)) for a in tup]
    return concatenate(arrs, axis=0, **kw)


@_impl(np.where)
def where(condition, x=None, y=None):
    if x is None and y is None:
        return np.where(g.real_value(condition))
    cond = plain_array(g.real_value(condition), np.dtype(bool))
    top, (cx, cy) = _gather([x, y])
    nres = max(cond.ndim, len(_shape(cx)) - 1, len(_shape(cy)) - 1)
    return Taylor._make(np.where(cond, _lift(cx, nres), _lift(cy, nres)), top.tag)


def _select_extreme(x, axis, keepdims, argf):
    r = g.real_value(x)
    if isinstance(axis, (tuple, list)) and len(axis) == 0:
        return x  # axis=(): no axis reduced, as numpy (was an IndexError)
    lazy = is_foreign_array(r)
    if x.ndim and (type(r) is np.ndarray or lazy):
        red = np.max if argf is np.argmax else np.min
        axes = tuple(range(x.ndim)) if axis is None else _ax(axis, x.ndim)
        axes = axes if isinstance(axes, tuple) else (axes,)
        # NaN entries are the selected ones (as the Dual rule; ties among them share)
        hit = (r == red(r, axis=axes, keepdims=True)) | (r != r)
        count = np.sum(hit, axis=axes, keepdims=True)
        # (lazy data cannot be asked for ties: the weights serve every case, and the
        # entries not selected are dropped by np.where, whatever their coefficients)
        if lazy or np.any(count > 1) or len(axes) > 1:
            # tied extremes share every coefficient equally (JAX's convention, as the
            # Dual/HyperDual rule and reverse mode do at first and second order)
            w = (hit / count).astype(r.dtype, copy=False)
            items = _items_of(x.coef)
            out = [red(items[0], axis=axes, keepdims=True)]
            out += [sum_(w * c, axis=axes, keepdims=True) if isinstance(c, _Number)
                    else np.sum(np.where(hit, w * c, 0.0) if lazy else w * c, axis=axes,
                                keepdims=True) for c in items[1:]]
            res = Taylor._make(np.stack(out), x.tag)
            return res if keepdims else squeeze(res, axis=axes)
    if axis is None:
        i = np.unravel_index(argf(r), np.shape(r))
        res = getitem(x, i)
        return reshape(res, (1,) * x.ndim) if keepdims else res
    ax = _ax(axis, x.ndim)
    if isinstance(ax, tuple):  # axis=(k,): several axes are handled above
        ax = ax[0]
    idx = np.expand_dims(argf(r, axis=ax), ax)
    res = Taylor._make(np.stack([np.take_along_axis(c, idx, axis=ax)
                                 for c in _items_of(x.coef)]), x.tag)
    return res if keepdims else squeeze(res, axis=ax)


@_impl(np.max, np.amax)
def max_(x, axis=None, out=None, keepdims=False, **kw):
    _n._no_out("max", out)
    return _select_extreme(x, axis, keepdims, np.argmax)


@_impl(np.min, np.amin)
def min_(x, axis=None, out=None, keepdims=False, **kw):
    _n._no_out("min", out)
    return _select_extreme(x, axis, keepdims, np.argmin)


def matmul(x, y):
    """x @ y: the Cauchy product with @ between coefficients."""
    top = _role(x, y)
    if top is None:
        raise TypeError(f"{ENGINE}: cannot multiply {type(x).__name__} @ {type(y).__name__}")
    a, b = _coef_of(x, top), _coef_of(y, top)
    K1 = top.order + 1
    if b is None:
        c = _const(y)
        return Taylor._make(np.stack([_const_contraction(np.matmul, a[k], c, k, True)
                                      for k in range(K1)]), top.tag)
    if a is None:
        c = _const(x)
        return Taylor._make(np.stack([_const_contraction(np.matmul, c, b[k], k, False)
                                      for k in range(K1)]), top.tag)
    ai, bi = _items_of(a), _items_of(b)
    out = []
    for k in range(K1):
        s = np.matmul(ai[0], bi[k])
        for j in range(1, k + 1):
            s = s + np.matmul(ai[j], bi[k - j])
        out.append(s)
    return Taylor._make(np.stack(out), top.tag)


def _const_contraction(bil, p, q, k, first):
    """``bil(p, q)`` for coefficient ``k`` of one operand (``p`` if ``first``) and a
    constant: for k >= 1 the constant's zeros (and the coefficient's) contribute 0
    even next to an inf/NaN coefficient (a constant 0 contributes 0, as in the
    elementwise product; ``_exactdiff.contractions.zero_safe``)."""
    out = bil(p, q)
    if k == 0 or not (type(p) is np.ndarray and type(q) is np.ndarray):
        return out
    o = np.asarray(out)
    if o.dtype.kind != "f" or (_finite_array(o) if o.ndim else np.isfinite(o)):
        return out
    res = np.asarray(_contractions.zero_safe(bil, p, q, True, True), dtype=o.dtype)
    return res if type(out) is np.ndarray else res[()]


@_impl(np.matmul)
def _matmul_func(x, y, **kw):
    return matmul(x, y)


@_impl(np.einsum)
def einsum(*operands, out=None, optimize=False, **kw):
    """np.einsum as a Cauchy product: coefficient k is the sum over k_1 + ... + k_p = k of
    einsum on coefficient k_i of each Taylor operand (constants enter at k_i = 0)."""
    _n._no_out("einsum", out)
    dtype = kw.pop("dtype", None)
    if kw.get("casting", "safe") != "safe" or kw.get("order", "K") not in ("K", None) or set(
            kw) - {"casting", "order"}:
        raise TypeError(f"{ENGINE}: numpy.einsum keyword arguments {sorted(kw)} are not "
                        "supported for Taylor numbers")
    ins, res, ops = _contractions.parse_einsum(operands, lambda v: np.ndim(g.real_value(v)))
    if dtype is not None:  # the operands cast to a floating dtype=, as numpy
        ops = [as_dtype("einsum", o, dtype, kw.get("casting", "safe")) for o in ops]
    subs = ",".join(ins) + "->" + res
    top, cols = _gather(ops)
    K1 = top.order + 1
    live = [i for i, v in enumerate(ops) if _coef_of(v, top) is not None]
    base = [c[0] for c in cols]
    out_c = []
    for k in range(K1):
        total = None
        for ks in _compositions(k, len(live)):
            args = list(base)
            for i, kk in zip(live, ks):
                args[i] = cols[i][kk]
            if len(ops) == 2 and len(live) == 1:  # a constant's zeros contribute 0
                t = _const_contraction(lambda p, q: np.einsum(subs, p, q, optimize=optimize),
                                       args[0], args[1], k, live[0] == 0)
            else:
                t = np.einsum(subs, *args, optimize=optimize)
            total = t if total is None else total + t
        out_c.append(total)
    coef = np.stack(out_c)
    if len(ops) > 2 and coef.dtype.kind == "f" \
            and all(type(c) is np.ndarray and c.dtype.kind in "fiub" for c in cols) \
            and not _finite_array(coef):  # (numpy data only: asked last)
        # three or more operands: a constant's zeros through the constants' product
        # contribute 0 (the two-operand contraction applies it)
        return _contractions.einsum_pairwise(
            ins, res, ops, lambda v: isinstance(v, Taylor),
            lambda i, o, xs: np.einsum(",".join(i) + "->" + o, *xs, optimize=optimize))
    return Taylor._make(coef, top.tag)


def _compositions(k, p):
    """Tuples of p non-negative ints summing to k."""
    if p == 1:
        yield (k,)
        return
    for first in range(k + 1):
        for rest in _compositions(k - first, p - 1):
            yield (first,) + rest


@_impl(np.dot)
def dot(a, b, out=None):
    _n._no_out("dot", out)
    na, nb = np.ndim(g.real_value(a)), np.ndim(g.real_value(b))
    if na == 0 or nb == 0:
        return a * b
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    # n-d: one einsum over a's last and b's second-to-last axis (the Cauchy product above)
    return _contractions.dot(a, b)


@_impl(np.inner)
def inner(a, b):
    na, nb = np.ndim(g.real_value(a)), np.ndim(g.real_value(b))
    if na == 0 or nb == 0:
        return a * b  # numpy: inner with a scalar scales, it does not sum
    if na == 1 and nb == 1:
        return sum_(a * b)
    return _contractions.inner(a, b)  # n-d: one einsum over both last axes


@_impl(np.vdot)
def vdot(a, b):
    ra = ravel(a) if isinstance(a, Taylor) else np.ravel(a)
    rb = ravel(b) if isinstance(b, Taylor) else np.ravel(b)
    return sum_(ra * rb)


@_impl(np.outer)
def outer(a, b, out=None):
    _n._no_out("outer", out)
    a = reshape(a, (-1, 1)) if isinstance(a, Taylor) else np.reshape(a, (-1, 1))
    b = reshape(b, (1, -1)) if isinstance(b, Taylor) else np.reshape(b, (1, -1))
    return a * b


@_impl(np.argmax)
def _argmax(a, axis=None, out=None, **kw):
    return np.argmax(g.real_value(a), axis=axis, **kw)


@_impl(np.argmin)
def _argmin(a, axis=None, out=None, **kw):
    return np.argmin(g.real_value(a), axis=axis, **kw)


# --- linear algebra: the matrix-series recurrences ----------------------------------------
def _not_plain(what, c):
    """The TypeError for a matrix series whose coefficients are not a numpy array."""
    if is_foreign_array(c):
        return TypeError(f"{ENGINE}: numpy.linalg.{what} of a Taylor number whose "
                         f"coefficients are {type(c).__module__.partition('.')[0]} arrays "
                         "is not supported (the matrix-series recurrences run on numpy "
                         "arrays): compute the matrix first, or use hyperdual.jvp/hvp or "
                         "reverse's helpers, which run linear algebra on dask")
    return TypeError(f"{ENGINE}: numpy.linalg.{what} of a Taylor number whose "
                     "coefficients carry another perturbation is not supported")


def _plain_matrix_series(a, what):
    """The coefficient array of a Taylor matrix operand (plain float arrays only)."""
    c = a.coef
    if type(c) is not np.ndarray:
        raise _not_plain(what, c)
    if c.ndim < 3 or c.shape[-1] != c.shape[-2]:
        raise np.linalg.LinAlgError(f"{what}: the value must be a square matrix (got shape "
                                    f"{c.shape[1:]})")
    return c


def _series_solve(A, B):
    """X with A(t) X(t) = B(t): A_0 X_k = B_k - sum_{j=1..k} A_j X_{k-j} (one LU of A_0
    would be cheaper; numpy's solve refactors, which is fine for small K)."""
    K1 = A.shape[0]
    X = []
    for k in range(K1):
        r = B[k]
        for j in range(1, k + 1):
            r = r - A[j] @ X[k - j]
        X.append(np.linalg.solve(A[0], r))
    return np.stack(X)


@_impl(np.linalg.inv)
def inv(a):
    """inv(A(t)) by A_0 X_k = -sum_{j>=1} A_j X_{k-j} (X_0 = inv(A_0))."""
    A = _plain_matrix_series(a, "inv")
    eye = np.broadcast_to(np.eye(A.shape[-1], dtype=_fdt(A)), A.shape[1:])
    B = np.concatenate([eye[None], np.zeros_like(A[1:])])
    return Taylor._make(_series_solve(A, B), a.tag)


@_impl(np.linalg.solve)
def solve(a, b):
    """solve(A(t), b(t)) by the same recurrence (either operand may be constant)."""
    top = _role(a, b)
    if top is None:
        return NotImplemented
    K = top.order
    A = a.coef if _coef_of(a, top) is not None else _const_coef(a, K, top)
    B = b.coef if _coef_of(b, top) is not None else _const_coef(b, K, top)
    if type(A) is not np.ndarray or type(B) is not np.ndarray:
        raise _not_plain("solve", B if type(A) is np.ndarray else A)
    # b a vector: numpy 2 only for a 1-d b (broadcast against a's batch), numpy 1.x for a
    # b with one axis fewer than a (a stack of vectors), as the Dual rule
    vec = B.ndim == 2 if _NUMPY2 else B.ndim == A.ndim - 1
    X = _series_solve(A, B[..., None] if vec else B)
    return Taylor._make(X[..., 0] if vec else X, top.tag)


_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _fdt(A):
    """The float dtype of the coefficient array ``A`` (float32 series stay float32)."""
    return A.dtype if A.dtype.kind == "f" else np.dtype(np.float64)


def _trace_series(A):
    """G = tr(A^-1 A') as a series of order K - 1 (A' has coefficients (m+1) A_{m+1})."""
    K1 = A.shape[0]
    X = _series_solve(A[:K1 - 1], np.stack([(m + 1) * A[m + 1] for m in range(K1 - 1)]))
    return np.trace(X, axis1=-2, axis2=-1)


_LAPLACE_MAX = 6  # the largest (nearly) singular matrix whose det series is expanded


def _laplace_det(A):
    """det(A(t)) by cofactor expansion along the first row, in series arithmetic: a
    polynomial in the coefficients, exact to rounding at every rank."""
    n = A.shape[-1]
    if n == 1:
        return A[..., 0, 0]
    out = None
    for j in range(n):
        cols = [c for c in range(n) if c != j]
        term = _conv(A[..., 0, j], _laplace_det(A[..., 1:, :][..., cols]))
        out = term if out is None else (out - term if j % 2 else out + term)
    return out


@_impl(np.linalg.det)
def det(a):
    """det(A(t)): y' = y tr(A^-1 A') (Jacobi's formula), y_0 = det(A_0); up to 3 x 3,
    and at a (nearly) singular A_0, where y_0 tr(A^-1 A') is 0 (or noise) times a huge
    series (the third derivative of det(A + tB) at a rank-2 A came out 0 or 5.6e14 for
    3.4), by cofactor expansion in series arithmetic up to 6 x 6, and refused beyond."""
    A = _plain_matrix_series(a, "det")
    y0 = np.linalg.det(A[0])
    if A.shape[0] == 1:
        return Taylor._make(y0[None] if np.ndim(y0) else np.array([y0]), a.tag)
    if _shared_linalg.small_det(A[0]):
        # up to 3 x 3 the expansion always: a few products per coefficient, exact to
        # rounding, where Jacobi's formula loses eps times the condition number of A_0
        # (the third derivative of det(A + t V), 6 det(V), was 2e-12 off); numpy's value
        c = np.array(_laplace_det(np.asarray(A, dtype=_fdt(A))), copy=True)
        c[0] = y0
        return Taylor._make(c, a.tag)
    if _shared_linalg.det_degenerate(A[0]):
        if A.shape[-1] > _LAPLACE_MAX:
            raise np.linalg.LinAlgError(
                f"{ENGINE}: numpy.linalg.det of a Taylor matrix that is (nearly) singular "
                f"at the point and larger than {_LAPLACE_MAX} x {_LAPLACE_MAX} is not "
                "supported; hyperdual.derivative/hessian (Dual, HyperDual) and the reverse "
                "engine differentiate det there")
        return Taylor._make(_laplace_det(np.asarray(A, dtype=_fdt(A))), a.tag)
    G = _trace_series(A)
    # y = det: k y_k = sum_{j=1..k} j L_j y_{k-j} with L' = G, i.e. j L_j = G_{j-1}
    jl = [None] + [G[j - 1] for j in range(1, A.shape[0])]
    y = [y0]
    for k in range(1, A.shape[0]):
        s = jl[1] * y[k - 1]
        for j in range(2, k + 1):
            s = s + jl[j] * y[k - j]
        y.append(s / k)
    return Taylor._make(np.stack([np.asarray(v, dtype=_fdt(A)) for v in y]), a.tag)


@_impl(np.linalg.slogdet)
def slogdet(a):
    """(sign, log|det|): the sign is constant; log|det| = log|det_0| + integral of G."""
    A = _plain_matrix_series(a, "slogdet")
    sign, l0 = np.linalg.slogdet(A[0])
    if A.shape[0] == 1:
        return sign, Taylor._make(np.asarray(l0)[None], a.tag)
    G = _trace_series(A)
    w = 1.0 / np.arange(1.0, A.shape[0], dtype=_fdt(A))
    rest = w.reshape((-1,) + (1,) * (G.ndim - 1)) * G
    return sign, Taylor._make(np.concatenate([np.asarray(l0)[None], rest]), a.tag)


def _matrix_series(a, what, sym=False, lower=True):
    """The coefficient stack of a matrix Taylor number; with ``sym``, the symmetric
    matrix numpy reads from one triangle (the lower one, or the upper for
    ``UPLO='U'``), coefficient by coefficient, as the Dual rules do.  A matrix that is
    symmetric only up to rounding (S @ S.T's higher coefficients sum their products in
    different orders) is then accepted, and the series is that of what numpy computes
    at nearby t."""
    A = _plain_matrix_series(a, what)
    if sym:
        n = A.shape[-1]
        tri = np.tril(np.ones((n, n), dtype=bool))
        if not lower:
            tri = tri.T
        A = np.where(tri, A, np.swapaxes(A, -1, -2))
    return A


def _tril_half(P):
    """The lower triangle of P with its diagonal halved (the Cholesky series' map)."""
    n = P.shape[-1]
    out = np.tril(P)
    idx = np.arange(n)
    out[..., idx, idx] *= 0.5
    return out


@_impl(np.linalg.cholesky)
def cholesky(a, *args, **kwargs):
    """L(t) with L L^T = A(t): L_0 (X + X^T) L_0^T = A_k - sum_{j=1..k-1} L_j L_{k-j}^T,
    X = L_0^-1 L_k lower triangular, so L_k = L_0 tril_half(L_0^-1 S_k L_0^-T)."""
    upper = bool(kwargs.pop("upper", False))
    if args or kwargs:
        raise TypeError(f"{ENGINE}: numpy.linalg.cholesky takes a matrix and upper= only")
    # upper=True (numpy 2): the transposed lower factor of the matrix numpy reads from
    # the upper triangle, as the Dual rule
    A = _matrix_series(a, "cholesky", sym=True, lower=not upper)
    L0 = np.linalg.cholesky(A[0])
    L = [L0]
    mT = lambda m: np.swapaxes(m, -1, -2)  # noqa: E731
    for k in range(1, A.shape[0]):
        S = A[k]
        for j in range(1, k):
            S = S - L[j] @ mT(L[k - j])
        Y = np.linalg.solve(L0, S)            # L0^-1 S
        P = mT(np.linalg.solve(L0, mT(Y)))    # L0^-1 S L0^-T (symmetric)
        L.append(L0 @ _tril_half(P))
    L = np.stack(L)
    return Taylor._make(mT(L) if upper else L, a.tag)


def _eigh_series(A, UPLO):
    """Eigenvalues and eigenvectors of a symmetric A(t) with distinct eigenvalues at t = 0.

    In the basis of Q_0 (A_0 = Q_0 diag(w_0) Q_0^T) write Q_k = Q_0 W_k (W_0 = I) and
    B_j = Q_0^T A_j Q_0.  Order k of A Q = Q diag(w) is
    diag(w_0) W_k - W_k diag(w_0) + R_k = diag(w_k) with
    R_k = sum_{j=1..k} B_j W_{k-j} - sum_{j=1..k-1} W_j diag(w_{k-j}):
    w_k = diag(R_k), (W_k)_pq = R_pq / (w_q - w_p) off the diagonal, and the diagonal of
    W_k from Q^T Q = I: (W_k)_pp = -1/2 (sum_{j=1..k-1} W_j^T W_{k-j})_pp.
    """
    w0, Q0 = np.linalg.eigh(A[0], UPLO=UPLO)
    n = A.shape[-1]
    gap = w0[..., None, :] - w0[..., :, None]  # (p, q) -> w_q - w_p
    off = ~np.eye(n, dtype=bool)
    # repeated to working precision, as the Dual and reverse rules decide
    tol = 8 * n * np.finfo(w0.dtype).eps * np.max(
        np.abs(w0), axis=-1, initial=0.0)[..., None, None]
    if np.any((np.abs(gap) <= tol)[..., off]):
        raise _shared_linalg.DegenerateDerivativeError(
            f"{ENGINE}: numpy.linalg.eigh of a Taylor number needs distinct eigenvalues at "
            "t = 0 (repeated ones have no eigenvector series)")
    inv_gap = np.where(off, 1.0 / np.where(off, gap, 1.0), 0.0)
    mT = lambda m: np.swapaxes(m, -1, -2)  # noqa: E731
    B = [mT(Q0) @ A[j] @ Q0 for j in range(A.shape[0])]
    eye = np.broadcast_to(np.eye(n), A.shape[1:])
    W, w = [eye], [w0]
    idx = np.arange(n)
    for k in range(1, A.shape[0]):
        R = B[k] @ W[0]
        for j in range(1, k):
            R = R + B[j] @ W[k - j] - W[j] * w[k - j][..., None, :]
        wk = R[..., idx, idx]
        Wk = R * inv_gap
        if k > 1:
            S = sum(mT(W[j]) @ W[k - j] for j in range(1, k))
            Wk[..., idx, idx] = -0.5 * S[..., idx, idx]
        W.append(Wk)
        w.append(wk)
    return np.stack(w), np.stack([Q0 @ Wk for Wk in W])


@_impl(np.linalg.eigh)
def eigh(a, UPLO="L"):
    """(w(t), Q(t)) of a symmetric series with distinct eigenvalues at t = 0 (the
    eigenvector signs are numpy's at t = 0)."""
    A = _matrix_series(a, "eigh", sym=True, lower=UPLO.upper() == "L")
    w, Q = _eigh_series(A, UPLO)
    dt = _fdt(A)  # numpy's dtype: float32 matrices give float32 eigenpairs
    out = (Taylor._make(w.astype(dt, copy=False), a.tag),
           Taylor._make(Q.astype(dt, copy=False), a.tag))
    return out if _EIGH_RESULT is tuple else _EIGH_RESULT(*out)


_EIGH_RESULT = type(np.linalg.eigh(np.eye(1)))  # numpy 2's EighResult; a tuple on 1.x


@_impl(np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    """The eigenvalue series of a symmetric A(t) with distinct eigenvalues at t = 0."""
    A = _matrix_series(a, "eigvalsh", sym=True, lower=UPLO.upper() == "L")
    return Taylor._make(_eigh_series(A, UPLO)[0].astype(_fdt(A), copy=False), a.tag)


def _matrix_coef(a, what):
    """The coefficient array of a Taylor matrix (any m x n, stacked as numpy allows)."""
    c = a.coef
    if type(c) is not np.ndarray:
        raise _not_plain(what, c)
    if c.ndim < 3:
        raise np.linalg.LinAlgError(f"{what}: the value must be a matrix (got shape "
                                    f"{c.shape[1:]})")
    return c


def _mT(m):
    return np.swapaxes(m, -1, -2)


def _right_solve(Y, R):
    """Y R^-1 (R square, stacked)."""
    return _mT(np.linalg.solve(_mT(R), _mT(Y)))


def _qr_tall_series(A, Q0, R0):
    """Q(t) (m x n, Q^T Q = I) and R(t) (upper triangular) with A(t) = Q R, m >= n.

    Order k: A_k - sum_{j=1..k-1} Q_j R_{k-j} = Q_0 R_k + Q_k R_0.  With
    C = Q_0^T B R_0^-1 = U + X, U = R_k R_0^-1 upper triangular and X = Q_0^T Q_k, whose
    symmetric part is fixed by Q^T Q = I (X + X^T = -P, P = sum_{j=1..k-1} Q_j^T Q_{k-j}),
    the strictly lower part of X is that of C: X = -P/2 + (L - L^T), L = tril(C + P/2, -1);
    then R_k = (C - X) R_0 and Q_k = B R_0^-1 - Q_0 (C - X).  Order 1 is the Dual rule."""
    m, n = Q0.shape[-2:]
    _shared_linalg.qr_rank_check(R0, m > n)
    Q, R = [Q0], [R0]
    for k in range(1, A.shape[0]):
        B = A[k]
        P = np.zeros(R0.shape, dtype=R0.dtype)
        for j in range(1, k):
            B = B - Q[j] @ R[k - j]
            P = P + _mT(Q[j]) @ Q[k - j]
        if m > n:
            BR = _right_solve(B, R0)
            C = _mT(Q0) @ BR
            low = np.tril(C + 0.5 * P, -1)
            U = np.triu(C - (-0.5 * P + low - _mT(low)))  # (its lower part is 0 but rounding)
            R.append(U @ R0)
            Q.append(BR - Q0 @ U)
            continue
        # Square: Q_k = Q_0 X and R_k = Q_0^T B - X R_0, and the strictly lower part of
        # C reads only the first n - 1 columns of R_0^-1 (the leading block): a zero
        # last pivot (rank n - 1, Q still unique) is not divided by (the Dual rule's
        # comment has the example).
        C = np.zeros(R0.shape[:-2] + (n, n), dtype=R0.dtype)
        if n > 1:
            C[..., :, :n - 1] = _mT(Q0) @ _right_solve(B[..., :, :n - 1],
                                                       R0[..., :n - 1, :n - 1])
        low = np.tril(C + 0.5 * P, -1)
        X = -0.5 * P + low - _mT(low)
        R.append(np.triu(_mT(Q0) @ B - X @ R0))
        Q.append(Q0 @ X)
    return np.stack(Q), np.stack(R)


@_impl(np.linalg.qr)
def qr(a, mode="reduced"):
    """(Q(t), R(t)) of a Taylor matrix whose R_0 is invertible (its leading square block
    for a wide matrix); the signs are numpy's at t = 0.  ``mode='complete'`` of a tall
    matrix (extra columns of Q that are not unique) and ``'raw'`` raise TypeError, as in
    the Dual rule."""
    A = _matrix_coef(a, "qr")
    m, n = A.shape[-2:]
    if mode not in ("reduced", "r", "complete") or (mode == "complete" and m > n):
        raise TypeError(
            f"{ENGINE}: numpy.linalg.qr(mode={mode!r}) is not differentiable "
            + ("(the extra columns of Q are not unique); use mode='reduced'"
               if mode == "complete" else "; use mode='reduced' or 'r'"))
    Q0, R0 = np.linalg.qr(A[0])
    if m >= n:
        Q, R = _qr_tall_series(A, Q0, R0)
    else:  # A = Q [R1 R2]: R1 from the leading square block, R2_k = Q_0^T (...)
        Q, R1 = _qr_tall_series(A[..., :m], Q0, R0[..., :m])
        R2 = [R0[..., m:]]
        for k in range(1, A.shape[0]):
            rest = A[k][..., m:]
            for j in range(1, k + 1):
                rest = rest - Q[j] @ R2[k - j]
            R2.append(_mT(Q0) @ rest)
        R = np.concatenate([R1, np.stack(R2)], axis=-1)
    dt = _fdt(A)
    Rt = Taylor._make(R.astype(dt, copy=False), a.tag)
    if mode == "r":
        return Rt
    out = (Taylor._make(Q.astype(dt, copy=False), a.tag), Rt)
    return out if _QR_RESULT is tuple else _QR_RESULT(*out)


_QR_RESULT = type(np.linalg.qr(np.eye(1)))  # numpy 2's QRResult; a tuple on 1.x
_SVD_RESULT = type(np.linalg.svd(np.eye(1)))


def _svd_tall_series(A, U0, s0, V0, what, values_only=False):
    """U(t) (m x n), s(t), V(t) (n x n) with A(t) = U diag(s) V^T, m >= n, starting from
    numpy's factors at t = 0.

    Order k: B = A_k - (the terms of sum U_i diag(s_j) V_l^T without an order-k factor)
    = U_k S_0 V_0^T + U_0 S_k V_0^T + U_0 S_0 V_k^T.  In C = U_0^T B V_0 write
    X = U_0^T U_k = -Pu/2 + Wu and Y = V_0^T V_k = -Pv/2 + Wv (Pu, Pv from the
    orthogonality of U and V, Wu, Wv antisymmetric): s_k = diag(C) + s_0 (Pu + Pv)_ii / 2
    and, with D = C + Pu S_0 / 2 + S_0 Pv / 2, the 2 x 2 systems
    s_j Wu_ij - s_i Wv_ij = D_ij, -s_i Wu_ij + s_j Wv_ij = D_ji; the part of U_k outside
    the span of U_0 is (I - U_0 U_0^T) B V_0 S_0^-1.  Order 1 is the Dual rule."""
    K1 = A.shape[0]
    n = s0.shape[-1]
    off = ~np.eye(n, dtype=bool)
    si, sj = s0[..., :, None], s0[..., None, :]
    gap = sj - si
    # the Dual and reverse rules' test (unsquared: squares of 1e-300 underflow to 0);
    # near-equal values would give vectors' series of size 1/gap, all rounding
    tol = 8 * n * np.finfo(s0.dtype).eps * np.max(s0, axis=-1, initial=0.0)[..., None, None]
    repeated = np.any((np.abs(gap) <= tol)[..., off])
    if repeated and (K1 > 2 or not values_only):
        raise _shared_linalg.DegenerateDerivativeError(
            f"{ENGINE}: numpy.linalg.{what} of a Taylor number needs distinct singular values "
            "at t = 0 (repeated ones have no singular-vector series; the values alone have "
            "first derivatives there: order 1 with compute_uv=False)")
    if repeated:  # order 1 of the values only: diag(U0^T A_1 V0), the Dual rule
        return None, np.stack([s0, (_mT(U0) @ A[1] @ V0)[..., np.arange(n), np.arange(n)]]), None
    tall = A.shape[-2] > n
    if tall and np.any(s0[..., -1] == 0):
        raise _shared_linalg.DegenerateDerivativeError(
            f"{ENGINE}: numpy.linalg.{what}: a zero singular value of a non-square matrix: "
            "the singular vectors have no series there")
    # 1/(s_j^2 - s_i^2) as 1/(s_j - s_i) times 1/(s_j + s_i), the s/(s_i + s_j) in [0, 1]
    inv_gap = np.where(off, 1.0 / np.where(off, gap, 1.0), 0.0)
    inv_sum = np.where(off, 1.0 / np.where(off, sj + si, 1.0), 0.0)
    rj, ri = sj * inv_sum, si * inv_sum
    idx = np.arange(n)
    U, S, V = [U0], [s0], [V0]
    for k in range(1, K1):
        B = A[k]
        Pu = np.zeros(gap.shape, dtype=gap.dtype)
        Pv = np.zeros(gap.shape, dtype=gap.dtype)
        for i in range(k):
            for j in range(k - i + 1):
                lo = k - i - j
                if i < k and j < k and lo < k:
                    B = B - (U[i] * S[j][..., None, :]) @ _mT(V[lo])
        for j in range(1, k):
            Pu = Pu + _mT(U[j]) @ U[k - j]
            Pv = Pv + _mT(V[j]) @ V[k - j]
        BV = B @ V0
        C = _mT(U0) @ BV
        S.append(C[..., idx, idx] + s0 * 0.5 * (Pu[..., idx, idx] + Pv[..., idx, idx]))
        D = C + 0.5 * (Pu * sj + si * Pv)
        Dt = _mT(D)
        Wu = (rj * D + ri * Dt) * inv_gap
        Wv = (ri * D + rj * Dt) * inv_gap
        Uk = U0 @ (Wu - 0.5 * Pu)
        if tall:
            Uk = Uk + (BV - U0 @ C) / sj
        U.append(Uk)
        V.append(V0 @ (Wv - 0.5 * Pv))
    return np.stack(U), np.stack(S), np.stack(V)


@_impl(np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """(U(t), s(t), Vh(t)) of a Taylor matrix with distinct singular values at t = 0
    (nonzero ones for a non-square matrix), numpy's signs at t = 0; ``compute_uv=False``
    gives s(t) (order 1 also at repeated singular values, as the Dual rule).  Full
    U/V of a non-square matrix are not unique: TypeError, as the Dual rule."""
    if hermitian:  # numpy's eigh path (lower triangle), not the general SVD
        out = _shared_linalg.svd_hermitian(a, compute_uv)
        return out if not compute_uv or _SVD_RESULT is tuple else _SVD_RESULT(*out)
    A = _matrix_coef(a, "svd")
    m, n = A.shape[-2:]
    if compute_uv and full_matrices and m != n:
        raise TypeError(
            f"{ENGINE}: numpy.linalg.svd(full_matrices=True) of a non-square matrix: the "
            "extra singular vectors are not unique, so they have no derivative; use "
            "full_matrices=False")
    U0, s0, Vh0 = np.linalg.svd(A[0], full_matrices=False)
    if compute_uv and m == n and n and np.any(
            s0[..., -1] <= 8 * n * np.finfo(s0.dtype).eps * s0[..., 0]):
        # numpy keeps s >= 0: where the smallest crosses zero u_n or v_n flips sign
        # (Vh[1, 1] of diag(1, t) is sign(t)); the series of the signed branch is not it
        raise _shared_linalg.DegenerateDerivativeError(f"{ENGINE}: " + zero_singular_square(""))
    if m >= n:
        U, S, V = _svd_tall_series(A, U0, s0, _mT(Vh0), "svd", not compute_uv)
    else:  # A^T = V diag(s) U^T: the same series with the roles swapped
        V, S, U = _svd_tall_series(_mT(A), _mT(Vh0), s0, U0, "svd", not compute_uv)
    dt = _fdt(A)
    St = Taylor._make(S.astype(dt, copy=False), a.tag)
    if not compute_uv:
        return St
    out = (Taylor._make(U.astype(dt, copy=False), a.tag), St,
           Taylor._make(_mT(V).astype(dt, copy=False), a.tag))
    return out if _SVD_RESULT is tuple else _SVD_RESULT(*out)


@_impl(np.linalg.pinv)
def pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    """pinv(A(t)) of a matrix of full rank at t = 0 (no singular value below numpy's
    cutoff): R^-1 Q^T from the qr series of A (of A^T for a wide matrix, transposed),
    which needs no distinct singular values; order 0 is numpy's pinv.  A rank-deficient
    matrix raises TypeError (the Dual rule differentiates it at constant rank)."""
    if hermitian:  # numpy reads the lower triangle only (through eigh)
        a = _shared_linalg.hermitian_from_lower(a)
    A = _matrix_coef(a, "pinv")
    kw = {} if rtol is np._NoValue else {"rtol": rtol}
    if rcond is not None:  # (numpy 1.x's pinv takes no rcond=None)
        kw["rcond"] = rcond
    P0 = np.linalg.pinv(A[0], hermitian=hermitian, **kw)
    m, n = A.shape[-2:]
    # numpy's cutoff (rcond, or rtol, relative to the largest singular value)
    if rcond is None:
        rcond = 1e-15 if rtol is np._NoValue else (
            max(m, n) * np.finfo(_fdt(A)).eps if rtol is None else rtol)
    s0 = np.linalg.svd(A[0], compute_uv=False)
    if np.any(s0[..., -1:] <= np.asarray(rcond)[..., None] * s0[..., :1]) if s0.size else False:
        raise TypeError(
            f"{ENGINE}: numpy.linalg.pinv of a Taylor matrix that is rank-deficient at t = 0 "
            "is not supported; " + _ENGINES.format(name="pinv"))
    wide = m < n
    T = Taylor._make(_mT(A) if wide else A, a.tag)
    Q, R = qr(T)
    eye = np.broadcast_to(np.eye(R.shape[-1], dtype=_fdt(A)), R.coef.shape[1:])
    Rinv = _series_solve(R.coef, np.concatenate([eye[None], np.zeros_like(R.coef[1:])]))
    X = Taylor._make(Rinv, a.tag) @ Taylor._make(_mT(Q.coef), a.tag)
    coef = _mT(X.coef) if wide else X.coef
    coef = np.concatenate([P0[None], coef[1:]]).astype(_fdt(A), copy=False)
    return Taylor._make(coef, a.tag)


#: where the Taylor engine has no rule for a numpy.linalg function: who has one
_ENGINES = ("hyperdual.Dual/HyperDual (derivative, jacobian, hessian) and reverse mode "
            "(reverse.gradient, reverse.hessian) differentiate numpy.linalg.{name} to "
            "second order; nest them (or use reverse.derivatives with method='backprop') "
            "for higher orders")


def _linalg_error(func):
    def raise_(*args, **kwargs):
        raise TypeError(
            f"{ENGINE}: numpy.linalg.{func.__name__} is not supported for Taylor numbers "
            "(no matrix-series rule); " + _ENGINES.format(name=func.__name__))
    raise_.unsupported = True  # taylor_supported() leaves it out
    return raise_


# eig/eigvals (non-symmetric spectra) have no series here
for _name in ("eig", "eigvals"):
    _f = getattr(np.linalg, _name)
    FUNCTIONS[_f] = _linalg_error(_f)


@_impl(np.diag)
def diag(v, k=0):
    """np.diag of every coefficient (a 1-d value makes a matrix, a 2-d one is read)."""
    return Taylor._make(np.stack([np.diag(c, k) for c in _items_of(v.coef)]), v.tag)


def _register_shared_families() -> None:
    """The shape and sorting families of :mod:`hyperdual.rules` are compositions of
    reshape, concatenate, indexing, where and arithmetic, which Taylor numbers
    support: they serve Taylor numbers unchanged (``np.tile``, ``np.sort``,
    ``np.pad``, ``np.interp`` ...), without replacing a Taylor rule.  So do the
    linear-algebra compositions shared by both engines (:mod:`_exactdiff.linalg`:
    ``norm``, ``matrix_power``, ``multi_dot``, ``tensorsolve``, ``tensorinv``,
    numpy 2's array-API names ...), whose primitive calls come back to the rules here."""
    from .rules import shape, sorting

    for f, impl in {**shape.RULES, **sorting.RULES}.items():
        FUNCTIONS.setdefault(f, impl)
    for f in (np.tensordot, np.kron, np.cross):  # one einsum (plus reshapes) each
        FUNCTIONS.setdefault(f, getattr(_contractions, f.__name__))
    if hasattr(np.linalg, "tensordot"):  # numpy 2's array-API spelling (linalg.cross: below)
        FUNCTIONS.setdefault(np.linalg.tensordot, _contractions.tensordot)
    for f, impl in _shared_linalg.FUNCTIONS.items():
        FUNCTIONS.setdefault(f, _naming(f, impl))
    # var, std, average, cov, corrcoef, ptp, nansum, nanmean, cumprod, median,
    # percentile, quantile: compositions of mean/sum/indexing/sort/where/arithmetic
    from _exactdiff.statistics import STATISTICS

    for f, impl in STATISTICS.items():
        FUNCTIONS.setdefault(f, impl)
    from _exactdiff.nanfunctions import NANFUNCTIONS

    for f, impl in NANFUNCTIONS.items():  # the same compositions, NaN entries left out
        FUNCTIONS.setdefault(f, impl)
    from _exactdiff.building import BUILDING
    from _exactdiff.polynomials import POLYNOMIALS

    for f, impl in {**BUILDING, **POLYNOMIALS}.items():  # ediff1d ..., polymul ...
        FUNCTIONS.setdefault(f, impl)
    from _exactdiff.building import bincount_with

    FUNCTIONS.setdefault(np.bincount, bincount_with(_scatter_by_matmul))


def _scatter_by_matmul(shape, index, values):
    """Zeros of the 1-d ``shape`` with ``values`` added at the integer ``index``
    (repeats add up): ``values @ one-hot``, one Taylor product with a constant (the
    weights of ``np.bincount``)."""
    from _exactdiff._common import float_dtype

    index = np.asarray(index)
    onehot = np.zeros((index.shape[0], shape[0]), dtype=float_dtype(values))
    onehot[np.arange(index.shape[0]), index] = 1.0
    return matmul(values, onehot)


def _naming(func, impl):
    """A shared composition that reaches a linalg function without a Taylor rule (svd,
    pinv) raises naming the function called (``numpy.linalg.lstsq``), not only the one
    it met."""
    name = f"numpy.linalg.{func.__name__}"

    def call(*args, **kwargs):
        try:
            return impl(*args, **kwargs)
        except TypeError as e:
            msg = str(e)
            if msg.startswith(ENGINE) and name not in msg:
                inner = msg[len(ENGINE) + 2:].replace(" is not supported", ", which is not "
                                                      "supported", 1)
                raise TypeError(f"{ENGINE}: {name} needs {inner}") from None
            raise
    call.unsupported = False
    return call


_register_shared_families()

# where= and initial= of sum/prod/mean/max/min, layered as for Dual and HyperDual
for _kind, _funcs in REDUCTIONS.items():
    for _f in _funcs:
        if _f in FUNCTIONS:
            FUNCTIONS[_f] = with_where(_kind, FUNCTIONS[_f])
