"""Reverse-mode rules by family, one module each (``linalg``, ``contractions``,
``statistics``, ``sorting``, ``shape`` ...).

Each module defines its ``Function`` classes and registers the numpy functions
it covers into :data:`reverse.core.FUNCTIONS` when it is imported; this package
imports them all, and ``reverse/__init__`` imports it after
:mod:`reverse.functions`.  The public names stay reachable as
``reverse.functions.<name>`` too.
"""

from . import (  # noqa: E402,F401  (register on import)
    contractions,
    eig,
    elementwise,
    linalg,  # noqa: E402,F401
    shape,
    sorting,
    special,
    statistics,
)
