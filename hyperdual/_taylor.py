"""Taylor numbers: truncated power series for derivatives of any order.

A :class:`Taylor` holds the K + 1 normalised Taylor coefficients
``x_k = x^(k)(0) / k!`` of a curve ``t -> x(t)`` in one array of shape
``(K + 1,) + shape``.  Arithmetic and the elementary functions propagate them
with the recurrences of :mod:`hyperdual._taylor_rules` (O(K²) per operation),
so one forward pass gives f, f', ..., f^(K).

Nesting follows the tags of :mod:`hyperdual._number`: an operand of an older
tag (a float, an array, or a Dual/HyperDual/Taylor of an older tag) is a
constant, so the coefficient array itself may be such an older number (a Dual
with parts of shape ``(K + 1,) + shape``); an operand of a newer tag owns the
operation and treats this Taylor as its constant.
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np

from _exactdiff import messages as _msg
from _exactdiff import ufunc_methods as _ufunc_methods
from _exactdiff._common import SCALAR_AXIS_FUNCTIONS as _SCALAR_AXIS
from _exactdiff._common import finite_array
from _exactdiff._common import float_dtype_operands as _float_dtype_operands
from _exactdiff._common import scalar_axis as _scalar_axis
from _exactdiff._common import scalar_axis_call as _scalar_axis_call
from _exactdiff._common import zero_weighted as _zero_weighted
from _exactdiff.arrays import is_foreign_array as _is_foreign
from _exactdiff.arrays import may_hold
from _exactdiff.arrays import zeros_like as _zeros_like
from _exactdiff.contractions import GUFUNCS as _GUFUNCS
from _exactdiff.contractions import gufunc as _gufunc

from . import _generic as g
from . import _number as _n
from . import _taylor_rules as tr
from . import _taylor_scalar as _ts
from . import _taylor_scaled as _tsc
from ._number import _as_part, _Number, _shape, _tidy, new_tag
from ._rules import BINARY, BINARY_BY_UFUNC, UNARY, UNARY_BY_UFUNC

__all__ = ["Taylor"]

ENGINE = "hyperdual (Taylor)"

#: Series taken as constant by a rule that is singular at their value, so far (a
#: counter).  Truncated at order K, the series of ``(t - 1)**4`` at 1 is all zeros, as a
#: constant's is: ``sqrt`` takes it as constant (0, 0, 0, 0) where the truth is 0, 0, 2, 0.
#: A Taylor-mode helper whose call changed the counter is audited
#: (``hyperdual.taylor_helpers._audited``).
KEPT = [0]
#: During that audit: (tag, k) of every live audited stack, whose value axis 0 holds k
#: real directions followed by their k nan-seeded probes (see :func:`_kept_constant`).
AUDIT: contextvars.ContextVar[tuple] = contextvars.ContextVar(
    "hyperdual_taylor_audit", default=())


def _kept_constant(const, tag):
    """The elements of ``const`` (series that a rule singular at their value takes as
    constant) that stay constant, counted, and the elements that become nan instead (None
    if none).  During an audit of the stack of ``tag``, a real direction's series is kept
    only where its probe's is constant too: the probe is nan wherever the value moves
    with t (nan reaches every coefficient it touches; only a structural constant, a
    constant factor 0 or a where mask, stops it), so a computed zero series such as
    ``(t - 1)**4``'s is not kept (nan: the helper's result gains nan there, never 0)."""
    KEPT[0] += 1
    for t, k in AUDIT.get():
        if t is tag and const.ndim and const.shape[0] == 2 * k:
            kept = np.array(const, copy=True)
            kept[:k] &= const[k:]
            return kept, const & ~kept
    return const, None


def _settled(c, const, tag, taken=False, missing=None):
    """Coefficients ``c`` with orders >= 1 set to 0 where the series in ``const`` stay
    constant and to nan where the audit finds them moving (:func:`_kept_constant`).
    Only the elements whose coefficients are not finite are decided (a rule's honest
    finite result stands), unless ``taken``: ``c`` already holds the constant's zeros
    there (the branch-point rules).  ``missing``: where an operand's value is nan."""
    const = np.broadcast_to(const, c.shape[1:])
    if not taken:
        with np.errstate(invalid="ignore"):
            const = const & ~np.all(np.isfinite(c[1:]), axis=0)
        if not np.any(const):
            return c
    # an element where an operand's value is nan is not a singular point of the rule
    # but missing data (nanstd's nan entries, x / (1 + x * x) at nan): its zeros are
    # kept, uncounted (an intermediate nan of a rule, arctanh' (1) * 0, is counted)
    seen = const if missing is None else const & ~np.broadcast_to(missing, const.shape)
    if not np.any(seen):
        kept, moving = const, None
    else:
        kept, moving = _kept_constant(seen, tag)
        kept = kept | (const & ~seen)
    c = np.array(c, copy=True)
    c[1:] = np.where(kept, np.zeros((), dtype=c.dtype), c[1:])
    if moving is not None and np.any(moving):
        c[1:] = np.where(moving, np.array(np.nan, dtype=c.dtype), c[1:])
    return c


def _is_plain(c) -> bool:
    return type(c) is np.ndarray


def _items(c):
    """The coefficient array as a list of items (Python floats for a scalar Taylor)."""
    if type(c) is np.ndarray:
        if c.ndim == 1 and c.dtype == np.float64:
            return c.tolist()
        return list(c)
    return [c[k] for k in range(_shape(c)[0])]


def _pack(items):
    """Items back to one coefficient array (np.stack dispatches for nested numbers)."""
    if all(type(v) is float for v in items):
        return np.array(items)
    if any(isinstance(v, _Number) for v in items):
        return np.stack([v for v in items])
    if items and _is_foreign(items[0]) and any(n != n for n in np.shape(items[0])):
        # dask, after x[mask]: sizes unknown (nan), which np.stack refuses to compare
        import dask.array as da
        return da.concatenate([v[None] for v in items], allow_unknown_chunksizes=True)
    if items and _is_foreign(items[0]):  # (np.array of a dask array computes it)
        out = np.stack(items)
        dt = np.result_type(*[getattr(v, "dtype", v) for v in items])
        return out if out.dtype == dt else out.astype(dt)
    return np.array(np.stack(items), dtype=np.result_type(*items)) if items else np.array([])


def _lift(c, nres):
    """Insert axes after the coefficient axis so the value has ``nres`` axes."""
    s = _shape(c)
    k = len(s) - 1
    if k >= nres:
        return c
    return np.reshape(c, s[:1] + (1,) * (nres - k) + s[1:])


