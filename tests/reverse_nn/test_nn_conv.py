"""The book's convolution functions and layers (conv2d, deconv2d, pooling,
average_pooling, im2col/col2im, batch_norm, Conv2d/Deconv2d/BatchNorm) and its other
``dezero.functions`` names.

Truths are independent of the code under test: convolutions and poolings written out
as loops over output pixels, adjoint identities (<im2col x, c> = <x, col2im c>; deconv2d
is conv2d's adjoint in x), central differences (``gradient_check``), the batch-norm
formula with numpy's mean/var, and hyperdual's forward-mode derivatives.
"""

from __future__ import annotations

import numpy as np
import pytest

import hyperdual as hd
import reverse as rv
import reverse.functions as F
from reverse import BatchNorm, Conv2d, Deconv2d, Variable, test_mode
from tests._tolerance import assert_close_ulps


def _pairs(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _conv_loop(x, W, b, stride, pad):
    (SH, SW), (PH, PW) = _pairs(stride), _pairs(pad)
    N, C, H, Wd = x.shape
    OC, _, KH, KW = W.shape
    xp = np.zeros((N, C, H + 2 * PH, Wd + 2 * PW))
    xp[:, :, PH:PH + H, PW:PW + Wd] = x
    OH, OW = (H + 2 * PH - KH) // SH + 1, (Wd + 2 * PW - KW) // SW + 1
    out = np.zeros((N, OC, OH, OW))
    for n in range(N):
        for o in range(OC):
            for i in range(OH):
                for j in range(OW):
                    win = xp[n, :, i * SH:i * SH + KH, j * SW:j * SW + KW]
                    out[n, o, i, j] = np.sum(win * W[o]) + (0.0 if b is None else b[o])
    return out


def _pool_loop(x, k, stride, pad, reduce, fill):
    (KH, KW), (SH, SW), (PH, PW) = _pairs(k), _pairs(stride), _pairs(pad)
    N, C, H, W = x.shape
    xp = np.full((N, C, H + 2 * PH, W + 2 * PW), fill)
    xp[:, :, PH:PH + H, PW:PW + W] = x
    OH, OW = (H + 2 * PH - KH) // SH + 1, (W + 2 * PW - KW) // SW + 1
    out = np.zeros((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            out[:, :, i, j] = reduce(xp[:, :, i * SH:i * SH + KH, j * SW:j * SW + KW],
                                     axis=(2, 3))
    return out


GEOMETRIES = [  # (x shape, W shape, stride, pad)
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
    ((2, 3, 5, 5), (4, 3, 3, 3), 2, 1),
    ((1, 2, 6, 7), (3, 2, 2, 3), (2, 1), (0, 1)),
    ((1, 1, 4, 4), (1, 1, 4, 4), 1, 0),
    ((3, 1, 7, 5), (2, 1, 3, 1), 3, 2),
]


@pytest.mark.parametrize("xs, ws, stride, pad", GEOMETRIES)
def test_conv2d_matches_the_loop(xs, ws, stride, pad):
    rng = np.random.default_rng(1)
    x, W, b = rng.normal(size=xs), rng.normal(size=ws), rng.normal(size=ws[0])
    y = F.conv2d(x, W, b, stride=stride, pad=pad)
    ref = _conv_loop(x, W, b, stride, pad)
    assert y.shape == ref.shape
    np.testing.assert_allclose(y.data, ref, rtol=1e-13, atol=1e-13 * np.abs(ref).max())
    np.testing.assert_allclose(F.conv2d_simple(x, W, None, stride, pad).data,
                               _conv_loop(x, W, None, stride, pad), rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("xs, ws, stride, pad", GEOMETRIES)
def test_conv2d_gradients_in_x_w_and_b(xs, ws, stride, pad):
    rng = np.random.default_rng(2)
    x, W, b = rng.normal(size=xs), rng.normal(size=ws), rng.normal(size=ws[0])
    weight = rng.normal(size=_conv_loop(x, W, b, stride, pad).shape)

    def loss(x, W, b):
        return np.sum(np.tanh(F.conv2d(x, W, b, stride, pad)) * weight)

    rv.gradient_check(lambda v: loss(v, W, b), x)
    rv.gradient_check(lambda v: loss(x, v, b), W)
    rv.gradient_check(lambda v: loss(x, W, v), b)


def test_conv2d_second_derivatives_three_ways():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(2, 1, 2, 2))
    x0 = rng.normal(size=9)

    def loss(x):
        return np.sum(np.tanh(F.conv2d(x.reshape(1, 1, 3, 3), W, pad=1)) ** 2)

    H_for = rv.hessian(loss, x0)
    H_dbl = np.array([rv.hvp(loss, x0, e, mode="reverse-over-reverse") for e in np.eye(9)])
    H_hd = hd.hessian(loss, x0)
    rv.gradient_check(loss, x0, order=2)
    scale = np.abs(H_for).max()
    np.testing.assert_allclose(H_for, H_hd, rtol=1e-12, atol=1e-13 * scale)
    np.testing.assert_allclose(H_dbl, H_for, rtol=1e-12, atol=1e-13 * scale)
    # third order: d/ds of the directional second derivative, both engines
    v = rng.normal(size=9)
    d3 = rv.derivative(lambda s: v @ rv.hessian(loss, x0 + s * v) @ v, 0.0)
    d3_hd = hd.derivatives(lambda t: loss(x0 + t * v), 0.0, 3)[3]
    np.testing.assert_allclose(d3, d3_hd, rtol=1e-10, atol=1e-12 * abs(d3_hd))


@pytest.mark.parametrize("to_matrix", [True, False])
@pytest.mark.parametrize("k, stride, pad", [(2, 1, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 0))])
def test_col2im_is_the_adjoint_of_im2col(to_matrix, k, stride, pad):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 3, 6, 5))
    col = F.im2col(x, k, stride, pad, to_matrix)
    c = rng.normal(size=col.shape)
    back = F.col2im(c, x.shape, k, stride, pad, to_matrix)
    lhs, rhs = np.sum(col.data * c), np.sum(x * back.data)
    assert back.shape == x.shape
    assert abs(lhs - rhs) <= 1e-12 * (np.abs(col.data * c).sum())


