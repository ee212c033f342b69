"""The version of exactdiff, read from its one source ``hyperdual/_version.py``.

The file is read as text rather than imported: ``reverse`` does not import
``hyperdual`` eagerly.  Installed, both packages sit side by side; if the file
is not there, the installed distribution's metadata answers.
"""

import re
from pathlib import Path


def _read() -> str:
    source = Path(__file__).resolve().parent.parent / "hyperdual" / "_version.py"
    try:
        m = re.search(r'^__version__ = "([^"]+)"', source.read_text(), re.M)
        if m:
            return m.group(1)
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("exactdiff")
    except PackageNotFoundError:  # pragma: no cover - a copied-out tree
        return "0+unknown"


__version__ = _read()
