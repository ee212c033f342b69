"""Reverse-mode rules for sorting and selection by value.

``np.sort`` and ``np.partition`` gather the input at the permutation of its
values (the backward scatters the gradient back through the same
permutation): see :mod:`_exactdiff.sorting`, shared with forward mode, for the
convention at ties.  ``argsort``, ``argmax``, ``nonzero``, ``searchsorted``,
``isclose`` ... are evaluated on the values and return plain arrays.

Examples
--------
>>> import numpy as np
>>> from reverse import Variable
>>> x = Variable([3.0, 1.0, 2.0])
>>> np.sum(np.sort(x) * np.array([1.0, 10.0, 100.0])).backward()
>>> x.grad
variable([100.   1.  10.])
"""

from __future__ import annotations

import numpy as np

from _exactdiff import sorting as _s

from ..core import FUNCTIONS

FUNCTIONS[np.sort] = _s.sort
FUNCTIONS[np.partition] = _s.partition
for _f in _s.VALUE_FUNCTIONS:
    FUNCTIONS[_f] = _s.on_values(_f)
FUNCTIONS[np.unique] = _s.unique
FUNCTIONS[np.histogram] = _s.histogram
FUNCTIONS[np.histogram_bin_edges] = _s.histogram_bin_edges
FUNCTIONS[np.histogramdd] = _s.histogramdd
FUNCTIONS[np.histogram2d] = _s.histogram2d
FUNCTIONS.update(_s.ARRAY_API_UNIQUE)
