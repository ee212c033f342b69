"""Optional peers, detected at import time and never required.

Each adapter builds zero-argument callables for the figures it can take part
in, or returns None where it does not apply.  Nothing here installs anything:
a peer that is not importable is simply absent from the tables.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable

import numpy as np

from .problems import chain, rosen, rosen_loop, wide

__all__ = ["PEERS", "available", "versions"]

Thunk = Callable[[], object]


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


class Peer:
    name = "?"
    dist = "?"
    module = "?"
    max_n = {"gradient": 10**9, "hessian": 10**9, "hvp": 10**9}

    def available(self) -> bool:
        try:
            importlib.import_module(self.module)
        except Exception:  # noqa: BLE001 - any failure means "not available"
            return False
        return True

    # each returns a thunk or None
    def dual_chain(self, steps: int) -> Thunk | None:
        return None

    def fwd_bwd_chain(self, steps: int) -> Thunk | None:
        return None

    def fwd_bwd_wide(self, consts: list[float]) -> Thunk | None:
        return None

    def gradient(self, x: np.ndarray) -> Thunk | None:
        return None

    def hvp(self, x: np.ndarray, v: np.ndarray) -> Thunk | None:
        return None

    def hessian(self, x: np.ndarray) -> Thunk | None:
        return None

    def value_and_grad(self) -> Callable[[np.ndarray], tuple[float, np.ndarray]] | None:
        return None

    def gaussian(self, kind: str, k: np.ndarray, y: np.ndarray,
                 theta: np.ndarray) -> Thunk | None:
        """Gradient (``kind='gradient'``) or Hessian of ``problems.gaussian_nll``."""
        return None

    def taylor_kth(self, steps: int, k: int) -> Thunk | None:
        """The k-th derivative of ``problems.chain`` at 0.5 (figure 10); returns a float."""
        return None


class Autograd(Peer):
    name = "autograd"
    dist = "autograd"
    module = "autograd"

    def _rosen(self):
        import autograd.numpy as anp

        def f(x):
            return anp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

        return f

    def fwd_bwd_chain(self, steps):
        import autograd
        import autograd.numpy as anp

        g = autograd.grad(lambda x: chain(anp.sin, x, steps))
        return lambda: g(0.5)

    def fwd_bwd_wide(self, consts):
        import autograd
        import autograd.numpy as anp

        g = autograd.grad(lambda x: wide(anp.sin, x, consts))
        return lambda: g(0.5)

    def gradient(self, x):
        import autograd

        g = autograd.grad(self._rosen())
        return lambda: g(x)

    def hvp(self, x, v):
        import autograd

        h = autograd.hessian_vector_product(self._rosen())
        return lambda: h(x, v)

    def hessian(self, x):
        import autograd

        h = autograd.hessian(self._rosen())
        return lambda: h(x)

    def value_and_grad(self):
        import autograd

        return autograd.value_and_grad(self._rosen())

    def gaussian(self, kind, k, y, theta):
        import autograd
        import autograd.numpy as anp

        def f(t):
            s = k + anp.eye(k.shape[0]) * anp.exp(t)
            return 0.5 * anp.linalg.slogdet(s)[1] + 0.5 * anp.dot(y, anp.linalg.solve(s, y))

        d = autograd.grad(f) if kind == "gradient" else autograd.hessian(f)
        return lambda: d(theta)


class Torch(Peer):
    name = "torch"
    dist = "torch"
    module = "torch"

    @staticmethod
    def _rosen(x):
        import torch

        return torch.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    def fwd_bwd_chain(self, steps):
        import torch

        def run():
            x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
            chain(torch.sin, x, steps).backward()
            return x.grad

        return run

    def fwd_bwd_wide(self, consts):
        import torch

        def run():
            x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
            wide(torch.sin, x, consts).backward()
            return x.grad

        return run

    def gradient(self, x):
        import torch

        def run():
            xt = torch.from_numpy(x).requires_grad_(True)
            self._rosen(xt).backward()
            return xt.grad.numpy()

        return run

    def hvp(self, x, v):
        import torch

        vt = torch.from_numpy(v)

        def run():
            xt = torch.from_numpy(x).requires_grad_(True)
            (g,) = torch.autograd.grad(self._rosen(xt), xt, create_graph=True)
            (hv,) = torch.autograd.grad(g, xt, grad_outputs=vt)
            return hv.numpy()

        return run

    def hessian(self, x):
        import torch

        xt = torch.from_numpy(x)
        return lambda: torch.autograd.functional.hessian(self._rosen, xt).numpy()

    def taylor_kth(self, steps, k):
        import torch

        def run():  # nested autograd.grad with create_graph: PyTorch has no Taylor mode
            x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
            y = chain(torch.sin, x, steps)
            for _ in range(k):
                (y,) = torch.autograd.grad(y, x, create_graph=True)
            return float(y)

        return run

    def value_and_grad(self):
        import torch

        def vg(x):
            xt = torch.from_numpy(np.array(x, dtype=float)).requires_grad_(True)
            y = self._rosen(xt)
            y.backward()
            return float(y), xt.grad.numpy().copy()

        return vg


class Jax(Peer):
    """JAX without jit (op by op, as the issue's 'no jit' column)."""

    name = "jax"
    dist = "jax"
    module = "jax"
    jit = False

    def _setup(self):
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)

        def f(x):
            return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

        return jax, jnp, f

    def _wrap(self, fn):
        import jax

        fn = jax.jit(fn) if self.jit else fn
        return lambda *a: jax.block_until_ready(fn(*a))

    def fwd_bwd_chain(self, steps):
        jax, jnp, _ = self._setup()
        g = self._wrap(jax.grad(lambda x: chain(jnp.sin, x, steps)))
        x0 = jnp.asarray(0.5)
        return lambda: g(x0)

    def gradient(self, x):
        jax, jnp, f = self._setup()
        g = self._wrap(jax.grad(f))
        xj = jnp.asarray(x)
        return lambda: g(xj)

    def hvp(self, x, v):
        jax, jnp, f = self._setup()
        g = jax.grad(f)
        h = self._wrap(lambda x, v: jax.jvp(g, (x,), (v,))[1])
        xj, vj = jnp.asarray(x), jnp.asarray(v)
        return lambda: h(xj, vj)

    def hessian(self, x):
        jax, jnp, f = self._setup()
        h = self._wrap(jax.hessian(f))
        xj = jnp.asarray(x)
        return lambda: h(xj)

    def taylor_kth(self, steps, k):
        # jax.experimental.jet: Taylor mode; its series terms are the derivatives
        # d^j/dt^j (not divided by j!), so the k-th output term is f^(k)
        jax, jnp, _ = self._setup()
        from jax.experimental.jet import jet

        series = ([1.0] + [0.0] * (k - 1),)
        run = self._wrap(lambda x: jet(lambda y: chain(jnp.sin, y, steps), (x,), series)[1][-1])
        x0 = jnp.asarray(0.5)
        return lambda: float(run(x0))

    def value_and_grad(self):
        jax, jnp, f = self._setup()
        vg = self._wrap(jax.value_and_grad(f))

        def run(x):
            v, g = vg(jnp.asarray(x))
            return float(v), np.asarray(g, dtype=float)

        return run


