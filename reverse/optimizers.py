"""First-order optimizers: ``SGD``, ``MomentumSGD``, ``AdaGrad``, ``Adam``.

An optimizer is set up with a target, either a :class:`~reverse.layers.Layer`
(its parameters are enumerated at every update, so lazily initialised layers
work) or any Variable / iterable of Variables (so plain functions can be
minimised too).  ``update()`` changes each ``param.data`` **in place** from
``param.grad.data``; parameters without a gradient (``grad is None``) or
without data are skipped.  Because the update is in place, an ndarray that was
wrapped in a Variable without a copy changes with it (pass a copy if the
original must be kept).

Examples
--------
Minimising the Rosenbrock function from (-1.2, 1):

>>> import numpy as np
>>> from reverse import Variable
>>> x = Variable(np.array([-1.2, 1.0]))
>>> opt = Adam(alpha=0.05).setup([x])
>>> for _ in range(2000):
...     x.clear_grad()
...     y = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
...     y.backward()
...     opt.update()
>>> bool(np.allclose(x.data, [1.0, 1.0], atol=1e-2))
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .core import Variable

__all__ = ["SGD", "AdaGrad", "Adam", "ClipGrad", "MomentumSGD", "Optimizer", "WeightDecay"]


def _check(value: Any, name: str, lo: float, hi: float = math.inf, lo_open: bool = False,
           hi_open: bool = False) -> float:
    """Validate a hyperparameter: a real number within [lo, hi] (ends as flagged)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    v = float(value)
    bad = (math.isnan(v) or (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi))
    if bad:
        lb = "(" if lo_open else "["
        rb = ")" if hi_open else "]"
        raise ValueError(f"{name} must lie in {lb}{lo}, {hi}{rb}, got {value!r}")
    return v


