"""Reverse-mode rules by family, one module each.

========================  =========================================================
``unary``                 sin, exp, log, sqrt, tanh, erf ... (the elementwise table),
                          polygamma
``binary``                ``+ - * / **``, arctan2, hypot, maximum, minimum, xlogy
``elementwise``           scipy.special (gamma, beta, erfinv, Bessel ...), remainders,
                          float_power, logaddexp, sinc
``reductions``            sum, prod, mean, max, min
``shape``                 reshape, transpose, broadcast_to, concatenate, stack, tile, pad ...
``indexing``              ``x[i]``
``selection``             where, clip
``products``              ``@``/matmul, dot, outer, linear
``contractions``          einsum, tensordot, kron, dot/inner/vdot of any dimensions
``linalg``                numpy.linalg (solve, inv, det, slogdet, eigh, svd ...)
``statistics``            cumsum, var, std, average, median, quantile, cov, logsumexp ...
``building``              ediff1d, geomspace, vander, bincount, apply_along_axis,
                          piecewise, polyfit, polymul ... (polynomial helpers)
``nanfunctions``          nanvar, nanstd, nanmax, nanmin, nanprod, nanmedian, nanquantile ...
``sorting``               sort, partition, argsort and the other index functions
``nn``                    relu, sigmoid, softmax, softmax_cross_entropy, dropout ...
``operators``             Variable's operators and methods (``x + y``, ``x[i]``, ``x.T`` ...)
========================  =========================================================

Each module defines its ``Function`` classes and registers the numpy functions
it covers into :data:`reverse.core.FUNCTIONS` (ufuncs into ``UFUNCS``) when it
is imported; this package imports them all.  The public names are re-exported
by :mod:`reverse.functions` (``import reverse.functions as F``).  Registration
order matters where two modules register one function, so the base families
are imported first: ``elementwise`` then replaces ``np.float_power`` (an alias
of ``power`` until then) and ``statistics`` wraps the reductions with
``where=`` and ``initial=``.
"""

from . import (  # noqa: F401  (register on import; the base families)
    binary,
    indexing,
    nn,
    operators,
    products,
    reductions,
    selection,
    shape,
    unary,
)

# isort: split
from . import (  # noqa: F401  (replace or wrap some entries of the families above)
    building,
    contractions,
    eig,
    elementwise,
    linalg,
    nanfunctions,
    sorting,
    special,
    statistics,
)
