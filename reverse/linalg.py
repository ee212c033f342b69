"""Differentiable stand-ins for ``scipy.linalg`` functions (reverse mode).

``scipy.linalg`` functions convert their input with ``np.asarray`` first, which
no dispatch protocol can intercept, so they refuse a ``Variable`` with a
``TypeError``.  This module offers the common ones under the same names and
signatures: on plain arrays each calls scipy itself; on Variables it records a
Function whose backward is written with these same functions, so every order
of derivative works (and forward-over-reverse on ``hyperdual`` data).
``hyperdual.linalg`` has the same functions for forward mode, with the same
conventions:

* ``solve_triangular`` reads only the triangle it is told to (and not the
  diagonal with ``unit_diagonal=True``); gradients go to those entries only.
* ``cho_factor`` leaves ``a``'s entries in the other triangle, as scipy does.
* ``lu_factor`` keeps the pivots of the value (piecewise constant).
* the primary matrix functions ``expm``, ``logm``, ``sqrtm``, ``cosm``, ``sinm``,
  ``tanm``, ``coshm``, ``sinhm``, ``tanhm``: backward is the Fréchet derivative at
  ``A^T``, the corner of ``f([[A^T, G], [0, A^T]])``; a complex principal value
  (``logm``, ``sqrtm`` at a negative real eigenvalue) raises ``TypeError``.
* ``solve``, ``inv``, ``det``, ``cholesky``, ``eigh``, ``eigvalsh``, ``svd``,
  ``svdvals``, ``pinv``, ``lstsq``, ``norm``, ``lu``, ``qr``, ``polar``,
  ``solve_banded``, ``block_diag``, ``toeplitz``, ``circulant``, ``hankel``: one
  implementation for both engines (:mod:`_exactdiff.scipy_linalg`, numpy.linalg on
  engine values, scipy's conventions: cholesky's upper factor, the triangle eigh and
  ``solve(assume_a='sym')`` read, scipy's vector signs).
* ``solve_sylvester``, ``solve_continuous_lyapunov``, ``solve_discrete_lyapunov``:
  hyperdual's custom rules (through their own equations; backward by the adjoint
  equation), which run on Variables too.

Examples
--------
>>> import numpy as np
>>> from reverse import Variable, linalg
>>> a = Variable(np.zeros((2, 2)))
>>> np.sum(linalg.expm(a)).backward()
>>> a.grad.data
array([[1., 1.],
       [1., 1.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.linalg as _sl

from _exactdiff.matrix_functions import real_matrix_function, square_check
from _exactdiff.scipy_linalg import (  # noqa: F401 (re-exported: scipy.linalg's names)
    block_diag,
    cholesky,
    circulant,
    det,
    eigh,
    eigvalsh,
    hankel,
    inv,
    lstsq,
    lu,
    norm,
    pinv,
    polar,
    qr,
    solve,
    solve_banded,
    svd,
    svdvals,
    toeplitz,
)

from .core import Function, Variable, _is_dual, _value
from .rules.linalg import DegenerateDerivativeError, _dtype, _shape, _swap
from .utils import sum_to

__all__ = ["DegenerateDerivativeError", "block_diag", "cho_factor", "cho_solve", "cholesky",
           "circulant", "cosm", "coshm", "det", "eigh", "eigvalsh", "expm", "hankel", "inv",
           "logm", "lstsq", "lu", "lu_factor", "lu_solve", "norm", "pinv", "polar", "qr",
           "sinhm", "sinm", "solve", "solve_banded", "solve_continuous_lyapunov",
           "solve_discrete_lyapunov",
           "solve_sylvester", "solve_triangular", "sqrtm", "svd", "svdvals", "tanhm", "tanm",
           "toeplitz"]

#: the functions of this module that hyperdual.linalg's hand a Variable to
_HANDED = ("cho_factor", "cho_solve", "cosm", "coshm", "expm", "logm", "lu_factor", "lu_solve",
           "sinhm", "sinm", "solve_triangular", "sqrtm", "tanhm", "tanm")


def _traced(*xs: Any) -> bool:
    return any(isinstance(x, Variable) for x in xs)


def _forward_mode(*xs: Any) -> Any:
    """hyperdual.linalg when some operand is a hyperdual number, else None.

    Imported lazily: the data already is hyperdual's, and reverse never imports
    it eagerly.  (Function.forward on Dual data and backward formulas on Dual
    data land here, so their results are Duals, not Variables.)
    """
    if any(_is_dual(x) for x in xs):
        from hyperdual import linalg

        return linalg
    return None


def _tri_mask(n: int, dt: Any, lower: bool, unit: bool) -> np.ndarray:
    m = np.tril(np.ones((n, n), dtype=dt)) if lower else np.triu(np.ones((n, n), dtype=dt))
    return m - np.eye(n, dtype=dt) if unit else m


def _check_trans(trans: Any) -> bool:
    """True for a transposed solve."""
    if trans not in (0, 1, 2, "N", "T", "C"):
        raise ValueError(f"Invalid value for 'trans': {trans!r}")
    return trans not in (0, "N")


class SolveTriangular(Function):
    """``solve_triangular(a, b)``; backward: one triangular solve with the other side."""

    __slots__ = ("transposed", "lower", "unit")

    def __init__(self, transposed: bool, lower: bool, unit: bool) -> None:
        self.transposed, self.lower, self.unit = transposed, lower, unit

    def forward(self, a: Any, b: Any) -> Any:
        return solve_triangular(a, b, trans=int(self.transposed), lower=self.lower,
                                unit_diagonal=self.unit)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        vec = len(_shape(b)) == 1
        if vec:
            gy, y = np.expand_dims(gy, -1), np.expand_dims(y, -1)
        gb = solve_triangular(a, gy, trans=int(not self.transposed), lower=self.lower,
                              unit_diagonal=self.unit)
        ga = None
        if isinstance(ia, Variable):
            ga = -np.matmul(y, _swap(gb)) if self.transposed else -np.matmul(gb, _swap(y))
            n = _shape(a)[-1]
            ga = sum_to(ga * _tri_mask(n, _dtype(a), self.lower, self.unit), _shape(a))
        if isinstance(ib, Variable):
            gb = sum_to(gb[..., 0] if vec else gb, _shape(b))
        else:
            gb = None
        return ga, gb


def solve_triangular(a: Any, b: Any, trans: Any = 0, lower: bool = False,
                     unit_diagonal: bool = False, overwrite_b: bool = False,
                     check_finite: bool = True) -> Any:
    """``scipy.linalg.solve_triangular`` for arrays and Variables.

    Parameters
    ----------
    a : array_like or Variable, shape (n, n)
        The triangular matrix; only the triangle named by ``lower`` is read (and
        not the diagonal with ``unit_diagonal``).
    b : array_like or Variable, shape (n,) or (n, k)
        Right-hand side.
    trans : {0, 1, 2, "N", "T", "C"}
        Solve ``a x = b`` (0, "N") or ``a^T x = b`` (1, "T"; 2 and "C" are the
        same for real data).
    lower : bool
        Use the lower triangle (default: the upper).
    unit_diagonal : bool
        Take the diagonal as ones.
    overwrite_b, check_finite : bool
        As in scipy (used on plain arrays only).

    Returns
    -------
    numpy.ndarray or Variable
        ``x``, shaped like ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> a = Variable(np.array([[2.0, 0.0], [1.0, 1.0]]))
    >>> np.sum(solve_triangular(a, np.array([2.0, 3.0]), lower=True)).backward()
    >>> a.grad.data + 0.0  # (+ 0.0 turns the -0. of the upper triangle into 0.)
    array([[ 0.,  0.],
           [-1., -2.]])
    """
    transposed = _check_trans(trans)
    hl = _forward_mode(a, b)
    if hl is not None and not _traced(a, b):
        return hl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)
    if not _traced(a, b):
        return _sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal,
                                    overwrite_b=overwrite_b, check_finite=check_finite)
    return SolveTriangular(transposed, bool(lower), bool(unit_diagonal))(a, b)


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> tuple[Any, bool]:
    """``scipy.linalg.cho_factor``: ``(c, lower)``, ``a``'s entries in the other triangle.

    Parameters
    ----------
    a : array_like or Variable, shape (n, n)
        Symmetric positive definite matrix.
    lower : bool
        Return the lower factor (default: the upper).
    overwrite_a, check_finite : bool
        As in scipy (used on plain arrays only).

    Returns
    -------
    c : numpy.ndarray or Variable
        The Cholesky factor in the triangle named by ``lower``; the other
        triangle holds ``a``'s entries.
    lower : bool
        The flag, for :func:`cho_solve`.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> c, low = cho_factor(Variable(np.array([[4.0, 2.0], [2.0, 3.0]])))
    >>> c.data
    array([[2.        , 1.        ],
           [2.        , 1.41421356]])
    """
    hl = _forward_mode(a)
    if hl is not None and not _traced(a):
        return hl.cho_factor(a, lower=lower)
    if not _traced(a):
        return _sl.cho_factor(a, lower=lower, overwrite_a=overwrite_a, check_finite=check_finite)
    n = _shape(a)[-1]
    other = _tri_mask(n, _dtype(a), not lower, unit=True)
    low = np.linalg.cholesky(a if lower else _swap(a))  # (numpy < 2 has no upper=)
    return (low if lower else _swap(low)) + a * other, bool(lower)


def cho_solve(c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False,
              check_finite: bool = True) -> Any:
    """``scipy.linalg.cho_solve``: solve ``A x = b`` from ``cho_factor``'s result.

    Parameters
    ----------
    c_and_lower : tuple
        ``(c, lower)`` as returned by :func:`cho_factor`.
    b : array_like or Variable
        Right-hand side, shape (n,) or (n, k).
    overwrite_b, check_finite : bool
        As in scipy (used on plain arrays only).

    Returns
    -------
    numpy.ndarray or Variable
        ``x`` with ``A x = b``, shaped like ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> x = cho_solve(cho_factor(np.array([[4.0, 2.0], [2.0, 3.0]])), np.array([1.0, 1.0]))
    >>> bool(np.allclose(x, [0.125, 0.25]))
    True
    """
    c, lower = c_and_lower
    hl = _forward_mode(c, b)
    if hl is not None and not _traced(c, b):
        return hl.cho_solve((c, lower), b)
    if not _traced(c, b):
        return _sl.cho_solve((c, lower), b, overwrite_b=overwrite_b, check_finite=check_finite)
    if lower:
        return solve_triangular(c, solve_triangular(c, b, lower=True), trans=1, lower=True)
    return solve_triangular(c, solve_triangular(c, b, trans=1, lower=False), lower=False)


def _perm_of(piv: np.ndarray) -> np.ndarray:
    perm = np.arange(piv.shape[-1])
    for i, p in enumerate(piv):
        perm[i], perm[p] = perm[p], perm[i]
    return perm


class LUFactor(Function):
    """Packed ``L`` and ``U`` of an already pivoted matrix (no further pivoting)."""

    __slots__ = ()

    def forward(self, pa: Any) -> Any:
        hl = _forward_mode(pa)
        return (_sl if hl is None else hl).lu_factor(pa)[0]

    def backward(self, gy: Any, y: Any, pa: Any) -> Any:
        n = _shape(pa)[-1]
        dt = _dtype(pa)
        strict = np.tril(np.ones((n, n), dtype=dt), -1)
        upper = 1.0 - strict
        low, up = y * strict + np.eye(n, dtype=dt), y * upper
        m = np.matmul(_swap(low), gy * strict) * strict + np.matmul(gy * upper, _swap(up)) * upper
        z = solve_triangular(y, m, trans=1, lower=True, unit_diagonal=True)   # L^-T M
        return _swap(solve_triangular(y, _swap(z), lower=False))              # ... U^-T


def lu_factor(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Any, Any]:
    """``scipy.linalg.lu_factor``: ``(lu, piv)``; the pivots are those of the value.

    Parameters
    ----------
    a : array_like or Variable, shape (n, n)
        Square matrix.
    overwrite_a, check_finite : bool
        As in scipy (used on plain arrays only).

    Returns
    -------
    lu : numpy.ndarray or Variable
        ``L`` (unit diagonal, not stored) and ``U`` packed in one matrix.
    piv : numpy.ndarray of int
        Pivot indices (row i was interchanged with row ``piv[i]``); those of the
        value, with no derivative.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> lu, piv = lu_factor(Variable(np.array([[1.0, 2.0], [3.0, 4.0]])))
    >>> piv
    array([1, 1], dtype=int32)
    """
    hl = _forward_mode(a)
    if hl is not None and not _traced(a):
        return hl.lu_factor(a)
    if not _traced(a):
        return _sl.lu_factor(a, overwrite_a=overwrite_a, check_finite=check_finite)
    s = _shape(a)
    if len(s) != 2 or s[0] != s[1]:
        raise ValueError("reverse.linalg.lu_factor: expected a square 2-d matrix")
    _, piv = _sl.lu_factor(np.asarray(_value(a)), check_finite=check_finite)
    return LUFactor()(a[_perm_of(piv)]), piv


def lu_solve(lu_and_piv: tuple[Any, Any], b: Any, trans: Any = 0, overwrite_b: bool = False,
             check_finite: bool = True) -> Any:
    """``scipy.linalg.lu_solve``: solve ``A x = b`` (``trans=1``: ``A^T x = b``).

    Parameters
    ----------
    lu_and_piv : tuple
        ``(lu, piv)`` as returned by :func:`lu_factor`.
    b : array_like or Variable
        Right-hand side, shape (n,) or (n, k).
    trans : {0, 1, 2, "N", "T", "C"}
        Solve ``A x = b`` (0) or ``A^T x = b`` (1, 2).
    overwrite_b, check_finite : bool
        As in scipy (used on plain arrays only).

    Returns
    -------
    numpy.ndarray or Variable
        ``x``, shaped like ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> x = lu_solve(lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]])), np.array([1.0, 1.0]))
    >>> bool(np.allclose(x, [-1.0, 1.0]))
    True
    """
    lu, piv = lu_and_piv
    transposed = _check_trans(trans)
    hl = _forward_mode(lu, b)
    if hl is not None and not _traced(lu, b):
        return hl.lu_solve((lu, piv), b, trans=trans)
    if not _traced(lu, b):
        return _sl.lu_solve((lu, piv), b, trans=trans, overwrite_b=overwrite_b,
                            check_finite=check_finite)
    perm = _perm_of(np.asarray(piv))
    if not transposed:
        y = solve_triangular(lu, b[perm], lower=True, unit_diagonal=True)
        return solve_triangular(lu, y, lower=False)
    w = solve_triangular(lu, b, trans=1, lower=False)
    z = solve_triangular(lu, w, trans=1, lower=True, unit_diagonal=True)
    return z[np.argsort(perm)]


class MatrixFunction(Function):
    """A primary matrix function of scipy.linalg (``expm``, ``logm``, ``sqrtm``, ``cosm``
    ...); backward: the Fréchet derivative at ``A^T`` in the direction of the cotangent,
    the corner of ``f([[A^T, G], [0, A^T]])`` (written with this module's ``f``, so
    differentiable again)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def forward(self, a: Any) -> Any:
        return _evaluate(self.name, a)

    def backward(self, gy: Any, y: Any, a: Any) -> Any:
        n = _shape(a)[-1]
        at = _swap(a)
        full = np.broadcast_shapes(_shape(a), _shape(gy))
        if _shape(at) != full:
            at = np.broadcast_to(at, full)
        zero = np.zeros(full, dtype=_dtype(a))
        block = np.concatenate([np.concatenate([at, gy], axis=-1),
                                np.concatenate([zero, at], axis=-1)], axis=-2)
        return _evaluate(self.name, block)[..., :n, n:]


