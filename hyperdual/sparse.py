"""Sparse Jacobians and Hessians in forward mode: detect, colour, compress, recover.

``sparse_jacobian`` runs ``f`` once on a :class:`Dual` whose direction stack
holds one seed per colour (a handful of directions instead of ``x.size``) and
reads the Jacobian's nonzeros from the compressed product ``J @ V``.
``sparse_hessian`` runs one HyperDual pass with the colour seeds on ε1 and the
unit directions on ε2, giving ``H @ V`` (the cost of ``ncolours`` Hessian-vector
products in forward mode, each of which still carries ``x.size`` directions:
``reverse.sparse_hessian`` does it in ``O(ncolours)`` instead).

The pattern comes from :func:`hessian_sparsity` /
:func:`jacobian_sparsity` unless given as ``sparsity=``;
:class:`SparseJacobian` and :class:`SparseHessian` detect and colour once and
then evaluate at each new ``x`` (for the calls of an optimizer).

Results are ``scipy.sparse.csr_matrix``.  Inside another differentiation (``x``
a number of an outer perturbation) they return the dense matrix as a number of
the outer engine instead, computed by :func:`hyperdual.jacobian` /
:func:`hyperdual.hessian`.

Examples
--------
>>> import numpy as np
>>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
>>> H = sparse_hessian(rosen, np.zeros(5))
>>> H.nnz, float(H[0, 0]), float(H[0, 1])
(13, 2.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from _exactdiff.colouring import (
    column_colouring,
    hessian_recovery,
    jacobian_recovery,
    seed_stack,
    star_colouring,
)
from _exactdiff.heap import keep_heap
from _exactdiff.sparsity import _as_csr as _pattern_csr
from _exactdiff.sparsity import hessian_pairs, hessian_sparsity, jacobian_sparsity

from . import helpers as _h
from ._number import Dual, HyperDual, _Number

__all__ = ["SparseHessian", "SparseJacobian", "sparse_hessian", "sparse_jacobian"]


class _Nested(Exception):
    """f depends on an outer differentiation: the dense helper takes over."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.engine = engine


def _pattern(given: Any, shape: tuple, what: str) -> sp.csr_matrix:
    P = sp.csr_matrix(given, dtype=bool)
    if P.shape != shape:
        raise ValueError(f"{what}: sparsity has shape {P.shape}, expected {shape}")
    return P