class Taylor(_Number):
    """A truncated Taylor series ``sum_k coef[k] t**k``: derivatives of any order.

    Named after Griewank & Walther's *Taylor arithmetic* (JAX calls the same
    thing a *jet*): the coefficients are the normalised ones,
    ``coef[k] = x^(k)(0) / k!``, which is what the recurrences propagate and
    what ``hyperdual.taylor`` returns; ``.derivatives`` gives ``k! coef[k]``.

    Parameters
    ----------
    coefficients : array_like, shape (K + 1,) + shape
        The value first, then the normalised Taylor coefficients.  May also be
        a number of an older tag (a Dual whose parts have that shape).
    tag : int
        The perturbation tag (see :func:`hyperdual.new_tag`).

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Taylor
    >>> t = Taylor([0.0, 1.0, 0.0, 0.0])    # the curve x(t) = t, order 3
    >>> np.exp(t).coef                       # 1, 1, 1/2, 1/6
    array([1.        , 1.        , 0.5       , 0.16666667])
    >>> (1 / (1 - t)).derivatives            # 0!, 1!, 2!, 3!
    array([1., 1., 2., 6.])
    """

    # _c: the coefficient array (unset until asked for when the coefficients are a list:
    # the list path's results skip the store, see ``coef``);
    # _l: the coefficients as a list of Python floats (scalar fast path), or None
    __slots__ = ("_c", "_l", "tag")
    _NPARTS = 0  # not a Dual-like number: _number hands operations with a Taylor on top here
    _KIND = "Taylor"
    nd = 0

    def __init__(self, coefficients, tag: int = 0):
        c = coefficients
        if isinstance(c, (list, tuple)) and any(isinstance(v, _Number) for v in c):
            c = np.stack(list(c))
        c = _as_part(c, "coefficients")
        if _shape(c) == () or _shape(c)[0] == 0:
            raise ValueError(
                "hyperdual: Taylor coefficients need a leading axis of length K + 1 >= 1 "
                f"(got shape {_shape(c)})"
            )
        self._c = c
        self._l = None
        self.tag = tag

    @classmethod
    def _make(cls, c, tag):
        o = object.__new__(cls)
        o._c = c
        o._l = None
        o.tag = tag
        return o

    @property
    def coef(self):
        """The coefficient array, shape ``(K + 1,) + shape``."""
        try:
            return self._c
        except AttributeError:  # a list-path result: the array is made on first use
            c = self._c = np.array(self._l)
            return c

    def _parts(self):
        raise TypeError("hyperdual: a Taylor has no Dual parts")

    # --- views -------------------------------------------------------------------------
    @property
    def order(self) -> int:
        """K: the highest coefficient held."""
        if self._l is not None:
            return len(self._l) - 1
        return _shape(self.coef)[0] - 1

    @property
    def real(self):
        """The value (coefficient 0)."""
        if self._l is not None:
            return self._l[0]
        return _tidy(self.coef[0])

    @property
    def shape(self) -> tuple:
        if self._l is not None:
            return ()
        return _shape(self.coef)[1:]

    @property
    def derivatives(self):
        """``k! coef[k]``: the derivatives d^k/dt^k of the curve at t = 0."""
        K = self.order
        fact = factorials(K)
        c = self.coef
        return _lift_fact(fact, len(self.shape), c) * c

    def __repr__(self) -> str:
        tag = f", tag={self.tag}" if self.tag else ""
        return f"Taylor({_n._arepr(self.coef)}{tag})"

    def __reduce__(self):  # the tag is made local on loading, as a Dual's (_number._rebuild)
        return (_rebuild_taylor, (self.coef, int(self.tag), _n._PROCESS))

    def __copy__(self):  # a copy keeps the tag (and so the derivative), as a Dual's does
        if self._l is not None:
            return _mkl(list(self._l), self.tag)
        return Taylor._make(self.coef, self.tag)

    def __deepcopy__(self, memo):
        import copy as _copy

        if self._l is not None:
            return self.__copy__()  # a list of Python floats: the shallow copy is deep
        return Taylor._make(_copy.deepcopy(self.coef, memo), self.tag)

    # --- structure ------------------------------------------------------------------------
    def __getitem__(self, index):
        return getitem(self, index)

    def reshape(self, *shape, order="C"):
        """The series with its value reshaped (every coefficient alike).

        Parameters
        ----------
        *shape : int or tuple of int
            The new shape of the value, as ints or one tuple.
        order : {"C", "F"}
            The index order in which the elements are read and placed, as numpy's.

        Returns
        -------
        Taylor
            Same coefficients, shape ``(K + 1,) + shape``.

        Examples
        --------
        >>> import numpy as np
        >>> t = Taylor(np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]]))
        >>> t.reshape(2, 2).coef[0]
        array([[1., 2.],
               [3., 4.]])
        """
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if order != "C":  # (it was ignored: a silently C-order result)
            return np.reshape(self, shape, order=order)
        return reshape(self, shape)

    def transpose(self, *axes):
        """The series with the axes of its value permuted.

        Parameters
        ----------
        *axes : int or tuple of int
            The permutation; none reverses the axes.

        Returns
        -------
        Taylor
            The transposed series.

        Examples
        --------
        >>> import numpy as np
        >>> m = Taylor(np.array([np.zeros((2, 3)), np.ones((2, 3))]))
        >>> m.transpose().shape, m.transpose(1, 0).shape
        ((3, 2), (3, 2))
        """
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return transpose(self, axes or None)

    @property
    def T(self):
        return transpose(self)

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        """Sum of the value's elements, coefficient by coefficient.

        Parameters
        ----------
        axis : int or tuple of int, optional
            Axes to sum over (default: all).
        dtype, out, **kw
            As ``np.sum``'s: a floating ``dtype`` sums the cast series; others and
            ``out`` raise ``TypeError``.
        keepdims : bool
            Keep the summed axes with length one.

        Returns
        -------
        Taylor
            The series of the sum.

        Examples
        --------
        Along ``x_i(t) = x_i + t`` the sum of (1, 2, 3, 4) is ``10 + 4 t``:

        >>> import numpy as np
        >>> t = Taylor(np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]]))
        >>> t.sum().coef
        array([10.,  4.])
        """
        if dtype is None and out is None and not kw:
            return sum_(self, axis=_scalar_axis(axis, self.ndim), keepdims=keepdims)
        return np.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kw):
        """Mean of the value's elements, coefficient by coefficient.

        Parameters
        ----------
        axis : int or tuple of int, optional
            Axes to average over (default: all).
        dtype, out, **kw
            As ``np.mean``'s: a floating ``dtype`` averages the cast series; others
            and ``out`` raise ``TypeError``.
        keepdims : bool
            Keep the reduced axes with length one.

        Returns
        -------
        Taylor
            The series of the mean.

        Examples
        --------
        >>> import numpy as np
        >>> t = Taylor(np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]]))
        >>> t.mean().coef
        array([2.5, 1. ])
        """
        if dtype is None and out is None and not kw:
            return mean(self, axis=axis, keepdims=keepdims)
        return np.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def ravel(self, order="C"):
        """The series with its value flattened; ``flatten`` is the same.

        Parameters
        ----------
        order : {"C", "F"}
            The index order, as numpy's.

        Returns
        -------
        Taylor
            Value shape ``(size,)``.

        Examples
        --------
        >>> import numpy as np
        >>> Taylor(np.zeros((3, 2, 2))).ravel().shape
        (4,)
        """
        return reshape(self, (-1,)) if order == "C" else np.ravel(self, order=order)

    flatten = ravel

    def dot(self, other):
        """``np.dot(self, other)``, the product rule applied to every coefficient.

        Parameters
        ----------
        other : array_like or Taylor
            The right operand.

        Returns
        -------
        Taylor
            The series of the product.

        Examples
        --------
        Along ``x_i(t) = x_i + t``, ``x . x = 30 + 20 t + ...`` at x = (1, 2, 3, 4):

        >>> import numpy as np
        >>> t = Taylor(np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]]))
        >>> t.dot(t).coef
        array([30., 20.])
        """
        return dot(self, other)

    # --- arithmetic ------------------------------------------------------------------
    # The list-path branches below are the scalar hot path (Taylor mode's benchmark chain
    # spends most of its time outside the kernels here): the result object is built inline
    # (as _mkl), and a tag is compared by identity first (one helper call's numbers share
    # one Tag object; equal tags of distinct objects still match by ==).
    def __add__(self, other):
        t = type(other)
        la = self._l
        if la is not None:
            if t is Taylor:
                lb = other._l
                tag = self.tag
                if lb is not None and (other.tag is tag or other.tag == tag) \
                        and len(lb) == len(la):
                    if type(lb) is _Line:  # + a seed: two coefficients change
                        out = la.copy()
                        out[0] += lb[0]
                        out[1] += lb[1]
                    elif type(la) is _Line:
                        out = lb.copy()
                        out[0] += la[0]
                        out[1] += la[1]
                    else:
                        out = list(map(_op_add, la, lb))
                    o = _new(Taylor)
                    o._l = out
                    o.tag = tag
                    return o
            elif t is float or t is int:
                out = la.copy()
                out[0] += other
                o = _new(Taylor)
                o._l = out
                o.tag = self.tag
                return o
        if t is Taylor and other.tag == self.tag:
            a, b = self.coef, other.coef
            if type(a) is np.ndarray and type(b) is np.ndarray and a.shape == b.shape:
                return Taylor._make(a + b, self.tag)
        elif (t is float or t is int) and type(self.coef) is np.ndarray \
                and self.coef.dtype == np.float64:
            c = self.coef.copy()
            c[0] += other
            return Taylor._make(c, self.tag)
        return _binary_entry("add", self, other)

    def __radd__(self, other):
        t = type(other)
        la = self._l
        if (t is float or t is int) and la is not None:
            out = la.copy()
            out[0] += other
            o = _new(Taylor)
            o._l = out
            o.tag = self.tag
            return o
        return _binary_entry("add", other, self)

    def __sub__(self, other):
        la = self._l
        if la is not None:
            t = type(other)
            if t is Taylor:
                lb = other._l
                if lb is not None and other.tag == self.tag and len(lb) == len(la):
                    return _mkl(list(map(_op_sub, la, lb)), self.tag)
            elif t is float or t is int:
                out = la.copy()
                out[0] -= other
                return _mkl(out, self.tag)
        return _binary_entry("subtract", self, other)

    def __rsub__(self, other):
        t = type(other)
        if (t is float or t is int) and self._l is not None:
            out = [-v for v in self._l]
            out[0] += other
            return _mkl(out, self.tag)
        return _binary_entry("subtract", other, self)

    def __mul__(self, other):
        t = type(other)
        la = self._l
        if la is not None:
            if t is Taylor:
                lb = other._l
                tag = self.tag
                n = len(la)
                if lb is not None and (other.tag is tag or other.tag == tag) \
                        and len(lb) == n:
                    # float products never raise; an overflow is inf as numpy's
                    if type(lb) is _Line:
                        out = _LMUL_N[n](la, lb)
                    elif type(la) is _Line:
                        out = _LMUL_N[n](lb, la)
                    else:
                        out = _MUL_N[n](la, lb)
                    if n > 1 and (la[0] == 0.0 or lb[0] == 0.0) and isinstance(out[0], float) \
                            and not all(map(math.isfinite, out)):
                        # 0 * inf in a coefficient: the rules of _conv_zero_safe
                        out = _conv_zero_safe(np.array(la), np.array(lb)).tolist()
                    o = _new(Taylor)
                    o._l = out
                    o.tag = tag
                    return o
            elif (t is float or t is int) and math.isfinite(other) and other != 0:
                o = _new(Taylor)
                o._l = [v * other for v in la]
                o.tag = self.tag
                return o
        if t is Taylor and other.tag == self.tag:
            a, b = self.coef, other.coef
            if (type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 1
                    and b.ndim == 1 and a.shape == b.shape):
                return Taylor._make(_conv(a, b), self.tag)  # (zero-safe where not finite)
        elif (t is float or t is int) and type(self.coef) is np.ndarray \
                and math.isfinite(other) and other != 0:
            return Taylor._make(self.coef * other, self.tag)
        return _binary_entry("multiply", self, other)

    def __rmul__(self, other):
        t = type(other)
        la = self._l
        if (t is float or t is int) and la is not None and math.isfinite(other) and other != 0:
            o = _new(Taylor)
            o._l = [v * other for v in la]
            o.tag = self.tag
            return o
        return _binary_entry("multiply", other, self)

    def __truediv__(self, other):
        la = self._l
        if la is not None:
            t = type(other)
            if t is Taylor:
                lb = other._l
                if lb is not None and other.tag == self.tag and len(lb) == len(la):
                    out = _list_call("div", la, lb)
                    if out is not None:
                        return _mkl(out, self.tag)
            elif (t is float or t is int) and other != 0 and math.isfinite(other):
                # (divided, not times 1/other: the value is numpy's x / other exactly)
                return _mkl([v / other for v in la], self.tag)
        return _binary_entry("true_divide", self, other)

    def __rtruediv__(self, other):
        t = type(other)
        lb = self._l
        if (t is float or t is int) and lb is not None:
            out = _list_call("rdiv", float(other), lb)
            if out is not None:
                return _mkl(out, self.tag)
        return _binary_entry("true_divide", other, self)

    def __pow__(self, other):
        return _binary_entry("power", self, other)

    def __rpow__(self, other):
        return _binary_entry("power", other, self)

    def __matmul__(self, other):
        if _role(self, other) is None:
            return NotImplemented
        return matmul(self, other)

    def __rmatmul__(self, other):
        if _role(other, self) is None:
            return NotImplemented
        return matmul(other, self)

    def __neg__(self):
        if self._l is not None:
            return _mkl([-v for v in self._l], self.tag)
        return Taylor._make(-self.coef, self.tag)

    def __pos__(self):
        return self

    def __abs__(self):
        return self._unary(UNARY["absolute"])

    # --- numpy protocols ------------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        la = self._l
        if la is not None:
            by = _LIST_UFUNCS.get(ufunc)  # a unary ufunc: its one input is self
            if by is not None:
                if method == "__call__" and not kwargs:
                    # the scalar hot path, inlined (_ts.run and _mkl): an unrolled kernel
                    # on the float list, found by len(la) (K + 1); a float exception or a
                    # non-finite result (the kernel answers None; so does K = 0's) falls
                    # back to the numpy path
                    try:
                        ys = by[len(la)](la)
                    except (ZeroDivisionError, OverflowError, ValueError):
                        ys = None
                    if ys is not None:
                        o = _new(Taylor)
                        o._l = ys
                        o.tag = self.tag
                        return o
            elif method == "__call__" and not kwargs and len(inputs) == 2:
                op = _LIST_BINARY.get(ufunc)
                if op is not None:
                    x, y = inputs
                    out = op(x, y) if x is self else _REFLECTED[op](y, x)
                    if out is not NotImplemented:
                        return out
        return _array_ufunc(self, ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        top = _top_of(args, kwargs)
        if top is not None and top is not self and not isinstance(top, Taylor):
            # a newer Dual/HyperDual owns this call: this Taylor is its constant
            impl = _n.HANDLED_FUNCTIONS.get(func)
            if impl is not None:
                return impl(*args, **kwargs)
        impl = FUNCTIONS.get(func)
        if func in _SCALAR_AXIS:  # (np.sum(x0d, axis=-1): numpy's every axis)
            args, kwargs = _scalar_axis_call(func, args, kwargs)
        if impl is None:
            where = "numpy.linalg" if getattr(np.linalg, func.__name__, None) is func \
                else "numpy"
            raise TypeError(
                f"{ENGINE}: {where}.{func.__name__} is not supported for Taylor numbers "
                "(no Taylor rule); supported functions are listed in "
                "hyperdual.taylor_supported()"
            )
        return impl(*args, **kwargs)

    # --- elementwise rules ----------------------------------------------------------------
    def _unary(self, rule):
        return _unary(rule, self)


_new = object.__new__


def _rebuild_taylor(coef, tag, origin=None):
    return Taylor._make(coef, _n._local_tag(tag, origin))


def _mkl(items, tag):
    """A scalar Taylor holding its coefficients as a list of Python floats (``_c`` stays
    unset until ``coef`` makes the array)."""
    o = _new(Taylor)
    o._l = items
    o.tag = tag
    return o


def _list_call(name, a, b):
    """A binary list kernel; None on a float exception or a non-finite result."""
    try:
        out = _ts.kernel(name, len(b) - 1)(a, b)
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
    return out if _ts.finite(out) else None


def factorials(K: int) -> np.ndarray:
    """0!, 1!, ..., K! as floats (inf from 171! on, never an OverflowError)."""
    out = np.empty(K + 1)
    f = 1.0
    for k in range(K + 1):
        f = f * k if k else 1.0
        out[k] = f
    return out


def _lift_fact(fact, nres, like=None):
    """``fact`` (one weight per coefficient) with axes for a value of ``nres`` axes, in
    the float dtype of the coefficients ``like`` (float32 series stay float32)."""
    dt = getattr(like, "dtype", None)
    if dt is not None and dt.kind == "f" and dt != fact.dtype:
        fact = fact.astype(dt)
    return fact.reshape(fact.shape + (1,) * nres)


def _top_of(args, kwargs):
    """The operand with the newest tag among (possibly nested) arguments."""
    best = None
    stack = list(args) + list(kwargs.values())
    while stack:
        v = stack.pop()
        if isinstance(v, _Number):
            if best is None or v.tag > best.tag:
                best = v
        elif isinstance(v, (list, tuple)):
            stack.extend(v)
    return best


# ---------------------------------------------------------------------------------
# Operand roles
# ---------------------------------------------------------------------------------
def _role(x, y):
    """The Taylor that owns ``x op y`` (None: not ours, the other operand's protocol
    answers).  Raises for numbers of the same tag that do not mix."""
    tx, ty = type(x), type(y)
    if tx is Taylor:
        if ty is float or ty is int or ty is np.ndarray:
            return x
        if ty is Taylor and x.tag == y.tag and _shape(x.coef)[0] == _shape(y.coef)[0]:
            return x
    elif ty is Taylor and (tx is float or tx is int or tx is np.ndarray):
        return y
    return _role_general(x, y)


def _role_general(x, y):
    tx = x if isinstance(x, Taylor) else None
    ty = y if isinstance(y, Taylor) else None
    top = tx if ty is None or (tx is not None and tx.tag >= ty.tag) else ty
    for v in (x, y):
        if v is top:
            continue
        if isinstance(v, _Number):
            if v.tag > top.tag:
                return None
            if v.tag == top.tag:
                if not isinstance(v, Taylor):
                    raise TypeError(
                        f"hyperdual: cannot combine a Taylor and a {type(v).__name__} of the "
                        "same tag; seed each helper call with its own tag (new_tag())"
                    )
                if v.order != top.order:
                    raise ValueError(
                        f"hyperdual: Taylor numbers of orders {top.order} and {v.order} "
                        "with the same tag do not mix"
                    )
        elif not _n._accepts(v) and not isinstance(v, (list, tuple)):
            return None
    return top


def _coef_of(v, top):
    """Coefficient array of an operand of ``top``'s tag, or None for a constant."""
    if isinstance(v, Taylor) and v.tag == top.tag:
        return v.coef
    return None


def _const(v):
    if isinstance(v, _Number) or type(v) is float:
        return v
    return _as_part(v, "operand")


def _binary_entry(name, x, y):
    top = _role(x, y)
    if top is None:
        return NotImplemented
    return _binary(name, x, y, top)


def _as_float64(v, top):
    """``v`` (a series of ``top``'s tag, or a constant) with float64 coefficients."""
    if isinstance(v, Taylor) and v.tag == top.tag and v._l is None:
        c = v._c
        if getattr(c, "dtype", np.dtype(np.float64)) != np.float64 and c.dtype.kind == "f":
            return Taylor._make(c.astype(np.float64), v.tag)
    return v


# ---------------------------------------------------------------------------------
# The binary rules
# ---------------------------------------------------------------------------------
def _zeros_after(first, K):
    """The coefficient list of a constant: value, then K zeros."""
    z = first * 0.0
    return [first] + [z] * K


def _binary(name, x, y, top):
    if name == "float_power":  # numpy computes it in float64 (float32 operands too)
        x, y = (_as_float64(v, top) for v in (x, y))
        top = _role(x, y)
    out = _binary_rule(name, x, y, top)
    if name in ("add", "subtract"):
        return out
    if name in _tsc.RULES:
        out = _scaled_binary(name, x, y, top, out)
    a, b = _coef_of(x, top), _coef_of(y, top)
    return _constant_stays_constant(out, (a, b), [v for v, c in ((x, a), (y, b)) if c is None])


def _scaled_binary(name, x, y, top, out):
    """The elements of a logarithmic binary rule whose operands' curves have an extreme
    scale, redone in scaled time (:mod:`hyperdual._taylor_scaled`)."""
    if not isinstance(out, Taylor):
        return out
    c = out.coef
    if type(c) is not np.ndarray or c.dtype != np.float64 or c.shape[0] < 2:
        return out
    a, b = _coef_of(x, top), _coef_of(y, top)
    if name in ("power", "float_power") and (a is None or b is None):
        return out  # a constant exponent or base: the power rules scale themselves
    K = top.order
    try:
        a = a if a is not None else _const_coef(x, K)
        b = b if b is not None else _const_coef(y, K)
    except (TypeError, ValueError):
        return out
    if not (type(a) is np.ndarray and type(b) is np.ndarray and a.dtype.kind in "fiu"
            and b.dtype.kind in "fiu"):
        return out
    nres = c.ndim - 1
    a = np.broadcast_to(_lift(a.astype(np.float64, copy=False), nres), c.shape)
    b = np.broadcast_to(_lift(b.astype(np.float64, copy=False), nres), c.shape)
    new = _tsc.apply(name, a, b, c)
    return out if new is c else Taylor._make(new, top.tag)


def _constant_stays_constant(out, coefs, consts=()):
    """Where every operand is constant along the direction (its coefficients of
    order >= 1 are exactly 0) the result is constant too, even where a value is
    NaN or inf (x / (1 + x * x) at a NaN element the direction does not move):
    the elementwise rules' zero tangents, for the recurrences that divide by a
    value.  Checked only when the result holds a non-finite coefficient."""
    if not isinstance(out, Taylor) or out._l is not None:
        return out
    c = out.coef
    if type(c) is not np.ndarray or c.shape[0] < 2 or _finite_tail(c):
        return out
    const = None
    for a in coefs:
        if a is None:
            continue
        if type(a) is not np.ndarray:
            return out
        m = ~np.any(a[1:] != 0, axis=0)
        const = m if const is None else const & m
    if const is None or not np.any(const):
        return out
    with np.errstate(invalid="ignore"):
        missing = [np.isnan(a[0]) for a in coefs if a is not None]
        for v in consts:  # (a constant operand's nan: X * (1 + t v) with X nan)
            v = g.real_value(v)
            if isinstance(v, (float, np.ndarray, np.generic)):
                try:
                    missing.append(np.isnan(v))
                except TypeError:  # (an object or string array: no nan to see)
                    pass
    try:
        missing = np.logical_or.reduce(np.broadcast_arrays(*missing)) if missing else None
    except ValueError:
        missing = None
    return Taylor._make(_settled(c, const, out.tag, missing=missing), out.tag)


def _binary_rule(name, x, y, top):
    a, b = _coef_of(x, top), _coef_of(y, top)
    tag = top.tag
    K = top.order
    if a is None:
        x = _const(x)
    if b is None:
        y = _const(y)
    if name in ("add", "subtract"):
        sgn = 1.0 if name == "add" else -1.0
        if a is not None and b is not None:
            na, nb = len(_shape(a)), len(_shape(b))
            if na != nb:  # values of different ranks broadcast after the coefficient axis
                a, b = _lift(a, nb - 1), _lift(b, na - 1)
            return _wrap(a + b if sgn > 0 else a - b, tag)
        if a is not None:
            return _wrap(_add_value(a, y * sgn), tag)
        return _wrap(_add_value(b * sgn, x), tag)
    if name == "multiply":
        if a is not None and b is not None:
            return _wrap(_conv(a, b), tag)
        if a is not None:
            return _wrap(_scale(a, y), tag)
        return _wrap(_scale(b, x), tag)
    if name == "true_divide":
        if b is None:
            if type(y) is float and y != 0.0 and math.isfinite(y) or (
                    type(y) is np.ndarray and y.dtype.kind == "f" and np.all(y != 0)
                    and finite_array(y)):
                # divided, not times 1/y: the value is numpy's x / y exactly
                return _wrap(a / y if type(y) is float else _lift(a, y.ndim) / y, tag)
            return _wrap(_scale(a, 1.0 / _n._np_scalar(y) if type(y) is float else
                                g.true_divide(1.0, y)), tag)
        ai = _items(a) if a is not None else _zeros_after(x, K)
        bi = _items(b)
        out = _safe(tr.divide, ai, bi)
        if not _finite_items(out) and _finite_items(ai) and _finite_items(bi):
            # an overflowed coefficient: redo with 0 * inf masked (inf, not nan)
            tr.SAFE.on = True
            try:
                with np.errstate(all="ignore"):
                    out = _safe(tr.divide, ai, bi)
            finally:
                tr.SAFE.on = False
        out = _from_items(out, tag)
        if a is None:
            out = _zero_numerator(out, x, b)
        return out
    if name in ("power", "float_power"):  # float_power: power in float64, as Taylors are
        return _power(x, y, a, b, top)
    if name in ("maximum", "minimum"):
        return _extreme(name, x, y, a, b, top)
    if name == "hypot":
        return _hypot(x, y, top)
    if name == "arctan2":
        return _arctan2(x, y, top)
    if name in ("xlogy", "xlog1py"):
        # x log y (log1p y), and 0 where x is identically 0 (scipy's xlogy(0, y) = 0,
        # also at y = 0; xlog1py(0, -1) likewise)
        xc = a if a is not None else _const_coef(x, K)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * (g.log(y) if name == "xlogy" else g.log1p(y))
        if not _is_plain(xc):
            return out
        return where(np.all(xc == 0, axis=0), 0.0, out)
    rule = BINARY.get(name)
    if rule is not None:
        out = _binary_ode(rule, x, y, top)
        return _beta_in_range(x, y, top, out) if name == "beta" else out
    raise TypeError(f"{ENGINE}: numpy.{name} has no Taylor rule")


def _beta_in_range(x, y, top, out):
    """beta's coefficients where the ODE's partials left the range alone: B L_a
    = -5e-391 underflowed at a = e**300, b = 2 (d/dv beta(exp(v), 2) at 300 was 0,
    truth -5.3e-261).  There ``B(v0) exp(L - L(v0))``, L = betaln (log abs B, whose
    series is in range; the sign of B is locally constant), entry by entry where
    the ODE's coefficient is 0, subnormal or not finite and this one is finite."""
    c = out.coef if isinstance(out, Taylor) else None
    if type(c) is not np.ndarray or c.dtype != np.float64 or c.shape[0] < 2:
        return out
    tail = c[1:]
    with np.errstate(all="ignore"):
        bad = ~np.isfinite(tail) | (np.abs(tail) < np.finfo(np.float64).tiny)
    if not np.any(bad):
        return out
    with np.errstate(all="ignore"):
        b0 = c[0]
        if not np.all(np.isfinite(b0)) or np.any(b0 == 0):
            return out
        lg = g.betaln(x, y)
        if not isinstance(lg, Taylor) or lg.tag != out.tag:
            return out
        alt = g.exp(lg - lg.coef[0]) * b0
        ac = alt.coef if isinstance(alt, Taylor) else None
        if type(ac) is not np.ndarray or ac.shape != c.shape:
            return out
        take = bad & np.isfinite(ac[1:])
        if not np.any(take):
            return out
        new = c.copy()
        new[1:] = np.where(take, ac[1:], tail)
    return Taylor._make(new, out.tag)


def _binary_ode(rule, x, y, top):
    """f(x, y) from the rule table's first partials by the ODE trick:
    f' = f_x x' + f_y y', the partials evaluated on the arguments truncated to
    order K - 1 (so a rule added to the table later gets every order for free;
    O(K²) when the partials need no f, one level of recursion per order when they do)."""
    K, tag = top.order, top.tag
    X = x if isinstance(x, Taylor) and x.tag == tag else None
    Y = y if isinstance(y, Taylor) and y.tag == tag else None
    x0 = _tidy(X.coef[0]) if X is not None else _const(x)
    y0 = _tidy(Y.coef[0]) if Y is not None else _const(y)
    v0 = getattr(g, rule.name)(x0, y0)
    if K == 0:
        return Taylor._make(_const_coef(v0, 0), tag)
    xl = _truncate(X, K - 1) if X is not None else x0
    yl = _truncate(Y, K - 1) if Y is not None else y0
    parts = rule.partials(xl, yl, 1, X is not None, Y is not None)
    G = None
    if X is not None:
        G = _ode_term(parts[(1, 0)], _deriv(X), None)
    if Y is not None:
        # heaviside(c, x): the partial in x is 1 where the constant c is 0, else 0
        w = parts[(0, 1)] if rule.name == "heaviside" and X is None else None
        t = _ode_term(parts[(0, 1)], _deriv(Y), w)
        G = t if G is None else G + t
    if not (isinstance(G, Taylor) and G.tag == tag):
        G = Taylor._make(_const_coef(G, K - 1), tag)
    return _integrate(G, v0, tag)


def _zero_numerator(out, x, b):
    """``c / y`` for a constant ``c``: exactly constant 0 where ``c`` is 0 and ``y``'s
    value is not (the partials -c/y**2, ... are constant zeros there), even where
    ``y``'s coefficients are inf or NaN (``0.0 / (1 + sqrt(x))`` at 0)."""
    c = out.coef
    if isinstance(x, _Number) or type(c) is not np.ndarray or c.dtype.kind != "f" \
            or type(b) is not np.ndarray or _finite_tail(c):
        return out
    with np.errstate(invalid="ignore"):
        w = np.where(np.logical_and(np.equal(x, 0), np.not_equal(b[0], 0)), 0.0, 1.0)
    c = c.copy()
    c[1:] = _zero_weighted(c[1:], w)
    return Taylor._make(c, out.tag)


def _ode_term(p, D, w):
    """``p * D`` for a partial ``p`` and the derivative series ``D`` of an operand,
    exactly 0 where the partial is a structural 0 (a literal 0.0, or a 0 of the
    constant weight ``w``) even where ``D`` is inf or NaN: a constant 0 contributes
    0 (``copysign(2.0, sqrt(x))`` at 0 has derivative 0)."""
    t = p * D
    if type(p) is float and p == 0.0:
        w = 0.0
    if w is None or isinstance(w, _Number) or not isinstance(t, Taylor):
        return t
    c = t.coef
    if type(c) is not np.ndarray or c.dtype.kind != "f" or np.all(np.isfinite(c)):
        return t
    return Taylor._make(_zero_weighted(c, w), t.tag)


def _finite_items(items) -> bool:
    """The first and last items finite floats or float arrays (False for nested numbers).

    Enough for a recurrence whose last coefficient is formed from all the others
    (division): inf and nan propagate to it."""
    ends = (items[0], items[-1])
    if type(ends[0]) is float and type(ends[1]) is float:
        s = ends[0] + ends[1]
        return s - s == 0.0
    if all(type(v) is np.ndarray or isinstance(v, (float, np.generic)) for v in ends):
        with np.errstate(all="ignore"):
            return bool(np.all(np.isfinite(ends[0])) and np.all(np.isfinite(ends[1])))
    return False


def _wrap(c, tag):
    return Taylor._make(c, tag)


def _from_items(items, tag):
    return Taylor._make(_pack(items), tag)


def _add_value(a, c):
    """a + c where c is a constant: only coefficient 0 changes."""
    if type(a) is np.ndarray and (type(c) is float or type(c) is int):
        out = a.astype(np.result_type(a.dtype, np.float64), copy=True) if a.dtype.kind != "f" \
            else a.copy()
        out[0] += c
        return out
    r0 = a[0] + c
    shape = _shape(r0)
    rest = _lift(a[1:], len(shape))
    if _shape(rest)[1:] != shape:
        rest = np.broadcast_to(rest, _shape(rest)[:1] + shape)
    if type(rest) is np.ndarray and not isinstance(r0, _Number) and not _is_foreign(r0):
        out = np.empty((_shape(a)[0],) + shape, dtype=np.result_type(rest, r0))
        out[0] = r0
        out[1:] = rest
        return out
    return np.concatenate([np.expand_dims(r0, 0), rest], axis=0)


def _scale(a, c):
    """a * c for a constant c (broadcast against the value).  A constant 0 contributes
    0 to the coefficients of order >= 1 even where they are inf or NaN
    (``0.0 * sqrt(x)`` at 0; the value keeps numpy's 0 * inf)."""
    out = a * c if type(c) is float or type(c) is int else _lift(a, len(_shape(c))) * c
    if type(out) is np.ndarray and out.dtype.kind == "f" and not _finite_tail(out) \
            and not isinstance(c, _Number):
        out[1:] = _zero_weighted(out[1:], c)
    return out


def _conv(a, b):
    """Cauchy product of two coefficient arrays, truncated."""
    if type(a) is np.ndarray and type(b) is np.ndarray:
        K1 = a.shape[0]
        if a.ndim == 1 and b.ndim == 1:
            out = np.convolve(a, b)[:K1]
            return out if _finite_tail(out) else _conv_zero_safe(a, b)
        shape = np.broadcast_shapes(a.shape[1:], b.shape[1:])
        a, b = _lift(a, len(shape)), _lift(b, len(shape))
        out = np.zeros((K1,) + shape, dtype=np.result_type(a, b))
        for j in range(K1):
            out[j:] += a[j] * b[:K1 - j]
        return out if _finite_tail(out) else _conv_zero_safe(a, b)
    return _pack(tr.conv(_items(a), _items(b)))


def _finite_tail(out):
    """Whether the coefficients of order >= 1 are all finite (one sum)."""
    if out.shape[0] < 2:
        return True
    with np.errstate(invalid="ignore", over="ignore"):
        s = float(np.sum(out[1:]))
    return s - s == 0.0


def _conv_zero_safe(a, b):
    """:func:`_conv` in which an exactly zero coefficient of order >= 1 (a zero
    tangent: the element does not move along the direction) times an inf or NaN
    factor stays 0, as Dual's zero tangents do: ``x * exp(x)`` at a NaN element
    that the direction does not move keeps its higher coefficients 0.  A value's
    zero times an infinite coefficient is 0 too where that factor's first
    coefficient is finite (``t * sqrt(t)`` at 0 has derivatives 0, 0, inf, -inf,
    those of t**1.5), and NaN otherwise.  A zero coefficient of order >= 1 counts
    only in a factor whose coefficients of order >= 1 are all finite (``t**2 *
    sqrt(t)`` at 0: 0, 0, 0, inf, those of t**2.5)."""
    K1 = a.shape[0]
    shape = np.broadcast_shapes(a.shape[1:], b.shape[1:])
    a, b = _lift(a, len(shape)), _lift(b, len(shape))
    dt = np.result_type(a, b)
    zero = np.zeros((), dtype=dt)
    out = np.zeros((K1,) + shape, dtype=dt)
    with np.errstate(invalid="ignore", over="ignore"):
        # a value 0 with a finite slope: that factor is O(h) and the other one is
        # continuous, so a_0 b_m (m >= 1) adds nothing (hyperdual._number._still_zero)
        moveless_a = (a[0] == 0) & np.isfinite(a[1]) if K1 > 1 else None
        moveless_b = (b[0] == 0) & np.isfinite(b[1]) if K1 > 1 else None
        # a zero coefficient is exact where its factor's coefficients of order >= 1 are
        # all finite (a polynomial to order K there); one of a factor that is not smooth
        # (sqrt((t - 1)**3) at 1: 0, 0, nan, nan) may pair with the other factor's
        # singular part into a smooth product (the product of two is (t - 1)**3, third
        # derivative 6 from the right: 0 * nan taken as 0 gave 0); a factor whose value
        # is nan is missing data, whose zeros stay exact (x * arctan(x) at a nan
        # element the direction does not move)
        smooth_a = np.all(np.isfinite(a[1:]), axis=0) | np.isnan(a[0])
        smooth_b = np.all(np.isfinite(b[1:]), axis=0) | np.isnan(b[0])
        for j in range(K1):
            for m in range(K1 - j):
                term = a[j] * b[m]
                dead = None  # a zero coefficient of order >= 1 of a smooth factor
                if j:
                    dead = (a[j] == 0) & smooth_a
                if m:
                    dead = (b[m] == 0) & smooth_b if dead is None else (
                        dead | ((b[m] == 0) & smooth_b))
                if not j and m:
                    dead = moveless_a if dead is None else dead | moveless_a
                elif j and not m:
                    dead = moveless_b if dead is None else dead | moveless_b
                if dead is not None:
                    term = np.where(dead, zero, term)
                out[j + m] += term
    return out


def _power(x, y, a, b, top):
    _tag, _K = top.tag, top.order
    if b is None:
        yv = _const(y)
        if np.ndim(g.real_value(yv)) == 0 and not isinstance(yv, _Number):
            return _power_const(top, float(yv))
        if type(yv) is np.ndarray and type(top.coef) is np.ndarray:
            return _power_array(top, yv)
        # an older-tag (or foreign array) exponent: exp(y log x), x > 0
        return _exp_log(top, yv)
    if a is None:
        xv = _const(x)
        # c**y = exp(y log c); c**y_0 exactly as the value.  log c is taken as 0 at
        # c = 0 (the derivatives by y of 0**y vanish), as the Dual rule does
        Y = y
        if isinstance(xv, _Number) or _is_foreign(xv):
            lc = g.log(xv)
        else:
            with np.errstate(divide="ignore"):
                lc = np.where(np.equal(xv, 0), 0.0, np.log(np.where(np.equal(xv, 0), 1.0, xv)))
            lc = _tidy(lc) if np.ndim(lc) == 0 else lc.astype(np.result_type(xv, 1.0), copy=False)
        # c**y = c**y_0 exp((y - y_0) log c): the exponential of a series without a
        # constant term keeps full relative precision (exp(y log c) carries the
        # rounding of y_0 log c, abs(y_0 log c) ulps, into every coefficient)
        value = g.power(xv, Y.coef[0])
        out = _times_value(g.exp((Y - Y.coef[0]) * lc), value)
        return _with_value(out, value)
    return _power_both(x, y, a, b)


def _times_value(E, value):
    """The series E times a plain value, a zero coefficient staying zero where the value
    is inf (0**-1 = inf has derivatives 0 in the exponent, by the log 0 = 0 convention)."""
    c = E.coef
    if type(c) is not np.ndarray or isinstance(value, _Number) or c.dtype.kind != "f":
        return E * value
    with np.errstate(invalid="ignore", over="ignore"):
        out = c * value
    if not np.all(np.isfinite(out)):
        out = np.where(c == 0, np.zeros((), dtype=out.dtype), out)
    return Taylor._make(out, E.tag)


def _power_both(x, y, a, b):
    """x**y with both operands moving; where x_0 = 0, the convention of the first- and
    second-order rules at every order (:func:`hyperdual._taylor_rules.power_at_zero_base`:
    log x taken as 0 in every derivative by y; exp(y log x) gave nan there)."""
    out = _power_both_general(x, y, a, b)
    c = out.coef if isinstance(out, Taylor) else None
    if not (type(c) is np.ndarray and c.dtype == np.float64 and type(a) is np.ndarray
            and type(b) is np.ndarray and a.dtype.kind in "fiu" and b.dtype.kind in "fiu"
            and c.shape[0] > 1):
        return out
    zero = a[0] == 0
    if not np.any(zero):
        return out
    nres = c.ndim - 1
    ab = np.broadcast_to(_lift(a, nres), c.shape)
    bb = np.broadcast_to(_lift(b, nres), c.shape)
    zero = np.broadcast_to(ab[0] == 0, c.shape[1:])
    c = np.array(c, copy=True)
    with np.errstate(all="ignore"):
        for idx in (zip(*np.nonzero(zero)) if zero.ndim else [()]):
            col = (slice(None),) + tuple(idx)
            c[col] = tr.power_at_zero_base(ab[col].astype(float).tolist(),
                                           bb[col].astype(float).tolist())
    still = zero & ~np.any(ab[1:] != 0, axis=0)  # a constant base 0 (:func:`_kept_constant`)
    if np.any(still):
        c = _settled(c, still, out.tag, True)
    return Taylor._make(c, out.tag)


def _power_both_general(x, y, a, b):
    """x**y with both operands moving: x_0**y_0 exp(s), s = (y - y_0) log x_0 +
    y log(x / x_0), a series without a constant term (exp(y log x) carried the
    rounding of y_0 log x_0 into every coefficient: 29 ulps at (50 + t)**(100 + 2t)).
    Where x_0 <= 0 (or nested numbers), exp(y log x) as before."""
    x0, y0 = a[0], b[0]
    value = g.power(x0, y0)
    old = None
    rx0 = g.real_value(x0)
    if isinstance(x0, _Number) or isinstance(y0, _Number) or _is_foreign(rx0) \
            or not np.any(rx0 > 0):
        return _with_value(g.exp(y * g.log(x)), value)
    if not np.all(rx0 > 0):
        with np.errstate(all="ignore"):
            old = g.exp(y * g.log(x)).coef
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = rx0 > 0
        safe = np.where(pos, rx0, 1.0) if old is not None else x0
        lx0 = np.log(safe)
        lx0 = _tidy(lx0) if np.ndim(lx0) == 0 else lx0
        s = (y - y0) * lx0 + y * g.log(x / safe)
        out = _times_value(g.exp(s), value).coef
    if old is not None:
        out = np.where(pos, out, old)  # pos has the value shape: broadcasts from the right
    return _with_value(Taylor._make(out, _top_tag(x, y)), value)


def _top_tag(x, y):
    tx = x.tag if isinstance(x, Taylor) else -1
    ty = y.tag if isinstance(y, Taylor) else -1
    return max(tx, ty)


def _power_array(X, yv):
    """x**p for a constant array of exponents p (x_0 of any sign): the ratio series
    of power_const elementwise, and power_const's own cases (integer powers exact,
    branch points) for the elements where x_0 = 0.  exp(p log x) is nan at x_0 < 0
    even for integer p (x**[2, 3] at x = -1.2)."""
    c = X.coef
    shape = np.broadcast_shapes(c.shape[1:], yv.shape)
    cb = np.broadcast_to(_lift(c, len(shape)), c.shape[:1] + shape)
    a = np.broadcast_to(yv, shape)
    if a.dtype.kind not in "fiub":
        return _exp_log(X, yv)
    with np.errstate(all="ignore"):
        out = np.array(_pack(tr.power_const(list(cb), a)), copy=True)
        out[0] = np.power(cb[0], a)
    if out.dtype.kind != "f":
        return _exp_log(X, yv)
    for idx in zip(*np.nonzero(cb[0] == 0)):
        col = (slice(None),) + tuple(idx)
        one = _power_const(Taylor._make(np.array(cb[col], dtype=np.float64), X.tag),
                           float(a[tuple(idx)]))
        out[col] = one.coef
    if AUDIT.get() and out.shape[0] > 1:
        # (the elements at 0 ran as separate series above, without the audit's lanes)
        with np.errstate(invalid="ignore"):
            whole = (a == np.floor(a)) & (a >= 0)  # (x**2 of a zero series is exact)
        still = (cb[0] == 0) & ~np.any(cb[1:] != 0, axis=0) & ~whole
        if np.any(still):
            out = _settled(out, still, X.tag, True)
    return Taylor._make(_zero_tangent(cb, out, X.tag), X.tag)


def _exp_log(X, yv):
    out = g.exp(g.log(X) * yv)
    return _with_value(out, g.power(X.coef[0], yv))


def _with_value(T, value):
    """T with coefficient 0 replaced by ``value`` (exact x**y where the series used logs)."""
    c = T.coef
    if type(c) is np.ndarray and not isinstance(value, _Number):
        c = c.copy()
        c[0] = value
        return Taylor._make(c, T.tag)
    return Taylor._make(np.concatenate([np.expand_dims(value, 0), c[1:]]), T.tag)


def _int_power(X, n: int):
    """x**n for an integer n by repeated squaring: exact at x_0 = 0."""
    if n < 0:
        return 1.0 / _int_power(X, -n)
    result = None
    base = X
    while n:
        if n & 1:
            result = base if result is None else result * base
        n >>= 1
        if n:
            base = base * base
    return result


def _int_power_in_range(X, n: int):
    """x**n by repeated squaring (exact at x_0 = 0), or by the ratio series of
    :func:`tr.power_const` where repeated squaring's products may leave the range of
    ordinary floats while the coefficients do not: x_0**n not an ordinary float, a
    coefficient not finite, or a ratio x_k / x_0 beyond 2**(1000 / (K + 1)) either
    way ((1e100 v)**3 at v = -1.3e-300: u_0**2 underflows, the first derivative came
    out 3.38e-300 instead of 5.07e-300; (1/v)**-2 at v = -1.3e100: the second
    coefficient of u**2 underflows, the second derivative came out 8 instead of 2;
    (1e100 v)**-2 gave inf - inf = nan where the truth overflows).  Costs a pass over
    the coefficients where they are ordinary."""
    xl = X._l
    if xl is not None:
        x0 = xl[0]
        if x0 == 0.0 or x0 - x0 != 0.0:
            return _int_power(X, n)
        a0 = abs(x0)
        b = _SPREAD[len(xl)]
        lo, hi = a0 / b, a0 * b
        ok = True
        if type(xl) is _Line:
            v = xl[1]
            ok = v == 0.0 or lo <= abs(v) <= hi
        else:
            for v in xl[1:]:
                if v != 0.0 and not lo <= abs(v) <= hi:
                    ok = False
                    break
        if ok:
            out = _int_power(X, n)
            lo = out._l
            if lo is None:
                c0 = float(out.coef[0])
                y0 = c0 if _finite_tail(out.coef) else math.inf
            else:
                y0 = lo[0]
            if _TINY <= abs(y0) <= _BIG:
                return out
        ratio = _unary_items(X, lambda xs: tr.power_const(xs, float(n)))
        rl = ratio._l
        if rl is not None and all(v - v == 0.0 for v in rl):
            return ratio
        return _finite_of(ratio, _int_power(X, n))
    x = X.coef
    if not (type(x) is np.ndarray and x.dtype == np.float64 and x.shape[0] > 1):
        return _int_power(X, n)
    out = _int_power(X, n)
    c = out.coef
    if not (type(c) is np.ndarray and c.shape == x.shape):
        return out
    with np.errstate(all="ignore"):
        a0 = np.abs(x[0])
        b = _SPREAD[x.shape[0]]
        ax = np.abs(x[1:])
        bad = np.any((ax != 0) & ((ax < a0 / b) | (ax > a0 * b)), axis=0)
        a = np.abs(c[0])
        bad |= ~((a >= _TINY) & (a <= _BIG)) | ~np.all(np.isfinite(c[1:]), axis=0)
        if not np.any(bad):
            return out
        bad &= (x[0] != 0) & np.isfinite(x[0])
    if not np.any(bad):
        return out
    with np.errstate(all="ignore"):
        # the ratios of the elements taken only: a zero base among them (triu's zeros)
        # gave nan there, which the rule's singular-point bookkeeping counted (KEPT)
        # and the helper's audit then turned every entry's derivatives into nan
        # (sum(triu(x)**3) at 1e-150, truth 0 by underflow)
        unit = np.zeros_like(x)
        unit[0] = 1.0
        Xb = Taylor._make(np.where(bad, x, unit), X.tag)
        ratio = _unary_items(Xb, lambda xs: tr.power_const(xs, float(n))).coef
        # (past an inf coefficient of x, a non-finite ratio result keeps repeated
        # squaring's inf or nan; so does a coefficient the ratios could not form
        # where the products did: x_0 subnormal, 1 / x_0 beyond the range)
        use = bad & (np.all(np.isfinite(x), axis=0) | np.isfinite(ratio))
        use = use & (np.isfinite(ratio) | ~np.isfinite(c))
        return Taylor._make(np.where(use, ratio, c), X.tag)


def _finite_of(ratio, square):
    """Coefficientwise, the ratio series' coefficient where it is finite, else repeated
    squaring's where that is: at a subnormal x_0 the ratios x_k / x_0 overflow (the
    third derivative of x**3 at 5e-320 was nan, truth 6) while the products are exact."""
    r, q = ratio.coef, square.coef
    if not (type(r) is np.ndarray and type(q) is np.ndarray):
        return ratio
    with np.errstate(invalid="ignore"):
        return Taylor._make(np.where(np.isfinite(r) | ~np.isfinite(q), r, q), ratio.tag)


class _Spread(dict):
    """len(coefficients) -> 2**(1000 // len): the bound on abs(x_k / x_0) within which
    every product of ratios (times x_0**n) stays in range."""

    def __missing__(self, n):
        v = self[n] = 2.0 ** (1000 // n)
        return v


_SPREAD = _Spread()
_TINY = float(np.finfo(float).tiny)
_BIG = float(np.finfo(float).max)


def _power_const(X, p: float):
    tag = X.tag
    if p == 0.0:
        c = X.coef
        one = _add_value(c * 0.0, 1.0)
        return Taylor._make(one, tag)  # 0**0 = 1, derivatives 0
    if p == 1.0:
        return X
    if p.is_integer() and abs(p) <= 64:
        return _int_power_in_range(X, int(p))
    if p == 0.5:
        return X._unary(UNARY["sqrt"])
    out = _unary_items(X, lambda xs: tr.power_const(xs, p), branch=(p, False))
    return _power_at_subnormal(X, p, out)


def _power_at_subnormal(X, p: float, out):
    """``out`` (x**p by the ratio series) with the elements whose value x_0 is a positive
    subnormal redone in floats with a separate exponent (:func:`_tsc.power`): the ratio
    series divides by x_0, and 1 / 1e-310 overflows (the second derivative of x**2.5
    there was inf, truth 3.7e-155; the third nan, truth 1.9e155)."""
    xl = X._l
    if xl is not None and not 0.0 < xl[0] < _TINY:
        return out  # (a scalar series away from the subnormals: no array made)
    c = X.coef
    if type(c) is not np.ndarray or c.dtype != np.float64 or c.shape[0] < 2 or abs(p) > 512:
        return out
    if c.ndim == 1 and not 0.0 < float(c[0]) < _TINY:
        return out  # (the same test for a scalar series held as an array)
    x0 = c[0]
    sub = (x0 > 0) & (x0 < _TINY)
    o = out.coef
    if type(o) is not np.ndarray or o.shape != c.shape or not np.any(sub):
        return out
    b = np.zeros_like(c)
    b[0] = p
    with np.errstate(all="ignore"):
        new = _tsc.power(c, b)
    return Taylor._make(np.where(sub & np.all(np.isfinite(c), axis=0), new, o), X.tag)


def _extreme(name, x, y, a, b, top):
    """maximum/minimum coefficient-wise; ties split 0.5/0.5 as the first-order rule."""
    K, tag = top.order, top.tag
    ca = a if a is not None else _const_coef(x, K, top)
    cb = b if b is not None else _const_coef(y, K, top)
    ra, rb = g.real_value(ca[0]), g.real_value(cb[0])
    # a NaN operand propagates, as numpy's maximum/minimum (the comparisons alone
    # picked the other operand where a was NaN: np.maximum(nan, -5) gave -5)
    first = ((ra > rb) if name == "maximum" else (ra < rb)) | np.isnan(ra)
    tie = ra == rb
    nres = max(len(_shape(ca)) - 1, len(_shape(cb)) - 1)
    ca, cb = _lift(ca, nres), _lift(cb, nres)
    out = np.where(first, ca, cb)
    if may_hold(tie):
        mid = 0.5 * (ca + cb)
        out = np.where(tie, mid, out)
        value = np.where(tie, ca[0], out[0])
        out = _with_value(Taylor._make(out, tag), _tidy(value) if not isinstance(value, _Number)
                          else value).coef
    return Taylor._make(out, tag)


def _fextreme(ufunc, x, y, top):
    """fmax/fmin: maximum/minimum, except that a NaN operand gives way to the other."""
    out = _binary("maximum" if ufunc is np.fmax else "minimum", x, y, top)
    rx = g.real_value(x.coef[0] if isinstance(x, Taylor) and x.tag == top.tag else x)
    ry = g.real_value(y.coef[0] if isinstance(y, Taylor) and y.tag == top.tag else y)
    nx, ny = np.isnan(rx), np.isnan(ry)
    if may_hold(nx) or may_hold(ny):
        out = where(nx, y, where(ny, x, out))
    return out


def _const_coef(v, K, top=None):
    """The coefficients of the constant ``v`` as a series of order ``K``.

    A Python number next to a series ``top`` of float32 (or float16) coefficients takes
    their dtype, as numpy's Python scalars do (``float32_array + 1.5`` is float32); a
    numpy float scalar keeps its own dtype."""
    c = _const(v)
    if isinstance(c, _Number) or np.ndim(c) or _is_foreign(c):  # (np.array computes dask)
        return np.stack([c] + [c * 0.0] * K)
    dt = getattr(c, "dtype", None)
    if type(c) is float:
        dt = _weak_dtype(top)
    return np.array([c] + [0.0] * K, dtype=dt)


def _weak_dtype(top):
    """The dtype a Python float takes next to the series ``top``: its coefficients' float
    dtype if narrower than float64, else None (numpy's default, float64)."""
    if top is None or not isinstance(top, Taylor) or top._l is not None:
        return None
    dt = getattr(top._c, "dtype", None)
    return dt if dt is not None and dt.kind == "f" and dt.itemsize < 8 else None


def _hypot(x, y, top, known=None):
    """hypot(x, y) = x sin(θ) + y cos(θ) with θ = arctan2(x, y) (x = h sin θ, y = h cos θ).

    The square root of x² + y² as a series loses the identity 1 - (y/h)² = (x/h)²:
    its order-2 coefficient is a difference of two nearly equal numbers when
    abs(x) << abs(y) (hypot(0.05, t) at t = 1.7 lost three digits), and
    hypot(t, t) = sqrt(2) t got nonzero higher coefficients growing like 1/t^k.
    θ's series (the arctan2 rule: scaled, y' = (b a' - a b') / (a² + b²)) and the
    sine/cosine recurrences have no such subtraction, and no square overflows.
    Where x_0 = y_0 = 0 (no angle) the square root's series keeps the abs(x)
    conventions.
    """
    X = x if isinstance(x, Taylor) and x.tag == top.tag else _const_taylor(x, top)
    Y = y if isinstance(y, Taylor) and y.tag == top.tag else _const_taylor(y, top)
    h0 = g.hypot(X.coef[0], Y.coef[0])
    zero = g.real_value(h0) == 0
    # known: "zero" / "nonzero" where the caller knows h_0 (lazy data cannot be asked)
    if top.order == 0 or known == "zero" or (known is None and not may_hold(~zero)):
        s = g.where_value(zero, 1.0, h0)
        U, V = X / s, Y / s
        return _with_value(g.sqrt(U * U + V * V) * s, h0)
    if known is None and may_hold(zero):
        # elementwise: the angle where it exists, the square root elsewhere
        one = g.where_value(zero, 1.0, 0.0)
        polar = _hypot(X + one, Y, top, "nonzero")
        root = _hypot(X * one, Y * one, top, "zero")
        return _with_value(where(zero, root, polar), h0)
    # With one operand constant, the square root's series cancels only where the
    # moving operand dominates (1 - (m_0/h_0)**2 ~ 0); where the constant does, the
    # angle's series cancels instead (arcsinh's hypot(1, x) at x_0 = 1e-20 with
    # x_1 = 1e100): there the square root is the precise one.
    cx, cy = _is_constant(X), _is_constant(Y)
    if cx != cy:
        c0, m0 = (X.coef[0], Y.coef[0]) if cx else (Y.coef[0], X.coef[0])
        rooted = g.real_value(g.absolute(m0)) <= g.real_value(g.absolute(c0))
        if may_hold(rooted):
            U, V = X / h0, Y / h0
            root = g.sqrt(U * U + V * V) * h0
            if not may_hold(~rooted):
                return _with_value(_hypot_wide(X, Y, root), h0)
            theta = _arctan2(X, Y, top)
            return _with_value(_hypot_wide(X, Y, where(rooted, root, X * g.sin(theta)
                                                       + Y * g.cos(theta))), h0)
    theta = _arctan2(X, Y, top)
    return _with_value(_hypot_wide(X, Y, X * g.sin(theta) + Y * g.cos(theta)), h0)


_HYPOT_BITS = 20


def _hypot_wide(X, Y, out):
    """The elements of hypot's series whose operands' ratios spread beyond the float
    range's share per order, or whose coefficients came out inf/nan, redone in floats
    with a separate exponent (:func:`hyperdual._taylor_scaled.hypot`): the ratio q of
    hypot(1e200 t, exp(t)) at t = -1.7e-50 has coefficients growing like (6e49)**k
    (their squares overflowed), and the square root's of hypot(t, 1) at 1.7e100 fall
    below the float range where their products with t do not; likewise where the
    operands' values are far apart."""
    a, b, c = X.coef, Y.coef, out.coef
    if not (type(a) is np.ndarray and type(b) is np.ndarray and type(c) is np.ndarray
            and a.dtype == np.float64 and b.dtype == np.float64 and c.dtype == np.float64
            and c.shape[0] > 1):
        return out
    nres = c.ndim - 1
    a = np.broadcast_to(_lift(a, nres), c.shape)
    b = np.broadcast_to(_lift(b, nres), c.shape)
    with np.errstate(all="ignore"):
        need = _tsc.extreme(a, _HYPOT_BITS) | _tsc.extreme(b, _HYPOT_BITS)
        need |= ~np.all(np.isfinite(c[1:]), axis=0)
        # operands of very different sizes: q**2 leaves the range (hypot(t**2, 1e200 t))
        need |= np.abs(np.log2(np.abs(a[0])) - np.log2(np.abs(b[0]))) > 1000 // c.shape[0]
        need &= np.all(np.isfinite(a), axis=0) & np.all(np.isfinite(b), axis=0)
        need &= (a[0] != 0) | (b[0] != 0)
    if not np.any(need):
        return out
    new = _tsc.hypot(a, b)
    with np.errstate(all="ignore"):
        keep = ~np.isfinite(new) & np.isfinite(c)
        return Taylor._make(np.where(need & ~keep, new, c), out.tag)


def _is_constant(T):
    """True if every coefficient after the value is exactly 0 (a lifted constant)."""
    c = T.coef[1:]
    return not isinstance(c, _Number) and isinstance(c, np.ndarray) and not np.any(c)


def _arctan2(x, y, top):
    """arctan2(a, b): y' = (b a' - a b') / (a² + b²), series scaled by hypot(a_0, b_0)."""
    A = x if isinstance(x, Taylor) and x.tag == top.tag else _const_taylor(x, top)
    B = y if isinstance(y, Taylor) and y.tag == top.tag else _const_taylor(y, top)
    K = top.order
    v0 = g.arctan2(A.coef[0], B.coef[0])
    if K == 0:
        return Taylor._make(np.expand_dims(v0, 0) if not isinstance(v0, float)
                            else np.array([v0]), top.tag)
    h0 = g.hypot(A.coef[0], B.coef[0])
    U, V = _truncate(A / h0, K - 1), _truncate(B / h0, K - 1)
    dU, dV = _deriv(A / h0), _deriv(B / h0)
    G = (V * dU - U * dV) / (U * U + V * V)
    return _integrate(G, v0, top.tag)


def _const_taylor(v, top):
    return Taylor._make(_const_coef(v, top.order, top), top.tag)


def _truncate(X, K):
    return Taylor._make(X.coef[:K + 1], X.tag)


def _deriv(X):
    """d/dt of the series: coefficients (m + 1) x_{m+1}, order K - 1."""
    c = X.coef
    K = _shape(c)[0] - 1
    w = np.arange(1.0, K + 1.0)
    return Taylor._make(_lift_fact(w, len(X.shape), c) * c[1:], X.tag)


def _integrate(G, value, tag):
    """The series with coefficient 0 = value and derivative G: y_k = g_{k-1} / k."""
    c = G.coef
    K = _shape(c)[0]
    w = 1.0 / np.arange(1.0, K + 1.0)
    rest = _lift_fact(w, len(G.shape), c) * c
    return Taylor._make(_concat_value(value, rest), tag)


def _concat_value(value, rest):
    if type(rest) is np.ndarray and not isinstance(value, _Number):
        shape = _shape(rest)[1:]
        out = np.empty((_shape(rest)[0] + 1,) + shape, dtype=rest.dtype)
        out[0] = value
        out[1:] = rest
        return out
    return np.concatenate([np.expand_dims(value, 0), rest])


# ---------------------------------------------------------------------------------
# The unary rules
# ---------------------------------------------------------------------------------
def _safe(fn, *lists):
    """Run a recurrence on Python floats; on a float exception redo it in numpy floats
    (inf/nan with numpy's warning, as the array path gives)."""
    try:
        return fn(*lists)
    except (ZeroDivisionError, OverflowError, ValueError):
        return fn(*[[np.float64(v) if type(v) is float else v for v in lst] for lst in lists])


def _unary(rule, X):
    if X._l is not None:
        out = _ts.unary(rule.name, X._l)
        if out is not None:
            return _mkl(out, X.tag)
    out = _unary_general(rule, X)
    if out._l is not None:  # the list paths return finite coefficients only
        return out
    c = out._c
    if type(c) is np.ndarray and c.dtype.kind == "f" and c.shape[0] > 1 and (
            not np.isfinite(c[1:]).all()):
        out = _rescaled(rule, X, out)
    return _in_dtype_of(out, X)


def _in_dtype_of(out, X):
    """``out`` with the float dtype of ``X``'s coefficients where the recurrence widened
    it (a scalar float32 series runs on numpy float32 scalars, which numpy 1.x promotes
    with Python floats): a float32 function of a float32 series is float32, as numpy's."""
    c, x = getattr(out, "_c", None), getattr(X, "_c", None)
    if (type(c) is np.ndarray and type(x) is np.ndarray and x.dtype.kind == "f"
            and c.dtype.kind == "f" and c.dtype.itemsize > x.dtype.itemsize):
        return Taylor._make(c.astype(x.dtype), out.tag)
    return out


def _time_exponent(c):
    """The exponent e (per element) of the time scaling t = 2**e s that brings every
    coefficient to at most the value's magnitude: abs(x_k) 2**(e k) <= abs(x_0),
    0 where x_0 is 0 or the curve is constant (float coefficient arrays only)."""
    K = c.shape[0] - 1
    with np.errstate(all="ignore"):
        lg = np.log2(np.abs(c))
        k = np.arange(1.0, K + 1.0).reshape((K,) + (1,) * (c.ndim - 1))
        e = np.min((lg[0] - lg[1:]) / k, axis=0)
        e = np.where(np.isfinite(e) & np.isfinite(lg[0]), np.floor(e), 0.0)
    return np.clip(e, -2100, 2100).astype(np.int64)


def _rescaled(rule, X, out):
    """Redo a rule whose coefficients came out inf/nan on the time-scaled curve.

    The recurrences form products such as f'(x_0) x_1 before they meet the factors
    that bring them back into range (erfcinv'' (1.7e-240) 2.6e-120 overflows although
    the second coefficient is 1e238).  With t = 2**e s the coefficients of the curve
    become x_k 2**(e k), the rule runs on a curve whose coefficients are no larger than
    its value, and the result's are scaled back, y_k = y'_k 2**(-e k) (exact: powers
    of two; ldexp rounds once into the float range).  Coefficients of the first pass
    that were finite are kept; a coefficient whose truth overflows stays inf.
    """
    c = X.coef
    if not (type(c) is np.ndarray and c.dtype.kind == "f") or not np.all(np.isfinite(c)):
        return out
    e = _time_exponent(c)
    if not np.any(e):
        return out
    K = c.shape[0] - 1
    ek = np.arange(K + 1).reshape((K + 1,) + (1,) * (c.ndim - 1)) * e
    with np.errstate(all="ignore"):
        xs = np.ldexp(c, ek)
        ys = _unary_general(rule, Taylor._make(xs, X.tag)).coef
        if not (type(ys) is np.ndarray and ys.dtype.kind == "f"):
            return out
        y = np.ldexp(ys, -ek).astype(ys.dtype, copy=False)
        o = out.coef
        # a coefficient the scaled pass underflowed to 0 keeps the first pass's inf or
        # nan (the 4th derivative of i0e(1e100 v) at v = -1.3e-200: the scaled curve's
        # coefficients are below abs(x_0) = 1.3e-100, their fourth power underflows;
        # the truth 4e400 overflows): never a silent 0
        y = np.where(np.isfinite(o) | (ys == 0), o, y) if o.shape == y.shape else o
    return Taylor._make(y, X.tag)


def _unary_general(rule, X):
    name = rule.name
    rec = tr.UNARY.get(name)
    if X.order == 0:
        return Taylor._make(_pack([getattr(g, name)(X.coef[0])]) if _shape(X.coef) == (1,)
                            else np.expand_dims(getattr(g, name)(X.coef[0]), 0), X.tag)
    if rec is not None:
        out = _unary_items(X, rec, branch=tr.BRANCH_POWERS.get(name))
        if out is not None:
            return out
    return ode(rule, X)


def _unary_items(X, rec, branch=None):
    c = X.coef
    if branch is None and type(c) is np.ndarray and c.ndim == 1 and c.dtype == np.float64:
        # the scalar hot path: Python floats through the recurrence
        xs = c.tolist()
        try:
            ys = rec(xs)
            s = sum(ys) if ys is not None else math.nan
            if s - s == 0.0 and type(s) is float:
                return Taylor._make(np.array(ys), X.tag)
        except (ZeroDivisionError, OverflowError, ValueError):
            pass
    xs = _items(c)
    with np.errstate(all="ignore") if branch is not None else contextlib.nullcontext():
        ys = _safe(rec, xs)
    if ys is None:  # e.g. polygamma on a nested number: derive from the table
        return None
    out = _pack(ys)
    if (type(out) is np.ndarray and out.dtype.kind == "f"
            and not np.all(np.isfinite(out[1:])) and np.all(np.isfinite(X.coef[1:]))):
        # an overflowed value: redo with 0 * inf masked, so the coefficients are inf
        tr.SAFE.on = True
        try:
            with np.errstate(all="ignore"):
                out = _pack(_safe(rec, xs))
        finally:
            tr.SAFE.on = False
    if type(out) is np.ndarray and out.dtype.kind == "f":
        if branch is not None:
            out = _fix_branch(X.coef, out, *branch, X.tag)
        out = _zero_tangent(X.coef, out, X.tag)
    return Taylor._make(out, X.tag)


def _fix_branch(c, out, a, odd, tag=None):
    """Elements where x_0 = 0 get the branch-point coefficients of x**a (a constant
    series there stays constant: :func:`_kept_constant`)."""
    if type(c) is not np.ndarray:
        return out
    zero = c[0] == 0
    if not np.any(zero):
        return out
    out = np.array(out, copy=True)
    cols = np.reshape(c, (c.shape[0], -1))
    res = np.reshape(out, (out.shape[0], -1))
    for i in np.flatnonzero(np.ravel(zero)):
        fixed = tr.power_at_zero(cols[:, i].tolist(), a, odd)
        res[1:, i] = fixed[1:]
    with np.errstate(all="ignore"):
        if np.any(~np.isfinite(res[1:, np.ravel(zero)])):
            import warnings

            warnings.warn("hyperdual: Taylor coefficient at a branch point x = 0 is "
                          "infinite or undefined", RuntimeWarning, stacklevel=4)
    out = np.reshape(res, out.shape)
    still = zero & ~np.any(c[1:] != 0, axis=0)
    return _settled(out, still, tag, True) if out.shape[0] > 1 and np.any(still) else out


def _zero_tangent(c, out, tag=None):
    """Where the argument is constant (x_k = 0 for k >= 1) the result is constant too,
    even if f' is inf there (as Dual's zero tangents stay zero; :func:`_kept_constant`)."""
    if type(c) is not np.ndarray or out.shape[0] < 2:
        return out
    if out.ndim == 1:
        with np.errstate(invalid="ignore", over="ignore"):
            s = float(np.sum(out[1:])) if out.shape[0] > 1 else 0.0
        if s - s == 0.0:
            return out
    elif np.all(np.isfinite(out[1:])):
        return out
    const = ~np.any(c[1:] != 0, axis=0)
    if np.any(const):
        with np.errstate(invalid="ignore"):
            out = _settled(out, const, tag, missing=np.isnan(c[0]))
    return out


def ode(rule, X):
    """f(x) from the rule table's f' by the ODE trick: y' = f'(x) x' (y_0 = f(x_0)).

    ``f'`` is evaluated on the argument truncated to order K - 1 (with the same
    tag), so the recursion ends at order 0; it costs O(K²) when f' does not call
    f itself, O(K³) when it does once (exp), more when several times.
    """
    K = X.order
    xl = X._l
    s1 = rule.s1
    if xl is not None:  # the list path: f' on the truncated list, then y_k = g_{k-1} / k
        low = _mkl(xl[:K], X.tag)
        if s1 is not None:
            prod = s1(low, _mkl([k * xl[k] for k in range(1, K + 1)], X.tag))
            prod = prod._l if type(prod) is Taylor and prod.tag == X.tag else None
        else:
            G = rule.df(low)
            prod = None
            if type(G) is Taylor and G._l is not None and G.tag == X.tag:
                dx = [k * xl[k] for k in range(1, K + 1)]
                prod = _MUL[K - 1](G._l, dx) if K > 1 else [G._l[0] * dx[0]]
        if prod is not None:
            out = [getattr(g, rule.name)(xl[0])] + [prod[k - 1] / k for k in range(1, K + 1)]
            if _ts.finite(out):
                return _mkl(out, X.tag)
    v0 = getattr(g, rule.name)(X.coef[0])
    low = _truncate(X, K - 1)
    if s1 is not None:
        prod = s1(low, _deriv(X))
    else:
        G = rule.df(low)
        if not (isinstance(G, Taylor) and G.tag == X.tag):
            G = Taylor._make(_const_coef(G, K - 1), X.tag)
        prod = G * _deriv(X)
    return _integrate(prod, v0, X.tag)


# ---------------------------------------------------------------------------------
# numpy's ufunc protocol
# ---------------------------------------------------------------------------------
def _special():
    import scipy.special
    return scipy.special


def _ufunc_name(ufunc):
    """``scipy.special.jv`` or ``numpy.sin``: where the ufunc is called from."""
    n = ufunc.__name__
    return f"scipy.special.{n}" if getattr(_special(), n, None) is ufunc and getattr(
        np, n, None) is not ufunc else f"numpy.{n}"


def _special_rules():
    """scipy ufunc -> custom_jvp rule of :mod:`hyperdual.rules.special` (imported
    late: the rules import the number types)."""
    from .rules.special import SPECIAL
    return SPECIAL


def _multi_rules():
    """scipy ufunc -> evaluation by custom_jvp rules of several arguments or outputs
    (:data:`hyperdual.rules.special.MULTI`)."""
    from .rules.special import MULTI
    return MULTI


def _divmod(x, y):
    return np.floor_divide(x, y), np.remainder(x, y)


def _shared_ufuncs():
    from _exactdiff import elementwise as _e

    return {np.modf: _e.modf, np.frexp: _e.frexp, np.ldexp: _e.ldexp, np.divmod: _divmod,
            np.nextafter: _e.nextafter, np.spacing: _e.spacing}


_SHARED_UFUNCS = _shared_ufuncs()


def _array_ufunc(self, ufunc, method, inputs, kwargs):
    if method == "__call__" and not kwargs and len(inputs) == 1:
        rule = UNARY_BY_UFUNC.get(ufunc)
        if rule is not None:  # fast path: the only input is self
            return _unary(rule, self)
    name = _ufunc_name(ufunc)
    if method != "__call__":  # reduce, accumulate, outer: compositions of calls
        return _ufunc_methods.apply(ufunc, method, inputs, kwargs)
    gu = _GUFUNCS.get(ufunc)
    if gu is not None:  # numpy 2's vecdot, matvec, vecmat: compositions of sum and matmul
        if len(inputs) == 2 and _role(*inputs) is None:
            return NotImplemented
        return _gufunc(gu, inputs, kwargs)
    if kwargs.get("out") is not None:
        raise TypeError(f"{ENGINE}: {name} with out= is not supported (numbers are immutable)")
    cast = _float_dtype_operands(inputs, kwargs)
    if cast is not None:  # dtype=float32 ...: numpy's cast of the operands
        return ufunc(*cast[0], **cast[1])
    extra = {k: v for k, v in kwargs.items() if k != "out" and not (k == "where" and v is True)}
    if extra:
        raise TypeError(_msg.ufunc_keywords(ENGINE, name, sorted(extra)))
    if ufunc in _n._REAL_UFUNCS or ufunc is _special().gammasgn:  # piecewise constant
        return ufunc(*[g.real_value(v) if isinstance(v, Taylor) else v for v in inputs])
    if ufunc in _SHARED_UFUNCS:  # modf, frexp, ldexp, divmod: compositions of rules
        return _SHARED_UFUNCS[ufunc](*inputs)
    special_rules = _special_rules()
    if ufunc in special_rules:
        # Bessel functions, rgamma, gammainc/gammaincc/betainc: the custom_jvp rules
        # Dual and reverse use, which serve every order by the ODE trick (they raised
        # "not supported for Taylor numbers" though their rule is differentiable)
        from .rules import special as _sr
        return _sr.call(ufunc, ENGINE, *inputs)
    multi = _multi_rules()
    if ufunc in multi:  # poch (both arguments), sici, shichi, fresnel, airy (outputs)
        return multi[ufunc](*inputs)
    if len(inputs) == 1:
        rule = UNARY_BY_UFUNC.get(ufunc)
        if rule is None:
            rule = next((r for r in UNARY.values() if r.ufunc is ufunc), None)
        if rule is not None:
            return _unary(rule, self)
    elif len(inputs) == 2:
        x, y = inputs
        top = _role(x, y)
        if top is None:
            return NotImplemented
        if ufunc is np.matmul:
            return matmul(x, y)
        if ufunc is np.fmax or ufunc is np.fmin:
            return _fextreme(ufunc, x, y, top)
        if ufunc is _special().huber:
            # a composition of where and abs (shared with Dual and reverse)
            from _exactdiff import elementwise as _e

            return _e.huber(x, y)
        rule = BINARY_BY_UFUNC.get(ufunc)
        if rule is None:
            rule = next((r for r in BINARY.values() if r.ufunc is ufunc), None)
        if rule is not None:
            if rule.composite is not None:
                return rule.composite(x, y, lambda a, b: _binary(rule.name, a, b, _role(a, b)))
            return _binary(rule.name, x, y, top)
    raise TypeError(
        f"{ENGINE}: {name} is not supported for Taylor numbers (no Taylor rule); "
        "supported functions are listed in hyperdual.taylor_supported()"
    )


def binary_rule(rule, x, y):
    """Entry for :mod:`hyperdual._number` when a Taylor is the newest operand."""
    top = _role(x, y)
    if top is None:  # pragma: no cover - _number only calls with a Taylor on top
        raise TypeError(f"{ENGINE}: cannot combine {type(x).__name__} and {type(y).__name__}")
    return _binary(rule.name, x, y, top)


def supported() -> list[str]:
    """The numpy/scipy functions Taylor numbers support (sorted).

    Returns
    -------
    list of str
        Qualified names such as ``"numpy.sin"`` and ``"scipy.special.erf"``.

    Examples
    --------
    >>> from hyperdual import taylor_supported
    >>> "numpy.linalg.det" in taylor_supported(), "numpy.linalg.eig" in taylor_supported()
    (True, False)
    """
    names = set()
    for n in UNARY:
        if n.startswith("polygamma"):
            continue
        uf = UNARY[n].ufunc
        if not isinstance(uf, np.ufunc) and uf not in FUNCTIONS:
            continue  # np.sinc is a Python function: Taylor numbers have no rule for it
        names.add(("scipy.special." if n in _n._SPECIAL else "numpy.") + n)
    for n in BINARY:
        names.add(("scipy.special." if n in _n._SPECIAL else "numpy.") + n)
    names.update("numpy." + n for n in _GUFUNCS.values())  # numpy 2's vecdot, matvec ...
    # (_zeta, _riemann_zeta: the ufuncs behind scipy.special.zeta(s, q) and zeta(s))
    names.update("scipy.special." + ("zeta" if uf.__name__.endswith("zeta")
                                     and uf.__name__.startswith("_") else uf.__name__)
                 for uf in _special_rules())
    names.update("scipy.special." + uf.__name__ for uf in _multi_rules())
    for f, impl in FUNCTIONS.items():
        if getattr(impl, "unsupported", False):
            continue
        linalg = getattr(np.linalg, f.__name__, None) is f
        names.add("numpy." + ("linalg." if linalg else "") + f.__name__)
    return sorted(names)


def variable(x, order: int, direction=1.0, tag: int | None = None) -> Taylor:
    """The curve ``x + t * direction`` as a Taylor number of order K (a fresh tag)."""
    tag = new_tag() if tag is None else tag
    tx, td = type(x), type(direction)
    if (tx is float or tx is int) and (td is float or td is int) and type(order) is int \
            and order >= 1:
        # the scalar fast path: coefficients as a list of Python floats
        return _mkl(_ts.Line([float(x), float(direction)] + [0.0] * (order - 1)), tag)
    if not isinstance(order, (int, np.integer)) or isinstance(order, bool) or order < 0:
        raise ValueError(f"hyperdual: order must be an integer >= 0, got {order!r}")
    order = int(order)
    if isinstance(x, _Number) or isinstance(direction, _Number):
        zero = x * 0.0
        items = [x] + ([direction + zero] if order >= 1 else []) + [zero] * max(order - 1, 0)
        return Taylor._make(np.stack(items), tag)
    x0 = _as_part(x, "x")
    d = _as_part(direction, "direction")
    shape = np.broadcast_shapes(_shape(x0), _shape(d))
    dt = np.result_type(x0, d, np.float64) if type(x0) is float else np.result_type(x0)
    if _is_foreign(x0) or _is_foreign(d):
        # another library's data (dask: lazy) is stacked in its own library;
        # assigning it into a numpy array would compute it
        zero = _zeros_like(x0 if _is_foreign(x0) else d, dt)
        if _shape(zero) != shape:
            zero = np.broadcast_to(zero, shape)
        items = [x0 + zero] + ([d + zero] if order >= 1 else []) + [zero] * max(order - 1, 0)
        return Taylor._make(np.stack(items), tag)
    c = np.zeros((order + 1,) + shape, dtype=dt)
    c[0] = x0
    if order >= 1:
        c[1] = d
    return Taylor._make(c, tag)


g._NUMBER_TYPES = tuple(dict.fromkeys(g._NUMBER_TYPES + (Taylor,)))

from operator import add as _op_add  # noqa: E402
from operator import sub as _op_sub  # noqa: E402

# ufuncs with a list fast path (a scalar Taylor seeded from floats)
_LIST_UFUNCS = {r.ufunc: _ts.ByLength(_ts.KERNELS[name]) for name, r in UNARY.items()
                if r.ufunc is not None and name in _ts.KERNELS}
_MUL, _LMUL, _Line = _ts.MUL, _ts.LMUL, _ts.Line
# the same kernels by list length K + 1, as the hot path asks (K = 0 multiplies too)
_MUL_N, _LMUL_N = _ts.ByLength(_MUL, 1), _ts.ByLength(_LMUL, 1)
_LIST_BINARY = {np.add: Taylor.__add__, np.subtract: Taylor.__sub__,
                np.multiply: Taylor.__mul__, np.true_divide: Taylor.__truediv__}
_REFLECTED = {Taylor.__add__: Taylor.__radd__, Taylor.__sub__: Taylor.__rsub__,
              Taylor.__mul__: Taylor.__rmul__, Taylor.__truediv__: Taylor.__rtruediv__}


# the structural operations live in their own module (it imports this one)
from ._taylor_linear import (  # noqa: E402
    FUNCTIONS,
    dot,
    getitem,
    matmul,
    mean,
    reshape,
    sum_,
    transpose,
    where,
)
