"""scipy.signal's convolutions for both engines: ``convolve``, ``correlate``,
``fftconvolve``.

scipy.signal converts its input with ``np.asarray``, which no dispatch protocol
reaches.  Here, on engine values, the full N-dimensional convolution is the sum over
the smaller operand's entries of the other operand, shifted (``np.pad``) and scaled:
exact sums, written with numpy calls the engines differentiate (every order, both
operands); ``'same'`` and ``'valid'`` are scipy's slices of it.  ``method`` and the FFT
only change how scipy rounds: the derivative of a convolution is a convolution.
Plain arrays go to scipy itself.  ``hyperdual.signal`` and ``reverse.signal`` are this
module.

Examples
--------
>>> import numpy as np
>>> import hyperdual
>>> k = np.array([1.0, 2.0, 3.0])
>>> hyperdual.gradient(lambda x: np.sum(convolve(x, k) ** 2) / 2, np.array([1.0, 0.0]))
array([14.,  8.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.signal as _ss

from ._common import is_traced, value

__all__ = ["convolve", "correlate", "fftconvolve"]


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(value(x)))


def _full(a: Any, b: Any) -> Any:
    """The full convolution of two arrays of one dimensionality, by shifted copies of
    the larger one, one per entry of the smaller."""
    sa, sb = _shape(a), _shape(b)
    if math.prod(sb) > math.prod(sa):
        a, b, sa, sb = b, a, sb, sa
    out: Any = None
    for idx in np.ndindex(*sb):
        term = np.pad(a * b[idx], [(i, n - 1 - i) for i, n in zip(idx, sb)])
        out = term if out is None else out + term
    return out


def _check(in1: Any, in2: Any, mode: str, who: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    s1, s2 = _shape(in1), _shape(in2)
    if len(s1) != len(s2):
        raise ValueError("in1 and in2 should have the same dimensionality")
    if mode not in ("full", "valid", "same"):
        raise ValueError("acceptable mode flags are 'valid', 'same', or 'full'")
    if mode == "valid" and not (all(a >= b for a, b in zip(s1, s2))
                                or all(a <= b for a, b in zip(s1, s2))):
        raise ValueError(f"{who}: for 'valid' mode, one must be at least as large as the "
                         "other in every dimension")
    return s1, s2


def _mode_slice(full: Any, s1: tuple[int, ...], s2: tuple[int, ...], mode: str) -> Any:
    if mode == "full":
        return full
    if mode == "same":  # scipy's: in1's shape, centred in the full result
        start = [(f - a) // 2 for f, a in zip(_shape(full), s1)]
        return full[tuple(slice(i, i + a) for i, a in zip(start, s1))]
    # valid: the entries that do not depend on the zero padding
    return full[tuple(slice(min(a, b) - 1, max(a, b)) for a, b in zip(s1, s2))]


def convolve(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """``scipy.signal.convolve`` (N-dimensional; ``mode`` 'full', 'valid' or 'same').

    Parameters
    ----------
    in1, in2 : array_like or engine value
        Of one dimensionality.
    mode : {'full', 'valid', 'same'}
        As scipy's ('same': in1's shape, centred; 'valid': where no zero padding enters).
    method : {'auto', 'direct', 'fft'}
        scipy's algorithm for plain arrays; engine values are summed directly.

    Returns
    -------
    numpy.ndarray or engine value
        The convolution.

    Examples
    --------
    >>> import numpy as np
    >>> import reverse
    >>> x = lambda t: np.array([1.0, 0.0]) + t * np.array([0.0, 1.0])  # (1, t)
    >>> reverse.derivative(lambda t: convolve(x(t), np.array([2.0, 3.0]))[1], 5.0)
    2.0
    """
    if not (is_traced(in1) or is_traced(in2)):
        return _ss.convolve(in1, in2, mode=mode, method=method)
    s1, s2 = _check(in1, in2, mode, "convolve")
    if not s1:
        return in1 * in2
    return _mode_slice(_full(in1, in2), s1, s2, mode)


def correlate(in1: Any, in2: Any, mode: str = "full", method: str = "auto") -> Any:
    """``scipy.signal.correlate`` of real arrays: the convolution with ``in2`` reversed
    along every axis.

    Parameters
    ----------
    in1, in2 : array_like or engine value
        Of one dimensionality.
    mode : {'full', 'valid', 'same'}
        As in :func:`convolve`.
    method : {'auto', 'direct', 'fft'}
        scipy's algorithm for plain arrays.

    Returns
    -------
    numpy.ndarray or engine value
        The cross-correlation.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> x = lambda t: np.array([1.0, 0.0]) + t * np.array([0.0, 1.0])  # (1, t)
    >>> hyperdual.derivative(lambda t: correlate(x(t), np.array([2.0, 3.0]))[0], 5.0)
    0.0
    """
    if not (is_traced(in1) or is_traced(in2)):
        return _ss.correlate(in1, in2, mode=mode, method=method)
    s1, s2 = _check(in1, in2, mode, "correlate")
    if not s1:
        return in1 * in2
    flipped = in2[tuple(slice(None, None, -1) for _ in s2)]
    return _mode_slice(_full(in1, flipped), s1, s2, mode)


def fftconvolve(in1: Any, in2: Any, mode: str = "full", axes: Any = None) -> Any:
    """``scipy.signal.fftconvolve`` (over every axis: ``axes=None``): on engine values
    the same exact sum as :func:`convolve`.

    Parameters
    ----------
    in1, in2 : array_like or engine value
        Of one dimensionality.
    mode : {'full', 'valid', 'same'}
        As in :func:`convolve`.
    axes : None
        Only None (every axis) on engine values.

    Returns
    -------
    numpy.ndarray or engine value
        The convolution.

    Examples
    --------
    >>> import numpy as np
    >>> import hyperdual
    >>> x = lambda t: np.array([1.0, 0.0]) + t * np.array([0.0, 1.0])  # (1, t)
    >>> hyperdual.derivative(lambda t: fftconvolve(x(t), np.array([2.0, 3.0]))[2], 5.0)
    3.0
    """
    if not (is_traced(in1) or is_traced(in2)):
        return _ss.fftconvolve(in1, in2, mode=mode, axes=axes)
    if axes is not None:
        raise ValueError("scipy.signal.fftconvolve stand-in: only axes=None on "
                         "differentiated values")
    return convolve(in1, in2, mode=mode)
