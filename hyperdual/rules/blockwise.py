"""Rules whose derivative is a summed series, on lazy (dask) data: evaluated block by
block.

A series differentiated term by term (``gammainc_da``, the parameter partials of
``hyp1f1``) needs a number of terms that depends on the values.  On dask data that
count cannot be known without computing the array, and written as one dask operation
per term its graph is thousands of layers deep (``hvp`` of ``gammainc`` in ``a`` on
6 elements took 495 s, or hit Python's recursion limit).  :func:`by_blocks` wraps such
a function ``g``: on numpy data it calls ``g``; on lazy data it is the first of a
family of primitives ``G[k]``, the partial derivatives of ``g`` of multi-index ``k``,
each evaluated by ``map_blocks`` (numpy blocks, where ``g``'s own adaptive path runs
under nested Duals of hyperdual) and each with the rule ``dG[k] = sum_i G[k + e_i]
dx_i``.  Every engine, order and nesting then stays lazy with a shallow graph.

Examples
--------
>>> g = by_blocks(lambda a, x: a * np.exp(x), "example")
>>> float(g(2.0, 0.0))
2.0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from _exactdiff._common import value as _plain
from _exactdiff.arrays import is_lazy

from ..custom import custom_jvp

__all__ = ["by_blocks"]


def _partial_on_numpy(g: Callable[..., Any], index: tuple) -> Callable[..., Any]:
    """``g``'s partial derivative of multi-index ``index`` at numpy arguments, by
    nested jvps of hyperdual along a scalar shift of one argument (g is elementwise,
    so the shift's derivative is the elementwise partial)."""
    from ..helpers import jvp

    fn = g
    for arg, count in enumerate(index):
        for _ in range(count):
            def shifted(*args: Any, inner: Callable[..., Any] = fn, k: int = arg) -> Any:
                return jvp(lambda s: inner(*args[:k], args[k] + s, *args[k + 1:]),
                           0.0, 1.0)[1]
            fn = shifted
    return fn


def _dtype(plains: tuple) -> Any:
    return np.result_type(*(getattr(p, "dtype", np.float64) for p in plains), np.float16)


class _Family:
    """The primitives ``G[k]`` of one function: built on first use, kept."""

    def __init__(self, g: Callable[..., Any], name: str, nargs: int) -> None:
        self.g, self.name, self.nargs = g, name, nargs
        self.members: dict[tuple, custom_jvp] = {}

    def __getitem__(self, index: tuple) -> custom_jvp:
        member = self.members.get(index)
        if member is None:
            member = self.members[index] = self._build(index)
        return member

    def _build(self, index: tuple) -> custom_jvp:
        on_blocks = _partial_on_numpy(self.g, index)

        def primal(*args: Any) -> Any:
            import dask.array as da

            plains = tuple(_plain(a) for a in args)
            arrays = da.broadcast_arrays(*(da.asarray(p) for p in plains))
            return da.map_blocks(on_blocks, *arrays, dtype=_dtype(plains))

        member = custom_jvp(primal)
        # (linear in tangents that broadcast: direction stacks; elementwise)
        member._broadcasts = member._elementwise = True
        member.__name__ = member.__qualname__ = f"{self.name}{list(index)}"
        up = [tuple(c + (i == j) for j, c in enumerate(index)) for i in range(self.nargs)]

        @member.defjvp
        def _jvp(primals: tuple, tangents: tuple) -> tuple:
            out = 0.0
            for t, k in zip(tangents, up):
                out = out + t * self[k](*primals)
            return member(*primals), out

        @member.defvjp
        def _vjp(primals: tuple, _out: Any, ct: Any) -> tuple:
            from .special import _times_cotangent, _unbroadcast

            return tuple(_unbroadcast(_times_cotangent(ct, self[k](*primals)), p)
                         for k, p in zip(up, primals))

        return member


def by_blocks(g: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``g`` (an elementwise function written with numpy arithmetic on engine values),
    evaluated block by block where its arguments hold lazy data.

    Parameters
    ----------
    g : callable
        ``g(*args)``, elementwise and broadcasting; its numpy path may choose series
        lengths from the values.
    name : str
        How the primitives are named (in graphs and messages).

    Returns
    -------
    callable
        Same values as ``g``; on dask data (plain or inside Duals, HyperDuals, Taylor
        numbers, Variables) a lazy ``map_blocks`` per partial derivative.

    Examples
    --------
    >>> h = by_blocks(lambda x: x ** 3, "cube")
    >>> float(h(2.0))
    8.0
    """
    families: dict[int, _Family] = {}

    def call(*args: Any) -> Any:
        if not any(is_lazy(_plain(a)) for a in args):
            return g(*args)
        family = families.get(len(args))
        if family is None:
            family = families[len(args)] = _Family(g, name, len(args))
        return family[(0,) * len(args)](*args)

    call.__name__ = getattr(g, "__name__", name)
    call.__doc__ = g.__doc__
    return call
