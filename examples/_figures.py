"""Figure plumbing shared by the examples (a helper module, not an example).

Each example draws its own figure; this module finds matplotlib, decides where
the PNG goes and writes it, parses the options every example shares
(``--quick``, ``--out DIR``) and times code for the timing panels.

Where figures go: ``--out DIR`` if given, else ``$EXACTDIFF_FIGURE_DIR``, else
a directory in the system's temporary directory (``exactdiff-figures``).  Only
``examples/make_figures.py`` writes the committed README figures in
``examples/figures/``, so running an example never changes the repository.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

#: the committed README figures (written by make_figures.py only)
COMMITTED = Path(__file__).resolve().parent / "figures"


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, or None (with a hint) if not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("install matplotlib (pip install .[plot]) to get the plot")
        return None
    return plt


def figure_dir() -> Path:
    """The directory figures go to (see the module docstring)."""
    env = os.environ.get("EXACTDIFF_FIGURE_DIR")
    return Path(env) if env else Path(tempfile.gettempdir()) / "exactdiff-figures"


def figure_path(name: str) -> Path:
    """Where the example ``name`` writes its PNG."""
    return figure_dir() / f"{name}.png"


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the options every example takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="a fast, smaller run")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="directory for the figure (default: $EXACTDIFF_FIGURE_DIR or "
                        f"{Path(tempfile.gettempdir()) / 'exactdiff-figures'})")
    return p


def parse_args(description: str, argv: list[str] | None = None,
               p: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """Parse the shared options; ``--out`` becomes the figure directory."""
    args = (p or parser(description)).parse_args(argv)
    if args.out:
        os.environ["EXACTDIFF_FIGURE_DIR"] = str(Path(args.out).resolve())
    return args


def save(fig: Any, name: str, dpi: int = 80) -> Path:
    """Write ``fig`` to :func:`figure_path` and close it."""
    import matplotlib.pyplot as plt

    path = figure_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    print(f"figure written to {path}")
    return path


def mean_time(fn: Any, *args: Any, min_runs: int = 3, max_runs: int = 50,
              budget: float = 0.2) -> tuple[Any, float]:
    """(result, mean wall time over repeated runs) of ``fn(*args)``.

    Runs at least ``min_runs`` times and keeps repeating (up to ``max_runs``)
    while the total stays under ``budget`` seconds, so a timing panel shows an
    average rather than one noisy shot.
    """
    result = None
    times: list[float] = []
    while len(times) < min_runs or (len(times) < max_runs and sum(times) < budget):
        start = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - start)
    return result, sum(times) / len(times)
