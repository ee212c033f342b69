"""Forward-mode rules for array building and shape functions.

The implementations are shared with reverse mode (:mod:`_exactdiff.shape`):
selections such as ``tile``, ``pad``, ``diag``, ``triu``, ``insert`` run numpy on
an index map and gather every part of the number at those positions; ``diff``,
``gradient``, ``convolve``, ``linspace``, ``interp`` and ``polyval`` are
compositions of slicing and arithmetic.  Functions that forward mode maps
part by part (``reshape``, ``transpose``, ``flip``, ``roll``, ``moveaxis``,
``diagonal``, ``concatenate``, ``stack`` ...) are written here: the same numpy
call on every part, shifted past the direction axes.  So are the functions
that only look at the value (``np.shape``, ``np.ndim``, ``np.size``,
``zeros_like`` ...).  ``np.conj`` of a real number is the number itself;
``np.real`` likewise and ``np.imag`` is zero.

Examples
--------
>>> import numpy as np
>>> from hyperdual import Dual
>>> y = np.tile(Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0])), 2)
>>> y.dual
array([1., 0., 1., 0.])
"""

from __future__ import annotations

import numpy as np

from _exactdiff import shape as _s
from _exactdiff._common import operand as _operand
from _exactdiff.arrays import is_foreign_array as _is_foreign_array
from _exactdiff.statistics import cast_pieces

from .. import _generic as g
from .._number import (
    _gather,
    _lift,
    _map_parts,
    _ndim,
    _no_out,
    _norm_axis,
    _shape,
    _shift,
    _tidy,
    implements,
)
from .._rules import UNARY, UNARY_BY_UFUNC

# What hyperdual exports from this module (as hyperdual.<name>); the other
# functions here are rules that numpy dispatch reaches (np.swapaxes(x) ...).
__all__ = ["reshape", "transpose", "concatenate", "stack"]



# ---------------------------------------------------------------------------------
# Linear maps applied part by part, shifted past the direction axes
# ---------------------------------------------------------------------------------
@implements(np.reshape)
def reshape(x, newshape=None, order="C", *, shape=None, **kw):
    """Give the value and every derivative part a new shape.

    Also reached through ``np.reshape`` on Duals and HyperDuals.

    Parameters
    ----------
    x : Dual or HyperDual
        The values.
    newshape, shape : int or tuple of int
        The new shape (numpy's old and new keyword).
    order : {"C"}
        Only C order is supported.
    **kw
        Other keywords of ``np.reshape`` (``copy``) are accepted for numpy
        compatibility and ignored.

    Returns
    -------
    Dual or HyperDual
        Same numbers, new shape.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.reshape(x, (3, 1)).shape
    (3, 1)
    """
    if newshape is None:
        newshape = shape
    if order != "C" and order is not None:
        return _s.reshape_fortran(x, newshape, order, "hyperdual")
    if isinstance(newshape, (int, np.integer)):
        newshape = (int(newshape),)
    target = np.empty(x.shape, dtype=np.bool_).reshape(newshape).shape  # resolves -1

    def fn(p, nd):
        if nd == 0 and type(p) is float:
            return np.reshape(p, target) if target else p
        return np.reshape(p, _shape(p)[:nd] + target)

    return _map_parts(x, fn)


@implements(np.ravel)
def ravel(x, order="C"):
    return reshape(x, (-1,), order=order)


@implements(np.transpose)
def transpose(x, axes=None):
    """Permute the axes of the value and of every derivative part.

    Also reached through ``np.transpose`` on Duals and HyperDuals.

    Parameters
    ----------
    x : Dual or HyperDual
        The values.
    axes : tuple of int, optional
        The permutation (default: reverse the axes).

    Returns
    -------
    Dual or HyperDual
        The transposed number.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.transpose(hd.reshape(x, (1, 3))).shape
    (3, 1)
    """
    nr = x.ndim
    ax = tuple(range(nr))[::-1] if axes is None else tuple(_norm_axis(a, nr) for a in axes)

    def fn(p, nd):
        if type(p) is float:
            return p
        return np.transpose(p, tuple(range(nd)) + tuple(a + nd for a in ax))

    return _map_parts(x, fn)


@implements(np.swapaxes)
def swapaxes(x, axis1, axis2):
    nr = x.ndim
    a1, a2 = _norm_axis(axis1, nr), _norm_axis(axis2, nr)
    return _map_parts(x, lambda p, nd: np.swapaxes(p, a1 + nd, a2 + nd))


@implements(np.moveaxis)
def moveaxis(x, source, destination):
    nr = x.ndim
    s, d = _norm_axis(source, nr), _norm_axis(destination, nr)
    return _map_parts(x, lambda p, nd: np.moveaxis(p, _shift(s, nd), _shift(d, nd)))


@implements(np.squeeze)
def squeeze(x, axis=None):
    nr = x.ndim
    if axis is None:
        ax = tuple(i for i, s in enumerate(x.shape) if s == 1)
    else:
        ax = _norm_axis(axis, nr)
        ax = ax if isinstance(ax, tuple) else (ax,)
    return _map_parts(x, lambda p, nd: np.squeeze(p, axis=_shift(ax, nd)) if ax else p)


@implements(np.expand_dims)
def expand_dims(x, axis):
    target = np.expand_dims(np.empty(x.shape, dtype=np.bool_), axis).shape
    return reshape(x, target)


