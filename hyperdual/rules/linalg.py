"""Forward-mode rules of linear algebra: ``np.linalg.*`` and ``np.trace``.

One rule per function, written for a :class:`~hyperdual.Dual` as a pair
(primal, tangent).  Each rule is built from numpy calls only, so it works
whether the primal and tangent are arrays or numbers of an older tag:

* **Second order** comes from the same rules.  A ``HyperDual``
  ``r + e1·ε1 + e2·ε2 + e12·ε1ε2`` is the Dual (in ε2) of two Duals (in ε1),
  ``(r + e1·ε1) + (e2 + e12·ε1)·ε2``; the rule runs on that nesting, its inner
  numpy calls dispatch to the rules again, and the result is converted back.
* **Direction stacks** (``nd`` leading direction axes) are flattened into one
  leading axis of ``K`` directions.  Where a rule solves with the primal
  matrix it solves for all ``K`` directions at once with one factorisation:
  the directions become extra right-hand sides (:func:`_solve_stack`).

Conventions (also in the README)
--------------------------------
* ``cholesky``, ``eigh`` and ``eigvalsh`` read one triangle of the matrix (the
  lower one, or the upper one for ``UPLO='U'``/``upper=True``) as numpy does;
  the derivative is with respect to the entries numpy reads, so it agrees with
  finite differences of numpy's own function on any matrix.
* Eigenvalues and singular values have first derivatives everywhere (at a
  repeated value, ``diag(V^T dA V)`` in LAPACK's basis, which is exact for every
  symmetric function of them such as ``trace`` or ``det``).  Eigenvector and
  singular-vector derivatives do not exist at repeated values; the rules raise
  :class:`DegenerateDerivativeError` there (``eigvalsh`` and
  ``svd(compute_uv=False)`` when their *second* derivative is asked for), never
  return NaN.  So do the singular vectors of a zero singular value of a square
  matrix (numpy keeps s >= 0, so they flip sign as it crosses zero).  ``norm(a, 2)``
  and ``norm(a, -2)`` need only their own singular value simple (second order too).
  Full ``U``/``V`` of a non-square ``svd`` and ``qr(mode='complete')``
  of a tall matrix are not unique: asking for their derivative raises.
* ``qr`` of a square (or wide) matrix reads only the leading block of R: at rank
  n - 1 (last pivot 0) Q and R are differentiable and exact; a zero pivot before the
  last (any pivot of a tall matrix) raises :class:`DegenerateDerivativeError`.
* ``det`` and ``slogdet`` differentiate through a solve with ``A``: at a
  singular matrix they raise numpy's ``LinAlgError``.
* ``pinv`` and ``lstsq`` are differentiated at constant rank.
* Lazy (dask) data is never asked for its values (that computes it): ``cholesky``
  is numpy's lower factor (dask's own is the upper one), ``det``, ``slogdet``,
  ``eigh`` and ``pinv`` (which dask lacks) run blockwise, and where numpy data
  raises :class:`DegenerateDerivativeError` the tangents come out nan when computed.
"""

from __future__ import annotations

import math

import numpy as np

from _exactdiff import linalg as _shared
from _exactdiff.arrays import is_foreign_array, is_lazy
from _exactdiff.messages import zero_singular_square
from _exactdiff.statistics import as_dtype

from .. import _generic as g
from .._number import Dual, HyperDual, _finish, _no_out, _Number, _shape, implements
from .reductions import sum_
from .shape import diagonal

try:  # the result types numpy 2 gives (plain tuples where they do not exist)
    from numpy.linalg._linalg import EighResult, QRResult, SlogdetResult, SVDResult
except ImportError:  # pragma: no cover - numpy < 2
    EighResult = QRResult = SlogdetResult = SVDResult = None

__all__ = ["DegenerateDerivativeError"]


DegenerateDerivativeError = _shared.DegenerateDerivativeError


def _result(kind, *items):
    return tuple(items) if kind is None else kind(*items)


# ---------------------------------------------------------------------------------
# The driver: split Duals into (primal, tangent), run a rule, rebuild
# ---------------------------------------------------------------------------------
def _newest(args):
    top = None
    for a in args:
        if isinstance(a, _Number) and (top is None or a.tag > top.tag):
            top = a
    return top


def _apply(name, rule, args, **kw):
    """Run ``rule(primals, tangents, **kw)`` on the newest perturbation among ``args``.

    ``rule`` returns a tuple of ``(value, tangent)`` pairs (``tangent`` None for
    a constant output, with ``K`` leading directions otherwise).  Returns the
    tuple of outputs.
    """
    top = _newest(args)
    if getattr(top, "_KIND", None) == "Taylor":
        raise TypeError(f"hyperdual: hyperdual.linalg.{name} is not supported for Taylor "
                        "numbers (no matrix-series rule); use hyperdual.derivative / "
                        "hessian (Dual, HyperDual) or the reverse engine for it")
    if type(top) is HyperDual:
        return _apply_hyper(name, rule, args, top, **kw)
    tag, nd = top.tag, top.nd
    primals, tangents, leads = [], [], []
    for a in args:
        if isinstance(a, _Number) and a.tag == tag:
            if type(a) is not Dual or a.nd != nd:
                raise TypeError(f"hyperdual: numpy.linalg.{name}: operands of one tag mix "
                                "Dual and HyperDual or different direction stacks")
            primals.append(a.real)
            tangents.append(a.dual)
            leads.append(_shape(a.dual)[:nd])
        else:
            primals.append(a if isinstance(a, (_Number, np.ndarray)) or is_foreign_array(a)
                           else np.asarray(a))  # (np.asarray would compute a dask array)
            tangents.append(None)
    lead = np.broadcast_shapes(*leads) if nd else ()
    k = math.prod(lead)
    flat = []
    for p, t in zip(primals, tangents):
        if t is not None:
            s = _shape(p)
            t = np.reshape(np.broadcast_to(t, lead + s) if _shape(t)[:nd] != lead else t,
                           (k,) + s)
        flat.append(t)
    outs = []
    for y, ty in rule(primals, flat, **kw):
        if ty is None:
            outs.append(y)  # a constant output (slogdet's sign)
            continue
        s = _shape(y)
        ty = np.reshape(ty, lead + s)
        outs.append(_finish(Dual, [y, ty], tag, nd, s, ((), lead)))
    return tuple(outs)


