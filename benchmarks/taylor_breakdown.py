"""Where the time of figure 10's 8th derivative goes: one step of the chain in pieces.

``python -m benchmarks.taylor_breakdown [K]`` times each piece of one step of
``y <- sin(y) * x + x`` on Taylor numbers of order K (default 8) alone, and the
whole 30-op chain, in CPU seconds (best of 21 batches: the minimum is what a
shared machine distorts least), and prints each in units of the float chain's
step (``chain(math.sin, 0.5, 10) / 10``), the unit of figure 10's ratio:

- the unrolled sin kernel and the product-with-the-seed kernel alone (the
  arithmetic of the recurrences);
- numpy's dispatch of ``np.sin`` to an ``__array_ufunc__`` that returns at once;
- ``np.sin``, ``*`` and ``+`` on Taylor numbers (the rest of each is our dunder
  method's checks, the kernel call and the result object);
- ``hyperdual.derivatives`` of the identity (the helper's fixed cost a call).
"""

from __future__ import annotations

import gc
import math
import sys
import time

import numpy as np

import hyperdual as hd
from hyperdual import _taylor_scalar as ts
from hyperdual._taylor import variable

from .problems import chain


class _Trivial:
    """Numpy's dispatch alone: an ``__array_ufunc__`` that returns at once."""

    __slots__ = ()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return None


def _best(fn, n: int, batches: int = 21) -> float:
    best = math.inf
    for _ in range(batches):
        gc.collect()
        t = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - t) / n)
    return best


def breakdown(K: int = 8, steps: int = 10) -> dict:
    """Seconds per piece, and the float step."""
    X = variable(0.5, K, tag=hd.new_tag())
    y = np.sin(X) * X + X
    s = np.sin(y)
    p = s * X
    sin_k, lmul_k = ts.KERNELS["sin"][K], ts.LMUL[K]
    yl, sl, xl = y._l, s._l, X._l
    trivial = _Trivial()
    sin = np.sin
    f = lambda x: chain(np.sin, x, steps)  # noqa: E731
    ident = lambda x: x  # noqa: E731
    whole = ("float chain", f"derivatives, {steps} steps")
    pieces = {
        whole[0]: (lambda: chain(math.sin, 0.5, steps), 5000),
        whole[1]: (lambda: hd.derivatives(f, 0.5, K), 300),
        "derivatives(identity): the helper": (lambda: hd.derivatives(ident, 0.5, K), 5000),
        "np.sin(Taylor)": (lambda: sin(y), 5000),
        "  sin kernel alone": (lambda: sin_k(yl), 5000),
        "  numpy's dispatch (trivial __array_ufunc__)": (lambda: sin(trivial), 5000),
        "Taylor * seed": (lambda: s * X, 5000),
        "  product kernel alone": (lambda: lmul_k(sl, xl), 5000),
        "Taylor + seed": (lambda: p + X, 5000),
    }
    empty = _best(lambda: None, 5000)
    # the pieces without the empty call's cost; the two whole calls with it, as figure 10
    # times them (so the float step is figure 10's unit)
    out = {name: _best(fn, n) - (0.0 if name in whole else empty)
           for name, (fn, n) in pieces.items()}
    out["float step"] = out["float chain"] / steps
    return out


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    K = int(argv[0]) if argv else 8
    t = breakdown(K)
    step = t.pop("float step")
    print(f"K = {K}; float step {step * 1e9:.0f} ns (CPU seconds, best of 21 batches)")
    for name, sec in t.items():
        print(f"{name:46s} {sec * 1e9:9.0f} ns {sec / step:8.1f} float steps")


if __name__ == "__main__":
    main()
