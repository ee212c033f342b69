"""Forward-mode registration of more array building: ``np.ediff1d``, ``np.geomspace``,
``np.vander``, ``np.bincount`` with differentiated ``weights``, and the polynomial
helpers ``np.polyadd``/``polysub``/``polymul``/``polyder``/``polyint``/``polyfit``
(written once for both engines in :mod:`_exactdiff.building` and
:mod:`_exactdiff.polynomials`; bincount sums with :func:`scatter_add`).

Examples
--------
>>> import numpy as np
>>> from hyperdual import gradient
>>> gradient(lambda w: np.sum(np.bincount([0, 1, 1], weights=w) ** 2), np.ones(3))
array([2., 4., 4.])
"""

from __future__ import annotations

import numpy as np

from _exactdiff.building import BUILDING, bincount_with
from _exactdiff.polynomials import POLYNOMIALS

from .._number import implements
from .indexing import scatter_add

for _f, _impl in {**BUILDING, **POLYNOMIALS}.items():
    implements(_f)(_impl)
implements(np.bincount)(bincount_with(scatter_add))
