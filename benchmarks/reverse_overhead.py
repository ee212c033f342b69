"""Overhead of the reverse engine (issue 5's reverse-mode goals), as markdown.

Run ``python -m benchmarks.reverse_overhead`` (or ``python
benchmarks/reverse_overhead.py``); ``--quick`` for a short run.

Method: each figure is a ratio of two callables timed *paired and interleaved*
(A then B, then B then A, ...), so machine drift hits both sides alike; the
figure is the median of the per-pair ratios, with the interquartile range.
The garbage collector is off inside timed loops.

Figures
-------
* fwd+bwd per scalar op: a chain of 0-d ops (sin, multiply by a constant,
  add a constant, repeated) recorded and backpropagated, per op, against the
  same chain evaluated by numpy alone (value only, starting from a 0-d
  array; numpy continues on ``np.float64`` scalars).  Goal: <= 45x.
* wide graph: ``sum_k sin(x * c_k)`` for k = 100 ... 10,000 branches, fwd+bwd
  microseconds per node; the goal is a flat per-node cost.
* memory per node of a recorded chain (tracemalloc), goal <= 1 KB.
* ``reverse.gradient(f)`` / ``f`` on the vectorised Rosenbrock function at
  n = 10**3, 10**5 (goals 10 and 3) and 10**6; HVP / f for both modes, for
  information (issue 4).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import reverse  # noqa: E402
from reverse import Variable  # noqa: E402

Thunk = Callable[[], object]


# ----------------------------------------------------------------------------
# Paired, interleaved timing
# ----------------------------------------------------------------------------


def _loop(fn: Thunk, loops: int) -> float:
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        return (time.perf_counter() - t0) / loops
    finally:
        gc.enable()


def _loops_for(fn: Thunk, min_time: float) -> int:
    loops = 1
    while True:
        t = _loop(fn, loops) * loops
        if t >= min_time or loops >= 1 << 20:
            return loops
        loops = max(loops * 2, int(loops * min_time / max(t, 1e-9)) + 1)


def paired(a: Thunk, b: Thunk, repeats: int, min_time: float) -> tuple[float, float, float,
                                                                         float, float]:
    """Median, q1, q3 of per-pair ratios t_a / t_b, and the median seconds of each."""
    a()
    b()
    la, lb = _loops_for(a, min_time), _loops_for(b, min_time)
    ratios, ta_all, tb_all = [], [], []
    for i in range(repeats):
        gc.collect()
        if i % 2:
            tb, ta = _loop(b, lb), _loop(a, la)
        else:
            ta, tb = _loop(a, la), _loop(b, lb)
        ratios.append(ta / tb)
        ta_all.append(ta)
        tb_all.append(tb)
    q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
    return (statistics.median(ratios), q[0], q[2], statistics.median(ta_all),
            statistics.median(tb_all))


# ----------------------------------------------------------------------------
# Workloads
# ----------------------------------------------------------------------------


def chain_reverse(steps: int) -> Thunk:
    def run() -> None:
        x = Variable(np.array(0.3))
        y = x
        for _ in range(steps):
            y = np.sin(y)
            y = y * 0.5
            y = y + 1.0
        y.backward()
    return run


def chain_numpy(steps: int) -> Thunk:
    def run() -> None:
        y = np.array(0.3)
        for _ in range(steps):
            y = np.sin(y)
            y = y * 0.5
            y = y + 1.0
    return run


def wide_reverse(k: int) -> Thunk:
    consts = np.linspace(0.1, 1.0, k).tolist()

    def run() -> None:
        x = Variable(np.array(0.3))
        y = np.sin(x * consts[0])
        for c in consts[1:]:
            y = y + np.sin(x * c)
        y.backward()
    return run


def memory_per_node(nodes: int) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        x = Variable(np.array(0.3))
        base = tracemalloc.get_traced_memory()[0]
        y = x
        for _ in range(nodes):
            y = y * 1.0000001
        used = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    del y
    return used / nodes


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------


def _fmt(r: tuple[float, ...]) -> str:
    return f"{r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pairs, shorter batches")
    parser.add_argument("--no-big", action="store_true", help="skip n = 10**6")
    args = parser.parse_args(argv)
    reps, min_time = (5, 0.01) if args.quick else (11, 0.05)
    out = []
    out.append("# reverse-mode overhead\n")
    out.append(f"{time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, "
               f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} cores. "
               f"Medians of {reps} paired, interleaved ratios (interquartile range).\n")

    steps = 100
    r = paired(chain_reverse(steps), chain_numpy(steps), reps, min_time)
    per_op_us = r[3] / (3 * steps) * 1e6
    numpy_op_us = r[4] / (3 * steps) * 1e6
    out.append("## Scalar chain (sin, *c, +c), forward + backward per op\n")
    out.append("| figure | value | goal |")
    out.append("|---|---|---|")
    out.append(f"| reverse fwd+bwd per op / numpy value-only op | {_fmt(r)} | <= 45 |")
    out.append(f"| reverse fwd+bwd per op | {per_op_us:.2f} us | ~6 us |")
    out.append(f"| numpy 0-d op (value only) | {numpy_op_us:.3f} us | |")
    mem = memory_per_node(20000)
    out.append(f"| memory per recorded node | {mem:.0f} bytes | <= 1024 |\n")

    out.append("## Wide graph: sum of k branches sin(x * c_k), fwd+bwd per node\n")
    out.append("| k | us per node | ratio to k = 100 |")
    out.append("|---|---|---|")
    base = None
    for k in (100, 1000, 10000):
        r = paired(wide_reverse(k), chain_numpy(1), max(3, reps // 2), min_time)
        us = r[3] / (3 * k) * 1e6
        base = base or us
        out.append(f"| {k} | {us:.2f} | {us / base:.2f} |")
    out.append("")

    out.append("## Vectorised Rosenbrock: time / time of f (numpy)\n")
    try:
        import hyperdual  # noqa: F401
        modes = ("reverse-over-reverse", "forward-over-reverse")
    except Exception:
        modes = ("reverse-over-reverse",)
    out.append("| n | gradient / f (goal) | " + " | ".join(f"hvp {m} / f" for m in modes)
               + " | f time |")
    out.append("|---|---|" + "---|" * len(modes) + "---|")
    sizes = (1000, 100000) if args.no_big else (1000, 100000, 1000000)
    goals = {1000: "<= 10", 100000: "<= 3", 1000000: "-"}
    for n in sizes:
        x = np.random.default_rng(0).uniform(-1.0, 1.0, n)
        v = np.random.default_rng(1).normal(size=n)
        big_reps = reps if n < 10**6 else max(3, reps // 3)
        g = paired(lambda x=x: reverse.gradient(rosenbrock, x), lambda x=x: rosenbrock(x),
                   big_reps, min_time)
        cells = [f"{_fmt(g)} ({goals[n]})"]
        for m in modes:
            h = paired(lambda x=x, v=v, m=m: reverse.hvp(rosenbrock, x, v, mode=m),
                       lambda x=x: rosenbrock(x), big_reps, min_time)
            cells.append(_fmt(h))
        out.append(f"| {n:.0e} | " + " | ".join(cells) + f" | {g[4] * 1e3:.3f} ms |")
    out.append("")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