def _apply_hyper(name, rule, args, top, **kw):
    """A HyperDual of tag T as a Dual (ε2, tag T) of Duals (ε1, tag T - 1/2)."""
    tag, nd = top.tag, top.nd
    inner = tag - 0.5  # newer than every older tag (integers), older than T
    nested, lead1 = [], None
    for a in args:
        if not (isinstance(a, _Number) and a.tag == tag):
            nested.append(a)
            continue
        if type(a) is not HyperDual or a.nd != nd:
            raise TypeError(f"hyperdual: numpy.linalg.{name}: operands of one tag mix "
                            "Dual and HyperDual or different direction stacks")
        r, e1, e2, e12 = a._parts()
        s = _shape(r)
        l1, l2 = _shape(e1)[:nd], _shape(e2)[:nd]
        if any(x != 1 and y != 1 for x, y in zip(l1, l2)) or _interleaved(l1, l2):
            raise TypeError(f"hyperdual: numpy.linalg.{name}: this HyperDual's direction "
                            "stacks share an axis; only separate ε1/ε2 stacks are supported")
        lead1 = l1
        l12 = np.broadcast_shapes(l1, l2)
        e12 = np.reshape(np.broadcast_to(e12, l12 + s), l1 + l2 + s)
        x0 = Dual._build((r, e1), inner, nd)
        x1 = Dual._build((e2, e12), inner, nd)
        nested.append(Dual._build((x0, x1), tag, nd))
    outs = []
    for y in _apply(name, rule, nested, **kw):
        if not (isinstance(y, Dual) and y.tag == tag):
            outs.append(g.real_value(y) if isinstance(y, _Number) else y)
            continue
        y0, y1 = y.real, y.dual
        s = _shape(g.real_value(y0)) if not isinstance(y0, Dual) else y0.shape
        r, e1 = _inner_parts(y0, inner, nd, lead1, s)
        l2 = _shape(y1)[:nd]
        e2, e12 = _inner_parts(y1, inner, nd, lead1, l2 + s)
        l12 = np.broadcast_shapes(lead1, l2)
        e12 = np.reshape(e12, l12 + s)
        outs.append(_finish(HyperDual, [r, e1, e2, e12], tag, nd, s,
                            ((), lead1, l2, l12)))
    return tuple(outs)


def _interleaved(l1, l2):
    """True if an ε2 direction axis comes before an ε1 one (no reshape can merge them)."""
    big1 = [i for i, x in enumerate(l1) if x != 1]
    big2 = [i for i, x in enumerate(l2) if x != 1]
    return bool(big1 and big2 and max(big1) > min(big2))


def _inner_parts(y, inner, nd, lead1, s):
    if isinstance(y, Dual) and y.tag == inner:
        return y.real, np.broadcast_to(y.dual, lead1 + s) if _shape(y.dual) != lead1 + s \
            else y.dual
    z = np.zeros(lead1 + s, dtype=np.result_type(g.real_value(y)))
    return y, z


# ---------------------------------------------------------------------------------
# Small engine-neutral helpers (arrays or numbers alike)
# ---------------------------------------------------------------------------------
def _dtype(x):
    r = g.real_value(x)
    dt = np.result_type(r)
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _swap(x):
    return np.swapaxes(x, -1, -2)


def _solve_matrices(a, b):
    """``np.linalg.solve`` with ``b`` a stack of matrices, batch axes broadcast first:
    numpy 1.x reads a ``b`` with one axis fewer than ``a`` as a stack of vectors."""
    batch = np.broadcast_shapes(_shape(a)[:-2], _shape(b)[:-2])
    if _shape(a)[:-2] != batch:
        a = np.broadcast_to(a, batch + _shape(a)[-2:])
    if _shape(b)[:-2] != batch:
        b = np.broadcast_to(b, batch + _shape(b)[-2:])
    return np.linalg.solve(a, b)


def _eye(n, like):
    return np.eye(n, dtype=_dtype(like))


def _sym(t, lower: bool):
    """The symmetric matrix numpy reads from one triangle of ``t`` (tangents too)."""
    n = _shape(t)[-1]
    tri = np.tril(np.ones((n, n), dtype=_dtype(t)))
    if not lower:
        tri = tri.T
    return t * tri + _swap(t) * (tri.T - np.eye(n, dtype=tri.dtype))


def _value_rank(t, rank):
    """Give a tangent (direction axis first) ``rank`` value axes: batch axes after K."""
    d = rank - (len(_shape(t)) - 1)
    if d <= 0:
        return t
    return np.reshape(t, _shape(t)[:1] + (1,) * d + _shape(t)[1:])


def _minus(t, u):
    """``t - u`` for tangents with a leading direction axis and maybe fewer batch axes."""
    if t is None:
        return -u
    d = len(_shape(u)) - len(_shape(t))
    if d > 0:  # batch axes go after the direction axis, not before it
        t = np.reshape(t, _shape(t)[:1] + (1,) * d + _shape(t)[1:])
    elif d < 0:
        u = np.reshape(u, _shape(u)[:1] + (1,) * -d + _shape(u)[1:])
    return t - u


def _solve_stack(a, r, solver=None):
    """``solve(a, r)`` for ``r`` of shape ``(K, ..., n, m)``: one solve, K·m right-hand sides.

    ``solver(a, rhs)`` replaces ``np.linalg.solve`` (triangular solves use it).
    """
    k = _shape(r)[0]
    batch = np.broadcast_shapes(_shape(a)[:-2], _shape(r)[1:-2])
    n, m = _shape(r)[-2:]
    full = (k,) + batch + (n, m)
    if _shape(r) != full:
        extra = len(batch) - len(_shape(r)[1:-2])
        if extra:  # batch axes go after the direction axis, not before it
            r = np.reshape(r, (k,) + (1,) * extra + _shape(r)[1:])
        r = np.broadcast_to(r, full)
    rhs = np.reshape(np.moveaxis(r, 0, -1), batch + (n, m * k))
    x = _solve_matrices(a, rhs) if solver is None else solver(a, rhs)
    return np.moveaxis(np.reshape(x, batch + (n, m, k)), -1, 0)


