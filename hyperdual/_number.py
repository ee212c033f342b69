"""Dual and HyperDual numbers.

Both classes store *parts* indexed by a bit mask of the infinitesimals they
carry: a Dual has parts ``(real, dual)`` for masks 0 and 1; a HyperDual has
``(real, eps1, eps2, eps12)`` for masks 0, 1, 2 and 3 (ε1² = ε2² = 0).  Every
elementwise operation is the chain rule (Faà di Bruno up to second order)
applied to the rule table, so both classes share one implementation.

Direction stacks
----------------
The non-real parts may carry ``nd`` leading *direction axes* (a tangent stack),
so one pass propagates many directions: a Dual with ``nd = 1`` has
``dual.shape == (k,) + real.shape``; a HyperDual with ``nd = 2`` has
``eps1.shape == (k1, 1) + s``, ``eps2.shape == (1, k2) + s`` and
``eps12.shape == (k1, k2) + s``.  Keeping every part at the same number of
leading axes (with size-1 axes for absent directions) lets plain numpy
broadcasting form the cross terms ε1·ε2.

Tags
----
Each helper call seeds a fresh tag; a number with a newer tag may hold parts
that are numbers of an older tag, and treats any operand of an older tag as a
constant.  That is what prevents perturbation confusion when derivatives are
nested.

Layout
------
This module holds the number types, the elementwise arithmetic (the chain rule
over the table of :mod:`hyperdual._rules`), the numpy protocols and the
dispatch table (``implements``).  The rules of the other numpy functions are in
:mod:`hyperdual.rules`, one module per family (``reductions``, ``shape``,
``indexing``, ``selection``, ``products``, ``linalg`` ...).
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import math
import numbers
from typing import Any

import numpy as np

from _exactdiff import messages as _msg
from _exactdiff import ufunc_methods as _ufunc_methods
from _exactdiff._common import NUMPY1 as _NUMPY1
from _exactdiff._common import SCALAR_AXIS_FUNCTIONS as _SCALAR_AXIS
from _exactdiff._common import count_nonzero as _common_count_nonzero
from _exactdiff._common import filled_view as _filled_view
from _exactdiff._common import finite_array as _finite_array
from _exactdiff._common import float_dtype_operands as _float_dtype_operands
from _exactdiff._common import read_dtype as _read_dtype
from _exactdiff._common import scalar_axis as _scalar_axis
from _exactdiff._common import scalar_axis_call as _scalar_axis_call
from _exactdiff._common import zero_weighted as _zero_weighted
from _exactdiff.arrays import float_data as _float_data
from _exactdiff.arrays import foreign_error as _foreign_error
from _exactdiff.arrays import function_name as _function_name
from _exactdiff.arrays import is_foreign_array as _is_foreign
from _exactdiff.arrays import is_foreign_type as _is_foreign_type
from _exactdiff.contractions import GUFUNCS as _GUFUNCS
from _exactdiff.contractions import gufunc as _gufunc
from _exactdiff.methods import ArrayMethods as _ArrayMethods

from . import _generic as g
from ._rules import BINARY, BINARY_BY_UFUNC, UNARY, UNARY_BY_UFUNC

_tag_counter = itertools.count(1)


class Tag(int):
    """A perturbation tag: an int ordered by creation that also records whether
    the helper call it was made for has returned (``retired``).

    A number of a retired tag that turns up later (a Dual saved in a closure
    and used after its helper returned) is an escaped perturbation: helpers
    refuse it instead of mistaking it for a live one.
    """

    retired = False

    def __repr__(self) -> str:
        return int.__repr__(self)

    def __reduce__(self):
        return (int, (int(self),))


def new_tag() -> int:
    """A fresh perturbation tag, newer than every tag made before it.

    Each helper call seeds its inputs with a new tag; an operand with an older
    tag is a constant to it, which is what keeps nested derivatives apart.

    Returns
    -------
    Tag
        An int subclass (comparable, ordered by creation) that the helper
        marks as retired when its call returns.

    Examples
    --------
    >>> new_tag() < new_tag()
    True
    """
    return Tag(next(_tag_counter))


def retired(tag) -> bool:
    """Whether ``tag`` belongs to a helper call that has already returned."""
    return getattr(tag, "retired", False)


# Tags are process-local: a number unpickled in another process gets a tag of
# its own (negative, so older than every helper's tag: a constant to them,
# like a user's Dual of tag 0) instead of one that may be live there.
_PROCESS = f"{id(object()):x}-{__import__('os').getpid()}-{__import__('time').time_ns()}"
_imported_tags: dict = {}
_imported_counter = itertools.count(-1, -1)


def _local_tag(tag, origin):
    if not tag or origin == _PROCESS:
        return tag
    key = (origin, int(tag))
    local = _imported_tags.get(key)
    if local is None:
        local = _imported_tags[key] = next(_imported_counter)
    return local


# Partitions of each mask into blocks (Faà di Bruno up to second order).
_PARTITIONS = {
    1: ((1,),),
    2: ((2,),),
    3: ((3,), (1, 2)),
}
# Pairs (i, j) with i | j == m and i & j == 0 (the product rule).
_SPLITS = {
    1: ((0, 1), (1, 0)),
    2: ((0, 2), (2, 0)),
    3: ((0, 3), (3, 0), (1, 2), (2, 1)),
}


# ---------------------------------------------------------------------------------
# Validation of user-given parts
# ---------------------------------------------------------------------------------
def _to_float(value, name: str) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ValueError(
            f"hyperdual: {name} = {type(value).__name__} too large for a float64 "
            f"(|{name}| > 1.8e308)"
        ) from None


def _plain_ndarray(value, who: str):
    """An ndarray subclass as a plain ndarray; a masked array is refused (its mask would
    be dropped: f's value and derivative would silently include the masked entries)."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(
            f"{who} is a numpy masked array; its mask would be ignored. Pass the data "
            "with the masked entries filled (x.filled(value)) or removed (x.compressed()), "
            "or pass np.asarray(x) and apply the mask inside f (np.where(mask, ...))"
        )
    return np.asarray(value)


def _as_part(value, name: str):
    """Convert a user-given part to a float, a float array, or keep a nested number."""
    if isinstance(value, _Number):
        return value
    t = type(value)
    if t is float:
        return value
    if t is int or t is bool:
        return _to_float(value, name)
    if isinstance(value, (str, bytes)):
        raise TypeError(
            f"hyperdual: {name} must be a real number or an array of real numbers, "
            f"got the string {value!r}"
        )
    if isinstance(value, (complex, np.complexfloating)):
        raise TypeError(f"hyperdual: {name} must be real; complex numbers are not supported")
    if isinstance(value, np.generic):
        if value.dtype.kind == "f":
            return float(value) if value.dtype == np.float64 else value
        if value.dtype.kind in "iub":
            return float(value)
        raise TypeError(f"hyperdual: {name} has unsupported dtype {value.dtype}")
    if isinstance(value, numbers.Real):
        return _to_float(value, name)
    if isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise TypeError(
                f"hyperdual: {name} must be a real number or a rectangular array of reals "
                f"(got a ragged or invalid sequence: {exc}). {_msg.SEVERAL_ARRAYS}"
            ) from None
        return _as_part(arr, name)
    if _is_foreign(value):  # dask, CuPy, sparse (an allow-list): kept lazy, in its library
        return _float_data(value)
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray:
            value = _plain_ndarray(value, f"hyperdual: {name}")
        kind = value.dtype.kind
        if kind == "f":
            arr = value
        elif kind in "iub":
            arr = value.astype(np.float64)
        elif kind == "c":
            raise TypeError(
                f"hyperdual: {name} must be real; complex arrays are not supported"
            )
        elif kind == "O":
            raise TypeError(
                f"hyperdual: {name} is an object array; build one Dual with array parts "
                "(Dual(values, tangents)) instead of an array of Duals"
            )
        else:
            raise TypeError(
                f"hyperdual: {name} must hold real numbers, got an array of dtype {value.dtype}"
            )
        if arr.ndim == 0:
            return float(arr) if arr.dtype == np.float64 else arr[()]
        return arr
    if type(value).__name__ == "Pattern":  # a helper inside f under sparsity detection
        from _exactdiff.sparsity import NOT_AN_ARRAY
        raise TypeError(f"hyperdual: {NOT_AN_ARRAY}")
    raise TypeError(
        f"hyperdual: {name} must be a float, int, numpy scalar or array, got "
        f"{type(value).__name__}" + (f". {_msg.SEVERAL_ARRAYS}" if isinstance(value, dict) else "")
    )


def _shape(p) -> tuple:
    t = type(p)
    if t is np.ndarray:
        return p.shape
    if t is float:
        return ()
    return np.shape(p) if not isinstance(p, _Number) else p.shape


def _ndim(p) -> int:
    t = type(p)
    if t is np.ndarray:
        return p.ndim
    if t is float:
        return 0
    return p.ndim if isinstance(p, _Number) else np.ndim(p)


def _tidy(p):
    """numpy returns np.float64 / 0-d arrays from 0-d operations: keep Python floats."""
    t = type(p)
    if t is float:
        return p
    if t is np.float64:
        return float(p)
    if t is np.ndarray and p.ndim == 0:
        return float(p) if p.dtype == np.float64 else p[()]
    return p


# numpy 1.x promotes a 0-d float32 value meeting a Python number to float64
# (numpy 2's NEP 50 keeps float32): results follow the operands' float dtype.
_NP1 = _NUMPY1


def _np1_weak_scalars(value, *operands):
    """numpy 1.x only: a float64 0-d value whose array operands are all of a
    narrower float dtype takes that dtype (Python numbers count as weak)."""
    if not isinstance(value, (np.ndarray, np.generic)) or value.dtype != np.float64 \
            or value.ndim:
        return value
    dts = [v.dtype for v in operands if isinstance(v, (np.ndarray, np.generic))]
    if not dts or any(d.kind != "f" for d in dts):
        return value
    dt = np.result_type(*dts)
    return value.astype(dt) if dt.itemsize < 8 else value


def _np1_narrow_scalar(v) -> bool:
    r = getattr(v, "real", None) if isinstance(v, _Number) else v
    return type(r) is np.ndarray and r.ndim == 0 and r.dtype != np.float64


def _follow_dtype(p, real):
    """Derivative part ``p`` in the dtype of the value ``real`` (float32 stays float32).

    Nested numbers (parts of an older tag) are left alone.
    """
    if isinstance(p, _Number) or isinstance(real, _Number):
        return p
    dt = np.float64 if type(real) is float else np.result_type(real)
    if type(p) is float:
        return p if dt == np.float64 else dt.type(p)
    if p.dtype == dt:
        return p
    return _tidy(np.asarray(p, dtype=dt))


def _broadcast_part(p, shape):
    ps = _shape(p)
    if ps == shape:
        return p
    if not shape and not isinstance(p, _Number):
        return _tidy(p)
    if len(ps) == len(shape) and all(a == b or (a != a and b != b) for a, b in zip(ps, shape)):
        return p  # equal but for sizes unknown to both (a dask selection by a mask)
    return np.broadcast_to(p, shape)


def _lift(p, nd: int, nres: int):
    """Insert size-1 axes after the ``nd`` direction axes so the part has ``nres`` value axes."""
    k = _ndim(p) - nd
    if k >= nres:
        return p
    s = _shape(p)
    return np.reshape(p, s[:nd] + (1,) * (nres - k) + s[nd:])


