"""Reverse-mode rules for statistics and reductions.

``cumsum`` is a ``Function`` (its backward is a reversed cumsum, itself
differentiable).  ``var``, ``std``, ``average``, ``cov``, ``corrcoef``,
``ptp``, ``nansum``, ``nanmean``, ``cumprod``, ``median``, ``percentile``,
``quantile`` and the scipy-compatible ``logsumexp``/``softmax``/``log_softmax``
are the compositions of :mod:`_exactdiff.statistics` (one definition for both
engines); their conventions (ties, clipping) are documented there.

Examples
--------
>>> import numpy as np
>>> from reverse import gradient
>>> gradient(lambda x: np.cumsum(x)[-1] * np.std(x), np.array([1.0, 3.0]))
array([-1.,  3.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _exactdiff import statistics as _s

from ..core import FUNCTIONS, Function, Variable, _value
from . import reductions as _reductions  # noqa: F401  (registered before wrapped below)
from ._util import _arg, _reject
from .shape import reshape

__all__ = ["CumSum", "cumsum", "logsumexp"]


class CumSum(Function):
    """Cumulative sum along ``axis``; the gradient is the reversed cumulative sum.

    Parameters
    ----------
    axis : int
        The (non-negative) axis to accumulate along.

    Examples
    --------
    >>> from reverse import Variable
    >>> CumSum(0)(Variable([1.0, 2.0, 3.0]))
    variable([1. 3. 6.])
    """

    __slots__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x: Any) -> Any:
        return np.cumsum(x, axis=self.axis)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        rev = (slice(None),) * self.axis + (slice(None, None, -1),)
        return np.cumsum(gy[rev], axis=self.axis)[rev]


def cumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Variable:
    """``np.cumsum`` of a Variable (``axis=None`` flattens first).

    Parameters
    ----------
    a : Variable or array_like
        The values.
    axis : int, optional
        The axis to accumulate along; None flattens first.
    dtype : floating dtype, optional
        Accumulate in it (the input is cast first, as numpy does); other dtypes
        raise ``TypeError``.
    out : None
        Must be None (the graph cannot write into an array).

    Returns
    -------
    Variable
        The running sums.

    Examples
    --------
    >>> cumsum([[1.0, 2.0], [3.0, 4.0]], axis=1)
    variable([[1. 3.]
              [3. 7.]])
    """
    _reject("cumsum", out=out)
    a = _s.as_dtype("cumsum", _arg(a, "cumsum"), dtype)  # a floating dtype=, as numpy
    if not isinstance(a, Variable):
        a = Variable(a)
    if axis is None:
        a = reshape(a, (-1,))
        axis = 0
    nd = np.ndim(_value(a))
    return CumSum(int(axis) % max(nd, 1))(a)


for _f, _impl in _s.STATISTICS.items():
    FUNCTIONS[_f] = _impl
FUNCTIONS[np.cumsum] = cumsum
# where= and initial= of sum/prod/mean/max/min, on top of the existing reductions
for _kind, _funcs in _s.REDUCTIONS.items():
    for _f in _funcs:
        if _f in FUNCTIONS:
            FUNCTIONS[_f] = _s.with_where(_kind, FUNCTIONS[_f])

logsumexp = _s.logsumexp
