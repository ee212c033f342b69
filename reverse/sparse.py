"""Sparse Jacobians and Hessians in reverse mode: detect, colour, compress, recover.

``sparse_jacobian`` colours the Jacobian's *rows* (no two rows of one colour
share a column), records ``f`` once and runs one backward pass per colour,
seeded with the sum of that colour's unit vectors: ``V.T @ J`` holds every
nonzero.  ``sparse_hessian`` runs ``f`` once on ``hyperdual.Dual`` data whose
direction stack holds one seed per star colour and backpropagates once: the
dual part of the gradient is ``H @ V`` (forward-over-reverse), so a tridiagonal
Hessian costs about three Hessian-vector products at any ``n``.

Pattern detection and colouring are those of ``_exactdiff.sparsity`` and
``_exactdiff.colouring`` (re-exported here).  Inside another differentiation
the helpers return the dense matrix as a value of the outer engine, computed
by :func:`reverse.jacobian` / :func:`reverse.hessian`.

Examples
--------
>>> import numpy as np
>>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
>>> H = SparseHessian(rosen, np.zeros(10000))
>>> H.ncolours
3
>>> float(H(np.ones(10000))[5000, 5001])
-400.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from _exactdiff.colouring import jacobian_rows_recovery, row_colouring, seeds
from _exactdiff.sparsity import hessian_sparsity, jacobian_sparsity
from hyperdual import sparse as _hs

from . import helpers as _h
from .core import Variable, _is_dual, grad_wrt

__all__ = ["SparseHessian", "SparseJacobian", "hessian_sparsity", "jacobian_sparsity",
           "sparse_hessian", "sparse_jacobian"]


def _outer(x: Any) -> bool:
    return isinstance(x, Variable) or _is_dual(x) or _h._DEPTH.get() > 0


class SparseJacobian(_hs.SparseJacobian):
    """A reusable sparse Jacobian evaluated by reverse mode (one backward pass per
    row colour), as :class:`hyperdual.sparse.SparseJacobian`.

    Calling it at a point ``x`` of ``x_example``'s shape returns the Jacobian
    there as a ``scipy.sparse.csr_matrix`` of shape ``(f(x).size, x.size)``.

    Parameters
    ----------
    f : callable
        ``R^n -> R^m`` written with plain numpy.
    x_example : array_like
        A point with the shape of later points (its values only matter with
        ``local=True``).
    sparsity : scipy.sparse matrix, optional
        A known pattern, shape ``(m, n)``; skips detection.
    local : bool
        Detect the pattern at ``x_example`` only (see ``_exactdiff.sparsity``).

    Examples
    --------
    >>> import numpy as np
    >>> J = SparseJacobian(lambda x: x[1:] ** 2 - x[:-1], np.ones(4))
    >>> J.ncolours
    2
    >>> J(np.array([1.0, 2.0, 3.0, 4.0])).toarray()
    array([[-1.,  4.,  0.,  0.],
           [ 0., -1.,  6.,  0.],
           [ 0.,  0., -1.,  8.]])
    """

    def _colour(self) -> np.ndarray:
        return row_colouring(self.sparsity)

    def _recovery(self) -> Any:
        return jacobian_rows_recovery(self.sparsity, self.colours)

    def __call__(self, x: Any) -> Any:
        if _outer(x):
            return _h.jacobian(self.f, x)
        data, _ = _h._prepare(x, "sparse_jacobian")
        if tuple(data.shape) != self.shape_x:
            raise ValueError(f"SparseJacobian: x has shape {tuple(data.shape)}, expected "
                             f"{self.shape_x}")
        m, n = self.sparsity.shape
        if self.ncolours == 0:
            return sp.csr_matrix((m, n))
        xv = _h._input(data)
        y = _h._evaluate(self.f, xv)
        if y.size != m:
            raise ValueError(f"sparse_jacobian: f(x) has {y.size} elements, the sparsity "
                             f"pattern {m} rows")
        U = seeds(self.colours).astype(_h._seed_dtype(y.data))  # (m, ncolours)
        rows = []
        for k in range(self.ncolours):
            g, others = grad_wrt(y, xv, U[:, k].reshape(y.shape), False)
            if others:  # f closes over an outer graph: the dense, recorded Jacobian
                return _h.jacobian(self.f, x)
            if _is_dual(g):  # f closes over an outer forward-mode perturbation
                return _h.jacobian(self.f, x)
            rows.append(np.zeros(n) if g is None else np.reshape(g, (-1,)))
        return self._recover(np.stack(rows))


class SparseHessian(_hs.SparseHessian):
    """A reusable sparse Hessian evaluated by one forward-over-reverse pass over the
    star colours, as :class:`hyperdual.sparse.SparseHessian`.

    Calling it at a point ``x`` of ``x_example``'s shape returns the Hessian
    there as a symmetric ``scipy.sparse.csr_matrix`` of shape ``(n, n)``.

    Parameters
    ----------
    f : callable
        Scalar ``R^n -> R`` written with plain numpy.
    x_example : array_like
        A point with the shape of later points (its values only matter with
        ``local=True``).
    sparsity : scipy.sparse matrix, optional
        A known pattern, shape ``(n, n)``; skips detection.
    local : bool
        Detect the pattern at ``x_example`` only (see ``_exactdiff.sparsity``).

    Examples
    --------
    >>> import numpy as np
    >>> H = SparseHessian(lambda x: np.sum(x[1:] * x[:-1]), np.ones(4))
    >>> H(np.ones(4)).toarray()
    array([[0., 1., 0., 0.],
           [1., 0., 1., 0.],
           [0., 1., 0., 1.],
           [0., 0., 1., 0.]])
    """

    def __call__(self, x: Any) -> Any:
        if _outer(x):
            return _h.hessian(self.f, x)
        data, _ = _h._prepare(x, "sparse_hessian")
        shape = tuple(data.shape)
        if shape != self.shape_x:
            raise ValueError(f"SparseHessian: x has shape {shape}, expected {self.shape_x}")
        n = data.size
        if self.ncolours == 0:
            return sp.csr_matrix((n, n))
        hd = _h._hyperdual_stacks()
        k = self.ncolours
        V = self._seeds(_h._seed_dtype(data))
        tag = hd.new_tag()
        try:
            xv = _h._own_dual_input(hd.Dual._build((data, V), tag, 1))
            y = _h._evaluate(self.f, xv)
            _h._require_scalar(y, "sparse_hessian")
            # (not releasing: a releasing pass runs with the zero-cotangent guard,
            # which checks every part of every Dual cotangent)
            g, others = grad_wrt(y, xv, _h._ones(y), False)
        finally:
            tag.retired = True
        if others:
            return _h.hessian(self.f, x)
        if g is None or not _is_dual(g) or getattr(g, "tag", None) != tag:
            return sp.csr_matrix((n, n))  # the gradient does not depend on x
        if _is_dual(g.dual):  # f closes over an outer forward-mode perturbation
            return _h.hessian(self.f, x)
        return self._recover.stacked(np.reshape(np.broadcast_to(g.dual, (k,) + shape), (k, n)))


def sparse_jacobian(f: Callable[[Any], Any], x: Any, *, sparsity: Any = None,
                    local: bool = False) -> Any:
    """Exact sparse Jacobian of ``f`` at ``x`` (``scipy.sparse.csr_matrix``).

    One forward pass and one backward pass per row colour (as
    :func:`hyperdual.sparse_jacobian`, which needs one forward pass per column
    colour: pick the engine with fewer colours).

    Parameters
    ----------
    f : callable
        ``R^n -> R^m`` written with plain numpy.
    x : array_like
        The point.
    sparsity : scipy.sparse matrix, optional
        Known pattern, shape ``(f(x).size, x.size)``; skips detection.
    local : bool
        Detect the pattern at this x only.

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(f(x).size, x.size)``; inside another differentiation, the
        dense Jacobian as a value of the outer engine.

    Examples
    --------
    >>> import numpy as np
    >>> sparse_jacobian(lambda x: x[1:] * x[:-1], np.array([1.0, 2.0, 3.0])).toarray()
    array([[2., 1., 0.],
           [0., 3., 2.]])
    """
    if _outer(x):
        return _h.jacobian(f, x)
    return SparseJacobian(f, x, sparsity=sparsity, local=local)(x)


def sparse_hessian(f: Callable[[Any], Any], x: Any, *, sparsity: Any = None,
                   local: bool = False) -> Any:
    """Exact sparse Hessian of scalar ``f`` at ``x`` (``scipy.sparse.csr_matrix``).

    One forward-over-reverse pass carrying one direction per star colour.

    Parameters
    ----------
    f : callable
        Scalar ``R^n -> R`` written with plain numpy.
    x : array_like
        The point.
    sparsity : scipy.sparse matrix, optional
        Known pattern, shape ``(x.size, x.size)``; skips detection.
    local : bool
        Detect the pattern at this x only.

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(x.size, x.size)``; inside another differentiation, the dense
        Hessian as a value of the outer engine.

    Examples
    --------
    >>> import numpy as np
    >>> sparse_hessian(lambda x: np.sum(x ** 3), np.array([1.0, 2.0])).toarray()
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    if _outer(x):
        return _h.hessian(f, x)
    return SparseHessian(f, x, sparsity=sparsity, local=local)(x)
