"""Forward-mode rules for indexing: ``x[index]`` (``getitem``) and ``scatter_add``,
the adjoint of indexing that reverse mode's backward uses over dual data.

Indexing is linear: the same index is applied to every part, past the
direction axes.  Selections built on index maps (``take``, ``take_along_axis``,
``compress``, ``choose`` ...) are in :mod:`hyperdual.rules.shape`.

Examples
--------
>>> import numpy as np
>>> from hyperdual import Dual
>>> Dual(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.0]))[1:]
Dual(array([2., 3.]), array([1., 0.]))
"""

from __future__ import annotations

import numpy as np

from _exactdiff import arrays as _arrays
from _exactdiff.arrays import is_foreign_array as _is_foreign

from .._number import Dual, _is_basic_index, _map_parts, _Number, _shape, _tidy

# What hyperdual exports from this module (as hyperdual.<name>); the other
# functions here are rules that numpy dispatch reaches (np.swapaxes(x) ...).
__all__ = ["scatter_add"]



def _list_index(index):
    """A list index as the array numpy reads it (an empty list selects nothing: intp,
    where np.asarray would make it float and unusable as an index)."""
    if isinstance(index, list):
        index = np.asarray(index)
        if index.size == 0 and index.dtype.kind == "f":
            index = index.astype(np.intp)
    return index


def _index_part(p, nd, index):
    index = _list_index(index)
    if nd == 0:
        # a scalar part is a Python float: index it as numpy indexes a 0-d value
        # (x[..., None], x[None] of a scalar Dual)
        return (p if hasattr(p, "__getitem__") else np.asarray(p))[index]
    if _is_basic_index(index) or not isinstance(index, tuple):
        items = index if isinstance(index, tuple) else (index,)
        return p[(slice(None),) * nd + items]
    # Several advanced indices: numpy may move their axes in front of a leading
    # slice, so index each direction separately.
    lead = _shape(p)[:nd]
    flat = np.reshape(p, (-1,) + _shape(p)[nd:])
    res = np.stack([q[index] for q in flat])
    return np.reshape(res, lead + res.shape[1:])


def getitem(x, index):
    """``x[index]`` on every part (direction axes untouched)."""
    if isinstance(index, _Number) or (
        isinstance(index, tuple) and any(isinstance(i, _Number) for i in index)
    ):
        raise TypeError("hyperdual: a Dual/HyperDual cannot be used as an index")
    if type(index) is slice and x._NPARTS:
        # x[1:], the usual index: what _map_parts does with _index_part, written out
        parts = x._parts()
        nd = x.nd
        lead = (slice(None),) * nd + (index,)
        out = [_tidy(parts[0][index])] + [_tidy(p[lead]) for p in parts[1:]]
        return type(x)._build(out, x.tag, nd)
    index = _list_index(index)
    if _arrays._is_full_lazy_mask(index, len(_shape(x))) and _shape(index) == _shape(x):
        return _lazy_mask_getitem(x, index)
    return _map_parts(x, lambda p, nd: _index_part(p, nd, index))


def _lazy_mask_getitem(x, mask):
    """``x[mask]`` for a dask boolean ``mask`` of ``x``'s full shape.

    The selection has chunks of unknown size, so every part must come out with the
    same blocks or no later operation can combine them: the mask is rechunked like
    the (dask) value, plain parts (the unit seeds of a helper, numpy arrays) become
    dask arrays of that chunking (indexing a numpy part by a dask mask computed the
    mask and gave a selection of known size that dask could not broadcast against
    the value's), and an N-d mask selects from every part raveled over the value
    axes (dask accepts an N-d mask only on an array of the same dimension).
    """
    import dask.array as da  # the mask is a dask array: dask is imported

    real = x
    while isinstance(real, _Number):
        real = real.coef if not real._NPARTS else real._parts()[0]
        if not real.__class__.__module__.startswith("numpy") and _is_foreign(real):
            mask = _arrays.align_lazy_mask(mask, real)
            break
    flat = mask if mask.ndim == 1 else mask.ravel()

    def fn(p, nd):
        lead = _shape(p)[:nd]
        if not isinstance(p, _Number) and not _arrays.is_lazy(p):
            p = da.from_array(np.asarray(p), chunks=tuple((n,) for n in lead) + mask.chunks)
        if mask.ndim != 1:
            p = np.reshape(p, lead + (-1,))
        return p[(slice(None),) * nd + (flat,)]

    return _map_parts(x, fn)


