"""Engine-neutral building blocks: plain values, and gathering by a flat index map.

Most array-building and selection functions of numpy are *selections*: each
output element is one input element, or a zero the function inserted.  Such a
function is differentiated exactly by applying numpy's own implementation to
an integer array of element positions (the *index map*) and gathering the
input's elements, derivative parts included, at those positions.  The gather
is ordinary fancy indexing, which both engines differentiate (reverse mode's
backward is the scatter-add, forward mode indexes every part), so every order
and every nesting follows.

Examples
--------
>>> import numpy as np
>>> positions(np.zeros((2, 2)), start=1)
array([[1, 2],
       [3, 4]])
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .arrays import is_foreign_array, is_lazy

#: numpy 1.x: value-based casting (a 0-d array or Python scalar meeting an array takes
#: the array's dtype); numpy >= 2 promotes by type (NEP 50)
NUMPY1 = int(np.__version__.split(".")[0]) < 2

_ENGINES = ("hyperdual", "reverse")


def is_traced(x: Any) -> bool:
    """True for a value of one of the engines (a Dual, HyperDual or Variable).

    Examples
    --------
    >>> is_traced(1.0)
    False
    """
    return (type(x).__module__.split(".", 1)[0] in _ENGINES and hasattr(x, "shape")
            or getattr(type(x), "_exactdiff_pattern", False))


def value(x: Any) -> Any:
    """The plain value of ``x`` through every level of nesting (arrays pass through).

    A Variable gives its ``.data``, a Dual or HyperDual its ``.real``; lists and
    tuples are converted elementwise.  Used for the non-differentiable decisions
    (permutations, bins, masks) and for ``arg*`` functions.

    Examples
    --------
    >>> value([1.0, 2.0])
    [1.0, 2.0]
    """
    while is_traced(x):
        x = x.data if hasattr(x, "data") else x.real  # Variable, else Dual/HyperDual
    if isinstance(x, list):
        return [value(v) for v in x]
    if isinstance(x, tuple):
        return tuple(value(v) for v in x)
    return x


_add_reduce = np.add.reduce
_isfinite = math.isfinite
_BLAS_ONE_THREAD = 8192  # OpenBLAS's ddot runs one thread up to 10000 elements


def finite_array(v: np.ndarray) -> bool:
    """Whether the float ndarray ``v`` holds no inf or nan.

    On small arrays, ``np.isfinite`` counted (``count_nonzero``): a classification
    that sets no floating-point flag, ~1.5x quicker than the dot product of
    ``abs(v)`` with ``2**-14`` this was before (0.65 against 1 us at n = 100).
    On large ones, a plain sum (numpy's own loop, no temporary array: a boolean
    mask of 10**6 entries would be faulted in on every call; a BLAS dot product
    would split over threads, whose wake-up costs milliseconds on a loaded
    machine).  Neither warns nor raises in any ``np.errstate`` (the result is only
    a finiteness check, not a value of the user's): a sum that overflows on
    finite data (a false no) only sends the caller down its careful path.

    Examples
    --------
    >>> finite_array(np.array([1.0, 2.0])), finite_array(np.array([1.0, np.inf]))
    (True, False)
    >>> finite_array(np.array([1e300, -1e300]))  # no overflow warning
    True
    """
    if v.size <= _BLAS_ONE_THREAD:
        if v.dtype.kind in "fc":
            return bool(_count_nonzero(_isfinite_ufunc(v)) == v.size)
        a = np.abs(v)  # (inf and nan stay so; abs raises no floating-point flag)
        try:
            return _isfinite(a.dot(_WEIGHTS[:a.size]) if a.ndim == 1
                             else _dot(a.reshape(-1), _WEIGHTS[:a.size]))
        except FloatingPointError:  # np.seterr(under="raise"), entries below 1e-303
            return bool(np.isfinite(v).all())
    with np.errstate(over="ignore", invalid="ignore"):
        return _isfinite(_add_reduce(v, axis=None))


_WEIGHTS = np.full(_BLAS_ONE_THREAD, 2.0 ** -14)
_WEIGHTS.flags.writeable = False
_dot = np.dot
_isfinite_ufunc = np.isfinite


def _c_count_nonzero() -> Callable[[Any], int]:
    """numpy's own C ``count_nonzero`` of a whole array, where it can be imported
    and answers as ``np.count_nonzero`` does; else ``np.count_nonzero`` itself.

    ``np.count_nonzero(a)`` is a Python wrapper around it (~0.5-1 us of Python per
    call, as much as the count of a boolean mask of a few hundred entries), and the
    finiteness tests of the fast lanes call it several times per operation.
    """
    for name in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):
        try:
            module = __import__(name, fromlist=["count_nonzero"])
            fn = module.count_nonzero
            probe = np.array([[True, False, True], [False, False, True]])
            if fn(probe) == 3 and fn(probe[:, 1:]) == 2 and fn(np.zeros(0, bool)) == 0:
                return fn  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 - a private module: any failure takes the public one
            continue
    return np.count_nonzero


#: ``np.count_nonzero(a)`` for a whole array (no axis), without its Python wrapper.
count_nonzero = _c_count_nonzero()
_count_nonzero = count_nonzero


def filled_view(one: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A read-only view of the 0-d array ``one`` repeated to ``shape`` (all strides
    0): what ``np.broadcast_to(one, shape)`` returns, without its Python wrapper
    (~1 us instead of ~4 us; hyperdual's zero seeds and parts, once per op).

    Examples
    --------
    >>> v = filled_view(np.zeros(()), (2, 3))
    >>> v.shape, v.strides, v.flags.writeable, float(v.sum())
    ((2, 3), (0, 0), False, 0.0)
    """
    out = np.ndarray(shape, one.dtype, one, 0, (0,) * len(shape))
    out.flags.writeable = False
    return out


def zero_weighted(out: Any, weight: Any) -> Any:
    """``out``, a product ``weight * t``, with an exact 0 wherever the weight is an
    exact 0 and ``out`` is inf or NaN.

    The convention of both engines: a factor that is exactly zero contributes
    exactly zero, even where the other factor is inf or NaN.  Reverse mode's
    zero cotangent (``reverse.rules._util._keep_zero``) and forward mode's
    constant factor (``0.0 * sqrt(x)`` at 0, a zero weight of ``np.average``:
    ``hyperdual._number``) both pass through here, so ``0 * inf`` is 0 only
    where one factor is a structural zero; ``weight`` must be such a factor
    (a constant, a cotangent), never a value computed from the moving data.
    Only non-finite entries change (a finite ``out`` is returned as is, after
    one reduction; signed zeros are kept).  Lazy (foreign) arrays get the mask
    without being asked whether it is empty.

    Examples
    --------
    >>> w = np.array([0.0, 2.0])
    >>> zero_weighted(np.array([np.nan, np.inf]), w)  # w * [inf, inf]
    array([ 0., inf])
    >>> zero_weighted(0.0 * float("nan"), 0.0)
    0.0
    """
    t = type(out)
    if t is float:
        if out - out == 0.0 or weight != 0:
            return out
        return 0.0
    if t is np.ndarray:
        if out.dtype.kind != "f" or (out.size and finite_array(out)):
            return out
    elif isinstance(out, np.floating):
        if _isfinite(out):
            return out
    elif not (hasattr(out, "dtype") and hasattr(out, "shape")):
        return out  # nested engine numbers: their own rules decide
    else:  # lazy (dask): the same mask, not computed here
        return np.where(np.equal(weight, 0), np.zeros((), dtype=out.dtype), out)
    with np.errstate(invalid="ignore"):
        dead = np.logical_and(np.equal(weight, 0), ~np.isfinite(out))
    if not dead.any():
        return out
    res = np.where(dead, np.zeros((), dtype=out.dtype), out)
    return res if t is np.ndarray else res[()]


#: True while reverse's second-order helpers watch numpy's underflow flag
#: (reverse.helpers._second_order): the library's quiet blocks then leave it visible.
WATCH_UNDERFLOW: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "exactdiff_watch_underflow", default=False)

