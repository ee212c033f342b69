"""Typical uses of the public API, type-checked by ``tox -e typecheck`` (mypy).

Not a pytest module (no ``test_`` prefix): mypy reads it, and the hints of the
public modules must accept it as a user would write it.
"""

from __future__ import annotations

import numpy as np

import hyperdual
import reverse
import reverse.functions as F
from hyperdual import Dual, HyperDual
from reverse import Variable


def rosen(x: np.ndarray) -> np.ndarray:
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def use_forward() -> None:
    x = np.array([-1.2, 1.0, 0.5])
    d = Dual(2.0, 1.0) ** 3
    print(d.real, d.dual, HyperDual(2.0, 1.0, 1.0, 0.0).eps12)
    print(hyperdual.derivative(np.sin, 1.0), hyperdual.second_derivative(np.sin, 1.0))
    print(hyperdual.gradient(rosen, x), hyperdual.hessian(rosen, x))
    print(hyperdual.jacobian(np.sin, x), hyperdual.hvp(rosen, x, x))
    value, grad = hyperdual.value_and_gradient(rosen, x)
    print(value, grad, hyperdual.__version__)


def use_reverse() -> None:
    x = np.array([-1.2, 1.0, 0.5])
    print(reverse.gradient(rosen, x), reverse.hessian(rosen, x))
    print(reverse.hvp(rosen, x, x, mode="reverse-over-reverse"))
    v = Variable(np.array(2.0), name="x")
    # Variable's operators are installed at import time (reverse.functions), so
    # mypy does not see them yet
    y = v ** 4 - 2 * v ** 2  # type: ignore[operator]
    y.backward(create_graph=True)
    print(v.grad, reverse.__version__)
    model = reverse.MLP((10, 1))
    opt = reverse.Adam(lr=0.01).setup(model)
    loss = F.mean_squared_error(model(np.zeros((4, 2))), np.zeros((4, 1)))
    loss.backward()
    opt.update()
