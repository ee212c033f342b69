"""Forward-mode rules by family, one module each (``linalg``, ``contractions``,
``statistics``, ``sorting``, ``shape`` ...).

Each module registers its numpy functions into the dispatch table of
:mod:`hyperdual._number` with ``implements`` when it is imported; this package
imports them all, and ``hyperdual/__init__`` imports this package once the
number types exist.  The elementwise rule table still lives in
:mod:`hyperdual._rules`.
"""

from . import linalg  # noqa: E402,F401
