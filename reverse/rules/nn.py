"""Reverse-mode neural-network functions: ``relu``, ``leaky_relu``, ``sigmoid``,
``softmax``, ``log_softmax``, ``softmax_cross_entropy``, ``mean_squared_error``,
``dropout`` and ``accuracy`` (the names of the book "Deep Learning from
Scratch 3", whose ``dezero.functions`` ``reverse.functions`` stands in for).

Each is a ``Function`` whose backward is written with numpy calls, so every
order of derivative works; ``relu'(0) = 0``.

Examples
--------
>>> from reverse import Variable
>>> x = Variable([-1.0, 2.0])
>>> relu(x).sum().backward()
>>> x.grad
variable([0. 1.])
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .. import core
from ..core import Function, Variable, _value, as_array
from ..utils import logsumexp as _lse
from ._util import _arg
from .reductions import Sum, _check_axis

__all__ = ["Relu", "Sigmoid", "Softmax", "LogSoftmax", "SoftmaxCrossEntropy", "LeakyRelu",
           "relu", "sigmoid", "softmax", "log_softmax", "softmax_cross_entropy",
           "mean_squared_error", "dropout", "leaky_relu", "accuracy"]


def _mask(cond: Any, like: Any = None) -> np.ndarray:
    mask = np.where(cond, 1.0, 0.0)
    return mask if like is None else mask.astype(core._seed_dtype(like), copy=False)


class Relu(Function):
    """``max(x, 0)`` with ``relu'(0) = 0``.

    Examples
    --------
    >>> from reverse import Variable
    >>> Relu()(Variable([-1.0, 2.0]))
    variable([0. 2.])
    """

    __slots__ = ()

    @staticmethod
    def forward(x: Any) -> Any:
        return np.maximum(x, 0.0)

    @staticmethod
    def backward(gy: Any, y: Any, x: Any) -> Any:
        return gy * _mask(_value(x) > 0, x)


class Sigmoid(Function):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed stably through tanh.

    Examples
    --------
    >>> from reverse import Variable
    >>> Sigmoid()(Variable(0.0))
    variable(0.5)
    """

    __slots__ = ()

    @staticmethod
    def forward(x: Any) -> Any:
        return np.tanh(x * 0.5) * 0.5 + 0.5

    @staticmethod
    def backward(gy: Any, y: Any, x: Any) -> Any:
        return gy * y * (1 - y)


def _softmax(x: Any, axis: Any) -> Any:
    return np.exp(x - _lse(x, axis=axis, keepdims=True))


class Softmax(Function):
    """Softmax along ``axis`` (shifted by the maximum for stability).

    Parameters
    ----------
    axis : int or tuple of int
        The axes normalised together.

    Examples
    --------
    >>> from reverse import Variable
    >>> Softmax(-1)(Variable([0.0, 0.0]))
    variable([0.5 0.5])
    """

    __slots__ = ("axis",)

    def __init__(self, axis: Any = -1) -> None:
        self.axis = _check_axis(axis)

    def forward(self, x: Any) -> Any:
        return _softmax(x, self.axis)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        # y_k (g_k - sum_j y_j g_j) as y_k (g_k S_k - sum_{j != k} y_j g_j), S_k the sum of
        # the other y_j: y_k - y_k**2 cancelled to 0 where y_k ~ 1 (truth y_k S_k, 4e-18
        # at (0, -40, -45)); the sum without k is exactly 0 for a g along k
        yg = y * gy
        rest = np.sum(yg, axis=self.axis, keepdims=True) - yg
        return y * (gy * _others(y, self.axis) - rest)


class LogSoftmax(Function):
    """``x - logsumexp(x)`` along ``axis``.

    Parameters
    ----------
    axis : int or tuple of int
        The axes normalised together.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> y = LogSoftmax(-1)(Variable([1000.0, 1000.0]))
    >>> bool(np.allclose(y.data, np.log(0.5)))
    True
    """

    __slots__ = ("axis",)

    def __init__(self, axis: Any = -1) -> None:
        self.axis = _check_axis(axis)

    def forward(self, x: Any) -> Any:
        return x - _lse(x, axis=self.axis, keepdims=True)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        # g_k - s_k sum_j g_j as g_k S_k - s_k sum_{j != k} g_j (S_k the sum of the other
        # s_j): 1 - s_k cancelled to 0 where s_k ~ 1, as in Softmax.backward
        s = np.exp(y)
        return gy * _others(s, self.axis) - s * (np.sum(gy, axis=self.axis, keepdims=True) - gy)


