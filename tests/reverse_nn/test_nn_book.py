"""Affordances for readers of "Deep Learning from Scratch 3" (the book's DeZero names).

Each expected value comes from the book's definition written out here with
numpy (not from our code): np.random.seed reproducibility, dropout_ratio,
softmax over axis 1 for (N, C) batches, the Spiral data set, accuracy,
leaky_relu, AdaGrad's default learning rate and the Variable repr.
"""

from __future__ import annotations

import numpy as np
import pytest

import reverse
import reverse.functions as F
from reverse import MLP, AdaGrad, Linear, Spiral, Variable, get_spiral, spiral, test_mode
from tests._tolerance import assert_close_ulps


# ---------------------------------------------------------- np.random.seed
def test_linear_weights_follow_np_random_seed():
    np.random.seed(0)
    a = Linear(3, in_size=2, init="lecun")
    np.random.seed(0)
    b = Linear(3, in_size=2, init="lecun")
    np.testing.assert_array_equal(a.W.data, b.W.data)
    # the book: W = np.random.randn(I, O) * np.sqrt(1 / I)
    expected = np.random.RandomState(0).randn(2, 3) * np.sqrt(1 / 2)
    np.testing.assert_array_equal(a.W.data, expected)


def test_lazy_linear_and_mlp_follow_np_random_seed():
    x = np.ones((4, 5))
    outs = []
    for _ in range(2):
        np.random.seed(123)
        model = MLP((7, 2))
        outs.append(model(x).data)
    np.testing.assert_array_equal(outs[0], outs[1])
    np.random.seed(124)
    assert not np.array_equal(MLP((7, 2))(x).data, outs[0])


def test_explicit_seed_and_rng_still_win():
    np.random.seed(0)
    a = Linear(3, in_size=2, seed=5)
    np.random.seed(1)
    b = Linear(3, in_size=2, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.W.data, b.W.data)
    with pytest.raises(TypeError, match="rng or seed"):
        Linear(3, in_size=2, rng=1, seed=1)
    with pytest.raises(TypeError, match="Generator"):
        Linear(3, in_size=2, rng="zero")


# ----------------------------------------------------------------- dropout
def test_dropout_follows_np_random_seed_like_the_book():
    x = np.ones((50, 40))
    np.random.seed(7)
    y1 = F.dropout(x, 0.5).data
    np.random.seed(7)
    y2 = F.dropout(x, dropout_ratio=0.5).data
    np.testing.assert_array_equal(y1, y2)
    # the book: mask = np.random.rand(*x.shape) > dropout_ratio; y = x * mask / (1 - ratio)
    mask = np.random.RandomState(7).rand(*x.shape) > 0.5
    np.testing.assert_array_equal(y1, x * mask / 0.5)


def test_dropout_ratio_is_the_books_name():
    np.random.seed(0)
    y = F.dropout(np.ones(20000), dropout_ratio=0.3).data
    assert abs(np.mean(y == 0) - 0.3) < 0.02  # 5 sigma of a binomial(20000, 0.3)
    np.testing.assert_allclose(y[y != 0], 1 / 0.7)
    with pytest.raises(TypeError, match="dropout_ratio"):
        F.dropout(np.ones(3), 0.5, dropout_ratio=0.5)
    with test_mode():
        np.testing.assert_array_equal(F.dropout([1.0, 2.0], dropout_ratio=0.9).data, [1, 2])


def test_dropout_gradient_is_the_mask():
    x = Variable(np.ones(100))
    y = F.dropout(x, 0.25, rng=np.random.default_rng(3))
    F.sum(y).backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # d(x * m / 0.75)/dx = m / 0.75


# ----------------------------------------------------------------- softmax
def test_softmax_default_is_the_books_axis_1_for_batches():
    x = np.random.default_rng(0).normal(size=(4, 3))
    expected = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)  # the book's formula
    # two formulas (ours shifts by the row max): exp turns x's rounding into relative
    # error, so a few ulps times 1 + max abs(x)
    cond = 1.0 + np.max(np.abs(x))
    assert_close_ulps(F.softmax(x).data, expected, cond=cond)
    np.testing.assert_array_equal(F.softmax(x).data, F.softmax(x, axis=1).data)
    # a single vector of logits works too (the book's axis=1 would fail)
    assert_close_ulps(F.softmax(x[0]).data, expected[0], cond=cond)


# -------------------------------------------------------------- the spiral
def test_spiral_dataset_and_get_spiral():
    train, test = Spiral(train=True), Spiral(train=False)
    assert len(train) == len(test) == 300
    x0, t0 = train[0]
    assert x0.shape == (2,) and t0 in (0, 1, 2)
    assert not np.array_equal(train.data, test.data)
    xs, ts = get_spiral(train=True)
    np.testing.assert_array_equal(xs, train.data)
    np.testing.assert_array_equal(ts, train.label)
    xs2, _ = spiral(train=False)
    np.testing.assert_array_equal(xs2, test.data)
    np.testing.assert_array_equal(spiral(train=True)[0], spiral(seed=1984)[0])
    # the book's geometry: radius i/100 for point i of each class, in the unit disc
    r = np.sort(np.hypot(xs[:, 0], xs[:, 1])[ts == 0])
    np.testing.assert_allclose(r, np.arange(100) / 100, atol=1e-12)
    with pytest.raises(TypeError, match="seed or train"):
        spiral(seed=3, train=True)