class JaxJit(Jax):
    name = "jax-jit"
    jit = True


class NumDual(Peer):
    """num-dual: compiled scalar duals, called from a Python loop (rosen_loop)."""

    name = "num-dual"
    dist = "num-dual"
    module = "num_dual"
    # its gradient carries an n-vector per scalar (n^2 memory): n = 10^5 needs 80 GB
    max_n = {"gradient": 100, "hessian": 100, "hvp": 0}

    def dual_chain(self, steps):
        import num_dual as nd

        return lambda: chain(lambda y: y.sin(), nd.Dual64(0.5, 1.0), steps)

    def gradient(self, x):
        import num_dual as nd

        xl = [float(t) for t in x]
        return lambda: nd.gradient(rosen_loop, xl)

    def hessian(self, x):
        import num_dual as nd

        xl = [float(t) for t in x]
        return lambda: nd.hessian(rosen_loop, xl)

    def value_and_grad(self):
        import num_dual as nd

        def vg(x):
            v, g = nd.gradient(rosen_loop, x.tolist())
            return v, np.array(g)

        return vg


class Ad(Peer):
    """`ad` (pure Python, object arrays of ADV through the numpy f)."""

    name = "ad"
    dist = "ad"
    module = "ad"
    max_n = {"gradient": 10, "hessian": 10, "hvp": 0}

    def dual_chain(self, steps):
        import ad
        from ad import admath

        return lambda: chain(admath.sin, ad.adnumber(0.5), steps)

    def gradient(self, x):
        import ad

        grad, _ = ad.gh(lambda x: rosen(np.asarray(x)))
        xl = x.tolist()
        return lambda: grad(xl)

    def hessian(self, x):
        import ad

        _, hess = ad.gh(lambda x: rosen(np.asarray(x)))
        xl = x.tolist()
        return lambda: hess(xl)


PEERS: list[Peer] = [Autograd(), Torch(), Jax(), JaxJit(), NumDual(), Ad()]


def available() -> list[Peer]:
    return [p for p in PEERS if p.available()]


def versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for p in PEERS:
        out[p.dist] = _version(p.dist) if p.available() else None
    return out