class Optimizer:
    """Base class: holds the target and per-parameter state, calls ``update_one``.

    Subclasses implement ``update_one(param)``, reading ``param.grad.data`` and
    writing ``param.data`` in place.  Hooks (callables taking the list of
    parameters about to be updated) run first, e.g. :class:`WeightDecay`.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> class Halve(Optimizer):
    ...     def update_one(self, param):
    ...         param.data *= 0.5
    >>> x = Variable(np.array([4.0]))
    >>> (x * 1).sum().backward()
    >>> Halve().setup(x).update()
    >>> x.data
    array([2.])
    """

    def __init__(self) -> None:
        self.target: Any = None
        self.hooks: list[Callable[[list[Variable]], None]] = []
        # id(param) -> (param, state dict).  The strong reference to the param
        # keeps its id from being reused while its state is stored.
        self._states: dict[int, tuple[Variable, dict[str, Any]]] = {}

    def setup(self, target: Any) -> Optimizer:
        """Set the target: a Layer, a Variable or an iterable of Variables; return self.

        Parameters
        ----------
        target : Layer or Variable or iterable of Variable
            What to optimise.  A Layer's parameters are enumerated at every
            update (so layers that create their weights lazily work).

        Returns
        -------
        Optimizer
            ``self``, so that ``opt = SGD().setup(model)`` reads as one line.
            The per-parameter state (momenta) starts afresh.

        Raises
        ------
        TypeError
            For any other target, or an iterable holding a non-Variable.

        Examples
        --------
        >>> from reverse import Variable
        >>> opt = SGD(lr=0.1).setup([Variable(1.0), Variable(2.0)])
        >>> len(opt.params())
        2
        """
        if hasattr(target, "params") and callable(target.params):
            self.target = target
        elif isinstance(target, Variable):
            self.target = [target]
        elif isinstance(target, Iterable) and not isinstance(target, (str, bytes, np.ndarray)):
            items = list(target)
            for i, p in enumerate(items):
                if not isinstance(p, Variable):
                    raise TypeError(f"{type(self).__name__}.setup: item {i} is "
                                    f"{type(p).__name__}, expected a Variable/Parameter")
            self.target = items
        else:
            raise TypeError(f"{type(self).__name__}.setup: target must be a Layer, a Variable "
                            f"or an iterable of Variables, got {type(target).__name__}")
        self._states.clear()
        return self

    def params(self) -> list[Variable]:
        """The parameters of the target (all of them, with or without gradient).

        Returns
        -------
        list of Variable
            A new list; for a Layer target, its current ``params()``.

        Raises
        ------
        RuntimeError
            If ``setup`` was not called.

        Examples
        --------
        >>> from reverse import Linear
        >>> opt = SGD().setup(Linear(3, in_size=2))
        >>> sorted(p.name for p in opt.params())
        ['W', 'b']
        """
        if self.target is None:
            raise RuntimeError(f"{type(self).__name__}: call setup(target) before update()")
        if isinstance(self.target, list):
            return list(self.target)
        return list(self.target.params())

    def add_hook(self, hook: Callable[[list[Variable]], None]) -> Optimizer:
        """Register ``hook(params)``, run before every update; return self.

        Parameters
        ----------
        hook : callable
            Called with the list of parameters about to be updated (those with
            data and a gradient); it may replace their ``grad``, as
            :class:`WeightDecay` and :class:`ClipGrad` do.

        Returns
        -------
        Optimizer
            ``self``, for chaining.

        Examples
        --------
        >>> import numpy as np
        >>> from reverse import Variable
        >>> seen = []
        >>> x = Variable(np.array([1.0]))
        >>> (2 * x).sum().backward()
        >>> opt = SGD(lr=0.5).setup(x).add_hook(lambda ps: seen.append(len(ps)))
        >>> opt.update()
        >>> seen, x.data
        ([1], array([0.]))
        """
        if not callable(hook):
            raise TypeError(f"add_hook: hook must be callable, got {type(hook).__name__}")
        self.hooks.append(hook)
        return self

    def update(self) -> None:
        """Update every parameter that has data and a gradient, in place.

        The hooks run first, then ``update_one`` for each such parameter.

        Examples
        --------
        One SGD step on f(x) = x_0^2 + x_1^2, gradient 2x:

        >>> import numpy as np
        >>> from reverse import Variable
        >>> x, unused = Variable(np.array([1.0, -2.0])), Variable(np.array([5.0]))
        >>> np.sum(x * x).backward()
        >>> SGD(lr=0.25).setup([x, unused]).update()
        >>> x.data, unused.data
        (array([ 0.5, -1. ]), array([5.]))
        """
        params = [p for p in self.params() if p.grad is not None and p.data is not None]
        for hook in self.hooks:
            hook(params)
        for p in params:
            self.update_one(p)

    def update_one(self, param: Variable) -> None:
        """Update one parameter in place; subclasses implement it.

        Parameters
        ----------
        param : Variable
            A parameter with data and a gradient: read ``param.grad.data``,
            write ``param.data`` in place, keep per-parameter memory in
            ``self.state(param)``.

        Examples
        --------
        >>> import numpy as np
        >>> from reverse import Variable
        >>> x = Variable(np.array([3.0]))
        >>> (x * x).sum().backward()
        >>> opt = SGD(lr=0.1).setup(x)
        >>> opt.update_one(x)  # 3 - 0.1 * 6
        >>> x.data
        array([2.4])
        """
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Reset the gradients of all parameters of the target to None.

        ``cleargrads`` is the same method under the book's name.

        Examples
        --------
        >>> from reverse import Variable
        >>> x = Variable(2.0)
        >>> (x * x).backward()
        >>> opt = SGD().setup(x)
        >>> opt.zero_grad()
        >>> x.grad is None
        True
        """
        for p in self.params():
            p.clear_grad()

    cleargrads = zero_grad

    def state(self, param: Variable) -> dict[str, Any]:
        """The mutable per-parameter state dict (created empty on first use).

        Parameters
        ----------
        param : Variable
            One of the target's parameters.

        Returns
        -------
        dict
            The same dict on every call for this parameter (until ``setup``);
            e.g. ``MomentumSGD`` keeps the velocity under ``"v"``.

        Examples
        --------
        >>> import numpy as np
        >>> from reverse import Variable
        >>> x = Variable(np.array([1.0]))
        >>> opt = MomentumSGD(lr=0.1, momentum=0.5).setup(x)
        >>> np.sum(x).backward()
        >>> opt.update()
        >>> opt.state(x)["v"]
        array([-0.1])
        """
        entry = self._states.get(id(param))
        if entry is None or entry[0] is not param:
            entry = (param, {})
            self._states[id(param)] = entry
        return entry[1]


def _grad(param: Variable) -> Any:
    return param.grad.data  # type: ignore[union-attr]  # only parameters with a grad


class SGD(Optimizer):
    """Plain gradient descent: ``p <- p - lr * g``.

    Parameters
    ----------
    lr : float
        Learning rate (> 0).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.array([1.0, 2.0]))
    >>> np.sum(x * x).backward()
    >>> SGD(lr=0.1).setup(x).update()
    >>> x.data
    array([0.8, 1.6])
    """

    def __init__(self, lr: float = 0.01) -> None:
        super().__init__()
        self.lr = _check(lr, "SGD: lr", 0.0, lo_open=True)

    def update_one(self, param: Variable) -> None:
        param.data -= self.lr * _grad(param)


class MomentumSGD(Optimizer):
    """Gradient descent with momentum: ``v <- momentum * v - lr * g``, ``p <- p + v``.

    (Polyak's heavy ball in the form of Sutskever et al. 2013 / Chainer; ``v``
    starts at zero.)

    Parameters
    ----------
    lr : float
        Learning rate (> 0).
    momentum : float
        Fraction of the velocity kept from one step to the next, in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.array([1.0]))
    >>> opt = MomentumSGD(lr=0.1, momentum=0.9).setup(x)
    >>> for _ in range(2):
    ...     x.clear_grad()
    ...     np.sum(x).backward()  # gradient 1
    ...     opt.update()
    >>> x.data  # 1 - 0.1 - (0.9 * 0.1 + 0.1)
    array([0.71])
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__()
        self.lr = _check(lr, "MomentumSGD: lr", 0.0, lo_open=True)
        self.momentum = _check(momentum, "MomentumSGD: momentum", 0.0, 1.0, hi_open=True)

    def update_one(self, param: Variable) -> None:
        st = self.state(param)
        v = st.get("v")
        if v is None:
            v = st["v"] = np.zeros_like(param.data)
        v *= self.momentum
        v -= self.lr * _grad(param)
        param.data += v


