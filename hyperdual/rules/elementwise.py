"""numpy's elementwise functions that are not ufuncs (``np.sinc``, ``np.i0``).

Their derivatives live in the rule table (:mod:`hyperdual._rules`) like every
other elementwise function; numpy reaches them through ``__array_function__``
rather than ``__array_ufunc__``, so they are registered here.
"""

from __future__ import annotations

import numpy as np

from .. import _generic as g
from .._number import implements


@implements(np.sinc)
def sinc(x):
    """Normalised ``sinc`` of a Dual/HyperDual (rule table: ``sinc``)."""
    return g.sinc(x)  # type: ignore[attr-defined]


@implements(np.i0)
def i0(x):
    """Modified Bessel function ``I0`` of a Dual/HyperDual (rule table: ``i0``)."""
    return g.i0(x)  # type: ignore[attr-defined]
