"""Releasing backward passes: helpers drop intermediate values while they backpropagate.

A helper that owns its graph (gradient, value_and_gradient, derivative,
second_derivative, hvp, the forward-over-reverse Hessian) runs, on large x, a
single guarded backward pass that sets an intermediate's ``data`` to None as
soon as nothing in the pass needs it, unless something outside the graph
refers to that Variable.  These tests force the releasing pass on small
inputs (``_RELEASE_MIN_SIZE``) and check that it changes no number, that it
really frees memory, and that Variables the caller kept stay usable.
"""

from __future__ import annotations

import tracemalloc
import weakref

import numpy as np
import pytest
from _release_common import COMMON_FUNCTIONS, assert_threads_match_serial, point, rosen
from scipy.optimize import rosen_der, rosen_hess, rosen_hess_prod

import reverse
import reverse.core as core
import reverse.helpers as helpers
from reverse import Variable
from tests._tolerance import assert_close_ulps

FUNCTIONS = {
    **COMMON_FUNCTIONS,
    "quadratic": lambda x: (x @ np.arange(1.0, x.size + 1)) ** 2 + np.sum(x[::2] * x[1::2]),
    "concat": lambda x: np.sum(np.concatenate([x[:3] ** 3, np.tanh(x[3:])]) * x),
    "shared": lambda x: (lambda t: np.sum(t * t + np.sqrt(1 + t ** 2)))(np.cos(x)),
}


@pytest.fixture
def always_release(monkeypatch):
    monkeypatch.setattr(helpers, "_RELEASE_MIN_SIZE", 0)


def _run_both(monkeypatch, call):
    monkeypatch.setattr(helpers, "_RELEASE_MIN_SIZE", 1 << 62)
    plain = call()
    monkeypatch.setattr(helpers, "_RELEASE_MIN_SIZE", 0)
    released = call()
    return plain, released


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_releasing_pass_changes_no_number(monkeypatch, name):
    f = FUNCTIONS[name]
    x, v = point(8), point(8, seed=1)
    calls = {
        "gradient": lambda: reverse.gradient(f, x),
        "value_and_gradient": lambda: np.hstack(reverse.value_and_gradient(f, x)),
        "hvp_for": lambda: reverse.hvp(f, x, v),
        "hvp_ror": lambda: reverse.hvp(f, x, v, mode="reverse-over-reverse"),
        "hessian": lambda: reverse.hessian(f, x),
    }
    for what, call in calls.items():
        plain, released = _run_both(monkeypatch, call)
        # same formulas in the same order: the very same bits
        np.testing.assert_array_equal(released, plain, err_msg=what)


def test_releasing_pass_against_closed_forms(always_release):
    x, v = point(50), point(50, seed=1)
    np.testing.assert_allclose(reverse.gradient(rosen, x), rosen_der(x), rtol=1e-12, atol=1e-12)
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        np.testing.assert_allclose(reverse.hvp(rosen, x, v, mode=mode), rosen_hess_prod(x, v),
                                   rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(reverse.hessian(rosen, x), rosen_hess(x), rtol=1e-12, atol=1e-10)
    s = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(reverse.derivative(np.tanh, s), 1 / np.cosh(s) ** 2, rtol=1e-12)
    np.testing.assert_allclose(reverse.second_derivative(np.sin, s), -np.sin(s), rtol=1e-12,
                               atol=1e-15)


def _watch(monkeypatch):
    """Weak references to the intermediates f makes, read just after the backward
    pass while the helper still holds the graph (a wrapper around the release
    itself would hold references of its own and so stop it)."""
    made, seen = [], []
    real_call = core.Function.__call__

    def recording_call(self, *inputs):
        out = real_call(self, *inputs)
        made.append(weakref.ref(out))
        return out

    real_out = helpers._out

    def out(*args):
        seen.append([r() is not None and r().data is None for r in made])
        return real_out(*args)

    monkeypatch.setattr(core.Function, "__call__", recording_call)
    monkeypatch.setattr(helpers, "_out", out)
    return made, seen


def test_helpers_release_on_large_inputs_only(monkeypatch):
    made, seen = _watch(monkeypatch)
    reverse.gradient(rosen, point(100))
    assert len(made) >= 10 and not any(seen[-1])  # small x: nothing released
    made.clear()
    reverse.gradient(rosen, point(helpers._RELEASE_MIN_SIZE))
    # every intermediate but the output (the last one made)
    assert seen[-1] == [True] * (len(made) - 1) + [False]


def test_releasing_pass_drops_values_and_lowers_peak_memory(monkeypatch):
    n = 1 << 16
    x = point(n)

    def peak(min_size):
        monkeypatch.setattr(helpers, "_RELEASE_MIN_SIZE", min_size)
        tracemalloc.start()
        try:
            g = reverse.gradient(rosen, x)
            return tracemalloc.get_traced_memory()[1], g
        finally:
            tracemalloc.stop()

    plain_peak, g_plain = peak(1 << 62)
    release_peak, g_released = peak(0)
    np.testing.assert_array_equal(g_released, g_plain)
    # the forward values die while backward allocates its own: three or more
    # arrays of n float64 fewer at the peak
    assert plain_peak - release_peak >= 3 * 8 * (n - 1), (plain_peak, release_peak)


def test_intermediate_kept_by_f_keeps_its_value_and_graph(always_release):
    x = point(6)
    kept = []

    def f(v):
        t = v[:-1] ** 2
        kept.append((v, t))
        u = np.sin(t) * 3.0
        return np.sum(u * u)

    g = reverse.gradient(f, x)
    leaf, t = kept[0]
    np.testing.assert_array_equal(t.data, x[:-1] ** 2)
    # the gradient itself is exact
    s = x[:-1] ** 2
    expected = np.zeros_like(x)
    expected[:-1] = 18 * np.sin(s) * np.cos(s) * 2 * x[:-1]
    np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-15)
    # and the caller's Variable can still be differentiated: its ancestors
    # were not released
    leaf.clear_grad()
    np.sum(t).backward()
    expected_t = np.zeros_like(x)
    expected_t[:-1] = 2 * x[:-1]
    np.testing.assert_allclose(leaf.grad.data, expected_t, rtol=1e-12)


