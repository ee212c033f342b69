"""Figure 11: sparse Jacobians and Hessians (issue 15).

- extended Rosenbrock at n = 10**4: ``reverse.SparseHessian(rosen, x)(x_new)`` per
  evaluation against f (goal <= 60x; 3 colours), the one-shot
  ``reverse.sparse_hessian`` including detection and colouring (goal <= 300x), and the
  dense ``reverse.hessian`` where it fits (n = 10**3);
- ``hyperdual.sparse_jacobian`` of the 1-d Bratu residual at n = 10**4 against f
  (goal <= 20x);
- the dense ``jax.jit(jax.hessian(rosen))`` against ``SparseHessian`` per evaluation
  at n = 100, 1000, 3000 (goal: ahead from n = 1000 on).  jax is never a project
  dependency: it runs in the interpreter named by ``EXACTDIFF_JAX_PYTHON`` (e.g. a
  separate venv) or in this one if it imports jax, as a subprocess
  (``benchmarks/jax_hessian_peer.py``); without one the rows are skipped;
- n = 10**6: the sparse Hessian completes; seconds and the peak of numpy memory
  (tracemalloc) per element of x, reported.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

import hyperdual as hd
import reverse

from . import timing as _timing
from .report import Row, Section
from .timing import per_call

__all__ = ["fig_sparse", "rosen", "bratu", "jax_hessian_seconds"]


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def bratu(u, lam=1.0):
    n = u.shape[0]
    h = 1.0 / (n + 1)
    up = np.concatenate([u[1:], np.zeros(1)])
    um = np.concatenate([np.zeros(1), u[:-1]])
    return (um - 2 * u + up) / h ** 2 + lam * np.exp(u)


def _jax_python() -> str | None:
    env = os.environ.get("EXACTDIFF_JAX_PYTHON")
    if env:
        return env if Path(env).exists() else None
    return sys.executable if importlib.util.find_spec("jax") is not None else None


def jax_hessian_seconds(sizes: list[int]) -> dict | None:
    """{"jax": version, "seconds": {n: s}} from the jax peer script, or None."""
    python = _jax_python()
    if python is None:
        return None
    script = Path(__file__).with_name("jax_hessian_peer.py")
    try:
        out = subprocess.run([python, str(script), *map(str, sizes)], capture_output=True,
                             text=True, timeout=900, check=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None
    for key in ("seconds", "cpu_seconds"):
        res[key] = {int(k): v for k, v in res[key].items()}
    return res


def _big(n_big: int) -> tuple[float, float, float, int]:
    """Wall and CPU seconds of one sparse_hessian, and the peak of numpy memory per
    element of x in a second call (under tracemalloc, which slows Python code)."""
    xb = np.full(n_big, 0.5)
    t0, c0 = time.perf_counter(), time.process_time()
    Hb = reverse.sparse_hessian(rosen, xb)
    big, cpu = time.perf_counter() - t0, time.process_time() - c0
    del Hb
    tracemalloc.start()
    Hb = reverse.sparse_hessian(rosen, xb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return big, cpu, peak / n_big, Hb.nnz


def fig_sparse(ctx, n: int = 10_000, n_dense: int = 1000, n_big: int = 1_000_000,
               jax_sizes: tuple = (100, 1000, 3000)) -> Section:
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
    r_hd_dense = ctx.pair("hyperdual.hessian n=100 / f", lambda: hd.hessian(rosen, xs),
                          lambda: rosen(xs))
    xd = np.linspace(-1.0, 1.0, n_dense)
    Hd = reverse.SparseHessian(rosen, xd)
    r_dense = ctx.pair("dense reverse.hessian / SparseHessian, n=1000",
                       lambda: reverse.hessian(rosen, xd), lambda: Hd(xd))
    u = np.linspace(0.0, 0.5, n)
    J = hd.SparseJacobian(bratu, u)
    r_bratu = ctx.pair("hyperdual SparseJacobian(bratu) / f", lambda: J(u), lambda: bratu(u))
    Jr = reverse.SparseJacobian(bratu, u)
    r_bratu_rev = ctx.pair("reverse SparseJacobian(bratu) / f", lambda: Jr(u), lambda: bratu(u))
    rows = [
        Row(f"reverse SparseHessian(rosen)(x_new) / f, n = {n}", r_eval, 60.0, "≤ 60x"),
        Row(f"reverse.sparse_hessian(rosen) one-shot / f, n = {n}", r_once, 300.0, "≤ 300x"),
        Row(f"hyperdual SparseJacobian(bratu)(u) / f, n = {n}", r_bratu, 20.0, "≤ 20x"),
        Row(f"(info) reverse SparseJacobian(bratu)(u) / f, n = {n}", r_bratu_rev),
        Row(f"(info) dense reverse.hessian / SparseHessian, n = {n_dense}", r_dense),
        Row("(info) hyperdual SparseHessian(rosen) / f, n = 100", r_hd),
        Row("hyperdual.hessian(rosen) (dense ndarray, sparse route) / f, n = 100", r_hd_dense,
            150.0, "≤ 150x"),
    ]
    jx = jax_hessian_seconds(list(jax_sizes))
    if jx is None:
        ctx.log("  jax: no interpreter with jax (set EXACTDIFF_JAX_PYTHON): rows skipped")
    else:
        cpu = _timing.perf_counter is time.process_time  # --cpu-time: compare CPU seconds
        theirs = jx["cpu_seconds" if cpu else "seconds"]
        for m in jax_sizes:
            xm = np.linspace(-1.0, 1.0, m) + 0.1
            Hm = reverse.SparseHessian(rosen, xm)
            ours = per_call(lambda Hm=Hm, xm=xm: Hm(xm), ctx.timing)
            ratio = ours / theirs[m]
            ctx.log(f"  n = {m}: SparseHessian {ours * 1e6:.0f} µs, jax.jit(jax.hessian) "
                    f"{theirs[m] * 1e6:.0f} µs ({'CPU' if cpu else 'wall'}; wall "
                    f"{jx['seconds'][m] * 1e6:.0f} µs)")
            goal = m >= 1000
            rows.append(Row(f"reverse SparseHessian(x) / jax.jit(jax.hessian) (dense), n = {m}",
                            ratio, 1.0 if goal else None, "< 1 (ahead)" if goal else "—",
                            strict=True,
                            note=f"jax {jx['jax']} (separate interpreter, not paired): "
                                 f"{theirs[m] * 1e6:,.0f} µs; ours {ours * 1e6:,.0f} µs"
                                 + (" (CPU seconds; jax's over all its threads, wall "
                                    f"{jx['seconds'][m] * 1e6:,.0f} µs)" if cpu else "")))
    big, cpu_big, per_elem, nnz = _big(n_big)
    ctx.log(f"  n = {n_big}: {big:.1f} s (CPU {cpu_big:.1f} s), peak {per_elem:.0f} B per "
            f"element, nnz {nnz}")
    rows.append(Row(f"(info) reverse.sparse_hessian at n = {n_big}, wall seconds", big,
                    unit=" s", note=f"CPU {cpu_big:.1f} s; nnz = {nnz}; peak numpy memory "
                                    f"{per_elem:.0f} bytes per element of x (tracemalloc)"))
    text = (f"Extended Rosenbrock (tridiagonal Hessian, {H.ncolours} star colours) and the "
            "1-d Bratu residual (tridiagonal Jacobian, "
            f"{J.ncolours} column colours). `SparseHessian` detects the pattern and colours "
            "it once; each evaluation is one forward-over-reverse pass carrying one "
            "direction per colour (a C-ordered (3, n) stack; the allocator is told to keep "
            "blocks of that size, see `_exactdiff/heap.py`). The one-shot `sparse_hessian` "
            "includes detection (a run of f on the pattern tracer) and the colouring (full "
            "bands in numpy, other patterns by the greedy loop). The jax rows compare one "
            "evaluation of our sparse Hessian with one call of the compiled dense "
            "`jax.jit(jax.hessian(rosen))` (compile time excluded), timed in jax's own "
            "interpreter. hyperdual's sparse Hessian carries x.size directions on ε2 "
            "(forward mode has no cheap gradient), so it is O(n²): use reverse's. "
            "`hyperdual.hessian` from n = 40 on takes the same route when the pattern "
            "allows (detection, colouring, one compressed pass with one more random "
            "direction that checks the result, scattered into the dense ndarray); the "
            "dense stacks otherwise.")
    return Section("11. Sparse Jacobians and Hessians (issue 15)", rows, text)
