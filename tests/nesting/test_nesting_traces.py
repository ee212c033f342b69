"""Traces: what an inner helper may and may not do to the world around it."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import hyperdual
import reverse
from reverse import Parameter, Variable, no_grad
from tests._tolerance import assert_close_ulps


def test_inner_helper_leaves_outer_leaf_gradients_alone():
    x = Variable(2.0)
    x.grad = Variable(10.0)  # a gradient the user accumulated earlier
    d = reverse.derivative(lambda y: x * y, 3.0)
    assert x.grad.data == 10.0  # untouched by the inner pass
    # the inner result depends on x: differentiating it reaches x
    assert isinstance(d, Variable) and d.data == 2.0
    x.clear_grad()
    (x * d).backward()
    assert x.grad.data == 4.0  # d/dx (x * x) at 2


def test_gradient_penalty_inside_a_loss():
    """WGAN-GP: loss = D(x) + lam * (|grad_x D(x)| - 1)^2, with reverse.gradient in
    the loss and the critic's parameters differentiated by a manual backward."""
    rng = np.random.default_rng(0)
    W = Parameter(rng.normal(size=(3, 4)))
    w2 = Parameter(rng.normal(size=4))
    xhat = rng.normal(size=3)

    def critic(x, W, w2):
        return np.sum(np.tanh(x @ W) * w2)

    def loss(W, w2):
        g = reverse.gradient(lambda x: critic(x, W, w2), xhat)
        return critic(xhat, W, w2) + 10.0 * (np.sqrt(np.sum(g * g)) - 1.0) ** 2

    L = loss(W, w2)
    L.backward()
    # truth: the same loss with the input gradient written out by hand
    def loss_np(Wd, w2d):
        t = np.tanh(xhat @ Wd)
        g = Wd @ ((1 - t ** 2) * w2d)
        return np.sum(t * w2d) + 10.0 * (np.linalg.norm(g) - 1.0) ** 2

    def num_grad(fun, a, h=1e-6):
        out = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            e = np.zeros_like(a)
            e[i] = h
            out[i] = (fun(a + e) - fun(a - e)) / (2 * h)
        return out

    np.testing.assert_allclose(L.data, loss_np(W.data, w2.data), rtol=1e-13)
    np.testing.assert_allclose(W.grad.data, num_grad(lambda a: loss_np(a, w2.data), W.data),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(w2.grad.data, num_grad(lambda a: loss_np(W.data, a), w2.data),
                               rtol=1e-6, atol=1e-8)
    # and against the engines' own nesting: the same loss under reverse.gradient
    gW = reverse.gradient(lambda a: loss(a, w2.data), W.data)
    np.testing.assert_allclose(gW, W.grad.data, rtol=1e-12)


def test_helpers_record_inside_no_grad():
    with no_grad():
        assert reverse.derivative(lambda x: x ** 3, 2.0) == 12.0
        np.testing.assert_allclose(reverse.hessian(lambda x: np.sum(x ** 3), [1.0, 2.0]),
                                   np.diag([6.0, 12.0]))


def test_helper_of_a_variable_is_a_variable_of_its_graph():
    x = Variable(np.array([1.0, 2.0]))
    g = reverse.gradient(lambda z: np.sum(z ** 3), x)
    assert isinstance(g, Variable)
    np.testing.assert_allclose(g.data, [3.0, 12.0])
    np.sum(g).backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 12.0])
    # hyperdual hands a Variable over to reverse
    x.clear_grad()
    g2 = hyperdual.gradient(lambda z: np.sum(z ** 3), x)
    assert isinstance(g2, Variable)
    np.sum(g2).backward()
    np.testing.assert_allclose(x.grad.data, [6.0, 12.0])


@pytest.mark.parametrize("engine", [hyperdual, reverse])
@pytest.mark.parametrize("bad", [None, "1.0", {"a": 1}, len])
def test_f_returning_a_non_number_is_a_type_error(engine, bad):
    with pytest.raises(TypeError, match="f returned"):
        engine.gradient(lambda x: bad, np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="f returned"):
        engine.derivative(lambda x: bad, 1.0)


def test_escaped_dual_is_refused():
    saved = []
    hyperdual.derivative(lambda x: saved.append(x) or x, 1.0)
    escaped = saved[0]
    with pytest.raises(ValueError, match="escaped"):
        hyperdual.derivative(lambda y: y * escaped, 2.0)
    with pytest.raises(ValueError, match="escaped"):
        hyperdual.gradient(lambda y: np.sum(y) * escaped, np.ones(2))
    # its value is fine
    assert hyperdual.derivative(lambda y: y * escaped.real, 2.0) == 1.0


