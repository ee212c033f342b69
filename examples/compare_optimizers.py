"""Compare optimizers fed with exact derivatives against scipy's finite differences.

For each problem (written once in plain numpy) this runs, from the standard
start:

- Newton with the exact Hessian and a backtracking line search (Hessian
  shifted by a multiple of the identity when it is not positive definite),
- scipy Newton-CG and trust-krylov fed with our exact gradient and
  Hessian-vector products (``scipy_derivatives``),
- scipy L-BFGS-B with our exact gradient and with scipy's own finite
  differences (``jac=None``),
- gradient descent with Armijo backtracking, and Adam (numpy loops).

It prints a table per problem (iterations, evaluations of f / gradient /
Hessian or Hessian-vector product, final error, wall time) and, when
matplotlib is installed, writes the convergence plot (error vs iteration,
log scale) to ``examples/figures/compare_optimizers.png``.

Derivatives come from ``reverse`` (reverse mode; Hessian-vector products by
forward-over-reverse) when it provides the helpers, else from ``hyperdual``;
choose with ``--engine``.

Run::

    python examples/compare_optimizers.py            # all problems
    python examples/compare_optimizers.py --quick    # two problems, fewer iterations
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable

import numpy as np
import scipy.optimize as so

# Run from a checkout: use the working tree's hyperdual / reverse.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # examples/_figures.py
from _figures import figure_path, parser  # noqa: E402

#: where the plot goes (--out DIR, $EXACTDIFF_FIGURE_DIR or a temporary directory)
FIGURE = str(figure_path("compare_optimizers"))


# ---------------------------------------------------------------------------
# Problems (plain numpy: they run on arrays, Duals and Variables alike)
# ---------------------------------------------------------------------------


def rosenbrock(x):
    """Chained Rosenbrock function; minimiser (1, ..., 1)."""
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def extended_rosenbrock(x):
    """Moré-Garbow-Hillstrom 21: independent Rosenbrock pairs; minimiser (1, ..., 1).

    (The chained form has a second local minimiser near x1 = -1 for n >= 4.)
    """
    e, o = x[0::2], x[1::2]
    return np.sum(100.0 * (o - e**2) ** 2 + (1.0 - e) ** 2)


def beale(x):
    """Beale's function; minimiser (3, 0.5)."""
    a, b = x[0], x[1]
    return ((1.5 - a + a * b) ** 2 + (2.25 - a + a * b**2) ** 2
            + (2.625 - a + a * b**3) ** 2)


def wood(x):
    """Wood's function (Moré-Garbow-Hillstrom 14); minimiser (1, 1, 1, 1)."""
    return (100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2 + 90 * (x[3] - x[2] ** 2) ** 2
            + (1 - x[2]) ** 2 + 10.1 * ((x[1] - 1) ** 2 + (x[3] - 1) ** 2)
            + 19.8 * (x[1] - 1) * (x[3] - 1))


_rng = np.random.default_rng(3)
_X = _rng.normal(size=(60, 5))
_Y = np.sign(_X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + 0.7 * _rng.normal(size=60))


def logistic(w):
    """Mean logistic loss + 0.05 |w|^2 on fixed seeded data (labels +-1)."""
    return np.mean(np.log1p(np.exp(-_Y * (_X @ w)))) + 0.05 * np.sum(w * w)


def _logistic_minimiser():
    w = np.zeros(5)
    for _ in range(30):  # Newton with hand-written derivatives
        s = 1 / (1 + np.exp(_Y * (_X @ w)))
        g = -_X.T @ (_Y * s) / len(_Y) + 0.1 * w
        H = (_X.T * (s * (1 - s))) @ _X / len(_Y) + 0.1 * np.eye(5)
        w = w - np.linalg.solve(H, g)
    return w


def problems(quick: bool) -> dict:
    """name -> (f, start, minimiser)."""
    out = {
        "rosenbrock 2-d": (rosenbrock, np.array([-1.2, 1.0]), np.ones(2)),
        "logistic regression": (logistic, np.zeros(5), _logistic_minimiser()),
    }
    if not quick:
        out["beale"] = (beale, np.array([1.0, 1.0]), np.array([3.0, 0.5]))
        out["wood"] = (wood, np.array([-3.0, -1.0, -3.0, -1.0]), np.ones(4))
        out["ext. rosenbrock 20-d"] = (extended_rosenbrock, np.tile([-1.2, 1.0], 10),
                                       np.ones(20))
    return out


# ---------------------------------------------------------------------------
# Derivatives with evaluation counters
# ---------------------------------------------------------------------------


def engine_module(name: str | None):
    """The differentiation package: ``reverse`` if it has the helpers, else ``hyperdual``."""
    import hyperdual

    if name == "hyperdual":
        return hyperdual
    try:
        import reverse

        if all(hasattr(reverse, h) for h in ("gradient", "hessian", "hvp")):
            return reverse
    except Exception:  # reverse missing or broken: fall back to forward mode
        if name == "reverse":
            raise
    if name == "reverse":
        raise ImportError("reverse lacks gradient/hessian/hvp")
    return hyperdual


