"""Forward-mode rules for elementwise selection: ``where`` and ``clip``.

The derivative follows the choice: ``where`` picks every part from the
operand the (real) condition picks; ``clip`` is ``minimum(maximum(a, lo), hi)``
in the elementwise rule table, so a value at a bound shares the derivative
0.5/0.5 with the bound (the ``maximum``/``minimum`` convention).

Examples
--------
>>> import numpy as np
>>> from hyperdual import Dual
>>> np.clip(Dual(np.array([0.0, 2.0]), np.array([1.0, 1.0])), 1.0, 3.0).dual
array([0., 1.])
"""

from __future__ import annotations

import numpy as np

from _exactdiff.arrays import is_foreign_array as _is_foreign

from .. import _generic as g
from .._number import _finish, _gather, _lead_shapes, _lift, _no_out, _shape, _tidy, implements

# What hyperdual exports from this module (as hyperdual.<name>); the other
# functions here are rules that numpy dispatch reaches (np.swapaxes(x) ...).
__all__ = ["where", "clip"]



@implements(np.where)
def where(condition, x=None, y=None):
    """Elementwise choice ``x if condition else y``; derivatives follow the choice.

    Also reached through ``np.where`` on Duals and HyperDuals.

    Parameters
    ----------
    condition : array_like of bool
        Where to take ``x`` (a Dual's real part is used).
    x, y : array_like, Dual or HyperDual, optional
        The two sources; with neither, the indices of the true elements.

    Returns
    -------
    Dual, HyperDual, ndarray or tuple of ndarray
        The chosen values (indices when ``x`` and ``y`` are omitted).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.where(np.array([True, False, True]), x, 0.0).real
    array([1., 0., 3.])
    """
    if x is None and y is None:
        return np.where(g.real_value(condition))
    cond = g.real_value(condition)
    if _is_foreign(cond):  # a lazy mask stays lazy
        cond = cond if cond.dtype == bool else cond.astype(bool)
    else:
        cond = np.asarray(cond, dtype=bool)
    top, cols = _gather([x, y])
    nd = top.nd
    out = [_tidy(np.where(cond, cols[0][0], cols[1][0]))]
    # the broadcast shape of the three (np.where's own; sizes a dask selection by a
    # mask leaves unknown stay unknown, which np.broadcast_shapes refuses)
    shape = _shape(out[0])
    nres = len(shape)
    leads = _lead_shapes(top)
    for m in range(1, type(top)._NPARTS):
        a, b = _lift(cols[0][m], nd, nres), _lift(cols[1][m], nd, nres)
        out.append(np.where(cond, a, b))
    return _finish(type(top), out, top.tag, nd, shape, leads)


@implements(np.clip)
def clip(a, a_min=None, a_max=None, out=None, **kw):
    """Limit values to ``[a_min, a_max]``; derivative 0 outside, 0.5/0.5 at ties.

    Also reached through ``np.clip`` on Duals and HyperDuals.

    Parameters
    ----------
    a : array_like, Dual or HyperDual
        The values.
    a_min, a_max : array_like, Dual, HyperDual or None
        The bounds (None: no bound on that side).
    out, **kw
        As in numpy (``min=``/``max=`` accepted); ``out`` is refused.

    Returns
    -------
    Dual, HyperDual or ndarray
        The clipped values.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.clip(x, 1.5, 2.5).real
    array([1.5, 2. , 2.5])
    """
    _no_out("clip", out)
    if "min" in kw:
        a_min = kw.pop("min")
    if "max" in kw:
        a_max = kw.pop("max")
    r = a
    if a_min is not None:
        r = g.maximum(r, a_min)
    if a_max is not None:
        r = g.minimum(r, a_max)
    if a_min is not None and a_max is not None:
        r = _equal_bounds(r, a_min, a_max)
    return r


def _equal_bounds(r, lo, hi):
    """Where ``lo == hi`` (finite) the clipped value is that bound whatever ``a``
    is: ``a``'s derivative there is 0 (minimum(maximum(a, lo), hi) gave 0.25 at
    a == lo == hi by its two 0.5/0.5 tie splits, a wrong derivative of a constant
    function), and the bounds share theirs 0.5/0.5 (README, Conventions)."""
    lv, hv = g.real_value(lo), g.real_value(hi)
    if _is_foreign(lv) or _is_foreign(hv):
        return r
    lv, hv = np.asarray(lv), np.asarray(hv)  # (a list bound)
    if lv.dtype.kind not in "fiub" or hv.dtype.kind not in "fiub":
        return r
    with np.errstate(invalid="ignore"):
        tie = (lv == hv) & np.isfinite(lv)
    if not tie.any():
        return r
    # (list bounds as arrays; Python numbers stay weak: a float32 x stays float32)
    lo = np.asarray(lo, dtype=np.result_type(lv, 0.0)) if isinstance(lo, (list, tuple)) else lo
    hi = np.asarray(hi, dtype=np.result_type(hv, 0.0)) if isinstance(hi, (list, tuple)) else hi
    return where(tie, lo + 0.5 * (hi - lo), r)  # (the value: lo exactly; a Dual still)
