"""The gradient field of f(x0, x1) = x0^2 + x1^2, from exact gradients.

The gradient grad f = (2 x0, 2 x1) points uphill, perpendicular to the
contour lines, and grows with the distance from the minimum at the origin.

We evaluate it on a whole grid at once.  The grid is one array P of shape
(2, ny, nx) (P[0] holds the x0 values, P[1] the x1 values) and f is written
with plain numpy so it works elementwise on the grid:

* reverse mode: the points do not interact, so the gradient of
  sum(f(P)) with respect to P is the gradient of f at every point:
  one forward and one backward pass for the whole grid (``reverse.gradient``);
* forward mode: one pass per input dimension.  Seeding the dual part with
  (1, 0) at every point gives d f / d x0 everywhere, seeding (0, 1) gives
  d f / d x1 (``hyperdual.Dual``).

Both are checked against 2x.  A second panel does the same for the double
well g(x0, x1) = x0^4 - 2 x0^2 + x1^2 (gradient (4x0^3 - 4x0, 2x1)).

Run:  python examples/gradient_field.py [--quick]
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

import hyperdual
import reverse
from hyperdual import Dual

from _figures import figure_path, parse_args, pyplot

NAME = "gradient_field"


def bowl(p):
    """f(x0, x1) = x0^2 + x1^2; p[0], p[1] may be numbers or whole grids."""
    return p[0] ** 2 + p[1] ** 2


def double_well(p):
    return p[0] ** 4 - 2 * p[0] ** 2 + p[1] ** 2


def field_reverse(f, grid: np.ndarray) -> np.ndarray:
    """grad f at every grid point by one backward pass of sum(f)."""
    return reverse.gradient(lambda p: np.sum(f(p)), grid)


def field_forward(f, grid: np.ndarray) -> np.ndarray:
    """grad f at every grid point by one Dual pass per input dimension."""
    out = np.empty_like(grid)
    for k in range(grid.shape[0]):
        seed = np.zeros_like(grid)
        seed[k] = 1.0  # direction e_k at every point
        out[k] = f(Dual(grid, seed)).dual
    return out


def make_grid(n: int, lo: float = -2.0, hi: float = 2.0) -> np.ndarray:
    axis = np.linspace(lo, hi, n)
    x0, x1 = np.meshgrid(axis, axis)
    return np.stack([x0, x1])


def _plot(panels) -> Path | None:
    plt = pyplot()
    if plt is None:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.6))
    for ax, (title, f, grid, field) in zip(np.atleast_1d(axes), panels):
        fine = make_grid(120, grid[0].min(), grid[0].max())
        cs = ax.contour(fine[0], fine[1], f(fine), levels=14, cmap="viridis", linewidths=1.0)
        # the longest arrow spans 1.5 grid spacings; lengths are proportional to |grad f|
        spacing = float(grid[0][0, 1] - grid[0][0, 0])
        longest = float(np.max(np.hypot(field[0], field[1])))
        ax.quiver(grid[0], grid[1], field[0], field[1], color="tab:red", angles="xy",
                  scale_units="xy", scale=longest / (1.5 * spacing), pivot="tail",
                  width=0.005)
        fig.colorbar(cs, ax=ax, shrink=0.85)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_0$")
        ax.set_ylabel("$x_1$")
        ax.set_title(title)
    fig.tight_layout()
    path = figure_path(NAME)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Antialiased contour lines in many colours compress badly; a 128-colour
    # palette (Pillow comes with matplotlib) keeps the PNG small.
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    buffer.seek(0)
    Image.open(buffer).convert("RGB").quantize(colors=128).save(path, optimize=True)
    print(f"figure written to {path}")
    return path


def main(quick: bool = False) -> dict:
    grid = make_grid(11 if quick else 17)
    g_rev = field_reverse(bowl, grid)
    g_fwd = field_forward(bowl, grid)
    err_rev = float(np.max(np.abs(g_rev - 2 * grid)))
    err_fwd = float(np.max(np.abs(g_fwd - 2 * grid)))
    pts = grid.shape[1] * grid.shape[2]
    print(f"f(x0, x1) = x0^2 + x1^2 on a {grid.shape[1]}x{grid.shape[2]} grid ({pts} points)")
    print(f"  reverse.gradient of sum(f(P)), 1 backward pass: max |grad - 2x| = {err_rev:.1e}")
    print(f"  hyperdual.Dual, 1 forward pass per dimension:    max |grad - 2x| = {err_fwd:.1e}")
    point = np.array([1.5, -0.5])
    at_point = hyperdual.gradient(bowl, point)
    print(f"  at x = {point}: hyperdual.gradient = {at_point}, reverse.gradient = "
          f"{reverse.gradient(bowl, point)}  (2x = {2 * point})")

    well = make_grid(grid.shape[1], -1.5, 1.5)
    w_rev = field_reverse(double_well, well)
    w_fwd = field_forward(double_well, well)
    w_exact = np.stack([4 * well[0] ** 3 - 4 * well[0], 2 * well[1]])
    err_well = float(max(np.max(np.abs(w_rev - w_exact)), np.max(np.abs(w_fwd - w_exact))))
    print(f"g(x0, x1) = x0^4 - 2x0^2 + x1^2: max |grad - (4x0^3 - 4x0, 2x1)| = {err_well:.1e}")
    path = _plot([("$x_0^2 + x_1^2$ and its gradient", bowl, grid, g_rev),
                  ("$x_0^4 - 2x_0^2 + x_1^2$ and its gradient", double_well, well, w_rev)])
    return {
        "grid": grid,
        "gradient_reverse": g_rev,
        "gradient_forward": g_fwd,
        "max_error_reverse": err_rev,
        "max_error_forward": err_fwd,
        "max_error_double_well": err_well,
        "figure": path,
    }


if __name__ == "__main__":
    main(quick=parse_args(__doc__.splitlines()[0]).quick)
