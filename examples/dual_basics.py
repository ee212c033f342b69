"""Dual and hyper-dual numbers: exact derivatives without a step size.

Run:  python examples/dual_basics.py
"""

import numpy as np

from hyperdual import (
    Dual,
    HyperDual,
    derivative,
    gradient,
    hessian,
    jacobian,
    second_derivative,
)


def f(x):
    """y = x^4 - 2 x^2, written with plain numpy operators."""
    return x**4 - 2 * x**2


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def main() -> dict:
    print("1. Dual arithmetic: a + b*eps with eps^2 = 0")
    y = Dual(2.0, 1.0) ** 3
    print(f"   Dual(2.0, 1.0) ** 3 = {y!r}   (value 2^3 = 8, derivative 3*2^2 = 12)")

    print("\n2. Plain numpy functions work on Duals")
    s = np.sin(Dual(np.pi / 3, 1.0))
    print(f"   np.sin(Dual(pi/3, 1)) = {s!r}   (cos(pi/3) = 0.5)")

    print("\n3. HyperDual: the eps1*eps2 part is the exact second derivative")
    z = np.sin(HyperDual(2.0, 1.0, 1.0, 0.0))
    print(f"   np.sin(HyperDual(2, 1, 1, 0)).eps12 = {z.eps12!r}   (-sin 2 = {-np.sin(2.0):.16f})")

    print("\n4. Helpers on y = x^4 - 2x^2 at x = 2")
    d1, d2 = derivative(f, 2.0), second_derivative(f, 2.0)
    print(f"   derivative        = {d1}   (4x^3 - 4x = 24)")
    print(f"   second_derivative = {d2}   (12x^2 - 4 = 44)")

    x = np.array([-1.2, 1.0, 0.5])
    g, h = gradient(rosenbrock, x), hessian(rosenbrock, x)
    print(f"\n5. Rosenbrock at {x}")
    print(f"   gradient = {g}")
    print("   hessian  =\n   " + np.array2string(h, prefix="   "))
    jac = jacobian(lambda v: np.stack([v[0] * v[1], np.sin(v[2])]), x)
    print("   jacobian of (x0*x1, sin x2) =\n   " + np.array2string(jac, prefix="   "))
    return {"y": y, "d1": d1, "d2": d2, "gradient": g, "hessian": h, "jacobian": jac}


if __name__ == "__main__":
    main()