# ---------------------------------------------------------------------------------
# The shared base class
# ---------------------------------------------------------------------------------
class _Number(_ArrayMethods):
    """Behaviour shared by Dual and HyperDual (see the module docstring)."""

    __slots__ = ()
    __array_priority__ = 1000.0
    __hash__ = None  # comparisons look at the real part only: not hashable
    _NPARTS = 0
    _KIND = ""
    # declared for type checkers; the subclasses' slots hold them
    tag: int
    real: Any

    # --- parts ------------------------------------------------------------------
    def _parts(self) -> tuple:  # pragma: no cover - overridden
        raise NotImplementedError

    @classmethod
    def _build(cls, parts, tag, nd):  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def shape(self) -> tuple:
        """Shape of the value (the real part), as numpy's ``ndarray.shape``."""
        r = self.real
        return r.shape if type(r) is np.ndarray else _shape(r)  # (the usual case inline)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def dtype(self):
        r = g.real_value(self)
        return np.result_type(r)

    def __len__(self) -> int:
        s = self.shape
        if not s:
            raise TypeError(f"len() of a 0-d {type(self).__name__}")
        return s[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            _msg.lost_by_array("hyperdual", type(self).__name__)
            + " Library functions that call np.asarray on their input (scipy.linalg, "
            "scipy.special.logsumexp/softmax/log_softmax/polygamma, scipy.stats ...) cannot see "
            "derivatives: hyperdual.linalg has stand-ins with scipy.linalg's names and signatures "
            "(solve, inv, det, cholesky, eigh, svd, lstsq, pinv, expm, logm, sqrtm, "
            "solve_sylvester, cho_solve, lu_solve ...); "
            "hyperdual.stats has scipy.stats' norm, t, gamma, beta, poisson, "
            "multivariate_normal ...; hyperdual has logsumexp, softmax, log_softmax and "
            "polygamma."
        )

    def __float__(self):
        raise TypeError(_msg.lost_by_conversion("hyperdual", type(self).__name__, "float"))

    def __int__(self):
        raise TypeError(_msg.lost_by_conversion("hyperdual", type(self).__name__, "int"))

    def __round__(self, ndigits=None):
        # round(x) / round(x, n) as np.round (derivative 0), as JAX and PyTorch do
        return np.round(self, 0 if ndigits is None else ndigits)

    def __complex__(self):
        raise TypeError(_msg.lost_by_conversion("hyperdual", type(self).__name__, "complex"))

    def __setitem__(self, index, value):
        raise TypeError(_msg.no_item_assignment("hyperdual", type(self).__name__))

    def __index__(self):
        raise TypeError(f"hyperdual: a {type(self).__name__} cannot be used as an index")

    def __bool__(self) -> bool:
        return bool(g.real_value(self))

    # --- comparisons: on the real part, so `if x > 0:` branches work --------------
    def __lt__(self, other):
        return g.real_value(self) < g.real_value(other)

    def __le__(self, other):
        return g.real_value(self) <= g.real_value(other)

    def __gt__(self, other):
        return g.real_value(self) > g.real_value(other)

    def __ge__(self, other):
        return g.real_value(self) >= g.real_value(other)

    def __eq__(self, other):
        if not _accepts(other):
            return NotImplemented
        return g.real_value(self) == g.real_value(other)

    def __ne__(self, other):
        if not _accepts(other):
            return NotImplemented
        return g.real_value(self) != g.real_value(other)

    # --- arithmetic ------------------------------------------------------------
    def __sub__(self, other):
        return _binary_op(BINARY["subtract"], self, other)

    def __rsub__(self, other):
        return _binary_op(BINARY["subtract"], other, self)

    def __truediv__(self, other):
        return _binary_op(BINARY["true_divide"], self, other)

    def __rtruediv__(self, other):
        return _binary_op(BINARY["true_divide"], other, self)

    def __pow__(self, other):
        return _power(self, other)

    def __rpow__(self, other):
        other = _listed(other)
        if not _accepts(other):
            return NotImplemented
        return _binary(BINARY["power"], other, self)

    def __mod__(self, other):
        return _binary_op(BINARY["remainder"], self, other)

    def __rmod__(self, other):
        return _binary_op(BINARY["remainder"], other, self)

    def __floordiv__(self, other):
        return _binary_op(BINARY["floor_divide"], self, other)

    def __rfloordiv__(self, other):
        return _binary_op(BINARY["floor_divide"], other, self)

    def __divmod__(self, other):
        q = self.__floordiv__(other)
        return NotImplemented if q is NotImplemented else (q, self.__mod__(other))

    def __rdivmod__(self, other):
        q = self.__rfloordiv__(other)
        return NotImplemented if q is NotImplemented else (q, self.__rmod__(other))

    def __matmul__(self, other):
        other = _listed(other)
        if not _accepts(other):
            return NotImplemented
        return matmul(self, other)

    def __rmatmul__(self, other):
        other = _listed(other)
        if not _accepts(other):
            return NotImplemented
        return matmul(other, self)

    def __neg__(self):
        if type(self) is Dual:
            r, d = self.real, self.dual
            if type(r) is np.ndarray and type(d) is np.ndarray:
                # what _unary_general's negation gives (-x part by part), its
                # lookups skipped (reverse's Subtract backward over Dual data)
                return Dual._build((-r, -d), self.tag, self.nd)
        return self._unary(UNARY["negative"])

    def __pos__(self):
        return self

    def __abs__(self):
        return self._unary(UNARY["absolute"])

    # --- shape methods -----------------------------------------------------------
    def __getitem__(self, index):
        return getitem(self, index)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    @property
    def T(self):
        return transpose(self)

    # the reductions take ndarray's signatures; dtype=, out=, where=, initial= are
    # those of the numpy function (np.sum's rules: a floating dtype= casts first)
    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if dtype is None and out is None and not kw:
            return sum_(self, axis=_scalar_axis(axis, self.ndim), keepdims=keepdims)
        return np.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        if dtype is None and out is None and not kw:
            return mean(self, axis=axis, keepdims=keepdims)
        return np.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def ravel(self, order="C"):
        return reshape(self, (-1,), order=order)

    def flatten(self, order="C"):
        return reshape(self, (-1,), order=order)

    def dot(self, other):
        return dot(self, other)

    # ndarray methods: each is the numpy function of the same name (same rules)
    def squeeze(self, axis=None):
        return np.squeeze(self, axis=axis)

    def copy(self):
        return np.copy(self)

    def __copy__(self):  # a copy keeps the tag (and so the derivative)
        return type(self)._build(self._parts(), self.tag, self.nd)

    def __deepcopy__(self, memo):
        import copy as _copy

        parts = tuple(_copy.deepcopy(p, memo) for p in self._parts())
        return type(self)._build(parts, self.tag, self.nd)

    def astype(self, dtype, copy=True):
        """Convert every part to the float ``dtype``; an integer dtype raises TypeError."""
        dt = _read_dtype(dtype)
        if dt.kind != "f":
            raise TypeError(_msg.lost_by_astype("hyperdual", type(self).__name__, dt))

        def fn(p, nd):
            if isinstance(p, _Number):
                return p.astype(dt)
            return _tidy(np.asarray(p, dtype=dt)) if dt != np.float64 else _tidy(
                np.asarray(p, dtype=dt))

        return _map_parts(self, fn)

    def max(self, axis=None, keepdims=False, **kw):
        return np.max(self, axis=axis, keepdims=keepdims, **kw)

    def min(self, axis=None, keepdims=False, **kw):
        return np.min(self, axis=axis, keepdims=keepdims, **kw)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        return np.prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def var(self, *args, **kw):
        return np.var(self, *args, **kw)

    def std(self, *args, **kw):
        return np.std(self, *args, **kw)

    def cumsum(self, axis=None, dtype=None, out=None):
        return np.cumsum(self, axis=axis, dtype=dtype, out=out)

    def clip(self, min=None, max=None):  # noqa: A002
        return np.clip(self, min, max)

    def swapaxes(self, axis1, axis2):
        return np.swapaxes(self, axis1, axis2)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return np.diagonal(self, offset, axis1, axis2)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        return np.trace(self, offset, axis1, axis2, dtype=dtype, out=out)

    def item(self, *args):
        """The element as a 0-d number of this kind (it keeps its derivative)."""
        if not args:
            if self.size != 1:
                raise ValueError("can only convert an array of size 1 to a Python scalar")
            return reshape(self, ())
        if len(args) == 1 and not isinstance(args[0], tuple):
            return reshape(self, (-1,))[args[0]]
        return self[args[0] if len(args) == 1 else args]

    # --- numpy protocols ------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _array_ufunc(self, ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        if func is _np_sum and not kwargs and len(args) == 1 and args[0] is self:
            out = _sum_all(self)  # np.sum(x): the usual reduction, without the layers
            if out is not None:
                return out
        if any(not getattr(t, "_NPARTS", 1) for t in types):
            return NotImplemented  # a Taylor among the operands decides (hyperdual._taylor)
        impl = HANDLED_FUNCTIONS.get(func)
        if func in _SCALAR_AXIS:  # (np.sum(x0d, axis=-1): numpy's every axis)
            args, kwargs = _scalar_axis_call(func, args, kwargs)
        if impl is None:
            raise TypeError(
                f"hyperdual: numpy.{func.__name__} is not supported for "
                f"{type(self).__name__} (no derivative rule); supported functions are "
                "listed in hyperdual.SUPPORTED_FUNCTIONS"
            )
        for t in types:
            if not (issubclass(t, (_Number, np.ndarray)) or _is_foreign_type(t)):
                return NotImplemented
        try:
            return impl(*args, **kwargs)
        except (TypeError, ValueError, RuntimeError, IndexError, NotImplementedError,
                AttributeError) as exc:  # sparse 0.17's einsum: AttributeError on a float
            err = _foreign_error(exc, _function_name(func))  # pydata/sparse's own error
            if err is None:
                raise
            raise err from exc

    def __reduce__(self):
        return (_rebuild, (type(self), self._parts(), int(self.tag), self.nd, _PROCESS))


def _rebuild(cls, parts, tag, nd, origin=None):
    return cls._build(parts, _local_tag(tag, origin), nd)


# ---------------------------------------------------------------------------------
# Dual
# ---------------------------------------------------------------------------------
class Dual(_Number):
    """A dual number ``real + dual·ε`` with ε² = 0: exact first derivatives.

    Parameters
    ----------
    real, dual : float or array_like
        Value and tangent; broadcast against each other on construction.
        Ints and bools become float64; float32 stays float32; strings, complex
        numbers and objects raise ``TypeError``; shapes that do not broadcast
        raise ``ValueError``.
    tag : int
        The perturbation tag (default 0, a user's own number).  Helpers seed
        their inputs with fresh tags from :func:`new_tag`, so derivatives
        nested inside each other are kept apart; leave it at 0.

    Examples
    --------
    >>> from hyperdual import Dual
    >>> Dual(2.0, 1.0) ** 3
    Dual(8.0, 12.0)
    >>> import numpy as np
    >>> y = np.sin(Dual(0.0, 1.0))
    >>> y.real, y.dual
    (0.0, 1.0)
    """

    __slots__ = ("real", "dual", "tag", "nd")
    _NPARTS = 2
    _KIND = "Dual"

    def __init__(self, real, dual=0.0, tag: int = 0):
        if type(real) is float and type(dual) is float:
            self.real = real
            self.dual = dual
        else:
            r = _as_part(real, "real")
            d = _as_part(dual, "dual")
            shape = _common_shape((r, d), ("real", "dual"))
            self.real = _broadcast_part(r, shape)
            self.dual = _follow_dtype(_broadcast_part(d, shape), self.real)
        self.tag = tag
        self.nd = 0

    def _parts(self):
        return (self.real, self.dual)

    @classmethod
    def _build(cls, parts, tag, nd):
        o = _new(cls)
        o.real, o.dual = parts
        o.tag = tag
        o.nd = nd
        return o

    def _unary(self, rule):
        r, d = self.real, self.dual
        if type(r) is float and type(d) is float and rule.scalar is not None:
            # Fast scalar path: Python floats all the way (no 0-d arrays).
            try:
                o = _new(Dual)
                o.real = rule.scalar(r)
                s1 = rule.s1
                if s1 is None:
                    t = rule.dscalar(r) * d
                else:
                    sf = rule.safe
                    if sf is not None and sf[0] <= r <= sf[1]:
                        t = rule.dscalar(r) * d
                        if t - t != 0.0:
                            t = s1(r, d)
                    else:
                        t = s1(r, d)
                # a zero tangent stays zero even where f' is inf (NaN-safe, inlined)
                o.dual = t if t == t or d != 0.0 else 0.0
                o.tag = self.tag
                o.nd = 0
                return o
            except (ValueError, ZeroDivisionError, OverflowError):
                pass
        return _unary_general(rule, self)

    def __add__(self, other):
        if type(other) is Dual:
            r, d, r2, d2 = self.real, self.dual, other.real, other.dual
            if (type(r) is float and type(d) is float and type(r2) is float
                    and type(d2) is float and self.tag == other.tag):
                o = _new(Dual)
                o.real = r + r2
                o.dual = d + d2
                o.tag = self.tag
                o.nd = 0
                return o
        elif type(other) is float or type(other) is int:
            if type(self.real) is float:
                o = _new(Dual)
                o.real = self.real + other
                o.dual = self.dual
                o.tag = self.tag
                o.nd = self.nd
                return o
        if type(self.dual) is np.ndarray:
            return _dual_op("add", self, other)
        return _binary_op(BINARY["add"], self, other)

    __radd__ = __add__

    def __sub__(self, other):
        if type(self.dual) is np.ndarray:
            return _dual_op("subtract", self, other)
        return _binary_op(BINARY["subtract"], self, other)

    def __rsub__(self, other):
        if type(self.dual) is np.ndarray:
            return _dual_op("subtract", other, self)
        return _binary_op(BINARY["subtract"], other, self)

    def __truediv__(self, other):
        if type(self.dual) is np.ndarray:
            return _dual_op("true_divide", self, other)
        return _binary_op(BINARY["true_divide"], self, other)

    def __rtruediv__(self, other):
        if type(self.dual) is np.ndarray:
            return _dual_op("true_divide", other, self)
        return _binary_op(BINARY["true_divide"], other, self)

    def __mul__(self, other):
        if type(other) is Dual:
            r, d, r2, d2 = self.real, self.dual, other.real, other.dual
            if (type(r) is float and type(d) is float and type(r2) is float
                    and type(d2) is float and self.tag == other.tag):
                t = r * d2 + d * r2
                if t == t:  # else maybe 0 * inf: the general rule keeps zero tangents zero
                    o = _new(Dual)
                    o.real = r * r2
                    o.dual = t
                    o.tag = self.tag
                    o.nd = 0
                    return o
        elif type(other) is float or type(other) is int:
            r, d = self.real, self.dual
            if type(r) is float and type(d) is float and math.isfinite(other):
                o = _new(Dual)
                o.real = r * other
                t = d * other
                # a constant 0 contributes 0, also next to an inf/NaN tangent
                o.dual = t if t == t or other != 0 else 0.0
                o.tag = self.tag
                o.nd = 0
                return o
        if type(self.dual) is np.ndarray:
            return _dual_op("multiply", self, other)
        return _binary_op(BINARY["multiply"], self, other)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        tag = f", tag={self.tag}" if self.tag else ""
        if type(self.real) is float and type(self.dual) is float:
            return f"Dual({self.real!r}, {self.dual!r}{tag})"
        return f"Dual({_arepr(self.real)}, {_arepr(self.dual)}{tag}{_ndrepr(self)})"