def test_im2col_rows_are_the_windows():
    x = np.arange(2 * 5 * 5.0).reshape(1, 2, 5, 5)
    col = F.im2col(x, 3, stride=2, pad=1).data
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    rows = [xp[0, :, i:i + 3, j:j + 3].ravel() for i in (0, 2, 4) for j in (0, 2, 4)]
    np.testing.assert_array_equal(col, np.array(rows))


@pytest.mark.parametrize("stride, pad", [(1, 0), (2, 1), (3, 0)])
def test_deconv2d_is_the_adjoint_of_conv2d(stride, pad):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 7, 7))
    W = rng.normal(size=(4, 3, 3, 3))
    y = F.conv2d(x, W, stride=stride, pad=pad)
    g = rng.normal(size=y.shape)
    back = F.deconv2d(g, W, stride=stride, pad=pad, outsize=x.shape[2:])
    assert back.shape == x.shape
    lhs, rhs = np.sum(y.data * g), np.sum(x * back.data)
    assert abs(lhs - rhs) <= 1e-12 * np.abs(y.data * g).sum()
    # and its gradient in W and b by central differences
    b = rng.normal(size=3)
    rv.gradient_check(lambda w: np.sum(np.sin(F.deconv2d(g, w, b, stride, pad))), W)
    rv.gradient_check(lambda v: np.sum(np.sin(F.deconv2d(g, W, v, stride, pad))), b)


def test_deconv2d_default_outsize_and_bad_outsize():
    y = F.deconv2d(np.ones((1, 2, 3, 3)), np.ones((2, 5, 3, 3)), stride=2, pad=1)
    assert y.shape == (1, 5, 5, 5)
    with pytest.raises(ValueError, match="does not convolve back"):
        F.deconv2d(np.ones((1, 2, 3, 3)), np.ones((2, 5, 3, 3)), stride=2, outsize=(9, 9))


