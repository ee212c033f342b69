"""Hollowed intermediates: a helper's large trace frees the values no backward reads.

While ``gradient``, ``value_and_gradient`` and ``hvp`` record ``f`` on large x
(``core.sweeping``), an intermediate that only the graph still refers to, and
whose value neither its consumers' nor its creator's backward reads (the
operand of ``+``, ``-``, ``c * a``, ``sum``, slicing; a power's output), gets a
NaN broadcast of its shape instead of its array.  These tests force it on small
inputs (``_HOLLOW_MIN_BYTES``, ``_RELEASE_MIN_SIZE``) and check that it changes
no number in any helper, that it happens, and that it spares what f keeps or
a backward reads.  Forward-over-reverse also accumulates the scatters of
several indexings of x (Dual cotangents) into one buffer: checked against the
closed form with repeated fancy indices.
"""

from __future__ import annotations

import weakref

import numpy as np
import pytest
from _release_common import COMMON_FUNCTIONS, assert_threads_match_serial, point, rosen

import reverse
import reverse.core as core
import reverse.helpers as helpers
from tests._tolerance import assert_close_ulps

FUNCTIONS = {
    **COMMON_FUNCTIONS,
    "products": lambda x: np.sum((x[1:] * x[:-1] - 0.5) * (2.0 * x[1:]) + (-x[:-1]) ** 3),
    "indexing": lambda x: np.sum(x[::2] ** 2) + np.sum(x[[0, 0, 3]] * x[1:4]) + np.sum(
        x[x > 0.2] ** 3),
    "shared": lambda x: (lambda t: np.sum(t * t + np.sqrt(1 + t ** 2) - t))(np.cos(x)),
    "powers": lambda x: np.sum((x - 2.0) ** 2 + (x + 3.0) ** 3.5 + x ** x),
}


#: where a temporary dies before the last node (in sin_exp and logsumexp every
#: operand is read: sin, exp, log, a product of two Variables)
HOLLOWS = {"rosenbrock", "rational", "products", "indexing", "shared", "powers"}


def _sweep_everything(monkeypatch, on):
    monkeypatch.setattr(helpers, "_RELEASE_MIN_SIZE", 0 if on else 1 << 62)
    monkeypatch.setattr(core, "_HOLLOW_MIN_BYTES", 0 if on else 1 << 62)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_hollowing_changes_no_number(monkeypatch, name):
    f = FUNCTIONS[name]
    x, v = np.abs(point(9)) + 0.1, point(9, seed=1)
    calls = {
        "gradient": lambda: reverse.gradient(f, x),
        "value_and_gradient": lambda: np.hstack(reverse.value_and_gradient(f, x)),
        "hvp_for": lambda: reverse.hvp(f, x, v),
        "hvp_ror": lambda: reverse.hvp(f, x, v, mode="reverse-over-reverse"),
    }
    for what, call in calls.items():
        _sweep_everything(monkeypatch, False)
        plain = call()
        hollowed = []
        real = core._sweep_pending

        def counting(pending, *args, real=real, hollowed=hollowed):
            before = len(pending)
            real(pending, *args)
            hollowed.append(before - len(pending))

        _sweep_everything(monkeypatch, True)
        monkeypatch.setattr(core, "_sweep_pending", counting)
        swept = call()
        monkeypatch.setattr(core, "_sweep_pending", real)
        if name in HOLLOWS and helpers._REFCOUNTS_TRUSTED:
            assert sum(hollowed) > 0, what
        # the same formulas on the same values: the very same bits
        np.testing.assert_array_equal(swept, plain, err_msg=what)
        assert np.all(np.isfinite(plain)), what


def _hollow(v):
    d = v.data
    return isinstance(d, np.ndarray) and d.ndim > 0 and not any(d.strides) and bool(
        np.isnan(d).all())


@pytest.mark.skipif(not helpers._REFCOUNTS_TRUSTED, reason="no sweep on this interpreter")
def test_dead_temporaries_are_hollowed_and_the_rest_kept(monkeypatch):
    _sweep_everything(monkeypatch, True)
    x = point(6)
    seen = {}

    def f(v):
        t = v * 2.0  # named in f: kept
        a = (t - 1.0) + 0.5  # t - 1.0 dies inside this line; + reads no value
        seen["temp"] = weakref.ref(a.creator.inputs[0])
        b = np.exp(a) * 3.0  # exp reads its output: b's creator keeps exp(a)
        seen["exp"] = weakref.ref(b.creator.inputs[0])
        c = t * a  # a product reads both operands: a is kept
        d = c[1:] - c[:-1]  # more nodes: the sweep runs at each
        seen["state"] = {k: (r() is not None and _hollow(r())) for k, r in seen.items()
                         if k != "state"}
        seen["t"], seen["a"] = t.data.copy(), a.data.copy()
        return np.sum(b) + np.sum(d * d)

    g = reverse.gradient(f, x)
    assert seen["state"] == {"temp": True, "exp": False}
    np.testing.assert_array_equal(seen["t"], x * 2.0)
    np.testing.assert_array_equal(seen["a"], (x * 2.0 - 1.0) + 0.5)
    a = 2 * x - 0.5
    c = 2 * x * a
    dc = np.zeros_like(x)
    dc[1:] += 2 * (c[1:] - c[:-1])
    dc[:-1] -= 2 * (c[1:] - c[:-1])
    want = 6.0 * np.exp(a) + dc * (2 * a + 2 * x * 2)
    assert_close_ulps(g, want, ulps=16, cond=np.max(np.abs(want)) / np.abs(want))


