"""Reverse-mode rules of linear algebra: ``np.linalg.*`` and ``np.trace``.

Each decomposition is one :class:`~reverse.core.Function`; its backward is
written with numpy calls (``np.linalg.solve``, ``@``, masks), so on Variables
(``create_graph=True``) it builds a graph of the same Functions and every
order of derivative works, and on ``hyperdual`` data (forward-over-reverse)
it computes with Duals.  Backward passes use the factorisation, not an
inverse, where that is how the hand-written derivative goes: ``solve``'s
backward is one more solve with ``A^T``, ``det``/``slogdet`` solve with ``A^T``.

Functions with several outputs (``eigh``, ``svd``, ``qr``) are one Function
whose output packs them into one array; the public function slices it, so
an output that is not used sends a zero cotangent.

Conventions (the same as ``hyperdual.rules.linalg``; see the README):
``cholesky``/``eigh``/``eigvalsh`` are differentiated with respect to the
triangle numpy reads; eigenvector and singular-vector derivatives at repeated
values raise :class:`DegenerateDerivativeError` when the cotangent needs them
(an unused ``v`` of ``eigh`` costs nothing and raises nothing), and so do the
singular vectors of a zero singular value of a square matrix (they flip sign as it
crosses zero); ``det`` and
``slogdet`` raise ``LinAlgError`` at singular matrices; ``pinv`` and ``lstsq``
are differentiated at constant rank.  On lazy (dask) data nothing asks the values
(that computes them): where numpy data raises :class:`DegenerateDerivativeError`
the gradient comes out nan when it is computed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from _exactdiff import linalg as _shared
from _exactdiff.arrays import is_foreign_array, is_lazy, plain_array
from _exactdiff.messages import zero_singular_square
from _exactdiff.statistics import as_dtype

from ..core import FUNCTIONS, Function, Variable, _value
from ..utils import sum_to

try:  # scipy is a dependency; without it the numpy path below is used throughout
    import scipy.linalg as _lapack
except ImportError:  # pragma: no cover
    _lapack = None

try:
    from numpy.linalg._linalg import EighResult, QRResult, SlogdetResult, SVDResult
except ImportError:  # pragma: no cover - numpy < 2
    EighResult = QRResult = SlogdetResult = SVDResult = None

__all__ = ["DegenerateDerivativeError"]


DegenerateDerivativeError = _shared.DegenerateDerivativeError


def _result(kind: Any, *items: Any) -> Any:
    return tuple(items) if kind is None else kind(*items)


# ----------------------------------------------------------------------------
# Engine-neutral helpers (raw arrays, Duals or Variables)
# ----------------------------------------------------------------------------


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(_value(x)))


def _dtype(x: Any) -> Any:
    dt = np.result_type(_value(x))
    return dt if dt.kind == "f" else np.dtype(np.float64)


def _swap(x: Any) -> Any:
    return np.swapaxes(x, -1, -2)


def _tri(n: int, dt: Any, lower: bool, strict: bool = False) -> np.ndarray:
    t = np.tril(np.ones((n, n), dtype=dt), -1 if strict else 0)
    return t if lower else t.T


def _sym_adjoint(p: Any, lower: bool) -> Any:
    """Gradient w.r.t. the triangle numpy reads, from the gradient ``p`` of the
    symmetric matrix it builds: ``tril(p) + tril(p^T, -1)`` for the lower one."""
    n = _shape(p)[-1]
    dt = _dtype(p)
    return p * _tri(n, dt, lower) + _swap(p) * _tri(n, dt, lower, strict=True)


def _diag(x: Any) -> Any:
    """The diagonal of the last two axes (as a sum: reverse has no np.diagonal rule)."""
    n = _shape(x)[-1]
    return np.sum(x * np.eye(n, dtype=_dtype(x)), axis=-1)


def _diag_embed(v: Any) -> Any:
    n = _shape(v)[-1]
    return np.expand_dims(v, -1) * np.eye(n, dtype=_dtype(v))


def _gap_inverse(w: Any, squared: bool = False) -> tuple[Any, np.ndarray]:
    """``F[i, j] = 1/(w[j] - w[i])``, 0 on the diagonal and at repeated values
    (returned as a mask: the caller raises if they matter).  ``squared`` (svd): F is
    the pair ``(1/(w[j] - w[i]), 1/(w[j] + w[i]))`` whose product is ``1/(w[j]**2 -
    w[i]**2)``, never formed: squares of singular values near 1e-300 underflow
    (distinct values looked repeated), near 1e300 overflow.  Values repeat when their
    gap is below 8 n eps max|w| (unsquared in both cases)."""
    wv = _value(w)
    lazy = is_lazy(wv)  # dask: not asked (that computes); the mask stays lazy
    if not lazy:
        wv = np.asarray(wv)
    n = wv.shape[-1]
    diff = wv[..., None, :] - wv[..., :, None]
    if lazy:  # (dask's max takes no initial=)
        scale = np.max(np.abs(wv), axis=-1, keepdims=True)[..., None] if n else 0.0
    else:
        scale = np.max(np.abs(wv), axis=-1, keepdims=True, initial=0.0)[..., None]
    tol = 8 * n * np.finfo(wv.dtype).eps * scale
    eye = np.eye(n, dtype=wv.dtype)
    degenerate = (np.abs(diff) <= tol) & (eye == 0)
    keep = np.where(degenerate | (eye != 0), 0.0, 1.0).astype(wv.dtype)
    d = np.expand_dims(w, -2) - np.expand_dims(w, -1) + (1.0 - keep)
    if not squared:
        return keep / d, degenerate
    # between distinct values w[j] + w[i] >= |w[j] - w[i]| > 0
    total = np.expand_dims(w, -2) + np.expand_dims(w, -1) + (1.0 - keep)
    return (keep / d, 1.0 / total), degenerate


def _check_degenerate(degenerate: np.ndarray, inner: Any, name: str, what: str,
                      *cotangents: Any) -> Any:
    """Raise where the result depends on vectors of a repeated value.

    ``inner`` couples the vectors of two repeated values (its entries there would be
    divided by a zero gap). ``cotangents`` (of the vectors, one column per value) catch
    the rest: a vector of a repeated value is any unit vector of that eigenspace, the
    one numpy returns jumps under perturbations of any size, so no function of it has
    a derivative unless it is invariant under rotations of the eigenspace, which a
    cotangent cannot show (``V[0, 0]`` at ``diag(1, 1, 2)`` has ``V^T gV`` zero between
    the repeated pair but jumps from 1 to 0.707 when ``A[0, 1]`` moves; a zero there
    made it 0). So any nonzero cotangent on such a vector raises, as forward mode does
    whenever the vectors are formed at repeated values.

    Lazy (dask) ``degenerate``: nothing is asked (that computes); returns the lazy
    condition instead, for :func:`_marked` (None on numpy data).
    """
    if is_lazy(degenerate):
        repeated = np.expand_dims(np.any(degenerate, axis=-2), -2)
        flag = _touches_lazy(degenerate, inner)
        for g in cotangents:
            flag = flag | _touches_lazy(repeated, g)
        return flag
    if not degenerate.any():
        return None
    bad = _touches(degenerate, inner)
    repeated = np.expand_dims(np.any(degenerate, axis=-2), -2)  # columns of repeated values
    for g in cotangents:
        bad = bad or _touches(repeated, g)
    if bad:
        raise DegenerateDerivativeError(
            f"numpy.linalg.{name}: repeated {what} (equal to working precision): the "
            "derivative of the corresponding vectors does not exist there"
            + ("; use np.linalg.eigvalsh for eigenvalues only" if name == "eigh" else
               "; use np.linalg.svd(a, compute_uv=False) for singular values only"))
    return None


def _touches_lazy(mask: Any, g: Any) -> Any:
    """:func:`_touches` as a lazy boolean (dask data: nothing is asked)."""
    flag = None
    for p in _parts(g):
        t = np.any(np.where(mask, p, 0) != 0)
        flag = t if flag is None else flag | t
    return flag


def _either(flag: Any, other: Any) -> Any:
    """The lazy conditions ``flag | other`` (None: no condition)."""
    return other if flag is None else flag if other is None else flag | other


def _marked(flag: Any, ga: Any) -> Any:
    """``ga`` with nan where the lazy condition ``flag`` holds: where numpy data raises
    :class:`DegenerateDerivativeError`, the gradient of lazy data comes out nan when it
    is computed (one condition for the whole stack, as numpy data's error is)."""
    return ga if flag is None else _shared.nan_where(flag, ga)


def _parts(x: Any) -> list:
    """Every float part of a cotangent: a Variable's data, a (nested) Dual's parts."""
    if isinstance(x, Variable):
        x = x.data
    if _value(x) is not x and hasattr(x, "_parts"):
        return [q for p in x._parts() for q in _parts(p)]
    return [plain_array(x)]  # (a dask part stays lazy)


def _touches(mask: np.ndarray, g: Any) -> bool:
    """Whether any part of ``g`` (Dual parts too: a zero cotangent with a nonzero
    tangent still needs the vector's derivative at second order) is nonzero in ``mask``."""
    return any(np.any(np.where(mask, p, 0) != 0) for p in _parts(g))


def _dual_data(a: Any) -> bool:
    """Whether the data (of a Variable) is a hyperdual number (forward-over-reverse)."""
    if isinstance(a, Variable):
        a = a.data
    return _value(a) is not a and not isinstance(a, np.ndarray)


def _check_zero_singular(s: Any, gu: Any, gv: Any, gs: Any) -> None:
    """Raise where the cotangent reaches a vector of a zero singular value of a square
    matrix (to working precision).

    numpy keeps s >= 0, so where the smallest singular value crosses zero (its signed
    branch u_n^T A v_n changes sign) numpy flips u_n or v_n: the vectors jump
    (``Vh[1, 1]`` of ``diag(1, t)`` is ``sign(t)``) and have no derivative. The
    backward formulas differentiate the signed branch and gave 0 there. The values,
    and the vectors of the other values (their derivatives use u_n and v_n only in
    sign-invariant products), keep their derivatives.
    """
    sv = np.asarray(_value(s))
    n = sv.shape[-1]
    if sv.size == 0:
        return
    zero = sv <= 8 * n * np.finfo(sv.dtype).eps * sv[..., :1]
    if not np.any(zero):
        return
    # a cotangent on those vectors below working precision of the whole cotangent is a
    # rounding of zero: U S Vh (= A) sends g v_n s_n to u_n, with s_n ~ 1e-16 s_0 where
    # the matrix is singular in exact arithmetic (gs is per unit of s: times s_0)
    parts = _parts(gu) + _parts(gv)
    scale = max([float(np.max(np.abs(p), initial=0.0)) for p in parts]
                + [float(np.max(np.abs(p), initial=0.0)) * float(np.max(sv))
                   for p in _parts(gs)])
    cols = np.expand_dims(zero, -2)
    tol = 8 * n * np.finfo(sv.dtype).eps * scale
    if any(np.any(np.abs(np.where(cols, p, 0)) > tol) for p in parts):
        raise DegenerateDerivativeError(zero_singular_square(
            "; here the result depends on the sign of those vectors"))


def _as_operand(x: Any) -> Any:
    if isinstance(x, Variable) or isinstance(x, np.ndarray):
        return x
    v = _value(x)
    if v is not x:  # a hyperdual number
        return x
    if is_foreign_array(x):  # (np.asarray would compute a dask array)
        return plain_array(x, _dtype(x))
    return np.asarray(x, dtype=_dtype(np.asarray(x)))


def _square(a: Any) -> None:
    s = _shape(a)
    if len(s) < 2:
        raise np.linalg.LinAlgError(
            f"{len(s)}-dimensional array given. Array must be at least two-dimensional")
    if s[-1] != s[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")


def _matrix(a: Any) -> None:
    s = _shape(a)
    if len(s) < 2:
        raise np.linalg.LinAlgError(
            f"{len(s)}-dimensional array given. Array must be at least two-dimensional")


# ----------------------------------------------------------------------------
# Functions
# ----------------------------------------------------------------------------


# --- plain-array fast path: keep the LU factorisation of the forward pass ------
# On 2-d float arrays, solve/det/slogdet factor with scipy's getrf and keep the
# factors, so the backward pass (raw numbers) solves with A^T in O(n^2) and
# forms A^-T from the factors (getri) instead of factoring A again.


def _plain_matrix(a: Any) -> bool:
    return (_lapack is not None and type(a) is np.ndarray and a.ndim == 2
            and a.dtype in (np.float64, np.float32) and a.shape[0] > 0)


def _raw(g: Any) -> bool:
    """A plain-number cotangent (not a Variable of a graph, not a Dual)."""
    return isinstance(g, (np.ndarray, np.generic, float))


def _lu(a: Any) -> Any:
    """(lu, piv) of a plain square matrix; None if it is singular (numpy's path decides)."""
    getrf, = _lapack.get_lapack_funcs(("getrf",), (a,))
    lu, piv, info = getrf(a)
    if info != 0 or not np.all(np.isfinite(lu.diagonal())):
        return None
    return lu, piv


def _lu_solve(f: Any, b: Any, trans: int = 0) -> Any:
    getrs, = _lapack.get_lapack_funcs(("getrs",), (f[0],))
    x, info = getrs(f[0], f[1], b, trans=trans)
    return x


def _lu_inv_t(f: Any) -> Any:
    """``A^-T`` from the factors (getri: 4/3 n^3, a fresh inverse costs 2n^3 more)."""
    getri, lwork = _lapack.get_lapack_funcs(("getri", "getri_lwork"), (f[0],))
    work, info = lwork(f[0].shape[0])
    inv, info = getri(f[0], f[1], lwork=max(1, int(work)))
    return inv.T


def _lu_slogdet(f: Any) -> tuple[Any, Any]:
    d = f[0].diagonal()
    swaps = np.count_nonzero(f[1] != np.arange(f[1].shape[0]))
    sign = (-1.0) ** swaps * np.prod(np.sign(d))
    return np.asarray(sign, dtype=d.dtype), np.sum(np.log(np.abs(d)))


_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


def _vector_rhs(a: Any, b: Any) -> bool:
    """Whether solve treats ``b`` as (stacked) vectors: numpy 2 only for 1-d ``b``."""
    nb = len(_shape(b))
    return nb == 1 if _NUMPY2 else nb == len(_shape(a)) - 1


class Solve(Function):
    """``np.linalg.solve(a, b)``; backward: one solve with ``a^T``."""

    __slots__ = ("lu",)

    def forward(self, a: Any, b: Any) -> Any:
        self.lu = None
        if _plain_matrix(a) and type(b) is np.ndarray and b.ndim in (1, 2) \
                and b.dtype == a.dtype:
            self.lu = _lu(a)
            if self.lu is not None:
                return _lu_solve(self.lu, b)
        return np.linalg.solve(a, b)

    def backward(self, gy: Any, y: Any, a: Any, b: Any) -> Any:
        ia, ib = self._inputs
        vec = _vector_rhs(a, b)
        # (raw mode only: with create_graph the inputs are Variables, the seed may not be)
        if (self.lu is not None and type(a) is np.ndarray and _raw(gy)
                and np.result_type(gy) == self.lu[0].dtype):
            g = _lu_solve(self.lu, np.expand_dims(gy, -1) if vec else gy, trans=1)
        else:
            g = np.linalg.solve(_swap(a), np.expand_dims(gy, -1) if vec else gy)
        ga = gb = None
        if isinstance(ia, Variable):
            if vec:  # g is (..., n, 1) here
                ga = -(g * np.expand_dims(y, -2))
            else:
                ga = -np.matmul(g, _swap(y))
            ga = sum_to(ga, _shape(a))
        if isinstance(ib, Variable):
            gb = sum_to(g[..., 0] if vec else g, _shape(b))
        return ga, gb


class Inv(Function):
    """``np.linalg.inv(a)``; backward ``-Y^T gY Y^T``."""

    __slots__ = ()

    def forward(self, a: Any) -> Any:
        return np.linalg.inv(a)

    def backward(self, gy: Any, y: Any, a: Any) -> Any:
        yt = _swap(y)
        return -np.matmul(np.matmul(yt, gy), yt)


def _eye_times(c: Any, a: Any) -> Any:
    n = _shape(a)[-1]
    return np.expand_dims(np.expand_dims(c, -1), -1) * np.eye(n, dtype=_dtype(a))


class Det(Function):
    """``np.linalg.det(a)``; backward ``gy det(a) a^-T`` by one solve with ``a^T``."""

    __slots__ = ("lu", "degenerate")

    def forward(self, a: Any) -> Any:
        self.degenerate = None  # (lazy data at second order: decided once, in backward)
        self.lu = _lu(a) if _plain_matrix(a) else None
        if self.lu is not None:  # the factors give the value too (numpy's det is the same)
            d = self.lu[0].diagonal()
            swaps = np.count_nonzero(self.lu[1] != np.arange(d.shape[0]))
            return np.asarray(np.prod(d) * (-1.0 if swaps % 2 else 1.0), dtype=d.dtype)
        if is_lazy(a):  # dask has no det (it computes the array): blockwise, lazily
            return _shared.lazy_det(a)
        return np.linalg.det(a)

    def backward(self, gy: Any, y: Any, a: Any) -> Any:
        if is_lazy(a):  # numpy's cofactor/inverse choice, made blockwise when computed
            return np.expand_dims(np.expand_dims(gy, -1), -1) * _shared.lazy_det_gradient(a)
        if _shared.small_det(a):  # cofactors as polynomials: exact at
            # every order and rank (a graph of products when building one)
            return np.expand_dims(np.expand_dims(gy, -1), -1) * _shared.small_cofactors(a)
        if _shared.plain_lazy(a) is not None:  # a second derivative on dask data
            if self.degenerate is None:  # (one compute, for every backward pass: dask's
                self.degenerate = _shared.det_decision(a)  # own det computes)
            degenerate = self.degenerate
        else:
            degenerate = _shared.det_out_of_range(a, y) or _shared.det_degenerate(a, self.lu)
        # (nearly) singular, or det(a) = y under/overflowed: gy times the cofactors
        if degenerate:
            return np.expand_dims(np.expand_dims(gy, -1), -1) * _shared.det_cofactors(a)
        if self.lu is not None and type(a) is np.ndarray and _raw(gy):
            return (gy * y) * _lu_inv_t(self.lu)
        return np.linalg.solve(_swap(a), _eye_times(gy * y, a))


class Slogdet(Function):
    """``log|det(a)|`` of ``np.linalg.slogdet``; the sign (piecewise constant) is kept."""

    __slots__ = ("sign", "lu")

    def forward(self, a: Any) -> Any:
        self.lu = _lu(a) if _plain_matrix(a) else None
        if self.lu is not None:
            self.sign, logdet = _lu_slogdet(self.lu)
            return logdet
        # (dask has no slogdet: it computes the array; blockwise here, lazily)
        sign, logdet = _shared.lazy_slogdet(a) if is_lazy(a) else np.linalg.slogdet(a)
        self.sign = _value(sign)
        return logdet

    def backward(self, gy: Any, y: Any, a: Any) -> Any:
        if self.lu is not None and type(a) is np.ndarray and _raw(gy):
            return gy * _lu_inv_t(self.lu)
        if is_lazy(a):  # a^-T blockwise, lazily (dask's solve needs square chunks)
            return np.expand_dims(np.expand_dims(gy, -1), -1) * _shared.lazy_inv_t(a)
        return np.linalg.solve(_swap(a), _eye_times(gy, a))


class Cholesky(Function):
    """``np.linalg.cholesky(a, upper=)``, differentiated w.r.t. the triangle it reads."""

    __slots__ = ("upper",)

    def __init__(self, upper: bool = False) -> None:
        self.upper = bool(upper)

    def forward(self, a: Any) -> Any:
        # (dask's np.linalg.cholesky gives the upper factor: numpy's lower one is asked)
        if self.upper:  # the lower factor of a^T reads a's upper triangle (numpy < 2)
            return _swap(_shared.cholesky_lower(_swap(a)))
        return _shared.cholesky_lower(a)

    def backward(self, gy: Any, y: Any, a: Any) -> Any:
        low, gl = (_swap(y), _swap(gy)) if self.upper else (y, gy)
        n = _shape(a)[-1]
        dt = _dtype(a)
        phi = np.tril(np.ones((n, n), dtype=dt), -1) + 0.5 * np.eye(n, dtype=dt)
        psi = np.matmul(_swap(low), gl) * phi
        lt = _swap(low)
        z = np.linalg.solve(lt, _swap(psi))          # L^-T psi^T
        p = np.linalg.solve(lt, _swap(z))            # L^-T psi L^-1
        return _sym_adjoint(p, lower=not self.upper)


class Eigh(Function):
    """``np.linalg.eigh``: output ``[w; V]`` packed as ``(..., n + 1, n)``."""

    __slots__ = ("uplo",)

    def __init__(self, uplo: str = "L") -> None:
        self.uplo = uplo

    def forward(self, a: Any) -> Any:
        if is_lazy(a):  # dask has no eigh (it computes the array): blockwise, lazily
            return _shared.lazy_eigh_packed(a, self.uplo)
        w, v = np.linalg.eigh(a, self.uplo)
        return np.concatenate([np.expand_dims(w, -2), v], axis=-2)

    def backward(self, gy: Any, y: Any, a: Any) -> Any:
        w, v = y[..., 0, :], y[..., 1:, :]
        gw, gv = gy[..., 0, :], gy[..., 1:, :]
        f, degenerate = _gap_inverse(w)
        inner = np.matmul(_swap(v), gv)
        # (lazy data: the condition, not asked; nan where numpy data raises)
        flag = _check_degenerate(degenerate, inner, "eigh", "eigenvalues", gv)
        mid = _diag_embed(gw) + f * inner
        if isinstance(gy, Variable) and (flag is not None or degenerate.any()):
            mid = mid + _RepeatedVectorsMark(degenerate)(gv)
        p = np.matmul(np.matmul(v, mid), _swap(v))
        return _marked(flag, _sym_adjoint(p, lower=self.uplo.upper() == "L"))


class SVD(Function):
    """Reduced ``np.linalg.svd``: output ``U, s, Vh`` flattened and joined on the last axis."""

    __slots__ = ()

    def forward(self, a: Any) -> Any:
        if _dual_data(a):
            # Dual data (forward-over-reverse): the vectors' tangents without raising at
            # repeated or zero values; backward raises where the cotangent needs them
            from hyperdual.rules.linalg import _svd_vectors

            u, s, vh = _svd_vectors(a, "lenient")
        else:
            u, s, vh = np.linalg.svd(a, full_matrices=False)
        batch = _shape(s)[:-1]
        m, n = _shape(a)[-2:]
        k = min(m, n)  # explicit sizes: a -1 is ambiguous for an empty batch
        return np.concatenate([np.reshape(u, batch + (m * k,)), s,
                               np.reshape(vh, batch + (k * n,))], axis=-1)

    def backward(self, gy: Any, y: Any, a: Any) -> Any:
        m, n = _shape(a)[-2:]
        u, s, vh = _unpack_svd(y, m, n)
        gu, gs, gvh = _unpack_svd(gy, m, n)
        if is_lazy(_value(s)):
            return _svd_backward_lazy(gy, y, a, u, s, vh, gu, gs, gvh)
        (f, h), degenerate = _gap_inverse(s, squared=True)
        if _dual_data(a) and degenerate.any():
            u, vh = _unmarked_vectors(u, vh, degenerate, gu, gs, gvh)
        gv = _swap(gvh)
        ju = np.matmul(_swap(u), gu)
        ju = ju - _swap(ju)
        jv = np.matmul(vh, gv)
        jv = jv - _swap(jv)
        _check_degenerate(degenerate, ju, "svd", "singular values", gu, gv)
        _check_degenerate(degenerate, jv, "svd", "singular values")
        if _dual_data(a) and degenerate.any():
            # Dual data (forward-over-reverse): the tangents of the vectors of repeated
            # values (made without raising in forward) are not the truth, and they enter
            # ga through every cotangent that couples to them: gs_j (d(gs_j u_j v_j^T)),
            # and the rows/columns j of the couplings (d(s_j u_j v_j^T) over the cluster
            # needs the rotation inside it).  Reverse-over-reverse raises there too.
            rep = np.any(degenerate, axis=-2)
            lines = np.expand_dims(rep, -1) | np.expand_dims(rep, -2)
            if _touches(rep, gs) or _touches(lines, ju) or _touches(lines, jv):
                _check_degenerate(degenerate, np.ones(np.shape(degenerate)), "svd",
                                  "singular values")
        if m == n:
            _check_zero_singular(s, gu, gv, gs)
        if m != n and min(m, n) > 0 and np.any(np.asarray(_value(s))[..., -1] == 0):
            raise DegenerateDerivativeError(
                "numpy.linalg.svd: a zero singular value of a non-square matrix: the "
                "singular vectors have no derivative there")
        mark = isinstance(gy, Variable) and degenerate.any()
        return _svd_gradient(u, s, vh, gu, gs, gv, f, h, ju, jv, degenerate, mark)


def _svd_gradient(u: Any, s: Any, vh: Any, gu: Any, gs: Any, gv: Any, f: Any, h: Any,
                  ju: Any, jv: Any, degenerate: Any, mark: bool) -> Any:
    """The gradient of ``a = u diag(s) vh`` from the cotangents, once the backward
    pass (numpy or lazy data) has checked them; ``mark``: add the repeated-vectors mark
    of a pass recorded on Variables (double backprop)."""
    m, n = _shape(u)[-2], _shape(vh)[-1]
    row, col = np.expand_dims(s, -2), np.expand_dims(s, -1)
    # f h = 1/(s_j^2 - s_i^2); s h = s/(s_i + s_j) stays in [0, 1] at any scale
    mid = (f * ju) * (row * h) + _diag_embed(gs) + (col * h) * (f * jv)
    if mark:
        mid = mid + _RepeatedVectorsMark(degenerate)(gu, gv)
    ga = np.matmul(np.matmul(u, mid), vh)
    if m > n:
        proj = gu - np.matmul(u, np.matmul(_swap(u), gu))
        ga = ga + np.matmul(proj / row, vh)
    elif n > m:
        proj = gv - np.matmul(_swap(vh), np.matmul(vh, gv))
        ga = ga + np.matmul(u, _swap(proj / row))
    return ga


def _svd_backward_lazy(gy: Any, y: Any, a: Any, u: Any, s: Any, vh: Any, gu: Any, gs: Any,
                       gvh: Any) -> Any:
    """:meth:`SVD.backward` on lazy (dask) values: the same gradient, but no check asks
    the values (that computes them); where numpy data raises
    :class:`DegenerateDerivativeError` the gradient is nan (:func:`_marked`)."""
    m, n = _shape(a)[-2:]
    (f, h), degenerate = _gap_inverse(s, squared=True)
    rep = np.any(degenerate, axis=-2)  # the repeated values' columns of U, rows of Vh
    flag = None
    dual = _dual_data(a)
    if dual:  # the nan marks of the forward pass (see _unmarked_vectors)
        for g in (gu, gs, gvh):
            for p in _parts(g)[1:]:
                flag = _either(flag, np.any(np.isnan(p)))
        u = np.where(np.expand_dims(rep, -2), _value(u), u)
        vh = np.where(np.expand_dims(rep, -1), _value(vh), vh)
    gv = _swap(gvh)
    ju = np.matmul(_swap(u), gu)
    ju = ju - _swap(ju)
    jv = np.matmul(vh, gv)
    jv = jv - _swap(jv)
    flag = _either(flag, _check_degenerate(degenerate, ju, "svd", "singular values", gu, gv))
    flag = _either(flag, _check_degenerate(degenerate, jv, "svd", "singular values"))
    if dual:
        lines = np.expand_dims(rep, -1) | np.expand_dims(rep, -2)
        flag = _either(flag, _touches_lazy(rep, gs) | _touches_lazy(lines, ju)
                       | _touches_lazy(lines, jv))
    sv = _value(s)
    if m == n and n > 0:  # _check_zero_singular's condition
        zero = sv <= 8 * n * np.finfo(sv.dtype).eps * sv[..., :1]
        parts = _parts(gu) + _parts(gv)
        scale = None
        for p in parts + [q * np.max(sv) for q in _parts(gs)]:
            big = np.max(np.abs(p)) if p.size else 0.0
            scale = big if scale is None else np.maximum(scale, big)
        tol = 8 * n * np.finfo(sv.dtype).eps * scale
        cols = np.expand_dims(zero, -2)
        for p in parts:
            flag = _either(flag, np.any(np.abs(np.where(cols, p, 0)) > tol))
    elif min(m, n) > 0:  # a zero singular value of a non-square matrix
        flag = _either(flag, np.any(sv[..., -1] == 0))
    mark = isinstance(gy, Variable)  # (lazy: not asked whether any value repeats)
    return _marked(flag, _svd_gradient(u, s, vh, gu, gs, gv, f, h, ju, jv, degenerate,
                                       mark))


class _RepeatedVectorsMark(Function):
    """A zero added to the middle factor of a backward pass recorded on Variables
    (double backprop) at repeated values (eigh's or svd's).

    The first pass let the vectors' cotangents through where they are zero in value in
    the repeated columns, but such a cotangent can still depend on the inputs (``u00**2``
    where ``u00 = 0``: ``2 u00``), and its derivative meets the infinite gap inverse
    there (the rotation inside the cluster has no derivative); the mask made it 0.  A
    second pass that reaches this zero sends nan to those cotangents' repeated
    columns, so that the nan reaches the decomposition's own backward (which raises
    ``DegenerateDerivativeError``: a nan cotangent on a repeated value's vector) or,
    failing that, the result: never a finite number.  A cotangent that does not
    depend on the inputs there (a constant, or zeros the first pass's slicing put in
    the unused outputs) takes nothing."""

    __slots__ = ("degenerate",)

    def __init__(self, degenerate: np.ndarray) -> None:
        self.degenerate = degenerate

    def forward(self, *gs: Any) -> Any:
        return np.zeros(np.shape(self.degenerate), dtype=_dtype(gs[0]))

    def backward(self, gy: Any, y: Any, *gs: Any) -> Any:
        # whatever gy is: a direction that leaves the pair's coupling zero (a diagonal
        # perturbation of diag(1, 1 + 2**-50)) still meets the infinite gap inverse
        # times 0, as the nan marks of forward-over-reverse do (and hyperdual raises)
        rep = np.expand_dims(np.any(self.degenerate, axis=-2), -2)
        out = [np.where(np.broadcast_to(rep, _shape(g)), np.nan, 0.0).astype(_dtype(g))
               for g in gs]
        return tuple(out) if len(out) > 1 else out[0]


def _unmarked_vectors(u: Any, vh: Any, degenerate: np.ndarray,
                      *cotangents: Any) -> tuple[Any, Any]:
    """The forward pass on Dual data (forward-over-reverse) marks the tangents of the
    vectors of repeated singular values nan (their rotation inside the cluster has no
    derivative). A cotangent whose tangent parts carry that nan depends on them:
    raise. Otherwise give those vectors zero tangents, which every use that passed the
    checks (rotation-invariant ones, or none) does not see."""
    if any(np.isnan(p).any() for g in cotangents for p in _parts(g)[1:]):
        _check_degenerate(degenerate, np.ones(np.shape(degenerate)), "svd",
                          "singular values")  # raises, with the message of every svd case
    rep = np.any(degenerate, axis=-2)  # the repeated values' columns of U, rows of Vh
    u = np.where(np.expand_dims(rep, -2), _value(u), u)
    vh = np.where(np.expand_dims(rep, -1), _value(vh), vh)
    return u, vh


def _unpack_svd(packed: Any, m: int, n: int) -> tuple[Any, Any, Any]:
    k = min(m, n)
    batch = _shape(packed)[:-1]
    u = np.reshape(packed[..., :m * k], batch + (m, k))
    s = packed[..., m * k:m * k + k]
    vh = np.reshape(packed[..., m * k + k:], batch + (k, n))
    return u, s, vh


class QR(Function):
    """Reduced ``np.linalg.qr``: output ``Q, R`` flattened and joined on the last axis."""

    __slots__ = ()

    def forward(self, a: Any) -> Any:
        q, r = np.linalg.qr(a)
        batch = _shape(a)[:-2]
        m, n = _shape(a)[-2:]
        k = min(m, n)  # explicit sizes: a -1 is ambiguous for an empty batch
        return np.concatenate([np.reshape(q, batch + (m * k,)), np.reshape(r, batch + (k * n,))],
                              axis=-1)

    def backward(self, gy: Any, y: Any, a: Any) -> Any:
        m, n = _shape(a)[-2:]
        q, r = _unpack_qr(y, m, n)
        gq, gr = _unpack_qr(gy, m, n)
        if m >= n:
            return _qr_square_backward(q, r, gq, gr)
        rest = a[..., :, m:]
        gr2 = gr[..., :, m:]
        gx = _qr_square_backward(q, r[..., :, :m], gq + np.matmul(rest, _swap(gr2)),
                                 gr[..., :, :m])
        return np.concatenate([gx, np.matmul(q, gr2)], axis=-1)


def _unpack_qr(packed: Any, m: int, n: int) -> tuple[Any, Any]:
    k = min(m, n)
    batch = _shape(packed)[:-1]
    return (np.reshape(packed[..., :m * k], batch + (m, k)),
            np.reshape(packed[..., m * k:], batch + (k, n)))


def _qr_square_backward(q: Any, r: Any, gq: Any, gr: Any) -> Any:
    m, n = _shape(q)[-2:]
    rv = _value(r)
    if is_lazy(rv):  # not asked (that computes): a rank deficiency gives nan
        flag = _shared.qr_rank_deficient(rv, m > n)[..., None, None]
        return _shared.nan_where(flag, _qr_square_gradient(q, r, gq, gr))
    _shared.qr_rank_check(np.asarray(rv), m > n)
    return _qr_square_gradient(q, r, gq, gr)


def _qr_square_gradient(q: Any, r: Any, gq: Any, gr: Any) -> Any:
    """:func:`_qr_square_backward` after its rank check."""
    m, n = _shape(q)[-2:]
    dt = _dtype(r)
    if m > n:
        w = np.matmul(gr, _swap(r)) - np.matmul(_swap(q), gq)
        z = w * _tri(n, dt, lower=False) + _swap(w) * _tri(n, dt, lower=True, strict=True)
        return _swap(np.linalg.solve(r, _swap(gq + np.matmul(q, z))))
    # Square: the adjoint of hyperdual's square rule (dQ = Q Omega, dR = B - Omega R,
    # B = Q^T dA, Omega = L - L^T, L the strictly lower part of B R^-1): with
    # K = Q^T gQ - gR R^T and P the strictly lower part of K - K^T, gA = Q (gR + P R^-T).
    # P's last column is zero, so P R^-T needs only the leading block R1: a zero last
    # pivot (rank n - 1, Q still unique) is not divided by, where (gQ + Q z) R^-T
    # returned rounding noise / 1e-16 (qr of [[1, 2], [2, 4]]).
    gr = gr * _tri(n, dt, lower=False)  # R's lower triangle is a constant 0
    gb = gr
    if n > 1:
        k = np.matmul(_swap(q), gq) - np.matmul(gr, _swap(r))
        p = (k - _swap(k))[..., :, :n - 1] * np.tril(np.ones((n, n - 1), dtype=dt), -1)
        x = _swap(np.linalg.solve(r[..., :n - 1, :n - 1], _swap(p)))
        gb = gb + np.matmul(x, np.eye(n - 1, n, dtype=dt))
    return np.matmul(q, gb)


class Pinv(Function):
    """``np.linalg.pinv``, differentiated at constant rank."""

    __slots__ = ("kw",)

    def __init__(self, **kw: Any) -> None:
        self.kw = kw

    def forward(self, a: Any) -> Any:
        if is_lazy(a) and a.ndim == 2:  # (dask has no pinv: from dask's svd, lazily)
            return _shared.lazy_pinv(a, **self.kw)
        return np.linalg.pinv(a, **self.kw)

    def backward(self, gy: Any, y: Any, a: Any) -> Any:
        m, n = _shape(a)[-2:]
        dt = _dtype(a)
        pt = _swap(y)
        gt = _swap(gy)
        ga = -np.matmul(np.matmul(pt, gy), pt)
        i_ap = np.eye(m, dtype=dt) - np.matmul(a, y)
        i_pa = np.eye(n, dtype=dt) - np.matmul(y, a)
        ga = ga + np.matmul(np.matmul(i_ap, gt), np.matmul(y, pt))
        ga = ga + np.matmul(np.matmul(pt, y), np.matmul(gt, i_pa))
        return ga


class Trace(Function):
    """``np.trace(x, offset, axis1, axis2)``; the gradient sits on that diagonal."""

    __slots__ = ("offset", "axis1", "axis2")

    def __init__(self, offset: int, axis1: int, axis2: int) -> None:
        self.offset, self.axis1, self.axis2 = offset, axis1, axis2

    def forward(self, x: Any) -> Any:
        return np.trace(x, self.offset, self.axis1, self.axis2)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        shape = _shape(x)
        nd = len(shape)
        a1, a2 = self.axis1 % nd, self.axis2 % nd
        mask = np.eye(shape[a1], shape[a2], k=self.offset, dtype=_dtype(x))
        if a1 > a2:
            mask = mask.T
        mshape = [1] * nd
        mshape[a1], mshape[a2] = shape[a1], shape[a2]
        return np.expand_dims(gy, (min(a1, a2), max(a1, a2))) * np.reshape(mask, mshape)


# ----------------------------------------------------------------------------
# Public entry points (numpy dispatch)
# ----------------------------------------------------------------------------


def solve(a: Any, b: Any) -> Any:
    a, b = _as_operand(a), _as_operand(b)
    _square(a)
    return Solve()(a, b)


def inv(a: Any) -> Any:
    _square(a)
    return Inv()(a)


def det(a: Any) -> Any:
    _square(a)
    return Det()(a)


def slogdet(a: Any) -> Any:
    _square(a)
    f = Slogdet()
    logdet = f(a)
    return _result(SlogdetResult, f.sign, logdet)


def cholesky(a: Any, /, *, upper: bool = False) -> Any:
    _square(a)
    return Cholesky(upper)(a)


def eigh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 (numpy's name)
    _square(a)
    if UPLO not in ("L", "U", "l", "u"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    out = Eigh(UPLO.upper())(a)
    return _result(EighResult, out[..., 0, :], out[..., 1:, :])


def eigvalsh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803
    return eigh(a, UPLO)[0]


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    _matrix(a)
    if hermitian:  # numpy's eigh path (lower triangle), not the general SVD
        _square(a)
        out = _shared.svd_hermitian(a, compute_uv)
        return _result(SVDResult, *out) if compute_uv else out
    m, n = _shape(a)[-2:]
    if compute_uv and full_matrices and m != n:
        raise TypeError(
            "reverse: numpy.linalg.svd(full_matrices=True) of a non-square matrix: the extra "
            "singular vectors are not unique, so they have no derivative; use "
            "full_matrices=False")
    u, s, vh = _unpack_svd(SVD()(a), m, n)
    return _result(SVDResult, u, s, vh) if compute_uv else s


def qr(a: Any, mode: str = "reduced") -> Any:
    _matrix(a)
    m, n = _shape(a)[-2:]
    if mode not in ("reduced", "r", "complete") or (mode == "complete" and m > n):
        raise TypeError(
            f"reverse: numpy.linalg.qr(mode={mode!r}) is not differentiable "
            + ("(the extra columns of Q are not unique); use mode='reduced'"
               if mode == "complete" else "; use mode='reduced' or 'r'"))
    q, r = _unpack_qr(QR()(a), m, n)
    return r if mode == "r" else _result(QRResult, q, r)


def pinv(a: Any, rcond: Any = None, hermitian: bool = False, **kw: Any) -> Any:
    _matrix(a)
    if hermitian:  # numpy reads the lower triangle only (through eigh)
        _square(a)
        a = _shared.hermitian_from_lower(a)
    if rcond is not None:
        kw["rcond"] = rcond
    return Pinv(**kw)(a)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: Any = None) -> Any:
    if out is not None:
        raise TypeError("reverse: np.trace with out= is not supported")
    a = as_dtype("trace", a, dtype)  # a floating dtype=: the cast input's trace, as numpy
    return Trace(int(offset), int(axis1), int(axis2))(a)


for _np_f, _impl in ((np.linalg.solve, solve), (np.linalg.inv, inv), (np.linalg.det, det),
                     (np.linalg.slogdet, slogdet), (np.linalg.cholesky, cholesky),
                     (np.linalg.eigh, eigh), (np.linalg.eigvalsh, eigvalsh),
                     (np.linalg.svd, svd), (np.linalg.qr, qr), (np.linalg.pinv, pinv),
                     (np.trace, trace)):
    FUNCTIONS[_np_f] = _impl
# compositions of the rules above, shared with forward mode
FUNCTIONS.update(_shared.FUNCTIONS)


# --- the vector 2-norm: its gradient and Hessian without cancellation ---------
# The composition sqrt(sum(x * x)) has the Hessian 1/n - x_k^2/n^3 on the diagonal,
# which cancels to 0 where x_k carries nearly all the norm (norm([1e-9, 1]): 0 where
# the truth is 1e-18).  Here the gradient is the unit vector u = x / n, a Function of
# its own whose derivative P c / n (P = I - u u^T) is formed as
# c_k S_k - u_k (u.c - u_k c_k), S_k = sum_{j != k} u_j^2: no subtraction of nearly
# equal numbers for any c along a coordinate, on raw data, on Variables
# (reverse-over-reverse) and on Dual data (forward-over-reverse).


def _exclusive_sum(w: Any, axes: tuple) -> Any:
    """The sum of the other entries of each slice over ``axes`` (prefix plus suffix
    cumulative sums: nothing is subtracted)."""
    k = len(axes)
    end = tuple(range(-k, 0))
    moved = np.moveaxis(w, axes, end)
    shape = np.shape(moved)
    flat = np.reshape(moved, shape[:len(shape) - k] + (-1,))
    zero = 0.0 * flat[..., :1]
    before = np.concatenate([zero, np.cumsum(flat, axis=-1)[..., :-1]], axis=-1)
    after = np.concatenate([np.flip(np.cumsum(np.flip(flat, axis=-1), axis=-1), axis=-1)[..., 1:],
                            zero], axis=-1)
    return np.moveaxis(np.reshape(before + after, shape), end, axes)


def _project(c: Any, u: Any, axes: tuple) -> Any:
    """``(I - u u^T) c`` over ``axes`` for a unit (or zero) ``u``, without cancellation
    along a coordinate (see above)."""
    uc = u * c
    return c * _exclusive_sum(u * u, axes) - u * (np.sum(uc, axis=axes, keepdims=True) - uc)


def _norm_parts(x: np.ndarray, axes: tuple) -> tuple:
    """``(u, n)``: the unit vector (0 on an all-zero slice) and the norm (keepdims) of
    plain data, scaled by a power of two so that no square under- or overflows."""
    with np.errstate(all="ignore"):
        m = np.max(np.abs(x), axis=axes, keepdims=True)
        ok = (m != 0) & np.isfinite(m)
        s = np.ldexp(np.ones_like(m), np.frexp(np.where(ok, m, 1.0))[1])
        xs = x / s
        ns = np.sqrt(np.sum(xs * xs, axis=axes, keepdims=True))
        u = np.where(ns == 0, 0.0 * xs, xs / np.where(ns == 0, 1.0, ns))
        return u, ns * s


def _plain(v: Any) -> bool:
    return type(v) is np.ndarray or isinstance(v, (float, np.floating))


def _unit_data(x: Any, axes: tuple) -> Any:
    """``x / norm(x)`` over ``axes`` of raw data; on a Dual with plain parts the tangent
    is ``P t / n``; None for other data (the caller composes)."""
    if _plain(x):
        return _norm_parts(np.asarray(x, dtype=np.result_type(x, 1.0)), axes)[0]
    from hyperdual import _number as hn
    if type(x) is hn.Dual and _plain(x.real) and _plain(x.dual):
        real = np.asarray(x.real, dtype=np.result_type(x.real, 1.0))
        u, n = _norm_parts(real, axes)
        t = np.asarray(x.dual)
        if t.ndim < real.ndim + x.nd:  # a tangent broadcast against the value
            t = np.broadcast_to(t, t.shape[:x.nd] + real.shape) if x.nd else \
                np.broadcast_to(t, real.shape)
        lead = t.ndim - real.ndim
        tax = tuple(a + lead for a in axes)
        with np.errstate(all="ignore"):
            tan = np.where(n == 0, 0.0, _project(t, np.broadcast_to(u, t.shape), tax)
                           / np.where(n == 0, 1.0, n))
        return hn.Dual._build((u, np.asarray(tan, dtype=real.dtype)), x.tag, x.nd)
    return None


class UnitVector(Function):
    """``x / norm(x)`` over ``axes`` (0 on an all-zero slice: the gradient of the 2-norm
    in JAX's safe-norm convention), with the derivative ``P c / norm(x)``.

    Examples
    --------
    >>> from reverse import Variable
    >>> UnitVector((0,))(Variable(np.array([3.0, 4.0])))
    variable([0.6 0.8])
    """

    __slots__ = ("axes",)

    def __init__(self, axes: tuple) -> None:
        self.axes = axes

    def forward(self, x: Any) -> Any:
        u = _unit_data(x, self.axes)
        if u is None:  # nested or HyperDual data: the composition
            n = _shared._two_norm(x, self.axes, True)
            u = np.where(n == 0, 0.0 * x, x / np.where(n == 0, 1.0, n))
        return u

    def backward(self, c: Any, y: Any, x: Any) -> Any:
        n = _shared._two_norm(x, self.axes, True)
        return np.where(n == 0, 0.0 * c, _project(c, y, self.axes) / np.where(n == 0, 1.0, n))


def _reverse_two_norm(x: Any, ax: Any, keepdims: bool, scale: Any) -> Any:
    """The 2-norm of a Variable over ``ax`` whose gradient is :class:`UnitVector`
    (registered in ``_exactdiff.linalg.SCALED_TWO_NORM``); None for lazy data."""
    if not isinstance(x, Variable) or not _plain(x.data) and not _is_dual_data(x.data):
        return None
    nd = np.ndim(x.data)
    axes = tuple(range(nd)) if ax is None else tuple(
        a % nd for a in (ax if isinstance(ax, tuple) else (ax,)))
    if not axes:
        return None
    return _TwoNorm(axes, keepdims)(x)


def _is_dual_data(v: Any) -> bool:
    from hyperdual import _number as hn
    return isinstance(v, hn._Number)


class _TwoNorm(Function):
    """``norm(x)`` over ``axes``; its backward is ``gy * UnitVector(axes)(x)``."""

    __slots__ = ("axes", "keepdims")

    def __init__(self, axes: tuple, keepdims: bool) -> None:
        self.axes, self.keepdims = axes, keepdims

    def forward(self, x: Any) -> Any:
        return _shared._two_norm(x, self.axes, self.keepdims)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        if not self.keepdims:
            gy = np.expand_dims(gy, self.axes)
        return gy * UnitVector(self.axes)(x) if isinstance(x, Variable) or isinstance(
            gy, Variable) else gy * UnitVector(self.axes).forward(x)


_shared.SCALED_TWO_NORM["reverse"] = _reverse_two_norm