# ---------------------------------------------------------------------------------
# HyperDual
# ---------------------------------------------------------------------------------
class HyperDual(_Number):
    """A hyper-dual number ``real + eps1·ε1 + eps2·ε2 + eps12·ε1ε2``.

    With ε1² = ε2² = 0 and ε1ε2 ≠ 0, ``f(HyperDual(x, 1, 1, 0)).eps12`` is the
    exact second derivative ``f''(x)`` and ``.eps1`` the first.

    Parameters
    ----------
    real, eps1, eps2, eps12 : float or array_like
        The four parts, broadcast against each other on construction.
    tag : int
        The perturbation tag (default 0, a user's own number); see :class:`Dual`.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import HyperDual
    >>> z = np.sin(HyperDual(2.0, 1.0, 1.0, 0.0))
    >>> bool(z.eps12 == -np.sin(2.0)), bool(z.eps1 == np.cos(2.0))
    (True, True)
    >>> HyperDual(3.0, 1.0, 1.0, 0.0) ** 2
    HyperDual(9.0, 6.0, 6.0, 2.0)
    """

    __slots__ = ("real", "eps1", "eps2", "eps12", "tag", "nd")
    _NPARTS = 4
    _KIND = "HyperDual"

    def __init__(self, real, eps1=0.0, eps2=0.0, eps12=0.0, tag: int = 0):
        parts = [_as_part(p, n) for p, n in
                 zip((real, eps1, eps2, eps12), ("real", "eps1", "eps2", "eps12"))]
        shape = _common_shape(parts, ("real", "eps1", "eps2", "eps12"))
        real, *rest = (_broadcast_part(p, shape) for p in parts)
        self.real = real
        self.eps1, self.eps2, self.eps12 = (_follow_dtype(p, real) for p in rest)
        self.tag = tag
        self.nd = 0

    def _parts(self):
        return (self.real, self.eps1, self.eps2, self.eps12)

    @classmethod
    def _build(cls, parts, tag, nd):
        o = _new(cls)
        o.real, o.eps1, o.eps2, o.eps12 = parts
        o.tag = tag
        o.nd = nd
        return o

    def _unary(self, rule):
        r, a, b, c = self.real, self.eps1, self.eps2, self.eps12
        if (type(r) is float and type(a) is float and type(b) is float
                and type(c) is float and rule.scalar is not None):
            try:
                if rule.s1 is not None:
                    sf = rule.safe
                    if sf is None or not sf[0] <= r <= sf[1]:
                        return _scaled_hyper_scalar(rule, self, r, a, b, c)
                    f1 = rule.dscalar(r)
                    t1, t2 = f1 * a, f1 * b
                    t12 = f1 * c + (rule.d2scalar(r) * a) * b  # f' and f'' in range here
                    if t1 - t1 != 0.0 or t2 - t2 != 0.0 or t12 - t12 != 0.0:
                        return _scaled_hyper_scalar(rule, self, r, a, b, c)
                    o = _new(HyperDual)
                    o.real = rule.scalar(r)
                    o.eps1, o.eps2, o.eps12 = t1, t2, t12
                    o.tag = self.tag
                    o.nd = 0
                    return o
                f1 = rule.dscalar(r)
                o = _new(HyperDual)
                o.real = rule.scalar(r)
                t1, t2, ab = f1 * a, f1 * b, a * b
                # NaN-safe as in _mul_coef: zero tangents stay zero where f', f'' are inf
                t12 = f1 * c + rule.d2scalar(r) * ab
                if t1 != t1 or t2 != t2 or t12 != t12:
                    t1 = _safe_scalar_mul(f1, a)
                    t2 = _safe_scalar_mul(f1, b)
                    t12 = (_safe_scalar_mul(f1, c)
                           + _safe_scalar_mul(rule.d2scalar(r), _tangent_product(a, b)))
                o.eps1, o.eps2, o.eps12 = t1, t2, t12
                o.tag = self.tag
                o.nd = 0
                return o
            except (ValueError, ZeroDivisionError, OverflowError):
                pass
        return _unary_general(rule, self)

    def __add__(self, other):
        if type(other) is HyperDual and self.tag == other.tag:
            r, a, b, c = self.real, self.eps1, self.eps2, self.eps12
            r2, a2, b2, c2 = other.real, other.eps1, other.eps2, other.eps12
            if (type(r) is float and type(a) is float and type(b) is float
                    and type(c) is float and type(r2) is float and type(a2) is float
                    and type(b2) is float and type(c2) is float):
                o = _new(HyperDual)
                o.real, o.eps1, o.eps2, o.eps12 = r + r2, a + a2, b + b2, c + c2
                o.tag = self.tag
                o.nd = 0
                return o
        elif (type(other) is float or type(other) is int) and type(self.real) is float:
            o = _new(HyperDual)
            o.real, o.eps1, o.eps2, o.eps12 = self.real + other, self.eps1, self.eps2, self.eps12
            o.tag = self.tag
            o.nd = self.nd
            return o
        return _binary_op(BINARY["add"], self, other)

    __radd__ = __add__

    def __mul__(self, other):
        if type(other) is HyperDual and self.tag == other.tag:
            r, a, b, c = self.real, self.eps1, self.eps2, self.eps12
            r2, a2, b2, c2 = other.real, other.eps1, other.eps2, other.eps12
            if (type(r) is float and type(a) is float and type(b) is float
                    and type(c) is float and type(r2) is float and type(a2) is float
                    and type(b2) is float and type(c2) is float):
                t1, t2 = r * a2 + a * r2, r * b2 + b * r2
                t12 = r * c2 + a * b2 + b * a2 + c * r2
                if t1 == t1 and t2 == t2 and t12 == t12:  # else maybe 0 * inf: general rule
                    o = _new(HyperDual)
                    o.real = r * r2
                    o.eps1, o.eps2, o.eps12 = t1, t2, t12
                    o.tag = self.tag
                    o.nd = 0
                    return o
        elif type(other) is float or type(other) is int:
            r, a, b, c = self.real, self.eps1, self.eps2, self.eps12
            if (type(r) is float and type(a) is float and type(b) is float and type(c) is float
                    and math.isfinite(other) and (other != 0 or a - a + b - b + c - c == 0.0)):
                o = _new(HyperDual)
                o.real, o.eps1, o.eps2, o.eps12 = r * other, a * other, b * other, c * other
                o.tag = self.tag
                o.nd = 0
                return o
        return _binary_op(BINARY["multiply"], self, other)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        tag = f", tag={self.tag}" if self.tag else ""
        parts = self._parts()
        if all(type(p) is float for p in parts):
            return "HyperDual({!r}, {!r}, {!r}, {!r}{})".format(*parts, tag)
        return "HyperDual({}, {}, {}, {}{}{})".format(*map(_arepr, parts), tag, _ndrepr(self))


_new = object.__new__
g._NUMBER_TYPES = (Dual, HyperDual)


def _arepr(p) -> str:
    if isinstance(p, np.ndarray):
        return np.array2string(p, separator=", ", prefix="array(").join(("array(", ")"))
    return repr(p)


def _ndrepr(x) -> str:
    return f", nd={x.nd}" if x.nd else ""


def _common_shape(parts, names):
    shapes = [_shape(p) for p in parts]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        desc = ", ".join(f"{n} {s}" for n, s in zip(names, shapes))
        raise ValueError(f"hyperdual: part shapes do not broadcast: {desc}") from None


def _listed(x):
    """A list or tuple operand as numpy reads it (``d @ [1.0, 2.0]``, ``d ** [1, 2]``:
    an array), other operands unchanged."""
    if type(x) is list or type(x) is tuple:
        return _as_part(x, "operand")
    return x


def _accepts(x) -> bool:
    """Operand types this engine handles; anything else gets NotImplemented."""
    t = type(x)
    if t is np.ndarray or t is float or t is Dual or t is HyperDual or t is int:
        return True  # (arrays of a bad dtype are refused with a message later)
    return isinstance(x, (_Number, float, int, np.ndarray, np.generic, numbers.Real)) and not (
        isinstance(x, (np.complexfloating, complex))
    ) or _is_foreign(x)  # dask, CuPy, sparse constants (an allow-list)


# ---------------------------------------------------------------------------------
# The chain rule, generically
# ---------------------------------------------------------------------------------
_NO_LEADS = {2: ((), ()), 4: ((), (), (), ())}


def _lead_shapes(x) -> tuple:
    nd = x.nd
    if not nd:
        return _NO_LEADS[x._NPARTS]
    return tuple(_shape(p)[:nd] for p in x._parts())


def _finish(cls, parts, tag, nd, shape, leads):
    """Give every part its full shape (direction axes + value shape) and build."""
    out = [_tidy(parts[0])]
    for m in range(1, cls._NPARTS):
        p = parts[m]
        full = leads[m] + shape
        if p is None:
            p = np.zeros(full) if full else 0.0
        elif _shape(p) != full:
            p = _broadcast_part(p, full)
        else:
            p = _tidy(p)
        out.append(p)
    r = out[0]
    if isinstance(r, (np.ndarray, np.generic)) and r.dtype != np.float64 and r.dtype.kind == "f":
        # float32 values keep float32 derivatives (a float64 coefficient or
        # zero part, e.g. maximum's 0.5 at ties, would promote them).
        out[1:] = [_follow_dtype(p, r) for p in out[1:]]
    elif type(r) is np.ndarray and r.dtype == np.float64:
        # and a value promoted to float64 (by a float64 constant) promotes them
        out[1:] = [p.astype(np.float64) if type(p) is np.ndarray and p.dtype.kind == "f"
                   and p.dtype != np.float64 else p for p in out[1:]]
    elif type(r) is float:  # a float64 scalar value (held as a Python float)
        out[1:] = [float(p) if isinstance(p, np.generic) and p.dtype.kind == "f" else p
                   for p in out[1:]]
    return cls._build(out, tag, nd)


#: Zero tangents kept next to an inf/nan derivative so far (a counter; a first-order
#: helper whose call changed it is audited: hyperdual.helpers._audited).
KEPT = [0]
#: During that audit: the k of every audited stack that is live (the number of real
#: directions of a stack whose directions k..2k-1 are probes seeded with nan, see
#: :func:`_structural`).  Every live one, not the innermost alone: a helper nested
#: inside an audited one (hyperdual.gradient inside hyperdual.jacobian) audits its own
#: stack, while the outer trace's arithmetic still runs inside its call (the outer
#: stack's zeros must keep being told apart by their probes there).
AUDIT_K: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "hyperdual_audit_k", default=frozenset())


def audit_k(k: int) -> contextvars.Token:
    """Adds a live audited stack of ``k`` real directions (reset with the token)."""
    return AUDIT_K.set(AUDIT_K.get() | {k})


def _probed_k(n: int) -> int:
    """k where a stack of ``n`` directions is a live audited one (n = 2k), else 0."""
    ks = AUDIT_K.get()
    return n // 2 if ks and not n % 2 and n // 2 in ks else 0


#: The ε2 lane counts m of live audited HyperDual passes whose ε2 directions (axis 1
#: of the ε2 and ε1ε2 parts, 2m long) are followed by their nan probes, as AUDIT_K's
#: ε1 directions are on axis 0 (hyperdual.helpers._probed_eps12)
AUDIT_M: contextvars.ContextVar[frozenset] = contextvars.ContextVar(
    "hyperdual_audit_m", default=frozenset())


def audit_m(m: int) -> contextvars.Token:
    """Adds a live audited ε2 stack of ``m`` real directions (reset with the token)."""
    return AUDIT_M.set(AUDIT_M.get() | {m})


def _probed_m(shape: tuple) -> int:
    """m where axis 1 of an array of ``shape`` is a live audited ε2 stack (2m), else 0."""
    ms = AUDIT_M.get()
    if not ms or len(shape) < 2:
        return 0
    n = shape[1]
    return n // 2 if not n % 2 and n // 2 in ms else 0


def _structural_mask(zero):
    """``zero`` (a fresh boolean array) kept only where the probes of each audited
    axis are zero too (axis 0: AUDIT_K's ε1 probes; axis 1: AUDIT_M's ε2 probes)."""
    k = _probed_k(zero.shape[0]) if zero.ndim else 0
    if k:
        zero[:k] &= zero[k:]
    m = _probed_m(zero.shape)
    if m:
        zero[:, :m] &= zero[:, m:]
    return zero


def _structural(zero):
    """``zero`` (where a tangent is exactly 0), counted, and during an audit kept
    only where the zero is structural: in a stack of 2k directions whose directions
    k..2k-1 are nan-seeded probes of directions 0..k-1, a real direction's zero is
    structural where its probe is 0 too (the value does not depend on that
    direction at all: nan reached it otherwise).  ``cbrt(x**3)`` at 0: the
    tangent of ``x**3`` is 0 but its probe is nan, so ``0 * cbrt'(0)`` is not
    kept (nan; the truth is 1)."""
    KEPT[0] += 1
    if zero.ndim and (AUDIT_K.get() or AUDIT_M.get()):
        zero = _structural_mask(zero.copy())
    return zero


