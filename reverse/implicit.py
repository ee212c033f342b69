"""Implicit differentiation through solvers, for reverse mode.

The same functions as :mod:`hyperdual.implicit` (one implementation: scipy
solves on floats).  With ``Variable`` parameters the solution ``x*`` becomes one
node of the graph, :class:`ImplicitSolution`, whose backward pass is the
implicit function theorem at the solution:

    gp = -(∂f/∂p)ᵀ w,   (∂f/∂x)ᵀ w = gy,

with ``∂f/∂x`` from :func:`reverse.jacobian` and ``(∂f/∂p)ᵀ w`` from
:func:`reverse.vjp`, both evaluated at the node's own output.  Under
``create_graph`` those helpers record their work (they are nested in the
backward pass), and differentiating it again reaches the solution node again:
derivatives of every order are exact.  On ``hyperdual`` data (forward-over-
reverse) the forward value carries the Dual parts by the chord corrections of
:mod:`hyperdual.implicit`.

Examples
--------
>>> import reverse
>>> reverse.derivative(lambda a: root(lambda x, b: x ** 2 - b, 1.0, a), 4.0)
0.25
>>> reverse.second_derivative(lambda a: root(lambda x, b: x ** 2 - b, 1.0, a), 4.0)
-0.03125
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hyperdual import implicit as _hd_implicit
from hyperdual.implicit import REVERSE_ORDER, fixed_point, minimize, root, root_scalar

from .core import Function, Variable

__all__ = ["REVERSE_ORDER", "ImplicitSolution", "fixed_point", "minimize", "root",
           "root_scalar"]


class ImplicitSolution(Function):
    """``x*(params)`` with ``f(x*, *params) = 0``, differentiated by the implicit
    function theorem (see the module docstring).

    Parameters
    ----------
    f : callable
        The residual ``f(x, *params)`` (plain numpy).
    x : ndarray
        The solution at the parameters' float values (polished).
    J : ndarray
        ``∂f/∂x`` there, as an (n, n) matrix (for the forward pass's corrections).
    name : str
        The wrapper's name, for error messages.

    Examples
    --------
    The wrappers (:func:`root`, :func:`fixed_point` ...) make these nodes.  By
    hand: ``x* = sqrt(p)`` solves ``x**2 - p = 0``, so at p = 4 the first and
    second derivatives are ``1 / (2 sqrt(p)) = 0.25`` and
    ``-p**-1.5 / 4 = -0.03125``:

    >>> import numpy as np
    >>> p = Variable(np.array([4.0]))
    >>> node = ImplicitSolution(lambda x, p: x ** 2 - p, np.array([2.0]),
    ...                         np.array([[4.0]]), "sqrt")
    >>> x = node(p)
    >>> x.backward(create_graph=True)
    >>> x, p.grad
    (variable([2.]), variable([0.25]))
    >>> g = p.grad
    >>> p.clear_grad()
    >>> g.backward()
    >>> p.grad
    variable([-0.03125])
    """

    def __init__(self, f: Callable, x: np.ndarray, J: np.ndarray, name: str) -> None:
        self.f = f
        self.x = x
        self.J = J
        self.fname = name

    def forward(self, *params: Any) -> Any:
        # plain data: the float solution; Dual data (forward-over-reverse): chord
        # corrections carry its parts, exact to the order they hold
        z = _hd_implicit._corrected(self.f, self.x, self.J, params, None, self.fname)
        return np.asarray(z) if isinstance(z, float) else z

    def backward(self, gy: Any, y: Any, *params: Any) -> Any:
        from .helpers import jacobian, vjp

        shape = np.shape(y.data if isinstance(y, Variable) else y)
        n = int(np.prod(shape, dtype=np.int64))
        f = self.f
        Jx = np.reshape(jacobian(lambda z: f(z, *params), y), (n, n))
        w = np.reshape(np.linalg.solve(np.transpose(Jx), np.reshape(gy, (n,))), shape)
        grads = []
        for i, p in enumerate(params):
            if not isinstance(p, Variable) and not _carries(p):
                grads.append(None)
                continue

            def f_i(q: Any, i: int = i) -> Any:
                return f(y, *params[:i], q, *params[i + 1:])

            g = -vjp(f_i, p, w)[1]
            # vjp returns a Python float for a scalar parameter: a cotangent is an
            # array (the next backward reads its .shape)
            grads.append(np.asarray(g) if type(g) is float else g)
        return tuple(grads)


def _carries(p: Any) -> bool:
    """A parameter that is a graph input here (raw pass: its data stands in)."""
    return isinstance(p, np.ndarray) or type(p).__module__.startswith("hyperdual") or \
        isinstance(p, (float, int))


def _solution_node(f: Callable, x: np.ndarray, J: np.ndarray, params: tuple, name: str
                   ) -> Variable:
    return ImplicitSolution(f, x, J, name)(*params)


_hd_implicit.register_variable_solution(_solution_node)
