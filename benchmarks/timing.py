"""The one timing core of the suite: paired, interleaved ratios.

Two callables A and B are timed repeat by repeat, alternating (A B, then
B A, ...), so that drift of the machine (frequency, other load) hits both
sides alike.  Each side of a repeat runs enough inner loops to take at least
``min_time`` seconds (calibrated once, before the repeats), with the garbage
collector disabled during the timed loop and a collection between repeats.
The figure is the median of the per-pair ratios ``t_A / t_B`` (per call), with
the interquartile range of those ratios.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Ratio", "Timing", "freeze_heap", "loops_for", "paired", "per_call", "set_clock",
           "settle_allocator", "timed_loop"]

perf_counter = time.perf_counter


def set_clock(clock: Callable[[], float]) -> None:
    """Time batches with ``clock`` (``time.process_time`` for ``--cpu-time``: on a
    machine shared with other work, the CPU seconds of this process are what the
    code costs; wall time also counts the waits for a core)."""
    global perf_counter
    perf_counter = clock


@dataclass(frozen=True)
class Timing:
    """How hard to measure: pairs, batch length and a wall-clock budget."""

    repeats: int = 15          # pairs of (A, B) batches
    min_time: float = 2e-3     # seconds per batch, at least
    budget: float = 20.0       # seconds for one paired measurement (>= min_pairs kept)
    min_pairs: int = 3
    warmup: int = 1


@dataclass(frozen=True)
class Ratio:
    """Median and quartiles of per-pair ratios A/B, and the median seconds per call."""

    median: float
    q1: float
    q3: float
    pairs: int
    a_seconds: float
    b_seconds: float

    def scaled(self, factor: float) -> Ratio:
        """The same ratio with both sides' counts of work changed (e.g. per node)."""
        return Ratio(self.median * factor, self.q1 * factor, self.q3 * factor, self.pairs,
                     self.a_seconds, self.b_seconds)


def freeze_heap() -> None:
    """Collect once, then move every live object to the permanent generation.

    Call after the imports: the collections between batches then walk only the
    objects the benchmarks made (tens of µs instead of ~50 ms for the heap of
    numpy + scipy + peers).
    """
    gc.collect()
    gc.freeze()


def settle_allocator() -> None:
    """Put glibc's malloc in the state a long-running process reaches: allocate
    and free one 16 MB array.

    glibc serves large blocks by mmap and raises that threshold (and the trim
    threshold, to twice it) the first time such a block is freed.  Before a block
    of a size has been freed, each call's temporaries of 800 KB (arrays of
    n = 1e5) go back to the kernel and are page-faulted in again on the next call:
    f at n = 1e5 then took 875 us with 359 faults per call instead of 208 us, so
    the ratios of the n = 1e5 rows depended on whether an n = 1e6 figure had
    run before them.  After this the thresholds sit above every array of the
    figures, whatever runs first.
    """
    block = np.ones(2 * 1024 * 1024)
    block[0] = 0.0
    del block


def timed_loop(fn: Callable[[], object], loops: int) -> float:
    """Seconds for ``loops`` calls of ``fn`` with the garbage collector off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = perf_counter()
        for _ in range(loops):
            fn()
        t1 = perf_counter()
    finally:
        if enabled:
            gc.enable()
    return t1 - t0


def loops_for(fn: Callable[[], object], min_time: float, max_loops: int = 1 << 22) -> int:
    """Smallest power-of-two-ish loop count whose batch takes at least ``min_time``."""
    loops = 1
    while True:
        t = timed_loop(fn, loops)
        if t >= min_time or loops >= max_loops:
            return loops
        if t <= 0:
            loops *= 10
        else:
            # jump close to the target, at least doubling; 10 % headroom
            loops = max(2 * loops, math.ceil(loops * 1.1 * min_time / t))
        loops = min(loops, max_loops)


def _warm_loops(fn: Callable[[], object], t: Timing) -> int:
    """Warm ``fn`` up and calibrate its loop count; a slow call is its own warm-up."""
    first = 0.0
    for _ in range(t.warmup):
        first = timed_loop(fn, 1)
    gc.collect()
    if t.warmup and first >= 5 * t.min_time:
        return 1  # one call is long enough, and calibrating would cost another call
    return loops_for(fn, t.min_time)


def _quartiles(xs: list[float]) -> tuple[float, float, float]:
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def paired(a: Callable[[], object], b: Callable[[], object], timing: Timing | None = None
           ) -> Ratio:
    """Time ``a`` against ``b``: median (and IQR) of per-pair ratios of time per call."""
    t = timing or Timing()
    na = _warm_loops(a, t)
    nb = _warm_loops(b, t)
    ratios: list[float] = []
    sa: list[float] = []
    sb: list[float] = []
    start = perf_counter()
    for i in range(max(1, t.repeats)):
        gc.collect()
        if i % 2 == 0:
            ta = timed_loop(a, na) / na
            gc.collect()
            tb = timed_loop(b, nb) / nb
        else:
            tb = timed_loop(b, nb) / nb
            gc.collect()
            ta = timed_loop(a, na) / na
        sa.append(ta)
        sb.append(tb)
        ratios.append(ta / tb)
        if len(ratios) >= t.min_pairs and perf_counter() - start > t.budget:
            break
    q1, med, q3 = _quartiles(ratios)
    return Ratio(med, q1, q3, len(ratios), statistics.median(sa), statistics.median(sb))


def per_call(fn: Callable[[], object], timing: Timing | None = None) -> float:
    """Median seconds per call of ``fn`` alone (for absolute figures, not goals)."""
    t = timing or Timing()
    for _ in range(t.warmup):
        fn()
    n = loops_for(fn, t.min_time)
    xs = []
    start = perf_counter()
    for _ in range(max(1, t.repeats)):
        gc.collect()
        xs.append(timed_loop(fn, n) / n)
        if len(xs) >= t.min_pairs and perf_counter() - start > t.budget:
            break
    return statistics.median(xs)