def _gap_inverse(w, name, what, squared=False, need=None):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it; raise at repeated values.

    Built with differentiable operations on ``w`` (second order needs F's
    derivative too).  ``need``: the one column whose vectors are used (an int; the
    extreme singular value of ``norm(a, 2)``): only a value repeating that one
    raises, and F is 0 between other repeated values (their vectors' tangents are
    then not the truth, which does not exist, and the caller does not use them).
    ``squared`` (svd): returns ``(F, G)`` with ``G[i, j] = 1 / (w[j] + w[i])``, so that
    ``F * G = 1 / (w[j]**2 - w[i]**2)`` without squaring: squares of singular values
    near 1e-300 underflow (distinct values looked repeated) and near 1e300 overflow.
    Values repeat when their gap is below 8 n eps max|w| (unsquared in both cases).
    """
    wv = g.real_value(w)
    if is_lazy(wv):
        return _gap_inverse_lazy(w, wv, squared, need)
    n = wv.shape[-1]
    diff = wv[..., None, :] - wv[..., :, None]
    scale = np.max(np.abs(wv), axis=-1, keepdims=True, initial=0.0)[..., None]
    tol = 8 * n * np.finfo(wv.dtype).eps * scale
    off = ~np.eye(n, dtype=bool)
    degenerate = (np.abs(diff) <= tol) & off
    bad = degenerate if need is None else (
        degenerate[..., need, :] if isinstance(need, int) else False)
    if np.any(bad):
        raise DegenerateDerivativeError(
            f"numpy.linalg.{name}: repeated {what} (equal to working precision): the "
            f"derivative of the {'eigen' if 'eig' in what else 'singular '}vectors does "
            "not exist there" + (
                "; use np.linalg.eigvalsh for eigenvalues only" if "eig" in what else
                "; use np.linalg.svd(a, compute_uv=False) for singular values only"))
    eye = np.eye(n, dtype=wv.dtype)
    if need is not None and np.any(degenerate):
        # lenient (reverse's forward pass on Dual data): the rotation inside a cluster of
        # repeated values has no derivative; nan marks those tangents, so reverse's
        # backward pass can tell a cotangent that depends on them (u00**2 where u00 = 0
        # is zero in value, not in its derivative) from one that does not
        gone = np.nan if need == "lenient" else 0.0
        keep = np.where(degenerate, gone, 1.0 - eye).astype(wv.dtype)
    else:
        keep = 1.0 - eye
    f = keep / (w[..., None, :] - w[..., :, None] + (1.0 - keep))
    if not squared:
        return f
    # off the diagonal and between distinct values, w[j] + w[i] >= |w[j] - w[i]| > 0
    return f, 1.0 / (w[..., None, :] + w[..., :, None] + (1.0 - keep))


def _gap_inverse_lazy(w, wv, squared, need):
    """:func:`_gap_inverse` for lazy (dask) values, which are not asked whether they
    repeat (that would compute them): F is nan where numpy data raises (a pair of
    repeated values; with ``need`` an int, a pair with value ``need``) and 0 where it
    drops a pair, so the derivative that does not exist comes out nan when the dask
    array is computed."""
    n = wv.shape[-1]
    if n == 0:
        f = np.zeros(_shape(wv) + (0,), dtype=wv.dtype)
        return (f, f) if squared else f
    diff = wv[..., None, :] - wv[..., :, None]
    scale = np.max(np.abs(wv), axis=-1, keepdims=True)[..., None]
    tol = 8 * n * np.finfo(wv.dtype).eps * scale
    eye = np.eye(n, dtype=wv.dtype)
    degenerate = (np.abs(diff) <= tol) & (eye == 0)
    if isinstance(need, int):  # only value `need` must be simple; other pairs dropped
        line = np.zeros((n, n), dtype=bool)
        line[need, :] = line[:, need] = True
        gone = np.where(line, np.nan, 0.0)
    else:  # numpy's svd and eigh (raise), reverse's forward pass (nan marks)
        gone = np.nan
    keep = np.where(degenerate, gone, 1.0 - eye).astype(wv.dtype)
    f = keep / (w[..., None, :] - w[..., :, None] + (1.0 - keep))
    if not squared:
        return f
    return f, 1.0 / (w[..., None, :] + w[..., :, None] + (1.0 - keep))


def _zero_singular_square(s, name="svd"):
    """Raise for a zero singular value (to working precision) of a square matrix.

    numpy keeps s >= 0, so where the smallest singular value crosses zero (its
    signed branch u_n^T A v_n changes sign) numpy flips u_n or v_n: the vectors jump
    (``Vh[1, 1]`` of ``diag(1, t)`` is ``sign(t)``) and have no derivative; the
    signed branch's derivative, which the formulas give, was returned as if it were
    one (0 for that ``Vh[1, 1]``).  The values keep their derivatives.
    """
    sv = g.real_value(s)
    n = np.shape(sv)[-1]
    if n == 0:
        return
    tol = 8 * n * np.finfo(sv.dtype).eps * sv[..., :1]
    if np.any(sv[..., -1:] <= tol):
        raise DegenerateDerivativeError(zero_singular_square(
            "; forward mode forms every vector's tangent, so it raises whenever U or Vh "
            "is used here: reverse mode (reverse.gradient) raises only where the result "
            "depends on the sign of those vectors"))


# ---------------------------------------------------------------------------------
# The rules.  ``p`` holds primals, ``t`` tangents with K leading directions (or None).
# ---------------------------------------------------------------------------------
_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _vector_rhs(a, b) -> bool:
    """Whether solve treats ``b`` as (stacked) vectors: numpy 2 only for 1-d ``b``."""
    nb = len(_shape(b))
    return nb == 1 if _NUMPY2 else nb == len(_shape(a)) - 1


def _solve_rule(p, t):
    a, b = p
    ta, tb = t
    vec = _vector_rhs(a, b)
    if vec:
        b = np.expand_dims(b, -1)
        tb = None if tb is None else tb[..., None]
    x = _solve_matrices(a, b)
    rhs = tb if ta is None else _minus(tb, np.matmul(_value_rank(ta, len(_shape(x))), x))
    tx = _solve_stack(a, rhs)
    if vec:
        x, tx = x[..., 0], tx[..., 0]
    return ((x, tx),)


def _inv_rule(p, t):
    y = np.linalg.inv(p[0])
    return ((y, -np.matmul(np.matmul(y, t[0]), y)),)


def _trace_solve(a, ta):
    """``trace(solve(a, ta_k))`` for each direction k, with one factorisation of ``a``.

    With more direction columns than rows (K·n > n, i.e. more than one
    direction) the solve with ``a^T`` and the identity is the cheaper one:
    ``trace(A^-1 T) = sum(A^-T * T)`` costs n^2 per direction afterwards,
    instead of a solve with n right-hand sides per direction.
    """
    if _shape(ta)[0] > 1:
        n = _shape(a)[-1]
        w = _solve_matrices(_swap(a), np.eye(n, dtype=_dtype(a)))
        # sum(w * T) for every direction as one matrix product (no K x n x n temporary
        # of products, which for nested numbers would be one per part pair)
        st, sw = _shape(ta), _shape(w)
        prod = np.matmul(np.reshape(ta, st[:-2] + (1, n * n)), np.reshape(w, sw[:-2] + (n * n, 1)))
        return prod[..., 0, 0]
    return np.sum(np.diagonal(_solve_stack(a, ta), axis1=-2, axis2=-1), axis=-1)


def _det_rule(p, t):
    if is_lazy(p[0]):  # dask: det and its gradient blockwise, lazily (dask has no det)
        d = _shared.lazy_det(p[0])
        return ((d, np.sum(_shared.lazy_det_gradient(p[0]) * t[0], axis=(-2, -1))),)
    d = np.linalg.det(p[0])
    if _shared.small_det(p[0]):  # cofactors as polynomials: exact
        return ((d, np.sum(_shared.small_cofactors(p[0]) * t[0], axis=(-2, -1))),)
    if _shared.plain_lazy(p[0]) is not None:  # a second derivative on dask data
        degenerate = _shared.det_decision(p[0])  # (one compute: dask's det computes)
    else:
        degenerate = _shared.det_out_of_range(p[0], d) or _shared.det_degenerate(p[0])
    # (nearly) singular, or det under/overflowed: d det = sum(cofactors * da)
    if degenerate:
        return ((d, np.sum(_shared.det_cofactors(p[0]) * t[0], axis=(-2, -1))),)
    return ((d, d * _trace_solve(p[0], t[0])),)


def _slogdet_rule(p, t):
    if is_lazy(p[0]):  # (dask has no slogdet: lazily, blockwise)
        sign, logdet = _shared.lazy_slogdet(p[0])
        tangent = np.sum(_shared.lazy_inv_t(p[0]) * t[0], axis=(-2, -1))
        return ((sign, None), (logdet, tangent))
    sign, logdet = np.linalg.slogdet(p[0])
    return ((g.real_value(sign), None), (logdet, _trace_solve(p[0], t[0])))


def _cholesky_rule(p, t, upper=False):
    a, ta = p[0], t[0]
    # upper: the lower factor of a^T, which reads a's upper triangle (numpy < 2 has no
    # upper=); an inner level reads the same triangle
    low = _shared.cholesky_lower(_swap(a) if upper else a)  # (dask's default is upper)
    s1 = _sym(ta, lower=not upper)
    y = _solve_stack(low, s1)                 # L^-1 S
    z = _solve_stack(low, _swap(y))           # L^-1 S L^-T
    n = _shape(a)[-1]
    phi = np.tril(np.ones((n, n), dtype=_dtype(a)), -1) + 0.5 * np.eye(n, dtype=_dtype(a))
    tl = np.matmul(low, z * phi)
    if upper:
        return ((_swap(low), _swap(tl)),)
    return ((low, tl),)


def _eigh_rule(p, t, UPLO="L"):
    a, ta = p[0], t[0]
    # (dask has no eigh: it computes the array; blockwise here, lazily)
    w, v = _shared.lazy_eigh(a, UPLO) if is_lazy(a) else np.linalg.eigh(a, UPLO)
    x = np.matmul(np.matmul(_swap(v), _sym(ta, UPLO.upper() == "L")), v)
    tw = np.diagonal(x, axis1=-2, axis2=-1)
    f = _gap_inverse(w, "eigh", "eigenvalues")
    tv = np.matmul(v, f * x)
    return ((w, tw), (v, tv))


def _eigvalsh_rule(p, t, UPLO="L"):
    a, ta = p[0], t[0]
    try:  # the vectors' derivatives only matter at second order (a is a number then)
        w, v = _shared.lazy_eigh(a, UPLO) if is_lazy(a) else np.linalg.eigh(a, UPLO)
    except DegenerateDerivativeError:
        raise DegenerateDerivativeError(
            "numpy.linalg.eigvalsh: repeated eigenvalues (equal to working precision): "
            "their first derivatives exist there, their second derivatives do not (a "
            "symmetric function of them may have one: write it without eigvalsh)") from None
    s1 = _sym(ta, UPLO.upper() == "L")
    tw = np.sum(v * np.matmul(s1, v), axis=-2)
    return ((w, tw),)


def _svd_vectors(a, need=None):
    """``np.linalg.svd(a, full_matrices=False)`` of a plain matrix or of a Dual of an
    older tag (the inner level of a second derivative), where ``need`` (see
    :func:`_svd_rule`) says which vectors' tangents must be exact."""
    if isinstance(a, (Dual, HyperDual)):
        return _apply("svd", _svd_rule, (a,), full_matrices=False, compute_uv=True,
                      need=need)
    return np.linalg.svd(a, full_matrices=False)


