"""numpy's elementwise functions that are not ufuncs (``np.sinc``, ``np.i0``), and
the composites ``fmax``, ``fmin``, ``nan_to_num``, ``angle`` (real input).

Their derivatives live in the rule table (:mod:`hyperdual._rules`) like every
other elementwise function; numpy reaches them through ``__array_function__``
rather than ``__array_ufunc__``, so they are registered here.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from _exactdiff import elementwise as _e

from .. import _generic as g
from .._number import implements


@implements(np.sinc)
def sinc(x):
    """Normalised ``sinc`` of a Dual/HyperDual (rule table: ``sinc``).

    ``np.sinc(x)`` on a Dual or HyperDual arrives here.

    Parameters
    ----------
    x : Dual or HyperDual
        The argument.

    Returns
    -------
    Dual or HyperDual
        ``sin(pi x) / (pi x)`` (1 at 0) with its derivatives.

    Examples
    --------
    At x = 1/2: ``sinc = 2/pi`` and ``sinc' = (pi x cos(pi x) - sin(pi x)) / (pi x**2)
    = -4/pi``:

    >>> import numpy as np
    >>> from hyperdual import Dual
    >>> y = np.sinc(Dual(0.5, 1.0))
    >>> bool(np.isclose(y.real, 2 / np.pi)), bool(np.isclose(y.dual, -4 / np.pi))
    (True, True)
    """
    return g.sinc(x)  # type: ignore[attr-defined]


@implements(np.i0)
def i0(x):
    """Modified Bessel function ``I0`` of a Dual/HyperDual (rule table: ``i0``).

    ``np.i0(x)`` on a Dual or HyperDual arrives here.

    Parameters
    ----------
    x : Dual or HyperDual
        The argument.

    Returns
    -------
    Dual or HyperDual
        ``I0(x)`` with its derivatives (``I0' = I1``).

    Examples
    --------
    >>> import numpy as np
    >>> import scipy.special
    >>> from hyperdual import Dual
    >>> y = np.i0(Dual(1.0, 1.0))
    >>> bool(np.isclose(y.dual, scipy.special.i1(1.0)))  # I1(1) = 0.5651591...
    True
    """
    return g.i0(x)  # type: ignore[attr-defined]


# composites shared with reverse mode (_exactdiff.elementwise); fmax/fmin are
# ufuncs, found by _number._array_ufunc in the same table
for _f, _impl in {np.fmax: _e.fmax, np.fmin: _e.fmin, np.nan_to_num: _e.nan_to_num,
                  np.angle: _e.angle, special.huber: _e.huber, np.modf: _e.modf,
                  np.frexp: _e.frexp, np.ldexp: _e.ldexp, np.nextafter: _e.nextafter,
                  np.spacing: _e.spacing}.items():
    implements(_f)(_impl)
