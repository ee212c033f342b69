"""Which array libraries the engines accept as data, and how to build arrays in them.

Both engines hold numpy arrays.  Through this module they also hold arrays of
other libraries that implement numpy's dispatch protocols (``__array_ufunc__``
and ``__array_function__``): dask arrays (chunked, lazy, distributed), CuPy
arrays and pydata/sparse arrays.  The accepted types form an explicit
allow-list: accepting "anything with ``__array_function__``" would let a
``reverse.Variable`` become a ``Dual``'s part (or the reverse) and break
nesting.  :func:`register_array_type` adds a type.

Foreign types are recognised by module and class name, so this module never
imports dask, CuPy or sparse: a user who does not use them pays nothing, and
the numpy fast paths (``type(x) is np.ndarray``) stay first in every caller.

Nothing here calls ``np.asarray``, ``float()`` or ``np.any`` on foreign data:
on a dask array those force a compute.
"""
from __future__ import annotations

from typing import Any

import numpy as np

_ndarray = np.ndarray

#: (top-level module, class name) of the foreign array types known by name.
_KNOWN: frozenset[tuple[str, str]] = frozenset({
    ("dask", "Array"),       # dask.array.core.Array
    ("cupy", "ndarray"),     # cupy._core.core.ndarray
    ("sparse", "COO"),       # pydata/sparse
    ("sparse", "GCXS"),
})

#: Types registered by the user (and types already recognised: a cache).
_REGISTERED: set[type] = set()
_REJECTED: set[type] = set()


def register_array_type(cls: type) -> type:
    """Allow instances of ``cls`` as a ``Dual`` part or a ``Variable``'s data.

    ``cls`` must implement numpy's ``__array_ufunc__`` and
    ``__array_function__`` protocols, so that the numpy calls of the rules
    dispatch to its library.  dask, CuPy and pydata/sparse arrays are accepted
    without registration.

    Parameters
    ----------
    cls : type
        The array class.

    Returns
    -------
    type
        ``cls`` itself (usable as a class decorator).

    Raises
    ------
    TypeError
        If ``cls`` is not a class, lacks the dispatch protocols, or is an engine
        value (a Dual, a Variable), which must never become another's data.

    Examples
    --------
    >>> import numpy as np
    >>> class MyArray(np.lib.mixins.NDArrayOperatorsMixin):
    ...     def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
    ...         return NotImplemented
    ...     def __array_function__(self, func, types, args, kwargs):
    ...         return NotImplemented
    >>> register_array_type(MyArray) is MyArray
    True
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_array_type: expected a class, got {type(cls).__name__}")
    if any(k.__module__.partition(".")[0] in ("hyperdual", "reverse") for k in cls.__mro__):
        raise TypeError(
            f"register_array_type: {cls.__name__} is an exactdiff value, not an array type; "
            "engine values nest by themselves"
        )
    if not (hasattr(cls, "__array_function__") and hasattr(cls, "__array_ufunc__")):
        raise TypeError(
            f"register_array_type: {cls.__name__} must implement __array_ufunc__ and "
            "__array_function__ (numpy's dispatch protocols)"
        )
    _REGISTERED.add(cls)
    _REJECTED.discard(cls)
    return cls


def is_foreign_array(obj: Any) -> bool:
    """True if ``obj`` is an allowed array of a library other than numpy.

    Examples
    --------
    >>> import numpy as np
    >>> is_foreign_array(np.ones(2)), is_foreign_array([1.0])
    (False, False)
    """
    t = type(obj)
    if t is _ndarray:
        return False
    return is_foreign_type(t)


def is_foreign_type(t: type) -> bool:
    """True if ``t`` is an allowed array class of a library other than numpy."""
    if t in _REGISTERED:
        return True
    if t in _REJECTED or t is _ndarray:
        return False
    for klass in t.__mro__:
        if (klass.__module__.partition(".")[0], klass.__name__) in _KNOWN:
            _REGISTERED.add(t)
            return True
    _REJECTED.add(t)
    return False


def is_numpy(obj: Any) -> bool:
    """True for what the numpy fast paths may touch: ndarrays, numpy scalars, floats.

    Examples
    --------
    >>> import numpy as np
    >>> is_numpy(np.ones(2)), is_numpy(1.5), is_numpy([1.0])
    (True, True, False)
    """
    t = type(obj)
    return t is _ndarray or t is float or isinstance(obj, (np.generic, _ndarray, float, int))


def is_lazy(obj: Any) -> bool:
    """True for data whose values are not at hand (a dask array): never compute them."""
    t = type(obj)
    if t is _ndarray or t is float:
        return False
    return is_foreign_array(obj) and t.__module__.partition(".")[0] == "dask"


def plain_array(v: Any, dtype: Any = None) -> Any:
    """``np.asarray(v, dtype)`` for numpy data; an array of another library stays
    itself (cast to ``dtype``): ``np.asarray`` would compute a dask array.

    Examples
    --------
    >>> plain_array(1.5, np.float64).ndim
    0
    """
    if is_foreign_array(v):
        return v if dtype is None or v.dtype == dtype else v.astype(dtype)
    return np.asarray(v, dtype=dtype)


def may_hold(mask: Any) -> bool:
    """Whether a branch mask may hold somewhere: ``mask.any()`` on numpy data, True on
    another library's array, whose values a rule must not ask for (on dask that
    computes them): the rule then applies the branch by the mask.

    Examples
    --------
    >>> may_hold(np.array([False, False])), may_hold(np.array([False, True]))
    (False, True)
    """
    if type(mask) is _ndarray:  # (first: np.any's dispatch costs ~2 us a call)
        return bool(mask.any())
    return is_foreign_array(mask) or bool(np.any(mask))


def library_name(obj: Any) -> str:
    """The top-level module of ``obj``'s class (``'numpy'``, ``'dask'``, ``'cupy'`` ...)."""
    return type(obj).__module__.partition(".")[0]


