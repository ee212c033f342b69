"""Derivatives of tanh up to order 6 by repeated double backprop.

``y.backward(create_graph=True)`` records the backward pass itself as a graph,
so ``x.grad`` is a Variable that can be differentiated again -- and again.
One Variable holds a whole grid of x values; tanh acts elementwise, so each
backward pass gives the next derivative at every grid point at once:

    g = tanh(x)
    repeat 6 times:  x.clear_grad();  g.backward(create_graph=True);  g = x.grad

The check: with t = tanh(x), every derivative is a polynomial in t, because
d/dx P(t) = P'(t) (1 - t^2):

    tanh'   = 1 - t^2
    tanh''  = -2t (1 - t^2)
    tanh''' = -2 (1 - t^2)(1 - 3t^2)
    ...      P_{k+1}(t) = P_k'(t) (1 - t^2)

We compare all six orders with those polynomials and print the max error.
(The graph grows with every order -- the cost of derivative k grows too.)

Run:  python examples/higher_order.py [--quick]
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from numpy.polynomial import polynomial as P

from reverse import Variable

from _figures import parse_args, pyplot, save

NAME = "higher_order"
ORDERS = 6


def tanh_derivatives(xs: np.ndarray, orders: int = ORDERS) -> tuple[list, list]:
    """[tanh^(k)(xs) for k = 1..orders] by repeated create_graph backward, and the
    seconds each backward pass took."""
    x = Variable(xs)
    g = np.tanh(x)
    out, seconds = [], []
    for _ in range(orders):
        start = time.perf_counter()
        x.clear_grad()
        g.backward(create_graph=True)
        g = x.grad  # the derivative, still a graph in x
        seconds.append(time.perf_counter() - start)
        out.append(np.array(g.data))
    return out, seconds


def closed_forms(t: np.ndarray, orders: int = ORDERS) -> list[np.ndarray]:
    """tanh^(k) as polynomials in t = tanh(x): P_{k+1} = P_k' * (1 - t^2)."""
    one_minus_t2 = np.array([1.0, 0.0, -1.0])
    poly, out = np.array([0.0, 1.0]), []  # P_0(t) = t
    for _ in range(orders):
        poly = P.polymul(P.polyder(poly), one_minus_t2)
        out.append(P.polyval(t, poly))
    return out


def _plot(xs: np.ndarray, ders: list[np.ndarray]) -> Path | None:
    plt = pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.2), sharex=True)
    cmap = plt.get_cmap("viridis")
    for k, (ax, d) in enumerate(zip(axes.flat, ders), start=1):
        ax.plot(xs, np.tanh(xs), color="0.75", lw=1, label="tanh x")
        ax.plot(xs, d, color=cmap(0.85 * (k - 1) / max(len(ders) - 1, 1)), lw=1.6,
                label=f"order {k}")
        ax.axhline(0, color="0.85", lw=0.6)
        ax.set_title(f"$d^{{{k}}}/dx^{{{k}}}$ tanh x", fontsize=10)
        if k > 3:
            ax.set_xlabel("x")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("tanh and its derivatives, by repeated backward(create_graph=True)")
    fig.tight_layout()
    return save(fig, NAME)


def main(quick: bool = False) -> dict:
    xs = np.linspace(-4.0, 4.0, 201 if quick else 801)
    ders, seconds = tanh_derivatives(xs)
    exact = closed_forms(np.tanh(xs))
    print(f"tanh derivatives on {xs.size} points in [-4, 4], {ORDERS} orders in "
          f"{sum(seconds) * 1e3:.0f} ms")
    names = ["1 - t^2", "-2t(1 - t^2)", "-2(1 - t^2)(1 - 3t^2)"]
    errors = []
    print(f"{'order':>5}  {'closed form (t = tanh x)':<26} {'max |value|':>11} {'max error':>10}")
    for k, (d, e) in enumerate(zip(ders, exact), start=1):
        err = float(np.max(np.abs(d - e)))
        errors.append(err)
        name = names[k - 1] if k <= len(names) else f"P_{k}(t) (recursion)"
        print(f"{k:>5}  {name:<26} {float(np.max(np.abs(e))):>11.4g} {err:>10.1e}")
    path = _plot(xs, ders)
    return {"x": xs, "derivatives": ders, "max_errors": errors, "seconds": seconds,
            "figure": path}


if __name__ == "__main__":
    main(quick=parse_args(__doc__.splitlines()[0]).quick)
