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

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import gather, is_traced, positions, unsupported, value
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


# --- unique values and histograms ---------------------------------------------
def _refuse_lazy(fname: str, *xs: Any) -> None:
    if any(is_lazy(value(x)) for x in xs if x is not None):
        raise unsupported(
            f"numpy.{fname} of lazy (dask) data is not supported: its result's size "
            "depends on the values; compute the array first (.compute()), or pass the "
            "bins and range that make the result's shape known", *xs)


def _with_numpy_values(plain: Any, traced: Any) -> Any:
    """``traced`` (an engine value equal to ``plain`` up to rounding) carrying numpy's
    own ``plain`` values: ``plain + (traced - value(traced))``, whose derivative parts
    are ``traced``'s (a sum in another order than numpy's differs in the last bits)."""
    return plain + (traced - value(traced))


def unique(ar: Any, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: Any = None, **kwargs: Any) -> Any:
    """``np.unique``: the unique values (slices along ``axis``), each carrying the
    derivative of its first occurrence in ``ar``; indices, inverse and counts plain.

    The values are elements of ``ar``, found on the plain values with numpy's
    ``return_index`` (its first occurrences) and gathered from the whole number:
    equal entries with different derivatives (a tie) give the unique value the
    first one's, as ``np.sort`` gives each position the derivative of exactly one
    input element (JAX's ``jnp.unique``, a stable sort and a mask, does the same).

    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> y = unique(Dual(np.array([2.0, 1.0, 2.0]), np.array([10.0, 20.0, 30.0])))
    >>> y.real, y.dual
    (array([1., 2.]), array([20., 10.]))
    """
    _refuse_lazy("unique", ar)
    out = np.unique(value(ar), return_index=True, return_inverse=return_inverse,
                    return_counts=return_counts, axis=axis, **kwargs)
    first = out[1]
    if axis is None:
        values = gather([ar], first)
    else:
        pos = positions(ar)
        values = gather([ar], np.take(pos, first, axis=axis % pos.ndim))
    rest = ((first,) if return_index else ()) + tuple(out[2:])
    return (values,) + rest if rest else values


def _histogram_edges(a: Any, bins: Any, range: Any, weights: Any) -> Any:  # noqa: A002
    """numpy's bin edges with their derivatives: ``bins`` itself when it is an array of
    edges, else ``linspace(lo, hi, n + 1)`` with (lo, hi) the ``range`` or, when it is
    None, ``(min(a), max(a))`` (numpy's own values, the engine's derivatives)."""
    plain = np.histogram_bin_edges(value(a), value(bins), value(range), value(weights))
    return _outer_edges(a, bins, range, plain), plain


def _outer_edges(a: Any, bins: Any, range: Any, plain: Any) -> Any:  # noqa: A002
    """The edges numpy found (``plain``) with their derivatives: ``bins`` when it is
    an array of edges, else evenly spaced between the ``range`` or ``a``'s extremes."""
    if np.ndim(value(bins)) == 1:
        return bins
    if range is None and np.size(value(a)) == 0:  # numpy's (0, 1)
        return plain
    if range is None:
        lo, hi = np.min(a), np.max(a)
    else:
        lo, hi = range  # (a pair: numpy's own call above checked it)
    if not any(is_traced(v) for v in (lo, hi)):
        return plain
    if value(lo) == value(hi):  # numpy widens an empty range by 0.5 each way
        lo, hi = lo - 0.5, hi + 0.5
    return _with_numpy_values(plain, np.linspace(lo, hi, plain.shape[0]))


def histogram_bin_edges(a: Any, bins: Any = 10, range: Any = None,  # noqa: A002
                        weights: Any = None) -> Any:
    """``np.histogram_bin_edges`` with the derivatives of the edges: ``bins`` when it
    is an array, else evenly spaced from ``range`` or from ``(min(a), max(a))``
    (ties of the extremes share their derivative, as ``np.max``).

    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> histogram_bin_edges(Dual(np.array([0.0, 4.0]), np.array([1.0, 0.0])), 2).dual
    array([1. , 0.5, 0. ])
    """
    _refuse_lazy("histogram_bin_edges", a, bins, weights)
    return _histogram_edges(a, bins, range, weights)[0]