def function_name(func: Any) -> str:
    """``np.cumsum``, ``np.linalg.norm``: how a numpy function is called in messages."""
    name = getattr(func, "__name__", repr(func))
    module = getattr(func, "__module__", None) or "numpy"
    sub = module.partition(".")[2] if module.startswith("numpy.") else ""
    return f"np.{sub}.{name}" if sub and not sub.startswith("_") else f"np.{name}"


def _raised_by_sparse(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__") or ""
        if module == "sparse" or module.startswith("sparse."):
            return True
        tb = tb.tb_next
    # numpy's dispatch found no implementation among the types, one of them sparse's
    return "no implementation found" in str(exc) and "<class 'sparse." in str(exc)


def foreign_error(exc: BaseException, what: str) -> TypeError | None:
    """Our TypeError for pydata/sparse's own error in ``what``; None for other errors.

    pydata/sparse implements elementwise operations, reductions and products,
    but not every numpy function (``cumsum``, ``sort``, ``median``,
    ``linalg.norm`` ...), and refuses what would densify an array (a fill value
    other than 0 in a product, an automatic conversion to numpy).  Its errors
    name its internals; this one names the numpy function (or the gradient
    node) and what to do; an error already converted by an inner call is
    renamed after ``what`` (the outermost call names the user's function).
    Only called when an error is raised: no cost on success.
    """
    orig = getattr(exc, "_exactdiff_foreign", None)
    if orig is not None:  # raised by an inner call: renamed after the outer one
        exc = orig
    elif str(exc).startswith("exactdiff:") or not _raised_by_sparse(exc):
        return None
    detail = " ".join(str(exc).split())
    if len(detail) > 200:
        detail = detail[:197] + "..."
    err = TypeError(
        f"exactdiff: {what} is not supported on pydata/sparse arrays (pydata/sparse "
        f"raised {type(exc).__name__}: {detail}); it lacks this operation or it would "
        "densify the array: convert the data with .todense() first, or use operations "
        "that keep the array sparse (elementwise functions, sums, products with a "
        "sparse data matrix)"
    )
    err._exactdiff_foreign = exc
    return err


def float_data(data: Any) -> Any:
    """``data`` (an allowed foreign array) in a float dtype, without computing it.

    ints and bools become float64; float dtypes are kept.

    Raises
    ------
    TypeError
        For complex, string or object dtypes.
    """
    kind = np.dtype(data.dtype).kind
    if kind == "f":
        return data
    if kind in "iub":
        return data.astype(np.float64)
    raise TypeError(
        f"exactdiff: a {library_name(data)} array of dtype {data.dtype} is not real data"
    )


def _float_dtype(like: Any, dtype: Any) -> Any:
    if dtype is not None:
        return dtype
    dt = getattr(like, "dtype", None)
    try:
        dt = np.dtype(dt)
    except TypeError:
        return np.float64
    return dt if dt.kind == "f" else np.float64


def zeros_like(like: Any, dtype: Any = None) -> Any:
    """Zeros with ``like``'s shape, in its library (and chunking) and float dtype.

    ``np.zeros_like`` dispatches through ``__array_function__`` (NEP 18): a dask
    array gives lazy chunked zeros, a CuPy array zeros on its device.
    """
    return np.zeros_like(like, dtype=_float_dtype(like, dtype))


def ones_like(like: Any, dtype: Any = None) -> Any:
    """Ones with ``like``'s shape, in its library (and chunking) and float dtype."""
    return np.ones_like(like, dtype=_float_dtype(like, dtype))


def full_like(like: Any, value: float, dtype: Any = None) -> Any:
    """``value`` everywhere with ``like``'s shape, in its library and chunking."""
    return np.full_like(like, value, dtype=_float_dtype(like, dtype))


def seed_like(like: Any, index: int, dtype: Any = None) -> Any:
    """A unit basis array: zeros like ``like`` with a one at flat position ``index``.

    Built without in-place writes, which lazy arrays do not support.
    """
    dt = _float_dtype(like, dtype)
    size = 1
    for s in like.shape:
        size *= s
    flat = np.arange(size) if library_name(like) == "numpy" else _arange_like(like, size)
    return np.reshape((flat == index).astype(dt), like.shape)


def eye_block_like(like: Any, start: int, k: int, lead: tuple, dtype: Any = None) -> Any:
    """Unit directions ``start .. start + k - 1`` (flat positions of ``like``), lazily.

    The forward-mode seed of ``k`` directions: shape ``lead + like.shape``
    (``lead`` holds ``k`` and axes of length 1), one where the direction's
    position is, in ``like``'s library and chunked like ``like`` on its own
    axes (the direction axis is one chunk: forward mode pushes many directions
    for small ``n`` only).
    """
    dt = _float_dtype(like, dtype)
    shape = tuple(like.shape)
    size = 1
    for s in shape:
        size *= s
    if not is_lazy(like):
        # eager libraries (CuPy, pydata/sparse, which has no cumsum): the seed is
        # built by numpy and moved into the library (NEP 35's like=)
        seed = np.zeros((k, size), dtype=dt)
        seed[np.arange(k), start + np.arange(k)] = 1.0
        return np.asarray(seed.reshape(tuple(lead) + shape), like=like)
    pos = match_chunks(np.reshape(_arange_like(like, size), shape), like)
    dirs = np.arange(start, start + k).reshape((k,) + (1,) * len(shape))
    seed = (np.reshape(pos, (1,) + shape) == dirs).astype(dt)
    return np.reshape(seed, tuple(lead) + shape)


def zeros_lead(like: Any, lead: tuple, dtype: Any = None) -> Any:
    """Zeros of shape ``lead + like.shape`` in ``like``'s library and chunking (a view)."""
    z = zeros_like(like, dtype)
    return np.broadcast_to(np.reshape(z, (1,) * len(lead) + tuple(like.shape)),
                           tuple(lead) + tuple(like.shape))


def _arange_like(like: Any, size: int) -> Any:
    # np.arange has no like= dispatch for dask before numpy's `like` keyword is
    # honoured by every library; build the index in the library through a
    # cumulative sum of ones, which every dispatching library implements.
    ones = np.ones_like(np.reshape(like, (size,)), dtype=np.int64)
    return np.cumsum(ones) - 1


def scatter_add(shape: tuple, index: Any, values: Any) -> Any:
    """Zeros of ``shape`` with ``values`` placed at a basic ``index``, lazily.

    The adjoint of basic indexing (integers, slices of any step, ``None``,
    ``Ellipsis``) for arrays without in-place writes (dask): each axis is
    rebuilt by padding with zeros (and interleaving zeros for a step), which
    keeps the result in ``values``'s library and lazy.  A basic index never
    repeats an element, so placing equals adding.

    Fancy indexes (integer arrays, boolean masks, mixed with basic entries)
    go to :func:`_scatter_add_fancy`.
    """
    idx = index if type(index) is tuple else (index,)
    for i in idx:
        if not (i is None or i is Ellipsis or type(i) is slice
                or (isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)))):
            return _scatter_add_fancy(tuple(shape), idx, values)
    used = sum(1 for i in idx if i is not None and i is not Ellipsis)
    if Ellipsis in idx:
        k = idx.index(Ellipsis)
        idx = idx[:k] + (slice(None),) * (len(shape) - used) + idx[k + 1:]
    else:
        idx = idx + (slice(None),) * (len(shape) - used)
    g = values
    dt = _float_dtype(values, None)

    pos = 0  # the axis of g that the next index entry produced
    axis = 0  # the axis of the result that it selects from
    for i in idx:
        if i is None:
            g = np.squeeze(g, axis=pos)
            continue
        n = shape[axis]
        if type(i) is slice:
            start, stop, step = i.indices(n)
            count = len(range(start, stop, step))
            if count == 0:
                return np.zeros_like(values, dtype=dt, shape=shape)
            if step < 0:  # the same elements in increasing order
                g = np.flip(g, axis=pos)
                start, step = start + (count - 1) * step, -step
            if step > 1:  # interleave step - 1 zeros after each element
                z = np.zeros_like(g)
                g = np.stack([g] + [z] * (step - 1), axis=pos + 1)
                new = g.shape[:pos] + (count * step,) + g.shape[pos + 2:]
                g = np.reshape(g, new)
                g = _take_first(g, pos, (count - 1) * step + 1)
            before = start
        else:
            # axis by keyword: pydata/sparse before 0.19 (what Python 3.10 gets)
            # takes no positional axis
            g = np.expand_dims(g, axis=pos)
            before = int(i) % n
        after = n - before - g.shape[pos]
        if before or after:
            widths = [(0, 0)] * g.ndim
            widths[pos] = (before, after)
            g = _pad(g, widths)
        pos += 1
        axis += 1
    return g.astype(dt) if g.dtype != dt else g


