"""scipy.stats' common distributions, written with numpy and scipy.special for both
engines.

``scipy.stats.norm.logpdf(x)`` converts ``x`` with ``np.asarray``, which no dispatch
protocol reaches: on a Dual or a Variable it raises.  These namespaces have scipy's
names and signatures (``norm.logpdf(x, loc=0, scale=1)`` ...) and on engine values
compute the same quantities from scipy.special functions that both engines
differentiate (``ndtr``, ``log_ndtr``, ``xlogy``, ``gammaln``, ``gammainc``,
``betainc``, ``stdtr`` ...), in ``x`` and in the parameters where those functions
are (a parameter they are not differentiable in raises the engine's TypeError).
Outside the support they give scipy's 0, -inf, 0 or 1; an invalid parameter
(``scale <= 0`` ...) gives nan, as scipy.  Plain arrays go to scipy.stats itself.
``hyperdual.stats`` and ``reverse.stats`` are this module.

Distributions: ``norm``, ``t``, ``gamma``, ``chi2``, ``expon``, ``beta``,
``laplace``, ``logistic``, ``cauchy``, ``lognorm``, ``uniform``, ``halfnorm``,
``rayleigh``, ``weibull_min``, ``gumbel_r``, ``gumbel_l``, ``invgamma``, ``pareto``,
``f``, ``poisson``, ``binom``, ``geom``, ``nbinom``, ``dirichlet``,
``multivariate_normal``.  What a stand-in does not
define (``rvs``, ``mean``, ``fit`` ...) is scipy.stats' own attribute.

Examples
--------
>>> import numpy as np
>>> import hyperdual
>>> from hyperdual import stats
>>> # d/dx log N(x; 0, 1) = -x
>>> hyperdual.derivative(lambda x: stats.norm.logpdf(x), 0.7)
-0.7
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as sc
import scipy.stats as _st

from ._common import is_traced, value

__all__ = ["beta", "binom", "cauchy", "chi2", "dirichlet", "expon", "f", "gamma", "geom",
           "gumbel_l", "gumbel_r", "halfnorm", "invgamma", "laplace", "logistic", "lognorm",
           "multivariate_normal", "nbinom", "norm", "pareto", "poisson", "rayleigh", "t",
           "uniform", "weibull_min"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _traced(*xs: Any) -> bool:
    return any(is_traced(x) for x in xs)


def _plain(x: Any) -> Any:
    return np.asarray(value(x), dtype=float)


def _invalid(out: Any, bad: Any) -> Any:
    """nan where a parameter is invalid (a plain decision on the values), derivative
    included."""
    bad = np.asarray(bad)
    return np.where(bad, out * np.nan, out) if np.any(bad) else out


def _outside(out: Any, where: Any, fill: float) -> Any:
    where = np.asarray(where)
    return np.where(where, fill, out) if np.any(where) else out


class _Forwarding:
    """A stand-in for ``scipy.stats.<name>``: what it does not define (``rvs``,
    ``mean``, ``fit`` ...) is scipy's own attribute (plain arrays only: scipy converts
    its input)."""

    name = ""

    def _scipy(self) -> Any:
        return getattr(_st, self.name)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self._scipy(), attr)

    def __repr__(self) -> str:
        return f"<exactdiff stand-in for scipy.stats.{self.name}>"


class _Continuous(_Forwarding):
    """loc/scale family: ``f(x) = f0((x - loc) / scale) / scale``; subclasses give the
    standard form's ``_logpdf``, ``_cdf``, ``_sf`` (and their logs where scipy has
    better ones) and the support ``(_lo, _hi)`` of the standardised variable."""

    _lo, _hi = -np.inf, np.inf

    def _z(self, x: Any, loc: Any, scale: Any) -> tuple[Any, Any, Any]:
        """The standardised variable, its values, and where scale is invalid (there
        replaced by 1, so that no log of a negative number warns)."""
        bad = _plain(scale) <= 0
        if np.any(bad):
            scale = np.where(bad, 1.0, scale)
        z = (x - loc) / scale
        return z, _plain(z), bad

    def _masked_z(self, z: Any, zv: Any) -> tuple[Any, Any]:
        """z with a harmless value outside the support, and the outside mask."""
        out = (zv < self._lo) | (zv > self._hi)
        if np.any(out):
            z = np.where(out, 0.5 * (max(self._lo, -1.0) + min(self._hi, 1.0)), z)
        return z, out

    _shapes: tuple[str, ...] = ()

    def _parse(self, args: tuple, kwds: dict) -> tuple[tuple, Any, Any]:
        """(shape parameters, loc, scale) from scipy's positional/keyword forms."""
        n = len(self._shapes)
        kwds = dict(kwds)
        shapes = list(args[:n])
        for name in self._shapes[len(shapes):]:
            if name not in kwds:
                raise TypeError(f"{self.name}: missing the shape parameter {name!r}")
            shapes.append(kwds.pop(name))
        rest = list(args[n:])
        if len(rest) > 2:
            raise TypeError(f"{self.name}: too many positional arguments")
        loc = rest[0] if rest else kwds.pop("loc", 0.0)
        scale = rest[1] if len(rest) > 1 else kwds.pop("scale", 1.0)
        if kwds:
            raise TypeError(f"{self.name}: unexpected keyword arguments {sorted(kwds)}")
        return tuple(shapes), loc, scale

    def _checked(self, shapes: tuple) -> tuple[tuple, Any]:
        """The shapes with 1 where invalid (no warning from their logs), and where."""
        bad = self._bad_args(*shapes)
        if np.any(bad):
            shapes = tuple(np.where(bad, 1.0, v) for v in shapes)
        return shapes, bad

    def _scipy_result(self, method: str, x: Any, args: tuple, kwds: dict) -> Any:
        """scipy's own result when no argument is an engine value, else None."""
        if _traced(x, *args, *kwds.values()):
            return None
        return getattr(self._scipy(), method)(x, *args, **kwds)

    def logpdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """log of the density (scipy's signature: shapes, then loc, scale)."""
        plain = self._scipy_result("logpdf", x, args, kwds)
        if plain is not None:
            return plain
        shapes, loc, scale = self._parse(args, kwds)
        z, zv, bad = self._z(x, loc, scale)
        z, out = self._masked_z(z, zv)
        scale = np.where(bad, 1.0, scale) if np.any(bad) else scale
        shapes, bad_shapes = self._checked(shapes)
        r = self._logpdf(z, *shapes) - np.log(scale)
        return _invalid(_outside(r, out, -np.inf), bad | bad_shapes)

    def pdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The density."""
        plain = self._scipy_result("pdf", x, args, kwds)
        if plain is not None:
            return plain
        return np.exp(self.logpdf(x, *args, **kwds))

    def _probability(self, x: Any, args: tuple, kwds: dict, f: Any, below: float) -> Any:
        """``f`` (the standard form's cdf or sf) at the standardised x: ``below`` under
        the support, ``1 - below`` above it, nan for an invalid parameter."""
        shapes, loc, scale = self._parse(args, kwds)
        z, zv, bad = self._z(x, loc, scale)
        z, out = self._masked_z(z, zv)
        shapes, bad_shapes = self._checked(shapes)
        r = _outside(f(z, *shapes), out, below)
        r = _outside(r, zv > self._hi, 1.0 - below)
        return _invalid(r, bad | bad_shapes)

    def cdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The distribution function."""
        plain = self._scipy_result("cdf", x, args, kwds)
        if plain is not None:
            return plain
        return self._probability(x, args, kwds, self._cdf, 0.0)

    def sf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The survival function 1 - cdf (without its cancellation where written)."""
        plain = self._scipy_result("sf", x, args, kwds)
        if plain is not None:
            return plain
        return self._probability(x, args, kwds, self._sf, 1.0)

    def logcdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """log cdf."""
        plain = self._scipy_result("logcdf", x, args, kwds)
        if plain is not None:
            return plain
        return np.log(self.cdf(x, *args, **kwds))

    def logsf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """log sf."""
        plain = self._scipy_result("logsf", x, args, kwds)
        if plain is not None:
            return plain
        return np.log(self.sf(x, *args, **kwds))

    def ppf(self, q: Any, *args: Any, **kwds: Any) -> Any:
        """The quantile function (where the standard form has ``_ppf``)."""
        plain = self._scipy_result("ppf", q, args, kwds)
        if plain is not None:
            return plain
        if not hasattr(self, "_ppf"):
            raise TypeError(f"{self.name}.ppf is not supported on differentiated values")
        shapes, loc, scale = self._parse(args, kwds)
        shapes, bad_shapes = self._checked(shapes)
        return _invalid(loc + scale * self._ppf(q, *shapes), (_plain(scale) <= 0) | bad_shapes)

    def _bad_args(self, *args: Any) -> Any:
        return np.zeros((), dtype=bool)

    def _sf(self, z: Any, *args: Any) -> Any:
        return 1.0 - self._cdf(z, *args)


class _Norm(_Continuous):
    """``scipy.stats.norm``.

    Examples
    --------
    >>> import hyperdual
    >>> # d/dloc log N(1; loc, 2) = (1 - loc) / 4
    >>> hyperdual.derivative(lambda m: norm.logpdf(1.0, loc=m, scale=2.0), 0.0)
    0.25
    """

    name = "norm"

    def _logpdf(self, z: Any) -> Any:
        return -0.5 * z * z - _LOG_SQRT_2PI

    def _cdf(self, z: Any) -> Any:
        return sc.ndtr(z)

    def _sf(self, z: Any) -> Any:
        return sc.ndtr(-z)

    def logcdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """log cdf by log_ndtr (no underflow of the cdf in the left tail)."""
        plain = self._scipy_result("logcdf", x, args, kwds)
        if plain is not None:
            return plain
        _, loc, scale = self._parse(args, kwds)
        z, _, bad = self._z(x, loc, scale)
        return _invalid(sc.log_ndtr(z), bad)

    def logsf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """log sf by log_ndtr."""
        plain = self._scipy_result("logsf", x, args, kwds)
        if plain is not None:
            return plain
        _, loc, scale = self._parse(args, kwds)
        z, _, bad = self._z(x, loc, scale)
        return _invalid(sc.log_ndtr(-z), bad)

    def _ppf(self, q: Any) -> Any:
        return sc.ndtri(q)


class _T(_Continuous):
    """``scipy.stats.t`` (``df`` > 0; the cdf is not differentiable in ``df``)."""

    name = "t"
    _shapes = ("df",)

    def _logpdf(self, z: Any, df: Any) -> Any:
        return (sc.gammaln((df + 1.0) / 2.0) - sc.gammaln(df / 2.0)
                - 0.5 * (np.log(df) + math.log(math.pi))
                - (df + 1.0) / 2.0 * np.log1p(z * z / df))

    def _cdf(self, z: Any, df: Any) -> Any:
        return sc.stdtr(df, z)

    def _sf(self, z: Any, df: Any) -> Any:
        return sc.stdtr(df, -z)

    def _bad_args(self, df: Any) -> Any:
        return _plain(df) <= 0

    def _ppf(self, q: Any, df: Any) -> Any:
        return sc.stdtrit(df, q)


class _Gamma(_Continuous):
    """``scipy.stats.gamma`` (shape ``a``)."""

    name = "gamma"
    _shapes = ("a",)
    _lo = 0.0

    def _logpdf(self, z: Any, a: Any) -> Any:
        return sc.xlogy(a - 1.0, z) - z - sc.gammaln(a)

    def _cdf(self, z: Any, a: Any) -> Any:
        return sc.gammainc(a, z)

    def _sf(self, z: Any, a: Any) -> Any:
        return sc.gammaincc(a, z)

    def _ppf(self, q: Any, a: Any) -> Any:
        return sc.gammaincinv(a, q)

    def _bad_args(self, a: Any) -> Any:
        return _plain(a) <= 0


class _Chi2(_Continuous):
    """``scipy.stats.chi2`` (``df`` degrees of freedom)."""

    name = "chi2"
    _shapes = ("df",)
    _lo = 0.0

    def _logpdf(self, z: Any, df: Any) -> Any:
        k = df / 2.0
        return sc.xlogy(k - 1.0, z) - z / 2.0 - sc.gammaln(k) - k * math.log(2.0)

    def _cdf(self, z: Any, df: Any) -> Any:
        return sc.gammainc(df / 2.0, z / 2.0)

    def _sf(self, z: Any, df: Any) -> Any:
        return sc.gammaincc(df / 2.0, z / 2.0)

    def _ppf(self, q: Any, df: Any) -> Any:
        return 2.0 * sc.gammaincinv(df / 2.0, q)

    def _bad_args(self, df: Any) -> Any:
        return _plain(df) <= 0


class _Expon(_Continuous):
    """``scipy.stats.expon``."""

    name = "expon"
    _lo = 0.0

    def _logpdf(self, z: Any) -> Any:
        return -z

    def _cdf(self, z: Any) -> Any:
        return -np.expm1(-z)

    def _sf(self, z: Any) -> Any:
        return np.exp(-z)

    def _ppf(self, q: Any) -> Any:
        return -np.log1p(-q)


class _Beta(_Continuous):
    """``scipy.stats.beta`` (shapes ``a``, ``b``; the cdf is differentiable in x only)."""

    name = "beta"
    _shapes = ("a", "b")
    _lo, _hi = 0.0, 1.0

    def _logpdf(self, z: Any, a: Any, b: Any) -> Any:
        return sc.xlogy(a - 1.0, z) + sc.xlog1py(b - 1.0, -z) - sc.betaln(a, b)

    def _cdf(self, z: Any, a: Any, b: Any) -> Any:
        return sc.betainc(a, b, z)

    def _sf(self, z: Any, a: Any, b: Any) -> Any:
        if not hasattr(sc, "betaincc"):  # scipy < 1.12: I_(1-z)(b, a)
            return sc.betainc(b, a, 1.0 - z)
        return sc.betaincc(a, b, z)

    def _ppf(self, q: Any, a: Any, b: Any) -> Any:
        return sc.betaincinv(a, b, q)

    def _bad_args(self, a: Any, b: Any) -> Any:
        return (_plain(a) <= 0) | (_plain(b) <= 0)


class _Laplace(_Continuous):
    """``scipy.stats.laplace``."""

    name = "laplace"

    def _logpdf(self, z: Any) -> Any:
        return -np.abs(z) - math.log(2.0)

    def _cdf(self, z: Any) -> Any:
        return np.where(_plain(z) < 0, 0.5 * np.exp(np.minimum(z, 0.0)),
                        1.0 - 0.5 * np.exp(-np.maximum(z, 0.0)))

    def _sf(self, z: Any) -> Any:
        return self._cdf(-z)


class _Logistic(_Continuous):
    """``scipy.stats.logistic``."""

    name = "logistic"

    def _logpdf(self, z: Any) -> Any:
        return -np.abs(z) - 2.0 * np.log1p(np.exp(-np.abs(z)))

    def _cdf(self, z: Any) -> Any:
        return sc.expit(z)

    def _sf(self, z: Any) -> Any:
        return sc.expit(-z)

    def _ppf(self, q: Any) -> Any:
        return sc.logit(q)


class _Cauchy(_Continuous):
    """``scipy.stats.cauchy``."""

    name = "cauchy"

    def _logpdf(self, z: Any) -> Any:
        return -math.log(math.pi) - np.log1p(z * z)

    def _cdf(self, z: Any) -> Any:
        return 0.5 + np.arctan(z) / math.pi

    def _sf(self, z: Any) -> Any:
        return 0.5 - np.arctan(z) / math.pi

    def _ppf(self, q: Any) -> Any:
        return np.tan(math.pi * (q - 0.5))


class _Lognorm(_Continuous):
    """``scipy.stats.lognorm`` (shape ``s``: log x is normal with standard deviation s)."""

    name = "lognorm"
    _shapes = ("s",)
    _lo = 0.0

    def _logpdf(self, z: Any, s: Any) -> Any:
        lz = np.log(z)
        return -0.5 * (lz / s) ** 2 - lz - np.log(s) - _LOG_SQRT_2PI

    def _cdf(self, z: Any, s: Any) -> Any:
        return sc.ndtr(np.log(z) / s)

    def _sf(self, z: Any, s: Any) -> Any:
        return sc.ndtr(-np.log(z) / s)

    def _ppf(self, q: Any, s: Any) -> Any:
        return np.exp(s * sc.ndtri(q))

    def _bad_args(self, s: Any) -> Any:
        return _plain(s) <= 0


class _Uniform(_Continuous):
    """``scipy.stats.uniform`` (on [loc, loc + scale])."""

    name = "uniform"
    _lo, _hi = 0.0, 1.0

    def _logpdf(self, z: Any) -> Any:
        return z * 0.0

    def _cdf(self, z: Any) -> Any:
        return z

    def _sf(self, z: Any) -> Any:
        return 1.0 - z

    def _ppf(self, q: Any) -> Any:
        return q


class _Halfnorm(_Continuous):
    """``scipy.stats.halfnorm``."""

    name = "halfnorm"
    _lo = 0.0

    def _logpdf(self, z: Any) -> Any:
        return 0.5 * math.log(2.0 / math.pi) - 0.5 * (z * z)

    def _cdf(self, z: Any) -> Any:
        return sc.erf(z / math.sqrt(2.0))

    def _sf(self, z: Any) -> Any:
        return sc.erfc(z / math.sqrt(2.0))

    def _ppf(self, q: Any) -> Any:
        return math.sqrt(2.0) * sc.erfinv(q)


class _Rayleigh(_Continuous):
    """``scipy.stats.rayleigh``."""

    name = "rayleigh"
    _lo = 0.0

    def _logpdf(self, z: Any) -> Any:
        return np.log(z) - 0.5 * (z * z)

    def _cdf(self, z: Any) -> Any:
        return -np.expm1(-0.5 * (z * z))

    def _sf(self, z: Any) -> Any:
        return np.exp(-0.5 * (z * z))

    def _ppf(self, q: Any) -> Any:
        return np.sqrt(-2.0 * np.log1p(-q))


class _WeibullMin(_Continuous):
    """``scipy.stats.weibull_min`` (shape ``c``)."""

    name = "weibull_min"
    _shapes = ("c",)
    _lo = 0.0

    def _logpdf(self, z: Any, c: Any) -> Any:
        return np.log(c) + sc.xlogy(c - 1.0, z) - z ** c

    def _cdf(self, z: Any, c: Any) -> Any:
        return -np.expm1(-(z ** c))

    def _sf(self, z: Any, c: Any) -> Any:
        return np.exp(-(z ** c))

    def _ppf(self, q: Any, c: Any) -> Any:
        return (-np.log1p(-q)) ** (1.0 / c)

    def _bad_args(self, c: Any) -> Any:
        return _plain(c) <= 0


class _GumbelR(_Continuous):
    """``scipy.stats.gumbel_r`` (the largest extreme value)."""

    name = "gumbel_r"

    def _logpdf(self, z: Any) -> Any:
        return -z - np.exp(-z)

    def _cdf(self, z: Any) -> Any:
        return np.exp(-np.exp(-z))

    def _sf(self, z: Any) -> Any:
        return -np.expm1(-np.exp(-z))

    def _ppf(self, q: Any) -> Any:
        return -np.log(-np.log(q))


class _GumbelL(_Continuous):
    """``scipy.stats.gumbel_l`` (the smallest extreme value)."""

    name = "gumbel_l"

    def _logpdf(self, z: Any) -> Any:
        return z - np.exp(z)

    def _cdf(self, z: Any) -> Any:
        return -np.expm1(-np.exp(z))

    def _sf(self, z: Any) -> Any:
        return np.exp(-np.exp(z))

    def _ppf(self, q: Any) -> Any:
        return np.log(-np.log1p(-q))


class _Invgamma(_Continuous):
    """``scipy.stats.invgamma`` (shape ``a``): 1/X for X gamma-distributed."""

    name = "invgamma"
    _shapes = ("a",)
    _lo = 0.0

    def _masked_z(self, z: Any, zv: Any) -> tuple[Any, Any]:
        # (the density is 0 at z = 0 itself, where 1/z is inf: outside, as below 0)
        out = zv <= 0
        return (np.where(out, 1.0, z) if np.any(out) else z), out

    def _logpdf(self, z: Any, a: Any) -> Any:
        return -(a + 1.0) * np.log(z) - sc.gammaln(a) - 1.0 / z

    def _cdf(self, z: Any, a: Any) -> Any:
        return sc.gammaincc(a, 1.0 / z)

    def _sf(self, z: Any, a: Any) -> Any:
        return sc.gammainc(a, 1.0 / z)

    def _ppf(self, q: Any, a: Any) -> Any:
        return 1.0 / sc.gammainccinv(a, q)

    def _bad_args(self, a: Any) -> Any:
        return _plain(a) <= 0


class _Pareto(_Continuous):
    """``scipy.stats.pareto`` (shape ``b``, support z >= 1)."""

    name = "pareto"
    _shapes = ("b",)
    _lo = 1.0

    def _logpdf(self, z: Any, b: Any) -> Any:
        return np.log(b) - (b + 1.0) * np.log(z)

    def _cdf(self, z: Any, b: Any) -> Any:
        return -np.expm1(-b * np.log(z))

    def _sf(self, z: Any, b: Any) -> Any:
        return np.exp(-b * np.log(z))

    def _ppf(self, q: Any, b: Any) -> Any:
        return np.exp(-np.log1p(-q) / b)

    def _bad_args(self, b: Any) -> Any:
        return _plain(b) <= 0


class _F(_Continuous):
    """``scipy.stats.f`` (shapes ``dfn``, ``dfd``; the cdf is differentiable in x only)."""

    name = "f"
    _shapes = ("dfn", "dfd")
    _lo = 0.0

    def _logpdf(self, z: Any, m: Any, n: Any) -> Any:
        return (0.5 * m * np.log(m / n) + sc.xlogy(0.5 * m - 1.0, z)
                - 0.5 * (m + n) * np.log1p(m * z / n) - sc.betaln(0.5 * m, 0.5 * n))

    def _cdf(self, z: Any, m: Any, n: Any) -> Any:
        return sc.fdtr(m, n, z)

    def _sf(self, z: Any, m: Any, n: Any) -> Any:
        return sc.fdtrc(m, n, z)

    def _ppf(self, q: Any, m: Any, n: Any) -> Any:
        return sc.fdtri(m, n, q)

    def _bad_args(self, m: Any, n: Any) -> Any:
        return (_plain(m) <= 0) | (_plain(n) <= 0)


class _Poisson(_Forwarding):
    """``scipy.stats.poisson`` (differentiable in ``mu``; ``k`` is a count).

    Examples
    --------
    >>> import hyperdual
    >>> # d/dmu log P(k; mu) = k / mu - 1
    >>> hyperdual.derivative(lambda m: poisson.logpmf(3, m), 2.0)
    0.5
    """

    name = "poisson"

    def logpmf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        if not _traced(k, mu, loc):
            return _st.poisson.logpmf(k, mu, loc=loc)
        kv = np.asarray(value(k), dtype=float) - np.asarray(value(loc), dtype=float)
        good = (kv >= 0) & (kv == np.floor(kv))
        ks = np.where(good, kv, 0.0)
        r = sc.xlogy(ks, mu) - sc.gammaln(ks + 1.0) - mu
        return _invalid(_outside(r, ~good, -np.inf), _plain(mu) < 0)

    def pmf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        if not _traced(k, mu, loc):
            return _st.poisson.pmf(k, mu, loc=loc)
        return np.exp(self.logpmf(k, mu, loc))

    @staticmethod
    def _probability(k: Any, mu: Any, loc: Any, f: Any, below: float) -> Any:
        """``f`` (pdtr or pdtrc) at the count floor(k - loc); ``below`` under 0, nan for
        a negative mu."""
        kv = np.floor(np.asarray(value(k), dtype=float) - np.asarray(value(loc), dtype=float))
        r = f(np.where(kv >= 0, kv, 0.0), mu)
        return _invalid(_outside(r, kv < 0, below), _plain(mu) < 0)

    def cdf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        if not _traced(k, mu, loc):
            return _st.poisson.cdf(k, mu, loc=loc)
        return self._probability(k, mu, loc, sc.pdtr, 0.0)

    def sf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        if not _traced(k, mu, loc):
            return _st.poisson.sf(k, mu, loc=loc)
        return self._probability(k, mu, loc, sc.pdtrc, 1.0)

    def logcdf(self, k: Any, mu: Any, loc: Any = 0) -> Any:
        if not _traced(k, mu, loc):
            return _st.poisson.logcdf(k, mu, loc=loc)
        return np.log(self.cdf(k, mu, loc))


class _Discrete(_Forwarding):
    """A count distribution on the integers ``k - loc`` in ``[_lo, _hi(params)]``:
    subclasses give ``_logpmf``, ``_cdf``, ``_sf`` of the count and where the parameters
    are invalid (nan, as scipy)."""

    _lo = 0.0

    def _hi(self, *params: Any) -> Any:
        return np.inf

    def _count(self, k: Any, loc: Any) -> Any:
        return np.asarray(value(k), dtype=float) - np.asarray(value(loc), dtype=float)

    def logpmf(self, k: Any, *params: Any, loc: Any = 0) -> Any:
        """log of the probability mass (scipy's signature: parameters, then loc)."""
        if not _traced(k, *params, loc):
            return getattr(_st, self.name).logpmf(k, *params, loc=loc)
        kv = self._count(k, loc)
        hi = self._hi(*(np.asarray(value(v), dtype=float) for v in params))
        good = (kv >= self._lo) & (kv <= hi) & (kv == np.floor(kv))
        r = self._logpmf(np.where(good, kv, self._lo), *params)
        return _invalid(_outside(r, ~good, -np.inf), self._bad(*params))

    def pmf(self, k: Any, *params: Any, loc: Any = 0) -> Any:
        """The probability mass."""
        if not _traced(k, *params, loc):
            return getattr(_st, self.name).pmf(k, *params, loc=loc)
        return np.exp(self.logpmf(k, *params, loc=loc))

    def _probability(self, k: Any, params: tuple, loc: Any, f: Any, below: float) -> Any:
        kv = np.floor(self._count(k, loc))
        hi = self._hi(*(np.asarray(value(v), dtype=float) for v in params))
        inside = (kv >= self._lo) & (kv < hi)
        r = f(np.where(inside, kv, self._lo), *params)
        r = _outside(_outside(r, kv < self._lo, below), kv >= hi, 1.0 - below)
        return _invalid(r, self._bad(*params))

    def cdf(self, k: Any, *params: Any, loc: Any = 0) -> Any:
        """P(K <= k)."""
        if not _traced(k, *params, loc):
            return getattr(_st, self.name).cdf(k, *params, loc=loc)
        return self._probability(k, params, loc, self._cdf, 0.0)

    def sf(self, k: Any, *params: Any, loc: Any = 0) -> Any:
        """P(K > k)."""
        if not _traced(k, *params, loc):
            return getattr(_st, self.name).sf(k, *params, loc=loc)
        return self._probability(k, params, loc, self._sf, 1.0)

    def logcdf(self, k: Any, *params: Any, loc: Any = 0) -> Any:
        """log cdf."""
        if not _traced(k, *params, loc):
            return getattr(_st, self.name).logcdf(k, *params, loc=loc)
        return np.log(self.cdf(k, *params, loc=loc))


class _Binom(_Discrete):
    """``scipy.stats.binom`` (``n`` trials, differentiable in ``p``; ``k``, ``n`` counts).

    Examples
    --------
    >>> import hyperdual
    >>> # d/dp log P(k; n, p) = k/p - (n - k)/(1 - p)
    >>> hyperdual.derivative(lambda p: binom.logpmf(3, 10, p), 0.5)
    -8.0
    """

    name = "binom"

    def _hi(self, n: Any, p: Any) -> Any:
        return n

    def _logpmf(self, k: Any, n: Any, p: Any) -> Any:
        n = np.asarray(value(n), dtype=float)
        return (sc.gammaln(n + 1.0) - sc.gammaln(k + 1.0) - sc.gammaln(n - k + 1.0)
                + sc.xlogy(k, p) + sc.xlog1py(n - k, -p))

    # (integer counts: scipy deprecates bdtr's float k and n)
    def _cdf(self, k: Any, n: Any, p: Any) -> Any:
        return sc.bdtr(np.asarray(k).astype(np.int64), np.asarray(value(n)).astype(np.int64),
                       p)

    def _sf(self, k: Any, n: Any, p: Any) -> Any:
        return sc.bdtrc(np.asarray(k).astype(np.int64), np.asarray(value(n)).astype(np.int64),
                        p)

    def _bad(self, n: Any, p: Any) -> Any:
        nv, pv = np.asarray(value(n), dtype=float), _plain(p)
        return (nv < 0) | (nv != np.floor(nv)) | (pv < 0) | (pv > 1)


class _Geom(_Discrete):
    """``scipy.stats.geom`` (trials to the first success, k >= 1; differentiable in p)."""

    name = "geom"
    _lo = 1.0

    def _logpmf(self, k: Any, p: Any) -> Any:
        return sc.xlog1py(k - 1.0, -p) + np.log(p)

    def _cdf(self, k: Any, p: Any) -> Any:
        return -np.expm1(k * np.log1p(-p))

    def _sf(self, k: Any, p: Any) -> Any:
        return np.exp(k * np.log1p(-p))

    def _bad(self, p: Any) -> Any:
        pv = _plain(p)
        return (pv <= 0) | (pv > 1)


class _Nbinom(_Discrete):
    """``scipy.stats.nbinom`` (failures before the n-th success, n real; differentiable
    in ``n`` and ``p``)."""

    name = "nbinom"

    def _logpmf(self, k: Any, n: Any, p: Any) -> Any:
        return (sc.gammaln(k + n) - sc.gammaln(k + 1.0) - sc.gammaln(n)
                + sc.xlogy(n, p) + sc.xlog1py(k, -p))

    # (I_p(n, k + 1), as scipy.stats for a real n: scipy.special.nbdtr truncates n)
    def _cdf(self, k: Any, n: Any, p: Any) -> Any:
        return sc.betainc(n, k + 1.0, p)

    def _sf(self, k: Any, n: Any, p: Any) -> Any:
        if not hasattr(sc, "betaincc"):  # scipy < 1.12: I_(1-p)(k + 1, n)
            return sc.betainc(k + 1.0, n, 1.0 - p)
        return sc.betaincc(n, k + 1.0, p)

    def _bad(self, n: Any, p: Any) -> Any:
        nv, pv = _plain(n), _plain(p)
        return (nv <= 0) | (pv <= 0) | (pv > 1)


class _Dirichlet(_Forwarding):
    """``scipy.stats.dirichlet`` (``x`` on the simplex, the last axis; ``alpha`` > 0).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> a = np.array([1.0, 2.0, 3.0])
    >>> g = hyperdual.gradient(lambda x: dirichlet.logpdf(x, a), np.array([0.2, 0.3, 0.5]))
    >>> bool(np.allclose(g, (a - 1) / np.array([0.2, 0.3, 0.5])))
    True
    """

    name = "dirichlet"

    def logpdf(self, x: Any, alpha: Any) -> Any:
        """log density; the components along x's first axis, as scipy (k - 1 of them:
        the last is 1 - their sum)."""
        if not _traced(x, alpha):
            return _st.dirichlet.logpdf(x, alpha)
        if np.ndim(value(alpha)) != 1:
            raise ValueError("dirichlet.logpdf stand-in: alpha must be a vector")
        ka, kx = np.shape(value(alpha))[0], np.shape(value(x))[0]
        if kx == ka - 1:
            x = np.concatenate([x, 1.0 - np.sum(x, axis=0, keepdims=True)], axis=0)
        elif kx != ka:
            raise ValueError(f"dirichlet.logpdf stand-in: x has {kx} components along its "
                             f"first axis, alpha {ka}")
        nd = np.ndim(value(x))
        a = alpha if nd == 1 else np.reshape(alpha, (ka,) + (1,) * (nd - 1))
        norm_ = np.sum(sc.gammaln(alpha)) - sc.gammaln(np.sum(alpha))
        return np.sum(sc.xlogy(a - 1.0, x), axis=0) - norm_

    def pdf(self, x: Any, alpha: Any) -> Any:
        if not _traced(x, alpha):
            return _st.dirichlet.pdf(x, alpha)
        return np.exp(self.logpdf(x, alpha))


class _MultivariateNormal(_Forwarding):
    """``scipy.stats.multivariate_normal`` (``x`` of shape (..., k); ``cov`` a (k, k)
    positive definite matrix whose lower triangle is read, as scipy's eigh reads it (a
    scalar or a vector is a diagonal); with ``allow_singular`` a singular cov goes
    through its eigenvalues, as scipy's, differentiable where they are distinct).

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> c = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> g = hyperdual.gradient(lambda x: multivariate_normal.logpdf(x, np.zeros(2), c),
    ...                        np.array([1.0, -1.0]))
    >>> bool(np.allclose(g, -np.linalg.solve(c, [1.0, -1.0])))
    True
    """

    name = "multivariate_normal"

    @staticmethod
    def _dev_cov(x: Any, mean: Any, cov: Any) -> tuple[Any, Any, int]:
        k = np.shape(value(x))[-1] if np.ndim(value(x)) else 1
        d = x if mean is None else x - mean
        if np.ndim(value(d)) == 0:
            d = np.reshape(d, (1,))
        c = cov
        if np.ndim(value(c)) < 2:  # (a scalar or a vector: a diagonal)
            c = c * np.eye(k)
        return d, c, k

    @staticmethod
    def _singular(c: Any) -> tuple[Any, Any, Any, Any]:
        """scipy's treatment of a positive semi-definite cov (its ``_PSD``): the
        eigenvalues above 1e6 eps times the largest count; (kept eigenvalues, their
        vectors, the null space's vectors (plain), the support tolerance)."""
        w, u = np.linalg.eigh(c)
        s = np.asarray(value(w), dtype=float)
        eps = 1e6 * np.finfo(float).eps * np.max(np.abs(s))
        if np.min(s) < -eps:
            raise ValueError("The input matrix must be symmetric positive semidefinite.")
        keep = s > eps
        null = np.asarray(value(u), dtype=float)[:, ~keep]
        return w[keep], u[:, keep], null, 1e3 * eps

    def logpdf(self, x: Any, mean: Any = None, cov: Any = 1.0,
               allow_singular: bool = False) -> Any:
        """log density (``allow_singular``: scipy's pseudo-determinant and
        pseudo-inverse where cov is singular, -inf off its support)."""
        if not _traced(x, mean, cov):
            return _st.multivariate_normal.logpdf(x, mean, cov, allow_singular=allow_singular)
        d, c, k = self._dev_cov(x, mean, cov)
        flat = np.reshape(d, (-1, k))
        singular = False
        if allow_singular:  # (a value decision: the Cholesky route where cov is regular)
            try:
                np.linalg.cholesky(np.asarray(value(c), dtype=float))
            except np.linalg.LinAlgError:
                singular = True
        if singular:
            w, u, null, tol = self._singular(c)
            proj = (flat @ u) / np.sqrt(w)
            maha = np.sum(proj * proj, axis=-1)
            out = -0.5 * (np.shape(value(w))[0] * 2 * _LOG_SQRT_2PI + np.sum(np.log(w)) + maha)
            off = np.linalg.norm(np.asarray(value(flat), dtype=float) @ null, axis=-1) >= tol
            out = _outside(out, off, -np.inf)
        else:
            low = np.linalg.cholesky(c)
            z = np.linalg.solve(low, np.swapaxes(flat, 0, 1))
            maha = np.sum(z * z, axis=0)
            out = -0.5 * maha - np.sum(np.log(np.diagonal(low))) - k * _LOG_SQRT_2PI
        shape = np.shape(value(d))[:-1]
        return np.reshape(out, shape) if shape else out[0]

    def entropy(self, mean: Any = None, cov: Any = 1.0) -> Any:
        """Differential entropy, ``(rank (log 2 pi + 1) + log pdet cov) / 2``."""
        if not _traced(mean, cov):
            return _st.multivariate_normal.entropy(mean, cov)
        k = np.shape(value(cov))[-1] if np.ndim(value(cov)) == 2 else (
            np.shape(value(mean))[-1] if mean is not None and np.ndim(value(mean)) else
            max(np.size(value(cov)), 1))
        c = cov if np.ndim(value(cov)) == 2 else cov * np.eye(k)
        try:
            np.linalg.cholesky(np.asarray(value(c), dtype=float))
        except np.linalg.LinAlgError:
            w = self._singular(c)[0]
            return 0.5 * (np.shape(value(w))[0] * (2 * _LOG_SQRT_2PI + 1) + np.sum(np.log(w)))
        low = np.linalg.cholesky(c)
        return 0.5 * k * (2 * _LOG_SQRT_2PI + 1) + np.sum(np.log(np.diagonal(low)))

    def pdf(self, x: Any, mean: Any = None, cov: Any = 1.0,
            allow_singular: bool = False) -> Any:
        if not _traced(x, mean, cov):
            return _st.multivariate_normal.pdf(x, mean, cov, allow_singular=allow_singular)
        return np.exp(self.logpdf(x, mean, cov, allow_singular))


binom = _Binom()
geom = _Geom()
nbinom = _Nbinom()
uniform = _Uniform()
halfnorm = _Halfnorm()
rayleigh = _Rayleigh()
weibull_min = _WeibullMin()
gumbel_r = _GumbelR()
gumbel_l = _GumbelL()
invgamma = _Invgamma()
pareto = _Pareto()
f = _F()
norm = _Norm()
t = _T()
gamma = _Gamma()
chi2 = _Chi2()
expon = _Expon()
beta = _Beta()
laplace = _Laplace()
logistic = _Logistic()
cauchy = _Cauchy()
lognorm = _Lognorm()
poisson = _Poisson()
dirichlet = _Dirichlet()
multivariate_normal = _MultivariateNormal()
