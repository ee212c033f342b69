"""Reverse-mode rules of the matrix products: ``@``/``matmul`` (``MatMul``),
``dot`` (at most 2-d), ``outer`` and the dense layer ``linear``.

``MatMul``'s backward is two more matrix products (with numpy's promotion of
1-d operands and batch broadcasting undone by ``sum_to``), so every order of
derivative is again a product.  ``einsum``, ``tensordot``, ``kron`` and ``dot``
of any dimensions are in :mod:`reverse.rules.contractions`.

Examples
--------
>>> import numpy as np
>>> from reverse import Variable
>>> W = Variable(np.eye(2))
>>> np.sum(W @ np.array([1.0, 2.0])).backward()
>>> W.grad
variable([[1. 2.]
          [1. 2.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import FUNCTIONS, UFUNCS, Function, Variable, _value
from ..utils import sum_to
from ._util import _arg, _keep_constant_zero, _keep_zero, _keep_zero_bilinear, _reject
from .binary import Multiply
from .shape import reshape

__all__ = ["MatMul", "matmul", "dot", "outer", "linear"]


def _swap_last(x: Any) -> Any:
    nd = len(x.shape)
    axes = list(range(nd))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return np.transpose(x, axes)


class MatMul(Function):
    """``a @ b`` with numpy's rules for 1-d operands and batch broadcasting.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> MatMul()(Variable(np.eye(2)), np.array([1.0, 2.0]))
    variable([1. 2.])
    """

    __slots__ = ()

    @staticmethod
    def forward(a: Any, b: Any) -> Any:
        return np.matmul(a, b)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        wa, wb = isinstance(ia, Variable), isinstance(ib, Variable)
        a_shape, b_shape = a.shape, b.shape
        if len(a_shape) == 1 and len(b_shape) == 1:  # (a constant's zeros: structural)
            ga = _keep_zero(gy, gy * b) if wa else None
            gb = _keep_zero(gy, gy * a) if wb else None
            return (_keep_constant_zero(ga, b) if not wb else ga,
                    _keep_constant_zero(gb, a) if not wa else gb)
        # Promote 1-d operands to matrices the way matmul does, then undo it.
        if len(a_shape) == 1:
            a = np.reshape(a, (1,) + a_shape)
            gy = np.reshape(gy, gy.shape[:-1] + (1, gy.shape[-1]))
        if len(b_shape) == 1:
            b = np.reshape(b, b_shape + (1,))
            gy = np.reshape(gy, gy.shape + (1,))
        ga = gb = None
        # a zero cotangent times an inf/NaN operand entry stays 0 (guarded pass)
        if wa:
            ga = _keep_zero_bilinear(np.matmul(gy, _swap_last(b)),
                                     lambda p, q: np.matmul(p, _swap_last(q)), gy, b, not wb)
            ga = np.reshape(sum_to(ga, a.shape), a_shape)
        if wb:
            gb = _keep_zero_bilinear(np.matmul(_swap_last(a), gy),
                                     lambda p, q: np.matmul(_swap_last(q), p), gy, a, not wa)
            gb = np.reshape(sum_to(gb, b.shape), b_shape)
        return ga, gb


def matmul(a: Any, b: Any) -> Variable:
    """Matrix product ``a @ b`` (numpy semantics), recorded in the graph.

    Parameters
    ----------
    a, b : Variable or array_like
        The operands (stacks of matrices broadcast, 1-d operands are vectors).  Constants are not
        differentiated.

    Returns
    -------
    Variable
        ``a @ b``.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> W = Variable(np.ones((2, 3)))
    >>> y = matmul(np.array([1.0, 2.0]), W)
    >>> y.sum().backward()
    >>> W.grad.data
    array([[1., 1., 1.],
           [2., 2., 2.]])
    """
    return MatMul()(_arg(a, "matmul"), _arg(b, "matmul"))


UFUNCS[np.matmul] = matmul


def dot(a: Any, b: Any) -> Variable:
    """``np.dot`` of two operands (0-d multiplies; N-d contracts as numpy does).

    Parameters
    ----------
    a, b : Variable or array_like
        The operands, any number of dimensions as numpy accepts.  Constants are not
        differentiated.

    Returns
    -------
    Variable
        ``np.dot(a, b)``.

    Examples
    --------
    >>> from reverse import Variable
    >>> dot(Variable([1.0, 2.0]), [3.0, 4.0])
    variable(11.)
    """
    a, b = _arg(a, "dot"), _arg(b, "dot")
    na, nb = len(np.shape(_value(a))), len(np.shape(_value(b)))
    if na == 0 or nb == 0:
        return Multiply()(a, b)
    if na > 2 or nb > 2:
        # numpy's N-d dot is a contraction: the shared rule (contractions
        # builds on this module, hence the late import)
        from _exactdiff.contractions import dot as nd_dot

        return nd_dot(a, b)
    return MatMul()(a, b)


def outer(a: Any, b: Any) -> Variable:
    """Outer product of the flattened operands.

    Parameters
    ----------
    a, b : Variable or array_like
        The operands (flattened first).  Constants are not
        differentiated.

    Returns
    -------
    Variable
        Shape ``(a.size, b.size)``, entries ``a[i] * b[j]``.

    Examples
    --------
    >>> from reverse import Variable
    >>> outer(Variable([1.0, 2.0]), [1.0, 0.0, -1.0]).shape
    (2, 3)
    """
    a, b = _arg(a, "outer"), _arg(b, "outer")
    # (a constant stays one: Multiply takes its zeros as structural)
    return Multiply()(reshape(a, (-1, 1)) if isinstance(a, Variable) else np.reshape(a, (-1, 1)),
                      reshape(b, (1, -1)) if isinstance(b, Variable) else np.reshape(b, (1, -1)))


def linear(x: Any, W: Any, b: Any = None) -> Variable:
    """Affine map ``x @ W + b`` (a dense layer without activation).

    Parameters
    ----------
    x : Variable or array_like, shape (N, I)
        Inputs, one row per sample.
    W : Variable or array_like, shape (I, O)
        Weights.
    b : Variable or array_like, shape (O,), optional
        Bias (None: no bias).

    Returns
    -------
    Variable
        ``x @ W + b``, shape (N, O).

    Examples
    --------
    >>> import numpy as np
    >>> y = linear(np.ones((4, 3)), np.ones((3, 2)), np.zeros(2))
    >>> y.shape
    (4, 2)
    """
    y = matmul(x, W)
    if b is not None:
        y = y + _arg(b, "linear")
    return y


def _np_outer(a: Any, b: Any, out: Any = None) -> Variable:
    _reject("outer", out=out)
    return outer(a, b)


FUNCTIONS.update({
    np.outer: _np_outer,
})