def _scatter_add_fancy(shape: tuple, idx: tuple, values: Any) -> Any:
    """:func:`scatter_add` for an index with integer arrays or boolean masks.

    Eager libraries (CuPy) scatter-add in place into zeros of their own with
    ``np.add.at``.  A dask ``values`` gets a lazy scatter-add instead: the flat
    position of each of its elements in the result is found by indexing one
    coordinate grid per axis with the same index (so numpy's or dask's own rules
    for mixed basic/advanced indexes decide the layout), and each chunk of the
    flat result sums ``np.bincount`` of the positions that fall in it, weighted
    by ``values``, over the chunks of ``values``.  Repeated positions add up,
    as ``np.add.at`` does.  Integer dask arrays in the index stay lazy; a dask
    boolean mask is refused (its selection has chunks of unknown size).
    """
    idx = tuple(np.asarray(i) if type(i) is list else i for i in idx)
    dt = _float_dtype(values, None)
    if not is_lazy(values):
        out = np.zeros_like(values, dtype=dt, shape=shape)
        try:
            np.add.at(out, idx, values)
        except (TypeError, ValueError, NotImplementedError, AttributeError) as exc:
            raise TypeError(
                f"exactdiff: the gradient of fancy indexing on a {library_name(values)} "
                f"array needs np.add.at, which that library refused ({exc}); index with "
                "integers and slices, or convert the array first"
            ) from exc
        return out
    import dask.array as da  # values is a dask array: dask is installed and imported

    lazy_index = any(is_lazy(i) for i in idx)
    if any(is_lazy(i) and np.dtype(i.dtype) == np.bool_ for i in idx):
        return _scatter_by_lazy_mask(tuple(shape), idx, values, dt, da)
    if any(c != c for cs in values.chunks for c in cs):  # NaN: sizes known after compute
        raise TypeError(
            "exactdiff: the gradient of this indexing of a dask array (a selection with "
            "chunks of unknown size, e.g. by an N-d boolean mask) is not supported: use "
            "np.where(mask, f(x), 0), a 1-d mask, or integer indexes"
        )
    lin = _flat_positions(shape, idx, da if lazy_index else None)
    if lin.shape != values.shape:
        # dask orders the axes of some mixed indexes unlike numpy (x[1, :, [4, 4]]):
        # the adjoint of what dask computed comes from dask's own indexing
        lin = _flat_positions(shape, idx, da)
    if type(lin) is _ndarray:
        lin = da.from_array(lin, chunks=values.chunks)
    elif lin.chunks != values.chunks:
        lin = lin.rechunk(values.chunks)
    size = 1
    for s in shape:
        size *= s
    lin, w = lin.ravel(), values.ravel()
    if lin.chunks != w.chunks:
        lin = lin.rechunk(w.chunks)
    out_chunks = da.core.normalize_chunks("auto", (size,), dtype=dt)[0]
    nparts = len(w.chunks[0])
    parts = da.map_blocks(_bincount_block, lin, w, dt, new_axis=1,
                          chunks=((1,) * nparts, out_chunks), dtype=dt)
    return np.reshape(parts.sum(axis=0), shape)