@pytest.mark.parametrize("k, stride, pad", [(2, 2, 0), (3, 1, 1), ((2, 3), (2, 1), (1, 1))])
def test_pooling_matches_the_loop_and_its_gradient(k, stride, pad):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 3, 6, 5)) - 1.0  # mostly negative: a zero pad would win
    y = F.pooling(x, k, stride, pad)
    np.testing.assert_array_equal(y.data, _pool_loop(x, k, stride, pad, np.max, -np.inf))
    np.testing.assert_array_equal(F.pooling_simple(x, k, stride, pad).data, y.data)
    weight = rng.normal(size=y.shape)
    rv.gradient_check(lambda v: np.sum(F.pooling(v, k, stride, pad) * weight), x)
    a = F.average_pooling(x, k, stride, pad)
    ref = _pool_loop(x, k, stride, pad, np.mean, 0.0)
    # a mean in another summation order: ulps times the sum's condition
    cond = _pool_loop(np.abs(x), k, stride, pad, np.mean, 0.0) / np.abs(ref)
    assert_close_ulps(a.data, ref, ulps=16, cond=cond)
    rv.gradient_check(lambda v: np.sum(F.average_pooling(v, k, stride, pad) ** 2), x)


def test_pooling_gradient_goes_to_the_maximum_only():
    x = Variable(np.array([[[[1.0, 5.0], [2.0, 3.0]]]]))
    F.pooling(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data[0, 0], [[0.0, 1.0], [0.0, 0.0]])


def _bn_reference(x, gamma, beta, eps):
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1, 1)
    mu, var = x.mean(axis=axes), x.var(axis=axes)
    return (gamma.reshape(shape) * (x - mu.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
            + beta.reshape(shape)), mu, var


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 2, 5)])
def test_batch_norm_training_value_gradient_and_running_statistics(shape):
    rng = np.random.default_rng(7)
    x = rng.normal(size=shape) * 3 + 1
    gamma, beta = rng.normal(size=3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.random(3) + 0.5
    mean0, var0 = mean.copy(), var.copy()
    y = F.batch_norm(x, gamma, beta, mean, var, decay=0.8, eps=1e-3)
    ref, mu, v = _bn_reference(x, gamma, beta, 1e-3)
    np.testing.assert_allclose(y.data, ref, rtol=1e-13, atol=1e-13)
    m = x.size // 3
    # batch statistics summed in another order: ulps of the sums of magnitudes
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    new_mean = 0.8 * mean0 + 0.2 * mu
    scale = 0.8 * np.abs(mean0) + 0.2 * np.abs(x).mean(axis=axes)
    assert_close_ulps(mean, new_mean, ulps=32, cond=scale / np.abs(new_mean))
    new_var = 0.8 * var0 + 0.2 * v * m / (m - 1)
    scale = 0.8 * var0 + 0.2 * (x * x).mean(axis=axes) * m / (m - 1)
    assert_close_ulps(var, new_var, ulps=32, cond=scale / new_var)
    weight = rng.normal(size=shape)
    for i, arg in enumerate((x, gamma, beta)):
        def loss(a, i=i):
            args = [x, gamma, beta]
            args[i] = a
            return np.sum(F.batch_norm(*args, mean.copy(), var.copy(), eps=1e-3) * weight)
        rv.gradient_check(loss, arg)
    # the batch statistics are differentiated through: Hessian in x against hyperdual
    xs = x.ravel()[:8].reshape(8, 1) if x.ndim == 2 else None
    if xs is not None:
        f = lambda z: np.sum(np.sin(F.batch_norm(z.reshape(8, 1), np.ones(1), np.zeros(1),  # noqa: E731
                                                 np.zeros(1), np.ones(1))))
        np.testing.assert_allclose(rv.hessian(f, xs.ravel()), hd.hessian(f, xs.ravel()),
                                   rtol=1e-10, atol=1e-12)


def test_batch_norm_test_mode_uses_the_running_statistics_and_keeps_float32():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    gamma, beta = np.ones(3, np.float32) * 2, np.zeros(3, np.float32)
    mean, var = np.array([1.0, 2, 3], np.float32), np.array([4.0, 1, 0.25], np.float32)
    with test_mode():
        y = F.batch_norm(x, gamma, beta, mean, var, eps=0.0)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.data, 2 * (x - mean) / np.sqrt(var), rtol=1e-6)
    np.testing.assert_array_equal(mean, [1, 2, 3])  # not updated in test mode
    assert F.batch_nrom(x, gamma, beta, mean, var).dtype == np.float32