def _evaluate(name: str, x: Any) -> Any:
    """``name`` of an operand: Variables and Duals by their rules, plain data real (or
    refused: the engines are real-valued)."""
    if _traced(x) or _forward_mode(x) is not None:
        return globals()[name](x)
    return real_matrix_function(name, x, "reverse")


def _matrix_function(name: str, A: Any) -> Any:
    hl = _forward_mode(A)
    if hl is not None and not _traced(A):
        return getattr(hl, name)(A)
    if not _traced(A):
        return getattr(_sl, name)(A)
    square_check(_shape(A), "reverse", name)
    return MatrixFunction(name)(A)


def expm(A: Any) -> Any:
    """``scipy.linalg.expm`` for arrays and Variables (batched as scipy allows).

    Parameters
    ----------
    A : array_like or Variable, shape (..., n, n)
        Square matrices (a stack is exponentiated matrix by matrix).

    Returns
    -------
    numpy.ndarray or Variable
        ``exp(A)``, same shape; its derivative is the Fréchet derivative of the
        matrix exponential.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> a = Variable(np.array([[1.0]]))
    >>> expm(a).backward()
    >>> bool(np.isclose(a.grad.data[0, 0], np.e))
    True
    """
    return _matrix_function("expm", A)


def logm(A: Any) -> Any:
    """``scipy.linalg.logm`` (the principal logarithm) for arrays and Variables.

    Parameters
    ----------
    A : array_like or Variable, shape (..., n, n)
        Square matrices without eigenvalues on the closed negative real axis (a stack
        is taken matrix by matrix).

    Returns
    -------
    numpy.ndarray or Variable
        ``log(A)``, same shape; its derivative is the Fréchet derivative of the
        principal logarithm.

    Raises
    ------
    TypeError
        For a Variable whose matrix has a negative real eigenvalue (its logarithm is
        complex; the engines are real-valued).  Plain arrays get scipy's result.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> a = Variable(np.array([[2.0]]))
    >>> logm(a).backward()
    >>> float(a.grad.data[0, 0])
    0.5
    """
    return _matrix_function("logm", A)


