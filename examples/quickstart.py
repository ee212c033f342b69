"""exactdiff in one page: one plain-numpy function, two exact engines.

We write a function once, with ordinary numpy (np.sin, np.exp, slicing,
np.sum) -- no special import -- and differentiate it:

* ``hyperdual`` -- forward mode: the function runs on dual numbers
  a + b ε (ε^2 = 0), or hyper-dual numbers for second derivatives;
* ``reverse``   -- reverse mode: the function runs on ``Variable``s that
  record a graph, and ``backward()`` walks it back (backprop); with
  ``create_graph=True`` the gradient is a graph too (double backprop).

Both are exact: they agree with each other to the last bit or two
(~1e-16), while central differences -- the usual numerical check -- agree
only to ~1e-8 to 1e-10, depending on the step size.

Run:  python examples/quickstart.py
"""

from __future__ import annotations

import sys

import numpy as np

import hyperdual
import reverse
from hyperdual import Dual
from reverse import Variable


def f(x):
    """Plain numpy: elementwise functions, slicing and sums."""
    return np.sum(np.sin(x) * np.exp(-(x**2))) + np.sum(x[:-1] * x[1:]) / 4


def main(quick: bool = False) -> dict:
    x = np.array([0.5, -1.0, 2.0, 0.3])
    v = np.array([1.0, 0.5, -1.0, 2.0])
    print("f(x) = sum(sin(x) * exp(-x**2)) + sum(x[:-1] * x[1:]) / 4")
    print(f"at x = {x}:  f(x) = {float(f(x)):.15f}\n")

    g_fwd = hyperdual.gradient(f, x)  # forward mode: Dual numbers
    g_rev = reverse.gradient(f, x)  # reverse mode: one backward pass
    g_fd = reverse.numerical_grad(f, x)  # central differences, eps = 1e-6
    h_fwd = hyperdual.hessian(f, x)  # HyperDual numbers
    h_rev = reverse.hessian(f, x)  # double backprop
    h_fd = reverse.numerical_grad(lambda z: reverse.gradient(f, z), x)
    hv_for = reverse.hvp(f, x, v)  # forward-over-reverse (default)
    hv_ror = reverse.hvp(f, x, v, mode="reverse-over-reverse")
    hv_hd = hyperdual.hvp(f, x, v)

    print(f"gradient (hyperdual) {np.array2string(g_fwd, precision=12)}")
    print(f"gradient (reverse)   {np.array2string(g_rev, precision=12)}")
    print("hessian (both engines)\n" + np.array2string(h_rev, precision=6))
    print(f"H v for v = {v}: {np.array2string(hv_for, precision=12)}\n")

    def diff(a, b) -> float:
        return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))

    table = {
        "gradient: hyperdual vs reverse": diff(g_fwd, g_rev),
        "hessian:  hyperdual vs reverse": diff(h_fwd, h_rev),
        "H v: forward-over-reverse vs reverse-over-reverse": diff(hv_for, hv_ror),
        "H v: hyperdual.hvp vs reverse.hvp": diff(hv_hd, hv_for),
        "H v: reverse.hvp vs hessian @ v": diff(hv_for, h_rev @ v),
        "gradient: central differences vs reverse": diff(g_fd, g_rev),
        "hessian:  central differences vs reverse": diff(h_fd, h_rev),
    }
    print(f"{'comparison':<52} {'max |difference|':>16}")
    for name, d in table.items():
        print(f"{name:<52} {d:>16.1e}")
    exact = max(d for k, d in table.items() if "central" not in k)
    central = [d for k, d in table.items() if "central" in k]
    print(f"=> the exact paths agree to {exact:.1e}; central differences are off by "
          f"{min(central):.0e} to {max(central):.0e}\n")

    y = Dual(2.0, 1.0) ** 3
    print(f"Dual(2.0, 1.0) ** 3 = {y!r}   (2^3 = 8, d/dx x^3 = 3 * 2^2 = 12)")

    xv = Variable(np.array(2.0))
    yv = xv**4 - 2 * xv**2
    yv.backward(create_graph=True)  # x.grad is a Variable with its own graph
    d1 = xv.grad
    xv.clear_grad()
    d1.backward()  # differentiate the derivative: double backprop
    d2 = xv.grad
    print(f"y = x^4 - 2x^2 at x = 2 by double backprop: dy/dx = {float(d1.data)}, "
          f"d2y/dx2 = {float(d2.data)}   (24 and 44)")
    print("\nMore in examples/: newton.py, double_backprop.py, higher_order.py, hvp.py,\n"
          "finite_differences.py, gradient_field.py (figures: python examples/make_figures.py)")
    return {
        "table": table,
        "max_exact_difference": exact,
        "min_central_difference": min(central),
        "gradient": g_rev,
        "hessian": h_rev,
        "hvp": hv_for,
        "dual_cube": (float(y.real), float(y.dual)),
        "double_backprop": (float(d1.data), float(d2.data)),
    }


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
