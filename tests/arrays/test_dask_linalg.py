"""Linear algebra on dask data in both engines: lazy, and the numpy path's derivatives.

dask implements ``np.linalg`` for 2-d matrices (one chunk, or the chunkings its
algorithms take); a stack of matrices raises dask's own error, in the engines too.
Found by a sweep of the linalg catalog (``tests/linalg/test_linalg.py``) on dask data:

* ``np.linalg.cholesky`` of a dask array is dask's ``da.linalg.cholesky(a,
  lower=False)``: the *upper* factor.  Both engines took that value and
  differentiated it as the lower one: every derivative was wrong, silently.
* hyperdual's eigen/singular-value gap matrix called ``np.max(..., initial=0.0)``,
  which dask's max rejects: svd's vectors (forward mode) and every second derivative
  of svd, ``norm(a, 2)``, ``norm(a, 'nuc')``, ``cond`` and ``lstsq`` raised TypeError.
* checks that ask the data (repeated or zero singular values, qr's pivots, det's
  conditioning, lstsq's rank, ``np.asarray`` of a primal, the 2-norm's result shape)
  computed the dask array inside the helpers: 1-8 computes per call for svd, qr,
  norm (every ``ord``), solve (forward-over-reverse), lstsq, det; det, slogdet, eigh
  and pinv, which dask lacks, computed and warned in the rule.

Truth: the same helper on the numpy array (dask's singular vectors may have the
other sign than numpy's: compared with the numpy function of the same signs);
where numpy data raises ``DegenerateDerivativeError``, lazy data gives nan.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

# a sweep of structure that no SIMD path changes: py312 only (tox.ini's tiers)
pytestmark = [pytest.mark.slow, pytest.mark.structure]

da = pytest.importorskip("dask.array")

RNG = np.random.default_rng(20240611)
A34 = RNG.standard_normal((3, 4))
A43 = RNG.standard_normal((4, 3))
A33 = RNG.standard_normal((3, 3)) + 2 * np.eye(3)
_M = RNG.standard_normal((4, 4))
SPD = _M @ _M.T + 4 * np.eye(4)
# the triangle numpy does not read is garbage: reading the wrong one shows
SPD_L = SPD + np.triu(RNG.standard_normal((4, 4)), 1)
SPD_U = SPD + np.tril(RNG.standard_normal((4, 4)), -1)

MODES = {
    "reverse.gradient": lambda f, x, v: rv.gradient(f, x),
    "hyperdual.jvp": lambda f, x, v: hd.jvp(f, x, v)[1],
    "reverse.hvp": lambda f, x, v: rv.hvp(f, x, v),
    "hyperdual.hvp": lambda f, x, v: hd.hvp(f, x, v),
}


def _weights(y):
    y = np.asarray(y)
    return np.cos(np.arange(y.size)).reshape(y.shape) + 0.5


def _scalar(f, weights):
    return lambda z: np.sum(f(z) * weights)


def _direction(x0):
    return np.cos(1.3 * np.arange(x0.size)).reshape(x0.shape)


def _computed(out):
    return np.asarray(out.compute() if hasattr(out, "compute") else out, dtype=float)


def _check_modes(lazy, g, x0, chunks=-1, modes=MODES, reference=None):
    """Every mode of ``g`` on dask data: lazy, and equal to the numpy path's result
    (of ``reference``, the same function with numpy's signs, if given)."""
    v0 = _direction(x0)
    for name, mode in modes.items():
        want = np.asarray(mode(reference or g, x0, v0), dtype=float)
        x, v = da.from_array(x0, chunks=chunks), da.from_array(v0, chunks=chunks)
        got = lazy(partial(mode, g, x, v))
        assert isinstance(got, da.Array), name
        np.testing.assert_allclose(_computed(got), want, rtol=1e-9, atol=1e-11, err_msg=name)


# --- cholesky: numpy's factor, not dask's upper one ------------------------------


@pytest.mark.parametrize("chunks", [-1, 2])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_is_numpys_factor_with_its_derivatives(lazy, upper, chunks):
    if upper and np.lib.NumpyVersion(np.__version__) < "2.0.0":
        pytest.skip("cholesky(upper=) is numpy 2's")
    x0 = SPD_U if upper else SPD_L

    def chol(z):
        return np.linalg.cholesky(z, upper=True) if upper else np.linalg.cholesky(z)

    want = np.linalg.cholesky(x0, upper=True) if upper else np.linalg.cholesky(x0)
    x, v = da.from_array(x0, chunks=chunks), da.from_array(_direction(x0), chunks=chunks)
    val, tan = lazy(lambda: hd.jvp(chol, x, v))
    np.testing.assert_allclose(_computed(val), want, rtol=1e-12)
    np.testing.assert_allclose(_computed(tan), hd.jvp(chol, x0, _direction(x0))[1],
                               rtol=1e-10, atol=1e-12)
    _check_modes(lazy, _scalar(chol, _weights(want)), x0, chunks)


# --- svd: second order, and dask's signs -------------------------------------------


def _dask_signs(x0):
    """+-1 per singular triple: dask's vectors times numpy's."""
    u, _, _ = (np.asarray(p) for p in da.linalg.svd(da.from_array(x0, chunks=-1)))
    un = np.linalg.svd(x0, full_matrices=False)[0]
    d = np.sign(np.sum(u * un, axis=0))
    assert np.allclose(u, un * d)
    return d


@pytest.mark.parametrize("x0", [A43, A34, A33], ids=["tall", "wide", "square"])
@pytest.mark.parametrize("which", ["U", "Vh", "U*s"])
def test_svd_vectors_all_orders(lazy, x0, which):
    """The derivatives of the vectors dask returns (the numpy function with dask's
    signs), forward mode and second order included."""
    d = _dask_signs(x0)
    pick = {"U": lambda r: r[0], "Vh": lambda r: r[2], "U*s": lambda r: r[0] * r[1]}[which]

    def f(z):
        return pick(np.linalg.svd(z, full_matrices=False))

    w = _weights(f(x0))
    signed = w * (d[:, None] if which == "Vh" else d[None, :])
    _check_modes(lazy, _scalar(f, w), x0, reference=_scalar(f, signed))
    if x0.shape[0] != x0.shape[1]:
        # dask's svd returns the reduced factors whatever full_matrices says; the
        # engines keep numpy's meaning: the full factors of a non-square matrix (the
        # default) have no derivative
        x = da.from_array(x0, chunks=-1)
        for call in (lambda: rv.gradient(lambda z: np.sum(np.linalg.svd(z)[0]), x),
                     lambda: hd.jvp(lambda z: np.linalg.svd(z)[0], x, x)):
            with pytest.raises(TypeError, match="full_matrices"):
                call()


@pytest.mark.parametrize("f", [
    lambda a: np.linalg.svd(a, compute_uv=False),
    lambda a: np.linalg.svd(a)[1],
    lambda a: np.linalg.cond(a),
    lambda a: np.linalg.cond(a, -2),
], ids=["svd_s", "svd_full_square_s", "cond", "cond_m2"])
def test_svd_values_second_order(lazy, f):
    _check_modes(lazy, _scalar(f, _weights(f(A33))), A33)


# --- norms, qr, solve, inv: lazy in every mode -------------------------------------

NORMS = {
    "fro_default": (lambda a: np.linalg.norm(a), A34),
    "fro_axis": (lambda a: np.linalg.norm(a, "fro", axis=(1, 0)), A34),
    "two": (lambda a: np.linalg.norm(a, 2), A43),
    "minus_two": (lambda a: np.linalg.norm(a, -2), A43),
    "nuc": (lambda a: np.linalg.norm(a, "nuc"), A34),
    "vector_axis": (lambda a: np.linalg.norm(a, axis=1), A34),
    "vector_norm": (lambda a: np.linalg.vector_norm(a, axis=1), A34),
    "matrix_norm": (lambda a: np.linalg.matrix_norm(a), A34),
    "two_zero_matrix": (lambda a: np.linalg.norm(0.0 * a, 2) + np.sum(a), A33),
    "nuc_zero_matrix": (lambda a: np.linalg.norm(0.0 * a, "nuc") + np.sum(a), A33),
}


@pytest.mark.parametrize("name", NORMS)
def test_norms_stay_lazy(lazy, name):
    f, x0 = NORMS[name]
    if name.startswith(("vector_norm", "matrix_norm")) and not hasattr(np.linalg, "vector_norm"):
        pytest.skip("numpy < 2")
    _check_modes(lazy, _scalar(f, _weights(f(x0))), x0)


@pytest.mark.parametrize("case", [
    ("q", A43), ("r", A43), ("q", A33), ("r", A34), ("q", A34), ("mode_r", A33)])
def test_qr_stays_lazy(lazy, case):
    out, x0 = case

    def f(z):
        if out == "mode_r":
            return np.linalg.qr(z, mode="r")
        return np.linalg.qr(z)[0 if out == "q" else 1]

    _check_modes(lazy, _scalar(f, _weights(f(x0))), x0)


def test_solve_and_inv_stay_lazy(lazy):
    b = np.array([1.0, -2.0, 0.5])

    def f(z):
        return np.linalg.solve(z, b) + np.linalg.inv(z)[0] + np.linalg.solve(z, z[:, :2])[:, 0]

    _check_modes(lazy, _scalar(f, _weights(f(A33))), A33)


# --- det, slogdet, eigh, pinv, lstsq (dask has no det, slogdet, eigh, pinv) --------


@pytest.mark.parametrize("name", ["slogdet", "slogdet_signed", "eigh_w", "eigh_v",
                                  "eigvalsh", "pinv_tall", "pinv_wide", "lstsq_x",
                                  "lstsq_s"])
def test_functions_dask_lacks_are_lazy(lazy, name):
    """dask computes the array (and warns) for them; the engines call numpy blockwise
    (one matrix per task) or, for pinv, through dask's svd."""
    s3 = SPD[:3, :3]
    f, x0 = {
        "slogdet": (lambda a: np.linalg.slogdet(a)[1], A33),
        "slogdet_signed": (lambda a: np.linalg.slogdet(-a)[0] * np.linalg.slogdet(-a)[1], A33),
        "eigh_w": (lambda a: np.linalg.eigh(a)[0], s3),
        "eigh_v": (lambda a: np.linalg.eigh(a, "U")[1], s3),
        "eigvalsh": (np.linalg.eigvalsh, s3),
        "pinv_tall": (np.linalg.pinv, A43),
        "pinv_wide": (lambda a: np.linalg.pinv(a, rcond=1e-10), A34),
        "lstsq_x": (lambda a: np.linalg.lstsq(a, np.arange(4.0))[0], A43),
        "lstsq_s": (lambda a: np.linalg.lstsq(a, np.arange(4.0))[3], A43),
    }[name]
    _check_modes(lazy, _scalar(f, _weights(f(x0))), x0)


def test_lstsq_rank_and_residuals_lazy(lazy):
    """rank is a lazy 0-d integer (as dask's lstsq gives: numpy's int needs the data)."""
    b = np.arange(4.0)
    x = da.from_array(A43, chunks=-1)
    want = np.linalg.lstsq(A43, b)
    resid, tangent = lazy(lambda: hd.jvp(lambda z: np.linalg.lstsq(z, b)[1], x, x))
    np.testing.assert_allclose(_computed(resid), want[1], rtol=1e-10)
    for engine_x in (rv.Variable(x), hd.Dual(x, x)):
        rank = lazy(partial(np.linalg.lstsq, engine_x, b))[2]
        assert isinstance(rank, da.Array)
        assert int(rank.compute()) == want[2] == 3


@pytest.mark.parametrize("x0", [A33, np.arange(9.0).reshape(3, 3)], ids=["regular", "singular"])
def test_det_first_order_lazy_second_order_one_compute(lazy, x0):
    """det's gradient is numpy's (the cofactors at a singular matrix) and lazy; its
    second derivative asks the data once which form to take, where dask's own det
    computes the array as well."""
    first = {k: MODES[k] for k in ("reverse.gradient", "hyperdual.jvp")}
    _check_modes(lazy, np.linalg.det, x0, modes=first)
    from dask.callbacks import Callback

    class Count(Callback):
        n = 0

        def _start(self, dsk):
            Count.n += 1

    v0 = _direction(x0)
    for name in ("reverse.hvp", "hyperdual.hvp"):
        Count.n = 0
        with Count():
            got = MODES[name](np.linalg.det, da.from_array(x0, chunks=-1),
                              da.from_array(v0, chunks=-1))
        assert Count.n <= 1, name
        np.testing.assert_allclose(_computed(got), MODES[name](np.linalg.det, x0, v0),
                                   rtol=1e-9, atol=1e-11, err_msg=name)


# --- degenerate points: nan where numpy data raises, nothing asked -----------------

W33 = np.cos(np.arange(9.0)).reshape(3, 3) + 0.5
DEGENERATE = {
    "svd_U_repeated": (lambda a: np.sum(np.linalg.svd(a)[0] * W33), np.diag([2.0, 2.0, 1.0])),
    "svd_U_zero_value": (lambda a: np.sum(np.linalg.svd(a)[0] * W33), np.diag([3.0, 1.0, 0.0])),
    "eigh_v_repeated": (lambda a: np.sum(np.linalg.eigh(a)[1] * W33), np.diag([1.0, 1.0, 2.0])),
    "qr_rank_deficient": (lambda a: np.sum(np.linalg.qr(a)[0] * W33[:, :2]),
                          np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])),
}


