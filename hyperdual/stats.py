"""scipy.stats' common distributions for hyperdual's numbers (``scipy.stats`` itself calls
np.asarray, which drops a derivative).

The same functions as ``reverse.stats`` (one implementation,
:mod:`_exactdiff.stats`): ``norm``, ``t``, ``gamma``, ``chi2``, ``expon``, ``beta``,
``laplace``, ``logistic``, ``cauchy``, ``lognorm``, ``uniform``, ``halfnorm``,
``rayleigh``, ``weibull_min``, ``gumbel_r``, ``gumbel_l``, ``invgamma``, ``pareto``, ``f``
(``logpdf``, ``pdf``, ``cdf``, ``sf``, ``logcdf``, ``logsf``, ``ppf`` with scipy's
signatures), ``poisson``, ``binom``, ``geom``, ``nbinom`` (``logpmf``, ``pmf``, ``cdf``,
``sf``, ``logcdf``), ``dirichlet`` and
``multivariate_normal`` (``logpdf``, ``pdf``).  Plain arrays get scipy.stats' own
values.

Examples
--------
>>> import numpy as np
>>> import hyperdual
>>> from hyperdual import stats
>>> float(hyperdual.derivative(lambda s: stats.norm.logpdf(1.0, 0.0, s), 1.0))  # (z^2 - 1) / s
0.0
"""

from _exactdiff.stats import (  # noqa: F401 (re-exported)
    beta,
    binom,
    cauchy,
    chi2,
    dirichlet,
    expon,
    f,
    gamma,
    geom,
    gumbel_l,
    gumbel_r,
    halfnorm,
    invgamma,
    laplace,
    logistic,
    lognorm,
    multivariate_normal,
    nbinom,
    norm,
    pareto,
    poisson,
    rayleigh,
    t,
    uniform,
    weibull_min,
)

__all__ = ["beta", "cauchy", "chi2", "dirichlet", "expon", "gamma", "laplace", "logistic",
           "lognorm", "multivariate_normal", "norm", "poisson", "t"]
