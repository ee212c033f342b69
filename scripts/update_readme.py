"""Regenerate the README's table of supported numpy functions from the rule tables.

Run ``python scripts/update_readme.py``; ``tests/test_readme.py`` fails when the
README's table differs from what this script would write.
"""

from __future__ import annotations

import pathlib
import re

START, END = "<!-- supported-functions:start -->", "<!-- supported-functions:end -->"
README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def _reverse_names() -> set[str]:
    from reverse import core

    names = set()
    for table in (core.UFUNCS, core.FUNCTIONS):
        for f in table:
            mod = "scipy.special" if "scipy" in repr(f) or f.__name__ in {
                "erf", "erfc", "expit", "gammaln", "psi", "xlogy"} else "numpy"
            if getattr(f, "__module__", None) == "numpy.linalg":
                mod = "numpy.linalg"
            names.add(f"{mod}.{f.__name__}")
    return names


def table() -> str:
    """The markdown table: every function either engine differentiates."""
    import hyperdual

    fwd = set(hyperdual.SUPPORTED_FUNCTIONS)
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
