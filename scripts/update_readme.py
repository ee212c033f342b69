"""Regenerate the README's table of supported numpy functions from the rule tables.

Run ``python scripts/update_readme.py``; ``tests/test_readme.py`` fails when the
README's table differs from what this script would write.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np

START, END = "<!-- supported-functions:start -->", "<!-- supported-functions:end -->"
README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


# one row per function: numpy/scipy aliases that are the same object get one name
#: the packages whose functions reverse registers beside numpy's (not numpy's API)
_OWN = ("hyperdual", "reverse", "_exactdiff")
_CANONICAL = {"scipy.special.psi": "scipy.special.digamma", "numpy.true_divide": "numpy.divide",
              # the ufuncs behind zeta(s, q) and zeta(s)
              "numpy._zeta": "scipy.special.zeta", "numpy._riemann_zeta": "scipy.special.zeta"}


def _reverse_names() -> set[str]:
    import scipy.special as sp

    from reverse import core

    names = set()
    for table in (core.UFUNCS, core.FUNCTIONS):
        for f in table:
            if (getattr(f, "__module__", None) or "").split(".")[0] in _OWN:
                continue  # hyperdual's own functions, registered for reverse values
            name = f.__name__
            scipy_fn = getattr(sp, name, None) is f and getattr(np, name, None) is not f
            mod = "scipy.special" if scipy_fn or "scipy" in repr(f) else "numpy"
            if getattr(f, "__module__", None) in ("numpy.linalg", "numpy.fft"):
                mod = f.__module__
            elif getattr(np.linalg, name, None) is f and getattr(np, name, None) is not f:
                mod = "numpy.linalg"
            names.add(_CANONICAL.get(f"{mod}.{name}", f"{mod}.{name}"))
    return names


def table() -> str:
    """The markdown table: every function either engine differentiates."""
    import hyperdual

    fwd = {_CANONICAL.get(n, n) for n in hyperdual.SUPPORTED_FUNCTIONS}
    rev = _reverse_names()
    rows = ["| function | hyperdual | reverse |", "|---|:-:|:-:|"]
    for name in sorted(fwd | rev):
        rows.append(f"| `{name}` | {'yes' if name in fwd else '-'} | "
                    f"{'yes' if name in rev else '-'} |")
    return "\n".join(rows)


def render(text: str) -> str:
    block = f"{START}\n{table()}\n{END}"
    return re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text,
                  flags=re.S)


if __name__ == "__main__":
    README.write_text(render(README.read_text()))
    print(f"updated {README}")
