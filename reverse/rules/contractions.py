"""Reverse-mode rules for contractions: ``einsum`` (any subscripts: repeated
labels, ellipses, implicit output, several operands, broadcasting),
``tensordot``, ``kron``, ``inner``, ``dot`` of any dimensions and ``vdot``.

``Einsum``'s backward for an operand is itself one einsum of the output
gradient with the other operands, written with ``np.einsum`` so that it
builds a graph on Variables (every order) and carries Duals in
forward-over-reverse.  Labels an operand repeats (a diagonal, ``"ii->i"``) get
the gradient back on the diagonal through identity factors; labels only that
operand has (summed out, ``"ij->i"``) through ones factors.  Operands that
numpy would broadcast (a size-1 axis against a longer one) are broadcast
explicitly first, so their gradient is summed back by ``BroadcastTo``.

``tensordot``, ``kron``, ``inner``, ``dot`` and ``vdot`` are the einsum
compositions of :mod:`_exactdiff.contractions`, shared with forward mode.

Examples
--------
>>> import numpy as np
>>> from reverse import gradient
>>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> gradient(lambda x: np.einsum("i,ij,j->", x, A, x), np.array([1.0, 1.0]))
array([ 7., 13.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _exactdiff import contractions as _c
from _exactdiff.statistics import as_dtype

from ..core import FUNCTIONS, UFUNCS, Function, Variable, _value
from ._util import _arg, _keep_zero_bilinear, _reject
from .products import dot
from .shape import broadcast_to

__all__ = ["Einsum", "einsum"]


def _contractions() -> Any:
    return _c


def _ndim(x: Any) -> int:
    return np.ndim(_value(x))


class Einsum(Function):
    """``np.einsum`` with explicit subscripts (see :func:`einsum`).

    Parameters
    ----------
    ins : list of str
        The subscripts of each operand (``["ij", "jk"]``).
    out : str
        The subscripts of the result.
    sizes : dict of str to int, optional
        Length of each label (for labels that are broadcast from length one).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> Einsum(["ij"], "ji")(Variable(np.ones((2, 3)))).shape
    (3, 2)
    """

    __slots__ = ("ins", "out", "sizes")

    def __init__(self, ins: list[str], out: str, sizes: dict[str, int] | None = None) -> None:
        self.ins = list(ins)
        self.out = out
        self.sizes = sizes or {}

    def forward(self, *xs: Any) -> Any:
        opt = _contractions().auto_optimize(xs, False)
        return np.einsum(",".join(self.ins) + "->" + self.out, *xs, optimize=opt)

    def backward(self, gy: Any, y: Any, *xs: Any) -> Any:
        grads = []
        for i, inp in enumerate(self._inputs):
            grads.append(self._grad(i, gy, xs) if isinstance(inp, Variable) else None)
        return tuple(grads)

    def _grad(self, i: int, gy: Any, xs: tuple) -> Any:
        lab = self.ins[i]
        subs = [self.out]
        ops: list[Any] = [gy]
        for j, x in enumerate(xs):
            if j != i:
                subs.append(self.ins[j])
                ops.append(x)
        present = set("".join(subs))
        dt = np.result_type(_value(xs[i]))
        dt = dt if dt.kind == "f" else np.float64
        used = set("".join(self.ins) + self.out)
        fresh = (c for c in _contractions()._LETTERS if c not in used)
        target = []
        seen = set()
        for c in lab:
            n = self.sizes[c]
            if c in seen:  # a repeated label: a fresh one tied by an identity
                f = next(fresh)
                subs.append(c + f)
                ops.append(np.eye(n, dtype=dt))
                target.append(f)
                continue
            seen.add(c)
            if c not in present:  # only this operand has it: broadcast by ones
                subs.append(c)
                ops.append(np.ones(n, dtype=dt))
                present.add(c)
            target.append(c)
        opt = _contractions().auto_optimize(ops, False)
        spec = ",".join(subs) + "->" + "".join(target)
        out = np.einsum(spec, *ops, optimize=opt)
        if len(xs) == 2:  # a zero cotangent times an inf/NaN entry stays 0 (guarded pass)
            extra = ops[2:]
            # (the other operand a constant of the graph: its zeros are structural too)
            const = not isinstance(self._inputs[1 - i], Variable)
            out = _keep_zero_bilinear(
                out, lambda p, q: np.einsum(spec, p, q, *extra, optimize=opt), gy, ops[1],
                const)
        return out


def einsum(*args: Any, out: Any = None, optimize: Any = False, **kwargs: Any) -> Variable:
    """``np.einsum`` of Variables and constants, every subscript form numpy accepts.

    Parameters
    ----------
    *args
        As for ``np.einsum``: a subscripts string and the operands, or the
        interleaved form ``(op0, [0, 1], op1, [1, 2], [0, 2])``.
    out : None
        Must be None (writing into an array would lose the graph).
    optimize : bool or str
        Accepted for numpy compatibility; the contraction order is chosen
        automatically.
    **kwargs
        ``casting="safe"``, ``order="K"`` and a floating ``dtype`` (the operands are
        cast to it, as numpy does) are accepted; others raise TypeError.

    Returns
    -------
    Variable
        The contraction, recorded in the graph.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.arange(4.0).reshape(2, 2))
    >>> y = einsum("ii", x)
    >>> y.backward()
    >>> x.grad
    variable([[1. 0.]
              [0. 1.]])
    """
    dtype = kwargs.pop("dtype", None)
    _reject("einsum", out=out, **{k: v for k, v in kwargs.items()
                                    if not (k == "casting" and v == "safe")
                                    and not (k == "order" and v in ("K", None))})
    ins, outs, ops = _contractions().parse_einsum(args, _ndim)
    # a floating dtype=: the operands cast to it, as numpy (others: TypeError)
    ops = [as_dtype("einsum", _arg(o, "einsum"), dtype, kwargs.get("casting", "safe"))
           for o in ops]
    sizes: dict[str, int] = {}
    for lab, o in zip(ins, ops):
        for c, n in zip(lab, np.shape(_value(o))):
            if n != 1 or c not in sizes:
                if c in sizes and sizes[c] != 1 and n != sizes[c]:
                    raise ValueError(f"einsum: operands could not be broadcast together "
                                     f"(label {c!r}: {sizes[c]} and {n})")
                sizes[c] = n
    fixed = []
    for lab, o in zip(ins, ops):
        shape = tuple(sizes[c] for c in lab)
        if isinstance(o, Variable) and o.shape != shape:
            o = broadcast_to(o, shape)
        elif not isinstance(o, Variable) and np.shape(_value(o)) != shape:
            o = np.broadcast_to(o, shape)
        fixed.append(o)
    if not any(isinstance(o, Variable) for o in fixed):
        fixed[0] = Variable(fixed[0])
    return Einsum(ins, outs, sizes)(*fixed)


def _np_tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    return _contractions().tensordot(a, b, axes)


def _np_kron(a: Any, b: Any) -> Any:
    return _contractions().kron(a, b)


def _np_inner(a: Any, b: Any) -> Any:
    return _contractions().inner(a, b)


def _np_vdot(a: Any, b: Any) -> Any:
    return _contractions().vdot(a, b)


def _np_dot(a: Any, b: Any, out: Any = None) -> Any:
    _reject("dot", out=out)
    if _ndim(a) <= 2 and _ndim(b) <= 2:
        return dot(a, b)
    return _contractions().dot(a, b)


FUNCTIONS.update({
    np.einsum: einsum,
    np.tensordot: _np_tensordot,
    np.kron: _np_kron,
    np.inner: _np_inner,
    np.vdot: _np_vdot,
    np.dot: _np_dot,
    np.cross: _c.cross,
})

# numpy 2's gufuncs vecdot, matvec, vecmat: reverse.core's ufunc dispatch sends them
# (with their keywords) to _exactdiff.contractions.gufunc; listed here as ufuncs
for _uf, _name in _c.GUFUNCS.items():
    UFUNCS[_uf] = lambda a, b, _name=_name: _c.gufunc(_name, (a, b), {})
