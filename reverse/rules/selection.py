"""Reverse-mode rules of elementwise selection: ``where`` and ``clip``.

``where``'s condition is not differentiated: the gradient goes to the operand
it picked.  ``clip`` is ``minimum(maximum(x, lo), hi)``: the gradient goes to
``x`` inside the bounds, to the active bound outside, and is split 0.5/0.5 at
a bound (a tie), as in JAX and in ``hyperdual``.

Examples
--------
>>> from reverse import Variable
>>> x = Variable([-2.0, 0.5])
>>> clip(x, -1.0, 1.0).sum().backward()
>>> x.grad
variable([0. 1.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _exactdiff.arrays import is_foreign_array as _is_foreign
from _exactdiff.arrays import may_hold

from ..core import FUNCTIONS, Function, Variable, _value
from ..utils import sum_to
from ._util import _arg, _as_dtype, _reject

__all__ = ["Where", "Clip", "where", "clip"]


class Where(Function):
    """``where(cond, a, b)`` with a constant condition.

    Parameters
    ----------
    cond : array_like of bool
        The condition (a constant of the differentiation).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> Where(np.array([True, False]))(Variable([1.0, 2.0]), 0.0)
    variable([1. 0.])
    """

    __slots__ = ("cond",)

    def __init__(self, cond: Any) -> None:
        self.cond = cond

    def forward(self, a: Any, b: Any) -> Any:
        return np.where(self.cond, a, b)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        return (sum_to(np.where(self.cond, gy, 0.0), a.shape) if isinstance(ia, Variable)
                else None,
                sum_to(np.where(self.cond, 0.0, gy), b.shape) if isinstance(ib, Variable)
                else None)


def where(cond: Any, a: Any = None, b: Any = None) -> Any:
    """Choose ``a`` where ``cond`` holds, else ``b`` (``cond`` is not differentiated).

    With only ``cond`` given this is ``np.nonzero`` on its values.

    Parameters
    ----------
    cond : array_like of bool or Variable
        The condition; only its values are used.
    a, b : Variable or array_like, optional
        The choices (broadcast together with ``cond``); both or neither.

    Returns
    -------
    Variable or tuple of numpy.ndarray
        The chosen values; with ``cond`` alone, ``np.nonzero`` of its values.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable([-1.0, 2.0])
    >>> where(x > 0, x, 0.0)
    variable([0. 2.])
    """
    cond = _value(cond)
    if a is None and b is None:
        return np.where(cond)
    if _is_foreign(cond):  # a lazy mask stays lazy
        cond = cond if cond.dtype == bool else cond.astype(bool)
    else:
        cond = np.asarray(cond, dtype=bool)
    return Where(cond)(_arg(a, "where"), _arg(b, "where"))


class Clip(Function):
    """``clip(x, lo, hi)``; ``lo``/``hi`` may be None, constants or Variables.

    Examples
    --------
    >>> from reverse import Variable
    >>> Clip()(Variable([-2.0, 0.5, 2.0]), -1.0, 1.0)
    variable([-1.   0.5  1. ])
    """

    __slots__ = ()

    @staticmethod
    def forward(x: Any, lo: Any, hi: Any) -> Any:
        return np.clip(x, lo, hi)

    def backward(self, gy: Any, y: Any, x: Any, lo: Any, hi: Any) -> Any:
        # clip is minimum(maximum(x, lo), hi); each of the two splits ties 0.5/0.5
        # as Maximum/Minimum do (JAX's convention), and hyperdual.clip agrees.
        ix, ilo, ihi = self._inputs
        xv = _value(x)
        a, m = 1.0, xv
        if lo is not None:
            lv = _value(lo)
            a = np.where(xv > lv, 1.0, np.where(xv == lv, 0.5, 0.0))
            m = np.maximum(xv, lv)
        b = 1.0
        if hi is not None:
            hv = _value(hi)
            b = np.where(m < hv, 1.0, np.where(m == hv, 0.5, 0.0))
            if lo is not None:
                # lo == hi (finite): the value is that bound whatever x is, so x's
                # derivative is 0 (not the two splits' 0.25 at x == lo == hi) and
                # the bounds share theirs 0.5/0.5, as hyperdual.clip (README, Conventions)
                with np.errstate(invalid="ignore"):
                    tie = (lv == hv) & np.isfinite(lv)
                if may_hold(tie):
                    a, b = np.where(tie, 0.0, a), np.where(tie, 0.5, b)
        dt = np.result_type(xv, *[_value(v) for v in (lo, hi) if v is not None])
        if dt.kind == "f":  # float32 gradients stay float32
            a, b = _as_dtype(a, dt), _as_dtype(b, dt)
        return (sum_to(gy * (a * b), x.shape) if isinstance(ix, Variable) else None,
                sum_to(gy * ((1.0 - a) * b), lo.shape) if isinstance(ilo, Variable) else None,
                sum_to(gy * (1.0 - b), hi.shape) if isinstance(ihi, Variable) else None)


def clip(x: Any, x_min: Any = None, x_max: Any = None) -> Variable:
    """Limit values to ``[x_min, x_max]`` (either bound may be None).

    The gradient goes to ``x`` strictly inside ``[x_min, x_max]`` and to the
    bound where it is active; at a boundary (a tie) it is split 0.5/0.5, as
    ``minimum(maximum(x, x_min), x_max)`` gives in JAX and in ``hyperdual``.

    Parameters
    ----------
    x : Variable or array_like
        The values.
    x_min, x_max : Variable or array_like or None
        The bounds (broadcast against ``x``); None leaves that side open.

    Returns
    -------
    Variable
        The clipped values.

    Examples
    --------
    >>> from reverse import Variable
    >>> x = Variable([-2.0, 0.5, 1.0])
    >>> clip(x, -1.0, 1.0).sum().backward()
    >>> x.grad
    variable([0.  1.  0.5])
    """
    x = _arg(x, "clip")
    lo = None if x_min is None else _arg(x_min, "clip")
    hi = None if x_max is None else _arg(x_max, "clip")
    if lo is None and hi is None:
        raise ValueError("clip: at least one of x_min and x_max must be given")
    return Clip()(x, lo, hi)


def _np_clip(a: Any, a_min: Any = np._NoValue, a_max: Any = np._NoValue, out: Any = None,
             *, min: Any = np._NoValue, max: Any = np._NoValue,  # noqa: A002
             **kwargs: Any) -> Variable:
    _reject("clip", out=out, **kwargs)
    lo = a_min if a_min is not np._NoValue else min
    hi = a_max if a_max is not np._NoValue else max
    lo = None if lo is np._NoValue else lo
    hi = None if hi is np._NoValue else hi
    return clip(a, lo, hi)


FUNCTIONS[np.where] = where
FUNCTIONS[np.clip] = _np_clip
