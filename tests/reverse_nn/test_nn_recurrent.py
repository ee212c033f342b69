"""The book's recurrent pieces (steps 59-60): RNN and LSTM layers, truncated backprop
with ``Variable.unchain_backward``, the SinCurve data set and SeqDataLoader.

Truths: the recurrences written out with numpy from the layers' weights, central
differences of the loss in each weight, and the loaders' index formulas.
"""

from __future__ import annotations

import numpy as np
import pytest

import reverse.functions as F
from reverse import LSTM, RNN, SeqDataLoader, SinCurve, Variable
from tests._tolerance import assert_close_ulps


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _rnn_numpy(rnn, xs):
    W, b, U = rnn.x2h.W.data, rnn.x2h.b.data, rnn.h2h.W.data
    h, out = None, []
    for x in xs:
        a = x @ W + b
        h = np.tanh(a if h is None else a + h @ U)
        out.append(h)
    return out


def _lstm_numpy(lstm, xs):
    h = c = None
    out = []
    names = ("f", "i", "o", "u")
    for x in xs:
        pre = {}
        for n in names:
            lin = getattr(lstm, "x2" + n)
            pre[n] = x @ lin.W.data + lin.b.data
            if h is not None:
                pre[n] = pre[n] + h @ getattr(lstm, "h2" + n).W.data
        f, i, o, u = _sig(pre["f"]), _sig(pre["i"]), _sig(pre["o"]), np.tanh(pre["u"])
        c = i * u if c is None else f * c + i * u
        h = o * np.tanh(c)
        out.append(h)
    return out


@pytest.mark.parametrize("cls, ref", [(RNN, _rnn_numpy), (LSTM, _lstm_numpy)])
def test_recurrences_match_numpy(cls, ref):
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(2, 3)) for _ in range(4)]
    layer = cls(5, seed=1)
    hs = [layer(x) for x in xs]
    for h, r in zip(hs, ref(layer, xs)):
        np.testing.assert_allclose(h.data, r, rtol=1e-13, atol=1e-14)
    layer.reset_state()
    np.testing.assert_allclose(layer(xs[0]).data, hs[0].data, rtol=0, atol=0)


@pytest.mark.parametrize("cls", [RNN, LSTM])
def test_backprop_through_time_against_central_differences(cls):
    rng = np.random.default_rng(2)
    xs = [rng.normal(size=(2, 3)) for _ in range(3)]
    target = rng.normal(size=(2, 4))
    layer = cls(4, seed=3)

    def loss():
        layer.reset_state()
        h = None
        for x in xs:
            h = layer(x)
        return F.mean_squared_error(h, target)

    layer.cleargrads()
    loss().backward()
    for p in layer.params():
        if p.grad is None:
            continue
        g = p.grad.data
        num = np.zeros_like(p.data)
        for idx in np.ndindex(p.data.shape):
            old = p.data[idx]
            step = 1e-6 * max(1.0, abs(old))
            p.data[idx] = old + step
            up = float(loss().data)
            p.data[idx] = old - step
            down = float(loss().data)
            p.data[idx] = old
            num[idx] = (up - down) / (2 * step)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8 * np.abs(num).max())


def test_unchain_backward_truncates_the_graph():
    rnn = RNN(3, seed=4)
    x = np.ones((1, 2))
    h1 = rnn(x)
    h1.unchain_backward()
    assert h1.creator is None
    h2 = rnn(x)  # depends on h1, now a constant
    rnn.cleargrads()
    F.sum(h2).backward()
    # the gradient of x2h.W is that of one step with h1 as a constant input
    a = x @ rnn.x2h.W.data + rnn.x2h.b.data + h1.data @ rnn.h2h.W.data
    expected = x.T @ (1 - np.tanh(a) ** 2)
    # sech^2 formed another way than 1 - tanh^2: ulps times 1 - tanh^2's condition
    cond = np.broadcast_to(1 / (1 - np.tanh(a) ** 2), expected.shape)
    assert_close_ulps(rnn.x2h.W.grad.data, expected, ulps=8, cond=cond)
    # without the cut the first step adds its own share
    rnn.reset_state()
    rnn.cleargrads()
    F.sum(rnn(x) * 0 + rnn(x)).backward()
    assert not np.allclose(rnn.x2h.W.grad.data, expected)


def test_unchain_backward_cuts_every_path():
    x = Variable(2.0)
    a = x * x
    b = a + x
    c = b * a
    c.unchain_backward()
    assert c.creator is None and b.creator is None and a.creator is None
    assert float(c.data) == (4.0 + 2.0) * 4.0


def test_sin_curve():
    ds = SinCurve(seed=0)
    t = np.linspace(0, 2 * np.pi, 1000)
    assert len(ds) == 999
    np.testing.assert_array_equal(ds.data[1:], ds.label[:-1])
    assert np.max(np.abs(ds.data[:, 0] - np.sin(t[:-1]))) <= 0.05
    test = SinCurve(train=False)
    np.testing.assert_array_equal(test.data[:, 0], np.cos(t[:-1]))
    np.random.seed(5)
    a = SinCurve()
    np.random.seed(5)
    np.testing.assert_array_equal(SinCurve().data, a.data)
    with pytest.raises(ValueError, match="n must be >= 2"):
        SinCurve(n=1)


def test_seq_data_loader_reads_parallel_stretches():
    x = np.arange(10.0)[:, None]
    loader = SeqDataLoader(x, np.arange(10), batch_size=3)
    batches = list(loader)
    assert len(batches) == len(loader) == 3
    jump = 10 // 3
    for k, (xb, tb) in enumerate(batches):
        np.testing.assert_array_equal(tb, [(j * jump + k) % 10 for j in range(3)])
        np.testing.assert_array_equal(xb[:, 0], tb)
    assert len(list(loader)) == 3  # a new epoch
    with pytest.raises(ValueError, match="same number of samples"):
        SeqDataLoader(np.ones(3), np.ones(4), 1)
    with pytest.raises(ValueError, match="exceeds"):
        SeqDataLoader(np.ones(3), np.ones(3), 5)


def test_loaders_take_a_data_set_object_as_the_book_passes_it():
    from reverse import DataLoader, Spiral

    ds = SinCurve(seed=1)
    a = [tb for _, tb in SeqDataLoader(ds, batch_size=3)]
    b = [tb for _, tb in SeqDataLoader(ds.data, ds.label, 3)]
    np.testing.assert_array_equal(np.array(a), np.array(b))
    sp = Spiral()
    got = list(DataLoader(sp, batch_size=100, shuffle=False))
    np.testing.assert_array_equal(got[0][0], sp.data[:100])
    np.testing.assert_array_equal(got[2][1], sp.label[200:])
    with pytest.raises(TypeError, match="give the targets"):
        SeqDataLoader(np.ones(3), batch_size=1)


def test_loaders_take_the_books_positional_arguments():
    from reverse import DataLoader, Spiral

    sp = Spiral()
    loader = DataLoader(sp, 30, False)  # the book's DataLoader(dataset, batch_size, shuffle)
    assert loader.batch_size == 30 and not loader.shuffle
    np.testing.assert_array_equal(next(iter(loader))[1], sp.label[:30])
    assert DataLoader(sp, 30).shuffle
    assert SeqDataLoader(SinCurve(seed=0), 30).batch_size == 30
    with pytest.raises(TypeError, match="brings its own targets"):
        DataLoader(sp, sp.label)
