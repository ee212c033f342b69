"""The functions of the reverse engine: every differentiable operation, by name.

Each operation is a :class:`~reverse.core.Function` whose ``forward`` works on
raw data (ndarrays, or ``hyperdual`` numbers for forward-over-reverse) and whose
``backward(gy, y, *xs)`` is written with numpy functions and operators only.
On raw arrays that backward computes numbers (the fast default); on Variables
(``create_graph=True``) the same numpy calls dispatch back into this table, so
gradients can be differentiated again to any order.

The operations are reachable three ways: through numpy (``np.sin(x)``,
``np.sum(x, axis=0)``, ``a @ x``), through operators on Variables, and through
the functions of this module (``reverse.functions.sin(x)``), which also accept
plain arrays and always return a Variable.

The rules themselves live in :mod:`reverse.rules`, one module per family
(``unary``, ``binary``, ``elementwise``, ``reductions``, ``shape``,
``indexing``, ``selection``, ``products``, ``contractions``, ``linalg``,
``statistics``, ``sorting``, ``nn``, ``conv``, ``book``); this module re-exports their
public names (``import reverse.functions as F``, as DeZero's ``dezero.functions``).

Conventions at non-differentiable points
----------------------------------------
* ``abs'(0) = 0`` (the derivative is ``sign(x)``), ``sign' = 0``, and
  ``floor``/``ceil``/``trunc``/``rint`` have derivative 0.
* ``sqrt'(0) = inf`` with numpy's divide-by-zero warning; ``0 ** 0 = 1``.
* A zero cotangent stays zero through every elementwise rule even where the
  local derivative or an operand is infinite (see ``_keep_zero``), so one
  singular entry does not turn a Jacobian's or Hessian's other entries to NaN.
* ``x ** n`` for a constant ``n``: the derivative of ``x ** 0`` is 0 and that of
  ``x ** 1`` is 1 everywhere (no ``0 * inf`` NaN at ``x = 0``, at any order).
  For ``a ** b`` with a differentiated exponent the partials are the family
  ``PowPartial(i, j)`` (any order, symmetric mixed partials); ``log a`` is taken
  as 0 at ``a = 0`` in every derivative by ``b`` (so ``d/db`` is 0 there, as in
  JAX), which makes the Hessian ``[[0, inf], [inf, 0]]`` at (0, 0) and
  ``[[0, 1], [1, 0]]`` at (0, 1), as in ``hyperdual``.
* ``maximum``/``minimum`` at ties split the gradient 0.5/0.5 between the two
  operands (as JAX does); ``max``/``min`` reductions share it equally among all
  tied maximal elements (as JAX does).
* ``clip`` is ``minimum(maximum(x, lo), hi)``: the gradient goes to ``x``
  inside the bounds, to the active bound outside, and is split 0.5/0.5 at a
  bound (a tie), as in JAX and in ``hyperdual``.
* ``relu'(0) = 0``.
* ``prod``: exact at every order, zeros included (with a zero entry the
  backward multiplies the other entries by exclusive cumulative products).

Examples
--------
>>> import numpy as np
>>> from reverse import Variable
>>> x = Variable(np.array([1.0, 2.0]))
>>> y = np.sum(np.exp(x) * 2.0)
>>> y.backward()
>>> bool(np.allclose(x.grad.data, 2 * np.exp([1.0, 2.0])))
True
"""

from __future__ import annotations

# Names this module has always offered besides its functions (kept for code
# that reached them as ``F.np``, ``F.Variable``, ``F.sum_to`` ...).
import builtins  # noqa: F401
import math  # noqa: F401
from typing import Any  # noqa: F401

import numpy as np  # noqa: F401

from _exactdiff.special import multigammaln  # noqa: E402, F401  (scipy's, for Variables)

from . import core  # noqa: F401
from .core import FUNCTIONS, UFUNCS, VALUE_UFUNCS, Function, Variable, as_array  # noqa: F401
from .rules import binary as _binary  # (reverse.rules registers every family)
from .rules import book as _book
from .rules import contractions as _contractions
from .rules import conv as _conv
from .rules import elementwise as _elementwise
from .rules import indexing as _indexing
from .rules import nn as _nn
from .rules import products as _products
from .rules import reductions as _reductions
from .rules import selection as _selection
from .rules import shape as _shape
from .rules import statistics as _statistics
from .rules import unary as _unary
from .rules.binary import *  # noqa: F403
from .rules.book import *  # noqa: F403
from .rules.contractions import *  # noqa: F403
from .rules.conv import *  # noqa: F403
from .rules.elementwise import *  # noqa: F403
from .rules.indexing import *  # noqa: F403
from .rules.nn import *  # noqa: F403
from .rules.operators import Anchor, AsType  # noqa: F401
from .rules.products import *  # noqa: F403
from .rules.reductions import *  # noqa: F403
from .rules.selection import *  # noqa: F403
from .rules.shape import *  # noqa: F403
from .rules.statistics import *  # noqa: F403
from .rules.unary import *  # noqa: F403
from .rules.unary import OneMinusSquare, Sech2  # noqa: F401
from .utils import expand_to, is_basic_index, reduce_shape, scatter_add, sum_to  # noqa: F401

__all__ = [
    *_unary.__all__, *_binary.__all__, *_products.__all__, *_reductions.__all__,
    *_shape.__all__, *_indexing.__all__, "sum_to", *_selection.__all__, *_nn.__all__,
    *_contractions.__all__, *_elementwise.__all__, *_statistics.__all__, *_conv.__all__,
    *_book.__all__, "multigammaln",
]
