"""Direction stacks for Taylor mode: m directions of one Taylor pass.

``directional_derivatives(f, x, V, K)`` with ``V`` of shape ``(m,) + x.shape``
asks for the Taylor series of ``t -> f(x + t v_i)`` for m directions.  The
series share coefficient 0 (the value ``f(x)``) and differ from coefficient 1
on; carrying them together means one evaluation of f whose every numpy call
works on arrays m times larger, instead of m evaluations (the per-call
overhead of numpy and of the Python code of f is paid once).

A :class:`_Stack` holds the coefficients as one array of shape
``(K + 1, m) + shape`` (coefficient 0 repeated m times) and presents the value
shape ``shape`` to f.  Every operation it supports is computed by the plain
:class:`~hyperdual.Taylor` arithmetic on the same array read as a Taylor of
value shape ``(m,) + shape`` -- elementwise rules act per element, so the
extra leading axis is just more elements -- with the value axes shifted by one
for reductions, reshapes, indexing and products.  Anything else (a numpy
function outside the short list below, a Dual/HyperDual or another Taylor in
the same expression, ``np.asarray``, ``float``) raises, and the helper then
runs one Taylor pass per direction, as without stacks: a stack never guesses.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from _exactdiff import messages as _msg

from . import _generic as g
from ._number import _Number
from ._taylor import Taylor

__all__ = ["Unstackable", "stacked_directional"]


class Unstackable(Exception):
    """f did something a direction stack does not carry: run one pass per direction."""


def _plain_const(v):
    """A constant operand as a float array (or a Python scalar), else Unstackable."""
    if type(v) is float or type(v) is int or type(v) is bool:
        return v
    if isinstance(v, (np.ndarray, np.generic)):
        if v.dtype.kind not in "fiub":
            raise Unstackable(f"a {v.dtype} operand")
        return v
    if isinstance(v, (list, tuple)):
        a = np.asarray(v)
        if a.dtype.kind not in "fiub":
            raise Unstackable("a list operand that is not numeric")
        return a
    raise Unstackable(f"an operand of type {type(v).__name__}")


class _Stack:
    """K + 1 Taylor coefficients of m curves through the same point (see the module)."""

    __slots__ = ("c", "tag")
    __array_priority__ = 100.0

    def __init__(self, c, tag):
        self.c = c
        self.tag = tag

    # --- shape ---------------------------------------------------------------------------
    @property
    def shape(self):
        return self.c.shape[2:]

    @property
    def ndim(self):
        return self.c.ndim - 2

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def dtype(self):
        return self.c.dtype

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d Taylor number")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def _value(self):
        return self.c[0, 0]

    # --- conversions that would lose the derivatives --------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise Unstackable("np.asarray")

    def __float__(self):
        raise Unstackable("float()")

    def __int__(self):
        raise Unstackable("int()")

    def __bool__(self):
        raise Unstackable("bool()")

    def __index__(self):
        raise Unstackable("index")

    def __hash__(self):
        raise Unstackable("hash")

    # --- the plain Taylor view --------------------------------------------------------------
    def _as_taylor(self, rank):
        """The coefficients as a plain Taylor of value shape (m,) + (1,) * k + shape with
        ``rank`` value axes after the direction axis."""
        c = self.c
        k = rank - (c.ndim - 2)
        if k > 0:
            c = c.reshape(c.shape[:2] + (1,) * k + c.shape[2:])
        return Taylor._make(c, self.tag)

    def _wrap(self, out):
        if type(out) is Taylor and out.tag == self.tag and type(out.coef) is np.ndarray \
                and out.coef.ndim >= 2 and out.coef.shape[:2] == self.c.shape[:2]:
            return _Stack(out.coef, self.tag)
        raise Unstackable("a result that is not a Taylor of the stack")

    # --- elementwise: numpy's ufuncs and the operators ------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            raise Unstackable(f"numpy.{ufunc.__name__}.{method} or keyword arguments")
        if ufunc.signature is not None:  # a generalised ufunc: not elementwise
            if ufunc is np.matmul:
                return _matmul(*inputs)
            raise Unstackable(f"numpy.{ufunc.__name__}")
        return _elementwise(self, ufunc, inputs)

    def __add__(self, o):
        return _elementwise(self, np.add, (self, o))

    def __radd__(self, o):
        return _elementwise(self, np.add, (o, self))

    def __sub__(self, o):
        return _elementwise(self, np.subtract, (self, o))

    def __rsub__(self, o):
        return _elementwise(self, np.subtract, (o, self))

    def __mul__(self, o):
        return _elementwise(self, np.multiply, (self, o))

    def __rmul__(self, o):
        return _elementwise(self, np.multiply, (o, self))

    def __truediv__(self, o):
        return _elementwise(self, np.true_divide, (self, o))

    def __rtruediv__(self, o):
        return _elementwise(self, np.true_divide, (o, self))

    def __pow__(self, o):
        return _elementwise(self, np.power, (self, o))

    def __rpow__(self, o):
        return _elementwise(self, np.power, (o, self))

    def __neg__(self):
        return _Stack(-self.c, self.tag)

    def __pos__(self):
        return self

    def __abs__(self):
        return _elementwise(self, np.absolute, (self,))

    def __matmul__(self, o):
        return _matmul(self, o)

    def __rmatmul__(self, o):
        return _matmul(o, self)

    # comparisons look at the value only (the same in every direction)
    def _cmp(self, o, op):
        ov = o._value() if type(o) is _Stack else _plain_const(o)
        return op(self._value(), ov)

    def __lt__(self, o):
        return self._cmp(o, operator.lt)

    def __le__(self, o):
        return self._cmp(o, operator.le)

    def __gt__(self, o):
        return self._cmp(o, operator.gt)

    def __ge__(self, o):
        return self._cmp(o, operator.ge)

    def __eq__(self, o):
        return self._cmp(o, operator.eq)

    def __ne__(self, o):
        return self._cmp(o, operator.ne)

    # --- structure --------------------------------------------------------------------------
    def __getitem__(self, index):
        if isinstance(index, (_Stack, _Number)) or (
                isinstance(index, tuple) and any(isinstance(i, (_Stack, _Number))
                                                 for i in index)):
            raise Unstackable("a Taylor number as an index")
        if isinstance(index, list):
            index = np.asarray(index)
        items = index if isinstance(index, tuple) else (index,)
        want = np.empty(self.shape, dtype=np.bool_)[index].shape
        out = self.c[(slice(None), slice(None)) + items]
        if out.shape != self.c.shape[:2] + want:  # advanced indices moved axes
            raise Unstackable("advanced indices that move axes")
        return _Stack(out, self.tag)

    def __setitem__(self, index, value):
        raise Unstackable("item assignment")

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _reshape(self, shape, order)

    def ravel(self, order="C"):
        return _reshape(self, (-1,), order)

    flatten = ravel

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _transpose(self, axes or None)

    @property
    def T(self):
        return _transpose(self, None)

    def sum(self, axis=None, keepdims=False):
        return _sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _mean(self, axis=axis, keepdims=keepdims)

    def dot(self, other):
        return _dot(self, other)

    def __array_function__(self, func, types, args, kwargs):
        impl = _FUNCTIONS.get(func)
        if impl is None:
            raise Unstackable(f"numpy.{func.__name__}")
        return impl(*args, **kwargs)


# ---------------------------------------------------------------------------------
def _operands(ref, inputs):
    """Plain operands for the Taylor arithmetic, and the rank of the result's value."""
    shapes = []
    for v in inputs:
        if type(v) is _Stack:
            if v.tag != ref.tag or v.c.shape[:2] != ref.c.shape[:2]:
                raise Unstackable("two stacks")
            shapes.append(v.shape)
        else:
            shapes.append(np.shape(_plain_const(v)))
    rank = len(np.broadcast_shapes(*shapes))
    return [v._as_taylor(rank) if type(v) is _Stack else _plain_const(v) for v in inputs], rank


