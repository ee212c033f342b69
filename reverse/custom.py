"""Reverse mode for ``custom_jvp`` rules (the decorator lives in ``hyperdual.custom``).

A call of a custom function on ``Variable`` arguments records one
:class:`CustomRule` node.  Its forward evaluates the custom function on the
inputs' data (plain arrays, or ``hyperdual`` numbers for forward-over-reverse,
which the decorator handles itself).  Its backward uses the VJP rule if one is
set, else the transpose of the JVP rule: one JVP per input element,
``gx[j] = sum(gy * J e_j)``.  Both are numpy code, so with
``create_graph=True`` they run on Variables and record a graph again: every
order works from the one rule.

Examples
--------
>>> import numpy as np
>>> import reverse
>>> @reverse.custom_jvp
... def cube(x):
...     return x ** 3
>>> @cube.defjvp
... def _(primals, tangents):
...     (x,), (t,) = primals, tangents
...     return cube(x), 3 * x ** 2 * t
>>> reverse.derivative(cube, 2.0), reverse.second_derivative(cube, 2.0)
(12.0, 12.0)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hyperdual.custom import custom_jvp, register_engine

from .core import Function, Variable, _seed_dtype

__all__ = ["CustomRule", "custom_jvp"]


def _shape(a: Any) -> tuple:
    return tuple(getattr(a, "shape", np.shape(a) if isinstance(a, (float, int)) else ()))


class CustomRule(Function):
    """The graph node of a ``custom_jvp`` function called on Variables.

    Made by the decorator, not by hand: its backward uses the VJP rule (which,
    like the JVP rule, must be numpy code for ``create_graph`` to work on it)
    or, without one, the transposed JVP rule.

    Parameters
    ----------
    custom : custom_jvp
        The decorated function and its rules.
    args : tuple
        The full argument list of the call (Variables replaced by their data).
    nondiff : tuple
        Indices of the arguments declared non-differentiable.
    pos : list of int
        Positions in ``args`` of the graph inputs (the node's inputs, in order).

    Examples
    --------
    >>> import numpy as np
    >>> import reverse
    >>> f = reverse.custom_jvp(lambda x: 2.0 * x)
    >>> _ = f.defjvp(lambda p, t: (f(p[0]), 2.0 * t[0]))
    >>> y = f(reverse.Variable(np.array([1.0, 3.0])))
    >>> y.creator.name
    'custom_jvp[<lambda>]'
    >>> np.sum(y).backward()
    """

    def __init__(self, custom: custom_jvp, args: tuple, nondiff: tuple, pos: list[int]) -> None:
        self.custom = custom
        self.args = args
        self.nondiff = nondiff
        self.pos = pos

    @property
    def name(self) -> str:
        return f"custom_jvp[{self.custom._name}]"

    def _full(self, xs: tuple) -> list:
        full = list(self.args)
        for i, x in zip(self.pos, xs):
            full[i] = x
        return full

    def forward(self, *xs: Any) -> Any:
        y = self.custom(*self._full(xs))
        if isinstance(y, (tuple, list)):
            raise TypeError(f"custom_jvp {self.custom._name}: reverse mode supports functions "
                            "with one output (a number or an array)")
        if isinstance(y, (float, int, np.generic)):
            y = np.asarray(y, dtype=np.float64 if isinstance(y, (float, int)) else None)
        return y

    def backward(self, gy: Any, y: Any, *xs: Any) -> Any:
        custom = self.custom
        wanted = [isinstance(x, Variable) for x in self._inputs]
        if custom.vjp is not None:
            cts = custom.vjp(*self.nondiff, tuple(xs), y, gy)
            if not isinstance(cts, tuple):
                cts = (cts,)
            if len(cts) != len(xs):
                raise ValueError(f"custom_jvp {custom._name}: the VJP rule returned {len(cts)} "
                                 f"cotangents for {len(xs)} differentiable inputs")
            out = []
            for k, (ct, x, want) in enumerate(zip(cts, xs, wanted)):
                if want and ct is None:
                    raise ValueError(f"custom_jvp {custom._name}: the VJP rule returned None "
                                     f"for input {k}, which is being differentiated")
                if ct is not None and _shape(ct) != _shape(x):
                    raise ValueError(f"custom_jvp {custom._name}: the VJP rule returned a "
                                     f"cotangent of shape {_shape(ct)} for input {k} of shape "
                                     f"{_shape(x)}")
                out.append(ct if want else None)
            return tuple(out)
        # Transpose of the JVP rule, one column of J per input element.
        zeros = [_zero_like(x) for x in xs]
        grads = []
        for k, (x, want) in enumerate(zip(xs, wanted)):
            if not want:
                grads.append(None)
                continue
            shape = _shape(x)
            n = math.prod(shape)
            dt = _seed_dtype(getattr(x, "data", x))
            cols = []
            for j in range(n):
                e = np.zeros(n, dtype=dt)
                e[j] = 1.0
                tangents = list(zeros)
                tangents[k] = e.reshape(shape) if shape else np.array(1.0, dtype=dt)
                _, tout = custom.call_jvp(self.nondiff, xs, tangents)
                cols.append(np.sum(gy * tout))
            if not shape:
                grads.append(cols[0])
            else:
                grads.append(np.reshape(np.stack(cols), shape))
        return tuple(grads)


def _zero_like(x: Any) -> Any:
    shape = _shape(x)
    return np.zeros(shape, dtype=_seed_dtype(getattr(x, "data", x))) if shape else 0.0


def _call(custom: custom_jvp, args: tuple) -> Variable:
    nondiff, pos = custom.split_args(args)
    return CustomRule(custom, args, nondiff, pos)(*[args[i] for i in pos])


register_engine(lambda a: isinstance(a, Variable), _call)
