"""scipy.linalg's dense solvers and decompositions, written with numpy.linalg for both
engines.

``scipy.linalg.solve``, ``inv``, ``det``, ``cholesky``, ``eigh``, ``eigvalsh``,
``svd``, ``svdvals``, ``pinv``, ``lstsq``, ``norm`` and ``block_diag`` convert their
input with ``np.asarray``, which no dispatch protocol reaches.  Each function here has
scipy's name, signature and conventions and is, on engine values, the numpy
computation of the same result, so the engines' numpy rules differentiate it (every
order, every nesting): ``cholesky`` returns the upper factor by default and reads the
upper triangle; ``eigh`` reads the triangle ``lower`` names and solves the generalized
problem by a Cholesky reduction; ``solve`` honours ``assume_a``, ``lower`` and
``transposed``.  Eigenvectors and singular vectors are multiplied by the constant
signs that make them scipy's (their sign is arbitrary; the constant keeps their
derivative).  Plain arrays go to scipy itself.  ``hyperdual.linalg`` and
``reverse.linalg`` export these functions.

Examples
--------
>>> import numpy as np
>>> import hyperdual
>>> a = np.array([[4.0, 1.0], [1.0, 3.0]])
>>> g = hyperdual.gradient(lambda x: solve(a * x[0], np.ones(2))[0], np.array([1.0]))
>>> bool(np.isclose(g[0], -np.linalg.solve(a, np.ones(2))[0]))  # x(t) = x(1) / t
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as _sl

from ._common import is_traced, value

__all__ = ["block_diag", "cholesky", "circulant", "det", "eigh", "eigvalsh", "hankel", "inv",
           "lstsq", "lu", "norm", "pinv", "polar", "qr", "solve", "solve_banded", "svd",
           "svdvals", "toeplitz"]

_EPS = float(np.finfo(np.float64).eps)

#: scipy's assume_a values that these functions differentiate: general, or symmetric
#: from one triangle (a positive definite matrix is checked for it, as scipy does)
_GENERAL = (None, "gen", "general")
_SYMMETRIC = ("sym", "symmetric", "her", "hermitian")
_POSITIVE = ("pos", "positive definite")


def _traced(*xs: Any) -> bool:
    return any(is_traced(x) for x in xs)


def _swap(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _from_triangle(a: Any, lower: bool) -> Any:
    """The symmetric matrix that ``a``'s lower (upper) triangle and diagonal define."""
    if lower:
        return np.tril(a) + _swap(np.tril(a, -1))
    return np.triu(a) + _swap(np.triu(a, 1))


def _square(a: Any, who: str) -> None:
    s = np.shape(value(a))
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"scipy.linalg.{who} stand-in: expected square matrices (..., n, n), "
                         f"got shape {s}")


def _assumed(a: Any, assume_a: Any, lower: bool, who: str) -> Any:
    """``a`` as scipy's solver reads it under ``assume_a``."""
    if assume_a in _GENERAL:
        return a
    if assume_a in _SYMMETRIC or assume_a in _POSITIVE:
        sym = _from_triangle(a, lower)
        if assume_a in _POSITIVE:
            np.linalg.cholesky(np.asarray(value(sym)))  # LinAlgError, as scipy raises
        return sym
    raise ValueError(f"scipy.linalg.{who} stand-in: assume_a={assume_a!r} is not supported on "
                     "differentiated values (use 'gen', 'sym' or 'pos', or np.linalg)")