def _others(y: Any, axis: Any) -> Any:
    """For each entry, the sum of the other entries of its slice over ``axis``
    (prefix plus suffix sums, nothing subtracted)."""
    from .linalg import _exclusive_sum

    nd = np.ndim(y)
    axes = tuple(range(nd)) if axis is None else tuple(
        a % nd for a in (axis if isinstance(axis, tuple) else (axis,)))
    return _exclusive_sum(y, axes)


class SoftmaxCrossEntropy(Function):
    """Mean cross entropy of ``softmax(x)`` (rows of ``x``) against targets ``t``.

    ``t`` is either integer class labels of shape (N,) or target probabilities
    of the same shape as ``x``.  The gradient is ``(softmax(x) - onehot(t)) / N``
    (``(softmax(x) * sum(t) - t) / N`` per row for targets whose rows do not sum to 1).

    Parameters
    ----------
    t : array_like
        Integer class labels of shape (N,), or target probabilities shaped like
        ``x`` (a constant of the differentiation).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> SoftmaxCrossEntropy(np.array([0]))(Variable([[0.0, 0.0]]))
    variable(0.69314718)
    """

    __slots__ = ("t", "labels")

    def __init__(self, t: Any) -> None:
        self.t = t
        self.labels = t.ndim == 1

    def forward(self, x: Any) -> Any:
        n = x.shape[0]
        logp = x - _lse(x, axis=1, keepdims=True)
        if self.labels:
            return -np.sum(logp[np.arange(n), self.t]) / n
        return -np.sum(self.t * logp) / n

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        n, c = x.shape
        if self.labels:
            # s - onehot: at the label, -(1 - s_k) as minus the sum of the other s_j
            # (s_k - 1 cancelled to 0 where the label's logit dominates: -4e-18 at
            # (0, -40, -45))
            s = _softmax(x, 1)
            hot = np.eye(c, dtype=bool)[self.t]
            return np.where(hot, 0.0 - _others(s, 1), s) * (gy / n)  # (no -0.0)
        # d/dx_j of -sum_i t_i log s_i is s_j sum_i t_i - t_j: s - t only where a row
        # of t sums to exactly 1 (targets [1, 1] gave s - 1, the truth 2 s - 1)
        total = np.sum(self.t, axis=1, keepdims=True)
        s = _softmax(x, 1)
        return ((s if np.all(total == 1.0) else s * total) - self.t) * (gy / n)


def _targets(t: Any, x_shape: tuple[int, ...]) -> np.ndarray:
    if isinstance(t, Variable):
        t = t.data
    t = np.asarray(t)
    if len(x_shape) != 2:
        raise ValueError(f"softmax_cross_entropy: logits must be 2-d (N, C), got shape {x_shape}")
    n, c = x_shape
    if t.shape == (n,):
        if t.dtype.kind == "f":
            if not np.all(t == np.round(t)):
                raise ValueError("softmax_cross_entropy: float labels must be whole numbers")
            t = t.astype(np.intp)
        elif t.dtype.kind not in "iu":
            raise TypeError(f"softmax_cross_entropy: labels must be integers, got {t.dtype}")
        if t.size and (t.min() < 0 or t.max() >= c):
            raise ValueError(f"softmax_cross_entropy: labels must lie in [0, {c}), "
                             f"got min {t.min()} max {t.max()}")
        return t
    if t.shape == (n, c) and t.dtype.kind in "fiub":
        return t.astype(np.float64)
    raise ValueError(f"softmax_cross_entropy: targets must have shape ({n},) (labels) or "
                     f"({n}, {c}) (probabilities), got {t.shape}")


def relu(x: Any) -> Variable:
    """Rectified linear unit ``max(x, 0)``; ``relu'(0) = 0``.

    Parameters
    ----------
    x : Variable or array_like
        Input.

    Returns
    -------
    Variable
        ``max(x, 0)``, with ``x``'s shape.

    Examples
    --------
    >>> relu([-1.0, 0.0, 2.0])
    variable([0. 0. 2.])
    """
    return Relu()(_arg(x, "relu"))


