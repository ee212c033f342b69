"""Forward-mode automatic differentiation with dual and hyper-dual numbers.

Write a function once with plain numpy; evaluate it on a :class:`Dual`
(``a + b·ε``, ε² = 0) for exact first derivatives or on a :class:`HyperDual`
(``a + b·ε1 + c·ε2 + d·ε1ε2``) for exact second derivatives.

>>> import numpy as np
>>> from hyperdual import Dual, HyperDual, derivative, hessian
>>> Dual(2.0, 1.0) ** 3
Dual(8.0, 12.0)
>>> derivative(np.exp, 0.0)
1.0
>>> hessian(lambda x: x[0] * x[1], np.array([1.0, 2.0]))
array([[0., 1.],
       [1., 0.]])
"""

from . import _generic, _rules

_generic.install(_rules.UNARY, _rules.BINARY)
# derivatives of rules (g.sech2, g.beta_da), not exported
_generic.install(_rules.PRIVATE, _rules.PRIVATE_BINARY)

from _exactdiff.special import multigammaln  # noqa: E402

from . import rules  # noqa: E402,F401  (registers the rule families)
from ._generic import (  # noqa: E402  (installed just above)  # noqa: E402
    absolute,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    beta,
    betaln,
    cbrt,
    ceil,
    copysign,
    cos,
    cosh,
    deg2rad,
    degrees,
    digamma,
    entr,
    erf,
    erfc,
    erfcinv,
    erfcx,
    erfinv,
    exp,
    exp2,
    expit,
    expm1,
    fabs,
    float_power,
    floor,
    floor_divide,
    fmod,
    gamma,
    gammaln,
    heaviside,
    hypot,
    i0,
    i0e,
    i1,
    i1e,
    kl_div,
    log,
    log1p,
    log2,
    log10,
    log_expit,
    log_ndtr,
    logaddexp,
    logaddexp2,
    loggamma,
    logit,
    maximum,
    minimum,
    ndtr,
    ndtri,
    negative,
    power,
    pseudo_huber,
    rad2deg,
    radians,
    reciprocal,
    rel_entr,
    remainder,
    rint,
    sign,
    sin,
    sinc,
    sinh,
    sqrt,
    square,
    tan,
    tanh,
    trunc,
    xlog1py,
    xlogy,
)
from ._number import SUPPORTED_FUNCTIONS, Dual, HyperDual, new_tag  # noqa: E402
from ._polygamma import polygamma  # noqa: E402
from .helpers import (  # noqa: E402
    derivative,
    gradient,
    hessian,
    hvp,
    jacobian,
    jvp,
    second_derivative,
    value_and_gradient,
    vjp,
)
from .rules.indexing import scatter_add  # noqa: E402
from .rules.products import dot, matmul, outer  # noqa: E402
from .rules.reductions import max_ as max  # noqa: E402, A004
from .rules.reductions import mean, prod  # noqa: E402
from .rules.reductions import min_ as min  # noqa: E402, A004
from .rules.reductions import sum_ as sum  # noqa: E402, A004
from .rules.selection import clip, where  # noqa: E402
from .rules.shape import concatenate, reshape, stack, transpose  # noqa: E402
from .rules.statistics import log_softmax, logsumexp, softmax  # noqa: E402

abs = absolute  # noqa: A001
add = _generic.add  # type: ignore[attr-defined]
subtract = _generic.subtract  # type: ignore[attr-defined]
multiply = _generic.multiply  # type: ignore[attr-defined]
divide = _generic.true_divide  # type: ignore[attr-defined]

from ._version import __version__ as __version__  # noqa: E402

__all__ = [
    "Dual", "HyperDual", "derivative", "second_derivative", "gradient", "jacobian",
    "hessian", "hvp", "value_and_gradient", "jvp", "vjp", "scatter_add", "new_tag",
    "SUPPORTED_FUNCTIONS", "custom_jvp", "check_rule", "root", "fixed_point", "minimize",
    "root_scalar",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh",
    "arcsinh", "arccosh", "arctanh", "exp", "expm1", "exp2", "log", "log1p", "log2", "log10",
    "sqrt", "cbrt", "square", "reciprocal", "power", "hypot", "abs", "absolute", "sign",
    "maximum", "minimum", "clip", "where", "sum", "prod", "mean", "dot", "matmul", "outer",
    "reshape", "transpose", "concatenate", "stack", "erf", "erfc", "expit", "gammaln",
    "digamma", "polygamma", "xlogy", "floor", "ceil", "trunc", "rint", "negative", "max", "min",
    "add", "subtract", "multiply", "divide", "mod", "true_divide", "logsumexp", "softmax",
    "log_softmax", "multigammaln",
    "beta",
    "betaln",
    "copysign",
    "deg2rad",
    "degrees",
    "entr",
    "erfcinv",
    "erfcx",
    "erfinv",
    "fabs",
    "float_power",
    "floor_divide",
    "fmod",
    "gamma",
    "heaviside",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "kl_div",
    "log_expit",
    "log_ndtr",
    "logaddexp",
    "logaddexp2",
    "loggamma",
    "logit",
    "ndtr",
    "ndtri",
    "pseudo_huber",
    "rad2deg",
    "radians",
    "rel_entr",
    "remainder",
    "sinc",
    "xlog1py",
]
# hyperdual.linalg, .signal, .stats: scipy.linalg, scipy.signal and scipy.stats stand-ins
from . import linalg, signal, stats  # noqa: E402, F401
from ._taylor import Taylor  # noqa: E402
from ._taylor import supported as taylor_supported  # noqa: E402
from .custom import check_rule, custom_jvp  # noqa: E402
from .implicit import fixed_point, minimize, root, root_scalar  # noqa: E402

mod = remainder  # noqa: E402
true_divide = divide
from .scipy_adapter import (  # noqa: E402, F401
    least_squares_jac,
    scipy_derivatives,
    value_and_jac,
)
from .taylor_helpers import (  # noqa: E402
    derivative_tensor,
    derivatives,
    directional_derivatives,
    nth_derivative,
    taylor,
)

__all__ += ["Taylor", "taylor", "derivatives", "nth_derivative", "directional_derivatives",
            "derivative_tensor", "taylor_supported"]
from .sparse import (  # noqa: E402  # noqa: E402
    SparseHessian,
    SparseJacobian,
    hessian_sparsity,
    jacobian_sparsity,
    sparse_hessian,
    sparse_jacobian,
)

__all__ += ["jacobian_sparsity", "hessian_sparsity", "sparse_jacobian", "sparse_hessian",
            "SparseJacobian", "SparseHessian"]

# Array libraries beyond numpy (dask, CuPy, sparse): one allow-list for both engines.
from _exactdiff.arrays import register_array_type  # noqa: E402

__all__ += ["register_array_type"]
