"""Forward-mode rules by family, one module each (``linalg``, ``contractions``,
``statistics``, ``sorting``, ``shape`` ...).

Each module registers its numpy functions into the dispatch table of
:mod:`hyperdual._number` with ``implements`` when it is imported; this package
imports them all, and ``hyperdual/__init__`` imports this package once the
number types exist.  The elementwise rule table still lives in
:mod:`hyperdual._rules`.
"""

from .. import _number
from . import (  # noqa: E402,F401  (register on import)
    contractions,
    elementwise,
    linalg,  # noqa: E402,F401
    shape,
    sorting,
    statistics,
)


def _refresh_supported() -> None:
    """Add the families' functions to ``hyperdual.SUPPORTED_FUNCTIONS`` (in place)."""
    names = set(_number.SUPPORTED_FUNCTIONS) | set(_number.supported_functions())
    for f in _number.HANDLED_FUNCTIONS:
        names.add(f"{getattr(f, '__module__', None) or 'numpy'}.{f.__name__}")
    names.add("numpy.conjugate")
    _number.SUPPORTED_FUNCTIONS[:] = sorted(names)


_refresh_supported()