def _mul_coef(c, p, w=None):
    """c * p, skipping the work for literal 0 and 1 coefficients.

    NaN-safe: where the tangent ``p`` is exactly zero the product is zero even
    if the derivative ``c`` is inf or NaN (sqrt'(0) = inf must not turn the
    other directions of a gradient into NaN; the direction that does move x
    still gets inf/NaN, as numpy's derivative formula gives).
    """
    if type(c) is float:
        if c == 0.0:
            if not AUDIT_K.get():
                return None
            # an audit: a computed zero partial (3 x**2 at 0) keeps the probes moving,
            # the real directions get the 0 of the first pass
            if type(p) is not np.ndarray or not p.ndim:
                return None
            k, m = _probed_k(p.shape[0]), _probed_m(p.shape)
            if k or m:
                out = np.zeros(p.shape, dtype=p.dtype)
                if k:
                    out[k:] = c * p[k:]
                if m:
                    out[:, m:] = c * p[:, m:]
                return out
            return None
        elif c == 1.0:
            return p
        if c - c == 0.0:  # finite
            return c * p
    out = c * p
    if isinstance(p, _Number):
        return out
    if isinstance(c, _Number):
        # nested: c is a number of an older tag whose real part may be inf (x**(y-3)
        # at x = 1e-300 inside a third derivative): a zero tangent still gives 0
        if type(p) is float or type(p) is np.ndarray:
            zero = np.asarray(p) == 0
            if np.any(zero) and not _all_parts_finite(c):
                out = np.where(zero, np.zeros((), dtype=np.result_type(g.real_value(out))), out)
        return out
    if type(c) is float or not _finite(c):
        if type(out) is not np.ndarray and _is_foreign(out):
            # lazy: the same guard without asking whether any tangent is zero
            return np.where(p == 0, np.zeros((), dtype=out.dtype), out)
        zero = np.asarray(p) == 0
        if np.any(zero):
            zero = _structural(zero)
            out = np.where(zero, np.zeros((), dtype=np.result_type(out)), out)
            out = _tidy(out) if out.ndim == 0 else out
    return out


def _all_parts_finite(v) -> bool:
    if isinstance(v, _Number):
        parts = getattr(v, "coef", None)
        return all(_all_parts_finite(q) for q in
                   ((parts,) if parts is not None else v._parts()))
    if type(v) is not float and type(v) is not np.ndarray and _is_foreign(v):
        return True  # lazy values: not forced here
    return bool(np.all(np.isfinite(v)))


def _safe_scalar_mul(c: float, p: float) -> float:
    """c * p for Python floats, zero where p is zero (see :func:`_mul_coef`)."""
    out = c * p
    return 0.0 if out != out and p == 0.0 else out


#: binary rules whose first partials are selection weights (1, 0.5 at ties, 0)
_SELECTING = frozenset(("maximum", "minimum", "fmax", "fmin"))


def _mul_weight(c, p, w=None):
    """c * p for a partial ``c`` whose exact zeros are structural (``w``, when given,
    is the constant whose zeros make ``c`` zero): zero there even if the tangent is
    inf or NaN, as reverse mode's zero cotangent gives.  The selection weights of
    maximum/minimum/clip (the operand they do not pick has no say: the gradient of
    ``sum(maximum(sqrt(x), 0.5))`` at x = [0, 4] is [0, 0.25], not [nan, 0.25]) and
    a constant factor (``0.0 * sqrt(x)`` at 0 has derivative 0; see
    ``_exactdiff._common.zero_weighted``)."""
    out = _mul_coef(c, p)
    if out is None or type(out) is float:
        return out
    if isinstance(out, _Number) or isinstance(p, _Number):
        return out if isinstance(c, _Number) else _nested_weighted(out, c if w is None else w)
    w = c if w is None else w() if callable(w) else w
    if isinstance(w, _Number):
        return out  # a number of an older tag: it moves there (nesting), not structural
    if type(out) is np.ndarray or type(out) is np.float64:
        if _sum_finite(out):
            return out
        out = _zero_weighted(out, w)
        return _tidy(out) if type(out) is np.ndarray and out.ndim == 0 else out
    if _is_foreign(out) and not isinstance(w, float):
        return _zero_weighted(out, w)
    return out


def _nested_weighted(out, w):
    """``out``, a product ``w * t`` of a constant weight and a tangent that is a number
    of an older tag (nesting: the inner helper's tangent of ``cbrt(x**3)``, nan next
    to cbrt'(0) = inf, times ``0.0``), with every part 0 where ``w`` is 0: the older
    tags' derivatives of the term are ``0 * t'`` there, structurally 0 as well
    (:func:`_mul_weight`; structural, so not counted for the audit)."""
    if not isinstance(out, _Number) or _all_parts_finite(out):
        return out
    w = w() if callable(w) else w
    if isinstance(w, _Number) or _lazy(w):
        return out
    return g.where_value(np.equal(w, 0), 0.0, out)


def _tangent_product(p, q, coef=None):
    """``p * q`` for two tangent parts, zero wherever either is exactly zero.

    The ε1ε2 part of a chain rule multiplies tangents of two directions; a
    direction that does not move an element has tangent 0 there, and an inf or
    NaN tangent of the other direction (sqrt'(0), a NaN element) must not turn
    that zero into NaN (the Hessian of ``sum(x * exp(x))`` at ``[3, nan, 2]``
    is nan only in the NaN element's row and column).  One finiteness check on
    the product; the mask only where it is not finite.
    """
    out = p * q
    if type(out) is float:
        return 0.0 if out != out and (p == 0.0 or q == 0.0) else out
    if isinstance(p, _Number) or isinstance(q, _Number) or isinstance(out, _Number):
        return out  # nested parts: numbers of an older tag (see _mul_coef)
    if type(out) is not np.ndarray and type(out) is not np.float64 and _is_foreign(out):
        zero = np.logical_or(p == 0, q == 0)
        return np.where(zero, np.zeros((), dtype=out.dtype), out)
    if _sum_finite(out):
        return out
    if (AUDIT_K.get() or AUDIT_M.get()) and coef is not None and not isinstance(
            coef, _Number) and not _sum_finite(coef):
        # an audit, and the product meets an inf/nan partial ``coef``: a zero tangent
        # counts as structural only where its probes are zero too (f''(u) u1 u2 of
        # (x**1.5)**(2/3) at 0: both 1.5 sqrt(x) are computed zeros, and the term is
        # nan, not dropped; the result was inf, truth 0).  Next to a finite partial
        # (the product rule's a1 b2 of t**3 * sqrt(t), whose limit is 0) the zero is
        # kept, as in the first pass.
        zp = np.asarray(p) == 0
        zq = np.asarray(q) == 0
        zero = np.logical_or(_structural_mask(zp) if zp.ndim else zp,
                             _structural_mask(zq) if zq.ndim else zq)
    else:
        zero = np.logical_or(np.asarray(p) == 0, np.asarray(q) == 0)
    if not np.any(zero):
        return out
    out = np.where(zero, np.zeros((), dtype=np.result_type(out)), out)
    return _tidy(out) if out.ndim == 0 else out


def _zero_coef(c) -> bool:
    return type(c) is float and c == 0.0


def _acc(total, term):
    if term is None:
        return total
    if total is None:
        return term
    return total + term


def _np_scalar(v):
    """Python floats raise on 1/0 and 0.0**-1; np.float64 follows numpy (inf, warning)."""
    return np.float64(v) if type(v) is float else v


def _weak(v, other) -> bool:
    """True if ``v`` is a Python float meeting a lower-precision numpy float."""
    return (type(v) is float and isinstance(other, (np.ndarray, np.generic))
            and other.dtype.kind == "f" and other.dtype != np.float64)


def _scaled_hyper_scalar(rule, x, r, a, b, c):
    """HyperDual's chain rule on Python floats through the rule's scaled products."""
    s1, s2 = rule.s1, rule.s2
    t1, t2 = s1(r, a), s1(r, b)
    t12 = s1(r, c) + s2(r, a, b)
    if t1 != t1 or t2 != t2 or t12 != t12:  # zero tangents stay zero (see _mul_coef)

        def part(m, p):
            _, a, b, c = p[0]
            if m == 1:
                return s1(r, a) if a != 0.0 else 0.0
            if m == 2:
                return s1(r, b) if b != 0.0 else 0.0
            return ((s1(r, c) if c != 0.0 else 0.0)
                    + (s2(r, a, b) if a != 0.0 and b != 0.0 else 0.0))

        parts = [[r, a, b, c]]
        # (where f'(u) c and f''(u) a b overflow with opposite signs: _wide)
        t1, t2, t12 = (_wide(part(m, parts), m, functools.partial(part, m), parts)
                       for m in (1, 2, 3))
    o = _new(HyperDual)
    o.real = rule.scalar(r)
    o.eps1, o.eps2, o.eps12 = t1, t2, t12
    o.tag = x.tag
    o.nd = 0
    return o


#: (k1, k2): the tangents of directions 1 and 2 scaled by 2**-k1 and 2**-k2 (and
#: eps12 by 2**-(k1 + k2)) where a part of the chain rule came out nan (see _wide)
_WIDE_SCALES = ((300, 300), (500, 500), (600, 600), (900, 900))
_TINY = float(np.finfo(np.float64).tiny)


def _shrunk(p, k):
    """``p * 2**-k`` for a plain float/ndarray tangent part, or None where that
    loses bits (a nonzero entry below the normal range) or ``p`` is not plain."""
    if k == 0 or p is None:
        return p
    t = type(p)
    if t is float:
        q = math.ldexp(p, -k)
        return q if p == 0.0 or abs(q) >= _TINY or q != q or p - p != 0.0 else None
    if t is not np.ndarray and t is not np.float64 or p.dtype != np.float64:
        return None
    with np.errstate(all="ignore"):
        q = np.ldexp(p, -k)
        a = np.abs(q)
        if np.any((a < _TINY) & (p != 0)):
            return None
    return q


def _wide(total, m, compute, parts):
    """Part ``m`` of a chain rule (1: eps1, 2: eps2, 3: eps12) where it came out nan:
    ``compute(parts)`` again with the tangents scaled down by powers of two, and
    the result scaled back.  Every term of part m is linear in the tangents of
    each direction, so the scaled sum is exact up to rounding; where its terms
    overflowed with opposite signs (inf - inf), the scaled one is formed in range
    and scaled back is the truth: a float where the terms cancel into range,
    +-inf with the truth's sign where it is beyond it (d2/dv2 1/v**2 at v =
    1e-120 is 6e480: inf, not nan).  ``parts``: lists of the moving operands'
    parts (real, eps1, eps2, eps12).  Entries that stay nan are left as they
    are (a nan input, 0 * inf)."""
    if total is None:
        return total
    if isinstance(total, _Number):
        return _wide_nested(total, m, compute, parts)
    t = type(total)
    if t is float:
        if total == total:
            return total
    elif t is np.ndarray or t is np.float64:
        if total.dtype != np.float64 or not np.isnan(total).any():
            return total
    else:
        return total
    for ks, scaled in _scaled_tangents(parts, m, _shrunk, None):
        with np.errstate(all="ignore"):
            got = compute(scaled)
            if t is float:
                if got - got == 0.0:
                    return float(np.ldexp(got, ks[m]))
                continue
            total = _fill_nan(total, got, np.ldexp(got, ks[m]))
            if not np.isnan(total).any():
                return total
    return total


def _scaled_tangents(parts, m, shrink, lost):
    """For each scale (k1, k2) of ``_WIDE_SCALES`` in turn: ``ks = (0, k1, k2, k1 + k2)``
    and ``parts`` with the tangents that part ``m`` is linear in (all three for m = 3)
    scaled by ``shrink(p, ks[i])``; a scale at which ``shrink`` gives ``lost`` (bits
    would be lost) is passed over."""
    which = (1, 2, 3) if m == 3 else (m,)
    for k1, k2 in _WIDE_SCALES:
        ks = (0, k1, k2, k1 + k2)
        scaled = []
        for ps in parts:
            q = list(ps)
            for i in which:
                q[i] = shrink(ps[i], ks[i])
            if any(q[i] is lost for i in which):
                break
            scaled.append(q)
        else:
            yield ks, scaled


def _wide_nested(total, m, compute, parts):
    """:func:`_wide` where the part is a nested number (a Dual or HyperDual of an
    outer helper: ``hyperdual.second_derivative`` inside ``hyperdual.derivative``).
    The tangents are scaled by powers of two as whole numbers and the nan entries
    of every level filled from the scaled result scaled back (the third derivative
    of log_ndtr(exp(v)) at v = 360 was f''(u) a b = 0 * inf = nan, truth 0)."""
    if type(total) not in (Dual, HyperDual) or not _has_nan(total):
        return total
    for ks, scaled in _scaled_tangents(parts, m, _shrunk_any, _LOST):
        with np.errstate(all="ignore"):
            got = compute(scaled)
            if type(got) is not type(total):
                continue
            back = got
            # (2**(k1 + k2) is beyond the float range: two exact steps)
            for k in (ks[1:3] if m == 3 else (ks[m],)):
                back = back * math.ldexp(1.0, k)
            total = _fill_nan(total, got, back)
        if not _has_nan(total):
            return total
    return total


