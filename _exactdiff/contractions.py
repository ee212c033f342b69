"""Contractions written once for both engines: einsum's subscript parser and
``tensordot``, ``dot`` (any dimensions), ``inner``, ``vdot``, ``outer``, ``kron``
as one ``np.einsum`` (plus reshapes) each.

``np.einsum`` dispatches to the engine of its operands (hyperdual's product rule
over the parts, reverse's ``Einsum`` Function), so these compositions are
differentiated to every order and in every nesting by both engines.

Examples
--------
>>> import numpy as np
>>> parse_einsum(("ij,jk", np.ones((2, 3)), np.ones((3, 4))), np.ndim)[:2]
(['ij', 'jk'], 'ik')
>>> tensordot(np.ones((2, 3)), np.ones((3, 4)), 1).shape
(2, 4)
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from ._common import is_traced, shape_of, value
from .statistics import as_dtype

_LETTERS = string.ascii_letters


def _sublist_to_str(sub: Any) -> str:
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
        else:
            i = int(s)
            if not 0 <= i < len(_LETTERS):
                raise ValueError(f"einsum: subscript {i} is out of range [0, 52)")
            out.append(_LETTERS[i])
    return "".join(out)


def parse_einsum(args: tuple, ndims: Any) -> tuple[list[str], str, list]:
    """Explicit subscripts for ``np.einsum(*args)``: (input labels, output labels, operands).

    Handles the string and the interleaved (sublist) forms, ellipses (replaced
    by fresh letters, right-aligned as numpy broadcasts them) and the implicit
    output (labels seen once, in alphabetical order, after the ellipsis).
    ``ndims(operand)`` gives an operand's number of dimensions.

    Examples
    --------
    >>> parse_einsum((np.ones((2, 3)), [Ellipsis, 0]), np.ndim)[:2]
    (['Za'], 'Za')
    """
    if isinstance(args[0], str):
        subs = args[0].replace(" ", "")
        operands = list(args[1:])
        if "->" in subs:
            lhs, out = subs.split("->")
            explicit = True
        else:
            lhs, out, explicit = subs, "", False
        ins = lhs.split(",")
    else:
        operands = list(args[0::2])
        subs_lists = list(args[1::2])
        explicit = len(args) % 2 == 1
        if explicit:
            out = _sublist_to_str(args[-1])
            operands = operands[:-1] if len(operands) > len(subs_lists) else operands
        else:
            out = ""
        ins = [_sublist_to_str(s) for s in subs_lists[:len(operands)]]
    if len(ins) != len(operands):
        raise ValueError(f"einsum: {len(ins)} subscripts for {len(operands)} operands")
    used = set("".join(ins) + out) - {"."}
    free = [c for c in reversed(_LETTERS) if c not in used]
    nell = 0
    for lab, op in zip(ins, operands):
        if "..." in lab:
            nell = max(nell, ndims(op) - (len(lab) - 3))
    ell = "".join(reversed(free[:nell]))
    fixed = []
    for lab, op in zip(ins, operands):
        if "..." in lab:
            k = ndims(op) - (len(lab) - 3)
            lab = lab.replace("...", ell[nell - k:] if k else "")
        if len(lab) != ndims(op):
            raise ValueError(
                f"einsum: operand with {ndims(op)} dimensions has subscripts {lab!r}")
        fixed.append(lab)
    if explicit:
        out = out.replace("...", ell)
    else:
        counts: dict[str, int] = {}
        for lab in fixed:
            for c in lab:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return fixed, out, operands


def auto_optimize(ops: list, optimize: Any) -> Any:
    """numpy's einsum without ``optimize`` runs its own loops, not BLAS: when two
    operands are large (a direction stack against a matrix: a matrix-matrix
    product) the greedy path's BLAS call is several times faster, and with three
    or more operands its pairwise order wins from ~1e3 elements (a three-operand
    contraction of a 60-direction stack: 10.7 -> 0.6 ms); for small operands its
    planning costs ~100 us and for a matrix-vector product the plain loop is as
    fast, so it stays off there."""
    if optimize is not False or len(ops) < 2:
        return optimize
    sizes = sorted((getattr(o, "size", 1) for o in ops), reverse=True)
    if len(ops) > 2:  # pairwise order matters more than the plan's cost from ~1e3 up
        return "greedy" if sizes[0] >= 1000 else False
    return "greedy" if sizes[1] >= 4096 else False


def _nd(x: Any) -> int:
    return np.ndim(value(x))


def _is_engine(x: Any) -> bool:
    return is_traced(x)


def _einsum_call(subs: str, *ops: Any) -> Any:
    return np.einsum(subs, *[o if _is_engine(o) else np.asarray(o) for o in ops])


def _axes_list(ax: Any, n: int) -> list[int]:
    ax = [ax] if isinstance(ax, (int, np.integer)) else list(ax)
    return [int(a) % n if n else int(a) for a in ax]


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """``np.tensordot`` as one einsum (numpy's ``axes`` forms: int, pair of sequences)."""
    na, nb = _nd(a), _nd(b)
    if isinstance(axes, (int, np.integer)):
        k = int(axes)
        if k < 0:
            raise ValueError("tensordot: axes must be non-negative")
        ax_a, ax_b = list(range(na - k, na)), list(range(k))
    else:
        ax_a, ax_b = axes
        ax_a, ax_b = _axes_list(ax_a, na), _axes_list(ax_b, nb)
    if len(ax_a) != len(ax_b):
        raise ValueError("tensordot: shape-mismatch for sum (axes of different lengths)")
    la = list(_LETTERS[:na])
    lb = list(_LETTERS[na:na + nb])
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in ax_a] + \
          [c for j, c in enumerate(lb) if j not in ax_b]
    return _einsum_call(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", a, b)


def dot(a: Any, b: Any) -> Any:
    """``np.dot`` for any dimensions: sum over a's last and b's second-to-last axis."""
    na, nb = _nd(a), _nd(b)
    if na == 0 or nb == 0:
        return a * b
    la = _LETTERS[:na]
    k = la[-1]
    if nb == 1:
        return _einsum_call(f"{la},{k}->{la[:-1]}", a, b)
    lb = _LETTERS[na:na + nb - 2] + k + _LETTERS[na + nb - 2]
    return _einsum_call(f"{la},{lb}->{la[:-1]}{lb[:-2]}{lb[-1]}", a, b)


def inner(a: Any, b: Any) -> Any:
    """``np.inner``: sum over the last axes of both (a product for 0-d operands)."""
    na, nb = _nd(a), _nd(b)
    if na == 0 or nb == 0:
        return a * b
    la = _LETTERS[:na]
    lb = _LETTERS[na:na + nb - 1] + la[-1]
    return _einsum_call(f"{la},{lb}->{la[:-1]}{lb[:-1]}", a, b)


def vdot(a: Any, b: Any) -> Any:
    """``np.vdot`` of real operands: the dot product of the flattened arrays."""
    return _einsum_call("i,i->", np.reshape(a, (-1,)), np.reshape(b, (-1,)))


def outer(a: Any, b: Any) -> Any:
    """``np.outer``: the flattened operands' outer product."""
    return _einsum_call("i,j->ij", np.reshape(a, (-1,)), np.reshape(b, (-1,)))


def kron(a: Any, b: Any) -> Any:
    """``np.kron``: block products, as one einsum and a reshape."""
    na, nb = _nd(a), _nd(b)
    n = max(na, nb)
    if n == 0:
        return a * b
    sa = (1,) * (n - na) + tuple(np.shape(value(a)))
    sb = (1,) * (n - nb) + tuple(np.shape(value(b)))
    a2 = np.reshape(a, sa) if na != n else a
    b2 = np.reshape(b, sb) if nb != n else b
    la, lb = _LETTERS[:n], _LETTERS[n:2 * n]
    out = "".join(x + y for x, y in zip(la, lb))
    res = _einsum_call(f"{la},{lb}->{out}", a2, b2)
    return np.reshape(res, tuple(p * q for p, q in zip(sa, sb)))


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: Any = None) -> Any:
    """``np.cross`` of 2- and 3-component vectors, written with products and ``stack``.

    A 2-component vector is the 3-vector with a zero last component, as in
    numpy; two 2-vectors give the scalar z component.

    Examples
    --------
    >>> cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    array([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a = np.moveaxis(a, axisa, -1)
    b = np.moveaxis(b, axisb, -1)
    na, nb = np.shape(a)[-1], np.shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n"
                         "(dimension must be 2 or 3)")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return z
    shape = np.broadcast_shapes(np.shape(a)[:-1], np.shape(b)[:-1])
    if na == 3 and nb == 3:
        a2, b2 = a[..., 2], b[..., 2]
        x, y = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    elif na == 3:  # b's third component is 0
        a2 = a[..., 2]
        x, y = -(a2 * b1), a2 * b0
    else:  # a's third component is 0
        b2 = b[..., 2]
        x, y = a1 * b2, -(a0 * b2)
    parts = [np.broadcast_to(p, shape) for p in (x, y, z)]
    return np.moveaxis(np.stack(parts, axis=-1), -1, axisc)


# ---------------------------------------------------------------------------------
# numpy 2's vector/matrix gufuncs: vecdot (2.0), matvec and vecmat (2.2)
# ---------------------------------------------------------------------------------
def _conj(x: Any) -> Any:
    """conj of a vecdot/vecmat operand: the engines' numbers are real (conj is the
    identity); a complex constant is conjugated as numpy does."""
    if not is_traced(x) and np.iscomplexobj(x):
        return np.conj(x)
    return x


def _core_vecdot(a: Any, b: Any) -> Any:
    """``sum(conj(a) * b)`` over the last axis; the loop axes broadcast."""
    na, nb = shape_of(a)[-1:], shape_of(b)[-1:]
    if na != nb:
        raise ValueError(f"vecdot: Input operand 1 has a mismatch in its core dimension 0, "
                         f"with gufunc signature (n),(n)->() (size {nb[0] if nb else 0} is "
                         f"different from {na[0] if na else 0})")
    return np.sum(_conj(a) * b, axis=-1)


def _core_matvec(a: Any, v: Any) -> Any:
    """``A @ v`` over the last two axes of A and the last of v (loop axes broadcast)."""
    if len(shape_of(a)) == 2:  # one matrix: the vectors' rows times A^T, one matmul
        if shape_of(v)[-1:] != shape_of(a)[-1:]:
            raise ValueError(f"matvec: Input operand 1 has a mismatch in its core dimension "
                             f"0, with gufunc signature (m,n),(n)->(m) (size "
                             f"{(shape_of(v)[-1:] or (0,))[0]} is different from "
                             f"{shape_of(a)[-1]})")
        return np.matmul(v, np.swapaxes(a, -1, -2))
    return np.matmul(a, np.expand_dims(v, -1))[..., 0]


def _core_vecmat(v: Any, a: Any) -> Any:
    """``conj(v) @ A`` over the last axis of v and the last two of A."""
    if len(shape_of(a)) == 2 and len(shape_of(v)) >= 1:  # one matrix: one matmul
        return np.matmul(_conj(v), a)
    return np.matmul(np.expand_dims(_conj(v), -2), a)[..., 0, :]


#: name -> (core function, core dimensions of the inputs, of the output)
_GUFUNCS = {"vecdot": (_core_vecdot, (1, 1), 0), "matvec": (_core_matvec, (2, 1), 1),
            "vecmat": (_core_vecmat, (1, 2), 1)}
#: the ufunc keywords that change nothing at their default values
_UFUNC_DEFAULTS = {"casting": "same_kind", "order": "K", "subok": True, "signature": None,
                   "dtype": None}


def _engine(*xs: Any) -> str:
    for x in xs:
        if is_traced(x):
            return type(x).__module__.split(".", 1)[0]
    return "exactdiff"


def gufunc(name: str, inputs: tuple, kwargs: dict) -> Any:
    """``np.vecdot``/``np.matvec``/``np.vecmat`` (numpy's gufuncs) of engine values.

    Compositions of products, ``np.sum`` and ``np.matmul``, so both engines
    differentiate them to every order.  ``axes=``, ``axis=`` and ``keepdims=`` are
    numpy's: they are checked by numpy itself (on zero-stride stand-ins of the
    operands' shapes), and the core axes moved to the end.  A floating ``dtype=``
    casts the operands first, as numpy does; other dtypes, ``out=`` and non-default
    ``casting``, ``order``, ``subok``, ``signature`` raise ``TypeError`` naming the
    argument.

    Examples
    --------
    >>> float(gufunc("vecdot", (np.array([1.0, 2.0]), np.array([3.0, 4.0])), {}))
    11.0
    """
    core, cin, cout = _GUFUNCS[name]
    if len(inputs) != 2:
        raise TypeError(f"{name}() takes from 2 to 3 positional arguments but "
                        f"{len(inputs)} were given")
    a, b = inputs
    kw = dict(kwargs)
    axes, axis, keepdims = kw.pop("axes", None), kw.pop("axis", None), kw.pop("keepdims", False)
    for k, v in kw.items():
        if k == "out":
            if v is None or (isinstance(v, tuple) and all(o is None for o in v)):
                continue
            raise TypeError(f"{_engine(a, b)}: numpy.{name} with out= is not supported "
                            "(the result is a new value)")
        if k not in _UFUNC_DEFAULTS:
            raise TypeError(f"{name}() got an unexpected keyword argument '{k}'")
        if k == "dtype" and v is not None:  # numpy casts the operands, then computes
            a, b = as_dtype(name, a, v), as_dtype(name, b, v)
            continue
        if v is not _UFUNC_DEFAULTS[k] and v != _UFUNC_DEFAULTS[k]:
            raise TypeError(f"{_engine(a, b)}: numpy.{name}(..., {k}={v!r}) is not supported "
                            "(only its default)")
    if axes is None and axis is None and not keepdims:
        for i, (x, n) in enumerate(zip((a, b), cin)):
            if len(shape_of(x)) < n:
                sig = {"vecdot": "(n),(n)->()", "matvec": "(m,n),(n)->(m)",
                       "vecmat": "(n),(n,m)->(m)"}[name]
                raise ValueError(f"{name}: Input operand {i} does not have enough dimensions "
                                 f"(has {len(shape_of(x))}, gufunc core with signature {sig} "
                                 f"requires {n})")
        return core(a, b)
    # numpy checks the keywords (and the core sizes) on stand-ins and gives the shape
    shapes = [shape_of(x) for x in (a, b)]
    stand = [np.broadcast_to(np.zeros(()), s) for s in shapes]
    extra = {k: v for k, v in (("axes", axes), ("axis", axis), ("keepdims", keepdims))
             if v is not None and v is not False}
    out_shape = getattr(np, name)(*stand, **extra).shape
    if axis is not None:
        axes = [(axis,)] * 2 + [(axis,)] * cout
    ops = []
    for x, s, n, i in zip((a, b), shapes, cin, range(2)):
        if axes is not None:
            ax = axes[i]
            ax = (ax,) if not isinstance(ax, (tuple, list)) else tuple(ax)
            src = [int(k) % len(s) for k in ax]
            x = np.moveaxis(x, src, list(range(len(s) - n, len(s))))
        ops.append(x)
    res = core(*ops)
    if cout and axes is not None and len(axes) > 2:
        ax = axes[2]
        ax = ax[0] if isinstance(ax, (tuple, list)) else ax
        res = np.moveaxis(res, -1, int(ax))
    if shape_of(res) != out_shape:  # keepdims: the kept size-1 axis
        res = np.reshape(res, out_shape)
    return res


#: numpy's gufunc -> its name (numpy 2.0 has vecdot; 2.2 adds matvec and vecmat)
GUFUNCS = {getattr(np, n): n for n in _GUFUNCS if hasattr(np, n)}


def zero_safe(bil: Any, a: Any, b: Any, za: bool, zb: bool) -> Any:
    """``bil(a, b)`` for a bilinear map (a sum of products ``a[.] * b[.]``) in which
    an exact zero of a tangent never meets an inf or NaN partner as ``0 * inf = nan``.

    ``za``/``zb`` say which operands are tangents (derivative parts): their
    zeros annihilate their products, as in the elementwise rules (a zero
    tangent is never poisoned by an infinite value or derivative).  A value's
    zero times an infinite tangent stays NaN (the documented convention).  The
    finite products go through one ``bil`` call on the operands with their
    non-finite entries set to 0; the others are counted by class (NaN, +inf,
    -inf) with ``bil`` on 0/1 indicators and added back as numpy would sum
    them.  Only called where the data holds non-finite values.  Forward mode
    passes the derivative parts of its operands as tangents; reverse mode the
    cotangent of its contraction backwards (a zero cotangent is never poisoned
    by an infinite operand either).

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([0.0, 1.0]), np.array([np.inf, 2.0])
    >>> float(zero_safe(np.dot, a, b, True, False)), float(np.dot(np.array([1.0, 0.0]), b))
    (2.0, inf)
    """
    fa, fb = np.isfinite(a), np.isfinite(b)
    dt = np.result_type(a, b, np.float32)

    def count(ma, mb):
        if ma is None or mb is None or not (ma.any() and mb.any()):
            return None
        return bil(ma.astype(dt), mb.astype(dt))

    def add(*terms):
        terms = [t for t in terms if t is not None]
        return sum(terms[1:], terms[0]) if terms else None

    out = bil(np.where(fa, a, 0), np.where(fb, b, 0))
    za_, zb_ = a == 0, b == 0
    live_a = ~za_ if za else np.ones_like(fa)
    live_b = ~zb_ if zb else np.ones_like(fb)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    inf_a, inf_b = np.isinf(a), np.isinf(b)
    pinf_a, pinf_b = a == np.inf, b == np.inf
    ninf_a, ninf_b = a == -np.inf, b == -np.inf
    fpos_a, fneg_a = fa & (a > 0), fa & (a < 0)
    pos_b, neg_b = b > 0, b < 0
    nans = add(count(nan_a, live_b), count(live_a & ~nan_a, nan_b),
               None if zb else count(inf_a, zb_), None if za else count(za_, inf_b))
    pinf = add(count(pinf_a, pos_b), count(ninf_a, neg_b),
               count(fpos_a, pinf_b), count(fneg_a, ninf_b))
    ninf = add(count(pinf_a, neg_b), count(ninf_a, pos_b),
               count(fpos_a, ninf_b), count(fneg_a, pinf_b))
    if nans is None and pinf is None and ninf is None:
        return out
    zero = np.zeros((), dtype=dt)
    p = pinf > 0 if pinf is not None else False
    m = ninf > 0 if ninf is not None else False
    n = (nans > 0 if nans is not None else False) | (p & m)
    special = np.where(n, np.nan, np.where(p, np.inf, np.where(m, -np.inf, zero)))
    return out + special.astype(dt, copy=False)


def einsum_pairwise(ins: list[str], outs: str, ops: list, moving: Any, contract: Any) -> Any:
    """einsum of three or more operands as a chain of two-operand contractions,
    the constant operands first.

    Both engines apply the constant-zero convention (a constant's exact zeros
    contribute 0 next to an inf/NaN derivative; ``_common.zero_weighted``) in
    their two-operand contractions only.  With more operands the constants'
    zeros can be zeros of their product alone (``einsum('ij,jk,k->', A, B,
    sqrt(x))`` where ``A @ B`` has a zero column): contracting the constants
    first lets the moving operand meet that product once.  ``moving(op)`` says
    whether an operand carries derivatives; ``contract(subs, outs, operands)``
    is the engine's einsum of one or two operands.

    Examples
    --------
    >>> a, b, c = np.ones((2, 3)), np.ones((3, 4)), np.arange(4.0)
    >>> call = lambda subs, o, xs: np.einsum(",".join(subs) + "->" + o, *xs)
    >>> einsum_pairwise(["ij", "jk", "k"], "i", [a, b, c], lambda v: False, call)
    array([18., 18.])
    """
    order = sorted(range(len(ops)), key=lambda i: bool(moving(ops[i])))
    labs, items = [ins[i] for i in order], [ops[i] for i in order]
    while len(items) > 1:
        a, b = labs.pop(0), labs.pop(0)
        rest = set("".join(labs) + outs)
        keep = "".join(dict.fromkeys(c for c in a + b if c in rest))
        labs.insert(0, keep)
        items.insert(0, contract([a, b], keep, [items.pop(0), items.pop(0)]))
    return items[0] if labs[0] == outs else contract(labs, outs, items)

