"""Array building and shape functions, written once for both engines.

Selections (``tile``, ``repeat``, ``pad``, ``diag``, ``triu``, ``roll``, ``insert``
...) run numpy's own implementation on an index map and gather (see
:mod:`._common`), so they follow numpy's semantics for every argument form by
construction.  Linear maps that are not selections (``diff``, ``gradient``,
``convolve``, ``linspace``) and ``interp``/``polyval`` are short compositions of
slicing and arithmetic.  Each function here takes the arguments of the numpy
function of the same name; the engines register them in their dispatch tables.

Examples
--------
>>> import numpy as np
>>> tile(np.array([1.0, 2.0]), 2)
array([1., 2., 1., 2.])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ._common import (
    float_dtype,
    gather,
    is_traced,
    normalize_axis,
    operand,
    pick,
    pick_many,
    plain,
    positions,
    read_dtype,
    shape_of,
    unsupported,
    value,
)
from .arrays import is_foreign_array, plain_array

_NoValue = np._NoValue


def reshape_fortran(x: Any, shape: Any, order: Any, engine: str) -> Any:
    """``np.reshape(x, shape, order=order)`` for ``order`` other than "C": "F" reads and
    writes the elements with the first index fastest, which is the C-order reshape of the
    reversed axes, reversed back (two transposes, so every engine's own reshape and
    transpose rules apply).  "A" and "K" follow the memory layout of an array, which a
    differentiated value does not have: TypeError."""
    if order != "F":
        raise TypeError(f"{engine}: reshape/ravel order={order!r} is not supported; use "
                        "order='C' or 'F'")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    target = np.empty(shape_of(x), dtype=np.bool_).reshape(shape).shape  # resolves -1
    return np.transpose(np.reshape(np.transpose(x), target[::-1]))


# ---------------------------------------------------------------------------
# Selections of one array
# ---------------------------------------------------------------------------
def tile(A: Any, reps: Any) -> Any:
    """``np.tile``."""
    return pick(A, np.tile, plain(reps, "tile", "reps"))


def repeat(a: Any, repeats: Any, axis: Any = None) -> Any:
    """``np.repeat``."""
    return pick(a, np.repeat, plain(repeats, "repeat", "repeats"), axis)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Any:
    """``np.pad`` for the selecting modes (constant, edge, reflect, symmetric, wrap).

    ``constant_values`` are constants (derivative 0).  ``reflect_type='odd'``
    and the statistic modes are refused with a ``TypeError``.
    """
    plain(pad_width, "pad", "pad_width")
    if mode not in _PAD_MODES or kwargs.get("reflect_type", "even") != "even":
        raise unsupported(
            f"numpy.pad(mode={mode!r}{', reflect_type=odd' if 'reflect_type' in kwargs else ''})"
            f" is not supported (no derivative rule); supported modes: {_PAD_MODES}", array
        )
    if mode != "constant":
        return pick(array, np.pad, pad_width, mode=mode, **kwargs)
    cv = plain(kwargs.get("constant_values", 0), "pad", "constant_values")
    out = pick(array, np.pad, pad_width, mode="constant")
    if np.any(np.asarray(cv) != 0):
        dt = float_dtype(array)
        inside = np.pad(np.ones(shape_of(array), dtype=bool), pad_width, mode="constant")
        fill = np.pad(np.zeros(shape_of(array), dtype=dt), pad_width, mode="constant",
                      constant_values=cv)
        out = np.where(inside, out, fill)
    return out


def diag(v: Any, k: int = 0) -> Any:
    """``np.diag``: the k-th diagonal of a matrix, or a matrix with ``v`` on it."""
    return pick(v, np.diag, k)


def diagflat(v: Any, k: int = 0) -> Any:
    """``np.diagflat``."""
    return pick(v, np.diagflat, k)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """``np.diagonal`` (a copy, not a read-only view)."""
    return pick(a, np.diagonal, offset, axis1, axis2)


def triu(m: Any, k: int = 0) -> Any:
    """``np.triu``."""
    return pick(m, np.triu, k)


def tril(m: Any, k: int = 0) -> Any:
    """``np.tril``."""
    return pick(m, np.tril, k)


def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """``np.roll``."""
    return pick(a, np.roll, plain(shift, "roll", "shift"), axis)


def flip(m: Any, axis: Any = None) -> Any:
    """``np.flip``."""
    return pick(m, np.flip, axis)


def fliplr(m: Any) -> Any:
    """``np.fliplr``."""
    return pick(m, np.fliplr)


def flipud(m: Any) -> Any:
    """``np.flipud``."""
    return pick(m, np.flipud)


def rot90(m: Any, k: int = 1, axes: Any = (0, 1)) -> Any:
    """``np.rot90``."""
    return pick(m, np.rot90, k, axes)


def take(a: Any, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Any:
    """``np.take`` (``out=`` is refused)."""
    _no_out("take", out, a)
    return pick(a, np.take, plain(indices, "take", "indices"), axis, mode=mode)


def take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Any:
    """``np.take_along_axis``."""
    return pick(arr, np.take_along_axis, plain(indices, "take_along_axis", "indices"), axis)


def compress(condition: Any, a: Any, axis: Any = None, out: Any = None) -> Any:
    """``np.compress`` (the condition is not differentiated)."""
    _no_out("compress", out, a)
    cond = value(condition)
    return pick(a, lambda p: np.compress(cond, p, axis))


def extract(condition: Any, arr: Any) -> Any:
    """``np.extract`` (the condition is not differentiated)."""
    cond = value(condition)
    return pick(arr, lambda p: np.extract(cond, p))


def resize(a: Any, new_shape: Any) -> Any:
    """``np.resize`` (repeats the elements to fill ``new_shape``)."""
    return pick(a, np.resize, plain(new_shape, "resize", "new_shape"))


def delete(arr: Any, obj: Any, axis: Any = None) -> Any:
    """``np.delete``."""
    return pick(arr, np.delete, plain(obj, "delete", "obj"), axis)


# ---------------------------------------------------------------------------
# Selections from several arrays
# ---------------------------------------------------------------------------
def insert(arr: Any, obj: Any, values: Any, axis: Any = None) -> Any:
    """``np.insert``; both ``arr`` and ``values`` may be differentiated."""
    plain(obj, "insert", "obj")
    if not is_traced(values):  # numpy casts the values to arr's dtype
        values = np.asarray(values, dtype=float_dtype(arr))
    return pick_many([arr, values], lambda m: np.insert(m[0], obj, m[1], axis))


def append(arr: Any, values: Any, axis: Any = None) -> Any:
    """``np.append``."""
    return pick_many([arr, values], lambda m: np.append(m[0], m[1], axis))


def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    """``np.choose`` (``a`` holds indices: not differentiated)."""
    _no_out("choose", out, choices)
    idx = value(a)
    return pick_many(list(choices), lambda m: np.choose(idx, m, mode=mode))


def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """``np.select``; the choices and ``default`` may be differentiated."""
    conds = [plain_array(value(c)) for c in condlist]
    choices = list(choicelist)
    if isinstance(default, (int, float)):  # a Python scalar is weak, as in numpy
        default = np.asarray(default, dtype=float_dtype(*choices))
    if any(is_foreign_array(c) for c in conds) and len(conds) == len(choices):
        # lazy conditions cannot pick positions without computing them: the first
        # condition that holds wins, so nest np.where from the last one
        out = default
        for cond, choice in zip(conds[::-1], choices[::-1]):
            out = np.where(cond, choice, out)
        return out
    return pick_many(choices + [default],
                     lambda m: np.select(conds, m[:-1], default=m[-1]))


def _arrays(seq: Any) -> list:
    """Constants as arrays, as numpy converts them (a Python float is then float64)."""
    return [a if is_traced(a) else np.asarray(a) for a in map(operand, seq)]


def _pieces(tup: Any, fname: str) -> list:
    arrs = _arrays(tup)
    if not arrs:
        raise ValueError("need at least one array to concatenate")
    return arrs


def hstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """``np.hstack``: join along the second axis (the first for 1-d pieces)."""
    from .statistics import cast_pieces

    arrs = cast_pieces("hstack", [atleast_1d(a) for a in _pieces(tup, "hstack")], dtype,
                       casting)
    return np.concatenate(arrs, axis=0 if len(shape_of(arrs[0])) == 1 else 1)


def vstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    """``np.vstack``: join along the first axis after ``atleast_2d``."""
    from .statistics import cast_pieces

    return np.concatenate(cast_pieces("vstack", [atleast_2d(a) for a in _pieces(tup, "vstack")],
                                      dtype, casting), axis=0)


def dstack(tup: Any) -> Any:
    """``np.dstack``: join along the third axis after ``atleast_3d``."""
    return np.concatenate([atleast_3d(a) for a in _pieces(tup, "dstack")], axis=2)


def column_stack(tup: Any) -> Any:
    """``np.column_stack``: 1-d pieces become columns, then join along axis 1."""
    arrs = [np.reshape(a, (-1, 1)) if len(shape_of(a)) < 2 else a
            for a in _pieces(tup, "column_stack")]
    return np.concatenate(arrs, axis=1)


def _leaves(nested: Any, out: list) -> Any:
    """The arrays of a nested list (np.block's argument), replaced by their slots."""
    if isinstance(nested, list):
        return [_leaves(n, out) for n in nested]
    out.append(nested)
    return len(out) - 1


def _fill(template: Any, maps: list) -> Any:
    if isinstance(template, list):
        return [_fill(t, maps) for t in template]
    return maps[template]


def block(arrays: Any) -> Any:
    """``np.block``."""
    leaves: list = []
    template = _leaves(arrays, leaves)
    return pick_many(_arrays(leaves), lambda m: np.block(_fill(template, m)))


# ---------------------------------------------------------------------------
# Shape changes (reshape / transpose underneath)
# ---------------------------------------------------------------------------
def _probe(shape: tuple) -> np.ndarray:
    """A zero-stride array of ``shape``: numpy's shape logic at no memory cost."""
    return np.broadcast_to(np.empty((), dtype=np.int8), shape)


def _atleast(func: Any) -> Any:
    def impl(*arys: Any) -> Any:
        out = tuple(np.reshape(a, func(_probe(shape_of(a))).shape) if is_traced(a)
                    else func(a) for a in map(operand, arys))
        return out[0] if len(out) == 1 else out

    impl.__name__ = func.__name__
    impl.__doc__ = f"``np.{func.__name__}``."
    return impl


atleast_1d = _atleast(np.atleast_1d)
atleast_2d = _atleast(np.atleast_2d)
atleast_3d = _atleast(np.atleast_3d)


def _permutation(func: Any, ndim: int, *args: Any) -> tuple:
    # distinct axis lengths 2, 3, ... identify where each axis went
    out = func(_probe(tuple(range(2, ndim + 2))), *args)
    return tuple(n - 2 for n in out.shape)


def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """``np.moveaxis``."""
    return np.transpose(a, _permutation(np.moveaxis, len(shape_of(a)), source, destination))


def rollaxis(a: Any, axis: int, start: int = 0) -> Any:
    """``np.rollaxis``."""
    return np.transpose(a, _permutation(np.rollaxis, len(shape_of(a)), axis, start))


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """``np.swapaxes``."""
    return np.transpose(a, _permutation(np.swapaxes, len(shape_of(a)), axis1, axis2))


def broadcast_arrays(*args: Any, subok: bool = False) -> tuple:
    """``np.broadcast_arrays`` (copies rather than read-only views)."""
    shape = np.broadcast_shapes(*[shape_of(a) for a in args])
    return tuple(np.broadcast_to(a, shape) if shape_of(a) != shape else a for a in args)


def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple:
    """``np.meshgrid``."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    n = len(xi)
    s0 = (1,) * n
    out = [np.reshape(x, s0[:i] + (-1,) + s0[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and n > 1:
        out[0] = np.reshape(out[0], (1, -1) + s0[2:])
        out[1] = np.reshape(out[1], (-1, 1) + s0[2:])
    if not sparse:
        out = list(broadcast_arrays(*out))
    return tuple(out)


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """``np.split``."""
    plain(indices_or_sections, "split", "indices_or_sections")
    return [gather([ary], m) for m in np.split(positions(ary), indices_or_sections, axis)]


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """``np.array_split``."""
    plain(indices_or_sections, "array_split", "indices_or_sections")
    return [gather([ary], m)
            for m in np.array_split(positions(ary), indices_or_sections, axis)]


def _splitter(func: Any) -> Any:
    def impl(ary: Any, indices_or_sections: Any) -> list:
        plain(indices_or_sections, func.__name__, "indices_or_sections")
        return [gather([ary], m) for m in func(positions(ary), indices_or_sections)]

    impl.__name__ = func.__name__
    impl.__doc__ = f"``np.{func.__name__}``."
    return impl


hsplit = _splitter(np.hsplit)
vsplit = _splitter(np.vsplit)
dsplit = _splitter(np.dsplit)


# ---------------------------------------------------------------------------
# Constants and identities
# ---------------------------------------------------------------------------
def real(val: Any) -> Any:
    """``np.real`` of a real number: the number itself."""
    return val


def real_if_close(a: Any, tol: float = 100) -> Any:
    """``np.real_if_close`` of a real number: the number itself."""
    return a


def imag(val: Any) -> Any:
    """``np.imag`` of a real number: zeros (a constant)."""
    v = value(val)
    return np.zeros(np.shape(v), dtype=float_dtype(val))


def full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K",
              subok: bool = True, shape: Any = None, **kwargs: Any) -> Any:
    """``np.full_like``: a constant, unless ``fill_value`` itself is differentiated."""
    if is_traced(fill_value):
        zeros = np.zeros_like(value(a), dtype=dtype or float_dtype(fill_value), shape=shape)
        return zeros + fill_value
    return np.full_like(value(a), fill_value, dtype=dtype, shape=shape)


def empty_like(prototype: Any, dtype: Any = None, order: str = "K", subok: bool = True,
               shape: Any = None, **kwargs: Any) -> Any:
    """``np.empty_like`` (a constant)."""
    return np.empty_like(value(prototype), dtype=dtype, shape=shape)


def _no_out(fname: str, out: Any, *xs: Any) -> None:
    if out is not None:
        raise unsupported(f"numpy.{fname} with out= is not supported (the engines' values "
                          "are immutable)", *xs)


# ---------------------------------------------------------------------------
# Linear maps that are not selections
# ---------------------------------------------------------------------------
def _along(axis: int, ndim: int, item: Any) -> tuple:
    return (slice(None),) * axis + (item,) + (slice(None),) * (ndim - axis - 1)


def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = _NoValue,
         append: Any = _NoValue) -> Any:
    """``np.diff`` with ``prepend``/``append`` (which may be differentiated too)."""
    n = int(plain(n, "diff", "n"))
    if n == 0:
        return a
    if n < 0:
        raise ValueError("order must be non-negative but got " + repr(n))
    shape = shape_of(a)
    nd = len(shape)
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, nd)
    parts = []
    for extra in (prepend, append):
        if extra is _NoValue:
            parts.append(None)
            continue
        if len(shape_of(extra)) == 0:
            extra = np.broadcast_to(extra, shape[:axis] + (1,) + shape[axis + 1:])
        parts.append(extra)
    if parts[0] is not None or parts[1] is not None:
        a = np.concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis=axis)
        nd = len(shape_of(a))
    hi, lo = _along(axis, nd, slice(1, None)), _along(axis, nd, slice(None, -1))
    for _ in range(n):
        a = a[hi] - a[lo]
    return a


def _spacings(varargs: tuple, axes: tuple, shape: tuple) -> list:
    n = len(varargs)
    if n == 0:
        return [1.0] * len(axes)
    if n == 1 and np.ndim(varargs[0]) == 0:
        return [float(varargs[0])] * len(axes)
    if n != len(axes):
        raise TypeError("invalid number of arguments")
    out = []
    for d, ax in zip(varargs, axes):
        d = np.asarray(d)
        if d.ndim == 0:
            out.append(float(d))
            continue
        if d.ndim != 1:
            raise ValueError("distances must be either scalars or 1d")
        if len(d) != shape[ax]:
            raise ValueError("when 1d, distances must match the length of the "
                             "corresponding dimension")
        dx = np.diff(d.astype(np.float64) if d.dtype.kind in "iub" else d)
        out.append(float(dx[0]) if np.all(dx == dx[0]) else dx)
    return out


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """``np.gradient`` (second-order central differences; spacings are constants)."""
    for v in varargs:
        plain(v, "gradient", "spacing")
    shape = shape_of(f)
    nd = len(shape)
    axes = tuple(range(nd)) if axis is None else tuple(
        normalize_axis(a, nd) for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    if len(set(axes)) != len(axes):
        raise ValueError("duplicate value in 'axis'")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    spacing = _spacings(varargs, axes, shape)
    outs = []
    for ax, dx in zip(axes, spacing):
        if shape[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")
        outs.append(_gradient_axis(f, ax, nd, dx, edge_order))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _gradient_axis(f: Any, ax: int, nd: int, dx: Any, edge_order: int) -> Any:
    def s(item: Any) -> Any:
        return f[_along(ax, nd, item)]

    if np.ndim(dx):
        # numpy's result has f's dtype whatever the coordinates' dtype
        dx = np.asarray(dx, dtype=np.float64)
        cast = float_dtype(f)
    else:
        cast = None

    uniform = np.ndim(dx) == 0
    bshape = [1] * nd
    bshape[ax] = -1
    if uniform:
        interior = (s(slice(2, None)) - s(slice(None, -2))) / (2.0 * dx)
    else:
        dx1, dx2 = dx[:-1], dx[1:]
        a = np.reshape(-dx2 / (dx1 * (dx1 + dx2)), bshape).astype(cast)
        b = np.reshape((dx2 - dx1) / (dx1 * dx2), bshape).astype(cast)
        c = np.reshape(dx1 / (dx2 * (dx1 + dx2)), bshape).astype(cast)
        interior = a * s(slice(None, -2)) + b * s(slice(1, -1)) + c * s(slice(2, None))
    if edge_order == 1:
        d0, dn = (dx, dx) if uniform else (float(dx[0]), float(dx[-1]))
        first = (s(slice(1, 2)) - s(slice(0, 1))) / d0
        last = (s(slice(-1, None)) - s(slice(-2, -1))) / dn
    else:
        if uniform:
            a, b, c = -1.5 / dx, 2.0 / dx, -0.5 / dx
            a2, b2, c2 = 0.5 / dx, -2.0 / dx, 1.5 / dx
        else:
            dx1, dx2 = float(dx[0]), float(dx[1])
            a = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
            b = (dx1 + dx2) / (dx1 * dx2)
            c = -dx1 / (dx2 * (dx1 + dx2))
            dx1, dx2 = float(dx[-2]), float(dx[-1])
            a2 = dx2 / (dx1 * (dx1 + dx2))
            b2 = -(dx2 + dx1) / (dx1 * dx2)
            c2 = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
        first = a * s(slice(0, 1)) + b * s(slice(1, 2)) + c * s(slice(2, 3))
        last = a2 * s(slice(-3, -2)) + b2 * s(slice(-2, -1)) + c2 * s(slice(-1, None))
    return np.concatenate([first, interior, last], axis=ax)


_MODES = {"valid": "valid", "same": "same", "full": "full", "v": "valid", "s": "same",
          "f": "full", 0: "valid", 1: "same", 2: "full"}


def _correlate(a: Any, v: Any, mode: Any) -> Any:
    """sum_j a[k + j - offset] * v[j]: a gathered Toeplitz matrix times ``v``."""
    # a constant operand may be a list or tuple (np.correlate(x, [1.0, -1.0], "same"))
    a, v = (x if is_traced(x) else np.asarray(x, dtype=np.result_type(np.asarray(x), 1.0))
            for x in (a, v))
    na, nv = shape_of(a), shape_of(v)
    if len(na) != 1 or len(nv) != 1:
        raise ValueError("object too deep for desired array")
    n, m = na[0], nv[0]
    if n == 0:
        raise ValueError("a cannot be empty")
    if m == 0:
        raise ValueError("v cannot be empty")
    kind = _MODES.get(mode)
    if kind is None:
        raise ValueError(f"mode must be one of 'valid', 'same', or 'full' (got {mode!r})")
    short, long = min(n, m), max(n, m)
    if kind == "full":
        start, length = 0, n + m - 1
    elif kind == "valid":
        start, length = short - 1, long - short + 1
    else:  # numpy centres 'same' differently when the second operand is the longer
        start, length = ((short - 1) - short // 2 if n >= m else short // 2), long
    k = np.arange(start, start + length)[:, None]
    i = k + np.arange(m)[None, :] - (m - 1)
    index = np.where((i >= 0) & (i < n), i, -1)
    return gather([a], index) @ v


def correlate(a: Any, v: Any, mode: Any = "valid") -> Any:
    """``np.correlate`` of real 1-d sequences."""
    return _correlate(a, v, mode)


def convolve(a: Any, v: Any, mode: Any = "full") -> Any:
    """``np.convolve`` of 1-d sequences."""
    # numpy promotes 0-d operands to length 1 (np.convolve(2.0, [1, 2]) is [2, 4])
    a, v = (atleast_1d(t) if not shape_of(t) else t for t in (a, v))
    if len(shape_of(v)) == 1 and len(shape_of(a)) == 1 and shape_of(v)[0] > shape_of(a)[0]:
        a, v = v, a
    if len(shape_of(v)) == 1 and shape_of(v)[0] == 0:
        raise ValueError("v cannot be empty")
    return _correlate(a, v[::-1] if is_traced(v) else np.asarray(v)[::-1], mode)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0, **kwargs: Any) -> Any:
    """``np.linspace`` with differentiable ``start`` and ``stop`` (numpy's formula)."""
    num = operator.index(plain(num, "linspace", "num"))  # a float num is numpy's TypeError
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    dt = read_dtype(dtype) if dtype is not None else float_dtype(start, stop)
    if dt.kind != "f":
        raise unsupported(f"numpy.linspace: dtype {dt} has no derivative; use a float dtype",
                          start, stop)
    bshape = np.broadcast_shapes(shape_of(start), shape_of(stop))
    t = np.arange(num, dtype=dt).reshape((-1,) + (1,) * len(bshape))
    delta = stop - start
    if div > 0:
        step = delta / div
        zero = np.asarray(value(step)) == 0
        y = (t / div) * delta if np.any(zero) else t * step
    else:
        step = np.nan
        y = t * delta
    y = y + start
    if endpoint and num > 1:
        last = np.reshape(np.broadcast_to(stop, bshape), (1,) + bshape)
        y = np.concatenate([y[:-1], last], axis=0)
    if axis != 0:
        y = np.moveaxis(y, 0, axis)
    return (y, step) if retstep else y


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             base: Any = 10.0, dtype: Any = None, axis: int = 0) -> Any:
    """``np.logspace``: ``base ** linspace(start, stop)``."""
    y = linspace(start, stop, num=num, endpoint=endpoint, dtype=dtype, axis=axis)
    if len(shape_of(base)):
        base = np.expand_dims(base, axis)
    return np.power(base, y)


def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
           period: Any = None) -> Any:
    """``np.interp``, differentiable in ``x``, ``fp`` (and ``xp``, ``left``, ``right``).

    At a knot the derivative in ``x`` is the slope of the interval to its right
    (at the last knot, of the last interval), as in JAX; outside ``[xp[0],
    xp[-1]]`` the result is ``left``/``right``, flat in ``x``.
    """
    if period is not None:
        raise unsupported("numpy.interp(period=...) is not supported (no derivative rule)",
                          x, xp, fp)
    from .statistics import as_dtype

    # numpy interpolates in float64 (float32 data too)
    x, xp, fp = (as_dtype("interp", _array(v), np.float64) for v in (x, xp, fp))
    xv, xpv = np.asarray(value(x)), np.asarray(value(xp))
    if xpv.ndim != 1 or np.ndim(value(fp)) != 1:
        raise ValueError("object too deep for desired array")
    if len(xpv) != np.shape(value(fp))[0]:
        raise ValueError("fp and xp are not of the same length.")
    if len(xpv) == 0:
        raise ValueError("array of sample points is empty")
    if len(xpv) == 1:
        f = fp[np.zeros(xv.shape, dtype=np.intp)]
    else:
        i1 = np.clip(np.searchsorted(xpv, xv, side="right"), 1, len(xpv) - 1)
        i0 = i1 - 1
        x0, x1, f0, f1 = xp[i0], xp[i1], fp[i0], fp[i1]
        slope = (f1 - f0) / (x1 - x0)
        # numpy's form slope * (x - x0) + f0, anchored at x1 where x == x1 (the
        # last knot), so the value at every knot is fp exactly.
        f = np.where(xv == np.asarray(value(x1)), slope * (x - x1) + f1, slope * (x - x0) + f0)
    lo = fp[0] if left is None else left
    hi = fp[-1] if right is None else right
    f = np.where(xv < xpv[0], lo, f)
    f = np.where(xv > xpv[-1], hi, f)
    return f


