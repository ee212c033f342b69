"""Forward-mode registration of the statistics and reductions: ``cumsum``, ``var``, ``std``,
``average``, ``cov``, ``corrcoef``, ``ptp``, ``nansum``, ``nanmean``, ``cumprod``,
``median``, ``percentile``, ``quantile``, and ``hyperdual.logsumexp``,
``softmax``, ``log_softmax`` (scipy.special's signatures: scipy's own versions
call np.asarray, which no dispatch protocol reaches).

The functions are written once for both engines in :mod:`_exactdiff.statistics`,
where their conventions (ties of the order statistics, ``std`` at variance 0,
``corrcoef`` unclipped) are documented.

Examples
--------
>>> import numpy as np
>>> from hyperdual import gradient
>>> gradient(lambda x: np.var(x, ddof=1), np.array([1.0, 2.0, 4.0]))
array([-1.33333333, -0.33333333,  1.66666667])
>>> gradient(lambda x: logsumexp(x), np.zeros(2))
array([0.5, 0.5])
"""

from __future__ import annotations

import numpy as np

from _exactdiff.statistics import (
    REDUCTIONS,
    STATISTICS,
    as_dtype,
    log_softmax,
    logsumexp,
    softmax,
    with_where,
)

from .._number import HANDLED_FUNCTIONS, _map_parts, _no_out, _norm_axis, implements
from .shape import ravel


@implements(np.cumsum)
def cumsum(x, axis=None, dtype=None, out=None):
    _no_out("cumsum", out)
    x = as_dtype("cumsum", x, dtype)  # accumulate in a floating dtype= as numpy does
    if axis is None:
        return cumsum(ravel(x), axis=0)
    ax = _norm_axis(axis, x.ndim)
    return _map_parts(x, lambda p, nd: np.cumsum(p, axis=ax + nd))


for _f, _impl in STATISTICS.items():
    implements(_f)(_impl)

__all__ = ["logsumexp", "softmax", "log_softmax"]

# where= and initial= of sum/prod/mean/max/min, on top of the number's reductions
for _kind, _funcs in REDUCTIONS.items():
    for _f in _funcs:
        _base = HANDLED_FUNCTIONS.get(_f)
        if _base is not None:
            implements(_f)(with_where(_kind, _base))