#: True while reverse mode runs a backward pass (reverse.core._backward_pass): the
#: range watch (fprange.second_order) keeps the floating-point warnings of the
#: pass's own adjoints from the user.
IN_BACKWARD: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "exactdiff_in_backward", default=False)


def fpe_ignored() -> Any:
    """``np.errstate(all="ignore")`` for the library's own floating-point work,
    except that underflow and overflow reach reverse's second-order watch while
    it runs (reverse.helpers._second_order).

    Examples
    --------
    >>> with fpe_ignored():
    ...     float(np.float64(1e-300) * 1e-300)
    0.0
    """
    if WATCH_UNDERFLOW.get():
        return np.errstate(all="ignore", under="call", over="call")
    return np.errstate(all="ignore")


def select_branch(x: Any, r: Any, cond: Callable[[Any], Any], near: Callable[[Any], Any],
                  far: Callable[[Any], Any], where: Callable[[Any, Any, Any], Any]) -> Any:
    """``near(x)`` where ``cond(r)`` holds (r: x's plain value), else ``far(x)``.

    Both engines' piecewise rules (a series where a closed form cancels, a removable
    singularity): on numpy data a branch no entry needs is not evaluated; on data
    of another library (dask) the mask is not inspected, which would compute it, and
    both branches are formed lazily and picked by ``where(mask, near, far)``.

    Examples
    --------
    >>> select_branch(0.5, 0.5, lambda r: r < 1, lambda x: "near", lambda x: "far", None)
    'near'
    >>> select_branch(np.array([0.5, 2.0]), np.array([0.5, 2.0]), lambda r: r < 1,
    ...               lambda x: x * 0, lambda x: x, np.where).tolist()
    [0.0, 2.0]
    """
    if is_foreign_array(r):
        c = cond(r)
    else:
        c = cond(np.asarray(r))
        if np.ndim(c) == 0:
            return near(x) if bool(c) else far(x)
        if c.all():
            return near(x)
        if not c.any():
            return far(x)
    with fpe_ignored():
        a, b = near(x), far(x)
    return where(c, a, b)


