"""Reverse-mode automatic differentiation of plain numpy code (DeZero-style).

``Variable`` records the graph of the numpy operations applied to it;
``Variable.backward`` backpropagates, and with ``create_graph=True`` the
gradients are graphs themselves, differentiable to any order.  The functional
helpers (``gradient``, ``hessian``, ``hvp`` ...) share their names and
signatures with the forward-mode package ``hyperdual``.

Examples
--------
>>> import numpy as np
>>> import reverse
>>> reverse.gradient(lambda x: np.sum(np.sin(x) ** 2), np.array([0.0, np.pi / 4]))
array([0., 1.])
>>> a, b, c = reverse.Variable(5.0), reverse.Variable(3.0), reverse.Variable(2.0)
>>> J = 3 * (a + b * c)
>>> J.backward()
>>> a.grad, b.grad, c.grad
(variable(3.), variable(6.), variable(9.))
"""

from . import datasets, functions, graph, layers, optimizers  # noqa: E402,I001  (after the core)
from . import rules  # noqa: E402,F401,I001  (registers the rule families)
from .core import (
    Config,
    Function,
    Parameter,
    Variable,
    as_array,
    as_variable,
    get_config,
    no_grad,
    test_mode,
    using_config,
)
from .custom import CustomRule, custom_jvp
from .datasets import DataLoader, SeqDataLoader, SinCurve, Spiral, get_spiral, spiral
from .graph import GraphvizNotFoundError, plot_dot_graph, to_dot
from .helpers import (
    GradientCheckError,
    GradientCheckResult,
    derivative,
    derivative_tensor,
    derivatives,
    directional_derivatives,
    gradient,
    gradient_check,
    hessian,
    hvp,
    jacobian,
    jvp,
    linearize,
    newton,
    nth_derivative,
    numerical_grad,
    second_derivative,
    taylor,
    value_and_gradient,
    vjp,
)
from .implicit import fixed_point, minimize, root, root_scalar
from .layers import (
    LSTM,
    MLP,
    RNN,
    BatchNorm,
    Sequential,
    Conv2d,
    Deconv2d,
    Layer,
    Linear,
    Model,
    WeightsFileError,
)
from .optimizers import SGD, AdaGrad, Adam, ClipGrad, MomentumSGD, Optimizer, WeightDecay
from .scipy_adapter import least_squares_jac, scipy_derivatives, value_and_jac
from . import linalg  # noqa: F401  (reverse.linalg: scipy.linalg stand-ins)
from . import signal  # noqa: F401  (reverse.signal: scipy.signal stand-ins)
from . import stats  # noqa: F401  (reverse.stats: scipy.stats stand-ins)
from .sparse import (
    SparseHessian,
    SparseJacobian,
    hessian_sparsity,
    jacobian_sparsity,
    sparse_hessian,
    sparse_jacobian,
)
from ._version import __version__ as __version__
from .utils import sum_to

from hyperdual.custom import check_rule  # noqa: E402,I001  (one implementation)

__all__ = [
    "least_squares_jac",
    "SparseHessian",
    "SparseJacobian",
    "hessian_sparsity",
    "jacobian_sparsity",
    "sparse_hessian",
    "sparse_jacobian",
    "MLP",
    "BatchNorm",
    "Conv2d",
    "Deconv2d",
    "RNN",
    "Sequential",
    "LSTM",
    "SinCurve",
    "SeqDataLoader",
    "SGD",
    "AdaGrad",
    "Adam",
    "ClipGrad",
    "DataLoader",
    "Spiral",
    "get_spiral",
    "GraphvizNotFoundError",
    "Layer",
    "Linear",
    "Model",
    "MomentumSGD",
    "Optimizer",
    "WeightDecay",
    "WeightsFileError",
    "datasets",
    "graph",
    "layers",
    "optimizers",
    "plot_dot_graph",
    "scipy_derivatives",
    "spiral",
    "to_dot",
    "value_and_jac",
    "Config",
    "fixed_point",
    "minimize",
    "root",
    "root_scalar",
    "CustomRule",
    "custom_jvp",
    "check_rule",
    "Function",
    "GradientCheckError",
    "GradientCheckResult",
    "Parameter",
    "Variable",
    "as_array",
    "as_variable",
    "derivative",
    "derivative_tensor",
    "derivatives",
    "directional_derivatives",
    "functions",
    "get_config",
    "gradient",
    "gradient_check",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "linearize",
    "newton",
    "no_grad",
    "nth_derivative",
    "numerical_grad",
    "second_derivative",
    "taylor",
    "sum_to",
    "test_mode",
    "using_config",
    "value_and_gradient",
    "vjp",
]

# Array libraries beyond numpy (dask, CuPy, sparse): one allow-list for both engines.
from _exactdiff.arrays import register_array_type  # noqa: E402

__all__ += ["register_array_type"]
