"""Make the harness modules importable as top-level ``catalog`` and ``paths``.

``tests/harness`` is deliberately not a package; pytest runs from the repository
root, so this directory is put on ``sys.path`` before the test modules are
imported.  The repository root goes first as well, so ``hyperdual`` and
``reverse`` are the working tree's packages even when an (editable) install
is stale, e.g. one made before ``reverse/__init__.py`` existed, which maps
``reverse`` to an empty namespace package.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(os.path.dirname(_HERE))
for _p in (_HERE, _ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)