def test_only_helpers_on_large_inputs_sweep(monkeypatch):
    monkeypatch.setattr(core, "_HOLLOW_MIN_BYTES", 0)
    calls = []
    real = core._sweep_call
    monkeypatch.setattr(core, "_sweep_call", lambda f, i: (calls.append(f), real(f, i)))
    xv = reverse.Variable(point(8))
    rosen(xv).backward()  # the user's own graph is never swept
    reverse.gradient(rosen, point(8))  # small x: no helper sweeps
    assert calls == []
    reverse.gradient(rosen, point(helpers._RELEASE_MIN_SIZE))
    assert bool(calls) == helpers._REFCOUNTS_TRUSTED
    assert core._SWEEPS == 0 and core._SWEEP.get() is None


def test_an_exception_in_f_ends_the_sweep(monkeypatch):
    _sweep_everything(monkeypatch, True)

    def f(x):
        y = (x - 1.0) + 2.0
        raise KeyError(float(y.data[0]))

    with pytest.raises(KeyError):
        reverse.gradient(f, point(9))
    assert core._SWEEPS == 0 and core._SWEEP.get() is None


@pytest.mark.parametrize("n", [40, 1 << 15])
def test_forward_over_reverse_scatters_into_one_buffer(n):
    """Basic slices and repeated fancy indices of x: the Dual cotangents of each
    indexing node are added into one buffer; H v against the closed form."""
    x, v = point(n), point(n, seed=1)
    idx = np.array([0, 3, 3, 1, 0, 3])

    def f(z):
        return (np.sum(z[1:] * z[:-1]) + np.sum(z[idx] ** 3) + 0.5 * np.sum(z[::2] ** 2)
                + np.sum(z[2:] * z[:-2]))

    hv = np.zeros(n)
    hv[1:] += v[:-1]
    hv[:-1] += v[1:]
    hv[2:] += v[:-2]
    hv[:-2] += v[2:]
    np.add.at(hv, idx, 6 * x[idx] * v[idx])
    hv[::2] += v[::2]
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        got = reverse.hvp(f, x, v, mode=mode)
        assert_close_ulps(got, hv, ulps=8, cond=np.max(np.abs(hv)) / np.maximum(
            np.abs(hv), 1e-300), err_msg=mode)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_products_of_a_broadcast_cotangent(dtype):
    """Above 10**4 elements Sum's backward broadcasts its cotangent; a constant
    times it, and its negative, stay one number broadcast where the pass records
    a graph (reverse-over-reverse).  The Hessian-vector product of
    sum(3 (x - 1)**2 - 2.5 x**3 + 0.5 (1 - x)**2) against its closed form, in x's dtype."""
    n = 12000
    x = point(n).astype(dtype)
    v = point(n, seed=1).astype(dtype)

    def f(z):
        return np.sum(3.0 * (z - 1.0) ** 2 - 2.5 * z ** 3 + 0.5 * (1.0 - z) ** 2)

    xd, vd = x.astype(np.float64), v.astype(np.float64)
    want = (6.0 - 15.0 * xd + 1.0) * vd
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        got = reverse.hvp(f, x, v, mode=mode)
        assert got.dtype == dtype, mode
        eps = np.finfo(dtype).eps
        cond = (6.0 + 15.0 * np.abs(xd) + 1.0) * np.abs(vd) / np.maximum(np.abs(want), 1e-300)
        assert np.all(np.abs(got - want) <= 8 * eps * cond * np.abs(want) + 1e-300), mode
    g = reverse.gradient(f, x)
    assert g.dtype == dtype


def test_sweeps_in_threads_match_serial(monkeypatch):
    """Each thread sweeps its own trace (a context variable): threads sharing f
    and v get the serial results bit for bit, and no sweep is left counted."""
    monkeypatch.setattr(core, "_HOLLOW_MIN_BYTES", 0)
    n = helpers._RELEASE_MIN_SIZE
    xs = [point(n, seed=s) for s in range(3)]
    v = point(n, seed=9)
    f = FUNCTIONS["products"]

    def work(x):
        return (reverse.gradient(rosen, x), reverse.hvp(f, x, v),
                reverse.hvp(rosen, x, v, mode="reverse-over-reverse"))

    assert_threads_match_serial(work, xs, workers=3, repeats=3)
    assert core._SWEEPS == 0
