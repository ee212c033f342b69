"""Layer parameter tracking, Linear and MLP forward/backward against hand-computed
gradients and central differences."""

from __future__ import annotations

import numpy as np
import pytest

import reverse.functions as F
from reverse.core import Parameter, Variable
from reverse.layers import MLP, Layer, Linear, Model


def central_diff(loss, p: Parameter, eps: float = 1e-6) -> np.ndarray:
    """d loss() / d p.data by central differences, perturbing p.data in place."""
    g = np.zeros_like(p.data)
    flat = p.data.reshape(-1)  # a view: writes go to p.data
    for i in range(flat.size):
        old = flat[i]
        h = eps * max(1.0, abs(old))
        flat[i] = old + h
        fp = float(loss().data)
        flat[i] = old - h
        fm = float(loss().data)
        flat[i] = old
        g.reshape(-1)[i] = (fp - fm) / (2 * h)
    return g


class TwoLayer(Layer):
    def __init__(self):
        super().__init__()
        self.l1 = Linear(4, in_size=3, seed=1)
        self.l2 = Linear(2, in_size=4, seed=2)
        self.scale = Parameter(np.array(1.5), name="scale")
        self.not_a_param = np.ones(3)
        self.plain = Variable(np.ones(2))

    def forward(self, x):
        return self.l2(F.sigmoid(self.l1(x))) * self.scale


# --------------------------------------------------------------------------
# tracking
# --------------------------------------------------------------------------


def test_params_tracked_in_order_with_paths():
    m = TwoLayer()
    names = [n for n, _ in m.named_params()]
    assert names == ["l1.W", "l1.b", "l2.W", "l2.b", "scale"]
    params = list(m.params())
    assert len(params) == 5 and all(isinstance(p, Parameter) for p in params)
    assert params[0] is m.l1.W and params[-1] is m.scale


def test_reassign_and_delete_update_tracking():
    m = TwoLayer()
    m.scale = 3.0  # no longer a Parameter
    assert "scale" not in [n for n, _ in m.named_params()]
    del m.l2
    assert [n for n, _ in m.named_params()] == ["l1.W", "l1.b"]
    m.extra = Parameter(np.zeros(1))
    assert [n for n, _ in m.named_params()][-1] == "extra"


def test_lists_of_layers_and_shared_params_counted_once():
    class Net(Layer):
        def __init__(self):
            super().__init__()
            self.blocks = [Linear(2, in_size=2, seed=0), Linear(2, in_size=2, seed=1)]
            self.tied = self.blocks[0]  # shared sub-layer

    net = Net()
    names = [n for n, _ in net.named_params()]
    assert names == ["blocks.0.W", "blocks.0.b", "blocks.1.W", "blocks.1.b"]
    net.blocks.append(Linear(1, in_size=2, seed=2))  # lists are read live
    assert len(list(net.params())) == 6


def test_subclass_without_super_init_still_tracks():
    class Lazy(Layer):
        def __init__(self):  # forgot super().__init__()
            self.w = Parameter(np.ones(2))

        def forward(self, x):
            return x * self.w

    assert [n for n, _ in Lazy().named_params()] == ["w"]


def test_cleargrads_and_alias():
    m = TwoLayer()
    loss = F.sum(m(np.ones((2, 3))))
    loss.backward()
    assert all(p.grad is not None for p in m.params())
    m.cleargrads()
    assert all(p.grad is None for p in m.params())
    loss = F.sum(m(np.ones((2, 3))))
    loss.backward()
    m.clear_grads()
    assert all(p.grad is None for p in m.params())
    assert Model is Layer


def test_forward_not_implemented():
    with pytest.raises(NotImplementedError, match="forward"):
        Layer()(1.0)


# --------------------------------------------------------------------------
# Linear
# --------------------------------------------------------------------------


def test_linear_forward_and_backward_by_hand():
    rng = np.random.default_rng(0)
    layer = Linear(3, in_size=4, seed=0)
    x = Variable(rng.standard_normal((5, 4)))
    gy = rng.standard_normal((5, 3))
    y = layer(x)
    np.testing.assert_allclose(y.data, x.data @ layer.W.data + layer.b.data, rtol=1e-14)
    # loss = sum(y * gy) has dL/dy = gy.
    F.sum(y * gy).backward()
    np.testing.assert_allclose(layer.W.grad.data, x.data.T @ gy, rtol=1e-12)
    np.testing.assert_allclose(layer.b.grad.data, gy.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, gy @ layer.W.data.T, rtol=1e-12)


