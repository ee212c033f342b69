"""ndarray methods on Dual, HyperDual, Taylor numbers and Variables: each is numpy's
function of the same name (derivatives against closed forms, plain results equal
numpy's); the in-place ones raise TypeError naming the function to use."""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
from hyperdual import Dual, HyperDual, Taylor
from reverse import Variable
from tests._tolerance import assert_close_ulps

X = np.array([0.3, 1.2, 2.0, 0.7])
MAKERS = {
    "Dual": lambda a: Dual(a, np.ones_like(a)),
    "HyperDual": lambda a: HyperDual(a, np.ones_like(a), np.ones_like(a), np.zeros_like(a)),
    "Taylor": lambda a: Taylor(np.stack([a, np.ones_like(a)])),
    "Variable": Variable,
}


def _value(y):
    if isinstance(y, Variable):
        return y.data
    if isinstance(y, Taylor):
        return y.coef[0]
    return getattr(y, "real", y)


@pytest.mark.parametrize("kind", list(MAKERS))
def test_methods_equal_numpy(kind):
    d = MAKERS[kind](X)
    m = np.reshape(X, (2, 2))
    dm = MAKERS[kind](m)
    checks = [
        (d.repeat(2), X.repeat(2)), (dm.repeat(2, axis=1), m.repeat(2, axis=1)),
        (d.take([3, 0, 0]), X.take([3, 0, 0])), (dm.take([1], axis=0), m.take([1], axis=0)),
        (d.compress([True, False, True, True]), X.compress([True, False, True, True])),
        (dm.cumprod(axis=1), m.cumprod(axis=1)), (d.round(1), X.round(1)),
        (d.conj(), X), (d.conjugate(), X), (dm.mT, m.T),
    ]
    for got, want in checks:
        np.testing.assert_array_equal(_value(got), want)
    # index- and truth-valued: plain numpy results
    assert d.argmax() == X.argmax() and d.argmin() == X.argmin()
    np.testing.assert_array_equal(d.argsort(), X.argsort())
    np.testing.assert_array_equal(d.argpartition(1)[:2], X.argpartition(1)[:2])
    np.testing.assert_array_equal(d.nonzero()[0], X.nonzero()[0])
    assert d.sort is not None and MAKERS[kind](np.sort(X)).searchsorted(1.0) == 2
    assert bool(d.all()) and bool(dm.any(axis=0).all())
    np.testing.assert_array_equal(d.imag, np.zeros(4))


@pytest.mark.parametrize("eng", [hd, rv], ids=["hyperdual", "reverse"])
def test_method_derivatives(eng):
    np.testing.assert_allclose(eng.gradient(lambda v: np.sum(v.repeat(3) ** 2), X), 6 * X)
    np.testing.assert_array_equal(eng.gradient(lambda v: np.sum(v.take([1, 1, 3])), X),
                                  [0, 2, 0, 1])
    np.testing.assert_array_equal(
        eng.gradient(lambda v: np.sum(v.reshape(2, 2).mT[0] * np.array([1.0, 2.0])), X),
        [1, 0, 2, 0])
    # prod of the other three entries against prod(X) / X: a few roundings each side
    assert_close_ulps(eng.gradient(lambda v: v.cumprod()[-1], X), np.prod(X) / X, ulps=8)
    np.testing.assert_array_equal(eng.gradient(lambda v: np.sum(v.round(1)), X), 0.0)


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize("name,use", [("sort", "np.sort"), ("partition", "np.partition"),
                                      ("fill", "np.full_like"), ("put", "np.where"),
                                      ("resize", "np.resize")])
def test_in_place_methods_refused(kind, name, use):
    d = MAKERS[kind](X)
    with pytest.raises(TypeError, match=rf"{name}\(\) works in place.*{use}"):
        getattr(d, name)(1)
