"""Double backprop: differentiate an expression that contains a gradient.

Part 1 -- the textbook example.  With y = x^2,

    z = (dy/dx)^3 + y = (2x)^3 + x^2,   so   dz/dx = 24x^2 + 2x = 100 at x = 2.

To get dz/dx, the derivative dy/dx must itself be part of the graph.
``y.backward(create_graph=True)`` builds the backward pass out of recorded
operations, so ``x.grad`` is a Variable with a creator; we compute z from it
and call ``z.backward()`` -- a second backward pass through the first one.

Part 2 -- where this matters: the gradient penalty of WGAN-GP (Gulrajani et
al. 2017).  A critic network D is trained with the extra loss

    penalty = mean_i (||grad_x D(x_i)|| - 1)^2,

which keeps D 1-Lipschitz.  The loss contains grad_x D, so its gradient with
respect to the weights is a second derivative (a mixed d^2 D / dx dW).  We
build a tiny critic from plain Variables (a tanh layer), take the penalty's
gradient with respect to every weight by double backprop, and check it
against central differences of a closed-form numpy penalty.  A few gradient
steps on the penalty then drive the gradient norms towards 1.

Run:  python examples/double_backprop.py [--quick]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reverse import Variable

from _figures import parse_args, pyplot, save

NAME = "double_backprop"


# ---------------------------------------------------------------- part 1


def dz_dx(x0: float) -> tuple[float, float, float]:
    """(dy/dx, z, dz/dx) at x0 for y = x^2, z = (dy/dx)^3 + y."""
    x = Variable(np.array(x0))
    y = x**2
    y.backward(create_graph=True)  # x.grad = 2x, recorded as a graph
    gx = x.grad
    z = gx**3 + y
    x.clear_grad()  # forget the first gradient before the second pass
    z.backward()
    return float(gx.data), float(z.data), float(x.grad.data)


# ---------------------------------------------------------------- part 2

SHAPES = {"W1": (2, 8), "b1": (8,), "w2": (8,), "b2": ()}


def init_params(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(scale=1.5, size=SHAPES["W1"]),
        "b1": rng.normal(scale=0.5, size=SHAPES["b1"]),
        "w2": rng.normal(scale=1.0, size=SHAPES["w2"]),
        "b2": np.array(0.1),
    }


def critic(x, p):
    """D(x) = tanh(x W1 + b1) w2 + b2, one score per row of x (plain numpy syntax)."""
    return np.tanh(x @ p["W1"] + p["b1"]) @ p["w2"] + p["b2"]


def penalty_and_grads(x_data: np.ndarray, params: dict) -> tuple[float, np.ndarray, dict]:
    """Gradient penalty, per-sample ||grad_x D||, and d penalty / d weights."""
    p = {k: Variable(v, name=k) for k, v in params.items()}
    x = Variable(x_data, name="x")
    scores = critic(x, p)
    # Rows are independent, so the gradient of sum(D) is each row's grad_x D(x_i).
    np.sum(scores).backward(create_graph=True)
    gx = x.grad  # a Variable: its graph depends on the weights
    norms = np.sqrt(np.sum(gx**2, axis=1))
    penalty = np.mean((norms - 1.0) ** 2)
    for v in (*p.values(), x):
        v.clear_grad()  # the first pass also filled the weights' grads
    penalty.backward()  # second backward: through the gradient graph
    grads = {k: (v.grad.data if v.grad is not None else np.zeros(np.shape(v.data)))
             for k, v in p.items()}
    return float(penalty.data), np.asarray(norms.data), grads


def penalty_numpy(x: np.ndarray, p: dict) -> float:
    """The same penalty in closed form: grad_x D(x_i) = W1 (w2 * (1 - h_i^2))."""
    h = np.tanh(x @ p["W1"] + p["b1"])
    gx = ((1.0 - h**2) * p["w2"]) @ p["W1"].T
    return float(np.mean((np.sqrt(np.sum(gx**2, axis=1)) - 1.0) ** 2))


def central_differences(x: np.ndarray, params: dict, eps: float = 1e-6) -> dict:
    out = {}
    for k, v in params.items():
        g = np.zeros(np.shape(v))
        for idx in np.ndindex(*np.shape(v)):
            plus = {**params, k: np.array(v, dtype=float)}
            minus = {**params, k: np.array(v, dtype=float)}
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (penalty_numpy(x, plus) - penalty_numpy(x, minus)) / (2 * eps)
        out[k] = g
    return out


def _plot(history: list, norms_before: np.ndarray, norms_after: np.ndarray) -> Path | None:
    plt = pyplot()
    if plt is None:
        return None
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(12, 3.6))
    xs = np.linspace(-2.5, 2.5, 101)
    ax1.plot(xs, 24 * xs**2 + 2 * xs, color="0.3", label="closed form $24x^2 + 2x$")
    ax1.plot(xs[::10], [dz_dx(float(v))[2] for v in xs[::10]], "o", color="tab:blue",
             label="double backprop")
    ax1.set_title("$z = (dy/dx)^3 + y$, $y = x^2$")
    ax1.set_xlabel("x")
    ax1.set_ylabel("dz/dx")
    ax1.legend(fontsize=8)
    ax2.semilogy(history, color="tab:red")
    ax2.set_title("gradient descent on the penalty")
    ax2.set_xlabel("step")
    ax2.set_ylabel(r"mean$(\|\nabla_x D\| - 1)^2$")
    idx = np.arange(len(norms_before))
    ax3.bar(idx - 0.2, norms_before, width=0.4, label="before", color="tab:gray")
    ax3.bar(idx + 0.2, norms_after, width=0.4, label="after", color="tab:red")
    ax3.axhline(1.0, color="k", lw=0.8, ls="--")
    ax3.set_title(r"$\|\nabla_x D(x_i)\|$ per sample")
    ax3.set_xlabel("sample i")
    ax3.legend(fontsize=8)
    fig.tight_layout()
    return save(fig, NAME)


def main(quick: bool = False) -> dict:
    print("Part 1: y = x^2, z = (dy/dx)^3 + y at x = 2")
    gy, z, gz = dz_dx(2.0)
    print(f"  dy/dx = {gy}   z = {z}   dz/dx = {gz}   (closed form 24x^2 + 2x = 100)")

    print("\nPart 2: WGAN-GP gradient penalty on a 2-8-1 tanh critic")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(6, 2))
    params = init_params()
    pen, norms, grads = penalty_and_grads(x, params)
    print(f"  ||grad_x D(x_i)|| = {np.array2string(norms, precision=3)}")
    print(f"  penalty = {pen:.12f}   (closed-form numpy: {penalty_numpy(x, params):.12f})")
    numeric = central_differences(x, params)
    print("  d penalty / d weights, double backprop vs central differences (eps = 1e-6):")
    max_err = 0.0
    for k in params:
        err = float(np.max(np.abs(grads[k] - numeric[k])))
        max_err = max(max_err, err)
        print(f"    {k:>2} shape {str(np.shape(params[k])):<7} max |exact| = "
              f"{float(np.max(np.abs(grads[k]))):.3e}   max |exact - FD| = {err:.1e}")
    print("    (b2 shifts D but not grad_x D: its gradient is exactly 0)")

    steps, lr = (30 if quick else 150), 0.1
    history, p = [pen], {k: np.array(v, dtype=float) for k, v in params.items()}
    for _ in range(steps):
        _, _, g = penalty_and_grads(x, p)
        p = {k: p[k] - lr * g[k] for k in p}
        history.append(penalty_numpy(x, p))
    _, norms_after, _ = penalty_and_grads(x, p)
    print(f"\n  {steps} gradient steps on the penalty (lr = {lr}): penalty {history[0]:.3e} -> "
          f"{history[-1]:.3e}")
    print(f"  ||grad_x D(x_i)|| now {np.array2string(norms_after, precision=3)}")
    path = _plot(history, norms, norms_after)
    return {
        "dy_dx": gy,
        "z": z,
        "dz_dx": gz,
        "penalty": pen,
        "penalty_numpy": penalty_numpy(x, params),
        "max_abs_err_vs_fd": max_err,
        "grad_b2": float(grads["b2"]),
        "penalty_history": np.array(history),
        "figure": path,
    }


if __name__ == "__main__":
    main(quick=parse_args(__doc__.splitlines()[0]).quick)