_LOST = object()  # _shrunk_any: the scaling would lose bits


def _shrunk_any(p, k):
    """``p * 2**-k`` for a plain or nested tangent part; ``_LOST`` where a nonzero
    entry of any level would fall below the normal range."""
    if k == 0 or p is None:
        return p
    if isinstance(p, _Number):
        if type(p) not in (Dual, HyperDual):
            return _LOST
        qs = tuple(_shrunk_any(a, k) for a in p._parts())
        return _LOST if any(q is _LOST for q in qs) else type(p)._build(qs, p.tag, p.nd)
    q = _shrunk(p, k)
    return _LOST if q is None else q


def _has_nan(v) -> bool:
    """Whether a plain or nested part has a nan entry at any level (lazy data and
    Taylor numbers, which :func:`_wide_nested` does not repair: no)."""
    if isinstance(v, _Number):
        return type(v) in (Dual, HyperDual) and any(_has_nan(a) for a in v._parts())
    t = type(v)
    if t is float:
        return v != v
    if t is np.ndarray or t is np.float64:
        return bool(np.isnan(v).any())
    return False


def _fill_nan(total, got, back):
    """``total`` with its nan entries, at every level, taken from ``back`` (the scaled
    result ``got`` scaled back) where ``got`` is finite; a nested level whose
    structure differs is left as it is."""
    if isinstance(total, _Number):
        if type(got) is not type(total) or got.tag != total.tag:
            return total
        return type(total)._build(tuple(_fill_nan(a, b, c) for a, b, c in zip(
            total._parts(), got._parts(), back._parts())), total.tag, total.nd)
    if isinstance(got, _Number) or not _has_nan(total):
        return total
    fill = np.isnan(total) & np.isfinite(got)
    if not np.any(fill):
        return total
    out = np.where(fill, back, total)
    return _tidy(out) if out.ndim == 0 else out


def _guard(term, *tangents):
    """A scaled product with zero where a tangent factor is exactly zero (so a
    zero tangent stays zero where f' is inf: as :func:`_mul_coef`)."""
    if term is None or type(term) is float and term - term == 0.0:
        return term
    if isinstance(term, _Number):
        if _all_parts_finite(term):
            return term
    elif type(term) is not np.ndarray and type(term) is not float and _is_foreign(term):
        pass  # lazy: guarded without asking whether it is finite
    elif _sum_finite(term):
        return term
    zero = None
    for t in tangents:
        if not isinstance(t, _Number):
            z = np.equal(t, 0)
            zero = z if zero is None else np.logical_or(zero, z)
    return term if zero is None else _zeroed(term, zero)


def _zeroed(term, zero, stacked=True):
    """``term`` with 0 where the boolean mask ``zero`` holds: where the tangents a
    term is made of are exactly 0, it is 0, even next to an inf or nan derivative.

    Plain data: nothing to do unless some entry is masked, and the zeros are
    counted (an audited helper then redoes its call: ``stacked``, the mask leads
    with the direction axis its probes are on, so :func:`_structural` keeps only
    structural zeros; otherwise the count alone).  Lazy data: a ``where`` in the
    graph, neither inspected nor counted.  ``term`` may be a number of an older
    tag (nesting)."""
    if _lazy(term) or _lazy(zero):
        if isinstance(term, _Number):
            return g.where_value(zero, 0.0, term)
        return np.where(zero, np.zeros((), dtype=term.dtype), term)
    zero = np.asarray(zero)
    if not np.any(zero):
        return term
    if stacked:
        zero = _structural(zero)
    else:
        KEPT[0] += 1
    if isinstance(term, _Number):
        return g.where_value(zero, 0.0, term)
    out = np.where(zero, np.zeros((), dtype=np.result_type(term)), term)
    return _tidy(out) if out.ndim == 0 else out


def _lazy(v) -> bool:
    """A foreign array (dask, CuPy, sparse) as the value: no data-dependent branch."""
    t = type(v)
    if t is float or t is np.ndarray or t is np.float64 or isinstance(v, _Number):
        return False
    return _is_foreign(v)


def _sum_finite(p) -> bool:
    """Whether every element of a float or ndarray ``p`` is finite, from its sum
    (one pass, no BLAS thread; a sum that overflows answers no, which only sends
    the caller down its careful path).  Lazy data answers no.  Small arrays are
    tested entry by entry instead (``isfinite``, exact and flag-free: no
    ``np.errstate``, which cost more than the test itself)."""
    t = type(p)
    if t is float:
        return p - p == 0.0
    if t is np.ndarray:
        if p.size <= _LARGE_STACK:
            return bool(_count_nonzero(_isfinite_ufunc(p)) == p.size)
        with np.errstate(over="ignore", invalid="ignore"):
            return _isfinite(_add_reduce(p, axis=None))
    if t is np.float64:
        return _isfinite(p)
    return False


_isfinite_ufunc = np.isfinite


def _plain_in_range(rule, x, cls, parts, r, out):
    """The plain chain rule where the rule's ``safe`` range holds every value and
    every product comes out finite; None otherwise (the scaled forms decide)."""
    tr = type(r)
    if tr is np.ndarray:
        if r.size == 0:
            return None
        # as Python floats: a float32 min compared with the float64 bounds warned
        # "overflow encountered in cast" under NEP 50 (an error under np.seterr(all='raise'))
        lo, hi = float(r.min()), float(r.max())
    elif tr is np.float64 or tr is float:
        lo = hi = r
    else:
        return None
    if not rule.safe[0] <= lo <= hi <= rule.safe[1]:
        return None
    # in the safe range f' and f'' are ordinary floats: f' a and f' c are exact up
    # to rounding (or out of range with the truth); only a * b can leave the range
    f1 = rule.df(r)
    res = [_mul_coef(f1, parts[1])]
    if cls._NPARTS > 2:
        a, b, c = parts[1], parts[2], parts[3]
        res.append(_mul_coef(f1, b))
        t12 = _acc(_mul_coef(f1, c), (rule.d2f(r) * a) * b)
        if t12 is not None and not isinstance(t12, _Number) and not _sum_finite(t12):
            return None
        res.append(t12)
    return _finish(cls, out + res, x.tag, x.nd, _shape(out[0]), _lead_shapes(x))


def _unary_general(rule, x):
    cls = type(x)
    parts = x._parts()
    if rule.name == "negative" and all(type(p) is np.ndarray for p in parts):
        # -x part by part: what the chain rule below gives (f' = -1, f'' = 0), 10x cheaper
        return cls._build(tuple([-p for p in parts]), x.tag, x.nd)
    r = _np_scalar(parts[0])
    out = [getattr(g, rule.name)(r)]
    s1 = rule.s1
    if s1 is not None and _lazy(r):
        s1 = None  # lazy data (dask): the plain products, no branch forces a compute
    if s1 is not None and rule.safe is not None:
        plain = _plain_in_range(rule, x, cls, parts, r, out)
        if plain is not None:
            return plain
    if s1 is not None:
        # f'(u) a and f''(u) a b as the rule forms them (no under/overflow of f'
        # or f'' alone where the products are ordinary floats)
        a = parts[1]
        t1 = s1(r, a)
        out.append(t1 if _sum_finite(t1) else _guard(t1, a))
        if cls._NPARTS > 2:
            b, c = parts[2], parts[3]
            t2 = s1(r, b)
            out.append(t2 if _sum_finite(t2) else _guard(t2, b))
            tc, tab = s1(r, c), rule.s2(r, a, b)
            t12 = _acc(tc, tab)
            if not _sum_finite(t12):
                # zero tangents stay zero where f', f'' are inf; where the two terms
                # overflow with opposite signs, formed with scaled tangents (_wide)
                def part(p, s1=s1):
                    _, a, b, c = p[0]
                    return _acc(_guard(s1(r, c), c), _guard(rule.s2(r, a, b), a, b))

                t12 = _wide(part([parts]), 3, part, [parts])
            out.append(t12)
        return _finish(cls, out, x.tag, x.nd, _shape(out[0]), _lead_shapes(x))
    f1 = rule.df(r)
    f2 = rule.d2f(r) if cls._NPARTS > 2 else None
    derivs = (None, f1, f2)

    def part(m, parts):
        total = None
        for blocks in _PARTITIONS[m]:
            term = parts[blocks[0]]
            for b in blocks[1:]:
                term = _tangent_product(term, parts[b], derivs[len(blocks)])
            total = _acc(total, _mul_coef(derivs[len(blocks)], term))
        return total

    for m in range(1, cls._NPARTS):
        total = part(m, parts)
        if m == 3 and total is not None and (
                _has_nan(total) if isinstance(total, _Number) else not (
                    _zero_coef(total) or _sum_finite(total))):
            # f''(u) a b with f'' underflowed to 0 and a b overflowed (log_ndtr(exp(x))
            # at 400: nan, truth 0): formed with scaled tangents, as the rules with
            # scaled products do (_wide)
            total = _wide(total, 3, lambda q: part(3, q[0]), [parts])
        out.append(total)
    return _finish(cls, out, x.tag, x.nd, _shape(out[0]), _lead_shapes(x))


def _top(x, y):
    """Which operand carries the perturbation of this operation (the newer tag)."""
    nx, ny = isinstance(x, _Number), isinstance(y, _Number)
    if nx and ny:
        if x.tag == y.tag:
            if type(x) is not type(y):
                raise TypeError(
                    f"hyperdual: cannot combine a {type(x).__name__} and a "
                    f"{type(y).__name__} of the same tag; make one from the other "
                    "(HyperDual(d.real, d.dual, 0.0, 0.0)) or seed each with new_tag()"
                )
            if x.nd != y.nd:
                raise ValueError(
                    "hyperdual: operands carry different direction stacks (nd "
                    f"{x.nd} and {y.nd}) of the same tag"
                )
            return x, True, True
        return (x, True, False) if x.tag > y.tag else (y, False, True)
    if nx:
        return x, True, False
    return y, False, True


def _binary_op(rule, x, y):
    """Operator entry point: unknown operand types get NotImplemented."""
    out = _lanes(rule.name, x, y)  # the lanes check their operand types themselves
    if out is not None:
        return out
    return _binary_op_general(rule, x, y)


def _dual_op(name, x, y):
    """A Dual's + - * / with array parts: the Dual lane (:func:`_fast_arith`, all of
    :func:`_lanes` that applies to a Dual operand next to a Dual or a constant)
    without the entry points' lookups, else the general rule; other operands
    (a HyperDual, a list) and numpy 1.x take :func:`_binary_op`."""
    o = y if type(x) is Dual else x
    if _NP1 or not (type(o) is Dual or type(o) is np.ndarray or type(o) is float
                    or type(o) is int or type(o) is np.float64):
        return _binary_op(BINARY[name], x, y)
    out = _fast_arith(name, x, y)
    return _binary_op_general(BINARY[name], x, y) if out is None else out


def _binary_op_general(rule, x, y):
    """:func:`_binary_op` once the lanes have declined."""
    if isinstance(x, (list, tuple)):
        x = _as_part(x, "operand")  # numpy treats lists as arrays; so do we
    if isinstance(y, (list, tuple)):
        y = _as_part(y, "operand")
    if not (_accepts(x) and _accepts(y)):
        return NotImplemented
    return _binary_general(rule, x, y)


def _coerce_const(v):
    if isinstance(v, _Number) or type(v) is float:
        return v
    if type(v) is np.float64 or (type(v) is np.ndarray and v.ndim == 0
                                 and v.dtype == np.float64):
        # numpy's float64 scalars and 0-d arrays are strong (NEP 50): next to a float32
        # value the result is float64, as numpy's is (as a Python float, which
        # _as_part makes of them, float32 * np.float64(2.0) stayed float32)
        return np.float64(v)
    return _as_part(v, "operand")


def _full(d, r, nd):
    if type(r) is not np.ndarray:
        r = np.asarray(r)
    if nd:
        return d if d.shape[1:] == r.shape else np.broadcast_to(d, d.shape[:1] + r.shape)
    return d if d.shape == r.shape else np.broadcast_to(d, r.shape)


def _finite(r) -> bool:
    """True if every element of the value ``r`` of a product or quotient is finite.

    Then no operand real was inf, nan or a zero divisor, so the product rule's
    ``tangent * real`` terms cannot hide a ``0 * inf``: the fast lanes may skip
    the NaN-safe general rule.  The dot product of ``r`` with itself is the
    cheapest full check (~0.5 us at n = 10**3; a sum on arrays large enough for
    BLAS to thread it: ``_exactdiff._common.finite_array``, of the scaled ``r``,
    which cannot overflow) and raises no floating-point warnings in any error mode.
    """
    if type(r) is np.ndarray:
        return _finite_array(r)
    if type(r) is not float and _is_foreign(r):
        return False  # a lazy array's values are not at hand: take the general rule
    return _isfinite(r)


_isfinite = math.isfinite
_add_reduce = np.add.reduce