def _svd_rule(p, t, full_matrices=True, compute_uv=True, need=None):
    """``need``: None for numpy's svd (every vector's tangent exact, or raise);
    "values" when only the values' derivatives are formed from the vectors
    (``compute_uv=False`` at second order: repeated values raise, a zero one of a
    square matrix keeps its signed branch, as the values do at first order); an int k
    when only the vectors of value k are used (``norm(a, 2)``, ``norm(a, -2)``:
    only value k must be simple, and only its vectors are exact); "lenient" for
    reverse mode's forward pass on Dual data (forward-over-reverse), whose backward
    pass raises where the cotangent reaches a vector without a derivative: nothing
    raises here and only the vectors of simple values (a zero one of a square matrix:
    its signed branch) are exact."""
    a, ta = p[0], t[0]
    m, n = _shape(a)[-2:]
    if not compute_uv:
        try:  # the vectors' derivatives only matter at second order (a is a number then)
            u, s, vh = _svd_vectors(a, "values")
        except DegenerateDerivativeError:
            raise DegenerateDerivativeError(
                "numpy.linalg.svd(compute_uv=False): repeated (or, for a non-square matrix, "
                "zero) singular values: their first derivatives exist there, their second "
                "derivatives do not (a symmetric function of them may have one: write it "
                "without the singular values)") from None
        ts = np.sum(u * np.matmul(ta, _swap(vh)), axis=-2)
        return ((s, ts),)
    if full_matrices and m != n:
        raise TypeError(
            "hyperdual: numpy.linalg.svd(full_matrices=True) of a non-square matrix: the "
            "extra singular vectors are not unique, so they have no derivative; use "
            "full_matrices=False")
    # the inner level (a third derivative) forms every vector's tangent, so it must be
    # exact for all of them: numpy's rule, or the values' one below norm's
    partial = isinstance(need, int) or need == "lenient"
    u, s, vh = _svd_vectors(a, "values" if partial else need)
    v = _swap(vh)
    flag = None
    f, h = _gap_inverse(s, "svd", "singular values", squared=True,
                        need=need if partial else None)
    sv = g.real_value(s)
    if partial:  # only some columns are used: column `need` must be nonzero if m != n
        if need != "lenient" and not is_lazy(sv):  # (lazy: a zero gives inf below)
            _check_rank(sv[..., need:need + 1], m != n)
        # the other columns: no division by their (near) zeros, whose tangents are unused
        # (lenient: the exact zeros, where reverse mode's backward pass raises for m != n)
        small = sv == 0 if need == "lenient" else \
            sv <= 8 * max(m, n) * np.finfo(sv.dtype).eps * sv[..., :1]
        if need != "lenient" and is_lazy(sv):  # (dask arrays are not written in place)
            small = small & (np.arange(sv.shape[-1]) != need)
        elif need != "lenient":
            small[..., need] = False
        zero = small.astype(sv.dtype)[..., None, :]  # as row = s[..., None, :]
    elif is_lazy(sv):  # not asked (that computes): a zero value of a non-square matrix
        # divides by 0 below; one of a square matrix marks the vectors' tangents nan
        zero = 0.0
        if need is None and m == n and m > 0:
            flag = sv[..., -1] <= 8 * n * np.finfo(sv.dtype).eps * sv[..., 0]
    else:
        _check_rank(s, m != n)
        if need is None and m == n:
            _zero_singular_square(s)
        zero = 0.0
    dp = np.matmul(np.matmul(_swap(u), ta), v)
    ts = np.diagonal(dp, axis1=-2, axis2=-1)
    row, col = s[..., None, :], s[..., :, None]
    dpt = _swap(dp)
    # f * (s_j dp + s_i dp^T) / (s_j + s_i): the ratios s/(s_i + s_j) stay in [0, 1]
    rh, ch = row * h, col * h
    tu = np.matmul(u, f * (dp * rh + ch * dpt))
    tv = np.matmul(v, f * (ch * dp + dpt * rh))
    if m > n:
        tu = tu + (np.matmul(ta, v) - np.matmul(u, dp)) / (row + zero)
    elif n > m:
        tv = tv + (np.matmul(_swap(ta), u) - np.matmul(v, dpt)) / (row + zero)
    if flag is not None:
        tu, tv = (_shared.nan_where(flag[..., None, None], x) for x in (tu, tv))
    return ((u, tu), (s, ts), (vh, _swap(tv)))


