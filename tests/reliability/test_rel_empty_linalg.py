"""Empty (0-size) matrices through the linear-algebra functions, every helper, both engines.

The truth is numpy itself: where numpy returns a result, every helper returns the
shapes numpy's result implies (a Jacobian ``f(a).shape + a.shape``, a Hessian
``a.shape * 2``) and the value numpy gives; where numpy raises, the engines raise the
same exception type.  Before: ``hd.jacobian(lambda A: np.linalg.matrix_power(A, 2),
np.zeros((0, 0)))`` raised "cannot reshape array of size 0 into shape (0,newaxis)" (the
direction stack folded with a -1, ambiguous for 0 columns), reverse's ``svd``/``qr`` of a
(0, 2, 2) stack the same, ``norm(a, 2 | 1 | inf)`` of an empty matrix a bare "zero-size
array to reduction operation maximum" where numpy 2 gives 0, ``cond`` of an empty matrix
that error instead of numpy's ``LinAlgError``, and ``tensorinv`` the other error type.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

# numpy's norms of empty matrices warn about nothing; neither may the derivatives
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

L = np.linalg
SHAPES = [(0, 0), (2, 0, 0), (0, 3), (3, 0), (0, 2, 2)]


FUNCS = {
    "inv": L.inv,
    "det": L.det,
    "slogdet": lambda a: L.slogdet(a)[1],
    "cholesky": L.cholesky,
    "eigh_w": lambda a: L.eigh(a)[0],
    "eigh_v": lambda a: L.eigh(a)[1],
    "eigvalsh": L.eigvalsh,
    "svd_s": lambda a: L.svd(a, compute_uv=False),
    "svd_u": lambda a: L.svd(a, full_matrices=False)[0],
    "svd_vh": lambda a: L.svd(a, full_matrices=False)[2],
    "qr_q": lambda a: L.qr(a)[0],
    "qr_r": lambda a: L.qr(a)[1],
    "pinv": L.pinv,
    "matrix_power_0": lambda a: L.matrix_power(a, 0),
    "matrix_power_2": lambda a: L.matrix_power(a, 2),
    "matrix_power_3": lambda a: L.matrix_power(a, 3),
    "matrix_power_-1": lambda a: L.matrix_power(a, -1),
    "norm": L.norm,
    "norm_2": lambda a: L.norm(a, 2, axis=(-2, -1)),
    "norm_-2": lambda a: L.norm(a, -2, axis=(-2, -1)),
    "norm_nuc": lambda a: L.norm(a, "nuc", axis=(-2, -1)),
    "norm_1": lambda a: L.norm(a, 1, axis=(-2, -1)),
    "norm_inf": lambda a: L.norm(a, np.inf, axis=(-2, -1)),
    "vector_norm_inf": lambda a: L.norm(a, np.inf, axis=-1),
    "trace": lambda a: np.trace(a, axis1=-2, axis2=-1),
    "solve": lambda a: L.solve(a, np.ones(a.shape[:-1] + (1,))),
    "multi_dot": lambda a: L.multi_dot([a, np.swapaxes(a, -1, -2), a]),
    "cond": L.cond,
    "lstsq": lambda a: L.lstsq(a, np.ones(a.shape[0]))[0],
    "tensorinv": lambda a: L.tensorinv(a, 1),
}


def _numpy(f, a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return f(a), None
        except Exception as ex:  # noqa: BLE001 - numpy's own error type is the truth
            return None, type(ex)


def _scalar(f):
    return lambda a: np.sum(f(a))


HELPERS = {
    "hd.jacobian": lambda f, a: hd.jacobian(f, a),
    "rv.jacobian": lambda f, a: rv.jacobian(f, a),
    "hd.jvp": lambda f, a: hd.jvp(f, a, a)[1],
    "rv.jvp": lambda f, a: rv.jvp(f, a, a)[1],
    "hd.gradient": lambda f, a: hd.gradient(_scalar(f), a),
    "rv.gradient": lambda f, a: rv.gradient(_scalar(f), a),
    "rv.value_and_gradient": lambda f, a: rv.value_and_gradient(_scalar(f), a)[1],
    "hd.hessian": lambda f, a: hd.hessian(_scalar(f), a),
    "rv.hessian": lambda f, a: rv.hessian(_scalar(f), a),
    "hd.hvp": lambda f, a: hd.hvp(_scalar(f), a, a),
    "rv.hvp": lambda f, a: rv.hvp(_scalar(f), a, a),
    "rv.hvp_ror": lambda f, a: rv.hvp(_scalar(f), a, a, mode="reverse-over-reverse"),
}


def _expected_shape(helper, y, a):
    kind = helper.split(".")[1]
    if kind == "jacobian":
        return np.shape(y) + a.shape
    if kind == "jvp":
        return np.shape(y)
    if kind == "hessian":
        return a.shape + a.shape
    return a.shape


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(FUNCS))
@pytest.mark.parametrize("helper", list(HELPERS))
def test_empty_matrices_follow_numpy(helper, name, shape):
    f, a = FUNCS[name], np.zeros(shape)
    y, err = _numpy(f, a)
    if err is not None:
        with pytest.raises(err):
            HELPERS[helper](f, a)
        return
    got = HELPERS[helper](f, a)
    assert np.shape(got) == _expected_shape(helper, y, a)
    assert np.all(np.asarray(got) == 0)  # no entries, or derivatives of constants


@pytest.mark.parametrize("engine", [hd, rv])
@pytest.mark.parametrize("name", ["det", "norm_2", "norm_1", "norm_inf", "matrix_power_0"])
def test_empty_values_are_numpys(engine, name):
    """The value that goes with the derivative: det of a 0 x 0 matrix is 1, its norms 0."""
    f, a = FUNCS[name], np.zeros((2, 0, 0))
    y, err = _numpy(f, a)
    if err is not None:  # numpy 1.x: max of an empty slice raises
        pytest.skip(f"numpy {np.__version__} raises {err.__name__}")
    value, _ = engine.value_and_gradient(_scalar(f), a)
    assert value == np.sum(y)


@pytest.mark.parametrize("engine", [hd, rv])
def test_max_with_initial_of_an_empty_slice(engine):
    """np.max(x, axis, initial=c) of an empty slice is c (numpy); it raised numpy's
    "zero-size array to reduction operation maximum" in both engines."""
    x = np.zeros((2, 0))
    jac = engine.jacobian(lambda v: np.max(v, axis=-1, initial=-1.5), x)
    assert jac.shape == (2, 2, 0)
    value, grad = engine.value_and_gradient(
        lambda v: np.sum(np.min(v, axis=1, initial=2.0)), x)
    assert value == 4.0 and grad.shape == (2, 0)
