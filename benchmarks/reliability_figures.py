"""Reliability figures (issue 7): memory per node, memory after drop, wide-graph
per-node backward cost, thread timings.

    python benchmarks/reliability_figures.py [--deep 1e6] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hyperdual as hd  # noqa: E402
import reverse as rv  # noqa: E402
from reverse import Variable  # noqa: E402


def deep_chain_memory(n: int) -> tuple[float, float, int, float]:
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        t0 = time.perf_counter()
        x = Variable(np.array(0.5))
        y = x
        for _ in range(n):
            y = y * 1.0000001
        graph = tracemalloc.get_traced_memory()[0] - base
        y.backward()
        peak = tracemalloc.get_traced_memory()[1] - base
        del x, y
        residual = tracemalloc.get_traced_memory()[0] - base
        return graph / n, peak / n, residual, time.perf_counter() - t0
    finally:
        tracemalloc.stop()
        gc.enable()


def wide_backward(k: int) -> float:
    x = Variable(np.array(0.7))
    y = None
    for i in range(k):
        t = np.sin(x * (1.0 + i / k))
        y = t if y is None else y + t
    t0 = time.perf_counter()
    y.backward()
    return time.perf_counter() - t0


def wide_figures(ks, repeats):
    """Paired timing: every repeat measures each k once, in rotating order; median per node."""
    per = {k: [] for k in ks}
    for r in range(repeats):
        for k in ks[r % len(ks):] + ks[:r % len(ks)]:
            per[k].append(wide_backward(k) / (2 * k))  # two nodes (mul, sin) + one add per k
    return {k: statistics.median(v) for k, v in per.items()}


def thread_timings(rounds: int = 10):
    x = np.linspace(-0.9, 1.3, 50)
    v = np.cos(np.arange(50.0))

    def f(z):
        return np.sum(np.sin(z) * z ** 2 + np.exp(z / 3))

    tasks = [lambda: rv.gradient(f, x), lambda: rv.hvp(f, x, v),
             lambda: rv.hvp(f, x, v, mode="reverse-over-reverse"), lambda: hd.gradient(f, x),
             lambda: hd.hvp(f, x, v), lambda: rv.hessian(f, x), lambda: hd.hessian(f, x),
             lambda: rv.gradient(f, x)]
    t0 = time.perf_counter()
    for _ in range(rounds):
        for t in tasks:
            t()
    serial = time.perf_counter() - t0
    barrier = threading.Barrier(len(tasks))

    def worker(t):
        for _ in range(rounds):
            barrier.wait()
            t()

    threads = [threading.Thread(target=worker, args=(t,)) for t in tasks]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return serial, time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deep", type=float, default=1e6)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)
    n = int(a.deep)
    g, p, res, secs = deep_chain_memory(n)
    print(f"deep chain n={n}: graph {g:.0f} B/node, peak during backward {p:.0f} B/node "
          f"(tracemalloc, {secs:.1f} s with tracing)")
    print(f"memory after drop (no gc): {res} B above baseline = {100 * res / (p * n):.3f}% "
          "of the peak")
    ks = [10**2, 10**3, 10**4]
    w = wide_figures(ks, a.repeats)
    for k in ks:
        print(f"wide graph k={k}: backward {1e6 * w[k]:.2f} us/node (median of {a.repeats})")
    print(f"wide graph flatness: 10^4 / 10^2 per-node ratio {w[10**4] / w[10**2]:.2f}")
    s, t = thread_timings()
    print(f"threads: 8 tasks x 10 rounds serial {s:.3f} s, 8 threads with barrier {t:.3f} s")


if __name__ == "__main__":
    main()