def solve(a: Any, b: Any, lower: bool = False, overwrite_a: bool = False,
          overwrite_b: bool = False, check_finite: bool = True, assume_a: Any = None,
          transposed: bool = False) -> Any:
    """``scipy.linalg.solve``: ``x`` with ``a @ x = b`` (``a.T @ x = b`` if transposed).

    ``assume_a`` ``'sym'``/``'her'``/``'pos'`` read only the triangle ``lower`` names
    (the other entries get no derivative), as scipy does; the other structured kinds
    ('banded', 'diagonal' ...) raise ``ValueError`` on differentiated values.


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (..., n, n)
    b : array_like, Dual or Variable, shape (n,), (n, k) or (..., n, k)
    lower, assume_a, transposed
        As scipy's: the triangle read for 'sym'/'her'/'pos', the structure assumed,
        and whether ``a.T`` is solved with.
    overwrite_a, overwrite_b, check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        ``x``, shaped as ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> a = Variable(np.array([[2.0, 0.0], [0.0, 4.0]]))
    >>> np.sum(solve(a, np.ones(2))).backward()
    >>> a.grad.data
    array([[-0.25  , -0.    ],
           [-0.    , -0.0625]])
    """
    if not _traced(a, b):
        kw = {} if assume_a is None else {"assume_a": assume_a}
        return _sl.solve(a, b, lower=lower, overwrite_a=overwrite_a, overwrite_b=overwrite_b,
                         check_finite=check_finite, transposed=transposed, **kw)
    _square(a, "solve")
    m = _assumed(a, assume_a, lower, "solve")
    if transposed:
        m = _swap(m)
    nb, na = np.ndim(value(b)), np.ndim(value(a))
    if na > 2 and nb != na:
        raise ValueError("scipy.linalg.solve stand-in: for a stack of matrices pass b with "
                         "shape (..., n, k)")
    return np.linalg.solve(m, b)


def inv(a: Any, overwrite_a: bool = False, check_finite: bool = True, *,
        assume_a: Any = None, lower: bool = False) -> Any:
    """``scipy.linalg.inv`` (``assume_a``, ``lower`` as in :func:`solve`).


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (..., n, n)
    overwrite_a, check_finite
        scipy's; no effect on differentiated values.
    assume_a, lower
        As in :func:`solve`.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        The inverse, shape of ``a``.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> float(hyperdual.derivative(lambda t: inv(np.eye(2) * t)[0, 0], 2.0))  # -1/t^2
    -0.25
    """
    if not _traced(a):
        kw = {} if assume_a is None and not lower else {"assume_a": assume_a, "lower": lower}
        return _sl.inv(a, overwrite_a=overwrite_a, check_finite=check_finite, **kw)
    _square(a, "inv")
    return np.linalg.inv(_assumed(a, assume_a, lower, "inv"))