def test_user_tags_are_not_retired():
    t = hyperdual.new_tag()
    a = hyperdual.Dual(2.0, 1.0, tag=t)
    d = hyperdual.derivative(lambda y: a * y, 3.0)
    assert isinstance(d, hyperdual.Dual) and d.real == 2.0 and d.dual == 1.0


def test_unpickled_dual_gets_a_tag_of_this_process():
    """A Dual pickled in another process carries a tag that may be live here: it must
    become a constant to this process's helpers, not their perturbation."""
    script = textwrap.dedent("""
        import pickle, sys, hyperdual
        for _ in range(5):
            hyperdual.new_tag()
        t = hyperdual.new_tag()
        sys.stdout.buffer.write(pickle.dumps(hyperdual.Dual(3.0, 1.0, tag=t)))
    """)
    blob = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True).stdout
    d_remote = pickle.loads(blob)
    assert d_remote.tag < 0  # older than every helper tag of this process

    # a helper here whose tag has the remote number's original value
    seen = []

    def f(y):
        seen.append(y.tag)
        return y * d_remote

    r = hyperdual.derivative(f, 2.0)
    # d/dy (y * D) = D: the remote number comes back whole, as a constant would
    assert isinstance(r, hyperdual.Dual) and (r.real, r.dual) == (3.0, 1.0)
    # and within this process a round trip keeps the tag
    t = hyperdual.new_tag()
    assert pickle.loads(pickle.dumps(hyperdual.Dual(1.0, 2.0, tag=t))).tag == t


def test_unpickled_taylor_gets_a_tag_of_this_process():
    """The same for a Taylor: pickled in another process with a tag that is a live
    helper tag here, it must be a constant to this process's helpers."""
    script = textwrap.dedent("""
        import pickle, sys, hyperdual
        for _ in range(5):
            hyperdual.new_tag()
        t = hyperdual.new_tag()
        sys.stdout.buffer.write(pickle.dumps(hyperdual.Taylor([3.0, 1.0, 0.5], tag=t)))
    """)
    blob = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True).stdout
    t_remote = pickle.loads(blob)
    assert t_remote.tag < 0
    # d/dy (y * T) = T at every order: the remote series comes back whole, as a constant
    r = hyperdual.derivative(lambda y: y * t_remote, 2.0)
    assert isinstance(r, hyperdual.Taylor) and list(r.coef) == [3.0, 1.0, 0.5]
    t = hyperdual.new_tag()
    assert pickle.loads(pickle.dumps(hyperdual.Taylor([1.0, 2.0], tag=t))).tag == t


_ESCAPE_HELPERS = {
    "derivative": lambda m, e: m.derivative(lambda y: y * e[0], 2.0),
    "second_derivative": lambda m, e: m.second_derivative(lambda y: y * y * e[0], 2.0),
    "gradient": lambda m, e: m.gradient(lambda y: np.sum(y * e), np.array([3.0, 5.0])),
    "value_and_gradient": lambda m, e: m.value_and_gradient(lambda y: np.sum(y * e),
                                                            np.array([3.0, 5.0])),
    "jacobian": lambda m, e: m.jacobian(lambda y: y * e, np.array([3.0, 5.0])),
    "hessian": lambda m, e: m.hessian(lambda y: np.sum(y * y * e), np.array([3.0, 5.0])),
    "hvp": lambda m, e: m.hvp(lambda y: np.sum(y * y * e), np.ones(2), np.ones(2)),
    "jvp": lambda m, e: m.jvp(lambda y: y * e, np.ones(2), np.ones(2)),
    "vjp": lambda m, e: m.vjp(lambda y: y * e, np.ones(2), np.ones(2)),
    "derivatives": lambda m, e: m.derivatives(lambda y: y * y * e[0], 2.0, 3),
    "nth_derivative": lambda m, e: m.nth_derivative(lambda y: y * y * e[0], 2.0, 2),
    "taylor": lambda m, e: m.taylor(lambda y: y * y * e[0], 2.0, 2),
    "derivative_tensor": lambda m, e: m.derivative_tensor(lambda y: np.sum(y * y * e),
                                                          np.ones(2), 2),
    "directional_derivatives": lambda m, e: m.directional_derivatives(
        lambda y: np.sum(y * y * e), np.ones(2), np.ones(2), 2),
}


