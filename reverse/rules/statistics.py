"""Reverse-mode rules for statistics and reductions.

``cumsum`` is a ``Function`` (its backward is a reversed cumsum, itself
differentiable).  ``var``, ``std``, ``average``, ``cov``, ``corrcoef``,
``ptp``, ``nansum``, ``nanmean``, ``cumprod``, ``median``, ``percentile``,
``quantile`` and the scipy-compatible ``logsumexp``/``softmax``/``log_softmax``
are the compositions of :mod:`hyperdual.rules.statistics` (one definition for
both engines, imported when first called: reverse never imports hyperdual
eagerly); their conventions (ties, clipping) are documented there.

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

from .. import functions as F
from ..core import FUNCTIONS, Function, Variable, _value


class CumSum(Function):
    """Cumulative sum along ``axis``; the gradient is the reversed cumulative sum.

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

    Examples
    --------
    >>> cumsum([[1.0, 2.0], [3.0, 4.0]], axis=1)
    variable([[1. 3.]
              [3. 7.]])
    """
    F._reject("cumsum", dtype=dtype, out=out)
    a = F._arg(a, "cumsum")
    if not isinstance(a, Variable):
        a = Variable(a)
    if axis is None:
        a = F.reshape(a, (-1,))
        axis = 0
    nd = np.ndim(_value(a))
    return CumSum(int(axis) % max(nd, 1))(a)


def _stats() -> Any:
    from hyperdual.rules import statistics

    return statistics


def _lazy(name: str) -> Any:
    def impl(*args: Any, **kwargs: Any) -> Any:
        return getattr(_stats(), name)(*args, **kwargs)

    impl.__name__ = impl.__qualname__ = name
    impl.__doc__ = (f"``{name}`` for Variables: the shared composition of "
                    f":func:`hyperdual.rules.statistics.{name}`.")
    return impl


_NAMES = ("var", "std", "average", "cov", "corrcoef", "ptp", "nansum", "nanmean", "cumprod",
          "median", "percentile", "quantile")
for _name in _NAMES:
    FUNCTIONS[getattr(np, _name)] = _lazy(_name)
FUNCTIONS[np.cumsum] = cumsum

logsumexp = _lazy("logsumexp")
logsumexp.__doc__ = """``log(sum(b * exp(a)))`` with scipy.special.logsumexp's signature (``axis``,
``b``, ``keepdims``, ``return_sign``), on Variables, Duals and arrays.

scipy's own logsumexp converts its input with np.asarray, which no dispatch
protocol reaches; this is the differentiable replacement.

Examples
--------
>>> import numpy as np
>>> from reverse import gradient
>>> from reverse.functions import logsumexp
>>> gradient(lambda x: logsumexp(x, b=np.array([1.0, 3.0])), np.zeros(2))
array([0.25, 0.75])
"""
F.logsumexp = logsumexp  # type: ignore[attr-defined]
F.cumsum = cumsum  # type: ignore[attr-defined]
F.CumSum = CumSum  # type: ignore[attr-defined]
F.__all__.extend(["CumSum", "cumsum", "logsumexp"])
