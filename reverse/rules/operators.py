"""Variable's operators (``x + y``, ``x @ W``, ``x[i]``, comparisons ...), installed
on :class:`reverse.Variable` from the rule families, and the operations
:mod:`reverse.core` needs (copy, reshape, sum, scatter and ``Anchor``).  The
ndarray-style methods (``x.max()``, ``x.astype`` ...) are defined and documented
on the class in :mod:`reverse.core`.

``AsType`` is the Function behind ``astype``; ``Anchor`` ties a gradient to an
input with derivative 0 (see ``core._run_backward``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import core
from ..core import Function, Variable, _const, _value
from ..utils import scatter_add
from ._util import _zeros
from .binary import Add, Divide, Multiply, Power, Subtract
from .indexing import GetItem, _index_arg
from .products import MatMul
from .reductions import sum  # noqa: A004
from .shape import reshape, transpose
from .unary import _UNARY_CLASSES

# Nothing here is meant to be called by name: the operators and methods are
# Variable's; AsType and Anchor are internal (also reachable from reverse.functions).
__all__: list[str] = []


# ----------------------------------------------------------------------------
# Internal: Anchor (see core._run_backward)
# ----------------------------------------------------------------------------


class AsType(Function):
    """Cast to a float dtype; the gradient is cast back to the input's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> AsType(np.float32)(Variable([1.0])).dtype
    dtype('float32')
    """

    __slots__ = ("dtype",)

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)

    def forward(self, x: Any) -> Any:
        return x.astype(self.dtype)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        dt = core._seed_dtype(x)
        return gy if gy.dtype == dt else gy.astype(dt)


class Anchor(Function):
    """Return ``g`` unchanged while depending (with derivative 0) on ``x``.

    Examples
    --------
    >>> from reverse import Variable
    >>> Anchor()(2.0, Variable(1.0))
    variable(2.)
    """

    __slots__ = ()

    @staticmethod
    def forward(g: Any, x: Any) -> Any:
        return g

    def backward(self, gy: Any, y: Any, g: Any, x: Any) -> Any:
        return gy, _zeros(x)


# ----------------------------------------------------------------------------
# Operators on Variable
# ----------------------------------------------------------------------------


def _install_operators() -> None:
    def binary(cls: type) -> tuple[Any, Any]:
        def op(self: Variable, other: Any) -> Any:
            if not isinstance(other, Variable):
                other = _const(other)
                if other is None:
                    return NotImplemented
            return cls()(self, other)

        def rop(self: Variable, other: Any) -> Any:
            other = _const(other)
            if other is None:
                return NotImplemented
            return cls()(other, self)

        return op, rop

    for cls, name in ((Add, "add"), (Subtract, "sub"), (Multiply, "mul"),
                      (Divide, "truediv"), (Power, "pow"), (MatMul, "matmul")):
        op, rop = binary(cls)
        op.__name__, rop.__name__ = f"__{name}__", f"__r{name}__"
        setattr(Variable, f"__{name}__", op)
        setattr(Variable, f"__r{name}__", rop)

    for name, cls_name in (("neg", "Negative"), ("pos", "Positive"), ("abs", "Absolute")):
        cls = _UNARY_CLASSES[cls_name]
        setattr(Variable, f"__{name}__", lambda self, cls=cls: cls()(self))
    # (a slice, the usual index, cannot hold a Variable: no check)
    Variable.__getitem__ = lambda self, index: GetItem(
        index if type(index) is slice else _index_arg(index))(self)

    def compare(ufunc: Any) -> Any:
        def op(self: Variable, other: Any) -> Any:
            if not isinstance(other, Variable):
                other = _const(other)
                if other is None:
                    return NotImplemented
            return ufunc(_value(self), _value(other))
        return op

    for name, uf in (("lt", np.less), ("le", np.less_equal), ("gt", np.greater),
                     ("ge", np.greater_equal), ("eq", np.equal), ("ne", np.not_equal)):
        setattr(Variable, f"__{name}__", compare(uf))

    # max/min/mean/prod/squeeze/astype/item... are Variable methods (reverse.core),
    # documented there; they call the functions of reverse.functions.

    # copy.copy / copy.deepcopy of a Variable: np.positive, a new array in the graph
    core._OPS.copy = lambda x, deep: _UNARY_CLASSES["Positive"]()(x)
    core._OPS.transpose = transpose
    core._OPS.reshape = reshape
    core._OPS.sum = sum
    core._OPS.anchor = lambda g, x: Anchor()(g, x)
    core._OPS.scatter = scatter_add


_install_operators()
