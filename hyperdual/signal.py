"""scipy.signal's convolutions for hyperdual's numbers (``scipy.signal`` itself calls
np.asarray, which drops a derivative): ``convolve``, ``correlate``,
``fftconvolve``, with scipy's signatures.

The same functions as ``reverse.signal`` (one implementation,
:mod:`_exactdiff.signal`).  Plain arrays get scipy.signal's own values.

Examples
--------
>>> import numpy as np
>>> import hyperdual
>>> from hyperdual import signal
>>> x = lambda t: np.array([0.0, 1.0]) + t * np.array([1.0, 0.0])  # (t, 1)
>>> hyperdual.derivative(lambda t: signal.convolve(x(t), np.array([3.0]))[0], 2.0)
3.0
"""

from _exactdiff.signal import convolve, correlate, fftconvolve  # noqa: F401 (re-exported)

__all__ = ["convolve", "correlate", "fftconvolve"]
