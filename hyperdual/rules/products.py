"""Forward-mode rules for the matrix products: ``@``/``matmul``, and
``hyperdual.dot``/``hyperdual.outer``.

One product rule serves them all: each infinitesimal part of ``x @ y`` is a
sum of products in which one operand (or, for ε1ε2, both) contributes a
derivative part.  A direction stack times a constant matrix is folded into one
BLAS call.  ``np.dot``, ``np.outer``, ``inner``, ``vdot``, ``einsum``,
``tensordot`` and ``kron`` (any dimensions) are registered by
:mod:`hyperdual.rules.contractions`, which calls ``matmul`` for 1-d and 2-d ``dot``.

Examples
--------
>>> import numpy as np
>>> from hyperdual import Dual
>>> (np.eye(2) @ Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))).dual
array([1., 0.])
"""

from __future__ import annotations

import math
import weakref

import numpy as np

# the bilinear zero guard, shared with reverse's contraction backwards
from _exactdiff.contractions import zero_safe as _zero_safe

from .. import _generic as g
from .._number import (
    _SPLITS,
    _acc,
    _coerce_const,
    _finish,
    _finite,
    _lead_shapes,
    _no_out,
    _Number,
    _shape,
    _tidy,
    _top,
    implements,
)
from .shape import reshape

# What hyperdual exports from this module (as hyperdual.<name>); the other
# functions here are rules that numpy dispatch reaches (np.swapaxes(x) ...).
__all__ = ["matmul", "dot", "outer"]



# ---------------------------------------------------------------------------------
# Bilinear operations: one product rule for @, matmul, dot, inner, outer
# ---------------------------------------------------------------------------------
def _mm(a, la, b, lb, nd):
    """matmul of two parts; ``la``/``lb`` say whether each carries ``nd`` direction axes."""
    if not la and not lb:
        return np.matmul(a, b)
    sa, sb = _shape(a), _shape(b)
    ca, cb = len(sa) - (nd if la else 0), len(sb) - (nd if lb else 0)
    if ca == 0 or cb == 0:
        raise ValueError("matmul: input operand does not have enough dimensions")
    if nd and la != lb and type(a) is np.ndarray and type(b) is np.ndarray:
        out = _mm_stack(a, la, b, ca, cb)
        if out is not None:
            return out
    if ca == 1:
        a = np.expand_dims(a, -2)
    if cb == 1:
        b = np.expand_dims(b, -1)
    nb = max(ca, 2) - 2, max(cb, 2) - 2
    nbr = max(nb)
    if la:
        a = _lift_batch(a, nd, nb[0], nbr)
    if lb:
        b = _lift_batch(b, nd, nb[1], nbr)
    out = np.matmul(a, b)
    if cb == 1:
        out = np.squeeze(out, -1)
    if ca == 1:
        out = np.squeeze(out, -1 if cb == 1 else -2)
    return out


# The helpers' seeds of unit directions (rows start ... start + k - 1 of the identity,
# for a 1-d x: a gradient's or a Jacobian's block) are registered here, so that a
# constant matrix times a seed is a slice of that matrix instead of a BLAS product:
# A @ I = A makes the first layer of a 5000 x 500 model a copy, not 1.25e9 flops.  The
# slice is also what a zero tangent means where A holds inf/NaN (no 0 * inf).
_UNIT_SEEDS: dict = {}


def register_unit_seed(seed: np.ndarray, start: int) -> None:
    """Record that ``seed`` (k, n) holds the unit rows ``start`` ... ``start + k - 1``."""
    key = id(seed)

    def forget(ref, key=key):  # only this seed's entry (an id may be reused later)
        if _UNIT_SEEDS.get(key, (None,))[0] is ref:
            del _UNIT_SEEDS[key]

    seed.flags.writeable = False  # it stays a unit block
    _UNIT_SEEDS[key] = (weakref.ref(seed, forget), start)


def _unit_start(p):
    """``start`` if ``p`` is a registered unit seed (k, n), else None."""
    entry = _UNIT_SEEDS.get(id(p))
    if entry is None or entry[0]() is not p:
        return None
    return entry[1]


def _mm_stack(a, la, b, ca, cb):
    """A direction stack times a constant matrix as ONE matrix product.

    np.matmul of a (k, ..., n) stack with an (n, p) matrix (or of a matrix with
    a stack) runs one small product per direction; folding the direction (and
    batch) axes into the rows makes it a single BLAS call (5x on a gradient of
    a 5000 x 500 least-squares loss).  None when the constant has batch axes.
    """
    if la:  # stack @ constant: fold every leading axis of a into its rows
        if cb > 2:
            return None
        n = a.shape[-1]
        if b.shape[0] != n:
            return None
        s = _unit_start(a)
        if s is not None:  # e_s ... e_{s+k-1} @ b: rows of b
            return b[s:s + a.shape[0]].astype(np.result_type(a, b), order="K")
        # explicit row counts: a -1 is ambiguous for an empty stack (n = 0)
        out = np.reshape(a, (math.prod(a.shape[:-1]), n)) @ b
        return np.reshape(out, a.shape[:-1] + b.shape[1:])
    if ca > 2:  # constant @ stack
        return None
    n = b.shape[-1] if cb == 1 else b.shape[-2]
    if a.shape[-1] != n:
        return None
    if cb == 1:  # matrix (or vector) @ a stack of vectors: (K, n) @ A.T
        s = _unit_start(b)
        if s is not None:  # a @ e_s ... a @ e_{s+k-1}: columns of a, direction axis first
            cols = np.moveaxis(a[..., s:s + b.shape[0]], -1, 0)
            return cols.astype(np.result_type(a, b), order="K")
        out = np.reshape(b, (math.prod(b.shape[:-1]), n)) @ a.T
        return np.reshape(out, b.shape[:-1] + a.shape[:-1])
    if ca == 1:  # vector @ stack of matrices
        return None
    # matrix @ stack of matrices: (m, n) @ (n, K p) once, then the axes back
    p = b.shape[-1]
    lead = b.shape[:-2]
    bt = np.moveaxis(b, -2, 0).reshape(n, math.prod(lead) * p)
    out = (a @ bt).reshape((a.shape[0],) + lead + (p,))
    return np.moveaxis(out, 0, -2)


