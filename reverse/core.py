"""The reverse-mode engine: ``Variable``, ``Function``, configuration and backward.

A ``Variable`` wraps an array (or, for forward-over-reverse, a ``hyperdual.Dual``)
and remembers the ``Function`` that created it.  ``Variable.backward`` walks the
graph from the output towards the inputs, newest generation first, and leaves the
gradient of every leaf in ``leaf.grad``.

How backward works
------------------
Every ``Function.backward`` is written in numpy's vocabulary (operators, ``np.cos``,
``np.sum``, ``np.broadcast_to`` ...) and receives the output gradient ``gy``, the
output value ``y`` and the input values.  What those values are depends on the mode:

* ``create_graph=False`` (the default): raw arrays.  The numpy calls compute plain
  numbers and no graph bookkeeping happens at all; this is the fast path.
* ``create_graph=True``: ``Variable`` objects.  The very same numpy calls now
  dispatch through ``Variable.__array_ufunc__``/``__array_function__`` to
  ``Function`` objects, so the gradient is itself a graph that can be
  differentiated again, to any order.

One formula therefore serves both modes, and every elementary function is defined
once (in :mod:`reverse.rules`, one module per family).

Memory
------
A function holds its inputs strongly and its output through a ``weakref``, so a
forward graph has no reference cycle and is freed by reference counting as soon
as its output is dropped.  Graphs refer to *leaves* (Variables without a
creator) through a light alias that shares the leaf's data and holds the leaf
by ``weakref``; gradients reaching the alias are credited to the leaf.  So
``x.grad`` built with ``create_graph=True``, whose graph leads back towards
``x``, does not keep ``x`` alive in a cycle: everything is freed by reference
counting alone, without the garbage collector.  (``Function.inputs`` resolves
the aliases, so graph walkers see the leaves themselves.)  The one exception
is ``retain_grad=True`` together with ``create_graph=True``: an intermediate's
retained gradient may refer back to that intermediate (call ``clear_grad``).

The helpers (``gradient``, ``hvp`` ...) own the graphs they build, so on large
arrays their backward pass also drops each intermediate's value once nothing
needs it (``release`` in ``_backward_pass``); ``Variable.backward`` never does.

Examples
--------
>>> import numpy as np
>>> from reverse import Variable
>>> x = Variable(np.array(2.0))
>>> y = x ** 4 - 2 * x ** 2
>>> y.backward(create_graph=True)
>>> x.grad
variable(24.)
>>> gx = x.grad
>>> x.clear_grad()
>>> gx.backward()
>>> x.grad
variable(44.)
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import mmap
import numbers
import sys
import threading
import types
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from _exactdiff import arrays as _arrays
from _exactdiff import messages as _msg
from _exactdiff import ufunc_methods as _ufunc_methods
from _exactdiff._common import IN_BACKWARD as _IN_BACKWARD
from _exactdiff._common import NUMPY1 as _NUMPY1
from _exactdiff._common import SCALAR_AXIS_FUNCTIONS as _SCALAR_AXIS
from _exactdiff._common import float_dtype_operands as _float_dtype_operands
from _exactdiff._common import read_dtype as _read_dtype
from _exactdiff._common import scalar_axis as _scalar_axis
from _exactdiff._common import scalar_axis_call as _scalar_axis_call
from _exactdiff.arrays import float_data as _float_data
from _exactdiff.arrays import is_foreign_array as _is_foreign
from _exactdiff.contractions import GUFUNCS as _GUFUNCS
from _exactdiff.contractions import gufunc as _gufunc
from _exactdiff.methods import ArrayMethods as _ArrayMethods

#: What a foreign library (pydata/sparse) raises for an operation it lacks
# AttributeError: pydata/sparse 0.17 (Python 3.10's) einsum reads .shape of a float operand
_FOREIGN_ERRORS = (TypeError, ValueError, RuntimeError, IndexError, NotImplementedError,
                   AttributeError)

__all__ = [
    "Config",
    "Function",
    "Parameter",
    "Variable",
    "as_array",
    "as_variable",
    "get_config",
    "no_grad",
    "test_mode",
    "using_config",
]

_ndarray = np.ndarray
_generic = np.generic
_np_sum = np.sum
_array = np.array
_isinstance = isinstance
_ref = weakref.ref
_getrefcount = sys.getrefcount


# ----------------------------------------------------------------------------
# Configuration: one immutable namespace per context.  Threads start with an
# empty context, so a thread sees the defaults even while another thread is
# inside ``no_grad()``.
# ----------------------------------------------------------------------------

_DEFAULTS = types.SimpleNamespace(enable_backprop=True, train=True)
_CONFIG: contextvars.ContextVar[types.SimpleNamespace] = contextvars.ContextVar(
    "reverse_config", default=_DEFAULTS
)
_get_config = _CONFIG.get
_NO_BACKPROP = types.SimpleNamespace(**{**vars(_DEFAULTS), "enable_backprop": False})

#: True while a backward pass runs with the zero-cotangent guard (see
#: ``reverse.rules._util._keep_zero`` and the end of ``_run_backward``).
GUARD_ZEROS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "reverse_guard_zeros", default=False
)
#: True while the audit of the guard's zeros runs (``reverse._audit``).
AUDIT_ZEROS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "reverse_audit_zeros", default=False
)
#: True while ``reverse._audit.split_recorded`` records a backward at constant
#: data: the guard keeps its zero values but passes their derivative through.
STRAIGHT_ZEROS: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "reverse_straight_zeros", default=False
)
#: Zeros the guard kept next to an inf or nan partial so far (a counter, as
#: ``GUARDED``): a guarded pass that changed it is audited (``reverse._audit``).
KEPT = [0]
#: The seed of the guarded pass running (``[seed]``): a zero of the seed itself is
#: structural, so the guard does not count it for the audit (a Jacobian row of
#: ``sqrt`` at 0 is not audited).
SEEDING: list = [None]
#: ``[y, target, reaches other leaves (None: not asked yet)]`` of the guarded pass
#: running (``reverse._audit.mirrored_graph`` asks).
PASSING: list = [None]


def get_config() -> types.SimpleNamespace:
    """Return the configuration of the current thread/context (read only).

    Returns
    -------
    types.SimpleNamespace
        ``enable_backprop`` (record graphs) and ``train`` (training mode, e.g.
        dropout active), plus any name set with :func:`using_config`.  Change
        them with :func:`using_config`, never by assigning to this object.

    Examples
    --------
    >>> get_config().enable_backprop
    True
    """
    return _CONFIG.get()


class _ConfigView:
    """Read-only view whose attributes are the current context's settings."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        return getattr(_CONFIG.get(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"reverse.Config is per thread/context and read only; use "
            f"using_config({name!r}, {value!r}) as a context manager instead"
        )

    def __repr__(self) -> str:
        return f"Config({vars(_CONFIG.get())})"


#: ``Config.enable_backprop`` and ``Config.train`` read the current context.
Config = _ConfigView()