def engine_name(*xs: Any) -> str:
    """``"hyperdual"`` or ``"reverse"``: the engine of the first engine value in ``xs``."""
    for x in xs:
        if is_traced(x):
            return type(x).__module__.split(".", 1)[0]
        if isinstance(x, (list, tuple)):
            name = engine_name(*x)
            if name != "exactdiff":
                return name
    return "exactdiff"


def unsupported(message: str, *xs: Any) -> TypeError:
    """A ``TypeError`` whose message starts with the engine of ``xs``."""
    return TypeError(f"{engine_name(*xs)}: {message}")


def plain(x: Any, fname: str, what: str) -> Any:
    """``x`` if it is not an engine value; a ``TypeError`` otherwise.

    For arguments that numpy uses as positions, counts or flags: they have no
    derivative, and passing a differentiated value there is a mistake.
    """
    if is_traced(x) or (isinstance(x, (list, tuple)) and any(is_traced(v) for v in x)):
        raise unsupported(
            f"numpy.{fname}: {what} cannot be a differentiated value (Dual, HyperDual or "
            "Variable); pass plain numbers (e.g. its .real / .data)", x
        )
    return x


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an engine value or of anything numpy can convert."""
    if is_traced(x):
        return tuple(x.shape)
    return np.shape(x)


def float_dtype(*xs: Any) -> np.dtype:
    """The floating dtype of a result made of ``xs`` (float32 stays float32)."""
    # (a sparsity Pattern has no values, only its dtype)
    vals = [x.dtype if getattr(type(x), "_exactdiff_pattern", False) else value(x) for x in xs]
    # Python scalars stay weak (numpy's promotion rules); sequences become arrays
    # (another library's array gives its dtype: np.asarray would compute a dask one)
    vals = [v if is_traced(x) or isinstance(v, (int, float)) else
            v.dtype if is_foreign_array(v) else np.asarray(v) for x, v in zip(xs, vals)]
    dt = np.result_type(*vals) if vals else np.dtype(np.float64)
    return dt if dt.kind == "f" else np.dtype(np.float64)


def in_dtype(v: Any, dtype: Any) -> Any:
    """A helper's derivative with respect to x, cast to x's floating ``dtype``.

    The dtype rule of every helper of both engines (JAX's ``grad``/``jacobian``/
    ``hessian``/``vjp`` follow it too): f may compute in another precision than x
    (``x.astype(np.float32)`` inside f, a float64 constant meeting a float32 x),
    and the derivative with respect to x still has x's dtype.  A float64 scalar
    comes back as a Python float; an engine's number (a nested helper's result)
    is left to its own helper; ``dtype`` None leaves ``v`` as it is.

    Examples
    --------
    >>> in_dtype(np.float32(0.5), np.dtype(np.float64))
    0.5
    >>> in_dtype(np.array([0.5]), np.dtype(np.float32)).dtype
    dtype('float32')
    """
    if dtype is None:
        return v
    tv = type(v)
    if tv is float:
        return v if dtype == np.float64 else dtype.type(v)
    if tv is not np.ndarray and not isinstance(v, np.generic) and is_traced(v):
        return v
    vt = getattr(v, "dtype", None)
    if vt is None or vt == dtype or vt.kind != "f":
        return v
    v = v.astype(dtype)
    return float(v) if dtype == np.float64 and isinstance(v, np.generic) else v


def positions(x: Any, start: int = 0) -> np.ndarray:
    """Consecutive integers from ``start`` in the shape of ``x`` (an index map seed)."""
    shape = shape_of(x)
    return np.arange(start, start + math.prod(shape), dtype=np.intp).reshape(shape)


def _flat(x: Any, dtype: np.dtype) -> Any:
    if is_traced(x):
        return np.reshape(x, (-1,))
    # constants in the result's dtype: a Python float next to float32 stays float32
    return np.ravel(np.asarray(x, dtype=dtype))


def gather(sources: Sequence[Any], index: Any) -> Any:
    """Elements of ``sources`` (raveled and joined end to end) at ``index``.

    ``index`` is an integer array; ``-1`` marks an element the numpy function
    inserted as zero (it gets value 0 and derivative 0).  The result has the
    shape of ``index`` and the floating dtype of the sources.
    """
    index = np.asarray(index)
    dt = float_dtype(*sources)
    flats = [_flat(s, dt) for s in sources]
    total = sum(math.prod(shape_of(s)) for s in sources)
    if index.size and index.min() < 0:
        flats.append(np.zeros(1, dtype=dt))
        index = np.where(index < 0, total, index)
    src = flats[0] if len(flats) == 1 else np.concatenate(flats)
    if not is_traced(src):
        src = np.asarray(src, dtype=dt)
    if index.ndim > 1 and not getattr(type(src), "_exactdiff_pattern", False) \
            and is_lazy(value(src)):  # (a sparsity Pattern has no values to ask)
        # dask indexes by one-dimensional integer arrays only (an n-d one raises)
        return np.reshape(src[np.reshape(index, (-1,))], index.shape)
    return src[index]


def operand(x: Any) -> Any:
    """``x``, with a (nested) list holding engine values stacked into one value.

    ``np.append([1.0, d], ...)`` then works as numpy would treat the list; a
    list of constants is left for numpy to convert.
    """
    if isinstance(x, (list, tuple)) and any(
            is_traced(v) or isinstance(v, (list, tuple)) for v in x):
        items = [operand(v) for v in x]
        if any(is_traced(v) for v in items):
            return np.stack([v if is_traced(v) else np.asarray(v) for v in items])
    return x


def pick(x: Any, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``func(x, *args, **kwargs)`` for a numpy selection ``func`` (see the module doc).

    ``func`` runs on the positions ``1..n`` so that the zeros it inserts
    (``triu``, ``diag`` of a vector, ``pad``) are told apart from position 0.
    """
    x = operand(x)
    return gather([x], np.asarray(func(positions(x, 1), *args, **kwargs)) - 1)