def sigmoid(x: Any) -> Variable:
    """Logistic sigmoid, stable for large ``|x|``.

    Parameters
    ----------
    x : Variable or array_like
        Input.

    Returns
    -------
    Variable
        ``1 / (1 + exp(-x))``, with ``x``'s shape.

    Examples
    --------
    >>> sigmoid([0.0, 1000.0])
    variable([0.5 1. ])
    """
    return Sigmoid()(_arg(x, "sigmoid"))


def softmax(x: Any, axis: Any = -1) -> Variable:
    """Softmax along ``axis`` (default: the last axis).

    For a batch of logits of shape (N, C), as in the book's DeZero, the
    default is the book's ``axis=1``; unlike ``axis=1`` it also works on a
    single vector of logits (and follows numpy/JAX for more axes).

    Parameters
    ----------
    x : Variable or array_like
        Logits.
    axis : int or tuple of int, optional
        Axis (or axes) along which the result sums to one.

    Returns
    -------
    Variable
        ``exp(x) / sum(exp(x), axis)``, computed stably, with ``x``'s shape.

    Examples
    --------
    >>> softmax([[1.0, 1.0, 1.0, 1.0]])
    variable([[0.25 0.25 0.25 0.25]])
    """
    return Softmax(axis)(_arg(x, "softmax"))


def log_softmax(x: Any, axis: Any = -1) -> Variable:
    """Log of the softmax along ``axis``, stable for large logits.

    Parameters
    ----------
    x : Variable or array_like
        Logits.
    axis : int or tuple of int, optional
        Axis (or axes) of the softmax (default: the last).

    Returns
    -------
    Variable
        ``x - logsumexp(x, axis)``, with ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> y = log_softmax([0.0, 0.0])
    >>> bool(np.allclose(y.data, -np.log(2)))
    True
    """
    return LogSoftmax(axis)(_arg(x, "log_softmax"))


def softmax_cross_entropy(x: Any, t: Any) -> Variable:
    """Mean softmax cross entropy of logits ``x`` (N, C) against ``t``.

    ``t``: integer labels (N,) or target probabilities (N, C).  Stable for large
    logits; the gradient is ``(softmax(x) - onehot(t)) / N``.

    Parameters
    ----------
    x : Variable or array_like, shape (N, C)
        Logits, one row per sample.
    t : array_like
        Integer labels, shape (N,), or target probabilities, shape (N, C).

    Returns
    -------
    Variable
        0-d, the mean cross entropy over the N samples.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.array([[1000.0, 0.0], [0.0, 1000.0]]))
    >>> loss = softmax_cross_entropy(x, np.array([0, 1]))
    >>> loss
    variable(0.)
    >>> loss.backward()
    >>> x.grad
    variable([[0. 0.]
              [0. 0.]])
    """
    x = _arg(x, "softmax_cross_entropy")
    return SoftmaxCrossEntropy(_targets(t, tuple(x.shape)))(x)


def mean_squared_error(a: Any, b: Any) -> Variable:
    """Mean over all elements of ``(a - b) ** 2``.

    (DeZero divides by ``len(a)``; for targets of shape (N,) or (N, 1) that is
    the same number.)

    Parameters
    ----------
    a, b : Variable or array_like
        Predictions and targets (broadcast together).

    Returns
    -------
    Variable
        0-d, ``mean((a - b) ** 2)``.

    Examples
    --------
    >>> mean_squared_error([1.0, 2.0], [1.0, 4.0])
    variable(2.)
    """
    d = _arg(a, "mean_squared_error") - _arg(b, "mean_squared_error")
    if not isinstance(d, Variable):
        d = Variable(d)
    return Sum()(d * d) * (1.0 / builtins.max(1, d.size))