def det(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.det``.


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (..., n, n)
    overwrite_a, check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    float, numpy.ndarray, Dual or Variable
        The determinant(s).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> float(hyperdual.derivative(lambda t: det(np.eye(3) * t), 2.0))  # 3 t^2
    12.0
    """
    if not _traced(a):
        return _sl.det(a, overwrite_a=overwrite_a, check_finite=check_finite)
    _square(a, "det")
    return np.linalg.det(a)


def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False,
             check_finite: bool = True) -> Any:
    """``scipy.linalg.cholesky``: the upper factor ``U`` (``a = U.T @ U``) read from the
    upper triangle, or with ``lower=True`` the lower factor from the lower triangle.


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (..., n, n)
        Symmetric positive definite (one triangle read).
    lower : bool
        Return the lower factor (read from the lower triangle) instead of the upper.
    overwrite_a, check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        ``U`` with ``a = U.T @ U`` (``L`` with ``a = L @ L.T`` if ``lower``).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> float(hyperdual.derivative(lambda t: cholesky(np.eye(2) * t)[1, 1], 4.0))  # 1/(2 sqrt t)
    0.25
    """
    if not _traced(a):
        return _sl.cholesky(a, lower=lower, overwrite_a=overwrite_a, check_finite=check_finite)
    _square(a, "cholesky")
    if lower:
        return np.linalg.cholesky(a)
    # (numpy reads the lower triangle: the upper one of a is the lower one of a.T)
    return _swap(np.linalg.cholesky(_swap(a)))


def _signed_like(v: Any, ref: np.ndarray) -> tuple[Any, np.ndarray]:
    """``v`` with each column (axis -2 summed) multiplied by the sign that makes it
    point as ``ref``'s; the signs."""
    s = np.sign(np.sum(np.asarray(value(v)) * ref, axis=-2, keepdims=True))
    s = np.where(s == 0, 1.0, s)
    return v * s, s


def _eigh_parts(a: Any, b: Any, lower: bool, vectors: bool) -> Any:
    sym = _from_triangle(a, lower)
    if b is None:
        if not vectors:
            return np.linalg.eigvalsh(sym)
        return np.linalg.eigh(sym)
    _square(b, "eigh")
    # A v = w B v with B = L L^T: C = L^-1 A L^-T has the eigenvalues w and the
    # eigenvectors L^T v (B-orthonormal v, as scipy normalises them)
    chol = np.linalg.cholesky(b if lower else _swap(b))
    c = np.linalg.solve(chol, _swap(np.linalg.solve(chol, sym)))
    c = (c + _swap(c)) / 2  # (symmetric to rounding: both triangles carry the derivative)
    if not vectors:
        return np.linalg.eigvalsh(c)
    w, u = np.linalg.eigh(c)
    return w, np.linalg.solve(_swap(chol), u)


def _subset(x: Any, subset_by_index: Any) -> Any:
    if subset_by_index is None:
        return x
    lo, hi = (int(i) for i in subset_by_index)
    return x[..., lo:hi + 1]


def _eigh_checks(b: Any, type: int, subset_by_value: Any, who: str) -> None:  # noqa: A002
    if type != 1 and b is not None:
        raise ValueError(f"scipy.linalg.{who} stand-in: only type=1 (A v = w B v) is "
                         "supported on differentiated values")
    if subset_by_value is not None:
        raise ValueError(f"scipy.linalg.{who} stand-in: subset_by_value is not supported on "
                         "differentiated values (use subset_by_index)")


def eigh(a: Any, b: Any = None, *, lower: bool = True, eigvals_only: bool = False,
         overwrite_a: bool = False, overwrite_b: bool = False, type: int = 1,  # noqa: A002
         check_finite: bool = True, subset_by_index: Any = None, subset_by_value: Any = None,
         driver: Any = None) -> Any:
    """``scipy.linalg.eigh``: eigenvalues (ascending) and eigenvectors of a symmetric
    matrix read from one triangle, or of the generalized problem ``a v = w b v``.

    Differentiated as ``np.linalg.eigh`` is (distinct eigenvalues for the vectors).


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (..., n, n)
        Symmetric (the triangle ``lower`` names is read).
    b : array_like, Dual or Variable, shape (n, n), optional
        Symmetric positive definite: the generalized problem ``a v = w b v``.
    lower, eigvals_only, subset_by_index
        As scipy's.
    type, subset_by_value, driver
        scipy's; on differentiated values only ``type=1``, no ``subset_by_value``.
    overwrite_a, overwrite_b, check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    w : numpy.ndarray, Dual or Variable
        The eigenvalues, ascending.
    v : numpy.ndarray, Dual or Variable
        The eigenvectors as columns (not with ``eigvals_only``).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> a = np.diag([1.0, 3.0])
    >>> float(hyperdual.derivative(lambda t: eigh(a * t, eigvals_only=True)[1], 1.0))
    3.0
    """
    if not _traced(a, b):
        return _sl.eigh(a, b, lower=lower, eigvals_only=eigvals_only, overwrite_a=overwrite_a,
                        overwrite_b=overwrite_b, type=type, check_finite=check_finite,
                        subset_by_index=subset_by_index, subset_by_value=subset_by_value,
                        driver=driver)
    _square(a, "eigh")
    _eigh_checks(b, type, subset_by_value, "eigh")
    if eigvals_only:
        return _subset(_eigh_parts(a, b, lower, False), subset_by_index)
    w, v = _eigh_parts(a, b, lower, True)
    ref = _sl.eigh(np.asarray(value(a)), None if b is None else np.asarray(value(b)),
                   lower=lower, driver=driver)[1]
    v, _ = _signed_like(v, ref)
    if subset_by_index is not None:
        return _subset(w, subset_by_index), _subset(v, subset_by_index)
    return w, v


def eigvalsh(a: Any, b: Any = None, *, lower: bool = True, overwrite_a: bool = False,
             overwrite_b: bool = False, type: int = 1, check_finite: bool = True,  # noqa: A002
             subset_by_index: Any = None, subset_by_value: Any = None,
             driver: Any = None) -> Any:
    """``scipy.linalg.eigvalsh``: the eigenvalues of :func:`eigh`.


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (..., n, n)
    b : array_like, Dual or Variable, shape (n, n), optional
    lower, subset_by_index, type, subset_by_value, driver
        As in :func:`eigh`.
    overwrite_a, overwrite_b, check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        The eigenvalues, ascending.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> b = np.diag([2.0, 1.0])
    >>> float(hyperdual.derivative(lambda t: eigvalsh(np.eye(2) * t, b)[1], 1.0))  # 1/1
    1.0
    """
    if not _traced(a, b):
        return _sl.eigvalsh(a, b, lower=lower, overwrite_a=overwrite_a,
                            overwrite_b=overwrite_b, type=type, check_finite=check_finite,
                            subset_by_index=subset_by_index, subset_by_value=subset_by_value,
                            driver=driver)
    _square(a, "eigvalsh")
    _eigh_checks(b, type, subset_by_value, "eigvalsh")
    return _subset(_eigh_parts(a, b, lower, False), subset_by_index)


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        overwrite_a: bool = False, check_finite: bool = True,
        lapack_driver: str = "gesdd") -> Any:
    """``scipy.linalg.svd`` (``full_matrices=True`` by default, as scipy: a non-square
    matrix then has extra singular vectors without a derivative, and the engines say
    so; pass ``full_matrices=False``).


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (..., m, n)
    full_matrices, compute_uv
        As scipy's.
    lapack_driver
        scipy's (the signs of the singular vectors follow its result).
    overwrite_a, check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    u, s, vh : numpy.ndarray, Dual or Variable
        ``a = u @ diag(s) @ vh`` (``s`` alone without ``compute_uv``).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> float(hyperdual.derivative(lambda t: svd(np.diag([1.0, 2.0]) * t)[1][0], 1.0))
    2.0
    """
    if not _traced(a):
        return _sl.svd(a, full_matrices=full_matrices, compute_uv=compute_uv,
                       overwrite_a=overwrite_a, check_finite=check_finite,
                       lapack_driver=lapack_driver)
    if not compute_uv:
        return np.linalg.svd(a, compute_uv=False)
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    ref = _sl.svd(np.asarray(value(a)), full_matrices=full_matrices,
                  lapack_driver=lapack_driver)[0]
    u, signs = _signed_like(u, ref)
    k = np.shape(value(s))[-1]
    rows = _swap(signs[..., :k])  # (the signs of the first k columns, as rows of vh)
    if np.shape(value(vh))[-2] > k:
        rows = np.concatenate([rows, np.ones(np.shape(rows)[:-2] + (
            np.shape(value(vh))[-2] - k, 1))], axis=-2)
    return u, s, vh * rows


