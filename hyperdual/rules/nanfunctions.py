"""Forward-mode registration of numpy's NaN-ignoring functions: ``nanvar``, ``nanstd``,
``nanmax``, ``nanmin``, ``nanprod``, ``nancumsum``, ``nancumprod``, ``nanmedian``,
``nanpercentile``, ``nanquantile`` (``nansum``/``nanmean``: :mod:`.statistics`).

Written once for both engines in :mod:`_exactdiff.nanfunctions`: a NaN entry has
derivative 0; an all-NaN slice is NaN, as in numpy.

Examples
--------
>>> import numpy as np
>>> from hyperdual import gradient
>>> gradient(lambda x: np.nanmax(x * x), np.array([1.0, np.nan, -3.0]))
array([ 0.,  0., -6.])
"""

from __future__ import annotations

from _exactdiff.nanfunctions import NANFUNCTIONS

from .._number import implements

for _f, _impl in NANFUNCTIONS.items():
    implements(_f)(_impl)