def dropout(x: Any, ratio: float | None = None, rng: Any = None, *,
            dropout_ratio: float | None = None) -> Variable:
    """Inverted dropout: in training, zero each element with probability ``ratio``.

    Surviving elements are scaled by ``1 / (1 - ratio)``; with
    ``Config.train`` False (``reverse.test_mode()``) ``x`` passes unchanged.

    Parameters
    ----------
    x : Variable or array_like
        Input.
    ratio : float, optional
        Probability of zeroing an element, in [0, 1); default 0.5.
    rng : numpy Generator, RandomState or int, optional
        Source of the mask.  By default numpy's global random state, so
        ``np.random.seed(n)`` makes the masks reproducible (as in the book).
    dropout_ratio : float, optional
        The book's name for ``ratio`` (give one of the two).

    Returns
    -------
    Variable
        ``x * mask / (1 - ratio)`` in training, ``x`` itself in test mode.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import test_mode
    >>> y = dropout(np.ones(1000), 0.5, rng=np.random.default_rng(0))
    >>> 0.4 < float(np.mean(y.data == 0)) < 0.6
    True
    >>> with test_mode():
    ...     dropout([1.0, 2.0], dropout_ratio=0.3)
    variable([1. 2.])
    """
    if ratio is not None and dropout_ratio is not None:
        raise TypeError("dropout: give ratio or dropout_ratio (the book's name), not both")
    ratio = 0.5 if ratio is None and dropout_ratio is None else (
        ratio if ratio is not None else dropout_ratio)
    x = _arg(x, "dropout")
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"dropout: ratio must be in [0, 1), got {ratio}")
    if not isinstance(x, Variable):
        x = Variable(x)
    if not core.Config.train:
        return x
    if rng is None:
        rng = np.random  # the global state: np.random.seed applies
    elif isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        rng = np.random.default_rng(rng)
    elif not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        raise TypeError(f"dropout: rng must be a numpy Generator, RandomState, an int or "
                        f"None, got {type(rng).__name__}")
    keep = rng.random(x.shape) >= ratio
    return x * (keep * (1.0 / (1.0 - ratio)))


class LeakyRelu(Function):
    """``x`` where ``x > 0``, ``slope * x`` elsewhere; the derivative at 0 is ``slope``.

    The backward multiplies by a constant mask, so every order of derivative
    works (the second derivative is 0 away from the kink).

    Parameters
    ----------
    slope : float
        The slope for ``x <= 0``.

    Examples
    --------
    >>> from reverse import Variable
    >>> LeakyRelu(0.1)(Variable([-2.0, 3.0]))
    variable([-0.2  3. ])
    """

    __slots__ = ("slope",)

    def __init__(self, slope: float = 0.2) -> None:
        self.slope = slope

    def forward(self, x: Any) -> Any:
        return np.where(x > 0, x, x * self.slope)

    def backward(self, gy: Any, y: Any, x: Any) -> Any:
        v = _value(x)
        mask = np.where(v > 0, 1.0, self.slope).astype(core._seed_dtype(x), copy=False)
        return gy * mask


def leaky_relu(x: Any, slope: float = 0.2) -> Variable:
    """Leaky rectified linear unit: ``x`` for ``x > 0``, else ``slope * x``.

    Parameters
    ----------
    x : Variable or array_like
        Input.
    slope : float
        Slope for ``x <= 0`` (default 0.2, the book's DeZero default).

    Returns
    -------
    Variable
        Same shape as ``x``; its derivative is 1 for ``x > 0`` and ``slope``
        for ``x <= 0``.

    Examples
    --------
    >>> from reverse import Variable
    >>> x = Variable([-1.0, 2.0])
    >>> y = leaky_relu(x)
    >>> y
    variable([-0.2  2. ])
    >>> y.backward()
    >>> x.grad
    variable([0.2 1. ])
    """
    if isinstance(slope, bool) or not isinstance(slope, (int, float, np.integer, np.floating)):
        raise TypeError(f"leaky_relu: slope must be a real number, got {type(slope).__name__}")
    return LeakyRelu(float(slope))(_arg(x, "leaky_relu"))


def accuracy(y: Any, t: Any) -> Variable:
    """Fraction of rows of ``y`` whose largest entry is at the label ``t``.

    Not differentiable (it counts); the result is a 0-d Variable without a
    graph, as in the book's DeZero.

    Parameters
    ----------
    y : Variable or array_like, shape (N, C)
        Scores or probabilities, one row per sample.
    t : Variable or array_like of int, shape (N,)
        Class labels.

    Returns
    -------
    Variable
        0-d, the fraction of correct predictions in [0, 1].

    Examples
    --------
    >>> accuracy([[0.2, 0.8], [0.9, 0.1], [0.3, 0.7]], [1, 0, 0])
    variable(0.66666667)
    """
    yv = np.asarray(_value(y) if isinstance(y, Variable) else as_array(y))
    tv = np.asarray(t.data if isinstance(t, Variable) else t)
    if yv.ndim != 2 or tv.shape != yv.shape[:1]:
        raise ValueError(f"accuracy: y must have shape (N, C) and t shape (N,), got "
                         f"{yv.shape} and {tv.shape}")
    pred = np.argmax(yv, axis=1)
    return Variable(np.mean(pred == tv) if tv.size else np.float64(np.nan))
