"""Differentiable stand-ins for ``scipy.linalg`` functions (forward mode).

``scipy.linalg`` functions convert their input with ``np.asarray`` first, which
no dispatch protocol can intercept: called on a ``Dual`` they raise
``TypeError`` (they could only drop the derivative).  This module offers the
common ones under the same names and signatures.  On plain arrays each calls
scipy itself (same values, same speed); on ``Dual``/``HyperDual`` numbers it
applies a derivative rule written with numpy calls, so second derivatives and
direction stacks follow as for ``np.linalg`` (see :mod:`hyperdual.rules.linalg`).
``reverse.linalg`` has the same functions for reverse mode.

* ``solve_triangular`` reads only the triangle it is told to (and not the
  diagonal with ``unit_diagonal=True``); derivatives follow the same entries.
* ``cho_factor`` leaves ``a``'s entries in the other triangle, as scipy does.
* ``lu_factor`` keeps the pivots of the value (piecewise constant), and
  differentiates ``L`` and ``U`` of the permuted matrix.
* the primary matrix functions ``expm``, ``logm``, ``sqrtm``, ``cosm``, ``sinm``,
  ``tanm``, ``coshm``, ``sinhm``, ``tanhm``: the derivative is the Fréchet derivative,
  the corner of ``f([[A, E], [0, A]])`` (:mod:`_exactdiff.matrix_functions`); a
  complex principal value (``logm``, ``sqrtm`` at a negative real eigenvalue) raises
  ``TypeError``.
* ``solve``, ``inv``, ``det``, ``cholesky``, ``eigh``, ``eigvalsh``, ``svd``,
  ``svdvals``, ``pinv``, ``lstsq``, ``norm``, ``lu``, ``qr``, ``polar``,
  ``solve_banded``, ``block_diag``, ``toeplitz``, ``circulant``, ``hankel``: one
  implementation for both engines (:mod:`_exactdiff.scipy_linalg`).
* ``solve_sylvester``, ``solve_continuous_lyapunov``, ``solve_discrete_lyapunov``:
  custom rules through their own equations (every mode, both engines).

Examples
--------
>>> import numpy as np
>>> from hyperdual import Dual
>>> from hyperdual import linalg
>>> y = linalg.expm(Dual(np.zeros((2, 2)), np.eye(2)))
>>> y.dual
array([[1., 0.],
       [0., 1.]])
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg as _sl

from _exactdiff._common import is_traced, value
from _exactdiff.arrays import engine_value, hand_off
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

from . import _generic as g
from ._number import _Number, _shape
from ._taylor import Taylor
from .custom import custom_jvp
from .rules.linalg import (
    DegenerateDerivativeError,
    _apply,
    _dtype,
    _minus,
    _solve_stack,
    _swap,
    _value_rank,
)

__all__ = ["DegenerateDerivativeError", "block_diag", "cho_factor", "cho_solve", "cholesky",
           "circulant", "cosm", "coshm", "det", "eigh", "eigvalsh", "expm", "hankel", "inv",
           "logm", "lstsq", "lu", "lu_factor", "lu_solve", "norm", "pinv", "polar", "qr",
           "sinhm", "sinm", "solve", "solve_banded", "solve_continuous_lyapunov",
           "solve_discrete_lyapunov",
           "solve_sylvester", "solve_triangular", "sqrtm", "svd", "svdvals", "tanhm", "tanm",
           "toeplitz"]


def _any_number(*xs) -> bool:
    return any(isinstance(x, _Number) for x in xs)


def _other_engine(*xs):
    """The first operand that is another engine's number (a reverse ``Variable``: the
    parts of a Dual are Variables when reverse mode differentiates hyperdual code),
    else None.  scipy would ``np.asarray`` it; that engine's own function answers
    instead (reverse registers ``reverse.linalg``'s for these)."""
    return next((x for x in xs if not isinstance(x, _Number) and engine_value(x)), None)


def _tri_mask(n: int, dt, lower: bool, unit: bool):
    m = np.tril(np.ones((n, n), dtype=dt)) if lower else np.triu(np.ones((n, n), dtype=dt))
    return m - np.eye(n, dtype=dt) if unit else m


def _op(m, trans):
    return m if trans in (0, "N") else _swap(m)


def _check_trans(trans):
    if trans not in (0, 1, 2, "N", "T", "C"):
        raise ValueError(f"Invalid value for 'trans': {trans!r}")


def solve_triangular(a, b, trans=0, lower: bool = False, unit_diagonal: bool = False,
                     overwrite_b: bool = False, check_finite: bool = True):
    """``scipy.linalg.solve_triangular`` for arrays, Duals and HyperDuals.

    Parameters
    ----------
    a : array_like or Dual, shape (n, n)
        The triangular matrix; only the triangle named by ``lower`` is read (and
        not the diagonal with ``unit_diagonal``).
    b : array_like or Dual, shape (n,) or (n, k)
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
    numpy.ndarray or Dual
        ``x``, shaped like ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> a = Dual(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [0.0, 0.0]]))
    >>> solve_triangular(a, np.array([2.0, 3.0]), lower=True).dual
    array([-0.5,  0.5])
    """
    _check_trans(trans)
    other = _other_engine(a, b)
    if other is not None and not _any_number(a, b):
        return hand_off(solve_triangular, other, (a, b), dict(
            trans=trans, lower=lower, unit_diagonal=unit_diagonal))
    if not _any_number(a, b):
        return _sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal,
                                    overwrite_b=overwrite_b, check_finite=check_finite)
    return _apply("solve_triangular", _solve_triangular_rule, (a, b), trans=trans,
                  lower=bool(lower), unit=bool(unit_diagonal))[0]


