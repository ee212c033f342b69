"""The book's last chapters with ``reverse``: a small CNN (steps 57-58) and an LSTM with
truncated backprop through time (steps 59-60).

Run ``python examples/book_cnn_rnn.py`` (``--quick`` for a few-second smoke run).

1. A convolutional net (``Conv2d`` -> ``relu`` -> ``pooling`` -> ``Linear``) learns to
   tell noisy 8x8 images of horizontal, vertical and diagonal bars apart. Because the
   convolutions are built from recorded numpy operations, the net can be differentiated
   again: the script checks a Hessian-vector product of the loss in the input image
   (double backprop through conv and max pooling) against central differences of the
   exact gradient.
2. An LSTM predicts the next value of a noisy sine curve (``SinCurve``), trained with
   ``SeqDataLoader`` and ``loss.unchain_backward()`` every 30 steps, as in step 60.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import numpy as np

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import reverse  # noqa: E402
import reverse.functions as F  # noqa: E402
from reverse import (  # noqa: E402
    LSTM,
    Adam,
    Conv2d,
    DataLoader,
    Linear,
    Model,
    SeqDataLoader,
    SinCurve,
    no_grad,
)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # examples/_figures.py when imported from elsewhere
from _figures import parser  # noqa: E402


def bars(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy 8x8 images of one bar each: horizontal (0), vertical (1), diagonal (2)."""
    x = rng.normal(scale=0.3, size=(n, 1, 8, 8))
    t = rng.integers(0, 3, size=n)
    pos = rng.integers(1, 7, size=n)
    for k in range(n):
        if t[k] == 0:
            x[k, 0, pos[k], :] += 1.0
        elif t[k] == 1:
            x[k, 0, :, pos[k]] += 1.0
        else:
            x[k, 0] += np.eye(8, k=int(pos[k]) - 3)
    return x, t


class SmallCNN(Model):
    """conv 3x3 (8 filters) -> relu -> 2x2 max pooling -> linear (3 classes)."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.conv = Conv2d(8, 3, pad=1, seed=seed)
        self.fc = Linear(3, seed=seed + 1)

    def forward(self, x: Any) -> Any:
        h = F.pooling(F.relu(self.conv(x)), 2, 2)
        return self.fc(F.flatten(h))


class NextValue(Model):
    """LSTM (hidden units) -> linear: the next value of a series (the book's BetterRNN)."""

    def __init__(self, hidden: int, seed: int) -> None:
        super().__init__()
        self.rnn = LSTM(hidden, seed=seed)
        self.fc = Linear(1, seed=seed + 1)

    def reset_state(self) -> None:
        self.rnn.reset_state()

    def forward(self, x: Any) -> Any:
        return self.fc(self.rnn(x))


def train_cnn(epochs: int, seed: int, out: Any) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    x, t = bars(300, rng)
    model = SmallCNN(seed)
    opt = Adam(alpha=0.01).setup(model)
    losses = []
    for epoch in range(epochs):
        total = 0.0
        for xb, tb in DataLoader(x, t, batch_size=30, seed=seed + epoch):
            loss = F.softmax_cross_entropy(model(xb), tb)
            model.cleargrads()
            loss.backward()
            opt.update()
            total += float(loss.data) * len(tb)
        losses.append(total / len(t))
        print(f"  CNN epoch {epoch + 1}/{epochs}: loss {losses[-1]:.4f}", file=out)
    with no_grad():
        acc = float(np.mean(np.argmax(model(x).data, axis=1) == t))

    # double backprop through the conv net: H v of the loss in one input image
    image, label = x[:1], t[:1]

    def loss_of(img: Any) -> Any:
        return F.softmax_cross_entropy(model(img), label)

    def plain(value: Any) -> np.ndarray:
        # f reads the model's Parameters (live leaves), so the helpers return Variables
        # that stay differentiable in them (for gradient penalties); .data is the number
        return np.asarray(getattr(value, "data", value))

    v = rng.normal(size=image.shape)
    hv = plain(reverse.hvp(loss_of, image, v, mode="reverse-over-reverse"))
    h = 1e-5
    g_plus = plain(reverse.gradient(loss_of, image + h * v))
    g_minus = plain(reverse.gradient(loss_of, image - h * v))
    hv_fd = (g_plus - g_minus) / (2 * h)
    hv_err = float(np.max(np.abs(hv - hv_fd)) / np.max(np.abs(hv_fd)))
    print(f"  CNN training accuracy {acc:.3f}; Hessian-vector product in the input image "
          f"vs central differences of the exact gradient: relative difference "
          f"{hv_err:.1e}", file=out)
    return {"cnn_losses": losses, "cnn_accuracy": acc, "hvp_relative_difference": hv_err}


def train_lstm(epochs: int, seed: int, out: Any, bptt: int = 30) -> dict[str, Any]:
    train = SinCurve(seed=seed)
    loader = SeqDataLoader(train, batch_size=30)
    model = NextValue(20, seed)
    opt = Adam(alpha=0.01).setup(model)
    losses = []
    for epoch in range(epochs):
        model.reset_state()
        loss, count, total = 0, 0, 0.0
        for xb, tb in loader:
            loss = loss + F.mean_squared_error(model(xb), tb)
            count += 1
            if count % bptt == 0 or count == len(loader):
                model.cleargrads()
                loss.backward()
                loss.unchain_backward()  # truncated BPTT: the next window starts here
                opt.update()
                total += float(loss.data)
                loss = 0
        losses.append(total / count)
        print(f"  LSTM epoch {epoch + 1}/{epochs}: loss {losses[-1]:.5f}", file=out)
    return {"lstm_losses": losses}


def main(quick: bool = False, seed: int = 0, verbose: bool = True) -> dict[str, Any]:
    """Train both nets; return their loss histories, the CNN's accuracy and the
    Hessian-vector product check."""
    out = sys.stdout if verbose else open(os.devnull, "w")
    start = time.perf_counter()
    print("1. a small CNN on 8x8 bar images (steps 57-58)", file=out)
    result = train_cnn(3 if quick else 15, seed, out)
    print("2. an LSTM on the sine curve, truncated BPTT (steps 59-60)", file=out)
    result.update(train_lstm(2 if quick else 20, seed, out))
    result["seconds"] = time.perf_counter() - start
    print(f"done in {result['seconds']:.1f} s", file=out)
    return result


def _cli(argv: list[str] | None = None) -> int:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    main(quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli())