def histogram(a: Any, bins: Any = 10, range: Any = None,  # noqa: A002 (numpy's name)
              density: Any = None, weights: Any = None) -> tuple[Any, Any]:
    """``np.histogram``: numpy's counts, linear in ``weights`` (the sums of the weights
    in each bin, with their derivatives), and the edges of
    :func:`histogram_bin_edges`; with ``density=True`` numpy's ``n / diff(edges) /
    sum(n)`` on those.  The points ``a`` only choose bins: a count is piecewise
    constant in them (derivative 0) and the edges follow them through min/max.

    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> w = Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 10.0, 100.0]))
    >>> h, e = histogram(np.array([0.1, 0.2, 0.9]), bins=2, range=(0, 1), weights=w)
    >>> h.real, h.dual
    (array([3., 3.]), array([ 11., 100.]))
    """
    _refuse_lazy("histogram", a, bins, weights)
    edges, plain_edges = _histogram_edges(a, bins, range, weights)
    av = np.asarray(value(a))
    # (numpy's own call: with the edges instead of a count of bins it sums the
    # weights in another order)
    plain_hist = np.histogram(av, value(bins), value(range), weights=value(weights))[0]
    if weights is not None and is_traced(weights):
        flat_a = av.reshape(-1)
        index = np.searchsorted(plain_edges, flat_a, side="right") - 1
        n_bins = plain_edges.shape[0] - 1
        index = np.where(flat_a == plain_edges[-1], n_bins - 1, index)  # last bin closed
        keep = (flat_a >= plain_edges[0]) & (flat_a <= plain_edges[-1])
        w = np.reshape(weights, (-1,))
        sums = np.bincount(index[keep], weights=w[np.flatnonzero(keep)], minlength=n_bins)
        hist = _with_numpy_values(plain_hist, sums)
    else:
        hist = plain_hist
    if density:
        widths = np.diff(edges)
        return hist / widths / np.sum(hist), edges
    return hist, edges


def _sample_columns(sample: Any) -> list:
    """histogramdd's coordinates: the columns of an (N, D) array, a 1-d array as
    the one coordinate, or the D arrays of a sequence (numpy's reading)."""
    if hasattr(sample, "shape") and len(sample.shape) == 2:
        return [sample[:, i] for i in builtins.range(sample.shape[1])]
    if hasattr(sample, "shape") and len(sample.shape) == 1:
        return [sample]
    return list(sample)


def histogramdd(sample: Any, bins: Any = 10, range: Any = None,  # noqa: A002
                density: Any = None, weights: Any = None) -> tuple[Any, list]:
    """``np.histogramdd``: numpy's counts, linear in ``weights``, and in each
    dimension the edges of :func:`histogram_bin_edges` (``bins[i]`` when it is an
    array, else evenly spaced between ``range[i]`` or the extremes of coordinate i);
    with ``density=True`` numpy's ``n / (product of the widths) / sum(n)``.  The
    points only choose bins (derivative 0 in the counts).

    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> w = Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 10.0, 100.0]))
    >>> pts = np.array([[0.1, 0.1], [0.2, 0.9], [0.9, 0.9]])
    >>> h, e = histogramdd(pts, bins=2, range=[(0, 1), (0, 1)], weights=w)
    >>> h.dual
    array([[  1.,  10.],
           [  0., 100.]])
    """
    _refuse_lazy("histogramdd", weights,
                 *(sample if isinstance(sample, (list, tuple)) else (sample,)),
                 *(bins if isinstance(bins, (list, tuple)) else (bins,)))
    plain_hist, plain_edges = np.histogramdd(value(sample), value(bins), value(range),
                                             weights=value(weights))
    cols = _sample_columns(sample)
    d = len(plain_edges)
    try:
        bins_d = list(bins)  # (numpy's own call checked there is one per dimension)
    except TypeError:
        bins_d = [bins] * d
    range_d = [None] * d if range is None else list(range)
    edges = [_outer_edges(c, b, r, e)
             for c, b, r, e in zip(cols, bins_d, range_d, plain_edges)]
    if weights is not None and is_traced(weights):
        shape = plain_hist.shape
        flat = np.zeros(np.shape(value(cols[0]))[0], dtype=np.intp)  # (d >= 1: numpy's)
        keep = np.ones_like(flat, dtype=bool)
        for c, e, n in zip(cols, plain_edges, shape):
            cv = np.asarray(value(c), dtype=float).reshape(-1)
            index = np.searchsorted(e, cv, side="right") - 1
            index = np.where(cv == e[-1], n - 1, index)  # the last bin is closed
            keep &= (cv >= e[0]) & (cv <= e[-1])
            flat = flat * n + np.clip(index, 0, n - 1)
        w = np.reshape(weights, (-1,))
        sums = np.bincount(flat[keep], weights=w[np.flatnonzero(keep)],
                           minlength=int(np.prod(shape)))
        hist = _with_numpy_values(plain_hist, np.reshape(sums, shape))
    else:
        hist = plain_hist
    if density:
        total = np.sum(hist)
        for i, e in enumerate(edges):
            shape = [1] * d
            shape[i] = -1
            hist = hist / np.reshape(np.diff(e), shape)
        hist = hist / total
    return hist, edges


