"""Optimizers: one update against the papers' formulas computed by hand, state over
several steps, Rosenbrock minimisation, setup targets, hooks and validation."""

from __future__ import annotations

import numpy as np
import pytest

import reverse.functions as F
from reverse.core import Parameter, Variable
from reverse.layers import Linear
from reverse.optimizers import (
    SGD,
    AdaGrad,
    Adam,
    ClipGrad,
    MomentumSGD,
    Optimizer,
    WeightDecay,
)

P0 = np.array([0.5, -1.0, 2.0])
G = np.array([0.3, -2.0, 0.0])


def param_with_grad(p0=P0, g=G) -> Parameter:
    p = Parameter(p0.copy())
    F.sum(p * g).backward()  # d/dp sum(p * g) = g
    np.testing.assert_array_equal(p.grad.data, g)
    return p


def step(opt: Optimizer, p: Parameter, g=G) -> None:
    p.clear_grad()
    F.sum(p * g).backward()
    opt.update()


def test_sgd_single_update():
    p = param_with_grad()
    SGD(lr=0.1).setup(p).update()
    np.testing.assert_allclose(p.data, P0 - 0.1 * G, rtol=0, atol=1e-15)


def test_momentum_sgd_two_updates():
    lr, mu = 0.1, 0.9
    p = Parameter(P0.copy())
    opt = MomentumSGD(lr=lr, momentum=mu).setup([p])
    step(opt, p)
    v1 = -lr * G
    np.testing.assert_allclose(p.data, P0 + v1, atol=1e-15)
    step(opt, p)
    v2 = mu * v1 - lr * G
    np.testing.assert_allclose(p.data, P0 + v1 + v2, atol=1e-15)


def test_adagrad_two_updates():
    lr, eps = 0.5, 1e-8
    p = Parameter(P0.copy())
    opt = AdaGrad(lr=lr, eps=eps).setup(p)
    step(opt, p)
    h1 = G * G
    p1 = P0 - lr * G / (np.sqrt(h1) + eps)
    np.testing.assert_allclose(p.data, p1, atol=1e-15)
    step(opt, p)
    h2 = h1 + G * G
    np.testing.assert_allclose(p.data, p1 - lr * G / (np.sqrt(h2) + eps), atol=1e-15)


def test_adam_three_updates_against_algorithm_1():
    alpha, b1, b2, eps = 0.01, 0.8, 0.95, 1e-7
    p = Parameter(P0.copy())
    opt = Adam(alpha=alpha, beta1=b1, beta2=b2, eps=eps).setup([p])
    grads = [G, 2 * G - 0.1, -G]
    m = np.zeros(3)
    v = np.zeros(3)
    theta = P0.copy()
    for t, g in enumerate(grads, start=1):
        step(opt, p, g)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        theta = theta - alpha * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(p.data, theta, rtol=1e-13, atol=1e-15)


def test_adam_lr_alias_and_defaults():
    opt = Adam()
    assert (opt.alpha, opt.beta1, opt.beta2, opt.eps) == (0.001, 0.9, 0.999, 1e-8)
    assert Adam(lr=0.3).alpha == 0.3 and Adam(lr=0.3).lr == 0.3
    opt.lr = 0.2
    assert opt.alpha == 0.2


def test_update_is_in_place_and_skips_missing_grads():
    a = Parameter(P0.copy())
    b = Parameter(P0.copy())
    c = Parameter(None)
    data_a = a.data
    F.sum(a * G).backward()  # only a gets a gradient
    SGD(lr=1.0).setup([a, b, c]).update()
    assert a.data is data_a
    np.testing.assert_allclose(a.data, P0 - G)
    np.testing.assert_array_equal(b.data, P0)
    assert c.data is None


def test_float32_params_stay_float32():
    p = Parameter(np.ones(3, dtype=np.float32))
    F.sum(p * p).backward()
    for opt in (SGD(0.1), MomentumSGD(0.1), AdaGrad(0.1), Adam(0.1)):
        opt.setup(p).update()
    assert p.data.dtype == np.float32


