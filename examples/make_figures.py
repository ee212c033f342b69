"""Regenerate the figures of every example in examples/figures/.

Each example script has a ``main()`` that prints its numbers and, when
matplotlib is installed, writes its PNG.  This script finds every
``examples/*.py`` with a ``main`` (so new examples are picked up), runs it in
full mode with the non-interactive Agg backend, and lists the figures with
their sizes.

Run:  python examples/make_figures.py [--quick] [--verbose] [--out DIR] [name ...]

``name`` restricts the run to some examples (``newton``, ``hvp.py`` ...).
This is the only script that writes the committed README figures in
``examples/figures/`` (run on its own, an example writes to ``--out DIR`` or a
temporary directory); ``--out DIR`` or ``$EXACTDIFF_FIGURE_DIR`` send the
figures elsewhere.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIGURES = Path(os.environ.get("EXACTDIFF_FIGURE_DIR", HERE / "figures"))
MAX_BYTES = 150_000


def example_scripts() -> list[Path]:
    """Every example script except this one and helper modules (``_figures.py``)."""
    return [p for p in sorted(HERE.glob("*.py"))
            if p.name != Path(__file__).name and not p.name.startswith("_")]


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"_example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(path: Path, quick: bool, verbose: bool) -> tuple[bool, float, str]:
    """Run one example's main(); returns (ok, seconds, captured output or traceback)."""
    out = io.StringIO()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(sys.stdout if verbose else out):
            module = load(path)
            main = getattr(module, "main", None)
            if main is None:
                return True, 0.0, "no main()"
            kwargs = {"quick": quick} if "quick" in inspect.signature(main).parameters else {}
            main(**kwargs)
    except Exception:
        return False, time.perf_counter() - start, out.getvalue() + traceback.format_exc()
    return True, time.perf_counter() - start, out.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    quick = "--quick" in args
    verbose = "--verbose" in args
    figures = FIGURES
    if "--out" in args:
        i = args.index("--out")
        figures = Path(args[i + 1]).resolve()
        del args[i:i + 2]
    wanted = {a.removesuffix(".py") for a in args if not a.startswith("--")}
    os.environ.setdefault("MPLBACKEND", "Agg")
    # every example writes its figure through _figures.figure_dir(), which reads this
    os.environ["EXACTDIFF_FIGURE_DIR"] = str(figures)
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        print("install matplotlib (pip install .[plot]) to get the plots")
        return 1
    failures = 0
    for path in example_scripts():
        if wanted and path.stem not in wanted:
            continue
        ok, seconds, output = run_example(path, quick, verbose)
        print(f"{'ok ' if ok else 'FAILED'} {path.name:<24} {seconds:6.1f} s")
        if not ok:
            failures += 1
            print(output)
    print(f"\nfigures in {figures}:")
    for png in sorted(figures.glob("*.png")):
        size = png.stat().st_size
        flag = "   (over 150 KB: lower the dpi)" if size > MAX_BYTES else ""
        print(f"  {png.name:<28} {size / 1024:6.0f} KB{flag}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
