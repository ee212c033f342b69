"""Linear-algebra functions that are compositions of differentiated operations.

``norm`` (every ``ord``/``axis`` numpy accepts), ``matrix_power``,
``multi_dot``, ``lstsq`` (through ``pinv``) and numpy 2's array-API names
(``svdvals``, ``matrix_norm``, ``vector_norm``, ``np.linalg.trace`` ...) are
written here once with numpy calls; both engines register them, and the
primitive calls (``np.linalg.svd``, ``np.linalg.pinv``, ``@``, reductions)
dispatch back to the engine's own rules (``hyperdual.rules.linalg``,
``reverse.rules.linalg``), so every order and nesting follows.

Examples
--------
>>> import numpy as np
>>> float(norm(np.array([3.0, -4.0]), 1))
7.0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._common import engine_name, is_traced, shape_of, value
from .arrays import is_foreign_array, is_lazy
from .contractions import gufunc
from .shape import matrix_transpose

__all__ = ["FUNCTIONS", "DegenerateDerivativeError"]


class DegenerateDerivativeError(ArithmeticError):
    """A derivative asked for does not exist: repeated eigenvalues or singular values.

    Raised by the eigenvector/singular-vector rules of both engines (one class,
    ``hyperdual.linalg.DegenerateDerivativeError`` is
    ``reverse.linalg.DegenerateDerivativeError``) instead of returning NaN.
    It is an ``ArithmeticError``.

    Examples
    --------
    The eigenvectors of the identity are not unique, so they have no derivative:

    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> np.linalg.eigh(Dual(np.eye(2), np.array([[0.0, 1.0], [1.0, 0.0]])))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    _exactdiff.linalg.DegenerateDerivativeError: numpy.linalg.eigh: repeated eigenvalues ...
    """


def qr_rank_check(r: np.ndarray, tall: bool) -> None:
    """Raise where the Q of ``np.linalg.qr`` has no derivative.

    ``r`` is the (plain, float) square factor R of the first ``min(m, n)`` columns. A
    zero pivot ``R[k, k]`` (to working precision) makes column ``k`` of Q the
    normalised residual 0 / 0: no derivative, whichever way LAPACK picks it, except
    for the last pivot of a square (or wide) matrix, whose column of Q is fixed by
    the others (LAPACK's last reflector is the identity). ``tall``: m > n, every pivot.
    """
    d = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    n = d.shape[-1]
    if not tall:
        d = d[..., :-1]
    if d.size == 0:
        return
    scale = np.max(np.abs(r), axis=(-2, -1))[..., None]
    if np.any(d <= 8 * max(n, 1) * np.finfo(d.dtype).eps * scale):
        raise DegenerateDerivativeError(
            "numpy.linalg.qr: the matrix is rank deficient (a zero pivot of R before "
            "the last, to working precision): the columns of Q from there on are not "
            "unique, so they have no derivative; R's first rows and the column space "
            "do not need Q's later columns (e.g. use the leading columns' qr)")


def qr_rank_deficient(r: Any, tall: bool) -> Any:
    """The condition of :func:`qr_rank_check` on lazy (dask) ``r``, as a lazy boolean
    (its value is not asked: that would compute it): the caller marks its derivatives
    nan with :func:`nan_where` instead of raising."""
    d = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    n = d.shape[-1]
    if not tall:
        d = d[..., :-1]
    if d.shape[-1] == 0:
        return np.zeros_like(np.sum(r, axis=(-2, -1)), dtype=bool)
    scale = np.max(np.abs(r), axis=(-2, -1))[..., None]
    return np.any(d <= 8 * max(n, 1) * np.finfo(d.dtype).eps * scale, axis=-1)


def nan_where(flag: Any, x: Any) -> Any:
    """``x`` with nan wherever the lazy boolean ``flag`` holds (``flag`` broadcast over
    ``x``'s matrix axes): on lazy data a rule that would raise
    :class:`DegenerateDerivativeError` on numpy data cannot ask, so its derivative
    comes out nan there when the dask array is computed.  Every part of a Dual (its
    tangents too: a product with the Dual would keep a zero tangent 0) carries it."""
    return _times_parts(x, np.where(flag, np.nan, 1.0))


def _times_parts(x: Any, m: Any) -> Any:
    if is_traced(x) and hasattr(x, "_parts") and hasattr(x, "tag"):  # Dual, HyperDual
        return type(x)._build(tuple(_times_parts(p, m) for p in x._parts()), x.tag, x.nd)
    return x * m


def plain_lazy(x: Any) -> Any:
    """The innermost plain value of ``x`` if it is lazy (a dask array), else None."""
    v = value(x)
    while v is not x:
        x, v = v, value(v)
    return v if is_lazy(v) else None


def _dask_linalg() -> Any:
    import dask.array as da  # only for lazy data: dask is installed then

    return da.linalg


def _single_block(a: Any) -> Any:
    """A dask matrix (stack) with its last two axes in one chunk (what a blockwise
    numpy call needs; dask's own 2-d single-chunk linalg does the same)."""
    nd = a.ndim
    return a.rechunk({nd - 2: -1, nd - 1: -1}) if nd >= 2 else a


def cholesky_lower(a: Any) -> Any:
    """numpy's lower Cholesky factor of ``a`` (the lower triangle read), in ``a``'s library.

    dask's ``np.linalg.cholesky`` dispatches to ``da.linalg.cholesky(a, lower=False)``
    and returns the *upper* factor; its blocked algorithm (several chunks) reads the
    upper triangle off the diagonal blocks.  For dask data this asks for the lower
    factor of the symmetric matrix numpy reads (one chunk: the matrix itself).  Both
    engines' rules call this for ``cholesky(a)`` and, with ``a^T``, for ``upper=True``.

    >>> import numpy as np
    >>> cholesky_lower(np.array([[4.0, 9.0], [2.0, 5.0]]))
    array([[2., 0.],
           [1., 2.]])
    """
    if not is_lazy(a):
        return np.linalg.cholesky(a)
    if a.ndim == 2 and a.numblocks != (1, 1):
        a = np.tril(a) + np.swapaxes(np.tril(a, -1), -1, -2)
    return _dask_linalg().cholesky(a, lower=True)


def _blockwise_matrix(func: Any, a: Any, drop: bool, dtype: Any) -> Any:
    """``func`` (a numpy function of a stack of square matrices) on lazy ``a``, one
    task per block of its batch axes; ``drop``: ``func`` returns one number per
    matrix (det), else a matrix of ``a``'s shape (its gradient)."""
    b = _single_block(a)
    nd = b.ndim
    if drop:
        return b.map_blocks(func, drop_axis=[nd - 2, nd - 1], dtype=dtype,
                            meta=np.empty((0,) * (nd - 2), dtype=dtype))
    return b.map_blocks(func, dtype=dtype,
                        meta=np.empty((0,) * nd, dtype=dtype)).rechunk(a.chunks)


def _det_plain(m: np.ndarray) -> np.ndarray:
    return np.asarray(np.linalg.det(m))


def _det_gradient_plain(m: np.ndarray) -> np.ndarray:
    """The gradient of det at a plain stack of matrices, as the engines' numpy path
    forms it: the cofactors where det is (nearly) singular or out of range, else
    det(a) a^-T."""
    d = np.linalg.det(m)
    if det_out_of_range(m, d) or det_degenerate(m):
        return det_cofactors(m)
    return np.asarray(d)[..., None, None] * np.swapaxes(np.linalg.inv(m), -1, -2)


def lazy_det(a: Any) -> Any:
    """``np.linalg.det`` of lazy ``a``, lazily (dask has no det: it computes the array
    and warns)."""
    return _blockwise_matrix(_det_plain, a, True, _float(a))


def lazy_det_gradient(a: Any) -> Any:
    """The gradient of det at lazy (plain) ``a``, lazily: numpy's cofactor/inverse
    choice made per block when the array is computed (see :func:`det_degenerate`)."""
    return _blockwise_matrix(_det_gradient_plain, a, False, _float(a))


def lazy_inv_t(a: Any) -> Any:
    """``a^-T`` of lazy (plain) ``a``, blockwise: the gradient of slogdet's logabsdet
    (dask's own inverse needs square chunks; numpy's error for a singular matrix is
    raised when the array is computed)."""
    return _blockwise_matrix(lambda m: np.swapaxes(np.linalg.inv(m), -1, -2), a, False,
                             _float(a))


def lazy_slogdet(a: Any) -> tuple[Any, Any]:
    """``np.linalg.slogdet`` of lazy ``a``, lazily: (sign, logabsdet)."""
    dt = _float(a)
    sign = _blockwise_matrix(lambda m: np.linalg.slogdet(m)[0], a, True, dt)
    logdet = _blockwise_matrix(lambda m: np.linalg.slogdet(m)[1], a, True, dt)
    return sign, logdet


def det_decision(a: Any) -> bool:
    """Whether det's derivative at ``a`` (an engine value whose plain value is lazy: a
    second derivative) needs the cofactors: :func:`det_out_of_range` or
    :func:`det_degenerate` of the computed value.  One compute, where dask itself
    computes the array for ``np.linalg.det``; the first derivative needs none
    (:func:`lazy_det_gradient`)."""
    m = np.asarray(plain_lazy(a))
    return bool(det_out_of_range(m, np.linalg.det(m)) or det_degenerate(m))


def lazy_eigh_packed(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 (numpy's name)
    """``np.linalg.eigh`` of lazy ``a`` as one lazy array ``[w; V]`` of shape
    ``(..., n + 1, n)``, one eigh per block (dask has no eigh: it computes the array
    and warns)."""
    b = _single_block(a)
    n = a.shape[-1]
    dt = _float(a)

    def packed(m: np.ndarray) -> np.ndarray:
        w, v = np.linalg.eigh(m, UPLO)
        return np.concatenate([w[..., None, :], v], axis=-2)

    return b.map_blocks(packed, chunks=b.chunks[:-2] + ((n + 1,), (n,)), dtype=dt,
                        meta=np.empty((0,) * a.ndim, dtype=dt))


def lazy_eigh(a: Any, UPLO: str = "L") -> tuple[Any, Any]:  # noqa: N803
    """``np.linalg.eigh`` of lazy ``a``, lazily: ``(w, V)``."""
    p = lazy_eigh_packed(a, UPLO)
    return p[..., 0, :], p[..., 1:, :]


_NO_RTOL = object()


def lazy_pinv(a: Any, rcond: Any = None, rtol: Any = _NO_RTOL) -> Any:
    """``np.linalg.pinv`` of a lazy 2-d matrix through dask's (lazy) SVD, with numpy's
    cutoff: singular values at most ``rcond * max(s)`` count as zero (dask has no
    pinv: it computes the array and warns).  The signs dask picks for the singular
    vectors cancel in ``V diag(1/s) U^T``."""
    if rcond is None:
        rcond = 1e-15 if rtol is _NO_RTOL else (
            max(a.shape[-2:]) * np.finfo(_float(a)).eps if rtol is None else rtol)
    elif rtol is not _NO_RTOL:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    if 0 in a.shape:
        return np.zeros_like(np.swapaxes(a, -1, -2), dtype=_float(a))
    if len(a.numblocks) == 2 and min(a.numblocks) > 1:
        a = a.rechunk(-1)  # dask's svd takes one row or one column of chunks
    u, s, vt = _dask_linalg().svd(a)
    cutoff = rcond * np.max(s, axis=-1, keepdims=True)
    large = s > cutoff
    sinv = np.where(large, 1.0 / np.where(large, s, 1.0), 0.0)
    return np.matmul(np.swapaxes(vt, -1, -2), sinv[..., :, None] * np.swapaxes(u, -1, -2))


def _float(a: Any) -> Any:
    dt = np.dtype(a.dtype)
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _plain(x: Any) -> np.ndarray:
    """The float values of an engine's number, through every level of nesting."""
    v = value(x)
    while v is not x:
        x, v = v, value(v)
    return np.asarray(v)


def hermitian_from_lower(a: Any) -> Any:
    """The symmetric matrix numpy's ``hermitian=True`` paths (eigh) see: the lower
    triangle of ``a`` mirrored, so derivatives go to the entries numpy reads."""
    n = _shape(a)[-1]
    dt = _dtype(a)
    low = np.tril(np.ones((n, n), dtype=dt))
    return a * low + matrix_transpose(a * (low - np.eye(n, dtype=dt)))


def svd_hermitian(a: Any, compute_uv: bool = True) -> Any:
    """``np.linalg.svd(a, hermitian=True)`` as numpy computes it, so as a composition
    of rules: eigh of the lower triangle, s = abs(w) sorted descending, U the
    eigenvectors in that order, Vh = (U * sign(w))^T (a zero eigenvalue gives a zero
    row, as numpy). The general SVD rule on ``a`` read both triangles and could order
    and sign the vectors differently."""
    if not compute_uv:
        return np.sort(np.abs(np.linalg.eigvalsh(a)), axis=-1)[..., ::-1]
    w, v = np.linalg.eigh(a)
    wv = _plain(w)
    idx = np.argsort(np.abs(wv), axis=-1)[..., ::-1]  # numpy's order (same values)
    sgn = np.take_along_axis(np.sign(wv), idx, axis=-1)
    s = np.take_along_axis(np.abs(w), idx, axis=-1)
    u = np.take_along_axis(v, idx[..., None, :], axis=-1)
    return u, s, matrix_transpose(u * sgn[..., None, :])


def _shape(x: Any) -> tuple[int, ...]:
    return shape_of(x)  # (a sparsity Pattern's shape without its values)


def _dtype(x: Any) -> Any:
    dt = np.result_type(value(x))
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _square(a: Any) -> None:
    s = _shape(a)
    if len(s) < 2:
        raise np.linalg.LinAlgError(
            f"{len(s)}-dimensional array given. Array must be at least two-dimensional")
    if s[-1] != s[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")


# --- det's cofactors -----------------------------------------------------------
_DET_RCOND = 1e-4
_lapack = None  # scipy.linalg.lapack, imported on first use


def det_degenerate(a: Any, lu: Any = None) -> bool:
    """Whether det's derivative needs :func:`det_cofactors`: a (nearly) singular matrix
    in the stack, LAPACK's estimate of its reciprocal condition number (1-norm, from
    the LU factors; ``lu``: a 2-d matrix's (lu, piv) if at hand) <= 1e-4.  There
    det(a) a^-T is 0 times a huge or failing solve, or the product of two
    factorisations (det's of a, the solve's of a^T) that disagree about the tiny
    pivot: the gradient of det at a rank-2 3 x 3 matrix came out off by a factor up
    to 5, or as zeros (the truth, its cofactors, is well conditioned).  The estimate
    (O(n^2) after the O(n^3) factorisation) is made only where the LU factors have a
    pivot below 1e-3 times the largest (partial pivoting leaves a rank deficiency in
    a tiny pivot).

    >>> import numpy as np
    >>> det_degenerate(np.arange(9.0).reshape(3, 3)), det_degenerate(np.eye(3))
    (True, False)
    """
    global _lapack
    if type(a) is not np.ndarray:
        a = np.asarray(value(a))
    if a.dtype == object or a.shape[-1] == 0 or a.dtype.kind not in "fiu":
        return False
    if not np.isfinite(a).all():
        return False
    if _lapack is None:
        from scipy.linalg import lapack as _lapack
    lapack = _lapack
    n = a.shape[-1]
    mats = np.reshape(a, (-1, n, n)).astype(np.float64, copy=False)
    for i in range(mats.shape[0]):
        m = mats[i]
        if lu is None or mats.shape[0] != 1:
            f, _piv, info = lapack.dgetrf(m)
            if info > 0:
                return True
        else:
            f = lu[0]
        piv = np.abs(f.diagonal())
        if piv.min() > 1e-3 * piv.max():  # no small pivot: not nearly singular
            continue
        anorm = float(np.max(np.sum(np.abs(m), axis=0)))
        if anorm == 0.0:
            return True
        rcond, info = lapack.dgecon(f, anorm, norm="1")
        if info != 0 or not rcond > _DET_RCOND:
            return True
    return False


def det_out_of_range(a: Any, d: Any) -> bool:
    """Whether det(a)'s value ``d`` under- or overflowed at a finite matrix ``a`` (an
    entry of a stack 0, subnormal or inf): there ``d a^-T`` is 0 (or inf) times a
    normal matrix, while the cofactors (products of n - 1 singular values) and their
    derivatives are normal floats: the gradient of det at a 3 x 3 matrix of entries
    ~1e-150 (det 1e-450, cofactors 1e-300) was 0, its Hessian (1e-150) too.

    >>> import numpy as np
    >>> a = np.diag([1e-150, 2e-150, 3e-150])
    >>> det_out_of_range(a, np.linalg.det(a)), det_out_of_range(np.eye(2), 1.0)
    (True, False)
    """
    v = np.abs(np.asarray(value(d)))
    if v.dtype.kind != "f":
        return False
    out = (v < np.finfo(v.dtype).tiny) | np.isinf(v)
    if not out.any():
        return False
    return bool(np.isfinite(np.asarray(value(a))).all())


def det_cofactors(a: Any) -> Any:
    """The cofactor matrix C of a (stack of) square matrices: d det(a) = sum(C * da).

    For the singular matrices where det(a) a^-T cannot be formed (np.arange(9.)
    reshaped to 3 x 3: its gradient is the finite [[-3, 6, -3], [6, -12, 6], ...]).
    A plain matrix: from its SVD a = U diag(s) V^T, C = det(U) det(V) U diag(p) V^T
    with p_i the product of the s_j, j != i (exact to rounding at any rank).  A matrix
    with derivative parts (a Dual, a Variable: the derivative of the cofactors, for a
    second derivative of det): the signed determinants of its minors, each through the
    engine's own det (polynomials in the entries, defined at every rank).

    >>> import numpy as np
    >>> np.round(det_cofactors(np.array([[1.0, 2.0], [2.0, 4.0]])), 12) + 0.0
    array([[ 4., -2.],
           [-2.,  1.]])
    """
    n = _shape(a)[-1]
    if isinstance(a, np.ndarray) and a.dtype != object:
        if n == 1:
            return np.ones_like(a, dtype=_dtype(a))
        u, sv, vt = np.linalg.svd(a)
        others = np.where(np.eye(n, dtype=bool), 1.0, sv[..., None, :])
        p = np.prod(others, axis=-1)
        sign = np.linalg.det(u) * np.linalg.det(vt)
        return sign[..., None, None] * np.matmul(u * p[..., None, :], vt)
    if n == 1:
        return a * 0.0 + 1.0
    idx = [np.array([k for k in range(n) if k != i]) for i in range(n)]
    rows = []
    for i in range(n):
        sub = a[..., idx[i], :]
        rows.append(np.stack([np.linalg.det(sub[..., :, idx[j]]) * (-1.0) ** (i + j)
                              for j in range(n)], axis=-1))
    return np.stack(rows, axis=-2)


#: matrices up to this size take det's derivative from :func:`small_cofactors`
SMALL_DET = 3
_NEXT = np.array([1, 2, 0])
_AFTER = np.array([2, 0, 1])
_SWAP2 = np.array([1, 0])


def small_det(a: Any) -> bool:
    """Whether det's derivative at ``a`` comes from :func:`small_cofactors`: a non-empty
    (stack of) matrices of at most :data:`SMALL_DET` rows.

    >>> import numpy as np
    >>> small_det(np.eye(3)), small_det(np.eye(4)), small_det(np.zeros((0, 2, 2)))
    (True, False, False)
    """
    s = _shape(a)
    return 1 <= s[-1] <= SMALL_DET and 0 not in s


def small_cofactors(a: Any) -> Any:
    """The cofactor matrix of (a stack of) 1 x 1, 2 x 2 or 3 x 3 matrices as the
    polynomial in the entries: ``[[d, -c], [-b, a]]`` for a 2 x 2, and for a 3 x 3
    ``C_ij = a[i+1, j+1] a[i+2, j+2] - a[i+1, j+2] a[i+2, j+1]`` (indices mod 3: the
    cyclic order carries the sign).

    det's derivative ``sum(C * da)`` from these is exact to the rounding of a few
    products at every order and at every rank, where ``det(a) a^-T`` and its
    derivatives lose ``eps`` times the condition number of ``a`` (the Hessian of det
    at a random 3 x 3 matrix, whose entries are +-a_ij or 0, was off by 1500 ulps
    through reverse's jacobian of its gradient; the third derivative of
    ``det(A + t V)``, 6 det(V), by 1e-11).  On an engine's value the same
    products are formed by the engine (a second derivative of det).

    >>> import numpy as np
    >>> small_cofactors(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[ 4., -3.],
           [-2.,  1.]])
    """
    n = _shape(a)[-1]
    if n == 1:
        return a * 0.0 + 1.0
    if n == 2:
        sign = np.array([[1.0, -1.0], [-1.0, 1.0]], dtype=_dtype(a))
        return a[..., _SWAP2, :][..., :, _SWAP2] * sign
    nr = a[..., _NEXT, :]
    ar = a[..., _AFTER, :]
    return nr[..., :, _NEXT] * ar[..., :, _AFTER] - nr[..., :, _AFTER] * ar[..., :, _NEXT]


# --- norm ---------------------------------------------------------------------


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """``np.linalg.norm`` for every ``ord``/``axis`` numpy accepts.

    ``ord=0`` (the count of nonzero entries) is piecewise constant: a plain
    value.  Matrix 2-norms and the nuclear norm go through singular values.

    Examples
    --------
    >>> import numpy as np
    >>> float(norm(np.eye(2), "nuc"))
    2.0
    """
    nd = len(_shape(x))
    if axis is None:
        if ord is None:
            y = _two_norm(x, None, False)
            return np.reshape(y, (1,) * nd) if keepdims else y
        if nd == 1:
            axis = (0,)
        elif nd == 2:
            axis = (0, 1)
        else:
            raise ValueError("Improper number of dimensions to norm.")
    elif isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    else:
        axis = tuple(int(ax) for ax in axis)
    for ax in axis:
        if not -nd <= ax < nd:
            raise np.exceptions.AxisError(ax, nd)
    axis = tuple(ax % nd for ax in axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) != 2:
        raise ValueError("Improper number of dimensions to norm.")
    if axis[0] == axis[1]:
        raise ValueError("Duplicate axes given.")
    return _matrix_norm(x, ord, axis, keepdims)


#: engine name -> its rule for a 2-norm whose sum of squares under/overflows:
#: ``rule(x, axis, keepdims, scale)`` returns the norm or None (use the composition).
#: hyperdual registers one (the composition's Hessian overflows there).
SCALED_TWO_NORM: dict[str, Any] = {}


#: engine name -> ``rule(x, largest)``: the largest (smallest) singular value of a stack of
#: matrices, whose second derivative needs only that value to be simple (the values'
#: ``svd(compute_uv=False)`` forms every vector's tangent, so repeated zero singular
#: values of a rank-one matrix refused the Hessian of its spectral norm); None: use
#: ``max(svd(x, compute_uv=False))``.  hyperdual registers one; reverse mode needs
#: none (its backward pass sees which vectors the cotangent reaches).
EXTREME_SINGULAR_VALUE: dict[str, Any] = {}


def _two_norm(x: Any, ax: Any, keepdims: bool) -> Any:
    """sqrt(sum(x * x)), the constant 0 where a reduced slice is all zeros.

    JAX's safe-norm convention, the same in both engines: at the zero vector the
    gradient is 0 (as abs'(0) = 0) and so is every higher derivative, never nan.
    """
    v = value(x)
    shape = _shape(x)
    if 0 in (shape if ax is None else [shape[a] for a in (ax if isinstance(ax, tuple)
                                                           else (ax,))]):
        # an empty slice: its norm is the empty sum 0 (no sqrt of 0 and its nan slope)
        return np.sum(x * x, axis=ax, keepdims=keepdims)
    lazy = is_foreign_array(v)  # dask: no np.asarray and no np.any (both compute)
    zero = np.all((v if lazy else np.asarray(v)) == 0, axis=ax, keepdims=True)
    if not lazy:
        scale = _norm_scale(np.asarray(v), ax)
        rule = SCALED_TWO_NORM.get(engine_name(x))
        if rule is not None:  # an engine's closed-form derivatives, all in range
            # (also in range: the composition's Hessian 1/n - x_k^2/n^3 cancels to 0
            # where x_k carries nearly all the norm, e.g. norm([1e-9, 1]))
            a = np.asarray(v)
            one = np.ones_like(np.sum(a, axis=ax, keepdims=True),
                               dtype=a.dtype if a.dtype.kind == "f" else np.float64)
            y = rule(x, ax, keepdims, scale if scale is not None else one)
            if y is not None:
                return y
        if scale is not None:  # x * x under/overflows: sqrt(sum((x/s)^2)) s, s = 2^k
            return _two_norm(x / scale, ax, keepdims) * np.reshape(
                scale, np.shape(scale) if keepdims else
                np.shape(np.sum(np.asarray(v), axis=ax)))
    if not lazy and not np.any(zero):
        return np.sqrt(np.sum(x * x, axis=ax, keepdims=keepdims))
    safe = np.where(zero, 1.0, x)
    y = np.sqrt(np.sum(safe * safe, axis=ax, keepdims=True))
    y = np.where(zero, 0.0, y)
    if not keepdims:  # (the shape of a lazy sum is known without computing it)
        y = np.reshape(y, np.shape(np.sum(v if lazy else np.asarray(value(x)), axis=ax)))
    return y


def _norm_scale(v: np.ndarray, ax: Any) -> Any:
    """Powers of two (constants, keepdims shape) that bring the largest entry of each
    reduced slice near 1 where the sum of squares would under- or overflow (the
    gradient x / norm was inf at 1e-300, the Hessian nan at 1e300); None if no slice
    needs it.  Multiplying by a power of two is exact."""
    if v.dtype.kind != "f" or v.size == 0:
        return None
    with np.errstate(all="ignore"):
        m = np.max(np.abs(v), axis=ax, keepdims=True)
    lo, hi = (1e-140, 1e140) if v.dtype.itemsize >= 8 else (1e-15, 1e15)
    bad = (m != 0) & np.isfinite(m) & ((m < lo) | (m > hi))
    if not np.any(bad):
        return None
    k = np.where(bad, np.frexp(np.where(bad, m, 1.0))[1], 0)
    return np.ldexp(np.ones_like(m), k)


def _empty_max_is_zero() -> bool:
    """Whether this numpy's norms give 0 for an empty slice (numpy >= 2.3 takes their
    maximum with ``initial=0``; 1.x to 2.2 raise numpy's own ValueError)."""
    try:
        return float(np.linalg.norm(np.zeros(0), np.inf)) == 0.0
    except ValueError:
        return False


#: The maximum of the norms as the installed numpy takes it: the same value, or the
#: same error, for an empty slice on every numpy (a version test is not enough: the
#: change came in a 2.x minor release).
_MAX_INITIAL: dict[str, Any] = {"initial": 0.0} if _empty_max_is_zero() else {}


def _vector_norm(x: Any, ord: Any, ax: Any, keepdims: bool) -> Any:  # noqa: A002
    if ord is None or ord == 2:
        return _two_norm(x, ax, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord == np.inf:  # numpy 2 gives 0 for an empty slice (initial=0), numpy 1 raises
        return np.max(np.abs(x), axis=ax, keepdims=keepdims, **_MAX_INITIAL)
    if ord == -np.inf:
        return np.min(np.abs(x), axis=ax, keepdims=keepdims)
    if ord == 0:  # the number of nonzero entries: piecewise constant
        return np.sum(np.asarray(value(x)) != 0, axis=ax, keepdims=keepdims).astype(_dtype(x))
    if ord == 1:
        return np.sum(np.abs(x), axis=ax, keepdims=keepdims)
    return _p_norm(x, float(ord), ax, keepdims)


def _p_norm(x: Any, p: float, ax: Any, keepdims: bool) -> Any:
    """sum(|x|**p)**(1/p), the constant 0 where the norm of a slice is 0.

    The safe-norm convention of :func:`_two_norm` for every other ``ord``: where a
    slice's norm is 0 (all entries 0, or for p < 0 any entry 0) its derivatives are
    0, never nan.  The composition formed 0 * inf there: (s**(1/p))' is infinite
    at s = 0 for p > 1 (nan in both engines for p = 3), and for p < 1 |x|**p has an
    infinite slope at 0 (nan in hyperdual, 0 in reverse for p = 0.5, -1, -2).
    """
    v = value(x)
    lazy = is_foreign_array(v)
    vv = v if lazy else np.asarray(v)
    if 0 in np.shape(vv):
        return np.sum(np.abs(x) ** p, axis=ax, keepdims=keepdims) ** (1.0 / p)
    zero = (np.all(vv == 0, axis=ax, keepdims=True) if p > 0
            else np.any(vv == 0, axis=ax, keepdims=True))
    if not lazy and not np.any(zero):
        return np.sum(np.abs(x) ** p, axis=ax, keepdims=keepdims) ** (1.0 / p)
    safe = np.where(zero, 1.0, x)
    y = np.where(zero, 0.0, np.sum(np.abs(safe) ** p, axis=ax, keepdims=True) ** (1.0 / p))
    if not keepdims:
        y = np.reshape(y, np.shape(np.sum(vv, axis=ax)))
    return y


def _keep_axes(y: Any, axis: Any) -> Any:
    """``y`` with the reduced ``axis`` put back as length-1 axes (keepdims=True)."""
    shape = list(_shape(y))
    for ax in sorted(axis):
        shape.insert(ax, 1)
    return np.reshape(y, tuple(shape))


def _matrix_norm(x: Any, ord: Any, axis: tuple[int, int], keepdims: bool) -> Any:  # noqa: A002
    r, c = axis
    nd = len(_shape(x))
    if ord is None or ord == "fro":  # the 2-norm of the entries, scaled as for vectors
        return _two_norm(x, axis, keepdims)
    if ord in ("nuc", 2, -2):
        rest = [i for i in range(nd) if i not in axis]
        xt = np.transpose(x, rest + [r, c])
        v = np.asarray(value(xt)) if not is_foreign_array(value(xt)) else None
        lazy = plain_lazy(xt)
        if lazy is not None and lazy.size:
            # lazy data cannot be asked whether a matrix is zero: the stand-in below is
            # swapped in by the lazy mask (nothing changes where no matrix is zero)
            zero = np.all(lazy == 0, axis=(-2, -1))
            m, n = lazy.shape[-2:]
            stand_in = np.eye(m, n, dtype=_float(lazy)) * np.arange(1.0, n + 1.0)
            xt = np.where(zero[..., None, None], stand_in, xt)
            y = _singular_norm(xt, ord, x)
            y = np.where(zero, 0.0, y)
            return _keep_axes(y, axis) if keepdims else y
        if v is not None and v.size and np.any(zero := np.all(v == 0, axis=(-2, -1))):
            # the safe-norm convention (see _two_norm) for the singular values: a zero
            # matrix's norm is the constant 0 with derivatives 0 (its singular vectors
            # are arbitrary: hyperdual gave svd's I / 6 for norm(zeros((3, 3)), 2),
            # reverse raised for a non-square one).  The zero matrices are swapped for
            # one with distinct nonzero singular values, whose result is discarded.
            m, n = v.shape[-2:]
            stand_in = np.zeros((m, n), dtype=v.dtype)
            k = np.arange(min(m, n))
            stand_in[k, k] = k + 1.0
            xt = np.where(zero[..., None, None], stand_in, xt)
            y = _matrix_norm(xt, ord, (nd - 2, nd - 1), False)
            y = np.where(zero, 0.0, y)
            return _keep_axes(y, axis) if keepdims else y
        y = _singular_norm(xt, ord, x)
        return _keep_axes(y, axis) if keepdims else y
    if ord in (1, -1):
        col = np.sum(np.abs(x), axis=r, keepdims=True)
        y = np.max(col, axis=c, keepdims=True, **_MAX_INITIAL) if ord == 1 else \
            np.min(col, axis=c, keepdims=True)
    elif ord in (np.inf, -np.inf):
        row = np.sum(np.abs(x), axis=c, keepdims=True)
        y = np.max(row, axis=r, keepdims=True, **_MAX_INITIAL) if ord == np.inf else \
            np.min(row, axis=r, keepdims=True)
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        return y
    return np.reshape(y, tuple(s for i, s in enumerate(_shape(y)) if i not in axis))


def _singular_norm(xt: Any, ord: Any, x: Any) -> Any:  # noqa: A002
    """The nuclear norm or the largest/smallest singular value of the matrices on the
    last two axes of ``xt`` (``x``: the operand, naming the engine)."""
    rule = EXTREME_SINGULAR_VALUE.get(engine_name(x)) if ord != "nuc" else None
    y = None if rule is None else rule(xt, ord == 2)
    if y is None:
        s = np.linalg.svd(xt, compute_uv=False)
        # (dask's max takes no initial=; its matrices are never empty here)
        kw = {} if plain_lazy(s) is not None else _MAX_INITIAL
        y = np.sum(s, axis=-1) if ord == "nuc" else (
            np.max(s, axis=-1, **kw) if ord == 2 else np.min(s, axis=-1))
    return y


def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:  # noqa: A002
    """``np.linalg.matrix_norm``: the norm over the last two axes."""
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> Any:  # noqa: A002
    """``np.linalg.vector_norm``: a vector norm over ``axis`` (all axes by default)."""
    shape = _shape(x)
    if axis is None:
        y = _vector_norm(np.reshape(x, (-1,)), ord, 0, False)
        return np.reshape(y, (1,) * len(shape)) if keepdims else y
    if isinstance(axis, tuple) and len(axis) != 1:
        nd = len(shape)
        axes = tuple(a % nd for a in axis)
        rest = [i for i in range(nd) if i not in axes]
        moved = np.transpose(x, rest + list(axes))
        flat = np.reshape(moved, tuple(shape[i] for i in rest) + (-1,))
        y = _vector_norm(flat, ord, -1, False)
        if keepdims:
            y = np.reshape(y, tuple(1 if i in axes else s for i, s in enumerate(shape)))
        return y
    ax = axis[0] if isinstance(axis, tuple) else axis
    return _vector_norm(x, ord, ax, keepdims)


# --- products and powers ------------------------------------------------------


def matrix_power(a: Any, n: int) -> Any:
    """``np.linalg.matrix_power`` by repeated squaring (``inv`` first for n < 0)."""
    _square(a)
    if not isinstance(n, (int, np.integer)):
        raise TypeError("exponent must be an integer")
    if n == 0:
        s = _shape(a)
        return np.broadcast_to(np.eye(s[-1], dtype=_dtype(a)), s).copy()
    if n < 0:
        a, n = np.linalg.inv(a), -n
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else np.matmul(result, base)
        n >>= 1
        if n:
            base = np.matmul(base, base)
    return result


def multi_dot(arrays: Any, *, out: Any = None) -> Any:
    """``np.linalg.multi_dot``: the chain in numpy's cheapest order (same shapes)."""
    if out is not None:
        raise TypeError("numpy.linalg.multi_dot with out= is not supported for derivatives")
    arrays = list(arrays)
    n = len(arrays)
    if n < 2:
        raise ValueError("Expecting at least two arrays.")
    first, last = len(_shape(arrays[0])), len(_shape(arrays[-1]))
    if first == 1:
        arrays[0] = np.reshape(arrays[0], (1, -1))
    if last == 1:
        arrays[-1] = np.reshape(arrays[-1], (-1, 1))
    dims = [_shape(x) for x in arrays]
    for d in dims:
        if len(d) != 2:
            raise np.linalg.LinAlgError(  # numpy's type (a ValueError too)
                f"{len(d)}-dimensional array given. Array must be two-dimensional")
    sizes = [d[0] for d in dims] + [dims[-1][1]]
    # cost[i][j]: cheapest product of arrays i..j; split[i][j]: where to split it
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def build(i: int, j: int) -> Any:
        if i == j:
            return arrays[i]
        k = split[i][j]
        return np.matmul(build(i, k), build(k + 1, j))

    res = build(0, n - 1)
    if first == 1 and last == 1:
        return res[0, 0]
    if first == 1:
        return res[0]
    if last == 1:
        return res[:, 0]
    return res


def linalg_matmul(x1: Any, x2: Any, /) -> Any:
    """``np.linalg.matmul``."""
    return np.matmul(x1, x2)


def linalg_outer(x1: Any, x2: Any, /) -> Any:
    """``np.linalg.outer`` (1-d operands)."""
    if len(_shape(x1)) != 1 or len(_shape(x2)) != 1:
        raise ValueError("Input arrays must be one-dimensional")
    return np.reshape(x1, (-1, 1)) * np.reshape(x2, (1, -1))


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """``np.linalg.vecdot``: ``sum(conj(x1) * x2)`` along ``axis`` (numpy's ``np.vecdot``)."""
    return gufunc("vecdot", (x1, x2), {} if axis == -1 else {"axis": axis})


def linalg_cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """``np.linalg.cross``: ``np.cross`` of 3-vectors only (the array API's)."""
    na, nb = (_shape(x)[axis] if _shape(x) else 0 for x in (x1, x2))
    if na != 3 or nb != 3:
        raise ValueError("Both input arrays must be (arrays of) 3-dimensional vectors, "
                         f"but they are {na} and {nb} dimensional instead.")
    return np.cross(x1, x2, axis=axis)


def linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """``np.linalg.trace``: the trace of the last two axes (``dtype=`` as ``np.trace``'s:
    a float dtype casts, another raises; it was ignored, so ``dtype=int`` gave the
    derivative of the float trace)."""
    return np.trace(x, offset, -2, -1, dtype=dtype)


def linalg_diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """``np.linalg.diagonal``: the diagonal of the last two axes."""
    return np.diagonal(x, offset, -2, -1)


def svdvals(x: Any, /) -> Any:
    """``np.linalg.svdvals``: the singular values."""
    return np.linalg.svd(x, compute_uv=False)


def cond(x: Any, p: Any = None) -> Any:
    """``np.linalg.cond``: ``s_max / s_min`` (p None, 2, -2) or ``norm(x) norm(inv(x))``."""
    if math.prod(_shape(x)[-2:]) == 0:
        raise np.linalg.LinAlgError("cond is not defined on empty arrays")  # numpy's error
    if p is None or p in (2, -2):
        s = np.linalg.svd(x, compute_uv=False)
        hi, lo = np.max(s, axis=-1), np.min(s, axis=-1)
        return lo / hi if p == -2 else hi / lo
    _square(x)
    return norm(x, p, axis=(-2, -1)) * norm(np.linalg.inv(x), p, axis=(-2, -1))


def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *, rtol: Any = None) -> Any:
    """``np.linalg.matrix_rank`` of the value (an integer: no derivative)."""
    kw = {} if rtol is None else {"rtol": value(rtol)}
    return np.linalg.matrix_rank(np.asarray(value(A)), None if tol is None else value(tol),
                                 hermitian, **kw)


def tensorinv(a: Any, ind: int = 2) -> Any:
    """``np.linalg.tensorinv`` through ``inv`` of the reshaped matrix."""
    shape = _shape(a)
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    out_shape = shape[ind:] + shape[:ind]
    rows = math.prod(shape[ind:])  # numpy's reshape(prod(shape[ind:]), -1), so its errors
    if rows == 0:
        raise ValueError(f"cannot reshape array of size {math.prod(shape)} into shape "
                         "(0,newaxis)")
    return np.reshape(np.linalg.inv(np.reshape(a, (rows, math.prod(shape) // rows))),
                      out_shape)


def tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    """``np.linalg.tensorsolve`` through ``solve`` of the reshaped system."""
    nd = len(_shape(a))
    if axes is not None:
        allaxes = list(range(nd))
        for k in axes:
            allaxes.remove(k)
            allaxes.insert(nd, k)
        a = np.transpose(a, allaxes)
    shape = _shape(a)
    old = shape[-(nd - len(_shape(b))):]
    prod = math.prod(old)
    if math.prod(shape[:len(_shape(b))]) != prod:
        raise np.linalg.LinAlgError("Input arrays must satisfy the requirement "
                                    "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim])")
    x = np.linalg.solve(np.reshape(a, (prod, prod)), np.reshape(b, (prod,)))
    return np.reshape(x, old)


def lstsq(a: Any, b: Any, rcond: Any = None) -> Any:
    """``np.linalg.lstsq`` through ``pinv`` (differentiated at constant rank).

    Returns ``(x, residuals, rank, s)`` as numpy does; ``rank`` is an int.  On lazy
    (dask) data ``rank`` is a lazy 0-d integer array, as dask's own ``lstsq`` gives,
    and a tall ``a`` gets its residuals whatever its rank (numpy gives an empty
    array below full rank, which lazy data cannot be asked for), as dask's does.
    """
    for arr, extra in ((a, 0), (b, 1 if len(_shape(b)) == 1 else 0)):
        if len(_shape(arr)) + extra != 2:  # numpy's check and error (no stacks)
            raise np.linalg.LinAlgError(f"{len(_shape(arr)) + extra}-dimensional array "
                                        "given. Array must be two-dimensional")
    m, n = _shape(a)[-2:]
    cutoff = np.finfo(_dtype(a)).eps * max(m, n) if rcond is None else rcond
    x = np.matmul(np.linalg.pinv(a, rcond=cutoff), b)
    s = np.linalg.svd(a, compute_uv=False)
    lazy = plain_lazy(s)
    if lazy is not None:
        rank = np.sum(lazy > cutoff * lazy[0]) if lazy.size else 0
        full = m > n
    else:
        sv = np.asarray(value(s))
        rank = int(np.sum(sv > cutoff * sv[0])) if sv.size else 0
        full = rank == n and m > n
    if full:
        r = b - np.matmul(a, x)
        resid = np.sum(r * r, axis=0)
        if len(_shape(resid)) == 0:
            resid = np.reshape(resid, (1,))
    else:
        resid = np.zeros((0,), dtype=_dtype(a))
    return x, resid, rank, s


#: numpy function -> engine-neutral implementation (both engines register these).
FUNCTIONS: dict[Any, Any] = {
    np.linalg.norm: norm,
    np.linalg.matrix_power: matrix_power,
    np.linalg.multi_dot: multi_dot,
    np.linalg.lstsq: lstsq,
}
for _name, _impl in (("matrix_norm", matrix_norm), ("vector_norm", vector_norm),
                     ("matmul", linalg_matmul), ("outer", linalg_outer), ("vecdot", vecdot),
                     ("matrix_transpose", matrix_transpose), ("cross", linalg_cross),
                     ("trace", linalg_trace),
                     ("diagonal", linalg_diagonal), ("svdvals", svdvals), ("cond", cond),
                     ("matrix_rank", matrix_rank), ("tensorinv", tensorinv),
                     ("tensorsolve", tensorsolve)):
    _f = getattr(np.linalg, _name, None)
    if _f is not None and _f not in (np.matmul, np.outer, np.trace, np.diagonal):
        FUNCTIONS[_f] = _impl  # (numpy < 2 lacks the array-API names)
