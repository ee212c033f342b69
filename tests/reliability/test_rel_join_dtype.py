"""``dtype=`` of the joins (``concatenate``, ``stack``, ``hstack``, ``vstack``) in both
engines and the Taylor helpers.

numpy casts the joined result to ``dtype`` (with ``casting``, default 'same_kind').
hyperdual ignored it everywhere and reverse for ``hstack``/``vstack`` (refusing it for
``concatenate``/``stack``): ``np.sum(np.hstack([x, x], dtype=int, casting='unsafe'))``
is an integer, piecewise constant function of x, yet its "gradient" was [2, 2]; and
``dtype=float32`` computed in float64. Now a float dtype casts every piece (numpy's
casting rule checked) and any other dtype raises TypeError, as ``np.sum(dtype=int)``
does.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv

JOINS = {"concatenate": np.concatenate, "stack": np.stack, "hstack": np.hstack,
         "vstack": np.vstack}
X = np.array([0.7, 1.6])


@pytest.mark.parametrize("name", list(JOINS))
@pytest.mark.parametrize("engine", [hd, rv])
def test_integer_dtype_raises(engine, name):
    join = JOINS[name]
    with pytest.raises(TypeError, match="dtype"):
        engine.gradient(lambda z: np.sum(join([z, z], dtype=int, casting="unsafe")), X)
    with pytest.raises(TypeError, match="dtype"):
        engine.derivatives(lambda t: np.sum(join([t * np.ones(1), t * np.ones(1)], dtype=int,
                                                 casting="unsafe")), 0.7, 2)


@pytest.mark.parametrize("name", list(JOINS))
@pytest.mark.parametrize("engine", [hd, rv])
def test_float32_dtype_is_honoured(engine, name):
    join = JOINS[name]

    def f(z):
        return np.sum(join([z, z * z], dtype=np.float32) ** 2)

    value, g = engine.value_and_gradient(f, X)
    # the value is numpy's float32 computation
    assert value == f(X)
    # d/dz (z^2 + z^4) = 2 z + 4 z^3, computed on float32-rounded pieces
    np.testing.assert_allclose(g, 2 * X + 4 * X ** 3, rtol=8 * np.finfo(np.float32).eps)
    one = np.ones(1)
    d = engine.derivatives(lambda t: np.sum(join([t * one, t * t * one], dtype=np.float32)),
                           0.7, 2)
    np.testing.assert_allclose(d, [0.7 + 0.49, 1 + 1.4, 2.0], rtol=8 * np.finfo(np.float32).eps)


@pytest.mark.parametrize("engine", [hd, rv])
def test_casting_rule_is_numpys(engine):
    with pytest.raises(TypeError, match="casting"):
        engine.gradient(lambda z: np.sum(np.concatenate([z, z], dtype=np.float32,
                                                        casting="safe")), X)


@pytest.mark.skipif(not hasattr(np.linalg, "trace"), reason="numpy 2's np.linalg.trace")
@pytest.mark.parametrize("engine", [hd, rv])
def test_linalg_trace_dtype(engine):
    """np.linalg.trace ignored dtype= too (dtype=int gave the identity as gradient)."""
    a = np.array([[0.7, 1.0], [2.0, 1.6]])
    with pytest.raises(TypeError, match="dtype"):
        engine.gradient(lambda m: np.linalg.trace(m, dtype=int), a)
    value, g = engine.value_and_gradient(lambda m: np.linalg.trace(m, dtype=np.float32), a)
    assert value == np.linalg.trace(a, dtype=np.float32)
    np.testing.assert_array_equal(g, np.eye(2))
