"""Finite differences against exact derivatives: accuracy and cost.

Part 1 -- accuracy.  For f(x) = exp(sin(x)) at x = 1 we compare

    forward    (f(x + h) - f(x)) / h                 error ~ h f''/2 + eps |f| / h
    central    (f(x + h) - f(x - h)) / 2h            error ~ h^2 f'''/6 + eps |f| / h
    second     (f(x + h) - 2 f(x) + f(x - h)) / h^2  error ~ h^2 f''''/12 + 4 eps |f| / h^2

with the exact f' = cos(x) exp(sin(x)) and f'' = (cos^2 x - sin x) exp(sin x),
for h = 1e-1 ... 1e-15.  Large h: truncation error (the Taylor terms we
dropped).  Small h: round-off error (f(x + h) - f(x) cancels the leading
digits, eps ~ 2.2e-16).  On a log-log plot this is a V, and even its bottom
is far from machine precision: about 1e-8 forward, 1e-10 central, 1e-8 for
the second difference.  Dual numbers (f') and hyper-dual numbers (f' and f'')
have no step: their error is flat at machine precision.

Part 2 -- cost.  A finite-difference gradient of f: R^N -> R needs N + 1
evaluations of f (forward) or 2N (central); for a function that costs O(N)
that is O(N^2).  Reverse mode gets the whole gradient from one forward and
one backward pass, whatever N.  (Forward mode, hyperdual.gradient, is exact
but also carries N directions.)

Run:  python examples/finite_differences.py [--quick]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import hyperdual
import reverse
from hyperdual import Dual, HyperDual

from _figures import mean_time, parse_args, pyplot, save

NAME = "finite_differences"
X = 1.0
STEPS = 10.0 ** -np.arange(1, 16)
FLOOR = 1e-17  # where an error of exactly 0 is drawn on the log axis


def f(x):
    return np.exp(np.sin(x))


def f1_exact(x: float) -> float:
    return float(np.cos(x) * np.exp(np.sin(x)))


def f2_exact(x: float) -> float:
    return float((np.cos(x) ** 2 - np.sin(x)) * np.exp(np.sin(x)))


def step_errors(x: float = X) -> dict:
    """Errors of the difference quotients for every h, and of dual / hyper-dual."""
    d1, d2 = f1_exact(x), f2_exact(x)
    fx = f(x)
    forward = np.array([abs((f(x + h) - fx) / h - d1) for h in STEPS])
    central = np.array([abs((f(x + h) - f(x - h)) / (2 * h) - d1) for h in STEPS])
    second = np.array([abs((f(x + h) - 2 * fx + f(x - h)) / h**2 - d2) for h in STEPS])
    dual = f(Dual(x, 1.0))
    hd = f(HyperDual(x, 1.0, 1.0, 0.0))
    return {
        "h": STEPS,
        "forward": forward,
        "central": central,
        "second": second,
        "dual_f1": abs(float(dual.dual) - d1),
        "hyperdual_f1": abs(float(hd.eps1) - d1),
        "hyperdual_f2": abs(float(hd.eps12) - d2),
    }


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def forward_difference_gradient(fun, x: np.ndarray, h: float = 1e-7) -> tuple[np.ndarray, int]:
    """Textbook numerical gradient: N + 1 evaluations of fun.  Returns (grad, #evals)."""
    f0, evals = fun(x), 1
    g = np.empty_like(x)
    for i in range(x.size):
        xp = x.copy()
        xp[i] += h
        g[i] = (fun(xp) - f0) / (xp[i] - x[i])
        evals += 1
    return g, evals


def _timed(fn, *args):
    """(result, mean seconds over repeated runs): the panel shows averages, not one shot."""
    return mean_time(fn, *args)


def cost_table(sizes: tuple[int, ...]) -> list[dict]:
    rows = []
    warm = np.array([0.1, 0.2, 0.3])  # first calls pay one-off costs: keep them out
    reverse.gradient(rosenbrock, warm)
    hyperdual.gradient(rosenbrock, warm)
    for n in sizes:
        x = np.random.default_rng(n).uniform(-1.0, 1.0, n)
        exact, t_rev = _timed(reverse.gradient, rosenbrock, x)
        (fd, evals), t_fd = _timed(forward_difference_gradient, rosenbrock, x)
        central, t_central = _timed(reverse.numerical_grad, rosenbrock, x)
        fwd, t_hd = _timed(hyperdual.gradient, rosenbrock, x)
        scale = max(1.0, float(np.max(np.abs(exact))))
        rows.append({
            "n": n, "evals": evals, "t_forward_fd": t_fd, "t_central_fd": t_central,
            "t_reverse": t_rev, "t_hyperdual": t_hd,
            "err_forward_fd": float(np.max(np.abs(fd - exact))) / scale,
            "err_central_fd": float(np.max(np.abs(central - exact))) / scale,
            "err_hyperdual": float(np.max(np.abs(fwd - exact))) / scale,
        })
    return rows


def _plot(err: dict, rows: list[dict]) -> Path | None:
    plt = pyplot()
    if plt is None:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.3))
    h = err["h"]
    ax1.loglog(h, np.maximum(err["forward"], FLOOR), "o-", color="tab:orange",
               label="forward difference, f'")
    ax1.loglog(h, np.maximum(err["central"], FLOOR), "s-", color="tab:green",
               label="central difference, f'")
    ax1.loglog(h, np.maximum(err["second"], FLOOR), "^-", color="tab:red",
               label="second difference, f''")
    flat = [("dual", "dual_f1", "f'", "tab:blue", "-"),
            ("hyper-dual", "hyperdual_f1", "f'", "tab:purple", "--"),
            ("hyper-dual", "hyperdual_f2", "f''", "tab:purple", ":")]
    for label, key, what, color, ls in flat:
        e = err[key]
        ax1.loglog(h, np.full_like(h, max(e, FLOOR)), ls, color=color, lw=2,
                   label=f"{label}, {what}: {e:.1e}" + (" (0 drawn at 1e-17)" if e == 0 else ""))
    ax1.axhline(np.finfo(float).eps, color="0.6", lw=0.8)
    ax1.text(h[-1], np.finfo(float).eps * 2, "machine eps", fontsize=7, color="0.4")
    ax1.set_ylim(FLOOR / 3, 1e13)  # headroom for the legend
    ax1.invert_xaxis()
    ax1.set_xlabel("step h")
    ax1.set_ylabel("absolute error")
    ax1.set_title("f(x) = exp(sin x) at x = 1: truncation vs round-off")
    ax1.legend(fontsize=7, loc="upper left")

    ns = [r["n"] for r in rows]
    ax2.loglog(ns, [r["t_forward_fd"] for r in rows], "o-", color="tab:orange",
               label="forward differences (N + 1 evals)")
    ax2.loglog(ns, [r["t_central_fd"] for r in rows], "s-", color="tab:green",
               label="central differences (2N + 1 evals)")
    ax2.loglog(ns, [r["t_hyperdual"] for r in rows], "^-", color="tab:purple",
               label="hyperdual.gradient (N directions)")
    ax2.loglog(ns, [r["t_reverse"] for r in rows], "D-", color="tab:blue",
               label="reverse.gradient (1 backward pass)")
    ax2.set_xlabel("N (Rosenbrock dimension)")
    ax2.set_ylabel("seconds")
    ax2.set_title("Cost of one gradient")
    ax2.legend(fontsize=7)
    ax2.grid(True, alpha=0.3)
    fig.tight_layout()
    return save(fig, NAME)


