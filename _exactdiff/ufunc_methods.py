"""The ufunc methods ``reduce``, ``accumulate``, ``reduceat`` and ``outer`` on engine
values.

``np.add.reduce(x)``, ``np.maximum.accumulate(x)``, ``np.multiply.outer(x, y)``
reach an engine's ``__array_ufunc__`` with ``method`` set to the method's name.
Every one of them is a composition of calls the engines already differentiate:

* ``outer(a, b)``: the ufunc itself with ``a`` reshaped to ``a.shape + (1,) * b.ndim``;
* ``reduce``: ``np.sum`` for ``add``, ``np.prod`` for ``multiply``, ``np.max`` /
  ``np.min`` for ``maximum`` / ``minimum`` (same nan propagation and tie
  convention), the scaled 2-norm ``np.linalg.norm`` for ``hypot`` (smooth wherever the
  whole slice is not 0, which a fold through ``hypot(0, 0)`` is not), otherwise a left
  fold ``((a0 op a1) op a2) ...`` along the axis,
  one call of the ufunc per entry of the axis, vectorised over the other axes;
* ``accumulate``: ``np.cumsum`` / ``np.cumprod`` for ``add`` / ``multiply``, otherwise
  the fold's partial results stacked along the axis.

So derivatives of every order, nesting and each engine's conventions come from the
primitives, and nothing here imports either engine.  Arguments are checked by numpy
itself first (the method is run on zeros of the operands' shapes), so a bad axis,
a non-reorderable ufunc over several axes or an empty reduction without identity
raises numpy's own error.  ``dtype=`` follows numpy's
rule (:func:`_exactdiff.statistics.as_dtype`: the inputs are cast to a floating dtype
and the method runs in it; an integer, bool or complex dtype raises ``TypeError``).
``out=`` (numbers are immutable) and ``where=`` where the underlying reduction has
none are refused with a ``TypeError`` naming the argument; ``at`` (in place) is
refused.  ``reduceat`` joins one ``reduce`` per segment.

Examples
--------
>>> import numpy as np
>>> float(apply(np.logaddexp, "reduce", (np.zeros(2),), {}))  # log(e^0 + e^0)
0.6931471805599453
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import engine_name, float_dtype, plain, shape_of
from .statistics import as_dtype

__all__ = ["apply"]

_NO_VALUE = np._NoValue  # numpy's marker for "initial= not given"


def _refuse(ufunc: Any, method: str, what: str, inputs: tuple) -> TypeError:
    return TypeError(f"{engine_name(*inputs)}: numpy.{ufunc.__name__}.{method} {what}")


def _plain_shape(x: Any) -> tuple[int, ...]:
    return tuple(shape_of(x))


def _probe(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> np.ndarray:
    """numpy's own checks and result shape: the method on zeros of the inputs' shapes."""
    zeros = [np.zeros(_plain_shape(x)) for x in inputs]
    with np.errstate(all="ignore"):
        return np.asarray(getattr(ufunc, method)(*zeros, **kwargs))


def apply(ufunc: Any, method: str, inputs: tuple, kwargs: dict) -> Any:
    """``getattr(ufunc, method)(*inputs, **kwargs)`` on engine values, differentiably.

    Parameters
    ----------
    ufunc : numpy.ufunc
        A ufunc the calling engine differentiates elementwise (``nin == 2`` for
        ``reduce``, ``accumulate`` and ``outer``).
    method : str
        ``"reduce"``, ``"accumulate"``, ``"reduceat"`` or ``"outer"``; ``"at"``
        raises ``TypeError``.
    inputs, kwargs
        As numpy passes them to ``__array_ufunc__``.

    Returns
    -------
    The engine value numpy's method would return for plain arrays.

    Raises
    ------
    TypeError
        For ``at``, ``out=``, a non-floating ``dtype=``, a
        one-input ufunc, or ``where=`` where only a fold would apply.

    Examples
    --------
    >>> import numpy as np
    >>> apply(np.subtract, "outer", (np.array([3.0, 4.0]), np.array([1.0])), {})
    array([[2.],
           [3.]])
    """
    if method == "at":
        raise _refuse(ufunc, method, "is not supported: it works in place and "
                      "differentiated numbers are immutable (build the result with "
                      "np.where, np.stack or np.bincount-style sums instead)", inputs)
    if method not in ("reduce", "accumulate", "outer", "reduceat"):
        raise _refuse(ufunc, method, "is not supported (reduce, accumulate, reduceat and "
                      "outer are)", inputs)
    if ufunc.nin != 2 or ufunc.nout != 1:
        raise _refuse(ufunc, method, f"is not defined: the ufunc takes {ufunc.nin} "
                      f"input(s) and gives {ufunc.nout} output(s)", inputs)
    kwargs = dict(kwargs)
    if kwargs.pop("out", None) is not None:
        raise _refuse(ufunc, method, "with out= is not supported (differentiated numbers "
                      "are immutable; use the returned value)", inputs)
    dtype = kwargs.pop("dtype", None)
    if dtype is not None:  # numpy's rule: compute in a floating dtype=; others refused
        cast = inputs[:1] if method == "reduceat" else inputs  # (not reduceat's indices)
        inputs = tuple(as_dtype(f"{ufunc.__name__}.{method}", x, dtype)
                       for x in cast) + inputs[len(cast):]
    if method == "outer":
        if kwargs:
            raise _refuse(ufunc, method, f"keyword arguments {sorted(kwargs)} are not "
                          "supported", inputs)
        a, b = inputs
        _probe(ufunc, method, inputs, {})
        sa, nb = _plain_shape(a), len(_plain_shape(b))
        return ufunc(np.reshape(a, sa + (1,) * nb), b)
    if method == "reduce":
        return _reduce(ufunc, inputs, kwargs)
    if method == "reduceat":
        return _reduceat(ufunc, inputs, kwargs)
    return _accumulate(ufunc, inputs, kwargs)


def _reduceat(ufunc: Any, inputs: tuple, kwargs: dict) -> Any:
    """``ufunc.reduceat(a, indices, axis)``: piece ``i`` is the reduction of
    ``a[indices[i]:indices[i + 1]]`` along the axis (to the end for the last), or
    ``a[indices[i]]`` itself where the next index is not larger, as numpy defines it;
    the pieces, each a :func:`_reduce` kept as a length-1 axis, joined along it."""
    unknown = set(kwargs) - {"axis"}
    if unknown:
        raise _refuse(ufunc, "reduceat", f"keyword arguments {sorted(unknown)} are not "
                      "supported", inputs)
    a, indices = inputs
    indices = np.asarray(plain(indices, f"{ufunc.__name__}.reduceat", "indices"))
    axis = kwargs.get("axis", 0)
    with np.errstate(all="ignore"):  # numpy's own checks (bounds, axis, index dtype)
        ufunc.reduceat(np.zeros(_plain_shape(a)), indices, axis=axis)
    shape = _plain_shape(a)
    ax = axis % len(shape)
    n = shape[ax]
    starts = [int(i) for i in np.ravel(indices)]
    pieces = []
    for k, start in enumerate(starts):
        stop = starts[k + 1] if k + 1 < len(starts) else n
        where = [slice(None)] * len(shape)
        if start < stop:
            where[ax] = slice(start, stop)
            pieces.append(_reduce(ufunc, (a[tuple(where)],), {"axis": ax, "keepdims": True}))
        else:
            where[ax] = slice(start, start + 1)
            pieces.append(a[tuple(where)])
    return np.concatenate(pieces, axis=ax)


def _reduce(ufunc: Any, inputs: tuple, kwargs: dict) -> Any:
    unknown = set(kwargs) - {"axis", "keepdims", "initial", "where"}
    if unknown:
        raise _refuse(ufunc, "reduce", f"keyword arguments {sorted(unknown)} are not "
                      "supported", inputs)
    (a,) = inputs
    axis = kwargs.get("axis", 0)
    keepdims = bool(kwargs.get("keepdims", False))
    initial = kwargs.get("initial", _NO_VALUE)
    if initial is not _NO_VALUE:
        initial = plain(initial, f"{ufunc.__name__}.reduce", "initial=")
    where = kwargs.get("where", True)
    _probe(ufunc, "reduce", inputs, kwargs)
    named = {np.add: np.sum, np.multiply: np.prod, np.maximum: np.max, np.minimum: np.min}
    if ufunc in named:  # the reductions with their own rules (and where=/initial= checks)
        extra: dict = {}
        if initial is not _NO_VALUE:
            extra["initial"] = initial
        if where is not True:
            extra["where"] = where
        return named[ufunc](a, axis=axis, keepdims=keepdims, **extra)
    if where is not True:
        raise _refuse(ufunc, "reduce", "with where= is not supported (only np.add, "
                      "np.multiply, np.maximum and np.minimum reductions take it)", inputs)
    shape = _plain_shape(a)
    nd = len(shape)
    axes = tuple(range(nd)) if axis is None else (
        tuple(axis) if isinstance(axis, (tuple, list)) else (axis,))
    axes = tuple(sorted(ax % nd for ax in axes)) if nd else ()
    rest = [d for d in range(nd) if d not in axes]
    # the reduced axes first, as one axis (numpy's checks above allow several axes
    # only for a reorderable ufunc, whose order of operations does not matter)
    moved = np.transpose(a, axes + tuple(rest)) if nd else a
    n = 1
    for ax in axes:
        n *= shape[ax]
    kept = tuple(shape[d] for d in rest)
    flat = np.reshape(moved, (n,) + kept)
    if ufunc is np.hypot and n:
        # the 2-norm along the reduced axis, not the fold hypot(hypot(a0, a1), a2): the
        # fold's partial results pass through hypot(0, 0), a kink, where the whole is
        # smooth (d/da0 at (0, 0, 3) was NaN, truth 0); the norm rule is scaled
        # against over/underflow and takes the convention of np.linalg.norm (derivative
        # 0) where the whole slice is 0; one entry gives abs(a0), as numpy's hypot(0, a0)
        # from hypot's identity 0 (the fold returned a0 itself, of the wrong sign)
        if initial is not _NO_VALUE:
            start = np.full((1,) + kept, float(initial))
            flat = np.concatenate([start, flat], axis=0)
        out = np.linalg.norm(flat, axis=0)
        if keepdims:
            out = np.reshape(out, tuple(1 if d in axes else shape[d] for d in range(nd)))
        return out
    if initial is not _NO_VALUE:
        start = np.full(kept, initial, dtype=float_dtype(a))
        out = ufunc(start, flat[0]) if n else start
    elif n == 0:  # an identity exists (the probe passed): the empty reduction
        return np.full(_probe(ufunc, "reduce", inputs, kwargs).shape,
                       ufunc.identity, dtype=float_dtype(a))
    else:
        out = flat[0]
    for i in range(1, n):
        out = ufunc(out, flat[i])
    if keepdims:
        out = np.reshape(out, tuple(1 if d in axes else shape[d] for d in range(nd)))
    return out


def _accumulate(ufunc: Any, inputs: tuple, kwargs: dict) -> Any:
    unknown = set(kwargs) - {"axis"}
    if unknown:
        raise _refuse(ufunc, "accumulate", f"keyword arguments {sorted(unknown)} are not "
                      "supported", inputs)
    (a,) = inputs
    _probe(ufunc, "accumulate", inputs, kwargs)
    axis = kwargs.get("axis", 0)
    if ufunc is np.add:
        return np.cumsum(a, axis=axis)
    if ufunc is np.multiply:
        return np.cumprod(a, axis=axis)
    shape = _plain_shape(a)
    axis = axis % len(shape)
    moved = np.moveaxis(a, axis, 0)
    if shape[axis] == 0:
        return a
    parts = [moved[0]]
    for i in range(1, shape[axis]):
        parts.append(ufunc(parts[-1], moved[i]))
    return np.stack(parts, axis=axis)
