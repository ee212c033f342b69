"""``python -m benchmarks.scale``: both engines on dask arrays at large n (issue 17).

Two measurements of extended Rosenbrock, ``f(x) = sum(100 (x[1:] - x[:-1]**2)**2
+ (1 - x[:-1])**2)``:

1. **Threaded scheduler vs numpy** at ``--threaded-n`` (default 10^7, fits in
   memory): ``reverse.gradient`` and ``reverse.hvp`` (forward-over-reverse) on a
   chunked dask array computed with ``scheduler="threads"``, against the same
   calls on the numpy array; wall time per element, best of ``--repeats``.
2. **A LocalCluster beyond one array's worth of RAM** at ``--n`` (default 10^9,
   8 GB per float64 array): ``--workers`` worker processes with one thread and
   ``--memory-limit`` each.  ``x`` is generated on the workers chunk by chunk,
   the gradient and the HVP are reduced on the cluster (``sum`` and a strided
   sample), and the resident memory of every worker process is sampled every
   ``--sample`` seconds: the peak of their sum is the cluster's peak memory.
   The numpy reference is the largest ``--numpy-n`` run (in this process, its
   peak RSS measured the same way).

Nothing here asserts a time: the figures are printed (and appended to
``--out`` as markdown).  Use ``--n 1e8`` for a shorter run.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import shlex
import sys
import threading
import time

import numpy as np


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def _rss() -> int:
    import psutil

    return psutil.Process(os.getpid()).memory_info().rss


def _tree_rss() -> int:
    """RSS of this process and all its descendants: the client, the scheduler and
    the nannies (threads of this process) and the worker processes."""
    import psutil

    me = psutil.Process(os.getpid())
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.Error:  # a worker exiting or restarting
            pass
    return total


class PeakSampler:
    """Samples ``measure()`` (bytes) every ``period`` seconds in a thread; keeps the peak."""

    def __init__(self, measure, period: float) -> None:
        self.measure, self.period = measure, period
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.measure())
            except Exception:  # a worker busy or restarting: skip this sample
                pass
            self._stop.wait(self.period)

    def __enter__(self) -> PeakSampler:
        self.peak = self.measure()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.measure())


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _numpy_point(n: int) -> np.ndarray:
    return np.cos(np.arange(n, dtype=np.float64) * 1e-3) * 0.5 + 0.25


def _dask_point(da, n: int, chunk: int):
    # generated on the workers chunk by chunk (no 8 GB array in the client)
    i = da.arange(n, chunks=chunk, dtype=np.float64)
    return np.cos(i * 1e-3) * 0.5 + 0.25


def threaded(n: int, chunk: int, repeats: int, log) -> list[dict]:
    import dask
    import dask.array as da

    import reverse

    xn = _numpy_point(n)
    vn = np.ones(n)
    x = da.from_array(xn, chunks=chunk)
    v = da.from_array(vn, chunks=chunk)
    rows = []
    for name, np_call, dask_call in [
        ("reverse.gradient", lambda: reverse.gradient(rosen, xn),
         lambda: reverse.gradient(rosen, x)),
        ("reverse.hvp (forward-over-reverse)", lambda: reverse.hvp(rosen, xn, vn),
         lambda: reverse.hvp(rosen, x, v)),
    ]:
        ref = np_call()
        with dask.config.set(scheduler="threads"):
            got = dask_call().compute()
        err = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
        t_np = _best(np_call, repeats)
        with dask.config.set(scheduler="threads"):
            t_da = _best(lambda c=dask_call: c().compute(), repeats)
        log(f"threaded n={n:.0e} {name}: numpy {t_np:.3f} s, dask {t_da:.3f} s")
        rows.append(dict(name=name, n=n, numpy=t_np, dask=t_da, err=err))
    return rows


def numpy_run(n: int, log) -> list[dict]:
    import reverse

    rows = []
    for name, call in [("reverse.gradient", lambda x, v: reverse.gradient(rosen, x)),
                       ("reverse.hvp (forward-over-reverse)",
                        lambda x, v: reverse.hvp(rosen, x, v))]:
        gc.collect()
        base = _rss()
        with PeakSampler(_rss, 0.05) as s:
            t0 = time.perf_counter()
            x = _numpy_point(n)
            v = np.ones(n)
            r = call(x, v)
            t = time.perf_counter() - t0
            check = float(r[::max(1, n // 1000)].sum())
            del x, v, r
        log(f"numpy n={n:.0e} {name}: {t:.2f} s, peak {(s.peak - base) / 2**30:.2f} GiB")
        rows.append(dict(name=name, n=n, time=t, peak=s.peak - base, check=check))
    return rows


def cluster_run(n: int, chunk: int, workers: int, memory_limit: str, period: float,
                log) -> tuple[list[dict], dict]:
    import dask.array as da
    import distributed

    import reverse

    rows = []
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  memory_limit=memory_limit,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:

        def cluster_rss() -> int:
            return sum(client.run(_rss, nanny=False).values())

        info = dict(workers=workers, memory_limit=memory_limit, chunk=chunk)
        x = _dask_point(da, n, chunk)
        v = da.ones(n, chunks=chunk)
        for name, build in [("reverse.gradient", lambda: reverse.gradient(rosen, x)),
                            ("reverse.hvp (forward-over-reverse)",
                             lambda: reverse.hvp(rosen, x, v))]:
            client.run(gc.collect)
            gc.collect()
            base, tree_base = cluster_rss(), _tree_rss()
            # the n-element result is never gathered: it is reduced on the workers
            # chunk by chunk (its sum and a 1000-point strided sample)
            with PeakSampler(cluster_rss, period) as s, PeakSampler(_tree_rss, period) as st:
                t0 = time.perf_counter()
                r = build()
                tasks = len(r.__dask_graph__())
                total, sample = client.compute([r.sum(), r[:: max(1, n // 1000)]], sync=True)
                t = time.perf_counter() - t0
            log(f"cluster n={n:.0e} {name}: {t:.1f} s, {tasks} tasks, peak "
                f"{s.peak / 2**30:.2f} GiB (baseline {base / 2**30:.2f} GiB); whole process "
                f"tree {st.peak / 2**30:.2f} GiB (baseline {tree_base / 2**30:.2f} GiB)")
            rows.append(dict(name=name, n=n, time=t, peak=s.peak, base=base, tasks=tasks,
                             tree=st.peak, tree_base=tree_base,
                             total=float(total), sample=np.asarray(sample)))
    return rows, info


def _check_sample(row: dict, n: int) -> float:
    """Max relative error of the strided sample of the cluster result vs numpy (closed form)."""
    step = max(1, n // 1000)
    idx = np.arange(0, n, step)
    x = np.cos(idx * 1e-3) * 0.5 + 0.25
    xp = np.cos((idx + 1) * 1e-3) * 0.5 + 0.25  # x[i + 1]
    xm = np.cos((idx - 1) * 1e-3) * 0.5 + 0.25  # x[i - 1]
    first, last = idx == 0, idx == n - 1
    if row["name"] == "reverse.gradient":
        g = np.where(last, 0.0, -400 * x * (xp - x ** 2) - 2 * (1 - x))
        g = g + np.where(first, 0.0, 200 * (x - xm ** 2))
        ref = g
    else:  # H v with v = 1: row sums of the tridiagonal Hessian
        d = np.where(last, 0.0, 1200 * x ** 2 - 400 * xp + 2) + np.where(first, 0.0, 200.0)
        off = np.where(last, 0.0, -400 * x) + np.where(first, 0.0, -400 * xm)
        ref = d + off
    return float(np.max(np.abs(row["sample"] - ref)) / np.max(np.abs(ref)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=float, default=1e9, help="cluster run size (default 1e9)")
    ap.add_argument("--chunk", type=float, default=2.5e6, help="chunk length")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="2GiB", help="per worker")
    ap.add_argument("--numpy-n", type=float, default=1e8,
                    help="largest numpy run for the per-element reference (0: skip)")
    ap.add_argument("--threaded-n", type=float, default=1e7, help="0: skip")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sample", type=float, default=0.25, help="memory sampling period (s)")
    ap.add_argument("--skip-cluster", action="store_true")
    ap.add_argument("--out", default=None, help="append the markdown to this file")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        import dask
        import distributed
        import psutil  # noqa: F401  (a dependency of distributed)
    except ImportError as exc:
        print(f"benchmarks.scale needs dask[array] and distributed: {exc}", file=sys.stderr)
        return 2

    t_start = time.perf_counter()
    n, chunk = int(args.n), int(args.chunk)
    thr = threaded(int(args.threaded_n), int(args.chunk), args.repeats, log) \
        if args.threaded_n else []
    big = numpy_run(int(args.numpy_n), log) if args.numpy_n else []
    clu, info = ([], {}) if args.skip_cluster else cluster_run(
        n, chunk, args.workers, args.memory_limit, args.sample, log)

    command = "python -m benchmarks.scale " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    lines = [
        "## Figure 12 (dask arrays at scale, issue 17), run separately",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- command: `{command.strip()}`",
        f"- machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
        f"python {platform.python_version()}, numpy {np.__version__}, dask {dask.__version__}, "
        f"distributed {distributed.__version__}",
        f"- load average at the end (1, 5, 15 min): {load} (the machine is shared: "
        "times are upper bounds)",
        f"- wall time of the run: {(time.perf_counter() - t_start) / 60:.1f} min",
        "",
    ]
    if thr:
        lines += [
            f"### 12a. Threaded scheduler vs numpy, n = {thr[0]['n']:.0e} "
            f"(chunks of {chunk:.1e}; best of {args.repeats})",
            "",
            "| call | numpy ns/element | dask (threads) ns/element | dask / numpy | goal | "
            "max rel. error vs numpy |",
            "|---|---|---|---|---|---|",
        ]
        for r in thr:
            ratio = r["dask"] / r["numpy"]
            lines.append(
                f"| `{r['name']}` | {r['numpy'] / r['n'] * 1e9:.1f} | "
                f"{r['dask'] / r['n'] * 1e9:.1f} | {ratio:.2f}x | ≤ 2x "
                f"({'pass' if ratio <= 2 else 'fail'}) | {r['err']:.1e} |")
        lines.append("")
    if clu or big:
        head = (f"### 12b. LocalCluster ({info.get('workers')} worker processes, 1 thread and "
                f"{info.get('memory_limit')} each, chunks of {chunk:.1e}) vs the largest numpy "
                "run" if clu else "### 12b. Largest numpy run")
        lines += [head, "",
                  "| call | run | n | wall time | ns/element | peak memory | "
                  "peak of the whole process tree | tasks | "
                  "max rel. error (1000-point sample vs closed form) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in big:
            lines.append(f"| `{r['name']}` | numpy (this process) | {r['n']:.0e} | "
                         f"{r['time']:.1f} s | {r['time'] / r['n'] * 1e9:.1f} | "
                         f"{r['peak'] / 2**30:.2f} GiB (RSS growth) | — | — | — |")
        for r in clu:
            lines.append(f"| `{r['name']}` | dask cluster | {r['n']:.0e} | {r['time']:.1f} s | "
                         f"{r['time'] / r['n'] * 1e9:.1f} | {r['peak'] / 2**30:.2f} GiB "
                         f"(sum of workers' RSS; idle {r['base'] / 2**30:.2f}) | "
                         f"{r['tree'] / 2**30:.2f} GiB (client, scheduler, nannies and "
                         f"workers; idle {r['tree_base'] / 2**30:.2f}) | {r['tasks']} | "
                         f"{_check_sample(r, r['n']):.1e} |")
        lines.append("")
    doc = "\n".join(lines)
    print(doc)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as fh:
            fh.write("\n" + doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