def _is_full_lazy_mask(index: Any, ndim: int) -> bool:
    return (is_lazy(index) and np.dtype(index.dtype) == np.bool_ and index.ndim == ndim
            and ndim > 0)


def align_lazy_mask(index: Any, data: Any) -> Any:
    """``index`` rechunked like ``data`` when it is a dask boolean mask of ``data``'s shape.

    dask selects ``x[mask]`` block by block (``x`` and ``mask`` raveled when
    N-d): block ``i`` of the selection comes from block ``i`` of the common
    chunking of ``x`` and ``mask``.  With the mask chunked like ``x`` that
    chunking is the mask's own, so the backward scatter
    (:func:`_scatter_by_lazy_mask`) can find it without ``x``.  Any other index
    is returned as it is.
    """
    if (not is_lazy(data) or not _is_full_lazy_mask(index, data.ndim)
            or index.shape != data.shape or index.chunks == data.chunks):
        return index
    return index.rechunk(data.chunks)


def lazy_for_mask(data: Any, index: Any) -> Any:
    """A numpy ``data`` as a dask array chunked like ``index`` when ``index`` is a dask
    boolean mask of its shape (indexing numpy by it would compute the mask and give a
    selection of known size, which dask cannot combine with the unknown-size selections
    of the same mask); ``data`` itself otherwise."""
    if (type(data) is _ndarray and _is_full_lazy_mask(index, data.ndim)
            and index.shape == data.shape):
        import dask.array as da
        return da.from_array(data, chunks=index.chunks)
    return data


