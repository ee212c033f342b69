"""Sparsity patterns of Jacobians and Hessians, found by running ``f`` once.

``f`` runs on a :class:`Pattern`: a stand-in for ``x`` that carries, for every
element, the set of input elements it depends on (``deps``, one row per element
and one column per input: a sparse matrix, or for an x of at most
``_DENSE_MAX_N`` elements a dense boolean array, which costs far less per
operation there; both give the same patterns), through the same numpy dispatch
the engines use.  Each primitive has a small rule: elementwise
functions keep the sets (a function of two operands unions them), reductions
union over what they reduce, a product with a constant matrix follows that
matrix's nonzeros, selections (indexing, reshapes, ``concatenate``, the
shared ``_exactdiff`` selections such as ``tile`` or ``pad``) move the sets
with the elements.  For Hessians every nonlinear operation also records which
pairs of inputs it couples (the *global* rule of SparseConnectivityTracer.jl:
``sin(u)`` couples every pair of u's inputs, ``u * v`` every input of u with
every input of v, ``u + v`` none).

The result is **guaranteed to contain every entry that can be nonzero** (a
superset: cancellations and multiplications by zero constants are not seen).
By default the pattern holds for *every* x: ``f`` never sees values, and a
branch on the value of x (``if x[0] > 0``) raises ``ValueError``; comparisons
may still select with ``np.where`` (both branches count) and ``maximum``,
``abs``, ``clip`` count every operand.  ``local=True`` traces with the values
of this x instead: comparisons and branches follow x, so the pattern is the
one at this x only (it may miss entries that other x make nonzero).

Functions without a rule are handled conservatively when ``f`` passes plain
arrays of floats: every output element depends on every input element of the
operands (and, for Hessians, couples them all).

Examples
--------
>>> import numpy as np
>>> def f(x):
...     return x[1:] * x[:-1] + np.sin(x[1:])
>>> jacobian_sparsity(f, np.ones(4)).toarray().astype(int)
array([[1, 1, 0, 0],
       [0, 1, 1, 0],
       [0, 0, 1, 1]])
>>> hessian_sparsity(lambda x: np.sum(x[1:] * x[:-1]), np.ones(3)).toarray().astype(int)
array([[0, 1, 0],
       [1, 0, 1],
       [0, 1, 0]])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

from _exactdiff import messages as _msg

from . import contractions as _contractions
from . import linalg as _shared_linalg
from . import shape as _shared_shape
from . import statistics as _shared_statistics
from .heap import keep_heap

__all__ = ["Pattern", "jacobian_sparsity", "hessian_sparsity"]

_DT = np.float32  # dependency matrices hold 0/1 (counts never cancel: no signs)

#: Traces of an x of at most this many elements keep the dependency rows as dense
#: boolean arrays (rows, n) and the coupled pairs as an (n, n) boolean array: an
#: operation then costs a numpy call on a few thousand booleans instead of building
#: scipy.sparse matrices (tens of µs each, whatever the size).  Both give the same
#: pattern (tests/sparse_derivatives/test_dense_tracer.py).
_DENSE_MAX_N = 256
#: A dense trace that would hold more booleans than this in one array of dependency
#: rows (a large intermediate, e.g. an outer product) starts again as a sparse one.
_DENSE_MAX_CELLS = 1 << 21


class _DenseTooLarge(BaseException):
    """Raised inside f when a dense trace outgrows ``_DENSE_MAX_CELLS`` (a
    BaseException, so that f's own ``except Exception`` does not swallow it; the
    trace also remembers it, for an f that catches everything)."""


def _csr(rows: int, cols: int) -> sp.csr_matrix:
    return sp.csr_matrix((rows, cols), dtype=_DT)


def _binary(m: Any) -> Any:
    if type(m) is np.ndarray:  # a dense trace: R @ deps gave counts
        return m > 0
    if type(m) is not sp.csr_matrix or m.dtype != _DT:
        m = sp.csr_matrix(m, dtype=_DT)
    if not m.data.all():  # (sums and products of 0/1 entries are 0 only if stored so)
        m.eliminate_zeros()
    m.data.fill(1.0)
    return m


class _Trace:
    """State shared by the Patterns of one run: size of x, mode, coupled pairs."""

    __slots__ = ("n", "hessian", "local", "dense", "too_large", "pairs", "pending", "size",
                 "_empty")

    def __init__(self, n: int, hessian: bool, local: bool, dense: bool = False) -> None:
        self.n = n
        self.hessian = hessian
        self.local = local
        self.dense = dense
        self.too_large = False
        self.pairs = np.zeros((n, n), dtype=bool) if dense else _csr(n, n)
        self.pending: list[tuple[np.ndarray, np.ndarray]] = []
        self.size = 0
        self._empty: dict[int, Any] = {}

    def rows(self, rows: int) -> None:
        """Before a dense trace makes ``rows`` dependency rows: too many cells end it."""
        if self.dense and rows * self.n > _DENSE_MAX_CELLS:
            self.too_large = True
            raise _DenseTooLarge

    def empty(self, rows: int) -> Any:
        """Dependency rows of a constant (no entries), one shared matrix per size:
        nothing writes into a matrix without entries."""
        m = self._empty.get(rows)
        if m is None:
            if self.dense:
                self.rows(rows)
                m = np.zeros((rows, self.n), dtype=bool)
                m.flags.writeable = False
            else:
                m = _csr(rows, self.n)
            self._empty[rows] = m
        return m

    def couple(self, a: Any, b: Any = None) -> None:
        """Record that every input in a row of ``a`` meets every input in the same
        row of ``b`` (of ``a`` itself when b is None) in a nonlinear operation."""
        if not self.hessian:
            return
        if self.dense:
            self._couple_dense(a, b)
            return
        if a.nnz == 0 or (b is not None and b.nnz == 0):
            return
        other = a if b is None else b
        total = int(np.dot(np.diff(a.indptr), np.diff(other.indptr)))
        if total > 12 * a.shape[0]:
            # rows with many inputs (a stencil, a reduction fed to a nonlinear
            # function): the sparse product lists each pair once, not once per row
            p = sp.coo_matrix(a.T @ other)
            left, right = p.row, p.col
        else:
            left, right = _row_pairs(a, other)
        self.pending.append((left, right))
        if b is not None:
            self.pending.append((right, left))
        self.size += left.size
        if self.size >= 1 << 22:  # bound the memory of the pair lists
            self.flush()

    def _couple_dense(self, a: np.ndarray, b: np.ndarray | None) -> None:
        # kept until the end of f (or a few million cells): one pass over them all
        # costs what one operation's would
        self.pending.append((a, a if b is None else b))
        self.size += a.size
        if self.size > _DENSE_MAX_CELLS:
            self._flush_dense()

    def _flush_dense(self) -> None:
        if not self.pending:
            return
        a = np.concatenate([p[0] for p in self.pending])
        same = all(p[0] is p[1] for p in self.pending)
        b = a if same else np.concatenate([p[1] for p in self.pending])
        self.pending.clear()
        self.size = 0
        rows, n = a.shape
        ra, ia = _entries(a)
        if ra.size == 0:
            return
        ca = np.bincount(ra, minlength=rows)
        if same:
            ib, cb = ia, ca
        else:
            rb, ib = _entries(b)
            if rb.size == 0:
                return
            cb = np.bincount(rb, minlength=rows)
        total = int(np.dot(ca, cb))
        if total > 12 * rows and total > n * n:
            # many rows with many inputs: one product lists each pair once
            fa = a.astype(_DT)
            self.pairs |= (fa.T @ (fa if same else b.astype(_DT))) > 0
            return
        # every (i, j) with i in row r of a and j in row r of b (as _row_pairs); the
        # pattern is made symmetric at the end
        starts_b = np.zeros(rows + 1, dtype=np.intp)
        np.cumsum(cb, out=starts_b[1:])
        width = cb[ra]  # partners of each entry of a
        left = np.repeat(ia, width)
        start = np.repeat(starts_b[ra] - (np.cumsum(width) - width), width)
        self.pairs[left, ib[start + np.arange(total)]] = True

    def flush(self) -> None:
        if self.dense:
            return
        if self.pending:
            left = np.concatenate([p[0] for p in self.pending])
            right = np.concatenate([p[1] for p in self.pending])
            new = sp.csr_matrix((np.ones(left.size, dtype=_DT), (left, right)),
                                shape=(self.n, self.n))  # duplicates summed
            self.pairs = _binary(new if self.pairs.nnz == 0 else self.pairs + new)
            self.pending.clear()
            self.size = 0


def _entries(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the True entries of a 2-d boolean array, row by row (one
    flat nonzero: several times faster than the 2-d np.nonzero)."""
    flat = np.flatnonzero(m)
    r = flat // m.shape[1]
    return r, flat - r * m.shape[1]