def sqrtm(A: Any) -> Any:
    """``scipy.linalg.sqrtm`` (the principal square root) for arrays and Variables.

    Parameters
    ----------
    A : array_like or Variable, shape (..., n, n)
        Square matrices without eigenvalues on the closed negative real axis (a stack
        is taken matrix by matrix).

    Returns
    -------
    numpy.ndarray or Variable
        The principal square root, same shape; its derivative is the Fréchet
        derivative (``X`` with ``S X + X S = E``).

    Raises
    ------
    TypeError
        For a Variable whose matrix has a negative real eigenvalue (its square root is
        complex; the engines are real-valued).  Plain arrays get scipy's result.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> a = Variable(np.array([[4.0]]))
    >>> sqrtm(a).backward()
    >>> float(a.grad.data[0, 0])
    0.25
    """
    return _matrix_function("sqrtm", A)


def _trig(name: str, what: str, slope: str) -> Callable[[Any], Any]:
    def f(A: Any) -> Any:
        return _matrix_function(name, A)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"""``scipy.linalg.{name}`` (the matrix {what}) for arrays and Variables.

    Parameters
    ----------
    A : array_like or Variable, shape (..., n, n)
        Square matrices (a stack is taken matrix by matrix).

    Returns
    -------
    numpy.ndarray or Variable
        Same shape; its derivative is the Fréchet derivative.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> a = Variable(np.array([[0.5]]))
    >>> {name}(a).backward()
    >>> bool(np.isclose(a.grad.data[0, 0], {slope}))  # the scalar function's slope at 0.5
    True
    """
    return f