def _extreme_rule(p, t, index):
    """Singular value ``index`` alone (the largest or smallest: ``norm(a, +-2)``)."""
    a, ta = p[0], t[0]
    u, s, vh = _svd_vectors(a, index)
    ts = np.sum(u * np.matmul(ta, _swap(vh)), axis=-2)
    return ((s[..., index], ts[..., index]),)


def _extreme_singular_value(x, largest):
    """``max``/``min`` of the singular values of a Dual/HyperDual stack of matrices for
    :func:`_exactdiff.linalg.norm`, whose second derivative needs only that value to
    be simple: the vectors of the other values, repeated zeros of a rank-one
    ``outer(v, w)`` for instance, are not formed.  None (the composition's
    ``max(svd(x, compute_uv=False))``) where that value is repeated (the max's
    convention then) or the stack is empty."""
    if type(x) not in (Dual, HyperDual):
        return None
    if type(x) is Dual and not isinstance(x.real, _Number):
        return None  # first order: max(s) forms no vector tangents (and one SVD, not two)
    k = min(_shape(x)[-2:])
    if math.prod(_shape(x)) == 0:
        return None
    index = 0 if largest else k - 1
    if _shared.plain_lazy(x) is not None:
        # lazy: not asked whether that value repeats (that computes); if it does, its
        # derivatives come out nan (see _gap_inverse_lazy) where numpy data raises
        return _apply("svd", _extreme_rule, (x,), index=index)[0]
    sv = np.linalg.svd(_shared._plain(x), compute_uv=False)
    if k > 1:
        near = sv[..., 1] if largest else sv[..., k - 2]
        top = sv[..., :1] if sv.size else 0.0
        if np.any(np.abs(sv[..., index] ** 2 - near ** 2)
                  <= 8 * k * np.finfo(sv.dtype).eps * top[..., 0] ** 2):
            return None
    return _apply("svd", _extreme_rule, (x,), index=index)[0]