def pick_many(arrays: Sequence[Any], func: Callable[[list], Any]) -> Any:
    """A selection from several inputs: ``func`` gets each input's positions."""
    arrays = [operand(a) for a in arrays]
    maps, start = [], 1
    for a in arrays:
        p = positions(a, start)
        maps.append(p)
        start += p.size
    return gather(arrays, np.asarray(func(maps)) - 1)


def normalize_axis(axis: int, ndim: int) -> int:
    """``axis`` in ``range(ndim)``, numpy's AxisError otherwise."""
    a = int(axis)
    if not -ndim <= a < ndim:
        raise np.exceptions.AxisError(a, ndim)
    return a % ndim


def scalar_axis(axis: Any, ndim: int) -> Any:
    """``axis`` of a reduction, with numpy's legacy rule for a 0-d input: an integer
    axis 0 or -1 there means every axis (None), as ``np.sum``, ``np.max``,
    ``np.cumprod``, ``np.nanvar`` ... of a 0-d array take it (a tuple ``(0,)`` is an
    AxisError, as in numpy).  Other axes, and inputs with dimensions, as given.

    Examples
    --------
    >>> scalar_axis(0, 0), scalar_axis(-1, 0), scalar_axis(0, 1), scalar_axis((0,), 0)
    (None, None, 0, (0,))
    """
    if ndim != 0 or axis is None or isinstance(axis, (bool, np.bool_, tuple, list)):
        return axis
    try:
        a = axis.__index__()
    except (AttributeError, TypeError):
        return axis
    return None if a in (0, -1) else axis


#: numpy functions whose axis refers to the input's axes: the position of their axis
#: argument, and whether they take axis 0 or -1 of a 0-d input as every axis (numpy's
#: legacy rule, :func:`scalar_axis`; np.var, np.mean, np.median ... refuse it).  The
#: engines' dispatch normalises a 0-d input's axis before their rules see it.
SCALAR_AXIS_FUNCTIONS: dict = {
    f: (1, True) for f in (np.sum, np.prod, np.max, np.min, np.amax, np.amin, np.cumsum,
                           np.cumprod, np.nansum, np.nanprod, np.nanmax, np.nanmin,
                           np.nanmean, np.nanvar, np.nanstd, np.nancumsum, np.nancumprod,
                           np.ptp, np.squeeze)}