def _row_pairs(a: sp.csr_matrix, b: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with i in row r of ``a`` and j in row r of ``b``, for all r
    (the entries of ``a.T @ b`` with repeats), without a sparse product."""
    ca = np.diff(a.indptr)
    cb = np.diff(b.indptr)
    rows_a = np.repeat(np.arange(ca.size), ca)  # the row of each entry of a
    width = cb[rows_a]  # partners of each entry of a
    total = int(width.sum())
    left = np.repeat(a.indices, width)
    start = np.repeat(b.indptr[rows_a] - (np.cumsum(width) - width), width)
    right = b.indices[start + np.arange(total)]
    return left, right


class _Unknown:
    """A comparison result in global mode: its value depends on x, so it cannot
    decide a branch; it may only select in ``np.where`` (both sides count)."""

    __slots__ = ("shape", "what")
    __array_priority__ = 1001.0

    def __init__(self, shape: tuple, what: str) -> None:
        self.shape = shape
        self.what = what

    def __bool__(self) -> bool:
        raise ValueError(
            f"sparsity detection: f branches on the value of x ({self.what}); a pattern "
            "valid for every x cannot follow one branch.  Select with np.where (both "
            "branches count), or pass local=True for the pattern at this x only"
        )

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        self.__bool__()
        raise AssertionError  # pragma: no cover

    def _logic(self, *_: Any) -> _Unknown:
        return self

    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = __invert__ = _logic

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and ufunc in (np.logical_and, np.logical_or, np.logical_xor,
                                              np.logical_not, np.bitwise_and, np.bitwise_or,
                                              np.bitwise_xor, np.invert):
            return _Unknown(np.broadcast_shapes(*[_shape_of(i) for i in inputs]), self.what)
        self.__bool__()
        return NotImplemented  # pragma: no cover

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func is np.where:
            return _where(*args, **kwargs)
        self.__bool__()
        return NotImplemented  # pragma: no cover


def _basic(index: Any, ndim: int) -> bool:
    """``index`` is basic indexing by slices and integers of at most ndim axes."""
    if type(index) is not tuple:
        index = (index,)
    if len(index) > ndim:
        return False
    for i in index:
        if type(i) is not slice and type(i) is not int:
            return False
    return True


def _shape_of(x: Any) -> tuple:
    if type(x) is float or type(x) is int:
        return ()
    if isinstance(x, (Pattern, _Unknown)):
        return x.shape
    return np.shape(x)


#: what the engines say when f converts a Pattern to an array: f's own np.asarray,
#: or a derivative helper called inside f, whose input check converts x
NOT_AN_ARRAY = (
    "sparsity detection: f converts x to a plain numpy array (np.asarray / np.array "
    "of traced values: use np.stack, np.concatenate or indexing instead), or f calls "
    "a derivative helper (gradient, derivative, hessian ...) on x, which the pattern "
    "trace cannot follow: pass the pattern as sparsity=, or use the dense helper")


class Pattern:
    """Stand-in for an array during sparsity detection (see the module docstring).

    Attributes
    ----------
    deps : scipy.sparse.csr_matrix or ndarray of bool
        One row per element (C order), one column per input element: nonzero where
        the element may depend on that input (a dense boolean array in a dense trace).
    shape : tuple
    value : ndarray or None
        The values at the traced x (``local=True`` only).
    """

    __slots__ = ("deps", "shape", "trace", "value")
    __array_priority__ = 1000.0
    _exactdiff_pattern = True  # the shared selection rules treat it as a traced value
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, deps: Any, shape: tuple, trace: _Trace,
                 value: Any = None) -> None:
        self.deps = deps
        self.shape = tuple(shape)
        self.trace = trace
        self.value = value

    # -- array-like -------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float64)

    @property
    def real(self) -> Any:
        """The values (``local=True``); a branch on them raises in global mode."""
        if self.trace.local:
            return self.value
        raise ValueError(
            "sparsity detection: f uses the value of x (a data-dependent selection such as "
            "np.interp's bins); pass local=True for the pattern at this x only")

    @property
    def T(self) -> Pattern:
        return np.transpose(self)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d Pattern")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        return f"Pattern(shape={self.shape}, nnz={_nnz(self.deps)})"

    def __bool__(self) -> bool:
        if self.trace.local:
            return bool(self.value)
        raise ValueError(
            "sparsity detection: f converts a value of x to bool (an `if` or `while` "
            "on x); a pattern valid for every x cannot follow one branch.  Pass "
            "local=True for the pattern at this x only"
        )

    def __float__(self) -> float:
        raise TypeError("sparsity detection: f converts a value of x to float (float(), or "
                        "a[i] = x[j] into a plain numpy array), which would drop the "
                        "dependence; build arrays with np.stack, np.concatenate or np.where")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(NOT_AN_ARRAY)

    def reshape(self, *shape: Any, order: str = "C") -> Pattern:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return np.reshape(self, shape)

    def transpose(self, *axes: Any) -> Pattern:
        return np.transpose(self, axes or None)

    def ravel(self) -> Pattern:
        return np.reshape(self, (-1,))

    flatten = ravel

    def copy(self) -> Pattern:
        return self

    def sum(self, axis: Any = None, keepdims: bool = False) -> Pattern:
        return np.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Pattern:
        return np.mean(self, axis=axis, keepdims=keepdims)

    def prod(self, axis: Any = None, keepdims: bool = False) -> Pattern:
        return np.prod(self, axis=axis, keepdims=keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Pattern:
        return np.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Pattern:
        return np.min(self, axis=axis, keepdims=keepdims)

    def dot(self, other: Any) -> Pattern:
        return np.dot(self, other)

    def __getitem__(self, index: Any) -> Pattern:
        if isinstance(index, Pattern):
            raise TypeError("sparsity detection: an index computed from x")
        trace = self.trace
        if trace.dense and _basic(index, len(self.shape)):
            # slices and integers: index the rows as an array of shape + (n,)
            d = self.deps.reshape(self.shape + (trace.n,))[index]
            value = np.asarray(self.value, dtype=float)[index] if trace.local else None
            return Pattern(d.reshape(-1, trace.n), d.shape[:-1], trace, value)
        return _select([self], lambda maps: maps[0][index])

    # -- numpy protocols --------------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__":  # reduce, accumulate, outer: compositions of calls
            from .ufunc_methods import apply
            return apply(ufunc, method, inputs, kwargs)
        if "out" in kwargs:
            raise TypeError(f"sparsity detection: {ufunc.__name__} with out= is not "
                            "supported")
        if ufunc is np.matmul:
            return _matmul(*inputs)
        gu = _contractions.GUFUNCS.get(ufunc)
        if gu is not None:  # numpy 2's vecdot, matvec, vecmat: products, sums and matmul
            return _contractions.gufunc(gu, inputs, kwargs)
        if ufunc.signature is not None:  # another generalised ufunc: not elementwise
            return _conservative(ufunc, inputs, kwargs)
        return _ufunc(ufunc, inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        impl = _FUNCTIONS.get(func)
        if impl is not None:
            return impl(*args, **kwargs)
        selection = _selection_rules().get(func)
        if selection is not None:
            return selection(*args, **kwargs)
        return _conservative(func, args, kwargs)


def _install_operators() -> None:
    ops = {
        "add": np.add, "sub": np.subtract, "mul": np.multiply, "truediv": np.true_divide,
        "pow": np.power, "matmul": np.matmul, "mod": np.remainder,
        "floordiv": np.floor_divide,
    }
    for name, uf in ops.items():
        setattr(Pattern, f"__{name}__", lambda a, b, uf=uf: uf(a, b))
        setattr(Pattern, f"__r{name}__", lambda a, b, uf=uf: uf(b, a))
    for name, uf in {"neg": np.negative, "pos": np.positive, "abs": np.absolute}.items():
        setattr(Pattern, f"__{name}__", lambda a, uf=uf: uf(a))
    for name, uf in {"lt": np.less, "le": np.less_equal, "gt": np.greater,
                     "ge": np.greater_equal, "eq": np.equal, "ne": np.not_equal}.items():
        setattr(Pattern, f"__{name}__", lambda a, b, uf=uf: uf(a, b))


_install_operators()


# -----------------------------------------------------------------------------
# Dependencies of operands
# -----------------------------------------------------------------------------
def _trace_of(*xs: Any) -> _Trace:
    for x in xs:
        if isinstance(x, Pattern):
            return x.trace
        if isinstance(x, (list, tuple)):
            for y in x:
                if isinstance(y, Pattern):
                    return y.trace
    raise AssertionError("no Pattern among the operands")  # pragma: no cover


def _deps_at(x: Any, shape: tuple, trace: _Trace) -> Any:
    """Dependency rows of ``x`` broadcast to ``shape`` (empty rows for constants)."""
    if not isinstance(x, Pattern):
        return trace.empty(math.prod(shape))
    if x.shape == shape:
        return x.deps
    size = math.prod(shape)
    trace.rows(size)
    if trace.dense:
        d = x.deps.reshape(x.shape + (trace.n,))
        return np.broadcast_to(d, shape + (trace.n,)).reshape(size, trace.n)
    idx = np.broadcast_to(np.arange(x.size).reshape(x.shape), shape).ravel()
    return x.deps[idx]


def _nnz(m: Any) -> int:
    return int(np.count_nonzero(m)) if type(m) is np.ndarray else m.nnz


def _union(*ms: Any) -> Any:
    if ms and type(ms[0]) is np.ndarray:  # a dense trace
        total = ms[0]
        for m in ms[1:]:
            total = total | m
        return total
    ms = [m for m in ms if m.nnz]
    if not ms:
        return ms[0] if ms else None  # type: ignore[return-value]
    if len(ms) == 1:
        return ms[0]
    total = ms[0]
    for m in ms[1:]:
        total = total + m
    return _binary(total)


def _value(x: Any) -> Any:
    return x.value if isinstance(x, Pattern) else x


def _new(deps: Any, shape: tuple, trace: _Trace, value: Any) -> Pattern:
    if deps is None:
        deps = trace.empty(math.prod(shape))
    return Pattern(deps, shape, trace, value)


# -----------------------------------------------------------------------------
# ufuncs
# -----------------------------------------------------------------------------
_ZERO = {np.sign, np.floor, np.ceil, np.trunc, np.rint, np.floor_divide, np.heaviside,
         np.spacing}
_TESTS = {np.isnan, np.isinf, np.isfinite, np.signbit, np.greater, np.greater_equal,
          np.less, np.less_equal, np.equal, np.not_equal, np.logical_and, np.logical_or,
          np.logical_xor, np.logical_not}
_LINEAR = {np.add, np.subtract, np.negative, np.positive, np.conjugate, np.deg2rad,
           np.rad2deg, np.radians, np.degrees}
# first derivatives piecewise constant: no second-order coupling
_PIECEWISE = {np.absolute, np.fabs, np.maximum, np.minimum, np.fmax, np.fmin, np.copysign,
              np.remainder, np.fmod}
_SELECT_BY_VALUE = {np.maximum: np.greater_equal, np.fmax: np.greater_equal,
                    np.minimum: np.less_equal, np.fmin: np.less_equal}


def _broadcast(inputs: tuple) -> tuple:
    """np.broadcast_shapes of the operands' shapes, without its cost when they agree
    (Python numbers broadcast to anything)."""
    shape = None
    for x in inputs:
        if type(x) is float or type(x) is int:
            continue
        s = x.shape if type(x) is Pattern else _shape_of(x)
        if shape is None:
            shape = s
        elif s != shape:
            return np.broadcast_shapes(*[_shape_of(x) for x in inputs])
    return () if shape is None else shape


def _ufunc(ufunc: Any, inputs: tuple) -> Any:
    trace = _trace_of(*inputs)
    shape = _broadcast(inputs)
    value = ufunc(*[_value(x) for x in inputs]) if trace.local else None
    if ufunc in _TESTS:
        return value if trace.local else _Unknown(shape, f"np.{ufunc.__name__}")
    if ufunc in _ZERO:
        return _new(None, shape, trace, value)
    deps = [_deps_at(x, shape, trace) for x in inputs]
    traced = [isinstance(x, Pattern) for x in inputs]
    if ufunc is np.copysign:
        return _new(deps[0], shape, trace, value)
    if trace.local and ufunc in _SELECT_BY_VALUE and all(traced):
        a, b = (_value(x) for x in inputs)
        ge = np.broadcast_to(_SELECT_BY_VALUE[ufunc](a, b), shape).ravel()
        le = np.broadcast_to(_SELECT_BY_VALUE[ufunc](b, a), shape).ravel()
        return _new(_union(_rows_where(deps[0], ge), _rows_where(deps[1], le)), shape, trace,
                    value)
    if ufunc in _LINEAR or ufunc in _PIECEWISE:
        return _new(_union(*deps), shape, trace, value)
    if ufunc is np.multiply and all(traced):
        trace.couple(deps[0], deps[1])
        return _new(_union(*deps), shape, trace, value)
    if ufunc is np.multiply or (ufunc in (np.true_divide, np.divide) and not traced[1]):
        return _new(_union(*deps), shape, trace, value)  # linear in the traced operand
    if ufunc in (np.true_divide, np.divide):
        trace.couple(deps[1])
        if traced[0]:
            trace.couple(deps[0], deps[1])
        return _new(_union(*deps), shape, trace, value)
    if ufunc is np.power and not traced[1] and _zero_or_one(inputs[1]):
        exponent = np.broadcast_to(inputs[1], shape).ravel()
        return _new(_rows_where(deps[0], exponent != 0), shape, trace, value)
    union = _union(*deps)
    if union is None:
        union = trace.empty(math.prod(shape))
    trace.couple(union)
    return _new(union, shape, trace, value)


def _zero_or_one(c: Any) -> bool:
    """Every element of the constant exponent ``c`` is 0 or 1."""
    if type(c) is float or type(c) is int:
        return c == 0 or c == 1
    c = np.asarray(c)
    return bool(np.all((c == 0) | (c == 1)))


def _rows_where(m: Any, keep: np.ndarray) -> Any:
    if type(m) is np.ndarray:
        return m & np.asarray(keep, dtype=bool)[:, None]
    return sp.csr_matrix(sp.diags(np.asarray(keep, dtype=_DT)) @ m)


# -----------------------------------------------------------------------------
# Selections: numpy's own function applied to index maps
# -----------------------------------------------------------------------------
def _select(arrays: list, func: Callable[[list], Any]) -> Any:
    """Run ``func`` on index maps of ``arrays``; gather their rows (and values)."""
    trace = _trace_of(*arrays)
    maps, blocks, start = [], [trace.empty(1)], 1
    for a in arrays:
        shape = _shape_of(a)
        size = math.prod(shape)
        if isinstance(a, Pattern):
            maps.append(np.arange(start, start + size).reshape(shape))
            blocks.append(a.deps)
            start += size
        else:
            maps.append(np.zeros(shape, dtype=np.intp))
    index = func(maps)
    if isinstance(index, (list, tuple)):
        return type(index)(_gathered(np.asarray(i), blocks, arrays, func, trace, k)
                           for k, i in enumerate(index))
    return _gathered(np.asarray(index), blocks, arrays, func, trace, None)


def _gathered(index: np.ndarray, blocks: list, arrays: list, func: Any, trace: _Trace,
              k: int | None) -> Pattern:
    rows = index.ravel()
    if len(blocks) == 2 and rows.size and rows[0] > 0 and (
            rows.size == 1 or (rows[-1] - rows[0] == rows.size - 1
                               and np.all(np.diff(rows) == 1))):
        # a run of one operand's rows (x[1:], reshapes): a slice, no gather
        deps = blocks[1][rows[0] - 1: rows[-1]]
    elif trace.dense:
        trace.rows(rows.size)
        source = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
        deps = source[rows]
    else:
        source = blocks[0] if len(blocks) == 1 else sp.vstack(blocks, format="csr")
        deps = source[rows]
    value = None
    if trace.local:
        value = func([np.asarray(_value(a), dtype=float) for a in arrays])
        if k is not None:
            value = value[k]
    if type(deps) is not sp.csr_matrix and not trace.dense:
        deps = sp.csr_matrix(deps)
    return Pattern(deps, index.shape, trace, value)


def _single(func: Any) -> Callable[..., Any]:
    def impl(a: Any, *args: Any, **kwargs: Any) -> Any:
        return _select([a], lambda m: func(m[0], *args, **kwargs))
    return impl


def _sequence(func: Any) -> Callable[..., Any]:
    def impl(arrays: Any, *args: Any, **kwargs: Any) -> Any:
        return _select(list(arrays), lambda m: func(m, *args, **kwargs))
    return impl


# -----------------------------------------------------------------------------
# Reductions and products
# -----------------------------------------------------------------------------
def _reduce(a: Pattern, deps: Any, axis: Any, keepdims: bool) -> tuple[Any, tuple, tuple]:
    """(rows, shape, shape with kept axes): ``deps`` (rows of a's elements) united over
    ``axis``, one row per element of the result."""
    nd = a.ndim
    axes = tuple(range(nd)) if axis is None else (
        (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis))
    axes = tuple(int(ax) % nd for ax in axes) if nd else ()
    kept = tuple(1 if i in axes else s for i, s in enumerate(a.shape))
    out = tuple(s for i, s in enumerate(a.shape) if i not in axes)
    shape = kept if keepdims else out
    if a.trace.dense:
        n = a.trace.n
        united = deps.reshape(a.shape + (n,)).any(axis=axes, keepdims=True)
        return united.reshape(-1, n), shape, kept
    rows = np.broadcast_to(np.arange(math.prod(kept)).reshape(kept), a.shape).ravel()
    R = sp.csr_matrix((np.ones(a.size, dtype=_DT), (rows, np.arange(a.size))),
                      shape=(math.prod(kept), a.size))
    return _binary(R @ deps), shape, kept


def _selected(a: Pattern, npfunc: Any, kwargs: dict) -> Any:
    """The rows of ``a``'s elements that numpy's ``where=``/``initial=`` of ``npfunc``
    leave in the reduction: those the constant mask selects (``initial`` is a constant:
    no dependence).  Other keywords raise ``TypeError`` naming them."""
    unknown = set(kwargs) - {"where", "initial"}
    if unknown:
        raise TypeError(f"sparsity detection: numpy.{npfunc.__name__} keyword arguments "
                        f"{sorted(unknown)} are not supported")
    if isinstance(kwargs.get("initial"), Pattern):
        raise TypeError(f"sparsity detection: numpy.{npfunc.__name__}(initial=...) must be "
                        "a constant")
    where = kwargs.get("where", True)
    if where is True or where is np._NoValue:
        return a.deps
    if isinstance(where, (Pattern, _Unknown)):
        raise TypeError(f"sparsity detection: numpy.{npfunc.__name__}(where=...) must be a "
                        "constant mask, not a value computed from x")
    keep = np.broadcast_to(np.asarray(where, dtype=bool), a.shape).ravel()
    return _rows_where(a.deps, keep)


def _reduction(nonlinear: bool, npfunc: Any) -> Callable[..., Any]:
    def impl(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, **kwargs: Any) -> Any:
        if out is not None:
            raise TypeError("sparsity detection: out= is not supported")
        if not isinstance(a, Pattern):
            return npfunc(a, axis=axis, keepdims=keepdims, **kwargs)
        trace = a.trace
        # where=: only the selected elements are reduced (their dependences alone)
        deps, shape, _ = _reduce(a, _selected(a, npfunc, kwargs), axis, keepdims)
        if nonlinear:
            trace.couple(deps)
        value = npfunc(a.value, axis=axis, keepdims=keepdims, **kwargs) if trace.local \
            else None
        return Pattern(deps, shape, trace, value)
    return impl


def _extremum(npfunc: Any) -> Callable[..., Any]:
    linear = _reduction(False, npfunc)

    def impl(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,
             **kwargs: Any) -> Any:
        if not (isinstance(a, Pattern) and a.trace.local):
            return linear(a, axis=axis, out=out, keepdims=keepdims, **kwargs)
        # at this x: the selected elements that attain the extremum (all of them at
        # ties; none where initial= is larger)
        _selected(a, npfunc, kwargs)  # the keyword checks
        best = npfunc(a.value, axis=axis, keepdims=True, **kwargs)
        hit = ((a.value == best) | (a.value != a.value)).ravel()  # NaN: selected
        if "where" in kwargs and kwargs["where"] is not True:
            hit &= np.broadcast_to(np.asarray(kwargs["where"], dtype=bool), a.shape).ravel()
        deps, shape, _ = _reduce(a, _rows_where(a.deps, hit), axis, keepdims)
        return Pattern(deps, shape, a.trace,
                       npfunc(a.value, axis=axis, keepdims=keepdims, **kwargs))
    return impl


def _cumulative(nonlinear: bool, npfunc: Any) -> Callable[..., Any]:
    def impl(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        if not isinstance(a, Pattern):
            return npfunc(a, axis=axis)
        if axis is None:
            a, axis = np.reshape(a, (-1,)), 0
        axis = int(axis) % a.ndim
        if a.trace.dense:  # output i of a lane depends on inputs 0..i
            d = a.deps.reshape(a.shape + (a.trace.n,))
            deps = np.logical_or.accumulate(d, axis=axis).reshape(a.deps.shape)
            if nonlinear:
                a.trace.couple(deps)
            value = npfunc(a.value, axis=axis) if a.trace.local else None
            return Pattern(deps, a.shape, a.trace, value)
        pos = np.arange(a.size).reshape(a.shape)
        lane = np.moveaxis(pos, axis, -1).reshape(-1, a.shape[axis])
        rows, cols = [], []
        for i in range(a.shape[axis]):  # output i of a lane depends on inputs 0..i
            rows.append(np.repeat(lane[:, i], i + 1))
            cols.append(lane[:, : i + 1].ravel())
        R = sp.csr_matrix((np.ones(sum(len(r) for r in rows), dtype=_DT),
                           (np.concatenate(rows), np.concatenate(cols))),
                          shape=(a.size, a.size))
        deps = _binary(R @ a.deps)
        if nonlinear:
            trace = a.trace
            trace.couple(deps)
        value = npfunc(a.value, axis=axis) if a.trace.local else None
        return Pattern(deps, a.shape, a.trace, value)
    return impl


def _product_2d(a: Any, b: Any) -> Any:
    """a @ b for operands of at most 2 dimensions (either may be constant)."""
    trace = _trace_of(a, b)
    sa, sb = _shape_of(a), _shape_of(b)
    if len(sa) > 2 or len(sb) > 2 or not sa or not sb:
        return None
    A2 = (1,) + sa if len(sa) == 1 else sa
    B2 = sb + (1,) if len(sb) == 1 else sb
    m, k = A2
    k2, p = B2
    if k != k2:
        raise ValueError(f"matmul: shapes {sa} and {sb} do not align")
    out_shape = tuple(([m] if len(sa) == 2 else []) + ([p] if len(sb) == 2 else []))
    value = np.matmul(_value(a), _value(b)) if trace.local else None
    # out[r, c] = sum_j a[r, j] b[j, c]
    if trace.dense:
        return _new(_product_dense(a, b, m, k, p, trace), out_shape, trace, value)
    if isinstance(a, Pattern):
        if isinstance(b, Pattern):
            Ra = sp.kron(sp.identity(m, dtype=_DT), sp.csr_matrix(np.ones((1, k), dtype=_DT)))
            Da = _binary(Ra @ a.deps)  # union of row r of a
            Da = sp.csr_matrix(sp.kron(Da, np.ones((p, 1), dtype=_DT)))  # to (m*p)
        else:
            Bnz = _csr_nonzero(np.asarray(b, dtype=float).reshape(B2))
            Ra = sp.kron(sp.identity(m, dtype=_DT), Bnz.T)  # (m*p, m*k)
            Da = _binary(Ra @ a.deps)
    else:
        Da = None
    if isinstance(b, Pattern):
        if isinstance(a, Pattern):
            Rb = sp.kron(sp.csr_matrix(np.ones((1, k), dtype=_DT)), sp.identity(p, dtype=_DT))
            Db = _binary(Rb @ b.deps)  # union of column c of b: (p, n)
            Db = sp.csr_matrix(sp.kron(np.ones((m, 1), dtype=_DT), Db))  # to (m*p)
        else:
            Anz = _csr_nonzero(np.asarray(a, dtype=float).reshape(A2))
            Rb = sp.kron(Anz, sp.identity(p, dtype=_DT))  # (m*p, k*p)
            Db = _binary(Rb @ b.deps)
    else:
        Db = None
    if Da is not None and Db is not None:
        # the sum of products couples row r of a with column c of b, term by term
        for j in range(k):
            ra = a.deps[np.arange(m) * k + j]
            rb = b.deps[np.arange(p) + j * p]
            trace.couple(sp.csr_matrix(sp.kron(ra, np.ones((p, 1), dtype=_DT))),
                         sp.csr_matrix(sp.kron(np.ones((m, 1), dtype=_DT), rb)))
    deps = _union(*(d for d in (Da, Db) if d is not None))
    return _new(deps, out_shape, trace, value)


def _product_dense(a: Any, b: Any, m: int, k: int, p: int, trace: _Trace) -> np.ndarray:
    """Dependency rows (m * p, n) of a @ b (shapes (m, k), (k, p)) in a dense trace."""
    n = trace.n
    trace.rows(m * p)
    parts = []
    if isinstance(a, Pattern):
        A3 = a.deps.reshape(m, k, n)
        if isinstance(b, Pattern):  # every element of row r of a
            parts.append(np.broadcast_to(A3.any(axis=1)[:, None, :], (m, p, n)))
        else:  # a[r, j] where b[j, c] != 0
            Bnz = (np.asarray(b, dtype=float).reshape(k, p) != 0).astype(_DT)
            parts.append((Bnz.T @ A3.astype(_DT)) > 0)
    if isinstance(b, Pattern):
        B3 = b.deps.reshape(k, p, n)
        if isinstance(a, Pattern):  # every element of column c of b
            parts.append(np.broadcast_to(B3.any(axis=0)[None], (m, p, n)))
        else:  # b[j, c] where a[r, j] != 0
            Anz = (np.asarray(a, dtype=float).reshape(m, k) != 0).astype(_DT)
            parts.append(((Anz @ B3.reshape(k, p * n).astype(_DT)) > 0).reshape(m, p, n))
    if len(parts) == 2:
        # the term a[r, j] b[j, c] couples column j of a with row j of b, for all r, c
        trace.couple(A3.any(axis=0), B3.any(axis=1))
        return (parts[0] | parts[1]).reshape(m * p, n)
    return np.ascontiguousarray(parts[0]).reshape(m * p, n)


def _csr_nonzero(a: np.ndarray) -> sp.csr_matrix:
    return sp.csr_matrix((np.asarray(a) != 0).astype(_DT))


def _matmul(a: Any, b: Any, **kwargs: Any) -> Any:
    r = _product_2d(a, b)
    return r if r is not None else _conservative(np.matmul, (a, b), kwargs)


def _dot(a: Any, b: Any, out: Any = None) -> Any:
    if not _shape_of(a) or not _shape_of(b):
        return np.multiply(a, b)
    r = _product_2d(a, b)
    return r if r is not None else _conservative(np.dot, (a, b), {})


def _where(cond: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return np.nonzero(cond)
    operands = (x, y)
    trace = _trace_of(cond, x, y)
    shape = np.broadcast_shapes(_shape_of(cond), _shape_of(x), _shape_of(y))
    dx, dy = (_deps_at(v, shape, trace) for v in operands)
    if isinstance(cond, _Unknown) or isinstance(cond, Pattern):
        return _new(_union(dx, dy), shape, trace, None)
    c = np.broadcast_to(np.asarray(cond, dtype=bool), shape).ravel()
    value = np.where(cond, _value(x), _value(y)) if trace.local else None
    return _new(_union(_rows_where(dx, c), _rows_where(dy, ~c)), shape, trace, value)


def _clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, **kwargs: Any) -> Any:
    r = a
    if a_min is not None:
        r = np.maximum(r, a_min)
    if a_max is not None:
        r = np.minimum(r, a_max)
    return r


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    if ord in (None, 2, "fro") and (axis is None or isinstance(axis, (int, np.integer))):
        return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))
    return _conservative(np.linalg.norm, (x,), {"ord": ord, "axis": axis,
                                                 "keepdims": keepdims})


def _sort(a: Any, axis: Any = -1, **kwargs: Any) -> Any:
    if a.trace.local:
        order = np.argsort(a.value, axis=axis, kind="stable")
        return np.take_along_axis(a, order, axis=axis)
    # any element of a lane may land anywhere in it: every output depends on the lane
    if axis is None:
        a, axis = np.reshape(a, (-1,)), 0
    lane, _, kept = _reduce(a, a.deps, axis, True)
    return Pattern(_deps_at(Pattern(lane, kept, a.trace), a.shape, a.trace), a.shape, a.trace)


_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _reduction(False, np.sum), np.mean: _reduction(False, np.mean),
    np.nansum: _reduction(False, np.nansum), np.nanmean: _reduction(False, np.nanmean),
    np.prod: _reduction(True, np.prod), np.max: _extremum(np.max),
    np.min: _extremum(np.min), np.amax: _extremum(np.max), np.amin: _extremum(np.min),
    np.cumsum: _cumulative(False, np.cumsum), np.cumprod: _cumulative(True, np.cumprod),
    np.matmul: _matmul, np.dot: _dot, np.where: _where, np.clip: _clip,
    np.linalg.norm: _norm, np.sort: _sort,
    np.shape: lambda a: _shape_of(a), np.ndim: lambda a: len(_shape_of(a)),
    np.size: lambda a, axis=None: (math.prod(_shape_of(a)) if axis is None
                                   else _shape_of(a)[axis]),
    np.zeros_like: lambda a, dtype=None, **k: np.zeros(_shape_of(a), dtype=dtype or float),
    np.ones_like: lambda a, dtype=None, **k: np.ones(_shape_of(a), dtype=dtype or float),
    np.copy: lambda a, *args, **kwargs: a,
}
for _f in (np.reshape, np.transpose, np.ravel, np.squeeze, np.expand_dims, np.moveaxis,
           np.swapaxes, np.broadcast_to, np.flip, np.roll, np.diagonal, np.take,
           np.take_along_axis, np.tile, np.repeat, np.triu, np.tril, np.diag, np.fliplr,
           np.flipud, np.rot90, np.atleast_1d, np.atleast_2d):
    _FUNCTIONS[_f] = _single(_f)
for _f in (np.concatenate, np.stack, np.hstack, np.vstack, np.column_stack, np.dstack):
    _FUNCTIONS[_f] = _sequence(_f)
# numpy 2.1's cumulative_sum/cumulative_prod: cumsum/cumprod (above) and a constant head
for _name in ("cumulative_sum", "cumulative_prod"):
    if hasattr(np, _name):
        _FUNCTIONS[getattr(np, _name)] = getattr(_shared_statistics, _name)
# numpy 2's array-API linalg spellings: compositions of products, sums and swapaxes
for _name in ("vecdot", "matrix_transpose", "outer", "cross"):
    _f = getattr(np.linalg, _name, None)
    if _f is not None and _f in _shared_linalg.FUNCTIONS:
        _FUNCTIONS[_f] = _shared_linalg.FUNCTIONS[_f]

#: Selections and compositions shared by the engines (``_exactdiff.shape``), which
#: reduce to the primitives above: read from that module's table here, so that a
#: pattern never depends on which engine happens to be imported;
#: ``register_selections`` adds more.
_SELECTIONS: dict[Any, Callable[..., Any]] = {
    func: impl for func, impl in _shared_shape.NUMPY_FUNCTIONS.items() if func not in _FUNCTIONS}


def register_selections(rules: dict) -> None:
    """Let Patterns use further selection rules written for the engines (``{np.tile: impl}``)."""
    for func, impl in rules.items():
        if func not in _FUNCTIONS:
            _SELECTIONS[func] = impl


def _selection_rules() -> dict:
    return _SELECTIONS


def _conservative(func: Any, args: tuple, kwargs: dict) -> Any:
    """Every output element depends on every input element (a safe superset)."""
    leaves: list[Pattern] = []

    def sub(v: Any) -> Any:
        if isinstance(v, Pattern):
            leaves.append(v)
            if v.trace.local:
                return np.asarray(v.value, dtype=float)
            return np.random.default_rng(len(leaves)).uniform(0.5, 1.5, v.shape)
        if isinstance(v, _Unknown):
            v.__bool__()
        if isinstance(v, (list, tuple)):
            return type(v)(sub(w) for w in v)
        return v

    sargs = tuple(sub(a) for a in args)
    skw = {k: sub(v) for k, v in kwargs.items()}
    name = getattr(func, "__name__", repr(func))
    try:
        result = func(*sargs, **skw)
    except Exception as exc:  # pragma: no cover - depends on the function
        raise TypeError(f"sparsity detection: numpy function '{name}' has no sparsity rule "
                        f"and could not be evaluated conservatively ({exc})") from None
    if not isinstance(result, (np.ndarray, np.generic, float)) or np.asarray(
            result).dtype.kind != "f":
        raise TypeError(f"sparsity detection: numpy function '{name}' has no sparsity rule "
                        "(its result is not one float array)")
    trace = leaves[0].trace
    shape = np.shape(result)
    if trace.dense:
        union = np.logical_or.reduce([p.deps.any(axis=0) for p in leaves])[None]
        trace.couple(union)
        size = math.prod(shape)
        trace.rows(size)
        deps = np.broadcast_to(union, (size, trace.n))
        return Pattern(deps, shape, trace, result if trace.local else None)
    union = _union(*[_binary(sp.csr_matrix(p.deps.sum(axis=0))) for p in leaves])
    if union is None:
        union = _csr(1, trace.n)
    trace.couple(union)
    deps = sp.csr_matrix(sp.kron(np.ones((math.prod(shape), 1), dtype=_DT), union))
    return Pattern(deps, shape, trace, result if trace.local else None)


# -----------------------------------------------------------------------------
# Public API
# -----------------------------------------------------------------------------
def _run(f: Callable[[Any], Any], x: Any, hessian: bool, local: bool, helper: str,
         dense: bool | None = None) -> tuple[Any, _Trace, int]:
    """Run f on a Pattern of x: a dense trace for small x (``dense=None``: up to
    ``_DENSE_MAX_N`` elements), started again as a sparse one if it grows too large."""
    if not callable(f):
        raise TypeError(f"{helper}: f must be callable, got {type(f).__name__}")
    x0 = np.asarray(x, dtype=float) if not isinstance(x, float) else np.asarray(x)
    n = x0.size
    if dense is None:
        dense = 0 < n <= _DENSE_MAX_N
    if dense:
        trace = _Trace(n, hessian, local, dense=True)
        p = Pattern(np.eye(n, dtype=bool), x0.shape, trace, x0 if local else None)
        try:
            y = _msg.call(f, p)
        except _DenseTooLarge:
            pass
        if not trace.too_large:
            if hessian:
                trace._flush_dense()
                trace.pairs = trace.pairs | trace.pairs.T
            return y, trace, n
    keep_heap(256 * n)  # dependency rows of a few entries each (see _exactdiff.heap)
    trace = _Trace(n, hessian, local)
    p = Pattern(sp.identity(n, dtype=_DT, format="csr"), x0.shape, trace,
                x0 if local else None)
    y = _msg.call(f, p)
    trace.flush()
    return y, trace, n


def _as_csr(m: Any) -> sp.csr_matrix:
    """The boolean CSR pattern of dependency rows (dense or sparse)."""
    if type(m) is not np.ndarray:
        return m.astype(bool)
    r, c = _entries(m)
    indptr = np.zeros(m.shape[0] + 1, dtype=np.int32)
    np.cumsum(np.bincount(r, minlength=m.shape[0]), out=indptr[1:])
    return sp.csr_matrix((np.ones(c.size, dtype=bool), c.astype(np.int32), indptr),
                         shape=m.shape)


def jacobian_sparsity(f: Callable[[Any], Any], x: Any, *, local: bool = False
                      ) -> sp.csr_matrix:
    """Boolean pattern of the Jacobian of ``f`` at ``x`` (every possible nonzero).

    Parameters
    ----------
    f : callable
        Written with plain numpy; maps an array shaped like ``x`` to an array.
    x : float or array_like
        Only its shape matters unless ``local=True``.
    local : bool
        Trace with the values of ``x``, so that branches and comparisons follow
        them: the pattern at this ``x`` only.

    Returns
    -------
    scipy.sparse.csr_matrix of bool, shape ``(f(x).size, x.size)``
        Rows in the C order of ``f(x)``, columns in that of ``x``.

    Raises
    ------
    ValueError
        If ``f`` branches on a value of ``x`` and ``local`` is False.

    Examples
    --------
    >>> import numpy as np
    >>> jacobian_sparsity(lambda x: np.cumsum(x ** 2), np.ones(3)).toarray().astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    y, trace, n = _run(f, x, False, local, "jacobian_sparsity")
    if isinstance(y, Pattern):
        return _as_csr(y.deps)
    if isinstance(y, (list, tuple)) and any(isinstance(v, Pattern) for v in y):
        return jacobian_sparsity(lambda z: np.stack(list(f(z))), x, local=local)
    return sp.csr_matrix((int(np.size(y)), n), dtype=bool)


def hessian_sparsity(f: Callable[[Any], Any], x: Any, *, local: bool = False
                     ) -> sp.csr_matrix:
    """Boolean symmetric pattern of the Hessian of scalar ``f`` at ``x``.

    Every pair of inputs that meet in a nonlinear operation of ``f`` is marked
    (the global rule), so the pattern contains every possible nonzero.

    Parameters
    ----------
    f : callable
        Scalar function written with plain numpy.
    x : float or array_like
    local : bool
        As in :func:`jacobian_sparsity`.

    Returns
    -------
    scipy.sparse.csr_matrix of bool, shape ``(x.size, x.size)``

    Raises
    ------
    ValueError
        If ``f`` is not scalar, or branches on x's value without ``local``.

    Examples
    --------
    >>> import numpy as np
    >>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> hessian_sparsity(rosen, np.zeros(4)).toarray().astype(int)
    array([[1, 1, 0, 0],
           [1, 1, 1, 0],
           [0, 1, 1, 1],
           [0, 0, 1, 1]])
    """
    return _as_csr(hessian_pairs(f, x, local=local))


def hessian_pairs(f: Callable[[Any], Any], x: Any, *, local: bool = False) -> Any:
    """:func:`hessian_sparsity` as the tracer holds it: an (n, n) boolean ndarray
    (a dense trace, for small x) or a boolean CSR matrix (for a caller that does
    not need scipy's matrix, e.g. ``hyperdual.hessian``'s sparse route)."""
    y, trace, n = _run(f, x, True, local, "hessian_sparsity")
    if math.prod(_shape_of(y)) != 1:
        raise ValueError(f"hessian_sparsity: f must return a scalar, got shape "
                         f"{_shape_of(y)}; use jacobian_sparsity")
    return trace.pairs if trace.dense else trace.pairs.astype(bool)