class AdaGrad(Optimizer):
    """AdaGrad (Duchi, Hazan & Singer 2011): ``h <- h + g*g``, ``p <- p - lr g / (sqrt(h) + eps)``.

    Parameters
    ----------
    lr : float
        Learning rate (default 0.001, as in the book's DeZero).
    eps : float
        Added to ``sqrt(h)`` to avoid a division by zero.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.array([1.0, 1.0]))
    >>> np.sum(x * np.array([2.0, -4.0])).backward()
    >>> AdaGrad(lr=0.1, eps=0.0).setup(x).update()
    >>> x.data  # the first step is lr * sign(g)
    array([0.9, 1.1])
    """

    def __init__(self, lr: float = 0.001, eps: float = 1e-8) -> None:
        super().__init__()
        self.lr = _check(lr, "AdaGrad: lr", 0.0, lo_open=True)
        self.eps = _check(eps, "AdaGrad: eps", 0.0)

    def update_one(self, param: Variable) -> None:
        st = self.state(param)
        h = st.get("h")
        if h is None:
            h = st["h"] = np.zeros_like(param.data)
        g = _grad(param)
        h += g * g
        param.data -= self.lr * g / (np.sqrt(h) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1), with bias-corrected moments.

    For step ``t`` (counted per parameter, from 1)::

        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2
        p <- p - alpha * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps)

    ``lr`` is accepted as an alias of ``alpha``.

    Parameters
    ----------
    alpha : float
        Step size (> 0).
    beta1, beta2 : float
        Decay rates of the first and second moment estimates, in [0, 1).
    eps : float
        Added to the root of the second moment to avoid a division by zero.
    lr : float, optional
        Keyword-only alias of ``alpha`` (wins when given).

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.array([1.0, 1.0]))
    >>> np.sum(x * np.array([3.0, -0.5])).backward()
    >>> Adam(alpha=0.1, eps=0.0).setup(x).update()
    >>> x.data  # the first step is alpha * sign(g)
    array([0.9, 1.1])
    """

    def __init__(self, alpha: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8, *, lr: float | None = None) -> None:
        super().__init__()
        if lr is not None:
            alpha = lr
        self.alpha = _check(alpha, "Adam: alpha (lr)", 0.0, lo_open=True)
        self.beta1 = _check(beta1, "Adam: beta1", 0.0, 1.0, hi_open=True)
        self.beta2 = _check(beta2, "Adam: beta2", 0.0, 1.0, hi_open=True)
        self.eps = _check(eps, "Adam: eps", 0.0)

    @property
    def lr(self) -> float:
        """Alias of ``alpha``."""
        return self.alpha

    @lr.setter
    def lr(self, value: float) -> None:
        self.alpha = _check(value, "Adam: alpha (lr)", 0.0, lo_open=True)

    def update_one(self, param: Variable) -> None:
        st = self.state(param)
        if "m" not in st:
            st["m"] = np.zeros_like(param.data)
            st["v"] = np.zeros_like(param.data)
            st["t"] = 0
        m, v = st["m"], st["v"]
        st["t"] += 1
        t = st["t"]
        g = _grad(param)
        b1, b2 = self.beta1, self.beta2
        m *= b1
        m += (1.0 - b1) * g
        v *= b2
        v += (1.0 - b2) * (g * g)
        m_hat = m / (1.0 - b1**t)
        v_hat = v / (1.0 - b2**t)
        param.data -= self.alpha * m_hat / (np.sqrt(v_hat) + self.eps)


# ----------------------------------------------------------------------------
# Hooks
# ----------------------------------------------------------------------------


class WeightDecay:
    """Hook adding ``rate * p`` to each gradient (L2 regularisation).

    The gradient is replaced, not modified in place (backward may share one
    array between the gradients of several parameters).

    Parameters
    ----------
    rate : float
        The L2 coefficient (>= 0): the hook adds the gradient of
        ``rate / 2 * sum(p**2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.array([2.0]))
    >>> np.sum(x * 0).backward()
    >>> SGD(lr=0.5).setup(x).add_hook(WeightDecay(0.1)).update()
    >>> x.data  # 2 - 0.5 * 0.1 * 2
    array([1.9])
    """

    def __init__(self, rate: float) -> None:
        self.rate = _check(rate, "WeightDecay: rate", 0.0)

    def __call__(self, params: list[Variable]) -> None:
        for p in params:
            p.grad = Variable(_grad(p) + self.rate * p.data)


class ClipGrad:
    """Hook rescaling all gradients together so their global L2 norm is at most ``max_norm``.

    Parameters
    ----------
    max_norm : float
        The largest global norm allowed (> 0); smaller gradients are unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from reverse import Variable
    >>> x = Variable(np.array([0.0, 0.0]))
    >>> np.sum(x * np.array([30.0, 40.0])).backward()
    >>> SGD(lr=1.0).setup(x).add_hook(ClipGrad(5.0)).update()
    >>> x.data
    array([-3., -4.])
    """

    def __init__(self, max_norm: float) -> None:
        self.max_norm = _check(max_norm, "ClipGrad: max_norm", 0.0, lo_open=True)

    def __call__(self, params: list[Variable]) -> None:
        total = math.sqrt(sum(float(np.sum(_grad(p) * _grad(p))) for p in params))
        if total > self.max_norm:
            scale = self.max_norm / (total + 1e-12)
            for p in params:
                p.grad = Variable(_grad(p) * scale)
