"""Figure 10: Taylor mode (issue 16) -- derivatives of order K in one forward pass.

On the benchmarks' scalar chain ``y <- sin(y) * x + x`` (10 steps, 30 ops: the
issue's chain; and 30 steps, 90 ops: figure 1's):

- the 8th derivative by ``hyperdual.derivatives`` against the chain on
  Python floats (goal <= 40x), against f itself on floats (``np.sin``), against
  the peers (jax.experimental.jet, torch nested autograd.grad) where installed,
  and against repeated ``create_graph`` backprop;
- the whole vector up to order 8 against order 2 (goal <= 3x);
- the order-K cost exponent, fitted by least squares on log t vs log K for
  K = 2..16 (goal <= 2);
- direction stacks: m = 10 and 50 directions of a 20-variable function in one
  stacked pass against one pass per direction.
"""

from __future__ import annotations

import gc
import math

import numpy as np

import hyperdual as hd
from reverse import Variable

from .problems import CHAIN_OPS_PER_STEP, chain
from .report import Row, Section
from .timing import Ratio, Timing, loops_for, paired, timed_loop

__all__ = ["fig_taylor", "order_exponent"]


def _taylor_kth(steps: int, k: int):
    f = lambda x: chain(np.sin, x, steps)  # noqa: E731
    return lambda: hd.derivatives(f, 0.5, k)


