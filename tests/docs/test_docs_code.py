"""The code on the documentation pages runs and its assertions hold.

Every ```python block of a tutorial or how-to page is executed, the blocks of
one page in order in one namespace, as a reader would paste them.  Pages
marked "planned" have no runnable code.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_pages_are_found():
    names = {p.relative_to(DOCS).as_posix() for p in PAGES}
    assert {"index.md", "tutorial/dual_numbers.md", "tutorial/hvp.md",
            "howto/from_the_book.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_page_code_runs(page, tmp_path, monkeypatch):
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip("no python code on this page")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's at singular points
        for i, code in enumerate(blocks):
            try:
                exec(compile(code, f"{page.name}[block {i}]", "exec"), namespace)
            except Exception as err:  # name the block in the failure
                raise AssertionError(f"{page.name}, code block {i}:\n{code}") from err


def test_planned_pages_say_so():
    for name in ("howto/sparse.md", "howto/dask.md"):
        text = (DOCS / name).read_text(encoding="utf-8")
        if "(planned)" in text.splitlines()[0]:
            assert "**Planned, not yet available" in text
            assert not BLOCK.findall(text)
