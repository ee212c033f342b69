"""Maximum likelihood with scipy.stats' densities, differentiated exactly.

scipy.stats.t.logpdf converts its input with np.asarray, so it cannot carry a
derivative; ``reverse.stats`` and ``hyperdual.stats`` have the same names and
signatures and can.  Here the log-likelihood of a Student t sample (location, log
scale, log degrees of freedom) is maximised by Newton's method with its exact
gradient and Hessian, in both engines, and compared with scipy's own fit
(``scipy.stats.t.fit``, a derivative-free simplex search started from the same
point).  At the optimum the gradient is zero to rounding; scipy's fit stops
within its tolerance of the same point.

Run:  python examples/statistics_mle.py [--quick] [--out DIR]
(with matplotlib, the figure goes to DIR/statistics_mle.png; DIR defaults to
$EXACTDIFF_FIGURE_DIR or exactdiff-figures in the system's temporary directory)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import scipy.stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hyperdual  # noqa: E402
import reverse  # noqa: E402

import _figures  # noqa: E402


def negative_log_likelihood(p, data, stats):
    """-log L of a Student t with location p[0], scale exp(p[1]), df exp(p[2])."""
    return -np.sum(stats.t.logpdf(data, np.exp(p[2]), p[0], np.exp(p[1])))


def newton(engine, data, p, steps):
    f = lambda q: negative_log_likelihood(q, data, engine.stats)  # noqa: E731
    for _ in range(steps):
        g = engine.gradient(f, p)
        step = np.linalg.solve(engine.hessian(f, p), g)
        p = p - step
        if np.max(np.abs(step)) < 1e-13:
            break
    return p, engine.gradient(f, p)


def main(quick: bool = False) -> dict:
    rng = np.random.default_rng(7)
    data = 2.0 + 0.5 * rng.standard_t(5.0, size=200 if quick else 2000)
    start = np.array([np.median(data), np.log(np.std(data)), np.log(10.0)])
    p_rev, g_rev = newton(reverse, data, start, 40)
    p_fwd, g_fwd = newton(hyperdual, data, start, 40)
    df, loc, scale = scipy.stats.t.fit(data, np.exp(start[2]), loc=start[0],
                                       scale=np.exp(start[1]))
    ours = (np.exp(p_rev[2]), p_rev[0], np.exp(p_rev[1]))
    nll = lambda q: negative_log_likelihood(q, data, scipy.stats)  # noqa: E731
    print(f"n = {data.size}: df, loc, scale by Newton (reverse) {np.round(ours, 6)}")
    print(f"   scipy.stats.t.fit (simplex)                   "
          f"{np.round((df, loc, scale), 6)}")
    print(f"   |gradient| at our optimum: reverse {np.max(np.abs(g_rev)):.1e}, "
          f"hyperdual {np.max(np.abs(g_fwd)):.1e}; engines differ by "
          f"{np.max(np.abs(p_rev - p_fwd)):.1e}")
    print(f"   -log L: ours {nll(p_rev):.10f}, scipy's fit "
          f"{nll(np.array([loc, np.log(scale), np.log(df)])):.10f}")
    figure = None
    plt = _figures.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.hist(data, bins=60, density=True, alpha=0.5, label="sample")
        grid = np.linspace(np.min(data), np.max(data), 400)
        ax.plot(grid, scipy.stats.t.pdf(grid, *ours), label="Newton, exact derivatives")
        ax.plot(grid, scipy.stats.t.pdf(grid, df, loc, scale), "--",
                label="scipy.stats.t.fit")
        ax.set_title("Student t by maximum likelihood", fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        figure = _figures.save(fig, "statistics_mle")
    return {"figure": figure,
            "gradient": float(max(np.max(np.abs(g_rev)), np.max(np.abs(g_fwd)))),
            "engines": float(np.max(np.abs(p_rev - p_fwd))),
            "nll_ours": float(nll(p_rev)),
            "nll_scipy": float(nll(np.array([loc, np.log(scale), np.log(df)]))),
            "params": ours, "scipy_params": (df, loc, scale)}


if __name__ == "__main__":
    args = _figures.parse_args(__doc__.splitlines()[0])
    main(quick=args.quick)
