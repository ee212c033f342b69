"""A point given as several arrays (a tuple, list or dict of them, as JAX's pytrees)
is refused by every helper of both engines with a TypeError that says the helpers
differentiate with respect to one array and how to concatenate and split.

Before, hyperdual's helpers let numpy's ``ValueError: setting an array element with a
sequence ... inhomogeneous shape`` through for a ragged tuple, and a tuple of engine
values got the message for ``np.asarray`` of a Dual (autograd's test_tuple/test_list
run through hyperdual counted these as crashes).
"""

import numpy as np
import pytest

import hyperdual
import reverse


def _f(x):
    return np.sum(x[0] ** 2)


CALLS = {
    "gradient": lambda e, x: e.gradient(_f, x),
    "value_and_gradient": lambda e, x: e.value_and_gradient(_f, x),
    "jacobian": lambda e, x: e.jacobian(_f, x),
    "hessian": lambda e, x: e.hessian(_f, x),
    "hvp": lambda e, x: e.hvp(_f, x, np.ones(2)),
    "jvp": lambda e, x: e.jvp(_f, x, np.ones(2)),
    "vjp": lambda e, x: e.vjp(_f, x, 1.0),
}

POINTS = {
    "ragged tuple": (np.ones(2), np.ones(3)),
    "ragged list": [1.0, np.ones(2)],
    "dict": {"a": np.ones(2), "b": np.ones(2)},
}


@pytest.mark.parametrize("engine", [hyperdual, reverse], ids=lambda m: m.__name__)
@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("point", sorted(POINTS))
def test_several_arrays_are_refused_naming_the_way_out(engine, call, point):
    with pytest.raises(TypeError, match="one array") as info:
        CALLS[call](engine, POINTS[point])
    text = str(info.value)
    assert "np.concatenate" in text and engine.__name__ in text, text


@pytest.mark.parametrize("engine", [hyperdual, reverse], ids=lambda m: m.__name__)
def test_the_suggested_rewrite_works(engine):
    """The advice in the message: concatenate, split inside f."""
    a, b = np.array([1.0, 2.0]), np.array([[3.0], [4.0], [5.0]])

    def f(x):
        aa, bb = x[:a.size].reshape(a.shape), x[a.size:].reshape(b.shape)
        return np.sum(aa ** 2) * np.sum(bb)

    g = engine.gradient(f, np.concatenate([a.ravel(), b.ravel()]))
    truth = np.concatenate([2 * a * b.sum(), np.full(b.size, np.sum(a ** 2))])
    np.testing.assert_array_equal(g, truth)  # small integers: exact in float64


@pytest.mark.parametrize("engine", [hyperdual, reverse], ids=lambda m: m.__name__)
def test_a_rectangular_list_is_still_a_point(engine):
    g = engine.gradient(lambda x: np.sum(x ** 2), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(g, [[2.0, 4.0], [6.0, 8.0]])