@pytest.mark.parametrize("engine", ["hyperdual", "reverse"])
@pytest.mark.parametrize("helper", sorted(_ESCAPE_HELPERS))
def test_escaped_dual_is_refused_by_every_helper_of_both_engines(engine, helper):
    """A Dual saved inside hyperdual.gradient and used by a later call: the Dual
    helpers refused it, but reverse's helpers and the Taylor helpers of both engines
    returned a Dual of the dead call as the result."""
    saved = []
    hyperdual.gradient(lambda x: (saved.append(x), np.sum(x ** 2))[1], np.array([1.0, 2.0]))
    m = hyperdual if engine == "hyperdual" else reverse
    with pytest.raises(ValueError, match="escaped"):
        _ESCAPE_HELPERS[helper](m, saved[0])
    # its value is a plain constant
    got = _ESCAPE_HELPERS[helper](m, saved[0].real)
    assert not isinstance(got, hyperdual.Dual)


# --- an escaped reverse input (redteam17a) ----------------------------------------
# A Variable that f saved inside one reverse helper call (its own input, or a value
# computed from it) and that a later call's f uses is a constant there: the later
# helper returns plain numbers.  It used to be taken for a Variable of an outer
# trace, so every helper of both engines returned a Variable (np.asarray of which
# raises), as for a user's own leaf, which stays an outer trace.
def _escaped_reverse_values():
    saved = {}

    def f(y):
        saved["y"] = y
        saved["z"] = y * 3.0
        return np.sum(y ** 2)

    reverse.gradient(f, np.array([1.0, 2.0]))
    saved_s = {}
    reverse.derivative(lambda s: saved_s.setdefault("s", s) * 2.0, 1.5)
    return saved["y"], saved["z"], saved_s["s"]


ESCAPED_CASES = {
    # name: (call(m, Y, Z, S), truth) with Y = [1, 2], Z = [3, 6], S = 1.5
    "gradient": (lambda m, Y, Z, S: m.gradient(lambda x: np.sum(x ** 2 * Y), np.array([0.5, 1.5])),
                 [1.0, 6.0]),
    "hessian": (lambda m, Y, Z, S: m.hessian(lambda x: np.sum(x ** 3 * Z), np.array([0.5, 1.5])),
                [[9.0, 0.0], [0.0, 54.0]]),
    "hvp": (lambda m, Y, Z, S: m.hvp(lambda x: np.sum(x ** 3 * Z), np.array([0.5, 1.5]),
                                     np.array([0.5, 1.5])), [4.5, 81.0]),
    "derivative": (lambda m, Y, Z, S: m.derivative(lambda s: s * Y[0] + s * S, 2.0), 2.5),
    "second_derivative": (lambda m, Y, Z, S: m.second_derivative(lambda s: s ** 3 * Y[1], 2.0),
                          24.0),
    "jacobian": (lambda m, Y, Z, S: m.jacobian(lambda x: x * Y, np.array([0.5, 1.5])),
                 [[1.0, 0.0], [0.0, 2.0]]),
    "value_and_gradient": (lambda m, Y, Z, S: m.value_and_gradient(
        lambda x: np.sum(x * Y), np.array([0.5, 1.5]))[1], [1.0, 2.0]),
    "vjp": (lambda m, Y, Z, S: m.vjp(lambda x: x * Y, np.array([0.5, 1.5]), np.ones(2))[1],
            [1.0, 2.0]),
    "jvp": (lambda m, Y, Z, S: m.jvp(lambda x: x * Y, np.array([0.5, 1.5]), np.ones(2))[1],
            [1.0, 2.0]),
    "nth_derivative": (lambda m, Y, Z, S: m.nth_derivative(lambda s: s ** 3 * Y[1], 2.0, 2),
                       24.0),
    "nested": (lambda m, Y, Z, S: m.derivative(
        lambda s: s * reverse.derivative(lambda t: t * s * Y[0], 1.0), 2.0), 4.0),
}


@pytest.mark.parametrize("engine", ["hyperdual", "reverse"])
@pytest.mark.parametrize("helper", list(ESCAPED_CASES))
def test_escaped_reverse_input_is_a_constant_to_later_helpers(engine, helper):
    m = {"hyperdual": hyperdual, "reverse": reverse}[engine]
    Y, Z, S = _escaped_reverse_values()
    call, want = ESCAPED_CASES[helper]
    got = call(m, Y, Z, S)
    assert isinstance(got, (float, np.ndarray)), type(got)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_a_users_own_leaf_stays_an_outer_trace():
    w = Variable(np.array(2.0))
    d = reverse.derivative(lambda s: s * w, 3.0)
    assert isinstance(d, Variable) and d.data == 2.0
    d2 = hyperdual.derivative(lambda s: s * w, 3.0)
    assert isinstance(d2, Variable) and d2.data == 2.0


