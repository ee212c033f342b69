"""A 2-d PDE solved with exact sparse Jacobians, found automatically.

The Bratu problem  Δu + λ e^u = 0  on the unit square (u = 0 on the boundary),
discretised by the 5-point Laplacian on a k × k grid, is a system of n = k²
residuals.  Its Jacobian has at most 5 nonzeros per row.  We hand the residual,
written with plain numpy slicing, to ``scipy.optimize.least_squares`` with

- ``hyperdual.least_squares_jac(residual, sparse=True)``: the pattern is traced once,
  its columns coloured (a handful of colours for any k), and each Jacobian costs one
  forward pass with one direction per colour;
- scipy's own finite differences grouped by the same pattern (``jac_sparsity``);

and times one Jacobian against the dense exact one (``hyperdual.jacobian``: n
directions).  It plots the sparsity pattern coloured by column colour.

Run:  python examples/sparse_pde.py [--quick] [--out DIR]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hyperdual  # noqa: E402

from _figures import parse_args, pyplot, save  # noqa: E402

NAME = "sparse_pde"
LAMBDA = 5.0


def residual(u_flat, k):
    """5-point Bratu residual on the k x k interior grid (zero boundary values)."""
    h = 1.0 / (k + 1)
    u = np.reshape(u_flat, (k, k))
    up = np.pad(u, 1)  # zero boundary
    lap = (up[:-2, 1:-1] + up[2:, 1:-1] + up[1:-1, :-2] + up[1:-1, 2:] - 4 * u) / h ** 2
    return np.reshape(lap + LAMBDA * np.exp(u), (-1,))


def solve(jac, k, **kw):
    u0 = np.zeros(k * k)
    t0 = time.perf_counter()
    sol = least_squares(residual, u0, jac=jac, args=(k,), xtol=1e-12, ftol=1e-12,
                        gtol=1e-12, **kw)
    return sol, time.perf_counter() - t0


def main(quick: bool = False) -> dict:
    k = 10 if quick else 24
    n = k * k
    J = hyperdual.SparseJacobian(lambda u: residual(u, k), np.zeros(n))
    print(f"n = {n} unknowns; Jacobian nonzeros {J.sparsity.nnz} "
          f"({J.sparsity.nnz / n:.1f} per row); column colours: {J.ncolours}")
    sparse_sol, t_sparse = solve(hyperdual.least_squares_jac(residual, sparse=True), k,
                                 tr_solver="lsmr")
    fd_sol, t_fd = solve("2-point", k, jac_sparsity=J.sparsity, tr_solver="lsmr")
    res = {name: float(np.max(np.abs(residual(s.x, k))))
           for name, s in (("sparse", sparse_sol), ("fd", fd_sol))}
    print(f"{'least_squares with':<34}{'time (s)':>10}{'Jacobians':>11}{'max |residual|':>16}")
    for label, s, t, key in (("exact sparse Jacobians (colours)", sparse_sol, t_sparse, "sparse"),
                             ("finite differences (grouped)", fd_sol, t_fd, "fd")):
        print(f"{label:<34}{t:>10.3f}{s.njev:>11}{res[key]:>16.2e}")
    # one Jacobian at the solution: compressed (ncolours directions) against dense (n)
    u = sparse_sol.x
    t0 = time.perf_counter()
    Js = J(u)
    t_one_sparse = time.perf_counter() - t0
    t0 = time.perf_counter()
    Jd = hyperdual.jacobian(lambda v: residual(v, k), u)
    t_one_dense = time.perf_counter() - t0
    err = float(np.max(np.abs(Js.toarray() - Jd)))
    print(f"one Jacobian: sparse {t_one_sparse * 1e3:.1f} ms, dense {t_one_dense * 1e3:.1f} ms "
          f"(max difference {err:.1e})")
    figure = None
    plt = pyplot()
    if plt is not None:
        P = J.sparsity.tocoo()
        fig, ax = plt.subplots(figsize=(4.5, 4.5))
        ax.scatter(P.col, P.row, c=J.colours[P.col], s=2, cmap="tab10", marker="s")
        ax.set_xlim(-0.5, n - 0.5)
        ax.set_ylim(n - 0.5, -0.5)
        ax.set_title(f"Jacobian pattern, {J.ncolours} colours (n = {n})", fontsize=9)
        ax.set_xlabel("column (coloured by its colour)")
        ax.set_ylabel("row")
        fig.tight_layout()
        figure = save(fig, NAME)
    return {"n": n, "ncolours": J.ncolours, "nnz": J.sparsity.nnz, "residuals": res,
            "u_sparse": sparse_sol.x, "u_fd": fd_sol.x, "jacobian_difference": err,
            "figure": figure, "times": {"sparse": t_sparse, "fd": t_fd,
                                        "one_sparse": t_one_sparse, "one_dense": t_one_dense}}


if __name__ == "__main__":
    main(quick=parse_args(__doc__.splitlines()[0]).quick)