def _finite_data(v):
    """_finite for plain numpy data; numbers of an older tag (nesting) and lazy
    arrays count as finite here (no guard: their values are not at hand)."""
    return _finite(v) if isinstance(v, (float, np.ndarray)) else True


def _plain_parts(*parts):
    return all(p is None or type(p) is np.ndarray or type(p) is float for p in parts)


def _lift_batch(p, nd, nb, nbr):
    if nb >= nbr:
        return p
    s = _shape(p)
    return np.reshape(p, s[:nd] + (1,) * (nbr - nb) + s[nd:])


def matmul(x, y):
    """``x @ y`` with the product rule; either operand may be a constant.

    Also reached through ``np.matmul`` on Duals and HyperDuals.

    Parameters
    ----------
    x, y : array_like, Dual or HyperDual
        The operands (numpy's ``matmul`` semantics).

    Returns
    -------
    Dual, HyperDual or ndarray
        The matrix product.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.matmul(np.ones((2, 3)), x)
    Dual(array([6., 6.]), array([1., 1.]))
    """
    if not (isinstance(x, _Number) or isinstance(y, _Number)):
        return np.matmul(x, y)
    top, vx, vy = _top(x, y)
    if not top._NPARTS:  # a Taylor is the newest operand
        from .._taylor import matmul as taylor_matmul

        return taylor_matmul(x, y)
    cls, nd = type(top), top.nd
    if vx:
        px = x._parts()
    else:
        px = [_coerce_const(x)] + [None] * (cls._NPARTS - 1)
    if vy:
        py = y._parts()
    else:
        py = [_coerce_const(y)] + [None] * (cls._NPARTS - 1)
    value = _tidy(_mm(px[0], False, py[0], False, nd))
    out = [value]
    # a non-finite value (or, for eps1 eps2, a non-finite tangent meeting a
    # tangent) may have turned a zero tangent into NaN, and an inf/NaN tangent
    # meeting a zero of a constant operand (which contributes 0, as in
    # 0.0 * sqrt(x)) gives NaN: redo that part safely
    value_finite = _finite_data(value)
    const = not (vx and vy)
    for m in range(1, cls._NPARTS):
        total = None
        for i, j in _SPLITS[m]:
            if px[i] is None or py[j] is None:
                continue
            total = _acc(total, _mm(px[i], i != 0, py[j], j != 0, nd))
        if total is not None and (not value_finite or ((m == 3 or const)
                                                       and not _finite_data(total))) \
                and _plain_parts(*px, *py):
            total = None
            for i, j in _SPLITS[m]:
                if px[i] is None or py[j] is None:
                    continue
                a, b = np.asarray(px[i]), np.asarray(py[j])
                la, lb = i != 0, j != 0
                # a tangent's zeros, and a constant operand's, annihilate
                total = _acc(total, _zero_safe(
                    lambda p, q, la=la, lb=lb: _mm(p, la, q, lb, nd), a, b,
                    la or not vx, lb or not vy))
        out.append(total)
    return _finish(cls, out, top.tag, nd, _shape(out[0]), _lead_shapes(top))


@implements(np.matmul)
def _matmul_func(x, y, **kw):
    return matmul(x, y)


@implements(np.dot)
def dot(a, b, out=None):
    """Dot product with the product rule; either operand may be a constant.

    Also reached through ``np.dot`` on Duals and HyperDuals.

    Parameters
    ----------
    a, b : array_like, Dual or HyperDual
        The operands (numpy's ``dot`` semantics).
    out : None
        ``out`` is refused.

    Returns
    -------
    Dual, HyperDual or ndarray
        ``a . b``.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.dot(x, x)
    Dual(14.0, 2.0)
    """
    _no_out("dot", out)
    na, nb = np.ndim(g.real_value(a)), np.ndim(g.real_value(b))
    if na == 0 or nb == 0:
        return a * b
    if na <= 2 and nb <= 2:
        return matmul(a, b)
    # numpy's N-d dot (sum over a's last axis and b's second-to-last) is a
    # contraction: the shared rule in contractions, imported here because that
    # module builds on this one
    from _exactdiff.contractions import dot as nd_dot

    return nd_dot(a, b)


@implements(np.outer)
def outer(a, b, out=None):
    """Outer product of two flattened operands, with the product rule.

    Also reached through ``np.outer`` on Duals and HyperDuals.

    Parameters
    ----------
    a, b : array_like, Dual or HyperDual
        The operands (flattened).
    out : None
        ``out`` is refused.

    Returns
    -------
    Dual, HyperDual or ndarray
        ``a[i] * b[j]``.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual as hd
    >>> x = hd.Dual(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    >>> hd.outer(x[:2], x[:2]).real
    array([[1., 2.],
           [2., 4.]])
    """
    _no_out("outer", out)
    a = reshape(a, (-1, 1)) if isinstance(a, _Number) else np.reshape(a, (-1, 1))
    b = reshape(b, (1, -1)) if isinstance(b, _Number) else np.reshape(b, (1, -1))
    return a * b