def histogram2d(x: Any, y: Any, bins: Any = 10, range: Any = None,  # noqa: A002
                density: Any = None, weights: Any = None) -> tuple[Any, Any, Any]:
    """``np.histogram2d``: :func:`histogramdd` of the points ``(x, y)``; ``bins`` is
    one count, one array of edges for both, or a pair (numpy's reading).

    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> x = Dual(np.array([0.0, 1.0, 4.0]), np.array([0.0, 0.0, 1.0]))
    >>> h, xe, ye = histogram2d(x, np.array([0.0, 1.0, 1.0]), bins=2)
    >>> xe.dual  # the edges follow max(x)
    array([0. , 0.5, 1. ])
    """
    try:
        n = len(bins)
    except TypeError:
        n = 1
    if n not in (1, 2):
        bins = [bins, bins]
    hist, edges = histogramdd([x, y], bins, range, density, weights)
    return hist, edges[0], edges[1]


def _first_occurrences(xv: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Flat positions in ``xv`` of the first occurrence of each of ``values`` (numpy's
    unique values of ``xv`` in the order numpy gave them; NaN each its own)."""
    u, first = np.unique(xv.reshape(-1), return_index=True, equal_nan=False)
    if u.shape == values.shape and np.array_equal(u, values, equal_nan=True):
        return first
    pos = np.searchsorted(u, values)
    ok = (pos < u.shape[0]) & ~np.isnan(values)
    if not ok.all() or not np.array_equal(u[pos], values):
        raise ValueError("the unique values numpy returned are not in its sorted unique "
                         "values (NaN in an unsorted result)")
    return first[pos]


def _array_api_unique(func: Callable[..., Any]) -> Callable[..., Any]:
    """numpy 2's ``unique_values``/``unique_counts``/``unique_inverse``/``unique_all``:
    numpy's own result, its values gathered from the input at their first occurrences
    (as :func:`unique`)."""
    def impl(x: Any) -> Any:
        _refuse_lazy(func.__name__, x)
        xv = np.asarray(value(x))
        plain = func(xv)
        fields = getattr(plain, "_fields", None)
        values = plain.values if fields else plain
        where = plain.indices if fields and "indices" in fields else \
            _first_occurrences(xv, values)
        gathered = gather([x], where)
        return plain._replace(values=gathered) if fields else gathered

    impl.__name__ = func.__name__
    impl.__qualname__ = func.__name__
    impl.__doc__ = (f"``np.{func.__name__}``: numpy's result, the values with the derivative "
                    "of their first occurrence (as ``np.unique``).")
    return impl


#: numpy 2's array-API spellings of unique (absent on numpy 1.x)
ARRAY_API_UNIQUE = {f: _array_api_unique(f) for f in (
    getattr(np, n, None) for n in ("unique_values", "unique_counts", "unique_inverse",
                                   "unique_all")) if f is not None}