def _stack_problem(n: int, seed: int = 0):
    """A vector function of n variables (a tanh layer and elementwise terms) and a point."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, n)) / np.sqrt(n)
    x = rng.normal(size=n)

    def f(x):
        return np.sum(np.tanh(W @ x) ** 2) + np.sum(np.exp(np.sin(x)) / (1.0 + x * x))
    return f, x, rng


def _stack_pair(n: int, m: int, K: int):
    """(per-direction passes, one stacked pass) for m directions of an n-variable f."""
    f, x, rng = _stack_problem(n)
    V = rng.normal(size=(m, n))
    loop = lambda: [hd.directional_derivatives(f, x, v, K) for v in V]  # noqa: E731
    stacked = lambda: hd.directional_derivatives(f, x, V, K)  # noqa: E731
    return loop, stacked


def _backprop_kth(steps: int, k: int):
    def run():
        x = Variable(np.array(0.5))
        g = chain(np.sin, x, steps)
        for _ in range(k):
            x.clear_grad()
            g.backward(create_graph=True)
            g = x.grad
        return g
    return run


def _best(fn, timing: Timing) -> float:
    """The fastest batch's seconds per call: the minimum is what a busy machine distorts
    least (the median of one side alone, unlike a paired ratio, follows the load)."""
    fn()
    n = loops_for(fn, timing.min_time)
    best = math.inf
    for _ in range(max(3, timing.repeats)):
        gc.collect()
        best = min(best, timed_loop(fn, n) / n)
    return best


def order_exponent(steps: int, orders: tuple[int, ...], timing: Timing) -> tuple[float, dict]:
    """Least-squares slope of log(seconds) against log(K), and the best seconds per K."""
    secs = {k: _best(_taylor_kth(steps, k), timing) for k in orders}
    lk = np.log(np.array(orders, dtype=float))
    lt = np.log(np.array([secs[k] for k in orders]))
    slope = float(np.polyfit(lk, lt, 1)[0])
    return slope, secs


def fig_taylor(ctx, steps: int = 30, order: int = 8, backprop_order: int = 8,
               orders: tuple[int, ...] = (2, 4, 8, 12, 16), short_steps: int = 10,
               stack_dirs: tuple[int, ...] = (10, 50), stack_n: int = 20,
               stack_order: int = 4, tensor_n: int = 10) -> Section:
    ctx.log("10. Taylor mode")
    rows = []
    ratios = {}
    for n in (short_steps, steps):
        ops = n * CHAIN_OPS_PER_STEP
        floats = lambda n=n: chain(math.sin, 0.5, n)  # noqa: E731
        f_np = lambda n=n: chain(np.sin, 0.5, n)  # noqa: E731 - f itself, called on a float
        t8 = _taylor_kth(n, order)
        t2 = _taylor_kth(n, 2)
        r_f = ctx.pair(f"{ops} ops: Taylor order {order} / floats", t8, floats)
        peers = ctx.peer_pairs(lambda p, n=n: p.taylor_kth(n, order), floats,
                               f"{ops} ops: order {order} / floats")
        r_fn = ctx.pair(f"{ops} ops: Taylor order {order} / f on floats (np.sin)", t8, f_np)
        r_2 = ctx.pair(f"{ops} ops: Taylor order {order} / order 2", t8, t2)
        ratios[n] = r_f
        rows += [
            Row(f"{order}th derivative, Taylor mode / chain on floats (`math.sin`), "
                f"{ops} ops", r_f, 40.0, "≤ 40x", peers=peers),
            Row(f"(info) {order}th derivative, Taylor mode / f on floats (f as written, "
                f"`np.sin`), {ops} ops", r_fn),
            Row(f"all derivatives to order {order} / Taylor order 2, {ops} ops", r_2, 3.0,
                "≤ 3x"),
        ]
    slow = Timing(repeats=max(3, ctx.timing.repeats // 5), min_time=ctx.timing.min_time,
                  budget=ctx.timing.budget, min_pairs=1, warmup=ctx.timing.warmup)
    r_bp = paired(_backprop_kth(steps, backprop_order), _taylor_kth(steps, backprop_order),
                  slow)
    ctx.log(f"  backprop order {backprop_order} / Taylor: {r_bp.median:.1f}x")
    r_f = ratios[steps]
    r_bpf = Ratio(r_bp.median * r_f.median, r_bp.q1 * r_f.q1, r_bp.q3 * r_f.q3, r_bp.pairs,
                  r_bp.a_seconds, r_f.b_seconds)
    slope, secs = order_exponent(steps, orders, ctx.timing)
    ctx.log(f"  order exponent {slope:.2f}")
    per = "; ".join(f"K={k}: {secs[k] * 1e3:.3f} ms" for k in orders)
    ops = steps * CHAIN_OPS_PER_STEP
    text = (f"The chain of figure 1 (`y = sin(y) * x + x`, three ops a step) at "
            f"{short_steps} steps ({short_steps * CHAIN_OPS_PER_STEP} ops, the issue's "
            f"'30-op chain') and {steps} steps ({ops} ops, figure 1's length), "
            f"differentiated {order} times at x = 0.5 by `hyperdual.derivatives` (Taylor "
            "mode: one forward pass, all derivatives 0..K at once), by repeated "
            "`backward(create_graph=True)` in `reverse`, and by the peers where installed "
            "(jax.experimental.jet without and with jit; PyTorch has no Taylor mode: "
            "nested `torch.autograd.grad(create_graph=True)`). A scalar Taylor seeded "
            "from a float keeps its coefficients in a Python list and runs unrolled "
            "straight-line kernels generated per order K (`hyperdual/_taylor_scalar.py`). "
            "The 40x goal is out of reach in CPython. Measured per step at K = 8 (CPU "
            "seconds, best of 21 batches, in units of the float chain's step, ~59 ns): the "
            "unrolled kernels alone are ~29 steps (sin 24: 64 products and 49 sums of the "
            "coupled sin/cos recurrences, 7 weights j x_j, 13 divisions by k, 3 for the "
            "finiteness check, at ~10 ns a float op of bytecode; the product with the seed "
            "x 4.6: 17 ops), numpy's `__array_ufunc__` dispatch of `np.sin` on a non-array "
            "4.5 (a class whose `__array_ufunc__` returns at once), and the rest of the "
            "three operations (CPython's call of a Python dunder method, its checks, the "
            "kernel call, the result object) ~19-21; the helper's call scope, seed and "
            "result array ~32 steps a call (3x at 30 ops; `python -m "
            "benchmarks.taylor_breakdown` prints the pieces). Kernels and dispatch alone are "
            "~33x, "
            "so 40x would leave ~7 steps (~0.4 µs) for three dunder calls, three result "
            "objects and the helper's share: it needs the kernels in compiled code. A sin "
            "kernel on Python complex numbers (e_k = (i/k) sum j u_j e_(k-j): about half "
            "the bytecode ops) is ~1.7x slower than the real one (CPython does not "
            "specialise complex arithmetic). "
            "'f on floats' is the same function as differentiated (with "
            "`np.sin`) called on a float. "
            f"Direction stacks: `directional_derivatives(f, x, V, {stack_order})` with V of "
            f"shape (m, {stack_n}) for f(x) = sum(tanh(W x)²) + sum(exp(sin x) / (1 + x²)) "
            "carries the m directions in one pass (coefficient arrays with a direction "
            "axis), against m calls with one direction each.")
    for m in stack_dirs:
        loop, stacked = _stack_pair(stack_n, m, stack_order)
        r_s = ctx.pair(f"{m} directions, n = {stack_n}, order {stack_order}: one pass per "
                       "direction / one stacked pass", loop, stacked)
        rows.append(Row(f"(info) {m} directions at once (direction stack), n = {stack_n}, "
                        f"order {stack_order}: speed-up over one pass per direction", r_s))
    f, x, _ = _stack_problem(tensor_n)
    x = x[:tensor_n]
    r_t = ctx.pair(f"derivative_tensor order 3, n = {tensor_n} / hessian", lambda:
                   hd.derivative_tensor(f, x, 3), lambda: hd.hessian(f, x))
    rows.append(Row(f"(info) all third partials (`derivative_tensor(f, x, 3)`, "
                    f"binom({tensor_n} + 2, 3) Taylor directions in one stacked pass), "
                    f"n = {tensor_n} / `hessian` of the same f", r_t))
    rows += [
        Row(f"(info) order {backprop_order} by repeated create_graph backprop / Taylor mode, "
            f"{ops} ops", r_bp),
        Row(f"(info) order {backprop_order} by repeated create_graph backprop / floats, "
            f"{ops} ops", r_bpf, note="product of the two paired ratios"),
        Row(f"Taylor mode cost exponent in K, fitted K = {orders[0]}..{orders[-1]}, {ops} ops",
            slope, 2.0, "≤ 2", unit="", note=per),
    ]
    return Section("10. Taylor mode: derivatives of order K (issue 16)", rows, text)