class Counted:
    """f, gradient, Hessian and Hessian-vector product of one function, with counters."""

    def __init__(self, f: Callable, engine):
        self.f_, self.engine = f, engine
        self.nf = self.ng = self.nh = 0

    def f(self, x):
        self.nf += 1
        return float(self.f_(x))

    def grad(self, x):
        self.ng += 1
        return np.asarray(self.engine.gradient(self.f_, np.asarray(x, float)), float)

    def hess(self, x):
        self.nh += 1
        return np.asarray(self.engine.hessian(self.f_, np.asarray(x, float)), float)

    def hessp(self, x, p):
        self.nh += 1
        return np.asarray(self.engine.hvp(self.f_, np.asarray(x, float),
                                          np.asarray(p, float)), float)


# ---------------------------------------------------------------------------
# Methods: each returns (x, iterations, history of iterates)
# ---------------------------------------------------------------------------


def newton_line_search(c: Counted, x0, iters: int, gtol: float = 1e-10):
    """Newton with the exact Hessian, Levenberg shift if indefinite, Armijo backtracking."""
    x = np.array(x0, float)
    hist = [x.copy()]
    k = 0
    for k in range(1, iters + 1):  # noqa: B007
        g = c.grad(x)
        if np.linalg.norm(g) <= gtol:
            break
        H = c.hess(x)
        shift = 0.0
        while True:
            try:
                L = np.linalg.cholesky(H + shift * np.eye(len(x)))
                break
            except np.linalg.LinAlgError:
                shift = max(2 * shift, 1e-3 * max(1.0, np.abs(H).max()))
        d = -np.linalg.solve(L.T, np.linalg.solve(L, g))
        fx, t = c.f(x), 1.0
        while c.f(x + t * d) > fx + 1e-4 * t * (g @ d) and t > 1e-12:
            t /= 2
        x = x + t * d
        hist.append(x.copy())
    return x, k, hist


def gradient_descent(c: Counted, x0, iters: int):
    """Steepest descent with Armijo backtracking."""
    x = np.array(x0, float)
    hist, t = [x.copy()], 1.0
    for _ in range(iters):
        g = c.grad(x)
        gg = float(g @ g)
        if gg == 0.0:
            break
        fx, t = c.f(x), min(1.0, 2 * t)
        while c.f(x - t * g) > fx - 1e-4 * t * gg and t > 1e-20:
            t /= 2
        x = x - t * g
        hist.append(x.copy())
    return x, len(hist) - 1, hist


def adam(c: Counted, x0, iters: int, lr: float = 0.05):
    """Adam with bias correction."""
    x = np.array(x0, float)
    m, v, hist = np.zeros_like(x), np.zeros_like(x), [x.copy()]
    for k in range(1, iters + 1):
        g = c.grad(x)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        x = x - lr * (m / (1 - 0.9**k)) / (np.sqrt(v / (1 - 0.999**k)) + 1e-8)
        hist.append(x.copy())
    return x, iters, hist


def scipy_method(method: str, use: tuple[str, ...], options: dict):
    def run(c: Counted, x0, iters: int):
        hist = [np.array(x0, float)]
        kw = {"jac": c.grad if "jac" in use else None}
        if "hessp" in use:
            kw["hessp"] = c.hessp
        res = so.minimize(c.f, np.array(x0, float), method=method,
                          options={**options, "maxiter": iters},
                          callback=lambda xk: hist.append(np.array(xk, float)), **kw)
        if hasattr(res, "nfev"):  # scipy's counts replace ours (they include FD calls)
            c.nf = int(res.nfev)
        return res.x, int(res.nit), hist
    return run


#: label -> (runner, iterations (quick, full), honest tolerance on max|x - x*|;
#: None = not expected to converge in that budget, shown for comparison only)
METHODS: dict[str, tuple[Callable, tuple[int, int], float | None]] = {
    "newton (exact H)": (newton_line_search, (100, 100), 1e-8),
    "newton-cg (our hessp)": (scipy_method("Newton-CG", ("jac", "hessp"), {"xtol": 1e-12}),
                              (1000, 1000), 1e-6),
    "trust-krylov (our hessp)": (scipy_method("trust-krylov", ("jac", "hessp"), {"gtol": 1e-6}),
                                 (1000, 1000), 1e-6),
    "l-bfgs-b (our grad)": (scipy_method("L-BFGS-B", ("jac",), {"gtol": 1e-12, "ftol": 1e-15}),
                            (1000, 1000), 1e-7),
    "l-bfgs-b (scipy FD)": (scipy_method("L-BFGS-B", (), {"gtol": 1e-12, "ftol": 1e-15}),
                            (1000, 1000), 1e-4),
    "gradient descent": (gradient_descent, (300, 300), None),
    "adam": (adam, (500, 1000), None),
}

