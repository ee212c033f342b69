"""Forward-mode rules for array building and shape functions.

The implementations are shared with reverse mode (:mod:`_exactdiff.shape`):
selections such as ``tile``, ``pad``, ``diag``, ``triu``, ``insert`` run numpy on
an index map and gather every part of the number at those positions; ``diff``,
``gradient``, ``convolve``, ``linspace``, ``interp`` and ``polyval`` are
compositions of slicing and arithmetic.  Functions that forward mode already
maps part by part (``flip``, ``roll``, ``moveaxis``, ``diagonal`` ...) keep
their rules in :mod:`hyperdual._number`.  ``np.conj`` of a real number is the
number itself; ``np.real`` likewise and ``np.imag`` is zero.

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

from .._number import implements
from .._rules import UNARY, UNARY_BY_UFUNC

#: numpy function -> shared implementation registered for Dual/HyperDual.
RULES = {
    np.tile: _s.tile, np.repeat: _s.repeat, np.pad: _s.pad, np.diag: _s.diag,
    np.diagflat: _s.diagflat, np.triu: _s.triu, np.tril: _s.tril,
    np.fliplr: _s.fliplr, np.flipud: _s.flipud, np.rot90: _s.rot90, np.take: _s.take,
    np.take_along_axis: _s.take_along_axis, np.compress: _s.compress,
    np.extract: _s.extract, np.resize: _s.resize, np.delete: _s.delete,
    np.insert: _s.insert, np.append: _s.append, np.choose: _s.choose,
    np.select: _s.select, np.hstack: _s.hstack, np.vstack: _s.vstack,
    np.dstack: _s.dstack, np.column_stack: _s.column_stack, np.block: _s.block,
    np.atleast_1d: _s.atleast_1d, np.atleast_2d: _s.atleast_2d,
    np.atleast_3d: _s.atleast_3d, np.rollaxis: _s.rollaxis,
    np.broadcast_arrays: _s.broadcast_arrays, np.meshgrid: _s.meshgrid,
    np.split: _s.split, np.array_split: _s.array_split, np.hsplit: _s.hsplit,
    np.vsplit: _s.vsplit, np.dsplit: _s.dsplit, np.real: _s.real, np.imag: _s.imag,
    np.real_if_close: _s.real_if_close,
    np.full_like: _s.full_like, np.empty_like: _s.empty_like, np.diff: _s.diff,
    np.gradient: _s.gradient, np.convolve: _s.convolve, np.correlate: _s.correlate,
    np.linspace: _s.linspace, np.logspace: _s.logspace, np.interp: _s.interp,
    np.polyval: _s.polyval,
}

for _f, _impl in RULES.items():
    implements(_f)(_impl)

# conj of a real number is the number: the identity rule (f' = 1, f'' = 0)
UNARY_BY_UFUNC[np.conjugate] = UNARY["positive"]
