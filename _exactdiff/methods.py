"""ndarray methods for the engines' values, each the numpy function of the same name.

``x.repeat(2)``, ``x.take(i)``, ``x.round(3)``, ``x.argsort()``, ``x.mT`` ... on a Dual,
HyperDual, Taylor number or reverse Variable are ``np.repeat(x, 2)`` and so on, so the
same dispatch and rules apply (the index-valued ones return plain arrays).  The
methods that work in place on an ndarray (``sort``, ``partition``, ``fill``, ``put``,
``resize``) raise ``TypeError`` naming the function to use instead: the engines' values
are immutable.  Each engine's classes list this mixin as a base, after their own
methods (which win).

Examples
--------
>>> import numpy as np
>>> class Box(ArrayMethods):
...     def __init__(self, a):
...         self.a = a
...     def __array_function__(self, func, types, args, kwargs):
...         return func(*[x.a if isinstance(x, Box) else x for x in args], **kwargs)
>>> Box(np.array([3.0, 1.0])).repeat(2)
array([3., 3., 1., 1.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ArrayMethods"]


def _in_place(name: str, instead: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        engine = type(self).__module__.split(".", 1)[0]
        raise TypeError(f"{engine}: {type(self).__name__}.{name}() works in place on an "
                        f"ndarray, and differentiated values are immutable; use {instead}")
    method.__name__ = name
    method.__doc__ = f"Refused (in place on an ndarray): use {instead}."
    return method


#: ndarray attributes the engines' values do not have: the memory, buffer and
#: serialisation API of a plain array (numbers without derivative parts), and ``real``
#: on a Variable (a Dual's ``real`` is its value part: DESIGN.md's API)
_PLAIN_ARRAY_ONLY = frozenset({
    "base", "byteswap", "choose", "ctypes", "data", "device", "dump", "dumps", "flags",
    "flat", "getfield", "itemsize", "nbytes", "real", "setfield", "setflags", "strides",
    "to_device", "tobytes", "tofile", "view"})


def _value_hint(obj: Any) -> str:
    return ".data" if type(obj).__name__ == "Variable" else ".real"


class _PlainArrayOnly:
    """A non-data descriptor for an ndarray attribute the engines' values do not
    have: reading it raises an AttributeError naming the engine and the way out.

    Not ``__getattr__`` on the mixin: a class with ``__getattr__`` gets CPython's
    slow attribute hook, and its ``LOAD_ATTR`` is no longer specialised, for every
    attribute, found or not (the scalar Dual chain of benchmark figure 1 went from
    1.6x to 2.4x the minimal dual class).  A non-data descriptor gives way to an
    instance attribute of the same name and to a subclass's own (a Variable's
    ``.data``, a Dual's ``.real``), so only the missing ones reach it."""

    __slots__ = ("name",)

    def __set_name__(self, owner: Any, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        name = self.name
        engine = type(obj).__module__.split(".", 1)[0]
        if name == "real":
            way = "write np.real(x), which keeps the derivative (the value is x.data)"
        else:
            way = (f"it belongs to a plain array's memory or buffer, which would drop "
                   f"the derivative; take the value ({_value_hint(obj)}) for the "
                   f"numbers alone")
        raise AttributeError(f"{engine}: {type(obj).__name__} has no .{name} (an "
                             f"ndarray attribute): {way}")


class ArrayMethods:
    """Mixin: the ndarray methods that are numpy functions of the value."""

    __slots__ = ()

    def tolist(self) -> Any:
        """The elements as nested lists of 0-d values of this engine (each keeps its
        derivative; ``ndarray.tolist`` would give plain Python numbers).

        Examples
        --------
        >>> import reverse
        >>> x = reverse.Variable([[1.0, 2.0]])
        >>> rows = x.tolist()
        >>> len(rows), len(rows[0]), type(rows[0][1]).__name__
        (1, 2, 'Variable')
        """
        if np.ndim(self) == 0:
            return self
        return [self[i].tolist() for i in range(np.shape(self)[0])]

    def repeat(self, repeats: Any, axis: Any = None) -> Any:
        """``np.repeat(self, repeats, axis)``."""
        return np.repeat(self, repeats, axis=axis)

    def take(self, indices: Any, axis: Any = None, out: Any = None,
             mode: str = "raise") -> Any:
        """``np.take(self, indices, axis)``."""
        return np.take(self, indices, axis=axis, out=out, mode=mode)

    def compress(self, condition: Any, axis: Any = None, out: Any = None) -> Any:
        """``np.compress(condition, self, axis)``."""
        return np.compress(condition, self, axis=axis, out=out)

    def cumprod(self, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        """``np.cumprod(self, axis)``."""
        return np.cumprod(self, axis=axis, dtype=dtype, out=out)

    def round(self, decimals: int = 0, out: Any = None) -> Any:
        """``np.round(self, decimals)`` (derivative 0 almost everywhere)."""
        return np.round(self, decimals=decimals, out=out)

    def conj(self) -> Any:
        """``np.conjugate(self)``: the value itself for real numbers."""
        return np.conjugate(self)

    conjugate = conj

    @property
    def imag(self) -> Any:
        """``np.imag(self)``: a constant zero for real numbers."""
        return np.imag(self)

    @property
    def mT(self) -> Any:  # noqa: N802  (numpy's name)
        """The matrix transpose, ``np.swapaxes(self, -1, -2)``."""
        return np.swapaxes(self, -1, -2)

    # the index- and truth-valued methods: plain arrays of the values
    def all(self, axis: Any = None, keepdims: bool = False) -> Any:
        """``np.all(self, axis)``."""
        return np.all(self, axis=axis, keepdims=keepdims)

    def any(self, axis: Any = None, keepdims: bool = False) -> Any:
        """``np.any(self, axis)``."""
        return np.any(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis: Any = None, keepdims: bool = False) -> Any:
        """``np.argmax(self, axis)``."""
        return np.argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis: Any = None, keepdims: bool = False) -> Any:
        """``np.argmin(self, axis)``."""
        return np.argmin(self, axis=axis, keepdims=keepdims)

    def argsort(self, axis: Any = -1, kind: Any = None, order: Any = None) -> Any:
        """``np.argsort(self, axis)``."""
        return np.argsort(self, axis=axis, kind=kind, order=order)

    def argpartition(self, kth: Any, axis: Any = -1, kind: str = "introselect",
                     order: Any = None) -> Any:
        """``np.argpartition(self, kth, axis)``."""
        return np.argpartition(self, kth, axis=axis, kind=kind, order=order)

    def nonzero(self) -> Any:
        """``np.nonzero(self)``."""
        return np.nonzero(self)

    def searchsorted(self, v: Any, side: str = "left", sorter: Any = None) -> Any:
        """``np.searchsorted(self, v, side)``."""
        return np.searchsorted(self, v, side=side, sorter=sorter)

    sort = _in_place("sort", "np.sort(x)")
    partition = _in_place("partition", "np.partition(x, kth)")
    fill = _in_place("fill", "np.full_like(x, value) or x * 0 + value")
    put = _in_place("put", "np.where or np.concatenate to build the new array")
    resize = _in_place("resize", "np.resize(x, shape)")


for _name in sorted(_PLAIN_ARRAY_ONLY):
    _attr = _PlainArrayOnly()
    _attr.__set_name__(ArrayMethods, _name)
    setattr(ArrayMethods, _name, _attr)
del _name, _attr
