"""Figure 11: sparse Jacobians and Hessians (issue 15).

- extended Rosenbrock at n = 10**4: ``reverse.SparseHessian(rosen, x)(x_new)`` per
  evaluation against f (goal <= 60x; 3 colours), the one-shot
  ``reverse.sparse_hessian`` including detection and colouring (goal <= 300x), and the
  dense ``reverse.hessian`` where it fits (n = 10**3);
- ``hyperdual.sparse_jacobian`` of the 1-d Bratu residual at n = 10**4 against f
  (goal <= 20x);
- n = 10**6: the sparse Hessian completes (seconds, reported).
"""

from __future__ import annotations

import time

import numpy as np

import hyperdual as hd
import reverse

from .report import Row, Section

__all__ = ["fig_sparse", "rosen", "bratu"]


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def bratu(u, lam=1.0):
    n = u.shape[0]
    h = 1.0 / (n + 1)
    up = np.concatenate([u[1:], np.zeros(1)])
    um = np.concatenate([np.zeros(1), u[:-1]])
    return (um - 2 * u + up) / h ** 2 + lam * np.exp(u)


def fig_sparse(ctx, n: int = 10_000, n_dense: int = 1000, n_big: int = 1_000_000) -> Section:
    ctx.log("11. sparse Jacobians and Hessians")
    x = np.linspace(-1.0, 1.0, n)
    x_new = x + 0.1
    H = reverse.SparseHessian(rosen, x)
    r_eval = ctx.pair("SparseHessian(x_new) / f", lambda: H(x_new), lambda: rosen(x_new))
    r_once = ctx.pair("sparse_hessian / f", lambda: reverse.sparse_hessian(rosen, x),
                      lambda: rosen(x))
    Hh = hd.SparseHessian(rosen, np.zeros(100))
    xs = np.linspace(-1.0, 1.0, 100)
    r_hd = ctx.pair("hyperdual SparseHessian n=100 / f", lambda: Hh(xs), lambda: rosen(xs))
    xd = np.linspace(-1.0, 1.0, n_dense)
    Hd = reverse.SparseHessian(rosen, xd)
    r_dense = ctx.pair("dense reverse.hessian / SparseHessian, n=1000",
                       lambda: reverse.hessian(rosen, xd), lambda: Hd(xd))
    u = np.linspace(0.0, 0.5, n)
    J = hd.SparseJacobian(bratu, u)
    r_bratu = ctx.pair("hyperdual SparseJacobian(bratu) / f", lambda: J(u), lambda: bratu(u))
    Jr = reverse.SparseJacobian(bratu, u)
    r_bratu_rev = ctx.pair("reverse SparseJacobian(bratu) / f", lambda: Jr(u), lambda: bratu(u))
    t0 = time.perf_counter()
    xb = np.full(n_big, 0.5)
    Hb = reverse.sparse_hessian(rosen, xb)
    big = time.perf_counter() - t0
    ctx.log(f"  n = {n_big}: {big:.1f} s, nnz {Hb.nnz}")
    text = (f"Extended Rosenbrock (tridiagonal Hessian, {H.ncolours} star colours) and the "
            "1-d Bratu residual (tridiagonal Jacobian, "
            f"{J.ncolours} column colours). `SparseHessian` detects the pattern and colours "
            "it once; each evaluation is one forward-over-reverse pass carrying one "
            "direction per colour. The one-shot `sparse_hessian` includes detection (a run "
            "of f on the pattern tracer) and the greedy star colouring (a Python loop over "
            "the variables). hyperdual's sparse Hessian carries x.size directions on ε2 "
            "(forward mode has no cheap gradient), so it is O(n²): use reverse's.")
    rows = [
        Row(f"reverse SparseHessian(rosen)(x_new) / f, n = {n}", r_eval, 60.0, "≤ 60x"),
        Row(f"reverse.sparse_hessian(rosen) one-shot / f, n = {n}", r_once, 300.0, "≤ 300x"),
        Row(f"hyperdual SparseJacobian(bratu)(u) / f, n = {n}", r_bratu, 20.0, "≤ 20x"),
        Row(f"(info) reverse SparseJacobian(bratu)(u) / f, n = {n}", r_bratu_rev),
        Row(f"(info) dense reverse.hessian / SparseHessian, n = {n_dense}", r_dense),
        Row("(info) hyperdual SparseHessian(rosen) / f, n = 100", r_hd),
        Row(f"(info) reverse.sparse_hessian at n = {n_big}, seconds", big, unit=" s",
            note=f"nnz = {Hb.nnz}"),
    ]
    return Section("11. Sparse Jacobians and Hessians (issue 15)", rows, text)
