"""The book's convolution functions: ``im2col``, ``col2im``, ``conv2d``, ``deconv2d``,
``pooling`` (max), ``average_pooling`` and ``batch_norm`` (the names and argument
orders of DeZero's ``functions_conv`` in "Deep Learning from Scratch 3").

Each is a composition of recorded numpy operations (``np.pad``, advanced indexing and its
scatter-add adjoint, ``np.tensordot``, ``max``, ``mean``, ``var``) rather than a
``Function`` with a hand-written backward. So every order of derivative works (the
double-backprop Hessian of a convolution is the convolution's own graph again), and they
run on Dual data too (the forward-over-reverse ``hessian``/``hvp``).

Conventions (DeZero's, which are Chainer's):

- images are ``(N, C, H, W)``; ``conv2d``'s ``W`` is ``(OC, C, KH, KW)`` and
  ``deconv2d``'s ``W`` is ``(C, OC, KH, KW)``; ``kernel_size``, ``stride`` and ``pad`` are
  an int or a pair ``(h, w)``;
- the output size is ``(H + 2 pad - KH) // stride + 1`` (trailing rows that do not fill a
  window are dropped) and ``deconv2d``'s is ``stride (H - 1) + KH - 2 pad`` unless
  ``outsize`` is given;
- ``pooling`` pads with ``-inf`` (a pad never wins a max; DeZero pads with 0, which
  only differs where a whole window of real entries is negative) and a tie splits the
  derivative as ``np.max`` does; ``average_pooling`` pads with 0 and divides by the full
  window (pads count);
- ``to_matrix=True`` gives ``im2col`` rows ``(N * OH * OW, C * KH * KW)``, the layout of the
  book's ``conv2d_simple``.

Examples
--------
>>> import numpy as np
>>> from reverse import Variable
>>> x = Variable(np.arange(16.0).reshape(1, 1, 4, 4))
>>> y = conv2d(x, np.ones((1, 1, 2, 2)), stride=2)
>>> y.data
array([[[[10., 18.],
         [42., 50.]]]])
>>> y.sum().backward()
>>> x.grad.data[0, 0]
array([[1., 1., 1., 1.],
       [1., 1., 1., 1.],
       [1., 1., 1., 1.],
       [1., 1., 1., 1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import core
from ..core import Variable, as_variable
from ..utils import scatter_add

__all__ = ["im2col", "col2im", "conv2d", "deconv2d", "pooling", "average_pooling",
           "batch_norm", "batch_nrom", "conv_outsize", "deconv_outsize"]


def _pair(value: Any, what: str, minimum: int) -> tuple[int, int]:
    """``value`` as ``(h, w)``: an int stands for both; checks the lower bound."""
    def is_int(v: Any) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))

    if is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(map(is_int, value)):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{what} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value!r}")
    return pair


def conv_outsize(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output length of a convolution or pooling along one axis.

    Parameters
    ----------
    size : int
        Input length along the axis.
    kernel : int
        Kernel length.
    stride : int
        Step.
    pad : int
        Padding on each side.

    Returns
    -------
    int
        The number of windows.

    Examples
    --------
    >>> conv_outsize(5, 3, 2, 1)
    3
    """
    return (size + 2 * pad - kernel) // stride + 1


