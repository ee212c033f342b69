"""Sensitivity of an equilibrium to its parameters, through the solver.

A predator-prey model with logistic prey growth and a saturating predator
response,

    dx/dt = r x (1 - x / K) - a x y / (1 + h x)
    dy/dt = b a x y / (1 + h x) - m y,

has a coexistence equilibrium (x*, y*) that we find with a root finder
(``hyperdual.root``: scipy on floats).  How does the predator level y* move
with the carrying capacity K?  The implicit wrappers give dy*/dK and
d²y*/dK² exactly, from the solver's answer, in both engines; central
differences of the solver need a step and lose half the digits.  For this
model x* = m / (a b - m h) and y* = r (1 - x*/K)(1 + h x*) / a, which
checks both.

Run:  python examples/implicit_sensitivity.py [--quick] [--out DIR]
(the figure goes to DIR/implicit_sensitivity.png; DIR defaults to
$EXACTDIFF_FIGURE_DIR or exactdiff-figures in the system's temporary directory,
as for the other examples)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hyperdual  # noqa: E402
import reverse  # noqa: E402

import _figures  # noqa: E402

R, A, B, H, M = 1.0, 1.2, 0.8, 0.3, 0.4


def rates(z, K):
    """The right-hand side; its root in z = (x, y) is the equilibrium."""
    x, y = z[0], z[1]
    eaten = A * x * y / (1 + H * x)
    return np.stack([R * x * (1 - x / K) - eaten, B * eaten - M * y])


def predator(K, engine=hyperdual):
    """y*(K) by the root finder (differentiable in K)."""
    return engine.root(rates, np.array([1.0, 1.0]), K)[1]


def closed_form(K):
    x = M / (A * B - M * H)
    return R * (1 - x / K) * (1 + H * x) / A


def main(quick: bool = False, out: str | None = None) -> dict:
    Ks = np.linspace(1.5, 8.0, 8 if quick else 40)
    exact_h = np.array([hyperdual.derivative(predator, K) for K in Ks])
    exact_r = np.array([reverse.derivative(lambda k: predator(k, reverse), K) for K in Ks])
    second = np.array([hyperdual.second_derivative(predator, K) for K in Ks])
    closed1 = np.array([hyperdual.derivative(closed_form, K) for K in Ks])
    closed2 = np.array([hyperdual.second_derivative(closed_form, K) for K in Ks])
    step = 1e-5
    fd = np.array([(predator(K + step) - predator(K - step)) / (2 * step) for K in Ks])
    err_exact = float(max(np.max(np.abs(exact_h - closed1)), np.max(np.abs(exact_r - closed1))))
    err_second = float(np.max(np.abs(second - closed2)))
    err_fd = float(np.max(np.abs(fd - closed1)))
    print(f"dy*/dK at K = {Ks[0]:.2f}: exact {exact_h[0]:.16f}, "
          f"central differences {fd[0]:.16f}")
    print(f"max |exact - closed form|: first derivative {err_exact:.2e}, "
          f"second {err_second:.2e}")
    print(f"max |central differences (h = {step:g}) - closed form|: {err_fd:.2e}")

    figure = None
    plt = _figures.pyplot()
    if plt is not None:
        folder = Path(out) if out else _figures.figure_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
        ax1.plot(Ks, [predator(K) for K in Ks], label="y*(K)")
        ax1.plot(Ks, exact_h, label="dy*/dK (exact, implicit)")
        ax1.plot(Ks, fd, "o", ms=3, label="central differences")
        ax1.plot(Ks, second, label="d²y*/dK² (HyperDual)")
        ax1.set_xlabel("carrying capacity K")
        ax1.legend(fontsize=8)
        ax2.semilogy(Ks, np.abs(exact_h - closed1) + 1e-17, label="exact (implicit)")
        ax2.semilogy(Ks, np.abs(fd - closed1), label=f"central differences, h = {step:g}")
        ax2.set_xlabel("carrying capacity K")
        ax2.set_ylabel("error of dy*/dK")
        ax2.legend(fontsize=8)
        fig.tight_layout()
        figure = folder / "implicit_sensitivity.png"
        fig.savefig(figure, dpi=80)
        plt.close(fig)
        print(f"figure: {figure}")
    return {"err_exact": err_exact, "err_second": err_second, "err_fd": err_fd,
            "figure": figure}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None, help="folder for the figure")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out)