def _scatter_by_lazy_mask(shape: tuple, idx: tuple, values: Any, dt: Any, da: Any) -> Any:
    """The adjoint of ``x[mask]`` for a dask boolean ``mask`` of ``x``'s shape, lazily.

    The selection has chunks of unknown size, one per block of the (raveled)
    mask: each block of the gradient is zeros with that block of ``values``
    placed where the block of the mask is true (``np.zeros``, then a masked
    assignment: each position is selected at most once).
    """
    # leading full slices: the direction axes of a Dual part (hyperdual's scatter)
    n = 0
    while n < len(idx) - 1 and type(idx[n]) is slice and idx[n] == slice(None):
        n += 1
    lead, shape = tuple(shape[:n]), tuple(shape[n:])
    mask = idx[n] if len(idx) == n + 1 else None
    if mask is None or not _is_full_lazy_mask(mask, len(shape)):
        raise TypeError(
            "exactdiff: the gradient of indexing a dask array by a lazy (dask) boolean "
            "mask is supported for a mask of the array's full shape (x[mask]); for "
            "other mixes use np.where(mask, f(x), 0), or index by a computed numpy mask"
        )
    flat = mask if mask.ndim == 1 else mask.ravel()
    if n:  # one block along each direction axis, as the selection was made
        if any(len(c) != 1 for c in values.chunks[:n]):
            values = values.rechunk({i: -1 for i in range(n)})
    if values.ndim != n + 1 or len(values.chunks[n]) != len(flat.chunks[0]):
        raise TypeError(
            "exactdiff: the gradient of x[mask] with a dask boolean mask needs the "
            "selection's blocks to match the mask's (the mask chunked like x, and v "
            "chunked like x for an HVP): rechunk them with .rechunk(x.chunks)"
        )
    # block i with block i (blockwise would try to unify the unknown chunk sizes)
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph

    name = "exactdiff-mask-scatter-" + tokenize(flat, values, dt)
    z = (0,) * n
    dsk = {(name, *z, i): (_mask_block, (flat.name, i), (values.name, *z, i), dt)
           for i in range(len(flat.chunks[0]))}
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=[flat, values])
    out = da.Array(graph, name, tuple((k,) for k in lead) + flat.chunks,
                   meta=np.empty((0,) * (n + 1), dtype=dt))
    return out if mask.ndim == 1 else np.reshape(out, lead + shape)


def _mask_block(mask: Any, values: Any, dt: Any) -> Any:
    out = np.zeros(values.shape[:-1] + mask.shape, dtype=dt)
    out[..., mask] = values
    return out