@pytest.mark.parametrize("name", DEGENERATE)
def test_degenerate_derivatives_are_nan(lazy, name):
    f, x0 = DEGENERATE[name]
    v0 = _direction(x0)
    for mode in ("reverse.gradient", "hyperdual.jvp"):
        with pytest.raises(hd.linalg.DegenerateDerivativeError):
            MODES[mode](f, x0, v0)
        x, v = da.from_array(x0, chunks=-1), da.from_array(v0, chunks=-1)
        with np.errstate(all="ignore"):
            got = _computed(lazy(partial(MODES[mode], f, x, v)))
        assert np.isnan(got).any(), mode


@pytest.mark.parametrize("name", ["nuc_identity", "two_identity_values"])
def test_degenerate_points_keep_existing_derivatives(lazy, name):
    """Repeated values whose vectors the result does not need: numpy's numbers (the
    first derivative exists), and nan only for the second, where numpy data raises."""
    f = {"nuc_identity": lambda a: np.linalg.norm(a, "nuc"),
         "two_identity_values": lambda a: np.sum(np.linalg.svd(a, compute_uv=False) * W33[0])
         }[name]
    x0 = np.eye(3)
    first = {k: MODES[k] for k in ("reverse.gradient", "hyperdual.jvp")}
    _check_modes(lazy, f, x0, modes=first)
    for mode in ("reverse.hvp", "hyperdual.hvp"):
        with pytest.raises(hd.linalg.DegenerateDerivativeError):
            MODES[mode](f, x0, _direction(x0))
        x, v = da.from_array(x0, chunks=-1), da.from_array(_direction(x0), chunks=-1)
        with np.errstate(all="ignore"):
            assert np.isnan(_computed(lazy(partial(MODES[mode], f, x, v)))).any(), mode