def _array(x: Any) -> Any:
    return x if is_traced(x) else np.asarray(x)


def unwrap(p: Any, discont: Any = None, axis: Any = -1, *, period: Any = 2 * np.pi) -> Any:
    """``np.unwrap``: ``p`` plus numpy's piecewise-constant correction.

    The multiples of ``period`` that numpy adds are decided on the values (a jump of the
    correction is where ``p`` jumps by more than ``discont``), so they are a constant:
    the derivative of ``unwrap(p)`` is that of ``p``, at every order, and the values are
    numpy's (the same steps: ``p[k]`` plus the running sum of the corrections).
    ``discont`` and ``period`` are constants.

    Examples
    --------
    >>> import numpy as np
    >>> unwrap(np.array([0.0, 3.0, 6.5]))
    array([0.        , 3.        , 0.21681469])
    """
    discont = plain(discont, "unwrap", "discont") if discont is not None else None
    period = plain(period, "unwrap", "period")
    p = _array(p)
    if getattr(type(p), "_exactdiff_pattern", False) and not p.trace.local:
        return p + 0.0  # sparsity for every x: the pattern of p (the correction is constant)
    pv = np.asarray(value(p))
    nd = pv.ndim
    dd = np.diff(pv, axis=axis)  # numpy's errors (0-d input, bad axis)
    axis = normalize_axis(axis, nd)
    if discont is None:
        discont = period / 2
    dtype = np.result_type(dd, period)
    if np.issubdtype(dtype, np.integer):
        high, rem = divmod(period, 2)
        ambiguous = rem == 0
    else:
        high, ambiguous = period / 2, True
    ddmod = np.mod(dd - -high, period) + -high
    if ambiguous:  # a jump of exactly half a period: numpy keeps its sign
        np.copyto(ddmod, high, where=(ddmod == -high) & (dd > 0))
    correct = ddmod - dd
    np.copyto(correct, 0, where=np.abs(dd) < discont)
    c = np.zeros(pv.shape, dtype=np.result_type(dtype, float_dtype(p)))
    c[_along(axis, nd, slice(1, None))] = np.cumsum(correct, axis=axis)
    return p + c


