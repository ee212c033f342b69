"""Forward-mode rules for sorting and selection by value.

``np.sort`` and ``np.partition`` permute the whole number (every part) by the
permutation of its values: see :mod:`_exactdiff.sorting` (shared with reverse
mode) for the convention at ties.  ``argsort``, ``argmax``, ``nonzero``,
``searchsorted``, ``isclose`` ... have integer or boolean results: they are
evaluated on the values and return plain arrays.

Examples
--------
>>> import numpy as np
>>> from hyperdual import Dual
>>> y = np.sort(Dual(np.array([3.0, 1.0]), np.array([10.0, 20.0])))
>>> y.real, y.dual
(array([1., 3.]), array([20., 10.]))
>>> np.argsort(Dual(np.array([3.0, 1.0]), 0.0))
array([1, 0])
"""

from __future__ import annotations

import numpy as np

from _exactdiff import sorting as _s

from .._number import implements

#: numpy function -> shared implementation registered for Dual/HyperDual.
RULES = {np.sort: _s.sort, np.partition: _s.partition}
RULES.update({f: _s.on_values(f) for f in _s.VALUE_FUNCTIONS
              if f not in (np.zeros_like, np.ones_like, np.shape, np.ndim, np.size)})
RULES.update({np.unique: _s.unique, np.histogram: _s.histogram,
              np.histogram_bin_edges: _s.histogram_bin_edges, np.histogramdd: _s.histogramdd,
              np.histogram2d: _s.histogram2d, **_s.ARRAY_API_UNIQUE})

for _f, _impl in RULES.items():
    implements(_f)(_impl)