def test_spiral_transforms_and_loader():
    ds = Spiral(transform=lambda x: x * 2, target_transform=lambda t: t + 10)
    x, t = ds[5]
    np.testing.assert_array_equal(x, ds.data[5] * 2)
    assert t == ds.label[5] + 10
    with pytest.raises(TypeError):
        ds["0"]
    batches = list(reverse.DataLoader(ds.data, ds.label, batch_size=30, shuffle=False))
    assert len(batches) == 10 and batches[0][0].shape == (30, 2)


# ----------------------------------------------------------------- accuracy
def test_accuracy_counts_argmax_hits():
    rng = np.random.default_rng(1)
    y = rng.normal(size=(50, 4))
    t = rng.integers(0, 4, size=50)
    hits = sum(int(np.argmax(row) == label) for row, label in zip(y, t))
    acc = F.accuracy(Variable(y), t)
    assert isinstance(acc, Variable) and acc.shape == () and acc.creator is None
    assert float(acc.data) == hits / 50
    assert float(F.accuracy(y, Variable(t.astype(float))).data) == hits / 50
    with pytest.raises(ValueError, match="accuracy"):
        F.accuracy(y, t[:10])


# --------------------------------------------------------------- leaky_relu
def test_leaky_relu_values_and_gradient():
    x = Variable(np.array([-2.0, -0.5, 0.0, 0.5, 3.0]))
    y = F.leaky_relu(x, slope=0.1)
    np.testing.assert_array_equal(y.data, [-0.2, -0.05, 0.0, 0.5, 3.0])
    F.sum(y * y).backward()
    # d/dx (leaky(x))^2 = 2 leaky(x) leaky'(x); leaky'(x) = 1 (x > 0), 0.1 (x <= 0)
    np.testing.assert_allclose(x.grad.data, 2 * y.data * np.array([0.1, 0.1, 0.1, 1, 1]))
    assert F.leaky_relu(np.array([-1.0])).data[0] == -0.2  # the book's default slope


def test_leaky_relu_higher_order_and_forward_over_reverse():
    def f(v):
        return np.sum(F.leaky_relu(v, 0.3) ** 3)

    x = np.array([-1.5, 0.7, 2.0])
    m = np.where(x > 0, 1.0, 0.3)
    # f = sum((m x)^3): gradient 3 m^3 x^2, Hessian diag(6 m^3 x)
    # (products only, cond 1: a few ulps between the engine's and this order of them)
    assert_close_ulps(reverse.gradient(f, x), 3 * m**3 * x**2, ulps=8)
    assert_close_ulps(reverse.hessian(f, x), np.diag(6 * m**3 * x), ulps=8)
    v = np.array([1.0, -2.0, 0.5])
    for mode in ("forward-over-reverse", "reverse-over-reverse"):
        assert_close_ulps(reverse.hvp(f, x, v, mode=mode), 6 * m**3 * x * v, ulps=8)
    with pytest.raises(TypeError, match="slope"):
        F.leaky_relu(x, slope="0.2")


# ----------------------------------------------------------------- AdaGrad
def test_adagrad_default_lr_is_the_books():
    opt = AdaGrad()
    assert opt.lr == 0.001
    x = Variable(np.array([1.0, 1.0]))
    np.sum(x * np.array([2.0, -4.0])).backward()
    opt.setup(x).update()
    # first step: lr * g / (sqrt(g^2) + eps) = lr * sign(g) up to eps
    np.testing.assert_allclose(x.data, [1 - 0.001, 1 + 0.001], rtol=1e-11)


# -------------------------------------------------------------------- repr
def test_variable_repr_indents_like_the_book():
    v = Variable(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    # the book: 'variable(' + str(data).replace('\n', '\n' + ' ' * 9) + ')'
    book = "variable(" + str(v.data).replace("\n", "\n" + " " * 9) + ")"
    assert repr(v) == book
    assert repr(v).splitlines()[1].startswith(" " * 10 + "[4.")
    w = Variable(np.arange(8.0).reshape(2, 2, 2))
    lines = repr(w).splitlines()
    assert lines[1] == " " * 11 + "[2. 3.]]"
    assert lines[3] == " " * 10 + "[[4. 5.]"
    assert repr(Variable(np.array([[1.0], [2.0]]), name="x")) == (
        "variable([[1.]\n          [2.]], name='x')")
    assert repr(Variable(np.array(2.5))) == "variable(2.5)"


# ---------------------------------------------------------- Sequential, Model.plot
def test_sequential_applies_layers_and_functions_in_order_and_tracks_the_layers():
    from reverse import Sequential

    a, b = Linear(4, seed=0), Linear(2, seed=1)
    model = Sequential(a, F.relu, b)
    x = np.random.default_rng(0).normal(size=(3, 5))
    y = model(x)
    ref = np.maximum(x @ a.W.data + a.b.data, 0) @ b.W.data + b.b.data
    assert_close_ulps(y.data, ref, ulps=4)
    assert [n for n, _ in model.named_params()] == ["l0.W", "l0.b", "l2.W", "l2.b"]
    model.cleargrads()
    F.sum(y).backward()
    assert all(p.grad is not None for p in model.params())
    with pytest.raises(TypeError, match="layer or a function"):
        Sequential(a, 3)


def test_model_plot_writes_the_graph(tmp_path):
    from reverse import GraphvizNotFoundError

    path = tmp_path / "model.png"
    try:
        MLP((3, 1), seed=0).plot(np.ones((2, 4)), to_file=str(path))
    except GraphvizNotFoundError:
        pass
    dot = (tmp_path / "model.dot").read_text()
    assert "digraph" in dot and dot.count("->") >= 6  # two Linear layers and an activation
