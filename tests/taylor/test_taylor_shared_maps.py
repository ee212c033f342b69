"""Taylor numbers use the Dual/HyperDual part-maps (one ``_map_parts`` for every family).

The reductions and shape functions are the rules of :mod:`hyperdual.rules`, with a
Taylor's coefficient array handed over as one part with one leading axis.  Checked
against two independent paths: the same map applied to each coefficient of the
series by plain numpy (the maps are linear), and, for ``where=``/``initial=`` (which
Taylor numbers used to ignore silently), the reduction of the selected entries.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd

RNG = np.random.default_rng(7)
K = 4


def _series(shape):
    return hd.Taylor(RNG.standard_normal((K + 1,) + shape))


MAPS = {
    "sum": lambda a: np.sum(a),
    "sum_axis": lambda a: np.sum(a, axis=1, keepdims=True),
    "mean_axis": lambda a: np.mean(a, axis=(0, 2)),
    "reshape": lambda a: np.reshape(a, (6, -1)),
    "ravel": lambda a: np.ravel(a),
    "transpose": lambda a: np.transpose(a, (2, 0, 1)),
    "swapaxes": lambda a: np.swapaxes(a, 0, 2),
    "moveaxis": lambda a: np.moveaxis(a, 0, -1),
    "squeeze": lambda a: np.squeeze(a[:, :1], axis=1),
    "expand_dims": lambda a: np.expand_dims(a, 1),
    "broadcast_to": lambda a: np.broadcast_to(a[:1], (3, 3, 4)),
    "flip": lambda a: np.flip(a, axis=1),
    "diagonal": lambda a: np.diagonal(a, 1, 1, 2),
    "cumsum": lambda a: np.cumsum(a, axis=2),
    "basic_index": lambda a: a[1:, ::2, 0],
    "advanced_index": lambda a: a[[0, 1], :, [3, 2]],
    "copy": lambda a: np.copy(a),
}


@pytest.mark.parametrize("name", sorted(MAPS))
def test_linear_maps_act_on_every_coefficient(name):
    f = MAPS[name]
    t = _series((2, 3, 4))
    got = f(t)
    want = np.stack([f(c) for c in t.coef])
    assert isinstance(got, hd.Taylor)
    np.testing.assert_array_equal(got.coef, want)


def test_value_only_functions():
    t = _series((2, 3))
    assert np.shape(t) == (2, 3) and np.ndim(t) == 2 and np.size(t) == 6
    np.testing.assert_array_equal(np.zeros_like(t), np.zeros((2, 3)))
    np.testing.assert_array_equal(np.ones_like(t), np.ones((2, 3)))


MASK = np.array([True, False, True, True])


@pytest.mark.parametrize("kind", ["sum", "prod", "mean", "max", "min"])
def test_where_and_initial_are_not_ignored(kind):
    red = getattr(np, kind)
    t = np.sin(_series((4,)))
    kw = {"initial": 0.25} if kind in ("max", "min") else {}
    got = red(t, where=MASK, **kw)
    sel = t[MASK]
    want = red(sel)
    if kind == "max":
        want = np.maximum(want, 0.25)
    elif kind == "min":
        want = np.minimum(want, 0.25)
    # the same arithmetic in another order: a few ulps of the coefficients' scale
    scale = np.max(np.abs(t.coef))
    np.testing.assert_allclose(got.coef, want.coef, rtol=0, atol=16 * np.finfo(float).eps * scale)


def test_initial_joins_the_sum_and_product():
    t = _series((3,))
    np.testing.assert_array_equal(np.sum(t, initial=2.0).coef,
                                  (np.sum(t) + 2.0).coef)
    np.testing.assert_allclose(np.prod(t, initial=2.0).coef, (2.0 * np.prod(t)).coef,
                               rtol=4 * np.finfo(float).eps)


def test_prod_over_several_axes_is_the_product_of_all_entries():
    t = _series((2, 3))
    got = np.prod(t, axis=(0, 1))
    want = np.prod(np.ravel(t))
    scale = np.max(np.abs(want.coef))
    np.testing.assert_allclose(got.coef, want.coef, rtol=0, atol=32 * np.finfo(float).eps * scale)
