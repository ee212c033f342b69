"""Newton's method with exact second derivatives, next to gradient descent.

We minimise y = x^4 - 2x^2 from x = 2.  Its minima are at x = +1 and x = -1.

* Gradient descent only uses the slope: x <- x - lr * f'(x).  Near the
  minimum the error shrinks by a constant factor |1 - lr * f''(1)| = 0.92 per
  step (lr = 0.01): linear convergence, hundreds of steps.
* Newton's method also uses the curvature: x <- x - f'(x) / f''(x).  The
  number of correct digits roughly doubles at every step (quadratic
  convergence): a handful of steps.

Newton needs f''(x).  We get it *exactly*, with no step size, in two ways:

1. reverse mode, double backprop: ``y.backward(create_graph=True)`` leaves
   ``x.grad`` as a Variable that is itself a graph of f'(x); calling
   ``backward()`` on it gives f''(x);
2. forward mode, hyper-dual numbers: ``hyperdual.second_derivative``
   evaluates f on x + ε1 + ε2 and reads f'' off the ε1ε2 part.

Both paths must produce the same iterates, bit for bit or nearly so.

Run:  python examples/newton.py [--quick]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import hyperdual
import reverse
from reverse import Variable

from _figures import parse_args, pyplot, save

NAME = "newton"
X0 = 2.0
LR = 0.01
D1, D2 = "f'(x)", "f''(x)"  # table headers


def f(x):
    """y = x^4 - 2x^2, plain numpy operators: works on floats, Duals and Variables."""
    return x**4 - 2 * x**2


def derivatives_by_double_backprop(x: float) -> tuple[float, float, float]:
    """f(x), f'(x), f''(x) from one graph and two backward passes."""
    xv = Variable(np.array(x))
    y = f(xv)
    y.backward(create_graph=True)  # x.grad is now a Variable with its own graph
    gx = xv.grad
    xv.clear_grad()
    gx.backward()  # differentiate the derivative
    return float(y.data), float(gx.data), float(xv.grad.data)


def derivatives_by_hyperdual(x: float) -> tuple[float, float, float]:
    """f(x), f'(x), f''(x) by forward mode (dual and hyper-dual numbers)."""
    return f(x), hyperdual.derivative(f, x), hyperdual.second_derivative(f, x)


def newton(derivs, x0: float, tol: float = 1e-12, max_iter: int = 50) -> list[tuple]:
    """Newton iterates as (x, f(x), f'(x), f''(x)) rows."""
    rows, x = [], x0
    for _ in range(max_iter + 1):
        fx, d1, d2 = derivs(x)
        rows.append((x, fx, d1, d2))
        if abs(d1) <= tol:
            break
        x = x - d1 / d2
    return rows


def gradient_descent(x0: float, lr: float, tol: float = 1e-8, max_iter: int = 1000) -> list:
    """Gradient-descent iterates as (x, f(x), f'(x)) rows; f' by forward mode."""
    rows, x = [], x0
    for _ in range(max_iter + 1):
        d1 = hyperdual.derivative(f, x)
        rows.append((x, f(x), d1))
        if abs(d1) <= tol:
            break
        x = x - lr * d1
    return rows


def _plot(newton_rows, gd_rows) -> Path | None:
    plt = pyplot()
    if plt is None:
        return None
    xn = np.array([r[0] for r in newton_rows])
    xg = np.array([r[0] for r in gd_rows])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    grid = np.linspace(-1.6, 2.1, 400)
    ax1.plot(grid, f(grid), color="0.3", lw=1.5, label="$y = x^4 - 2x^2$")
    ax1.plot(xg, f(xg), "o", ms=3, color="tab:orange", alpha=0.5,
             label=f"gradient descent (lr={LR}), {len(xg) - 1} steps")
    ax1.plot(xn, f(xn), "s-", ms=6, color="tab:blue", label=f"Newton, {len(xn) - 1} steps")
    for i, x in enumerate(xn[:3]):
        ax1.annotate(f"$x_{i}$", (x, f(x)), textcoords="offset points", xytext=(6, 6))
    ax1.set_ylim(-1.5, 9)
    ax1.set_xlabel("x")
    ax1.set_ylabel("y")
    ax1.set_title("Paths from x = 2 to the minimum x = 1")
    ax1.legend(fontsize=8, loc="upper left")
    tiny = 1e-17  # |x - 1| == 0 cannot be drawn on a log axis
    ax2.semilogy(np.maximum(np.abs(xg - 1), tiny), ".", ms=3, color="tab:orange",
                 label="gradient descent: linear")
    ax2.semilogy(np.maximum(np.abs(xn - 1), tiny), "s-", color="tab:blue",
                 label="Newton: quadratic")
    ax2.set_xscale("symlog", linthresh=10)
    ax2.set_xlabel("iteration")
    ax2.set_ylabel("|x - 1|")
    ax2.set_title("Convergence")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, NAME)


def main(quick: bool = False) -> dict:
    print("Minimise y = x^4 - 2x^2 from x = 2 (minimum at x = 1)\n")
    rev = newton(derivatives_by_double_backprop, X0)
    fwd = newton(derivatives_by_hyperdual, X0)
    print("Newton's method, f'' exact by double backprop (reverse) | by HyperDual (forward)")
    print(f"{'k':>2} {'x':>20} {'f(x)':>11} {D1:>11} {D2:>8} | {'x (HyperDual)':>20}")
    for k, (r, h) in enumerate(zip(rev, fwd)):
        print(f"{k:>2} {r[0]:>20.16f} {r[1]:>11.3e} {r[2]:>11.3e} {r[3]:>8.3f} | {h[0]:>20.16f}")

    gd = gradient_descent(X0, LR, max_iter=400 if quick else 1000)
    print(f"\nGradient descent, lr = {LR}")
    print(f"{'k':>4} {'x':>20} {'f(x)':>11} {D1:>11}")
    shown = sorted({*range(min(6, len(gd))), *range(50, len(gd), 50), len(gd) - 1})
    for k in shown:
        x, fx, d1 = gd[k]
        print(f"{k:>4} {x:>20.16f} {fx:>11.3e} {d1:>11.3e}")

    helper = reverse.newton(f, X0)
    x_rev, x_fwd, x_gd = rev[-1][0], fwd[-1][0], gd[-1][0]
    print(f"\nNewton: x = {x_rev!r} after {len(rev) - 1} steps (both engines: "
          f"max |x_reverse - x_hyperdual| = {max(abs(a[0] - b[0]) for a, b in zip(rev, fwd)):.1e})")
    print(f"reverse.newton helper: x = {float(helper[-1])!r} after {len(helper) - 1} steps")
    print(f"Gradient descent: x = {x_gd!r} after {len(gd) - 1} steps")
    path = _plot(rev, gd)
    return {
        "x_newton_reverse": x_rev,
        "x_newton_hyperdual": x_fwd,
        "x_newton_helper": float(helper[-1]),
        "newton_steps": len(rev) - 1,
        "newton_path": np.array([r[0] for r in rev]),
        "f2_at_x0": rev[0][3],
        "f2_at_x0_hyperdual": fwd[0][3],
        "x_gradient_descent": x_gd,
        "gd_steps": len(gd) - 1,
        "figure": path,
    }


if __name__ == "__main__":
    main(quick=parse_args(__doc__.splitlines()[0]).quick)
