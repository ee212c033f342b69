"""Time ``jax.jit(jax.hessian(rosen))`` (dense) for figure 11, in any interpreter.

Run as a script by the interpreter that has jax (jax is never a dependency of
this project; the figure finds it through ``EXACTDIFF_JAX_PYTHON`` or the
running interpreter and skips it when absent)::

    python benchmarks/jax_hessian_peer.py 100 1000 3000

prints one JSON object: jax's version and, per n, the median seconds of one
evaluation after compilation, wall and CPU (all threads of the process; the
compile time is reported separately).  It
imports nothing from the project, so a venv with only jax and numpy runs it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time


def main(sizes: list[int]) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)

    def rosen(x):
        return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    hess = jax.jit(jax.hessian(rosen))
    out: dict = {"jax": jax.__version__, "seconds": {}, "cpu_seconds": {}, "compile": {}}
    for n in sizes:
        x = jnp.asarray(np.linspace(-1.0, 1.0, n) + 0.1)
        t0 = time.perf_counter()
        hess(x).block_until_ready()
        out["compile"][n] = time.perf_counter() - t0
        loops = 1
        while True:  # loops of at least 20 ms, as the project's timer does
            t0 = time.perf_counter()
            for _ in range(loops):
                hess(x).block_until_ready()
            if time.perf_counter() - t0 > 0.02 or loops > 1000:
                break
            loops *= 2
        times, cpu = [], []
        for _ in range(9):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(loops):
                hess(x).block_until_ready()
            times.append((time.perf_counter() - t0) / loops)
            cpu.append((time.process_time() - c0) / loops)
        out["seconds"][n] = statistics.median(times)
        out["cpu_seconds"][n] = statistics.median(cpu)  # all of XLA's threads
    return out


if __name__ == "__main__":
    print(json.dumps(main([int(a) for a in sys.argv[1:]] or [100, 1000])))