_shared.EXTREME_SINGULAR_VALUE["hyperdual"] = _extreme_singular_value


def _check_rank(s, rectangular):
    sv = g.real_value(s)
    if rectangular and np.shape(sv)[-1] > 0 and np.any(sv[..., -1] == 0):
        raise DegenerateDerivativeError(
            "numpy.linalg.svd: a zero singular value of a non-square matrix: the "
            "singular vectors have no derivative there")


def _qr_square(q, r, ta):
    """Tangents of Q (m x n) and R (n x n) for A = QR with m >= n."""
    m, n = _shape(q)[-2:]
    rv = g.real_value(r)
    if is_lazy(rv):  # not asked (that computes): a rank deficiency marks the tangents nan
        flag = _shared.qr_rank_deficient(rv, m > n)[..., None, None]
        return tuple(_shared.nan_where(flag, x) for x in _qr_tangents(q, r, ta))
    _shared.qr_rank_check(rv, m > n)
    return _qr_tangents(q, r, ta)


def _qr_tangents(q, r, ta):
    """:func:`_qr_square` after its rank check."""
    m, n = _shape(q)[-2:]
    if m > n:
        c = _swap(_solve_stack(_swap(r), _swap(ta)))       # dA R^-1
        mm = np.matmul(_swap(q), c)                          # Q^T dA R^-1
        low = np.tril(np.ones((n, n), dtype=_dtype(r)), -1)
        lo = mm * low
        nmat = mm - lo + _swap(lo)                           # dR R^-1 (upper triangular)
        return c - np.matmul(q, nmat), np.matmul(nmat, r)
    # Square: Q^T dQ = Omega = L - L^T with L the strictly lower part of B R^-1
    # (B = Q^T dA), which reads only the first n - 1 columns of R^-1, i.e. the
    # leading block R1; and dR = B - Omega R. So a zero last pivot R[n-1, n-1] (a
    # matrix of rank n - 1: Q is still unique up to LAPACK's sign, it never reads the
    # last column) costs nothing, where dA R^-1 - Q (dR R^-1) divided by it and
    # returned rounding noise / 1e-16 (qr of [[1, 2], [2, 4]]).
    b = np.matmul(_swap(q), ta)
    if n <= 1:  # Q = +-1 (LAPACK's reflector is the identity): constant, dR = Q^T dA
        return np.zeros(_shape(b), dtype=_dtype(r)), b
    y = _swap(_solve_stack(_swap(r[..., :n - 1, :n - 1]), _swap(b[..., :, :n - 1])))
    lo = np.matmul(y * np.tril(np.ones((n, n - 1), dtype=_dtype(r)), -1),
                   np.eye(n - 1, n, dtype=_dtype(r)))
    omega = lo - _swap(lo)
    upper = np.triu(np.ones((n, n), dtype=_dtype(r)))
    return np.matmul(q, omega), (b - np.matmul(omega, r)) * upper


def _qr_rule(p, t, mode="reduced"):
    a, ta = p[0], t[0]
    m, n = _shape(a)[-2:]
    if mode not in ("reduced", "r", "complete") or (mode == "complete" and m > n):
        raise TypeError(
            f"hyperdual: numpy.linalg.qr(mode={mode!r}) is not differentiable "
            + ("(the extra columns of Q are not unique); use mode='reduced'"
               if mode == "complete" else "; use mode='reduced' or 'r'"))
    q, r = np.linalg.qr(a)
    if m >= n:
        tq, tr = _qr_square(q, r, ta)
    else:
        y = a[..., :, m:]
        tq, tr1 = _qr_square(q, r[..., :, :m], ta[..., :, :m])
        tr2 = np.matmul(_swap(tq), y) + np.matmul(_swap(q), ta[..., :, m:])
        tr = np.concatenate([tr1, tr2], axis=-1)
    if mode == "r":
        return ((r, tr),)
    return ((q, tq), (r, tr))


def _pinv_rule(p, t, **kw):
    a, ta = p[0], t[0]
    # (dask has no pinv: a 2-d matrix's, lazily, from dask's svd)
    pa = _shared.lazy_pinv(a, **kw) if is_lazy(a) and a.ndim == 2 else \
        np.linalg.pinv(a, **kw)
    m, n = _shape(a)[-2:]
    tat = _swap(ta)
    out = -np.matmul(np.matmul(pa, ta), pa)
    pat = _swap(pa)
    ap = np.eye(m, dtype=_dtype(a)) - np.matmul(a, pa)
    pa_ = np.eye(n, dtype=_dtype(a)) - np.matmul(pa, a)
    out = out + np.matmul(np.matmul(np.matmul(pa, pat), tat), ap)
    out = out + np.matmul(np.matmul(pa_, tat), np.matmul(pat, pa))
    return ((pa, out),)


