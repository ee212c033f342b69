"""Reverse-mode rules for ``np.linalg.eig`` and ``np.linalg.eigvals`` of real
matrices with real eigenvalues.

The rules are the :class:`hyperdual.custom_jvp` objects of
:mod:`hyperdual.rules.eig` (one definition for both engines, see there for the
formulas and conventions): on Variables each is a ``Function`` whose backward
is the rule's VJP, written with ``solve`` and ``matmul``, so every order of
``create_graph`` and forward-over-reverse work.  A complex spectrum raises
``TypeError`` naming ``eigh``/``eigvalsh``.

Examples
--------
>>> import numpy as np
>>> from reverse import gradient
>>> gradient(lambda a: np.sum(np.linalg.eigvals(a)), np.array([[2.0, 1.0], [0.0, 3.0]]))
array([[1., 0.],
       [0., 1.]])
"""

from __future__ import annotations

import numpy as np

from hyperdual.rules.eig import eig, eigvalues

from ..core import FUNCTIONS

__all__: list[str] = []  # dispatch targets only

FUNCTIONS[np.linalg.eig] = eig
FUNCTIONS[np.linalg.eigvals] = eigvalues