cosm = _trig("cosm", "cosine", "-np.sin(0.5)")
sinm = _trig("sinm", "sine", "np.cos(0.5)")
tanm = _trig("tanm", "tangent", "1 / np.cos(0.5) ** 2")
coshm = _trig("coshm", "hyperbolic cosine", "np.sinh(0.5)")
sinhm = _trig("sinhm", "hyperbolic sine", "np.cosh(0.5)")
tanhm = _trig("tanhm", "hyperbolic tangent", "1 / np.cosh(0.5) ** 2")


def solve_sylvester(a: Any, b: Any, q: Any) -> Any:
    """``scipy.linalg.solve_sylvester``: ``X`` with ``a @ X + X @ b = q``.

    Differentiated through its own equation (backward: the adjoint equation
    ``a^T Y + Y b^T = G``), every order; hyperdual's custom rule, which runs on
    Variables too.


    Parameters
    ----------
    a : array_like or Variable, shape (m, m)
    b : array_like or Variable, shape (n, n)
    q : array_like or Variable, shape (m, n)

    Returns
    -------
    numpy.ndarray or Variable
        ``X``, shape (m, n).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> q = Variable(np.ones((1, 1)))
    >>> solve_sylvester(np.array([[1.0]]), np.array([[3.0]]), q).backward()
    >>> q.grad.data  # X = q / (1 + 3)
    array([[0.25]])
    """
    if not _traced(a, b, q) and _forward_mode(a, b, q) is None:
        return _sl.solve_sylvester(a, b, q)
    from hyperdual import linalg as hl

    return hl.solve_sylvester(a, b, q)


