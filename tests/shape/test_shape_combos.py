"""The argument forms that peers' test suites exercise (every axis, reps,
k, kth, split spec ... on 0-d to 4-d inputs), each through the full check of
_shape_harness (both engines, first and second order, float32)."""

import itertools

import numpy as np
import pytest
from _shape_harness import check

rng = np.random.default_rng(11)


def R(*shape):
    return rng.standard_normal(shape)


def combos(name, func, arrays, **options):
    keys = list(options)
    out = []
    for i, a in enumerate(arrays):
        for values in itertools.product(*(options[k] for k in keys)):
            kw = dict(zip(keys, values))
            out.append(pytest.param(lambda x, kw=kw: func(x, **kw), a,
                                    id=f"{name}-{i}-" + "-".join(map(str, values))))
    return out


def valid(params):
    """Drop the combinations numpy itself rejects (e.g. repeats for a missing axis)."""
    keep = []
    for p in params:
        f, x = p.values
        try:
            f(x)
        except (ValueError, IndexError, np.exceptions.AxisError):
            continue
        keep.append(p)
    return keep


CASES = valid(
    combos("transpose", np.transpose, [R(2, 3, 4)],
           axes=[None, (0, 2, 1), (2, 0, 1), (1, 2, 0)])
    + combos("moveaxis", np.moveaxis, [R(2, 3, 4)], source=[0, 1, 2], destination=[0, -1])
    + combos("repeat", np.repeat, [R(2, 3, 2), R(3, 1)], repeats=[0, 1, 2], axis=[None, 0, 1])
    + combos("diff", np.diff, [R(4, 4), R(3, 4, 2)], n=[1, 2], axis=[0, 1, -1])
    + combos("diff-short", np.diff, [R(1), R(1, 1)], axis=[0])
    + combos("diff-short1", np.diff, [R(1, 1), R(3, 1)], axis=[1])
    + combos("gradient", np.gradient, [R(5), R(4, 5), R(3, 4, 3)], axis=[None, 0, 1, -1])
    + combos("gradient-axes", np.gradient, [R(3, 4, 3)], axis=[(0, 1), (0, -1)])
    + combos("tile", np.tile, [R(2, 1, 3, 1)], reps=[(1, 2, 1, 2)])
    + combos("tile2", np.tile, [R(1, 2)], reps=[(1, 2), (2, 3), (3, 2, 1)])
    + combos("tile1", np.tile, [R(1)], reps=[(2,), 2])
    + combos("sort", np.sort, [R(1), R(7)])
    + combos("partition", np.partition, [R(7), R(14)], kth=[0, 3, 6])
    + combos("atleast_1d", np.atleast_1d, [np.array(1.2), R(1), R(7), R(1, 4), R(2, 4, 5)])
    + combos("atleast_2d", np.atleast_2d, [np.array(1.2), R(1), R(7), R(1, 4), R(2, 4, 5)])
    + combos("atleast_3d", np.atleast_3d, [np.array(1.2), R(1), R(7), R(1, 4), R(2, 4),
                                           R(2, 4, 5), R(2, 3, 1, 2)])
    + combos("diag", np.diag, [R(5, 5), R(5)], k=[-1, 0, 1])
    + combos("tril", np.tril, [R(5, 5), R(4, 4, 3)], k=[-1, 0, 1])
    + combos("triu", np.triu, [R(5, 5), R(4, 4, 3)], k=[-1, 0, 1, 2])
    + combos("swapaxes", np.swapaxes, [R(3, 4, 2)], axis1=[0, 1, 2], axis2=[0, 1, 2])
    + combos("rollaxis", np.rollaxis, [R(2, 3, 4)], axis=[0, 1, 2], start=[0, 1, 2])
    + combos("vsplit", np.vsplit, [R(4, 8), R(4, 4, 2)], indices_or_sections=[2, [1, 2]])
    + combos("hsplit", np.hsplit, [R(4, 8), R(4, 4, 2)], indices_or_sections=[2, [1, 2]])
    + combos("dsplit", np.dsplit, [R(2, 2, 4)], indices_or_sections=[2, [1, 2]])
    + combos("split", np.split, [R(1), R(7), R(4, 8), R(4, 4, 2)],
             indices_or_sections=[1, 2, [1, 2]], axis=[0, 1, 2])
    + combos("array_split", np.array_split, [R(1), R(7), R(7, 7), R(3, 4, 5)],
             indices_or_sections=[1, 3, 4, [3, 5]], axis=[0, 1, 2])
    + combos("vstack", np.vstack, [R(2), R(2, 3), R(2, 3, 4)])
    + combos("hstack", np.hstack, [R(2), R(3, 2), R(2, 3, 4)])
    + combos("column_stack", np.column_stack, [R(2), R(2, 2)])
    + combos("dstack", np.dstack, [R(2), R(2, 2), R(2, 2, 2)])
    + combos("pad-constant", np.pad, [R(2, 2)],
             pad_width=[0, 3, (3,), (3, 2), ((3, 2),), ((1, 2), (3, 4)), ((0, 0), (0, 0))])
    + combos("pad-modes", np.pad, [R(3), R(3, 2)], pad_width=[2, ((1, 2),), 4],
             mode=["edge", "reflect", "symmetric", "wrap"])
    + combos("flipud", np.flipud, [R(4, 5)])
    + combos("fliplr", np.fliplr, [R(4, 5)])
    + combos("rot90", np.rot90, [R(4, 5)], k=[-1, 1, 2, 5])
    + combos("roll", np.roll, [R(4, 5)], shift=[2, -7], axis=[None, 1, -2])
    + combos("diagonal", np.diagonal, [R(4, 4), R(3, 4, 4)], axis1=[-1], axis2=[-2])
    + combos("expand_dims", np.expand_dims, [R(2, 3)], axis=[0, 1, -1, (0, 2)])
    + combos("squeeze", np.squeeze, [R(1, 3, 1)], axis=[None, 0, -1, (0, 2)])
    + combos("clip", np.clip, [R(5, 5)], a_min=[0.1, None], a_max=[1.1])
    + combos("linspace-num", lambda x, num: np.linspace(x[0], x[1], num),
             [np.array([1.2, 3.4]), np.array([1.2, -3.4]), np.array([1.2, 1.2])], num=[0, 1, 5])
    + combos("append", lambda x, axis: np.append(x[:2], x[2:], axis=axis),
             [R(3, 3)], axis=[None, 0])
    + combos("select", lambda x, default: np.select([x[0] > 0, x[1] > 0, x[2] > 0], x,
                                                    default=default),
             [R(3, 2, 3, 2)], default=[0.0, 1.1])
    + combos("ravel-reshape", lambda x, shape: np.reshape(np.ravel(x), shape), [R(2, 3)],
             shape=[(3, 2), (-1,), (6, 1)])
)


@pytest.mark.parametrize("f,x", CASES)
def test_combination(f, x):
    check(f, x, float32=False)


def test_append_lists_and_scalars():
    # np.append of a list and a float: the differentiated pieces may be either
    check(lambda x: np.append([1.0, 2.0, x[0]], x[1]), np.array([3.0, 4.0]))
    check(lambda x: np.append(x[:2].reshape(1, 2), [[7.0, 8.0]], axis=0), R(2))


def test_stacks_of_one_array_iterate_it():
    # np.vstack(a) treats the rows of a as the sequence, as numpy does
    check(lambda x: np.vstack(x), R(2, 3))
    check(lambda x: np.hstack(x), R(2))
    check(lambda x: np.column_stack(x), R(2, 2))