@contextlib.contextmanager
def using_config(name: str, value: Any) -> Iterator[None]:
    """Set configuration ``name`` to ``value`` inside a ``with`` block.

    The setting is local to the current thread/context (a ``ContextVar``):
    other threads and asyncio tasks keep theirs.

    Parameters
    ----------
    name : str
        The setting: ``"enable_backprop"`` (record the graph) or ``"train"``
        (training mode: dropout active); other names are stored too, for
        code of your own to read through ``Config``.
    value : object
        Its value inside the block; the previous value comes back on exit,
        also when the block raises.

    Returns
    -------
    contextlib.AbstractContextManager
        Use it in a ``with`` statement; it yields None.

    Raises
    ------
    TypeError
        If ``name`` is not a str.

    Examples
    --------
    >>> with using_config("train", False):
    ...     Config.train
    False
    >>> Config.train
    True
    """
    if not _isinstance(name, str):
        raise TypeError(f"using_config: name must be a str, got {type(name).__name__}")
    new = types.SimpleNamespace(**vars(_CONFIG.get()))
    setattr(new, name, value)
    token = _CONFIG.set(new)
    try:
        yield
    finally:
        _CONFIG.reset(token)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager in which operations record no graph (inference).

    Returns
    -------
    contextlib.AbstractContextManager
        ``using_config("enable_backprop", False)``: inside the ``with`` block
        results have no creator, so nothing can be backpropagated through them
        and no memory is held for a backward pass.

    Examples
    --------
    >>> import numpy as np
    >>> with no_grad():
    ...     y = Variable(np.array(3.0)) * 2
    >>> y.creator is None
    True
    """
    return using_config("enable_backprop", False)


def test_mode() -> contextlib.AbstractContextManager[None]:
    """Context manager that sets ``Config.train`` to False (e.g. disables dropout).

    Returns
    -------
    contextlib.AbstractContextManager
        ``using_config("train", False)``; graphs are still recorded (combine
        with :func:`no_grad` for pure inference).

    Examples
    --------
    >>> with test_mode():
    ...     Config.train
    False
    """
    return using_config("train", False)


test_mode.__test__ = False  # DeZero's name; not a pytest test when files are passed by name


# ----------------------------------------------------------------------------
# Data validation
# ----------------------------------------------------------------------------

_ACCEPTED = (
    "accepted: floats, ints, bools, numpy scalars, real numeric numpy arrays, "
    "(nested, rectangular) lists/tuples of numbers, hyperdual.Dual/HyperDual"
)


def _is_dual(obj: Any) -> bool:
    # Checked by module name so that reverse never imports hyperdual eagerly
    # (hyperdual may be mid-edit, and it must never import reverse).
    return type(obj).__module__.startswith("hyperdual")


def _float_array(arr: np.ndarray, what: Any) -> np.ndarray:
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "iub":
        return arr.astype(np.float64)
    label = {"U": "strings (str)", "S": "bytes", "c": "complex numbers", "O": "Python objects",
             "M": "datetimes", "m": "timedeltas", "V": "structured records"}.get(kind, "")
    raise TypeError(
        f"reverse.Variable: cannot use {_describe(what)} (dtype {arr.dtype}: {label}) as data; "
        + _ACCEPTED
    )


def _describe(obj: Any) -> str:
    text = repr(obj)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(obj).__name__} {text}"


def as_array(data: Any) -> Any:
    """Convert user data to what a ``Variable`` holds: a float ndarray (or a Dual).

    ints and bools become float64, float32 stays float32, numpy scalars become
    0-d arrays; ``hyperdual`` numbers are kept unconverted.

    Parameters
    ----------
    data : array_like or hyperdual.Dual
        A number, a numpy scalar or array, a rectangular (nested) list or
        tuple of numbers, a registered foreign array (dask, CuPy, sparse),
        or a ``hyperdual`` number (forward-over-reverse).

    Returns
    -------
    numpy.ndarray or hyperdual.Dual or foreign array
        A float ndarray (0-d for a scalar); Duals and foreign arrays are kept
        in their own type.

    Raises
    ------
    TypeError
        For strings, bytes, complex numbers, ragged lists and other objects.

    Examples
    --------
    >>> as_array(3)
    array(3.)
    >>> as_array([1, 2]).dtype
    dtype('float64')
    """
    t = type(data)
    if t is _ndarray:
        return _float_array(data, data)
    if t is float:
        return _array(data)
    if _isinstance(data, (str, bytes, bytearray)):
        raise TypeError(
            f"reverse.Variable: got {_describe(data)}; strings are not numbers, "
            "convert them with float() first. " + _ACCEPTED
        )
    if _isinstance(data, Variable):
        raise TypeError(
            "reverse.Variable: got a Variable; pass its .data to wrap the array again, "
            "or use the Variable itself"
        )
    if _is_dual(data):
        return data
    if t is int:
        try:  # an int beyond int64 would become an object array
            return _array(float(data))
        except OverflowError:
            raise ValueError(
                f"reverse.Variable: the int {_describe(data)} is too large for a float64 "
                "(|x| > 1.8e308)") from None
    if _isinstance(data, np.ma.MaskedArray):
        raise TypeError(
            "reverse.Variable: got a numpy masked array; its mask would be ignored. Pass "
            "the data with the masked entries filled (x.filled(value)) or removed "
            "(x.compressed()), or pass np.asarray(x) and apply the mask inside f "
            "(np.where(mask, ...))"
        )
    if _isinstance(data, (bool, int, float, np.generic, _ndarray)):
        return _float_array(np.asarray(data), data)
    if _isinstance(data, numbers.Real):
        return _array(float(data))
    if _is_foreign(data):  # dask, CuPy, sparse: kept in their library (and lazy)
        return _float_data(data)
    if _isinstance(data, (list, tuple)) or hasattr(data, "__array__"):
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as exc:
            raise TypeError(
                f"reverse.Variable: cannot convert {_describe(data)} to a float array "
                f"({exc}); " + _ACCEPTED + ". " + _msg.SEVERAL_ARRAYS
            ) from None
        return _float_array(arr, data)
    several = ". " + _msg.SEVERAL_ARRAYS if isinstance(data, dict) else ""
    raise TypeError(f"reverse.Variable: cannot use {_describe(data)} as data; " + _ACCEPTED
                    + several)


def _const(obj: Any) -> Any:
    """Validate a non-Variable operand; return it (converted) or None if unusable.

    Constants stay plain numbers/arrays inside the graph: wrapping every Python
    constant in a Variable would cost a node and a useless gradient.
    """
    t = type(obj)
    if t is float or t is int or t is _ndarray and obj.dtype.kind in "fiub":
        return obj
    if t is bool or _isinstance(obj, np.generic) and obj.dtype.kind in "fiub":
        return obj
    if _isinstance(obj, (list, tuple)):
        try:
            return as_array(obj)
        except TypeError:
            return None
    if _is_dual(obj) or _is_foreign(obj):
        return obj
    return None


def _seed_dtype(data: Any) -> Any:
    dt = getattr(data, "dtype", None)
    if _isinstance(dt, np.dtype) and dt.kind == "f":
        return dt
    return np.float64


def _unit_seed(data: Any) -> np.ndarray:
    """Ones shaped like ``data``, in its float dtype: the default seed of a backward pass."""
    dt = _seed_dtype(data)
    shape = data.shape
    if type(data) is not _ndarray:
        if _is_foreign(data):
            return _arrays.ones_like(data, dt)
        if _is_dual(data):  # forward-over-reverse: a lazy real part gets a lazy seed
            real = _value(data)
            if _is_foreign(real):
                return _arrays.ones_like(real, _seed_dtype(real))
    # a scalar output is the usual case, and np.ones costs ~1 us more than this
    return np.array(1.0, dtype=dt) if shape == () else np.ones(shape, dtype=dt)


def _value(obj: Any) -> Any:
    """Plain float values of data, a constant or a Variable (strips Dual parts).

    Used for masks (max, relu, ties) and for stabilising shifts, which are
    constants of the differentiation.
    """
    if _isinstance(obj, Variable):
        obj = obj.data
    if _isinstance(obj, (list, tuple)):
        return np.asarray(obj)
    while _is_dual(obj):  # nested Duals: the real part may itself be a Dual
        obj = obj.real
    return obj


# ----------------------------------------------------------------------------
# Variable
# ----------------------------------------------------------------------------


class Variable(_ArrayMethods):
    """A node of the computation graph holding an array and its gradient.

    Parameters
    ----------
    data : array_like or hyperdual.Dual or None
        Converted to a float ndarray (ints/bools -> float64, float32 kept).
        ``hyperdual`` numbers are stored unconverted (forward-over-reverse);
        None is allowed as a placeholder (e.g. lazily initialised weights).
    name : str, optional
        Shown in ``repr`` and in graph exports.

    Notes
    -----
    numpy functions and operators applied to a Variable return Variables and
    record the graph.  ``np.asarray(variable)`` raises ``TypeError`` because it
    would silently drop the graph; use ``variable.data``.

    Examples
    --------
    >>> import numpy as np
    >>> x = Variable([1.0, 2.0], name="x")
    >>> y = np.sum(np.sin(x) * x)
    >>> y.backward()
    >>> np.allclose(x.grad.data, np.sin(x.data) + x.data * np.cos(x.data))
    True
    """

    __slots__ = ("data", "name", "grad", "creator", "generation", "_alias", "__weakref__")
    # Make ndarray operators defer to Variable (ndarray + Variable -> Variable).
    __array_priority__ = 1000.0
    # Identity hashing, although == is elementwise (as in PyTorch).
    __hash__ = object.__hash__

    def __init__(self, data: Any, name: str | None = None) -> None:
        if data is not None:
            data = as_array(data)
        if name is not None and not _isinstance(name, str):
            raise TypeError(f"Variable name must be a str or None, got {type(name).__name__}")
        self.data = data
        self.name = name
        self.grad: Variable | None = None
        self.creator: Function | None = None
        self.generation = 0
        self._alias: Variable | None = None

    # -- array-like properties -------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the data."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.data.shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.data.shape)

    @property
    def dtype(self) -> Any:
        """dtype of the data (for Dual data, whatever the Dual reports)."""
        return getattr(self.data, "dtype", None)

    @property
    def T(self) -> Variable:
        """Transpose (reversed axes), recorded in the graph."""
        return _OPS.transpose(self)

    def __len__(self) -> int:
        return len(self.data)

    def __bool__(self) -> bool:
        # numpy's truth rules on the values (ValueError if ambiguous), rather
        # than Python's fallback to len(), which would call [0.0] true.
        return bool(self.data)

    def __repr__(self) -> str:
        if self.data is None:
            return "variable(None)"
        if _isinstance(self.data, _ndarray):
            # the prefix aligns the second and later rows under the first (as the
            # book's DeZero prints them: 9 spaces for "variable(", 1 for the bracket)
            body = np.array2string(self.data, prefix="variable(", separator=" ")
        else:
            body = repr(self.data)
        if self.name is not None:
            return f"variable({body}, name={self.name!r})"
        return f"variable({body})"

    # -- graph operations ------------------------------------------------------
    def __reduce__(self) -> Any:
        """Pickle a leaf as its data and name; a Variable with a graph is refused."""
        if self.creator is not None:
            raise TypeError(
                f"reverse.{type(self).__name__}: cannot pickle a Variable that has a graph "
                f"(made by {self.creator.name}); pickle its .data, or Variable(v.data)"
            )
        return (type(self), (self.data, self.name))

    def __copy__(self) -> Variable:
        """``copy.copy``: a differentiable identity (as in JAX), never a detached leaf."""
        return _OPS.copy(self, False)

    def __deepcopy__(self, memo: dict) -> Variable:
        """``copy.deepcopy``: a copy of the data that stays in the graph.

        The result is ``np.copy(x)``: its own data array, the same derivatives.
        A ``Parameter`` (a model's weight) becomes a new, independent Parameter.
        """
        out = _OPS.copy(self, True)
        memo[id(self)] = out
        return out

    def set_creator(self, func: Function) -> None:
        """Record ``func`` as the creator (DeZero compatibility).

        The engine sets creators itself when a ``Function`` is called; this is
        for code written the book's way.

        Parameters
        ----------
        func : Function
            The function whose output this Variable is; its ``generation``
            plus one becomes this Variable's generation.

        Examples
        --------
        >>> x = Variable(1.0)
        >>> y = x * 2
        >>> z = Variable(2.0)
        >>> z.set_creator(y.creator)
        >>> z.generation == y.generation
        True
        """
        self.creator = func
        self.generation = func.generation + 1

    def unchain(self) -> None:
        """Forget the creator, turning this Variable into a leaf.

        Examples
        --------
        >>> x = Variable(3.0)
        >>> y = x * x
        >>> y.unchain()
        >>> y.creator is None
        True
        >>> y.backward()
        >>> x.grad is None
        True
        """
        self.creator = None

    def unchain_backward(self) -> None:
        """Cut the whole graph behind this Variable (the book's truncated backprop).

        Every Variable the graph reaches becomes a leaf, so the functions and the
        intermediate values they hold can be freed; this Variable keeps its data.
        A later ``backward`` from a value computed from this one stops here.

        Examples
        --------
        >>> x = Variable(3.0)
        >>> h = x * x
        >>> y = h * 2.0
        >>> y.unchain_backward()
        >>> y.creator is None and h.creator is None
        True
        >>> (y * 5.0).backward()
        >>> x.grad is None
        True
        """
        stack = [self.creator] if self.creator is not None else []
        self.creator = None
        while stack:
            f = stack.pop()
            for x in f._inputs:
                if _isinstance(x, Variable) and x.creator is not None:
                    stack.append(x.creator)
                    x.creator = None

    def clear_grad(self) -> None:
        """Reset ``grad`` to None (gradients accumulate across backward calls).

        ``cleargrad`` is the same method under the book's name.

        Examples
        --------
        >>> x = Variable(3.0)
        >>> (x * x).backward()
        >>> (x * x).backward()
        >>> x.grad
        variable(12.)
        >>> x.clear_grad()
        >>> (x * x).backward()
        >>> x.grad
        variable(6.)
        """
        self.grad = None

    cleargrad = clear_grad

    def reshape(self, *shape: Any, order: str = "C") -> Variable:
        """Reshape, accepting ``reshape(2, 3)`` or ``reshape((2, 3))``.

        Parameters
        ----------
        *shape : int or tuple of int
            The new shape, as separate ints or one tuple; one entry may be -1.
        order : {"C", "F"}
            The index order in which the elements are read and placed, as numpy's.

        Returns
        -------
        Variable
            The same values in the new shape, recorded in the graph.

        Examples
        --------
        >>> x = Variable(np.arange(6.0))
        >>> x.reshape(2, 3).shape
        (2, 3)
        >>> x.reshape((3, -1)).shape
        (3, 2)
        """
        if len(shape) == 1 and _isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        if order != "C":
            return np.reshape(self, shape, order=order)
        return _OPS.reshape(self, shape)

    def transpose(self, *axes: Any) -> Variable:
        """Permute axes, accepting ``transpose(1, 0)`` or ``transpose((1, 0))``.

        Parameters
        ----------
        *axes : int or tuple of int or None
            The permutation; none (or None) reverses the axes.

        Returns
        -------
        Variable
            The transposed values, recorded in the graph.

        Examples
        --------
        >>> x = Variable(np.zeros((2, 3, 4)))
        >>> x.transpose().shape
        (4, 3, 2)
        >>> x.transpose(1, 0, 2).shape
        (3, 2, 4)
        """
        if not axes:
            axes = None
        elif len(axes) == 1 and (_isinstance(axes[0], (tuple, list)) or axes[0] is None):
            axes = axes[0]
        return _OPS.transpose(self, axes)

    def sum(self, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False, **kw: Any) -> Variable:
        """Sum over ``axis`` (all axes by default).

        Parameters
        ----------
        axis : int or tuple of int, optional
            Axes to sum over; None sums every element.
        dtype, out, **kw
            As the numpy function's (``np.sum``): a floating ``dtype`` sums the
            input cast to it; other dtypes and ``out`` raise ``TypeError``.
        keepdims : bool
            Keep the summed axes with length one.

        Returns
        -------
        Variable
            The sum, recorded in the graph.

        Examples
        --------
        >>> x = Variable([[1.0, 2.0], [3.0, 4.0]])
        >>> x.sum(axis=0)
        variable([4. 6.])
        >>> x.sum(keepdims=True).shape
        (1, 1)
        """
        if dtype is None and out is None and not kw:
            return _OPS.sum(self, _scalar_axis(axis, self.ndim), keepdims)
        return np.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)

    def backward(self, retain_grad: bool = False, create_graph: bool = False) -> None:
        """Backpropagate from this Variable, accumulating into leaves' ``grad``.

        Parameters
        ----------
        retain_grad : bool
            Keep the gradients of intermediate Variables too.
        create_graph : bool
            Build the backward pass as a graph of Functions so the gradients can
            be differentiated again (any order).

        Notes
        -----
        The seed is ``self.grad`` if it is set, else ones of ``self.shape``.
        Leaves that receive a gradient always get an array (zeros where the
        dependence is structurally zero), never None.

        Examples
        --------
        d/dx (x**3) = 3 x**2 = 12 at x = 2, and with ``create_graph`` the
        gradient is differentiated again: d/dx (3 x**2) = 6 x = 12.

        >>> x = Variable(2.0)
        >>> y = x ** 3
        >>> y.backward(create_graph=True)
        >>> x.grad
        variable(12.)
        >>> gx = x.grad
        >>> x.clear_grad()
        >>> gx.backward()
        >>> x.grad
        variable(12.)
        """
        _backward(self, retain_grad, create_graph)

    # -- more ndarray methods: each the numpy function of the same name (same
    # rules, recorded in the graph).  reverse.functions provides them; imported
    # on call because reverse.functions imports this module.
    def max(self, axis: Any = None, out: Any = None, keepdims: bool = False,
            **kw: Any) -> Variable:
        """Maximum over ``axis`` (see :func:`reverse.functions.max`).

        Parameters
        ----------
        axis : int or tuple of int, optional
            Axes to reduce; None reduces every element.
        out, **kw
            As ``np.max``'s (``initial=``, ``where=``); ``out`` raises ``TypeError``.
        keepdims : bool
            Keep the reduced axes with length one.

        Returns
        -------
        Variable
            The maximum; tied maxima share the gradient equally.

        Examples
        --------
        >>> x = Variable([1.0, 3.0, 3.0])
        >>> m = x.max()
        >>> m.backward()
        >>> m, x.grad
        (variable(3.), variable([0.  0.5 0.5]))
        """
        from reverse import functions as F

        if out is not None or kw:  # initial=, where=: np.max's rule (the same as hyperdual's)
            return np.max(self, axis=axis, out=out, keepdims=keepdims, **kw)
        return F.max(self, _scalar_axis(axis, self.ndim), keepdims)

    def min(self, axis: Any = None, out: Any = None, keepdims: bool = False,
            **kw: Any) -> Variable:
        """Minimum over ``axis`` (see :func:`reverse.functions.min`).

        Parameters
        ----------
        axis : int or tuple of int, optional
            Axes to reduce; None reduces every element.
        out, **kw
            As ``np.min``'s (``initial=``, ``where=``); ``out`` raises ``TypeError``.
        keepdims : bool
            Keep the reduced axes with length one.

        Returns
        -------
        Variable
            The minimum; tied minima share the gradient equally.

        Examples
        --------
        >>> Variable([[1.0, 5.0], [0.0, 2.0]]).min(axis=1)
        variable([1. 0.])
        """
        from reverse import functions as F

        if out is not None or kw:  # initial=, where=: np.min's rule (the same as hyperdual's)
            return np.min(self, axis=axis, out=out, keepdims=keepdims, **kw)
        return F.min(self, _scalar_axis(axis, self.ndim), keepdims)

    def mean(self, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, **kw: Any) -> Variable:
        """Arithmetic mean over ``axis`` (see :func:`reverse.functions.mean`).

        Parameters
        ----------
        axis : int or tuple of int, optional
            Axes to average over; None averages every element.
        dtype, out, **kw
            As the numpy function's (``np.mean``): a floating ``dtype`` averages the
            input cast to it; other dtypes and ``out`` raise ``TypeError``.
        keepdims : bool
            Keep the reduced axes with length one.

        Returns
        -------
        Variable
            The mean, recorded in the graph.

        Examples
        --------
        >>> x = Variable([1.0, 2.0, 6.0])
        >>> m = x.mean()
        >>> m.backward()
        >>> m, x.grad
        (variable(3.), variable([0.33333333 0.33333333 0.33333333]))
        """
        if dtype is not None or out is not None or kw:
            return np.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)
        from reverse import functions as F

        return F.mean(self, axis, keepdims)

    def prod(self, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, **kw: Any) -> Variable:
        """Product of the elements over ``axis`` (see :func:`reverse.functions.prod`).

        Parameters
        ----------
        axis : int or tuple of int, optional
            Axes to multiply over; None multiplies every element.
        dtype, out, **kw
            As the numpy function's (``np.prod``): a floating ``dtype`` multiplies the
            input cast to it; other dtypes and ``out`` raise ``TypeError``.
        keepdims : bool
            Keep the reduced axes with length one.

        Returns
        -------
        Variable
            The product, recorded in the graph.

        Examples
        --------
        d/dx_i (x_1 x_2 x_3) is the product of the other two:

        >>> x = Variable([2.0, 3.0, 4.0])
        >>> p = x.prod()
        >>> p.backward()
        >>> p, x.grad
        (variable(24.), variable([12.  8.  6.]))
        """
        if dtype is not None or out is not None or kw:
            return np.prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kw)
        from reverse import functions as F

        return F.prod(self, _scalar_axis(axis, self.ndim), keepdims)

    def squeeze(self, axis: Any = None) -> Variable:
        """Remove axes of length one (see :func:`reverse.functions.squeeze`).

        Parameters
        ----------
        axis : int or tuple of int, optional
            The axes to remove (each must have length one); None removes all.

        Returns
        -------
        Variable
            The same values without those axes.

        Examples
        --------
        >>> Variable(np.zeros((1, 3, 1))).squeeze().shape
        (3,)
        >>> Variable(np.zeros((1, 3, 1))).squeeze(axis=0).shape
        (3, 1)
        """
        from reverse import functions as F

        return F.squeeze(self, _scalar_axis(axis, self.ndim))

    def ravel(self, order: str = "C") -> Variable:
        """The elements as a 1-d Variable (``np.ravel``).

        Parameters
        ----------
        order : {"C", "F"}
            The index order, as numpy's.

        Returns
        -------
        Variable
            Shape ``(self.size,)``, recorded in the graph.

        Examples
        --------
        >>> Variable([[1.0, 2.0], [3.0, 4.0]]).ravel()
        variable([1. 2. 3. 4.])
        """
        return _OPS.reshape(self, (-1,)) if order == "C" else np.ravel(self, order=order)

    def flatten(self, order: str = "C") -> Variable:
        """The elements as a 1-d Variable: the same as :meth:`ravel`.

        Unlike numpy's ``flatten`` the data may be a view of this Variable's
        (use :meth:`copy` for a separate array).

        Parameters
        ----------
        order : {"C", "F"}
            The index order, as numpy's.

        Returns
        -------
        Variable
            Shape ``(self.size,)``, recorded in the graph.

        Examples
        --------
        >>> Variable(np.ones((2, 2))).flatten().shape
        (4,)
        """
        return _OPS.reshape(self, (-1,)) if order == "C" else np.ravel(self, order=order)

    def copy(self) -> Variable:
        """A copy of the data that stays in the graph (derivative: identity).

        Returns
        -------
        Variable
            New data array, same values; gradients flow through to ``self``.

        Examples
        --------
        >>> x = Variable([1.0, 2.0])
        >>> y = x.copy()
        >>> y.data is x.data
        False
        >>> (y * y).sum().backward()
        >>> x.grad
        variable([2. 4.])
        """
        return _OPS.copy(self, True)

    def var(self, *args: Any, **kwargs: Any) -> Variable:
        """Variance, as ``np.var(self, *args, **kwargs)``.

        Parameters
        ----------
        *args, **kwargs
            ``np.var``'s arguments (``axis``, ``ddof``, ``keepdims``).

        Returns
        -------
        Variable
            The variance, recorded in the graph.

        Examples
        --------
        d/dx_i var(x) = 2 (x_i - mean) / n:

        >>> x = Variable([1.0, 2.0, 6.0])
        >>> v = x.var()
        >>> v.backward()
        >>> v, x.grad
        (variable(4.66666667), variable([-1.33333333 -0.66666667  2.        ]))
        """
        return np.var(self, *args, **kwargs)

    def std(self, *args: Any, **kwargs: Any) -> Variable:
        """Standard deviation, as ``np.std(self, *args, **kwargs)``.

        Parameters
        ----------
        *args, **kwargs
            ``np.std``'s arguments (``axis``, ``ddof``, ``keepdims``).

        Returns
        -------
        Variable
            The standard deviation, recorded in the graph.

        Examples
        --------
        d/dx_i std(x) = (x_i - mean) / (n std):

        >>> x = Variable([1.0, 3.0])
        >>> s = x.std()
        >>> s.backward()
        >>> s, x.grad
        (variable(1.), variable([-0.5  0.5]))
        """
        return np.std(self, *args, **kwargs)

    def cumsum(self, axis: Any = None, dtype: Any = None, out: Any = None) -> Variable:
        """Cumulative sum along ``axis`` (flattened when None), as ``np.cumsum``.

        Parameters
        ----------
        axis : int, optional
            The axis to accumulate along; None flattens first.
        dtype, out
            As ``np.cumsum``'s: a floating ``dtype`` accumulates the input cast to it;
            other dtypes and ``out`` raise ``TypeError``.

        Returns
        -------
        Variable
            The running sums, recorded in the graph.

        Examples
        --------
        Element i appears in the sums i, i+1, ..., so its gradient is n - i:

        >>> x = Variable([1.0, 2.0, 3.0])
        >>> c = x.cumsum()
        >>> c.sum().backward()
        >>> c, x.grad
        (variable([1. 3. 6.]), variable([3. 2. 1.]))
        """
        return np.cumsum(self, axis=axis, dtype=dtype, out=out)

    def clip(self, min: Any = None, max: Any = None) -> Variable:  # noqa: A002
        """Limit the values to ``[min, max]`` (see :func:`reverse.functions.clip`).

        Parameters
        ----------
        min, max : float or array_like or Variable, optional
            The bounds; either may be None (no bound on that side).

        Returns
        -------
        Variable
            The clipped values; the gradient flows where the value is inside.

        Examples
        --------
        >>> x = Variable([-2.0, 0.5, 3.0])
        >>> y = x.clip(-1.0, 1.0)
        >>> y.sum().backward()
        >>> y, x.grad
        (variable([-1.   0.5  1. ]), variable([0. 1. 0.]))
        """
        from reverse import functions as F

        return F.clip(self, min, max)

    def swapaxes(self, axis1: int, axis2: int) -> Variable:
        """Interchange two axes, as ``np.swapaxes``.

        Parameters
        ----------
        axis1, axis2 : int
            The axes to swap.

        Returns
        -------
        Variable
            The values with the two axes swapped, recorded in the graph.

        Examples
        --------
        >>> Variable(np.zeros((2, 3, 4))).swapaxes(0, 2).shape
        (4, 3, 2)
        """
        return np.swapaxes(self, axis1, axis2)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Variable:
        """The diagonal of the ``(axis1, axis2)`` planes, as ``np.diagonal``.

        Parameters
        ----------
        offset : int
            Diagonal above (> 0) or below (< 0) the main one.
        axis1, axis2 : int
            The axes of the 2-d planes.

        Returns
        -------
        Variable
            The diagonal entries, recorded in the graph.

        Examples
        --------
        >>> a = Variable(np.arange(9.0).reshape(3, 3))
        >>> a.diagonal()
        variable([0. 4. 8.])
        >>> a.diagonal(offset=1)
        variable([1. 5.])
        """
        return np.diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
              out: Any = None) -> Variable:
        """Sum of the diagonal, as ``np.trace``.

        Parameters
        ----------
        offset : int
            Diagonal above (> 0) or below (< 0) the main one.
        axis1, axis2 : int
            The axes of the 2-d planes.
        dtype, out
            As ``np.trace``'s: a floating ``dtype`` sums the input cast to it; other
            dtypes and ``out`` raise ``TypeError``.

        Returns
        -------
        Variable
            The trace, recorded in the graph; its gradient is the identity.

        Examples
        --------
        >>> a = Variable(np.arange(4.0).reshape(2, 2))
        >>> t = a.trace()
        >>> t.backward()
        >>> t, a.grad
        (variable(3.), variable([[1. 0.]
                                 [0. 1.]]))
        """
        return np.trace(self, offset, axis1, axis2, dtype=dtype, out=out)

    def dot(self, other: Any) -> Variable:
        """``np.dot(self, other)`` for operands of at most 2 dimensions.

        Parameters
        ----------
        other : array_like or Variable
            The right operand.

        Returns
        -------
        Variable
            The product, recorded in the graph.

        Examples
        --------
        >>> x = Variable([1.0, 2.0])
        >>> y = x.dot([3.0, 4.0])
        >>> y.backward()
        >>> y, x.grad
        (variable(11.), variable([3. 4.]))
        """
        from reverse import functions as F

        return F.dot(self, other)

    def astype(self, dtype: Any, copy: bool = True) -> Variable:
        """Cast to the float ``dtype``, differentiably.

        Parameters
        ----------
        dtype : dtype-like
            A float dtype (``np.float32``, ``"float64"``).
        copy : bool
            Accepted for numpy compatibility; the result is always a new node.

        Returns
        -------
        Variable
            The values in ``dtype``; the gradient comes back in ``self``'s dtype.

        Raises
        ------
        TypeError
            For an integer, bool or complex dtype (that would drop the gradient).

        Examples
        --------
        >>> Variable([1.0, 2.0]).astype(np.float32).dtype
        dtype('float32')
        """
        from reverse import functions as F

        dt = _read_dtype(dtype)
        if dt.kind != "f":
            raise TypeError(_msg.lost_by_astype("reverse", "Variable", dt))
        return F.AsType(dt)(self)

    def item(self, *args: Any) -> Variable:
        """One element as a 0-d Variable (it stays in the graph).

        Parameters
        ----------
        *args : int or tuple of int
            None for a size-1 Variable, a flat index, or one index per axis.

        Returns
        -------
        Variable
            The 0-d element (use ``float(v.item().data)`` for a Python float).

        Examples
        --------
        >>> x = Variable([[1.0, 2.0], [3.0, 4.0]])
        >>> x.item(3), x.item(0, 1)
        (variable(4.), variable(2.))
        """
        if not args:
            if self.size != 1:
                raise ValueError("can only convert an array of size 1 to a Python scalar")
            return _OPS.reshape(self, ())
        if len(args) == 1 and not _isinstance(args[0], tuple):
            return _OPS.reshape(self, (-1,))[args[0]]
        return self[args[0] if len(args) == 1 else args]

    @staticmethod
    def __exactdiff_helpers__() -> Any:
        """This engine's helpers: a forward-mode helper that meets a Variable (as its
        x, or as f's output) hands the call over to the helper of the same name."""
        from . import helpers

        return helpers

    # -- numpy protocols ---------------------------------------------------------
    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(
            _msg.lost_by_array("reverse", type(self).__name__)
            + " Library functions that call np.asarray on their input (scipy.linalg, "
            "scipy.special.logsumexp/softmax/log_softmax/polygamma, scipy.stats ...) cannot see "
            "derivatives: reverse.linalg has stand-ins with scipy.linalg's names and signatures "
            "(solve, inv, det, cholesky, eigh, svd, lstsq, pinv, expm, logm, sqrtm, "
            "solve_sylvester, cho_solve, lu_solve ...); "
            "reverse.stats has scipy.stats' norm, t, gamma, beta, poisson, "
            "multivariate_normal ...; reverse.functions has logsumexp, softmax, log_softmax, "
            "polygamma"
        )

    # float(v), and numpy's a[i] = v (which chains this error as its __cause__)
    def __float__(self) -> float:
        raise TypeError(_msg.lost_by_conversion("reverse", type(self).__name__, "float"))

    def __int__(self) -> int:
        raise TypeError(_msg.lost_by_conversion("reverse", type(self).__name__, "int"))

    def __round__(self, ndigits: Any = None) -> Any:
        # round(x) / round(x, n) as np.round (derivative 0), as JAX and PyTorch do
        return np.round(self, 0 if ndigits is None else ndigits)

    def __complex__(self) -> complex:
        raise TypeError(_msg.lost_by_conversion("reverse", type(self).__name__, "complex"))

    def __setitem__(self, index: Any, value: Any) -> None:
        raise TypeError(_msg.no_item_assignment("reverse", type(self).__name__))

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if len(inputs) == 1 and method == "__call__" and not kwargs:
            # np.sin(x): straight to the Function class, skipping the generic
            # validation below (about 0.5 us of a scalar node).
            cls = UNARY_UFUNCS.get(ufunc)
            if cls is not None:
                return cls()(self)
        return _dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        try:
            if func is _np_sum and not kwargs and len(args) == 1 and args[0] is self:
                # np.sum(x), the usual reduction: straight to its Function (the
                # registered implementation adds where=/initial= and keyword checks)
                return _OPS.sum(self, None, False)
            return _dispatch_function(func, types, args, kwargs)
        except _FOREIGN_ERRORS as exc:  # a library's own error on foreign data
            err = _arrays.foreign_error(exc, _arrays.function_name(func))
            if err is None:
                raise
            raise err from exc

    # Arithmetic operators are installed by reverse.rules.operators (one table).


class Parameter(Variable):
    """A Variable marked as a trainable parameter (for layers and optimizers).

    A ``Layer`` tracks the Parameters set as its attributes; an optimizer set up
    with the layer updates their ``data`` in place.

    Parameters
    ----------
    data : array_like or None
        As for :class:`Variable`; None for a weight initialised later.
    name : str, optional
        Shown in ``repr`` and used in graph exports.

    Examples
    --------
    >>> import numpy as np
    >>> p = Parameter(np.zeros(3), name="b")
    >>> isinstance(p, Variable)
    True
    """

    __slots__ = ()

    def __copy__(self) -> Parameter:
        """A new Parameter sharing the data (copying a model copies its weights)."""
        return Parameter(self.data, self.name)

    def __deepcopy__(self, memo: dict) -> Parameter:
        """A new, independent Parameter with a copy of the data (and no gradient)."""
        out = Parameter(None if self.data is None else np.copy(self.data), self.name)
        memo[id(self)] = out
        return out


class _LeafAlias(Variable):
    """Stand-in for a leaf inside graphs (see the module docstring).

    It shares the leaf's data and holds the leaf by weakref; gradients reaching
    it are credited to the leaf, so ``leaf.grad`` never keeps ``leaf`` alive
    through a reference cycle.
    """

    __slots__ = ("target",)


def _alias(leaf: Variable) -> Variable:
    if type(leaf) is _LeafAlias:
        return leaf
    a = leaf._alias
    # A new alias when the leaf's data was rebound (``p.data = p.data - lr * g``)
    # so that graphs recorded earlier keep the values they were built with.
    if a is None or a.data is not leaf.data:
        a = _new(_LeafAlias)
        a.data = leaf.data
        a.name = leaf.name
        a.grad = None
        a.creator = None
        a.generation = 0
        a._alias = None
        a.target = _ref(leaf)
        leaf._alias = a
    return a


def resolve(v: Any) -> Any:
    """The Variable a graph node stands for (a leaf alias resolves to its leaf).

    Examples
    --------
    >>> x = Variable(1.0)
    >>> y = x * 2
    >>> y.creator.inputs[0] is x
    True
    """
    if type(v) is _LeafAlias:
        leaf = v.target()
        return v if leaf is None else leaf
    return v


_new = object.__new__


def _wrap(data: Any) -> Variable:
    """Fast internal constructor: no validation (data already checked)."""
    v = _new(Variable)
    if type(data) is not _ndarray and _isinstance(data, np.generic):
        # numpy returns np.float64 from 0-d operations; Variables hold 0-d arrays.
        data = _array(data)
    v.data = data
    v.name = None
    v.grad = None
    v.creator = None
    v.generation = 0
    v._alias = None
    return v


def as_variable(obj: Any) -> Variable:
    """Return ``obj`` if it is a Variable, else ``Variable(obj)``.

    Parameters
    ----------
    obj : Variable or array_like
        A Variable (returned as it is) or data for a new leaf Variable.

    Returns
    -------
    Variable
        ``obj`` itself, or a new leaf holding ``as_array(obj)``.

    Examples
    --------
    >>> as_variable(2.0)
    variable(2.)
    """
    if _isinstance(obj, Variable):
        return obj
    return Variable(obj)


# ----------------------------------------------------------------------------
# Function
# ----------------------------------------------------------------------------


class Function:
    """Base class of the graph's operations (one output each).

    Subclasses implement ``forward(*xs)`` on raw data and
    ``backward(gy, y, *xs)`` returning the gradient for each input (a single
    value for one input, else a tuple; None for inputs that are constants).
    ``backward`` must use only numpy functions/operators and the polymorphic
    helpers of :mod:`reverse.utils`, so that it computes numbers on raw data and
    builds a graph on Variables.  ``self.inputs`` holds the Variables and
    constants the function was called with.

    The book's protocol ("Deep Learning from Scratch 3", DeZero) works too:
    ``backward(self, gy)`` alone, reading ``self.inputs`` and
    ``self.outputs[0]()`` (the output, held by weakref).  There ``gy``, the
    inputs and the output are always Variables, and the returned gradients
    are Variables (or arrays): write the formula with numpy functions or your
    own Functions.  The signature is detected once per class, when it is
    defined; such a backward is run with backprop recording switched on only
    under ``create_graph=True``, so first and higher orders, every helper,
    forward-over-reverse (Dual data) and nesting work alike.  The engine's
    own signature ``backward(gy, y, *xs)`` skips the Variable wrapping on the
    fast path.  Only single-output functions are supported: a ``forward``
    returning a tuple raises ``TypeError``.

    Examples
    --------
    >>> import numpy as np
    >>> class Cube(Function):
    ...     def forward(self, x):
    ...         return x ** 3
    ...     def backward(self, gy, y, x):
    ...         return gy * 3 * x ** 2
    >>> x = Variable(2.0)
    >>> y = Cube()(x)
    >>> y.backward()
    >>> x.grad
    variable(12.)

    The book's way, with a third derivative by repeated ``create_graph``:

    >>> class Exp(Function):
    ...     def forward(self, x):
    ...         return np.exp(x)
    ...     def backward(self, gy):
    ...         y = self.outputs[0]()
    ...         return gy * y
    >>> x = Variable(0.0)
    >>> y = Exp()(x * 2)
    >>> y.backward(create_graph=True)
    >>> for _ in range(2):
    ...     gx = x.grad
    ...     x.cleargrad()
    ...     gx.backward(create_graph=True)
    >>> x.grad
    variable(8.)
    """

    __slots__ = ("_inputs", "output", "generation", "__weakref__")
    #: numpy 1.x: whether the output is float64 whatever the inputs (np.float_power),
    #: so that a 0-d result is not narrowed to float32 inputs' dtype
    _float64_result = False
    #: What ``backward`` reads of the node's values, for the sweep of a helper's
    #: large trace (``_sweep_call``): of the inputs, ``"all"`` (the safe default),
    #: ``"none"`` (only their shapes and dtypes) or ``"other"`` (a product: an
    #: input's value only when the other input is a Variable); of the output,
    #: ``_value_output``.
    _value_inputs = "all"
    _value_output = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        raw = cls.__dict__.get("backward")
        if raw is not None and _is_book_backward(raw):
            book = raw

            def backward(self: Function, gy: Any, *rest: Any) -> Any:
                if not rest:  # called the book's way, by the user
                    return book(self, gy)
                return _run_book_backward(self, book, gy, rest[0])

            backward.__doc__ = getattr(raw, "__doc__", None)
            backward.__wrapped__ = raw  # type: ignore[attr-defined]
            cls.backward = backward  # type: ignore[method-assign]

    def __call__(self, *inputs: Any) -> Variable:
        # This is the per-node hot path (a 0-d chain node costs ~2 us here):
        # attributes are set directly instead of through Variable.__init__
        # (which validates), and one-input calls skip the argument list.
        leaf = False
        if len(inputs) == 1:
            x = inputs[0]
            if _isinstance(x, Variable):
                gen = x.generation  # 0 for a leaf
                leaf = x.creator is None
                y = self.forward(x.data)
            else:
                gen = 0
                y = self.forward(x)
        elif len(inputs) == 2:
            # Binary operators are the other half of all nodes: no list either.
            a, b = inputs
            if _isinstance(a, Variable):
                gen = a.generation
                leaf = a.creator is None
                a = a.data
            else:
                gen = 0
            if _isinstance(b, Variable):
                if b.generation > gen:
                    gen = b.generation
                leaf = leaf or b.creator is None
                b = b.data
            y = self.forward(a, b)
        else:
            xs = []
            gen = 0
            for x in inputs:
                if _isinstance(x, Variable):
                    if x.creator is None:
                        leaf = True
                    elif x.generation > gen:
                        gen = x.generation
                    xs.append(x.data)
                else:
                    xs.append(x)
            y = self.forward(*xs)
        out = _new(Variable)
        if type(y) is not _ndarray:
            if _isinstance(y, _generic):
                y = _array(y)  # numpy returns np.float64 from 0-d operations
            elif _isinstance(y, (tuple, list)):
                raise TypeError(
                    f"reverse.{type(self).__name__}: forward returned a {type(y).__name__}; "
                    "Functions have one output (multiple outputs are not supported): split "
                    "it into one Function per output")
        if _NP1 and type(y) is _ndarray and y.dtype == _float64 and not y.shape \
                and not self._float64_result:
            y = _np1_weak_scalars(y, inputs)
        out.data = y
        out.name = None
        out.grad = None
        out._alias = None
        if _get_config().enable_backprop:
            if leaf:
                if len(inputs) == 1:  # (leaf: the one input is a leaf Variable)
                    inputs = (_alias(inputs[0]),)
                else:
                    inputs = tuple([_alias(x) if _isinstance(x, Variable) and x.creator is None
                                    else x for x in inputs])
            self.generation = gen
            self._inputs = inputs
            self.output = _ref(out)
            out.creator = self
            out.generation = gen + 1
            if _SWEEPS:
                _sweep_call(self, inputs)
        else:
            out.creator = None
            out.generation = 0
        return out

    @property
    def inputs(self) -> tuple[Any, ...]:
        """The Variables and constants this function was called with."""
        return tuple([resolve(x) for x in self._inputs])

    @property
    def outputs(self) -> list[Any]:
        """``[weakref to the output]``, as in the book (``self.outputs[0]()``)."""
        return [self.output]

    def forward(self, *xs: Any) -> Any:
        """Compute the output from the inputs' data (subclasses implement it).

        Parameters
        ----------
        *xs : numpy.ndarray or hyperdual.Dual or constant
            The data of each input (a Variable's ``.data``; constants as they
            were passed).

        Returns
        -------
        numpy.ndarray or hyperdual.Dual
            The single output's data (a numpy scalar is made a 0-d array).

        Examples
        --------
        >>> class Double(Function):
        ...     def forward(self, x):
        ...         return 2 * x
        ...     def backward(self, gy, y, x):
        ...         return 2 * gy
        >>> Double().forward(np.array([1.0, 2.0]))
        array([2., 4.])
        >>> Double()(Variable([1.0, 2.0]))
        variable([2. 4.])
        """
        raise NotImplementedError

    def backward(self, gy: Any, y: Any, *xs: Any) -> Any:
        """Gradients of the inputs from the output's gradient (subclasses implement it).

        The formula must use numpy functions and operators only (and the
        helpers of :mod:`reverse.utils`): on raw arrays it computes numbers,
        on Variables (``create_graph=True``) it records a graph, so one
        formula serves every order.  The book's ``backward(self, gy)`` is
        accepted too (see the class docstring).

        Parameters
        ----------
        gy : numpy.ndarray or Variable
            Gradient of the final output with respect to this function's output.
        y : numpy.ndarray or Variable
            This function's output value.
        *xs : numpy.ndarray or Variable or constant
            The input values, in the order of the call.

        Returns
        -------
        numpy.ndarray or Variable or tuple
            The gradient of each input, in order: one value for a single input,
            else a tuple; None for an input that needs no gradient (a constant).
            Each has its input's shape.

        Examples
        --------
        d/dx (x y) is y and d/dy (x y) is x:

        >>> class Mul(Function):
        ...     def forward(self, x, y):
        ...         return x * y
        ...     def backward(self, gy, out, x, y):
        ...         return gy * y, gy * x
        >>> one, x, y = np.ones(1), np.array([2.0]), np.array([3.0])
        >>> Mul().backward(one, x * y, x, y)
        (array([3.]), array([2.]))
        >>> a, b = Variable(2.0), Variable(3.0)
        >>> Mul()(a, b).backward()
        >>> a.grad, b.grad
        (variable(3.), variable(2.))
        """
        raise NotImplementedError

    @property
    def name(self) -> str:
        """Class name, used by graph exports."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


# numpy 1.x promotes a 0-d float32 array meeting a Python scalar to float64
# (np.array(1, np.float32) * 0.5 is float64; numpy 2's NEP 50 keeps float32):
# a scalar node of a float32 graph would turn the rest of the graph float64.
_NP1 = _NUMPY1
_float64 = np.dtype(np.float64)


def _np1_weak_scalars(y: np.ndarray, inputs: Any) -> np.ndarray:
    """numpy 1.x only: a float64 0-d result whose array operands are all of a
    narrower float dtype takes that dtype (Python numbers count as weak, NEP 50)."""
    dts = []
    for x in inputs:
        d = x.data if _isinstance(x, Variable) else x
        if type(d) is _ndarray:
            if d.dtype.kind != "f":
                return y
            dts.append(d.dtype)
    if not dts:
        return y
    dt = np.result_type(*dts)
    return y.astype(dt) if dt.itemsize < 8 else y


def _narrow_float(g: Any) -> bool:
    """Whether a cotangent is of a float dtype narrower than float64 (float32)."""
    if _isinstance(g, Variable):
        g = g.data
    dt = getattr(g, "dtype", None)
    return _isinstance(dt, np.dtype) and dt.kind == "f" and dt.itemsize < 8


def _np1_leaf_dtype(g: Any, x: Any, gy: Any, out: Any) -> Any:
    """numpy 1.x only: a float64 gradient array follows the narrower float data of
    its Variable (a backward formula's ``gy / 3`` on 0-d arrays promotes), when the
    node's output ``out`` and its cotangent ``gy`` are narrow too.  A float64
    output or cotangent (np.linalg.solve(float32, float64) is float64, as numpy
    computes it) keeps the gradient float64, as on numpy 2."""
    if not (_narrow_float(gy) and _narrow_float(out)):
        return g
    dt = getattr(x.data, "dtype", None)  # a Dual's dtype is its parts' dtype
    if ((type(g) is _ndarray or type(g) is np.float64) and g.dtype == _float64
            and _isinstance(dt, np.dtype) and dt.kind == "f" and dt.itemsize < 8):
        return g.astype(dt)
    return g


def _is_book_backward(raw: Any) -> bool:
    """Whether a class's ``backward`` has the book's signature ``backward(self, gy)``."""
    import inspect

    func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return False
    if not isinstance(raw, staticmethod):
        params = params[1:]  # self (or cls)
    kinds = [p.kind for p in params]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return False
    positional = [p for p in params if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                  inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 1


def _run_book_backward(f: Function, book: Any, gy: Any, y: Any) -> Any:
    """Run a book-style ``backward(self, gy)`` inside a backward pass.

    The pass hands the output as ``y``: the output Variable when it records
    the gradient's graph (create_graph), its raw data otherwise.  The book's
    formulas work on Variables (``self.inputs``, ``self.outputs[0]()``), so
    ``gy`` is wrapped; on the fast path backprop recording is off (set by
    ``_backward``), so they build no graph, and the results are unwrapped.
    """
    graph = _isinstance(y, Variable)
    if not _isinstance(gy, Variable):
        gy = _wrap(gy)
    gxs = book(f, gy)
    if graph:
        return tuple(gxs) if _isinstance(gxs, list) else gxs
    if type(gxs) is tuple or _isinstance(gxs, list):
        return tuple([g.data if _isinstance(g, Variable) else g for g in gxs])
    return gxs.data if _isinstance(gxs, Variable) else gxs


# ----------------------------------------------------------------------------
# Backward
# ----------------------------------------------------------------------------


def _backward(y: Variable, retain_grad: bool, create_graph: bool, seed: Any = None,
              release: bool = False) -> None:
    """Backpropagate from ``y``; ``seed`` (raw or Variable) overrides ``y.grad``/ones.

    ``release=True`` is for callers that own the graph and drop it afterwards
    (the helpers): see ``_backward_pass``.
    """
    if y.data is None:
        raise ValueError("backward: this Variable holds no data")
    if y.creator is None:
        # A leaf is its own gradient's destination: d y / d y = seed.
        if seed is None and y.grad is not None:
            return
        if seed is None:
            seed = _unit_seed(y.data)
        if not _isinstance(seed, Variable):
            seed = _OPS.anchor(seed, _alias(y)) if create_graph else _wrap(seed)
        y.grad = seed if y.grad is None else y.grad + seed
        return
    if seed is None:
        if y.grad is None:
            seed = _unit_seed(y.data)
        else:
            seed = y.grad
    if _isinstance(seed, Variable) and not create_graph:
        seed = seed.data
    # create_graph=True records the backward pass even inside no_grad(); in
    # the raw-array fast path no_grad is only a guard in case a formula meets a
    # Variable somewhere.  Set directly rather than through using_config():
    # the contextmanager costs ~3 us, a visible share of a small gradient.
    current = _get_config()
    if current.enable_backprop == create_graph:
        token = None
    elif current is _DEFAULTS:
        token = _CONFIG.set(_NO_BACKPROP)
    else:
        state = types.SimpleNamespace(**vars(current))
        state.enable_backprop = create_graph
        token = _CONFIG.set(state)
    try:
        _run_backward(y, seed, retain_grad, create_graph, release)
    finally:
        if token is not None:
            _CONFIG.reset(token)


#: How many helpers' traces sweep right now, in any thread (``sweeping``):
#: Function.__call__'s only cost when none does.
_SWEEPS = 0
_SWEEPS_LOCK = threading.Lock()
_SWEEP: contextvars.ContextVar[Any] = contextvars.ContextVar("reverse_sweep", default=None)
#: Intermediates from this size on are hollowed (as the releasing pass's threshold,
#: ``helpers._RELEASE_MIN_SIZE``: below it malloc recycles them anyway).
_HOLLOW_MIN_BYTES = 1 << 18
_SWEEP_PENDING = 8


class _Sweep:
    """One trace's candidates for hollowing: ``[Variable, number of consumers]``
    entries, and the ids of Variables some backward reads the value of."""

    __slots__ = ("pending", "needed", "pool")

    def __init__(self, pool: bool) -> None:
        self.pending: list[list[Any]] = []
        self.needed: set[int] = set()
        self.pool = pool


def sweeping(active: bool, pool: bool = False) -> contextlib.AbstractContextManager[None]:
    """Hollow the large intermediates no backward reads, while a helper records ``f``.

    The graph keeps every intermediate Variable, so a trace holds all its
    values at once (seven arrays for the Rosenbrock function where numpy's
    own evaluation holds two); with glibc, every call then page-faults that
    much memory in again.  Most of them are never read again: ``a + b``,
    ``a - b``, ``c * a`` with a constant ``c``, ``sum(a)`` and slicing need only
    their inputs' shapes, and a power only its base.  While this is active,
    each new node checks the few pending candidates: one referenced only by
    the graph (nothing can reach it any more but a backward pass) whose value
    no consumer's and not its creator's backward reads gets a stand-in of its
    shape and dtype (a NaN broadcast that owns no memory), and its array is
    freed at once.  The helper ends this before its backward pass (the
    releasing pass counts references too).  Only helpers use it, on large
    arrays (``helpers._should_release``), and never inside an outer graph.

    With ``pool`` (a trace of plain float arrays), the hollowed arrays go to the
    buffer pool and the elementwise rules take their outputs from it meanwhile
    (``pooled_out``).  Not for Dual data: their parts are allocated by hyperdual,
    which does not take from the pool, and a few pooled arrays held between
    calls only shifted glibc's heap (an HVP forward-over-reverse at n = 10**5
    faulted 11% more pages).

    Inactive (every call on small x), it is a shared ``nullcontext``: a generator
    context manager costs ~2 us per helper call.
    """
    return _sweep_active(pool) if active else _NO_SWEEP


_NO_SWEEP = contextlib.nullcontext()


@contextlib.contextmanager
def _sweep_active(pool: bool) -> Iterator[None]:
    global _SWEEPS, _POOLING
    token = _SWEEP.set(_Sweep(pool))
    with _SWEEPS_LOCK:
        _SWEEPS += 1
        _POOLING += pool
    try:
        yield
    finally:
        with _SWEEPS_LOCK:
            _SWEEPS -= 1
            _POOLING -= pool
        _SWEEP.reset(token)


def _sweep_call(f: Function, inputs: tuple) -> None:
    """Register ``f``'s inputs with the current sweep, then hollow what died."""
    sweep = _SWEEP.get()
    if sweep is None:
        return
    kind = f._value_inputs
    pending = sweep.pending
    for i, x in enumerate(inputs):
        if not _isinstance(x, Variable) or x.creator is None:
            continue  # constants, leaves (their aliases have no creator)
        key = id(x)
        if key in sweep.needed:
            continue
        if kind == "all" or (kind == "other" and any(
                _isinstance(o, Variable) for j, o in enumerate(inputs) if j != i)):
            sweep.needed.add(key)
            for k, e in enumerate(pending):
                if e[0] is x:
                    del pending[k]  # (list.remove would compare Variables with ==)
                    break
            continue
        for e in pending:
            if e[0] is x:
                e[1] += 1
                break
        else:
            if not x.creator._value_output and _hollow_size(x.data):
                pending.append([x, 1])
                if len(pending) > _SWEEP_PENDING:
                    del pending[0]  # held by the caller for long: give it up
    x = None
    if pending:
        _sweep_pending(pending, sweep.pool)


def _hollow_size(d: Any) -> bool:
    """Whether ``d`` is a float array (or Dual of them) owning enough memory to hollow
    (its own, or a buffer of the pool's)."""
    if type(d) is not _ndarray:
        if not _is_dual(d) or type(getattr(d, "dual", None)) is not _ndarray:
            return False
        d = d.real
        if type(d) is not _ndarray:
            return False
    return (d.base is None or type(d.base) is mmap.mmap) and d.dtype.kind == "f" \
        and d.nbytes >= _HOLLOW_MIN_BYTES


def _pending_refs(entry: list) -> int:
    return _getrefcount(entry[0])


#: what _pending_refs reports for an object held only by its pending entry
_PENDING_REFS = _pending_refs([object(), 0])


def _sweep_pending(pending: list, pool: bool = False) -> None:
    for k in range(len(pending) - 1, -1, -1):
        e = pending[k]
        if _pending_refs(e) <= _PENDING_REFS + e[1]:
            del pending[k]
            v = e[0]
            d = v.data
            dt = d.dtype if type(d) is _ndarray else d.real.dtype
            v.data = np.broadcast_to(np.array(np.nan, dtype=dt), d.shape)
            v = e = None
            if pool:
                _recycle(d)


# ----------------------------------------------------------------------------
# The buffer pool of large traces.  With glibc, freeing the arrays of a helper
# call returns their pages to the kernel (the heap is trimmed), and the next
# call page-faults them in again: at n = 10**5 the faults were ~80% of a
# Rosenbrock gradient's time.  So while a large trace of plain arrays runs
# (``_POOLING``), the elementwise rules write their results into buffers of the
# pool's (``pooled_out``), and the buffers the trace frees (hollowed or released
# values, spent cotangents and scatters) come back to the pool for the rest of
# the call and the next calls.  A buffer's memory is an anonymous mapping of
# its own, not glibc's heap: a pool of heap arrays kept the heap from being
# trimmed, which sped up the user's own numpy code between calls by chance
# (the Rosenbrock f at n = 10**5 4x, with a pool of an HVP's arrays, not of a
# gradient's).  A buffer comes back only when the reference the caller gives
# up is its only one and no view of it exists (reference counts, as the
# releasing pass's: only where those are trusted, where the sweep and the
# releasing pass run); a pooled buffer is handed out once.  The pool keeps at
# most ``_POOL_MAX_BYTES``, in lists by shape and dtype; ``clear_pool()``
# empties it.  Results a helper returns are copies (heap arrays).
# ----------------------------------------------------------------------------

_POOL: dict[tuple[Any, Any], list[np.ndarray]] = {}
_POOL_LOCK = threading.Lock()
#: The most memory the pool keeps (32 MB: the arrays of a Rosenbrock HVP at
#: n = 2.5 10**5).
_POOL_MAX_BYTES = 1 << 25
_pool_bytes = 0
#: The largest array a trace is pooled for (4 MB, where numpy starts asking the
#: kernel for huge pages, which fault 512 times fewer: at n = 10**6 the pool's
#: buffers made the Rosenbrock gradient 1.3x slower, not faster).
_POOL_ARRAY_MAX_BYTES = 1 << 22


def pools(data: Any) -> bool:
    """Whether a large trace from the input ``data`` uses the buffer pool: plain
    arrays up to ``_POOL_ARRAY_MAX_BYTES``."""
    return type(data) is _ndarray and data.nbytes <= _POOL_ARRAY_MAX_BYTES


#: How many sweeps and releasing passes run now, in any thread: the rules take
#: buffers from the pool only then (one global read on every other call).
_POOLING = 0


def _map_refs(base: Any) -> int:
    return _getrefcount(base)


def _new_buffer(shape: Any, dtype: Any) -> np.ndarray:
    """An array of the pool: its memory an anonymous mapping of its own."""
    nbytes = math.prod(shape) * dtype.itemsize
    return np.ndarray(shape, dtype, buffer=mmap.mmap(-1, nbytes))


def _count_map_refs() -> int:
    d = _new_buffer((1,), _float64)
    return _map_refs(d.base)


#: what _map_refs reports (in _recycle) for the mapping of a buffer that has no views
_MAP_REFS = _count_map_refs()


def _recycle(d: Any) -> None:
    """Keep ``d`` for reuse if it is a buffer of the pool that nothing else refers
    to: the caller's local variable (given up) is its only reference, and no view
    of it exists (a view refers to the mapping, not to ``d``)."""
    global _pool_bytes
    if type(d) is not _ndarray or type(d.base) is not mmap.mmap:
        return
    if _getrefcount(d) != _CALL_REFS or _map_refs(d.base) != _MAP_REFS:
        return
    if not (d.flags.writeable and d.flags.c_contiguous):
        return
    key = (d.shape, d.dtype)
    with _POOL_LOCK:
        if _pool_bytes + d.nbytes > _POOL_MAX_BYTES:
            return
        _pool_bytes += d.nbytes
        _POOL.setdefault(key, []).append(d)


def recycle_value(v: Variable) -> None:
    """Give the value of ``v`` (a helper's own Variable that it is done with: the
    recorded gradient of a reverse-over-reverse HVP) to the pool, if it is a buffer
    of the pool's that nothing else refers to.  Else the buffer died with the graph
    and the next call page-faulted a new one in."""
    d = v.data
    if type(d) is not _ndarray or type(d.base) is not mmap.mmap:
        return
    v.data = None
    _recycle(d)


def _take(shape: Any, dtype: Any) -> Any:
    """An array of this shape and dtype for a result (its values are garbage): one
    the pool keeps, or a new buffer of the pool; None below the pool's size."""
    global _pool_bytes
    lst = _POOL.get((shape, dtype))
    if lst:
        with _POOL_LOCK:
            if lst:
                d = lst.pop()
                _pool_bytes -= d.nbytes
                return d
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _HOLLOW_MIN_BYTES or nbytes > _POOL_ARRAY_MAX_BYTES:
        return None
    return _new_buffer(shape, dtype)


def clear_pool() -> None:
    """Free the arrays the buffer pool keeps."""
    global _pool_bytes
    with _POOL_LOCK:
        _POOL.clear()
        _pool_bytes = 0


def _pooling(delta: int) -> None:
    global _POOLING
    with _SWEEPS_LOCK:
        _POOLING += delta


def _operand_ok(a: Any, shape: Any) -> bool:
    t = type(a)
    if t is float:
        return True
    if t is int:
        return -_INT_EXACT < a < _INT_EXACT
    return t is _ndarray and a.dtype == _float64 and a.shape == shape and (
        a.ndim == 1 or a.flags.c_contiguous)


_INT_EXACT = 1 << 53


def pooled_out(a: Any, b: Any = 0.0) -> Any:
    """A pooled buffer for the float64 result of an elementwise ufunc of ``a``
    and ``b`` (arrays of one shape, C-ordered or 1-d, or a Python number), or
    None: the ufunc called with ``out=`` gives the bits it allocates."""
    arr = a if type(a) is _ndarray else b
    if type(arr) is not _ndarray or arr.nbytes < _HOLLOW_MIN_BYTES:
        return None
    shape = arr.shape
    if not (_operand_ok(a, shape) and _operand_ok(b, shape)):
        return None
    return _take(shape, _float64)


def fill_scattered(buf: np.ndarray, index: Any, v: Any) -> None:
    """``buf[:] = 0; buf[index] = v`` for a buffer of the pool (reused, not zero)
    and a basic ``index``.  For a 1-d slice of step 1 (``x[1:]``, ``x[:-1]``) only
    the entries outside the slice are zeroed: one pass over the buffer instead of
    two (the same values; ~35 us of a Rosenbrock gradient at n = 10**5)."""
    if type(index) is slice and buf.ndim == 1:
        start, stop, step = index.indices(buf.shape[0])
        if step == 1:
            buf[:start] = 0.0
            buf[max(start, stop):] = 0.0
            buf[start:stop] = v
            return
    buf.fill(0.0)
    buf[index] = v


class PendingScatter:
    """The gradient of ``x[index]``, not yet written into an array of ``shape``.

    Several indexing nodes of one Variable (``x[1:]``, ``x[:-1]`` ...) then add
    their slices into one buffer the backward pass owns, instead of each
    allocating a zero array of the full shape and adding those up: this cuts
    the Rosenbrock gradient by ~15% at n = 10**6 (~5% at 10**5).  Only the fast
    (raw-array) backward produces these; they never leave ``_run_backward``.
    """

    __slots__ = ("index", "value", "shape", "basic")

    def __init__(self, index: Any, value: Any, shape: tuple[int, ...], basic: bool) -> None:
        self.index = index
        self.value = value
        self.shape = shape
        self.basic = basic

    def materialize(self) -> Any:
        v = self.value
        if self.basic and type(v) is _ndarray:
            # what the scatter does for a plain array and a basic index
            dt = v.dtype
            dt = dt if dt.kind == "f" else _float64
            gx = _take(self.shape, dt) if _POOLING else None
            if gx is None:
                gx = np.zeros(self.shape, dtype=dt)
                gx[self.index] = v
            else:
                fill_scattered(gx, self.index, v)
            return gx
        return _OPS.scatter(v, self.index, self.shape)

    def add_into(self, buf: Any) -> bool:
        """Add into ``buf`` in place if both are plain numpy, or both hyperdual numbers
        of one kind and tag with array parts (forward-over-reverse; ``buf`` made by
        ``materialize``); report success."""
        v = self.value
        if type(buf) is not _ndarray:
            if _is_dual(v) and type(buf) is type(v):
                if not _SCATTER_ADD_INTO:  # (hyperdual is loaded: v is its number)
                    from hyperdual.rules.indexing import scatter_add_into

                    _SCATTER_ADD_INTO.append(scatter_add_into)
                return _SCATTER_ADD_INTO[0](buf, self.index, v, self.basic)
            return False
        if not (type(v) is _ndarray or _isinstance(v, (_generic, float, int))):
            return False
        if self.basic:
            buf[self.index] += v
        else:
            np.add.at(buf, self.index, v)
        return True


#: hyperdual.rules.indexing.scatter_add_into, once imported (an import statement
#: costs ~1 us per call even when done)
_SCATTER_ADD_INTO: list[Any] = []


def _spend(p: PendingScatter) -> None:
    """A scatter has been applied: its value goes back to the pool if it was a
    buffer of the pool's that nothing else refers to."""
    v = p.value
    p.value = None
    p = None
    _recycle(v)


def _own_scatter(g: Any) -> bool:
    """Whether a materialized scatter may be accumulated into in place: an ndarray
    (np.zeros), or a hyperdual number whose parts hyperdual.scatter_add made (fresh
    zeros of the full shape)."""
    if type(g) is _ndarray:
        return True
    if not (_is_dual(g) and getattr(g, "_NPARTS", 0)):
        return False
    for p in g._parts():
        if type(p) is not _ndarray or p.base is not None or not p.flags.writeable:
            return False
    return True


def _accumulate(prev: Any, gx: Any, owned: set[int]) -> Any:
    """prev + gx, in place into ``prev`` when the pass owns that buffer."""
    if type(prev) is PendingScatter:
        prev, gx = gx, prev
        if type(prev) is PendingScatter:
            prev = prev.materialize()
            if _own_scatter(prev):
                owned.add(id(prev))
    if type(gx) is PendingScatter:
        if id(prev) in owned and gx.add_into(prev):
            if _POOLING:
                _spend(gx)
            return prev
        gx = gx.materialize()
    if type(prev) is _ndarray and id(prev) in owned and (
            type(gx) is _ndarray or _isinstance(gx, (_generic, float))):
        prev += gx
        return prev
    out = pooled_out(prev, gx) if _POOLING else None
    new = prev + gx if out is None else np.add(prev, gx, out=out)
    owned.discard(id(prev))  # prev may die now: its id must not stay marked
    if type(new) is _ndarray:
        owned.add(id(new))
    return new


def _run_backward(y: Variable, seed: Any, retain_grad: bool, graph: bool,
                  release: bool = False) -> None:
    # The pass first runs without the zero-cotangent guard, which would cost a
    # finiteness check per elementwise node (4-8% of a Rosenbrock gradient at
    # n = 10**3, measured with the guard always on).  Only a
    # NaN in a leaf's gradient can show that an unguarded 0 * inf happened; then
    # the pass is redone with the guard.  The two passes differ only at entries
    # that are NaN in the first, so a NaN-free first pass is the guarded result.
    # (Nothing is written to the leaves before this decision.)
    # A releasing pass cannot be redone (it drops values on its way), so it
    # runs guarded at once; it is only asked for on large arrays, where the
    # guard's check is a small share of each formula.
    if release and not (retain_grad or graph):
        results = _guarded_pass(y, seed, False, False, True)
    else:
        results = _backward_pass(y, seed, retain_grad, graph)
        if not GUARD_ZEROS.get() and any(_has_nan(g) for _, g in results):
            results = _guarded_pass(y, seed, retain_grad, graph)
    for x, g in results:
        if graph:
            # Anchor ties the gradient to its leaf, so differentiating it again
            # reaches the leaf even where it is structurally constant (the
            # second derivative of a linear function is 0, not None).
            g = _OPS.anchor(g, _alias(x))
            x.grad = g if x.grad is None else x.grad + g
        else:
            x.grad = _wrap(g) if x.grad is None else _wrap(x.grad.data + g)


#: Backward passes redone with the zero-cotangent guard so far (a counter that a
#: caller compares before and after a pass, as reverse.helpers._transposed_graph
#: does; another thread's count only costs that caller a redo).
GUARDED = [0]


def _guarded_pass(y: Variable, seed: Any, retain_grad: bool, graph: bool,
                  release: bool = False, target: Variable | None = None,
                  keep: set[int] | None = None) -> list[tuple[Variable, Any]]:
    """``_backward_pass`` with the zero-cotangent guard on."""
    GUARDED[0] += 1
    kept = KEPT[0]
    token = GUARD_ZEROS.set(True)
    seeding, passing = SEEDING[0], PASSING[0]
    SEEDING[0] = seed
    PASSING[0] = [y, target, None]
    try:
        results = _backward_pass(y, seed, retain_grad, graph, release, target, keep)
    finally:
        GUARD_ZEROS.reset(token)
        SEEDING[0], PASSING[0] = seeding, passing
    if KEPT[0] != kept and not AUDIT_ZEROS.get():
        # a zero cotangent was kept next to an inf/nan partial: was it structural?
        # (a releasing pass dropped its values: the audit recomputes them)
        from ._audit import audit

        redo = None
        if graph and not _isinstance(seed, Variable):
            # a recorded pass is redone with the nodes split where the zero was a
            # clean one that moves (reverse._audit.split_recorded).  Not where the
            # seed is a Variable (reverse.jvp's u, the direction the outer pass
            # differentiates along): the audit measured how the cotangent moves
            # with the input, not with u (jvp of x0 sqrt(x1) at 0 stays 0)
            def redo(live: dict) -> list[tuple[Variable, Any]]:
                token = GUARD_ZEROS.set(True)
                seeding, passing = SEEDING[0], PASSING[0]
                SEEDING[0] = seed
                PASSING[0] = [y, target, None]
                split_token = SPLITTING.set(live)
                try:
                    return _backward_pass(y, seed, retain_grad, graph, False, target, keep)
                finally:
                    SPLITTING.reset(split_token)
                    GUARD_ZEROS.reset(token)
                    SEEDING[0], PASSING[0] = seeding, passing

        results = audit(y, seed, target, results, release, redo)
    return results


#: ``{id(node): (node, mask)}`` while a recorded pass is redone split (see
#: ``_guarded_pass``), else None.
SPLITTING: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "reverse_splitting", default=None
)


#: The own input leaves of reverse helper calls that have returned (see
#: ``reverse.helpers._input``).  One that f used later (a Variable saved inside one
#: helper's f and used in another's: an escaped input) is a constant there, not the
#: variable of an outer trace, so that helper returns a plain result, as it does for
#: any other constant (it returned a Variable, as for a user's own leaf).
#: (id -> Variable, weakly: a WeakSet would compare Variables with their
#: elementwise ``==``)
RETIRED_INPUTS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def retired(x: Variable) -> bool:
    """Whether ``x`` is the own input leaf of a reverse helper call that has returned."""
    return RETIRED_INPUTS.get(id(x)) is x


def grad_wrt(y: Variable, target: Variable, seed: Any, graph: bool,
             release: bool = False, keep: set[int] | None = None) -> tuple[Any, bool]:
    """The gradient of ``y`` with respect to ``target`` alone, and whether ``y``
    also depends on other leaves.

    This is the backward pass of the helpers (``gradient``, ``hvp`` ...): each
    helper call is its own trace, whose only input is ``target``.  Unlike
    ``Variable.backward`` it writes no ``.grad`` anywhere, so Variables of an
    outer trace (leaves a nested ``f`` closes over) are constants to it and keep
    their gradients.  With ``graph`` the gradient is recorded as a graph, so an
    outer trace can differentiate through it (nesting); the second result tells
    a raw pass that this was needed.  Returns ``None`` for a gradient that is
    structurally zero.  ``keep``: ``_toward(y, target)`` if the caller has it
    (then a raw pass is pruned to the paths to ``target`` as well).
    """
    if y is target:  # f is the identity
        if graph:
            return (seed if _isinstance(seed, Variable) else _wrap(seed)), False
        return (seed.data if _isinstance(seed, Variable) else seed), False
    if y.creator is None:
        return None, False
    if _isinstance(seed, Variable) and not graph:
        seed = seed.data
    current = _get_config()
    if current.enable_backprop == graph:
        token = None
    elif current is _DEFAULTS:
        token = _CONFIG.set(_NO_BACKPROP)
    else:
        state = types.SimpleNamespace(**vars(current))
        state.enable_backprop = graph
        token = _CONFIG.set(state)
    # A recorded pass visits only the paths to the target: elsewhere it would
    # record nodes nobody needs, and a node whose backward itself differentiates
    # through its own output (reverse.implicit) would recurse.
    if keep is None and graph:
        keep = _toward(y, target)
    try:
        if release and not graph:
            results = _guarded_pass(y, seed, False, False, True, target)
        else:
            results = _backward_pass(y, seed, False, graph, False, target, keep)
            if not GUARD_ZEROS.get():
                for x, g in results:  # (a loop: no generator frame per call)
                    if x is target and _has_nan(g):
                        results = _guarded_pass(y, seed, False, graph, False, target, keep)
                        break
    finally:
        if token is not None:
            _CONFIG.reset(token)
    grad, others = None, False
    for x, g in results:
        if x is target:
            grad = g
        elif not retired(x):
            others = True
    if graph and grad is not None and not _isinstance(grad, Variable):
        grad = _wrap(grad)
    return grad, others


def _toward(y: Variable, target: Variable, found: list | None = None) -> set[int]:
    """ids of the functions of ``y``'s graph from which ``target`` can be reached
    (an iterative post-order walk: deep graphs do not recurse); the functions
    themselves are appended to ``found`` if given."""
    keep: set[int] = set()
    done: set[int] = set()
    if y is target or y.creator is None:
        return keep
    stack: list[tuple[Function, bool]] = [(y.creator, False)]
    while stack:
        f, expanded = stack.pop()
        fid = id(f)
        if fid in done:
            continue
        if expanded:
            done.add(fid)
            for x in f._inputs:
                if not _isinstance(x, Variable):
                    continue
                if x is target or (type(x) is _LeafAlias and x.target() is target) or (
                        x.creator is not None and id(x.creator) in keep):
                    keep.add(fid)
                    if found is not None:
                        found.append(f)
                    break
            continue
        stack.append((f, True))
        for x in f._inputs:
            if _isinstance(x, Variable) and x is not target and x.creator is not None \
                    and id(x.creator) not in done:
                stack.append((x.creator, False))
    return keep


def reaches_other_leaves(y: Variable, target: Variable) -> bool:
    """Whether ``y``'s graph depends on a live leaf other than ``target``.

    A walk over the graph, without computing anything (used before a releasing
    pass, which cannot be redone with a graph if the answer turns out yes).
    """
    if y is target or y.creator is None:
        return False
    stack, seen = [y.creator], set()
    while stack:
        f = stack.pop()
        for x in f._inputs:
            if not _isinstance(x, Variable) or x is target:
                continue
            if type(x) is _LeafAlias:
                leaf = x.target()
                if leaf is not None and leaf is not target and not retired(leaf):
                    return True
                continue
            c = x.creator
            if c is None:
                if not retired(x):
                    return True
                continue
            if id(c) not in seen:
                seen.add(id(c))
                stack.append(c)
    return False


def _release(out: Variable, y: Variable, inputs: tuple, uses: dict[int, int],
             pool: bool = False) -> bool:
    """Drop ``out``'s value if only the graph refers to it; False once something else does."""
    for x in inputs:
        if _isinstance(x, Variable) and x.creator is not None:
            uses[id(x)] = uses.get(id(x), 0) + 1
    if out is y:
        return True
    # Beyond the graph's references (``uses``) come those of this call itself:
    # _CALL_REFS.  Any other reference means someone may still read this
    # Variable or walk back from it.
    if _getrefcount(out) != uses.get(id(out), 0) + _CALL_REFS:
        return False
    d = out.data
    out.data = None
    if pool:
        _recycle(d)
    return True


def _refs_seen_in_call(out: Any) -> int:
    return _getrefcount(out)


def _count_call_refs() -> int:
    # What getrefcount reports inside a call like _release's for an object held
    # only by the caller's local variable: 3 on CPython 3.11-3.13 (the local, the
    # argument, getrefcount's own), 4 on 3.10, whose caller keeps its argument
    # on the stack too.  Measured rather than assumed: a count too high would
    # release a Variable still in use; too low only stops the releasing.
    probe = object()
    return _refs_seen_in_call(probe)


_CALL_REFS = _count_call_refs()


_min_reduce = np.minimum.reduce


def _has_nan(g: Any) -> bool:
    if _isinstance(g, Variable):
        g = g.data
    if type(g) is _ndarray and g.dtype.kind == "f":
        # the minimum is NaN exactly when an entry is (no inf - inf, and no BLAS call:
        # a threaded dot product stalls on a busy machine)
        return math.isnan(_min_reduce(g, axis=None)) if g.size else False
    if _isinstance(g, (float, _generic)):
        return g != g
    if _is_dual(g):  # forward-over-reverse: a NaN in any part asks for the guard
        coef = getattr(g, "coef", None)  # a Taylor number keeps its coefficients here
        if coef is not None:
            return _has_nan(coef)
        for p in g._parts():
            if _has_nan(p):
                return True
        return False
    # dask, CuPy, sparse: asking would compute (or sync); the guarded pass is the
    # lazy replacement (its masks apply without a data-dependent test)
    return _is_foreign(g)


def _splits() -> list:
    from ._audit import SPLITS

    return SPLITS


def _split_clean(f: Function, gy: Any, y: Any, xs: list, gxs: tuple) -> tuple:
    from ._audit import split_clean

    return split_clean(f, gy, y, xs, gxs)


def _split_recorded(f: Function, gy: Any, y: Variable, inputs: tuple, mask: Any,
                    gxs: tuple) -> tuple:
    from ._audit import split_recorded

    return split_recorded(f, gy, y, inputs, mask, gxs)


def _backward_pass(y: Variable, seed: Any, retain_grad: bool, graph: bool,
                   release: bool = False, target: Variable | None = None,
                   keep: set[int] | None = None) -> list[tuple[Variable, Any]]:
    """:func:`_walk_backward`, marked as a backward pass (``IN_BACKWARD``: the range
    watch does not warn the user of the pass's own adjoints).  A warning raised
    as an error here (warnings as errors) is marked ``exactdiff_backward``: a
    first-order helper then redoes its call watched, where the pass's own
    adjoints are quiet (reverse.helpers._adjoint_warning)."""
    token = _IN_BACKWARD.set(True)
    try:
        return _walk_backward(y, seed, retain_grad, graph, release, target, keep)
    except RuntimeWarning as exc:
        exc.exactdiff_backward = True  # type: ignore[attr-defined]
        raise
    finally:
        _IN_BACKWARD.reset(token)


def _walk_backward(y: Variable, seed: Any, retain_grad: bool, graph: bool,
                   release: bool = False, target: Variable | None = None,
                   keep: set[int] | None = None) -> list[tuple[Variable, Any]]:
    """One backward pass from ``y``: the leaves and their new gradients.

    ``keep`` (ids of functions, see ``_toward``) prunes the pass to the paths
    that lead to ``target``; other branches are not visited at all.

    ``target`` (a helper's own input) is treated as a leaf even when it has a
    creator (an identity node on a Variable of an outer trace): the pass stops
    there instead of running on into the outer graph.

    With ``release``, an intermediate's value is dropped (``data = None``) as
    soon as its creator's backward has run, provided nothing outside the
    graph refers to that Variable.  No later step of the pass reads it: its
    consumers are newer and have run.  So the values of the forward pass are
    freed while the backward pass allocates its own arrays, which lowers the
    peak memory (and with glibc the page faults: about a third fewer for the
    Rosenbrock gradient at n = 10**5, 30% less time).  The first Variable found
    held from outside (by the caller, or by a node off the path to ``y``)
    stops the releasing for the rest of the pass, so everything it depends on
    keeps its values.
    """
    # Gradients in flight, keyed by id(): every Variable met here is kept alive
    # by y's graph for the whole pass, so ids cannot be reused meanwhile.
    grads: dict[int, Any] = {id(y): seed}
    # ids of arrays this pass allocated itself and that sit in ``grads`` only:
    # those may be accumulated into in place.  An array loses the status when
    # it is handed to a backward formula (which may pass it on, as Add does).
    owned: set[int] = set()
    leaves: list[Variable] = []
    # release: how many times each intermediate appears among the inputs of
    # the functions run so far (the references the graph itself holds).
    uses: dict[int, int] = {}
    # Functions waiting for their output's gradient, in one list per generation,
    # taken newest generation first.  A function's inputs come from strictly
    # older generations, so by the time a function runs, every consumer of its
    # output has run.  (A dict of lists costs ~1 us per node less than a heap.)
    # A function is queued when its output first receives a gradient, which
    # happens once per pass: no "seen" set is needed.
    f = y.creator
    gen = f.generation
    waiting: dict[int, list[Function]] = {gen: [f]}
    # a guarded pass on Dual data (forward-over-reverse): a node whose guard met a
    # clean zero cotangent is redone split (reverse._audit.split_clean)
    split = _splits() if not graph and GUARD_ZEROS.get() and _is_dual(y.data) else None
    # a recorded pass redone with nodes split (reverse._audit.split_recorded)
    splitting = SPLITTING.get() if graph else None
    mark = 0
    # the buffer pool for a trace of plain arrays (see ``sweeping``)
    pooling = release and target is not None and pools(target.data)
    if pooling:
        _pooling(1)
    try:
        while waiting:
            todo = waiting.pop(gen, None)
            if todo is None:  # a gap between generations (a branch without gradient)
                gen = max(waiting)
                continue
            gen -= 1
            for f in todo:
                out = f.output()
                gy = grads.pop(id(out))
                if owned:
                    if type(gy) is PendingScatter:
                        gy = gy.materialize()
                    owned.discard(id(gy))
                elif type(gy) is PendingScatter:
                    gy = gy.materialize()
                if retain_grad:
                    out.grad = gy if _isinstance(gy, Variable) else _wrap(gy)
                inputs = f._inputs
                if split:
                    mark = split[0]
                if graph:
                    gxs = f.backward(gy, out, *inputs)
                elif len(inputs) == 1:
                    # Unary and binary nodes are nearly all nodes: unpacking them by hand
                    # saves ~0.3 us per node over a generic comprehension.
                    x = inputs[0]
                    gxs = f.backward(gy, out.data, x.data if _isinstance(x, Variable) else x)
                elif len(inputs) == 2:
                    x, x1 = inputs
                    gxs = f.backward(gy, out.data, x.data if _isinstance(x, Variable) else x,
                                     x1.data if _isinstance(x1, Variable) else x1)
                else:
                    xs = []
                    for x in inputs:
                        xs.append(x.data if _isinstance(x, Variable) else x)
                    gxs = f.backward(gy, out.data, *xs)
                if type(gxs) is not tuple:
                    gxs = (gxs,)
                if splitting is not None and id(f) in splitting:
                    gxs = _split_recorded(f, gy, out, inputs, splitting[id(f)][1], gxs)
                if split and split[0] != mark:  # a clean zero cotangent on Dual data
                    gxs = _split_clean(f, gy, out.data, [
                        x.data if _isinstance(x, Variable) else x for x in inputs], gxs)
                for x, gx in zip(inputs, gxs):
                    if gx is None or not _isinstance(x, Variable):
                        continue
                    if _NP1:
                        gx = _np1_leaf_dtype(gx, x, gy, out)
                    if type(x) is _LeafAlias:
                        x = x.target()
                        if x is None:  # nobody can see this leaf's gradient any more
                            continue
                    if keep is not None and x is not target and (
                            x.creator is None or id(x.creator) not in keep):
                        continue  # a branch that does not lead to the target
                    key = id(x)
                    prev = grads.get(key)
                    if prev is None:
                        grads[key] = gx
                        c = x.creator
                        if c is None or x is target:
                            leaves.append(x)
                        else:
                            g = c.generation
                            queue = waiting.get(g)
                            if queue is None:
                                waiting[g] = [c]
                            else:
                                queue.append(c)
                    else:
                        grads[key] = _accumulate(prev, gx, owned)
                        if pooling:  # the gradient accumulated into, if it was not in place
                            _recycle(prev)
                            prev = None
                if release:
                    x1 = None  # may still name an input of an earlier function: out itself
                    release = _release(out, y, inputs, uses, pooling)
                if pooling:
                    # back to the pool: cotangents no gradient in flight is (this
                    # node's, and its results that were accumulated into others)
                    spent = list(gxs)
                    spent.append(gy)
                    gxs = gx = gy = None
                    for k in range(len(spent)):
                        gx = spent[k]
                        spent[k] = None
                        _recycle(gx)
                    gx = spent = None
    except _FOREIGN_ERRORS as exc:  # a library's own error on foreign data (pydata/sparse)
        err = _arrays.foreign_error(exc, f"the gradient of {type(f).__name__}")
        if err is None:
            raise
        raise err from exc
    finally:
        if pooling:
            _pooling(-1)
    # A leaf's gradient may be a view (broadcast_to) or an array also given to
    # another leaf (Add passes gy through): give each leaf an array of its own.
    if pooling:
        gy = gx = gxs = prev = None  # the pass's own references to cotangents
    given = {id(seed)}
    results = []
    for x in leaves:
        g = grads[id(x)]
        if type(g) is PendingScatter:
            if pooling:
                p, g = g, g.materialize()
                del grads[id(x)]
                _spend(p)
                p = None
            else:
                g = g.materialize()
        elif type(g) is _ndarray and not graph:
            if g.base is not None or id(g) in given:
                if pooling and type(g.base) is mmap.mmap:
                    del grads[id(x)]
                    spent, g = g, g.copy()
                    _recycle(spent)
                    spent = None
                else:
                    g = g.copy()
        if _NP1:
            g = _np1_leaf_dtype(g, x, seed, y)
        given.add(id(g))
        results.append((x, g))
    return results


# ----------------------------------------------------------------------------
# numpy dispatch (tables filled by the rule families, reverse.rules)
# ----------------------------------------------------------------------------

#: ufunc -> callable building the Function (differentiable ufuncs).
UFUNCS: dict[Any, Any] = {}
#: one-argument ufunc -> its Function class (fast path of __array_ufunc__).
UNARY_UFUNCS: dict[Any, Any] = {}
#: ufuncs evaluated on the plain values, returning plain arrays (comparisons ...).
VALUE_UFUNCS: set[Any] = set()
#: numpy function -> implementation taking Variables (NEP 18).
FUNCTIONS: dict[Any, Any] = {}

_OPS = types.SimpleNamespace()  # functions core needs, installed by reverse.rules.operators


def _unsupported(kind: str, name: str, why: str = "") -> TypeError:
    # (a ufunc of scipy.special is named as such: "numpy ufunc 'pbdv'" would send the
    # user to the wrong library)
    where = "numpy" if "." not in name else name.rsplit(".", 1)[0]
    return TypeError(
        f"{where} {kind} '{name.rsplit('.', 1)[-1]}' is not supported by reverse "
        "(reverse-mode autodiff)"
        + (f": {why}" if why else "")
        + "; see reverse.functions for the supported surface"
    )


def _dispatch_ufunc(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    name = getattr(ufunc, "__name__", repr(ufunc))
    if method != "__call__":  # reduce, accumulate, outer: compositions of calls
        return _ufunc_methods.apply(ufunc, method, inputs, kwargs)
    if "out" in kwargs:
        raise _unsupported("ufunc", name, "out= would write outside the graph")
    gu = _GUFUNCS.get(ufunc)
    if gu is not None:  # numpy 2's vecdot, matvec, vecmat: compositions of sum and matmul
        return _gufunc(gu, inputs, kwargs)
    if ufunc in VALUE_UFUNCS:
        vals = [_value(x) if _isinstance(x, Variable) else x for x in inputs]
        return ufunc(*vals, **kwargs)
    impl = UFUNCS.get(ufunc)
    if impl is None:
        raise _unsupported("ufunc", _msg.ufunc_label(ufunc))
    if kwargs:
        if kwargs.get("where", True) is True:  # numpy's default mask: every entry
            kwargs = {k: v for k, v in kwargs.items() if k != "where"}
        cast = _float_dtype_operands(inputs, kwargs)
        if cast is not None:  # dtype=float32 ...: numpy's cast of the operands
            return ufunc(*cast[0], **cast[1])
        if kwargs.get("dtype", None) is not None or set(kwargs) - {"dtype"}:
            raise TypeError(_msg.ufunc_keywords("reverse", f"numpy.{name}", sorted(kwargs)))
    args = []
    for x in inputs:
        if not _isinstance(x, Variable):
            x = _const(x)
            if x is None:
                return NotImplemented
        args.append(x)
    return impl(*args)


def _dispatch_function(func: Any, types_: Any, args: tuple, kwargs: dict) -> Any:
    impl = FUNCTIONS.get(func)
    if impl is None:
        raise _unsupported("function", getattr(func, "__name__", repr(func)))
    if func in _SCALAR_AXIS:  # (np.sum(x0d, axis=-1): numpy's every axis)
        args, kwargs = _scalar_axis_call(func, args, kwargs)
    return impl(*args, **kwargs)