def _solve_triangular_rule(p, t, trans, lower, unit):
    a, b = p
    ta, tb = t
    n = _shape(a)[-1]

    def solver(m, rhs):
        return solve_triangular(m, rhs, trans=trans, lower=lower, unit_diagonal=unit)

    vec = len(_shape(b)) == 1
    if vec:
        b = b[:, None]
        tb = None if tb is None else tb[..., None]
    x = solver(a, b)
    rhs = tb
    if ta is not None:
        ta = _value_rank(ta * _tri_mask(n, _dtype(a), lower, unit), len(_shape(x)))
        rhs = _minus(tb, np.matmul(_op(ta, trans), x))
    tx = _solve_stack(a, rhs, solver)
    if vec:
        x, tx = x[..., 0], tx[..., 0]
    return ((x, tx),)


def cho_factor(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """``scipy.linalg.cho_factor``: ``(c, lower)``, ``a``'s entries in the other triangle.

    Parameters
    ----------
    a : array_like or Dual, shape (n, n)
        Symmetric positive definite matrix.
    lower : bool
        Return the lower factor (default: the upper).
    overwrite_a, check_finite : bool
        As in scipy (used on plain arrays only).

    Returns
    -------
    c : numpy.ndarray or Dual
        The Cholesky factor in the triangle named by ``lower``; the other
        triangle holds ``a``'s entries.
    lower : bool
        The flag, for :func:`cho_solve`.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> c, low = cho_factor(Dual(np.array([[4.0, 2.0], [2.0, 3.0]]), np.eye(2)))
    >>> c.real
    array([[2.        , 1.        ],
           [2.        , 1.41421356]])
    """
    other = _other_engine(a)
    if other is not None:
        return hand_off(cho_factor, other, (a,), dict(lower=lower))
    if not _any_number(a):
        return _sl.cho_factor(a, lower=lower, overwrite_a=overwrite_a, check_finite=check_finite)
    n = np.shape(g.real_value(a))[-1]
    # scipy leaves a's own entries in the other triangle: so do we (same values)
    other = _tri_mask(n, _dtype(a), not lower, unit=True)
    low = np.linalg.cholesky(a if lower else _swap(a))  # (numpy < 2 has no upper=)
    return (low if lower else _swap(low)) + a * other, bool(lower)


def cho_solve(c_and_lower, b, overwrite_b: bool = False, check_finite: bool = True):
    """``scipy.linalg.cho_solve``: solve ``A x = b`` from ``cho_factor``'s result.

    Parameters
    ----------
    c_and_lower : tuple
        ``(c, lower)`` as returned by :func:`cho_factor`.
    b : array_like or Dual
        Right-hand side, shape (n,) or (n, k).
    overwrite_b, check_finite : bool
        As in scipy (used on plain arrays only).

    Returns
    -------
    numpy.ndarray or Dual
        ``x`` with ``A x = b``, shaped like ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> a = Dual(np.array([[4.0, 2.0], [2.0, 3.0]]), np.eye(2))
    >>> x = cho_solve(cho_factor(a), np.array([1.0, 1.0]))
    >>> bool(np.allclose(x.real, np.linalg.solve(a.real, [1.0, 1.0])))
    True
    """
    c, lower = c_and_lower
    other = _other_engine(c, b)
    if other is not None and not _any_number(c, b):
        return hand_off(cho_solve, other, ((c, lower), b), {})
    if not _any_number(c, b):
        return _sl.cho_solve((c, lower), b, overwrite_b=overwrite_b, check_finite=check_finite)
    if lower:
        y = solve_triangular(c, b, lower=True)
        return solve_triangular(c, y, trans=1, lower=True)
    y = solve_triangular(c, b, trans=1, lower=False)
    return solve_triangular(c, y, lower=False)


def _perm_of(piv) -> np.ndarray:
    """Row order ``perm`` with ``A[perm] = L U`` from LAPACK's sequential interchanges."""
    perm = np.arange(piv.shape[-1])
    for i, p in enumerate(piv):
        perm[i], perm[p] = perm[p], perm[i]
    return perm


def lu_factor(a, overwrite_a: bool = False, check_finite: bool = True):
    """``scipy.linalg.lu_factor``: ``(lu, piv)``; the pivots are those of the value.

    Parameters
    ----------
    a : array_like or Dual, shape (n, n)
        Square matrix.
    overwrite_a, check_finite : bool
        As in scipy (used on plain arrays only).

    Returns
    -------
    lu : numpy.ndarray or Dual
        ``L`` (unit diagonal, not stored) and ``U`` packed in one matrix.
    piv : numpy.ndarray of int
        Pivot indices (row i was interchanged with row ``piv[i]``); those of the
        value, with no derivative.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> lu, piv = lu_factor(Dual(np.array([[1.0, 2.0], [3.0, 4.0]]), np.eye(2)))
    >>> piv
    array([1, 1], dtype=int32)
    """
    other = _other_engine(a)
    if other is not None:
        return hand_off(lu_factor, other, (a,), {})
    if not _any_number(a):
        return _sl.lu_factor(a, overwrite_a=overwrite_a, check_finite=check_finite)
    s = np.shape(g.real_value(a))
    if len(s) != 2 or s[0] != s[1]:
        raise ValueError("hyperdual.linalg.lu_factor: expected a square 2-d matrix")
    _, piv = _sl.lu_factor(g.real_value(a), check_finite=check_finite)
    return _apply("lu_factor", _lu_rule, (a[_perm_of(piv)],))[0], piv


def _lu_rule(p, t):
    """LU without pivoting of the (already permuted) matrix: dLU from X = L^-1 dA U^-1."""
    pa, ta = p[0], t[0]
    lu, piv = lu_factor(pa)  # the pivots of a permuted matrix are the identity
    n = _shape(pa)[-1]
    dt = _dtype(pa)
    strict = np.tril(np.ones((n, n), dtype=dt), -1)
    upper = 1.0 - strict
    low, up = lu * strict + np.eye(n, dtype=dt), lu * upper

    def lsolve(m, rhs):
        return solve_triangular(m, rhs, lower=True, unit_diagonal=True)

    def utsolve(m, rhs):
        return solve_triangular(m, rhs, trans=1, lower=False)

    y = _solve_stack(lu, ta, lsolve)                       # L^-1 dA
    x = _swap(_solve_stack(lu, _swap(y), utsolve))         # L^-1 dA U^-1
    return ((lu, np.matmul(low, x * strict) + np.matmul(x * upper, up)),)


def lu_solve(lu_and_piv, b, trans=0, overwrite_b: bool = False, check_finite: bool = True):
    """``scipy.linalg.lu_solve``: solve ``A x = b`` (``trans=1``: ``A^T x = b``).

    Parameters
    ----------
    lu_and_piv : tuple
        ``(lu, piv)`` as returned by :func:`lu_factor`.
    b : array_like or Dual
        Right-hand side, shape (n,) or (n, k).
    trans : {0, 1, 2, "N", "T", "C"}
        Solve ``A x = b`` (0) or ``A^T x = b`` (1, 2).
    overwrite_b, check_finite : bool
        As in scipy (used on plain arrays only).

    Returns
    -------
    numpy.ndarray or Dual
        ``x``, shaped like ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> a = Dual(np.array([[1.0, 2.0], [3.0, 4.0]]), np.eye(2))
    >>> x = lu_solve(lu_factor(a), np.array([1.0, 1.0]))
    >>> bool(np.allclose(x.real, np.linalg.solve(a.real, [1.0, 1.0])))
    True
    """
    lu, piv = lu_and_piv
    _check_trans(trans)
    other = _other_engine(lu, b)
    if other is not None and not _any_number(lu, b):
        return hand_off(lu_solve, other, ((lu, piv), b), dict(trans=trans))
    if not _any_number(lu, b):
        return _sl.lu_solve((lu, piv), b, trans=trans, overwrite_b=overwrite_b,
                            check_finite=check_finite)
    perm = _perm_of(np.asarray(piv))
    if trans in (0, "N"):
        y = solve_triangular(lu, b[perm], lower=True, unit_diagonal=True)
        return solve_triangular(lu, y, lower=False)
    w = solve_triangular(lu, b, trans=1, lower=False)
    z = solve_triangular(lu, w, trans=1, lower=True, unit_diagonal=True)
    return z[np.argsort(perm)]


def _matrix_function(name, A):
    """scipy.linalg's ``name`` (a primary matrix function) of ``A``."""
    other = _other_engine(A)
    if other is not None:
        return hand_off(globals()[name], other, (A,), {})
    if not _any_number(A):
        return getattr(_sl, name)(A)
    square_check(np.shape(g.real_value(A)), "hyperdual", name)
    if isinstance(A, Taylor):
        return _matrix_function_taylor(name, A)
    return _apply(name, _matrix_function_rule, (A,), fname=name)[0]


def _evaluate(name, x):
    """``name`` of a rule's operand: plain data real (or refused), numbers by the rule."""
    if _any_number(x) or engine_value(x):
        return globals()[name](x)
    return real_matrix_function(name, x, "hyperdual")


def _matrix_function_taylor(name, A):
    """A primary matrix function of a matrix series A(t) = sum_k A_k t^k.  Series map to
    block upper-triangular Toeplitz matrices (block (i, j) = A_{j-i}) by a ring
    homomorphism of the series truncated at order K, so the first block row of f of
    that matrix of order (K + 1) n holds the coefficients of f(A(t)), exactly as for
    the Dual rule's 2 x 2 block."""
    c = A.coef
    K1, n = _shape(c)[0], _shape(c)[-1]
    items = [c[k] for k in range(K1)]
    zero = items[0] * 0
    rows = [np.concatenate([zero] * i + items[:K1 - i], axis=-1) for i in range(K1)]
    top = _evaluate(name, np.concatenate(rows, axis=-2))[..., :n, :]
    return Taylor._make(np.stack([top[..., k * n:(k + 1) * n] for k in range(K1)]), A.tag)


def _matrix_function_rule(p, t, fname):
    a, ta = p[0], t[0]
    y = _evaluate(fname, a)
    n = _shape(a)[-1]
    full = _shape(ta)
    a_k = np.broadcast_to(a, full) if _shape(a) != full else a
    zero = np.zeros(full, dtype=_dtype(a))
    block = np.concatenate([np.concatenate([a_k, ta], axis=-1),
                            np.concatenate([zero, a_k], axis=-1)], axis=-2)
    return ((y, _evaluate(fname, block)[..., :n, n:]),)


def expm(A):
    """``scipy.linalg.expm`` for arrays, Duals and HyperDuals (batched as scipy allows).

    Parameters
    ----------
    A : array_like or Dual, shape (..., n, n)
        Square matrices (a stack is exponentiated matrix by matrix).

    Returns
    -------
    numpy.ndarray or Dual
        ``exp(A)``, same shape; its derivative is the Fréchet derivative of the
        matrix exponential.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> y = expm(Dual(np.array([[1.0]]), np.array([[1.0]])))
    >>> bool(np.isclose(y.dual[0, 0], np.e))
    True
    """
    return _matrix_function("expm", A)


def logm(A):
    """``scipy.linalg.logm`` (the principal logarithm) for arrays, Duals and HyperDuals.

    Parameters
    ----------
    A : array_like or Dual, shape (..., n, n)
        Square matrices without eigenvalues on the closed negative real axis (a stack
        is taken matrix by matrix).

    Returns
    -------
    numpy.ndarray or Dual
        ``log(A)``, same shape; its derivative is the Fréchet derivative of the
        principal logarithm.

    Raises
    ------
    TypeError
        For a Dual whose matrix has a negative real eigenvalue (its logarithm is
        complex; the engines are real-valued).  Plain arrays get scipy's result.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> y = logm(Dual(np.array([[2.0]]), np.array([[1.0]])))  # d/dt log(2 + t) = 1/2
    >>> float(y.dual[0, 0])
    0.5
    """
    return _matrix_function("logm", A)


def sqrtm(A):
    """``scipy.linalg.sqrtm`` (the principal square root) for arrays, Duals and
    HyperDuals.

    Parameters
    ----------
    A : array_like or Dual, shape (..., n, n)
        Square matrices without eigenvalues on the closed negative real axis (a stack
        is taken matrix by matrix).

    Returns
    -------
    numpy.ndarray or Dual
        The principal square root, same shape; its derivative ``X`` solves the
        Sylvester equation ``S X + X S = E`` (computed as a Fréchet derivative).

    Raises
    ------
    TypeError
        For a Dual whose matrix has a negative real eigenvalue (its square root is
        complex; the engines are real-valued).  Plain arrays get scipy's result.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> y = sqrtm(Dual(np.array([[4.0]]), np.array([[1.0]])))  # d/dt sqrt(4 + t) = 1/4
    >>> float(y.dual[0, 0])
    0.25
    """
    return _matrix_function("sqrtm", A)


def _trig(name: str, what: str, slope: str) -> Callable:
    def f(A):
        return _matrix_function(name, A)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"""``scipy.linalg.{name}`` (the matrix {what}) for arrays, Duals and HyperDuals.

    Parameters
    ----------
    A : array_like or Dual, shape (..., n, n)
        Square matrices (a stack is taken matrix by matrix).

    Returns
    -------
    numpy.ndarray or Dual
        Same shape; its derivative is the Fréchet derivative.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> y = {name}(Dual(np.array([[0.5]]), np.array([[1.0]])))
    >>> bool(np.isclose(y.dual[0, 0], {slope}))  # the scalar function's slope at 0.5
    True
    """
    return f


cosm = _trig("cosm", "cosine", "-np.sin(0.5)")
sinm = _trig("sinm", "sine", "np.cos(0.5)")
tanm = _trig("tanm", "tangent", "1 / np.cos(0.5) ** 2")
coshm = _trig("coshm", "hyperbolic cosine", "np.sinh(0.5)")
sinhm = _trig("sinhm", "hyperbolic sine", "np.cosh(0.5)")
tanhm = _trig("tanhm", "hyperbolic tangent", "1 / np.cosh(0.5) ** 2")


# -- Sylvester and Lyapunov equations: custom rules (the solution differentiated
# through its own equation: one more solve with the same matrices per direction) --

def _t(x):
    return np.swapaxes(x, -1, -2)


@custom_jvp
def _sylvester(a, b, q):
    return _sl.solve_sylvester(a, b, q)


@_sylvester.defjvp
def _sylvester_jvp(primals, tangents):
    # A X + X B = Q:  A dX + dX B = dQ - dA X - X dB
    (a, b, q), (ta, tb, tq) = primals, tangents
    x = _sylvester(a, b, q)
    return x, _sylvester(a, b, tq - ta @ x - x @ tb)


@_sylvester.defvjp
def _sylvester_vjp(primals, x, g):
    # the adjoint equation A^T Y + Y B^T = G
    a, b, _ = primals
    y = _sylvester(_t(a), _t(b), g)
    return -y @ _t(x), -_t(x) @ y, y


@custom_jvp
def _continuous_lyapunov(a, q):
    return _sl.solve_continuous_lyapunov(a, q)


@_continuous_lyapunov.defjvp
def _continuous_lyapunov_jvp(primals, tangents):
    # A X + X A^T = Q:  A dX + dX A^T = dQ - dA X - X dA^T
    (a, q), (ta, tq) = primals, tangents
    x = _continuous_lyapunov(a, q)
    return x, _continuous_lyapunov(a, tq - ta @ x - x @ _t(ta))


@_continuous_lyapunov.defvjp
def _continuous_lyapunov_vjp(primals, x, g):
    a, _ = primals
    y = _continuous_lyapunov(_t(a), g)
    return -(y @ _t(x) + _t(y) @ x), y


def _discrete_lyapunov_value(a, q, method):
    return _sl.solve_discrete_lyapunov(a, q, method=method)


#: (``method`` picks scipy's algorithm for the value; the derivative is the same)
_discrete_lyapunov = custom_jvp(_discrete_lyapunov_value, nondiff_argnums=(2,))


@_discrete_lyapunov.defjvp
def _discrete_lyapunov_jvp(method, primals, tangents):
    # A X A^T - X + Q = 0:  A dX A^T - dX + (dQ + dA X A^T + A X dA^T) = 0
    (a, q), (ta, tq) = primals, tangents
    x = _discrete_lyapunov(a, q, method)
    return x, _discrete_lyapunov(a, tq + ta @ x @ _t(a) + a @ x @ _t(ta), method)


@_discrete_lyapunov.defvjp
def _discrete_lyapunov_vjp(method, primals, x, g):
    # the adjoint equation A^T Y A - Y + G = 0
    a, _ = primals
    y = _discrete_lyapunov(_t(a), g, method)
    return y @ a @ _t(x) + _t(y) @ a @ x, y


def _sylvester_shapes(who, a, b=None, q=None):
    for name, m in (("a", a), ("b", b)):
        if m is not None:
            s = np.shape(value(m))
            if len(s) != 2 or s[0] != s[1]:
                raise ValueError(f"hyperdual.linalg.{who}: {name} must be a square matrix, "
                                 f"got shape {s}")


def solve_sylvester(a, b, q):
    """``scipy.linalg.solve_sylvester``: ``X`` with ``a @ X + X @ b = q``.

    Differentiated through its own equation (``a dX + dX b = dq - da X - X db``,
    reverse mode by the adjoint equation), so every order, engine and nesting follows.

    Parameters
    ----------
    a : array_like or Dual, shape (m, m)
    b : array_like or Dual, shape (n, n)
    q : array_like or Dual, shape (m, n)

    Returns
    -------
    numpy.ndarray or Dual
        ``X``, shape (m, n).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> a, b = np.diag([1.0, 2.0]), np.diag([3.0, 4.0])
    >>> # X_ij = q_ij / (a_i + b_j): d/dt at q = t * ones is 1 / (a_i + b_j)
    >>> hyperdual.derivative(lambda t: solve_sylvester(a, b, t * np.ones((2, 2))), 1.0)
    array([[0.25      , 0.2       ],
           [0.2       , 0.16666667]])
    """
    if not any(is_traced(x) for x in (a, b, q)):
        return _sl.solve_sylvester(a, b, q)
    _sylvester_shapes("solve_sylvester", a, b)
    return _sylvester(a, b, q)


def solve_continuous_lyapunov(a, q):
    """``scipy.linalg.solve_continuous_lyapunov``: ``X`` with ``a @ X + X @ a.T = q``.


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (n, n)
    q : array_like, Dual or Variable, shape (n, n)

    Returns
    -------
    numpy.ndarray, Dual or Variable
        ``X``, shape (n, n).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> # a = -I: X = -q / 2
    >>> float(hyperdual.derivative(lambda t: solve_continuous_lyapunov(-np.eye(2),
    ...                                                                t * np.eye(2))[0, 0], 1.0))
    -0.5
    """
    if not any(is_traced(x) for x in (a, q)):
        return _sl.solve_continuous_lyapunov(a, q)
    _sylvester_shapes("solve_continuous_lyapunov", a)
    return _continuous_lyapunov(a, q)


def solve_discrete_lyapunov(a, q, method=None):
    """``scipy.linalg.solve_discrete_lyapunov``: ``X`` with ``a @ X @ a.T - X + q = 0``.


    Parameters
    ----------
    a : array_like, Dual or Variable, shape (n, n)
    q : array_like, Dual or Variable, shape (n, n)
    method : {None, 'direct', 'bilinear'}
        scipy's algorithm for the value (the derivative is the same).

    Returns
    -------
    numpy.ndarray, Dual or Variable
        ``X``, shape (n, n).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> # a = I / 2: X = q / (1 - 1/4)
    >>> float(hyperdual.derivative(lambda t: solve_discrete_lyapunov(0.5 * np.eye(2),
    ...                                                              t * np.eye(2))[0, 0], 1.0))
    1.3333333333333333
    """
    if not any(is_traced(x) for x in (a, q)):
        return _sl.solve_discrete_lyapunov(a, q, method=method)
    _sylvester_shapes("solve_discrete_lyapunov", a)
    return _discrete_lyapunov(a, q, method)
