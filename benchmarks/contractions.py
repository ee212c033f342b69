"""Direction stacks through contractions: ``python -m benchmarks.contractions``.

Times (medians of a few runs, seconds) and ratios to the function:

* the logistic-regression loss of issue 15 (A: 5000 x 500): hyperdual.gradient
  (500 directions through ``A @ w``: one BLAS product over the whole stack) and
  reverse.gradient, against the hand-written gradient;
* an einsum-heavy function (a bilinear form and a three-operand contraction):
  gradient and Hessian in both engines against f, beside autograd's when it is
  installed (a peer for this benchmark only).

Not part of ``python -m benchmarks`` (whose figures are issue 5's); run it on
an idle machine, the numbers move with the load.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import hyperdual as hd
import reverse as rv


def _median_time(fn, repeats: int = 3) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def logistic(m: int = 5000, n: int = 500, seed: int = 0) -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n))
    y = (rng.random(m) > 0.5).astype(float)
    w = rng.standard_normal(n) * 0.01

    def f(v):
        z = A @ v
        return np.sum(np.logaddexp(0.0, z) - y * z)

    def hand(v):
        z = A @ v
        return A.T @ (1.0 / (1.0 + np.exp(-z)) - y)

    np.testing.assert_allclose(hd.gradient(f, w), hand(w), rtol=1e-9, atol=1e-9)
    t_hand = _median_time(lambda: hand(w))
    rows = [("hand-written gradient", t_hand, 1.0)]
    for name, fn in (("hyperdual.gradient", lambda: hd.gradient(f, w)),
                     ("reverse.gradient", lambda: rv.gradient(f, w))):
        t = _median_time(fn)
        rows.append((name, t, t / t_hand))
    return rows


def einsum_heavy(n: int = 60, seed: int = 0) -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    T = rng.standard_normal((n, n, 8))
    x = rng.standard_normal(n)

    def f(v):
        q = np.einsum("i,ij,j->", v, M, np.tanh(v))
        return q + np.sum(np.einsum("i,ijk,j->k", v, T, v) ** 2)

    t_f = _median_time(lambda: f(x))
    rows = [("f", t_f, 1.0)]
    for name, fn in (("hyperdual.gradient", lambda: hd.gradient(f, x)),
                     ("reverse.gradient", lambda: rv.gradient(f, x)),
                     ("hyperdual.hessian", lambda: hd.hessian(f, x)),
                     ("reverse.hessian", lambda: rv.hessian(f, x))):
        t = _median_time(fn, repeats=1)
        rows.append((name, t, t / t_f))
    rows += _autograd_rows(M, T, x, t_f, hd.gradient(f, x))
    return rows


def _autograd_rows(M, T, x, t_f: float, grad_ref) -> list[tuple[str, float, float]]:
    """The same f in autograd (reverse mode; its Hessian is reverse-over-reverse), if
    installed: a peer, never a project dependency."""
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return []

    def f(v):
        q = anp.einsum("i,ij,j->", v, M, anp.tanh(v))
        return q + anp.sum(anp.einsum("i,ijk,j->k", v, T, v) ** 2)

    np.testing.assert_allclose(autograd.grad(f)(x), grad_ref, rtol=1e-9)
    rows = []
    for name, fn in (("autograd grad", lambda: autograd.grad(f)(x)),
                     ("autograd hessian", lambda: autograd.hessian(f)(x))):
        t = _median_time(fn, repeats=1)
        rows.append((name, t, t / t_f))
    return rows


def main() -> int:
    for title, rows in (("logistic loss, A 5000 x 500", logistic()),
                        ("einsum-heavy f, n = 60", einsum_heavy())):
        print(f"\n{title}\n| what | seconds | ratio |\n|---|---:|---:|")
        for name, t, r in rows:
            print(f"| {name} | {t:.4g} | {r:.3g}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