def polyval(p: Any, x: Any) -> Any:
    """``np.polyval`` by Horner's rule, as numpy evaluates it."""
    if isinstance(p, np.poly1d):
        p = p.coeffs
    p = p if isinstance(p, list) else _array(p)
    y = np.zeros(np.shape(value(x)), dtype=float_dtype(x, p))
    # Leading coefficients that are constant zeros leave y exactly 0 at a finite x:
    # skipped, so that an inf/NaN derivative of x meets no 0 * inf there (a constant 0
    # contributes 0: polyval([0, 0, 1], sqrt(x)) has derivative 0 at x = 0).
    start = 0
    while (start < len(p) - 1 and not is_traced(p[start]) and np.ndim(p[start]) == 0
           and p[start] == 0):
        start += 1
    if start and not np.all(np.isfinite(value(x))):
        start = 0  # numpy's 0 * inf = nan in the value
    for i in range(start, len(p)):
        y = y * x + p[i]
    return y


__all__ = [name for name in dir() if not name.startswith("_") and callable(globals()[name])
           and globals()[name].__module__ == __name__]


def fftshift(x: Any, axes: Any = None) -> Any:
    """``np.fft.fftshift``: a roll, so a selection."""
    return pick(x, np.fft.fftshift, plain(axes, "fft.fftshift", "axes"))