# ---------------------------------------------------------------------------------
# Registration with numpy's dispatch
# ---------------------------------------------------------------------------------
def _square(a, name):
    s = _shape(g.real_value(a)) if isinstance(a, _Number) else np.shape(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise np.linalg.LinAlgError(
            f"{len(s)}-dimensional array given. Array must be at least two-dimensional"
            if len(s) < 2 else "Last 2 dimensions of the array must be square")


def _matrix(a):
    s = np.shape(g.real_value(a))
    if len(s) < 2:
        raise np.linalg.LinAlgError(
            f"{len(s)}-dimensional array given. Array must be at least two-dimensional")


@implements(np.linalg.solve)
def solve(a, b):
    _square(a, "solve")
    return _apply("solve", _solve_rule, (a, b))[0]


@implements(np.linalg.inv)
def inv(a):
    _square(a, "inv")
    return _apply("inv", _inv_rule, (a,))[0]


@implements(np.linalg.det)
def det(a):
    _square(a, "det")
    return _apply("det", _det_rule, (a,))[0]


@implements(np.linalg.slogdet)
def slogdet(a):
    _square(a, "slogdet")
    return _result(SlogdetResult, *_apply("slogdet", _slogdet_rule, (a,)))


@implements(np.linalg.cholesky)
def cholesky(a, /, *, upper=False):
    _square(a, "cholesky")
    return _apply("cholesky", _cholesky_rule, (a,), upper=upper)[0]


@implements(np.linalg.eigh)
def eigh(a, UPLO="L"):
    _square(a, "eigh")
    return _result(EighResult, *_apply("eigh", _eigh_rule, (a,), UPLO=UPLO))


@implements(np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    _square(a, "eigvalsh")
    return _apply("eigvalsh", _eigvalsh_rule, (a,), UPLO=UPLO)[0]


@implements(np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    _matrix(a)
    if hermitian:  # numpy's eigh path (lower triangle), not the general SVD
        _square(a, "svd")
        out = _shared.svd_hermitian(a, compute_uv)
        return _result(SVDResult, *out) if compute_uv else out
    outs = _apply("svd", _svd_rule, (a,), full_matrices=full_matrices, compute_uv=compute_uv)
    return _result(SVDResult, *outs) if compute_uv else outs[0]


@implements(np.linalg.qr)
def qr(a, mode="reduced"):
    _matrix(a)
    outs = _apply("qr", _qr_rule, (a,), mode=mode)
    return outs[0] if mode == "r" else _result(QRResult, *outs)


@implements(np.linalg.pinv)
def pinv(a, rcond=None, hermitian=False, **kw):
    _matrix(a)
    if hermitian:  # numpy reads the lower triangle only (through eigh)
        _square(a, "pinv")
        a = _shared.hermitian_from_lower(a)
    if rcond is not None:
        kw["rcond"] = rcond
    return _apply("pinv", _pinv_rule, (a,), **kw)[0]


# --- np.trace: the sum of the diagonal, a linear map of every part -----------
@implements(np.trace)
def trace(x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _no_out("trace", out)
    return sum_(diagonal(as_dtype("trace", x, dtype), offset, axis1, axis2), axis=-1)


def _exclusive_sum(w, axes):
    """For each entry of ``w``, the sum of the other entries of its slice over ``axes``
    (a prefix plus a suffix cumulative sum: no subtraction, so no cancellation)."""
    k = len(axes)
    moved = np.moveaxis(w, axes, tuple(range(-k, 0)))
    flat = np.reshape(moved, moved.shape[:moved.ndim - k] + (-1,))
    zero = np.zeros_like(flat[..., :1])
    before = np.concatenate([zero, np.cumsum(flat, axis=-1)[..., :-1]], axis=-1)
    after = np.concatenate([np.cumsum(flat[..., ::-1], axis=-1)[..., :-1][..., ::-1], zero],
                           axis=-1)
    return np.moveaxis(np.reshape(before + after, moved.shape), tuple(range(-k, 0)), axes)


def _time_scale(w):
    """The exponent ``lam`` of a power of two by which to scale Taylor's time so that
    the coefficients ``w_k 2**(k lam)`` (k >= 1) stay at most about 1, 0 where they
    already lie within 1e-100..1e100 (no change on common data)."""
    if len(w) < 2:
        return 0
    m = np.array([np.max(np.abs(wk), initial=0.0) for wk in w[1:]])
    ok = np.isfinite(m) & (m > 0)
    if not np.any(ok) or np.all((m[ok] < 1e100) & (m[ok] > 1e-100)):
        return 0
    e = np.frexp(m[ok])[1].astype(np.int64)
    k = np.arange(1, len(w))[ok]
    return int(np.min(np.floor_divide(-e, k)))


def _taylor_two_norm(x, ax, keepdims, scale):
    """The 2-norm of a Taylor number with plain coefficients, by the recurrence of
    ``n(t)**2 = sum(x(t)**2)`` written so that nothing cancels along a coordinate.

    The composition ``sqrt(sum(x * x))`` rounds ``1 + 1e-18`` to 1 in the value of the
    sum, so the second coefficient of ``norm([1e-9, 1 + t])`` came out 0 (truth 5e-19).
    With ``w_k = coef_k / scale``, ``u = w_0 / n_0``, ``p_k = u . w_k``:
    ``n_k = p_k + r_k``, ``r_k = sum_{j=1}^{k-1} (Q(w_j, w_{k-j}) - p_j r_{k-j}
    - r_j p_{k-j} - r_j r_{k-j}) / (2 n_0)``, where ``Q(a, b) = a . b - (u . a)(u . b)``
    is formed from exclusive sums as in :func:`_scaled_two_norm`.  A zero slice has
    every coefficient 0 (the safe-norm convention).  None for other coefficients.
    """
    c = x.coef
    if type(c) is not np.ndarray or c.dtype.kind != "f":
        return None
    v = c[0]
    axes = tuple(range(v.ndim)) if ax is None else tuple(ax) if isinstance(ax, tuple) else (ax,)
    axes = tuple(a % v.ndim for a in axes) if v.ndim else ()
    if not axes:
        return None
    with np.errstate(all="ignore"):
        w = c / scale
        lam = _time_scale(w)
        if lam:  # t = 2**lam tau: w_k 2**(k lam) stay near 1 (1e160 at 1e-300 beside
            # 1e-160: their products overflowed); the coefficients scale back below
            w = np.stack([np.ldexp(w[k], k * lam) for k in range(len(w))])
        n0 = np.sqrt(np.sum(w[0] * w[0], axis=axes, keepdims=True))
        zero = n0 == 0
        safe = np.where(zero, 1.0, n0)
        u = np.where(zero, 0.0, w[0] / safe)
        u2 = u * u
        excl = _exclusive_sum(u2, axes)

        def red(p):
            return np.sum(p, axis=axes, keepdims=True)

        p = [red(u * wk) for wk in w]
        r = [np.zeros_like(n0), np.zeros_like(n0)]
        for k in range(2, len(w)):
            acc = np.zeros_like(n0)
            for j in range(1, k):
                ab = w[j] * w[k - j]
                q = red(ab * excl) - (p[j] * p[k - j] - red(ab * u2))
                acc = acc + q - p[j] * r[k - j] - r[j] * p[k - j] - r[j] * r[k - j]
            r.append(acc / (2.0 * safe))
        coef = [n0] + [np.where(zero, 0.0, p[k] + r[k]) for k in range(1, len(w))]
        if lam:  # coefficient k times scale / 2**(k lam), one rounding (scale = 2**e)
            es = np.frexp(np.asarray(scale, dtype=np.float64))[1] - 1
            out = np.stack([np.ldexp(ck, es - k * lam) for k, ck in enumerate(coef)])
        else:
            out = np.stack(coef) * scale
    if not keepdims:
        out = np.squeeze(out, axis=tuple(a + 1 for a in axes))
    return type(x)(out.astype(c.dtype, copy=False), x.tag)


def _scaled_two_norm(x, ax, keepdims, scale):
    """The 2-norm of a Dual/HyperDual whose entries are so small or large that the
    sum of squares under/overflows, by its closed-form derivatives.

    The shared composition ``s * sqrt(sum((x / s)**2))`` keeps the value and the
    gradient in range but not the Hessian: the tangents of ``x / s`` are
    ``1 / s`` ~ 1e300 at x ~ 1e-300 and their products overflow (nan where the
    truth ``(I - u u^T) / norm(x)`` is ~1e300; 0 at x ~ 1e300 where it is ~1e-300).
    Here every intermediate is of the order of the result: with ``u = x / norm(x)``
    the tangent is ``sum(u * a)`` and the ε1ε2 part
    ``sum(u * c) + (sum(a * b) - sum(u * a) * sum(u * b)) / norm(x)``; a zero
    slice has derivative 0 (the convention of :func:`_exactdiff.linalg._two_norm`).
    None (the composition decides) for nested or lazy parts.
    """
    cls = type(x)
    if cls.__name__ == "Taylor" and cls.__module__ == "hyperdual._taylor":
        return _taylor_two_norm(x, ax, keepdims, scale)
    if cls not in (Dual, HyperDual):
        return None
    parts = x._parts()
    if not all(type(p) is np.ndarray or type(p) is float for p in parts):
        return None
    nd = x.nd
    v = np.asarray(parts[0])
    axes = tuple(range(v.ndim)) if ax is None else tuple(ax) if isinstance(ax, tuple) else (ax,)
    axes = tuple(a % v.ndim for a in axes) if v.ndim else ()
    with np.errstate(all="ignore"):
        u = v / scale
        n = np.sqrt(np.sum(u * u, axis=axes, keepdims=True))
        y = n * scale
        zero = n == 0
        unit = np.where(zero, 0.0, u / np.where(zero, 1.0, n))

        def red(p, q):
            """sum over the reduced axes of p * q (the parts carry nd direction axes)."""
            prod = p * q
            k = np.ndim(prod) - v.ndim
            return np.sum(prod, axis=tuple(a + k for a in axes), keepdims=True)

        def lift(p):
            return np.asarray(p) if np.ndim(p) >= nd + v.ndim else np.reshape(
                p, (1,) * nd + np.shape(p))

        out = [y]
        tangents = [lift(p) for p in parts[1:]]
        d1 = [red(unit, t) for t in tangents[:2]]
        out += d1
        if cls is HyperDual:
            a, b, c = tangents
            # a.b - (u.a)(u.b) = a^T (I - u u^T) b.  Formed as written it cancels where
            # a or b is nearly along u: norm([1e-9, 1])'s d2/dx1^2 = 1 - u_1^2 = 1e-18
            # came out 0.  With |u| = 1 it equals sum_i a_i b_i S_i - sum_{i != j}
            # a_i u_i b_j u_j, S_i = sum_{j != i} u_j^2 (exclusive sums, no cancellation);
            # the second sum is (u.a)(u.b) - sum_i a_i b_i u_i^2, exactly 0 for a = b = e_k.
            ab = a * b
            outside = red(ab, _exclusive_sum(unit * unit, axes))
            inside = d1[0] * d1[1] - red(ab, unit * unit)
            cross = (outside - inside) / np.where(zero, 1.0, n) / scale
            out.append(red(unit, c) + np.where(zero, 0.0, cross))
    if not keepdims:
        out = [np.squeeze(p, axis=tuple(a + (np.ndim(p) - v.ndim) for a in axes))
               for p in out]
    r = out[0]
    shape = np.shape(r)
    out[0] = r if shape else r[()]
    res = []
    for p in out[1:]:
        p = np.asarray(p, dtype=v.dtype if v.dtype.kind == "f" else np.float64)
        res.append(p if np.ndim(p) else p[()])
    lead_ok = all(np.ndim(p) == nd + len(shape) for p in res)
    if not lead_ok:
        return None
    return cls._build(tuple([out[0]] + res), x.tag, nd)


_shared.SCALED_TWO_NORM["hyperdual"] = _scaled_two_norm


# --- compositions of the rules, shared with reverse mode (_exactdiff.linalg) ---
for _f, _impl in _shared.FUNCTIONS.items():
    implements(_f)(_impl)


def _register_names():
    # hyperdual.SUPPORTED_FUNCTIONS was listed before this family registered
    from .. import _number

    mine = {f.__module__ + "." + f.__name__ for f, impl in _number.HANDLED_FUNCTIONS.items()
            if impl.__module__ in (__name__, _shared.__name__)}
    _number.SUPPORTED_FUNCTIONS[:] = sorted(set(_number.SUPPORTED_FUNCTIONS) | mine)


_register_names()