def _fast_arith(name, x, y):
    """+ - * / of Duals with ndarray parts (or such a Dual and an array or float
    constant): the common case in forward-over-reverse, written out directly.
    Returns None when the general chain rule is needed.  (~3x less overhead per op.)
    With a direction stack (nd = 1) only operations that do not grow the value's
    number of axes take this lane, so plain broadcasting stays right."""
    tx, ty = type(x), type(y)
    if tx is Dual:
        xr, xd, nd = x.real, x.dual, x.nd
        if type(xd) is not np.ndarray or nd > 1:
            return None
        if type(xr) is not np.ndarray:
            if not (nd and type(xr) is float):
                return None
            xr = np.float64(xr)  # a stacked scalar: numpy semantics for 1/0
        if ty is Dual:
            yr, yd = y.real, y.dual
            if type(yr) is float and nd:
                yr = np.float64(yr)
            if (type(yr) is not np.ndarray and type(yr) is not np.float64) or (
                    type(yd) is not np.ndarray or y.nd != nd or y.tag != x.tag
                    or (nd and xr.shape != yr.shape)):
                return None
            if name == "add":
                r, d = xr + yr, xd + yd
            elif name == "subtract":
                r, d = xr - yr, xd - yd
            elif name == "multiply":
                r = xr * yr
                d = xd * yr + xr * yd
                if not _finite(d):
                    # (implies r finite unless x * y overflows): the general rule
                    # keeps a non-moving zero factor's term 0 (_still_zero)
                    return None
            else:
                r = xr / yr
                if not _finite(r):
                    return None
                d = (xd - r * yd) / yr
                if not _finite(d):
                    return None  # the general rule: a zero numerator's term (_still_zero)
            return _dual_out(r, d, x.tag, nd)
        if not (ty is np.ndarray or ty is float or ty is np.float64 or ty is int):
            return None
        if nd and ty is np.ndarray and y.ndim > xr.ndim:
            return None
        if name == "add":
            r, d = xr + y, xd
        elif name == "subtract":
            r, d = xr - y, xd
        elif name == "multiply":
            r, d = xr * y, xd * y
            if not _const_lane_ok(r, d, y, ty, nd, True):
                return None
        else:
            r, d = xr / y, xd / y
            if not _const_lane_ok(r, d, y, ty, nd, False):
                return None
        return _dual_out(r, d, x.tag, nd)
    if ty is Dual and (tx is np.ndarray or tx is float or tx is np.float64 or tx is int):
        yr, yd, nd = y.real, y.dual, y.nd
        if type(yd) is not np.ndarray or nd > 1:
            return None
        if type(yr) is not np.ndarray:
            if not (nd and type(yr) is float):
                return None
            yr = np.float64(yr)
        if nd and tx is np.ndarray and x.ndim > yr.ndim:
            return None
        if name == "add":
            r, d = x + yr, yd
        elif name == "subtract":
            r, d = x - yr, -yd
        elif name == "multiply":
            r, d = x * yr, x * yd
            if not _const_lane_ok(r, d, x, tx, nd, True):
                return None
        else:
            r = x / yr
            if tx is not np.ndarray and not _finite(r):
                return None
            d = -r * yd / yr
            # c / x: partials -c/x**2 ..., exactly 0 where c is (c/x's value finite)
            if tx is np.ndarray:
                if not _const_lane_ok(r, d, x, tx, nd, True):
                    return None
            elif x == 0 and not _finite(d):
                return None
        return _dual_out(r, d, y.tag, nd)
    return None


def _const_lane_ok(r, d, c, tc, nd, mul) -> bool:
    """Whether the lane's ``r, d = x * c, tangent * c`` (``mul``; else ``x / c,
    tangent / c``) for a constant ``c`` is what the general rule gives.  It is
    unless a tangent of 0 met an infinite or zero ``c`` (0, not nan), or an inf/NaN
    tangent met a structural zero (a 0 of ``c`` in a product, an inf ``c`` in a
    quotient: 0 too, as a constant 0 contributes 0, :func:`_mul_weight`); a
    non-finite value alone changes nothing (the general rule's tangent is ``c *
    tangent``, ``tangent / c`` as well).  At most the one finiteness check the
    lane always made: none for a finite nonzero scalar, of ``d`` otherwise, but
    for a direction stack of ``r`` and ``c`` (``c``'s zeros or infinities,
    counted), and of ``d`` only where ``c`` has some)."""
    if tc is not np.ndarray:
        if c - c != 0:
            return False
        return c != 0 or (mul and _finite(d))
    if nd:  # checks of r and c, not of the k times larger d
        if not _finite(r):
            return False
        if _no_zeros(c) if mul else _finite(c):
            return True
    return _finite(d)


_LARGE_STACK = 8192
_count_nonzero = _common_count_nonzero


def _no_zeros(c) -> bool:
    """Whether the float array ``c`` has no zero (count_nonzero is the quicker
    test on small arrays, all() on large ones)."""
    return _count_nonzero(c) == c.size if c.size <= _LARGE_STACK else bool(c.all())


_FAST_ARITH = {"add", "subtract", "multiply", "true_divide"}
_LANE_UFUNCS = {np.add: "add", np.subtract: "subtract", np.multiply: "multiply",
                np.true_divide: "true_divide"}


def _dual_out(r, d, tag, nd):
    """The lane's result; the usual shapes skip _tidy/_full/_build (~0.4 us of ~4)."""
    if type(r) is np.ndarray and r.ndim and (d.shape[1:] if nd else d.shape) == r.shape:
        if d.dtype != r.dtype and type(d) is np.ndarray:
            # a float32 tangent next to a value promoted to float64 by a float64
            # constant (x + ones(3)): the tangent follows the value, as numpy's would
            d = d.astype(np.result_type(r, d))
        o = _new(Dual)
        o.real = r
        o.dual = d
        o.tag = tag
        o.nd = nd
        return o
    return Dual._build((_tidy(r), _full(d, r, nd)), tag, nd)


def _zero_fill(c) -> bool:
    """``c`` is a broadcast view of one zero (the ε12 seed of a helper)."""
    return not any(c.strides) and c.size > 0 and not c.flat[0]


def _accumulate(total, term):
    """``total + term``, into ``total`` when it is a fresh array of the result's shape
    (the same rounding; one temporary fewer on direction stacks)."""
    if (type(total) is np.ndarray and type(term) is np.ndarray and total.shape == term.shape
            and total.dtype == term.dtype and total.base is None):
        total += term
        return total
    return total + term


def _mixed_product(a, b, c, yr, xr, a2, b2, c2):
    """ε12 of x * y: ``c * yr + xr * c2 + (a * b2 + a2 * b)`` (the general rule's
    order and rounding), skipping the terms of zero seeds (their products are
    exact zeros of the finite reals) and reusing the temporaries."""
    cross = _accumulate(a * b2, a2 * b)
    if _zero_fill(c):
        first = None if _zero_fill(c2) else xr * c2
    else:
        first = c * yr if _zero_fill(c2) else _accumulate(c * yr, xr * c2)
    return cross if first is None else _accumulate(first, cross)


def _mixed_square(a, b, c, two):
    """ε12 of x * x: ``2 (c xr + a b)`` as ``c (2 xr) + (2 a) b`` (``two = 2 xr``), equal
    to :func:`_mixed_product` of (x, x): doubling is exact and commutes with rounding,
    so it rides on the smaller operand instead of a pass over the large product."""
    cross = (2.0 * a) * b if a.size <= b.size else a * (2.0 * b)
    if not _zero_fill(c):
        cross = _accumulate(c * two, cross)
    return cross


def _negated(c):
    """``-c``; a broadcast view of one zero stays one (of -0.0)."""
    if _zero_fill(c):
        return _filled_view(np.array(-c.flat[0]), c.shape)
    return -c


def _fast_arith_hyper(name, x, y):
    """+ - * of HyperDuals with ndarray parts of matching shapes (or one and a
    constant): the Hessian's inner loop, written out.  None means "use the
    general rule".  At n = 10 this halves the cost of a Rosenbrock Hessian
    (each general binary op is ~50 us of Python there)."""
    if name == "true_divide":
        return None
    tx, ty = type(x), type(y)
    if tx is HyperDual and ty is HyperDual:
        if x.tag != y.tag or x.nd != y.nd:
            return None
        xr, a, b, c = x.real, x.eps1, x.eps2, x.eps12
        yr, a2, b2, c2 = y.real, y.eps1, y.eps2, y.eps12
        if not (type(xr) is np.ndarray and type(yr) is np.ndarray and type(a) is np.ndarray
                and type(a2) is np.ndarray and type(b) is np.ndarray
                and type(b2) is np.ndarray and type(c) is np.ndarray
                and type(c2) is np.ndarray and xr.shape == yr.shape
                and a.shape == a2.shape and b.shape == b2.shape and c.shape == c2.shape):
            return None
        if name == "add":
            parts = (xr + yr, a + a2, b + b2, c + c2)
        elif name == "subtract":
            parts = (xr - yr, a - a2, b - b2, c - c2)
        else:
            r = xr * yr
            if not _finite(r):
                return None
            # an inf/NaN tangent (sqrt'(0)) met by a zero tangent in a * b2: the
            # general rule keeps that product zero (_tangent_product)
            if not (_sum_finite(a) and _sum_finite(b)
                    and (x is y or (_sum_finite(a2) and _sum_finite(b2)))):
                return None
            if x is y:  # a square: the same numbers as below, in half the passes
                two = 2.0 * xr  # (2 s is exact: a * (2 xr) == a * xr + xr * a)
                parts = (r, a * two, b * two, _mixed_square(a, b, c, two))
            else:
                parts = (r, a * yr + xr * a2, b * yr + xr * b2,
                         _mixed_product(a, b, c, yr, xr, a2, b2, c2))
        return HyperDual._build(parts, x.tag, x.nd)
    if tx is HyperDual:
        h, k, first = x, y, True
    elif ty is HyperDual:
        h, k, first = y, x, False
    else:
        return None
    hr, a, b, c = h.real, h.eps1, h.eps2, h.eps12
    if not (type(hr) is np.ndarray and type(a) is np.ndarray and type(b) is np.ndarray
            and type(c) is np.ndarray):
        return None
    tk = type(k)
    if tk is np.ndarray:
        if k.dtype != hr.dtype or not k.shape == hr.shape:
            return None
    elif not (tk is float or tk is int) or hr.dtype != np.float64:
        return None
    if name == "multiply":
        r = hr * k
        if not _finite(r):
            return None
        parts = (r, a * k, b * k, c * k)
        if (not _no_zeros(k) if tk is np.ndarray else k == 0) and not (
                _finite(parts[1]) and _finite(parts[2]) and _finite(parts[3])):
            return None  # an inf/NaN tangent met a constant 0: the general rule's 0
    elif name == "add":
        parts = (hr + k, a, b, c)
    elif first:
        parts = (hr - k, a, b, c)
    else:
        parts = (k - hr, -a, -b, _negated(c))
    return HyperDual._build(parts, h.tag, h.nd)


def _lanes(name, x, y):
    """The written-out + - * / lanes for array parts; None if none applies."""
    if name not in _FAST_ARITH:
        return None
    if _NP1 and (_np1_narrow_scalar(x) or _np1_narrow_scalar(y)):
        return None  # the general rule keeps a 0-d float32 float32 on numpy 1.x
    out = _fast_arith(name, x, y)
    return _fast_arith_hyper(name, x, y) if out is None else out


def _binary(rule, x, y):
    out = _lanes(rule.name, x, y)
    return _binary_general(rule, x, y) if out is None else out


