"""The book's other names in ``dezero.functions`` ("Deep Learning from Scratch 3"), so
code typed from the book runs with ``import reverse.functions as F``.

The book first writes a function from smaller ones (``*_simple``) and then as one
``Function`` with its own backward; here both spellings are the same function, each
differentiable to every order: ``get_item``, ``flatten``, ``average``, ``linear_simple``,
``sigmoid_simple``, ``softmax_simple`` (the book's ``axis=1``),
``mean_squared_error_simple``, ``softmax_cross_entropy_simple``,
``sigmoid_cross_entropy``, ``binary_cross_entropy``, ``embed_id``, ``conv2d_simple`` and
``pooling_simple``.

Examples
--------
>>> import numpy as np
>>> from reverse import Variable
>>> x = Variable(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
>>> y = get_item(x, 1)
>>> y
variable([4. 5. 6.])
>>> y.sum().backward()
>>> x.grad
variable([[0. 0. 0.]
          [1. 1. 1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core import Variable, as_variable
from .conv import conv2d, pooling
from .indexing import getitem
from .nn import mean_squared_error, sigmoid, softmax, softmax_cross_entropy

__all__ = ["get_item", "flatten", "average", "linear_simple", "sigmoid_simple",
           "softmax_simple", "mean_squared_error_simple", "softmax_cross_entropy_simple",
           "sigmoid_cross_entropy", "binary_cross_entropy", "embed_id", "conv2d_simple",
           "pooling_simple"]


def get_item(x: Any, slices: Any) -> Variable:
    """``x[slices]`` (the book's name for ``getitem``).

    Parameters
    ----------
    x : Variable or array_like
        Input.
    slices : object
        Any numpy index.

    Returns
    -------
    Variable
        ``x[slices]``.

    Examples
    --------
    >>> get_item([1.0, 2.0, 3.0], [0, 0])
    variable([1. 1.])
    """
    return getitem(x, slices)


def flatten(x: Any) -> Variable:
    """Keep the first axis and flatten the rest: shape ``(N, -1)``.

    Parameters
    ----------
    x : Variable or array_like
        Input.

    Returns
    -------
    Variable
        Shape ``(N, -1)``.

    Examples
    --------
    >>> import numpy as np
    >>> flatten(np.ones((2, 3, 4))).shape
    (2, 12)
    """
    x = as_variable(x)
    return x.reshape(x.shape[0], -1)


def average(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Mean over ``axis`` (the book's name; ``np.mean`` works on Variables too).

    Parameters
    ----------
    x : Variable or array_like
        Input.
    axis : int or tuple of int, optional
        Axes to average (all by default).
    keepdims : bool
        Keep the reduced axes with length 1.

    Returns
    -------
    Variable
        The mean.

    Examples
    --------
    >>> average([1.0, 2.0, 6.0])
    variable(3.)
    """
    return as_variable(x).mean(axis=axis, keepdims=keepdims)


def linear_simple(x: Any, W: Any, b: Any = None) -> Variable:
    """``x @ W + b`` (the book's step 43 spelling of ``linear``).

    Parameters
    ----------
    x : Variable or array_like
        Input.
    W : Variable or array_like
        Weights.
    b : Variable or array_like, optional
        Bias.

    Returns
    -------
    Variable
        ``x @ W + b``.

    Examples
    --------
    >>> import numpy as np
    >>> linear_simple(np.ones((2, 3)), np.ones((3, 4)), np.ones(4)).data[0]
    array([4., 4., 4., 4.])
    """
    y = as_variable(x) @ as_variable(W)
    return y if b is None else y + as_variable(b)


def sigmoid_simple(x: Any) -> Variable:
    """``1 / (1 + exp(-x))``, the same function as ``sigmoid`` (stable for large ``|x|``).

    Parameters
    ----------
    x : Variable or array_like
        Input.

    Returns
    -------
    Variable
        ``1 / (1 + exp(-x))``.

    Examples
    --------
    >>> sigmoid_simple([0.0])
    variable([0.5])
    """
    return sigmoid(x)


def softmax_simple(x: Any, axis: Any = 1) -> Variable:
    """Softmax along ``axis``, with the book's default ``axis=1`` (``softmax``'s is -1).

    Parameters
    ----------
    x : Variable or array_like
        Input.
    axis : int or tuple of int
        Axis of the softmax (default 1).

    Returns
    -------
    Variable
        ``exp(x) / sum(exp(x), axis)``.

    Examples
    --------
    >>> softmax_simple([[0.0, 0.0]])
    variable([[0.5 0.5]])
    """
    return softmax(x, axis=axis)


def mean_squared_error_simple(x0: Any, x1: Any) -> Variable:
    """``mean((x0 - x1) ** 2)``, as ``mean_squared_error``.

    Parameters
    ----------
    x0, x1 : Variable or array_like
        Predictions and targets.

    Returns
    -------
    Variable
        0-d, the mean squared difference.

    Examples
    --------
    >>> mean_squared_error_simple([1.0, 2.0], [1.0, 4.0])
    variable(2.)
    """
    return mean_squared_error(x0, x1)


def softmax_cross_entropy_simple(x: Any, t: Any) -> Variable:
    """Mean softmax cross entropy of logits ``(N, C)`` against labels ``(N,)``.

    Computed as ``softmax_cross_entropy`` (stably, without the book's clip of the
    probabilities to ``1e-15``, which would set the derivative to 0 where it clips).

    Parameters
    ----------
    x : Variable or array_like
        Logits ``(N, C)``.
    t : array_like
        Labels ``(N,)`` or probabilities ``(N, C)``.

    Returns
    -------
    Variable
        0-d, the mean cross entropy.

    Examples
    --------
    >>> import numpy as np
    >>> y = softmax_cross_entropy_simple([[0.0, 0.0]], np.array([1]))
    >>> bool(np.isclose(y.data, np.log(2)))
    True
    """
    return softmax_cross_entropy(x, t)


def sigmoid_cross_entropy(x: Any, t: Any) -> Variable:
    """Mean binary cross entropy of logits ``x`` against targets ``t`` in [0, 1].

    ``sum(log(1 + exp(x)) - t x) / N`` with ``N = len(x)`` (the book's normalisation),
    computed with ``np.logaddexp`` so large logits neither overflow nor round to a
    clipped probability.

    Parameters
    ----------
    x : Variable or array_like
        Logits, first axis the batch.
    t : array_like
        Targets in [0, 1], one per logit.

    Returns
    -------
    Variable
        0-d, the loss summed and divided by ``len(x)``.

    Examples
    --------
    >>> import numpy as np
    >>> y = sigmoid_cross_entropy([[0.0], [0.0]], np.array([1, 0]))
    >>> bool(np.isclose(y.data, np.log(2)))
    True
    """
    x = as_variable(x)
    t = np.asarray(t, dtype=np.float64)
    if t.size != x.size:
        raise ValueError(f"sigmoid_cross_entropy: t must have one target per logit "
                         f"({x.shape}), got shape {t.shape}")
    t = t.reshape(x.shape)
    n = x.shape[0] if x.ndim else 1
    return (np.logaddexp(0.0, x) - t * x).sum() * (1.0 / n)


def binary_cross_entropy(p: Any, t: Any) -> Variable:
    """Mean binary cross entropy of probabilities ``p`` against targets ``t``.

    ``-sum(t log p + (1 - t) log(1 - p)) / N`` with ``0 log 0 = 0`` (``xlogy``); a
    probability of exactly 0 or 1 against the other label gives ``inf`` (the book
    clips ``p`` instead, which hides the infinite loss and zeroes the derivative).

    Parameters
    ----------
    p : Variable or array_like
        Probabilities, first axis the batch.
    t : array_like
        Targets in [0, 1], one per probability.

    Returns
    -------
    Variable
        0-d, the loss summed and divided by ``len(p)``.

    Examples
    --------
    >>> import numpy as np
    >>> y = binary_cross_entropy([0.5, 1.0], np.array([1, 1]))
    >>> bool(np.isclose(y.data, np.log(2) / 2))
    True
    """
    from scipy import special

    p = as_variable(p)
    t = np.asarray(t, dtype=np.float64).reshape(p.shape)
    n = p.shape[0] if p.ndim else 1
    return -(special.xlogy(t, p) + special.xlog1py(1.0 - t, -p)).sum() * (1.0 / n)


def embed_id(x: Any, W: Any) -> Variable:
    """Rows of the embedding matrix ``W`` for integer ids ``x``: ``W[x]``.

    Parameters
    ----------
    x : array_like of int
        Ids.
    W : Variable or array_like
        Embedding matrix, one row per id.

    Returns
    -------
    Variable
        ``W[x]``.

    Examples
    --------
    >>> import numpy as np
    >>> embed_id(np.array([2, 0]), np.arange(6.0).reshape(3, 2))
    variable([[4. 5.]
              [0. 1.]])
    """
    return getitem(W, np.asarray(x))


def conv2d_simple(x: Any, W: Any, b: Any = None, stride: Any = 1, pad: Any = 0) -> Variable:
    """The book's step 57 ``conv2d_simple``: the same function as ``conv2d``.

    Parameters
    ----------
    x : Variable or array_like
        Images ``(N, C, H, W)``.
    W : Variable or array_like
        Filters ``(OC, C, KH, KW)``.
    b : Variable or array_like, optional
        Bias ``(OC,)``.
    stride : int or (int, int)
        Step.
    pad : int or (int, int)
        Zero padding.

    Returns
    -------
    Variable
        ``(N, OC, OH, OW)``.

    Examples
    --------
    >>> import numpy as np
    >>> conv2d_simple(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))).data[0, 0]
    array([[4., 4.],
           [4., 4.]])
    """
    return conv2d(x, W, b, stride, pad)


def pooling_simple(x: Any, kernel_size: Any, stride: Any = 1, pad: Any = 0) -> Variable:
    """The book's step 57 ``pooling_simple``: the same function as ``pooling``.

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
        ``(N, C, OH, OW)``.

    Examples
    --------
    >>> import numpy as np
    >>> pooling_simple(np.arange(4.0).reshape(1, 1, 2, 2), 2).data
    array([[[[3.]]]])
    """
    return pooling(x, kernel_size, stride, pad)
