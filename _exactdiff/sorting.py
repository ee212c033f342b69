"""Sorting and the non-differentiable helpers, written once for both engines.

``sort`` and ``partition`` are permutations of their input: the permutation is
found on the plain values (``argsort``/``argpartition``) and applied to the
whole number, derivative parts included, by a gather.  So the derivative of the
i-th smallest element is the derivative of the input element that is i-th
smallest.

Ties: ``sort`` uses numpy's *stable* ``argsort``, so tied elements keep their
input order and each output position carries the derivative of exactly one
input element (the same convention as JAX, which also sorts by a stable
permutation; PyTorch and autograd agree).  The sorted values are a continuous
function of the input even at ties, but not differentiable there: the
derivative reported is that of the piece with the input order kept.

Examples
--------
>>> import numpy as np
>>> sort(np.array([3.0, 1.0, 2.0]))
array([1., 2., 3.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import gather, positions, unsupported, value
from .arrays import is_lazy


def sort(a: Any, axis: Any = -1, kind: Any = None, order: Any = None, *,
         stable: Any = None) -> Any:
    """``np.sort``: the input permuted by its stable ``argsort``."""
    if order is not None:
        raise unsupported("numpy.sort(order=...) applies to structured arrays, which have "
                          "no derivative", a)
    if axis is None:
        a = np.reshape(a, (-1,))
        axis = -1
    perm = np.argsort(value(a), axis=axis, kind="stable")
    return gather([a], np.take_along_axis(positions(a), perm, axis=axis))


def partition(a: Any, kth: Any, axis: Any = -1, kind: str = "introselect",
              order: Any = None) -> Any:
    """``np.partition``: the input permuted by its ``argpartition``."""
    if order is not None:
        raise unsupported("numpy.partition(order=...) applies to structured arrays, which "
                          "have no derivative", a)
    if axis is None:
        a = np.reshape(a, (-1,))
        axis = -1
    perm = np.argpartition(value(a), kth, axis=axis, kind=kind)
    return gather([a], np.take_along_axis(positions(a), perm, axis=axis))


def on_values(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` applied to the plain values of its arguments (lists included).

    For functions whose result has no derivative: indices (``argsort``,
    ``nonzero``, ``searchsorted`` ...), booleans (``isclose``) and counts.
    """
    def impl(*args: Any, **kwargs: Any) -> Any:
        vals = [value(a) for a in args]
        if func is np.searchsorted and len(vals) > 1 and is_lazy(vals[0]) \
                and not is_lazy(vals[1]):
            import dask.array as da  # (lazy data: dask is installed)

            # dask's searchsorted takes a dask v only, and fails on a 0-d one
            v = np.asarray(vals[1])
            vals[1] = da.asarray(v.reshape(-1))
            out = func(*vals, **{k: value(w) for k, w in kwargs.items()})
            return out.reshape(v.shape)
        return func(*vals, **{k: value(v) for k, v in kwargs.items()})

    impl.__name__ = func.__name__
    impl.__qualname__ = func.__name__
    impl.__doc__ = f"``np.{func.__name__}`` of the plain values (no derivative)."
    return impl


#: numpy functions whose results are integers or booleans: evaluated on values.
VALUE_FUNCTIONS = tuple(f for f in (
    np.argsort, np.argpartition, np.argmax, np.argmin, np.nanargmax, np.nanargmin,
    np.nonzero, np.flatnonzero, np.argwhere, np.count_nonzero, np.searchsorted,
    np.lexsort, np.digitize, np.isclose, np.allclose, np.array_equal, np.array_equiv,
    np.any, np.all, np.isreal, np.iscomplex, np.isrealobj, np.iscomplexobj,
    np.shape, np.ndim, np.size, np.zeros_like, np.ones_like, np.result_type,
    np.isneginf, np.isposinf,
) if f is not None)
