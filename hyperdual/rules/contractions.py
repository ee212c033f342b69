"""Forward-mode rules for contractions: ``einsum``, ``tensordot``, ``kron``,
``inner``, ``dot`` (any dimensions), ``vdot`` and ``outer``.

A contraction is multilinear, so its derivative is the product rule: each
infinitesimal part of the result is a sum of contractions in which one operand
(or, for ε1ε2, two operands) contribute a derivative part and the others their
values.  A part's direction axes get their own einsum labels, so a whole
direction stack goes through one ``np.einsum`` call per term (one BLAS-backed
contraction, not one per direction).

``tensordot``, ``kron``, ``inner``, ``dot`` and friends are written once for
both engines as one ``np.einsum`` (plus reshapes) in
:mod:`_exactdiff.contractions`, with einsum's subscript parser; this module
registers them and differentiates ``np.einsum`` itself.

Examples
--------
>>> import numpy as np
>>> from hyperdual import Dual
>>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> y = np.einsum("ij,j->i", A, Dual(np.array([1.0, 1.0]), np.array([1.0, 0.0])))
>>> y.real, y.dual
(array([3., 7.]), array([1., 3.]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _exactdiff.contractions import (
    _LETTERS,
    auto_optimize,
    cross,
    dot,
    einsum_pairwise,
    inner,
    kron,
    outer,
    parse_einsum,
    tensordot,
    vdot,
)
from _exactdiff.statistics import as_dtype

from .. import _generic as g
from .._number import (
    _coerce_const,
    _finish,
    _lead_shapes,
    _Number,
    _shape,
    _tidy,
    _top,
    implements,
)
from .products import _finite_data, _plain_parts, _zero_safe, matmul


# ---------------------------------------------------------------------------------
# einsum on dual numbers
# ---------------------------------------------------------------------------------
def _ndims(x: Any) -> int:
    return np.ndim(g.real_value(x)) if isinstance(x, _Number) else np.ndim(x)


_EINSUM_KW = {"optimize"}


@implements(np.einsum)
def einsum(*args: Any, out: Any = None, optimize: Any = False, **kw: Any) -> Any:
    """``np.einsum`` of Duals/HyperDuals and constants, by the product rule.

    ``np.einsum(...)`` on Duals or HyperDuals arrives here.

    Parameters
    ----------
    *args
        As for ``np.einsum``: a subscripts string and the operands, or the
        interleaved form.
    out : None
        Must be None (writing into an array would lose the derivative).
    optimize : bool or str
        Passed on to numpy's contraction of each part.
    **kw
        ``casting="safe"`` and ``order`` are accepted; ``dtype`` and other
        keywords raise ``TypeError``.

    Returns
    -------
    Dual or HyperDual or numpy.ndarray
        The contraction; each derivative part by the product rule.

    Examples
    --------
    The gradient of ``x . x`` is ``2 x``:

    >>> import numpy as np
    >>> import hyperdual
    >>> hyperdual.gradient(lambda x: np.einsum("i,i->", x, x), np.array([1.0, 2.0, 3.0]))
    array([2., 4., 6.])
    """
    if out is not None:
        raise TypeError("hyperdual: numpy.einsum with out= is not supported")
    if kw.get("casting", "safe") != "safe" or set(kw) - {"dtype", "casting", "order"}:
        raise TypeError(f"hyperdual: numpy.einsum keyword arguments {sorted(kw)} are not "
                        "supported")
    ins, outs, ops = parse_einsum(args, _ndims)
    if kw.get("dtype") is not None:  # the operands cast to a floating dtype=, as numpy
        ops = [as_dtype("einsum", o, kw["dtype"], kw.get("casting", "safe")) for o in ops]
    return _einsum(ins, outs, ops, optimize)


def _einsum(ins: list[str], outs: str, ops: list, optimize: Any = False) -> Any:
    numbers = [o for o in ops if isinstance(o, _Number)]
    if not numbers:
        return np.einsum(",".join(ins) + "->" + outs, *ops, optimize=optimize)
    top = numbers[0]
    for v in numbers[1:]:
        top, _, _ = _top(top, v)
    cls, nd, tag = type(top), top.nd, top.tag
    used = set("".join(ins) + outs)
    lead = "".join([c for c in _LETTERS if c not in used][:nd])
    parts = []
    for o in ops:
        if isinstance(o, _Number) and o.tag == tag:
            parts.append(o._parts())
        else:
            parts.append((_coerce_const(o),) + (None,) * (cls._NPARTS - 1))

    def term(choice: dict[int, int], safe: bool = False) -> Any:
        """einsum with part ``choice[i]`` of operand i (value part elsewhere);
        ``safe``: a zero tangent times an inf/NaN stays 0 (two operands)."""
        subs, arrs, any_lead = [], [], False
        for i, (lab, ps) in enumerate(zip(ins, parts)):
            m = choice.get(i, 0)
            p = ps[m]
            if p is None:
                return None
            if m and nd:
                subs.append(lead + lab)
                any_lead = True
            else:
                subs.append(lab)
            arrs.append(p)
        o = (lead if any_lead else "") + outs
        if any_lead and nd > 1:
            subs, arrs = _drop_unit_lead(subs, arrs, lead)
        spec = ",".join(subs) + "->" + o
        opt = auto_optimize(arrs, optimize)
        if safe:  # a tangent's zeros, and a constant operand's, annihilate
            return _zero_safe(lambda p, q: np.einsum(spec, p, q, optimize=opt),
                              np.asarray(arrs[0]), np.asarray(arrs[1]),
                              0 in choice or consts[0], 1 in choice or consts[1])
        return np.einsum(spec, *arrs, optimize=opt)

    def part(m: int, safe: bool = False) -> Any:
        total = None
        for i in range(n):
            t = term({i: m}, safe)
            if t is not None:
                total = t if total is None else total + t
        if m == 3:
            for i in range(n):
                for j in range(n):
                    if i != j:
                        t = term({i: 1, j: 2}, safe)
                        if t is not None:
                            total = t if total is None else total + t
        return total

    value = _tidy(term({}))
    out = [value]
    n = len(ops)
    # a non-finite value (or, for eps1 eps2, a non-finite tangent meeting a
    # tangent) may have turned a zero tangent into NaN, and an inf/NaN tangent
    # meeting a zero of a constant operand (which contributes 0) gives NaN: redo
    # that part safely (two operands: every contraction numpy names, and
    # einsum's common case)
    consts = [ps[1] is None for ps in parts]
    const = any(consts)
    redo = n == 2 and not _finite_data(value)
    for m in range(1, cls._NPARTS):
        total = part(m)
        if total is not None and n == 2 and (redo or ((m == 3 or const)
                                                      and not _finite_data(total))) \
                and _plain_parts(*parts[0], *parts[1]):
            total = part(m, safe=True)
        out.append(total)
    if n > 2 and any(not _finite_data(t) for t in out if t is not None) \
            and all(_plain_parts(*ps) for ps in parts):
        # three or more operands: the constants' zeros through their product
        return einsum_pairwise(ins, outs, ops, lambda v: isinstance(v, _Number),
                               lambda i, o, xs: _einsum(i, o, xs, optimize))
    return _finish(cls, out, tag, nd, _shape(value), _lead_shapes(top))


def _drop_unit_lead(subs: list[str], arrs: list, lead: str) -> tuple[list[str], list]:
    """Drop the direction axes of length 1 that another operand has at full length
    (a HyperDual's ε1 stack is (k, 1) + shape, its ε2 stack (1, k) + shape): the
    label then comes from that operand alone, and einsum's path finder sees a plain
    contraction (BLAS) instead of a broadcast it runs in its own loops (a Hessian's
    ``i,ijk,j->k`` at n = 60: its mixed terms are most of the time)."""
    full = set()
    for sub, a in zip(subs, arrs):
        for pos, c in enumerate(sub[:len(lead)]):
            if c in lead and np.shape(a)[pos] != 1:
                full.add(c)
    out_subs, out_arrs = [], []
    for sub, a in zip(subs, arrs):
        drop = tuple(pos for pos, c in enumerate(sub[:len(lead)])
                     if c in lead and c in full and np.shape(a)[pos] == 1)
        if drop:
            a = np.reshape(a, tuple(d for pos, d in enumerate(np.shape(a)) if pos not in drop))
            sub = "".join(c for pos, c in enumerate(sub) if pos not in drop)
        out_subs.append(sub)
        out_arrs.append(a)
    return out_subs, out_arrs


def _no_out(name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"hyperdual: numpy.{name} with out= is not supported")


implements(np.tensordot)(tensordot)
implements(np.kron)(kron)
implements(np.inner)(inner)
implements(np.vdot)(vdot)
implements(np.cross)(cross)


@implements(np.dot)
def _dot(a: Any, b: Any, out: Any = None) -> Any:
    _no_out("dot", out)
    na, nb = np.ndim(g.real_value(a)), np.ndim(g.real_value(b))
    if na <= 2 and nb <= 2:
        return a * b if na == 0 or nb == 0 else matmul(a, b)
    return dot(a, b)


@implements(np.outer)
def _outer(a: Any, b: Any, out: Any = None) -> Any:
    _no_out("outer", out)
    return outer(a, b)