def test_linear_backward_against_central_differences():
    rng = np.random.default_rng(1)
    layer = Linear(3, in_size=4, seed=1)
    x = rng.standard_normal((6, 4))

    def loss():
        return F.sum(np.tanh(layer(x)) ** 2)

    layer.cleargrads()
    loss().backward()
    for p in (layer.W, layer.b):
        np.testing.assert_allclose(p.grad.data, central_diff(loss, p), rtol=1e-6, atol=1e-8)


def test_linear_lazy_init_nobias_dtype_and_errors():
    layer = Linear(2, seed=0)
    assert layer.W.data is None and layer.in_size is None
    y = layer(np.ones((3, 5)))
    assert layer.W.shape == (5, 2) and layer.in_size == 5 and y.shape == (3, 2)
    with pytest.raises(ValueError, match="expects 5"):
        layer(np.ones((3, 4)))
    nb = Linear(2, in_size=3, nobias=True, seed=0)
    assert nb.b is None and [n for n, _ in nb.named_params()] == ["W"]
    f32 = Linear(2, in_size=3, dtype=np.float32, seed=0)
    assert f32.W.dtype == np.float32 and f32.b.dtype == np.float32
    assert f32(np.ones((1, 3), dtype=np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        Linear(2, dtype=np.int64)
    with pytest.raises(ValueError, match="out_size"):
        Linear(0)
    with pytest.raises(ValueError, match="init"):
        Linear(2, init="bogus")
    with pytest.raises(TypeError, match="not both"):
        Linear(2, rng=np.random.default_rng(0), seed=1)
    with pytest.raises(TypeError, match="rng/seed"):
        Linear(2, seed="x")


def test_linear_init_is_seeded_and_scaled():
    a = Linear(50, in_size=200, seed=7)
    b = Linear(50, in_size=200, rng=np.random.default_rng(7))
    assert np.array_equal(a.W.data, b.W.data)
    assert not np.array_equal(a.W.data, Linear(50, in_size=200, seed=8).W.data)
    assert np.all(a.b.data == 0)
    he = Linear(50, in_size=200, seed=7, init="he")
    assert abs(np.std(a.W.data) - np.sqrt(2 / 250)) < 0.1 * np.sqrt(2 / 250)
    assert abs(np.std(he.W.data) - np.sqrt(2 / 200)) < 0.1 * np.sqrt(2 / 200)


# --------------------------------------------------------------------------
# MLP
# --------------------------------------------------------------------------


@pytest.mark.parametrize("activation", [F.sigmoid, "relu", "tanh"])
def test_mlp_gradient_check(activation):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((7, 3))
    t = rng.integers(0, 3, size=7)
    model = MLP((5, 4, 3), activation=activation, seed=3)

    def loss():
        return F.softmax_cross_entropy(model(x), t)

    loss()  # lazy init
    model.cleargrads()
    loss().backward()
    for name, p in model.named_params():
        np.testing.assert_allclose(p.grad.data, central_diff(loss, p), rtol=1e-5, atol=1e-8,
                                   err_msg=name)


def test_mlp_structure_and_errors():
    m = MLP((10, 3), seed=0)
    assert m(np.zeros((4, 2))).shape == (4, 3)
    assert [n for n, _ in m.named_params()] == ["layers.0.W", "layers.0.b", "layers.1.W",
                                                "layers.1.b"]
    m2 = MLP((10, 3), seed=0)
    m2(np.zeros((4, 2)))
    assert all(np.array_equal(p.data, q.data) for p, q in zip(m.params(), m2.params()))
    assert MLP((4,), activation="relu", seed=0).layers[0].init == "he"
    with pytest.raises(ValueError, match="activation"):
        MLP((3,), activation="swish")
    with pytest.raises(TypeError, match="callable"):
        MLP((3,), activation=3)
    with pytest.raises(ValueError, match="at least one"):
        MLP(())