def svdvals(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.svdvals``: the singular values, descending.


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (..., m, n)
    overwrite_a, check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        The singular values, descending.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> float(hyperdual.derivative(lambda t: svdvals(np.diag([1.0, -2.0]) * t)[0], 1.0))
    2.0
    """
    if not _traced(a):
        return _sl.svdvals(a, overwrite_a=overwrite_a, check_finite=check_finite)
    return np.linalg.svd(a, compute_uv=False)


def pinv(a: Any, *, atol: Any = None, rtol: Any = None, return_rank: bool = False,
         check_finite: bool = True) -> Any:
    """``scipy.linalg.pinv``: singular values up to ``max(atol, rtol * largest)`` count
    as zero (``rtol`` defaults to ``max(m, n) * eps``); differentiated at that rank.


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (..., m, n)
    atol, rtol
        The cutoff ``max(atol, rtol * largest singular value)``.
    return_rank : bool
        Also return the rank.
    check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        The pseudo-inverse, shape (..., n, m) (and the rank with ``return_rank``).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> float(hyperdual.derivative(lambda t: pinv(np.diag([2.0, 0.0]) * t)[0, 0], 1.0))
    -0.5
    """
    if not _traced(a):
        return _sl.pinv(a, atol=atol, rtol=rtol, return_rank=return_rank,
                        check_finite=check_finite)
    s = np.linalg.svd(np.asarray(value(a)), compute_uv=False)
    m, n = np.shape(value(a))[-2:]
    top = np.max(s, axis=-1, initial=0.0)
    cut = np.maximum(0.0 if atol is None else atol,
                     (max(m, n) * _EPS if rtol is None else rtol) * top)
    with np.errstate(divide="ignore", invalid="ignore"):
        rcond = np.where(top > 0, cut / np.where(top > 0, top, 1.0), 0.0)
    out = np.linalg.pinv(a, rcond=rcond)
    if return_rank:
        return out, np.sum(s > cut[..., None] if np.ndim(cut) else s > cut, axis=-1)
    return out


def lstsq(a: Any, b: Any, cond: Any = None, overwrite_a: bool = False,
          overwrite_b: bool = False, check_finite: bool = True,
          lapack_driver: Any = None) -> Any:
    """``scipy.linalg.lstsq``: ``(x, residues, rank, s)``; singular values below
    ``cond * largest`` count as zero (``cond`` defaults to eps, as LAPACK's); ``x`` and
    ``residues`` are differentiated at that rank.


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (m, n)
    b : array_like, Dual or Variable, shape (m,) or (m, k)
    cond : float, optional
        Relative cutoff of the singular values.
    overwrite_a, overwrite_b, check_finite, lapack_driver
        scipy's; no effect on differentiated values.

    Returns
    -------
    x, residues, rank, s
        As scipy's: the solution, the squared residual norms, the rank and the
        singular values of ``a``.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> a = np.array([[1.0], [1.0]])
    >>> b = lambda t: t * np.array([1.0, 0.0]) + np.array([0.0, 3.0])
    >>> float(hyperdual.derivative(lambda t: lstsq(a, b(t))[0][0], 0.0))
    0.5
    """
    if not _traced(a, b):
        return _sl.lstsq(a, b, cond=cond, overwrite_a=overwrite_a, overwrite_b=overwrite_b,
                         check_finite=check_finite, lapack_driver=lapack_driver)
    if np.ndim(value(a)) != 2:
        raise ValueError("scipy.linalg.lstsq stand-in: expected a matrix a of shape (m, n)")
    return np.linalg.lstsq(a, b, rcond=_EPS if cond is None or cond < 0 else cond)


def norm(a: Any, ord: Any = None, axis: Any = None, keepdims: bool = False,  # noqa: A002
         check_finite: bool = True) -> Any:
    """``scipy.linalg.norm`` (numpy's norms).


    Parameters
    ----------
    a : array_like, Dual or Variable
    ord, axis, keepdims
        As numpy's.
    check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    float, numpy.ndarray, Dual or Variable
        The norm(s).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> hyperdual.gradient(lambda x: norm(x), np.array([3.0, 4.0]))
    array([0.6, 0.8])
    """
    if not _traced(a):
        return _sl.norm(a, ord=ord, axis=axis, keepdims=keepdims, check_finite=check_finite)
    return np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims)


def block_diag(*arrs: Any) -> Any:
    """``scipy.linalg.block_diag``: the arguments on the diagonal of one matrix (1-d
    arguments are rows, scalars 1 x 1 blocks).


    Parameters
    ----------
    *arrs : array_like, Dual or Variable
        Blocks of at most 2 dimensions.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        The block-diagonal matrix.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> hyperdual.gradient(lambda x: np.sum(block_diag(x[:2], x[2]) ** 2), np.ones(3))
    array([2., 2., 2.])
    """
    if not _traced(*arrs):
        return _sl.block_diag(*arrs)
    blocks = []
    for x in arrs:
        nd = np.ndim(value(x))
        if nd > 2:
            raise ValueError("scipy.linalg.block_diag stand-in: arguments must have at most "
                             "2 dimensions")
        blocks.append(np.reshape(x, (1, 1)) if nd == 0 else
                      np.reshape(x, (1, -1)) if nd == 1 else x)
    shapes = [np.shape(value(x)) for x in blocks]
    cols = sum(s[1] for s in shapes)
    dtype = np.result_type(*[np.asarray(value(x)).dtype for x in blocks], np.float64)
    rows, left = [], 0
    for x, (r, c) in zip(blocks, shapes):
        parts = [np.zeros((r, left), dtype=dtype), x, np.zeros((r, cols - left - c),
                                                             dtype=dtype)]
        rows.append(np.concatenate(parts, axis=1))
        left += c
    return np.concatenate(rows, axis=0)


def _engine_linalg(x: Any) -> Any:
    """The stand-in module of ``x``'s engine (hyperdual.linalg or reverse.linalg)."""
    import importlib

    from ._common import engine_name

    return importlib.import_module(engine_name(x) + ".linalg")


def lu(a: Any, permute_l: bool = False, overwrite_a: bool = False,
       check_finite: bool = True, p_indices: bool = False) -> Any:
    """``scipy.linalg.lu``: ``P, L, U`` with ``a = P @ L @ U`` (square ``a`` on
    differentiated values).  The permutation is the value's (piecewise constant); ``L``
    and ``U`` are differentiated as ``lu_factor``'s.


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (n, n)
    permute_l, p_indices
        As scipy's.
    overwrite_a, check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    p, l, u
        ``a = p @ l @ u`` (``(p @ l, u)`` with ``permute_l``; ``p`` as row indices with
        ``p_indices``).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> float(hyperdual.derivative(lambda t: lu(a * t)[2][0, 0], 1.0))  # U00 = 3 t
    3.0
    """
    if not _traced(a):
        return _sl.lu(a, permute_l=permute_l, overwrite_a=overwrite_a,
                      check_finite=check_finite, p_indices=p_indices)
    _square(a, "lu")
    if np.ndim(value(a)) != 2:
        raise ValueError("scipy.linalg.lu stand-in: expected one square matrix")
    n = np.shape(value(a))[-1]
    packed = _engine_linalg(a).lu_factor(a)[0]
    eye = np.eye(n)
    low = np.tril(packed, -1) + eye
    up = np.triu(packed)
    p = _sl.lu(np.asarray(value(a)), p_indices=p_indices)[0]
    if permute_l:
        return (eye[p] if p_indices else p) @ low, up
    return p, low, up


def qr(a: Any, overwrite_a: bool = False, lwork: Any = None, mode: str = "full",
       pivoting: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.qr`` with modes 'full', 'economic' and 'r' (the signs of scipy's
    factors).  A tall matrix's 'full' Q has extra columns without a derivative: the
    engines say so (use 'economic').


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (m, n)
    mode : {'full', 'economic', 'r'}
        As scipy's ('raw' is refused on differentiated values).
    pivoting : bool
        Refused on differentiated values.
    overwrite_a, lwork, check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    q, r
        ``a = q @ r`` (``(r,)`` with ``mode='r'``).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> float(hyperdual.derivative(lambda t: qr(np.diag([2.0, 3.0]) * t)[1][1, 1], 1.0))
    3.0
    """
    if not _traced(a):
        return _sl.qr(a, overwrite_a=overwrite_a, lwork=lwork, mode=mode, pivoting=pivoting,
                      check_finite=check_finite)
    if pivoting or mode not in ("full", "economic", "r"):
        raise ValueError("scipy.linalg.qr stand-in: pivoting and mode='raw' are not "
                         "supported on differentiated values")
    shape = np.shape(value(a))
    if len(shape) != 2:
        raise ValueError("scipy.linalg.qr stand-in: expected a matrix of shape (m, n)")
    m, n = shape
    tall_full = m > n and mode == "full"
    q, r = np.linalg.qr(a, mode="complete" if tall_full else "reduced")
    ref = _sl.qr(np.asarray(value(a)), mode="economic")[1]
    k = min(m, n)
    s = np.sign(np.diagonal(np.asarray(value(r)))[:k] * np.diagonal(ref)[:k])
    s = np.where(s == 0, 1.0, s)
    if np.shape(value(r))[0] > k:
        s = np.concatenate([s, np.ones(np.shape(value(r))[0] - k)])
    r = r * s[:, None]
    if mode == "r":
        if m > n:  # (scipy's R has the full shape: zero rows below)
            r = np.concatenate([r, np.zeros((m - n, n))], axis=0)
        return (r,)
    return q * s, r


def polar(a: Any, side: str = "right") -> Any:
    """``scipy.linalg.polar``: ``u, p`` with ``a = u @ p`` (right) or ``a = p @ u``
    (left), p symmetric positive semi-definite.

    On differentiated values ``p = sqrtm(a^T a)`` (``sqrtm(a a^T)``) and ``u = a p^-1``
    (``p^-1 a``): the matrix square root's Fréchet derivative, which stays finite where
    singular values repeat (an orthogonal ``a``); ``a`` must have full rank, and be
    tall (right) or wide (left).


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (m, n)
    side : {'right', 'left'}
        ``a = u @ p`` or ``a = p @ u``.

    Returns
    -------
    u : numpy.ndarray, Dual or Variable
        With orthonormal columns (rows).
    p : numpy.ndarray, Dual or Variable
        Symmetric positive semi-definite.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> # a = t I: u = I, p = t I
    >>> float(hyperdual.derivative(lambda t: polar(np.eye(2) * t)[1][0, 0], 2.0))
    1.0
    """
    if not _traced(a):
        return _sl.polar(a, side=side)
    if side not in ("right", "left"):
        raise ValueError("`side` must be either 'right' or 'left'")
    shape = np.shape(value(a))
    if len(shape) != 2 or (shape[0] < shape[1] if side == "right" else shape[0] > shape[1]):
        raise ValueError(f"scipy.linalg.polar stand-in: side={side!r} needs a "
                         f"{'tall' if side == 'right' else 'wide'} matrix on differentiated "
                         f"values, got shape {shape}")
    linalg = _engine_linalg(a)
    if side == "right":
        p = linalg.sqrtm(_swap(a) @ a)
        p = (p + _swap(p)) / 2
        return _swap(np.linalg.solve(p, _swap(a))), p
    p = linalg.sqrtm(a @ _swap(a))
    p = (p + _swap(p)) / 2
    return np.linalg.solve(p, a), p


def _vector(x: Any, who: str) -> Any:
    if np.ndim(value(x)) != 1:
        raise ValueError(f"scipy.linalg.{who} stand-in: expected 1-d arguments on "
                         "differentiated values")
    return x


def toeplitz(c: Any, r: Any = None) -> Any:
    """``scipy.linalg.toeplitz``: first column ``c``, first row ``r`` (``r[0]`` ignored;
    ``r = c`` when omitted).


    Parameters
    ----------
    c : array_like, Dual or Variable, shape (m,)
        First column.
    r : array_like, Dual or Variable, shape (n,), optional
        First row.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        Shape (m, n).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> hyperdual.gradient(lambda c: np.sum(toeplitz(c)), np.ones(3))
    array([3., 4., 2.])
    """
    if not _traced(c, r):
        return _sl.toeplitz(c, r)
    c = _vector(c, "toeplitz")
    r = c if r is None else _vector(r, "toeplitz")
    m, n = np.shape(value(c))[0], np.shape(value(r))[0]
    vals = np.concatenate([r[:0:-1], c]) if n > 1 else c
    return vals[(n - 1) + np.arange(m)[:, None] - np.arange(n)[None, :]]


def circulant(c: Any) -> Any:
    """``scipy.linalg.circulant``: ``c`` as the first column, shifted down column by
    column.


    Parameters
    ----------
    c : array_like, Dual or Variable, shape (n,)
        First column.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        Shape (n, n).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> hyperdual.gradient(lambda c: circulant(c)[0, 1], np.ones(3))  # the last entry
    array([0., 0., 1.])
    """
    if not _traced(c):
        return _sl.circulant(c)
    c = _vector(c, "circulant")
    n = np.shape(value(c))[0]
    return c[(np.arange(n)[:, None] - np.arange(n)[None, :]) % n]


def hankel(c: Any, r: Any = None) -> Any:
    """``scipy.linalg.hankel``: first column ``c``, last row ``r`` (``r[0]`` ignored;
    zeros when omitted).


    Parameters
    ----------
    c : array_like, Dual or Variable, shape (m,)
        First column.
    r : array_like, Dual or Variable, shape (n,), optional
        Last row.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        Shape (m, n).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> hyperdual.gradient(lambda c: np.sum(hankel(c)), np.ones(3))
    array([1., 2., 3.])
    """
    if not _traced(c, r):
        return _sl.hankel(c, r)
    c = _vector(c, "hankel")
    m = np.shape(value(c))[0]
    if r is None:
        r = np.zeros(m)
    n = np.shape(value(_vector(r, "hankel")))[0]
    vals = np.concatenate([c, r[1:]])
    return vals[np.arange(m)[:, None] + np.arange(n)[None, :]]


def solve_banded(l_and_u: Any, ab: Any, b: Any, overwrite_ab: bool = False,
                 overwrite_b: bool = False, check_finite: bool = True) -> Any:
    """``scipy.linalg.solve_banded``: ``x`` with ``a @ x = b`` for ``a`` in LAPACK's banded
    storage ``ab[u + i - j, j] = a[i, j]``.  On engine values the band is unpacked into
    the dense matrix (its diagonals, ``np.diag``) and solved densely: O(n^3), for the
    sizes where that is affordable.

    Parameters
    ----------
    l_and_u : (int, int)
        The numbers of nonzero lower and upper diagonals.
    ab : array_like, Dual or Variable, shape (l + u + 1, n)
        The band (entries outside the matrix are not read).
    b : array_like, Dual or Variable, shape (n,) or (n, k)
    overwrite_ab, overwrite_b, check_finite
        scipy's; no effect on differentiated values.

    Returns
    -------
    numpy.ndarray, Dual or Variable
        ``x``, shaped as ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> ab = np.array([[0.0, 1.0], [2.0, 2.0], [1.0, 0.0]])  # [[2, 1], [1, 2]]
    >>> hyperdual.gradient(lambda r: np.sum(solve_banded((1, 1), ab, r)), np.ones(2))
    array([0.33333333, 0.33333333])
    """
    if not _traced(ab, b):
        return _sl.solve_banded(l_and_u, ab, b, overwrite_ab=overwrite_ab,
                                overwrite_b=overwrite_b, check_finite=check_finite)
    low, up = (int(v) for v in l_and_u)
    rows, n = np.shape(value(ab))
    if rows != low + up + 1:
        raise ValueError(f"invalid values for the number of lower and upper diagonals: "
                         f"l+u+1 ({low + up + 1}) does not equal ab.shape[0] ({rows})")
    a: Any = None
    for d in range(-low, up + 1):  # the d-th diagonal: a[i, i + d] = ab[up - d, i + d]
        diag = ab[up - d, d:] if d >= 0 else ab[up - d, :n + d]
        term = np.diag(diag, k=d)
        a = term if a is None else a + term
    return np.linalg.solve(a, b)