def test_layer_target_sees_lazily_created_params():
    layer = Linear(2, seed=0)
    opt = SGD(lr=0.1).setup(layer)
    x = np.ones((3, 4))
    loss = F.sum(layer(x) ** 2)
    layer.cleargrads()
    loss.backward()
    W0 = layer.W.data.copy()
    opt.update()
    np.testing.assert_allclose(layer.W.data, W0 - 0.1 * layer.W.grad.data)


def rosenbrock(x: Variable) -> Variable:
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


@pytest.mark.parametrize("make, iters, tol", [
    (lambda: SGD(lr=0.0015), 5000, 0.05),
    (lambda: MomentumSGD(lr=0.0005, momentum=0.9), 2000, 0.02),
    (lambda: Adam(alpha=0.05), 3000, 1e-3),
    (lambda: AdaGrad(lr=0.5), 4000, 0.08),
])
def test_rosenbrock_is_minimised(make, iters, tol):
    # Plain gradient descent needs lr < 2 / (largest Hessian eigenvalue ~ 1000).
    x = Variable(np.array([-1.2, 1.0]))
    opt = make().setup([x])
    start = float(rosenbrock(x).data)
    for _ in range(iters):
        x.clear_grad()
        rosenbrock(x).backward()
        opt.update()
    end = float(rosenbrock(x).data)
    assert end < start * 1e-3
    np.testing.assert_allclose(x.data, [1.0, 1.0], atol=tol)


def test_setup_targets_and_errors():
    v = Variable(1.0)
    assert SGD().setup(v).params() == [v]
    assert SGD().setup((v,)).params() == [v]
    assert SGD().setup(p for p in [v]).params() == [v]
    with pytest.raises(TypeError, match="item 1"):
        SGD().setup([v, 3.0])
    with pytest.raises(TypeError, match="target"):
        SGD().setup(3.0)
    with pytest.raises(RuntimeError, match="setup"):
        SGD().update()
    with pytest.raises(NotImplementedError):
        Optimizer().setup(param_with_grad()).update()


@pytest.mark.parametrize("make, match", [
    (lambda: SGD(lr=0), "lr"),
    (lambda: SGD(lr=float("nan")), "lr"),
    (lambda: MomentumSGD(momentum=1.0), "momentum"),
    (lambda: AdaGrad(eps=-1), "eps"),
    (lambda: Adam(beta1=1.0), "beta1"),
    (lambda: Adam(beta2=-0.1), "beta2"),
    (lambda: WeightDecay(-1), "rate"),
    (lambda: ClipGrad(0), "max_norm"),
])
def test_bad_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()
    with pytest.raises(TypeError, match="real number"):
        SGD(lr="0.1")


def test_hooks_weight_decay_and_clip_grad_do_not_touch_shared_grads():
    a = Parameter(np.array([1.0, 2.0]))
    b = Parameter(np.array([3.0, 4.0]))
    y = F.sum(a + b)  # backward may hand a and b the same gradient array
    y.backward()
    g_before = b.grad.data.copy()
    opt = SGD(lr=1.0).setup([a]).add_hook(WeightDecay(0.5))
    opt.update()
    np.testing.assert_allclose(a.data, [1.0, 2.0] - (1.0 + 0.5 * np.array([1.0, 2.0])))
    np.testing.assert_array_equal(b.grad.data, g_before)
    c = Parameter(np.zeros(2))
    F.sum(c * np.array([3.0, 4.0])).backward()
    SGD(lr=1.0).setup(c).add_hook(ClipGrad(1.0)).update()
    np.testing.assert_allclose(c.data, [-0.6, -0.8])
    with pytest.raises(TypeError, match="callable"):
        SGD().add_hook(3)


def test_zero_grad():
    p = param_with_grad()
    opt = SGD().setup([p])
    opt.zero_grad()
    assert p.grad is None
