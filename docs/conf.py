"""Sphinx configuration of the exactdiff documentation.

Why Sphinx: the docstrings are numpy style with doctests, as in numpy and
scipy, whose documentation is built the same way; ``autodoc`` reads them
directly (napoleon), ``myst-parser`` lets the tutorial be Markdown, and the
API pages are generated at build time from each package's ``__all__`` and its
public submodules, so modules other people add later appear without editing
anything here.  The build needs no network (no intersphinx) and runs with
warnings as errors (``tox -e docs``).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import hyperdual  # noqa: E402

project = "exactdiff"
author = "the exactdiff authors"
copyright = "2026, the exactdiff authors"  # noqa: A001
release = version = hyperdual.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "api/_generated_readme.txt"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_default_options = {"members": True, "show-inheritance": False}
# docstrings mention numpy and scipy names as plain text; without intersphinx
# (no network at build time) they are not links, and that is not an error
nitpicky = False
# a word of a parameter's type ("shape (N, C)") that names attributes of two
# classes is an ambiguous link, not an error in the text
suppress_warnings = ["ref.python"]

html_theme = "alabaster"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_title = f"exactdiff {release}"
html_theme_options = {
    "description": "Exact derivatives of plain numpy code",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "240px",
}
# no math extension: formulas are written in plain text and code, so pages
# render fully offline (MathJax would load from the network in the browser)

# ---------------------------------------------------------------- API pages
PACKAGES = ("hyperdual", "reverse")


def public_modules(package: str) -> list[str]:
    """The package and every submodule whose dotted name has no ``_`` part."""
    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return sorted(names, key=lambda n: (n.count("."), n))


def _write_api_pages(app) -> None:
    """docs/api/<module>.rst for every public module, and the API index."""
    out = HERE / "api"
    out.mkdir(exist_ok=True)
    toc = []
    wanted = set()
    for package in PACKAGES:
        for mod in public_modules(package):
            if mod.endswith("__main__"):
                continue
            wanted.add(f"{mod}.rst")
            toc.append(mod)
            title = f"``{mod}``"
            text = (f"{title}\n{'=' * len(title)}\n\n"
                    f".. automodule:: {mod}\n")
            path = out / f"{mod}.rst"
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
    for stale in out.glob("*.rst"):
        if stale.name not in wanted and stale.name != "index.rst":
            stale.unlink()
    index = ("API reference\n=============\n\n"
             "Generated from the docstrings: one page per public module of both packages "
             "(new modules appear automatically). Names exported by a package are "
             "documented on the package's page; a submodule's page lists the rest.\n\n"
             ".. toctree::\n   :maxdepth: 1\n\n" + "".join(f"   {m}\n" for m in toc))
    path = out / "index.rst"
    if not path.exists() or path.read_text() != index:
        path.write_text(index)


def _write_conventions(app) -> None:
    """docs/conventions.md from the README's Conventions section (one source)."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Conventions")
    end = readme.find("\n## ", start + 3)
    body = readme[start + len("## Conventions"):None if end < 0 else end]
    body = body.replace("<!-- supported-functions:start -->", "").replace(
        "<!-- supported-functions:end -->", "")

    def delink(m):  # README-relative links would not resolve from docs/
        text, target = m.group(1), m.group(2)
        return m.group(0) if target.startswith(("http://", "https://")) else f"{text} ({target})"

    body = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", delink, body)
    text = ("# Conventions\n\n"
            "How both engines behave at the edges: non-differentiable points, NaN and inf, "
            "dtypes, pickling, bad input, nesting, and the supported numpy functions. This "
            "page is the README's Conventions section (copied at build time); every statement "
            "is tested, mostly in `tests/reliability/`.\n" + body.rstrip() + "\n")
    path = HERE / "conventions.md"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _skip_member(app, what, name, obj, skip, options):
    # autodoc calls this for the members of the module being documented; the
    # module's name is in the current document's metadata
    import inspect

    modname = app.env.temp_data.get("autodoc:module") or app.env.ref_context.get("py:module")
    if not modname:
        return None
    if what == "class" and getattr(obj, "__module__", "") == "numpy":
        return True  # a rule's forward that is numpy's own function (np.sinc): numpy's docs

    top = modname.split(".")[0]
    if inspect.isclass(obj) and getattr(obj, "__module__", top).split(".")[0] != top:
        return True  # a class of the other package (reverse re-exports custom_jvp): its page
    if modname in PACKAGES:
        return None
    package = importlib.import_module(top)
    exported = getattr(package, "__all__", ())
    if name in exported and getattr(package, name, None) is obj:
        return True  # documented on the package's page
    return None


def setup(app):
    app.connect("builder-inited", _write_api_pages)
    app.connect("builder-inited", _write_conventions)
    app.connect("autodoc-skip-member", _skip_member)
    os.environ.setdefault("MPLBACKEND", "Agg")
