"""Hessian-vector products: H v without forming H.

Newton-CG, trust-region methods, Lanczos eigenvalue estimates and influence
functions only need products H v, never H itself.  For n inputs, H has n^2
entries and forming it costs about n gradient evaluations; one product H v
costs about as much as a single gradient when done in reverse mode:

* forward-over-reverse (``reverse.hvp``, the default mode): run reverse mode
  on dual numbers x + v ε.  The gradient comes out as grad f(x) + (H v) ε;
  one forward and one backward pass, on data twice as wide.
* reverse-over-reverse (``reverse.hvp(..., mode="reverse-over-reverse")``):
  build the gradient's graph with create_graph=True and backpropagate v
  through it: d/dx (v . grad f) = H v.  Double backprop, again O(1) passes.
* forward-over-forward (``hyperdual.hvp``): a HyperDual carries v on ε1 and
  the n unit directions on ε2 -- all n of them, because forward mode needs
  one direction per input to produce a gradient.  Exact, but O(n) times
  the work of f: the same cost class as forming H row by row.

Reference: ``scipy.optimize.rosen_hess_prod`` (the hand-written H v of the
Rosenbrock function).  Timings are the best of a few runs.

Run:  python examples/hvp.py [--quick]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.optimize import rosen_hess_prod

import hyperdual
import reverse

from _figures import mean_time, parse_args, pyplot, save

NAME = "hvp"
#: hyperdual.hessian is O(n^3) work in one vectorised pass; past this n it takes minutes
MAX_N_HYPERDUAL_HESSIAN = 300


def rosenbrock(x):
    """The n-dimensional Rosenbrock function in plain numpy."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


METHODS = {
    "forward-over-reverse": lambda x, v: reverse.hvp(rosenbrock, x, v),
    "reverse-over-reverse": lambda x, v: reverse.hvp(rosenbrock, x, v,
                                                     mode="reverse-over-reverse"),
    "hyperdual.hvp": lambda x, v: hyperdual.hvp(rosenbrock, x, v),
    "reverse.hessian @ v": lambda x, v: reverse.hessian(rosenbrock, x) @ v,
    "hyperdual.hessian @ v": lambda x, v: hyperdual.hessian(rosenbrock, x) @ v,
}
SHORT = {"forward-over-reverse": "fwd/rev", "reverse-over-reverse": "rev/rev",
         "hyperdual.hvp": "hd.hvp", "reverse.hessian @ v": "rev H@v",
         "hyperdual.hessian @ v": "hd H@v"}


def best_time(fn, *args, budget: float = 0.1, max_runs: int = 20):
    """(result, mean wall time over at least 3 runs, more while they are cheap)."""
    return mean_time(fn, *args, min_runs=3, max_runs=max_runs, budget=budget)


def run(sizes: tuple[int, ...]) -> list[dict]:
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        x = rng.uniform(-1.5, 1.5, n)
        v = rng.normal(size=n)
        ref = rosen_hess_prod(x, v)
        row = {"n": n, "times": {}, "errors": {}, "failures": {}}
        for name, fn in METHODS.items():
            if name == "hyperdual.hessian @ v" and n > MAX_N_HYPERDUAL_HESSIAN:
                continue
            try:
                hv, t = best_time(fn, x, v)
            except Exception as exc:  # an engine failure is reported, not hidden
                row["failures"][name] = f"{type(exc).__name__}: {exc}"
                continue
            row["times"][name] = t
            row["errors"][name] = float(np.max(np.abs(hv - ref)) / max(1.0, np.max(np.abs(ref))))
        rows.append(row)
    return rows


def _plot(rows: list[dict]) -> Path | None:
    plt = pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4.3))
    styles = {"forward-over-reverse": ("o-", "tab:blue"),
              "reverse-over-reverse": ("s-", "tab:green"),
              "hyperdual.hvp": ("^-", "tab:purple"),
              "reverse.hessian @ v": ("v--", "tab:orange"),
              "hyperdual.hessian @ v": ("d--", "tab:red")}
    for name, (style, color) in styles.items():
        pts = [(r["n"], r["times"][name]) for r in rows if name in r["times"]]
        if pts:
            ns, ts = zip(*pts)
            ax.loglog(ns, ts, style, color=color, label=name)
    ax.set_xlabel("n (Rosenbrock dimension)")
    ax.set_ylabel("seconds (mean of repeated runs)")
    ax.set_title("H v without H: reverse-mode HVPs stay flat")
    ax.legend(fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.tight_layout()
    return save(fig, NAME)


def main(quick: bool = False) -> dict:
    sizes = (10, 100) if quick else (10, 100, 1000)
    rows = run(sizes)
    print("Hessian-vector products H v of Rosenbrock: three HVP ways vs forming H")
    print("  fwd/rev = reverse.hvp (forward-over-reverse)   rev/rev = reverse-over-reverse")
    print("  hd.hvp  = hyperdual.hvp   rev H@v, hd H@v = reverse / hyperdual.hessian(f, x) @ v")
    print("time in ms (best of a few runs):")
    header = f"{'n':>6} " + " ".join(f"{SHORT[m]:>9}" for m in METHODS)
    print(header)
    for r in rows:
        cells = []
        for m in METHODS:
            if m in r["times"]:
                cells.append(f"{r['times'][m] * 1e3:>9.2f}")
            else:
                cells.append(f"{'FAILED' if m in r['failures'] else '-':>9}")
        print(f"{r['n']:>6} " + " ".join(cells))
    worst = {m: max((r["errors"][m] for r in rows if m in r["errors"]), default=None)
             for m in METHODS}
    print("max relative error vs scipy.optimize.rosen_hess_prod, over all n:")
    print(f"{'error':>6} " + " ".join(f"{'-' if e is None else f'{e:.1e}':>9}"
                                      for e in worst.values()))
    if max(sizes) > MAX_N_HYPERDUAL_HESSIAN:
        print(f"('-': hyperdual.hessian skipped above n = {MAX_N_HYPERDUAL_HESSIAN}: one pass "
              "carrying n x n directions is O(n^3) work)")
    failures = {f"{m} (n={r['n']})": msg for r in rows for m, msg in r["failures"].items()}
    for where, msg in failures.items():
        print(f"FAILED {where}: {msg}")
    last = rows[-1]
    if "forward-over-reverse" in last["times"] and "reverse.hessian @ v" in last["times"]:
        ratio = last["times"]["reverse.hessian @ v"] / last["times"]["forward-over-reverse"]
        print(f"At n = {last['n']} forming H and multiplying is {ratio:.0f}x slower than "
              "forward-over-reverse H v.")
    path = _plot(rows)
    return {"rows": rows, "max_errors": worst, "failures": failures, "figure": path}


if __name__ == "__main__":
    main(quick=parse_args(__doc__.splitlines()[0]).quick)