# ---------------------------------------------------------------------------------
# Scatter (used by reverse mode's indexing backward over dual data)
# ---------------------------------------------------------------------------------
def scatter_add(shape, index, values):
    """Zeros of ``shape`` with ``values`` added at ``index`` (repeated indices add up).

    Works for arrays, Duals and HyperDuals (each part is scattered), which is
    what reverse mode needs to backpropagate indexing over dual numbers.

    Parameters
    ----------
    shape : tuple of int
        Shape of the result.
    index : object
        A numpy index into an array of ``shape``.
    values : array_like or Dual or HyperDual
        What to add at ``index`` (shaped like the selection).

    Returns
    -------
    numpy.ndarray or Dual or HyperDual
        Zeros of ``shape`` with ``values`` added, of ``values``' kind.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual, scatter_add
    >>> scatter_add((3,), np.array([0, 0, 2]), Dual(np.ones(3), np.arange(3.0)))
    Dual(array([2., 0., 1.]), array([1., 0., 2.]))
    """
    shape = tuple(shape)
    if not isinstance(values, _Number) and _arrays.engine_value(values):
        # a reverse Variable (also the parts of a Dual under reverse mode): its engine's
        # own scatter (np.asarray would drop its derivative)
        return _arrays.hand_off(scatter_add, values, (shape, index, values), {})
    index = _list_index(index)
    if not isinstance(values, _Number):
        values = np.asarray(values)
        out = np.zeros(shape, dtype=np.result_type(values.dtype, np.float64)
                       if values.dtype.kind != "f" else values.dtype)
        np.add.at(out, index, values)
        return out
    nd = values.nd

    items = index if isinstance(index, tuple) else (index,)

    def fn(p, n):
        # ``n`` direction axes lead every part but the real one (n = 0)
        lead = _shape(p)[:n]
        if isinstance(p, _Number):
            return scatter_add(lead + shape, (slice(None),) * n + items, p)
        if type(p) is not np.ndarray and _is_foreign(p):  # dask: no in-place writes
            return _arrays.scatter_add(lead + shape, (slice(None),) * n + items, p)
        p = np.asarray(p)
        out = np.zeros(lead + shape, dtype=p.dtype)
        if _is_basic_index(index):
            # basic indices never repeat an element: a plain += is the scatter
            out[(slice(None),) * n + items] += p
            return out
        if not isinstance(index, tuple):
            idx = np.asarray(index)
            if idx.dtype == bool and idx.ndim == 0:
                # x[True] is x[None] (x[False] selects nothing): np.nonzero refuses 0-d
                if idx:
                    out += p[(slice(None),) * n + (0,)]
                return out
            if idx.dtype == bool:
                idx = np.nonzero(idx)
                if len(idx) == 1:
                    idx = idx[0]
            if not isinstance(idx, tuple):
                np.add.at(out, (slice(None),) * n + (idx,), p)
                return out
        # several advanced indices: scatter each direction separately
        m = int(np.prod(lead))  # (not -1: ambiguous for an empty selection)
        flat_out = out.reshape((m,) + shape)
        flat_p = p.reshape((m,) + p.shape[n:])
        for q_out, q in zip(flat_out, flat_p):
            np.add.at(q_out, index, q)
        return out

    if values._NPARTS and _is_basic_index(index):
        parts = values._parts()
        if all(type(p) is np.ndarray for p in parts):
            # the usual case (reverse mode's x[1:] over Dual data): each part
            # written straight into its zeros, as fn below does
            out = []
            for m, p in enumerate(parts):
                n = nd if m else 0
                o = np.zeros(p.shape[:n] + shape, dtype=p.dtype)
                o[(slice(None),) * n + items] += p
                out.append(o)
            return type(values)._build(out, values.tag, nd)
    if not values._NPARTS:  # a Taylor: its coefficient array, led by the K + 1 axis
        return type(values)._make(fn(values.coef, 1), values.tag)
    parts = values._parts()
    out = [fn(parts[0], 0)] + [fn(p, nd) for p in parts[1:]]
    return type(values)._build(out, values.tag, nd)


def scatter_add_into(buf, index, values, basic=True) -> bool:
    """Add ``values`` at ``index`` of ``buf`` in place; report success.

    ``buf`` and ``values`` must be numbers of one kind, tag and direction axes
    whose parts are arrays of equal dtypes and direction axes (``buf``'s parts
    writable arrays that nobody else holds: reverse mode's own accumulation
    buffer, made by :func:`scatter_add`).  Then this is ``buf + scatter_add(...)``
    without the zeros and the sum; otherwise nothing is written and the answer is
    False.  ``basic`` says that ``index`` is a basic index (ints, slices); any
    other index (repeats accumulate, ``np.add.at``) is taken without direction
    axes only.

    Examples
    --------
    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> buf = scatter_add((3,), slice(0, 2), Dual(np.ones(2), np.ones(2)))
    >>> scatter_add_into(buf, slice(1, 3), Dual(np.ones(2), np.arange(2.0)))
    True
    >>> buf
    Dual(array([1., 2., 1.]), array([1., 1., 1.]))
    """
    if (type(buf) is not type(values) or not values._NPARTS or buf.tag != values.tag
            or buf.nd != values.nd or not basic and values.nd):
        return False
    if basic and type(values) is Dual:
        # the usual case (reverse mode's x[1:] and x[:-1] over Dual data): the
        # checks and writes below for the two parts, written out
        br, bd, vr, vd, nd = buf.real, buf.dual, values.real, values.dual, values.nd
        if not (type(br) is np.ndarray and type(bd) is np.ndarray and type(vr) is np.ndarray
                and type(vd) is np.ndarray and br.dtype == vr.dtype and bd.dtype == vd.dtype
                and bd.shape[:nd] == vd.shape[:nd] and br.flags.writeable
                and bd.flags.writeable):
            return False
        items = index if isinstance(index, tuple) else (index,)
        br[items] += vr
        bd[(slice(None),) * nd + items] += vd
        return True
    nd = values.nd
    bparts, vparts = buf._parts(), values._parts()
    for m, (b, p) in enumerate(zip(bparts, vparts)):
        n = nd if m else 0
        if (type(b) is not np.ndarray or type(p) is not np.ndarray or b.dtype != p.dtype
                or b.shape[:n] != p.shape[:n] or not b.flags.writeable):
            return False
    if not basic:
        for b, p in zip(bparts, vparts):
            np.add.at(b, index, p)
        return True
    items = index if isinstance(index, tuple) else (index,)
    for m, (b, p) in enumerate(zip(bparts, vparts)):
        n = nd if m else 0
        b[(slice(None),) * n + items] += p
    return True