def _binary_general(rule, x, y, composite=True):
    """The chain rule for any binary rule of the table, any part count and stacks."""
    if composite and rule.composite is not None:
        return rule.composite(x, y, lambda a, b: _binary_general(rule, a, b, False))
    top, vx, vy = _top(x, y)
    if not top._NPARTS:  # a Taylor is the newest operand: its own arithmetic
        from ._taylor import binary_rule

        return binary_rule(rule, x, y)
    cls, nd, tag = type(top), top.nd, top.tag
    px = x._parts() if vx else None
    py = y._parts() if vy else None
    xr = px[0] if vx else _coerce_const(x)
    yr = py[0] if vy else _coerce_const(y)
    # A Python float next to a float32 value stays a (weak) Python float, so the
    # result keeps float32 as numpy's would; otherwise it becomes np.float64.
    xr, yr = (xr if _weak(xr, yr) else _np_scalar(xr)), (yr if _weak(yr, xr) else _np_scalar(yr))
    order = 2 if cls._NPARTS > 2 else 1
    if rule.scaled is not None and not (_lazy(xr) or _lazy(yr)) and (
            rule.scaled_when is None or rule.scaled_when(xr, yr, vx, vy)):
        return _binary_scaled(rule, x, y, xr, yr, px, py, vx, vy, cls, nd, tag, top)
    if vx and not vy and (type(xr) is Dual or type(xr) is HyperDual):
        shift = _power_shift(rule.name)
        if shift is not None:
            c = _relative_exponent(xr, yr, shift)
            if c is not None:
                return _power_relative(rule, c - shift, xr, yr, px, cls, nd, tag, top)
    d = rule.partials(xr, yr, order, vx, vy)
    value, shape, px, py = _binary_value(rule, xr, yr, px, py, vx, vy, nd)
    out = [value]
    # A partial that is an exact constant 0 contributes 0 next to an inf/NaN tangent
    # (0.0 * sqrt(x) at 0): the weight whose zeros are structural, None if none is.
    cw = _const_weight(rule.name, xr, yr, vx, vy, d) if vx != vy else None
    mul1 = _mul_weight if rule.name in _SELECTING or cw is not None else _mul_coef
    mul2 = _mul_coef if cw is None else _mul_weight
    zeros_move = vx and vy and rule.name == "multiply"

    def part(m, px, py):
        total = None
        for blocks in _PARTITIONS[m]:
            if len(blocks) == 1:
                b = blocks[0]
                if vx:
                    t = mul1(d[(1, 0)], px[b], cw)
                    if zeros_move:
                        t = _still_zero(t, yr, py, b)
                    total = _acc(total, t)
                if vy:
                    t = mul1(d[(0, 1)], py[b], cw)
                    if zeros_move:
                        t = _still_zero(t, xr, px, b)
                    total = _acc(total, t)
            else:
                # second-order terms: test the coefficient before forming the
                # (directions x directions) product, which is the expensive part
                b1, b2 = blocks
                # (a zero tangent times an inf/NaN one stays zero: _tangent_product)
                if vx and not _zero_coef(d[(2, 0)]):
                    total = _acc(total, mul2(d[(2, 0)], _tangent_product(
                        px[b1], px[b2], d[(2, 0)]), cw))
                if vy and not _zero_coef(d[(0, 2)]):
                    total = _acc(total, mul2(d[(0, 2)], _tangent_product(
                        py[b1], py[b2], d[(0, 2)]), cw))
                if vx and vy and not _zero_coef(d[(1, 1)]):
                    c11 = d[(1, 1)]
                    total = _acc(total, _mul_coef(c11, _tangent_product(px[b1], py[b2], c11)
                                                  + _tangent_product(py[b1], px[b2], c11)))
        return total

    for m in range(1, cls._NPARTS):
        total = part(m, px, py)
        if m == 3 and total is not None and (
                _has_nan(total) if isinstance(total, _Number) else not (
                    _zero_coef(total) or _sum_finite(total))):
            # f''(u) a b where f'' underflowed to 0 and a b overflowed (the second
            # derivative of logaddexp(0, exp(x)) at 400 was nan, truth 5.2e173): formed
            # with scaled tangents as the unary chain rule does (_wide)
            moving = [q for q in (px, py) if q is not None]
            total = _wide(total, m, lambda q: part(
                3, q[0] if vx else None, q[-1] if vy else None), moving)
        out.append(total)
    return _finish(cls, out, tag, nd, shape, _lead_shapes(top))


#: The range in which :func:`_relative_exponent` takes x**c as an ordinary float
_REL_LOW = float(np.finfo(np.float64).tiny) * 2.0 ** 64
_REL_HIGH = float(np.finfo(np.float64).max) * 2.0 ** -64

#: The rules of ``x ** c`` and of its derivatives ``P_i0 = c (c - 1) .. (c - i + 1)
#: x**(c - i)`` (hyperdual._powrule's ``pow_partial_i_0``) that :func:`_power_relative`
#: takes on nested numbers: the shift i of each (None: another rule)
_SHIFTS: dict = {"power": 0, "float_power": 0}


#: exponent -> the bounds of hyperdual._powrule.in_band(x, exponent) for a scalar x
_BANDS: dict = {}


def _in_band(x, c):
    from ._powrule import in_band

    global _in_band
    _in_band = in_band  # (imported once: _powrule imports this module)
    return in_band(x, c)


def _power_shift(name):
    i = _SHIFTS.get(name, False)
    if i is False:
        i = None
        parts = name.split("_")
        if len(parts) == 4 and parts[:2] == ["pow", "partial"] and parts[3] == "0":
            i = int(parts[2])
        _SHIFTS[name] = i
    return i


def _relative_exponent(xr, yr, shift=0):
    """``c`` as a float where ``x ** c`` (or its ``shift``-th derivative, a
    multiple of ``x ** (c - shift)``) of a nested number ``xr`` (an older tag's
    Dual or HyperDual: the call is nested in another helper) with a plain constant
    scalar exponent ``c`` takes :func:`_power_relative`: c - shift is not 0, 1 or
    2 (exact special cases), the falling factorial is not 0, and the innermost
    real values are finite, nonzero and outside the band where ``x**(c - shift - 1)``
    and ``x**(c - shift - 2)`` are ordinary floats (``hyperdual._powrule.in_band``;
    inside it the general chain rule, as before), while ``x**(c - shift)`` is one.
    Otherwise None."""
    if not (type(yr) is float or isinstance(yr, np.floating)
            or (type(yr) is np.ndarray and yr.ndim == 0)):
        return None
    c = float(yr)
    e = c - shift
    if e == 0.0 or e == 1.0 or e == 2.0 or c != c or (
            shift and 0.0 <= c < shift and c == int(c)):
        return None
    r = xr.real
    while type(r) is Dual or type(r) is HyperDual:
        r = r.real
    if type(r) is float or type(r) is np.float64:
        band = _BANDS.get(e)
        if band is None:  # (in_band's bounds for this exponent, once)
            w = 100.0 / max(abs(e), abs(e - 1.0), abs(e - 2.0), 1.0)
            band = _BANDS[e] = (10.0 ** -w, 10.0 ** w)
        a = abs(r)
        if a == 0.0 or band[0] <= a <= band[1]:
            return None  # (the usual case: checked without a call)
    elif type(r) is not np.ndarray or _in_band(r, e):
        return None
    with np.errstate(all="ignore"):
        # x**(c - shift), the value that every term multiplies, must be an ordinary
        # float itself, with a margin for its coefficient (d3/dv3 (v**2)**2.5 at
        # 1e-120: u**2.5 underflows where the general chain rule's
        # c (c - 1) (c - 2) u**-0.5 does not)
        p = np.abs(r) ** e
        ok = np.all(np.isfinite(r) & (r != 0) & (p >= _REL_LOW) & (p <= _REL_HIGH))
    return c if ok else None


def _power_relative(rule, c, xr, yr, px, cls, nd, tag, top):
    """The chain rule of ``x ** c`` (constant c) on nested numbers through relative
    tangents: ``c x**c (t1 / x)`` and ``c (c - 1) x**c (t1 / x) (t2 / x)`` (of
    ``P_i0 = s x**c'`` likewise, with ``c' = c - i``: its value times
    ``c' (t1 / x)`` ...; ``c`` here is that exponent ``c'``).

    The general chain rule forms the partials ``c x**(c - 1)`` and
    ``c (c - 1) x**(c - 2)`` alone, as numbers of the outer tags, before they meet
    the tangents, and far from 1 they leave the float range where the products do
    not: d3/dv3 ``(v**2)**-0.5`` at v = 1e75 through nested helpers was twice the
    truth (``0.75 u**-2.5`` = 1e-375 underflowed at u = 1e150), ``x**(1/3)`` of
    ``exp(500)`` three times.  The plain-data path forms those products by
    mantissas and exponents (``_powrule.pow_term``); on nested numbers each factor
    here is an ordinary float wherever the result is: ``x**c`` is the value
    itself (computed on ``xr`` by this same rule one level down), and ``t / x``
    is the relative tangent.  Only where every innermost real value is finite and
    nonzero (:func:`_relative_exponent`)."""
    value, shape, px, _ = _binary_value(rule, xr, yr, px, None, True, False, nd)
    rel: dict = {}

    def ratio(t):
        r = rel.get(id(t))
        if r is None:
            r = rel[id(t)] = (t, t / xr)
        return r[1]

    def term(key, t1, t2=None):
        if key == (1, 0):
            return (c * value) * ratio(t1)
        return ((c * (c - 1.0)) * value) * ratio(t1) * ratio(t2)

    out = [value]
    for m in range(1, cls._NPARTS):
        out.append(_scaled_part(m, term, px, None, True, False))
    return _finish(cls, out, tag, nd, shape, _lead_shapes(top))


def _still_zero(term, other, other_parts, b, denominator=None):
    """The product rule's term ``other * part[b]`` of ``x * y`` (both moving), exact 0
    where ``other`` is 0 with finite tangents of its own in the directions of part
    ``b`` (1, 2: a tangent; 3: the mixed part), even where the part is inf or NaN.

    With a = 0, a' finite and b finite (continuous) at the point,
    a(x + h) b(x + h) = (a' h + o(h)) (b + o(1)) = a' b h + o(h): the derivative
    of the product is a' b, so the a b' term is 0.  d/dx1 of ``x0 * sqrt(x1)`` at
    (0, 0) is 0 (reverse mode's zero cotangent gives the same), and d/dx of
    ``sin(x) * sqrt(x)`` at 0 is 0; ``sqrt(x) * sqrt(x)`` at 0 stays nan (a' is inf:
    the chain rule does not decide 0 * inf there).  Only non-finite terms are
    looked at.  The mixed part's term a b12 is 0 likewise where a = 0 and a1, a2 are
    finite: a b = (a1 h1 + a2 h2 + O(h**2)) (b + o(1)) has no h1 h2 term from b12
    (d2/dx2 of ``sin(x) * sqrt(x)`` at 0 is then 2 a1 b1 = inf, the truth).
    ``denominator``: the term ``-(a/b) b' / b`` of ``a / b`` (the product rule of
    ``a * (1/b)``), 0 likewise where ``1/b`` is finite too (b finite, nonzero):
    d/dx of ``(0.0 * x) / (1 + sqrt(x))`` at 0 is 0."""
    if term is None or isinstance(term, _Number) or isinstance(other, _Number) or _sum_finite(
            term):
        return term
    if type(term) is not np.ndarray and type(term) is not float and type(term) is not np.float64:
        return term  # lazy data: no masks in its graph
    keep = np.not_equal(other, 0)
    if denominator is not None:
        if isinstance(denominator, _Number):
            return term
        with np.errstate(invalid="ignore"):
            keep = keep | np.equal(denominator, 0) | ~np.isfinite(denominator)
    for s in (1, 2):
        if s & b:
            t = other_parts[s]
            if isinstance(t, _Number):
                return term
            keep = np.logical_or(keep, ~np.isfinite(t))
    out = np.where(keep, term, np.zeros((), dtype=np.result_type(term)))
    if out.ndim and (AUDIT_K.get() or AUDIT_M.get()):
        out = _probes_follow(out, term)
    return _tidy(out) if out.ndim == 0 else out


def _probes_follow(out, term):
    """``out`` (the term ``term`` with some entries made 0) during an audit: a probe
    lane is made 0 only where its real direction's term was (non-finite there), so
    that a probe keeps its nan where the real term was finite.  ``x1 * 2 sqrt(x0)``
    at (0, 1) moves along x1 by ``2 sqrt(x0) = 0``: that term is a finite 0, but the
    zero is a computed one, and its probe ``nan * 0`` must stay nan so that the 0
    is not taken as structural when it meets sqrt's infinite partial next (the
    Jacobian of reverse.gradient of ``sqrt(x0)**2 x1`` gave J[0, 1] = 0, truth 1)."""
    k = _probed_k(out.shape[0])
    if k:
        out[k:] = np.where(np.isfinite(term[:k]), term[k:], out[k:])
    m = _probed_m(out.shape)
    if m:
        out[:, m:] = np.where(np.isfinite(term[:, :m]), term[:, m:], out[:, m:])
    return out


def _const_weight(name, xr, yr, vx, vy, d=None):
    """For a binary rule with one moving operand: the constant whose exact zeros make
    the moving operand's partials exactly 0 for every value of it (so their terms
    are 0 even where its tangent is inf or NaN), or None; a function giving it
    where forming it costs work (called only where a term is not finite).
    ``x * c`` and ``c * x`` (partial c), ``x / c`` (1/c: 0 at c = inf), ``c / x``
    (-c/x**2 and 2c/x**3: 0 where c is 0 and x is not), ``heaviside(c, x)``
    (1 where c == 0, else 0), ``xlogy(c, x)`` and ``xlog1py(c, x)`` (c)."""
    if vx == vy:
        return None
    c, r = (yr, xr) if vx else (xr, yr)
    if isinstance(c, _Number) or _lazy(c) or _lazy(r):
        # a number of an older tag moves there (nesting); lazy (dask, sparse) data
        # keeps the plain products (no extra masks in its graph)
        return None
    if name == "multiply":
        return c
    if name in ("xlogy", "xlog1py"):
        # x log y is identically 0 in y where the constant x is 0 (scipy's xlogy(0, y)
        # = 0, also at y = 0): its partials x/y, -x/y**2 are 0 there, not 0/0
        return None if vx else c
    if name == "heaviside":
        return None if vx or d is None else d[(0, 1)]
    if name != "true_divide" or isinstance(yr, _Number):
        return None
    if vx:
        return lambda: np.true_divide(1.0, c)
    return lambda: np.where(np.logical_and(np.equal(c, 0), np.not_equal(yr, 0)), 0.0, 1.0)


