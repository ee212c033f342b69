"""8 threads computing different derivatives at once give bitwise the serial results.

Each task is a different function/helper/engine: gradients and HVPs in both
engines, both ``reverse.hvp`` modes, some inside ``no_grad()`` (which is
per-thread: it must neither leak into other threads nor break helpers), some
with ``create_graph=True`` double backprop.  A barrier before every round makes
the threads really overlap; several rounds shuffle the interleaving.
"""

import threading

import numpy as np

import hyperdual as hd
import reverse as rv
from reverse import Variable, no_grad

X = np.linspace(-0.9, 1.3, 7)
V = np.cos(np.arange(7.0))


def f(x):
    return np.sum(np.sin(x) * x ** 2 + np.exp(x / 3) - np.tanh(x[::-1] * x))


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def double_backprop(x0):
    x = Variable(x0)
    y = f(x)
    y.backward(create_graph=True)
    g = x.grad
    x.clear_grad()
    np.sum(g * V).backward()  # H v by reverse-over-reverse by hand
    return np.concatenate([g.data, x.grad.data])


def in_no_grad(fn):
    def run():
        with no_grad():
            out = fn()
            # no_grad is still on in this thread, and records no graph
            y = np.sin(Variable(X)) * 2
            assert y.creator is None
        return out
    return run


def records_graph():
    # a thread that never entered no_grad must record graphs, whatever others do
    y = np.sin(Variable(X)) * 2
    assert y.creator is not None
    y2 = np.sum(y)
    y2.backward()
    return y2.data


TASKS = [
    lambda: rv.gradient(f, X),
    in_no_grad(lambda: rv.hvp(f, X, V, mode="reverse-over-reverse")),
    lambda: rv.hvp(rosen, X, V, mode="forward-over-reverse"),
    in_no_grad(lambda: rv.hessian(rosen, X)),
    lambda: hd.gradient(f, X),
    in_no_grad(lambda: hd.hvp(rosen, X, V)),
    lambda: double_backprop(X),
    lambda: np.concatenate([hd.hessian(f, X).ravel(), np.atleast_1d(records_graph())]),
]


def test_eight_threads_bitwise_equal_to_serial():
    assert len(TASKS) == 8
    serial = [np.asarray(t()) for t in TASKS]
    rounds = 24
    barrier = threading.Barrier(len(TASKS))
    results = [[None] * rounds for _ in TASKS]
    errors = []

    def worker(i):
        try:
            for r in range(rounds):
                barrier.wait(timeout=60)
                # rotate which task each thread runs so every pairing overlaps
                j = (i + r) % len(TASKS)
                results[j][r] = np.asarray(TASKS[j]())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append((i, repr(exc)))
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(TASKS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    assert not errors, errors
    for j, s in enumerate(serial):
        for r in range(rounds):
            out = results[j][r]
            assert out is not None, (j, r)
            assert out.dtype == s.dtype and out.shape == s.shape
            assert out.tobytes() == s.tobytes(), (j, r)  # bitwise


def test_serial_results_are_right():
    """The serial answers the threads are compared with are themselves correct."""
    np.testing.assert_allclose(rv.gradient(f, X), hd.gradient(f, X), rtol=1e-12, atol=1e-12)
    H = hd.hessian(f, X)
    np.testing.assert_allclose(rv.hvp(f, X, V, mode="reverse-over-reverse"), H @ V,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(double_backprop(X)[7:], H @ V, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rv.hvp(rosen, X, V), hd.hessian(rosen, X) @ V, rtol=1e-12)


def test_no_grad_does_not_leak_between_threads():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def holder():
        with no_grad():
            inside.set()
            release.wait(30)

    t = threading.Thread(target=holder)
    t.start()
    inside.wait(30)
    try:
        seen["main"] = np.sin(Variable(1.0)).creator is not None
    finally:
        release.set()
        t.join(30)
    assert seen["main"]