def test_layers_initialise_lazily_train_and_save(tmp_path):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 3, 6, 6))
    conv = Conv2d(4, 3, stride=1, pad=1, seed=0)
    deconv = Deconv2d(2, 2, stride=2, seed=1)
    bn = BatchNorm()
    h = bn(conv(x))
    y = deconv(F.pooling(F.relu(h), 2, 2))
    assert conv.W.shape == (4, 3, 3, 3) and deconv.W.shape == (4, 2, 2, 2)
    assert y.shape == (2, 2, 6, 6)
    np.testing.assert_allclose(conv.W.data.std(), np.sqrt(1 / 27), rtol=0.4)
    np.testing.assert_allclose(h.data, _conv_loop_bn(x, conv, bn), rtol=1e-12, atol=1e-12)
    loss = np.sum(y ** 2)
    for layer in (conv, deconv, bn):
        layer.cleargrads()
    loss.backward()
    assert bn.avg_mean.grad is None and bn.gamma.grad is not None
    path = tmp_path / "w.npz"
    conv.save_weights(str(path))
    other = Conv2d(4, 3, pad=1, in_channels=3, seed=5)
    other.load_weights(str(path))
    np.testing.assert_array_equal(other.W.data, conv.W.data)
    with pytest.raises(ValueError, match="expects 3"):
        conv(np.ones((1, 2, 6, 6)))


def _conv_loop_bn(x, conv, bn):
    c = _conv_loop(x, conv.W.data, conv.b.data, 1, 1)
    ref, _, _ = _bn_reference(c, np.ones(4), np.zeros(4), 2e-5)
    return ref