class SparseJacobian:
    """A reusable sparse Jacobian: pattern and colouring found once, at ``x_example``.

    Parameters
    ----------
    f : callable
        ``R^n -> R^m`` written with plain numpy.
    x_example : array_like
        A point with the shape of later points (its values only matter with
        ``local=True``).
    sparsity : scipy.sparse matrix, optional
        A known pattern (shape ``(m, n)``); skips detection.
    local : bool
        Detect the pattern at ``x_example`` only (see ``_exactdiff.sparsity``).

    Attributes
    ----------
    sparsity : scipy.sparse.csr_matrix of bool
    colours : ndarray of int
        Column colours; ``ncolours`` forward directions per evaluation.

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

    _engine = "hyperdual"

    def __init__(self, f: Callable[[Any], Any], x_example: Any, *, sparsity: Any = None,
                 local: bool = False) -> None:
        _h._check_callable(f, "SparseJacobian")
        self.f = f
        x0 = np.asarray(x_example, dtype=float)
        self.shape_x = x0.shape
        if sparsity is None:
            self.sparsity = jacobian_sparsity(f, x0, local=local)
        else:
            self.sparsity = _pattern(sparsity, (sparsity.shape[0], x0.size), "SparseJacobian")
        self.colours = self._colour()
        self.ncolours = int(self.colours.max()) + 1 if self.colours.size else 0
        self._recover = self._recovery()

    def _colour(self) -> np.ndarray:
        return column_colouring(self.sparsity)

    def _seeds(self, dtype: Any) -> np.ndarray:
        """The direction stack (ncolours,) + x.shape, built once per dtype (and the
        allocator told to keep blocks of the evaluation's size, see
        ``_exactdiff.heap``)."""
        dtype = np.dtype(dtype)
        cache = self.__dict__.setdefault("_seed_cache", {})
        V = cache.get(dtype)
        if V is None:
            V = cache[dtype] = seed_stack(self.colours, self.shape_x, dtype)
            V.flags.writeable = False
        keep_heap(16 * V.nbytes)
        return V

    def _recovery(self) -> Any:
        return jacobian_recovery(self.sparsity, self.colours)

    def __call__(self, x: Any) -> Any:
        if isinstance(x, _Number) or _h._engine_of(x) is not None:
            return _h.jacobian(self.f, x)  # nested: the dense matrix of the outer engine
        x0, shape = _h._point(x)
        if shape != self.shape_x:
            raise ValueError(f"SparseJacobian: x has shape {shape}, expected {self.shape_x}")
        n = int(np.prod(shape, dtype=np.int64))
        m = self.sparsity.shape[0]
        if self.ncolours == 0:
            return sp.csr_matrix((m, n))
        V = self._seeds(_h._dtype(x0))
        try:
            return _compressed_jacobian(self.f, x0, V, self.sparsity.shape[0], self._recover)
        except _Nested as d:  # f closes over numbers of an outer differentiation
            return (d.engine.jacobian if d.engine else _h.jacobian)(self.f, x)


def _compressed_jacobian(f: Callable, x0: Any, V: np.ndarray, m: int, recover: Any
                         ) -> sp.csr_matrix:
    with _h._CallScope():
        tag = _h._seed_tag()
        try:
            y = _h._call(f, Dual._build((x0, V), tag, 1), "sparse_jacobian")
        except _h._Delegate as d:
            raise _Nested(d.engine) from None
        ys = _h._value_shape(y)
        k = V.shape[0]
        d = _h._part_of(y, tag, Dual, 1, (k,) + ys, V.dtype)
        if isinstance(d, _Number):
            raise _Nested(None)
        B = np.reshape(np.broadcast_to(d, (k,) + ys), (k, -1))  # (ncolours, m)
        if B.shape[1] != m:
            raise ValueError(f"sparse_jacobian: f(x) has {B.shape[1]} elements, the "
                             f"sparsity pattern {m} rows")
        return recover.stacked(B)


class SparseHessian(SparseJacobian):
    """A reusable sparse Hessian of scalar ``f`` (pattern and star colouring once).

    Calling it at a point ``x`` of ``x_example``'s shape returns the Hessian
    there as a symmetric ``scipy.sparse.csr_matrix`` of shape ``(n, n)``, from
    one HyperDual pass with the star colours' seeds on ε1 (see the module
    docstring for its cost).

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
    >>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> H = SparseHessian(rosen, np.zeros(1000))
    >>> H.ncolours
    3
    >>> h = H(np.ones(1000))
    >>> float(h[0, 0]), float(h[0, 1])
    (802.0, -400.0)
    """

    def __init__(self, f: Callable[[Any], Any], x_example: Any, *, sparsity: Any = None,
                 local: bool = False) -> None:
        _h._check_callable(f, "SparseHessian")
        self.f = f
        x0 = np.asarray(x_example, dtype=float)
        self.shape_x = x0.shape
        n = x0.size
        if sparsity is None:
            self.sparsity = hessian_sparsity(f, x0, local=local)
        else:
            self.sparsity = _pattern(sparsity, (n, n), "SparseHessian")
        self.colours = star_colouring(self.sparsity)
        self.ncolours = int(self.colours.max()) + 1 if self.colours.size else 0
        self._recover = hessian_recovery(self.sparsity, self.colours)

    def __call__(self, x: Any) -> Any:
        if isinstance(x, _Number) or _h._engine_of(x) is not None:
            return _h.hessian(self.f, x)
        x0, shape = _h._point(x)
        if shape != self.shape_x:
            raise ValueError(f"SparseHessian: x has shape {shape}, expected {self.shape_x}")
        n = int(np.prod(shape, dtype=np.int64))
        if self.ncolours == 0:
            return sp.csr_matrix((n, n))
        dt = _h._dtype(x0)
        V = self._seeds(dt)
        with _h._CallScope():
            try:
                VtH = _compressed_hessian(self.f, x0, shape, V, "sparse_hessian")
            except _Nested as d:
                return (d.engine.hessian if d.engine else _h.hessian)(self.f, x)
        return self._recover.stacked(VtH)


def _compressed_hessian(f: Callable, x0: Any, shape: tuple, V: np.ndarray, helper: str
                        ) -> np.ndarray:
    """``V.T @ H`` as a (ncolours, n) array: HyperDual passes with the colour seeds
    ``V`` (shape (ncolours,) + shape) on ε1 and blocks of unit directions on ε2.
    Raises :class:`_Nested` if f depends on an outer differentiation."""
    n = int(np.prod(shape, dtype=np.int64))
    dt = V.dtype
    tag = _h._seed_tag()
    k = V.shape[0]
    cols = []
    step = _h._block_size(n, n * k)
    keep_heap(16 * k * step * n * dt.itemsize)  # ε12 parts of one block
    e1 = V.reshape((k, 1) + shape)
    for start in range(0, max(n, 1), step):
        b = min(step, n - start)
        e2 = _h._eye_block(start, b, n, shape, (1, b), dt)
        e12 = np.broadcast_to(np.zeros((), dtype=dt), (k, b) + shape)
        try:
            y = _h._call(f, HyperDual._build((x0, e1, e2, e12), tag, 2), helper)
        except _h._Delegate as d:
            raise _Nested(d.engine) from None
        _h._require_scalar(y, helper)
        part = _h._part_of(y, tag, HyperDual, 3, (k, b), dt)
        if isinstance(part, _Number):  # f closes over an outer perturbation
            raise _Nested(None)
        cols.append(part)
    VtH = cols[0] if len(cols) == 1 else np.concatenate(cols, axis=1)  # (k, n)
    return np.reshape(np.broadcast_to(VtH, (k, n)), (k, n))


# hyperdual.hessian takes the sparse route from this many variables on (below it
# the dense stacks cost less than detecting the pattern), when the star colouring
# needs at most a quarter as many directions as the dense stacks
_ROUTE_MIN_N = 40
_ROUTE_MAX_FILL = 0.25


def _star_work(indptr: np.ndarray, indices: np.ndarray) -> float:
    """About the steps of the greedy star colouring: paths v-w-x over the pattern,
    times the degree of x (full bands take a vectorised shortcut and cost nothing)."""
    deg = np.diff(indptr).astype(np.float64)
    return float(np.dot(np.repeat(deg, np.diff(indptr)), deg[indices]))


class _Plan:
    """What the route needs of one pattern (a pure function of it, so kept for later
    calls with the same pattern, e.g. an optimizer's): the seeds, with the checking
    direction ``w`` last, and where the recovered entries sit."""

    __slots__ = ("k", "n", "V", "w", "rows", "wc", "absent", "gather", "scatter")

    def __init__(self, P: sp.csr_matrix, colours: np.ndarray, n: int, dt: Any) -> None:
        k = self.k = int(colours.max()) + 1
        self.n = n
        recover = hessian_recovery(P, colours)
        self.w = w = np.random.default_rng(n).uniform(0.5, 1.5, n).astype(dt)
        V = np.zeros((k + 1, n), dtype=dt)
        V[colours, np.arange(n)] = 1
        V[k] = w
        self.V = V
        self.rows = rows = np.repeat(np.arange(n), np.diff(recover.indptr))
        cols = recover.indices
        self.wc = w[cols]
        present = np.zeros(k * n, dtype=bool)
        present[colours[cols] * n + rows] = True
        self.absent = np.flatnonzero(~present)  # where V.T @ H must be zero
        self.gather = recover.at_col.astype(np.intp) * n + recover.at_row
        self.scatter = rows * n + cols
        for a in (V, w, self.rows, self.wc, self.absent, self.gather, self.scatter):
            a.flags.writeable = False


_PLANS: dict = {}
_NO_PLAN = object()


def _plan(pattern: Any, n: int, dt: Any) -> _Plan | None:
    """The route's plan for a symmetric pattern (an (n, n) boolean ndarray or a
    scipy.sparse matrix), or None where it does not pay."""
    if type(pattern) is np.ndarray:
        key = (n, np.dtype(dt).str, np.packbits(pattern).tobytes())
        P = None
    else:
        P = pattern
        if type(P) is not sp.csr_matrix or not P.has_canonical_format:
            P = sp.csr_matrix(P, copy=True)
            P.sum_duplicates()
        key = (n, np.dtype(dt).str, P.indptr.tobytes(), P.indices.tobytes())
    plan = _PLANS.get(key, _NO_PLAN)
    if plan is not _NO_PLAN:
        return plan
    if P is None:
        P = _pattern_csr(pattern)
    indptr, indices = P.indptr, P.indices
    plan = None
    if indices.size <= _ROUTE_MAX_FILL * n * n and _star_work(indptr, indices) <= n ** 3:
        # (denser: it would not pay, and the greedy colouring would be slow)
        colours = star_colouring(P)
        k = int(colours.max()) + 1 if colours.size else 0
        if 0 < k and k + 1 <= _ROUTE_MAX_FILL * n:
            plan = _Plan(P, colours, n, dt)
    if len(_PLANS) >= 32:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


def _dense_hessian_by_colours(f: Callable, x0: Any, shape: tuple, dt: Any) -> Any:
    """The dense Hessian (an ndarray of shape ``shape + shape``) computed through the
    sparse machinery, or None where it does not pay or cannot be trusted.

    Called by :func:`hyperdual.hessian` for plain float arrays of at least
    ``_ROUTE_MIN_N`` elements: detect the global pattern (any failure of the
    tracer: a branch on x, a conversion, an unknown function, f raising: None),
    star-colour it, evaluate ``V.T @ H`` in one compressed HyperDual pass (its
    cost is ncolours / n of the dense stacks') and scatter the recovered entries
    into a dense matrix.  The pass carries one more direction, a fixed random
    ``w``, and the result is kept only if ``H w`` (exact, whatever the pattern)
    agrees with the recovered matrix times ``w`` to rounding, ``V.T @ H`` is zero
    wherever the pattern says a row has no entry of a colour, and everything is
    finite (inf/nan results stay those of the dense stacks).  An entry the
    detection missed shows in these checks, so a fault of the tracer costs the
    dense stacks' time, never a wrong matrix.  The colouring and the recovery's
    indices depend on the pattern only: they are kept for the next call with the
    same pattern (see :class:`_Plan`); the detection runs at every call.
    """
    n = int(np.prod(shape, dtype=np.int64))
    try:
        with np.errstate(all="ignore"):
            pattern = hessian_pairs(f, x0)
    except Exception:  # the dense stacks run f as given (and report its errors)
        return None
    plan = _plan(pattern, n, dt)
    if plan is None:
        return None
    k = plan.k
    try:
        stack = _compressed_hessian(f, x0, shape, plan.V.reshape((k + 1,) + shape), "hessian")
    except _Nested:
        return None
    flat = np.ascontiguousarray(stack).reshape(-1)  # V.T @ H, then H @ w
    if not np.all(np.isfinite(flat)) or np.any(flat[plan.absent]):
        return None
    Hw = flat[k * n:]
    data = flat.take(plan.gather)
    Hsw = np.bincount(plan.rows, weights=data * plan.wc, minlength=n)
    size = np.bincount(plan.rows, weights=abs(data) * plan.wc, minlength=n) + abs(Hw)
    if np.any(abs(Hsw - Hw) > 1024 * np.finfo(dt).eps * size):
        return None
    H = np.zeros(n * n, dtype=flat.dtype)
    H[plan.scatter] = data
    return H.reshape(shape + shape)


def sparse_jacobian(f: Callable[[Any], Any], x: Any, *, sparsity: Any = None,
                    local: bool = False) -> Any:
    """Exact sparse Jacobian of ``f`` at ``x`` as a ``scipy.sparse.csr_matrix``.

    Parameters
    ----------
    f : callable
    x : array_like
    sparsity : scipy.sparse matrix, optional
        Known pattern, shape ``(f(x).size, x.size)``; skips detection.
    local : bool
        Detect the pattern at this x only.

    Returns
    -------
    scipy.sparse.csr_matrix, shape ``(f(x).size, x.size)``

    Examples
    --------
    >>> import numpy as np
    >>> sparse_jacobian(lambda x: np.sin(x) * 2, np.zeros(3)).toarray()
    array([[2., 0., 0.],
           [0., 2., 0.],
           [0., 0., 2.]])
    """
    if isinstance(x, _Number) or _h._engine_of(x) is not None:
        return _h.jacobian(f, x)
    return SparseJacobian(f, x, sparsity=sparsity, local=local)(x)


def sparse_hessian(f: Callable[[Any], Any], x: Any, *, sparsity: Any = None,
                   local: bool = False) -> Any:
    """Exact sparse Hessian of scalar ``f`` at ``x`` as a ``scipy.sparse.csr_matrix``.

    Parameters
    ----------
    f : callable
    x : array_like
    sparsity : scipy.sparse matrix, optional
        Known symmetric pattern, shape ``(x.size, x.size)``.
    local : bool

    Returns
    -------
    scipy.sparse.csr_matrix, shape ``(x.size, x.size)``

    Examples
    --------
    >>> import numpy as np
    >>> sparse_hessian(lambda x: np.sum(x ** 3), np.array([1.0, 2.0])).toarray()
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    if isinstance(x, _Number) or _h._engine_of(x) is not None:
        return _h.hessian(f, x)
    return SparseHessian(f, x, sparsity=sparsity, local=local)(x)