SCALAR_AXIS_FUNCTIONS[np.take] = (2, True)
SCALAR_AXIS_FUNCTIONS.update({f: (1, False) for f in (np.var, np.std, np.mean, np.median,
                                                        np.nanmedian, np.average)})
SCALAR_AXIS_FUNCTIONS.update({f: (2, False) for f in (np.quantile, np.percentile,
                                                        np.nanquantile, np.nanpercentile)})
#: those of them whose axis is one integer (numpy: TypeError for a tuple)
_INT_AXIS = {np.cumsum, np.cumprod, np.nancumsum, np.nancumprod, np.take}


def scalar_axis_call(func: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """``(args, kwargs)`` of a call of ``func`` (one of :data:`SCALAR_AXIS_FUNCTIONS`)
    with a 0-d first argument's axis as numpy takes it: 0 or -1 made None where numpy
    reads it as every axis, numpy's AxisError (TypeError for a tuple where numpy wants
    one integer) for any other axis but None and ``()``.

    Examples
    --------
    >>> scalar_axis_call(np.sum, (np.array(2.0),), {"axis": -1})
    ((array(2.),), {'axis': None})
    >>> scalar_axis_call(np.take, (np.array(2.0), 0, 0), {})
    ((array(2.), 0, None), {})
    >>> scalar_axis_call(np.var, (np.array(2.0),), {"axis": 0})
    Traceback (most recent call last):
    ...
    numpy.exceptions.AxisError: axis 0 is out of bounds for array of dimension 0
    """
    if not args or getattr(args[0], "ndim", None) != 0:
        return args, kwargs
    pos, legacy = SCALAR_AXIS_FUNCTIONS[func]
    if "axis" in kwargs:
        given = kwargs["axis"]
    elif len(args) > pos:
        given = args[pos]
    else:
        return args, kwargs
    axis = scalar_axis(given, 0) if legacy else given
    if axis is not None and not (isinstance(axis, tuple) and not axis):
        if isinstance(axis, (tuple, list)):
            if func in _INT_AXIS:
                raise TypeError(f"'{type(axis).__name__}' object cannot be interpreted as "
                                "an integer")
            axis = axis[0]
        try:
            a = axis.__index__()
        except (AttributeError, TypeError):
            return args, kwargs  # (not an integer: numpy's own error, from the rule)
        raise np.exceptions.AxisError(a, 0)
    if axis is given:
        return args, kwargs
    if "axis" in kwargs:
        return args, dict(kwargs, axis=axis)
    return args[:pos] + (axis,) + args[pos + 1:], kwargs


def read_dtype(dtype: Any) -> np.dtype:
    """``np.dtype(dtype)``, with a DType class (``np.dtypes.Float32DType``; numpy 2.5's
    ``np.histogram`` passes ``dtype=type(result_type(...))``) read as the dtype it names,
    as numpy's own ``astype`` and ufuncs read it: ``np.dtype()`` of the class is object.

    Examples
    --------
    >>> read_dtype(type(np.dtype(np.float32))), read_dtype("f8")
    (dtype('float32'), dtype('float64'))
    """
    if isinstance(dtype, type) and issubclass(dtype, np.dtype):
        try:
            return dtype()
        except TypeError:  # a parametric DType class without its parameters
            pass
    return np.dtype(dtype)


def float_dtype_operands(inputs: Sequence[Any], kwargs: dict) -> tuple | None:
    """A ufunc call's ``dtype=`` of a float type as the cast of its operands (numpy
    computes in that type, casting the inputs to it), for the engines to call the
    ufunc again without it; ``None`` when there is no ``dtype=`` or it is not a float
    type (those stay refused, naming the keyword).

    Examples
    --------
    >>> ops, rest = float_dtype_operands([np.array([1, 2])], {"dtype": np.float32})
    >>> ops[0].dtype, rest
    (dtype('float32'), {})
    """
    dtype = kwargs.get("dtype")
    if dtype is None:
        return None
    dt = read_dtype(dtype)
    if dt.kind != "f":
        return None
    # (a list or tuple operand may hold engine values: numpy's own conversion of it
    # would drop them, so it is passed on as it is)
    ops = [v.astype(dt) if is_traced(v) else v if isinstance(v, (list, tuple))
           else np.asarray(v, dtype=dt) for v in inputs]
    return ops, {k: v for k, v in kwargs.items() if k != "dtype"}