def _elementwise(ref, ufunc, inputs):
    plain, _ = _operands(ref, inputs)
    out = ufunc(*plain)
    if isinstance(out, tuple):
        raise Unstackable(f"numpy.{ufunc.__name__} with several outputs")
    if isinstance(out, Taylor):
        return ref._wrap(out)
    if isinstance(out, _Number):
        raise Unstackable("a result of another engine")
    # a function of the value only (comparisons, isfinite, floor ...): the same in every
    # direction, so direction 0's answer
    out = np.asarray(out)
    if out.ndim == 0 or out.shape[0] != ref.c.shape[1]:
        raise Unstackable("a value-only result without the direction axis")
    return out[0]


def _norm_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in axes:
        a = operator.index(a)
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(a, ndim) if hasattr(np, "exceptions") \
                else ValueError(f"axis {a} is out of bounds for array of dimension {ndim}")
        out.append(a % ndim)
    return tuple(out)


def _shift(axes):
    return tuple(a + 1 for a in axes)


def _stack_of(x, name):
    if type(x) is not _Stack:
        raise Unstackable(f"numpy.{name} without the stack as its first argument")
    return x


def _sum(x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    if out is not None or dtype is not None or kw:
        raise Unstackable("sum with out/dtype")
    x = _stack_of(x, "sum")
    ax = _norm_axes(axis, x.ndim)
    return _Stack(np.sum(x.c, axis=tuple(a + 2 for a in ax), keepdims=keepdims), x.tag)


def _mean(x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    if out is not None or dtype is not None or kw:
        raise Unstackable("mean with out/dtype")
    x = _stack_of(x, "mean")
    ax = _norm_axes(axis, x.ndim)
    count = math.prod(x.shape[a] for a in ax)
    return _Stack(np.sum(x.c, axis=tuple(a + 2 for a in ax), keepdims=keepdims) / count,
                  x.tag)


def _prod(x, axis=None, dtype=None, out=None, keepdims=False, **kw):
    if out is not None or dtype is not None or kw:
        raise Unstackable("prod with out/dtype")
    x = _stack_of(x, "prod")
    ax = _norm_axes(axis, x.ndim)
    T = x._as_taylor(x.ndim)
    if not ax:
        return x
    # move the reduced axes last, flatten them, and multiply along that one axis
    keep = [a for a in range(x.ndim) if a not in ax]
    perm = (0,) + tuple(a + 1 for a in keep) + tuple(a + 1 for a in ax)
    moved = np.transpose(T, perm)
    kept_shape = tuple(x.shape[a] for a in keep)
    flat = np.reshape(moved, (x.c.shape[1],) + kept_shape + (-1,))
    res = np.prod(flat, axis=-1)
    out_st = x._wrap(res)
    if keepdims:
        full = tuple(1 if a in ax else x.shape[a] for a in range(x.ndim))
        out_st = _reshape(out_st, full)
    return out_st


def _reshape(x, newshape=None, order="C", *, shape=None, **kw):
    x = _stack_of(x, "reshape")
    if newshape is None:
        newshape = shape
    if order != "C" or kw:
        raise Unstackable("reshape with order")
    if isinstance(newshape, (int, np.integer)):
        newshape = (int(newshape),)
    target = np.empty(x.shape, dtype=np.bool_).reshape(newshape).shape
    return _Stack(np.reshape(x.c, x.c.shape[:2] + target), x.tag)


def _ravel(x, order="C"):
    return _reshape(x, (-1,), order)


def _transpose(x, axes=None):
    x = _stack_of(x, "transpose")
    nd = x.ndim
    ax = tuple(range(nd))[::-1] if axes is None else _norm_axes(tuple(axes), nd)
    return _Stack(np.transpose(x.c, (0, 1) + tuple(a + 2 for a in ax)), x.tag)


def _expand_dims(x, axis):
    x = _stack_of(x, "expand_dims")
    return _reshape(x, np.expand_dims(np.empty(x.shape, dtype=np.bool_), axis).shape)


def _squeeze(x, axis=None):
    x = _stack_of(x, "squeeze")
    return _reshape(x, np.squeeze(np.empty(x.shape, dtype=np.bool_), axis).shape)


def _joined(arrays, name):
    """The operands of concatenate/stack as plain Taylors (value (m,) + shape) and
    constants broadcast to the direction axis."""
    arrays = list(arrays)
    ref = next((a for a in arrays if type(a) is _Stack), None)
    if ref is None:
        raise Unstackable(f"numpy.{name} without a stack")
    m = ref.c.shape[1]
    out = []
    for a in arrays:
        if type(a) is _Stack:
            if a.tag != ref.tag or a.c.shape[:2] != ref.c.shape[:2]:
                raise Unstackable("two stacks")
            out.append(a._as_taylor(a.ndim))
        else:
            c = np.asarray(_plain_const(a), dtype=float)
            out.append(np.broadcast_to(c, (m,) + c.shape))
    return ref, out


def _concatenate(arrays, axis=0, out=None, **kw):
    if out is not None or kw or axis is None:
        raise Unstackable("concatenate with out/axis None")
    ref, ops = _joined(arrays, "concatenate")
    nd = len(np.shape(g.real_value(ops[0]))) - 1
    ax = _norm_axes(axis, nd)[0]
    return ref._wrap(np.concatenate(ops, axis=ax + 1))


def _stack(arrays, axis=0, out=None, **kw):
    if out is not None or kw:
        raise Unstackable("stack with out")
    ref, ops = _joined(arrays, "stack")
    nd = len(np.shape(g.real_value(ops[0]))) - 1
    ax = _norm_axes(axis, nd + 1)[0]
    return ref._wrap(np.stack(ops, axis=ax + 1))


def _where(condition, x=None, y=None):
    if x is None or y is None or type(condition) is _Stack:
        raise Unstackable("where with one argument or a Taylor condition")
    cond = np.asarray(_plain_const(condition), dtype=bool)
    ref = x if type(x) is _Stack else y
    plain, rank = _operands(ref, (cond, x, y))
    return ref._wrap(np.where(*plain))


def _clip(a, a_min=None, a_max=None, out=None, **kw):
    if out is not None or kw or type(a) is not _Stack:
        raise Unstackable("clip with out/keywords or a bound that is a Taylor")
    bounds = [b for b in (a_min, a_max) if b is not None]
    if any(type(b) is _Stack for b in bounds):
        raise Unstackable("clip with a Taylor bound")
    plain, _ = _operands(a, [a] + bounds)
    lo = plain[1] if a_min is not None else None
    hi = plain[-1] if a_max is not None else None
    return a._wrap(np.clip(plain[0], lo, hi))


def _matmul(x, y):
    """x @ y with the direction axis as a leading batch axis; 1-d stacked operands get
    the unit axis numpy's matmul would give them, dropped again afterwards."""
    ref = x if type(x) is _Stack else y
    if type(ref) is not _Stack:
        raise Unstackable("matmul without a stack")
    ops = []
    squeeze = []
    for pos, v in enumerate((x, y)):
        if type(v) is _Stack:
            if v.tag != ref.tag or v.c.shape[:2] != ref.c.shape[:2]:
                raise Unstackable("two stacks")
            if v.ndim == 0:
                raise Unstackable("matmul of a 0-d value")
            T = v._as_taylor(v.ndim)
            if v.ndim == 1:  # a row (left) or column (right) of every direction
                T = np.expand_dims(T, 1 if pos == 0 else 2)
                squeeze.append(-2 if pos == 0 else -1)
            elif v.ndim > 2:
                raise Unstackable("matmul of a batch of matrices")
            ops.append(T)
        else:
            c = _plain_const(v)
            if np.ndim(c) > 2:
                raise Unstackable("matmul with a constant batch")
            ops.append(c)
    res = np.matmul(*ops)
    out = ref._wrap(res)
    for ax in sorted(squeeze):
        out = _Stack(np.squeeze(out.c, axis=ax), out.tag)
    return out


def _dot(a, b, out=None):
    if out is not None:
        raise Unstackable("dot with out")
    na = a.ndim if type(a) is _Stack else np.ndim(_plain_const(a))
    nb = b.ndim if type(b) is _Stack else np.ndim(_plain_const(b))
    if na == 0 or nb == 0:
        return a * b
    if na <= 2 and nb <= 2:
        return _matmul(a, b)
    raise Unstackable("dot of arrays with more than 2 dimensions")


def _extreme(name):
    pick = np.argmax if name == "max" else np.argmin

    def impl(x, axis=None, out=None, keepdims=False, **kw):
        if out is not None or kw:
            raise Unstackable(f"{name} with out")
        x = _stack_of(x, name)
        v = x._value()
        if x.ndim:
            axes = _norm_axes(axis, x.ndim)
            hit = (v == (np.max if name == "max" else np.min)(v, axis=axes, keepdims=True)
                   ) | (v != v)  # NaN entries are the selected ones (as the Dual rule)
            count = np.sum(hit, axis=axes, keepdims=True)
            if np.any(count > 1) or len(axes) > 1:
                # tied extremes share every coefficient equally (JAX's convention, as
                # the Dual rule): the weights are a function of the value only
                w = (hit / count).astype(x.c.dtype, copy=False)
                sh = tuple(a + 2 for a in axes)
                c = np.sum(x.c * w, axis=sh, keepdims=True)
                c[0] = (np.max if name == "max" else np.min)(x.c[0], axis=sh, keepdims=True)[0]
                res = _Stack(c, x.tag)
                return res if keepdims else _Stack(np.squeeze(c, axis=sh), x.tag)
        if axis is None:
            i = np.unravel_index(pick(v), v.shape)
            res = x[i]
            return _reshape(res, (1,) * x.ndim) if keepdims else res
        ax = _norm_axes(axis, x.ndim)[0]
        idx = np.expand_dims(pick(v, axis=ax), ax)
        idx = np.broadcast_to(idx, x.c.shape[:2] + idx.shape)
        res = _Stack(np.take_along_axis(x.c, idx, axis=ax + 2), x.tag)
        return res if keepdims else _Stack(np.squeeze(res.c, axis=ax + 2), x.tag)
    return impl


def _shape_func(a):
    return a.shape


def _ndim_func(a):
    return a.ndim


def _size_func(a, axis=None):
    return a.size if axis is None else a.shape[axis]


def _zeros_like(a, dtype=None, order="K", subok=True, shape=None):
    return np.zeros_like(a._value(), dtype=dtype, shape=shape)


def _ones_like(a, dtype=None, order="K", subok=True, shape=None):
    return np.ones_like(a._value(), dtype=dtype, shape=shape)


_FUNCTIONS = {
    np.sum: _sum, np.mean: _mean, np.prod: _prod, np.reshape: _reshape, np.ravel: _ravel,
    np.transpose: _transpose, np.expand_dims: _expand_dims, np.squeeze: _squeeze,
    np.concatenate: _concatenate, np.stack: _stack, np.where: _where, np.clip: _clip,
    np.matmul: lambda x, y, **kw: _matmul(x, y) if not kw else _raise("matmul keywords"),
    np.dot: _dot, np.max: _extreme("max"), np.min: _extreme("min"),
    np.amax: _extreme("max"), np.amin: _extreme("min"),
    np.shape: _shape_func, np.ndim: _ndim_func, np.size: _size_func,
    np.zeros_like: _zeros_like, np.ones_like: _ones_like,
}


def _raise(what):
    raise Unstackable(what)


def stacked_directional(f, x0, V, K, tag):
    """The normalised Taylor coefficients of f along each row of V, shape
    ``(m, K + 1) + f(x).shape``, from one pass; Unstackable if f leaves the stack."""
    m = V.shape[0]
    c = np.zeros((K + 1, m) + x0.shape, dtype=np.result_type(x0, V, np.float64))
    c[0] = x0
    if K >= 1:
        c[1] = V
    y = _msg.call(f, _Stack(c, tag))
    if type(y) is _Stack:
        if y.tag != tag or y.c.shape[:2] != c.shape[:2]:
            raise Unstackable("a result of another stack")
        return np.moveaxis(y.c, 1, 0)
    if isinstance(y, (_Number, list, tuple)):
        raise Unstackable("a result that is not a stack or a constant")
    y = np.asarray(_plain_const(y), dtype=float)
    out = np.zeros((m, K + 1) + y.shape)
    out[:, 0] = y
    return out