def ifftshift(x: Any, axes: Any = None) -> Any:
    """``np.fft.ifftshift``: a roll, so a selection."""
    return pick(x, np.fft.ifftshift, plain(axes, "fft.ifftshift", "axes"))


#: numpy function -> its implementation here: the table every user of these
#: functions shares (reverse registers all of it; hyperdual all but the few it
#: differentiates part by part; the sparsity tracer reads it directly, so its
#: patterns do not depend on which engine was imported first).
def unstack(x: Any, /, *, axis: int = 0) -> tuple:
    """``np.unstack`` (numpy 2.1): the slices of ``x`` along ``axis``, as a tuple.

    Examples
    --------
    >>> unstack(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    (array([1., 3.]), array([2., 4.]))
    """
    shape = shape_of(x)
    if not shape:
        raise ValueError("Input array must be at least 1-d.")
    ax = normalize_axis(plain(axis, "unstack", "axis"), len(shape))
    pre = (slice(None),) * ax
    return tuple(x[pre + (i,)] for i in range(shape[ax]))


def matrix_transpose(x: Any, /) -> Any:
    """``np.matrix_transpose`` (numpy 2.0): swap the last two axes.

    Examples
    --------
    >>> matrix_transpose(np.ones((2, 3))).shape
    (3, 2)
    """
    if len(shape_of(x)) < 2:
        raise ValueError("Input array must be at least 2-dimensional")
    return np.swapaxes(x, -1, -2)