def deconv_outsize(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output length of a transposed convolution along one axis (``outsize=None``).

    Parameters
    ----------
    size : int
        Input length along the axis.
    kernel : int
        Kernel length.
    stride : int
        Step.
    pad : int
        Padding on each side.

    Returns
    -------
    int
        The output length.

    Examples
    --------
    >>> deconv_outsize(3, 3, 2, 1)
    5
    """
    return stride * (size - 1) + kernel - 2 * pad


def _image(x: Any, who: str) -> Variable:
    x = as_variable(x)
    if x.ndim != 4:
        raise ValueError(f"{who}: x must have shape (N, C, H, W), got shape {x.shape}")
    return x


def _geometry(shape: tuple[int, ...], kernel_size: Any, stride: Any, pad: Any,
              who: str) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """The advanced index that gathers every window of the padded image, and
    ``(KH, KW, SH, SW, PH, PW, OH, OW)``."""
    H, W = shape[2], shape[3]
    KH, KW = _pair(kernel_size, f"{who}: kernel_size", 1)
    SH, SW = _pair(stride, f"{who}: stride", 1)
    PH, PW = _pair(pad, f"{who}: pad", 0)
    OH, OW = conv_outsize(H, KH, SH, PH), conv_outsize(W, KW, SW, PW)
    if OH < 1 or OW < 1:
        raise ValueError(f"{who}: a {KH}x{KW} kernel does not fit in the padded "
                         f"{H + 2 * PH}x{W + 2 * PW} image (H, W = {H}, {W}; pad {PH}, {PW})")
    rows = np.arange(KH)[:, None] + SH * np.arange(OH)[None, :]  # (KH, OH)
    cols = np.arange(KW)[:, None] + SW * np.arange(OW)[None, :]  # (KW, OW)
    # two adjacent advanced indices broadcast to (KH, KW, OH, OW) and stay in place
    index = (slice(None), slice(None), rows[:, None, :, None], cols[None, :, None, :])
    return index, (KH, KW, SH, SW, PH, PW, OH, OW)


def _windows(x: Variable, kernel_size: Any, stride: Any, pad: Any, fill: float,
             who: str) -> tuple[Variable, tuple[int, ...]]:
    """Every window of ``x``: shape ``(N, C, KH, KW, OH, OW)``."""
    index, geo = _geometry(x.shape, kernel_size, stride, pad, who)
    PH, PW = geo[4], geo[5]
    if PH or PW:
        x = np.pad(x, ((0, 0), (0, 0), (PH, PH), (PW, PW)), constant_values=fill)
    return x[index], geo


def im2col(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0,
           to_matrix: bool = True) -> Variable:
    """Gather the convolution windows of an image batch.

    Parameters
    ----------
    x : Variable or array_like
        Images of shape ``(N, C, H, W)``.
    kernel_size, stride, pad : int or (int, int)
        Window size, step and zero padding (height, width).
    to_matrix : bool
        Return rows ``(N * OH * OW, C * KH * KW)`` (default) instead of the array
        ``(N, C, KH, KW, OH, OW)``.

    Returns
    -------
    Variable
        The windows; ``col2im`` is its adjoint (it sums overlapping windows back).

    Examples
    --------
    >>> import numpy as np
    >>> im2col(np.arange(9.0).reshape(1, 1, 3, 3), 2).data
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    x = _image(x, "im2col")
    col, geo = _windows(x, kernel_size, stride, pad, 0.0, "im2col")
    if to_matrix:
        N, C = x.shape[:2]
        KH, KW, OH, OW = geo[0], geo[1], geo[6], geo[7]
        col = col.transpose(0, 4, 5, 1, 2, 3).reshape(N * OH * OW, C * KH * KW)
    return col


def col2im(col: Any, input_shape: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0,
           to_matrix: bool = True) -> Variable:
    """Sum windows back into an image batch of ``input_shape``: the adjoint of ``im2col``.

    Parameters
    ----------
    col : Variable or array_like
        Windows as ``im2col`` returns them for an input of ``input_shape`` (rows for
        ``to_matrix=True``, else ``(N, C, KH, KW, OH, OW)``).
    input_shape : tuple of int
        ``(N, C, H, W)``.
    kernel_size, stride, pad, to_matrix
        As for ``im2col``.

    Returns
    -------
    Variable
        Shape ``input_shape``; each pixel is the sum of its copies (pads are dropped).

    Examples
    --------
    >>> import numpy as np
    >>> col2im(np.ones((4, 4)), (1, 1, 3, 3), 2).data[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    col = as_variable(col)
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 4:
        raise ValueError(f"col2im: input_shape must be (N, C, H, W), got {input_shape!r}")
    index, (KH, KW, _, _, PH, PW, OH, OW) = _geometry(shape, kernel_size, stride, pad,
                                                       "col2im")
    N, C, H, W = shape
    if to_matrix:
        if col.shape != (N * OH * OW, C * KH * KW):
            raise ValueError(f"col2im: col must have shape {(N * OH * OW, C * KH * KW)} "
                             f"for input_shape {shape}, got {col.shape}")
        col = col.reshape(N, OH, OW, C, KH, KW).transpose(0, 3, 4, 5, 1, 2)
    elif col.shape != (N, C, KH, KW, OH, OW):
        raise ValueError(f"col2im: col must have shape {(N, C, KH, KW, OH, OW)} for "
                         f"input_shape {shape}, got {col.shape}")
    img = scatter_add(col, index, (N, C, H + 2 * PH, W + 2 * PW))
    return img[:, :, PH:PH + H, PW:PW + W]


def _bias(y: Variable, b: Any, channels: int, who: str) -> Variable:
    if b is None:
        return y
    b = as_variable(b)
    if b.shape != (channels,):
        raise ValueError(f"{who}: b must have shape ({channels},), got {b.shape}")
    return y + b.reshape(1, channels, 1, 1)


def conv2d(x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0) -> Variable:
    """2-d convolution (cross-correlation, as in every deep-learning library).

    Parameters
    ----------
    x : Variable or array_like
        Images ``(N, C, H, W)``.
    W : Variable or array_like
        Filters ``(OC, C, KH, KW)``.
    b : Variable or array_like, optional
        Bias ``(OC,)``.
    stride, pad : int or (int, int)
        Step and zero padding.

    Returns
    -------
    Variable
        ``(N, OC, OH, OW)``, ``y[n, o] = sum_c x[n, c] (*) W[o, c] + b[o]``.

    Examples
    --------
    >>> import numpy as np
    >>> conv2d(np.ones((1, 2, 3, 3)), np.ones((4, 2, 3, 3)), pad=1).shape
    (1, 4, 3, 3)
    """
    x = _image(x, "conv2d")
    W = as_variable(W)
    if W.ndim != 4 or W.shape[1] != x.shape[1]:
        raise ValueError(f"conv2d: W must have shape (OC, C, KH, KW) with C = "
                         f"{x.shape[1]} (x's channels), got {W.shape}")
    N, C = x.shape[:2]
    OC, _, KH, KW = W.shape
    col, geo = _windows(x, (KH, KW), stride, pad, 0.0, "conv2d")
    OH, OW = geo[6], geo[7]
    # rows of windows times the flattened filters: one matmul (BLAS), as the book's
    # conv2d_simple and Chainer compute it (einsum would not use BLAS)
    rows = col.transpose(0, 4, 5, 1, 2, 3).reshape(N * OH * OW, C * KH * KW)
    y = (rows @ W.transpose(1, 2, 3, 0).reshape(C * KH * KW, OC)).reshape(N, OH, OW, OC)
    return _bias(y.transpose(0, 3, 1, 2), b, OC, "conv2d")


def deconv2d(x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0,
             outsize: Any = None) -> Variable:
    """Transposed convolution: the adjoint of ``conv2d`` in ``x``.

    Parameters
    ----------
    x : Variable or array_like
        ``(N, C, H, W)``.
    W : Variable or array_like
        Filters ``(C, OC, KH, KW)``.
    b : Variable or array_like, optional
        Bias ``(OC,)``.
    stride, pad : int or (int, int)
        As for the ``conv2d`` this undoes.
    outsize : (int, int), optional
        Output ``(OH, OW)``; default ``stride (H - 1) + KH - 2 pad``.  Any size whose
        convolution has ``x``'s size is accepted.

    Returns
    -------
    Variable
        ``(N, OC, OH, OW)``.

    Examples
    --------
    >>> import numpy as np
    >>> deconv2d(np.ones((1, 2, 3, 3)), np.ones((2, 4, 3, 3)), stride=2, pad=1).shape
    (1, 4, 5, 5)
    """
    x = _image(x, "deconv2d")
    W = as_variable(W)
    if W.ndim != 4 or W.shape[0] != x.shape[1]:
        raise ValueError(f"deconv2d: W must have shape (C, OC, KH, KW) with C = "
                         f"{x.shape[1]} (x's channels), got {W.shape}")
    N, C, H, Wd = x.shape
    OC, KH, KW = W.shape[1:]
    SH, SW = _pair(stride, "deconv2d: stride", 1)
    PH, PW = _pair(pad, "deconv2d: pad", 0)
    if outsize is None:
        OH, OW = deconv_outsize(H, KH, SH, PH), deconv_outsize(Wd, KW, SW, PW)
    else:
        OH, OW = _pair(outsize, "deconv2d: outsize", 1)
    if (conv_outsize(OH, KH, SH, PH), conv_outsize(OW, KW, SW, PW)) != (H, Wd):
        raise ValueError(f"deconv2d: an output of {OH}x{OW} does not convolve back to x's "
                         f"{H}x{Wd} with kernel {KH}x{KW}, stride {(SH, SW)}, pad {(PH, PW)}")
    # (N H W, C) @ (C, OC KH KW): every input pixel's contribution to every window slot
    pix = x.transpose(0, 2, 3, 1).reshape(N * H * Wd, C) @ W.reshape(C, OC * KH * KW)
    gcol = pix.reshape(N, H, Wd, OC, KH, KW).transpose(0, 3, 4, 5, 1, 2)
    y = col2im(gcol, (N, OC, OH, OW), (KH, KW), (SH, SW), (PH, PW), to_matrix=False)
    return _bias(y, b, OC, "deconv2d")


def pooling(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Variable:
    """Max pooling over ``kernel_size`` windows (pads are ``-inf``: they never win).

    Parameters
    ----------
    x : Variable or array_like
        Images ``(N, C, H, W)``.
    kernel_size : int or (int, int)
        Window size (height, width).
    stride : int or (int, int)
        Step between windows.
    pad : int or (int, int)
        Padding on each side.

    Returns
    -------
    Variable
        ``(N, C, OH, OW)``, the maximum of each window.

    Examples
    --------
    >>> import numpy as np
    >>> pooling(np.arange(16.0).reshape(1, 1, 4, 4), 2, 2).data[0, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    x = _image(x, "pooling")
    col, (KH, KW, _, _, _, _, OH, OW) = _windows(x, kernel_size, stride, pad, -np.inf,
                                                 "pooling")
    N, C = x.shape[:2]
    return col.reshape(N, C, KH * KW, OH, OW).max(axis=2)


def average_pooling(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Variable:
    """Mean over ``kernel_size`` windows (zero pads count in the mean, as in DeZero).

    Parameters
    ----------
    x : Variable or array_like
        Images ``(N, C, H, W)``.
    kernel_size : int or (int, int)
        Window size (height, width).
    stride : int or (int, int)
        Step between windows.
    pad : int or (int, int)
        Padding on each side.

    Returns
    -------
    Variable
        ``(N, C, OH, OW)``, the mean of each window.

    Examples
    --------
    >>> import numpy as np
    >>> average_pooling(np.arange(16.0).reshape(1, 1, 4, 4), 2, 2).data[0, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    x = _image(x, "average_pooling")
    col, _ = _windows(x, kernel_size, stride, pad, 0.0, "average_pooling")
    return col.mean(axis=(2, 3))


def _running(stat: Any, who: str) -> np.ndarray:
    """The array that holds a running statistic (updated in place in training)."""
    data = stat.data if isinstance(stat, Variable) else stat
    if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
        raise TypeError(f"batch_norm: {who} must be a float numpy array (or a Parameter "
                        f"holding one), updated in place; got {type(data).__name__}")
    return data


def batch_norm(x: Any, gamma: Any, beta: Any, mean: Any, var: Any, decay: float = 0.9,
               eps: float = 2e-5) -> Variable:
    """Batch normalisation over the batch axis (and the spatial axes of ``(N, C, H, W)``).

    In training (the default; see ``reverse.test_mode``) the batch's own mean and
    variance normalise ``x`` and are differentiated through, and the running ``mean``
    and ``var`` arrays are updated in place (``var`` with the unbiased ``m / (m - 1)``
    factor); in test mode the running statistics are used as constants.

    Parameters
    ----------
    x : Variable or array_like
        ``(N, C)`` or ``(N, C, H, W)``.
    gamma, beta : Variable or array_like
        Scale and shift, shape ``(C,)``.
    mean, var : numpy.ndarray or Parameter
        Running statistics, shape ``(C,)``.
    decay : float
        Weight of the old running statistics.
    eps : float
        Added to the variance.

    Returns
    -------
    Variable
        ``gamma (x - mu) / sqrt(v + eps) + beta``, shaped as ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0], [3.0]])
    >>> m, v = np.zeros(1), np.ones(1)
    >>> y = batch_norm(x, np.ones(1), np.zeros(1), m, v, eps=0.0)
    >>> y.data.ravel(), m, v
    (array([-1.,  1.]), array([0.2]), array([1.1]))
    """
    x = as_variable(x)
    if x.ndim not in (2, 4):
        raise ValueError(f"batch_norm: x must be (N, C) or (N, C, H, W), got shape {x.shape}")
    C = x.shape[1]
    for name, p in (("gamma", gamma), ("beta", beta), ("mean", mean), ("var", var)):
        if np.shape(p.data if isinstance(p, Variable) else p) != (C,):
            raise ValueError(f"batch_norm: {name} must have shape ({C},) for x of shape "
                             f"{x.shape}")
    xt = x.transpose(0, 2, 3, 1).reshape(-1, C) if x.ndim == 4 else x
    avg_mean, avg_var = _running(mean, "mean"), _running(var, "var")
    if core.Config.train:
        mu = xt.mean(axis=0)
        v = xt.var(axis=0)
        m = xt.shape[0]
        adjust = m / max(m - 1.0, 1.0)
        avg_mean *= decay
        avg_mean += (1 - decay) * np.asarray(core._value(mu))
        avg_var *= decay
        avg_var += (1 - decay) * adjust * np.asarray(core._value(v))
    else:
        mu, v = avg_mean, avg_var
    y = as_variable(gamma) * ((xt - mu) / np.sqrt(v + eps)) + as_variable(beta)
    if x.ndim == 4:
        N, _, H, W = x.shape
        y = y.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return y


def batch_nrom(x: Any, gamma: Any, beta: Any, mean: Any, var: Any, decay: float = 0.9,
               eps: float = 2e-5) -> Variable:
    """``batch_norm`` under the spelling of DeZero's library (``F.batch_nrom``), so code
    written against it runs unchanged.

    Parameters
    ----------
    x : Variable or array_like
        ``(N, C)`` or ``(N, C, H, W)``.
    gamma, beta : Variable or array_like
        Scale and shift, shape ``(C,)``.
    mean, var : numpy.ndarray or Parameter
        Running statistics, updated in place in training.
    decay : float
        Weight of the old running statistics.
    eps : float
        Added to the variance.

    Returns
    -------
    Variable
        As ``batch_norm``.

    Examples
    --------
    >>> import numpy as np
    >>> batch_nrom(np.array([[1.0], [3.0]]), np.ones(1), np.zeros(1), np.zeros(1),
    ...            np.ones(1), eps=0.0).data.ravel()
    array([-1.,  1.])
    """
    return batch_norm(x, gamma, beta, mean, var, decay, eps)
