"""Taylor mode: every derivative up to order K in one forward pass.

``hyperdual.taylor(f, x0, K)`` propagates the K + 1 Taylor coefficients
f^(k)(x0)/k! through f at O(K^2) work per operation.  Two panels:

1. Taylor polynomials of 1/(1 + x^2) about 0 at increasing orders against the
   function: they converge on |x| < 1 and fly off outside, although the
   function is smooth on the whole real line -- the radius of convergence is
   set by the complex poles at x = +-i.
2. The cost of the K-th derivative of tanh(sin(x) * x) as K grows: Taylor
   mode (one pass of order K) against repeated double backprop
   (``backward(create_graph=True)`` K times) and nested dual numbers
   (``hyperdual.derivative`` nested K deep), on a log scale.  Taylor mode grows
   like K^2; the other two grow geometrically.

Run:  python examples/taylor_mode.py [--quick] [--out DIR]
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

import hyperdual as hd
from reverse import Variable

from _figures import parse_args, pyplot, save

NAME = "taylor_mode"


def f_cost(x):
    return np.tanh(np.sin(x) * x)


def taylor_kth(k: int, x0: float = 0.7) -> float:
    return hd.nth_derivative(f_cost, x0, k)


def backprop_kth(k: int, x0: float = 0.7) -> float:
    x = Variable(np.array(x0))
    g = f_cost(x)
    for _ in range(k):
        x.clear_grad()
        g.backward(create_graph=True)
        g = x.grad
    return float(g.data)


def nested_kth(k: int, x0: float = 0.7) -> float:
    fn = f_cost
    for _ in range(k):
        fn = (lambda h: lambda t: hd.derivative(h, t))(fn)
    return float(fn(x0))


def best_time(fn, k: int, reps: int) -> float:
    """The fastest of ``reps`` timed calls after a warm-up (robust on a busy machine)."""
    fn(k)
    best = math.inf
    for _ in range(reps):
        start = time.perf_counter()
        fn(k)
        best = min(best, time.perf_counter() - start)
    return best


def polynomials(orders, xs):
    """Taylor polynomials of 1/(1 + x^2) about 0 (coefficients from Taylor mode)."""
    K = max(orders)
    c = hd.taylor(lambda x: 1 / (1 + x * x), 0.0, K)
    return {k: np.polynomial.polynomial.polyval(xs, c[:k + 1]) for k in orders}, c


def main(quick: bool = False) -> dict:
    orders = [2, 4, 8, 16, 32]
    xs = np.linspace(-1.6, 1.6, 321)
    polys, coef = polynomials(orders, xs)
    # the closed form: 1/(1 + x^2) = sum (-1)^m x^(2m)
    exact_coef = np.array([(-1) ** (k // 2) if k % 2 == 0 else 0.0 for k in range(33)])
    coef_err = float(np.max(np.abs(coef - exact_coef)))
    print(f"1/(1+x^2): Taylor coefficients to order 32, max error {coef_err:.1e}")
    for k in orders:
        inside = float(np.max(np.abs(polys[k] - 1 / (1 + xs ** 2))[np.abs(xs) <= 0.5]))
        print(f"  order {k:>2}: max error on |x| <= 0.5: {inside:.1e}; "
              f"at x = 1.5: {polys[k][-20]:.3g} (function {1 / (1 + xs[-20] ** 2):.3g})")

    k_taylor = list(range(1, 17 if quick else 25))
    k_slow = list(range(1, 6 if quick else 9))
    reps = 3 if quick else 9
    t_taylor = [best_time(taylor_kth, k, reps) for k in k_taylor]
    t_back = [best_time(backprop_kth, k, reps) for k in k_slow]
    t_nest = [best_time(nested_kth, k, reps) for k in k_slow]
    # the three engines agree (at the largest order all of them ran)
    k = k_slow[-1]
    values = (taylor_kth(k), backprop_kth(k), nested_kth(k))
    agree = max(abs(v - values[0]) for v in values) / max(abs(values[0]), 1.0)
    print(f"order {k} derivative of tanh(sin(x) x) at 0.7: Taylor {values[0]:.12g}, "
          f"backprop {values[1]:.12g}, nested duals {values[2]:.12g} (rel. diff {agree:.1e})")
    lo = k_taylor.index(2)
    hi = len(k_taylor) - 1
    slope = math.log(t_taylor[hi] / t_taylor[lo]) / math.log(k_taylor[hi] / k_taylor[lo])
    print(f"Taylor mode cost exponent (K = 2..{k_taylor[hi]}): {slope:.2f}")
    for kk, tb, tn in zip(k_slow, t_back, t_nest):
        print(f"  K = {kk}: Taylor {t_taylor[kk - 1] * 1e3:7.2f} ms, backprop {tb * 1e3:8.2f} ms,"
              f" nested duals {tn * 1e3:8.2f} ms")
    path = _plot(xs, polys, k_taylor, t_taylor, k_slow, t_back, t_nest)
    return {"coef_error": coef_err, "agree": agree, "slope": slope, "figure": path,
            "t_taylor": t_taylor, "t_backprop": t_back, "t_nested": t_nest}


def _plot(xs, polys, k_taylor, t_taylor, k_slow, t_back, t_nest) -> Path | None:
    plt = pyplot()
    if plt is None:
        return None
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.2))
    a1.plot(xs, 1 / (1 + xs ** 2), color="k", lw=2.2, label="1/(1+x²)")
    cmap = plt.get_cmap("viridis")
    for i, (k, p) in enumerate(sorted(polys.items())):
        a1.plot(xs, p, color=cmap(0.9 * i / max(len(polys) - 1, 1)), lw=1.2,
                label=f"order {k}")
    for s in (-1, 1):
        a1.axvline(s, color="0.6", ls="--", lw=0.8)
    a1.text(1.02, -0.35, "radius 1\n(poles ±i)", fontsize=8, color="0.4")
    a1.set_ylim(-0.5, 1.6)
    a1.set_xlabel("x")
    a1.set_title("Taylor polynomials about 0 (hyperdual.taylor)", fontsize=10)
    a1.legend(fontsize=7, loc="upper left")
    a2.semilogy(k_taylor, t_taylor, "o-", ms=3, label="Taylor mode (one pass)")
    a2.semilogy(k_slow, t_back, "s-", ms=3, label="repeated backprop (create_graph)")
    a2.semilogy(k_slow, t_nest, "^-", ms=3, label="nested dual numbers")
    a2.set_xlabel("derivative order K")
    a2.set_ylabel("seconds for the K-th derivative")
    a2.set_title("cost of the K-th derivative of tanh(sin(x)·x)", fontsize=10)
    a2.legend(fontsize=8)
    a2.grid(True, which="both", color="0.92")
    fig.tight_layout()
    return save(fig, NAME)


if __name__ == "__main__":
    main(quick=parse_args(__doc__.splitlines()[0]).quick)
