"""Check the built documentation site (run by ``tox -e docs`` after sphinx-build).

1. The landing page, the tutorial, the how-tos and one API page per public
   module of both packages exist, and the API pages document the public names
   (``hyperdual.hvp``, ``reverse.hvp`` ...).
2. When Chromium is installed (Debian: ``apt-get install chromium``), it takes
   screenshots of the landing page and of the ``reverse`` API page in headless
   mode into ``docs/_build/screenshots/`` and checks they are not blank.
   Without Chromium this step is skipped with a message, not failed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))

PAGES = ["index.html", "tutorial/dual_numbers.html", "tutorial/computational_graph.html",
         "tutorial/backprop.html", "tutorial/newton.html", "tutorial/hvp.html",
         "tutorial/numerical_vs_exact.html", "howto/scipy_optimize.html",
         "howto/custom_rules.html", "howto/higher_order.html", "howto/from_the_book.html",
         "conventions.html", "api/index.html"]
# chromium flags for a machine without network (see the machine notes)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1280,900", "--virtual-time-budget=5000"]


def _png_spread(path: Path) -> int:
    """Number of distinct byte values in the decoded pixels (1-2 means blank)."""
    data = path.read_bytes()
    pos, chunks = 8, []
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    return len(set(zlib.decompress(b"".join(chunks))))


def check_pages(html: Path) -> list[str]:
    from conf import public_modules  # the same list the build used

    problems = [f"missing {p}" for p in PAGES if not (html / p).is_file()]
    for package in ("hyperdual", "reverse"):
        for mod in public_modules(package):
            if mod.endswith("__main__"):
                continue
            if not (html / "api" / f"{mod}.html").is_file():
                problems.append(f"missing API page for {mod}")
    for package in ("hyperdual", "reverse"):
        page = html / "api" / f"{package}.html"
        if page.is_file():
            text = page.read_text(encoding="utf-8")
            for name in ("gradient", "hessian", "hvp", "jacobian"):
                if f'id="{package}.{name}"' not in text:
                    problems.append(f"{package}.{name} not documented on {page.name}")
    return problems


def screenshots(html: Path) -> list[str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("check_docs: chromium not installed, screenshots skipped "
              "(apt-get install chromium)")
        return []
    out = html.parent / "screenshots"
    out.mkdir(exist_ok=True)
    problems = []
    for page, name in (("index.html", "landing.png"), ("api/reverse.html", "api_reverse.png"),
                       ("tutorial/newton.html", "tutorial_newton.png")):
        target = out / name
        target.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory() as profile:
            cmd = [browser, *FLAGS, f"--user-data-dir={profile}",
                   f"--screenshot={target}", (html / page).resolve().as_uri()]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if not target.is_file():
            problems.append(f"no screenshot of {page}: {proc.stderr[-500:]}")
        elif _png_spread(target) < 8:
            problems.append(f"screenshot of {page} looks blank ({target})")
        else:
            print(f"check_docs: screenshot of {page} -> {target}")
    return problems


def main(argv: list[str]) -> int:
    html = Path(argv[0] if argv else ROOT / "docs" / "_build" / "html")
    problems = check_pages(html) + screenshots(html)
    for p in problems:
        print("check_docs:", p)
    if not problems:
        print(f"check_docs: {html} complete")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
