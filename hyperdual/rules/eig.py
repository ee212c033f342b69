"""Forward-mode rules for ``np.linalg.eig`` and ``np.linalg.eigvals`` of real
matrices with real eigenvalues (numpy then returns real arrays too).

The engines are real-valued: a matrix whose spectrum has a complex pair
(where numpy returns complex arrays) raises ``TypeError`` naming
``eigh``/``eigvalsh`` (symmetric matrices always have a real spectrum) as the
alternative.  With ``A = V diag(w) V⁻¹`` and ``M = V⁻¹ dA V``:

* ``dw = diag(M)`` (a simple eigenvalue's derivative);
* ``dV = V (F ∘ M) - V diag(vₖ · (V (F ∘ M))ₖ)`` with ``Fᵢⱼ = 1/(wⱼ - wᵢ)``
  off the diagonal: the second term keeps numpy's unit-norm columns.

Both are :class:`hyperdual.custom_jvp` rules written with ``solve``,
``matmul`` and the rules themselves, so they differentiate themselves
(HyperDual, nesting, every order in reverse mode, which registers the same
objects: :mod:`reverse.rules.eig`).  Repeated eigenvalues make the
eigenvectors' derivative undefined: ``eig`` raises
:class:`DegenerateDerivativeError` there (as ``eigh`` does); ``eigvals`` stays
defined as long as the matrix is diagonalisable, and a defective matrix (parallel
eigenvectors to working precision, a Jordan block) raises it for both.

Examples
--------
>>> import numpy as np
>>> from hyperdual import Dual
>>> a = np.array([[2.0, 1.0], [0.0, 3.0]])
>>> w = np.linalg.eigvals(Dual(a, np.array([[1.0, 0.0], [0.0, 0.0]])))
>>> w.real, w.dual
(array([2., 3.]), array([1., 0.]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _exactdiff._common import engine_name, value
from _exactdiff.linalg import DegenerateDerivativeError

from .._number import implements
from ..custom import custom_jvp

__all__: list[str] = []  # dispatch targets only


def _real_eig(a: np.ndarray, engine: str) -> tuple[np.ndarray, np.ndarray]:
    w, v = np.linalg.eig(a)
    if np.iscomplexobj(w) and not (np.all(w.imag == 0) and np.all(v.imag == 0)):
        raise TypeError(
            f"{engine}: numpy.linalg.eig/eigvals of a matrix with complex eigenvalues is not "
            "supported (the engines are real-valued); for a symmetric matrix use "
            "np.linalg.eigh / np.linalg.eigvalsh")
    # numpy 2.5 returns complex arrays for every real input; a real spectrum
    # has exact zero imaginary parts there (numpy 1.x/2.4 return real arrays)
    return np.real(w), np.real(v)


def _fdt(x: Any) -> Any:
    dt = np.asarray(x).dtype
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _t(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _gaps(w: Any) -> Any:
    """F with F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it."""
    n = np.shape(value(w))[-1]
    d = np.asarray(value(w))
    eye = np.eye(n, dtype=_fdt(d))  # float32 data keeps float32 derivatives
    diff = d[..., None, :] - d[..., :, None]
    if np.any((diff == 0) & (eye == 0)):
        raise DegenerateDerivativeError(
            "numpy.linalg.eig: repeated eigenvalues (equal to working precision): the "
            "eigenvectors have no derivative there; np.linalg.eigvals does")
    return (1.0 - eye) / (w[..., None, :] - w[..., :, None] + eye)


def _basis(a: Any) -> Any:
    """``eigvecs(a)``, refused where ``a`` is defective to working precision.

    The formulas solve with V; a matrix that is not diagonalisable (a Jordan block,
    ``[[1, 1], [0, 1]]``) has parallel eigenvectors, so V is singular and the solve
    returned rounding noise / eps (a gradient entry of 4.5e15 there, where the
    eigenvalues 1 +- sqrt(t) have no derivative at all).
    """
    v = eigvecs(a)
    vv = np.asarray(value(v))
    while not isinstance(vv, np.ndarray) or vv.dtype == object:  # nested numbers
        vv = np.asarray(value(vv))
    s = np.linalg.svd(vv, compute_uv=False)  # columns of unit norm: s[0] <= sqrt(n)
    n = vv.shape[-1]
    if np.any(s[..., -1] <= 8 * n * np.finfo(vv.dtype).eps * s[..., 0]):
        raise DegenerateDerivativeError(
            "numpy.linalg.eig/eigvals: the matrix is defective (not diagonalisable, to "
            "working precision: its eigenvectors are parallel): its repeated eigenvalues "
            "have no derivative there (they move like sqrt(t))")
    return v


def _diagonal(m: Any) -> Any:
    return np.diagonal(m, axis1=-2, axis2=-1)


@custom_jvp
def eigvals(a: Any) -> Any:
    """Eigenvalues of a real matrix with a real spectrum (numpy's order)."""
    return _real_eig(a, "hyperdual")[0]


@custom_jvp
def eigvecs(a: Any) -> Any:
    """Unit-norm eigenvectors (columns) of a real matrix with a real spectrum."""
    return _real_eig(a, "hyperdual")[1]


@eigvals.defjvp
def _eigvals_jvp(primals: Any, tangents: Any) -> Any:
    (a,), (da,) = primals, tangents
    v = _basis(a)
    return eigvals(a), _diagonal(np.linalg.solve(v, da @ v))


@eigvals.defvjp
def _eigvals_vjp(primals: Any, out: Any, g: Any) -> Any:
    v = _basis(primals[0])
    n = np.shape(value(v))[-1]
    return np.linalg.solve(_t(v), (g[..., :, None] * np.eye(n, dtype=_fdt(value(v)))) @ _t(v))


@eigvecs.defjvp
def _eigvecs_jvp(primals: Any, tangents: Any) -> Any:
    (a,), (da,) = primals, tangents
    v, w = _basis(a), eigvals(a)
    dv = v @ (_gaps(w) * np.linalg.solve(v, da @ v))
    return v, dv - v * np.sum(v * dv, axis=-2, keepdims=True)


@eigvecs.defvjp
def _eigvecs_vjp(primals: Any, out: Any, g: Any) -> Any:
    v, w = _basis(primals[0]), eigvals(primals[0])
    vtg = _t(v) @ g
    n = np.shape(value(v))[-1]
    k = vtg - (_t(v) @ v) @ (_diagonal(vtg)[..., :, None] * np.eye(n, dtype=_fdt(value(v))))
    return np.linalg.solve(_t(v), (_gaps(w) * k) @ _t(v))


def _check(a: Any) -> None:
    """numpy's errors for a non-square matrix, ours for a complex spectrum."""
    s = np.shape(value(a))
    if len(s) < 2 or s[-1] != s[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")
    _real_eig(np.asarray(value(a)), engine_name(a))


def eig(a: Any) -> Any:
    """``np.linalg.eig`` of a real matrix with real eigenvalues: (eigenvalues, eigenvectors)."""
    _check(a)
    return _EigResult(eigvals(a), eigvecs(a))


def eigvalues(a: Any) -> Any:
    """``np.linalg.eigvals`` of a real matrix with real eigenvalues."""
    _check(a)
    return eigvals(a)


try:  # numpy >= 2: eig returns a named tuple
    from numpy.linalg._linalg import EigResult as _EigResult
except ImportError:  # pragma: no cover  (numpy 1.x returns a plain tuple)
    def _EigResult(w: Any, v: Any) -> tuple:  # noqa: N802
        return (w, v)

implements(np.linalg.eig)(eig)
implements(np.linalg.eigvals)(eigvalues)
