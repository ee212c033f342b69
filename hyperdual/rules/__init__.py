"""Forward-mode rules by family, one module each.

========================  =========================================================
``shape``                 reshape, transpose, concatenate, stack, flip, roll, take, pad ...
``indexing``              ``x[i]``, scatter_add
``reductions``            sum, mean, prod, max, min
``selection``             where, clip
``products``              ``@``/matmul (and hyperdual.dot, hyperdual.outer)
``contractions``          einsum, tensordot, kron, dot/inner/vdot/outer of any dimensions
``linalg``                numpy.linalg (solve, inv, det, slogdet, eigh, svd ...), trace
``statistics``            cumsum, var, std, average, median, quantile, cov, logsumexp ...
``building``              ediff1d, geomspace, vander, bincount, apply_along_axis,
                          piecewise, polyfit, polymul ... (polynomial helpers)
``nanfunctions``          nanvar, nanstd, nanmax, nanmin, nanprod, nanmedian, nanquantile ...
``sorting``               sort, partition, argsort and the other index functions
``elementwise``           the elementwise functions that are not ufuncs (sinc, i0)
========================  =========================================================

Each module registers its numpy functions into the dispatch table of
:mod:`hyperdual._number` with ``implements`` when it is imported; this package
imports them all, and ``hyperdual/__init__`` imports this package once the
number types exist.  The elementwise rule table (f, f', f'' of every ufunc)
lives in :mod:`hyperdual._rules`; the arithmetic that applies it, in
:mod:`hyperdual._number`.  Registration order matters where two modules
register one function: ``statistics`` wraps the reductions with ``where=`` and
``initial=``, and ``contractions`` registers the general ``np.dot`` and
``np.outer`` over those of ``products``.
"""

from .. import _number
from . import (  # noqa: E402,F401  (register on import)
    building,
    contractions,
    eig,
    elementwise,
    indexing,
    linalg,  # noqa: E402,F401
    nanfunctions,
    products,
    reductions,
    selection,
    shape,
    sorting,
    special,
    statistics,
)


def _refresh_supported() -> None:
    """Add the families' functions to ``hyperdual.SUPPORTED_FUNCTIONS`` (in place)."""
    import numpy as np
    import scipy.special as sp

    names = set(_number.SUPPORTED_FUNCTIONS) | set(_number.supported_functions())
    for f in _number.HANDLED_FUNCTIONS:
        naive = f"{getattr(f, '__module__', None) or 'numpy'}.{f.__name__}"
        if getattr(sp, f.__name__, None) is f and getattr(np, f.__name__, None) is not f:
            # a scipy.special ufunc (no __module__) registered here: "numpy.<name>"
            # is wrong unless numpy has a function of that name (cbrt, expm1 ...)
            if getattr(np, f.__name__, None) is None:
                names.discard(naive)
            naive = f"scipy.special.{f.__name__}"
        elif f.__name__ in ("_zeta", "_riemann_zeta") and getattr(
                getattr(sp, "_ufuncs", None), f.__name__, None) is f:
            names.discard(naive)  # the ufuncs behind scipy.special.zeta(s, q), zeta(s)
            naive = "scipy.special.zeta"
        names.add(naive)
    names.add("numpy.conjugate")
    _number.SUPPORTED_FUNCTIONS[:] = sorted(names)


_refresh_supported()