def _flat_positions(shape: tuple, idx: tuple, da: Any) -> Any:
    """The flat (C-order) position in ``shape`` of each element of ``x[idx]``."""
    lin = None
    stride = 1
    for k in range(len(shape) - 1, -1, -1):
        n = shape[k]
        axis = np.arange(n).reshape((n,) + (1,) * (len(shape) - k - 1))
        if da is None:
            grid = np.broadcast_to(axis, shape)  # a view: no array of the full size
        else:
            grid = da.broadcast_to(da.from_array(axis), shape)
        term = grid[idx] * stride if stride != 1 else grid[idx]
        lin = term if lin is None else lin + term
        stride *= n
    if lin is None:  # a 0-d array
        lin = np.zeros((), np.intp)[idx]
    return lin


def _bincount_block(lin: Any, w: Any, dt: Any, block_info: Any = None) -> Any:
    # one chunk of values against one chunk [a, b) of the flat result
    a, b = block_info[None]["array-location"][1]
    sel = (lin >= a) & (lin < b)
    out = np.bincount(lin[sel] - a, weights=w[sel], minlength=b - a)
    return out.astype(dt, copy=False)[None, :]


def _pad(g: Any, widths: list) -> Any:
    try:
        return np.pad(g, widths)
    except ValueError as exc:
        if library_name(g) != "sparse":
            raise
        # pydata/sparse pads only with its fill value: a cotangent whose fill
        # value is not 0 is dense, and scattering it would densify it
        raise TypeError(
            "exactdiff: the gradient of indexing a pydata/sparse array got a dense "
            f"cotangent (fill value {g.fill_value}); scattering it would densify the "
            "array: convert it with .todense() first"
        ) from exc


def _take_first(g: Any, axis: int, count: int) -> Any:
    key = (slice(None),) * axis + (slice(0, count),)
    return g[key]


def expand_like(g: Any, like: Any) -> Any:
    """``g`` broadcast to ``like``'s shape in ``like``'s chunking (``like`` lazy).

    ``np.broadcast_to`` of a dask array puts every new or stretched axis in one
    chunk: the cotangent of a full sum would become one chunk as long as the
    data (8 GB at n = 10^9), and every backward op after it would run on that
    chunk.  Multiplying by ones chunked like ``like`` broadcasts chunk by chunk
    instead, and works alike for raw arrays, Variables (a recorded product
    with a constant) and Duals (each part).  Multiplying by one is exact.
    """
    ones = np.ones_like(like, dtype=_float_dtype(like, None))
    return g * ones


def match_chunks(g: Any, like: Any) -> Any:
    """``g`` rechunked like ``like`` when both are dask arrays of one shape (lazy).

    Padding in :func:`scatter_add` and sums of differently sliced terms leave
    thin, irregular chunks; a gradient should come back chunked like its input.
    """
    chunks = getattr(like, "chunks", None)
    if (chunks is None or getattr(g, "chunks", chunks) == chunks
            or not is_lazy(g) or g.shape != like.shape):
        return g
    return g.rechunk(chunks)


def engine_value(obj: Any) -> bool:
    """True if ``obj`` is another autodiff engine's number (a reverse ``Variable``):
    it answers numpy's ``__array_function__`` protocol but is neither an ndarray, a
    numpy scalar nor an allowed foreign array (dask, CuPy, sparse).

    Functions of one engine that are not numpy's (``hyperdual.polygamma``,
    ``hyperdual.linalg.expm`` ...) hand such a value to its own engine with
    :func:`hand_off` instead of calling scipy on it, which would ``np.asarray`` it.

    Examples
    --------
    >>> import numpy as np
    >>> engine_value(np.ones(2)), engine_value(1.0), engine_value([1.0])
    (False, False, False)
    """
    t = type(obj)
    if t in (float, int, bool, list, tuple) or isinstance(obj, (np.ndarray, np.generic)):
        return False  # (ndarray subclasses too: np.memmap, np.matrix, astropy's Quantity)
    return hasattr(t, "__array_function__") and not is_foreign_type(t)


def hand_off(func: Any, obj: Any, args: tuple, kwargs: dict) -> Any:
    """``func(*args, **kwargs)`` answered by ``obj``'s engine (its ``__array_function__``,
    which looks ``func`` up in the functions that engine registered for it)."""
    out = type(obj).__array_function__(obj, func, (type(obj),), args, kwargs)
    if out is NotImplemented:
        name = getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))
        raise TypeError(f"{name}: arguments of type {type(obj).__name__} are not supported")
    return out