def main(quick: bool = False) -> dict:
    err = step_errors()
    print(f"f(x) = exp(sin x) at x = {X}: |error| of f' (and f'') against the exact value")
    print(f"{'h':>7} {'forward':>9} {'central':>9} {'2nd diff':>9}")
    for h, a, b, c in zip(err["h"], err["forward"], err["central"], err["second"]):
        print(f"{h:>7.0e} {a:>9.1e} {b:>9.1e} {c:>9.1e}")
    best_fwd, best_central = float(np.min(err["forward"])), float(np.min(err["central"]))
    best_second = float(np.min(err["second"]))
    hb = err["h"][int(np.argmin(err["central"]))]
    print(f"best: forward {best_fwd:.1e}, central {best_central:.1e} (at h = {hb:.0e}), "
          f"2nd diff {best_second:.1e}")
    print(f"exact: dual f' {err['dual_f1']:.1e}, hyper-dual f' {err['hyperdual_f1']:.1e}, "
          f"hyper-dual f'' {err['hyperdual_f2']:.1e}   (no step size at all)")

    sizes = (10, 100, 1000) if quick else (10, 100, 1000, 3000)
    rows = cost_table(sizes)
    print("\nOne gradient of Rosenbrock in R^N, seconds (relative error vs reverse mode)")
    print(f"{'N':>5} {'f evals':>7} {'forward FD':>19} {'central FD':>19} {'hyperdual':>9} "
          f"{'reverse':>9}")
    for r in rows:
        print(f"{r['n']:>5} {r['evals']:>7} {r['t_forward_fd']:>9.4f} ({r['err_forward_fd']:.0e}) "
              f"{r['t_central_fd']:>9.4f} ({r['err_central_fd']:.0e}) {r['t_hyperdual']:>9.4f} "
              f"{r['t_reverse']:>9.4f}")
    last = rows[-1]
    print(f"At N = {last['n']}: forward differences are "
          f"{last['t_forward_fd'] / last['t_reverse']:.0f}x slower than one reverse pass "
          f"(and only good to ~{last['err_forward_fd']:.0e}).")
    path = _plot(err, rows)
    return {
        "h": err["h"],
        "forward_errors": err["forward"],
        "central_errors": err["central"],
        "second_errors": err["second"],
        "best_forward_error": best_fwd,
        "best_central_error": best_central,
        "best_second_error": best_second,
        "dual_error": err["dual_f1"],
        "hyperdual_f1_error": err["hyperdual_f1"],
        "hyperdual_f2_error": err["hyperdual_f2"],
        "cost_rows": rows,
        "figure": path,
    }


if __name__ == "__main__":
    main(quick=parse_args(__doc__.splitlines()[0]).quick)