#: first-order methods run only on these problems (budgets are far too small for
#: the Rosenbrock valley or Wood; the 2-d Rosenbrock row shows how far they get)
FIRST_ORDER = {"gradient descent", "adam"}
FIRST_ORDER_PROBLEMS = {
    ("rosenbrock 2-d", "gradient descent"): None,
    ("logistic regression", "gradient descent"): 1e-5, ("logistic regression", "adam"): 1e-5,
    ("beale", "gradient descent"): None, ("beale", "adam"): 1e-5,
}
#: (problem, method) pairs not run: Newton-CG stalls on Wood from the standard start
#: (hundreds of iterations, converging only after ~800)
SKIP = {("wood", "newton-cg (our hessp)")}


def main(quick: bool = False, plot: bool = True, verbose: bool = True,
         engine: str | None = None) -> dict:
    """Run every method on every problem; print tables; return the results.

    Returns
    -------
    dict
        ``{problem: {method: {"iterations", "nfev", "ngev", "nhev", "error",
        "tolerance", "converged", "time", "history"}}}``; ``error`` is
        ``max|x - x*|``, ``history`` the error after each iteration.
        Only rows with a tolerance (methods expected to converge within their
        budget on that problem) are returned in quick mode.
    """
    eng = engine_module(engine)
    results: dict[str, dict] = {}
    if verbose:
        print(f"derivatives from: {eng.__name__}" + (" (quick)" if quick else ""))
    for pname, (f, x0, xstar) in problems(quick).items():
        rows: dict[str, dict] = {}
        for mname, (run, budget, tol) in METHODS.items():
            if (pname, mname) in SKIP:
                continue
            if mname in FIRST_ORDER:
                if (pname, mname) not in FIRST_ORDER_PROBLEMS:
                    continue
                tol = FIRST_ORDER_PROBLEMS[pname, mname]
            if quick and tol is None:
                continue
            c = Counted(f, eng)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                x, nit, hist = run(c, x0, budget[0] if quick else budget[1])
            elapsed = time.perf_counter() - t0
            err = float(np.max(np.abs(x - xstar)))
            rows[mname] = {
                "iterations": nit, "nfev": c.nf, "ngev": c.ng, "nhev": c.nh,
                "error": err, "tolerance": tol,
                "converged": tol is not None and err <= tol, "time": elapsed,
                "history": [float(np.max(np.abs(h - xstar))) for h in hist],
            }
        results[pname] = rows
        if verbose:
            print_table(pname, x0, rows)
    if plot:
        write_plot(results, verbose)
    return results


def print_table(name: str, x0, rows: dict) -> None:
    print(f"\n{name}  (n = {len(x0)}, start {np.array2string(x0[:4], precision=2)}"
          f"{' ...' if len(x0) > 4 else ''})")
    head = (f"{'method':<26}{'iters':>7}{'f evals':>9}{'grad':>7}{'H/Hv':>7}"
            f"{'error':>11}{'time [s]':>10}  ok")
    print(head)
    print("-" * len(head))
    for m, r in rows.items():
        ok = "yes" if r["converged"] else ("-" if r["tolerance"] is None else "NO")
        print(f"{m:<26}{r['iterations']:>7}{r['nfev']:>9}{r['ngev']:>7}{r['nhev']:>7}"
              f"{r['error']:>11.2e}{r['time']:>10.3f}  {ok}")


def write_plot(results: dict, verbose: bool = True) -> str | None:
    """Error vs iteration (log scale), one panel per problem; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if verbose:
            print("\nmatplotlib is not installed; for the convergence plot run: "
                  "pip install .[plot]")
        return None
    n = len(results)
    ncols = min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.4 * nrows), squeeze=False)
    handles: dict = {}
    for ax, (pname, rows) in zip(axes.flat, results.items()):
        for m, r in rows.items():
            h = np.maximum(np.array(r["history"]), 1e-17)
            (line,) = ax.semilogy(np.arange(len(h)), h, label=m, lw=1.2)
            handles.setdefault(m, line)
        ax.set_title(pname)
        ax.set_xlabel("iteration")
        ax.set_xscale("symlog", linthresh=10)
        ax.set_ylabel("max |x - x*|")
        ax.grid(True, which="both", alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.legend(list(handles.values()), list(handles), loc="lower right", fontsize=8,
               ncol=1 if n % ncols else 4)
    fig.tight_layout()
    os.makedirs(os.path.dirname(FIGURE), exist_ok=True)
    fig.savefig(FIGURE, dpi=110)
    plt.close(fig)
    if verbose:
        print(f"\nconvergence plot written to {FIGURE}")
    return FIGURE


if __name__ == "__main__":
    ap = parser(__doc__.split("\n")[0])
    ap.add_argument("--no-plot", action="store_true", help="do not write the PNG")
    ap.add_argument("--engine", choices=["reverse", "hyperdual"], default=None,
                    help="derivative engine (default: reverse if available)")
    args = ap.parse_args()
    if args.out:
        FIGURE = os.path.join(args.out, "compare_optimizers.png")
    main(quick=args.quick, plot=not args.no_plot, engine=args.engine)
