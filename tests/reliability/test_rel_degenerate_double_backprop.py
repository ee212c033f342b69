"""Second derivatives through vectors of repeated eigen/singular values, every mode.

At values repeated to working precision (gap <= 8 n eps max) the vectors have no
derivative; forward mode raises ``DegenerateDerivativeError`` whenever they are formed.
A cotangent that is zero in value but not in derivative (``v01**2`` where ``v01 = 0``;
``A01**2`` of the rebuilt ``V diag(w) V^T`` where ``A01 = 0``) passed the first pass's
check, and double backprop (reverse-over-reverse) returned 0 for each of these (the
gap inverse is masked to 0 between repeated values); the second derivative needs the
vectors' derivative, so every engine must raise.  No finite number is the truth here.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual.linalg import DegenerateDerivativeError

_A = np.diag([1.0, 1.0 + 2.0 ** -50])
_B = np.array([[0.3, 1.0], [0.2, -0.5]])
_S = (_B + _B.T) / 2


def _svd_rebuild(x):
    u, s, vh = np.linalg.svd(_A + _B * x[0])
    return ((u * s) @ vh)[0, 1] ** 2


def _svd_u11(x):
    return np.linalg.svd(_A + _B * x[0])[0][1, 1] ** 2


def _eigh_v01(x):
    return np.linalg.eigh(_A + _S * x[0])[1][0, 1] ** 2


def _eigh_rebuild(x):
    w, v = np.linalg.eigh(_A + _S * x[0])
    return ((v * w) @ v.T)[0, 1] ** 2


def _eigh_upper_v10(x):
    return np.linalg.eigh(_A + _S * x[0], UPLO="U")[1][1, 0] ** 2


_D = np.diag([0.3, -0.5])


def _svd_u00_diagonal(x):
    # a diagonal direction leaves the pair's coupling zero in every pass: double
    # backprop still returned 0 after a first fix that sent nan only through it
    return np.linalg.svd(_A + _D * x[0])[0][0, 0] ** 2


def _eigh_v01_diagonal(x):
    return np.linalg.eigh(_A + _D * x[0])[1][0, 1] ** 2


_CASES = [_svd_rebuild, _svd_u11, _eigh_v01, _eigh_rebuild, _eigh_upper_v10,
          _svd_u00_diagonal, _eigh_v01_diagonal]
_HOW = ["hessian", "forward-over-reverse", "reverse-over-reverse"]


@pytest.mark.parametrize("how", _HOW)
@pytest.mark.parametrize("f", _CASES, ids=lambda f: f.__name__)
def test_second_derivative_through_repeated_vectors_raises(f, how):
    x0 = np.array([0.0])
    assert f(x0) == 0.0  # the cotangent of the vectors is zero in value
    with pytest.raises(DegenerateDerivativeError):
        hd.hessian(f, x0)
    with pytest.raises(DegenerateDerivativeError):
        if how == "hessian":
            rv.hessian(f, x0)
        else:
            rv.hvp(f, x0, np.array([1.0]), mode=how)


@pytest.mark.parametrize("how", _HOW)
@pytest.mark.parametrize("decomp", ["svd", "eigh"])
def test_distinct_values_keep_their_second_derivative(decomp, how):
    # the same rebuilt entry away from the repeated pair: A01(x) = c x exactly, so the
    # second derivative is 2 c**2 (the rebuild is exact to rounding)
    a = np.diag([1.0, 3.0])
    b = _B if decomp == "svd" else _S

    def f(x):
        if decomp == "svd":
            u, s, vh = np.linalg.svd(a + b * x[0])
            return ((u * s) @ vh)[0, 1] ** 2
        w, v = np.linalg.eigh(a + b * x[0])
        return ((v * w) @ v.T)[0, 1] ** 2

    x0 = np.array([0.0])
    truth = 2 * b[0, 1] ** 2
    if how == "hessian":
        got = rv.hessian(f, x0)[0, 0]
    else:
        got = rv.hvp(f, x0, np.array([1.0]), mode=how)[0]
    assert abs(got - truth) <= 64 * np.finfo(float).eps * 16 * truth
    assert abs(hd.hessian(f, x0)[0, 0] - truth) <= 64 * np.finfo(float).eps * 16 * truth
