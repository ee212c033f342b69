"""Train a small MLP on the spiral toy set with minibatches (DeZero's step 48).

Run ``python examples/train_spiral.py`` (``--quick`` for a few-second smoke run,
``--epochs N`` to choose the length).  Prints the loss of every epoch with a
text progress bar, then the training accuracy; with matplotlib installed it
also saves the decision boundary to ``examples/figures/spiral.png``
(``pip install .[plot]`` to get matplotlib).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import numpy as np

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import reverse.functions as F  # noqa: E402
from reverse import no_grad  # noqa: E402
from reverse.datasets import DataLoader, spiral  # noqa: E402
from reverse.layers import MLP  # noqa: E402
from reverse.optimizers import Adam  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # examples/_figures.py when imported from elsewhere
from _figures import figure_path, parser  # noqa: E402

#: the default PNG (--out DIR, $EXACTDIFF_FIGURE_DIR or a temporary directory)
DEFAULT_FIGURE = str(figure_path("spiral"))

EPOCHS = 300
QUICK_EPOCHS = 30


def _bar(done: int, total: int, width: int = 20) -> str:
    filled = int(round(width * done / max(total, 1)))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def accuracy(model: MLP, x: np.ndarray, t: np.ndarray) -> float:
    """Fraction of samples whose largest logit is the true class."""
    with no_grad():
        logits = model(x).data
    return float(np.mean(np.argmax(logits, axis=1) == t))


def save_decision_boundary(model: MLP, x: np.ndarray, t: np.ndarray, path: str) -> str | None:
    """Plot the predicted class over the plane with the samples; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    h = 0.01
    x0, x1 = np.meshgrid(np.arange(x[:, 0].min() - 0.1, x[:, 0].max() + 0.1, h),
                         np.arange(x[:, 1].min() - 0.1, x[:, 1].max() + 0.1, h))
    grid = np.c_[x0.ravel(), x1.ravel()]
    with no_grad():
        pred = np.argmax(model(grid).data, axis=1).reshape(x0.shape)
    fig, ax = plt.subplots(figsize=(4, 4), dpi=80)
    ax.contourf(x0, x1, pred, alpha=0.3)
    for c, marker in zip(range(int(t.max()) + 1), "ox^sv"):
        ax.scatter(x[t == c, 0], x[t == c, 1], s=12, marker=marker)
    ax.set_title("spiral: MLP decision boundary")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def main(epochs: int | None = None, quick: bool = False, batch_size: int = 30,
         hidden: int = 30, lr: float = 0.03, seed: int = 0, verbose: bool = True,
         figure: str | None = DEFAULT_FIGURE) -> dict[str, Any]:
    """Train and return ``{"loss": [per-epoch mean loss], "accuracy": ..., ...}``.

    ``epochs`` defaults to 300 (30 with ``quick``).  ``figure`` is where the
    decision-boundary PNG goes if matplotlib is importable (None: no figure).
    """
    if epochs is None:
        epochs = QUICK_EPOCHS if quick else EPOCHS
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    out = sys.stdout if verbose else None
    start = time.perf_counter()

    x, t = spiral(n_per_class=100, n_classes=3, seed=seed)
    loader = DataLoader(x, t, batch_size=batch_size, shuffle=True, seed=seed)
    model = MLP((hidden, 3), activation=F.tanh, seed=seed)
    optimizer = Adam(alpha=lr).setup(model)

    history: list[float] = []
    for epoch in range(1, epochs + 1):
        total, count = 0.0, 0
        for xb, tb in loader:
            loss = F.softmax_cross_entropy(model(xb), tb)
            model.cleargrads()
            loss.backward()
            optimizer.update()
            total += float(loss.data) * len(tb)
            count += len(tb)
        history.append(total / count)
        if out is not None:
            print(f"epoch {epoch:{len(str(epochs))}d}/{epochs} {_bar(epoch, epochs)} "
                  f"loss {history[-1]:.4f}", file=out)

    acc = accuracy(model, x, t)
    seconds = time.perf_counter() - start
    if out is not None:
        print(f"training accuracy: {acc:.3f} ({acc * len(t):.0f}/{len(t)}) "
              f"in {seconds:.1f} s", file=out)
    saved = None
    if figure is not None:
        saved = save_decision_boundary(model, x, t, figure)
        if out is not None:
            if saved:
                print(f"decision boundary saved to {saved}", file=out)
            else:
                print("matplotlib is not installed: `pip install .[plot]` to get the "
                      "decision-boundary figure", file=out)
    return {"loss": history, "accuracy": acc, "seconds": seconds, "epochs": epochs,
            "figure": saved, "model": model}


def _cli(argv: list[str] | None = None) -> int:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=None,
                        help=f"number of epochs (default {EPOCHS}, {QUICK_EPOCHS} with --quick)")
    p.add_argument("--no-figure", action="store_true", help="do not save the PNG")
    args = p.parse_args(argv)
    out = os.path.join(args.out, "spiral.png") if args.out else str(figure_path("spiral"))
    main(epochs=args.epochs, quick=args.quick, figure=None if args.no_figure else out)
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())