#: helper name -> (call on f(s) = s**2 w at s = 3, the result's d/dw: closed form)
_OWN_LEAF_CALLS = {
    "derivative": (lambda m, f: m.derivative(f, 3.0), 6.0),
    "gradient": (lambda m, f: m.gradient(lambda x: f(x[0]), np.array([3.0]))[0], 6.0),
    "jacobian": (lambda m, f: m.jacobian(lambda x: f(x), np.array([3.0]))[0, 0], 6.0),
    "jvp": (lambda m, f: m.jvp(f, 3.0, 1.0)[1], 6.0),
    "jvp-array": (lambda m, f: m.jvp(f, np.array([3.0]), np.array([1.0]))[1][0], 6.0),
    "vjp": (lambda m, f: m.vjp(f, 3.0, 1.0)[1], 6.0),
    "value_and_gradient": (lambda m, f: m.value_and_gradient(
        lambda x: f(x[0]), np.array([3.0]))[1][0], 6.0),
    "value": (lambda m, f: m.value_and_gradient(lambda x: f(x[0]), np.array([3.0]))[0], 9.0),
    "second_derivative": (lambda m, f: m.second_derivative(f, 3.0), 2.0),
    "hessian": (lambda m, f: m.hessian(lambda x: f(x[0]), np.array([3.0]))[0, 0], 2.0),
    "hvp": (lambda m, f: m.hvp(lambda x: f(x[0]), np.array([3.0]), np.array([1.0]))[0], 2.0),
}


@pytest.mark.parametrize("engine", [hyperdual, reverse], ids=["hyperdual", "reverse"])
@pytest.mark.parametrize("helper", [*_OWN_LEAF_CALLS, "linearize"])
def test_every_helper_keeps_a_users_own_leaf_an_outer_trace(engine, helper):
    # reverse.jvp and linearize returned plain numbers when f closed over a Variable
    # the user made (their first pass keeps to the paths to x, so it never met the
    # leaf): the tangent of jvp(lambda s: s**2 * w, 3.0, 1.0) was 6.0, a constant,
    # with no derivative by w
    if helper == "linearize":
        if engine is hyperdual:
            pytest.skip("hyperdual has no linearize")
        call, want = (lambda m, f: m.linearize(f, 3.0)[1](1.0)), 6.0
    else:
        call, want = _OWN_LEAF_CALLS[helper]
    w = Variable(np.array(2.0))
    r = call(engine, lambda s: s ** 2 * w)
    assert isinstance(r, Variable), type(r)
    r.backward()
    assert float(w.grad.data) == want


# The Taylor helpers' method="backprop" made their own input leaves outside the
# retirement of the first-order helpers, so an input saved there stayed a "live"
# outer-trace Variable: reverse.derivatives(lambda y: saved * y ** 2, 1.5, 2,
# method="backprop") returned variable([4.5 6. 4.]) (truth: plain numbers).
_TAYLOR_ESCAPES = {
    # name: (call that lets f save its input, factor the saved value brings: c)
    "derivatives": lambda f: reverse.derivatives(f, 2.0, 3, method="backprop"),
    "taylor": lambda f: reverse.taylor(f, 2.0, 2, method="backprop"),
    "nth_derivative": lambda f: reverse.nth_derivative(f, 2.0, 2, method="backprop"),
    "directional_derivatives": lambda f: reverse.directional_derivatives(
        f, np.array([2.0]), np.array([1.0]), 2, method="backprop"),
    "derivative_tensor": lambda f: reverse.derivative_tensor(
        f, np.array([2.0]), 2, method="backprop"),
}


@pytest.mark.parametrize("escape", list(_TAYLOR_ESCAPES))
@pytest.mark.parametrize("later", ["derivatives", "gradient", "hyperdual"])
def test_escaped_taylor_backprop_input_is_a_constant(escape, later):
    saved = []

    def f(x):
        saved.append(x)
        return np.sum(x ** 3)

    _TAYLOR_ESCAPES[escape](f)
    c = saved[0]  # a Variable (or a node on one) of the returned call; its value is 2

    def g(y):
        return np.sum(c * 0.5) * y ** 3  # = y ** 3 where c = 2

    if later == "derivatives":
        got, want = reverse.derivatives(g, 1.5, 2, method="backprop"), [3.375, 6.75, 9.0]
    elif later == "gradient":
        got, want = reverse.gradient(g, 1.5), 6.75
    else:
        got, want = hyperdual.derivative(g, 1.5), 6.75
    assert isinstance(got, (float, np.ndarray)), type(got)
    # c * 0.5 * y**3 and its derivatives at 1.5 are exact binary numbers: a few ulps
    assert_close_ulps(got, want, ulps=4)