def _binary_value(rule, xr, yr, px, py, vx, vy, nd):
    """A binary rule's value, its shape and the operands' parts lifted to it."""
    if (type(xr) is np.ndarray or type(yr) is np.ndarray) and not (
            isinstance(xr, _Number) or isinstance(yr, _Number)):
        value = rule.ufunc(xr, yr)  # plain arrays: skip the generic dispatch
    else:
        value = getattr(g, rule.name)(xr, yr)
    if _NP1 and rule.name != "float_power":  # float_power is float64 on every numpy
        value = _np1_weak_scalars(value, xr, yr)
    shape = _shape(value)
    nres = len(shape)
    if vx:
        px = [px[0]] + [_lift(p, nd, nres) for p in px[1:]]
    if vy:
        py = [py[0]] + [_lift(p, nd, nres) for p in py[1:]]
    return value, shape, px, py


def _binary_scaled(rule, x, y, xr, yr, px, py, vx, vy, cls, nd, tag, top):
    """The chain rule of a binary rule with scaled products (Binary.scaled)."""
    sc = rule.scaled
    value, shape, px, py = _binary_value(rule, xr, yr, px, py, vx, vy, nd)

    guard = False
    cache: dict = {}
    cw = _const_weight(rule.name, xr, yr, vx, vy) if vx != vy else None
    # x / y, both moving: the term -(x/y) y'/y is 0 where x is 0 with finite tangents
    # and 1/y finite (the product rule of x * (1/y), see _still_zero), first order
    quotient = vx and vy and rule.name == "true_divide"
    part = [0]

    def term(key, t1, t2=None):
        v = sc(xr, yr, key, t1, t2, cache)
        if v is None or not guard:
            # (a nested term is not guarded: its constant zero weight still holds)
            return v if cw is None or not isinstance(v, _Number) else _nested_weighted(v, cw)
        v = _guard(v, t1) if t2 is None else _guard(v, t1, t2)
        if quotient and key == (0, 1) and part[0] in (1, 2):
            v = _still_zero(v, xr, px, part[0], yr)
        if cw is None or v is None or isinstance(v, _Number):
            return v
        # a constant 0 partial contributes 0 next to an inf/NaN tangent (_mul_weight)
        return _zero_weighted(v, cw() if callable(cw) else cw)

    out = [value]
    for m in range(1, cls._NPARTS):
        part[0] = m
        total = _scaled_part(m, term, px, py, vx, vy)
        if not _sum_finite(total) and total is not None and not isinstance(total, _Number):
            guard = True  # zero tangents stay zero where a partial is inf
            total = _scaled_part(m, term, px, py, vx, vy)
            # terms that overflow with opposite signs: formed with scaled tangents
            # (the cache keys tangents by id: emptied for each set of scaled ones)
            moving = [p for p in (px, py) if p is not None]
            total = _wide(total, m, lambda q, m=m: cache.clear() or _scaled_part(
                m, term, q[0] if vx else None, q[-1] if vy else None, vx, vy), moving)
            guard = False
        out.append(total)
    return _finish(cls, out, tag, nd, shape, _lead_shapes(top))


def _scaled_part(m, term, px, py, vx, vy):
    """One part (mask m) of a binary chain rule from scaled terms."""
    total = None
    for blocks in _PARTITIONS[m]:
        if len(blocks) == 1:
            b = blocks[0]
            if vx:
                total = _acc(total, term((1, 0), px[b]))
            if vy:
                total = _acc(total, term((0, 1), py[b]))
        else:
            b1, b2 = blocks
            if vx:
                total = _acc(total, term((2, 0), px[b1], px[b2]))
            if vy:
                total = _acc(total, term((0, 2), py[b1], py[b2]))
            if vx and vy:
                total = _acc(total, term((1, 1), px[b1], py[b2]))
                total = _acc(total, term((1, 1), px[b2], py[b1]))
    return total


def _power(x, y):
    y = _listed(y)
    if not _accepts(y):
        return NotImplemented
    if type(y) is int or type(y) is float:
        if y == 2:
            if type(x) is Dual and x.nd <= 1:
                xr, xd = x.real, x.dual
                if type(xr) is np.ndarray and type(xd) is np.ndarray:
                    r = xr * xr
                    if _finite(r):
                        # (x^2)' = 2x x': one pass over the direction stack, not two
                        return Dual._build((r, xd * (2.0 * xr)), x.tag, x.nd)
            return x * x  # same formula, a third of the work of the power rule
        if y == 1:
            return x * 1.0
    return _binary(BINARY["power"], x, y)


# ---------------------------------------------------------------------------------
# numpy protocols
# ---------------------------------------------------------------------------------
_REAL_UFUNCS = {
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isnan, np.isinf, np.isfinite, np.signbit, np.logical_and, np.logical_or,
    np.logical_not, np.logical_xor,
}


def _array_ufunc(self, ufunc, method, inputs, kwargs):
    if method == "__call__" and not kwargs:
        if len(inputs) == 1:
            rule = UNARY_BY_UFUNC.get(ufunc)
            if rule is not None:  # fast path: the only input is self
                return self._unary(rule)
        elif len(inputs) == 2:
            name = _LANE_UFUNCS.get(ufunc)
            if name is not None:  # ndarray * Dual ...: the written-out lanes first
                out = _lanes(name, inputs[0], inputs[1])
                if out is not None:
                    return out
    name = _msg.ufunc_label(ufunc)
    if method != "__call__":  # reduce, accumulate, outer: compositions of calls
        return _ufunc_methods.apply(ufunc, method, inputs, kwargs)
    gu = _GUFUNCS.get(ufunc)
    if gu is not None:  # numpy 2's vecdot, matvec, vecmat (with axes=, axis=, keepdims=)
        if not all(_accepts(v) or isinstance(v, (list, tuple)) for v in inputs):
            return NotImplemented
        return _gufunc(gu, inputs, kwargs)
    if kwargs.get("out") is not None:
        raise TypeError(f"hyperdual: {name} with out= is not supported (numbers are immutable)")
    cast = _float_dtype_operands(inputs, kwargs)
    if cast is not None:  # dtype=float32 ...: numpy's cast of the operands
        return ufunc(*cast[0], **cast[1])
    extra = {k: v for k, v in kwargs.items() if k != "out" and not (k == "where" and v is True)}
    if extra:
        raise TypeError(_msg.ufunc_keywords("hyperdual", name, sorted(extra)))
    for v in inputs:
        if not (_accepts(v) or isinstance(v, (list, tuple))):
            return NotImplemented
    if ufunc in _REAL_UFUNCS:
        return ufunc(*[g.real_value(v) for v in inputs])
    if ufunc is np.matmul:
        return matmul(*inputs)
    if ufunc is np.divmod:  # two outputs: the quotient (flat) and the remainder
        return (_binary(BINARY["floor_divide"], *inputs), _binary(BINARY["remainder"], *inputs))
    if len(inputs) == 1:
        rule = UNARY_BY_UFUNC.get(ufunc)
        if rule is not None:
            return inputs[0]._unary(rule)
    elif len(inputs) == 2:
        rule = BINARY_BY_UFUNC.get(ufunc)
        if rule is not None:
            x, y = inputs
            if ufunc is np.power:
                if isinstance(x, _Number) and _accepts(y):  # lists go to _binary, as for np.add
                    return _power(x, y)
                return _binary(rule, x, y)
            return _binary(rule, x, y)
    for rule in UNARY.values():  # scipy.special ufuncs are looked up by object too
        if rule.ufunc is ufunc and len(inputs) == 1:
            return inputs[0]._unary(rule)
    impl = HANDLED_FUNCTIONS.get(ufunc)  # ufuncs composed by hyperdual.rules (fmax, jv ...)
    if impl is not None:
        return impl(*inputs)
    raise TypeError(
        f"hyperdual: {name} is not supported for {type(self).__name__} (no derivative "
        "rule); supported functions are listed in hyperdual.SUPPORTED_FUNCTIONS"
    )


HANDLED_FUNCTIONS: dict = {}


def implements(*funcs):
    def deco(impl):
        for f in funcs:
            HANDLED_FUNCTIONS[f] = impl
        return impl

    return deco


# ---------------------------------------------------------------------------------
# Part helpers shared by the rule families (hyperdual.rules): linear maps
# applied part by part, shifted past the direction axes; constants brought to
# the parts of the newest number.
# ---------------------------------------------------------------------------------
def _map_parts(x, fn):
    """Apply a linear map to every part; ``fn(part, nd)`` knows about direction axes.

    One helper for every number family: a Taylor's coefficient array is a single
    part whose leading (coefficient) axis is a direction axis (``nd = 1``), so
    the shape and reduction rules of :mod:`hyperdual.rules` serve Taylor numbers too.
    """
    if not x._NPARTS:
        return type(x)._make(fn(x.coef, 1), x.tag)
    parts = x._parts()
    nd = x.nd
    out = [_tidy(fn(parts[0], 0))] + [_tidy(fn(p, nd)) for p in parts[1:]]
    return type(x)._build(out, x.tag, nd)


_np_sum = np.sum


def _sum_all(x):
    """``np.sum(x)`` of a Dual/HyperDual with float ndarray parts: the numbers of
    ``hyperdual.rules.reductions.sum_`` (each part summed over its value axes) by
    the same calls, without the where=/initial= and axis layers; None otherwise."""
    if not x._NPARTS:
        return None
    parts = x._parts()
    r = parts[0]
    if type(r) is not np.ndarray or r.dtype.kind != "f":
        return None
    nd = x.nd
    nr = r.ndim
    out = [_tidy(_add_reduce(r, axis=tuple(range(nr)), keepdims=False))]
    a = tuple(range(nd, nd + nr))
    for p in parts[1:]:
        if type(p) is np.ndarray and p.dtype.kind == "f":
            out.append(_tidy(_add_reduce(p, axis=a, keepdims=False)))
        elif type(p) is float:
            out.append(p)
        else:
            return None
    return type(x)._build(out, x.tag, nd)


def _norm_axis(axis, ndim):
    if axis is None:
        return None
    if isinstance(axis, (tuple, list)):
        return tuple(_norm_axis(a, ndim) for a in axis)
    a = int(axis)
    if not -ndim <= a < max(ndim, 1):
        raise np.exceptions.AxisError(a, ndim) if hasattr(np, "exceptions") else ValueError(
            f"axis {a} out of bounds for {ndim}-d value")
    return a % ndim if ndim else 0


def _shift(axis, nd):
    if axis is None:
        return None
    if isinstance(axis, tuple):
        return tuple(a + nd for a in axis)
    return axis + nd


def _no_out(name, out):
    if out is not None:
        raise TypeError(f"hyperdual: numpy.{name} with out= is not supported")


def _is_basic_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis
               for i in items)


def _zeros_parts_like(ref, const):
    """Parts of a constant as a number of ``ref``'s kind: value, then zeros."""
    c = _coerce_const(const)
    shape = _shape(c)
    leads = _lead_shapes(ref)
    # zeros in the constant's float dtype: float64 zeros would promote float32 parts
    dt = c.dtype if isinstance(c, (np.ndarray, np.generic)) and c.dtype.kind == "f" else None
    return [c] + [np.zeros(leads[m] + shape, dtype=dt) if (leads[m] + shape) else 0.0
                  for m in range(1, type(ref)._NPARTS)]


def _gather(seq):
    """Bring numbers of the top tag and constants to a common list of parts."""
    tops = [v for v in seq if isinstance(v, _Number)]
    top = tops[0]
    for v in tops[1:]:
        t, _, _ = _top(top, v)
        top = t
    cols = []
    for v in seq:
        if isinstance(v, _Number) and v.tag == top.tag:
            cols.append(list(v._parts()))
        else:
            cols.append(_zeros_parts_like(top, v))
    return top, cols


_SPECIAL = {"erf", "erfc", "expit", "gammaln", "digamma", "polygamma1", "polygamma2",
            "polygamma3", "xlogy", "gamma", "loggamma", "erfinv", "erfcinv", "erfcx", "ndtr",
            "log_ndtr", "ndtri", "i0e", "i1", "i1e", "entr", "logit", "xlog1py",
            "rel_entr", "kl_div", "beta", "betaln", "log_expit", "pseudo_huber"}
_INTERNAL = {"polygamma1", "polygamma2", "polygamma3"}  # reached as derivatives only
def supported_functions() -> list:
    """Every numpy/scipy function with a forward-mode rule (rule families included)."""
    return sorted(
        {("scipy.special." + n) if n in _SPECIAL else "numpy." + n
         for n in (*UNARY, *BINARY) if n not in _INTERNAL}
        # numpy 1.26's ufuncs have no __module__
        | {(getattr(f, "__module__", None) or "numpy") + "." + f.__name__
           for f in HANDLED_FUNCTIONS}
        | {"numpy.matmul", "numpy.divmod", "scipy.special.i0"}
        | {"numpy." + n for n in _GUFUNCS.values()}  # numpy 2's vecdot, matvec, vecmat
    )


# refreshed in place by hyperdual.rules once every family has registered
SUPPORTED_FUNCTIONS = supported_functions()


# The numpy-function rules live in hyperdual.rules, one module per family; the
# methods above (x[i], x @ y, x.sum(), x.reshape ...) and __array_ufunc__ call
# these.  Imported last, since the rule modules import the number types from here.
from .rules.indexing import getitem  # noqa: E402
from .rules.products import dot, matmul  # noqa: E402
from .rules.reductions import mean, sum_  # noqa: E402
from .rules.shape import reshape, transpose  # noqa: E402