NUMPY_FUNCTIONS = {
    np.tile: tile, np.repeat: repeat, np.pad: pad, np.diag: diag,
    np.diagflat: diagflat, np.diagonal: diagonal, np.triu: triu,
    np.tril: tril, np.roll: roll, np.flip: flip, np.fliplr: fliplr,
    np.flipud: flipud, np.rot90: rot90, np.take: take,
    np.take_along_axis: take_along_axis, np.compress: compress,
    np.extract: extract, np.resize: resize, np.delete: delete,
    np.insert: insert, np.append: append, np.choose: choose,
    np.select: select, np.hstack: hstack, np.vstack: vstack,
    np.dstack: dstack, np.column_stack: column_stack, np.block: block,
    np.atleast_1d: atleast_1d, np.atleast_2d: atleast_2d,
    np.atleast_3d: atleast_3d, np.moveaxis: moveaxis, np.rollaxis: rollaxis,
    np.swapaxes: swapaxes, np.broadcast_arrays: broadcast_arrays,
    np.meshgrid: meshgrid, np.split: split, np.array_split: array_split,
    np.hsplit: hsplit, np.vsplit: vsplit, np.dsplit: dsplit,
    np.real: real, np.imag: imag,
    np.real_if_close: real_if_close, np.full_like: full_like,
    np.empty_like: empty_like, np.diff: diff, np.gradient: gradient,
    np.convolve: convolve, np.correlate: correlate, np.linspace: linspace,
    np.logspace: logspace, np.interp: interp, np.polyval: polyval, np.unwrap: unwrap,
    np.fft.fftshift: fftshift, np.fft.ifftshift: ifftshift,
}
# numpy 2's array-API names (numpy 1.26 has neither)
for _name, _impl in (("unstack", unstack), ("matrix_transpose", matrix_transpose)):
    if hasattr(np, _name):
        NUMPY_FUNCTIONS[getattr(np, _name)] = _impl
