"""``python -m benchmarks.dask_series``: derivatives in a series parameter on dask.

The parameter derivatives of ``gammainc``/``gammaincc`` (in a), ``hyp1f1`` (in a, b)
and ``zeta`` (in s) sum a series whose length depends on the values; on dask data
they run block by block (``hyperdual.rules.blockwise.by_blocks``).  For each function
and second-order helper this prints the time to build the lazy result, the time to
compute it, its number of tasks, and the largest relative difference from the same
helper on the numpy array (six elements in two chunks: the figures are about graph
size and depth, not throughput).  Nothing is asserted.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.special as sp

A = np.array([0.7, 1.3, 2.1, 2.9, 3.6, 5.2])
V = np.cos(np.arange(6.0))

FUNCTIONS = {
    "gammainc(a, 2) in a": lambda z: np.sum(sp.gammainc(z, 2.0)),
    "hyp1f1(a, 3, 0.7) in a": lambda z: np.sum(sp.hyp1f1(z, 3.0, 0.7)),
    "zeta(s + 1.5, 1.5) in s": lambda z: np.sum(sp.zeta(z + 1.5, 1.5)),
    "zeta(s - 3) (Riemann)": lambda z: np.sum(sp.zeta(z - 3.0)),
}


def main() -> None:
    import dask.array as da

    import hyperdual as hd
    import reverse as rv

    def like(x):
        return da.from_array(V, chunks=3) if isinstance(x, da.Array) else V

    helpers = {
        "hd.hvp": lambda f, x: hd.hvp(f, x, like(x)),
        "rv.hvp": lambda f, x: rv.hvp(f, x, like(x)),
        "hd.hessian": lambda f, x: hd.hessian(f, x),
    }
    print(f"{'function':26} {'helper':10} {'build s':>8} {'compute s':>9} {'tasks':>7} "
          f"{'max rel diff':>12}")
    with np.errstate(all="ignore"):
        for name, f in FUNCTIONS.items():
            for hname, run in helpers.items():
                t0 = time.perf_counter()
                out = run(f, da.from_array(A, chunks=3))
                t1 = time.perf_counter()
                tasks = len(out.__dask_graph__())
                got = out.compute()
                t2 = time.perf_counter()
                want = run(f, A)
                rel = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300))
                print(f"{name:26} {hname:10} {t1 - t0:8.2f} {t2 - t1:9.2f} {tasks:7d} "
                      f"{rel:12.1e}")


if __name__ == "__main__":
    main()
