"""The buffer pool of large traces (``reverse.core._recycle`` / ``pooled_out``).

Arrays a helper's large trace frees (hollowed or released values, spent
cotangents) are kept and reused as the outputs of the elementwise rules while a
large trace runs.  These tests check that the pooled path gives the numbers of
the allocating one bit for bit (pool warm against pool switched off), that an
array something else still refers to is never pooled or overwritten, that the
pool stays within its bound, and that threads and exceptions leave it sound.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import reverse
import reverse.core as core
import reverse.helpers as helpers

# large enough for the sweep, the releasing pass and the pool (2**15 numbers), even
N = 2 * helpers._RELEASE_MIN_SIZE + 18

FUNCTIONS = {
    "rosenbrock": lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
    "products": lambda x: np.sum((x * 3.0 - 1) * (x + 2) * x ** 2 - x * x),
    "slices": lambda x: (np.sum(x[::2] ** 2 * x[1::2] - (2.5 - x[1::2]) ** 2)
                         + np.sum(x[3:] * x[:-3])),
    "unary_mix": lambda x: np.sum(np.sin(x) * (x - 0.5) ** 2 + np.exp(-x * x) * 4),
    "int_constants": lambda x: np.sum(3 * x ** 2 - 2 * x + (7 - x) * x),
    "matrix": lambda x: np.sum((x.reshape(2, -1) ** 2 - x.reshape(2, -1).T.T * 2) * 0.5),
    # negations both ways and a scatter of a repeating index (np.add.at) in the
    # recorded gradient of the reverse-over-reverse HVP
    "negation_gather": lambda x: (np.sum(-(x * x[::-1]) - x) * 0.25
                                  + np.sum(x[np.arange(x.size) // 2] ** 2)),
}


def _point(n=N, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.5, n)


def _calls(f, x, v):
    return {
        "gradient": lambda: reverse.gradient(f, x),
        "value_and_gradient": lambda: reverse.value_and_gradient(f, x),
        "hvp_ror": lambda: reverse.hvp(f, x, v, mode="reverse-over-reverse"),
        "hvp_for": lambda: reverse.hvp(f, x, v),
    }


def _same(a, b):
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for p, q in zip(a, b):
            _same(p, q)
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


@pytest.fixture
def no_pool(monkeypatch):
    def off():
        monkeypatch.setattr(core, "_take", lambda shape, dtype: None)

    return off


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_pooled_results_equal_the_allocating_path_bit_for_bit(name, monkeypatch):
    f = FUNCTIONS[name]
    x = _point(N if name != "matrix" else 2 * N)
    v = _point(x.size, seed=5)
    core.clear_pool()
    warm = {}
    for key, call in _calls(f, x, v).items():
        call()  # fills the pool
        warm[key] = call()  # served from it
    monkeypatch.setattr(core, "_take", lambda shape, dtype: None)
    core.clear_pool()
    for key, call in _calls(f, x, v).items():
        _same(warm[key], call())


def test_pool_is_used_and_bounded(monkeypatch):
    if not helpers._REFCOUNTS_TRUSTED:
        pytest.skip("no sweep or releasing pass on this interpreter")
    core.clear_pool()
    x = _point()
    f = FUNCTIONS["rosenbrock"]
    reverse.gradient(f, x)
    assert core._pool_bytes > 0  # hollowed, released and spent arrays were kept
    kept = sum(a.nbytes for lst in core._POOL.values() for a in lst)
    assert kept == core._pool_bytes <= core._POOL_MAX_BYTES
    control = [object()]
    for c in control:
        alone = sys.getrefcount(c)  # a list's reference and the loop's
    for lst in core._POOL.values():
        for a in lst:
            assert sys.getrefcount(a) == alone  # nothing else refers to a pooled array
    # a smaller bound: the pool keeps no more than it
    core.clear_pool()
    monkeypatch.setattr(core, "_POOL_MAX_BYTES", 3 * x.nbytes)
    for _ in range(2):
        reverse.gradient(f, x)
        assert 0 < core._pool_bytes <= 3 * x.nbytes
    core.clear_pool()
    assert core._pool_bytes == 0 and not core._POOL


class _Boom(core.Function):
    def forward(self, x):
        return x * 1.0

    def backward(self, gy, y, x):
        raise ZeroDivisionError("inside a backward")


def test_pooling_switch_ends_with_each_pass_and_on_errors():
    x = _point()

    def bad(z):
        z * 2.0 + 1
        raise RuntimeError("inside f")

    with pytest.raises(RuntimeError, match="inside f"):
        reverse.gradient(bad, x)
    assert core._POOLING == 0
    with pytest.raises(ZeroDivisionError, match="inside a backward"):
        reverse.gradient(lambda z: np.sum(_Boom()(z * 3.0) ** 2), x)
    assert core._POOLING == 0
    # and the next call is sound
    f = FUNCTIONS["rosenbrock"]
    g = reverse.gradient(f, x)
    _same(g, reverse.gradient(f, x))
    assert core._POOLING == 0


def test_untrusted_reference_counts_keep_nothing(monkeypatch):
    monkeypatch.setattr(helpers, "_REFCOUNTS_TRUSTED", False)
    core.clear_pool()
    x = _point()
    g = reverse.gradient(FUNCTIONS["rosenbrock"], x)
    assert core._pool_bytes == 0
    monkeypatch.undo()
    _same(g, reverse.gradient(FUNCTIONS["rosenbrock"], x))


def test_arrays_f_keeps_are_never_pooled_or_overwritten():
    # f keeps intermediates (Variables and their plain values) and an outside
    # array aliasing one: none may be handed out by the pool and overwritten later
    kept = []

    def f(x):
        a = x * 2.0
        b = a - 1
        c = b * b
        kept.append((a, b.data, c.data[1:]))  # a Variable, a value, a view
        return np.sum(c ** 2 + a)

    x = _point()
    core.clear_pool()
    reverse.gradient(f, x)
    a, bdata, carr = kept[0]
    copies = (a.data.copy(), bdata.copy(), carr.copy())
    for s in range(3):  # later calls take buffers from the pool
        reverse.gradient(FUNCTIONS["rosenbrock"], _point(seed=s))
        reverse.hvp(FUNCTIONS["products"], _point(seed=s), _point(seed=9),
                    mode="reverse-over-reverse")
    for arr in list(core._POOL.values()):
        for p in arr:
            assert p is not a.data and p is not bdata and p is not carr
    _same(copies, (a.data, bdata, carr))


def _give(n):
    a = core._new_buffer((n,), np.dtype(np.float64))
    core._recycle(a)  # this local is its only reference: kept


def test_pooled_outputs_keep_numpy_dtypes_and_layouts():
    core.clear_pool()
    x = np.random.default_rng(3).uniform(-1.0, 1.0, N)
    _give(N)
    assert core._pool_bytes == x.nbytes
    # ineligible: another dtype, a broadcast partner, a Fortran-ordered matrix,
    # an integer beyond 2**53, a small array
    assert core.pooled_out(x.astype(np.float32), 2.0) is None
    assert core.pooled_out(x, x[:1]) is None
    assert core.pooled_out(np.asfortranarray(x.reshape(2, -1))) is None
    assert core.pooled_out(x, 1 << 60) is None
    assert core.pooled_out(x[:10], 2.0) is None
    assert core._pool_bytes == x.nbytes
    out = core.pooled_out(x[::-1], 3)  # a 1-d view of any stride is fine
    assert out is not None and out.shape == x.shape and out.dtype == np.float64
    assert core._pool_bytes == 0  # handed out once; the next one is a new buffer
    again = core.pooled_out(x, 2.0)
    assert again is not None and again is not out
    core.clear_pool()


def test_recycle_refuses_arrays_held_elsewhere():
    core.clear_pool()
    dt = np.dtype(np.float64)
    a = core._new_buffer((N,), dt)
    held = [a]
    core._recycle(a)  # the list holds it too
    assert core._pool_bytes == 0
    del held
    b = core._new_buffer((N,), dt)
    view = b[1:]  # a view refers to the mapping, not to b
    core._recycle(b)
    assert core._pool_bytes == 0
    del view
    core._recycle(np.empty(N))  # numpy's own memory: never kept (it is glibc's heap)
    core._recycle(core._new_buffer((N,), dt)[::2])  # a strided view
    core._recycle(core._new_buffer((N,), np.dtype(np.int64)))  # not a float array
    assert core._pool_bytes == 0
    _give(N)
    assert core._pool_bytes == N * 8
    core.clear_pool()


def test_pooled_traces_in_threads_match_serial():
    xs = [_point(seed=s) for s in range(4)]
    v = _point(seed=9)
    f = FUNCTIONS["rosenbrock"]

    def work(x):
        return (reverse.gradient(f, x), reverse.hvp(f, x, v, mode="reverse-over-reverse"),
                reverse.value_and_gradient(FUNCTIONS["products"], x)[1])

    serial = [work(x) for x in xs]
    with ThreadPoolExecutor(4) as ex:
        for _ in range(3):
            for got, want in zip(ex.map(work, xs), serial):
                _same(got, want)


def test_pool_under_nesting_of_both_engines():
    import hyperdual as hd

    x = _point()
    v = _point(seed=4)
    f = FUNCTIONS["rosenbrock"]
    want = float(v @ reverse.hvp(f, x, v))  # v^T H v
    got = [
        hd.derivative(lambda t: reverse.gradient(f, x + t * v) @ v, 0.0),  # reverse in forward
        reverse.derivative(lambda t: hd.derivative(lambda s: f(x + (t + s) * v), 0.0), 0.0),
        reverse.derivative(lambda t: reverse.gradient(f, x + t * v) @ v, 0.0),
        hd.derivative(lambda t: hd.derivative(lambda s: f(x + (t + s) * v), 0.0), 0.0),
    ]
    # sums of 3 * 10**4 terms of either sign, in different orders: ulps of the sum of
    # magnitudes
    scale = float(np.abs(v) @ np.abs(reverse.hvp(lambda z: np.sum(np.abs(z)) * 0 + f(z), x,
                                                 np.abs(v))))
    for d in got:
        assert abs(d - want) <= 64 * np.finfo(float).eps * scale


def test_traces_of_dual_data_pool_nothing():
    # hyperdual allocates a Dual's parts and never takes from the pool: a trace over
    # Dual data (forward-over-reverse) neither keeps arrays nor uses kept ones
    core.clear_pool()
    x, v = _point(), _point(seed=2)
    reverse.hvp(FUNCTIONS["rosenbrock"], x, v)
    assert core._pool_bytes == 0
    reverse.hessian(lambda z: np.sum(z[:4] ** 3) + np.sum(z * 2.0), x[:300])
    assert core._pool_bytes == 0


def test_arrays_beyond_the_pool_size_are_not_pooled():
    # from 4 MB on numpy's arrays get huge pages: the pool stays out of the way
    core.clear_pool()
    big = _point(core._POOL_ARRAY_MAX_BYTES // 8 + 2)
    assert not core.pools(big) and core.pools(big[:N].copy())
    reverse.gradient(FUNCTIONS["rosenbrock"], big)
    assert core._pool_bytes == 0
    assert core._take(big.shape, big.dtype) is None


def _dirty(n):
    """Put a pool buffer of n float64 filled with 7.0 in the pool."""
    a = core._new_buffer((n,), np.dtype(np.float64))
    a.fill(7.0)
    core._recycle(a)  # this local is its only reference: kept


def test_pooled_scatters_and_negations_equal_numpy():
    # the scatter of a gradient (reverse-over-reverse records it) and -x take a
    # buffer of the pool's while a large trace runs; a used buffer holds old values
    from reverse import utils
    from reverse.rules import unary

    gy = np.random.default_rng(4).uniform(-1.0, 1.0, N - 1)
    rep = np.arange(N - 1) // 2  # repeats: np.add.at
    for index in (slice(1, None), rep):
        want = np.zeros(N)
        np.add.at(want, index, gy)
        core.clear_pool()
        _dirty(N)
        core._pooling(1)
        try:
            got = utils._scatter_raw(gy, index, (N,))
        finally:
            core._pooling(-1)
        assert core._pool_bytes == 0  # the dirty buffer was taken
        _same(got, want)
    x = np.random.default_rng(5).uniform(-1.0, 1.0, N)
    for fn in (unary.Negative.forward, lambda a: unary.Negative.backward(a, None, None)):
        core.clear_pool()
        _dirty(N)
        core._pooling(1)
        try:
            got = fn(x)
        finally:
            core._pooling(-1)
        assert core._pool_bytes == 0
        _same(got, np.negative(x))
    core.clear_pool()


def test_warm_calls_take_every_buffer_from_the_pool(monkeypatch):
    # once the pool is warm, a gradient or a reverse-over-reverse HVP makes no new
    # buffer (each new one page-faults its memory in); the recorded gradient of
    # the HVP gives its buffer back (core.recycle_value)
    if not helpers._REFCOUNTS_TRUSTED:
        pytest.skip("no sweep or releasing pass on this interpreter")
    made = []
    new_buffer = core._new_buffer

    def counting(shape, dtype):
        made.append(shape)
        return new_buffer(shape, dtype)

    monkeypatch.setattr(core, "_new_buffer", counting)
    x, v = _point(), _point(seed=5)
    for name in ("rosenbrock", "products", "slices", "unary_mix"):
        f = FUNCTIONS[name]
        for call in (lambda f=f: reverse.gradient(f, x),
                     lambda f=f: reverse.hvp(f, x, v, mode="reverse-over-reverse")):
            core.clear_pool()
            for _ in range(2):
                call()
            made.clear()
            want = call()
            assert made == []
            monkeypatch.setattr(core, "_take", lambda shape, dtype: None)
            _same(call(), want)
            monkeypatch.undo()
            monkeypatch.setattr(core, "_new_buffer", counting)
    core.clear_pool()


def test_recorded_hvp_keeps_its_gradient_graph(monkeypatch):
    # f closing over a leaf of no helper: the HVP is recorded (a Variable whose graph
    # runs through the recorded gradient), so that gradient's buffer is not given back
    x, v = _point(), _point(seed=5)
    w = reverse.Variable(np.array(1.5))

    def f(x):
        return np.sum(w * np.exp(x * 0.1) * x ** 2)

    def run():
        core.clear_pool()
        for _ in range(3):
            r = reverse.hvp(f, x, v, mode="reverse-over-reverse")
        w.cleargrad()
        np.sum(r).backward()
        return r.data, w.grad.data

    pooled = run()
    monkeypatch.setattr(core, "_take", lambda shape, dtype: None)
    _same(pooled, run())
    # d/dw of sum(H v) = sum over i of (H v)_i / w (H is linear in w)
    np.testing.assert_allclose(pooled[1], np.sum(pooled[0]) / 1.5, rtol=1e-13)
    core.clear_pool()
