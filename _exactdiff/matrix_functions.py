"""scipy.linalg's primary matrix functions on plain float data, for both engines.

``expm``, ``logm``, ``sqrtm``, ``cosm``, ``sinm``, ``tanm``, ``coshm``, ``sinhm`` and
``tanhm`` apply a scalar function to a matrix's eigenvalues (keeping its
eigenvectors).  For every such ``f`` the Fréchet derivative in a direction ``E`` is
the upper right block of ``f`` of the block matrix ``[[A, E], [0, A]]``, so each
engine's rule is one call of ``f`` on a matrix of twice the size, written with the
engine's own ``f`` and differentiable again by the same rule (reverse mode takes it
at ``A^T`` with the cotangent in the corner: for a function with real Taylor
coefficients the adjoint of the Fréchet derivative at ``A`` is the Fréchet
derivative at ``A^T``).  This module holds the part both engines share: the value
on plain float stacks, and the refusal of a complex principal value.

Examples
--------
>>> import numpy as np
>>> real_matrix_function("sqrtm", np.array([[4.0, 0.0], [0.0, 9.0]]), "hyperdual")
array([[2., 0.],
       [0., 3.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg as _sl

__all__ = ["NAMES", "real_matrix_function", "square_check"]

#: scipy.linalg's primary matrix functions that both engines differentiate
NAMES = ("expm", "logm", "sqrtm", "cosm", "sinm", "tanm", "coshm", "sinhm", "tanhm")

#: the functions whose principal value is complex at a negative real eigenvalue (and
#: what they compute, for the error)
_BRANCHED = {"logm": "logarithm", "sqrtm": "square root"}


def square_check(shape: tuple[int, ...], who: str, name: str) -> None:
    """ValueError unless ``shape`` is a stack of square matrices (..., n, n)."""
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{who}.linalg.{name}: expected square matrices (..., n, n), "
                         f"got shape {shape}")


def _one(name: str, m: np.ndarray, who: str) -> np.ndarray:
    y = getattr(_sl, name)(m)
    if isinstance(y, tuple):  # (old scipy's disp=False form; not asked for here)
        y = y[0]
    if not np.iscomplexobj(y):
        return y
    # A real matrix has a real principal logarithm / square root unless an eigenvalue
    # lies on the closed negative real axis; otherwise scipy's complex Schur form only
    # left rounding in the imaginary part (scipy < 1.16 for complex eigenvalue pairs).
    lam = np.linalg.eigvals(m)
    on_axis = (np.abs(lam.imag) <= 64 * np.finfo(float).eps * np.abs(lam)) & (lam.real < 0)
    if np.any(on_axis):
        raise TypeError(
            f"{who}.linalg.{name}: the matrix has the negative real eigenvalue "
            f"{float(lam[on_axis][0].real):.6g}, where the principal "
            f"{_BRANCHED.get(name, 'value')} is complex; the engines are real-valued "
            "(differentiate a matrix whose eigenvalues avoid the negative real axis)")
    return np.ascontiguousarray(y.real)


def real_matrix_function(name: str, a: Any, who: str) -> np.ndarray:
    """``scipy.linalg.<name>`` of a float array of square matrices (..., n, n), matrix by
    matrix, real.

    Parameters
    ----------
    name : str
        One of :data:`NAMES`.
    a : numpy.ndarray
        Plain float data, shape (..., n, n).
    who : str
        The engine, for the errors ("hyperdual" or "reverse").

    Returns
    -------
    numpy.ndarray
        The real result, shape of ``a``.

    Raises
    ------
    TypeError
        Where the principal value is complex (``logm``, ``sqrtm`` of a matrix with a
        negative real eigenvalue): the engines are real-valued.

    Examples
    --------
    >>> import numpy as np
    >>> y = real_matrix_function("logm", np.stack([np.eye(2), np.e * np.eye(2)]), "reverse")
    >>> np.round(y[1], 12)
    array([[1., 0.],
           [0., 1.]])
    """
    a = np.asarray(a)
    square_check(a.shape, who, name)
    dt = a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)
    if name == "expm":  # (batched in every scipy the project supports, never complex)
        return _sl.expm(a).astype(dt, copy=False)
    if a.ndim == 2:
        return _one(name, a, who).astype(dt, copy=False)
    n = a.shape[-1]
    flat = a.reshape((-1, n, n))
    out = np.empty(flat.shape, dtype=dt)
    for i in range(flat.shape[0]):  # (scipy < 1.16 takes one matrix at a time)
        out[i] = _one(name, flat[i], who)
    return out.reshape(a.shape)
