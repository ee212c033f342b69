"""Writing an engine value into a plain numpy array loses its derivative: the
error the user sees must say so and name the functional alternatives.

``a = np.zeros(3); a[0] = x[0]`` raises numpy's bare ``ValueError: setting an
array element with a sequence``; numpy chains the engine value's ``__float__``
error as ``__cause__``, and that is the text shown in the traceback.  Slice
assignment and ``np.array([...])`` go through ``__array__``.  Engine values are
immutable (as JAX arrays are): ``y[i] = v`` on one raises the same advice.
"""

import numpy as np
import pytest

import hyperdual
import reverse
from tests._tolerance import assert_close_ulps


def _messages(exc):
    """The texts a user sees in the traceback: the exception and its chain."""
    out = []
    while exc is not None:
        out.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    return " | ".join(out)


def _assign_item(x):
    a = np.zeros(3)
    a[0] = x[0]
    return np.sum(a * x)


def _assign_item_scalar(x):
    a = np.zeros(3)
    a[1] = x
    return np.sum(a)


def _assign_slice(x):
    a = np.zeros(3)
    a[:2] = x[:2]
    return np.sum(a)


def _array_of_items(x):
    return np.sum(np.array([x[0], x[1]]))


def _float_of_item(x):
    return float(x[0]) * x[1]


def _set_on_engine_value(x):
    y = x * 0
    y[0] = x[1]
    return np.sum(y)


VECTOR_CASES = [_assign_item, _assign_slice, _array_of_items, _float_of_item,
                _set_on_engine_value]

# every helper family that puts a different engine type into f: Dual (gradient),
# HyperDual (hessian), Dual direction stacks (jacobian), Variable (reverse
# gradient), Variable holding Dual data (forward-over-reverse hvp), Taylor.
HELPERS = {
    "hyperdual.gradient": lambda f, x: hyperdual.gradient(f, x),
    "hyperdual.hessian": lambda f, x: hyperdual.hessian(f, x),
    "hyperdual.jacobian": lambda f, x: hyperdual.jacobian(f, x),
    "reverse.gradient": lambda f, x: reverse.gradient(f, x),
    "reverse.hessian": lambda f, x: reverse.hessian(f, x),
    "reverse.hvp": lambda f, x: reverse.hvp(f, x, np.ones_like(x)),
    "reverse.hvp-rr": lambda f, x: reverse.hvp(f, x, np.ones_like(x),
                                               mode="reverse-over-reverse"),
    "hyperdual.derivatives(taylor)": lambda f, x: hyperdual.directional_derivatives(
        f, x, np.ones_like(x), 3),
}


@pytest.mark.parametrize("helper", sorted(HELPERS))
@pytest.mark.parametrize("f", VECTOR_CASES, ids=lambda f: f.__name__)
def test_message_names_the_alternatives(helper, f):
    x = np.array([0.5, 1.5, 2.5])
    with pytest.raises((TypeError, ValueError)) as info:
        HELPERS[helper](f, x)
    text = _messages(info.value)
    assert "np.stack" in text and "np.where" in text, text
    assert "derivative" in text, text
    # the engine that refused is named
    assert ("hyperdual:" in text) or ("reverse:" in text), text
    if f is _set_on_engine_value:
        assert "item assignment" in text, text


@pytest.mark.parametrize("engine", [hyperdual, reverse], ids=lambda m: m.__name__)
def test_scalar_input_assigned_into_array(engine):
    with pytest.raises((TypeError, ValueError)) as info:
        engine.derivative(_assign_item_scalar, 2.0)
    text = _messages(info.value)
    assert "np.stack" in text and engine.__name__ + ":" in text, text


@pytest.mark.parametrize("make", [
    lambda: hyperdual.Dual(2.0, 1.0),
    lambda: hyperdual.HyperDual(2.0, 1.0, 1.0, 0.0),
    lambda: hyperdual.Taylor([2.0, 1.0, 0.0]),
    lambda: reverse.Variable(2.0),
], ids=["Dual", "HyperDual", "Taylor", "Variable"])
@pytest.mark.parametrize("conv", [float, int, complex])
def test_conversions_explain(make, conv):
    v = make()
    with pytest.raises(TypeError, match="np.stack") as info:
        conv(v)
    assert f"{conv.__name__}() of a {type(v).__name__}" in str(info.value)


def test_taylor_inside_f_gets_the_message():
    """A Taylor value (hyperdual.derivatives) assigned into a numpy array."""
    captured = {}

    def f(t):
        captured["type"] = type(t).__name__
        a = np.zeros(2)
        a[0] = t
        return np.sum(a)

    with pytest.raises((TypeError, ValueError)) as info:
        hyperdual.derivatives(f, 1.0, 4)
    assert captured["type"] == "Taylor"
    text = _messages(info.value)
    assert "float() of a Taylor" in text and "np.stack" in text, text


@pytest.mark.parametrize("engine", [hyperdual, reverse], ids=lambda m: m.__name__)
def test_the_suggested_rewrites_work(engine):
    """The alternatives the message names give the right derivatives."""
    x0 = np.array([0.5, 1.5, 2.5])

    def stacked(x):  # a = [x1, x0 * x2, 3]
        a = np.stack([x[1], x[0] * x[2], 3.0 + 0 * x[0]])
        return np.sum(a * a)

    def where(x):  # y = x with entry 0 replaced by x1
        y = np.where(np.arange(3) == 0, x[1], x)
        return np.sum(y * y)

    truth_stacked = np.array([2 * x0[0] * x0[2] ** 2, 2 * x0[1], 2 * x0[0] ** 2 * x0[2]])
    truth_where = np.array([0.0, 4 * x0[1], 2 * x0[2]])
    # products only (cond 1): a few ulps between the engine's order and this one
    assert_close_ulps(engine.gradient(stacked, x0), truth_stacked, ulps=8)
    assert_close_ulps(engine.gradient(where, x0), truth_where, ulps=8)


@pytest.mark.parametrize("helper", sorted(HELPERS) + ["hyperdual.derivatives",
                                                      "reverse.derivatives"])
@pytest.mark.parametrize("f", [_assign_item, _assign_item_scalar], ids=lambda f: f.__name__)
def test_item_assignment_error_says_why_in_its_own_text(helper, f):
    """numpy's ValueError of ``a[i] = x[j]`` keeps the reason only as ``__cause__``;
    a helper re-raises it with the reason in ``str(exc)`` (what ``match=``, logs and
    one-line reports show), still a ValueError."""
    x = np.array([0.5, 1.5, 2.5])
    call = {"hyperdual.derivatives": lambda f, x: hyperdual.derivatives(
                lambda t: f(t * x), 1.0, 3),
            "reverse.derivatives": lambda f, x: reverse.derivatives(
                lambda t: f(t * x), 1.0, 3)}.get(helper) or HELPERS[helper]
    with pytest.raises(ValueError, match="setting an array element") as info:
        call(f, x)
    text = str(info.value)
    assert "would drop its derivative" in text and "np.stack" in text, text
    assert ("hyperdual:" in text) or ("reverse:" in text), text


@pytest.mark.parametrize("outer", [hyperdual, reverse], ids=lambda m: m.__name__)
@pytest.mark.parametrize("inner", [hyperdual, reverse], ids=lambda m: m.__name__)
def test_item_assignment_error_in_nested_helpers(outer, inner):
    def f(x):
        a = np.zeros(2)
        a[0] = x[0]
        return np.sum(a * x)

    with pytest.raises(ValueError, match="would drop its derivative.*np.stack"):
        outer.derivative(lambda t: inner.gradient(f, t * np.array([1.0, 2.0]))[0], 1.0)
