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
import subprocess
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


def rosenbrock_table(out: list[str], args: argparse.Namespace, reps: int,
                     min_time: float) -> None:
    try:
        import hyperdual  # noqa: F401
        modes: tuple[str, ...] = ("reverse-over-reverse", "forward-over-reverse")
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


def _fmt(r: tuple[float, ...]) -> str:
    return f"{r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer pairs, shorter batches")
    parser.add_argument("--no-big", action="store_true", help="skip n = 10**6")
    parser.add_argument("--rosenbrock-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    reps, min_time = (5, 0.01) if args.quick else (11, 0.05)
    out: list[str] = []
    if args.rosenbrock_only:
        rosenbrock_table(out, args, reps, min_time)
        print("\n".join(out))
        return 0
    out.append("# reverse-mode overhead\n")
    out.append(f"{time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, "
               f"numpy {np.__version__}, {platform.machine()}, {os.cpu_count()} cores. "
               f"Medians of {reps} paired, interleaved ratios (interquartile range).\n")

    out.append("## Scalar chain (sin, *c, +c), forward + backward per op\n")
    out.append("| figure | 300-node chain | 3,000-node chain | goal |")
    out.append("|---|---|---|---|")
    rows = {}
    for steps in (100, 1000):
        r = paired(chain_reverse(steps), chain_numpy(steps), reps, min_time)
        rows[steps] = (r, r[3] / (3 * steps) * 1e6, r[4] / (3 * steps) * 1e6)
    out.append(f"| reverse fwd+bwd per op / numpy value-only op | {_fmt(rows[100][0])} | "
               f"{_fmt(rows[1000][0])} | <= 45 |")
    out.append(f"| reverse fwd+bwd per op | {rows[100][1]:.2f} us | {rows[1000][1]:.2f} us "
               "| ~6 us |")
    out.append(f"| numpy 0-d op (value only) | {rows[100][2]:.3f} us | {rows[1000][2]:.3f} us | |")
    mem = memory_per_node(20000)
    out.append(f"| memory per recorded node | {mem:.0f} bytes | | <= 1024 |\n")

    out.append("## Wide graph: sum of k branches sin(x * c_k), fwd+bwd per node\n")
    out.append("A chain with the same number of nodes is the control: both grow when the "
               "graph leaves the CPU caches; width itself adds only the heap's log k.\n")
    out.append("| k | nodes | wide: us per node | chain of as many nodes: us per node | "
               "wide / chain |")
    out.append("|---|---|---|---|---|")
    for k in (100, 1000, 10000):
        r = paired(wide_reverse(k), chain_reverse(k), max(3, reps // 2), min_time)
        wide_us, chain_us = r[3] / (3 * k) * 1e6, r[4] / (3 * k) * 1e6
        out.append(f"| {k} | {3 * k} | {wide_us:.2f} | {chain_us:.2f} | {_fmt(r)} |")
    out.append("")

    out.append("## Vectorised Rosenbrock: time / time of f (numpy)\n")
    out.append("With glibc's default malloc, freeing a large graph returns its memory to "
               "the OS and the next call page-faults it back in; plain `f` reuses a few "
               "temporaries and does not.  The second table reruns this section in a "
               "subprocess with `MALLOC_TRIM_THRESHOLD_`/`MALLOC_MMAP_THRESHOLD_`/"
               "`MALLOC_TOP_PAD_` set, which removes that effect (environment only, no "
               "code change).\n")
    rosenbrock_table(out, args, reps, min_time)
    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="2000000000",
               MALLOC_MMAP_THRESHOLD_="33554432", MALLOC_TOP_PAD_="100000000")
    cmd = [sys.executable, os.path.abspath(__file__), "--rosenbrock-only"]
    cmd += ["--quick"] if args.quick else []
    cmd += ["--no-big"] if args.no_big else []
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    out.append("\nSame, with the malloc environment variables set:\n")
    out.append(done.stdout.strip() if done.returncode == 0 else f"(failed: {done.stderr})")
    out.append("")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