@pytest.mark.parametrize("call, match", [
    (lambda: F.conv2d(np.ones((1, 3, 4)), np.ones((1, 3, 2, 2))), r"\(N, C, H, W\)"),
    (lambda: F.conv2d(np.ones((1, 3, 4, 4)), np.ones((1, 2, 2, 2))), "C = 3"),
    (lambda: F.conv2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3))), "does not fit"),
    (lambda: F.pooling(np.ones((1, 1, 4, 4)), 2, stride=0), "stride must be >= 1"),
    (lambda: F.pooling(np.ones((1, 1, 4, 4)), 2, pad=-1), "pad must be >= 0"),
    (lambda: F.col2im(np.ones((3, 4)), (1, 1, 3, 3), 2), "col must have shape"),
    (lambda: F.conv2d(np.ones((1, 1, 4, 4)), np.ones((2, 1, 2, 2)), b=np.ones(3)), r"\(2,\)"),
    (lambda: F.batch_norm(np.ones((2, 3, 4)), *[np.ones(3)] * 4), r"\(N, C\)"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_kernel_size_of_the_wrong_type():
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
        F.pooling(np.ones((1, 1, 4, 4)), 2.5)
    with pytest.raises(TypeError, match="updated in place"):
        F.batch_norm(np.ones((2, 3)), np.ones(3), np.zeros(3), [0.0, 0, 0], np.ones(3))


def test_book_names():
    x = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    t = np.array([2, 1])
    np.testing.assert_array_equal(F.get_item(x, 1).data, x[1])
    np.testing.assert_array_equal(F.flatten(np.ones((2, 3, 4))).shape, (2, 12))
    assert float(F.average(x).data) == pytest.approx(x.mean())
    e = np.exp(x - x.max(axis=1, keepdims=True))
    assert_close_ulps(F.softmax_simple(x).data, e / e.sum(axis=1, keepdims=True), ulps=8)
    ce = -np.mean(np.log((e / e.sum(axis=1, keepdims=True))[[0, 1], t]))
    assert float(F.softmax_cross_entropy_simple(x, t).data) == pytest.approx(ce, rel=1e-14)
    assert float(F.mean_squared_error_simple(x, 0 * x).data) == pytest.approx(np.mean(x * x))
    np.testing.assert_allclose(F.linear_simple(x, np.ones((3, 2)), np.ones(2)).data,
                               x @ np.ones((3, 2)) + 1)
    assert_close_ulps(F.sigmoid_simple(x).data, 1 / (1 + np.exp(-x)), ulps=8)
    np.testing.assert_array_equal(F.embed_id(np.array([1, 1]), x).data, x[[1, 1]])


def test_cross_entropies_against_their_formulas_and_at_large_logits():
    rng = np.random.default_rng(10)
    z = rng.normal(size=(6, 2))
    t = rng.integers(0, 2, size=(6, 2))
    p = 1 / (1 + np.exp(-z))
    ref = -np.sum(t * np.log(p) + (1 - t) * np.log(1 - p)) / 6
    assert float(F.sigmoid_cross_entropy(z, t).data) == pytest.approx(ref, rel=1e-13)
    assert float(F.binary_cross_entropy(p, t).data) == pytest.approx(ref, rel=1e-13)
    # gradient of the logit loss: (sigmoid(z) - t) / N, also where p rounds to 1
    g = rv.gradient(lambda v: F.sigmoid_cross_entropy(v, t), z)
    assert_close_ulps(g, (p - t) / 6, ulps=8)
    big = np.array([[40.0], [-40.0]])
    loss = F.sigmoid_cross_entropy(big, np.array([0, 0]))
    assert_close_ulps(float(loss.data), 20.0, ulps=4)  # log(1 + e^40) / 2
    # binary_cross_entropy at p = 1 against label 1 is exactly 0, against 0 is inf
    assert float(F.binary_cross_entropy(np.array([1.0]), np.array([1])).data) == 0.0
    with np.errstate(divide="ignore"):
        assert float(F.binary_cross_entropy(np.array([1.0]), np.array([0])).data) == np.inf


def test_conv_net_gradient_inside_a_forward_helper():
    """Nesting: a reverse gradient of a conv loss, differentiated by hyperdual in a
    scale parameter, against a central difference of the exact reverse gradient."""
    rng = np.random.default_rng(11)
    W = rng.normal(size=(2, 1, 2, 2))
    x0 = rng.normal(size=(1, 1, 4, 4))

    def g(s):
        return rv.gradient(lambda x: np.sum(np.tanh(F.conv2d(x, W * s, pad=1)) ** 2), x0)

    d = hd.derivative(lambda s: np.sum(g(s) ** 2), 0.7)
    h = 1e-5
    cd = (np.sum(g(0.7 + h) ** 2) - np.sum(g(0.7 - h) ** 2)) / (2 * h)
    assert d == pytest.approx(cd, rel=1e-6)


@pytest.mark.parametrize("src, dst", [((10, 20, 20), (10,)), ((3, 4), (3, 5))])
def test_sum_to_a_shape_that_does_not_broadcast_is_refused(src, dst):
    # (3, 4) -> (3, 5) used to come back unchanged, with shape (3, 4)
    for x in (np.ones(src), Variable(np.ones(src))):
        with pytest.raises(ValueError, match="is not a broadcast of"):
            F.sum_to(x, dst)
    np.testing.assert_array_equal(F.sum_to(np.ones((2, 3, 4)), (3, 1)), np.full((3, 1), 8.0))
