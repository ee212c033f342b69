"""Selections and array building (tile, pad, diag, insert, stacks, splits ...):
values equal numpy's, derivatives of every engine and order agree with each
other and with central differences (see _shape_harness.check)."""

import numpy as np
import pytest
from _shape_harness import check

rng = np.random.default_rng(42)
V1 = rng.standard_normal(5)
V0 = np.array(0.7)
M = rng.standard_normal((3, 4))
T3 = rng.standard_normal((2, 3, 2))
SQ = rng.standard_normal((4, 4))

CASES = {
    "tile-1d": (lambda x: np.tile(x, 2), V1),
    "tile-2d-reps": (lambda x: np.tile(x, (2, 1, 2)), M),
    "tile-0d": (lambda x: np.tile(x, 3), V0),
    "repeat-flat": (lambda x: np.repeat(x, 2), M),
    "repeat-axis": (lambda x: np.repeat(x, [1, 0, 3], axis=0), M),
    "repeat-neg-axis": (lambda x: np.repeat(x, 2, axis=-1), T3),
    "pad-constant": (lambda x: np.pad(x, 1), M),
    "pad-constant-values": (lambda x: np.pad(x, ((1, 0), (2, 1)), constant_values=(3.0, -1.0)), M),
    "pad-edge": (lambda x: np.pad(x, 2, mode="edge"), V1),
    "pad-reflect": (lambda x: np.pad(x, ((2, 1), (1, 3)), mode="reflect"), M),
    "pad-symmetric": (lambda x: np.pad(x, 3, mode="symmetric"), V1),
    "pad-wrap": (lambda x: np.pad(x, ((1, 1), (0, 2), (1, 0)), mode="wrap"), T3),
    "diag-of-vector": (lambda x: np.diag(x), V1),
    "diag-of-vector-k": (lambda x: np.diag(x, -2), V1),
    "diag-of-matrix": (lambda x: np.diag(x, 1), M),
    "diagflat": (lambda x: np.diagflat(x, 1), M[:2, :2]),
    "diagonal": (lambda x: np.diagonal(x), M),
    "diagonal-3d": (lambda x: np.diagonal(x, 1, -1, 0), T3),
    "triu": (lambda x: np.triu(x), SQ),
    "triu-k": (lambda x: np.triu(x, -1), M),
    "tril-k": (lambda x: np.tril(x, 1), M),
    "tril-batched": (lambda x: np.tril(x), T3),
    "roll-flat": (lambda x: np.roll(x, 2), M),
    "roll-axis": (lambda x: np.roll(x, -1, axis=1), M),
    "roll-axes": (lambda x: np.roll(x, (1, 2), axis=(0, 2)), T3),
    "flip": (lambda x: np.flip(x), T3),
    "flip-axis": (lambda x: np.flip(x, -1), M),
    "fliplr": (lambda x: np.fliplr(x), M),
    "flipud": (lambda x: np.flipud(x), V1),
    "rot90": (lambda x: np.rot90(x), M),
    "rot90-k-axes": (lambda x: np.rot90(x, 3, axes=(2, 0)), T3),
    "take-flat": (lambda x: np.take(x, [0, 5, 5, 11]), M),
    "take-axis": (lambda x: np.take(x, [[2, 0], [1, 1]], axis=-1), M),
    "take-wrap": (lambda x: np.take(x, [7, -9], mode="wrap"), V1),
    "take-clip": (lambda x: np.take(x, [7, -9, 2], mode="clip"), V1),
    "take_along_axis": (lambda x: np.take_along_axis(x, np.array([[0, 3], [1, 1], [2, 0]]), 1),
                        M),
    "take_along_axis-0": (lambda x: np.take_along_axis(x, np.array([[2, 0, 1, 1]]), axis=0), M),
    "compress": (lambda x: np.compress([True, False, True], x, axis=0), M),
    "compress-flat": (lambda x: np.compress([False, True, True], x), M),
    "extract": (lambda x: np.extract(np.arange(12).reshape(3, 4) % 3 == 0, x), M),
    "choose": (lambda x: np.choose([[0, 1, 0, 1]], [x, 2 * x]), M),
    "choose-wrap": (lambda x: np.choose([0, 3, 1, 2, 0], [x, x[::-1]], mode="wrap"), V1),
    "select": (lambda x: np.select([x > 0, x < -0.5], [x, x ** 2], default=-x), M),
    "select-constant-default": (lambda x: np.select([x > 0], [x], 3.0), M),
    "mask-getitem": (lambda x: x[x > 0], M),
    "mask-where": (lambda x: np.where(x > 0, x, 0.5 * x), M),
    "resize": (lambda x: np.resize(x, (3, 7)), V1),
    "delete": (lambda x: np.delete(x, [0, 2], axis=1), M),
    "delete-flat": (lambda x: np.delete(x, 3), M),
    "insert": (lambda x: np.insert(x, 1, x[0] * 2, axis=0), M),
    "insert-flat-scalar": (lambda x: np.insert(x, [1, 3], 5.0), V1),
    "insert-values": (lambda x: np.insert(x[:3], 2, x[3:]), V1),
    "append": (lambda x: np.append(x, x[:2]), M),
    "append-axis": (lambda x: np.append(x, x[:1], axis=0), M),
    "hstack": (lambda x: np.hstack([x, x[:, :1] * 2]), M),
    "hstack-1d": (lambda x: np.hstack((x, np.ones(2), x[0])), V1),
    "vstack": (lambda x: np.vstack([x, x[0]]), M),
    "vstack-1d": (lambda x: np.vstack([x, np.arange(5.0)]), V1),
    "dstack": (lambda x: np.dstack([x, x ** 2]), M),
    "column_stack": (lambda x: np.column_stack([x, 2 * x]), V1),
    "column_stack-2d": (lambda x: np.column_stack([x, x[:, 0]]), M),
    "block": (lambda x: np.block([[x, np.zeros((3, 1))], [x[:1] * 3, x[:1, :1]]]), M),
    "block-1d": (lambda x: np.block([x, x[:2], 1.0]), V1),
    "atleast_1d": (lambda x: np.atleast_1d(x), V0),
    "atleast_2d": (lambda x: np.atleast_2d(x), V1),
    "atleast_3d": (lambda x: np.atleast_3d(x), M),
    "atleast_3d-many": (lambda x: np.atleast_3d(x, x[0]), V1),
    "expand_dims": (lambda x: np.expand_dims(x, (0, -1)), M),
    "squeeze": (lambda x: np.squeeze(x[:, :1]), M),
    "squeeze-axis": (lambda x: np.squeeze(x[None], axis=0), M),
    "moveaxis": (lambda x: np.moveaxis(x, 0, -1), T3),
    "moveaxis-many": (lambda x: np.moveaxis(x, [0, 1], [-1, 0]), T3),
    "rollaxis": (lambda x: np.rollaxis(x, 2), T3),
    "rollaxis-start": (lambda x: np.rollaxis(x, 0, 2), T3),
    "swapaxes": (lambda x: np.swapaxes(x, 0, -1), T3),
    "broadcast_arrays": (lambda x: np.broadcast_arrays(x[:, None], x[None, :2]), V1),
    "meshgrid": (lambda x: np.meshgrid(x, x[:3]), V1),
    "meshgrid-ij-sparse": (lambda x: np.meshgrid(x, x[:2], x[1:3], indexing="ij",
                                                 sparse=True), V1),
    "split": (lambda x: np.split(x, 2, axis=1), M),
    "split-indices": (lambda x: np.split(x, [1, 3]), V1),
    "array_split": (lambda x: np.array_split(x, 3, axis=-1), M),
    "hsplit": (lambda x: np.hsplit(x, 2), M),
    "vsplit": (lambda x: np.vsplit(x, [1]), M),
    "dsplit": (lambda x: np.dsplit(x, 2), T3),
    "real-imag-conj": (lambda x: np.real(x) * 2 + np.imag(x) + np.conj(x) + np.conjugate(x)
                       + np.real_if_close(x), M),
    "copy-ravel": (lambda x: np.ravel(np.copy(x)), M),
    "like-constants": (lambda x: x + np.zeros_like(x) + np.ones_like(x) + np.full_like(x, 2.0)
                       + 0 * np.empty_like(x), M),
    "full_like-differentiated": (lambda x: np.full_like(x[1:], x[0]), V1),
    "clip-array-bounds": (lambda x: np.clip(x, -np.linspace(0.1, 0.5, 4), 0.3), M),
    "clip-array-bounds-differentiated": (lambda x: np.clip(x[:3], x[3:4] - 1, x[4] * 0 + 0.2),
                                         V1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_selection(name):
    f, x = CASES[name]
    check(f, x)


@pytest.mark.parametrize("name", ["pad-reflect", "insert-values", "block", "meshgrid", "select"])
def test_selection_third_order(name):
    f, x = CASES[name]
    check(f, x, third=True, float32=False)
