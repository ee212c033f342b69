"""Reverse-mode rules for array building and shape functions.

The implementations are shared with forward mode (:mod:`_exactdiff.shape`) and
are written with numpy calls that record ``Function`` nodes on Variables:
selections (``tile``, ``pad``, ``diag``, ``triu``, ``insert``, ``flip``,
``roll`` ...) are a reshape and an indexing node, whose backward is a
scatter-add (and whose scatter's backward is indexing again), so every order
of ``create_graph`` and forward-over-reverse over ``Dual`` data work;
``diff``, ``gradient``, ``convolve``, ``linspace``, ``interp`` and ``polyval``
are compositions of slicing and arithmetic.  ``np.conj`` and ``np.real`` of a
real Variable are the Variable; ``np.imag`` is a constant zero.

Examples
--------
>>> import numpy as np
>>> from reverse import Variable
>>> x = Variable([1.0, 2.0])
>>> np.sum(np.tile(x, 3) * np.arange(6.0)).backward()
>>> x.grad
variable([6. 9.])
"""

from __future__ import annotations

import numpy as np

from _exactdiff import shape as _s

from .. import core
from ..core import FUNCTIONS, UFUNCS

#: numpy function -> shared implementation registered for Variables.
RULES = {
    np.tile: _s.tile, np.repeat: _s.repeat, np.pad: _s.pad, np.diag: _s.diag,
    np.diagflat: _s.diagflat, np.diagonal: _s.diagonal, np.triu: _s.triu,
    np.tril: _s.tril, np.roll: _s.roll, np.flip: _s.flip, np.fliplr: _s.fliplr,
    np.flipud: _s.flipud, np.rot90: _s.rot90, np.take: _s.take,
    np.take_along_axis: _s.take_along_axis, np.compress: _s.compress,
    np.extract: _s.extract, np.resize: _s.resize, np.delete: _s.delete,
    np.insert: _s.insert, np.append: _s.append, np.choose: _s.choose,
    np.select: _s.select, np.hstack: _s.hstack, np.vstack: _s.vstack,
    np.dstack: _s.dstack, np.column_stack: _s.column_stack, np.block: _s.block,
    np.atleast_1d: _s.atleast_1d, np.atleast_2d: _s.atleast_2d,
    np.atleast_3d: _s.atleast_3d, np.moveaxis: _s.moveaxis, np.rollaxis: _s.rollaxis,
    np.swapaxes: _s.swapaxes, np.broadcast_arrays: _s.broadcast_arrays,
    np.meshgrid: _s.meshgrid, np.split: _s.split, np.array_split: _s.array_split,
    np.hsplit: _s.hsplit, np.vsplit: _s.vsplit, np.dsplit: _s.dsplit,
    np.real: _s.real, np.imag: _s.imag,
    np.real_if_close: _s.real_if_close, np.full_like: _s.full_like,
    np.empty_like: _s.empty_like, np.diff: _s.diff, np.gradient: _s.gradient,
    np.convolve: _s.convolve, np.correlate: _s.correlate, np.linspace: _s.linspace,
    np.logspace: _s.logspace, np.interp: _s.interp, np.polyval: _s.polyval,
    np.fft.fftshift: _s.fftshift, np.fft.ifftshift: _s.ifftshift,
}

FUNCTIONS.update(RULES)

# conj of a real number is the number itself
UFUNCS[np.conjugate] = UFUNCS[np.positive]
core.UNARY_UFUNCS[np.conjugate] = core.UNARY_UFUNCS[np.positive]
