"""Code written against scipy.linalg, differentiated: three small problems.

scipy.linalg converts its input with np.asarray, so ``scipy.linalg.sqrtm(x)`` of a
Dual or a Variable cannot carry a derivative.  ``hyperdual.linalg`` and
``reverse.linalg`` have scipy's names, signatures and conventions; swapping the
import is all it takes.

1. The squared 2-Wasserstein (Bures) distance between two centred Gaussians,
   tr S1 + tr S2 - 2 tr sqrtm(sqrtm(S1) S2 sqrtm(S1)): its gradient in S2, which
   vanishes at S2 = S1 (the minimum), and against central differences elsewhere.
2. The controllability Gramian W of dx/dt = A(k) x + b u, the solution of the Lyapunov
   equation A W + W A^T + b b^T = 0: d trace(W) / dk through
   ``solve_continuous_lyapunov``; for a diagonal A = -diag(k, 2k) the Gramian has the
   closed form W_ij = b_i b_j / (k (d_i + d_j)).
3. A chain of three masses and four springs of stiffness k_i: the squared frequencies
   are the eigenvalues of the generalized problem K v = w M v (``eigh(K, M)``); the
   derivative of each w in k_i is v^T (dK/dk_i) v with M-normalised v (Rayleigh).

Run:  python examples/scipy_linalg.py [--quick] [--out DIR]
(with matplotlib, the figure goes to DIR/scipy_linalg.png; DIR defaults to
$EXACTDIFF_FIGURE_DIR or exactdiff-figures in the system's temporary directory)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hyperdual  # noqa: E402
import reverse  # noqa: E402

import _figures  # noqa: E402

S1 = np.array([[2.0, 0.3], [0.3, 1.0]])
B = np.array([1.0, 0.5])
MASSES = np.diag([1.0, 2.0, 1.5])


def bures(s2, linalg):
    """Squared 2-Wasserstein distance between N(0, S1) and N(0, S2)."""
    S2 = s2.reshape(2, 2)
    r = linalg.sqrtm(S1)
    return np.trace(S1) + np.trace(S2) - 2 * np.trace(linalg.sqrtm(r @ S2 @ r))


def gramian_trace(k, linalg):
    """trace of W with A W + W A^T + b b^T = 0, A = -diag(k, 2k)."""
    A = -np.diag(np.array([1.0, 2.0])) * k
    return np.trace(linalg.solve_continuous_lyapunov(A, -np.outer(B, B)))


def stiffness(k):
    """K of three masses between two walls, springs k0 .. k3."""
    return np.stack([np.stack([k[0] + k[1], -k[1], 0.0 * k[0]]),
                     np.stack([-k[1], k[1] + k[2], -k[2]]),
                     np.stack([0.0 * k[0], -k[2], k[2] + k[3]])])


def frequencies(k, linalg):
    """Squared natural frequencies: eigenvalues of K v = w M v."""
    return linalg.eigh(stiffness(k), MASSES, eigvals_only=True)


def central(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros(x.shape + np.shape(f(x)))
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def main(quick: bool = False) -> dict:
    import scipy.linalg as sl

    # 1. Bures distance
    at_min = reverse.gradient(lambda s: bures(s, reverse.linalg), S1.ravel())
    S2 = np.array([[1.0, 0.2], [0.2, 3.0]]).ravel()
    g_rev = reverse.gradient(lambda s: bures(s, reverse.linalg), S2)
    g_fwd = hyperdual.gradient(lambda s: bures(s, hyperdual.linalg), S2)
    g_fd = central(lambda s: bures(s, sl), S2)
    print(f"Bures: |gradient| at S2 = S1 {np.max(np.abs(at_min)):.1e}; at another S2 "
          f"reverse {np.round(g_rev, 6)}, |hyperdual - reverse| "
          f"{np.max(np.abs(g_fwd - g_rev)):.1e}, |central differences - reverse| "
          f"{np.max(np.abs(g_fd - g_rev)):.1e}")

    # 2. Gramian: W_ij = b_i b_j / (k (d_i + d_j)), trace = sum_i b_i^2 / (2 k d_i)
    ks = np.linspace(0.5, 3.0, 4 if quick else 12)
    closed = np.array([-sum(B[i] ** 2 / (2 * d * k * k) for i, d in enumerate((1.0, 2.0)))
                       for k in ks])
    dg_fwd = np.array([hyperdual.derivative(lambda t: gramian_trace(t, hyperdual.linalg), k)
                       for k in ks])
    dg_rev = np.array([reverse.derivative(lambda t: gramian_trace(t, reverse.linalg), k)
                       for k in ks])
    err_gramian = float(max(np.max(np.abs(dg_fwd - closed)), np.max(np.abs(dg_rev - closed))))
    print(f"Gramian: d trace W / dk at k = {ks[0]}: {dg_fwd[0]:.15f} (closed form "
          f"{closed[0]:.15f}); max error over {len(ks)} k: {err_gramian:.1e}")

    # 3. spring-mass chain: dw/dk_i = v^T (dK/dk_i) v, v M-normalised
    k0 = np.array([1.0, 2.0, 1.5, 0.8])
    jac = reverse.jacobian(lambda k: frequencies(k, reverse.linalg), k0)
    jac_fwd = hyperdual.jacobian(lambda k: frequencies(k, hyperdual.linalg), k0)
    w, v = sl.eigh(np.asarray(stiffness(k0)), MASSES)
    rayleigh = np.array([[v[:, j] @ hyperdual.jacobian(stiffness, k0)[..., i] @ v[:, j]
                          for i in range(4)] for j in range(3)])
    err_modes = float(max(np.max(np.abs(jac - rayleigh)), np.max(np.abs(jac_fwd - rayleigh))))
    print(f"springs: squared frequencies {np.round(w, 6)}; dw/dk against Rayleigh's "
          f"quotient: max error {err_modes:.1e}")

    figure = None
    plt = _figures.pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.plot(ks, closed, label="closed form")
        ax.plot(ks, dg_fwd, "o", ms=4, label="hyperdual")
        ax.plot(ks, dg_rev, "x", ms=6, label="reverse")
        ax.set_xlabel("k")
        ax.set_ylabel("d trace W / dk")
        ax.set_title("Gramian sensitivity through solve_continuous_lyapunov", fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        figure = _figures.save(fig, "scipy_linalg")
    return {"figure": figure,"bures_at_min": float(np.max(np.abs(at_min))),
            "bures_engines": float(np.max(np.abs(g_fwd - g_rev))),
            "bures_fd": float(np.max(np.abs(g_fd - g_rev))),
            "err_gramian": err_gramian, "err_modes": err_modes}


if __name__ == "__main__":
    args = _figures.parse_args(__doc__.splitlines()[0])
    main(quick=args.quick)