@implements(np.broadcast_to)
def broadcast_to(x, shape, subok=False):
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(shape)
    nr = len(shape)
    return _map_parts(x, lambda p, nd: np.broadcast_to(_lift(p, nd, nr), _shape(p)[:nd] + shape))


@implements(np.flip)
def flip(x, axis=None):
    nr = x.ndim
    ax = tuple(range(nr)) if axis is None else _norm_axis(axis, nr)
    return _map_parts(x, lambda p, nd: np.flip(p, axis=_shift(ax, nd)) if nr else p)


@implements(np.roll)
def roll(x, shift, axis=None):
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x.shape)
    ax = _norm_axis(axis, x.ndim)
    return _map_parts(x, lambda p, nd: np.roll(p, shift, axis=_shift(ax, nd)))


@implements(np.diagonal)
def diagonal(x, offset=0, axis1=0, axis2=1):
    nr = x.ndim
    a1, a2 = _norm_axis(axis1, nr), _norm_axis(axis2, nr)
    return _map_parts(x, lambda p, nd: np.diagonal(p, offset, a1 + nd, a2 + nd))


@implements(np.concatenate)
def concatenate(arrays, axis=0, out=None, **kw):
    """Join a sequence of arrays, Duals or HyperDuals along an existing axis.

    Also reached through ``np.concatenate`` on Duals and HyperDuals.

    Parameters
    ----------
    arrays : sequence
        Arrays, Duals or HyperDuals (constants count as zero derivative).
    axis : int
        The axis to join along.
    out, **kw
        As in numpy; ``out`` is refused.

    Returns
    -------
    Dual or HyperDual
        The joined number.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.concatenate([x, x]).shape
    (6,)
    """
    _no_out("concatenate", out)
    arrays = cast_pieces("concatenate", arrays, kw.get("dtype"), kw.get("casting", "same_kind"))
    # a list inside holding differentiated values (np.concatenate([x, [x[0]]])) is stacked,
    # as numpy converts a list of numbers
    top, cols = _gather([_operand(a) for a in arrays])
    nd = top.nd
    if axis is None:
        return concatenate([ravel(_as_number_like(top, c)) for c in cols], axis=0)
    ax = _norm_axis(axis, _ndim(cols[0][0]))
    out_parts = [_tidy(np.concatenate([c[0] for c in cols], axis=ax))]
    for m in range(1, type(top)._NPARTS):
        out_parts.append(np.concatenate([c[m] for c in cols], axis=ax + nd))
    return type(top)._build(out_parts, top.tag, nd)


def _as_number_like(top, parts):
    return type(top)._build(parts, top.tag, top.nd)


@implements(np.stack)
def stack(arrays, axis=0, out=None, **kw):
    """Stack a sequence of arrays, Duals or HyperDuals along a new axis.

    Also reached through ``np.stack`` on Duals and HyperDuals.

    Parameters
    ----------
    arrays : sequence
        Arrays, Duals or HyperDuals of one shape.
    axis : int
        Position of the new axis.
    out, **kw
        As in numpy; ``out`` is refused.

    Returns
    -------
    Dual or HyperDual
        The stacked number.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.stack([x, x]).shape
    (2, 3)
    """
    _no_out("stack", out)
    arrays = cast_pieces("stack", arrays, kw.get("dtype"), kw.get("casting", "same_kind"))
    top, cols = _gather([_operand(a) for a in arrays])
    nd = top.nd
    ax = _norm_axis(axis, _ndim(cols[0][0]) + 1)
    out_parts = [_tidy(np.stack([c[0] for c in cols], axis=ax))]
    for m in range(1, type(top)._NPARTS):
        out_parts.append(np.stack([c[m] for c in cols], axis=ax + nd))
    return type(top)._build(out_parts, top.tag, nd)


# --- functions that only look at the value -------------------------------------
@implements(np.shape)
def _shape_func(a):
    return a.shape


@implements(np.ndim)
def _ndim_func(a):
    return a.ndim


@implements(np.size)
def _size_func(a, axis=None):
    return a.size if axis is None else a.shape[axis]


@implements(np.zeros_like)
def _zeros_like(a, dtype=None, order="K", subok=True, shape=None):
    return np.zeros_like(g.real_value(a), dtype=dtype, shape=shape)


@implements(np.ones_like)
def _ones_like(a, dtype=None, order="K", subok=True, shape=None):
    return np.ones_like(g.real_value(a), dtype=dtype, shape=shape)


@implements(np.copy)
def _copy(a, order="K", subok=False):
    # (a dask array's own copy stays lazy; np.copy of it computes)
    return _map_parts(a, lambda p, nd: p if type(p) is float else
                      p.copy() if _is_foreign_array(p) else np.copy(p))


# ---------------------------------------------------------------------------------
# Shared with reverse mode (_exactdiff.shape); registered last, so these take
# precedence over the part-by-part versions above where both exist
# ---------------------------------------------------------------------------------

#: numpy function -> shared implementation registered for Dual/HyperDual.
# (diagonal, roll, flip, moveaxis and swapaxes keep the part-by-part versions above)
RULES = {f: impl for f, impl in _s.NUMPY_FUNCTIONS.items()
         if f not in (np.diagonal, np.roll, np.flip, np.moveaxis, np.swapaxes)}

for _f, _impl in RULES.items():
    implements(_f)(_impl)

# conj of a real number is the number: the identity rule (f' = 1, f'' = 0)
UNARY_BY_UFUNC[np.conjugate] = UNARY["positive"]