def test_intermediate_near_the_output_kept_by_f(always_release):
    x = point(5)
    kept = []

    def f(v):
        a = np.exp(v)
        b = a * v
        kept.append((v, b))
        return np.sum(b ** 2)

    g = reverse.gradient(f, x)
    np.testing.assert_allclose(g, 2 * x * np.exp(2 * x) * (1 + x), rtol=1e-12)
    leaf, b = kept[0]
    assert_close_ulps(b.data, np.exp(x) * x)
    leaf.clear_grad()
    np.sum(b).backward()  # b's ancestors (exp, the leaf alias) still hold values
    np.testing.assert_allclose(leaf.grad.data, np.exp(x) * (1 + x), rtol=1e-12)


def test_node_off_the_path_keeps_what_it_depends_on(always_release):
    x = point(4)
    side = []

    def f(v):
        t = np.cos(v)
        side.append((v, np.sin(t)))  # needs t's value, but is not part of the output
        return np.sum(t ** 3)

    g = reverse.gradient(f, x)
    np.testing.assert_allclose(g, -3 * np.cos(x) ** 2 * np.sin(x), rtol=1e-12)
    leaf, s = side[0]
    assert_close_ulps(s.data, np.sin(np.cos(x)))
    leaf.clear_grad()
    np.sum(s).backward()
    np.testing.assert_allclose(leaf.grad.data, -np.cos(np.cos(x)) * np.sin(x), rtol=1e-12)


def test_user_graph_is_never_released():
    x = Variable(point(1 << 15))
    y = rosen(x)
    y.backward()
    # Variable.backward never releases: the graph can be walked and used again
    f = y.creator
    while f is not None:
        assert all(v.data is not None for v in f.inputs if isinstance(v, Variable))
        f = next((v.creator for v in f.inputs
                  if isinstance(v, Variable) and v.creator is not None), None)
    g1 = x.grad.data.copy()
    x.clear_grad()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, g1)


def test_releasing_pass_is_guarded(always_release, monkeypatch):
    # the releasing pass cannot be redone, so it runs with the zero-cotangent
    # guard from the start: entries of the seed that are 0 stay 0 through
    # an infinite local derivative, as in the plain pass
    x = np.array([0.0, 1.0, 4.0])
    v = np.array([0.0, 1.0, 0.0])
    f = lambda z: np.sum(np.sqrt(z))  # noqa: E731
    expected = np.array([0.0, -0.25, 0.0])
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        np.testing.assert_array_equal(reverse.hvp(f, x, v, mode=mode), expected)
    g = reverse.gradient(lambda z: np.sum(z ** 2), np.array([0.0, np.inf]))
    np.testing.assert_array_equal(g, [0.0, np.inf])
    plain, released = _run_both(monkeypatch, lambda: reverse.gradient(f, x))
    np.testing.assert_array_equal(released, plain)
    assert plain[0] == np.inf


def test_releasing_passes_in_threads_match_serial():
    # each helper call releases only its own graph: threads sharing x and f
    # get the serial results bit for bit
    n = helpers._RELEASE_MIN_SIZE
    xs = [point(n, seed=s) for s in range(4)]
    v = point(n, seed=9)
    f = FUNCTIONS["rational"]

    def work(x):
        return (reverse.gradient(rosen, x), reverse.hvp(rosen, x, v),
                reverse.value_and_gradient(f, x)[1])

    serial = assert_threads_match_serial(work, xs, workers=4, repeats=2)
    np.testing.assert_allclose(serial[0][0], rosen_der(xs[0]), rtol=1e-12, atol=1e-12)


def test_reference_counting_runs_only_where_calibrated(monkeypatch):
    # The release and the sweep trust sys.getrefcount as calibrated on CPython
    # 3.10-3.13 (the test matrix); on any other interpreter both stay off.
    import sys

    expected = (sys.implementation.name == "cpython"
                and (3, 10) <= sys.version_info[:2] <= (3, 13)
                and getattr(sys, "_is_gil_enabled", lambda: True)())
    assert helpers._REFCOUNTS_TRUSTED is expected
    x = point(helpers._RELEASE_MIN_SIZE)
    g_on = reverse.gradient(rosen, x)
    monkeypatch.setattr(helpers, "_REFCOUNTS_TRUSTED", False)
    assert not helpers._should_release(x)
    made, seen = _watch(monkeypatch)
    g_off = reverse.gradient(rosen, x)
    assert len(made) >= 10 and not any(seen[-1])  # nothing released
    np.testing.assert_array_equal(g_off, g_on)
