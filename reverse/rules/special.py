"""Reverse-mode rules for scipy.special functions with a constant parameter:
Bessel functions of any order, ``rgamma``, the incomplete gamma and beta functions,
their inverses and the distribution functions built on them, the hypergeometric
functions, the orthogonal polynomials ``eval_*``, the exponential integrals and
more (the list is :mod:`hyperdual.rules.special`'s, in ``x``) and ``gammasgn``.

The rules are the :class:`hyperdual.custom_jvp` objects of
:mod:`hyperdual.rules.special` (one definition for both engines): on
Variables each call is a ``Function`` whose backward is the rule's VJP,
written with the same functions, so every order of ``create_graph`` and
forward-over-reverse work.  A differentiated order or shape parameter raises
``TypeError``.

Examples
--------
>>> import numpy as np, scipy.special as sp
>>> from reverse import derivative
>>> bool(np.isclose(derivative(sp.j0, 1.0), -sp.j1(1.0)))
True
"""

from __future__ import annotations

from typing import Any

import scipy.special as sp

from _exactdiff import elementwise as _e
from hyperdual.rules.special import MULTI, SPECIAL, call

from ..core import UFUNCS

__all__: list[str] = []  # dispatch targets only


def _register(ufunc: Any) -> None:
    def impl(*args: Any) -> Any:
        return call(ufunc, "reverse", *args)
    UFUNCS[ufunc] = impl


for _uf in SPECIAL:
    _register(_uf)
for _uf, _impl in MULTI.items():  # several differentiated arguments or outputs
    UFUNCS[_uf] = _impl
UFUNCS[sp.gammasgn] = _e.gammasgn  # piecewise constant: a plain array of the values' signs
