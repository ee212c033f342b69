"""Figure plumbing shared by the examples (a helper module, not an example).

Each example draws its own figure; this module finds matplotlib, decides where
the PNG goes (``examples/figures/``, or ``$EXACTDIFF_FIGURE_DIR`` so tests never
overwrite the committed images) and writes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


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


def figure_path(name: str) -> Path:
    """Where the example ``name`` writes its PNG."""
    here = Path(__file__).resolve().parent / "figures"
    return Path(os.environ.get("EXACTDIFF_FIGURE_DIR", here)) / f"{name}.png"


def save(fig: Any, name: str, dpi: int = 80) -> Path:
    """Write ``fig`` to :func:`figure_path` and close it."""
    import matplotlib.pyplot as plt

    path = figure_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    print(f"figure written to {path}")
    return path