def solve_continuous_lyapunov(a: Any, q: Any) -> Any:
    """``scipy.linalg.solve_continuous_lyapunov``: ``X`` with ``a @ X + X @ a.T = q``.


    Parameters
    ----------
    a : array_like or Variable, shape (n, n)
    q : array_like or Variable, shape (n, n)

    Returns
    -------
    numpy.ndarray or Variable
        ``X``, shape (n, n).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> q = Variable(np.eye(1))
    >>> solve_continuous_lyapunov(-np.eye(1), q).backward()
    >>> q.grad.data  # X = -q / 2
    array([[-0.5]])
    """
    if not _traced(a, q) and _forward_mode(a, q) is None:
        return _sl.solve_continuous_lyapunov(a, q)
    from hyperdual import linalg as hl

    return hl.solve_continuous_lyapunov(a, q)


def solve_discrete_lyapunov(a: Any, q: Any, method: Any = None) -> Any:
    """``scipy.linalg.solve_discrete_lyapunov``: ``X`` with ``a @ X @ a.T - X + q = 0``.


    Parameters
    ----------
    a : array_like or Variable, shape (n, n)
    q : array_like or Variable, shape (n, n)
    method : {None, 'direct', 'bilinear'}
        scipy's algorithm for the value (the derivative is the same).

    Returns
    -------
    numpy.ndarray or Variable
        ``X``, shape (n, n).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> q = Variable(np.eye(1))
    >>> solve_discrete_lyapunov(0.5 * np.eye(1), q).backward()
    >>> q.grad.data  # X = q / (1 - 1/4)
    array([[1.33333333]])
    """
    if not _traced(a, q) and _forward_mode(a, q) is None:
        return _sl.solve_discrete_lyapunov(a, q, method=method)
    from hyperdual import linalg as hl

    return hl.solve_discrete_lyapunov(a, q, method)


# hyperdual.linalg's functions on a Variable (reverse mode around hyperdual code: the
# parts of its Duals are Variables) hand it to these (see _exactdiff.arrays.hand_off)
def _register_hyperdual() -> None:
    from hyperdual import linalg as _hl
    from hyperdual import scatter_add as _hd_scatter_add

    from .core import FUNCTIONS
    from .utils import scatter_add

    for name in _HANDED:
        FUNCTIONS[getattr(_hl, name)] = globals()[name]
    # hyperdual.scatter_add(shape, index, values) on Variable values
    FUNCTIONS[_hd_scatter_add] = lambda shape, index, values: scatter_add(
        values, index, tuple(shape))


_register_hyperdual()
